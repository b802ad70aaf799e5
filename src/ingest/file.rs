//! Ingest, second half: filing a prepared document in one transaction (its case, the
//! inbox, the hash index, any case it opens, the audit event), and filing the documents
//! that were waiting for a case when it opens.

use super::*;
use crate::cases::suggest::{Clues, TEXT_READ_BYTES};

impl Ingest {
    /// The second half of `ingest`: record what `prepare` found (file the document in
    /// one transaction, or quarantine it), then request its acknowledgement.
    pub async fn commit(&self, prepared: Prepared) -> Result<Outcome, IngestError> {
        let Prepared {
            obj,
            source,
            pin,
            step,
        } = prepared;
        let obj = &obj;
        let table = &self.stores.table;
        let (doc_id, sha, meta, request_text) = match step {
            Step::Done(outcome) => return Ok(outcome),
            Step::Seen { doc_id, existing } => {
                let status = existing.get("status").and_then(Value::as_str).unwrap_or("");
                let moved = existing.get("quarantine_key").is_some_and(Value::is_string);
                if let (true, true, Some(pin)) = (status == "quarantined", moved, &pin) {
                    self.finish_quarantine(&obj.key, pin).await?;
                }
                // What a crash after the record may have left: the documents waiting for
                // the case this one opened, or this one's own case, opened since.
                if existing.get("opened_case").and_then(Value::as_bool) == Some(true)
                    && let Some(reference) = existing.get("case_ref").and_then(Value::as_str)
                {
                    self.file_waiting(reference).await?;
                }
                if status == "unfiled"
                    && let Some(awaited) = existing.get("awaiting_case").and_then(Value::as_str)
                    && table
                        .get(&Key::new(keys::case(awaited), keys::META))
                        .await?
                        .is_some()
                {
                    self.file_one_waiting(&doc_id, awaited).await?;
                }
                let doc_type = existing.get("doc_type").and_then(Value::as_str);
                self.acknowledge(&doc_id, doc_type.unwrap_or(""), Some(&existing))
                    .await?;
                self.request_scan(&doc_id, &existing).await?;
                return Ok(unchanged(source, doc_id, &existing));
            }
            Step::Quarantine {
                doc_id,
                meta,
                reason,
                move_original,
            } => {
                let Some(pin) = &pin else {
                    return Err(IngestError::Task("a quarantine without a pin".into()));
                };
                let quarantine = Quarantine {
                    pin,
                    reason: &reason,
                    move_original,
                };
                return self
                    .quarantine(obj, &doc_id, &source, meta.as_deref(), quarantine)
                    .await;
            }
            Step::Read {
                doc_id,
                sha,
                meta,
                request_text,
            } => (doc_id, sha, meta, request_text),
        };

        // 6. File it, in one transaction; a lost race is decided again.
        for _ in 0..4 {
            match self
                .file_new(
                    obj,
                    &doc_id,
                    &source,
                    &sha,
                    &meta,
                    request_text.as_deref(),
                    None,
                )
                .await
            {
                Ok(outcome) => {
                    self.acknowledge(&doc_id, &meta.doc_type, None).await?;
                    if meta.warnings.contains(&Warning::OcrPending) {
                        self.request_scan_of(&doc_id).await?;
                    }
                    return Ok(outcome);
                }
                Err(IngestError::Store(StoreError::ConditionFailed { .. })) => {
                    if let Some(existing) =
                        table.get(&Key::new(keys::doc(&doc_id), keys::META)).await?
                    {
                        let doc_type = existing.get("doc_type").and_then(Value::as_str);
                        self.acknowledge(&doc_id, doc_type.unwrap_or(""), Some(&existing))
                            .await?;
                        self.request_scan(&doc_id, &existing).await?;
                        return Ok(unchanged(source, doc_id, &existing));
                    }
                }
                // The store refuses this record for good (too large, a value it cannot
                // hold): retrying cannot help, so the document is refused with its
                // reason, kept whole in quarantine, rather than sent to the DLQ.
                Err(e) if !e.is_retryable() => {
                    tracing::warn!(
                        doc_id,
                        code = %e.code(),
                        "the store refused the document's record"
                    );
                    let Some(pin) = &pin else {
                        return Err(e);
                    };
                    let quarantine = Quarantine {
                        pin,
                        reason: "store_refused",
                        move_original: true,
                    };
                    return self
                        .quarantine(obj, &doc_id, &source, None, quarantine)
                        .await;
                }
                Err(e) => return Err(e),
            }
        }
        Err(IngestError::Store(StoreError::Backend {
            backend: "ingest",
            op: "file a document".into(),
            retryable: true,
            source: "conflicting writes did not settle".into(),
        }))
    }

