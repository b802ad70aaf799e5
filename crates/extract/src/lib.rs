//! Text extraction: bytes in, text + pages + attachments + warnings out, per format.
//! Pure: no I/O, no clock but the per-document time budget.

mod detect;
mod docx;
mod email;
pub mod limits;
mod pdf;
mod pool;
pub mod scan;
pub(crate) mod text;

use std::panic::{AssertUnwindSafe, catch_unwind};

use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

pub use detect::{MediaType, detect};
pub use email::EmailHeaders;
pub use limits::{Budget, Limits};
pub use scan::{PageImageError, Pixels, ScannedPage};
pub use text::expand_ligature;

use bytes::Bytes;

/// Stable, machine-readable warning codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Warning {
    /// The format is not one postroom reads.
    UnsupportedType,
    /// Encrypted and not readable without a password (code `encrypted`).
    Encrypted,
    /// Encrypted, but opened without a password (an empty user password, as most
    /// "restricted" PDFs have): the text is kept. Code `encrypted`, as for [`Self::Encrypted`].
    EncryptedOpened,
    /// The file's structure was damaged and rebuilt as a viewer would (a cross-reference
    /// table, a looping page tree, a stream's length); the text read is kept.
    Repaired,
    /// A Word part declared a DTD or used entities; they were not expanded.
    EntitiesRefused,
    /// An email header was longer than postroom keeps; it was cut.
    HeaderTruncated,
    /// A PDF with no text to extract (a scan without OCR, or drawings).
    NoTextLayer,
    /// A limit (size, pages, streams, nesting, time) was hit; what was read is kept.
    TruncatedAtLimit,
    /// The input is over the size limit and was not read.
    TooLarge,
    /// Damaged or not what it claims to be; what could be read is kept.
    Malformed,
    /// A file of zero bytes.
    Empty,
    /// Extraction failed unexpectedly; the document is kept and reported.
    InternalError,
    /// Text of some page was read by OCR from its picture (a scan or a photo); it may
    /// hold misread words.
    OcrText,
    /// Pages need OCR, but this deployment has no OCR engine: their text is missing.
    OcrUnavailable,
    /// Pages need OCR, which runs elsewhere (on AWS, the OCR function fed by a queue):
    /// their text, and the document's filing from it, follow once they are read.
    OcrPending,
    /// A page's picture is in a format postroom cannot decode (JBIG2, JPEG 2000), or is
    /// damaged: that page's text is missing.
    OcrImageUnsupported,
    /// A page's picture has more pixels than the OCR budget: that page was not read.
    OcrImageTooLarge,
    /// A page's OCR time budget was spent: that page's text is missing.
    OcrTimeout,
    /// The OCR engine failed on a page: that page's text is missing.
    OcrEngineFailed,
    /// OCR read a page but is unsure of most of it (a poor scan, handwriting).
    OcrLowConfidence,
    /// The file could not be opened (missing, no permission).
    Unreadable,
}

