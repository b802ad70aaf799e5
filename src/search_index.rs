//! The search function's use case on AWS: it owns the tantivy index on its EFS mount.
//! An SQS batch from the search queue is applied by the one writer (the function's
//! reserved concurrency is 1), answering `batchItemFailures` for what was not applied;
//! a direct invocation (a `SearchCall` from `LambdaSearch`) is answered from a reader
//! that catches up with the writer's last commit first. Before the writer's first
//! commit there is no index: a query finds nothing, a listing is empty.

use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

use crate::failure::{Code, ErrorCode as _};
use crate::handlers::HandlerError;
use crate::store::lambda_search::{ChangeMessage, SearchCall, SearchReply, answer, apply_changes};
use crate::store::{Blobs, SearchPage, StoreError, TantivySearch};

/// The index folder of the search function, opened on first use.
#[derive(Debug)]
pub struct SearchIndex {
    dir: PathBuf,
    writer: OnceLock<TantivySearch>,
    reader: Mutex<Option<TantivySearch>>,
}

impl SearchIndex {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        SearchIndex {
            dir: dir.into(),
            writer: OnceLock::new(),
            reader: Mutex::new(None),
        }
    }

    /// The writer, opened (the index created) on the first batch of changes.
    fn writer(&self) -> Result<&TantivySearch, StoreError> {
        if let Some(w) = self.writer.get() {
            return Ok(w);
        }
        let opened = TantivySearch::open(&self.dir)?;
        Ok(self.writer.get_or_init(|| opened))
    }

    /// What queries read: this process's writer if it has one, else a reader of the
    /// folder; `None` while no index has been written.
    fn reader(&self) -> Result<Option<TantivySearch>, StoreError> {
        if let Some(w) = self.writer.get() {
            return Ok(Some(w.clone()));
        }
        let mut reader = self.reader.lock().map_err(|_| StoreError::Invalid {
            what: "the search reader's lock is poisoned".into(),
        })?;
        if reader.is_none() {
            match TantivySearch::open_reader(&self.dir) {
                Ok(r) => *reader = Some(r),
                Err(StoreError::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
        Ok(reader.clone())
    }

    /// Handles one invocation: an SQS batch of changes, or a `SearchCall`.
    pub async fn handle(&self, blobs: &dyn Blobs, event: Value) -> Result<Value, HandlerError> {
        if let Some(records) = event.get("Records").and_then(Value::as_array) {
            let messages: Vec<ChangeMessage> = records
                .iter()
                .map(|r| ChangeMessage {
                    id: r
                        .get("messageId")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    group: r
                        .pointer("/attributes/MessageGroupId")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    body: r
                        .get("body")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                })
                .collect();
            let failed = match self.writer() {
                Ok(writer) => {
                    let (failed, errors) = apply_changes(writer, blobs, &messages).await;
                    for e in &errors {
                        tracing::warn!(code = %e.code(), "a search change was not applied; it is retried");
                    }
                    failed
                }
                Err(e) => {
                    tracing::error!(code = %e.code(), "the search index cannot be opened to write");
                    messages.iter().map(|m| m.id.clone()).collect()
                }
            };
            let failures: Vec<Value> = failed
                .into_iter()
                .map(|id| serde_json::json!({ "itemIdentifier": id }))
                .collect();
            return Ok(serde_json::json!({ "batchItemFailures": failures }));
        }
        let call: SearchCall = serde_json::from_value(event).map_err(|_| {
            HandlerError::new(
                Code::InvalidRequest,
                "an invocation that is neither a batch of search changes nor a search call",
            )
        })?;
        let reply = match self.reader() {
            Ok(Some(index)) => answer(&index, call).await,
            Ok(None) => match call {
                SearchCall::Query { .. } => SearchReply::Page(SearchPage::default()),
                SearchCall::DocIds { .. } => SearchReply::DocIds(Vec::new()),
            },
            Err(e) => SearchReply::Error {
                reason: "store".into(),
                message: e.to_string(),
                retryable: e.is_retryable(),
            },
        };
        serde_json::to_value(&reply)
            .map_err(|_| HandlerError::new(Code::Internal, "a search reply that cannot be written"))
    }
}
