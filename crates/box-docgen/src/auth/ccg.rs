//! Client Credentials Grant: the app's client id and secret, for the enterprise or one user.

use secrecy::SecretString;

use super::{Grant, RefreshingSource};
use crate::Error;
use crate::arguments::non_blank;

/// Whom a server-authenticated app acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Subject {
    /// The enterprise's service account, by enterprise id.
    Enterprise(String),
    /// A user, by user id.
    User(String),
}

impl Subject {
    /// `enterprise` or `user`, as Box's `box_subject_type` / `box_sub_type`.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Subject::Enterprise(_) => "enterprise",
            Subject::User(_) => "user",
        }
    }

    pub(crate) fn id(&self) -> &str {
        match self {
            Subject::Enterprise(id) | Subject::User(id) => id,
        }
    }
}

/// Client Credentials Grant (`grant_type=client_credentials`): the app's client id and secret, with
/// `box_subject_type` and `box_subject_id` saying whom to act as.
///
/// ```no_run
/// use box_docgen::auth::{ClientCredentials, Subject};
/// use box_docgen::Client;
///
/// let auth = ClientCredentials::new("client-id", "client-secret", Subject::Enterprise("1910967".into()))?;
/// let client = Client::with_token_source(auth).build()?;
/// # Ok::<(), box_docgen::Error>(())
/// ```
pub type ClientCredentials = RefreshingSource<ClientCredentialsGrant>;

/// The form of a Client Credentials Grant; see [`ClientCredentials`].
#[derive(Debug)]
pub struct ClientCredentialsGrant {
    client_id: String,
    client_secret: SecretString,
    subject: Subject,
}

impl ClientCredentials {
    /// A source for the app `client_id` acting as `subject`. Fails with [`Error::InvalidInput`] when an
    /// argument is blank.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        subject: Subject,
    ) -> Result<Self, Error> {
        let (client_id, client_secret) = (client_id.into(), client_secret.into());
        non_blank("client_id", &client_id)?;
        non_blank("client_secret", &client_secret)?;
        non_blank("box_subject_id", subject.id())?;
        RefreshingSource::from_grant(ClientCredentialsGrant { client_id, client_secret: client_secret.into(), subject })
    }
}

impl Grant for ClientCredentialsGrant {
    fn form(&self, _token_url: &str) -> Result<Vec<(&'static str, SecretString)>, Error> {
        Ok(vec![
            ("grant_type", "client_credentials".into()),
            ("client_id", self.client_id.as_str().into()),
            ("client_secret", self.client_secret.clone()),
            ("box_subject_type", self.subject.kind().into()),
            ("box_subject_id", self.subject.id().into()),
        ])
    }
}
