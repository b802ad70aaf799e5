//! The picture of a scanned PDF page, found for OCR: the page's largest image (directly
//! or inside a form XObject), with its colour space resolved and its dots per inch from
//! the page's size. Nothing is decoded here; `crate::scan` decodes one page at a time.

use lopdf::{Dictionary, Document, Object, ObjectId};

use crate::scan::{Colour, PageImage};

/// Images smaller than this on both sides are logos, stamps and rules, not a page.
const MIN_SIDE: i64 = 200;
/// How deep form XObjects are searched for the page's picture.
const MAX_FORM_DEPTH: usize = 3;
/// How many XObjects one page's search looks at, at most.
const MAX_XOBJECTS: usize = 256;

/// Whether a page's text layer is missing or unusable: empty, or mostly characters a
/// reader cannot use (U+FFFD, private-use glyphs, controls), as a PDF whose fonts map
/// their glyphs to nothing gives.
pub fn needs_ocr(text: &str) -> bool {
    let mut seen = 0usize;
    let mut bad = 0usize;
    for c in text.chars().filter(|c| !c.is_whitespace()) {
        seen += 1;
        if c == '\u{FFFD}'
            || ('\u{E000}'..='\u{F8FF}').contains(&c)
            || (c.is_control() && c != '\u{c}')
        {
            bad += 1;
        }
    }
    seen == 0 || bad * 10 >= seen * 3
}

/// The page's picture for OCR, or `None` when it has no image big enough to be one (a
/// blank page, or drawings).
pub fn page_image(doc: &Document, page_id: ObjectId) -> Option<(PageImage, Option<u32>)> {
    let resources = super::interp::page_resources(doc, page_id);
    let mut best: Option<(i64, &lopdf::Stream)> = None;
    let mut visited = Vec::new();
    for res in resources {
        largest_image(doc, res, 0, &mut visited, &mut best);
    }
    let (_, stream) = best?;
    let width = stream.dict.get(b"Width").and_then(Object::as_i64).ok()?;
    let dpi = super::interp::page_box(doc, page_id).and_then(|[x0, _, x1, _]| {
        let inches = (x1 - x0).abs() / 72.0;
        (inches > 0.5).then(|| (width as f64 / inches).round() as u32)
    });
    Some((
        image_of(doc, stream),
        dpi.filter(|d| (50..=1200).contains(d)),
    ))
}

/// Walks one resource dictionary's XObjects (and the forms among them) for the image
/// with the most pixels.
fn largest_image<'a>(
    doc: &'a Document,
    resources: &'a Dictionary,
    depth: usize,
    visited: &mut Vec<ObjectId>,
    best: &mut Option<(i64, &'a lopdf::Stream)>,
) {
    let Ok(xobjects) = resources
        .get(b"XObject")
        .and_then(|o| doc.dereference(o))
        .and_then(|(_, o)| o.as_dict())
    else {
        return;
    };
    for (_, value) in xobjects.iter() {
        let Ok(id) = value.as_reference() else {
            continue;
        };
        if visited.len() >= MAX_XOBJECTS || visited.contains(&id) {
            continue;
        }
        visited.push(id);
        let Ok(stream) = doc.get_object(id).and_then(Object::as_stream) else {
            continue;
        };
        match stream.dict.get(b"Subtype").and_then(Object::as_name) {
            Ok(b"Image") => {
                let side = |key: &[u8]| stream.dict.get(key).and_then(Object::as_i64).ok();
                let (Some(w), Some(h)) = (side(b"Width"), side(b"Height")) else {
                    continue;
                };
                if w < MIN_SIDE && h < MIN_SIDE {
                    continue;
                }
                let area = w.saturating_mul(h);
                if best.is_none_or(|(a, _)| area > a) {
                    *best = Some((area, stream));
                }
            }
            Ok(b"Form") if depth < MAX_FORM_DEPTH => {
                if let Ok((_, Object::Dictionary(inner))) = stream
                    .dict
                    .get(b"Resources")
                    .and_then(|o| doc.dereference(o))
                {
                    largest_image(doc, inner, depth + 1, visited, best);
                }
            }
            _ => {}
        }
    }
}

