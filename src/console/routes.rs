//! The console's request handlers: each checks the person's session and role (and the
//! object's), calls one use case of the application, records what the audit trail
//! needs, and renders a page. No storage keys and no business rules here.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State as Extract};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::State;
use super::authz::{self, Permission};
use super::error::PageError;
use super::forms::Checked;
use super::pages::{self, *};
use super::session::{self, Session};
use crate::audit::{Object, Source, Subject};
use crate::cases::listing::CaseFilter;
use crate::cases::{CaseError, document_original, document_text};
use crate::failure::Code;
use crate::foi::lifecycle::Status;
use crate::foi::report::{DueState, due_list};
use crate::foi::service::{FoiCase, FoiError, RegisterView};
use crate::views::{CaseEntry, CaseView, DocumentView, EventEntry};
use postroom_web::{assets, disposition};

type St = Extract<Arc<State>>;

/// Documents a page of the inbox lists.
const INBOX_PAGE: u32 = 50;
/// The home page counts unfiled documents up to this many (then "200+": the inbox's
/// pages list them all); counting reads each entry, so the home page stays cheap.
const COUNT_CAP: usize = 200;
/// Characters of a document's text shown on its page.
const TEXT_SHOWN: usize = 20_000;

pub async fn healthz() -> &'static str {
    "ok"
}

#[derive(Deserialize)]
pub struct AssetQuery {
    v: Option<String>,
}

/// An embedded file, with its ETag; cached for a year when asked for by version.
pub async fn asset(
    Path(path): Path<String>,
    Query(q): Query<AssetQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(asset) = assets::find(&path) else {
        return PageError::not_found("file").into_response();
    };
    let cache = if q.v.as_deref() == Some(assets::version()) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let etag = asset.etag();
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let common = [
        (header::ETAG, etag),
        (header::CACHE_CONTROL, cache),
        (header::CONTENT_TYPE, asset.mime),
    ];
    if fresh {
        (StatusCode::NOT_MODIFIED, common).into_response()
    } else {
        (common, asset.bytes).into_response()
    }
}

pub async fn not_found() -> PageError {
    PageError::not_found("page")
}

/// A state-changing request from another site (the `Sec-Fetch-Site`/`Origin` check).
pub fn cross_site_refused(_: tower_http::csrf::ProtectionError) -> Response<Body> {
    tracing::warn!(code = "cross_site_refused", "a cross-site form was refused");
    PageError::new(
        Code::Forbidden,
        "This form came from another website, so it was refused.".into(),
    )
    .into_response()
}

#[derive(Deserialize)]
pub struct SignInQuery {
    token: Option<String>,
}

/// `GET /sign-in?token=…`: a local sign-in link starts a session and goes home (the
/// token leaves the address bar); without a token, how to sign in.
pub async fn sign_in(
    Extract(state): St,
    Query(q): Query<SignInQuery>,
) -> Result<Response, PageError> {
    let Some(token) = q.token else {
        let page = SignIn {
            chrome: Chrome::anonymous(),
            refused: false,
        };
        return Ok(pages::render(&page).into_response());
    };
    let Some(known) = state.settings.tokens.iter().find(|t| t.matches(&token)) else {
        tracing::warn!(code = "sign_in_refused", "a sign-in link was refused");
        let page = SignIn {
            chrome: Chrome::anonymous(),
            refused: true,
        };
        return Ok((StatusCode::FORBIDDEN, pages::render(&page)).into_response());
    };
    let who = format!("console:{}", known.who);
    let cookie = session::start(&state, &who, &known.who, &known.roles).await?;
    let actor = super::oidc::actor(&who, &known.who, &known.roles);
    let method = super::oidc::Method::Token;
    super::oidc::audit(&state, &actor, "signed_in", method, None).await?;
    Ok((
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, "/".to_owned()),
            (
                header::SET_COOKIE,
                session::set_cookie(&state, Some(&cookie)),
            ),
            (header::REFERRER_POLICY, "no-referrer".to_owned()),
        ],
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct Empty {}

/// `POST /sign-out`: ends the session (its cookie opens nothing afterwards), records it,
/// and sends the browser to sign out of the provider too where there is one.
pub async fn sign_out(Extract(state): St, form: Checked<Empty>) -> Result<Response, PageError> {
    let s = &form.session;
    session::end(&state, s).await?;
    let method = super::oidc::Method::of(&s.who);
    super::oidc::audit(&state, &s.actor(), "signed_out", method, None).await?;
    let cleared = session::set_cookie(&state, None);
    match super::oidc::after_sign_out(&state, &s.who).await {
        // The provider is another origin, where a form's answer may not redirect (the
        // policy's form-action): this page says the person has signed out, and the
        // browser goes on to the provider's sign-out without script (a Refresh).
        Some(provider) => Ok((
            [
                (header::REFRESH, format!("0; url={provider}")),
                (header::SET_COOKIE, cleared),
            ],
            pages::render(&SignedOut {
                chrome: Chrome::anonymous(),
            }),
        )
            .into_response()),
        None => Ok((
            StatusCode::SEE_OTHER,
            [
                (header::LOCATION, "/signed-out".to_owned()),
                (header::SET_COOKIE, cleared),
            ],
        )
            .into_response()),
    }
}

pub async fn signed_out() -> Response {
    pages::render(&SignedOut {
        chrome: Chrome::anonymous(),
    })
    .into_response()
}

/// How sure a suggestion is, in words people read (the score is 0 to 1).
fn score_words(score: f64) -> String {
    let how = if score >= 0.8 {
        "strong"
    } else if score >= 0.5 {
        "likely"
    } else {
        "weak"
    };
    format!("{how} match, {:.0}%", score * 100.0)
}

/// A count, with `+` when more were not read.
fn plus(n: usize, more: bool) -> String {
    if more { format!("{n}+") } else { n.to_string() }
}

/// `GET /`: what needs doing now, for the person's roles.
pub async fn home(Extract(state): St, session: Session) -> Result<Response, PageError> {
    let app = &state.app;
    let mut counts = Vec::new();
    if session.can(Permission::Triage) {
        let number = match app.cases.inbox_count(COUNT_CAP).await? {
            Some(n) => n.to_string(),
            None => format!("{COUNT_CAP}+"),
        };
        counts.push(Count {
            href: "/inbox".into(),
            number,
            label: "unfiled documents to triage",
        });
    }
    if session.can(Permission::ViewCases) {
        let deadlines = super::claims::due(&state).await?;
        let overdue = deadlines
            .iter()
            .filter(|r| r.tag.is_some_and(|t| t.1 == "Overdue"))
            .count();
        counts.push(Count {
            href: "/claims/deadlines".into(),
            number: overdue.to_string(),
            label: "claims' deadlines overdue",
        });
        counts.push(Count {
            href: "/claims/deadlines".into(),
            number: (deadlines.len() - overdue).to_string(),
            label: "claims' deadlines due within 14 days",
        });
    }
    let mut due = Vec::new();
    if session.can(Permission::ViewFoi) {
        let (rows, due_more) = foi_rows(&state, FoiView::Due).await?;
        due = rows;
        let overdue = due
            .iter()
            .filter(|r| r.tag.is_some_and(|t| t.1 == "Overdue"))
            .count();
        counts.push(Count {
            href: "/foi?view=overdue".into(),
            number: plus(overdue, due_more),
            label: "FOI requests overdue",
        });
        counts.push(Count {
            href: "/foi?view=due".into(),
            number: plus(due.len() - overdue, due_more),
            label: "FOI requests due within 5 working days",
        });
    }
    if session.can(Permission::SendLetters) {
        let jobs = app.jobs.recent(&session.who, 20).await?;
        let waiting = jobs.iter().filter(|p| !p.is_finished()).count();
        counts.push(Count {
            href: "/jobs".into(),
            number: waiting.to_string(),
            label: "letter batches waiting or running",
        });
    }
    let page = Home {
        chrome: Chrome::of(&session, "/"),
        counts,
        can_foi: session.can(Permission::ViewFoi),
        due,
    };
    Ok(pages::render(&page).into_response())
}

#[derive(Deserialize)]
pub struct InboxQuery {
    after: Option<String>,
    filed: Option<String>,
}

/// `GET /inbox`: the unfiled documents, oldest first, a page at a time.
pub async fn inbox(
    Extract(state): St,
    session: Session,
    Query(q): Query<InboxQuery>,
) -> Result<Response, PageError> {
    session.require(Permission::Triage)?;
    let app = &state.app;
    let page = app.cases.inbox_page(q.after.as_deref(), INBOX_PAGE).await?;
    let mut rows = Vec::with_capacity(page.items.len());
    for entry in page.items {
        let Some(doc_id) = entry.doc_id.clone() else {
            continue;
        };
        let doc = app.cases.document_view(&doc_id).await?;
        let meta = doc.as_ref().and_then(|d| d.details.get("metadata"));
        rows.push(InboxRow {
            href: format!("/documents/{}", pages::segment(&doc_id)),
            file_name: file_name(entry.source.as_deref(), &doc_id),
            doc_type: entry
                .doc_type
                .as_deref()
                .map(pages::words)
                .unwrap_or_else(|| "Not known".into()),
            received: pages::when(&entry.received),
            document_date: doc
                .as_ref()
                .and_then(|d| d.document_date.clone())
                .unwrap_or_else(|| "Not known".into()),
            concerns: meta.map(concerns).unwrap_or_default(),
            reason: entry
                .reason
                .as_deref()
                .map(pages::unfiled_reason)
                .unwrap_or_default(),
            suggested: entry
                .suggestions
                .iter()
                .find(|x| session.can(authz::to_see_case(&x.case_ref)))
                .map(|x| format!("{} ({})", x.case_ref, score_words(x.score))),
        });
    }
    let banner = q
        .filed
        .filter(|r| is_reference(r))
        .map(|r| format!("The document was filed to case {r}."));
    let page = Inbox {
        chrome: Chrome::of(&session, "/inbox").with_banner(banner),
        rows,
        next: page.next.map(|n| format!("/inbox?after={n}")),
        first: q.after.is_none(),
    };
    Ok(pages::render(&page).into_response())
}

/// The last part of a document's source (`s3://bucket/inbox/x/letter.pdf` → `letter.pdf`).
fn file_name(source: Option<&str>, doc_id: &str) -> String {
    source
        .and_then(|s| s.rsplit('/').next())
        .filter(|s| !s.is_empty())
        .unwrap_or(doc_id)
        .to_owned()
}

/// Who a document concerns, from its metadata: the claimant or requester, and the
/// defendants.
fn concerns(meta: &Value) -> String {
    let parties = &meta["parties"];
    let mut names: Vec<String> = ["claimant", "requester"]
        .iter()
        .filter_map(|k| parties[*k].as_str().map(str::to_owned))
        .collect();
    if let Some(defendants) = parties["defendants"].as_array() {
        names.extend(
            defendants
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned),
        );
    }
    names.join("; ")
}

