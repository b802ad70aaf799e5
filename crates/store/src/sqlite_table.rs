//! `SqliteTable`: the embedded `Table` adapter, one SQLite file in WAL mode.
//!
//! Items are stored whole as JSON beside their key columns. Every conditional write and
//! every transaction runs inside `BEGIN IMMEDIATE`, which takes SQLite's write lock
//! before the condition is read, so two writers (threads or processes) cannot both see
//! "absent" and both write. Pages stop at the same 1 MB as DynamoDB's.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::Value;

use super::Expect;
use super::error::{StoreError, StoreResult};
use super::table::{
    Condition, Cursor, GSI1_PK, GSI1_SK, Item, Key, MAX_PAGE_BYTES, Page, Query, Table, TxOp,
    Update, prefix_upper_bound, validate_item, validate_key, validate_transaction,
};

const BACKEND: &str = "SQLite";
const SCHEMA_VERSION: i64 = 2;
const DEFAULT_PAGE_ITEMS: u32 = 1000;

/// Pages of write-ahead log between checkpoints (SQLite's default is 1,000).
const WAL_CHECKPOINT_PAGES: i64 = 8000;

/// The page cache's bound, in KiB.
const CACHE_KIB: i64 = 16 * 1024;

/// The single table in an SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteTable {
    path: PathBuf,
    conn: Arc<Mutex<Connection>>,
}

impl SqliteTable {
    /// Opens (creating if needed) the table in the SQLite file at `path`.
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
        // Checkpoint (and sync) every 8,000 pages of log rather than 1,000: a document
        // filed writes some 25 pages, and each checkpoint syncs the disk twice.
        conn.pragma_update(None, "wal_autocheckpoint", WAL_CHECKPOINT_PAGES)
            .map_err(|e| sql_error("configure", e))?;
        // Up to 16 MiB of pages in memory: SQLite's default of 2 MB is outgrown by a
        // thousand documents or so, after which filing reads pages back from the file.
        conn.pragma_update(None, "cache_size", -CACHE_KIB)
            .map_err(|e| sql_error("configure", e))?;

