//! Scanned post read by OCR through the whole reading path (`reading::read_document`):
//! image-only PDFs whose pages are JPEG, Flate or CCITT fax pictures, a photo on its own,
//! a document mixing text and scanned pages, pictures postroom cannot decode, and a
//! deployment without OCR. Then issue 20's metadata goal: the scanned set
//! (`tests/data/scans`) read as image-only PDFs scores within 0.05 of the same documents
//! born digital, per field as the labelled set scores them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use lopdf::{Dictionary, Document, Object, Stream, dictionary};
use postroom::extract::Limits;
use postroom::metadata::Rules;
use postroom::ocr::Image;
use postroom::reading::read_document;
use postroom::scanning::Scanner;
use serde_json::Value;

use super::labelled2::{FIELDS, get, same};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn scans_dir() -> PathBuf {
    root().join("tests/data/scans")
}

/// One page of a test PDF.
enum Page {
    /// An image XObject: its dictionary entries (Width, Height, Filter...) and data.
    Picture(Vec<(&'static str, Object)>, Vec<u8>),
    /// A line of Helvetica text.
    Text(&'static str),
}

/// An A4 PDF with one page per `Page`, each picture drawn over the whole page.
fn pdf(pages: Vec<Page>) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let mut kids = Vec::new();
    for page in pages {
        let (resources, content) = match page {
            Page::Picture(entries, data) => {
                let mut dict = Dictionary::new();
                dict.set("Type", "XObject");
                dict.set("Subtype", "Image");
                for (k, v) in entries {
                    dict.set(k, v);
                }
                let image = doc.add_object(Stream::new(dict, data).with_compression(false));
                (
                    dictionary! { "XObject" => dictionary! { "Im0" => image } },
                    b"q 595 0 0 842 0 0 cm /Im0 Do Q".to_vec(),
                )
            }
            Page::Text(line) => (
                dictionary! { "Font" => dictionary! { "F1" => font } },
                format!("BT /F1 12 Tf 72 760 Td ({line}) Tj ET").into_bytes(),
            ),
        };
        let content = doc.add_object(Stream::new(Dictionary::new(), content));
        kids.push(Object::Reference(doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            "Resources" => resources,
            "Contents" => content,
        })));
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("save the PDF");
    out
}

fn jpeg_page(jpeg: &[u8]) -> Page {
    let image = Image::decode(jpeg, None, &postroom::ocr::Limits::default()).expect("decode");
    Page::Picture(
        vec![
            ("Width", (image.width() as i64).into()),
            ("Height", (image.height() as i64).into()),
            ("ColorSpace", "DeviceGray".into()),
            ("BitsPerComponent", 8.into()),
            ("Filter", "DCTDecode".into()),
        ],
        jpeg.to_vec(),
    )
}

fn flate_page(image: &Image) -> Page {
    use std::io::Write as _;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(image.as_bytes()).expect("deflate");
    Page::Picture(
        vec![
            ("Width", (image.width() as i64).into()),
            ("Height", (image.height() as i64).into()),
            ("ColorSpace", "DeviceGray".into()),
            ("BitsPerComponent", 8.into()),
            ("Filter", "FlateDecode".into()),
        ],
        z.finish().expect("deflate"),
    )
}

/// The page thresholded to black and white and coded as a fax (CCITT Group 4), as
/// document scanners write black-and-white PDFs.
fn ccitt_page(image: &Image) -> Page {
    let (w, h) = (image.width() as u16, image.height() as u16);
    let mut encoder = fax::encoder::Encoder::new(fax::VecWriter::new());
    for y in 0..u32::from(h) {
        let row = (0..u32::from(w)).map(|x| {
            if image.get(x, y) < 128 {
                fax::Color::Black
            } else {
                fax::Color::White
            }
        });
        encoder.encode_line(row, w).expect("encode");
    }
    let data = encoder.finish().expect("finish").finish();
    Page::Picture(
        vec![
            ("Width", i64::from(w).into()),
            ("Height", i64::from(h).into()),
            ("ImageMask", true.into()),
            ("BitsPerComponent", 1.into()),
            ("Filter", "CCITTFaxDecode".into()),
            (
                "DecodeParms",
                Object::Dictionary(dictionary! {
                    "K" => -1, "Columns" => i64::from(w), "Rows" => i64::from(h),
                }),
            ),
        ],
        data,
    )
}

fn read(bytes: &[u8], scanner: &Scanner) -> (postroom::extract::Extracted, Value) {
    let (extracted, meta) = read_document(
        bytes,
        "scan.pdf",
        "0",
        &Limits::default(),
        Rules::builtin(),
        scanner,
    );
    (extracted, serde_json::to_value(meta).expect("JSON"))
}

fn codes(meta: &Value) -> Vec<String> {
    crate::support::warning_codes(meta)
}

/// Fails unless the metadata carries every one of `wanted` among its warnings.
fn assert_warned(meta: &Value, wanted: &[&str]) {
    let warnings = codes(meta);
    for code in wanted {
        assert!(
            warnings.iter().any(|w| w == code),
            "{code} missing: {warnings:?}"
        );
    }
}

/// The words of a text, lower case, without punctuation at their ends.
fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// The share of `truth`'s words found in `read` (bag of words).
fn recall(truth: &str, read: &str) -> f64 {
    let mut pool = words(read);
    let truth = words(truth);
    let found = truth
        .iter()
        .filter(|w| {
            pool.iter()
                .position(|p| p == *w)
                .map(|i| pool.swap_remove(i))
                .is_some()
        })
        .count();
    found as f64 / truth.len().max(1) as f64
}

const GOAL_PAGE: &str = "scan-200--letter_of_claim-01.fpdf.jpg";

fn goal_page() -> (Vec<u8>, String) {
    let jpeg = std::fs::read(scans_dir().join(GOAL_PAGE)).expect("scan");
    let truth =
        std::fs::read_to_string(scans_dir().join("letter_of_claim-01.fpdf.txt")).expect("truth");
    (jpeg, truth)
}

#[test]
fn the_demo_scanned_letter_is_read_and_names_its_claim() {
    let bytes = std::fs::read(root().join("samples/10-scanned-letter.pdf")).expect("sample");
    let (extracted, meta) = read(&bytes, &Scanner::deployment());
    let warnings = codes(&meta);
    assert!(warnings.contains(&"ocr_text".to_owned()), "{warnings:?}");
    assert!(
        !warnings.contains(&"no_text_layer".to_owned()),
        "{warnings:?}"
    );
    assert!(extracted.scans.is_empty(), "the scans are read and let go");
    assert_eq!(meta["references"]["case_ref"], "CNST/25/008879", "{meta}");
    // The words' confidence is the text's, and the type's is scaled by it.
    let c = meta["text_confidence"].as_f64().expect("a text confidence");
    assert!((0.6..=1.0).contains(&c), "{c}");
    assert!(meta["doc_type_confidence"].as_f64().unwrap_or(1.0) <= c);
    let claim = &meta["evidence"]["references.case_ref"];
    assert!(
        claim["confidence"].as_f64().unwrap_or(1.0) <= c,
        "each field's confidence is scaled by the text's: {claim}"
    );
    assert!(
        extracted.text.contains("Pre-Action"),
        "the letter's words are the document's text"
    );
}

#[test]
fn jpeg_flate_and_fax_pages_and_a_photo_are_all_read() {
    let (jpeg, truth) = goal_page();
    let image = Image::decode(&jpeg, Some(200), &postroom::ocr::Limits::default()).expect("image");
    let scanner = Scanner::deployment();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("JPEG page", pdf(vec![jpeg_page(&jpeg)])),
        ("Flate page", pdf(vec![flate_page(&image)])),
        ("CCITT G4 page", pdf(vec![ccitt_page(&image)])),
        ("photo", jpeg.clone()),
    ];
    for (what, bytes) in cases {
        let (extracted, meta) = read(&bytes, &scanner);
        let r = recall(&truth, &extracted.text);
        eprintln!("{what}: word recall {r:.3}");
        assert!(r >= 0.95, "{what}: word recall {r:.3}");
        assert!(
            codes(&meta).contains(&"ocr_text".to_owned()),
            "{what}: {meta}"
        );
        assert_eq!(meta["references"]["case_ref"], "CNST/22/001854", "{what}");
    }
}

