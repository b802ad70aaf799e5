//! Letter batches from a spreadsheet (CSV): the whole file is checked first and every
//! problem listed by row and field before anything is made (GOV.UK Notify's lesson);
//! then the batch runs as a background job, and a rerun of the same
//! batch makes nothing twice (each row's letter has its own request id).

use serde_json::{Map, Value};

use crate::letter_service::LetterRequest;
use crate::letters::{LetterError, Registry};
use crate::store::StoreError;

/// The most rows one batch may have.
pub const MAX_ROWS: usize = 10_000;
/// The column that names each letter's case.
pub const CASE_COLUMN: &str = "case_ref";

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
        } else if let Err(e) = crate::letter_service::fits(template, &case_ref) {
            errors.push(RowError {
                row,
                field: CASE_COLUMN.into(),
                problem: e.to_string(),
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
