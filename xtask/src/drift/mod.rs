//! `cargo xtask drift UPSTREAM... [--json]`: what Box's published descriptions say differently from the
//! fragment, for the operations the fragment carries. Shape only: prose (`description`, `summary`, `title`,
//! examples) and `x-` annotations never count, and schemas are compared through their `$ref`s, so a renamed
//! schema with the same shape is no drift.
//!
//! Exit status: 0 no drift, 1 drift (the report on stdout), 2 the inputs cannot be compared.
//!
//! `--apply` writes Box's shapes into the fragment (see [`apply`]).

mod apply;
mod change;
mod compare;
mod load;
mod report;
mod scope;

use std::path::Path;

pub use apply::{apply, format_fragment};
pub use change::{Change, Kind};
pub use compare::compare;
pub use load::load;
pub use report::report;
use report::to_json;

/// Runs the command; returns the exit status.
pub fn run(root: &Path, args: &[String]) -> u8 {
    let json_output = args.iter().any(|arg| arg == "--json");
    let apply_changes = args.iter().any(|arg| arg == "--apply");
    let sources: Vec<&String> = args.iter().filter(|arg| !arg.starts_with("--")).collect();
    if sources.is_empty() {
        eprintln!("error: usage: cargo xtask drift UPSTREAM... [--json] (files, JSON or YAML, or http(s) URLs)");
        return 2;
    }
    let fragment = match load(&root.join("openapi/docgen.json").display().to_string()) {
        Ok(fragment) => fragment,
        Err(e) => {
            eprintln!("error: the fragment: {e}");
            return 2;
        }
    };
    let mut upstreams = Vec::new();
    for source in sources {
        match load(source) {
            Ok(upstream) => upstreams.push(upstream),
            Err(e) => {
                eprintln!("error: {source}: {e}");
                return 2;
            }
        }
    }
    let changes = compare(&fragment, &upstreams);
    if json_output {
        println!("{}", serde_json::to_string_pretty(&to_json(&changes)).unwrap_or_default());
    } else {
        print!("{}", report(&changes));
    }
    if apply_changes && !changes.is_empty() {
        let applied = apply(&fragment, &upstreams);
        let path = root.join("openapi/docgen.json");
        if let Err(e) = std::fs::write(&path, format_fragment(&applied)) {
            eprintln!("error: writing {}: {e}", path.display());
            return 2;
        }
        println!("\napplied to openapi/docgen.json; now run `cargo xtask codegen`");
        let added: Vec<&Change> = changes.iter().filter(|change| change.kind == Kind::Added).collect();
        if !added.is_empty() {
            println!("new, with no description yet (Box's prose is not copied; write one in our words):");
            for change in added {
                println!("  {} {}", change.group, change.location);
            }
        }
    }
    u8::from(!changes.is_empty())
}

#[cfg(test)]
mod tests {
    use super::compare::{escape, strip_prose};
    use super::*;
    use serde_json::{Value, json};

    fn fragment() -> Value {
        serde_json::from_str(include_str!("../../../openapi/docgen.json")).expect("the fragment is JSON")
    }

    fn drift(upstream: &Value) -> Vec<Change> {
        compare(&fragment(), std::slice::from_ref(upstream))
    }

