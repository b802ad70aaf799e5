//! The letters use case: a letter request (template, data, case reference, request id)
//! is rendered, stored at `letters/<case_ref>/<letter_id>.pdf` and recorded under its
//! case with an audit event. Written against the storage ports only.
//!
//! Idempotent by request id: the letter id is derived from it, the PDF bytes are a pure
//! function of the template version and data, and the record is written only if absent,
//! so a request delivered twice (or by two workers at once) gives one letter and one
//! audit event. A request whose data is invalid is recorded as `invalid` with every
//! problem by field name (nothing the sender gave is lost) and is not retried.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::ingest::Clock;
use crate::letters::{Format, LetterError, Registry};
use crate::model::keys;
use crate::store::{Condition, Item, Key, PutOptions, StoreError, TxOp};
use crate::stores::Stores;

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
    /// Rendered, stored and recorded now.
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

/// Why a request could not be handled.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("the letter request is not usable: {0}")]
    BadRequest(String),
    #[error(transparent)]
    Letter(#[from] LetterError),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

impl OutboxError {
    /// Whether a later try may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            OutboxError::Store(e) => e.is_retryable(),
            OutboxError::BadRequest(_) | OutboxError::Letter(_) => false,
        }
    }

    /// A stable code for logs.
    pub fn code(&self) -> &'static str {
        match self {
            OutboxError::BadRequest(_) => "bad_request",
            OutboxError::Letter(e) => e.code(),
            OutboxError::Store(_) => "store_error",
        }
    }
}

/// The letter id for a request id: stable, short, safe in a key.
pub fn letter_id(request_id: &str) -> String {
    format!(
        "L-{}",
        &hex::encode(Sha256::digest(request_id.as_bytes()))[..20]
    )
}

/// The S3 key of a letter.
pub fn letter_key(case_ref: &str, letter_id: &str) -> String {
    format!("letters/{case_ref}/{letter_id}.pdf")
}

fn check_request(r: &LetterRequest) -> Result<(), OutboxError> {
    let bad = |m: &str| Err(OutboxError::BadRequest(m.to_string()));
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
    Ok(())
}

/// Where letter requests go: rendered at once (`Outbox`), or queued for the letters
/// function (`SqsQueue`). Either way a request id is handled once, however often it is
/// submitted.
#[async_trait::async_trait]
pub trait LetterSink: Send + Sync + std::fmt::Debug {
    /// `Ok` once the request is rendered or safely queued.
    async fn submit(&self, request: &LetterRequest) -> Result<(), OutboxError>;
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
    tasks: tokio::sync::Mutex<tokio::task::JoinSet<(String, Result<(), OutboxError>)>>,
    failed: std::sync::Mutex<Vec<(String, OutboxError)>>,
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

    fn note(&self, joined: Result<(String, Result<(), OutboxError>), tokio::task::JoinError>) {
        let failure = match joined {
            Ok((_, Ok(()))) => return,
            Ok((request_id, Err(e))) => (request_id, e),
            Err(e) => (
                "(unknown)".to_owned(),
                OutboxError::BadRequest(format!("the letter task stopped: {e}")),
            ),
        };
        self.failed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(failure);
    }

