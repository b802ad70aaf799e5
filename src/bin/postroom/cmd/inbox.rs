//! `postroom inbox`: the unfiled documents, waiting for triage, oldest first.

use std::process::ExitCode;

use postroom::app::App;

use crate::output::or_dash;

pub async fn run(app: &App) -> anyhow::Result<ExitCode> {
    let unfiled = app.cases.inbox_view().await?;
    if unfiled.is_empty() {
        out!("The inbox is empty.");
    }
    for entry in &unfiled {
        out!(
            "{}  {:<26} {:<28} {}",
            entry.received_to_the_second(),
            or_dash(&entry.doc_id),
            or_dash(&entry.doc_type),
            or_dash(&entry.reason)
        );
    }
    Ok(ExitCode::SUCCESS)
}
