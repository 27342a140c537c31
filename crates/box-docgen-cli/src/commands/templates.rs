//! `templates …`: upload from disk, list, show, delete, tags, sample data, schema; tags, sample data and schema
//! of a Word document on disk too, read offline (`box-docgen-template`).

use std::path::Path;

use box_docgen_contract::Contract;
use box_docgen_template::Template;
use futures::TryStreamExt;
use serde_json::json;

use crate::cli::Templates;
use crate::connect::Connection;
use crate::failure::Failure;
use crate::output::Output;

/// Whether a template argument names a file on disk rather than a template in Box: Box's file ids are digits,
/// anything else is a path.
pub(crate) fn is_local(argument: &str) -> bool {
    argument.is_empty() || !argument.chars().all(|c| c.is_ascii_digit())
}

/// A Word document on disk, read as Box reads a template; what cannot be used is a usage error (exit 2) with
/// every problem and where it is.
pub(crate) fn read_local(path: &Path) -> Result<Template, Failure> {
    let bytes = std::fs::read(path).map_err(|error| Failure::config(format!("{}: {error}", path.display())))?;
    Template::from_docx(&bytes).map_err(|error| Failure::config(format!("{}: {error}", path.display())))
}

/// The data contract of a template: from Box's tags, or from a Word document on disk.
pub(crate) async fn contract(connection: Option<&Connection>, template: &str) -> Result<Contract, Failure> {
    match connection {
        Some(connection) if !is_local(template) => {
            Ok(Contract::fetch(&connection.client, template, None, connection.wait_options()).await?)
        }
        _ => Ok(Contract::from_tags(read_local(Path::new(template))?.tags())),
    }
}

/// Whether the command reads a Word document on disk (`tags`, `sample` or `schema` of a path).
pub(super) fn offline_for(command: &Templates) -> bool {
    match command {
        Templates::Tags { id } | Templates::Sample { id } | Templates::Schema { id } => is_local(id),
        _ => false,
    }
}

/// `templates tags|sample|schema PATH`: a Word document on disk, with no connection.
pub(super) fn offline(command: Templates, out: Output) -> Result<(), Failure> {
    match command {
        Templates::Tags { id } => print_tags(read_local(Path::new(&id))?.tags(), out),
        Templates::Sample { id } => out.document(&Contract::from_tags(read_local(Path::new(&id))?.tags()).sample()),
        Templates::Schema { id } => {
            out.document(&Contract::from_tags(read_local(Path::new(&id))?.tags()).json_schema());
        }
        _ => {}
    }
    Ok(())
}

fn print_tags(tags: Vec<box_docgen::DocGenTag>, out: Output) {
    for tag in tags {
        out.item(&tag, |tag| format!("{}\t{}\t{}", tag.tag_type, tag.tag_content, tag.json_paths.join(",")));
    }
}

pub(super) async fn run(connection: &Connection, command: Templates, out: Output) -> Result<(), Failure> {
    let client = &connection.client;
    match command {
        Templates::Upload { file, folder } => {
            // What the user gave that cannot be used is a usage error (exit 2), before any request.
            if !file.is_file() {
                return Err(Failure::config(format!("{}: no such file", file.display())));
            }
            if !file.extension().is_some_and(|extension| extension.eq_ignore_ascii_case("docx")) {
                return Err(Failure::config(format!(
                    "{}: Box Doc Gen templates are Word (.docx) files",
                    file.display()
                )));
            }
            let template = client.upload_template(&file, &folder, connection.wait_options()).await?;
            let upload = &template.upload;
            let summary = json!({
                "file_id": upload.file.id,
                "name": upload.file.name,
                "sha1": upload.sha1,
                "size": upload.size,
                "new_version": upload.new_version,
                "tags": template.tags.len(),
            });
            out.item(&summary, |_| {
                let what = if upload.new_version { "a new version of" } else { "new" };
                let tags = match template.tags.len() {
                    1 => "1 tag".to_owned(),
                    n => format!("{n} tags"),
                };
                format!("{} ({what} template file, {tags}, SHA-1 {})", upload.file.id, upload.sha1)
            });
        }
        Templates::List => {
            let mut templates = std::pin::pin!(client.list_templates(None));
            while let Some(template) = templates.try_next().await? {
                out.item(&template, |template| {
                    let id = template.file.as_ref().map(|file| file.id.as_str()).unwrap_or_default();
                    format!("{id}\t{}", template.file_name.as_deref().unwrap_or_default())
                });
            }
        }
        Templates::Show { id } => out.document(&client.get_template(&id).await?),
        Templates::Delete { id } => {
            client.delete_template(&id).await?;
            out.item(&json!({ "deleted": id }), |_| format!("{id} is no longer a template (the file stays)"));
        }
        Templates::Tags { id } => print_tags(client.wait_for_tags(&id, None, connection.wait_options()).await?, out),
        Templates::Sample { id } => out.document(&contract(Some(connection), &id).await?.sample()),
        Templates::Schema { id } => out.document(&contract(Some(connection), &id).await?.json_schema()),
    }
    Ok(())
}
