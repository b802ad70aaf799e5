//! The ingest use case: from an object in the inbox to a filed, searchable document with an
//! audit trail. Written against the `Blobs` and `Table` ports only.
//!
//! Idempotent: the document id comes from bucket, key and version (or ETag), and every
//! first write is conditional on absence, so a redelivered or racing event finds its own
//! earlier work (`unchanged`). A crash between two steps is completed by the redelivery.
//! Unreadable or hostile documents are moved to `quarantine/` with the reason recorded,
//! never retried forever; transient store errors are returned as retryable.

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use crate::clock::Clock;
use crate::extract::{Limits, Warning, on_extract_thread, sha256_hex};
use crate::failure::ErrorCode as _;
use crate::letter_service::{LetterSink, SendError};
use crate::metadata::{Acknowledgement, DocTypeRule, DocumentMetadata, Family, Rules};
use crate::model::{CaseKind, IngestStatus, document_id, keys};
use crate::store::Stores;
use crate::store::{Condition, Item, Key, Pin, PutOptions, StoreError, TxOp};

/// Where an uploaded object is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub bucket: String,
    pub key: String,
    pub version: Option<String>,
    pub etag: Option<String>,
    /// When the object reached postroom (the event's time), where the event says.
    pub received: Option<DateTime<Utc>>,
}

/// What ingesting one object did (the JSON line of `postroom ingest --json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub source: String,
    pub doc_id: Option<String>,
    pub case_ref: Option<String>,
    pub status: IngestStatus,
    /// Why a document was quarantined, unfiled or failed (codes, never content).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// How many documents `postroom ingest` reads, stages and extracts ahead of the one it
/// files: four a core, 4 to 8, so that one document's disk writes overlap the
/// extraction of the next (against two ahead: 5 to 15 % faster on this disk and on
/// tmpfs).
pub fn read_ahead() -> usize {
    std::thread::available_parallelism().map_or(4, |n| (4 * n.get()).clamp(4, 8))
}

/// Runs `work` up to `ahead` at a time on a spawned task and hands the results over in
/// the order given: how `postroom ingest` prepares the next documents while it commits
/// each in turn. Await the handle after the receiver is drained (it reports a panic).
pub fn in_order_ahead<T, F>(
    work: Vec<F>,
    ahead: usize,
) -> (tokio::sync::mpsc::Receiver<T>, tokio::task::JoinHandle<()>)
where
    T: Send + 'static,
    F: std::future::Future<Output = T> + Send + 'static,
{
    use futures::StreamExt as _;
    let ahead = ahead.max(1);
    let (tx, rx) = tokio::sync::mpsc::channel(ahead);
    let handle = tokio::spawn(async move {
        let mut results = futures::stream::iter(work).buffered(ahead);
        while let Some(result) = results.next().await {
            if tx.send(result).await.is_err() {
                break;
            }
        }
    });
    (rx, handle)
}

/// An object identified, read and extracted by `Ingest::prepare`, not yet recorded.
#[derive(Debug)]
pub struct Prepared {
    obj: ObjectRef,
    source: String,
    /// The state of the object this delivery is about (its version, else its ETag).
    pin: Option<Pin>,
    step: Step,
}

/// What `Ingest::commit` has to do.
#[derive(Debug)]
enum Step {
    /// Nothing (the object is gone).
    Done(Outcome),
    /// Recorded before: finish what a crash may have left (a quarantine half done, an
    /// acknowledgement not yet requested).
    Seen { doc_id: String, existing: Item },
    /// Move it to quarantine, for this reason (or, too large to copy, record it as
    /// refused where it is).
    Quarantine {
        doc_id: String,
        meta: Option<Box<DocumentMetadata>>,
        reason: String,
        move_original: bool,
    },
    /// Its text is stored: file it.
    Read {
        doc_id: String,
        sha: String,
        meta: Box<DocumentMetadata>,
        /// An FOI request's text, which goes on its case.
        request_text: Option<String>,
    },
}

/// Why ingesting failed.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("extraction stopped unexpectedly: {0}")]
    Task(String),
    /// The acknowledgement could not be handed over for now (its code says why).
    #[error("an acknowledgement could not be requested: {0}")]
    Send(crate::failure::Code),
}

impl crate::failure::ErrorCode for IngestError {
    /// A stable code for logs and handler errors (no keys, no content).
    fn code(&self) -> crate::failure::Code {
        match self {
            IngestError::Store(e) => e.code(),
            IngestError::Send(code) => *code,
            IngestError::Task(_) => crate::failure::Code::Internal,
        }
    }
}

impl IngestError {
    /// Whether a later try may succeed (throttling, timeouts, 5xx, races).
    pub fn is_retryable(&self) -> bool {
        crate::failure::ErrorCode::code(self).retryable()
    }
}

/// Settings of the use case.
#[derive(Debug, Clone)]
pub struct IngestSettings {
    pub limits: Limits,
    /// Objects above this size are quarantined without being downloaded.
    pub max_object_bytes: u64,
    /// Who acts, for the audit trail (a user name, or the function's name).
    pub actor: String,
    /// The first FOI number issued when none was issued before.
    pub first_foi_number: u64,
    /// At most this many bytes of objects are read and extracted at once (a document is
    /// held about three times while it is read), so a batch of large scans fits the
    /// smallest Lambda; an object over the budget runs alone.
    pub max_bytes_in_flight: u64,
    /// The working-day calendar for the FOI clock of emailed requests.
    pub calendar: crate::calendar::Calendar,
}

