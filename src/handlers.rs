//! The Lambda handlers' logic, independent of the runtime: the ingest function takes an
//! SQS batch (or a direct S3 / EventBridge event) and reports only the messages that
//! failed, so SQS retries just those (and moves a message that keeps failing to the DLQ).

use futures::StreamExt as _;
use serde_json::Value;

use crate::events::{EventError, Payload, Upload, classify, decode_notification, decode_sqs_body};
use crate::ingest::{Ingest, IngestError, Outcome};

/// What a batch did.
#[derive(Debug, Default)]
pub struct BatchReport {
    /// The ids of messages to retry (transient failures and undecodable messages).
    pub failed: Vec<String>,
    pub outcomes: Vec<Outcome>,
}

/// Why a direct invocation failed, marked for the Lambda diagnostic.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error("permanent: {0}")]
    Permanent(String),
    #[error("retryable: {0}")]
    Retryable(String),
}

impl HandlerError {
    /// The error type Lambda records: `Retryable` or `Permanent`.
    pub fn kind(&self) -> &'static str {
        match self {
            HandlerError::Permanent(_) => "Permanent",
            HandlerError::Retryable(_) => "Retryable",
        }
    }
}

impl From<IngestError> for HandlerError {
    fn from(e: IngestError) -> Self {
        if e.is_retryable() {
            HandlerError::Retryable(e.to_string())
        } else {
            HandlerError::Permanent(e.to_string())
        }
    }
}

impl From<EventError> for HandlerError {
    fn from(e: EventError) -> Self {
        HandlerError::Permanent(e.to_string())
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
                tracing::warn!(message_id = %id, kind = e.kind(), "message failed");
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

/// The letters function: an SQS batch of letter requests gives
/// `{"batchItemFailures": [...]}`. A request whose data does not fit its template is
/// recorded as invalid (with every problem by field) and acknowledged; any other failure
/// is reported, so SQS tries again and, after the queue's maxReceiveCount, keeps the
/// message in the dead-letter queue: nothing is dropped. A direct invocation with one
/// request gives its outcome, or an error marked retryable or permanent.
pub async fn handle_letters(
    outbox: &crate::outbox::Outbox,
    payload: Value,
    concurrency: usize,
) -> Result<Value, HandlerError> {
    use crate::outbox::{LetterRequest, OutboxError};
    let to_handler = |e: OutboxError| {
        if e.is_retryable() {
            HandlerError::Retryable(e.to_string())
        } else {
            HandlerError::Permanent(e.to_string())
        }
    };
    match classify(payload) {
        Payload::Sqs(messages) => {
            let results: Vec<(String, Result<(), OutboxError>)> = futures::stream::iter(messages)
                .map(|(id, body)| async move {
                    let result = match serde_json::from_str::<LetterRequest>(&body) {
                        Ok(request) => outbox.send(&request).await.map(|_| ()),
                        Err(e) => Err(OutboxError::BadRequest(e.to_string())),
                    };
                    (id, result)
                })
                .buffer_unordered(concurrency.max(1))
                .collect()
                .await;
            let mut failures = Vec::new();
            for (id, result) in results {
                if let Err(e) = result {
                    tracing::warn!(message_id = %id, code = e.code(), retryable = e.is_retryable(), "letter request failed");
                    failures.push(serde_json::json!({ "itemIdentifier": id }));
                }
            }
            Ok(serde_json::json!({ "batchItemFailures": failures }))
        }
        Payload::Direct(v) => {
            let request: LetterRequest = serde_json::from_value(v)
                .map_err(|e| HandlerError::Permanent(format!("not a letter request: {e}")))?;
            let outcome = outbox.send(&request).await.map_err(to_handler)?;
            Ok(serde_json::to_value(outcome).unwrap_or(Value::Null))
        }
    }
}

/// The FOI function: commands as JSON (`open`, `move`, `show`, `due_list`), invoked
/// directly or from an API, and the daily EventBridge schedule, which sweeps for
/// requests due soon or overdue and records one reminder per request and day.
/// Commands carry a `request_id`, so a redelivered event changes nothing.
pub async fn handle_foi(
    foi: &crate::foi::service::Foi,
    payload: Value,
    remind_within: u32,
) -> Result<Value, HandlerError> {
    use crate::foi::lifecycle::Command;
    use crate::foi::service::{FoiError, NewRequest};
    use serde_json::json;
    let fail = |e: FoiError| {
        if e.is_retryable() {
            HandlerError::Retryable(e.to_string())
        } else {
            HandlerError::Permanent(e.to_string())
        }
    };
    let text = |k: &str| payload.get(k).and_then(Value::as_str).map(str::to_string);
    if payload.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event") {
        let today = text("time")
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.date_naive())
            .unwrap_or_else(|| foi.today());
        let reminders = foi.sweep(today, remind_within).await.map_err(fail)?;
        tracing::info!(
            count = reminders.len(),
            new = reminders.iter().filter(|r| r.new).count(),
            "FOI sweep done"
        );
        return Ok(json!({ "date": today, "reminders": reminders }));
    }
    let action = text("action")
        .ok_or_else(|| HandlerError::Permanent("an FOI command needs an \"action\"".into()))?;
    let request_id = text("request_id");
    match action.as_str() {
        "open" => {
            let received = match text("received") {
                Some(d) => Some(crate::calendar::parse_date(&d).ok_or_else(|| {
                    HandlerError::Permanent(format!("received: {d:?} is not a date"))
                })?),
                None => None,
            };
            let id = request_id
                .ok_or_else(|| HandlerError::Permanent("open needs a request_id".into()))?;
            let new = NewRequest {
                requester: text("requester").unwrap_or_default(),
                request_text: text("request_text").unwrap_or_default(),
                received,
                title: text("title"),
                source_doc: None,
            };
            let (case, created) = foi.open_once(new, &id).await.map_err(fail)?;
            Ok(
                json!({ "reference": case.request.reference, "due": case.request.due, "created": created, "duplicate_of": case.duplicate_of }),
            )
        }
        "move" => {
            let reference = text("reference")
                .ok_or_else(|| HandlerError::Permanent("move needs a reference".into()))?;
            let cmd: Command =
                serde_json::from_value(payload.get("command").cloned().unwrap_or(Value::Null))
                    .map_err(|e| {
                        HandlerError::Permanent(format!("not a lifecycle command: {e}"))
                    })?;
            let (case, applied) = foi
                .apply_once(&reference, &cmd, request_id.as_deref())
                .await
                .map_err(fail)?;
            Ok(
                json!({ "reference": reference, "status": case.request.status, "due": case.request.due, "applied": applied }),
            )
        }
        "show" => {
            let reference = text("reference")
                .ok_or_else(|| HandlerError::Permanent("show needs a reference".into()))?;
            let case =
                foi.get(&reference).await.map_err(fail)?.ok_or_else(|| {
                    HandlerError::Permanent(format!("no FOI request {reference}"))
                })?;
            Ok(serde_json::to_value(case).unwrap_or(Value::Null))
        }
        "due_list" => {
            let cases = foi.pending().await.map_err(fail)?;
            let today = foi.today();
            let list: Vec<Value> = cases
                .iter()
                .map(|c| {
                    let due = c.request.deadline();
                    json!({ "reference": c.request.reference, "status": c.request.status, "due": due, "overdue": due.is_some_and(|d| today > d) })
                })
                .collect();
            Ok(json!({ "requests": list }))
        }
        other => Err(HandlerError::Permanent(format!(
            "unknown FOI action {other:?} (open, move, show, due_list)"
        ))),
    }
}
