//! Matching documents to cases (issue 18's first goal), measured on the labelled set in
//! tests/data/matching (made by its generate.py): 30 cases imported first, then every
//! document ingested in name order. Documents that carry our reference must be filed
//! under it (at least 97 %); for those without one the right case must be filed by rule
//! or be the first suggestion (at least 90 %); no document may be filed under a wrong
//! case. The rates are printed (`cargo test --test it matching:: -- --nocapture`).
//! Also: `filed_by_rule` audits the key's kind, never its value; `postroom inbox --json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use postroom::app::{Acknowledgements, App, Front};
use postroom::config::Config;
use postroom::model::{IngestStatus, keys};
use postroom::store::Query;
use serde_json::Value;

use crate::cli::postroom;
use crate::ingest::FixedClock;

const WHO: &str = "case.importer@example.org";

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/matching")
        .join(name)
}

fn open(home: &Path) -> App {
    let config = Config::local(home.to_path_buf());
    let stores = postroom::app::local_stores(&config).expect("local stores");
    App::with_stores(
        config,
        stores,
        Arc::new(FixedClock),
        Front::named("test", Acknowledgements::Off),
    )
}

/// One labelled document: its file, the case it belongs to (`None`: none), whether it
/// carries our reference.
struct Labelled {
    file: String,
    expected: Option<String>,
    has_reference: bool,
}

fn labelled() -> Vec<Labelled> {
    let text = std::fs::read_to_string(data("expected.csv")).expect("expected.csv");
    let mut out: Vec<Labelled> = text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            assert_eq!(cells.len(), 3, "{line}");
            Labelled {
                file: cells[0].to_owned(),
                expected: (cells[1] != "-").then(|| cells[1].to_owned()),
                has_reference: cells[2] == "yes",
            }
        })
        .collect();
    out.sort_by(|a, b| a.file.cmp(&b.file));
    out
}

/// How each document ended.
#[derive(Debug)]
struct Result {
    status: IngestStatus,
    case_ref: Option<String>,
    first_suggestion: Option<String>,
    /// The first suggestion's best reason (a code).
    first_reason: Option<String>,
    by_rule: bool,
}

/// Imports the cases, ingests every labelled document in name order, and reads back
/// how each ended.
async fn run_set(app: &App) -> Vec<(Labelled, String, Result)> {
    let csv = std::fs::read(data("cases.csv")).expect("cases.csv");
    let report = app
        .cases
        .import(&csv, WHO, &app.config.calendar)
        .await
        .expect("import");
    assert!(report.all_landed(), "{report:?}");
    let mut out = Vec::new();
    for doc in labelled() {
        let bytes = std::fs::read(data("docs").join(&doc.file)).expect("document");
        let obj = app
            .ingest()
            .stage(
                &format!("inbox/{}", doc.file),
                bytes::Bytes::from(bytes),
                "local",
            )
            .await
            .expect("stage");
        let outcome = app.ingest().ingest(&obj).await.expect("ingest");
        let doc_id = outcome.doc_id.clone().expect("doc id");
        let first = app
            .cases
            .suggestions(&doc_id)
            .await
            .expect("suggestions")
            .and_then(|s| s.into_iter().next());
        let first_reason = first
            .as_ref()
            .and_then(|s| s.reasons.first())
            .map(|r| r.code.clone());
        let first_suggestion = first.map(|s| s.case_ref);
        let events = app
            .stores
            .table
            .query_all(&Query::new(keys::doc(&doc_id)).prefix(keys::EVENT_PREFIX))
            .await
            .expect("events");
        let by_rule = events.iter().any(|e| e["what"] == "filed_by_rule");
        out.push((
            doc,
            doc_id,
            Result {
                status: outcome.status,
                case_ref: outcome.case_ref,
                first_suggestion,
                first_reason,
                by_rule,
            },
        ));
    }
    out
}

fn rate(hits: usize, of: usize) -> f64 {
    if of == 0 {
        1.0
    } else {
        hits as f64 / of as f64
    }
}

