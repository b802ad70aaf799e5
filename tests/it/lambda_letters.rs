//! The letters function's handler over the sample events, on the embedded store and on
//! S3 and DynamoDB (moto): stored PDFs, one letter per request id however often it is
//! delivered, invalid data recorded (not retried), an undecodable message reported.
//! And the outbox's faults (review finding 14) on the embedded store: a letter for a
//! case that does not exist, a racing delivery with other data, a crash between the
//! record and the PDF or between the PDF and the record's completion (each finished by a
//! redelivery with other data, with the recorded bytes at the one key
//! `letters/<case_ref>/<letter_id>.pdf`), a template version changed in between, data
//! too large for the record, an audit-key clash, and a request first refused as invalid.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use postroom::clock::SystemClock;
use postroom::failure::ErrorCode as _;
use postroom::handlers::handle_letters;
use postroom::letter_service::{LetterRequest, LetterStatus, Letters, letter_id, letter_key};
use postroom::letters::Registry;
use postroom::model::keys;
use postroom::store::Stores;
use postroom::store::{
    Blobs, Condition, DirBlobs, DynamoTable, Item, Key, Query, S3Blobs, SqliteTable, StoreError,
    Table,
};
use serde_json::{Value, json};

use crate::contract::harness::{aws_settings, unique};

fn sample(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("events")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect("sample event")).expect("json")
}

fn outbox(stores: Stores) -> Letters {
    Letters {
        stores,
        registry: Registry::embedded(),
        clock: Arc::new(SystemClock),
        actor: "test:letters".into(),
    }
}

/// Opens a case as the ingest or the FOI service would (its `META` item).
async fn open_case(stores: &Stores, case_ref: &str) {
    let mut item = Item::new();
    item.insert("PK".into(), json!(keys::case(case_ref)));
    item.insert("SK".into(), json!(keys::META));
    item.insert("case_ref".into(), json!(case_ref));
    item.insert("kind".into(), json!("claim"));
    stores
        .table
        .put(item, Condition::Absent)
        .await
        .expect("case opened");
}

async fn exercise(outbox: &Letters) {
    for case_ref in ["CNST/24/004512", "CNST/24/004513", "MIS/Y6/RXX"] {
        open_case(&outbox.stores, case_ref).await;
    }
    // The SQS batch: one failure reported (the body that is not a request).
    let out = handle_letters(outbox, sample("letters-sqs-batch.json"), 4)
        .await
        .expect("batch");
    assert_eq!(
        out,
        json!({"batchItemFailures": [{"itemIdentifier": "0b7c6f0e-5f1a-4d0e-9a51-1c2d3e4f5a05"}]})
    );
    // Delivered again: nothing new.
    handle_letters(outbox, sample("letters-sqs-batch.json"), 4)
        .await
        .expect("batch again");

    let ack = letter_id("ack-CNST-24-004512-2024-03-12");
    let record = outbox
        .stores
        .table
        .get(&Key::new(
            keys::case("CNST/24/004512"),
            format!("LETTER#{ack}"),
        ))
        .await
        .expect("get")
        .expect("the letter is recorded");
    assert_eq!(record["status"], "stored");
    assert_eq!(record["template"], "claim-acknowledgement");
    let key = record["s3_key"].as_str().expect("the record names its PDF");
    assert_eq!(key, format!("letters/CNST/24/004512/{ack}.pdf"));
    assert_eq!(key, letter_key("CNST/24/004512", &ack));
    assert!(
        record.get("data_json").is_none(),
        "kept only while rendering"
    );
    let pdf = outbox
        .stores
        .blobs
        .get(key)
        .await
        .expect("the letter is stored");
    assert!(pdf.body.starts_with(b"%PDF-1.7"));

    // One letter and one audit event for a request delivered three times.
    let under_case = outbox
        .stores
        .table
        .query(&Query::new(keys::case("CNST/24/004512")))
        .await
        .expect("query")
        .items;
    let letters = under_case
        .iter()
        .filter(|i| {
            i.get("SK")
                .and_then(Value::as_str)
                .is_some_and(|s| s.starts_with("LETTER#"))
        })
        .count();
    let events: Vec<&serde_json::Map<String, Value>> = under_case
        .iter()
        .filter(|i| i.get("what").is_some_and(|w| w == "letter_generated"))
        .collect();
    assert_eq!((letters, events.len()), (1, 1), "{under_case:?}");
    assert_eq!(events[0]["details"]["letter_id"], json!(ack));

    // Invalid data: recorded with every problem by field, no PDF.
    let bad = letter_id("ack-bad-data");
    let record = outbox
        .stores
        .table
        .get(&Key::new(
            keys::case("CNST/24/004513"),
            format!("LETTER#{bad}"),
        ))
        .await
        .expect("get")
        .expect("the refused request is recorded");
    assert_eq!(record["status"], "invalid");
    let errors = record["errors"].to_string();
    assert!(
        errors.contains("our_ref") && errors.contains("letter_date"),
        "{errors}"
    );
    assert!(record.get("s3_key").is_none(), "{record:?}");
    let stored = outbox
        .stores
        .blobs
        .list("letters/CNST/24/004513/", None, 10)
        .await
        .expect("list");
    assert!(stored.objects.is_empty(), "no PDF: {:?}", stored.objects);

    // A direct invocation answers with the outcome.
    let direct = handle_letters(outbox, sample("letters-request.json"), 1)
        .await
        .expect("direct");
    assert_eq!(direct["status"], "unchanged");
    assert_eq!(direct["s3_key"], json!(key));
    let mut fresh = sample("letters-request.json");
    fresh["request_id"] = json!("another-request");
    let direct = handle_letters(outbox, fresh, 1).await.expect("direct");
    assert_eq!(direct["status"], "stored");
    assert_eq!(
        direct["s3_key"],
        json!(letter_key("CNST/24/004512", &letter_id("another-request")))
    );
    // A direct request that is not one is a permanent error.
    let err = handle_letters(outbox, json!({"template": "x"}), 1)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "Permanent");
    // The same data renders the same bytes whichever request asked.
    let again = outbox
        .stores
        .blobs
        .get(direct["s3_key"].as_str().expect("key"))
        .await
        .expect("stored");
    assert_eq!(again.body, pdf.body);
}

