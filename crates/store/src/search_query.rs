//! postroom's own search grammar, parsed here before any engine sees it: words (all must
//! match), "quoted phrases", `-excluded` terms, `prefix*`, and references matched as
//! written (`CNST/24/004512`, `FOI_6405`, `KB-2024-001234`, an NHS number written
//! `999 000 0018` or `9990000018`). Every adapter translates the parsed form; a syntax
//! error is a `QueryError` with a stable reason, never an engine's error.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 500;
/// The most terms (words, phrases, references, exclusions) a query may have.
pub const MAX_QUERY_TERMS: usize = 20;
/// The shortest prefix before a `*` (shorter ones match too much to rank usefully).
pub const MIN_PREFIX_CHARS: usize = 2;

/// One thing a document must (or, excluded, must not) contain.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Term {
    /// A word as written (lower-cased). An engine splits it as it splits text: `O'Brien`
    /// and `MRI-scan` match as the phrases "o brien" and "mri scan".
    Word(String),
    /// Words that must appear together in this order (lower-cased, as written).
    Phrase(Vec<String>),
    /// A word's beginning (lower-cased, without the `*`).
    Prefix(String),
    /// A reference or an NHS number: matched against the references a document carries,
    /// compared in their compact form (letters and digits only, lower-cased).
    Reference {
        /// As the user wrote it.
        written: String,
        /// Its compact form: `CNST/24/004512` → `cnst24004512`, `999 000 0018` → `9990000018`.
        compact: String,
        /// `CNST/24/*`: every reference that starts so.
        prefix: bool,
    },
}

/// A term and whether it is excluded (`-word`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Clause {
    pub term: Term,
    pub excluded: bool,
}

/// A parsed query: every clause must hold (AND). At least one clause is not excluded.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SearchQuery {
    clauses: Vec<Clause>,
}

/// Why a query could not be read. `reason()` is stable (for the console and scripts).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("the search is empty: type a word, a \"phrase\" or a reference")]
    Empty,
    #[error("the search is {chars} characters long (at most {MAX_QUERY_CHARS})")]
    TooLong { chars: usize },
    #[error("the search has {terms} terms (at most {MAX_QUERY_TERMS})")]
    TooManyTerms { terms: usize },
    #[error("a quote opened at character {at} is not closed")]
    UnclosedQuote { at: usize },
    #[error("the quotes at character {at} hold no words")]
    EmptyPhrase { at: usize },
    #[error("a '-' at character {at} excludes nothing: write it right before a word, as in -draft")]
    LoneMinus { at: usize },
    #[error(
        "a '*' at character {at} ends nothing: write it right after the start of a word, as in radiolog*"
    )]
    LoneStar { at: usize },
    #[error("a '*' at character {at} is inside a word: it may only end one, as in radiolog*")]
    MisplacedStar { at: usize },
    #[error(
        "the prefix before '*' at character {at} is too short (at least {MIN_PREFIX_CHARS} letters or digits)"
    )]
    PrefixTooShort { at: usize },
    #[error("every term is excluded: say what to look for as well, as in claim -draft")]
    OnlyExclusions,
}

impl QueryError {
    /// A stable name for this error (`unclosed_quote`, `lone_minus`...).
    pub fn reason(&self) -> &'static str {
        match self {
            QueryError::Empty => "empty_query",
            QueryError::TooLong { .. } => "query_too_long",
            QueryError::TooManyTerms { .. } => "too_many_terms",
            QueryError::UnclosedQuote { .. } => "unclosed_quote",
            QueryError::EmptyPhrase { .. } => "empty_phrase",
            QueryError::LoneMinus { .. } => "lone_minus",
            QueryError::LoneStar { .. } => "lone_star",
            QueryError::MisplacedStar { .. } => "misplaced_star",
            QueryError::PrefixTooShort { .. } => "prefix_too_short",
            QueryError::OnlyExclusions => "only_exclusions",
        }
    }
}

impl postroom_core::ErrorCode for QueryError {
    fn code(&self) -> postroom_core::Code {
        postroom_core::Code::InvalidRequest
    }
}

/// A raw token of the query: a bare word or a quoted phrase, with its leading `-`.
struct Raw {
    at: usize,
    excluded: bool,
    quoted: bool,
    text: String,
}

