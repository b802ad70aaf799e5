//! The FOI function's handler over the sample events, on the embedded store and on S3 and
//! DynamoDB (moto): open once per request id, moves once per request id, illegal moves
//! refused as permanent errors, and the daily sweep recording each reminder once; then
//! the disclosure log's public response.

use std::sync::Arc;

use postroom::calendar::Calendar;
use postroom::clock::Clock;
use postroom::foi::service::Foi;
use postroom::handlers::{FoiSettings, HandlerError, handle_foi};
use postroom::letters::Registry;
use postroom::model::keys;
use postroom::store::Stores;
use postroom::store::{DirBlobs, DynamoTable, Query, S3Blobs, SqliteTable};
use serde_json::{Value, json};

use crate::contract::harness::{aws_settings, unique};

#[derive(Debug)]
struct Fixed;

impl Clock for Fixed {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        "2024-04-25T09:00:00Z".parse().expect("time")
    }
}

/// A sample event; a command gets an `actor` (who is asking), which every command needs.
fn sample(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("events")
        .join(name);
    let mut event: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("sample event")).expect("json");
    if event.get("action").is_some() && event.get("actor").is_none() {
        event["actor"] = json!("officer:aoife");
    }
    event
}

/// The ARN of the schedule in events/foi-daily-sweep.json.
const SWEEP_RULE: &str =
    "arn:aws:scheduler:eu-west-2:123456789012:schedule/default/postroom-prod-foi-daily-sweep";

async fn call(foi: &Foi, payload: Value) -> Result<Value, HandlerError> {
    let settings = FoiSettings {
        remind_within: 5,
        sweep_rule_arn: Some(SWEEP_RULE.into()),
    };
    handle_foi(foi, payload, &settings, None).await
}

