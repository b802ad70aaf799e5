//! The composition root: `App` is built once from `Config` and holds the stores and every
//! use case (`Ingest`, `Letters`, `Foi`, `Cases`). Every front (the CLI, each Lambda,
//! the demo and the tests) builds one `App` and calls its use cases; no front builds a
//! use case itself. lldap's `backend_handler`, built once and handed to each protocol
//! front, is the model.

use std::sync::{Arc, OnceLock};

use crate::audit::Audit;
use crate::cases::Cases;
use crate::claims::ClaimClocks;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::foi::service::Foi;
use crate::ingest::{Ingest, IngestSettings};
use crate::jobs::{InProcess, JobError, JobQueue, JobStep, Jobs};
use crate::letter_service::{Background, LetterSink, Letters, SendError};
use crate::letters::Registry;
use crate::logins::Logins;
use crate::metadata::Rules;
use crate::sessions::Sessions;
#[cfg(feature = "aws")]
use crate::store::{AwsSettings, DynamoTable, S3Blobs, SqsQueue};
#[cfg(feature = "embedded")]
use crate::store::{DirBlobs, SqliteTable, TantivySearch};
use crate::store::{Search, StoreError, Stores, Unconfigured};
use crate::uploads::Uploads;

/// Opens the configured backend. The local one creates its folder and SQLite file; the
/// AWS one does no I/O until first used.
pub async fn open_stores(config: &Config) -> Result<Stores, StoreError> {
    use crate::config::BackendKind;
    match (config.backend, &config.aws) {
        (BackendKind::Local, _) => local_stores(config),
        #[cfg(feature = "aws")]
        (BackendKind::Aws, Some(names)) => {
            let settings = AwsSettings::load().await;
            Ok(Stores {
                blobs: Arc::new(S3Blobs::new(&settings, &names.bucket)),
                table: Arc::new(DynamoTable::new(&settings, &names.table)),
            })
        }
        #[cfg(not(feature = "aws"))]
        (BackendKind::Aws, Some(_)) => Err(StoreError::Invalid {
            what: "this build has no AWS adapters".into(),
        }),
        (BackendKind::Aws, None) => Err(StoreError::Invalid {
            what: "the AWS backend needs a table and a bucket name".into(),
        }),
    }
}

/// The embedded default under `config.home`.
#[cfg(feature = "embedded")]
pub fn local_stores(config: &Config) -> Result<Stores, StoreError> {
    Ok(Stores {
        blobs: Arc::new(DirBlobs::open(config.blobs_dir())?),
        table: Arc::new(SqliteTable::open(config.sqlite_path())?),
    })
}

/// The embedded default under `config.home`.
#[cfg(not(feature = "embedded"))]
pub fn local_stores(_: &Config) -> Result<Stores, StoreError> {
    Err(StoreError::Invalid {
        what: "this build has no embedded store".into(),
    })
}

/// The search index of the configured backend: tantivy in `search.tantivy/` beside the
/// SQLite file on the embedded default (built from the stored text on its first open,
/// see `build_new_index`); on AWS the search function's index (`LambdaSearch`: writes
/// through the search queue, long ones through the bucket, queries by Invoke) when its
/// queue and function are configured, else none (a query says search is not configured).
#[cfg_attr(not(feature = "aws"), allow(unused_variables))]
pub async fn open_search(config: &Config, stores: &Stores) -> Result<Arc<dyn Search>, StoreError> {
    use crate::config::BackendKind;
    match config.backend {
        #[cfg(feature = "embedded")]
        BackendKind::Local => {
            let dir = config.sqlite_path().with_file_name(SEARCH_DIR);
            let search = Arc::new(TantivySearch::open(&dir)?);
            build_new_index(stores, search.as_ref(), &dir).await?;
            Ok(search)
        }
        #[cfg(feature = "aws")]
        BackendKind::Aws => match (&config.search_queue, &config.search_function) {
            (Some(queue), Some(function)) => Ok(Arc::new(crate::store::LambdaSearch::new(
                &AwsSettings::load().await,
                queue,
                function,
                stores.blobs.clone(),
            ))),
            _ => Ok(Arc::new(Unconfigured)),
        },
        #[allow(unreachable_patterns, reason = "reached in builds without a backend")]
        _ => Ok(Arc::new(Unconfigured)),
    }
}

/// The embedded search index's folder, beside the SQLite file.
#[cfg(feature = "embedded")]
pub const SEARCH_DIR: &str = "search.tantivy";
/// Written into the index's folder once it holds every stored document (tantivy leaves
/// files it does not manage alone).
#[cfg(feature = "embedded")]
const SEARCH_BUILT: &str = "postroom-built";

