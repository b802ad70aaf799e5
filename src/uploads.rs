//! Post uploaded by a person (the console's upload page): each file is staged under a
//! key of its own bytes, the upload is recorded with who sent it and which document
//! each file becomes, and the files are ingested in the background (on the embedded
//! default; on AWS the bucket's event starts the ingest function). The upload's page
//! reads each file's progress to filed, unfiled or quarantined, with the reason.

use std::sync::Arc;

use bytes::Bytes;
use chrono::SecondsFormat;
use serde_json::{Value, json};

use crate::clock::Clock;
use crate::ingest::{Ingest, IngestError, ObjectRef};
use crate::model::{document_id, keys};
use crate::store::{Condition, Item, Key, PostRequest, PresignedPost, StoreError, Stores, Update};

/// Where one uploaded file has got to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    /// Not read yet.
    Processing,
    Filed {
        case_ref: String,
    },
    Unfiled {
        reason: String,
    },
    Quarantined {
        reason: String,
    },
    /// The same bytes were filed before.
    Duplicate,
    /// Reading it failed for a reason that may pass (a code); uploading it again retries.
    Failed {
        reason: String,
    },
}

/// One file of an upload and its state.
#[derive(Debug, Clone)]
pub struct FileProgress {
    pub name: String,
    pub doc_id: String,
    pub state: FileState,
}

