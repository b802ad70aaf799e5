//! The `Table` port: a single-table key-value store with conditions, queries and transactions.
//!
//! Items are JSON objects. Every item has the string attributes `PK` and `SK`; items that
//! appear in the secondary index also have `GSI1PK` and `GSI1SK`. Optimistic concurrency
//! uses a numeric `version` attribute that callers set.

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::error::{StoreError, StoreResult};

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1: &str = "GSI1";
pub const GSI1_PK: &str = "GSI1PK";
pub const GSI1_SK: &str = "GSI1SK";
pub const VERSION: &str = "version";

/// DynamoDB's item size limit (400 KB); the embedded adapter enforces the same.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;
/// DynamoDB's query/scan page limit (1 MB); the embedded adapter pages the same way.
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;
/// DynamoDB's limit on operations in one transaction.
pub const MAX_TRANSACTION_OPS: usize = 100;
/// DynamoDB's limits on key attribute lengths, in UTF-8 bytes.
const MAX_PK_BYTES: usize = 2048;
const MAX_SK_BYTES: usize = 1024;

/// A stored item: a JSON object with at least `PK` and `SK`.
pub type Item = Map<String, Value>;

/// The primary key of an item.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Key {
            pk: pk.into(),
            sk: sk.into(),
        }
    }

    /// The key of an item, if it has string `PK` and `SK`.
    pub fn of(item: &Item) -> StoreResult<Key> {
        let pk = item.get(PK).and_then(Value::as_str);
        let sk = item.get(SK).and_then(Value::as_str);
        match (pk, sk) {
            (Some(pk), Some(sk)) => Ok(Key::new(pk, sk)),
            _ => Err(StoreError::invalid(
                "an item needs string PK and SK attributes",
            )),
        }
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} / {}", self.pk, self.sk)
    }
}

/// A write condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Condition {
    /// Write whatever is there.
    #[default]
    None,
    /// Only if no item has this key.
    Absent,
    /// Only if an item has this key.
    Exists,
    /// Only if the item exists and its `version` attribute equals this number.
    VersionEquals(u64),
}

impl Condition {
    /// Whether the condition holds for the current item (None when absent).
    pub fn holds(self, current: Option<&Item>) -> bool {
        match self {
            Condition::None => true,
            Condition::Absent => current.is_none(),
            Condition::Exists => current.is_some(),
            Condition::VersionEquals(n) => {
                current
                    .and_then(|item| item.get(VERSION))
                    .and_then(Value::as_u64)
                    == Some(n)
            }
        }
    }
}

/// A partial update: set some attributes and remove others, under a condition.
/// Without a condition (or with `Absent`) a missing item is created.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    pub key: Key,
    pub set: Item,
    pub remove: Vec<String>,
    pub condition: Condition,
}

impl Update {
    pub fn new(key: Key) -> Self {
        Update {
            key,
            set: Item::new(),
            remove: Vec::new(),
            condition: Condition::None,
        }
    }

    pub fn set(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.set.insert(name.into(), value.into());
        self
    }

    pub fn remove(mut self, name: impl Into<String>) -> Self {
        self.remove.push(name.into());
        self
    }

    pub fn when(mut self, condition: Condition) -> Self {
        self.condition = condition;
        self
    }

    /// Applies the update to the current item (or to a new one holding only the key).
    pub fn apply(&self, current: Option<Item>) -> Item {
        let mut item = current.unwrap_or_else(|| {
            let mut fresh = Item::new();
            fresh.insert(PK.into(), Value::String(self.key.pk.clone()));
            fresh.insert(SK.into(), Value::String(self.key.sk.clone()));
            fresh
        });
        for (name, value) in &self.set {
            item.insert(name.clone(), value.clone());
        }
        for name in &self.remove {
            item.remove(name);
        }
        item
    }