/// A search index not yet built from this home's documents (a new home, a home from
/// before the index moved to tantivy, a folder deleted to rebuild it, a build a crash
/// cut short) is built from the stored text as `postroom search --reindex` does, said on
/// stderr when there are documents, then marked built. Until then nothing would be
/// found.
#[cfg(feature = "embedded")]
async fn build_new_index(
    stores: &Stores,
    search: &dyn Search,
    dir: &std::path::Path,
) -> Result<(), StoreError> {
    let marker = dir.join(SEARCH_BUILT);
    if marker.is_file() {
        return Ok(());
    }
    let any = !stores.table.scan(0, 1, None).await?.items.is_empty();
    if any {
        tracing::warn!(
            "building the search index in {} from the stored documents (once; \
             `postroom search --reindex` does the same)",
            dir.display()
        );
    }
    // Nothing removed: another process may be indexing beside this first build.
    let done = crate::ingest::build(stores, search, Rules::builtin(), |_| {}).await?;
    search.flush().await?;
    if any {
        tracing::warn!(documents = done.documents, "the search index is built");
    }
    std::fs::write(&marker, b"the search index holds every stored document\n").map_err(|e| {
        StoreError::Backend {
            backend: "search index",
            op: format!("write {}", marker.display()),
            retryable: false,
            source: Box::new(e),
        }
    })
}

/// How the acknowledgements that ingest asks for reach the letters use case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acknowledgements {
    /// Rendered in this process, in the background while filing goes on (the CLI, the
    /// demo: builds with the `embedded` feature; without it, none are requested). Call
    /// [`App::finish`] before exiting.
    InProcess,
    /// Sent to the letters queue when `POSTROOM_LETTERS_QUEUE` is set (the ingest
    /// function); not requested otherwise.
    Queue,
    /// Not requested.
    Off,
}

/// Who a front acts as, and how it delivers acknowledgements.
#[derive(Debug, Clone)]
pub struct Front {
    /// Recorded in the audit trail of every change.
    pub actor: String,
    pub acknowledgements: Acknowledgements,
}

impl Front {
    /// The command line, acting as the person at the keyboard (`USER`, read by
    /// `Config`), or `postroom-cli` when the system does not say.
    pub fn cli(config: &Config) -> Front {
        Front {
            actor: config.user.clone().unwrap_or_else(|| "postroom-cli".into()),
            acknowledgements: Acknowledgements::InProcess,
        }
    }

    /// A Lambda function (`lambda:<name>`).
    pub fn lambda(name: &str) -> Front {
        Front {
            actor: format!("lambda:{name}"),
            acknowledgements: Acknowledgements::Queue,
        }
    }

    /// Any other front, with its own actor name.
    pub fn named(actor: impl Into<String>, acknowledgements: Acknowledgements) -> Front {
        Front {
            actor: actor.into(),
            acknowledgements,
        }
    }
}

/// Acknowledgement letters rendered at once behind the filing loop (in-process delivery).
#[cfg(feature = "embedded")]
const LETTERS_IN_FLIGHT: usize = 4;

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("the store cannot be opened: {0}")]
    Store(#[from] StoreError),
}

impl crate::failure::ErrorCode for AppError {
    fn code(&self) -> crate::failure::Code {
        match self {
            AppError::Config(e) => e.code(),
            AppError::Store(e) => e.code(),
        }
    }
}

/// The stores and every use case, built once. The use cases that load something large
/// the first time (ingest: the rules, compiled; letters: the templates and fonts) are
/// built on first use, so a function starts without loading what it never uses.
#[derive(Debug)]
pub struct App {
    pub config: Config,
    pub stores: Stores,
    /// The full-text search index (`Unconfigured` when the backend has none).
    pub search: Arc<dyn Search>,
    pub clock: Arc<dyn Clock>,
    pub foi: Foi,
    pub cases: Cases,
    /// Claims' deadlines (kept on each claim, listed across claims, swept daily).
    pub claims: ClaimClocks,
    /// The audit trail of people's actions (the console's views and changes).
    pub audit: Audit,
    /// Sign-in sessions (the console's).
    pub sessions: Sessions,
    /// Sign-ins in progress with the organisation's provider (the console's).
    pub logins: Logins,
    /// Post uploaded by people (the console).
    pub uploads: Uploads,
    /// Background jobs (letter batches, statistics, the disclosure log).
    pub jobs: Jobs,
    /// Where jobs' steps go on AWS (the letters queue); in this process otherwise.
    job_queue: Option<Arc<dyn JobQueue>>,
    front: Front,
    /// The letters queue, when acknowledgements go by queue and one is configured.
    queue: Option<Arc<dyn LetterSink>>,
    letters: OnceLock<Letters>,
    ingest: OnceLock<Ingest>,
    /// The OCR queue documents with scanned pages are handed to (`POSTROOM_OCR_QUEUE`, on
    /// AWS); none: they are read where they are ingested.
    scan_queue: Option<Arc<dyn crate::ingest::ScanQueue>>,
    /// The in-process acknowledgement sink, when acknowledgements are rendered here.
    background: OnceLock<Arc<Background>>,
}

