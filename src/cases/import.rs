//! Existing cases in: a CSV of cases from the organisation's case-management system,
//! checked row by row, each good row landed (the case, its keys, an audit event, and the
//! documents that were waiting for it filed under it), each bad row reported with its row
//! and column and a stable code. The use case of `postroom cases import`, callable as well
//! from the console or a Lambda (`Cases::import`).
//!
//! The file: a header row (row 1) naming at least `reference,kind,claimant,opened`, and
//! optionally `defendants`, `court_ref`, `date_of_birth`, `nhs_number`, `status`,
//! `scheme`, `specialty` (any order; names in any case). Several defendants, court
//! numbers or NHS numbers in one cell are separated by `;`. An unknown or repeated column
//! refuses the whole file (a misspelt `date_of_brith` must not be dropped silently).
//!
//! Rules of the rows:
//! - `reference` is one of our references in its canonical form after normalising
//!   (`cnst / 24 / 004512` → `CNST/24/004512`), of the form of its `kind`: a claim's
//!   `SCHEME/YY/NNNNNN`, an FOI request's `FOI_NNNN`, an appeal's `SHA/NNNNN` or
//!   `REV/NNNN[N]`. An `advice` case has no form of its own: it takes a claim's or an
//!   appeal's form (never an FOI one). A court number or an internal review
//!   (`FOI_6405/IR`) is not a case reference.
//! - dates are ISO (`2023-04-03`) or UK day-first (`03/04/2023`); `opened` and
//!   `date_of_birth` may not be after today.
//! - NHS numbers pass their modulus 11 check; court numbers are a High Court
//!   (`KB-2024-001234`) or County Court (`F12YJ456`) number.
//! - `status` is one word (`open` when empty); an FOI request is imported open, with its
//!   statutory clock started on `opened` (its later steps are `postroom foi move`).
//! - a claim's `scheme`, when given, is its reference's prefix.
//!
//! Importing again changes nothing. A row for a case that already exists is compared
//! field by field with it: the same → `unchanged`; fields the case does not have yet are
//! filled in → `updated` (audited); a field the case has with another value (a handler
//! may have changed it) → `conflict`, naming the fields, and nothing of that row is
//! written. A case opened by postroom from a document keeps its own `opened` time (when
//! its first document arrived), so `opened` is compared only on imported cases.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, SecondsFormat};
use serde::Serialize;
use serde_json::{Value, json};

use crate::calendar::Calendar;
use crate::clock::Clock;
use crate::metadata::{Rules, references};
use crate::model::keys;
use crate::store::{
    Condition, GSI1_PK, GSI1_SK, Item, Key, Query, StoreError, Table, TxOp, Update,
};

use super::CaseError;
use super::matching::{self, KeyKind, MatchKey};

/// The largest file read (bytes).
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// The most rows read (after the header).
pub const MAX_ROWS: usize = 20_000;
/// The longest value of one cell (bytes); defendants may be longer.
pub const MAX_CELL_BYTES: usize = 1_000;
const MAX_DEFENDANTS_BYTES: usize = 4_000;
/// At most this many values in a `;`-separated cell.
const MAX_LIST: usize = 20;

const REQUIRED: [&str; 4] = ["reference", "kind", "claimant", "opened"];
const OPTIONAL: [&str; 7] = [
    "defendants",
    "court_ref",
    "date_of_birth",
    "nhs_number",
    "status",
    "scheme",
    "specialty",
];

/// Why a file could not be imported at all (nothing of it was written).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the file is {size} bytes; at most {MAX_FILE_BYTES} are read")]
    TooLarge { size: usize },
    #[error("the file has more than {MAX_ROWS} rows")]
    TooManyRows,
    #[error("the file is empty: it needs a header row")]
    Empty,
    #[error("the header row cannot be read: {0}")]
    BadHeader(String),
    #[error("the header row lacks the column(s) {}", .0.join(", "))]
    MissingColumns(Vec<String>),
    #[error("the header row has unknown column(s) {} (known: {})", .0.join(", "), known_columns())]
    UnknownColumns(Vec<String>),
    #[error("the header row names {0} twice")]
    RepeatedColumn(String),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

