//! The audit trail of what people do: each action is an append-only event under the
//! object it touched (a document or a case) and in the index of the person who did it
//! (GSI1 `WHO#<who>`), with their name, roles and channel. Events are written before
//! the answer that depends on them is sent; a failed write fails the action.

use std::sync::Arc;

use chrono::SecondsFormat;
use serde_json::{Value, json};

use crate::clock::Clock;
use crate::model::{audit_event, keys};
use crate::store::{GSI1_PK, GSI1_SK, Query, StoreError, Table, TxOp};
use crate::views::{CaseEntry, EventEntry};

/// Tries this many sequence numbers when two events land in the same millisecond.
const ATTEMPTS: u32 = 8;

/// What an action was done to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object<'a> {
    Document(&'a str),
    Case(&'a str),
    /// The person themselves (signing in and out of the console), by their `who`: kept
    /// in a partition named as their index partition (GSI1), so reading either gives
    /// the same events.
    Person(&'a str),
}

impl Object<'_> {
    fn partition(self) -> String {
        match self {
            Object::Document(id) => keys::doc(id),
            Object::Case(reference) => keys::case(reference),
            Object::Person(who) => keys::who(who),
        }
    }
}

/// What a recorded event was done to, as read back from the trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Document(String),
    Case(String),
    /// An event about the person themselves (signing in and out).
    Person(String),
    /// An event on something else (a partition this reader does not know).
    Other,
}

impl Subject {
    fn of_partition(pk: &str) -> Subject {
        if let Some(id) = pk.strip_prefix(keys::DOC_PREFIX) {
            Subject::Document(id.to_owned())
        } else if let Some(r) = pk.strip_prefix(keys::CASE_PREFIX) {
            Subject::Case(r.to_owned())
        } else if let Some(who) = keys::who_of(pk) {
            Subject::Person(who.to_owned())
        } else {
            Subject::Other
        }
    }
}

/// Who did it, as the trail records them.
#[derive(Debug, Clone)]
pub struct Actor {
    /// Their stable identity (`console:<name>` locally, the provider's subject on AWS).
    pub who: String,
    pub name: String,
    pub roles: Vec<String>,
    /// `console`, `cli`, `lambda`.
    pub channel: &'static str,
}

/// The audit trail over the table.
#[derive(Debug, Clone)]
pub struct Audit {
    table: Arc<dyn Table>,
    clock: Arc<dyn Clock>,
}

impl Audit {
    pub fn new(table: Arc<dyn Table>, clock: Arc<dyn Clock>) -> Audit {
        Audit { table, clock }
    }

