//! The FOI request lifecycle: a state machine that refuses illegal moves with a clear
//! error. Each accepted command updates the request (and its statutory clock) and names
//! the audit event to record. Overdue and due-soon are derived from dates, never stored.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::deadline::{self, ClockInput, DeadlineError};
use crate::calendar::Calendar;

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Received,
    Acknowledged,
    AwaitingClarification,
    AwaitingFee,
    InProgress,
    /// In progress, with a public interest test extension.
    Extended,
    Responded,
    ReviewRequested,
    ReviewDecided,
    Closed,
}

impl Status {
    pub const ALL: [Status; 10] = [
        Status::Received,
        Status::Acknowledged,
        Status::AwaitingClarification,
        Status::AwaitingFee,
        Status::InProgress,
        Status::Extended,
        Status::Responded,
        Status::ReviewRequested,
        Status::ReviewDecided,
        Status::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::Acknowledged => "acknowledged",
            Status::AwaitingClarification => "awaiting_clarification",
            Status::AwaitingFee => "awaiting_fee",
            Status::InProgress => "in_progress",
            Status::Extended => "extended",
            Status::Responded => "responded",
            Status::ReviewRequested => "review_requested",
            Status::ReviewDecided => "review_decided",
            Status::Closed => "closed",
        }
    }

    /// Whether the request still awaits a response (the statutory clock runs or is paused).
    pub fn awaits_response(self) -> bool {
        matches!(
            self,
            Status::Received
                | Status::Acknowledged
                | Status::AwaitingClarification
                | Status::AwaitingFee
                | Status::InProgress
                | Status::Extended
        )
    }
}

/// How a request was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Granted,
    PartlyGranted,
    Refused,
    NotHeld,
    CostLimit,
    Withdrawn,
    Vexatious,
    Repeated,
}

impl Outcome {
    pub const ALL: [Outcome; 8] = [
        Outcome::Granted,
        Outcome::PartlyGranted,
        Outcome::Refused,
        Outcome::NotHeld,
        Outcome::CostLimit,
        Outcome::Withdrawn,
        Outcome::Vexatious,
        Outcome::Repeated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Granted => "granted",
            Outcome::PartlyGranted => "partly-granted",
            Outcome::Refused => "refused",
            Outcome::NotHeld => "not-held",
            Outcome::CostLimit => "cost-limit",
            Outcome::Withdrawn => "withdrawn",
            Outcome::Vexatious => "vexatious",
            Outcome::Repeated => "repeated",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// Outcomes that withhold information must cite exemptions.
    pub fn needs_exemptions(self) -> bool {
        matches!(self, Outcome::PartlyGranted | Outcome::Refused)
    }
}

/// The result of an internal review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReviewResult {
    Upheld,
    Overturned,
    PartlyOverturned,
}

impl ReviewResult {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewResult::Upheld => "upheld",
            ReviewResult::Overturned => "overturned",
            ReviewResult::PartlyOverturned => "partly-overturned",
        }
    }

    pub fn parse(s: &str) -> Option<ReviewResult> {
        [
            ReviewResult::Upheld,
            ReviewResult::Overturned,
            ReviewResult::PartlyOverturned,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// An exemption relied on, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exemption {
    pub section: String,
    pub title: String,
    pub reason: String,
}

/// One FOI request's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub reference: String,
    pub status: Status,
    pub received: NaiveDate,
    pub due: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clarification_requested: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clarification_received: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_notice: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_paid: Option<NaiveDate>,
    #[serde(default)]
    pub pit_extension: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pit_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responded: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exemptions: Vec<Exemption>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_requested: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub review_late: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_due: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_extension_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_decided: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_result: Option<ReviewResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complaint_noted: Option<NaiveDate>,
    /// Why the due date could not be worked out (a stable code such as
    /// `date_outside_calendar`): the request is kept, flagged, until a move with a
    /// calendar that covers it works the date out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_error: Option<String>,
}

