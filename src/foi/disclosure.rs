//! The disclosure log: the public version of a response (the requester's name and other
//! personal data removed) and the log itself as an accessible static HTML page and JSON.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// One entry of the disclosure log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub reference: String,
    pub title: String,
    /// The date of the response.
    pub date: String,
    pub outcome: String,
    pub themes: Vec<String>,
    /// The public response, relative to the log.
    pub document: String,
}

/// One piece of personal data removed: what kind, and the text as it was (for the
/// reviewer's eyes only: it is never logged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Redaction {
    /// `email`, `nhs_number`, `phone`, `postcode`, `date`, `address` or `name`.
    pub kind: &'static str,
    pub text: String,
}

/// A text with its personal data removed, and what was removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redacted {
    pub text: String,
    pub removed: Vec<Redaction>,
}

const MONTH: &str = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?";
const DAY: &str = r"\d{1,2}(?:st|nd|rd|th)?";
/// A capitalised word of a name: Jo, O'Brien, Smith-Jones, McDonald, Émile.
const NAME_WORD: &str = r"\p{Lu}[\p{L}'’\-]*";
/// Titles: not names themselves, but what follows them is.
const TITLES: &[&str] = &[
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "dr",
    "prof",
    "professor",
    "sir",
    "dame",
    "rev",
    "revd",
    "lady",
    "lord",
];
/// Words that, in a salutation, sign-off or "I am ...", show the words are not a name.
const NOT_NAMES: &[&str] = &[
    "sir",
    "sirs",
    "madam",
    "team",
    "officer",
    "officers",
    "foi",
    "freedom",
    "information",
    "colleague",
    "colleagues",
    "all",
    "whom",
    "resolution",
    "nhs",
    "department",
    "trust",
    "authority",
    "council",
    "manager",
    "director",
    "writing",
    "requesting",
    "the",
    "a",
    "an",
    "concerned",
    "hospital",
    "board",
    "unit",
    "service",
    "services",
    "office",
];
/// Name particles, removed only as part of the whole name.
const PARTICLES: &[&str] = &[
    "de", "van", "von", "der", "den", "la", "le", "du", "da", "di", "del", "ter", "ten",
];

static PATTERNS: LazyLock<Vec<(Regex, &'static str, &'static str)>> = LazyLock::new(|| {
    let street = "Road|Rd|Street|St|Lane|Ln|Avenue|Ave|Close|Drive|Dr|Way|Court|Ct|Crescent|Cres|Place|Pl|Gardens|Gdns|Terrace|Tce|Grove|Hill|Park|Square|Sq|Mews|Row|Walk|Parade|Green|Rise|View|Vale|Wharf|Quay|Boulevard|Gate|Yard|Fields|Meadows?|Chase|Wynd|Brae|Croft|Crossway|Hollow|Broadway|Circus";
    [
        (
            r"(?i)\b[A-Z0-9._%+-]+@[A-Z0-9.-]+\.[A-Z]{2,}\b".to_string(),
            "email",
            "[email removed]",
        ),
        (
            r"\b\d{3}[ -]?\d{3}[ -]?\d{4}\b".into(),
            "nhs_number",
            "[number removed]",
        ),
        (
            r"(?:\+44\s?(?:\(0\)\s?)?|\b0)\d{2,4}[\s-]?\d{3,4}[\s-]?\d{3,4}\b".into(),
            "phone",
            "[phone removed]",
        ),
        (
            r"\(0\d{2,4}\)\s?\d{3,4}[\s-]?\d{3,4}\b".into(),
            "phone",
            "[phone removed]",
        ),
        (
            r"(?i)\b[A-PR-UWYZ][A-HK-Y]?[0-9][0-9A-HJKMNPR-Y]? ?[0-9][ABD-HJLNP-UW-Z]{2}\b".into(),
            "postcode",
            "[postcode removed]",
        ),
        (
            r"\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b".into(),
            "date",
            "[date removed]",
        ),
        (
            format!(r"(?i)\b{DAY}(?:\s+of)?\s+{MONTH},?\s+\d{{4}}\b|\b{MONTH}\s+{DAY},?\s+\d{{4}}\b"),
            "date",
            "[date removed]",
        ),
        (
            format!(
                r"\b(?:(?:Flat|Apartment|Unit)\s+\d+[A-Za-z]?,?\s+)?\d{{1,3}}[A-Za-z]?,?[ \t]+(?:\p{{Lu}}[\p{{L}}'’\-]*[ \t]+){{1,3}}(?:{street})\b\.?"
            ),
            "address",
            "[address removed]",
        ),
    ]
    .into_iter()
    .map(|(p, kind, with)| (Regex::new(&p).expect("redaction pattern"), kind, with))
    .collect()
});

