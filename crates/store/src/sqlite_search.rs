//! `SqliteSearch`: an embedded `Search` adapter (the embedded default's was, before
//! `TantivySearch`; kept as an alternative the contract suite and the benchmark run on,
//! selected by no configuration), SQLite's FTS5 in a file of its own
//! beside the table's (`search.sqlite3`), with its own connection and write lock, so
//! that indexing never holds up filing.
//!
//! Schema: `docs` holds each document's id, version and filing (what the filters
//! select on), keyed by the row id its `fts` entry shares; `fts` is an FTS5 table of
//! three columns: `title`, `body` (the text) and `refs` (the references the text carries,
//! compact: `cnst24004512`), tokenised `porter unicode61 remove_diacritics 2`. Every
//! grammar term is quoted before FTS5 sees it, so its own operators never apply. Ranking
//! is `bm25` (title 4, body 1, refs 2). A query reads in two passes: each match's row
//! id and `bm25` from the FTS index alone (filters as one set of row ids, `docs_day`
//! for dates), then the documents of the page only, ordered by (`bm25`, document id);
//! snippets come from `snippet()` on the page's hits only. A query is stopped after
//! `QUERY_TIME_LIMIT` (`TooBroad`): a watchdog thread interrupts the connection, and a
//! query that ended late is refused alike.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::Expect;
use super::error::{StoreError, StoreResult};
use super::search::{
    Filing, Fragment, Hit, Indexed, QUERY_TIME_LIMIT, Search, SearchDoc, SearchError, SearchPage,
    SearchRequest, Snippet, Term, reference_keys, validate_doc_id, words_of,
};

const BACKEND: &str = "SQLite search";
const SCHEMA_VERSION: i64 = 1;
/// Marks around a match in `snippet()` output: private-use characters, taken out of
/// every text before it is indexed.
const OPEN: char = '\u{E000}';
const CLOSE: char = '\u{E001}';
/// Words in a snippet.
const SNIPPET_WORDS: i64 = 24;
/// Characters of the text shown when no match can be highlighted (a reference written
/// otherwise in the text).
const LEAD_CHARS: usize = 160;

/// The FTS5 search index in an SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteSearch {
    path: PathBuf,
    conn: Arc<Mutex<Connection>>,
    watchdog: Arc<Watchdog>,
    time_limit: Duration,
}

impl SqliteSearch {
    /// Opens (creating if needed) the index in the SQLite file at `path`.
    pub fn open(path: impl AsRef<Path>) -> StoreResult<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            super::create_private_dir_all(dir).map_err(|e| {
                StoreError::backend(BACKEND, format!("create {}", dir.display()), false, e)
            })?;
        }
        super::ensure_private_file(&path).map_err(|e| {
            StoreError::backend(BACKEND, format!("open {}", path.display()), false, e)
        })?;
        let conn = Connection::open(&path).map_err(|e| sql_error("open", e))?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(|e| sql_error("configure", e))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| sql_error("configure", e))?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| sql_error("configure", e))?;
        conn.pragma_update(None, "cache_size", -16 * 1024)
            .map_err(|e| sql_error("configure", e))?;
        migrate(&conn)?;
        let watchdog = Watchdog::start(conn.get_interrupt_handle());
        Ok(SqliteSearch {
            path,
            conn: Arc::new(Mutex::new(conn)),
            watchdog,
            time_limit: QUERY_TIME_LIMIT,
        })
    }

    /// The same index with another limit on a query's time (tests of the limit).
    pub fn with_time_limit(mut self, limit: Duration) -> Self {
        self.time_limit = limit;
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The bytes the index takes on disk (the file and its write-ahead log).
    pub fn size_on_disk(&self) -> u64 {
        let wal = {
            let mut p = self.path.clone().into_os_string();
            p.push("-wal");
            PathBuf::from(p)
        };
        [self.path.as_path(), wal.as_path()]
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }

    /// Merges the index's segments into one and checkpoints the log (after a rebuild).
    pub async fn optimize(&self) -> StoreResult<()> {
        self.with_conn("optimize", Expect::Long, |conn| {
            conn.execute_batch(
                "INSERT INTO fts(fts) VALUES('optimize'); PRAGMA wal_checkpoint(TRUNCATE);",
            )
            .map_err(|e| sql_error("optimize", e))
        })
        .await
    }

    async fn with_conn<T: Send + 'static>(
        &self,
        op: &'static str,
        expect: Expect,
        f: impl FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let conn = Arc::clone(&self.conn);
        let run = move || {
            let mut guard = conn
                .lock()
                .map_err(|_| StoreError::backend(BACKEND, op, false, "connection lock poisoned"))?;
            f(&mut guard)
        };
        super::local_blocking(BACKEND, op, expect, run).await
    }
}

