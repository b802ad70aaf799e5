//! `postroom claims`: claims' deadlines due across claims, one claim's deadlines with
//! the rule behind each, events and extensions recorded by hand, and the daily sweep.

use std::process::ExitCode;

use postroom::app::App;
use postroom::claims::{DeadlineKind, Extension, ManualEvent};
use serde_json::json;

use crate::args::ClaimsCmd;

pub async fn run(app: &App, cmd: &ClaimsCmd) -> anyhow::Result<ExitCode> {
    let clocks = &app.claims;
    let today = clocks.today();
    match cmd {
        ClaimsCmd::Due { within, json } => {
            let due = clocks.due(today, *within).await?;
            for d in &due {
                if *json {
                    out!(
                        "{}",
                        json!({
                            "case_ref": d.case_ref,
                            "deadline": d.deadline.as_str(),
                            "due": d.due.to_string(),
                            "basis": d.basis,
                            "status": d.status,
                        })
                    );
                } else {
                    out!(
                        "{}  {:<16} {:<26} {}{}",
                        d.due,
                        d.case_ref,
                        d.deadline.as_str(),
                        d.status.to_uppercase(),
                        d.note
                            .as_deref()
                            .map(|n| format!("  ({n})"))
                            .unwrap_or_default()
                    );
                }
            }
            if !*json {
                out!(
                    "{} deadline(s) overdue or due within {within} day(s).",
                    due.len()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ClaimsCmd::Show { reference, json } => {
            let list = clocks.recompute(reference).await?.deadlines;
            if *json {
                for d in &list {
                    out!(
                        "{}",
                        json!({
                            "case_ref": reference,
                            "deadline": d.deadline.as_str(),
                            "from": d.from.to_string(),
                            "due": d.due.to_string(),
                            "basis": d.basis,
                            "note": d.note,
                            "status": d.status(today).as_str(),
                            "met": d.met.map(|m| m.to_string()),
                        })
                    );
                }
                return Ok(ExitCode::SUCCESS);
            }
            if list.is_empty() {
                out!("{reference}: no deadlines yet (nothing recorded starts one).");
            }
            for d in &list {
                out!(
                    "{:<26} due {}  {:<7} from {}{}",
                    d.deadline.as_str(),
                    d.due,
                    d.status(today).as_str(),
                    d.from,
                    d.met.map(|m| format!(", met {m}")).unwrap_or_default()
                );
                out!("    {}", d.basis);
                if let Some(note) = &d.note {
                    out!("    {note}");
                }
                for e in &d.extensions {
                    out!(
                        "    extended to {} on {}: {}",
                        e.new_due,
                        e.agreed_on,
                        e.reason
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ClaimsCmd::Record {
            reference,
            event,
            on,
            requested,
        } => {
            let event = ManualEvent::named(event, on.unwrap_or(today), *requested)?;
            let clock = clocks.record(reference, event).await?;
            out!(
                "{reference}: recorded; {} deadline(s) running.",
                clock.deadlines.iter().filter(|d| d.met.is_none()).count()
            );
            Ok(ExitCode::SUCCESS)
        }
        ClaimsCmd::Extend {
            reference,
            deadline,
            to,
            reason,
            agreed_on,
            from,
        } => {
            let kind: DeadlineKind = deadline.parse()?;
            let extension = Extension {
                deadline: kind,
                from: *from,
                new_due: *to,
                reason: reason.clone(),
                agreed_on: agreed_on.unwrap_or(today),
            };
            clocks.extend(reference, extension).await?;
            out!("{reference}: {} extended to {to}.", kind.as_str());
            Ok(ExitCode::SUCCESS)
        }
        ClaimsCmd::Sweep { within } => {
            let reminders = clocks.sweep(today, *within).await?;
            for r in &reminders {
                out!(
                    "{:<16} {:<26} {:<9} due {}{}",
                    r.case_ref,
                    r.deadline.as_str(),
                    r.kind,
                    r.due,
                    if r.new {
                        ""
                    } else {
                        "  (already reminded today)"
                    }
                );
            }
            out!("{} reminder(s).", reminders.len());
            Ok(ExitCode::SUCCESS)
        }
    }
}
