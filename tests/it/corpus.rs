//! The real-world corpus (`../shared/corpus/pdf`, 1,072 PDFs from PDF projects' test
//! suites, many broken on purpose): every file is read without an internal error (a
//! caught panic) and within the document time budget. Text quality against pdftotext
//! is measured by `cargo bench --bench pdf_corpus`, not here.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use postroom::extract::{Limits, Warning, extract_isolated};

fn pdfs(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            pdfs(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("pdf"))
        {
            out.push(path);
        }
    }
}

#[test]
fn every_corpus_pdf_is_read_without_an_internal_error() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/pdf");
    let mut files = Vec::new();
    pdfs(&dir, &mut files);
    if files.is_empty() {
        assert!(
            std::env::var("CI").is_err(),
            "CI must have ../shared/corpus/pdf beside the clone"
        );
        let _ = writeln!(
            std::io::stderr(),
            "\n*** NOT RUN: the corpus test: no PDFs under {} ***",
            dir.display()
        );
        return;
    }
    let limits = Limits::default();
    let mut failures = Vec::new();
    for file in &files {
        let Ok(bytes) = std::fs::read(file) else {
            continue;
        };
        let extracted = extract_isolated(bytes.clone(), &limits);
        if extracted.warnings.contains(Warning::InternalError) {
            failures.push(file.display().to_string());
        }
    }
    assert!(
        files.len() >= 1000,
        "expected the 1,072-file corpus, found {}",
        files.len()
    );
    assert!(failures.is_empty(), "internal errors on: {failures:?}");
}
