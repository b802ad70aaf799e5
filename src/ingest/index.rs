//! Ingest's feed of the search index: a document's record and stored text become a
//! `SearchDoc`, indexed once the document is recorded (filed or unfiled), refiled when
//! it is filed later, removed when it is quarantined, and rebuilt for every document by
//! `reindex` (`postroom search --reindex`). Each step reads what the store holds, so a
//! redelivery or a rerun indexes what a crash left out; the same version writes nothing.

use std::collections::HashSet;

use super::*;
use crate::store::search::is_iso_day;
use crate::store::{Filing, Indexed, Search, SearchDoc};

/// Documents indexed in one write by `reindex`.
const REINDEX_BATCH: usize = 200;

/// What `reindex` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Reindexed {
    /// Documents found in the store (filed or unfiled: those the index holds).
    pub documents: usize,
    pub written: usize,
    pub refiled: usize,
    pub unchanged: usize,
    /// Handed to the index's writer (on AWS), applied once `refresh` returns.
    pub queued: usize,
    /// Index entries of documents no longer stored (or now quarantined), removed.
    pub removed: usize,
    /// Documents whose text could not be read (indexed on their title alone).
    pub without_text: usize,
}

/// Whether a document of this status belongs in the index: filed or waiting in the
/// inbox; never a duplicate (its original is indexed) nor a quarantined one.
fn indexable(record: &Item) -> bool {
    matches!(
        record.get("status").and_then(Value::as_str),
        Some("filed" | "unfiled")
    )
}

/// Where a document is filed, from its record.
pub(crate) fn filing_of(record: &Item, rules: &Rules) -> Filing {
    let text = |name: &str| record.get(name).and_then(Value::as_str).map(str::to_owned);
    let doc_type = text("doc_type");
    Filing {
        case_ref: text("case_ref"),
        family: doc_type
            .as_deref()
            .and_then(|t| rules.family_of(t))
            .map(|f| f.as_str().to_owned()),
        doc_type,
    }
}

/// The index's view of a document: its record and its text.
pub(crate) fn search_doc(record: &Item, text: String, rules: &Rules) -> Option<SearchDoc> {
    let field = |name: &str| record.get(name).and_then(Value::as_str);
    let doc_id = field("doc_id")?;
    let title = field("key")
        .or(field("source"))
        .and_then(|k| k.rsplit('/').next())
        .unwrap_or_default();
    let mut doc = SearchDoc::new(doc_id, title, text);
    doc.filing = filing_of(record, rules);
    doc.document_date = field("document_date")
        .filter(|d| is_iso_day(d))
        .map(str::to_owned);
    doc.received = field("received")
        .filter(|r| r.get(..10).is_some_and(is_iso_day))
        .map(str::to_owned);
    Some(doc)
}

