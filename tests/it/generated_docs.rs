//! Every generated type says what it is: a description from the fragment (our words), never typify's
//! placeholder (the type's own name). The exceptions are typify 0.8's, which no description in the fragment
//! reaches: the `Option` wrapper it makes for a nullable schema (the wrapped type gets the description), and the
//! type it merges from a nullable `allOf` (listed below; their fields are described).

const GENERATED: &str = include_str!("../../crates/box-docgen-generated/generated/client.rs");

/// The doc comment right above line `at`, through its attributes (empty when there is none).
fn doc_above(lines: &[&str], at: usize) -> String {
    let mut index = at;
    while index > 0 {
        index -= 1;
        let line = lines[index].trim();
        if line.starts_with("///") {
            let mut doc = Vec::new();
            while let Some(text) = lines[index].trim().strip_prefix("///") {
                doc.push(text);
                if index == 0 {
                    break;
                }
                index -= 1;
            }
            doc.reverse();
            return doc.join("\n");
        }
        if line.ends_with("*/") {
            let end = index;
            while !lines[index].trim().starts_with("/**") && index > 0 {
                index -= 1;
            }
            return lines[index..=end].join("\n");
        }
        // The end of the item above: no doc comment for this one.
        if line.ends_with('}') || line.ends_with(';') || line.ends_with('{') || line.is_empty() {
            break;
        }
    }
    String::new()
}

/// Types typify 0.8 merges from an `allOf` whose arms both describe the property (a file's nullable `lock` and
/// `parent`; a conflict error's `context_info`, which `ClientError` describes too; a conflicting file's
/// `file_version`, which `File--Mini` describes too), dropping every description.
const MERGED_FROM_NULLABLE_ALL_OF: [&str; 5] =
    ["ConflictErrorContextInfo", "FileConflictInnerFileVersion", "FileFullLock", "FileFullParent", "FileInnerParent"];

#[test]
fn every_generated_type_has_a_description() {
    let lines: Vec<&str> = GENERATED.lines().collect();
    let mut undescribed = Vec::new();
    let mut types = 0;
    for (at, line) in lines.iter().enumerate() {
        let declaration = line.trim_start();
        let Some(rest) = declaration.strip_prefix("pub struct ").or_else(|| declaration.strip_prefix("pub enum "))
        else {
            continue;
        };
        types += 1;
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        let nullable_wrapper = rest.starts_with(&format!("{name}(pub ::std::option::Option<"))
            || MERGED_FROM_NULLABLE_ALL_OF.contains(&name.as_str());
        let doc = doc_above(&lines, at);
        let text = doc.trim_start_matches("/**").trim_end_matches("*/").trim();
        if !nullable_wrapper && (text.is_empty() || text == format!("`{name}`") || text.starts_with("Known values")) {
            undescribed.push(name);
        }
    }
    assert!(types > 100, "the snapshot was read ({types} types)");
    assert!(undescribed.is_empty(), "generated types with no description: {undescribed:?}");
}
