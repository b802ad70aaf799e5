//! The FOI function's handler over the sample events, on the embedded store and on S3 and
//! DynamoDB (moto): open once per request id, moves once per request id, illegal moves
//! refused as permanent errors, and the daily sweep recording each reminder once; then
//! the disclosure log's public response.

use std::sync::Arc;

use postroom::calendar::Calendar;
use postroom::foi::service::Foi;
use postroom::handlers::handle_foi;
use postroom::ingest::Clock;
use postroom::letters::Registry;
use postroom::model::keys;
use postroom::store::{DirBlobs, DynamoTable, Query, S3Blobs, SqliteTable};
use postroom::stores::Stores;
use serde_json::{Value, json};

use crate::contract::harness::{aws_settings, unique};

#[derive(Debug)]
struct Fixed;

impl Clock for Fixed {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        "2024-04-25T09:00:00Z".parse().expect("time")
    }
}

fn sample(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("events")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect("sample event")).expect("json")
}

async fn exercise(stores: Stores) {
    let foi = Foi {
        stores,
        clock: Arc::new(Fixed),
        calendar: Calendar::embedded().clone(),
        actor: "test:foi".into(),
    };
    // Open, twice: one request. Received Thu 28 Mar 2024 → due Mon 29 Apr (Easter).
    let first = handle_foi(&foi, sample("foi-open.json"), 5)
        .await
        .expect("open");
    assert_eq!(first["reference"], "FOI_7001");
    assert_eq!(first["due"], "2024-04-29");
    assert_eq!(first["created"], true);
    let again = handle_foi(&foi, sample("foi-open.json"), 5)
        .await
        .expect("open again");
    assert_eq!(
        (again["reference"].clone(), again["created"].clone()),
        (json!("FOI_7001"), json!(false))
    );
    // The same request under another id: opened, and flagged as a duplicate.
    let mut other = sample("foi-open.json");
    other["request_id"] = json!("email-2024-03-29");
    let dup = handle_foi(&foi, other, 5).await.expect("open other");
    assert_eq!(dup["duplicate_of"], "FOI_7001");

    // Moves, each once however often delivered.
    let ack = handle_foi(&foi, sample("foi-move-acknowledge.json"), 5)
        .await
        .expect("ack");
    assert_eq!(
        (ack["status"].clone(), ack["applied"].clone()),
        (json!("acknowledged"), json!(true))
    );
    let ack = handle_foi(&foi, sample("foi-move-acknowledge.json"), 5)
        .await
        .expect("ack again");
    assert_eq!(ack["applied"], false);
    // An illegal move is a permanent error that says why.
    let mut close = sample("foi-move-acknowledge.json");
    close["request_id"] = json!("close-too-early");
    close["command"] = json!({"command": "close", "on": "2024-04-03"});
    let err = handle_foi(&foi, close, 5).await.unwrap_err();
    assert_eq!(err.kind(), "Permanent");
    assert!(err.to_string().contains("cannot be sent `close`"), "{err}");

    // The daily sweep on Thu 25 Apr: FOI_7001 and its duplicate are due within 5 working
    // days; run twice, each reminder is recorded once.
    let sweep = handle_foi(&foi, sample("foi-daily-sweep.json"), 5)
        .await
        .expect("sweep");
    let reminders = sweep["reminders"].as_array().expect("reminders");
    assert_eq!(reminders.len(), 2, "{sweep}");
    assert!(
        reminders
            .iter()
            .all(|r| r["new"] == true && r["kind"] == "due_soon")
    );
    let sweep = handle_foi(&foi, sample("foi-daily-sweep.json"), 5)
        .await
        .expect("sweep again");
    assert!(
        sweep["reminders"]
            .as_array()
            .expect("reminders")
            .iter()
            .all(|r| r["new"] == false)
    );

    // Respond, then the public version of the response.
    let responded = handle_foi(&foi, sample("foi-move-respond.json"), 5)
        .await
        .expect("respond");
    assert_eq!(responded["status"], "responded");
    let list = handle_foi(&foi, sample("foi-due-list.json"), 5)
        .await
        .expect("due list");
    assert_eq!(
        list["requests"].as_array().expect("list").len(),
        1,
        "{list}"
    );
    let case = foi.get("FOI_7001").await.expect("get").expect("case");
    let data = json!({
        "salutation": "Mr Pritchard",
        "our_ref": "FOI_7001",
        "letter_date": "2024-04-24",
        "signatory_name": "Amara Okafor",
        "signatory_role": "Freedom of Information Officer",
        "received_date": "2024-03-28",
        "request_text": format!("{}\nMr Dafydd Pritchard, dafydd@example.org", case.request_text),
        "outcome": "partly-granted",
        "information": "The figures are set out below.",
        "exemptions": case.request.exemptions,
    });
    foi.record_response("FOI_7001", &data)
        .await
        .expect("record");
    let entry = foi
        .publish("FOI_7001", Registry::embedded())
        .await
        .expect("publish");
    assert_eq!(entry.outcome, "partly-granted");
    assert!(
        entry.themes.contains(&"maternity".to_string()),
        "{:?}",
        entry.themes
    );
    let pdf = foi
        .stores
        .blobs
        .get(&entry.document)
        .await
        .expect("public pdf");
    let text = String::from_utf8_lossy(&pdf.body);
    assert!(text.starts_with("%PDF"));
    let log = foi.disclosure_log().await.expect("log");
    assert_eq!(log, vec![entry]);
    // Every move is an audit event.
    let events = foi
        .stores
        .table
        .query_all(&Query {
            sk_prefix: "EVENT#".into(),
            ..Query::new(keys::case("FOI_7001"))
        })
        .await
        .expect("events");
    let what: Vec<&str> = events
        .iter()
        .filter_map(|e| e.get("what").and_then(Value::as_str))
        .collect();
    assert_eq!(what, ["foi_opened", "acknowledge", "respond"]);
}

#[tokio::test]
async fn foi_handler_on_the_embedded_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    exercise(Stores {
        blobs: Arc::new(DirBlobs::open(dir.path().join("blobs")).expect("blobs")),
        table: Arc::new(SqliteTable::open(dir.path().join("postroom.sqlite")).expect("table")),
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foi_handler_on_s3_and_dynamodb() {
    let Some(settings) = aws_settings("lambda_foi::foi_handler_on_s3_and_dynamodb").await else {
        return;
    };
    let blobs = S3Blobs::new(&settings, unique("foi"));
    let table = DynamoTable::new(&settings, unique("foi"));
    blobs.create_bucket().await.expect("bucket");
    table.create_table().await.expect("table");
    exercise(Stores {
        blobs: Arc::new(blobs),
        table: Arc::new(table.clone()),
    })
    .await;
    table.delete_table().await.ok();
}