#[tokio::test]
async fn documents_find_their_cases_on_the_labelled_set() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = open(dir.path());
    let results = run_set(&app).await;

    let (mut with_ref, mut with_ref_filed) = (0, 0);
    let (mut without, mut by_rule_right, mut suggested_first) = (0, 0, 0);
    let mut wrong = Vec::new();
    let mut missed = Vec::new();
    let mut strangers = 0;
    let mut by_kind: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut by_reason: BTreeMap<String, usize> = BTreeMap::new();
    for (doc, doc_id, r) in &results {
        if let Some(filed) = &r.case_ref
            && Some(filed) != doc.expected.as_ref()
        {
            wrong.push(format!("{} ({doc_id}) filed under {filed}", doc.file));
        }
        let Some(expected) = &doc.expected else {
            strangers += 1;
            assert_ne!(r.status, IngestStatus::Filed, "{}", doc.file);
            continue;
        };
        if doc.has_reference {
            with_ref += 1;
            if r.case_ref.as_ref() == Some(expected) {
                with_ref_filed += 1;
            } else {
                missed.push(format!("{}: {r:?}", doc.file));
            }
            continue;
        }
        without += 1;
        // The kind of document: `2-03b-medical-records.txt` → `medical-records`.
        let kind = doc
            .file
            .trim_end_matches(".txt")
            .splitn(3, '-')
            .nth(2)
            .unwrap_or("")
            .to_owned();
        let tally = by_kind.entry(kind).or_default();
        tally.1 += 1;
        let right = if r.case_ref.as_ref() == Some(expected) {
            assert!(r.by_rule, "{} filed without the rule: {r:?}", doc.file);
            by_rule_right += 1;
            true
        } else if r.status == IngestStatus::Unfiled && r.first_suggestion.as_ref() == Some(expected)
        {
            suggested_first += 1;
            *by_reason
                .entry(r.first_reason.clone().unwrap_or_default())
                .or_default() += 1;
            true
        } else {
            missed.push(format!("{} (expected {expected}): {r:?}", doc.file));
            false
        };
        if right {
            tally.0 += 1;
        }
    }
    let filed_rate = rate(with_ref_filed, with_ref);
    let found_rate = rate(by_rule_right + suggested_first, without);
    println!("matching: labelled set of {} documents", results.len());
    println!(
        "matching: with our reference: {with_ref_filed}/{with_ref} filed under it ({:.1} %)",
        filed_rate * 100.0
    );
    println!(
        "matching: without one: {}/{without} right ({:.1} %): {by_rule_right} filed by rule, \
         {suggested_first} first suggestion",
        by_rule_right + suggested_first,
        found_rate * 100.0
    );
    for (kind, (right, of)) in &by_kind {
        println!("matching:   {kind}: {right}/{of}");
    }
    for (reason, n) in &by_reason {
        println!("matching:   first suggestion by {reason}: {n}");
    }
    println!(
        "matching: belonging to no case: {strangers}, none filed; filed under a wrong case: {}",
        wrong.len()
    );
    for m in &missed {
        println!("matching: missed {m}");
    }
    assert!(wrong.is_empty(), "filed under a wrong case: {wrong:#?}");
    assert!(filed_rate >= 0.97, "{missed:#?}");
    assert!(found_rate >= 0.90, "{missed:#?}");
    assert!(by_rule_right > 0 && suggested_first > 0);
}

/// A document filed by rule is audited `filed_by_rule` with the kind of key, never its
/// value; an unfiled one keeps its suggestions, best first, with reasons as codes and
/// words; `postroom inbox --json` prints them as one object a document.
#[tokio::test]
async fn filing_by_rule_is_audited_and_the_inbox_lists_suggestions() {
    let dir = tempfile::tempdir().expect("temp dir");
    let home = dir.path().join("home");
    let app = open(&home);
    let results = run_set(&app).await;
    let (_, doc_id, _) = results
        .iter()
        .find(|(d, _, r)| d.file.contains("court-order") && r.by_rule)
        .expect("a court order filed by rule");
    let events = app
        .stores
        .table
        .query_all(&Query::new(keys::doc(doc_id)).prefix(keys::EVENT_PREFIX))
        .await
        .expect("events");
    let rule = events
        .iter()
        .find(|e| e["what"] == "filed_by_rule")
        .expect("audited");
    assert_eq!(rule["details"]["key"], "court", "{rule:?}");
    let text = std::fs::read_to_string(
        data("docs").join(&results.iter().find(|(_, d, _)| d == doc_id).unwrap().0.file),
    )
    .unwrap();
    let court = text
        .lines()
        .find_map(|l| l.strip_prefix("Claim No: "))
        .expect("court number");
    assert!(!format!("{rule:?}").contains(court.trim()), "{rule:?}");

    let inbox = app.cases.inbox_view().await.expect("inbox");
    let expert = inbox
        .iter()
        .find(|e| {
            e.suggestions
                .first()
                .is_some_and(|s| s.reasons[0].code == "same_name_and_dob")
        })
        .expect("an unfiled document suggested on name and date of birth");
    assert_eq!(expert.suggestions[0].score, 0.85);
    assert!(!expert.suggestions[0].reasons[0].words.is_empty());
    for entry in &inbox {
        assert!(
            entry
                .suggestions
                .windows(2)
                .all(|w| w[0].score >= w[1].score),
            "{entry:?}"
        );
    }
    drop(app);

    let out = postroom()
        .arg("--home")
        .arg(&home)
        .args(["inbox", "--json"])
        .output()
        .expect("run postroom");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), inbox.len());
    for line in &lines {
        let mut keys: Vec<&str> = line
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "doc_id",
                "doc_type",
                "reason",
                "received",
                "source",
                "suggestions"
            ],
            "{line}"
        );
        for s in line["suggestions"].as_array().unwrap() {
            assert!(s["case_ref"].is_string() && s["score"].is_f64(), "{s}");
            assert!(s["reasons"][0]["code"].is_string(), "{s}");
        }
    }
    let listed = lines
        .iter()
        .find(|l| l["doc_id"] == expert.doc_id.as_deref().unwrap())
        .expect("listed");
    assert_eq!(
        listed["suggestions"][0]["case_ref"],
        expert.suggestions[0].case_ref.as_str()
    );
    let plain = postroom()
        .arg("--home")
        .arg(&home)
        .arg("inbox")
        .output()
        .expect("run postroom");
    let plain = String::from_utf8_lossy(&plain.stdout);
    assert_eq!(plain.lines().count(), inbox.len(), "{plain}");
    assert!(plain.contains(&format!("→ {}", expert.suggestions[0].case_ref)));
}
