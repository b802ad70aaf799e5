//! References: the organisation's own (claims, FOI requests, appeals), normalised to their
//! canonical form, court claim numbers, and other parties' labelled references.

use std::collections::HashSet;

use super::rules::{Family, Rules};
use super::{MAX_LIST, scan};

/// The longest reference kept: every store takes it inside a key, and no format is near it.
pub const MAX_REFERENCE_BYTES: usize = 64;

/// Every reference found, de-duplicated, in order of first appearance.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct References {
    pub case_ref: Option<String>,
    pub claim: Vec<String>,
    pub court: Vec<String>,
    pub foi: Vec<String>,
    pub appeal: Vec<String>,
    pub other: Vec<String>,
}

/// A list that keeps each value once, in order of first appearance, at most `MAX_LIST`
/// values of at most `MAX_REFERENCE_BYTES`.
#[derive(Debug, Default)]
struct Unique {
    items: Vec<String>,
    seen: HashSet<String>,
    /// A value was left out for want of room.
    full: bool,
}

impl Unique {
    fn push(&mut self, value: String) {
        if value.len() > MAX_REFERENCE_BYTES || self.seen.contains(&value) {
            return;
        }
        if self.items.len() >= MAX_LIST {
            self.full = true;
            return;
        }
        self.seen.insert(value.clone());
        self.items.push(value);
    }

    fn contains(&self, value: &str) -> bool {
        self.seen.contains(value)
    }
}

/// Spans of the text, asked whether any overlaps a given span.
#[derive(Debug)]
struct Spans {
    /// By start, each with the largest end of it and all before it.
    starts: Vec<(usize, usize)>,
}

impl Spans {
    fn new(mut spans: Vec<(usize, usize)>) -> Self {
        spans.sort_unstable();
        let mut reach = 0;
        let starts = spans
            .into_iter()
            .map(|(s, e)| {
                reach = reach.max(e);
                (s, reach)
            })
            .collect();
        Spans { starts }
    }

    fn overlaps(&self, start: usize, end: usize) -> bool {
        let before_end = self.starts.partition_point(|(s, _)| *s < end);
        before_end > 0 && self.starts[before_end - 1].1 > start
    }
}

/// Removes spaces around separators and upper-cases: `cnst / 24 / 004512` → `CNST/24/004512`.
fn compact(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase()
}

/// Whether a match stands alone (not glued to letters or digits on either side).
fn standalone(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    !before.is_some_and(|c| c.is_alphanumeric()) && !after.is_some_and(|c| c.is_alphanumeric())
}

pub fn find(text: &str, rules: &Rules) -> References {
    find_bounded(text, rules).0
}

