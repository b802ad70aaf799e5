//! Suggested cases for a document that carries no reference of ours: the cases that
//! share a court number, an NHS number, the claimant's name with a date of birth, or the
//! parties and incident date, each with a score and the reasons for it, best first; and
//! the rule that files a document on its own (a court or NHS number recorded on exactly
//! one case, nothing pointing elsewhere, nothing contradicting it).
//!
//! What a document is read for ([`Clues`]): its metadata (court numbers, the claimant,
//! defendants, incident date) and its text, which the metadata keeps only counts of: NHS
//! numbers (modulus 11 checked), dates of birth (as the metadata counts them: a date
//! labelled `DOB`, `Date of birth`, `born on`…), and the claimant named after a label
//! (`Claimant:`, `Patient:`, `Name:`, `Re:`…) in any of the forms [`PersonName`] reads,
//! `SURNAME, Forename` included. Only the first [`TEXT_READ_BYTES`] of the text are read.
//!
//! Scores (a reason's score; a case's score is its best reason's, plus
//! [`CORROBORATION`] for each further reason, at most [`MAX_SCORE`], halved for each
//! contradiction):
//!
//! | code | score | what |
//! |---|---|---|
//! | `same_court_number` | 0.95 | a court number recorded on the case |
//! | `same_nhs_number` | 0.90 | an NHS number recorded on the case |
//! | `same_name_and_dob` | 0.85 | the claimant's surname, first initial and date of birth |
//! | `same_parties_and_incident` | 0.60 | the claimant's surname, a defendant and the incident date |
//! | `same_surname_and_defendant` | 0.45 | the claimant's surname and a defendant |
//! | `same_name` | 0.40 | the claimant's surname and first forename |
//! | `same_surname` | 0.30 | the claimant's surname only |
//! | `different_date_of_birth` | ×0.5 | the case records dates of birth, none of them the document's |
//! | `different_nhs_number` | ×0.5 | the case records NHS numbers, none of them the document's |
//! | `different_name` | ×0.5 | the document names a claimant whose surname (or, both known, forename) is not the case's |
//!
//! Filing by rule ([`Matched::rule`]): the document's court and NHS numbers that are
//! recorded on any case are each recorded on one case only, and all on the same case;
//! that case has no contradiction, and no other case has the claimant's name and date of
//! birth. A court number is only ever compared with court numbers, never with one of our
//! references (see [`matching::court_number`]).
//!
//! Suggestions are worked out once, when the document is recorded, and stored on its
//! inbox entry (`suggestions`); they are not worked out again when cases learn keys
//! later ([`suggestions_of`] reads them back).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use chrono::NaiveDate;
use regex::Regex;
use serde_json::Value;

use crate::metadata::DocumentMetadata;
use crate::model::keys;
use crate::store::{Item, Key, StoreError, Table};

use super::matching::{self, KeyKind, MatchKey, PersonName};

/// How much of a document's text is read for clues.
pub const TEXT_READ_BYTES: usize = 256 * 1024;
/// The most suggestions kept for one document.
pub const MAX_SUGGESTIONS: usize = 5;
/// The most cases sharing one surname that are compared with a document.
pub const MAX_SURNAME_CASES: usize = 50;
/// The most candidate cases read for one document.
pub const MAX_CANDIDATES: usize = 80;
/// What each reason beyond the best adds to a case's score.
pub const CORROBORATION: f64 = 0.02;
/// The highest score.
pub const MAX_SCORE: f64 = 0.99;
/// The most values of one kind read from a document (names, NHS numbers, dates of birth,
/// defendants).
const MAX_CLUES: usize = 8;

/// Why a case is suggested (or thought less likely), as a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReasonCode {
    SameCourtNumber,
    SameNhsNumber,
    SameNameAndDob,
    SamePartiesAndIncident,
    SameSurnameAndDefendant,
    SameName,
    SameSurname,
    DifferentDateOfBirth,
    DifferentNhsNumber,
    DifferentName,
}