        migrate(&conn)?;
        Ok(SqliteTable {
            path,
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` with the connection: in place for a point operation or a transaction,
    /// handing the async worker's other tasks over first for a query or a scan (up to
    /// 1 MB of items). A write that finds another process holding the file's write lock
    /// waits in place for up to the busy timeout; only the CLI shares the file.
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
            format!("the file was written by a newer postroom (schema {version})"),
        ));
    }
    if version < 1 {
        conn.execute_batch(
            "BEGIN;
             CREATE TABLE IF NOT EXISTS items (
                 pk     TEXT NOT NULL,
                 sk     TEXT NOT NULL,
                 gsi1pk TEXT,
                 gsi1sk TEXT,
                 shard  INTEGER NOT NULL,
                 body   TEXT NOT NULL,
                 PRIMARY KEY (pk, sk)
             ) WITHOUT ROWID;
             CREATE INDEX IF NOT EXISTS items_gsi1 ON items (gsi1pk, gsi1sk, pk, sk)
                 WHERE gsi1pk IS NOT NULL;
             PRAGMA user_version = 1;
             COMMIT;",
        )
        .map_err(|e| sql_error("create the schema", e))?;
    }
    if version < 2 {
        // Version 1 indexed (shard, pk, sk), but a scan filters `shard % n` over the
        // primary key, which no index on `shard` serves: the index cost every write
        // a page and no read used it.
        conn.execute_batch(
            "BEGIN;
             DROP INDEX IF EXISTS items_shard;
             PRAGMA user_version = 2;
             COMMIT;",
        )
        .map_err(|e| sql_error("upgrade the schema to version 2", e))?;
    }
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

/// The scan shard of a partition key: FNV-1a, so a partition stays in one segment.
fn shard_of(pk: &str) -> i64 {
    let mut hash: u32 = 0x811c_9dc5;
    for b in pk.bytes() {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    i64::from(hash)
}

fn load(conn: &Connection, key: &Key) -> StoreResult<Option<Item>> {
    let body: Option<String> = conn
        .prepare_cached("SELECT body FROM items WHERE pk = ?1 AND sk = ?2")
        .and_then(|mut stmt| {
            stmt.query_row(params![key.pk, key.sk], |row| row.get(0))
                .optional()
        })
        .map_err(|e| sql_error("get", e))?;
    body.map(|b| parse_body(&b)).transpose()
}

/// Whether an item has this key (without reading and decoding it).
fn exists(conn: &Connection, key: &Key) -> StoreResult<bool> {
    conn.prepare_cached("SELECT 1 FROM items WHERE pk = ?1 AND sk = ?2")
        .and_then(|mut stmt| stmt.exists(params![key.pk, key.sk]))
        .map_err(|e| sql_error("get", e))
}

fn parse_body(body: &str) -> StoreResult<Item> {
    serde_json::from_str(body).map_err(|e| StoreError::backend(BACKEND, "decode an item", false, e))
}

fn store(conn: &Connection, item: &Item) -> StoreResult<()> {
    let key = Key::of(item)?;
    let gsi1pk = item.get(GSI1_PK).and_then(Value::as_str);
    let gsi1sk = item.get(GSI1_SK).and_then(Value::as_str);
    let body = serde_json::to_string(item)
        .map_err(|e| StoreError::backend(BACKEND, "encode an item", false, e))?;
    conn.prepare_cached(
        "INSERT INTO items (pk, sk, gsi1pk, gsi1sk, shard, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (pk, sk) DO UPDATE SET
             gsi1pk = excluded.gsi1pk, gsi1sk = excluded.gsi1sk, body = excluded.body",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            key.pk,
            key.sk,
            gsi1pk,
            gsi1sk,
            shard_of(&key.pk),
            body
        ])
    })
    .map_err(|e| sql_error("put", e))?;
    Ok(())
}

fn erase(conn: &Connection, key: &Key) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM items WHERE pk = ?1 AND sk = ?2")
        .and_then(|mut stmt| stmt.execute(params![key.pk, key.sk]))
        .map_err(|e| sql_error("delete", e))?;
    Ok(())
}

/// Applies one operation inside an open transaction: `Ok(None)` when its condition
/// fails, else the item written by an update (and an empty item for the others). The
/// current item is read and decoded only where it matters (an update, a version
/// condition); existence alone decides `Absent` and `Exists`.
fn apply(conn: &Connection, op: &TxOp) -> StoreResult<Option<Item>> {
    let key = op.key()?;
    let condition = op.condition();
    let current = match (op, condition) {
        (TxOp::Update(_), _) | (_, Condition::VersionEquals(_)) => load(conn, &key)?,
        (_, Condition::None) => None,
        (_, Condition::Absent | Condition::Exists) => exists(conn, &key)?.then(Item::new),
    };
    if !condition.holds(current.as_ref()) {
        return Ok(None);
    }
    let result = match op {
        TxOp::Put { item, .. } => {
            store(conn, item)?;
            Item::new()
        }
        TxOp::Update(update) => {
            let item = update.apply(current);
            validate_item(&item)?;
            store(conn, &item)?;
            item
        }
        TxOp::Delete { .. } => {
            erase(conn, &key)?;
            Item::new()
        }
        TxOp::Check { .. } => Item::new(),
    };
    Ok(Some(result))
}

/// Runs operations all-or-nothing under SQLite's write lock.
fn run_transaction(conn: &mut Connection, ops: &[TxOp]) -> StoreResult<Vec<Item>> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| sql_error("begin", e))?;
    let mut results = Vec::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        match apply(&tx, op)? {
            Some(item) => results.push(item),
            None => {
                // Dropping `tx` rolls back everything written so far.
                let key = op.key()?;
                return Err(StoreError::condition(if ops.len() == 1 {
                    format!("{key}")
                } else {
                    format!("operation {i} of the transaction ({key})")
                }));
            }
        }
    }
    tx.commit().map_err(|e| sql_error("commit", e))?;
    Ok(results)
}

struct PageSpec {
    sql: String,
    args: Vec<rusqlite::types::Value>,
    limit: u32,
}

fn run_page(
    conn: &Connection,
    spec: PageSpec,
    cursor_of: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<String>,
) -> StoreResult<Page> {
    let mut stmt = conn
        .prepare_cached(&spec.sql)
        .map_err(|e| sql_error("query", e))?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(spec.args.iter()))
        .map_err(|e| sql_error("query", e))?;
    let mut items = Vec::new();
    let mut bytes = 0usize;
    let mut last_cursor = None;
    let mut more = false;
    while let Some(row) = rows.next().map_err(|e| sql_error("query", e))? {
        if items.len() as u32 >= spec.limit || bytes >= MAX_PAGE_BYTES {
            more = true;
            break;
        }
        let body: String = row.get("body").map_err(|e| sql_error("query", e))?;
        bytes += body.len();
        items.push(parse_body(&body)?);
        last_cursor = Some(cursor_of(row).map_err(|e| sql_error("query", e))?);
    }
    Ok(Page {
        items,
        next: if more { last_cursor.map(Cursor) } else { None },
    })
}

fn decode_cursor(cursor: &Cursor) -> StoreResult<Vec<String>> {
    serde_json::from_str(&cursor.0)
        .map_err(|_| StoreError::invalid("a cursor that this table did not give"))
}

/// A prefix query over `key_col` within `part_col = pk`, ordered by the given columns.
fn prefix_query(index: bool, query: &Query) -> StoreResult<PageSpec> {
    use rusqlite::types::Value as V;
    let (part_col, order_cols): (&str, &[&str]) = if index {
        ("gsi1pk", &["gsi1sk", "pk", "sk"])
    } else {
        ("pk", &["sk"])
    };
    query.validate()?;
    let key_col = order_cols[0];
    let mut sql = format!("SELECT * FROM items WHERE {part_col} = ?");
    let mut args = vec![V::Text(query.pk.clone())];
    if let Some(before) = &query.sk_before {
        sql.push_str(&format!(" AND {key_col} < ?"));
        args.push(V::Text(before.clone()));
    }
    if let Some(from) = &query.sk_from {
        sql.push_str(&format!(" AND {key_col} >= ?"));
        args.push(V::Text(from.clone()));
    }
    if !query.sk_prefix.is_empty() {
        sql.push_str(&format!(" AND {key_col} >= ?"));
        args.push(V::Text(query.sk_prefix.clone()));
        if let Some(upper) = prefix_upper_bound(&query.sk_prefix) {
            sql.push_str(&format!(" AND {key_col} < ?"));
            args.push(V::Text(upper));
        }
    }
    let (cmp, dir) = if query.descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    if let Some(cursor) = &query.cursor {
        let values = decode_cursor(cursor)?;
        if values.len() != order_cols.len() {
            return Err(StoreError::invalid("a cursor from another query"));
        }
        sql.push_str(&format!(
            " AND ({}) {cmp} ({})",
            order_cols.join(", "),
            vec!["?"; values.len()].join(", ")
        ));
        args.extend(values.into_iter().map(V::Text));
    }
    let order: Vec<String> = order_cols.iter().map(|c| format!("{c} {dir}")).collect();
    sql.push_str(&format!(" ORDER BY {}", order.join(", ")));
    let limit = query.limit.unwrap_or(DEFAULT_PAGE_ITEMS).max(1);
    sql.push_str(&format!(" LIMIT {}", u64::from(limit) + 1));
    Ok(PageSpec { sql, args, limit })
}

fn columns_cursor(
    cols: &'static [&'static str],
) -> impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<String> {
    move |row| {
        let values: Vec<String> = cols
            .iter()
            .map(|c| row.get::<_, String>(*c))
            .collect::<rusqlite::Result<_>>()?;
        Ok(serde_json::to_string(&values).unwrap_or_default())
    }
}

#[async_trait]
impl Table for SqliteTable {
    fn describe(&self) -> String {
        format!("SQLite file {}", self.path.display())
    }

    async fn health(&self) -> StoreResult<()> {
        self.with_conn("health check", Expect::Brief, |conn| {
            // Take the write lock and give it back: proves the file is writable.
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| sql_error("take the write lock", e))?;
            tx.query_row("SELECT count(*) FROM items WHERE pk = ''", [], |row| {
                row.get::<_, i64>(0)
            })
            .map_err(|e| sql_error("read", e))?;
            tx.rollback()
                .map_err(|e| sql_error("release the write lock", e))
        })
        .await
    }

    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        validate_key(key)?;
        let key = key.clone();
        self.with_conn("get", Expect::Brief, move |conn| load(conn, &key))
            .await
    }

    async fn put(&self, item: Item, condition: Condition) -> StoreResult<()> {
        validate_item(&item)?;
        self.with_conn("put", Expect::Brief, move |conn| {
            run_transaction(conn, &[TxOp::Put { item, condition }]).map(drop)
        })
        .await
    }

    async fn update(&self, update: Update) -> StoreResult<Item> {
        update.validate()?;
        self.with_conn("update", Expect::Brief, move |conn| {
            let mut results = run_transaction(conn, &[TxOp::Update(update)])?;
            Ok(results.pop().unwrap_or_default())
        })
        .await
    }

    async fn delete(&self, key: &Key, condition: Condition) -> StoreResult<()> {
        validate_key(key)?;
        let key = key.clone();
        self.with_conn("delete", Expect::Brief, move |conn| {
            run_transaction(conn, &[TxOp::Delete { key, condition }]).map(drop)
        })
        .await
    }

    async fn query(&self, query: &Query) -> StoreResult<Page> {
        let spec = prefix_query(false, query)?;
        self.with_conn("query", Expect::Long, move |conn| {
            run_page(conn, spec, columns_cursor(&["sk"]))
        })
        .await
    }

    async fn query_gsi1(&self, query: &Query) -> StoreResult<Page> {
        let spec = prefix_query(true, query)?;
        self.with_conn("query GSI1", Expect::Long, move |conn| {
            run_page(conn, spec, columns_cursor(&["gsi1sk", "pk", "sk"]))
        })
        .await
    }

    async fn scan(
        &self,
        segment: u32,
        total_segments: u32,
        cursor: Option<&Cursor>,
    ) -> StoreResult<Page> {
        use rusqlite::types::Value as V;
        if total_segments == 0 || segment >= total_segments {
            return Err(StoreError::invalid(format!(
                "scan segment {segment} of {total_segments}"
            )));
        }
        let mut sql = String::from("SELECT * FROM items WHERE shard % ? = ?");
        let mut args = vec![
            V::Integer(total_segments.into()),
            V::Integer(segment.into()),
        ];
        if let Some(cursor) = cursor {
            let values = decode_cursor(cursor)?;
            if values.len() != 2 {
                return Err(StoreError::invalid("a cursor from another query"));
            }
            sql.push_str(" AND (pk, sk) > (?, ?)");
            args.extend(values.into_iter().map(V::Text));
        }
        sql.push_str(&format!(
            " ORDER BY pk, sk LIMIT {}",
            DEFAULT_PAGE_ITEMS + 1
        ));
        let spec = PageSpec {
            sql,
            args,
            limit: DEFAULT_PAGE_ITEMS,
        };
        self.with_conn("scan", Expect::Long, move |conn| {
            run_page(conn, spec, columns_cursor(&["pk", "sk"]))
        })
        .await
    }

    async fn transact(&self, ops: Vec<TxOp>) -> StoreResult<()> {
        validate_transaction(&ops)?;
        self.with_conn("transaction", Expect::Brief, move |conn| {
            run_transaction(conn, &ops).map(drop)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_version_1_file_loses_the_shard_index_and_keeps_its_items() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("v1.sqlite3");
        {
            let conn = Connection::open(&path).expect("open");
            conn.execute_batch(
                "CREATE TABLE items (pk TEXT NOT NULL, sk TEXT NOT NULL, gsi1pk TEXT,
                     gsi1sk TEXT, shard INTEGER NOT NULL, body TEXT NOT NULL,
                     PRIMARY KEY (pk, sk)) WITHOUT ROWID;
                 CREATE INDEX items_gsi1 ON items (gsi1pk, gsi1sk, pk, sk)
                     WHERE gsi1pk IS NOT NULL;
                 CREATE INDEX items_shard ON items (shard, pk, sk);
                 INSERT INTO items VALUES ('CASE#1', 'CASE#1', NULL, NULL, 7,
                     '{\"pk\":\"CASE#1\",\"sk\":\"CASE#1\",\"status\":\"open\"}');
                 PRAGMA user_version = 1;",
            )
            .expect("a version-1 file");
        }
        let table = SqliteTable::open(&path).expect("upgrade");
        let item = table
            .get(&Key::new("CASE#1", "CASE#1"))
            .await
            .expect("get")
            .expect("the item is kept");
        assert_eq!(item["status"], "open");
        let conn = Connection::open(&path).expect("reopen");
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .expect("version");
        assert_eq!(version, SCHEMA_VERSION);
        let indexes: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name")
            .and_then(|mut stmt| stmt.query_map([], |row| row.get(0))?.collect())
            .expect("indexes");
        assert_eq!(indexes, ["items_gsi1"]);
        // Opening it again changes nothing.
        drop(table);
        SqliteTable::open(&path).expect("open again");
    }
}