impl Default for IngestSettings {
    fn default() -> Self {
        let limits = Limits::default();
        IngestSettings {
            max_object_bytes: limits.max_input_bytes as u64,
            limits,
            actor: "postroom".into(),
            first_foi_number: crate::foi::service::FIRST_FOI_NUMBER,
            max_bytes_in_flight: 32 * 1024 * 1024,
            calendar: crate::calendar::Calendar::embedded().clone(),
        }
    }
}

/// The outcome for a document already recorded (by an earlier or a racing delivery).
fn unchanged(source: String, doc_id: String, existing: &Item) -> Outcome {
    Outcome {
        source,
        doc_id: Some(doc_id),
        case_ref: existing
            .get("case_ref")
            .and_then(Value::as_str)
            .map(str::to_owned),
        status: IngestStatus::Unchanged,
        reason: None,
    }
}

/// How a document is being recorded.
#[derive(Debug, Clone, Copy)]
struct Filing<'a> {
    status: &'a str,
    case_ref: Option<&'a str>,
    received: &'a str,
}

/// The ingest use case over a pair of stores.
#[derive(Debug, Clone)]
pub struct Ingest {
    stores: Stores,
    rules: &'static Rules,
    clock: Arc<dyn Clock>,
    settings: IngestSettings,
    /// Permits of 64 KiB each, for the bytes being read and extracted.
    in_flight: Arc<tokio::sync::Semaphore>,
    /// Where acknowledgement requests go (none: no acknowledgements are sent).
    letters: Option<Arc<dyn LetterSink>>,
}

/// The largest object S3's CopyObject takes: a refused object above it stays where it
/// is, recorded as quarantined.
const MAX_COPY_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// How a document is refused.
#[derive(Debug, Clone, Copy)]
struct Quarantine<'a> {
    pin: &'a Pin,
    reason: &'a str,
    move_original: bool,
}

/// One permit of the in-flight budget.
const PERMIT_BYTES: u64 = 64 * 1024;

/// The kind of case documents of a family belong to (none: the family has no cases).
fn case_kind_of(family: Family) -> Option<CaseKind> {
    match family {
        Family::Claims => Some(CaseKind::Claim),
        Family::Foi => Some(CaseKind::Foi),
        Family::Appeals => Some(CaseKind::Appeal),
        Family::Practitioner | Family::General => None,
    }
}

/// The most a document's metadata may take in its record (DynamoDB's items hold 400 KB,
/// with the rest of the record and the store's own overhead).
const MAX_METADATA_BYTES: usize = 256 * 1024;

/// Makes a JSON value fit `budget` bytes by halving its longest lists and cutting its
/// longest strings, largest first; says whether it cut anything. What is cut stays in
/// the document's text; the record keeps the first of each list.
fn trim_to_fit(value: &mut Value, budget: usize) -> bool {
    fn size(v: &Value) -> usize {
        serde_json::to_string(v).map_or(0, |s| s.len())
    }
    /// The largest list or string below `v`, by its serialized size.
    fn largest(v: &mut Value) -> Option<(&mut Value, usize)> {
        let mut best: Option<(&mut Value, usize)> = None;
        let children: Vec<&mut Value> = match v {
            Value::Array(items) => items.iter_mut().collect(),
            Value::Object(map) => map.values_mut().collect(),
            _ => Vec::new(),
        };
        for child in children {
            let candidate = match child {
                Value::Array(_) | Value::Object(_) => {
                    let own = matches!(child, Value::Array(a) if a.len() > 1).then(|| size(child));
                    match own {
                        // A list that is itself the largest thing: cut the list.
                        Some(n) => Some((child, n)),
                        None => largest(child),
                    }
                }
                Value::String(text) if text.len() > 256 => {
                    let n = text.len();
                    Some((child, n))
                }
                _ => None,
            };
            if let Some((c, n)) = candidate
                && best.as_ref().is_none_or(|(_, m)| n > *m)
            {
                best = Some((c, n));
            }
        }
        best
    }
    let mut trimmed = false;
    // Each round at least halves the largest part, so this ends quickly.
    for _ in 0..64 {
        if size(value) <= budget {
            break;
        }
        let Some((part, _)) = largest(value) else {
            break;
        };
        match part {
            Value::Array(items) => {
                let keep = items.len() / 2;
                items.truncate(keep);
            }
            Value::String(text) => {
                let mut end = text.len() / 2;
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                text.truncate(end);
            }
            _ => break,
        }
        trimmed = true;
    }
    trimmed
}

fn item(value: Value) -> Item {
    match value {
        Value::Object(map) => map,
        _ => Item::new(),
    }
}

impl Ingest {
    pub fn new(
        stores: Stores,
        rules: &'static Rules,
        clock: Arc<dyn Clock>,
        settings: IngestSettings,
    ) -> Self {
        let permits =
            (settings.max_bytes_in_flight / PERMIT_BYTES).clamp(1, u64::from(u32::MAX >> 4));
        Ingest {
            stores,
            rules,
            clock,
            in_flight: Arc::new(tokio::sync::Semaphore::new(permits as usize)),
            settings,
            letters: None,
        }
    }