/// A move in the lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    Acknowledge {
        on: NaiveDate,
    },
    RequestClarification {
        on: NaiveDate,
    },
    ClarificationReceived {
        on: NaiveDate,
    },
    IssueFeeNotice {
        on: NaiveDate,
    },
    FeePaid {
        on: NaiveDate,
    },
    StartWork {
        on: NaiveDate,
    },
    ExtendForPublicInterest {
        on: NaiveDate,
        days: u32,
        reason: String,
    },
    Respond {
        on: NaiveDate,
        outcome: Outcome,
        #[serde(default)]
        exemptions: Vec<Exemption>,
    },
    RequestReview {
        on: NaiveDate,
    },
    ExtendReview {
        on: NaiveDate,
        days: u32,
        reason: String,
    },
    DecideReview {
        on: NaiveDate,
        result: ReviewResult,
    },
    Close {
        on: NaiveDate,
    },
    NoteComplaint {
        on: NaiveDate,
    },
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Acknowledge { .. } => "acknowledge",
            Command::RequestClarification { .. } => "request_clarification",
            Command::ClarificationReceived { .. } => "clarification_received",
            Command::IssueFeeNotice { .. } => "issue_fee_notice",
            Command::FeePaid { .. } => "fee_paid",
            Command::StartWork { .. } => "start_work",
            Command::ExtendForPublicInterest { .. } => "extend_for_public_interest",
            Command::Respond { .. } => "respond",
            Command::RequestReview { .. } => "request_review",
            Command::ExtendReview { .. } => "extend_review",
            Command::DecideReview { .. } => "decide_review",
            Command::Close { .. } => "close",
            Command::NoteComplaint { .. } => "note_complaint",
        }
    }

    pub fn on(&self) -> NaiveDate {
        match self {
            Command::Acknowledge { on }
            | Command::RequestClarification { on }
            | Command::ClarificationReceived { on }
            | Command::IssueFeeNotice { on }
            | Command::FeePaid { on }
            | Command::StartWork { on }
            | Command::ExtendForPublicInterest { on, .. }
            | Command::Respond { on, .. }
            | Command::RequestReview { on }
            | Command::ExtendReview { on, .. }
            | Command::DecideReview { on, .. }
            | Command::Close { on }
            | Command::NoteComplaint { on } => *on,
        }
    }

    /// The statuses this command may be applied in.
    pub fn allowed_from(&self) -> &'static [Status] {
        use Status::*;
        match self {
            Command::Acknowledge { .. } => &[Received],
            Command::RequestClarification { .. } => &[Received, Acknowledged, InProgress],
            Command::ClarificationReceived { .. } => &[AwaitingClarification],
            Command::IssueFeeNotice { .. } => &[Received, Acknowledged, InProgress],
            Command::FeePaid { .. } => &[AwaitingFee],
            Command::StartWork { .. } => &[Received, Acknowledged],
            Command::ExtendForPublicInterest { .. } => &[InProgress],
            // A request not clarified or paid for can still be closed as withdrawn.
            Command::Respond { .. } => &[
                Received,
                Acknowledged,
                AwaitingClarification,
                AwaitingFee,
                InProgress,
                Extended,
            ],
            Command::RequestReview { .. } => &[Responded],
            Command::ExtendReview { .. } => &[ReviewRequested],
            Command::DecideReview { .. } => &[ReviewRequested],
            Command::Close { .. } => &[Responded, ReviewDecided],
            Command::NoteComplaint { .. } => &[Responded, ReviewDecided, Closed],
        }
    }
}

impl crate::failure::ErrorCode for LifecycleError {
    fn code(&self) -> crate::failure::Code {
        use crate::failure::Code;
        match self {
            LifecycleError::IllegalMove { .. } => Code::IllegalMove,
            LifecycleError::Invalid { .. } => Code::InvalidRequest,
            LifecycleError::Deadline(e, _) => e.code(),
        }
    }
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    #[error("{reference} is {}: it cannot be sent `{command}` (allowed when {})", from.as_str(), allowed.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "))]
    IllegalMove {
        reference: String,
        from: Status,
        command: &'static str,
        allowed: Vec<Status>,
    },
    #[error("{reference}: {message}")]
    Invalid { reference: String, message: String },
    #[error("{reference}: {0}", reference = .1)]
    Deadline(DeadlineError, String),
}

impl Request {
    /// A new request, received on `received`, with its due date.
    pub fn new(
        reference: &str,
        received: NaiveDate,
        cal: &Calendar,
    ) -> Result<Request, LifecycleError> {
        let mut r = Request::unclocked(reference, received, None);
        r.recompute_due(cal)?;
        Ok(r)
    }

    /// A new request whose due date could not be worked out, flagged with why (a stable
    /// code): it is listed, shown and moved like any other, and a move whose calendar
    /// covers it works the due date out and clears the flag.
    pub fn flagged(reference: &str, received: NaiveDate, clock_error: &str) -> Request {
        Request::unclocked(reference, received, Some(clock_error.to_string()))
    }

