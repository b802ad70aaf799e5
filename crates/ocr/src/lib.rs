//! postroom's OCR port: a page image in; words with boxes and confidence, lines and coded
//! warnings out.
//!
//! The one entry point for callers is [`read_page`]: it never fails and never panics on
//! bad input; every problem with a page is a [`OcrWarning`] with a stable code, so one bad
//! page costs that page's text, never the document. Adapters implement [`Ocr`]:
//! [`TesseractOcr`] (feature `tesseract`, the default) runs the system's Tesseract 5.
//!
//! ```no_run
//! # #[cfg(feature = "tesseract")] {
//! use postroom_ocr::{read_page, Image, Limits, TesseractOcr};
//! let ocr = TesseractOcr::new()?; // once per process (a warm Lambda keeps it)
//! let image = Image::decode(&std::fs::read("page.jpg")?, Some(200), &Limits::default())?;
//! let page = read_page(&ocr, &image, &Limits::default());
//! println!("{} words, warnings {:?}", page.words.len(), page.warnings);
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod image;
pub mod metrics;
mod orientation;
#[cfg(feature = "tesseract")]
mod tesseract;

use std::fmt;
use std::time::{Duration, Instant};

pub use crate::image::{Image, ImageError};
pub use crate::orientation::Rotation;
#[cfg(feature = "tesseract")]
pub use crate::tesseract::{PageSegMode, TesseractOcr};

use postroom_core::failure::{Code, ErrorCode};

/// The budget for one page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Pages with more pixels are not read (`ocr_image_too_large`). The default, 40
    /// million, is an A4 page at 600 dpi with room to spare.
    pub max_pixels: u64,
    /// Wall-clock budget for one page (`ocr_timeout` when spent).
    pub page_time: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pixels: 40_000_000,
            page_time: Duration::from_secs(20),
        }
    }
}

/// A rectangle in pixels of the upright page (after [`PageText::rotation`] is applied),
/// origin top left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BBox {
    pub left: u32,
    pub top: u32,
    pub width: u32,
    pub height: u32,
}

/// One recognised word.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    pub text: String,
    pub bbox: BBox,
    /// The engine's confidence, 0.0 to 1.0.
    pub confidence: f32,
    /// Index into [`PageText::lines`].
    pub line: usize,
}

/// One line of text: a run of words in reading order.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub bbox: BBox,
    /// Indexes into [`PageText::words`].
    pub words: std::ops::Range<usize>,
    /// The paragraph the line belongs to (lines of one paragraph share it), in reading order.
    pub paragraph: u32,
}

/// Something about a page worth telling the user; the page's text (if any) is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OcrWarning {
    /// The page has more pixels than [`Limits::max_pixels`]; it was not read.
    ImageTooLarge,
    /// The page's time budget ([`Limits::page_time`]) was spent; its text is lost.
    Timeout,
    /// The image has no pixels or its pixel buffer does not match its size.
    InvalidImage,
    /// The engine failed on this page (its message is not kept: it may quote the page).
    EngineFailed,
    /// Text was read but the engine is unsure of most of it (mean confidence below 0.6):
    /// a poor scan, handwriting, or not text at all.
    LowConfidence,
}

impl OcrWarning {
    /// The stable code (snake_case), as extraction's warnings have.
    pub fn code(self) -> &'static str {
        match self {
            OcrWarning::ImageTooLarge => "ocr_image_too_large",
            OcrWarning::Timeout => "ocr_timeout",
            OcrWarning::InvalidImage => "ocr_invalid_image",
            OcrWarning::EngineFailed => "ocr_engine_failed",
            OcrWarning::LowConfidence => "ocr_low_confidence",
        }
    }
}

impl fmt::Display for OcrWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What OCR read from one page.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PageText {
    /// The engine that read it (`tesseract`).
    pub engine: &'static str,
    /// How the input was turned to read it upright; boxes are in the turned image, whose
    /// size is `width` x `height`.
    pub rotation: Rotation,
    pub width: u32,
    pub height: u32,
    pub words: Vec<Word>,
    pub lines: Vec<Line>,
    pub warnings: Vec<OcrWarning>,
    /// Wall-clock time spent on the page.
    pub elapsed: Duration,
}

impl PageText {
    /// The text: words joined by spaces, lines by newlines, a blank line between paragraphs.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let mut paragraph = None;
        for line in &self.lines {
            if !out.is_empty() {
                out.push('\n');
                if paragraph != Some(line.paragraph) {
                    out.push('\n');
                }
            }
            paragraph = Some(line.paragraph);
            let words = self.words.get(line.words.clone()).unwrap_or_default();
            for (i, word) in words.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(&word.text);
            }
        }
        out
    }

    /// The mean of the words' confidences weighted by their length (0.0 with no words).
    pub fn mean_confidence(&self) -> f32 {
        let (sum, n) = self.words.iter().fold((0.0f32, 0usize), |(s, n), w| {
            let len = w.text.chars().count();
            (s + w.confidence * len as f32, n + len)
        });
        if n == 0 { 0.0 } else { sum / n as f32 }
    }

    fn empty(engine: &'static str, image: &Image, warning: OcrWarning, started: Instant) -> Self {
        PageText {
            engine,
            width: image.width(),
            height: image.height(),
            warnings: vec![warning],
            elapsed: started.elapsed(),
            ..PageText::default()
        }
    }
}

/// An OCR engine. Implementations read one page at a time, keep within `limits` (the
/// time budget is theirs to enforce: only they can stop their engine), and report every
/// problem as a warning in the result; [`read_page`] checks the pixel budget and the
/// image before calling them.
pub trait Ocr: Send + Sync + fmt::Debug {
    /// The engine's name, as [`PageText::engine`].
    fn name(&self) -> &'static str;

    /// Reads a page that [`read_page`] has checked: non-empty and within the pixel budget.
    fn recognise(&self, image: &Image, limits: &Limits) -> PageText;
}

/// Reads one page: checks it against `limits`, runs `ocr` on it and marks a page read
/// with little confidence. Never fails; problems are [`PageText::warnings`].
pub fn read_page(ocr: &dyn Ocr, image: &Image, limits: &Limits) -> PageText {
    let started = Instant::now();
    if image.width() == 0 || image.height() == 0 {
        return PageText::empty(ocr.name(), image, OcrWarning::InvalidImage, started);
    }
    if image.pixels() > limits.max_pixels {
        return PageText::empty(ocr.name(), image, OcrWarning::ImageTooLarge, started);
    }
    let mut page = ocr.recognise(image, limits);
    if !page.words.is_empty()
        && page.mean_confidence() < LOW_CONFIDENCE
        && !page.warnings.contains(&OcrWarning::LowConfidence)
    {
        page.warnings.push(OcrWarning::LowConfidence);
    }
    page.elapsed = started.elapsed();
    page
}

/// Below this mean confidence a page is marked [`OcrWarning::LowConfidence`].
pub const LOW_CONFIDENCE: f32 = 0.6;

/// An OCR engine could not be set up: the deployment is missing something (the language
/// data, the library). Code `config_invalid`.
#[derive(Debug, thiserror::Error)]
pub enum OcrSetupError {
    #[error("the OCR engine {engine} could not start: {reason}")]
    Unavailable {
        engine: &'static str,
        reason: String,
    },
}

impl ErrorCode for OcrSetupError {
    fn code(&self) -> Code {
        Code::ConfigInvalid
    }
}