impl Warning {
    pub fn code(self) -> &'static str {
        match self {
            Warning::UnsupportedType => "unsupported_type",
            Warning::Encrypted | Warning::EncryptedOpened => "encrypted",
            Warning::Repaired => "repaired",
            Warning::EntitiesRefused => "entities_refused",
            Warning::HeaderTruncated => "header_truncated",
            Warning::NoTextLayer => "no_text_layer",
            Warning::TruncatedAtLimit => "truncated_at_limit",
            Warning::TooLarge => "too_large",
            Warning::Malformed => "malformed",
            Warning::Empty => "empty",
            Warning::InternalError => "internal_error",
            Warning::Unreadable => "unreadable",
            Warning::OcrText => "ocr_text",
            Warning::OcrUnavailable => "ocr_unavailable",
            Warning::OcrPending => "ocr_pending",
            Warning::OcrImageUnsupported => "ocr_image_unsupported",
            Warning::OcrImageTooLarge => "ocr_image_too_large",
            Warning::OcrTimeout => "ocr_timeout",
            Warning::OcrEngineFailed => "ocr_engine_failed",
            Warning::OcrLowConfidence => "ocr_low_confidence",
        }
    }

    /// Every warning, for tables and look-ups by code.
    pub const ALL: &[Warning] = &[
        Warning::UnsupportedType,
        Warning::Encrypted,
        Warning::Repaired,
        Warning::EntitiesRefused,
        Warning::HeaderTruncated,
        Warning::NoTextLayer,
        Warning::TruncatedAtLimit,
        Warning::TooLarge,
        Warning::Malformed,
        Warning::Empty,
        Warning::InternalError,
        Warning::Unreadable,
        Warning::OcrText,
        Warning::OcrUnavailable,
        Warning::OcrPending,
        Warning::OcrImageUnsupported,
        Warning::OcrImageTooLarge,
        Warning::OcrTimeout,
        Warning::OcrEngineFailed,
        Warning::OcrLowConfidence,
    ];

    /// What the warning means for the person reading the document, in a sentence.
    pub fn describe(self) -> &'static str {
        match self {
            Warning::UnsupportedType => "This kind of file cannot be read.",
            Warning::Encrypted => "The file is protected by a password.",
            Warning::EncryptedOpened => "The file is protected, but could be opened.",
            Warning::Repaired => "The file was damaged and has been repaired to read it.",
            Warning::EntitiesRefused => "Parts of the file that point elsewhere were not read.",
            Warning::HeaderTruncated => "An email header was too long and was cut.",
            Warning::NoTextLayer => "No text could be read: it may be a scan or a picture.",
            Warning::TruncatedAtLimit => "The file is very long: only its first part was read.",
            Warning::TooLarge => "The file is too large to read.",
            Warning::Malformed => "The file is damaged; what could be read is shown.",
            Warning::Empty => "The file is empty.",
            Warning::InternalError => "Something went wrong reading this file.",
            Warning::Unreadable => "The file could not be opened.",
            Warning::OcrText => {
                "Some text was read from a scan: check names, dates and numbers against the original."
            }
            Warning::OcrUnavailable => "Scanned pages could not be read here: open the original.",
            Warning::OcrPending => {
                "Scanned pages are waiting to be read by OCR: their text, and filing by it, will follow."
            }
            Warning::OcrImageUnsupported => {
                "A scanned page is in a format that cannot be read: open the original."
            }
            Warning::OcrImageTooLarge => "A scanned page is too large to read: open the original.",
            Warning::OcrTimeout => "A scanned page took too long to read: open the original.",
            Warning::OcrEngineFailed => "A scanned page could not be read: open the original.",
            Warning::OcrLowConfidence => {
                "A scanned page is hard to read (a poor scan or handwriting): check it against the original."
            }
        }
    }

    /// The warning with this code, if any.
    pub fn from_code(code: &str) -> Option<Warning> {
        Warning::ALL.iter().copied().find(|w| w.code() == code)
    }

    /// Whether the document could not be read at all (so `extract` exits 1). A damaged
    /// input whose text was recovered (`repaired`, an `encrypted` file opened without a
    /// password, `entities_refused`, `header_truncated`) is flagged, not unreadable.
    pub fn is_unreadable(self) -> bool {
        matches!(
            self,
            Warning::UnsupportedType
                | Warning::Encrypted
                | Warning::TooLarge
                | Warning::Empty
                | Warning::InternalError
                | Warning::Unreadable
        )
    }
}

impl Serialize for Warning {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

/// Warnings in the order first seen, each code once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Warnings(Vec<Warning>);

impl Warnings {
    pub fn add(&mut self, w: Warning) {
        match self.0.iter_mut().find(|seen| seen.code() == w.code()) {
            // Two warnings with one code (`encrypted`): the one that makes the document
            // unreadable wins.
            Some(seen) => {
                if w.is_unreadable() {
                    *seen = w;
                }
            }
            None => self.0.push(w),
        }
    }

    /// Takes a warning back (`no_text_layer` once OCR has read the pages).
    pub fn remove(&mut self, w: Warning) {
        self.0.retain(|seen| *seen != w);
    }

    pub fn as_slice(&self) -> &[Warning] {
        &self.0
    }

    pub fn contains(&self, w: Warning) -> bool {
        self.0.contains(&w)
    }
}

/// An attachment (of an email), extracted in turn.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub filename: Option<String>,
    pub sha256: String,
    pub extracted: Extracted,
}

/// What extraction read from one document.
#[derive(Debug, Clone)]
pub struct Extracted {
    pub media_type: MediaType,
    /// The text; PDF pages are separated by form feeds.
    pub text: String,
    pub pages: Option<u32>,
    pub email: Option<EmailHeaders>,
    pub attachments: Vec<Attachment>,
    pub warnings: Warnings,
    /// Pages whose text must come from OCR (empty when every page has a text layer).
    pub scans: Vec<ScannedPage>,
}

