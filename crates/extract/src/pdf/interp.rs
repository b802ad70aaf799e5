//! The content-stream interpreter: runs a page's text and graphics-state operators and
//! emits every shown glyph with its position, size and direction.

use std::collections::HashMap;
use std::rc::Rc;

use lopdf::{Dictionary, Document, Object, ObjectId};

use super::content::{Lexer, Operand};
use super::font::Font;
use crate::limits::Budget;

/// A 2-D affine matrix `[a b c d e f]`, as PDF writes them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Matrix([f64; 6]);

impl Matrix {
    pub const IDENTITY: Matrix = Matrix([1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);

    /// `self` then `other`.
    pub fn then(&self, other: &Matrix) -> Matrix {
        let [a, b, c, d, e, f] = self.0;
        let [a2, b2, c2, d2, e2, f2] = other.0;
        Matrix([
            a * a2 + b * c2,
            a * b2 + b * d2,
            c * a2 + d * c2,
            c * b2 + d * d2,
            e * a2 + f * c2 + e2,
            e * b2 + f * d2 + f2,
        ])
    }

    pub fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        let [a, b, c, d, e, f] = self.0;
        (a * x + c * y + e, b * x + d * y + f)
    }

    fn translate(tx: f64, ty: f64) -> Matrix {
        Matrix([1.0, 0.0, 0.0, 1.0, tx, ty])
    }

    fn from_content(ops: &[Operand]) -> Option<Matrix> {
        if ops.len() < 6 {
            return None;
        }
        let mut m = [0.0; 6];
        for (i, o) in ops[ops.len() - 6..].iter().enumerate() {
            m[i] = o.number()?;
        }
        m.iter().all(|v| v.is_finite()).then_some(Matrix(m))
    }

    fn from_operands(ops: &[Object]) -> Option<Matrix> {
        if ops.len() < 6 {
            return None;
        }
        let mut m = [0.0; 6];
        for (i, o) in ops.iter().take(6).enumerate() {
            m[i] = num(o)?;
        }
        m.iter().all(|v| v.is_finite()).then_some(Matrix(m))
    }
}

fn num(o: &Object) -> Option<f64> {
    match o {
        Object::Integer(i) => Some(*i as f64),
        Object::Real(r) => Some(f64::from(*r)),
        _ => None,
    }
}

fn rect_of(values: &[Object]) -> Option<[f64; 4]> {
    if values.len() < 4 {
        return None;
    }
    let v: Vec<f64> = values.iter().take(4).filter_map(num).collect();
    (v.len() == 4 && v.iter().all(|x| x.is_finite())).then(|| {
        [
            v[0].min(v[2]),
            v[1].min(v[3]),
            v[0].max(v[2]),
            v[1].max(v[3]),
        ]
    })
}

/// A field attribute, looked up on the widget and then up its field's parents.
fn inherited<'d>(doc: &'d Document, annot: &'d Dictionary, key: &[u8]) -> Option<&'d Object> {
    let mut node = annot;
    for _ in 0..16 {
        if let Ok(value) = node.get(key) {
            return doc.dereference(value).ok().map(|(_, o)| o);
        }
        node = doc
            .dereference(node.get(b"Parent").ok()?)
            .ok()?
            .1
            .as_dict()
            .ok()?;
    }
    None
}

/// The text value of a text or choice field's widget, if it has one.
fn field_value(doc: &Document, annot: &Dictionary) -> Option<String> {
    if annot.get(b"Subtype").and_then(Object::as_name).ok()? != b"Widget" {
        return None;
    }
    let kind = inherited(doc, annot, b"FT")?.as_name().ok()?;
    if kind != b"Tx" && kind != b"Ch" {
        return None;
    }
    let flags = inherited(doc, annot, b"Ff").and_then(num).unwrap_or(0.0) as i64;
    if kind == b"Ch" && flags & (1 << 17) == 0 {
        // A list box shows its options (from /TI on), one per line, as poppler draws it.
        if let Some(Object::Array(options)) = inherited(doc, annot, b"Opt") {
            let top = inherited(doc, annot, b"TI")
                .and_then(num)
                .unwrap_or(0.0)
                .max(0.0) as usize;
            let lines: Vec<String> = options
                .iter()
                .skip(top)
                .take(1_000)
                .filter_map(|o| {
                    let o = doc.dereference(o).ok()?.1;
                    let shown = match o {
                        Object::Array(pair) => doc.dereference(pair.get(1)?).ok()?.1,
                        other => other,
                    };
                    Some(text_string(shown.as_str().ok()?))
                })
                .collect();
            let joined = lines.join("\n");
            return (!joined.trim().is_empty()).then_some(joined);
        }
    }
    let value = match inherited(doc, annot, b"V")? {
        Object::String(bytes, _) => {
            lopdf::decode_text_string(&Object::String(bytes.clone(), lopdf::StringFormat::Literal))
                .ok()?
        }
        Object::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().ok())
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect::<Vec<_>>()
            .join(", "),
        _ => return None,
    };
    (!value.trim().is_empty()).then_some(value)
}

