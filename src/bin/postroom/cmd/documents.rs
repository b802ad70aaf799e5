//! `postroom documents show`: one document's record and metadata, as JSON.

use std::process::ExitCode;

use postroom::app::App;

use crate::args::DocumentsCmd;

pub async fn run(app: &App, cmd: &DocumentsCmd) -> anyhow::Result<ExitCode> {
    let DocumentsCmd::Show { id } = cmd;
    match app.cases.document_view(id).await? {
        Some(doc) => {
            out!("{}", serde_json::to_string_pretty(&doc)?);
            Ok(ExitCode::SUCCESS)
        }
        None => {
            eprintln!("postroom: no document {id}");
            Ok(ExitCode::FAILURE)
        }
    }
}
