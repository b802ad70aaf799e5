//! The second labelled set (`tests/data/labelled2`, made by `tests/data/generate_v2.py`,
//! written independently of the rules): every document and each email attachment is
//! read and scored on the 18 fields of issue 19, and accuracy is printed per field and per
//! document type for the tuning part and the held-out part (fixed by a hash of the file
//! name, recorded in manifest.json). The held-out mean may not fall more than 0.02 below
//! `baseline.json`; `UPDATE_BASELINE=1` rewrites the baseline deliberately.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use postroom::extract::{Limits, extract_isolated, sha256_hex};
use postroom::metadata::{Rules, analyse};
use serde_json::{Value, json};

/// The 18 fields of issue 19's table.
pub(crate) const FIELDS: &[&str] = &[
    "doc_type",
    "document_date",
    "incident_date",
    "references.case_ref",
    "references.claim",
    "references.court",
    "references.foi",
    "references.appeal",
    "amounts_gbp",
    "personal_data.nhs_numbers",
    "clinical.scheme",
    "clinical.specialty",
    "clinical.cause",
    "clinical.injury",
    "parties.claimant",
    "parties.defendants",
    "parties.claimant_solicitor",
    "parties.requester",
];
const HELD_OUT_PERCENT: u64 = 40;
const ALLOWED_FALL: f64 = 0.02;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/labelled2")
}

pub(crate) fn get<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.')
        .fold(v, |v, k| v.get(k).unwrap_or(&Value::Null))
}

/// A name compared without regard to letter case or runs of white space.
fn name_key(v: &Value) -> Option<String> {
    v.as_str().map(|s| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    })
}

/// Whether a field's value is right. Lists compare as multisets (order is not scored),
/// names without regard to case or spacing, amounts to the penny.
pub(crate) fn same(field: &str, want: &Value, got: &Value) -> bool {
    let names = field.starts_with("parties.");
    match (want, got) {
        (Value::Array(w), Value::Array(g)) => {
            if w.len() != g.len() {
                return false;
            }
            let key = |v: &Value| -> String {
                if names {
                    name_key(v).unwrap_or_default()
                } else if let Some(n) = v.as_f64() {
                    format!("{:.2}", n)
                } else {
                    v.to_string()
                }
            };
            let mut w: Vec<String> = w.iter().map(key).collect();
            let mut g: Vec<String> = g.iter().map(key).collect();
            w.sort();
            g.sort();
            w == g
        }
        (Value::Array(w), Value::Null) => w.is_empty(),
        (Value::String(_), Value::String(_)) if names => name_key(want) == name_key(got),
        (Value::Number(w), Value::Number(g)) => {
            (w.as_f64().unwrap_or(f64::NAN) - g.as_f64().unwrap_or(f64::NAN)).abs() < 0.005
        }
        _ => want == got,
    }
}

/// One scored item: a document or an attachment of one.
struct Item {
    held_out: bool,
    doc_type: String,
    right: Vec<bool>,
    confidence: Option<f64>,
    /// Each field's evidence confidence, where the reading gave one.
    evidence: Vec<Option<f64>>,
}

#[derive(Default)]
struct Tally {
    n: usize,
    right: BTreeMap<&'static str, usize>,
}

impl Tally {
    fn add(&mut self, item: &Item) {
        self.n += 1;
        for (field, ok) in FIELDS.iter().zip(&item.right) {
            if *ok {
                *self.right.entry(field).or_default() += 1;
            }
        }
    }
    fn field(&self, field: &str) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        *self.right.get(field).unwrap_or(&0) as f64 / self.n as f64
    }
    fn mean(&self) -> f64 {
        FIELDS.iter().map(|f| self.field(f)).sum::<f64>() / FIELDS.len() as f64
    }
}

