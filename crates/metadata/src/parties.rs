//! Parties: the claimant, the NHS bodies and practitioners a claim is against, the
//! claimant's solicitors, and an FOI request's requester, read as the document's family
//! calls for.

use std::collections::HashSet;
use std::sync::OnceLock;

use postroom_extract::Extracted;

use crate::classify::Phrase;
use crate::rules::{Family, Rules};
use crate::structure::Layout;
use crate::{Evidence, MAX_LIST, MAX_NAME_BYTES, Parties, scan};

/// A value read and how: the reading that gave it and its label or phrase.
type Read<T> = Option<(T, Evidence)>;

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

/// Lower-case particles that belong inside a personal name (`Dafydd ap Rhys`).
const PARTICLES: &[&str] = &[
    "ap", "ab", "de", "da", "di", "du", "del", "della", "dos", "das", "van", "von", "der", "den",
    "ter", "la", "le", "bin", "binti", "bint", "ibn", "al", "el", "y",
];

/// Words that end a name when they follow it: the party's role, not their name.
const ROLE_WORDS: &[&str] = &[
    "Deceased",
    "Dob",
    "DOB",
    "NHS",
    "The",
    "Claimant",
    "Claimants",
    "Defendant",
    "Defendants",
    "Patient",
    "Respondent",
    "Appellant",
];

/// Whether every letter of a word is of a script without letter case (Chinese, Korean,
/// Arabic...): such a name has no capital to recognise it by.
fn uncased(word: &str) -> bool {
    word.chars().any(char::is_alphabetic)
        && word
            .chars()
            .all(|c| c.is_alphabetic() && !c.is_uppercase() && !c.is_lowercase())
}

/// A personal name at the start of `s`: two to five capitalised words (initials, hyphens,
/// apostrophes, name particles and letters beyond Latin-1 allowed), or one or more words of
/// a script without capitals, honorific removed.
pub(crate) fn name_at(s: &str) -> Option<String> {
    name_words(s, false)
}

/// `name_at`, and with `caps` a name written in capitals (court headings) is one too.
fn name_words(s: &str, caps: bool) -> Option<String> {
    let mut words: Vec<String> = Vec::new();
    let raw_words: Vec<&str> = s.split_whitespace().take(8).collect();
    for (i, raw) in raw_words.iter().enumerate() {
        let w = raw.trim_end_matches([',', ';', ':', ')']);
        let bare = w.trim_end_matches('.');
        let first = bare.chars().next()?;
        let letters_ok = bare
            .chars()
            .all(|c| c.is_alphabetic() || c == '-' || c == '\'' || c == '’');
        // A possessive ("Thornley's mother") ends the name before it.
        let possessive = bare.ends_with("'s") || bare.ends_with("’s");
        let particle = !words.is_empty()
            && PARTICLES.contains(&bare)
            && raw_words
                .get(i + 1)
                .is_some_and(|n| n.starts_with(char::is_uppercase));
        let is_word =
            letters_ok && !possessive && (first.is_uppercase() || uncased(bare) || particle);
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
        .is_some_and(|w| ROLE_WORDS.contains(&w.as_str()) || PARTICLES.contains(&w.as_str()))
    {
        words.pop();
    }
    let all_caps = words
        .iter()
        .all(|w| w.chars().all(|c| !c.is_lowercase()) && w.chars().any(char::is_uppercase));
    let enough = words.len() >= 2
        || words
            .first()
            .is_some_and(|w| uncased(w) && w.chars().count() >= 2);
    let caps_ok = caps || !(all_caps && words.iter().all(|w| w.chars().count() > 3));
    (enough && caps_ok)
        .then(|| {
            let name = words.join(" ").replace('’', "'");
            if all_caps && caps {
                title_case(&name)
            } else {
                name
            }
        })
        .filter(|name| name.len() <= MAX_NAME_BYTES)
}

/// A name written in capitals, in title case (`O'DWYER-SMITH` → `O'Dwyer-Smith`).
fn title_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        start = !c.is_alphabetic();
    }
    out
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
fn first_after_labels(
    text: &str,
    labels: &[String],
    patterns: &[regex::Regex],
) -> Option<(String, &'static str)> {
    let mut best: Option<(usize, String)> = None;
    let mut best_label = "";
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
                best_label = label_static(label);
                break;
            }
        }
    }
    best.map(|(_, n)| (n, best_label))
}

