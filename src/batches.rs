//! Letter batches from a spreadsheet (CSV): the whole file is checked first and every
//! problem listed by row and field before anything is made (GOV.UK Notify's lesson);
//! then the batch runs as a background job whose progress is recorded, so a page can
//! show it and a rerun of the same batch makes nothing twice (each row's letter has
//! its own request id).

use std::sync::Arc;

use bytes::Bytes;
use chrono::SecondsFormat;
use serde_json::{Map, Value, json};

use crate::clock::Clock;
use crate::letter_service::{LetterRequest, LetterStatus, Letters};
use crate::letters::{LetterError, Registry};
use crate::model::keys;
use crate::store::{Condition, Item, Key, PutOptions, Query, StoreError, Stores, Update};

/// The most rows one batch may have.
pub const MAX_ROWS: usize = 10_000;
/// The column that names each letter's case.
pub const CASE_COLUMN: &str = "case_ref";
/// Progress is recorded after this many rows (and at the end).
const RECORD_EVERY: usize = 10;

/// One problem in a batch: the spreadsheet row (the header is row 1), the column, and
/// what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub row: usize,
    pub field: String,
    pub problem: String,
}

/// A batch checked whole.
#[derive(Debug, Clone)]
pub struct BatchCheck {
    pub template: String,
    /// Data rows read.
    pub rows: usize,
    pub errors: Vec<RowError>,
    /// One letter request a row, when there are no errors.
    pub requests: Vec<LetterRequest>,
}

/// Why a batch could not be checked or run.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("{0}")]
    Letter(#[from] LetterError),
    #[error("the file is not a CSV with a header row: {0}")]
    NotCsv(String),
    #[error("the file has more than {MAX_ROWS} rows: split it")]
    TooManyRows,
    #[error("the file has no `{CASE_COLUMN}` column: each letter needs its case")]
    NoCaseColumn,
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

impl crate::failure::ErrorCode for BatchError {
    fn code(&self) -> crate::failure::Code {
        use crate::failure::Code;
        match self {
            BatchError::Letter(e) => e.code(),
            BatchError::NotCsv(_) | BatchError::NoCaseColumn => Code::InvalidData,
            BatchError::TooManyRows => Code::DataTooLarge,
            BatchError::Store(e) => e.code(),
        }
    }
}

/// A CSV row as letter data: empty cells are absent.
pub fn row_data(headers: &csv::StringRecord, record: &csv::StringRecord) -> Value {
    let mut map = Map::new();
    for (h, v) in headers.iter().zip(record.iter()) {
        if !v.trim().is_empty() {
            map.insert(h.trim().to_string(), Value::String(v.to_string()));
        }
    }
    Value::Object(map)
}

/// Checks every row of `csv` against `template`'s fields; the letters of batch `id`.
pub fn check(
    registry: &Registry,
    template: &str,
    csv: &[u8],
    id: &str,
) -> Result<BatchCheck, BatchError> {
    registry.get(template)?;
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(csv);
    let headers = reader
        .headers()
        .map_err(|e| BatchError::NotCsv(e.to_string()))?
        .clone();
    if !headers.iter().any(|h| h.trim() == CASE_COLUMN) {
        return Err(BatchError::NoCaseColumn);
    }
    let mut errors = Vec::new();
    let mut requests = Vec::new();
    let mut rows = 0;
    for (i, record) in reader.records().enumerate() {
        let row = i + 2;
        rows += 1;
        if rows > MAX_ROWS {
            return Err(BatchError::TooManyRows);
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(RowError {
                    row,
                    field: String::new(),
                    problem: format!("the row could not be read ({e})"),
                });
                continue;
            }
        };
        let mut data = row_data(&headers, &record);
        let case_ref = data
            .as_object_mut()
            .and_then(|m| m.remove(CASE_COLUMN))
            .and_then(|v| v.as_str().map(|s| s.trim().to_owned()))
            .unwrap_or_default();
        if case_ref.is_empty() {
            errors.push(RowError {
                row,
                field: CASE_COLUMN.into(),
                problem: "is empty: each letter needs its case".into(),
            });
        }
        match registry.validate(template, &data) {
            Ok(_) => {}
            Err(LetterError::Invalid(fields)) => {
                errors.extend(fields.into_iter().map(|f| RowError {
                    row,
                    field: f.field,
                    problem: f.message,
                }))
            }
            Err(e) => return Err(e.into()),
        }
        requests.push(LetterRequest {
            request_id: format!("batch:{id}:{row}"),
            template: template.to_owned(),
            case_ref,
            data,
        });
    }
    if !errors.is_empty() {
        requests.clear();
    }
    Ok(BatchCheck {
        template: template.to_owned(),
        rows,
        errors,
        requests,
    })
}

/// A job's progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobProgress {
    pub template: String,
    pub total: u64,
    pub done: u64,
    pub failed: u64,
    /// `ready`, `running` or `finished`.
    pub state: String,
}

/// Letter batches as background jobs over the stores.
#[derive(Debug, Clone)]
pub struct Jobs {
    stores: Stores,
    clock: Arc<dyn Clock>,
}

