//! Reading a `multipart/form-data` body (RFC 7578), as Box's upload host reads one: written here, not taken
//! from the client, so that a client that encodes it wrongly fails against the stand-in.

use bytes::Bytes;

/// One part: its `name` (from `content-disposition`) and its bytes.
#[derive(Debug)]
pub(crate) struct Part {
    pub(crate) name: String,
    pub(crate) content: Bytes,
}

/// The parts of `body`, in order, for the boundary that `content_type` names; why not, otherwise.
pub(crate) fn parts(content_type: Option<&str>, body: &Bytes) -> Result<Vec<Part>, String> {
    let content_type = content_type.ok_or("no content-type")?;
    let (media, parameters) = content_type.split_once(';').unwrap_or((content_type, ""));
    if !media.trim().eq_ignore_ascii_case("multipart/form-data") {
        return Err(format!("the content-type is {media}, not multipart/form-data"));
    }
    let boundary = parameters
        .split(';')
        .filter_map(|parameter| parameter.trim().strip_prefix("boundary="))
        .map(|boundary| boundary.trim_matches('"'))
        .next()
        .ok_or("the content-type names no boundary")?;
    let delimiter = format!("--{boundary}");
    let mut rest = body.clone();
    let start = find(&rest, delimiter.as_bytes()).ok_or("the body has no boundary")?;
    rest = rest.slice(start + delimiter.len()..);
    let mut parts = Vec::new();
    loop {
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        rest = rest.strip_prefix(b"\r\n").map(|tail| body.slice_ref(tail)).ok_or("a boundary not followed by CRLF")?;
        let end_of_headers = find(&rest, b"\r\n\r\n").ok_or("a part without a blank line after its headers")?;
        let headers = String::from_utf8_lossy(&rest[..end_of_headers]).into_owned();
        let content_start = end_of_headers + 4;
        let closing = format!("\r\n{delimiter}");
        let length = find(&rest[content_start..], closing.as_bytes()).ok_or("a part that is not closed")?;
        let name = headers
            .lines()
            .find(|line| line.to_ascii_lowercase().starts_with("content-disposition:"))
            .and_then(|line| line.split(';').find_map(|item| item.trim().strip_prefix("name=")))
            .map(|name| name.trim_matches('"').to_owned())
            .ok_or("a part without a content-disposition name")?;
        parts.push(Part { name, content: rest.slice(content_start..content_start + length) });
        rest = rest.slice(content_start + length + closing.len()..);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_parts_in_order() {
        let body = Bytes::from_static(
            b"--b\r\ncontent-disposition: form-data; name=\"attributes\"\r\n\r\n{}\r\n--b\r\n\
              content-disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nx\r\n-b\r\n--b--\r\n",
        );
        let found = parts(Some("multipart/form-data; boundary=b"), &body).expect("parts");
        let found: Vec<_> = found.iter().map(|part| (part.name.as_str(), part.content.as_ref())).collect();
        assert_eq!(found, [("attributes", &b"{}"[..]), ("file", &b"x\r\n-b"[..])]);
        assert!(parts(Some("application/json"), &body).is_err());
        assert!(parts(Some("multipart/form-data"), &body).is_err());
        assert!(parts(Some("multipart/form-data; boundary=b"), &Bytes::from_static(b"--b\r\nno end")).is_err());
    }
}
