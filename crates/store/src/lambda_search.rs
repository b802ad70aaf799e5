//! `LambdaSearch`: the `Search` port on AWS. The index is a tantivy index (`TantivySearch`)
//! on an EFS file system that only the search function mounts: changes reach its one
//! writer through an SQS FIFO queue (one message group per document, so a document's
//! changes apply in the order they were made, whatever else is redelivered), and
//! queries are Lambda invocations of the same function's reader. This module holds both
//! ends of that wire: the adapter the other functions use, and `apply_changes` /
//! `answer` that the search function runs on its own index.
//!
//! Writes are queued: `index` answers `Indexed::Queued`, `refile` and `remove` answer
//! true, and `refresh` waits until the queue is empty (every change before it applied).
//! `apply_changes` commits a batch's changes (`Search::flush`) before it reports them.
//! A change too large for a message (a long text) is written to the bucket under
//! `search-changes/` and the message names it (the template expires those objects).

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_sqs::types::{QueueAttributeName, SendMessageBatchRequestEntry};
use bytes::Bytes;
use md5::{Digest as _, Md5};
use serde::{Deserialize, Serialize};

use super::aws::{AwsSettings, backend_error};
use super::blobs::{Blobs, PutOptions};
use super::error::{StoreError, StoreResult};
use super::search::{
    Filing, Filters, Indexed, Search, SearchCursor, SearchDoc, SearchError, SearchPage,
    SearchQuery, SearchRequest, checked_batch, validate_doc_id,
};
use super::sqs_queue::MAX_MESSAGE_BYTES;

const BACKEND: &str = "search function";
/// Where changes too large for a message wait for the writer.
pub const CHANGES_PREFIX: &str = "search-changes/";
/// A change at most this long travels in its message (SQS takes 256 KiB a message and
/// 256 KiB a batch of ten).
const INLINE_BYTES: usize = 24 * 1024;
/// How long `refresh` waits for the queue to empty.
const REFRESH_WAIT: Duration = Duration::from_secs(120);

/// A change to the index, as the search queue carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum SearchChange {
    /// Index this document (its text in the message).
    Index {
        doc: SearchDoc,
    },
    /// Index the document stored under `key` (`search-changes/...`, JSON of a `SearchDoc`).
    IndexStored {
        key: String,
    },
    Refile {
        doc_id: String,
        filing: Filing,
    },
    Remove {
        doc_id: String,
    },
}

impl SearchChange {
    fn doc_id(&self) -> &str {
        match self {
            SearchChange::Index { doc } => &doc.doc_id,
            SearchChange::IndexStored { key } => key,
            SearchChange::Refile { doc_id, .. } | SearchChange::Remove { doc_id } => doc_id,
        }
    }
}

/// A question to the search function's reader.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchCall {
    /// A page of hits (the query as the caller parsed it).
    Query {
        query: SearchQuery,
        #[serde(default)]
        filters: Filters,
        #[serde(default)]
        limit: u32,
        #[serde(default)]
        cursor: Option<SearchCursor>,
    },
    /// Indexed document ids after `after`, in id order.
    DocIds { after: Option<String>, limit: u32 },
}

/// The search function's answer to a `SearchCall`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchReply {
    Page(SearchPage),
    DocIds(Vec<String>),
    /// `reason` is `SearchError::reason`; `message` its text (never the query's).
    Error {
        reason: String,
        message: String,
        retryable: bool,
    },
}

/// The search index of the AWS deployment, as every function but the search function
/// sees it.
#[derive(Clone)]
pub struct LambdaSearch {
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    lambda: aws_sdk_lambda::Client,
    function: String,
    blobs: Arc<dyn Blobs>,
}

impl std::fmt::Debug for LambdaSearch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LambdaSearch")
            .field("queue_url", &self.queue_url)
            .field("function", &self.function)
            .finish_non_exhaustive()
    }
}