/// Case references as the console accepts them in links and forms.
fn is_reference(r: &str) -> bool {
    !r.is_empty()
        && r.len() <= 40
        && r.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-'))
}

/// A document the person may see, or the reason not: 404 when there is none, 403 when
/// their roles do not reach its case (recorded as a refusal).
async fn document_for(
    state: &State,
    session: &Session,
    doc_id: &str,
) -> Result<DocumentView, PageError> {
    let doc = state
        .app
        .cases
        .document_view(doc_id)
        .await?
        .ok_or_else(|| PageError::not_found("document"))?;
    let need = authz::to_see_document(doc.case_ref.as_deref(), doc.status.as_deref());
    if !session.can(need) {
        state
            .app
            .audit
            .record(
                &session.actor(),
                Object::Document(doc_id),
                "access_refused",
                json!({}),
            )
            .await?;
        return Err(PageError::forbidden());
    }
    Ok(doc)
}

#[derive(Deserialize)]
pub struct DocumentQuery {
    filed: Option<String>,
}

/// `GET /documents/{id}`: its metadata, the original, its text and its history; and,
/// while it is unfiled, the form that files it.
pub async fn document(
    Extract(state): St,
    session: Session,
    Path(doc_id): Path<String>,
    Query(q): Query<DocumentQuery>,
) -> Result<Response, PageError> {
    let doc = document_for(&state, &session, &doc_id).await?;
    state
        .app
        .audit
        .record(
            &session.actor(),
            Object::Document(&doc_id),
            "viewed",
            json!({}),
        )
        .await?;
    let banner = q
        .filed
        .filter(|r| is_reference(r))
        .map(|r| format!("The last document was filed to case {r}."));
    let page = document_page(&state, &session, doc, None, String::new(), banner).await?;
    Ok(pages::render(&page).into_response())
}

async fn document_page(
    state: &State,
    session: &Session,
    doc: DocumentView,
    error: Option<String>,
    typed: String,
    banner: Option<String>,
) -> Result<DocumentPage, PageError> {
    let app = &state.app;
    let doc_id = doc.doc_id.clone();
    let seg = pages::segment(&doc_id);
    let meta = doc.details.get("metadata").cloned().unwrap_or(Value::Null);
    let mut summary = vec![Row::new(
        "Status",
        doc.status.as_deref().map(pages::words).unwrap_or_default(),
    )];
    match &doc.case_ref {
        Some(r) if doc.status.as_deref() != Some("unfiled") => summary.push(Row::link(
            "Case",
            r.clone(),
            format!("/cases/{}", pages::segment(r)),
        )),
        _ => {}
    }
    if let Some(reason) = doc.details.get("reason").and_then(Value::as_str) {
        summary.push(Row::new(
            "Why it is not filed",
            pages::unfiled_reason(reason),
        ));
    }
    if let Some(waiting) = doc.details.get("awaiting_case").and_then(Value::as_str) {
        summary.push(Row::new("It names case", waiting));
    }
    summary.push(Row::new(
        "Type",
        doc.doc_type
            .as_deref()
            .map(pages::words)
            .unwrap_or_else(|| "Not known".into()),
    ));
    if let Some(c) = meta["doc_type_confidence"].as_f64() {
        summary.push(Row::new(
            "Confidence in the type",
            format!("{:.0}%", c * 100.0),
        ));
    }
    summary.push(Row::new(
        "Dated",
        doc.document_date
            .clone()
            .unwrap_or_else(|| "Not known".into()),
    ));
    let who = concerns(&meta);
    if !who.is_empty() {
        summary.push(Row::new("Concerns", who));
    }
    if let Some(solicitor) = meta["parties"]["claimant_solicitor"].as_str() {
        summary.push(Row::new("Claimant's solicitor", solicitor));
    }
    for (label, key) in [
        ("Claim references", "claim"),
        ("Court references", "court"),
        ("FOI references", "foi"),
        ("Appeal references", "appeal"),
    ] {
        let refs: Vec<&str> = meta["references"][key]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if !refs.is_empty() {
            summary.push(Row::new(label, refs.join(", ")));
        }
    }
    if let Some(date) = meta["incident_date"].as_str() {
        summary.push(Row::new("Incident date", date));
    }
    for (label, key) in [
        ("Scheme", "scheme"),
        ("Specialty", "specialty"),
        ("Cause", "cause"),
        ("Injury", "injury"),
    ] {
        if let Some(v) = meta["clinical"][key].as_str() {
            summary.push(Row::new(label, v));
        }
    }
    if let Some(m) = meta["media_type"].as_str() {
        summary.push(Row::new("Format", m));
    }
    if let Some(p) = meta["pages"].as_u64() {
        summary.push(Row::new("Pages", p.to_string()));
    }
    summary.push(Row::new("File", file_name(doc.source.as_deref(), &doc_id)));
    summary.push(Row::new(
        "Received",
        doc.received.as_deref().map(pages::when).unwrap_or_default(),
    ));
    let warnings = meta["warnings"]
        .as_array()
        .map(|w| {
            w.iter()
                .filter_map(|x| x.as_str().or_else(|| x["code"].as_str()))
                .map(|code| match crate::extract::Warning::from_code(code) {
                    Some(w) => w.describe().to_owned(),
                    None => pages::words(code),
                })
                .collect()
        })
        .unwrap_or_default();
    let quarantined = doc.status.as_deref() == Some("quarantined");
    let is_pdf = meta["media_type"].as_str() == Some("application/pdf");
    let text = document_text(app.stores.blobs.as_ref(), &doc_id).await?;
    let (text, text_cut) = match text {
        Some(bytes) => {
            let s = String::from_utf8_lossy(&bytes);
            let cut = s.chars().count() > TEXT_SHOWN;
            (Some(s.chars().take(TEXT_SHOWN).collect::<String>()), cut)
        }
        None => (None, false),
    };
    // The latest events only: each view is one, so a much-read document's whole trail
    // grows without bound (the audit page shows all of it).
    let (history, history_cut) = app
        .audit
        .latest(Object::Document(&doc_id), HISTORY_SHOWN)
        .await?;
    let history = history.into_iter().map(history_row).collect();
    let history_href =
        (history_cut && session.can(Permission::Audit)).then(|| format!("/audit?doc={seg}"));
    let unfiled = doc.status.as_deref() == Some("unfiled");
    let file_form = if unfiled && session.can(Permission::FileDocuments) {
        Some(FileForm {
            action: format!("/inbox/{seg}/file"),
            csrf: session.csrf.clone(),
            case_ref: if typed.is_empty() {
                doc.details
                    .get("awaiting_case")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            } else {
                typed
            },
            error,
            has_next: app.cases.next_unfiled(&doc_id).await?.is_some(),
            suggestions: app
                .cases
                .suggestions(&doc_id)
                .await?
                .unwrap_or_default()
                .into_iter()
                .filter(|x| session.can(authz::to_see_case(&x.case_ref)))
                .map(|x| {
                    let why: Vec<String> = x.reasons.iter().map(|r| r.words.clone()).collect();
                    (x.case_ref, score_words(x.score), why.join("; "))
                })
                .collect(),
        })
    } else {
        None
    };
    let back = if unfiled {
        ("/inbox".to_owned(), "Inbox")
    } else {
        match &doc.case_ref {
            Some(r) => (format!("/cases/{}", pages::segment(r)), "The case"),
            None => ("/".to_owned(), "Home"),
        }
    };
    Ok(DocumentPage {
        chrome: Chrome::of(session, if unfiled { "/inbox" } else { "/cases" }).with_banner(banner),
        title: file_name(doc.source.as_deref(), &doc_id),
        doc_id,
        summary,
        warnings,
        original_href: (!quarantined).then(|| format!("/documents/{seg}/original")),
        preview_href: (!quarantined && is_pdf).then(|| format!("/documents/{seg}/original")),
        text,
        text_cut,
        text_href: format!("/documents/{seg}/text"),
        history,
        history_cut,
        history_href,
        file_form,
        back,
    })
}

/// The most events a document's page lists (the latest).
const HISTORY_SHOWN: u32 = 50;

fn history_row(e: EventEntry) -> HistoryRow {
    HistoryRow {
        at: e.at.as_deref().map(pages::when).unwrap_or_default(),
        who: e.who.unwrap_or_default(),
        what: e.what.as_deref().map(pages::words).unwrap_or_default(),
    }
}