/// A PDF text string: UTF-16BE (with its byte order mark), UTF-8 (with its mark), or
/// PDFDocEncoding.
fn text_string(bytes: &[u8]) -> String {
    lopdf::decode_text_string(&Object::String(
        bytes.to_vec(),
        lopdf::StringFormat::Literal,
    ))
    .unwrap_or_else(|_| bytes.iter().map(|&b| char::from(b)).collect())
}

/// How deep marked content is followed (deeper `BDC`s are ignored, and so is their EMC
/// pairing: only ActualText depends on it).
const MAX_MARKED_DEPTH: usize = 256;

impl PageGlyphs {
    /// Replaces the glyphs drawn inside an ActualText span (from `first` on) by its text,
    /// as one glyph over their extent, as poppler does; a span that drew nothing adds
    /// nothing, and an empty ActualText removes what it covered.
    fn replace_with_actual_text(&mut self, first: usize, text: &str) {
        let (Some(&head), Some(&tail)) = (self.glyphs.get(first), self.glyphs.last()) else {
            return;
        };
        self.glyphs.truncate(first);
        self.text.truncate(head.start as usize);
        let text = text.trim_matches(char::is_control);
        if text.is_empty() {
            return;
        }
        let start = self.text.len() as u32;
        self.text.push_str(text);
        self.glyphs.push(Glyph {
            x1: tail.x1.max(head.x0),
            start,
            end: self.text.len() as u32,
            ..head
        });
    }
}

/// Latin-1 bytes for a string (characters outside it become `?`).
fn encode_latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

/// The page's media box, inherited through the page tree. (pdftotext drops text outside
/// the media box; the crop box only with `-cropbox`.)
/// A page's resource dictionaries: its own, then those it inherits, nearest first.
pub(super) fn page_resources(doc: &Document, page_id: ObjectId) -> Vec<&Dictionary> {
    let mut resources: Vec<&Dictionary> = Vec::new();
    if let Ok((own, inherited)) = doc.get_page_resources(page_id) {
        resources.extend(own);
        for id in inherited {
            if let Ok(d) = doc.get_dictionary(id) {
                resources.push(d);
            }
        }
    }
    resources
}

pub(super) fn page_box(doc: &Document, page_id: ObjectId) -> Option<[f64; 4]> {
    let mut node = doc.get_dictionary(page_id).ok()?;
    for _ in 0..32 {
        if let Ok(obj) = node.get(b"MediaBox")
            && let Ok((_, Object::Array(values))) = doc.dereference(obj)
            && let Some(rect) = rect_of(values)
        {
            return Some(rect);
        }
        let parent = node.get(b"Parent").ok()?.as_reference().ok()?;
        node = doc.get_dictionary(parent).ok()?;
    }
    None
}

/// One shown glyph, in a frame where its line of text runs left to right.
#[derive(Debug, Clone, Copy)]
pub struct Glyph {
    pub x0: f32,
    pub x1: f32,
    /// Baseline; larger is higher on the page.
    pub y: f32,
    pub size: f32,
    /// 0: normal, 1: rotated 90° (upwards), 2: upside down, 3: rotated 270°.
    pub dir: u8,
    /// The glyph's text, as a range of `Page::text`.
    pub start: u32,
    pub end: u32,
}

/// What a page's content showed.
#[derive(Debug, Default)]
pub struct PageGlyphs {
    pub glyphs: Vec<Glyph>,
    pub text: String,
    /// An operator limit, the time budget or the nesting limit was hit.
    pub truncated: bool,
    /// A content stream could not be parsed.
    pub malformed: bool,
}

