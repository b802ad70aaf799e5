//! Metadata: from extracted text to `DocumentMetadata` (../shared/schema): document type,
//! dates, references, parties, clinical codes, amounts and personal-data counts. Rules come
//! from a versioned data file (`rules`), document types' behaviour included; unknown is
//! null, never a guess. One file a concern: `classify` (the type), `document_dates`,
//! `references`, `parties`, `codes` (clinical codes and amounts), `personal`; `analyse`
//! puts them together.

mod classify;
mod codes;
pub mod dates;
mod document_dates;
mod parties;
pub mod personal;
pub mod references;
pub mod rules;
mod scan;
mod structure;

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

pub use personal::PersonalData;
use postroom_extract::{Extracted, Warning};
pub use references::References;
pub use rules::{Acknowledgement, DocTypeRule, Family, Rules, RulesError};

/// The most dates analysis reads in one text: a document with more is adversarial, so the
/// rest is not read and the document is flagged `truncated_at_limit`.
pub const MAX_DATES: usize = 5_000;
/// The most values kept in one list (references of a kind, amounts, defendants); more
/// are not kept and the document is flagged `truncated_at_limit`.
pub const MAX_LIST: usize = 1_000;
/// The longest name kept (a person, an NHS body, a firm); a longer one is not a name.
pub const MAX_NAME_BYTES: usize = 200;
/// The largest amount kept: no claim is for a trillion pounds, and every store's number
/// type holds what is below it.
pub const MAX_AMOUNT_GBP: f64 = 1e12;

/// Types of the claims family whose documents name a claim without telling its care: no
/// clinical codes are read from them.
const NO_NARRATIVE: &[&str] = &["settlement_offer", "court_order", "medical_records"];

/// The parties a document names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Parties {
    pub claimant: Option<String>,
    pub defendants: Vec<String>,
    pub claimant_solicitor: Option<String>,
    pub requester: Option<String>,
}

/// Scheme, specialty, cause and injury.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Clinical {
    pub scheme: Option<String>,
    pub specialty: Option<String>,
    pub cause: Option<String>,
    pub injury: Option<String>,
}

/// How a field was read: how sure the reading is, which reading gave it, and the label or
/// phrase that gave it (never the value itself: a label such as `Our client:`, not the
/// name after it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// 0 to 1: a fixed level for each `source` (`SOURCE_CONFIDENCE`), not a measured
    /// probability; for `doc_type`, the classification's own confidence.
    pub confidence: f64,
    /// Which reading gave the value (`label`, `court_heading`, `case_title`, ...).
    pub source: &'static str,
    /// The label or phrase that gave it, at most `MAX_EVIDENCE_CHARS` characters.
    pub text: String,
}

/// A type an unsure reading could have been, with its share of the scored types' total.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub doc_type: String,
    pub share: f64,
}

/// The longest evidence text kept.
pub const MAX_EVIDENCE_CHARS: usize = 80;

/// How sure each reading is, fixed by how a careful reader would rank them: a field's own
/// label or box, a court heading or a header line states the value; a case title, a
/// letterhead or a date alone at the top nearly does; an addressee, a signature or a
/// subject line is inferred from the letter's structure; a name among others or the
/// narrative is the least sure.
pub const SOURCE_CONFIDENCE: &[(&str, f64)] = &[
    ("email_header", 0.95),
    ("reference_pattern", 0.95),
    ("reference_prefix", 0.95),
    ("label", 0.9),
    ("form_box", 0.9),
    ("court_heading", 0.9),
    ("case_title", 0.85),
    ("letterhead", 0.8),
    ("date_line", 0.8),
    ("addressee", 0.75),
    ("signature_block", 0.75),
    ("subject_line", 0.75),
    ("organisation_name", 0.7),
    ("defendant_named", 0.7),
    ("narrative", 0.6),
];

impl Evidence {
    /// Evidence from `source` (its confidence from `SOURCE_CONFIDENCE`; 0.5 for a source
    /// not listed), with `text` cut to `MAX_EVIDENCE_CHARS` characters.
    pub(crate) fn of(source: &'static str, text: impl Into<String>) -> Self {
        let confidence = SOURCE_CONFIDENCE
            .iter()
            .find(|(s, _)| *s == source)
            .map_or(0.5, |(_, c)| *c);
        let text: String = text.into().chars().take(MAX_EVIDENCE_CHARS).collect();
        Self {
            confidence,
            source,
            text,
        }
    }
}

