//! The AWS search adapter's fixture: `LambdaSearch` as the other functions use it, over
//! a fresh FIFO queue and bucket on the stand-in (moto), with the search function's own
//! use case (`SearchIndex`, on a fresh index folder) behind the two things Lambda does
//! for it: an event-source pump that long-polls the queue and hands it each batch
//! (deleting what it applied), and a loopback server of Lambda's Invoke API
//! (`POST /2015-03-31/functions/{name}/invocations`) that the SDK's Lambda client calls.
//! moto's own Lambda needs Docker, which this machine lacks; the deployed shape (the
//! real binary under cargo-lambda's emulator) is tested by `local_stack_search`.

use std::sync::Arc;

use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::post;
use postroom::search_index::SearchIndex;
use postroom::store::{Blobs, LambdaSearch, S3Blobs};
use serde_json::Value;

use super::harness::{aws_settings, unique};
use super::search::SearchFixture;

/// The search function's side of one fixture.
struct Function {
    index: SearchIndex,
    blobs: Arc<dyn Blobs>,
}

/// A fresh `LambdaSearch` and the search function behind it, or `None` without a
/// stand-in (said on the terminal by `aws_settings`).
pub async fn lambda_search(test: String) -> Option<SearchFixture> {
    let settings = aws_settings(&test).await?;
    let name = unique(&test);
    let bucket = S3Blobs::new(&settings, &name);
    bucket
        .create_bucket()
        .await
        .unwrap_or_else(|e| panic!("{test}: could not create the test bucket: {e}"));
    let sqs = aws_sdk_sqs::Client::new(&crate::lambda_ingest::sdk_config().await);
    let queue_url = sqs
        .create_queue()
        .queue_name(format!("{name}.fifo"))
        .attributes(QueueAttributeName::FifoQueue, "true")
        .attributes(QueueAttributeName::VisibilityTimeout, "30")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{test}: could not create the test queue: {e:?}"))
        .queue_url
        .expect("a queue URL");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let blobs: Arc<dyn Blobs> = Arc::new(bucket.clone());
    let function = Arc::new(Function {
        index: SearchIndex::new(dir.path().join("search.tantivy")),
        blobs: blobs.clone(),
    });
    let invoke = invoke_stand_in(function.clone()).await;
    let pump = tokio::spawn(pump(sqs.clone(), queue_url.clone(), function));
    let search = LambdaSearch::new(&settings, &queue_url, "postroom-search", blobs)
        .with_lambda_endpoint(&settings, &invoke.url);
    Some(SearchFixture::with_parts(
        Arc::new(search),
        dir,
        Box::new(move || {
            pump.abort();
            invoke.server.abort();
        }),
    ))
}

/// Lambda's SQS event source for one function: up to ten messages, the batch handed
/// over as an SQS event, the messages not in `batchItemFailures` deleted.
async fn pump(sqs: aws_sdk_sqs::Client, queue_url: String, function: Arc<Function>) {
    loop {
        let Ok(got) = sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .message_system_attribute_names(MessageSystemAttributeName::MessageGroupId)
            .wait_time_seconds(1)
            .send()
            .await
        else {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            continue;
        };
        let messages = got.messages.unwrap_or_default();
        if messages.is_empty() {
            continue;
        }
        let records: Vec<Value> = messages
            .iter()
            .map(|m| {
                let group = m
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::MessageGroupId));
                serde_json::json!({
                    "messageId": m.message_id(),
                    "receiptHandle": m.receipt_handle(),
                    "body": m.body(),
                    "attributes": { "MessageGroupId": group },
                    "eventSource": "aws:sqs",
                })
            })
            .collect();
        let reply = function
            .index
            .handle(
                function.blobs.as_ref(),
                serde_json::json!({ "Records": records }),
            )
            .await;
        let failed: Vec<String> = match &reply {
            Ok(v) => v["batchItemFailures"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f["itemIdentifier"].as_str().map(str::to_owned))
                .collect(),
            Err(_) => messages
                .iter()
                .filter_map(|m| m.message_id().map(str::to_owned))
                .collect(),
        };
        for m in &messages {
            if m.message_id()
                .is_some_and(|id| failed.iter().any(|f| f == id))
            {
                continue;
            }
            if let Some(handle) = m.receipt_handle() {
                let _ = sqs
                    .delete_message()
                    .queue_url(&queue_url)
                    .receipt_handle(handle)
                    .send()
                    .await;
            }
        }
    }
}

