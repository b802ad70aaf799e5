//! Metadata: from extracted text to `DocumentMetadata` (../shared/schema): document type,
//! dates, references, parties, clinical codes, amounts and personal-data counts. Rules come
//! from a versioned data file (`rules`); unknown is null, never a guess.

pub mod dates;
pub mod personal;
pub mod references;
pub mod rules;
mod scan;

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::Serialize;

use dates::Found;
pub use personal::PersonalData;
use postroom_extract::{Extracted, MediaType, Warning};
pub use references::References;
pub use rules::{Rules, RulesError};
use scan::{LastByte, Lines, NextByte, Words};

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
    pub document_date: Option<NaiveDate>,
    pub incident_date: Option<NaiveDate>,
    pub references: References,
    pub parties: Parties,
    pub clinical: Clinical,
    pub amounts_gbp: Vec<f64>,
    pub personal_data: PersonalData,
    pub attachments: Vec<DocumentMetadata>,
    pub warnings: Vec<Warning>,
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
fn personal_text(text: &str, extracted: &Extracted) -> String {
    match &extracted.email {
        Some(e) => {
            let mut s = text.to_owned();
            for address in e.from_address.iter().chain(e.to.iter()) {
                s.push('\n');
                s.push_str(address);
            }
            s
        }
        None => text.to_owned(),
    }
}

/// Whitespace runs (line breaks included) as single spaces.
fn flatten(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            if !space {
                out.push(' ');
            }
            space = true;
        } else {
            out.push(c);
            space = false;
        }
    }
    out
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
    let flat = flatten(&text.to_lowercase());
    let subject = extracted
        .email
        .as_ref()
        .and_then(|e| e.subject.as_deref())
        .unwrap_or("")
        .to_lowercase();
    let (doc_type, confidence) = if readable {
        classify(&text, &flat, &subject, rules, extracted.media_type)
    } else {
        ("unknown".to_owned(), 0.0)
    };
    let (mut refs, refs_truncated) = references::find_bounded(&text, rules);
    truncated |= refs_truncated;
    refs.case_ref = references::choose_case_ref(&refs, &doc_type);

    let document_date = match &extracted.email {
        Some(headers) => headers
            .date
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
        None => document_date(&text, &lower, &found_dates),
    };
    let claimish = is_claim_type(&doc_type);
    let incident_date = if claimish {
        incident_date(&text, &lower, &found_dates, document_date)
    } else {
        None
    };

    let scheme = refs
        .case_ref
        .as_deref()
        .or(refs.claim.first().map(String::as_str))
        .and_then(|r| r.split('/').next())
        .filter(|s| rules.claim_schemes.iter().any(|k| k == s))
        .map(str::to_owned);
    let clinical = Clinical {
        scheme,
        specialty: claimish
            .then(|| best_code(&flat, &rules.specialty, rules))
            .flatten(),
        cause: claimish
            .then(|| best_code(&flat, &rules.cause, rules))
            .flatten(),
        injury: claimish
            .then(|| best_code(&flat, &rules.injury, rules))
            .flatten(),
    };
    let (parties, parties_truncated) = parties(&text, &lower, &doc_type, extracted, rules);
    truncated |= parties_truncated;
    let (amounts_gbp, amounts_truncated) = amounts(&text);
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

    DocumentMetadata {
        source: source.to_owned(),
        sha256: sha256.to_owned(),
        media_type: extracted.media_type.as_str().to_owned(),
        pages: extracted.pages,
        text_chars: extracted.text.chars().count() as u64,
        doc_type,
        doc_type_confidence: (confidence * 100.0).round() / 100.0,
        document_date,
        incident_date,
        references: refs,
        parties,
        clinical,
        amounts_gbp,
        personal_data,
        attachments,
        warnings: warnings.as_slice().to_vec(),
    }
}

fn is_claim_type(doc_type: &str) -> bool {
    matches!(
        doc_type,
        "letter_of_notification"
            | "letter_of_claim"
            | "letter_of_response"
            | "claim_form"
            | "particulars_of_claim"
            | "defence"
            | "settlement_offer"
            | "expert_report"
            | "medical_records"
            | "court_order"
            | "early_notification"
    )
}

