//! The `postroom` command line: a thin front over the library, on the embedded default
//! backend unless `--backend aws` is given.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use postroom::config::{BackendKind, Config, Overrides};
use postroom::failure::ErrorCode as _;
use postroom::model::keys;
use postroom::telemetry::{self, LogFormat};

/// `println!` for the CLI's output: a closed pipe (`postroom cases list | head`) ends
/// the program quietly, as the reader wanted, instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            eprintln!("postroom: cannot write the output: {e}");
            std::process::exit(1);
        }
    }};
}

mod foi;
mod letters;

/// The post room: reads, classifies and files incoming documents, and writes letters.
#[derive(Debug, Parser)]
#[command(name = "postroom", version, about, long_about = None)]
struct Cli {
    /// Where state lives: `local` (a folder and an SQLite file) or `aws` (S3 and DynamoDB).
    #[arg(long, global = true, env = "POSTROOM_BACKEND", value_parser = parse_backend)]
    backend: Option<BackendKind>,

    /// The local data folder.
    #[arg(
        long,
        global = true,
        env = "POSTROOM_HOME",
        default_value = ".postroom"
    )]
    home: PathBuf,

    /// More log output (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
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
    /// The unfiled documents, waiting for triage.
    Inbox,
    /// File an unfiled document under a case by hand (audited).
    File(FileArgs),
    /// Render letters from templates, one or a batch from CSV.
    #[command(subcommand)]
    Letter(letters::LetterCmd),
    /// List the letter templates and the fields each declares.
    #[command(subcommand)]
    Templates(letters::TemplatesCmd),
    /// Freedom-of-information requests: due dates, lifecycle, letters, statistics, reports.
    #[command(subcommand)]
    Foi(foi::FoiCmd),
    /// Run the post room on bundled sample documents and show what it did.
    Demo,
    /// Say which backend would be used and check that it can be reached.
    Doctor,
}