#[test]
fn only_the_pages_without_text_are_read_and_each_keeps_its_place() {
    let (jpeg, truth) = goal_page();
    let bytes = pdf(vec![
        Page::Text("Covering note for the enclosed scanned letter, page one."),
        jpeg_page(&jpeg),
        Page::Text("Page three has its own text layer."),
    ]);
    let (extracted, meta) = read(&bytes, &Scanner::deployment());
    let pages: Vec<&str> = extracted.text.split('\u{c}').collect();
    assert_eq!(pages.len(), 3, "{:?}", codes(&meta));
    assert!(pages[0].contains("Covering note"));
    assert!(recall(&truth, pages[1]) >= 0.95, "page two is the scan");
    assert!(pages[2].contains("Page three"));
    assert_eq!(meta["pages"], 3);
}

#[test]
fn pictures_that_cannot_be_decoded_are_a_warning_not_a_failure() {
    let (jpeg, _) = goal_page();
    let jbig2 = Page::Picture(
        vec![
            ("Width", 1654.into()),
            ("Height", 2339.into()),
            ("BitsPerComponent", 1.into()),
            ("Filter", "JBIG2Decode".into()),
        ],
        vec![0x97, 0x4a, 0x42, 0x32, 0x0d, 0x0a, 0x1a, 0x0a],
    );
    let broken_flate = Page::Picture(
        vec![
            ("Width", 1654.into()),
            ("Height", 2339.into()),
            ("ColorSpace", "DeviceGray".into()),
            ("BitsPerComponent", 8.into()),
            ("Filter", "FlateDecode".into()),
        ],
        b"this is not deflate data".to_vec(),
    );
    let bytes = pdf(vec![jbig2, broken_flate, jpeg_page(&jpeg)]);
    let (extracted, meta) = read(&bytes, &Scanner::deployment());
    // The good page is read all the same.
    assert_warned(&meta, &["ocr_image_unsupported", "ocr_text"]);
    assert_eq!(meta["references"]["case_ref"], "CNST/22/001854");
    assert!(!extracted.unreadable());
}

