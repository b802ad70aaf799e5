//! The deadlines of a clinical negligence claim, worked out from its events like the FOI
//! clock (`foi::deadline`): pure, with the rule behind each date, and overdue derived
//! from today, never stored.
//!
//! # The deadlines and how each is counted
//!
//! | id | from | period | rolls? | basis |
//! |---|---|---|---|---|
//! | `acknowledge_notification` | receipt of a Letter of Notification | 14 days | no | PAP para 3.13(a) |
//! | `acknowledge_claim` | receipt of the Letter of Claim | 14 days | no | PAP para 3.25 |
//! | `letter_of_response` | the Letter of Claim (its date if known, else its receipt) | 4 months | no | PAP para 3.26 |
//! | `health_records` | a request for copy health records | 40 days | no | PAP para 3.3 |
//! | `acknowledgment_of_service` | service of the particulars of claim | 14 days | yes | CPR 10.3(1) |
//! | `defence` | service of the particulars of claim | 14 days, 28 with an acknowledgment of service | yes | CPR 15.4(1) |
//! | `part36_relevant_period` | service of a Part 36 offer | 21 days or the longer period the offer names | no | CPR 36.5(1)(c), 36.7 |
//! | `limitation` | the incident, or a child's 18th birthday | 3 years | yes | Limitation Act 1980 s.11(4), s.28 |
//!
//! PAP is the Pre-Action Protocol for the Resolution of Clinical Disputes (the 2015
//! revision). Choices, rule by rule:
//!
//! - **Days are clear days.** The day of the event never counts (CPR 2.8(2), (3)); the
//!   protocol's "within 14 days of receipt" is read the same way, so 14 days from Monday
//!   3 March is Monday 17 March. No period here is of 5 days or less, so CPR 2.8(4)
//!   (weekends and bank holidays not counted in short periods) never applies.
//! - **Months are calendar months** (CPR 2.10 for court documents; the Interpretation Act
//!   1978 for statutes), counted to the corresponding date, or to the month's last day when
//!   it has none (Dodds v Walker \[1981\] 1 WLR 1027): 31 October + 4 months is 28 February
//!   (29 in a leap year). The same holds for years: 29 February 2024 + 3 years is
//!   28 February 2027.
//! - **Rolling.** CPR 2.8(5): a period for doing an act *at the court office* that ends on
//!   a day the office is closed ends on the next day it is open. That covers filing an
//!   acknowledgment of service and a defence. Issuing a claim form is also an act at the
//!   court office, and a limitation period that ends on a closed day runs to the next open
//!   day (Pritam Kaur v S Russell & Sons Ltd \[1973\] QB 336), so `limitation` rolls too.
//!   Protocol periods are not court rules and their steps are letters, not acts at the
//!   court office: they do not roll (a due date on a weekend or bank holiday stays, and the
//!   deadline's note says so). Accepting a Part 36 offer is done by serving notice on the
//!   offeror (CPR 36.11(2)), not at the court office: the relevant period does not roll.
//!   A rolled deadline keeps the closed day it would have ended on in `rolled_from`.
//! - **Which days the court office is open**: the Civil Procedure Rules are the rules of
//!   the courts of England and Wales, so [`court_calendar`] counts England and Wales's bank
//!   holidays only (a Scottish St Andrew's Day or a Northern Irish St Patrick's Day does
//!   not close an English court office). The calendar is a parameter: pass another one
//!   to count otherwise.
//! - **Service.** `particulars_served` and `Part36Offer::served` are the days of service as
//!   CPR Part 6 deems them (rules 6.14 and 6.26: for example the second business day after
//!   first class posting), not necessarily the day the post room received the document.
//!   Particulars served with the claim form are served when the claim form is (CPR
//!   10.3(1)(b) then counts from the claim form's service, the same day).
//! - **Acknowledgment of service** is met by an acknowledgment or by a defence, whichever
//!   comes first (a defendant who files a defence need not acknowledge, CPR 10.1(3)). Once
//!   an acknowledgment is recorded the defence is due 28 days after service, whenever the
//!   acknowledgment was filed (CPR 15.4(1)(b)).
//! - **Limitation** runs 3 years from the incident (the day the cause of action accrued,
//!   s.11(4)(a)); the day of the incident is not counted, so the last day is the
//!   anniversary. If the claimant was a child at the incident (`claimant_born` given), time
//!   runs from the 18th birthday instead (s.28(1), (6)), so to the 21st birthday. The note
//!   always asks to check the date of knowledge (s.14, which may start time later,
//!   s.11(4)(b)) and recalls the court's discretion (s.33). Lack of capacity (s.28, s.38)
//!   is not modelled: it stops time for as long as it lasts. `limitation` is met by
//!   `claim_issued`.
//! - **Health records.** The protocol's 40 days (para 3.3). A request made as a subject
//!   access request is due within one month under UK GDPR art. 12(3); the note says so.
//! - **Part 36.** The relevant period is at least 21 days (CPR 36.5(1)(c)); an offer that
//!   names a longer one is counted with it, a shorter one is refused. An offer made less
//!   than 21 days before trial (CPR 36.3(g)(ii)) is not modelled. An offer may be made
//!   before proceedings, even before a Letter of Claim (CPR 36.7(1)): that is not an error.
//!   The deadline is met when the offer is closed (accepted, rejected or withdrawn).
//!
//! # Extensions
//!
//! Any deadline may be extended by the parties' agreement ([`Extension`]): the protocol
//! periods by agreement, a court period by written agreement (CPR 2.11), the limitation
//! period by a standstill agreement. An extension names its deadline (and, for health
//! records or Part 36 offers, which one, by its `from` date), the new due date, the day it
//! was agreed and a reason, which is required. Extensions of one deadline are applied in
//! the order they were agreed; each must move the due date later, and none may be agreed
//! before the period began. The new due date is taken as agreed and not rolled. A defence
//! may be extended by agreement by at most 28 days (CPR 15.5(1)): to no later than the
//! period's end plus 28 days, moved to an open day; the note reminds that the court must
//! be told in writing (CPR 15.5(2)). More needs the court's order.
//!
//! # Input checks
//!
//! Events that do not apply give no deadline (no particulars served: no acknowledgment of
//! service or defence). Events in an impossible order are refused ([`ClaimsError`]): any
//! event before the incident, an incident before the claimant's birth, a reply before the
//! letter it answers (acknowledgments, the Letter of Response, records provided, an offer
//! closed), a Letter of Claim received before its date, an acknowledgment of service or a
//! defence before the particulars were served, particulars served before the claim was
//! issued. A particulars date without a Letter of Claim is allowed (a claimant may issue
//! without the protocol, for instance to stop time running).

