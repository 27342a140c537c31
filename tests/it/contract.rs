//! The data contract of a template: from its tags, every problem a row has (errors where Box would print a raw
//! tag or fail the job, warnings where the output may surprise), with paths, tags and reasons; sample data and
//! a JSON Schema; and, against the test double, the contract read from Box's tag pages.

use std::time::Duration;

use box_docgen::{DocGenTag, RetryPolicy, TagType, WaitOptions};
use box_docgen_contract::{Contract, Need, Problem, Severity};
use box_docgen_mock::MockBox;
use serde_json::json;

use crate::support::paused_clock_client;

fn tag(content: &str, kind: TagType, paths: &[&str]) -> DocGenTag {
    serde_json::from_value(json!({ "tag_content": content, "tag_type": kind.as_str(), "json_paths": paths }))
        .expect("a tag")
}

/// An invoice template: text (one optional, one with a default, one with a number format), a table loop with
/// arithmetic inside, a condition, an image.
fn invoice() -> Contract {
    Contract::from_tags([
        tag("{{invoice.id}}", TagType::Text, &["invoice", "invoice.id"]),
        tag("{{invoice.customer.name}}", TagType::Text, &["invoice", "invoice.customer", "invoice.customer.name"]),
        tag("{{invoice.note :: optional}}", TagType::Text, &["invoice", "invoice.note"]),
        tag("{{invoice.currency :: default(\"USD\")}}", TagType::Text, &["invoice", "invoice.currency"]),
        tag("{{invoice.total :: format(\"US-Number\")}}", TagType::Text, &["invoice", "invoice.total"]),
        tag("{{tablerow item in invoice.lines}}", TagType::TableLoop, &["invoice", "invoice.lines"]),
        tag("{{item.name}}", TagType::Text, &["invoice", "invoice.lines", "invoice.lines.name"]),
        tag(
            "{{item.price * item.quantity}}",
            TagType::Arithmetic,
            &["invoice", "invoice.lines", "invoice.lines.price", "invoice.lines.quantity"],
        ),
        tag("{{if invoice.paid == true}}", TagType::Conditional, &["invoice", "invoice.paid"]),
        tag("{{invoice.logo}}", TagType::Image, &["invoice", "invoice.logo"]),
    ])
}

fn good() -> serde_json::Value {
    json!({ "invoice": {
        "id": "INV-1", "customer": { "name": "Acme" }, "total": 1234.5, "paid": true,
        "lines": [{ "name": "Widget", "price": 10, "quantity": 2 }, { "name": "Gadget", "price": 3.5, "quantity": 1 }],
        "logo": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
    }})
}

fn at<'a>(problems: &'a [Problem], path: &str) -> &'a Problem {
    problems
        .iter()
        .find(|problem| problem.path == path)
        .unwrap_or_else(|| panic!("no problem at {path}: {problems:#?}"))
}

#[test]
fn data_that_fits_has_no_problem() {
    assert_eq!(invoice().check(&good()), []);
}

#[test]
fn a_required_path_missing_is_an_error_and_optional_or_default_ones_are_not() {
    let mut data = good();
    data["invoice"]["customer"] = json!({});
    let problems = invoice().check(&data);
    let missing = at(&problems, "invoice.customer.name");
    assert_eq!(missing.severity, Severity::Error);
    assert_eq!(missing.tag, "{{invoice.customer.name}}");
    assert!(missing.message.contains("print the tag as written"), "{missing}");
    // `note` (optional) and `currency` (default) are missing from `good()` too, on purpose: no problem.
    assert_eq!(problems.len(), 1, "{problems:#?}");
}

#[test]
fn a_missing_parent_reports_each_tag_under_it() {
    let problems = invoice().check(&json!({}));
    for path in ["invoice.id", "invoice.customer.name", "invoice.total", "invoice.logo"] {
        assert_eq!(at(&problems, path).severity, Severity::Error, "{path}");
    }
    // The loop prints no rows and the condition takes its other branch: warnings, and nothing under the list.
    assert_eq!(at(&problems, "invoice.lines").severity, Severity::Warning);
    assert_eq!(at(&problems, "invoice.paid").severity, Severity::Warning);
    assert!(problems.iter().all(|problem| !problem.path.starts_with("invoice.lines.")), "{problems:#?}");
}

