//! Reading one document whole (extraction, OCR of its scanned pages, then metadata
//! analysis) under panic guards: what ingest and `postroom extract` run for each document.
//!
//! Extraction catches its own panics; analysis runs here under the same kind of guard,
//! so a bug in either on some hostile text gives an `internal_error` warning (and the
//! ingest quarantines the document), never a retried message, a dead CLI run, or a
//! panic message in the logs (see `telemetry::install_panic_hook`).

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::extract::{Extracted, Limits, Warning, extract};
use crate::metadata::{DocumentMetadata, Rules, analyse};
use crate::scanning::{ScanSummary, Scanner};

/// Extracts `bytes`, reads its scanned pages with `scanner`, and analyses the text.
/// Never panics.
pub fn read_document(
    bytes: &[u8],
    source: &str,
    sha256: &str,
    limits: &Limits,
    rules: &Rules,
    scanner: &Scanner,
) -> (Extracted, DocumentMetadata) {
    let mut extracted = extract(bytes, limits);
    let scanned = scan_guarded(scanner, &mut extracted, limits);
    let mut meta = analyse_guarded(&extracted, source, sha256, rules);
    with_text_confidence(&mut meta, &scanned);
    (extracted, meta)
}

/// Carries OCR's confidence into the metadata: the text's own, and every field's (the
/// type's and each field's evidence) scaled by it: a value read from doubtful words is
/// as doubtful.
pub fn with_text_confidence(meta: &mut DocumentMetadata, scanned: &ScanSummary) {
    if let Some(c) = scanned.confidence {
        let c = f64::from(c.clamp(0.0, 1.0));
        let scaled = |x: f64| (x * c * 100.0).round() / 100.0;
        meta.text_confidence = Some((c * 100.0).round() / 100.0);
        meta.doc_type_confidence = scaled(meta.doc_type_confidence);
        for evidence in meta.evidence.values_mut() {
            evidence.confidence = scaled(evidence.confidence);
        }
    }
}

/// `Scanner::read` under a panic guard: a panic leaves the pages unread and says
/// `ocr_engine_failed`.
pub fn scan_guarded(scanner: &Scanner, extracted: &mut Extracted, limits: &Limits) -> ScanSummary {
    if extracted.scans.is_empty()
        && extracted
            .attachments
            .iter()
            .all(|a| a.extracted.scans.is_empty())
    {
        return ScanSummary::default();
    }
    // No copy of the document is kept for a panic: `Scanner::read` changes the text only
    // once every page is read, so a panic leaves it as extraction made it.
    match catch_unwind(AssertUnwindSafe(|| scanner.read(extracted, limits))) {
        Ok(summary) => summary,
        Err(_) => {
            tracing::error!(source_kind = "ocr", "OCR failed");
            extracted.warnings.add(Warning::OcrEngineFailed);
            ScanSummary::default()
        }
    }
}

/// `analyse`, with a panic turned into the `internal_error` warning on metadata that
/// says only what extraction found (type, pages, warnings).
pub fn analyse_guarded(
    extracted: &Extracted,
    source: &str,
    sha256: &str,
    rules: &Rules,
) -> DocumentMetadata {
    match catch_unwind(AssertUnwindSafe(|| {
        analyse(extracted, source, sha256, rules)
    })) {
        Ok(meta) => meta,
        Err(_) => {
            tracing::error!(source_kind = "analysis", "metadata analysis failed");
            let mut warnings = extracted.warnings.clone();
            warnings.add(Warning::InternalError);
            let bare = Extracted {
                media_type: extracted.media_type,
                text: String::new(),
                pages: extracted.pages,
                email: None,
                attachments: Vec::new(),
                warnings,
                scans: Vec::new(),
            };
            // Analysis of no text has nothing to trip on.
            let mut meta = analyse(&bare, source, sha256, rules);
            if !meta.warnings.contains(&Warning::InternalError) {
                meta.warnings.push(Warning::InternalError);
            }
            meta
        }
    }
}