fn known_columns() -> String {
    REQUIRED
        .iter()
        .chain(OPTIONAL.iter())
        .copied()
        .collect::<Vec<_>>()
        .join(", ")
}

impl ImportError {
    /// Whether the file itself was refused (as opposed to a storage failure).
    pub fn is_unreadable_file(&self) -> bool {
        !matches!(self, ImportError::Store(_))
    }
}

impl crate::failure::ErrorCode for ImportError {
    fn code(&self) -> crate::failure::Code {
        use crate::failure::Code;
        match self {
            ImportError::TooLarge { .. } | ImportError::TooManyRows => Code::TooLarge,
            ImportError::Store(e) => e.code(),
            _ => Code::InvalidRequest,
        }
    }
}

impl From<CaseError> for ImportError {
    fn from(e: CaseError) -> ImportError {
        match e {
            CaseError::Store(e) => ImportError::Store(e),
            other => ImportError::Store(StoreError::Invalid {
                what: other.to_string(),
            }),
        }
    }
}

/// What became of one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    /// A new case.
    Created,
    /// The case was there with every field the same: nothing written.
    Unchanged,
    /// The case was there; fields it lacked were filled in.
    Updated,
    /// The case was there with other values in some fields: nothing written.
    Conflict,
    /// The row is wrong: nothing written.
    Rejected,
}

impl RowStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RowStatus::Created => "created",
            RowStatus::Unchanged => "unchanged",
            RowStatus::Updated => "updated",
            RowStatus::Conflict => "conflict",
            RowStatus::Rejected => "rejected",
        }
    }

    /// Whether the row's case is in the table as the row says.
    pub fn landed(self) -> bool {
        matches!(
            self,
            RowStatus::Created | RowStatus::Unchanged | RowStatus::Updated
        )
    }
}

/// One problem with a row: its column (none for the whole row), a stable code and a
/// message (which never repeats a personal value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub column: Option<String>,
    pub code: &'static str,
    pub message: String,
}

/// The outcome of one row (`row` counts the header as row 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowReport {
    pub row: usize,
    pub reference: Option<String>,
    pub status: RowStatus,
    pub problems: Vec<Problem>,
    /// Documents that were waiting for this case and are now filed under it.
    #[serde(skip)]
    pub documents_filed: usize,
}

/// What an import did, row by row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub rows: Vec<RowReport>,
}

impl ImportReport {
    fn count(&self, status: RowStatus) -> usize {
        self.rows.iter().filter(|r| r.status == status).count()
    }
    pub fn created(&self) -> usize {
        self.count(RowStatus::Created)
    }
    pub fn updated(&self) -> usize {
        self.count(RowStatus::Updated)
    }
    pub fn unchanged(&self) -> usize {
        self.count(RowStatus::Unchanged)
    }
    pub fn conflicts(&self) -> usize {
        self.count(RowStatus::Conflict)
    }
    pub fn rejected(&self) -> usize {
        self.count(RowStatus::Rejected)
    }
    pub fn documents_filed(&self) -> usize {
        self.rows.iter().map(|r| r.documents_filed).sum()
    }
    /// Whether every row's case is in the table as its row says.
    pub fn all_landed(&self) -> bool {
        self.rows.iter().all(|r| r.status.landed())
    }
}

/// A case's kind, as a row names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Claim,
    Foi,
    Appeal,
    Advice,
}

impl Kind {
    fn parse(s: &str) -> Option<Kind> {
        match s.trim().to_ascii_lowercase().as_str() {
            "claim" => Some(Kind::Claim),
            "foi" => Some(Kind::Foi),
            "appeal" => Some(Kind::Appeal),
            "advice" => Some(Kind::Advice),
            _ => None,
        }
    }
    fn as_str(self) -> &'static str {
        match self {
            Kind::Claim => "claim",
            Kind::Foi => "foi",
            Kind::Appeal => "appeal",
            Kind::Advice => "advice",
        }
    }
}

/// The form of one of our references.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Claim,
    Foi,
    Appeal,
}

/// A row that passed every check.
#[derive(Debug, Clone)]
struct CaseRow {
    row: usize,
    reference: String,
    kind: Kind,
    claimant: String,
    opened: NaiveDate,
    defendants: Vec<String>,
    court_refs: Vec<String>,
    date_of_birth: Option<NaiveDate>,
    nhs_numbers: Vec<String>,
    status: String,
    scheme: Option<String>,
    specialty: Option<String>,
}

