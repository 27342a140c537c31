//! `templates …`: upload from disk, list, show, delete, tags, sample data, schema.

use box_docgen_contract::Contract;
use futures::TryStreamExt;
use serde_json::json;

use crate::Failure;
use crate::cli::Templates;
use crate::connect::Connection;
use crate::output::Output;

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
        Templates::Tags { id } => {
            for tag in client.wait_for_tags(&id, None, connection.wait_options()).await? {
                out.item(&tag, |tag| format!("{}\t{}\t{}", tag.tag_type, tag.tag_content, tag.json_paths.join(",")));
            }
        }
        Templates::Sample { id } => out.document(&contract(connection, &id).await?.sample()),
        Templates::Schema { id } => out.document(&contract(connection, &id).await?.json_schema()),
    }
    Ok(())
}

async fn contract(connection: &Connection, id: &str) -> Result<Contract, Failure> {
    Ok(Contract::fetch(&connection.client, id, None, connection.wait_options()).await?)
}
