//! `postroom file`: files an unfiled document under a case by hand (audited with who).

use std::process::ExitCode;

use postroom::app::App;

use crate::args::FileArgs;

pub async fn run(app: &App, args: &FileArgs) -> anyhow::Result<ExitCode> {
    app.cases
        .file(&args.doc_id, &args.case_ref, args.by.as_deref())
        .await?;
    out!("Filed {} under {}.", args.doc_id, args.case_ref);
    Ok(ExitCode::SUCCESS)
}
