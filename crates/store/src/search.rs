//! The `Search` port: full-text search over documents' text and metadata. Index a
//! document (idempotent on its id and version), refile or remove it, and query it with
//! postroom's own grammar (`search_query`) and filters, best first, a page at a time.
//!
//! Every adapter (`SqliteSearch` and `TantivySearch` embedded; `LambdaSearch` on AWS)
//! keeps the same rules,
//! which the contract suite (`tests/it/contract/search.rs`) checks: all words must match,
//! references match as written, a text is indexed up to `MAX_INDEXED_TEXT_BYTES`, a
//! cursor is tied to its query and filters, a forged one is `BadCursor`.

use std::time::Duration;

use async_trait::async_trait;
use md5::{Digest as _, Md5};
use serde::{Deserialize, Serialize};

use super::error::{StoreError, StoreResult};
pub use super::search_query::{
    Clause, MAX_QUERY_CHARS, MAX_QUERY_TERMS, MIN_PREFIX_CHARS, QueryError, SearchQuery, Term,
    compact_reference, is_reference, reference_keys, words_of,
};

/// The most of a document's text that is indexed (1 MiB, about 500 pages of prose):
/// words beyond it are not found. Every adapter cuts at the same place.
pub const MAX_INDEXED_TEXT_BYTES: usize = 1 << 20;
/// The most characters of a title (the file name) that are indexed.
pub const MAX_TITLE_CHARS: usize = 300;
/// Hits a page when the request does not say.
pub const DEFAULT_PAGE_HITS: u32 = 20;
/// The most hits a page holds.
pub const MAX_PAGE_HITS: u32 = 100;
/// How long one query may take before it is stopped (`SearchError::TooBroad`).
pub const QUERY_TIME_LIMIT: Duration = Duration::from_secs(2);
/// The longest document id accepted.
const MAX_DOC_ID_BYTES: usize = 256;

/// Where a document is filed: what the filters select on. Changes without the text
/// changing (filing by hand) and is updated on its own (`Search::refile`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filing {
    pub case_ref: Option<String>,
    pub doc_type: Option<String>,
    /// The family of its type (`claims`, `foi`, `appeals`, `practitioner`, `general`).
    pub family: Option<String>,
}

/// A document as the index sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchDoc {
    pub doc_id: String,
    /// What makes a new index entry: the same version again writes nothing. `None`: the
    /// content's own digest (`content_version`).
    pub version: Option<String>,
    pub filing: Filing,
    /// The date the document bears (`YYYY-MM-DD`).
    pub document_date: Option<String>,
    /// When it reached postroom (RFC 3339).
    pub received: Option<String>,
    /// Its name as it arrived (a file name).
    pub title: String,
    /// Its extracted text (indexed up to `MAX_INDEXED_TEXT_BYTES`).
    pub text: String,
}

impl SearchDoc {
    pub fn new(
        doc_id: impl Into<String>,
        title: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        SearchDoc {
            doc_id: doc_id.into(),
            title: title.into(),
            text: text.into(),
            ..SearchDoc::default()
        }
    }

    /// The version the index keeps: the one given, else the content's digest.
    pub fn version(&self) -> String {
        self.version
            .clone()
            .unwrap_or_else(|| self.content_version())
    }

    /// A digest of everything indexed apart from the filing (MD5, hex: to tell versions
    /// apart, not to resist anyone).
    pub fn content_version(&self) -> String {
        let mut md5 = Md5::new();
        for part in [
            self.title(),
            self.document_date.as_deref().unwrap_or(""),
            self.received.as_deref().unwrap_or(""),
            self.indexed_text(),
        ] {
            md5.update((part.len() as u64).to_le_bytes());
            md5.update(part.as_bytes());
        }
        hex::encode(md5.finalize())
    }

    /// The text that is indexed: the first `MAX_INDEXED_TEXT_BYTES`, cut at a character.
    pub fn indexed_text(&self) -> &str {
        cut(&self.text, MAX_INDEXED_TEXT_BYTES)
    }

    /// The title that is indexed: its first `MAX_TITLE_CHARS` characters.
    pub fn title(&self) -> &str {
        match self.title.char_indices().nth(MAX_TITLE_CHARS) {
            Some((end, _)) => &self.title[..end],
            None => &self.title,
        }
    }