fn migrate(conn: &Connection) -> StoreResult<()> {
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(|e| sql_error("read the schema version", e))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::backend(
            BACKEND,
            "open",
            false,
            format!("the index was written by a newer postroom (schema {version})"),
        ));
    }
    if version < 1 {
        conn.execute_batch(
            "BEGIN;
             CREATE TABLE IF NOT EXISTS docs (
                 id            INTEGER PRIMARY KEY,
                 doc_id        TEXT NOT NULL UNIQUE,
                 version       TEXT NOT NULL,
                 case_ref      TEXT,
                 doc_type      TEXT,
                 family        TEXT,
                 day           TEXT,
                 document_date TEXT,
                 title         TEXT NOT NULL
             );
             CREATE INDEX IF NOT EXISTS docs_case ON docs (case_ref) WHERE case_ref IS NOT NULL;
             CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
                 title, body, refs,
                 tokenize = 'porter unicode61 remove_diacritics 2'
             );
             PRAGMA user_version = 1;
             COMMIT;",
        )
        .map_err(|e| sql_error("create the schema", e))?;
    }
    // A date filter selects its set of row ids by this index (which holds the row id)
    // rather than by reading every entry. Cases have theirs; types and families select
    // too much for one to pay for its upkeep on every write. Added to schema 1 as it
    // is (an index changes nothing an older postroom reads or writes).
    conn.execute(
        "CREATE INDEX IF NOT EXISTS docs_day ON docs (day) WHERE day IS NOT NULL",
        [],
    )
    .map_err(|e| sql_error("create the schema", e))?;
    Ok(())
}

fn sql_error(op: &str, e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    let retryable = matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    );
    StoreError::backend(BACKEND, op, retryable, e)
}

fn interrupted(e: &rusqlite::Error) -> bool {
    e.sqlite_error_code() == Some(rusqlite::ErrorCode::OperationInterrupted)
}

/// A text without the snippet marks.
fn unmarked(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains([OPEN, CLOSE]) {
        text.replace([OPEN, CLOSE], " ").into()
    } else {
        text.into()
    }
}

/// What the index holds for a document: (row id, version, filing).
fn current(conn: &Connection, doc_id: &str) -> StoreResult<Option<(i64, String, Filing)>> {
    conn.prepare_cached(
        "SELECT id, version, case_ref, doc_type, family FROM docs WHERE doc_id = ?1",
    )
    .and_then(|mut stmt| {
        stmt.query_row([doc_id], |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                Filing {
                    case_ref: row.get(2)?,
                    doc_type: row.get(3)?,
                    family: row.get(4)?,
                },
            ))
        })
        .optional()
    })
    .map_err(|e| sql_error("read", e))
}

fn set_filing(conn: &Connection, id: i64, filing: &Filing) -> StoreResult<()> {
    conn.prepare_cached("UPDATE docs SET case_ref = ?2, doc_type = ?3, family = ?4 WHERE id = ?1")
        .and_then(|mut stmt| {
            stmt.execute(params![id, filing.case_ref, filing.doc_type, filing.family])
        })
        .map_err(|e| sql_error("refile", e))?;
    Ok(())
}