/// A rules' label as evidence text: the label itself when it is one of the usual ones,
/// else a generic word (evidence text is never read from the document unchecked).
fn label_static(label: &str) -> &'static str {
    const KNOWN: &[&str] = &[
        "our client",
        "your client",
        "the claimant",
        "claimant",
        "patient",
        "patient name",
        "name of patient",
        "deceased",
        "the deceased",
        "re",
        "name",
        "mother",
        "baby",
        "from",
        "requester",
        "applicant",
    ];
    KNOWN
        .iter()
        .find(|k| **k == label)
        .copied()
        .unwrap_or("label")
}

/// The most lines read for a party's structure (a court heading, a labelled block): the
/// parties are named near the top; a longer text is not read further for them.
const MAX_PARTY_LINES: usize = crate::structure::LAYOUT_LINES;

/// A name that is the whole of `s` (honorifics aside): nothing else on the line.
fn whole_name(s: &str, caps: bool) -> Option<String> {
    let s = s.trim().trim_end_matches([',', '.', ';']);
    if s.is_empty() || s.contains([',', ':', '(', ')']) || s.len() > MAX_NAME_BYTES {
        return None;
    }
    let name = name_words(s, caps)?;
    let words = s
        .split_whitespace()
        .filter(|w| !HONORIFICS.contains(&w.trim_end_matches('.').to_lowercase().as_str()))
        .count();
    (name.split_whitespace().count() == words).then_some(name)
}

/// The value of a labelled line: what follows the label's colon, up to a comma.
fn label_value(value: &str, caps: bool) -> Option<String> {
    let value = value.split([',', '(']).next().unwrap_or("").trim();
    whole_name(value, caps).or_else(|| name_words(value, caps))
}

/// Words of document titles, headings and organisations: a "name" holding one is not a
/// person's (`Early Notification`, `Record Summary`, `Greyfriars Mental Health`).
const NOT_PERSON_WORDS: &[&str] = &[
    "letter",
    "claim",
    "response",
    "notification",
    "early",
    "offer",
    "record",
    "records",
    "summary",
    "request",
    "report",
    "order",
    "defence",
    "particulars",
    "notice",
    "potential",
    "health",
    "hospital",
    "hospitals",
    "trust",
    "nhs",
    "llp",
    "solicitors",
    "law",
    "clinical",
    "negligence",
    "medical",
    "legal",
    "services",
    "team",
    "surgery",
    "practice",
    "centre",
    "resolution",
    "department",
    "form",
    "scheme",
    "court",
    "protocol",
    "sheet",
    "notes",
];

/// Whether a name read is a person's, not a title or an organisation.
fn personal(name: &str) -> bool {
    !name
        .split_whitespace()
        .any(|w| NOT_PERSON_WORDS.contains(&w.to_lowercase().as_str()))
}

/// The claimant as the document's structure names them: a court heading (`BETWEEN: X
/// Claimant`), a labelled line (`Claimant:`, `Our client:`, `Patient:`, `Name:`) or a claim
/// form's `Claimant` box, a column of a form's labels, a case title `X v Y`, a subject line
/// `X – Letter of Claim`, `the Claimant, X,`; else the first of the rules' labels that names
/// someone.
fn claimant(text: &str, lower: &str, layout: &Layout, rules: &Rules) -> Read<String> {
    let lines = layout.lines(MAX_PARTY_LINES);
    claimant_box(lines)
        .or_else(|| form_grid(layout))
        .or_else(|| versus(lines).map(|(c, _)| (c, Evidence::of("case_title", "X v Y"))))
        .or_else(|| {
            subject_name(lines).map(|n| (n, Evidence::of("subject_line", "name – document title")))
        })
        .or_else(|| apposition(text, lower))
        .or_else(|| {
            first_after_labels(text, &rules.claimant_labels, &rules.claimant_patterns)
                .filter(|(n, _)| personal(n))
                .map(|(n, label)| (n, Evidence::of("label", label)))
        })
}

/// The claimant of a form whose labels stand in a column before their values, the surest
/// label first.
fn form_grid(layout: &Layout) -> Read<String> {
    layout
        .grid(MAX_PARTY_LINES)
        .into_iter()
        .filter_map(|(label, value)| Some((claimant_rank(&label)?, label, value)))
        .filter_map(|(rank, label, value)| {
            Some((
                rank,
                label,
                label_value(value, true).filter(|n| personal(n))?,
            ))
        })
        .min_by_key(|(rank, _, _)| *rank)
        .map(|(_, label, name)| (name, Evidence::of("form_box", label_text(&label))))
}

/// A label read from the document as evidence text: at most 40 characters, and only if
/// it is a few plain words (never a value).
fn label_text(label: &str) -> String {
    let label = label.trim().trim_end_matches(':');
    let plain = label.chars().count() <= 40
        && label
            .chars()
            .all(|c| c.is_ascii_alphabetic() || " '’()-".contains(c));
    if plain {
        format!("{label}:")
    } else {
        "label".to_owned()
    }
}