fn report(label: &str, items: &[&Item]) -> (String, Tally) {
    let mut all = Tally::default();
    let mut by_type: BTreeMap<&str, (Tally, usize)> = BTreeMap::new();
    for item in items {
        all.add(item);
        let e = by_type.entry(item.doc_type.as_str()).or_default();
        e.0.add(item);
        if item.right[0] {
            e.1 += 1;
        }
    }
    let mut out = format!(
        "\n== labelled2, {label}: {} items, mean field accuracy {:.3} ==\n",
        all.n,
        all.mean()
    );
    out.push_str("| field | accuracy |\n|---|---:|\n");
    for f in FIELDS {
        out.push_str(&format!("| {f} | {:.2} |\n", all.field(f)));
    }
    out.push_str("\n| doc_type | n | typed right | mean field accuracy |\n|---|---:|---:|---:|\n");
    for (t, (tally, typed)) in &by_type {
        out.push_str(&format!(
            "| {t} | {} | {:.2} | {:.2} |\n",
            tally.n,
            *typed as f64 / tally.n as f64,
            tally.mean()
        ));
    }
    (out, all)
}

/// Of the items given a type confidence near p, the share typed right.
fn calibration(items: &[&Item]) -> String {
    let mut buckets = [(0usize, 0usize); 5];
    for item in items {
        if let Some(c) = item.confidence {
            let b = ((c * 5.0).floor() as usize).min(4);
            buckets[b].0 += 1;
            if item.right[0] {
                buckets[b].1 += 1;
            }
        }
    }
    let mut out = String::from("\n| type confidence | n | typed right |\n|---|---:|---:|\n");
    for (i, (n, r)) in buckets.iter().enumerate() {
        if *n > 0 {
            out.push_str(&format!(
                "| {:.1}–{:.1} | {n} | {:.2} |\n",
                i as f64 / 5.0,
                (i + 1) as f64 / 5.0,
                *r as f64 / *n as f64
            ));
        }
    }
    out
}

/// Of the fields (doc_type aside) read with a given evidence confidence (fixed levels, one
/// a source), the share right.
fn field_calibration(items: &[&Item]) -> String {
    let mut levels: BTreeMap<u32, (usize, usize)> = BTreeMap::new();
    for item in items {
        for (i, c) in item.evidence.iter().enumerate().skip(1) {
            if let Some(c) = c {
                let e = levels.entry((c * 100.0).round() as u32).or_default();
                e.0 += 1;
                if item.right[i] {
                    e.1 += 1;
                }
            }
        }
    }
    let mut out = String::from("\n| field evidence confidence | n | right |\n|---|---:|---:|\n");
    for (level, (n, r)) in levels.iter().rev() {
        out.push_str(&format!(
            "| {:.2} | {n} | {:.2} |\n",
            *level as f64 / 100.0,
            *r as f64 / *n as f64
        ));
    }
    out
}

/// Each field's evidence confidence in `got`'s `evidence` map, if any.
fn evidence_confidences(got: &Value) -> Vec<Option<f64>> {
    FIELDS
        .iter()
        .map(|f| {
            got.get("evidence")
                .and_then(|e| e.get(*f))
                .and_then(|e| e.get("confidence"))
                .and_then(Value::as_f64)
        })
        .collect()
}

fn score(want: &Value, got: &Value) -> Vec<bool> {
    FIELDS
        .iter()
        .map(|f| same(f, get(want, f), get(got, f)))
        .collect()
}