impl SearchQuery {
    /// Reads a query. Never fails on the engine's behalf: anything accepted here is
    /// translated to a valid query by every adapter.
    pub fn parse(input: &str) -> Result<SearchQuery, QueryError> {
        let chars = input.chars().count();
        if chars > MAX_QUERY_CHARS {
            return Err(QueryError::TooLong { chars });
        }
        let raws = tokenize(input)?;
        let mut clauses = Vec::new();
        let mut i = 0;
        while i < raws.len() {
            // An NHS number written in its three groups: 999 000 0018.
            if let Some(compact) = nhs_groups(&raws[i..]) {
                clauses.push(Clause {
                    term: Term::Reference {
                        written: format!(
                            "{} {} {}",
                            raws[i].text,
                            raws[i + 1].text,
                            raws[i + 2].text
                        ),
                        compact,
                        prefix: false,
                    },
                    excluded: raws[i].excluded,
                });
                i += 3;
                continue;
            }
            clauses.extend(clauses_of(&raws[i])?);
            i += 1;
        }
        if clauses.is_empty() {
            return Err(QueryError::Empty);
        }
        if clauses.len() > MAX_QUERY_TERMS {
            return Err(QueryError::TooManyTerms {
                terms: clauses.len(),
            });
        }
        if clauses.iter().all(|c| c.excluded) {
            return Err(QueryError::OnlyExclusions);
        }
        // The same clause twice adds nothing.
        let mut unique: Vec<Clause> = Vec::with_capacity(clauses.len());
        for clause in clauses {
            if !unique.contains(&clause) {
                unique.push(clause);
            }
        }
        Ok(SearchQuery { clauses: unique })
    }

    /// The clauses, in the order written.
    pub fn clauses(&self) -> &[Clause] {
        &self.clauses
    }

    /// The clauses that must match.
    pub fn required(&self) -> impl Iterator<Item = &Term> {
        self.clauses.iter().filter(|c| !c.excluded).map(|c| &c.term)
    }

    /// The clauses that must not match.
    pub fn excluded(&self) -> impl Iterator<Item = &Term> {
        self.clauses.iter().filter(|c| c.excluded).map(|c| &c.term)
    }
}

/// The canonical form of a parsed query (what a test table compares, and what a cursor
/// is tied to): `word`, `"a phrase"`, `pre*`, `ref:cnst24004512`, `-` before exclusions.
impl fmt::Display for SearchQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, clause) in self.clauses.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            if clause.excluded {
                f.write_str("-")?;
            }
            match &clause.term {
                Term::Word(w) => f.write_str(w)?,
                Term::Phrase(words) => write!(f, "\"{}\"", words.join(" "))?,
                Term::Prefix(p) => write!(f, "{p}*")?,
                Term::Reference {
                    compact, prefix, ..
                } => write!(f, "ref:{compact}{}", if *prefix { "*" } else { "" })?,
            }
        }
        Ok(())
    }
}

/// Splits the input into bare words and quoted phrases, with their `-`.
fn tokenize(input: &str) -> Result<Vec<Raw>, QueryError> {
    let chars: Vec<char> = input.chars().collect();
    let mut raws = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let excluded = c == '-';
        if excluded {
            i += 1;
            if i >= chars.len() || chars[i].is_whitespace() || chars[i] == '-' {
                return Err(QueryError::LoneMinus { at: start + 1 });
            }
        }
        if chars[i] == '"' {
            let open = i;
            let Some(len) = chars[i + 1..].iter().position(|&c| c == '"') else {
                return Err(QueryError::UnclosedQuote { at: open + 1 });
            };
            let text: String = chars[i + 1..i + 1 + len].iter().collect();
            i += len + 2;
            if i < chars.len() && chars[i] == '*' {
                return Err(QueryError::MisplacedStar { at: i + 1 });
            }
            raws.push(Raw {
                at: open,
                excluded,
                quoted: true,
                text,
            });
            continue;
        }
        let begin = i;
        while i < chars.len() && !chars[i].is_whitespace() && chars[i] != '"' {
            i += 1;
        }
        let text: String = chars[begin..i].iter().collect();
        raws.push(Raw {
            at: begin,
            excluded,
            quoted: false,
            text,
        });
    }
    Ok(raws)
}