/// Scores each document type by its phrases (a heading counts more) and patterns.
fn classify(
    text: &str,
    flat: &str,
    subject: &str,
    rules: &Rules,
    media: MediaType,
) -> (String, f64) {
    let lower = flat;
    let head_lines: String = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(rules.heading_lines)
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join("\n");
    // An email's subject is its heading.
    let heading = format!("{subject} {}", flatten(&head_lines));
    let mut scores: Vec<(&str, f64)> = rules
        .doc_types
        .iter()
        .map(|t| {
            let mut score = 0.0;
            for (phrase, weight) in &t.phrases {
                let hits = count_phrase(lower, phrase);
                if hits > 0 {
                    // Diminishing returns: a phrase repeated is not much stronger.
                    score += weight * (1.0 + (hits as f64).ln() * 0.3);
                    if count_phrase(&heading, phrase) > 0 {
                        score += weight * rules.heading_bonus;
                    }
                }
            }
            for (pattern, weight) in &t.patterns {
                if pattern.is_match(text) {
                    score += weight;
                }
            }
            (t.name.as_str(), score)
        })
        .collect();
    scores.sort_by(|a, b| b.1.total_cmp(&a.1));
    let (top, top_score) = scores.first().copied().unwrap_or(("unknown", 0.0));
    let second = scores.get(1).map_or(0.0, |s| s.1);
    if top_score < rules.doc_min_score {
        let fallback = match media {
            MediaType::Pdf
            | MediaType::Docx
            | MediaType::Email
            | MediaType::Text
            | MediaType::Html => "correspondence",
            _ => "unknown",
        };
        return (fallback.to_owned(), 0.5);
    }
    // Confidence: how far the winner stands from the runner-up, and how strong it is.
    let separation = (top_score - second) / top_score;
    let strength = 1.0 - (-top_score / 6.0).exp();
    let confidence = (0.5 + 0.5 * separation) * (0.6 + 0.4 * strength);
    (top.to_owned(), confidence.clamp(0.0, 1.0))
}

/// Occurrences of a phrase as whole words.
fn count_phrase(haystack: &str, phrase: &str) -> usize {
    let mut n = 0;
    if phrase.is_empty() {
        return 0;
    }
    // Non-overlapping occurrences, as `str::find` from the end of the last one.
    for start in memchr::memmem::find_iter(haystack.as_bytes(), phrase.as_bytes()) {
        let end = start + phrase.len();
        let before = haystack[..start].chars().next_back();
        let after = haystack[end..].chars().next();
        let word_start = !before.is_some_and(char::is_alphanumeric)
            || !phrase.starts_with(char::is_alphanumeric);
        let word_end = !after.is_some_and(char::is_alphanumeric)
            || !phrase.ends_with(char::is_alphanumeric)
            || phrase.len() >= 6;
        if word_start && word_end {
            n += 1;
        }
    }
    n
}

/// Labels that make the date after them the document's own.
const DATE_LABELS: &[&str] = &[
    "date:",
    "dated:",
    "dated",
    "date of report:",
    "date of report",
    "report date:",
    "date of this report",
    "printed on",
    "printed:",
    "date printed",
    "date of letter",
    "letter date",
    "issue date",
    "date of issue",
    "date issued",
    "issued on",
];
/// Labels that make the date after them something else.
const OTHER_DATE_LABELS: &[&str] = &[
    "date of birth",
    "dob",
    "d.o.b",
    "born",
    "date of incident",
    "incident date",
    "date of death",
    "died",
    "date of admission",
    "admitted",
    "received",
    "date of index",
    "deadline",
    "by ",
    "before ",
    "on or before",
    "due",
    "hearing",
    "expires",
    "date of request",
];

/// What stands before a date on its line, as `document_date` weighs it. Costs the length
/// of the white space before the date and of a short label, never of the whole line.
struct LabelBefore<'t> {
    /// The text before the date on its line, white space trimmed, in its own case.
    trimmed: &'t str,
}

impl<'t> LabelBefore<'t> {
    fn new(text: &'t str, content_start: usize, pos: usize) -> Self {
        LabelBefore {
            trimmed: text.get(content_start..pos).unwrap_or("").trim_end(),
        }
    }

