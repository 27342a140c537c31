//! Doc Gen batches: generating documents.

use box_docgen_generated::operations as op;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::arguments::non_blank;
use crate::client::BOX_VERSION;
use crate::enums::{DocGenBatchCreateRequestDestinationFolderType, FileReferenceType, FileVersionBaseType};
use crate::rate::Cost;
use crate::send::Reserved;
use crate::{
    Client, DocGenBatchBase, DocGenBatchCreateRequest, DocGenBatchCreateRequestDestinationFolder,
    DocGenDocumentGenerationData, Error, FileReference, FileVersionBase,
};

/// A checked request to generate documents; built with [`BatchRequest::builder`].
#[derive(Debug, Clone)]
pub struct BatchRequest {
    body: DocGenBatchCreateRequest,
}

impl BatchRequest {
    /// Starts a request to generate documents from the template file `template_file_id` into the folder
    /// `destination_folder_id`, as `output_type` (`docx` or `pdf`).
    ///
    /// ```
    /// use box_docgen::BatchRequest;
    ///
    /// let request = BatchRequest::builder("42037322", "0", "pdf")
    ///     .document("Contract - Acme.pdf", &serde_json::json!({ "customer": { "name": "Acme" } }))
    ///     .document("Contract - Globex.pdf", &serde_json::json!({ "customer": { "name": "Globex" } }))
    ///     .build()?;
    /// assert_eq!(request.documents().len(), 2);
    ///
    /// // No documents: refused before any request.
    /// assert!(BatchRequest::builder("42037322", "0", "pdf").build().is_err());
    /// # Ok::<(), box_docgen::Error>(())
    /// ```
    pub fn builder(
        template_file_id: impl Into<String>,
        destination_folder_id: impl Into<String>,
        output_type: impl Into<String>,
    ) -> BatchRequestBuilder {
        BatchRequestBuilder {
            template_file_id: template_file_id.into(),
            template_version_id: None,
            destination_folder_id: destination_folder_id.into(),
            output_type: output_type.into(),
            documents: Vec::new(),
            error: None,
        }
    }

    /// The documents this request generates.
    pub fn documents(&self) -> &[DocGenDocumentGenerationData] {
        &self.body.document_generation_data
    }

    /// The request body as Box receives it.
    pub fn body(&self) -> &DocGenBatchCreateRequest {
        &self.body
    }
}

/// Builds a [`BatchRequest`]; nothing is checked until [`build`](Self::build).
#[derive(Debug)]
pub struct BatchRequestBuilder {
    template_file_id: String,
    template_version_id: Option<String>,
    destination_folder_id: String,
    output_type: String,
    documents: Vec<DocGenDocumentGenerationData>,
    error: Option<Error>,
}

impl BatchRequestBuilder {
    /// Uses this version of the template file instead of the current one.
    pub fn template_version(mut self, file_version_id: impl Into<String>) -> Self {
        self.template_version_id = Some(file_version_id.into());
        self
    }

    /// Adds a document named `generated_file_name`, filled from `user_input`, which must serialize to a JSON
    /// object (a struct or a map).
    pub fn document(mut self, generated_file_name: impl Into<String>, user_input: &impl Serialize) -> Self {
        let generated_file_name = generated_file_name.into();
        match json_object(user_input) {
            Ok(user_input) => return self.document_object(generated_file_name, user_input),
            Err(reason) => {
                let reason = format!("the data of {generated_file_name:?} {reason}");
                self.error.get_or_insert(Error::invalid_input("user_input", reason));
            }
        }
        self
    }

    /// Adds a document whose data is already a JSON object (nothing is serialized again).
    pub fn document_object(mut self, generated_file_name: impl Into<String>, user_input: Map<String, Value>) -> Self {
        let generated_file_name = generated_file_name.into();
        self.documents.push(DocGenDocumentGenerationData { generated_file_name, user_input });
        self
    }

    /// Checks the request: ids and output type not blank, at least one document, no blank file name, all data
    /// JSON objects.
    pub fn build(self) -> Result<BatchRequest, Error> {
        if let Some(error) = self.error {
            return Err(error);
        }
        non_blank("template_file_id", &self.template_file_id)?;
        non_blank("destination_folder_id", &self.destination_folder_id)?;
        non_blank("output_type", &self.output_type)?;
        if let Some(version) = &self.template_version_id {
            non_blank("template_version_id", version)?;
        }
        if self.documents.is_empty() {
            return Err(Error::invalid_input("documents", "a batch needs at least one document"));
        }
        for document in &self.documents {
            non_blank("generated_file_name", &document.generated_file_name)?;
        }
        Ok(BatchRequest {
            body: DocGenBatchCreateRequest {
                file: FileReference { id: self.template_file_id, type_: FileReferenceType::File },
                file_version: self
                    .template_version_id
                    .map(|id| FileVersionBase { id, type_: FileVersionBaseType::FileVersion }),
                input_source: "api".to_owned(),
                destination_folder: DocGenBatchCreateRequestDestinationFolder {
                    id: self.destination_folder_id,
                    type_: DocGenBatchCreateRequestDestinationFolderType::Folder,
                },
                output_type: self.output_type,
                document_generation_data: self.documents,
            },
        })
    }
}