#[test]
fn list_elements_are_checked_one_by_one_with_their_index() {
    let mut data = good();
    data["invoice"]["lines"] = json!([
        { "name": "Widget", "price": 10, "quantity": 2 },
        { "name": "Gadget", "quantity": 1 },
        { "name": "Thing", "price": "ten", "quantity": 1 },
        "not an object"
    ]);
    let problems = invoice().check(&data);
    let missing = at(&problems, "invoice.lines[1].price");
    assert_eq!((missing.severity, missing.tag.as_str()), (Severity::Error, "{{item.price * item.quantity}}"));
    let not_a_number = at(&problems, "invoice.lines[2].price");
    assert_eq!(not_a_number.severity, Severity::Error);
    assert!(not_a_number.message.contains("must be a number"), "{not_a_number}");
    assert!(at(&problems, "invoice.lines[3]").message.contains("must be an object"));
    assert!(!problems.iter().any(|problem| problem.path.starts_with("invoice.lines[0]")));
}

#[test]
fn a_list_that_is_not_an_array_is_an_error() {
    let mut data = good();
    data["invoice"]["lines"] = json!({ "name": "Widget" });
    let problem = at(&invoice().check(&data), "invoice.lines").clone();
    assert_eq!(problem.severity, Severity::Error);
    assert_eq!(problem.tag, "{{tablerow item in invoice.lines}}");
    assert!(problem.message.contains("must be an array"), "{problem}");
}

#[test]
fn numbers_images_and_odd_types() {
    let mut data = good();
    data["invoice"]["total"] = json!("1,234.50"); // a number format needs a number
    data["invoice"]["logo"] = json!("not base64!"); // an image needs base64
    data["invoice"]["id"] = json!({ "value": 1 }); // prints as JSON
    let problems = invoice().check(&data);
    assert_eq!(at(&problems, "invoice.total").severity, Severity::Error);
    assert!(at(&problems, "invoice.logo").message.contains("base64"));
    assert_eq!(at(&problems, "invoice.id").severity, Severity::Warning);
    // Not an object at all.
    assert_eq!(invoice().check(&json!([1, 2]))[0].severity, Severity::Error);
}

#[test]
fn the_sample_fits_and_the_schema_says_the_same() {
    let contract = invoice();
    let sample = contract.sample();
    assert_eq!(contract.check(&sample), [], "{sample:#}");
    assert_eq!(sample["invoice"]["lines"].as_array().map(Vec::len), Some(1), "lists have one element");
    assert_eq!(sample["invoice"]["lines"][0]["price"], json!(0));

    let schema = contract.json_schema();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    let invoice = &schema["properties"]["invoice"];
    assert_eq!(schema["required"], json!(["invoice"]));
    let required: Vec<&str> = invoice["required"].as_array().into_iter().flatten().filter_map(|v| v.as_str()).collect();
    assert_eq!(required, ["customer", "id", "logo", "total"], "optional, default, loop and condition paths are not");
    assert_eq!(invoice["properties"]["lines"]["type"], "array");
    assert_eq!(invoice["properties"]["lines"]["items"]["properties"]["price"]["type"], "number");
    assert_eq!(invoice["properties"]["logo"]["contentEncoding"], "base64");

    let paths: Vec<String> = contract.paths().into_iter().map(|(path, _)| path).collect();
    assert!(paths.contains(&"invoice.lines[]".to_owned()) && paths.contains(&"invoice.lines[].price".to_owned()));
    let (_, reads) = contract.paths().into_iter().find(|(path, _)| path == "invoice.total").expect("total");
    assert_eq!(reads[0].need, Need::Number);
}

#[tokio::test(start_paused = true)]
async fn the_contract_is_read_from_the_template_s_tags_once_box_has_them() {
    let mock = MockBox::start().await;
    mock.add_template("42", "Contract.docx", &["customer", "amount"]);
    let client = paused_clock_client(mock.base_url(), RetryPolicy::none());
    // The stand-in answers 202 "still processing" once, as Box does for a new template.
    let contract = Contract::fetch(&client, "42", None, WaitOptions::default().first_interval(Duration::from_secs(2)))
        .await
        .expect("the contract");
    let problems = contract.check(&json!({ "customer": "Acme" }));
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!((problems[0].path.as_str(), problems[0].severity), ("amount", Severity::Error));
    assert_eq!(mock.requests().len(), 2, "one 202, then the page");
}