use std::fmt;
use std::str::FromStr;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::calendar::{self, Calendar, CalendarError, Nation};

/// Days to acknowledge a Letter of Notification or a Letter of Claim (PAP 3.13(a), 3.25).
pub const ACKNOWLEDGE_DAYS: u64 = 14;
/// Months for the Letter of Response (PAP 3.26).
pub const RESPONSE_MONTHS: u32 = 4;
/// Days to provide copy health records (PAP 3.3).
pub const RECORDS_DAYS: u64 = 40;
/// Days after service of the particulars to acknowledge service (CPR 10.3(1)).
pub const SERVICE_ACKNOWLEDGMENT_DAYS: u64 = 14;
/// Days after service of the particulars for a defence (CPR 15.4(1)(a)).
pub const DEFENCE_DAYS: u64 = 14;
/// The same when an acknowledgment of service was filed (CPR 15.4(1)(b)).
pub const DEFENCE_DAYS_ACKNOWLEDGED: u64 = 28;
/// The most the parties may extend the defence period by agreement (CPR 15.5(1)).
pub const MAX_AGREED_DEFENCE_EXTENSION: u64 = 28;
/// The shortest relevant period of a Part 36 offer (CPR 36.5(1)(c)).
pub const PART36_MIN_DAYS: u32 = 21;
/// Years of the personal injury limitation period (Limitation Act 1980 s.11(4)).
pub const LIMITATION_YEARS: u32 = 3;
/// The age of majority (Family Law Reform Act 1969 s.1; Limitation Act 1980 s.38(2)).
pub const MAJORITY_YEARS: u32 = 18;

const PAP: &str = "Pre-Action Protocol for the Resolution of Clinical Disputes";

/// Which deadline: serialised as the stable snake_case ids of `postroom claims due`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    AcknowledgeNotification,
    AcknowledgeClaim,
    LetterOfResponse,
    HealthRecords,
    AcknowledgmentOfService,
    Defence,
    Part36RelevantPeriod,
    Limitation,
}