#[derive(Clone)]
struct GState {
    ctm: Matrix,
    font: Option<Rc<Font>>,
    size: f64,
    char_space: f64,
    word_space: f64,
    hscale: f64,
    leading: f64,
    rise: f64,
}

impl Default for GState {
    fn default() -> Self {
        GState {
            ctm: Matrix::IDENTITY,
            font: None,
            size: 0.0,
            char_space: 0.0,
            word_space: 0.0,
            hscale: 1.0,
            leading: 0.0,
            rise: 0.0,
        }
    }
}

/// Caches fonts across the pages of one document.
#[derive(Default)]
pub struct FontCache {
    by_id: HashMap<ObjectId, Rc<Font>>,
    by_addr: HashMap<usize, Rc<Font>>,
}

const MAX_FORM_DEPTH: usize = 12;
const MAX_GSTATE_DEPTH: usize = 256;

pub struct Interpreter<'a> {
    doc: &'a Document,
    fonts: &'a mut FontCache,
    budget: &'a Budget,
    out: PageGlyphs,
    ops_left: usize,
    stream_limit: usize,
    fallback: Rc<Font>,
    /// The page's media box in user space: glyphs outside it are not on the page.
    clip: Option<[f64; 4]>,
}

impl<'a> Interpreter<'a> {
    pub fn new(doc: &'a Document, fonts: &'a mut FontCache, budget: &'a Budget) -> Self {
        Interpreter {
            doc,
            fonts,
            budget,
            out: PageGlyphs::default(),
            ops_left: budget.limits.max_operators_per_page,
            stream_limit: budget.limits.max_stream_bytes,
            fallback: Rc::new(Font::fallback()),
            clip: None,
        }
    }

    /// Runs a page's content with its resources (own first, then inherited).
    pub fn run_page(mut self, page_id: ObjectId) -> PageGlyphs {
        let doc = self.doc;
        let content = match doc.get_page_content_with_limit(page_id, self.stream_limit) {
            Ok(c) => c,
            Err(lopdf::Error::Decompress(_)) => {
                self.out.truncated = true;
                return self.out;
            }
            Err(_) => {
                self.out.malformed = true;
                return self.out;
            }
        };
        let resources = page_resources(doc, page_id);
        self.clip = page_box(doc, page_id);
        let mut visiting = Vec::new();
        self.run(&content, &resources, GState::default(), 0, &mut visiting);
        self.run_annotations(page_id, &resources, &mut visiting);
        self.out
    }

