//! `TantivySearch`: an embedded `Search` adapter on a tantivy index in a folder of its
//! own (or in memory, for tests), beside SQLite FTS5's `SqliteSearch`. Its queries
//! rank top-k with block-max WAND where they can, skipping matches that cannot reach
//! the page, so a common word does not cost a score for every document.
//!
//! Schema: `doc_id` (raw, stored, a fast column for ties), `version` (stored), `title`
//! and `body` (tokenised by letters and digits, lower-cased, folded to ASCII, stemmed
//! in English; stored, with positions for phrases), `refs` (the compact references the
//! title and text carry, one raw term each), the filing (`case_ref`, `doc_type`,
//! `family`, raw) and `day` (`YYYYMMDD`, a fast column for date ranges). A word matches
//! `title` (weight 4) or `body` (weight 1), a reference `refs` (weight 2), as
//! `SqliteSearch` weighs them; filters score nothing. Hits are ordered by (score
//! descending, document id) so that cursors are stable: within a segment the id's
//! fast-column ordinal keeps the order of the ids, and segments' best are merged by id.
//!
//! Writes: one `IndexWriter` behind a mutex (a single writer per process; tantivy's
//! lock file refuses a second process), one commit a call (a batch is one commit), the
//! reader reloaded after it. A refile rewrites the stored document with its new filing.

use std::collections::{BinaryHeap, HashMap};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tantivy::query::{
    BooleanQuery, BoostQuery, EmptyQuery, EnableScoring, Occur, PhraseQuery, Query, RangeQuery,
    TermQuery,
};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value as _,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    TextAnalyzer,
};
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, SegmentReader,
    TantivyDocument, Term,
};

use super::Expect;
use super::error::{StoreError, StoreResult};
use super::search::{
    Filing, Fragment, Hit, Indexed, QUERY_TIME_LIMIT, Search, SearchDoc, SearchError, SearchPage,
    SearchRequest, Snippet, Term as QueryTerm, compact_reference, reference_keys, validate_doc_id,
};

const BACKEND: &str = "tantivy search";
/// The tokenizer of `title` and `body`: what `words_of` splits, folded and stemmed.
const ANALYZER: &str = "postroom";
/// Words longer than this (bytes) are not indexed (nor found): no word is so long.
const MAX_WORD_BYTES: usize = 100;
/// Weights as `SqliteSearch` gives them (`bm25(fts, 4.0, 1.0, 2.0)`).
const TITLE_WEIGHT: f32 = 4.0;
const REFS_WEIGHT: f32 = 2.0;
/// A prefix matching more terms than this is matched without a score of its own.
const MAX_PREFIX_TERMS: usize = 64;
/// Words in a snippet.
const SNIPPET_WORDS: usize = 24;
/// Words shown before the first match of a snippet.
const SNIPPET_LEAD_WORDS: usize = 3;
/// Characters of the text shown when no match can be highlighted.
const LEAD_CHARS: usize = 160;
/// The writer's memory for documents not yet written to a segment (all its threads).
const WRITER_MEMORY: usize = 96 << 20;
/// Attempts to merge every segment into one while background merges end.
const OPTIMIZE_TRIES: u32 = 50;
/// Matches between two looks at the clock while a query runs.
const CLOCK_EVERY: u32 = 4096;

/// The tantivy search index in a folder (or in memory).
#[derive(Clone)]
pub struct TantivySearch {
    inner: Arc<Inner>,
}

struct Inner {
    dir: Option<PathBuf>,
    index: Index,
    reader: IndexReader,
    /// None when opened to read only (`open_reader`): writes are refused, and each query
    /// first reloads what the writer committed since.
    writer: Option<Mutex<IndexWriter>>,
    fields: Fields,
    time_limit: Duration,
}

impl std::fmt::Debug for TantivySearch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TantivySearch")
            .field("dir", &self.inner.dir)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy)]
struct Fields {
    doc_id: Field,
    version: Field,
    title: Field,
    body: Field,
    refs: Field,
    case_ref: Field,
    doc_type: Field,
    family: Field,
    day: Field,
    document_date: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_stored().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let refs = TextOptions::default().set_stored().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("raw")
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let fields = Fields {
        doc_id: b.add_text_field("doc_id", STRING | STORED | FAST),
        version: b.add_text_field("version", STORED),
        title: b.add_text_field("title", text.clone()),
        body: b.add_text_field("body", text),
        refs: b.add_text_field("refs", refs),
        case_ref: b.add_text_field("case_ref", STRING | STORED),
        doc_type: b.add_text_field("doc_type", STRING | STORED),
        family: b.add_text_field("family", STRING | STORED),
        day: b.add_u64_field("day", INDEXED | STORED | FAST),
        document_date: b.add_text_field("document_date", STORED),
    };
    (b.build(), fields)
}

/// Words as `words_of` splits them, lower-cased, folded to ASCII and stemmed.
fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_WORD_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// The same without stemming: how a prefix is compared.
fn folder() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_WORD_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// The tokens of `text` by `analyzer`, with their byte offsets.
fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    stream.process(&mut |t| out.push((t.offset_from, t.offset_to, t.text.clone())));
    out
}

fn terms_of(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    tokens(analyzer, text).into_iter().map(|t| t.2).collect()
}

