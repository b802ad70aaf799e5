//! `S3Blobs`: the production `Blobs` adapter over Amazon S3 (aws-sdk-s3).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::{Credentials, ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, Delete, ObjectIdentifier,
};
use bytes::Bytes;
use percent_encoding::{
    AsciiSet, CONTROLS, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode,
};

use super::aws::{AwsSettings, backend_error, code_of, status_of};
use super::blobs::{
    Blobs, ListPage, Object, ObjectMeta, ObjectSummary, Pin, PostRequest, PresignedPost,
    PutOptions, validate_blob_key, validate_metadata,
};
use super::error::{StoreError, StoreResult};
use super::presign::{self, Scope, SigningKeys};
use super::table::Cursor;

const BACKEND: &str = "S3";

/// Metadata values travel as HTTP headers: escape what a header cannot carry.
const META_VALUE: &AsciiSet = &CONTROLS.add(b'%').add(b' ');
/// `CopySource` is `bucket/key`, URL-encoded except for the slashes.
const COPY_SOURCE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The shortest life a presigned form is handed out with: credentials that expire
/// sooner are refreshed first, or the form is refused.
const MIN_FORM_LIFETIME: Duration = Duration::from_secs(60);

/// Objects in one S3 bucket.
#[derive(Debug, Clone)]
pub struct S3Blobs {
    client: Client,
    bucket: String,
    /// Where upload forms post to with a stand-in (path style: `<endpoint>/<bucket>`);
    /// `None` on AWS (`https://<bucket>.s3.<region>.amazonaws.com/`).
    form_endpoint: Option<String>,
    /// The SDK's credentials, which sign upload forms (the S3 client does not hand its
    /// own out), and the last ones loaded (their `Debug` hides the secret).
    credentials: Option<SharedCredentialsProvider>,
    form_credentials: Arc<Mutex<Option<Credentials>>>,
}

impl S3Blobs {
    pub fn new(settings: &AwsSettings, bucket: impl Into<String>) -> Self {
        let mut builder = aws_sdk_s3::config::Builder::from(settings.sdk())
            .force_path_style(settings.path_style());
        if let Some(endpoint) = settings.explicit_endpoint() {
            builder.set_endpoint_url(Some(endpoint.to_owned()));
        }
        let config = builder.build();
        // The same endpoint the client resolves: one given in code, else the S3-only
        // variable, else `AWS_ENDPOINT_URL`.
        let form_endpoint = settings
            .path_style()
            .then(|| {
                settings
                    .explicit_endpoint()
                    .map(str::to_owned)
                    .or_else(|| std::env::var("AWS_ENDPOINT_URL_S3").ok())
                    .or_else(|| settings.endpoint().map(str::to_owned))
            })
            .flatten()
            .filter(|e| !e.is_empty());
        S3Blobs {
            client: Client::from_conf(config),
            bucket: bucket.into(),
            form_endpoint,
            credentials: settings.sdk().credentials_provider(),
            form_credentials: Arc::default(),
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Creates the bucket in the client's region (for stand-ins and tests; production
    /// buckets come from the infrastructure template).
    pub async fn create_bucket(&self) -> StoreResult<()> {
        let mut request = self.client.create_bucket().bucket(&self.bucket);
        let region = self
            .client
            .config()
            .region()
            .map(|r| r.to_string())
            .unwrap_or_default();
        if !region.is_empty() && region != "us-east-1" {
            request = request.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(region.as_str()))
                    .build(),
            );
        }
        request
            .send()
            .await
            .map_err(|e| backend_error(BACKEND, format!("create bucket {}", self.bucket), e))?;
        Ok(())
    }