impl CaseRow {
    /// The fields the row sets on its case, as stored (empty ones left out).
    fn fields(&self) -> Vec<(&'static str, Value)> {
        let mut out = vec![
            ("kind", json!(self.kind.as_str())),
            ("claimant", json!(self.claimant)),
            ("status", json!(self.status)),
        ];
        let mut list = |name, values: &Vec<String>| {
            if !values.is_empty() {
                out.push((name, json!(values)));
            }
        };
        list("defendants", &self.defendants);
        list("court_refs", &self.court_refs);
        list("nhs_numbers", &self.nhs_numbers);
        if let Some(d) = self.date_of_birth {
            out.push(("date_of_birth", json!(d.to_string())));
        }
        if let Some(s) = &self.scheme {
            out.push(("scheme", json!(s)));
        }
        if let Some(s) = &self.specialty {
            out.push(("specialty", json!(s)));
        }
        out
    }

    /// The keys the case is known by.
    fn keys(&self) -> Vec<MatchKey> {
        let mut out = matching::claimant_keys(Some(&self.claimant), self.date_of_birth);
        for (kind, values) in [
            (KeyKind::Court, &self.court_refs),
            (KeyKind::Nhs, &self.nhs_numbers),
        ] {
            out.extend(values.iter().filter_map(|v| MatchKey::new(kind, v)));
        }
        out.sort();
        out.dedup();
        out
    }
}

/// The header: which column each field is in.
struct Columns {
    index: HashMap<&'static str, usize>,
    names: Vec<String>,
}

impl Columns {
    fn read(header: &csv::ByteRecord) -> Result<Columns, ImportError> {
        let mut index = HashMap::new();
        let mut names = Vec::new();
        let mut unknown = Vec::new();
        for (i, raw) in header.iter().enumerate() {
            let text = std::str::from_utf8(raw).map_err(|_| {
                ImportError::BadHeader(format!("column {} is not UTF-8 text", i + 1))
            })?;
            let name = text
                .trim_start_matches('\u{feff}')
                .trim()
                .to_ascii_lowercase();
            match REQUIRED.iter().chain(OPTIONAL.iter()).find(|c| **c == name) {
                Some(known) => {
                    if index.insert(*known, i).is_some() {
                        return Err(ImportError::RepeatedColumn(name));
                    }
                }
                None if name.is_empty() => {
                    unknown.push(format!("(column {} has no name)", i + 1));
                }
                None => unknown.push(name.chars().take(40).collect()),
            }
            names.push(name);
        }
        if !unknown.is_empty() {
            return Err(ImportError::UnknownColumns(unknown));
        }
        let missing: Vec<String> = REQUIRED
            .iter()
            .filter(|c| !index.contains_key(*c))
            .map(|c| (*c).to_owned())
            .collect();
        if !missing.is_empty() {
            return Err(ImportError::MissingColumns(missing));
        }
        Ok(Columns { index, names })
    }
}

fn problem(column: Option<&str>, code: &'static str, message: impl Into<String>) -> Problem {
    Problem {
        column: column.map(str::to_owned),
        code,
        message: message.into(),
    }
}

/// A row's cells, read as text with their checks (each cell's problems pushed once).
struct Cells<'a> {
    record: &'a csv::ByteRecord,
    columns: &'a Columns,
    problems: Vec<Problem>,
}