impl ReasonCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::SameCourtNumber => "same_court_number",
            ReasonCode::SameNhsNumber => "same_nhs_number",
            ReasonCode::SameNameAndDob => "same_name_and_dob",
            ReasonCode::SamePartiesAndIncident => "same_parties_and_incident",
            ReasonCode::SameSurnameAndDefendant => "same_surname_and_defendant",
            ReasonCode::SameName => "same_name",
            ReasonCode::SameSurname => "same_surname",
            ReasonCode::DifferentDateOfBirth => "different_date_of_birth",
            ReasonCode::DifferentNhsNumber => "different_nhs_number",
            ReasonCode::DifferentName => "different_name",
        }
    }

    /// The reason in words (never the values compared).
    pub fn words(self) -> &'static str {
        match self {
            ReasonCode::SameCourtNumber => "the same court claim number",
            ReasonCode::SameNhsNumber => "the same NHS number",
            ReasonCode::SameNameAndDob => "the same claimant name and date of birth",
            ReasonCode::SamePartiesAndIncident => {
                "the same claimant surname, a defendant and the incident date"
            }
            ReasonCode::SameSurnameAndDefendant => "the same claimant surname and a defendant",
            ReasonCode::SameName => "the same claimant name (no date of birth to compare)",
            ReasonCode::SameSurname => "the same claimant surname only",
            ReasonCode::DifferentDateOfBirth => "but the case records another date of birth",
            ReasonCode::DifferentNhsNumber => "but the case records another NHS number",
            ReasonCode::DifferentName => "but the case's claimant has another name",
        }
    }

    /// The score a reason gives; `None` for a contradiction (which halves it).
    pub fn score(self) -> Option<f64> {
        match self {
            ReasonCode::SameCourtNumber => Some(0.95),
            ReasonCode::SameNhsNumber => Some(0.9),
            ReasonCode::SameNameAndDob => Some(0.85),
            ReasonCode::SamePartiesAndIncident => Some(0.6),
            ReasonCode::SameSurnameAndDefendant => Some(0.45),
            ReasonCode::SameName => Some(0.4),
            ReasonCode::SameSurname => Some(0.3),
            ReasonCode::DifferentDateOfBirth
            | ReasonCode::DifferentNhsNumber
            | ReasonCode::DifferentName => None,
        }
    }
}

/// One reason, as stored and shown (defined with the model, which the views share).
pub use crate::model::{Reason, Suggestion};

impl From<ReasonCode> for Reason {
    fn from(code: ReasonCode) -> Reason {
        Reason {
            code: code.as_str().to_owned(),
            words: code.words().to_owned(),
        }
    }
}

/// What the matching found: the suggestions, best first, and the case the document is
/// filed under by rule, if there is one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Matched {
    pub suggestions: Vec<Suggestion>,
    pub rule: Option<RuleMatch>,
}

/// A document filed by rule: the case, and the kind of key that decided it (never its
/// value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleMatch {
    pub case_ref: String,
    pub key: KeyKind,
}

/// What a document says about the case it belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Clues {
    pub courts: Vec<MatchKey>,
    pub nhs: Vec<MatchKey>,
    /// The claimant, as the metadata read it and as labelled in the text.
    pub names: Vec<PersonName>,
    pub dobs: Vec<NaiveDate>,
    /// Defendants, by [`matching::organisation_key`].
    pub defendants: Vec<String>,
    pub incidents: Vec<NaiveDate>,
}

impl Clues {
    /// From a document's metadata and (when at hand) its text.
    pub fn read(meta: &DocumentMetadata, text: Option<&str>) -> Clues {
        let mut clues = Clues::default();
        clues.add_metadata(
            meta.parties.claimant.as_deref(),
            meta.references.court.iter().map(String::as_str),
            meta.parties.defendants.iter().map(String::as_str),
            meta.incident_date,
        );
        if let Some(text) = text {
            clues.add_text(text);
        }
        clues
    }

