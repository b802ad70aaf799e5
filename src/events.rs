//! Event decoding: every way an upload reaches the ingest function — an S3 notification
//! delivered directly, S3 notifications wrapped in SQS messages (the production path),
//! EventBridge "Object Created" events (directly or through SQS), and S3's `s3:TestEvent`
//! (acknowledged and ignored). Decoding is lenient: fields that stand-ins omit
//! (`userIdentity`, `sequencer`, ...) are not required. Object keys arrive URL-encoded
//! (`+` for a space, `%2F`, `%C3%A9`) and are decoded.

use serde_json::Value;

use crate::ingest::ObjectRef;

/// What one notification asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upload {
    /// An object was created: ingest it.
    Object(ObjectRef),
    /// S3's test event when a notification is configured: nothing to do.
    TestEvent,
}

/// Why an event could not be decoded (permanent: the same bytes will not decode later).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("undecodable event: {0}")]
pub struct EventError(pub String);

impl crate::failure::ErrorCode for EventError {
    fn code(&self) -> crate::failure::Code {
        crate::failure::Code::BadEvent
    }
}

/// Decodes an S3 object key from a notification: `+` is a space, then percent-decoding.
pub fn decode_key(raw: &str) -> Result<String, EventError> {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|k| k.into_owned())
        .map_err(|_| {
            EventError(format!(
                "the object key is not UTF-8 after decoding: {raw:?}"
            ))
        })
}

fn text(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    cur.as_str().map(str::to_owned).filter(|s| !s.is_empty())
}

/// A timestamp (RFC 3339) at a path, if it is one.
fn time(v: &Value, path: &[&str]) -> Option<chrono::DateTime<chrono::Utc>> {
    let raw = text(v, path)?;
    chrono::DateTime::parse_from_rfc3339(&raw)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// Decodes a notification body: an S3 notification (`Records`), an EventBridge event,
/// or a test event. Records of other kinds (removals) are skipped.
pub fn decode_notification(v: &Value) -> Result<Vec<Upload>, EventError> {
    if v.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return Ok(vec![Upload::TestEvent]);
    }
    if let Some(kind) = v.get("detail-type").and_then(Value::as_str) {
        if kind != "Object Created" {
            return Ok(Vec::new());
        }
        let detail = v
            .get("detail")
            .ok_or_else(|| EventError("EventBridge event without detail".into()))?;
        let bucket = text(detail, &["bucket", "name"])
            .ok_or_else(|| EventError("EventBridge event without a bucket".into()))?;
        let key = text(detail, &["object", "key"])
            .ok_or_else(|| EventError("EventBridge event without a key".into()))?;
        return Ok(vec![Upload::Object(ObjectRef {
            bucket,
            key: decode_key(&key)?,
            version: text(detail, &["object", "version-id"]),
            etag: text(detail, &["object", "etag"]).map(|e| e.trim_matches('"').to_owned()),
            received: time(v, &["time"]),
        })]);
    }
    let records = v.get("Records").and_then(Value::as_array).ok_or_else(|| {
        EventError("neither S3 Records, an EventBridge event nor a test event".into())
    })?;
    let mut uploads = Vec::new();
    for record in records {
        let name = record
            .get("eventName")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !name.starts_with("ObjectCreated") {
            continue;
        }
        let bucket = text(record, &["s3", "bucket", "name"])
            .ok_or_else(|| EventError("an S3 record without a bucket".into()))?;
        let key = text(record, &["s3", "object", "key"])
            .ok_or_else(|| EventError("an S3 record without a key".into()))?;
        uploads.push(Upload::Object(ObjectRef {
            bucket,
            key: decode_key(&key)?,
            version: text(record, &["s3", "object", "versionId"]),
            etag: text(record, &["s3", "object", "eTag"]).map(|e| e.trim_matches('"').to_owned()),
            received: time(record, &["eventTime"]),
        }));
    }
    Ok(uploads)
}

/// Decodes one SQS message body (a JSON notification).
pub fn decode_sqs_body(body: &str) -> Result<Vec<Upload>, EventError> {
    let v: Value = serde_json::from_str(body)
        .map_err(|e| EventError(format!("the message is not JSON: {e}")))?;
    decode_notification(&v)
}

/// The shape of a Lambda payload.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// An SQS batch: (message id, body) per message.
    Sqs(Vec<(String, String)>),
    /// Anything else: an S3 notification, an EventBridge event, a test event.
    Direct(Value),
}

/// Tells an SQS batch from a direct event.
pub fn classify(v: Value) -> Payload {
    let is_sqs = v
        .get("Records")
        .and_then(Value::as_array)
        .and_then(|r| r.first())
        .and_then(|r| r.get("eventSource"))
        .and_then(Value::as_str)
        == Some("aws:sqs");
    if !is_sqs {
        return Payload::Direct(v);
    }
    let messages = v
        .get("Records")
        .and_then(Value::as_array)
        .map(|records| {
            records
                .iter()
                .map(|r| {
                    (
                        r.get("messageId")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned(),
                        r.get("body")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Payload::Sqs(messages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_url_decoded() {
        assert_eq!(
            decode_key("inbox/Zo%C3%AB+Pemberton%2Fletter+%2B+notes.pdf").unwrap(),
            "inbox/Zoë Pemberton/letter + notes.pdf"
        );
        assert!(decode_key("inbox/%FF%FE").is_err());
    }

    #[test]
    fn lenient_s3_records_and_test_events() {
        let moto_style = serde_json::json!({"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "docs"}, "object": {"key": "inbox/a+b.pdf", "eTag": "\"abc\""}}}]});
        assert_eq!(
            decode_notification(&moto_style).unwrap(),
            vec![Upload::Object(ObjectRef {
                bucket: "docs".into(),
                key: "inbox/a b.pdf".into(),
                version: None,
                etag: Some("abc".into()),
                received: None,
            })]
        );
        let removal = serde_json::json!({"Records": [{"eventName": "ObjectRemoved:Delete", "s3": {"bucket": {"name": "docs"}, "object": {"key": "x"}}}]});
        assert!(decode_notification(&removal).unwrap().is_empty());
        let test =
            serde_json::json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "docs"});
        assert_eq!(decode_notification(&test).unwrap(), vec![Upload::TestEvent]);
        assert!(decode_sqs_body("not json").is_err());
        assert!(decode_sqs_body("{\"hello\": 1}").is_err());
    }
}
