//! The labelled test set: every document in `tests/data/documents` (made by
//! `tests/data/generate.py` with four producers) is read, and its metadata compared field
//! by field with `<file>.expected.json`. Each field's accuracy over the set must reach 0.95.

use std::collections::BTreeMap;
use std::path::PathBuf;

use postroom::extract::{Limits, extract_isolated, sha256_hex};
use postroom::metadata::{Rules, analyse};
use serde_json::Value;

const FIELDS: &[&str] = &[
    "doc_type",
    "document_date",
    "incident_date",
    "references.case_ref",
    "references.claim",
    "references.court",
    "references.foi",
    "references.appeal",
    "references.other",
    "parties.claimant",
    "parties.defendants",
    "parties.claimant_solicitor",
    "parties.requester",
    "clinical.scheme",
    "clinical.specialty",
    "clinical.cause",
    "clinical.injury",
    "amounts_gbp",
    "personal_data.nhs_numbers",
    "personal_data.dates_of_birth",
    "personal_data.postcodes",
    "personal_data.emails",
    "personal_data.phone_numbers",
];

fn get<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.')
        .fold(v, |v, k| v.get(k).unwrap_or(&Value::Null))
}

fn documents() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/documents");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/data/documents")
        .flatten()
        .map(|e| e.path())
        .filter(|p| !p.to_string_lossy().ends_with(".expected.json"))
        .collect();
    files.sort();
    files
}

#[test]
fn labelled_set_reaches_the_field_accuracy_goal() {
    let rules = Rules::builtin();
    let limits = Limits::default();
    let files = documents();
    assert!(
        files.len() >= 60,
        "the labelled set has {} documents",
        files.len()
    );
    let mut right: BTreeMap<&str, usize> = BTreeMap::new();
    let mut wrong: Vec<String> = Vec::new();
    for file in &files {
        let bytes = std::fs::read(file).expect("read document");
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{}.expected.json", file.display()))
                .expect("expected file"),
        )
        .expect("expected JSON");
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let extracted = extract_isolated(bytes.clone(), &limits);
        assert!(
            !extracted.unreadable(),
            "{name} could not be read: {:?}",
            extracted.warnings
        );
        let meta = serde_json::to_value(analyse(&extracted, &name, &sha256_hex(&bytes), rules))
            .expect("serialise");
        for field in FIELDS {
            let (want, got) = (get(&expected, field), get(&meta, field));
            if want == got {
                *right.entry(field).or_default() += 1;
            } else {
                wrong.push(format!("{name} {field}: expected {want}, got {got}"));
            }
        }
    }
    let mut report = String::new();
    let mut below = Vec::new();
    for field in FIELDS {
        let accuracy = *right.get(field).unwrap_or(&0) as f64 / files.len() as f64;
        report.push_str(&format!("{field:32} {accuracy:.3}\n"));
        if accuracy < 0.95 {
            below.push(*field);
        }
    }
    eprintln!("field accuracy over {} documents:\n{report}", files.len());
    assert!(
        below.is_empty(),
        "fields below 0.95: {below:?}\n{report}\nmismatches:\n{}",
        wrong.join("\n")
    );
}