    /// Waits for every request under way; the ones that failed, by request id.
    pub async fn finish(&self) -> Vec<(String, OutboxError)> {
        let mut tasks = self.tasks.lock().await;
        while let Some(joined) = tasks.join_next().await {
            self.note(joined);
        }
        std::mem::take(&mut *self.failed.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

#[async_trait::async_trait]
impl LetterSink for Background {
    async fn submit(&self, request: &LetterRequest) -> Result<(), OutboxError> {
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
impl LetterSink for Outbox {
    async fn submit(&self, request: &LetterRequest) -> Result<(), OutboxError> {
        self.send(request).await.map(|_| ())
    }
}

#[async_trait::async_trait]
impl LetterSink for crate::store::SqsQueue {
    async fn submit(&self, request: &LetterRequest) -> Result<(), OutboxError> {
        check_request(request)?;
        let body =
            serde_json::to_string(request).map_err(|e| OutboxError::BadRequest(e.to_string()))?;
        Ok(self.send(&body).await?)
    }
}

/// Renders, stores and records letters.
#[derive(Debug, Clone)]
pub struct Outbox {
    pub stores: Stores,
    pub registry: &'static Registry,
    pub clock: Arc<dyn Clock>,
    pub actor: String,
}

impl Outbox {
    pub async fn send(&self, request: &LetterRequest) -> Result<LetterOutcome, OutboxError> {
        check_request(request)?;
        let letter_id = letter_id(&request.request_id);
        let key = Key::new(keys::case(&request.case_ref), format!("LETTER#{letter_id}"));
        let outcome = |status, s3_key, errors| LetterOutcome {
            request_id: request.request_id.clone(),
            letter_id: letter_id.clone(),
            case_ref: request.case_ref.clone(),
            status,
            s3_key,
            errors,
        };
        if let Some(existing) = self.stores.table.get(&key).await? {
            let status = match existing.get("status").and_then(Value::as_str) {
                Some("invalid") => LetterStatus::Invalid,
                _ => LetterStatus::Unchanged,
            };
            let s3_key = existing
                .get("s3_key")
                .and_then(Value::as_str)
                .map(str::to_string);
            let errors = existing
                .get("errors")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|e| e.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            return Ok(outcome(status, s3_key, errors));
        }
        let now = self
            .clock
            .now()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let rendered = match self
            .registry
            .render(&request.template, &request.data, Format::Pdf)
        {
            Ok(r) => r,
            Err(LetterError::Invalid(problems)) => {
                let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
                let errors: Vec<String> = problems.iter().map(ToString::to_string).collect();
                tracing::warn!(letter_id = %letter_id, template = %request.template, fields = ?fields, "letter data invalid");
                let record = self.record(
                    request,
                    &letter_id,
                    &now,
                    "invalid",
                    json!({ "errors": errors }),
                );
                let audit = self.audit(
                    request,
                    &now,
                    "letter_refused",
                    json!({ "letter_id": letter_id, "fields": fields }),
                );
                return match self.stores.table.transact(vec![record, audit]).await {
                    Ok(()) | Err(StoreError::ConditionFailed { .. }) => {
                        Ok(outcome(LetterStatus::Invalid, None, errors))
                    }
                    Err(e) => Err(e.into()),
                };
            }
            Err(e) => return Err(e.into()),
        };
        let s3_key = letter_key(&request.case_ref, &letter_id);
        let options = PutOptions::content_type("application/pdf")
            .with_meta("letter-id", letter_id.clone())
            .with_meta(
                "template",
                format!("{} {}", rendered.template, rendered.version),
            );
        self.stores
            .blobs
            .put(&s3_key, rendered.bytes.clone().into(), &options)
            .await?;
        let record = self.record(
            request,
            &letter_id,
            &now,
            "stored",
            json!({
                "template_version": rendered.version,
                "data_hash": rendered.data_hash,
                "s3_key": s3_key,
                "pages": rendered.pages,
                "bytes": rendered.bytes.len(),
            }),
        );
        let audit = self.audit(
            request,
            &now,
            "letter_generated",
            json!({ "letter_id": letter_id, "template": rendered.template, "version": rendered.version, "s3_key": s3_key }),
        );
        match self.stores.table.transact(vec![record, audit]).await {
            Ok(()) => {
                tracing::info!(letter_id = %letter_id, template = %rendered.template, pages = rendered.pages, "letter stored");
                Ok(outcome(LetterStatus::Stored, Some(s3_key), Vec::new()))
            }
            // Another delivery of the same request recorded it first.
            Err(StoreError::ConditionFailed { .. }) => {
                Ok(outcome(LetterStatus::Unchanged, Some(s3_key), Vec::new()))
            }
            Err(e) => Err(e.into()),
        }
    }

    fn record(
        &self,
        r: &LetterRequest,
        letter_id: &str,
        now: &str,
        status: &str,
        extra: Value,
    ) -> TxOp {
        let mut item = Item::new();
        item.insert("PK".into(), json!(keys::case(&r.case_ref)));
        item.insert("SK".into(), json!(format!("LETTER#{letter_id}")));
        item.insert("letter_id".into(), json!(letter_id));
        item.insert("request_id".into(), json!(r.request_id));
        item.insert("template".into(), json!(r.template));
        item.insert("status".into(), json!(status));
        item.insert("created_at".into(), json!(now));
        item.insert("created_by".into(), json!(self.actor));
        if let Value::Object(extra) = extra {
            item.extend(extra);
        }
        TxOp::Put {
            item,
            condition: Condition::Absent,
        }
    }

    fn audit(&self, r: &LetterRequest, now: &str, what: &str, details: Value) -> TxOp {
        // The letter id in the sequence keeps two letters of the same millisecond apart.
        let seq = u32::from_str_radix(&letter_id(&r.request_id)[2..6], 16).unwrap_or(0) % 10_000;
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
        async fn submit(&self, request: &LetterRequest) -> Result<(), OutboxError> {
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            self.running.fetch_sub(1, Ordering::SeqCst);
            self.done.fetch_add(1, Ordering::SeqCst);
            if request.request_id == "claim-acknowledgement:d-3" {
                return Err(OutboxError::BadRequest("no sender address".into()));
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
            Err(OutboxError::BadRequest(_))
        ));
    }
}