    /// The day the date filters compare: the document's date, else the day it arrived.
    pub fn day(&self) -> Option<&str> {
        self.document_date
            .as_deref()
            .or_else(|| self.received.as_deref().and_then(|r| r.get(..10)))
    }

    /// Checks what every adapter requires: an id of 1 to 256 bytes without control
    /// characters, dates as `YYYY-MM-DD`.
    pub fn validate(&self) -> StoreResult<()> {
        validate_doc_id(&self.doc_id)?;
        if let Some(date) = &self.document_date
            && !is_iso_day(date)
        {
            return Err(StoreError::invalid(
                "a document date must be written YYYY-MM-DD",
            ));
        }
        if let Some(day) = self.day()
            && !is_iso_day(day)
        {
            return Err(StoreError::invalid("a received time must start YYYY-MM-DD"));
        }
        Ok(())
    }
}

/// The longest prefix of `text` of at most `max` bytes that ends at a character.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg_attr(not(any(feature = "embedded", feature = "aws")), allow(dead_code))]
pub(crate) fn validate_doc_id(doc_id: &str) -> StoreResult<()> {
    if doc_id.is_empty() || doc_id.len() > MAX_DOC_ID_BYTES || doc_id.chars().any(char::is_control)
    {
        return Err(StoreError::invalid(format!(
            "a document id must be 1 to {MAX_DOC_ID_BYTES} bytes without control characters"
        )));
    }
    Ok(())
}

/// `YYYY-MM-DD` with plausible numbers.
pub fn is_iso_day(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && [0, 1, 2, 3, 5, 6, 8, 9]
            .iter()
            .all(|&i| b[i].is_ascii_digit())
        && (1..=12).contains(&s[5..7].parse::<u8>().unwrap_or(0))
        && (1..=31).contains(&s[8..10].parse::<u8>().unwrap_or(0))
}

/// What a query is narrowed to. Dates compare `SearchDoc::day` (both ends included).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filters {
    pub case_ref: Option<String>,
    pub doc_type: Option<String>,
    pub family: Option<String>,
    /// `YYYY-MM-DD`, included.
    pub from: Option<String>,
    /// `YYYY-MM-DD`, included.
    pub to: Option<String>,
    /// Only the documents a person's roles let them see (`None`: every document).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
}

/// Which documents a query may find by their filing: those filed on FOI requests
/// (references starting `FOI_REFERENCE_PREFIX`), those filed on any other case, those
/// not filed. The engine applies it, so that neither a page's hits nor its next page
/// says anything of documents outside it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Scope {
    pub foi_requests: bool,
    pub other_cases: bool,
    pub unfiled: bool,
}

/// How an FOI request's reference starts (`FOI_7001`).
pub const FOI_REFERENCE_PREFIX: &str = "FOI_";

impl Scope {
    /// Whether a document filed on `case_ref` (or not filed) is inside.
    pub fn admits(&self, case_ref: Option<&str>) -> bool {
        match case_ref {
            None => self.unfiled,
            Some(r) if r.starts_with(FOI_REFERENCE_PREFIX) => self.foi_requests,
            Some(_) => self.other_cases,
        }
    }
}

impl Filters {
    pub fn validate(&self) -> Result<(), SearchError> {
        for (name, day) in [("from", &self.from), ("to", &self.to)] {
            if let Some(day) = day
                && !is_iso_day(day)
            {
                return Err(SearchError::BadFilter(format!(
                    "the date {name} must be written YYYY-MM-DD"
                )));
            }
        }
        if let (Some(from), Some(to)) = (&self.from, &self.to)
            && from > to
        {
            return Err(SearchError::BadFilter(
                "the date range ends before it starts".into(),
            ));
        }
        Ok(())
    }
}

/// An opaque position after a page's last hit. Tied to the query and filters it came
/// from; anything else given back is `SearchError::BadCursor`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SearchCursor(pub String);

/// A query, its filters and the page wanted.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    pub query: SearchQuery,
    pub filters: Filters,
    /// Hits a page (1 to `MAX_PAGE_HITS`; `DEFAULT_PAGE_HITS` when 0).
    pub limit: u32,
    pub cursor: Option<SearchCursor>,
}