#[tokio::test]
async fn letters_handler_on_the_embedded_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stores = Stores {
        blobs: Arc::new(DirBlobs::open(dir.path().join("blobs")).expect("blobs")),
        table: Arc::new(SqliteTable::open(dir.path().join("postroom.sqlite")).expect("table")),
    };
    exercise(&outbox(stores)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn letters_handler_on_s3_and_dynamodb() {
    let Some(settings) = aws_settings("lambda_letters::letters_handler_on_s3_and_dynamodb").await
    else {
        return;
    };
    let bucket = unique("letters");
    let blobs = S3Blobs::new(&settings, &bucket);
    let table = DynamoTable::new(&settings, unique("letters"));
    blobs.create_bucket().await.expect("bucket");
    table.create_table().await.expect("table");
    let stores = Stores {
        blobs: Arc::new(blobs),
        table: Arc::new(table.clone()),
    };
    exercise(&outbox(stores)).await;
    table.delete_table().await.ok();
}

/// The ingest function's way to the letters function: a request sent with `SqsQueue`
/// arrives whole on a real queue (moto) and is handled by the letters handler; a body
/// over SQS's limit is refused before sending; a missing queue is a clear error.
#[tokio::test]
async fn requests_queued_with_sqs_reach_the_letters_handler() {
    use postroom::letter_service::{LetterRequest, LetterSink};
    use postroom::store::SqsQueue;
    let name = "lambda_letters::requests_queued_with_sqs_reach_the_letters_handler";
    let Some(settings) = aws_settings(name).await else {
        return;
    };
    let sqs = aws_sdk_sqs::Client::new(&crate::lambda_ingest::sdk_config().await);
    let url = sqs
        .create_queue()
        .queue_name(unique("letters"))
        .send()
        .await
        .expect("queue")
        .queue_url()
        .expect("url")
        .to_owned();
    let queue = SqsQueue::new(&settings, &url);
    let request: LetterRequest =
        serde_json::from_value(sample("letters-request.json")).expect("sample request");
    queue.submit(&request).await.expect("queued");

    let mut big = request.clone();
    big.data["request_text"] = json!("x".repeat(300 * 1024));
    let err = queue.submit(&big).await.expect_err("too large for SQS");
    assert!(err.to_string().contains("queue message"), "{err}");
    assert!(!err.is_retryable());

    let missing = SqsQueue::new(&settings, format!("{url}-missing"));
    let err = missing.submit(&request).await.expect_err("no such queue");
    assert!(!err.is_retryable(), "{err}");

    let got = sqs
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .send()
        .await
        .expect("receive");
    assert_eq!(
        got.messages().len(),
        1,
        "only the request that fits was sent"
    );
    let m = &got.messages()[0];
    let body: LetterRequest = serde_json::from_str(m.body().unwrap_or_default()).expect("body");
    assert_eq!(body, request);

    // The letters handler takes the message as Lambda would deliver it.
    let dir = tempfile::tempdir().expect("temp dir");
    let stores = Stores {
        blobs: Arc::new(DirBlobs::open(dir.path().join("blobs")).expect("blobs")),
        table: Arc::new(SqliteTable::open(dir.path().join("t.sqlite3")).expect("table")),
    };
    let event = json!({"Records": [{
        "messageId": m.message_id(),
        "receiptHandle": m.receipt_handle(),
        "body": m.body(),
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-2:123456789012:letters",
        "awsRegion": "eu-west-2",
        "attributes": {},
        "messageAttributes": {}
    }]});
    open_case(&stores, &request.case_ref).await;
    let out = handle_letters(&outbox(stores.clone()), event, 2)
        .await
        .expect("batch");
    assert_eq!(out, json!({"batchItemFailures": []}));
    let record = stores
        .table
        .get(&Key::new(
            keys::case(&request.case_ref),
            format!("LETTER#{}", letter_id(&request.request_id)),
        ))
        .await
        .expect("get")
        .expect("recorded");
    let key = record["s3_key"].as_str().expect("s3_key");
    assert!(stores.blobs.head(key).await.is_ok(), "{key} stored");
}

// ---------------------------------------------------------------------------------------
// Review finding 14: the outbox's faults, on the embedded store.

#[derive(Debug)]
struct FixedClock;

impl postroom::clock::Clock for FixedClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        use chrono::TimeZone;
        chrono::Utc
            .with_ymd_and_hms(2025, 3, 4, 9, 30, 0)
            .single()
            .unwrap_or_default()
    }
}

