//! Sign-in with OpenID Connect (the authorization code flow with PKCE, `state` and
//! `nonce`), as the console uses it on AWS against a Cognito user pool with a public app
//! client (no secret). [`Client`] reads the provider's discovery document (its `issuer`
//! must be the configured one byte for byte) and keys (cached; fetched again on an
//! unknown key id at most once a minute), builds the authorization URL, exchanges the
//! code and verifies the ID token ([`jwt`]). Storing the sign-in in progress and the
//! session are the console's business, not this module's.

pub mod http;
pub mod jwt;
pub mod pkce;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

pub use http::{Http, HyperHttp, Reply};
pub use jwt::{Claims, KeySet, TokenError};
pub use pkce::{Pkce, random_string};

/// The scopes asked for: the ID token then carries the person's name and email where
/// the provider has them (the Cognito app client must allow all three).
pub const SCOPES: &str = "openid email profile";
/// An unknown key id fetches the key set again at most this often.
pub const KEYS_REFRESH: Duration = Duration::from_secs(60);

/// The provider and this client, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcSettings {
    /// The issuer URL (its `/.well-known/openid-configuration` is read).
    pub issuer: String,
    pub client_id: String,
    /// Where the provider sends people back: `<console origin>/auth/callback`.
    pub redirect_uri: String,
    /// Groups are named `<prefix><role>` (`postroom-case-handler`).
    pub group_prefix: String,
    /// Where the provider sends people back after signing out of it: `<console
    /// origin>/signed-out` (a Cognito app client's allowed sign-out URL).
    pub post_logout_redirect_uri: String,
    /// The provider's sign-out address when its discovery document names none
    /// (Cognito's `https://<user pool domain>/logout`); see [`end_session_url`].
    pub logout_url: Option<String>,
}

/// Why sign-in with the provider failed.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The settings or the provider's discovery document are wrong (an issuer that is
    /// not the configured one, plain HTTP to a remote host): an operator must act.
    #[error("the sign-in provider is misconfigured: {0}")]
    Config(String),
    /// The provider could not be reached in time.
    #[error("the sign-in provider could not be reached: {0}")]
    Unavailable(String),
    /// The provider answered, but not as the protocol says (or refused the code).
    #[error("the sign-in provider's answer was refused: {0}")]
    Provider(String),
    /// The ID token failed a check.
    #[error(transparent)]
    Token(#[from] TokenError),
}

impl OidcError {
    /// A stable code for the log.
    pub fn code(&self) -> &'static str {
        match self {
            OidcError::Config(_) => "oidc_config",
            OidcError::Unavailable(_) => "oidc_unavailable",
            OidcError::Provider(_) => "oidc_provider",
            OidcError::Token(t) => t.code(),
        }
    }
}

/// The parts of the provider's discovery document sign-in uses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    /// Where signing out of the provider goes, when it says (Cognito does not; its
    /// `/logout` is on the user pool's domain).
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
}

impl Discovery {
    /// Reads `<issuer>/.well-known/openid-configuration` and checks it: the same
    /// issuer byte for byte, every endpoint HTTPS (or loopback HTTP).
    pub async fn fetch(http: &dyn Http, issuer: &str) -> Result<Discovery, OidcError> {
        http::check_url(issuer)?;
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let reply = http.get(&url).await?;
        if reply.status != 200 {
            return Err(OidcError::Provider(format!(
                "discovery answered {}",
                reply.status
            )));
        }
        let discovery: Discovery = serde_json::from_slice(&reply.body)
            .map_err(|e| OidcError::Provider(format!("discovery document: {e}")))?;
        if discovery.issuer != issuer {
            return Err(OidcError::Config(format!(
                "the discovery document names issuer {:.200}, not the configured {issuer:.200}",
                discovery.issuer
            )));
        }
        for url in [
            &discovery.authorization_endpoint,
            &discovery.token_endpoint,
            &discovery.jwks_uri,
        ] {
            http::check_url(url)?;
        }
        Ok(discovery)
    }
}

/// Characters left as they are in a query value (RFC 3986 unreserved).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn encode(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Where the person's browser goes to sign in: the authorization endpoint with
/// `response_type=code`, this client, its redirect URI, [`SCOPES`], `state`, `nonce`
/// and the PKCE challenge (S256).
pub fn authorization_url(
    settings: &OidcSettings,
    discovery: &Discovery,
    state: &str,
    nonce: &str,
    code_challenge: &str,
) -> String {
    let endpoint = &discovery.authorization_endpoint;
    let join = if endpoint.contains('?') { '&' } else { '?' };
    let query = form(&[
        ("response_type", "code"),
        ("client_id", &settings.client_id),
        ("redirect_uri", &settings.redirect_uri),
        ("scope", SCOPES),
        ("state", state),
        ("nonce", nonce),
        ("code_challenge", code_challenge),
        ("code_challenge_method", "S256"),
    ]);
    format!("{endpoint}{join}{query}")
}

