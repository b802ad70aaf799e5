//! The scanned test set (tests/data/scans/, built by scripts/make-scans) and scoring an
//! OCR adapter on it, per condition. Shared by tests/scans.rs and examples/ocr_scans.rs.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use postroom_ocr::metrics::{cer, word_score};
use postroom_ocr::{Image, Limits, Ocr, PageText, read_page};

pub fn scans_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/scans")
}

/// One page of the set, as manifest.json lists it.
#[derive(Debug, Clone)]
pub struct ScanPage {
    pub image: String,
    pub condition: String,
    pub dpi: u32,
    pub rotation: u16,
    pub truth: String,
}

pub fn load_set() -> Vec<ScanPage> {
    let dir = scans_dir();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest.json"))
            .expect("manifest parses");
    let pages = manifest["pages"].as_array().expect("pages");
    pages
        .iter()
        .map(|p| {
            let s = |k: &str| p[k].as_str().expect(k).to_string();
            ScanPage {
                image: s("image"),
                condition: s("condition"),
                dpi: p["dpi"].as_u64().expect("dpi") as u32,
                rotation: p["rotation"].as_u64().expect("rotation") as u16,
                truth: std::fs::read_to_string(dir.join(s("text"))).expect("true text"),
            }
        })
        .collect()
}

pub fn load_image(page: &ScanPage) -> Image {
    let bytes = std::fs::read(scans_dir().join(&page.image)).expect("scan image");
    Image::decode(&bytes, Some(page.dpi), &Limits::default()).expect("scan decodes")
}

/// One page's result.
#[derive(Debug)]
pub struct Scored {
    pub page: ScanPage,
    pub read: PageText,
    pub f1: f64,
    pub cer: f64,
}

/// Mean figures for one condition.
#[derive(Debug, Default)]
pub struct Summary {
    pub pages: usize,
    pub f1: f64,
    pub min_f1: f64,
    pub cer: f64,
    pub seconds: f64,
}

pub fn score(ocr: &dyn Ocr, set: &[ScanPage]) -> Vec<Scored> {
    let limits = Limits {
        page_time: Duration::from_secs(60),
        ..Limits::default()
    };
    set.iter()
        .map(|page| {
            let image = load_image(page);
            let read = read_page(ocr, &image, &limits);
            let text = read.text();
            Scored {
                f1: word_score(&page.truth, &text).f1,
                cer: cer(&page.truth, &text),
                page: page.clone(),
                read,
            }
        })
        .collect()
}

pub fn summarise(scored: &[Scored]) -> BTreeMap<String, Summary> {
    let mut out: BTreeMap<String, Summary> = BTreeMap::new();
    for s in scored {
        let e = out.entry(s.page.condition.clone()).or_insert(Summary {
            min_f1: 1.0,
            ..Summary::default()
        });
        e.pages += 1;
        e.f1 += s.f1;
        e.min_f1 = e.min_f1.min(s.f1);
        e.cer += s.cer;
        e.seconds += s.read.elapsed.as_secs_f64();
    }
    for e in out.values_mut() {
        let n = e.pages as f64;
        e.f1 /= n;
        e.cer /= n;
        e.seconds /= n;
    }
    out
}

pub fn table(engine: &str, summary: &BTreeMap<String, Summary>) -> String {
    let mut out = format!("{engine}: condition | pages | word F1 (mean, min) | CER | s/page\n");
    for (condition, s) in summary {
        out += &format!(
            "{condition:<11} | {} | {:.3} ({:.3}) | {:.2} % | {:.2}\n",
            s.pages,
            s.f1,
            s.min_f1,
            s.cer * 100.0,
            s.seconds
        );
    }
    out
}
