//! Text accuracy of the default OCR adapter on the scanned test set (tests/data/scans/):
//! word F1 and character error rate per condition, printed, and the goal asserted: word
//! F1 at least 0.97 at 200 dpi with scanner noise and up to 2 degrees of skew.
#![cfg(feature = "tesseract")]

mod common;

use postroom_ocr::{Rotation, TesseractOcr};

#[test]
fn scanned_letters_are_read_to_the_goal() {
    let ocr = TesseractOcr::new()
        .expect("Tesseract with English data is installed (scripts/test installs it)");
    let set = common::load_set();
    assert!(set.len() >= 10, "the set has {} pages", set.len());
    let scored = common::score(&ocr, &set);
    // The readings, for scripts/ocr_compare.py (which scores other engines the same way).
    let out = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ocr-scans");
    std::fs::create_dir_all(&out).expect("output folder");
    for s in &scored {
        std::fs::write(
            out.join(format!("{}.tesseract.txt", s.page.image)),
            s.read.text(),
        )
        .expect("write reading");
        println!(
            "{:<55} F1 {:.3} CER {:.2} % rot {} {:?}",
            s.page.image,
            s.f1,
            s.cer * 100.0,
            s.read.rotation.degrees(),
            s.read.warnings
        );
    }
    let summary = common::summarise(&scored);
    println!("{}", common::table("tesseract", &summary));

    // A page fed in crooked (3.7 and 5.7 degrees) is straightened first: 0.959 without.
    let crooked = &summary["skew6-200"];
    assert!(
        crooked.f1 >= 0.98,
        "word F1 of pages 3.7-5.7 degrees off: {:.3}",
        crooked.f1
    );
    let goal = &summary["scan-200"];
    assert!(goal.pages >= 6);
    assert!(
        goal.f1 >= 0.97,
        "word F1 at 200 dpi, noise, skew <= 2 degrees: {:.3}",
        goal.f1
    );
    // Every condition, rotated and phone pages included, is read and turned upright.
    for s in &scored {
        assert!(s.f1 >= 0.90, "{}: word F1 {:.3}", s.page.image, s.f1);
        let want = match s.page.rotation {
            90 => Rotation::Cw90,
            180 => Rotation::Cw180,
            _ => Rotation::None,
        };
        assert_eq!(s.read.rotation, want, "{}", s.page.image);
    }
}
