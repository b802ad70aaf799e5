//! The letter fonts (DejaVu Sans, four styles, embedded in the binary): parsed once per
//! process, with a fast glyph and advance lookup for layout and per-letter subsetting.

use std::sync::OnceLock;

use ttf_parser::{Face, GlyphId};

/// A style of the letter font.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Style {
    Regular = 0,
    Bold = 1,
    Italic = 2,
    BoldItalic = 3,
}

impl Style {
    pub const ALL: [Style; 4] = [
        Style::Regular,
        Style::Bold,
        Style::Italic,
        Style::BoldItalic,
    ];

    pub fn new(bold: bool, italic: bool) -> Style {
        match (bold, italic) {
            (false, false) => Style::Regular,
            (true, false) => Style::Bold,
            (false, true) => Style::Italic,
            (true, true) => Style::BoldItalic,
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// One parsed font face and the metrics the PDF needs.
#[derive(Debug)]
pub struct Font {
    pub data: &'static [u8],
    pub postscript_name: &'static str,
    face: Face<'static>,
    units: f32,
    /// Glyph id and advance (in font units) for U+0000..U+0250, the common case.
    fast: Vec<(u16, u16)>,
    pub ascent: f32,
    pub descent: f32,
    pub cap_height: f32,
    pub bbox: [f32; 4],
    pub italic_angle: f32,
    pub bold: bool,
    pub italic: bool,
}

const FAST: usize = 0x250;

impl Font {
    fn load(data: &'static [u8], postscript_name: &'static str, bold: bool, italic: bool) -> Font {
        let face = Face::parse(data, 0).expect("the embedded letter font parses");
        let units = f32::from(face.units_per_em());
        let mut fast = vec![(0u16, 0u16); FAST];
        for (c, slot) in fast.iter_mut().enumerate() {
            if let Some(ch) = char::from_u32(c as u32)
                && let Some(g) = face.glyph_index(ch)
            {
                *slot = (g.0, face.glyph_hor_advance(g).unwrap_or(0));
            }
        }
        let bb = face.global_bounding_box();
        let scale = 1000.0 / units;
        Font {
            data,
            postscript_name,
            units,
            fast,
            ascent: f32::from(face.ascender()) * scale,
            descent: f32::from(face.descender()) * scale,
            cap_height: face
                .capital_height()
                .map(f32::from)
                .unwrap_or(700.0 / scale)
                * scale,
            bbox: [
                f32::from(bb.x_min) * scale,
                f32::from(bb.y_min) * scale,
                f32::from(bb.x_max) * scale,
                f32::from(bb.y_max) * scale,
            ],
            italic_angle: face.italic_angle(),
            bold,
            italic,
            face,
        }
    }

    /// The glyph for `c` and its advance in thousandths of the font size (`None` if the
    /// font has no glyph for it).
    #[inline]
    pub fn glyph(&self, c: char) -> Option<(u16, f32)> {
        let (gid, adv) = if (c as usize) < FAST {
            self.fast[c as usize]
        } else {
            let g = self.face.glyph_index(c)?;
            (g.0, self.face.glyph_hor_advance(g).unwrap_or(0))
        };
        (gid != 0).then(|| (gid, f32::from(adv) * 1000.0 / self.units))
    }

    /// The advance of glyph `gid` in thousandths of the font size.
    pub fn advance(&self, gid: u16) -> f32 {
        f32::from(self.face.glyph_hor_advance(GlyphId(gid)).unwrap_or(0)) * 1000.0 / self.units
    }

    /// Whether the font can print `c`.
    pub fn covers(&self, c: char) -> bool {
        self.glyph(c).is_some()
    }
}

/// The four faces, parsed on first use.
pub fn fonts() -> &'static [Font; 4] {
    static FONTS: OnceLock<[Font; 4]> = OnceLock::new();
    FONTS.get_or_init(|| {
        [
            Font::load(
                include_bytes!("../../../fonts/DejaVuSans.ttf"),
                "DejaVuSans",
                false,
                false,
            ),
            Font::load(
                include_bytes!("../../../fonts/DejaVuSans-Bold.ttf"),
                "DejaVuSans-Bold",
                true,
                false,
            ),
            Font::load(
                include_bytes!("../../../fonts/DejaVuSans-Oblique.ttf"),
                "DejaVuSans-Oblique",
                false,
                true,
            ),
            Font::load(
                include_bytes!("../../../fonts/DejaVuSans-BoldOblique.ttf"),
                "DejaVuSans-BoldOblique",
                true,
                true,
            ),
        ]
    })
}

/// Whether every style can print `c` (what field validation asks).
pub fn covers(c: char) -> bool {
    fonts().iter().all(|f| f.covers(c))
}
