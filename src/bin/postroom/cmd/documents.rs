//! `postroom documents`: one document's record and metadata as JSON (`show`), or every
//! document with its current filing (`list`), read from the store a page at a time.

use std::process::ExitCode;

use postroom::app::App;

use crate::args::DocumentsCmd;
use crate::output::or_dash;

pub async fn run(app: &App, cmd: &DocumentsCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        DocumentsCmd::Show { id } => match app.cases.document_view(id).await? {
            Some(doc) => {
                out!("{}", serde_json::to_string_pretty(&doc)?);
                Ok(ExitCode::SUCCESS)
            }
            None => {
                eprintln!("postroom: no document {id}");
                Ok(ExitCode::FAILURE)
            }
        },
        DocumentsCmd::List { json } => {
            let mut next: Option<String> = None;
            let mut shown = 0usize;
            loop {
                let page = app.cases.documents_page(next.as_deref()).await?;
                for doc in &page.items {
                    shown += 1;
                    if *json {
                        out!("{}", serde_json::to_string(doc)?);
                    } else {
                        out!(
                            "{:<26} {:<11} {:<18} {:<28} {}",
                            doc.doc_id,
                            or_dash(&doc.status),
                            or_dash(&doc.case_ref),
                            or_dash(&doc.doc_type),
                            or_dash(&doc.source)
                        );
                    }
                }
                match page.next {
                    Some(position) => next = Some(position),
                    None => break,
                }
            }
            if shown == 0 && !*json {
                out!("No documents yet.");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
