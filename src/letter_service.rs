//! The letters use case: a letter request (template, data, case reference, request id)
//! for a case that exists is rendered, stored at `letters/<case_ref>/<letter_id>.pdf`
//! and recorded under its case with an audit event. Written against the storage ports
//! only.
//!
//! Idempotent by request id: the letter id is derived from it, and the record
//! (`CASE#<case_ref>` / `LETTER#<letter_id>`) is written only if absent, so a request
//! delivered twice (or by two workers at once) gives one letter and one audit event.
//!
//! The record is written first and is the commit point. It is written as `rendering`
//! and holds what reproduces the PDF exactly: the template's name and version, the
//! request's data and the SHA-256 of the PDF. Only then is the PDF put at the letter's
//! one key, and the record marked `stored` (conditional on its version, in one
//! transaction with the `letter_generated` audit event). So:
//! - a delivery that loses the race for the record (another delivery, perhaps with other
//!   data, an acknowledgement dated another day, recorded it first) never writes the
//!   PDF of its own data: it finishes the recorded letter, or answers `unchanged`;
//! - a delivery that stopped after the record (before the PDF, or before the record was
//!   marked) is finished by the next delivery of the same request id, whatever data that
//!   one carries: the PDF is rendered again from the recorded template version and data
//!   (the same bytes: rendering is deterministic, and the hash is checked before the put);
//! - if the recorded template version is no longer the registry's, the letter stays
//!   `rendering` and the request fails with `template_version_changed`, rather than
//!   storing a different letter under the record.
//!
//! A request whose data is invalid is recorded as `invalid` with every problem by field
//! name (nothing the sender gave is lost) and is not retried; a later try with the same
//! request id, once the data or the template is fixed, replaces that record with the
//! letter (the replacement is conditional on the refusal's `version`).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::clock::Clock;
use crate::failure::ErrorCode as _;
use crate::letters::{Format, LetterError, Registry, Rendered};
use crate::model::keys;
use crate::store::Stores;
use crate::store::{Condition, Item, Key, PutOptions, StoreError, TxOp, VERSION};

/// A request for one letter.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LetterRequest {
    /// The sender's id for this request; the same id always means the same letter.
    pub request_id: String,
    pub template: String,
    pub case_ref: String,
    pub data: Value,
}

/// What became of a request.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LetterStatus {
    /// Rendered, stored and recorded now (perhaps finishing a letter an earlier delivery
    /// of the same request recorded and did not finish).
    Stored,
    /// Already done by an earlier delivery of the same request.
    Unchanged,
    /// Refused: the data does not fit the template (see `errors`).
    Invalid,
}

#[derive(Debug, Clone, Serialize)]
pub struct LetterOutcome {
    pub request_id: String,
    pub letter_id: String,
    pub case_ref: String,
    pub status: LetterStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_key: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// Why a request could not be handled. The messages carry ids, template names and
/// versions, never the letter's data.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("the letter request is not usable: {0}")]
    BadRequest(String),
    /// No case has this reference: a letter is recorded only under a case that exists.
    #[error("no case {0}: a letter is recorded only under a case that exists")]
    CaseNotFound(String),
    /// The template is for another kind of case: `foi-*` letters go only to FOI requests,
    /// and no other letter does.
    #[error("{0}")]
    WrongKindOfCase(String),
    /// The request's data is too large for the letter's record to hold.
    #[error(
        "the letter data is {bytes} bytes as JSON; a letter's record holds at most {MAX_DATA_BYTES}"
    )]
    DataTooLarge { bytes: usize },
    /// The letter was recorded with a template version the registry no longer has: it
    /// stays `rendering` rather than being finished with a different letter.
    #[error(
        "letter {letter_id} was recorded with {template} {recorded}, but the templates now have {current}: left unfinished"
    )]
    TemplateVersionChanged {
        letter_id: String,
        template: String,
        recorded: String,
        current: String,
    },
    /// The letter's record does not reproduce the PDF it describes (its data is missing,
    /// or no longer renders to the recorded bytes): it stays `rendering`.
    #[error("letter {letter_id} cannot be rendered again as recorded: {reason}")]
    NotReproducible { letter_id: String, reason: String },
    #[error(transparent)]
    Letter(#[from] LetterError),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// A letter task stopped unexpectedly (a caught panic): never the request's fault.
    #[error("a letter task stopped unexpectedly: {0}")]
    Internal(String),
    /// The letter's record or its case's audit keys kept changing under each try.
    #[error("letter {0} could not be recorded: its case was busy; try again")]
    Busy(String),
}