#[derive(Deserialize)]
pub struct FileDocumentForm {
    #[serde(default)]
    case_ref: String,
    #[serde(default)]
    then: String,
}

/// `POST /inbox/{id}/file`: files an unfiled document to a case (audited by the use
/// case with the person), then shows the next one or the inbox.
pub async fn file_document(
    Extract(state): St,
    Path(doc_id): Path<String>,
    form: Checked<FileDocumentForm>,
) -> Result<Response, PageError> {
    let Checked { session, form } = form;
    session.require(Permission::FileDocuments)?;
    let doc = document_for(&state, &session, &doc_id).await?;
    let case_ref = form.case_ref.trim().to_owned();
    let problem = if case_ref.is_empty() {
        Some("Enter the case reference".to_owned())
    } else if !is_reference(&case_ref) {
        Some("Enter a case reference such as CNST/24/004512".to_owned())
    } else if !session.can(authz::to_see_case(&case_ref)) {
        Some("Your role cannot file to that kind of case".to_owned())
    } else {
        match state
            .app
            .cases
            .file(&doc_id, &case_ref, Some(&session.who))
            .await
        {
            Ok(()) => None,
            Err(CaseError::NoCase(_)) => {
                Some(format!("There is no case {case_ref}: check the reference"))
            }
            Err(e) => return Err(e.into()),
        }
    };
    if let Some(problem) = problem {
        let page = document_page(&state, &session, doc, Some(problem), case_ref, None).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, pages::render(&page)).into_response());
    }
    let filed = pages::segment(&case_ref);
    let to = match (
        form.then.as_str(),
        state.app.cases.next_unfiled(&doc_id).await?,
    ) {
        ("next", Some(next)) => format!("/documents/{}?filed={filed}", pages::segment(&next)),
        _ => format!("/inbox?filed={filed}"),
    };
    Ok(Redirect::to(&to).into_response())
}

/// `GET /documents/{id}/original`: the bytes as they arrived, a PDF shown inline and
/// anything else downloaded, with a safe name; recorded before it is sent.
pub async fn original(
    Extract(state): St,
    session: Session,
    Path(doc_id): Path<String>,
) -> Result<Response, PageError> {
    let doc = document_for(&state, &session, &doc_id).await?;
    let bytes = document_original(state.app.stores.blobs.as_ref(), state.app.bucket(), &doc)
        .await?
        .ok_or_else(|| {
            PageError::new(
                Code::NotFound,
                "The original of this document is not available.".into(),
            )
        })?;
    state
        .app
        .audit
        .record(
            &session.actor(),
            Object::Document(&doc_id),
            "downloaded",
            json!({}),
        )
        .await?;
    let media = crate::extract::detect(&bytes);
    let is_pdf = matches!(media, crate::extract::MediaType::Pdf);
    let name = file_name(doc.source.as_deref(), &doc_id);
    let (how, mime) = if is_pdf {
        (disposition::Disposition::Inline, "application/pdf")
    } else {
        (
            disposition::Disposition::Attachment,
            "application/octet-stream",
        )
    };
    file_response(&name, how, mime, bytes)
}

/// A file sent to the browser: its type, a safe name, and a policy that runs nothing in
/// it (a PDF is shown framed in our own page only).
pub(super) fn file_response(
    name: &str,
    how: disposition::Disposition,
    mime: &'static str,
    bytes: impl IntoResponse,
) -> Result<Response, PageError> {
    let value = disposition::content_disposition(name, how);
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&value).map_err(|_| PageError::invalid("bad file name"))?,
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; frame-ancestors 'self'; sandbox"),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// `GET /documents/{id}/text`: the whole extracted text, as plain text.
pub async fn text(
    Extract(state): St,
    session: Session,
    Path(doc_id): Path<String>,
) -> Result<Response, PageError> {
    document_for(&state, &session, &doc_id).await?;
    let text = document_text(state.app.stores.blobs.as_ref(), &doc_id)
        .await?
        .ok_or_else(|| PageError::not_found("text for this document"))?;
    state
        .app
        .audit
        .record(
            &session.actor(),
            Object::Document(&doc_id),
            "viewed_text",
            json!({}),
        )
        .await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

#[derive(Deserialize)]
pub struct CasesQuery {
    kind: Option<String>,
    status: Option<String>,
    after: Option<String>,
}

/// Cases a page of the cases list.
const CASES_PAGE: u32 = 50;

const KINDS: &[(&str, &str)] = &[
    ("", "All"),
    ("claim", "Claims"),
    ("appeal", "Appeals"),
    ("advice", "Advice"),
];
const STATUSES: &[(&str, &str)] = &[("", "Any"), ("open", "Open"), ("closed", "Closed")];

/// A list's next page: `path` with the filters given (empty ones left out) and `after`.
fn next_page_link(path: &str, filters: &[(&str, &str)], after: &str) -> String {
    let pairs = filters
        .iter()
        .copied()
        .filter(|(_, v)| !v.is_empty())
        .chain([("after", after)])
        .collect::<Vec<_>>();
    format!(
        "{path}?{}",
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    )
}

fn choices(all: &'static [(&'static str, &'static str)], chosen: &str) -> Vec<Choice> {
    all.iter()
        .map(|(value, label)| Choice {
            value,
            label,
            selected: *value == chosen,
        })
        .collect()
}

/// `GET /cases`: claims, appeals and advice cases, filtered by kind and status, a page
/// at a time from the cases list's index.
pub async fn cases(
    Extract(state): St,
    session: Session,
    Query(q): Query<CasesQuery>,
) -> Result<Response, PageError> {
    session.require(Permission::ViewCases)?;
    let kind = q.kind.unwrap_or_default();
    let status = q.status.unwrap_or_default();
    let filter = CaseFilter {
        kind: (!kind.is_empty()).then(|| kind.clone()),
        status: (!status.is_empty()).then(|| status.clone()),
    };
    let page = state
        .app
        .cases
        .page(&filter, q.after.as_deref(), CASES_PAGE)
        .await?;
    let rows = page
        .items
        .into_iter()
        .map(|c| CaseRow {
            href: format!("/cases/{}", pages::segment(&c.case_ref)),
            opened: c.opened_day().unwrap_or("").to_owned(),
            reference: c.case_ref,
            kind: c.kind.as_deref().map(pages::words).unwrap_or_default(),
            status: c.status.as_deref().map(pages::words).unwrap_or_default(),
        })
        .collect();
    let next = page.next.map(|after| {
        next_page_link(
            "/cases",
            &[("kind", kind.as_str()), ("status", status.as_str())],
            &after,
        )
    });
    let page = pages::Cases {
        can_import: session.can(Permission::ImportCases),
        chrome: Chrome::of(&session, "/cases"),
        kinds: choices(KINDS, &kind),
        status: choices(STATUSES, &status),
        rows,
        next,
        first_page: q.after.is_none(),
    };
    Ok(pages::render(&page).into_response())
}

fn documents_of(view: &CaseView) -> Vec<DocRow> {
    view.documents()
        .filter_map(|d| {
            let id = d.doc_id.clone()?;
            Some(DocRow {
                href: format!("/documents/{}", pages::segment(&id)),
                name: file_name(d.source.as_deref(), &id),
                doc_type: d.doc_type.as_deref().map(pages::words).unwrap_or_default(),
                date: d.document_date.clone().unwrap_or_default(),
            })
        })
        .collect()
}

fn letters_of(view: &CaseView) -> Vec<LetterRow> {
    let case = pages::segment(&view.case.case_ref);
    view.letters()
        .map(|l| LetterRow {
            href: l
                .letter_id
                .as_deref()
                .filter(|_| l.s3_key.is_some())
                .map(|id| format!("/cases/{case}/letters/{}", pages::segment(id))),
            template: l.template.as_deref().map(pages::words).unwrap_or_default(),
            status: l.status.as_deref().map(pages::words).unwrap_or_default(),
            created: l.created_at.as_deref().map(pages::when).unwrap_or_default(),
        })
        .collect()
}

fn events_of(view: &CaseView) -> Vec<HistoryRow> {
    view.entries
        .iter()
        .filter_map(|e| match e {
            CaseEntry::Event(e) => Some(history_row(e.clone())),
            _ => None,
        })
        .collect()
}

/// `GET /cases/{ref}`: a case with its documents, letters, deadlines and timeline.
pub async fn case(
    Extract(state): St,
    session: Session,
    Path(case_ref): Path<String>,
) -> Result<Response, PageError> {
    let foi_request = authz::to_see_case(&case_ref) == Permission::ViewFoi;
    if foi_request {
        return Ok(Redirect::to(&format!("/foi/{}", pages::segment(&case_ref))).into_response());
    }
    session.require(Permission::ViewCases)?;
    case_page(&state, &session, &case_ref, None).await
}

/// A case's page (audited as viewed), with a claim form sent back when `refused`.
pub(super) async fn case_page(
    state: &State,
    session: &Session,
    case_ref: &str,
    refused: Option<super::claims::Refused>,
) -> Result<Response, PageError> {
    let view = state
        .app
        .cases
        .view(case_ref)
        .await?
        .ok_or_else(|| PageError::not_found("case"))?;
    state
        .app
        .audit
        .record(
            &session.actor(),
            Object::Case(case_ref),
            "viewed_case",
            json!({}),
        )
        .await?;
    let s = &view.case;
    let summary = vec![
        Row::new(
            "Kind",
            s.kind.as_deref().map(pages::words).unwrap_or_default(),
        ),
        Row::new(
            "Status",
            s.status.as_deref().map(pages::words).unwrap_or_default(),
        ),
        Row::new("Opened", s.opened_day().unwrap_or("").to_owned()),
    ];
    let mut claim = super::claims::section(state, session, case_ref).await?;
    let error = refused.as_ref().map(|r| FormError {
        title: "There is a problem",
        message: r.message.clone(),
        href: format!("#{}", r.field),
    });
    claim.refused = refused;
    let page = CasePage {
        chrome: Chrome::of(session, "/cases"),
        claim,
        error,
        reference: case_ref.to_owned(),
        summary,
        documents: documents_of(&view),
        letters: letters_of(&view),
        csrf: session.csrf.clone(),
        timeline: events_of(&view),
        timeline_full: view
            .entries
            .iter()
            .filter(|e| matches!(e, crate::views::CaseEntry::Event(_)))
            .count()
            >= crate::cases::CASE_EVENTS_SHOWN,
    };
    Ok(pages::render(&page).into_response())
}

/// Which requests the register shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FoiView {
    /// Overdue or due within 5 working days.
    Due,
    Overdue,
    /// Every request awaiting a response or a review, by due date.
    Open,
    Closed,
}

