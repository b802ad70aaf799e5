//! `postroom inbox`: the unfiled documents, waiting for triage, oldest first, each with
//! why it was not filed and the case it most likely belongs to (`--json`: one object a
//! document with every suggestion, best first).

use std::process::ExitCode;

use postroom::app::App;

use crate::args::InboxArgs;
use crate::output::or_dash;

/// Inbox entries read from the store at a time.
const PAGE: u32 = 200;

pub async fn run(app: &App, args: &InboxArgs) -> anyhow::Result<ExitCode> {
    let mut next: Option<String> = None;
    let mut shown = 0usize;
    loop {
        let page = app.cases.inbox_page(next.as_deref(), PAGE).await?;
        for entry in &page.items {
            shown += 1;
            if args.json {
                out!("{}", serde_json::to_string(entry)?);
                continue;
            }
            let best = entry
                .suggestions
                .first()
                .map(|s| format!("  → {} ({:.2})", s.case_ref, s.score))
                .unwrap_or_default();
            out!(
                "{}  {:<26} {:<28} {}{}",
                entry.received_to_the_second(),
                or_dash(&entry.doc_id),
                or_dash(&entry.doc_type),
                or_dash(&entry.reason),
                best
            );
        }
        match page.next {
            Some(position) => next = Some(position),
            None => break,
        }
    }
    if shown == 0 && !args.json {
        out!("The inbox is empty.");
    }
    Ok(ExitCode::SUCCESS)
}
