//! Metadata analysis under hostile text: arbitrary Unicode never panics, and large
//! adversarial inputs finish in bounded time.
//!
//! Review findings 4, 5 and 7(b)(c): characters whose case mapping changes their UTF-8
//! length ('İ', 'ẞ', ...) must not shift the offsets analysis slices by; a flood of dates
//! or references must be cut off (and flagged), not analysed in quadratic time; amounts and
//! references must stay inside what every store accepts. `PROPTEST_CASES` runs the
//! properties longer (256 cases by default).

use std::sync::OnceLock;

use postroom::extract::{Extracted, MediaType, Warning, Warnings};
use postroom::metadata::{self, DocumentMetadata, Rules, analyse};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::Value;

fn text_document(text: &str) -> Extracted {
    Extracted {
        media_type: MediaType::Text,
        text: text.to_owned(),
        pages: None,
        email: None,
        attachments: Vec::new(),
        warnings: Warnings::default(),
        scans: Vec::new(),
    }
}

fn run(text: &str) -> DocumentMetadata {
    analyse(
        &text_document(text),
        "test.txt",
        &"0".repeat(64),
        Rules::builtin(),
    )
}

/// Every character whose lower- or upper-case form has another UTF-8 length.
fn case_changing() -> &'static [char] {
    static SET: OnceLock<Vec<char>> = OnceLock::new();
    SET.get_or_init(|| {
        (0..=char::MAX as u32)
            .filter_map(char::from_u32)
            .filter(|c| {
                let n = c.len_utf8();
                c.to_lowercase().map(char::len_utf8).sum::<usize>() != n
                    || c.to_uppercase().map(char::len_utf8).sum::<usize>() != n
            })
            .collect()
    })
}

/// Phrases that lead analysis into the code that used to slice by borrowed offsets.
const TRIGGERS: &[&str] = &[
    "Under the Freedom of Information Act I would like to request ",
    "Freedom of Information request\n",
    "Kind regards\n",
    "Yours sincerely\n",
    "Yours faithfully\n",
    "Regards\n",
    "Date of incident: ",
    "Incident date: ",
    "Date: ",
    "Dated this ",
    "DOB: ",
    "Claimant: ",
    "Patient name: ",
    "Re: ",
    "Name: ",
    "From: ",
    "Our client ",
    "Our ref: ",
    "instructed by ",
    "LETTER OF CLAIM\n",
    "Dear Sirs\n",
    "admitted on ",
    "01/02/2023",
    "5 March 2024",
    "14/11/1958",
    "Jo Bloggs",
    "Mrs Zoë Example",
    "FOI_6405",
    "CNST/24/004512",
    "Fenbrook NHS Foundation Trust",
    "Smith & Co Solicitors",
    "£1,250",
    "\n",
    " ",
];

fn piece() -> impl Strategy<Value = String> {
    let set = case_changing();
    prop_oneof![
        3 => select(set).prop_map(String::from),
        2 => proptest::collection::vec(select(set), 1..40)
            .prop_map(|v| v.into_iter().collect::<String>()),
        4 => select(TRIGGERS).prop_map(str::to_owned),
        2 => any::<char>().prop_map(String::from),
    ]
}

fn document() -> impl Strategy<Value = String> {
    proptest::collection::vec(piece(), 0..60).prop_map(|v| v.concat())
}

/// Letters whose case mapping changes their length, each with a stand-in of the same
/// length and case that keeps its length when case-mapped (and folds to nothing ASCII).
const NOISE: &[(char, char)] = &[
    ('\u{130}', '\u{416}'),   // İ (lower-cases to 3 bytes) / Ж
    ('\u{1E9E}', '\u{1E00}'), // ẞ (to 2) / Ḁ
    ('\u{23A}', '\u{416}'),   // Ⱥ (to 3) / Ж
    ('\u{23E}', '\u{416}'),   // Ⱦ (to 3) / Ж
    ('\u{2126}', '\u{1E00}'), // Ω ohm sign (to 2) / Ḁ
    ('\u{131}', '\u{436}'),   // ı (upper-cases to 1) / ж
    ('\u{23F}', '\u{436}'),   // ȿ (to 3) / ж
    ('\u{250}', '\u{436}'),   // ɐ (to 3) / ж
];

