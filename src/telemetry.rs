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

/// Installs the global subscriber and the panic hook (`install_panic_hook`).
/// `default_filter` applies when `POSTROOM_LOG` is unset. Calling it twice leaves the
/// first set-up in place.
pub fn init(format: LogFormat, default_filter: &str) {
    install_panic_hook();
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

/// Replaces the default panic hook, which prints the panic's message, with one that
/// prints only where it happened. A panic's message can carry whatever the panicking
/// code held (a slice of a document's text, a name), and on Lambda standard error goes to
/// CloudWatch: so the message is never written anywhere. Panics are still caught where
/// they were before (an extraction or analysis becomes `internal_error`).
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let line = panic_line(
            info.location(),
            std::thread::current().name().unwrap_or("unnamed"),
        );
        if tracing::dispatcher::has_been_set() {
            tracing::error!(target: "postroom::panic", "{line}");
        } else {
            let _ =
                std::io::Write::write_all(&mut std::io::stderr(), format!("{line}\n").as_bytes());
        }
    }));
}

/// What the panic hook writes: the place and thread, never the message (it is not
/// even given to this function).
pub fn panic_line(location: Option<&std::panic::Location<'_>>, thread: &str) -> String {
    match location {
        Some(at) => format!(
            "internal error (panic) at {}:{}:{} on thread {thread}; its message is withheld, as it may hold document text",
            at.file(),
            at.line(),
            at.column()
        ),
        None => format!(
            "internal error (panic) on thread {thread}; its message is withheld, as it may hold document text"
        ),
    }
}
