//! Ingest, first half: identify the uploaded object, find an earlier record, read and
//! extract it, and store its text; and staging local files as uploads. Records nothing.

use super::*;

impl Ingest {
    /// The first half of `ingest`: identify the object, look for an earlier record,
    /// read and extract it, and store its text. It records nothing (the text is made
    /// again from the same bytes on any redelivery), so a caller may prepare the next
    /// documents while it commits this one (the CLI does), and filing stays in order.
    pub async fn prepare(&self, obj: &ObjectRef) -> Result<Prepared, IngestError> {
        let source = format!("s3://{}/{}", obj.bucket, obj.key);
        let blobs = &self.stores.blobs;
        let table = &self.stores.table;
        let gone = |doc_id: Option<String>| Prepared {
            obj: obj.clone(),
            source: source.clone(),
            pin: None,
            step: Step::Done(Outcome {
                source: source.clone(),
                doc_id,
                case_ref: None,
                status: IngestStatus::Unchanged,
                reason: Some("object_gone".into()),
            }),
        };

        // 1. Identify: the state the event names (its version, else its ETag); every
        //    read, copy and delete below is of that state, never of a later upload to
        //    the same key. An event that names neither pins what is there now.
        let pin = match Pin::of(obj.version.as_deref(), obj.etag.as_deref()) {
            Some(pin) => pin,
            None => match blobs.head(&obj.key).await {
                Ok(h) => Pin::of(h.version.as_deref(), Some(&h.etag)).unwrap_or(Pin::ETag(h.etag)),
                Err(StoreError::NotFound { .. }) => return Ok(gone(None)),
                Err(e) => return Err(e.into()),
            },
        };
        let identity = match &pin {
            Pin::Version(v) => v,
            Pin::ETag(e) => e,
        };
        let doc_id = document_id(&obj.bucket, &obj.key, identity);
        // The record keeps the state it describes.
        let mut pinned = obj.clone();
        match &pin {
            Pin::Version(v) => pinned.version = Some(v.clone()),
            Pin::ETag(e) => pinned.etag = pinned.etag.clone().or_else(|| Some(e.clone())),
        }
        let prepared = |step| Prepared {
            obj: pinned.clone(),
            source: source.clone(),
            pin: Some(pin.clone()),
            step,
        };

        // 2. Seen before? Then the commit finishes what a crash may have left.
        if let Some(existing) = table.get(&Key::new(keys::doc(&doc_id), keys::META)).await? {
            return Ok(prepared(Step::Seen { doc_id, existing }));
        }
        let head = match blobs.head_pinned(&obj.key, &pin).await {
            Ok(h) => h,
            Err(StoreError::NotFound { .. }) => return Ok(gone(Some(doc_id))),
            Err(e) => return Err(e.into()),
        };

        // 3. Too large to read: quarantine without downloading.
        if head.size > self.settings.max_object_bytes {
            return Ok(prepared(Step::Quarantine {
                doc_id,
                meta: None,
                reason: "too_large".into(),
                move_original: head.size <= MAX_COPY_BYTES,
            }));
        }

        // 4. Read and extract (on a thread with a big stack, bounded in time and memory),
        //    within the budget of bytes in flight.
        let total = self.in_flight_permits();
        let wanted = (head.size.div_ceil(PERMIT_BYTES) as u32).clamp(1, total);
        let _permit = self
            .in_flight
            .acquire_many(wanted)
            .await
            .map_err(|e| IngestError::Task(e.to_string()))?;
        let object = match blobs.get_pinned(&obj.key, &pin).await {
            Ok(object) => object,
            Err(StoreError::NotFound { .. }) => return Ok(gone(Some(doc_id))),
            Err(e) => return Err(e.into()),
        };
        let bytes: Bytes = object.body;
        let sha = sha256_hex(&bytes);
        let (meta, text, unreadable) = self
            .read_on_thread(bytes, &source, &sha, self.ingest_scanner())
            .await?;

        if unreadable {
            let reason = meta
                .warnings
                .iter()
                .map(|w| w.code())
                .collect::<Vec<_>>()
                .join(",");
            return Ok(prepared(Step::Quarantine {
                doc_id,
                meta: Some(Box::new(meta)),
                reason,
                move_original: true,
            }));
        }
        // 5. The text, for search. It is made again from the same bytes on a redelivery,
        //    so it is written here, while the caller may still be filing the previous
        //    document, and always before the record that points at it.
        let request_text = self
            .is_new_foi_request(&meta.doc_type)
            .then(|| text.chars().take(20_000).collect::<String>());
        // A document left for OCR elsewhere may have been recorded, and its scanned pages
        // read and stored, by a racing delivery while this one read it: its text without
        // them must not go over theirs.
        if meta.warnings.contains(&Warning::OcrPending)
            && let Some(existing) = table.get(&Key::new(keys::doc(&doc_id), keys::META)).await?
        {
            return Ok(prepared(Step::Seen { doc_id, existing }));
        }
        self.stores
            .blobs
            .put(
                &keys::text(&doc_id),
                Bytes::from(text),
                &PutOptions::content_type("text/plain; charset=utf-8").reproducible(),
            )
            .await?;
        Ok(prepared(Step::Read {
            doc_id,
            sha,
            meta: Box::new(meta),
            request_text,
        }))
    }