    /// The label, lower-cased, if it is at most `chars` characters long.
    fn short(&self, chars: usize) -> Option<String> {
        (self.trimmed.len() <= chars * 4 && self.trimmed.chars().count() <= chars)
            .then(|| self.trimmed.to_lowercase())
    }
}

/// Whether `rest` is only white space and full stops (`rest.trim()` is all dots), read
/// forwards only as far as it takes to tell.
fn only_dots(rest: &str) -> bool {
    let after_space = rest.trim_start();
    let after_dots = after_space.trim_start_matches('.');
    after_dots.trim_start().is_empty()
}

const WEEKDAY_WORDS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "the",
    "dated this",
    "this",
];

/// The date the document bears: a date line near the top (alone, or after "Date:"), a
/// "Dated this 5th day of ..." line, or a report's date label; else none.
fn document_date(text: &str, lower: &str, found: &[Found]) -> Option<NaiveDate> {
    let top_lines = 40;
    let top_end = memchr::memchr_iter(b'\n', text.as_bytes())
        .nth(top_lines)
        .unwrap_or(text.len());
    let mut lines = Lines::new(text);
    let mut other_labels = Words::new(lower, OTHER_DATE_LABELS);
    let mut dated_this = Words::new(lower, &["dated this"]);
    let mut candidates: Vec<(i32, NaiveDate)> = Vec::new();
    for f in found {
        let (line_start, line_end) = lines.at(f.start);
        if other_labels.any_within(line_start, f.start) {
            continue;
        }
        let label = LabelBefore::new(text, lines.content_start(f.start), f.start);
        let short = label.short(24);
        // A label counts where it opens the line ("Date: 5 March 2024"), not mid-sentence
        // ("the decision dated 5 March").
        let labelled = short.as_deref().is_some_and(|label| {
            DATE_LABELS.iter().any(|l| {
                label.starts_with(l.trim_end())
                    || label.ends_with(l.trim_end()) && label.len() <= l.len() + 2
            })
        });
        let before_words = label.trimmed.trim_end_matches(',').trim();
        let weekday_only = before_words.is_empty()
            || before_words.len() <= 16
                && WEEKDAY_WORDS.contains(&before_words.to_lowercase().as_str());
        let alone = weekday_only
            && f.start < top_end
            && only_dots(text.get(f.end..line_end.max(f.end)).unwrap_or(""));
        let day_of = dated_this.any_within(line_start, f.start)
            || label
                .trimmed
                .get(label.trimmed.len().saturating_sub(4)..)
                .is_some_and(|end| end.eq_ignore_ascii_case("this"));
        let score = if labelled && f.start < top_end {
            4
        } else if alone && f.start < top_end {
            3
        } else if labelled || day_of {
            2
        } else {
            0
        };
        if score > 0 {
            candidates.push((score, f.date));
        }
    }
    candidates.sort_by_key(|c| std::cmp::Reverse(c.0));
    candidates.first().map(|c| c.1)
}

/// Words that put a date in the story of the care complained of.
const CARE_WORDS: &[&str] = &[
    "admitted",
    "attended",
    "presented",
    "underwent",
    "operation",
    "surgery",
    "seen by",
    "delivered",
    "delivery",
    "born",
    "referred",
    "consulted",
    "reviewed",
    "treated",
    "treatment",
    "visited",
    "999",
    "labour",
    "gave birth",
    "assessed",
    "examined",
    "procedure",
    "appointment",
    "discharged",
    "incident",
    "care",
    "emergency department",
    "a&e",
    "called",
];
const INCIDENT_LABELS: &[&str] = &[
    "date of incident",
    "incident date",
    "date of index event",
    "date of treatment",
    "dates of treatment",
    "date of alleged negligence",
    "date of event",
    "date(s) of treatment",
    "date of negligence",
];