#[test]
fn labelled2_held_out_accuracy_holds_its_baseline() {
    let rules = Rules::builtin();
    let limits = Limits::default();
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(dir().join("manifest.json")).expect("manifest.json"),
    )
    .expect("manifest JSON");
    let docs = manifest["documents"].as_array().expect("documents");
    assert!(docs.len() >= 300, "labelled2 has {} documents", docs.len());

    let mut items: Vec<Item> = Vec::new();
    let mut misses: Vec<String> = Vec::new();
    let started = Instant::now();
    for d in docs {
        let name = d["file"].as_str().expect("file").to_owned();
        // The split is the documented rule, not whatever the manifest says.
        let hash = sha256_hex(name.as_bytes());
        let held_out = u64::from_str_radix(&hash[..8], 16).expect("hex") % 100 < HELD_OUT_PERCENT;
        assert_eq!(
            d["part"].as_str() == Some("held_out"),
            held_out,
            "{name}: the manifest's part disagrees with the hash rule"
        );
        let bytes = std::fs::read(dir().join(&name)).expect("read document");
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(dir().join(format!("{name}.expected.json")))
                .expect("expected file"),
        )
        .expect("expected JSON");
        let extracted = extract_isolated(bytes.clone(), &limits);
        assert!(
            !extracted.unreadable(),
            "{name} could not be read: {:?}",
            extracted.warnings
        );
        let got = serde_json::to_value(analyse(&extracted, &name, &sha256_hex(&bytes), rules))
            .expect("serialise");
        let mut pairs = vec![(name.clone(), expected.clone(), got.clone())];
        if let Some(atts) = expected.get("attachments").and_then(Value::as_array) {
            for (i, a) in atts.iter().enumerate() {
                let g = got
                    .get("attachments")
                    .and_then(|v| v.get(i))
                    .cloned()
                    .unwrap_or(Value::Null);
                pairs.push((format!("{name}#attachment{i}"), a.clone(), g));
            }
        }
        for (label, want, got) in pairs {
            let right = score(&want, &got);
            for (f, ok) in FIELDS.iter().zip(&right) {
                if !ok && !held_out {
                    misses.push(format!(
                        "{label} {f}: expected {}, got {}",
                        get(&want, f),
                        get(&got, f)
                    ));
                }
            }
            items.push(Item {
                held_out,
                doc_type: want["doc_type"].as_str().unwrap_or("?").to_owned(),
                right,
                confidence: got.get("doc_type_confidence").and_then(Value::as_f64),
                evidence: evidence_confidences(&got),
            });
        }
    }
    let elapsed = started.elapsed();
    let tuning: Vec<&Item> = items.iter().filter(|i| !i.held_out).collect();
    let held: Vec<&Item> = items.iter().filter(|i| i.held_out).collect();
    let (tuning_report, _) = report("tuning part", &tuning);
    let (held_report, held_tally) = report("held-out part", &held);
    eprintln!(
        "{tuning_report}{held_report}\ntype confidence against correctness, all items:{}\nfield evidence confidence against correctness, all items (doc_type aside):{}\n{} documents extracted and analysed in {:.2} s ({:.1} documents/s, this build)\n",
        calibration(&items.iter().collect::<Vec<_>>()),
        field_calibration(&items.iter().collect::<Vec<_>>()),
        docs.len(),
        elapsed.as_secs_f64(),
        docs.len() as f64 / elapsed.as_secs_f64()
    );
    eprintln!(
        "tuning-part mismatches (held-out mismatches are not shown):\n{}",
        misses.join("\n")
    );

    let fields: serde_json::Map<String, Value> = FIELDS
        .iter()
        .map(|f| {
            (
                f.to_string(),
                json!((held_tally.field(f) * 1000.0).round() / 1000.0),
            )
        })
        .collect();
    let mean = (held_tally.mean() * 1000.0).round() / 1000.0;
    let baseline_path = dir().join("baseline.json");
    if std::env::var_os("UPDATE_BASELINE").is_some() {
        let baseline = json!({
            "about": "labelled2 held-out accuracy per field and mean over the 18 fields; the labelled2 test fails if the held-out mean falls more than 0.02 below `held_out_mean`. Rewrite with UPDATE_BASELINE=1 cargo test --test it labelled2::",
            "held_out_items": held_tally.n,
            "held_out_mean": mean,
            "held_out_fields": fields,
        });
        std::fs::write(
            &baseline_path,
            serde_json::to_string_pretty(&baseline).expect("baseline JSON") + "\n",
        )
        .expect("write baseline.json");
        eprintln!("baseline.json rewritten: held-out mean {mean:.3}");
    }
    let baseline: Value = serde_json::from_str(
        &std::fs::read_to_string(&baseline_path)
            .expect("tests/data/labelled2/baseline.json (make it with UPDATE_BASELINE=1)"),
    )
    .expect("baseline JSON");
    let floor = baseline["held_out_mean"].as_f64().expect("held_out_mean") - ALLOWED_FALL;
    assert!(
        held_tally.mean() >= floor,
        "labelled2 held-out mean {:.3} fell below the baseline's {:.3} less {ALLOWED_FALL}",
        held_tally.mean(),
        floor + ALLOWED_FALL
    );
}

