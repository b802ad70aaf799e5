//! Sign-in with the organisation's OpenID Connect provider (Cognito on AWS): `GET
//! /sign-in` keeps a sign-in in progress (`crate::logins`: nonce, PKCE verifier, where
//! to go after) under a random `state` that the browser holds in a short-lived cookie,
//! and sends the person to the provider; `GET /auth/callback` checks the state against
//! that cookie, takes the sign-in (once), exchanges the code, verifies the ID token
//! (`postroom_web::oidc`), maps the person's `postroom-<role>` groups to roles and
//! starts a session. Refusals are logged with a stable code and no personal data.
//! Signing in, a refused sign-in of a person the provider vouched for, and signing out
//! are audit events on the person (`Object::Person`); signing out of the console also
//! ends the session at the provider when it offers a way ([`after_sign_out`]).

use std::sync::Arc;

use axum::extract::{RawQuery, Request, State as Extract};
use axum::handler::Handler;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::State;
use super::authz::Role;
use super::error::PageError;
use super::session;
use crate::audit::{Actor, Object};
use crate::failure::Code;
use crate::logins::{Logins, PendingLogin};
use crate::store::StoreError;
use postroom_web::oidc::{self, Client, OidcError, Pkce, random_string};

/// The login cookie's name over HTTPS (`__Host-`: Secure, no Domain, Path=/).
pub const LOGIN_COOKIE_HTTPS: &str = "__Host-postroom-login";
/// Its name over plain HTTP (the local stand-in).
pub const LOGIN_COOKIE: &str = "postroom-login";

fn login_cookie_name(state: &State) -> &'static str {
    if state.settings.https {
        LOGIN_COOKIE_HTTPS
    } else {
        LOGIN_COOKIE
    }
}

/// The `Set-Cookie` value that gives the browser the sign-in's state for ten
/// minutes, or (when `None`) removes it.
fn login_cookie(state: &State, value: Option<&str>) -> String {
    let name = login_cookie_name(state);
    let secure = if state.settings.https { "; Secure" } else { "" };
    match value {
        Some(v) => format!(
            "{name}={v}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
            crate::logins::LOGIN_SECONDS
        ),
        None => format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    }
}

/// How a person signed in, as the audit trail records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// With the organisation's OpenID Connect provider.
    Provider,
    /// With a local sign-in token.
    Token,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Provider => "oidc",
            Method::Token => "token",
        }
    }

    /// How the person `who` signed in (`oidc:<subject>` for the provider).
    pub fn of(who: &str) -> Method {
        if who.starts_with("oidc:") {
            Method::Provider
        } else {
            Method::Token
        }
    }
}

/// The person as the audit trail records them, before they have a session.
pub fn actor(who: &str, name: &str, roles: &[Role]) -> Actor {
    Actor {
        who: who.to_owned(),
        name: name.to_owned(),
        roles: roles.iter().map(|r| r.as_str().to_owned()).collect(),
        channel: "console",
    }
}

/// Records a sign-in event (`signed_in`, `sign_in_refused`, `signed_out`) on the person
/// themselves (`Object::Person`), with their name, roles, how they signed in and why a
/// sign-in was refused (never a token). A failed write fails the action, as for every
/// audited action.
pub async fn audit(
    state: &State,
    actor: &Actor,
    what: &str,
    method: Method,
    reason: Option<&str>,
) -> Result<(), StoreError> {
    let mut details = serde_json::json!({ "method": method.as_str() });
    if let Some(reason) = reason {
        details["reason"] = reason.into();
    }
    state
        .app
        .audit
        .record(actor, Object::Person(&actor.who), what, details)
        .await
}

/// Where the browser goes after the person `who` has signed out of the console, when
/// they signed in with the provider and it offers a sign-out: its address (which ends
/// their session there and sends them back to `/signed-out`). `None` otherwise, or when
/// the provider cannot be reached: the console's own session is over either way.
pub async fn after_sign_out(state: &State, who: &str) -> Option<String> {
    if state.settings.oidc.is_none() || Method::of(who) != Method::Provider {
        return None;
    }
    let client = provider(state).ok()?;
    match client.end_session_url().await {
        Ok(url) => url,
        Err(e) => {
            tracing::warn!(code = e.code(), detail = %e, "could not sign out of the provider");
            None
        }
    }
}

/// The sign-ins in progress (the application's use case over the table).
fn logins(state: &State) -> Logins {
    state.app.logins.clone()
}

fn provider(state: &State) -> Result<Arc<Client>, PageError> {
    let Some(settings) = &state.settings.oidc else {
        return Err(PageError::not_found("sign-in with a provider"));
    };
    Client::shared(settings).map_err(refused)
}

/// What the person is told when the provider or its answer fails; the log gets the
/// stable code (and, for the provider's side, what went wrong: URLs and statuses, never
/// a token or a name).
fn refused(e: OidcError) -> PageError {
    match &e {
        OidcError::Config(_) => {
            tracing::error!(code = e.code(), detail = %e, "sign-in provider misconfigured");
            PageError::new(
                Code::ConfigInvalid,
                "Sign-in is not set up correctly. The problem has been logged.".into(),
            )
        }
        OidcError::Unavailable(_) => {
            tracing::warn!(code = e.code(), detail = %e, "sign-in provider unreachable");
            PageError::new(
                Code::Busy,
                "The sign-in service could not be reached. Try again in a minute.".into(),
            )
        }
        OidcError::Provider(_) => {
            tracing::warn!(code = e.code(), detail = %e, "sign-in refused by the provider");
            PageError::new(
                Code::Unauthenticated,
                "Sign-in did not complete. Start again from the sign-in page.".into(),
            )
        }
        OidcError::Token(_) => {
            tracing::warn!(
                code = e.code(),
                "sign-in refused: the ID token failed a check"
            );
            PageError::new(
                Code::Unauthenticated,
                "Sign-in could not be verified. Start again from the sign-in page.".into(),
            )
        }
    }
}