    pub(crate) fn validate(&self) -> StoreResult<()> {
        validate_key(&self.key)?;
        for name in self.set.keys().chain(self.remove.iter()) {
            if name == PK || name == SK {
                return Err(StoreError::invalid("an update may not change PK or SK"));
            }
            if name.is_empty() {
                return Err(StoreError::invalid("an attribute name may not be empty"));
            }
        }
        for (name, value) in &self.set {
            check_numbers(name, value)?;
        }
        for name in [GSI1_PK, GSI1_SK] {
            if let Some(value) = self.set.get(name) {
                check_index_key(name, value)?;
            }
        }
        Ok(())
    }
}

/// One operation of a transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum TxOp {
    Put { item: Item, condition: Condition },
    Update(Update),
    Delete { key: Key, condition: Condition },
    Check { key: Key, condition: Condition },
}

impl TxOp {
    pub fn key(&self) -> StoreResult<Key> {
        match self {
            TxOp::Put { item, .. } => Key::of(item),
            TxOp::Update(update) => Ok(update.key.clone()),
            TxOp::Delete { key, .. } | TxOp::Check { key, .. } => Ok(key.clone()),
        }
    }

    pub fn condition(&self) -> Condition {
        match self {
            TxOp::Put { condition, .. }
            | TxOp::Delete { condition, .. }
            | TxOp::Check { condition, .. } => *condition,
            TxOp::Update(update) => update.condition,
        }
    }
}

/// Checks a transaction as DynamoDB would: 1..=100 ops, each valid, no item twice.
pub(crate) fn validate_transaction(ops: &[TxOp]) -> StoreResult<()> {
    if ops.is_empty() {
        return Err(StoreError::invalid(
            "a transaction needs at least one operation",
        ));
    }
    if ops.len() > MAX_TRANSACTION_OPS {
        return Err(StoreError::too_large(format!(
            "transaction of {} operations (at most {MAX_TRANSACTION_OPS})",
            ops.len()
        )));
    }
    let mut seen = std::collections::HashSet::new();
    for op in ops {
        match op {
            TxOp::Put { item, .. } => validate_item(item)?,
            TxOp::Update(update) => {
                update.validate()?;
                if update.set.is_empty() && update.remove.is_empty() {
                    return Err(StoreError::invalid(
                        "a transaction update must set or remove something",
                    ));
                }
            }
            TxOp::Delete { key, .. } => validate_key(key)?,
            TxOp::Check { key, condition } => {
                validate_key(key)?;
                if *condition == Condition::None {
                    return Err(StoreError::invalid("a condition check needs a condition"));
                }
            }
        }
        let key = op.key()?;
        if !seen.insert(key.clone()) {
            return Err(StoreError::invalid(format!(
                "a transaction may touch an item once; {key} appears twice"
            )));
        }
    }
    Ok(())
}

/// An opaque position in a paginated result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(pub String);

/// A query on a partition: items whose sort key starts with `sk_prefix` (or, instead,
/// sorts before `sk_before` or from `sk_from` on), ordered by it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub pk: String,
    pub sk_prefix: String,
    /// Only sort keys below this one (not with a prefix or `sk_from`).
    pub sk_before: Option<String>,
    /// Only sort keys from this one on (not with a prefix or `sk_before`).
    pub sk_from: Option<String>,
    pub descending: bool,
    /// At most this many items a page (a page also stops at 1 MB).
    pub limit: Option<u32>,
    pub cursor: Option<Cursor>,
}

impl Query {
    pub fn new(pk: impl Into<String>) -> Self {
        Query {
            pk: pk.into(),
            ..Query::default()
        }
    }

    pub fn prefix(mut self, sk_prefix: impl Into<String>) -> Self {
        self.sk_prefix = sk_prefix.into();
        self
    }

    /// Only the sort keys that sort before `sk` (a key condition of its own: not with a
    /// prefix or `from`).
    pub fn before(mut self, sk: impl Into<String>) -> Self {
        self.sk_before = Some(sk.into());
        self
    }

    /// Only the sort keys from `sk` on (not with a prefix or `before`).
    pub fn from(mut self, sk: impl Into<String>) -> Self {
        self.sk_from = Some(sk.into());
        self
    }

