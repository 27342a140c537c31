//! Rows whose batch may or may not be in Box: what the tool says while it settles them, how it tells a person
//! to settle the ones it cannot, and `--settle ROW=BATCH_ID|unsent`.

use std::time::Duration;

use box_docgen_bulk::{Settlement, Settling, Undecided};

use crate::failure::Failure;

/// The tool's row number of a bulk index (the tool gives each row its record number less one).
pub(crate) fn number(index: u64) -> u64 {
    index + 1
}

/// `--settle ROW=BATCH_ID` or `--settle ROW=unsent`, as the run's settlements (`ROW` a record number).
pub(crate) fn parse(values: &[String], rows: u64) -> Result<Vec<(u64, Settlement)>, Failure> {
    values
        .iter()
        .map(|value| {
            let usage = || {
                Failure::config(format!("--settle {value:?}: expected ROW=BATCH_ID or ROW=unsent (ROW a row number)"))
            };
            let (row, what) = value.split_once('=').ok_or_else(usage)?;
            let row: u64 = row.trim().parse().map_err(|_| usage())?;
            if row == 0 || row > rows {
                return Err(Failure::config(format!("--settle {value:?}: the rows are numbered 1 to {rows}")));
            }
            let settlement = match what.trim() {
                "" => return Err(usage()),
                "unsent" => Settlement::NotSent,
                id => Settlement::Batch(id.to_owned()),
            };
            Ok((row - 1, settlement))
        })
        .collect()
}

/// What the run is settling, for stderr and the progress line: "settling rows 1–15 of an interrupted batch:
/// waiting up to 1 min 52 s for Box's listings".
pub(crate) fn settling_line(settling: &Settling) -> String {
    let rows: Vec<u64> = settling.rows.iter().copied().map(number).collect();
    format!(
        "settling {} of an interrupted batch: waiting up to {} for Box's listings",
        rows_text(&rows),
        duration_text(settling.left())
    )
}

/// Why rows are unknown, and the commands that settle them: `command` is this run's command line.
pub(crate) fn instructions(undecided: &Undecided, command: &str) -> String {
    let rows: Vec<u64> = undecided.rows.iter().copied().map(number).collect();
    let first = rows.first().copied().unwrap_or_default();
    let mut text = format!(
        "{} unknown: Box may have generated them in a batch whose answer was lost ({}).",
        rows_text(&rows),
        undecided.reason
    );
    if undecided.candidates.is_empty() {
        text.push_str(&format!(
            "\n  if Box has them, run `{command} --settle {first}=BATCH_ID` with their batch; if it does not, run \
             `{command} --settle {first}=unsent`"
        ));
        return text;
    }
    let looks: Vec<String> =
        undecided.candidates.iter().map(|id| format!("box-docgen jobs list --batch {id}")).collect();
    text.push_str(&format!(
        "\n  look at the candidate batch{} in Box (its jobs' documents, and their names): {}",
        if undecided.candidates.len() == 1 { "" } else { "es" },
        looks.join("; ")
    ));
    for id in &undecided.candidates {
        text.push_str(&format!("\n  if batch {id} holds these rows: {command} --settle {first}={id}"));
    }
    text.push_str(&format!("\n  if none does: {command} --settle {first}=unsent"));
    text
}

/// Why rows are unknown, for a row's result (the end of the run says how to settle them).
pub(crate) fn unknown_reason(undecided: &Undecided) -> String {
    let rows: Vec<u64> = undecided.rows.iter().copied().map(number).collect();
    let first = rows.first().copied().unwrap_or_default();
    format!(
        "Box may have generated {} in a batch whose answer was lost ({}); settle with --settle {first}=BATCH_ID or \
         --settle {first}=unsent (see the end of the run)",
        rows_text(&rows),
        undecided.reason
    )
}

/// This process's command line, quoted for a POSIX shell.
pub(crate) fn this_command() -> String {
    std::env::args().map(|arg| quote(&arg)).collect::<Vec<_>>().join(" ")
}

fn quote(arg: &str) -> String {
    let plain = !arg.is_empty() && arg.chars().all(|c| c.is_ascii_alphanumeric() || "_-./=:,@%+".contains(c));
    if plain { arg.to_owned() } else { format!("'{}'", arg.replace('\'', r"'\''")) }
}

/// `row 3`, `rows 1–15`, `rows 1–15, 30`.
pub(crate) fn rows_text(rows: &[u64]) -> String {
    let mut parts = Vec::new();
    let mut iter = rows.iter().copied().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end += 1;
            iter.next();
        }
        parts.push(if end == start { start.to_string() } else { format!("{start}–{end}") });
    }
    let noun = if rows.len() == 1 { "row" } else { "rows" };
    format!("{noun} {}", parts.join(", "))
}

/// `45 s`, `1 min 52 s`, `2 min`.
pub(crate) fn duration_text(duration: Duration) -> String {
    let seconds = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    match (seconds / 60, seconds % 60) {
        (0, seconds) => format!("{seconds} s"),
        (minutes, 0) => format!("{minutes} min"),
        (minutes, seconds) => format!("{minutes} min {seconds} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settlements_parse_from_row_numbers() {
        let values = ["3=1234".to_owned(), " 1 = unsent".to_owned()];
        let parsed = parse(&values, 5).expect("parsed");
        assert_eq!(parsed, [(2, Settlement::Batch("1234".into())), (0, Settlement::NotSent)]);
        for bad in ["3", "x=1", "0=1", "6=1", "2="] {
            assert!(parse(&[bad.to_owned()], 5).is_err(), "{bad}");
        }
    }

    #[test]
    fn rows_and_durations_read_as_a_person_writes_them() {
        assert_eq!(rows_text(&[1, 2, 3, 7, 9, 10]), "rows 1–3, 7, 9–10");
        assert_eq!(rows_text(&[4]), "row 4");
        assert_eq!(duration_text(Duration::from_millis(112_300)), "1 min 53 s");
        assert_eq!(duration_text(Duration::from_secs(120)), "2 min");
        assert_eq!(duration_text(Duration::from_secs(5)), "5 s");
        assert_eq!(quote("Doc 1.pdf"), "'Doc 1.pdf'");
        assert_eq!(quote("--settle=1"), "--settle=1");
        assert_eq!(quote("it's"), r"'it'\''s'");
    }
}