/// The references of the text, at most `MAX_LIST` of each kind, each at most
/// `MAX_REFERENCE_BYTES`; and whether some were left out for want of room.
pub fn find_bounded(text: &str, rules: &Rules) -> (References, bool) {
    let (mut claim, mut court, mut foi, mut appeal, mut other) = (
        Unique::default(),
        Unique::default(),
        Unique::default(),
        Unique::default(),
        Unique::default(),
    );
    let mut ours: Vec<(usize, usize)> = Vec::new();
    for caps in rules.claim.captures_iter(text) {
        let (Some(m), Some(scheme), Some(year), Some(number)) =
            (caps.get(0), caps.get(1), caps.get(2), caps.get(3))
        else {
            continue;
        };
        if !standalone(text, m.start(), m.end()) {
            continue;
        }
        let scheme = scheme.as_str().to_uppercase();
        if !rules.claim_schemes.contains(&scheme) {
            continue;
        }
        claim.push(format!("{scheme}/{}/{}", year.as_str(), number.as_str()));
        ours.push((m.start(), m.end()));
    }
    for caps in rules.foi.captures_iter(text) {
        let (Some(m), Some(number)) = (caps.get(0), caps.get(1)) else {
            continue;
        };
        if !standalone(text, m.start(), m.end()) {
            continue;
        }
        let raw = m.as_str();
        // "FOI 2000" after a space is the Act's year, not a request.
        let spaced = !raw.contains('_');
        let n = number.as_str();
        if spaced && n.len() == 4 && (n.starts_with("19") || n.starts_with("20")) {
            continue;
        }
        let review = caps.get(2).is_some();
        foi.push(format!("FOI_{n}{}", if review { "/IR" } else { "" }));
        ours.push((m.start(), m.end()));
    }
    for m in rules.appeal.find_iter(text) {
        if standalone(text, m.start(), m.end()) {
            appeal.push(compact(m.as_str()));
            ours.push((m.start(), m.end()));
        }
    }
    let ours = Spans::new(ours);
    for m in rules.court.find_iter(text) {
        if standalone(text, m.start(), m.end()) && !ours.overlaps(m.start(), m.end()) {
            court.push(m.as_str().to_uppercase());
        }
    }
    // Other parties' references after "Our ref:" / "Your ref:".
    let mut line_ends = scan::NextByte::new(text, b'\n', b'\n');
    for m in rules.other_label.find_iter(text) {
        if other.full {
            break;
        }
        let line_end = line_ends.at_or_after(m.end()).unwrap_or(text.len());
        let line = &text[m.end()..line_end];
        let line = if line_end < text.len() {
            line.strip_suffix('\r').unwrap_or(line)
        } else {
            line
        };
        // Our own references (written with spaces, or after a second label) are listed above.
        let bare = line
            .trim_start()
            .trim_start_matches(|c: char| c.is_alphabetic())
            .trim_start_matches([':', '.', ' ']);
        // Whether our own reference opens the line (anchored: the rest of a long line is
        // never searched).
        let owns = |r: &regex::Regex| r.is_match(line.trim_start()) || r.is_match(bare);
        if owns(&rules.claim_at_start) || owns(&rules.foi_at_start) || owns(&rules.appeal_at_start)
        {
            continue;
        }
        let token: String = line
            .trim_start()
            .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
            .next()
            .unwrap_or("")
            .trim_end_matches(['.', ')', ']'])
            .to_owned();
        if token.len() < 3
            || token.len() > MAX_REFERENCE_BYTES
            || token.ends_with(':')
            || !token.chars().any(|c| c.is_ascii_digit())
        {
            continue;
        }
        let upper = compact(&token);
        // (Every FOI reference starts "FOI", so that test covers the FOI list too.)
        let already = claim.contains(&upper)
            || appeal.contains(&upper)
            || court.contains(&upper)
            || upper.starts_with("FOI");
        if !already {
            other.push(token);
        }
    }
    let truncated = claim.full || court.full || foi.full || appeal.full || other.full;
    let refs = References {
        case_ref: None,
        claim: claim.items,
        court: court.items,
        foi: foi.items,
        appeal: appeal.items,
        other: other.items,
    };
    (refs, truncated)
}

/// Chooses the reference the document is filed under, by its type's family (none: the
/// type is not declared): an FOI reference first for FOI, an appeal's for appeals, else a
/// claim's.
pub fn choose_case_ref(refs: &References, family: Option<Family>) -> Option<String> {
    let foi = || {
        refs.foi
            .first()
            .map(|f| f.trim_end_matches("/IR").to_owned())
    };
    let claim = || refs.claim.first().cloned();
    let appeal = || refs.appeal.first().cloned();
    match family {
        Some(Family::Foi) => foi().or_else(claim).or_else(appeal),
        Some(Family::Appeals) => appeal().or_else(claim).or_else(foi),
        Some(Family::Claims | Family::Practitioner | Family::General) | None => {
            claim().or_else(foi).or_else(appeal)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_our_references() {
        let rules = Rules::builtin();
        let refs = find(
            "Your ref: cnst / 24 / 004512\nOur ref: JS/MED/0912\nAlso CNSGP/23/000781, not CNST/24/4512.\nFOI_6405/IR and FOI 2000 Act; appeal sha / 23456, REV/1207; Claim No KB-2024-001234 and F12YJ456.",
            rules,
        );
        assert_eq!(refs.claim, ["CNST/24/004512", "CNSGP/23/000781"]);
        assert_eq!(refs.foi, ["FOI_6405/IR"]);
        assert_eq!(refs.appeal, ["SHA/23456", "REV/1207"]);
        assert_eq!(refs.court, ["KB-2024-001234", "F12YJ456"]);
        assert_eq!(refs.other, ["JS/MED/0912"]);
        assert_eq!(
            choose_case_ref(&refs, rules.family_of("foi_internal_review_request")).as_deref(),
            Some("FOI_6405")
        );
        assert_eq!(
            choose_case_ref(&refs, rules.family_of("letter_of_claim")).as_deref(),
            Some("CNST/24/004512")
        );
    }

    #[test]
    fn overlapping_spans() {
        let spans = Spans::new(vec![(10, 20), (0, 3), (12, 14)]);
        assert!(spans.overlaps(2, 5));
        assert!(!spans.overlaps(3, 10));
        assert!(spans.overlaps(19, 30));
        assert!(!spans.overlaps(20, 30));
    }
}
