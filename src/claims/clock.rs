//! A claim's deadlines kept on the claim (issue 18): worked out from what the claim's
//! record shows (the documents filed under it and the acknowledgements sent for it) and
//! what a handler recorded by hand (an acknowledgment of service filed, a defence, a
//! records request, an extension agreed with its reason), stored with the claim and
//! indexed by due date, and recomputed whenever one of those changes. Overdue is worked
//! out from today when read, never stored. Recomputing is idempotent, so any event that
//! reaches a claim twice, or a rerun after a crash, leaves the same deadlines.

use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::deadlines::{
    ClaimEvents, ClaimsError, Deadline, DeadlineKind, Extension, Part36Offer, RecordsRequest,
    court_calendar, deadlines,
};
use crate::calendar::{parse_date, uk_local_date};
use crate::clock::Clock;
use crate::failure::{Code, ErrorCode};
use crate::model::{CaseKind, keys};
use crate::store::{Condition, Item, Key, Query, StoreError, Table, TxOp};

/// Why a claim's clock could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum ClockError {
    #[error("{0} is not a claim")]
    NotAClaim(String),
    #[error("there is no case {0}")]
    NoCase(String),
    #[error(transparent)]
    Rules(#[from] ClaimsError),
    #[error("{0}")]
    Invalid(String),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

impl ErrorCode for ClockError {
    fn code(&self) -> Code {
        match self {
            ClockError::NotAClaim(_) => Code::NotApplicable,
            ClockError::NoCase(_) => Code::CaseNotFound,
            ClockError::Rules(e) => e.code(),
            ClockError::Invalid(_) => Code::InvalidRequest,
            ClockError::Store(e) => e.code(),
        }
    }
}

/// Something a handler records on a claim by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ManualEvent {
    NotificationAcknowledged {
        on: NaiveDate,
    },
    ClaimAcknowledged {
        on: NaiveDate,
    },
    ResponseSent {
        on: NaiveDate,
    },
    RecordsRequested {
        on: NaiveDate,
    },
    RecordsProvided {
        requested: NaiveDate,
        on: NaiveDate,
    },
    ClaimIssued {
        on: NaiveDate,
    },
    ParticularsServed {
        on: NaiveDate,
    },
    AcknowledgmentFiled {
        on: NaiveDate,
    },
    DefenceFiled {
        on: NaiveDate,
    },
    Part36Offer {
        served: NaiveDate,
        relevant_period_days: Option<u32>,
    },
    Part36Closed {
        served: NaiveDate,
        on: NaiveDate,
    },
    Incident {
        on: NaiveDate,
    },
    ClaimantBorn {
        on: NaiveDate,
    },
}

impl ManualEvent {
    /// The names the CLI and the console accept, with what each records.
    pub const NAMES: [(&'static str, &'static str); 12] = [
        (
            "notification_acknowledged",
            "a letter of notification acknowledged",
        ),
        ("claim_acknowledged", "a letter of claim acknowledged"),
        ("response_sent", "the letter of response sent"),
        ("records_requested", "health records requested"),
        ("claim_issued", "the claim form issued"),
        (
            "particulars_served",
            "the particulars of claim served (the deemed date)",
        ),
        ("acknowledgment_filed", "an acknowledgment of service filed"),
        ("defence_filed", "the defence filed"),
        ("part36_offer", "a Part 36 offer served (the deemed date)"),
        ("incident", "the date of the incident"),
        ("claimant_born", "the claimant's date of birth"),
        (
            "records_provided",
            "health records provided (for the request of --requested)",
        ),
    ];

