//! The Doc Gen types, as generated from the fragment, under the names users read.

pub use box_docgen_generated::open_enums::{
    ClientErrorCode as ErrorCode, DocGenBatchBaseType as BatchType, DocGenJobBaseType as JobType,
    DocGenJobStatus as JobStatus, FileReferenceType as FileType, FileVersionBaseType as FileVersionType,
};
pub use box_docgen_generated::types::{
    DocGenBatchBase as BatchReference, DocGenJob, DocGenJobFailures as JobFailures, FileReference,
    FileVersionBase as FileVersionReference,
};

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