/// What postroom read from one document, as `postroom extract --json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentMetadata {
    pub source: String,
    pub sha256: String,
    pub media_type: String,
    pub pages: Option<u32>,
    pub text_chars: u64,
    pub doc_type: String,
    pub doc_type_confidence: f64,
    /// When the type is unsure (the fallback, `unknown`, or a confidence under 0.6): the
    /// types it could have been, best first, with their share of the scores.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub doc_type_candidates: Vec<Candidate>,
    /// How surely the text itself was read, 0 to 1, when some of it came from OCR (its
    /// words' mean confidence, which `doc_type_confidence` is also scaled by); absent for
    /// born-digital text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_confidence: Option<f64>,
    pub document_date: Option<NaiveDate>,
    pub incident_date: Option<NaiveDate>,
    pub references: References,
    pub parties: Parties,
    pub clinical: Clinical,
    pub amounts_gbp: Vec<f64>,
    pub personal_data: PersonalData,
    pub attachments: Vec<DocumentMetadata>,
    pub warnings: Vec<Warning>,
    /// Each field read (its path, as `parties.claimant`) with its evidence; absent from the
    /// JSON when empty (an extension of ../shared/schema: other readers ignore it).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub evidence: BTreeMap<&'static str, Evidence>,
}

/// One readable line about a document (no personal data: type, date, reference, counts).
pub fn summary(meta: &DocumentMetadata) -> String {
    let mut parts = vec![format!(
        "{}: {} ({:.0}%)",
        meta.source,
        meta.doc_type,
        meta.doc_type_confidence * 100.0
    )];
    if let Some(date) = meta.document_date {
        parts.push(format!("dated {date}"));
    }
    if let Some(case) = &meta.references.case_ref {
        parts.push(format!("case {case}"));
    }
    if let Some(pages) = meta.pages {
        parts.push(format!("{pages} page{}", if pages == 1 { "" } else { "s" }));
    }
    if !meta.attachments.is_empty() {
        parts.push(format!("{} attachment(s)", meta.attachments.len()));
    }
    if !meta.warnings.is_empty() {
        parts.push(format!(
            "[{}]",
            meta.warnings
                .iter()
                .map(|w| w.code())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    parts.join(", ")
}

/// The text personal data is counted in: the body, and an email's From and To headers.
fn personal_text<'t>(text: &'t str, extracted: &Extracted) -> Cow<'t, str> {
    match &extracted.email {
        Some(e) => {
            let mut s = text.to_owned();
            for address in e.from_address.iter().chain(e.to.iter()) {
                s.push('\n');
                s.push_str(address);
            }
            Cow::Owned(s)
        }
        None => Cow::Borrowed(text),
    }
}

/// Text as metadata rules read it: ligatures spelt out, odd spaces made plain.
fn normalise(text: &str) -> String {
    postroom_extract::expand_ligature(text)
        .chars()
        .map(|c| match c {
            '\u{A0}' | '\u{2007}' | '\u{202F}' | '\u{2009}' => ' ',
            '\u{2010}' | '\u{2011}' => '-',
            '\u{C}' => '\n',
            c => c,
        })
        .collect()
}

/// The indemnity scheme a claim against `defendants` falls under, if they say: an NHS
/// body's claim is CNST; a general practice's or a doctor's is CNSGP (ELSGP for care before
/// April 2019). Each only if the rules declare the scheme.
fn scheme_of_defendants(
    defendants: &[String],
    rules: &Rules,
    incident: Option<NaiveDate>,
) -> Option<String> {
    let declared = |s: &str| {
        rules
            .claim_schemes
            .iter()
            .any(|k| k == s)
            .then(|| s.to_owned())
    };
    if defendants.iter().any(|d| rules.nhs_body.is_match(d)) {
        return declared("CNST");
    }
    let primary_care = defendants
        .iter()
        .any(|d| rules.practice.is_match(d) || d.starts_with("Dr "));
    if !primary_care {
        return None;
    }
    let gp_scheme_start = NaiveDate::from_ymd_opt(2019, 4, 1);
    if incident.is_some_and(|i| Some(i) < gp_scheme_start) {
        declared("ELSGP")
    } else {
        declared("CNSGP")
    }
}

/// Builds the metadata of an extracted document (and of its attachments).
pub fn analyse(
    extracted: &Extracted,
    source: &str,
    sha256: &str,
    rules: &Rules,
) -> DocumentMetadata {
    let text = normalise(&extracted.text);
    // Offsets found in `lower` are offsets in `text`: only ASCII letters are lowered
    // (full lower-casing changes the length of letters such as 'İ' and 'ẞ').
    let lower = text.to_ascii_lowercase();
    let (found_dates, mut truncated) = dates::find_dates_bounded(&text, MAX_DATES);
    let readable = !text.trim().is_empty();

    // Phrases are matched on text whose line breaks are spaces (PDF lines wrap anywhere);
    // this text is only searched, never a source of offsets into `text`.
    let flat = classify::flatten_lowercase(&text);
    let subject = extracted
        .email
        .as_ref()
        .and_then(|e| e.subject.as_deref())
        .unwrap_or("")
        .to_lowercase();
    // Every phrase of the rules (types, code lists, own replies), counted in one pass.
    let phrases = rules.phrase_set.counts(&flat);
    let (doc_type, confidence, type_phrase, doc_type_candidates) = if readable {
        classify::classify(
            &text,
            &flat,
            &phrases,
            &subject,
            rules,
            extracted.media_type,
        )
    } else {
        (rules::UNKNOWN.to_owned(), 0.0, String::new(), Vec::new())
    };
    let mut evidence: BTreeMap<&'static str, Evidence> = BTreeMap::new();
    if readable {
        evidence.insert(
            "doc_type",
            Evidence {
                confidence: (confidence * 100.0).round() / 100.0,
                ..Evidence::of("classification", type_phrase)
            },
        );
    }
    // What the type's family calls for (none for `UNKNOWN`).
    let family = rules.family_of(&doc_type);
    let (mut refs, refs_truncated) = references::find_bounded(&text, rules);
    truncated |= refs_truncated;
    refs.case_ref = references::choose_case_ref(&refs, family);
    if let Some(case) = &refs.case_ref {
        evidence.insert(
            "references.case_ref",
            Evidence::of("reference_pattern", reference_kind(case)),
        );
    }

    // The first lines and the form labels among them, read once for dates and parties.
    let layout = structure::Layout::new(&text);
    let document_date = match &extracted.email {
        Some(headers) => headers
            .date
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .map(|d| (d, "email_header", "Date:")),
        None => document_dates::document_date(&text, &lower, &layout, &found_dates),
    };
    if let Some((_, source, label)) = document_date {
        evidence.insert("document_date", Evidence::of(source, label));
    }
    let document_date = document_date.map(|d| d.0);
    let claimish = family == Some(Family::Claims);
    let incident_date = if claimish {
        document_dates::incident_date(&text, &lower, &layout, &found_dates, document_date)
    } else {
        None
    };
    if let Some((_, source, label)) = incident_date {
        evidence.insert("incident_date", Evidence::of(source, label));
    }
    let incident_date = incident_date.map(|d| d.0);

    let scheme = refs
        .case_ref
        .as_deref()
        .or(refs.claim.first().map(String::as_str))
        .and_then(|r| r.split('/').next())
        .filter(|s| rules.claim_schemes.iter().any(|k| k == s))
        .map(str::to_owned);
    if let Some(s) = &scheme {
        evidence.insert(
            "clinical.scheme",
            Evidence::of("reference_prefix", format!("{s}/ reference")),
        );
    }
    let (parties, parties_truncated, parties_evidence) =
        parties::parties(&text, &lower, &layout, family, extracted, rules, &doc_type);
    truncated |= parties_truncated;
    evidence.extend(parties_evidence);
    // Without a reference's prefix, the scheme follows from whom a claim is against, for a
    // document that names both sides and speaks of a claim (or opens one): an NHS body's is CNST; a general
    // practice's or a GP's is CNSGP from April 2019, ELSGP before.
    let about_a_claim = claimish
        && parties.claimant.is_some()
        && (lower.contains("claim")
            || rules
                .doc_type(&doc_type)
                .is_some_and(DocTypeRule::opens_case));
    let scheme = scheme.or_else(|| {
        let s = about_a_claim
            .then(|| scheme_of_defendants(&parties.defendants, rules, incident_date))
            .flatten()?;
        evidence.insert(
            "clinical.scheme",
            Evidence::of("defendant_named", "the defendant named (NHS body or GP)"),
        );
        Some(s)
    });
    // Codes are read from a narrative of the care: not from offers, orders or records,
    // which name the claim but do not tell it.
    let tells_the_care = claimish && !NO_NARRATIVE.contains(&doc_type.as_str());
    let mut code = |field: &'static str, list: &[rules::CodeRule]| {
        let (name, phrase) = tells_the_care
            .then(|| codes::best_code(&phrases, list, rules))
            .flatten()?;
        evidence.insert(field, Evidence::of("narrative", phrase));
        Some(name)
    };
    let clinical = Clinical {
        scheme,
        specialty: code("clinical.specialty", &rules.specialty),
        cause: code("clinical.cause", &rules.cause),
        injury: code("clinical.injury", &rules.injury),
    };
    let (amounts_gbp, amounts_truncated) = codes::amounts(&text);
    truncated |= amounts_truncated;
    let (personal_data, personal_truncated) =
        personal::count_bounded(&personal_text(&text, extracted), &found_dates);
    truncated |= personal_truncated;
    let mut warnings = extracted.warnings.clone();
    if truncated {
        warnings.add(Warning::TruncatedAtLimit);
    }

    let attachments = extracted
        .attachments
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let name = a
                .filename
                .clone()
                .unwrap_or_else(|| format!("attachment-{}", i + 1));
            analyse(&a.extracted, &format!("{source}#{name}"), &a.sha256, rules)
        })
        .collect();

    let parties_names: Vec<String> = parties
        .claimant
        .iter()
        .chain(parties.requester.iter())
        .cloned()
        .collect();
    DocumentMetadata {
        source: source.to_owned(),
        sha256: sha256.to_owned(),
        media_type: extracted.media_type.as_str().to_owned(),
        pages: extracted.pages,
        text_chars: extracted.text.chars().count() as u64,
        doc_type,
        doc_type_confidence: (confidence * 100.0).round() / 100.0,
        doc_type_candidates,
        text_confidence: None,
        document_date,
        incident_date,
        references: refs,
        parties,
        clinical,
        amounts_gbp,
        personal_data,
        attachments,
        warnings: warnings.as_slice().to_vec(),
        evidence: without_personal_data(evidence, &parties_names),
    }
}