/// `value` as a JSON object, or why it is not one ("must be a JSON object, not an array", ...).
pub(crate) fn json_object(value: &impl Serialize) -> Result<Map<String, Value>, String> {
    let kind = match serde_json::to_value(value) {
        Ok(Value::Object(object)) => return Ok(object),
        Err(e) => return Err(format!("does not serialize to JSON: {e}")),
        Ok(Value::Array(_)) => "an array",
        Ok(Value::String(_)) => "a string",
        Ok(Value::Number(_)) => "a number",
        Ok(Value::Bool(_)) => "a boolean",
        Ok(Value::Null) => "null",
    };
    Err(format!("must be a JSON object, not {kind}"))
}

/// A batch request's place under the client's ceilings, taken by [`Client::reserve_batch`] and used by
/// [`Client::create_batch_reserved`]; it then tells whether the request may have reached Box.
///
/// It exists for work that must happen after the wait for room and just before a batch leaves (a journal's
/// record that the batch is being sent), and for knowing, when that send is abandoned midway (a dropped
/// future), whether Box may have the batch.
#[derive(Debug)]
pub struct BatchReservation {
    cost: Cost,
    reserved: Reserved,
}

impl BatchReservation {
    /// Whether a request sent with this reservation may have reached Box: `false` until an attempt goes out,
    /// and after every attempt whose failure proves Box did nothing with it ([`Error::may_have_reached_box`]).
    /// Read it after [`Client::create_batch_reserved`] returned or was dropped: `false` means Box has no batch
    /// from it.
    pub fn may_have_reached_box(&self) -> bool {
        self.reserved.reached.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Client {
    /// Starts generating documents: `POST /docgen_batches`. Box accepts the batch (HTTP 202) and runs its
    /// jobs in the background; follow them with [`wait_for_batch`](Self::wait_for_batch) or
    /// [`list_batch_jobs`](Self::list_batch_jobs). The request is paced by the client's documents-per-minute
    /// ceiling ([`RateLimits`](crate::rate::RateLimits)): it counts as many documents as it holds.
    pub async fn create_batch(&self, request: &BatchRequest) -> Result<DocGenBatchBase, Error> {
        let operation = op::PostDocgenBatchesV20250 { box_version: BOX_VERSION, body: &request.body };
        self.send_costing(&operation, batch_cost(request), None).await
    }

    /// Waits until the client's ceilings have room for `request` (its documents and one request) and takes
    /// that room: [`create_batch_reserved`](Self::create_batch_reserved) then sends it without waiting
    /// again. Dropping the reservation unused gives nothing back (the room counts as used).
    ///
    /// ```no_run
    /// # async fn run(client: box_docgen::Client, request: box_docgen::BatchRequest) -> Result<(), box_docgen::Error> {
    /// let reservation = client.reserve_batch(&request).await; // may wait for the documents-per-minute ceiling
    /// // ... write down, durably, that this batch is being sent ...
    /// let batch = client.create_batch_reserved(&reservation, &request).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn reserve_batch(&self, request: &BatchRequest) -> BatchReservation {
        let cost = batch_cost(request);
        self.pacing().acquire(cost).await;
        BatchReservation { cost, reserved: Reserved::prepaid() }
    }

    /// [`create_batch`](Self::create_batch) in the room `reservation` holds: the first attempt goes at once
    /// (later ones, after a 429, wait as usual). Afterwards, or when this future is dropped,
    /// [`BatchReservation::may_have_reached_box`] tells whether Box may have the batch.
    pub async fn create_batch_reserved(
        &self,
        reservation: &BatchReservation,
        request: &BatchRequest,
    ) -> Result<DocGenBatchBase, Error> {
        let operation = op::PostDocgenBatchesV20250 { box_version: BOX_VERSION, body: &request.body };
        self.send_costing(&operation, reservation.cost, Some(&reservation.reserved)).await
    }
}

/// What a batch request costs under the ceilings: one request, and its documents.
fn batch_cost(request: &BatchRequest) -> Cost {
    Cost::batch(u32::try_from(request.documents().len()).unwrap_or(u32::MAX))
}
