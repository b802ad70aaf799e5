//! Builds the two storage ports from the configuration: the embedded default or AWS.

use std::sync::Arc;

use crate::config::{BackendKind, Config};
use crate::store::{
    AwsSettings, Blobs, DirBlobs, DynamoTable, S3Blobs, SqliteTable, StoreError, Table,
};

/// The ports the use cases run against.
#[derive(Debug, Clone)]
pub struct Stores {
    pub blobs: Arc<dyn Blobs>,
    pub table: Arc<dyn Table>,
}

impl Stores {
    /// Opens the configured backend. The local one creates its folder and SQLite file;
    /// the AWS one does no I/O until first used.
    pub async fn open(config: &Config) -> Result<Stores, StoreError> {
        match (config.backend, &config.aws) {
            (BackendKind::Local, _) => Self::local(config),
            (BackendKind::Aws, Some(names)) => {
                let settings = AwsSettings::load().await;
                Ok(Stores {
                    blobs: Arc::new(S3Blobs::new(&settings, &names.bucket)),
                    table: Arc::new(DynamoTable::new(&settings, &names.table)),
                })
            }
            (BackendKind::Aws, None) => Err(StoreError::Invalid {
                what: "the AWS backend needs a table and a bucket name".into(),
            }),
        }
    }

    /// The embedded default under `config.home`.
    pub fn local(config: &Config) -> Result<Stores, StoreError> {
        Ok(Stores {
            blobs: Arc::new(DirBlobs::open(config.blobs_dir())?),
            table: Arc::new(SqliteTable::open(config.sqlite_path())?),
        })
    }
}
