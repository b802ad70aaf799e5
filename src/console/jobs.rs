//! The console's long work, as jobs that run outside the request (`crate::jobs`): letter
//! batches from a CSV (checked whole first), claims statistics and the disclosure log;
//! each with a page that shows its progress and, when it is done, its result.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State as Extract};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::State;
use super::authz::Permission;
use super::error::PageError;
use super::forms::Checked;
use super::pages::{self, Chrome};
use super::routes::{Empty, file_response, template_of};
use super::session::Session;
use crate::failure::ErrorCode;
use crate::foi::stats::Dim;
use crate::jobs::{JobProgress, JobSpec};
use postroom_web::disposition;

type St = Extract<Arc<State>>;

/// What a person needs to see and start a job of this kind.
fn permission(spec: &JobSpec) -> Permission {
    match spec {
        JobSpec::LettersBatch { .. } => Permission::SendLetters,
        JobSpec::ClaimsStatistics { .. } | JobSpec::DisclosureLog => Permission::ViewFoi,
        JobSpec::CasesImport => Permission::ImportCases,
    }
}

fn new_id() -> String {
    super::settings::random_token()[..16].to_owned()
}

fn job_href(id: &str) -> String {
    format!("/jobs/{}", pages::segment(id))
}

/// A job's kind and subject, in words.
fn title_of(state: &State, spec: &JobSpec) -> String {
    match spec {
        JobSpec::LettersBatch { template } => {
            let title = state
                .app
                .letters()
                .registry
                .get(template)
                .map(|t| t.spec.title.clone())
                .unwrap_or_else(|_| template.clone());
            format!("Letter batch: {title}")
        }
        JobSpec::ClaimsStatistics { by, from, to, .. } => {
            let by: Vec<&str> = by
                .iter()
                .filter_map(|b| Dim::parse(b).map(Dim::label))
                .collect();
            format!("Claims statistics by {}, {from} to {to}", by.join(" and "))
        }
        JobSpec::DisclosureLog => "The disclosure log".to_owned(),
        JobSpec::CasesImport => "Cases import".to_owned(),
    }
}

// ------------------------------------------------------------------ letter batches

#[derive(Debug, Template)]
#[template(path = "batch_new.html")]
pub struct BatchNew {
    pub chrome: Chrome,
    pub title: String,
    pub back: String,
    pub action: String,
    pub csrf: String,
    pub error: Option<String>,
}

#[derive(Debug, Template)]
#[template(path = "batch_check.html")]
pub struct BatchCheck {
    pub chrome: Chrome,
    pub title: String,
    pub back: String,
    pub rows: usize,
    pub errors: Vec<crate::batches::RowError>,
    pub start_action: String,
    pub csrf: String,
}

/// `GET /letters/{name}/batch`: the CSV upload for a batch.
pub async fn batch_form(
    Extract(state): St,
    session: Session,
    Path(name): Path<String>,
) -> Result<Response, PageError> {
    session.require(Permission::SendLetters)?;
    let t = template_of(&state, &name)?;
    Ok(pages::render(&batch_new(&session, t, None)).into_response())
}

fn batch_new(session: &Session, t: &crate::letters::Template, error: Option<String>) -> BatchNew {
    let seg = pages::segment(&t.spec.name);
    BatchNew {
        chrome: Chrome::of(session, "/letters"),
        title: t.spec.title.clone(),
        back: format!("/letters/{seg}"),
        action: format!("/letters/{seg}/batch"),
        csrf: session.csrf.clone(),
        error,
    }
}