    /// A query asks for one condition on the sort key at most (as DynamoDB's key
    /// conditions allow).
    pub fn validate(&self) -> StoreResult<()> {
        let conditions = usize::from(!self.sk_prefix.is_empty())
            + usize::from(self.sk_before.is_some())
            + usize::from(self.sk_from.is_some());
        if conditions > 1 {
            return Err(StoreError::invalid(
                "a query takes one condition on the sort key: a prefix, before or from",
            ));
        }
        Ok(())
    }

    pub fn descending(mut self) -> Self {
        self.descending = true;
        self
    }

    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    pub fn after(mut self, cursor: Option<Cursor>) -> Self {
        self.cursor = cursor;
        self
    }
}

/// One page of items.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub items: Vec<Item>,
    /// Pass back for the next page; `None` on the last page.
    pub next: Option<Cursor>,
}

/// The single table. Implemented by `SqliteTable` and `DynamoTable`.
#[async_trait]
pub trait Table: Send + Sync + std::fmt::Debug {
    /// A short name of the backend and its location, for messages.
    fn describe(&self) -> String;

    /// Checks that the table exists with the expected keys and index.
    async fn health(&self) -> StoreResult<()>;

    /// Reads one item; `None` when absent.
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>>;

    /// Writes a whole item if the condition holds, else `ConditionFailed`.
    async fn put(&self, item: Item, condition: Condition) -> StoreResult<()>;

    /// Updates some attributes if the condition holds and returns the new item.
    async fn update(&self, update: Update) -> StoreResult<Item>;

    /// Deletes an item if the condition holds; deleting an absent item with no
    /// condition succeeds.
    async fn delete(&self, key: &Key, condition: Condition) -> StoreResult<()>;

    /// Items of partition `query.pk` whose sort key starts with `query.sk_prefix`.
    async fn query(&self, query: &Query) -> StoreResult<Page>;

    /// The same on the secondary index: `GSI1PK` equals `query.pk`, prefix on `GSI1SK`.
    async fn query_gsi1(&self, query: &Query) -> StoreResult<Page>;

    /// One segment of a parallel scan over every item (`segment < total_segments`).
    /// Every item falls in exactly one segment; a partition stays in one segment.
    async fn scan(
        &self,
        segment: u32,
        total_segments: u32,
        cursor: Option<&Cursor>,
    ) -> StoreResult<Page>;

    /// All operations or none. `ConditionFailed` names the first operation whose
    /// condition did not hold.
    async fn transact(&self, ops: Vec<TxOp>) -> StoreResult<()>;

    /// Every page of a query, collected.
    async fn query_all(&self, query: &Query) -> StoreResult<Vec<Item>> {
        let mut query = query.clone();
        let mut items = Vec::new();
        loop {
            let page = self.query(&query).await?;
            items.extend(page.items);
            match page.next {
                Some(next) => query.cursor = Some(next),
                None => return Ok(items),
            }
        }
    }
}

/// DynamoDB's item size: attribute names plus values, by its published rules.
/// The strings of a list attribute (`item.get("roles")`, a JSON pointer's value):
/// empty when absent or not a list; entries that are not strings are skipped.
pub fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

pub fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

fn value_size(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(_) => 1,
        Value::String(s) => s.len(),
        // Numbers: about one byte per two significant digits, plus one.
        Value::Number(n) => n.to_string().len().div_ceil(2) + 1,
        Value::Array(values) => 3 + values.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        Value::Object(map) => {
            3 + map
                .iter()
                .map(|(k, v)| 1 + k.len() + value_size(v))
                .sum::<usize>()
        }
    }
}