fn stand_in(s: &str) -> String {
    s.chars()
        .map(|c| NOISE.iter().find(|(n, _)| *n == c).map_or(c, |(_, r)| *r))
        .collect()
}

/// A run of noise letters, standing alone (between spaces or on its own line).
fn noise() -> impl Strategy<Value = String> {
    let letters: Vec<char> = NOISE.iter().map(|(n, _)| *n).collect();
    (
        proptest::collection::vec(select(letters), 1..40),
        any::<bool>(),
    )
        .prop_map(|(v, own_line)| {
            let run: String = v.into_iter().collect();
            if own_line {
                format!("\n{run}\n")
            } else {
                format!(" {run} ")
            }
        })
}

fn noisy_document() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            2 => noise(),
            5 => select(TRIGGERS).prop_map(str::to_owned),
        ],
        0..50,
    )
    .prop_map(|v| v.concat())
}

/// What analysis read, without the organisation names (which are re-cased, so a stand-in
/// letter legitimately changes them).
fn reading(meta: &DocumentMetadata) -> Value {
    let mut v = serde_json::to_value(meta).expect("metadata serialises");
    if let Some(parties) = v.get_mut("parties").and_then(Value::as_object_mut) {
        parties.remove("defendants");
        parties.remove("claimant_solicitor");
    }
    v
}

fn map_strings(v: Value, f: &dyn Fn(&str) -> String) -> Value {
    match v {
        Value::String(s) => Value::String(f(&s)),
        Value::Array(a) => Value::Array(a.into_iter().map(|x| map_strings(x, f)).collect()),
        Value::Object(o) => {
            Value::Object(o.into_iter().map(|(k, x)| (k, map_strings(x, f))).collect())
        }
        other => other,
    }
}

fn all_references(meta: &DocumentMetadata) -> Vec<&String> {
    let r = &meta.references;
    r.claim
        .iter()
        .chain(&r.court)
        .chain(&r.foi)
        .chain(&r.appeal)
        .chain(&r.other)
        .chain(&r.case_ref)
        .collect()
}