/// Where the person's browser goes after signing out of the console, to end their
/// session at the provider too, or `None` when the provider offers no way:
/// - the discovery document's `end_session_endpoint` (OpenID Connect RP-initiated
///   logout) with `client_id` and `post_logout_redirect_uri`;
/// - else the configured `logout_url`, or for a Cognito user pool (whose discovery
///   document names no sign-out endpoint) its hosted UI's `/logout` beside
///   `/oauth2/authorize`, both with Cognito's `client_id` and `logout_uri`.
///
/// Every address must be HTTPS (or HTTP on loopback).
pub fn end_session_url(
    settings: &OidcSettings,
    discovery: &Discovery,
) -> Result<Option<String>, OidcError> {
    let with = |endpoint: &str, pairs: &[(&str, &str)]| -> Result<String, OidcError> {
        http::check_url(endpoint)?;
        let join = if endpoint.contains('?') { '&' } else { '?' };
        Ok(format!("{endpoint}{join}{}", form(pairs)))
    };
    if let Some(endpoint) = &discovery.end_session_endpoint {
        return with(
            endpoint,
            &[
                ("client_id", &settings.client_id),
                (
                    "post_logout_redirect_uri",
                    &settings.post_logout_redirect_uri,
                ),
            ],
        )
        .map(Some);
    }
    let cognito = || {
        let pool = settings.issuer.strip_prefix("https://cognito-idp.")?;
        let (host, _) = pool.split_once('/')?;
        if !host.ends_with(".amazonaws.com") {
            return None;
        }
        discovery
            .authorization_endpoint
            .strip_suffix("/oauth2/authorize")
            .map(|base| format!("{base}/logout"))
    };
    match settings.logout_url.clone().or_else(cognito) {
        Some(url) => with(
            &url,
            &[
                ("client_id", &settings.client_id),
                ("logout_uri", &settings.post_logout_redirect_uri),
            ],
        )
        .map(Some),
        None => Ok(None),
    }
}

/// The key set as last fetched.
#[derive(Debug, Default)]
struct Keys {
    set: Option<Arc<KeySet>>,
    fetched: Option<Instant>,
}

/// The provider, for one configured client: discovery and keys cached.
#[derive(Debug)]
pub struct Client {
    settings: OidcSettings,
    http: Arc<dyn Http>,
    discovery: tokio::sync::OnceCell<Arc<Discovery>>,
    keys: tokio::sync::Mutex<Keys>,
}

impl Client {
    pub fn new(settings: OidcSettings, http: Arc<dyn Http>) -> Client {
        Client {
            settings,
            http,
            discovery: tokio::sync::OnceCell::new(),
            keys: tokio::sync::Mutex::new(Keys::default()),
        }
    }

    /// The process's client for `settings` over the real HTTPS client, made on first
    /// use: discovery and keys are fetched once per process, not per request.
    pub fn shared(settings: &OidcSettings) -> Result<Arc<Client>, OidcError> {
        static CLIENTS: OnceLock<Mutex<Vec<Arc<Client>>>> = OnceLock::new();
        static HTTP: OnceLock<Arc<HyperHttp>> = OnceLock::new();
        let mut clients = CLIENTS
            .get_or_init(Mutex::default)
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(client) = clients.iter().find(|c| c.settings == *settings) {
            return Ok(client.clone());
        }
        // One HTTPS client for the process (made under the lock above).
        let http = match HTTP.get() {
            Some(http) => http.clone(),
            None => {
                let made = Arc::new(HyperHttp::new()?);
                HTTP.get_or_init(|| made).clone()
            }
        };
        let client = Arc::new(Client::new(settings.clone(), http));
        clients.push(client.clone());
        Ok(client)
    }

    pub fn settings(&self) -> &OidcSettings {
        &self.settings
    }

    /// The provider's discovery document (fetched once; a failure is tried again on
    /// the next call).
    pub async fn discovery(&self) -> Result<Arc<Discovery>, OidcError> {
        self.discovery
            .get_or_try_init(|| async {
                Discovery::fetch(self.http.as_ref(), &self.settings.issuer)
                    .await
                    .map(Arc::new)
            })
            .await
            .cloned()
    }

