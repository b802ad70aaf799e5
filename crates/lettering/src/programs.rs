//! Embedded font programs: each letter embeds a subset of a style made of a fixed base
//! (the glyphs of printable ASCII and common typographic punctuation, in a fixed order)
//! plus the letter's own extra glyphs (Ł, ễ, á …) in order of first use.
//!
//! The subset is a pure function of the style and the extras, so it is built, stripped of
//! hints and compressed once per process and shared: most letters need no extras, and a
//! batch of letters to the same people shares the rest. That keeps subsetting off the
//! per-letter path (Lambda bills by the millisecond) while every PDF still embeds only a
//! subset, and the same letter always gives the same bytes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use sha2::{Digest, Sha256};

use super::font::{Style, fonts};

/// The characters every subset carries.
const BASE: &str = concat!(
    " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~",
    "£€–—‘’“”•…°×"
);

/// Most distinct extras sets kept per process before the cache is emptied.
const CACHE_LIMIT: usize = 512;

/// A finished, embeddable font program.
#[derive(Debug)]
pub struct Program {
    /// `XXXXXX+Name`.
    pub base_font: String,
    /// The zlib-compressed TrueType subset, and its uncompressed length.
    pub compressed: Vec<u8>,
    pub length1: usize,
    /// Advance widths (thousandths of an em) of the subset's glyphs in order.
    pub widths: Vec<f32>,
    /// The ToUnicode CMap, zlib-compressed.
    pub cmap: Vec<u8>,
}

/// The base glyphs of one style: original glyph ids in subset order (after .notdef), and
/// the reverse map.
#[derive(Debug)]
pub struct Base {
    pub gids: Vec<u16>,
    new_of: HashMap<u16, u16>,
    chars: Vec<(u16, char)>,
}

impl Base {
    /// The subset glyph id of original glyph `gid`, if it is in the base.
    #[inline]
    pub fn new_gid(&self, gid: u16) -> Option<u16> {
        self.new_of.get(&gid).copied()
    }

    pub fn len(&self) -> usize {
        self.gids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.gids.is_empty()
    }
}

pub fn base(style: Style) -> &'static Base {
    static BASES: OnceLock<[Base; 4]> = OnceLock::new();
    &BASES.get_or_init(|| {
        Style::ALL.map(|s| {
            let font = &fonts()[s.index()];
            let mut gids = Vec::new();
            let mut new_of = HashMap::new();
            let mut chars = Vec::new();
            for c in BASE.chars() {
                if let Some((g, _)) = font.glyph(c) {
                    if let std::collections::hash_map::Entry::Vacant(e) = new_of.entry(g) {
                        gids.push(g);
                        // .notdef is glyph 0 of the subset.
                        e.insert(gids.len() as u16);
                    }
                    chars.push((g, c));
                }
            }
            Base {
                gids,
                new_of,
                chars,
            }
        })
    })[style.index()]
}

type Key = (Style, Vec<(u16, char)>);

/// The program for `style` with `extras` (original glyph id and the character it shows,
/// in order of first use).
pub fn program(style: Style, extras: &[(u16, char)]) -> Result<Arc<Program>, String> {
    static CACHE: OnceLock<Mutex<HashMap<Key, Arc<Program>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let key = (style, extras.to_vec());
    if let Some(p) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return Ok(p.clone());
    }
    let built = Arc::new(build(style, extras)?);
    let mut map = cache.lock().unwrap_or_else(|p| p.into_inner());
    if map.len() >= CACHE_LIMIT {
        map.clear();
    }
    map.insert(key, built.clone());
    Ok(built)
}

fn build(style: Style, extras: &[(u16, char)]) -> Result<Program, String> {
    let font = &fonts()[style.index()];
    let base = base(style);
    let mut remapper = subsetter::GlyphRemapper::new();
    for &g in &base.gids {
        remapper.remap(g);
    }
    for &(g, _) in extras {
        remapper.remap(g);
    }
    let subset = subsetter::subset(font.data, 0, &remapper)
        .map_err(|e| format!("font subsetting failed: {e:?}"))?;
    let subset = super::sfnt::strip_hints(&subset).unwrap_or(subset);
    let compressed = super::pdf::deflate(&subset, 9)?;

    let mut tag_hash = Sha256::new();
    tag_hash.update([style as u8]);
    for (g, c) in extras {
        tag_hash.update(g.to_be_bytes());
        tag_hash.update((*c as u32).to_be_bytes());
    }
    let tag: String = tag_hash.finalize()[..6]
        .iter()
        .map(|b| (b'A' + b % 26) as char)
        .collect();

    let widths = remapper
        .remapped_gids()
        .map(|old| font.advance(old).round())
        .collect();
    let mut unicode = pdf_writer::types::UnicodeCmap::new(
        pdf_writer::Name(b"Custom"),
        pdf_writer::types::SystemInfo {
            registry: pdf_writer::Str(b"Adobe"),
            ordering: pdf_writer::Str(b"UCS"),
            supplement: 0,
        },
    );
    let mut mapped = std::collections::HashSet::new();
    for &(g, c) in base.chars.iter().chain(extras) {
        if mapped.insert(g)
            && let Some(new) = remapper.get(g)
        {
            unicode.pair(new, c);
        }
    }
    Ok(Program {
        base_font: format!("{tag}+{}", font.postscript_name),
        length1: subset.len(),
        compressed,
        widths,
        cmap: super::pdf::deflate(&unicode.finish(), 9)?,
    })
}