    /// Turns versioning on (for stand-ins and tests; the template turns it on in
    /// production).
    pub async fn enable_versioning(&self) -> StoreResult<()> {
        use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
        self.client
            .put_bucket_versioning()
            .bucket(&self.bucket)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| backend_error(BACKEND, "turn on versioning", e))?;
        Ok(())
    }

    /// Deletes every object, every version and delete marker, and then the bucket (for
    /// stand-ins and tests).
    pub async fn destroy_bucket(&self) -> StoreResult<()> {
        loop {
            let page = self
                .client
                .list_object_versions()
                .bucket(&self.bucket)
                .max_keys(1000)
                .send()
                .await
                .map_err(|e| backend_error(BACKEND, "list object versions", e))?;
            let versions = page
                .versions()
                .iter()
                .map(|v| (v.key(), v.version_id()))
                .chain(
                    page.delete_markers()
                        .iter()
                        .map(|m| (m.key(), m.version_id())),
                );
            let ids = versions
                .filter_map(|(key, version)| {
                    let key = key?;
                    Some(
                        ObjectIdentifier::builder()
                            .key(key)
                            .set_version_id(version.filter(|v| *v != "null").map(str::to_owned))
                            .build(),
                    )
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| StoreError::backend(BACKEND, "delete objects", false, e))?;
            if ids.is_empty() {
                break;
            }
            let delete = Delete::builder()
                .set_objects(Some(ids))
                .quiet(true)
                .build()
                .map_err(|e| StoreError::backend(BACKEND, "delete objects", false, e))?;
            self.client
                .delete_objects()
                .bucket(&self.bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| backend_error(BACKEND, "delete objects", e))?;
        }
        self.client
            .delete_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map_err(|e| backend_error(BACKEND, format!("delete bucket {}", self.bucket), e))?;
        Ok(())
    }

    /// Credentials that last until `wanted` if the provider has such: the ones loaded
    /// last while they do, else fresh ones (which may still expire sooner).
    async fn signing_credentials(&self, wanted: SystemTime) -> StoreResult<Credentials> {
        let cached = self
            .form_credentials
            .lock()
            .ok()
            .and_then(|c| c.clone())
            .filter(|c| c.expiry().is_none_or(|e| e >= wanted));
        if let Some(credentials) = cached {
            return Ok(credentials);
        }
        let provider = self.credentials.as_ref().ok_or_else(|| {
            StoreError::backend(
                BACKEND,
                "sign an upload form",
                false,
                "no AWS credentials are configured",
            )
        })?;
        let fresh = provider.provide_credentials().await.map_err(|e| {
            StoreError::backend(BACKEND, "load credentials to sign an upload form", false, e)
        })?;
        if let Ok(mut slot) = self.form_credentials.lock() {
            *slot = Some(fresh.clone());
        }
        Ok(fresh)
    }

    fn not_found(&self, key: &str) -> StoreError {
        StoreError::not_found(format!("object {key:?} in s3://{}", self.bucket))
    }

    /// GetObject, of a pinned state when a pin is given.
    async fn read(&self, key: &str, pin: Option<&Pin>) -> StoreResult<Object> {
        validate_blob_key(key)?;
        let (version, if_match) = pin_parts(pin);
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .set_version_id(version)
            .set_if_match(if_match)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if is_gone(&e, pin.is_some()) => return Err(self.not_found(key)),
            Err(e) => return Err(backend_error(BACKEND, "get an object", e)),
        };
        let meta = ObjectMeta {
            key: key.to_owned(),
            size: out.content_length().unwrap_or_default().max(0) as u64,
            etag: clean_etag(out.e_tag()),
            version: out.version_id().map(str::to_owned),
            content_type: out.content_type().map(str::to_owned),
            metadata: decode_metadata(out.metadata()),
        };
        // Read straight into one buffer of the announced size: collecting the chunks and
        // then joining them would hold the object twice.
        let mut stream = out.body;
        let mut buf = Vec::with_capacity(meta.size.min(512 * 1024 * 1024) as usize);
        while let Some(chunk) = stream
            .try_next()
            .await
            .map_err(|e| StoreError::backend(BACKEND, "read an object's body", true, e))?
        {
            buf.extend_from_slice(&chunk);
        }
        let body = Bytes::from(buf);
        Ok(Object {
            meta: ObjectMeta {
                size: body.len() as u64,
                ..meta
            },
            body,
        })
    }

    /// HeadObject, of a pinned state when a pin is given.
    async fn head_with(&self, key: &str, pin: Option<&Pin>) -> StoreResult<ObjectMeta> {
        validate_blob_key(key)?;
        let (version, if_match) = pin_parts(pin);
        let out = match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .set_version_id(version)
            .set_if_match(if_match)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if is_gone(&e, pin.is_some()) => return Err(self.not_found(key)),
            Err(e) => return Err(backend_error(BACKEND, "head an object", e)),
        };
        Ok(ObjectMeta {
            key: key.to_owned(),
            size: out.content_length().unwrap_or_default().max(0) as u64,
            etag: clean_etag(out.e_tag()),
            version: out.version_id().map(str::to_owned),
            content_type: out.content_type().map(str::to_owned),
            metadata: decode_metadata(out.metadata()),
        })
    }
}

