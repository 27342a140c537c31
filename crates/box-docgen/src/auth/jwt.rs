//! JWT (server authentication): an RS256 assertion signed with the app's private key.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::{Grant, RefreshingSource, Subject};
use crate::Error;
use crate::arguments::non_blank;
use crate::error::{AuthError, AuthErrorKind};

/// How far ahead the assertion expires; Box accepts at most 60 s.
const ASSERTION_LIFETIME_SECS: u64 = 45;

/// JWT server authentication (`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`).
///
/// Each token request carries a fresh assertion: claims `iss` (client id), `sub` and `box_sub_type` (the
/// enterprise or a user), `aud` (the token URL), a random `jti` and an `exp` 45 s ahead; header `kid` (the
/// public key id) and `alg: RS256`. The private key is the encrypted PKCS#8 PEM that Box issues, decrypted
/// once with its passphrase.
///
/// ```no_run
/// use box_docgen::auth::JwtAuth;
/// use box_docgen::Client;
///
/// // The JSON file the Box Developer Console downloads ("Generate a Public/Private Keypair").
/// let auth = JwtAuth::from_config_file("config.json")?;
/// let client = Client::with_token_source(auth).build()?;
/// # Ok::<(), box_docgen::Error>(())
/// ```
pub type JwtAuth = RefreshingSource<JwtGrant>;

/// The assertion of a JWT grant, and the key that signs it; see [`JwtAuth`].
#[derive(Debug)]
pub struct JwtGrant {
    client_id: String,
    client_secret: SecretString,
    key_id: String,
    /// Its `Debug` shows only the public key.
    key: RsaKeyPair,
    subject: Subject,
}

/// Box's app configuration file: the parts JWT needs.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigFile {
    box_app_settings: AppSettings,
    #[serde(rename = "enterpriseID")]
    enterprise_id: Option<String>,
}

#[derive(Deserialize)]
struct AppSettings {
    #[serde(rename = "clientID")]
    client_id: String,
    #[serde(rename = "clientSecret")]
    client_secret: SecretString,
    #[serde(rename = "appAuth")]
    app_auth: AppAuth,
}

#[derive(Deserialize)]
struct AppAuth {
    #[serde(rename = "publicKeyID")]
    public_key_id: String,
    #[serde(rename = "privateKey")]
    private_key: SecretString,
    passphrase: SecretString,
}

fn config_error(description: impl Into<String>) -> Error {
    Error::Auth(Box::new(AuthError {
        kind: AuthErrorKind::Config,
        description: Some(description.into()),
        status: None,
    }))
}

impl JwtAuth {
    /// Reads Box's app configuration file (JSON, from the Developer Console) and acts as its enterprise.
    pub fn from_config_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| config_error(format!("cannot read the app configuration file {}: {e}", path.display())))?;
        Self::from_config_json(&text)
    }

    /// Parses Box's app configuration JSON and acts as its enterprise.
    pub fn from_config_json(json: &str) -> Result<Self, Error> {
        // serde's messages name the missing field, never a value.
        let config: ConfigFile = serde_json::from_str(json)
            .map_err(|e| config_error(format!("the app configuration is not Box's JSON format: {e}")))?;
        let enterprise_id = config.enterprise_id.filter(|id| !id.trim().is_empty()).ok_or_else(|| {
            config_error("the app configuration has no enterpriseID; use JwtAuth::new with a Subject instead")
        })?;
        let settings = config.box_app_settings;
        Self::new(
            settings.client_id,
            settings.client_secret.expose_secret(),
            settings.app_auth.public_key_id,
            settings.app_auth.private_key.expose_secret(),
            settings.app_auth.passphrase.expose_secret(),
            Subject::Enterprise(enterprise_id),
        )
    }

    /// A source from the parts of the configuration: the private key is a PEM (`ENCRYPTED PRIVATE KEY`, as
    /// Box issues it, or an unencrypted `PRIVATE KEY`), decrypted with `passphrase`.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: &str,
        key_id: impl Into<String>,
        private_key_pem: &str,
        passphrase: &str,
        subject: Subject,
    ) -> Result<Self, Error> {
        let (client_id, key_id) = (client_id.into(), key_id.into());
        non_blank("client_id", &client_id)?;
        non_blank("client_secret", client_secret)?;
        non_blank("key_id", &key_id)?;
        non_blank("box_sub_type id", subject.id())?;
        RefreshingSource::from_grant(JwtGrant {
            client_id,
            client_secret: SecretString::from(client_secret),
            key_id,
            key: private_key(private_key_pem, passphrase)?,
            subject,
        })
    }

    /// Acts as this user instead of the enterprise (`box_sub_type: user`).
    pub fn as_user(mut self, user_id: impl Into<String>) -> Self {
        self.grant.subject = Subject::User(user_id.into());
        self
    }
}

impl JwtGrant {
    /// A signed assertion for the audience `token_url`, valid for 45 s.
    fn assertion(&self, token_url: &str) -> Result<String, Error> {
        let signing_failed = || config_error("the private key could not sign the assertion");
        let mut jti = [0u8; 16];
        SystemRandom::new().fill(&mut jti).map_err(|_| signing_failed())?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs());
        let header = serde_json::json!({ "alg": "RS256", "typ": "JWT", "kid": self.key_id });
        let claims = serde_json::json!({
            "iss": self.client_id,
            "sub": self.subject.id(),
            "box_sub_type": self.subject.kind(),
            "aud": token_url,
            "jti": jti.iter().map(|byte| format!("{byte:02x}")).collect::<String>(),
            "exp": now + ASSERTION_LIFETIME_SECS,
        });
        let signing_input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let mut signature = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), signing_input.as_bytes(), &mut signature)
            .map_err(|_| signing_failed())?;
        Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

impl Grant for JwtGrant {
    fn form(&self, token_url: &str) -> Result<Vec<(&'static str, SecretString)>, Error> {
        Ok(vec![
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer".into()),
            ("assertion", self.assertion(token_url)?.into()),
            ("client_id", self.client_id.as_str().into()),
            ("client_secret", self.client_secret.clone()),
        ])
    }
}

/// Decrypts (when needed) and loads an RSA private key from PEM.
fn private_key(pem: &str, passphrase: &str) -> Result<RsaKeyPair, Error> {
    let (label, der) = pkcs8::der::pem::decode_vec(pem.trim().as_bytes())
        .map_err(|_| config_error("the private key is not a PEM block (-----BEGIN ... PRIVATE KEY-----)"))?;
    let der = match label {
        "ENCRYPTED PRIVATE KEY" => {
            let info = pkcs8::EncryptedPrivateKeyInfo::try_from(der.as_slice())
                .map_err(|_| config_error("the encrypted private key is malformed"))?;
            let document = info.decrypt(passphrase.as_bytes()).map_err(|_| {
                config_error("the passphrase does not decrypt the private key: check appAuth.passphrase")
            })?;
            document.as_bytes().to_vec()
        }
        "PRIVATE KEY" => der,
        other => {
            return Err(config_error(format!(
                "the private key is a {other:?} PEM; Box keys are PKCS#8 (ENCRYPTED PRIVATE KEY or PRIVATE KEY)"
            )));
        }
    };
    RsaKeyPair::from_pkcs8(&der).map_err(|e| config_error(format!("the private key is not a usable RSA key: {e}")))
}
