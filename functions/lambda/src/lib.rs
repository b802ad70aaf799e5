//! What every postroom Lambda binary shares: errors marked `Retryable` or `Permanent` in
//! the Lambda diagnostic, the configuration read once for the AWS backend, and numeric
//! settings from the environment.

use lambda_runtime::Diagnostic;
use postroom::config::{BackendKind, Config, ConfigError, Overrides};
use postroom::handlers::HandlerError;

/// A failed invocation, typed `Retryable` or `Permanent` in the Lambda diagnostic.
#[derive(Debug)]
pub struct Failure(pub HandlerError);

impl From<Failure> for Diagnostic {
    fn from(failure: Failure) -> Self {
        Diagnostic {
            error_type: failure.0.kind().to_owned(),
            error_message: failure.0.to_string(),
        }
    }
}

/// The configuration for the AWS backend (every missing setting reported together).
pub fn config() -> Result<Config, ConfigError> {
    Config::from_env(&Overrides {
        backend: Some(BackendKind::Aws),
        home: None,
    })
}

/// A numeric setting from the environment, or its default.
pub fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
