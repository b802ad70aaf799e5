//! The console binary off Lambda: it serves the router on a loopback address
//! (`POSTROOM_CONSOLE_LISTEN`, 127.0.0.1:8080 by default) for tests and the local stack,
//! signing people in with `POSTROOM_CONSOLE_TOKEN` while no OpenID Connect provider is
//! configured. SIGTERM or Ctrl-C stops it after the requests in hand are answered.

use std::net::SocketAddr;

use postroom::config::Config;
use postroom::console::LocalToken;
use postroom::console::authz::Role;
use postroom::failure::{Code, ErrorCode};

/// Where the console listens off Lambda.
pub const ENV_LISTEN: &str = "POSTROOM_CONSOLE_LISTEN";
const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Why the console could not be served locally.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error("{ENV_LISTEN}: `{0}` is not an address such as {DEFAULT_LISTEN}")]
    BadAddress(String),
    #[error(
        "{ENV_LISTEN}: {0} is not a loopback address; off Lambda the console serves this computer only"
    )]
    NotLoopback(SocketAddr),
    #[error("could not listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    #[error("the console stopped: {0}")]
    Serve(std::io::Error),
}

impl ErrorCode for ListenError {
    fn code(&self) -> Code {
        match self {
            ListenError::BadAddress(_) | ListenError::NotLoopback(_) => Code::ConfigInvalid,
            ListenError::Bind(..) | ListenError::Serve(_) => Code::Internal,
        }
    }
}

/// The sign-in token off Lambda: `POSTROOM_CONSOLE_TOKEN` with `POSTROOM_CONSOLE_ROLES`
/// (every role when unset), only while no OpenID Connect provider is configured.
pub fn tokens(config: &Config) -> Vec<LocalToken> {
    let Some(token) = &config.console_token else {
        return Vec::new();
    };
    if config.oidc_issuer.is_some() {
        tracing::warn!(
            code = "console_token_ignored",
            "POSTROOM_CONSOLE_TOKEN is ignored: people sign in with the OpenID Connect provider"
        );
        return Vec::new();
    }
    let roles = match config.console_roles.is_empty() {
        true => Role::ALL.to_vec(),
        false => config
            .console_roles
            .iter()
            .filter_map(|r| Role::parse(r))
            .collect(),
    };
    let who = config.user.clone().unwrap_or_else(|| "local".into());
    vec![LocalToken::new(token, who, roles)]
}

/// Serves `router` on the loopback address `POSTROOM_CONSOLE_LISTEN` until stopped.
pub async fn serve(router: axum::Router) -> Result<(), lambda_http::Error> {
    let text = std::env::var(ENV_LISTEN).unwrap_or_else(|_| DEFAULT_LISTEN.into());
    let addr: SocketAddr = text
        .trim()
        .parse()
        .map_err(|_| refuse(ListenError::BadAddress(text.clone())))?;
    if !addr.ip().is_loopback() {
        return Err(refuse(ListenError::NotLoopback(addr)));
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| refuse(ListenError::Bind(addr, e)))?;
    let bound = listener.local_addr().unwrap_or(addr);
    tracing::info!(code = "console_listening", address = %bound, "the console is served on http://{bound}/");
    axum::serve(listener, router)
        .with_graceful_shutdown(stopped())
        .await
        .map_err(|e| refuse(ListenError::Serve(e)))?;
    Ok(())
}

fn refuse(e: ListenError) -> lambda_http::Error {
    tracing::error!(code = e.code().as_str(), error = %e, "the console cannot be served");
    Box::new(e)
}

/// Resolves on SIGTERM (the local stack stopping it) or Ctrl-C.
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
