//! The console Lambda: the staff console's router behind API Gateway's HTTP API, through
//! lambda_http. Without `AWS_LAMBDA_RUNTIME_API` the same binary serves the router on a
//! loopback address (`POSTROOM_CONSOLE_LISTEN`) for tests and the local stack.

mod local;

use std::sync::Arc;

use postroom::app::{Acknowledgements, Front};
use postroom::console::ConsoleSettings;

/// The provider's sign-out address when its discovery document names none: a Cognito
/// user pool's `https://<domain>/logout` (derived from its hosted UI when unset).
pub const ENV_OIDC_LOGOUT_URL: &str = "POSTROOM_OIDC_LOGOUT_URL";

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let front = Front::named("lambda:console", Acknowledgements::Off);
    let app = Arc::new(postroom_lambda::open_as(front, "info").await?);
    let on_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    // A sign-in token never opens the console on Lambda: there it is OpenID Connect only.
    let tokens = match on_lambda {
        true => Vec::new(),
        false => local::tokens(&app.config),
    };
    let mut settings = ConsoleSettings::from_config(&app.config, tokens);
    if let (Some(oidc), Ok(url)) = (&mut settings.oidc, std::env::var(ENV_OIDC_LOGOUT_URL)) {
        oidc.logout_url = Some(url.trim().to_owned()).filter(|u| !u.is_empty());
    }
    if settings.oidc.is_none() && settings.tokens.is_empty() {
        tracing::warn!(
            code = "console_no_sign_in",
            "nobody can sign in: set POSTROOM_OIDC_ISSUER and POSTROOM_OIDC_CLIENT_ID"
        );
    }
    let router = postroom::console::router(app, settings);
    if on_lambda {
        lambda_http::run(router).await
    } else {
        local::serve(router).await
    }
}
