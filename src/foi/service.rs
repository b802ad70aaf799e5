//! FOI casework over the storage ports: open a request (from ingestion or by hand), move
//! it through its lifecycle with an audit event per move, list what is due, sweep for
//! reminders, and the yearly figures.
//!
//! An FOI case is the item `CASE#<ref>` / `META` (kind `foi`) with the request's state
//! under `foi`, and GSI1 keys `FOI#<status>` / `<due date>#<ref>`, so "what is due" is a
//! query, not a scan. Writes are conditional on the item's version.

use std::sync::Arc;

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::lifecycle::{Command, LifecycleError, Request, Status};
use crate::calendar::Calendar;
use crate::clock::Clock;
use crate::model::keys;
use crate::store::Stores;
use crate::store::{Condition, Cursor, Item, Key, Query, StoreError, TxOp, Update};

/// The first FOI number issued on a fresh store.
pub const FIRST_FOI_NUMBER: u64 = 7001;

/// Why an FOI operation failed.
#[derive(Debug, thiserror::Error)]
pub enum FoiError {
    #[error("no FOI request {0}")]
    NotFound(String),
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    #[error("{0}")]
    Invalid(String),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// Lost every race for the same item; trying again later will do.
    #[error("{0}")]
    Busy(String),
}

impl crate::failure::ErrorCode for FoiError {
    fn code(&self) -> crate::failure::Code {
        use crate::failure::Code;
        match self {
            FoiError::NotFound(_) => Code::NotFound,
            FoiError::Lifecycle(e) => e.code(),
            FoiError::Invalid(_) => Code::InvalidRequest,
            FoiError::Store(e) => e.code(),
            FoiError::Busy(_) => Code::Busy,
        }
    }
}

impl FoiError {
    /// Whether a later try may succeed.
    pub fn is_retryable(&self) -> bool {
        crate::failure::ErrorCode::code(self).retryable()
    }
}

/// A request logged by hand (or built from an email by ingestion).
#[derive(Debug, Clone, Default)]
pub struct NewRequest {
    pub requester: String,
    pub request_text: String,
    pub received: Option<NaiveDate>,
    pub title: Option<String>,
    pub source_doc: Option<String>,
}

/// An FOI case as stored.
#[derive(Debug, Clone, Serialize)]
pub struct FoiCase {
    pub request: Request,
    pub requester: Option<String>,
    pub request_text: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
    /// The date the sender wrote on an emailed request (its `Date:` header), kept as
    /// written; the clock runs from `request.received`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_date: Option<NaiveDate>,
    #[serde(skip)]
    pub version: u64,
}

/// A reminder recorded by the daily sweep.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Reminder {
    pub reference: String,
    /// None for a request whose due date could not be worked out (kind `clock_error`).
    pub due: Option<NaiveDate>,
    /// `due_soon`, `overdue`, `review_due_soon`, `review_overdue`, or `clock_error` (the
    /// due date could not be worked out: someone must look at it).
    pub kind: &'static str,
    /// False when the same reminder was recorded earlier the same day.
    pub new: bool,
}

/// Normalised for duplicate detection: case, spacing and punctuation ignored.
fn fingerprint(requester: &str, text: &str) -> String {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_alphanumeric() || c.is_whitespace())
            .collect::<String>()
            .to_lowercase()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    hex::encode(&Sha256::digest(format!("{}\n{}", norm(requester), norm(text)).as_bytes())[..16])
}

/// A short title from the request: its first sentence after any greeting, without the
/// usual preamble, at most 100 characters.
pub fn title_of(text: &str) -> String {
    let greeting = |l: &str| {
        let l = l.to_lowercase();
        [
            "dear ",
            "hello",
            "hi ",
            "to whom",
            "good morning",
            "good afternoon",
        ]
        .iter()
        .any(|g| l.starts_with(g))
    };
    let body: String = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !greeting(l))
        .collect::<Vec<_>>()
        .join(" ");
    let first = body
        .split(". ")
        .map(|s| s.trim().trim_end_matches(['.', '?']))
        .find(|s| s.len() > 3)
        .unwrap_or("Request for information");
    let lower = first.to_lowercase();
    let mut first = first;
    for preamble in [
        "under the freedom of information act 2000",
        "under the freedom of information act",
    ] {
        if lower.starts_with(preamble) {
            first = first[preamble.len()..].trim_start_matches([',', ' ']);
            break;
        }
    }
    let mut t: String = first.chars().take(100).collect();
    if let Some(c) = t.get(..1) {
        t = c.to_uppercase() + &t[1..];
    }
    if first.chars().count() > 100 {
        t.push('…');
    }
    t
}

/// The GSI1 keys for a request's state.
pub fn gsi_keys(r: &Request) -> (String, String) {
    let due = r.deadline().or(r.due).map(|d| d.to_string());
    (
        keys::foi_status(r.status.as_str()),
        keys::foi_due(due.as_deref(), &r.reference),
    )
}

/// The fields an FOI case item carries (used by ingestion when an emailed request opens
/// its case, and by `open`).
pub fn case_fields(
    request: &Request,
    requester: Option<&str>,
    text: &str,
    title: &str,
) -> Map<String, Value> {
    let (gpk, gsk) = gsi_keys(request);
    let mut m = Map::new();
    m.insert(
        "foi".into(),
        serde_json::to_value(request).unwrap_or(Value::Null),
    );
    m.insert("requester".into(), json!(requester));
    m.insert(
        "request_text".into(),
        json!(text.chars().take(20_000).collect::<String>()),
    );
    m.insert("title".into(), json!(title));
    m.insert("GSI1PK".into(), json!(gpk));
    m.insert("GSI1SK".into(), json!(gsk));
    m
}

