//! The letters Lambda: takes letter requests (an SQS batch, or one request invoked
//! directly), renders each from its template, stores the PDF and records it under its
//! case. A thin front: it reads the configuration once, builds the AWS adapters and
//! calls the library.

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use postroom::clock::SystemClock;
use postroom::handlers::handle_letters;
use postroom::letters::Registry;
use postroom::outbox::Outbox;
use postroom::stores::Stores;
use postroom::telemetry::{self, LogFormat};
use postroom_lambda::{Failure, config, env_number};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init(LogFormat::Json, "info");
    let config = config()?;
    let concurrency = env_number("POSTROOM_CONCURRENCY", 4);
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
