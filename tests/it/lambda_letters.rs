//! The letters function's handler over the sample events, on the embedded store and on
//! S3 and DynamoDB (moto): stored PDFs, one letter per request id however often it is
//! delivered, invalid data recorded (not retried), an undecodable message reported.

use std::sync::Arc;

use postroom::handlers::handle_letters;
use postroom::ingest::SystemClock;
use postroom::letters::Registry;
use postroom::model::keys;
use postroom::outbox::{Outbox, letter_id, letter_key};
use postroom::store::{DirBlobs, DynamoTable, Key, Query, S3Blobs, SqliteTable};
use postroom::stores::Stores;
use serde_json::{Value, json};

use crate::contract::harness::{aws_settings, unique};

fn sample(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("events")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect("sample event")).expect("json")
}

fn outbox(stores: Stores) -> Outbox {
    Outbox {
        stores,
        registry: Registry::embedded(),
        clock: Arc::new(SystemClock),
        actor: "test:letters".into(),
    }
}

async fn exercise(outbox: &Outbox) {
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
    let key = letter_key("CNST/24/004512", &ack);
    let pdf = outbox
        .stores
        .blobs
        .get(&key)
        .await
        .expect("the letter is stored");
    assert!(pdf.body.starts_with(b"%PDF-1.7"));
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
    assert_eq!(record["s3_key"], json!(key));
    assert_eq!(record["template"], "claim-acknowledgement");

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
    assert!(
        outbox
            .stores
            .blobs
            .get(&letter_key("CNST/24/004513", &bad))
            .await
            .is_err()
    );

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
    use postroom::outbox::{LetterRequest, LetterSink};
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
    let out = handle_letters(&outbox(stores.clone()), event, 2)
        .await
        .expect("batch");
    assert_eq!(out, json!({"batchItemFailures": []}));
    let key = letter_key(&request.case_ref, &letter_id(&request.request_id));
    assert!(stores.blobs.head(&key).await.is_ok(), "{key} stored");
}
