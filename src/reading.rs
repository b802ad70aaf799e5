//! Reading one document whole (extraction, then metadata analysis) under one panic
//! guard: what ingest and `postroom extract` run for each document.
//!
//! Extraction catches its own panics; analysis runs here under the same kind of guard,
//! so a bug in either on some hostile text gives an `internal_error` warning (and the
//! ingest quarantines the document), never a retried message, a dead CLI run, or a
//! panic message in the logs (see `telemetry::install_panic_hook`).

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::extract::{Extracted, Limits, Warning, extract};
use crate::metadata::{DocumentMetadata, Rules, analyse};

/// Extracts and analyses `bytes`. Never panics.
pub fn read_document(
    bytes: &[u8],
    source: &str,
    sha256: &str,
    limits: &Limits,
    rules: &Rules,
) -> (Extracted, DocumentMetadata) {
    let extracted = extract(bytes, limits);
    let meta = analyse_guarded(&extracted, source, sha256, rules);
    (extracted, meta)
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