    /// From a document's stored record (`metadata`) and (when at hand) its text.
    pub fn from_record(metadata: &Value, text: Option<&str>) -> Clues {
        let strings = |pointer: &str| -> Vec<&str> {
            metadata
                .pointer(pointer)
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default()
        };
        let mut clues = Clues::default();
        clues.add_metadata(
            metadata
                .pointer("/parties/claimant")
                .and_then(Value::as_str),
            strings("/references/court").into_iter(),
            strings("/parties/defendants").into_iter(),
            metadata
                .get("incident_date")
                .and_then(Value::as_str)
                .and_then(crate::calendar::parse_date),
        );
        if let Some(text) = text {
            clues.add_text(text);
        }
        clues
    }

    fn add_metadata<'a>(
        &mut self,
        claimant: Option<&str>,
        courts: impl Iterator<Item = &'a str>,
        defendants: impl Iterator<Item = &'a str>,
        incident: Option<NaiveDate>,
    ) {
        if let Some(name) = claimant.and_then(PersonName::parse) {
            push_unique(&mut self.names, name);
        }
        for court in courts {
            if let Some(key) = MatchKey::new(KeyKind::Court, court) {
                push_unique(&mut self.courts, key);
            }
        }
        for defendant in defendants {
            if let Some(key) = matching::organisation_key(defendant) {
                push_unique(&mut self.defendants, key);
            }
        }
        if let Some(date) = incident {
            push_unique(&mut self.incidents, date);
        }
    }

    /// NHS numbers, dates of birth and labelled claimant names from the text.
    fn add_text(&mut self, text: &str) {
        let text = &text[..floor_boundary(text, TEXT_READ_BYTES)];
        for m in nhs_pattern().find_iter(text) {
            if let Some(key) = MatchKey::new(KeyKind::Nhs, m.as_str()) {
                push_unique(&mut self.nhs, key);
            }
        }
        let (dates, _) = crate::metadata::dates::find_dates_bounded(text, 2_000);
        for found in &dates {
            if crate::metadata::personal::is_date_of_birth(text, found) {
                push_unique(&mut self.dobs, found.date);
            }
        }
        for name in labelled_names(text) {
            push_unique(&mut self.names, name);
        }
    }

    /// Whether the document gives anything to match on.
    pub fn is_empty(&self) -> bool {
        self.courts.is_empty() && self.nhs.is_empty() && self.names.is_empty()
    }

    /// The keys a case learns from a document filed under it: court numbers, the
    /// claimant's name (with the date of birth when the document gives exactly one), the
    /// NHS number and date of birth when it gives exactly one of each (a document naming
    /// several people teaches none of theirs), defendants and the incident date.
    pub fn learned_keys(&self) -> Vec<MatchKey> {
        let one_dob = match self.dobs.as_slice() {
            [dob] => Some(*dob),
            _ => None,
        };
        let mut out = self.courts.clone();
        for name in &self.names {
            out.extend(matching::claimant_keys(Some(&name.canonical()), one_dob));
        }
        if self.names.is_empty()
            && let Some(dob) = one_dob
        {
            out.push(MatchKey {
                kind: KeyKind::Dob,
                value: dob.to_string(),
            });
        }
        if let [nhs] = self.nhs.as_slice() {
            out.push(nhs.clone());
        }
        out.extend(self.defendants.iter().map(|d| MatchKey {
            kind: KeyKind::Defendant,
            value: d.clone(),
        }));
        out.extend(self.incidents.iter().map(|d| MatchKey {
            kind: KeyKind::Incident,
            value: d.to_string(),
        }));
        let mut seen = BTreeSet::new();
        out.retain(|k| seen.insert(k.clone()));
        out
    }
}

fn push_unique<T: PartialEq>(list: &mut Vec<T>, value: T) {
    if list.len() < MAX_CLUES && !list.contains(&value) {
        list.push(value);
    }
}