fn engine_error(op: &str, e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> StoreError {
    StoreError::backend(BACKEND, op.to_owned(), false, e)
}

/// `YYYY-MM-DD` as the number `YYYYMMDD` (already checked by `validate`).
fn day_number(day: &str) -> Option<u64> {
    let digits: String = day.chars().filter(char::is_ascii_digit).collect();
    (digits.len() == 8).then(|| digits.parse().ok()).flatten()
}

impl TantivySearch {
    /// Opens (creating if needed) the index in the folder `dir` (readable by its owner
    /// only). A second process cannot write it while this one has it open.
    pub fn open(dir: impl AsRef<Path>) -> StoreResult<Self> {
        let dir = dir.as_ref().to_path_buf();
        super::create_private_dir_all(&dir).map_err(|e| {
            StoreError::backend(BACKEND, format!("create {}", dir.display()), false, e)
        })?;
        let directory =
            tantivy::directory::MmapDirectory::open(&dir).map_err(|e| engine_error("open", e))?;
        let (schema, _) = schema();
        let index =
            Index::open_or_create(directory, schema).map_err(|e| engine_error("open", e))?;
        Self::with_index(index, Some(dir))
    }

    /// A new index in memory (tests).
    pub fn in_memory() -> StoreResult<Self> {
        let (schema, _) = schema();
        Self::with_index(Index::create_in_ram(schema), None)
    }

    /// Opens the index another process writes (the search function's readers, beside its
    /// one writer), to query it only. `NotFound` until the writer has created it.
    pub fn open_reader(dir: impl AsRef<Path>) -> StoreResult<Self> {
        let dir = dir.as_ref().to_path_buf();
        if !dir.join("meta.json").is_file() {
            return Err(StoreError::not_found(format!(
                "a search index in {} (none has been written yet)",
                dir.display()
            )));
        }
        let directory =
            tantivy::directory::MmapDirectory::open(&dir).map_err(|e| engine_error("open", e))?;
        let index = Index::open(directory).map_err(|e| engine_error("open", e))?;
        Self::with_parts(index, Some(dir), false)
    }

    fn with_index(index: Index, dir: Option<PathBuf>) -> StoreResult<Self> {
        Self::with_parts(index, dir, true)
    }

    fn with_parts(index: Index, dir: Option<PathBuf>, write: bool) -> StoreResult<Self> {
        let schema = index.schema();
        let field = |name: &str| {
            schema
                .get_field(name)
                .map_err(|e| engine_error("open (the index has another schema)", e))
        };
        let fields = Fields {
            doc_id: field("doc_id")?,
            version: field("version")?,
            title: field("title")?,
            body: field("body")?,
            refs: field("refs")?,
            case_ref: field("case_ref")?,
            doc_type: field("doc_type")?,
            family: field("family")?,
            day: field("day")?,
            document_date: field("document_date")?,
        };
        index.tokenizers().register(ANALYZER, analyzer());
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 2);
        let writer = if write {
            Some(Mutex::new(
                index
                    .writer_with_num_threads(threads, WRITER_MEMORY)
                    .map_err(|e| {
                        let busy = matches!(e, tantivy::TantivyError::LockFailure(..));
                        StoreError::backend(BACKEND, "open the writer", busy, e)
                    })?,
            ))
        } else {
            None
        };
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e| engine_error("open a reader", e))?;
        Ok(TantivySearch {
            inner: Arc::new(Inner {
                dir,
                index,
                reader,
                writer,
                fields,
                time_limit: QUERY_TIME_LIMIT,
            }),
        })
    }

    /// The same index with another limit on a query's time (tests of the limit).
    pub fn with_time_limit(self, limit: Duration) -> Self {
        let inner = match Arc::try_unwrap(self.inner) {
            Ok(mut inner) => {
                inner.time_limit = limit;
                inner
            }
            Err(inner) => return TantivySearch { inner },
        };
        TantivySearch {
            inner: Arc::new(inner),
        }
    }

    /// The folder of the index (`None` in memory).
    pub fn dir(&self) -> Option<&Path> {
        self.inner.dir.as_deref()
    }

    /// The bytes the index's files take on disk (0 in memory).
    pub fn size_on_disk(&self) -> u64 {
        let Some(dir) = &self.inner.dir else { return 0 };
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter_map(|e| e.metadata().ok())
                    .filter(std::fs::Metadata::is_file)
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    }

    /// Merges the index's segments into one and removes the files no longer used
    /// (after a rebuild).
    pub async fn optimize(&self) -> StoreResult<()> {
        let inner = Arc::clone(&self.inner);
        super::local_blocking(BACKEND, "optimize", Expect::Long, move || {
            let mut writer = inner.lock_writer()?;
            // A merge running in the background may take segments from under this one:
            // list them again and retry.
            let mut tries = 0;
            loop {
                let ids = inner
                    .index
                    .searchable_segment_ids()
                    .map_err(|e| engine_error("optimize", e))?;
                if ids.len() <= 1 {
                    break;
                }
                match writer.merge(&ids).wait() {
                    Ok(_) => break,
                    Err(_) if tries < OPTIMIZE_TRIES => {
                        tries += 1;
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    Err(e) => return Err(engine_error("optimize", e)),
                }
            }
            writer
                .garbage_collect_files()
                .wait()
                .map_err(|e| engine_error("optimize", e))?;
            inner
                .reader
                .reload()
                .map_err(|e| engine_error("optimize", e))?;
            Ok(())
        })
        .await
    }
}

/// What the index holds for a document.
struct Current {
    version: String,
    filing: Filing,
    stored: TantivyDocument,
}