    /// Draws the appearance streams of the page's visible annotations (form fields,
    /// free text, signatures), as a viewer and pdftotext do.
    fn run_annotations(
        &mut self,
        page_id: ObjectId,
        resources: &[&Dictionary],
        visiting: &mut Vec<ObjectId>,
    ) {
        let doc = self.doc;
        let Ok(page) = doc.get_dictionary(page_id) else {
            return;
        };
        let Ok(annots) = page
            .get(b"Annots")
            .and_then(|o| doc.dereference(o))
            .and_then(|(_, o)| o.as_array())
        else {
            return;
        };
        let need_appearances = doc
            .catalog()
            .ok()
            .and_then(|c| c.get(b"AcroForm").ok())
            .and_then(|o| doc.dereference(o).ok())
            .and_then(|(_, o)| o.as_dict().ok())
            .and_then(|f| f.get(b"NeedAppearances").ok())
            .is_some_and(|v| matches!(v, Object::Boolean(true)));
        for annot in annots.iter().take(2_000) {
            if self.budget.expired() {
                self.out.truncated = true;
                return;
            }
            let Ok(annot) = doc.dereference(annot).and_then(|(_, o)| o.as_dict()) else {
                continue;
            };
            let flags = annot.get(b"F").ok().and_then(num).unwrap_or(0.0) as i64;
            if flags & (2 | 32) != 0 {
                continue; // Hidden or NoView
            }
            if need_appearances && let Some(value) = field_value(doc, annot) {
                // The form asks viewers to draw fields from their values.
                self.draw_value(annot, &value);
                continue;
            }
            let Ok(normal) = annot
                .get(b"AP")
                .and_then(|o| doc.dereference(o))
                .and_then(|(_, o)| o.as_dict())
                .and_then(|ap| ap.get(b"N"))
            else {
                continue;
            };
            // One appearance, or one per state chosen by /AS.
            let id = match normal {
                Object::Reference(id) => match doc.get_object(*id) {
                    Ok(Object::Stream(_)) => *id,
                    Ok(Object::Dictionary(states)) => {
                        match annot.get(b"AS").and_then(Object::as_name) {
                            Ok(state) => match states.get(state) {
                                Ok(Object::Reference(id)) => *id,
                                _ => continue,
                            },
                            Err(_) => continue,
                        }
                    }
                    _ => continue,
                },
                Object::Dictionary(states) => match annot.get(b"AS").and_then(Object::as_name) {
                    Ok(state) => match states.get(state) {
                        Ok(Object::Reference(id)) => *id,
                        _ => continue,
                    },
                    Err(_) => continue,
                },
                _ => continue,
            };
            let Ok(stream) = doc.get_object(id).and_then(Object::as_stream) else {
                continue;
            };
            let rect = annot
                .get(b"Rect")
                .ok()
                .and_then(|o| doc.dereference(o).ok())
                .and_then(|(_, o)| o.as_array().ok())
                .and_then(|r| rect_of(r));
            let bbox = stream
                .dict
                .get(b"BBox")
                .ok()
                .and_then(|o| o.as_array().ok())
                .and_then(|r| rect_of(r));
            let matrix = match stream.dict.get(b"Matrix") {
                Ok(Object::Array(m)) => Matrix::from_operands(m).unwrap_or(Matrix::IDENTITY),
                _ => Matrix::IDENTITY,
            };
            let (Some(rect), Some(bbox)) = (rect, bbox) else {
                continue;
            };
            // Fit the transformed bounding box to the annotation's rectangle.
            let corners = [
                (bbox[0], bbox[1]),
                (bbox[2], bbox[1]),
                (bbox[0], bbox[3]),
                (bbox[2], bbox[3]),
            ]
            .map(|(x, y)| matrix.apply(x, y));
            let (tx0, tx1) = corners
                .iter()
                .fold((f64::MAX, f64::MIN), |(lo, hi), (x, _)| {
                    (lo.min(*x), hi.max(*x))
                });
            let (ty0, ty1) = corners
                .iter()
                .fold((f64::MAX, f64::MIN), |(lo, hi), (_, y)| {
                    (lo.min(*y), hi.max(*y))
                });
            let (w, h) = (tx1 - tx0, ty1 - ty0);
            let sx = if w.abs() > 1e-9 {
                (rect[2] - rect[0]) / w
            } else {
                1.0
            };
            let sy = if h.abs() > 1e-9 {
                (rect[3] - rect[1]) / h
            } else {
                1.0
            };
            let fit = Matrix([sx, 0.0, 0.0, sy, rect[0] - tx0 * sx, rect[1] - ty0 * sy]);
            let gs = GState {
                ctm: matrix.then(&fit),
                ..GState::default()
            };
            self.run_form(id, stream, gs, resources, 0, visiting);
        }
    }

    fn font(&mut self, resources: &[&Dictionary], name: &[u8]) -> Option<Rc<Font>> {
        let doc = self.doc;
        for res in resources {
            let Ok(fonts) = res
                .get(b"Font")
                .and_then(|o| doc.dereference(o))
                .and_then(|(_, o)| o.as_dict())
            else {
                continue;
            };
            let Ok(entry) = fonts.get(name) else { continue };
            if let Object::Reference(id) = entry {
                if let Some(font) = self.fonts.by_id.get(id) {
                    return Some(Rc::clone(font));
                }
                let dict = doc.get_dictionary(*id).ok()?;
                let font = Rc::new(Font::load(doc, dict));
                self.fonts.by_id.insert(*id, Rc::clone(&font));
                return Some(font);
            }
            let dict = entry.as_dict().ok()?;
            let addr = dict as *const Dictionary as usize;
            if let Some(font) = self.fonts.by_addr.get(&addr) {
                return Some(Rc::clone(font));
            }
            let font = Rc::new(Font::load(doc, dict));
            self.fonts.by_addr.insert(addr, Rc::clone(&font));
            return Some(font);
        }
        None
    }

    /// The ActualText of a property list named in the resources (`/P /MC0 BDC`).
    fn property_actual_text(&self, resources: &[&Dictionary], name: &[u8]) -> Option<String> {
        let doc = self.doc;
        resources.iter().find_map(|res| {
            let props = res
                .get(b"Properties")
                .and_then(|o| doc.dereference(o))
                .and_then(|(_, o)| o.as_dict())
                .ok()?;
            let list = props
                .get(name)
                .and_then(|o| doc.dereference(o))
                .and_then(|(_, o)| o.as_dict())
                .ok()?;
            match list.get(b"ActualText").and_then(|o| doc.dereference(o)) {
                Ok((_, Object::String(bytes, _))) => Some(text_string(bytes)),
                _ => None,
            }
        })
    }