/// A subject line naming the person and the document (`Jane Smith – Letter of Claim`,
/// `Re: Early Notification – Jane Smith`): the part that is a person's name.
fn subject_name(lines: &[&str]) -> Option<String> {
    for line in lines.iter().take(60) {
        let line = line
            .strip_prefix("Re:")
            .or_else(|| line.strip_prefix("RE:"))
            .unwrap_or(line);
        let mut parts: Vec<&str> = vec![line];
        for sep in [" – ", " — ", " - ", " | "] {
            parts = parts.iter().flat_map(|p| p.split(sep)).collect();
        }
        // A part's particulars in brackets (`Jane Smith (DOB 1/2/1980)`) are not its name.
        let parts: Vec<&str> = parts
            .into_iter()
            .map(|p| p.split('(').next().unwrap_or("").trim())
            .collect();
        if parts.len() < 2 {
            continue;
        }
        let titled = parts.iter().any(|p| !personal(p));
        if !titled {
            continue;
        }
        if let Some(name) = parts
            .iter()
            .find_map(|p| whole_name(p, true).filter(|n| personal(n)))
        {
            return Some(name);
        }
    }
    None
}

/// Whether a line only joins the two sides of a case title.
fn is_joiner(line: &str) -> bool {
    matches!(
        line.to_lowercase().trim_matches(['-', ' ']),
        "and" | "v" | "v." | "vs" | "vs." | "versus"
    )
}

/// How surely a label names the claimant: 0 the claimant or client, 1 the deceased, 2 the
/// patient or a name; `None` for other labels.
fn claimant_rank(label: &str) -> Option<u8> {
    let label = label.trim().trim_start_matches("the ").replace('’', "'");
    let not_the_claimant = [
        "represent",
        "solicitor",
        "ref",
        "address to which",
        "date",
        "birth",
        "dob",
        "number",
        "no.",
    ];
    if not_the_claimant.iter().any(|w| label.contains(w)) {
        return None;
    }
    if label.starts_with("claimant") || label.ends_with("client") || label == "client name" {
        Some(0)
    } else if label.contains("deceased") {
        Some(1)
    } else if matches!(
        label.as_str(),
        "patient"
            | "patient name"
            | "patient's name"
            | "name of patient"
            | "name"
            | "full name"
            | "mother"
            | "mother's name"
            | "re"
            | "surname"
    ) {
        Some(2)
    } else {
        None
    }
}

/// The claimant of a court heading (`BETWEEN: X Claimant and Y Defendant`), a labelled
/// line (`Claimant:`, `Your client:`, `Patient:`, `Name:`, `Surname: X Forename(s): Y`)
/// or a claim form's `Claimant` box (the name on the next line), the surest label first.
fn claimant_box(lines: &[&str]) -> Read<String> {
    let mut best: Option<(u8, String, String)> = None;
    for (i, line) in lines.iter().enumerate() {
        let head = &line[..crate::scan::floor_boundary(line, 120)];
        let head_lower = head.to_ascii_lowercase();
        let bare = head_lower.trim_end_matches([':', ' ']);
        if matches!(bare, "claimant" | "claimants" | "claimant(s)") {
            let next = lines.get(i + 1).copied().unwrap_or("");
            let heading = is_joiner(next)
                || next.to_lowercase().starts_with("-and")
                || i >= 2 && lines[i - 2].ends_with(':');
            // A court heading names the claimant on the line before; a form's box, on
            // the line after.
            let value = if heading {
                if i > 0 { lines[i - 1] } else { "" }
            } else {
                next
            };
            let name = if heading {
                whole_name(value, true)
            } else {
                label_value(value, true)
            };
            if let Some(name) = name.filter(|n| personal(n)) {
                let evidence = if heading {
                    Evidence::of("court_heading", "X Claimant")
                } else {
                    Evidence::of("form_box", "Claimant")
                };
                return Some((name, evidence));
            }
            continue;
        }
        // The claim form's box `Claimant(s) name(s) and address(es) including postcode`:
        // its value after a tab, after the label on its line, or on the next line.
        if head_lower.starts_with("claimant(s) name") || head_lower.starts_with("claimant's name") {
            let label_end = head_lower.find("postcode").map_or(head.len(), |p| p + 8);
            let value = match line.split_once('\t') {
                Some((_, v)) => v,
                None if !line[label_end..].trim().is_empty() => &line[label_end..],
                None => lines.get(i + 1).copied().unwrap_or(""),
            };
            if let Some(name) = label_value(value.trim(), true).filter(|n| personal(n)) {
                return Some((name, Evidence::of("form_box", "Claimant(s) name(s)")));
            }
            continue;
        }
        let Some(colon) = head.find(':') else {
            continue;
        };
        let Some(rank) = claimant_rank(&head_lower[..colon]) else {
            continue;
        };
        if best.as_ref().is_some_and(|(r, _, _)| *r <= rank) {
            continue;
        }
        let value = line[colon + 1..].trim();
        let value = if value.is_empty() {
            lines.get(i + 1).copied().unwrap_or("")
        } else {
            value
        };
        let value_lower = value.to_ascii_lowercase();
        // `Surname: OKONKWO Forename(s): Chidi`.
        let name = if head_lower.starts_with("surname")
            && let Some(f) = value_lower.find("forename")
        {
            let surname = value[..f].trim();
            let forename = value[f..].split_once(':').map_or("", |(_, v)| v.trim());
            label_value(&format!("{forename} {surname}"), true)
        } else {
            let mut value = value;
            for sep in [" – ", " — ", " - "] {
                if let Some((a, b)) = value.split_once(sep) {
                    value = if personal(a) { a } else { b };
                }
            }
            label_value(value, true)
        };
        if let Some(name) = name.filter(|n| personal(n)) {
            best = Some((rank, name, label_text(&head[..colon])));
        }
    }
    best.map(|(_, n, label)| (n, Evidence::of("label", label)))
}

