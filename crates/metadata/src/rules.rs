//! The reading rules as data: reference formats, document-type phrases, organisation
//! patterns and clinical code lists, loaded from a versioned TOML file (the shipped
//! `rules/default.toml`, or the user's own) and checked when loaded.

use std::path::Path;
use std::sync::OnceLock;

use regex::{Regex, RegexBuilder};
use serde::Deserialize;

use crate::classify::{Phrase, PhraseId, PhraseSet, PhraseSetBuilder};

/// The shipped rules.
pub const DEFAULT_RULES: &str = include_str!("../../../rules/default.toml");
/// The rules file layout this build reads.
/// Version 2 added each document type's behaviour (`family`, `opens_case`,
/// `acknowledgement`) and `doc_types.fallback`.
pub const RULES_VERSION: u32 = 2;

/// The type of a document that could not be read or placed. Not declared in the rules:
/// it has no family and no behaviour.
pub const UNKNOWN: &str = "unknown";

/// The line of work a document type belongs to. Behaviour that differs by line of work
/// (which reference files a document, which parties are read, how a case is opened) is
/// keyed on the family, never on a type's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// Clinical negligence claims: their incident date, clinical codes and parties are read.
    Claims,
    /// Freedom of Information requests: their requester is read.
    Foi,
    /// Primary care appeals.
    Appeals,
    /// Practitioner performance concerns.
    Practitioner,
    /// Anything else (correspondence): read for a claim's parties when it quotes a claim.
    General,
}

impl Family {
    pub const ALL: [Family; 5] = [
        Family::Claims,
        Family::Foi,
        Family::Appeals,
        Family::Practitioner,
        Family::General,
    ];

    /// The name the rules file uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Claims => "claims",
            Family::Foi => "foi",
            Family::Appeals => "appeals",
            Family::Practitioner => "practitioner",
            Family::General => "general",
        }
    }

    pub fn parse(name: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.as_str() == name)
    }

    /// Whether the family has cases of its own (claims, FOI requests, appeals): only a
    /// type of such a family can open one.
    pub fn has_cases(self) -> bool {
        matches!(self, Family::Claims | Family::Foi | Family::Appeals)
    }
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An acknowledgement letter the application prepares when a document is filed, named as
/// its letter template is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Acknowledgement {
    /// `claim-acknowledgement`: from the filed letter's own metadata and sender block.
    Claim,
    /// `foi-acknowledgement`: from the FOI case the request opened, with its due date.
    Foi,
}

impl Acknowledgement {
    pub const ALL: [Acknowledgement; 2] = [Acknowledgement::Claim, Acknowledgement::Foi];

    /// The letter template's name.
    pub const fn template(self) -> &'static str {
        match self {
            Acknowledgement::Claim => "claim-acknowledgement",
            Acknowledgement::Foi => "foi-acknowledgement",
        }
    }

    pub fn parse(template: &str) -> Option<Acknowledgement> {
        Acknowledgement::ALL
            .into_iter()
            .find(|a| a.template() == template)
    }
}

