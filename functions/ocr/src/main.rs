//! The OCR Lambda (a container image: Debian with Tesseract, functions/ocr/Dockerfile):
//! takes the OCR queue's requests (`{"doc_id", "sha256"}`, sent by the ingest function
//! for documents whose pages need OCR), reads each document's scanned pages, replaces
//! its text and metadata, files it on its case when it now names one, and returns the
//! SQS batch's failed message ids.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use postroom::handlers::handle_scans;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let app = &postroom_lambda::open("ocr", "info,lopdf=off").await?;
    // Loaded during the function's init phase, not on its first event: the rules, compiled.
    app.ingest();
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle_scans(app.ingest(), event.payload, app.config.concurrency)
            .await
            .map_err(postroom_lambda::Failure)
    }))
    .await
}