    /// Sends an acknowledgement request for each filed document whose type's rules declare
    /// one (a letter of claim, an FOI request).
    pub fn with_letters(mut self, sink: Arc<dyn LetterSink>) -> Self {
        self.letters = Some(sink);
        self
    }

    /// Whether a document of this type that belongs to no case yet opens a case of `kind`:
    /// its rules say it opens one, and `kind` is its family's.
    fn opens_case(&self, doc_type: &str, kind: CaseKind) -> bool {
        self.rules
            .doc_type(doc_type)
            .is_some_and(|t| t.opens_case() && case_kind_of(t.family()) == Some(kind))
    }

    /// Whether a document of this type is a new FOI request: it opens an FOI case, under
    /// the next FOI reference postroom issues rather than one it quotes.
    fn is_new_foi_request(&self, doc_type: &str) -> bool {
        self.rules
            .doc_type(doc_type)
            .is_some_and(|t| t.family() == Family::Foi && t.opens_case())
    }

    /// The acknowledgement a filed document of this type gets, from its rules.
    fn acknowledgement_of(&self, doc_type: &str) -> Option<Acknowledgement> {
        self.rules
            .doc_type(doc_type)
            .and_then(DocTypeRule::acknowledgement)
    }

    /// Submits the acknowledgement a filed document calls for (its type's rules say which:
    /// a letter of claim's, an FOI request's), when a letter sink is set. Safe to repeat:
    /// the request id names the letter, so a redelivery finishes what a crash after filing
    /// left undone. A document that cannot be acknowledged (no sender address, say) is
    /// logged by code and left to its case handler; only a transient failure of the sink
    /// is an error.
    /// `doc` is the document's item when the caller holds it; otherwise it is read, and
    /// only for a type that is acknowledged.
    async fn acknowledge(
        &self,
        doc_id: &str,
        doc_type: &str,
        doc: Option<&Item>,
    ) -> Result<(), IngestError> {
        use crate::acknowledge::{Signatory, claim_acknowledgement, foi_acknowledgement};
        let Some(sink) = &self.letters else {
            return Ok(());
        };
        if self.acknowledgement_of(doc_type).is_none() {
            return Ok(());
        }
        let read;
        let doc = match doc {
            Some(doc) => doc,
            None => {
                let key = Key::new(keys::doc(doc_id), keys::META);
                match self.stores.table.get(&key).await? {
                    Some(item) => {
                        read = item;
                        &read
                    }
                    None => return Ok(()),
                }
            }
        };
        if doc.get("status").and_then(Value::as_str) != Some("filed") {
            return Ok(());
        }
        let today = self.clock.now().date_naive();
        let stored_type = doc.get("doc_type").and_then(Value::as_str);
        let prepared = match stored_type.and_then(|t| self.acknowledgement_of(t)) {
            Some(Acknowledgement::Claim) => {
                let text_key = keys::text(doc_id);
                let text = match self.stores.blobs.get(&text_key).await {
                    Ok(obj) => String::from_utf8_lossy(&obj.body).into_owned(),
                    Err(StoreError::NotFound { .. }) => String::new(),
                    Err(e) => return Err(e.into()),
                };
                claim_acknowledgement(doc, &text, today, &Signatory::claims(), self.rules)
            }
            Some(Acknowledgement::Foi) => {
                let Some(reference) = doc.get("case_ref").and_then(Value::as_str) else {
                    return Ok(());
                };
                let foi = crate::foi::service::Foi {
                    stores: self.stores.clone(),
                    clock: self.clock.clone(),
                    calendar: self.settings.calendar.clone(),
                    actor: self.settings.actor.clone(),
                };
                match foi.get(reference).await {
                    Ok(Some(case)) => foi_acknowledgement(&case, today, &Signatory::foi()),
                    Ok(None) => return Ok(()),
                    Err(crate::foi::service::FoiError::Store(e)) => return Err(e.into()),
                    Err(e) => {
                        tracing::warn!(doc_id, error = %e, "no FOI acknowledgement");
                        return Ok(());
                    }
                }
            }
            None => return Ok(()),
        };
        let request = match prepared {
            Ok(request) => request,
            Err(e) => {
                tracing::info!(doc_id, reason = %e, "no acknowledgement prepared");
                return Ok(());
            }
        };
        match sink.submit(&request).await {
            Ok(()) => {
                tracing::info!(doc_id, template = %request.template, "acknowledgement requested");
                Ok(())
            }
            Err(SendError::Store(e)) => Err(e.into()),
            // Busy (a clash that did not settle): try again with the delivery.
            Err(e) if e.is_retryable() => Err(IngestError::Send(e.code())),
            Err(e) => {
                tracing::warn!(doc_id, code = %e.code(), "acknowledgement refused");
                Ok(())
            }
        }
    }

    fn in_flight_permits(&self) -> u32 {
        (self.settings.max_bytes_in_flight / PERMIT_BYTES).clamp(1, u64::from(u32::MAX >> 4)) as u32
    }