#[test]
fn a_list_inside_a_list_element_is_checked_with_both_indices() {
    let contract = Contract::from_tags([
        tag("{{tablerow order in orders}}", TagType::TableLoop, &["orders"]),
        tag("{{order.id}}", TagType::Text, &["orders", "orders.id"]),
        tag("{{for line in order.lines}}", TagType::ForLoop, &["orders", "orders.lines"]),
        tag("{{line.sku}}", TagType::Text, &["orders", "orders.lines", "orders.lines.sku"]),
    ]);
    let data = json!({ "orders": [
        { "id": 1, "lines": [{ "sku": "A" }] },
        { "id": 2, "lines": [{ "sku": "B" }, { "qty": 3 }] },
        { "id": 3, "lines": "none" }
    ]});
    let problems = contract.check(&data);
    let missing = at(&problems, "orders[1].lines[1].sku");
    assert_eq!((missing.severity, missing.tag.as_str()), (Severity::Error, "{{line.sku}}"));
    assert_eq!(at(&problems, "orders[2].lines").tag, "{{for line in order.lines}}");
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert_eq!(contract.check(&contract.sample()), []);
}

/// Tags as Box lists them, for a random template: each reads one path (with every prefix in `json_paths`),
/// with a kind and a modifier; loops go over lists that other tags read into.
fn template() -> impl proptest::strategy::Strategy<Value = Vec<DocGenTag>> {
    use proptest::prelude::*;
    let segment = prop::sample::select(vec!["a", "b", "c", "d"]);
    let path = prop::collection::vec(segment, 1..4).prop_map(|segments| segments.join("."));
    let kind = prop::sample::select(vec![
        TagType::Text,
        TagType::Arithmetic,
        TagType::Conditional,
        TagType::Image,
        TagType::TableLoop,
        TagType::ForLoop,
    ]);
    let modifier = prop::sample::select(vec!["", " :: optional", " :: default(\"x\")", " :: format(\"US-Number\")"]);
    prop::collection::vec((path, kind, modifier), 1..10).prop_map(|specs| {
        let loops: Vec<String> = specs
            .iter()
            .filter(|(_, kind, _)| matches!(kind, TagType::TableLoop | TagType::ForLoop))
            .map(|(path, _, _)| path.clone())
            .collect();
        let mut tags = Vec::new();
        let mut leaves: Vec<String> = Vec::new();
        for (path, kind, modifier) in specs {
            let is_loop = loops.contains(&path);
            if !matches!(kind, TagType::TableLoop | TagType::ForLoop) {
                // One value per path, never also an object or a list other tags read into.
                let nested = |a: &str, b: &str| b.starts_with(&format!("{a}."));
                if is_loop || leaves.iter().any(|leaf| leaf == &path || nested(leaf, &path) || nested(&path, leaf)) {
                    continue;
                }
                if loops.iter().any(|list| nested(&path, list)) {
                    continue;
                }
                leaves.push(path.clone());
            } else if leaves.iter().any(|leaf| *leaf == path || path.starts_with(&format!("{leaf}."))) {
                // A list where another tag prints one value, or under it.
                continue;
            }
            let segments: Vec<&str> = path.split('.').collect();
            let prefixes: Vec<String> = (1..=segments.len()).map(|n| segments[..n].join(".")).collect();
            let prefixes: Vec<&str> = prefixes.iter().map(String::as_str).collect();
            let content = match kind {
                TagType::TableLoop | TagType::ForLoop => format!("{{{{tablerow item in {path}}}}}"),
                _ => format!("{{{{{path}{modifier}}}}}"),
            };
            tags.push(tag(&content, kind, &prefixes));
        }
        tags
    })
}

/// Removes `path` (`a[].b` as [`Contract::paths`] writes it) from `data`, through the first element of each list;
/// returns the path with that index, as problems name it (`a[0].b`).
fn remove(data: &mut serde_json::Value, path: &str) -> String {
    let segments: Vec<&str> = path.split('.').collect();
    let mut named = String::new();
    let mut value = data;
    for (position, segment) in segments.iter().enumerate() {
        let (key, list) = match segment.strip_suffix("[]") {
            Some(key) => (key, true),
            None => (*segment, false),
        };
        if !named.is_empty() {
            named.push('.');
        }
        named.push_str(key);
        if position + 1 == segments.len() {
            value.as_object_mut().expect("an object").remove(key);
            return named;
        }
        value = value.get_mut(key).expect("in the sample");
        if list {
            named.push_str("[0]");
            value = value.get_mut(0).expect("one element");
        }
    }
    named
}