impl crate::failure::ErrorCode for SendError {
    fn code(&self) -> crate::failure::Code {
        use crate::failure::Code;
        match self {
            SendError::BadRequest(_) => Code::InvalidRequest,
            SendError::CaseNotFound(_) => Code::CaseNotFound,
            SendError::WrongKindOfCase(_) => Code::NotApplicable,
            SendError::DataTooLarge { .. } => Code::DataTooLarge,
            SendError::TemplateVersionChanged { .. } => Code::TemplateVersionChanged,
            SendError::NotReproducible { .. } => Code::LetterNotReproducible,
            SendError::Letter(e) => e.code(),
            SendError::Store(e) => e.code(),
            SendError::Busy(_) => Code::Busy,
            SendError::Internal(_) => Code::Internal,
        }
    }
}

impl SendError {
    /// Whether a later try may succeed.
    pub fn is_retryable(&self) -> bool {
        crate::failure::ErrorCode::code(self).retryable()
    }
}

/// How many times a record is tried when a condition fails (the record changed, or an
/// audit event of the same millisecond holds the key) before the request is reported as
/// busy, to be retried later.
const RECORD_TRIES: u32 = 4;

/// The most request data (as JSON) a letter's record holds while the letter is rendered:
/// with the record's other attributes it stays well inside DynamoDB's 400 KB item. A
/// request with more is refused (`data_too_large`) before anything is written.
pub const MAX_DATA_BYTES: usize = 300 * 1024;

/// The letter's status while its record holds what reproduces it and its PDF may not be
/// stored yet.
const RENDERING: &str = "rendering";
/// The letter's status once its PDF is stored.
const STORED: &str = "stored";
/// A refused request's status.
const INVALID: &str = "invalid";

/// The letter id for a request id: stable, short, safe in a key.
pub fn letter_id(request_id: &str) -> String {
    format!(
        "L-{}",
        &hex::encode(Sha256::digest(request_id.as_bytes()))[..20]
    )
}

/// The S3 key of a letter: `letters/<case_ref>/<letter_id>.pdf` (its record's `s3_key`).
pub fn letter_key(case_ref: &str, letter_id: &str) -> String {
    format!("letters/{case_ref}/{letter_id}.pdf")
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn check_request(r: &LetterRequest) -> Result<(), SendError> {
    let bad = |m: &str| Err(SendError::BadRequest(m.to_string()));
    if r.request_id.trim().is_empty() || r.request_id.len() > 200 {
        return bad("request_id must be 1 to 200 characters");
    }
    let c = &r.case_ref;
    if c.is_empty()
        || c.len() > 100
        || c.chars().any(|ch| ch.is_control() || ch == '\\')
        || c.split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == "..")
    {
        return bad("case_ref must be a case reference such as CNST/24/004512 or FOI_7001");
    }
    fits(&r.template, c)
}

/// Whether a template's letters may be made for a case: the FOI templates (`foi-*`)
/// for FOI requests only, every other template for any case but an FOI request. Who
/// may make FOI letters is the front's to check (the console: FOI officers).
pub fn fits(template: &str, case_ref: &str) -> Result<(), SendError> {
    let foi_template = template.starts_with("foi-");
    let foi_case = crate::model::CaseKind::of_reference(case_ref) == crate::model::CaseKind::Foi;
    match (foi_template, foi_case) {
        (true, false) => Err(SendError::WrongKindOfCase(format!(
            "{template} letters are for FOI requests (such as FOI_7001), and {case_ref} is not one"
        ))),
        (false, true) => Err(SendError::WrongKindOfCase(format!(
            "{template} letters are not for FOI requests: {case_ref} is one"
        ))),
        _ => Ok(()),
    }
}