    fn xobject(
        &self,
        resources: &[&Dictionary],
        name: &[u8],
    ) -> Option<(ObjectId, &'a lopdf::Stream)> {
        let doc = self.doc;
        for res in resources {
            let Ok(xobjects) = res
                .get(b"XObject")
                .and_then(|o| doc.dereference(o))
                .and_then(|(_, o)| o.as_dict())
            else {
                continue;
            };
            let Ok(Object::Reference(id)) = xobjects.get(name) else {
                continue;
            };
            let stream = doc.get_object(*id).ok()?.as_stream().ok()?;
            return Some((*id, stream));
        }
        None
    }

    fn run(
        &mut self,
        content: &[u8],
        resources: &[&Dictionary],
        initial: GState,
        depth: usize,
        visiting: &mut Vec<ObjectId>,
    ) {
        let mut lexer = Lexer::new(content);
        let mut gs = initial;
        let mut stack: Vec<GState> = Vec::new();
        let mut tm = Matrix::IDENTITY;
        let mut tlm = Matrix::IDENTITY;
        // Marked content open in this stream: each with its ActualText (and the first
        // glyph drawn inside it), if it has one.
        let mut marked: Vec<Option<(usize, String)>> = Vec::new();
        let mut n = 0usize;
        while let Some(operator) = lexer.next_op() {
            n += 1;
            if self.ops_left == 0 || (n.is_multiple_of(4096) && self.budget.expired()) {
                self.out.truncated = true;
                break;
            }
            self.ops_left -= 1;
            let args = lexer.operands.as_slice();
            match operator {
                b"q" if stack.len() < MAX_GSTATE_DEPTH => stack.push(gs.clone()),
                b"Q" => {
                    if let Some(saved) = stack.pop() {
                        gs = saved;
                    }
                }
                b"cm" => {
                    if let Some(m) = Matrix::from_content(args) {
                        gs.ctm = m.then(&gs.ctm);
                    }
                }
                b"BT" => {
                    tm = Matrix::IDENTITY;
                    tlm = Matrix::IDENTITY;
                }
                b"Tf" => {
                    if let (Some(Operand::Name(name)), Some(size)) =
                        (args.first(), args.get(1).and_then(Operand::number))
                    {
                        gs.font = self.font(resources, name);
                        gs.size = size;
                    }
                }
                b"Tc" => gs.char_space = args.first().and_then(Operand::number).unwrap_or(0.0),
                b"Tw" => gs.word_space = args.first().and_then(Operand::number).unwrap_or(0.0),
                b"Tz" => {
                    gs.hscale = args.first().and_then(Operand::number).unwrap_or(100.0) / 100.0
                }
                b"TL" => gs.leading = args.first().and_then(Operand::number).unwrap_or(0.0),
                b"Ts" => gs.rise = args.first().and_then(Operand::number).unwrap_or(0.0),
                b"Td" | b"TD" => {
                    let tx = args.first().and_then(Operand::number).unwrap_or(0.0);
                    let ty = args.get(1).and_then(Operand::number).unwrap_or(0.0);
                    if operator == b"TD" {
                        gs.leading = -ty;
                    }
                    tlm = Matrix::translate(tx, ty).then(&tlm);
                    tm = tlm;
                }
                b"Tm" => {
                    if let Some(m) = Matrix::from_content(args) {
                        tlm = m;
                        tm = m;
                    }
                }
                b"T*" => {
                    tlm = Matrix::translate(0.0, -gs.leading).then(&tlm);
                    tm = tlm;
                }
                b"Tj" => {
                    if let Some(Operand::Str(bytes)) = args.first() {
                        self.show(bytes, &gs, &mut tm);
                    }
                }
                b"'" => {
                    tlm = Matrix::translate(0.0, -gs.leading).then(&tlm);
                    tm = tlm;
                    if let Some(Operand::Str(bytes)) = args.first() {
                        self.show(bytes, &gs, &mut tm);
                    }
                }
                b"\"" => {
                    gs.word_space = args
                        .first()
                        .and_then(Operand::number)
                        .unwrap_or(gs.word_space);
                    gs.char_space = args
                        .get(1)
                        .and_then(Operand::number)
                        .unwrap_or(gs.char_space);
                    tlm = Matrix::translate(0.0, -gs.leading).then(&tlm);
                    tm = tlm;
                    if let Some(Operand::Str(bytes)) = args.get(2) {
                        self.show(bytes, &gs, &mut tm);
                    }
                }
                b"TJ" => {
                    if let Some(Operand::Array(items)) = args.first() {
                        for item in items {
                            match item {
                                Operand::Str(bytes) => self.show(bytes, &gs, &mut tm),
                                other => {
                                    if let Some(adjust) = other.number() {
                                        // Along the writing direction: up the page for
                                        // a vertical font, where w1 is negative.
                                        let shift = -adjust / 1000.0 * gs.size;
                                        let vertical = gs.font.as_ref().is_some_and(|f| f.vertical);
                                        tm = if vertical {
                                            Matrix::translate(0.0, shift)
                                        } else {
                                            Matrix::translate(shift * gs.hscale, 0.0)
                                        }
                                        .then(&tm);
                                    }
                                }
                            }
                        }
                    }
                }
                b"BMC" if marked.len() < MAX_MARKED_DEPTH => marked.push(None),
                b"BDC" if marked.len() < MAX_MARKED_DEPTH => {
                    let text = match (&lexer.actual_text, args.get(1)) {
                        (Some(bytes), _) => Some(text_string(bytes)),
                        (None, Some(Operand::Name(name))) => {
                            self.property_actual_text(resources, name)
                        }
                        _ => None,
                    };
                    let entry = text.map(|t| (self.out.glyphs.len(), t));
                    if entry.is_some() {
                        // As in poppler, the innermost ActualText wins.
                        marked.iter_mut().for_each(|m| *m = None);
                    }
                    marked.push(entry);
                }
                b"EMC" => {
                    if let Some(Some((first, text))) = marked.pop() {
                        self.out.replace_with_actual_text(first, &text);
                    }
                }
                b"Do" => {
                    let Some(Operand::Name(name)) = args.first() else {
                        continue;
                    };
                    let Some((id, stream)) = self.xobject(resources, name) else {
                        continue;
                    };
                    let is_form = stream
                        .dict
                        .get(b"Subtype")
                        .and_then(Object::as_name)
                        .is_ok_and(|s| s == b"Form");
                    if !is_form {
                        continue;
                    }
                    let form_gs = match stream.dict.get(b"Matrix") {
                        Ok(Object::Array(m)) => match Matrix::from_operands(m) {
                            Some(m) => GState {
                                ctm: m.then(&gs.ctm),
                                ..gs.clone()
                            },
                            None => gs.clone(),
                        },
                        _ => gs.clone(),
                    };
                    self.run_form(id, stream, form_gs, resources, depth, visiting);
                }
                _ => {}
            }
        }
        if lexer.malformed {
            self.out.malformed = true;
        }
    }