    fn unclocked(reference: &str, received: NaiveDate, clock_error: Option<String>) -> Request {
        Request {
            reference: reference.to_string(),
            status: Status::Received,
            received,
            due: None,
            clarification_requested: None,
            clarification_received: None,
            fee_notice: None,
            fee_paid: None,
            pit_extension: 0,
            pit_reason: None,
            acknowledged: None,
            responded: None,
            outcome: None,
            exemptions: Vec::new(),
            review_requested: None,
            review_late: false,
            review_due: None,
            review_extension_reason: None,
            review_decided: None,
            review_result: None,
            closed: None,
            complaint_noted: None,
            clock_error,
        }
    }

    fn clock_input(&self) -> ClockInput {
        ClockInput {
            received: self.received,
            clarification_received: self.clarification_received,
            fee_notice: self.fee_notice,
            fee_paid: self.fee_paid,
            pit_extension: self.pit_extension,
        }
    }

    fn recompute_due(&mut self, cal: &Calendar) -> Result<(), LifecycleError> {
        self.due =
            match deadline::due_date(cal, &self.clock_input()) {
                Ok(d) => {
                    self.clock_error = None;
                    Some(d)
                }
                // Paused for a fee, or waiting for clarification: no due date until it moves.
                Err(DeadlineError::Paused) => None,
                // A request already flagged stays flagged (and movable) while the calendar
                // does not cover it.
                Err(DeadlineError::Calendar(crate::calendar::CalendarError::NotCovered {
                    ..
                })) if self.clock_error.is_some() => None,
                Err(e) => return Err(LifecycleError::Deadline(e, self.reference.clone())),
            };
        if self.status == Status::AwaitingClarification {
            self.due = None;
        }
        Ok(())
    }

    fn invalid(&self, message: impl Into<String>) -> LifecycleError {
        LifecycleError::Invalid {
            reference: self.reference.clone(),
            message: message.into(),
        }
    }