#[derive(Debug, clap::Args)]
struct ExtractArgs {
    /// The files to read.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Print the extracted text (pages separated by form feeds).
    #[arg(long, conflicts_with = "json")]
    text: bool,
    /// Print one JSON object a line, as ../shared/schema/document-metadata.schema.json.
    #[arg(long)]
    json: bool,
    /// Reading rules to use instead of the shipped ones (see rules/default.toml).
    #[arg(long, env = "POSTROOM_RULES")]
    rules: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct IngestArgs {
    /// Files or folders (folders are walked).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// One JSON object a line: {"source", "doc_id", "case_ref", "status"}.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum CasesCmd {
    /// Every case.
    List,
    /// One case, its documents, letters and events.
    Show { reference: String },
}

#[derive(Debug, Subcommand)]
enum DocumentsCmd {
    /// One document's record and metadata.
    Show { id: String },
}

#[derive(Debug, clap::Args)]
struct FileArgs {
    doc_id: String,
    case_ref: String,
    /// Who files it (for the audit trail); defaults to $USER.
    #[arg(long)]
    by: Option<String>,
}

fn parse_backend(value: &str) -> Result<BackendKind, String> {
    value.parse()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // lopdf reports every repair it makes to a damaged file; those are not the user's
    // concern (postroom reports `malformed` instead).
    let filter = match cli.verbose {
        0 => "warn,lopdf=off",
        1 => "info,lopdf=off",
        _ => "debug",
    };
    telemetry::init(LogFormat::Human, filter);
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("postroom: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let overrides = Overrides {
        backend: cli.backend,
        home: Some(cli.home.clone()),
        ..Overrides::default()
    };
    let config = Config::from_env(&overrides)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    match &cli.command {
        Command::Doctor => runtime.block_on(doctor(&config)),
        Command::Extract(args) => extract(args),
        Command::Ingest(args) => runtime.block_on(ingest_paths(&config, &args.paths, args.json)),
        Command::Cases(cmd) => runtime.block_on(cases(&config, cmd)),
        Command::Documents(DocumentsCmd::Show { id }) => {
            runtime.block_on(show_document(&config, id))
        }
        Command::Inbox => runtime.block_on(show_inbox(&config)),
        Command::File(args) => runtime.block_on(file(&config, args)),
        Command::Demo => runtime.block_on(demo(&config)),
        Command::Letter(cmd) => letters::letter(cmd),
        Command::Templates(cmd) => letters::templates(cmd),
        Command::Foi(cmd) => runtime.block_on(foi::run(&config, cmd)),
    }
}

fn extract(args: &ExtractArgs) -> anyhow::Result<ExitCode> {
    use std::io::Write as _;
    let rules_owned;
    let rules = match &args.rules {
        Some(path) => {
            rules_owned = postroom::metadata::Rules::load(path)?;
            &rules_owned
        }
        None => postroom::metadata::Rules::builtin(),
    };
    let limits = postroom::extract::Limits::default();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failed = false;
    for file in &args.files {
        let source = file.display().to_string();
        let (extracted, sha) = match std::fs::read(file) {
            Ok(bytes) => {
                let sha = postroom::extract::sha256_hex(&bytes);
                (postroom::extract::extract_isolated(bytes, &limits), sha)
            }
            Err(e) => {
                eprintln!("postroom: cannot read {source}: {e}");
                (
                    postroom::extract::Extracted::unreadable_file(),
                    postroom::extract::sha256_hex(b""),
                )
            }
        };
        failed |= extracted.unreadable();
        if args.text {
            out.write_all(extracted.text.as_bytes())?;
            if !extracted.text.ends_with('\n') {
                out.write_all(b"\n")?;
            }
            continue;
        }
        let meta = postroom::reading::analyse_guarded(&extracted, &source, &sha, rules);
        failed |= meta
            .warnings
            .contains(&postroom::extract::Warning::InternalError);
        if args.json {
            serde_json::to_writer(&mut out, &meta)?;
            out.write_all(b"\n")?;
        } else {
            writeln!(out, "{}", postroom::metadata::summary(&meta))?;
        }
    }
    out.flush()?;
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The ingest use case as the CLI runs it: as on AWS, each letter of claim and FOI
/// request filed gets its acknowledgement letter, rendered here (the in-process outbox)
/// rather than queued for the letters function, in the background while the next
/// documents are filed. Call `finish` on the returned sink before exiting.
fn ingest_use_case(
    stores: postroom::store::Stores,
) -> (
    postroom::ingest::Ingest,
    std::sync::Arc<postroom::letter_service::Background>,
) {
    let actor = std::env::var("USER").unwrap_or_else(|_| "postroom-cli".into());
    let clock = std::sync::Arc::new(postroom::clock::SystemClock);
    let outbox = postroom::letter_service::Letters {
        stores: stores.clone(),
        registry: postroom::letters::Registry::embedded(),
        clock: clock.clone(),
        actor: actor.clone(),
    };
    let letters = std::sync::Arc::new(postroom::letter_service::Background::new(
        std::sync::Arc::new(outbox),
        LETTERS_IN_FLIGHT,
    ));
    let ingest = postroom::ingest::Ingest::new(
        stores,
        postroom::metadata::Rules::builtin(),
        clock,
        postroom::ingest::IngestSettings {
            actor,
            ..Default::default()
        },
    )
    .with_letters(letters.clone());
    (ingest, letters)
}

/// A temporary file of the local store this old belongs to no live write.
const STALE_TEMP_FILES: std::time::Duration = std::time::Duration::from_secs(3600);

/// Why a file given to `postroom ingest` was not read.
#[derive(Debug)]
enum ReadError {
    Io(std::io::Error),
    TooLarge(u64),
}

/// Acknowledgement letters rendered at once behind the filing loop.
const LETTERS_IN_FLIGHT: usize = 4;

/// The megabytes of files `postroom ingest` holds while reading ahead.
const READ_AHEAD_MB: u64 = 64;

/// Every file under the paths, with the name it is staged under (its path below the
/// folder given, or its file name); `Ingest::stage_file` adds the bytes' own folder.
fn collect_files(paths: &[PathBuf]) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
                let entry =
                    entry.with_context(|| format!("cannot read the folder {}", path.display()))?;
                if entry.file_type().is_file() {
                    let rel = entry.path().strip_prefix(path).unwrap_or(entry.path());
                    files.push((
                        entry.path().to_path_buf(),
                        rel.to_string_lossy().into_owned(),
                    ));
                }
            }
        } else {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "upload".into());
            files.push((path.clone(), name));
        }
    }
    Ok(files)
}