/// The time the fixed clock stamps on audit events.
const NOW: &str = "2025-03-04T09:30:00.000Z";

/// A lost connection, as the stores report one.
fn lost(op: &str) -> StoreError {
    StoreError::Backend {
        backend: "test",
        op: op.into(),
        retryable: true,
        source: "connection lost".into(),
    }
}

/// The embedded table with two faults to inject: the next read of a letter record
/// answers "absent" (what a delivery sees when it reads just before a racing delivery
/// records the letter), and the next transaction fails as a lost connection would
/// (a crash after the PDF is stored and before the record is marked stored).
#[derive(Debug)]
struct Faulty {
    inner: SqliteTable,
    stale_read: AtomicBool,
    lose_transaction: AtomicBool,
}

#[async_trait::async_trait]
impl Table for Faulty {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    async fn health(&self) -> Result<(), StoreError> {
        self.inner.health().await
    }
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        if key.sk.starts_with("LETTER#") && self.stale_read.swap(false, Ordering::SeqCst) {
            return Ok(None);
        }
        self.inner.get(key).await
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        self.inner.put(item, condition).await
    }
    async fn update(&self, update: postroom::store::Update) -> Result<Item, StoreError> {
        self.inner.update(update).await
    }
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        self.inner.delete(key, condition).await
    }
    async fn query(&self, query: &Query) -> Result<postroom::store::Page, StoreError> {
        self.inner.query(query).await
    }
    async fn query_gsi1(&self, query: &Query) -> Result<postroom::store::Page, StoreError> {
        self.inner.query_gsi1(query).await
    }
    async fn scan(
        &self,
        segment: u32,
        total_segments: u32,
        cursor: Option<&postroom::store::Cursor>,
    ) -> Result<postroom::store::Page, StoreError> {
        self.inner.scan(segment, total_segments, cursor).await
    }
    async fn transact(&self, ops: Vec<postroom::store::TxOp>) -> Result<(), StoreError> {
        if self.lose_transaction.swap(false, Ordering::SeqCst) {
            return Err(lost("TransactWriteItems"));
        }
        self.inner.transact(ops).await
    }
}

/// The embedded blob store with one fault to inject: the next put fails as a lost
/// connection would (a crash after the letter is recorded and before its PDF is
/// stored). It counts the puts that reached the store.
#[derive(Debug)]
struct FaultyBlobs {
    inner: DirBlobs,
    lose_put: AtomicBool,
    puts: AtomicUsize,
}