impl std::fmt::Display for Acknowledgement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.template())
    }
}

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
    fallback: String,
    heading_lines: usize,
    heading_bonus: f64,
    #[serde(default)]
    own_reply_phrases: Vec<String>,
    #[serde(rename = "type")]
    types: Vec<DocTypeFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DocTypeFile {
    name: String,
    family: String,
    opens_case: bool,
    #[serde(default)]
    acknowledgement: Option<String>,
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

/// A document type: its signals, and what a document of the type does.
#[derive(Debug)]
pub struct DocTypeRule {
    pub name: String,
    /// Lower-case phrases and their weights.
    pub phrases: Vec<(String, f64)>,
    pub patterns: Vec<(Regex, f64)>,
    /// `phrases`' searchers, in the same order, built once.
    pub(crate) searchers: Vec<Phrase>,
    /// `phrases`' places in the rules' `phrase_set`, in the same order.
    pub(crate) ids: Vec<PhraseId>,
    family: Family,
    opens_case: bool,
    acknowledgement: Option<Acknowledgement>,
}

impl DocTypeRule {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn family(&self) -> Family {
        self.family
    }

    /// Whether a document of this type that belongs to no case yet opens one (of its
    /// family's kind).
    pub fn opens_case(&self) -> bool {
        self.opens_case
    }

    /// The acknowledgement a filed document of this type gets, if any.
    pub fn acknowledgement(&self) -> Option<Acknowledgement> {
        self.acknowledgement
    }

    /// Whether classification can choose the type (a type without phrases or patterns is
    /// only ever the fallback).
    pub fn is_scored(&self) -> bool {
        !self.phrases.is_empty() || !self.patterns.is_empty()
    }
}

/// One code of a clinical code list and its phrases (lower case).
#[derive(Debug)]
pub struct CodeRule {
    pub name: String,
    pub phrases: Vec<(String, f64)>,
    /// `phrases`' places in the rules' `phrase_set`, in the same order.
    pub(crate) ids: Vec<PhraseId>,
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
    /// The type of a readable letter or email that no type's signals reach
    /// `doc_min_score` for (declared among `doc_types`).
    pub doc_fallback: String,
    pub doc_min_score: f64,
    pub heading_lines: usize,
    pub heading_bonus: f64,
    /// Lower-case phrases of the organisation's own replies: a text holding two of them
    /// is typed `UNKNOWN` (it is not incoming post).
    pub own_reply_phrases: Vec<String>,
    /// `own_reply_phrases`' places in `phrase_set`, in the same order.
    pub(crate) own_reply_ids: Vec<PhraseId>,
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
    /// Every phrase above (the types', the code lists', the own replies') in one
    /// searcher, built once: a text is searched for all of them in one pass.
    pub(crate) phrase_set: PhraseSet,
}

/// Everything wrong with a rules file, reported together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the rules in {source_name} cannot be used:\n{}", .problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
pub struct RulesError {
    pub source_name: String,
    pub problems: Vec<String>,
}

impl postroom_core::ErrorCode for RulesError {
    /// A rules file is configuration: the CLI exits 2, a function does not start.
    fn code(&self) -> postroom_core::Code {
        postroom_core::Code::ConfigInvalid
    }
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
                let phrases = self.weights(&format!("codes.{list}.{}", c.name), c.phrases);
                CodeRule {
                    ids: Vec::new(),
                    phrases,
                    name: c.name,
                }
            })
            .collect()
    }
}

/// The searchers of weighted phrases, in their order.
fn searchers(phrases: &[(String, f64)]) -> Vec<Phrase> {
    phrases.iter().map(|(p, _)| Phrase::new(p)).collect()
}

