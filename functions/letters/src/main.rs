//! The letters Lambda: takes letter requests (an SQS batch, or one request invoked
//! directly), renders each from its template, stores the PDF and records it under its
//! case; and the steps of jobs (letter batches, statistics, the disclosure log) that
//! the same queue carries.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use postroom::handlers::handle_letters_and_jobs;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let app = &postroom_lambda::open("letters", "info").await?;
    // Loaded during the function's init phase, not on its first event: the templates and fonts.
    app.letters();
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle_letters_and_jobs(app, event.payload)
            .await
            .map_err(postroom_lambda::Failure)
    }))
    .await
}