impl Cells<'_> {
    /// The trimmed text of a column (empty when the file has no such column).
    fn text(&mut self, column: &'static str) -> Option<String> {
        let &i = self.columns.index.get(column)?;
        let raw = self.record.get(i).unwrap_or_default();
        let limit = if column == "defendants" {
            MAX_DEFENDANTS_BYTES
        } else {
            MAX_CELL_BYTES
        };
        if raw.len() > limit {
            self.problems.push(problem(
                Some(column),
                "too_long",
                format!("is {} bytes; at most {limit}", raw.len()),
            ));
            return None;
        }
        match std::str::from_utf8(raw) {
            Ok(text) if text.chars().any(|c| c.is_control() && c != '\t') => {
                self.problems.push(problem(
                    Some(column),
                    "control_character",
                    "holds a control character",
                ));
                None
            }
            Ok(text) => Some(text.trim().to_owned()).filter(|t| !t.is_empty()),
            Err(_) => {
                self.problems
                    .push(problem(Some(column), "bad_utf8", "is not UTF-8 text"));
                None
            }
        }
    }

    fn required(&mut self, column: &'static str) -> Option<String> {
        let i = self.columns.index.get(column).copied();
        let present = i.is_some_and(|i| {
            self.record
                .get(i)
                .is_some_and(|r| !r.iter().all(u8::is_ascii_whitespace))
        });
        if !present {
            self.problems
                .push(problem(Some(column), "missing_value", "is empty"));
            return None;
        }
        self.text(column)
    }

    fn list(&mut self, column: &'static str) -> Vec<String> {
        let Some(text) = self.text(column) else {
            return Vec::new();
        };
        let values: Vec<String> = text
            .split(';')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect();
        if values.len() > MAX_LIST {
            self.problems.push(problem(
                Some(column),
                "too_many_values",
                format!("has {} values; at most {MAX_LIST}", values.len()),
            ));
            return Vec::new();
        }
        values
    }

    fn date(
        &mut self,
        column: &'static str,
        text: Option<String>,
        today: NaiveDate,
    ) -> Option<NaiveDate> {
        let text = text?;
        match crate::calendar::parse_date(&text) {
            None => {
                self.problems.push(problem(
                    Some(column),
                    "bad_date",
                    "is not a date (YYYY-MM-DD or DD/MM/YYYY)",
                ));
                None
            }
            Some(d) if d > today => {
                self.problems
                    .push(problem(Some(column), "date_in_future", "is after today"));
                None
            }
            Some(d) => Some(d),
        }
    }
}

/// Reads one of our references as written: its canonical form and its form, or a problem.
fn our_reference(raw: &str, rules: &Rules) -> Result<(String, Form), Problem> {
    let column = Some("reference");
    let compact: String = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    if matching::court_number(&compact).is_some() {
        return Err(problem(
            column,
            "court_number_not_reference",
            "is a court claim number, not one of our references (put it in court_ref)",
        ));
    }
    let refs = references::find(&compact, rules);
    let whole = |list: &[String]| list.len() == 1 && list[0] == compact;
    if whole(&refs.claim) {
        Ok((compact, Form::Claim))
    } else if whole(&refs.appeal) {
        Ok((compact, Form::Appeal))
    } else if whole(&refs.foi) {
        if compact.ends_with("/IR") {
            Err(problem(
                column,
                "review_not_case",
                "is an internal review, filed under the FOI request it reviews",
            ))
        } else {
            Ok((compact, Form::Foi))
        }
    } else {
        Err(problem(
            column,
            "bad_reference",
            "is not one of our references (CNST/24/004512, FOI_6405, SHA/23456, REV/1207)",
        ))
    }
}

fn form_fits(kind: Kind, form: Form) -> bool {
    matches!(
        (kind, form),
        (Kind::Claim, Form::Claim)
            | (Kind::Foi, Form::Foi)
            | (Kind::Appeal, Form::Appeal)
            | (Kind::Advice, Form::Claim | Form::Appeal)
    )
}

