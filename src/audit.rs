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

/// Where a trail is read from: the events recorded on an object, or those a person
/// recorded (their index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source<'a> {
    Object(Object<'a>),
    Person(&'a str),
}

/// A page of a trail, newest first, and the position of the next page.
#[derive(Debug, Clone)]
pub struct TrailPage {
    pub events: Vec<(Subject, EventEntry)>,
    pub next: Option<String>,
}

/// An event's place in a trail: its time, its object's partition, its key. Unique, and
/// the same whichever source it is read from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Identity(String, String, String);

impl Identity {
    fn of(item: &crate::store::Item) -> Option<Identity> {
        let text = |name: &str| item.get(name).and_then(Value::as_str).map(str::to_owned);
        Some(Identity(text("at")?, text("PK")?, text("SK")?))
    }
}

/// Where a trail's page ended: the last event shown, and which sources have no more.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TrailPosition {
    below: Option<Identity>,
    done: Vec<bool>,
}

impl TrailPosition {
    /// As text (URL-safe): JSON, hex-encoded.
    fn encode(&self) -> String {
        let below = self
            .below
            .as_ref()
            .map(|b| json!([b.0, b.1, b.2]))
            .unwrap_or(Value::Null);
        hex::encode(json!({"below": below, "done": self.done}).to_string())
    }