/// Indexes one document inside an open write transaction.
fn write(conn: &Connection, doc: &SearchDoc, version: &str) -> StoreResult<Indexed> {
    let existing = current(conn, &doc.doc_id)?;
    if let Some((id, v, filing)) = &existing
        && v == version
    {
        if *filing == doc.filing {
            return Ok(Indexed::Unchanged);
        }
        set_filing(conn, *id, &doc.filing)?;
        return Ok(Indexed::Refiled);
    }
    let title = unmarked(doc.title());
    let body = unmarked(doc.indexed_text());
    let mut refs = reference_keys(&title);
    for key in reference_keys(&body) {
        if !refs.contains(&key) {
            refs.push(key);
        }
    }
    let refs = refs.join(" ");
    let day = doc.day().map(str::to_owned);
    let id = match existing {
        Some((id, ..)) => {
            conn.prepare_cached("DELETE FROM fts WHERE rowid = ?1")
                .and_then(|mut stmt| stmt.execute([id]))
                .map_err(|e| sql_error("index", e))?;
            conn.prepare_cached(
                "UPDATE docs SET version = ?2, case_ref = ?3, doc_type = ?4, family = ?5,
                     day = ?6, document_date = ?7, title = ?8 WHERE id = ?1",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    id,
                    version,
                    doc.filing.case_ref,
                    doc.filing.doc_type,
                    doc.filing.family,
                    day,
                    doc.document_date,
                    title
                ])
            })
            .map_err(|e| sql_error("index", e))?;
            id
        }
        None => conn
            .prepare_cached(
                "INSERT INTO docs (doc_id, version, case_ref, doc_type, family, day,
                     document_date, title) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 RETURNING id",
            )
            .and_then(|mut stmt| {
                stmt.query_row(
                    params![
                        doc.doc_id,
                        version,
                        doc.filing.case_ref,
                        doc.filing.doc_type,
                        doc.filing.family,
                        day,
                        doc.document_date,
                        title
                    ],
                    |row| row.get::<_, i64>(0),
                )
            })
            .map_err(|e| sql_error("index", e))?,
    };
    conn.prepare_cached("INSERT INTO fts (rowid, title, body, refs) VALUES (?1, ?2, ?3, ?4)")
        .and_then(|mut stmt| stmt.execute(params![id, title, body, refs]))
        .map_err(|e| sql_error("index", e))?;
    Ok(Indexed::Written)
}

/// A string as an FTS5 string: in double quotes, its own doubled.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// A term as an FTS5 expression that must match.
fn match_term(term: &Term) -> String {
    match term {
        Term::Word(w) => format!("{{title body}} : {}", quoted(w)),
        Term::Phrase(words) => format!("{{title body}} : {}", quoted(&words.join(" "))),
        Term::Prefix(p) => format!("{{title body}} : {} *", quoted(p)),
        Term::Reference {
            compact, prefix, ..
        } => format!(
            "refs : {}{}",
            quoted(compact),
            if *prefix { " *" } else { "" }
        ),
    }
}

/// The whole query as one FTS5 expression: required terms joined by AND, then each
/// excluded one with NOT.
fn match_expression(request: &SearchRequest) -> String {
    let required: Vec<String> = request
        .query
        .required()
        .map(|t| format!("({})", match_term(t)))
        .collect();
    let mut expr = format!("({})", required.join(" AND "));
    for term in request.query.excluded() {
        expr = format!("({expr} NOT ({}))", match_term(term));
    }
    expr
}