#[async_trait::async_trait]
impl Blobs for FaultyBlobs {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    async fn health(&self) -> Result<(), StoreError> {
        self.inner.health().await
    }
    async fn get(&self, key: &str) -> Result<postroom::store::Object, StoreError> {
        self.inner.get(key).await
    }
    async fn put(
        &self,
        key: &str,
        body: bytes::Bytes,
        options: &postroom::store::PutOptions,
    ) -> Result<postroom::store::ObjectMeta, StoreError> {
        if self.lose_put.swap(false, Ordering::SeqCst) {
            return Err(lost("PutObject"));
        }
        self.puts.fetch_add(1, Ordering::SeqCst);
        self.inner.put(key, body, options).await
    }
    async fn head(&self, key: &str) -> Result<postroom::store::ObjectMeta, StoreError> {
        self.inner.head(key).await
    }
    async fn list(
        &self,
        prefix: &str,
        cursor: Option<&postroom::store::Cursor>,
        limit: usize,
    ) -> Result<postroom::store::ListPage, StoreError> {
        self.inner.list(prefix, cursor, limit).await
    }
    async fn get_pinned(
        &self,
        key: &str,
        pin: &postroom::store::Pin,
    ) -> Result<postroom::store::Object, StoreError> {
        self.inner.get_pinned(key, pin).await
    }
    async fn head_pinned(
        &self,
        key: &str,
        pin: &postroom::store::Pin,
    ) -> Result<postroom::store::ObjectMeta, StoreError> {
        self.inner.head_pinned(key, pin).await
    }
    async fn copy(
        &self,
        from: &str,
        pin: Option<&postroom::store::Pin>,
        to: &str,
    ) -> Result<(), StoreError> {
        self.inner.copy(from, pin, to).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }
    async fn delete_pinned(&self, key: &str, pin: &postroom::store::Pin) -> Result<(), StoreError> {
        self.inner.delete_pinned(key, pin).await
    }
}

struct Rig {
    _dir: tempfile::TempDir,
    table: Arc<Faulty>,
    blobs: Arc<FaultyBlobs>,
    outbox: Letters,
}

const CASE: &str = "CNST/24/004512";

async fn rig(open: bool) -> Rig {
    let dir = tempfile::tempdir().expect("tempdir");
    let table = Arc::new(Faulty {
        inner: SqliteTable::open(dir.path().join("postroom.sqlite")).expect("table"),
        stale_read: AtomicBool::new(false),
        lose_transaction: AtomicBool::new(false),
    });
    let blobs = Arc::new(FaultyBlobs {
        inner: DirBlobs::open(dir.path().join("blobs")).expect("blobs"),
        lose_put: AtomicBool::new(false),
        puts: AtomicUsize::new(0),
    });
    let stores = Stores {
        blobs: blobs.clone(),
        table: table.clone(),
    };
    if open {
        open_case(&stores, CASE).await;
    }
    let outbox = Letters {
        stores,
        registry: Registry::embedded(),
        clock: Arc::new(FixedClock),
        actor: "test:letters".into(),
    };
    Rig {
        _dir: dir,
        table,
        blobs,
        outbox,
    }
}

/// The sample acknowledgement request, dated `date`.
fn ack(request_id: &str, date: &str) -> LetterRequest {
    let mut request: LetterRequest =
        serde_json::from_value(sample("letters-request.json")).expect("sample request");
    request.request_id = request_id.into();
    request.data["letter_date"] = json!(date);
    request
}

impl Rig {
    async fn record(&self, request_id: &str) -> Option<Item> {
        self.record_on(CASE, request_id).await
    }

    async fn record_on(&self, case_ref: &str, request_id: &str) -> Option<Item> {
        self.outbox
            .stores
            .table
            .get(&Key::new(
                keys::case(case_ref),
                format!("LETTER#{}", letter_id(request_id)),
            ))
            .await
            .expect("get")
    }

    /// How many audit events of this kind the case has.
    async fn events(&self, what: &str) -> usize {
        self.outbox
            .stores
            .table
            .query_all(&Query::new(keys::case(CASE)))
            .await
            .expect("query")
            .iter()
            .filter(|i| i.get("what").is_some_and(|w| w == what))
            .count()
    }

