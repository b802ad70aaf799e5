//! Storage ports (`Blobs`, `Table`, `Search`), their shared types and errors, their
//! adapters, and `SqsQueue`, which hands messages to another function.
//!
//! The domain writes against the two traits only. Each port has an embedded adapter
//! (`DirBlobs`, `SqliteTable`) and an AWS adapter (`S3Blobs`, `DynamoTable`); one
//! contract test suite (`tests/it/contract`) runs unchanged against all four.
//! SDK types never leave the `s3`/`dynamo`/`aws` modules.

#[cfg(feature = "aws")]
mod aws;
mod blobs;
#[cfg(feature = "embedded")]
mod dir_blobs;
#[cfg(feature = "aws")]
mod dynamo_table;
mod error;
#[cfg(feature = "aws")]
pub mod lambda_search;
#[cfg(any(feature = "aws", test))]
mod presign;
#[cfg(feature = "aws")]
mod s3_blobs;
pub mod search;
mod search_query;
#[cfg(feature = "embedded")]
mod sqlite_search;
#[cfg(feature = "embedded")]
mod sqlite_table;
#[cfg(feature = "aws")]
mod sqs_queue;
mod table;
#[cfg(feature = "tantivy")]
mod tantivy_search;

#[cfg(feature = "aws")]
pub use aws::AwsSettings;
pub use blobs::{
    Blobs, ListPage, MAX_KEY_BYTES, MAX_POST_BYTES, MAX_POST_EXPIRY, Object, ObjectMeta,
    ObjectSummary, Pin, PostRequest, PresignedPost, PutOptions, md5_hex, validate_blob_key,
};
#[cfg(feature = "embedded")]
pub use dir_blobs::DirBlobs;
#[cfg(feature = "aws")]
pub use dynamo_table::DynamoTable;
pub use error::{StoreError, StoreResult};
#[cfg(feature = "aws")]
pub use lambda_search::LambdaSearch;
#[cfg(feature = "aws")]
pub use s3_blobs::S3Blobs;
pub use search::{
    FOI_REFERENCE_PREFIX, Filing, Filters, Hit, Indexed, Scope, Search, SearchCursor, SearchDoc,
    SearchError, SearchPage, SearchQuery, SearchRequest, Snippet, Unconfigured,
};
#[cfg(feature = "embedded")]
pub use sqlite_search::SqliteSearch;
#[cfg(feature = "embedded")]
pub use sqlite_table::SqliteTable;
#[cfg(feature = "aws")]
pub use sqs_queue::SqsQueue;
#[cfg(feature = "tantivy")]
pub use tantivy_search::TantivySearch;
#[cfg(any(feature = "embedded", feature = "tantivy"))]
/// How long a blocking call of an embedded adapter (a file, the SQLite file) may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Tens of microseconds: a stat, a point read or write, a small file.
    #[cfg_attr(not(feature = "embedded"), allow(dead_code))]
    Brief,
    /// Milliseconds or more: a large file, a sync to the disk, a listing or a scan.
    Long,
}

#[cfg(feature = "embedded")]
/// The most bytes a brief call reads or writes (a few hundred microseconds from the
/// page cache).
const BRIEF_BYTES: u64 = 1 << 20;

#[cfg(feature = "embedded")]
impl Expect {
    /// A read or unsynced write of `bytes`.
    fn for_bytes(bytes: u64) -> Expect {
        if bytes > BRIEF_BYTES {
            Expect::Long
        } else {
            Expect::Brief
        }
    }
}

#[cfg(any(feature = "embedded", feature = "tantivy"))]
/// Creates a folder and its missing parents readable by their owner only (0700 on Unix):
/// local data holds names and request texts, which other users of the host must not read.
pub(crate) fn create_private_dir_all(path: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)
}

#[cfg(feature = "embedded")]
/// Makes sure a file exists and is readable by its owner only (0600 on Unix), before a
/// library (SQLite) opens it with its own defaults; its journal files take its mode.
pub(crate) fn ensure_private_file(path: &std::path::Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = file.metadata()?.permissions().mode();
        if mode & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(mode & 0o700))?;
        }
    }
    drop(file);
    Ok(())
}

/// Runs a blocking call of an embedded adapter. On a multi-threaded runtime a brief call
/// runs right here, on the async worker: handing the worker's other tasks to another
/// thread first (`block_in_place`) wakes a thread and costs more than the call itself
/// (measured: about 11 % of `postroom ingest`'s CPU). A long call does hand them over, so
/// that they are not held up. On a current-thread runtime, where that is not allowed,
/// both go to the blocking pool.
#[cfg(any(feature = "embedded", feature = "tantivy"))]
async fn local_blocking<T: Send + 'static>(
    backend: &'static str,
    op: &'static str,
    expect: Expect,
    f: impl FnOnce() -> StoreResult<T> + Send + 'static,
) -> StoreResult<T> {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match (Handle::try_current().map(|h| h.runtime_flavor()), expect) {
        (Ok(RuntimeFlavor::MultiThread), Expect::Brief) => f(),
        (Ok(RuntimeFlavor::MultiThread), Expect::Long) => tokio::task::block_in_place(f),
        _ => tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| StoreError::backend(backend, op, false, e))?,
    }
}

/// The two ports the use cases run against, as one value to hand around.
#[derive(Debug, Clone)]
pub struct Stores {
    pub blobs: std::sync::Arc<dyn Blobs>,
    pub table: std::sync::Arc<dyn Table>,
}

pub use table::{
    Condition, Cursor, GSI1, GSI1_PK, GSI1_SK, Item, Key, MAX_ITEM_BYTES, MAX_PAGE_BYTES,
    MAX_TRANSACTION_OPS, PK, Page, Query, SK, Table, TxOp, Update, VERSION, item_size, strings,
    validate_item,
};