const FOI_VIEWS: &[(&str, &str)] = &[
    ("open", "Open, by due date"),
    ("due", "Due soon or overdue"),
    ("overdue", "Overdue"),
    ("closed", "Answered and closed"),
];

/// The home page lists at most this many requests due soon or overdue.
const REGISTER_ROWS: u32 = 200;

/// The register shows this many requests a page.
const REGISTER_PAGE: u32 = 50;

/// The home page's rows: the requests overdue or due within 5 working days (at most
/// [`REGISTER_ROWS`], read from the index up to the cut-off date only), and whether more
/// are waiting.
async fn foi_rows(state: &State, view: FoiView) -> Result<(Vec<FoiRow>, bool), PageError> {
    let page = state
        .app
        .foi
        .register_page(
            crate::foi::service::RegisterView::Due {
                within: crate::views::DUE_SOON_DAYS,
            },
            None,
            REGISTER_ROWS,
        )
        .await?;
    let rows = pending_rows(state, &page.items, view, true);
    Ok((rows, page.next.is_some()))
}

/// The rows of requests awaiting an answer that `view` shows, with working days left
/// and tags; re-sorted by due date when `by_due`, else in the order given.
fn pending_rows(state: &State, pending: &[FoiCase], view: FoiView, by_due: bool) -> Vec<FoiRow> {
    let foi = &state.app.foi;
    let today = foi.today();
    let titles: std::collections::HashMap<&str, &str> = pending
        .iter()
        .map(|c| (c.request.reference.as_str(), c.title.as_str()))
        .collect();
    let within = match view {
        FoiView::Due => Some(crate::views::DUE_SOON_DAYS),
        FoiView::Overdue => Some(0),
        _ => None,
    };
    let mut list = due_list(pending, today, within, &foi.calendar);
    if by_due {
        list.sort_by(|a, b| a.due.cmp(&b.due).then(a.reference.cmp(&b.reference)));
    }
    list.into_iter()
        .filter(|e| view != FoiView::Overdue || matches!(e.state, DueState::Overdue))
        .map(|e| {
            let (left, tag) = match &e.state {
                DueState::Overdue => (String::new(), Some(("govuk-tag--red", "Overdue"))),
                DueState::ClockNotStarted { code } => (
                    pages::words(code),
                    Some(("govuk-tag--grey", "Check the dates")),
                ),
                DueState::Pending {
                    working_days_left: Some(n),
                } => (
                    n.to_string(),
                    (*n <= crate::views::DUE_SOON_DAYS)
                        .then_some(("govuk-tag--yellow", "Due soon")),
                ),
                DueState::Pending {
                    working_days_left: None,
                } => ("Clock paused".into(), None),
            };
            FoiRow {
                href: format!("/foi/{}", pages::segment(&e.reference)),
                title: titles
                    .get(e.reference.as_str())
                    .copied()
                    .unwrap_or("")
                    .to_owned(),
                reference: e.reference,
                status: pages::words(e.status.as_str()),
                received: e.received.to_string(),
                due: e.due.map(|d| d.to_string()).unwrap_or_default(),
                left,
                tag,
            }
        })
        .collect()
}

/// The rows of answered or closed requests, in the order given.
fn closed_rows(cases: &[FoiCase]) -> Vec<FoiRow> {
    cases
        .iter()
        .map(|c| FoiRow {
            href: format!("/foi/{}", pages::segment(&c.request.reference)),
            reference: c.request.reference.clone(),
            title: c.title.clone(),
            status: pages::words(c.request.status.as_str()),
            received: c.request.received.to_string(),
            due: c.request.due.map(|d| d.to_string()).unwrap_or_default(),
            left: String::new(),
            tag: None,
        })
        .collect()
}

#[derive(Deserialize)]
pub struct FoiQuery {
    view: Option<String>,
    after: Option<String>,
}

/// `GET /foi`: the register by due date, with working days left and overdue flagged, a
/// page at a time.
pub async fn foi_register(
    Extract(state): St,
    session: Session,
    Query(q): Query<FoiQuery>,
) -> Result<Response, PageError> {
    session.require(Permission::ViewFoi)?;
    let chosen = q.view.unwrap_or_else(|| "open".into());
    let (view, register) = match chosen.as_str() {
        "due" => (
            FoiView::Due,
            RegisterView::Due {
                within: crate::views::DUE_SOON_DAYS,
            },
        ),
        "overdue" => (FoiView::Overdue, RegisterView::Overdue),
        "closed" => (FoiView::Closed, RegisterView::Closed),
        "open" => (FoiView::Open, RegisterView::Open),
        _ => return Err(PageError::invalid("There is no such view of the register.")),
    };
    let page = state
        .app
        .foi
        .register_page(register, q.after.as_deref(), REGISTER_PAGE)
        .await
        .map_err(|e| match e {
            // A position it did not give, in its own shape or the store's.
            FoiError::Invalid(_) | FoiError::Store(crate::store::StoreError::Invalid { .. }) => {
                PageError::invalid(
                    "This page of the register does not exist. Go back to its first page.",
                )
            }
            e => e.into(),
        })?;
    let rows = if view == FoiView::Closed {
        closed_rows(&page.items)
    } else {
        pending_rows(&state, &page.items, view, false)
    };
    let page = FoiRegister {
        chrome: Chrome::of(&session, "/foi"),
        can_log: session.can(Permission::MoveFoi),
        views: choices(FOI_VIEWS, &chosen),
        rows,
        next: page
            .next
            .map(|n| format!("/foi?view={}&after={n}", register.name())),
        first: q.after.is_none(),
    };
    Ok(pages::render(&page).into_response())
}

#[derive(Deserialize)]
pub struct MovedQuery {
    moved: Option<String>,
    published: Option<String>,
}

/// `GET /foi/{ref}`: one request, its clock, the moves its status allows, documents,
/// letters and history.
pub async fn foi_request(
    Extract(state): St,
    session: Session,
    Path(reference): Path<String>,
    Query(q): Query<MovedQuery>,
) -> Result<Response, PageError> {
    let banner = match (q.moved, q.published) {
        (_, Some(_)) => Some("The response was published to the disclosure log.".to_owned()),
        (Some(name), _) if name == "letter" => {
            Some("The letter was made: it is listed under Letters.".to_owned())
        }
        (Some(name), _) => MOVES
            .iter()
            .find(|m| m.name == name)
            .map(|m| format!("Done: {}.", m.label.to_lowercase())),
        _ => None,
    };
    Ok(foi_request_page(&state, &session, &reference, None, banner)
        .await?
        .into_response())
}

/// A form on a request's page that was refused, and why.
enum Refusal {
    /// A move: its name, the field in error (`""` for none) and the message.
    Move {
        name: String,
        field: &'static str,
        message: String,
    },
    /// A letter that was not made.
    Letter(String),
}