/// `POST /letters/{name}/batch`: checks the whole CSV and lists every problem by row
/// and column; when there is none, records the batch as a job ready to start.
pub async fn batch_check(
    Extract(state): St,
    session: Session,
    Path(name): Path<String>,
    mut multipart: axum::extract::Multipart,
) -> Result<Response, PageError> {
    session.require(Permission::SendLetters)?;
    // FOI letters are the FOI officers' to make (each row is also checked to be an FOI
    // request, and other letters not to be).
    if name.starts_with("foi-") {
        session.require(Permission::MoveFoi)?;
    }
    let t = template_of(&state, &name)?;
    let unreadable = |_| PageError::invalid("The file could not be read. Try again.");
    super::forms::check_first_part(&mut multipart, &session).await?;
    let mut csv = None;
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        if field.name() == Some("csv") {
            csv = Some(field.bytes().await.map_err(unreadable)?);
        }
    }
    let Some(csv) = csv.filter(|c| !c.is_empty()) else {
        let page = batch_new(&session, t, Some("Choose the CSV file".into()));
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, pages::render(&page)).into_response());
    };
    let id = new_id();
    let check = match crate::batches::check(state.app.letters().registry, &name, &csv, &id) {
        Ok(c) => c,
        Err(e) if e.code().http_status() < 500 => {
            let page = batch_new(&session, t, Some(e.to_string()));
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, pages::render(&page)).into_response());
        }
        Err(e) => return Err(e.into()),
    };
    if check.errors.is_empty() {
        state
            .app
            .jobs
            .create_batch(&id, &session.who, &check)
            .await?;
    }
    let seg = pages::segment(&name);
    let status = if check.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = BatchCheck {
        chrome: Chrome::of(&session, "/letters"),
        title: t.spec.title.clone(),
        back: format!("/letters/{seg}/batch"),
        rows: check.rows,
        errors: check.errors,
        start_action: format!("/jobs/{}/start", pages::segment(&id)),
        csrf: session.csrf.clone(),
    };
    Ok((status, pages::render(&page)).into_response())
}

// ------------------------------------------------------------------ any job

#[derive(Debug, Template)]
#[template(path = "job.html")]
pub struct JobPage {
    pub chrome: Chrome,
    pub title: String,
    pub kind: &'static str,
    pub running: bool,
    pub failed_job: bool,
    pub stalled: bool,
    pub total: u64,
    pub done: u64,
    pub failed: u64,
    pub summary: Option<String>,
    pub files: Vec<(String, String)>,
    pub lines: Vec<String>,
    pub resume_action: String,
    pub csrf: String,
}

/// A job as the jobs page lists it.
#[derive(Debug, Clone)]
pub struct JobRow {
    pub href: String,
    pub title: String,
    pub state: String,
    pub progress: String,
    pub created: String,
}

#[derive(Debug, Template)]
#[template(path = "jobs.html")]
pub struct JobsPage {
    pub chrome: Chrome,
    pub rows: Vec<JobRow>,
}

/// A job of this person's that they may still see (their roles may have changed).
async fn own_job(state: &State, session: &Session, id: &str) -> Result<JobProgress, PageError> {
    let p = state
        .app
        .jobs
        .progress(id, &session.who)
        .await?
        .ok_or_else(|| PageError::not_found("job"))?;
    session.require(permission(&p.spec))?;
    Ok(p)
}

/// `POST /jobs/{id}/start`: starts a checked job (once): its steps run in the
/// background here, or through the letters queue on AWS.
pub async fn job_start(
    Extract(state): St,
    Path(id): Path<String>,
    form: Checked<Empty>,
) -> Result<Response, PageError> {
    let session = form.session;
    own_job(&state, &session, &id).await?;
    state.app.start_job(&id, &session.who).await?;
    Ok(Redirect::to(&job_href(&id)).into_response())
}

/// `POST /jobs/{id}/resume`: continues a job whose progress stopped moving.
pub async fn job_resume(
    Extract(state): St,
    Path(id): Path<String>,
    form: Checked<Empty>,
) -> Result<Response, PageError> {
    let session = form.session;
    own_job(&state, &session, &id).await?;
    state.app.resume_job(&id, &session.who).await?;
    Ok(Redirect::to(&job_href(&id)).into_response())
}

