//! Case-handler views and actions over the table: cases, a case's documents and events,
//! a document, the unfiled inbox, and manual filing (audited).

use chrono::SecondsFormat;
use serde_json::{Value, json};

use crate::clock::Clock;
use crate::foi::service::{Foi, FoiError};
use crate::model::keys;
use crate::store::{Condition, Cursor, Item, Key, Query, StoreError, Table, TxOp, Update};
use crate::views::{
    CaseSummary, CaseView, DocumentListing, DocumentView, FoiRequestView, InboxEntry,
};

pub mod import;
pub mod listing;
pub mod matching;
pub mod suggest;

/// The case-handling use case: lists, a case with its documents and events, the unfiled
/// inbox, and filing by hand (audited with the person).
#[derive(Debug, Clone)]
pub struct Cases {
    table: std::sync::Arc<dyn Table>,
    clock: std::sync::Arc<dyn Clock>,
    actor: String,
    /// The search index, told where a document filed by hand now is.
    search: Option<std::sync::Arc<dyn crate::store::Search>>,
}

impl Cases {
    pub fn new(
        table: std::sync::Arc<dyn Table>,
        clock: std::sync::Arc<dyn Clock>,
        actor: String,
    ) -> Cases {
        Cases {
            table,
            clock,
            actor,
            search: None,
        }
    }

    /// Keeps `search` in step when a document is filed by hand.
    pub fn with_search(mut self, search: std::sync::Arc<dyn crate::store::Search>) -> Cases {
        self.search = Some(search);
        self
    }

    /// Every case, by reference.
    pub async fn list(&self) -> Result<Vec<Item>, StoreError> {
        list_cases(self.table.as_ref()).await
    }

    /// Gives every case recorded before cases were listed from the index its place in
    /// the list (once: `listing::relist`); how many it changed.
    pub async fn relist(&self) -> Result<usize, StoreError> {
        listing::relist(self.table.as_ref()).await
    }