    fn decode(text: &str, sources: usize) -> Result<TrailPosition, StoreError> {
        let bad = || StoreError::Invalid {
            what: "a page position that this trail did not give".into(),
        };
        let bytes = hex::decode(text).map_err(|_| bad())?;
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            below: Option<(String, String, String)>,
            done: Vec<bool>,
        }
        let raw: Raw = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        if raw.done.len() != sources || raw.below.is_none() {
            return Err(bad());
        }
        Ok(TrailPosition {
            below: raw.below.map(|(a, b, c)| Identity(a, b, c)),
            done: raw.done,
        })
    }
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

    /// Every event recorded on an object, oldest first (the whole trail, however long:
    /// pages read `latest` or `trail`).
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

    /// One page of the trail of `sources` together, newest first: at most `limit`
    /// events, each with the object it was recorded on and once however many sources
    /// hold it, starting after `after` (a position an earlier page of the same sources
    /// gave). A page reads about `limit` events a source, however long the trail.
    ///
    /// Events are in one order across sources, by time, then object, then their key
    /// (`Identity`). A position is the last event shown: every source is read below it.
    pub async fn trail(
        &self,
        sources: &[Source<'_>],
        after: Option<&str>,
        limit: u32,
    ) -> Result<TrailPage, StoreError> {
        let limit = limit.clamp(1, 500);
        let position = match after {
            Some(text) => TrailPosition::decode(text, sources.len())?,
            None => TrailPosition {
                below: None,
                done: vec![false; sources.len()],
            },
        };
        // Each source's next events below the position, and whether it has no more.
        let mut found: Vec<(usize, Identity, crate::store::Item)> = Vec::new();
        let mut exhausted = position.done.clone();
        for (i, source) in sources.iter().enumerate() {
            if position.done[i] {
                continue;
            }
            let (items, more) = self
                .source_events(*source, position.below.as_ref(), limit)
                .await?;
            exhausted[i] = !more;
            found.extend(items.into_iter().map(|(id, item)| (i, id, item)));
        }
        found.sort_by(|a, b| b.1.cmp(&a.1));
        let mut events = Vec::new();
        let mut last: Option<Identity> = None;
        for (_, id, item) in &found {
            if last.as_ref() == Some(id) {
                continue; // the same event from another source
            }
            if events.len() >= limit as usize {
                break;
            }
            if let CaseEntry::Event(e) = CaseEntry::from_record(item) {
                events.push((Subject::of_partition(&id.1), e));
            }
            last = Some(id.clone());
        }
        let below = last.or(position.below);
        // A source is done once it has nothing left below the last event shown.
        let done: Vec<bool> = (0..sources.len())
            .map(|i| {
                exhausted[i]
                    && found
                        .iter()
                        .filter(|(s, _, _)| *s == i)
                        .all(|(_, id, _)| below.as_ref().is_some_and(|b| id >= b))
            })
            .collect();
        let next = done
            .iter()
            .any(|d| !d)
            .then(|| TrailPosition { below, done }.encode());
        Ok(TrailPage { events, next })
    }

    /// A source's events below `below` (from its newest when `None`): the newest `limit`
    /// in the trail's order, each with its identity, and whether there may be more.
    async fn source_events(
        &self,
        source: Source<'_>,
        below: Option<&Identity>,
        limit: u32,
    ) -> Result<(Vec<(Identity, crate::store::Item)>, bool), StoreError> {
        // Read from the position's time (its whole millisecond: the source's own order
        // within one is not the trail's), keeping what lies below the position.
        let (mut query, index) = match source {
            Source::Object(object) => {
                let query = Query::new(object.partition());
                match below {
                    Some(b) => (
                        query.before(format!("{}{}#~", keys::EVENT_PREFIX, b.0)),
                        false,
                    ),
                    None => (query.prefix(keys::EVENT_PREFIX), false),
                }
            }
            Source::Person(who) => {
                let query = Query::new(keys::who(who));
                match below {
                    Some(b) => (query.before(format!("{}#~", b.0)), true),
                    None => (query, true),
                }
            }
        };
        query = query.descending().limit(limit + 1);
        let mut items: Vec<(Identity, crate::store::Item)> = Vec::new();
        // Past the limit, the rest of the last kept event's (time, object) group is read
        // too: a person's index orders events by time and object only (the order of
        // events equal in both is the store's), the trail by their key as well.
        let mut straddling: Option<(String, String)> = None;
        let top = |mut items: Vec<(Identity, crate::store::Item)>| {
            items.sort_by(|a, b| b.0.cmp(&a.0));
            items.truncate(limit as usize);
            (items, true)
        };
        loop {
            let page = if index {
                self.table.query_gsi1(&query).await?
            } else {
                self.table.query(&query).await?
            };
            for item in page.items {
                let sk = item.get("SK").and_then(Value::as_str).unwrap_or("");
                if !sk.starts_with(keys::EVENT_PREFIX) {
                    // Past an object's events (its other records sort before them).
                    return Ok(match straddling {
                        Some(_) => top(items),
                        None => (items, false),
                    });
                }
                let Some(id) = Identity::of(&item) else {
                    continue;
                };
                if below.is_some_and(|b| id >= *b) {
                    continue; // shown already
                }
                if let Some((at, pk)) = &straddling
                    && (id.0 != *at || id.1 != *pk)
                {
                    return Ok(top(items));
                }
                items.push((id, item));
                if straddling.is_none() && items.len() > limit as usize {
                    let kept = &items[items.len() - 2].0;
                    let next = &items[items.len() - 1].0;
                    if (&kept.0, &kept.1) != (&next.0, &next.1) {
                        return Ok(top(items));
                    }
                    straddling = Some((kept.0.clone(), kept.1.clone()));
                }
            }
            match page.next {
                Some(next) => query.cursor = Some(next),
                None if straddling.is_some() => return Ok(top(items)),
                None => return Ok((items, false)),
            }
        }
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
    use crate::store::{Item, SqliteTable};

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
    }

    /// Every page of a trail, read `limit` at a time: the events' names and times.
    async fn whole_trail(
        audit: &Audit,
        sources: &[Source<'_>],
        limit: u32,
    ) -> (Vec<(String, String)>, usize) {
        let mut out = Vec::new();
        let mut after = None;
        let mut pages = 0;
        loop {
            let page = audit
                .trail(sources, after.as_deref(), limit)
                .await
                .expect("a page");
            pages += 1;
            assert!(page.events.len() <= limit as usize);
            out.extend(
                page.events
                    .into_iter()
                    .map(|(_, e)| (e.what.unwrap_or_default(), e.at.unwrap_or_default())),
            );
            match page.next {
                Some(next) => after = Some(next),
                None => return (out, pages),
            }
            assert!(pages < 100, "the pages end");
        }
    }

    /// The SQLite table, except that its person index gives events of the same time and
    /// object in the reverse of their key's order (DynamoDB does not say which order it
    /// gives them in).
    #[derive(Debug)]
    struct TiesReversed(SqliteTable);

    #[async_trait::async_trait]
    impl Table for TiesReversed {
        fn describe(&self) -> String {
            self.0.describe()
        }
        async fn health(&self) -> Result<(), StoreError> {
            self.0.health().await
        }
        async fn get(&self, key: &crate::store::Key) -> Result<Option<Item>, StoreError> {
            self.0.get(key).await
        }
        async fn put(
            &self,
            item: Item,
            condition: crate::store::Condition,
        ) -> Result<(), StoreError> {
            self.0.put(item, condition).await
        }
        async fn update(&self, update: crate::store::Update) -> Result<Item, StoreError> {
            self.0.update(update).await
        }
        async fn delete(
            &self,
            key: &crate::store::Key,
            condition: crate::store::Condition,
        ) -> Result<(), StoreError> {
            self.0.delete(key, condition).await
        }
        async fn query(&self, query: &Query) -> Result<crate::store::Page, StoreError> {
            self.0.query(query).await
        }
        async fn query_gsi1(&self, query: &Query) -> Result<crate::store::Page, StoreError> {
            let mut page = self.0.query_gsi1(query).await?;
            let tie = |item: &Item| item.get(GSI1_SK).and_then(Value::as_str).map(str::to_owned);
            let mut reordered = Vec::with_capacity(page.items.len());
            for group in page.items.chunk_by(|a, b| tie(a) == tie(b)) {
                reordered.extend(group.iter().rev().cloned());
            }
            page.items = reordered;
            Ok(page)
        }
        async fn scan(
            &self,
            segment: u32,
            total_segments: u32,
            cursor: Option<&crate::store::Cursor>,
        ) -> Result<crate::store::Page, StoreError> {
            self.0.scan(segment, total_segments, cursor).await
        }
        async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
            self.0.transact(ops).await
        }
    }

    /// A person's events on one object in one millisecond (two requests at once) are
    /// each shown once however the store orders them and wherever a page ends.
    #[tokio::test]
    async fn a_persons_events_of_one_millisecond_are_each_shown_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let table: Arc<dyn Table> = Arc::new(TiesReversed(
            SqliteTable::open(dir.path().join("t.sqlite3")).expect("table"),
        ));
        let ann = Actor {
            who: "console:ann".into(),
            name: "Ann".into(),
            roles: vec!["admin".into()],
            channel: "console",
        };
        // 12 events, 4 a millisecond, on one document.
        for i in 0..12u32 {
            let at = chrono::DateTime::from_timestamp_millis(1_780_000_000_000 + i64::from(i / 4))
                .expect("a time");
            Audit::new(table.clone(), Arc::new(FixedClock(at)))
                .record(
                    &ann,
                    Object::Document("d-1"),
                    &format!("doc_{i:02}"),
                    json!({}),
                )
                .await
                .expect("recorded");
        }
        let audit = Audit::new(table, Arc::new(crate::clock::SystemClock));
        for limit in [1, 2, 3, 5] {
            let (events, _) = whole_trail(&audit, &[Source::Person("console:ann")], limit).await;
            let names: std::collections::BTreeSet<_> = events.iter().map(|e| &e.0).collect();
            assert_eq!((events.len(), names.len()), (12, 12), "page size {limit}");
            assert!(events.windows(2).all(|w| w[0].1 >= w[1].1), "newest first");
        }
    }

    /// A trail is read a page at a time, newest first, from each source where its last
    /// shown event was: every event once (an event in two sources too, and events of
    /// the same millisecond across a page's end), whatever the page size.
    #[tokio::test]
    async fn a_trail_pages_newest_first_through_every_source_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let table: Arc<dyn Table> =
            Arc::new(SqliteTable::open(dir.path().join("t.sqlite3")).expect("table"));
        let person = |who: &str| Actor {
            who: who.into(),
            name: who.into(),
            roles: vec!["admin".into()],
            channel: "console",
        };
        let (ann, bob) = (person("console:ann"), person("console:bob"));
        // 60 events on the document (3 a millisecond), ann's and bob's in turn; 25 of
        // ann's on a case; something under the case that is not an event.
        for i in 0..60u32 {
            let at = chrono::DateTime::from_timestamp_millis(1_780_000_000_000 + i64::from(i / 3))
                .expect("a time");
            let audit = Audit::new(table.clone(), Arc::new(FixedClock(at)));
            let who = if i % 2 == 0 { &ann } else { &bob };
            audit
                .record(
                    who,
                    Object::Document("d-1"),
                    &format!("doc_{i:02}"),
                    json!({}),
                )
                .await
                .expect("recorded");
            if i < 25 {
                audit
                    .record(
                        &ann,
                        Object::Case("CNST/25/000001"),
                        &format!("case_{i:02}"),
                        json!({}),
                    )
                    .await
                    .expect("recorded");
            }
        }
        let mut doc = Item::new();
        doc.insert("PK".into(), keys::case("CNST/25/000001").into());
        doc.insert(
            "SK".into(),
            keys::case_doc(Some("2026-01-01"), "d-1").into(),
        );
        table
            .put(doc, crate::store::Condition::None)
            .await
            .expect("put");
        let audit = Audit::new(table.clone(), Arc::new(crate::clock::SystemClock));
        let newest_first =
            |events: &[(String, String)]| events.windows(2).all(|w| w[0].1 >= w[1].1);
        for limit in [1, 7, 20, 100] {
            let (events, pages) =
                whole_trail(&audit, &[Source::Object(Object::Document("d-1"))], limit).await;
            assert_eq!(events.len(), 60, "page size {limit}");
            assert!(newest_first(&events));
            let names: std::collections::BTreeSet<_> = events.iter().map(|e| &e.0).collect();
            assert_eq!(names.len(), 60, "each once");
            assert!(pages <= 60usize.div_ceil(limit as usize) + 1);
        }
        // The case's events, not what else lies under it.
        let (events, _) = whole_trail(
            &audit,
            &[Source::Object(Object::Case("CNST/25/000001"))],
            10,
        )
        .await;
        assert_eq!(events.len(), 25);
        assert!(events.iter().all(|e| e.0.starts_with("case_")));
        // The document and ann together: ann's document events are in both, shown once.
        let sources = [
            Source::Object(Object::Document("d-1")),
            Source::Person("console:ann"),
        ];
        for limit in [3, 50] {
            let (events, _) = whole_trail(&audit, &sources, limit).await;
            assert_eq!(events.len(), 60 + 25, "page size {limit}");
            assert!(newest_first(&events));
        }
        // A position from elsewhere is refused.
        for bad in [
            "zz".to_owned(),
            hex::encode("[]"),
            hex::encode(r#"{"below":null,"done":[false]}"#),
            hex::encode(r#"{"below":["a","b","c"],"done":[false,false]}"#),
        ] {
            let refused = audit
                .trail(&[Source::Person("console:ann")], Some(&bad), 10)
                .await;
            assert!(
                matches!(refused, Err(StoreError::Invalid { .. })),
                "{bad}: {refused:?}"
            );
        }
    }
}
