//! Long work as background jobs, never inside a request: letter batches, claims
//! statistics and the disclosure log. A job is recorded first (who asked, what, its
//! progress), then advanced in steps: each step does a bounded piece of work (a chunk of
//! a batch's letters, or the whole of a statistics table) and hands the next step to a
//! [`JobQueue`]: a task in this process on the embedded default, the letters queue on
//! AWS (so no step outlives a function's timeout). Steps arrive at least once and out of
//! order: a step records its progress only if the job is still where it found it
//! (`version`), a step already done is skipped, and one that arrives before its
//! predecessor has been recorded is refused as busy (SQS delivers it again later). Each
//! batch row's letter has its own request id, so a step run twice makes nothing twice.

use std::sync::Arc;

use bytes::Bytes;
use chrono::SecondsFormat;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::batches::BatchCheck;
use crate::clock::Clock;
use crate::failure::{Code, ErrorCode};
use crate::foi::service::Foi;
use crate::letter_service::{LetterRequest, LetterStatus, Letters};
use crate::model::keys;
use crate::store::{Condition, Item, Key, PutOptions, Query, StoreError, Stores, Update};

/// Letters made by one step of a batch (a few seconds of work: far under any timeout).
pub const CHUNK: usize = 25;
/// A running job whose progress has not moved for this long may be continued by hand.
pub const STALLED_AFTER_SECONDS: i64 = 120;

/// What a job does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobSpec {
    /// A checked CSV batch of letters from one template (its requests are stored apart).
    LettersBatch { template: String },
    /// Clinical negligence claims counted by one or two dimensions over a span of
    /// years, with small numbers suppressed (`foi::report::claims_table`).
    ClaimsStatistics {
        by: Vec<String>,
        from: i32,
        to: i32,
        threshold: u64,
    },
    /// The disclosure log: every published response, its index page and its JSON.
    DisclosureLog,
    /// Existing cases from a CSV file (stored apart), every row checked, the good ones
    /// landed (`Cases::import`).
    CasesImport,
}

impl JobSpec {
    /// The kind's name, as stored and shown.
    pub fn kind(&self) -> &'static str {
        match self {
            JobSpec::LettersBatch { .. } => "letters_batch",
            JobSpec::ClaimsStatistics { .. } => "claims_statistics",
            JobSpec::DisclosureLog => "disclosure_log",
            JobSpec::CasesImport => "cases_import",
        }
    }
}

/// One step of a job: do the work from item `from` on (a batch's row index; 0 for a
/// job done in one step). The letters queue's message for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobStep {
    pub job: String,
    pub from: u64,
}

impl JobStep {
    /// The step in a queue message's body, if the body is one (`{"job": …, "from": …}`).
    pub fn from_message(body: &Value) -> Option<JobStep> {
        body.get("job")?;
        serde_json::from_value(body.clone()).ok()
    }
}

/// Why a job could not be recorded or advanced.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("there is no job {0}")]
    NotFound(String),
    #[error("the job's step from {from} came before its previous step was recorded")]
    Early { from: u64 },
    #[error("the job's record is damaged: {0}")]
    Damaged(String),
    #[error("{0}")]
    Work(String, Code),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

impl ErrorCode for JobError {
    fn code(&self) -> Code {
        match self {
            JobError::NotFound(_) => Code::NotFound,
            JobError::Early { .. } => Code::Busy,
            JobError::Damaged(_) => Code::InvalidData,
            JobError::Work(_, code) => *code,
            JobError::Store(e) => e.code(),
        }
    }
}

impl JobError {
    fn work(e: impl ErrorCode + std::fmt::Display) -> JobError {
        JobError::Work(e.to_string(), e.code())
    }
}

/// Where the next step of a job goes: a task in this process, or a queue.
#[async_trait::async_trait]
pub trait JobQueue: Send + Sync + std::fmt::Debug {
    /// `Ok` once the step is under way or safely queued.
    async fn submit(&self, step: &JobStep) -> Result<(), JobError>;
}

