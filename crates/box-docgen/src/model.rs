//! The Doc Gen types, generated from the fragment.
//!
//! Structs keep the names of Box's schemas (`DocGenJob--Full` is [`DocGenJobFull`]). String enums are open:
//! a value Box adds later decodes as `Unknown(String)`; the common ones have short aliases ([`JobStatus`],
//! [`ErrorCode`], [`TagType`]), and all of them are in [`enums`].

pub use box_docgen_generated::types::{
    DocGenBatchBase, DocGenBatchCreateRequest, DocGenBatchCreateRequestDestinationFolder, DocGenDocumentGenerationData,
    DocGenJob, DocGenJobFailures, DocGenJobFull, DocGenJobFullFailures, DocGenJobs, DocGenJobsFull, DocGenTag,
    DocGenTags, DocGenTagsProcessingMessage, DocGenTemplate, DocGenTemplateBase, DocGenTemplates, EnterpriseReference,
    FileFull, FileReference, FileVersionBase, UserBase, Webhook, WebhookMini, Webhooks,
};

/// Every open enum of the API: known values as variants, anything else as `Unknown(String)`.
pub mod enums {
    pub use box_docgen_generated::open_enums::*;
}

pub use enums::{ClientErrorCode as ErrorCode, DocGenJobStatus as JobStatus, DocGenTagTagType as TagType};

/// What a [`JobStatus`] means for the job.
///
/// ```
/// use box_docgen::{JobStatus, JobStatusExt};
/// assert!(JobStatus::CompletedWithError.is_terminal());
/// assert!(!JobStatus::Pending.is_terminal());
/// // A status Box adds later is not taken as final.
/// assert!(!JobStatus::from("archived").is_terminal());
/// ```
pub trait JobStatusExt {
    /// `true` for `completed`, `failed` and `completed_with_error`: the job will not change any more.
    fn is_terminal(&self) -> bool;
}

impl JobStatusExt for JobStatus {
    fn is_terminal(&self) -> bool {
        matches!(self, JobStatus::Completed | JobStatus::Failed | JobStatus::CompletedWithError)
    }
}
