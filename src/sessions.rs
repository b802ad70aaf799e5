//! Sign-in sessions kept server-side in the table: the person holds a random token (in
//! the console's cookie); the table holds only its SHA-256, with who they are, their
//! roles, a form token for CSRF defence, and the times that end it (idle and absolute).
//! Ending a session deletes it. `expires_at` lets DynamoDB's time-to-live sweep it.

use std::sync::Arc;
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

/// The sessions over the table.
#[derive(Debug, Clone)]
pub struct Sessions {
    table: Arc<dyn Table>,
    clock: Arc<dyn Clock>,
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
        Sessions { table, clock }
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
        let (Some(created), Some(seen)) = (time("created"), time("seen")) else {
            return Ok(None);
        };
        let now = self.clock.now();
        if now - seen > chrono_of(lifetimes.idle) || now - created > chrono_of(lifetimes.absolute) {
            self.table.delete(&key, Condition::None).await?;
            return Ok(None);
        }
        if (now - seen).num_seconds() >= TOUCH_EVERY_SECONDS {
            let update = Update::new(key.clone())
                .set("seen", rfc3339(now))
                .when(Condition::Exists);
            match self.table.update(update).await {
                Ok(_) | Err(StoreError::ConditionFailed { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let text = |name: &str| {
            item.get(name)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        let roles = item
            .get("roles")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
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
        let key = Key::new(keys::session(digest), keys::META);
        self.table.delete(&key, Condition::None).await
    }
}
