//! PDF fonts for text extraction: how a font's codes split a string, what Unicode text
//! each code stands for, and how far each glyph advances.
//!
//! Unicode comes from, in order: the font's ToUnicode CMap (verbatim, as pdftotext
//! keeps it); for simple fonts, the encoding (base encoding plus `/Differences`) through
//! the Adobe Glyph List, with ligature glyphs spelt out; for composite fonts on a
//! predefined CJK CMap, the CMap's legacy character set.

use std::collections::HashMap;

use lopdf::{Dictionary, Document, Object};
use pdf_encoding::{Encoding as BaseEncoding, glyphname_to_unicode};

use super::base14;
use super::cmap::{CMap, Predefined};
use super::collections::Collection;
use crate::text::expand_ligature;

/// The largest stream a font may make us decode (ToUnicode, CMaps).
const MAX_FONT_STREAM: usize = 8 * 1024 * 1024;

/// Text for a glyph name: the Adobe Glyph List, `uniXXXX`, `uXXXX[XX]`, `a_b`
/// ligature names and `.suffix` variants.
pub fn glyph_to_unicode(name: &str) -> Option<String> {
    if let Some(text) = glyphname_to_unicode(name) {
        return Some(expand_ligature(text));
    }
    let base = name.split('.').next().unwrap_or(name);
    if base != name && !base.is_empty() {
        return glyph_to_unicode(base);
    }
    if base.contains('_') {
        let parts: Option<Vec<String>> = base.split('_').map(glyph_to_unicode).collect();
        return parts.map(|p| p.concat());
    }
    if let Some(hex) = base.strip_prefix("uni")
        && hex.len() >= 4
        && hex.len() % 4 == 0
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        let units: Vec<u16> = hex
            .as_bytes()
            .chunks(4)
            .filter_map(|c| u16::from_str_radix(std::str::from_utf8(c).ok()?, 16).ok())
            .collect();
        return Some(String::from_utf16_lossy(&units));
    }
    if let Some(hex) = base.strip_prefix('u')
        && (4..=6).contains(&hex.len())
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return u32::from_str_radix(hex, 16)
            .ok()
            .and_then(char::from_u32)
            .map(String::from);
    }
    None
}

#[derive(Debug, Clone)]
enum Kind {
    /// One byte a code; Unicode and glyph names by code.
    Simple {
        text: Box<[Option<Box<str>>]>,
        widths: Box<[f64]>,
    },
    /// Type0: codes split by a CMap, widths by CID.
    Composite {
        predefined: Option<Predefined>,
        encoding: Option<Box<CMap>>,
        widths: HashMap<u32, f64>,
        default_width: f64,
        /// Text by CID from the embedded CFF's glyph names (identity CID-to-GID).
        glyph_text: Option<HashMap<u32, String>>,
        /// Adobe's CID-to-Unicode table for the font's character collection.
        collection: Option<Collection>,
    },
}

/// A font as text extraction needs it.
#[derive(Debug, Clone)]
pub struct Font {
    kind: Kind,
    to_unicode: Option<CMap>,
    /// Glyph space to text space (0.001, or a Type3 font's matrix).
    scale: f64,
    em: f64,
    pub vertical: bool,
}

/// One code read from a string.
#[derive(Debug)]
pub struct Code<'a> {
    pub text: std::borrow::Cow<'a, str>,
    /// The advance in text space units, before font size and spacing.
    pub width: f64,
    /// A single-byte code 32, which takes the word spacing.
    pub word_space: bool,
}

fn number(doc: &Document, obj: &Object) -> Option<f64> {
    match doc.dereference(obj).ok()?.1 {
        Object::Integer(i) => Some(*i as f64),
        Object::Real(r) => Some(f64::from(*r)),
        _ => None,
    }
}

fn deref_dict<'a>(doc: &'a Document, dict: &'a Dictionary, key: &[u8]) -> Option<&'a Dictionary> {
    let obj = dict.get(key).ok()?;
    doc.dereference(obj).ok()?.1.as_dict().ok()
}

fn name_of(doc: &Document, dict: &Dictionary, key: &[u8]) -> Option<String> {
    let obj = dict.get(key).ok()?;
    let obj = doc.dereference(obj).ok()?.1;
    obj.as_name()
        .ok()
        .map(|n| String::from_utf8_lossy(n).into_owned())
}

