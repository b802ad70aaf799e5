//! `TantivySearch`: the embedded default `Search` adapter (`search.tantivy/` beside the
//! SQLite file), and the search function's index on AWS: a tantivy index in a folder of
//! its own (or in memory, for tests). Its queries rank top-k with block-max WAND where
//! they can, skipping matches that cannot reach the page, so a common word does not cost
//! a score for every document.
//!
//! Schema: `doc_id` (raw, stored, a fast column for ties), `version` (stored), `title`
//! and `body` (tokenised by letters and digits, lower-cased, folded to ASCII, stemmed
//! in English; stored, with positions for phrases), `title_pairs` and `body_pairs` (each
//! two words in a row as one term, not stored: a phrase of two words is one term, pruned
//! like a word; a longer one needs all its pairs before positions are read), `refs`
//! (the compact references the title and text carry, one raw term each), the filing
//! (`case_ref`, `doc_type`, `family`, raw) and `day` (`YYYYMMDD`, a fast column for date
//! ranges). A word matches `title` (weight 4) or `body` (weight 1), a reference `refs`
//! (weight 2), as `SqliteSearch` weighs them; filters score nothing. Hits are ordered by
//! (score descending, document id) so that cursors are stable: within a segment the
//! id's fast-column ordinal keeps the order of the ids, and segments' best are merged by
//! id. An index made before the pair fields existed is still read (its phrases by
//! positions alone).
//!
//! Writes are grouped: a write goes into the writer and returns; the writes pending are
//! committed together by a background thread `COMMIT_DELAY` after the first of them (or
//! by the write that passes `COMMIT_DOCS` / `COMMIT_BYTES`: a rebuild's batches), by
//! `refresh` and `flush`, before this process's next query (it reads its own writes),
//! and when the last handle is dropped. Until then a crash loses them: the callers'
//! checks (the same version writes nothing) read the committed index and what this
//! process has pending, so a rerun after a crash indexes them again. The writer (and
//! tantivy's lock file) is held only while writes are pending or recent: it is let go
//! `WRITER_IDLE` after the last write, so another process (the console beside a
//! `postroom ingest`) can take it; a write waits up to `WRITER_WAIT` for it, then fails
//! with a retryable error. Processes take turns: a write waiting for another process's
//! writer says so in the folder's `TURN_MARK` file, and a holder that sees it lets its
//! writer go after its next commit (at most `COMMIT_DELAY` away) and keeps off it for
//! `TURN_GAP`, so one that writes without a pause does not starve the others. Each
//! writer is opened on a fresh handle of the folder, so it knows (and its merges
//! remove) the files other processes' writers made. Writes that a failed commit could
//! not keep are said lost by the next `flush` or `refresh`. Queries reload the reader
//! when `meta.json`'s text changed (another process committed). A refile rewrites the
//! stored document with its new filing.

use std::collections::{BinaryHeap, HashMap};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use tantivy::query::{
    BooleanQuery, BoostQuery, EmptyQuery, EnableScoring, Explanation, Occur, PhraseQuery, Query,
    RangeQuery, Scorer, TermQuery, Weight,
};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value as _,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    TextAnalyzer, Token, TokenStream, Tokenizer,
};
use tantivy::{
    DocAddress, DocId, DocSet, Index, IndexReader, IndexWriter, ReloadPolicy, Score, Searcher,
    SegmentReader, TantivyDocument, Term,
};

use super::Expect;
use super::error::{StoreError, StoreResult};
use super::search::{
    FOI_REFERENCE_PREFIX, Filing, Fragment, Hit, Indexed, QUERY_TIME_LIMIT, Scope, Search,
    SearchDoc, SearchError, SearchPage, SearchRequest, Snippet, Term as QueryTerm,
    compact_reference, reference_keys, validate_doc_id,
};

const BACKEND: &str = "tantivy search";
/// The tokenizer of `title` and `body`: what `words_of` splits, folded and stemmed.
const ANALYZER: &str = "postroom";
/// The tokenizer of `title_pairs` and `body_pairs`: `ANALYZER`'s terms two by two.
const PAIRS: &str = "postroom_pairs";
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
/// How long pending writes wait for their commit at most (from the first of them).
const COMMIT_DELAY: Duration = Duration::from_millis(500);
/// Pending documents, or bytes of their title and text, past which the write that
/// adds them commits at once.
const COMMIT_DOCS: usize = 1_000;
const COMMIT_BYTES: usize = 32 << 20;
/// How long after its last write (and commit) the writer is kept before it is let go.
const WRITER_IDLE: Duration = Duration::from_millis(200);
/// How long a write waits for another process to let the index's writer go.
const WRITER_WAIT: Duration = Duration::from_secs(20);
/// Between two tries of a writer another process holds.
const WRITER_RETRY: Duration = Duration::from_millis(25);
/// The file in the index's folder by which a write waiting for another process's writer
/// asks for a turn: it holds the waiting handle's name, and its time says when it last
/// asked.
const TURN_MARK: &str = "postroom-turn";
/// How often a waiting write says again that it waits.
const TURN_ASK: Duration = Duration::from_millis(200);
/// A mark this recent is a write still waiting (wide for file systems with coarse times).
const TURN_FRESH: Duration = Duration::from_secs(2);
/// How long a handle that gave its turn keeps off the writer: the waiting process tries
/// every `WRITER_RETRY`.
const TURN_GAP: Duration = Duration::from_millis(150);
/// Numbers the handles of this process, for their name in `TURN_MARK`.
static HANDLES: AtomicU64 = AtomicU64::new(0);

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
    writes: Option<Arc<Writes>>,
    /// The thread that commits pending writes and lets the writer go (with `writes`).
    committer: Option<std::thread::JoinHandle<()>>,
    /// `meta.json` as last seen (a hash of its text, which names each commit's opstamp):
    /// a change is another commit to load.
    seen_meta: Mutex<Option<u64>>,
    fields: Fields,
    time_limit: Duration,
}

/// The write side, shared with the committer thread.
struct Writes {
    index: Index,
    /// The index's folder: each writer is opened on a fresh `Index` of it, which reads
    /// the files other processes' writers made (`.managed.json`), so that this one's
    /// garbage collection removes theirs too once merged away. `None` in memory.
    dir: Option<PathBuf>,
    reader: IndexReader,
    doc_id: Field,
    threads: usize,
    /// How long a write waits for another's writer (`WRITER_WAIT`; shorter in tests).
    writer_wait_ms: AtomicU64,
    /// This handle's name in `TURN_MARK` (process id and handle number).
    name: String,
    state: Mutex<WriteState>,
    /// Wakes the committer: a write came, or the index is closing.
    wake: Condvar,
    /// `state.pending.len()`, read by queries without taking the lock.
    pending: AtomicUsize,
    /// `state.lost.is_some()`, read by `flush` without taking the lock.
    lost: std::sync::atomic::AtomicBool,
    /// Failures made on purpose (tests): 1 a commit fails, 2 writing again fails.
    #[cfg(test)]
    faults: std::sync::atomic::AtomicU8,
}

#[derive(Default)]
struct WriteState {
    /// Open while writes are pending or recent (it holds tantivy's lock file).
    writer: Option<IndexWriter>,
    /// Every document written since the last commit: its entry, or `None` (removed).
    pending: HashMap<String, Option<Current>>,
    /// Bytes of the pending entries' title and text.
    pending_bytes: usize,
    /// When the first pending write came (the commit is due `COMMIT_DELAY` after).
    first_pending: Option<Instant>,
    last_write: Option<Instant>,
    /// The last handle is gone: commit, let the writer go, stop.
    closing: bool,
    /// The committer is letting this handle's writer go (its merges ending): a write
    /// waits for that, not for another process.
    releasing: bool,
    /// When this handle last gave its turn to a waiting process: it keeps off the
    /// writer until `TURN_GAP` after.
    gave_turn: Option<Instant>,
    /// Writes that returned but were dropped uncommitted (a commit failed and the writer
    /// could not be rolled back to try again): said once, by the next `flush` or
    /// `refresh`, so that what wrote them writes them again.
    lost: Option<usize>,
}