    /// The bytes of the PDF the letter's record names, which is the letter's one key.
    async fn recorded_pdf(&self, request_id: &str) -> Vec<u8> {
        let record = self.record(request_id).await.expect("recorded");
        assert_eq!(record["status"], "stored", "{record:?}");
        let key = record["s3_key"].as_str().expect("s3_key");
        assert_eq!(key, letter_key(CASE, &letter_id(request_id)));
        self.outbox
            .stores
            .blobs
            .get(key)
            .await
            .expect("the PDF the record names")
            .body
            .to_vec()
    }

    /// The keys of every object stored under `letters/`.
    async fn objects(&self) -> Vec<String> {
        self.outbox
            .stores
            .blobs
            .list("letters/", None, 100)
            .await
            .expect("list")
            .objects
            .into_iter()
            .map(|o| o.key)
            .collect()
    }

    /// The same outbox over the same stores, with other templates.
    fn with_registry(&self, registry: &'static Registry) -> Letters {
        Letters {
            registry,
            ..self.outbox.clone()
        }
    }
}

fn pdf_of(request: &LetterRequest) -> Vec<u8> {
    Registry::embedded()
        .render(
            &request.template,
            &request.data,
            postroom::letters::Format::Pdf,
        )
        .expect("renders")
        .bytes
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Finding 14a: a letter is recorded only under a case that exists; otherwise the
/// request is refused with `case_not_found` (not retryable) and nothing is written.
#[tokio::test]
async fn a_letter_for_a_case_that_does_not_exist_is_refused() {
    let rig = rig(false).await;
    let request = ack("ack-no-case", "2024-03-12");
    let err = rig.outbox.send(&request).await.expect_err("no such case");
    assert_eq!(err.code(), "case_not_found", "{err}");
    assert!(!err.is_retryable());
    let under = rig
        .outbox
        .stores
        .table
        .query_all(&Query::new(keys::case(CASE)))
        .await
        .expect("query");
    assert!(
        under.is_empty(),
        "nothing written under the case: {under:?}"
    );
    let pdfs = rig.objects().await;
    assert!(pdfs.is_empty(), "no PDF: {pdfs:?}");
    // Invoked directly: a permanent error.
    let err = handle_letters(
        &rig.outbox,
        serde_json::to_value(&request).expect("json"),
        1,
    )
    .await
    .expect_err("no such case");
    assert_eq!(err.kind(), "Permanent");
    // Once the case is opened, the same request gives its letter.
    open_case(&rig.outbox.stores, CASE).await;
    let sent = rig.outbox.send(&request).await.expect("sent");
    assert_eq!(sent.status, LetterStatus::Stored);
}

/// Finding 14b: a delivery that read "no letter yet" just before another delivery of
/// the same request (with other data: an acknowledgement dated a day later) recorded
/// it, loses the race for the record and never writes its PDF: the recorded letter's
/// PDF at `letters/<case_ref>/<letter_id>.pdf` stays the recorded one, and the delivery
/// answers `unchanged` with that key.
#[tokio::test]
async fn a_racing_delivery_with_other_data_never_replaces_the_recorded_pdf() {
    let rig = rig(true).await;
    let first = ack("ack-race", "2024-03-12");
    let second = ack("ack-race", "2024-03-13");
    assert_ne!(pdf_of(&first), pdf_of(&second));
    let sent = rig.outbox.send(&first).await.expect("first");
    assert_eq!(sent.status, LetterStatus::Stored);
    let key = letter_key(CASE, &letter_id("ack-race"));
    assert_eq!(sent.s3_key.as_deref(), Some(key.as_str()));
    let puts = rig.blobs.puts.load(Ordering::SeqCst);
    rig.table.stale_read.store(true, Ordering::SeqCst);
    let again = rig.outbox.send(&second).await.expect("second");
    assert_eq!(again.status, LetterStatus::Unchanged);
    assert_eq!(again.s3_key, sent.s3_key, "the recorded letter's key");
    assert!(
        rig.recorded_pdf("ack-race").await == pdf_of(&first),
        "the PDF the record names is not the recorded letter's"
    );
    assert_eq!(
        rig.blobs.puts.load(Ordering::SeqCst),
        puts,
        "the losing delivery wrote a PDF"
    );
    assert_eq!(rig.objects().await, [key]);
    assert_eq!(rig.events("letter_generated").await, 1);
}

/// Finding 14b: a crash after the letter is recorded and its PDF stored, before the
/// record is marked stored, is finished by the next delivery of the same request, even
/// one whose data differs (dated another day): one record, one audit event, and the
/// recorded letter's bytes at its one key. A later delivery changes nothing.
#[tokio::test]
async fn a_redelivery_finishes_a_letter_whose_record_was_not_marked_stored() {
    let rig = rig(true).await;
    let request = ack("ack-crash", "2024-03-12");
    let other = ack("ack-crash", "2024-03-19");
    assert_ne!(pdf_of(&request), pdf_of(&other));
    rig.table.lose_transaction.store(true, Ordering::SeqCst);
    let err = rig.outbox.send(&request).await.expect_err("lost");
    assert!(err.is_retryable(), "{err}");
    let record = rig.record("ack-crash").await.expect("recorded first");
    assert_eq!(record["status"], "rendering", "{record:?}");
    assert_eq!(rig.events("letter_generated").await, 0);
    let sent = rig.outbox.send(&other).await.expect("redelivered");
    assert_eq!(sent.status, LetterStatus::Stored);
    let key = letter_key(CASE, &letter_id("ack-crash"));
    assert_eq!(sent.s3_key.as_deref(), Some(key.as_str()));
    assert!(rig.recorded_pdf("ack-crash").await == pdf_of(&request));
    let later = rig
        .outbox
        .send(&ack("ack-crash", "2024-03-20"))
        .await
        .expect("later");
    assert_eq!(later.status, LetterStatus::Unchanged);
    assert!(rig.recorded_pdf("ack-crash").await == pdf_of(&request));
    assert_eq!(rig.objects().await, [key]);
    assert_eq!(rig.events("letter_generated").await, 1);
}

/// Finding 14b: the record comes before the PDF, and holds what reproduces it. A crash
/// after the record is written and before the PDF is stored leaves the letter
/// `rendering` (template, template version, data and the PDF's hash recorded, no
/// object); a redelivery whose data differs (dated another day) renders the recorded
/// letter again, byte for byte, puts it at `letters/<case_ref>/<letter_id>.pdf` and
/// marks the record stored: the redelivery's own data is never stored.
#[tokio::test]
async fn a_crash_between_the_record_and_the_pdf_is_finished_with_the_recorded_bytes() {
    let rig = rig(true).await;
    let first = ack("ack-half-done", "2024-03-12");
    let second = ack("ack-half-done", "2024-03-14");
    assert_ne!(pdf_of(&first), pdf_of(&second));
    let key = letter_key(CASE, &letter_id("ack-half-done"));
    rig.blobs.lose_put.store(true, Ordering::SeqCst);
    let err = rig.outbox.send(&first).await.expect_err("PDF lost");
    assert!(err.is_retryable(), "{err}");
    let record = rig.record("ack-half-done").await.expect("recorded first");
    assert_eq!(record["status"], "rendering", "{record:?}");
    assert_eq!(record["template"], "claim-acknowledgement");
    assert_eq!(
        record["template_version"],
        json!(
            Registry::embedded()
                .get("claim-acknowledgement")
                .expect("template")
                .spec
                .version
        )
    );
    assert_eq!(record["pdf_sha256"], json!(sha256(&pdf_of(&first))));
    assert_eq!(record["s3_key"], json!(key));
    assert!(rig.objects().await.is_empty(), "no PDF yet");
    assert_eq!(rig.events("letter_generated").await, 0);

    let sent = rig.outbox.send(&second).await.expect("redelivered");
    assert_eq!(sent.status, LetterStatus::Stored);
    assert_eq!(sent.s3_key.as_deref(), Some(key.as_str()));
    let stored = rig.recorded_pdf("ack-half-done").await;
    assert!(
        stored == pdf_of(&first),
        "the stored PDF is not the recorded letter"
    );
    let record = rig.record("ack-half-done").await.expect("recorded");
    assert_eq!(record["pdf_sha256"], json!(sha256(&stored)));
    assert!(record.get("data_json").is_none(), "{record:?}");
    assert_eq!(rig.events("letter_generated").await, 1);
    assert_eq!(rig.blobs.puts.load(Ordering::SeqCst), 1);

    let again = rig.outbox.send(&second).await.expect("again");
    assert_eq!(again.status, LetterStatus::Unchanged);
    assert_eq!(rig.blobs.puts.load(Ordering::SeqCst), 1, "nothing written");
    assert_eq!(rig.objects().await, [key]);
}

/// The registry with `claim-acknowledgement` at another version (same body).
fn registry_with_claim_acknowledgement_at(version: &str) -> &'static Registry {
    let files = postroom::letters::embedded::FILES
        .iter()
        .map(|(path, text)| {
            let text = if *path == "claim-acknowledgement/template.toml" {
                text.replacen(
                    "version = \"1.0.0\"",
                    &format!("version = \"{version}\""),
                    1,
                )
            } else {
                text.to_string()
            };
            (path.to_string(), text)
        });
    Box::leak(Box::new(Registry::from_files(files).expect("templates")))
}