pub(crate) fn validate_key(key: &Key) -> StoreResult<()> {
    if key.pk.is_empty() || key.sk.is_empty() {
        return Err(StoreError::invalid("PK and SK may not be empty"));
    }
    if key.pk.len() > MAX_PK_BYTES || key.sk.len() > MAX_SK_BYTES {
        return Err(StoreError::too_large(format!(
            "key of {} + {} bytes (PK at most {MAX_PK_BYTES}, SK at most {MAX_SK_BYTES})",
            key.pk.len(),
            key.sk.len()
        )));
    }
    Ok(())
}

fn check_index_key(name: &str, value: &Value) -> StoreResult<()> {
    match value {
        Value::String(s) if !s.is_empty() => Ok(()),
        _ => Err(StoreError::invalid(format!(
            "{name} must be a non-empty string"
        ))),
    }
}

/// Checks an item before it is written: keys present and in bounds, index keys are
/// strings, size within 400 KB.
pub fn validate_item(item: &Item) -> StoreResult<()> {
    validate_key(&Key::of(item)?)?;
    for name in [GSI1_PK, GSI1_SK] {
        if let Some(value) = item.get(name) {
            check_index_key(name, value)?;
        }
    }
    for (name, value) in item {
        check_numbers(name, value)?;
    }
    let size = item_size(item);
    if size > MAX_ITEM_BYTES {
        return Err(StoreError::too_large(format!(
            "item of {size} bytes (at most {MAX_ITEM_BYTES})"
        )));
    }
    Ok(())
}

/// DynamoDB's numbers are below 1E+126 in magnitude (its largest is 38 nines E+125, and
/// no f64 lies between that and 1E+126) and at least 1E-130 above zero: every adapter
/// refuses a number outside them alike.
const NUMBER_BOUND: f64 = 1e126;
const MIN_NUMBER: f64 = 1e-130;

/// Refuses numbers DynamoDB cannot hold, anywhere in an attribute's value.
fn check_numbers(name: &str, value: &Value) -> StoreResult<()> {
    match value {
        Value::Number(n) => {
            let f = n.as_f64().unwrap_or(0.0);
            if !f.is_finite() || (f != 0.0 && !(MIN_NUMBER..NUMBER_BOUND).contains(&f.abs())) {
                return Err(StoreError::invalid(format!(
                    "attribute {name:?} holds the number {n}, outside what the store can hold (1E-130 to 9.99E+125)"
                )));
            }
            Ok(())
        }
        Value::Array(items) => items.iter().try_for_each(|v| check_numbers(name, v)),
        Value::Object(map) => map.values().try_for_each(|v| check_numbers(name, v)),
        _ => Ok(()),
    }
}

/// The smallest string greater than every string that starts with `prefix`, if any:
/// the exclusive upper bound of a prefix range under UTF-8 byte (= code point) order.
#[cfg_attr(not(feature = "embedded"), allow(dead_code))]
pub(crate) fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = last as u32 + 1;
        if (0xD800..=0xDFFF).contains(&next) {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_bound_covers_every_extension() {
        assert_eq!(prefix_upper_bound("DOC#").as_deref(), Some("DOC$"));
        assert_eq!(prefix_upper_bound(""), None);
        let top = format!("a{}", char::MAX);
        assert_eq!(prefix_upper_bound(&top).as_deref(), Some("b"));
        assert_eq!(prefix_upper_bound("\u{D7FF}").as_deref(), Some("\u{E000}"));
        let bound = prefix_upper_bound("CASE#é").unwrap();
        assert!("CASE#é\u{10FFFF}zz" < bound.as_str());
        assert!("CASE#ê" >= bound.as_str());
    }

    #[test]
    fn conditions_hold_as_documented() {
        let mut item = Item::new();
        item.insert(VERSION.into(), 3.into());
        assert!(Condition::None.holds(None));
        assert!(Condition::Absent.holds(None));
        assert!(!Condition::Absent.holds(Some(&item)));
        assert!(Condition::Exists.holds(Some(&item)));
        assert!(Condition::VersionEquals(3).holds(Some(&item)));
        assert!(!Condition::VersionEquals(2).holds(Some(&item)));
        assert!(!Condition::VersionEquals(3).holds(None));
    }
}