impl WriteState {
    fn full(&self) -> bool {
        self.pending.len() >= COMMIT_DOCS || self.pending_bytes >= COMMIT_BYTES
    }
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
    /// Absent from an index made before they existed.
    title_pairs: Option<Field>,
    body_pairs: Option<Field>,
    refs: Field,
    case_ref: Field,
    doc_type: Field,
    family: Field,
    day: Field,
    document_date: Field,
}

fn schema() -> Schema {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_stored().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let pairs = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(PAIRS)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let refs = TextOptions::default().set_stored().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("raw")
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    b.add_text_field("doc_id", STRING | STORED | FAST);
    b.add_text_field("version", STORED);
    b.add_text_field("title", text.clone());
    b.add_text_field("body", text);
    b.add_text_field("title_pairs", pairs.clone());
    b.add_text_field("body_pairs", pairs);
    b.add_text_field("refs", refs);
    b.add_text_field("case_ref", STRING | STORED);
    b.add_text_field("doc_type", STRING | STORED);
    b.add_text_field("family", STRING | STORED);
    b.add_u64_field("day", INDEXED | STORED | FAST);
    b.add_text_field("document_date", STORED);
    b.build()
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

/// Two analysed words in a row as one term (a space never occurs in a word).
fn pair(first: &str, second: &str) -> String {
    format!("{first} {second}")
}

/// Words (analysed) of at most this many characters are common: frequent words are
/// short (the, of, and, to, a, in, for, on, by, was...).
const SHORT_WORD_CHARS: usize = 3;
/// The commonest longer English words, analysed as the index analyses them.
const COMMON_LONGER: [&str; 36] = [
    "that", "with", "from", "have", "they", "which", "were", "will", "been", "their", "there",
    "would", "what", "when", "shall", "into", "such", "upon", "other", "under", "about", "after",
    "should", "these", "those", "also", "only", "must", "than", "then", "them", "your", "where",
    "being", "could", "does",
];

/// Whether an analysed word is common: only pairs with a common word are indexed (all
/// pairs would make a term of nearly every two words, and the index's dictionary many
/// times larger; a phrase of uncommon words is quick by positions anyway).
fn is_common(term: &str) -> bool {
    static LONGER: std::sync::OnceLock<std::collections::HashSet<String>> =
        std::sync::OnceLock::new();
    term.chars().count() <= SHORT_WORD_CHARS
        || LONGER
            .get_or_init(|| {
                terms_of(&mut analyzer(), &COMMON_LONGER.join(" "))
                    .into_iter()
                    .collect()
            })
            .contains(term)
}

/// Whether the pair of two analysed words is indexed.
fn paired(first: &str, second: &str) -> bool {
    is_common(first) || is_common(second)
}

/// `analyzer`'s terms two by two: each word with the next when either is common (not
/// across a word too long to be indexed, which leaves a gap in the positions, as a
/// phrase query sees it).
#[derive(Clone)]
struct PairTokenizer {
    words: TextAnalyzer,
}

struct PairStream {
    tokens: Vec<Token>,
    /// Tokens advanced over (the current one is `tokens[at - 1]`).
    at: usize,
    /// What `token` answers before the first or after the last.
    none: Token,
}

impl Tokenizer for PairTokenizer {
    type TokenStream<'a> = PairStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> PairStream {
        let mut tokens = Vec::new();
        let mut previous: Option<Token> = None;
        let mut stream = self.words.token_stream(text);
        stream.process(&mut |t| {
            if let Some(p) = &previous
                && t.position == p.position + 1
                && paired(&p.text, &t.text)
            {
                let position = tokens.len();
                tokens.push(Token {
                    offset_from: p.offset_from,
                    offset_to: t.offset_to,
                    position,
                    text: pair(&p.text, &t.text),
                    position_length: 1,
                });
            }
            previous = Some(t.clone());
        });
        PairStream {
            tokens,
            at: 0,
            none: Token::default(),
        }
    }
}

impl TokenStream for PairStream {
    fn advance(&mut self) -> bool {
        if self.at < self.tokens.len() {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        match self.at.checked_sub(1) {
            Some(i) => self.tokens.get(i).unwrap_or(&self.none),
            None => &self.none,
        }
    }

    fn token_mut(&mut self) -> &mut Token {
        match self.at.checked_sub(1) {
            Some(i) if i < self.tokens.len() => &mut self.tokens[i],
            _ => &mut self.none,
        }
    }
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

/// The index's own tokenizers, registered on a handle of it.
fn register_tokenizers(index: &Index) {
    index.tokenizers().register(ANALYZER, analyzer());
    index
        .tokenizers()
        .register(PAIRS, PairTokenizer { words: analyzer() });
}

/// What `meta.json` says, hashed: each commit writes it anew with a higher opstamp (a
/// file's time or size could stay the same over a commit on a file system with coarse
/// times, and its inode number could be reused).
fn meta_stamp(dir: &Path) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let text = std::fs::read(dir.join("meta.json")).ok()?;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    Some(hasher.finish())
}

impl TantivySearch {
    /// Opens (creating if needed) the index in the folder `dir` (readable by its owner
    /// only). Several handles, in this process or others, may write it in turn: each
    /// takes the index's writer while it has writes pending.
    pub fn open(dir: impl AsRef<Path>) -> StoreResult<Self> {
        let dir = dir.as_ref().to_path_buf();
        super::create_private_dir_all(&dir).map_err(|e| {
            StoreError::backend(BACKEND, format!("create {}", dir.display()), false, e)
        })?;
        let directory =
            tantivy::directory::MmapDirectory::open(&dir).map_err(|e| engine_error("open", e))?;
        // An index made with an earlier schema (without the pairs) is opened as it is.
        let exists = Index::exists(&directory).map_err(|e| engine_error("open", e))?;
        let index = if exists {
            Index::open(directory)
        } else {
            Index::create(directory, schema(), tantivy::IndexSettings::default())
        }
        .map_err(|e| engine_error("open", e))?;
        Self::with_parts(index, Some(dir), true)
    }