    /// Draws a form field's value inside its rectangle, in Helvetica at the field's size.
    fn draw_value(&mut self, annot: &Dictionary, value: &str) {
        let doc = self.doc;
        let Some(rect) = annot
            .get(b"Rect")
            .ok()
            .and_then(|o| doc.dereference(o).ok())
            .and_then(|(_, o)| o.as_array().ok())
            .and_then(|r| rect_of(r))
        else {
            return;
        };
        let da = inherited(doc, annot, b"DA")
            .and_then(|o| o.as_str().ok())
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        let words: Vec<&str> = da.split_whitespace().collect();
        let size = words
            .iter()
            .position(|w| *w == "Tf")
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| words[i].parse::<f64>().ok())
            .filter(|s| *s > 0.0)
            .unwrap_or(10.0);
        let font = Font::helvetica();
        let lines: Vec<&str> = value
            .split(['\r', '\n'])
            .filter(|l| !l.is_empty())
            .collect();
        for (n, line) in lines.iter().enumerate() {
            let y = rect[3] - 2.0 - size * (n as f64 + 1.0);
            let mut x = rect[0] + 2.0;
            let bytes = encode_latin1(line);
            font.decode(&bytes, |code| {
                let width = code.width * size;
                if !code.text.is_empty() {
                    let start = self.out.text.len() as u32;
                    self.out.text.push_str(&code.text);
                    self.out.glyphs.push(Glyph {
                        x0: x as f32,
                        x1: (x + width) as f32,
                        y: y as f32,
                        size: size as f32,
                        dir: 0,
                        start,
                        end: self.out.text.len() as u32,
                    });
                }
                x += width;
            });
        }
    }

    /// Runs a form XObject's content (its own resources first, then the caller's).
    fn run_form(
        &mut self,
        id: ObjectId,
        stream: &'a lopdf::Stream,
        gs: GState,
        resources: &[&Dictionary],
        depth: usize,
        visiting: &mut Vec<ObjectId>,
    ) {
        if depth >= MAX_FORM_DEPTH || visiting.contains(&id) {
            self.out.truncated |= depth >= MAX_FORM_DEPTH;
            return;
        }
        let bytes = match stream.decompressed_content_with_limit(self.stream_limit) {
            Ok(b) => b,
            Err(_) if stream.dict.get(b"Filter").is_err() => stream.content.clone(),
            Err(_) => {
                self.out.truncated = true;
                return;
            }
        };
        let own = stream
            .dict
            .get(b"Resources")
            .and_then(|o| self.doc.dereference(o))
            .and_then(|(_, o)| o.as_dict())
            .ok();
        let mut form_resources: Vec<&Dictionary> = Vec::with_capacity(resources.len() + 1);
        form_resources.extend(own);
        form_resources.extend_from_slice(resources);
        visiting.push(id);
        self.run(&bytes, &form_resources, gs, depth + 1, visiting);
        visiting.pop();
    }

    fn show(&mut self, bytes: &[u8], gs: &GState, tm: &mut Matrix) {
        let font = gs.font.clone().unwrap_or_else(|| Rc::clone(&self.fallback));
        let clip = self.clip;
        let out = &mut self.out;
        font.decode(bytes, |code| {
            let trm = Matrix([gs.size * gs.hscale, 0.0, 0.0, gs.size, 0.0, gs.rise])
                .then(tm)
                .then(&gs.ctm);
            let [a, b, c, d, ..] = trm.0;
            // The glyph's height: a Type 3 font's matrix may scale glyph space.
            let size = (c * c + d * d).sqrt() * font.em_scale();
            let p0 = trm.apply(0.0, 0.0);
            let p1 = if font.vertical {
                trm.apply(0.0, -1.0)
            } else {
                trm.apply(code.width, 0.0)
            };
            let dir = if font.vertical {
                // Vertical writing runs down the page, columns right to left.
                if d >= 0.0 { 3 } else { 1 }
            } else if a.abs() >= b.abs() {
                if a >= 0.0 { 0 } else { 2 }
            } else if b > 0.0 {
                1
            } else {
                3
            };
            let frame = |(x, y): (f64, f64)| match dir {
                0 => (x, y),
                1 => (y, -x),
                2 => (-x, -y),
                _ => (-y, x),
            };
            let (x0, y0) = frame(p0);
            let (x1, _) = frame(p1);
            let inside = clip.is_none_or(|[cx0, cy0, cx1, cy1]| {
                let (dx, dy) = p0;
                dx >= cx0 - 1.0 && dx <= cx1 + 1.0 && dy >= cy0 - 1.0 && dy <= cy1 + 1.0
            });
            if inside
                && !code.text.is_empty()
                && size.is_finite()
                && x0.is_finite()
                && y0.is_finite()
            {
                let start = out.text.len() as u32;
                if code.text == "\u{ad}" {
                    // A soft hyphen that was drawn is a hyphen.
                    out.text.push('-');
                } else {
                    out.text.push_str(&code.text);
                }
                out.glyphs.push(Glyph {
                    x0: x0 as f32,
                    x1: x1.max(x0) as f32,
                    y: y0 as f32,
                    size: size as f32,
                    dir,
                    start,
                    end: out.text.len() as u32,
                });
            }
            let mut spacing = gs.char_space;
            if code.word_space {
                spacing += gs.word_space;
            }
            if font.vertical {
                // Vertical writing: glyphs advance one em down (the default W2, whose
                // w1 is -1000), and character spacing is added to that negative
                // advance, so a positive Tc draws the glyphs closer.
                *tm = Matrix::translate(0.0, -gs.size + spacing).then(tm);
                return;
            }
            let tx = code.width * gs.size + spacing;
            *tm = Matrix::translate(tx * gs.hscale, 0.0).then(tm);
        });
    }
}
