//! Refusing a document: copy the pinned upload to `quarantine/<doc id>/<key>`, record
//! why, then delete that version of the upload (each step repeatable after a crash).

use super::*;

impl Ingest {
    pub(super) async fn quarantine(
        &self,
        obj: &ObjectRef,
        doc_id: &str,
        source: &str,
        meta: Option<&DocumentMetadata>,
        how: Quarantine<'_>,
    ) -> Result<Outcome, IngestError> {
        let blobs = &self.stores.blobs;
        let now = self.now();
        let reason = how.reason;
        // The exact bytes refused, under their own key; the record is written only once
        // the copy exists, and the original leaves the inbox only once both do.
        let target = how
            .move_original
            .then(|| keys::quarantine(doc_id, &obj.key));
        if let Some(target) = &target {
            match blobs.copy(&obj.key, Some(how.pin), target).await {
                Ok(()) => {}
                Err(StoreError::NotFound { .. }) => {
                    return Ok(Outcome {
                        source: source.into(),
                        doc_id: Some(doc_id.into()),
                        case_ref: None,
                        status: IngestStatus::Unchanged,
                        reason: Some("object_gone".into()),
                    });
                }
                Err(e) => return Err(e.into()),
            }
        }
        let mut doc = self.document_item(
            obj,
            doc_id,
            source,
            meta,
            Filing {
                status: "quarantined",
                case_ref: None,
                received: &now,
            },
        );
        doc.insert("quarantine_key".into(), json!(target));
        doc.insert("reason".into(), json!(reason));
        let ops = vec![
            TxOp::Put {
                item: doc,
                condition: Condition::Absent,
            },
            self.audit(
                keys::doc(doc_id),
                &now,
                1,
                "quarantined",
                json!({"reason": reason, "quarantine_key": target, "source": source}),
            ),
        ];
        match self.stores.table.transact(ops).await {
            Ok(()) | Err(StoreError::ConditionFailed { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        if target.is_some() {
            self.finish_quarantine(&obj.key, how.pin).await?;
        }
        tracing::warn!(doc_id, reason, "document quarantined");
        Ok(Outcome {
            source: source.into(),
            doc_id: Some(doc_id.into()),
            case_ref: None,
            status: IngestStatus::Quarantined,
            reason: Some(reason.into()),
        })
    }

    /// The last step of a move to quarantine: the refused state leaves the inbox (only
    /// once the copy and the record exist, which the caller knows). A later upload to the
    /// same key stays; nothing under `quarantine/` is read back (the ingest role may not).
    pub(super) async fn finish_quarantine(&self, key: &str, pin: &Pin) -> Result<(), IngestError> {
        self.stores.blobs.delete_pinned(key, pin).await?;
        Ok(())
    }
}