    /// Records `what` the actor did to `object`, with `details` (never document text).
    pub async fn record(
        &self,
        actor: &Actor,
        object: Object<'_>,
        what: &str,
        details: Value,
    ) -> Result<(), StoreError> {
        let at = self
            .clock
            .now()
            .to_rfc3339_opts(SecondsFormat::Millis, true);
        let pk = object.partition();
        let mut details = details;
        if let Value::Object(map) = &mut details {
            map.insert("channel".into(), actor.channel.into());
            map.insert("roles".into(), json!(actor.roles));
            map.insert("name".into(), actor.name.clone().into());
        }
        let mut last = None;
        for _ in 0..ATTEMPTS {
            // Events of the same millisecond get different sequence numbers (1000-9999;
            // below 1000 are the pipeline's own).
            let seq = 1000 + random_u32() % 9000;
            let TxOp::Put {
                mut item,
                condition,
            } = audit_event(pk.clone(), &at, seq, &actor.who, what, details.clone())
            else {
                unreachable!("audit_event is a put");
            };
            item.insert(GSI1_PK.into(), keys::who(&actor.who).into());
            item.insert(GSI1_SK.into(), format!("{at}#{pk}").into());
            match self.table.put(item, condition).await {
                Ok(()) => return Ok(()),
                Err(e @ StoreError::ConditionFailed { .. }) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or(StoreError::ConditionFailed {
            what: "audit event".into(),
        }))
    }

    /// The events recorded on an object, oldest first.
    pub async fn events(&self, object: Object<'_>) -> Result<Vec<EventEntry>, StoreError> {
        let items = self
            .table
            .query_all(&Query::new(object.partition()).prefix(keys::EVENT_PREFIX))
            .await?;
        Ok(items
            .iter()
            .filter_map(|i| match CaseEntry::from_record(i) {
                CaseEntry::Event(e) => Some(e),
                _ => None,
            })
            .collect())
    }

    /// The latest `limit` events recorded on an object, oldest first, and whether it has
    /// older ones: a page shows these (however often the object was viewed, each view
    /// being an event) and links to the whole trail.
    pub async fn latest(
        &self,
        object: Object<'_>,
        limit: u32,
    ) -> Result<(Vec<EventEntry>, bool), StoreError> {
        let page = self
            .table
            .query(
                &Query::new(object.partition())
                    .prefix(keys::EVENT_PREFIX)
                    .descending()
                    // One more than shown: whether older ones exist, on every adapter
                    // (DynamoDB may give a next page that holds nothing).
                    .limit(limit.max(1).saturating_add(1)),
            )
            .await?;
        let older = page.items.len() > limit.max(1) as usize;
        let mut events: Vec<EventEntry> = page
            .items
            .iter()
            .take(limit.max(1) as usize)
            .filter_map(|i| match CaseEntry::from_record(i) {
                CaseEntry::Event(e) => Some(e),
                _ => None,
            })
            .collect();
        events.reverse();
        Ok((events, older))
    }

    /// The events a person recorded, newest first (at most `limit`), each with the
    /// object it was recorded on.
    pub async fn by_person(
        &self,
        who: &str,
        limit: u32,
    ) -> Result<Vec<(Subject, EventEntry)>, StoreError> {
        let page = self
            .table
            .query_gsi1(&Query::new(keys::who(who)).descending().limit(limit))
            .await?;
        Ok(page
            .items
            .iter()
            .filter_map(|i| {
                let subject = Subject::of_partition(i.get("PK").and_then(Value::as_str)?);
                match CaseEntry::from_record(i) {
                    CaseEntry::Event(e) => Some((subject, e)),
                    _ => None,
                }
            })
            .collect())
    }

    /// How many events a person has recorded (by the person's index), up to `limit`.
    pub async fn count_by(&self, who: &str, limit: u32) -> Result<usize, StoreError> {
        let page = self
            .table
            .query_gsi1(&Query::new(keys::who(who)).limit(limit))
            .await?;
        Ok(page.items.len())
    }
}

/// A sequence number that differs between events of the same millisecond. Not a
/// secret: the time's low bits mixed with a counter are enough.
fn random_u32() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    nanos.wrapping_add(COUNTER.fetch_add(7919, Ordering::Relaxed))
}

#[cfg(all(test, feature = "embedded"))]
mod tests {
    use super::*;
    use crate::clock::FixedClock;
    use crate::store::SqliteTable;

    #[tokio::test]
    async fn latest_reads_only_the_newest_events_oldest_first() {
        let dir = tempfile::tempdir().expect("temp dir");
        let table: Arc<dyn Table> =
            Arc::new(SqliteTable::open(dir.path().join("t.sqlite3")).expect("table"));
        let actor = Actor {
            who: "console:someone".into(),
            name: "Someone".into(),
            roles: vec!["admin".into()],
            channel: "console",
        };
        for second in 0..7 {
            let at = chrono::DateTime::parse_from_rfc3339(&format!("2026-12-01T09:00:0{second}Z"))
                .expect("a time")
                .with_timezone(&chrono::Utc);
            let audit = Audit::new(table.clone(), Arc::new(FixedClock(at)));
            let what = format!("step_{second}");
            audit
                .record(&actor, Object::Document("d-1"), &what, json!({}))
                .await
                .expect("recorded");
        }
        let audit = Audit::new(table, Arc::new(crate::clock::SystemClock));
        let (events, older) = audit
            .latest(Object::Document("d-1"), 5)
            .await
            .expect("read");
        let what: Vec<_> = events.iter().filter_map(|e| e.what.as_deref()).collect();
        assert_eq!(what, ["step_2", "step_3", "step_4", "step_5", "step_6"]);
        assert!(older);
        let (events, older) = audit
            .latest(Object::Document("d-1"), 7)
            .await
            .expect("read");
        assert_eq!(events.len(), 7);
        assert!(!older);
        assert_eq!(
            audit
                .events(Object::Document("d-1"))
                .await
                .expect("all")
                .len(),
            7
        );
    }
}
