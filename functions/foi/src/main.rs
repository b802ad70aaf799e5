//! The FOI Lambda: FOI commands as JSON events (invoked directly or from an API) and the
//! daily EventBridge schedule that sweeps for requests due soon or overdue. A thin
//! front: it reads the configuration once, builds the AWS adapters and calls the library.

use std::sync::Arc;

use lambda_runtime::{Diagnostic, Error, LambdaEvent, service_fn};
use postroom::calendar::{Calendar, Nation};
use postroom::config::{BackendKind, Config, Overrides};
use postroom::foi::service::Foi;
use postroom::handlers::{HandlerError, handle_foi};
use postroom::ingest::SystemClock;
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
    let within = std::env::var("POSTROOM_FOI_REMIND_WITHIN")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let nations: Vec<Nation> = std::env::var("POSTROOM_FOI_NATIONS")
        .unwrap_or_default()
        .split(',')
        .filter_map(Nation::from_division)
        .collect();
    let calendar = if nations.is_empty() {
        Calendar::embedded().clone()
    } else {
        Calendar::embedded().with_nations(&nations)
    };
    let foi = Foi {
        stores: Stores::open(&config).await?,
        clock: Arc::new(SystemClock),
        calendar,
        actor: "lambda:foi".into(),
    };
    let foi = &foi;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle_foi(foi, event.payload, within)
            .await
            .map_err(Failure)
    }))
    .await
}
