//! `postroom cases`: every case, or one case with its documents, letters and events.

use std::process::ExitCode;

use postroom::app::App;
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
