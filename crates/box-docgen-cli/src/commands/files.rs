//! `download`: a file, or a job's document, verified against the SHA-1 Box reports.

use crate::cli::Download;
use crate::connect::Connection;
use crate::failure::Failure;
use crate::output::Output;

pub(super) async fn download(connection: &Connection, args: Download, out: Output) -> Result<(), Failure> {
    let client = &connection.client;
    let downloaded = match (&args.file, &args.job) {
        (_, Some(job_id)) => {
            let job = client.get_job(job_id).await?;
            tokio::fs::create_dir_all(&args.out)
                .await
                .map_err(|error| Failure::failed(format!("{}: {error}", args.out.display())))?;
            client.download_output(&job, &args.out).await?
        }
        (Some(file_id), None) => client.download_to_path(file_id, None, &args.out).await?,
        (None, None) => return Err(Failure::config("download needs a FILE_ID or --job JOB_ID")),
    };
    out.item(&downloaded, |downloaded| {
        let path = downloaded.path.as_deref().map(|path| path.display().to_string()).unwrap_or_default();
        format!("{path} ({} bytes, SHA-1 {} verified)", downloaded.size, downloaded.sha1)
    });
    Ok(())
}