/// What the snippet highlights: any required term in the body, a reference as the
/// words it was written with.
fn highlight_expression(request: &SearchRequest) -> Option<String> {
    let parts: Vec<String> = request
        .query
        .required()
        .filter_map(|term| match term {
            Term::Word(w) => Some(format!("body : {}", quoted(w))),
            Term::Phrase(words) => Some(format!("body : {}", quoted(&words.join(" ")))),
            Term::Prefix(p) => Some(format!("body : {} *", quoted(p))),
            Term::Reference {
                written,
                compact,
                prefix,
            } => {
                let words = words_of(written);
                let star = if *prefix { " *" } else { "" };
                (!words.is_empty()).then(|| {
                    format!(
                        "body : ({}{star} OR {}{star})",
                        quoted(&words.join(" ")),
                        quoted(compact)
                    )
                })
            }
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(" OR "))
}

fn snippet_of(marked: &str) -> Snippet {
    let mut fragments = Vec::new();
    let mut rest = marked;
    while !rest.is_empty() {
        match rest.find(OPEN) {
            Some(start) => {
                if start > 0 {
                    fragments.push(Fragment {
                        text: rest[..start].to_owned(),
                        hit: false,
                    });
                }
                let after = &rest[start + OPEN.len_utf8()..];
                let end = after.find(CLOSE).unwrap_or(after.len());
                fragments.push(Fragment {
                    text: after[..end].to_owned(),
                    hit: true,
                });
                rest = after.get(end + CLOSE.len_utf8()..).unwrap_or("");
            }
            None => {
                fragments.push(Fragment {
                    text: rest.to_owned(),
                    hit: false,
                });
                rest = "";
            }
        }
    }
    // Line breaks and runs of spaces read badly in one line of results.
    for f in &mut fragments {
        f.fold_spaces();
    }
    Snippet { fragments }
}

/// A match found by the first pass: its `bm25` (lower is better) and row id.
#[derive(Clone, Copy)]
struct Match {
    bm25: f64,
    id: i64,
}

/// The page's matches with their documents, in the page's order.
struct Row {
    bm25: f64,
    id: i64,
    hit: Hit,
}

fn by_bm25(a: &Match, b: &Match) -> std::cmp::Ordering {
    a.bm25.total_cmp(&b.bm25).then(a.id.cmp(&b.id))
}

/// Two passes: the first reads only the FTS index (each match's row id and `bm25`,
/// the filters as a set of row ids made once, not a join a match), the second reads
/// the documents of the page alone (and of the matches tied with its last), orders
/// them by (`bm25`, document id) and makes their snippets. The same hits, order and
/// cursors as one `ORDER BY bm25, doc_id` over every match, without joining every
/// match to its document.
fn run_query(conn: &Connection, request: &SearchRequest) -> Result<SearchPage, SearchError> {
    use rusqlite::types::Value as V;
    request.filters.validate()?;
    let position = request.position()?;
    let limit = request.page_size() as usize;
    // `+rowid`: the filter is checked against each match, never used to look the
    // matches up one row id at a time (which would redo bm25's statistics each time).
    let mut sql = String::from("SELECT rowid, bm25(fts, 4.0, 1.0, 2.0) FROM fts WHERE fts MATCH ?");
    let mut args = vec![V::Text(match_expression(request))];
    let filters = &request.filters;
    let mut conditions = Vec::new();
    for (column, value, cmp) in [
        ("case_ref", &filters.case_ref, "="),
        ("doc_type", &filters.doc_type, "="),
        ("family", &filters.family, "="),
        ("day", &filters.from, ">="),
        ("day", &filters.to, "<="),
    ] {
        if let Some(value) = value {
            conditions.push(format!("{column} {cmp} ?"));
            args.push(V::Text(value.clone()));
        }
    }
    if let Some(scope) = &filters.scope {
        // FOI requests' references sort from `FOI_` to before `FOI` and the character
        // after `_`.
        let foi = "(case_ref >= 'FOI_' AND case_ref < 'FOI`')";
        let mut admitted = Vec::new();
        if scope.foi_requests {
            admitted.push(foi.to_owned());
        }
        if scope.other_cases {
            admitted.push(format!("(case_ref IS NOT NULL AND NOT {foi})"));
        }
        if scope.unfiled {
            admitted.push("case_ref IS NULL".to_owned());
        }
        conditions.push(if admitted.is_empty() {
            "0".to_owned()
        } else {
            format!("({})", admitted.join(" OR "))
        });
    }
    if !conditions.is_empty() {
        sql.push_str(&format!(
            " AND +rowid IN (SELECT id FROM docs WHERE {})",
            conditions.join(" AND ")
        ));
    }
    // Hits score -bm25: the next page is after (bm25, doc id) in ascending order.
    let after = position.map(|(score, doc_id)| (-score, doc_id));
    let mut matches = Vec::new();
    let mut tied = Vec::new();
    {
        let mut stmt = conn
            .prepare_cached(&sql)
            .map_err(|e| sql_error("query", e))?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(args.iter()))
            .map_err(query_error)?;
        while let Some(row) = rows.next().map_err(query_error)? {
            let get = |e| sql_error("query", e);
            let found = Match {
                id: row.get(0).map_err(get)?,
                bm25: row.get(1).map_err(get)?,
            };
            match &after {
                Some((bm25, _)) if found.bm25 < *bm25 => {}
                Some((bm25, _)) if found.bm25 == *bm25 => tied.push(found),
                _ => matches.push(found),
            }
        }
    }
    let mut rows: Vec<Row> = Vec::new();
    // Matches scored as the cursor's hit: only those after its document id.
    if let Some((_, doc_id)) = &after {
        for found in tied {
            let row = document(conn, found)?;
            if row.hit.doc_id > *doc_id {
                rows.push(row);
            }
        }
    }
    // The page needs the best `limit + 1` (one more tells whether a next page exists):
    // every match scored at least as well as the (limit + 1)th, ties included.
    let wanted = (limit + 1).saturating_sub(rows.len());
    if wanted > 0 && !matches.is_empty() {
        if matches.len() > wanted {
            matches.select_nth_unstable_by(wanted - 1, by_bm25);
            let worst = matches[wanted - 1].bm25;
            matches.retain(|m| m.bm25 <= worst);
        }
        for found in matches {
            rows.push(document(conn, found)?);
        }
    }
    rows.sort_by(|a, b| {
        a.bm25
            .total_cmp(&b.bm25)
            .then_with(|| a.hit.doc_id.cmp(&b.hit.doc_id))
    });
    let more = rows.len() > limit;
    rows.truncate(limit);
    let highlight = highlight_expression(request);
    for row in &mut rows {
        row.hit.snippet = snippet(conn, row.id, highlight.as_deref())?;
    }
    let next = if more {
        rows.last()
            .map(|r| request.cursor_after(r.hit.score, &r.hit.doc_id))
    } else {
        None
    };
    Ok(SearchPage {
        hits: rows.into_iter().map(|r| r.hit).collect(),
        next,
    })
}