impl SearchRequest {
    pub fn new(query: SearchQuery) -> Self {
        SearchRequest {
            query,
            filters: Filters::default(),
            limit: DEFAULT_PAGE_HITS,
            cursor: None,
        }
    }

    /// Parses `text` with the grammar.
    pub fn parse(text: &str) -> Result<Self, QueryError> {
        Ok(SearchRequest::new(SearchQuery::parse(text)?))
    }

    pub fn filters(mut self, filters: Filters) -> Self {
        self.filters = filters;
        self
    }

    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit;
        self
    }

    pub fn after(mut self, cursor: Option<SearchCursor>) -> Self {
        self.cursor = cursor;
        self
    }

    /// The page size, within bounds.
    pub fn page_size(&self) -> u32 {
        match self.limit {
            0 => DEFAULT_PAGE_HITS,
            n => n.min(MAX_PAGE_HITS),
        }
    }

    /// What a cursor is tied to: the parsed query and the filters.
    fn digest(&self) -> String {
        let mut md5 = Md5::new();
        md5.update(self.query.to_string().as_bytes());
        md5.update([0]);
        md5.update(serde_json::to_vec(&self.filters).unwrap_or_default());
        hex::encode(&md5.finalize()[..8])
    }

    /// The cursor after a hit of this request (score as the hit gives it).
    pub fn cursor_after(&self, score: f64, doc_id: &str) -> SearchCursor {
        let position = Position {
            q: self.digest(),
            s: score,
            id: doc_id.to_owned(),
        };
        let json = serde_json::to_vec(&position).unwrap_or_default();
        SearchCursor(hex::encode(json))
    }

    /// The position the request's cursor names (score, doc id), or `None` for the first
    /// page. A cursor not made by `cursor_after` for this query and filters is refused.
    pub fn position(&self) -> Result<Option<(f64, String)>, SearchError> {
        let Some(cursor) = &self.cursor else {
            return Ok(None);
        };
        if cursor.0.len() > 2 * (MAX_DOC_ID_BYTES + 128) {
            return Err(SearchError::BadCursor);
        }
        let bytes = hex::decode(&cursor.0).map_err(|_| SearchError::BadCursor)?;
        let position: Position =
            serde_json::from_slice(&bytes).map_err(|_| SearchError::BadCursor)?;
        if position.q != self.digest()
            || !position.s.is_finite()
            || validate_doc_id(&position.id).is_err()
        {
            return Err(SearchError::BadCursor);
        }
        Ok(Some((position.s, position.id)))
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Position {
    q: String,
    s: f64,
    id: String,
}

/// A piece of a snippet: text, and whether it is a match to highlight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fragment {
    pub text: String,
    pub hit: bool,
}

impl Fragment {
    /// Folds line breaks and runs of spaces to one space (results read on one line),
    /// keeping one at either end where there was any, and never emptying a part of
    /// spaces alone.
    #[cfg_attr(not(feature = "embedded"), allow(dead_code))]
    pub(crate) fn fold_spaces(&mut self) {
        if !self.text.contains(char::is_whitespace) {
            return;
        }
        let collapsed = self.text.split_whitespace().collect::<Vec<_>>().join(" ");
        let lead = self.text.starts_with(char::is_whitespace) && !collapsed.is_empty();
        let trail = self.text.ends_with(char::is_whitespace) && !collapsed.is_empty();
        self.text = format!(
            "{}{collapsed}{}",
            if lead { " " } else { "" },
            if trail { " " } else { "" }
        );
        if self.text.is_empty() {
            self.text = " ".into();
        }
    }
}

/// A short passage of a document with its matches marked. Built as parts, never as
/// markup: a front escapes the text and marks the hits as it renders.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snippet {
    pub fragments: Vec<Fragment>,
}

impl Snippet {
    /// The passage with each match between `open` and `close`.
    pub fn marked(&self, open: &str, close: &str) -> String {
        let mut out = String::new();
        for f in &self.fragments {
            if f.hit {
                out.push_str(open);
                out.push_str(&f.text);
                out.push_str(close);
            } else {
                out.push_str(&f.text);
            }
        }
        out
    }

    /// The passage without marks.
    pub fn plain(&self) -> String {
        self.marked("", "")
    }

