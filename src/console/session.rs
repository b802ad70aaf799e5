//! The console's side of sessions: the cookie that carries the token (HttpOnly,
//! SameSite=Lax, `__Host-` and Secure over HTTPS), and the `Session` extractor that
//! finds the person's session (`crate::sessions`) or refuses the request: a page is sent
//! to sign in, anything else gets 401.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use sha2::{Digest, Sha256};

use super::State;
use super::authz::{Permission, Role, allows};
use super::error::PageError;
use super::settings::random_token;
use crate::failure::Code;
use crate::sessions::{Lifetimes, SessionRecord};
use crate::store::StoreError;

/// A signed-in person, for the length of one request.
#[derive(Debug, Clone)]
pub struct Session {
    digest: String,
    /// Who they are in the audit trail: `console:<name>` locally, the provider's
    /// subject on AWS.
    pub who: String,
    /// Their name as shown.
    pub name: String,
    pub roles: Vec<Role>,
    /// The token every form of theirs carries in `csrf_token`.
    pub csrf: String,
}

impl Session {
    fn from_record(r: SessionRecord) -> Session {
        Session {
            digest: r.digest,
            who: r.who,
            name: r.name,
            roles: r.roles.iter().filter_map(|n| Role::parse(n)).collect(),
            csrf: r.csrf,
        }
    }

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

    /// The person as the audit trail records them.
    pub fn actor(&self) -> crate::audit::Actor {
        crate::audit::Actor {
            who: self.who.clone(),
            name: self.name.clone(),
            roles: self.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            channel: "console",
        }
    }
}

fn lifetimes(state: &State) -> Lifetimes {
    Lifetimes {
        idle: state.settings.idle,
        absolute: state.settings.absolute,
    }
}

/// Starts a session for `who` and returns the cookie's value.
pub async fn start(
    state: &State,
    who: &str,
    name: &str,
    roles: &[Role],
) -> Result<String, StoreError> {
    let token = random_token();
    let roles: Vec<String> = roles.iter().map(|r| r.as_str().to_owned()).collect();
    state
        .app
        .sessions
        .start(&token, &random_token(), who, name, &roles, lifetimes(state))
        .await?;
    Ok(token)
}

/// Ends a session (signing out): its cookie opens nothing afterwards.
pub async fn end(state: &State, session: &Session) -> Result<(), StoreError> {
    state.app.sessions.end(&session.digest).await
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
        let record = match token {
            Some(t) => state.app.sessions.find(t, lifetimes(state)).await?,
            None => None,
        };
        match record.map(Session::from_record) {
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
