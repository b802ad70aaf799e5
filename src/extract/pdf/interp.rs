//! The content-stream interpreter: runs a page's text and graphics-state operators and
//! emits every shown glyph with its position, size and direction.

use std::collections::HashMap;
use std::rc::Rc;

use lopdf::content::Content;
use lopdf::{Dictionary, Document, Object, ObjectId};

use super::font::Font;
use crate::extract::limits::Budget;

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
        let mut resources: Vec<&Dictionary> = Vec::new();
        if let Ok((own, inherited)) = doc.get_page_resources(page_id) {
            resources.extend(own);
            for id in inherited {
                if let Ok(d) = doc.get_dictionary(id) {
                    resources.push(d);
                }
            }
        }
        let mut visiting = Vec::new();
        self.run(&content, &resources, GState::default(), 0, &mut visiting);
        self.out
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
        let content = match Content::decode(content) {
            Ok(c) => c,
            Err(_) => {
                self.out.malformed = true;
                return;
            }
        };
        let mut gs = initial;
        let mut stack: Vec<GState> = Vec::new();
        let mut tm = Matrix::IDENTITY;
        let mut tlm = Matrix::IDENTITY;
        for (n, op) in content.operations.iter().enumerate() {
            if self.ops_left == 0 || (n % 4096 == 0 && self.budget.expired()) {
                self.out.truncated = true;
                return;
            }
            self.ops_left -= 1;
            let args = &op.operands;
            match op.operator.as_str() {
                "q" => {
                    if stack.len() < MAX_GSTATE_DEPTH {
                        stack.push(gs.clone());
                    }
                }
                "Q" => {
                    if let Some(saved) = stack.pop() {
                        gs = saved;
                    }
                }
                "cm" => {
                    if let Some(m) = Matrix::from_operands(args) {
                        gs.ctm = m.then(&gs.ctm);
                    }
                }
                "BT" => {
                    tm = Matrix::IDENTITY;
                    tlm = Matrix::IDENTITY;
                }
                "Tf" => {
                    if let (Some(Object::Name(name)), Some(size)) =
                        (args.first(), args.get(1).and_then(num))
                    {
                        gs.font = self.font(resources, name);
                        gs.size = size;
                    }
                }
                "Tc" => gs.char_space = args.first().and_then(num).unwrap_or(0.0),
                "Tw" => gs.word_space = args.first().and_then(num).unwrap_or(0.0),
                "Tz" => gs.hscale = args.first().and_then(num).unwrap_or(100.0) / 100.0,
                "TL" => gs.leading = args.first().and_then(num).unwrap_or(0.0),
                "Ts" => gs.rise = args.first().and_then(num).unwrap_or(0.0),
                "Td" | "TD" => {
                    let tx = args.first().and_then(num).unwrap_or(0.0);
                    let ty = args.get(1).and_then(num).unwrap_or(0.0);
                    if op.operator == "TD" {
                        gs.leading = -ty;
                    }
                    tlm = Matrix::translate(tx, ty).then(&tlm);
                    tm = tlm;
                }
                "Tm" => {
                    if let Some(m) = Matrix::from_operands(args) {
                        tlm = m;
                        tm = m;
                    }
                }
                "T*" => {
                    tlm = Matrix::translate(0.0, -gs.leading).then(&tlm);
                    tm = tlm;
                }
                "Tj" => {
                    if let Some(Object::String(bytes, _)) = args.first() {
                        self.show(bytes, &gs, &mut tm);
                    }
                }
                "'" => {
                    tlm = Matrix::translate(0.0, -gs.leading).then(&tlm);
                    tm = tlm;
                    if let Some(Object::String(bytes, _)) = args.first() {
                        self.show(bytes, &gs, &mut tm);
                    }
                }
                "\"" => {
                    gs.word_space = args.first().and_then(num).unwrap_or(gs.word_space);
                    gs.char_space = args.get(1).and_then(num).unwrap_or(gs.char_space);
                    tlm = Matrix::translate(0.0, -gs.leading).then(&tlm);
                    tm = tlm;
                    if let Some(Object::String(bytes, _)) = args.get(2) {
                        self.show(bytes, &gs, &mut tm);
                    }
                }
                "TJ" => {
                    if let Some(Object::Array(items)) = args.first() {
                        for item in items {
                            match item {
                                Object::String(bytes, _) => self.show(bytes, &gs, &mut tm),
                                other => {
                                    if let Some(adjust) = num(other) {
                                        let tx = -adjust / 1000.0 * gs.size * gs.hscale;
                                        tm = Matrix::translate(tx, 0.0).then(&tm);
                                    }
                                }
                            }
                        }
                    }
                }
                "Do" => {
                    let Some(Object::Name(name)) = args.first() else {
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
                    if depth >= MAX_FORM_DEPTH || visiting.contains(&id) {
                        self.out.truncated |= depth >= MAX_FORM_DEPTH;
                        continue;
                    }
                    let bytes = match stream.decompressed_content_with_limit(self.stream_limit) {
                        Ok(b) => b,
                        Err(_) if stream.dict.get(b"Filter").is_err() => stream.content.clone(),
                        Err(_) => {
                            self.out.truncated = true;
                            continue;
                        }
                    };
                    let mut form_gs = gs.clone();
                    if let Ok(Object::Array(m)) = stream.dict.get(b"Matrix")
                        && let Some(m) = Matrix::from_operands(m)
                    {
                        form_gs.ctm = m.then(&gs.ctm);
                    }
                    let own = stream
                        .dict
                        .get(b"Resources")
                        .and_then(|o| self.doc.dereference(o))
                        .and_then(|(_, o)| o.as_dict())
                        .ok();
                    let mut form_resources: Vec<&Dictionary> =
                        Vec::with_capacity(resources.len() + 1);
                    form_resources.extend(own);
                    form_resources.extend_from_slice(resources);
                    visiting.push(id);
                    self.run(&bytes, &form_resources, form_gs, depth + 1, visiting);
                    visiting.pop();
                }
                _ => {}
            }
        }
    }

    fn show(&mut self, bytes: &[u8], gs: &GState, tm: &mut Matrix) {
        let font = gs.font.clone().unwrap_or_else(|| Rc::clone(&self.fallback));
        let out = &mut self.out;
        font.decode(bytes, |code| {
            let trm = Matrix([gs.size * gs.hscale, 0.0, 0.0, gs.size, 0.0, gs.rise])
                .then(tm)
                .then(&gs.ctm);
            let [a, b, c, d, ..] = trm.0;
            let size = (c * c + d * d).sqrt();
            let p0 = trm.apply(0.0, 0.0);
            let p1 = trm.apply(code.width, 0.0);
            let dir = if a.abs() >= b.abs() {
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
            if !code.text.is_empty() && size.is_finite() && x0.is_finite() && y0.is_finite() {
                let start = out.text.len() as u32;
                out.text.push_str(&code.text);
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
            if font.vertical {
                // Vertical writing: glyphs advance one em down (the default W2).
                let ty = gs.size + gs.char_space;
                *tm = Matrix::translate(0.0, -ty).then(tm);
                return;
            }
            let mut tx = code.width * gs.size + gs.char_space;
            if code.word_space {
                tx += gs.word_space;
            }
            *tm = Matrix::translate(tx * gs.hscale, 0.0).then(tm);
        });
    }
}
