//! Whom the tool talks to: Box with the credentials of the environment (or `--config`), or, with `--demo`
//! only, the built-in test double (see `demo`).

use std::path::PathBuf;
use std::time::Duration;

use box_docgen::auth::{ClientCredentials, JwtAuth, Subject};
use box_docgen::{Client, ClientBuilder, WaitOptions};
use box_docgen_mock::MockBox;

use crate::failure::Failure;

/// Where requests go, from the global options.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Target {
    /// Run against the built-in test double (on 127.0.0.1, inside this process), which knows the sample template
    /// 42037322 (loops, images, optional tags) and reads the tags of any .docx you upload; nothing reaches Box.
    #[arg(long, global = true)]
    pub(crate) demo: bool,
    /// Where the test double keeps what it holds between commands (templates, jobs, files), so that `jobs
    /// list` or `download --job` find what an earlier command made [default: $XDG_STATE_HOME/box-docgen/demo,
    /// else ~/.local/state/box-docgen/demo].
    #[arg(long, global = true, value_name = "DIR", env = "BOX_DOCGEN_DEMO_DIR")]
    pub(crate) demo_dir: Option<PathBuf>,
    /// A JWT app's JSON configuration file (Developer Console → Generate a Public/Private Keypair).
    #[arg(long, global = true, value_name = "FILE", env = "BOX_CONFIG_FILE", hide_env_values = true)]
    pub(crate) config: Option<PathBuf>,
    /// The API root.
    #[arg(long, global = true, value_name = "URL", env = "BOX_BASE_URL", default_value = box_docgen::DEFAULT_BASE_URL)]
    pub(crate) base_url: String,
    /// The root of Box's upload host.
    #[arg(long, global = true, value_name = "URL", env = "BOX_UPLOAD_URL", default_value = box_docgen::DEFAULT_UPLOAD_URL)]
    pub(crate) upload_url: String,
}

/// A connected client; with `--demo`, the double it talks to, which lives as long as this.
#[derive(Debug)]
pub(crate) struct Connection {
    pub(crate) client: Client,
    pub(crate) demo: Option<MockBox>,
}

impl Connection {
    /// How to poll: briskly against the double, gently against Box.
    pub(crate) fn wait_options(&self) -> WaitOptions {
        match self.demo {
            Some(_) => WaitOptions::default().first_interval(Duration::from_millis(100)).backoff_factor(1.0),
            None => WaitOptions::default().first_interval(Duration::from_secs(2)),
        }
    }
}

/// Connects as the options and the environment say; `configure` adds settings (rate limits).
pub(crate) async fn connect(
    target: &Target,
    configure: impl FnOnce(ClientBuilder) -> ClientBuilder,
) -> Result<Connection, Failure> {
    if target.demo {
        let mock = crate::demo::start(target.demo_dir.as_deref()).await?;
        let builder = Client::builder("demo-token").base_url(mock.base_url()).upload_url(mock.upload_url());
        let client = configure(builder).build().map_err(Failure::from)?;
        return Ok(Connection { client, demo: Some(mock) });
    }
    let builder = credentials(target)?.base_url(&target.base_url).upload_url(&target.upload_url);
    Ok(Connection { client: configure(builder).build().map_err(Failure::from)?, demo: None })
}

/// The first credentials the environment holds: an access token, Client Credentials, or a JWT configuration.
fn credentials(target: &Target) -> Result<ClientBuilder, Failure> {
    let var = |name: &str| std::env::var(name).ok();
    let token_url = var("BOX_TOKEN_URL").filter(|url| !url.is_empty());
    let token_url = token_url.unwrap_or_else(|| box_docgen::auth::DEFAULT_TOKEN_URL.to_owned());
    // A variable that is set but empty is a secret that did not arrive: say so rather than look elsewhere.
    for name in ["BOX_ACCESS_TOKEN", "BOX_CLIENT_ID", "BOX_CLIENT_SECRET", "BOX_ENTERPRISE_ID"] {
        if var(name).is_some_and(|value| value.trim().is_empty()) {
            return Err(Failure::config(format!("{name} is set but empty")));
        }
    }
    if let Some(token) = var("BOX_ACCESS_TOKEN") {
        return Ok(Client::builder(token));
    }
    match (var("BOX_CLIENT_ID"), var("BOX_CLIENT_SECRET"), var("BOX_ENTERPRISE_ID")) {
        (Some(id), Some(secret), Some(enterprise)) => {
            let auth = ClientCredentials::new(id, secret, Subject::Enterprise(enterprise)).map_err(Failure::from)?;
            return Ok(Client::with_token_source(auth.token_url(token_url)));
        }
        (None, None, None) => {}
        _ => {
            return Err(Failure::config(
                "Client Credentials need all of BOX_CLIENT_ID, BOX_CLIENT_SECRET and BOX_ENTERPRISE_ID",
            ));
        }
    }
    if let Some(path) = &target.config {
        let auth = JwtAuth::from_config_file(path).map_err(Failure::from)?;
        return Ok(Client::with_token_source(auth.token_url(token_url)));
    }
    Err(Failure::config(
        "no Box credentials: set BOX_ACCESS_TOKEN (a developer token), or BOX_CLIENT_ID, BOX_CLIENT_SECRET and \
         BOX_ENTERPRISE_ID (Client Credentials), or BOX_CONFIG_FILE / --config (a JWT app's configuration); \
         or pass --demo to try the tool against the built-in test double",
    ))
}
