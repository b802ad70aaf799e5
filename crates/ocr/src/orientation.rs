//! Page orientation: which way a page must be turned to read it upright, and how far its
//! lines lean. The axis (upright or upside down against sideways) and the lean (skew)
//! come from ink projection profiles here; which end is up is left to the engine's
//! confidence (see the adapters).

use crate::Image;

/// A clockwise turn by a multiple of 90 degrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Rotation {
    #[default]
    None,
    Cw90,
    Cw180,
    Cw270,
}

impl Rotation {
    /// The turn in degrees, clockwise.
    pub fn degrees(self) -> u16 {
        match self {
            Rotation::None => 0,
            Rotation::Cw90 => 90,
            Rotation::Cw180 => 180,
            Rotation::Cw270 => 270,
        }
    }
}

/// Leans smaller than this are left alone. Measured on the scanned set (ARCHITECTURE.md,
/// OCR): straightening pages 1.3-1.5 degrees off lowered word F1 on 4 of 6 (0.989 to
/// 0.985: resampling softens strokes), and straightening pages 3.7 and 5.7 degrees off
/// raised it from 0.959 to 1.000.
#[cfg_attr(not(feature = "tesseract"), allow(dead_code))]
pub(crate) const STRAIGHTEN_FROM_DEGREES: f32 = 2.5;
/// The largest lean looked for, either way.
const MAX_SKEW_DEGREES: f32 = 10.0;
/// Ink samples below which a page's lean is not guessed (0).
const MIN_SKEW_INK: usize = 500;

/// How far the page's text lines lean from the axis they run along (rows when
/// `across`, else columns), in degrees, clockwise positive: the angle whose projection of
/// the ink across the lines is sharpest (largest sum of squared counts). A page with too
/// little ink to tell is 0.
#[cfg_attr(not(feature = "tesseract"), allow(dead_code))]
pub(crate) fn skew_degrees(image: &Image, across: bool) -> f32 {
    let (w, h) = (image.width(), image.height());
    let step = (w.max(h) / 1000).max(1);
    let mut ink: Vec<(f32, f32)> = Vec::new();
    let mut y = 0;
    while y < h {
        let mut x = 0;
        while x < w {
            if image.get(x, y) < 128 {
                // (along the lines, across them)
                ink.push(if across {
                    (x as f32, y as f32)
                } else {
                    (y as f32, x as f32)
                });
            }
            x += step;
        }
        y += step;
    }
    if ink.len() < MIN_SKEW_INK {
        return 0.0;
    }
    let (along_max, across_max) = if across {
        (w as f32, h as f32)
    } else {
        (h as f32, w as f32)
    };
    let reach = along_max * MAX_SKEW_DEGREES.to_radians().tan();
    let bin = step as f32;
    let bins = ((across_max + 2.0 * reach) / bin) as usize + 2;
    let mut counts = vec![0u32; bins];
    // Horizontal lines leaning clockwise by t keep y - x tan t; vertical ones x + y tan t.
    let sign = if across { -1.0 } else { 1.0 };
    let mut sharpness = |degrees: f32| -> f64 {
        counts.iter_mut().for_each(|c| *c = 0);
        let tan = sign * degrees.to_radians().tan();
        for &(along, across_at) in &ink {
            let c = across_at + along * tan + reach;
            if let Some(slot) = counts.get_mut((c / bin) as usize) {
                *slot += 1;
            }
        }
        counts.iter().map(|&c| f64::from(c) * f64::from(c)).sum()
    };
    let best_of = |from: f32, to: f32, by: f32, sharpness: &mut dyn FnMut(f32) -> f64| {
        let mut best = (f64::MIN, 0.0f32);
        let mut a = from;
        while a <= to + 1e-4 {
            let s = sharpness(a);
            if s > best.0 {
                best = (s, a);
            }
            a += by;
        }
        best.1
    };
    let coarse = best_of(-MAX_SKEW_DEGREES, MAX_SKEW_DEGREES, 0.5, &mut sharpness);
    best_of(coarse - 0.5, coarse + 0.5, 0.1, &mut sharpness)
}

