//! FOI letters to the requester: the acknowledgement (the very request ingest sends, one
//! per FOI request) and the response (its data from the recorded outcome, exemptions,
//! information and an optional claims table); the outcome, review result and exemptions
//! as a person gives them; and making a letter through the letters use case.

use chrono::{Datelike as _, NaiveDate};
use serde_json::{Value, json};

use super::lifecycle::{Exemption, Outcome, ReviewResult};
use super::report::{ClaimsTable, DEFAULT_THRESHOLD, ReportError, claims_table};
use super::service::{Foi, FoiCase, FoiError};
use crate::acknowledge::{AckError, Signatory, foi_acknowledgement};
use crate::letter_service::{LetterOutcome, LetterRequest, LetterStatus, Letters, SendError};
use crate::letters::{Format, LetterError};
use crate::store::StoreError;

/// The acknowledgement's template (the one the rules name for an FOI request).
pub const ACKNOWLEDGEMENT: &str = crate::metadata::Acknowledgement::Foi.template();
/// The response's template.
pub const RESPONSE: &str = "foi-response";

/// Why an FOI letter could not be made, or a value not read.
#[derive(Debug, thiserror::Error)]
pub enum NoticeError {
    #[error("no FOI request {0}")]
    NotFound(String),
    #[error("{0} has no response recorded yet (postroom foi move respond ...)")]
    NoResponse(String),
    #[error("{0} was withdrawn: there is no response letter to send")]
    Withdrawn(String),
    #[error("unknown outcome {given:?} ({})", Outcome::ALL.map(|o| o.as_str()).join(", "))]
    UnknownOutcome { given: String },
    #[error("unknown result {given:?} (upheld, overturned, partly-overturned)")]
    UnknownReviewResult { given: String },
    #[error("an exemption is \"SECTION|TITLE|REASON\", not {given:?}")]
    BadExemption { given: String },
    #[error("unknown letter kind {given:?} (acknowledgement or response)")]
    UnknownKind { given: String },
    #[error("{reference}: {source}")]
    Acknowledgement {
        reference: String,
        #[source]
        source: AckError,
    },
    /// The letters use case refused the data, by field. A problem may quote what was
    /// entered (an address line, say): shown to the person who entered it, never logged.
    #[error("the letter for {reference} was not made: {}", .errors.join("; "))]
    Refused {
        reference: String,
        errors: Vec<String>,
    },
    #[error(transparent)]
    Letter(#[from] LetterError),
    #[error(transparent)]
    Send(#[from] SendError),
    #[error(transparent)]
    Foi(#[from] FoiError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

impl crate::failure::ErrorCode for NoticeError {
    fn code(&self) -> crate::failure::Code {
        use crate::failure::Code;
        match self {
            NoticeError::NotFound(_) => Code::NotFound,
            NoticeError::NoResponse(_) | NoticeError::Withdrawn(_) => Code::Conflict,
            NoticeError::UnknownOutcome { .. }
            | NoticeError::UnknownReviewResult { .. }
            | NoticeError::BadExemption { .. }
            | NoticeError::UnknownKind { .. } => Code::InvalidRequest,
            NoticeError::Acknowledgement { source, .. } => source.code(),
            NoticeError::Refused { .. } => Code::InvalidData,
            NoticeError::Letter(e) => e.code(),
            NoticeError::Send(e) => e.code(),
            NoticeError::Foi(e) => e.code(),
            NoticeError::Report(e) => e.code(),
            NoticeError::Store(e) => e.code(),
        }
    }
}

/// Reads an outcome (`granted`, `partly-granted`, `refused`, …).
pub fn parse_outcome(given: &str) -> Result<Outcome, NoticeError> {
    Outcome::parse(given).ok_or_else(|| NoticeError::UnknownOutcome {
        given: given.to_owned(),
    })
}

/// Reads a review's result (`upheld`, `overturned`, `partly-overturned`).
pub fn parse_review_result(given: &str) -> Result<ReviewResult, NoticeError> {
    ReviewResult::parse(given).ok_or_else(|| NoticeError::UnknownReviewResult {
        given: given.to_owned(),
    })
}

/// Reads an exemption given as `SECTION|TITLE|REASON` (each part trimmed; the reason may
/// hold further `|`).
pub fn parse_exemption(given: &str) -> Result<Exemption, NoticeError> {
    let parts: Vec<&str> = given.splitn(3, '|').collect();
    match parts.as_slice() {
        [section, title, reason] => Ok(Exemption {
            section: section.trim().into(),
            title: title.trim().into(),
            reason: reason.trim().into(),
        }),
        _ => Err(NoticeError::BadExemption {
            given: given.to_owned(),
        }),
    }
}

/// Which letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Acknowledgement,
    Response,
}

impl std::str::FromStr for Kind {
    type Err = NoticeError;

    fn from_str(s: &str) -> Result<Kind, NoticeError> {
        match s {
            "acknowledgement" => Ok(Kind::Acknowledgement),
            "response" => Ok(Kind::Response),
            other => Err(NoticeError::UnknownKind {
                given: other.to_owned(),
            }),
        }
    }
}

/// What a response letter says besides what is recorded on the request.
#[derive(Debug, Clone, Default)]
pub struct ResponseDetails {
    /// The information released (one paragraph per line).
    pub information: Option<String>,
    /// Advice and assistance (required for cost-limit responses).
    pub advice: Option<String>,
    /// A claims table by these dimensions (none: no table).
    pub statistics_by: Vec<String>,
    /// Its first and last year (default: the last five years to this one).
    pub from: Option<i32>,
    pub to: Option<i32>,
}

/// The acknowledgement of a request: the same letter request ingest sends when the
/// request arrives (`foi-acknowledgement:<reference>`), so it is made once however
/// often it is asked for.
pub fn acknowledgement(
    case: &FoiCase,
    today: NaiveDate,
    signatory: &Signatory,
) -> Result<LetterRequest, NoticeError> {
    foi_acknowledgement(case, today, signatory).map_err(|source| NoticeError::Acknowledgement {
        reference: case.request.reference.clone(),
        source,
    })
}

/// The data of a request's response letter: its recorded outcome, date and exemptions,
/// and the details given. Dated the day the response was recorded (else `today`).
pub fn response_data(
    case: &FoiCase,
    today: NaiveDate,
    signatory: &Signatory,
    details: &ResponseDetails,
    statistics: Option<&ClaimsTable>,
) -> Result<Value, NoticeError> {
    let r = &case.request;
    let reference = &r.reference;
    let outcome = r
        .outcome
        .ok_or_else(|| NoticeError::NoResponse(reference.clone()))?;
    if outcome == Outcome::Withdrawn {
        return Err(NoticeError::Withdrawn(reference.clone()));
    }
    let mut data = json!({
        "salutation": case.requester.clone().unwrap_or_else(|| "Requester".into()),
        "our_ref": reference,
        "letter_date": r.responded.unwrap_or(today).to_string(),
        "signatory_name": signatory.name,
        "signatory_role": signatory.role,
        "received_date": r.received.to_string(),
        "request_text": case.request_text,
        "outcome": outcome.as_str(),
    });
    if let Some(information) = &details.information {
        data["information"] = json!(information);
    }
    if let Some(advice) = &details.advice {
        data["advice"] = json!(advice);
    }
    if !r.exemptions.is_empty() {
        data["exemptions"] = json!(r.exemptions);
    }
    if let Some(s) = statistics {
        data["statistics"] = s.table.to_letter_table();
        data["statistics_caption"] = json!(s.caption);
    }
    Ok(data)
}

/// A letter made for an FOI request.
#[derive(Debug, Clone)]
pub struct FoiLetter {
    pub template: &'static str,
    /// The letter: for a PDF, the one recorded under the request.
    pub bytes: Vec<u8>,
    /// How the letter was recorded (PDFs only; `Unchanged` when it was made before).
    pub recorded: Option<LetterOutcome>,
}

/// Makes a request's acknowledgement or response. A PDF is sent through the letters use
/// case and recorded under the request (a response's data is kept for the disclosure
/// log), and the recorded PDF is returned; another format is rendered and not recorded.
/// An acknowledgement that ingest already made is not made again: it is returned.
pub async fn make(
    foi: &Foi,
    letters: &Letters,
    reference: &str,
    kind: Kind,
    signatory: &Signatory,
    details: &ResponseDetails,
    format: Format,
) -> Result<FoiLetter, NoticeError> {
    let case = foi
        .get(reference)
        .await?
        .ok_or_else(|| NoticeError::NotFound(reference.to_owned()))?;
    let today = foi.today();
    let (template, request) = match kind {
        Kind::Acknowledgement => (ACKNOWLEDGEMENT, acknowledgement(&case, today, signatory)?),
        Kind::Response => {
            let statistics = if details.statistics_by.is_empty() {
                None
            } else {
                let year = today.year();
                Some(
                    claims_table(
                        foi,
                        &details.statistics_by,
                        details.from.unwrap_or(year - 4),
                        details.to.unwrap_or(year),
                        DEFAULT_THRESHOLD,
                    )
                    .await?,
                )
            };
            let data = response_data(&case, today, signatory, details, statistics.as_ref())?;
            // One letter per response and data: the id names the data's hash.
            let rendered = letters.registry.render(RESPONSE, &data, Format::Pdf)?;
            let request = LetterRequest {
                request_id: format!("{RESPONSE}:{reference}:{}", rendered.data_hash),
                template: RESPONSE.into(),
                case_ref: reference.to_owned(),
                data,
            };
            (RESPONSE, request)
        }
    };
    if format != Format::Pdf {
        let rendered = letters.registry.render(template, &request.data, format)?;
        return Ok(FoiLetter {
            template,
            bytes: rendered.bytes,
            recorded: None,
        });
    }
    let outcome = letters.send(&request).await?;
    if outcome.status == LetterStatus::Invalid {
        return Err(NoticeError::Refused {
            reference: reference.to_owned(),
            errors: outcome.errors,
        });
    }
    if kind == Kind::Response {
        foi.record_response(reference, &request.data).await?;
    }
    let bytes = match &outcome.s3_key {
        Some(key) => letters.stores.blobs.get(key).await?.body.to_vec(),
        None => {
            letters
                .registry
                .render(template, &request.data, Format::Pdf)?
                .bytes
        }
    };
    Ok(FoiLetter {
        template,
        bytes,
        recorded: Some(outcome),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::Calendar;
    use crate::foi::lifecycle::Request;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn case() -> FoiCase {
        FoiCase {
            request: Request::new("FOI_7001", d("2024-03-28"), Calendar::embedded())
                .expect("request"),
            requester: Some("Ms Aoife Byrne".into()),
            request_text: "How many maternity claims?".into(),
            title: "Maternity claims".into(),
            duplicate_of: None,
            sender_date: None,
            version: 1,
        }
    }

    #[test]
    fn exemptions_outcomes_and_results_are_read_or_refused() {
        let e = parse_exemption(" 40(2) | Personal information | It would | identify").unwrap();
        assert_eq!(e.section, "40(2)");
        assert_eq!(e.title, "Personal information");
        assert_eq!(e.reason, "It would | identify");
        let err = parse_exemption("40(2) only").unwrap_err();
        assert!(err.to_string().contains("SECTION|TITLE|REASON"), "{err}");
        assert_eq!(
            parse_outcome("partly-granted").unwrap(),
            Outcome::PartlyGranted
        );
        assert!(
            parse_outcome("maybe")
                .unwrap_err()
                .to_string()
                .contains("granted, ")
        );
        assert_eq!(parse_review_result("upheld").unwrap(), ReviewResult::Upheld);
        assert!(parse_review_result("sideways").is_err());
        assert_eq!("response".parse::<Kind>().unwrap(), Kind::Response);
        assert!("memo".parse::<Kind>().is_err());
    }

    #[test]
    fn the_acknowledgement_is_the_one_ingest_requests() {
        let c = case();
        let ours = acknowledgement(&c, d("2024-04-02"), &Signatory::foi()).unwrap();
        let ingests = foi_acknowledgement(&c, d("2024-03-28"), &Signatory::foi()).unwrap();
        assert_eq!(ours.request_id, "foi-acknowledgement:FOI_7001");
        assert_eq!(ours.request_id, ingests.request_id);
        assert_eq!(ours.template, ACKNOWLEDGEMENT);
    }

    #[test]
    fn a_response_needs_a_recorded_outcome_and_carries_it() {
        let mut c = case();
        let details = ResponseDetails {
            information: Some("The figures are below.".into()),
            ..ResponseDetails::default()
        };
        let today = d("2024-04-25");
        assert!(matches!(
            response_data(&c, today, &Signatory::foi(), &details, None),
            Err(NoticeError::NoResponse(_))
        ));
        c.request.outcome = Some(Outcome::Withdrawn);
        assert!(matches!(
            response_data(&c, today, &Signatory::foi(), &details, None),
            Err(NoticeError::Withdrawn(_))
        ));
        c.request.outcome = Some(Outcome::Refused);
        c.request.responded = Some(d("2024-04-24"));
        c.request.exemptions = vec![parse_exemption("40(2)|Personal information|r").unwrap()];
        let data = response_data(&c, today, &Signatory::foi(), &details, None).unwrap();
        assert_eq!(data["outcome"], "refused");
        assert_eq!(data["letter_date"], "2024-04-24");
        assert_eq!(data["exemptions"][0]["section"], "40(2)");
        assert_eq!(data["information"], "The figures are below.");
        assert!(data.get("advice").is_none() && data.get("statistics").is_none());
    }
}