/// What every store can hold: references short enough for a key, amounts well inside
/// DynamoDB's number range.
fn assert_storable(meta: &DocumentMetadata) {
    for r in all_references(meta) {
        assert!(r.len() <= 64, "a reference of {} bytes", r.len());
    }
    for a in &meta.amounts_gbp {
        assert!(a.is_finite() && a.abs() < 1e12, "amount {a}");
    }
    assert!(meta.amounts_gbp.len() <= metadata::MAX_LIST);
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

#[test]
fn the_case_changing_set_is_what_the_review_names() {
    let set = case_changing();
    assert!(set.contains(&'İ') && set.contains(&'ẞ') && set.contains(&'ı'));
    assert!(!set.contains(&'A') && !set.contains(&'é'));
    for (c, r) in NOISE {
        assert!(set.contains(c), "{c} changes length");
        assert!(!set.contains(r), "{r} keeps its length");
        assert_eq!(c.len_utf8(), r.len_utf8());
        assert_eq!(c.is_uppercase(), r.is_uppercase());
    }
}

proptest! {
    #![proptest_config(config())]

    /// Arbitrary Unicode, rich in length-changing letters and in the phrases that reach
    /// every label, sign-off and date path: analysis never panics, and what it keeps fits
    /// every store.
    #[test]
    fn analysis_never_panics_on_case_changing_text(text in document()) {
        let meta = run(&text);
        assert_storable(&meta);
    }

    /// Analysis reads the same parties, dates and references when each length-changing
    /// letter is swapped for a same-length letter that keeps its length: offsets are never
    /// carried from the lower-cased text to the text (the review's wrong-value variant).
    #[test]
    fn length_changing_letters_do_not_move_what_is_read(text in noisy_document()) {
        let plain = stand_in(&text);
        let got = map_strings(reading(&run(&text)), &stand_in);
        let want = reading(&run(&plain));
        prop_assert_eq!(got, want);
    }
}

const FOI_REQUEST: &str = "Under the Freedom of Information Act I would like to request a \
                           copy of your complaints policy and the number of complaints \
                           received in 2023.\n";

#[test]
fn the_reviews_repro_reads_the_requester() {
    // Finding 4's repro: 'İ' grows by one byte when lower-cased.
    let text = format!("{FOI_REQUEST}{}\nKind regards\nJo Bloggs", "İ".repeat(40));
    let meta = run(&text);
    assert_eq!(meta.doc_type, "foi_request");
    assert_eq!(meta.parties.requester.as_deref(), Some("Jo Bloggs"));
}

#[test]
fn a_shrinking_letter_does_not_change_the_requester() {
    // 'ẞ' shrinks by one byte when lower-cased: the old offset landed earlier in the text.
    let text = format!("{FOI_REQUEST}{}\nKind regards\nJo Bloggs", "ẞ".repeat(40));
    let meta = run(&text);
    assert_eq!(meta.doc_type, "foi_request");
    assert_eq!(meta.parties.requester.as_deref(), Some("Jo Bloggs"));
}

#[test]
fn case_changing_letters_before_labels_keep_claimant_and_incident_date() {
    for noise in ["İ", "ẞ", "Ⱥ"] {
        let text = format!(
            "LETTER OF CLAIM\nDear Sirs\n{}\nClaimant: Jo Bloggs\nDate of incident: 01/02/2023\n\
             We write under the pre-action protocol about the breach of duty.",
            noise.repeat(25)
        );
        let meta = run(&text);
        assert_eq!(meta.doc_type, "letter_of_claim", "{noise}");
        assert_eq!(
            meta.parties.claimant.as_deref(),
            Some("Jo Bloggs"),
            "{noise}"
        );
        assert_eq!(
            meta.incident_date,
            chrono::NaiveDate::from_ymd_opt(2023, 2, 1),
            "{noise}"
        );
    }
}

fn fill(unit: &str, bytes: usize) -> String {
    unit.repeat(bytes / unit.len())
}

#[test]
fn a_flood_of_dates_is_cut_off_and_flagged() {
    // Sizes chosen so a debug build finishes in seconds; the release benchmark
    // (`cargo bench --bench analysis`) runs the 16 MB versions.
    for text in [
        fill("01/01/2000\n", 1 << 20),
        fill("01/01/2000 ", 1 << 20),
        format!("Date of incident: {}", fill("5 March 2024 ", 1 << 20)),
        format!("£ Zoë {}", fill("5 März 2024 01/02/2023. ", 1 << 20)),
    ] {
        let meta = run(&text);
        assert!(
            meta.warnings.contains(&Warning::TruncatedAtLimit),
            "{:?}",
            meta.warnings
        );
        assert!(meta.personal_data.dates_of_birth as usize <= metadata::MAX_DATES);
        assert_storable(&meta);
    }
}

/// A capitalised word for each number: "Ba", "Bb", ...
fn word(mut i: usize) -> String {
    let mut w = String::from("B");
    loop {
        w.push(char::from(b'a' + (i % 26) as u8));
        i /= 26;
        if i == 0 {
            return w;
        }
    }
}

#[test]
fn a_flood_of_references_is_cut_off_and_flagged() {
    // Finding 7(a)'s 30,000 distinct court numbers, and as many labelled references and
    // amounts on one line.
    let court: String = (0..30_000).map(|i| format!("KB-2024-{i:06} ")).collect();
    let other: String = (0..30_000).map(|i| format!("Our ref: AB{i} ")).collect();
    let amounts: String = (0..30_000).map(|i| format!("£{i} ")).collect();
    let names: String = (0..3_000)
        .map(|i| {
            let w = word(i);
            format!("Claimant: Jo {w}\nFen{w} NHS Trust\n")
        })
        .collect();
    for (kind, text) in [court, other, amounts, names].iter().enumerate() {
        let meta = run(&format!("LETTER OF CLAIM\nCNST/24/004512\n{text}"));
        assert!(
            meta.warnings.contains(&Warning::TruncatedAtLimit),
            "input {kind}"
        );
        let r = &meta.references;
        for list in [&r.claim, &r.court, &r.foi, &r.appeal, &r.other] {
            assert!(list.len() <= metadata::MAX_LIST, "{}", list.len());
        }
        assert!(meta.parties.defendants.len() <= metadata::MAX_LIST);
        assert_storable(&meta);
    }
}

#[test]
fn an_amount_beyond_any_claim_is_refused() {
    // Finding 7(b): "£" and 130 digits was about 1e129, past DynamoDB's number range.
    let meta = run(&format!("We claim £{}.\n", "9".repeat(130)));
    assert!(meta.amounts_gbp.is_empty(), "{:?}", meta.amounts_gbp);
    let meta = run(&format!("We claim {} pounds.\n", "9".repeat(130)));
    assert!(meta.amounts_gbp.is_empty(), "{:?}", meta.amounts_gbp);
    let meta = run("We claim £1,000,000,000,000,000bn.\n");
    assert!(meta.amounts_gbp.is_empty(), "{:?}", meta.amounts_gbp);
    // Real claims still read.
    let meta = run("We claim £999bn, £1,250,000.50 and 250,000 pounds.\n");
    assert_eq!(meta.amounts_gbp, [999e9, 1_250_000.5, 250_000.0]);
}

#[test]
fn an_over_long_reference_is_refused() {
    // Finding 7(c): "FOI_" and 2,100 digits made a key past DynamoDB's 2,048 bytes.
    let digits = "7".repeat(2_100);
    let meta = run(&format!(
        "{FOI_REQUEST}Re: FOI_{digits}\nOur ref: {digits}\n"
    ));
    assert!(meta.references.foi.is_empty(), "{:?}", meta.references.foi);
    assert!(meta.references.other.is_empty());
    assert_eq!(meta.references.case_ref, None);
    assert_storable(&meta);
    // The shipped formats still read.
    let meta = run(&format!("{FOI_REQUEST}Re: FOI_6405/IR and FOI_123456789\n"));
    assert_eq!(meta.references.foi, ["FOI_6405/IR", "FOI_123456789"]);
}

/// The evidence extension of the JSON: absent when nothing was read (so output for empty
/// text is as before it), and keyed by field path with a confidence, a source and a text
/// when something was.
#[test]
fn evidence_is_in_the_json_only_when_something_was_read() {
    let empty = serde_json::to_value(run("")).expect("serialise");
    assert!(empty.get("evidence").is_none(), "{empty}");
    let letter = serde_json::to_value(run(
        "Dear Sirs\n\nJane Doe v Fenbrook NHS Foundation Trust\n\nLETTER OF CLAIM\n\nYours faithfully\n",
    ))
    .expect("serialise");
    let claimant = &letter["evidence"]["parties.claimant"];
    assert_eq!(claimant["source"], "case_title");
    assert_eq!(claimant["confidence"], 0.85);
    assert!(!claimant["text"].as_str().unwrap_or("Jane").contains("Jane"));
    assert!(
        letter["evidence"]["doc_type"]["confidence"]
            .as_f64()
            .is_some()
    );
}

/// Issue 19: a type read with little certainty comes with the types it could have been;
/// a sure one does not.
#[test]
fn an_unsure_type_comes_with_its_candidates() {
    // A covering letter that names what it encloses: an expert report or a letter?
    let unsure = serde_json::to_value(run(
        "Dear Sirs\n\nPlease find enclosed the expert report and the schedule of loss.\n\n\
         Yours faithfully",
    ))
    .expect("JSON");
    let confidence = unsure["doc_type_confidence"].as_f64().expect("confidence");
    let candidates = unsure["doc_type_candidates"]
        .as_array()
        .expect("an unsure type lists its candidates");
    assert!(confidence < 0.6, "{unsure}");
    assert!((1..=3).contains(&candidates.len()), "{unsure}");
    let shares: Vec<f64> = candidates
        .iter()
        .map(|c| c["share"].as_f64().expect("share"))
        .collect();
    assert!(
        shares.windows(2).all(|w| w[0] >= w[1]),
        "best first: {shares:?}"
    );
    assert!(shares.iter().all(|s| *s > 0.0 && *s <= 1.0), "{shares:?}");
    assert!(candidates.iter().all(|c| c["doc_type"].as_str().is_some()));

    let sure = serde_json::to_value(run(
        "LETTER OF CLAIM\n\nDear Sirs\n\nWe are instructed by our client in connection with a \
         claim for clinical negligence. This letter of claim is sent in accordance with the \
         Pre-Action Protocol for the Resolution of Clinical Disputes and we look forward to \
         receiving a letter of response within four months.\n\nYours faithfully",
    ))
    .expect("JSON");
    assert_eq!(sure["doc_type"], "letter_of_claim", "{sure}");
    assert!(sure.get("doc_type_candidates").is_none(), "{sure}");
}
