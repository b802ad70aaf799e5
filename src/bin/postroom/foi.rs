//! `postroom foi`: the statutory clock, logging and moving requests through their
//! lifecycle, their letters, safe claims statistics, due lists and the yearly report.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use chrono::NaiveDate;
use postroom::calendar::{Calendar, Nation};
use postroom::config::Config;
use postroom::foi::clock::{ClockInput, due_date};
use postroom::foi::lifecycle::{Command, Exemption, Outcome, ReviewResult};
use postroom::foi::service::{Foi, FoiCase, NewRequest};
use postroom::foi::stats::{Dim, count, suppress};
use postroom::letters::{Format, Registry};
use postroom::model::keys;
use serde_json::{Value, json};

#[derive(Debug, clap::Args)]
pub struct CalendarArgs {
    /// The nations whose bank holidays are not working days (comma-separated:
    /// england-and-wales, scotland, northern-ireland); all three by default.
    #[arg(long, env = "POSTROOM_FOI_NATIONS", value_delimiter = ',')]
    nations: Vec<String>,
    /// A newer bank holiday table (CSV: date,title,divisions) instead of the shipped one.
    #[arg(long, env = "POSTROOM_HOLIDAYS")]
    holidays: Option<PathBuf>,
}

impl CalendarArgs {
    fn calendar(&self) -> anyhow::Result<Calendar> {
        let base = match &self.holidays {
            Some(path) => Calendar::from_csv(
                &std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?,
            )?,
            None => Calendar::embedded().clone(),
        };
        let nations = Nation::parse_list(self.nations.iter().map(String::as_str))
            .map_err(anyhow::Error::msg)?;
        Ok(base.counting(&nations))
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum FoiCmd {
    /// The statutory due date (printed first on its line as YYYY-MM-DD).
    Due {
        #[arg(long)]
        received: NaiveDate,
        #[arg(long)]
        clarification_received: Option<NaiveDate>,
        #[arg(long, requires = "fee_paid")]
        fee_notice: Option<NaiveDate>,
        #[arg(long, requires = "fee_notice")]
        fee_paid: Option<NaiveDate>,
        /// Working days added for a public interest test (at most 20).
        #[arg(long, default_value_t = 0)]
        pit_extension: u32,
        #[command(flatten)]
        calendar: CalendarArgs,
    },
    /// Log a request by hand (the next FOI_ reference is issued).
    New {
        #[arg(long)]
        requester: String,
        /// The request, as written (or --text-file).
        #[arg(long, conflicts_with = "text_file")]
        text: Option<String>,
        #[arg(long)]
        text_file: Option<PathBuf>,
        /// The day it arrived (default today).
        #[arg(long)]
        received: Option<NaiveDate>,
        #[arg(long)]
        title: Option<String>,
        #[command(flatten)]
        calendar: CalendarArgs,
    },
    /// One request: its state, dates and history.
    Show { reference: String },
    /// Requests awaiting a response (or review), by due date; `--within N` keeps those due
    /// within N working days and those overdue.
    DueList {
        #[arg(long)]
        within: Option<u32>,
        #[command(flatten)]
        calendar: CalendarArgs,
    },
    /// Move a request on: acknowledge, clarify, clarified, fee-notice, fee-paid, start,
    /// extend, respond, review, extend-review, decide, close, complaint.
    #[command(subcommand)]
    Move(MoveCmd),
    /// Render a request's acknowledgement or response letter (and record it).
    Letter {
        reference: String,
        #[arg(long, value_parser = ["acknowledgement", "response"])]
        kind: String,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value = "pdf", value_parser = parse_format)]
        format: Format,
        /// The information released (response; one paragraph per line).
        #[arg(long)]
        information: Option<String>,
        /// A claims statistics table for the response (suppressed): `--stats-by specialty
        /// --stats-by year --from 2019 --to 2023`.
        #[arg(long = "stats-by")]
        stats_by: Vec<String>,
        #[arg(long)]
        from: Option<i32>,
        #[arg(long)]
        to: Option<i32>,
        /// Advice and assistance (required for cost-limit responses).
        #[arg(long)]
        advice: Option<String>,
        #[arg(long, default_value = "Freedom of Information Team")]
        signatory: String,
        #[arg(long, default_value = "Information Governance")]
        signatory_role: String,
    },
    /// Claims counted from the case records, small numbers suppressed.
    Stats {
        /// specialty, cause, injury, scheme or year (once or twice).
        #[arg(long = "by", required = true)]
        by: Vec<String>,
        #[arg(long)]
        from: i32,
        #[arg(long)]
        to: i32,
        /// Counts from 1 to this minus one are shown as "<N".
        #[arg(long, default_value_t = 5)]
        threshold: u64,
        /// Print CSV instead of a table.
        #[arg(long)]
        csv: bool,
    },
    /// The year's figures: received, answered in time, outcomes, exemptions, reviews.
    Report {
        #[arg(long)]
        year: i32,
        #[command(flatten)]
        calendar: CalendarArgs,
    },
    /// Publish a response: its public version (personal data removed) and a log entry.
    /// Prints, for you only, what was removed (by kind, as it was) and the public text.
    Publish {
        reference: String,
        /// Show what would be removed and published, and publish nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Write the disclosure log (HTML and JSON, with the public responses) to a folder.
    Log {
        #[arg(long, default_value = "disclosure-log")]
        out_dir: PathBuf,
    },
    /// What the daily function does: record reminders for requests due soon or overdue.
    Sweep {
        #[arg(long, default_value_t = 5)]
        within: u32,
        #[command(flatten)]
        calendar: CalendarArgs,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum MoveCmd {
    Acknowledge(On),
    Clarify(On),
    Clarified(On),
    FeeNotice(On),
    FeePaid(On),
    Start(On),
    /// A public interest test extension (1–20 working days, with its reason).
    Extend {
        #[command(flatten)]
        on: On,
        #[arg(long)]
        days: u32,
        #[arg(long)]
        reason: String,
    },
    Respond {
        #[command(flatten)]
        on: On,
        /// granted, partly-granted, refused, not-held, cost-limit, withdrawn, vexatious, repeated
        #[arg(long)]
        outcome: String,
        /// An exemption relied on: "SECTION|TITLE|REASON" (repeat for more).
        #[arg(long = "exemption")]
        exemptions: Vec<String>,
    },
    Review(On),
    ExtendReview {
        #[command(flatten)]
        on: On,
        /// The review's whole length in working days (21–40).
        #[arg(long)]
        days: u32,
        #[arg(long)]
        reason: String,
    },
    Decide {
        #[command(flatten)]
        on: On,
        /// upheld, overturned or partly-overturned
        #[arg(long)]
        result: String,
    },
    Close(On),
    Complaint(On),
}

#[derive(Debug, clap::Args)]
pub struct On {
    reference: String,
    /// The day it happened (default today).
    #[arg(long)]
    on: Option<NaiveDate>,
    #[command(flatten)]
    calendar: CalendarArgs,
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

async fn service(config: &Config, calendar: Calendar) -> anyhow::Result<Foi> {
    Ok(Foi {
        stores: postroom::app::open_stores(config).await?,
        clock: Arc::new(postroom::clock::SystemClock),
        calendar,
        actor: std::env::var("USER").unwrap_or_else(|_| "postroom-cli".into()),
    })
}

pub async fn run(config: &Config, cmd: &FoiCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        FoiCmd::Due {
            received,
            clarification_received,
            fee_notice,
            fee_paid,
            pit_extension,
            calendar,
        } => {
            let cal = calendar.calendar()?;
            let input = ClockInput {
                received: *received,
                clarification_received: *clarification_received,
                fee_notice: *fee_notice,
                fee_paid: *fee_paid,
                pit_extension: *pit_extension,
            };
            let due = due_date(&cal, &input)?;
            let start = clarification_received.unwrap_or(*received);
            let skipped: Vec<String> = start
                .iter_days()
                .skip(1)
                .take_while(|d| *d <= due)
                .filter_map(|d| cal.holiday(d).map(|h| format!("{d} {h}")))
                .collect();
            out!(
                "{due}  (received {received}{}; {} bank holiday(s) not counted{}{})",
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
            Ok(ExitCode::SUCCESS)
        }
        FoiCmd::New {
            requester,
            text,
            text_file,
            received,
            title,
            calendar,
        } => {
            let text = match (text, text_file) {
                (Some(t), _) => t.clone(),
                (None, Some(f)) => std::fs::read_to_string(f)
                    .with_context(|| format!("reading {}", f.display()))?,
                (None, None) => anyhow::bail!("give the request with --text or --text-file"),
            };
            let foi = service(config, calendar.calendar()?).await?;
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
            let foi = service(config, Calendar::embedded().clone()).await?;
            let Some(case) = foi.get(reference).await? else {
                eprintln!("postroom: no FOI request {reference}");
                return Ok(ExitCode::from(1));
            };
            print_case(&case, foi.today(), &foi.calendar);
            if let Some((_, under)) =
                postroom::cases::show_case(foi.stores.table.as_ref(), reference).await?
            {
                for item in under {
                    let sk = item.get("SK").and_then(Value::as_str).unwrap_or_default();
                    if sk.starts_with(keys::EVENT_PREFIX) {
                        out!(
                            "  event   {}  {} by {}",
                            item.get("at").and_then(Value::as_str).unwrap_or_default(),
                            item.get("what").and_then(Value::as_str).unwrap_or_default(),
                            item.get("who").and_then(Value::as_str).unwrap_or_default()
                        );
                    } else if sk.starts_with(keys::LETTER_PREFIX)
                        || sk.starts_with(keys::REMINDER_PREFIX)
                    {
                        out!(
                            "  {:<7} {}  {}",
                            sk.split('#').next().unwrap_or_default().to_lowercase(),
                            item.get("created_at")
                                .or_else(|| item.get("at"))
                                .and_then(Value::as_str)
                                .unwrap_or_default(),
                            item.get("s3_key")
                                .or_else(|| item.get("kind"))
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        FoiCmd::DueList { within, calendar } => {
            let foi = service(config, calendar.calendar()?).await?;
            let today = foi.today();
            let cases = foi.pending().await?;
            let mut shown = 0;
            for case in &cases {
                let r = &case.request;
                let due = r.deadline();
                // A request whose due date could not be worked out is always listed.
                if let Some(code) = r.clock_error.as_deref().filter(|_| due.is_none()) {
                    shown += 1;
                    out!(
                        "{:<12} {:<23} due ?           CLOCK NOT STARTED ({code}; received {})",
                        r.reference,
                        r.status.as_str(),
                        r.received
                    );
                    continue;
                }
                let overdue = due.is_some_and(|d| today > d);
                let soon = due.is_some_and(|d| {
                    d >= today
                        && foi
                            .calendar
                            .working_days_between(today, d)
                            .is_ok_and(|n| within.is_none_or(|w| n <= w))
                });
                if within.is_some() && !(overdue || soon) {
                    continue;
                }
                if within.is_none() || overdue || soon {
                    shown += 1;
                    out!(
                        "{:<12} {:<23} due {}  {}",
                        r.reference,
                        r.status.as_str(),
                        due.map(|d| d.to_string())
                            .unwrap_or_else(|| "paused    ".into()),
                        if overdue {
                            "OVERDUE".to_string()
                        } else {
                            due.and_then(|d| foi.calendar.working_days_between(today, d).ok())
                                .map(|n| format!("{n} working day(s) left"))
                                .unwrap_or_default()
                        }
                    );
                }
            }
            if shown == 0 {
                out!(
                    "Nothing due{}.",
                    within
                        .map(|w| format!(" within {w} working days"))
                        .unwrap_or_default()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        FoiCmd::Move(m) => move_request(config, m).await,
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
            let foi = service(config, Calendar::embedded().clone()).await?;
            let case = foi
                .get(reference)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no FOI request {reference}"))?;
            let today = foi.today();
            let mut data = json!({
                "salutation": case.requester.clone().unwrap_or_else(|| "Requester".into()),
                "our_ref": reference,
                "letter_date": today.to_string(),
                "signatory_name": signatory,
                "signatory_role": signatory_role,
                "received_date": case.request.received.to_string(),
                "request_text": case.request_text,
            });
            let template = if kind == "acknowledgement" {
                data["due_date"] = json!(case.request.due.map(|d| d.to_string()));
                "foi-acknowledgement"
            } else {
                let outcome = case.request.outcome.ok_or_else(|| {
                    anyhow::anyhow!(
                        "{reference} has no response recorded yet (postroom foi move respond ...)"
                    )
                })?;
                if outcome == Outcome::Withdrawn {
                    anyhow::bail!("{reference} was withdrawn: there is no response letter to send");
                }
                data["outcome"] = json!(outcome.as_str());
                if let Some(d) = case.request.responded {
                    data["letter_date"] = json!(d.to_string());
                }
                data["information"] = json!(information);
                data["advice"] = json!(advice);
                if !case.request.exemptions.is_empty() {
                    data["exemptions"] = serde_json::to_value(&case.request.exemptions)?;
                }
                if !stats_by.is_empty() {
                    let (published, caption) = stats_table(
                        &foi,
                        stats_by,
                        from.unwrap_or(today.format("%Y").to_string().parse::<i32>()? - 4),
                        to.unwrap_or(today.format("%Y").to_string().parse()?),
                        5,
                    )
                    .await?;
                    data["statistics"] = published.to_letter_table();
                    data["statistics_caption"] = json!(caption);
                }
                "foi-response"
            };
            strip_nulls(&mut data);
            let letter = Registry::embedded().render(template, &data, *format)?;
            std::fs::write(out, &letter.bytes)
                .with_context(|| format!("writing {}", out.display()))?;
            out!(
                "wrote {} ({template} for {reference}, {} bytes)",
                out.display(),
                letter.bytes.len()
            );
            if *format == Format::Pdf {
                let outbox = postroom::letter_service::Letters {
                    stores: foi.stores.clone(),
                    registry: Registry::embedded(),
                    clock: foi.clock.clone(),
                    actor: foi.actor.clone(),
                };
                let request = postroom::letter_service::LetterRequest {
                    request_id: format!("{template}:{reference}:{}", letter.data_hash),
                    template: template.into(),
                    case_ref: reference.clone(),
                    data,
                };
                let outcome = outbox.send(&request).await?;
                if template == "foi-response" {
                    foi.record_response(reference, &request.data).await?;
                }
                out!(
                    "recorded under {reference} as {} ({:?})",
                    outcome.letter_id,
                    outcome.status
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
            let foi = service(config, Calendar::embedded().clone()).await?;
            let (published, caption) = stats_table(&foi, by, *from, *to, *threshold).await?;
            if *csv {
                print!("{}", published.to_csv());
            } else {
                out!("{caption}\n");
                print!("{}", published.to_text());
                out!(
                    "\n\"<{t}\": between 1 and {}; \"*\": hidden so that small numbers cannot be worked out from the totals.",
                    published.threshold - 1,
                    t = published.threshold
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        FoiCmd::Report { year, calendar } => {
            let foi = service(config, calendar.calendar()?).await?;
            let cases: Vec<FoiCase> = foi
                .all()
                .await?
                .into_iter()
                .filter(|c| c.request.received.format("%Y").to_string() == year.to_string())
                .collect();
            let answered: Vec<&FoiCase> = cases
                .iter()
                .filter(|c| c.request.responded.is_some())
                .collect();
            let in_time = answered
                .iter()
                .filter(|c| c.request.answered_in_time() == Some(true))
                .count();
            out!("FOI requests received in {year}: {}", cases.len());
            out!(
                "Answered: {}; in time: {in_time} ({:.1}%)",
                answered.len(),
                if answered.is_empty() {
                    0.0
                } else {
                    in_time as f64 * 100.0 / answered.len() as f64
                }
            );
            let mut outcomes = std::collections::BTreeMap::new();
            let mut exemptions = std::collections::BTreeMap::new();
            let mut reviews = std::collections::BTreeMap::new();
            for c in &cases {
                if let Some(o) = c.request.outcome {
                    *outcomes.entry(o.as_str()).or_insert(0) += 1;
                }
                for e in &c.request.exemptions {
                    *exemptions
                        .entry(format!("s.{} {}", e.section, e.title))
                        .or_insert(0) += 1;
                }
                if c.request.review_requested.is_some() {
                    *reviews
                        .entry(
                            c.request
                                .review_result
                                .map(|r| r.as_str())
                                .unwrap_or("pending"),
                        )
                        .or_insert(0) += 1;
                }
            }
            out!("Outcomes: {}", join(&outcomes));
            out!("Exemptions used: {}", join(&exemptions));
            out!(
                "Internal reviews: {} ({}); complaints to the Information Commissioner noted: {}",
                reviews.values().sum::<i32>(),
                join(&reviews),
                cases
                    .iter()
                    .filter(|c| c.request.complaint_noted.is_some())
                    .count()
            );
            Ok(ExitCode::SUCCESS)
        }
        FoiCmd::Publish { reference, dry_run } => {
            let foi = service(config, Calendar::embedded().clone()).await?;
            let published = foi
                .publish_reviewed(reference, Registry::embedded(), !dry_run)
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
            let foi = service(config, Calendar::embedded().clone()).await?;
            let mut entries = foi.disclosure_log().await?;
            std::fs::create_dir_all(out_dir)
                .with_context(|| format!("creating {}", out_dir.display()))?;
            for e in &mut entries {
                let pdf = foi.stores.blobs.get(&e.document).await?;
                let name = format!("{}-response.pdf", e.reference.replace(['/', '\\'], "-"));
                std::fs::write(out_dir.join(&name), &pdf.body)?;
                e.document = name;
            }
            let html = postroom::foi::disclosure::html(&entries, "NHS Resolution");
            std::fs::write(out_dir.join("index.html"), html)?;
            std::fs::write(
                out_dir.join("disclosure-log.json"),
                serde_json::to_string_pretty(&entries)? + "\n",
            )?;
            out!(
                "wrote {} ({} entries: index.html, disclosure-log.json and the responses)",
                out_dir.display(),
                entries.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        FoiCmd::Sweep { within, calendar } => {
            let foi = service(config, calendar.calendar()?).await?;
            let reminders = foi.sweep(foi.today(), *within).await?;
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

fn join<K: std::fmt::Display>(m: &std::collections::BTreeMap<K, i32>) -> String {
    if m.is_empty() {
        return "none".into();
    }
    m.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn strip_nulls(v: &mut Value) {
    if let Value::Object(m) = v {
        m.retain(|_, v| !v.is_null());
    }
}

async fn stats_table(
    foi: &Foi,
    by: &[String],
    from: i32,
    to: i32,
    threshold: u64,
) -> anyhow::Result<(postroom::foi::stats::Published, String)> {
    let dims: Vec<Dim> = by
        .iter()
        .map(|b| {
            Dim::parse(b).ok_or_else(|| {
                anyhow::anyhow!("cannot count by {b:?} (specialty, cause, injury, scheme, year)")
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let cases = postroom::cases::list_cases(foi.stores.table.as_ref()).await?;
    let counts = count(&cases, &dims, from, to).map_err(anyhow::Error::msg)?;
    let caption = format!(
        "Clinical negligence claims by {}, {from} to {to}",
        dims.iter()
            .map(|d| d.as_str())
            .collect::<Vec<_>>()
            .join(" and ")
    );
    Ok((suppress(counts, threshold), caption))
}

/// What the redaction removed and kept, field by field, for the reviewer.
fn print_review(review: &[postroom::foi::service::FieldReview]) {
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

fn print_case(case: &FoiCase, today: NaiveDate, cal: &Calendar) {
    let r = &case.request;
    out!("{}  {}", r.reference, case.title);
    out!(
        "  status   {}{}",
        r.status.as_str(),
        if r.overdue(today) {
            "  (OVERDUE)"
        } else if r.due_soon(today, 5, cal) {
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
            "  due      NOT WORKED OUT ({code}): the received date is outside the bank holiday table; work the date out by hand, or move it with a newer table (--holidays)"
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

async fn move_request(config: &Config, m: &MoveCmd) -> anyhow::Result<ExitCode> {
    let (on, cmd) = match m {
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
        } => {
            let outcome = Outcome::parse(outcome).ok_or_else(|| {
                anyhow::anyhow!(
                    "unknown outcome {outcome:?} ({})",
                    Outcome::ALL.map(|o| o.as_str()).join(", ")
                )
            })?;
            let exemptions = exemptions
                .iter()
                .map(|e| {
                    let parts: Vec<&str> = e.splitn(3, '|').collect();
                    match parts.as_slice() {
                        [section, title, reason] => Ok(Exemption {
                            section: section.trim().into(),
                            title: title.trim().into(),
                            reason: reason.trim().into(),
                        }),
                        _ => Err(anyhow::anyhow!(
                            "an exemption is \"SECTION|TITLE|REASON\", not {e:?}"
                        )),
                    }
                })
                .collect::<anyhow::Result<_>>()?;
            (
                on,
                Command::Respond {
                    on: day(on),
                    outcome,
                    exemptions,
                },
            )
        }
        MoveCmd::Review(o) => (o, Command::RequestReview { on: day(o) }),
        MoveCmd::ExtendReview { on, days, reason } => (
            on,
            Command::ExtendReview {
                on: day(on),
                days: *days,
                reason: reason.clone(),
            },
        ),
        MoveCmd::Decide { on, result } => {
            let result = ReviewResult::parse(result).ok_or_else(|| {
                anyhow::anyhow!("unknown result {result:?} (upheld, overturned, partly-overturned)")
            })?;
            (
                on,
                Command::DecideReview {
                    on: day(on),
                    result,
                },
            )
        }
        MoveCmd::Close(o) => (o, Command::Close { on: day(o) }),
        MoveCmd::Complaint(o) => (o, Command::NoteComplaint { on: day(o) }),
    };
    let foi = service(config, on.calendar.calendar()?).await?;
    match foi.apply(&on.reference, &cmd).await {
        Ok(case) => {
            print_case(&case, foi.today(), &foi.calendar);
            Ok(ExitCode::SUCCESS)
        }
        Err(postroom::foi::service::FoiError::Lifecycle(e)) => {
            eprintln!("postroom: {e}");
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}

fn day(o: &On) -> NaiveDate {
    o.on.unwrap_or_else(|| chrono::Utc::now().date_naive())
}
