//! Claims' deadlines in the console: each claim's deadlines on its page (with the rule
//! behind each, and forms to record what happened and an extension with its reason,
//! audited with the person), the deadlines due across claims, and their count on home.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State as Extract};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;

use super::State;
use super::authz::{self, Permission};
use super::error::PageError;
use super::forms::Checked;
use super::pages::{self, Chrome};
use super::session::Session;
use crate::claims::{Deadline, DeadlineKind, DueDeadline, Extension, ManualEvent};

type St = Extract<Arc<State>>;

/// Calendar days ahead the lists show.
pub const WITHIN_DAYS: u32 = 14;

/// A deadline as a page shows it.
#[derive(Debug, Clone)]
pub struct DeadlineRow {
    pub case_ref: String,
    pub case_href: String,
    pub label: String,
    pub due: String,
    /// The tag's class and text: Overdue (red), Due soon (yellow), Met (green).
    pub tag: Option<(&'static str, &'static str)>,
    pub days: String,
    pub basis: String,
    pub note: Option<String>,
    pub extended: Vec<String>,
}

fn label(kind: DeadlineKind) -> &'static str {
    match kind {
        DeadlineKind::AcknowledgeNotification => "Acknowledge the letter of notification",
        DeadlineKind::AcknowledgeClaim => "Acknowledge the letter of claim",
        DeadlineKind::LetterOfResponse => "Letter of response",
        DeadlineKind::HealthRecords => "Provide the health records",
        DeadlineKind::AcknowledgmentOfService => "File the acknowledgment of service",
        DeadlineKind::Defence => "File the defence",
        DeadlineKind::Part36RelevantPeriod => "Part 36 offer: relevant period ends",
        DeadlineKind::Limitation => "Limitation period ends",
    }
}

fn tag(
    kind: DeadlineKind,
    due: NaiveDate,
    met: bool,
    today: NaiveDate,
) -> Option<(&'static str, &'static str)> {
    if met {
        Some(("govuk-tag--green", "Met"))
    } else if kind == DeadlineKind::Limitation {
        // Not a duty of ours: when the claimant's time to sue has run, the claim may be
        // out of time, which is for the handler to note, not a failure.
        (due < today).then_some(("govuk-tag--grey", "Passed"))
    } else if due < today {
        Some(("govuk-tag--red", "Overdue"))
    } else if (due - today).num_days() <= 5 {
        Some(("govuk-tag--yellow", "Due soon"))
    } else {
        None
    }
}

fn days(kind: DeadlineKind, due: NaiveDate, met: bool, today: NaiveDate) -> String {
    if met {
        return String::new();
    }
    let n = (due - today).num_days();
    if kind == DeadlineKind::Limitation && n < 0 {
        return "the claimant's time to bring the claim has run".into();
    }
    match n {
        0 => "today".into(),
        1 => "1 day left".into(),
        n if n > 1 => format!("{n} days left"),
        -1 => "1 day late".into(),
        n => format!("{} days late", -n),
    }
}

fn case_href(case_ref: &str) -> String {
    format!("/cases/{}", pages::segment(case_ref))
}

/// One claim's deadlines, soonest first.
pub fn rows_of_claim(case_ref: &str, list: &[Deadline], today: NaiveDate) -> Vec<DeadlineRow> {
    list.iter()
        .map(|d| DeadlineRow {
            case_ref: case_ref.to_owned(),
            case_href: case_href(case_ref),
            label: label(d.deadline).to_owned(),
            due: crate::calendar::uk_date(d.due),
            tag: tag(d.deadline, d.due, d.met.is_some(), today),
            days: days(d.deadline, d.due, d.met.is_some(), today),
            basis: d.basis.clone(),
            // How a due date was worked out matters only while it is to be met.
            note: d.note.clone().filter(|_| d.met.is_none()),
            extended: d
                .extensions
                .iter()
                .map(|e| {
                    format!(
                        "Extended to {} (agreed {}): {}",
                        crate::calendar::uk_date(e.new_due),
                        crate::calendar::uk_date(e.agreed_on),
                        e.reason
                    )
                })
                .collect(),
        })
        .collect()
}

