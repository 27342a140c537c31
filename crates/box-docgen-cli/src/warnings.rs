//! The data contract's warnings as a person wants them: a warning the template causes in every row (an
//! optional tag with no data) is said once with its count, not 5,000 times; `--verbose` says each row's.

use std::collections::BTreeMap;

use box_docgen_contract::Problem;

/// Warnings gathered over a run, by path (list indices as `[]`) and message.
#[derive(Debug, Default)]
pub(crate) struct Warnings {
    verbose: bool,
    seen: BTreeMap<(String, String), Vec<u64>>,
}

impl Warnings {
    pub(crate) fn new(verbose: bool) -> Self {
        Self { verbose, seen: BTreeMap::new() }
    }

    /// A row's warnings: said now with `--verbose`, else counted for the summary.
    pub(crate) fn add(&mut self, row: u64, file_name: &str, problems: &[Problem]) {
        for problem in problems {
            if self.verbose {
                eprintln!("row {row} ({file_name}): {problem}");
                continue;
            }
            let key = (general(&problem.path), format!("{} (tag {})", problem.message, problem.tag));
            let rows = self.seen.entry(key).or_default();
            if rows.last() != Some(&row) {
                rows.push(row);
            }
        }
    }

    /// Each warning once, with the rows it is in (on stderr).
    pub(crate) fn summarize(&self) {
        for ((path, message), rows) in &self.seen {
            let place = match rows.as_slice() {
                [row] => format!("row {row}"),
                [first, second, third] => format!("rows {first}, {second} and {third}"),
                [first, second] => format!("rows {first} and {second}"),
                [first, second, third, ..] => {
                    format!("{} rows ({first}, {second}, {third}, …; --verbose for each)", thousands(rows.len()))
                }
                [] => continue,
            };
            eprintln!("warning: {path}: {message}, in {place}");
        }
    }
}

/// `items[3].price` as `items[].price`.
fn general(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut inside = false;
    for c in path.chars() {
        match c {
            '[' => {
                inside = true;
                out.push('[');
            }
            ']' => {
                inside = false;
                out.push(']');
            }
            _ if inside => {}
            c => out.push(c),
        }
    }
    out
}

/// `4812` as `4,812`.
pub(crate) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (position, digit) in digits.chars().enumerate() {
        if position > 0 && (digits.len() - position).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_counts_read_as_a_person_writes_them() {
        assert_eq!(general("items[3].price"), "items[].price");
        assert_eq!(general("a[0][12].b"), "a[][].b");
        assert_eq!(thousands(4812), "4,812");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
