//! Limits on everything a hostile file can inflate, and the per-document time budget.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Every bound extraction respects. Hitting one gives a stable warning code
/// (`too_large`, `truncated_at_limit`), never a panic, a hang or an out-of-memory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Larger inputs are not read at all (`too_large`).
    pub max_input_bytes: usize,
    /// The most one stream (PDF stream, zip member, email part) may decompress to.
    pub max_stream_bytes: usize,
    /// The most text kept per document, in bytes: its parts (a Word file's headers, body,
    /// footnotes and footers) and its attachments, at every depth, together.
    pub max_text_bytes: usize,
    /// Pages read from one PDF.
    pub max_pages: usize,
    /// Content-stream operators run per PDF page.
    pub max_operators_per_page: usize,
    /// How deep attachments may nest (an email in an email in ...).
    pub max_attachment_depth: usize,
    /// Attachments read from one document, at every depth together.
    pub max_attachments: usize,
    /// Entries read from one zip container (DOCX).
    pub max_zip_entries: usize,
    /// Wall-clock budget for one document, attachments included, in milliseconds.
    pub max_millis: u64,
    /// Pages of one document read by OCR; later scanned pages keep no text
    /// (`truncated_at_limit`).
    pub ocr_max_pages: usize,
    /// A page picture with more pixels is not read (`ocr_image_too_large`): 40 million
    /// is an A4 page at 600 dpi with room to spare.
    pub ocr_max_pixels: u64,
    /// Wall-clock budget for reading one page by OCR, in milliseconds (`ocr_timeout`).
    pub ocr_page_millis: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: 64 * 1024 * 1024,
            max_stream_bytes: 64 * 1024 * 1024,
            max_text_bytes: 16 * 1024 * 1024,
            max_pages: 5_000,
            max_operators_per_page: 2_000_000,
            max_attachment_depth: 8,
            max_attachments: 200,
            max_zip_entries: 5_000,
            max_millis: 8_000,
            ocr_max_pages: 100,
            ocr_max_pixels: 40_000_000,
            ocr_page_millis: 20_000,
        }
    }
}

/// The limits plus the clock of one document.
#[derive(Debug)]
pub struct Budget {
    pub limits: Limits,
    deadline: Instant,
    attachments: std::cell::Cell<usize>,
    /// Text bytes kept so far, the document's parts and attachments together.
    text: std::cell::Cell<usize>,
}

impl Budget {
    pub fn start(limits: &Limits) -> Budget {
        Budget {
            limits: limits.clone(),
            deadline: Instant::now() + Duration::from_millis(limits.max_millis),
            attachments: std::cell::Cell::new(0),
            text: std::cell::Cell::new(0),
        }
    }

    /// Text bytes the document may still keep.
    pub fn text_left(&self) -> usize {
        self.limits.max_text_bytes.saturating_sub(self.text.get())
    }

    /// Keeps as much of `text` as the document may still keep (cut at a character
    /// boundary) and counts it; true if any was cut.
    pub fn keep_text(&self, text: &mut String) -> bool {
        let left = self.text_left();
        let cut = text.len() > left;
        if cut {
            let mut at = left;
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            text.truncate(at);
        }
        self.text.set(self.text.get() + text.len());
        cut
    }

    /// Counts one more attachment; false once the document has used its allowance.
    pub fn take_attachment(&self) -> bool {
        let n = self.attachments.get();
        if n >= self.limits.max_attachments {
            return false;
        }
        self.attachments.set(n + 1);
        true
    }

    /// True once the document's time is up.
    pub fn expired(&self) -> bool {
        Instant::now() >= self.deadline
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_counted_across_calls_and_cut_at_a_character() {
        let budget = Budget::start(&Limits {
            max_text_bytes: 10,
            ..Limits::default()
        });
        let mut first = String::from("Zoë ");
        assert!(!budget.keep_text(&mut first));
        assert_eq!(budget.text_left(), 5);
        let mut second = String::from("Łukasz");
        assert!(budget.keep_text(&mut second));
        assert_eq!(second, "Łuka");
        let mut third = String::from("x");
        assert!(budget.keep_text(&mut third));
        assert_eq!(third, "");
        assert_eq!(budget.text_left(), 0);
    }
}
