//! The keys a case is known by besides its reference (court numbers, NHS numbers, the
//! claimant's name and date of birth), normalised, and their index: each key a case
//! learns is an item `MATCH#<kind>#<value>` / `CASE#<ref>`, so the cases that share a key
//! are one query away, and the list of keys is kept on the case (`match_keys`).
//!
//! Normal forms:
//! - court numbers: upper case, no spaces, the whole value one court format
//!   (`KB-2024-001234`, `QB-…`, County Court `F12YJ456`); never one of our references;
//! - NHS numbers: ten digits (spaces and hyphens dropped), modulus 11 check passed;
//! - dates of birth: ISO (`1980-05-01`), read as `calendar::parse_date` reads dates;
//! - names: lower case, accents folded (`Zoë` → `zoe`, `ß` → `ss`), apostrophes dropped,
//!   titles (`Mrs`, `Dr`, …) dropped, hyphens and full stops read as spaces.
//!   `SURNAME, Forenames` is read by its comma; without one the last word is the
//!   surname (`Jane Smith`, `J. Smith`), unless the last word is a lone initial
//!   (`Smith J`). The surname key is the surname's last word (so `Núñez-García`,
//!   `Nunez Garcia` and `GARCIA, José` meet on `garcia`); the name key is the surname
//!   and the first forename (`smith jane`, only when that forename is more than an
//!   initial); the name-and-birth key is surname, first initial and date of birth
//!   (`smith j 1980-05-01`), which `Jane Smith`, `SMITH, Jane` and `J. Smith` share.
//!
//! Personal keys (NHS number, date of birth, names) are stored in the index partition as
//! a SHA-256 digest of kind and value, so no name or NHS number ever appears in a key
//! (keys reach error messages and logs); court numbers are stored as they are.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::metadata::Rules;
use crate::model::keys;
use crate::store::{Condition, Item, Key, Query, StoreError, Table, TxOp, Update};

use super::CaseError;

/// At most this many keys are kept on one case (further ones are not recorded).
pub const MAX_KEYS_PER_CASE: usize = 200;
/// Index writes per transaction (DynamoDB allows 100 operations).
const INDEX_WRITES_PER_TX: usize = 90;

/// What a key says about a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    /// A court claim number (not ours).
    Court,
    /// An NHS number.
    Nhs,
    /// A date of birth.
    Dob,
    /// The claimant's surname.
    Surname,
    /// The claimant's surname and first forename.
    Name,
    /// The claimant's surname, first initial and date of birth.
    NameDob,
    /// A defendant (an NHS body, a practice, a practitioner), by [`organisation_key`].
    /// Listed on the case only (not indexed: a large trust is a defendant in thousands of
    /// cases, so it is compared on a candidate, never looked up).
    Defendant,
    /// The date of the incident. Listed on the case only (not indexed).
    Incident,
}

impl KeyKind {
    pub const ALL: [KeyKind; 8] = [
        KeyKind::Court,
        KeyKind::Nhs,
        KeyKind::Dob,
        KeyKind::Surname,
        KeyKind::Name,
        KeyKind::NameDob,
        KeyKind::Defendant,
        KeyKind::Incident,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Court => "court",
            KeyKind::Nhs => "nhs",
            KeyKind::Dob => "dob",
            KeyKind::Surname => "surname",
            KeyKind::Name => "name",
            KeyKind::NameDob => "name_dob",
            KeyKind::Defendant => "defendant",
            KeyKind::Incident => "incident",
        }
    }

    /// Whether keys of this kind are written to the index (`MATCH#…`) and so can be looked
    /// up; the others are only listed on the case, to compare with a candidate.
    pub fn is_indexed(self) -> bool {
        !matches!(self, KeyKind::Defendant | KeyKind::Incident)
    }

    /// Whether a key of this kind, recorded on one case only, names the case on its own
    /// (a court number, an NHS number, a name with its date of birth).
    pub fn is_strong(self) -> bool {
        matches!(self, KeyKind::Court | KeyKind::Nhs | KeyKind::NameDob)
    }

    /// Whether the key is personal data (stored in the index as a digest).
    fn is_personal(self) -> bool {
        !matches!(self, KeyKind::Court)
    }
}

impl std::str::FromStr for KeyKind {
    type Err = String;

    fn from_str(s: &str) -> Result<KeyKind, String> {
        KeyKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("no key kind {s}"))
    }
}

/// A key in its normal form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MatchKey {
    pub kind: KeyKind,
    pub value: String,
}