/// The first date of the care complained of, where the document states one. `lower` is
/// `text` with ASCII letters lowered (the same offsets).
fn incident_date(
    text: &str,
    lower: &str,
    found: &[Found],
    document_date: Option<NaiveDate>,
) -> Option<NaiveDate> {
    // A labelled incident date wins.
    let mut lines = Lines::new(text);
    let mut incident_labels = Words::new(lower, INCIDENT_LABELS);
    for f in found {
        let (line_start, _) = lines.at(f.start);
        if incident_labels.any_within(line_start, f.start) {
            return Some(f.date);
        }
    }
    // Otherwise the earliest date in a sentence about care, before the document's date.
    let mut lines = Lines::new(text);
    let mut stop_before = LastByte::new(lower, b'.', b'\n');
    let mut stop_after = NextByte::new(lower, b'.', b'\n');
    let mut newline_after = NextByte::new(lower, b'\n', b'\n');
    let mut next_line_end = NextByte::new(lower, b'\n', b'\n');
    let mut date_labels = Words::new(lower, DATE_LABELS);
    let mut care_words = Words::new(lower, CARE_WORDS);
    let mut best: Option<NaiveDate> = None;
    for f in found {
        if personal::is_labelled_date_of_birth(text, f) {
            continue;
        }
        if document_date.is_some_and(|d| f.date >= d) {
            continue;
        }
        let (line_start, _) = lines.at(f.start);
        // A date opening a line (a diary or records entry) is about the rest of its line
        // and the line after it.
        let (sentence_start, sentence_end) = if lines.content_start(f.start) >= f.start {
            let line_end = newline_after.at_or_after(f.end).unwrap_or(lower.len());
            let end = if line_end < lower.len() {
                next_line_end
                    .at_or_after(line_end + 1)
                    .unwrap_or(lower.len())
            } else {
                lower.len()
            };
            (line_start, end)
        } else {
            let start = stop_before.before(f.start).map_or(0, |i| i + 1);
            let end = stop_after.at_or_after(f.end).unwrap_or(lower.len());
            (start, end)
        };
        if date_labels.any_within(line_start, f.start) {
            continue;
        }
        if care_words.any_within(sentence_start, sentence_end) {
            best = Some(best.map_or(f.date, |b: NaiveDate| b.min(f.date)));
        }
    }
    best
}

/// The code of a list whose phrases score highest, if it is clearly ahead.
fn best_code(lower: &str, codes: &[rules::CodeRule], rules: &Rules) -> Option<String> {
    let mut scores: Vec<(&str, f64)> = codes
        .iter()
        .map(|c| {
            let score = c
                .phrases
                .iter()
                .map(|(p, w)| if count_phrase(lower, p) > 0 { *w } else { 0.0 })
                .sum();
            (c.name.as_str(), score)
        })
        .collect();
    scores.sort_by(|a, b| b.1.total_cmp(&a.1));
    let (name, top) = *scores.first()?;
    let second = scores.get(1).map_or(0.0, |s| s.1);
    (top >= rules.code_min_score && top - second >= rules.code_margin).then(|| name.to_owned())
}

/// Money amounts in pounds: `£1,250,000`, `£1.25m`, `£250k`, `250,000 pounds`, `GBP 1,000`.
/// An amount of more than twelve digits, or of `MAX_AMOUNT_GBP` or more, is not one. At
/// most `MAX_LIST` amounts, and whether there were more.
fn amounts(text: &str) -> (Vec<f64>, bool) {
    use std::sync::OnceLock;
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(
            r"(?ix)
            (?:£|(?-u:\b)GBP\s?)\s?(?P<a>\d{1,3}(?:,\d{3})+|\d+)(?P<af>\.\d{1,2})?(?:\s?(?P<am>m(?-u:\b)|mn(?-u:\b)|million(?-u:\b)|k(?-u:\b)|bn(?-u:\b)|billion(?-u:\b)))?
            | (?-u:\b)(?P<b>\d{1,3}(?:,\d{3})+|\d+)(?P<bf>\.\d{1,2})?(?:\s?(?P<bm>million|m))?\s+(?:pounds(?:\s+sterling)?|sterling)(?-u:\b)",
        )
        .unwrap_or_else(|e| unreachable!("constant pattern: {e}"))
    });
    let mut out = Vec::new();
    for caps in re.captures_iter(text) {
        if out.len() >= MAX_LIST {
            return (out, true);
        }
        let (whole, frac, mult) = if let Some(a) = caps.name("a") {
            (a.as_str(), caps.name("af"), caps.name("am"))
        } else if let Some(b) = caps.name("b") {
            (b.as_str(), caps.name("bf"), caps.name("bm"))
        } else {
            continue;
        };
        let digits = whole
            .bytes()
            .filter(u8::is_ascii_digit)
            .skip_while(|&b| b == b'0')
            .count();
        if digits > 12 {
            continue;
        }
        let number = format!(
            "{}{}",
            whole.replace(',', ""),
            frac.map_or("", |f| f.as_str())
        );
        let Ok(mut value) = number.parse::<f64>() else {
            continue;
        };
        match mult.map(|m| m.as_str().to_ascii_lowercase()) {
            Some(m) if m.starts_with('m') => value *= 1_000_000.0,
            Some(m) if m == "k" => value *= 1_000.0,
            Some(m) if m.starts_with('b') => value *= 1_000_000_000.0,
            _ => {}
        }
        let value = (value * 100.0).round() / 100.0;
        if value.is_finite() && value < MAX_AMOUNT_GBP {
            out.push(value);
        }
    }
    (out, false)
}