    /// Whether a document of this type that belongs to no case yet opens a case of `kind`:
    /// its rules say it opens one, and `kind` is its family's.
    pub(super) fn opens_case(&self, doc_type: &str, kind: CaseKind) -> bool {
        self.rules
            .doc_type(doc_type)
            .is_some_and(|t| t.opens_case() && case_kind_of(t.family()) == Some(kind))
    }

    /// Whether a document of this type is a new FOI request: it opens an FOI case, under
    /// the next FOI reference postroom issues rather than one it quotes.
    pub(super) fn is_new_foi_request(&self, doc_type: &str) -> bool {
        self.rules
            .doc_type(doc_type)
            .is_some_and(|t| t.family() == Family::Foi && t.opens_case())
    }

    /// The document item (everything filing needs to show and search).
    pub(super) fn document_item(
        &self,
        obj: &ObjectRef,
        doc_id: &str,
        source: &str,
        meta: Option<&DocumentMetadata>,
        filing: Filing<'_>,
    ) -> Item {
        let mut it = item(json!({
            "PK": keys::doc(doc_id),
            "SK": keys::META,
            "doc_id": doc_id,
            "source": source,
            "bucket": obj.bucket,
            "key": obj.key,
            "status": filing.status,
            "case_ref": filing.case_ref,
            "received": filing.received,
            "object_version": obj.version,
            "etag": obj.etag,
            "version": 1,
        }));
        if let Some(meta) = meta {
            it.insert("doc_type".into(), json!(meta.doc_type));
            it.insert("document_date".into(), json!(meta.document_date));
            it.insert("sha256".into(), json!(meta.sha256));
            it.insert("text_key".into(), json!(keys::text(doc_id)));
            let mut metadata = serde_json::to_value(meta).unwrap_or(Value::Null);
            // Keep the item well under the store's 400 KB: attachments' details stay in
            // their own text; their count and types are kept.
            if let Some(atts) = metadata
                .get_mut("attachments")
                .and_then(Value::as_array_mut)
                && serde_json::to_string(atts).map_or(0, |s| s.len()) > 100_000
            {
                let brief: Vec<Value> = atts
                    .iter()
                    .map(|a| json!({"source": a["source"], "doc_type": a["doc_type"]}))
                    .collect();
                *atts = brief;
            }
            if trim_to_fit(&mut metadata, MAX_METADATA_BYTES)
                && let Some(warnings) = metadata.get_mut("warnings").and_then(Value::as_array_mut)
            {
                warnings.push(json!("record_trimmed"));
            }
            it.insert("metadata".into(), metadata);
        }
        it
    }

    pub(super) fn audit(&self, pk: String, at: &str, seq: u32, what: &str, details: Value) -> TxOp {
        crate::model::audit_event(pk, at, seq, &self.settings.actor, what, details)
    }

