//! PDF text extraction on lopdf's parser: fonts, content streams, layout, page by page.

mod base14;
mod cmap;
mod collections;
mod content;
mod font;
mod interp;
mod layout;

use lopdf::{Document, LoadOptions, Object};

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
    let mut doc = match Document::load_mem_with_options(bytes, options) {
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
    if repair_stream_lengths(&mut doc, bytes, budget.limits.max_stream_bytes) {
        warnings.add(Warning::Malformed);
    }
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
    let mut page_ids: Vec<lopdf::ObjectId> = doc.get_pages().into_values().collect();
    if page_ids.is_empty() {
        // lopdf gives up on a damaged page tree (a node that is its own kid): walk it by
        // hand, as a viewer would, and say it was damaged.
        warnings.add(Warning::Malformed);
        page_ids = pages_by_hand(&doc, MAX_PAGE_NODES);
        if page_ids.is_empty() {
            return PdfText::default();
        }
    }
    let mut fonts = interp::FontCache::default();
    let mut pages = Vec::with_capacity(page_ids.len().min(budget.limits.max_pages));
    let mut text_bytes = 0usize;
    for (n, page_id) in page_ids.iter().enumerate() {
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

/// Streams whose `/Length` names no number (itself, a missing object) were read as empty.
/// Reads each again from its `stream` keyword to its `endstream`, as poppler does, and
/// says whether any needed it. Once `max_bytes` in all have been read back, the rest
/// are left empty (a hostile file may point many objects at one long stretch).
fn repair_stream_lengths(doc: &mut Document, bytes: &[u8], max_bytes: usize) -> bool {
    let broken: Vec<(lopdf::ObjectId, usize)> = doc
        .objects
        .iter()
        .filter_map(|(id, obj)| {
            let Object::Stream(stream) = obj else {
                return None;
            };
            let Ok(Object::Reference(length)) = stream.dict.get(b"Length") else {
                return None;
            };
            let names_a_number = matches!(
                doc.objects.get(length),
                Some(Object::Integer(_) | Object::Real(_))
            );
            if !stream.content.is_empty() || names_a_number {
                return None;
            }
            match doc.reference_table.get(id.0) {
                Some(lopdf::xref::XrefEntry::Normal { offset, generation })
                    if *generation == id.1 =>
                {
                    Some((*id, *offset as usize))
                }
                _ => None,
            }
        })
        .take(10_000)
        .collect();
    let mut repaired = false;
    let mut budget = max_bytes;
    for (id, offset) in broken {
        let Some(content) = raw_stream_at(bytes, offset, budget) else {
            continue;
        };
        budget = budget.saturating_sub(content.len());
        if let Some(Object::Stream(stream)) = doc.objects.get_mut(&id) {
            stream.set_content(content.to_vec());
            repaired = true;
        }
    }
    repaired
}

/// The bytes between the `stream` keyword of the object at `offset` and its `endstream`.
fn raw_stream_at(bytes: &[u8], offset: usize, max_bytes: usize) -> Option<&[u8]> {
    let rest = bytes.get(offset..)?;
    // The keyword follows the object's dictionary, within a few kilobytes.
    let head = &rest[..rest.len().min(64 * 1024)];
    let keyword = memchr::memmem::find(head, b"stream")?;
    let mut start = keyword + b"stream".len();
    if rest.get(start) == Some(&b'\r') {
        start += 1;
    }
    if rest.get(start) == Some(&b'\n') {
        start += 1;
    }
    let window = &rest[start
        ..rest
            .len()
            .min(start.saturating_add(max_bytes).saturating_add(16))];
    let end = memchr::memmem::find(window, b"endstream")?;
    let mut content = &window[..end];
    for eol in [b'\n', b'\r'] {
        if content.last() == Some(&eol) {
            content = &content[..content.len() - 1];
        }
    }
    Some(content)
}

/// How many nodes of a damaged page tree are visited at most.
const MAX_PAGE_NODES: usize = 100_000;

/// The pages of a damaged page tree, in order: kids are followed depth first, and a
/// node seen before (a loop), too deep, or not a dictionary is skipped. A leaf is a page
/// when it says so or has contents.
fn pages_by_hand(doc: &Document, max_nodes: usize) -> Vec<lopdf::ObjectId> {
    let Ok(root) = doc
        .catalog()
        .and_then(|c| c.get(b"Pages"))
        .and_then(Object::as_reference)
    else {
        return Vec::new();
    };
    let mut pages = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![(root, 0usize)];
    while let Some((id, depth)) = stack.pop() {
        if seen.len() >= max_nodes || depth > 64 || !seen.insert(id) {
            continue;
        }
        let Ok(node) = doc.get_dictionary(id) else {
            continue;
        };
        match node.get(b"Kids").and_then(Object::as_array) {
            Ok(kids) => stack.extend(
                kids.iter()
                    .rev()
                    .filter_map(|k| k.as_reference().ok())
                    .map(|k| (k, depth + 1)),
            ),
            Err(_) => {
                let is_page = node.get(b"Type").and_then(Object::as_name).ok() == Some(b"Page");
                if is_page || node.has(b"Contents") {
                    pages.push(id);
                }
            }
        }
    }
    pages
}