const HONORIFICS: &[&str] = &[
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "dr",
    "master",
    "prof",
    "professor",
    "sir",
    "dame",
    "rev",
    "lady",
    "lord",
];

/// A personal name at the start of `s`: two to five capitalised words (initials, hyphens,
/// apostrophes and letters beyond Latin-1 allowed), honorific removed.
fn name_at(s: &str) -> Option<String> {
    let mut words = Vec::new();
    for raw in s.split_whitespace() {
        let w = raw.trim_end_matches([',', ';', ':', ')']);
        let bare = w.trim_end_matches('.');
        let first = bare.chars().next()?;
        let is_word = first.is_uppercase()
            && bare
                .chars()
                .all(|c| c.is_alphabetic() || c == '-' || c == '\'' || c == '’');
        if !is_word {
            break;
        }
        words.push(bare.to_owned());
        if w.len() != raw.len() || words.len() >= 6 {
            break;
        }
    }
    while words
        .first()
        .is_some_and(|w| HONORIFICS.contains(&w.to_lowercase().as_str()))
    {
        words.remove(0);
    }
    // Drop trailing words that are not part of a name.
    while words
        .last()
        .is_some_and(|w| ["Deceased", "Dob", "DOB", "NHS", "The"].contains(&w.as_str()))
    {
        words.pop();
    }
    (words.len() >= 2
        && !words
            .iter()
            .all(|w| w.chars().all(|c| c.is_uppercase()) && w.len() > 3))
    .then(|| words.join(" ").replace('’', "'"))
    .filter(|name| name.len() <= MAX_NAME_BYTES)
}

/// The first line of `s`, read no further than `max` bytes (then without the word cut).
fn first_line(s: &str, max: usize) -> &str {
    let window = &s[..scan::floor_boundary(s, max)];
    match memchr::memchr(b'\n', window.as_bytes()) {
        Some(i) => &window[..i],
        None if window.len() < s.len() => window
            .rfind(char::is_whitespace)
            .map_or("", |i| &window[..i]),
        None => window,
    }
}

/// The name after the first of `labels` (each with its case-insensitive pattern) that
/// is followed by one.
fn first_after_labels(text: &str, labels: &[String], patterns: &[regex::Regex]) -> Option<String> {
    let mut best: Option<(usize, String)> = None;
    for (label, pattern) in labels.iter().zip(patterns) {
        for m in pattern.find_iter(text) {
            let start = m.start();
            if best.as_ref().is_some_and(|(pos, _)| *pos <= start) {
                break;
            }
            let before_ok = !text[..start]
                .chars()
                .next_back()
                .is_some_and(char::is_alphanumeric);
            if !before_ok {
                continue;
            }
            let rest_trim = text[m.end()..].trim_start_matches([' ', '\t']);
            let Some(after) = rest_trim
                .strip_prefix(':')
                .or_else(|| rest_trim.strip_prefix('-'))
                .or(if label == "re" { None } else { Some(rest_trim) })
            else {
                continue;
            };
            // A name is a few words: a line is read no further than that.
            if let Some(name) = name_at(first_line(after, 4 * MAX_NAME_BYTES)) {
                best = Some((start, name));
                break;
            }
        }
    }
    best.map(|(_, n)| n)
}

