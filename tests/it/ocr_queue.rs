//! Scanned post in the AWS shape, in process on the embedded store (issue 20): ingest with
//! an OCR queue files a scanned letter on the text it has (none), marked `ocr_pending`,
//! and queues `{"doc_id", "sha256"}`; the OCR use case (`Ingest::read_scans`) reads its
//! pages, replaces its text and metadata, files it on the claim it names, audits it once
//! and feeds the search index. A second request changes nothing; stale, unknown and
//! malformed requests, and a deployment without an engine, are handled one by one by the
//! OCR function's batch handler.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use postroom::config::Config;
use postroom::failure::ErrorCode as _;
use postroom::handlers::handle_scans;
use postroom::ingest::{Ingest, IngestSettings, Outcome, ScanQueue, ScanRequest};
use postroom::model::{IngestStatus, keys};
use postroom::scanning::Scanner;
use postroom::store::{Filters, Item, Key, Query, Search, SqliteSearch, StoreError, Stores};
use serde_json::{Value, json};

use crate::ingest::FixedClock;
use crate::support::{every_item, sample};

const CLAIM: &str = "CNST/25/008879";

/// The OCR queue, as the requests it was given.
#[derive(Debug, Default)]
struct Recorded(Mutex<Vec<ScanRequest>>);

#[async_trait::async_trait]
impl ScanQueue for Recorded {
    async fn submit(&self, request: &ScanRequest) -> Result<(), StoreError> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(request.clone());
        Ok(())
    }
}

impl Recorded {
    fn all(&self) -> Vec<ScanRequest> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

struct Setup {
    _dir: tempfile::TempDir,
    stores: Stores,
    search: Arc<SqliteSearch>,
    queue: Arc<Recorded>,
    /// The ingest function's use case: OCR by queue.
    ingest: Ingest,
    /// The OCR function's: the build's engine (Tesseract).
    ocr: Ingest,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config::local(dir.path().to_path_buf());
    let stores = postroom::app::local_stores(&config).expect("local stores");
    let search = Arc::new(SqliteSearch::open(dir.path().join("search.sqlite3")).expect("search"));
    let queue = Arc::new(Recorded::default());
    let base = Ingest::new(
        stores.clone(),
        postroom::metadata::Rules::builtin(),
        Arc::new(FixedClock),
        IngestSettings::default(),
    )
    .with_search(search.clone());
    Setup {
        _dir: dir,
        stores,
        search,
        ingest: base.clone().with_scan_queue(queue.clone()),
        ocr: base,
        queue,
    }
}

async fn ingest(ingest: &Ingest, key: &str, bytes: Vec<u8>) -> Outcome {
    let obj = ingest
        .stage(key, Bytes::from(bytes), "local")
        .await
        .expect("stage");
    ingest.ingest(&obj).await.expect("ingest")
}

async fn record(stores: &Stores, doc_id: &str) -> Item {
    stores
        .table
        .get(&Key::new(keys::doc(doc_id), keys::META))
        .await
        .expect("get")
        .expect("the document's record")
}

fn field<'a>(item: &'a Item, name: &str) -> &'a str {
    item.get(name).and_then(Value::as_str).unwrap_or_default()
}

fn warnings(record: &Item) -> Vec<String> {
    crate::support::warning_codes(&record["metadata"])
}

/// Every item of the table, in key order, and the document's stored text.
async fn state(stores: &Stores, doc_id: &str) -> (Vec<Item>, Vec<u8>) {
    let mut items = every_item(stores.table.as_ref()).await;
    items.sort_by_key(|i| format!("{}\u{0}{}", field(i, "PK"), field(i, "SK")));
    let text = stores
        .blobs
        .get(&keys::text(doc_id))
        .await
        .expect("text")
        .body
        .to_vec();
    (items, text)
}

async fn events(stores: &Stores, doc_id: &str, what: &str) -> usize {
    stores
        .table
        .query_all(&Query::new(keys::doc(doc_id)))
        .await
        .expect("events")
        .iter()
        .filter(|e| e.get("what").and_then(Value::as_str) == Some(what))
        .count()
}