impl MatchKey {
    /// A key of `kind` from a value as written, in its normal form; `None` when the value
    /// is not one of that kind (a court number that is not one, an NHS number that fails
    /// its check, a date that is not a date, a name with no letters). For `Name` and
    /// `Surname` the value is a whole name as written; for `NameDob` use [`claimant_keys`].
    pub fn new(kind: KeyKind, raw: &str) -> Option<MatchKey> {
        let value = match kind {
            KeyKind::Court => court_number(raw)?,
            KeyKind::Nhs => nhs_number(raw)?,
            KeyKind::Dob => crate::calendar::parse_date(raw)?.to_string(),
            KeyKind::Surname => PersonName::parse(raw)?.surname_key(),
            KeyKind::Name => PersonName::parse(raw)?.name_key()?,
            KeyKind::Defendant => organisation_key(raw)?,
            KeyKind::Incident => crate::calendar::parse_date(raw)?.to_string(),
            KeyKind::NameDob => return None,
        };
        Some(MatchKey { kind, value })
    }

    /// The index partition of this key.
    pub fn partition(&self) -> String {
        keys::match_key(self.kind.as_str(), &self.indexed_value())
    }

    fn indexed_value(&self) -> String {
        if self.kind.is_personal() {
            let mut h = Sha256::new();
            h.update(self.kind.as_str().as_bytes());
            h.update([0u8]);
            h.update(self.value.as_bytes());
            hex::encode(h.finalize())[..32].to_owned()
        } else {
            self.value.clone()
        }
    }
}

/// A court claim number in its normal form (upper case, no spaces), when the whole value
/// is one: High Court `KB-`/`QB-` year and six digits, or County Court letter, two
/// digits, two letters, three digits. One of our references never is.
pub fn court_number(raw: &str) -> Option<String> {
    let compact: String = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    if compact.is_empty() || compact.len() > 32 {
        return None;
    }
    let m = Rules::builtin().court.find(&compact)?;
    (m.start() == 0 && m.end() == compact.len()).then_some(compact)
}

/// An NHS number's ten digits, when the value is ten digits (spaces and hyphens allowed
/// between them) passing the modulus 11 check.
pub fn nhs_number(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.len() > 20
        || raw
            .chars()
            .any(|c| !(c.is_ascii_digit() || c == ' ' || c == '-'))
    {
        return None;
    }
    let digits: Vec<u8> = raw
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    let digits: [u8; 10] = digits.try_into().ok()?;
    crate::metadata::personal::nhs_number_valid(&digits)
        .then(|| digits.iter().map(|d| char::from(b'0' + d)).collect())
}

/// Words an NHS body's or a practice's name shares with many others, left out when
/// names are compared (`Barsetshire Hospitals NHS Foundation Trust` and `Barsetshire
/// University Hospitals NHS Trust` are both `barsetshire`).
const ORGANISATION_WORDS: &[&str] = &[
    "the",
    "and",
    "of",
    "nhs",
    "foundation",
    "trust",
    "university",
    "hospital",
    "hospitals",
    "teaching",
    "integrated",
    "care",
    "board",
    "clinical",
    "commissioning",
    "group",
    "surgery",
    "medical",
    "centre",
    "center",
    "practice",
    "health",
    "family",
    "healthcare",
    "services",
];

/// An organisation's (or practitioner's) name in a form to compare: folded as names are,
/// the words most such names share left out; `None` when it has no letters.
pub fn organisation_key(raw: &str) -> Option<String> {
    if raw.len() > 400 {
        return None;
    }
    let folded = fold(raw);
    let words: Vec<&str> = folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let kept: Vec<&str> = words
        .iter()
        .copied()
        .filter(|w| !ORGANISATION_WORDS.contains(w) && !TITLES.contains(w))
        .collect();
    let chosen = if kept.is_empty() { words } else { kept };
    (!chosen.is_empty()).then(|| chosen.join(" "))
}

/// The keys a claimant's name and date of birth give: surname, name (when a whole first
/// forename is known), name with date of birth (when the date is known), date of birth.
pub fn claimant_keys(name: Option<&str>, dob: Option<NaiveDate>) -> Vec<MatchKey> {
    let mut out = Vec::new();
    if let Some(person) = name.and_then(PersonName::parse) {
        out.push(MatchKey {
            kind: KeyKind::Surname,
            value: person.surname_key(),
        });
        if let Some(value) = person.name_key() {
            out.push(MatchKey {
                kind: KeyKind::Name,
                value,
            });
        }
        if let (Some(dob), Some(initial)) = (dob, person.initial()) {
            out.push(MatchKey {
                kind: KeyKind::NameDob,
                value: format!("{} {initial} {dob}", person.surname_key()),
            });
        }
    }
    if let Some(dob) = dob {
        out.push(MatchKey {
            kind: KeyKind::Dob,
            value: dob.to_string(),
        });
    }
    out
}

