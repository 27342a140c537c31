//! A Doc Gen job the stand-in runs.

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Job {
    pub(crate) id: String,
    pub(crate) batch_id: String,
    pub(crate) template_file_id: String,
    pub(crate) template_version_id: String,
    pub(crate) output_type: String,
    /// Why it fails, decided when the batch is accepted.
    pub(crate) failure: Option<String>,
    /// How many times it was read.
    pub(crate) reads: u32,
    pub(crate) output_file_id: String,
    pub(crate) output_version_id: String,
    /// The file name its document asked for.
    pub(crate) generated_file_name: String,
    /// When its batch was accepted (tokio's clock; a job read back from disk is as old as the process).
    #[serde(skip, default = "tokio::time::Instant::now")]
    pub(crate) created: tokio::time::Instant,
}