impl Rules {
    /// Parses and checks a rules file; `source_name` names it in messages.
    pub fn parse(text: &str, source_name: &str) -> Result<Rules, RulesError> {
        let fail = |problems| RulesError {
            source_name: source_name.to_owned(),
            problems,
        };
        let file: RulesFile = toml::from_str(text).map_err(|e| {
            // A file written for another version is told so, rather than which of this
            // version's fields it lacks.
            #[derive(serde::Deserialize)]
            struct Version {
                version: u32,
            }
            match toml::from_str::<Version>(text) {
                Ok(Version { version }) if version != RULES_VERSION => fail(vec![format!(
                    "version {version} is not one this build reads (it reads version \
                     {RULES_VERSION}, which declares each document type's family, \
                     opens_case and acknowledgement, and doc_types.fallback: see \
                     rules/default.toml)"
                )]),
                _ => fail(vec![e.to_string()]),
            }
        })?;
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
        let mut seen = std::collections::HashSet::new();
        let doc_types: Vec<DocTypeRule> = file
            .doc_types
            .types
            .into_iter()
            .map(|t| {
                let what = format!("doc_types.{}", t.name);
                if !is_type_name(&t.name) {
                    b.problems.push(format!(
                        "doc_types: {:?} is not a type name (lower-case letters, digits and _)",
                        t.name
                    ));
                } else if t.name == UNKNOWN {
                    b.problems.push(format!(
                        "doc_types: {UNKNOWN:?} is the type of what could not be read, not one to declare"
                    ));
                }
                if !seen.insert(t.name.clone()) {
                    b.problems
                        .push(format!("doc_types: {:?} appears twice", t.name));
                }
                let family = Family::parse(&t.family).unwrap_or_else(|| {
                    b.problems.push(format!(
                        "{what}: family {:?} is not one of {}",
                        t.family,
                        Family::ALL.map(Family::as_str).join(", ")
                    ));
                    Family::General
                });
                if t.opens_case && !family.has_cases() {
                    b.problems.push(format!(
                        "{what}: opens_case, but family {family} has no cases to open"
                    ));
                }
                let acknowledgement = t.acknowledgement.as_deref().and_then(|name| {
                    let found = Acknowledgement::parse(name);
                    if found.is_none() {
                        b.problems.push(format!(
                            "{what}: acknowledgement {name:?} is not one of {}",
                            Acknowledgement::ALL.map(Acknowledgement::template).join(", ")
                        ));
                    }
                    found
                });
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
                let phrases = b.weights(&what, t.phrases);
                DocTypeRule {
                    searchers: searchers(&phrases),
                    ids: Vec::new(),
                    phrases,
                    patterns,
                    name: t.name,
                    family,
                    opens_case: t.opens_case,
                    acknowledgement,
                }
            })
            .collect();
        let doc_fallback = file.doc_types.fallback;
        if !doc_types.iter().any(|t| t.name == doc_fallback) {
            b.problems.push(format!(
                "doc_types.fallback: {doc_fallback:?} is not a declared type"
            ));
        }
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
        let own_reply_phrases: Vec<String> = file
            .doc_types
            .own_reply_phrases
            .iter()
            .map(|p| p.to_lowercase())
            .collect();
        let mut rules = Rules {
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
            doc_fallback,
            doc_min_score: file.doc_types.min_score,
            heading_lines: file.doc_types.heading_lines,
            heading_bonus: file.doc_types.heading_bonus,
            own_reply_ids: Vec::new(),
            own_reply_phrases,
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
            phrase_set: PhraseSet::default(),
        };
        rules.build_phrase_set();
        if b.problems.is_empty() {
            Ok(rules)
        } else {
            Err(fail(b.problems))
        }
    }

    /// Places every phrase in `phrase_set` (and each its id), then builds the set.
    fn build_phrase_set(&mut self) {
        let mut set = PhraseSetBuilder::default();
        for t in &mut self.doc_types {
            t.ids = t.phrases.iter().map(|(p, _)| set.add(p)).collect();
        }
        for c in self
            .specialty
            .iter_mut()
            .chain(&mut self.cause)
            .chain(&mut self.injury)
        {
            c.ids = c.phrases.iter().map(|(p, _)| set.add(p)).collect();
        }
        self.own_reply_ids = self.own_reply_phrases.iter().map(|p| set.add(p)).collect();
        self.phrase_set = set.build();
    }

    /// The declared type of that name (none for `UNKNOWN` or a name not declared).
    pub fn doc_type(&self, name: &str) -> Option<&DocTypeRule> {
        self.doc_types.iter().find(|t| t.name == name)
    }

    /// The family of the type of that name, if it is declared.
    pub fn family_of(&self, name: &str) -> Option<Family> {
        self.doc_type(name).map(DocTypeRule::family)
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

/// A type name as the schema writes them: `letter_of_claim`.
fn is_type_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
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
            .replacen("version = 2", "version = 9", 1)
            .replacen(
                "name = \"letter_of_claim\"",
                "name = \"Letter of claim\"",
                1,
            )
            .replacen("[\"obstetric\", 2]", "[\"obstetric\", 0]", 1)
            .replacen(r"appeal = '(?-u:\b)(SHA", r"appeal = '(?-u:\b)((SHA", 1);
        let err = Rules::parse(&bad, "mine.toml").unwrap_err();
        assert_eq!(err.problems.len(), 4, "{err}");
        assert!(err.to_string().contains("mine.toml"));
    }

