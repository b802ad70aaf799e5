//! Measures Tesseract on the scanned test set in each segmentation mode: word F1, CER and
//! seconds per page per condition, and the process's peak memory. Run with one thread:
//! `OMP_THREAD_LIMIT=1 cargo run -p postroom-ocr --release --example ocr_scans [single-block|single-column|auto]`.

#[path = "../tests/common/mod.rs"]
mod common;

use postroom_ocr::{PageSegMode, TesseractOcr};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mode = match std::env::args().nth(1).as_deref() {
        None | Some("single-block") => PageSegMode::SingleBlock,
        Some("single-column") => PageSegMode::SingleColumn,
        Some("auto") => PageSegMode::Auto,
        Some(other) => return Err(format!("unknown mode {other}").into()),
    };
    let ocr = TesseractOcr::with_mode(mode)?;
    let set = common::load_set();
    let scored = common::score(&ocr, &set);
    print!(
        "{}",
        common::table(&format!("tesseract {mode:?}"), &common::summarise(&scored))
    );
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if let Some(peak) = status.lines().find(|l| l.starts_with("VmHWM")) {
        println!("peak memory: {}", peak.trim_start_matches("VmHWM:").trim());
    }
    Ok(())
}