async fn foi_request_page(
    state: &State,
    session: &Session,
    reference: &str,
    refusal: Option<Refusal>,
    banner: Option<String>,
) -> Result<axum::response::Html<String>, PageError> {
    session.require(Permission::ViewFoi)?;
    let app = &state.app;
    let request = app
        .cases
        .foi_request(&app.foi, reference)
        .await?
        .ok_or_else(|| PageError::not_found("FOI request"))?;
    // The requester's name and words are on the page: the view is recorded, as a case's.
    app.audit
        .record(
            &session.actor(),
            Object::Case(reference),
            "viewed_case",
            json!({}),
        )
        .await?;
    let case_view = app.cases.view(reference).await?;
    let r = &request.case.request;
    let mut summary = vec![
        Row::new("Status", pages::words(r.status.as_str())),
        Row::new(
            "Requester",
            request.case.requester.clone().unwrap_or_default(),
        ),
        Row::new("Received", r.received.to_string()),
        Row::new(
            "Response due",
            r.due
                .map(|d| d.to_string())
                .unwrap_or_else(|| "Clock paused".into()),
        ),
    ];
    if r.pit_extension > 0 {
        summary.push(Row::new(
            "Extended by",
            format!("{} working days", r.pit_extension),
        ));
    }
    if let Some(d) = r.responded {
        summary.push(Row::new("Responded", d.to_string()));
    }
    if let Some(o) = r.outcome {
        summary.push(Row::new("Outcome", outcome_label(o)));
    }
    if let Some(d) = r.review_due {
        summary.push(Row::new("Review due", d.to_string()));
    }
    let tag = if request.overdue {
        Some(("govuk-tag--red", "Overdue"))
    } else if request.due_soon {
        Some(("govuk-tag--yellow", "Due soon"))
    } else {
        None
    };
    let today = app.foi.today().to_string();
    let publishable = matches!(
        r.status,
        Status::Responded | Status::ReviewDecided | Status::Closed
    ) && r.outcome.is_some();
    let mut moves = moves_for(session, reference, r.status, &today);
    // The summary links to the field in error, in its move's form, shown open.
    let error = refusal.map(|refusal| match refusal {
        Refusal::Move {
            name,
            field,
            message,
        } => match moves.iter_mut().find(|m| m.name == name) {
            Some(m) if m.has_field(field) => {
                m.open = true;
                m.error_field = field;
                m.error = message.clone();
                FormError {
                    title: "The request was not moved",
                    href: format!("#{}-{field}", m.name),
                    message,
                }
            }
            _ => FormError {
                title: "The request was not moved",
                href: "#moves".into(),
                message,
            },
        },
        Refusal::Letter(message) => FormError {
            title: "The letter was not made",
            href: "#letters".into(),
            message,
        },
    });
    let page = FoiRequest {
        chrome: Chrome::of(session, "/foi").with_banner(banner),
        error,
        moves,
        publish_href: (publishable && session.can(Permission::PublishFoi))
            .then(|| format!("/foi/{}/publish", pages::segment(reference))),
        drafts: session.can(Permission::MoveFoi).then(|| DraftForms {
            csrf: session.csrf.clone(),
            acknowledgement: format!("/foi/{}/letters/acknowledgement", pages::segment(reference)),
            response: (r
                .outcome
                .is_some_and(|o| o != crate::foi::lifecycle::Outcome::Withdrawn))
            .then(|| format!("/foi/{}/letters/response", pages::segment(reference))),
        }),
        title: request.case.title.clone(),
        tag,
        summary,
        request_text: request.case.request_text.clone(),
        documents: case_view.as_ref().map(documents_of).unwrap_or_default(),
        letters: case_view.as_ref().map(letters_of).unwrap_or_default(),
        history: case_view.as_ref().map(events_of).unwrap_or_default(),
        reference: reference.to_owned(),
    };
    Ok(pages::render(&page))
}

/// `GET /foi/new`: the form that logs a request by hand.
pub async fn foi_new(session: Session) -> Result<Response, PageError> {
    session.require(Permission::MoveFoi)?;
    let page = FoiNew {
        chrome: Chrome::of(&session, "/foi"),
        csrf: session.csrf.clone(),
        requester: String::new(),
        received: String::new(),
        text: String::new(),
        errors: Vec::new(),
    };
    Ok(pages::render(&page).into_response())
}

#[derive(Deserialize)]
pub struct NewRequestForm {
    #[serde(default)]
    requester: String,
    #[serde(default)]
    received: String,
    #[serde(default)]
    text: String,
}

/// `POST /foi`: logs a request (the next `FOI_` reference, its clock started), or the
/// form again with every problem at once.
pub async fn foi_create(
    Extract(state): St,
    form: Checked<NewRequestForm>,
) -> Result<Response, PageError> {
    let Checked { session, form } = form;
    session.require(Permission::MoveFoi)?;
    let mut errors = Vec::new();
    if form.requester.trim().is_empty() {
        errors.push(("requester", "Enter who asked".to_owned()));
    }
    let received = if form.received.trim().is_empty() {
        Some(state.app.foi.today())
    } else {
        let d = crate::calendar::parse_date(form.received.trim());
        if d.is_none() {
            errors.push((
                "received",
                "Enter the date as year-month-day, for example 2026-12-04".to_owned(),
            ));
        }
        d
    };
    if form.text.trim().is_empty() {
        errors.push(("text", "Enter what they asked for".to_owned()));
    }
    if errors.is_empty() {
        let new = crate::foi::service::NewRequest {
            requester: form.requester.trim().to_owned(),
            request_text: form.text.clone(),
            received,
            title: None,
            source_doc: None,
        };
        match state.app.foi.acting_as(&session.who).open(new).await {
            Ok(case) => {
                let to = format!("/foi/{}", pages::segment(&case.request.reference));
                return Ok(Redirect::to(&to).into_response());
            }
            Err(e) if crate::failure::ErrorCode::code(&e).http_status() < 500 => {
                errors.push(("received", e.to_string()));
            }
            Err(e) => return Err(e.into()),
        }
    }
    let page = FoiNew {
        chrome: Chrome::of(&session, "/foi"),
        csrf: session.csrf.clone(),
        requester: form.requester,
        received: form.received,
        text: form.text,
        errors,
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, pages::render(&page)).into_response())
}

/// The publication review: exactly what the disclosure log will show, with what was
/// removed and what to check. `store` publishes it.
async fn publication(
    state: &State,
    session: &Session,
    reference: &str,
    store: bool,
) -> Result<crate::foi::service::Publication, PageError> {
    session.require(Permission::PublishFoi)?;
    let registry = state.app.letters().registry;
    Ok(state
        .app
        .foi
        .acting_as(&session.who)
        .publish_reviewed(reference, registry, store)
        .await?)
}

fn review_page(
    session: &Session,
    reference: &str,
    p: crate::foi::service::Publication,
    error: Option<String>,
) -> FoiPublish {
    FoiPublish {
        chrome: Chrome::of(session, "/foi"),
        reference: reference.to_owned(),
        title: p.entry.title,
        date: p.entry.date,
        outcome: pages::words(&p.entry.outcome),
        fields: p
            .review
            .into_iter()
            .map(|f| ReviewField {
                field: pages::words(&f.field),
                public: f.public,
                removed: f
                    .removed
                    .into_iter()
                    .map(|r| (pages::words(r.kind), r.text))
                    .collect(),
                check: f.kept_for_review,
            })
            .collect(),
        action: format!("/foi/{}/publish", pages::segment(reference)),
        csrf: session.csrf.clone(),
        error,
    }
}

/// `GET /foi/{ref}/publish`: the redaction review (nothing is written).
pub async fn foi_publish_review(
    Extract(state): St,
    session: Session,
    Path(reference): Path<String>,
) -> Result<Response, PageError> {
    let p = publication(&state, &session, &reference, false).await?;
    Ok(pages::render(&review_page(&session, &reference, p, None)).into_response())
}

#[derive(Deserialize)]
pub struct PublishForm {
    #[serde(default)]
    checked: String,
}

/// `POST /foi/{ref}/publish`: publishes after the reviewer confirms the check.
pub async fn foi_publish(
    Extract(state): St,
    Path(reference): Path<String>,
    form: Checked<PublishForm>,
) -> Result<Response, PageError> {
    let Checked { session, form } = form;
    if form.checked != "yes" {
        let p = publication(&state, &session, &reference, false).await?;
        let page = review_page(
            &session,
            &reference,
            p,
            Some("Confirm that you have checked the text before publishing".into()),
        );
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, pages::render(&page)).into_response());
    }
    publication(&state, &session, &reference, true).await?;
    state
        .app
        .audit
        .record(
            &session.actor(),
            Object::Case(&reference),
            "published",
            json!({}),
        )
        .await?;
    let to = format!("/foi/{}?published=1", pages::segment(&reference));
    Ok(Redirect::to(&to).into_response())
}

/// The lifecycle moves the console offers: name, label, hint, and which fields each
/// form needs (days, reason, outcome, exemptions, review result).
struct Move {
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    fields: &'static [&'static str],
}

const MOVES: &[Move] = &[
    Move {
        name: "acknowledge",
        label: "Acknowledge",
        hint: "",
        fields: &[],
    },
    Move {
        name: "start_work",
        label: "Start work",
        hint: "",
        fields: &[],
    },
    Move {
        name: "request_clarification",
        label: "Ask for clarification",
        hint: "The clock stops until the answer arrives.",
        fields: &[],
    },
    Move {
        name: "clarification_received",
        label: "Clarification received",
        hint: "The 20 working days start again from the next working day.",
        fields: &[],
    },
    Move {
        name: "issue_fee_notice",
        label: "Send a fees notice",
        hint: "The clock stops until the fee is paid.",
        fields: &[],
    },
    Move {
        name: "fee_paid",
        label: "Fee paid",
        hint: "",
        fields: &[],
    },
    Move {
        name: "extend_for_public_interest",
        label: "Extend for the public interest test",
        hint: "A deadline change: give the reason.",
        fields: &["days", "reason"],
    },
    Move {
        name: "respond",
        label: "Respond",
        hint: "",
        fields: &["outcome", "exemptions"],
    },
    Move {
        name: "request_review",
        label: "Internal review requested",
        hint: "",
        fields: &[],
    },
    Move {
        name: "extend_review",
        label: "Extend the internal review",
        hint: "A deadline change: give the reason.",
        fields: &["days", "reason"],
    },
    Move {
        name: "decide_review",
        label: "Decide the internal review",
        hint: "",
        fields: &["result"],
    },
    Move {
        name: "close",
        label: "Close",
        hint: "",
        fields: &[],
    },
    Move {
        name: "note_complaint",
        label: "Note a complaint to the ICO",
        hint: "",
        fields: &[],
    },
];

