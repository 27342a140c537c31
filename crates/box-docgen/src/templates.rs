//! Doc Gen templates: marking files, listing, reading tags.

use box_docgen_generated::operations as op;
use box_docgen_generated::types::DocGenTemplateCreateRequest;
use futures::Stream;

use crate::arguments::{non_blank, path_segment};
use crate::client::BOX_VERSION;
use crate::enums::FileReferenceType;
use crate::pagination::{self, check_limit};
use crate::{
    Client, DocGenTag, DocGenTags, DocGenTagsProcessingMessage, DocGenTemplate, DocGenTemplateBase, DocGenTemplates,
    Error, FileReference,
};

/// The answer to a tags request: the tags, or word that Box is still reading them.
///
/// Box answers `GET /docgen_templates/{id}/tags` with 200 and a page of tags, or with 202 and a message while it
/// is still extracting them from a new template; ask again later.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum TemplateTags {
    /// A page of tags (HTTP 200).
    Ready(DocGenTags),
    /// Box has not finished reading the template (HTTP 202).
    Processing(DocGenTagsProcessingMessage),
}

impl Client {
    /// Marks a file as a Doc Gen template: `POST /docgen_templates`.
    pub async fn create_template(&self, file_id: &str) -> Result<DocGenTemplateBase, Error> {
        let file_id = non_blank("file_id", file_id)?;
        let body = DocGenTemplateCreateRequest {
            file: FileReference { id: file_id.to_owned(), type_: FileReferenceType::File },
        };
        self.send(&op::PostDocgenTemplatesV20250 { box_version: BOX_VERSION, body: &body }).await
    }

    /// Gets a Doc Gen template: `GET /docgen_templates/{template_id}`.
    pub async fn get_template(&self, template_id: &str) -> Result<DocGenTemplate, Error> {
        let template_id = path_segment("template_id", template_id)?;
        self.send(&op::GetDocgenTemplatesIdV20250 { template_id, box_version: BOX_VERSION }).await
    }

    /// Unmarks a Doc Gen template (the file stays): `DELETE /docgen_templates/{template_id}`.
    pub async fn delete_template(&self, template_id: &str) -> Result<(), Error> {
        let template_id = path_segment("template_id", template_id)?;
        self.send(&op::DeleteDocgenTemplatesIdV20250 { template_id, box_version: BOX_VERSION }).await
    }

    /// One page of the templates the caller can see: `GET /docgen_templates`.
    pub async fn list_templates_page(
        &self,
        marker: Option<&str>,
        limit: Option<u32>,
    ) -> Result<DocGenTemplates, Error> {
        let limit = check_limit(limit)?;
        self.send(&op::GetDocgenTemplatesV20250 { limit, marker, box_version: BOX_VERSION }).await
    }

    /// Every template the caller can see, page after page, fetched as the stream is read.
    pub fn list_templates(
        &self,
        limit: Option<u32>,
    ) -> impl Stream<Item = Result<DocGenTemplate, Error>> + Send + 'static {
        pagination::items(self.clone(), move |client, marker| async move {
            client.list_templates_page(marker.as_deref(), limit).await
        })
    }

    /// One page of the tags of a template: `GET /docgen_templates/{template_id}/tags`.
    ///
    /// `template_version_id` picks a version of the template file (the current one when `None`).
    pub async fn template_tags_page(
        &self,
        template_id: &str,
        template_version_id: Option<&str>,
        marker: Option<&str>,
        limit: Option<u32>,
    ) -> Result<TemplateTags, Error> {
        let template_id = path_segment("template_id", template_id)?;
        let limit = check_limit(limit)?;
        let request = op::GetDocgenTemplatesIdTagsV20250 {
            template_id,
            limit,
            marker,
            template_version_id,
            box_version: BOX_VERSION,
        };
        // Two success bodies (200 and 202), told apart by the generated table.
        Ok(match self.send(&request).await? {
            op::GetDocgenTemplatesIdTagsV20250Output::Ok(page) => TemplateTags::Ready(page),
            op::GetDocgenTemplatesIdTagsV20250Output::Accepted(processing) => TemplateTags::Processing(processing),
        })
    }

    /// Every tag of a template, page after page, fetched as the stream is read.
    ///
    /// While Box is still reading the template (HTTP 202), the stream yields one
    /// [`Error::TagsProcessing`] and ends: ask again later, or use
    /// [`template_tags_page`](Self::template_tags_page) to see that answer as a value.
    pub fn template_tags(
        &self,
        template_id: &str,
        template_version_id: Option<&str>,
        limit: Option<u32>,
    ) -> impl Stream<Item = Result<DocGenTag, Error>> + Send + 'static {
        let context = (self.clone(), template_id.to_owned(), template_version_id.map(str::to_owned));
        pagination::items(context, move |(client, template_id, version), marker| async move {
            match client.template_tags_page(&template_id, version.as_deref(), marker.as_deref(), limit).await? {
                TemplateTags::Ready(page) => Ok(page),
                TemplateTags::Processing(processing) => Err(Error::TagsProcessing(processing.message)),
            }
        })
    }
}