/// Finding 14b: a letter recorded with a template version the registry no longer has
/// (the templates were deployed again between the record and the redelivery) is not
/// finished with a different letter: it stays `rendering`, nothing is stored, and the
/// request fails with `template_version_changed`. With the recorded version back, the
/// next delivery finishes it with the recorded bytes.
#[tokio::test]
async fn a_letter_recorded_with_a_template_version_since_replaced_stays_rendering() {
    let rig = rig(true).await;
    let first = ack("ack-new-template", "2024-03-12");
    assert_eq!(
        Registry::embedded()
            .get("claim-acknowledgement")
            .expect("template")
            .spec
            .version,
        "1.0.0"
    );
    rig.blobs.lose_put.store(true, Ordering::SeqCst);
    rig.outbox.send(&first).await.expect_err("PDF lost");
    let newer = rig.with_registry(registry_with_claim_acknowledgement_at("1.1.0"));
    let err = newer
        .send(&ack("ack-new-template", "2024-03-13"))
        .await
        .expect_err("not finished with another version");
    assert_eq!(err.code(), "template_version_changed", "{err}");
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("1.0.0") && err.to_string().contains("1.1.0"));
    let record = rig.record("ack-new-template").await.expect("recorded");
    assert_eq!(record["status"], "rendering", "{record:?}");
    assert_eq!(record["template_version"], "1.0.0");
    assert!(rig.objects().await.is_empty(), "nothing stored");
    assert_eq!(rig.events("letter_generated").await, 0);

    let sent = rig.outbox.send(&first).await.expect("finished");
    assert_eq!(sent.status, LetterStatus::Stored);
    assert!(rig.recorded_pdf("ack-new-template").await == pdf_of(&first));
}

