//! The page image the OCR port takes: decoded 8-bit grey pixels, their size and a dpi hint.

use postroom_core::failure::{Code, ErrorCode};

use crate::Limits;
use crate::orientation::Rotation;

/// A page as 8-bit grey pixels, row by row, no padding (0 black, 255 white).
#[derive(Clone, PartialEq, Eq)]
pub struct Image {
    width: u32,
    height: u32,
    dpi: Option<u32>,
    grey: Vec<u8>,
}

impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Image")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("dpi", &self.dpi)
            .finish_non_exhaustive()
    }
}

/// An image that cannot be taken: its buffer does not match its size, it is over the
/// pixel budget, or its encoding cannot be decoded. Code `invalid_data`
/// (`data_too_large` over the budget).
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("the pixel buffer holds {got} bytes; {width}x{height} needs {expected}")]
    SizeMismatch {
        width: u32,
        height: u32,
        expected: u64,
        got: usize,
    },
    #[error("the image is {width}x{height} pixels, over the budget of {max} pixels")]
    TooLarge { width: u32, height: u32, max: u64 },
    #[error("the image could not be decoded ({0})")]
    Undecodable(String),
}

impl ErrorCode for ImageError {
    fn code(&self) -> Code {
        match self {
            ImageError::TooLarge { .. } => Code::DataTooLarge,
            _ => Code::InvalidData,
        }
    }
}

impl Image {
    /// Takes 8-bit grey pixels (`width * height` bytes).
    pub fn grey(
        width: u32,
        height: u32,
        pixels: Vec<u8>,
        dpi: Option<u32>,
    ) -> Result<Image, ImageError> {
        let expected = u64::from(width) * u64::from(height);
        if pixels.len() as u64 != expected {
            return Err(ImageError::SizeMismatch {
                width,
                height,
                expected,
                got: pixels.len(),
            });
        }
        Ok(Image {
            width,
            height,
            dpi,
            grey: pixels,
        })
    }

    /// Takes 8-bit RGB pixels (`width * height * 3` bytes) and keeps their luma.
    pub fn rgb(
        width: u32,
        height: u32,
        pixels: &[u8],
        dpi: Option<u32>,
    ) -> Result<Image, ImageError> {
        let expected = u64::from(width) * u64::from(height) * 3;
        if pixels.len() as u64 != expected {
            return Err(ImageError::SizeMismatch {
                width,
                height,
                expected,
                got: pixels.len(),
            });
        }
        let grey = pixels
            .chunks_exact(3)
            .map(|p| {
                ((u32::from(p[0]) * 299 + u32::from(p[1]) * 587 + u32::from(p[2]) * 114) / 1000)
                    as u8
            })
            .collect();
        Ok(Image {
            width,
            height,
            dpi,
            grey,
        })
    }