fn stream_bytes(doc: &Document, obj: &Object) -> Option<Vec<u8>> {
    let stream = doc.dereference(obj).ok()?.1.as_stream().ok()?;
    let content = stream.decompressed_content_with_limit(MAX_FONT_STREAM).ok();
    content.or_else(|| {
        // Unfiltered streams come back as they are.
        stream
            .dict
            .get(b"Filter")
            .is_err()
            .then(|| stream.content.clone())
    })
}

fn array<'a>(doc: &'a Document, dict: &'a Dictionary, key: &[u8]) -> Option<&'a Vec<Object>> {
    let obj = dict.get(key).ok()?;
    doc.dereference(obj).ok()?.1.as_array().ok()
}

fn base_encoding(name: &str) -> Option<BaseEncoding> {
    match name {
        "WinAnsiEncoding" => Some(BaseEncoding::WinAnsiEncoding),
        "MacRomanEncoding" => Some(BaseEncoding::MacRomanEncoding),
        "StandardEncoding" => Some(BaseEncoding::AdobeStandard),
        "MacExpertEncoding" => Some(BaseEncoding::AdobeExpert),
        _ => None,
    }
}

/// The bytes of an embedded font program (`FontFile`: Type 1; `FontFile3`: CFF).
fn font_program(doc: &Document, descriptor: &Dictionary, key: &[u8]) -> Option<Vec<u8>> {
    stream_bytes(doc, descriptor.get(key).ok()?)
}

/// The bytes of an embedded CFF font program (`/FontFile3`, Type1C or CIDFontType0C).
fn cff_program(doc: &Document, descriptor: &Dictionary) -> Option<Vec<u8>> {
    font_program(doc, descriptor, b"FontFile3")
}

/// Text for each code of a simple CFF font, through its built-in encoding and glyph names.
fn cff_builtin(doc: &Document, dict: &Dictionary) -> Option<Vec<(u8, String)>> {
    let descriptor = deref_dict(doc, dict, b"FontDescriptor")?;
    let bytes = cff_program(doc, descriptor)?;
    let table = ttf_parser::cff::Table::parse(&bytes)?;
    let entries: Vec<(u8, String)> = (0..=255u8)
        .filter_map(|code| {
            let gid = table.glyph_index(code)?;
            if gid.0 == 0 {
                return None;
            }
            Some((code, table.glyph_name(gid)?.to_owned()))
        })
        .collect();
    (!entries.is_empty()).then_some(entries)
}

/// Text for glyph ids of a composite font's CFF program, by glyph name (where a
/// ToUnicode map is missing or incomplete).
fn cff_gid_text(doc: &Document, cid_font: &Dictionary) -> Option<HashMap<u32, String>> {
    let descriptor = deref_dict(doc, cid_font, b"FontDescriptor")?;
    let bytes = cff_program(doc, descriptor)?;
    let table = ttf_parser::cff::Table::parse(&bytes)?;
    let mut map = HashMap::new();
    for gid in 1..table.number_of_glyphs() {
        if let Some(text) = table
            .glyph_name(ttf_parser::GlyphId(gid))
            .and_then(glyph_to_unicode)
        {
            map.insert(u32::from(gid), text);
        }
    }
    (!map.is_empty()).then_some(map)
}

/// The built-in encoding of an embedded Type 1 font program (`dup 58 /period put`),
/// read from its clear-text part.
fn descriptor_builtin(doc: &Document, dict: &Dictionary) -> Option<Vec<(u8, String)>> {
    let descriptor = deref_dict(doc, dict, b"FontDescriptor")?;
    let bytes = font_program(doc, descriptor, b"FontFile")?;
    let clear = match memchr::memmem::find(&bytes, b"eexec") {
        Some(end) => &bytes[..end],
        None => &bytes[..bytes.len().min(64 * 1024)],
    };
    let text = String::from_utf8_lossy(clear);
    if !text.contains("/Encoding") || text.contains("/Encoding StandardEncoding def") {
        return None;
    }
    let mut entries = Vec::new();
    let mut words = text.split_whitespace().peekable();
    while let Some(word) = words.next() {
        if word != "dup" {
            continue;
        }
        let Some(code) = words.peek().and_then(|w| w.parse::<u8>().ok()) else {
            continue;
        };
        words.next();
        let Some(name) = words.peek().and_then(|w| w.strip_prefix('/')) else {
            continue;
        };
        entries.push((code, name.to_owned()));
        words.next();
    }
    (!entries.is_empty()).then_some(entries)
}