/// The organisations a document names as possible defendants, each once, in order, with
/// a name that is the tail of another left out. At most `MAX_LIST`, and whether there
/// were more.
fn defendants(text: &str, rules: &Rules) -> (Vec<String>, bool) {
    let mut names: Vec<String> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut truncated = false;
    for m in rules
        .nhs_body
        .find_iter(text)
        .chain(rules.practice.find_iter(text))
    {
        let name = clean_org(m.as_str());
        if name.split_whitespace().count() < 2
            || name.len() > MAX_NAME_BYTES
            || seen.contains(&name)
        {
            continue;
        }
        // Room for the tails that are dropped below.
        if names.len() >= 2 * MAX_LIST {
            truncated = true;
            break;
        }
        seen.insert(name.clone());
        names.push(name);
    }
    // A name wrapped across lines also matches as its tail ("Fenbrook NHS Foundation
    // Trust"): keep only names that are not the ending of another.
    let tails: HashSet<&str> = names
        .iter()
        .flat_map(|n| n.match_indices(' ').map(move |(i, _)| &n[i + 1..]))
        .collect();
    let mut kept: Vec<String> = names
        .iter()
        .filter(|d| !tails.contains(d.as_str()))
        .cloned()
        .collect();
    if kept.len() > MAX_LIST {
        kept.truncate(MAX_LIST);
        truncated = true;
    }
    (kept, truncated)
}

fn parties(
    text: &str,
    lower: &str,
    doc_type: &str,
    extracted: &Extracted,
    rules: &Rules,
) -> (Parties, bool) {
    let mut parties = Parties::default();
    let is_foi = doc_type.starts_with("foi_");
    if is_foi {
        parties.requester = extracted
            .email
            .as_ref()
            .and_then(|e| e.from_name.clone())
            .filter(|n| name_at(n).is_some())
            .or_else(|| sign_off_name(text, lower))
            .or_else(|| {
                first_after_labels(text, &rules.requester_labels, &rules.requester_patterns)
            });
        return (parties, false);
    }
    if doc_type == "primary_care_appeal" || doc_type == "performance_concern" {
        return (parties, false);
    }
    let about_a_claim =
        is_claim_type(doc_type) || (doc_type == "correspondence" && rules.claim.is_match(text));
    let mut truncated = false;
    if about_a_claim {
        (parties.defendants, truncated) = defendants(text, rules);
        parties.claimant =
            first_after_labels(text, &rules.claimant_labels, &rules.claimant_patterns);
        parties.claimant_solicitor = claimant_solicitor(text, lower, rules);
    }
    (parties, truncated)
}

/// Words that open sentences or labels, never an organisation's name.
const NOT_NAME_START: &[&str] = &[
    "The",
    "THE",
    "and",
    "AND",
    "of",
    "Against",
    "To",
    "Dear",
    "At",
    "From",
    "Re",
    "We",
    "Our",
    "Your",
    "I",
    "This",
    "That",
    "It",
    "In",
    "On",
    "By",
    "For",
    "With",
    "Under",
    "Defendant",
    "Defendants",
    "Claimant",
    "Reporting",
    "Trust",
    "Mother",
    "Patient",
    "Between",
    "BETWEEN",
    "v",
    "V",
    "Care",
    "Provided",
    "Instructed",
];