    /// A new index in memory (tests).
    pub fn in_memory() -> StoreResult<Self> {
        Self::with_parts(Index::create_in_ram(schema()), None, true)
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
            title_pairs: schema.get_field("title_pairs").ok(),
            body_pairs: schema.get_field("body_pairs").ok(),
            refs: field("refs")?,
            case_ref: field("case_ref")?,
            doc_type: field("doc_type")?,
            family: field("family")?,
            day: field("day")?,
            document_date: field("document_date")?,
        };
        register_tokenizers(&index);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e| engine_error("open a reader", e))?;
        let (writes, committer) = if write {
            let threads = std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
                .clamp(1, 2);
            let writes = Arc::new(Writes {
                index: index.clone(),
                dir: dir.clone(),
                reader: reader.clone(),
                doc_id: fields.doc_id,
                threads,
                writer_wait_ms: AtomicU64::new(WRITER_WAIT.as_millis() as u64),
                name: format!(
                    "{}-{}",
                    std::process::id(),
                    HANDLES.fetch_add(1, Ordering::Relaxed)
                ),
                state: Mutex::new(WriteState::default()),
                wake: Condvar::new(),
                pending: AtomicUsize::new(0),
                lost: std::sync::atomic::AtomicBool::new(false),
                #[cfg(test)]
                faults: std::sync::atomic::AtomicU8::new(0),
            });
            let shared = Arc::clone(&writes);
            let committer = std::thread::Builder::new()
                .name("search-commit".into())
                .spawn(move || shared.commit_in_background())
                .map_err(|e| engine_error("start the committer", e))?;
            (Some(writes), Some(committer))
        } else {
            (None, None)
        };
        let seen_meta = Mutex::new(dir.as_deref().and_then(meta_stamp));
        Ok(TantivySearch {
            inner: Arc::new(Inner {
                dir,
                index,
                reader,
                writes,
                committer,
                seen_meta,
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
            let writes = inner.writes()?;
            let mut state = writes.lock()?;
            writes.commit(&mut state)?;
            let mut state = writes.with_writer(state)?;
            let merged = merge_all(&inner, &mut state);
            // Noted whatever happened: the committer lets the writer go.
            writes.wrote(&mut state);
            merged?;
            inner
                .reader
                .reload()
                .map_err(|e| engine_error("optimize", e))?;
            Ok(())
        })
        .await
    }

    /// Forgets the writes not yet committed, as a crash would (tests of the recovery).
    #[cfg(test)]
    fn lose_pending(&self) -> StoreResult<()> {
        let writes = self.inner.writes()?;
        let mut state = writes.lock()?;
        if let Some(writer) = state.writer.as_mut() {
            writer
                .rollback()
                .map_err(|e| engine_error("roll back", e))?;
        }
        state.pending.clear();
        state.pending_bytes = 0;
        state.first_pending = None;
        writes.pending.store(0, Ordering::Relaxed);
        Ok(())
    }
}

/// The FOI requests' references: the terms from `FOI_` up to `FOI` followed by the
/// character after `_`.
fn foi_range(case_ref: Field) -> Box<dyn Query> {
    let term = |text: &str| Term::from_field_text(case_ref, text);
    Box::new(RangeQuery::new(
        Bound::Included(term(FOI_REFERENCE_PREFIX)),
        Bound::Excluded(term("FOI`")),
    ))
}

/// A case handler's scope (every case but FOI requests, and the unfiled): left out of
/// the query, whose block-max WAND a filter clause would stop (a common word scored in
/// every document: 43 ms on 100,000), and applied as the segments' matches are
/// collected, by skipping the FOI requests' documents (`Inner::scope_excluded`).
fn excludes_only_foi(scope: &Scope) -> bool {
    !scope.foi_requests && scope.other_cases && scope.unfiled
}

/// A segment's documents matched by `weight` (the FOI requests' range), sorted.
fn scope_excluded(weight: &dyn Weight, segment: &SegmentReader) -> Result<Vec<DocId>, SearchError> {
    let mut scorer = weight
        .scorer(segment, 1.0)
        .map_err(|e| engine_error("query", e))?;
    let mut docs = Vec::new();
    let mut doc = scorer.doc();
    while doc != tantivy::TERMINATED {
        docs.push(doc);
        doc = scorer.advance();
    }
    Ok(docs)
}

/// The documents a scope admits, by their `case_ref` term (none when not filed): FOI
/// requests' references are one range of terms, every case's another. An FOI officer's
/// scope is the FOI requests' range (a body's few thousand); others than the roles give
/// read the range of every case's reference, all their postings.
fn scope_query(case_ref: Field, scope: &Scope) -> Box<dyn Query> {
    let term = |text: &str| Term::from_field_text(case_ref, text);
    let foi = || foi_range(case_ref);
    let all_but = |query: Box<dyn Query>| -> Box<dyn Query> {
        Box::new(BooleanQuery::new(vec![
            (Occur::Must, Box::new(tantivy::query::AllQuery)),
            (Occur::MustNot, query),
        ]))
    };
    let any_case = || -> Box<dyn Query> {
        Box::new(RangeQuery::new(Bound::Included(term("")), Bound::Unbounded))
    };
    match (scope.foi_requests, scope.other_cases, scope.unfiled) {
        (true, false, false) => return foi(),
        (true, true, true) => return Box::new(tantivy::query::AllQuery),
        _ => {}
    }
    let mut admitted: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if scope.foi_requests {
        admitted.push((Occur::Should, foi()));
    }
    if scope.other_cases {
        admitted.push((
            Occur::Should,
            Box::new(BooleanQuery::new(vec![
                (Occur::Must, any_case()),
                (Occur::MustNot, foi()),
            ])),
        ));
    }
    if scope.unfiled {
        admitted.push((Occur::Should, all_but(any_case())));
    }
    if admitted.is_empty() {
        return Box::new(EmptyQuery);
    }
    Box::new(BooleanQuery::new(admitted))
}

/// Merges every segment into one and removes the files no longer used (`optimize`).
fn merge_all(inner: &Inner, state: &mut WriteState) -> StoreResult<()> {
    let writer = state
        .writer
        .as_mut()
        .ok_or_else(|| engine_error("optimize", "the writer is not open"))?;
    // A merge running in the background may take segments from under this one: list
    // them again and retry.
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
    Ok(())
}

/// A writer let go: its merges end first, then its lock file is freed.
fn release(writer: Option<IndexWriter>) {
    if let Some(writer) = writer {
        // A merge that fails leaves its segments as they were: nothing is lost.
        let _ = writer.wait_merging_threads();
    }
}

impl Writes {
    fn lock(&self) -> StoreResult<MutexGuard<'_, WriteState>> {
        self.state
            .lock()
            .map_err(|_| engine_error("write", "the writer's lock is poisoned"))
    }