/// `GET /jobs/{id}`: a job's progress (refreshing while it runs) and its result.
pub async fn job(
    Extract(state): St,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let p = own_job(&state, &session, &id).await?;
    let seg = pages::segment(&id);
    let page = JobPage {
        chrome: Chrome::of(&session, active_section(&p.spec)),
        title: title_of(&state, &p.spec),
        kind: p.spec.kind(),
        running: !p.is_finished(),
        failed_job: p.state == "failed",
        stalled: state.app.jobs.stalled(&p),
        total: p.total,
        done: p.done,
        failed: p.failed,
        summary: p.summary.clone(),
        files: p
            .files
            .iter()
            .map(|f| {
                (
                    f.clone(),
                    format!("/jobs/{seg}/files/{}", pages::segment(f)),
                )
            })
            .collect(),
        lines: p.lines.clone(),
        resume_action: format!("/jobs/{seg}/resume"),
        csrf: session.csrf.clone(),
    };
    Ok(pages::render(&page).into_response())
}

fn active_section(spec: &JobSpec) -> &'static str {
    match spec {
        JobSpec::LettersBatch { .. } => "/letters",
        JobSpec::CasesImport => "/cases",
        _ => "/foi",
    }
}

/// `GET /jobs/{id}/files/{name}`: a file a finished job made (as an attachment).
pub async fn job_file(
    Extract(state): St,
    session: Session,
    Path((id, name)): Path<(String, String)>,
) -> Result<Response, PageError> {
    own_job(&state, &session, &id).await?;
    let bytes = state
        .app
        .jobs
        .file(&id, &session.who, &name)
        .await?
        .ok_or_else(|| PageError::not_found("file"))?;
    let mime = match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("csv") => "text/csv; charset=utf-8",
        Some("txt") => "text/plain; charset=utf-8",
        Some("json") => "application/json",
        Some("html") => "text/html; charset=utf-8",
        Some("pdf") => "application/pdf",
        _ => "application/octet-stream",
    };
    file_response(&name, disposition::Disposition::Attachment, mime, bytes)
}

/// `GET /jobs`: the person's recent jobs, of the kinds they may see.
pub async fn jobs(Extract(state): St, session: Session) -> Result<Response, PageError> {
    if !(session.can(Permission::SendLetters)
        || session.can(Permission::ViewFoi)
        || session.can(Permission::ImportCases))
    {
        session.require(Permission::SendLetters)?;
    }
    let rows = state
        .app
        .jobs
        .recent(&session.who, 50)
        .await?
        .into_iter()
        .filter(|p| session.can(permission(&p.spec)))
        .map(|p| JobRow {
            href: job_href(&p.id),
            title: title_of(&state, &p.spec),
            state: pages::words(&p.state),
            progress: match &p.spec {
                JobSpec::LettersBatch { .. } => {
                    format!("{} of {} made, {} not made", p.done, p.total, p.failed)
                }
                _ => p.summary.clone().unwrap_or_default(),
            },
            created: pages::when(&p.created),
        })
        .collect();
    let page = JobsPage {
        chrome: Chrome::of(&session, "/jobs"),
        rows,
    };
    Ok(pages::render(&page).into_response())
}

// ------------------------------------------------------------------ statistics

/// The statistics form's fields, as typed.
#[derive(Debug, Clone, Default)]
pub struct StatisticsForm {
    pub by: Vec<String>,
    pub from: String,
    pub to: String,
    pub threshold: String,
}

/// A problem with one field of a form: its id and the message.
#[derive(Debug, Clone)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

#[derive(Debug, Template)]
#[template(path = "foi_statistics.html")]
pub struct StatisticsPage {
    pub chrome: Chrome,
    pub csrf: String,
    /// Each dimension: value, label, whether ticked.
    pub dims: Vec<(&'static str, &'static str, bool)>,
    pub form: StatisticsForm,
    pub errors: Vec<FieldError>,
}