    /// The authorization URL of a sign-in (see [`authorization_url`]).
    pub async fn authorization_url(
        &self,
        state: &str,
        nonce: &str,
        code_challenge: &str,
    ) -> Result<String, OidcError> {
        let discovery = self.discovery().await?;
        Ok(authorization_url(
            &self.settings,
            &discovery,
            state,
            nonce,
            code_challenge,
        ))
    }

    /// Where the browser goes to sign out of the provider too (see
    /// [`end_session_url`]).
    pub async fn end_session_url(&self) -> Result<Option<String>, OidcError> {
        let discovery = self.discovery().await?;
        end_session_url(&self.settings, &discovery)
    }

    /// Exchanges an authorization code (and the PKCE verifier) for the ID token, as a
    /// public client: no secret, `client_id` in the form.
    pub async fn exchange(&self, code: &str, verifier: &str) -> Result<String, OidcError> {
        let discovery = self.discovery().await?;
        let body = form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &self.settings.redirect_uri),
            ("client_id", &self.settings.client_id),
            ("code_verifier", verifier),
        ]);
        let reply = self
            .http
            .post_form(&discovery.token_endpoint, &body)
            .await?;
        #[derive(Deserialize)]
        struct TokenReply {
            id_token: Option<String>,
            error: Option<String>,
        }
        let parsed: Option<TokenReply> = serde_json::from_slice(&reply.body).ok();
        match (reply.status, parsed) {
            (
                200,
                Some(TokenReply {
                    id_token: Some(t), ..
                }),
            ) => Ok(t),
            (200, _) => Err(OidcError::Provider(
                "the token endpoint sent no ID token".into(),
            )),
            (status, Some(TokenReply { error: Some(e), .. })) => Err(OidcError::Provider(format!(
                "the token endpoint answered {status} {:.64}",
                e
            ))),
            (status, _) if status >= 500 => Err(OidcError::Unavailable(format!(
                "the token endpoint answered {status}"
            ))),
            (status, _) => Err(OidcError::Provider(format!(
                "the token endpoint answered {status}"
            ))),
        }
    }

    async fn fetch_keys(&self, keys: &mut Keys) -> Result<Arc<KeySet>, OidcError> {
        let discovery = self.discovery().await?;
        keys.fetched = Some(Instant::now());
        let reply = self.http.get(&discovery.jwks_uri).await?;
        if reply.status != 200 {
            return Err(OidcError::Provider(format!(
                "the key set answered {}",
                reply.status
            )));
        }
        let set = Arc::new(
            KeySet::from_json(&reply.body)
                .map_err(|e| OidcError::Provider(format!("the key set: {e}")))?,
        );
        keys.set = Some(set.clone());
        Ok(set)
    }

    /// Verifies an ID token for this sign-in (`nonce`) at `now` (seconds since the
    /// epoch). Keys come from the cache; a key id not in it fetches the set again, at
    /// most once a minute.
    pub async fn verify(&self, id_token: &str, nonce: &str, now: i64) -> Result<Claims, OidcError> {
        let expected = jwt::Expected {
            issuer: &self.settings.issuer,
            client_id: &self.settings.client_id,
            nonce,
            now,
        };
        let mut keys = self.keys.lock().await;
        let set = match &keys.set {
            Some(set) => set.clone(),
            None => self.fetch_keys(&mut keys).await?,
        };
        match jwt::verify(id_token, &set, &expected) {
            Err(TokenError::UnknownKey)
                if keys.fetched.is_none_or(|t| t.elapsed() >= KEYS_REFRESH) =>
            {
                let set = self.fetch_keys(&mut keys).await?;
                Ok(jwt::verify(id_token, &set, &expected)?)
            }
            result => Ok(result?),
        }
    }

    /// The end of a sign-in: the code exchanged, the ID token verified.
    pub async fn complete(
        &self,
        code: &str,
        verifier: &str,
        nonce: &str,
        now: i64,
    ) -> Result<Claims, OidcError> {
        let id_token = self.exchange(code, verifier).await?;
        self.verify(&id_token, nonce, now).await
    }
}

/// The roles a person's groups give: each group named `<prefix><role>` for a role in
/// `roles` (exactly; case matters), in the order of `roles`, without repeats.
pub fn roles_of<'a>(groups: &[String], prefix: &str, roles: &[&'a str]) -> Vec<&'a str> {
    roles
        .iter()
        .copied()
        .filter(|role| {
            groups
                .iter()
                .any(|g| g.strip_prefix(prefix).is_some_and(|rest| rest == *role))
        })
        .collect()
}

#[cfg(test)]
mod tests;