impl DeadlineKind {
    /// Every deadline, in the order of a claim's life.
    pub const ALL: [DeadlineKind; 8] = [
        DeadlineKind::AcknowledgeNotification,
        DeadlineKind::AcknowledgeClaim,
        DeadlineKind::LetterOfResponse,
        DeadlineKind::HealthRecords,
        DeadlineKind::AcknowledgmentOfService,
        DeadlineKind::Defence,
        DeadlineKind::Part36RelevantPeriod,
        DeadlineKind::Limitation,
    ];

    /// The stable id (`acknowledge_notification`, ...), as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineKind::AcknowledgeNotification => "acknowledge_notification",
            DeadlineKind::AcknowledgeClaim => "acknowledge_claim",
            DeadlineKind::LetterOfResponse => "letter_of_response",
            DeadlineKind::HealthRecords => "health_records",
            DeadlineKind::AcknowledgmentOfService => "acknowledgment_of_service",
            DeadlineKind::Defence => "defence",
            DeadlineKind::Part36RelevantPeriod => "part36_relevant_period",
            DeadlineKind::Limitation => "limitation",
        }
    }

    /// Whether a period ending on a day the court office is closed moves to the next day
    /// it is open (see the module's documentation).
    pub fn rolls(self) -> bool {
        matches!(
            self,
            DeadlineKind::AcknowledgmentOfService
                | DeadlineKind::Defence
                | DeadlineKind::Limitation
        )
    }
}