impl Font {
    /// A stand-in for a missing or unreadable font: Latin-1 codes, half-em advance.
    pub fn fallback() -> Font {
        let text: Vec<Option<Box<str>>> = (0..=255u8)
            .map(|b| {
                let c = b as char;
                (!c.is_control()).then(|| c.to_string().into_boxed_str())
            })
            .collect();
        Font {
            kind: Kind::Simple {
                text: text.into_boxed_slice(),
                widths: vec![500.0; 256].into_boxed_slice(),
            },
            to_unicode: None,
            scale: 0.001,
            em: 1.0,
            vertical: false,
        }
    }

    /// Helvetica with WinAnsi codes and Adobe's widths, for text postroom draws itself
    /// (form field values).
    pub fn helvetica() -> Font {
        let metrics = base14::metrics_for("Helvetica");
        let map = BaseEncoding::WinAnsiEncoding.forward_map();
        let mut text: Vec<Option<Box<str>>> = vec![None; 256];
        let mut widths = vec![556.0; 256];
        for code in 0..=255u8 {
            if let Some(c) = map
                .and_then(|m| m.get(code))
                .or_else(|| (code >= 0xA0).then(|| char::from(code)))
            {
                let t = c.to_string();
                widths[code as usize] = metrics.and_then(|m| m.width_of(&t)).unwrap_or(556.0);
                text[code as usize] = Some(t.into_boxed_str());
            }
        }
        Font {
            kind: Kind::Simple {
                text: text.into_boxed_slice(),
                widths: widths.into_boxed_slice(),
            },
            to_unicode: None,
            scale: 0.001,
            em: 1.0,
            vertical: false,
        }
    }