    /// Files a document read for the first time (`prior` is `None`: its record, hash
    /// entry and first audit event are written only if absent), or again: an unfiled
    /// document whose scanned pages OCR has now read (`prior` is its record, which is
    /// replaced only if unchanged since; `ocr_read` is audited instead of
    /// `ingested_*`). Either way the case is decided by the same rules.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn file_new(
        &self,
        obj: &ObjectRef,
        doc_id: &str,
        source: &str,
        sha: &str,
        meta: &DocumentMetadata,
        request_text: Option<&str>,
        prior: Option<&Item>,
    ) -> Result<Outcome, IngestError> {
        let table = &self.stores.table;
        let now = self.now();
        // When the document was recorded: now, or when it first was (its inbox entry's key).
        let received = prior
            .and_then(|p| p.get("received"))
            .and_then(Value::as_str)
            .map_or_else(|| now.clone(), str::to_owned);
        let mut ops = Vec::new();

        // The same bytes already ingested under another key? (A document read again has
        // its own hash entry already.)
        let content_key = Key::new(keys::content(sha), keys::META);
        if prior.is_none()
            && let Some(first) = table.get(&content_key).await?
        {
            let original = first
                .get("doc_id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let mut doc = self.document_item(
                obj,
                doc_id,
                source,
                Some(meta),
                Filing {
                    status: "duplicate",
                    case_ref: None,
                    received: &now,
                },
            );
            doc.insert("duplicate_of".into(), json!(original));
            ops.push(TxOp::Put {
                item: doc,
                condition: Condition::Absent,
            });
            ops.push(self.audit(
                keys::doc(doc_id),
                &now,
                1,
                "ingested_duplicate",
                json!({"duplicate_of": original, "source": source}),
            ));
            table.transact(ops).await?;
            tracing::info!(doc_id, duplicate_of = %original, "duplicate document");
            return Ok(Outcome {
                source: source.into(),
                doc_id: Some(doc_id.into()),
                case_ref: None,
                status: IngestStatus::Duplicate,
                reason: None,
            });
        }
        if prior.is_none() {
            ops.push(TxOp::Put {
                item: item(json!({"PK": keys::content(sha), "SK": keys::META, "doc_id": doc_id})),
                condition: Condition::Absent,
            });
        }

        // Which case?
        let mut case_ref = meta.references.case_ref.clone();
        let mut opened = false;
        let mut reason = None;
        let mut awaiting = None;
        // An FOI reference quoted in a new request that postroom never issued (another
        // authority's, or one made up) opens nothing: the request gets the next number
        // and the quoted one is kept as what the requester wrote.
        let mut quoted = None;
        let new_foi_request = self.is_new_foi_request(&meta.doc_type);
        if new_foi_request
            && let Some(reference) = &case_ref
            && CaseKind::of_reference(reference) == CaseKind::Foi
            && table
                .get(&Key::new(keys::case(reference), keys::META))
                .await?
                .is_none()
        {
            quoted = case_ref.take();
        }
        if case_ref.is_none() && new_foi_request {
            // A new request from the public: issue the next FOI reference.
            let (reference, counter) =
                crate::foi::service::next_reference(&self.stores, self.settings.first_foi_number)
                    .await?;
            ops.push(counter);
            case_ref = Some(reference);
            opened = true;
        }
        if let Some(reference) = &case_ref {
            let case_key = Key::new(keys::case(reference), keys::META);
            let exists = if opened {
                false
            } else {
                table.get(&case_key).await?.is_some()
            };
            let kind = CaseKind::of_reference(reference);
            let opens = opened || self.opens_case(&meta.doc_type, kind);
            if exists {
                ops.push(TxOp::Check {
                    key: case_key,
                    condition: Condition::Exists,
                });
            } else if opens {
                opened = true;
                let mut case = crate::cases::listing::with_listing(item(json!({
                    "PK": keys::case(reference),
                    "SK": keys::META,
                    "case_ref": reference,
                    "kind": kind,
                    "status": "open",
                    "scheme": meta.clinical.scheme,
                    // What claims statistics count (FOI answers): from the opening document.
                    "specialty": meta.clinical.specialty,
                    "cause": meta.clinical.cause,
                    "injury": meta.clinical.injury,
                    "year": meta.document_date.map(|d| d.format("%Y").to_string()).unwrap_or_else(|| now[..4].to_owned()),
                    "opened": now,
                    "opened_by": doc_id,
                    "version": 1,
                })));
                if let Some(quoted) = &quoted {
                    case.insert("quoted_reference".into(), json!(quoted));
                }
                if kind == CaseKind::Foi {
                    // The request's clock starts on the day it reached postroom (the
                    // upload event's time, else now), in UK time; the date its sender
                    // wrote is kept as written, never trusted for the clock.
                    let arrived = obj.received.unwrap_or_else(|| self.clock.now());
                    let received = crate::calendar::uk_local_date(arrived);
                    let text = request_text.unwrap_or_default();
                    let title = crate::foi::service::title_of(text);
                    // Never without its clock: a date the calendar cannot count from is
                    // still listed, flagged (`clock_error`).
                    let opening = crate::foi::service::opening_fields(
                        reference,
                        received,
                        meta.document_date,
                        meta.parties.requester.as_deref(),
                        text,
                        &title,
                        &self.settings.calendar,
                    );
                    if let Some(code) = opening.clock_error {
                        tracing::warn!(case_ref = %reference, code, "FOI clock not computed: listed, flagged");
                    }
                    case.extend(opening.fields);
                    let requester = meta.parties.requester.as_deref().unwrap_or("");
                    let (duplicate_of, dup_op) = crate::foi::service::duplicate_check(
                        &self.stores,
                        requester,
                        text,
                        reference,
                    )
                    .await?;
                    if let Some(first) = duplicate_of {
                        case.insert("duplicate_of".into(), json!(first));
                    }
                    ops.extend(dup_op);
                }
                ops.push(TxOp::Put {
                    item: case,
                    condition: Condition::Absent,
                });
                ops.push(self.audit(
                    keys::case(reference),
                    &now,
                    0,
                    "case_opened",
                    json!({"doc_id": doc_id, "doc_type": meta.doc_type}),
                ));
            } else {
                // Not open yet: the document waits for it, and is filed when it opens.
                // The case must still be absent when this commits, so an opener racing
                // this document either sees it waiting or makes it decide again.
                reason = Some("case_not_found".to_owned());
                ops.push(TxOp::Check {
                    key: case_key,
                    condition: Condition::Absent,
                });
                awaiting = case_ref.take();
            }
        } else {
            reason = Some("no_reference".to_owned());
        }
        // No reference of ours: suggested cases, or the one case a court or NHS number
        // names, which files it by rule (see `cases::suggest`).
        let mut text = None;
        let mut suggestions = Vec::new();
        let mut by_rule = None;
        if reason.as_deref() == Some("no_reference") {
            text = Some(self.stored_text(doc_id).await);
            let clues = Clues::read(meta, text.as_ref().and_then(Option::as_deref));
            if !clues.is_empty() {
                let matched = crate::cases::suggest::suggest(table.as_ref(), &clues).await?;
                if let Some(rule) = matched
                    .rule
                    .filter(|_| self.may_file_by_rule(&meta.doc_type))
                {
                    ops.push(TxOp::Check {
                        key: Key::new(keys::case(&rule.case_ref), keys::META),
                        condition: Condition::Exists,
                    });
                    case_ref = Some(rule.case_ref);
                    by_rule = Some(rule.key);
                    reason = None;
                } else {
                    suggestions = matched.suggestions;
                }
            }
        }

        let status = if case_ref.is_some() {
            IngestStatus::Filed
        } else {
            IngestStatus::Unfiled
        };
        let date = meta.document_date.map(|d| d.to_string());
        let mut doc = self.document_item(
            obj,
            doc_id,
            source,
            Some(meta),
            Filing {
                status: status.as_str(),
                case_ref: case_ref.as_deref(),
                received: &received,
            },
        );
        if opened {
            doc.insert("opened_case".into(), json!(true));
        }
        if let Some(quoted) = &quoted {
            doc.insert("quoted_reference".into(), json!(quoted));
        }
        if let Some(awaited) = &awaiting {
            doc.insert("awaiting_case".into(), json!(awaited));
            ops.push(TxOp::Put {
                item: item(json!({
                    "PK": keys::waiting(awaited),
                    "SK": doc_id,
                    "doc_id": doc_id,
                    "received": received,
                })),
                condition: Condition::None,
            });
        }
        let (doc, condition) = match prior {
            None => (doc, Condition::Absent),
            Some(prior) => self.read_again(prior, doc, &now, &mut ops),
        };
        ops.push(TxOp::Put {
            item: doc,
            condition,
        });
        match &case_ref {
            Some(reference) => ops.push(TxOp::Put {
                item: item(json!({
                    "PK": keys::case(reference),
                    "SK": keys::case_doc(date.as_deref(), doc_id),
                    "doc_id": doc_id,
                    "doc_type": meta.doc_type,
                    "document_date": date,
                    "source": source,
                })),
                condition: Condition::Absent,
            }),
            None => ops.push(TxOp::Put {
                item: item(json!({
                    "PK": keys::UNFILED,
                    "SK": keys::unfiled(&received, doc_id),
                    "doc_id": doc_id,
                    "doc_type": meta.doc_type,
                    "source": source,
                    "reason": reason,
                    "suggestions": suggestions,
                })),
                // A document read again keeps its place in the inbox (the same key).
                condition: if prior.is_some() {
                    Condition::None
                } else {
                    Condition::Absent
                },
            }),
        }
        match prior {
            None => ops.push(self.audit(
                keys::doc(doc_id),
                &now,
                1,
                if case_ref.is_some() { "ingested_filed" } else { "ingested_unfiled" },
                json!({"case_ref": case_ref, "doc_type": meta.doc_type, "opened_case": opened, "source": source}),
            )),
            // Its own sequence numbers: never the key of an event ingest recorded in the
            // same millisecond.
            Some(_) => ops.push(self.audit(
                keys::doc(doc_id),
                &now,
                3,
                "ocr_read",
                json!({"case_ref": case_ref, "doc_type": meta.doc_type, "opened_case": opened, "status": status.as_str(), "text_confidence": meta.text_confidence}),
            )),
        }
        if let (Some(kind), Some(reference)) = (by_rule, &case_ref) {
            // Which kind of key decided it, never its value.
            ops.push(self.audit(
                keys::doc(doc_id),
                &now,
                if prior.is_some() { 4 } else { 2 },
                "filed_by_rule",
                json!({"case_ref": reference, "key": kind.as_str()}),
            ));
        }
        table.transact(ops).await?;
        tracing::info!(
            doc_id,
            case_ref = case_ref.as_deref().unwrap_or("-"),
            status = status.as_str(),
            read_again = prior.is_some(),
            "document ingested"
        );
        if let Some(reference) = &case_ref {
            // The case learns the keys the document carries; the document is filed
            // whatever happens here (a key not recorded only loses a suggestion).
            let text = match text {
                Some(text) => text,
                None => self.stored_text(doc_id).await,
            };
            let learned = Clues::read(meta, text.as_deref()).learned_keys();
            if let Err(e) =
                crate::cases::matching::record_keys(table.as_ref(), reference, &learned).await
            {
                tracing::warn!(doc_id, error = %e, "the case's keys were not recorded");
            }
        }
        if let (true, Some(reference)) = (opened, &case_ref) {
            self.file_waiting(reference).await?;
        }
        Ok(Outcome {
            source: source.into(),
            doc_id: Some(doc_id.into()),
            case_ref,
            status,
            reason,
        })
    }

    /// The document's text as stored by `prepare`, for the keys it carries; `None` when
    /// it cannot be read (the document is filed on its metadata alone).
    pub(super) async fn stored_text(&self, doc_id: &str) -> Option<String> {
        match self.stores.blobs.get(&keys::text(doc_id)).await {
            Ok(object) => {
                let head = &object.body[..object.body.len().min(TEXT_READ_BYTES)];
                Some(String::from_utf8_lossy(head).into_owned())
            }
            Err(e) => {
                tracing::warn!(doc_id, error = %e, "the document's text was not read for matching");
                None
            }
        }
    }

    /// Whether a document of this type may be filed by rule: a claim's document or
    /// correspondence (never an FOI request, an appeal or a practitioner's file).
    fn may_file_by_rule(&self, doc_type: &str) -> bool {
        self.rules
            .doc_type(doc_type)
            .is_none_or(|t| matches!(t.family(), Family::Claims | Family::General))
    }

    /// Files every document waiting for a case that has just opened (each once, audited
    /// as `filed_on_case_open`; one filed meanwhile, by hand or by a racing delivery, is
    /// left as it is).
    pub(super) async fn file_waiting(&self, case_ref: &str) -> Result<(), IngestError> {
        let waiting = self
            .stores
            .table
            .query_all(&crate::store::Query::new(keys::waiting(case_ref)))
            .await?;
        for entry in waiting {
            if let Some(doc_id) = entry.get("doc_id").and_then(Value::as_str) {
                self.file_one_waiting(doc_id, case_ref).await?;
            }
        }
        Ok(())
    }

    pub(super) async fn file_one_waiting(
        &self,
        doc_id: &str,
        case_ref: &str,
    ) -> Result<(), IngestError> {
        use crate::cases::CaseError;
        let table = self.stores.table.as_ref();
        let filed = crate::cases::file_unfiled(
            table,
            doc_id,
            case_ref,
            &self.settings.actor,
            self.clock.as_ref(),
            "filed_on_case_open",
        )
        .await;
        match filed {
            Ok(()) => {
                tracing::info!(doc_id, case_ref, "waiting document filed");
                self.keep_filing(doc_id).await
            }
            // Filed meanwhile (a racing delivery, or by hand): nothing left to do, but
            // the waiting entry goes.
            Err(CaseError::NotUnfiled { .. } | CaseError::NoDocument(_))
            | Err(CaseError::Store(StoreError::ConditionFailed { .. })) => {
                table
                    .delete(&Key::new(keys::waiting(case_ref), doc_id), Condition::None)
                    .await?;
                Ok(())
            }
            Err(CaseError::Store(e)) => Err(e.into()),
            Err(CaseError::NoCase(_)) => Ok(()),
        }
    }
}
