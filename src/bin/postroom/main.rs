//! The `postroom` command line: parses the arguments, reads the configuration, builds the
//! application (`postroom::app::App`) once, runs one command and ends with the exit
//! status of the failure table. Each command lives in `cmd/`, its arguments in `args.rs`.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser as _;
use postroom::app::{App, Front};
use postroom::config::{BackendKind, Config};
use postroom::failure::{Code, EXIT_USAGE, ErrorCode as _};
use postroom::telemetry::{self, LogFormat};

#[macro_use]
mod output;
mod args;
mod cmd;

use args::{Cli, Command, FoiCmd};

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
            ExitCode::from(code_of(&err).map_or(EXIT_USAGE, Code::exit_code))
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = Config::from_env(&cli.overrides())?;
    match &cli.command {
        // Commands that need no store.
        Command::Extract(args) => cmd::extract::run(args),
        Command::Letter(c) => cmd::letter::letter(c),
        Command::Templates(c) => cmd::letter::templates(c),
        Command::Foi(c @ FoiCmd::Due { .. }) => cmd::foi::due(&config.calendar, c),
        // Checks the store itself, so it must not need one that opens.
        Command::Doctor => runtime()?.block_on(cmd::doctor::run(&config)),
        // The demo always runs on the embedded default.
        Command::Demo => with_app(
            Config {
                backend: BackendKind::Local,
                ..config
            },
            async |app| cmd::demo::run(app).await,
        ),
        Command::Console(args) => cmd::console::run(config, args),
        Command::Ingest(args) => with_app(config, async |app| cmd::ingest::run(app, args).await),
        Command::Cases(c) => with_app(config, async |app| cmd::cases::run(app, c).await),
        Command::Documents(c) => with_app(config, async |app| cmd::documents::run(app, c).await),
        Command::Inbox(args) => with_app(config, async |app| cmd::inbox::run(app, args).await),
        Command::File(args) => with_app(config, async |app| cmd::file::run(app, args).await),
        Command::Search(args) => with_app(config, async |app| cmd::search::run(app, args).await),
        Command::Foi(c) => with_app(config, async |app| cmd::foi::run(app, c).await),
        Command::Claims(c) => with_app(config, async |app| cmd::claims::run(app, c).await),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")
}

/// Builds the application once and runs a command with it; then waits for the
/// acknowledgement letters still being made in this process.
fn with_app(
    config: Config,
    command: impl AsyncFnOnce(&App) -> anyhow::Result<ExitCode>,
) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let front = Front::cli(&config);
        let app = App::open(config, front).await?;
        let result = command(&app).await;
        // Ingest and the demo wait for theirs and report them; this is for any other.
        cmd::ingest::report_unmade_letters(&app).await;
        save_search(&app).await;
        result
    })
}

/// Commits the search index's grouped writes before the process ends (dropping it would
/// too, but could not say it failed). Lost writes are repaired by a rerun of the same
/// command or `postroom search --reindex`, as after a crash.
pub(crate) async fn save_search(app: &App) {
    if let Err(e) = app.search.flush().await {
        eprintln!(
            "postroom: the search index's last changes were not saved ({}: {e}); `postroom search --reindex` rebuilds it",
            e.code()
        );
    }
}

/// The failure code of the first library error in the chain: its exit status is the
/// failure table's. Anything else (a file not read, a bad flag) is a usage error.
fn code_of(err: &anyhow::Error) -> Option<Code> {
    macro_rules! first_code {
        ($cause:expr, $($t:ty),* $(,)?) => {{
            $(if let Some(e) = $cause.downcast_ref::<$t>() {
                return Some(e.code());
            })*
        }};
    }
    for cause in err.chain() {
        first_code!(
            cause,
            postroom::config::ConfigError,
            postroom::app::AppError,
            postroom::cases::CaseError,
            postroom::cases::import::ImportError,
            postroom::claims::ClockError,
            postroom::claims::ClaimsError,
            postroom::claims::UnknownDeadline,
            postroom::jobs::JobError,
            postroom::store::SearchError,
            postroom::ingest::IngestError,
            postroom::letter_service::SendError,
            postroom::acknowledge::AckError,
            postroom::foi::service::FoiError,
            postroom::foi::lifecycle::LifecycleError,
            postroom::foi::deadline::DeadlineError,
            postroom::foi::notices::NoticeError,
            postroom::foi::report::ReportError,
            postroom::letters::LetterError,
            postroom::metadata::RulesError,
            postroom::calendar::CalendarError,
            postroom::store::StoreError,
        );
    }
    None
}
