//! `postroom cases`: every case, one case with its documents, letters and events, or
//! existing cases brought in from a CSV file (`cases import`), or the cases list's index
//! brought up to date (`cases relist`).

use std::process::ExitCode;

use postroom::app::{App, Front};
use postroom::cases::import::{ImportError, ImportReport, MAX_FILE_BYTES};
use postroom::failure::{EXIT_USAGE, ErrorCode as _};
use postroom::views::CaseEntry;

use crate::args::CasesCmd;
use crate::output::or_dash;

pub async fn run(app: &App, cmd: &CasesCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        CasesCmd::List => {
            let cases = app.cases.summaries().await?;
            if cases.is_empty() {
                out!("No cases yet.");
            }
            for case in cases {
                out!(
                    "{:<18} {:<7} {:<7} opened {}",
                    case.case_ref,
                    or_dash(&case.kind),
                    or_dash(&case.status),
                    case.opened_day().unwrap_or("-")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        CasesCmd::Import { file, json } => import(app, file, *json).await,
        CasesCmd::Relist => {
            let changed = app.cases.relist().await?;
            out!("{changed} cases given their place in the cases list.");
            Ok(ExitCode::SUCCESS)
        }
        CasesCmd::Show { reference } => {
            let Some(view) = app.cases.view(reference).await? else {
                eprintln!("postroom: no case {reference}");
                return Ok(ExitCode::FAILURE);
            };
            let case = &view.case;
            out!(
                "{} ({} case, {})",
                case.case_ref,
                or_dash(&case.kind),
                or_dash(&case.status)
            );
            for entry in &view.entries {
                match entry {
                    CaseEntry::Document(d) => out!(
                        "  document {}  {}  {}",
                        or_dash(&d.document_date),
                        or_dash(&d.doc_type),
                        or_dash(&d.doc_id)
                    ),
                    CaseEntry::Event(e) => out!(
                        "  event    {}  {} by {}",
                        or_dash(&e.at),
                        or_dash(&e.what),
                        or_dash(&e.who)
                    ),
                    CaseEntry::Letter(l) => out!(
                        "  letter   {}  {}  {}  {}",
                        or_dash(&l.created_at),
                        or_dash(&l.template),
                        or_dash(&l.status),
                        or_dash(&l.s3_key)
                    ),
                    CaseEntry::Reminder(r) => out!(
                        "  reminder {}  {}  due {}",
                        or_dash(&r.at),
                        or_dash(&r.kind),
                        or_dash(&r.due)
                    ),
                    CaseEntry::Command(c) => {
                        out!("  command  {}  {}", or_dash(&c.at), or_dash(&c.command))
                    }
                    CaseEntry::Other { kind } => out!("  {kind}"),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `postroom cases import FILE.csv [--json]`: exit 0 when every row landed, 1 when some
/// did not (rejected or in conflict), 2 when the file cannot be read at all.
async fn import(app: &App, file: &std::path::Path, json: bool) -> anyhow::Result<ExitCode> {
    let shown = file.display();
    let unreadable = |why: &dyn std::fmt::Display| {
        eprintln!("postroom: {shown}: {why}");
        Ok(ExitCode::from(EXIT_USAGE))
    };
    match std::fs::metadata(file) {
        Ok(m) if m.len() > MAX_FILE_BYTES as u64 => {
            let size = usize::try_from(m.len()).unwrap_or(usize::MAX);
            return unreadable(&ImportError::TooLarge { size });
        }
        Ok(_) => {}
        Err(e) => return unreadable(&e),
    }
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => return unreadable(&e),
    };
    let who = Front::cli(&app.config).actor;
    let report = match app.cases.import(&bytes, &who, &app.config.calendar).await {
        Ok(report) => report,
        Err(e) if e.is_unreadable_file() => return unreadable(&e),
        Err(e) => {
            eprintln!("postroom: {e}");
            return Ok(ExitCode::from(e.code().exit_code()));
        }
    };
    if json {
        for row in &report.rows {
            out!("{}", serde_json::to_string(row)?);
        }
        eprintln!("{}", summary(&report));
    } else {
        for row in &report.rows {
            for p in &row.problems {
                out!(
                    "row {}, column {}: {} [{}]",
                    row.row,
                    p.column.as_deref().unwrap_or("*"),
                    p.message,
                    p.code
                );
            }
        }
        out!("{}", summary(&report));
    }
    Ok(if report.all_landed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn summary(r: &ImportReport) -> String {
    format!(
        "{} created, {} updated, {} unchanged, {} conflicts, {} rejected rows; {} documents filed",
        r.created(),
        r.updated(),
        r.unchanged(),
        r.conflicts(),
        r.rejected(),
        r.documents_filed()
    )
}
