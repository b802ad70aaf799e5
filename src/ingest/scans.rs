//! Reading a stored document's scanned pages by OCR after it was ingested: on AWS the
//! ingest function (a zip, no OCR engine) files a document whose pages need OCR on what
//! text it has, marks it `ocr_pending` and hands a [`ScanRequest`] to the OCR queue; the
//! OCR function (a container image with Tesseract) then runs [`Ingest::read_scans`]:
//! the original is read again from the `Blobs` port with the deployment's scanner, its
//! stored text, metadata and warnings are replaced, and an unfiled document is filed on
//! its case if it now names one, by the same rules, audit and acknowledgement as ingest
//! (`file_new` with the document's record as `prior`), and fed to the search index.
//!
//! Idempotent: a read is recorded on the document (`ocr_read`: the hash of the bytes
//! read) in the same transaction as its filing, conditioned on the record's `version`;
//! a request for a document already read at that hash changes nothing but finishes what
//! a crash may have left (acknowledgement, waiting documents, index, deadlines), like an
//! ingest redelivery. Requests may come twice and in any order.

use std::time::Duration;

use serde::Deserialize;

use super::*;
use crate::store::Update;

/// The most one document's OCR may take in all (`Scanner::within`): with the OCR
/// function's timeout (900 s, one message an invocation) it leaves room for extraction
/// (8 s at most), analysis and the writes. Pages not begun in time keep no text and the
/// document says `ocr_timeout`; the measured pace is 0.6 s a page on one core, so a
/// 100-page scan (`Limits::ocr_max_pages`) takes about a minute.
pub const SCAN_BUDGET: Duration = Duration::from_secs(600);

/// A request to read a stored document's scanned pages: the OCR queue's message, as JSON
/// `{"doc_id": "d-…", "sha256": "…"}`. The id names the upload (bucket, key and version);
/// the hash names the bytes that need reading. Together they are what a read is recorded
/// under, so a request is done once however often it comes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    pub doc_id: String,
    pub sha256: String,
}

impl ScanRequest {
    /// Reads a queue message; refuses (`invalid_request`) anything else.
    pub fn from_message(body: &str) -> Result<ScanRequest, IngestError> {
        let request: ScanRequest = serde_json::from_str(body)
            .map_err(|_| IngestError::BadScanRequest("not {\"doc_id\", \"sha256\"}"))?;
        request.check()?;
        Ok(request)
    }

    /// A document id (`d-` and 24 hex digits) and a SHA-256 (64 hex digits), or refused.
    pub fn check(&self) -> Result<(), IngestError> {
        let hex = |s: &str, n: usize| {
            s.len() == n
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        if !self.doc_id.strip_prefix("d-").is_some_and(|h| hex(h, 24)) {
            return Err(IngestError::BadScanRequest("doc_id is not a document id"));
        }
        if !hex(&self.sha256, 64) {
            return Err(IngestError::BadScanRequest(
                "sha256 is not a SHA-256 in hex",
            ));
        }
        Ok(())
    }
}

/// Where documents whose scanned pages need reading go: the OCR queue on AWS.
#[async_trait::async_trait]
pub trait ScanQueue: Send + Sync + std::fmt::Debug {
    /// `Ok` once the request is safely queued.
    async fn submit(&self, request: &ScanRequest) -> Result<(), StoreError>;
}

#[cfg(feature = "aws")]
#[async_trait::async_trait]
impl ScanQueue for crate::store::SqsQueue {
    async fn submit(&self, request: &ScanRequest) -> Result<(), StoreError> {
        let body = serde_json::to_string(request).map_err(|e| StoreError::Invalid {
            what: format!("an OCR request: {e}"),
        })?;
        self.send(&body).await
    }
}

fn text<'a>(record: &'a Item, field: &str) -> Option<&'a str> {
    record.get(field).and_then(Value::as_str)
}

/// Whether the record's warnings say its scanned pages are still unread: left for OCR
/// here (`ocr_pending`), or by a deployment that had no engine (`ocr_unavailable`: a
/// request sent by hand reads those too).
fn awaits_ocr(record: &Item) -> bool {
    record
        .get("metadata")
        .and_then(|m| m.get("warnings"))
        .and_then(Value::as_array)
        .is_some_and(|w| {
            w.iter()
                .any(|c| matches!(c.as_str(), Some("ocr_pending" | "ocr_unavailable")))
        })
}

