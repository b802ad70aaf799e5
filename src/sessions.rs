//! Sign-in sessions kept server-side in the table: the person holds a random token (in
//! the console's cookie); the table holds only its SHA-256, with who they are, their
//! roles, a form token for CSRF defence, and the times that end it (idle and absolute).
//! Ending a session deletes it. `expires_at` lets DynamoDB's time-to-live sweep it.
//!
//! The last-seen time (for the idle limit) is written off the request's path: a request
//! records it in memory and a spawned task writes it to the table, so no request waits
//! for that commit. A write that is lost or late can only make a session end sooner,
//! never later: the time written is the request's own, and a session is never brought
//! back (the write needs the item to exist).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::clock::Clock;
use crate::model::keys;
use crate::store::{Condition, Item, Key, StoreError, Table, Update};

/// Touch the session's last-seen time at most this often.
const TOUCH_EVERY_SECONDS: i64 = 60;

/// A live session as stored.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    /// The SHA-256 (hex) of its token: what keys it.
    pub digest: String,
    pub who: String,
    pub name: String,
    pub roles: Vec<String>,
    /// The token each of the person's forms carries.
    pub csrf: String,
}

/// How long sessions last.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    /// Ended after this long without a request.
    pub idle: Duration,
    /// Ended after this long in any case.
    pub absolute: Duration,
}

/// Forget the in-memory last-seen times once this many sessions are remembered (those
/// idle longer than any limit go first).
const SEEN_REMEMBERED: usize = 10_000;

/// The sessions over the table.
#[derive(Debug, Clone)]
pub struct Sessions {
    table: Arc<dyn Table>,
    clock: Arc<dyn Clock>,
    /// The last-seen time this process last wrote (or is writing) for each session, by
    /// digest: each time is a real request's, so counting idle time from it is never
    /// later than the truth, even before the write lands.
    seen: Arc<Mutex<HashMap<String, DateTime<Utc>>>>,
}

fn digest_of(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn chrono_of(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::hours(8))
}

impl Sessions {
    pub fn new(table: Arc<dyn Table>, clock: Arc<dyn Clock>) -> Sessions {
        Sessions {
            table,
            clock,
            seen: Arc::default(),
        }
    }

    /// The last-seen time this process wrote for `digest`, if any.
    fn seen_here(&self, digest: &str) -> Option<DateTime<Utc>> {
        self.seen.lock().ok().and_then(|m| m.get(digest).copied())
    }

    /// Remembers `at` as `digest`'s last-seen time, unless one as late is remembered.
    /// `false` when it was (another request is already writing it).
    fn remember_seen(&self, digest: &str, at: DateTime<Utc>, idle: chrono::Duration) -> bool {
        let Ok(mut seen) = self.seen.lock() else {
            return true;
        };
        if seen
            .get(digest)
            .is_some_and(|t| (at - *t).num_seconds() < TOUCH_EVERY_SECONDS)
        {
            return false;
        }
        if seen.len() >= SEEN_REMEMBERED {
            seen.retain(|_, t| at - *t <= idle);
            if seen.len() >= SEEN_REMEMBERED {
                seen.clear();
            }
        }
        seen.insert(digest.to_owned(), at);
        true
    }

    fn forget_seen(&self, digest: &str) {
        if let Ok(mut seen) = self.seen.lock() {
            seen.remove(digest);
        }
    }

    /// Writes `at` as the session's last-seen time, in a spawned task when there is a
    /// runtime to spawn on (the request does not wait), else here. Only an existing
    /// session is written; failures are logged (the session may then end sooner).
    async fn touch(&self, key: Key, at: DateTime<Utc>) {
        let table = self.table.clone();
        let write = async move {
            let update = Update::new(key)
                .set("seen", rfc3339(at))
                .when(Condition::Exists);
            match table.update(update).await {
                Ok(_) | Err(StoreError::ConditionFailed { .. }) => {}
                Err(e) => tracing::warn!(error = %e, "session last-seen not written"),
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(write);
            }
            Err(_) => write.await,
        }
    }

    /// Starts a session under `token` (a fresh random value from the caller) with form
    /// token `csrf`.
    pub async fn start(
        &self,
        token: &str,
        csrf: &str,
        who: &str,
        name: &str,
        roles: &[String],
        lifetimes: Lifetimes,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut item = Item::new();
        item.insert("PK".into(), keys::session(&digest_of(token)).into());
        item.insert("SK".into(), keys::META.into());
        item.insert("who".into(), who.into());
        item.insert("name".into(), name.into());
        item.insert("roles".into(), json!(roles));
        item.insert("csrf".into(), csrf.into());
        item.insert("created".into(), rfc3339(now).into());
        item.insert("seen".into(), rfc3339(now).into());
        // Seconds since the epoch, for the store's time-to-live sweep.
        item.insert(
            "expires_at".into(),
            json!((now + chrono_of(lifetimes.absolute)).timestamp()),
        );
        self.table.put(item, Condition::Absent).await
    }

    /// The live session of `token`; `None` when there is none or it has run out (then
    /// it is deleted). Touches it now and then, so the idle limit counts from the last
    /// request.
    pub async fn find(
        &self,
        token: &str,
        lifetimes: Lifetimes,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let digest = digest_of(token);
        let key = Key::new(keys::session(&digest), keys::META);
        let Some(item) = self.table.get(&key).await? else {
            return Ok(None);
        };
        let time = |name: &str| {
            item.get(name)
                .and_then(Value::as_str)
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|t| t.with_timezone(&Utc))
        };
        let (Some(created), Some(stored)) = (time("created"), time("seen")) else {
            return Ok(None);
        };
        // The later of the table's and this process's own (possibly not yet written).
        let seen = self.seen_here(&digest).map_or(stored, |t| t.max(stored));
        let now = self.clock.now();
        let idle = chrono_of(lifetimes.idle);
        if now - seen > idle || now - created > chrono_of(lifetimes.absolute) {
            self.forget_seen(&digest);
            self.table.delete(&key, Condition::None).await?;
            return Ok(None);
        }
        if (now - seen).num_seconds() >= TOUCH_EVERY_SECONDS
            && self.remember_seen(&digest, now, idle)
        {
            self.touch(key.clone(), now).await;
        }
        let text = |name: &str| {
            item.get(name)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        let roles = crate::store::strings(item.get("roles"));
        Ok(Some(SessionRecord {
            digest,
            who: text("who"),
            name: text("name"),
            roles,
            csrf: text("csrf"),
        }))
    }

    /// Ends a session (signing out).
    pub async fn end(&self, digest: &str) -> Result<(), StoreError> {
        self.forget_seen(digest);
        let key = Key::new(keys::session(digest), keys::META);
        self.table.delete(&key, Condition::None).await
    }
}