/// The record holds the request's data while the letter is rendered, so data over
/// `MAX_DATA_BYTES` (300 KB as JSON) is refused with `data_too_large` before anything is
/// written; data just under it is recorded (the record fits DynamoDB's 400 KB item,
/// which the embedded table enforces too) and the letter stored.
#[tokio::test]
async fn letter_data_too_large_for_its_record_is_refused_and_data_under_it_fits() {
    use postroom::letter_service::MAX_DATA_BYTES;
    let rig = rig(true).await;
    // An FOI response (to an FOI request) whose exemptions are many long reasons:
    // valid, and large.
    open_case(&rig.outbox.stores, "FOI_7001").await;
    let template = Registry::embedded().get("foi-response").expect("template");
    let sized = |request_id: &str, target: usize| {
        let mut data = template.example.clone();
        data["outcome"] = json!("refused");
        let reason = "The information is held but disclosing it would prejudice the \
                      conduct of the claim. "
            .repeat(50);
        let one = json!({ "section": "42(1)", "title": "Legal professional privilege", "reason": reason.trim() });
        let each = one.to_string().len() + 1;
        let base = serde_json::to_string(&data).expect("json").len();
        data["exemptions"] = json!(vec![one; (target - base) / each]);
        LetterRequest {
            request_id: request_id.into(),
            template: "foi-response".into(),
            case_ref: "FOI_7001".into(),
            data,
        }
    };
    let over = sized("foi-over", MAX_DATA_BYTES + 10_000);
    let bytes = serde_json::to_string(&over.data).expect("json").len();
    assert!(bytes > MAX_DATA_BYTES, "{bytes}");
    let err = rig.outbox.send(&over).await.expect_err("too large");
    assert_eq!(err.code(), "data_too_large", "{err}");
    assert!(!err.is_retryable());
    assert!(rig.record_on("FOI_7001", "foi-over").await.is_none());
    assert!(rig.objects().await.is_empty());

    let under = sized("foi-under", MAX_DATA_BYTES - 2_000);
    let bytes = serde_json::to_string(&under.data).expect("json").len();
    assert!(
        bytes <= MAX_DATA_BYTES && bytes > MAX_DATA_BYTES - 10_000,
        "{bytes}"
    );
    let sent = rig.outbox.send(&under).await.expect("stored");
    assert_eq!(sent.status, LetterStatus::Stored, "{:?}", sent.errors);
    let record = rig
        .record_on("FOI_7001", "foi-under")
        .await
        .expect("recorded");
    assert_eq!(record["status"], "stored");
}