    fn now(&self) -> String {
        self.clock
            .now()
            .to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    /// Ingests one object. `Err` only for transient failures (retry later); every
    /// permanent problem is an `Outcome` (quarantined) so the message is not retried.
    pub async fn ingest(&self, obj: &ObjectRef) -> Result<Outcome, IngestError> {
        let prepared = self.prepare(obj).await?;
        self.commit(prepared).await
    }

    /// The first half of `ingest`: identify the object, look for an earlier record,
    /// read and extract it, and store its text. It records nothing (the text is made
    /// again from the same bytes on any redelivery), so a caller may prepare the next
    /// documents while it commits this one (the CLI does), and filing stays in order.
    pub async fn prepare(&self, obj: &ObjectRef) -> Result<Prepared, IngestError> {
        let source = format!("s3://{}/{}", obj.bucket, obj.key);
        let blobs = &self.stores.blobs;
        let table = &self.stores.table;
        let gone = |doc_id: Option<String>| Prepared {
            obj: obj.clone(),
            source: source.clone(),
            pin: None,
            step: Step::Done(Outcome {
                source: source.clone(),
                doc_id,
                case_ref: None,
                status: IngestStatus::Unchanged,
                reason: Some("object_gone".into()),
            }),
        };

        // 1. Identify: the state the event names (its version, else its ETag); every
        //    read, copy and delete below is of that state, never of a later upload to
        //    the same key. An event that names neither pins what is there now.
        let pin = match Pin::of(obj.version.as_deref(), obj.etag.as_deref()) {
            Some(pin) => pin,
            None => match blobs.head(&obj.key).await {
                Ok(h) => Pin::of(h.version.as_deref(), Some(&h.etag)).unwrap_or(Pin::ETag(h.etag)),
                Err(StoreError::NotFound { .. }) => return Ok(gone(None)),
                Err(e) => return Err(e.into()),
            },
        };
        let identity = match &pin {
            Pin::Version(v) => v,
            Pin::ETag(e) => e,
        };
        let doc_id = document_id(&obj.bucket, &obj.key, identity);
        // The record keeps the state it describes.
        let mut pinned = obj.clone();
        match &pin {
            Pin::Version(v) => pinned.version = Some(v.clone()),
            Pin::ETag(e) => pinned.etag = pinned.etag.clone().or_else(|| Some(e.clone())),
        }
        let prepared = |step| Prepared {
            obj: pinned.clone(),
            source: source.clone(),
            pin: Some(pin.clone()),
            step,
        };

        // 2. Seen before? Then the commit finishes what a crash may have left.
        if let Some(existing) = table.get(&Key::new(keys::doc(&doc_id), keys::META)).await? {
            return Ok(prepared(Step::Seen { doc_id, existing }));
        }
        let head = match blobs.head_pinned(&obj.key, &pin).await {
            Ok(h) => h,
            Err(StoreError::NotFound { .. }) => return Ok(gone(Some(doc_id))),
            Err(e) => return Err(e.into()),
        };

        // 3. Too large to read: quarantine without downloading.
        if head.size > self.settings.max_object_bytes {
            return Ok(prepared(Step::Quarantine {
                doc_id,
                meta: None,
                reason: "too_large".into(),
                move_original: head.size <= MAX_COPY_BYTES,
            }));
        }

        // 4. Read and extract (on a thread with a big stack, bounded in time and memory),
        //    within the budget of bytes in flight.
        let total = self.in_flight_permits();
        let wanted = (head.size.div_ceil(PERMIT_BYTES) as u32).clamp(1, total);
        let _permit = self
            .in_flight
            .acquire_many(wanted)
            .await
            .map_err(|e| IngestError::Task(e.to_string()))?;
        let object = match blobs.get_pinned(&obj.key, &pin).await {
            Ok(object) => object,
            Err(StoreError::NotFound { .. }) => return Ok(gone(Some(doc_id))),
            Err(e) => return Err(e.into()),
        };
        let bytes: Bytes = object.body;
        let sha = sha256_hex(&bytes);
        let limits = self.settings.limits.clone();
        let rules = self.rules;
        let src = source.clone();
        let sha_for_task = sha.clone();
        let (meta, text, unreadable) = on_extract_thread(move || {
            let (extracted, meta) =
                crate::reading::read_document(&bytes, &src, &sha_for_task, &limits, rules);
            let unreadable =
                extracted.unreadable() || meta.warnings.contains(&Warning::InternalError);
            (meta, extracted.text, unreadable)
        })
        .await
        .map_err(IngestError::Task)?;

        if unreadable {
            let reason = meta
                .warnings
                .iter()
                .map(|w| w.code())
                .collect::<Vec<_>>()
                .join(",");
            return Ok(prepared(Step::Quarantine {
                doc_id,
                meta: Some(Box::new(meta)),
                reason,
                move_original: true,
            }));
        }
        // 5. The text, for search. It is made again from the same bytes on a redelivery,
        //    so it is written here, while the caller may still be filing the previous
        //    document, and always before the record that points at it.
        let request_text = self
            .is_new_foi_request(&meta.doc_type)
            .then(|| text.chars().take(20_000).collect::<String>());
        self.stores
            .blobs
            .put(
                &keys::text(&doc_id),
                Bytes::from(text),
                &PutOptions::content_type("text/plain; charset=utf-8").reproducible(),
            )
            .await?;
        Ok(prepared(Step::Read {
            doc_id,
            sha,
            meta: Box::new(meta),
            request_text,
        }))
    }

    /// The second half of `ingest`: record what `prepare` found (file the document in
    /// one transaction, or quarantine it), then request its acknowledgement.
    pub async fn commit(&self, prepared: Prepared) -> Result<Outcome, IngestError> {
        let Prepared {
            obj,
            source,
            pin,
            step,
        } = prepared;
        let obj = &obj;
        let table = &self.stores.table;
        let (doc_id, sha, meta, request_text) = match step {
            Step::Done(outcome) => return Ok(outcome),
            Step::Seen { doc_id, existing } => {
                let status = existing.get("status").and_then(Value::as_str).unwrap_or("");
                let moved = existing.get("quarantine_key").is_some_and(Value::is_string);
                if let (true, true, Some(pin)) = (status == "quarantined", moved, &pin) {
                    self.finish_quarantine(&obj.key, pin).await?;
                }
                // What a crash after the record may have left: the documents waiting for
                // the case this one opened, or this one's own case, opened since.
                if existing.get("opened_case").and_then(Value::as_bool) == Some(true)
                    && let Some(reference) = existing.get("case_ref").and_then(Value::as_str)
                {
                    self.file_waiting(reference).await?;
                }
                if status == "unfiled"
                    && let Some(awaited) = existing.get("awaiting_case").and_then(Value::as_str)
                    && table
                        .get(&Key::new(keys::case(awaited), keys::META))
                        .await?
                        .is_some()
                {
                    self.file_one_waiting(&doc_id, awaited).await?;
                }
                let doc_type = existing.get("doc_type").and_then(Value::as_str);
                self.acknowledge(&doc_id, doc_type.unwrap_or(""), Some(&existing))
                    .await?;
                return Ok(unchanged(source, doc_id, &existing));
            }
            Step::Quarantine {
                doc_id,
                meta,
                reason,
                move_original,
            } => {
                let Some(pin) = &pin else {
                    return Err(IngestError::Task("a quarantine without a pin".into()));
                };
                let quarantine = Quarantine {
                    pin,
                    reason: &reason,
                    move_original,
                };
                return self
                    .quarantine(obj, &doc_id, &source, meta.as_deref(), quarantine)
                    .await;
            }
            Step::Read {
                doc_id,
                sha,
                meta,
                request_text,
            } => (doc_id, sha, meta, request_text),
        };

        // 6. File it, in one transaction; a lost race is decided again.
        for _ in 0..4 {
            match self
                .file_new(obj, &doc_id, &source, &sha, &meta, request_text.as_deref())
                .await
            {
                Ok(outcome) => {
                    self.acknowledge(&doc_id, &meta.doc_type, None).await?;
                    return Ok(outcome);
                }
                Err(IngestError::Store(StoreError::ConditionFailed { .. })) => {
                    if let Some(existing) =
                        table.get(&Key::new(keys::doc(&doc_id), keys::META)).await?
                    {
                        let doc_type = existing.get("doc_type").and_then(Value::as_str);
                        self.acknowledge(&doc_id, doc_type.unwrap_or(""), Some(&existing))
                            .await?;
                        return Ok(unchanged(source, doc_id, &existing));
                    }
                }
                // The store refuses this record for good (too large, a value it cannot
                // hold): retrying cannot help, so the document is refused with its
                // reason, kept whole in quarantine, rather than sent to the DLQ.
                Err(e) if !e.is_retryable() => {
                    tracing::warn!(
                        doc_id,
                        code = %e.code(),
                        "the store refused the document's record"
                    );
                    let Some(pin) = &pin else {
                        return Err(e);
                    };
                    let quarantine = Quarantine {
                        pin,
                        reason: "store_refused",
                        move_original: true,
                    };
                    return self
                        .quarantine(obj, &doc_id, &source, None, quarantine)
                        .await;
                }
                Err(e) => return Err(e),
            }
        }
        Err(IngestError::Store(StoreError::Backend {
            backend: "ingest",
            op: "file a document".into(),
            retryable: true,
            source: "conflicting writes did not settle".into(),
        }))
    }

    /// Puts a local file's bytes in the inbox (unless the same bytes are already there)
    /// and says where they are, as an upload event would.
    pub async fn stage(
        &self,
        key: &str,
        bytes: Bytes,
        bucket: &str,
    ) -> Result<ObjectRef, IngestError> {
        let etag = crate::store::md5_hex(&bytes);
        self.stage_as(key, bytes, bucket, etag).await
    }

    /// Stages a local file given by name (its path below the folder given, or its file
    /// name) under a key of its own bytes (`keys::staged`): two different files never
    /// overwrite each other, and the same file again is `unchanged`.
    pub async fn stage_file(
        &self,
        name: &str,
        bytes: Bytes,
        bucket: &str,
    ) -> Result<ObjectRef, IngestError> {
        let etag = crate::store::md5_hex(&bytes);
        let key = keys::staged(&etag, name);
        self.stage_as(&key, bytes, bucket, etag).await
    }

    async fn stage_as(
        &self,
        key: &str,
        bytes: Bytes,
        bucket: &str,
        etag: String,
    ) -> Result<ObjectRef, IngestError> {
        // Already ingested from these very bytes (even if since moved to quarantine)?
        // Then write nothing.
        let known = self
            .stores
            .table
            .get(&Key::new(
                keys::doc(&document_id(bucket, key, &etag)),
                keys::META,
            ))
            .await?
            .is_some();
        let same = known || matches!(self.stores.blobs.head(key).await, Ok(h) if h.etag == etag);
        if !same {
            // Stored with the type its bytes show, as a sender's upload names it. A staged
            // copy of a file the user still has: no need to wait for the disk.
            let content_type = crate::extract::detect(&bytes).as_str();
            self.stores
                .blobs
                .put(
                    key,
                    bytes,
                    &PutOptions::content_type(content_type)
                        .reproducible()
                        .with_content_md5(etag.clone()),
                )
                .await?;
        }
        Ok(ObjectRef {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            version: None,
            etag: Some(etag),
            received: None,
        })
    }

    /// The document item (everything filing needs to show and search).
    fn document_item(
        &self,
        obj: &ObjectRef,
        doc_id: &str,
        source: &str,
        meta: Option<&DocumentMetadata>,
        filing: Filing<'_>,
    ) -> Item {
        let mut it = item(json!({
            "PK": keys::doc(doc_id),
            "SK": keys::META,
            "doc_id": doc_id,
            "source": source,
            "bucket": obj.bucket,
            "key": obj.key,
            "status": filing.status,
            "case_ref": filing.case_ref,
            "received": filing.received,
            "object_version": obj.version,
            "etag": obj.etag,
            "version": 1,
        }));
        if let Some(meta) = meta {
            it.insert("doc_type".into(), json!(meta.doc_type));
            it.insert("document_date".into(), json!(meta.document_date));
            it.insert("sha256".into(), json!(meta.sha256));
            it.insert("text_key".into(), json!(keys::text(doc_id)));
            let mut metadata = serde_json::to_value(meta).unwrap_or(Value::Null);
            // Keep the item well under the store's 400 KB: attachments' details stay in
            // their own text; their count and types are kept.
            if let Some(atts) = metadata
                .get_mut("attachments")
                .and_then(Value::as_array_mut)
                && serde_json::to_string(atts).map_or(0, |s| s.len()) > 100_000
            {
                let brief: Vec<Value> = atts
                    .iter()
                    .map(|a| json!({"source": a["source"], "doc_type": a["doc_type"]}))
                    .collect();
                *atts = brief;
            }
            if trim_to_fit(&mut metadata, MAX_METADATA_BYTES)
                && let Some(warnings) = metadata.get_mut("warnings").and_then(Value::as_array_mut)
            {
                warnings.push(json!("record_trimmed"));
            }
            it.insert("metadata".into(), metadata);
        }
        it
    }

    fn audit(&self, pk: String, at: &str, seq: u32, what: &str, details: Value) -> TxOp {
        crate::model::audit_event(pk, at, seq, &self.settings.actor, what, details)
    }

    async fn file_new(
        &self,
        obj: &ObjectRef,
        doc_id: &str,
        source: &str,
        sha: &str,
        meta: &DocumentMetadata,
        request_text: Option<&str>,
    ) -> Result<Outcome, IngestError> {
        let table = &self.stores.table;
        let now = self.now();
        let mut ops = Vec::new();

        // The same bytes already ingested under another key?
        let content_key = Key::new(keys::content(sha), keys::META);
        if let Some(first) = table.get(&content_key).await? {
            let original = first
                .get("doc_id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let mut doc = self.document_item(
                obj,
                doc_id,
                source,
                Some(meta),
                Filing {
                    status: "duplicate",
                    case_ref: None,
                    received: &now,
                },
            );
            doc.insert("duplicate_of".into(), json!(original));
            ops.push(TxOp::Put {
                item: doc,
                condition: Condition::Absent,
            });
            ops.push(self.audit(
                keys::doc(doc_id),
                &now,
                1,
                "ingested_duplicate",
                json!({"duplicate_of": original, "source": source}),
            ));
            table.transact(ops).await?;
            tracing::info!(doc_id, duplicate_of = %original, "duplicate document");
            return Ok(Outcome {
                source: source.into(),
                doc_id: Some(doc_id.into()),
                case_ref: None,
                status: IngestStatus::Duplicate,
                reason: None,
            });
        }
        ops.push(TxOp::Put {
            item: item(json!({"PK": keys::content(sha), "SK": keys::META, "doc_id": doc_id})),
            condition: Condition::Absent,
        });

        // Which case?
        let mut case_ref = meta.references.case_ref.clone();
        let mut opened = false;
        let mut reason = None;
        let mut awaiting = None;
        // An FOI reference quoted in a new request that postroom never issued (another
        // authority's, or one made up) opens nothing: the request gets the next number
        // and the quoted one is kept as what the requester wrote.
        let mut quoted = None;
        let new_foi_request = self.is_new_foi_request(&meta.doc_type);
        if new_foi_request
            && let Some(reference) = &case_ref
            && CaseKind::of_reference(reference) == CaseKind::Foi
            && table
                .get(&Key::new(keys::case(reference), keys::META))
                .await?
                .is_none()
        {
            quoted = case_ref.take();
        }
        if case_ref.is_none() && new_foi_request {
            // A new request from the public: issue the next FOI reference.
            let (reference, counter) =
                crate::foi::service::next_reference(&self.stores, self.settings.first_foi_number)
                    .await?;
            ops.push(counter);
            case_ref = Some(reference);
            opened = true;
        }
        if let Some(reference) = &case_ref {
            let case_key = Key::new(keys::case(reference), keys::META);
            let exists = if opened {
                false
            } else {
                table.get(&case_key).await?.is_some()
            };
            let kind = CaseKind::of_reference(reference);
            let opens = opened || self.opens_case(&meta.doc_type, kind);
            if exists {
                ops.push(TxOp::Check {
                    key: case_key,
                    condition: Condition::Exists,
                });
            } else if opens {
                opened = true;
                let mut case = item(json!({
                    "PK": keys::case(reference),
                    "SK": keys::META,
                    "case_ref": reference,
                    "kind": kind,
                    "status": "open",
                    "scheme": meta.clinical.scheme,
                    // What claims statistics count (FOI answers): from the opening document.
                    "specialty": meta.clinical.specialty,
                    "cause": meta.clinical.cause,
                    "injury": meta.clinical.injury,
                    "year": meta.document_date.map(|d| d.format("%Y").to_string()).unwrap_or_else(|| now[..4].to_owned()),
                    "opened": now,
                    "opened_by": doc_id,
                    "version": 1,
                }));
                if let Some(quoted) = &quoted {
                    case.insert("quoted_reference".into(), json!(quoted));
                }
                if kind == CaseKind::Foi {
                    // The request's clock starts on the day it reached postroom (the
                    // upload event's time, else now), in UK time; the date its sender
                    // wrote is kept as written, never trusted for the clock.
                    let arrived = obj.received.unwrap_or_else(|| self.clock.now());
                    let received = crate::calendar::uk_local_date(arrived);
                    let text = request_text.unwrap_or_default();
                    let title = crate::foi::service::title_of(text);
                    // Never without its clock: a date the calendar cannot count from is
                    // still listed, flagged (`clock_error`).
                    let opening = crate::foi::service::opening_fields(
                        reference,
                        received,
                        meta.document_date,
                        meta.parties.requester.as_deref(),
                        text,
                        &title,
                        &self.settings.calendar,
                    );
                    if let Some(code) = opening.clock_error {
                        tracing::warn!(case_ref = %reference, code, "FOI clock not computed: listed, flagged");
                    }
                    case.extend(opening.fields);
                    let requester = meta.parties.requester.as_deref().unwrap_or("");
                    let (duplicate_of, dup_op) = crate::foi::service::duplicate_check(
                        &self.stores,
                        requester,
                        text,
                        reference,
                    )
                    .await?;
                    if let Some(first) = duplicate_of {
                        case.insert("duplicate_of".into(), json!(first));
                    }
                    ops.extend(dup_op);
                }
                ops.push(TxOp::Put {
                    item: case,
                    condition: Condition::Absent,
                });
                ops.push(self.audit(
                    keys::case(reference),
                    &now,
                    0,
                    "case_opened",
                    json!({"doc_id": doc_id, "doc_type": meta.doc_type}),
                ));
            } else {
                // Not open yet: the document waits for it, and is filed when it opens.
                // The case must still be absent when this commits, so an opener racing
                // this document either sees it waiting or makes it decide again.
                reason = Some("case_not_found".to_owned());
                ops.push(TxOp::Check {
                    key: case_key,
                    condition: Condition::Absent,
                });
                awaiting = case_ref.take();
            }
        } else {
            reason = Some("no_reference".to_owned());
        }

        let status = if case_ref.is_some() {
            IngestStatus::Filed
        } else {
            IngestStatus::Unfiled
        };
        let date = meta.document_date.map(|d| d.to_string());
        let mut doc = self.document_item(
            obj,
            doc_id,
            source,
            Some(meta),
            Filing {
                status: status.as_str(),
                case_ref: case_ref.as_deref(),
                received: &now,
            },
        );
        if opened {
            doc.insert("opened_case".into(), json!(true));
        }
        if let Some(quoted) = &quoted {
            doc.insert("quoted_reference".into(), json!(quoted));
        }
        if let Some(awaited) = &awaiting {
            doc.insert("awaiting_case".into(), json!(awaited));
            ops.push(TxOp::Put {
                item: item(json!({
                    "PK": keys::waiting(awaited),
                    "SK": doc_id,
                    "doc_id": doc_id,
                    "received": now,
                })),
                condition: Condition::None,
            });
        }
        ops.push(TxOp::Put {
            item: doc,
            condition: Condition::Absent,
        });
        match &case_ref {
            Some(reference) => ops.push(TxOp::Put {
                item: item(json!({
                    "PK": keys::case(reference),
                    "SK": keys::case_doc(date.as_deref(), doc_id),
                    "doc_id": doc_id,
                    "doc_type": meta.doc_type,
                    "document_date": date,
                    "source": source,
                })),
                condition: Condition::Absent,
            }),
            None => ops.push(TxOp::Put {
                item: item(json!({
                    "PK": keys::UNFILED,
                    "SK": keys::unfiled(&now, doc_id),
                    "doc_id": doc_id,
                    "doc_type": meta.doc_type,
                    "source": source,
                    "reason": reason,
                })),
                condition: Condition::Absent,
            }),
        }
        ops.push(self.audit(
            keys::doc(doc_id),
            &now,
            1,
            if case_ref.is_some() { "ingested_filed" } else { "ingested_unfiled" },
            json!({"case_ref": case_ref, "doc_type": meta.doc_type, "opened_case": opened, "source": source}),
        ));
        table.transact(ops).await?;
        tracing::info!(
            doc_id,
            case_ref = case_ref.as_deref().unwrap_or("-"),
            status = status.as_str(),
            "document ingested"
        );
        if let (true, Some(reference)) = (opened, &case_ref) {
            self.file_waiting(reference).await?;
        }
        Ok(Outcome {
            source: source.into(),
            doc_id: Some(doc_id.into()),
            case_ref,
            status,
            reason,
        })
    }

    async fn quarantine(
        &self,
        obj: &ObjectRef,
        doc_id: &str,
        source: &str,
        meta: Option<&DocumentMetadata>,
        how: Quarantine<'_>,
    ) -> Result<Outcome, IngestError> {
        let blobs = &self.stores.blobs;
        let now = self.now();
        let reason = how.reason;
        // The exact bytes refused, under their own key; the record is written only once
        // the copy exists, and the original leaves the inbox only once both do.
        let target = how
            .move_original
            .then(|| keys::quarantine(doc_id, &obj.key));
        if let Some(target) = &target {
            match blobs.copy(&obj.key, Some(how.pin), target).await {
                Ok(()) => {}
                Err(StoreError::NotFound { .. }) => {
                    return Ok(Outcome {
                        source: source.into(),
                        doc_id: Some(doc_id.into()),
                        case_ref: None,
                        status: IngestStatus::Unchanged,
                        reason: Some("object_gone".into()),
                    });
                }
                Err(e) => return Err(e.into()),
            }
        }
        let mut doc = self.document_item(
            obj,
            doc_id,
            source,
            meta,
            Filing {
                status: "quarantined",
                case_ref: None,
                received: &now,
            },
        );
        doc.insert("quarantine_key".into(), json!(target));
        doc.insert("reason".into(), json!(reason));
        let ops = vec![
            TxOp::Put {
                item: doc,
                condition: Condition::Absent,
            },
            self.audit(
                keys::doc(doc_id),
                &now,
                1,
                "quarantined",
                json!({"reason": reason, "quarantine_key": target, "source": source}),
            ),
        ];
        match self.stores.table.transact(ops).await {
            Ok(()) | Err(StoreError::ConditionFailed { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        if target.is_some() {
            self.finish_quarantine(&obj.key, how.pin).await?;
        }
        tracing::warn!(doc_id, reason, "document quarantined");
        Ok(Outcome {
            source: source.into(),
            doc_id: Some(doc_id.into()),
            case_ref: None,
            status: IngestStatus::Quarantined,
            reason: Some(reason.into()),
        })
    }

    /// Files every document waiting for a case that has just opened (each once, audited
    /// as `filed_on_case_open`; one filed meanwhile, by hand or by a racing delivery, is
    /// left as it is).
    async fn file_waiting(&self, case_ref: &str) -> Result<(), IngestError> {
        let waiting = self
            .stores
            .table
            .query_all(&crate::store::Query::new(keys::waiting(case_ref)))
            .await?;
        for entry in waiting {
            if let Some(doc_id) = entry.get("doc_id").and_then(Value::as_str) {
                self.file_one_waiting(doc_id, case_ref).await?;
            }
        }
        Ok(())
    }

    async fn file_one_waiting(&self, doc_id: &str, case_ref: &str) -> Result<(), IngestError> {
        use crate::cases::CaseError;
        let table = self.stores.table.as_ref();
        let filed = crate::cases::file_unfiled(
            table,
            doc_id,
            case_ref,
            &self.settings.actor,
            self.clock.as_ref(),
            "filed_on_case_open",
        )
        .await;
        match filed {
            Ok(()) => {
                tracing::info!(doc_id, case_ref, "waiting document filed");
                Ok(())
            }
            // Filed meanwhile (a racing delivery, or by hand): nothing left to do, but
            // the waiting entry goes.
            Err(CaseError::NotUnfiled { .. } | CaseError::NoDocument(_))
            | Err(CaseError::Store(StoreError::ConditionFailed { .. })) => {
                table
                    .delete(&Key::new(keys::waiting(case_ref), doc_id), Condition::None)
                    .await?;
                Ok(())
            }
            Err(CaseError::Store(e)) => Err(e.into()),
            Err(CaseError::NoCase(_)) => Ok(()),
        }
    }

    /// The last step of a move to quarantine: the refused state leaves the inbox (only
    /// once the copy and the record exist, which the caller knows). A later upload to the
    /// same key stays; nothing under `quarantine/` is read back (the ingest role may not).
    async fn finish_quarantine(&self, key: &str, pin: &Pin) -> Result<(), IngestError> {
        self.stores.blobs.delete_pinned(key, pin).await?;
        Ok(())
    }
}