    /// The state with its writer, taken if this handle has none: another process's is
    /// waited for up to `WRITER_WAIT` (without holding the state), this handle's own
    /// being let go for as long as its merges take; then the reader loads what was
    /// committed before (the checks of the writes read it).
    fn with_writer<'a>(
        &'a self,
        mut state: MutexGuard<'a, WriteState>,
    ) -> StoreResult<MutexGuard<'a, WriteState>> {
        let wait = Duration::from_millis(self.writer_wait_ms.load(Ordering::Relaxed));
        let mut busy_since: Option<Instant> = None;
        let mut asked: Option<Instant> = None;
        while state.writer.is_none() {
            if state.releasing {
                state = self
                    .wake
                    .wait_timeout(state, WRITER_RETRY)
                    .map_err(|_| engine_error("write", "the writer's lock is poisoned"))?
                    .0;
                continue;
            }
            if let Some(gap) = state
                .gave_turn
                .and_then(|gave| (gave + TURN_GAP).checked_duration_since(Instant::now()))
            {
                // The turn given is the waiting process's to take first.
                drop(state);
                std::thread::sleep(gap);
                state = self.lock()?;
                continue;
            }
            match self.open_writer() {
                Ok(writer) => {
                    self.reader
                        .reload()
                        .map_err(|e| engine_error("reload", e))?;
                    state.writer = Some(writer);
                    if asked.is_some() {
                        self.turn_taken();
                    }
                }
                Err(tantivy::TantivyError::LockFailure(
                    tantivy::directory::error::LockError::LockBusy,
                    _,
                )) if busy_since.get_or_insert_with(Instant::now).elapsed() < wait => {
                    drop(state);
                    if asked.is_none_or(|at| at.elapsed() >= TURN_ASK) {
                        self.ask_for_turn();
                        asked = Some(Instant::now());
                    }
                    std::thread::sleep(WRITER_RETRY);
                    state = self.lock()?;
                }
                Err(
                    e @ tantivy::TantivyError::LockFailure(
                        tantivy::directory::error::LockError::LockBusy,
                        _,
                    ),
                ) => {
                    return Err(StoreError::backend(
                        BACKEND,
                        format!(
                            "write (another process has held the index's writer for over {} s: try again)",
                            wait.as_secs_f32()
                        ),
                        true,
                        e,
                    ));
                }
                Err(e) => return Err(engine_error("open the writer", e)),
            }
        }
        Ok(state)
    }

    /// Says in the folder that this handle waits for the writer (best effort: a mark
    /// that cannot be written leaves the write waiting as it would have).
    fn ask_for_turn(&self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::write(dir.join(TURN_MARK), &self.name);
        }
    }

    /// Takes back this handle's ask, now answered (another's, written since, stays: a
    /// race that only costs that one an ask again).
    fn turn_taken(&self) {
        if let Some(dir) = &self.dir {
            let mark = dir.join(TURN_MARK);
            if std::fs::read_to_string(&mark).is_ok_and(|name| name == self.name) {
                let _ = std::fs::remove_file(mark);
            }
        }
    }

    /// Whether another handle (of another process, as a rule) asked for the writer
    /// within `TURN_FRESH`.
    fn turn_asked(&self) -> bool {
        let Some(dir) = &self.dir else {
            return false;
        };
        let mark = dir.join(TURN_MARK);
        let fresh = std::fs::metadata(&mark)
            .and_then(|m| m.modified())
            .is_ok_and(|at| {
                SystemTime::now()
                    .duration_since(at)
                    .map_or(true, |age| age < TURN_FRESH)
            });
        fresh && std::fs::read_to_string(&mark).is_ok_and(|name| name != self.name)
    }

    /// After a commit: if another process waits for the writer, lets it go (nothing is
    /// pending) and keeps off it for `TURN_GAP`.
    fn give_turn<'a>(
        &'a self,
        state: MutexGuard<'a, WriteState>,
    ) -> Option<MutexGuard<'a, WriteState>> {
        if state.writer.is_none() || !state.pending.is_empty() || !self.turn_asked() {
            return Some(state);
        }
        let mut state = self.let_go(state)?;
        state.gave_turn = Some(Instant::now());
        Some(state)
    }

    /// A writer on a fresh handle of the folder's index (in memory, the same index).
    fn open_writer(&self) -> tantivy::Result<IndexWriter> {
        let index = match &self.dir {
            Some(dir) => {
                let directory = tantivy::directory::MmapDirectory::open(dir)?;
                let index = Index::open(directory)?;
                register_tokenizers(&index);
                index
            }
            None => self.index.clone(),
        };
        index.writer_with_num_threads(self.threads, WRITER_MEMORY)
    }

    /// Lets this handle's writer go (its lock file freed once its merges end) without
    /// holding the state meanwhile; a write in the meantime waits for it.
    fn let_go<'a>(
        &'a self,
        mut state: MutexGuard<'a, WriteState>,
    ) -> Option<MutexGuard<'a, WriteState>> {
        let Some(writer) = state.writer.take() else {
            return Some(state);
        };
        state.releasing = true;
        drop(state);
        release(Some(writer));
        let mut state = self.state.lock().ok()?;
        state.releasing = false;
        self.wake.notify_all();
        Some(state)
    }

    /// Says once that writes were lost (see `WriteState::lost`).
    fn take_lost(&self) -> StoreResult<()> {
        if !self.lost.load(Ordering::Relaxed) {
            return Ok(());
        }
        let mut state = self.lock()?;
        self.lost.store(false, Ordering::Relaxed);
        match state.lost.take() {
            Some(n) => Err(StoreError::backend(
                BACKEND,
                format!(
                    "commit ({n} writes were dropped after a commit failed; they are written again when what wrote them runs again, or by `postroom search --reindex`)"
                ),
                true,
                "writes lost",
            )),
            None => Ok(()),
        }
    }

    /// Notes a write (or a look that wrote nothing): the committer schedules the commit
    /// and the writer's release from it.
    fn wrote(&self, state: &mut WriteState) {
        let now = Instant::now();
        state.last_write = Some(now);
        if !state.pending.is_empty() && state.first_pending.is_none() {
            state.first_pending = Some(now);
        }
        self.pending.store(state.pending.len(), Ordering::Relaxed);
        self.wake.notify_all();
    }

    /// Commits what is pending. If the commit fails, the writer is rolled back and the
    /// pending entries written again, for the next commit to try.
    fn commit(&self, state: &mut WriteState) -> StoreResult<()> {
        if state.pending.is_empty() {
            state.first_pending = None;
            return Ok(());
        }
        let Some(writer) = state.writer.as_mut() else {
            return Err(engine_error(
                "commit",
                "writes are pending without a writer",
            ));
        };
        #[cfg(test)]
        let committed = if self.faults.load(Ordering::Relaxed) & 1 != 0 {
            Err(tantivy::TantivyError::InternalError(
                "a commit failed (test)".into(),
            ))
        } else {
            writer.commit()
        };
        #[cfg(not(test))]
        let committed = writer.commit();
        match committed {
            Ok(_) => {
                state.pending.clear();
                state.pending_bytes = 0;
                state.first_pending = None;
                state.last_write = Some(Instant::now());
                self.pending.store(0, Ordering::Relaxed);
                self.reader.reload().map_err(|e| engine_error("reload", e))
            }
            Err(e) => {
                let failed = engine_error("commit", e);
                if let Err(again) = self.write_again(writer, &state.pending) {
                    // The writer is in no known state: drop it and what was pending, as
                    // a crash would (a rerun or `--reindex` indexes them again).
                    drop(state.writer.take());
                    state.lost = Some(state.lost.unwrap_or(0) + state.pending.len());
                    self.lost.store(true, Ordering::Relaxed);
                    state.pending.clear();
                    state.pending_bytes = 0;
                    state.first_pending = None;
                    self.pending.store(0, Ordering::Relaxed);
                    return Err(again);
                }
                Err(failed)
            }
        }
    }

    fn write_again(
        &self,
        writer: &mut IndexWriter,
        pending: &HashMap<String, Option<Current>>,
    ) -> StoreResult<()> {
        #[cfg(test)]
        if self.faults.load(Ordering::Relaxed) & 2 != 0 {
            return Err(engine_error("roll back", "writing again failed (test)"));
        }
        writer
            .rollback()
            .map_err(|e| engine_error("roll back", e))?;
        for (doc_id, entry) in pending {
            writer.delete_term(Term::from_field_text(self.doc_id, doc_id));
            if let Some(current) = entry {
                writer
                    .add_document(current.stored.clone())
                    .map_err(|e| engine_error("roll back", e))?;
            }
        }
        Ok(())
    }

    /// After a write: commits at once if the writes pending are past the limits (a
    /// rebuild's batches), then gives a waiting process its turn.
    fn commit_if_full(&self, mut state: MutexGuard<'_, WriteState>) -> StoreResult<()> {
        if state.full() {
            self.commit(&mut state)?;
            drop(self.give_turn(state));
        }
        Ok(())
    }

    /// Commits what is pending and lets the writer go (its lock file freed).
    fn commit_and_release(&self) -> StoreResult<()> {
        let mut state = self.lock()?;
        self.commit(&mut state)?;
        drop(self.let_go(state));
        self.take_lost()
    }

    /// The committer's loop: pending writes committed `COMMIT_DELAY` after the first,
    /// the writer let go `WRITER_IDLE` after the last write; on closing, both at once.
    fn commit_in_background(&self) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        loop {
            let now = Instant::now();
            if state.closing {
                // A failure here loses the pending writes, as a crash would: the last
                // handle is gone and nobody is left to tell (`flush` reports it).
                let _ = self.commit(&mut state);
                let writer = state.writer.take();
                drop(state);
                release(writer);
                return;
            }
            let wait = if let Some(first) = state.first_pending {
                let due = first + COMMIT_DELAY;
                if now >= due {
                    if self.commit(&mut state).is_err() && !state.pending.is_empty() {
                        // Tried again later; a write past the limits commits itself and
                        // reports the failure.
                        state.first_pending = Some(now);
                    }
                    state = match self.give_turn(state) {
                        Some(state) => state,
                        None => return,
                    };
                    continue;
                }
                Some(due - now)
            } else if state.writer.is_some() {
                let idle = state.last_write.unwrap_or(now) + WRITER_IDLE;
                if now >= idle {
                    state = match self.let_go(state) {
                        Some(state) => state,
                        None => return,
                    };
                    continue;
                }
                Some(idle - now)
            } else {
                None
            };
            state = match wait {
                Some(wait) => match self.wake.wait_timeout(state, wait) {
                    Ok((state, _)) => state,
                    Err(_) => return,
                },
                None => match self.wake.wait(state) {
                    Ok(state) => state,
                    Err(_) => return,
                },
            };
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(writes) = &self.writes {
            if let Ok(mut state) = writes.state.lock() {
                state.closing = true;
            }
            writes.wake.notify_all();
        }
        if let Some(committer) = self.committer.take() {
            let _ = committer.join();
        }
    }
}