impl LambdaSearch {
    /// Changes go to the FIFO queue `queue_url` (long ones through `blobs`), queries to
    /// the function `function`.
    pub fn new(
        settings: &AwsSettings,
        queue_url: impl Into<String>,
        function: impl Into<String>,
        blobs: Arc<dyn Blobs>,
    ) -> Self {
        let mut sqs = aws_sdk_sqs::config::Builder::from(settings.sdk());
        let mut lambda = aws_sdk_lambda::config::Builder::from(settings.sdk());
        if let Some(endpoint) = settings.explicit_endpoint() {
            sqs.set_endpoint_url(Some(endpoint.to_owned()));
            lambda.set_endpoint_url(Some(endpoint.to_owned()));
        }
        // The SDK's own variable for Lambda's endpoint alone (a stand-in of the Invoke
        // API beside another of SQS and S3: the local stack's emulator), stated here so
        // that it wins over `AWS_ENDPOINT_URL` whatever the SDK's order.
        if let Some(endpoint) = std::env::var("AWS_ENDPOINT_URL_LAMBDA")
            .ok()
            .filter(|e| !e.trim().is_empty())
        {
            lambda.set_endpoint_url(Some(endpoint));
        }
        LambdaSearch {
            sqs: aws_sdk_sqs::Client::from_conf(sqs.build()),
            queue_url: queue_url.into(),
            lambda: aws_sdk_lambda::Client::from_conf(lambda.build()),
            function: function.into(),
            blobs,
        }
    }

    /// The same adapter invoking the function at `endpoint` (a stand-in of the Invoke
    /// API: cargo-lambda's emulator or a test's).
    pub fn with_lambda_endpoint(mut self, settings: &AwsSettings, endpoint: &str) -> Self {
        let mut lambda = aws_sdk_lambda::config::Builder::from(settings.sdk());
        lambda.set_endpoint_url(Some(endpoint.to_owned()));
        self.lambda = aws_sdk_lambda::Client::from_conf(lambda.build());
        self
    }

    /// The message body of `change`: inline when short, else the document written to
    /// the bucket first and named.
    async fn body_of(&self, change: SearchChange) -> StoreResult<String> {
        let body = serde_json::to_string(&change)
            .map_err(|e| StoreError::invalid(format!("a search change: {e}")))?;
        if body.len() <= INLINE_BYTES {
            return Ok(body);
        }
        let SearchChange::Index { doc } = change else {
            return Err(StoreError::too_large("a search change without a document"));
        };
        let json = serde_json::to_vec(&doc)
            .map_err(|e| StoreError::invalid(format!("a search document: {e}")))?;
        let md5 = hex::encode(Md5::digest(&json));
        let key = format!("{CHANGES_PREFIX}{md5}.json");
        self.blobs
            .put(
                &key,
                Bytes::from(json),
                &PutOptions::content_type("application/json").with_content_md5(md5),
            )
            .await?;
        serde_json::to_string(&SearchChange::IndexStored { key })
            .map_err(|e| StoreError::invalid(format!("a search change: {e}")))
    }

    /// Queues changes in order, ten (and at most 256 KiB) a request.
    async fn send(&self, changes: Vec<SearchChange>) -> StoreResult<()> {
        let mut entries: Vec<SendMessageBatchRequestEntry> = Vec::new();
        let mut bytes = 0;
        for change in changes {
            let group = change.doc_id().to_owned();
            let body = self.body_of(change).await?;
            if entries.len() == 10 || bytes + body.len() > MAX_MESSAGE_BYTES {
                self.send_batch(std::mem::take(&mut entries)).await?;
                bytes = 0;
            }
            bytes += body.len();
            let entry = SendMessageBatchRequestEntry::builder()
                .id(entries.len().to_string())
                .message_body(body)
                .message_group_id(group)
                // Not the content: the same change made again later is a change.
                .message_deduplication_id(fresh_id())
                .build()
                .map_err(|e| StoreError::invalid(format!("a search message: {e}")))?;
            entries.push(entry);
        }
        if !entries.is_empty() {
            self.send_batch(entries).await?;
        }
        Ok(())
    }