#[test]
fn a_picture_over_the_pixel_budget_is_not_decoded() {
    let (jpeg, _) = goal_page();
    let limits = Limits {
        ocr_max_pixels: 1_000_000,
        ..Limits::default()
    };
    for bytes in [pdf(vec![jpeg_page(&jpeg)]), jpeg.clone()] {
        let (_, meta) = read_document(
            &bytes,
            "big.pdf",
            "0",
            &limits,
            Rules::builtin(),
            &Scanner::deployment(),
        );
        let warnings: Vec<&str> = meta.warnings.iter().map(|w| w.code()).collect();
        assert!(warnings.contains(&"ocr_image_too_large"), "{warnings:?}");
        assert!(warnings.contains(&"no_text_layer"), "{warnings:?}");
    }
}

#[test]
fn without_an_engine_scanned_pages_say_ocr_is_unavailable() {
    let (jpeg, _) = goal_page();
    let (extracted, meta) = read(&pdf(vec![jpeg_page(&jpeg)]), &Scanner::none());
    assert_warned(&meta, &["ocr_unavailable", "no_text_layer"]);
    assert!(extracted.text.trim().is_empty());
}

/// An engine that always fails, as a broken deployment's would.
#[derive(Debug)]
struct Broken;

impl postroom::ocr::Ocr for Broken {
    fn name(&self) -> &'static str {
        "broken"
    }
    fn recognise(&self, image: &Image, _limits: &postroom::ocr::Limits) -> postroom::ocr::PageText {
        postroom::ocr::PageText {
            engine: "broken",
            width: image.width(),
            height: image.height(),
            warnings: vec![postroom::ocr::OcrWarning::EngineFailed],
            ..Default::default()
        }
    }
}

