//! The `Blobs` port: an object store of documents, extracted text and letters.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

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

/// The longest a presigned POST form may stay valid.
pub const MAX_POST_EXPIRY: Duration = Duration::from_secs(3600);

/// The largest object one POST upload can carry (S3's limit for POST: 5 GiB).
pub const MAX_POST_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// What a browser form that uploads straight to the store may do (see
/// [`Blobs::presign_post`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostRequest {
    /// Every key the form can write starts with this (non-empty, e.g. `inbox/console/u1/`);
    /// the form's `key` is this followed by `${filename}`, the name of the file sent.
    pub key_prefix: String,
    /// The largest file accepted, in bytes (1..=[`MAX_POST_BYTES`]); the smallest is 1.
    pub max_bytes: u64,
    /// Where the browser goes after a successful upload (`success_action_redirect`, an
    /// `http(s)://` URL); S3 adds `bucket`, `key` and `etag` to its query.
    pub redirect: String,
    /// Fixed user metadata the object gets (`x-amz-meta-<key>`, e.g. `uploaded-by`); keys
    /// as in [`PutOptions::metadata`]. The form cannot change them.
    pub metadata: BTreeMap<String, String>,
    /// How long the form stays valid (at most [`MAX_POST_EXPIRY`]).
    pub expires_in: Duration,
}

impl PostRequest {
    /// Checks the request as every adapter does: a non-empty prefix that leaves room for
    /// a file name, a size limit in range, an `http(s)` redirect, metadata keys S3 keeps
    /// as they are, and a lifetime of at most an hour.
    pub fn validate(&self) -> StoreResult<()> {
        if self.key_prefix.is_empty() {
            return Err(StoreError::invalid(
                "a presigned POST needs a key prefix (an empty one allows every key)",
            ));
        }
        if self.key_prefix.len() >= MAX_KEY_BYTES {
            return Err(StoreError::too_large(format!(
                "key prefix of {} bytes leaves no room for a file name (keys are at most {MAX_KEY_BYTES})",
                self.key_prefix.len()
            )));
        }
        if self.key_prefix.contains('\0') || self.key_prefix.contains("${") {
            return Err(StoreError::invalid(
                "a key prefix may not contain NUL or `${`",
            ));
        }
        if self.max_bytes == 0 || self.max_bytes > MAX_POST_BYTES {
            return Err(StoreError::invalid(format!(
                "size limit of {} bytes (1 to {MAX_POST_BYTES})",
                self.max_bytes
            )));
        }
        let scheme_ok = ["https://", "http://"]
            .iter()
            .any(|s| self.redirect.len() > s.len() && self.redirect.starts_with(s));
        if !scheme_ok || self.redirect.chars().any(char::is_control) {
            return Err(StoreError::invalid(
                "the redirect must be an http(s) URL without control characters",
            ));
        }
        check_metadata_keys(self.metadata.keys())?;
        if self.expires_in.is_zero() || self.expires_in > MAX_POST_EXPIRY {
            return Err(StoreError::invalid(format!(
                "a presigned POST lasts 1 s to {} s, not {} s",
                MAX_POST_EXPIRY.as_secs(),
                self.expires_in.as_secs()
            )));
        }
        Ok(())
    }
}

/// A browser form that uploads one file straight to the store: `<form method="post"
/// enctype="multipart/form-data" action="{url}">`, the `fields` as hidden inputs in this
/// order, then the file input named `file` (the store ignores fields after it).
#[derive(Clone, PartialEq, Eq)]
pub struct PresignedPost {
    /// The form's action.
    pub url: String,
    /// The hidden fields, in order: `key` (the prefix + `${filename}`),
    /// `success_action_redirect`, each `x-amz-meta-*`, `x-amz-algorithm`,
    /// `x-amz-credential`, `x-amz-date`, `x-amz-security-token` (temporary credentials
    /// only), `policy` and `x-amz-signature`.
    pub fields: Vec<(String, String)>,
    /// When the form stops working: the request's lifetime, or sooner if the signing
    /// credentials expire first. Whole seconds.
    pub expires_at: SystemTime,
}

impl PresignedPost {
    /// The value of a field, by name.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Shows the fields without the session token and the signature: forms end up in logs.
impl std::fmt::Debug for PresignedPost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fields: Vec<(&str, &str)> = self
            .fields
            .iter()
            .map(|(n, v)| match n.as_str() {
                "x-amz-security-token" | "x-amz-signature" => (n.as_str(), "<redacted>"),
                _ => (n.as_str(), v.as_str()),
            })
            .collect();
        f.debug_struct("PresignedPost")
            .field("url", &self.url)
            .field("fields", &fields)
            .field("expires_at", &self.expires_at)
            .finish()
    }
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

    /// A form with which a browser uploads one file of at most `max_bytes` straight to
    /// the store, under `key_prefix`, with the given metadata, then goes to `redirect`.
    /// `None` where the store has no such thing (the local folder): the caller takes the
    /// same form itself. `Invalid` when the request fails [`PostRequest::validate`].
    async fn presign_post(&self, request: &PostRequest) -> StoreResult<Option<PresignedPost>> {
        request.validate()?;
        Ok(None)
    }
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
    check_metadata_keys(options.metadata.keys())
}

fn check_metadata_keys<'a>(keys: impl IntoIterator<Item = &'a String>) -> StoreResult<()> {
    for key in keys {
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
