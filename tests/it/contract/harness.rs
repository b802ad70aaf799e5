//! Fixtures for the contract suite: a fresh store per test, removed afterwards even
//! when the test fails, and the rule for AWS tests without a stand-in (skip loudly, or
//! fail under `scripts/test`, which sets `POSTROOM_REQUIRE_AWS=1`).

use std::future::Future;
use std::io::Write as _;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use futures::FutureExt as _;
use postroom::store::{AwsSettings, Blobs, DirBlobs, DynamoTable, S3Blobs, SqliteTable, Table};

pub type TestFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

enum Cleanup {
    Dir(
        #[allow(dead_code, reason = "held so the folder lives until the test ends")]
        tempfile::TempDir,
    ),
    Bucket(S3Blobs),
    Table(DynamoTable),
}

impl Cleanup {
    async fn run(self, name: &str) {
        let result = match self {
            Cleanup::Dir(dir) => {
                drop(dir);
                Ok(())
            }
            Cleanup::Bucket(blobs) => blobs.destroy_bucket().await,
            Cleanup::Table(table) => table.delete_table().await,
        };
        if let Err(e) = result {
            panic!("{name}: could not remove the test's store: {e}");
        }
    }
}

pub struct BlobFixture {
    blobs: Arc<dyn Blobs>,
    cleanup: Cleanup,
}

pub struct TableFixture {
    table: Arc<dyn Table>,
    cleanup: Cleanup,
}

/// A name unique to this test run, valid as a bucket and a table name.
pub fn unique(test: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let tail: String = test
        .rsplit("::")
        .next()
        .unwrap_or("t")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(30)
        .collect();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "pr-{tail}-{:x}-{:x}-{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The AWS settings for a stand-in on loopback, or `None` (after saying so on the
/// terminal, past the test harness's capture) when there is none. Never returns
/// settings for a real AWS endpoint: these tests create and delete buckets and tables.
pub async fn aws_settings(test: &str) -> Option<AwsSettings> {
    let required = std::env::var("POSTROOM_REQUIRE_AWS").is_ok_and(|v| v == "1");
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    let host = endpoint
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split(['/', ':']).next())
        .unwrap_or_default()
        .to_owned();
    let loopback = host == "localhost" || host.starts_with("127.") || endpoint.contains("://[::1]");
    if !loopback {
        let why = if endpoint.is_empty() {
            "AWS_ENDPOINT_URL is not set".to_owned()
        } else {
            format!("AWS_ENDPOINT_URL={endpoint} is not a loopback address")
        };
        assert!(
            !required,
            "{test}: POSTROOM_REQUIRE_AWS=1 but {why}: the AWS adapter tests must run"
        );
        // Straight to the terminal: libtest captures eprintln! of passing tests.
        let _ = writeln!(
            std::io::stderr(),
            "\n*** NOT RUN: {test} (AWS adapter): {why}. Run scripts/test to test the AWS adapters against a local stand-in. ***"
        );
        return None;
    }
    Some(AwsSettings::load().await)
}

pub async fn dir_blobs(_test: String) -> Option<BlobFixture> {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let blobs = DirBlobs::open(dir.path().join("blobs")).expect("open DirBlobs");
    Some(BlobFixture {
        blobs: Arc::new(blobs),
        cleanup: Cleanup::Dir(dir),
    })
}

pub async fn s3_blobs(test: String) -> Option<BlobFixture> {
    bucket(test, false).await
}

/// A bucket with versioning on, as the template makes it.
pub async fn s3_versioned_blobs(test: String) -> Option<BlobFixture> {
    bucket(test, true).await
}

async fn bucket(test: String, versioned: bool) -> Option<BlobFixture> {
    let settings = aws_settings(&test).await?;
    let blobs = S3Blobs::new(&settings, unique(&test));
    blobs
        .create_bucket()
        .await
        .unwrap_or_else(|e| panic!("{test}: could not create the test bucket: {e}"));
    if versioned {
        blobs
            .enable_versioning()
            .await
            .unwrap_or_else(|e| panic!("{test}: could not turn on versioning: {e}"));
    }
    Some(BlobFixture {
        blobs: Arc::new(blobs.clone()),
        cleanup: Cleanup::Bucket(blobs),
    })
}

pub async fn sqlite_table(_test: String) -> Option<TableFixture> {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let table = SqliteTable::open(dir.path().join("t.sqlite3")).expect("open SqliteTable");
    Some(TableFixture {
        table: Arc::new(table),
        cleanup: Cleanup::Dir(dir),
    })
}

pub async fn dynamo_table(test: String) -> Option<TableFixture> {
    let settings = aws_settings(&test).await?;
    let table = DynamoTable::new(&settings, unique(&test));
    table
        .create_table()
        .await
        .unwrap_or_else(|e| panic!("{test}: could not create the test table: {e}"));
    Some(TableFixture {
        table: Arc::new(table.clone()),
        cleanup: Cleanup::Table(table),
    })
}

/// Runs one blob test on a fresh store and removes the store, pass or fail.
pub async fn with_blobs<M, F>(name: &str, make: M, test: impl FnOnce(Arc<dyn Blobs>) -> TestFuture)
where
    M: FnOnce(String) -> F,
    F: Future<Output = Option<BlobFixture>>,
{
    let Some(fixture) = make(name.to_owned()).await else {
        return;
    };
    let outcome = AssertUnwindSafe(test(Arc::clone(&fixture.blobs)))
        .catch_unwind()
        .await;
    fixture.cleanup.run(name).await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Runs one table test on a fresh store and removes the store, pass or fail.
pub async fn with_table<M, F>(name: &str, make: M, test: impl FnOnce(Arc<dyn Table>) -> TestFuture)
where
    M: FnOnce(String) -> F,
    F: Future<Output = Option<TableFixture>>,
{
    let Some(fixture) = make(name.to_owned()).await else {
        return;
    };
    let outcome = AssertUnwindSafe(test(Arc::clone(&fixture.table)))
        .catch_unwind()
        .await;
    fixture.cleanup.run(name).await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
