//! PDF text extraction on lopdf's parser: fonts, content streams, layout, page by page.

mod base14;
mod cmap;
mod collections;
mod content;
mod font;
mod interp;
mod layout;

use lopdf::{Document, LoadOptions};

use super::limits::Budget;
use super::{Warning, Warnings};

/// A PDF's text, one string per page read.
#[derive(Debug, Default)]
pub struct PdfText {
    pub pages: Vec<String>,
    /// Pages in the document (may exceed `pages.len()` when a limit was hit).
    pub page_count: Option<u32>,
}

/// Reads a PDF's text layer. Problems become warnings; nothing panics.
pub fn extract(bytes: &[u8], budget: &Budget, warnings: &mut Warnings) -> PdfText {
    let options = LoadOptions {
        max_decompressed_size: Some(budget.limits.max_stream_bytes),
        ..LoadOptions::default()
    };
    let doc = match Document::load_mem_with_options(bytes, options) {
        Ok(doc) => doc,
        Err(lopdf::Error::InvalidPassword | lopdf::Error::Decryption(_)) => {
            warnings.add(Warning::Encrypted);
            return PdfText::default();
        }
        Err(lopdf::Error::Decompress(_)) => {
            warnings.add(Warning::TruncatedAtLimit);
            return PdfText::default();
        }
        Err(_) => {
            warnings.add(Warning::Malformed);
            return PdfText::default();
        }
    };
    if doc.xref_recovery.is_some() {
        // The cross-reference data was damaged and rebuilt: say so, keep what was read.
        warnings.add(Warning::Malformed);
    }
    if doc.is_encrypted() && !doc.was_encrypted() {
        warnings.add(Warning::Encrypted);
        return PdfText {
            pages: Vec::new(),
            page_count: Some(doc.get_pages().len() as u32),
        };
    }
    let page_ids = doc.get_pages();
    if page_ids.is_empty() {
        warnings.add(Warning::Malformed);
        return PdfText::default();
    }
    let mut fonts = interp::FontCache::default();
    let mut pages = Vec::with_capacity(page_ids.len().min(budget.limits.max_pages));
    let mut text_bytes = 0usize;
    for (n, (_, page_id)) in page_ids.iter().enumerate() {
        if n >= budget.limits.max_pages
            || budget.expired()
            || text_bytes > budget.limits.max_text_bytes
        {
            warnings.add(Warning::TruncatedAtLimit);
            break;
        }
        let glyphs = interp::Interpreter::new(&doc, &mut fonts, budget).run_page(*page_id);
        if glyphs.truncated {
            warnings.add(Warning::TruncatedAtLimit);
        }
        if glyphs.malformed {
            warnings.add(Warning::Malformed);
        }
        let text = layout::page_text(&glyphs);
        text_bytes += text.len();
        pages.push(text);
    }
    if pages.iter().all(|p| p.trim().is_empty()) {
        warnings.add(Warning::NoTextLayer);
    }
    PdfText {
        pages,
        page_count: Some(page_ids.len() as u32),
    }
}
