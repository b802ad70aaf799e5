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

/// Starts a function: JSON logs, the configuration for the AWS backend, and the
/// application acting as `lambda:<name>`.
pub async fn open(name: &str, log_filter: &str) -> Result<App, lambda_runtime::Error> {
    telemetry::init(LogFormat::Json, log_filter);
    let config = Config::from_env(&Overrides {
        backend: Some(BackendKind::Aws),
        ..Overrides::default()
    })?;
    Ok(App::open(config, Front::lambda(name)).await?)
}