/// Names after a title: "Ms Jo Ng", "Dr A. Okafor".
static TITLED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Professor|Sir|Dame|Revd|Rev)\.?[ \t]+(?:\p{{Lu}}\.?[ \t]+){{0,2}}{NAME_WORD}(?:[ \t]+{NAME_WORD}){{0,2}}"
    ))
    .expect("titled names")
});

/// Where a name is expected: a salutation, after a sign-off (on the same or the next
/// line), "my name is", "I am", "Name:".
static NAME_PLACES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"(?m)^[ \t]*(?i:dear)[ \t]+(?P<name>[^,\n:;!]{1,80})".to_string(),
        r"(?m)^[ \t]*(?i:(?:kind(?:est)?|best|warm|many)[ \t]+(?:regards|wishes|thanks)|regards|yours[ \t]+(?:sincerely|faithfully|truly)|with[ \t]+(?:thanks|regards)|thanks|thank[ \t]+you|best|cheers|sincerely)[ \t]*[,.!]?\s*(?P<name>[^\n,(;:|<\[]{1,80})".into(),
        format!(r"(?m)(?i:\bmy[ \t]+name[ \t]+is|^[ \t]*name[ \t]*:|\bsigned[ \t]*:?)[ \t]+(?P<name>{NAME_WORD}(?:[ \t]+{NAME_WORD}){{0,3}})"),
        // "I am" with one capitalised word is too often not a name ("I am British").
        format!(r"(?i:\bi[ \t]+am|\bi'm|\bi’m)[ \t]+(?P<name>{NAME_WORD}(?:[ \t]+{NAME_WORD}){{1,3}})"),
    ]
    .iter()
    .map(|p| Regex::new(p).expect("name places"))
    .collect()
});

/// Two or more capitalised words in a row left after redaction: shown to the reviewer to
/// check (they may be a name the rules did not know).
static CAPITALISED_RUN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b\p{Lu}\p{Ll}+(?:[ \t]+\p{Lu}\p{Ll}+)+\b").expect("capitalised run")
});

/// Whether `text` reads as a person's name: one to four capitalised words (initials,
/// titles and particles allowed), none of them a word that names something else.
fn looks_like_a_name(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() || words.len() > 5 || text.contains('[') {
        return false;
    }
    let mut named = 0;
    for w in &words {
        let bare = w.trim_end_matches([',', '.']);
        let lower = bare.to_lowercase();
        if NOT_NAMES.contains(&lower.as_str()) {
            return false;
        }
        if TITLES.contains(&lower.as_str()) || PARTICLES.contains(&bare) {
            continue;
        }
        let mut chars = bare.chars();
        let Some(first) = chars.next() else {
            return false;
        };
        if !first.is_uppercase()
            || !chars.all(|c| c.is_alphabetic() || matches!(c, '\'' | '’' | '-' | '.'))
        {
            return false;
        }
        named += 1;
    }
    named > 0
}

/// Replaces every match of `re` (or of its `name` group, when it has one and `check`
/// accepts it) with `with`, recording each.
fn replace(
    text: &str,
    re: &Regex,
    kind: &'static str,
    with: &str,
    check: impl Fn(&str) -> bool,
    removed: &mut Vec<Redaction>,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for caps in re.captures_iter(text) {
        let Some(m) = caps.name("name").or_else(|| caps.get(0)) else {
            continue;
        };
        // A sign-off's name line ends at the line's end; trailing punctuation stays.
        let found = m.as_str().trim_end_matches([' ', '\t', ',', '.', ';', ':']);
        if found.is_empty() || !check(found) {
            continue;
        }
        let end = m.start() + found.len();
        out.push_str(&text[last..m.start()]);
        out.push_str(with);
        removed.push(Redaction {
            kind,
            text: found.to_string(),
        });
        last = end;
    }
    out.push_str(&text[last..]);
    out
}