/// The Invoke API stand-in, on a free loopback port.
struct Invoke {
    url: String,
    server: tokio::task::JoinHandle<()>,
}

async fn invoke_stand_in(function: Arc<Function>) -> Invoke {
    let app = axum::Router::new()
        .route("/2015-03-31/functions/{name}/invocations", post(invoked))
        .with_state(function);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let url = format!("http://{}", listener.local_addr().expect("its address"));
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Invoke { url, server }
}

/// One invocation, answered as Lambda answers: the function's result, or its error
/// with the `X-Amz-Function-Error` header.
async fn invoked(
    State(function): State<Arc<Function>>,
    body: axum::body::Bytes,
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let payload: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    match function
        .index
        .handle(function.blobs.as_ref(), payload)
        .await
    {
        Ok(reply) => (
            StatusCode::OK,
            headers,
            serde_json::to_vec(&reply).unwrap_or_default(),
        ),
        Err(e) => {
            headers.insert(
                "x-amz-function-error",
                HeaderValue::from_static("Unhandled"),
            );
            let body = serde_json::json!({"errorType": e.kind(), "errorMessage": e.to_string()});
            (
                StatusCode::OK,
                headers,
                serde_json::to_vec(&body).unwrap_or_default(),
            )
        }
    }
}

/// A poison message fails alone with the later changes of its own document: the other
/// documents' changes in its batch are applied (else each redelivery would count against
/// them too, and the batch would follow it to the dead-letter queue), and an
/// undecodable message of no known group holds back everything after it.
#[tokio::test]
async fn a_poison_change_fails_its_own_document_only() {
    use postroom::store::lambda_search::{ChangeMessage, SearchChange, apply_changes};
    use postroom::store::{DirBlobs, Filters, SearchDoc, TantivySearch};
    let dir = tempfile::tempdir().expect("a temporary folder");
    let blobs = DirBlobs::open(dir.path().join("blobs")).expect("blobs");
    let index = TantivySearch::in_memory().expect("index");
    let change = |id: &str, text: &str| {
        serde_json::to_string(&SearchChange::Index {
            doc: SearchDoc::new(id, format!("{id}.txt"), text),
        })
        .expect("json")
    };
    let message = |n: u32, group: Option<&str>, body: String| ChangeMessage {
        id: format!("m{n}"),
        group: group.map(str::to_owned),
        body,
    };
    let batch = [
        message(1, Some("a"), change("a", "alpha first")),
        message(2, Some("b"), "not a change".into()),
        message(3, Some("c"), change("c", "gamma")),
        message(4, Some("b"), change("b", "beta")),
        message(5, Some("a"), change("a", "alpha second")),
    ];
    let (failed, errors) = apply_changes(&index, &blobs, &batch).await;
    assert_eq!(
        failed,
        ["m2", "m4"],
        "the poison and its group's later change"
    );
    assert_eq!(errors.len(), 1);
    assert_eq!(
        crate::search::hits(&index, "gamma", Filters::default()).await,
        ["c"]
    );
    assert_eq!(
        crate::search::hits(&index, "second", Filters::default()).await,
        ["a"],
        "a's changes applied in order"
    );
    assert!(
        crate::search::hits(&index, "beta", Filters::default())
            .await
            .is_empty()
    );
    // Of no known group: everything after it waits.
    let batch = [
        message(6, None, "not a change".into()),
        message(7, Some("d"), change("d", "delta")),
    ];
    let (failed, _) = apply_changes(&index, &blobs, &batch).await;
    assert_eq!(failed, ["m6", "m7"]);
}