    /// Puts a local file's bytes in the inbox (unless the same bytes are already there)
    /// and says where they are, as an upload event would.
    pub async fn stage(
        &self,
        key: &str,
        bytes: Bytes,
        bucket: &str,
    ) -> Result<ObjectRef, IngestError> {
        let etag = crate::store::md5_hex(&bytes);
        self.stage_as(key, bytes, bucket, etag).await
    }

    /// Stages a local file given by name (its path below the folder given, or its file
    /// name) under a key of its own bytes (`keys::staged`): two different files never
    /// overwrite each other, and the same file again is `unchanged`.
    pub async fn stage_file(
        &self,
        name: &str,
        bytes: Bytes,
        bucket: &str,
    ) -> Result<ObjectRef, IngestError> {
        let etag = crate::store::md5_hex(&bytes);
        let key = keys::staged(&etag, name);
        self.stage_as(&key, bytes, bucket, etag).await
    }

    pub(super) async fn stage_as(
        &self,
        key: &str,
        bytes: Bytes,
        bucket: &str,
        etag: String,
    ) -> Result<ObjectRef, IngestError> {
        // Already ingested from these very bytes (even if since moved to quarantine)?
        // Then write nothing.
        let known = self
            .stores
            .table
            .get(&Key::new(
                keys::doc(&document_id(bucket, key, &etag)),
                keys::META,
            ))
            .await?
            .is_some();
        let same = known || matches!(self.stores.blobs.head(key).await, Ok(h) if h.etag == etag);
        if !same {
            // Stored with the type its bytes show, as a sender's upload names it. A staged
            // copy of a file the user still has: no need to wait for the disk.
            let content_type = crate::extract::detect(&bytes).as_str();
            self.stores
                .blobs
                .put(
                    key,
                    bytes,
                    &PutOptions::content_type(content_type)
                        .reproducible()
                        .with_content_md5(etag.clone()),
                )
                .await?;
        }
        Ok(ObjectRef {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            version: None,
            etag: Some(etag),
            received: None,
        })
    }
}

impl Ingest {
    /// Reads a document on the extraction threads (extraction, OCR by `scanner`,
    /// analysis): its metadata, its text, and whether it could not be read at all.
    pub(super) async fn read_on_thread(
        &self,
        bytes: Bytes,
        source: &str,
        sha: &str,
        scanner: crate::scanning::Scanner,
    ) -> Result<(DocumentMetadata, String, bool), IngestError> {
        let limits = self.settings.limits.clone();
        let rules = self.rules;
        let (src, sha) = (source.to_owned(), sha.to_owned());
        on_extract_thread(move || {
            let (extracted, meta) =
                crate::reading::read_document(&bytes, &src, &sha, &limits, rules, &scanner);
            let unreadable =
                extracted.unreadable() || meta.warnings.contains(&Warning::InternalError);
            (meta, extracted.text, unreadable)
        })
        .await
        .map_err(IngestError::Task)
    }
}
