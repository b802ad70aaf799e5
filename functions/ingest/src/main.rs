//! The ingest Lambda: decodes upload events (S3 via SQS, EventBridge, or direct), files
//! each document, queues acknowledgements on the letters queue (`POSTROOM_LETTERS_QUEUE`,
//! optional), and returns the SQS batch's failed message ids. A thin front: it reads the
//! configuration once, builds the AWS adapters and calls the library.

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use postroom::clock::SystemClock;
use postroom::handlers::handle_ingest;
use postroom::ingest::{Ingest, IngestSettings};
use postroom::metadata::Rules;
use postroom::store::{AwsSettings, SqsQueue};
use postroom::stores::Stores;
use postroom::telemetry::{self, LogFormat};
use postroom_lambda::{Failure, config, env_number};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init(LogFormat::Json, "info,lopdf=off");
    let config = config()?;
    let concurrency = env_number("POSTROOM_CONCURRENCY", 4);
    let stores = Stores::open(&config).await?;
    let settings = IngestSettings {
        actor: "lambda:ingest".into(),
        ..IngestSettings::default()
    };
    let mut ingest = Ingest::new(stores, Rules::builtin(), Arc::new(SystemClock), settings);
    if let Some(url) = std::env::var("POSTROOM_LETTERS_QUEUE")
        .ok()
        .filter(|u| !u.is_empty())
    {
        let aws = AwsSettings::load().await;
        ingest = ingest.with_letters(Arc::new(SqsQueue::new(&aws, url)));
    }
    let ingest = &ingest;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle_ingest(ingest, event.payload, concurrency)
            .await
            .map_err(Failure)
    }))
    .await
}