fn floor_boundary(s: &str, max: usize) -> usize {
    if max >= s.len() {
        return s.len();
    }
    let mut i = max;
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn nhs_pattern() -> &'static Regex {
    static NHS: OnceLock<Regex> = OnceLock::new();
    NHS.get_or_init(|| {
        Regex::new(r"(?-u:\b)\d{3}[ -]?\d{3}[ -]?\d{4}(?-u:\b)")
            .unwrap_or_else(|e| unreachable!("constant pattern: {e}"))
    })
}

/// Labels a claimant's name follows (`Claimant: SMITH, Jane`), matched at a line's start.
const NAME_LABELS: &[&str] = &[
    "claimant's full name",
    "claimant name",
    "the claimant",
    "claimant",
    "patient name",
    "name of patient",
    "patient",
    "our client",
    "your client",
    "the deceased",
    "deceased",
    "full name",
    "name",
    "re",
];

fn name_stop() -> &'static Regex {
    static STOP: OnceLock<Regex> = OnceLock::new();
    STOP.get_or_init(|| {
        Regex::new(
            r"(?i)\s{2,}|\t|[(;/|\d]|\b(?:d\.?o\.?b|date of birth|born|nhs|hospital no|mrn|address|ref)\b",
        )
        .unwrap_or_else(|e| unreachable!("constant pattern: {e}"))
    })
}

/// The names after a claimant label at the start of a line (`Patient: SMITH, Jane  DOB:
/// …`), read up to two spaces, a bracket, a digit or the next label.
fn labelled_names(text: &str) -> Vec<PersonName> {
    let mut out = Vec::new();
    let lines: Vec<&str> = text.lines().take(5_000).collect();
    for (i, line) in lines.iter().enumerate() {
        // A court document's heading: `BETWEEN` / the claimant's name / `Claimant`.
        if line.trim().eq_ignore_ascii_case("between") {
            let mut rest = lines[i + 1..]
                .iter()
                .map(|l| l.trim())
                .filter(|l| !l.is_empty());
            if let (Some(name), Some(role)) = (rest.next(), rest.next())
                && role.to_lowercase().starts_with("claimant")
                && (2..=6).contains(&name.split_whitespace().count())
                && let Some(person) = PersonName::parse(name)
                && !person.forenames.is_empty()
            {
                push_unique(&mut out, person);
            }
            continue;
        }
        let trimmed = line.trim_start();
        let lower: String = trimmed.chars().take(40).collect::<String>().to_lowercase();
        let Some(label) = NAME_LABELS.iter().find(|l| {
            lower.starts_with(*l)
                && lower[l.len()..]
                    .trim_start_matches([' ', '\t'])
                    .starts_with([':', '-'])
        }) else {
            continue;
        };
        // The label is ASCII: its length in the lower-cased prefix is its length here.
        let Some(rest) = trimmed.get(label.len()..) else {
            continue;
        };
        let rest = rest.trim_start_matches([' ', '\t']);
        let rest = rest.get(1..).unwrap_or("").trim_start();
        let end = name_stop().find(rest).map_or(rest.len(), |m| m.start());
        let candidate = rest[..end].trim().trim_end_matches([',', '.']);
        let words = candidate.split_whitespace().count();
        if !(2..=6).contains(&words) || !candidate.chars().any(char::is_uppercase) {
            continue;
        }
        if let Some(name) = PersonName::parse(candidate)
            && !name.forenames.is_empty()
        {
            push_unique(&mut out, name);
        }
    }
    out
}

/// What is recorded on a candidate case, to compare with a document.
#[derive(Debug, Default)]
struct Known {
    surnames: BTreeSet<String>,
    names: BTreeSet<String>,
    dobs: BTreeSet<String>,
    nhs: BTreeSet<String>,
    defendants: BTreeSet<String>,
    incidents: BTreeSet<String>,
}