fn clean_etag(etag: Option<&str>) -> String {
    etag.unwrap_or_default().trim_matches('"').to_owned()
}

fn encode_metadata(metadata: &BTreeMap<String, String>) -> HashMap<String, String> {
    metadata
        .iter()
        .map(|(k, v)| (k.clone(), utf8_percent_encode(v, META_VALUE).to_string()))
        .collect()
}

fn decode_metadata(metadata: Option<&HashMap<String, String>>) -> BTreeMap<String, String> {
    metadata
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let value = percent_decode_str(v).decode_utf8_lossy().into_owned();
            (k.to_ascii_lowercase(), value)
        })
        .collect()
}

#[async_trait]
impl Blobs for S3Blobs {
    fn describe(&self) -> String {
        format!("s3://{}", self.bucket)
    }

    async fn health(&self) -> StoreResult<()> {
        match self.client.head_bucket().bucket(&self.bucket).send().await {
            Ok(_) => Ok(()),
            Err(e) if status_of(&e) == Some(404) => Err(StoreError::not_found(format!(
                "bucket {} does not exist",
                self.bucket
            ))),
            Err(e) => Err(backend_error(
                BACKEND,
                format!("reach bucket {}", self.bucket),
                e,
            )),
        }
    }

    async fn get(&self, key: &str) -> StoreResult<Object> {
        self.read(key, None).await
    }

    async fn get_pinned(&self, key: &str, pin: &Pin) -> StoreResult<Object> {
        self.read(key, Some(pin)).await
    }

    async fn head_pinned(&self, key: &str, pin: &Pin) -> StoreResult<ObjectMeta> {
        self.head_with(key, Some(pin)).await
    }

    async fn head(&self, key: &str) -> StoreResult<ObjectMeta> {
        self.head_with(key, None).await
    }

