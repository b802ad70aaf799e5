//! Storage ports (`Blobs`, `Table`), their shared types and errors, the four adapters,
//! and `SqsQueue`, which hands messages to another function.
//!
//! The domain writes against the two traits only. Each port has an embedded adapter
//! (`DirBlobs`, `SqliteTable`) and an AWS adapter (`S3Blobs`, `DynamoTable`); one
//! contract test suite (`tests/it/contract`) runs unchanged against all four.
//! SDK types never leave the `s3`/`dynamo`/`aws` modules.

mod aws;
mod blobs;
mod dir_blobs;
mod dynamo_table;
mod error;
mod s3_blobs;
mod sqlite_table;
mod sqs_queue;
mod table;

pub use aws::AwsSettings;
pub use blobs::{
    Blobs, ListPage, Object, ObjectMeta, ObjectSummary, PutOptions, md5_hex, validate_blob_key,
};
pub use dir_blobs::DirBlobs;
pub use dynamo_table::DynamoTable;
pub use error::{StoreError, StoreResult};
pub use s3_blobs::S3Blobs;
pub use sqlite_table::SqliteTable;
pub use sqs_queue::SqsQueue;
pub use table::{
    Condition, Cursor, GSI1, GSI1_PK, GSI1_SK, Item, Key, MAX_ITEM_BYTES, MAX_PAGE_BYTES,
    MAX_TRANSACTION_OPS, PK, Page, Query, SK, Table, TxOp, Update, VERSION, item_size,
    validate_item,
};
