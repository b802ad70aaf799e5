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

static PATTERNS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        (
            r"(?i)\b[A-Z0-9._%+-]+@[A-Z0-9.-]+\.[A-Z]{2,}\b",
            "[email removed]",
        ),
        (r"\b\d{3}[ -]?\d{3}[ -]?\d{4}\b", "[number removed]"),
        (
            r"(?:\+44\s?|\b0)\d{2,4}[\s-]?\d{3,4}[\s-]?\d{3,4}\b",
            "[phone removed]",
        ),
        (
            r"(?i)\b[A-PR-UWYZ][A-HK-Y]?[0-9][0-9A-HJKMNPR-Y]? ?[0-9][ABD-HJLNP-UW-Z]{2}\b",
            "[postcode removed]",
        ),
        (r"\b\d{1,2}/\d{1,2}/\d{2,4}\b", "[date removed]"),
    ]
    .into_iter()
    .map(|(p, r)| (Regex::new(p).expect("redaction pattern"), r))
    .collect()
});

/// Removes personal data from a request's text: the requester's name (and each part of
/// it of four letters or more), email addresses, phone and NHS numbers, postcodes and
/// dates written as numbers.
pub fn redact(text: &str, requester: Option<&str>) -> String {
    let mut out = text.to_string();
    for (re, with) in PATTERNS.iter() {
        out = re.replace_all(&out, *with).into_owned();
    }
    if let Some(name) = requester {
        let mut parts: Vec<&str> = name
            .split_whitespace()
            .filter(|p| {
                p.chars().count() >= 4
                    && !["mrs.", "miss", "prof"].contains(&p.to_lowercase().as_str())
            })
            .collect();
        parts.sort_by_key(|p| std::cmp::Reverse(p.len()));
        let mut names = vec![regex::escape(name.trim())];
        names.extend(parts.iter().map(|p| regex::escape(p)));
        if let Ok(re) = Regex::new(&format!(r"(?i)\b(?:{})\b", names.join("|"))) {
            out = re.replace_all(&out, "[name removed]").into_owned();
        }
    }
    out
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
