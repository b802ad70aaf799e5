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