fn requests_key(id: &str) -> String {
    format!("jobs/{id}.json")
}

impl Jobs {
    pub fn new(stores: Stores, clock: Arc<dyn Clock>) -> Jobs {
        Jobs { stores, clock }
    }

    /// Records a checked batch as job `id` of `who`, ready to start.
    pub async fn create(&self, id: &str, who: &str, check: &BatchCheck) -> Result<(), BatchError> {
        let body =
            serde_json::to_vec(&check.requests).map_err(|e| BatchError::NotCsv(e.to_string()))?;
        self.stores
            .blobs
            .put(&requests_key(id), Bytes::from(body), &PutOptions::default())
            .await?;
        let mut item = Item::new();
        item.insert("PK".into(), keys::job(id).into());
        item.insert("SK".into(), keys::META.into());
        item.insert("who".into(), who.into());
        item.insert("kind".into(), "letters_batch".into());
        item.insert("template".into(), check.template.clone().into());
        item.insert("total".into(), json!(check.requests.len()));
        item.insert("done".into(), json!(0));
        item.insert("failed".into(), json!(0));
        item.insert("state".into(), "ready".into());
        let created = self
            .clock
            .now()
            .to_rfc3339_opts(SecondsFormat::Millis, true);
        item.insert("GSI1PK".into(), keys::jobs_of(who).into());
        item.insert("GSI1SK".into(), format!("{created}#{id}").into());
        item.insert("created".into(), created.into());
        self.stores.table.put(item, Condition::Absent).await?;
        Ok(())
    }

    /// Marks job `id` of `who` as started; false when it is not theirs or already started.
    pub async fn start(&self, id: &str, who: &str) -> Result<bool, BatchError> {
        match self.progress(id, who).await? {
            Some(p) if p.state == "ready" => {}
            _ => return Ok(false),
        }
        let update = Update::new(Key::new(keys::job(id), keys::META))
            .set("state", "running")
            .when(Condition::Exists);
        self.stores.table.update(update).await?;
        Ok(true)
    }

    /// Makes every letter of job `id` (in the background), recording progress. A row
    /// whose letter cannot be made is counted as failed; the rest still run.
    pub async fn run(&self, letters: &Letters, id: &str) -> Result<(), BatchError> {
        let body = self.stores.blobs.get(&requests_key(id)).await?.body;
        let requests: Vec<LetterRequest> =
            serde_json::from_slice(&body).map_err(|e| BatchError::NotCsv(e.to_string()))?;
        let (mut done, mut failed) = (0u64, 0u64);
        for (i, request) in requests.iter().enumerate() {
            match letters.send(request).await {
                Ok(o) if o.status != LetterStatus::Invalid => done += 1,
                Ok(_) => failed += 1,
                Err(e) => {
                    tracing::warn!(
                        job = id,
                        code = crate::failure::ErrorCode::code(&e).as_str(),
                        "a batch letter was not made"
                    );
                    failed += 1;
                }
            }
            let last = i + 1 == requests.len();
            if last || (i + 1) % RECORD_EVERY == 0 {
                let update = Update::new(Key::new(keys::job(id), keys::META))
                    .set("done", json!(done))
                    .set("failed", json!(failed))
                    .set("state", if last { "finished" } else { "running" })
                    .when(Condition::Exists);
                self.stores.table.update(update).await?;
            }
        }
        if requests.is_empty() {
            let update = Update::new(Key::new(keys::job(id), keys::META)).set("state", "finished");
            self.stores.table.update(update).await?;
        }
        Ok(())
    }

    /// The person's most recent jobs (at most `limit`), newest first: id and progress.
    pub async fn recent(
        &self,
        who: &str,
        limit: u32,
    ) -> Result<Vec<(String, JobProgress)>, StoreError> {
        let page = self
            .stores
            .table
            .query_gsi1(&Query::new(keys::jobs_of(who)).descending().limit(limit))
            .await?;
        Ok(page
            .items
            .iter()
            .filter_map(|item| {
                let id = item
                    .get("PK")
                    .and_then(Value::as_str)?
                    .split_once('#')?
                    .1
                    .to_owned();
                Some((id, progress_of(item)))
            })
            .collect())
    }

    /// Job `id`'s progress, for `who` only.
    pub async fn progress(&self, id: &str, who: &str) -> Result<Option<JobProgress>, StoreError> {
        let Some(item) = self
            .stores
            .table
            .get(&Key::new(keys::job(id), keys::META))
            .await?
        else {
            return Ok(None);
        };
        if item.get("who").and_then(Value::as_str) != Some(who) {
            return Ok(None);
        }
        Ok(Some(progress_of(&item)))
    }
}

fn progress_of(item: &Item) -> JobProgress {
    let n = |k: &str| item.get(k).and_then(Value::as_u64).unwrap_or(0);
    let t = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    JobProgress {
        template: t("template"),
        total: n("total"),
        done: n("done"),
        failed: n("failed"),
        state: t("state"),
    }
}