/// A case title `X v Y` (after any label such as `Re:`): the claimant and the first
/// defendant as written.
fn versus(lines: &[&str]) -> Option<(String, String)> {
    for line in lines {
        // Every joiner holds a `v`: a line without one is passed over unsearched.
        if !line.contains('v') {
            continue;
        }
        for sep in [" v ", " v. ", " -v- ", " vs ", " vs. "] {
            let Some(i) = line.find(sep) else { continue };
            // The name is what stands before ` v `, after any label.
            let left_text = line[..i].rsplit(':').next().unwrap_or("").trim();
            let right = line[i + sep.len()..].trim();
            if let Some(name) = whole_name(left_text, true)
                && right.starts_with(char::is_uppercase)
            {
                return Some((name, right.to_owned()));
            }
        }
    }
    None
}

/// `the Claimant, Jane Smith,` or `our client, Jane Smith,`.
fn apposition(text: &str, lower: &str) -> Read<String> {
    for (marker, phrase) in [
        ("claimant, ", "the Claimant, X,"),
        ("client, ", "our client, X,"),
    ] {
        for (i, _) in lower.match_indices(marker).take(20) {
            let after = &text[i + marker.len()..];
            if let Some(name) =
                name_at(first_line(after, 4 * MAX_NAME_BYTES)).filter(|n| personal(n))
            {
                return Some((name, Evidence::of("narrative", phrase)));
            }
        }
    }
    None
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
/// names, whether some were left out for want of room, and the evidence for each party
/// read (field path → evidence).
pub(crate) fn parties(
    text: &str,
    lower: &str,
    layout: &Layout,
    family: Option<Family>,
    extracted: &Extracted,
    rules: &Rules,
    doc_type: &str,
) -> (Parties, bool, Vec<(&'static str, Evidence)>) {
    let mut parties = Parties::default();
    let mut evidence: Vec<(&'static str, Evidence)> = Vec::new();
    let about_a_claim = match family {
        Some(Family::Foi) => {
            let requester = extracted
                .email
                .as_ref()
                .and_then(|e| e.from_name.clone())
                .filter(|n| name_at(n).is_some())
                .map(|n| (n, Evidence::of("email_header", "From:")))
                .or_else(|| form_name(text))
                .or_else(|| sign_off_name(text, lower))
                .or_else(|| {
                    first_after_labels(text, &rules.requester_labels, &rules.requester_patterns)
                        .map(|(n, label)| (n, Evidence::of("label", label)))
                });
            if let Some((name, e)) = requester {
                parties.requester = Some(name);
                evidence.push(("parties.requester", e));
            }
            return (parties, false, evidence);
        }
        Some(Family::Appeals | Family::Practitioner) | None => false,
        Some(Family::Claims) => true,
        // Correspondence about a claim names its parties too: it quotes a claim reference,
        // or speaks of a client and a claim (or of the Protocol).
        Some(Family::General) => {
            rules.claim.is_match(text)
                || (client_phrase(Client::Ours).is_in(lower)
                    || client_phrase(Client::Theirs).is_in(lower))
                    && (lower.contains("claim") || lower.contains("pre-action protocol"))
        }
    };
    let mut truncated = false;
    if about_a_claim {
        (parties.defendants, truncated) = defendants(text, rules);
        let mut defendants_evidence = (!parties.defendants.is_empty())
            .then(|| Evidence::of("organisation_name", "NHS body or practice named"));
        // A doctor named as the defendant is the one sued, not the practice they work at.
        let doctors = doctor_defendants(text, lower, layout);
        if !doctors.is_empty() {
            parties.defendants.retain(|d| !rules.practice.is_match(d));
            for d in doctors {
                if !parties.defendants.contains(&d) {
                    parties.defendants.push(d);
                }
            }
            defendants_evidence = Some(Evidence::of("label", "Defendant / a claim against Dr"));
        }
        // Records are the records of one body: the one named first (their letterhead).
        if doc_type == "medical_records" && !parties.defendants.is_empty() {
            parties.defendants.truncate(1);
            defendants_evidence = Some(Evidence::of("letterhead", "first body named"));
        }
        if let Some(e) = defendants_evidence {
            evidence.push(("parties.defendants", e));
        }
        if let Some((name, e)) = claimant(text, lower, layout, rules) {
            parties.claimant = Some(name);
            evidence.push(("parties.claimant", e));
        }
        // An email's addressee is its To header: an NHS address (a trust, NHS Resolution).
        let to_the_nhs = extracted.email.as_ref().is_some_and(|e| {
            e.to.iter().any(|a| {
                let a = a.to_ascii_lowercase();
                a.contains(".nhs.") || a.contains("@nhs.") || a.contains("resolution")
            })
        });
        if let Some((firm, e)) = claimant_solicitor(text, lower, rules, doc_type, to_the_nhs) {
            parties.claimant_solicitor = Some(firm);
            evidence.push(("parties.claimant_solicitor", e));
        }
    }
    (parties, truncated, evidence)
}

/// The labels of a web form's name row.
const NAME_ROWS: &[&str] = &["your name", "name", "full name", "requester", "applicant"];

/// The name in a web form's row (`Your name │ X`, `Your name<tab>X`) or in its column of
/// labels followed by a column of values (`Submitted`, `Your name`, ... then the values).
fn form_name(text: &str) -> Read<String> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(60)
        .collect();
    let is_name_row = |l: &str| NAME_ROWS.contains(&l.trim().to_lowercase().as_str());
    for line in &lines {
        if let Some((label, value)) = line.split_once(['│', '|', '\t'])
            && is_name_row(label)
            && let Some(name) = whole_name(value.trim_matches(['│', '|', ' ']), false)
        {
            return Some((name, Evidence::of("form_box", "Your name")));
        }
    }
    // A column of short labels without digits, then as many values.
    let short_label = |l: &str| {
        l.len() <= 30
            && !l
                .bytes()
                .any(|b| b.is_ascii_digit() || b == b':' || b == b'@')
    };
    let row = lines.iter().position(|l| is_name_row(l))?;
    let start = lines[..row]
        .iter()
        .rposition(|l| !short_label(l))
        .map_or(0, |i| i + 1);
    let end = row + lines[row..].iter().take_while(|l| short_label(l)).count();
    let value = lines.get(end + row - start)?;
    let name = whole_name(value, false)?;
    Some((name, Evidence::of("form_box", "Your name")))
}

/// Doctors a claim is against, as its structure names them: the defendant of a court
/// heading (`and Dr X Defendant`), a `Defendant:` or `Proposed defendant:` label or box,
/// `a claim against Dr X`.
fn doctor_defendants(text: &str, lower: &str, layout: &Layout) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |s: &str| {
        let s = s
            .trim()
            .trim_start_matches("-and-")
            .trim_start_matches("-and");
        let s = s.trim();
        if let Some(rest) = s
            .strip_prefix("Dr ")
            .or_else(|| s.strip_prefix("Dr. "))
            .or_else(|| s.strip_prefix("DR "))
            && let Some(name) = name_words(
                first_line(rest, 4 * MAX_NAME_BYTES)
                    .split(['.', ',', ';', '('])
                    .next()
                    .unwrap_or(""),
                true,
            )
            && personal(&name)
        {
            let d = format!("Dr {name}");
            if !out.contains(&d) {
                out.push(d);
            }
        }
    };
    let lines = layout.lines(MAX_PARTY_LINES);
    for (i, line) in lines.iter().enumerate() {
        let l = line.to_ascii_lowercase();
        let bare = l.trim_end_matches([':', ' ']);
        if matches!(bare, "defendant" | "defendants" | "defendant(s)") {
            // A court heading names the defendant on the line before; a box, after.
            if i > 0 {
                add(lines[i - 1]);
            }
            if let Some(next) = lines.get(i + 1) {
                add(next);
            }
        } else if let Some(v) = l
            .strip_prefix("defendant:")
            .or_else(|| l.strip_prefix("proposed defendant:"))
        {
            add(&line[line.len() - v.len()..]);
        }
    }
    for (label, value) in layout.grid(MAX_PARTY_LINES) {
        if label.contains("defendant") && !label.contains("ref") {
            add(value);
        }
    }
    // A case title `X v Dr Y`.
    if let Some((_, right)) = versus(lines) {
        add(&right);
    }
    for marker in [
        "we are instructed by dr",
        "against dr",
        "the defendant, dr",
        "care provided by dr",
        "care given by dr",
    ] {
        for (i, m) in lower.match_indices(marker).take(20) {
            add(&text[i + m.len() - 2..]);
        }
    }
    out
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
    "Proposed",
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
                if *w == "NHS" || *w == "LLP" {
                    (*w).to_owned()
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

/// Whose client a letter speaks of.
#[derive(Debug, Clone, Copy)]
enum Client {
    /// `our client`
    Ours,
    /// `your client`
    Theirs,
}

/// `our client` or `your client`, as a phrase searched for (built once).
fn client_phrase(whose: Client) -> &'static Phrase {
    static PHRASES: OnceLock<[Phrase; 2]> = OnceLock::new();
    let [ours, theirs] =
        PHRASES.get_or_init(|| [Phrase::new("our client"), Phrase::new("your client")]);
    match whose {
        Client::Ours => ours,
        Client::Theirs => theirs,
    }
}

/// Phrases on a firm's line that make it the defendant's solicitors.
const DEFENDANTS_FIRM: &[&str] = &[
    "for the defendant",
    "defendant's solicitor",
    "defendant’s solicitor",
    "defendant's legal representative",
    "defendant’s legal representative",
];

/// Phrases on a firm's line that make it the claimant's solicitors.
const CLAIMANTS_FIRM: &[&str] = &[
    "for the claimant",
    "claimant's legal representative",
    "claimant’s legal representative",
    "claimant's solicitor",
    "claimant’s solicitor",
];

/// Phrases by which a letter says it is written for the defendant.
const FOR_DEFENDANT: &[&str] = &[
    "we act for the defendant",
    "acting for the defendant",
    "on behalf of the defendant",
    "solicitors for the defendant",
    "we act for the trust",
    "we are instructed by the defendant",
    "we are instructed by the trust",
    "offer your client",
    "offers your client",
    "offer to your client",
    "the trust's expert",
    "the trust’s expert",
    "time for the letter of response",
];

/// The firm acting for the claimant: one the document names as the claimant's, the
/// instructing firm of an expert, the addressee of a letter written for the defendant
/// (a letter of response, an offer, `Our client: X NHS Trust`), else the author (the
/// letterhead or the firm signing off) of a letter about the claim that speaks for a
/// client, is addressed to an NHS body (its address block, an email's To header) or opens
/// a claim.
fn claimant_solicitor(
    text: &str,
    lower: &str,
    rules: &Rules,
    doc_type: &str,
    emailed_to_the_nhs: bool,
) -> Read<String> {
    let all: Vec<(usize, String)> = rules
        .law_firm
        .find_iter(text)
        .map(|m| (m.start(), clean_org(m.as_str())))
        .filter(|(_, f)| f.split_whitespace().count() >= 2 && f.len() <= MAX_NAME_BYTES)
        .take(MAX_LIST)
        .collect();
    if all.is_empty() {
        return None;
    }
    // The line around `pos`, read no further than 400 bytes either side.
    let line_of = |pos: usize| {
        let from = scan::floor_boundary(text, pos.saturating_sub(400));
        let to = scan::floor_boundary(text, pos + 400);
        let line_start = text[from..pos].rfind('\n').map_or(from, |i| from + i + 1);
        let line_end = text[pos..to].find('\n').map_or(to, |i| pos + i);
        (line_start, line_end)
    };
    // A firm whose line says it acts for the defendant is never the claimant's.
    let defendants_firms: HashSet<&str> = all
        .iter()
        .filter(|(pos, _)| {
            let (start, end) = line_of(*pos);
            DEFENDANTS_FIRM
                .iter()
                .any(|p| lower[start..end].contains(p))
        })
        .map(|(_, f)| f.as_str())
        .collect();
    let firms: Vec<&(usize, String)> = all
        .iter()
        .filter(|(_, f)| !defendants_firms.contains(f.as_str()))
        .collect();
    if firms.is_empty() {
        return None;
    }
    // A firm the document itself names as the claimant's: on a line with "for the
    // claimant" after it, or a "Claimant's legal representative" label before it, or that
    // label on the next line (under a signature).
    for (pos, firm) in &firms {
        let (line_start, line_end) = line_of(*pos);
        let before = &lower[line_start..*pos];
        let after = &lower[*pos..line_end];
        let next_line = lower[line_end..].trim_start().lines().next().unwrap_or("");
        let claimants = |s: &str| CLAIMANTS_FIRM.iter().find(|p| s.contains(*p)).copied();
        let said = claimants(after).or_else(|| claimants(before)).or_else(|| {
            (next_line.len() < 80)
                .then(|| claimants(next_line))
                .flatten()
        });
        if let Some(phrase) = said {
            return Some((firm.clone(), Evidence::of("label", phrase)));
        }
    }
    // The author: a firm in the letterhead (first lines) or signing off.
    let head_end = text
        .match_indices('\n')
        .filter(|(i, _)| !text[..*i].ends_with('\n'))
        .nth(3)
        .map_or(text.len(), |(i, _)| i);
    let sign_off = [
        "yours faithfully",
        "yours sincerely",
        "kind regards",
        "best regards",
        "regards,",
        "regards\n",
        "best wishes",
        "for and on behalf of",
    ]
    .iter()
    .filter_map(|m| last_of(lower, m).map(|p| (p, *m)))
    .max();
    let author: Read<String> = firms
        .iter()
        .find(|(pos, _)| *pos < head_end)
        .map(|(_, f)| {
            (
                f.clone(),
                Evidence::of("letterhead", "firm in the letterhead"),
            )
        })
        .or_else(|| {
            let (s, marker) = sign_off?;
            firms
                .iter()
                .find(|(pos, _)| *pos > s)
                .map(|(_, f)| (f.clone(), Evidence::of("signature_block", marker.trim())))
        });
    // An expert "instructed by X on behalf of the claimant".
    for marker in ["instructed by", "asked by", "instructing solicitors"] {
        let Some(i) = lower.find(marker) else {
            continue;
        };
        let label_len = lower[i + marker.len()..]
            .bytes()
            .take_while(|b| *b == b':' || *b == b' ')
            .count();
        let after = i + marker.len() + label_len;
        let instructing = firms
            .iter()
            .find(|(pos, _)| *pos >= after && *pos <= after + 2);
        // The instructing firm is the claimant's unless its line says it acts for the
        // defendant.
        let line_end = lower[after..].find('\n').map_or(lower.len(), |e| after + e);
        if let Some((_, f)) = instructing
            && !lower[after..line_end].contains("defendant")
        {
            return Some((f.clone(), Evidence::of("label", marker)));
        }
    }
    // A letter written for the defendant (`We act for the Defendant`, `Our client: X NHS
    // Trust`, `We are instructed by Dr X`, a letter of response, an offer the defendant
    // makes): the claimant's solicitors are its addressee, named before the salutation.
    static FOR_DEFENDANT_SEARCHERS: OnceLock<Vec<Phrase>> = OnceLock::new();
    let for_defendant = FOR_DEFENDANT
        .iter()
        .zip(FOR_DEFENDANT_SEARCHERS.get_or_init(|| Phrase::all(FOR_DEFENDANT)))
        .find(|(_, p)| p.is_in(lower))
        .map(|(p, _)| *p)
        .or_else(|| (doc_type == "letter_of_response").then_some("letter of response"))
        .or_else(|| {
            [
                "our client, ",
                "our client: ",
                "we act for ",
                "on behalf of ",
                "we are instructed by ",
            ]
            .iter()
            .find(|marker| {
                lower.match_indices(*marker).take(5).any(|(i, m)| {
                    let after = &text[i + m.len()..];
                    let line = first_line(after, 4 * MAX_NAME_BYTES);
                    // After a label or "instructed by", the body must be what is named
                    // (not one named later in the sentence).
                    let near = |r: &regex::Regex| {
                        r.find(line).is_some_and(|f| {
                            !marker.ends_with(": ") && !marker.starts_with("we are")
                                || f.start() <= 4
                        })
                    };
                    near(&rules.nhs_body)
                        || near(&rules.practice)
                        || **marker == "we are instructed by " && line.starts_with("Dr ")
                })
            })
            .map(|m| m.trim_end_matches([',', ':', ' ']))
        })
        .or_else(|| {
            // `The Defendant, Dr X, offers to settle`.
            lower
                .match_indices("the defendant")
                .take(5)
                .find_map(|(i, m)| {
                    let after = &lower[i + m.len()..];
                    let after = &after[..scan::floor_boundary(after, 120)];
                    let sentence = after.split(['.', '\n']).next().unwrap_or("");
                    sentence
                        .contains(" offers ")
                        .then_some("the Defendant offers")
                })
        })
        .or_else(|| {
            (lower.contains("nhs resolution") && client_phrase(Client::Theirs).is_in(lower))
                .then_some("NHS Resolution, your client")
        });
    let author_name = author.as_ref().map(|(f, _)| f.clone());
    if let Some(phrase) = for_defendant {
        let salutation = lower
            .find("\ndear ")
            .or_else(|| lower.starts_with("dear ").then_some(0))?;
        return firms
            .iter()
            .find(|(pos, f)| *pos < salutation && Some(f) != author_name.as_ref())
            .map(|(_, f)| (f.clone(), Evidence::of("addressee", phrase)));
    }
    let theirs = client_phrase(Client::Theirs).is_in(lower);
    static OURS: OnceLock<Vec<Phrase>> = OnceLock::new();
    let ours = OURS
        .get_or_init(|| {
            Phrase::all(&[
                "our client",
                "we are instructed",
                "we have been consulted",
                "we have been instructed",
                "we act for",
                "we have been asked by",
            ])
        })
        .iter()
        .any(|p| p.is_in(lower));
    if theirs && !ours {
        return firms
            .iter()
            .map(|(_, f)| f)
            .find(|f| Some(*f) != author_name.as_ref())
            .map(|f| (f.clone(), Evidence::of("addressee", "your client")));
    }
    // Otherwise a firm writing to an NHS body about the claim (or opening it), not for
    // the defendant, writes for the claimant.
    // The addressee block: between the letterhead and the salutation, at most 1,000 bytes.
    let salutation = lower.find("\ndear ").unwrap_or(0);
    let from = head_end.min(salutation);
    let addressee = &text[from..scan::floor_boundary(text, salutation.min(from + 1_000))];
    let to_the_nhs = emailed_to_the_nhs
        || rules.nhs_body.is_match(addressee)
        || rules.practice.is_match(addressee)
        || addressee.contains("NHS Resolution");
    let opens_a_claim = matches!(doc_type, "letter_of_claim" | "letter_of_notification");
    if ours || to_the_nhs || opens_a_claim {
        author
    } else {
        None
    }
}

/// Where `marker` last occurs in `lower` (as `str::rfind`). A sign-off is searched for
/// from the end; most are not there at all, which a forward search tells sooner.
fn last_of(lower: &str, marker: &str) -> Option<usize> {
    memchr::memmem::find(lower.as_bytes(), marker.as_bytes())?;
    lower.rfind(marker)
}

/// The name under "Yours faithfully/sincerely" or "Kind regards". `lower` is `text` with
/// ASCII letters lowered (the same offsets).
fn sign_off_name(text: &str, lower: &str) -> Read<String> {
    let markers = [
        "yours faithfully",
        "yours sincerely",
        "kind regards",
        "best regards",
        "regards",
        "many thanks",
        "thank you",
    ];
    let (pos, marker) = markers
        .iter()
        .filter_map(|m| last_of(lower, m).map(|p| (p + m.len(), *m)))
        .max()?;
    text[pos..]
        .lines()
        .skip(1)
        .find(|l| !l.trim().is_empty())
        .and_then(|l| name_at(first_line(l.trim_start(), 4 * MAX_NAME_BYTES)))
        .map(|n| (n, Evidence::of("signature_block", marker)))
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
        assert_eq!(
            name_at("Dafydd ap Rhys, of").as_deref(),
            Some("Dafydd ap Rhys")
        );
        assert_eq!(name_at("김민준").as_deref(), Some("김민준"));
        assert_eq!(
            name_at("Margaret Thornley Mother's").as_deref(),
            Some("Margaret Thornley")
        );
        assert_eq!(name_at("SERVICE ADDRESS POSTCODE"), None);
    }

    #[test]
    fn the_claimant_comes_from_a_label_a_box_or_a_case_title() {
        let rules = Rules::builtin();
        let read =
            |t: &str| claimant(t, &t.to_ascii_lowercase(), &Layout::new(t), rules).map(|(n, _)| n);
        assert_eq!(
            read("Patient: Ann Lee\nClaimant: Bea Ray\n").as_deref(),
            Some("Bea Ray")
        );
        assert_eq!(
            read("Claimant\nAnjali Sharma\n12 Oak Road\n").as_deref(),
            Some("Anjali Sharma")
        );
        assert_eq!(
            read("Re: Thandiwe Ndlovu v Calderbrook NHS Trust\n").as_deref(),
            Some("Thandiwe Ndlovu")
        );
        assert_eq!(
            read("the above named Claimant, Jo Bell, who").as_deref(),
            Some("Jo Bell")
        );
    }
}