impl Inner {
    fn lock_writer(&self) -> StoreResult<MutexGuard<'_, IndexWriter>> {
        self.writer
            .as_ref()
            .ok_or_else(|| StoreError::invalid("this search index is open to read only"))?
            .lock()
            .map_err(|_| engine_error("write", "the writer's lock is poisoned"))
    }

    /// A reader's view brought up to the writer's last commit (a no-op for the writer,
    /// whose reader is reloaded as it commits).
    fn catch_up(&self) -> StoreResult<()> {
        if self.writer.is_none() {
            self.reader
                .reload()
                .map_err(|e| engine_error("reload", e))?;
        }
        Ok(())
    }

    fn commit(&self, writer: &mut IndexWriter) -> StoreResult<()> {
        writer.commit().map_err(|e| engine_error("commit", e))?;
        self.reader.reload().map_err(|e| engine_error("reload", e))
    }

    /// The live entry of `doc_id`, if any.
    fn address_of(&self, searcher: &Searcher, doc_id: &str) -> StoreResult<Option<DocAddress>> {
        let term = Term::from_field_text(self.fields.doc_id, doc_id);
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let inverted = segment
                .inverted_index(self.fields.doc_id)
                .map_err(|e| engine_error("read", e))?;
            let Some(mut postings) = inverted
                .read_postings(&term, IndexRecordOption::Basic)
                .map_err(|e| engine_error("read", e))?
            else {
                continue;
            };
            use tantivy::DocSet as _;
            let mut doc = postings.doc();
            while doc != tantivy::TERMINATED {
                if segment.alive_bitset().is_none_or(|a| a.is_alive(doc)) {
                    return Ok(Some(DocAddress::new(ord as u32, doc)));
                }
                doc = postings.advance();
            }
        }
        Ok(None)
    }

    fn current(&self, searcher: &Searcher, doc_id: &str) -> StoreResult<Option<Current>> {
        let Some(address) = self.address_of(searcher, doc_id)? else {
            return Ok(None);
        };
        let stored: TantivyDocument = searcher.doc(address).map_err(|e| engine_error("read", e))?;
        Ok(Some(Current {
            version: self.text(&stored, self.fields.version).unwrap_or_default(),
            filing: self.filing(&stored),
            stored,
        }))
    }

    fn text(&self, doc: &TantivyDocument, field: Field) -> Option<String> {
        doc.get_first(field)
            .and_then(|v| v.as_str().map(str::to_owned))
    }

    fn filing(&self, doc: &TantivyDocument) -> Filing {
        Filing {
            case_ref: self.text(doc, self.fields.case_ref),
            doc_type: self.text(doc, self.fields.doc_type),
            family: self.text(doc, self.fields.family),
        }
    }

    fn add_filing(&self, doc: &mut TantivyDocument, filing: &Filing) {
        for (field, value) in [
            (self.fields.case_ref, &filing.case_ref),
            (self.fields.doc_type, &filing.doc_type),
            (self.fields.family, &filing.family),
        ] {
            if let Some(value) = value {
                doc.add_text(field, value);
            }
        }
    }

    /// The entry of a new version.
    fn entry(&self, doc: &SearchDoc, version: &str) -> TantivyDocument {
        let f = &self.fields;
        let title = doc.title();
        let body = doc.indexed_text();
        let mut refs = reference_keys(title);
        for key in reference_keys(body) {
            if !refs.contains(&key) {
                refs.push(key);
            }
        }
        let mut entry = TantivyDocument::new();
        entry.add_text(f.doc_id, &doc.doc_id);
        entry.add_text(f.version, version);
        entry.add_text(f.title, title);
        entry.add_text(f.body, body);
        for key in refs {
            entry.add_text(f.refs, key);
        }
        self.add_filing(&mut entry, &doc.filing);
        if let Some(day) = doc.day().and_then(day_number) {
            entry.add_u64(f.day, day);
        }
        if let Some(date) = &doc.document_date {
            entry.add_text(f.document_date, date);
        }
        entry
    }

    /// A stored entry with another filing.
    fn refiled(&self, stored: &TantivyDocument, filing: &Filing) -> TantivyDocument {
        let f = &self.fields;
        let mut entry = TantivyDocument::new();
        for (field, value) in stored.field_values() {
            if field != f.case_ref && field != f.doc_type && field != f.family {
                entry.add_field_value(field, value);
            }
        }
        self.add_filing(&mut entry, filing);
        entry
    }

    fn replace(
        &self,
        writer: &IndexWriter,
        doc_id: &str,
        entry: TantivyDocument,
    ) -> StoreResult<()> {
        writer.delete_term(Term::from_field_text(self.fields.doc_id, doc_id));
        writer
            .add_document(entry)
            .map_err(|e| engine_error("index", e))?;
        Ok(())
    }

    fn index_many(&self, docs: &[(SearchDoc, String)]) -> StoreResult<Vec<Indexed>> {
        let mut writer = self.lock_writer()?;
        let outcome = self.write_many(&writer, docs);
        match outcome {
            Ok(done) if done.iter().all(|d| *d == Indexed::Unchanged) => Ok(done),
            Ok(done) => match self.commit(&mut writer) {
                Ok(()) => Ok(done),
                Err(e) => Err(self.rolled_back(&mut writer, e)),
            },
            Err(e) => Err(self.rolled_back(&mut writer, e)),
        }
    }

    /// Drops what a failed call added, so that the next commit does not write half of
    /// it.
    fn rolled_back(&self, writer: &mut IndexWriter, e: StoreError) -> StoreError {
        match writer.rollback() {
            Ok(_) => e,
            Err(rollback) => engine_error("roll back", rollback),
        }
    }

    fn write_many(
        &self,
        writer: &IndexWriter,
        docs: &[(SearchDoc, String)],
    ) -> StoreResult<Vec<Indexed>> {
        let searcher = self.reader.searcher();
        // What this batch wrote, for a document that comes twice.
        let mut pending: HashMap<&str, Current> = HashMap::new();
        let mut done = Vec::with_capacity(docs.len());
        for (doc, version) in docs {
            let existing = match pending.remove(doc.doc_id.as_str()) {
                Some(current) => Some(current),
                None => self.current(&searcher, &doc.doc_id)?,
            };
            let (outcome, entry) = match existing {
                Some(current) if current.version == *version => {
                    if current.filing == doc.filing {
                        pending.insert(&doc.doc_id, current);
                        done.push(Indexed::Unchanged);
                        continue;
                    }
                    (Indexed::Refiled, self.refiled(&current.stored, &doc.filing))
                }
                _ => (Indexed::Written, self.entry(doc, version)),
            };
            self.replace(writer, &doc.doc_id, entry.clone())?;
            pending.insert(
                &doc.doc_id,
                Current {
                    version: version.clone(),
                    filing: doc.filing.clone(),
                    stored: entry,
                },
            );
            done.push(outcome);
        }
        Ok(done)
    }

    fn refile(&self, doc_id: &str, filing: &Filing) -> StoreResult<bool> {
        let mut writer = self.lock_writer()?;
        let Some(current) = self.current(&self.reader.searcher(), doc_id)? else {
            return Ok(false);
        };
        if current.filing != *filing {
            let written = self
                .replace(&writer, doc_id, self.refiled(&current.stored, filing))
                .and_then(|()| self.commit(&mut writer));
            if let Err(e) = written {
                return Err(self.rolled_back(&mut writer, e));
            }
        }
        Ok(true)
    }

    fn remove(&self, doc_id: &str) -> StoreResult<bool> {
        let mut writer = self.lock_writer()?;
        if self.address_of(&self.reader.searcher(), doc_id)?.is_none() {
            return Ok(false);
        }
        writer.delete_term(Term::from_field_text(self.fields.doc_id, doc_id));
        if let Err(e) = self.commit(&mut writer) {
            return Err(self.rolled_back(&mut writer, e));
        }
        Ok(true)
    }

    fn doc_ids(&self, after: &str, limit: usize) -> StoreResult<Vec<String>> {
        use tantivy::DocSet as _;
        self.catch_up()?;
        let searcher = self.reader.searcher();
        let mut ids = std::collections::BTreeSet::new();
        for segment in searcher.segment_readers() {
            let inverted = segment
                .inverted_index(self.fields.doc_id)
                .map_err(|e| engine_error("list", e))?;
            let mut stream = inverted
                .terms()
                .range()
                .gt(after.as_bytes())
                .into_stream()
                .map_err(|e| engine_error("list", e))?;
            let mut found = 0;
            while found < limit && stream.advance() {
                let alive = match segment.alive_bitset() {
                    None => true,
                    Some(alive) => {
                        let mut postings = inverted
                            .read_postings_from_terminfo(stream.value(), IndexRecordOption::Basic)
                            .map_err(|e| engine_error("list", e))?;
                        let mut doc = postings.doc();
                        while doc != tantivy::TERMINATED && !alive.is_alive(doc) {
                            doc = postings.advance();
                        }
                        doc != tantivy::TERMINATED
                    }
                };
                if alive {
                    ids.insert(String::from_utf8_lossy(stream.key()).into_owned());
                    found += 1;
                }
            }
        }
        Ok(ids.into_iter().take(limit).collect())
    }
}

