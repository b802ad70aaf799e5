//! `postroom search QUERY [--case REF] [--type T] [--json]`: documents found by their
//! words, phrases and references, best first (`--json`: one object a hit, the matches
//! in the snippet between `**`); `postroom search --reindex` rebuilds the index from
//! every stored document's text. The query's text is never logged.

use std::process::ExitCode;
use std::time::Instant;

use postroom::app::App;
use postroom::failure::ErrorCode as _;
use postroom::store::search::MAX_PAGE_HITS;
use postroom::store::{Filters, SearchError, SearchRequest};
use serde_json::json;

use crate::args::SearchArgs;
use crate::output::or_dash;

pub async fn run(app: &App, args: &SearchArgs) -> anyhow::Result<ExitCode> {
    if args.reindex {
        return reindex(app).await;
    }
    match search(app, args).await {
        Ok(code) => Ok(code),
        // The grammar's and the index's refusals, with their stable reason and the exit
        // status of the failure table.
        Err(
            e @ (SearchError::Query(_)
            | SearchError::BadFilter(_)
            | SearchError::BadCursor
            | SearchError::TooBroad
            | SearchError::NotConfigured),
        ) => {
            eprintln!("postroom: {e} ({})", e.reason());
            Ok(ExitCode::from(e.code().exit_code()))
        }
        Err(SearchError::Store(e)) => Err(e.into()),
    }
}

async fn search(app: &App, args: &SearchArgs) -> Result<ExitCode, SearchError> {
    let text = args.query.join(" ");
    let filters = Filters {
        case_ref: args.case_ref.clone(),
        doc_type: args.doc_type.clone(),
        family: args.family.clone(),
        from: args.from.map(|d| d.to_string()),
        to: args.to.map(|d| d.to_string()),
        // The CLI runs as whoever may read the home or the stack: every document.
        scope: None,
    };
    let wanted = args.limit as usize;
    let mut request = SearchRequest::parse(&text)?
        .filters(filters)
        .limit(args.limit.min(MAX_PAGE_HITS));
    let mut shown = 0usize;
    while shown < wanted {
        let page = app.search.query(&request).await?;
        for hit in page.hits.iter().take(wanted - shown) {
            shown += 1;
            if args.json {
                let line = json!({
                    "doc_id": hit.doc_id,
                    "case_ref": hit.filing.case_ref,
                    "doc_type": hit.filing.doc_type,
                    "score": (hit.score * 1000.0).round() / 1000.0,
                    "snippet": hit.snippet.marked("**", "**"),
                });
                out!("{line}");
            } else {
                out!(
                    "{:>7.2}  {:<26} {:<16} {:<22} {}",
                    hit.score,
                    hit.doc_id,
                    or_dash(&hit.filing.case_ref),
                    or_dash(&hit.filing.doc_type),
                    or_dash(&hit.document_date)
                );
                out!("         {}", hit.snippet.marked("[", "]"));
            }
        }
        match page.next {
            Some(next) => request = request.after(Some(next)),
            None => break,
        }
    }
    if shown == 0 && !args.json {
        out!("Nothing found.");
    }
    Ok(ExitCode::SUCCESS)
}

async fn reindex(app: &App) -> anyhow::Result<ExitCode> {
    if !app.search.configured() {
        let e = SearchError::NotConfigured;
        eprintln!("postroom: {e} ({})", e.reason());
        return Ok(ExitCode::from(e.code().exit_code()));
    }
    let started = Instant::now();
    let mut reported = 0;
    let done = postroom::ingest::reindex(&app.stores, app.search.as_ref(), app.rules(), |n| {
        if n >= reported + 10_000 {
            reported = n;
            eprintln!("postroom: {n} documents indexed so far");
        }
    })
    .await?;
    out!(
        "Indexed {} documents in {:.1} s: {} written, {} refiled, {} unchanged{}; {} removed{}.",
        done.documents,
        started.elapsed().as_secs_f64(),
        done.written,
        done.refiled,
        done.unchanged,
        if done.queued > 0 {
            format!(", {} applied by the search function", done.queued)
        } else {
            String::new()
        },
        done.removed,
        if done.without_text > 0 {
            format!(
                " ({} without stored text, indexed by name)",
                done.without_text
            )
        } else {
            String::new()
        }
    );
    Ok(ExitCode::SUCCESS)
}