async fn exercise(stores: Stores) {
    let foi = Foi {
        stores,
        clock: Arc::new(Fixed),
        calendar: Calendar::embedded().clone(),
        actor: "test:foi".into(),
    };
    // Open, twice: one request. Received Thu 28 Mar 2024 → due Mon 29 Apr (Easter).
    let first = call(&foi, sample("foi-open.json")).await.expect("open");
    assert_eq!(first["reference"], "FOI_7001");
    assert_eq!(first["due"], "2024-04-29");
    assert_eq!(first["created"], true);
    let again = call(&foi, sample("foi-open.json"))
        .await
        .expect("open again");
    assert_eq!(
        (again["reference"].clone(), again["created"].clone()),
        (json!("FOI_7001"), json!(false))
    );
    // The same request under another id: opened, and flagged as a duplicate.
    let mut other = sample("foi-open.json");
    other["request_id"] = json!("email-2024-03-29");
    let dup = call(&foi, other).await.expect("open other");
    assert_eq!(dup["duplicate_of"], "FOI_7001");

    // Moves, each once however often delivered.
    let ack = call(&foi, sample("foi-move-acknowledge.json"))
        .await
        .expect("ack");
    assert_eq!(
        (ack["status"].clone(), ack["applied"].clone()),
        (json!("acknowledged"), json!(true))
    );
    let ack = call(&foi, sample("foi-move-acknowledge.json"))
        .await
        .expect("ack again");
    assert_eq!(ack["applied"], false);
    // An illegal move is a permanent error that says why.
    let mut close = sample("foi-move-acknowledge.json");
    close["request_id"] = json!("close-too-early");
    close["command"] = json!({"command": "close", "on": "2024-04-03"});
    let err = call(&foi, close).await.unwrap_err();
    assert_eq!(err.kind(), "Permanent");
    assert!(err.to_string().contains("cannot be sent `close`"), "{err}");

    // The daily sweep on Thu 25 Apr: FOI_7001 and its duplicate are due within 5 working
    // days; run twice, each reminder is recorded once.
    let sweep = call(&foi, sample("foi-daily-sweep.json"))
        .await
        .expect("sweep");
    let reminders = sweep["reminders"].as_array().expect("reminders");
    assert_eq!(reminders.len(), 2, "{sweep}");
    assert!(
        reminders
            .iter()
            .all(|r| r["new"] == true && r["kind"] == "due_soon")
    );
    let sweep = call(&foi, sample("foi-daily-sweep.json"))
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
    let responded = call(&foi, sample("foi-move-respond.json"))
        .await
        .expect("respond");
    assert_eq!(responded["status"], "responded");
    let list = call(&foi, sample("foi-due-list.json"))
        .await
        .expect("due list");
    assert_eq!(
        list["requests"].as_array().expect("list").len(),
        1,
        "{list}"
    );
    // The answer's fields since the function's first release, and the due list's own.
    let entry = &list["requests"][0];
    for field in [
        "reference",
        "status",
        "due",
        "overdue",
        "clock_error",
        "state",
    ] {
        assert!(entry.get(field).is_some(), "{field} missing from {entry}");
    }
    assert!(entry["overdue"].is_boolean(), "{entry}");
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

/// Who may do what through the FOI function (finding 12), on the embedded store.
mod callers {
    use super::*;

    fn service(dir: &std::path::Path) -> Foi {
        Foi {
            stores: Stores {
                blobs: Arc::new(DirBlobs::open(dir.join("blobs")).expect("blobs")),
                table: Arc::new(SqliteTable::open(dir.join("postroom.sqlite")).expect("table")),
            },
            clock: Arc::new(Fixed),
            calendar: Calendar::embedded().clone(),
            actor: "lambda:foi".into(),
        }
    }

    async fn audit_who(foi: &Foi, reference: &str) -> Vec<String> {
        foi.stores
            .table
            .query_all(&Query {
                sk_prefix: "EVENT#".into(),
                ..Query::new(keys::case(reference))
            })
            .await
            .expect("events")
            .iter()
            .filter_map(|e| e.get("who").and_then(Value::as_str).map(str::to_string))
            .collect()
    }

    #[tokio::test]
    async fn the_caller_is_in_the_audit_and_a_command_without_one_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let foi = service(dir.path());
        let mut open = sample("foi-open.json");
        open["actor"] = json!("arn:aws:iam::123456789012:role/foi-officers/aoife");
        call(&foi, open).await.expect("open");
        let who = audit_who(&foi, "FOI_7001").await;
        assert_eq!(
            who,
            ["lambda:foi via arn:aws:iam::123456789012:role/foi-officers/aoife"]
        );
        let mut anonymous = sample("foi-move-acknowledge.json");
        anonymous["request_id"] = json!("ack-anonymous");
        anonymous.as_object_mut().expect("object").remove("actor");
        let err = call(&foi, anonymous).await.unwrap_err();
        assert_eq!(err.kind(), "Permanent");
        assert!(err.to_string().contains("no_actor:"), "{err}");
        let case = foi.get("FOI_7001").await.expect("get").expect("case");
        assert_eq!(case.request.status.as_str(), "received", "nothing moved");
        // The invocation's own identity, when the runtime has one, is recorded too.
        let settings = FoiSettings {
            remind_within: 5,
            sweep_rule_arn: None,
        };
        handle_foi(
            &foi,
            sample("foi-move-acknowledge.json"),
            &settings,
            Some("cognito:eu-west-2:0b6c"),
        )
        .await
        .expect("acknowledge");
        let who = audit_who(&foi, "FOI_7001").await;
        assert_eq!(
            who.last().map(String::as_str),
            Some("lambda:foi via officer:aoife (identity cognito:eu-west-2:0b6c)")
        );
    }

    #[tokio::test]
    async fn every_move_needs_a_request_id() {
        let dir = tempfile::tempdir().expect("tempdir");
        let foi = service(dir.path());
        let mut open = sample("foi-open.json");
        open["actor"] = json!("officer:aoife");
        call(&foi, open).await.expect("open");
        let mut ack = sample("foi-move-acknowledge.json");
        ack["actor"] = json!("officer:aoife");
        ack.as_object_mut().expect("object").remove("request_id");
        let err = call(&foi, ack.clone()).await.unwrap_err();
        assert_eq!(err.kind(), "Permanent");
        assert!(err.to_string().contains("no_request_id:"), "{err}");
        let mut open = sample("foi-open.json");
        open.as_object_mut().expect("object").remove("request_id");
        let err = call(&foi, open).await.unwrap_err();
        assert!(err.to_string().contains("no_request_id:"), "{err}");
        // Nothing moved.
        let case = foi.get("FOI_7001").await.expect("get").expect("case");
        assert_eq!(case.request.status.as_str(), "received");
    }

    #[tokio::test]
    async fn a_scheduled_event_from_another_rule_or_another_day_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let foi = service(dir.path());
        let mut open = sample("foi-open.json");
        open["actor"] = json!("officer:aoife");
        call(&foi, open).await.expect("open");
        let mut forged = sample("foi-daily-sweep.json");
        forged["resources"] = json!(["arn:aws:events:eu-west-2:123456789012:rule/someone-else"]);
        let err = call(&foi, forged).await.unwrap_err();
        assert_eq!(err.kind(), "Permanent");
        assert!(err.to_string().contains("not_our_schedule:"), "{err}");
        let mut ahead = sample("foi-daily-sweep.json");
        ahead["time"] = json!("2024-05-20T06:00:00Z");
        let err = call(&foi, ahead).await.unwrap_err();
        assert_eq!(err.kind(), "Permanent");
        assert!(err.to_string().contains("stale_schedule:"), "{err}");
        // With no schedule configured, no scheduled event is accepted.
        let unset = FoiSettings {
            remind_within: 5,
            sweep_rule_arn: None,
        };
        let err = handle_foi(&foi, sample("foi-daily-sweep.json"), &unset, None)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("not_our_schedule:"), "{err}");
        // No reminder was written.
        let items = foi
            .stores
            .table
            .query_all(&Query {
                sk_prefix: "REMINDER#".into(),
                ..Query::new(keys::case("FOI_7001"))
            })
            .await
            .expect("reminders");
        assert!(items.is_empty(), "{items:?}");
    }

    #[tokio::test]
    async fn errors_carry_no_user_data() {
        let dir = tempfile::tempdir().expect("tempdir");
        let foi = service(dir.path());
        let secret = "Jo Bloggs of 14 Larkspur Close";
        let mut open = sample("foi-open.json");
        open["actor"] = json!("officer:aoife");
        open["received"] = json!(secret);
        let err = call(&foi, open).await.unwrap_err();
        assert!(!format!("{err:?}").contains("Bloggs"), "{err:?}");
        let mut open = sample("foi-open.json");
        open["actor"] = json!("officer:aoife");
        call(&foi, open).await.expect("open");
        let mut mv = sample("foi-move-acknowledge.json");
        mv["actor"] = json!("officer:aoife");
        mv["command"] = json!({"command": secret, "on": "2024-04-02"});
        let err = call(&foi, mv).await.unwrap_err();
        assert!(!format!("{err:?}").contains("Bloggs"), "{err:?}");
        // An exemption without its reason is refused without quoting it.
        let mut respond = sample("foi-move-respond.json");
        respond["request_id"] = json!("respond-bad");
        respond["command"]["exemptions"] =
            json!([{"section": "40(2)", "title": secret, "reason": ""}]);
        let err = call(&foi, respond).await.unwrap_err();
        assert!(err.to_string().contains("invalid_request:"), "{err}");
        assert!(!format!("{err:?}").contains("Bloggs"), "{err:?}");
        let mut show = json!({"action": "show", "actor": "officer:aoife"});
        show["reference"] = json!(secret);
        let err = call(&foi, show).await.unwrap_err();
        assert!(!format!("{err:?}").contains("Bloggs"), "{err:?}");
    }
}