/// A document's stored text, whole (the index cuts it); `None` when there is none.
async fn text_of(stores: &Stores, doc_id: &str) -> Result<Option<String>, StoreError> {
    match stores.blobs.get(&keys::text(doc_id)).await {
        Ok(object) => Ok(Some(String::from_utf8_lossy(&object.body).into_owned())),
        Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Indexes one document as the store holds it now: its record and text if it belongs
/// in the index, else its entry removed. `None` when there is no such document.
pub(crate) async fn index_document(
    stores: &Stores,
    search: &dyn Search,
    rules: &Rules,
    doc_id: &str,
) -> Result<Option<Indexed>, StoreError> {
    let Some(record) = stores
        .table
        .get(&Key::new(keys::doc(doc_id), keys::META))
        .await?
    else {
        return Ok(None);
    };
    if !indexable(&record) {
        search.remove(doc_id).await?;
        return Ok(None);
    }
    let text = text_of(stores, doc_id).await?.unwrap_or_default();
    match search_doc(&record, text, rules) {
        Some(doc) => Ok(Some(search.index(&doc).await?)),
        None => Ok(None),
    }
}

/// Brings an indexed document's filing up to date with its record (after it is filed
/// by hand or when its case opens); indexes it whole if it is not indexed yet.
pub async fn refile(
    stores: &Stores,
    search: &dyn Search,
    rules: &Rules,
    doc_id: &str,
) -> Result<(), StoreError> {
    if !search.configured() {
        return Ok(());
    }
    let record = stores
        .table
        .get(&Key::new(keys::doc(doc_id), keys::META))
        .await?;
    match record {
        Some(record) if indexable(&record) => {
            if !search.refile(doc_id, &filing_of(&record, rules)).await? {
                index_document(stores, search, rules, doc_id).await?;
            }
        }
        _ => {
            search.remove(doc_id).await?;
        }
    }
    Ok(())
}

/// Rebuilds the index from the store: every filed or unfiled document indexed from its
/// record and stored text (unchanged ones write nothing), then every entry of a
/// document no longer indexable removed. `progress` is called with the documents done.
pub async fn reindex(
    stores: &Stores,
    search: &dyn Search,
    rules: &Rules,
    progress: impl FnMut(usize),
) -> Result<Reindexed, StoreError> {
    rebuild(stores, search, rules, progress, true).await
}

/// `reindex` into a new index: every stored document written, none removed (a new
/// index holds nothing stale, and what another process indexed meanwhile stays).
pub async fn build(
    stores: &Stores,
    search: &dyn Search,
    rules: &Rules,
    progress: impl FnMut(usize),
) -> Result<Reindexed, StoreError> {
    rebuild(stores, search, rules, progress, false).await
}

async fn rebuild(
    stores: &Stores,
    search: &dyn Search,
    rules: &Rules,
    mut progress: impl FnMut(usize),
    remove_stale: bool,
) -> Result<Reindexed, StoreError> {
    let mut done = Reindexed::default();
    let mut seen: HashSet<String> = HashSet::new();
    let mut batch: Vec<SearchDoc> = Vec::with_capacity(REINDEX_BATCH);
    let mut cursor = None;
    loop {
        let page = stores.table.scan(0, 1, cursor.as_ref()).await?;
        let records = page.items.into_iter().filter(|item| {
            item.get("SK").and_then(Value::as_str) == Some(keys::META)
                && item
                    .get("PK")
                    .and_then(Value::as_str)
                    .is_some_and(|pk| pk.starts_with(keys::DOC_PREFIX))
                && indexable(item)
        });
        for record in records {
            let Some(doc_id) = record.get("doc_id").and_then(Value::as_str) else {
                continue;
            };
            let text = match text_of(stores, doc_id).await? {
                Some(text) => text,
                None => {
                    done.without_text += 1;
                    String::new()
                }
            };
            if let Some(doc) = search_doc(&record, text, rules) {
                seen.insert(doc.doc_id.clone());
                batch.push(doc);
            }
            if batch.len() >= REINDEX_BATCH {
                flush(search, &mut batch, &mut done).await?;
                progress(done.documents);
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    flush(search, &mut batch, &mut done).await?;
    progress(done.documents);
    if remove_stale {
        // Entries of documents gone or no longer indexable.
        let mut after: Option<String> = None;
        loop {
            let ids = search.doc_ids(after.as_deref(), 1000).await?;
            let Some(last) = ids.last().cloned() else {
                break;
            };
            for id in ids.iter().filter(|id| !seen.contains(*id)) {
                if search.remove(id).await? {
                    done.removed += 1;
                }
            }
            after = Some(last);
        }
    }
    search.refresh().await?;
    Ok(done)
}

async fn flush(
    search: &dyn Search,
    batch: &mut Vec<SearchDoc>,
    done: &mut Reindexed,
) -> Result<(), StoreError> {
    if batch.is_empty() {
        return Ok(());
    }
    for indexed in search.index_many(batch).await? {
        done.documents += 1;
        match indexed {
            Indexed::Written => done.written += 1,
            Indexed::Refiled => done.refiled += 1,
            Indexed::Unchanged | Indexed::Skipped => done.unchanged += 1,
            Indexed::Queued => done.queued += 1,
        }
    }
    batch.clear();
    Ok(())
}

impl Ingest {
    /// Indexes every document recorded for search (see `Search`).
    pub fn with_search(mut self, search: Arc<dyn Search>) -> Self {
        self.search = search;
        self
    }

    /// Keeps the index in step with what filing did: a recorded document indexed (again,
    /// on a redelivery: writing nothing when nothing changed), a quarantined one removed.
    /// A failure the store may get over is returned (the delivery is retried and indexes
    /// what was missed); any other is logged and the document stays filed.
    pub(super) async fn keep_index(&self, outcome: &Outcome) -> Result<(), IngestError> {
        let search = self.search.as_ref();
        let (true, Some(doc_id)) = (search.configured(), outcome.doc_id.as_deref()) else {
            return Ok(());
        };
        let result = match outcome.status {
            IngestStatus::Filed | IngestStatus::Unfiled | IngestStatus::Unchanged => {
                index_document(&self.stores, search, self.rules, doc_id)
                    .await
                    .map(drop)
            }
            IngestStatus::Quarantined => search.remove(doc_id).await.map(drop),
            _ => Ok(()),
        };
        match result {
            Ok(()) => Ok(()),
            Err(e) if e.is_retryable() => Err(e.into()),
            Err(e) => {
                tracing::warn!(doc_id, code = %e.code(), "the document was not indexed for search");
                Ok(())
            }
        }
    }

    /// After a waiting document is filed on its case: its filing in the index follows.
    pub(super) async fn keep_filing(&self, doc_id: &str) -> Result<(), IngestError> {
        match refile(&self.stores, self.search.as_ref(), self.rules, doc_id).await {
            Ok(()) => Ok(()),
            Err(e) if e.is_retryable() => Err(e.into()),
            Err(e) => {
                tracing::warn!(doc_id, code = %e.code(), "the document's filing was not updated for search");
                Ok(())
            }
        }
    }
}
