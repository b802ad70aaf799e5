//! `Content-Disposition` for documents sent to a browser (RFC 6266 with an RFC 5987
//! UTF-8 name): a safe ASCII fallback with no path, quote, control or direction
//! characters, and the original name percent-encoded. Only PDFs are shown inline.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Inline (shown in the browser) or attachment (saved).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    Inline,
    Attachment,
}

/// Longest name offered, in characters.
const MAX_NAME: usize = 100;

/// Characters left as they are in `filename*` (RFC 5987 attr-char).
const ATTR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// The last path part of `name` (either separator), without control or bidirectional
/// formatting characters, at most 100 characters; `document` when nothing is left.
pub fn clean_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .take(MAX_NAME)
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    if trimmed.is_empty() {
        "document".into()
    } else {
        trimmed.to_owned()
    }
}

/// The ASCII fallback: letters, digits, `-`, `_`, `.` and spaces; anything else `_`.
pub fn ascii_name(name: &str) -> String {
    clean_name(name)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ' ') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The header value for a file called `name`.
pub fn content_disposition(name: &str, how: Disposition) -> String {
    let kind = match how {
        Disposition::Inline => "inline",
        Disposition::Attachment => "attachment",
    };
    let clean = clean_name(name);
    format!(
        "{kind}; filename=\"{}\"; filename*=UTF-8''{}",
        ascii_name(&clean),
        utf8_percent_encode(&clean, ATTR)
    )
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_are_made_safe() {
        let cases = [
            (
                "letter.pdf",
                "inline; filename=\"letter.pdf\"; filename*=UTF-8''letter.pdf",
            ),
            (
                "../../etc/passwd",
                "attachment; filename=\"passwd\"; filename*=UTF-8''passwd",
            ),
            (
                "C:\\x\\a\"b.pdf",
                "attachment; filename=\"a_b.pdf\"; filename*=UTF-8''a%22b.pdf",
            ),
            (
                "evil\u{202e}fdp.exe",
                "attachment; filename=\"evilfdp.exe\"; filename*=UTF-8''evilfdp.exe",
            ),
            (
                "line\r\nSet-Cookie: x",
                "attachment; filename=\"lineSet-Cookie_ x\"; filename*=UTF-8''lineSet-Cookie%3A%20x",
            ),
            (
                "Zoë's letter.pdf",
                "attachment; filename=\"Zo__s letter.pdf\"; filename*=UTF-8''Zo%C3%AB%27s%20letter.pdf",
            ),
            (
                "",
                "attachment; filename=\"document\"; filename*=UTF-8''document",
            ),
            (
                "...",
                "attachment; filename=\"document\"; filename*=UTF-8''document",
            ),
        ];
        for (i, (name, want)) in cases.iter().enumerate() {
            let how = if i == 0 {
                Disposition::Inline
            } else {
                Disposition::Attachment
            };
            assert_eq!(content_disposition(name, how), *want, "{name:?}");
        }
    }

    #[test]
    fn long_names_are_cut() {
        let name = "a".repeat(300) + ".pdf";
        assert_eq!(clean_name(&name).chars().count(), 100);
    }
}