/// How many numbers `next_reference` looks at, in all, for one not in use.
const REFERENCE_LOOKAHEAD: u64 = 1024;
/// Every this many numbers in use in a row, the counter is moved past them for good.
const REFERENCE_WINDOW: u64 = 32;

/// The fields of an FOI case opened from an email, and why its clock could not be
/// started if it could not (a stable code for a warning).
#[derive(Debug, Clone)]
pub struct OpeningFields {
    pub fields: Map<String, Value>,
    pub clock_error: Option<&'static str>,
}

/// The stable code for a request whose due date cannot be worked out.
pub fn clock_error_code(e: &LifecycleError) -> &'static str {
    use super::deadline::DeadlineError;
    use crate::calendar::CalendarError;
    match e {
        LifecycleError::Deadline(DeadlineError::Calendar(CalendarError::NotCovered { .. }), _) => {
            "date_outside_calendar"
        }
        _ => "clock_not_computed",
    }
}

/// What ingestion puts on a new FOI case opened from an email: the request's state with
/// its clock started on `received` (the day the email reached postroom, not the date its
/// sender wrote, which is kept as `sender_date`), the requester, text and title, and the
/// GSI1 keys that put it in the due list.
///
/// A case is never opened without its clock: when the due date cannot be worked out
/// (`received` outside the bank holiday table), the fields still carry the request and
/// its GSI1 keys, with no due date and flagged `clock_error` (also on the item), so the
/// due list, `foi show`, moves and the sweep all see it; `clock_error` says why.
pub fn opening_fields(
    reference: &str,
    received: NaiveDate,
    sender_date: Option<NaiveDate>,
    requester: Option<&str>,
    text: &str,
    title: &str,
    calendar: &Calendar,
) -> OpeningFields {
    let (request, clock_error) = match Request::new(reference, received, calendar) {
        Ok(r) => (r, None),
        Err(e) => {
            let code = clock_error_code(&e);
            (Request::flagged(reference, received, code), Some(code))
        }
    };
    let mut fields = case_fields(&request, requester, text, title);
    fields.insert("received".into(), json!(received.to_string()));
    if let Some(d) = sender_date {
        fields.insert("sender_date".into(), json!(d.to_string()));
    }
    if let Some(code) = clock_error {
        fields.insert("clock_error".into(), json!(code));
    }
    OpeningFields {
        fields,
        clock_error,
    }
}

/// Reserves the next FOI reference: the counter update to put in the same transaction.
///
/// A number already in use (a case `CASE#FOI_n` exists, however it came to be) is never
/// handed out: the counter moves past it. The update is conditional on the counter's
/// version, so of two openers that read the same counter only one commits; the other
/// reads it again. After [`REFERENCE_WINDOW`] numbers in use in a row the counter is
/// moved past them at once, so the next caller does not look at them again; after
/// [`REFERENCE_LOOKAHEAD`] the error is retryable.
pub async fn next_reference(stores: &Stores, first: u64) -> Result<(String, TxOp), StoreError> {
    let counter_key = Key::new(keys::FOI_COUNTER, keys::META);
    let read = |counter: &Option<Item>| match counter {
        Some(c) => (
            c.get("next").and_then(Value::as_u64).unwrap_or(first),
            c.get("version").and_then(Value::as_u64).unwrap_or(0),
        ),
        None => (first, 0),
    };
    let mut counter = stores.table.get(&counter_key).await?;
    let (mut start, mut version) = read(&counter);
    let mut n = start;
    let mut looked = 0;
    loop {
        let case = Key::new(keys::case(&format!("FOI_{n}")), keys::META);
        if stores.table.get(&case).await?.is_none() {
            break;
        }
        n += 1;
        looked += 1;
        if looked >= REFERENCE_LOOKAHEAD {
            return Err(StoreError::Backend {
                backend: "foi",
                op: "reserve an FOI reference".into(),
                retryable: true,
                source: format!("{looked} FOI numbers in a row are in use").into(),
            });
        }
        if n - start >= REFERENCE_WINDOW {
            // Move the counter past the numbers in use, so they are looked at once.
            let skip = Update::new(counter_key.clone())
                .set("next", n)
                .set("version", version + 1)
                .when(if counter.is_some() {
                    Condition::VersionEquals(version)
                } else {
                    Condition::Absent
                });
            match stores.table.update(skip).await {
                Ok(item) => {
                    tracing::warn!(from = start, to = n, "FOI numbers in use skipped");
                    counter = Some(item);
                }
                // Another opener moved it: go on from where it is now.
                Err(StoreError::ConditionFailed { .. }) => {
                    counter = stores.table.get(&counter_key).await?;
                }
                Err(e) => return Err(e),
            }
            (start, version) = read(&counter);
            n = n.max(start);
        }
    }
    let update = Update::new(counter_key)
        .set("next", n + 1)
        .set("version", version + 1);
    let op = TxOp::Update(update.when(if counter.is_some() {
        Condition::VersionEquals(version)
    } else {
        Condition::Absent
    }));
    Ok((format!("FOI_{n}"), op))
}