impl fmt::Display for DeadlineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A deadline id that is not one of [`DeadlineKind::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown deadline {0:?} (acknowledge_notification, acknowledge_claim, letter_of_response, health_records, acknowledgment_of_service, defence, part36_relevant_period, limitation)"
)]
pub struct UnknownDeadline(pub String);

impl crate::failure::ErrorCode for UnknownDeadline {
    fn code(&self) -> crate::failure::Code {
        crate::failure::Code::InvalidRequest
    }
}

impl FromStr for DeadlineKind {
    type Err = UnknownDeadline;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DeadlineKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or_else(|| UnknownDeadline(s.to_string()))
    }
}

/// A request for copy health records and, once sent, the day they were provided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordsRequest {
    pub requested: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provided: Option<NaiveDate>,
}

impl RecordsRequest {
    pub fn new(requested: NaiveDate) -> RecordsRequest {
        RecordsRequest {
            requested,
            provided: None,
        }
    }
}

/// A Part 36 offer: the day it was served (it is made when served, CPR 36.7(2)), a
/// relevant period longer than 21 days if it names one, and the day it was accepted,
/// rejected or withdrawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part36Offer {
    pub served: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relevant_period_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<NaiveDate>,
}

/// An extension agreed between the parties.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    pub deadline: DeadlineKind,
    /// Which deadline of that kind, by the date it runs from; needed only when several
    /// run (several records requests or Part 36 offers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<NaiveDate>,
    pub new_due: NaiveDate,
    pub reason: String,
    pub agreed_on: NaiveDate,
}

/// What has happened on a claim, as far as its deadlines go. Every field is optional
/// (`{}` is a claim with no events); an event that is absent starts no deadline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClaimEvents {
    /// The day of the incident (the cause of action's accrual).
    pub incident: Option<NaiveDate>,
    /// The claimant's date of birth: a child at the incident has until 21 (s.28).
    pub claimant_born: Option<NaiveDate>,
    pub notification_received: Option<NaiveDate>,
    pub notification_acknowledged: Option<NaiveDate>,
    /// The date the Letter of Claim bears; the Letter of Response counts from it.
    pub claim_letter_dated: Option<NaiveDate>,
    pub claim_letter_received: Option<NaiveDate>,
    pub claim_acknowledged: Option<NaiveDate>,
    pub response_sent: Option<NaiveDate>,
    pub records_requests: Vec<RecordsRequest>,
    /// The day the claim form was issued: meets the limitation deadline.
    pub claim_issued: Option<NaiveDate>,
    /// The day the particulars of claim were served (as CPR Part 6 deems it).
    pub particulars_served: Option<NaiveDate>,
    pub acknowledgment_filed: Option<NaiveDate>,
    pub defence_filed: Option<NaiveDate>,
    pub part36_offers: Vec<Part36Offer>,
    pub extensions: Vec<Extension>,
}

/// Where a deadline stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Due,
    Overdue,
    Met,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Due => "due",
            Status::Overdue => "overdue",
            Status::Met => "met",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One deadline of a claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    pub deadline: DeadlineKind,
    /// The day the period runs from (the event; for a child's limitation, the 18th
    /// birthday). With `deadline`, it names the deadline among several of one kind.
    pub from: NaiveDate,
    /// The last day to act: by the rule, or as last extended.
    pub due: NaiveDate,
    /// The due date by the rule alone, before any extension (after any roll).
    pub rule_due: NaiveDate,
    /// The closed day the period ended on, when it rolled to the next open day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolled_from: Option<NaiveDate>,
    /// The statute or rule in words, with its paragraph or section.
    pub basis: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The extensions applied, in the order they were agreed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<Extension>,
    /// The day it was met (the acknowledgment sent, the defence filed, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub met: Option<NaiveDate>,
}

impl Deadline {
    /// Met if it was met (on time or not), else overdue after its due date, else due.
    pub fn status(&self, today: NaiveDate) -> Status {
        if self.met.is_some() {
            Status::Met
        } else if today > self.due {
            Status::Overdue
        } else {
            Status::Due
        }
    }

    /// Days from `today` to the due date: 0 on the day, negative once overdue.
    pub fn days_left(&self, today: NaiveDate) -> i64 {
        (self.due - today).num_days()
    }

    /// Whether it is unmet and due within `days` of `today` (overdue ones included): what
    /// `postroom claims due --within N` lists.
    pub fn needs_attention(&self, today: NaiveDate, days: u32) -> bool {
        self.met.is_none() && self.days_left(today) <= i64::from(days)
    }

    /// Whether it was met after its due date.
    pub fn met_late(&self) -> bool {
        self.met.is_some_and(|met| met > self.due)
    }
}

/// Why a claim's deadlines cannot be worked out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimsError {
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error("{what} ({date}) is before {earlier} ({earlier_date})")]
    OutOfOrder {
        what: &'static str,
        date: NaiveDate,
        earlier: &'static str,
        earlier_date: NaiveDate,
    },
    #[error(
        "a Part 36 offer's relevant period is at least {PART36_MIN_DAYS} days (CPR 36.5(1)(c)), not {0}"
    )]
    RelevantPeriodTooShort(u32),
    #[error(
        "the extension of {deadline} agreed on {agreed_on} gives no reason; an agreed extension is recorded with its reason"
    )]
    ExtensionWithoutReason {
        deadline: DeadlineKind,
        agreed_on: NaiveDate,
    },
    #[error("the extension of {deadline} to {new_due} does not move it later than {current_due}")]
    ExtensionNotLater {
        deadline: DeadlineKind,
        new_due: NaiveDate,
        current_due: NaiveDate,
    },
    #[error(
        "the extension of {deadline} was agreed on {agreed_on}, before the period began ({from})"
    )]
    ExtensionBeforeStart {
        deadline: DeadlineKind,
        agreed_on: NaiveDate,
        from: NaiveDate,
    },
    #[error("there is no {deadline} deadline{} to extend", from.map(|f| format!(" running from {f}")).unwrap_or_default())]
    NothingToExtend {
        deadline: DeadlineKind,
        from: Option<NaiveDate>,
    },
    #[error(
        "{count} {deadline} deadlines run; the extension must say which by the date it runs from"
    )]
    AmbiguousExtension {
        deadline: DeadlineKind,
        count: usize,
    },
    #[error(
        "the parties may agree at most {MAX_AGREED_DEFENCE_EXTENSION} more days for a defence (CPR 15.5(1)): {new_due} is after {latest}; a later date needs the court's order"
    )]
    DefenceExtensionTooLong {
        new_due: NaiveDate,
        latest: NaiveDate,
    },
    #[error("a period from {0} ends past the last date that can be written")]
    DateOverflow(NaiveDate),
}

impl ClaimsError {
    /// A stable snake_case id for this kind of error, finer than its `Code`.
    pub fn id(&self) -> &'static str {
        match self {
            ClaimsError::Calendar(_) => "calendar",
            ClaimsError::OutOfOrder { .. } => "event_out_of_order",
            ClaimsError::RelevantPeriodTooShort(_) => "relevant_period_too_short",
            ClaimsError::ExtensionWithoutReason { .. } => "extension_without_reason",
            ClaimsError::ExtensionNotLater { .. } => "extension_not_later",
            ClaimsError::ExtensionBeforeStart { .. } => "extension_before_start",
            ClaimsError::NothingToExtend { .. } => "nothing_to_extend",
            ClaimsError::AmbiguousExtension { .. } => "ambiguous_extension",
            ClaimsError::DefenceExtensionTooLong { .. } => "defence_extension_too_long",
            ClaimsError::DateOverflow(_) => "date_overflow",
        }
    }
}

impl crate::failure::ErrorCode for ClaimsError {
    fn code(&self) -> crate::failure::Code {
        use crate::failure::Code;
        match self {
            ClaimsError::Calendar(e) => e.code(),
            ClaimsError::OutOfOrder { .. }
            | ClaimsError::ExtensionBeforeStart { .. }
            | ClaimsError::DateOverflow(_) => Code::DateOutOfRange,
            ClaimsError::RelevantPeriodTooShort(_)
            | ClaimsError::ExtensionWithoutReason { .. }
            | ClaimsError::ExtensionNotLater { .. }
            | ClaimsError::AmbiguousExtension { .. }
            | ClaimsError::DefenceExtensionTooLong { .. } => Code::InvalidRequest,
            ClaimsError::NothingToExtend { .. } => Code::NotApplicable,
        }
    }
}

/// The days the court office is open: the embedded holiday table, counting England and
/// Wales's bank holidays (the CPR are the rules of the courts of England and Wales).
pub fn court_calendar() -> &'static Calendar {
    static CAL: std::sync::OnceLock<Calendar> = std::sync::OnceLock::new();
    CAL.get_or_init(|| Calendar::embedded().with_nations(&[Nation::EnglandAndWales]))
}

/// Every deadline the claim's events start, sorted by due date (then id, then start),
/// with extensions applied. `cal` says which days the court office is open (see
/// [`court_calendar`]).
pub fn deadlines(cal: &Calendar, events: &ClaimEvents) -> Result<Vec<Deadline>, ClaimsError> {
    check_order(events)?;
    let mut list = Vec::new();
    let mut defence_latest = None;

    if let Some(received) = events.notification_received {
        list.push(protocol(
            cal,
            DeadlineKind::AcknowledgeNotification,
            received,
            calendar_days(received, ACKNOWLEDGE_DAYS)?,
            format!(
                "{PAP}, para 3.13(a): acknowledge a Letter of Notification within 14 days of receipt"
            ),
            None,
            events.notification_acknowledged,
        )?);
    }
    if let Some(received) = events.claim_letter_received {
        list.push(protocol(
            cal,
            DeadlineKind::AcknowledgeClaim,
            received,
            calendar_days(received, ACKNOWLEDGE_DAYS)?,
            format!("{PAP}, para 3.25: acknowledge the Letter of Claim within 14 days of receipt"),
            None,
            events.claim_acknowledged,
        )?);
    }
    if let Some(letter) = events.claim_letter_dated.or(events.claim_letter_received) {
        list.push(protocol(
            cal,
            DeadlineKind::LetterOfResponse,
            letter,
            months(letter, RESPONSE_MONTHS)?,
            format!(
                "{PAP}, para 3.26: a reasoned Letter of Response within four months of the Letter of Claim"
            ),
            None,
            events.response_sent,
        )?);
    }
    for request in &events.records_requests {
        list.push(protocol(
            cal,
            DeadlineKind::HealthRecords,
            request.requested,
            calendar_days(request.requested, RECORDS_DAYS)?,
            format!("{PAP}, para 3.3: copy health records within 40 days of the request"),
            Some(
                "A request made as a subject access request is due within one month of receipt (UK GDPR art. 12(3)).",
            ),
            request.provided,
        )?);
    }
    if let Some(served) = events.particulars_served {
        let (due, rolled_from) = roll(cal, calendar_days(served, SERVICE_ACKNOWLEDGMENT_DAYS)?)?;
        let met = match (events.acknowledgment_filed, events.defence_filed) {
            (Some(a), Some(d)) => Some(a.min(d)),
            (a, d) => a.or(d),
        };
        list.push(Deadline {
            deadline: DeadlineKind::AcknowledgmentOfService,
            from: served,
            due,
            rule_due: due,
            rolled_from,
            basis: "CPR 10.3(1): file an acknowledgment of service 14 days after service of the particulars of claim (or a defence within that time, CPR 10.1(3))".into(),
            note: rolled_note(rolled_from, None),
            extensions: Vec::new(),
            met,
        });

        let (days, basis) = if events.acknowledgment_filed.is_some() {
            (
                DEFENCE_DAYS_ACKNOWLEDGED,
                "CPR 15.4(1)(b): file a defence 28 days after service of the particulars of claim, an acknowledgment of service having been filed",
            )
        } else {
            (
                DEFENCE_DAYS,
                "CPR 15.4(1)(a): file a defence 14 days after service of the particulars of claim (28 days if an acknowledgment of service is filed, CPR 15.4(1)(b))",
            )
        };
        let end = calendar_days(served, days)?;
        let (due, rolled_from) = roll(cal, end)?;
        defence_latest = Some(roll(cal, calendar_days(end, MAX_AGREED_DEFENCE_EXTENSION)?)?.0);
        list.push(Deadline {
            deadline: DeadlineKind::Defence,
            from: served,
            due,
            rule_due: due,
            rolled_from,
            basis: basis.into(),
            note: rolled_note(rolled_from, None),
            extensions: Vec::new(),
            met: events.defence_filed,
        });
    }
    for offer in &events.part36_offers {
        let days = match offer.relevant_period_days {
            Some(days) if days < PART36_MIN_DAYS => {
                return Err(ClaimsError::RelevantPeriodTooShort(days));
            }
            Some(days) => days,
            None => PART36_MIN_DAYS,
        };
        let basis = if days == PART36_MIN_DAYS {
            "CPR 36.5(1)(c): the relevant period of 21 days from service of the offer (CPR 36.3(g), 36.7(2))".to_string()
        } else {
            format!(
                "CPR 36.5(1)(c): the relevant period of {days} days (at least 21) the offer names, from its service (CPR 36.3(g), 36.7(2))"
            )
        };
        list.push(protocol(
            cal,
            DeadlineKind::Part36RelevantPeriod,
            offer.served,
            calendar_days(offer.served, u64::from(days))?,
            basis,
            None,
            offer.closed,
        )?);
    }
    if let Some(incident) = events.incident {
        let majority = match events.claimant_born {
            Some(born) => Some(months(born, MAJORITY_YEARS * 12)?),
            None => None,
        };
        let (from, basis, child) = match majority {
            Some(eighteen) if incident < eighteen => (
                eighteen,
                "Limitation Act 1980 s.28(1) and (6): three years from the claimant's 18th birthday (a child at the incident; s.11(4))",
                "The claimant was a child at the incident, so time runs from the 18th birthday (s.28). ",
            ),
            _ => (
                incident,
                "Limitation Act 1980 s.11(4): three years from the incident (the cause of action's accrual)",
                "",
            ),
        };
        let (due, rolled_from) = roll(cal, months(from, LIMITATION_YEARS * 12)?)?;
        let note = format!(
            "{child}Time runs from the date of knowledge if later: check the date of knowledge (s.14, s.11(4)(b)). The court may disapply the limit (s.33); lack of capacity stops time (s.28)."
        );
        list.push(Deadline {
            deadline: DeadlineKind::Limitation,
            from,
            due,
            rule_due: due,
            rolled_from,
            basis: basis.into(),
            note: rolled_note(rolled_from, Some(note)),
            extensions: Vec::new(),
            met: events.claim_issued,
        });
    }

    apply_extensions(&mut list, &events.extensions, defence_latest)?;
    list.sort_by_key(|x| (x.due, x.deadline, x.from));
    Ok(list)
}

/// A protocol (or Part 36) deadline: no roll; a note when it falls on a closed day.
fn protocol(
    cal: &Calendar,
    deadline: DeadlineKind,
    from: NaiveDate,
    due: NaiveDate,
    basis: String,
    note: Option<&str>,
    met: Option<NaiveDate>,
) -> Result<Deadline, ClaimsError> {
    let closed = (!cal.is_working_day(due)?).then_some(
        "It falls on a weekend or bank holiday: this period does not move to the next working day.",
    );
    let note = match (note, closed) {
        (Some(a), Some(b)) => Some(format!("{a} {b}")),
        (a, b) => a.or(b).map(str::to_string),
    };
    Ok(Deadline {
        deadline,
        from,
        due,
        rule_due: due,
        rolled_from: None,
        basis,
        note,
        extensions: Vec::new(),
        met,
    })
}

fn rolled_note(rolled_from: Option<NaiveDate>, note: Option<String>) -> Option<String> {
    let rolled = rolled_from.map(|closed| {
        format!(
            "The period ends on {}, when the court office is closed, so on the next day it is open (CPR 2.8(5)).",
            calendar::uk_date(closed)
        )
    });
    match (note, rolled) {
        (Some(a), Some(b)) => Some(format!("{a} {b}")),
        (a, b) => a.or(b),
    }
}

/// `n` clear days after `from` (CPR 2.8(2), (3)): the day of the event does not count.
fn calendar_days(from: NaiveDate, n: u64) -> Result<NaiveDate, ClaimsError> {
    from.checked_add_days(Days::new(n))
        .ok_or(ClaimsError::DateOverflow(from))
}

/// Calendar months to the corresponding date, or the month's last day (CPR 2.10).
fn months(from: NaiveDate, n: u32) -> Result<NaiveDate, ClaimsError> {
    calendar::add_months(from, n).ok_or(ClaimsError::DateOverflow(from))
}

/// The day itself if the court office is open, else the next day it is, with the closed
/// day the period ended on (CPR 2.8(5)).
fn roll(cal: &Calendar, end: NaiveDate) -> Result<(NaiveDate, Option<NaiveDate>), ClaimsError> {
    let mut date = end;
    while !cal.is_working_day(date)? {
        date = calendar::next_day(date, cal)?;
    }
    Ok((date, (date != end).then_some(end)))
}

fn apply_extensions(
    list: &mut [Deadline],
    extensions: &[Extension],
    defence_latest: Option<NaiveDate>,
) -> Result<(), ClaimsError> {
    let mut ordered: Vec<&Extension> = extensions.iter().collect();
    ordered.sort_by_key(|e| (e.agreed_on, e.new_due));
    for ext in ordered {
        if ext.reason.trim().is_empty() {
            return Err(ClaimsError::ExtensionWithoutReason {
                deadline: ext.deadline,
                agreed_on: ext.agreed_on,
            });
        }
        let mut matching = list
            .iter_mut()
            .filter(|x| x.deadline == ext.deadline && ext.from.is_none_or(|f| f == x.from));
        let (Some(target), rest) = (matching.next(), matching.count()) else {
            return Err(ClaimsError::NothingToExtend {
                deadline: ext.deadline,
                from: ext.from,
            });
        };
        if rest > 0 {
            return Err(ClaimsError::AmbiguousExtension {
                deadline: ext.deadline,
                count: rest + 1,
            });
        }
        if ext.agreed_on < target.from {
            return Err(ClaimsError::ExtensionBeforeStart {
                deadline: ext.deadline,
                agreed_on: ext.agreed_on,
                from: target.from,
            });
        }
        if ext.new_due <= target.due {
            return Err(ClaimsError::ExtensionNotLater {
                deadline: ext.deadline,
                new_due: ext.new_due,
                current_due: target.due,
            });
        }
        if ext.deadline == DeadlineKind::Defence {
            if let Some(latest) = defence_latest
                && ext.new_due > latest
            {
                return Err(ClaimsError::DefenceExtensionTooLong {
                    new_due: ext.new_due,
                    latest,
                });
            }
            if target.extensions.is_empty() {
                let tell =
                    "The court must be told in writing of an agreed extension (CPR 15.5(2)).";
                target.note = Some(match target.note.take() {
                    Some(n) => format!("{n} {tell}"),
                    None => tell.to_string(),
                });
            }
        }
        target.due = ext.new_due;
        target.extensions.push(ext.clone());
    }
    Ok(())
}

/// Refuses events in an order that cannot be (see the module's documentation).
fn check_order(e: &ClaimEvents) -> Result<(), ClaimsError> {
    let after = |what: &'static str,
                 date: Option<NaiveDate>,
                 earlier: &'static str,
                 earlier_date: Option<NaiveDate>|
     -> Result<(), ClaimsError> {
        match (date, earlier_date) {
            (Some(date), Some(earlier_date)) if date < earlier_date => {
                Err(ClaimsError::OutOfOrder {
                    what,
                    date,
                    earlier,
                    earlier_date,
                })
            }
            _ => Ok(()),
        }
    };
    after(
        "the incident",
        e.incident,
        "the claimant's birth",
        e.claimant_born,
    )?;
    let incident = |what, date| after(what, date, "the incident", e.incident);
    incident("the Letter of Notification", e.notification_received)?;
    incident("the Letter of Claim", e.claim_letter_dated)?;
    incident("the Letter of Claim", e.claim_letter_received)?;
    incident("the claim form's issue", e.claim_issued)?;
    incident("service of the particulars of claim", e.particulars_served)?;
    for r in &e.records_requests {
        incident("the request for health records", Some(r.requested))?;
        after(
            "the health records provided",
            r.provided,
            "their request",
            Some(r.requested),
        )?;
    }
    for o in &e.part36_offers {
        incident("the Part 36 offer", Some(o.served))?;
        after(
            "the Part 36 offer's closing",
            o.closed,
            "its service",
            Some(o.served),
        )?;
    }
    after(
        "the Letter of Notification's acknowledgment",
        e.notification_acknowledged,
        "its receipt",
        e.notification_received,
    )?;
    after(
        "the Letter of Claim's receipt",
        e.claim_letter_received,
        "its date",
        e.claim_letter_dated,
    )?;
    after(
        "the Letter of Claim's acknowledgment",
        e.claim_acknowledged,
        "its receipt",
        e.claim_letter_received,
    )?;
    after(
        "the Letter of Response",
        e.response_sent,
        "the Letter of Claim",
        e.claim_letter_dated.or(e.claim_letter_received),
    )?;
    after(
        "service of the particulars of claim",
        e.particulars_served,
        "the claim form's issue",
        e.claim_issued,
    )?;
    after(
        "the acknowledgment of service",
        e.acknowledgment_filed,
        "service of the particulars of claim",
        e.particulars_served,
    )?;
    after(
        "the defence",
        e.defence_filed,
        "service of the particulars of claim",
        e.particulars_served,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn clear_days_and_calendar_months() {
        assert_eq!(calendar_days(d("2025-03-03"), 14), Ok(d("2025-03-17")));
        assert_eq!(months(d("2025-10-31"), 4), Ok(d("2026-02-28")));
        assert_eq!(months(d("2027-10-31"), 4), Ok(d("2028-02-29")));
        assert_eq!(months(d("2024-02-29"), 36), Ok(d("2027-02-28")));
        assert_eq!(
            calendar_days(NaiveDate::MAX, 1),
            Err(ClaimsError::DateOverflow(NaiveDate::MAX))
        );
    }

    #[test]
    fn rolls_only_off_closed_days_of_the_court_office() {
        let cal = court_calendar();
        // Good Friday 2025 → Tuesday after Easter Monday.
        assert_eq!(
            roll(cal, d("2025-04-18")),
            Ok((d("2025-04-22"), Some(d("2025-04-18"))))
        );
        assert_eq!(roll(cal, d("2025-04-17")), Ok((d("2025-04-17"), None)));
        // St Andrew's Day 2026 (Monday) closes Scottish offices, not English ones.
        assert_eq!(roll(cal, d("2026-11-30")), Ok((d("2026-11-30"), None)));
        let everywhere = Calendar::embedded();
        assert_eq!(
            roll(everywhere, d("2026-11-30")),
            Ok((d("2026-12-01"), Some(d("2026-11-30"))))
        );
    }

    #[test]
    fn which_deadlines_roll() {
        let rolling: Vec<_> = DeadlineKind::ALL
            .into_iter()
            .filter(|k| k.rolls())
            .collect();
        assert_eq!(
            rolling,
            [
                DeadlineKind::AcknowledgmentOfService,
                DeadlineKind::Defence,
                DeadlineKind::Limitation
            ]
        );
    }

    #[test]
    fn a_protocol_deadline_on_a_closed_day_says_it_does_not_move() {
        let events = ClaimEvents {
            notification_received: Some(d("2025-12-11")),
            ..ClaimEvents::default()
        };
        let list = deadlines(court_calendar(), &events).unwrap();
        assert_eq!(list[0].due, d("2025-12-25"));
        assert!(list[0].note.as_deref().unwrap().contains("does not move"));
        assert_eq!(list[0].rolled_from, None);
    }

    #[test]
    fn a_rolled_deadline_explains_the_roll() {
        let events = ClaimEvents {
            particulars_served: Some(d("2025-04-04")),
            ..ClaimEvents::default()
        };
        let list = deadlines(court_calendar(), &events).unwrap();
        let aos = &list[0];
        assert_eq!(aos.deadline, DeadlineKind::AcknowledgmentOfService);
        assert_eq!(aos.rolled_from, Some(d("2025-04-18")));
        assert!(aos.note.as_deref().unwrap().contains("18 April 2025"));
    }
}