impl Known {
    fn of(case: &Item) -> Known {
        let mut k = Known::default();
        for key in matching::keys_of_case(case) {
            let set = match key.kind {
                KeyKind::Surname => &mut k.surnames,
                KeyKind::Name => &mut k.names,
                KeyKind::Dob => &mut k.dobs,
                KeyKind::Nhs => &mut k.nhs,
                KeyKind::Defendant => &mut k.defendants,
                KeyKind::Incident => &mut k.incidents,
                KeyKind::Court | KeyKind::NameDob => continue,
            };
            set.insert(key.value);
        }
        let text = |name: &str| case.get(name).and_then(Value::as_str);
        let list = |name: &str| crate::store::strings(case.get(name));
        if let Some(dob) = text("date_of_birth").and_then(crate::calendar::parse_date) {
            k.dobs.insert(dob.to_string());
        }
        if let Some(day) = text("incident_date").and_then(crate::calendar::parse_date) {
            k.incidents.insert(day.to_string());
        }
        k.nhs.extend(
            list("nhs_numbers")
                .iter()
                .filter_map(|n| matching::nhs_number(n)),
        );
        k.defendants.extend(
            list("defendants")
                .iter()
                .filter_map(|d| matching::organisation_key(d)),
        );
        if let Some(person) = text("claimant").and_then(PersonName::parse) {
            k.surnames.insert(person.surname_key());
            k.names.extend(person.name_key());
        }
        k
    }
}

/// The suggested cases for a document with these clues, best first (at most
/// [`MAX_SUGGESTIONS`]), and the case it is filed under by rule, if any.
pub async fn suggest(table: &dyn Table, clues: &Clues) -> Result<Matched, StoreError> {
    let mut reasons: BTreeMap<String, BTreeSet<ReasonCode>> = BTreeMap::new();
    // Strong keys: the cases each is recorded on.
    let mut strong: Vec<(KeyKind, Vec<String>)> = Vec::new();
    for key in clues.courts.iter().chain(&clues.nhs) {
        let cases = matching::cases_for(table, key).await?;
        let code = if key.kind == KeyKind::Court {
            ReasonCode::SameCourtNumber
        } else {
            ReasonCode::SameNhsNumber
        };
        for case in &cases {
            reasons.entry(case.clone()).or_default().insert(code);
        }
        strong.push((key.kind, cases));
    }
    let mut name_and_dob: BTreeSet<String> = BTreeSet::new();
    for name in &clues.names {
        for dob in &clues.dobs {
            let Some(key) = matching::claimant_keys(Some(&name.canonical()), Some(*dob))
                .into_iter()
                .find(|k| k.kind == KeyKind::NameDob)
            else {
                continue;
            };
            for case in matching::cases_for(table, &key).await? {
                reasons
                    .entry(case.clone())
                    .or_default()
                    .insert(ReasonCode::SameNameAndDob);
                name_and_dob.insert(case);
            }
        }
    }
    let surnames: BTreeSet<String> = clues.names.iter().map(PersonName::surname_key).collect();
    let names: BTreeSet<String> = clues
        .names
        .iter()
        .filter_map(PersonName::name_key)
        .collect();
    for surname in &surnames {
        let key = MatchKey {
            kind: KeyKind::Surname,
            value: surname.clone(),
        };
        for case in matching::cases_for(table, &key)
            .await?
            .into_iter()
            .take(MAX_SURNAME_CASES)
        {
            reasons.entry(case).or_default();
        }
    }

    let doc_dobs: BTreeSet<String> = clues.dobs.iter().map(NaiveDate::to_string).collect();
    let doc_nhs: BTreeSet<String> = clues.nhs.iter().map(|k| k.value.clone()).collect();
    let doc_defendants: BTreeSet<&String> = clues.defendants.iter().collect();
    let doc_incidents: BTreeSet<String> =
        clues.incidents.iter().map(NaiveDate::to_string).collect();
    let mut suggestions = Vec::new();
    let mut contradicted = BTreeSet::new();
    for (case_ref, mut found) in reasons.into_iter().take(MAX_CANDIDATES) {
        let Some(case) = table
            .get(&Key::new(keys::case(&case_ref), keys::META))
            .await?
        else {
            continue;
        };
        let known = Known::of(&case);
        let surname = !known.surnames.is_disjoint(&surnames);
        let defendant = known.defendants.iter().any(|d| doc_defendants.contains(d));
        let incident = !known.incidents.is_disjoint(&doc_incidents);
        let weak = if surname && defendant && incident {
            Some(ReasonCode::SamePartiesAndIncident)
        } else if surname && defendant {
            Some(ReasonCode::SameSurnameAndDefendant)
        } else if !known.names.is_disjoint(&names) {
            Some(ReasonCode::SameName)
        } else if surname {
            Some(ReasonCode::SameSurname)
        } else {
            None
        };
        if !found.contains(&ReasonCode::SameNameAndDob) {
            found.extend(weak);
        }
        if !doc_dobs.is_empty() && !known.dobs.is_empty() && known.dobs.is_disjoint(&doc_dobs) {
            found.insert(ReasonCode::DifferentDateOfBirth);
        }
        if !doc_nhs.is_empty() && !known.nhs.is_empty() && known.nhs.is_disjoint(&doc_nhs) {
            found.insert(ReasonCode::DifferentNhsNumber);
        }
        let other_surname = !surnames.is_empty() && !known.surnames.is_empty() && !surname;
        let other_forename =
            !names.is_empty() && !known.names.is_empty() && known.names.is_disjoint(&names);
        if other_surname || other_forename {
            found.insert(ReasonCode::DifferentName);
        }
        if found.iter().any(|r| r.score().is_none()) {
            contradicted.insert(case_ref.clone());
        }
        if let Some(s) = score(&found) {
            suggestions.push(Suggestion {
                case_ref,
                score: s,
                reasons: found.into_iter().map(Reason::from).collect(),
            });
        }
    }
    suggestions.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.case_ref.cmp(&b.case_ref))
    });
    suggestions.truncate(MAX_SUGGESTIONS);
    let rule = rule(&strong, &contradicted, &name_and_dob);
    Ok(Matched { suggestions, rule })
}

