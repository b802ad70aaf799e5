//! Tracing set-up, done once per process: human-readable on a terminal, JSON on Lambda.
//!
//! Log fields carry ids (document ids, case references, request ids), never document
//! text, names, addresses or NHS numbers. The level comes from `POSTROOM_LOG` (an
//! `EnvFilter` directive such as `info` or `postroom=debug`).

use tracing_subscriber::EnvFilter;

/// The environment variable that sets the log filter.
pub const ENV_LOG: &str = "POSTROOM_LOG";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Compact lines on standard error, for people.
    Human,
    /// One JSON object a line on standard output, for CloudWatch.
    Json,
}

/// Installs the global subscriber. `default_filter` applies when `POSTROOM_LOG` is
/// unset. Calling it twice leaves the first set-up in place.
pub fn init(format: LogFormat, default_filter: &str) {
    let filter =
        EnvFilter::try_from_env(ENV_LOG).unwrap_or_else(|_| EnvFilter::new(default_filter));
    let result = match format {
        LogFormat::Human => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_target(false)
            .compact()
            .try_init(),
        LogFormat::Json => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
    // Already initialised (tests, or a second call): keep the first.
    let _ = result;
}
