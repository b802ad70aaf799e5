//! Scanned pages read by OCR: after extraction, each page without a usable text layer
//! (and each photo) is decoded and read by the deployment's OCR engine, one page at a
//! time, and its text takes the page's place in the document's text, so metadata, filing
//! and search treat it as born-digital text. Every problem is a warning on the document
//! (`ocr_*` codes); a bad page never fails the document. Where OCR runs elsewhere (the
//! AWS ingest function, which hands scanned documents to the OCR function by a queue), a
//! `deferred` scanner reads nothing and says `ocr_pending`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::extract::{Extracted, Limits, Pixels, Warning};
use crate::ocr::{Image, ImageError, Ocr, OcrWarning, read_page};

/// The OCR engine documents are read with, or none.
#[derive(Debug, Clone)]
pub struct Scanner {
    engine: Engine,
    /// The most one document's OCR may take, all its pages together (none: only the
    /// per-page budget of `Limits`). Pages not begun by then keep no text (`ocr_timeout`).
    document_budget: Option<Duration>,
}

#[derive(Debug, Clone)]
enum Engine {
    /// No OCR in this deployment: scanned pages keep no text (`ocr_unavailable`).
    None,
    /// An engine given by the caller (tests, another adapter).
    Given(Arc<dyn Ocr>),
    /// The build's own engine, started on the first scanned page (so a process that never
    /// sees one does not load a model).
    Deployment,
    /// OCR runs elsewhere, later: scanned pages keep no text here (`ocr_pending`).
    Deferred,
}

/// What OCR did to one document (and its attachments).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ScanSummary {
    /// Pages whose text OCR gave.
    pub pages_read: u32,
    /// Their words' mean confidence (0 to 1), weighted by length.
    pub confidence: Option<f32>,
}

impl Scanner {
    /// No OCR: scanned pages are marked `ocr_unavailable`.
    pub fn none() -> Scanner {
        Scanner {
            engine: Engine::None,
            document_budget: None,
        }
    }

    /// Reads with `engine`.
    pub fn with(engine: Arc<dyn Ocr>) -> Scanner {
        Scanner {
            engine: Engine::Given(engine),
            document_budget: None,
        }
    }

    /// The build's engine: Tesseract with the `ocr` feature, none without it.
    pub fn deployment() -> Scanner {
        Scanner {
            engine: if cfg!(feature = "ocr") {
                Engine::Deployment
            } else {
                Engine::None
            },
            document_budget: None,
        }
    }

    /// Reads nothing: scanned pages are marked `ocr_pending`, for OCR elsewhere (the AWS
    /// ingest function queues them for the OCR function).
    pub fn deferred() -> Scanner {
        Scanner {
            engine: Engine::Deferred,
            document_budget: None,
        }
    }

    /// The same scanner, reading one document's pages for at most `budget` in all (so a
    /// function's timeout bounds a document of many slow pages); pages not begun in time
    /// keep no text and the document says `ocr_timeout`.
    pub fn within(mut self, budget: Duration) -> Scanner {
        self.document_budget = Some(budget);
        self
    }

    /// Whether this scanner leaves the pages for OCR elsewhere.
    pub fn is_deferred(&self) -> bool {
        matches!(self.engine, Engine::Deferred)
    }

    fn engine(&self) -> Option<&dyn Ocr> {
        match &self.engine {
            Engine::None | Engine::Deferred => None,
            Engine::Given(engine) => Some(engine.as_ref()),
            Engine::Deployment => deployment_engine(),
        }
    }

    /// Reads the scanned pages of `extracted` (and of its attachments) into its text.
    pub fn read(&self, extracted: &mut Extracted, limits: &Limits) -> ScanSummary {
        let mut tally = Tally {
            deadline: self.document_budget.map(|b| Instant::now() + b),
            ..Tally::default()
        };
        let mut budget = limits.ocr_max_pages;
        self.read_one(extracted, limits, &mut budget, &mut tally);
        ScanSummary {
            pages_read: tally.pages,
            confidence: (tally.chars > 0).then(|| (tally.weighted / tally.chars as f64) as f32),
        }
    }

