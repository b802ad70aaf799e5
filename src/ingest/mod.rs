//! The ingest use case: from an object in the inbox to a filed, searchable document with an
//! audit trail. Written against the `Blobs` and `Table` ports only.
//!
//! Idempotent: the document id comes from bucket, key and version (or ETag), and every
//! first write is conditional on absence, so a redelivered or racing event finds its own
//! earlier work (`unchanged`). A crash between two steps is completed by the redelivery.
//! Unreadable or hostile documents are moved to `quarantine/` with the reason recorded,
//! never retried forever; transient store errors are returned as retryable.
//!
//! Where OCR runs elsewhere (`with_scan_queue`: the AWS ingest function), a document with
//! scanned pages is filed on the text it has, marked `ocr_pending`, and handed to the OCR
//! queue; `read_scans` (the OCR function) reads its pages and files it again (`scans`).

mod acknowledge;
mod file;
mod index;
mod prepare;
mod quarantine;
mod scans;

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
pub use index::{Reindexed, build, refile, reindex};
pub use scans::{SCAN_BUDGET, ScanQueue, ScanRequest};

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
    /// An OCR request that is not one (its message says what is wrong, never its data).
    #[error("not an OCR request: {0}")]
    BadScanRequest(&'static str),
    /// Scanned pages were to be read, but this build has no OCR engine.
    #[error("this deployment has no OCR engine: scanned pages cannot be read here")]
    NoOcrEngine,
}

impl crate::failure::ErrorCode for IngestError {
    /// A stable code for logs and handler errors (no keys, no content).
    fn code(&self) -> crate::failure::Code {
        match self {
            IngestError::Store(e) => e.code(),
            IngestError::Send(code) => *code,
            IngestError::Task(_) => crate::failure::Code::Internal,
            IngestError::BadScanRequest(_) => crate::failure::Code::InvalidRequest,
            IngestError::NoOcrEngine => crate::failure::Code::ConfigInvalid,
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
    /// The search index documents are fed to (`Unconfigured`: none).
    search: Arc<dyn crate::store::Search>,
    /// What reads scanned pages (the build's OCR engine by default).
    scanner: crate::scanning::Scanner,
    /// Where documents with scanned pages go to be read elsewhere (none: read here).
    scan_queue: Option<Arc<dyn ScanQueue>>,
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
            search: Arc::new(crate::store::Unconfigured),
            scanner: crate::scanning::Scanner::deployment(),
            scan_queue: None,
        }
    }

    /// The same use case reading scanned pages with `scanner`.
    pub fn with_scanner(mut self, scanner: crate::scanning::Scanner) -> Self {
        self.scanner = scanner;
        self
    }

    /// The settings this use case runs with (its limits, its actor).
    pub fn settings(&self) -> &IngestSettings {
        &self.settings
    }

    /// Sends an acknowledgement request for each filed document whose type's rules declare
    /// one (a letter of claim, an FOI request).
    pub fn with_letters(mut self, sink: Arc<dyn LetterSink>) -> Self {
        self.letters = Some(sink);
        self
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
        self.file(prepared).await
    }

    /// Files a prepared document (`commit`), indexes it for search, then keeps the
    /// deadlines of the claim it was filed under. A redelivery (`unchanged`) does both
    /// again, so a stop between the steps is repaired by the next delivery.
    pub async fn file(&self, prepared: Prepared) -> Result<Outcome, IngestError> {
        let outcome = self.commit(prepared).await?;
        self.follow_up(&outcome).await?;
        Ok(outcome)
    }

    /// What follows a document's record: the search index, and the deadlines of the
    /// claim it is filed under. Safe to repeat.
    async fn follow_up(&self, outcome: &Outcome) -> Result<(), IngestError> {
        self.keep_index(outcome).await?;
        if let (IngestStatus::Filed | IngestStatus::Unchanged, Some(case_ref)) =
            (&outcome.status, &outcome.case_ref)
        {
            let clocks = crate::claims::ClaimClocks::new(
                self.stores.table.clone(),
                self.clock.clone(),
                self.settings.actor.clone(),
            );
            clocks.keep(case_ref).await?;
        }
        Ok(())
    }
}
