//! Server-side sessions in the `Table` port: the browser holds a random token in an
//! HttpOnly, SameSite=Lax cookie; the table holds only its SHA-256 with the person, their
//! roles, the form token (CSRF) and the times that end it (idle and absolute). Signing
//! out deletes the item. The `Session` extractor refuses a request without one.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::State;
use super::authz::{Permission, Role, allows};
use super::error::PageError;
use super::settings::random_token;
use crate::failure::Code;
use crate::model::keys;
use crate::store::{Condition, Item, Key, StoreError, Update};

/// Touch the session's last-seen time at most this often (seconds).
const TOUCH_EVERY: i64 = 60;

/// A signed-in person, for the length of one request.
#[derive(Debug, Clone)]
pub struct Session {
    digest: String,
    /// Who they are (recorded in the audit trail): `console:<name>` locally, the
    /// provider's subject on AWS.
    pub who: String,
    /// Their name as shown.
    pub name: String,
    pub roles: Vec<Role>,
    /// The token every form of theirs carries in `csrf_token`.
    pub csrf: String,
}

impl Session {
    pub fn can(&self, permission: Permission) -> bool {
        allows(&self.roles, permission)
    }

    /// `Ok` when the person may, else a 403 naming nothing but the refusal.
    pub fn require(&self, permission: Permission) -> Result<(), PageError> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(PageError::forbidden())
        }
    }

    /// Whether `token` is this session's form token (compared by digest).
    pub fn csrf_matches(&self, token: &str) -> bool {
        let a = Sha256::digest(self.csrf.as_bytes());
        let b = Sha256::digest(token.as_bytes());
        a.iter()
            .zip(b.iter())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
    }

    pub fn role_names(&self) -> Vec<&'static str> {
        self.roles.iter().map(|r| r.as_str()).collect()
    }
}

fn digest_of(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Starts a session for `who` and returns the cookie's value.
pub async fn start(
    state: &State,
    who: &str,
    name: &str,
    roles: &[Role],
) -> Result<String, StoreError> {
    let token = random_token();
    let now = state.app.clock.now();
    let absolute = Duration::from_std(state.settings.absolute).unwrap_or(Duration::hours(8));
    let mut item = Item::new();
    item.insert("PK".into(), keys::session(&digest_of(&token)).into());
    item.insert("SK".into(), keys::META.into());
    item.insert("who".into(), who.into());
    item.insert("name".into(), name.into());
    item.insert(
        "roles".into(),
        Value::Array(roles.iter().map(|r| Value::from(r.as_str())).collect()),
    );
    item.insert("csrf".into(), random_token().into());
    item.insert("created".into(), rfc3339(now).into());
    item.insert("seen".into(), rfc3339(now).into());
    // For the store's time-to-live sweep (DynamoDB TTL): seconds since the epoch.
    item.insert("expires_at".into(), json!((now + absolute).timestamp()));
    state.app.stores.table.put(item, Condition::Absent).await?;
    Ok(token)
}

/// Ends a session (signing out): its item is deleted, so its cookie opens nothing.
pub async fn end(state: &State, session: &Session) -> Result<(), StoreError> {
    let key = Key::new(keys::session(&session.digest), keys::META);
    state.app.stores.table.delete(&key, Condition::None).await
}

/// The session cookie's value in a request, if any.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// The `Set-Cookie` value that gives the browser `token`, or (when `None`) removes it.
pub fn set_cookie(state: &State, token: Option<&str>) -> String {
    let name = state.settings.cookie_name();
    let secure = if state.settings.https { "; Secure" } else { "" };
    match token {
        Some(t) => format!("{name}={t}; Path=/; HttpOnly; SameSite=Lax{secure}"),
        None => format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    }
}

/// Loads the session for `token`, ending it when it has run out; touches it now and
/// then so that the idle limit counts from the last request.
async fn load(state: &State, token: &str) -> Result<Option<Session>, StoreError> {
    let table = &state.app.stores.table;
    let digest = digest_of(token);
    let key = Key::new(keys::session(&digest), keys::META);
    let Some(item) = table.get(&key).await? else {
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
    let now = state.app.clock.now();
    let idle = Duration::from_std(state.settings.idle).unwrap_or(Duration::minutes(30));
    let absolute = Duration::from_std(state.settings.absolute).unwrap_or(Duration::hours(8));
    if now - seen > idle || now - created > absolute {
        table.delete(&key, Condition::None).await?;
        return Ok(None);
    }
    if (now - seen).num_seconds() >= TOUCH_EVERY {
        let update = Update::new(key.clone())
            .set("seen", rfc3339(now))
            .when(Condition::Exists);
        match table.update(update).await {
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
                .filter_map(Role::parse)
                .collect()
        })
        .unwrap_or_default();
    Ok(Some(Session {
        digest,
        who: text("who"),
        name: text("name"),
        roles,
        csrf: text("csrf"),
    }))
}

/// Whether a refused request is a page a browser navigated to (sent to sign in) or
/// anything else (answered 401).
fn wants_page(parts: &Parts) -> bool {
    parts.method == Method::GET
        && parts
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
}

impl FromRequestParts<Arc<State>> for Session {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<State>,
    ) -> Result<Self, Self::Rejection> {
        if let Some(session) = parts.extensions.get::<Session>() {
            return Ok(session.clone());
        }
        let token = cookie_value(&parts.headers, state.settings.cookie_name());
        let session = match token {
            Some(t) => load(state, t).await.map_err(PageError::from)?,
            None => None,
        };
        match session {
            Some(s) => {
                parts.extensions.insert(s.clone());
                Ok(s)
            }
            None if wants_page(parts) => Err(PageError::sign_in_first(parts.uri.path())),
            None => Err(PageError::new(
                Code::Unauthenticated,
                "Sign in first.".to_owned(),
            )),
        }
    }
}