/// The duplicate index entry for a requester and request (and the earlier request with
/// the same fingerprint, if any).
pub async fn duplicate_check(
    stores: &Stores,
    requester: &str,
    text: &str,
    reference: &str,
) -> Result<(Option<String>, Option<TxOp>), StoreError> {
    let key = Key::new(
        keys::foi_duplicate(&fingerprint(requester, text)),
        keys::META,
    );
    match stores.table.get(&key).await? {
        Some(first) => Ok((
            first
                .get("case_ref")
                .and_then(Value::as_str)
                .map(str::to_string),
            None,
        )),
        None => {
            let mut item = Item::new();
            item.insert("PK".into(), json!(key.pk));
            item.insert("SK".into(), json!(key.sk));
            item.insert("case_ref".into(), json!(reference));
            Ok((
                None,
                Some(TxOp::Put {
                    item,
                    condition: Condition::Absent,
                }),
            ))
        }
    }
}

/// How often `open` tries to reserve a number before it answers `Busy`: enough for
/// dozens of openers racing for the counter (each round, one of them wins).
const OPEN_TRIES: u32 = 48;

/// A short wait before trying again, longer each time (up to about 50 ms) and spread so
/// that openers that lost the same race do not meet again at once.
async fn backoff(attempt: u32) {
    let spread = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(attempt)
        .wrapping_mul(2_654_435_761);
    let ceiling = 2u64.saturating_pow(attempt.min(6)).min(50);
    let ms = 1 + u64::from(spread) % ceiling;
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
}

/// Which requests a page of the FOI register lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterView {
    /// Awaiting a response or an internal review, soonest due first.
    Open,
    /// Of those: overdue, due within `within` working days, or with a clock that could
    /// not be started.
    Due { within: u32 },
    /// Of those: past their deadline.
    Overdue,
    /// Answered or closed, the latest due first.
    Closed,
}

impl RegisterView {
    /// Its name in a page position (a position from one view is refused by another).
    pub fn name(self) -> &'static str {
        match self {
            RegisterView::Open => "open",
            RegisterView::Due { .. } => "due",
            RegisterView::Overdue => "overdue",
            RegisterView::Closed => "closed",
        }
    }

    /// The statuses it lists: each is one partition of the index.
    pub fn statuses(self) -> Vec<Status> {
        let open = |s: &Status| s.awaits_response() || *s == Status::ReviewRequested;
        Status::ALL
            .into_iter()
            .filter(|s| open(s) != (self == RegisterView::Closed))
            .collect()
    }
}

/// One page of the register, and the position of the next page (opaque, URL-safe).
#[derive(Debug, Clone)]
pub struct RegisterPage {
    pub items: Vec<FoiCase>,
    pub next: Option<String>,
}

/// Read at most this many blocks of a status's index for one page.
const REGISTER_BLOCKS: usize = 3;

/// The longest page position accepted.
const POSITION_CHARS: usize = 16 * 1024;

/// A range of the index a view lists: sort keys starting `prefix`, below `below`, and
/// of those the requests `keep` accepts.
#[derive(Clone)]
struct Segment {
    prefix: String,
    below: Option<String>,
    keep: fn(&FoiCase) -> bool,
}

/// What one page read of one status.
#[derive(Default)]
struct Fetched {
    /// Not yet taken, in order: sort key and item.
    items: std::collections::VecDeque<(String, Item)>,
    /// Each block read: its last sort key and the store's position after it.
    blocks: Vec<(Option<String>, Option<Cursor>)>,
    /// Nothing more in the range beyond what was read.
    end: bool,
}

/// Where a status's read resumes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum Lane {
    Start,
    After(String),
    Done,
}

/// A page position: the view, the range, the last sort key taken and each status's
/// place in the index.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Position {
    v: String,
    s: usize,
    l: Option<String>,
    p: Vec<Lane>,
}

impl Position {
    fn start(view: RegisterView, segment: usize, lanes: usize) -> Position {
        Position {
            v: view.name().to_owned(),
            s: segment,
            l: None,
            p: vec![Lane::Start; lanes],
        }
    }

    fn encode(&self) -> String {
        hex::encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// A position given back by a caller: refused unless it has the shape this view
    /// gives. Each status's place is only ever used on that status's own partition.
    fn decode(
        text: &str,
        view: RegisterView,
        segments: usize,
        lanes: usize,
    ) -> Result<Position, FoiError> {
        let bad = || FoiError::Invalid("a page position that this register did not give".into());
        if text.len() > POSITION_CHARS {
            return Err(bad());
        }
        let bytes = hex::decode(text).map_err(|_| bad())?;
        let position: Position = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        let sort_key = |k: &str| {
            k.split_once('#').is_some_and(|(date, reference)| {
                NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok() && !reference.is_empty()
            })
        };
        let fits = position.v == view.name()
            && position.s < segments
            && position.p.len() == lanes
            && position.l.as_deref().is_none_or(sort_key)
            && position.p.iter().all(|lane| match lane {
                Lane::After(c) => !c.is_empty() && c.len() < POSITION_CHARS,
                _ => true,
            });
        if fits { Ok(position) } else { Err(bad()) }
    }
}

/// FOI casework on the configured stores.
#[derive(Debug, Clone)]
pub struct Foi {
    pub stores: Stores,
    pub clock: Arc<dyn Clock>,
    pub calendar: Calendar,
    pub actor: String,
}

impl Foi {
    fn now(&self) -> String {
        self.clock
            .now()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }

    pub fn today(&self) -> NaiveDate {
        self.clock.now().date_naive()
    }

    /// The same use case acting as `who` (a person signed in to the console), whom the
    /// audit trail then names for each move.
    pub fn acting_as(&self, who: &str) -> Foi {
        Foi {
            actor: who.to_owned(),
            ..self.clone()
        }
    }