/// Terms of `field` that start with any of `prefixes`, across the searcher's segments;
/// `None` when there are more than `max`.
fn expand(
    searcher: &Searcher,
    field: Field,
    prefixes: &[String],
    max: usize,
) -> Result<Option<Vec<String>>, SearchError> {
    let mut terms = std::collections::BTreeSet::new();
    for segment in searcher.segment_readers() {
        let inverted = segment
            .inverted_index(field)
            .map_err(|e| engine_error("query", e))?;
        for prefix in prefixes {
            let mut stream = inverted
                .terms()
                .range()
                .ge(prefix.as_bytes())
                .into_stream()
                .map_err(|e| engine_error("query", e))?;
            while stream.advance() {
                let key = stream.key();
                if !key.starts_with(prefix.as_bytes()) {
                    break;
                }
                terms.insert(String::from_utf8_lossy(key).into_owned());
                if terms.len() > max {
                    return Ok(None);
                }
            }
        }
    }
    Ok(Some(terms.into_iter().collect()))
}

/// Every term of `field` that starts with `prefix`, matched without a score of its own.
fn prefix_range(field: Field, prefix: &str) -> Box<dyn Query> {
    let mut upper = prefix.to_owned();
    upper.push(char::MAX);
    Box::new(RangeQuery::new(
        Bound::Included(Term::from_field_text(field, prefix)),
        Bound::Excluded(Term::from_field_text(field, &upper)),
    ))
}

fn boosted(query: Box<dyn Query>, weight: f32) -> Box<dyn Query> {
    if weight == 1.0 {
        query
    } else {
        Box::new(BoostQuery::new(query, weight))
    }
}

fn term_query(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    ))
}

fn any_of(queries: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(
        queries.into_iter().map(|q| (Occur::Should, q)).collect(),
    ))
}

/// Builds the engine's query from the parsed one. `None`: a required term that can
/// match nothing (the page is empty).
struct Builder<'a> {
    searcher: &'a Searcher,
    fields: Fields,
    analyzer: TextAnalyzer,
    folder: TextAnalyzer,
}