/// Why a request has nothing to read, if it has nothing.
fn nothing_to_read(record: &Item, request: &ScanRequest) -> Option<&'static str> {
    let read = record
        .get("ocr_read")
        .and_then(|r| r.get("sha256"))
        .and_then(Value::as_str);
    if read == Some(request.sha256.as_str()) {
        return Some("already_read");
    }
    if text(record, "sha256") != Some(request.sha256.as_str()) {
        return Some("stale_request");
    }
    if !matches!(text(record, "status"), Some("filed" | "unfiled")) {
        // Quarantined, or a duplicate (its original is read instead).
        return Some("not_filed");
    }
    if !awaits_ocr(record) {
        return Some("no_scanned_pages");
    }
    None
}

/// The upload a record describes, and the state of it the record pins.
fn object_of(record: &Item) -> Option<(ObjectRef, Pin)> {
    let obj = ObjectRef {
        bucket: text(record, "bucket")?.to_owned(),
        key: text(record, "key")?.to_owned(),
        version: text(record, "object_version").map(str::to_owned),
        etag: text(record, "etag").map(str::to_owned),
        received: text(record, "received")
            .and_then(|r| DateTime::parse_from_rfc3339(r).ok())
            .map(|r| r.with_timezone(&Utc)),
    };
    let pin = Pin::of(obj.version.as_deref(), obj.etag.as_deref())?;
    Some((obj, pin))
}

impl Ingest {
    /// Hands documents whose pages need OCR to `queue` (the OCR function's), instead of
    /// reading them here: they are filed on the text they have, marked `ocr_pending`.
    pub fn with_scan_queue(mut self, queue: Arc<dyn ScanQueue>) -> Self {
        self.scan_queue = Some(queue);
        self
    }

    /// The scanner `prepare` reads with: none of its own when OCR runs elsewhere.
    pub(super) fn ingest_scanner(&self) -> crate::scanning::Scanner {
        match &self.scan_queue {
            Some(_) => crate::scanning::Scanner::deferred(),
            None => self.scanner.clone(),
        }
    }

    /// Asks the OCR queue to read a recorded document's scanned pages, when it has some
    /// left for it and has not been read yet. Repeated by every delivery of its upload
    /// (a crash between the record and the request loses nothing); the request is
    /// idempotent.
    pub(super) async fn request_scan(
        &self,
        doc_id: &str,
        record: &Item,
    ) -> Result<(), IngestError> {
        let Some(queue) = &self.scan_queue else {
            return Ok(());
        };
        let pending = record
            .get("metadata")
            .and_then(|m| m.get("warnings"))
            .and_then(Value::as_array)
            .is_some_and(|w| w.iter().any(|c| c.as_str() == Some("ocr_pending")));
        let Some(sha256) = text(record, "sha256") else {
            return Ok(());
        };
        let request = ScanRequest {
            doc_id: doc_id.to_owned(),
            sha256: sha256.to_owned(),
        };
        if !pending || nothing_to_read(record, &request).is_some() {
            return Ok(());
        }
        queue.submit(&request).await?;
        tracing::info!(doc_id, "OCR requested");
        Ok(())
    }

    /// As `request_scan`, reading the record first.
    pub(super) async fn request_scan_of(&self, doc_id: &str) -> Result<(), IngestError> {
        if self.scan_queue.is_none() {
            return Ok(());
        }
        let key = Key::new(keys::doc(doc_id), keys::META);
        match self.stores.table.get(&key).await? {
            Some(record) => self.request_scan(doc_id, &record).await,
            None => Ok(()),
        }
    }

