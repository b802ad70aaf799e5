//! Classification: which document type a text is, scored by each declared type's phrases
//! (a heading counts more) and patterns, with the rules' fallback for letters and emails.

use postroom_extract::MediaType;

use crate::rules::{Rules, UNKNOWN};

/// Whitespace runs (line breaks included) as single spaces.
pub(crate) fn flatten(s: &str) -> String {
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

/// A type or code's name, score and weightiest phrase found (with its weight).
pub(crate) type Scored<'r> = (&'r str, f64, Option<(&'r str, f64)>);

/// How many candidate types an unsure reading lists.
const CANDIDATES: usize = 3;
/// Below this confidence a type is given with its candidates.
pub(crate) const UNSURE: f64 = 0.6;

/// The types that scored, best first (at most `CANDIDATES`), each with its share of the
/// scored types' total: what an unsure reading could have been.
fn candidates(scores: &[Scored]) -> Vec<crate::Candidate> {
    let total: f64 = scores.iter().map(|s| s.1.max(0.0)).sum();
    if total <= 0.0 {
        return Vec::new();
    }
    scores
        .iter()
        .filter(|s| s.1 > 0.0)
        .take(CANDIDATES)
        .map(|s| crate::Candidate {
            doc_type: s.0.to_owned(),
            share: (s.1 / total * 100.0).round() / 100.0,
        })
        .collect()
}

/// Scores each document type by its phrases (a heading counts more) and patterns: the
/// type, its confidence, the phrase that decided it, and, when unsure (the fallback,
/// `unknown` or a confidence under `UNSURE`), the candidates.
pub(crate) fn classify(
    text: &str,
    flat: &str,
    subject: &str,
    rules: &Rules,
    media: MediaType,
) -> (String, f64, String, Vec<crate::Candidate>) {
    let lower = flat;
    // The organisation's own reply (an FOI response it sent) is not incoming post.
    let mut own = rules
        .own_reply_phrases
        .iter()
        .filter(|p| count_phrase(lower, p) > 0);
    if let (Some(first), Some(_)) = (own.next(), own.next()) {
        return (UNKNOWN.to_owned(), 0.6, first.clone(), Vec::new());
    }
    let head_lines: String = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(rules.heading_lines)
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join("\n");
    // An email's subject is its heading.
    let heading = format!("{subject} {}", flatten(&head_lines));
    // Each type's score, and the weightiest phrase it scored by.
    let mut scores: Vec<Scored> = rules
        .doc_types
        .iter()
        .filter(|t| t.is_scored())
        .map(|t| {
            let mut score = 0.0;
            let mut best: Option<(&str, f64)> = None;
            for (phrase, weight) in &t.phrases {
                let hits = count_phrase(lower, phrase);
                if hits > 0 {
                    if best.is_none_or(|(_, w)| *weight > w) {
                        best = Some((phrase.as_str(), *weight));
                    }
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
            (t.name.as_str(), score, best)
        })
        .collect();
    scores.sort_by(|a, b| b.1.total_cmp(&a.1));
    let (top, top_score, _) = scores.first().copied().unwrap_or((UNKNOWN, 0.0, None));
    let second = scores.get(1).map_or(0.0, |s| s.1);
    if top_score < rules.doc_min_score {
        // The fallback is for letters and emails: a text that neither greets nor signs off
        // (a bulletin, an invoice, an advertisement) stays unknown rather than a guess.
        let letter = media == MediaType::Email
            || ["dear ", "yours faithfully", "yours sincerely", "regards"]
                .iter()
                .any(|m| count_phrase(lower, m) > 0);
        let fallback = match media {
            MediaType::Pdf | MediaType::Docx | MediaType::Text | MediaType::Html if letter => {
                rules.doc_fallback.as_str()
            }
            MediaType::Email => rules.doc_fallback.as_str(),
            _ => UNKNOWN,
        };
        return (
            fallback.to_owned(),
            0.5,
            "fallback: a letter or email".to_owned(),
            candidates(&scores),
        );
    }
    // Confidence: how far the winner stands from the runner-up, and how strong it is.
    let separation = (top_score - second) / top_score;
    let strength = 1.0 - (-top_score / 6.0).exp();
    let confidence = (0.5 + 0.5 * separation) * (0.6 + 0.4 * strength);
    let unsure = if confidence < UNSURE {
        candidates(&scores)
    } else {
        Vec::new()
    };
    (
        top.to_owned(),
        confidence.clamp(0.0, 1.0),
        scores[0]
            .2
            .map_or_else(|| "pattern".to_owned(), |(p, _)| p.to_owned()),
        unsure,
    )
}

/// Occurrences of a phrase as whole words.
pub(crate) fn count_phrase(haystack: &str, phrase: &str) -> usize {
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