fn rows_of_due(list: &[DueDeadline], today: NaiveDate) -> Vec<DeadlineRow> {
    list.iter()
        .map(|d| DeadlineRow {
            case_ref: d.case_ref.clone(),
            case_href: case_href(&d.case_ref),
            label: label(d.deadline).to_owned(),
            due: crate::calendar::uk_date(d.due),
            tag: tag(d.deadline, d.due, false, today),
            days: days(d.deadline, d.due, false, today),
            basis: d.basis.clone(),
            note: d.note.clone(),
            extended: Vec::new(),
        })
        .collect()
}

/// The deadlines section of a claim's page: its rows, and whether the person may
/// change them.
#[derive(Debug, Clone, Default)]
pub struct ClaimSection {
    pub is_claim: bool,
    pub rows: Vec<DeadlineRow>,
    pub can_change: bool,
    pub events_action: String,
    pub extend_action: String,
    /// Event names and labels for the form.
    pub events: Vec<(&'static str, &'static str)>,
    /// Deadline ids and labels for the form.
    pub kinds: Vec<(&'static str, &'static str)>,
    /// The form that was refused, shown again open with its error and what was typed.
    pub refused: Option<Refused>,
}

/// A claim form sent back: which form, which field the error is on (its element id),
/// the message, and the values as typed.
#[derive(Debug, Clone, Default)]
pub struct Refused {
    /// `event` or `extend`.
    pub form: &'static str,
    /// The id of the field in error (`claim-event-on`, `extend-to`...).
    pub field: &'static str,
    pub message: String,
    pub event: String,
    pub on: String,
    pub deadline: String,
    pub to: String,
    pub agreed_on: String,
    pub reason: String,
}

impl Refused {
    /// Whether the error is on field `id` (for the template).
    pub fn on_field(&self, id: &str) -> bool {
        self.field == id
    }
}

/// The deadlines section for case `case_ref`, for `session`.
pub async fn section(
    state: &State,
    session: &Session,
    case_ref: &str,
) -> Result<ClaimSection, PageError> {
    if crate::model::CaseKind::of_reference(case_ref) != crate::model::CaseKind::Claim {
        return Ok(ClaimSection::default());
    }
    let today = state.app.claims.today();
    let list = state.app.claims.of_case(case_ref).await?;
    let seg = pages::segment(case_ref);
    Ok(ClaimSection {
        is_claim: true,
        rows: rows_of_claim(case_ref, &list, today),
        can_change: session.can(Permission::FileDocuments),
        events_action: format!("/cases/{seg}/claim-events"),
        extend_action: format!("/cases/{seg}/extensions"),
        events: ManualEvent::NAMES
            .iter()
            .filter(|(n, _)| *n != "records_provided")
            .copied()
            .collect(),
        kinds: DeadlineKind::ALL
            .iter()
            .map(|k| (k.as_str(), label(*k)))
            .collect(),
        refused: None,
    })
}

/// The running deadlines across claims (for home and the list).
pub async fn due(state: &State) -> Result<Vec<DeadlineRow>, PageError> {
    let today = state.app.claims.today();
    let list = state.app.claims.due(today, WITHIN_DAYS).await?;
    Ok(rows_of_due(&list, today))
}

#[derive(Debug, Template)]
#[template(path = "claims_due.html")]
pub struct DuePage {
    pub chrome: Chrome,
    pub within: u32,
    pub rows: Vec<DeadlineRow>,
}

/// `GET /claims/deadlines`: deadlines overdue or due within 14 days, across claims.
pub async fn due_page(Extract(state): St, session: Session) -> Result<Response, PageError> {
    session.require(Permission::ViewCases)?;
    let page = DuePage {
        chrome: Chrome::of(&session, "/cases"),
        within: WITHIN_DAYS,
        rows: due(&state).await?,
    };
    Ok(pages::render(&page).into_response())
}

fn day(text: &str) -> Option<NaiveDate> {
    crate::calendar::parse_date(text)
}

/// The claim's page again, with the refused form open, its error summary linking to
/// the field, and what the person typed (400).
async fn send_back(
    state: &State,
    session: &Session,
    case_ref: &str,
    refused: Refused,
) -> Result<Response, PageError> {
    let response = super::routes::case_page(state, session, case_ref, Some(refused)).await?;
    Ok((axum::http::StatusCode::BAD_REQUEST, response).into_response())
}

/// A refusal by the claim's clock (dates in an impossible order, a deadline that is
/// not running): its message is the person's to read, on the form's first field.
fn clock_refusal(e: PageError) -> Result<String, PageError> {
    if e.code == crate::failure::Code::InvalidRequest {
        Ok(e.message)
    } else {
        Err(e)
    }
}

