//! The `postroom` command line: a thin front over the library, on the embedded default
//! backend unless `--backend aws` is given.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use postroom::config::{BackendKind, Config, Overrides};
use postroom::telemetry::{self, LogFormat};

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
    /// File documents into cases: `postroom ingest PATH... [--json]`.
    Ingest(Pending),
    /// Render letters from templates, one or a batch from CSV.
    Letter(Pending),
    /// List the letter templates and the fields each declares.
    Templates(Pending),
    /// Freedom-of-information requests: due dates, lifecycle, statistics, disclosure log.
    Foi(Pending),
    /// Run the post room on bundled sample documents and show what it did.
    Demo(Pending),
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

/// Arguments of a command that this build does not have yet.
#[derive(Debug, clap::Args)]
struct Pending {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    args: Vec<String>,
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
    };
    let config = Config::from_env(&overrides)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    let name = match &cli.command {
        Command::Doctor => return runtime.block_on(doctor(&config)),
        Command::Extract(args) => return extract(args),
        Command::Ingest(_) => "ingest",
        Command::Letter(_) => "letter",
        Command::Templates(_) => "templates",
        Command::Foi(_) => "foi",
        Command::Demo(_) => "demo",
    };
    anyhow::bail!("`postroom {name}` is not part of this release yet; see `postroom --help`")
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
            Ok(bytes) => (
                postroom::extract::extract_isolated(&bytes, &limits),
                postroom::extract::sha256_hex(&bytes),
            ),
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
        let meta = postroom::metadata::analyse(&extracted, &source, &sha, rules);
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

async fn doctor(config: &Config) -> anyhow::Result<ExitCode> {
    let checks = postroom::doctor::run(config).await;
    let mut failed = 0;
    for check in &checks {
        let mark = if check.ok { "ok  " } else { "FAIL" };
        println!("{mark} {:<17} {}", check.name, check.detail);
        failed += usize::from(!check.ok);
    }
    if failed == 0 {
        println!("All {} checks passed.", checks.len());
        Ok(ExitCode::SUCCESS)
    } else {
        println!("{failed} of {} checks failed.", checks.len());
        Ok(ExitCode::FAILURE)
    }
}