/// Where letter requests go: rendered at once (`Letters`), or queued for the letters
/// function (`SqsQueue`). Either way a request id is handled once, however often it is
/// submitted.
#[async_trait::async_trait]
pub trait LetterSink: Send + Sync + std::fmt::Debug {
    /// `Ok` once the request is rendered or safely queued.
    async fn submit(&self, request: &LetterRequest) -> Result<(), SendError>;
}

/// A sink that hands each request to another sink in a background task and returns at
/// once, so that the caller goes on (the next document is read and filed while a letter
/// is rendered and its PDF reaches the disk). At most `in_flight` requests are under way;
/// [`Background::finish`] waits for them all and gives back those that failed.
///
/// For the CLI only: a request is not durable when `submit` returns. A run cut short
/// loses only requests that running it again makes again (a filed document's
/// acknowledgement is requested on every delivery).
#[derive(Debug)]
pub struct Background {
    inner: Arc<dyn LetterSink>,
    in_flight: usize,
    tasks: tokio::sync::Mutex<tokio::task::JoinSet<(String, Result<(), SendError>)>>,
    failed: std::sync::Mutex<Vec<(String, SendError)>>,
}

impl Background {
    pub fn new(inner: Arc<dyn LetterSink>, in_flight: usize) -> Self {
        Background {
            inner,
            in_flight: in_flight.max(1),
            tasks: tokio::sync::Mutex::default(),
            failed: std::sync::Mutex::default(),
        }
    }

    fn note(&self, joined: Result<(String, Result<(), SendError>), tokio::task::JoinError>) {
        let failure = match joined {
            Ok((_, Ok(()))) => return,
            Ok((request_id, Err(e))) => (request_id, e),
            Err(e) => (
                "(unknown)".to_owned(),
                SendError::Internal(format!("the letter task stopped: {e}")),
            ),
        };
        self.failed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(failure);
    }