    /// Applies `cmd`: the new state, or why the move is refused. `self` is unchanged.
    pub fn apply(&self, cmd: &Command, cal: &Calendar) -> Result<Request, LifecycleError> {
        if !cmd.allowed_from().contains(&self.status) {
            return Err(LifecycleError::IllegalMove {
                reference: self.reference.clone(),
                from: self.status,
                command: cmd.name(),
                allowed: cmd.allowed_from().to_vec(),
            });
        }
        let on = cmd.on();
        if on < self.received {
            return Err(self.invalid(format!(
                "{on} is before the request was received ({})",
                self.received
            )));
        }
        let mut next = self.clone();
        match cmd {
            Command::Acknowledge { on } => {
                next.acknowledged = Some(*on);
                next.status = Status::Acknowledged;
            }
            Command::RequestClarification { on } => {
                next.clarification_requested = Some(*on);
                next.status = Status::AwaitingClarification;
            }
            Command::ClarificationReceived { on } => {
                next.clarification_received = Some(*on);
                // A fee asked for before the request was clear is asked again if need be.
                next.fee_notice = None;
                next.fee_paid = None;
                next.status = Status::InProgress;
            }
            Command::IssueFeeNotice { on } => {
                next.fee_notice = Some(*on);
                next.fee_paid = None;
                next.status = Status::AwaitingFee;
            }
            Command::FeePaid { on } => {
                if self.fee_notice.is_some_and(|n| *on < n) {
                    return Err(self.invalid("the fee cannot be paid before the fees notice"));
                }
                next.fee_paid = Some(*on);
                next.status = Status::InProgress;
            }
            Command::StartWork { .. } => next.status = Status::InProgress,
            Command::ExtendForPublicInterest { on, days, reason } => {
                if *days == 0 || *days > deadline::MAX_PIT_EXTENSION {
                    return Err(self.invalid(format!(
                        "a public interest extension is 1 to {} working days",
                        deadline::MAX_PIT_EXTENSION
                    )));
                }
                if reason.trim().is_empty() {
                    return Err(
                        self.invalid("a public interest extension needs its reason recorded")
                    );
                }
                if self.due.is_some_and(|d| *on > d) {
                    return Err(self.invalid(format!(
                        "the extension must be notified by the due date ({})",
                        self.due.map(|d| d.to_string()).unwrap_or_default()
                    )));
                }
                next.pit_extension = *days;
                next.pit_reason = Some(reason.trim().to_string());
                next.status = Status::Extended;
            }
            Command::Respond {
                on,
                outcome,
                exemptions,
            } => {
                if outcome.needs_exemptions() && exemptions.is_empty() {
                    return Err(self.invalid(format!(
                        "a {} response must cite its exemptions",
                        outcome.as_str()
                    )));
                }
                if !outcome.needs_exemptions()
                    && !exemptions.is_empty()
                    && *outcome != Outcome::CostLimit
                {
                    return Err(self.invalid(format!(
                        "a {} response cites no exemptions",
                        outcome.as_str()
                    )));
                }
                // Which one by its place in the list: the caller's words are not echoed.
                if let Some(n) = exemptions
                    .iter()
                    .position(|e| e.section.trim().is_empty() || e.reason.trim().is_empty())
                {
                    return Err(self.invalid(format!(
                        "exemption {} of {} needs its section and its reason",
                        n + 1,
                        exemptions.len()
                    )));
                }
                if matches!(
                    self.status,
                    Status::AwaitingClarification | Status::AwaitingFee
                ) && *outcome != Outcome::Withdrawn
                {
                    return Err(self.invalid(
                        "a request awaiting clarification or a fee can only be closed as withdrawn",
                    ));
                }
                next.responded = Some(*on);
                next.outcome = Some(*outcome);
                next.exemptions = exemptions.clone();
                next.status = Status::Responded;
            }
            Command::RequestReview { on } => {
                let responded = self.responded.unwrap_or(self.received);
                let deadline = deadline::review_request_deadline(cal, responded)
                    .map_err(|e| LifecycleError::Deadline(e.into(), self.reference.clone()))?;
                next.review_requested = Some(*on);
                // Late requests may still be accepted; it is recorded.
                next.review_late = *on > deadline;
                next.review_due = Some(
                    deadline::review_due(cal, *on, deadline::REVIEW_DAYS)
                        .map_err(|e| LifecycleError::Deadline(e, self.reference.clone()))?,
                );
                next.status = Status::ReviewRequested;
            }
            Command::ExtendReview { days, reason, .. } => {
                if *days <= deadline::REVIEW_DAYS || *days > deadline::MAX_REVIEW_DAYS {
                    return Err(self.invalid(format!(
                        "an internal review may take {} to {} working days in all",
                        deadline::REVIEW_DAYS + 1,
                        deadline::MAX_REVIEW_DAYS
                    )));
                }
                if reason.trim().is_empty() {
                    return Err(self.invalid("an extended review needs its reason recorded"));
                }
                let requested = self.review_requested.unwrap_or(self.received);
                next.review_due = Some(
                    deadline::review_due(cal, requested, *days)
                        .map_err(|e| LifecycleError::Deadline(e, self.reference.clone()))?,
                );
                next.review_extension_reason = Some(reason.trim().to_string());
            }
            Command::DecideReview { on, result } => {
                next.review_decided = Some(*on);
                next.review_result = Some(*result);
                next.status = Status::ReviewDecided;
            }
            Command::Close { on } => {
                next.closed = Some(*on);
                next.status = Status::Closed;
            }
            Command::NoteComplaint { on } => next.complaint_noted = Some(*on),
        }
        // The clock moves while the request awaits its response; after that the due date
        // stays as it was, to judge whether the answer was in time.
        if next.status.awaits_response() {
            next.recompute_due(cal)?;
        }
        Ok(next)
    }

    /// The date the request must next be acted on: the review's due date while a review
    /// is pending, the response's while one is awaited (`None` while the clock is paused
    /// or nothing is due).
    pub fn deadline(&self) -> Option<NaiveDate> {
        match self.status {
            Status::ReviewRequested => self.review_due,
            s if s.awaits_response() => self.due,
            _ => None,
        }
    }

    /// Whether it was (or will be) answered late: the response date, or `today` if none,
    /// is after the due date.
    pub fn overdue(&self, today: NaiveDate) -> bool {
        match (self.status.awaits_response(), self.due) {
            (true, Some(due)) => today > due,
            _ => false,
        }
    }

    /// Due within `days` working days from `today` (and not overdue).
    pub fn due_soon(&self, today: NaiveDate, days: u32, cal: &Calendar) -> bool {
        match (self.status.awaits_response(), self.due) {
            (true, Some(due)) if due >= today => cal
                .working_days_between(today, due)
                .is_ok_and(|n| n <= days),
            _ => false,
        }
    }

    /// Whether the response went out by the due date.
    pub fn answered_in_time(&self) -> Option<bool> {
        match (self.responded, self.due) {
            (Some(r), Some(d)) => Some(r <= d),
            _ => None,
        }
    }
}