impl Builder<'_> {
    /// Words (analysed) in `title` or `body`: one word, or a phrase.
    fn words(&self, words: &[String]) -> Option<Box<dyn Query>> {
        let per_field = |field: Field| -> Box<dyn Query> {
            if let [word] = words {
                term_query(field, word)
            } else {
                let terms = words
                    .iter()
                    .enumerate()
                    .map(|(i, w)| (i, Term::from_field_text(field, w)))
                    .collect();
                Box::new(PhraseQuery::new_with_offset(terms))
            }
        };
        (!words.is_empty()).then(|| {
            any_of(vec![
                boosted(per_field(self.fields.title), TITLE_WEIGHT),
                per_field(self.fields.body),
            ])
        })
    }

    fn term(&mut self, term: &QueryTerm) -> Result<Option<Box<dyn Query>>, SearchError> {
        let f = self.fields;
        Ok(match term {
            QueryTerm::Word(word) => {
                let words = terms_of(&mut self.analyzer, word);
                self.words(&words)
            }
            QueryTerm::Phrase(words) => {
                let words = terms_of(&mut self.analyzer, &words.join(" "));
                self.words(&words)
            }
            QueryTerm::Prefix(prefix) => {
                // As folded, and as stemmed (`running*` finds "running", indexed `run`).
                let mut prefixes = terms_of(&mut self.folder, prefix);
                prefixes.truncate(1);
                for stem in terms_of(&mut self.analyzer, prefix).into_iter().take(1) {
                    if !prefixes.contains(&stem) {
                        prefixes.push(stem);
                    }
                }
                if prefixes.is_empty() {
                    return Ok(None);
                }
                let mut clauses = Vec::new();
                for (field, weight) in [(f.title, TITLE_WEIGHT), (f.body, 1.0)] {
                    match expand(self.searcher, field, &prefixes, MAX_PREFIX_TERMS)? {
                        Some(terms) => clauses
                            .extend(terms.iter().map(|t| boosted(term_query(field, t), weight))),
                        None => clauses.extend(
                            prefixes
                                .iter()
                                .map(|p| boosted(prefix_range(field, p), weight)),
                        ),
                    }
                }
                (!clauses.is_empty()).then(|| any_of(clauses))
            }
            QueryTerm::Reference {
                compact, prefix, ..
            } => {
                if !*prefix {
                    Some(boosted(term_query(f.refs, compact), REFS_WEIGHT))
                } else {
                    let prefixes = [compact.clone()];
                    let clauses: Vec<Box<dyn Query>> =
                        match expand(self.searcher, f.refs, &prefixes, MAX_PREFIX_TERMS)? {
                            Some(terms) => terms
                                .iter()
                                .map(|t| boosted(term_query(f.refs, t), REFS_WEIGHT))
                                .collect(),
                            None => vec![boosted(prefix_range(f.refs, compact), REFS_WEIGHT)],
                        };
                    (!clauses.is_empty()).then(|| any_of(clauses))
                }
            }
        })
    }

    fn query(&mut self, request: &SearchRequest) -> Result<Box<dyn Query>, SearchError> {
        let f = self.fields;
        let mut required = Vec::new();
        for term in request.query.required() {
            match self.term(term)? {
                Some(q) => required.push(q),
                None => return Ok(Box::new(EmptyQuery)),
            }
        }
        let mut excluded = Vec::new();
        for term in request.query.excluded() {
            if let Some(q) = self.term(term)? {
                excluded.push(q);
            }
        }
        // Filters select and score nothing.
        let filters = &request.filters;
        let mut filtering: Vec<Box<dyn Query>> = Vec::new();
        for (field, value) in [
            (f.case_ref, &filters.case_ref),
            (f.doc_type, &filters.doc_type),
            (f.family, &filters.family),
        ] {
            if let Some(value) = value {
                filtering.push(Box::new(TermQuery::new(
                    Term::from_field_text(field, value),
                    IndexRecordOption::Basic,
                )));
            }
        }
        let bound = |day: &Option<String>| match day.as_deref().and_then(day_number) {
            Some(n) => Bound::Included(Term::from_field_u64(f.day, n)),
            None => Bound::Unbounded,
        };
        if filters.from.is_some() || filters.to.is_some() {
            filtering.push(Box::new(RangeQuery::new(
                bound(&filters.from),
                bound(&filters.to),
            )));
        }
        // One term alone is the whole query: a word's (title, body) union is then
        // pruned by block-max WAND.
        if required.len() == 1 && excluded.is_empty() && filtering.is_empty() {
            return Ok(required.remove(0));
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            required.into_iter().map(|q| (Occur::Must, q)).collect();
        clauses.extend(excluded.into_iter().map(|q| (Occur::MustNot, q)));
        clauses.extend(
            filtering
                .into_iter()
                .map(|q| (Occur::Must, boosted_zero(q))),
        );
        Ok(Box::new(BooleanQuery::new(clauses)))
    }
}

fn boosted_zero(query: Box<dyn Query>) -> Box<dyn Query> {
    Box::new(BoostQuery::new(query, 0.0))
}

/// A candidate of one segment: better is a higher score, then a lower id ordinal (the
/// ordinals of a segment's ids follow the ids' order).
#[derive(Debug, Clone, Copy)]
struct Candidate {
    score: f32,
    ord: u64,
    doc: u32,
}

impl Candidate {
    fn better(&self, other: &Candidate) -> std::cmp::Ordering {
        other
            .score
            .total_cmp(&self.score)
            .then(self.ord.cmp(&other.ord))
    }
}

/// Heap order: the worst candidate on top.
struct Worst(Candidate);

