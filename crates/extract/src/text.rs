//! Plain text in any common encoding (UTF-8, UTF-16 with BOM, Windows-1252), and HTML
//! converted to text.

/// Decodes text bytes: a BOM decides; else UTF-8 if valid; else Windows-1252.
/// Line ends become `\n`.
pub fn decode(bytes: &[u8]) -> String {
    let text = if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        encoding
            .decode_without_bom_handling(&bytes[bom..])
            .0
            .into_owned()
    } else {
        match std::str::from_utf8(bytes) {
            Ok(s) => s.to_owned(),
            Err(_) => encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(bytes)
                .0
                .into_owned(),
        }
    };
    if text.contains('\r') {
        text.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        text
    }
}

/// Ligature code points become their letters (`ﬁ` → `fi`), as pdftotext writes the
/// ligatures it finds by glyph name.
pub fn expand_ligature(text: &str) -> String {
    if !text.chars().any(|c| ('\u{FB00}'..='\u{FB06}').contains(&c)) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        match c {
            '\u{FB00}' => out.push_str("ff"),
            '\u{FB01}' => out.push_str("fi"),
            '\u{FB02}' => out.push_str("fl"),
            '\u{FB03}' => out.push_str("ffi"),
            '\u{FB04}' => out.push_str("ffl"),
            '\u{FB05}' => out.push_str("ſt"),
            '\u{FB06}' => out.push_str("st"),
            other => out.push(other),
        }
    }
    out
}

/// HTML to readable text: block elements become lines, tables rows, entities decoded.
pub fn html_to_text(html: &str) -> String {
    // Wide enough that html2text never wraps a paragraph.
    const WIDTH: usize = 100_000;
    match html2text::config::plain_no_decorate().string_from_read(html.as_bytes(), WIDTH) {
        Ok(text) => text
            .lines()
            .map(str::trim_end)
            .collect::<Vec<_>>()
            .join("\n")
            .trim()
            .to_owned(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_common_encodings() {
        assert_eq!(decode("Zoë\r\nŁukasz".as_bytes()), "Zoë\nŁukasz");
        assert_eq!(decode(b"caf\xE9 \x80 5"), "café € 5");
        assert_eq!(decode(b"\xFF\xFEZ\x00o\x00\xEB\x00"), "Zoë");
        assert_eq!(decode(b"\xFE\xFF\x00Z\x00o"), "Zo");
        assert_eq!(decode(b"\xEF\xBB\xBFhi"), "hi");
    }

    #[test]
    fn html_becomes_text() {
        let text = html_to_text(
            "<html><head><style>p{}</style></head><body><p>Dear Sir,</p><p>Our ref: CNST/24/004512 &amp; &pound;1,250</p><table><tr><td>a</td><td>b</td></tr></table></body></html>",
        );
        assert!(text.contains("Dear Sir,"), "{text}");
        assert!(text.contains("CNST/24/004512 & £1,250"), "{text}");
        assert!(!text.contains("p{}"), "{text}");
    }
}