    /// One page of the claims, appeals and advice cases `filter` selects (by kind, status
    /// and reference), after `after` (a position an earlier page gave).
    pub async fn page(
        &self,
        filter: &listing::CaseFilter,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Paged<CaseSummary>, StoreError> {
        listing::page(self.table.as_ref(), filter, after, limit).await
    }

    /// A case and what is recorded under it, or `None` when there is no such case.
    pub async fn show(&self, case_ref: &str) -> Result<Option<(Item, Vec<Item>)>, StoreError> {
        show_case(self.table.as_ref(), case_ref).await
    }

    /// A document's record.
    pub async fn document(&self, doc_id: &str) -> Result<Option<Item>, StoreError> {
        show_document(self.table.as_ref(), doc_id).await
    }

    /// The unfiled documents, oldest first.
    pub async fn inbox(&self) -> Result<Vec<Item>, StoreError> {
        inbox(self.table.as_ref()).await
    }

    /// Every case, as listed (by reference).
    pub async fn summaries(&self) -> Result<Vec<CaseSummary>, StoreError> {
        Ok(self
            .list()
            .await?
            .iter()
            .map(CaseSummary::from_record)
            .collect())
    }

    /// A case with its documents, letters, events and reminders, or `None` when there is
    /// no such case.
    pub async fn view(&self, case_ref: &str) -> Result<Option<CaseView>, StoreError> {
        Ok(self
            .show(case_ref)
            .await?
            .map(|(case, under)| CaseView::from_records(&case, &under)))
    }

    /// A document's record and metadata, as a front shows it.
    pub async fn document_view(&self, doc_id: &str) -> Result<Option<DocumentView>, StoreError> {
        Ok(self
            .document(doc_id)
            .await?
            .as_ref()
            .map(DocumentView::from_record))
    }

    /// The unfiled documents, oldest first, as a front shows them.
    pub async fn inbox_view(&self) -> Result<Vec<InboxEntry>, StoreError> {
        Ok(self
            .inbox()
            .await?
            .iter()
            .map(InboxEntry::from_record)
            .collect())
    }

    /// An FOI request as of the FOI use case's today, with the events, letters and
    /// reminders recorded under it; `None` when there is no such request.
    pub async fn foi_request(
        &self,
        foi: &Foi,
        reference: &str,
    ) -> Result<Option<FoiRequestView>, FoiError> {
        let Some(case) = foi.get(reference).await? else {
            return Ok(None);
        };
        let history = self.view(reference).await?;
        Ok(Some(
            FoiRequestView::new(case, foi.today(), &foi.calendar).with_history(history),
        ))
    }

    /// One page of the unfiled inbox, oldest first: at most `limit` entries after the
    /// position `after` (from a previous page's `next`).
    pub async fn inbox_page(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Paged<InboxEntry>, StoreError> {
        let cursor = after.map(decode_position).transpose()?;
        let page = self
            .table
            .query(&Query::new(keys::UNFILED).limit(limit).after(cursor))
            .await?;
        Ok(Paged {
            items: page.items.iter().map(InboxEntry::from_record).collect(),
            next: page.next.map(|c| encode_position(&c)),
        })
    }

    /// How many documents are unfiled, counting no further than `cap` (`None` when
    /// there are more).
    pub async fn inbox_count(&self, cap: usize) -> Result<Option<usize>, StoreError> {
        let mut query = Query::new(keys::UNFILED).limit((cap as u32).saturating_add(1).min(500));
        let mut count = 0;
        loop {
            let page = self.table.query(&query).await?;
            count += page.items.len();
            if count > cap {
                return Ok(None);
            }
            match page.next {
                Some(next) => query.cursor = Some(next),
                None => return Ok(Some(count)),
            }
        }
    }

    /// The oldest unfiled document other than `except`, if any ("save and file next").
    pub async fn next_unfiled(&self, except: &str) -> Result<Option<String>, StoreError> {
        let page = self
            .table
            .query(&Query::new(keys::UNFILED).limit(2))
            .await?;
        Ok(page
            .items
            .iter()
            .map(InboxEntry::from_record)
            .filter_map(|e| e.doc_id)
            .find(|id| id != except))
    }

    /// Files an unfiled document under an existing case, by hand, as `who` (the person
    /// asking; the use case's own actor when `None`).
    pub async fn file(
        &self,
        doc_id: &str,
        case_ref: &str,
        who: Option<&str>,
    ) -> Result<(), CaseError> {
        let who = who.unwrap_or(&self.actor);
        file_document(
            self.table.as_ref(),
            doc_id,
            case_ref,
            who,
            self.clock.as_ref(),
        )
        .await?;
        if let Some(search) = &self.search {
            // The document is filed whatever happens here; `postroom search --reindex`
            // repairs a filing the index missed.
            if let Err(e) = self.refile_in_search(search.as_ref(), doc_id).await {
                tracing::warn!(doc_id, code = %crate::failure::ErrorCode::code(&e), "the document's filing was not updated for search");
            }
        }
        Ok(self.keep_clock(case_ref, who).await?)
    }

    /// Tells the search index where a document is now filed, from its record.
    async fn refile_in_search(
        &self,
        search: &dyn crate::store::Search,
        doc_id: &str,
    ) -> Result<(), StoreError> {
        let Some(record) = show_document(self.table.as_ref(), doc_id).await? else {
            return Ok(());
        };
        let text = |name: &str| record.get(name).and_then(Value::as_str).map(str::to_owned);
        let doc_type = text("doc_type");
        let filing = crate::store::Filing {
            case_ref: text("case_ref"),
            family: doc_type
                .as_deref()
                .and_then(|t| crate::metadata::Rules::builtin().family_of(t))
                .map(|f| f.as_str().to_owned()),
            doc_type,
        };
        search.refile(doc_id, &filing).await.map(drop)
    }

    /// Works out again the deadlines of the claim `case_ref` (when it is one) after a
    /// document was filed under it. The rules' refusals are logged (a handler puts the
    /// dates right on the claim); the document stays filed.
    async fn keep_clock(&self, case_ref: &str, who: &str) -> Result<(), StoreError> {
        crate::claims::ClaimClocks::new(self.table.clone(), self.clock.clone(), who)
            .keep(case_ref)
            .await
    }
}

/// Existing cases in, and the keys cases are known by (see [`import`], [`matching`]).
impl Cases {
    /// Imports cases from a CSV file's bytes, as `who` (see [`import`] for the rules):
    /// every row checked, the good ones landed, the documents waiting for them filed.
    /// An FOI request's clock is counted on `calendar`.
    pub async fn import(
        &self,
        csv: &[u8],
        who: &str,
        calendar: &crate::calendar::Calendar,
    ) -> Result<import::ImportReport, import::ImportError> {
        let report =
            import::import(self.table.as_ref(), self.clock.as_ref(), calendar, csv, who).await?;
        // Each claim that landed (again) has its deadlines worked out: a recompute that
        // finds them as stored writes nothing.
        for row in &report.rows {
            if let (Some(reference), true) = (
                &row.reference,
                matches!(
                    row.status,
                    import::RowStatus::Created
                        | import::RowStatus::Updated
                        | import::RowStatus::Unchanged
                ),
            ) {
                self.keep_clock(reference, who).await?;
            }
        }
        Ok(report)
    }

    /// Records keys a case has learned (index and list; those known already are not
    /// written again). Returns how many were new.
    pub async fn record_keys(
        &self,
        case_ref: &str,
        keys: &[matching::MatchKey],
    ) -> Result<usize, CaseError> {
        matching::record_keys(self.table.as_ref(), case_ref, keys).await
    }

    /// The cases that learned the key of `kind` with this value as written.
    pub async fn cases_for_key(
        &self,
        kind: matching::KeyKind,
        value: &str,
    ) -> Result<Vec<String>, StoreError> {
        matching::cases_for_key(self.table.as_ref(), kind, value).await
    }

    /// The cases whose claimant has this surname (however written).
    pub async fn cases_for_surname(&self, name: &str) -> Result<Vec<String>, StoreError> {
        matching::cases_for_key(self.table.as_ref(), matching::KeyKind::Surname, name).await
    }

    /// The cases whose claimant has this name and date of birth.
    pub async fn cases_for_name_and_dob(
        &self,
        name: &str,
        dob: chrono::NaiveDate,
    ) -> Result<Vec<String>, StoreError> {
        matching::cases_for_name_and_dob(self.table.as_ref(), name, dob).await
    }

    /// The suggested cases stored for an unfiled document, best first (`None` when the
    /// document is not unfiled). See [`suggest`] for the scores and reasons.
    pub async fn suggestions(
        &self,
        doc_id: &str,
    ) -> Result<Option<Vec<suggest::Suggestion>>, StoreError> {
        suggest::suggestions_of(self.table.as_ref(), doc_id).await
    }

    /// The suggested cases for a document with these clues, worked out now, and the case
    /// it would be filed under by rule.
    pub async fn suggest(&self, clues: &suggest::Clues) -> Result<suggest::Matched, StoreError> {
        suggest::suggest(self.table.as_ref(), clues).await
    }

    /// The keys recorded on a case (`None` when there is no such case).
    pub async fn keys_of(
        &self,
        case_ref: &str,
    ) -> Result<Option<Vec<matching::MatchKey>>, StoreError> {
        Ok(self
            .table
            .get(&Key::new(keys::case(case_ref), keys::META))
            .await?
            .map(|case| matching::keys_of_case(&case)))
    }

    /// One page of every document with its current filing, read from the table a page
    /// at a time (a scan: one store page per call). `after` is a previous page's `next`.
    /// A page may hold no document and still have a `next`.
    pub async fn documents_page(
        &self,
        after: Option<&str>,
    ) -> Result<Paged<DocumentListing>, StoreError> {
        let cursor = after.map(decode_position).transpose()?;
        let page = self.table.scan(0, 1, cursor.as_ref()).await?;
        Ok(Paged {
            items: page
                .items
                .iter()
                .filter(|i| {
                    i.get("SK").and_then(Value::as_str) == Some(keys::META)
                        && i.get("PK")
                            .and_then(Value::as_str)
                            .is_some_and(|p| p.starts_with(keys::DOC_PREFIX))
                })
                .map(DocumentListing::from_record)
                .collect(),
            next: page.next.map(|c| encode_position(&c)),
        })
    }
}

impl crate::failure::ErrorCode for CaseError {
    fn code(&self) -> crate::failure::Code {
        use crate::failure::Code;
        match self {
            CaseError::NoDocument(_) => Code::NotFound,
            CaseError::NoCase(_) => Code::CaseNotFound,
            CaseError::NotUnfiled { .. } => Code::NotUnfiled,
            CaseError::Store(e) => e.code(),
        }
    }
}

/// One page of a list, and the position of the next page (URL-safe, opaque).
#[derive(Debug, Clone)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

fn encode_position(cursor: &Cursor) -> String {
    hex::encode(cursor.0.as_bytes())
}

/// A position given back by a caller. It can only move within the partition queried:
/// the query names its partition, whatever the cursor says.
fn decode_position(text: &str) -> Result<Cursor, StoreError> {
    let bad = || StoreError::Invalid {
        what: "a page position that this list did not give".into(),
    };
    let bytes = hex::decode(text).map_err(|_| bad())?;
    String::from_utf8(bytes).map(Cursor).map_err(|_| bad())
}

/// Why a case action was refused.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("no document {0}")]
    NoDocument(String),
    #[error("no case {0}")]
    NoCase(String),
    #[error("document {doc_id} is {status}, and only unfiled documents can be filed by hand")]
    NotUnfiled { doc_id: String, status: String },
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

/// Every case, by reference (claims, appeals and advice from the cases list's index,
/// FOI requests from their register: `listing::all_cases`).
pub async fn list_cases(table: &dyn Table) -> Result<Vec<Item>, StoreError> {
    listing::all_cases(table).await
}

/// The most events a case's view holds: the latest.
pub const CASE_EVENTS_SHOWN: usize = 500;

/// The first key after every key that starts with `prefix` (its last byte raised: the
/// prefixes here end in `#`).
fn after_prefix(prefix: &str) -> String {
    let mut bytes = prefix.as_bytes().to_vec();
    if let Some(last) = bytes.last_mut() {
        *last += 1;
    }
    String::from_utf8(bytes).unwrap_or_else(|_| prefix.to_owned())
}

/// A case and everything under it (documents by date, letters, its latest events).
pub async fn show_case(
    table: &dyn Table,
    case_ref: &str,
) -> Result<Option<(Item, Vec<Item>)>, StoreError> {
    let Some(case) = table
        .get(&Key::new(keys::case(case_ref), keys::META))
        .await?
    else {
        return Ok(None);
    };
    // Everything under the case in its stored order, but of its events (one a view, so
    // without end) only the latest `CASE_EVENTS_SHOWN`.
    let pk = keys::case(case_ref);
    let mut under = table
        .query_all(&Query::new(&pk).before(keys::EVENT_PREFIX))
        .await?;
    let mut events = table
        .query(
            &Query::new(&pk)
                .prefix(keys::EVENT_PREFIX)
                .descending()
                .limit(CASE_EVENTS_SHOWN as u32),
        )
        .await?
        .items;
    events.truncate(CASE_EVENTS_SHOWN);
    events.reverse();
    under.extend(events);
    under.extend(
        table
            .query_all(&Query::new(&pk).from(after_prefix(keys::EVENT_PREFIX)))
            .await?,
    );
    under.retain(|i| i.get("SK").and_then(Value::as_str) != Some(keys::META));
    Ok(Some((case, under)))
}

pub async fn show_document(table: &dyn Table, doc_id: &str) -> Result<Option<Item>, StoreError> {
    table.get(&Key::new(keys::doc(doc_id), keys::META)).await
}

/// The unfiled documents, oldest first.
pub async fn inbox(table: &dyn Table) -> Result<Vec<Item>, StoreError> {
    table.query_all(&Query::new(keys::UNFILED)).await
}

/// Files an unfiled document under an existing case, by hand: the document, its entry
/// under the case, the inbox entry and an audit event change together.
pub async fn file_document(
    table: &dyn Table,
    doc_id: &str,
    case_ref: &str,
    who: &str,
    clock: &dyn Clock,
) -> Result<(), CaseError> {
    file_unfiled(table, doc_id, case_ref, who, clock, "filed_by_hand").await
}

/// Files an unfiled document under an existing case, recording `what` happened
/// (`filed_by_hand`, or `filed_on_case_open` for a document that arrived before its
/// case). A document filed meanwhile is `NotUnfiled`; a racing filing of the same
/// document loses on the version (`ConditionFailed`), so each is filed once.
pub async fn file_unfiled(
    table: &dyn Table,
    doc_id: &str,
    case_ref: &str,
    who: &str,
    clock: &dyn Clock,
    what: &str,
) -> Result<(), CaseError> {
    let doc = show_document(table, doc_id)
        .await?
        .ok_or_else(|| CaseError::NoDocument(doc_id.to_owned()))?;
    let status = doc
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if status != "unfiled" {
        return Err(CaseError::NotUnfiled {
            doc_id: doc_id.to_owned(),
            status,
        });
    }
    if table
        .get(&Key::new(keys::case(case_ref), keys::META))
        .await?
        .is_none()
    {
        return Err(CaseError::NoCase(case_ref.to_owned()));
    }
    let version = doc.get("version").and_then(Value::as_u64).unwrap_or(1);
    // The inbox entry is keyed by the time the document was recorded.
    let inbox_entry = match doc.get("received").and_then(Value::as_str) {
        Some(received) => Some(keys::unfiled(received, doc_id)),
        None => inbox(table)
            .await?
            .into_iter()
            .find(|i| i.get("doc_id").and_then(Value::as_str) == Some(doc_id))
            .and_then(|i| i.get("SK").and_then(Value::as_str).map(str::to_owned)),
    };
    let now = clock.now().to_rfc3339_opts(SecondsFormat::Millis, true);
    let date = doc
        .get("document_date")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut ops = vec![
        TxOp::Update(
            Update::new(Key::new(keys::doc(doc_id), keys::META))
                .set("status", "filed")
                .set("case_ref", case_ref)
                .set("version", version + 1)
                .when(Condition::VersionEquals(version)),
        ),
        TxOp::Check {
            key: Key::new(keys::case(case_ref), keys::META),
            condition: Condition::Exists,
        },
        TxOp::Put {
            item: crate::store::Item::from_iter([
                ("PK".to_owned(), json!(keys::case(case_ref))),
                (
                    "SK".to_owned(),
                    json!(keys::case_doc(date.as_deref(), doc_id)),
                ),
                ("doc_id".to_owned(), json!(doc_id)),
                (
                    "doc_type".to_owned(),
                    doc.get("doc_type").cloned().unwrap_or(Value::Null),
                ),
                ("document_date".to_owned(), json!(date)),
                (
                    "source".to_owned(),
                    doc.get("source").cloned().unwrap_or(Value::Null),
                ),
            ]),
            condition: Condition::Absent,
        },
        crate::model::audit_event(
            keys::doc(doc_id),
            &now,
            2,
            who,
            what,
            json!({"case_ref": case_ref}),
        ),
    ];
    if let Some(sk) = inbox_entry {
        ops.push(TxOp::Delete {
            key: Key::new(keys::UNFILED, sk),
            condition: Condition::None,
        });
    }
    // No longer waiting for the case it named.
    if let Some(awaited) = doc.get("awaiting_case").and_then(Value::as_str) {
        ops.push(TxOp::Delete {
            key: Key::new(keys::waiting(awaited), doc_id),
            condition: Condition::None,
        });
    }
    table.transact(ops).await?;
    // The case learns the keys the document carries (its claimant, court numbers). The
    // document is filed whatever happens here: a key not recorded only loses a
    // suggestion later.
    if let Some(metadata) = doc.get("metadata") {
        let learned = matching::document_keys(metadata);
        if !learned.is_empty()
            && let Err(e) = matching::record_keys(table, case_ref, &learned).await
        {
            tracing::warn!(doc_id, case_ref, error = %e, "the case's keys were not recorded");
        }
    }
    Ok(())
}

/// A document's extracted text, if one was stored.
pub async fn document_text(
    blobs: &dyn crate::store::Blobs,
    doc_id: &str,
) -> Result<Option<bytes::Bytes>, StoreError> {
    match blobs.get(&keys::text(doc_id)).await {
        Ok(object) => Ok(Some(object.body)),
        Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A document's original bytes as they arrived, when they are in this store's bucket and
/// have not been replaced since (checked against the ETag recorded at ingest). `None`
/// for a quarantined document, or one whose original is elsewhere or gone.
pub async fn document_original(
    blobs: &dyn crate::store::Blobs,
    bucket: &str,
    view: &DocumentView,
) -> Result<Option<bytes::Bytes>, StoreError> {
    let text = |name: &str| view.details.get(name).and_then(Value::as_str);
    if view.status.as_deref() == Some("quarantined") || text("bucket") != Some(bucket) {
        return Ok(None);
    }
    let Some(key) = text("key") else {
        return Ok(None);
    };
    match blobs.get(key).await {
        Ok(object) if Some(object.meta.etag.as_str()) == text("etag") => Ok(Some(object.body)),
        Ok(_) | Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A letter's PDF as stored, if it was made.
pub async fn letter_pdf(
    blobs: &dyn crate::store::Blobs,
    letter: &crate::views::LetterEntry,
) -> Result<Option<bytes::Bytes>, StoreError> {
    let Some(key) = &letter.s3_key else {
        return Ok(None);
    };
    match blobs.get(key).await {
        Ok(object) => Ok(Some(object.body)),
        Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}
