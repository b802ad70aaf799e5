//! The FOI Lambda: FOI commands as JSON events (invoked directly or from an API) and the
//! daily EventBridge schedule that sweeps for requests due soon or overdue. A thin
//! front: it reads the configuration once, builds the AWS adapters and calls the library.

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use postroom::calendar::{Calendar, Nation};
use postroom::foi::service::Foi;
use postroom::handlers::handle_foi;
use postroom::ingest::SystemClock;
use postroom::stores::Stores;
use postroom::telemetry::{self, LogFormat};
use postroom_lambda::{Failure, config, env_number};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init(LogFormat::Json, "info");
    let config = config()?;
    let within = env_number("POSTROOM_FOI_REMIND_WITHIN", 5);
    let nations = Nation::parse_list([std::env::var("POSTROOM_FOI_NATIONS")
        .unwrap_or_default()
        .as_str()])
    .map_err(|e| format!("POSTROOM_FOI_NATIONS: {e}"))?;
    let calendar = Calendar::embedded().counting(&nations);
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