    fn audit(&self, reference: &str, at: &str, seq: u32, what: &str, details: Value) -> TxOp {
        crate::model::audit_event(keys::case(reference), at, seq, &self.actor, what, details)
    }

    /// As `open`, once per `request_id`: the same id again answers with the request it
    /// opened.
    pub async fn open_once(
        &self,
        new: NewRequest,
        request_id: &str,
    ) -> Result<(FoiCase, bool), FoiError> {
        let marker = Key::new(keys::foi_request_marker(request_id), keys::META);
        if let Some(m) = self.stores.table.get(&marker).await?
            && let Some(reference) = m.get("case_ref").and_then(Value::as_str)
            && let Some(case) = self.get(reference).await?
        {
            return Ok((case, false));
        }
        match self.open_with(new, Some(&marker)).await {
            Ok(case) => Ok((case, true)),
            // A racing delivery of the same request won: answer with its request.
            Err(FoiError::Busy(why)) => {
                let reference = self
                    .stores
                    .table
                    .get(&marker)
                    .await?
                    .and_then(|m| {
                        m.get("case_ref")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    })
                    .ok_or(FoiError::Busy(why))?;
                let case = self
                    .get(&reference)
                    .await?
                    .ok_or(FoiError::NotFound(reference))?;
                Ok((case, false))
            }
            Err(e) => Err(e),
        }
    }

    /// Logs a new request by hand: the next `FOI_` reference, its clock, a duplicate flag.
    pub async fn open(&self, new: NewRequest) -> Result<FoiCase, FoiError> {
        self.open_with(new, None).await
    }

