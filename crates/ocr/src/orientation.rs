//! Page orientation: which way a page must be turned to read it upright. The axis (upright
//! or upside down against sideways) comes from ink projection profiles here; which end is
//! up is left to the engine's confidence (see the adapters).

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

/// Whether the page's text lines run across (upright or upside down) rather than down
/// (sideways). Text lines alternate ink and gap along the direction across them, so the
/// ink profile in that direction varies far more than along the lines. A page with no
/// ink counts as upright.
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
    fn a_blank_page_is_upright() {
        let blank = Image::grey(50, 80, vec![255; 4000], None).expect("size matches");
        assert!(lines_run_across(&blank));
    }
}