/// The requester's name as a pattern: the whole name, and each part of it of two
/// letters or more but titles (case-insensitively when four letters or more; shorter
/// parts as written, capitalised or in capitals, so "Jo" goes and "jo" in a word stays).
fn requester_pattern(name: &str) -> Option<Regex> {
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    let mut long: Vec<String> = Vec::new();
    let mut short: Vec<String> = Vec::new();
    for part in name
        .split(|c: char| c.is_whitespace() || c == ',' || c == '-')
        .map(|p| p.trim_matches(|c: char| !c.is_alphanumeric()))
    {
        let lower = part.to_lowercase();
        if part.chars().count() < 2 || TITLES.contains(&lower.as_str()) || PARTICLES.contains(&part)
        {
            continue;
        }
        if part.chars().count() >= 4 {
            long.push(regex::escape(part));
        } else {
            let mut chars = part.chars();
            let capitalised: String = chars
                .next()
                .map(|c| {
                    c.to_uppercase()
                        .chain(chars.flat_map(char::to_lowercase))
                        .collect()
                })
                .unwrap_or_default();
            for variant in [part.to_string(), capitalised, part.to_uppercase()] {
                let v = regex::escape(&variant);
                if !short.contains(&v) {
                    short.push(v);
                }
            }
        }
    }
    long.sort_by_key(|p| std::cmp::Reverse(p.len()));
    let mut alternatives = vec![format!("(?i:{})", regex::escape(name))];
    // The name without its titles ("Jo Ng" of "Ms Jo Ng"), as one.
    let core: Vec<String> = name
        .split_whitespace()
        .filter(|p| !TITLES.contains(&p.trim_end_matches('.').to_lowercase().as_str()))
        .map(regex::escape)
        .collect();
    if core.len() > 1 {
        alternatives.push(format!(r"(?i:{})", core.join(r"\s+")));
    }
    if !long.is_empty() {
        alternatives.push(format!("(?i:{})", long.join("|")));
    }
    if !short.is_empty() {
        alternatives.push(short.join("|"));
    }
    Regex::new(&format!(r"\b(?:{})\b", alternatives.join("|"))).ok()
}

/// Removes personal data from a text for the public disclosure log: see
/// [`redact_report`]; only the public text.
pub fn redact(text: &str, requester: Option<&str>) -> String {
    redact_report(text, requester).text
}

/// Removes personal data from a text for the public disclosure log, and says what it
/// removed: email addresses, NHS and phone numbers, postcodes, dates (as numbers or in
/// words: "3rd March 2024", "March 3, 2024"), street lines ("14 Larkspur Close"), every
/// part of the requester's name (short parts too; titles are not names), and names found
/// in the text whoever they are: after a title ("Dr A. Okafor"), in a salutation, after a
/// sign-off, after "my name is" or "I am".
pub fn redact_report(text: &str, requester: Option<&str>) -> Redacted {
    let mut removed = Vec::new();
    let mut out = text.to_string();
    for (re, kind, with) in PATTERNS.iter() {
        out = replace(&out, re, kind, with, |_| true, &mut removed);
    }
    if let Some(re) = requester.and_then(requester_pattern) {
        out = replace(&out, &re, "name", "[name removed]", |_| true, &mut removed);
    }
    out = replace(
        &out,
        &TITLED,
        "name",
        "[name removed]",
        |found| {
            // "Sir or Madam", "Dr Who Team", "Mr Mr": the words after the title are not
            // a name.
            found.split_whitespace().skip(1).all(|w| {
                let w = w.trim_end_matches('.').to_lowercase();
                !NOT_NAMES.contains(&w.as_str()) && !TITLES.contains(&w.as_str())
            })
        },
        &mut removed,
    );
    for re in NAME_PLACES.iter() {
        out = replace(
            &out,
            re,
            "name",
            "[name removed]",
            looks_like_a_name,
            &mut removed,
        );
    }
    Redacted { text: out, removed }
}

/// Runs of capitalised words left in a redacted text, for the reviewer to check.
pub fn kept_for_review(redacted: &str) -> Vec<String> {
    let mut kept: Vec<String> = Vec::new();
    for m in CAPITALISED_RUN.find_iter(redacted) {
        let run = m.as_str().to_string();
        if !kept.contains(&run) {
            kept.push(run);
        }
    }
    kept
}

