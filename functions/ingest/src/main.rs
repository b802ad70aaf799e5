//! The ingest Lambda: decodes upload events (S3 via SQS, EventBridge, or direct), files
//! each document, queues acknowledgements on the letters queue (`POSTROOM_LETTERS_QUEUE`,
//! optional), and returns the SQS batch's failed message ids.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use postroom::handlers::handle_ingest;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let app = &postroom_lambda::open("ingest", "info,lopdf=off").await?;
    // Loaded during the function's init phase, not on its first event: the rules, compiled.
    app.ingest();
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle_ingest(app.ingest(), event.payload, app.config.concurrency)
            .await
            .map_err(postroom_lambda::Failure)
    }))
    .await
}