/// Finding 14c: an unrelated audit event already at the key a letter's event would take
/// (same case, same millisecond, same sequence) is not taken for "already sent": the
/// letter is recorded (its event under another sequence), valid or invalid.
#[tokio::test]
async fn an_audit_key_clash_is_retried_not_taken_for_a_letter_already_sent() {
    let rig = rig(true).await;
    let occupy = |request_id: &str| {
        let id = letter_id(request_id);
        let seq = u32::from_str_radix(&id[2..6], 16).expect("hex") % 10_000;
        let mut item = Item::new();
        item.insert("PK".into(), json!(keys::case(CASE)));
        item.insert("SK".into(), json!(keys::event(NOW, seq)));
        item.insert("what".into(), json!("document_filed"));
        item
    };
    rig.outbox
        .stores
        .table
        .put(occupy("ack-clash"), Condition::Absent)
        .await
        .expect("event");
    let sent = rig
        .outbox
        .send(&ack("ack-clash", "2024-03-12"))
        .await
        .expect("sent");
    assert_eq!(sent.status, LetterStatus::Stored);
    assert_eq!(sent.s3_key, Some(letter_key(CASE, &letter_id("ack-clash"))));
    assert!(rig.recorded_pdf("ack-clash").await == pdf_of(&ack("ack-clash", "2024-03-12")));
    assert_eq!(rig.events("letter_generated").await, 1);

    rig.outbox
        .stores
        .table
        .put(occupy("ack-clash-invalid"), Condition::Absent)
        .await
        .expect("event");
    let refused = rig
        .outbox
        .send(&ack("ack-clash-invalid", "not a date"))
        .await
        .expect("refused");
    assert_eq!(refused.status, LetterStatus::Invalid);
    let record = rig
        .record("ack-clash-invalid")
        .await
        .expect("the refusal is recorded");
    assert_eq!(record["status"], "invalid");
    assert_eq!(rig.events("letter_refused").await, 1);
}

/// Finding 14d: a request refused as invalid does not use up its id: delivered again
/// with the same data it is still refused (once, one audit event), and once the data is
/// fixed the same request id gives its letter, at its one key.
#[tokio::test]
async fn a_request_refused_as_invalid_is_rendered_once_its_data_is_fixed() {
    let rig = rig(true).await;
    let bad = ack("claim-acknowledgement:d-1", "not a date");
    for _ in 0..2 {
        let refused = rig.outbox.send(&bad).await.expect("refused");
        assert_eq!(refused.status, LetterStatus::Invalid);
        assert!(
            refused.errors.iter().any(|e| e.contains("letter_date")),
            "{:?}",
            refused.errors
        );
    }
    assert_eq!(rig.events("letter_refused").await, 1);
    assert!(rig.objects().await.is_empty());
    let fixed = ack("claim-acknowledgement:d-1", "2024-03-12");
    let sent = rig.outbox.send(&fixed).await.expect("sent");
    assert_eq!(sent.status, LetterStatus::Stored, "{:?}", sent.errors);
    assert_eq!(
        sent.s3_key,
        Some(letter_key(CASE, &letter_id("claim-acknowledgement:d-1")))
    );
    assert!(rig.recorded_pdf("claim-acknowledgement:d-1").await == pdf_of(&fixed));
    assert_eq!(rig.events("letter_generated").await, 1);
    let again = rig.outbox.send(&fixed).await.expect("again");
    assert_eq!(again.status, LetterStatus::Unchanged);
    // Bad data sent after the letter exists changes nothing.
    let late = rig.outbox.send(&bad).await.expect("late");
    assert_eq!(late.status, LetterStatus::Unchanged);
    assert!(rig.recorded_pdf("claim-acknowledgement:d-1").await == pdf_of(&fixed));
}