    /// Decodes a PNG, JPEG or TIFF file (a photo or a scan arriving on its own), refusing
    /// one over the pixel budget before decoding it. `dpi` is the caller's hint (a PDF
    /// page's size gives it); the file's own is not read.
    pub fn decode(bytes: &[u8], dpi: Option<u32>, limits: &Limits) -> Result<Image, ImageError> {
        let reader = image::ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| ImageError::Undecodable(e.to_string()))?;
        let (width, height) = reader
            .into_dimensions()
            .map_err(|e| ImageError::Undecodable(e.to_string()))?;
        if u64::from(width) * u64::from(height) > limits.max_pixels {
            return Err(ImageError::TooLarge {
                width,
                height,
                max: limits.max_pixels,
            });
        }
        let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| ImageError::Undecodable(e.to_string()))?;
        let mut budget = image::Limits::default();
        budget.max_image_width = Some(width);
        budget.max_image_height = Some(height);
        budget.max_alloc = Some(limits.max_pixels.saturating_mul(8));
        reader.limits(budget);
        let decoded = reader
            .decode()
            .map_err(|e| ImageError::Undecodable(e.to_string()))?;
        let luma = decoded.into_luma8();
        let (width, height) = luma.dimensions();
        Image::grey(width, height, luma.into_raw(), dpi)
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// The caller's resolution hint, in dots per inch.
    pub fn dpi(&self) -> Option<u32> {
        self.dpi
    }

    /// The number of pixels.
    pub fn pixels(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }

    /// The grey bytes, row by row.
    pub fn as_bytes(&self) -> &[u8] {
        &self.grey
    }

    /// The pixel at (x, y); white outside the image.
    pub fn get(&self, x: u32, y: u32) -> u8 {
        if x >= self.width || y >= self.height {
            return 255;
        }
        self.grey[y as usize * self.width as usize + x as usize]
    }

    /// The image through a 3x3 median filter: removes scanner speckle and JPEG noise that
    /// Tesseract otherwise reads as stray punctuation (measured: ARCHITECTURE.md, "OCR").
    /// Edge pixels are kept as they are.
    pub fn despeckled(&self) -> Image {
        let (w, h) = (self.width as usize, self.height as usize);
        let mut out = self.grey.clone();
        if w < 3 || h < 3 {
            return self.clone();
        }
        // Each column's three values sorted once per row; the median of nine is then the
        // median of (largest low, middle middle, smallest high) of three adjacent columns.
        let src = &self.grey;
        let (mut lo, mut mid, mut hi) = (vec![0u8; w], vec![0u8; w], vec![0u8; w]);
        for y in 1..h - 1 {
            let (above, row, below) = (
                &src[(y - 1) * w..y * w],
                &src[y * w..(y + 1) * w],
                &src[(y + 1) * w..(y + 2) * w],
            );
            for x in 0..w {
                let (a, b, c) = sort3(above[x], row[x], below[x]);
                lo[x] = a;
                mid[x] = b;
                hi[x] = c;
            }
            let dst = &mut out[y * w..(y + 1) * w];
            for x in 1..w - 1 {
                let low = lo[x - 1].max(lo[x]).max(lo[x + 1]);
                let high = hi[x - 1].min(hi[x]).min(hi[x + 1]);
                let middle = sort3(mid[x - 1], mid[x], mid[x + 1]).1;
                dst[x] = sort3(low, middle, high).1;
            }
        }
        Image {
            width: self.width,
            height: self.height,
            dpi: self.dpi,
            grey: out,
        }
    }

    /// The image turned counter-clockwise by `degrees` (clockwise when negative) about its
    /// centre, the same size, sampled bilinearly; what comes in from outside is white.
    pub fn turned_by(&self, degrees: f32) -> Image {
        let (w, h) = (self.width as usize, self.height as usize);
        let (sin, cos) = degrees.to_radians().sin_cos();
        let (cx, cy) = ((w as f32 - 1.0) / 2.0, (h as f32 - 1.0) / 2.0);
        let src = &self.grey;
        let at = |x: isize, y: isize| -> f32 {
            if x < 0 || y < 0 || x >= w as isize || y >= h as isize {
                255.0
            } else {
                f32::from(src[y as usize * w + x as usize])
            }
        };
        let mut out = vec![255u8; w * h];
        for y in 0..h {
            let dy = y as f32 - cy;
            for x in 0..w {
                let dx = x as f32 - cx;
                // The source of a pixel is its place turned back (clockwise).
                let sx = cx + dx * cos - dy * sin;
                let sy = cy + dx * sin + dy * cos;
                let (x0, y0) = (sx.floor(), sy.floor());
                let (fx, fy) = (sx - x0, sy - y0);
                let (x0, y0) = (x0 as isize, y0 as isize);
                let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1, y0) * fx;
                let bottom = at(x0, y0 + 1) * (1.0 - fx) + at(x0 + 1, y0 + 1) * fx;
                out[y * w + x] = (top * (1.0 - fy) + bottom * fy).round() as u8;
            }
        }
        Image {
            width: self.width,
            height: self.height,
            dpi: self.dpi,
            grey: out,
        }
    }

    /// The image turned clockwise by `rotation`.
    pub fn rotated(&self, rotation: Rotation) -> Image {
        let (w, h) = (self.width as usize, self.height as usize);
        let src = &self.grey;
        let mut out = vec![255u8; w * h];
        let (nw, nh) = match rotation {
            Rotation::None => return self.clone(),
            Rotation::Cw180 => {
                for (i, p) in src.iter().enumerate() {
                    out[w * h - 1 - i] = *p;
                }
                (w, h)
            }
            // Clockwise: source (x, y) goes to (h - 1 - y, x) in an h-wide image.
            Rotation::Cw90 => {
                for y in 0..h {
                    for x in 0..w {
                        out[x * h + (h - 1 - y)] = src[y * w + x];
                    }
                }
                (h, w)
            }
            Rotation::Cw270 => {
                for y in 0..h {
                    for x in 0..w {
                        out[(w - 1 - x) * h + y] = src[y * w + x];
                    }
                }
                (h, w)
            }
        };
        Image {
            width: nw as u32,
            height: nh as u32,
            dpi: self.dpi,
            grey: out,
        }
    }
}

