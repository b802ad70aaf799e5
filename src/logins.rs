//! Sign-ins in progress (OpenID Connect): between sending a person to the provider and
//! their return, the table holds what only we may know: the nonce the ID token must
//! carry, the PKCE verifier, and where to go afterwards. Keyed by the SHA-256 of the
//! `state` (the state itself is in the person's cookie, never stored), for ten
//! minutes, and used once: taking it deletes it on the condition that it still exists,
//! so of two callbacks with the same state only one proceeds.

use std::sync::Arc;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::clock::Clock;
use crate::model::keys;
use crate::store::{Condition, Item, Key, StoreError, Table};

/// How long a sign-in may take, in seconds.
pub const LOGIN_SECONDS: i64 = 10 * 60;
/// The longest `return_to` kept.
const RETURN_TO_MAX: usize = 512;

/// What a sign-in in progress keeps.
#[derive(Clone, PartialEq, Eq)]
pub struct PendingLogin {
    pub nonce: String,
    /// The PKCE `code_verifier`.
    pub verifier: String,
    /// A path on the console (see [`safe_return_to`]).
    pub return_to: String,
}

impl std::fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLogin")
            .field("return_to", &self.return_to)
            .finish_non_exhaustive()
    }
}

/// `path` when it is a path on this site (`/…`, not `//…`; visible ASCII only, so
/// no spaces, control characters or backslashes; at most 512 bytes), else `/`: sign-in
/// never sends anyone off-site, and the path is always a valid `Location`.
pub fn safe_return_to(path: &str) -> String {
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && path.len() <= RETURN_TO_MAX
        && path.chars().all(|c| c.is_ascii_graphic() && c != '\\');
    if ok { path.to_owned() } else { "/".to_owned() }
}

/// The sign-ins in progress over the table.
#[derive(Debug, Clone)]
pub struct Logins {
    table: Arc<dyn Table>,
    clock: Arc<dyn Clock>,
}

fn key_of(state: &str) -> Key {
    let digest = hex::encode(Sha256::digest(state.as_bytes()));
    Key::new(keys::login(&digest), keys::META)
}

impl Logins {
    pub fn new(table: Arc<dyn Table>, clock: Arc<dyn Clock>) -> Logins {
        Logins { table, clock }
    }

    /// Keeps a sign-in under `state` (a fresh random value: a clash is refused).
    pub async fn begin(&self, state: &str, login: &PendingLogin) -> Result<(), StoreError> {
        let key = key_of(state);
        let mut item = Item::new();
        item.insert("PK".into(), key.pk.into());
        item.insert("SK".into(), key.sk.into());
        item.insert("nonce".into(), login.nonce.clone().into());
        item.insert("verifier".into(), login.verifier.clone().into());
        item.insert("return_to".into(), safe_return_to(&login.return_to).into());
        // Seconds since the epoch: refused after it, and swept by DynamoDB's TTL.
        item.insert(
            "expires_at".into(),
            json!(self.clock.now().timestamp() + LOGIN_SECONDS),
        );
        self.table.put(item, Condition::Absent).await
    }

    /// Takes the sign-in of `state`, once: `None` when there is none, it has run out,
    /// or another request took it first.
    pub async fn take(&self, state: &str) -> Result<Option<PendingLogin>, StoreError> {
        let key = key_of(state);
        let Some(item) = self.table.get(&key).await? else {
            return Ok(None);
        };
        match self.table.delete(&key, Condition::Exists).await {
            Ok(()) => {}
            Err(StoreError::ConditionFailed { .. }) => return Ok(None),
            Err(e) => return Err(e),
        }
        let expires_at = item.get("expires_at").and_then(Value::as_i64);
        if expires_at.is_none_or(|t| self.clock.now().timestamp() >= t) {
            return Ok(None);
        }
        let text = |name: &str| {
            item.get(name)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let (Some(nonce), Some(verifier)) = (text("nonce"), text("verifier")) else {
            return Ok(None);
        };
        Ok(Some(PendingLogin {
            nonce,
            verifier,
            return_to: safe_return_to(&text("return_to").unwrap_or_default()),
        }))
    }
}