/// A case's score from its reasons (`None` with no positive reason).
fn score(found: &BTreeSet<ReasonCode>) -> Option<f64> {
    let positive: Vec<f64> = found.iter().filter_map(|r| r.score()).collect();
    let best = positive
        .iter()
        .copied()
        .fold(None, |m: Option<f64>, s| Some(m.map_or(s, |m| m.max(s))))?;
    let mut s = (best + CORROBORATION * (positive.len() - 1) as f64).min(MAX_SCORE);
    for _ in found.iter().filter(|r| r.score().is_none()) {
        s *= 0.5;
    }
    Some((s * 100.0).round() / 100.0)
}

/// The case a document is filed under by rule (see the module's notes).
fn rule(
    strong: &[(KeyKind, Vec<String>)],
    contradicted: &BTreeSet<String>,
    name_and_dob: &BTreeSet<String>,
) -> Option<RuleMatch> {
    let mut chosen: Option<RuleMatch> = None;
    for (kind, cases) in strong {
        match cases.as_slice() {
            [] => {}
            [one] => match &chosen {
                None => {
                    chosen = Some(RuleMatch {
                        case_ref: one.clone(),
                        key: *kind,
                    });
                }
                Some(c) if &c.case_ref == one => {}
                Some(_) => return None,
            },
            _ => return None,
        }
    }
    let chosen = chosen?;
    let elsewhere = name_and_dob.iter().any(|c| c != &chosen.case_ref);
    (!contradicted.contains(&chosen.case_ref) && !elsewhere).then_some(chosen)
}