/// What the index holds for a document.
#[derive(Clone)]
struct Current {
    version: String,
    filing: Filing,
    stored: TantivyDocument,
}

impl Inner {
    fn writes(&self) -> StoreResult<&Writes> {
        self.writes
            .as_deref()
            .ok_or_else(|| StoreError::invalid("this search index is open to read only"))
    }

    /// Commits this handle's pending writes (before a query, which reads them; `flush`).
    fn commit_own(&self) -> StoreResult<()> {
        let Some(writes) = &self.writes else {
            return Ok(());
        };
        if writes.pending.load(Ordering::Relaxed) == 0 {
            return Ok(());
        }
        let mut state = writes.lock()?;
        writes.commit(&mut state)
    }

    /// The reader brought up to the last commit of any process: reloaded on every query
    /// when open to read only (the search function's readers), else when `meta.json`
    /// changed (in memory, only this handle writes).
    fn catch_up(&self) -> StoreResult<()> {
        let reload = || self.reader.reload().map_err(|e| engine_error("reload", e));
        match (&self.writes, &self.dir) {
            (None, _) => reload(),
            (Some(_), None) => Ok(()),
            (Some(_), Some(dir)) => {
                let stamp = meta_stamp(dir);
                let mut seen = self
                    .seen_meta
                    .lock()
                    .map_err(|_| engine_error("reload", "a lock is poisoned"))?;
                if *seen != stamp {
                    reload()?;
                    *seen = stamp;
                }
                Ok(())
            }
        }
    }