/// Checks one row; the row's reference (when it could be read) and its case or problems.
fn check_row(
    row: usize,
    record: &csv::ByteRecord,
    columns: &Columns,
    today: NaiveDate,
    rules: &Rules,
) -> (Option<String>, Result<CaseRow, Vec<Problem>>) {
    let mut cells = Cells {
        record,
        columns,
        problems: Vec::new(),
    };
    if record.len() != columns.names.len() {
        cells.problems.push(problem(
            None,
            "wrong_column_count",
            format!(
                "has {} columns; the header has {}",
                record.len(),
                columns.names.len()
            ),
        ));
        return (None, Err(cells.problems));
    }
    let raw_reference = cells.required("reference");
    let reference = match raw_reference.as_deref().map(|r| our_reference(r, rules)) {
        Some(Ok(found)) => Some(found),
        Some(Err(p)) => {
            cells.problems.push(p);
            None
        }
        None => None,
    };
    let kind = match cells.required("kind") {
        Some(text) => {
            let kind = Kind::parse(&text);
            if kind.is_none() {
                cells.problems.push(problem(
                    Some("kind"),
                    "bad_kind",
                    "is not claim, foi, appeal or advice",
                ));
            }
            kind
        }
        None => None,
    };
    if let (Some((_, form)), Some(kind)) = (&reference, kind)
        && !form_fits(kind, *form)
    {
        cells.problems.push(problem(
            Some("reference"),
            "reference_kind_mismatch",
            format!("does not have the form of a {} reference", kind.as_str()),
        ));
    }
    let claimant = cells.required("claimant");
    if let Some(name) = &claimant
        && matching::PersonName::parse(name).is_none()
    {
        cells
            .problems
            .push(problem(Some("claimant"), "bad_name", "has no name in it"));
    }
    let opened_text = cells.required("opened");
    let opened = cells.date("opened", opened_text, today);
    let dob_text = cells.text("date_of_birth");
    let date_of_birth = cells.date("date_of_birth", dob_text, today);
    let defendants = cells.list("defendants");
    let mut court_refs = Vec::new();
    for value in cells.list("court_ref") {
        match matching::court_number(&value) {
            Some(c) if !court_refs.contains(&c) => court_refs.push(c),
            Some(_) => {}
            None => cells.problems.push(problem(
                Some("court_ref"),
                "bad_court_ref",
                "is not a court claim number (KB-2024-001234, QB-2023-000456 or F12YJ456)",
            )),
        }
    }
    let mut nhs_numbers = Vec::new();
    for value in cells.list("nhs_number") {
        match matching::nhs_number(&value) {
            Some(n) if !nhs_numbers.contains(&n) => nhs_numbers.push(n),
            Some(_) => {}
            None => cells.problems.push(problem(
                Some("nhs_number"),
                "bad_nhs_number",
                "is not an NHS number (ten digits with a valid check digit)",
            )),
        }
    }
    let status = match cells.text("status") {
        None => "open".to_owned(),
        Some(s) => {
            let s = s.to_ascii_lowercase().replace([' ', '-'], "_");
            if s.len() > 40 || !s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
                cells.problems.push(problem(
                    Some("status"),
                    "bad_status",
                    "is not one word (open, closed, settled, …)",
                ));
            } else if kind == Some(Kind::Foi) && s != "open" {
                cells.problems.push(problem(
                    Some("status"),
                    "foi_status",
                    "an FOI request is imported open; move it on with `postroom foi move`",
                ));
            }
            s
        }
    };
    let scheme = cells.text("scheme").map(|s| s.to_uppercase());
    if let Some(s) = &scheme {
        if !rules.claim_schemes.contains(s) {
            cells.problems.push(problem(
                Some("scheme"),
                "bad_scheme",
                format!("is not a scheme ({})", rules.claim_schemes.join(", ")),
            ));
        } else if let Some((r, Form::Claim)) = &reference
            && !r.starts_with(&format!("{s}/"))
        {
            cells.problems.push(problem(
                Some("scheme"),
                "scheme_mismatch",
                "differs from the reference's scheme",
            ));
        }
    }
    let scheme = scheme.or_else(|| match &reference {
        Some((r, Form::Claim)) => r.split('/').next().map(str::to_owned),
        _ => None,
    });
    let specialty = cells.text("specialty");
    let shown_reference = reference
        .as_ref()
        .map(|(r, _)| r.clone())
        .or_else(|| raw_reference.map(|r| r.chars().take(64).collect()));
    match (reference, kind, claimant, opened) {
        (Some((reference, _)), Some(kind), Some(claimant), Some(opened))
            if cells.problems.is_empty() =>
        {
            (
                Some(reference.clone()),
                Ok(CaseRow {
                    row,
                    reference,
                    kind,
                    claimant,
                    opened,
                    defendants,
                    court_refs,
                    date_of_birth,
                    nhs_numbers,
                    status,
                    scheme,
                    specialty,
                }),
            )
        }
        _ => (shown_reference, Err(cells.problems)),
    }
}

