//! The command line's arguments (clap types only): the global options and every command
//! and subcommand with its flags.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use postroom::config::{BackendKind, Overrides};
use postroom::letters::Format;

/// The post room: reads, classifies and files incoming documents, and writes letters.
#[derive(Debug, Parser)]
#[command(name = "postroom", version, about, long_about = None)]
pub struct Cli {
    /// Where state lives: `local` (a folder and an SQLite file) or `aws` (S3 and DynamoDB).
    #[arg(long, global = true, env = "POSTROOM_BACKEND", value_parser = parse_backend)]
    pub backend: Option<BackendKind>,

    /// The local data folder.
    #[arg(
        long,
        global = true,
        env = "POSTROOM_HOME",
        default_value = ".postroom"
    )]
    pub home: PathBuf,

    /// The nations whose bank holidays are not working days for FOI deadlines
    /// (comma-separated: england-and-wales, scotland, northern-ireland); all three by
    /// default, or as POSTROOM_FOI_NATIONS says.
    #[arg(long, global = true, value_delimiter = ',')]
    pub nations: Vec<String>,

    /// A newer bank holiday table (CSV: date,title,divisions) instead of the shipped one
    /// (or POSTROOM_HOLIDAYS).
    #[arg(long, global = true)]
    pub holidays: Option<PathBuf>,

    /// More log output (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// What the command line says about the configuration (it wins over the environment).
    pub fn overrides(&self) -> Overrides {
        Overrides {
            backend: self.backend,
            home: Some(self.home.clone()),
            nations: (!self.nations.is_empty()).then(|| self.nations.clone()),
            holidays: self.holidays.clone(),
        }
    }
}

fn parse_backend(value: &str) -> Result<BackendKind, String> {
    value.parse()
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read documents and print their text or metadata (PDF, Word, email, text, HTML).
    Extract(ExtractArgs),
    /// File documents into cases (files or folders), on the configured backend.
    Ingest(IngestArgs),
    /// List cases, or show one with its documents and events.
    #[command(subcommand)]
    Cases(CasesCmd),
    /// Show a document's record.
    #[command(subcommand)]
    Documents(DocumentsCmd),
    /// The unfiled documents, waiting for triage, with the cases they may belong to.
    Inbox(InboxArgs),
    /// File an unfiled document under a case by hand (audited).
    File(FileArgs),
    /// Find documents by their words, phrases and references; or rebuild the index.
    Search(SearchArgs),
    /// Render letters from templates, one or a batch from CSV.
    #[command(subcommand)]
    Letter(LetterCmd),
    /// List the letter templates and the fields each declares.
    #[command(subcommand)]
    Templates(TemplatesCmd),
    /// Freedom-of-information requests: due dates, lifecycle, letters, statistics, reports.
    #[command(subcommand)]
    Foi(FoiCmd),
    /// Claims' deadlines: due across claims, one claim's, events and extensions by hand.
    #[command(subcommand)]
    Claims(ClaimsCmd),
    /// Run the post room on bundled sample documents and show what it did.
    Demo,
    /// Serve the staff console to a browser on this computer; prints a sign-in link.
    Console(ConsoleArgs),
    /// Say which backend would be used and check that it can be reached.
    Doctor,
}

#[derive(Debug, clap::Args)]
pub struct ConsoleArgs {
    /// The loopback address and port to listen on (the console serves this computer only).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Run the demo first (the bundled sample post), so there is something to see.
    #[arg(long)]
    pub demo: bool,
}

#[derive(Debug, clap::Args)]
pub struct ExtractArgs {
    /// The files to read.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print the extracted text (pages separated by form feeds).
    #[arg(long, conflicts_with = "json")]
    pub text: bool,
    /// Print one JSON object a line, as ../shared/schema/document-metadata.schema.json.
    #[arg(long)]
    pub json: bool,
    /// Reading rules to use instead of the shipped ones (see rules/default.toml).
    #[arg(long, env = "POSTROOM_RULES")]
    pub rules: Option<PathBuf>,
    /// Do not read scanned pages and photos by OCR (their text stays empty).
    #[arg(long)]
    pub no_ocr: bool,
}

