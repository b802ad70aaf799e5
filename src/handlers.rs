//! The Lambda handlers' logic, independent of the runtime: the ingest function takes an
//! SQS batch (or a direct S3 / EventBridge event) and reports only the messages that
//! failed, so SQS retries just those (and moves a message that keeps failing to the DLQ).

use futures::StreamExt as _;
use serde_json::Value;

use crate::events::{EventError, Payload, Upload, classify, decode_notification, decode_sqs_body};
use crate::failure::{Code, ErrorCode as _};
use crate::ingest::{Ingest, IngestError, Outcome};
use crate::letter_service::SendError;

/// What a batch did.
#[derive(Debug, Default)]
pub struct BatchReport {
    /// The ids of messages to retry (transient failures and undecodable messages).
    pub failed: Vec<String>,
    pub outcomes: Vec<Outcome>,
}

/// Why an invocation failed: a code from the one failure table (which says whether a
/// retry may help: the Lambda diagnostic's `Retryable` or `Permanent`) and a message
/// that carries no data from the caller or the documents, since the runtime logs it.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct HandlerError {
    pub code: Code,
    pub message: String,
}

impl HandlerError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        HandlerError {
            code,
            message: message.into(),
        }
    }

    /// The error type Lambda records: `Retryable` or `Permanent`.
    pub fn kind(&self) -> &'static str {
        if self.code.retryable() {
            "Retryable"
        } else {
            "Permanent"
        }
    }
}

impl From<IngestError> for HandlerError {
    /// A code and a fixed sentence: the runtime logs this, and an ingest error's own
    /// message can name an object key (an uploader's file name, which can name a person).
    fn from(e: IngestError) -> Self {
        HandlerError::new(e.code(), "ingesting an upload failed")
    }
}

impl From<EventError> for HandlerError {
    fn from(e: EventError) -> Self {
        HandlerError::new(e.code(), e.0)
    }
}

impl From<SendError> for HandlerError {
    fn from(e: SendError) -> Self {
        HandlerError::new(e.code(), e.to_string())
    }
}

async fn ingest_uploads(
    ingest: &Ingest,
    uploads: Vec<Upload>,
) -> Result<Vec<Outcome>, IngestError> {
    let mut outcomes = Vec::new();
    for upload in uploads {
        if let Upload::Object(obj) = upload {
            outcomes.push(ingest.ingest(&obj).await?);
        }
    }
    Ok(outcomes)
}