impl StatisticsPage {
    /// The two year fields: id, label, what was typed.
    pub fn years(&self) -> [(&'static str, &'static str, String); 2] {
        [
            ("from", "First year", self.form.from.clone()),
            ("to", "Last year", self.form.to.clone()),
        ]
    }

    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

const DIMS: [Dim; 5] = [
    Dim::Specialty,
    Dim::Cause,
    Dim::Injury,
    Dim::Scheme,
    Dim::Year,
];

fn statistics_page(
    session: &Session,
    form: StatisticsForm,
    errors: Vec<FieldError>,
) -> StatisticsPage {
    StatisticsPage {
        chrome: Chrome::of(session, "/foi"),
        csrf: session.csrf.clone(),
        dims: DIMS
            .iter()
            .map(|d| {
                (
                    d.as_str(),
                    d.label(),
                    form.by.iter().any(|b| b == d.as_str()),
                )
            })
            .collect(),
        form,
        errors,
    }
}

/// `GET /foi/statistics`: the form for a claims statistics table.
pub async fn statistics_form(Extract(state): St, session: Session) -> Result<Response, PageError> {
    session.require(Permission::ViewFoi)?;
    let year = crate::calendar::uk_local_date(state.app.clock.now())
        .format("%Y")
        .to_string();
    let last: i32 = year.parse().unwrap_or(2026) - 1;
    let form = StatisticsForm {
        by: vec!["specialty".into()],
        from: (last - 4).to_string(),
        to: last.to_string(),
        threshold: "5".into(),
    };
    Ok(pages::render(&statistics_page(&session, form, Vec::new())).into_response())
}

/// Reads the statistics form; every problem at once.
fn read_statistics(
    fields: &[(String, String)],
) -> (StatisticsForm, Result<JobSpec, Vec<FieldError>>) {
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let form = StatisticsForm {
        by: fields
            .iter()
            .filter(|(k, _)| k == "by")
            .map(|(_, v)| v.clone())
            .collect(),
        from: get("from"),
        to: get("to"),
        threshold: get("threshold"),
    };
    let mut errors = Vec::new();
    let by: Vec<String> = form
        .by
        .iter()
        .filter(|b| Dim::parse(b).is_some())
        .cloned()
        .collect();
    if by.is_empty() || by.len() != form.by.len() {
        errors.push(FieldError {
            field: "by",
            message: "Select what to count the claims by".into(),
        });
    } else if by.len() > 2 {
        errors.push(FieldError {
            field: "by",
            message: "Select one or two things to count the claims by".into(),
        });
    }
    let year =
        |field: &'static str, text: &str, what: &str, errors: &mut Vec<FieldError>| match text
            .parse::<i32>()
        {
            Ok(y) if (1990..=2100).contains(&y) => Some(y),
            Ok(_) => {
                errors.push(FieldError {
                    field,
                    message: format!("The {what} year must be between 1990 and 2100"),
                });
                None
            }
            Err(_) => {
                errors.push(FieldError {
                    field,
                    message: format!("Enter the {what} year as 4 digits, for example 2021"),
                });
                None
            }
        };
    let from = year("from", &form.from, "first", &mut errors);
    let to = year("to", &form.to, "last", &mut errors);
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        errors.push(FieldError {
            field: "to",
            message: "The last year must be the same as or after the first year".into(),
        });
    }
    let threshold = match form.threshold.parse::<u64>() {
        Ok(n) if (2..=20).contains(&n) => Some(n),
        _ => {
            errors.push(FieldError {
                field: "threshold",
                message: "Enter the smallest count to show, a whole number from 2 to 20".into(),
            });
            None
        }
    };
    let result = match (errors.is_empty(), from, to, threshold) {
        (true, Some(from), Some(to), Some(threshold)) => Ok(JobSpec::ClaimsStatistics {
            by,
            from,
            to,
            threshold,
        }),
        _ => Err(errors),
    };
    (form, result)
}

/// `POST /foi/statistics`: records the table as a job and starts it.
pub async fn statistics_start(
    Extract(state): St,
    form: Checked<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let session = form.session;
    session.require(Permission::ViewFoi)?;
    let (typed, spec) = read_statistics(&form.form);
    match spec {
        Ok(spec) => start_new(&state, &session, &spec).await,
        Err(errors) => {
            let page = statistics_page(&session, typed, errors);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, pages::render(&page)).into_response())
        }
    }
}

async fn start_new(
    state: &State,
    session: &Session,
    spec: &JobSpec,
) -> Result<Response, PageError> {
    let id = new_id();
    state.app.jobs.create(&id, &session.who, spec).await?;
    state.app.start_job(&id, &session.who).await?;
    Ok(Redirect::to(&job_href(&id)).into_response())
}