/// A form's fields as the lifecycle command they describe (`name` is the move), or the
/// field in error (`""` when none is) and what is wrong with it.
fn command_of(
    name: &str,
    form: &MoveFields,
) -> Result<crate::foi::lifecycle::Command, (&'static str, String)> {
    let spec = MOVES
        .iter()
        .find(|m| m.name == name)
        .ok_or(("", "There is no such move.".to_owned()))?;
    let on = crate::calendar::parse_date(form.on.trim()).ok_or_else(|| {
        (
            "on",
            "Enter the date as year-month-day, for example 2026-12-04".to_owned(),
        )
    })?;
    let mut value = json!({ "command": name, "on": on.to_string() });
    if spec.fields.contains(&"days") {
        let days: u32 = form
            .days
            .trim()
            .parse()
            .ok()
            .filter(|d| (1..=60).contains(d))
            .ok_or((
                "days",
                "Enter the extra working days as a number from 1 to 60".to_owned(),
            ))?;
        value["days"] = json!(days);
    }
    if spec.fields.contains(&"reason") {
        let reason = form.reason.trim();
        if reason.is_empty() {
            return Err(("reason", "Give the reason for changing the deadline".into()));
        }
        value["reason"] = json!(reason);
    }
    if spec.fields.contains(&"outcome") {
        value["outcome"] = json!(form.outcome);
        let mut exemptions = Vec::new();
        for line in form.exemptions.lines().filter(|l| !l.trim().is_empty()) {
            let e = crate::foi::notices::parse_exemption(line).map_err(|_| {
                (
                    "exemptions",
                    "Write each exemption as section|title|reason".to_owned(),
                )
            })?;
            exemptions.push(json!({"section": e.section, "title": e.title, "reason": e.reason}));
        }
        value["exemptions"] = json!(exemptions);
    }
    if spec.fields.contains(&"result") {
        value["result"] = json!(form.result);
    }
    let choice = if spec.fields.contains(&"result") {
        "result"
    } else {
        "outcome"
    };
    serde_json::from_value(value)
        .map_err(|_| (choice, "Choose one of the options offered".to_owned()))
}

#[derive(Deserialize, Default)]
pub struct MoveFields {
    #[serde(default)]
    on: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    exemptions: String,
    #[serde(default)]
    result: String,
}

/// The moves the request's status allows, as forms, for a person who may move it.
fn moves_for(session: &Session, reference: &str, status: Status, today: &str) -> Vec<MoveForm> {
    use crate::foi::lifecycle::{Outcome, ReviewResult};
    if !session.can(Permission::MoveFoi) {
        return Vec::new();
    }
    let blank = MoveFields {
        on: today.to_owned(),
        days: "1".into(),
        reason: "-".into(),
        outcome: "granted".into(),
        result: "upheld".into(),
        ..MoveFields::default()
    };
    MOVES
        .iter()
        .filter(|m| command_of(m.name, &blank).is_ok_and(|c| c.allowed_from().contains(&status)))
        .map(|m| MoveForm {
            name: m.name,
            label: m.label,
            hint: m.hint,
            action: format!("/foi/{}/moves/{}", pages::segment(reference), m.name),
            csrf: session.csrf.clone(),
            today: today.to_owned(),
            days: m.fields.contains(&"days"),
            reason: m.fields.contains(&"reason"),
            outcome: m.fields.contains(&"outcome"),
            exemptions: m.fields.contains(&"exemptions"),
            result: m.fields.contains(&"result"),
            open: false,
            error_field: "",
            error: String::new(),
            outcomes: Outcome::ALL
                .iter()
                .map(|o| Choice {
                    value: o.as_str(),
                    label: outcome_label(*o),
                    selected: false,
                })
                .collect(),
            results: [
                ReviewResult::Upheld,
                ReviewResult::Overturned,
                ReviewResult::PartlyOverturned,
            ]
            .iter()
            .map(|r| Choice {
                value: r.as_str(),
                label: review_label(*r),
                selected: false,
            })
            .collect(),
        })
        .collect()
}

fn outcome_label(o: crate::foi::lifecycle::Outcome) -> &'static str {
    use crate::foi::lifecycle::Outcome::*;
    match o {
        Granted => "Information given",
        PartlyGranted => "Partly given (exemptions apply)",
        Refused => "Refused (exemptions apply)",
        NotHeld => "Information not held",
        CostLimit => "Over the cost limit",
        Withdrawn => "Withdrawn",
        Vexatious => "Vexatious",
        Repeated => "Repeated request",
    }
}

fn review_label(r: crate::foi::lifecycle::ReviewResult) -> &'static str {
    use crate::foi::lifecycle::ReviewResult::*;
    match r {
        Upheld => "Upheld",
        Overturned => "Overturned",
        PartlyOverturned => "Partly overturned",
    }
}