    async fn put(&self, key: &str, body: Bytes, options: &PutOptions) -> StoreResult<ObjectMeta> {
        validate_blob_key(key)?;
        validate_metadata(options)?;
        let size = body.len() as u64;
        let out = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(body))
            .set_content_type(options.content_type.clone())
            .set_content_md5(options.content_md5.as_deref().and_then(content_md5))
            .set_metadata(Some(encode_metadata(&options.metadata)))
            .send()
            .await
            .map_err(|e| {
                if code_of(&e).as_deref() == Some("EntityTooLarge") {
                    StoreError::too_large(format!("object {key:?} of {size} bytes"))
                } else {
                    backend_error(BACKEND, "put an object", e)
                }
            })?;
        Ok(ObjectMeta {
            key: key.to_owned(),
            size,
            etag: clean_etag(out.e_tag()),
            version: out.version_id().map(str::to_owned),
            content_type: options.content_type.clone(),
            metadata: options.metadata.clone(),
        })
    }

    async fn list(
        &self,
        prefix: &str,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> StoreResult<ListPage> {
        let limit = limit.clamp(1, 1000) as i32;
        let out = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .max_keys(limit)
            .set_continuation_token(cursor.map(|c| c.0.clone()))
            .send()
            .await
            .map_err(|e| backend_error(BACKEND, "list objects", e))?;
        let objects = out
            .contents()
            .iter()
            .filter_map(|o| {
                Some(ObjectSummary {
                    key: o.key()?.to_owned(),
                    size: o.size().unwrap_or_default().max(0) as u64,
                    etag: clean_etag(o.e_tag()),
                })
            })
            .collect();
        let next = if out.is_truncated() == Some(true) {
            out.next_continuation_token().map(|t| Cursor(t.to_owned()))
        } else {
            None
        };
        Ok(ListPage { objects, next })
    }

    async fn copy(&self, from: &str, pin: Option<&Pin>, to: &str) -> StoreResult<()> {
        validate_blob_key(from)?;
        validate_blob_key(to)?;
        let mut source =
            utf8_percent_encode(&format!("{}/{from}", self.bucket), COPY_SOURCE).to_string();
        let mut if_match = None;
        match pin {
            Some(Pin::Version(v)) => {
                source.push_str("?versionId=");
                source.push_str(&utf8_percent_encode(v, NON_ALPHANUMERIC).to_string());
            }
            Some(Pin::ETag(e)) => {
                // S3 refuses the copy itself when the bytes changed (x-amz-copy-source-
                // if-match); a stand-in may not, so the state is checked first too.
                self.head_with(from, pin).await?;
                if_match = Some(format!("\"{e}\""));
            }
            None => {}
        }
        // Nothing is read back: a HeadObject on `to` would need s3:GetObject there,
        // which a role that only files things away (quarantine/) does not have.
        match self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .key(to)
            .copy_source(source)
            .set_copy_source_if_match(if_match)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_gone(&e, pin.is_some()) => Err(self.not_found(from)),
            Err(e) => Err(backend_error(BACKEND, "copy an object", e)),
        }
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        validate_blob_key(key)?;
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| backend_error(BACKEND, "delete an object", e))?;
        Ok(())
    }

    async fn delete_pinned(&self, key: &str, pin: &Pin) -> StoreResult<()> {
        validate_blob_key(key)?;
        match pin {
            // That version, for good; a later upload stays the current one.
            Pin::Version(v) => match self
                .client
                .delete_object()
                .bucket(&self.bucket)
                .key(key)
                .version_id(v)
                .send()
                .await
            {
                Ok(_) => Ok(()),
                Err(e) if is_gone(&e, true) => Ok(()),
                Err(e) => Err(backend_error(BACKEND, "delete an object version", e)),
            },
            // No versions: delete only while the key still holds the pinned bytes.
            Pin::ETag(_) => match self.head_with(key, Some(pin)).await {
                Ok(_) => self.delete(key).await,
                Err(StoreError::NotFound { .. }) => Ok(()),
                Err(e) => Err(e),
            },
        }
    }

    async fn presign_post(&self, request: &PostRequest) -> StoreResult<Option<PresignedPost>> {
        request.validate()?;
        let region = self
            .client
            .config()
            .region()
            .map(|r| r.to_string())
            .filter(|r| !r.is_empty())
            .ok_or_else(|| {
                StoreError::invalid("no AWS region is configured to sign an upload form for")
            })?;
        let now = SystemTime::now();
        let wanted = now + request.expires_in;
        let credentials = self.signing_credentials(wanted).await?;
        // A form outlives neither its request nor the credentials that signed it.
        let expires_at = credentials.expiry().map_or(wanted, |e| e.min(wanted));
        if expires_at < now + MIN_FORM_LIFETIME.min(request.expires_in) {
            return Err(StoreError::backend(
                BACKEND,
                "sign an upload form",
                true,
                "the credentials expire too soon",
            ));
        }
        let url = match &self.form_endpoint {
            Some(endpoint) => format!("{}/{}", endpoint.trim_end_matches('/'), self.bucket),
            None => format!("https://{}.s3.{region}.amazonaws.com/", self.bucket),
        };
        // Metadata values as `put` stores them, so that `head` reads them back alike.
        let request = PostRequest {
            metadata: encode_metadata(&request.metadata).into_iter().collect(),
            ..request.clone()
        };
        let scope = Scope {
            bucket: &self.bucket,
            region: &region,
            url,
            now,
            expires_at,
        };
        let keys = SigningKeys {
            access_key_id: credentials.access_key_id(),
            secret_access_key: credentials.secret_access_key(),
            session_token: credentials.session_token(),
        };
        presign::presign(&scope, &keys, &request).map(Some)
    }
}

/// The version id and If-Match header a pin asks for.
fn pin_parts(pin: Option<&Pin>) -> (Option<String>, Option<String>) {
    match pin {
        Some(Pin::Version(v)) => (Some(v.clone()), None),
        Some(Pin::ETag(e)) => (None, Some(format!("\"{e}\""))),
        None => (None, None),
    }
}

/// Whether an error says the object (or the pinned state of it) is not there: 404
/// (`NoSuchKey`, `NoSuchVersion`), a failed If-Match (412, the key holds other bytes),
/// or, for a pinned call, a version id S3 cannot parse (400): such a state never existed.
fn is_gone<E: aws_sdk_s3::error::ProvideErrorMetadata>(
    e: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    pinned: bool,
) -> bool {
    let code = code_of(e);
    matches!(status_of(e), Some(404 | 412))
        || matches!(
            code.as_deref(),
            Some("NoSuchKey" | "NoSuchVersion" | "PreconditionFailed")
        )
        || (pinned && status_of(e) == Some(400) && code.as_deref() == Some("InvalidArgument"))
}

/// S3's `Content-MD5` header (base64 of the digest) from a hex MD5.
fn content_md5(hex_md5: &str) -> Option<String> {
    use base64::Engine as _;
    let digest = hex::decode(hex_md5).ok().filter(|d| d.len() == 16)?;
    Some(base64::engine::general_purpose::STANDARD.encode(digest))
}
