//! The cases list, read from the table's secondary index instead of a scan: a claim's,
//! an appeal's or an advice case's record carries GSI1 keys `CASES` /
//! `<kind>#<status>#<reference>` (`listing_keys`), written with the record and kept in
//! step when its status changes; FOI requests are listed by their register's partitions
//! (`FOI#<status>`). A page of the list reads about one page of the index whatever the
//! number of cases. `relist` gives the keys to records written before they existed.

use serde_json::{Value, json};

use super::{Paged, decode_position, encode_position};
use crate::foi::lifecycle::Status;
use crate::model::{CaseKind, keys};
use crate::store::{
    Condition, Cursor, GSI1_PK, GSI1_SK, Item, Key, Query, StoreError, Table, Update,
};
use crate::views::CaseSummary;

/// The kinds of case listed under `CASES`, in the order they sort.
pub const LISTED_KINDS: [&str; 3] = ["advice", "appeal", "claim"];

/// The marker recorded once every case record has its listing keys (`relist`).
const RELISTED: (&str, &str) = ("SCHEMA", "CASES_LISTED");

/// A case record's listing keys (GSI1 partition and sort key); `None` for an FOI request
/// (its register lists it) or a record that is not a case's.
pub fn listing_keys(case: &Item) -> Option<(String, String)> {
    let text = |name: &str| case.get(name).and_then(Value::as_str);
    let case_ref = text("case_ref").or_else(|| {
        text("PK")
            .and_then(|pk| pk.strip_prefix(keys::CASE_PREFIX))
            .filter(|_| text("SK") == Some(keys::META))
    })?;
    let kind = match text("kind") {
        Some(kind) => kind.to_owned(),
        None => match CaseKind::of_reference(case_ref) {
            CaseKind::Claim => "claim".to_owned(),
            CaseKind::Appeal => "appeal".to_owned(),
            CaseKind::Foi => "foi".to_owned(),
        },
    };
    if kind == "foi" {
        return None;
    }
    let status = text("status").unwrap_or("open");
    Some((
        keys::CASES.to_owned(),
        keys::case_listing(&kind, status, case_ref),
    ))
}

/// Gives a new case record its listing keys (none for an FOI request).
pub fn with_listing(mut case: Item) -> Item {
    if let Some((pk, sk)) = listing_keys(&case) {
        case.insert(GSI1_PK.to_owned(), json!(pk));
        case.insert(GSI1_SK.to_owned(), json!(sk));
    }
    case
}

/// Which cases a page of the list shows: a kind, a status, both or neither.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseFilter {
    /// One of `LISTED_KINDS`.
    pub kind: Option<String>,
    /// One word (`open`, `closed`, `settled`, …).
    pub status: Option<String>,
}