/// A match with what its document's entry holds.
fn document(conn: &Connection, found: Match) -> Result<Row, SearchError> {
    let hit = conn
        .prepare_cached(
            "SELECT doc_id, case_ref, doc_type, family, document_date, title
             FROM docs WHERE id = ?1",
        )
        .and_then(|mut stmt| {
            stmt.query_row([found.id], |row| {
                Ok(Hit {
                    doc_id: row.get(0)?,
                    filing: Filing {
                        case_ref: row.get(1)?,
                        doc_type: row.get(2)?,
                        family: row.get(3)?,
                    },
                    document_date: row.get(4)?,
                    title: row.get(5)?,
                    score: -found.bm25,
                    snippet: Snippet::default(),
                })
            })
        })
        .map_err(query_error)?;
    Ok(Row {
        bm25: found.bm25,
        id: found.id,
        hit,
    })
}

fn query_error(e: rusqlite::Error) -> SearchError {
    if interrupted(&e) {
        SearchError::TooBroad
    } else {
        SearchError::Store(sql_error("query", e))
    }
}

/// The snippet of one hit: its best passage with the matches marked, else the text's
/// first words.
fn snippet(conn: &Connection, id: i64, highlight: Option<&str>) -> Result<Snippet, SearchError> {
    if let Some(expr) = highlight {
        let marked: Option<String> = conn
            .prepare_cached(&format!(
                "SELECT snippet(fts, 1, char({}), char({}), '…', {SNIPPET_WORDS})
                 FROM fts WHERE fts MATCH ?1 AND rowid = ?2",
                OPEN as u32, CLOSE as u32
            ))
            .and_then(|mut stmt| {
                stmt.query_row(params![expr, id], |row| row.get(0))
                    .optional()
            })
            .map_err(query_error)?;
        if let Some(marked) = marked.filter(|m| m.contains(OPEN)) {
            return Ok(snippet_of(&marked));
        }
    }
    let lead: Option<String> = conn
        .prepare_cached("SELECT substr(body, 1, ?2) FROM fts WHERE rowid = ?1")
        .and_then(|mut stmt| {
            stmt.query_row(params![id, LEAD_CHARS as i64], |row| row.get(0))
                .optional()
        })
        .map_err(query_error)?;
    let mut lead = lead.unwrap_or_default();
    if lead.chars().count() >= LEAD_CHARS {
        lead.push('…');
    }
    Ok(snippet_of(&lead))
}

