//! The figures a claim is counted by: its clinical codes (specialty, cause, injury), each
//! chosen from a code list of the rules when it is clearly ahead, and money amounts.

use crate::classify::{PhraseCounts, Scored};
use crate::rules::{CodeRule, Rules};
use crate::{MAX_AMOUNT_GBP, MAX_LIST};

/// The code of a list whose phrases score highest (`counts`: the phrases found in the
/// text), if it is clearly ahead.
pub(crate) fn best_code(
    counts: &PhraseCounts,
    codes: &[CodeRule],
    rules: &Rules,
) -> Option<(String, String)> {
    // Each code's score, and its weightiest phrase found (the evidence for it).
    let mut scores: Vec<Scored> = codes
        .iter()
        .map(|c| {
            let mut score = 0.0;
            let mut top: Option<(&str, f64)> = None;
            for ((p, w), id) in c.phrases.iter().zip(&c.ids) {
                if counts.is_in(*id) {
                    score += *w;
                    if top.is_none_or(|(_, t)| *w > t) {
                        top = Some((p.as_str(), *w));
                    }
                }
            }
            (c.name.as_str(), score, top)
        })
        .collect();
    scores.sort_by(|a, b| b.1.total_cmp(&a.1));
    let (name, top, phrase) = *scores.first()?;
    let second = scores.get(1).map_or(0.0, |s| s.1);
    (top >= rules.code_min_score && top - second >= rules.code_margin)
        .then(|| (name.to_owned(), phrase.map_or("", |p| p.0).to_owned()))
}

/// Money amounts in pounds: `£1,250,000`, `£1.25m`, `£250k`, `250,000 pounds`, `GBP 1,000`.
/// An amount of more than twelve digits, or of `MAX_AMOUNT_GBP` or more, is not one. At
/// most `MAX_LIST` amounts, and whether there were more.
pub(crate) fn amounts(text: &str) -> (Vec<f64>, bool) {
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
}