    async fn open_with(&self, new: NewRequest, marker: Option<&Key>) -> Result<FoiCase, FoiError> {
        if new.request_text.trim().is_empty() {
            return Err(FoiError::Invalid("the request's text is empty".into()));
        }
        if new.requester.trim().is_empty() {
            return Err(FoiError::Invalid(
                "the requester's name is needed (FOI requests must give one)".into(),
            ));
        }
        let received = new.received.unwrap_or_else(|| self.today());
        for attempt in 0..OPEN_TRIES {
            if attempt > 0 {
                backoff(attempt).await;
            }
            let (reference, counter) = match next_reference(&self.stores, FIRST_FOI_NUMBER).await {
                Ok(r) => r,
                Err(e) if e.is_retryable() => continue,
                Err(e) => return Err(e.into()),
            };
            let request = Request::new(&reference, received, &self.calendar)?;
            let (duplicate_of, dup_op) =
                duplicate_check(&self.stores, &new.requester, &new.request_text, &reference)
                    .await?;
            let title = new
                .title
                .clone()
                .unwrap_or_else(|| title_of(&new.request_text));
            let now = self.now();
            let mut item = Item::new();
            item.insert("PK".into(), json!(keys::case(&reference)));
            item.insert("SK".into(), json!(keys::META));
            item.insert("case_ref".into(), json!(reference));
            item.insert("kind".into(), json!("foi"));
            item.insert("status".into(), json!("open"));
            item.insert("opened".into(), json!(now));
            item.insert("received".into(), json!(received.to_string()));
            item.insert("version".into(), json!(1));
            item.extend(case_fields(
                &request,
                Some(new.requester.trim()),
                new.request_text.trim(),
                &title,
            ));
            if let Some(d) = &duplicate_of {
                item.insert("duplicate_of".into(), json!(d));
            }
            if let Some(doc) = &new.source_doc {
                item.insert("opened_by".into(), json!(doc));
            }
            let mut ops = vec![
                counter,
                TxOp::Put {
                    item,
                    condition: Condition::Absent,
                },
                self.audit(
                    &reference,
                    &now,
                    0,
                    "foi_opened",
                    json!({"due": request.due, "duplicate_of": duplicate_of}),
                ),
            ];
            ops.extend(dup_op);
            if let Some(m) = marker {
                let mut item = Item::new();
                item.insert("PK".into(), json!(m.pk));
                item.insert("SK".into(), json!(m.sk));
                item.insert("case_ref".into(), json!(reference));
                ops.push(TxOp::Put {
                    item,
                    condition: Condition::Absent,
                });
            }
            match self.stores.table.transact(ops).await {
                Ok(()) => {
                    tracing::info!(case_ref = %reference, duplicate = duplicate_of.is_some(), "FOI request opened");
                    return Ok(FoiCase {
                        request,
                        requester: Some(new.requester.trim().to_string()),
                        request_text: new.request_text.trim().to_string(),
                        title,
                        duplicate_of,
                        sender_date: None,
                        version: 1,
                    });
                }
                // Another request took the number (or the fingerprint) first, or a
                // transaction conflicted with it: again, from the counter as it is now.
                Err(StoreError::ConditionFailed { .. }) => continue,
                Err(e) if e.is_retryable() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(FoiError::Busy(format!(
            "could not reserve an FOI reference after {OPEN_TRIES} tries"
        )))
    }

    pub async fn get(&self, reference: &str) -> Result<Option<FoiCase>, FoiError> {
        let Some(item) = self
            .stores
            .table
            .get(&Key::new(keys::case(reference), keys::META))
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(case_of(&item, reference)?))
    }

    /// Applies a lifecycle command, with its audit event, in one conditional write.
    pub async fn apply(&self, reference: &str, cmd: &Command) -> Result<FoiCase, FoiError> {
        self.apply_once(reference, cmd, None)
            .await
            .map(|(case, _)| case)
    }

    /// As `apply`, but a command sent again with the same `request_id` (a redelivered
    /// event) changes nothing and answers with the request as it is: `(case, applied)`.
    pub async fn apply_once(
        &self,
        reference: &str,
        cmd: &Command,
        request_id: Option<&str>,
    ) -> Result<(FoiCase, bool), FoiError> {
        let marker = request_id.map(|id| Key::new(keys::case(reference), keys::command(id)));
        for _ in 0..4 {
            let case = self
                .get(reference)
                .await?
                .ok_or_else(|| FoiError::NotFound(reference.to_string()))?;
            if let Some(m) = &marker
                && self.stores.table.get(m).await?.is_some()
            {
                return Ok((case, false));
            }
            let next = case.request.apply(cmd, &self.calendar)?;
            let (gpk, gsk) = gsi_keys(&next);
            let now = self.now();
            let mut update = Update::new(Key::new(keys::case(reference), keys::META))
                .set("foi", serde_json::to_value(&next).unwrap_or(Value::Null))
                .set("GSI1PK", gpk)
                .set("GSI1SK", gsk);
            update = match &next.clock_error {
                Some(code) => update.set("clock_error", code.as_str()),
                None if case.request.clock_error.is_some() => update.remove("clock_error"),
                None => update,
            };
            let update = update
                .set(
                    "status",
                    if next.status == Status::Closed {
                        "closed"
                    } else {
                        "open"
                    },
                )
                .set("version", case.version + 1)
                .when(Condition::VersionEquals(case.version));
            let details = serde_json::to_value(cmd).unwrap_or(Value::Null);
            let seq = (case.version % 10_000) as u32;
            let mut ops = vec![
                TxOp::Update(update),
                self.audit(reference, &now, seq, cmd.name(), details),
            ];
            if let Some(m) = &marker {
                let mut item = Item::new();
                item.insert("PK".into(), json!(m.pk));
                item.insert("SK".into(), json!(m.sk));
                item.insert("command".into(), json!(cmd.name()));
                item.insert("at".into(), json!(now));
                ops.push(TxOp::Put {
                    item,
                    condition: Condition::Absent,
                });
            }
            match self.stores.table.transact(ops).await {
                Ok(()) => {
                    tracing::info!(case_ref = %reference, command = cmd.name(), status = next.status.as_str(), "FOI request moved");
                    return Ok((
                        FoiCase {
                            request: next,
                            version: case.version + 1,
                            ..case
                        },
                        true,
                    ));
                }
                Err(StoreError::ConditionFailed { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(FoiError::Busy(format!(
            "{reference} kept changing; try again"
        )))
    }

    /// Every FOI case in the given statuses, by due date.
    pub async fn in_statuses(&self, statuses: &[Status]) -> Result<Vec<FoiCase>, FoiError> {
        let mut out = Vec::new();
        for s in statuses {
            let mut query = Query::new(keys::foi_status(s.as_str()));
            let mut items = Vec::new();
            loop {
                let page = self.stores.table.query_gsi1(&query).await?;
                items.extend(page.items);
                match page.next {
                    Some(next) => query.cursor = Some(next),
                    None => break,
                }
            }
            for item in items {
                let reference = item
                    .get("case_ref")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                // One unreadable item does not hide every other request.
                match case_of(&item, &reference) {
                    Ok(case) => out.push(case),
                    Err(e) => {
                        tracing::warn!(case_ref = %reference, error = %e, "FOI case unreadable")
                    }
                }
            }
        }
        out.sort_by(|a, b| {
            a.request
                .due
                .cmp(&b.request.due)
                .then(a.request.reference.cmp(&b.request.reference))
        });
        Ok(out)
    }

    /// The `limit` requests awaiting a response or an internal review whose deadlines
    /// come soonest (paused clocks last), and whether there are more. Reads at most
    /// `limit` items a status: the index sorts each status's requests by deadline.
    pub async fn soonest(&self, limit: u32) -> Result<(Vec<FoiCase>, bool), FoiError> {
        let mut out = Vec::new();
        let mut more = false;
        for s in Status::ALL
            .into_iter()
            .filter(|s| s.awaits_response() || *s == Status::ReviewRequested)
        {
            let page = self
                .stores
                .table
                .query_gsi1(&Query::new(keys::foi_status(s.as_str())).limit(limit))
                .await?;
            more |= page.next.is_some();
            for item in page.items {
                let reference = item
                    .get("case_ref")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                match case_of(&item, &reference) {
                    Ok(case) => out.push(case),
                    Err(e) => {
                        tracing::warn!(case_ref = %reference, error = %e, "FOI case unreadable")
                    }
                }
            }
        }
        let deadline = |c: &FoiCase| c.request.deadline().or(c.request.due);
        out.sort_by(|a, b| {
            (deadline(a).is_none(), deadline(a), &a.request.reference).cmp(&(
                deadline(b).is_none(),
                deadline(b),
                &b.request.reference,
            ))
        });
        if out.len() > limit as usize {
            out.truncate(limit as usize);
            more = true;
        }
        Ok((out, more))
    }

    /// One page of the register's `view`, sorted by due date (the latest first for
    /// closed requests), starting after `after` (a position an earlier page gave, which
    /// only moves within the view's own statuses), at most `limit` requests. Each page
    /// reads about `limit` items a status from the index, however long the register.
    pub async fn register_page(
        &self,
        view: RegisterView,
        after: Option<&str>,
        limit: u32,
    ) -> Result<RegisterPage, FoiError> {
        let statuses = view.statuses();
        let segments = self.segments_of(view);
        let mut position = match after {
            Some(text) => Position::decode(text, view, segments.len(), statuses.len())?,
            None => Position::start(view, 0, statuses.len()),
        };
        let limit = limit.clamp(1, 500) as usize;
        let mut out = Vec::new();
        let mut examined = 0;
        while position.s < segments.len() && out.len() < limit {
            let finished = self
                .merge(
                    &statuses,
                    &segments[position.s],
                    view == RegisterView::Closed,
                    &mut position,
                    &mut out,
                    (limit, &mut examined),
                )
                .await?;
            if !finished {
                break;
            }
            position = Position::start(view, position.s + 1, statuses.len());
        }
        let next = (position.s < segments.len()).then(|| position.encode());
        Ok(RegisterPage { items: out, next })
    }

    /// The ranges of the index `view` lists, in order.
    fn segments_of(&self, view: RegisterView) -> Vec<Segment> {
        let all = Segment {
            prefix: String::new(),
            below: None,
            keep: |_| true,
        };
        let today = self.today();
        match view {
            RegisterView::Open | RegisterView::Closed => vec![all],
            RegisterView::Overdue => vec![Segment {
                below: Some(today.to_string()),
                ..all
            }],
            RegisterView::Due { within } => {
                // The last day with at most `within` working days left.
                let mut last = today;
                for day in today.iter_days().skip(1).take(60) {
                    match self.calendar.working_days_between(today, day) {
                        Ok(n) if n <= within => last = day,
                        _ => break,
                    }
                }
                let below = last.succ_opt().unwrap_or(last).to_string();
                vec![
                    Segment {
                        below: Some(below),
                        ..all
                    },
                    // No deadline: only those whose clock could not be started.
                    Segment {
                        prefix: keys::foi_due(None, ""),
                        below: None,
                        keep: |c| c.request.clock_error.is_some() && c.request.deadline().is_none(),
                    },
                ]
            }
        }
    }

    /// Merges the statuses' ranges of `segment` by sort key into `out` from `position`
    /// (advanced to the last item taken) until `out` holds `limit` or `examined` reaches
    /// its budget; `true` when the segment has nothing more.
    async fn merge(
        &self,
        statuses: &[Status],
        segment: &Segment,
        descending: bool,
        position: &mut Position,
        out: &mut Vec<FoiCase>,
        (limit, examined): (usize, &mut usize),
    ) -> Result<bool, FoiError> {
        // `a` comes before `b` in the register's order.
        let before = |a: &str, b: &str| if descending { a > b } else { a < b };
        let want = limit.saturating_sub(out.len());
        let block = u32::try_from(want.max(20)).unwrap_or(500);
        let mut lanes = Vec::with_capacity(statuses.len());
        for (status, lane) in statuses.iter().zip(&position.p) {
            let mut fetched = Fetched::default();
            let mut cursor = match lane {
                Lane::Done => {
                    fetched.end = true;
                    lanes.push(fetched);
                    continue;
                }
                Lane::Start => None,
                Lane::After(c) => Some(Cursor(c.clone())),
            };
            for _ in 0..REGISTER_BLOCKS {
                let mut query = Query::new(keys::foi_status(status.as_str()))
                    .prefix(segment.prefix.clone())
                    .limit(block)
                    .after(cursor.take());
                if descending {
                    query = query.descending();
                }
                let page = self.stores.table.query_gsi1(&query).await?;
                let mut block_last = None;
                let mut beyond = false;
                for item in page.items {
                    let sk = item
                        .get("GSI1SK")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned();
                    block_last = Some(sk.clone());
                    if position.l.as_deref().is_some_and(|l| !before(l, &sk)) {
                        continue;
                    }
                    if segment.below.as_deref().is_some_and(|b| sk.as_str() >= b) {
                        beyond = true;
                        break;
                    }
                    fetched.items.push_back((sk, item));
                }
                fetched.blocks.push((block_last, page.next.clone()));
                if beyond || page.next.is_none() {
                    fetched.end = true;
                    break;
                }
                if fetched.items.len() >= want {
                    break;
                }
                cursor = page.next;
            }
            lanes.push(fetched);
        }
        let budget = limit * 4;
        while out.len() < limit && *examined < budget {
            // A lane that may hold more than was read cannot be passed.
            if lanes.iter().any(|f| f.items.is_empty() && !f.end) {
                break;
            }
            let mut best: Option<usize> = None;
            for (i, f) in lanes.iter().enumerate() {
                if let Some((sk, _)) = f.items.front()
                    && best
                        .and_then(|b| lanes[b].items.front())
                        .is_none_or(|(b, _)| before(sk, b))
                {
                    best = Some(i);
                }
            }
            let Some((sk, item)) = best.and_then(|i| lanes[i].items.pop_front()) else {
                break;
            };
            *examined += 1;
            position.l = Some(sk);
            let reference = item
                .get("case_ref")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            match case_of(&item, &reference) {
                Ok(case) if (segment.keep)(&case) => out.push(case),
                Ok(_) => {}
                Err(e) => tracing::warn!(case_ref = %reference, error = %e, "FOI case unreadable"),
            }
        }
        if lanes.iter().all(|f| f.end && f.items.is_empty()) {
            return Ok(true);
        }
        // Each status's read starts next time after the last block wholly taken.
        let last = position.l.clone();
        for (lane, fetched) in position.p.iter_mut().zip(&lanes) {
            if fetched.end && fetched.items.is_empty() {
                *lane = Lane::Done;
                continue;
            }
            for (block_last, next) in &fetched.blocks {
                let taken = match (block_last, &last) {
                    (None, _) => true,
                    (Some(b), Some(l)) => !before(l, b),
                    (Some(_), None) => false,
                };
                if !taken {
                    break;
                }
                *lane = match next {
                    Some(c) => Lane::After(c.0.clone()),
                    None => Lane::Done,
                };
            }
        }
        Ok(false)
    }

    /// The requests awaiting a response or an internal review.
    pub async fn pending(&self) -> Result<Vec<FoiCase>, FoiError> {
        let statuses: Vec<Status> = Status::ALL
            .into_iter()
            .filter(|s| s.awaits_response() || *s == Status::ReviewRequested)
            .collect();
        self.in_statuses(&statuses).await
    }

    pub async fn all(&self) -> Result<Vec<FoiCase>, FoiError> {
        self.in_statuses(&Status::ALL).await
    }

    /// The daily sweep: records one reminder per request and day for those overdue or due
    /// within `within` working days (responses and internal reviews); idempotent.
    pub async fn sweep(&self, today: NaiveDate, within: u32) -> Result<Vec<Reminder>, FoiError> {
        let mut reminders = Vec::new();
        for case in self.pending().await? {
            let r = &case.request;
            let (due, kind) = match r.deadline() {
                Some(due) => {
                    let review = r.status == Status::ReviewRequested;
                    let kind = match (review, today > due) {
                        (true, true) => "review_overdue",
                        (true, false) => "review_due_soon",
                        (false, true) => "overdue",
                        (false, false) => "due_soon",
                    };
                    let soon = due >= today
                        && self
                            .calendar
                            .working_days_between(today, due)
                            .is_ok_and(|n| n <= within);
                    if !(today > due || soon) {
                        continue;
                    }
                    (Some(due), kind)
                }
                // No due date because it could not be worked out: a reminder every day
                // until someone does.
                None if r.clock_error.is_some() && r.status.awaits_response() => {
                    (None, "clock_error")
                }
                None => continue,
            };
            let mut item = Item::new();
            item.insert("PK".into(), json!(keys::case(&r.reference)));
            item.insert("SK".into(), json!(keys::reminder(today)));
            item.insert("kind".into(), json!(kind));
            item.insert("due".into(), json!(due.map(|d| d.to_string())));
            item.insert("at".into(), json!(self.now()));
            item.insert("who".into(), json!(self.actor));
            let new = match self.stores.table.put(item, Condition::Absent).await {
                Ok(()) => true,
                Err(StoreError::ConditionFailed { .. }) => false,
                Err(e) => return Err(e.into()),
            };
            reminders.push(Reminder {
                reference: r.reference.clone(),
                due,
                kind,
                new,
            });
        }
        Ok(reminders)
    }
}

impl Foi {
    /// Keeps the data of the response letter sent, so the public version can be made.
    pub async fn record_response(&self, reference: &str, data: &Value) -> Result<(), FoiError> {
        let update = Update::new(Key::new(keys::case(reference), keys::META))
            .set("response_data", data.clone())
            .when(Condition::Exists);
        self.stores.table.update(update).await?;
        Ok(())
    }

    /// Publishes a response: the letter again without the requester's name, address or
    /// other personal data, stored at `disclosure/<ref>/response.pdf`, and its log entry.
    pub async fn publish(
        &self,
        reference: &str,
        registry: &crate::letters::Registry,
    ) -> Result<super::disclosure::Entry, FoiError> {
        Ok(self
            .publish_reviewed(reference, registry, true)
            .await?
            .entry)
    }

    /// As `publish`, and says, field by field, what was removed and what is left, for the
    /// reviewer. With `store` false nothing is written: a preview.
    pub async fn publish_reviewed(
        &self,
        reference: &str,
        registry: &crate::letters::Registry,
        store: bool,
    ) -> Result<Publication, FoiError> {
        use super::disclosure::{kept_for_review, redact_report};
        let item = self
            .stores
            .table
            .get(&Key::new(keys::case(reference), keys::META))
            .await?
            .ok_or_else(|| FoiError::NotFound(reference.to_string()))?;
        let case = case_of(&item, reference)?;
        let r = &case.request;
        if !matches!(
            r.status,
            Status::Responded | Status::ReviewRequested | Status::ReviewDecided | Status::Closed
        ) {
            return Err(FoiError::Invalid(format!(
                "{reference} has not been answered yet ({})",
                r.status.as_str()
            )));
        }
        let Some(Value::Object(mut data)) = item.get("response_data").cloned() else {
            return Err(FoiError::Invalid(format!(
                "{reference}: make the response letter first (postroom foi letter {reference} --kind response ...)"
            )));
        };
        let requester = case.requester.as_deref();
        let mut review = Vec::new();
        let mut clean = |field: String, text: &str| -> String {
            let redacted = redact_report(text, requester);
            review.push(FieldReview {
                field,
                kept_for_review: kept_for_review(&redacted.text),
                removed: redacted.removed,
                public: redacted.text.clone(),
            });
            redacted.text
        };
        data.remove("recipient_address");
        data.remove("your_ref");
        data.insert("salutation".into(), json!("Requester"));
        for field in [
            "request_text",
            "information",
            "advice",
            "statistics_caption",
        ] {
            if let Some(Value::String(t)) = data.get(field) {
                let public = clean(field.to_string(), &t.clone());
                data.insert(field.into(), json!(public));
            }
        }
        if let Some(Value::Array(exemptions)) = data.get_mut("exemptions") {
            for (i, e) in exemptions.iter_mut().enumerate() {
                if let Value::Object(e) = e {
                    for part in ["title", "reason"] {
                        if let Some(Value::String(t)) = e.get(part) {
                            let public = clean(format!("exemptions[{i}].{part}"), &t.clone());
                            e.insert(part.into(), json!(public));
                        }
                    }
                }
            }
        }
        if let Some(Value::Object(table)) = data.get_mut("statistics") {
            if let Some(Value::Array(columns)) = table.get_mut("columns") {
                for (j, c) in columns.iter_mut().enumerate() {
                    if let Value::String(t) = c {
                        *t = clean(format!("statistics.columns[{j}]"), &t.clone());
                    }
                }
            }
            if let Some(Value::Array(rows)) = table.get_mut("rows") {
                for (i, row) in rows.iter_mut().enumerate() {
                    if let Value::Array(cells) = row {
                        for (j, c) in cells.iter_mut().enumerate() {
                            if let Value::String(t) = c {
                                *t = clean(format!("statistics.rows[{i}][{j}]"), &t.clone());
                            }
                        }
                    }
                }
            }
        }
        let title = clean("title".into(), &case.title);
        // Only what changed or may need a second look is worth the reviewer's time.
        review.retain(|f| {
            !f.removed.is_empty() || !f.kept_for_review.is_empty() || f.field == "title"
        });
        let date = r.responded.unwrap_or(r.received).to_string();
        let key = keys::disclosure_response(reference);
        let entry = super::disclosure::Entry {
            reference: reference.to_string(),
            title,
            date: date.clone(),
            outcome: r
                .outcome
                .map(|o| o.as_str().to_string())
                .unwrap_or_default(),
            themes: super::disclosure::themes(&case.request_text),
            document: key.clone(),
        };
        let letter = registry
            .render(
                "foi-response",
                &Value::Object(data),
                crate::letters::Format::Pdf,
            )
            .map_err(|e| FoiError::Invalid(e.to_string()))?;
        if store {
            self.stores
                .blobs
                .put(
                    &key,
                    letter.bytes.into(),
                    &crate::store::PutOptions::content_type("application/pdf"),
                )
                .await?;
            let mut log_item = Item::new();
            log_item.insert("PK".into(), json!(keys::DISCLOSURE));
            log_item.insert("SK".into(), json!(keys::disclosure_entry(&date, reference)));
            log_item.insert(
                "entry".into(),
                serde_json::to_value(&entry).unwrap_or(Value::Null),
            );
            self.stores.table.put(log_item, Condition::None).await?;
            tracing::info!(case_ref = %reference, "FOI response published");
        }
        Ok(Publication { entry, review })
    }

    /// The disclosure log, newest first.
    pub async fn disclosure_log(&self) -> Result<Vec<super::disclosure::Entry>, FoiError> {
        let mut q = Query::new(keys::DISCLOSURE);
        q.descending = true;
        let items = self.stores.table.query_all(&q).await?;
        Ok(items
            .iter()
            .filter_map(|i| {
                i.get("entry")
                    .cloned()
                    .and_then(|e| serde_json::from_value(e).ok())
            })
            .collect())
    }
}

/// A response made public, and what the redaction did to it, field by field.
#[derive(Debug, Clone)]
pub struct Publication {
    pub entry: super::disclosure::Entry,
    pub review: Vec<FieldReview>,
}

/// One field of a public response, for the reviewer: what was removed (by kind, with the
/// text as it was: for the reviewer's terminal only, never for logs), the public text
/// left, and runs of capitalised words left in it that may be names to check.
#[derive(Debug, Clone)]
pub struct FieldReview {
    pub field: String,
    pub removed: Vec<super::disclosure::Redaction>,
    pub public: String,
    pub kept_for_review: Vec<String>,
}

/// Reads an FOI case item. An FOI case stored without its request state (opened before
/// every case had its clock) is read as a request received on its `received` date (or
/// the day it was opened), flagged `clock_not_started`, so it can be shown and moved.
pub fn case_of(item: &Item, reference: &str) -> Result<FoiCase, FoiError> {
    let text = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_string);
    let date = |k: &str| {
        text(k).and_then(|d| {
            crate::calendar::parse_date(&d)
                .or_else(|| d.get(..10).and_then(crate::calendar::parse_date))
        })
    };
    let request: Request = match item.get("foi") {
        // The parser's message may quote the stored values: it is not passed on.
        Some(v) if !v.is_null() => serde_json::from_value(v.clone()).map_err(|_| {
            FoiError::Invalid(format!("{reference}: the stored request is unreadable"))
        })?,
        _ if text("kind").as_deref() == Some("foi") => {
            let received = date("received").or_else(|| date("opened")).ok_or_else(|| {
                FoiError::Invalid(format!("{reference}: the request has no date received"))
            })?;
            let code = text("clock_error").unwrap_or_else(|| "clock_not_started".into());
            Request::flagged(reference, received, &code)
        }
        _ => {
            return Err(FoiError::Invalid(format!(
                "{reference} is not an FOI request"
            )));
        }
    };
    Ok(FoiCase {
        request,
        requester: text("requester"),
        request_text: text("request_text").unwrap_or_default(),
        title: text("title").unwrap_or_default(),
        duplicate_of: text("duplicate_of"),
        sender_date: date("sender_date"),
        version: item.get("version").and_then(Value::as_u64).unwrap_or(0),
    })
}