    /// Waits for every request under way; the ones that failed, by request id.
    pub async fn finish(&self) -> Vec<(String, SendError)> {
        let mut tasks = self.tasks.lock().await;
        while let Some(joined) = tasks.join_next().await {
            self.note(joined);
        }
        std::mem::take(&mut *self.failed.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

#[async_trait::async_trait]
impl LetterSink for Background {
    async fn submit(&self, request: &LetterRequest) -> Result<(), SendError> {
        check_request(request)?;
        let mut tasks = self.tasks.lock().await;
        while tasks.len() >= self.in_flight {
            match tasks.join_next().await {
                Some(joined) => self.note(joined),
                None => break,
            }
        }
        let inner = self.inner.clone();
        let request = request.clone();
        tasks.spawn(async move {
            let result = inner.submit(&request).await;
            (request.request_id, result)
        });
        Ok(())
    }
}

#[async_trait::async_trait]
impl LetterSink for Letters {
    async fn submit(&self, request: &LetterRequest) -> Result<(), SendError> {
        self.send(request).await.map(|_| ())
    }
}

#[cfg(feature = "aws")]
#[async_trait::async_trait]
impl LetterSink for crate::store::SqsQueue {
    async fn submit(&self, request: &LetterRequest) -> Result<(), SendError> {
        check_request(request)?;
        let body =
            serde_json::to_string(request).map_err(|e| SendError::BadRequest(e.to_string()))?;
        Ok(self.send(&body).await?)
    }
}

/// Renders, stores and records letters.
#[derive(Debug, Clone)]
pub struct Letters {
    pub stores: Stores,
    pub registry: &'static Registry,
    pub clock: Arc<dyn Clock>,
    pub actor: String,
}

/// What a request renders to, worked out at most once per `send`.
enum Prepared {
    /// Rendered; `data_json` is the request's data as its record keeps it.
    Letter {
        rendered: Rendered,
        data_json: String,
    },
    /// Refused: every problem, and the fields they concern.
    Invalid {
        errors: Vec<String>,
        fields: Vec<String>,
    },
}

fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(Value::as_str)
}

fn text_list(item: &Item, name: &str) -> Vec<String> {
    crate::store::strings(item.get(name))
}

fn outcome(
    request: &LetterRequest,
    letter_id: &str,
    status: LetterStatus,
    s3_key: Option<String>,
    errors: Vec<String>,
) -> LetterOutcome {
    LetterOutcome {
        request_id: request.request_id.clone(),
        letter_id: letter_id.to_owned(),
        case_ref: request.case_ref.clone(),
        status,
        s3_key,
        errors,
    }
}

impl Letters {
    /// The same use case acting as `who` (a person signed in to the console).
    pub fn acting_as(&self, who: &str) -> Letters {
        Letters {
            stores: self.stores.clone(),
            registry: self.registry,
            clock: self.clock.clone(),
            actor: who.to_owned(),
        }
    }

    pub async fn send(&self, request: &LetterRequest) -> Result<LetterOutcome, SendError> {
        let outcome = self.send_once(request).await?;
        // A claim's acknowledgement meets its deadline: the claim's clock is worked out
        // again (again on a redelivery, which repairs a stop between the two).
        if request.template == crate::metadata::Acknowledgement::Claim.template()
            && outcome.status != LetterStatus::Invalid
        {
            let clocks = crate::claims::ClaimClocks::new(
                self.stores.table.clone(),
                self.clock.clone(),
                self.actor.clone(),
            );
            clocks.keep(&request.case_ref).await?;
        }
        Ok(outcome)
    }

    async fn send_once(&self, request: &LetterRequest) -> Result<LetterOutcome, SendError> {
        check_request(request)?;
        // One FOI request gets one acknowledgement however it is asked for (ingest, the
        // CLI, the letters function): its letter is named by the request's reference,
        // whatever request id the caller sent.
        let foi_acknowledgement = crate::metadata::Acknowledgement::Foi.template();
        let canonical;
        let request = if request.template == foi_acknowledgement {
            let id = format!("{foi_acknowledgement}:{}", request.case_ref);
            if request.request_id == id {
                request
            } else {
                canonical = LetterRequest {
                    request_id: id,
                    ..request.clone()
                };
                &canonical
            }
        } else {
            request
        };
        let letter_id = letter_id(&request.request_id);
        let key = Key::new(keys::case(&request.case_ref), keys::letter(&letter_id));
        let now = self
            .clock
            .now()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut prepared: Option<Prepared> = None;
        for attempt in 0..RECORD_TRIES {
            let existing = match self.stores.table.get(&key).await? {
                // Recorded and not finished: finish it as recorded, whatever this
                // delivery's data says.
                Some(record) if text(&record, "status") == Some(RENDERING) => {
                    return self
                        .finish(request, &letter_id, record, prepared.as_ref(), &now)
                        .await;
                }
                // A letter already stored is final.
                Some(record) if text(&record, "status") != Some(INVALID) => {
                    let s3_key = text(&record, "s3_key").map(str::to_string);
                    return Ok(outcome(
                        request,
                        &letter_id,
                        LetterStatus::Unchanged,
                        s3_key,
                        Vec::new(),
                    ));
                }
                // None yet, or a refusal, tried again (the template or the data may have
                // been fixed since).
                other => other,
            };
            if prepared.is_none() {
                let case = Key::new(keys::case(&request.case_ref), keys::META);
                if self.stores.table.get(&case).await?.is_none() {
                    tracing::warn!(letter_id = %letter_id, template = %request.template, "no case for the letter");
                    return Err(SendError::CaseNotFound(request.case_ref.clone()));
                }
                prepared = Some(self.prepare(request)?);
            }
            let Some(this) = prepared.as_ref() else {
                continue;
            };
            // Only absent, or the refusal just read, may be written over.
            let (condition, version) = match &existing {
                None => (Condition::Absent, 1),
                Some(item) => match item.get(VERSION).and_then(Value::as_u64) {
                    Some(v) => (Condition::VersionEquals(v), v + 1),
                    // A refusal recorded before refusals had a version.
                    None => (Condition::Exists, 1),
                },
            };
            match this {
                Prepared::Invalid { errors, fields } => {
                    if let Some(item) = &existing
                        && text_list(item, "errors") == *errors
                    {
                        // Refused before for the same reasons: nothing new to record.
                        return Ok(outcome(
                            request,
                            &letter_id,
                            LetterStatus::Invalid,
                            None,
                            errors.clone(),
                        ));
                    }
                    let record = self.record(
                        request,
                        &letter_id,
                        &now,
                        INVALID,
                        version,
                        json!({ "errors": errors }),
                    );
                    let audit = self.audit(
                        request,
                        &now,
                        attempt,
                        "letter_refused",
                        json!({ "letter_id": letter_id, "fields": fields }),
                    );
                    let ops = vec![
                        TxOp::Put {
                            item: record,
                            condition,
                        },
                        audit,
                    ];
                    match self.stores.table.transact(ops).await {
                        Ok(()) => {
                            tracing::warn!(letter_id = %letter_id, template = %request.template, fields = ?fields, "letter data invalid");
                            return Ok(outcome(
                                request,
                                &letter_id,
                                LetterStatus::Invalid,
                                None,
                                errors.clone(),
                            ));
                        }
                        // The record changed since it was read (another delivery), or an
                        // audit event of the same millisecond holds the key: read again.
                        Err(StoreError::ConditionFailed { .. }) => {
                            tracing::info!(letter_id = %letter_id, attempt, "letter record or audit key taken; trying again");
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                Prepared::Letter {
                    rendered,
                    data_json,
                } => {
                    let record = self.record(
                        request,
                        &letter_id,
                        &now,
                        RENDERING,
                        version,
                        json!({
                            "template_version": rendered.version,
                            "data_hash": rendered.data_hash,
                            "data_json": data_json,
                            "pdf_sha256": sha256_hex(&rendered.bytes),
                            "s3_key": letter_key(&request.case_ref, &letter_id),
                            "pages": rendered.pages,
                            "bytes": rendered.bytes.len(),
                        }),
                    );
                    match self.stores.table.put(record.clone(), condition).await {
                        Ok(()) => {
                            return self
                                .finish(request, &letter_id, record, Some(this), &now)
                                .await;
                        }
                        // Another delivery recorded the letter (or a refusal) first: read
                        // it again; nothing of this delivery's rendering has been written.
                        Err(StoreError::ConditionFailed { .. }) => {
                            tracing::info!(letter_id = %letter_id, attempt, "letter record taken; reading it again");
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            }
        }
        Err(SendError::Busy(letter_id))
    }

    /// Checks the request's size and renders it (nothing is written).
    fn prepare(&self, request: &LetterRequest) -> Result<Prepared, SendError> {
        let data_json = serde_json::to_string(&request.data)
            .map_err(|e| SendError::BadRequest(format!("the data is not JSON: {e}")))?;
        if data_json.len() > MAX_DATA_BYTES {
            return Err(SendError::DataTooLarge {
                bytes: data_json.len(),
            });
        }
        match self
            .registry
            .render(&request.template, &request.data, Format::Pdf)
        {
            Ok(rendered) => Ok(Prepared::Letter {
                rendered,
                data_json,
            }),
            Err(LetterError::Invalid(problems)) => Ok(Prepared::Invalid {
                errors: problems.iter().map(ToString::to_string).collect(),
                fields: problems.iter().map(|p| p.field.clone()).collect(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Finishes a letter whose record says `rendering`: puts its PDF (this delivery's
    /// rendering if it is the recorded one, byte for byte; otherwise rendered again from
    /// the record) at the letter's key, then marks the record `stored` (conditional on its
    /// version) with the audit event.
    async fn finish(
        &self,
        request: &LetterRequest,
        letter_id: &str,
        mut record: Item,
        this: Option<&Prepared>,
        now: &str,
    ) -> Result<LetterOutcome, SendError> {
        let key = Key::new(keys::case(&request.case_ref), keys::letter(letter_id));
        let s3_key = letter_key(&request.case_ref, letter_id);
        let Some(version) = record.get(VERSION).and_then(Value::as_u64) else {
            return Err(SendError::NotReproducible {
                letter_id: letter_id.to_owned(),
                reason: "its record has no version".into(),
            });
        };
        let template = text(&record, "template").unwrap_or_default().to_owned();
        let template_version = text(&record, "template_version")
            .unwrap_or_default()
            .to_owned();
        let want = text(&record, "pdf_sha256").unwrap_or_default();
        let bytes = match this {
            Some(Prepared::Letter { rendered, .. }) if sha256_hex(&rendered.bytes) == want => {
                rendered.bytes.clone()
            }
            _ => self.render_recorded(letter_id, &record)?,
        };
        let options = PutOptions::content_type("application/pdf")
            .with_meta("letter-id", letter_id.to_owned())
            .with_meta("template", format!("{template} {template_version}"));
        self.stores
            .blobs
            .put(&s3_key, bytes.into(), &options)
            .await?;
        for attempt in 0..RECORD_TRIES {
            let mut done = record.clone();
            done.insert("status".into(), json!(STORED));
            done.insert(VERSION.into(), json!(version + 1));
            done.insert("s3_key".into(), json!(s3_key));
            done.insert("stored_at".into(), json!(now));
            // The PDF holds the data now; the record keeps its hash.
            done.remove("data_json");
            let audit = self.audit(
                request,
                now,
                attempt,
                "letter_generated",
                json!({ "letter_id": letter_id, "template": template, "version": template_version, "s3_key": s3_key }),
            );
            let ops = vec![
                TxOp::Put {
                    item: done,
                    condition: Condition::VersionEquals(version),
                },
                audit,
            ];
            match self.stores.table.transact(ops).await {
                Ok(()) => {
                    let pages = record.get("pages").and_then(Value::as_u64).unwrap_or(0);
                    tracing::info!(letter_id = %letter_id, template = %template, pages, "letter stored");
                    return Ok(outcome(
                        request,
                        letter_id,
                        LetterStatus::Stored,
                        Some(s3_key),
                        Vec::new(),
                    ));
                }
                Err(StoreError::ConditionFailed { .. }) => {
                    match self.stores.table.get(&key).await? {
                        // Still as read: an audit event of the same millisecond holds
                        // the key; try the next sequence number.
                        Some(current)
                            if text(&current, "status") == Some(RENDERING)
                                && current.get(VERSION).and_then(Value::as_u64)
                                    == Some(version) =>
                        {
                            tracing::info!(letter_id = %letter_id, attempt, "audit key taken; trying again");
                            record = current;
                        }
                        // Another delivery finished it (with the same bytes).
                        Some(current) if text(&current, "status") == Some(STORED) => {
                            let s3_key = text(&current, "s3_key").map(str::to_string);
                            return Ok(outcome(
                                request,
                                letter_id,
                                LetterStatus::Unchanged,
                                s3_key,
                                Vec::new(),
                            ));
                        }
                        // Changed in some other way: let a later delivery read it afresh.
                        _ => return Err(SendError::Busy(letter_id.to_owned())),
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(SendError::Busy(letter_id.to_owned()))
    }

    /// The recorded letter's PDF, rendered again from its record: the same template
    /// version and data give the same bytes, which are checked against the recorded hash.
    fn render_recorded(&self, letter_id: &str, record: &Item) -> Result<Vec<u8>, SendError> {
        let field = |name| text(record, name).unwrap_or_default();
        let (template, recorded) = (field("template"), field("template_version"));
        let current = match self.registry.get(template) {
            Ok(t) => t.spec.version.clone(),
            Err(_) => "no such template".to_owned(),
        };
        if current != recorded {
            tracing::warn!(letter_id = %letter_id, template = %template, recorded = %recorded, current = %current, "letter left unfinished: its template version changed");
            return Err(SendError::TemplateVersionChanged {
                letter_id: letter_id.to_owned(),
                template: template.to_owned(),
                recorded: recorded.to_owned(),
                current,
            });
        }
        let unreproducible = |reason: String| {
            tracing::warn!(letter_id = %letter_id, template = %template, reason = %reason, "letter left unfinished");
            SendError::NotReproducible {
                letter_id: letter_id.to_owned(),
                reason,
            }
        };
        let data: Value = serde_json::from_str(field("data_json"))
            .map_err(|_| unreproducible("its record holds no data".into()))?;
        let rendered = self
            .registry
            .render(template, &data, Format::Pdf)
            .map_err(|e| unreproducible(format!("rendering it again failed ({})", e.code())))?;
        if sha256_hex(&rendered.bytes) != field("pdf_sha256") {
            return Err(unreproducible(
                "its data renders to other bytes than the recorded PDF".into(),
            ));
        }
        Ok(rendered.bytes)
    }

    /// A letter's record: `status` and the attributes in `extra`, at `version`.
    fn record(
        &self,
        r: &LetterRequest,
        letter_id: &str,
        now: &str,
        status: &str,
        version: u64,
        extra: Value,
    ) -> Item {
        let mut item = Item::new();
        item.insert("PK".into(), json!(keys::case(&r.case_ref)));
        item.insert("SK".into(), json!(keys::letter(letter_id)));
        item.insert("letter_id".into(), json!(letter_id));
        item.insert("request_id".into(), json!(r.request_id));
        item.insert("template".into(), json!(r.template));
        item.insert("status".into(), json!(status));
        item.insert("created_at".into(), json!(now));
        item.insert("created_by".into(), json!(self.actor));
        item.insert(VERSION.into(), json!(version));
        if let Value::Object(extra) = extra {
            item.extend(extra);
        }
        item
    }

    /// The audit event; `attempt` moves it to another sequence number when an event of
    /// the same case and millisecond already holds the first one.
    fn audit(
        &self,
        r: &LetterRequest,
        now: &str,
        attempt: u32,
        what: &str,
        details: Value,
    ) -> TxOp {
        // The letter id in the sequence keeps two letters of the same millisecond apart.
        let base = u32::from_str_radix(&letter_id(&r.request_id)[2..6], 16).unwrap_or(0);
        let seq = (base + attempt * 1_009) % 10_000;
        crate::model::audit_event(
            keys::case(&r.case_ref),
            now,
            seq,
            &self.actor,
            what,
            details,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A slow sink that refuses one request and counts how many run at once.
    #[derive(Debug, Default)]
    struct Slow {
        running: AtomicUsize,
        most: AtomicUsize,
        done: AtomicUsize,
    }

    #[async_trait::async_trait]
    impl LetterSink for Slow {
        async fn submit(&self, request: &LetterRequest) -> Result<(), SendError> {
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            self.running.fetch_sub(1, Ordering::SeqCst);
            self.done.fetch_add(1, Ordering::SeqCst);
            if request.request_id == "claim-acknowledgement:d-3" {
                return Err(SendError::BadRequest("no sender address".into()));
            }
            Ok(())
        }
    }

    fn request(n: usize) -> LetterRequest {
        LetterRequest {
            request_id: format!("claim-acknowledgement:d-{n}"),
            template: "claim-acknowledgement".into(),
            case_ref: "CNST/24/004512".into(),
            data: json!({}),
        }
    }

    #[tokio::test]
    async fn background_requests_return_at_once_and_finish_reports_the_failures() {
        let slow = Arc::new(Slow::default());
        let background = Background::new(slow.clone(), 2);
        let start = std::time::Instant::now();
        background.submit(&request(1)).await.expect("submit");
        assert!(start.elapsed() < std::time::Duration::from_millis(15));
        for n in 2..=6 {
            background.submit(&request(n)).await.expect("submit");
        }
        let failed = background.finish().await;
        assert_eq!(slow.done.load(Ordering::SeqCst), 6, "finish waits for all");
        assert_eq!(slow.most.load(Ordering::SeqCst), 2, "at most two at once");
        let ids: Vec<&str> = failed.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["claim-acknowledgement:d-3"]);
        assert!(background.finish().await.is_empty(), "reported once");
        // A request that could never be sent is refused at once, as by any sink.
        let mut bad = request(7);
        bad.case_ref = "../etc".into();
        assert!(matches!(
            background.submit(&bad).await,
            Err(SendError::BadRequest(_))
        ));
    }
}