    async fn send_batch(&self, entries: Vec<SendMessageBatchRequestEntry>) -> StoreResult<()> {
        let out = self
            .sqs
            .send_message_batch()
            .queue_url(&self.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| backend_error(BACKEND, "SendMessageBatch", e))?;
        match out.failed.first() {
            None => Ok(()),
            Some(failed) => Err(StoreError::backend(
                BACKEND,
                "SendMessageBatch",
                !failed.sender_fault,
                format!(
                    "{} of the changes were not queued ({})",
                    out.failed.len(),
                    failed.code
                ),
            )),
        }
    }

    /// Invokes the search function with `call`.
    async fn call(&self, call: &SearchCall) -> Result<SearchReply, SearchError> {
        let payload = serde_json::to_vec(call)
            .map_err(|e| StoreError::invalid(format!("a search call: {e}")))?;
        let out = self
            .lambda
            .invoke()
            .function_name(&self.function)
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(|e| backend_error(BACKEND, "Invoke", e))?;
        let body = out.payload.map(Blob::into_inner).unwrap_or_default();
        if let Some(kind) = out.function_error {
            // An unhandled error (a crash, a timeout): Lambda's own report, retryable.
            return Err(StoreError::backend(
                BACKEND,
                "Invoke",
                true,
                format!("the search function failed ({kind})"),
            )
            .into());
        }
        serde_json::from_slice(&body).map_err(|e| {
            StoreError::backend(
                BACKEND,
                "Invoke",
                false,
                format!("an answer that is not a search reply: {e}"),
            )
            .into()
        })
    }
}

/// A message deduplication id unique to this call.
fn fresh_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut md5 = Md5::new();
    md5.update(nanos.to_le_bytes());
    md5.update(std::process::id().to_le_bytes());
    md5.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    hex::encode(md5.finalize())
}

/// The error a reply's `Error` stands for.
fn error_of(reason: &str, message: String, retryable: bool) -> SearchError {
    match reason {
        "bad_filter" => SearchError::BadFilter(message),
        "bad_cursor" => SearchError::BadCursor,
        "search_too_broad" => SearchError::TooBroad,
        "search_not_configured" => SearchError::NotConfigured,
        _ => StoreError::backend(BACKEND, "query", retryable, message).into(),
    }
}

#[async_trait]
impl Search for LambdaSearch {
    fn describe(&self) -> String {
        format!("search function {}", self.function)
    }

    fn writes_queued(&self) -> bool {
        true
    }

    async fn index(&self, doc: &SearchDoc) -> StoreResult<Indexed> {
        Ok(self
            .index_many(std::slice::from_ref(doc))
            .await?
            .pop()
            .unwrap_or(Indexed::Queued))
    }

    async fn index_many(&self, docs: &[SearchDoc]) -> StoreResult<Vec<Indexed>> {
        let checked = checked_batch(docs)?;
        let changes = checked
            .into_iter()
            .map(|(mut doc, version)| {
                // The version as the caller's process saw it, and the text cut as every
                // adapter cuts it.
                doc.version = Some(version);
                doc.text = doc.indexed_text().to_owned();
                SearchChange::Index { doc }
            })
            .collect();
        self.send(changes).await?;
        Ok(vec![Indexed::Queued; docs.len()])
    }

    async fn refile(&self, doc_id: &str, filing: &Filing) -> StoreResult<bool> {
        validate_doc_id(doc_id)?;
        self.send(vec![SearchChange::Refile {
            doc_id: doc_id.to_owned(),
            filing: filing.clone(),
        }])
        .await?;
        Ok(true)
    }

    async fn remove(&self, doc_id: &str) -> StoreResult<bool> {
        validate_doc_id(doc_id)?;
        self.send(vec![SearchChange::Remove {
            doc_id: doc_id.to_owned(),
        }])
        .await?;
        Ok(true)
    }