/// A job's state and progress, as a page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobProgress {
    pub id: String,
    pub spec: JobSpec,
    /// Items to do (a batch's letters; 1 for a job done in one step).
    pub total: u64,
    pub done: u64,
    pub failed: u64,
    /// `ready`, `running`, `finished` or `failed`.
    pub state: String,
    pub created: String,
    /// When its progress last moved.
    pub updated: String,
    /// What it found, in words (a finished statistics table's caption, the log's size).
    pub summary: Option<String>,
    /// Files it made, by name (downloaded from its page).
    pub files: Vec<String>,
    /// Why it stopped, when it failed: a stable code.
    pub error: Option<String>,
    /// Problems it found, to list on its page.
    pub lines: Vec<String>,
}

impl JobProgress {
    pub fn is_finished(&self) -> bool {
        self.state == "finished" || self.state == "failed"
    }
}

/// The jobs, over the stores.
#[derive(Debug, Clone)]
pub struct Jobs {
    stores: Stores,
    clock: Arc<dyn Clock>,
}

/// A file name a job may make and a page may ask for: letters, digits, `-`, `_`, `.`;
/// no path.
pub fn is_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 120
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The outcome of a step's work, before it is recorded.
struct Worked {
    next: u64,
    done: u64,
    failed: u64,
    last: bool,
    summary: Option<String>,
    files: Vec<String>,
    /// Problems to show on the job's page (at most [`MAX_LINES`]).
    lines: Vec<String>,
}

/// Problems a job's page lists; the rest are in its files.
pub const MAX_LINES: usize = 50;

/// One CSV line, each value quoted as needed.
fn csv_line(values: &[&str]) -> String {
    let quoted: Vec<String> = values
        .iter()
        .map(|v| {
            // A cell a spreadsheet would run as a formula is kept as text.
            let v = if v.starts_with(['=', '+', '-', '@']) {
                format!("'{v}")
            } else {
                (*v).to_owned()
            };
            if v.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", v.replace('"', "\"\""))
            } else {
                v
            }
        })
        .collect();
    quoted.join(",") + "\n"
}

impl Jobs {
    pub fn new(stores: Stores, clock: Arc<dyn Clock>) -> Jobs {
        Jobs { stores, clock }
    }