/// A person's name, normalised (see the module's notes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName {
    /// The surname's words.
    pub surname: Vec<String>,
    /// The forenames (or their initials) in order.
    pub forenames: Vec<String>,
}

const TITLES: &[&str] = &[
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "dr",
    "doctor",
    "prof",
    "professor",
    "sir",
    "dame",
    "lady",
    "lord",
    "rev",
    "revd",
    "master",
];

impl PersonName {
    /// Reads a name as written; `None` when it has no letters.
    pub fn parse(raw: &str) -> Option<PersonName> {
        if raw.len() > 400 {
            return None;
        }
        let folded = fold(raw);
        let words = |s: &str| -> Vec<String> {
            s.split(|c: char| c.is_whitespace() || c == '-' || c == '.')
                .filter(|w| !w.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let strip_titles = |mut w: Vec<String>| {
            while w.len() > 1 && TITLES.contains(&w[0].as_str()) {
                w.remove(0);
            }
            w
        };
        let (surname, forenames) = match folded.split_once(',') {
            Some((surname, rest)) => {
                let surname = strip_titles(words(surname));
                (surname, strip_titles(words(rest)))
            }
            None => {
                let mut all = strip_titles(words(&folded));
                let last_is_initial = all.last().is_some_and(|w| w.chars().count() == 1);
                let first_is_word = all.first().is_some_and(|w| w.chars().count() > 1);
                if all.len() >= 2 && last_is_initial && first_is_word {
                    // `Smith J` / `Smith J M`: surname first, initials after.
                    let initials_from = all
                        .iter()
                        .position(|w| w.chars().count() == 1)
                        .unwrap_or(all.len());
                    let forenames = all.split_off(initials_from);
                    (all, forenames)
                } else {
                    let surname = all.pop().map(|s| vec![s]).unwrap_or_default();
                    (surname, all)
                }
            }
        };
        if surname.is_empty() {
            return None;
        }
        Some(PersonName { surname, forenames })
    }

    /// The surname key: the surname's last word.
    pub fn surname_key(&self) -> String {
        self.surname.last().cloned().unwrap_or_default()
    }

    /// The first forename's initial.
    pub fn initial(&self) -> Option<char> {
        self.forenames.first().and_then(|f| f.chars().next())
    }

    /// Surname and first forename (`smith jane`), when the forename is more than an initial.
    pub fn name_key(&self) -> Option<String> {
        let first = self.forenames.first().filter(|f| f.chars().count() > 1)?;
        Some(format!("{} {first}", self.surname_key()))
    }

    /// The canonical form: `surname, forenames` (`smith, jane mary`).
    pub fn canonical(&self) -> String {
        let surname = self.surname.join(" ");
        if self.forenames.is_empty() {
            surname
        } else {
            format!("{surname}, {}", self.forenames.join(" "))
        }
    }
}

/// Lower case with accents folded; apostrophes dropped; anything but letters, spaces,
/// commas, hyphens and full stops read as a space.
pub fn fold(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars().flat_map(char::to_lowercase) {
        match c {
            '\'' | '\u{2019}' | '\u{2018}' | '`' | '\u{301}' | '\u{300}' | '\u{308}'
            | '\u{302}' | '\u{303}' | '\u{327}' | '\u{30a}' | '\u{30c}' => {}
            'a'..='z' | ',' | '-' | '.' => out.push(c),
            _ => match fold_letter(c) {
                Some(s) => out.push_str(s),
                None if c.is_alphabetic() => out.push(c),
                None => out.push(' '),
            },
        }
    }
    out
}

fn fold_letter(c: char) -> Option<&'static str> {
    const TABLE: &[(&str, &str)] = &[
        ("àáâãäåāăą", "a"),
        ("æ", "ae"),
        ("çćĉċč", "c"),
        ("ďđð", "d"),
        ("èéêëēĕėęě", "e"),
        ("ĝğġģ", "g"),
        ("ĥħ", "h"),
        ("ìíîïĩīĭįı", "i"),
        ("ĵ", "j"),
        ("ķ", "k"),
        ("ĺļľŀł", "l"),
        ("ñńņňŉ", "n"),
        ("òóôõöøōŏő", "o"),
        ("œ", "oe"),
        ("ŕŗř", "r"),
        ("śŝşšș", "s"),
        ("ß", "ss"),
        ("ţťŧț", "t"),
        ("þ", "th"),
        ("ùúûüũūŭůűų", "u"),
        ("ŵ", "w"),
        ("ýÿŷ", "y"),
        ("źżž", "z"),
    ];
    TABLE
        .iter()
        .find(|(from, _)| from.contains(c))
        .map(|(_, to)| *to)
}

/// The most defendants a case learns from one document.
const MAX_DEFENDANTS_LEARNED: usize = 5;

/// The keys a filed document's recorded metadata carries: its claimant's name, the
/// court numbers it names, its defendants and incident date (the metadata keeps no NHS
/// number or date of birth, only their counts).
pub fn document_keys(metadata: &Value) -> Vec<MatchKey> {
    let claimant = metadata
        .pointer("/parties/claimant")
        .and_then(Value::as_str);
    let mut out = claimant_keys(claimant, None);
    let strings = |pointer: &str| crate::store::strings(metadata.pointer(pointer));
    out.extend(
        strings("/references/court")
            .iter()
            .filter_map(|c| MatchKey::new(KeyKind::Court, c)),
    );
    out.extend(
        strings("/parties/defendants")
            .iter()
            .take(MAX_DEFENDANTS_LEARNED)
            .filter_map(|d| MatchKey::new(KeyKind::Defendant, d)),
    );
    out.extend(
        metadata
            .get("incident_date")
            .and_then(Value::as_str)
            .and_then(|d| MatchKey::new(KeyKind::Incident, d)),
    );
    out
}

/// The keys a document's metadata carries, as [`document_keys`] reads them from its record.
pub fn metadata_keys(meta: &crate::metadata::DocumentMetadata) -> Vec<MatchKey> {
    let mut out = claimant_keys(meta.parties.claimant.as_deref(), None);
    out.extend(
        meta.references
            .court
            .iter()
            .filter_map(|c| MatchKey::new(KeyKind::Court, c)),
    );
    out.extend(
        meta.parties
            .defendants
            .iter()
            .take(MAX_DEFENDANTS_LEARNED)
            .filter_map(|d| MatchKey::new(KeyKind::Defendant, d)),
    );
    out.extend(meta.incident_date.map(|d| MatchKey {
        kind: KeyKind::Incident,
        value: d.to_string(),
    }));
    out
}

/// The keys recorded on a case (its `match_keys`).
pub fn keys_of_case(case: &Item) -> Vec<MatchKey> {
    case.get("match_keys")
        .and_then(|v| serde_json::from_value::<Vec<MatchKey>>(v.clone()).ok())
        .unwrap_or_default()
}

/// Records keys a case has learned: each in the index (`MATCH#…` / `CASE#<ref>`) and in
/// the case's list. Keys already recorded are not written again (so recording the same
/// keys twice writes nothing); returns how many were new. `NoCase` when there is no
/// such case. The index is written before the list, so a crash between the two is
/// finished by the next recording of the same keys.
pub async fn record_keys(
    table: &dyn Table,
    case_ref: &str,
    learned: &[MatchKey],
) -> Result<usize, CaseError> {
    if learned.is_empty() {
        return Ok(0);
    }
    let case_key = Key::new(keys::case(case_ref), keys::META);
    for _ in 0..4 {
        let case = table
            .get(&case_key)
            .await?
            .ok_or_else(|| CaseError::NoCase(case_ref.to_owned()))?;
        let mut known = keys_of_case(&case);
        let mut new: Vec<MatchKey> = Vec::new();
        for key in learned {
            if !known.contains(key) && !new.contains(key) {
                new.push(key.clone());
            }
        }
        let room = MAX_KEYS_PER_CASE.saturating_sub(known.len());
        if new.len() > room {
            tracing::warn!(
                case_ref,
                dropped = new.len() - room,
                "a case's keys are full"
            );
            new.truncate(room);
        }
        if new.is_empty() {
            return Ok(0);
        }
        let indexed: Vec<&MatchKey> = new.iter().filter(|k| k.kind.is_indexed()).collect();
        for chunk in indexed.chunks(INDEX_WRITES_PER_TX) {
            let ops = chunk
                .iter()
                .map(|key| TxOp::Put {
                    item: index_item(key, case_ref),
                    condition: Condition::None,
                })
                .collect();
            table.transact(ops).await?;
        }
        known.extend(new.iter().cloned());
        known.sort();
        let version = case.get("version").and_then(Value::as_u64).unwrap_or(0);
        let update = Update::new(case_key.clone())
            .set("match_keys", json!(known))
            .set("version", version + 1)
            .when(if case.contains_key("version") {
                Condition::VersionEquals(version)
            } else {
                Condition::Exists
            });
        match table.update(update).await {
            Ok(_) => return Ok(new.len()),
            // Changed meanwhile: read it again and merge.
            Err(StoreError::ConditionFailed { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(CaseError::Store(StoreError::Backend {
        backend: "cases",
        op: "record a case's keys".into(),
        retryable: true,
        source: "conflicting writes did not settle".into(),
    }))
}

fn index_item(key: &MatchKey, case_ref: &str) -> Item {
    Item::from_iter([
        ("PK".to_owned(), json!(key.partition())),
        ("SK".to_owned(), json!(keys::case(case_ref))),
        ("case_ref".to_owned(), json!(case_ref)),
        ("kind".to_owned(), json!(key.kind.as_str())),
    ])
}

/// The cases that learned this key, by reference (one query, paged); none for a kind
/// that is not indexed.
pub async fn cases_for(table: &dyn Table, key: &MatchKey) -> Result<Vec<String>, StoreError> {
    if !key.kind.is_indexed() {
        return Ok(Vec::new());
    }
    let items = table.query_all(&Query::new(key.partition())).await?;
    let mut refs: Vec<String> = items
        .iter()
        .filter_map(|i| i.get("case_ref").and_then(Value::as_str))
        .map(str::to_owned)
        .collect();
    refs.sort();
    refs.dedup();
    Ok(refs)
}

/// The cases that learned the key of `kind` with this value as written (normalised
/// first); none when the value is not one of that kind.
pub async fn cases_for_key(
    table: &dyn Table,
    kind: KeyKind,
    value: &str,
) -> Result<Vec<String>, StoreError> {
    match MatchKey::new(kind, value) {
        Some(key) => cases_for(table, &key).await,
        None => Ok(Vec::new()),
    }
}

/// The cases whose claimant has this name with this date of birth (`J. Smith`, `SMITH,
/// Jane` and `Jane Smith` born the same day are one key).
pub async fn cases_for_name_and_dob(
    table: &dyn Table,
    name: &str,
    dob: NaiveDate,
) -> Result<Vec<String>, StoreError> {
    let Some(key) = claimant_keys(Some(name), Some(dob))
        .into_iter()
        .find(|k| k.kind == KeyKind::NameDob)
    else {
        return Ok(Vec::new());
    };
    cases_for(table, &key).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_meet_in_one_form() {
        let dob = NaiveDate::from_ymd_opt(1980, 5, 1);
        let key = |name: &str| {
            claimant_keys(Some(name), dob)
                .into_iter()
                .find(|k| k.kind == KeyKind::NameDob)
                .map(|k| k.value)
        };
        for name in [
            "SMITH, Jane",
            "Jane Smith",
            "J. Smith",
            "Mrs Jane Mary Smith",
            "Smith J",
        ] {
            assert_eq!(key(name).as_deref(), Some("smith j 1980-05-01"), "{name}");
        }
        let p = PersonName::parse("NÚÑEZ-GARCÍA, Zoë").expect("a name");
        assert_eq!(p.canonical(), "nunez garcia, zoe");
        assert_eq!(p.surname_key(), "garcia");
        assert_eq!(
            PersonName::parse("Zoe Nunez Garcia").map(|p| p.surname_key()),
            Some("garcia".into())
        );
        assert_eq!(
            PersonName::parse("O’Brien, Seán").map(|p| p.canonical()),
            Some("obrien, sean".into())
        );
        assert_eq!(PersonName::parse(" , 123 "), None);
        assert_eq!(
            PersonName::parse("J. Smith").and_then(|p| p.name_key()),
            None,
            "an initial is not a forename"
        );
    }

    #[test]
    fn court_and_nhs_numbers_are_checked_whole() {
        assert_eq!(
            court_number(" kb-2024-001234 ").as_deref(),
            Some("KB-2024-001234")
        );
        assert_eq!(court_number("F12YJ456").as_deref(), Some("F12YJ456"));
        assert_eq!(court_number("CNST/24/004512"), None);
        assert_eq!(court_number("KB-2024-00123"), None);
        assert_eq!(court_number("xF12YJ456"), None);
        assert_eq!(nhs_number("943 476 5919").as_deref(), Some("9434765919"));
        assert_eq!(nhs_number("9434765918"), None);
        assert_eq!(nhs_number("94347659190"), None);
        assert_eq!(nhs_number("9434765919x"), None);
    }

    #[test]
    fn personal_keys_are_digested_in_the_index() {
        let key = MatchKey::new(KeyKind::Nhs, "9434765919").expect("valid");
        assert!(!key.partition().contains("9434765919"));
        let court = MatchKey::new(KeyKind::Court, "KB-2024-001234").expect("valid");
        assert_eq!(court.partition(), "MATCH#court#KB-2024-001234");
    }
}
