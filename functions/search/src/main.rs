//! The search function: applies the search queue's batches of changes to the tantivy
//! index in `POSTROOM_SEARCH_DIR` (its EFS mount; deployed twice from this binary: the
//! one writer with reserved concurrency 1, and the readers), and answers the queries
//! other functions send it by Invoke (`LambdaSearch`).

use lambda_runtime::{Error, LambdaEvent, service_fn};
use postroom::search_index::SearchIndex;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let app = &postroom_lambda::open("search", "info,tantivy=warn").await?;
    let dir = app.config.search_dir.clone().ok_or_else(|| {
        postroom_lambda::StartupError::new("POSTROOM_SEARCH_DIR is not set: the index folder")
    })?;
    let index = &SearchIndex::new(dir);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        index
            .handle(app.stores.blobs.as_ref(), event.payload)
            .await
            .map_err(postroom_lambda::Failure)
    }))
    .await
}
