//! The report: for a reviewer, or as JSON.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::change::Change;

/// The report a reviewer reads: one block per group, one line per change.
pub fn report(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "no drift: the fragment's operations and schemas have Box's shapes\n".to_owned();
    }
    let breaking = changes.iter().filter(|change| change.breaking).count();
    let mut out = format!("{} changes ({breaking} can break a client built today)\n", changes.len());
    let mut groups: Vec<&str> = changes.iter().map(|change| change.group.as_str()).collect();
    groups.dedup();
    let mut seen = BTreeSet::new();
    for group in groups {
        if !seen.insert(group) {
            continue;
        }
        out.push_str(&format!("\n{group}\n"));
        for change in changes.iter().filter(|change| change.group == group) {
            let sign = change.kind.sign();
            let what = match (&change.from, &change.to) {
                (Some(from), Some(to)) => format!("{from} → {to}"),
                (None, Some(to)) => to.clone(),
                (Some(from), None) => from.clone(),
                (None, None) => String::new(),
            };
            let verdict = if change.breaking { "  [breaking]" } else { "" };
            out.push_str(&format!("  {sign} {} {}: {what}{verdict}\n", change.location, change.kind.as_str()));
        }
    }
    out
}

pub(super) fn to_json(changes: &[Change]) -> Value {
    json!({
        "drift": !changes.is_empty(),
        "breaking": changes.iter().filter(|change| change.breaking).count(),
        "changes": changes.iter().map(|change| json!({
            "group": change.group,
            "location": change.location,
            "kind": change.kind.as_str(),
            "from": change.from,
            "to": change.to,
            "breaking": change.breaking,
        })).collect::<Vec<_>>(),
    })
}
