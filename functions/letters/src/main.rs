//! The letters Lambda: takes letter requests (an SQS batch, or one request invoked
//! directly), renders each from its template, stores the PDF and records it under its
//! case. A thin front: it reads the configuration once, builds the AWS adapters and
//! calls the library.

use std::sync::Arc;

use lambda_runtime::{Diagnostic, Error, LambdaEvent, service_fn};
use postroom::config::{BackendKind, Config, Overrides};
use postroom::handlers::{HandlerError, handle_letters};
use postroom::ingest::SystemClock;
use postroom::letters::Registry;
use postroom::outbox::Outbox;
use postroom::stores::Stores;
use postroom::telemetry::{self, LogFormat};
use serde_json::Value;

/// A failed invocation, typed `Retryable` or `Permanent` in the Lambda diagnostic.
#[derive(Debug)]
struct Failure(HandlerError);

impl From<Failure> for Diagnostic {
    fn from(failure: Failure) -> Self {
        Diagnostic {
            error_type: failure.0.kind().to_owned(),
            error_message: failure.0.to_string(),
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init(LogFormat::Json, "info");
    let config = Config::from_env(&Overrides {
        backend: Some(BackendKind::Aws),
        home: None,
    })?;
    let concurrency = std::env::var("POSTROOM_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    let outbox = Outbox {
        stores: Stores::open(&config).await?,
        registry: Registry::embedded(),
        clock: Arc::new(SystemClock),
        actor: "lambda:letters".into(),
    };
    let outbox = &outbox;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle_letters(outbox, event.payload, concurrency)
            .await
            .map_err(Failure)
    }))
    .await
}
