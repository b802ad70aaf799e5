//! The reading rules as data: reference formats, document-type phrases, organisation
//! patterns and clinical code lists, loaded from a versioned TOML file (the shipped
//! `rules/default.toml`, or the user's own) and checked when loaded.

use std::path::Path;
use std::sync::OnceLock;

use regex::{Regex, RegexBuilder};
use serde::Deserialize;

/// The shipped rules.
pub const DEFAULT_RULES: &str = include_str!("../../../rules/default.toml");
/// The rules file layout this build reads.
pub const RULES_VERSION: u32 = 1;

/// The document types of the metadata schema.
pub const DOC_TYPES: &[&str] = &[
    "letter_of_notification",
    "letter_of_claim",
    "letter_of_response",
    "claim_form",
    "particulars_of_claim",
    "defence",
    "settlement_offer",
    "expert_report",
    "medical_records",
    "court_order",
    "foi_request",
    "foi_internal_review_request",
    "primary_care_appeal",
    "performance_concern",
    "early_notification",
    "correspondence",
    "unknown",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    version: u32,
    references: ReferenceFile,
    doc_types: DocTypesFile,
    parties: PartiesFile,
    codes: CodesFile,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReferenceFile {
    claim: String,
    claim_schemes: Vec<String>,
    foi: String,
    appeal: String,
    court: String,
    other_label: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DocTypesFile {
    min_score: f64,
    heading_lines: usize,
    heading_bonus: f64,
    #[serde(rename = "type")]
    types: Vec<DocTypeFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DocTypeFile {
    name: String,
    #[serde(default)]
    phrases: Vec<(String, f64)>,
    #[serde(default)]
    patterns: Vec<(String, f64)>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartiesFile {
    nhs_body: String,
    practice: String,
    law_firm: String,
    claimant_labels: Vec<String>,
    requester_labels: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CodesFile {
    min_score: f64,
    margin: f64,
    specialty: Vec<CodeFile>,
    cause: Vec<CodeFile>,
    injury: Vec<CodeFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeFile {
    name: String,
    phrases: Vec<(String, f64)>,
}

/// A document type's signals.
#[derive(Debug)]
pub struct DocTypeRule {
    pub name: String,
    /// Lower-case phrases and their weights.
    pub phrases: Vec<(String, f64)>,
    pub patterns: Vec<(Regex, f64)>,
}

/// One code of a clinical code list and its phrases (lower case).
#[derive(Debug)]
pub struct CodeRule {
    pub name: String,
    pub phrases: Vec<(String, f64)>,
}

/// The compiled rules.
#[derive(Debug)]
pub struct Rules {
    pub claim: Regex,
    pub claim_schemes: Vec<String>,
    pub foi: Regex,
    pub appeal: Regex,
    pub court: Regex,
    pub other_label: Regex,
    pub doc_types: Vec<DocTypeRule>,
    pub doc_min_score: f64,
    pub heading_lines: usize,
    pub heading_bonus: f64,
    pub nhs_body: Regex,
    pub practice: Regex,
    pub law_firm: Regex,
    pub claimant_labels: Vec<String>,
    pub requester_labels: Vec<String>,
    /// Each claimant label as a case-insensitive pattern (the text is searched in its own
    /// case, so offsets found are offsets in the text).
    pub claimant_patterns: Vec<Regex>,
    /// Each requester label as a case-insensitive pattern.
    pub requester_patterns: Vec<Regex>,
    /// `claim`, `foi` and `appeal` anchored at the start of the text searched.
    pub claim_at_start: Regex,
    pub foi_at_start: Regex,
    pub appeal_at_start: Regex,
    pub code_min_score: f64,
    pub code_margin: f64,
    pub specialty: Vec<CodeRule>,
    pub cause: Vec<CodeRule>,
    pub injury: Vec<CodeRule>,
}

/// Everything wrong with a rules file, reported together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the rules in {source_name} cannot be used:\n{}", .problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
pub struct RulesError {
    pub source_name: String,
    pub problems: Vec<String>,
}

struct Builder {
    problems: Vec<String>,
}

impl Builder {
    fn regex(&mut self, what: &str, pattern: &str, case_insensitive: bool) -> Regex {
        match RegexBuilder::new(pattern)
            .case_insensitive(case_insensitive)
            .size_limit(20 * 1024 * 1024)
            .build()
        {
            Ok(r) => r,
            Err(e) => {
                self.problems
                    .push(format!("{what}: the pattern does not compile: {e}"));
                Regex::new("$^").unwrap_or_else(|_| unreachable!("a constant pattern compiles"))
            }
        }
    }

    /// `pattern` matching only at the start of the text searched (a pattern that does not
    /// compile is reported once, by `regex`).
    fn anchored(&mut self, what: &str, pattern: &str, case_insensitive: bool) -> Regex {
        if Regex::new(pattern).is_err() {
            return Regex::new("$^")
                .unwrap_or_else(|_| unreachable!("a constant pattern compiles"));
        }
        self.regex(what, &format!("^(?:{pattern})"), case_insensitive)
    }

    /// A label as a case-insensitive literal pattern.
    fn label(&mut self, what: &str, label: &str) -> Regex {
        self.regex(what, &regex::escape(label), true)
    }

    fn weights(&mut self, what: &str, phrases: Vec<(String, f64)>) -> Vec<(String, f64)> {
        phrases
            .into_iter()
            .filter_map(|(phrase, weight)| {
                if weight == 0.0 || !weight.is_finite() {
                    self.problems.push(format!(
                        "{what}: phrase {phrase:?} needs a non-zero weight, not {weight}"
                    ));
                    None
                } else if phrase.trim().is_empty() {
                    self.problems.push(format!("{what}: an empty phrase"));
                    None
                } else {
                    Some((phrase.to_lowercase(), weight))
                }
            })
            .collect()
    }

    fn codes(&mut self, list: &str, codes: Vec<CodeFile>) -> Vec<CodeRule> {
        let mut seen = std::collections::HashSet::new();
        codes
            .into_iter()
            .map(|c| {
                if !seen.insert(c.name.clone()) {
                    self.problems
                        .push(format!("codes.{list}: {:?} appears twice", c.name));
                }
                CodeRule {
                    phrases: self.weights(&format!("codes.{list}.{}", c.name), c.phrases),
                    name: c.name,
                }
            })
            .collect()
    }
}

impl Rules {
    /// Parses and checks a rules file; `source_name` names it in messages.
    pub fn parse(text: &str, source_name: &str) -> Result<Rules, RulesError> {
        let fail = |problems| RulesError {
            source_name: source_name.to_owned(),
            problems,
        };
        let file: RulesFile = toml::from_str(text).map_err(|e| fail(vec![e.to_string()]))?;
        let mut b = Builder {
            problems: Vec::new(),
        };
        if file.version != RULES_VERSION {
            b.problems.push(format!(
                "version {} is not one this build reads (it reads version {RULES_VERSION})",
                file.version
            ));
        }
        let r = file.references;
        let claim = b.regex("references.claim", &r.claim, true);
        if claim.captures_len() < 4 {
            b.problems
                .push("references.claim: needs three groups (scheme, year, number)".into());
        }
        let doc_types: Vec<DocTypeRule> = file
            .doc_types
            .types
            .into_iter()
            .map(|t| {
                if !DOC_TYPES.contains(&t.name.as_str()) {
                    b.problems.push(format!(
                        "doc_types: {:?} is not a document type of the schema",
                        t.name
                    ));
                }
                let what = format!("doc_types.{}", t.name);
                let patterns = t
                    .patterns
                    .into_iter()
                    .map(|(p, w)| {
                        if !(w > 0.0 && w.is_finite()) {
                            b.problems
                                .push(format!("{what}: pattern {p:?} needs a positive weight"));
                        }
                        (b.regex(&what, &p, false), w)
                    })
                    .collect();
                DocTypeRule {
                    phrases: b.weights(&what, t.phrases),
                    patterns,
                    name: t.name,
                }
            })
            .collect();
        let p = file.parties;
        let c = file.codes;
        let claimant_labels: Vec<String> =
            p.claimant_labels.iter().map(|l| l.to_lowercase()).collect();
        let requester_labels: Vec<String> = p
            .requester_labels
            .iter()
            .map(|l| l.to_lowercase())
            .collect();
        for l in claimant_labels.iter().chain(&requester_labels) {
            if l.trim().is_empty() {
                b.problems.push("parties: an empty label".into());
            }
        }
        let claimant_patterns = claimant_labels
            .iter()
            .map(|l| b.label("parties.claimant_labels", l))
            .collect();
        let requester_patterns = requester_labels
            .iter()
            .map(|l| b.label("parties.requester_labels", l))
            .collect();
        let rules = Rules {
            claim_at_start: b.anchored("references.claim", &r.claim, true),
            foi_at_start: b.anchored("references.foi", &r.foi, true),
            appeal_at_start: b.anchored("references.appeal", &r.appeal, true),
            claim,
            claim_schemes: r.claim_schemes.iter().map(|s| s.to_uppercase()).collect(),
            foi: b.regex("references.foi", &r.foi, true),
            appeal: b.regex("references.appeal", &r.appeal, true),
            court: b.regex("references.court", &r.court, false),
            other_label: b.regex("references.other_label", &r.other_label, true),
            doc_types,
            doc_min_score: file.doc_types.min_score,
            heading_lines: file.doc_types.heading_lines,
            heading_bonus: file.doc_types.heading_bonus,
            nhs_body: b.regex("parties.nhs_body", &p.nhs_body, false),
            practice: b.regex("parties.practice", &p.practice, false),
            law_firm: b.regex("parties.law_firm", &p.law_firm, false),
            claimant_labels,
            requester_labels,
            claimant_patterns,
            requester_patterns,
            code_min_score: c.min_score,
            code_margin: c.margin,
            specialty: b.codes("specialty", c.specialty),
            cause: b.codes("cause", c.cause),
            injury: b.codes("injury", c.injury),
        };
        if b.problems.is_empty() {
            Ok(rules)
        } else {
            Err(fail(b.problems))
        }
    }

    /// Reads and checks a user's rules file.
    pub fn load(path: &Path) -> Result<Rules, RulesError> {
        let text = std::fs::read_to_string(path).map_err(|e| RulesError {
            source_name: path.display().to_string(),
            problems: vec![format!("cannot read the file: {e}")],
        })?;
        Rules::parse(&text, &path.display().to_string())
    }

    /// The shipped rules, compiled once.
    pub fn builtin() -> &'static Rules {
        static RULES: OnceLock<Rules> = OnceLock::new();
        RULES.get_or_init(|| match Rules::parse(DEFAULT_RULES, "rules/default.toml") {
            Ok(rules) => rules,
            // The shipped file is checked by a unit test; this cannot happen in a release.
            Err(e) => panic!("{e}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_rules_load() {
        let rules = Rules::parse(DEFAULT_RULES, "default").unwrap();
        assert!(rules.doc_types.len() >= 14);
        assert!(rules.specialty.iter().any(|c| c.name == "Obstetrics"));
    }

    #[test]
    fn every_problem_is_reported_together() {
        let bad = DEFAULT_RULES
            .replacen("version = 1", "version = 9", 1)
            .replacen("name = \"letter_of_claim\"", "name = \"letter_of_clam\"", 1)
            .replacen("[\"obstetric\", 2]", "[\"obstetric\", 0]", 1)
            .replacen(r"appeal = '(?-u:\b)(SHA", r"appeal = '(?-u:\b)((SHA", 1);
        let err = Rules::parse(&bad, "mine.toml").unwrap_err();
        assert_eq!(err.problems.len(), 4, "{err}");
        assert!(err.to_string().contains("mine.toml"));
    }

    #[test]
    fn unknown_keys_are_refused() {
        let bad = DEFAULT_RULES.replacen("version = 1", "version = 1\ncolour = \"red\"", 1);
        assert!(Rules::parse(&bad, "x").is_err());
    }
}
