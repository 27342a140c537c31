//! A small, valid PDF: one page with a few lines of text, as the stand-in's generated documents.

/// A one-page PDF showing `lines` in Helvetica.
pub(crate) fn document(lines: &[String]) -> Vec<u8> {
    let mut text = String::from("BT /F1 12 Tf 72 720 Td 16 TL");
    for line in lines {
        let escaped: String = line
            .chars()
            .map(|c| if c.is_ascii() && !c.is_ascii_control() { c } else { '?' })
            .flat_map(|c| match c {
                '(' | ')' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        text.push_str(&format!(" ({escaped}) Tj T*"));
    }
    text.push_str(" ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R \
         /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_owned(),
        format!("<< /Length {} >>\nstream\n{text}\nendstream", text.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_cross_reference_table_points_at_the_objects() {
        let pdf = super::document(&["Contract (Acme)".to_owned()]);
        let text = String::from_utf8(pdf).expect("ASCII");
        assert!(text.starts_with("%PDF-1.4\n") && text.ends_with("%%EOF\n"));
        assert!(text.contains("(Contract \\(Acme\\)) Tj"));
        let xref: usize = text.lines().rev().nth(1).and_then(|line| line.parse().ok()).expect("startxref");
        assert!(text[xref..].starts_with("xref"));
        for (index, line) in text[xref..].lines().skip(3).take(5).enumerate() {
            let offset: usize = line[..10].parse().expect("an offset");
            assert!(text[offset..].starts_with(&format!("{} 0 obj", index + 1)), "object {}", index + 1);
        }
    }
}