async fn ingest_paths(config: &Config, paths: &[PathBuf], json: bool) -> anyhow::Result<ExitCode> {
    use postroom::model::IngestStatus;
    use std::io::IsTerminal as _;
    let stores = postroom::app::open_stores(config).await?;
    if config.backend == postroom::config::BackendKind::Local {
        // What a run killed in the middle of a write left on the disk (never an object).
        let blobs = postroom::store::DirBlobs::open(config.blobs_dir())?;
        let removed = blobs.remove_stale_temp_files(STALE_TEMP_FILES);
        if removed > 0 {
            tracing::info!(removed, "stale temporary files removed");
        }
    }
    let (use_case, letters) = ingest_use_case(stores);
    let files = collect_files(paths)?;
    let bar = (files.len() > 3 && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(files.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let bucket = match (&config.backend, &config.aws) {
        (postroom::config::BackendKind::Aws, Some(names)) => names.bucket.clone(),
        _ => "local".to_owned(),
    };
    let mut bad = 0;
    // Files are read, staged and extracted several ahead while each is filed in turn, so
    // filing is in the order given (a letter that opens a case is filed before the
    // documents that follow it) and one document's disk writes overlap the extraction
    // of the next. The files read ahead hold at most READ_AHEAD_MB between them (a
    // larger one waits to be read alone).
    let ahead = postroom::ingest::read_ahead();
    let max_bytes = postroom::ingest::IngestSettings::default().max_object_bytes;
    let budget = std::sync::Arc::new(tokio::sync::Semaphore::new(READ_AHEAD_MB as usize));
    let work = files
        .iter()
        .cloned()
        .map(|(path, name)| {
            let use_case = use_case.clone();
            let bucket = bucket.clone();
            let budget = budget.clone();
            async move {
                let size = tokio::fs::metadata(&path).await.map(|m| m.len());
                // A file over the limit is not read at all (the user still has it).
                if let Ok(size) = size
                    && size > max_bytes
                {
                    return (path, Err(ReadError::TooLarge(size)));
                }
                let mb = size
                    .map_or(1, |s| s.div_ceil(1024 * 1024))
                    .clamp(1, READ_AHEAD_MB) as u32;
                let _held = budget.acquire_many_owned(mb).await;
                let result = match tokio::fs::read(&path).await {
                    Ok(bytes) => Ok(
                        match use_case.stage_file(&name, bytes.into(), &bucket).await {
                            Ok(obj) => use_case.prepare(&obj).await,
                            Err(e) => Err(e),
                        },
                    ),
                    Err(e) => Err(ReadError::Io(e)),
                };
                (path, result)
            }
        })
        .collect();
    let (mut rx, reader) = postroom::ingest::in_order_ahead(work, ahead);
    while let Some((path, read)) = rx.recv().await {
        let outcome = match read {
            Ok(Ok(prepared)) => use_case.commit(prepared).await,
            Ok(Err(e)) => Err(e),
            Err(ReadError::Io(e)) => {
                eprintln!("postroom: cannot read {}: {e}", path.display());
                bad += 1;
                continue;
            }
            Err(ReadError::TooLarge(size)) => {
                eprintln!(
                    "postroom: {} is {} MB, over the {} MB a document may be: not read",
                    path.display(),
                    size.div_ceil(1024 * 1024),
                    max_bytes / (1024 * 1024)
                );
                Ok(postroom::ingest::Outcome {
                    source: path.display().to_string(),
                    doc_id: None,
                    case_ref: None,
                    status: IngestStatus::Failed,
                    reason: Some("too_large".into()),
                })
            }
        };
        let outcome = outcome.unwrap_or_else(|e| {
            eprintln!("postroom: {}: {e}", path.display());
            postroom::ingest::Outcome {
                source: path.display().to_string(),
                doc_id: None,
                case_ref: None,
                status: IngestStatus::Failed,
                reason: Some(if e.is_retryable() {
                    "retryable".into()
                } else {
                    "permanent".into()
                }),
            }
        });
        let outcome = postroom::ingest::Outcome {
            source: path.display().to_string(),
            ..outcome
        };
        bad += usize::from(matches!(
            outcome.status,
            IngestStatus::Failed | IngestStatus::Quarantined
        ));
        let line = if json {
            serde_json::to_string(
                &serde_json::json!({"source": outcome.source, "doc_id": outcome.doc_id, "case_ref": outcome.case_ref, "status": outcome.status}),
            )?
        } else {
            format!(
                "{:<12} {}{}{}",
                outcome.status.as_str(),
                outcome.source,
                outcome
                    .case_ref
                    .as_deref()
                    .map(|c| format!(" -> {c}"))
                    .unwrap_or_default(),
                outcome
                    .reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            )
        };
        match &bar {
            Some(bar) => {
                bar.println(line);
                bar.inc(1);
            }
            None => out!("{line}"),
        }
    }
    reader
        .await
        .map_err(|e| anyhow::anyhow!("reading the files stopped: {e}"))?;
    bad += letters_failed(&letters).await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(if bad > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Waits for the acknowledgement letters still being made; says which failed (running
/// the same ingest again makes them) and how many.
async fn letters_failed(letters: &postroom::letter_service::Background) -> usize {
    let failed = letters.finish().await;
    for (request_id, e) in &failed {
        eprintln!(
            "postroom: the letter {request_id} was not made ({}): {e}; ingest the same files again to make it",
            e.code()
        );
    }
    failed.len()
}

fn field<'a>(item: &'a serde_json::Map<String, serde_json::Value>, name: &str) -> &'a str {
    item.get(name)
        .and_then(serde_json::Value::as_str)
        .unwrap_or("-")
}

async fn cases(config: &Config, cmd: &CasesCmd) -> anyhow::Result<ExitCode> {
    let stores = postroom::app::open_stores(config).await?;
    match cmd {
        CasesCmd::List => {
            let cases = postroom::cases::list_cases(stores.table.as_ref()).await?;
            if cases.is_empty() {
                out!("No cases yet.");
            }
            for case in cases {
                out!(
                    "{:<18} {:<7} {:<7} opened {}",
                    field(&case, "case_ref"),
                    field(&case, "kind"),
                    field(&case, "status"),
                    &field(&case, "opened")[..field(&case, "opened").len().min(10)]
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        CasesCmd::Show { reference } => {
            match postroom::cases::show_case(stores.table.as_ref(), reference).await? {
                Some((case, under)) => {
                    out!(
                        "{} ({} case, {})",
                        field(&case, "case_ref"),
                        field(&case, "kind"),
                        field(&case, "status")
                    );
                    for item in under {
                        let sk = field(&item, "SK");
                        if sk.starts_with(keys::DOC_PREFIX) {
                            out!(
                                "  document {}  {}  {}",
                                field(&item, "document_date"),
                                field(&item, "doc_type"),
                                field(&item, "doc_id")
                            );
                        } else if sk.starts_with(keys::EVENT_PREFIX) {
                            out!(
                                "  event    {}  {} by {}",
                                field(&item, "at"),
                                field(&item, "what"),
                                field(&item, "who")
                            );
                        } else if sk.starts_with(keys::LETTER_PREFIX) {
                            out!(
                                "  letter   {}  {}  {}  {}",
                                field(&item, "created_at"),
                                field(&item, "template"),
                                field(&item, "status"),
                                field(&item, "s3_key")
                            );
                        } else {
                            out!("  {sk}");
                        }
                    }
                    Ok(ExitCode::SUCCESS)
                }
                None => {
                    eprintln!("postroom: no case {reference}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}

async fn show_document(config: &Config, id: &str) -> anyhow::Result<ExitCode> {
    let stores = postroom::app::open_stores(config).await?;
    match postroom::cases::show_document(stores.table.as_ref(), id).await? {
        Some(doc) => {
            out!("{}", serde_json::to_string_pretty(&doc)?);
            Ok(ExitCode::SUCCESS)
        }
        None => {
            eprintln!("postroom: no document {id}");
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn show_inbox(config: &Config) -> anyhow::Result<ExitCode> {
    let stores = postroom::app::open_stores(config).await?;
    let unfiled = postroom::cases::inbox(stores.table.as_ref()).await?;
    if unfiled.is_empty() {
        out!("The inbox is empty.");
    }
    for item in unfiled {
        out!(
            "{}  {:<26} {:<28} {}",
            &field(&item, "SK")[..field(&item, "SK").len().min(19)],
            field(&item, "doc_id"),
            field(&item, "doc_type"),
            field(&item, "reason")
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn file(config: &Config, args: &FileArgs) -> anyhow::Result<ExitCode> {
    let stores = postroom::app::open_stores(config).await?;
    let who = args
        .by
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "unknown".into());
    postroom::cases::file_document(
        stores.table.as_ref(),
        &args.doc_id,
        &args.case_ref,
        &who,
        &postroom::clock::SystemClock,
    )
    .await?;
    out!("Filed {} under {}.", args.doc_id, args.case_ref);
    Ok(ExitCode::SUCCESS)
}

async fn demo(config: &Config) -> anyhow::Result<ExitCode> {
    use postroom::model::IngestStatus;
    let local = Config {
        backend: postroom::config::BackendKind::Local,
        ..config.clone()
    };
    let stores = postroom::app::open_stores(&local).await?;
    let (use_case, letters) = ingest_use_case(stores.clone());
    out!(
        "postroom demo: the post arrives ({} documents, fictional people only)\n",
        postroom::demo::SAMPLES.len()
    );
    let mut counts = std::collections::BTreeMap::new();
    for (name, bytes) in postroom::demo::SAMPLES {
        let key = format!("inbox/demo/{name}");
        let obj = use_case
            .stage(&key, bytes::Bytes::from_static(bytes), "local")
            .await?;
        let outcome = use_case.ingest(&obj).await?;
        *counts.entry(outcome.status.as_str()).or_insert(0) += 1;
        let what = match outcome.status {
            IngestStatus::Filed => {
                format!("filed under {}", outcome.case_ref.as_deref().unwrap_or("?"))
            }
            IngestStatus::Unfiled => format!(
                "unfiled, in the inbox for triage ({})",
                outcome.reason.as_deref().unwrap_or("")
            ),
            IngestStatus::Duplicate => "a duplicate of a document already filed".into(),
            IngestStatus::Quarantined => {
                format!("quarantined ({})", outcome.reason.as_deref().unwrap_or(""))
            }
            IngestStatus::Unchanged => "already ingested: nothing to do".into(),
            IngestStatus::Failed => "failed".into(),
        };
        out!("  {name:<34} {what}");
    }
    letters_failed(&letters).await;
    out!();
    for case in postroom::cases::list_cases(stores.table.as_ref()).await? {
        let reference = field(&case, "case_ref").to_owned();
        let docs = postroom::cases::show_case(stores.table.as_ref(), &reference)
            .await?
            .map_or(0, |(_, under)| {
                under
                    .iter()
                    .filter(|i| field(i, "SK").starts_with(keys::DOC_PREFIX))
                    .count()
            });
        out!(
            "  case {reference:<16} {:<6} {docs} document(s)",
            field(&case, "kind")
        );
    }
    out!(
        "\n  {}",
        counts
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // An acknowledgement for each letter of claim filed.
    // The acknowledgements, written as each letter of claim and FOI request was filed.
    out!("\n  acknowledgements (sent as each letter of claim and FOI request was filed):");
    let dir_blobs = postroom::store::DirBlobs::open(local.blobs_dir())?;
    for case in postroom::cases::list_cases(stores.table.as_ref()).await? {
        let reference = field(&case, "case_ref").to_owned();
        let Some((_, under)) =
            postroom::cases::show_case(stores.table.as_ref(), &reference).await?
        else {
            continue;
        };
        for letter in under
            .iter()
            .filter(|i| field(i, "SK").starts_with(keys::LETTER_PREFIX))
        {
            match field(letter, "status") {
                "invalid" => out!(
                    "  {reference:<16} {}: not sent, the data did not fit the template",
                    field(letter, "template")
                ),
                "rendering" => out!(
                    "  {reference:<16} {}: not finished (the next delivery finishes it)",
                    field(letter, "template")
                ),
                _ => out!(
                    "  {reference:<16} {}: {}",
                    field(letter, "template"),
                    dir_blobs.path_of(field(letter, "s3_key")).display()
                ),
            }
        }
    }
    out!("\n  freedom of information:");
    let lines = postroom::demo::foi(&stores, std::sync::Arc::new(postroom::clock::SystemClock))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for line in lines {
        out!("  {line}");
    }
    out!(
        "\nThe data lives in {} (documents in blobs/, records in postroom.sqlite3).",
        local.home.display()
    );
    out!(
        "Look around: postroom cases list | postroom inbox | postroom cases show REF | postroom foi due-list | postroom foi log"
    );
    Ok(ExitCode::SUCCESS)
}

async fn doctor(config: &Config) -> anyhow::Result<ExitCode> {
    let checks = postroom::doctor::run(config).await;
    let mut failed = 0;
    for check in &checks {
        let mark = if check.ok { "ok  " } else { "FAIL" };
        out!("{mark} {:<17} {}", check.name, check.detail);
        failed += usize::from(!check.ok);
    }
    if failed == 0 {
        out!("All {} checks passed.", checks.len());
        Ok(ExitCode::SUCCESS)
    } else {
        out!("{failed} of {} checks failed.", checks.len());
        Ok(ExitCode::FAILURE)
    }
}