    /// Whether any part is a match.
    pub fn has_hits(&self) -> bool {
        self.fragments.iter().any(|f| f.hit)
    }
}

/// One document found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    pub doc_id: String,
    pub filing: Filing,
    pub document_date: Option<String>,
    pub title: String,
    /// Higher is better; comparable within one query's pages only.
    pub score: f64,
    pub snippet: Snippet,
}

/// One page of hits, best first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchPage {
    pub hits: Vec<Hit>,
    /// Pass back for the next page; `None` on the last.
    pub next: Option<SearchCursor>,
}

/// What indexing one document did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Indexed {
    /// Its text was (re)indexed.
    Written,
    /// The same version was there: only its filing changed.
    Refiled,
    /// The same version and filing were there: nothing was written.
    Unchanged,
    /// No search is configured: nothing was written.
    Skipped,
    /// Handed to the index's writer, which applies it in order (`LambdaSearch`).
    Queued,
}

/// Why a search failed.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error("invalid filter: {0}")]
    BadFilter(String),
    #[error("a cursor that this search did not give (start again from the first page)")]
    BadCursor,
    #[error(
        "the search took longer than {} s: narrow it (more words, a case, a type or dates)",
        QUERY_TIME_LIMIT.as_secs()
    )]
    TooBroad,
    #[error("search is not configured for this backend")]
    NotConfigured,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SearchError {
    /// A stable name for this error (the query's own reason for a syntax error).
    pub fn reason(&self) -> &'static str {
        match self {
            SearchError::Query(e) => e.reason(),
            SearchError::BadFilter(_) => "bad_filter",
            SearchError::BadCursor => "bad_cursor",
            SearchError::TooBroad => "search_too_broad",
            SearchError::NotConfigured => "search_not_configured",
            SearchError::Store(_) => "store",
        }
    }
}

impl postroom_core::ErrorCode for SearchError {
    fn code(&self) -> postroom_core::Code {
        use postroom_core::Code;
        match self {
            SearchError::Query(_) | SearchError::BadFilter(_) | SearchError::BadCursor => {
                Code::InvalidRequest
            }
            SearchError::TooBroad => Code::TooLarge,
            SearchError::NotConfigured => Code::ConfigInvalid,
            SearchError::Store(e) => e.code(),
        }
    }
}

/// The search index. Implemented by `SqliteSearch`, `TantivySearch`, `LambdaSearch` (and
/// `Unconfigured`, which says so).
#[async_trait]
pub trait Search: Send + Sync + std::fmt::Debug {
    /// A short name of the backend and its location, for messages.
    fn describe(&self) -> String;

    /// Whether this is a real index (false for `Unconfigured`).
    fn configured(&self) -> bool {
        true
    }

    /// Whether writes are queued for a writer elsewhere: `index` then answers `Queued`,
    /// `refile` and `remove` true, and only `refresh` says they are applied.
    fn writes_queued(&self) -> bool {
        false
    }

    /// Indexes a document, replacing what its id held. The same version and filing
    /// again write nothing (`Unchanged`); the same version with another filing updates
    /// the filing alone (`Refiled`).
    async fn index(&self, doc: &SearchDoc) -> StoreResult<Indexed>;

    /// Indexes several documents (one write where the backend allows).
    async fn index_many(&self, docs: &[SearchDoc]) -> StoreResult<Vec<Indexed>> {
        let mut done = Vec::with_capacity(docs.len());
        for doc in docs {
            done.push(self.index(doc).await?);
        }
        Ok(done)
    }

    /// Changes where an indexed document is filed. False when it is not indexed.
    async fn refile(&self, doc_id: &str, filing: &Filing) -> StoreResult<bool>;

    /// Removes a document. False when it was not indexed.
    async fn remove(&self, doc_id: &str) -> StoreResult<bool>;

    /// A page of hits, best first (ties by document id).
    async fn query(&self, request: &SearchRequest) -> Result<SearchPage, SearchError>;

    /// Up to `limit` indexed document ids after `after`, in id order (a rebuild removes
    /// what is no longer stored).
    async fn doc_ids(&self, after: Option<&str>, limit: u32) -> StoreResult<Vec<String>>;

    /// Makes every write so far visible to queries (a no-op where they already are).
    async fn refresh(&self) -> StoreResult<()> {
        Ok(())
    }