#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    /// Files or folders (folders are walked).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// One JSON object a line: {"source", "doc_id", "case_ref", "status"}.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum CasesCmd {
    /// Every case.
    List,
    /// One case, its documents, letters and events.
    Show { reference: String },
    /// Bring in existing cases from a CSV file (header: reference,kind,claimant,opened
    /// and optionally defendants, court_ref, date_of_birth, nhs_number, status, scheme,
    /// specialty). Bad rows are reported and the good ones land; importing again
    /// changes nothing. Exit 0 when every row landed, 1 when some did not, 2 when the
    /// file cannot be read at all.
    Import {
        file: PathBuf,
        /// One JSON object a row: {"row", "reference", "status", "problems"}.
        #[arg(long)]
        json: bool,
    },
    /// Give every case recorded before this version its place in the cases list (read
    /// from an index). Runs by itself on the embedded default; on AWS run it once after
    /// upgrading. Reads the whole table once; running it again does nothing.
    Relist,
}

#[derive(Debug, Subcommand)]
pub enum DocumentsCmd {
    /// One document's record and metadata.
    Show { id: String },
    /// Every document with its current filing (filed, unfiled, duplicate, quarantined).
    List {
        /// One JSON object a document: {"doc_id", "source", "doc_type", "case_ref", "status"}.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct InboxArgs {
    /// One JSON object a document: {"doc_id", "source", "doc_type", "reason", "received",
    /// "suggestions": [{"case_ref", "score", "reasons"}]}, suggestions best first.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// Words (all must match), "quoted phrases", -excluded, prefix*, references as
    /// written (CNST/24/004512, 999 000 0018). Quote the whole query for the shell.
    #[arg(required_unless_present = "reindex", conflicts_with = "reindex", num_args = 1..)]
    pub query: Vec<String>,
    /// Only documents filed under this case.
    #[arg(long = "case", value_name = "REF")]
    pub case_ref: Option<String>,
    /// Only documents of this type (as `postroom documents` shows it).
    #[arg(long = "type", value_name = "T")]
    pub doc_type: Option<String>,
    /// Only documents of this family (claims, foi, appeals, practitioner, general).
    #[arg(long)]
    pub family: Option<String>,
    /// Only documents dated (or, undated, received) on or after this day (YYYY-MM-DD).
    #[arg(long)]
    pub from: Option<NaiveDate>,
    /// Only documents dated (or, undated, received) on or before this day.
    #[arg(long)]
    pub to: Option<NaiveDate>,
    /// The most hits to show, best first.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,
    /// One JSON object a hit: {"doc_id", "case_ref", "doc_type", "score", "snippet"}.
    #[arg(long, conflicts_with = "reindex")]
    pub json: bool,
    /// Rebuild the index from the stored text of every document (unchanged ones are
    /// not written again; entries of documents no longer stored are removed).
    #[arg(long)]
    pub reindex: bool,
}

#[derive(Debug, clap::Args)]
pub struct FileArgs {
    pub doc_id: String,
    pub case_ref: String,
    /// Who files it (for the audit trail); defaults to $USER.
    #[arg(long)]
    pub by: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum TemplatesCmd {
    /// Every template, its version and title.
    List {
        /// Load templates from this folder instead of the built-in ones.
        #[arg(long, env = "POSTROOM_TEMPLATES")]
        templates: Option<PathBuf>,
    },
    /// One template: what it is for and the fields it declares.
    Show {
        name: String,
        #[arg(long, env = "POSTROOM_TEMPLATES")]
        templates: Option<PathBuf>,
        /// Print the declaration as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum LetterCmd {
    /// Render one letter from JSON data.
    Render(RenderArgs),
    /// Render one letter per CSV row (columns are field names).
    Batch(BatchArgs),
}

#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    #[arg(long)]
    pub template: String,
    /// The letter's data as a JSON object (`-` reads standard input).
    #[arg(long)]
    pub data: PathBuf,
    /// Where to write the letter (`-` for standard output).
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value = "pdf", value_parser = parse_format)]
    pub format: Format,
    #[arg(long, env = "POSTROOM_TEMPLATES")]
    pub templates: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct BatchArgs {
    #[arg(long)]
    pub template: String,
    /// One letter per row; the header names the fields. Address lines are separated by
    /// `|` or line breaks, list items by `;`.
    #[arg(long)]
    pub csv: PathBuf,
    #[arg(long)]
    pub out_dir: PathBuf,
    #[arg(long, default_value = "pdf", value_parser = parse_format)]
    pub format: Format,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub jobs: Option<usize>,
    #[arg(long, env = "POSTROOM_TEMPLATES")]
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
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
    },
    /// One request: its state, dates and history.
    Show { reference: String },
    /// Requests awaiting a response (or review), by due date; `--within N` keeps those due
    /// within N working days and those overdue.
    DueList {
        #[arg(long)]
        within: Option<u32>,
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
        #[arg(long, default_value_t = postroom::foi::report::DEFAULT_THRESHOLD)]
        threshold: u64,
        /// Print CSV instead of a table.
        #[arg(long)]
        csv: bool,
    },
    /// The year's figures: received, answered in time, outcomes, exemptions, reviews.
    Report {
        #[arg(long)]
        year: i32,
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
        /// Working days (default: POSTROOM_FOI_REMIND_WITHIN, else 5, as the function).
        #[arg(long)]
        within: Option<u32>,
    },
}