impl App {
    /// Opens the configured stores and builds every use case on the system clock.
    pub async fn open(config: Config, front: Front) -> Result<App, AppError> {
        let stores = open_stores(&config).await?;
        if config.backend == crate::config::BackendKind::Local {
            // A home made before cases were listed from the index: list them, once. On
            // AWS `postroom cases relist` does it (the functions may not scan).
            let relisted = crate::cases::listing::relist_once(stores.table.as_ref()).await?;
            if relisted > 0 {
                tracing::info!(relisted, "cases given their place in the cases list");
            }
        }
        let queue = match front.acknowledgements {
            Acknowledgements::Queue => queue_sink(&config).await,
            _ => None,
        };
        let job_queue = job_queue(&config).await;
        let search = open_search(&config, &stores).await?;
        let mut app = Self::assemble(config, stores, Arc::new(SystemClock), front, queue);
        app.job_queue = job_queue;
        app.scan_queue = scan_queue(&app.config).await;
        Ok(app.with_search(search))
    }

    /// The same application feeding and querying `search` (tests, the demo: `with_stores`
    /// starts without one). Call before the first ingest.
    pub fn with_search(mut self, search: Arc<dyn Search>) -> App {
        self.cases = self.cases.clone().with_search(search.clone());
        self.search = search;
        self.ingest = OnceLock::new();
        self
    }

    /// Builds every use case over stores and a clock the caller chose (tests, the demo).
    /// Acknowledgements by queue are off here: there is no queue client.
    pub fn with_stores(config: Config, stores: Stores, clock: Arc<dyn Clock>, front: Front) -> App {
        Self::assemble(config, stores, clock, front, None)
    }

    fn assemble(
        config: Config,
        stores: Stores,
        clock: Arc<dyn Clock>,
        front: Front,
        queue: Option<Arc<dyn LetterSink>>,
    ) -> App {
        let foi = Foi {
            stores: stores.clone(),
            clock: clock.clone(),
            calendar: config.calendar.clone(),
            actor: front.actor.clone(),
        };
        let cases = Cases::new(stores.table.clone(), clock.clone(), front.actor.clone());
        let claims = ClaimClocks::new(stores.table.clone(), clock.clone(), front.actor.clone());
        let audit = Audit::new(stores.table.clone(), clock.clone());
        let sessions = Sessions::new(stores.table.clone(), clock.clone());
        let logins = Logins::new(stores.table.clone(), clock.clone());
        let uploads = Uploads::new(stores.clone(), clock.clone());
        let jobs = Jobs::new(stores.clone(), clock.clone());
        App {
            config,
            stores,
            search: Arc::new(Unconfigured),
            clock,
            foi,
            cases,
            claims,
            audit,
            sessions,
            logins,
            uploads,
            jobs,
            job_queue: None,
            front,
            queue,
            letters: OnceLock::new(),
            ingest: OnceLock::new(),
            scan_queue: None,
            background: OnceLock::new(),
        }
    }