    /// The event `name` on `on` (`requested` names the records request it closes).
    pub fn named(
        name: &str,
        on: NaiveDate,
        requested: Option<NaiveDate>,
    ) -> Result<ManualEvent, ClockError> {
        Ok(match name {
            "notification_acknowledged" => ManualEvent::NotificationAcknowledged { on },
            "claim_acknowledged" => ManualEvent::ClaimAcknowledged { on },
            "response_sent" => ManualEvent::ResponseSent { on },
            "records_requested" => ManualEvent::RecordsRequested { on },
            "records_provided" => ManualEvent::RecordsProvided {
                requested: requested.ok_or_else(|| {
                    ClockError::Invalid(
                        "records_provided needs the date they were requested".into(),
                    )
                })?,
                on,
            },
            "claim_issued" => ManualEvent::ClaimIssued { on },
            "particulars_served" => ManualEvent::ParticularsServed { on },
            "acknowledgment_filed" => ManualEvent::AcknowledgmentFiled { on },
            "defence_filed" => ManualEvent::DefenceFiled { on },
            "part36_offer" => ManualEvent::Part36Offer {
                served: on,
                relevant_period_days: None,
            },
            "incident" => ManualEvent::Incident { on },
            "claimant_born" => ManualEvent::ClaimantBorn { on },
            other => {
                return Err(ClockError::Invalid(format!(
                    "no event {other:?}: one of {}",
                    Self::NAMES.map(|(n, _)| n).join(", ")
                )));
            }
        })
    }

    /// Adds this event to `events` (a date recorded again is not repeated).
    fn apply(&self, e: &mut ClaimEvents) {
        fn set(slot: &mut Option<NaiveDate>, on: NaiveDate) {
            *slot = Some(on);
        }
        match *self {
            ManualEvent::NotificationAcknowledged { on } => {
                set(&mut e.notification_acknowledged, on)
            }
            ManualEvent::ClaimAcknowledged { on } => set(&mut e.claim_acknowledged, on),
            ManualEvent::ResponseSent { on } => set(&mut e.response_sent, on),
            ManualEvent::RecordsRequested { on } => {
                if !e.records_requests.iter().any(|r| r.requested == on) {
                    e.records_requests.push(RecordsRequest::new(on));
                }
            }
            ManualEvent::RecordsProvided { requested, on } => {
                match e
                    .records_requests
                    .iter_mut()
                    .find(|r| r.requested == requested)
                {
                    Some(r) => r.provided = Some(on),
                    None => {
                        let mut r = RecordsRequest::new(requested);
                        r.provided = Some(on);
                        e.records_requests.push(r);
                    }
                }
            }
            ManualEvent::ClaimIssued { on } => set(&mut e.claim_issued, on),
            ManualEvent::ParticularsServed { on } => set(&mut e.particulars_served, on),
            ManualEvent::AcknowledgmentFiled { on } => set(&mut e.acknowledgment_filed, on),
            ManualEvent::DefenceFiled { on } => set(&mut e.defence_filed, on),
            ManualEvent::Part36Offer {
                served,
                relevant_period_days,
            } => match e.part36_offers.iter_mut().find(|o| o.served == served) {
                Some(o) => o.relevant_period_days = relevant_period_days,
                None => e.part36_offers.push(Part36Offer {
                    served,
                    relevant_period_days,
                    closed: None,
                }),
            },
            ManualEvent::Part36Closed { served, on } => {
                if let Some(o) = e.part36_offers.iter_mut().find(|o| o.served == served) {
                    o.closed = Some(on);
                }
            }
            ManualEvent::Incident { on } => set(&mut e.incident, on),
            ManualEvent::ClaimantBorn { on } => set(&mut e.claimant_born, on),
        }
    }
}

/// What is stored by hand on a claim's clock: events and extensions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    #[serde(default)]
    pub events: Vec<ManualEvent>,
    #[serde(default)]
    pub extensions: Vec<Extension>,
}

/// One claim deadline in a list across claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DueDeadline {
    pub case_ref: String,
    pub deadline: DeadlineKind,
    pub due: NaiveDate,
    pub basis: String,
    pub note: Option<String>,
    /// `due` or `overdue` (derived from today).
    pub status: &'static str,
}