/// Trims leading words that belong to the sentence, not the organisation's name, and
/// writes an ALL-CAPS name (court headings) in title case.
fn clean_org(s: &str) -> String {
    let words: Vec<&str> = s
        .split_whitespace()
        .map(|w| w.trim_end_matches(':'))
        .collect();
    let start = words
        .iter()
        .position(|w| !NOT_NAME_START.contains(w))
        .unwrap_or(0);
    let words = &words[start..];
    let letters: String = words
        .concat()
        .chars()
        .filter(|c| c.is_alphabetic())
        .collect();
    if letters.chars().all(char::is_uppercase) && letters.chars().count() > 6 {
        let small = ["AND", "OF", "THE", "UPON", "ON"];
        return words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                if *w == "NHS" {
                    "NHS".to_owned()
                } else if i > 0 && small.contains(w) {
                    w.to_lowercase()
                } else {
                    let mut c = w.chars();
                    c.next().map_or(String::new(), |f| {
                        f.to_uppercase().collect::<String>() + &c.as_str().to_lowercase()
                    })
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
    }
    words.join(" ")
}

/// The firm acting for the claimant: the author when the letter speaks of "our client",
/// the addressee when it speaks of "your client", the instructing firm of an expert.
fn claimant_solicitor(text: &str, lower: &str, rules: &Rules) -> Option<String> {
    let firms: Vec<(usize, String)> = rules
        .law_firm
        .find_iter(text)
        .map(|m| (m.start(), clean_org(m.as_str())))
        .filter(|(_, f)| f.split_whitespace().count() >= 2 && f.len() <= MAX_NAME_BYTES)
        .collect();
    if firms.is_empty() {
        return None;
    }
    // The author: a firm in the letterhead (first lines) or signing off.
    let head_end = memchr::memchr_iter(b'\n', text.as_bytes())
        .nth(8)
        .unwrap_or(text.len());
    let sign_off = ["yours faithfully", "yours sincerely"]
        .iter()
        .filter_map(|m| lower.rfind(m))
        .max();
    let author = firms
        .iter()
        .find(|(pos, _)| *pos < head_end)
        .or_else(|| sign_off.and_then(|s| firms.iter().find(|(pos, _)| *pos > s)))
        .map(|(_, f)| f.clone());
    // An expert "instructed by X on behalf of the claimant".
    if let Some(i) = lower.find("instructed by ") {
        let after = i + "instructed by ".len();
        let instructing = firms
            .iter()
            .find(|(pos, _)| *pos >= after && *pos <= after + 2);
        if let Some((_, f)) = instructing
            && lower[after..].contains("claimant")
        {
            return Some(f.clone());
        }
    }
    let ours = count_phrase(lower, "our client") > 0
        || count_phrase(lower, "we are instructed by") > 0
        || count_phrase(lower, "we have been consulted by") > 0;
    let theirs = count_phrase(lower, "your client") > 0;
    if theirs && !ours {
        return firms
            .iter()
            .map(|(_, f)| f)
            .find(|f| Some(*f) != author.as_ref())
            .cloned();
    }
    if ours { author } else { None }
}

/// The name under "Yours faithfully/sincerely" or "Kind regards". `lower` is `text` with
/// ASCII letters lowered (the same offsets).
fn sign_off_name(text: &str, lower: &str) -> Option<String> {
    let markers = [
        "yours faithfully",
        "yours sincerely",
        "kind regards",
        "best regards",
        "regards",
        "many thanks",
        "thank you",
    ];
    let pos = markers
        .iter()
        .filter_map(|m| lower.rfind(m).map(|p| p + m.len()))
        .max()?;
    text[pos..]
        .lines()
        .skip(1)
        .find(|l| !l.trim().is_empty())
        .and_then(|l| name_at(first_line(l.trim_start(), 4 * MAX_NAME_BYTES)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_every_form() {
        assert_eq!(
            amounts("£1,250,000 and £1.25m, £250k, 250,000 pounds, GBP 1,000.50").0,
            [1_250_000.0, 1_250_000.0, 250_000.0, 250_000.0, 1000.5]
        );
    }

    #[test]
    fn names_drop_honorifics_and_keep_letters() {
        assert_eq!(
            name_at("Mrs Zoë Łukasz-Nguyễn (DOB 1/2/1980)").as_deref(),
            Some("Zoë Łukasz-Nguyễn")
        );
        assert_eq!(
            name_at("Mr Siobhán O'Brien, deceased").as_deref(),
            Some("Siobhán O'Brien")
        );
        assert_eq!(name_at("the patient"), None);
    }

    #[test]
    fn document_date_is_the_date_line_not_a_mentioned_date() {
        let text = "Smith & Co Solicitors\n1 High Street\n\n5 March 2024\n\nDear Sirs\nOur client (DOB 01/02/1980) was admitted on 3 January 2022.";
        let found = dates::find_dates(text);
        let lower = text.to_ascii_lowercase();
        assert_eq!(
            document_date(text, &lower, &found),
            NaiveDate::from_ymd_opt(2024, 3, 5)
        );
        assert_eq!(
            incident_date(text, &lower, &found, NaiveDate::from_ymd_opt(2024, 3, 5)),
            NaiveDate::from_ymd_opt(2022, 1, 3)
        );
    }
}