/// Processes an SQS batch, at most `concurrency` messages at once.
pub async fn ingest_sqs_batch(
    ingest: &Ingest,
    messages: Vec<(String, String)>,
    concurrency: usize,
) -> BatchReport {
    let results: Vec<(String, Result<Vec<Outcome>, HandlerError>)> =
        futures::stream::iter(messages)
            .map(|(id, body)| async move {
                let result = match decode_sqs_body(&body) {
                    Ok(uploads) => ingest_uploads(ingest, uploads)
                        .await
                        .map_err(HandlerError::from),
                    Err(e) => Err(HandlerError::from(e)),
                };
                (id, result)
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
    let mut report = BatchReport::default();
    for (id, result) in results {
        match result {
            Ok(outcomes) => report.outcomes.extend(outcomes),
            Err(e) => {
                tracing::warn!(message_id = %id, code = %e.code, kind = e.kind(), "message failed");
                report.failed.push(id);
            }
        }
    }
    report
}

/// Handles any payload: an SQS batch gives `{"batchItemFailures": [...]}`; a direct
/// event gives the outcomes, or an error marked retryable or permanent.
pub async fn handle_ingest(
    ingest: &Ingest,
    payload: Value,
    concurrency: usize,
) -> Result<Value, HandlerError> {
    match classify(payload) {
        Payload::Sqs(messages) => {
            let report = ingest_sqs_batch(ingest, messages, concurrency).await;
            let failures: Vec<Value> = report
                .failed
                .iter()
                .map(|id| serde_json::json!({"itemIdentifier": id}))
                .collect();
            Ok(serde_json::json!({"batchItemFailures": failures}))
        }
        Payload::Direct(v) => {
            let uploads = decode_notification(&v)?;
            let outcomes = ingest_uploads(ingest, uploads).await?;
            Ok(serde_json::to_value(outcomes).unwrap_or(Value::Null))
        }
    }
}

/// The OCR function (issue 20 on AWS): an SQS batch of OCR requests
/// (`{"doc_id", "sha256"}`, sent by the ingest function for documents with scanned pages)
/// gives `{"batchItemFailures": [...]}`: each request's pages are read and its document
/// filed again (`Ingest::read_scans`), at most `concurrency` at once; a request that fails
/// (the store, a deployment without an engine, a message that is not a request) is
/// reported alone, so SQS tries it again and keeps it in the dead-letter queue after the
/// queue's maxReceiveCount. A direct invocation with one request gives its outcome.
pub async fn handle_scans(
    ingest: &Ingest,
    payload: Value,
    concurrency: usize,
) -> Result<Value, HandlerError> {
    use crate::ingest::ScanRequest;
    let read = |body: &str| {
        let request = ScanRequest::from_message(body);
        async move { ingest.read_scans(&request?).await }
    };
    match classify(payload) {
        Payload::Sqs(messages) => {
            let results: Vec<(String, Result<Outcome, IngestError>)> =
                futures::stream::iter(messages)
                    .map(|(id, body)| async move { (id, read(&body).await) })
                    .buffer_unordered(concurrency.max(1))
                    .collect()
                    .await;
            let mut failures = Vec::new();
            for (id, result) in results {
                match result {
                    Ok(outcome) => tracing::info!(
                        message_id = %id,
                        doc_id = outcome.doc_id.as_deref().unwrap_or("-"),
                        status = outcome.status.as_str(),
                        reason = outcome.reason.as_deref().unwrap_or("-"),
                        "OCR request done"
                    ),
                    Err(e) => {
                        let e = HandlerError::new(
                            e.code(),
                            "reading a document's scanned pages failed",
                        );
                        tracing::warn!(message_id = %id, code = %e.code, kind = e.kind(), "OCR request failed");
                        failures.push(serde_json::json!({ "itemIdentifier": id }));
                    }
                }
            }
            Ok(serde_json::json!({ "batchItemFailures": failures }))
        }
        Payload::Direct(v) => {
            let outcome = read(&v.to_string()).await.map_err(|e| {
                HandlerError::new(e.code(), "reading a document's scanned pages failed")
            })?;
            Ok(serde_json::to_value(outcome).unwrap_or(Value::Null))
        }
    }
}

/// The letters function: an SQS batch of letter requests gives
/// `{"batchItemFailures": [...]}`. A request whose data does not fit its template is
/// recorded as invalid (with every problem by field) and acknowledged; any other failure
/// is reported, so SQS tries again and, after the queue's maxReceiveCount, keeps the
/// message in the dead-letter queue: nothing is dropped. A direct invocation with one
/// request gives its outcome, or an error marked retryable or permanent.
pub async fn handle_letters(
    outbox: &crate::letter_service::Letters,
    payload: Value,
    concurrency: usize,
) -> Result<Value, HandlerError> {
    handle_letters_queue(outbox, None, payload, concurrency).await
}

/// The letters function on AWS: the letters queue carries letter requests and the
/// steps of jobs (`{"job", "from"}`: letter batches, statistics, the disclosure log),
/// each step a bounded piece of work that queues the next. A step that came before its
/// predecessor was recorded is reported as failed, so SQS delivers it again later.
pub async fn handle_letters_and_jobs(
    app: &crate::app::App,
    payload: Value,
) -> Result<Value, HandlerError> {
    handle_letters_queue(app.letters(), Some(app), payload, app.config.concurrency).await
}

async fn handle_letters_queue(
    outbox: &crate::letter_service::Letters,
    jobs: Option<&crate::app::App>,
    payload: Value,
    concurrency: usize,
) -> Result<Value, HandlerError> {
    use crate::jobs::JobStep;
    use crate::letter_service::LetterRequest;
    match classify(payload) {
        Payload::Sqs(messages) => {
            let results: Vec<(String, Result<(), HandlerError>)> = futures::stream::iter(messages)
                .map(|(id, body)| async move {
                    let value: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                    let result = match (jobs, JobStep::from_message(&value)) {
                        (Some(app), Some(step)) => app
                            .job_step(&step)
                            .await
                            .map_err(|e| HandlerError::new(e.code(), "a job's step failed")),
                        _ => match serde_json::from_value::<LetterRequest>(value) {
                            Ok(request) => outbox.send(&request).await.map(|_| ()),
                            Err(e) => Err(SendError::BadRequest(e.to_string())),
                        }
                        .map_err(HandlerError::from),
                    };
                    (id, result)
                })
                .buffer_unordered(concurrency.max(1))
                .collect()
                .await;
            let mut failures = Vec::new();
            for (id, result) in results {
                if let Err(e) = result {
                    tracing::warn!(message_id = %id, code = %e.code, retryable = e.code.retryable(), "letter request or job step failed");
                    failures.push(serde_json::json!({ "itemIdentifier": id }));
                }
            }
            Ok(serde_json::json!({ "batchItemFailures": failures }))
        }
        Payload::Direct(v) => {
            if let (Some(app), Some(step)) = (jobs, JobStep::from_message(&v)) {
                app.job_step(&step)
                    .await
                    .map_err(|e| HandlerError::new(e.code(), "a job's step failed"))?;
                return Ok(serde_json::json!({ "job": step.job }));
            }
            let request: LetterRequest = serde_json::from_value(v).map_err(|e| {
                HandlerError::new(Code::InvalidRequest, format!("not a letter request: {e}"))
            })?;
            let outcome = outbox.send(&request).await?;
            Ok(serde_json::to_value(outcome).unwrap_or(Value::Null))
        }
    }
}

/// How the FOI function is set up.
#[derive(Debug, Clone, Default)]
pub struct FoiSettings {
    /// Reminders for requests due within this many working days.
    pub remind_within: u32,
    /// The ARN of the schedule (an EventBridge Scheduler schedule, or an EventBridge rule)
    /// whose events may start the daily sweep (`POSTROOM_SWEEP_RULE_ARN`). A scheduled
    /// event whose `resources` do not name it is refused; with none set, every one is.
    pub sweep_rule_arn: Option<String>,
}

/// The environment variable that names the sweep's schedule ([`FoiSettings`]).
pub const SWEEP_RULE_ARN_VAR: &str = crate::config::ENV_SWEEP_RULE_ARN;

impl FoiSettings {
    /// The settings from the configuration; warns once when no sweep schedule is set.
    pub fn from_config(config: &crate::config::Config) -> FoiSettings {
        if config.sweep_rule_arn.is_none() {
            tracing::warn!(
                variable = SWEEP_RULE_ARN_VAR,
                "no sweep schedule configured: scheduled events will be refused"
            );
        }
        FoiSettings {
            remind_within: config.remind_within,
            sweep_rule_arn: config.sweep_rule_arn.clone(),
        }
    }
}

/// A refusal of a malformed command: `invalid_request`, the reason and a message that
/// carries no data from the caller (no request text, names, keys or values echoed),
/// since the runtime logs it.
fn refused(reason: &str, message: &str) -> HandlerError {
    HandlerError::new(Code::InvalidRequest, format!("{reason}: {message}"))
}

/// An FOI failure as a code and a message without user data.
fn foi_failure(e: crate::foi::service::FoiError) -> HandlerError {
    use crate::foi::service::FoiError;
    let code = e.code();
    match e {
        FoiError::NotFound(reference) => HandlerError::new(
            code,
            format!("no FOI request {}", shown_reference(&reference)),
        ),
        // The lifecycle's messages name the reference, statuses, commands and dates.
        FoiError::Lifecycle(e) => HandlerError::new(code, e.to_string()),
        FoiError::Invalid(message) => HandlerError::new(code, message),
        FoiError::Busy(_) => HandlerError::new(
            code,
            "the request kept changing or no FOI number could be reserved; try again",
        ),
        FoiError::Store(e) if e.is_retryable() => {
            HandlerError::new(code, "the store failed; try again")
        }
        FoiError::Store(_) => HandlerError::new(code, "the store refused the operation"),
    }
}

/// An FOI reference is `FOI_` and digits; anything else is not echoed.
fn is_foi_reference(s: &str) -> bool {
    s.strip_prefix("FOI_")
        .is_some_and(|n| !n.is_empty() && n.len() <= 12 && n.bytes().all(|b| b.is_ascii_digit()))
}

fn shown_reference(s: &str) -> &str {
    if is_foi_reference(s) {
        s
    } else {
        "(not an FOI reference)"
    }
}

/// A caller-supplied name or id: present, at most `max` characters, no control characters.
fn token(payload: &Value, field: &str, max: usize) -> Result<Option<String>, HandlerError> {
    match payload.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s))
            if !s.trim().is_empty()
                && s.chars().count() <= max
                && !s.chars().any(char::is_control) =>
        {
            Ok(Some(s.trim().to_string()))
        }
        Some(_) => Err(refused(
            &format!("bad_{field}"),
            &format!(
                "\"{field}\" must be text of 1 to {max} characters, without control characters"
            ),
        )),
    }
}