    fn schema<'a>(spec: &'a mut Value, name: &str) -> &'a mut Value {
        spec.pointer_mut(&format!("/components/schemas/{}", escape(name))).expect("a schema")
    }

    #[test]
    fn the_fragment_against_itself_has_no_drift() {
        assert_eq!(drift(&fragment()), []);
    }

    #[test]
    fn prose_and_renamed_refs_are_not_drift() {
        let mut upstream = fragment();
        upstream["paths"]["/docgen_jobs/{job_id}"]["get"]["summary"] = json!("Another summary");
        schema(&mut upstream, "DocGenJob")["description"] = json!("Other words");
        upstream["paths"]["/docgen_jobs/{job_id}"]["get"]["x-box-tag"] = json!("docgen");
        // DocGenBatch--Base renamed BatchRef upstream, same shape.
        let batch = schema(&mut upstream, "DocGenBatch--Base").clone();
        upstream["components"]["schemas"]["BatchRef"] = batch;
        let text =
            upstream.to_string().replace("#/components/schemas/DocGenBatch--Base", "#/components/schemas/BatchRef");
        let upstream: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(drift(&upstream), []);
    }

    #[test]
    fn property_added_removed_and_retyped() {
        let mut upstream = fragment();
        let properties = &mut schema(&mut upstream, "DocGenTemplate--Base")["properties"];
        properties["priority"] = json!({ "type": "integer" });
        let changes = drift(&upstream);
        assert!(
            changes
                .iter()
                .any(|c| c.location.ends_with("/properties/priority") && c.kind == Kind::Added && !c.breaking),
            "{changes:?}"
        );
        let mut retyped = fragment();
        schema(&mut retyped, "DocGenTagsProcessingMessage")["properties"]["message"]["type"] = json!("integer");
        let changes = drift(&retyped);
        assert!(changes.iter().any(|c| c.location.ends_with("/properties/message/type") && c.breaking), "{changes:?}");
    }

    #[test]
    fn a_removed_property_breaks() {
        let mut upstream = fragment();
        let properties =
            schema(&mut upstream, "DocGenTagsProcessingMessage")["properties"].as_object_mut().expect("properties");
        properties.remove("message");
        let changes = drift(&upstream);
        let removed = changes.iter().find(|c| c.location.ends_with("/properties/message")).expect("reported");
        assert_eq!((removed.kind, removed.breaking), (Kind::Removed, true));
        assert_eq!(removed.group, "schema DocGenTagsProcessingMessage");
    }

    #[test]
    fn an_enum_value_added_is_not_breaking() {
        let mut upstream = fragment();
        let status = &mut schema(&mut upstream, "DocGenJob")["allOf"][1]["properties"]["status"]["enum"];
        status.as_array_mut().expect("values").push(json!("archived"));
        let changes = drift(&upstream);
        assert!(
            changes.iter().any(|c| c.kind == Kind::Added && c.to.as_deref() == Some("\"archived\"") && !c.breaking),
            "{changes:?}"
        );
    }

    #[test]
    fn a_nullable_arm_added_and_a_success_status_added() {
        let mut upstream = fragment();
        let batch = &mut schema(&mut upstream, "DocGenJob")["allOf"][1]["properties"]["batch"]["allOf"];
        batch.as_array_mut().expect("arms").push(json!({ "nullable": true }));
        upstream["paths"]["/docgen_jobs/{job_id}"]["get"]["responses"]["203"] = json!({ "description": "x" });
        let changes = drift(&upstream);
        assert!(
            changes.iter().any(|c| c.location.contains("/batch/allOf/2") && c.kind == Kind::Added && !c.breaking),
            "{changes:?}"
        );
        assert!(changes.iter().any(|c| c.location == "/responses/203" && c.breaking), "{changes:?}");
    }

    #[test]
    fn a_parameter_becoming_required_breaks() {
        let mut upstream = fragment();
        let parameters = upstream["paths"]["/docgen_jobs"]["get"]["parameters"].as_array_mut().expect("parameters");
        let limit = parameters.iter_mut().find(|p| p["name"] == "limit").expect("limit");
        limit["required"] = json!(true);
        let changes = drift(&upstream);
        let change = changes.iter().find(|c| c.location == "/parameters/query:limit/required").expect("reported");
        assert!(change.breaking);
    }

    #[test]
    fn new_operations_are_reported_for_doc_gen_tags_only() {
        let mut upstream = fragment();
        upstream["paths"]["/docgen_archive"] =
            json!({ "post": { "operationId": "post_docgen_archive", "tags": ["Box Doc Gen"], "responses": {} } });
        upstream["paths"]["/folders/{id}"] =
            json!({ "get": { "operationId": "get_folders_id", "tags": ["Folders"], "responses": {} } });
        let changes = drift(&upstream);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!((changes[0].group.as_str(), changes[0].kind), ("operation POST /docgen_archive", Kind::Added));
    }

    #[test]
    fn bad_inputs_cannot_be_compared() {
        let dir = std::env::temp_dir().join(format!("drift-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a directory");
        let write = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).expect("written");
            path.display().to_string()
        };
        assert!(load(&write("bad.txt", "{ not json: [")).expect_err("garbage").contains("neither JSON nor YAML"));
        assert!(load(&write("swagger.json", r#"{"swagger": "2.0"}"#)).expect_err("2.0").contains("Swagger 2.0"));
        assert!(load(&dir.join("missing.json").display().to_string()).expect_err("missing").contains("cannot read"));
        let yaml = write("ok.yaml", "openapi: 3.0.2\npaths: {}\n");
        assert!(load(&yaml).is_ok());
        assert_eq!(
            run(
                Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("root"),
                &[dir.join("missing.json").display().to_string()]
            ),
            2
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_url_answering_404_cannot_be_compared() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        std::thread::spawn(move || {
            use std::io::{Read, Write};
            if let Ok((mut stream, _)) = listener.accept() {
                let mut buffer = [0u8; 1024];
                let _ = stream.read(&mut buffer);
                let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            }
        });
        let error = load(&format!("http://127.0.0.1:{port}/openapi.json")).expect_err("404");
        assert!(error.contains("404"), "{error}");
    }

    #[test]
    fn the_fragment_is_formatted_as_the_project_formats_it() {
        assert_eq!(format_fragment(&fragment()), include_str!("../../../openapi/docgen.json"));
    }

    #[test]
    fn apply_takes_the_shape_keeps_our_prose_and_then_there_is_no_drift() {
        let mut upstream = strip_prose(&fragment());
        upstream["openapi"] = json!("3.0.2");
        let job = schema(&mut upstream, "DocGenJob");
        job["allOf"][1]["properties"]["priority"] = json!({ "type": "integer", "description": "Box's words" });
        job["description"] = json!("Box's words about jobs");
        let applied = apply(&fragment(), std::slice::from_ref(&upstream));
        let properties = &applied["components"]["schemas"]["DocGenJob"]["allOf"][1]["properties"];
        assert_eq!(properties["priority"], json!({ "type": "integer" }), "new items come without Box's prose");
        assert_eq!(
            applied["components"]["schemas"]["DocGenJob"]["description"],
            fragment()["components"]["schemas"]["DocGenJob"]["description"],
            "our prose stays"
        );
        assert_eq!(
            properties["status"]["description"],
            fragment()["components"]["schemas"]["DocGenJob"]["allOf"][1]["properties"]["status"]["description"]
        );
        assert_eq!(compare(&applied, std::slice::from_ref(&upstream)), [], "no drift after applying");
        let code = box_docgen_codegen::generate(&format_fragment(&applied)).expect("generates");
        assert!(code.contains("pub priority: ::std::option::Option<i64>"), "codegen carries the change");
    }

    #[test]
    fn applying_the_same_shapes_changes_nothing() {
        let upstream = strip_prose(&fragment());
        assert_eq!(format_fragment(&apply(&fragment(), &[upstream])), format_fragment(&fragment()));
    }

    #[test]
    fn the_report_groups_and_marks_breaking_changes() {
        let changes = vec![
            Change {
                group: "schema A".into(),
                location: "/properties/x".into(),
                kind: Kind::Removed,
                from: Some("x".into()),
                to: None,
                breaking: true,
            },
            Change {
                group: "schema A".into(),
                location: "/enum".into(),
                kind: Kind::Added,
                from: None,
                to: Some("\"v\"".into()),
                breaking: false,
            },
        ];
        let text = report(&changes);
        assert!(text.starts_with("2 changes (1 can break a client built today)"), "{text}");
        assert!(
            text.contains("\nschema A\n  - /properties/x removed: x  [breaking]\n  + /enum added: \"v\"\n"),
            "{text}"
        );
        assert_eq!(to_json(&changes)["breaking"], 1);
    }
}