impl Extracted {
    fn empty(media_type: MediaType) -> Self {
        Extracted {
            media_type,
            text: String::new(),
            pages: None,
            email: None,
            attachments: Vec::new(),
            warnings: Warnings::default(),
            scans: Vec::new(),
        }
    }

    /// What a file that could not be opened at all gets: its own line, marked.
    pub fn unreadable_file() -> Self {
        let mut e = Extracted::empty(MediaType::Other("application/octet-stream"));
        e.warnings.add(Warning::Unreadable);
        e
    }

    /// Sets the text, as much of it as the document may still keep (`truncated_at_limit`
    /// if cut).
    pub(crate) fn keep_text(&mut self, budget: &Budget, mut text: String) {
        if budget.keep_text(&mut text) {
            self.warnings.add(Warning::TruncatedAtLimit);
        }
        self.text = text;
    }

    /// Whether nothing could be read from the document itself.
    pub fn unreadable(&self) -> bool {
        self.warnings.as_slice().iter().any(|w| w.is_unreadable())
            || (self.warnings.contains(Warning::Malformed)
                && self.text.trim().is_empty()
                && self.pages.unwrap_or(0) == 0)
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Extracts one document. Never panics: a panic inside a parser is caught and reported
/// as `internal_error`, and the caller's batch goes on.
pub fn extract(bytes: &[u8], limits: &Limits) -> Extracted {
    let budget = Budget::start(limits);
    extract_with(bytes, &budget, 0)
}

/// Extracts on an extraction thread, with the deep stack (what `postroom extract` and
/// the tests use).
pub fn extract_isolated(bytes: impl Into<Bytes>, limits: &Limits) -> Extracted {
    let bytes: Bytes = bytes.into();
    let limits = limits.clone();
    let media_type = detect(&bytes);
    pool::run(move || extract(&bytes, &limits)).unwrap_or_else(|_| {
        let mut e = Extracted::empty(media_type);
        e.warnings.add(Warning::InternalError);
        e
    })
}

/// Runs `work` (an extraction and what follows it) on an extraction thread, and waits
/// for it without holding an async worker or a thread of the blocking pool.
pub async fn on_extract_thread<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    pool::run_async(work).await
}

pub(crate) fn extract_with(bytes: &[u8], budget: &Budget, depth: usize) -> Extracted {
    let media_type = detect(bytes);
    let mut out = Extracted::empty(media_type);
    if media_type == MediaType::Empty {
        out.warnings.add(Warning::Empty);
        return out;
    }
    if bytes.len() > budget.limits.max_input_bytes {
        out.warnings.add(Warning::TooLarge);
        return out;
    }
    // The document's text allowance is shared by all its parts and attachments: each
    // format keeps its text through the budget (Word part by part, an email its body
    // before its attachments).
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut done = Extracted::empty(media_type);
        match media_type {
            MediaType::Pdf => {
                let pdf = pdf::extract(bytes, budget, &mut done.warnings);
                done.pages = pdf.page_count;
                done.scans = pdf.scans;
                done.keep_text(budget, pdf.pages.join("\u{c}"));
            }
            MediaType::Docx => docx::extract(bytes, budget, &mut done),
            MediaType::Email => email::extract(bytes, budget, depth, &mut done),
            MediaType::Html => done.keep_text(budget, text::html_to_text(&text::decode(bytes))),
            MediaType::Text => done.keep_text(budget, text::decode(bytes)),
            // A photo or a scan on its own: one page, all picture.
            // A file whose header gives no picture size is not a picture (`malformed`).
            MediaType::Image(_) => {
                if scan::picture_size(bytes).is_some() {
                    done.pages = Some(1);
                    done.scans.push(ScannedPage::photo(bytes));
                    done.warnings.add(Warning::NoTextLayer);
                } else {
                    done.warnings.add(Warning::Malformed);
                }
            }
            MediaType::Other(_) | MediaType::Empty => done.warnings.add(Warning::UnsupportedType),
        }
        done
    }));
    match result {
        Ok(done) => done,
        Err(_) => {
            out.warnings.add(Warning::InternalError);
            out
        }
    }
}
