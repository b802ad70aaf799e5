//! The acknowledgement a filed document calls for (its type's rules say which), handed
//! to the letter sink; safe to repeat, since the request id names the letter.

use super::*;

impl Ingest {
    /// The acknowledgement a filed document of this type gets, from its rules.
    pub(super) fn acknowledgement_of(&self, doc_type: &str) -> Option<Acknowledgement> {
        self.rules
            .doc_type(doc_type)
            .and_then(DocTypeRule::acknowledgement)
    }

    /// Submits the acknowledgement a filed document calls for (its type's rules say which:
    /// a letter of claim's, an FOI request's), when a letter sink is set. Safe to repeat:
    /// the request id names the letter, so a redelivery finishes what a crash after filing
    /// left undone. A document that cannot be acknowledged (no sender address, say) is
    /// logged by code and left to its case handler; only a transient failure of the sink
    /// is an error.
    /// `doc` is the document's item when the caller holds it; otherwise it is read, and
    /// only for a type that is acknowledged.
    pub(super) async fn acknowledge(
        &self,
        doc_id: &str,
        doc_type: &str,
        doc: Option<&Item>,
    ) -> Result<(), IngestError> {
        use crate::acknowledge::{Signatory, claim_acknowledgement, foi_acknowledgement};
        let Some(sink) = &self.letters else {
            return Ok(());
        };
        if self.acknowledgement_of(doc_type).is_none() {
            return Ok(());
        }
        let read;
        let doc = match doc {
            Some(doc) => doc,
            None => {
                let key = Key::new(keys::doc(doc_id), keys::META);
                match self.stores.table.get(&key).await? {
                    Some(item) => {
                        read = item;
                        &read
                    }
                    None => return Ok(()),
                }
            }
        };
        if doc.get("status").and_then(Value::as_str) != Some("filed") {
            return Ok(());
        }
        let today = self.clock.now().date_naive();
        let stored_type = doc.get("doc_type").and_then(Value::as_str);
        let prepared = match stored_type.and_then(|t| self.acknowledgement_of(t)) {
            Some(Acknowledgement::Claim) => {
                let text_key = keys::text(doc_id);
                let text = match self.stores.blobs.get(&text_key).await {
                    Ok(obj) => String::from_utf8_lossy(&obj.body).into_owned(),
                    Err(StoreError::NotFound { .. }) => String::new(),
                    Err(e) => return Err(e.into()),
                };
                claim_acknowledgement(doc, &text, today, &Signatory::claims(), self.rules)
            }
            Some(Acknowledgement::Foi) => {
                let Some(reference) = doc.get("case_ref").and_then(Value::as_str) else {
                    return Ok(());
                };
                let foi = crate::foi::service::Foi {
                    stores: self.stores.clone(),
                    clock: self.clock.clone(),
                    calendar: self.settings.calendar.clone(),
                    actor: self.settings.actor.clone(),
                };
                match foi.get(reference).await {
                    Ok(Some(case)) => foi_acknowledgement(&case, today, &Signatory::foi()),
                    Ok(None) => return Ok(()),
                    Err(crate::foi::service::FoiError::Store(e)) => return Err(e.into()),
                    Err(e) => {
                        tracing::warn!(doc_id, error = %e, "no FOI acknowledgement");
                        return Ok(());
                    }
                }
            }
            None => return Ok(()),
        };
        let request = match prepared {
            Ok(request) => request,
            Err(e) => {
                tracing::info!(doc_id, reason = %e, "no acknowledgement prepared");
                return Ok(());
            }
        };
        match sink.submit(&request).await {
            Ok(()) => {
                tracing::info!(doc_id, template = %request.template, "acknowledgement requested");
                Ok(())
            }
            Err(SendError::Store(e)) => Err(e.into()),
            // Busy (a clash that did not settle): try again with the delivery.
            Err(e) if e.is_retryable() => Err(IngestError::Send(e.code())),
            Err(e) => {
                tracing::warn!(doc_id, code = %e.code(), "acknowledgement refused");
                Ok(())
            }
        }
    }
}