/// The suggestions stored on an unfiled document's inbox entry; `None` when the
/// document is not unfiled (or there is no such document).
pub async fn suggestions_of(
    table: &dyn Table,
    doc_id: &str,
) -> Result<Option<Vec<Suggestion>>, StoreError> {
    let Some(doc) = table.get(&Key::new(keys::doc(doc_id), keys::META)).await? else {
        return Ok(None);
    };
    if doc.get("status").and_then(Value::as_str) != Some("unfiled") {
        return Ok(None);
    }
    let Some(received) = doc.get("received").and_then(Value::as_str) else {
        return Ok(Some(Vec::new()));
    };
    let entry = table
        .get(&Key::new(keys::UNFILED, keys::unfiled(received, doc_id)))
        .await?;
    Ok(Some(
        entry
            .as_ref()
            .and_then(|e| e.get("suggestions"))
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_gives_nhs_numbers_dates_of_birth_and_labelled_names() {
        let text = "MEDICAL RECORDS\nPatient: NÚÑEZ-GARCÍA, Zoë   DOB: 01/05/1980\n\
                    NHS No: 999 000 0018\nName: Dr A Example (consultant)\n\
                    Seen on 03/06/2021 with 999 000 0019 (not valid).\n";
        let mut clues = Clues::default();
        clues.add_text(text);
        assert_eq!(
            clues
                .nhs
                .iter()
                .map(|k| k.value.as_str())
                .collect::<Vec<_>>(),
            ["9990000018"]
        );
        assert_eq!(clues.dobs, [NaiveDate::from_ymd_opt(1980, 5, 1).unwrap()]);
        let names: Vec<String> = clues.names.iter().map(PersonName::canonical).collect();
        assert_eq!(names, ["nunez garcia, zoe", "example, a"]);
    }

    #[test]
    fn a_case_learns_personal_numbers_only_when_one_is_given() {
        let mut clues = Clues::default();
        clues.add_text("Patient: Jane Smith DOB 01/05/1980\nNHS: 9990000018\n");
        let learned = clues.learned_keys();
        assert!(learned.iter().any(|k| k.kind == KeyKind::Nhs));
        assert!(learned.iter().any(|k| k.kind == KeyKind::NameDob));
        clues.add_text("Other patient NHS: 9990158398, DOB 02/02/1990\n");
        let learned = clues.learned_keys();
        assert!(!learned.iter().any(|k| k.kind == KeyKind::Nhs));
        assert!(
            !learned
                .iter()
                .any(|k| matches!(k.kind, KeyKind::NameDob | KeyKind::Dob))
        );
    }

    #[test]
    fn scores_take_the_best_reason_corroborated_and_halve_on_contradiction() {
        let set = |r: &[ReasonCode]| r.iter().copied().collect::<BTreeSet<_>>();
        assert_eq!(score(&set(&[ReasonCode::SameCourtNumber])), Some(0.95));
        assert_eq!(
            score(&set(&[
                ReasonCode::SameCourtNumber,
                ReasonCode::SameSurname
            ])),
            Some(0.97)
        );
        assert_eq!(
            score(&set(&[
                ReasonCode::SameSurname,
                ReasonCode::DifferentDateOfBirth
            ])),
            Some(0.15)
        );
        assert_eq!(score(&set(&[ReasonCode::DifferentNhsNumber])), None);
    }

    #[test]
    fn the_rule_files_only_on_one_uncontradicted_case() {
        let one = |c: &str| vec![c.to_owned()];
        let none = BTreeSet::new();
        let court = (KeyKind::Court, one("CNST/24/000001"));
        let nhs_same = (KeyKind::Nhs, one("CNST/24/000001"));
        let nhs_other = (KeyKind::Nhs, one("CNST/24/000002"));
        assert_eq!(
            rule(&[court.clone(), nhs_same], &none, &none).map(|r| (r.case_ref, r.key)),
            Some(("CNST/24/000001".into(), KeyKind::Court))
        );
        assert_eq!(rule(&[court.clone(), nhs_other], &none, &none), None);
        let shared = (
            KeyKind::Nhs,
            vec!["CNST/24/000001".into(), "CNST/24/000002".into()],
        );
        assert_eq!(rule(&[shared], &none, &none), None);
        let contradicted: BTreeSet<String> = ["CNST/24/000001".to_owned()].into();
        assert_eq!(
            rule(std::slice::from_ref(&court), &contradicted, &none),
            None
        );
        let elsewhere: BTreeSet<String> = ["CNST/24/000002".to_owned()].into();
        assert_eq!(rule(&[court], &none, &elsewhere), None);
        assert_eq!(rule(&[], &none, &none), None);
    }
}