impl PartialEq for Worst {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for Worst {}
impl PartialOrd for Worst {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Worst {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.better(&other.0)
    }
}

/// A hit found, before its stored fields are read.
struct Found {
    score: f32,
    doc_id: String,
    address: DocAddress,
}

impl Inner {
    fn query(&self, request: &SearchRequest) -> Result<SearchPage, SearchError> {
        let started = Instant::now();
        request.filters.validate()?;
        let position = request.position()?;
        let limit = request.page_size() as usize;
        self.catch_up()?;
        let searcher = self.reader.searcher();
        let mut builder = Builder {
            searcher: &searcher,
            fields: self.fields,
            analyzer: analyzer(),
            folder: folder(),
        };
        let query = builder.query(request)?;
        let weight = query
            .weight(EnableScoring::enabled_from_searcher(&searcher))
            .map_err(|e| engine_error("query", e))?;
        // The cursor's position, in the scores' own precision.
        let after = position.map(|(score, id)| (score as f32, id));
        let wanted = limit + 1;
        let mut found: Vec<Found> = Vec::new();
        let mut late = false;
        for (segment_ord, segment) in searcher.segment_readers().iter().enumerate() {
            let best = self.segment_best(
                segment,
                weight.as_ref(),
                wanted,
                after.as_ref(),
                started,
                &mut late,
            )?;
            if late {
                return Err(SearchError::TooBroad);
            }
            let ids = self.id_column(segment)?;
            let mut id = String::new();
            for c in best {
                id.clear();
                if let Some(ids) = &ids {
                    ids.ord_to_str(c.ord, &mut id)
                        .map_err(|e| engine_error("query", e))?;
                }
                found.push(Found {
                    score: c.score,
                    doc_id: id.clone(),
                    address: DocAddress::new(segment_ord as u32, c.doc),
                });
            }
        }
        found.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.doc_id.cmp(&b.doc_id))
        });
        let more = found.len() > limit;
        found.truncate(limit);
        let matchers = Matchers::of(request, &mut builder.analyzer, &mut builder.folder);
        let mut hits = Vec::with_capacity(found.len());
        for hit in found {
            let stored: TantivyDocument = searcher
                .doc(hit.address)
                .map_err(|e| engine_error("query", e))?;
            let body = self.text(&stored, self.fields.body).unwrap_or_default();
            hits.push(Hit {
                doc_id: hit.doc_id,
                filing: self.filing(&stored),
                document_date: self.text(&stored, self.fields.document_date),
                title: self.text(&stored, self.fields.title).unwrap_or_default(),
                score: f64::from(hit.score),
                snippet: matchers.snippet(&body, &mut builder.analyzer),
            });
        }
        if started.elapsed() > self.time_limit {
            return Err(SearchError::TooBroad);
        }
        let next = if more {
            hits.last()
                .map(|h| request.cursor_after(h.score, &h.doc_id))
        } else {
            None
        };
        Ok(SearchPage { hits, next })
    }

    fn id_column(
        &self,
        segment: &SegmentReader,
    ) -> Result<Option<tantivy::columnar::StrColumn>, SearchError> {
        segment
            .fast_fields()
            .str("doc_id")
            .map_err(|e| SearchError::Store(engine_error("query", e)))
    }

    /// The segment's best `wanted` live matches after the cursor, by (score, id).
    fn segment_best(
        &self,
        segment: &SegmentReader,
        weight: &dyn tantivy::query::Weight,
        wanted: usize,
        after: Option<&(f32, String)>,
        started: Instant,
        late: &mut bool,
    ) -> Result<Vec<Candidate>, SearchError> {
        let ids = self.id_column(segment)?;
        let ord_of = |doc: u32| {
            ids.as_ref()
                .and_then(|c| c.ords().first(doc))
                .unwrap_or(u64::MAX)
        };
        let alive = segment.alive_bitset();
        let mut heap: BinaryHeap<Worst> = BinaryHeap::with_capacity(wanted + 1);
        let mut threshold = f32::MIN;
        let mut seen = 0u32;
        let mut id = String::new();
        let time_limit = self.time_limit;
        let mut failed = None;
        weight
            .for_each_pruning(f32::MIN, segment, &mut |doc, score| {
                seen += 1;
                if seen.is_multiple_of(CLOCK_EVERY) && started.elapsed() > time_limit {
                    *late = true;
                    return f32::INFINITY;
                }
                if alive.is_some_and(|a| a.is_deleted(doc)) {
                    return threshold;
                }
                if let Some((cursor_score, cursor_id)) = after {
                    if score > *cursor_score {
                        return threshold;
                    }
                    if score == *cursor_score {
                        id.clear();
                        if let Some(ids) = &ids
                            && let Err(e) = ids.ord_to_str(ord_of(doc), &mut id)
                        {
                            failed = Some(e);
                            return f32::INFINITY;
                        }
                        if id.as_str() <= cursor_id.as_str() {
                            return threshold;
                        }
                    }
                }
                let candidate = Candidate {
                    score,
                    ord: ord_of(doc),
                    doc,
                };
                if heap.len() < wanted {
                    heap.push(Worst(candidate));
                } else if heap.peek().is_some_and(|w| candidate.better(&w.0).is_lt()) {
                    heap.pop();
                    heap.push(Worst(candidate));
                }
                if heap.len() == wanted
                    && let Some(worst) = heap.peek()
                {
                    // A match scored as the worst kept may still come first by its id.
                    threshold = worst.0.score.next_down();
                }
                threshold
            })
            .map_err(|e| engine_error("query", e))?;
        if let Some(e) = failed {
            return Err(engine_error("query", e).into());
        }
        Ok(heap.into_iter().map(|w| w.0).collect())
    }
}

/// What a snippet highlights: the required terms, a reference as written.
enum Matcher {
    /// Analysed words in a row (one for a word).
    Words(Vec<String>),
    /// A word's start, folded and stemmed.
    Prefix(Vec<String>),
    /// A reference's compact form, matched against words joined.
    Reference { compact: String, prefix: bool },
}