#[async_trait]
impl Search for SqliteSearch {
    fn describe(&self) -> String {
        format!("SQLite FTS5 file {}", self.path.display())
    }

    async fn index(&self, doc: &SearchDoc) -> StoreResult<Indexed> {
        super::search::index_one(self, doc).await
    }

    async fn index_many(&self, docs: &[SearchDoc]) -> StoreResult<Vec<Indexed>> {
        let docs = super::search::checked_batch(docs)?;
        let bytes: u64 = docs
            .iter()
            .map(|(d, _)| d.indexed_text().len() as u64)
            .sum();
        self.with_conn("index", Expect::for_bytes(bytes), move |conn| {
            // Unchanged documents need no write lock.
            let mut unchanged = true;
            for (doc, version) in &docs {
                match current(conn, &doc.doc_id)? {
                    Some((_, v, filing)) if v == *version && filing == doc.filing => {}
                    _ => {
                        unchanged = false;
                        break;
                    }
                }
            }
            if unchanged {
                return Ok(vec![Indexed::Unchanged; docs.len()]);
            }
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| sql_error("begin", e))?;
            let mut done = Vec::with_capacity(docs.len());
            for (doc, version) in &docs {
                done.push(write(&tx, doc, version)?);
            }
            tx.commit().map_err(|e| sql_error("commit", e))?;
            Ok(done)
        })
        .await
    }

    async fn refile(&self, doc_id: &str, filing: &Filing) -> StoreResult<bool> {
        validate_doc_id(doc_id)?;
        let doc_id = doc_id.to_owned();
        let filing = filing.clone();
        self.with_conn("refile", Expect::Brief, move |conn| {
            match current(conn, &doc_id)? {
                Some((id, _, old)) => {
                    if old != filing {
                        set_filing(conn, id, &filing)?;
                    }
                    Ok(true)
                }
                None => Ok(false),
            }
        })
        .await
    }

    async fn remove(&self, doc_id: &str) -> StoreResult<bool> {
        validate_doc_id(doc_id)?;
        let doc_id = doc_id.to_owned();
        self.with_conn("remove", Expect::Brief, move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| sql_error("begin", e))?;
            let Some((id, ..)) = current(&tx, &doc_id)? else {
                return Ok(false);
            };
            tx.execute("DELETE FROM fts WHERE rowid = ?1", [id])
                .and_then(|_| tx.execute("DELETE FROM docs WHERE id = ?1", [id]))
                .map_err(|e| sql_error("remove", e))?;
            tx.commit().map_err(|e| sql_error("commit", e))?;
            Ok(true)
        })
        .await
    }

    async fn query(&self, request: &SearchRequest) -> Result<SearchPage, SearchError> {
        // Refused before the engine: bad filters and cursors.
        request.filters.validate()?;
        request.position()?;
        let request = request.clone();
        let watchdog = Arc::clone(&self.watchdog);
        let limit = self.time_limit;
        self.with_conn("query", Expect::Long, move |conn| {
            let started = Instant::now();
            let armed = watchdog.arm(limit);
            let outcome = run_query(conn, &request);
            drop(armed);
            // The watchdog stops a query that runs long; one that ended past its
            // time by a hair (before the watchdog woke) is refused the same way, so
            // the bound does not depend on the scheduler.
            if started.elapsed() > limit {
                return Ok(Err(SearchError::TooBroad));
            }
            Ok(outcome)
        })
        .await?
    }

    async fn doc_ids(&self, after: Option<&str>, limit: u32) -> StoreResult<Vec<String>> {
        let after = after.unwrap_or("").to_owned();
        self.with_conn("list", Expect::Long, move |conn| {
            conn.prepare_cached(
                "SELECT doc_id FROM docs WHERE doc_id > ?1 ORDER BY doc_id LIMIT ?2",
            )
            .and_then(|mut stmt| {
                stmt.query_map(params![after, i64::from(limit.max(1))], |row| row.get(0))?
                    .collect()
            })
            .map_err(|e| sql_error("list", e))
        })
        .await
    }
}