/// The fields whose reading is attributed: each value read comes with its evidence.
const ATTRIBUTED: &[&str] = &[
    "doc_type",
    "document_date",
    "incident_date",
    "references.case_ref",
    "clinical.scheme",
    "clinical.specialty",
    "clinical.cause",
    "clinical.injury",
    "parties.claimant",
    "parties.defendants",
    "parties.claimant_solicitor",
    "parties.requester",
];

/// On tuning documents: every attributed field read has evidence, the evidence is
/// plausible (a source, a confidence from 0 to 1, a short text), and no evidence text
/// holds the claimant's or requester's name or an NHS number.
#[test]
fn labelled2_evidence_names_the_reading_never_the_person() {
    let rules = Rules::builtin();
    let limits = Limits::default();
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(dir().join("manifest.json")).expect("manifest.json"),
    )
    .expect("manifest JSON");
    let mut checked = 0;
    let mut sources: BTreeMap<String, usize> = BTreeMap::new();
    for d in manifest["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .filter(|d| d["part"] == "tuning")
        .take(80)
    {
        let name = d["file"].as_str().expect("file");
        let bytes = std::fs::read(dir().join(name)).expect("read document");
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(dir().join(format!("{name}.expected.json")))
                .expect("expected file"),
        )
        .expect("expected JSON");
        let extracted = extract_isolated(bytes.clone(), &limits);
        let got = serde_json::to_value(analyse(&extracted, name, &sha256_hex(&bytes), rules))
            .expect("serialise");
        let mut pairs = vec![(got.clone(), expected.clone())];
        if let Some(atts) = got.get("attachments").and_then(Value::as_array) {
            for (i, a) in atts.iter().enumerate() {
                let want = expected["attachments"]
                    .get(i)
                    .cloned()
                    .unwrap_or(Value::Null);
                pairs.push((a.clone(), want));
            }
        }
        for (meta, want) in pairs {
            checked += 1;
            let evidence = meta
                .get("evidence")
                .and_then(Value::as_object)
                .unwrap_or_else(|| panic!("{name}: no evidence"));
            for field in ATTRIBUTED {
                let read = match get(&meta, field) {
                    Value::Null => false,
                    Value::Array(a) => !a.is_empty(),
                    _ => true,
                };
                assert!(
                    !read || evidence.contains_key(*field),
                    "{name}: {field} read without evidence"
                );
            }
            let names: Vec<String> = [
                get(&meta, "parties.claimant"),
                get(&want, "parties.claimant"),
                get(&meta, "parties.requester"),
                get(&want, "parties.requester"),
            ]
            .iter()
            .filter_map(|v| v.as_str())
            .map(str::to_lowercase)
            .collect();
            for (field, e) in evidence {
                let confidence = e["confidence"].as_f64().expect("confidence");
                assert!(
                    (0.0..=1.0).contains(&confidence),
                    "{name}: {field} confidence {confidence}"
                );
                let source = e["source"].as_str().expect("source");
                assert!(!source.is_empty(), "{name}: {field} without a source");
                *sources.entry(source.to_owned()).or_default() += 1;
                let text = e["text"].as_str().expect("text");
                assert!(text.chars().count() <= 80, "{name}: {field} text too long");
                let lower = text.to_lowercase();
                assert!(
                    !names.iter().any(|n| lower.contains(n.as_str())),
                    "{name}: {field} evidence holds a party's name"
                );
                assert!(
                    text.chars().filter(char::is_ascii_digit).count() < 10,
                    "{name}: {field} evidence holds a number like an NHS number"
                );
            }
        }
    }
    assert!(checked >= 80, "{checked} items checked");
    for source in [
        "classification",
        "label",
        "case_title",
        "letterhead",
        "narrative",
    ] {
        assert!(
            sources.contains_key(source),
            "no evidence from {source}: {sources:?}"
        );
    }
}