/// `POST /foi/{ref}/moves/{move}`: applies one lifecycle move as the person (audited
/// by the FOI use case under their name), or shows the request again with why not.
pub async fn foi_move(
    Extract(state): St,
    Path((reference, name)): Path<(String, String)>,
    form: Checked<MoveFields>,
) -> Result<Response, PageError> {
    let Checked { session, form } = form;
    session.require(Permission::MoveFoi)?;
    let foi = state.app.foi.acting_as(&session.who);
    let problem = match command_of(&name, &form) {
        Err((field, message)) => Refusal::Move {
            name: name.clone(),
            field,
            message,
        },
        Ok(command) => match foi.apply(&reference, &command).await {
            Ok(_) => {
                let to = format!("/foi/{}?moved={name}", pages::segment(&reference));
                return Ok(Redirect::to(&to).into_response());
            }
            Err(crate::foi::service::FoiError::NotFound(_)) => {
                return Err(PageError::not_found("FOI request"));
            }
            Err(e) => {
                let code = crate::failure::ErrorCode::code(&e);
                if code.http_status() >= 500 {
                    return Err(e.into());
                }
                // The lifecycle refuses a move for its date (or the status).
                Refusal::Move {
                    name: name.clone(),
                    field: "on",
                    message: e.to_string(),
                }
            }
        },
    };
    let page = foi_request_page(&state, &session, &reference, Some(problem), None).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

#[derive(Deserialize)]
pub struct DraftFields {
    #[serde(default)]
    information: String,
    #[serde(default)]
    advice: String,
}

/// `POST /foi/{ref}/letters/{kind}`: makes the request's acknowledgement or response
/// letter as the person (recorded under the request; made once for the same data).
pub async fn foi_letter(
    Extract(state): St,
    Path((reference, kind)): Path<(String, String)>,
    form: Checked<DraftFields>,
) -> Result<Response, PageError> {
    use crate::foi::notices::{self, Kind, ResponseDetails};
    let Checked { session, form } = form;
    session.require(Permission::MoveFoi)?;
    let kind = match kind.as_str() {
        "acknowledgement" => Kind::Acknowledgement,
        "response" => Kind::Response,
        _ => return Err(PageError::not_found("kind of letter")),
    };
    let text = |s: &str| Some(s.trim().to_owned()).filter(|t| !t.is_empty());
    let details = ResponseDetails {
        information: text(&form.information),
        advice: text(&form.advice),
        ..ResponseDetails::default()
    };
    let made = notices::make(
        &state.app.foi.acting_as(&session.who),
        &state.app.letters().acting_as(&session.who),
        &reference,
        kind,
        &crate::acknowledge::Signatory::foi(),
        &details,
        crate::letters::Format::Pdf,
    )
    .await;
    match made {
        Ok(_) => {
            let to = format!("/foi/{}?moved=letter", pages::segment(&reference));
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) if crate::failure::ErrorCode::code(&e).http_status() < 500 => {
            let page = foi_request_page(
                &state,
                &session,
                &reference,
                Some(Refusal::Letter(e.to_string())),
                None,
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /cases/{ref}/letters/{id}`: a letter's PDF, for those who may see its case.
pub async fn letter(
    Extract(state): St,
    session: Session,
    Path((case_ref, letter_id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    session.require(authz::to_see_case(&case_ref))?;
    let view = state
        .app
        .cases
        .view(&case_ref)
        .await?
        .ok_or_else(|| PageError::not_found("case"))?;
    let entry = view
        .letters()
        .find(|l| l.letter_id.as_deref() == Some(letter_id.as_str()))
        .ok_or_else(|| PageError::not_found("letter"))?;
    let bytes = crate::cases::letter_pdf(state.app.stores.blobs.as_ref(), entry)
        .await?
        .ok_or_else(|| PageError::not_found("letter"))?;
    state
        .app
        .audit
        .record(
            &session.actor(),
            Object::Case(&case_ref),
            "letter_viewed",
            json!({"letter_id": letter_id}),
        )
        .await?;
    let name = format!("{}.pdf", entry.template.as_deref().unwrap_or("letter"));
    file_response(
        &name,
        disposition::Disposition::Inline,
        "application/pdf",
        bytes,
    )
}

/// `GET /uploads/new`: the upload form (plain multipart: works without JavaScript).
pub async fn upload_form(Extract(state): St, session: Session) -> Result<Response, PageError> {
    session.require(Permission::Upload)?;
    // Where the bucket offers a direct upload (S3), the browser sends the file there
    // (a form whose policy fixes the key prefix and the size), never through the
    // console's function and its 6 MB limit.
    if let Some(origin) = &state.settings.origin {
        let id = super::settings::random_token()[..16].to_owned();
        let redirect = format!("{origin}/uploads/{id}/done");
        let limit = DIRECT_UPLOAD_BYTES;
        if let Some(post) = state
            .app
            .uploads
            .direct_form(&session.who, &id, &redirect, limit)
            .await?
        {
            let target = post.url.split('/').take(3).collect::<Vec<_>>().join("/");
            let csp = postroom_web::headers::content_security_policy(Some(&target));
            let page = UploadDirect {
                chrome: Chrome::of(&session, "/uploads/new"),
                action: post.url,
                fields: post.fields,
                limit_mb: limit / (1024 * 1024),
                minutes: 15,
            };
            let csp = HeaderValue::from_str(&csp).map_err(|_| PageError::invalid("bad address"))?;
            return Ok((
                [(header::CONTENT_SECURITY_POLICY, csp)],
                pages::render(&page),
            )
                .into_response());
        }
    }
    Ok(pages::render(&upload_new(&state, &session, None)).into_response())
}

/// The largest file sent straight to the bucket (the ingest function's input limit).
const DIRECT_UPLOAD_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Deserialize)]
pub struct DirectDone {
    key: Option<String>,
}

/// `GET /uploads/{id}/done?key=…`: where the bucket sends the browser back after a direct
/// upload: records the upload if the object is under the person's own prefix and says
/// they sent it, then shows its progress.
pub async fn upload_done(
    Extract(state): St,
    session: Session,
    Path(id): Path<String>,
    Query(q): Query<DirectDone>,
) -> Result<Response, PageError> {
    session.require(Permission::Upload)?;
    let key = q
        .key
        .ok_or_else(|| PageError::invalid("The storage did not say which file arrived."))?;
    let app = &state.app;
    if !app
        .uploads
        .record_direct(&id, &session.who, app.bucket(), &key)
        .await?
    {
        return Err(PageError::not_found("upload"));
    }
    // Who sent it (its documents' own events name the front that read them; the
    // upload's record names their ids).
    app.audit
        .record(
            &session.actor(),
            Object::Person(&session.who),
            "uploaded",
            json!({"upload": id, "files": 1, "direct": true}),
        )
        .await?;
    Ok(Redirect::to(&format!("/uploads/{id}")).into_response())
}

fn upload_new(state: &State, session: &Session, error: Option<String>) -> UploadNew {
    UploadNew {
        chrome: Chrome::of(session, "/uploads/new"),
        csrf: session.csrf.clone(),
        limit_mb: state.settings.upload_limit / (1024 * 1024),
        error,
    }
}

/// `POST /uploads`: the form's token must come first (checked before any file is
/// read); the files are staged and recorded, then read in the background, and the
/// person is sent to the upload's page.
pub async fn upload(
    Extract(state): St,
    session: Session,
    mut multipart: axum::extract::Multipart,
) -> Result<Response, PageError> {
    session.require(Permission::Upload)?;
    let unreadable = |_| PageError::invalid("The upload could not be read. Try again.");
    super::forms::check_first_part(&mut multipart, &session).await?;
    let mut files = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(|_| {
        PageError::new(
            Code::TooLarge,
            format!(
                "The files are too big together: upload at most {} MB at a time.",
                state.settings.upload_limit / (1024 * 1024)
            ),
        )
    })? {
        if field.name() != Some("files") {
            continue;
        }
        let name = disposition::clean_name(field.file_name().unwrap_or("upload"));
        let bytes = field.bytes().await.map_err(unreadable)?;
        if !bytes.is_empty() {
            files.push((name, bytes));
        }
    }
    if files.is_empty() {
        let page = upload_new(
            &state,
            &session,
            Some("Choose at least one file that is not empty".into()),
        );
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, pages::render(&page)).into_response());
    }
    let id = super::settings::random_token()[..16].to_owned();
    let app = state.app.clone();
    let count = files.len();
    let staged = app
        .uploads
        .stage(app.ingest(), &id, &session.who, app.bucket(), files)
        .await?;
    // Who sent them (their documents' own events name the front that read them; the
    // upload's record names their ids).
    app.audit
        .record(
            &session.actor(),
            Object::Person(&session.who),
            "uploaded",
            json!({"upload": id, "files": count}),
        )
        .await?;
    // On the embedded default nothing else reads the inbox: read the files here, after
    // the answer. On AWS the bucket's event starts the ingest function.
    if app.config.backend == crate::config::BackendKind::Local {
        let task_id = id.clone();
        tokio::spawn(async move {
            app.uploads.ingest(app.ingest(), &task_id, staged).await;
        });
    }
    Ok(Redirect::to(&format!("/uploads/{id}")).into_response())
}

/// How many times a page has refreshed itself (`?n=`).
#[derive(Deserialize)]
pub struct Refreshes {
    n: Option<u32>,
}

/// `GET /uploads/{id}`: each file's progress to filed, unfiled or quarantined (only the
/// person who uploaded them sees it); refreshes itself while any is being read, for 10
/// minutes at most.
pub async fn upload_progress(
    Extract(state): St,
    session: Session,
    Path(id): Path<String>,
    Query(q): Query<Refreshes>,
) -> Result<Response, PageError> {
    use crate::uploads::FileState;
    session.require(Permission::Upload)?;
    let files = state
        .app
        .uploads
        .progress(&id, &session.who)
        .await?
        .ok_or_else(|| PageError::not_found("upload"))?;
    let processing = files.iter().any(|f| f.state == FileState::Processing);
    let rows = files
        .into_iter()
        .map(|f| {
            let href = Some(format!("/documents/{}", pages::segment(&f.doc_id)));
            let (state, tag_class, detail, href) = match f.state {
                FileState::Processing => ("Reading", "govuk-tag--blue", String::new(), None),
                FileState::Filed { case_ref } => (
                    "Filed",
                    "govuk-tag--green",
                    format!("On case {case_ref}"),
                    href,
                ),
                FileState::Unfiled { reason } => (
                    "In the inbox",
                    "govuk-tag--yellow",
                    pages::unfiled_reason(&reason),
                    href,
                ),
                FileState::Quarantined { reason } => {
                    ("Quarantined", "govuk-tag--red", pages::words(&reason), href)
                }
                FileState::Duplicate => (
                    "Duplicate",
                    "govuk-tag--grey",
                    "The same file was filed before".into(),
                    href,
                ),
                FileState::Failed { reason } => (
                    "Not read",
                    "govuk-tag--red",
                    format!("{}: upload it again", pages::words(&reason)),
                    None,
                ),
            };
            UploadRow {
                name: f.name,
                href,
                state,
                tag_class,
                detail,
            }
        })
        .collect();
    let refreshes = q.n.unwrap_or(0);
    let page = Upload {
        chrome: Chrome::of(&session, "/uploads/new"),
        processing,
        refresh: (processing && refreshes < pages::UPLOAD_REFRESHES)
            .then(|| format!("/uploads/{}?n={}", pages::segment(&id), refreshes + 1)),
        files: rows,
    };
    Ok(pages::render(&page).into_response())
}

/// The template called `name`, or 404.
pub(super) fn template_of(
    state: &State,
    name: &str,
) -> Result<&'static crate::letters::Template, PageError> {
    state
        .app
        .letters()
        .registry
        .get(name)
        .map_err(|_| PageError::not_found("letter template"))
}

/// `GET /letters`: the templates.
pub async fn letters(Extract(state): St, session: Session) -> Result<Response, PageError> {
    session.require(Permission::ViewLetters)?;
    let templates = state
        .app
        .letters()
        .registry
        .templates()
        .map(|t| TemplateRow {
            href: format!("/letters/{}", pages::segment(&t.spec.name)),
            title: t.spec.title.clone(),
            description: t.spec.description.clone(),
            version: t.spec.version.clone(),
        })
        .collect();
    let page = LettersPage {
        chrome: Chrome::of(&session, "/letters"),
        templates,
    };
    Ok(pages::render(&page).into_response())
}

/// `GET /letters/{name}`: a template, its fields and a preview of its example.
pub async fn letter_template(
    Extract(state): St,
    session: Session,
    Path(name): Path<String>,
) -> Result<Response, PageError> {
    session.require(Permission::ViewLetters)?;
    let t = template_of(&state, &name)?;
    let registry = state.app.letters().registry;
    let preview = registry
        .render(&name, &t.example, crate::letters::Format::Txt)
        .map(|r| String::from_utf8_lossy(&r.bytes).into_owned())
        .unwrap_or_else(|e| format!("The example does not render: {e}"));
    let seg = pages::segment(&name);
    let page = LetterTemplate {
        chrome: Chrome::of(&session, "/letters"),
        name: name.clone(),
        title: t.spec.title.clone(),
        version: t.spec.version.clone(),
        description: t.spec.description.clone(),
        preview,
        pdf_href: format!("/letters/{seg}/example.pdf"),
        make_href: format!("/letters/{seg}/new"),
        batch_href: format!("/letters/{seg}/batch"),
        can_send: session.can(Permission::SendLetters),
        fields: t
            .spec
            .fields
            .iter()
            .map(|f| FieldRow {
                name: f.name.clone(),
                kind: f.kind.as_str(),
                required: f.required,
                description: f.description.clone(),
            })
            .collect(),
    };
    Ok(pages::render(&page).into_response())
}

/// `GET /letters/{name}/example.pdf`: the template's example as a PDF.
pub async fn letter_example(
    Extract(state): St,
    session: Session,
    Path(name): Path<String>,
) -> Result<Response, PageError> {
    session.require(Permission::ViewLetters)?;
    let t = template_of(&state, &name)?;
    let pdf =
        state
            .app
            .letters()
            .registry
            .render(&name, &t.example, crate::letters::Format::Pdf)?;
    file_response(
        &format!("{name}-example.pdf"),
        disposition::Disposition::Inline,
        "application/pdf",
        pdf.bytes,
    )
}

/// The form's inputs for a template's fields, with the values given and errors.
fn field_inputs(
    t: &crate::letters::Template,
    values: &std::collections::HashMap<String, String>,
    errors: &[(String, String)],
) -> Vec<FieldInput> {
    use crate::letters::fields::FieldType;
    t.spec
        .fields
        .iter()
        .map(|f| {
            let value = values.get(&f.name).cloned().unwrap_or_default();
            let choices: Vec<(String, bool)> = match f.kind {
                FieldType::Choice => std::iter::once(String::new())
                    .chain(f.choices.iter().cloned())
                    .map(|c| (c.clone(), c == value))
                    .collect(),
                FieldType::YesNo => ["", "yes", "no"]
                    .iter()
                    .map(|c| (c.to_string(), *c == value))
                    .collect(),
                _ => Vec::new(),
            };
            let hint = match f.kind {
                FieldType::Date => format!("{} (for example 2026-12-04)", f.description),
                FieldType::Money => format!("{} (in pounds, for example 1250.00)", f.description),
                FieldType::Address => format!("{} (one line each)", f.description),
                FieldType::List if f.fields.is_empty() => {
                    format!("{} (one item a line)", f.description)
                }
                FieldType::List | FieldType::Table => format!("{} (as JSON)", f.description),
                _ => f.description.clone(),
            };
            FieldInput {
                name: f.name.clone(),
                label: pages::words(&f.name),
                hint,
                required: f.required,
                multiline: matches!(
                    f.kind,
                    FieldType::Address | FieldType::List | FieldType::Table
                ) || f.max_length.is_none_or(|m| m > 200),
                choices,
                value,
                error: errors
                    .iter()
                    .find(|(field, _)| {
                        field == &f.name || field.starts_with(&format!("{}[", f.name))
                    })
                    .map(|(_, m)| m.clone()),
            }
        })
        .collect()
}

/// The letter data a form's values describe (list items one a line; JSON where the
/// field takes records).
fn form_data(
    t: &crate::letters::Template,
    values: &std::collections::HashMap<String, String>,
) -> Value {
    use crate::letters::fields::FieldType;
    let mut data = serde_json::Map::new();
    for f in &t.spec.fields {
        let Some(v) = values
            .get(&f.name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
        else {
            continue;
        };
        let value = match f.kind {
            FieldType::List if f.fields.is_empty() => Value::Array(
                v.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(|l| Value::String(l.into()))
                    .collect(),
            ),
            FieldType::List | FieldType::Table => {
                serde_json::from_str(v).unwrap_or(Value::String(v.into()))
            }
            _ => Value::String(v.replace("\r\n", "\n")),
        };
        data.insert(f.name.clone(), value);
    }
    Value::Object(data)
}

#[derive(Deserialize)]
pub struct NewLetterQuery {
    case: Option<String>,
}

/// `GET /letters/{name}/new`: a form generated from the template's declared fields.
pub async fn letter_form(
    Extract(state): St,
    session: Session,
    Path(name): Path<String>,
    Query(q): Query<NewLetterQuery>,
) -> Result<Response, PageError> {
    session.require(Permission::SendLetters)?;
    let t = template_of(&state, &name)?;
    let page = letter_page(
        &session,
        t,
        q.case.unwrap_or_default(),
        &Default::default(),
        Vec::new(),
        None,
    );
    Ok(pages::render(&page).into_response())
}

fn letter_page(
    session: &Session,
    t: &crate::letters::Template,
    case_ref: String,
    values: &std::collections::HashMap<String, String>,
    errors: Vec<(String, String)>,
    preview: Option<String>,
) -> LetterNew {
    let seg = pages::segment(&t.spec.name);
    LetterNew {
        chrome: Chrome::of(session, "/letters"),
        title: t.spec.title.clone(),
        back: format!("/letters/{seg}"),
        action: format!("/letters/{seg}/new"),
        csrf: session.csrf.clone(),
        case_ref,
        fields: field_inputs(t, values, &errors),
        errors,
        preview,
    }
}

/// `POST /letters/{name}/new`: previews the letter (its plain text) or makes it for the
/// case (recorded under it, as the person); every field's problem is shown at once.
pub async fn letter_make(
    Extract(state): St,
    Path(name): Path<String>,
    form: Checked<std::collections::HashMap<String, String>>,
) -> Result<Response, PageError> {
    use sha2::Digest as _;
    let Checked { session, form } = form;
    session.require(Permission::SendLetters)?;
    let t = template_of(&state, &name)?;
    let case_ref = form
        .get("case_ref")
        .map(|c| c.trim().to_owned())
        .unwrap_or_default();
    let data = form_data(t, &form);
    let registry = state.app.letters().registry;
    let mut errors = Vec::new();
    if let Err(e) = registry.validate(&name, &data) {
        match e {
            crate::letters::LetterError::Invalid(fields) => {
                errors.extend(fields.into_iter().map(|f| (f.field, f.message)))
            }
            other => return Err(other.into()),
        }
    }
    let making = form.get("action").map(String::as_str) == Some("make");
    if making {
        let problem = if !is_reference(&case_ref) {
            Some("Enter the case reference".to_owned())
        } else if let Err(e) = crate::letter_service::fits(&name, &case_ref) {
            Some(e.to_string())
        } else {
            let foi_request = authz::to_see_case(&case_ref) == Permission::ViewFoi;
            if foi_request {
                // FOI letters are the FOI officers' to make (from the request's page too).
                session.require(Permission::MoveFoi)?;
            }
            let found = state.app.cases.view(&case_ref).await?;
            found
                .is_none()
                .then(|| format!("There is no case {case_ref}"))
        };
        if let Some(problem) = problem {
            errors.insert(0, ("case_ref".into(), problem));
        }
    }
    if !errors.is_empty() || !making {
        let preview = if errors.is_empty() {
            registry
                .render(&name, &data, crate::letters::Format::Txt)
                .ok()
                .map(|r| String::from_utf8_lossy(&r.bytes).into_owned())
        } else {
            None
        };
        let status = if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        let page = letter_page(&session, t, case_ref, &form, errors, preview);
        return Ok((status, pages::render(&page)).into_response());
    }
    let hash = hex::encode(sha2::Sha256::digest(data.to_string().as_bytes()));
    let request = crate::letter_service::LetterRequest {
        request_id: format!("console:{name}:{case_ref}:{}", &hash[..16]),
        template: name.clone(),
        case_ref: case_ref.clone(),
        data,
    };
    state
        .app
        .letters()
        .acting_as(&session.who)
        .send(&request)
        .await?;
    let to = if session.can(authz::to_see_case(&case_ref)) {
        let foi_case = authz::to_see_case(&case_ref) == Permission::ViewFoi;
        if foi_case {
            format!("/foi/{}?moved=letter", pages::segment(&case_ref))
        } else {
            format!("/cases/{}", pages::segment(&case_ref))
        }
    } else {
        format!("/letters/{}", pages::segment(&name))
    };
    Ok(Redirect::to(&to).into_response())
}

#[derive(Deserialize)]
pub struct AuditQuery {
    case: Option<String>,
    doc: Option<String>,
    who: Option<String>,
    after: Option<String>,
}

/// Events a page of the audit trail.
const AUDIT_PAGE: u32 = 50;

/// Where an audit event's object is shown.
fn audit_object(subject: &Subject) -> (String, Option<String>) {
    match subject {
        Subject::Document(id) => (
            format!("Document {id}"),
            Some(format!("/documents/{}", pages::segment(id))),
        ),
        Subject::Case(r) => (
            format!("Case {r}"),
            Some(format!("/cases/{}", pages::segment(r))),
        ),
        Subject::Person(who) => (
            format!("Person {who}"),
            Some(format!("/audit?who={}", pages::segment(who))),
        ),
        Subject::Other => ("Something else".to_owned(), None),
    }
}

/// `GET /audit?case=&doc=&who=`: who did what, when (administrators).
pub async fn audit(
    Extract(state): St,
    session: Session,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageError> {
    session.require(Permission::Audit)?;
    let clean = |v: Option<String>| v.map(|s| s.trim().to_owned()).unwrap_or_default();
    let (case, doc, who) = (clean(q.case), clean(q.doc), clean(q.who));
    let audit = &state.app.audit;
    let mut rows = Vec::new();
    let row = |e: EventEntry, object: (String, Option<String>)| AuditRow {
        at: e.at.as_deref().map(pages::when).unwrap_or_default(),
        who: e.who.unwrap_or_default(),
        roles: e
            .roles
            .iter()
            .map(|r| authz::Role::parse(r).map_or_else(|| r.clone(), |r| r.label().to_owned()))
            .collect::<Vec<_>>()
            .join(", "),
        what: e.what.as_deref().map(pages::words).unwrap_or_default(),
        object: object.0,
        href: object.1,
    };
    let mut sources = Vec::new();
    if !case.is_empty() {
        sources.push(Source::Object(Object::Case(&case)));
    }
    if !doc.is_empty() {
        sources.push(Source::Object(Object::Document(&doc)));
    }
    if !who.is_empty() {
        sources.push(Source::Person(&who));
    }
    let mut next = None;
    if !sources.is_empty() {
        let trail = audit
            .trail(&sources, q.after.as_deref(), AUDIT_PAGE)
            .await?;
        rows.extend(
            trail
                .events
                .into_iter()
                .map(|(subject, e)| row(e, audit_object(&subject))),
        );
        next = trail.next.map(|after| {
            next_page_link(
                "/audit",
                &[
                    ("case", case.as_str()),
                    ("doc", doc.as_str()),
                    ("who", who.as_str()),
                ],
                &after,
            )
        });
    }
    let page = AuditPage {
        chrome: Chrome::of(&session, "/audit"),
        searched: !sources.is_empty(),
        first_page: q.after.is_none(),
        next,
        case,
        doc,
        who,
        rows,
    };
    Ok(pages::render(&page).into_response())
}
