//! Parties: the claimant, the NHS bodies and practitioners a claim is against, the
//! claimant's solicitors, and an FOI request's requester, read as the document's family
//! calls for.

use std::collections::HashSet;

use postroom_extract::Extracted;

use crate::classify::count_phrase;
use crate::rules::{Family, Rules};
use crate::{MAX_LIST, MAX_NAME_BYTES, Parties, scan};

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
pub(crate) fn name_at(s: &str) -> Option<String> {
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

/// The parties a document of `family` (none: the type is not declared, as `UNKNOWN`)
/// names, and whether some were left out for want of room.
pub(crate) fn parties(
    text: &str,
    lower: &str,
    family: Option<Family>,
    extracted: &Extracted,
    rules: &Rules,
) -> (Parties, bool) {
    let mut parties = Parties::default();
    let about_a_claim = match family {
        Some(Family::Foi) => {
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
        Some(Family::Appeals | Family::Practitioner) | None => false,
        Some(Family::Claims) => true,
        // Correspondence about a claim names its parties too.
        Some(Family::General) => rules.claim.is_match(text),
    };
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
}
