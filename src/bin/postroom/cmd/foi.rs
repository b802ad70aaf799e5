//! `postroom foi`: the statutory due date, logging requests and moving them through their
//! lifecycle, their letters, claims statistics, the due list, the year's report, the
//! disclosure log and the daily sweep. The figures and letters come from
//! `postroom::foi::{report, notices}`; this module renders them.

use std::process::ExitCode;

use anyhow::Context as _;
use chrono::NaiveDate;
use postroom::acknowledge::Signatory;
use postroom::app::App;
use postroom::calendar::Calendar;
use postroom::foi::deadline::ClockInput;
use postroom::foi::lifecycle::Command;
use postroom::foi::notices::{self, Kind, ResponseDetails};
use postroom::foi::report::{self, DueState};
use postroom::foi::service::{FieldReview, NewRequest};
use postroom::views::{CaseEntry, FoiRequestView};

use crate::args::{FoiCmd, MoveCmd, On};
use crate::output::{join_counts, or_empty, out_str};

/// `postroom foi due`: works on the calendar alone (no store).
pub fn due(calendar: &Calendar, cmd: &FoiCmd) -> anyhow::Result<ExitCode> {
    let FoiCmd::Due {
        received,
        clarification_received,
        fee_notice,
        fee_paid,
        pit_extension,
    } = cmd
    else {
        anyhow::bail!("not `foi due`");
    };
    let input = ClockInput {
        received: *received,
        clarification_received: *clarification_received,
        fee_notice: *fee_notice,
        fee_paid: *fee_paid,
        pit_extension: *pit_extension,
    };
    let explained = report::explain_due(calendar, &input)?;
    let skipped: Vec<String> = explained
        .holidays_skipped
        .iter()
        .map(|(d, h)| format!("{d} {h}"))
        .collect();
    out!(
        "{}  (received {received}{}; {} bank holiday(s) not counted{}{})",
        explained.due,
        clarification_received
            .map(|c| format!(", clarified {c}"))
            .unwrap_or_default(),
        skipped.len(),
        if skipped.is_empty() {
            String::new()
        } else {
            format!(": {}", skipped.join(", "))
        },
        if *pit_extension > 0 {
            format!("; extended {pit_extension} working days")
        } else {
            String::new()
        }
    );
    if let Some(note) = explained.projection_note() {
        out!("{note}");
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run(app: &App, cmd: &FoiCmd) -> anyhow::Result<ExitCode> {
    let foi = &app.foi;
    match cmd {
        FoiCmd::Due { .. } => due(&foi.calendar, cmd),
        FoiCmd::New {
            requester,
            text,
            text_file,
            received,
            title,
        } => {
            let text = match (text, text_file) {
                (Some(t), _) => t.clone(),
                (None, Some(f)) => std::fs::read_to_string(f)
                    .with_context(|| format!("reading {}", f.display()))?,
                (None, None) => anyhow::bail!("give the request with --text or --text-file"),
            };
            let case = foi
                .open(NewRequest {
                    requester: requester.clone(),
                    request_text: text,
                    received: *received,
                    title: title.clone(),
                    source_doc: None,
                })
                .await?;
            out!(
                "{}  due {}{}",
                case.request.reference,
                case.request
                    .due
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "-".into()),
                case.duplicate_of
                    .as_ref()
                    .map(|d| format!("  (possible duplicate of {d}: same requester, same request)"))
                    .unwrap_or_default()
            );
            Ok(ExitCode::SUCCESS)
        }
        FoiCmd::Show { reference } => {
            let Some(view) = app.cases.foi_request(foi, reference).await? else {
                eprintln!("postroom: no FOI request {reference}");
                return Ok(ExitCode::from(1));
            };
            print_request(&view);
            for entry in &view.history {
                match entry {
                    CaseEntry::Event(e) => out!(
                        "  event   {}  {} by {}",
                        or_empty(&e.at),
                        or_empty(&e.what),
                        or_empty(&e.who)
                    ),
                    CaseEntry::Letter(l) => out!(
                        "  {:<7} {}  {}",
                        "letter",
                        or_empty(&l.created_at),
                        or_empty(&l.s3_key)
                    ),
                    CaseEntry::Reminder(r) => out!(
                        "  {:<7} {}  {}",
                        "reminder",
                        or_empty(&r.at),
                        or_empty(&r.kind)
                    ),
                    _ => {}
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        FoiCmd::DueList { within } => {
            let list = report::due(foi, *within).await?;
            for entry in &list {
                match &entry.state {
                    DueState::ClockNotStarted { code } => out!(
                        "{:<12} {:<23} due ?           CLOCK NOT STARTED ({code}; received {})",
                        entry.reference,
                        entry.status.as_str(),
                        entry.received
                    ),
                    state => out!(
                        "{:<12} {:<23} due {}  {}",
                        entry.reference,
                        entry.status.as_str(),
                        entry
                            .due
                            .map(|d| d.to_string())
                            .unwrap_or_else(|| "paused    ".into()),
                        match state {
                            DueState::Pending {
                                working_days_left: Some(n),
                            } => format!("{n} working day(s) left"),
                            DueState::Overdue => "OVERDUE".to_string(),
                            _ => String::new(),
                        }
                    ),
                }
            }
            if list.is_empty() {
                out!(
                    "Nothing due{}.",
                    within
                        .map(|w| format!(" within {w} working days"))
                        .unwrap_or_default()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        FoiCmd::Move(m) => {
            let (on, command) = move_command(m, foi.today())?;
            let case = foi.apply(&on.reference, &command).await?;
            print_request(&FoiRequestView::new(case, foi.today(), &foi.calendar));
            Ok(ExitCode::SUCCESS)
        }
        FoiCmd::Letter {
            reference,
            kind,
            out,
            format,
            information,
            stats_by,
            from,
            to,
            advice,
            signatory,
            signatory_role,
        } => {
            let kind: Kind = kind.parse()?;
            let signatory = Signatory {
                name: signatory.clone(),
                role: signatory_role.clone(),
                ..Signatory::foi()
            };
            let details = ResponseDetails {
                information: information.clone(),
                advice: advice.clone(),
                statistics_by: stats_by.clone(),
                from: *from,
                to: *to,
            };
            let letter = notices::make(
                foi,
                app.letters(),
                reference,
                kind,
                &signatory,
                &details,
                *format,
            )
            .await?;
            std::fs::write(out, &letter.bytes)
                .with_context(|| format!("writing {}", out.display()))?;
            out!(
                "wrote {} ({} for {reference}, {} bytes)",
                out.display(),
                letter.template,
                letter.bytes.len()
            );
            if let Some(recorded) = &letter.recorded {
                out!(
                    "recorded under {reference} as {} ({:?})",
                    recorded.letter_id,
                    recorded.status
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        FoiCmd::Stats {
            by,
            from,
            to,
            threshold,
            csv,
        } => {
            let claims = report::claims_table(foi, by, *from, *to, *threshold).await?;
            let published = &claims.table;
            if *csv {
                out_str(&published.to_csv());
            } else {
                out!("{}\n", claims.caption);
                out_str(&published.to_text());
                out!(
                    "\n\"<{t}\": between 1 and {}; \"*\": hidden so that small numbers cannot be worked out from the totals.",
                    published.threshold - 1,
                    t = published.threshold
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        FoiCmd::Report { year } => {
            let r = report::yearly(foi, *year).await?;
            out!("FOI requests received in {year}: {}", r.received);
            out!(
                "Answered: {}; in time: {} ({:.1}%)",
                r.answered,
                r.in_time,
                r.in_time_percent()
            );
            out!("Outcomes: {}", join_counts(&r.outcomes));
            out!("Exemptions used: {}", join_counts(&r.exemptions));
            out!(
                "Internal reviews: {} ({}); complaints to the Information Commissioner noted: {}",
                r.reviews_requested(),
                join_counts(&r.reviews),
                r.complaints
            );
            Ok(ExitCode::SUCCESS)
        }
        FoiCmd::Publish { reference, dry_run } => {
            let published = foi
                .publish_reviewed(reference, app.letters().registry, !dry_run)
                .await?;
            // The reviewer's own data, on their terminal: never logged.
            print_review(&published.review);
            let entry = &published.entry;
            if *dry_run {
                out!(
                    "not published (--dry-run): {} ({}, {})",
                    entry.reference,
                    entry.outcome,
                    entry.date
                );
            } else {
                out!(
                    "published {} ({}, {}): {}",
                    entry.reference,
                    entry.outcome,
                    entry.date,
                    entry.document
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        FoiCmd::Log { out_dir } => {
            let log = report::disclosure_log_files(foi).await?;
            std::fs::create_dir_all(out_dir)
                .with_context(|| format!("creating {}", out_dir.display()))?;
            for (name, bytes) in &log.files {
                let path = out_dir.join(name);
                std::fs::write(&path, bytes)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            out!(
                "wrote {} ({} entries: index.html, disclosure-log.json and the responses)",
                out_dir.display(),
                log.entries
            );
            Ok(ExitCode::SUCCESS)
        }
        FoiCmd::Sweep { within } => {
            let within = within.unwrap_or(app.config.remind_within);
            let reminders = foi.sweep(foi.today(), within).await?;
            for r in &reminders {
                out!(
                    "{:<12} {:<16} due {}{}",
                    r.reference,
                    r.kind,
                    r.due
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "not worked out".into()),
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

/// The lifecycle command a `foi move` asks for, dated `--on` or `today`.
fn move_command(m: &MoveCmd, today: NaiveDate) -> anyhow::Result<(&On, Command)> {
    let day = |o: &On| o.on.unwrap_or(today);
    Ok(match m {
        MoveCmd::Acknowledge(o) => (o, Command::Acknowledge { on: day(o) }),
        MoveCmd::Clarify(o) => (o, Command::RequestClarification { on: day(o) }),
        MoveCmd::Clarified(o) => (o, Command::ClarificationReceived { on: day(o) }),
        MoveCmd::FeeNotice(o) => (o, Command::IssueFeeNotice { on: day(o) }),
        MoveCmd::FeePaid(o) => (o, Command::FeePaid { on: day(o) }),
        MoveCmd::Start(o) => (o, Command::StartWork { on: day(o) }),
        MoveCmd::Extend { on, days, reason } => (
            on,
            Command::ExtendForPublicInterest {
                on: day(on),
                days: *days,
                reason: reason.clone(),
            },
        ),
        MoveCmd::Respond {
            on,
            outcome,
            exemptions,
        } => (
            on,
            Command::Respond {
                on: day(on),
                outcome: notices::parse_outcome(outcome)?,
                exemptions: exemptions
                    .iter()
                    .map(|e| notices::parse_exemption(e))
                    .collect::<Result<_, _>>()?,
            },
        ),
        MoveCmd::Review(o) => (o, Command::RequestReview { on: day(o) }),
        MoveCmd::ExtendReview { on, days, reason } => (
            on,
            Command::ExtendReview {
                on: day(on),
                days: *days,
                reason: reason.clone(),
            },
        ),
        MoveCmd::Decide { on, result } => (
            on,
            Command::DecideReview {
                on: day(on),
                result: notices::parse_review_result(result)?,
            },
        ),
        MoveCmd::Close(o) => (o, Command::Close { on: day(o) }),
        MoveCmd::Complaint(o) => (o, Command::NoteComplaint { on: day(o) }),
    })
}

/// What the redaction removed and kept, field by field, for the reviewer.
fn print_review(review: &[FieldReview]) {
    let removed: usize = review.iter().map(|f| f.removed.len()).sum();
    out!("Removed from the public version: {removed} item(s).");
    for f in review {
        if f.removed.is_empty() && f.kept_for_review.is_empty() {
            continue;
        }
        out!("  {}:", f.field);
        for r in &f.removed {
            out!("    removed {:<10} {:?}", r.kind, r.text);
        }
        if !f.kept_for_review.is_empty() {
            out!(
                "    kept (check these are not names): {}",
                f.kept_for_review.join("; ")
            );
        }
    }
    out!("Kept (the public text):");
    for f in review {
        for (n, line) in f.public.lines().enumerate() {
            if n == 0 {
                out!("  {:<22} {line}", f.field);
            } else {
                out!("  {:<22} {line}", "");
            }
        }
    }
}

/// A request's state and dates.
fn print_request(view: &FoiRequestView) {
    let case = &view.case;
    let r = &case.request;
    out!("{}  {}", r.reference, case.title);
    out!(
        "  status   {}{}",
        r.status.as_str(),
        if view.overdue {
            "  (OVERDUE)"
        } else if view.due_soon {
            "  (due soon)"
        } else {
            ""
        }
    );
    out!("  received {}", r.received);
    if let Some(d) = case.sender_date {
        out!("  dated    {d} (by the sender)");
    }
    match &r.clock_error {
        Some(code) if r.due.is_none() => out!(
            "  due      NOT WORKED OUT ({code}): the received date is outside the years the calendar counts (the table's, and by rule 1900–2200); work the date out by hand, or move it with a table that covers it (--holidays)"
        ),
        _ => out!(
            "  due      {}",
            r.due
                .map(|d| d.to_string())
                .unwrap_or_else(|| "paused (clarification or fee awaited)".into())
        ),
    }
    if let Some(reason) = &r.pit_reason {
        out!("  extended {} working days: {reason}", r.pit_extension);
    }
    if let (Some(d), Some(o)) = (r.responded, r.outcome) {
        out!(
            "  responded {d}: {}{}",
            o.as_str(),
            if r.answered_in_time() == Some(false) {
                " (late)"
            } else {
                ""
            }
        );
    }
    for e in &r.exemptions {
        out!("  exemption s.{} {}", e.section, e.title);
    }
    if let Some(d) = r.review_requested {
        out!(
            "  review   requested {d}{}, due {}{}",
            if r.review_late { " (late)" } else { "" },
            r.review_due.map(|d| d.to_string()).unwrap_or_default(),
            r.review_result
                .map(|x| format!(", {}", x.as_str()))
                .unwrap_or_default()
        );
    }
    if let Some(d) = &case.duplicate_of {
        out!("  possible duplicate of {d}");
    }
}