    /// Makes every write so far durable: an adapter that groups its writes
    /// (`TantivySearch`) commits them now; a no-op where each write already is, or is
    /// queued durably. Call before a process ends.
    async fn flush(&self) -> StoreResult<()> {
        Ok(())
    }
}

/// `Search::index` for an adapter whose `index_many` does the work: one document as a
/// batch of one.
#[cfg_attr(not(feature = "embedded"), allow(dead_code))]
pub(crate) async fn index_one<S: Search + ?Sized>(s: &S, doc: &SearchDoc) -> StoreResult<Indexed> {
    Ok(s.index_many(std::slice::from_ref(doc))
        .await?
        .pop()
        .unwrap_or(Indexed::Unchanged))
}

/// A batch checked (each document valid) and paired with its version, as the adapters
/// write it.
#[cfg_attr(not(any(feature = "embedded", feature = "aws")), allow(dead_code))]
pub(crate) fn checked_batch(docs: &[SearchDoc]) -> StoreResult<Vec<(SearchDoc, String)>> {
    for doc in docs {
        doc.validate()?;
    }
    Ok(docs.iter().map(|d| (d.clone(), d.version())).collect())
}

/// No search on this backend: writes are skipped, a query is `NotConfigured` (never an
/// empty page that would look like "nothing found").
#[derive(Debug, Clone, Copy, Default)]
pub struct Unconfigured;

#[async_trait]
impl Search for Unconfigured {
    fn describe(&self) -> String {
        "no search configured".into()
    }

    fn configured(&self) -> bool {
        false
    }

    async fn index(&self, _: &SearchDoc) -> StoreResult<Indexed> {
        Ok(Indexed::Skipped)
    }

    async fn refile(&self, _: &str, _: &Filing) -> StoreResult<bool> {
        Ok(false)
    }

    async fn remove(&self, _: &str) -> StoreResult<bool> {
        Ok(false)
    }

    async fn query(&self, _: &SearchRequest) -> Result<SearchPage, SearchError> {
        Err(SearchError::NotConfigured)
    }

    async fn doc_ids(&self, _: Option<&str>, _: u32) -> StoreResult<Vec<String>> {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_tied_to_their_query_and_refuse_forgeries() {
        let request = SearchRequest::parse("mri scan").expect("parses");
        let cursor = request.cursor_after(1.25, "doc-1");
        let next = request.clone().after(Some(cursor.clone()));
        assert_eq!(
            next.position().expect("valid"),
            Some((1.25, "doc-1".into()))
        );
        let other = SearchRequest::parse("mri")
            .expect("parses")
            .after(Some(cursor.clone()));
        assert!(matches!(other.position(), Err(SearchError::BadCursor)));
        let filtered = next.clone().filters(Filters {
            case_ref: Some("X".into()),
            ..Filters::default()
        });
        assert!(matches!(filtered.position(), Err(SearchError::BadCursor)));
        for forged in [
            "",
            "zz",
            "7b7d",
            &"00".repeat(5000),
            &cursor.0[..cursor.0.len() - 2],
        ] {
            let r = request.clone().after(Some(SearchCursor(forged.into())));
            assert!(
                matches!(r.position(), Err(SearchError::BadCursor)),
                "{forged:?}"
            );
        }
    }

    #[test]
    fn text_is_cut_at_the_limit_on_a_character() {
        let mut text = "é".repeat(MAX_INDEXED_TEXT_BYTES / 2);
        text.insert(0, 'x');
        let doc = SearchDoc::new("d", "t", text);
        assert!(doc.indexed_text().len() <= MAX_INDEXED_TEXT_BYTES);
        assert!(doc.indexed_text().len() > MAX_INDEXED_TEXT_BYTES - 2);
    }

    #[test]
    fn versions_follow_content_not_filing() {
        let mut a = SearchDoc::new("d", "t", "some text");
        let v = a.version();
        a.filing.case_ref = Some("CNST/24/000001".into());
        assert_eq!(a.version(), v);
        a.text.push('!');
        assert_ne!(a.version(), v);
        assert!(is_iso_day("2024-04-03"));
        assert!(!is_iso_day("2024-13-03"));
        assert!(!is_iso_day("03/04/2024"));
    }
}