/// Every row checked, in order: the good ones and the report of the bad ones (in one
/// list, by row). Nothing is written.
fn check_file(
    csv: &[u8],
    today: NaiveDate,
    rules: &Rules,
) -> Result<Vec<(RowReport, Option<CaseRow>)>, ImportError> {
    if csv.len() > MAX_FILE_BYTES {
        return Err(ImportError::TooLarge { size: csv.len() });
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(csv);
    let mut records = reader.byte_records();
    let header = match records.next() {
        None => return Err(ImportError::Empty),
        Some(Err(e)) => return Err(ImportError::BadHeader(e.to_string())),
        Some(Ok(h)) => h,
    };
    let columns = Columns::read(&header)?;
    let mut out = Vec::new();
    let mut first_row_of: HashMap<String, usize> = HashMap::new();
    for (i, record) in records.enumerate() {
        let row = i + 2;
        if i >= MAX_ROWS {
            return Err(ImportError::TooManyRows);
        }
        let report = |reference, status, problems| RowReport {
            row,
            reference,
            status,
            problems,
            documents_filed: 0,
        };
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let message = match e.kind() {
                    csv::ErrorKind::Io(_) => "cannot be read".to_owned(),
                    _ => format!("cannot be read as CSV ({e})"),
                };
                out.push((
                    report(
                        None,
                        RowStatus::Rejected,
                        vec![problem(None, "unreadable_row", message)],
                    ),
                    None,
                ));
                continue;
            }
        };
        // A blank line (one empty cell) is no row.
        if record.len() == 1 && record.get(0).is_some_and(<[u8]>::is_empty) {
            continue;
        }
        match check_row(row, &record, &columns, today, rules) {
            (reference, Ok(case)) => {
                if let Some(first) = first_row_of.get(&case.reference) {
                    let p = problem(
                        Some("reference"),
                        "duplicate_reference",
                        format!("is the reference of row {first} too"),
                    );
                    out.push((report(reference, RowStatus::Rejected, vec![p]), None));
                } else {
                    first_row_of.insert(case.reference.clone(), row);
                    out.push((
                        report(reference, RowStatus::Unchanged, Vec::new()),
                        Some(case),
                    ));
                }
            }
            (reference, Err(problems)) => {
                out.push((report(reference, RowStatus::Rejected, problems), None));
            }
        }
    }
    Ok(out)
}

/// The import use case over a table: checks the whole file, then lands each good row.
pub async fn import(
    table: &dyn Table,
    clock: &dyn Clock,
    calendar: &Calendar,
    csv: &[u8],
    who: &str,
) -> Result<ImportReport, ImportError> {
    let today = crate::calendar::uk_local_date(clock.now());
    let rules = Rules::builtin();
    let checked = check_file(csv, today, rules)?;
    let mut report = ImportReport::default();
    for (mut row, case) in checked {
        if let Some(case) = case {
            let (status, problems) = land(table, clock, calendar, &case, who).await?;
            row.status = status;
            row.problems = problems;
            if status.landed() {
                row.documents_filed = file_waiting(table, clock, &case.reference, who).await?;
            }
        }
        report.rows.push(row);
    }
    let counts = BTreeMap::from([
        ("created", report.created()),
        ("updated", report.updated()),
        ("unchanged", report.unchanged()),
        ("conflict", report.conflicts()),
        ("rejected", report.rejected()),
    ]);
    tracing::info!(
        ?counts,
        documents_filed = report.documents_filed(),
        "cases imported"
    );
    Ok(report)
}