/// A refusal that also removes the login cookie.
fn refusal(state: &State, error: PageError) -> Response {
    let mut response = error.into_response();
    if let Ok(v) = HeaderValue::from_str(&login_cookie(state, None)) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// Starts a sign-in with the provider: the sign-in kept, its state in the login
/// cookie, and a 303 to the provider's authorization endpoint. After signing in the
/// person lands on `return_to` (a path on the console; anything else is `/`).
pub async fn start(state: &State, return_to: &str) -> Result<Response, PageError> {
    let client = provider(state)?;
    let sign_in = random_string();
    let nonce = random_string();
    let pkce = Pkce::new();
    let url = client
        .authorization_url(&sign_in, &nonce, &pkce.challenge)
        .await
        .map_err(refused)?;
    logins(state)
        .begin(
            &sign_in,
            &PendingLogin {
                nonce,
                verifier: pkce.verifier,
                return_to: return_to.to_owned(),
            },
        )
        .await?;
    Ok((
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, url),
            (header::SET_COOKIE, login_cookie(state, Some(&sign_in))),
            (header::REFERRER_POLICY, "no-referrer".to_owned()),
        ],
    )
        .into_response())
}

/// `GET /sign-in`: with a provider configured, a sign-in with it; otherwise the local
/// sign-in by token (`routes::sign_in`), unchanged.
pub async fn sign_in(Extract(state): Extract<Arc<State>>, request: Request) -> Response {
    if state.settings.oidc.is_some() {
        return match start(&state, "/").await {
            Ok(response) => response,
            Err(e) => e.into_response(),
        };
    }
    Handler::<_, Arc<State>>::call(super::routes::sign_in, request, state).await
}

#[derive(Debug, Default, Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// Constant-time equality of two strings (by digest, so lengths leak nothing).
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// An OAuth error code from the provider, fit for the log (letters and `_` only).
fn error_code(e: &str) -> String {
    e.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(40)
        .collect()
}

/// `GET /auth/callback?code=…&state=…` (or `?error=…`): where the provider sends the
/// person back.
pub async fn callback(
    Extract(state): Extract<Arc<State>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    match finish(&state, &headers, query.as_deref().unwrap_or("")).await {
        Ok(response) => response,
        Err(error) => refusal(&state, error),
    }
}

async fn finish(state: &State, headers: &HeaderMap, query: &str) -> Result<Response, PageError> {
    let client = provider(state)?;
    let q: CallbackQuery = serde_urlencoded::from_str(query).unwrap_or_default();
    if let Some(error) = &q.error {
        let error = error_code(error);
        tracing::warn!(code = "sign_in_provider_error", error = %error, "the provider refused the sign-in");
        return Err(PageError::new(
            Code::Unauthenticated,
            if error == "access_denied" {
                "Sign-in was cancelled or refused by the sign-in service. You are not signed in."
                    .into()
            } else {
                "The sign-in service could not sign you in. Start again from the sign-in page."
                    .into()
            },
        ));
    }
    let cookie = session::cookie_value(headers, login_cookie_name(state));
    let (Some(code), Some(sign_in), Some(cookie)) = (&q.code, &q.state, cookie) else {
        tracing::warn!(
            code = "sign_in_incomplete",
            "a sign-in callback lacked its code, state or cookie"
        );
        return Err(PageError::invalid(
            "This sign-in did not start in this browser, or has expired. Start again from the sign-in page.",
        ));
    };
    if !same(sign_in, cookie) {
        tracing::warn!(
            code = "sign_in_state_mismatch",
            "a sign-in callback's state is not its browser's"
        );
        return Err(PageError::invalid(
            "This sign-in did not start in this browser. Start again from the sign-in page.",
        ));
    }
    let Some(login) = logins(state).take(sign_in).await? else {
        tracing::warn!(
            code = "sign_in_used_or_expired",
            "a sign-in callback came for a sign-in used or expired"
        );
        return Err(PageError::new(
            Code::Unauthenticated,
            "This sign-in has expired or was already used. Start again from the sign-in page."
                .into(),
        ));
    };
    let now = state.app.clock.now().timestamp();
    let claims = client
        .complete(code, &login.verifier, &login.nonce, now)
        .await
        .map_err(refused)?;
    let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    let roles: Vec<Role> = oidc::roles_of(&claims.groups, &client.settings().group_prefix, &names)
        .into_iter()
        .filter_map(Role::parse)
        .collect();
    let who = format!("oidc:{}", claims.sub);
    if roles.is_empty() {
        tracing::warn!(
            code = "sign_in_no_role",
            "a signed-in person has no postroom group"
        );
        let actor = actor(&who, &claims.name, &[]);
        let reason = Some("no_role");
        audit(state, &actor, "sign_in_refused", Method::Provider, reason).await?;
        return Err(PageError::new(
            Code::Forbidden,
            "You signed in, but your account has no postroom role. Ask an administrator to add you to a postroom group."
                .into(),
        ));
    }
    let token = session::start(state, &who, &claims.name, &roles).await?;
    let actor = actor(&who, &claims.name, &roles);
    audit(state, &actor, "signed_in", Method::Provider, None).await?;
    tracing::info!(
        code = "signed_in",
        roles = roles.len(),
        "signed in with the provider"
    );
    let mut response = (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, login.return_to.clone()),
            (header::REFERRER_POLICY, "no-referrer".to_owned()),
        ],
    )
        .into_response();
    for cookie in [
        login_cookie(state, None),
        session::set_cookie(state, Some(&token)),
    ] {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(response)
}