/// The image's stream with what decoding it needs: the colour space resolved (an ICC
/// profile's component count, an indexed palette) and whether its Decode array inverts.
fn image_of(doc: &Document, stream: &lopdf::Stream) -> PageImage {
    let dict = &stream.dict;
    let is_mask = matches!(dict.get(b"ImageMask"), Ok(Object::Boolean(true)));
    let colour = if is_mask {
        Colour::Grey
    } else {
        dict.get(b"ColorSpace")
            .ok()
            .map_or(Colour::Grey, |cs| colour_of(doc, cs, 0))
    };
    let invert = match dict.get(b"Decode").and_then(Object::as_array) {
        Ok(decode) => decode
            .first()
            .and_then(|o| o.as_float().ok())
            .is_some_and(|first| first > 0.5),
        Err(_) => false,
    };
    PageImage::Stream {
        stream: Box::new(stream.clone()),
        colour,
        invert,
        is_mask,
    }
}

fn colour_of(doc: &Document, cs: &Object, depth: usize) -> Colour {
    let Ok((_, cs)) = doc.dereference(cs) else {
        return Colour::Unknown;
    };
    if depth > 4 {
        return Colour::Unknown;
    }
    match cs {
        Object::Name(name) => match name.as_slice() {
            b"DeviceGray" | b"CalGray" | b"G" => Colour::Grey,
            b"DeviceRGB" | b"CalRGB" | b"RGB" => Colour::Rgb,
            b"DeviceCMYK" | b"CMYK" => Colour::Cmyk,
            _ => Colour::Unknown,
        },
        Object::Array(parts) => {
            let family = parts.first().and_then(|o| o.as_name().ok());
            match family {
                Some(b"ICCBased") => {
                    let n = parts
                        .get(1)
                        .and_then(|o| doc.dereference(o).ok())
                        .and_then(|(_, o)| o.as_stream().ok())
                        .and_then(|s| s.dict.get(b"N").and_then(Object::as_i64).ok());
                    match n {
                        Some(1) => Colour::Grey,
                        Some(3) => Colour::Rgb,
                        Some(4) => Colour::Cmyk,
                        _ => Colour::Unknown,
                    }
                }
                Some(b"CalGray") => Colour::Grey,
                Some(b"CalRGB") | Some(b"Lab") => Colour::Rgb,
                Some(b"Indexed" | b"I") => {
                    let base = parts
                        .get(1)
                        .map_or(Colour::Unknown, |b| colour_of(doc, b, depth + 1));
                    let lookup = parts.get(3).and_then(|o| doc.dereference(o).ok()).and_then(
                        |(_, o)| match o {
                            Object::String(bytes, _) => Some(bytes.clone()),
                            Object::Stream(s) => s
                                .decompressed_content_with_limit(4 * 256 * 4)
                                .ok()
                                .or_else(|| Some(s.content.clone())),
                            _ => None,
                        },
                    );
                    match (base.components(), lookup) {
                        (Some(components), Some(palette)) => Colour::Indexed {
                            components,
                            palette,
                        },
                        _ => Colour::Unknown,
                    }
                }
                Some(b"Separation" | b"DeviceN") => Colour::Grey,
                _ => Colour::Unknown,
            }
        }
        _ => Colour::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_garbled_pages_need_ocr() {
        assert!(needs_ocr(""));
        assert!(needs_ocr("  \n \u{c} "));
        assert!(needs_ocr("\u{FFFD}\u{FFFD}\u{FFFD} a"));
        assert!(needs_ocr("\u{E001}\u{E002}\u{E003}\u{E004}ab"));
        assert!(!needs_ocr("Dear Sir, a letter of claim."));
        assert!(!needs_ocr(
            "Caf\u{FFFD} au lait and a long sentence after it"
        ));
    }
}
