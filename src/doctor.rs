//! `postroom doctor`: says which backend would be used and checks that it can be reached.

use crate::config::{BackendKind, Config};
#[cfg(feature = "aws")]
use crate::store::{AwsSettings, DynamoTable, S3Blobs, StoreError};
#[allow(unused_imports)]
use crate::store::{Blobs, Table};
#[cfg(feature = "embedded")]
use crate::store::{DirBlobs, SqliteTable};

/// One check and what it found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    /// What was found, or what is wrong and what to do about it.
    pub detail: String,
}

impl Check {
    fn pass(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Check {
            name: name.into(),
            ok: true,
            detail: detail.into(),
        }
    }

    fn fail(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Check {
            name: name.into(),
            ok: false,
            detail: detail.into(),
        }
    }
}

/// Runs every check for the configured backend, never stopping at the first failure.
pub async fn run(config: &Config) -> Vec<Check> {
    match config.backend {
        BackendKind::Local => local(config).await,
        BackendKind::Aws => aws(config).await,
    }
}

#[cfg(not(feature = "embedded"))]
async fn local(_: &Config) -> Vec<Check> {
    vec![Check::fail(
        "backend",
        "local, but this build has no embedded store",
    )]
}

#[cfg(not(feature = "aws"))]
async fn aws(_: &Config) -> Vec<Check> {
    vec![Check::fail(
        "backend",
        "aws, but this build has no AWS adapters",
    )]
}

#[cfg(feature = "embedded")]
async fn local(config: &Config) -> Vec<Check> {
    let mut checks = vec![Check::pass(
        "backend",
        format!("local (data folder {})", config.home.display()),
    )];
    let blobs_dir = config.blobs_dir();
    checks.push(match DirBlobs::open(&blobs_dir) {
        Ok(blobs) => match blobs.health().await {
            Ok(()) => Check::pass(
                "documents folder",
                format!("{} is writable", blobs_dir.display()),
            ),
            Err(e) => Check::fail(
                "documents folder",
                format!("{} is not writable: {e}", blobs_dir.display()),
            ),
        },
        Err(e) => Check::fail(
            "documents folder",
            format!("cannot create {}: {e}", blobs_dir.display()),
        ),
    });
    let sqlite = config.sqlite_path();
    checks.push(match SqliteTable::open(&sqlite) {
        Ok(table) => match table.health().await {
            Ok(()) => Check::pass("database", format!("{} is writable", sqlite.display())),
            Err(e) => Check::fail(
                "database",
                format!("{} cannot be written: {e}", sqlite.display()),
            ),
        },
        Err(e) => Check::fail("database", format!("cannot open {}: {e}", sqlite.display())),
    });
    checks
}

#[cfg(feature = "aws")]
async fn aws(config: &Config) -> Vec<Check> {
    let Some(names) = &config.aws else {
        return vec![Check::fail(
            "backend",
            "aws, but the table and bucket names are not set",
        )];
    };
    let settings = AwsSettings::load().await;
    let endpoint = settings.endpoint().map(str::to_owned);
    let mut checks = vec![Check::pass(
        "backend",
        match &endpoint {
            Some(url) => format!("aws, through the endpoint {url} (AWS_ENDPOINT_URL)"),
            None => "aws".to_owned(),
        },
    )];
    checks.push(match settings.region() {
        Some(region) => Check::pass("region", region),
        None => Check::fail("region", "no AWS region is configured: set AWS_REGION"),
    });
    let hint = |e: &StoreError| -> String {
        if e.is_retryable() {
            match &endpoint {
                Some(url) => format!("cannot reach {url}: is the service running there? ({e})"),
                None => format!("cannot reach AWS: check the network and credentials ({e})"),
            }
        } else {
            e.to_string()
        }
    };
    let blobs = S3Blobs::new(&settings, &names.bucket);
    checks.push(match blobs.health().await {
        Ok(()) => Check::pass("bucket", format!("s3://{} is reachable", names.bucket)),
        Err(e) => Check::fail("bucket", hint(&e)),
    });
    let table = DynamoTable::new(&settings, &names.table);
    let reachable = table.health().await;
    checks.push(match &reachable {
        Ok(()) => Check::pass(
            "table",
            format!("{} has the keys PK/SK and the index GSI1", names.table),
        ),
        Err(e) => Check::fail("table", hint(e)),
    });
    if reachable.is_ok() {
        checks.push(cases_list(&table).await);
    }
    checks
}

/// Whether every case is in the cases list (`postroom cases relist` has run on this
/// stack): without it the console's list and the claims statistics miss older cases.
#[cfg(feature = "aws")]
async fn cases_list(table: &dyn Table) -> Check {
    match crate::cases::listing::is_complete(table).await {
        Ok(true) => Check::pass(
            "cases list",
            "every case is listed (`cases relist` has run)",
        ),
        Ok(false) => Check::fail(
            "cases list",
            "cases recorded before the cases list was read from its index are not in it, and the claims statistics refuse to count: run `postroom --backend aws cases relist` once (a new stack too)",
        ),
        Err(e) => Check::fail("cases list", e.to_string()),
    }
}