#[derive(Debug, Deserialize)]
pub struct EventForm {
    event: String,
    on: String,
}

/// `POST /cases/{ref}/claim-events`: records what happened on a claim (audited).
pub async fn record_event(
    Extract(state): St,
    Path(case_ref): Path<String>,
    form: Checked<EventForm>,
) -> Result<Response, PageError> {
    let session = form.session;
    session.require(Permission::FileDocuments)?;
    if authz::to_see_case(&case_ref) != Permission::ViewCases {
        return Err(PageError::not_found("claim"));
    }
    let f = &form.form;
    let back = |field: &'static str, message: String| Refused {
        form: "event",
        field,
        message,
        event: f.event.clone(),
        on: f.on.clone(),
        ..Refused::default()
    };
    let Some(on) = day(&f.on) else {
        let r = back(
            "claim-event-on",
            "Enter the date it happened, for example 07/12/2026".into(),
        );
        return send_back(&state, &session, &case_ref, r).await;
    };
    if on > state.app.claims.today() {
        let r = back(
            "claim-event-on",
            "The date it happened cannot be in the future".into(),
        );
        return send_back(&state, &session, &case_ref, r).await;
    }
    let recorded = match ManualEvent::named(&f.event, on, None) {
        Ok(event) => state
            .app
            .claims
            .acting_as(&session.who)
            .record(&case_ref, event)
            .await
            .map(|_| ())
            .map_err(PageError::from),
        Err(e) => Err(PageError::from(e)),
    };
    if let Err(e) = recorded {
        let r = back("claim-event", clock_refusal(e)?);
        return send_back(&state, &session, &case_ref, r).await;
    }
    Ok(Redirect::to(&format!("{}#deadlines", case_href(&case_ref))).into_response())
}

#[derive(Debug, Deserialize)]
pub struct ExtendForm {
    deadline: String,
    to: String,
    agreed_on: String,
    reason: String,
}

/// `POST /cases/{ref}/extensions`: records an extension agreed between the parties,
/// with its reason (required), audited with the person.
pub async fn extend(
    Extract(state): St,
    Path(case_ref): Path<String>,
    form: Checked<ExtendForm>,
) -> Result<Response, PageError> {
    let session = form.session;
    session.require(Permission::FileDocuments)?;
    if authz::to_see_case(&case_ref) != Permission::ViewCases {
        return Err(PageError::not_found("claim"));
    }
    let f = &form.form;
    let back = |field: &'static str, message: &str| Refused {
        form: "extend",
        field,
        message: message.to_owned(),
        deadline: f.deadline.clone(),
        to: f.to.clone(),
        agreed_on: f.agreed_on.clone(),
        reason: f.reason.clone(),
        ..Refused::default()
    };
    let today = state.app.claims.today();
    // (field, message) of the first problem found.
    let checked = (|| {
        let kind: DeadlineKind = f
            .deadline
            .parse()
            .map_err(|_| ("extend-deadline", "Choose the deadline that was extended"))?;
        let to = day(&f.to).ok_or((
            "extend-to",
            "Enter the new due date, for example 26/01/2027",
        ))?;
        let agreed_on = if f.agreed_on.trim().is_empty() {
            today
        } else {
            day(&f.agreed_on).ok_or((
                "extend-agreed",
                "Enter the date it was agreed, for example 11/12/2026",
            ))?
        };
        if f.reason.trim().is_empty() {
            return Err((
                "extend-reason",
                "Give the reason for the extension: who agreed it and how",
            ));
        }
        Ok(Extension {
            deadline: kind,
            from: None,
            new_due: to,
            reason: f.reason.trim().to_owned(),
            agreed_on,
        })
    })();
    let extension = match checked {
        Ok(extension) => extension,
        Err((field, message)) => {
            return send_back(&state, &session, &case_ref, back(field, message)).await;
        }
    };
    let done = state
        .app
        .claims
        .acting_as(&session.who)
        .extend(&case_ref, extension)
        .await;
    if let Err(e) = done {
        let message = clock_refusal(PageError::from(e))?;
        let r = back("extend-deadline", &message);
        return send_back(&state, &session, &case_ref, r).await;
    }
    Ok(Redirect::to(&format!("{}#deadlines", case_href(&case_ref))).into_response())
}
