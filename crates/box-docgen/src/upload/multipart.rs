//! The `multipart/form-data` body of a simple upload (RFC 7578), which progenitor 0.15 cannot send
//! (`multipart_bodies_are_bytes` in `box-docgen-codegen`'s workarounds): the `attributes` part (JSON) first, as
//! Box requires, then the `file` part.

use bytes::{BufMut, Bytes, BytesMut};
use reqwest::header::HeaderValue;

/// A body and the `content-type` that names its boundary.
pub(crate) struct Multipart {
    pub(crate) content_type: HeaderValue,
    pub(crate) body: Bytes,
}

/// Encodes `attributes` and the file's `content` (named `file_name` in the part's header).
pub(crate) fn encode(attributes: &[u8], file_name: &str, content: &[u8]) -> Multipart {
    // A boundary that cannot occur in the JSON part, and that the content is checked against.
    let mut boundary = format!("box-docgen-{:016x}", fastrand::u64(..));
    while contains(content, boundary.as_bytes()) {
        boundary = format!("box-docgen-{:016x}", fastrand::u64(..));
    }
    // The name goes in a quoted string: a quote or a line break in it would end the header.
    let quoted: String = file_name.chars().map(|c| if matches!(c, '"' | '\r' | '\n') { '_' } else { c }).collect();
    let mut body = BytesMut::with_capacity(attributes.len() + content.len() + 256);
    body.put_slice(format!("--{boundary}\r\ncontent-disposition: form-data; name=\"attributes\"\r\n").as_bytes());
    body.put_slice(b"content-type: application/json\r\n\r\n");
    body.put_slice(attributes);
    body.put_slice(format!("\r\n--{boundary}\r\n").as_bytes());
    body.put_slice(format!("content-disposition: form-data; name=\"file\"; filename=\"{quoted}\"\r\n").as_bytes());
    body.put_slice(b"content-type: application/octet-stream\r\n\r\n");
    body.put_slice(content);
    body.put_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let content_type = HeaderValue::try_from(format!("multipart/form-data; boundary={boundary}"))
        .unwrap_or_else(|_| HeaderValue::from_static("multipart/form-data"));
    Multipart { content_type, body: body.freeze() }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_come_first_and_the_boundary_is_announced() {
        let encoded = encode(br#"{"name":"a.docx"}"#, "a\".docx", b"PK\x03\x04");
        let content_type = encoded.content_type.to_str().expect("ASCII");
        let boundary = content_type.strip_prefix("multipart/form-data; boundary=").expect("a boundary");
        let text = String::from_utf8_lossy(&encoded.body);
        let attributes = text.find("name=\"attributes\"").expect("attributes");
        let file = text.find("name=\"file\"; filename=\"a_.docx\"").expect("the file, its name quoted safely");
        assert!(attributes < file);
        assert!(text.starts_with(&format!("--{boundary}\r\n")));
        assert!(text.ends_with(&format!("\r\n--{boundary}--\r\n")));
        assert!(text.contains("{\"name\":\"a.docx\"}\r\n"));
    }
}
