//! The OCR port's contract: every adapter is run through the same checks. A rendered line
//! of known text is read; a blank page gives no words and no warning; a page turned 90 or
//! 180 degrees is turned back and read; a page over the pixel budget is refused with
//! `ocr_image_too_large`; a spent time budget gives `ocr_timeout`, on time.

mod common;

use std::time::{Duration, Instant};

use postroom_ocr::metrics::word_score;
use postroom_ocr::{Image, Limits, Ocr, OcrWarning, Rotation, read_page};

/// Every adapter this build has (each behind its own feature, hence the pushes).
#[allow(clippy::vec_init_then_push)]
fn adapters() -> Vec<Box<dyn Ocr>> {
    let mut all: Vec<Box<dyn Ocr>> = Vec::new();
    #[cfg(feature = "tesseract")]
    all.push(Box::new(
        postroom_ocr::TesseractOcr::new().expect("Tesseract with English data is installed"),
    ));
    all
}

fn line() -> (Image, String) {
    let dir = common::scans_dir();
    let png = std::fs::read(dir.join("contract-line.png")).expect("contract-line.png");
    let truth = std::fs::read_to_string(dir.join("contract-line.txt")).expect("contract-line.txt");
    (
        Image::decode(&png, Some(200), &Limits::default()).expect("decodes"),
        truth,
    )
}

/// The line placed on an A5-sized page at 200 dpi, a margin above it and whitespace below.
fn page_with_line() -> (Image, String) {
    let (line, truth) = line();
    let (w, h) = (1654u32, 1169u32);
    let mut px = vec![255u8; (w * h) as usize];
    for y in 0..line.height() {
        for x in 0..line.width().min(w) {
            px[((y + 200) * w + x + 60) as usize] = line.get(x, y);
        }
    }
    (
        Image::grey(w, h, px, Some(200)).expect("size matches"),
        truth,
    )
}

fn assert_read(ocr: &dyn Ocr, image: &Image, truth: &str, what: &str) -> postroom_ocr::PageText {
    let page = read_page(ocr, image, &Limits::default());
    let text = page.text();
    let f1 = word_score(truth, &text).f1;
    assert!(f1 >= 0.85, "{}: {what}: word F1 {f1:.2}", ocr.name());
    assert!(
        text.contains("CNST/22/001854"),
        "{}: {what}: the reference is read exactly",
        ocr.name()
    );
    assert!(
        page.warnings.is_empty(),
        "{}: {what}: {:?}",
        ocr.name(),
        page.warnings
    );
    for w in &page.words {
        assert!((0.0..=1.0).contains(&w.confidence));
        assert!(
            w.bbox.left + w.bbox.width <= page.width && w.bbox.top + w.bbox.height <= page.height,
            "{what}: box inside the page"
        );
        assert!(
            page.lines[w.line].words.contains(
                &page
                    .words
                    .iter()
                    .position(|x| std::ptr::eq(x, w))
                    .unwrap_or(usize::MAX)
            )
        );
    }
    page
}

#[test]
fn a_rendered_line_of_known_text_is_read() {
    for ocr in adapters() {
        let (image, truth) = page_with_line();
        let page = assert_read(ocr.as_ref(), &image, &truth, "upright");
        assert_eq!(page.rotation, Rotation::None);
        assert_eq!(page.lines.len(), 1, "{}: one line", ocr.name());
        // The words sit where the line was drawn (200 px down, 60 px in).
        let first = &page.words[0];
        assert!(
            (200..330).contains(&first.bbox.top) && (60..200).contains(&first.bbox.left),
            "{:?}",
            first.bbox
        );
    }
}

#[test]
fn a_blank_page_gives_no_words_and_no_warning() {
    for ocr in adapters() {
        let blank =
            Image::grey(1654, 2339, vec![250; 1654 * 2339], Some(200)).expect("size matches");
        let page = read_page(ocr.as_ref(), &blank, &Limits::default());
        assert!(
            page.words.is_empty() && page.lines.is_empty(),
            "{}: {:?}",
            ocr.name(),
            page.words
        );
        assert!(
            page.warnings.is_empty(),
            "{}: {:?}",
            ocr.name(),
            page.warnings
        );
    }
}

#[test]
fn a_turned_page_is_turned_back_and_read() {
    for ocr in adapters() {
        let (image, truth) = page_with_line();
        for (turned, back) in [
            (Rotation::Cw90, Rotation::Cw270),
            (Rotation::Cw180, Rotation::Cw180),
            (Rotation::Cw270, Rotation::Cw90),
        ] {
            let page = assert_read(
                ocr.as_ref(),
                &image.rotated(turned),
                &truth,
                &format!("turned {}", turned.degrees()),
            );
            assert_eq!(
                page.rotation,
                back,
                "{}: turned {}",
                ocr.name(),
                turned.degrees()
            );
            assert_eq!((page.width, page.height), (image.width(), image.height()));
        }
    }
}

#[test]
fn a_page_over_the_pixel_budget_is_refused_with_a_warning() {
    for ocr in adapters() {
        let (image, _) = page_with_line();
        let limits = Limits {
            max_pixels: image.pixels() - 1,
            ..Limits::default()
        };
        let started = Instant::now();
        let page = read_page(ocr.as_ref(), &image, &limits);
        assert_eq!(page.warnings, [OcrWarning::ImageTooLarge], "{}", ocr.name());
        assert_eq!(page.warnings[0].code(), "ocr_image_too_large");
        assert!(page.words.is_empty());
        assert!(
            started.elapsed() < Duration::from_millis(50),
            "refused before any work"
        );
        // An empty image is refused too, not read.
        let empty = Image::grey(0, 0, Vec::new(), None).expect("0x0 is consistent");
        assert_eq!(
            read_page(ocr.as_ref(), &empty, &Limits::default()).warnings,
            [OcrWarning::InvalidImage]
        );
    }
}

#[test]
fn a_spent_time_budget_gives_a_warning_on_time() {
    let set = common::load_set();
    let scan = set
        .iter()
        .find(|p| p.condition == "scan-200")
        .expect("a 200 dpi scan");
    let image = common::load_image(scan);
    for ocr in adapters() {
        let limits = Limits {
            page_time: Duration::from_millis(5),
            ..Limits::default()
        };
        let started = Instant::now();
        let page = read_page(ocr.as_ref(), &image, &limits);
        let took = started.elapsed();
        assert!(
            page.warnings.contains(&OcrWarning::Timeout),
            "{}: {:?}",
            ocr.name(),
            page.warnings
        );
        assert_eq!(OcrWarning::Timeout.code(), "ocr_timeout");
        // A full page takes about a second; the budget is kept (with room for a loaded machine).
        assert!(
            took < Duration::from_millis(400),
            "{}: returned after {took:?}",
            ocr.name()
        );
        // The adapter still reads the next page after a timed-out one.
        let (line, truth) = page_with_line();
        assert_read(ocr.as_ref(), &line, &truth, "after a timeout");
    }
}