    /// Reads a font dictionary. Never fails: what cannot be read falls back.
    pub fn load(doc: &Document, dict: &Dictionary) -> Font {
        let subtype = name_of(doc, dict, b"Subtype").unwrap_or_default();
        let to_unicode = dict
            .get(b"ToUnicode")
            .ok()
            .and_then(|obj| stream_bytes(doc, obj))
            .map(|bytes| CMap::parse(&bytes))
            .filter(|cmap| !cmap.is_empty());
        if subtype == "Type0" {
            return Self::load_composite(doc, dict, to_unicode);
        }
        let scale = if subtype == "Type3" {
            array(doc, dict, b"FontMatrix")
                .and_then(|m| m.first())
                .and_then(|a| number(doc, a))
                .filter(|a| a.is_finite() && *a != 0.0)
                .map_or(0.001, f64::abs)
        } else {
            0.001
        };
        let em = if subtype == "Type3" {
            let d = array(doc, dict, b"FontMatrix")
                .and_then(|m| m.get(3))
                .and_then(|v| number(doc, v))
                .unwrap_or(0.001);
            array(doc, dict, b"FontBBox")
                .filter(|b| b.len() == 4)
                .and_then(|b| Some((number(doc, &b[3])? - number(doc, &b[1])?).abs() * d.abs()))
                .filter(|h| h.is_finite() && *h > 0.01 && *h < 100.0)
                .unwrap_or(1.0)
        } else {
            1.0
        };
        let base_font = name_of(doc, dict, b"BaseFont").unwrap_or_default();
        let base_name = base_font
            .split('+')
            .next_back()
            .unwrap_or(&base_font)
            .to_owned();
        let metrics = base14::metrics_for(&base_name);

        // Encoding: a name, or a dictionary with a base and differences.
        let mut base = match metrics.map(|m| m.builtin) {
            Some(Some(builtin)) => builtin,
            _ => BaseEncoding::AdobeStandard,
        };
        let mut differences: Vec<(u8, String)> = Vec::new();
        let mut declared = false;
        if let Ok(obj) = dict.get(b"Encoding")
            && let Ok((_, obj)) = doc.dereference(obj)
        {
            match obj {
                Object::Name(n) => {
                    if let Some(e) = base_encoding(&String::from_utf8_lossy(n)) {
                        base = e;
                        declared = true;
                    }
                }
                Object::Dictionary(enc) => {
                    if let Some(e) = name_of(doc, enc, b"BaseEncoding")
                        .as_deref()
                        .and_then(base_encoding)
                    {
                        base = e;
                        declared = true;
                    }
                    if let Some(diffs) = array(doc, enc, b"Differences") {
                        let mut code: i64 = 0;
                        for item in diffs {
                            match doc.dereference(item).map(|(_, o)| o) {
                                Ok(Object::Integer(n)) => code = *n,
                                Ok(Object::Name(name)) => {
                                    if (0..=255).contains(&code) {
                                        differences.push((
                                            code as u8,
                                            String::from_utf8_lossy(name).into_owned(),
                                        ));
                                    }
                                    code += 1;
                                }
                                _ => {}
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        let symbolic_builtin = metrics.and_then(|m| m.builtin).is_some();
        if !declared && subtype == "TrueType" && !symbolic_builtin {
            // As poppler reads it: a TrueType font without an encoding is WinAnsi.
            base = BaseEncoding::WinAnsiEncoding;
        }
        let mut text: Vec<Option<Box<str>>> = vec![None; 256];
        let map = base.forward_map();
        for code in 0..=255u8 {
            if let Some(c) = map.and_then(|m| m.get(code)) {
                // pdf_encoding's StandardEncoding gives `space` as U+00A0 and `hyphen` as
                // U+00AD; the glyph list (and poppler) read them as U+0020 and U+002D, and
                // the standard 14 fonts' widths are by those names.
                let c = match (code, c) {
                    (0x20, '\u{a0}') => ' ',
                    (0x2D, '\u{ad}') => '-',
                    _ => c,
                };
                text[code as usize] = Some(expand_ligature(&c.to_string()).into_boxed_str());
            } else if !declared && !symbolic_builtin && (0x20..0x7F).contains(&code) {
                // No usable encoding: subset fonts often use ASCII codes.
                text[code as usize] = Some((code as char).to_string().into_boxed_str());
            }
        }
        if !declared
            && let Some(builtin) = descriptor_builtin(doc, dict).or_else(|| cff_builtin(doc, dict))
        {
            // An embedded Type 1 program's own encoding is the base.
            for (code, name) in builtin {
                if let Some(t) = glyph_to_unicode(&name) {
                    text[code as usize] = Some(t.into_boxed_str());
                }
            }
        }
        // Type 3 glyph names by code, for the font size guess below.
        let mut names: Vec<Option<String>> = vec![None; 256];
        if subtype == "Type3" {
            for (code, name) in &differences {
                names[*code as usize] = Some(name.clone());
            }
        }
        for (code, name) in differences {
            // Names outside the glyph list (`a65`, `g43`, `cid12`) stand, as poppler
            // reads them, for the code itself. A control code (TeX's quotes at 0x10 and
            // 0x11) is kept so that the glyph holds its place in its word; the layout
            // writes nothing for it.
            let stands_for_code = code != 0x7F && (code >= 0x20 || name != ".notdef");
            text[code as usize] = glyph_to_unicode(&name)
                .or_else(|| stands_for_code.then(|| char::from(code).to_string()))
                .map(String::into_boxed_str);
        }

        // Widths: the font's own, else the descriptor's missing width, else base-14
        // metrics by glyph name, else half an em.
        let descriptor = deref_dict(doc, dict, b"FontDescriptor");
        let missing = descriptor
            .and_then(|d| d.get(b"MissingWidth").ok())
            .and_then(|o| number(doc, o));
        let first = dict
            .get(b"FirstChar")
            .ok()
            .and_then(|o| number(doc, o))
            .unwrap_or(0.0) as i64;
        let declared_widths = array(doc, dict, b"Widths");
        let mut widths = vec![f64::NAN; 256];
        if let Some(ws) = declared_widths {
            for (i, w) in ws.iter().enumerate() {
                let code = first + i as i64;
                if (0..256).contains(&code)
                    && let Some(w) = number(doc, w)
                {
                    widths[code as usize] = w;
                }
            }
        }
        for code in 0..256usize {
            if widths[code].is_nan() || (declared_widths.is_none() && widths[code] == 0.0) {
                let by_name = metrics.and_then(|m| {
                    let t = text[code].as_deref()?;
                    // A ligature was expanded to its letters: its width is the ligature's.
                    let ligature = match t {
                        "ff" => Some("\u{fb00}"),
                        "fi" => Some("\u{fb01}"),
                        "fl" => Some("\u{fb02}"),
                        "ffi" => Some("\u{fb03}"),
                        "ffl" => Some("\u{fb04}"),
                        _ => None,
                    };
                    ligature
                        .and_then(|l| m.width_of(l))
                        .or_else(|| m.width_of(t))
                });
                widths[code] = by_name
                    .or(missing.filter(|_| declared_widths.is_some()))
                    .or(metrics.map(|m| m.default_width))
                    .or(missing)
                    .unwrap_or(500.0);
            }
        }
        let em = if subtype == "Type3" {
            type3_em(doc, dict, &names, &widths, scale).unwrap_or(em)
        } else {
            em
        };
        Font {
            kind: Kind::Simple {
                text: text.into_boxed_slice(),
                widths: widths.into_boxed_slice(),
            },
            to_unicode,
            scale,
            em,
            vertical: false,
        }
    }

    fn load_composite(doc: &Document, dict: &Dictionary, to_unicode: Option<CMap>) -> Font {
        let mut predefined = None;
        let mut encoding = None;
        let mut vertical = false;
        if let Ok(obj) = dict.get(b"Encoding")
            && let Ok((_, obj)) = doc.dereference(obj)
        {
            match obj {
                Object::Name(n) => {
                    let name = String::from_utf8_lossy(n);
                    vertical = name.ends_with("-V");
                    predefined = Predefined::from_name(&name);
                }
                Object::Stream(_) => {
                    if let Some(bytes) = stream_bytes(doc, obj) {
                        let cmap = CMap::parse(&bytes);
                        if cmap.has_code_space() {
                            encoding = Some(Box::new(cmap));
                        }
                    }
                }
                _ => {}
            }
        }
        let descendant = array(doc, dict, b"DescendantFonts")
            .and_then(|a| a.first())
            .and_then(|o| doc.dereference(o).ok())
            .and_then(|(_, o)| o.as_dict().ok());
        let mut widths = HashMap::new();
        let mut default_width = 1000.0;
        if let Some(cid_font) = descendant {
            if let Some(dw) = cid_font.get(b"DW").ok().and_then(|o| number(doc, o)) {
                default_width = dw;
            }
            if let Some(w) = array(doc, cid_font, b"W") {
                let mut i = 0;
                while i < w.len() && widths.len() < 100_000 {
                    let Some(start) = number(doc, &w[i]) else {
                        break;
                    };
                    let start = start.max(0.0) as u32;
                    match w.get(i + 1).map(|o| doc.dereference(o).map(|(_, o)| o)) {
                        Some(Ok(Object::Array(list))) => {
                            for (n, item) in list.iter().enumerate() {
                                if let Some(width) = number(doc, item) {
                                    widths.insert(start + n as u32, width);
                                }
                            }
                            i += 2;
                        }
                        Some(Ok(_)) => {
                            let end = number(doc, &w[i + 1]).unwrap_or(0.0).max(0.0) as u32;
                            let width = w
                                .get(i + 2)
                                .and_then(|o| number(doc, o))
                                .unwrap_or(default_width);
                            if end >= start && end - start < 65_536 {
                                for cid in start..=end {
                                    widths.insert(cid, width);
                                }
                            }
                            i += 3;
                        }
                        _ => break,
                    }
                }
            }
        }
        if predefined.is_none() && encoding.is_none() {
            predefined = Some(Predefined::Identity);
        }
        let glyph_text = descendant.and_then(|f| cff_gid_text(doc, f));
        let collection = descendant
            .and_then(|f| deref_dict(doc, f, b"CIDSystemInfo"))
            .and_then(|info| info.get(b"Ordering").ok())
            .and_then(|o| doc.dereference(o).ok())
            .and_then(|(_, o)| o.as_str().ok())
            .and_then(|o| Collection::for_ordering(&String::from_utf8_lossy(o)));
        Font {
            kind: Kind::Composite {
                predefined,
                encoding,
                widths,
                default_width,
                glyph_text,
                collection,
            },
            to_unicode,
            scale: 0.001,
            em: 1.0,
            vertical,
        }
    }

    /// How tall glyphs are relative to the font size: 1, but for Type 3 fonts the
    /// height of the font's bounding box through its matrix.
    pub fn em_scale(&self) -> f64 {
        self.em
    }

    /// Splits a shown string into codes and calls `each` for every one.
    pub fn decode(&self, bytes: &[u8], mut each: impl FnMut(Code<'_>)) {
        match &self.kind {
            Kind::Simple { text, widths, .. } => {
                for &b in bytes {
                    let t = self
                        .to_unicode
                        .as_ref()
                        .and_then(|cmap| {
                            cmap.unicode(1, u32::from(b))
                                .or_else(|| cmap.unicode_any_len(u32::from(b)))
                        })
                        .map(|s| std::borrow::Cow::Owned(expand_ligature(s)))
                        .or_else(|| text[b as usize].as_deref().map(std::borrow::Cow::Borrowed))
                        .unwrap_or(std::borrow::Cow::Borrowed(""));
                    each(Code {
                        text: t,
                        width: widths[b as usize] * self.scale,
                        word_space: b == 32,
                    });
                }
            }
            Kind::Composite {
                predefined,
                encoding,
                widths,
                default_width,
                glyph_text,
                collection,
            } => {
                let mut i = 0;
                while i < bytes.len() {
                    let rest = &bytes[i..];
                    let len = match (encoding, predefined) {
                        (Some(cmap), _) => cmap.code_len(rest).unwrap_or(2),
                        (None, Some(p)) => p.code_len(rest),
                        (None, None) => 2,
                    }
                    .clamp(1, 4)
                    .min(rest.len());
                    let code_bytes = &rest[..len];
                    let code = code_bytes
                        .iter()
                        .fold(0u32, |acc, b| acc << 8 | u32::from(*b));
                    let cid = match (encoding, predefined) {
                        (Some(cmap), _) => cmap.cid(code).unwrap_or(code),
                        _ => code,
                    };
                    let text = self
                        .to_unicode
                        .as_ref()
                        .and_then(|cmap| cmap.unicode(len, code))
                        .map(std::borrow::Cow::Borrowed)
                        .or_else(|| {
                            predefined
                                .and_then(|p| p.decode(code_bytes))
                                .map(std::borrow::Cow::Owned)
                        })
                        .or_else(|| {
                            glyph_text
                                .as_ref()
                                .and_then(|m| m.get(&cid))
                                .map(|t| std::borrow::Cow::Owned(expand_ligature(t)))
                        })
                        .or_else(|| {
                            collection
                                .and_then(|c| c.unicode(cid))
                                .map(|c| std::borrow::Cow::Owned(c.to_string()))
                        })
                        .unwrap_or(std::borrow::Cow::Borrowed(""));
                    let width = widths.get(&cid).copied().unwrap_or(*default_width);
                    each(Code {
                        text,
                        width: width * self.scale,
                        word_space: len == 1 && code == 32,
                    });
                    i += len;
                }
            }
        }
    }
}

/// poppler's guess at a Type 3 font's size (TextOutputDev's `updateFont`): nothing says
/// what glyph space means, so the width of `m` is taken as 0.6 em (else a letter's, or
/// any glyph's, as 0.5 em), times the matrix's aspect. pdftotext's words and lines
/// follow from that size, so ours do too.
fn type3_em(
    doc: &Document,
    dict: &Dictionary,
    names: &[Option<String>],
    widths: &[f64],
    scale: f64,
) -> Option<f64> {
    let matrix = array(doc, dict, b"FontMatrix")?;
    let a = number(doc, matrix.first()?)?;
    let d = number(doc, matrix.get(3)?)?;
    let one_char = |n: &str| {
        let mut chars = n.chars();
        chars.next().filter(|_| chars.next().is_none())
    };
    let width = |code: usize| widths[code] * scale;
    let m = (0..256).find(|&c| names[c].as_deref().and_then(one_char) == Some('m'));
    let letter = (0..256).find(|&c| {
        names[c]
            .as_deref()
            .and_then(one_char)
            .is_some_and(|ch| ch.is_ascii_alphabetic())
    });
    let any = (0..256).find(|&c| names[c].is_some() && width(c) > 0.0);
    let mut em = m
        .filter(|&c| width(c) > 0.0)
        .map(|c| width(c) / 0.6)
        .or_else(|| letter.filter(|&c| width(c) > 0.0).map(|c| width(c) / 0.5))
        .or_else(|| any.map(|c| width(c) / 0.5))
        .unwrap_or(1.0);
    if a != 0.0 {
        em *= (d / a).abs();
    }
    (em.is_finite() && em > 1e-4 && em < 1e4).then_some(em)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glyph_names_become_text() {
        assert_eq!(glyph_to_unicode("A").as_deref(), Some("A"));
        assert_eq!(glyph_to_unicode("fi").as_deref(), Some("fi"));
        assert_eq!(glyph_to_unicode("uni0141").as_deref(), Some("Ł"));
        assert_eq!(glyph_to_unicode("u1F600").as_deref(), Some("😀"));
        assert_eq!(glyph_to_unicode("f_f_i").as_deref(), Some("ffi"));
        assert_eq!(glyph_to_unicode("a.sc").as_deref(), Some("a"));
        assert_eq!(glyph_to_unicode("g123"), None);
    }
}