fn sort3(a: u8, b: u8, c: u8) -> (u8, u8, u8) {
    let (a, b) = if a > b { (b, a) } else { (a, b) };
    let (b, c) = if b > c { (c, b) } else { (b, c) };
    let (a, b) = if a > b { (b, a) } else { (a, b) };
    (a, b, c)
}

/// The median of nine values (a sorting network's 19 exchanges): the reference the
/// despeckling filter is tested against.
#[cfg(test)]
fn median9(v: &mut [u8; 9]) -> u8 {
    const PAIRS: [(usize, usize); 19] = [
        (1, 2),
        (4, 5),
        (7, 8),
        (0, 1),
        (3, 4),
        (6, 7),
        (1, 2),
        (4, 5),
        (7, 8),
        (0, 3),
        (5, 8),
        (4, 7),
        (3, 6),
        (1, 4),
        (2, 5),
        (4, 7),
        (4, 2),
        (6, 4),
        (4, 2),
    ];
    for (a, b) in PAIRS {
        if v[a] > v[b] {
            v.swap(a, b);
        }
    }
    v[4]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median9_is_the_median_of_every_arrangement_tried() {
        let mut seed = 12345u32;
        for _ in 0..2000 {
            let mut v = [0u8; 9];
            for p in v.iter_mut() {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                *p = (seed >> 16) as u8 % 8;
            }
            let mut sorted = v;
            sorted.sort_unstable();
            assert_eq!(median9(&mut v), sorted[4], "{v:?}");
        }
    }

    #[test]
    fn despeckling_is_a_true_3x3_median() {
        let mut seed = 7u32;
        let px: Vec<u8> = (0..13 * 11)
            .map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (seed >> 16) as u8
            })
            .collect();
        let img = Image::grey(13, 11, px, None).expect("size matches");
        let out = img.despeckled();
        for y in 1..10 {
            for x in 1..12 {
                let mut v = [0u8; 9];
                for (i, p) in v.iter_mut().enumerate() {
                    *p = img.get(x + i as u32 % 3 - 1, y + i as u32 / 3 - 1);
                }
                assert_eq!(out.get(x, y), median9(&mut v), "at {x},{y}");
            }
        }
        assert_eq!(out.get(0, 0), img.get(0, 0));
    }

    #[test]
    fn despeckling_removes_a_lone_dot_and_keeps_a_stroke() {
        let mut px = vec![255u8; 100];
        px[3 * 10 + 3] = 0; // a speck
        for y in 1..9 {
            px[y * 10 + 6] = 0; // a vertical stroke two pixels wide
            px[y * 10 + 7] = 0;
        }
        let img = Image::grey(10, 10, px, None)
            .expect("size matches")
            .despeckled();
        assert_eq!(img.get(3, 3), 255);
        assert_eq!(img.get(6, 5), 0);
        assert_eq!(img.get(7, 5), 0);
    }

    #[test]
    fn decoding_refuses_an_image_over_the_budget_before_decoding() {
        let png = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/data/scans/contract-line.png"
        ))
        .expect("contract-line.png");
        let small = Limits {
            max_pixels: 1000,
            ..Limits::default()
        };
        let err = Image::decode(&png, Some(200), &small).expect_err("over budget");
        assert_eq!(err.code(), Code::DataTooLarge);
        let ok = Image::decode(&png, Some(200), &Limits::default()).expect("decodes");
        assert_eq!((ok.width(), ok.height(), ok.dpi()), (1500, 120, Some(200)));
        assert!(matches!(
            Image::decode(b"not an image", None, &Limits::default()),
            Err(ImageError::Undecodable(_))
        ));
        assert!(matches!(
            Image::grey(2, 2, vec![0; 3], None),
            Err(ImageError::SizeMismatch { .. })
        ));
    }
}