/// The daily sweep, started by the schedule named in the settings, for the schedule's
/// day (today or yesterday, by the function's clock: a late retry still counts; a
/// forged day does not).
async fn scheduled_sweep(
    foi: &crate::foi::service::Foi,
    payload: &Value,
    settings: &FoiSettings,
) -> Result<Value, HandlerError> {
    use serde_json::json;
    let from_rule = settings.sweep_rule_arn.as_deref().is_some_and(|arn| {
        payload
            .get("resources")
            .and_then(Value::as_array)
            .is_some_and(|r| r.iter().any(|v| v.as_str() == Some(arn)))
    });
    if !from_rule {
        return Err(refused(
            "not_our_schedule",
            &format!(
                "a scheduled event is accepted only from the sweep's own schedule (its ARN in {SWEEP_RULE_ARN_VAR})"
            ),
        ));
    }
    let today = foi.today();
    let day = match payload.get("time").and_then(Value::as_str) {
        None => today,
        Some(t) => chrono::DateTime::parse_from_rfc3339(t)
            .map(|t| t.date_naive())
            .map_err(|_| refused("bad_time", "the scheduled event's time is not RFC 3339"))?,
    };
    if day > today || day < today - chrono::Days::new(1) {
        return Err(refused(
            "stale_schedule",
            "the scheduled event is not for today or yesterday",
        ));
    }
    let sweeper = crate::foi::service::Foi {
        actor: format!("{} via schedule", foi.actor),
        ..foi.clone()
    };
    let reminders = sweeper
        .sweep(day, settings.remind_within)
        .await
        .map_err(foi_failure)?;
    tracing::info!(
        count = reminders.len(),
        new = reminders.iter().filter(|r| r.new).count(),
        "FOI sweep done"
    );
    // Claims' deadlines, in the same daily run.
    let claims = crate::claims::ClaimClocks::new(
        foi.stores.table.clone(),
        foi.clock.clone(),
        sweeper.actor.clone(),
    )
    .sweep(day, CLAIMS_REMIND_DAYS)
    .await
    .map_err(|e| HandlerError::new(e.code(), "the claims sweep could not read its store"))?;
    tracing::info!(
        count = claims.len(),
        new = claims.iter().filter(|r| r.new).count(),
        "claims sweep done"
    );
    let claims: Vec<Value> = claims
        .iter()
        .map(|r| {
            json!({
                "case_ref": r.case_ref,
                "deadline": r.deadline.as_str(),
                "due": r.due.to_string(),
                "kind": r.kind,
                "new": r.new,
            })
        })
        .collect();
    Ok(json!({ "date": day, "reminders": reminders, "claims": claims }))
}

