//! PDF text extraction on lopdf's parser: fonts, content streams, layout, page by page.

mod base14;
mod cmap;
mod collections;
mod content;
mod font;
mod images;
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
    /// Pages with no usable text layer but a picture, for OCR.
    pub scans: Vec<crate::scan::ScannedPage>,
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
    // Every repair is said (`malformed` and `repaired`), and what was read is kept: a
    // stream whose length was read again up to its `endstream` (by lopdf or here), a
    // cross-reference table found nearby or rebuilt, a page tree walked by hand.
    let mut repaired = !doc.was_encrypted() && lengths_recovered(&doc, bytes);
    repaired |= repair_stream_lengths(&mut doc, bytes, budget.limits.max_stream_bytes);
    repaired |= doc.xref_recovery.is_some();
    if repaired {
        warnings.add(Warning::Malformed);
        warnings.add(Warning::Repaired);
    }
    if doc.is_encrypted() && !doc.was_encrypted() {
        warnings.add(Warning::Encrypted);
        return PdfText {
            page_count: Some(doc.get_pages().len() as u32),
            ..PdfText::default()
        };
    }
    if doc.was_encrypted() {
        // Opened with the empty user password: encrypted all the same, and said so.
        warnings.add(Warning::EncryptedOpened);
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
        warnings.add(Warning::Repaired);
    }
    let mut fonts = interp::FontCache::default();
    let mut pages = Vec::with_capacity(page_ids.len().min(budget.limits.max_pages));
    let mut text_bytes = 0usize;
    let mut scans = Vec::new();
    // What the document (with its siblings, when it is an attachment) may still keep.
    let max_text = budget.text_left();
    for (n, page_id) in page_ids.iter().enumerate() {
        if n >= budget.limits.max_pages || budget.expired() || text_bytes > max_text {
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
        if images::needs_ocr(&text)
            && let Some((image, dpi)) = images::page_image(&doc, *page_id)
        {
            scans.push(crate::scan::ScannedPage {
                page: n as u32,
                dpi,
                image,
            });
        }
        text_bytes += text.len();
        pages.push(text);
    }
    if pages.iter().all(|p| p.trim().is_empty()) {
        warnings.add(Warning::NoTextLayer);
    }
    PdfText {
        pages,
        page_count: Some(page_ids.len() as u32),
        scans,
    }
}

/// Whether lopdf read a stream whose `/Length` was wrong up to its `endstream`: it only
/// logs it, and gives the stream a `/Length` that fits its data. So the length written in
/// the file is read back here and compared with the data. An encrypted file's streams
/// change length when decrypted, so this is not asked of one.
fn lengths_recovered(doc: &Document, bytes: &[u8]) -> bool {
    doc.objects
        .iter()
        .filter_map(|(id, obj)| match obj {
            Object::Stream(stream) => Some((id, stream)),
            _ => None,
        })
        .take(10_000)
        .any(|(id, stream)| {
            let Some(lopdf::xref::XrefEntry::Normal { offset, generation }) =
                doc.reference_table.get(id.0)
            else {
                return false;
            };
            *generation == id.1
                && written_length(doc, bytes, *offset as usize)
                    .is_some_and(|n| n != stream.content.len() as u64)
        })
}

/// The `/Length` written in the dictionary of the stream object at `offset`, when it is a
/// whole number or a reference to one.
fn written_length(doc: &Document, bytes: &[u8], offset: usize) -> Option<u64> {
    let rest = bytes.get(offset..)?;
    let head = &rest[..rest.len().min(4096)];
    let dict = &head[..memchr::memmem::find(head, b"stream")?];
    let is_delimiter = |b: &u8| b.is_ascii_whitespace() || b"()<>[]{}/%".contains(b);
    let mut from = 0;
    let value = loop {
        let end = from + memchr::memmem::find(&dict[from..], b"/Length")? + b"/Length".len();
        if dict.get(end).is_some_and(is_delimiter) {
            break &dict[end..];
        }
        from = end; // `/Length1` and the like, of an embedded font
    };
    // A number, or two numbers and `R`.
    let mut numbers = [None, None];
    let mut rest = value;
    for n in &mut numbers {
        rest = rest.trim_ascii_start();
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits > 18 {
            break;
        }
        *n = std::str::from_utf8(&rest[..digits])
            .ok()?
            .parse::<u64>()
            .ok();
        rest = &rest[digits..];
    }
    match numbers {
        [Some(id), Some(generation)] if rest.trim_ascii_start().starts_with(b"R") => {
            let id = (u32::try_from(id).ok()?, u16::try_from(generation).ok()?);
            match doc.objects.get(&id) {
                Some(Object::Integer(n)) => u64::try_from(*n).ok(),
                _ => None,
            }
        }
        // A real (`42.`) is read by lopdf to the letter; not checked.
        [Some(n), _] if !rest.starts_with(b".") => Some(n),
        _ => None,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_length_is_read_back() {
        let mut doc = Document::new();
        doc.objects.insert((9, 0), Object::Integer(51));
        let length =
            |dict: &str| written_length(&doc, format!("4 0 obj\n{dict}\nstream\n").as_bytes(), 0);
        assert_eq!(length("<< /Length 20 >>"), Some(20));
        assert_eq!(length("<</Length 20/Filter/FlateDecode>>"), Some(20));
        assert_eq!(length("<< /Length1 500 /Length\n20 >>"), Some(20));
        assert_eq!(length("<< /Length 9 0 R >>"), Some(51));
        assert_eq!(length("<< /Length 8 0 R >>"), None);
        assert_eq!(length("<< /Length 42. >>"), None);
        assert_eq!(length("<< /Length -1 >>"), None);
        assert_eq!(length("<< /Length1 500 >>"), None);
    }
}