#[derive(Debug, Subcommand)]
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
    pub reference: String,
    /// The day it happened (default today).
    #[arg(long)]
    pub on: Option<NaiveDate>,
}

#[derive(Debug, Subcommand)]
pub enum ClaimsCmd {
    /// Deadlines due or overdue across claims, soonest first.
    Due {
        /// Calendar days ahead to include (overdue ones are always listed).
        #[arg(long, default_value_t = 14)]
        within: u32,
        /// One JSON object a line: {"case_ref", "deadline", "due", "basis", "status"}.
        #[arg(long)]
        json: bool,
    },
    /// One claim's deadlines, with the rule behind each and what met it.
    Show {
        reference: String,
        #[arg(long)]
        json: bool,
    },
    /// Record something that happened on a claim (audited): an acknowledgment of service
    /// filed, a defence, a records request, a Part 36 offer...
    Record {
        reference: String,
        /// What happened: notification_acknowledged, claim_acknowledged, response_sent,
        /// records_requested, records_provided, claim_issued, particulars_served,
        /// acknowledgment_filed, defence_filed, part36_offer, incident, claimant_born.
        #[arg(long)]
        event: String,
        /// The day it happened (YYYY-MM-DD or DD/MM/YYYY; default today).
        #[arg(long, value_parser = parse_day)]
        on: Option<chrono::NaiveDate>,
        /// For records_provided: the day the records were requested.
        #[arg(long, value_parser = parse_day)]
        requested: Option<chrono::NaiveDate>,
    },
    /// Record an extension agreed between the parties, with its reason (audited).
    Extend {
        reference: String,
        /// The deadline: acknowledge_notification, acknowledge_claim, letter_of_response,
        /// health_records, acknowledgment_of_service, defence, part36_relevant_period,
        /// limitation.
        #[arg(long)]
        deadline: String,
        /// The new due date.
        #[arg(long, value_parser = parse_day)]
        to: chrono::NaiveDate,
        /// Why (required): who agreed it and how.
        #[arg(long)]
        reason: String,
        /// The day it was agreed (default today).
        #[arg(long, value_parser = parse_day)]
        agreed_on: Option<chrono::NaiveDate>,
        /// Which period, when the deadline runs more than once (its start date).
        #[arg(long, value_parser = parse_day)]
        from: Option<chrono::NaiveDate>,
    },
    /// What the daily function does: record reminders for deadlines due soon or overdue.
    Sweep {
        /// Calendar days ahead (default 14).
        #[arg(long, default_value_t = 14)]
        within: u32,
    },
}

/// A day as people write it: `2026-12-04` or `04/12/2026`.
fn parse_day(text: &str) -> Result<chrono::NaiveDate, String> {
    postroom::calendar::parse_date(text)
        .ok_or_else(|| format!("{text:?} is not a date (YYYY-MM-DD or DD/MM/YYYY)"))
}