struct Matchers(Vec<Matcher>);

/// A word of a text: where it is, its analysed term and its compact form.
struct Word {
    from: usize,
    to: usize,
    term: String,
}

impl Matchers {
    fn of(request: &SearchRequest, analyzer: &mut TextAnalyzer, folder: &mut TextAnalyzer) -> Self {
        let mut out = Vec::new();
        for term in request.query.required() {
            match term {
                QueryTerm::Word(w) => out.push(Matcher::Words(terms_of(analyzer, w))),
                QueryTerm::Phrase(ws) => {
                    out.push(Matcher::Words(terms_of(analyzer, &ws.join(" "))))
                }
                QueryTerm::Prefix(p) => {
                    let mut prefixes = terms_of(folder, p);
                    prefixes.extend(terms_of(analyzer, p));
                    out.push(Matcher::Prefix(prefixes));
                }
                QueryTerm::Reference {
                    compact, prefix, ..
                } => out.push(Matcher::Reference {
                    compact: compact.clone(),
                    prefix: *prefix,
                }),
            }
        }
        out.retain(|m| match m {
            Matcher::Words(w) | Matcher::Prefix(w) => !w.is_empty(),
            Matcher::Reference { compact, .. } => !compact.is_empty(),
        });
        Matchers(out)
    }

    /// The words `words[i..=end]` that matcher `m` matches from `i`, as `end`.
    fn match_at(&self, m: &Matcher, words: &[Word], text: &str, i: usize) -> Option<usize> {
        match m {
            Matcher::Words(terms) => {
                let n = terms.len();
                (i + n <= words.len()
                    && words[i..i + n].iter().zip(terms).all(|(w, t)| w.term == *t))
                .then(|| i + n - 1)
            }
            Matcher::Prefix(prefixes) => {
                let raw = text[words[i].from..words[i].to].to_lowercase();
                prefixes
                    .iter()
                    .any(|p| words[i].term.starts_with(p.as_str()) || raw.starts_with(p.as_str()))
                    .then_some(i)
            }
            Matcher::Reference { compact, prefix } => {
                let mut joined = String::new();
                for (j, word) in words.iter().enumerate().skip(i) {
                    joined.push_str(&compact_reference(&text[word.from..word.to]));
                    if joined.len() >= compact.len() {
                        if !*prefix {
                            return (joined == *compact).then_some(j);
                        }
                        if !joined.starts_with(compact.as_str()) {
                            return None;
                        }
                        // The rest of the reference as written (`CNST/24/` + `004512`).
                        let mut end = j;
                        while let Some(next) = words.get(end + 1)
                            && text[words[end].to..next.from]
                                .chars()
                                .all(|c| matches!(c, '/' | '_' | '-'))
                            && next.from > words[end].to
                        {
                            end += 1;
                        }
                        return Some(end);
                    }
                    if !compact.starts_with(joined.as_str()) {
                        return None;
                    }
                }
                None
            }
        }
    }

    /// The best passage of `text` with the matches marked, else its first characters.
    fn snippet(&self, text: &str, analyzer: &mut TextAnalyzer) -> Snippet {
        if self.0.is_empty() {
            return lead(text);
        }
        let words: Vec<Word> = tokens(analyzer, text)
            .into_iter()
            .map(|(from, to, term)| Word { from, to, term })
            .collect();
        // Every match: (first word, last word, matcher), in order of their first word.
        let mut spans: Vec<(usize, usize, usize)> = Vec::new();
        // Where a window holding every matcher starts, once one is known.
        let mut complete: Option<usize> = None;
        for i in 0..words.len() {
            if complete.is_some_and(|start| i >= start + SNIPPET_WORDS) {
                break;
            }
            for (k, m) in self.0.iter().enumerate() {
                if let Some(end) = self.match_at(m, &words, text, i) {
                    spans.push((i, end, k));
                }
            }
            if complete.is_none() && spans.last().is_some_and(|s| s.0 == i) {
                let start = i.saturating_sub(SNIPPET_WORDS - 1);
                if self.distinct_in(&spans, start, i + 1) == self.0.len() {
                    complete = Some(start);
                }
            }
        }
        // The window with the most matchers, starting a little before a match.
        let mut best: Option<(usize, usize)> = None;
        for &(anchor, ..) in &spans {
            let start = anchor.saturating_sub(SNIPPET_LEAD_WORDS);
            let distinct = self.distinct_in(&spans, start, start + SNIPPET_WORDS);
            if best.is_none_or(|(d, _)| distinct > d) {
                best = Some((distinct, start));
            }
            if distinct == self.0.len() {
                break;
            }
        }
        let Some((_, start)) = best else {
            return lead(text);
        };
        let end = (start + SNIPPET_WORDS).min(words.len()) - 1;
        // The matches inside the window, merged where they overlap.
        let mut marks: Vec<(usize, usize)> = Vec::new();
        for &(a, b, _) in spans.iter().filter(|s| s.0 >= start && s.1 <= end) {
            match marks.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => marks.push((a, b)),
            }
        }
        let mut fragments = Vec::new();
        let mut at = words[start].from;
        if start > 0 {
            fragments.push(Fragment {
                text: "…".into(),
                hit: false,
            });
        }
        for (a, b) in marks {
            let (from, to) = (words[a].from, words[b].to);
            if from > at {
                fragments.push(Fragment {
                    text: text[at..from].to_owned(),
                    hit: false,
                });
            }
            fragments.push(Fragment {
                text: text[from..to].to_owned(),
                hit: true,
            });
            at = to;
        }
        let stop = words[end].to;
        if stop > at {
            fragments.push(Fragment {
                text: text[at..stop].to_owned(),
                hit: false,
            });
        }
        if end + 1 < words.len() {
            fragments.push(Fragment {
                text: "…".into(),
                hit: false,
            });
        }
        tidy(fragments)
    }

    /// How many matchers match wholly within words `start..end`.
    fn distinct_in(&self, spans: &[(usize, usize, usize)], start: usize, end: usize) -> usize {
        let mut seen = vec![false; self.0.len()];
        let first = spans.partition_point(|s| s.0 < start);
        for &(_, b, k) in spans[first..].iter().take_while(|s| s.0 < end) {
            if b < end {
                seen[k] = true;
            }
        }
        seen.iter().filter(|s| **s).count()
    }
}