    async fn query(&self, request: &SearchRequest) -> Result<SearchPage, SearchError> {
        request.filters.validate()?;
        request.position()?;
        let call = SearchCall::Query {
            query: request.query.clone(),
            filters: request.filters.clone(),
            limit: request.limit,
            cursor: request.cursor.clone(),
        };
        match self.call(&call).await? {
            SearchReply::Page(page) => Ok(page),
            SearchReply::Error {
                reason,
                message,
                retryable,
            } => Err(error_of(&reason, message, retryable)),
            SearchReply::DocIds(_) => Err(StoreError::backend(
                BACKEND,
                "query",
                false,
                "a list of ids where a page was asked for",
            )
            .into()),
        }
    }

    async fn doc_ids(&self, after: Option<&str>, limit: u32) -> StoreResult<Vec<String>> {
        let call = SearchCall::DocIds {
            after: after.map(str::to_owned),
            limit,
        };
        match self.call(&call).await {
            Ok(SearchReply::DocIds(ids)) => Ok(ids),
            Ok(SearchReply::Error {
                message, retryable, ..
            }) => Err(StoreError::backend(BACKEND, "list", retryable, message)),
            Ok(SearchReply::Page(_)) => Err(StoreError::backend(
                BACKEND,
                "list",
                false,
                "a page where ids were asked for",
            )),
            Err(SearchError::Store(e)) => Err(e),
            Err(e) => Err(StoreError::backend(BACKEND, "list", false, e.to_string())),
        }
    }