/// What kind of reference a case reference is, for its evidence: its scheme's prefix
/// (`CNST/ reference`), else a court claim number's pattern.
fn reference_kind(case: &str) -> String {
    match case.split_once('/') {
        Some((prefix, _))
            if prefix.len() <= 8 && prefix.chars().all(|c| c.is_ascii_uppercase()) =>
        {
            format!("{prefix}/ reference")
        }
        _ => "claim or case number pattern".to_owned(),
    }
}

/// Evidence whose text holds a party's name or a run of ten digits (an NHS number) is
/// given its source as text instead: evidence names a label, never personal data.
fn without_personal_data(
    mut evidence: BTreeMap<&'static str, Evidence>,
    names: &[String],
) -> BTreeMap<&'static str, Evidence> {
    for e in evidence.values_mut() {
        let lower = e.text.to_lowercase();
        let digits = e.text.chars().filter(char::is_ascii_digit).count();
        let named = names
            .iter()
            .any(|n| !n.is_empty() && lower.contains(&n.to_lowercase()));
        if named || digits >= 6 {
            e.text = e.source.to_owned();
        }
    }
    evidence
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rules with one more type, `complaint_letter` (family general, opens no case, no
    /// acknowledgement), declared before `[parties]`.
    fn with_complaint_letter(family: &str) -> Rules {
        let text = rules::DEFAULT_RULES.replacen(
            "\n[parties]",
            &format!(
                "\n[[doc_types.type]]\nname = \"complaint_letter\"\nfamily = \"{family}\"\nopens_case = false\nphrases = [[\"formal complaint\", 5]]\n\n[parties]"
            ),
            1,
        );
        Rules::parse(&text, "mine.toml").unwrap()
    }

    fn read(text: &str, rules: &Rules) -> DocumentMetadata {
        let extracted =
            postroom_extract::extract(text.as_bytes(), &postroom_extract::Limits::default());
        analyse(&extracted, "letter.txt", "0", rules)
    }

    #[test]
    fn each_field_read_has_its_evidence_naming_the_label_not_the_person() {
        let letter = "Hartley & Moss Solicitors\n1 High Street\nTown\n\n5 March 2024\n\n\
            Dear Sirs\n\nOur client: Jane Smith (NHS number 943 476 5919)\n\
            Defendant: Fenbrook NHS Foundation Trust\n\nLETTER OF CLAIM\n\n\
            Our client was admitted on 3 January 2022 and there was a delay in diagnosis.\n\
            Yours faithfully\nHartley & Moss Solicitors\n";
        let meta = read(letter, Rules::builtin());
        assert_eq!(meta.parties.claimant.as_deref(), Some("Jane Smith"));
        let claimant = &meta.evidence["parties.claimant"];
        assert_eq!(
            (claimant.source, claimant.text.as_str()),
            ("label", "Our client:")
        );
        assert_eq!(claimant.confidence, 0.9);
        assert_eq!(meta.evidence["document_date"].source, "date_line");
        assert_eq!(meta.evidence["incident_date"].source, "narrative");
        assert_eq!(
            meta.evidence["parties.claimant_solicitor"].source,
            "letterhead"
        );
        assert!(meta.evidence["doc_type"].confidence > 0.0);
        for e in meta.evidence.values() {
            assert!(
                !e.text.contains("Smith") && !e.text.contains("943"),
                "{e:?}"
            );
            assert!(e.text.chars().count() <= MAX_EVIDENCE_CHARS);
        }
        // Nothing read, no evidence (and no `evidence` in the JSON: tests/it/analysis.rs).
        assert!(read("", Rules::builtin()).evidence.is_empty());
    }

    #[test]
    fn a_type_too_close_to_call_is_unknown_with_its_candidates() {
        // As much a letter of claim as a letter of response: no guess.
        let letter = "5 March 2024\n\nDear Sirs\n\nWe write about the letter of claim, breach of \
            duty and the letter of response.\n\nYours faithfully\nHartley & Moss Solicitors\n";
        let meta = read(letter, Rules::builtin());
        assert!(meta.doc_type_confidence < classify::UNDECIDED, "{meta:?}");
        assert_eq!(meta.doc_type, "unknown");
        let candidates: Vec<&str> = meta
            .doc_type_candidates
            .iter()
            .map(|c| c.doc_type.as_str())
            .collect();
        assert!(
            candidates.contains(&"letter_of_response") && candidates.contains(&"letter_of_claim"),
            "{candidates:?}"
        );
    }

    #[test]
    fn a_declared_type_is_read_as_its_family_says() {
        let letter = "Formal complaint\n\n5 March 2024\n\nDear Sirs\nThis is a formal complaint about \
            the care of our client Jane Smith (your ref CNST/24/004512) at Fenbrook NHS Foundation \
            Trust, who was admitted on 3 January 2022 after a delay in diagnosis.\nYours faithfully\n\
            Hartley & Moss Solicitors\n";
        let general = read(letter, &with_complaint_letter("general"));
        assert_eq!(general.doc_type, "complaint_letter");
        // General: a claim's parties (it quotes a claim), no incident date, no codes.
        assert_eq!(general.parties.claimant.as_deref(), Some("Jane Smith"));
        assert_eq!(
            general.parties.defendants,
            ["Fenbrook NHS Foundation Trust"]
        );
        assert_eq!(general.incident_date, None);
        assert_eq!(general.clinical.cause, None);
        assert_eq!(
            general.references.case_ref.as_deref(),
            Some("CNST/24/004512")
        );
        // The same type declared in the claims family reads the claim's incident and cause.
        let claims = read(letter, &with_complaint_letter("claims"));
        assert_eq!(claims.doc_type, "complaint_letter");
        assert_eq!(claims.incident_date, NaiveDate::from_ymd_opt(2022, 1, 3));
        assert_eq!(
            claims.clinical.cause.as_deref(),
            Some("Failure/Delay Diagnosis")
        );
        // Declared as practitioner's, it names no parties.
        let practitioner = read(letter, &with_complaint_letter("practitioner"));
        assert_eq!(practitioner.parties, Parties::default());
    }
}