    #[test]
    fn a_version_1_file_is_told_its_version() {
        let old = "version = 1\n[doc_types]\n[[doc_types.type]]\nname = \"letter_of_claim\"\n";
        let err = Rules::parse(old, "mine.toml").unwrap_err();
        assert_eq!(err.problems.len(), 1, "{err}");
        assert!(
            err.problems[0].contains("version 1 is not one this build reads"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let bad = DEFAULT_RULES.replacen("version = 2", "version = 2\ncolour = \"red\"", 1);
        assert!(Rules::parse(&bad, "x").is_err());
    }

    /// A rules text with one more type, declared before `[parties]`.
    fn with_type(declaration: &str) -> String {
        DEFAULT_RULES.replacen(
            "\n[parties]",
            &format!("\n[[doc_types.type]]\n{declaration}\n\n[parties]"),
            1,
        )
    }

    #[test]
    fn a_type_behaves_as_its_rules_declare() {
        let text = with_type(
            "name = \"complaint_letter\"\nfamily = \"general\"\nopens_case = false\nphrases = [[\"formal complaint\", 4]]",
        );
        let rules = Rules::parse(&text, "mine.toml").unwrap();
        let t = rules.doc_type("complaint_letter").unwrap();
        assert_eq!(t.name(), "complaint_letter");
        assert_eq!(t.family(), Family::General);
        assert!(!t.opens_case());
        assert_eq!(t.acknowledgement(), None);
        assert!(t.is_scored());
        assert_eq!(rules.family_of("complaint_letter"), Some(Family::General));
        // The shipped types' behaviour is data too.
        let claim = rules.doc_type("letter_of_claim").unwrap();
        assert_eq!(claim.family(), Family::Claims);
        assert!(claim.opens_case());
        assert_eq!(claim.acknowledgement(), Some(Acknowledgement::Claim));
        let foi = rules.doc_type("foi_request").unwrap();
        assert_eq!((foi.family(), foi.opens_case()), (Family::Foi, true));
        assert_eq!(
            foi.acknowledgement().map(Acknowledgement::template),
            Some("foi-acknowledgement")
        );
        let fallback = rules.doc_type(&rules.doc_fallback).unwrap();
        assert_eq!(fallback.family(), Family::General);
        // The fallback is also recognised by its own signals (a covering or chasing letter).
        assert!(fallback.is_scored());
        assert!(rules.doc_type(UNKNOWN).is_none());
        assert!(rules.doc_type("complaint").is_none());
    }

    #[test]
    fn bad_behaviour_is_reported_with_every_other_problem() {
        let text = with_type(
            "name = \"complaint_letter\"\nfamily = \"complaints\"\nopens_case = false\nacknowledgement = \"complaint-acknowledgement\"\nphrases = [[\"formal complaint\", 4]]",
        )
        .replacen(
            "name = \"performance_concern\"",
            "name = \"performance_concern\"\nacknowledgement = \"claim-acknowledgment\"",
            1,
        )
        .replacen("fallback = \"correspondence\"", "fallback = \"letter\"", 1)
        .replacen("[\"obstetric\", 2]", "[\"obstetric\", 0]", 1);
        let err = Rules::parse(&text, "mine.toml").unwrap_err();
        let problems = err.problems.join("\n");
        assert_eq!(err.problems.len(), 5, "{problems}");
        assert!(problems.contains(
            "family \"complaints\" is not one of claims, foi, appeals, practitioner, general"
        ));
        assert!(problems.contains("acknowledgement \"complaint-acknowledgement\" is not one of"));
        assert!(
            problems.contains(
                "doc_types.performance_concern: acknowledgement \"claim-acknowledgment\""
            )
        );
        assert!(problems.contains("\"letter\" is not a declared type"));
        assert!(problems.contains("obstetric"));
    }

    #[test]
    fn a_type_that_cannot_open_a_case_or_is_declared_twice_is_refused() {
        let text =
            with_type("name = \"correspondence\"\nfamily = \"practitioner\"\nopens_case = true")
                .replacen("name = \"early_notification\"", "name = \"unknown\"", 1);
        let err = Rules::parse(&text, "mine.toml").unwrap_err();
        let problems = err.problems.join("\n");
        assert_eq!(err.problems.len(), 3, "{problems}");
        assert!(problems.contains("\"correspondence\" appears twice"));
        assert!(problems.contains("family practitioner has no cases to open"));
        assert!(problems.contains("\"unknown\" is the type of what could not be read"));
    }

    #[test]
    fn a_rules_file_without_behaviour_is_refused() {
        let text = DEFAULT_RULES.replacen("family = \"claims\"\n", "", 1);
        let err = Rules::parse(&text, "old.toml").unwrap_err();
        assert!(err.to_string().contains("family"), "{err}");
    }
}