    fn read_one(
        &self,
        extracted: &mut Extracted,
        limits: &Limits,
        budget: &mut usize,
        tally: &mut Tally,
    ) {
        for attachment in &mut extracted.attachments {
            self.read_one(&mut attachment.extracted, limits, budget, tally);
        }
        if extracted.scans.is_empty() {
            return;
        }
        if self.is_deferred() {
            extracted.warnings.add(Warning::OcrPending);
            return;
        }
        let Some(engine) = self.engine() else {
            extracted.warnings.add(Warning::OcrUnavailable);
            return;
        };
        let page_time = Duration::from_millis(limits.ocr_page_millis);
        let mut ocr_limits = crate::ocr::Limits {
            max_pixels: limits.ocr_max_pixels,
            page_time,
        };
        let mut pages: Vec<String> = extracted.text.split('\u{c}').map(str::to_owned).collect();
        let scans = std::mem::take(&mut extracted.scans);
        let mut read_any = false;
        for scan in &scans {
            if *budget == 0 {
                extracted.warnings.add(Warning::TruncatedAtLimit);
                break;
            }
            // The document's own budget: a page gets what is left of it, at most its own.
            if let Some(deadline) = tally.deadline {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    extracted.warnings.add(Warning::OcrTimeout);
                    break;
                }
                ocr_limits.page_time = page_time.min(left);
            }
            *budget -= 1;
            let image = match scan.pixels(limits.ocr_max_pixels) {
                Ok(Pixels::File(bytes)) => Image::decode(&bytes, scan.dpi, &ocr_limits),
                Ok(Pixels::Grey {
                    width,
                    height,
                    pixels,
                }) => Image::grey(width, height, pixels, scan.dpi),
                Err(e) => {
                    extracted.warnings.add(match e {
                        crate::extract::PageImageError::TooLarge => Warning::OcrImageTooLarge,
                        _ => Warning::OcrImageUnsupported,
                    });
                    continue;
                }
            };
            let image = match image {
                Ok(image) => image,
                Err(ImageError::TooLarge { .. }) => {
                    extracted.warnings.add(Warning::OcrImageTooLarge);
                    continue;
                }
                Err(_) => {
                    extracted.warnings.add(Warning::OcrImageUnsupported);
                    continue;
                }
            };
            let page = read_page(engine, &image, &ocr_limits);
            drop(image);
            for w in &page.warnings {
                extracted.warnings.add(match w {
                    OcrWarning::ImageTooLarge => Warning::OcrImageTooLarge,
                    OcrWarning::Timeout => Warning::OcrTimeout,
                    OcrWarning::InvalidImage => Warning::OcrImageUnsupported,
                    OcrWarning::EngineFailed => Warning::OcrEngineFailed,
                    OcrWarning::LowConfidence => Warning::OcrLowConfidence,
                });
            }
            let text = page.text();
            if text.trim().is_empty() {
                continue;
            }
            for word in &page.words {
                let n = word.text.chars().count();
                tally.chars += n;
                tally.weighted += f64::from(word.confidence) * n as f64;
            }
            tally.pages += 1;
            read_any = true;
            let at = scan.page as usize;
            if pages.len() <= at {
                pages.resize(at + 1, String::new());
            }
            pages[at] = text;
        }
        if read_any {
            let mut text = pages.join("\u{c}");
            if text.len() > limits.max_text_bytes {
                let mut cut = limits.max_text_bytes;
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                text.truncate(cut);
                extracted.warnings.add(Warning::TruncatedAtLimit);
            }
            extracted.text = text;
            extracted.warnings.add(Warning::OcrText);
            if !extracted.text.trim().is_empty() {
                extracted.warnings.remove(Warning::NoTextLayer);
            }
        }
    }
}

#[derive(Default)]
struct Tally {
    pages: u32,
    chars: usize,
    weighted: f64,
    /// When the document's OCR budget is spent, if it has one.
    deadline: Option<Instant>,
}

/// The process's one Tesseract, started on first use; `None` (said once in the log, with
/// no document detail) when it cannot start.
#[cfg(feature = "ocr")]
fn deployment_engine() -> Option<&'static dyn Ocr> {
    use std::sync::OnceLock;
    static ENGINE: OnceLock<Option<crate::ocr::TesseractOcr>> = OnceLock::new();
    ENGINE
        .get_or_init(|| match crate::ocr::TesseractOcr::new() {
            Ok(engine) => Some(engine),
            Err(e) => {
                tracing::error!(code = "config_invalid", error = %e, "OCR is unavailable");
                None
            }
        })
        .as_ref()
        .map(|e| e as &dyn Ocr)
}

#[cfg(not(feature = "ocr"))]
fn deployment_engine() -> Option<&'static dyn Ocr> {
    // No engine is linked into this build.
    None
}
