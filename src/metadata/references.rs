//! References: the organisation's own (claims, FOI requests, appeals), normalised to their
//! canonical form, court claim numbers, and other parties' labelled references.

use super::rules::Rules;

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

fn push_unique(list: &mut Vec<String>, value: String) {
    if !list.contains(&value) {
        list.push(value);
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
    let mut refs = References::default();
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
        push_unique(
            &mut refs.claim,
            format!("{scheme}/{}/{}", year.as_str(), number.as_str()),
        );
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
        push_unique(
            &mut refs.foi,
            format!("FOI_{n}{}", if review { "/IR" } else { "" }),
        );
        ours.push((m.start(), m.end()));
    }
    for m in rules.appeal.find_iter(text) {
        if standalone(text, m.start(), m.end()) {
            push_unique(&mut refs.appeal, compact(m.as_str()));
            ours.push((m.start(), m.end()));
        }
    }
    for m in rules.court.find_iter(text) {
        if standalone(text, m.start(), m.end())
            && !ours.iter().any(|(s, e)| m.start() < *e && *s < m.end())
        {
            push_unique(&mut refs.court, m.as_str().to_uppercase());
        }
    }
    // Other parties' references after "Our ref:" / "Your ref:".
    for m in rules.other_label.find_iter(text) {
        let rest = &text[m.end()..];
        let line = rest.lines().next().unwrap_or("");
        // Our own references (written with spaces, or after a second label) are listed above.
        let bare = line
            .trim_start()
            .trim_start_matches(|c: char| c.is_alphabetic())
            .trim_start_matches([':', '.', ' ']);
        let owns = |r: &regex::Regex| {
            r.find(line.trim_start()).is_some_and(|f| f.start() == 0)
                || r.find(bare).is_some_and(|f| f.start() == 0)
        };
        if owns(&rules.claim) || owns(&rules.foi) || owns(&rules.appeal) {
            continue;
        }
        let token: String = line
            .trim()
            .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
            .next()
            .unwrap_or("")
            .trim_end_matches(['.', ')', ']'])
            .to_owned();
        if token.len() < 3 || token.ends_with(':') || !token.chars().any(|c| c.is_ascii_digit()) {
            continue;
        }
        let upper = compact(&token);
        let already = refs.claim.contains(&upper)
            || refs.appeal.contains(&upper)
            || refs.court.contains(&upper)
            || refs
                .foi
                .iter()
                .any(|f| upper.starts_with(f.trim_end_matches("/IR")))
            || upper.starts_with("FOI");
        if !already {
            push_unique(&mut refs.other, token);
        }
    }
    refs
}

/// Chooses the reference the document is filed under, by its type.
pub fn choose_case_ref(refs: &References, doc_type: &str) -> Option<String> {
    let foi = || {
        refs.foi
            .first()
            .map(|f| f.trim_end_matches("/IR").to_owned())
    };
    let claim = || refs.claim.first().cloned();
    let appeal = || refs.appeal.first().cloned();
    match doc_type {
        "foi_request" | "foi_internal_review_request" => foi().or_else(claim).or_else(appeal),
        "primary_care_appeal" => appeal().or_else(claim).or_else(foi),
        _ => claim().or_else(foi).or_else(appeal),
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
            choose_case_ref(&refs, "foi_internal_review_request").as_deref(),
            Some("FOI_6405")
        );
        assert_eq!(
            choose_case_ref(&refs, "letter_of_claim").as_deref(),
            Some("CNST/24/004512")
        );
    }
}
