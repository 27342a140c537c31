//! `--demo`: the built-in test double, its state kept in a directory between commands, and the sample template
//! it starts with (a Word document, built here).

use std::path::PathBuf;

use box_docgen_mock::MockBox;
use box_docgen_template::DocxWriter;

use crate::failure::Failure;

/// The sample template's file id.
pub(crate) const TEMPLATE_ID: &str = "42037322";
/// The keys the demo's webhook deliveries are signed with.
pub(crate) const KEYS: (&str, &str) = ("demo-primary-key", "demo-secondary-key");

/// The sample invoice template: text tags with modifiers, a table loop with a calculation, a condition, an
/// optional tag and an image, as a Word document.
pub(crate) fn template() -> Vec<u8> {
    DocxWriter::new()
        .header("ACME Corp \u{b7} Invoice {{invoice.number}}")
        .paragraph("INVOICE {{invoice.number}}")
        .paragraph("Bill to: {{customer.name}}")
        .paragraph("{{customer.address :: optional}}")
        .table(&[
            &["Description", "Quantity", "Price", "Amount"],
            &[
                "{{tablerow item in items}}{{item.description}}",
                "{{item.quantity}}",
                "{{item.price :: format(\"US-Number\")}}",
                "{{item.quantity * item.price}}{{endtablerow}}",
            ],
        ])
        .paragraph("Total: {{invoice.total :: format(\"US-Number\")}}")
        .paragraph("{{if customer.vip == \"yes\"}}Thank you for being a VIP customer.{{endif}}")
        .paragraph("{{note :: optional}}")
        .image("{{logo}}")
        .footer("Made by box-docgen --demo: the test double fills in text only, with no layout.")
        .finish()
}

/// Where the demo keeps its state: `--demo-dir`, else the user's state directory.
pub(crate) fn default_dir() -> PathBuf {
    let home = std::env::var_os("HOME").filter(|home| !home.is_empty()).map(PathBuf::from);
    let state = std::env::var_os("XDG_STATE_HOME").filter(|dir| !dir.is_empty()).map(PathBuf::from);
    match (state, home) {
        (Some(state), _) => state.join("box-docgen").join("demo"),
        (None, Some(home)) => home.join(".local").join("state").join("box-docgen").join("demo"),
        (None, None) => std::env::temp_dir().join("box-docgen-demo"),
    }
}

/// The test double, its state read from `dir` (and kept there), with the sample template.
pub(crate) async fn start(dir: Option<&std::path::Path>) -> Result<MockBox, Failure> {
    let dir = dir.map(PathBuf::from).unwrap_or_else(default_dir);
    let mock = MockBox::start().await;
    mock.keep_state_in(&dir).map_err(|error| Failure::config(format!("--demo: {error}")))?;
    if !mock.has_file(TEMPLATE_ID) {
        mock.add_template_docx(TEMPLATE_ID, "Invoice.docx", template());
    }
    mock.sign_webhooks(KEYS.0, Some(KEYS.1)).polls_to_finish(1);
    Ok(mock)
}