    /// Commits what is pending, lets the writer go and loads every process's commits.
    fn refresh(&self) -> StoreResult<()> {
        if let Some(writes) = &self.writes {
            writes.commit_and_release()?;
        }
        // Read before the reload: a commit landing in between is loaded by the next look.
        let stamp = self.dir.as_deref().map(meta_stamp);
        self.reader
            .reload()
            .map_err(|e| engine_error("reload", e))?;
        if let Some(stamp) = stamp
            && let Ok(mut seen) = self.seen_meta.lock()
        {
            *seen = stamp;
        }
        Ok(())
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

    /// What `doc_id` is now: as written and not yet committed, else as committed.
    fn current_in(
        &self,
        state: &WriteState,
        searcher: &Searcher,
        doc_id: &str,
    ) -> StoreResult<Option<Current>> {
        match state.pending.get(doc_id) {
            Some(pending) => Ok(pending.clone()),
            None => self.current(searcher, doc_id),
        }
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

    /// The word pairs of a title and text (not stored: made again from them).
    fn add_pairs(&self, entry: &mut TantivyDocument, title: &str, body: &str) {
        if let Some(field) = self.fields.title_pairs {
            entry.add_text(field, title);
        }
        if let Some(field) = self.fields.body_pairs {
            entry.add_text(field, body);
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
        self.add_pairs(&mut entry, title, body);
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
            if field != f.case_ref
                && field != f.doc_type
                && field != f.family
                && Some(field) != f.title_pairs
                && Some(field) != f.body_pairs
            {
                entry.add_field_value(field, value);
            }
        }
        let title = self.text(stored, f.title).unwrap_or_default();
        let body = self.text(stored, f.body).unwrap_or_default();
        self.add_pairs(&mut entry, &title, &body);
        self.add_filing(&mut entry, filing);
        entry
    }

    /// Bytes of an entry's title and text.
    fn size(&self, entry: &TantivyDocument) -> usize {
        [self.fields.title, self.fields.body]
            .into_iter()
            .filter_map(|f| entry.get_first(f).and_then(|v| v.as_str().map(str::len)))
            .sum()
    }

    /// Replaces what `doc_id` holds by `entry` (`None`: removes it), pending until the
    /// next commit.
    fn replace(
        &self,
        state: &mut WriteState,
        doc_id: &str,
        entry: Option<Current>,
    ) -> StoreResult<()> {
        let Some(writer) = state.writer.as_ref() else {
            return Err(engine_error("write", "the writer is not open"));
        };
        writer.delete_term(Term::from_field_text(self.fields.doc_id, doc_id));
        let added = match &entry {
            Some(current) => writer
                .add_document(current.stored.clone())
                .map(drop)
                .map_err(|e| engine_error("index", e)),
            None => Ok(()),
        };
        state.pending_bytes += entry.as_ref().map_or(0, |c| self.size(&c.stored));
        // Deleted whatever happens: a failed add leaves the document removed.
        state
            .pending
            .insert(doc_id.to_owned(), if added.is_ok() { entry } else { None });
        added
    }

    /// Writes a batch, pending (committed at once past the limits).
    fn index_many(&self, docs: &[(SearchDoc, String)]) -> StoreResult<Vec<Indexed>> {
        let writes = self.writes()?;
        let mut state = writes.with_writer(writes.lock()?)?;
        let written = self.write_many(&mut state, docs);
        writes.wrote(&mut state);
        let done = written?;
        writes.commit_if_full(state)?;
        Ok(done)
    }

    fn write_many(
        &self,
        state: &mut WriteState,
        docs: &[(SearchDoc, String)],
    ) -> StoreResult<Vec<Indexed>> {
        let searcher = self.reader.searcher();
        let mut done = Vec::with_capacity(docs.len());
        for (doc, version) in docs {
            let (outcome, entry) = match self.current_in(state, &searcher, &doc.doc_id)? {
                Some(current) if current.version == *version => {
                    if current.filing == doc.filing {
                        done.push(Indexed::Unchanged);
                        continue;
                    }
                    (Indexed::Refiled, self.refiled(&current.stored, &doc.filing))
                }
                _ => (Indexed::Written, self.entry(doc, version)),
            };
            let current = Current {
                version: version.clone(),
                filing: doc.filing.clone(),
                stored: entry,
            };
            self.replace(state, &doc.doc_id, Some(current))?;
            done.push(outcome);
        }
        Ok(done)
    }

    fn refile(&self, doc_id: &str, filing: &Filing) -> StoreResult<bool> {
        let writes = self.writes()?;
        let mut state = writes.with_writer(writes.lock()?)?;
        let found = self.current_in(&state, &self.reader.searcher(), doc_id);
        let outcome = match found {
            Ok(Some(current)) if current.filing != *filing => {
                let entry = Current {
                    stored: self.refiled(&current.stored, filing),
                    filing: filing.clone(),
                    version: current.version,
                };
                self.replace(&mut state, doc_id, Some(entry)).map(|()| true)
            }
            Ok(current) => Ok(current.is_some()),
            Err(e) => Err(e),
        };
        writes.wrote(&mut state);
        let found = outcome?;
        writes.commit_if_full(state)?;
        Ok(found)
    }

    fn remove(&self, doc_id: &str) -> StoreResult<bool> {
        let writes = self.writes()?;
        let mut state = writes.with_writer(writes.lock()?)?;
        let indexed = match state.pending.get(doc_id) {
            Some(pending) => Ok(pending.is_some()),
            None => self
                .address_of(&self.reader.searcher(), doc_id)
                .map(|a| a.is_some()),
        };
        let outcome = match indexed {
            Ok(true) => self.replace(&mut state, doc_id, None).map(|()| true),
            other => other,
        };
        writes.wrote(&mut state);
        let found = outcome?;
        writes.commit_if_full(state)?;
        Ok(found)
    }

    fn doc_ids(&self, after: &str, limit: usize) -> StoreResult<Vec<String>> {
        self.commit_own()?;
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
    /// Words (analysed) in `title` or `body`: one word, or a phrase. Two words with a
    /// common one are one term of the field's pairs (scored and pruned like a word);
    /// longer phrases need every indexed pair of theirs before the phrase's positions
    /// are read (which alone score).
    fn words(&self, words: &[String]) -> Option<Box<dyn Query>> {
        let per_field = |field: Field, pairs: Option<Field>| -> Box<dyn Query> {
            match (words, pairs) {
                ([word], _) => term_query(field, word),
                ([first, second], Some(pairs)) if paired(first, second) => {
                    term_query(pairs, &pair(first, second))
                }
                (_, pairs) => {
                    let terms = words
                        .iter()
                        .enumerate()
                        .map(|(i, w)| (i, Term::from_field_text(field, w)))
                        .collect();
                    let phrase: Box<dyn Query> = Box::new(PhraseQuery::new_with_offset(terms));
                    let Some(pairs) = pairs else {
                        return phrase;
                    };
                    let mut clauses = vec![(Occur::Must, phrase)];
                    clauses.extend(words.windows(2).filter(|w| paired(&w[0], &w[1])).map(|w| {
                        (
                            Occur::Must,
                            boosted_zero(term_query(pairs, &pair(&w[0], &w[1]))),
                        )
                    }));
                    match clauses.len() {
                        1 => clauses.remove(0).1,
                        _ => Box::new(BooleanQuery::new(clauses)),
                    }
                }
            }
        };
        let f = self.fields;
        (!words.is_empty()).then(|| {
            any_of(vec![
                boosted(per_field(f.title, f.title_pairs), TITLE_WEIGHT),
                per_field(f.body, f.body_pairs),
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
        let mut excluded: Vec<Box<dyn Query>> = Vec::new();
        for term in request.query.excluded() {
            if let Some(q) = self.term(term)? {
                excluded.push(Box::new(SafeSeeks(q)));
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
        if let Some(scope) = &filters.scope
            && !excludes_only_foi(scope)
        {
            filtering.push(scope_query(f.case_ref, scope));
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

/// A query whose scorer seeks as `DocSet`'s default does. An excluded phrase needs it:
/// an exclusion looks at documents that may come before the excluded scorer's own, and
/// tantivy 0.27's phrase scorer takes such a look for a match (and asserts in debug
/// builds).
#[derive(Debug)]
struct SafeSeeks(Box<dyn Query>);

impl Clone for SafeSeeks {
    fn clone(&self) -> Self {
        SafeSeeks(self.0.box_clone())
    }
}

impl Query for SafeSeeks {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(SafeSeeksWeight(self.0.weight(scoring)?)))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.0.query_terms(visitor);
    }
}

struct SafeSeeksWeight(Box<dyn Weight>);

impl Weight for SafeSeeksWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(SafeSeeksScorer(self.0.scorer(reader, boost)?)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        self.0.explain(reader, doc)
    }
}

struct SafeSeeksScorer(Box<dyn Scorer>);

impl DocSet for SafeSeeksScorer {
    fn advance(&mut self) -> DocId {
        self.0.advance()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        self.0.seek(target)
    }

    fn doc(&self) -> DocId {
        self.0.doc()
    }

    fn size_hint(&self) -> u32 {
        self.0.size_hint()
    }
}

impl Scorer for SafeSeeksScorer {
    fn score(&mut self) -> Score {
        self.0.score()
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
        // This handle's own writes first; if their commit fails, the query reads what
        // was committed (the failure is the writes' and `flush`'s to report).
        let _ = self.commit_own();
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
        let excluding = match &request.filters.scope {
            Some(scope) if excludes_only_foi(scope) => Some(
                foi_range(self.fields.case_ref)
                    .weight(EnableScoring::disabled_from_searcher(&searcher))
                    .map_err(|e| engine_error("query", e))?,
            ),
            _ => None,
        };
        // The cursor's position, in the scores' own precision.
        let after = position.map(|(score, id)| (score as f32, id));
        let wanted = limit + 1;
        let mut found: Vec<Found> = Vec::new();
        let mut late = false;
        for (segment_ord, segment) in searcher.segment_readers().iter().enumerate() {
            let excluded = match &excluding {
                Some(w) => scope_excluded(w.as_ref(), segment)?,
                None => Vec::new(),
            };
            let best = self.segment_best(
                segment,
                weight.as_ref(),
                (wanted, &excluded),
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

    /// The segment's best `wanted` live matches after the cursor, by (score, id), but
    /// the `excluded` documents (sorted).
    fn segment_best(
        &self,
        segment: &SegmentReader,
        weight: &dyn Weight,
        (wanted, excluded): (usize, &[DocId]),
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
                if alive.is_some_and(|a| a.is_deleted(doc)) || excluded.binary_search(&doc).is_ok()
                {
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

    /// Pending until the next commit (see the module's notes).
    async fn index(&self, doc: &SearchDoc) -> StoreResult<Indexed> {
        let docs = super::search::checked_batch(std::slice::from_ref(doc))?;
        let inner = Arc::clone(&self.inner);
        // Tokenising a long text, or waiting for the writer: never brief.
        let mut done = super::local_blocking(BACKEND, "index", Expect::Long, move || {
            inner.index_many(&docs)
        })
        .await?;
        Ok(done.pop().unwrap_or(Indexed::Unchanged))
    }

    /// Pending like a single write: a rebuild's batches are committed a few together
    /// (fewer, larger segments to merge); its `refresh` commits the last.
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

    /// Commits what is pending, lets the writer go (another process may take it) and
    /// loads what every process committed.
    async fn refresh(&self) -> StoreResult<()> {
        let inner = Arc::clone(&self.inner);
        super::local_blocking(BACKEND, "refresh", Expect::Long, move || inner.refresh()).await
    }

    /// Commits what is pending (the writer is let go by the committer, or on drop).
    async fn flush(&self) -> StoreResult<()> {
        let inner = Arc::clone(&self.inner);
        super::local_blocking(BACKEND, "commit", Expect::Long, move || {
            inner.commit_own()?;
            match &inner.writes {
                Some(writes) => writes.take_lost(),
                None => Ok(()),
            }
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
    fn pairs_are_words_two_by_two_without_crossing_a_gap() {
        let mut pairs = TextAnalyzer::from(PairTokenizer { words: analyzer() });
        let long = "x".repeat(MAX_WORD_BYTES + 1);
        let text = format!("The MRI scans, {long} then reports radiology department");
        // Only pairs with a common word: short, or among the commonest longer ones.
        assert_eq!(
            terms_of(&mut pairs, &text),
            ["the mri", "mri scan", "then report"]
        );
        assert!(is_common("of") && is_common("that") && !is_common("radiolog"));
        assert!(terms_of(&mut pairs, "alone").is_empty());
    }

    fn doc(id: &str, title: &str, text: &str) -> SearchDoc {
        SearchDoc::new(id, title, text)
    }

    async fn ids(search: &TantivySearch, query: &str) -> Vec<String> {
        let request = SearchRequest::parse(query).expect("parses").limit(50);
        let page = search.query(&request).await.expect("query");
        let mut ids: Vec<String> = page.hits.into_iter().map(|h| h.doc_id).collect();
        ids.sort();
        ids
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn grouped_writes_are_committed_by_refresh_and_in_the_background() {
        let dir = tempfile::tempdir().expect("tempdir");
        let writer = TantivySearch::open(dir.path()).expect("open");
        let reader = TantivySearch::open_reader(dir.path()).expect("open to read");
        let indexed = writer
            .index(&doc("d1", "a.txt", "the infirmary wrote"))
            .await
            .expect("index");
        assert_eq!(indexed, Indexed::Written);
        writer.refresh().await.expect("refresh");
        assert_eq!(ids(&reader, "infirmary").await, ["d1"]);
        // Without a refresh, the committer commits it by itself.
        writer
            .index(&doc("d2", "b.txt", "the infirmary again"))
            .await
            .expect("index");
        let started = Instant::now();
        while ids(&reader, "infirmary").await.len() < 2 {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "committed within its delay"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // The writing handle reads its own writes at once.
        writer
            .remove("d1")
            .await
            .expect("remove")
            .then_some(())
            .expect("d1 was indexed");
        assert_eq!(ids(&writer, "infirmary").await, ["d2"]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_handles_on_one_folder_write_in_turn() {
        let dir = tempfile::tempdir().expect("tempdir");
        // Two processes, as the console and `postroom ingest` are: each has its own
        // handle, and tantivy's lock file lets one writer at a time.
        let a = TantivySearch::open(dir.path()).expect("open a");
        let b = TantivySearch::open(dir.path()).expect("open b");
        let d1 = doc("d1", "1.txt", "ward round notes");
        assert_eq!(a.index(&d1).await.expect("a writes"), Indexed::Written);
        // b waits for a to commit and let its writer go.
        let d2 = doc("d2", "2.txt", "ward transfer notes");
        assert_eq!(b.index(&d2).await.expect("b writes"), Indexed::Written);
        // a's write is committed: b sees the same version and writes nothing.
        assert_eq!(b.index(&d1).await.expect("b again"), Indexed::Unchanged);
        b.refresh().await.expect("b refreshes");
        let d3 = doc("d3", "3.txt", "ward discharge notes");
        assert_eq!(a.index(&d3).await.expect("a again"), Indexed::Written);
        assert!(a.refile("d2", &Filing::default()).await.expect("refile"));
        a.refresh().await.expect("a refreshes");
        assert_eq!(ids(&a, "ward notes").await, ["d1", "d2", "d3"]);
        assert_eq!(ids(&b, "ward notes").await, ["d1", "d2", "d3"]);
    }

    /// Another process's commit is loaded by the next query even when `meta.json`'s time
    /// says nothing changed (a file system with coarse times).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn another_handles_commit_is_seen_whatever_the_file_times_say() {
        let dir = tempfile::tempdir().expect("tempdir");
        let writer = TantivySearch::open(dir.path()).expect("open writer");
        let reader = TantivySearch::open(dir.path()).expect("open reader");
        writer
            .index(&doc("d1", "1.txt", "ward round notes"))
            .await
            .expect("d1");
        writer.refresh().await.expect("commit d1");
        assert_eq!(ids(&reader, "ward").await, ["d1"]);
        let meta = dir.path().join("meta.json");
        let seen = std::fs::metadata(&meta)
            .and_then(|m| m.modified())
            .expect("meta.json's time");
        writer
            .index(&doc("d2", "2.txt", "ward round again"))
            .await
            .expect("d2");
        writer.refresh().await.expect("commit d2");
        std::fs::File::options()
            .write(true)
            .open(&meta)
            .and_then(|f| f.set_modified(seen))
            .expect("set meta.json's time back");
        assert_eq!(ids(&reader, "ward").await, ["d1", "d2"]);
    }

    /// A handle that writes without a pause (a `postroom ingest` of many small files)
    /// gives its writer to another process's waiting write after its next commit,
    /// instead of keeping it until it stops; then takes it back and goes on.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_handle_writing_without_a_pause_gives_a_waiting_one_its_turn() {
        a_waiting_write_gets_its_turn(1).await;
    }

    /// So does a rebuild, whose batches commit as they fill (`COMMIT_DOCS`).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_rebuild_gives_a_waiting_write_its_turn() {
        a_waiting_write_gets_its_turn(COMMIT_DOCS).await;
    }

    /// One handle writes `batch` documents at a time without a pause until another
    /// handle's write, which may wait 5 s, has its turn and the first writes again.
    async fn a_waiting_write_gets_its_turn(batch: usize) {
        use std::sync::atomic::AtomicBool;
        let dir = tempfile::tempdir().expect("tempdir");
        let busy = TantivySearch::open(dir.path()).expect("open busy");
        let other = TantivySearch::open(dir.path()).expect("open other");
        // The waiting write would give up long before the busy handle stops.
        other
            .inner
            .writes()
            .expect("writes")
            .writer_wait_ms
            .store(5_000, Ordering::Relaxed);
        let stop = Arc::new(AtomicBool::new(false));
        let writing = {
            let (busy, stop) = (busy.clone(), Arc::clone(&stop));
            tokio::spawn(async move {
                let started = Instant::now();
                let mut written = 0;
                while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(60) {
                    let docs: Vec<SearchDoc> = (written..written + batch)
                        .map(|n| doc(&format!("b{n:07}"), "b.txt", "ward round notes"))
                        .collect();
                    let done = busy.index_many(&docs).await.expect("busy writes");
                    assert!(done.iter().all(|d| *d == Indexed::Written));
                    written += batch;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                written
            })
        };
        // The busy handle holds the writer, and keeps it while it writes.
        let held = Instant::now();
        while busy
            .inner
            .writes()
            .expect("writes")
            .lock()
            .expect("state")
            .writer
            .is_none()
        {
            assert!(
                held.elapsed() < Duration::from_secs(10),
                "busy took the writer"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let d = doc("o1", "o.txt", "the coroner's letter");
        let outcome = other
            .index(&d)
            .await
            .expect("the waiting write gets its turn");
        assert_eq!(outcome, Indexed::Written);
        other.refresh().await.expect("other commits");
        // The busy handle goes on writing after the turn it gave.
        let after = busy.doc_ids(None, u32::MAX).await.expect("ids").len();
        let resumed = Instant::now();
        while busy.doc_ids(None, u32::MAX).await.expect("ids").len() < after + 2 * batch {
            assert!(
                resumed.elapsed() < Duration::from_secs(20),
                "busy writes again"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        stop.store(true, Ordering::Relaxed);
        let written = writing.await.expect("the busy writer");
        busy.refresh().await.expect("busy commits");
        assert_eq!(ids(&busy, "coroner").await, ["o1"]);
        let all = other.doc_ids(None, u32::MAX).await.expect("ids");
        assert_eq!(
            all.len(),
            written + 1,
            "every write of both is in the index"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_writer_held_too_long_elsewhere_is_a_retryable_refusal() {
        use postroom_core::ErrorCode as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let search = TantivySearch::open(dir.path()).expect("open");
        search
            .inner
            .writes()
            .expect("writes")
            .writer_wait_ms
            .store(300, Ordering::Relaxed);
        // Another process's writer, held.
        let other = Index::open_in_dir(dir.path()).expect("open elsewhere");
        let held: IndexWriter = other.writer(15_000_000).expect("the other writer");
        let d1 = doc("d1", "1.txt", "the coroner's letter");
        let refused = search.index(&d1).await.expect_err("the writer is held");
        assert!(refused.is_retryable(), "{refused}");
        assert_eq!(refused.code(), postroom_core::Code::StoreUnavailable);
        assert!(refused.to_string().contains("another process"), "{refused}");
        drop(held);
        assert_eq!(search.index(&d1).await.expect("now"), Indexed::Written);
        search.refresh().await.expect("refresh");
        assert_eq!(ids(&search, "coroner").await, ["d1"]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_lost_before_its_commit_is_written_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d1 = doc("d1", "1.txt", "the radiology report");
        let first = TantivySearch::open(dir.path()).expect("open");
        assert_eq!(first.index(&d1).await.expect("index"), Indexed::Written);
        // The process dies before the commit.
        first.lose_pending().expect("lose");
        drop(first);
        let rerun = TantivySearch::open(dir.path()).expect("reopen");
        assert!(ids(&rerun, "radiology").await.is_empty());
        // The rerun's write is not taken for the same version already there.
        assert_eq!(rerun.index(&d1).await.expect("again"), Indexed::Written);
        assert_eq!(rerun.index(&d1).await.expect("thrice"), Indexed::Unchanged);
        // A handle dropped commits what it holds.
        let d2 = doc("d2", "2.txt", "the radiology request");
        assert_eq!(rerun.index(&d2).await.expect("d2"), Indexed::Written);
        drop(rerun);
        let later = TantivySearch::open(dir.path()).expect("reopen");
        assert_eq!(ids(&later, "radiology").await, ["d1", "d2"]);
    }

    /// Writes that returned but could not be committed nor written again are said lost
    /// by the next `flush`, once; the committer goes on (it does not spin holding the
    /// state), and writing them again indexes them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_dropped_after_a_failed_commit_are_reported_and_written_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let search = TantivySearch::open(dir.path()).expect("open");
        let writes = Arc::clone(search.inner.writes.as_ref().expect("writes"));
        let d1 = doc("d1", "1.txt", "the radiology report");
        search.index(&d1).await.expect("index");
        writes.faults.store(3, Ordering::Relaxed);
        // The committer tries, fails, cannot write again: the write is dropped.
        let started = Instant::now();
        while !writes.lost.load(Ordering::Relaxed) {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the committer tried"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        writes.faults.store(0, Ordering::Relaxed);
        let lost = search.flush().await.expect_err("the loss is said");
        assert!(lost.to_string().contains("1 writes were dropped"), "{lost}");
        assert!(lost.is_retryable());
        search.flush().await.expect("said once");
        // The committer is not stuck: the state can be had, later writes commit.
        std::thread::sleep(COMMIT_DELAY * 2);
        let (tx, rx) = std::sync::mpsc::channel();
        let shared = Arc::clone(&writes);
        std::thread::spawn(move || {
            let _state = shared.state.lock();
            let _ = tx.send(());
        });
        rx.recv_timeout(Duration::from_secs(5))
            .expect("the state is free");
        assert!(ids(&search, "radiology").await.is_empty(), "d1 was lost");
        assert_eq!(search.index(&d1).await.expect("again"), Indexed::Written);
        search.flush().await.expect("flush");
        assert_eq!(ids(&search, "radiology").await, ["d1"]);
    }

    /// The segment files on disk that the index no longer lists.
    fn unlisted_segments(dir: &Path) -> usize {
        let meta = std::fs::read_to_string(dir.join("meta.json"))
            .expect("meta")
            .replace('-', "");
        let mut segments = std::collections::BTreeSet::new();
        for entry in std::fs::read_dir(dir).expect("folder") {
            let name = entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned();
            if let Some((id, _)) = name.split_once('.')
                && id.len() == 32
            {
                segments.insert(id.to_owned());
            }
        }
        segments
            .iter()
            .filter(|id| !meta.contains(String::as_str(id)))
            .count()
    }

    /// Segments another process wrote (a CLI run beside the console) are removed by this
    /// one's merges once merged away: each writer reads the files other writers made.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn segments_other_processes_wrote_are_removed_once_merged() {
        let dir = tempfile::tempdir().expect("tempdir");
        let console = TantivySearch::open(dir.path()).expect("console");
        for run in 0..4 {
            let words = "console words ".repeat(500);
            console
                .index(&doc(&format!("c{run}"), "c.txt", &words))
                .await
                .expect("console");
            console.refresh().await.expect("refresh");
            let cli = TantivySearch::open(dir.path()).expect("a CLI run");
            let words = "ingest words ".repeat(500);
            cli.index(&doc(&format!("i{run}"), "i.txt", &words))
                .await
                .expect("cli");
            drop(cli);
        }
        console.refresh().await.expect("refresh");
        console.optimize().await.expect("optimize");
        console.refresh().await.expect("refresh");
        assert_eq!(unlisted_segments(dir.path()), 0);
        assert_eq!(ids(&console, "words").await.len(), 8);
    }

    async fn phrase_corpus(search: &TantivySearch) {
        let long = "x".repeat(MAX_WORD_BYTES + 1);
        let docs = [
            doc("p1", "p1.txt", "a letter of claim was sent"),
            doc("p2", "p2.txt", "the claim of letter"),
            doc("p3", "p3.txt", "letter and claim of"),
            doc("p4", "letter of claim.pdf", "nothing here"),
            doc("p5", "p5.txt", &format!("letter {long} claim")),
            doc("p6", "p6.txt", "clinical negligence letter"),
        ];
        search.index_many(&docs).await.expect("index");
    }

    async fn phrases_are_exact(search: &TantivySearch) {
        assert_eq!(ids(search, "\"letter of\"").await, ["p1", "p4"]);
        assert_eq!(ids(search, "\"letter of claim\"").await, ["p1", "p4"]);
        assert_eq!(ids(search, "\"claim of letter\"").await, ["p2"]);
        assert_eq!(ids(search, "\"claim of\"").await, ["p2", "p3"]);
        assert!(ids(search, "\"letter claim\"").await.is_empty());
        // Without a common word: by positions alone.
        assert_eq!(ids(search, "\"clinical negligence\"").await, ["p6"]);
        assert!(ids(search, "\"negligence clinical\"").await.is_empty());
        assert_eq!(ids(search, "\"clinical negligence letter\"").await, ["p6"]);
        assert!(ids(search, "\"of letter claim\"").await.is_empty());
        assert_eq!(
            ids(search, "claim -\"letter of\"").await,
            ["p2", "p3", "p5"]
        );
        assert_eq!(
            ids(search, "claim -\"letter of claim\"").await,
            ["p2", "p3", "p5"]
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn phrases_match_words_in_a_row_only() {
        let search = TantivySearch::in_memory().expect("index");
        phrase_corpus(&search).await;
        phrases_are_exact(&search).await;
        // A refile writes the pairs again from the stored text.
        let filing = Filing {
            case_ref: Some("CNST/24/000001".into()),
            ..Filing::default()
        };
        assert!(search.refile("p1", &filing).await.expect("refile"));
        assert!(search.refile("p4", &filing).await.expect("refile"));
        search.refresh().await.expect("refresh");
        phrases_are_exact(&search).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_index_made_before_the_pairs_still_finds_phrases() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut b = Schema::builder();
        for (_, entry) in schema().fields() {
            if !entry.name().ends_with("_pairs") {
                b.add_field(entry.clone());
            }
        }
        let directory = tantivy::directory::MmapDirectory::open(dir.path()).expect("folder");
        Index::create(directory, b.build(), tantivy::IndexSettings::default()).expect("create");
        let search = TantivySearch::open(dir.path()).expect("open");
        assert!(search.inner.fields.body_pairs.is_none());
        phrase_corpus(&search).await;
        phrases_are_exact(&search).await;
    }

    #[test]
    fn days_are_numbers() {
        assert_eq!(day_number("2024-04-03"), Some(20_240_403));
        assert_eq!(day_number("x"), None);
    }
}
