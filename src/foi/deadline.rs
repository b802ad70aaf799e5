//! The FOI statutory deadline (Freedom of Information Act 2000 s.10): the due date from the
//! day of receipt, a clarification that restarts it, a fees notice that pauses it, and a
//! public interest test extension; and the internal review's two deadlines.

use chrono::NaiveDate;

use crate::calendar::{Calendar, CalendarError};

/// Working days allowed for a response (s.10(1)).
pub const RESPONSE_DAYS: u32 = 20;
/// The most a public interest test may add (the regulator's guidance).
pub const MAX_PIT_EXTENSION: u32 = 20;
/// Working days the requester has to ask for an internal review.
pub const REVIEW_REQUEST_DAYS: u32 = 40;
/// Working days for an internal review, and the most with a recorded reason.
pub const REVIEW_DAYS: u32 = 20;
pub const MAX_REVIEW_DAYS: u32 = 40;

/// What moves the clock of one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClockInput {
    pub received: NaiveDate,
    /// The day the requester's clarification arrived: the 20 days run again from it.
    pub clarification_received: Option<NaiveDate>,
    /// A fees notice and the day the fee was paid: the working days from the notice to
    /// the payment, both included, do not count (s.10(2)).
    pub fee_notice: Option<NaiveDate>,
    pub fee_paid: Option<NaiveDate>,
    /// Working days added for a public interest test (at most 20).
    pub pit_extension: u32,
}

impl crate::failure::ErrorCode for DeadlineError {
    fn code(&self) -> crate::failure::Code {
        match self {
            DeadlineError::Calendar(e) => e.code(),
            DeadlineError::BeforeReceipt { .. } | DeadlineError::PaidBeforeNotice { .. } => {
                crate::failure::Code::DateOutOfRange
            }
            DeadlineError::Paused => crate::failure::Code::Conflict,
            DeadlineError::ExtensionTooLong(_) => crate::failure::Code::InvalidRequest,
        }
    }
}

/// Why a due date cannot be worked out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeadlineError {
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error("{what} ({date}) is before the request was received ({received})")]
    BeforeReceipt {
        what: &'static str,
        date: NaiveDate,
        received: NaiveDate,
    },
    #[error("the fee was paid ({paid}) before the fees notice was given ({notice})")]
    PaidBeforeNotice { notice: NaiveDate, paid: NaiveDate },
    #[error(
        "a fees notice without a payment date pauses the clock: there is no due date until the fee is paid"
    )]
    Paused,
    #[error("a public interest extension is at most {MAX_PIT_EXTENSION} working days, not {0}")]
    ExtensionTooLong(u32),
}

impl ClockInput {
    pub fn received(received: NaiveDate) -> ClockInput {
        ClockInput {
            received,
            ..ClockInput::default()
        }
    }
}

/// The statutory due date: the 20th working day after the day of receipt (or of the
/// clarification), not counting a fees notice's pause, plus any extension.
pub fn due_date(cal: &Calendar, input: &ClockInput) -> Result<NaiveDate, DeadlineError> {
    let start = match input.clarification_received {
        Some(c) if c < input.received => {
            return Err(DeadlineError::BeforeReceipt {
                what: "the clarification",
                date: c,
                received: input.received,
            });
        }
        Some(c) => c,
        None => input.received,
    };
    let pause = match (input.fee_notice, input.fee_paid) {
        (None, None) => None,
        (Some(_), None) => return Err(DeadlineError::Paused),
        (None, Some(paid)) => Some((paid, paid)),
        (Some(notice), Some(paid)) if paid < notice => {
            return Err(DeadlineError::PaidBeforeNotice { notice, paid });
        }
        (Some(notice), Some(paid)) => Some((notice, paid)),
    };
    if let Some((notice, _)) = pause
        && notice < input.received
    {
        return Err(DeadlineError::BeforeReceipt {
            what: "the fees notice",
            date: notice,
            received: input.received,
        });
    }
    if input.pit_extension > MAX_PIT_EXTENSION {
        return Err(DeadlineError::ExtensionTooLong(input.pit_extension));
    }
    let mut date = start;
    let mut counted = 0;
    while counted < RESPONSE_DAYS {
        date = crate::calendar::next_day(date, cal)?;
        let paused = pause.is_some_and(|(from, to)| from <= date && date <= to);
        if !paused && cal.is_working_day(date)? {
            counted += 1;
        }
    }
    Ok(cal.add_working_days(date, input.pit_extension)?)
}

/// The last day on which the requester may ask for an internal review.
pub fn review_request_deadline(
    cal: &Calendar,
    responded: NaiveDate,
) -> Result<NaiveDate, CalendarError> {
    cal.add_working_days(responded, REVIEW_REQUEST_DAYS)
}

/// When an internal review is due: 20 working days after it was asked for, or up to 40
/// when extended (with a reason, recorded by the lifecycle).
pub fn review_due(
    cal: &Calendar,
    requested: NaiveDate,
    days: u32,
) -> Result<NaiveDate, DeadlineError> {
    if days > MAX_REVIEW_DAYS {
        return Err(DeadlineError::ExtensionTooLong(days));
    }
    Ok(cal.add_working_days(requested, days.max(REVIEW_DAYS))?)
}
