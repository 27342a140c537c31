//! The rows file's bytes as text: UTF-8 (with or without a byte-order mark), UTF-16 with a byte-order mark, or
//! the encoding `--encoding` names (any label encoding_rs knows: `windows-1252`, `latin1`, `utf-16le`, …). Bytes
//! that are not UTF-8 are an error that names their line and says what to pass.

/// The text of `bytes`, decoded as `encoding` says (or as its byte-order mark says, or as UTF-8).
pub(crate) fn text(bytes: &[u8], encoding: Option<&str>) -> Result<String, String> {
    if let Some(label) = encoding {
        let encoding = encoding_rs::Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
            format!(
                "--encoding {label:?} is not an encoding this tool knows (try utf-8, windows-1252, latin1, utf-16le)"
            )
        })?;
        // A byte-order mark wins over the label (as browsers decide), and is dropped.
        let (text, used, had_errors) = encoding.decode(bytes);
        if had_errors {
            return Err(format!("the file is not valid {} (some bytes have no character in it)", used.name()));
        }
        return Ok(text.into_owned());
    }
    if let Some((encoding, _)) = encoding_rs::Encoding::for_bom(bytes)
        && encoding != encoding_rs::UTF_8
    {
        let (text, had_errors) = encoding.decode_with_bom_removal(bytes);
        if had_errors {
            return Err(format!("the file starts as {} but is not valid {}", encoding.name(), encoding.name()));
        }
        return Ok(text.into_owned());
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_owned()),
        Err(error) => {
            let before = &bytes[..error.valid_up_to()];
            let line = before.iter().filter(|byte| **byte == b'\n').count() + 1;
            let byte = bytes[error.valid_up_to()];
            Err(format!(
                "line {line} is not UTF-8 (byte 0x{byte:02x}): if the file was saved by Excel or another Windows \
                 program, pass --encoding windows-1252"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_boms_utf16_and_named_encodings_are_read() {
        assert_eq!(text("a,b\n".as_bytes(), None).as_deref(), Ok("a,b\n"));
        assert_eq!(text(b"\xEF\xBB\xBFa\n", None).as_deref(), Ok("a\n"));
        let utf16: Vec<u8> =
            [0xFF, 0xFE].into_iter().chain("Zoë\n".encode_utf16().flat_map(u16::to_le_bytes)).collect();
        assert_eq!(text(&utf16, None).as_deref(), Ok("Zoë\n"));
        let windows = b"name\nM\xfcller & S\xf6hne\n";
        let error = text(windows, None).expect_err("not UTF-8");
        assert!(
            error.starts_with("line 2 is not UTF-8 (byte 0xfc)") && error.contains("--encoding windows-1252"),
            "{error}"
        );
        assert_eq!(text(windows, Some("windows-1252")).as_deref(), Ok("name\nMüller & Söhne\n"));
        assert!(text(b"a", Some("klingon")).expect_err("unknown").contains("--encoding \"klingon\""));
    }
}
