//! The `Blobs` port: an object store of documents, extracted text and letters.

use std::collections::BTreeMap;

use async_trait::async_trait;
use bytes::Bytes;

use super::error::{StoreError, StoreResult};
use super::table::Cursor;

/// The longest key S3 accepts, in UTF-8 bytes; every adapter enforces it.
pub const MAX_KEY_BYTES: usize = 1024;

/// How an object is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutOptions {
    /// A MIME type such as `application/pdf`.
    pub content_type: Option<String>,
    /// User metadata. Keys are lower-case ASCII letters, digits and `-`;
    /// values are any Unicode text (adapters encode as their store needs).
    pub metadata: BTreeMap<String, String>,
    /// Whether the write must reach the disk before `put` returns (the default). Objects
    /// that can be made again (extracted text; a copy of a file the user still has)
    /// may skip it. Stores that are always durable (S3) ignore it.
    pub durable: bool,
    /// The hex MD5 of the body, when the caller has it already: S3 checks the bytes
    /// against it (`Content-MD5`), the local folder takes it as the ETag instead of
    /// hashing the body again.
    pub content_md5: Option<String>,
}

impl Default for PutOptions {
    fn default() -> Self {
        PutOptions {
            content_type: None,
            metadata: BTreeMap::new(),
            durable: true,
            content_md5: None,
        }
    }
}

impl PutOptions {
    pub fn content_type(content_type: impl Into<String>) -> Self {
        PutOptions {
            content_type: Some(content_type.into()),
            ..PutOptions::default()
        }
    }

    /// The same options, without waiting for the disk (see `durable`).
    pub fn reproducible(mut self) -> Self {
        self.durable = false;
        self
    }

    /// The body's hex MD5 (see `content_md5`), as [`md5_hex`] gives it.
    pub fn with_content_md5(mut self, md5_hex: impl Into<String>) -> Self {
        self.content_md5 = Some(md5_hex.into());
        self
    }

    pub fn with_meta(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }
}

/// What `head` says about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    pub key: String,
    pub size: u64,
    /// The hex MD5 of the bytes (S3's ETag for a single-part upload), without quotes.
    pub etag: String,
    /// The object version where the store keeps versions (S3 with versioning on).
    pub version: Option<String>,
    pub content_type: Option<String>,
    pub metadata: BTreeMap<String, String>,
}

/// One stored state of an object: what an upload event names. Reads, copies and deletes
/// pinned to it act on those bytes only, never on a later upload to the same key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pin {
    /// A version id, where the store keeps versions (S3 with versioning on).
    Version(String),
    /// The ETag (hex MD5, no quotes) the caller saw, where it keeps none: the operation
    /// finds nothing (`NotFound`) once the key holds other bytes.
    ETag(String),
}

impl Pin {
    /// The pin an event gives: its version, else its ETag.
    pub fn of(version: Option<&str>, etag: Option<&str>) -> Option<Pin> {
        version
            .map(|v| Pin::Version(v.to_owned()))
            .or_else(|| etag.map(|e| Pin::ETag(e.trim_matches('"').to_owned())))
    }

    /// Whether an object's metadata is this state.
    pub fn matches(&self, meta: &ObjectMeta) -> bool {
        match self {
            Pin::Version(v) => meta.version.as_deref() == Some(v.as_str()),
            Pin::ETag(e) => meta.etag == *e,
        }
    }
}

/// An object read whole.
#[derive(Debug, Clone)]
pub struct Object {
    pub meta: ObjectMeta,
    pub body: Bytes,
}

/// One entry of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectSummary {
    pub key: String,
    pub size: u64,
    pub etag: String,
}

/// One page of a listing, in UTF-8 byte order of keys.
#[derive(Debug, Clone, Default)]
pub struct ListPage {
    pub objects: Vec<ObjectSummary>,
    /// Pass back to `list` for the next page; `None` on the last page.
    pub next: Option<Cursor>,
}

/// An object store. Implemented by `DirBlobs` (a local folder) and `S3Blobs`.
#[async_trait]
pub trait Blobs: Send + Sync + std::fmt::Debug {
    /// A short name of the backend and its location, for messages (`s3://bucket`).
    fn describe(&self) -> String;

    /// Checks that the store exists and can be written; used by `postroom doctor`.
    async fn health(&self) -> StoreResult<()>;

    /// Reads an object whole. `NotFound` when absent.
    async fn get(&self, key: &str) -> StoreResult<Object>;

    /// Writes an object whole, replacing any previous one; readers see the old or the
    /// new object, never a part.
    async fn put(&self, key: &str, body: Bytes, options: &PutOptions) -> StoreResult<ObjectMeta>;

    /// Size, ETag, version, content type and metadata, without the body.
    async fn head(&self, key: &str) -> StoreResult<ObjectMeta>;

    /// Keys starting with `prefix`, in order, at most `limit` (1..=1000) a page.
    async fn list(
        &self,
        prefix: &str,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> StoreResult<ListPage>;

    /// Reads the pinned state of an object whole. `NotFound` when that version is gone,
    /// or (pinned by ETag) when the key now holds other bytes.
    async fn get_pinned(&self, key: &str, pin: &Pin) -> StoreResult<Object>;

    /// `head` of the pinned state; `NotFound` as for `get_pinned`.
    async fn head_pinned(&self, key: &str, pin: &Pin) -> StoreResult<ObjectMeta>;

    /// Copies an object (its pinned state, when a pin is given) with its content type
    /// and metadata. Needs no read permission on `to`: nothing is read back.
    async fn copy(&self, from: &str, pin: Option<&Pin>, to: &str) -> StoreResult<()>;

    /// Deletes an object; deleting an absent object succeeds (as on S3).
    async fn delete(&self, key: &str) -> StoreResult<()>;

    /// Deletes only the pinned state: that version (for good), or the object if it still
    /// holds the pinned bytes. A later upload to the same key is never touched; deleting
    /// a state that is gone succeeds.
    async fn delete_pinned(&self, key: &str, pin: &Pin) -> StoreResult<()>;
}

/// Rejects keys no adapter can store alike: empty, over 1,024 bytes, or with NUL.
pub fn validate_blob_key(key: &str) -> StoreResult<()> {
    if key.is_empty() {
        return Err(StoreError::invalid("an object key may not be empty"));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(StoreError::too_large(format!(
            "object key of {} bytes (at most {MAX_KEY_BYTES})",
            key.len()
        )));
    }
    if key.contains('\0') {
        return Err(StoreError::invalid("an object key may not contain NUL"));
    }
    Ok(())
}

/// Rejects metadata keys S3 would rewrite (it lower-cases them and allows only tokens).
pub(crate) fn validate_metadata(options: &PutOptions) -> StoreResult<()> {
    for key in options.metadata.keys() {
        let ok = !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok {
            return Err(StoreError::invalid(format!(
                "metadata key {key:?}: use lower-case letters, digits and '-'"
            )));
        }
    }
    Ok(())
}

/// The hex MD5 of some bytes: the ETag S3 gives a single-part upload.
pub fn md5_hex(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    hex::encode(Md5::digest(bytes))
}