    /// The rules documents are read with (compiled on first use).
    pub fn rules(&self) -> &'static Rules {
        Rules::builtin()
    }

    /// The letters use case (its templates and fonts are loaded on first use).
    pub fn letters(&self) -> &Letters {
        self.letters.get_or_init(|| Letters {
            stores: self.stores.clone(),
            registry: Registry::embedded(),
            clock: self.clock.clone(),
            actor: self.front.actor.clone(),
        })
    }

    /// The ingest use case, delivering acknowledgements as the front asked.
    pub fn ingest(&self) -> &Ingest {
        self.ingest.get_or_init(|| {
            let ingest = Ingest::new(
                self.stores.clone(),
                self.rules(),
                self.clock.clone(),
                IngestSettings {
                    actor: self.front.actor.clone(),
                    calendar: self.config.calendar.clone(),
                    ..IngestSettings::default()
                },
            )
            .with_search(self.search.clone());
            let ingest = match &self.scan_queue {
                Some(queue) => ingest.with_scan_queue(queue.clone()),
                None => ingest,
            };
            match self.front.acknowledgements {
                // Rendering in process is for the embedded default (the CLI, the demo): a
                // function built without it does not link the letter renderer for it.
                #[cfg(not(feature = "embedded"))]
                Acknowledgements::InProcess => ingest,
                #[cfg(feature = "embedded")]
                Acknowledgements::InProcess => {
                    let sink = self.background.get_or_init(|| {
                        Arc::new(Background::new(
                            Arc::new(self.letters().clone()),
                            LETTERS_IN_FLIGHT,
                        ))
                    });
                    ingest.with_letters(sink.clone())
                }
                Acknowledgements::Queue => match &self.queue {
                    Some(queue) => ingest.with_letters(queue.clone()),
                    None => ingest,
                },
                Acknowledgements::Off => ingest,
            }
        })
    }

    /// Removes what a run killed in the middle of a write left in the embedded store's
    /// folder (temporary files older than `age`; never an object). Returns how many.
    /// Nothing to do on AWS.
    #[cfg(feature = "embedded")]
    pub fn remove_stale_temp_files(&self, age: std::time::Duration) -> Result<usize, StoreError> {
        if self.config.backend != crate::config::BackendKind::Local {
            return Ok(0);
        }
        Ok(DirBlobs::open(self.config.blobs_dir())?.remove_stale_temp_files(age))
    }

    /// The bucket uploads are staged in: the configured S3 bucket, or `local`.
    pub fn bucket(&self) -> &str {
        match (&self.config.backend, &self.config.aws) {
            (crate::config::BackendKind::Aws, Some(names)) => &names.bucket,
            _ => "local",
        }
    }

    /// Waits for the acknowledgements rendered in this process; returns those that
    /// failed (request id and error), which the next delivery finishes.
    pub async fn finish(&self) -> Vec<(String, SendError)> {
        match self.background.get() {
            Some(sink) => sink.finish().await,
            None => Vec::new(),
        }
    }

    /// Starts job `id` of `who` (once): its first step goes to the job queue. False when
    /// it is not theirs or already started.
    pub async fn start_job(&self, id: &str, who: &str) -> Result<bool, JobError> {
        match self.jobs.start(id, who).await? {
            Some(step) => {
                self.job_queue().submit(&step).await?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Continues job `id` of `who` from where it stopped, when it has stalled.
    pub async fn resume_job(&self, id: &str, who: &str) -> Result<bool, JobError> {
        match self.jobs.resume(id, who).await? {
            Some(step) => {
                self.job_queue().submit(&step).await?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Does one step of a job that a queue delivered (the letters function).
    pub async fn job_step(&self, step: &JobStep) -> Result<(), JobError> {
        let queue = self.job_queue();
        self.jobs
            .advance(self.letters(), &self.foi, queue.as_ref(), step)
            .await
    }

    /// Where jobs' steps go: the letters queue when one is configured on AWS, else a
    /// task in this process.
    pub fn job_queue(&self) -> Arc<dyn JobQueue> {
        match &self.job_queue {
            Some(q) => q.clone(),
            None => Arc::new(InProcess::new(
                self.jobs.clone(),
                self.letters().clone(),
                self.foi.clone(),
            )),
        }
    }
}

#[cfg(feature = "aws")]
async fn job_queue(config: &Config) -> Option<Arc<dyn JobQueue>> {
    if config.backend != crate::config::BackendKind::Aws {
        return None;
    }
    let url = config.letters_queue.clone()?;
    let aws = AwsSettings::load().await;
    Some(Arc::new(SqsQueue::new(&aws, url)))
}

#[cfg(not(feature = "aws"))]
async fn job_queue(_: &Config) -> Option<Arc<dyn JobQueue>> {
    None
}

#[cfg(feature = "aws")]
async fn queue_sink(config: &Config) -> Option<Arc<dyn LetterSink>> {
    let url = config.letters_queue.clone()?;
    let aws = AwsSettings::load().await;
    Some(Arc::new(SqsQueue::new(&aws, url)))
}

#[cfg(not(feature = "aws"))]
async fn queue_sink(_: &Config) -> Option<Arc<dyn LetterSink>> {
    None
}

/// The OCR queue (issue 20 on AWS): scanned pages are read by the OCR function.
#[cfg(feature = "aws")]
async fn scan_queue(config: &Config) -> Option<Arc<dyn crate::ingest::ScanQueue>> {
    if config.backend != crate::config::BackendKind::Aws {
        return None;
    }
    let url = config.ocr_queue.clone()?;
    let aws = AwsSettings::load().await;
    Some(Arc::new(SqsQueue::new(&aws, url)))
}

#[cfg(not(feature = "aws"))]
async fn scan_queue(_: &Config) -> Option<Arc<dyn crate::ingest::ScanQueue>> {
    None
}