#[test]
fn an_engine_failure_is_a_warning_on_a_readable_document() {
    let (jpeg, _) = goal_page();
    let (extracted, meta) = read(
        &pdf(vec![jpeg_page(&jpeg)]),
        &Scanner::with(Arc::new(Broken)),
    );
    assert_warned(&meta, &["ocr_engine_failed"]);
    assert!(!extracted.unreadable(), "the document is kept, flagged");
}

/// Issue 20's metadata goal: each page of the scanned set, as an image-only PDF, against
/// the born-digital document it was made from, on the labelled set's fields.
#[test]
fn metadata_from_scans_is_within_five_points_of_born_digital() {
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(scans_dir().join("manifest.json")).expect("manifest"),
    )
    .expect("manifest JSON");
    let scanner = Scanner::deployment();
    let documents = root().join("tests/data/documents");
    let mut right_scanned = vec![0usize; FIELDS.len()];
    let mut right_digital = vec![0usize; FIELDS.len()];
    let mut n = 0usize;
    let mut by_condition: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    for page in manifest["pages"].as_array().expect("pages") {
        let image = page["image"].as_str().expect("image");
        let source = page["source"].as_str().expect("source");
        let labels: Value = serde_json::from_str(
            &std::fs::read_to_string(scans_dir().join(page["labels"].as_str().expect("labels")))
                .expect("labels"),
        )
        .expect("labels JSON");
        let jpeg = std::fs::read(scans_dir().join(image)).expect("scan");
        let (_, scanned) = read(&pdf(vec![jpeg_page(&jpeg)]), &scanner);
        let digital_bytes = std::fs::read(Path::new(&documents).join(format!("{source}.pdf")))
            .expect("born-digital source");
        let (_, digital) = read(&digital_bytes, &Scanner::none());
        n += 1;
        let entry = by_condition
            .entry(page["condition"].as_str().unwrap_or("?").to_owned())
            .or_default();
        for (i, field) in FIELDS.iter().enumerate() {
            let want = get(&labels, field);
            let s = same(field, want, get(&scanned, field));
            let d = same(field, want, get(&digital, field));
            right_scanned[i] += usize::from(s);
            right_digital[i] += usize::from(d);
            entry.0 += usize::from(s);
            entry.1 += usize::from(d);
            if d && !s {
                eprintln!("{image}: {field} read from the scan differs from born digital");
            }
        }
    }
    let share = |r: usize| r as f64 / n as f64;
    eprintln!("| field | scanned | born digital |\n|---|---:|---:|");
    for (i, field) in FIELDS.iter().enumerate() {
        eprintln!(
            "| {field} | {:.3} | {:.3} |",
            share(right_scanned[i]),
            share(right_digital[i])
        );
    }
    for (condition, (s, d)) in &by_condition {
        eprintln!("condition {condition}: scanned {s} fields right, born digital {d}");
    }
    let mean = |right: &[usize]| right.iter().map(|r| share(*r)).sum::<f64>() / FIELDS.len() as f64;
    let (scanned, digital) = (mean(&right_scanned), mean(&right_digital));
    eprintln!(
        "mean field accuracy over {n} scanned pages: scanned {scanned:.3}, born digital {digital:.3}"
    );
    assert!(
        scanned >= digital - 0.05,
        "scanned {scanned:.3} is more than 0.05 below born digital {digital:.3}"
    );
}