/// A claim's deadlines with what they were worked out from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimClock {
    pub events: ClaimEvents,
    pub deadlines: Vec<Deadline>,
    pub recorded: Recorded,
}

/// One reminder recorded by the daily sweep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimReminder {
    pub case_ref: String,
    pub deadline: DeadlineKind,
    pub due: NaiveDate,
    /// `due_soon` or `overdue`.
    pub kind: &'static str,
    /// False when the same reminder was recorded earlier the same day.
    pub new: bool,
}

/// Claims' clocks over the stores.
#[derive(Debug, Clone)]
pub struct ClaimClocks {
    table: Arc<dyn Table>,
    clock: Arc<dyn Clock>,
    actor: String,
}

fn date_of(item: &Item, name: &str) -> Option<NaiveDate> {
    let text = item.get(name).and_then(Value::as_str)?;
    parse_date(text).or_else(|| {
        // A timestamp (`received`): its day in the UK.
        chrono::DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| uk_local_date(t.to_utc()))
    })
}

/// The earlier of two optional dates.
fn earliest(a: Option<NaiveDate>, b: Option<NaiveDate>) -> Option<NaiveDate> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl ClaimClocks {
    pub fn new(
        table: Arc<dyn Table>,
        clock: Arc<dyn Clock>,
        actor: impl Into<String>,
    ) -> ClaimClocks {
        ClaimClocks {
            table,
            clock,
            actor: actor.into(),
        }
    }

    /// As another person (the console's signed-in person).
    pub fn acting_as(&self, who: &str) -> ClaimClocks {
        ClaimClocks {
            actor: who.to_owned(),
            ..self.clone()
        }
    }

    /// Today, in the UK.
    pub fn today(&self) -> NaiveDate {
        uk_local_date(self.clock.now())
    }

    async fn all(&self, query: Query) -> Result<Vec<Item>, StoreError> {
        let mut query = query;
        let mut items = Vec::new();
        loop {
            let page = self.table.query(&query).await?;
            items.extend(page.items);
            match page.next {
                Some(next) => query.cursor = Some(next),
                None => return Ok(items),
            }
        }
    }

    /// What the claim's record shows: its documents (a letter of notification or of
    /// claim received, particulars served, the incident and claimant's birth from the
    /// case and its letter of claim) and the acknowledgements sent for it.
    async fn events_of_record(
        &self,
        case_ref: &str,
        case: &Item,
    ) -> Result<ClaimEvents, StoreError> {
        let mut e = ClaimEvents {
            incident: date_of(case, "incident_date"),
            claimant_born: date_of(case, "date_of_birth"),
            ..ClaimEvents::default()
        };
        let docs = self
            .all(Query::new(keys::case(case_ref)).prefix(keys::DOC_PREFIX))
            .await?;
        for entry in docs {
            let kind = entry.get("doc_type").and_then(Value::as_str).unwrap_or("");
            if !matches!(
                kind,
                "letter_of_notification"
                    | "letter_of_claim"
                    | "particulars_of_claim"
                    | "claim_form"
            ) {
                continue;
            }
            let Some(doc_id) = entry.get("doc_id").and_then(Value::as_str) else {
                continue;
            };
            let Some(doc) = self
                .table
                .get(&Key::new(keys::doc(doc_id), keys::META))
                .await?
            else {
                continue;
            };
            let received = date_of(&doc, "received");
            let dated = date_of(&doc, "document_date");
            match kind {
                "letter_of_notification" => {
                    e.notification_received = earliest(e.notification_received, received)
                }
                "letter_of_claim" => {
                    e.claim_letter_received = earliest(e.claim_letter_received, received);
                    e.claim_letter_dated = earliest(e.claim_letter_dated, dated);
                    let incident = doc
                        .get("metadata")
                        .and_then(|m| m.get("incident_date"))
                        .and_then(Value::as_str)
                        .and_then(parse_date);
                    e.incident = e.incident.or(incident);
                }
                // Served with the claim form or after it: the day it reached us stands
                // for the deemed day of service until a handler records that.
                "particulars_of_claim" => {
                    e.particulars_served = earliest(e.particulars_served, received)
                }
                "claim_form" => e.claim_issued = earliest(e.claim_issued, dated),
                _ => {}
            }
        }
        // Acknowledgements sent for the claim (letters made and stored).
        let letters = self
            .all(Query::new(keys::case(case_ref)).prefix(keys::LETTER_PREFIX))
            .await?;
        for letter in letters {
            if letter.get("template").and_then(Value::as_str) == Some("claim-acknowledgement")
                && letter.get("status").and_then(Value::as_str) == Some("stored")
            {
                e.claim_acknowledged =
                    earliest(e.claim_acknowledged, date_of(&letter, "created_at"));
            }
        }
        Ok(e)
    }

    async fn case(&self, case_ref: &str) -> Result<Item, ClockError> {
        if CaseKind::of_reference(case_ref) != CaseKind::Claim {
            return Err(ClockError::NotAClaim(case_ref.to_owned()));
        }
        self.table
            .get(&Key::new(keys::case(case_ref), keys::META))
            .await?
            .ok_or_else(|| ClockError::NoCase(case_ref.to_owned()))
    }

    async fn recorded(&self, case_ref: &str) -> Result<(Recorded, Option<Item>), ClockError> {
        let item = self
            .table
            .get(&Key::new(keys::case(case_ref), keys::CLAIM_CLOCK))
            .await?;
        let recorded = item
            .as_ref()
            .and_then(|i| i.get("recorded"))
            .cloned()
            .map(serde_json::from_value)
            .transpose()
            .map_err(|_| {
                ClockError::Invalid(format!("{case_ref}: its clock's record is unreadable"))
            })?
            .unwrap_or_default();
        Ok((recorded, item))
    }

    /// Works a claim's deadlines out again from its record and what was recorded by
    /// hand, and stores them (the clock and one indexed item a running deadline).
    pub async fn recompute(&self, case_ref: &str) -> Result<ClaimClock, ClockError> {
        let case = self.case(case_ref).await?;
        let (recorded, existing) = self.recorded(case_ref).await?;
        self.store(case_ref, &case, recorded, existing).await
    }

    /// Recomputes a claim's clock if `case_ref` names a claim that exists; anything else
    /// is not a claim's business. For the places that file documents.
    pub async fn after_filing(&self, case_ref: &str) -> Result<(), ClockError> {
        match self.recompute(case_ref).await {
            Ok(_) | Err(ClockError::NotAClaim(_) | ClockError::NoCase(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// As [`Self::after_filing`], for the writers that must not fail on a claim's dates:
    /// what the rules refuse (dates in an impossible order) is logged with its code, for
    /// a handler to put right on the claim; only storage errors are returned.
    pub async fn keep(&self, case_ref: &str) -> Result<(), StoreError> {
        match self.after_filing(case_ref).await {
            Ok(()) => Ok(()),
            Err(ClockError::Store(e)) => Err(e),
            Err(e) => {
                tracing::warn!(
                    code = e.code().as_str(),
                    "a claim's deadlines were not worked out"
                );
                Ok(())
            }
        }
    }

    async fn store(
        &self,
        case_ref: &str,
        case: &Item,
        recorded: Recorded,
        existing: Option<Item>,
    ) -> Result<ClaimClock, ClockError> {
        let mut events = self.events_of_record(case_ref, case).await?;
        for m in &recorded.events {
            m.apply(&mut events);
        }
        events.extensions = recorded.extensions.clone();
        let list = deadlines(court_calendar(), &events)?;
        // The running deadlines now, against those indexed before.
        let before = self
            .all(Query::new(keys::case(case_ref)).prefix(keys::DEADLINE_PREFIX))
            .await?;
        let mut ops = Vec::new();
        let mut wanted = std::collections::BTreeSet::new();
        for d in list.iter().filter(|d| d.met.is_none()) {
            let (kind, from, due) = (d.deadline.as_str(), d.from.to_string(), d.due.to_string());
            wanted.insert(keys::claim_deadline(kind, &from));
            let mut item = Item::new();
            item.insert("PK".into(), json!(keys::case(case_ref)));
            item.insert("SK".into(), json!(keys::claim_deadline(kind, &from)));
            item.insert("GSI1PK".into(), json!(keys::CLAIMS_DUE));
            item.insert(
                "GSI1SK".into(),
                json!(keys::claim_due(&due, case_ref, kind, &from)),
            );
            item.insert("case_ref".into(), json!(case_ref));
            item.insert("deadline".into(), json!(kind));
            item.insert("due".into(), json!(due));
            item.insert("basis".into(), json!(d.basis));
            item.insert("note".into(), json!(d.note));
            // Written only when it changed: a recompute that finds the same deadlines
            // writes nothing (a rerun of ingest writes nothing).
            if !before.contains(&item) {
                ops.push(TxOp::Put {
                    item,
                    condition: Condition::None,
                });
            }
        }
        for old in &before {
            if let Ok(key) = Key::of(old)
                && !wanted.contains(&key.sk)
            {
                ops.push(TxOp::Delete {
                    key,
                    condition: Condition::None,
                });
            }
        }
        let mut clock = Item::new();
        clock.insert("PK".into(), json!(keys::case(case_ref)));
        clock.insert("SK".into(), json!(keys::CLAIM_CLOCK));
        clock.insert(
            "recorded".into(),
            serde_json::to_value(&recorded).unwrap_or(Value::Null),
        );
        clock.insert(
            "events".into(),
            serde_json::to_value(&events).unwrap_or(Value::Null),
        );
        clock.insert(
            "deadlines".into(),
            serde_json::to_value(&list).unwrap_or(Value::Null),
        );
        if existing.as_ref() != Some(&clock) {
            ops.push(TxOp::Put {
                item: clock,
                condition: Condition::None,
            });
        }
        // A claim has few deadlines; keep each write within a transaction's limit.
        for chunk in ops.chunks(90).filter(|c| !c.is_empty()) {
            self.table.transact(chunk.to_vec()).await?;
        }
        Ok(ClaimClock {
            events,
            deadlines: list,
            recorded,
        })
    }

    /// A claim's deadlines as last worked out (none when it has no clock yet).
    pub async fn of_case(&self, case_ref: &str) -> Result<Vec<Deadline>, ClockError> {
        let item = self
            .table
            .get(&Key::new(keys::case(case_ref), keys::CLAIM_CLOCK))
            .await?;
        Ok(item
            .and_then(|i| i.get("deadlines").cloned())
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default())
    }

    /// Records an event on a claim by hand, audited with the person, and recomputes.
    pub async fn record(
        &self,
        case_ref: &str,
        event: ManualEvent,
    ) -> Result<ClaimClock, ClockError> {
        let case = self.case(case_ref).await?;
        let (mut recorded, existing) = self.recorded(case_ref).await?;
        if !recorded.events.contains(&event) {
            recorded.events.push(event.clone());
        }
        let clock = self.store(case_ref, &case, recorded, existing).await?;
        self.audit(case_ref, "claim_event_recorded", json!({"event": event}))
            .await?;
        Ok(clock)
    }

    /// Records an extension agreed between the parties, with its reason (required),
    /// audited with the person, and recomputes. The rules refuse an extension that does
    /// not move the date later, lacks a reason or exceeds what the rules allow.
    pub async fn extend(
        &self,
        case_ref: &str,
        extension: Extension,
    ) -> Result<ClaimClock, ClockError> {
        let case = self.case(case_ref).await?;
        let (mut recorded, existing) = self.recorded(case_ref).await?;
        if !recorded.extensions.contains(&extension) {
            recorded.extensions.push(extension.clone());
        }
        let clock = self.store(case_ref, &case, recorded, existing).await?;
        self.audit(
            case_ref,
            "deadline_extended",
            json!({
                "deadline": extension.deadline.as_str(),
                "new_due": extension.new_due.to_string(),
                "agreed_on": extension.agreed_on.to_string(),
                "reason": extension.reason,
            }),
        )
        .await?;
        Ok(clock)
    }

    async fn audit(&self, case_ref: &str, what: &str, details: Value) -> Result<(), StoreError> {
        let now = self
            .clock
            .now()
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        // Events in the same instant take the next sequence number: none is lost.
        for seq in 0..100 {
            let op = crate::model::audit_event(
                keys::case(case_ref),
                &now,
                seq,
                &self.actor,
                what,
                details.clone(),
            );
            match self.table.transact(vec![op]).await {
                Ok(()) => return Ok(()),
                Err(StoreError::ConditionFailed { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::ConditionFailed {
            what: "100 audit events in one instant".into(),
        })
    }

    /// Running deadlines across claims, soonest first: overdue ones and those due
    /// within `within` days of `today` (calendar days).
    pub async fn due(&self, today: NaiveDate, within: u32) -> Result<Vec<DueDeadline>, StoreError> {
        let until = today + chrono::Days::new(u64::from(within));
        let mut out = Vec::new();
        let mut query = Query::new(keys::CLAIMS_DUE).limit(200);
        'pages: loop {
            let page = self.table.query_gsi1(&query).await?;
            for item in &page.items {
                let text = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_owned);
                let Some(due) = text("due").as_deref().and_then(parse_date) else {
                    continue;
                };
                if due > until {
                    break 'pages;
                }
                let Some(deadline) = text("deadline").and_then(|d| d.parse().ok()) else {
                    continue;
                };
                // A limitation date that has passed is no one's task: the claim's page
                // shows it as passed; the lists of what to do leave it out.
                if deadline == DeadlineKind::Limitation && due < today {
                    continue;
                }
                out.push(DueDeadline {
                    case_ref: text("case_ref").unwrap_or_default(),
                    deadline,
                    due,
                    basis: text("basis").unwrap_or_default(),
                    note: text("note"),
                    status: if due < today { "overdue" } else { "due" },
                });
            }
            match page.next {
                Some(next) => query.cursor = Some(next),
                None => break,
            }
        }
        Ok(out)
    }

    /// The daily sweep: one reminder a running deadline and day for those overdue or
    /// due within `within` days; idempotent.
    pub async fn sweep(
        &self,
        today: NaiveDate,
        within: u32,
    ) -> Result<Vec<ClaimReminder>, StoreError> {
        let mut reminders = Vec::new();
        for d in self.due(today, within).await? {
            let kind = if d.status == "overdue" {
                "overdue"
            } else {
                "due_soon"
            };
            let mut item = Item::new();
            item.insert("PK".into(), json!(keys::case(&d.case_ref)));
            item.insert(
                "SK".into(),
                json!(keys::claim_reminder(today, d.deadline.as_str())),
            );
            item.insert("kind".into(), json!(kind));
            item.insert("deadline".into(), json!(d.deadline.as_str()));
            item.insert("due".into(), json!(d.due.to_string()));
            item.insert("who".into(), json!(self.actor));
            let new = match self.table.put(item, Condition::Absent).await {
                Ok(()) => true,
                Err(StoreError::ConditionFailed { .. }) => false,
                Err(e) => return Err(e),
            };
            reminders.push(ClaimReminder {
                case_ref: d.case_ref,
                deadline: d.deadline,
                due: d.due,
                kind,
                new,
            });
        }
        Ok(reminders)
    }
}