impl CaseFilter {
    /// The index's sort-key prefixes that hold the cases it selects, in the list's order.
    fn prefixes(&self) -> Result<Vec<String>, StoreError> {
        if let Some(kind) = &self.kind
            && !LISTED_KINDS.contains(&kind.as_str())
        {
            return Err(StoreError::Invalid {
                what: format!("cases are listed by kind: {}", LISTED_KINDS.join(", ")),
            });
        }
        if let Some(status) = &self.status
            && (status.is_empty()
                || status.len() > 40
                || !status.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        {
            return Err(StoreError::Invalid {
                what: "a case's status is one word".into(),
            });
        }
        Ok(match (&self.kind, &self.status) {
            (None, None) => vec![String::new()],
            (Some(kind), None) => vec![format!("{kind}#")],
            (Some(kind), Some(status)) => vec![format!("{kind}#{status}#")],
            (None, Some(status)) => LISTED_KINDS
                .iter()
                .map(|kind| format!("{kind}#{status}#"))
                .collect(),
        })
    }
}

/// One page of the cases `filter` selects (by kind, then status, then reference),
/// starting after `after` (a position an earlier page of the same filter gave), at most
/// `limit` cases.
pub async fn page(
    table: &dyn Table,
    filter: &CaseFilter,
    after: Option<&str>,
    limit: u32,
) -> Result<Paged<CaseSummary>, StoreError> {
    let prefixes = filter.prefixes()?;
    let limit = limit.clamp(1, 500);
    let (mut segment, mut cursor) = match after {
        Some(text) => decode(text, prefixes.len())?,
        None => (0, None),
    };
    let mut items = Vec::new();
    while segment < prefixes.len() && items.len() < limit as usize {
        let query = Query::new(keys::CASES)
            .prefix(&prefixes[segment])
            .limit(limit - items.len() as u32)
            .after(cursor.take());
        let page = table.query_gsi1(&query).await?;
        items.extend(page.items.iter().map(CaseSummary::from_record));
        match page.next {
            Some(next) => cursor = Some(next),
            None => segment += 1,
        }
    }
    let next = (segment < prefixes.len()).then(|| encode(segment, cursor.as_ref()));
    Ok(Paged { items, next })
}

/// A page position: the prefix being read, and where in it.
fn encode(segment: usize, cursor: Option<&Cursor>) -> String {
    format!(
        "{segment}.{}",
        cursor.map(encode_position).unwrap_or_default()
    )
}

fn decode(text: &str, segments: usize) -> Result<(usize, Option<Cursor>), StoreError> {
    let bad = || StoreError::Invalid {
        what: "a page position that this list did not give".into(),
    };
    let (segment, cursor) = text.split_once('.').ok_or_else(bad)?;
    let segment: usize = segment.parse().map_err(|_| bad())?;
    if segment >= segments {
        return Err(bad());
    }
    let cursor = match cursor {
        "" => None,
        c => Some(decode_position(c)?),
    };
    Ok((segment, cursor))
}

/// Every item of one GSI1 query, page by page.
async fn all_of(table: &dyn Table, mut query: Query) -> Result<Vec<Item>, StoreError> {
    let mut out = Vec::new();
    loop {
        let page = table.query_gsi1(&query).await?;
        out.extend(page.items);
        match page.next {
            Some(next) => query.cursor = Some(next),
            None => return Ok(out),
        }
    }
}

/// Every case's record, by reference: the listed kinds from `CASES`, FOI requests from
/// their register. Reads every case (the CLI's list, the claims statistics' job).
pub async fn all_cases(table: &dyn Table) -> Result<Vec<Item>, StoreError> {
    let mut cases = all_of(table, Query::new(keys::CASES)).await?;
    for status in Status::ALL {
        cases.extend(all_of(table, Query::new(keys::foi_status(status.as_str()))).await?);
    }
    cases.retain(|c| c.get("SK").and_then(Value::as_str) == Some(keys::META));
    cases.sort_by(|a, b| a["PK"].as_str().cmp(&b["PK"].as_str()));
    Ok(cases)
}

/// Whether every case is in the list: `relist` has run (the embedded default runs it on
/// opening; on AWS an administrator runs `postroom cases relist` once).
pub async fn is_complete(table: &dyn Table) -> Result<bool, StoreError> {
    Ok(table
        .get(&Key::new(RELISTED.0, RELISTED.1))
        .await?
        .is_some())
}

/// `relist`, unless it is recorded as done (the embedded default runs this on opening).
pub async fn relist_once(table: &dyn Table) -> Result<usize, StoreError> {
    if is_complete(table).await? {
        return Ok(0);
    }
    relist(table).await
}

/// Gives every case record without its listing keys (written before cases were listed
/// from the index) its keys, then records that it did. Reads the whole table once (a
/// scan); idempotent, and safe beside other writers (a record changed meanwhile is read
/// again). Returns how many records it changed.
pub async fn relist(table: &dyn Table) -> Result<usize, StoreError> {
    let mut changed = 0;
    let mut cursor = None;
    loop {
        let page = table.scan(0, 1, cursor.as_ref()).await?;
        for item in &page.items {
            let is_case = item.get("SK").and_then(Value::as_str) == Some(keys::META)
                && item
                    .get("PK")
                    .and_then(Value::as_str)
                    .is_some_and(|p| p.starts_with(keys::CASE_PREFIX));
            if is_case && relist_one(table, item).await? {
                changed += 1;
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut done = Item::new();
    done.insert("PK".into(), json!(RELISTED.0));
    done.insert("SK".into(), json!(RELISTED.1));
    done.insert("cases_relisted".into(), json!(changed));
    table.put(done, Condition::None).await?;
    Ok(changed)
}

/// Gives one case record its listing keys if it lacks them; `true` if it changed it.
///
/// A record without a `version` can only be written on condition that it exists, which
/// does not see a change made since it was read (an import filling in its status, and
/// moving it in the list, in the meantime): so after each write the record is read
/// again, and its keys written again until they are its own.
async fn relist_one(table: &dyn Table, item: &Item) -> Result<bool, StoreError> {
    let key = Key::new(
        item["PK"].as_str().unwrap_or_default(),
        item["SK"].as_str().unwrap_or_default(),
    );
    let mut current = item.clone();
    let mut changed = false;
    for _ in 0..4 {
        let Some((pk, sk)) = listing_keys(&current) else {
            return Ok(changed);
        };
        if current.get(GSI1_PK).and_then(Value::as_str) == Some(pk.as_str())
            && current.get(GSI1_SK).and_then(Value::as_str) == Some(sk.as_str())
        {
            return Ok(changed);
        }
        let condition = match current.get("version").and_then(Value::as_u64) {
            Some(version) => Condition::VersionEquals(version),
            None => Condition::Exists,
        };
        let update = Update::new(key.clone())
            .set(GSI1_PK, pk)
            .set(GSI1_SK, sk)
            .when(condition);
        match table.update(update).await {
            Ok(_) => changed = true,
            Err(StoreError::ConditionFailed { .. }) => {}
            Err(e) => return Err(e),
        }
        match table.get(&key).await? {
            Some(again) => current = again,
            None => return Ok(changed),
        }
    }
    Err(StoreError::Backend {
        backend: "cases",
        op: "list a case".into(),
        retryable: true,
        source: "conflicting writes did not settle".into(),
    })
}