async fn hits(search: &dyn Search, query: &str, case: &str) -> Vec<String> {
    let filters = Filters {
        case_ref: Some(case.to_owned()),
        ..Filters::default()
    };
    crate::search::hits(search, query, filters).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_scan_is_read_filed_on_its_claim_and_indexed_once() {
    let s = setup();
    // The claim the scanned letter writes about.
    let claim = ingest(
        &s.ingest,
        "inbox/claim.pdf",
        sample("01-letter-of-claim.pdf").to_vec(),
    )
    .await;
    assert_eq!(claim.status, IngestStatus::Filed, "{claim:?}");
    assert_eq!(claim.case_ref.as_deref(), Some(CLAIM));
    assert!(
        s.queue.all().is_empty(),
        "a born-digital letter is not queued"
    );

    // 1. Ingest with an OCR queue: stored and filed on no text (the inbox), pending, queued.
    let scan = sample("10-scanned-letter.pdf").to_vec();
    let first = ingest(&s.ingest, "inbox/scan.pdf", scan.clone()).await;
    assert_eq!(first.status, IngestStatus::Unfiled, "{first:?}");
    let doc_id = first.doc_id.clone().expect("an id");
    let before = record(&s.stores, &doc_id).await;
    let codes = warnings(&before);
    assert!(codes.contains(&"ocr_pending".to_owned()), "{codes:?}");
    assert!(!codes.contains(&"ocr_unavailable".to_owned()), "{codes:?}");
    let sha = before["sha256"].as_str().expect("sha256").to_owned();
    let request = ScanRequest {
        doc_id: doc_id.clone(),
        sha256: sha.clone(),
    };
    assert_eq!(s.queue.all(), std::slice::from_ref(&request));
    // Indexed on its name alone: no words of the letter yet.
    let found = hits(s.search.as_ref(), "Chancery", CLAIM).await;
    assert!(!found.contains(&doc_id), "{found:?}");

    // A redelivery of the upload changes nothing and asks again (a crash between the
    // record and the request loses nothing); the request is the same.
    let again = ingest(&s.ingest, "inbox/scan.pdf", scan.clone()).await;
    assert_eq!(again.status, IngestStatus::Unchanged);
    assert_eq!(s.queue.all(), [request.clone(), request.clone()]);

    // 2. The OCR function reads it: text, metadata and warnings replaced, filed on the
    //    claim it names, audited once, indexed.
    let read = s.ocr.read_scans(&request).await.expect("read");
    assert_eq!(read.status, IngestStatus::Filed, "{read:?}");
    assert_eq!(read.case_ref.as_deref(), Some(CLAIM));
    let after = record(&s.stores, &doc_id).await;
    assert_eq!(after["status"], "filed");
    assert_eq!(after["case_ref"], CLAIM);
    assert_eq!(after["received"], before["received"], "its arrival is kept");
    assert_eq!(after["ocr_read"]["sha256"], sha.as_str());
    let codes = warnings(&after);
    assert!(codes.contains(&"ocr_text".to_owned()), "{codes:?}");
    for gone in ["ocr_pending", "no_text_layer"] {
        assert!(!codes.contains(&gone.to_owned()), "{codes:?}");
    }
    let confidence = after["metadata"]["text_confidence"]
        .as_f64()
        .expect("text_confidence");
    assert!((0.6..=1.0).contains(&confidence), "{confidence}");
    assert_eq!(after["metadata"]["references"]["case_ref"], CLAIM);
    let (items, text) = state(&s.stores, &doc_id).await;
    assert!(
        String::from_utf8_lossy(&text).contains("Pre-Action"),
        "the stored text is OCR's"
    );
    assert!(
        !items
            .iter()
            .any(|i| field(i, "PK") == keys::UNFILED && field(i, "doc_id") == doc_id),
        "it has left the inbox"
    );
    assert!(
        items
            .iter()
            .any(|i| field(i, "PK") == keys::case(CLAIM) && field(i, "doc_id") == doc_id),
        "it is under its claim"
    );
    assert_eq!(events(&s.stores, &doc_id, "ocr_read").await, 1);
    let found = hits(s.search.as_ref(), "Chancery", CLAIM).await;
    assert!(
        found.contains(&doc_id),
        "indexed under its claim: {found:?}"
    );

    // 3. The same request again (SQS delivers at least once): nothing changes.
    let snapshot = state(&s.stores, &doc_id).await;
    let twice = s.ocr.read_scans(&request).await.expect("read again");
    assert_eq!(twice.status, IngestStatus::Unchanged);
    assert_eq!(twice.reason.as_deref(), Some("already_read"));
    assert_eq!(twice.case_ref.as_deref(), Some(CLAIM));
    assert!(
        state(&s.stores, &doc_id).await == snapshot,
        "nothing changed"
    );
    assert_eq!(events(&s.stores, &doc_id, "ocr_read").await, 1);

    // A late redelivery of the upload does not queue it again, and changes nothing.
    let late = ingest(&s.ingest, "inbox/scan.pdf", scan).await;
    assert_eq!(late.status, IngestStatus::Unchanged);
    assert_eq!(s.queue.all().len(), 2, "no request once read");
    assert!(state(&s.stores, &doc_id).await == snapshot);

    // A request naming other bytes than the document's is stale, not an error.
    let stale = ScanRequest {
        doc_id: doc_id.clone(),
        sha256: "0".repeat(64),
    };
    let out = s.ocr.read_scans(&stale).await.expect("stale");
    assert_eq!(out.reason.as_deref(), Some("stale_request"));
    assert!(state(&s.stores, &doc_id).await == snapshot);
}

fn sqs(messages: &[(&str, String)]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|(id, body)| json!({"messageId": id, "body": body, "eventSource": "aws:sqs"}))
        .collect();
    json!({ "Records": records })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ocr_function_reports_only_the_requests_that_failed() {
    let s = setup();
    let first = ingest(
        &s.ingest,
        "inbox/scan.pdf",
        sample("10-scanned-letter.pdf").to_vec(),
    )
    .await;
    let request = s.queue.all().pop().expect("queued");
    assert_eq!(first.doc_id.as_deref(), Some(request.doc_id.as_str()));
    let body = serde_json::to_string(&request).expect("JSON");
    assert_eq!(
        serde_json::from_str::<Value>(&body).expect("JSON"),
        json!({"doc_id": request.doc_id, "sha256": request.sha256}),
        "the message names the document and its bytes, nothing else"
    );

    // A deployment without an engine cannot read it: that request fails (and would go to
    // the dead-letter queue); the document stays as it was, pending.
    let blind = s.ocr.clone().with_scanner(Scanner::none());
    let err = blind.read_scans(&request).await.expect_err("no engine");
    assert_eq!(err.code().as_str(), "config_invalid");
    let report = handle_scans(&blind, sqs(&[("m-1", body.clone())]), 2)
        .await
        .expect("batch");
    assert_eq!(
        report,
        json!({"batchItemFailures": [{"itemIdentifier": "m-1"}]})
    );
    assert!(warnings(&record(&s.stores, &request.doc_id).await).contains(&"ocr_pending".into()));

    // One batch: the request, a junk message, a document never recorded, and the request
    // again. Only the junk fails.
    let unknown = serde_json::to_string(&ScanRequest {
        doc_id: "d-000000000000000000000000".into(),
        sha256: "0".repeat(64),
    })
    .expect("JSON");
    let report = handle_scans(
        &s.ocr,
        sqs(&[
            ("m-1", body.clone()),
            ("m-2", "not a request".into()),
            ("m-3", unknown),
            ("m-4", body.clone()),
        ]),
        1,
    )
    .await
    .expect("batch");
    assert_eq!(
        report,
        json!({"batchItemFailures": [{"itemIdentifier": "m-2"}]})
    );
    let done = record(&s.stores, &request.doc_id).await;
    assert_eq!(done["ocr_read"]["sha256"], request.sha256.as_str());
    assert_eq!(events(&s.stores, &request.doc_id, "ocr_read").await, 1);
    // No claim is open: it stays in the inbox, now with its text.
    assert_eq!(done["status"], "unfiled");

    // Invoked directly with one request: its outcome.
    let direct = handle_scans(&s.ocr, serde_json::from_str(&body).expect("JSON"), 1)
        .await
        .expect("direct");
    assert_eq!(direct["status"], "unchanged");
    assert_eq!(direct["reason"], "already_read");
    let refused = handle_scans(&s.ocr, json!({"doc_id": "../etc"}), 1)
        .await
        .expect_err("refused");
    assert_eq!(refused.code.as_str(), "invalid_request");
}
