//! Classification: which document type a text is, scored by each declared type's phrases
//! (a heading counts more) and patterns, with the rules' fallback for letters and emails.

use std::sync::OnceLock;

use memchr::memmem::Finder;
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

/// `flatten(&s.to_lowercase())` in one pass, without the lower-cased copy between.
pub(crate) fn flatten_lowercase(s: &str) -> String {
    // `str::to_lowercase` writes a final capital sigma as `ς`, which a letter by letter
    // lower-casing does not know: such a text takes the long way.
    if s.contains('Σ') {
        return flatten(&s.to_lowercase());
    }
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    let mut push = |c: char| {
        if c.is_whitespace() {
            if !space {
                out.push(' ');
            }
            space = true;
        } else {
            out.push(c);
            space = false;
        }
    };
    for c in s.chars() {
        if c.is_ascii() {
            push(c.to_ascii_lowercase());
        } else {
            c.to_lowercase().for_each(&mut push);
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
        .zip(&rules.own_reply_searchers)
        .filter(|(_, p)| p.is_in(lower))
        .map(|(p, _)| p);
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
            for ((phrase, weight), searcher) in t.phrases.iter().zip(&t.searchers) {
                let hits = searcher.count(lower);
                if hits > 0 {
                    if best.is_none_or(|(_, w)| *weight > w) {
                        best = Some((phrase.as_str(), *weight));
                    }
                    // Diminishing returns: a phrase repeated is not much stronger.
                    score += weight * (1.0 + (hits as f64).ln() * 0.3);
                    if searcher.is_in(&heading) {
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
        static LETTER: OnceLock<Vec<Phrase>> = OnceLock::new();
        let letter = media == MediaType::Email
            || LETTER
                .get_or_init(|| {
                    Phrase::all(&["dear ", "yours faithfully", "yours sincerely", "regards"])
                })
                .iter()
                .any(|m| m.is_in(lower));
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

/// A phrase searched for as whole words, with its searcher built once. Building a
/// searcher costs more than running it over a letter, and every document is searched for
/// hundreds of phrases (the types' and the code lists'), so the rules build theirs when
/// they are loaded.
#[derive(Debug, Clone)]
pub(crate) struct Phrase {
    finder: Finder<'static>,
    /// It opens with a letter or digit, so it must open a word.
    starts_word: bool,
    /// It closes with a letter or digit and is shorter than 6 bytes, so it must close a
    /// word (a longer phrase may be the start of a longer word: `negligen`).
    ends_word: bool,
}

impl Phrase {
    pub(crate) fn new(phrase: &str) -> Self {
        Phrase {
            finder: Finder::new(phrase.as_bytes()).into_owned(),
            starts_word: phrase.starts_with(char::is_alphanumeric),
            ends_word: phrase.ends_with(char::is_alphanumeric) && phrase.len() < 6,
        }
    }

    /// Phrases built once, for a list of constant phrases.
    pub(crate) fn all(phrases: &[&str]) -> Vec<Phrase> {
        phrases.iter().map(|p| Phrase::new(p)).collect()
    }

    /// Occurrences of the phrase as whole words: non-overlapping, each searched from the
    /// end of the last one found (as `str::find` would), counted where it stands as words.
    pub(crate) fn count(&self, haystack: &str) -> usize {
        self.whole_words(haystack).count()
    }

    /// Whether the phrase occurs as whole words.
    pub(crate) fn is_in(&self, haystack: &str) -> bool {
        self.whole_words(haystack).next().is_some()
    }

    fn whole_words<'h>(&'h self, haystack: &'h str) -> impl Iterator<Item = usize> + 'h {
        let len = self.finder.needle().len();
        self.finder
            .find_iter(haystack.as_bytes())
            // An empty phrase is found nowhere.
            .take_while(move |_| len > 0)
            .filter(move |&start| {
                let end = start + len;
                let word_start = !self.starts_word
                    || !haystack[..start]
                        .chars()
                        .next_back()
                        .is_some_and(char::is_alphanumeric);
                let word_end = !self.ends_word
                    || !haystack[end..]
                        .chars()
                        .next()
                        .is_some_and(char::is_alphanumeric);
                word_start && word_end
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattened_lower_case_is_lower_casing_then_flattening() {
        for s in [
            "",
            "Dear Sir,\r\n\tLETTER  OF\u{0B}CLAIM\u{0C}\n",
            "Zoë İlker ẞTRASSE\u{A0}\u{2009}end\u{85}x",
            "ΟΔΟΣ ΣΟΦΙΑΣ: Σ",
            "  leading and trailing  ",
        ] {
            assert_eq!(flatten_lowercase(s), flatten(&s.to_lowercase()), "{s:?}");
        }
    }

    #[test]
    fn phrases_count_whole_words_without_overlaps() {
        let count = |h: &str, p: &str| Phrase::new(p).count(h);
        assert_eq!(count("claim, claims; reclaim", "claim"), 1);
        // Six bytes and more may open a longer word.
        assert_eq!(count("negligence negligent", "neglig"), 2);
        assert_eq!(count("aaaa", "aa"), 0);
        assert_eq!(count("aa aa", "aa"), 2);
        assert_eq!(count("x - y -", "-"), 2);
        assert_eq!(count("anything", ""), 0);
        assert!(Phrase::new("dear ").is_in("dear sirs"));
        assert!(!Phrase::new("dear ").is_in("my dear"));
    }
}
