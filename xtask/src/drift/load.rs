//! Reading a description: a file (JSON or YAML) or an http(s) URL.

use serde_json::Value;

/// Reads a description from a file (JSON or YAML) or an http(s) URL, and checks it is OpenAPI 3.x.
pub fn load(source: &str) -> Result<Value, String> {
    let text = if source.starts_with("http://") || source.starts_with("https://") {
        fetch(source)?
    } else {
        std::fs::read_to_string(source).map_err(|e| format!("cannot read it: {e}"))?
    };
    let value: Value = match serde_json::from_str(&text) {
        Ok(value) => value,
        Err(json_error) => {
            serde_saphyr::from_str(&text).map_err(|_| format!("neither JSON nor YAML (as JSON: {json_error})"))?
        }
    };
    match value.get("openapi").and_then(Value::as_str) {
        Some(version) if version.starts_with("3.") => Ok(value),
        Some(version) => Err(format!("OpenAPI {version}, not 3.x")),
        None if value.get("swagger").is_some() => Err("a Swagger 2.0 document, not OpenAPI 3.x".to_owned()),
        None => Err("not an OpenAPI document (no `openapi` field)".to_owned()),
    }
}

fn fetch(url: &str) -> Result<String, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))?;
    runtime.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let response = reqwest::get(url).await.map_err(|e| format!("unreachable: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("answered HTTP {}", response.status()));
        }
        response.text().await.map_err(|e| format!("the body could not be read: {e}"))
    })
}