    /// Waits until the queue holds no change (each one applied and its message deleted).
    async fn refresh(&self) -> StoreResult<()> {
        let started = Instant::now();
        loop {
            let out = self
                .sqs
                .get_queue_attributes()
                .queue_url(&self.queue_url)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
                .send()
                .await
                .map_err(|e| backend_error(BACKEND, "GetQueueAttributes", e))?;
            let waiting: u64 = out
                .attributes
                .unwrap_or_default()
                .values()
                .filter_map(|v| v.parse::<u64>().ok())
                .sum();
            if waiting == 0 {
                return Ok(());
            }
            if started.elapsed() > REFRESH_WAIT {
                return Err(StoreError::backend(
                    BACKEND,
                    "refresh",
                    true,
                    format!(
                        "{waiting} changes still queued after {} s",
                        REFRESH_WAIT.as_secs()
                    ),
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// One message of a batch the search function received: its id, its message group (the
/// document's id, as `LambdaSearch` sends it; `None` if the event did not say) and body.
#[derive(Debug, Clone)]
pub struct ChangeMessage {
    pub id: String,
    pub group: Option<String>,
    pub body: String,
}

/// Applies a batch of queued changes to `index` in order (consecutive documents in one
/// write), reading long ones from `blobs`. Returns the ids of the messages not applied,
/// and why: a message that failed and every later one of its group (FIFO's rule: no
/// document's later change overtakes an earlier one); the other groups' messages are
/// applied, so one poison message does not take its batch with it to the dead-letter
/// queue. A message whose group is unknown fails every message after it.
pub async fn apply_changes(
    index: &dyn Search,
    blobs: &dyn Blobs,
    messages: &[ChangeMessage],
) -> (Vec<String>, Vec<StoreError>) {
    let mut batch = Batch::default();
    for (i, message) in messages.iter().enumerate() {
        if batch.all_failed || batch.group_failed(message.group.as_deref()) {
            batch.failed.insert(i);
            continue;
        }
        let change = match decode(blobs, &message.body).await {
            Ok(change) => change,
            Err(e) => {
                batch.fail(i, message.group.as_deref(), e);
                continue;
            }
        };
        match change {
            Change::Index(doc) => batch.pending.push((i, doc)),
            Change::Refile(doc_id, filing) => {
                batch.flush(index, messages).await;
                if !batch.group_failed(Some(&doc_id))
                    && let Err(e) = index.refile(&doc_id, &filing).await
                {
                    batch.fail(i, Some(&doc_id), e);
                }
            }
            Change::Remove(doc_id) => {
                batch.flush(index, messages).await;
                if !batch.group_failed(Some(&doc_id))
                    && let Err(e) = index.remove(&doc_id).await
                {
                    batch.fail(i, Some(&doc_id), e);
                }
            }
        }
    }
    batch.flush(index, messages).await;
    // Refiles and removals are grouped by the index: committed here, before the batch
    // is reported done; if that fails, every message is delivered again (each change is
    // idempotent).
    if let Err(e) = index.flush().await {
        batch.failed.extend(0..messages.len());
        batch.errors.push(e);
    }
    let failed = batch
        .failed
        .iter()
        .map(|&i| messages[i].id.clone())
        .collect();
    (failed, batch.errors)
}

/// What applying a batch has done so far.
#[derive(Default)]
struct Batch {
    /// Documents to index in one write, with their message's place.
    pending: Vec<(usize, SearchDoc)>,
    failed: std::collections::BTreeSet<usize>,
    failed_groups: std::collections::HashSet<String>,
    /// A message of no known group failed: everything after it waits.
    all_failed: bool,
    errors: Vec<StoreError>,
}

impl Batch {
    fn group_failed(&self, group: Option<&str>) -> bool {
        group.is_some_and(|g| self.failed_groups.contains(g))
    }

    fn fail(&mut self, i: usize, group: Option<&str>, e: StoreError) {
        self.failed.insert(i);
        match group {
            Some(g) => {
                self.failed_groups.insert(g.to_owned());
            }
            None => self.all_failed = true,
        }
        self.errors.push(e);
    }

    /// Indexes the documents waiting, in one write; if it fails, each of them fails.
    async fn flush(&mut self, index: &dyn Search, messages: &[ChangeMessage]) {
        if self.pending.is_empty() {
            return;
        }
        let (places, docs): (Vec<usize>, Vec<SearchDoc>) =
            std::mem::take(&mut self.pending).into_iter().unzip();
        if let Err(e) = index.index_many(&docs).await {
            for (i, doc) in places.into_iter().zip(docs) {
                self.failed.insert(i);
                self.failed_groups
                    .insert(messages[i].group.clone().unwrap_or(doc.doc_id));
            }
            self.errors.push(e);
        }
    }
}

/// A change as the writer applies it (a stored document read back).
enum Change {
    Index(SearchDoc),
    Refile(String, Filing),
    Remove(String),
}

/// A message's change.
async fn decode(blobs: &dyn Blobs, body: &str) -> StoreResult<Change> {
    let change: SearchChange = serde_json::from_str(body)
        .map_err(|e| StoreError::invalid(format!("a search message that is not a change: {e}")))?;
    Ok(match change {
        SearchChange::Index { doc } => Change::Index(doc),
        SearchChange::IndexStored { key } => {
            if !key.starts_with(CHANGES_PREFIX) {
                return Err(StoreError::invalid(
                    "a stored change outside search-changes/",
                ));
            }
            let object = blobs.get(&key).await?;
            let doc = serde_json::from_slice(&object.body).map_err(|e| {
                StoreError::invalid(format!(
                    "a stored search change that is not a document: {e}"
                ))
            })?;
            Change::Index(doc)
        }
        SearchChange::Refile { doc_id, filing } => Change::Refile(doc_id, filing),
        SearchChange::Remove { doc_id } => Change::Remove(doc_id),
    })
}

/// The search function's answer to `call` from its own index.
pub async fn answer(index: &dyn Search, call: SearchCall) -> SearchReply {
    let error = |e: SearchError| {
        let retryable = matches!(&e, SearchError::Store(s) if s.is_retryable());
        SearchReply::Error {
            reason: e.reason().to_owned(),
            message: e.to_string(),
            retryable,
        }
    };
    match call {
        SearchCall::Query {
            query,
            filters,
            limit,
            cursor,
        } => {
            let request = SearchRequest::new(query)
                .filters(filters)
                .limit(limit)
                .after(cursor);
            match index.query(&request).await {
                Ok(page) => SearchReply::Page(page),
                Err(e) => error(e),
            }
        }
        SearchCall::DocIds { after, limit } => match index.doc_ids(after.as_deref(), limit).await {
            Ok(ids) => SearchReply::DocIds(ids),
            Err(e) => error(e.into()),
        },
    }
}