/// Lands one good row: creates its case, or compares it with the case there.
async fn land(
    table: &dyn Table,
    clock: &dyn Clock,
    calendar: &Calendar,
    case: &CaseRow,
    who: &str,
) -> Result<(RowStatus, Vec<Problem>), ImportError> {
    let key = Key::new(keys::case(&case.reference), keys::META);
    for _ in 0..4 {
        let now = clock.now().to_rfc3339_opts(SecondsFormat::Millis, true);
        match table.get(&key).await? {
            None => match create(table, calendar, case, who, &now).await {
                Ok(()) => return Ok((RowStatus::Created, Vec::new())),
                // Opened meanwhile (by a document, or another import): compare again.
                Err(StoreError::ConditionFailed { .. }) => continue,
                Err(e) => return Err(e.into()),
            },
            Some(stored) => {
                let (fill, differ) = compare(case, &stored);
                if !differ.is_empty() {
                    let problems = differ
                        .into_iter()
                        .map(|field| {
                            problem(
                                Some(column_of(field)),
                                "conflict",
                                "differs from the case as stored; the stored value is kept",
                            )
                        })
                        .collect();
                    return Ok((RowStatus::Conflict, problems));
                }
                // Keys first (idempotent), so an unchanged row still finishes what a
                // crash may have left.
                matching::record_keys(table, &case.reference, &case.keys()).await?;
                if fill.is_empty() {
                    return Ok((RowStatus::Unchanged, Vec::new()));
                }
                let Some(stored) = table.get(&key).await? else {
                    continue;
                };
                let version = stored.get("version").and_then(Value::as_u64).unwrap_or(0);
                let mut update = Update::new(key.clone()).set("version", version + 1).when(
                    if stored.contains_key("version") {
                        Condition::VersionEquals(version)
                    } else {
                        Condition::Exists
                    },
                );
                let names: Vec<&str> = fill.iter().map(|(n, _)| *n).collect();
                // A status filled in moves the case in the cases list.
                let mut filled = stored.clone();
                for (name, value) in fill {
                    filled.insert(name.to_owned(), value.clone());
                    update = update.set(name, value);
                }
                if let Some((pk, sk)) = super::listing::listing_keys(&filled) {
                    update = update.set(GSI1_PK, pk).set(GSI1_SK, sk);
                }
                let ops = vec![
                    TxOp::Update(update),
                    crate::model::audit_event(
                        keys::case(&case.reference),
                        &now,
                        1,
                        who,
                        "case_import_updated",
                        json!({"row": case.row, "fields": names}),
                    ),
                ];
                match table.transact(ops).await {
                    Ok(()) => return Ok((RowStatus::Updated, Vec::new())),
                    Err(StoreError::ConditionFailed { .. }) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    Err(ImportError::Store(StoreError::Backend {
        backend: "cases",
        op: "import a case".into(),
        retryable: true,
        source: "conflicting writes did not settle".into(),
    }))
}

/// The CSV column a stored field comes from.
fn column_of(field: &str) -> &str {
    match field {
        "court_refs" => "court_ref",
        "nhs_numbers" => "nhs_number",
        other => other,
    }
}

fn is_empty(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(_) => false,
    }
}

/// The fields the row would fill in (the case lacks them) and those it gives another
/// value than the case has.
fn compare(case: &CaseRow, stored: &Item) -> (Vec<(&'static str, Value)>, Vec<&'static str>) {
    let mut fill = Vec::new();
    let mut differ = Vec::new();
    for (name, value) in case.fields() {
        let current = stored.get(name);
        if is_empty(current) {
            fill.push((name, value));
        } else if current != Some(&value) {
            differ.push(name);
        }
    }
    // `opened` is compared on imported cases only (see the module's notes).
    let opened = case.opened.to_string();
    match stored.get("opened").and_then(Value::as_str) {
        None => fill.push(("opened", json!(opened))),
        Some(day) if !stored.contains_key("opened_by") && day.get(..10) != Some(&opened) => {
            differ.push("opened");
        }
        Some(_) => {}
    }
    (fill, differ)
}

/// Creates the case: its record with its keys, their index entries and the audit
/// event, in one transaction (only if the case is still absent).
async fn create(
    table: &dyn Table,
    calendar: &Calendar,
    case: &CaseRow,
    who: &str,
    now: &str,
) -> Result<(), StoreError> {
    let keys_learned = case.keys();
    let mut item = Item::from_iter([
        ("PK".to_owned(), json!(keys::case(&case.reference))),
        ("SK".to_owned(), json!(keys::META)),
        ("case_ref".to_owned(), json!(case.reference)),
        ("opened".to_owned(), json!(case.opened.to_string())),
        (
            "year".to_owned(),
            json!(case.opened.format("%Y").to_string()),
        ),
        ("imported_by".to_owned(), json!(who)),
        ("imported_at".to_owned(), json!(now)),
        ("match_keys".to_owned(), json!(keys_learned)),
        ("version".to_owned(), json!(1)),
    ]);
    for (name, value) in case.fields() {
        item.insert(name.to_owned(), value);
    }
    let mut item = super::listing::with_listing(item);
    if case.kind == Kind::Foi {
        // The request's clock, started on the day it was opened.
        let opening = crate::foi::service::opening_fields(
            &case.reference,
            case.opened,
            None,
            Some(&case.claimant),
            "",
            "",
            calendar,
        );
        item.extend(opening.fields);
    }
    let mut ops = vec![
        TxOp::Put {
            item,
            condition: Condition::Absent,
        },
        crate::model::audit_event(
            keys::case(&case.reference),
            now,
            0,
            who,
            "case_imported",
            json!({"row": case.row, "kind": case.kind.as_str()}),
        ),
    ];
    ops.extend(keys_learned.iter().map(|k| TxOp::Put {
        item: Item::from_iter([
            ("PK".to_owned(), json!(k.partition())),
            ("SK".to_owned(), json!(keys::case(&case.reference))),
            ("case_ref".to_owned(), json!(case.reference)),
            ("kind".to_owned(), json!(k.kind.as_str())),
        ]),
        condition: Condition::None,
    }));
    table.transact(ops).await
}

/// Files the documents waiting for a case under it (each once, audited as
/// `filed_on_case_import`); one filed meanwhile is left as it is. Returns how many.
async fn file_waiting(
    table: &dyn Table,
    clock: &dyn Clock,
    case_ref: &str,
    who: &str,
) -> Result<usize, ImportError> {
    let waiting = table
        .query_all(&Query::new(keys::waiting(case_ref)))
        .await?;
    let mut filed = 0;
    for entry in waiting {
        let Some(doc_id) = entry.get("doc_id").and_then(Value::as_str) else {
            continue;
        };
        match super::file_unfiled(table, doc_id, case_ref, who, clock, "filed_on_case_import").await
        {
            Ok(()) => filed += 1,
            Err(CaseError::NotUnfiled { .. } | CaseError::NoDocument(_))
            | Err(CaseError::Store(StoreError::ConditionFailed { .. })) => {
                table
                    .delete(&Key::new(keys::waiting(case_ref), doc_id), Condition::None)
                    .await?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(filed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 3, 4).unwrap_or_default()
    }

    /// Each row's number and its problems' columns and codes.
    type Codes = Vec<(usize, Vec<(Option<String>, &'static str)>)>;

    fn codes(csv: &str) -> Codes {
        check_file(csv.as_bytes(), today(), Rules::builtin())
            .expect("readable")
            .into_iter()
            .map(|(r, _)| {
                (
                    r.row,
                    r.problems.into_iter().map(|p| (p.column, p.code)).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn references_must_have_their_kinds_form() {
        let got = codes(
            "reference,kind,claimant,opened\n\
             cnst / 24 / 004512,claim,Jane Smith,2024-01-02\n\
             FOI_6405,claim,Jane Smith,2024-01-02\n\
             KB-2024-001234,claim,Jane Smith,2024-01-02\n\
             SHA/23456,advice,Jane Smith,02/01/2024\n\
             FOI_6405/IR,foi,Jane Smith,2024-01-02\n",
        );
        let reference = Some("reference".to_owned());
        assert_eq!(
            got,
            vec![
                (2, vec![]),
                (3, vec![(reference.clone(), "reference_kind_mismatch")]),
                (4, vec![(reference.clone(), "court_number_not_reference")]),
                (5, vec![]),
                (6, vec![(reference, "review_not_case")]),
            ]
        );
    }

    #[test]
    fn a_bad_header_refuses_the_file() {
        let check = |csv: &str| check_file(csv.as_bytes(), today(), Rules::builtin()).err();
        assert!(matches!(check(""), Some(ImportError::Empty)));
        assert!(matches!(
            check("reference,kind,claimant\n"),
            Some(ImportError::MissingColumns(m)) if m == ["opened"]
        ));
        assert!(matches!(
            check("reference,kind,claimant,opened,date_of_brith\n"),
            Some(ImportError::UnknownColumns(_))
        ));
        assert!(matches!(
            check("reference,kind,kind,claimant,opened\n"),
            Some(ImportError::RepeatedColumn(_))
        ));
    }
}