/// Whether the page's text lines run across (upright or upside down) rather than down
/// (sideways). Text lines alternate ink and gap along the direction across them, so the
/// ink profile in that direction varies far more than along the lines. A page with no
/// ink counts as upright.
#[cfg_attr(not(feature = "tesseract"), allow(dead_code))]
pub(crate) fn lines_run_across(image: &Image) -> bool {
    let (w, h) = (image.width(), image.height());
    // Sample about 1,000 points along each side: enough to resolve text lines at 150 dpi.
    let step = (w.max(h) / 1000).max(1);
    let mut rows = vec![0u32; h.div_ceil(step) as usize];
    let mut cols = vec![0u32; w.div_ceil(step) as usize];
    let mut y = 0;
    while y < h {
        let mut x = 0;
        while x < w {
            if image.get(x, y) < 128 {
                rows[(y / step) as usize] += 1;
                cols[(x / step) as usize] += 1;
            }
            x += step;
        }
        y += step;
    }
    spread(&rows) >= spread(&cols)
}

/// The squared coefficient of variation of a profile over its inked span.
#[cfg_attr(not(feature = "tesseract"), allow(dead_code))]
fn spread(profile: &[u32]) -> f64 {
    let first = profile.iter().position(|&v| v > 0);
    let last = profile.iter().rposition(|&v| v > 0);
    let (Some(first), Some(last)) = (first, last) else {
        return 0.0;
    };
    let span = &profile[first..=last];
    let n = span.len() as f64;
    let mean = span.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    if mean == 0.0 {
        return 0.0;
    }
    let var = span
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    var / (mean * mean)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Horizontal bars 3 px tall every 12 px, like text lines.
    fn striped(width: u32, height: u32) -> Image {
        let mut px = vec![255u8; (width * height) as usize];
        for y in 0..height {
            if y % 12 < 3 && y > 20 && y < height - 20 {
                for x in 30..width - 30 {
                    px[(y * width + x) as usize] = 0;
                }
            }
        }
        Image::grey(width, height, px, None).expect("size matches")
    }

    #[test]
    fn text_lines_across_are_told_from_sideways() {
        let page = striped(400, 600);
        assert!(lines_run_across(&page));
        assert!(lines_run_across(&page.rotated(Rotation::Cw180)));
        assert!(!lines_run_across(&page.rotated(Rotation::Cw90)));
        assert!(!lines_run_across(&page.rotated(Rotation::Cw270)));
    }

    #[test]
    fn rotations_turn_clockwise() {
        // 2x1: [0, 255] turned clockwise is 1x2: top 0, bottom 255.
        let img = Image::grey(2, 1, vec![0, 255], None).expect("size matches");
        let cw = img.rotated(Rotation::Cw90);
        assert_eq!(
            (cw.width(), cw.height(), cw.as_bytes()),
            (1, 2, &[0u8, 255][..])
        );
        let ccw = img.rotated(Rotation::Cw270);
        assert_eq!(ccw.as_bytes(), &[255u8, 0]);
        assert_eq!(img.rotated(Rotation::Cw180).as_bytes(), &[255u8, 0]);
    }

    #[test]
    fn a_lean_is_measured_and_straightened_either_way_up() {
        let page = striped(800, 1000);
        assert!(skew_degrees(&page, true).abs() < 0.15);
        for lean in [4.0f32, -2.5, 7.0] {
            // Turned counter-clockwise by -lean: its lines lean clockwise by lean.
            let crooked = page.turned_by(-lean);
            let measured = skew_degrees(&crooked, true);
            assert!(
                (measured - lean).abs() < 0.25,
                "{lean}: measured {measured}"
            );
            let straight = crooked.turned_by(measured);
            assert!(skew_degrees(&straight, true).abs() < 0.25);
            // The same page sideways leans the same way.
            let sideways = crooked.rotated(Rotation::Cw90);
            let measured = skew_degrees(&sideways, false);
            assert!(
                (measured - lean).abs() < 0.25,
                "{lean} sideways: {measured}"
            );
        }
    }

    #[test]
    fn a_blank_page_is_upright() {
        let blank = Image::grey(50, 80, vec![255; 4000], None).expect("size matches");
        assert!(lines_run_across(&blank));
        assert_eq!(skew_degrees(&blank, true), 0.0);
    }
}