/// Why an upload was refused.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("{0}")]
    Ingest(#[from] IngestError),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

impl crate::failure::ErrorCode for UploadError {
    fn code(&self) -> crate::failure::Code {
        match self {
            UploadError::Ingest(e) => e.code(),
            UploadError::Store(e) => e.code(),
        }
    }
}

/// Uploads over the stores.
#[derive(Debug, Clone)]
pub struct Uploads {
    stores: Stores,
    clock: Arc<dyn Clock>,
}

fn doc_id_of(obj: &ObjectRef) -> String {
    let identity = obj.version.as_deref().or(obj.etag.as_deref()).unwrap_or("");
    document_id(&obj.bucket, &obj.key, identity)
}

impl Uploads {
    pub fn new(stores: Stores, clock: Arc<dyn Clock>) -> Uploads {
        Uploads { stores, clock }
    }

    /// Stages `files` (name, bytes) into `bucket` and records the upload as `id`, sent by
    /// `who`. Returns the staged objects, for ingesting.
    pub async fn stage(
        &self,
        ingest: &Ingest,
        id: &str,
        who: &str,
        bucket: &str,
        files: Vec<(String, Bytes)>,
    ) -> Result<Vec<ObjectRef>, UploadError> {
        let mut staged = Vec::with_capacity(files.len());
        let mut listed = Vec::with_capacity(files.len());
        for (name, bytes) in files {
            let obj = ingest.stage_file(&name, bytes, bucket).await?;
            listed.push(json!({"name": name, "doc_id": doc_id_of(&obj)}));
            staged.push(obj);
        }
        let mut item = Item::new();
        item.insert("PK".into(), keys::upload(id).into());
        item.insert("SK".into(), keys::META.into());
        item.insert("who".into(), who.into());
        item.insert(
            "at".into(),
            self.clock
                .now()
                .to_rfc3339_opts(SecondsFormat::Millis, true)
                .into(),
        );
        item.insert("files".into(), Value::Array(listed));
        self.stores.table.put(item, Condition::Absent).await?;
        Ok(staged)
    }

    /// A form with which `who`'s browser sends files for upload `id` straight to the
    /// bucket (a presigned POST pinning the key prefix, the size limit, where to come back
    /// to, and who sent them); `None` where the store offers none (the embedded default,
    /// whose console takes the files itself).
    pub async fn direct_form(
        &self,
        who: &str,
        id: &str,
        redirect: &str,
        max_bytes: u64,
    ) -> Result<Option<PresignedPost>, StoreError> {
        let request = PostRequest {
            key_prefix: keys::direct_upload_prefix(who, id),
            max_bytes,
            redirect: redirect.to_owned(),
            metadata: [("uploaded-by".to_owned(), who.to_owned())].into(),
            expires_in: std::time::Duration::from_secs(15 * 60),
        };
        self.stores.blobs.presign_post(&request).await
    }

    /// Records upload `id` of `who` from a file their browser sent straight to the bucket
    /// (the form's redirect names its `key`): only a key under their own prefix for this
    /// upload, whose object says they sent it. The bucket's event reads it. `false` when
    /// the key is not theirs.
    pub async fn record_direct(
        &self,
        id: &str,
        who: &str,
        bucket: &str,
        key: &str,
    ) -> Result<bool, UploadError> {
        let Some(name) = key.strip_prefix(&keys::direct_upload_prefix(who, id)) else {
            return Ok(false);
        };
        if name.is_empty() || name.contains('/') {
            return Ok(false);
        }
        let meta = match self.stores.blobs.head(key).await {
            Ok(m) => m,
            Err(StoreError::NotFound { .. }) => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        if meta.metadata.get("uploaded-by").map(String::as_str) != Some(who) {
            return Ok(false);
        }
        let obj = ObjectRef {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            version: meta.version.clone(),
            etag: Some(meta.etag.clone()),
            received: None,
        };
        let mut item = Item::new();
        item.insert("PK".into(), keys::upload(id).into());
        item.insert("SK".into(), keys::META.into());
        item.insert("who".into(), who.into());
        item.insert(
            "at".into(),
            self.clock
                .now()
                .to_rfc3339_opts(SecondsFormat::Millis, true)
                .into(),
        );
        item.insert(
            "files".into(),
            json!([{"name": name, "doc_id": doc_id_of(&obj)}]),
        );
        match self.stores.table.put(item, Condition::Absent).await {
            Ok(()) | Err(StoreError::ConditionFailed { .. }) => Ok(true),
            Err(e) => Err(e.into()),
        }
    }

    /// Ingests the staged files one after another, recording any that failed on the
    /// upload (so its page does not wait for them forever).
    pub async fn ingest(&self, ingest: &Ingest, id: &str, staged: Vec<ObjectRef>) {
        for obj in staged {
            if let Err(e) = ingest.ingest(&obj).await {
                let code = crate::failure::ErrorCode::code(&e).as_str();
                tracing::warn!(upload = id, code, "an uploaded file was not ingested");
                let update = Update::new(Key::new(keys::upload(id), keys::META))
                    .set(format!("failed_{}", doc_id_of(&obj)), code)
                    .when(Condition::Exists);
                if self.stores.table.update(update).await.is_err() {
                    tracing::warn!(upload = id, "the failure could not be recorded");
                }
            }
        }
    }

    /// Each file of upload `id` and where it has got to; `None` when there is no such
    /// upload or `who` did not send it.
    pub async fn progress(
        &self,
        id: &str,
        who: &str,
    ) -> Result<Option<Vec<FileProgress>>, StoreError> {
        let Some(upload) = self
            .stores
            .table
            .get(&Key::new(keys::upload(id), keys::META))
            .await?
        else {
            return Ok(None);
        };
        if upload.get("who").and_then(Value::as_str) != Some(who) {
            return Ok(None);
        }
        let files = upload
            .get("files")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut out = Vec::with_capacity(files.len());
        for file in files {
            let text = |k: &str| file.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            let doc_id = text("doc_id");
            let failed = upload
                .get(&format!("failed_{doc_id}"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            let doc = self
                .stores
                .table
                .get(&Key::new(keys::doc(&doc_id), keys::META))
                .await?;
            let field = |k: &str| {
                doc.as_ref()
                    .and_then(|d| d.get(k))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            };
            let state = match (doc.as_ref().map(|_| field("status")), failed) {
                (Some(s), _) if s == "filed" => FileState::Filed {
                    case_ref: field("case_ref"),
                },
                (Some(s), _) if s == "unfiled" => FileState::Unfiled {
                    reason: field("reason"),
                },
                (Some(s), _) if s == "quarantined" => FileState::Quarantined {
                    reason: field("reason"),
                },
                (Some(s), _) if s == "duplicate" => FileState::Duplicate,
                (_, Some(code)) => FileState::Failed { reason: code },
                _ => FileState::Processing,
            };
            out.push(FileProgress {
                name: text("name"),
                doc_id,
                state,
            });
        }
        Ok(Some(out))
    }
}