#[test]
fn the_sample_of_any_template_fits_and_without_a_required_path_it_names_that_path() {
    use proptest::prelude::*;
    proptest!(ProptestConfig::with_cases(256), |(tags in template())| {
        let contract = Contract::from_tags(tags);
        let sample = contract.sample();
        prop_assert_eq!(contract.check(&sample), Vec::<Problem>::new(), "{:#}", sample);
        for (path, reads) in contract.paths() {
            for read in reads.iter().filter(|read| read.required) {
                let mut data = sample.clone();
                let named = remove(&mut data, &path);
                let problems = contract.check(&data);
                let found = problems.iter().any(|problem| {
                    problem.severity == Severity::Error && problem.path == named && problem.tag == read.tag
                });
                prop_assert!(found, "{} removed: {:#?}", named, problems);
            }
        }
    });
}

/// The checker and the test double's generation (written apart, from Box's documentation) agree on which rows
/// Box would print a raw tag for.
#[tokio::test(start_paused = true)]
async fn the_checker_and_the_double_s_generation_agree() {
    use box_docgen::{BatchRequest, JobStatus, WaitOptions};
    use box_docgen_mock::Tag;

    let mock = MockBox::start().await;
    let paths = |paths: &[&str]| paths.iter().map(|path| (*path).to_owned()).collect::<Vec<_>>();
    mock.add_template_tags(
        "42",
        "Invoice.docx",
        vec![
            Tag::text("invoice.customer.name"),
            Tag::new("{{tablerow item in invoice.lines}}", "table-loop", "invoice.lines"),
            Tag::new("{{item.sku}}", "text", "invoice.lines.sku"),
            Tag {
                content: "{{item.price * item.quantity}}".into(),
                kind: "arithmetic".into(),
                json_paths: paths(&["invoice", "invoice.lines", "invoice.lines.price", "invoice.lines.quantity"]),
            },
            Tag::new("{{invoice.note :: optional}}", "text", "invoice.note"),
            Tag::new("{{if invoice.paid}}", "conditional", "invoice.paid"),
        ],
    )
    .polls_to_finish(0);
    let client = paused_clock_client(mock.base_url(), RetryPolicy::default());
    let contract = Contract::fetch(&client, "42", None, WaitOptions::default()).await.expect("the contract");

    let sample = contract.sample();
    let mut rows = vec![sample.clone()];
    for remove in [&["invoice", "customer", "name"][..], &["invoice", "note"], &["invoice", "paid"]] {
        let mut row = sample.clone();
        let (last, parents) = remove.split_last().expect("a path");
        let parent = parents.iter().fold(&mut row, |value, key| &mut value[*key]);
        parent.as_object_mut().expect("an object").remove(*last);
        rows.push(row);
    }
    let mut two_lines = sample.clone();
    two_lines["invoice"]["lines"] = json!([{ "sku": "A", "price": 1, "quantity": 1 }, { "price": 2, "quantity": 1 }]);
    rows.push(two_lines);
    let mut no_price = sample.clone();
    no_price["invoice"]["lines"][0].as_object_mut().expect("a line").remove("price");
    rows.push(no_price);

    let mut request = BatchRequest::builder("42", "0", "pdf");
    for (index, row) in rows.iter().enumerate() {
        request = request.document(format!("row {index}.pdf"), row);
    }
    let batch = client.create_batch(&request.build().expect("valid")).await.expect("accepted");
    let jobs = client.wait_for_batch(&batch.id, WaitOptions::default()).await.expect("final");
    let failed: Vec<bool> = jobs.iter().map(|job| job.status == JobStatus::Failed).collect();
    let refused: Vec<bool> =
        rows.iter().map(|row| contract.check(row).iter().any(|problem| problem.severity == Severity::Error)).collect();
    assert_eq!(refused, failed, "the checker's errors and the double's failed jobs, row by row");
    assert_eq!(failed, [false, true, false, false, true, true]);
}
