//! Acknowledgements from filed documents. Which document gets which is rules data (a
//! type's `acknowledgement` in `rules/default.toml`): `claim-acknowledgement` for a
//! document filed under a claim (claimant, defendant, dates and references from the
//! document's metadata; the reply address from the letter's own sender block), and
//! `foi-acknowledgement` for an FOI request, with the statutory due date.

use chrono::NaiveDate;
use serde_json::{Value, json};

use crate::letter_service::LetterRequest;
use crate::letters::fields::is_postcode;
use crate::metadata::{Acknowledgement, DocTypeRule, Rules};

/// Who signs acknowledgements, and where claimants' representatives write to.
#[derive(Debug, Clone)]
pub struct Signatory {
    pub name: String,
    pub role: String,
    pub handler_name: String,
    pub handler_email: String,
}

impl Signatory {
    /// Who signs claim acknowledgements unless configured otherwise.
    pub fn claims() -> Self {
        Signatory {
            name: "Claims Intake Team".into(),
            role: "Clinical Negligence".into(),
            handler_name: "the Claims Intake Team".into(),
            handler_email: "claims.intake@resolution.example".into(),
        }
    }

    /// Who signs FOI acknowledgements unless configured otherwise.
    pub fn foi() -> Self {
        Signatory {
            name: "Freedom of Information Team".into(),
            role: "Information Governance".into(),
            handler_name: "the Freedom of Information Team".into(),
            handler_email: "foi@resolution.example".into(),
        }
    }
}

impl crate::failure::ErrorCode for AckError {
    fn code(&self) -> crate::failure::Code {
        crate::failure::Code::NotApplicable
    }
}

/// Why no acknowledgement could be prepared (codes and field names, never content).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AckError {
    #[error("the document is not a letter of claim filed under a claim")]
    NotALetterOfClaim,
    #[error("the letter has no {0} that an acknowledgement needs")]
    Missing(&'static str),
}

/// The sender's address at the head of a letter: up to seven lines ending with a line
/// that is, or ends with, a UK postcode.
pub fn sender_address(text: &str) -> Option<Vec<String>> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(12)
        .collect();
    for end in 2..lines.len().min(8) {
        let last = lines[end];
        let tail: Vec<&str> = last.split_whitespace().rev().take(2).collect();
        let postcode = tail.iter().rev().copied().collect::<Vec<_>>().join(" ");
        if is_postcode(last) || (tail.len() == 2 && is_postcode(&postcode)) {
            let block: Vec<String> = lines[..=end].iter().map(|l| l.to_string()).collect();
            return (block.len() >= 3).then_some(block);
        }
    }
    None
}

/// The acknowledgement request for a filed document whose type `rules` give the claim
/// acknowledgement (a letter of claim): `doc` is its document item, `text` its extracted
/// text, `today` the letter's date.
pub fn claim_acknowledgement(
    doc: &serde_json::Map<String, Value>,
    text: &str,
    today: NaiveDate,
    signatory: &Signatory,
    rules: &Rules,
) -> Result<LetterRequest, AckError> {
    let meta = doc.get("metadata").ok_or(AckError::NotALetterOfClaim)?;
    let case_ref = doc
        .get("case_ref")
        .and_then(Value::as_str)
        .ok_or(AckError::NotALetterOfClaim)?;
    let acknowledgement = meta["doc_type"]
        .as_str()
        .and_then(|t| rules.doc_type(t))
        .and_then(DocTypeRule::acknowledgement);
    if acknowledgement != Some(Acknowledgement::Claim) {
        return Err(AckError::NotALetterOfClaim);
    }
    let doc_id = doc
        .get("doc_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let claimant = meta["parties"]["claimant"]
        .as_str()
        .ok_or(AckError::Missing("claimant"))?;
    let defendant = meta["parties"]["defendants"][0]
        .as_str()
        .ok_or(AckError::Missing("defendant"))?;
    let letter_date = meta["document_date"]
        .as_str()
        .ok_or(AckError::Missing("date"))?;
    let received = doc
        .get("received")
        .and_then(Value::as_str)
        .and_then(|r| r.get(..10))
        .unwrap_or(letter_date);
    let address = sender_address(text).ok_or(AckError::Missing("sender address"))?;
    let mut data = json!({
        "recipient_address": address,
        "salutation": "Sir or Madam",
        "our_ref": case_ref,
        "letter_date": today.format("%Y-%m-%d").to_string(),
        "signatory_name": signatory.name,
        "signatory_role": signatory.role,
        "claimant_name": claimant,
        "defendant": defendant,
        "letter_of_claim_date": letter_date,
        "received_date": received,
        "case_handler_name": signatory.handler_name,
        "case_handler_email": signatory.handler_email,
        "records_requested": true,
    });
    if let Some(theirs) = meta["references"]["other"][0].as_str() {
        data["your_ref"] = json!(theirs);
    }
    let template = Acknowledgement::Claim.template();
    Ok(LetterRequest {
        request_id: format!("{template}:{doc_id}"),
        template: template.into(),
        case_ref: case_ref.to_string(),
        data,
    })
}

/// The acknowledgement request for an FOI request: one per request (its id is the
/// request's reference), dated `today`, with the due date of the s.10 clock.
pub fn foi_acknowledgement(
    case: &crate::foi::service::FoiCase,
    today: NaiveDate,
    signatory: &Signatory,
) -> Result<LetterRequest, AckError> {
    let r = &case.request;
    let due = r.due.ok_or(AckError::Missing("due date"))?;
    let template = Acknowledgement::Foi.template();
    Ok(LetterRequest {
        request_id: format!("{template}:{}", r.reference),
        template: template.into(),
        case_ref: r.reference.clone(),
        data: json!({
            "salutation": case.requester.clone().unwrap_or_else(|| "Requester".into()),
            "our_ref": r.reference,
            "letter_date": today.max(r.received).to_string(),
            "signatory_name": signatory.name,
            "signatory_role": signatory.role,
            "received_date": r.received.to_string(),
            "due_date": due.to_string(),
            "request_text": case.request_text,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_acknowledgement_the_rules_can_name_is_a_letter_template() {
        let registry = crate::letters::Registry::embedded();
        for ack in Acknowledgement::ALL {
            assert!(registry.get(ack.template()).is_ok(), "{ack}");
        }
        // And the shipped rules give each to the type that gets it today.
        let rules = Rules::builtin();
        let of = |t: &str| rules.doc_type(t).and_then(DocTypeRule::acknowledgement);
        assert_eq!(of("letter_of_claim"), Some(Acknowledgement::Claim));
        assert_eq!(of("foi_request"), Some(Acknowledgement::Foi));
        assert_eq!(of("letter_of_notification"), None);
    }

    #[test]
    fn the_sender_block_ends_at_the_postcode() {
        let text =
            "Hartley & Moss Solicitors\n56 Chancery Row\nNorthtown\nNT1 4QX\nTel: 01632 911265\n";
        assert_eq!(
            sender_address(text).unwrap(),
            [
                "Hartley & Moss Solicitors",
                "56 Chancery Row",
                "Northtown",
                "NT1 4QX"
            ]
        );
        let inline = "A Firm LLP\n1 Road\nLeeds LS1 4AP\nDear Sirs";
        assert_eq!(sender_address(inline).unwrap().len(), 3);
        assert_eq!(
            sender_address("LETTER OF CLAIM\nno address here\nat all\n"),
            None
        );
    }
}