/// The words of a text as an engine would see them: runs of letters and digits,
/// lower-cased.
pub fn words_of(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Three bare words of 3, 3 and 4 digits (only the first may carry a `-`): an NHS number.
fn nhs_groups(raws: &[Raw]) -> Option<String> {
    let [a, b, c, ..] = raws else { return None };
    let digits = |r: &Raw, n: usize| {
        !r.quoted && r.text.len() == n && r.text.bytes().all(|b| b.is_ascii_digit())
    };
    // A leading `-` excludes the whole number.
    (!b.excluded && !c.excluded && digits(a, 3) && digits(b, 3) && digits(c, 4))
        .then(|| format!("{}{}{}", a.text, b.text, c.text))
}

/// The compact form of a reference: its letters and digits, lower-cased.
pub fn compact_reference(written: &str) -> String {
    written
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether a bare word is a reference: letters and digits in at least two parts joined
/// by `/`, `_` or `-`, one of them with a digit (`CNST/24/004512`, `FOI_6405`,
/// `KB-2024-001234`, `999-000-0018`); or ten digits (an NHS number).
pub fn is_reference(word: &str) -> bool {
    if word.len() == 10 && word.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    // Most words have no joiner: not a reference, without splitting them.
    if !word.contains(['/', '_', '-']) {
        return false;
    }
    let parts: Vec<&str> = word.split(['/', '_', '-']).collect();
    parts.len() >= 2
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(char::is_alphanumeric))
        && parts.iter().any(|p| p.chars().any(|c| c.is_ascii_digit()))
}

fn clauses_of(raw: &Raw) -> Result<Vec<Clause>, QueryError> {
    let one = |term| {
        Ok(vec![Clause {
            term,
            excluded: raw.excluded,
        }])
    };
    let word_or_phrase = |mut words: Vec<String>| {
        if words.len() == 1 {
            Term::Word(words.pop().unwrap_or_default())
        } else {
            Term::Phrase(words)
        }
    };
    if raw.quoted {
        let words = words_of(&raw.text);
        if words.is_empty() {
            return Err(QueryError::EmptyPhrase { at: raw.at + 1 });
        }
        return one(word_or_phrase(words));
    }
    let text = raw.text.as_str();
    if let Some(star) = text.find('*') {
        let at = raw.at + text[..star].chars().count() + 1;
        if star + 1 != text.len() {
            return Err(QueryError::MisplacedStar { at });
        }
        let stem = &text[..star];
        // `CNST/24/*`: references that start so.
        let trimmed = stem.trim_end_matches(['/', '_', '-']);
        if !trimmed.is_empty() && (trimmed.len() != stem.len() || is_reference(stem)) {
            let compact = compact_reference(trimmed);
            if compact.chars().count() < MIN_PREFIX_CHARS {
                return Err(QueryError::PrefixTooShort { at });
            }
            return one(Term::Reference {
                written: text.to_owned(),
                compact,
                prefix: true,
            });
        }
        let mut words = words_of(stem);
        let Some(last) = words.pop() else {
            return Err(QueryError::LoneStar { at });
        };
        if last.chars().count() < MIN_PREFIX_CHARS {
            return Err(QueryError::PrefixTooShort { at });
        }
        if words.is_empty() {
            return one(Term::Prefix(last));
        }
        // `mri-sca*`: the words before the last are required as well; excluding such a
        // mix would not say which part is excluded.
        if raw.excluded {
            return Err(QueryError::MisplacedStar { at });
        }
        return Ok(words
            .into_iter()
            .map(Term::Word)
            .chain([Term::Prefix(last)])
            .map(|term| Clause {
                term,
                excluded: false,
            })
            .collect());
    }
    if is_reference(text) {
        return one(Term::Reference {
            written: text.to_owned(),
            compact: compact_reference(text),
            prefix: false,
        });
    }
    let words = words_of(text);
    if words.is_empty() {
        // Punctuation alone carries nothing to look for.
        return Ok(Vec::new());
    }
    one(word_or_phrase(words))
}

/// The references a text carries, compact and unique, in order of first appearance:
/// what an adapter indexes so that a reference term matches as written. The same rule
/// as the grammar's: `is_reference` words, ten-digit numbers, and NHS numbers written in
/// groups of 3, 3 and 4 digits separated by a space or a hyphen.
pub fn reference_keys(text: &str) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut push = |key: String, keys: &mut Vec<String>| {
        if seen.insert(key.clone()) {
            keys.push(key);
        }
    };
    // Words: runs of letters, digits and the joiners, trimmed of trailing joiners.
    let words: Vec<&str> = text
        .split(|c: char| !(c.is_alphanumeric() || matches!(c, '/' | '_' | '-')))
        .map(|w| w.trim_matches(['/', '_', '-']))
        .filter(|w| !w.is_empty())
        .collect();
    for (i, word) in words.iter().enumerate() {
        if is_reference(word) {
            push(compact_reference(word), &mut keys);
        }
        // 999 000 0018: three groups in a row.
        if word.len() == 3
            && word.bytes().all(|b| b.is_ascii_digit())
            && let (Some(b), Some(c)) = (words.get(i + 1), words.get(i + 2))
            && b.len() == 3
            && c.len() == 4
            && b.bytes().chain(c.bytes()).all(|x| x.is_ascii_digit())
        {
            push(format!("{word}{b}{c}"), &mut keys);
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Query → its canonical parsed form, or `!reason` for an error.
    const CASES: &[(&str, &str)] = &[
        ("mri", "mri"),
        ("MRI scan", "mri scan"),
        ("  MRI   scan  ", "mri scan"),
        ("\"letter of claim\"", "\"letter of claim\""),
        ("\"Claim\"", "claim"),
        ("claim -draft", "claim -draft"),
        (
            "claim -\"without prejudice\"",
            "claim -\"without prejudice\"",
        ),
        ("radiolog*", "radiolog*"),
        ("CNST/24/004512", "ref:cnst24004512"),
        ("cnst/24/004512", "ref:cnst24004512"),
        ("FOI_6405", "ref:foi6405"),
        ("KB-2024-001234", "ref:kb2024001234"),
        ("9990000018", "ref:9990000018"),
        ("999 000 0018", "ref:9990000018"),
        ("999-000-0018", "ref:9990000018"),
        ("scan 999 000 0018 mri", "scan ref:9990000018 mri"),
        ("-999 000 0018 claim", "-ref:9990000018 claim"),
        ("999 000", "999 000"),
        ("CNST/24/*", "ref:cnst24*"),
        ("CNST/24/0045*", "ref:cnst240045*"),
        ("O'Brien", "\"o brien\""),
        ("MRI-scan", "\"mri scan\""),
        ("AND OR NOT", "and or not"),
        ("NEAR(a b)", "\"near a\" b"),
        ("mri-sca*", "mri sca*"),
        ("-mri-sca*", "!misplaced_star"),
        ("/*", "!lone_star"),
        ("claim claim", "claim"),
        ("café", "café"),
        ("claim &&", "claim"),
        ("col:umn", "\"col umn\""),
        ("{title}", "title"),
        ("", "!empty_query"),
        ("   ", "!empty_query"),
        ("&&& ...", "!empty_query"),
        ("\"letter of claim", "!unclosed_quote"),
        ("claim \"", "!unclosed_quote"),
        ("\"\"", "!empty_phrase"),
        ("\" ... \"", "!empty_phrase"),
        ("-", "!lone_minus"),
        ("claim - draft", "!lone_minus"),
        ("--draft", "!lone_minus"),
        ("*", "!lone_star"),
        ("claim *", "!lone_star"),
        ("-*", "!lone_star"),
        ("ra*d", "!misplaced_star"),
        ("\"mri scan\"*", "!misplaced_star"),
        ("r*", "!prefix_too_short"),
        ("-draft", "!only_exclusions"),
        ("-draft -\"a b\"", "!only_exclusions"),
    ];

    fn render(input: &str) -> String {
        match SearchQuery::parse(input) {
            Ok(q) => q.to_string(),
            Err(e) => format!("!{}", e.reason()),
        }
    }

    #[test]
    fn the_table_of_queries_parses_as_written() {
        let mut wrong = Vec::new();
        for (input, expected) in CASES {
            let got = render(input);
            if got != *expected {
                wrong.push(format!("{input:?}: expected {expected:?}, got {got:?}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn limits_are_errors_with_codes() {
        let long = "a".repeat(MAX_QUERY_CHARS + 1);
        assert_eq!(render(&long), "!query_too_long");
        let many: Vec<String> = (0..=MAX_QUERY_TERMS).map(|i| format!("w{i}x")).collect();
        assert_eq!(render(&many.join(" ")), "!too_many_terms");
        let enough: Vec<String> = (0..MAX_QUERY_TERMS).map(|i| format!("w{i}x")).collect();
        assert!(SearchQuery::parse(&enough.join(" ")).is_ok());
        let e = SearchQuery::parse("\"open").unwrap_err();
        assert_eq!(
            postroom_core::ErrorCode::code(&e),
            postroom_core::Code::InvalidRequest
        );
        assert_eq!(e.to_string(), "a quote opened at character 1 is not closed");
    }

    #[test]
    fn every_input_parses_or_fails_without_panicking() {
        let alphabet = [
            'a', 'Z', '1', ' ', '"', '-', '*', '/', '_', 'é', '\'', '(', ':',
        ];
        let mut state: u32 = 7;
        for _ in 0..20_000 {
            let len = (state % 12) as usize;
            let mut s = String::new();
            for _ in 0..len {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                s.push(alphabet[(state >> 16) as usize % alphabet.len()]);
            }
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            if let Ok(q) = SearchQuery::parse(&s) {
                assert!(q.required().next().is_some(), "{s:?}");
                // Nothing the engine must not see survives as a term.
                for term in q.required().chain(q.excluded()) {
                    let text = match term {
                        Term::Word(w) | Term::Prefix(w) => w.clone(),
                        Term::Phrase(ws) => ws.join(" "),
                        Term::Reference { compact, .. } => compact.clone(),
                    };
                    assert!(!text.contains(['"', '*']), "{s:?} gave {text:?}");
                }
            }
        }
    }

    #[test]
    fn reference_keys_are_found_as_written() {
        let text = "Re: CNST/24/004512 and FOI_6405; see KB-2024-001234. NHS number 999 000 0018, \
                    also 9990000026 and 999-000-0034. Not 12 34 or the year 2024 or well-being.";
        assert_eq!(
            reference_keys(text),
            [
                "cnst24004512",
                "foi6405",
                "kb2024001234",
                "9990000018",
                "9990000026",
                "9990000034"
            ]
        );
    }
}
