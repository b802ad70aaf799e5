//! Format detection from the bytes (magic numbers and content), never from file names.

/// What a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    Pdf,
    Docx,
    Email,
    Html,
    Text,
    /// A picture postroom reads by OCR: JPEG, PNG or TIFF.
    Image(&'static str),
    /// Recognised but not read (GIF, other archives, executables...).
    Other(&'static str),
    Empty,
}

impl MediaType {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Pdf => "application/pdf",
            MediaType::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            MediaType::Email => "message/rfc822",
            MediaType::Html => "text/html",
            MediaType::Text => "text/plain",
            MediaType::Image(m) | MediaType::Other(m) => m,
            MediaType::Empty => "application/x-empty",
        }
    }
}

const EMAIL_HEADERS: &[&str] = &[
    "from",
    "to",
    "cc",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "received",
    "return-path",
    "delivered-to",
    "reply-to",
    "content-type",
    "x-mailer",
    "sender",
    "in-reply-to",
    "references",
];

fn starts_with_ci(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.len() >= needle.len() && haystack[..needle.len()].eq_ignore_ascii_case(needle)
}

fn contains_ci(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Whether the bytes open with an RFC 5322 header block naming common mail headers.
fn looks_like_email(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(16 * 1024)];
    let Ok(text) =
        std::str::from_utf8(head).or_else(|e| std::str::from_utf8(&head[..e.valid_up_to()]))
    else {
        return false;
    };
    let mut known = 0;
    let mut lines = 0;
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        lines += 1;
        if line.starts_with([' ', '\t']) {
            continue; // a folded continuation
        }
        let Some((name, _)) = line.split_once(':') else {
            return false;
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return false;
        }
        if EMAIL_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            known += 1;
        }
        if lines > 500 {
            break;
        }
    }
    known >= 2
}

fn is_zip_docx(bytes: &[u8]) -> bool {
    // The entry names are stored uncompressed in local headers and the central directory.
    memchr::memmem::find(bytes, b"word/document.xml").is_some()
        || memchr::memmem::find(bytes, b"word/document2.xml").is_some()
}

/// Detects the media type of a document from its bytes.
pub fn detect(bytes: &[u8]) -> MediaType {
    if bytes.is_empty() {
        return MediaType::Empty;
    }
    let head = &bytes[..bytes.len().min(1024)];
    if memchr::memmem::find(head, b"%PDF-").is_some() {
        return MediaType::Pdf;
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return if is_zip_docx(bytes) {
            MediaType::Docx
        } else {
            MediaType::Other("application/zip")
        };
    }
    let magic: &[(&[u8], &'static str)] = &[
        (b"\xFF\xD8\xFF", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"II*\x00", "image/tiff"),
        (b"MM\x00*", "image/tiff"),
        (
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",
            "application/x-ole-storage",
        ),
        (b"{\\rtf", "application/rtf"),
        (b"\x1F\x8B", "application/gzip"),
        (b"7z\xBC\xAF\x27\x1C", "application/x-7z-compressed"),
        (b"Rar!", "application/vnd.rar"),
        (b"MZ", "application/x-msdownload"),
        (b"\x7FELF", "application/x-executable"),
    ];
    for (prefix, media) in magic {
        if bytes.starts_with(prefix) {
            if matches!(*media, "image/jpeg" | "image/png" | "image/tiff") {
                return MediaType::Image(media);
            }
            return MediaType::Other(media);
        }
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return MediaType::Text;
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let trimmed = {
        let start = body
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(body.len());
        &body[start..]
    };
    if looks_like_email(body) {
        return MediaType::Email;
    }
    if starts_with_ci(trimmed, b"<!doctype html")
        || starts_with_ci(trimmed, b"<html")
        || (trimmed.starts_with(b"<") && contains_ci(&trimmed[..trimmed.len().min(2048)], b"<html"))
    {
        return MediaType::Html;
    }
    // Text: no NULs and few control characters in the first 8 KB.
    let sample = &body[..body.len().min(8192)];
    let controls = sample
        .iter()
        .filter(|b| (**b < 0x20 && !matches!(**b, b'\n' | b'\r' | b'\t' | 0x0C)) || **b == 0x7F)
        .count();
    if !sample.contains(&0) && controls * 100 <= sample.len() {
        return MediaType::Text;
    }
    MediaType::Other("application/octet-stream")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_content_not_name() {
        assert_eq!(detect(b"%PDF-1.7\n..."), MediaType::Pdf);
        assert_eq!(detect(b"junk\n%PDF-1.4\n"), MediaType::Pdf);
        assert_eq!(
            detect(b"\xFF\xD8\xFF\xE0JFIF"),
            MediaType::Image("image/jpeg")
        );
        assert_eq!(detect(b"GIF89a..."), MediaType::Other("image/gif"));
        assert_eq!(
            detect(b"From: a@b.example\r\nTo: c@d.example\r\nSubject: FOI\r\n\r\nBody"),
            MediaType::Email
        );
        assert_eq!(
            detect(b"<!DOCTYPE html><html><body>x</body></html>"),
            MediaType::Html
        );
        assert_eq!(detect("Dear Sir, café".as_bytes()), MediaType::Text);
        assert_eq!(detect(b"Dear Sir, caf\xE9"), MediaType::Text);
        assert_eq!(detect(b"\xFF\xFEh\x00i\x00"), MediaType::Text);
        assert_eq!(detect(b""), MediaType::Empty);
        assert_eq!(
            detect(b"\x00\x01\x02\x03\x04"),
            MediaType::Other("application/octet-stream")
        );
        assert_eq!(detect(b"Subject: only one header\n\nbody"), MediaType::Text);
    }
}
