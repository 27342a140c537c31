//! Checking rows against a large template's data contract: a template with hundreds of tags (text, loops with
//! arithmetic inside, conditions, images), and rows that fit it.

use std::hint::black_box;
use std::time::Instant;

use box_docgen::{DocGenTag, TagType};
use box_docgen_contract::Contract;

fn tag(content: String, kind: TagType, path: &str) -> DocGenTag {
    let segments: Vec<&str> = path.split('.').collect();
    let paths: Vec<String> = (1..=segments.len()).map(|n| segments[..n].join(".")).collect();
    serde_json::from_value(
        serde_json::json!({ "tag_content": content, "tag_type": kind.as_str(), "json_paths": paths }),
    )
    .expect("a tag")
}

/// `sections` sections of 10 text tags each, a table loop with 3 fields and an arithmetic tag each, and a
/// condition: about 15 tags per section.
pub fn template(sections: usize) -> Contract {
    let mut tags = Vec::new();
    for section in 0..sections {
        for field in 0..10 {
            let path = format!("s{section}.f{field}");
            tags.push(tag(format!("{{{{{path}}}}}"), TagType::Text, &path));
        }
        let list = format!("s{section}.lines");
        tags.push(tag(format!("{{{{tablerow item in {list}}}}}"), TagType::TableLoop, &list));
        for field in ["name", "price", "quantity"] {
            tags.push(tag(format!("{{{{item.{field}}}}}"), TagType::Text, &format!("{list}.{field}")));
        }
        tags.push(tag("{{item.price * item.quantity}}".into(), TagType::Arithmetic, &format!("{list}.price")));
        tags.push(tag(format!("{{{{if s{section}.flag}}}}"), TagType::Conditional, &format!("s{section}.flag")));
    }
    Contract::from_tags(tags)
}

/// Microseconds per check of one row (the contract's sample with `lines` rows per list), median of `rounds`.
pub fn run(sections: usize, lines: usize, checks: usize, rounds: usize) -> (usize, f64) {
    let contract = template(sections);
    let tags: usize = contract.paths().iter().map(|(_, reads)| reads.len()).sum();
    let mut row = contract.sample();
    for section in 0..sections {
        let line = row[format!("s{section}")]["lines"][0].clone();
        row[format!("s{section}")]["lines"] = serde_json::Value::Array(vec![line; lines]);
    }
    assert!(contract.check(&row).is_empty(), "the row fits");
    let mut times: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..checks {
                black_box(contract.check(black_box(&row)));
            }
            start.elapsed().as_secs_f64() * 1e6 / checks as f64
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (tags, times[times.len() / 2])
}

pub fn report(sections: usize, lines: usize, (tags, micros): (usize, f64)) -> String {
    format!(
        "\n### Checking a row against a large template's contract\n\n| tags | list rows per list | µs per row checked |\n|---|---|---|\n| {tags} ({sections} sections) | {lines} | {micros:.1} |\n"
    )
}
