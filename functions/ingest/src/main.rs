//! The ingest Lambda: decodes upload events (S3 via SQS, EventBridge, or direct), files
//! each document, and returns the SQS batch's failed message ids. A thin front: it reads
//! the configuration once, builds the AWS adapters and calls the library.

use std::sync::Arc;

use lambda_runtime::{Diagnostic, Error, LambdaEvent, service_fn};
use postroom::config::{BackendKind, Config, Overrides};
use postroom::handlers::{HandlerError, handle_ingest};
use postroom::ingest::{Ingest, IngestSettings, SystemClock};
use postroom::metadata::Rules;
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
    telemetry::init(LogFormat::Json, "info,lopdf=off");
    let config = Config::from_env(&Overrides {
        backend: Some(BackendKind::Aws),
        home: None,
    })?;
    let concurrency = std::env::var("POSTROOM_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    let stores = Stores::open(&config).await?;
    let settings = IngestSettings {
        actor: "lambda:ingest".into(),
        ..IngestSettings::default()
    };
    let ingest = Ingest::new(stores, Rules::builtin(), Arc::new(SystemClock), settings);
    let ingest = &ingest;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle_ingest(ingest, event.payload, concurrency)
            .await
            .map_err(Failure)
    }))
    .await
}