const THEMES: &[(&str, &[&str])] = &[
    ("maternity", &["maternity", "obstetric", "birth", "midwi"]),
    (
        "claims statistics",
        &[
            "number of claims",
            "how many claims",
            "claims received",
            "claims by",
            "statistics",
        ],
    ),
    (
        "damages and costs",
        &["damages", "costs", "paid", "payment", "compensation"],
    ),
    ("primary care appeals", &["appeal", "pharmac", "performer"]),
    (
        "practitioner concerns",
        &["practitioner", "advice", "exclusion"],
    ),
    (
        "our organisation",
        &[
            "staff",
            "salar",
            "contract",
            "policy",
            "procurement",
            "spend",
        ],
    ),
];

/// Themes of a request, for the log's index.
pub fn themes(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let found: Vec<String> = THEMES
        .iter()
        .filter(|(_, words)| words.iter().any(|w| lower.contains(w)))
        .map(|(t, _)| t.to_string())
        .collect();
    if found.is_empty() {
        vec!["other".into()]
    } else {
        found
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The disclosure log as a static page: semantic HTML, a caption, column headers with
/// scope, a language and a title; newest first.
pub fn html(entries: &[Entry], organisation: &str) -> String {
    let mut rows = String::new();
    for e in entries {
        rows.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td>{}</td><td><time datetime=\"{}\">{}</time></td><td>{}</td><td>{}</td><td><a href=\"{}\">Response to {} (PDF)</a></td></tr>\n",
            esc(&e.reference),
            esc(&e.title),
            esc(&e.date),
            esc(&crate::calendar::parse_date(&e.date).map(crate::calendar::uk_date).unwrap_or_else(|| e.date.clone())),
            esc(&e.outcome.replace('-', " ")),
            esc(&e.themes.join(", ")),
            esc(&e.document),
            esc(&e.reference),
        ));
    }
    format!(
        r#"<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Freedom of information disclosure log – {org}</title>
<style>
body {{ font-family: Arial, sans-serif; font-size: 1.1875rem; line-height: 1.5; color: #0b0c0c; margin: 0 auto; max-width: 60rem; padding: 1rem; }}
table {{ border-collapse: collapse; width: 100%; }}
caption {{ text-align: left; font-weight: bold; padding-bottom: .5rem; }}
th, td {{ border-bottom: 1px solid #b1b4b6; padding: .5rem; text-align: left; vertical-align: top; }}
a {{ color: #1d70b8; }}
a:focus {{ outline: 3px solid #ffdd00; background: #ffdd00; color: #0b0c0c; }}
</style>
</head>
<body>
<header><p>{org}</p></header>
<main>
<h1>Freedom of information disclosure log</h1>
<p>These are the responses we have given to requests under the Freedom of Information Act 2000, with the requesters' names and other personal information removed. {count} response(s), newest first.</p>
<p>Machine-readable version: <a href="disclosure-log.json">disclosure log as JSON</a>.</p>
<table>
<caption>Responses to freedom of information requests</caption>
<thead><tr><th scope="col">Reference</th><th scope="col">Request</th><th scope="col">Date of response</th><th scope="col">Outcome</th><th scope="col">Themes</th><th scope="col">Response</th></tr></thead>
<tbody>
{rows}</tbody>
</table>
</main>
</body>
</html>
"#,
        org = esc(organisation),
        count = entries.len(),
        rows = rows
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_data_is_removed() {
        let text = "I am Émile Beaufort of 3 Rue Lane, Leeds LS1 4AP (emile@example.org, 01632 960123), NHS number 999 123 4567, born 02/05/1954. Beaufort asks for maternity claims.";
        let out = redact(text, Some("Émile Beaufort"));
        for gone in [
            "Émile",
            "Beaufort",
            "LS1 4AP",
            "emile@example.org",
            "01632 960123",
            "999 123 4567",
            "02/05/1954",
        ] {
            assert!(!out.contains(gone), "{gone} left in {out}");
        }
        assert!(out.contains("maternity claims"));
        assert_eq!(themes(&out), ["maternity"]);
    }
}