    fn now(&self) -> String {
        self.clock
            .now()
            .to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    /// Records job `id` of `who`, ready to start.
    async fn record(
        &self,
        id: &str,
        who: &str,
        spec: &JobSpec,
        total: u64,
    ) -> Result<(), JobError> {
        let mut item = Item::new();
        item.insert("PK".into(), keys::job(id).into());
        item.insert("SK".into(), keys::META.into());
        item.insert("who".into(), who.into());
        item.insert("kind".into(), spec.kind().into());
        item.insert(
            "spec".into(),
            serde_json::to_value(spec).map_err(|e| JobError::Damaged(e.to_string()))?,
        );
        item.insert("total".into(), json!(total));
        item.insert("next".into(), json!(0));
        item.insert("done".into(), json!(0));
        item.insert("failed".into(), json!(0));
        item.insert("state".into(), "ready".into());
        item.insert("version".into(), json!(1));
        let created = self.now();
        item.insert("GSI1PK".into(), keys::jobs_of(who).into());
        item.insert("GSI1SK".into(), format!("{created}#{id}").into());
        item.insert("updated".into(), created.clone().into());
        item.insert("created".into(), created.into());
        self.stores.table.put(item, Condition::Absent).await?;
        Ok(())
    }

    /// Records a checked batch as job `id` of `who`, ready to start.
    pub async fn create_batch(
        &self,
        id: &str,
        who: &str,
        check: &BatchCheck,
    ) -> Result<(), JobError> {
        let body =
            serde_json::to_vec(&check.requests).map_err(|e| JobError::Damaged(e.to_string()))?;
        self.stores
            .blobs
            .put(
                &keys::job_requests(id),
                Bytes::from(body),
                &PutOptions::default(),
            )
            .await?;
        let spec = JobSpec::LettersBatch {
            template: check.template.clone(),
        };
        self.record(id, who, &spec, check.requests.len() as u64)
            .await
    }

    /// Records a cases import of `csv` as job `id` of `who`, ready to start.
    pub async fn create_import(&self, id: &str, who: &str, csv: Bytes) -> Result<(), JobError> {
        self.stores
            .blobs
            .put(&keys::job_input(id), csv, &PutOptions::default())
            .await?;
        self.record(id, who, &JobSpec::CasesImport, 1).await
    }

    /// Records a job done in one step (statistics, the disclosure log), ready to start.
    pub async fn create(&self, id: &str, who: &str, spec: &JobSpec) -> Result<(), JobError> {
        self.record(id, who, spec, 1).await
    }

    /// Marks job `id` of `who` as started and gives its first step; `None` when it is
    /// not theirs or already started.
    pub async fn start(&self, id: &str, who: &str) -> Result<Option<JobStep>, JobError> {
        let Some(item) = self.item(id).await? else {
            return Ok(None);
        };
        if item.get("who").and_then(Value::as_str) != Some(who)
            || item.get("state").and_then(Value::as_str) != Some("ready")
        {
            return Ok(None);
        }
        let version = num(&item, "version");
        let update = Update::new(Key::new(keys::job(id), keys::META))
            .set("state", "running")
            .set("version", json!(version + 1))
            .set("updated", self.now())
            .when(Condition::VersionEquals(version));
        match self.stores.table.update(update).await {
            Ok(_) => Ok(Some(JobStep {
                job: id.to_owned(),
                from: 0,
            })),
            Err(StoreError::ConditionFailed { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The step that continues job `id` of `who` when it is running but its progress
    /// has not moved for [`STALLED_AFTER_SECONDS`] (its process stopped, or its queue
    /// message was lost): a rerun of where it was.
    pub async fn resume(&self, id: &str, who: &str) -> Result<Option<JobStep>, JobError> {
        let Some(p) = self.progress(id, who).await? else {
            return Ok(None);
        };
        if !self.stalled(&p) {
            return Ok(None);
        }
        let item = self
            .item(id)
            .await?
            .ok_or_else(|| JobError::NotFound(id.into()))?;
        Ok(Some(JobStep {
            job: id.to_owned(),
            from: num(&item, "next"),
        }))
    }

    /// Whether a running job's progress has not moved for a while.
    pub fn stalled(&self, p: &JobProgress) -> bool {
        if p.state != "running" {
            return false;
        }
        match chrono::DateTime::parse_from_rfc3339(&p.updated) {
            Ok(at) => (self.clock.now() - at.to_utc()).num_seconds() >= STALLED_AFTER_SECONDS,
            Err(_) => true,
        }
    }

    async fn item(&self, id: &str) -> Result<Option<Item>, StoreError> {
        self.stores
            .table
            .get(&Key::new(keys::job(id), keys::META))
            .await
    }

    /// Does one step of a job: its work, then the next step to `queue` (before the
    /// progress is recorded, so that a stop between the two leaves the step to be done
    /// again, never a job that nothing continues), then its progress. A step already
    /// recorded, or of a job that is finished or not started, does nothing.
    pub async fn advance(
        &self,
        letters: &Letters,
        foi: &Foi,
        queue: &dyn JobQueue,
        step: &JobStep,
    ) -> Result<(), JobError> {
        let item = self
            .item(&step.job)
            .await?
            .ok_or_else(|| JobError::NotFound(step.job.clone()))?;
        if item.get("state").and_then(Value::as_str) != Some("running") {
            return Ok(());
        }
        let next = num(&item, "next");
        if step.from < next {
            return Ok(());
        }
        if step.from > next {
            return Err(JobError::Early { from: step.from });
        }
        let spec: JobSpec = item
            .get("spec")
            .cloned()
            .and_then(|v| serde_json::from_value(v).ok())
            .ok_or_else(|| JobError::Damaged(format!("job {} has no kind", step.job)))?;
        let who = item
            .get("who")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let worked = match &spec {
            JobSpec::LettersBatch { .. } => {
                self.letters_chunk(&letters.acting_as(&who), &step.job, next, &item)
                    .await?
            }
            JobSpec::ClaimsStatistics {
                by,
                from,
                to,
                threshold,
            } => match crate::foi::report::claims_table(foi, by, *from, *to, *threshold).await {
                Ok(t) => {
                    let csv = t.table.to_csv();
                    let text = format!("{}\n\n{}", t.caption, t.table.to_text());
                    let names = ["claims-statistics.csv", "claims-statistics.txt"];
                    self.put_file(&step.job, names[0], csv.into_bytes()).await?;
                    self.put_file(&step.job, names[1], text.into_bytes())
                        .await?;
                    Worked {
                        next: 1,
                        done: 1,
                        failed: 0,
                        last: true,
                        summary: Some(t.caption),
                        files: names.iter().map(|n| (*n).to_owned()).collect(),
                        lines: Vec::new(),
                    }
                }
                // A table that cannot be counted (a dimension the cases lack, too many
                // dimensions) is the job's answer, not something to retry.
                Err(e) if !e.code().retryable() && e.code().http_status() < 500 => {
                    return self.fail(&step.job, &item, &e.to_string(), e.code()).await;
                }
                Err(e) => return Err(JobError::work(e)),
            },
            JobSpec::CasesImport => {
                let csv = self
                    .stores
                    .blobs
                    .get(&keys::job_input(&step.job))
                    .await?
                    .body;
                let cases = crate::cases::Cases::new(
                    self.stores.table.clone(),
                    self.clock.clone(),
                    who.clone(),
                );
                match cases.import(&csv, &who, &foi.calendar).await {
                    Ok(report) => {
                        let mut out = String::from("row,reference,status,column,code,problem\n");
                        let mut lines = Vec::new();
                        for r in &report.rows {
                            let reference = r.reference.clone().unwrap_or_default();
                            if r.problems.is_empty() {
                                out.push_str(&csv_line(&[
                                    &r.row.to_string(),
                                    &reference,
                                    r.status.as_str(),
                                    "",
                                    "",
                                    "",
                                ]));
                            }
                            for p in &r.problems {
                                let column = p.column.clone().unwrap_or_else(|| "*".into());
                                out.push_str(&csv_line(&[
                                    &r.row.to_string(),
                                    &reference,
                                    r.status.as_str(),
                                    &column,
                                    p.code,
                                    &p.message,
                                ]));
                                if lines.len() < MAX_LINES {
                                    lines.push(format!(
                                        "Row {}, column {column}: {}",
                                        r.row, p.message
                                    ));
                                }
                            }
                        }
                        let name = "import-report.csv";
                        self.put_file(&step.job, name, out.into_bytes()).await?;
                        Worked {
                            next: 1,
                            done: 1,
                            failed: 0,
                            last: true,
                            summary: Some(format!(
                                "{} created, {} updated, {} unchanged, {} in conflict, {} rejected; {} waiting document(s) filed",
                                report.created(),
                                report.updated(),
                                report.unchanged(),
                                report.conflicts(),
                                report.rejected(),
                                report.documents_filed()
                            )),
                            files: vec![name.to_owned()],
                            lines,
                        }
                    }
                    // A file that cannot be read whole (its header, its size) is the
                    // job's answer.
                    Err(e) if !e.code().retryable() && e.code().http_status() < 500 => {
                        return self.fail(&step.job, &item, &e.to_string(), e.code()).await;
                    }
                    Err(e) => return Err(JobError::work(e)),
                }
            }
            JobSpec::DisclosureLog => {
                let log = crate::foi::report::disclosure_log_files(foi)
                    .await
                    .map_err(JobError::work)?;
                let mut files = Vec::new();
                for (name, bytes) in log.files {
                    if !is_file_name(&name) {
                        return Err(JobError::Damaged(format!(
                            "the disclosure log named a file {name:?}"
                        )));
                    }
                    self.put_file(&step.job, &name, bytes).await?;
                    files.push(name);
                }
                Worked {
                    next: 1,
                    done: 1,
                    failed: 0,
                    last: true,
                    summary: Some(match log.entries {
                        1 => "1 published response".to_owned(),
                        n => format!("{n} published responses"),
                    }),
                    files,
                    lines: Vec::new(),
                }
            }
        };
        if !worked.last {
            queue
                .submit(&JobStep {
                    job: step.job.clone(),
                    from: worked.next,
                })
                .await?;
        }
        let version = num(&item, "version");
        let mut update = Update::new(Key::new(keys::job(&step.job), keys::META))
            .set("next", json!(worked.next))
            .set("done", json!(worked.done))
            .set("failed", json!(worked.failed))
            .set("state", if worked.last { "finished" } else { "running" })
            .set("version", json!(version + 1))
            .set("updated", self.now())
            .when(Condition::VersionEquals(version));
        if let Some(summary) = worked.summary {
            update = update.set("summary", summary);
        }
        if !worked.files.is_empty() {
            update = update.set("files", json!(worked.files));
        }
        if !worked.lines.is_empty() {
            update = update.set("lines", json!(worked.lines));
        }
        match self.stores.table.update(update).await {
            // Another delivery of the same step recorded it first: the same work.
            Ok(_) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Makes the letters of rows `next..next + CHUNK` of a batch.
    async fn letters_chunk(
        &self,
        letters: &Letters,
        id: &str,
        next: u64,
        item: &Item,
    ) -> Result<Worked, JobError> {
        let body = self.stores.blobs.get(&keys::job_requests(id)).await?.body;
        let requests: Vec<LetterRequest> =
            serde_json::from_slice(&body).map_err(|e| JobError::Damaged(e.to_string()))?;
        let start = (next as usize).min(requests.len());
        let end = (start + CHUNK).min(requests.len());
        let (mut done, mut failed) = (num(item, "done"), num(item, "failed"));
        for request in &requests[start..end] {
            match letters.send(request).await {
                Ok(o) if o.status != LetterStatus::Invalid => done += 1,
                Ok(_) => failed += 1,
                // Storage that is down stops the step (it is delivered again); anything
                // else is this row's failure, and the rest still run.
                Err(e) if e.code().retryable() => return Err(JobError::work(e)),
                Err(e) => {
                    tracing::warn!(
                        job = id,
                        code = e.code().as_str(),
                        "a batch letter was not made"
                    );
                    failed += 1;
                }
            }
        }
        Ok(Worked {
            next: end as u64,
            done,
            failed,
            last: end >= requests.len(),
            summary: None,
            files: Vec::new(),
            lines: Vec::new(),
        })
    }

    async fn put_file(&self, id: &str, name: &str, bytes: Vec<u8>) -> Result<(), JobError> {
        self.stores
            .blobs
            .put(
                &keys::job_file(id, name),
                Bytes::from(bytes),
                &PutOptions::default(),
            )
            .await?;
        Ok(())
    }

    /// Records that a job cannot be done, with why.
    async fn fail(&self, id: &str, item: &Item, why: &str, code: Code) -> Result<(), JobError> {
        let version = num(item, "version");
        let update = Update::new(Key::new(keys::job(id), keys::META))
            .set("state", "failed")
            .set("error", code.as_str())
            .set("summary", why)
            .set("version", json!(version + 1))
            .set("updated", self.now())
            .when(Condition::VersionEquals(version));
        match self.stores.table.update(update).await {
            Ok(_) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The person's most recent jobs (at most `limit`), newest first.
    pub async fn recent(&self, who: &str, limit: u32) -> Result<Vec<JobProgress>, StoreError> {
        let page = self
            .stores
            .table
            .query_gsi1(&Query::new(keys::jobs_of(who)).descending().limit(limit))
            .await?;
        Ok(page.items.iter().filter_map(progress_of).collect())
    }

    /// Job `id`'s progress, for `who` only.
    pub async fn progress(&self, id: &str, who: &str) -> Result<Option<JobProgress>, StoreError> {
        let Some(item) = self.item(id).await? else {
            return Ok(None);
        };
        if item.get("who").and_then(Value::as_str) != Some(who) {
            return Ok(None);
        }
        Ok(progress_of(&item))
    }

    /// A file that job `id` of `who` made, by name: `None` when the job is not theirs or
    /// made no such file.
    pub async fn file(&self, id: &str, who: &str, name: &str) -> Result<Option<Bytes>, StoreError> {
        let Some(p) = self.progress(id, who).await? else {
            return Ok(None);
        };
        if !is_file_name(name) || !p.files.iter().any(|f| f == name) {
            return Ok(None);
        }
        Ok(Some(
            self.stores.blobs.get(&keys::job_file(id, name)).await?.body,
        ))
    }
}

fn num(item: &Item, name: &str) -> u64 {
    item.get(name).and_then(Value::as_u64).unwrap_or(0)
}

fn progress_of(item: &Item) -> Option<JobProgress> {
    let id = item
        .get("PK")
        .and_then(Value::as_str)?
        .split_once('#')?
        .1
        .to_owned();
    let t = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_owned);
    // Jobs recorded before kinds had their own specs were letter batches.
    let spec = item
        .get("spec")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or(JobSpec::LettersBatch {
            template: t("template").unwrap_or_default(),
        });
    Some(JobProgress {
        id,
        spec,
        total: num(item, "total"),
        done: num(item, "done"),
        failed: num(item, "failed"),
        state: t("state").unwrap_or_default(),
        created: t("created").unwrap_or_default(),
        updated: t("updated").or_else(|| t("created")).unwrap_or_default(),
        summary: t("summary"),
        files: crate::store::strings(item.get("files")),
        error: t("error"),
        lines: crate::store::strings(item.get("lines")),
    })
}

/// Steps run by a task in this process (the embedded default): a job's steps one after
/// another. A step handed on before its predecessor recorded its progress waits for it;
/// a failure is logged with its code and leaves the job to be continued from its page.
#[derive(Debug, Clone)]
pub struct InProcess {
    jobs: Jobs,
    letters: Letters,
    foi: Foi,
}

impl InProcess {
    pub fn new(jobs: Jobs, letters: Letters, foi: Foi) -> InProcess {
        InProcess { jobs, letters, foi }
    }

    /// Runs a step and every step after it, here; for tests and the CLI.
    pub async fn run(&self, step: &JobStep) -> Result<(), JobError> {
        let chain = Chain::default();
        let mut step = step.clone();
        let mut early = 0;
        loop {
            match self
                .jobs
                .advance(&self.letters, &self.foi, &chain, &step)
                .await
            {
                Ok(()) => early = 0,
                // Handed on by a step that has not recorded its progress yet: wait
                // for it (a moment), as SQS would deliver the step again later.
                Err(JobError::Early { .. }) if early < 200 => {
                    early += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(25)).await;
                    continue;
                }
                Err(e) => return Err(e),
            }
            match chain.take() {
                Some(next) => step = next,
                None => return Ok(()),
            }
        }
    }
}

/// Keeps the next step, for [`InProcess::run`]'s loop.
#[derive(Debug, Default)]
struct Chain(std::sync::Mutex<Option<JobStep>>);

impl Chain {
    fn take(&self) -> Option<JobStep> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

#[async_trait::async_trait]
impl JobQueue for Chain {
    async fn submit(&self, step: &JobStep) -> Result<(), JobError> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(step.clone());
        Ok(())
    }
}

#[async_trait::async_trait]
impl JobQueue for InProcess {
    async fn submit(&self, step: &JobStep) -> Result<(), JobError> {
        let runner = self.clone();
        let step = step.clone();
        tokio::spawn(async move {
            if let Err(e) = runner.run(&step).await {
                tracing::error!(job = %step.job, code = e.code().as_str(), "a job stopped");
            }
        });
        Ok(())
    }
}

#[cfg(feature = "aws")]
#[async_trait::async_trait]
impl JobQueue for crate::store::SqsQueue {
    async fn submit(&self, step: &JobStep) -> Result<(), JobError> {
        let body = serde_json::to_string(step).map_err(|e| JobError::Damaged(e.to_string()))?;
        Ok(self.send(&body).await?)
    }
}
