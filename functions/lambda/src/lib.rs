//! What every postroom Lambda binary shares: the application opened once from the
//! configuration (the AWS backend; every missing or invalid setting stops start-up with
//! one message naming each variable), and failures marked `Retryable` or `Permanent` in
//! the Lambda diagnostic, from the one failure table.

use lambda_runtime::Diagnostic;
use postroom::app::{App, Front};
use postroom::config::{BackendKind, Config, Overrides};
use postroom::handlers::HandlerError;
use postroom::telemetry::{self, LogFormat};

/// A failed invocation, typed `Retryable` or `Permanent` in the Lambda diagnostic.
#[derive(Debug)]
pub struct Failure(pub HandlerError);

impl From<HandlerError> for Failure {
    fn from(e: HandlerError) -> Self {
        Failure(e)
    }
}

impl From<Failure> for Diagnostic {
    fn from(failure: Failure) -> Self {
        Diagnostic {
            error_type: failure.0.kind().to_owned(),
            error_message: failure.0.to_string(),
        }
    }
}

/// Why a function could not start, printed as its message (every bad setting on its own
/// line), not as a Rust structure: the runtime prints it in the function's init error.
pub struct StartupError(String);

impl std::fmt::Debug for StartupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Display for StartupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartupError {}

impl StartupError {
    /// A setting only this function needs is missing or wrong: logged, and it stops.
    pub fn new(message: impl Into<String>) -> Self {
        let message = message.into();
        lambda_runtime::tracing::error!(error = %message, "the function cannot start");
        StartupError(message)
    }
}

/// Starts a function: JSON logs, the configuration for the AWS backend, and the
/// application acting as `lambda:<name>`. A missing or invalid setting stops it here.
pub async fn open(name: &str, log_filter: &str) -> Result<App, StartupError> {
    open_as(Front::lambda(name), log_filter).await
}

/// As [`open`], for a function that acts as another front (the console: its own actor
/// name, acknowledgements off).
pub async fn open_as(front: Front, log_filter: &str) -> Result<App, StartupError> {
    telemetry::init(LogFormat::Json, log_filter);
    let stop = |e: &dyn std::fmt::Display| {
        let message = e.to_string();
        lambda_runtime::tracing::error!(error = %message, "the function cannot start");
        StartupError(message)
    };
    let config = Config::from_env(&Overrides {
        backend: Some(BackendKind::Aws),
        ..Overrides::default()
    })
    .map_err(|e| stop(&e))?;
    App::open(config, front).await.map_err(|e| stop(&e))
}