/// Stops a query that runs past its time: one thread per index, asleep unless a query
/// is running, which interrupts the connection when the query's deadline passes.
struct Watchdog {
    state: Mutex<Watch>,
    wake: Condvar,
}

struct Watch {
    handle: rusqlite::InterruptHandle,
    /// The running query's number and deadline.
    armed: Option<(u64, Instant)>,
    next: u64,
    stop: bool,
}

impl std::fmt::Debug for Watchdog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Watchdog")
    }
}

/// Disarms the watchdog when the query ends.
struct Armed<'a> {
    dog: &'a Watchdog,
    number: u64,
}

impl Drop for Armed<'_> {
    fn drop(&mut self) {
        if let Ok(mut watch) = self.dog.state.lock()
            && watch.armed.is_some_and(|(n, _)| n == self.number)
        {
            watch.armed = None;
        }
    }
}

impl Watchdog {
    fn start(handle: rusqlite::InterruptHandle) -> Arc<Watchdog> {
        let dog = Arc::new(Watchdog {
            state: Mutex::new(Watch {
                handle,
                armed: None,
                next: 0,
                stop: false,
            }),
            wake: Condvar::new(),
        });
        let weak = Arc::downgrade(&dog);
        let spawned = std::thread::Builder::new()
            .name("search-watchdog".into())
            .spawn(move || Watchdog::run(&weak));
        // Without the thread (the system refused one), queries run unbounded in time but
        // still bounded in rows; the crate logs nothing itself.
        drop(spawned);
        dog
    }

    fn run(weak: &std::sync::Weak<Watchdog>) {
        loop {
            let Some(dog) = weak.upgrade() else { return };
            let Ok(mut watch) = dog.state.lock() else {
                return;
            };
            if watch.stop {
                return;
            }
            let wait = match watch.armed {
                Some((number, deadline)) => {
                    let now = Instant::now();
                    if now >= deadline {
                        watch.handle.interrupt();
                        if watch.armed.is_some_and(|(n, _)| n == number) {
                            watch.armed = None;
                        }
                        continue;
                    }
                    deadline - now
                }
                // Wakes now and then to notice that the index was dropped.
                None => Duration::from_secs(1),
            };
            let _unused = dog.wake.wait_timeout(watch, wait);
        }
    }

    fn arm(&self, limit: Duration) -> Armed<'_> {
        let mut number = 0;
        if let Ok(mut watch) = self.state.lock() {
            watch.next += 1;
            number = watch.next;
            watch.armed = Some((number, Instant::now() + limit));
        }
        self.wake.notify_all();
        Armed { dog: self, number }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Ok(mut watch) = self.state.lock() {
            watch.stop = true;
        }
        self.wake.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::SearchQuery;

    fn expr(q: &str) -> String {
        match_expression(&SearchRequest::new(SearchQuery::parse(q).expect("parses")))
    }

    #[test]
    fn every_term_is_quoted_before_fts5_sees_it() {
        assert_eq!(expr("mri"), "(({title body} : \"mri\"))");
        assert_eq!(
            expr("\"letter of claim\" -draft radiolog*"),
            "((({title body} : \"letter of claim\") AND ({title body} : \"radiolog\" *)) NOT ({title body} : \"draft\"))"
        );
        assert_eq!(expr("CNST/24/004512"), "((refs : \"cnst24004512\"))");
        assert_eq!(
            expr("AND NOT"),
            "(({title body} : \"and\") AND ({title body} : \"not\"))"
        );
    }

    #[test]
    fn snippets_split_into_marked_parts() {
        let s = snippet_of("…the \u{E000}MRI\u{E001} on 3\n\nApril \u{E000}scan\u{E001}");
        assert_eq!(s.marked("[", "]"), "…the [MRI] on 3 April [scan]");
        assert_eq!(s.fragments.iter().filter(|f| f.hit).count(), 2);
    }
}