/// Calendar days ahead that the daily sweep reminds about claims' deadlines.
pub const CLAIMS_REMIND_DAYS: u32 = 14;

/// The FOI function: commands as JSON (`open`, `move`, `show`, `due_list`), invoked
/// directly or from an API, and the daily schedule, which sweeps for requests due soon
/// or overdue and records one reminder per request and day.
///
/// - Every command names its caller in `actor` (refused without one); the audit records
///   `<function> via <actor>`, with the invocation's own identity (`invoker`, a Cognito
///   identity when there is one) after it.
/// - Every command that changes something (`open`, `move`) carries a `request_id`, so a
///   redelivered command changes nothing; refused without one.
/// - A scheduled event is accepted only from the schedule in `settings`, for today.
/// - Errors are a stable code and a message without the caller's data.
pub async fn handle_foi(
    foi: &crate::foi::service::Foi,
    payload: Value,
    settings: &FoiSettings,
    invoker: Option<&str>,
) -> Result<Value, HandlerError> {
    use crate::foi::lifecycle::Command;
    use crate::foi::service::NewRequest;
    use serde_json::json;
    if payload.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event") {
        return scheduled_sweep(foi, &payload, settings).await;
    }
    let text = |k: &str| payload.get(k).and_then(Value::as_str).map(str::to_string);
    let action =
        text("action").ok_or_else(|| refused("no_action", "an FOI command needs an \"action\""))?;
    let actor = token(&payload, "actor", 200)?.ok_or_else(|| {
        refused(
            "no_actor",
            "an FOI command needs an \"actor\": who is asking (recorded in the audit)",
        )
    })?;
    let who = match invoker {
        Some(identity) => format!("{} via {actor} (identity {identity})", foi.actor),
        None => format!("{} via {actor}", foi.actor),
    };
    let foi = &crate::foi::service::Foi {
        actor: who,
        ..foi.clone()
    };
    let request_id = token(&payload, "request_id", 200)?;
    let needs_request_id = |what: &str| {
        request_id.clone().ok_or_else(|| {
            refused(
                "no_request_id",
                &format!("{what} changes the request: it needs a \"request_id\", so that sending it again changes nothing"),
            )
        })
    };
    let reference = || {
        let r = text("reference")
            .ok_or_else(|| refused("no_reference", "the command needs a \"reference\""))?;
        if is_foi_reference(&r) {
            Ok(r)
        } else {
            Err(refused(
                "bad_reference",
                "the reference is not an FOI reference (FOI_ and digits)",
            ))
        }
    };
    match action.as_str() {
        "open" => {
            let id = needs_request_id("open")?;
            let received = match text("received") {
                Some(d) => Some(crate::calendar::parse_date(&d).ok_or_else(|| {
                    refused("bad_date", "\"received\" is not a date (YYYY-MM-DD)")
                })?),
                None => None,
            };
            let new = NewRequest {
                requester: text("requester").unwrap_or_default(),
                request_text: text("request_text").unwrap_or_default(),
                received,
                title: text("title"),
                source_doc: None,
            };
            let (case, created) = foi.open_once(new, &id).await.map_err(foi_failure)?;
            Ok(
                json!({ "reference": case.request.reference, "due": case.request.due, "created": created, "duplicate_of": case.duplicate_of, "clock_error": case.request.clock_error }),
            )
        }
        "move" => {
            let id = needs_request_id("move")?;
            let reference = reference()?;
            let cmd: Command =
                serde_json::from_value(payload.get("command").cloned().unwrap_or(Value::Null))
                    .map_err(|_| {
                        refused(
                            "bad_command",
                            "\"command\" is not a lifecycle command (see events/foi-move-*.json)",
                        )
                    })?;
            let (case, applied) = foi
                .apply_once(&reference, &cmd, Some(&id))
                .await
                .map_err(foi_failure)?;
            Ok(
                json!({ "reference": reference, "status": case.request.status, "due": case.request.due, "applied": applied, "clock_error": case.request.clock_error }),
            )
        }
        "show" => {
            let reference = reference()?;
            let case = foi
                .get(&reference)
                .await
                .map_err(foi_failure)?
                .ok_or_else(|| {
                    HandlerError::new(Code::NotFound, format!("no FOI request {reference}"))
                })?;
            let view = crate::views::FoiRequestView::new(case, foi.today(), &foi.calendar);
            Ok(serde_json::to_value(view).unwrap_or(Value::Null))
        }
        "due_list" => {
            // The same list the CLI prints: by due date, each overdue, pending (with the
            // working days left) or with a clock that could not start.
            let list = crate::foi::report::due(foi, None)
                .await
                .map_err(foi_failure)?;
            Ok(json!({ "requests": list }))
        }
        _ => Err(refused(
            "unknown_action",
            "unknown FOI action (open, move, show, due_list)",
        )),
    }
}