    /// Reads the scanned pages of the document `request` names, with this use case's
    /// scanner (the deployment's OCR engine) within [`SCAN_BUDGET`], and records what it
    /// read: text, metadata and warnings replaced; an unfiled document filed on its case
    /// if it now matches one (exactly as ingest files: `ocr_read` audited, the case's
    /// acknowledgement requested, waiting documents filed when it opens a case); the
    /// search index and the claim's deadlines follow.
    ///
    /// `Err` only for what a later try may mend (the store) or a deployment that cannot
    /// read scans (`config_invalid`); a request with nothing to read is an `unchanged`
    /// outcome with the reason (`already_read`, `stale_request`, `not_filed`,
    /// `no_scanned_pages`, `no_document`, `object_gone`).
    pub async fn read_scans(&self, request: &ScanRequest) -> Result<Outcome, IngestError> {
        request.check()?;
        let doc_id = request.doc_id.as_str();
        let table = &self.stores.table;
        let doc_key = Key::new(keys::doc(doc_id), keys::META);
        let skipped = |source: Option<&str>, reason: &str| Outcome {
            source: source.unwrap_or_default().to_owned(),
            doc_id: Some(doc_id.to_owned()),
            case_ref: None,
            status: IngestStatus::Unchanged,
            reason: Some(reason.to_owned()),
        };
        let Some(mut record) = table.get(&doc_key).await? else {
            tracing::warn!(doc_id, "OCR requested for a document not recorded");
            return Ok(skipped(None, "no_document"));
        };
        if let Some(reason) = nothing_to_read(&record, request) {
            return self.nothing_read(doc_id, &record, reason).await;
        }
        let source = text(&record, "source").unwrap_or_default().to_owned();
        let Some((obj, pin)) = object_of(&record) else {
            return Ok(skipped(Some(&source), "object_gone"));
        };

        // 1. Read the original again, as ingest did, now with an OCR engine.
        let object = match self.stores.blobs.get_pinned(&obj.key, &pin).await {
            Ok(object) => object,
            Err(StoreError::NotFound { .. }) => return Ok(skipped(Some(&source), "object_gone")),
            Err(e) => return Err(e.into()),
        };
        let wanted = (object.body.len() as u64)
            .div_ceil(PERMIT_BYTES)
            .clamp(1, u64::from(self.in_flight_permits())) as u32;
        let _permit = self
            .in_flight
            .acquire_many(wanted)
            .await
            .map_err(|e| IngestError::Task(e.to_string()))?;
        let bytes: Bytes = object.body;
        let sha = sha256_hex(&bytes);
        if sha != request.sha256 {
            return Ok(skipped(Some(&source), "stale_request"));
        }
        let (meta, text_read, unreadable) = self
            .read_on_thread(
                bytes,
                &source,
                &sha,
                self.scanner.clone().within(SCAN_BUDGET),
            )
            .await?;
        if meta.warnings.contains(&Warning::OcrUnavailable) {
            // A deployment without an engine: the request waits (and ends in the DLQ).
            return Err(IngestError::NoOcrEngine);
        }
        if unreadable {
            // Read before without trouble: a failure now is this reader's (a caught
            // panic); the document stays as it was, flagged pending, and is logged.
            tracing::error!(doc_id, "the document could not be read again for OCR");
            return Ok(skipped(Some(&source), "internal_error"));
        }

        // 2. Its text, before the record that describes it (as `prepare` does).
        let request_text = self
            .is_new_foi_request(&meta.doc_type)
            .then(|| text_read.chars().take(20_000).collect::<String>());
        self.stores
            .blobs
            .put(
                &keys::text(doc_id),
                Bytes::from(text_read),
                &PutOptions::content_type("text/plain; charset=utf-8").reproducible(),
            )
            .await?;

        // 3. Record it (and file it), deciding again after a lost race.
        for _ in 0..4 {
            let recorded = match text(&record, "status") {
                Some("unfiled") => {
                    self.file_new(
                        &obj,
                        doc_id,
                        &source,
                        &sha,
                        &meta,
                        request_text.as_deref(),
                        Some(&record),
                    )
                    .await
                }
                _ => self.read_filed(&obj, doc_id, &source, &meta, &record).await,
            };
            match recorded {
                Ok(outcome) => {
                    self.acknowledge(doc_id, &meta.doc_type, None).await?;
                    self.follow_up(&outcome).await?;
                    return Ok(outcome);
                }
                Err(IngestError::Store(StoreError::ConditionFailed { .. })) => {
                    let Some(now) = table.get(&doc_key).await? else {
                        return Ok(skipped(Some(&source), "no_document"));
                    };
                    record = now;
                    if let Some(reason) = nothing_to_read(&record, request) {
                        return self.nothing_read(doc_id, &record, reason).await;
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Err(IngestError::Store(StoreError::Backend {
            backend: "ingest",
            op: "record an OCR reading".into(),
            retryable: true,
            source: "conflicting writes did not settle".into(),
        }))
    }

    /// A request with nothing to read: unchanged, but a document already read has what
    /// a crash after its record may have left finished (as an ingest redelivery does).
    async fn nothing_read(
        &self,
        doc_id: &str,
        record: &Item,
        reason: &str,
    ) -> Result<Outcome, IngestError> {
        let mut outcome = unchanged(
            text(record, "source").unwrap_or_default().to_owned(),
            doc_id.to_owned(),
            record,
        );
        outcome.reason = Some(reason.to_owned());
        if reason == "already_read" {
            if record.get("opened_case").and_then(Value::as_bool) == Some(true)
                && let Some(reference) = text(record, "case_ref")
            {
                self.file_waiting(reference).await?;
            }
            self.acknowledge(doc_id, text(record, "doc_type").unwrap_or(""), Some(record))
                .await?;
            self.follow_up(&outcome).await?;
        } else {
            tracing::info!(doc_id, reason, "nothing to read by OCR");
        }
        Ok(outcome)
    }

    /// Records the reading of a document already filed (by hand, or on a reference its
    /// text layer carried): it stays on its case; its record, its entry under the case
    /// (type and date) and the case's keys follow what OCR read.
    async fn read_filed(
        &self,
        obj: &ObjectRef,
        doc_id: &str,
        source: &str,
        meta: &DocumentMetadata,
        record: &Item,
    ) -> Result<Outcome, IngestError> {
        let Some(case_ref) = text(record, "case_ref").map(str::to_owned) else {
            return Err(IngestError::Task(
                "a filed document without its case".into(),
            ));
        };
        let now = self.now();
        let version = record.get("version").and_then(Value::as_u64).unwrap_or(1);
        let described = self.document_item(
            obj,
            doc_id,
            source,
            Some(meta),
            Filing {
                status: "filed",
                case_ref: Some(&case_ref),
                received: text(record, "received").unwrap_or(&now),
            },
        );
        let mut update = Update::new(Key::new(keys::doc(doc_id), keys::META))
            .set("version", version + 1)
            .set("ocr_read", json!({"sha256": meta.sha256, "at": now}))
            .when(Condition::VersionEquals(version));
        for field in ["doc_type", "document_date", "text_key", "metadata"] {
            if let Some(value) = described.get(field) {
                update = update.set(field, value.clone());
            }
        }
        let old_date = text(record, "document_date").map(str::to_owned);
        let new_date = meta.document_date.map(|d| d.to_string());
        let entry = item(json!({
            "PK": keys::case(&case_ref),
            "SK": keys::case_doc(new_date.as_deref(), doc_id),
            "doc_id": doc_id,
            "doc_type": meta.doc_type,
            "document_date": new_date,
            "source": source,
        }));
        let mut ops = vec![TxOp::Update(update)];
        if old_date != new_date {
            ops.push(TxOp::Delete {
                key: Key::new(
                    keys::case(&case_ref),
                    keys::case_doc(old_date.as_deref(), doc_id),
                ),
                condition: Condition::None,
            });
        }
        ops.push(TxOp::Put {
            item: entry,
            condition: Condition::None,
        });
        ops.push(self.audit(
            keys::doc(doc_id),
            &now,
            3,
            "ocr_read",
            json!({"case_ref": case_ref, "doc_type": meta.doc_type, "opened_case": false, "status": "filed", "text_confidence": meta.text_confidence}),
        ));
        self.stores.table.transact(ops).await?;
        tracing::info!(doc_id, case_ref = %case_ref, "filed document read by OCR");
        let stored = self.stored_text(doc_id).await;
        let learned = crate::cases::suggest::Clues::read(meta, stored.as_deref()).learned_keys();
        if let Err(e) =
            crate::cases::matching::record_keys(self.stores.table.as_ref(), &case_ref, &learned)
                .await
        {
            tracing::warn!(doc_id, error = %e, "the case's keys were not recorded");
        }
        Ok(Outcome {
            source: source.to_owned(),
            doc_id: Some(doc_id.to_owned()),
            case_ref: Some(case_ref),
            status: IngestStatus::Filed,
            reason: None,
        })
    }

    /// The record of an unfiled document read again (`file_new`'s `prior`): `doc`, what
    /// filing it now describes, over what it held (fields later writers added are kept),
    /// marked read (`ocr_read`), written only if unchanged since it was read; its inbox
    /// entry goes once it is filed, and its waiting entry once it waits no more.
    pub(super) fn read_again(
        &self,
        prior: &Item,
        doc: Item,
        now: &str,
        ops: &mut Vec<TxOp>,
    ) -> (Item, Condition) {
        let version = prior.get("version").and_then(Value::as_u64).unwrap_or(1);
        let doc_id = text(prior, "doc_id").unwrap_or_default().to_owned();
        let mut merged = prior.clone();
        merged.remove("awaiting_case");
        for (field, value) in doc {
            if field != "version" {
                merged.insert(field, value);
            }
        }
        merged.insert("version".into(), json!(version + 1));
        let sha = merged.get("sha256").cloned().unwrap_or(Value::Null);
        merged.insert("ocr_read".into(), json!({"sha256": sha, "at": now}));
        let filed = text(&merged, "case_ref").is_some();
        if filed
            && text(prior, "status") == Some("unfiled")
            && let Some(received) = text(prior, "received")
        {
            ops.push(TxOp::Delete {
                key: Key::new(keys::UNFILED, keys::unfiled(received, &doc_id)),
                condition: Condition::None,
            });
        }
        if let Some(before) = text(prior, "awaiting_case")
            && text(&merged, "awaiting_case") != Some(before)
        {
            ops.push(TxOp::Delete {
                key: Key::new(keys::waiting(before), doc_id.clone()),
                condition: Condition::None,
            });
        }
        (merged, Condition::VersionEquals(version))
    }
}