// ------------------------------------------------------------------ disclosure log

#[derive(Debug, Template)]
#[template(path = "foi_disclosure.html")]
pub struct DisclosurePage {
    pub chrome: Chrome,
    pub csrf: String,
}

/// `GET /foi/disclosure-log`: what building the disclosure log makes, and the button.
pub async fn disclosure_form(session: Session) -> Result<Response, PageError> {
    session.require(Permission::ViewFoi)?;
    let page = DisclosurePage {
        chrome: Chrome::of(&session, "/foi"),
        csrf: session.csrf.clone(),
    };
    Ok(pages::render(&page).into_response())
}

/// `POST /foi/disclosure-log`: builds the disclosure log as a job.
pub async fn disclosure_start(
    Extract(state): St,
    form: Checked<Empty>,
) -> Result<Response, PageError> {
    let session = form.session;
    session.require(Permission::ViewFoi)?;
    start_new(&state, &session, &JobSpec::DisclosureLog).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_good_statistics_form_is_a_job() {
        let (_, spec) = read_statistics(&fields(&[
            ("by", "specialty"),
            ("by", "year"),
            ("from", "2019"),
            ("to", "2023"),
            ("threshold", "5"),
        ]));
        assert_eq!(
            spec.ok(),
            Some(JobSpec::ClaimsStatistics {
                by: vec!["specialty".into(), "year".into()],
                from: 2019,
                to: 2023,
                threshold: 5
            })
        );
    }

    #[test]
    fn every_problem_of_the_statistics_form_is_listed() {
        let (form, spec) = read_statistics(&fields(&[
            ("by", "specialty"),
            ("by", "cause"),
            ("by", "year"),
            ("from", "2023"),
            ("to", "2019"),
            ("threshold", "1"),
        ]));
        let errors = spec.err().unwrap_or_default();
        let named: Vec<&str> = errors.iter().map(|e| e.field).collect();
        assert_eq!(named, ["by", "to", "threshold"]);
        assert_eq!(form.by.len(), 3, "what was typed is kept");
        let (_, spec) = read_statistics(&fields(&[("by", "bogus"), ("from", "x"), ("to", "")]));
        let named: Vec<&str> = spec
            .err()
            .unwrap_or_default()
            .iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(named, ["by", "from", "to", "threshold"]);
    }
}

// ------------------------------------------------------------------ cases import

#[derive(Debug, Template)]
#[template(path = "cases_import.html")]
pub struct ImportPage {
    pub chrome: Chrome,
    pub csrf: String,
    pub error: Option<String>,
}

/// `GET /cases/import`: the form for a CSV of existing cases.
pub async fn import_form(session: Session) -> Result<Response, PageError> {
    session.require(Permission::ImportCases)?;
    let page = ImportPage {
        chrome: Chrome::of(&session, "/cases"),
        csrf: session.csrf.clone(),
        error: None,
    };
    Ok(pages::render(&page).into_response())
}

/// `POST /cases/import`: keeps the file and imports it as a job (every row checked,
/// the good ones landed, the problems listed on the job's page and in its report).
pub async fn import_start(
    Extract(state): St,
    session: Session,
    mut multipart: axum::extract::Multipart,
) -> Result<Response, PageError> {
    session.require(Permission::ImportCases)?;
    let unreadable = |_| PageError::invalid("The file could not be read. Try again.");
    super::forms::check_first_part(&mut multipart, &session).await?;
    let mut csv = None;
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        if field.name() == Some("csv") {
            csv = Some(field.bytes().await.map_err(unreadable)?);
        }
    }
    let Some(csv) = csv.filter(|c| !c.is_empty()) else {
        let page = ImportPage {
            chrome: Chrome::of(&session, "/cases"),
            csrf: session.csrf.clone(),
            error: Some("Choose the CSV file of cases".into()),
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, pages::render(&page)).into_response());
    };
    let id = new_id();
    state.app.jobs.create_import(&id, &session.who, csv).await?;
    state.app.start_job(&id, &session.who).await?;
    Ok(Redirect::to(&job_href(&id)).into_response())
}