/// The text's first characters, for a hit without a match to show.
fn lead(text: &str) -> Snippet {
    let mut lead: String = text.chars().take(LEAD_CHARS).collect();
    if text.chars().nth(LEAD_CHARS).is_some() {
        lead.push('…');
    }
    tidy(vec![Fragment {
        text: lead,
        hit: false,
    }])
}

/// Joins neighbouring plain parts and folds line breaks and runs of spaces (one line of
/// results), as `SqliteSearch` does.
fn tidy(fragments: Vec<Fragment>) -> Snippet {
    let mut out: Vec<Fragment> = Vec::with_capacity(fragments.len());
    for f in fragments {
        match out.last_mut() {
            Some(last) if !last.hit && !f.hit => last.text.push_str(&f.text),
            _ => out.push(f),
        }
    }
    for f in &mut out {
        f.fold_spaces();
    }
    out.retain(|f| !f.text.is_empty());
    Snippet { fragments: out }
}

#[async_trait]
impl Search for TantivySearch {
    fn describe(&self) -> String {
        match &self.inner.dir {
            Some(dir) => format!("tantivy index {}", dir.display()),
            None => "tantivy index in memory".into(),
        }
    }

    async fn index(&self, doc: &SearchDoc) -> StoreResult<Indexed> {
        super::search::index_one(self, doc).await
    }

    async fn index_many(&self, docs: &[SearchDoc]) -> StoreResult<Vec<Indexed>> {
        let docs = super::search::checked_batch(docs)?;
        let inner = Arc::clone(&self.inner);
        // A commit writes and syncs files: never brief.
        super::local_blocking(BACKEND, "index", Expect::Long, move || {
            inner.index_many(&docs)
        })
        .await
    }

    async fn refile(&self, doc_id: &str, filing: &Filing) -> StoreResult<bool> {
        validate_doc_id(doc_id)?;
        let doc_id = doc_id.to_owned();
        let filing = filing.clone();
        let inner = Arc::clone(&self.inner);
        super::local_blocking(BACKEND, "refile", Expect::Long, move || {
            inner.refile(&doc_id, &filing)
        })
        .await
    }

    async fn remove(&self, doc_id: &str) -> StoreResult<bool> {
        validate_doc_id(doc_id)?;
        let doc_id = doc_id.to_owned();
        let inner = Arc::clone(&self.inner);
        super::local_blocking(BACKEND, "remove", Expect::Long, move || {
            inner.remove(&doc_id)
        })
        .await
    }

    async fn query(&self, request: &SearchRequest) -> Result<SearchPage, SearchError> {
        // Refused before the engine: bad filters and cursors.
        request.filters.validate()?;
        request.position()?;
        let request = request.clone();
        let inner = Arc::clone(&self.inner);
        super::local_blocking(BACKEND, "query", Expect::Long, move || {
            Ok(inner.query(&request))
        })
        .await?
    }

    async fn doc_ids(&self, after: Option<&str>, limit: u32) -> StoreResult<Vec<String>> {
        let after = after.unwrap_or("").to_owned();
        let inner = Arc::clone(&self.inner);
        super::local_blocking(BACKEND, "list", Expect::Long, move || {
            inner.doc_ids(&after, limit.max(1) as usize)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::SearchQuery;

    fn snippet(query: &str, text: &str) -> String {
        let request = SearchRequest::new(SearchQuery::parse(query).expect("parses"));
        let matchers = Matchers::of(&request, &mut analyzer(), &mut folder());
        matchers.snippet(text, &mut analyzer()).marked("[", "]")
    }

    #[test]
    fn snippets_mark_words_phrases_prefixes_and_references() {
        assert_eq!(
            snippet("scans", "the MRI\n\nscan on 3 April"),
            "the MRI [scan] on 3 April"
        );
        assert_eq!(
            snippet("\"letter of claim\"", "a letter of claim, sent"),
            "a [letter of claim], sent"
        );
        assert_eq!(
            snippet("radiolog*", "the Radiologists said"),
            "the [Radiologists] said"
        );
        assert_eq!(
            snippet("9990000018", "NHS number 999-000-0018 noted"),
            "NHS number [999-000-0018] noted"
        );
        assert_eq!(
            snippet("CNST/24/*", "ref CNST/24/004512 here"),
            "ref [CNST/24/004512] here"
        );
        let long = format!("{} tear {}", "word ".repeat(50), "word ".repeat(50));
        let marked = snippet("tear", &long);
        assert!(marked.starts_with('…') && marked.ends_with('…'), "{marked}");
        assert!(marked.contains("[tear]"), "{marked}");
    }

    #[test]
    fn days_are_numbers() {
        assert_eq!(day_number("2024-04-03"), Some(20_240_403));
        assert_eq!(day_number("x"), None);
    }
}
