//! The FOI Lambda: FOI commands as JSON events (invoked directly or from an API) and the
//! daily EventBridge schedule that sweeps for requests due soon or overdue. A thin
//! front: it reads the configuration once, builds the AWS adapters and calls the library.

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use postroom::calendar::{Calendar, Nation};
use postroom::clock::SystemClock;
use postroom::foi::service::Foi;
use postroom::handlers::{FoiSettings, SWEEP_RULE_ARN_VAR, handle_foi};
use postroom::stores::Stores;
use postroom::telemetry::{self, LogFormat};
use postroom_lambda::{Failure, config, env_number};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init(LogFormat::Json, "info");
    let config = config()?;
    let settings = FoiSettings {
        remind_within: env_number("POSTROOM_FOI_REMIND_WITHIN", 5),
        // The schedule allowed to start the sweep; unset, every scheduled event is refused.
        sweep_rule_arn: std::env::var(SWEEP_RULE_ARN_VAR)
            .ok()
            .filter(|v| !v.trim().is_empty()),
    };
    if settings.sweep_rule_arn.is_none() {
        lambda_runtime::tracing::warn!(
            variable = SWEEP_RULE_ARN_VAR,
            "no sweep schedule configured: scheduled events will be refused"
        );
    }
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
    let (foi, settings) = (&foi, &settings);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        // The caller's own identity, when the runtime knows it (Cognito credentials).
        let invoker = event
            .context
            .identity
            .as_ref()
            .map(|i| format!("cognito:{}", i.identity_id));
        handle_foi(foi, event.payload, settings, invoker.as_deref())
            .await
            .map_err(Failure)
    }))
    .await
}
