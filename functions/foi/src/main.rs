//! The FOI Lambda: FOI commands as JSON events (invoked directly or from an API) and the
//! daily EventBridge schedule that sweeps for requests due soon or overdue.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use postroom::handlers::{FoiSettings, handle_foi};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let app = &postroom_lambda::open("foi", "info").await?;
    let settings = &FoiSettings::from_config(&app.config);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        // The caller's own identity, when the runtime knows it (Cognito credentials).
        let invoker = event.context.identity.as_ref();
        let invoker = invoker.map(|i| format!("cognito:{}", i.identity_id));
        handle_foi(&app.foi, event.payload, settings, invoker.as_deref())
            .await
            .map_err(postroom_lambda::Failure)
    }))
    .await
}
