//! A small, valid PDF: the stand-in's generated documents, lines of text on as many pages as they need.
//!
//! Text is Helvetica in Windows-1252 (PDF's WinAnsiEncoding, through encoding_rs), so Western European text
//! prints as written (`Müller & Söhne`, `€`); a character that encoding cannot hold prints as `?` (the stand-in
//! embeds no font; its Word output holds any text).

/// Lines on a page of US Letter at 12 points with 16 points of leading.
const LINES_PER_PAGE: usize = 44;
/// Characters on a line before it wraps.
const WIDTH: usize = 90;

/// A PDF showing `lines`.
pub(crate) fn document(lines: &[String]) -> Vec<u8> {
    let wrapped: Vec<String> = lines.iter().flat_map(|line| wrap(line)).collect();
    let pages: Vec<&[String]> = if wrapped.is_empty() { vec![&[]] } else { wrapped.chunks(LINES_PER_PAGE).collect() };
    // Objects: 1 catalog, 2 pages, 3 font, then a page and its content for each page.
    let kids: Vec<String> = (0..pages.len()).map(|n| format!("{} 0 R", 4 + 2 * n)).collect();
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        format!("<< /Type /Pages /Kids [{}] /Count {} >>", kids.join(" "), pages.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_owned(),
    ];
    for (n, page) in pages.iter().enumerate() {
        let mut text = String::from("BT /F1 12 Tf 72 720 Td 16 TL");
        for line in *page {
            text.push_str(&format!(" ({}) Tj T*", escape(line)));
        }
        text.push_str(" ET");
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {} 0 R /Resources << /Font << /F1 3 0 R >> >> >>",
            5 + 2 * n
        ));
        objects.push(format!("<< /Length {} >>\nstream\n{text}\nendstream", text.len()));
    }
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (index, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", index + 1).as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    pdf
}

/// A line cut into pieces of at most [`WIDTH`] characters (tabs as spaces); an empty line stays one.
fn wrap(line: &str) -> Vec<String> {
    let characters: Vec<char> = line.chars().map(|c| if c == '\t' { ' ' } else { c }).collect();
    if characters.is_empty() {
        return vec![String::new()];
    }
    characters.chunks(WIDTH).map(|chunk| chunk.iter().collect()).collect()
}

/// A PDF string's content: each character in Windows-1252, bytes past ASCII and PDF's delimiters escaped, so the
/// file stays ASCII.
fn escape(line: &str) -> String {
    let mut escaped = String::new();
    let mut buffer = [0u8; 4];
    for c in line.chars() {
        let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(c.encode_utf8(&mut buffer));
        let byte = match bytes.as_ref() {
            [byte] if !unmappable && !c.is_control() => *byte,
            _ => b'?',
        };
        match byte {
            b'(' | b')' | b'\\' => {
                escaped.push('\\');
                escaped.push(byte as char);
            }
            0x20..=0x7e => escaped.push(byte as char),
            _ => escaped.push_str(&format!("\\{byte:03o}")),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_cross_reference_table_points_at_the_objects() {
        let lines: Vec<String> = (0..100).map(|n| format!("Line {n} (Acme)")).collect();
        let pdf = super::document(&lines);
        let text = String::from_utf8(pdf).expect("ASCII");
        assert!(text.starts_with("%PDF-1.4\n") && text.ends_with("%%EOF\n"));
        assert!(text.contains("(Line 0 \\(Acme\\)) Tj"));
        assert!(text.contains("/Count 3"), "100 lines on 3 pages");
        let xref: usize = text.lines().rev().nth(1).and_then(|line| line.parse().ok()).expect("startxref");
        assert!(text[xref..].starts_with("xref"));
        for (index, line) in text[xref..].lines().skip(3).take(9).enumerate() {
            let offset: usize = line[..10].parse().expect("an offset");
            assert!(text[offset..].starts_with(&format!("{} 0 obj", index + 1)), "object {}", index + 1);
        }
    }

    #[test]
    fn western_european_text_is_written_in_win_ansi() {
        let pdf = super::document(&["M\u{fc}ller & S\u{f6}hne \u{20ac}5 \u{65e5}".to_owned()]);
        let text = String::from_utf8(pdf).expect("ASCII");
        // ü is 0xFC, ö 0xF6, € 0x80 in Windows-1252; 日 has no byte there.
        assert!(text.contains("(M\\374ller & S\\366hne \\2005 ?) Tj"), "{text}");
    }
}
