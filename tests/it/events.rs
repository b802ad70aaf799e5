//! The sample events in `events/`: each decodes to the uploads it describes.

use postroom::events::{Payload, Upload, classify, decode_notification, decode_sqs_body};
use postroom::ingest::ObjectRef;
use serde_json::Value;

fn sample(name: &str) -> Value {
    let path = format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("sample event")).expect("JSON")
}

fn object(key: &str, version: Option<&str>, etag: &str, received: Option<&str>) -> Upload {
    Upload::Object(ObjectRef {
        bucket: "postroom-docs".into(),
        key: key.into(),
        version: version.map(Into::into),
        etag: Some(etag.into()),
        // The event's time: when the object reached postroom (the FOI clock's receipt).
        received: received.map(|t| {
            chrono::DateTime::parse_from_rfc3339(t)
                .expect("a time")
                .with_timezone(&chrono::Utc)
        }),
    })
}

#[test]
fn a_direct_s3_notification() {
    let v = sample("s3-object-created.json");
    assert!(matches!(classify(v.clone()), Payload::Direct(_)));
    assert_eq!(
        decode_notification(&v).unwrap(),
        [object(
            "inbox/Zoë Pemberton, letter of claim #1.pdf",
            Some("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrH"),
            "0123456789abcdef0123456789abcdef",
            Some("2025-03-04T09:30:00Z")
        )]
    );
}

#[test]
fn an_sqs_batch_of_s3_notifications_and_a_test_event() {
    let Payload::Sqs(messages) = classify(sample("sqs-s3-batch.json")) else {
        panic!("an SQS batch")
    };
    assert_eq!(messages.len(), 2);
    assert_eq!(
        decode_sqs_body(&messages[0].1).unwrap(),
        [object(
            "inbox/expert report/Łukasz.pdf",
            None,
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            None
        )]
    );
    assert_eq!(
        decode_sqs_body(&messages[1].1).unwrap(),
        [Upload::TestEvent]
    );
}

#[test]
fn an_eventbridge_object_created_event() {
    assert_eq!(
        decode_notification(&sample("eventbridge-object-created.json")).unwrap(),
        [object(
            "inbox/FOI request – claims.eml",
            Some("v2"),
            "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
            Some("2025-03-04T09:30:00Z")
        )]
    );
}

#[test]
fn the_s3_test_event_is_acknowledged() {
    assert_eq!(
        decode_notification(&sample("s3-test-event.json")).unwrap(),
        [Upload::TestEvent]
    );
}
