//! Search in the console: the box on every page and the results page (`/search`), with
//! filters by case and type and a next page, showing only documents the person's roles
//! may see. A search is audited as done by the person, never with its words.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State as Extract};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::State;
use super::authz;
use super::error::PageError;
use super::pages::{self, Chrome};
use super::session::Session;
use crate::audit::Object;
use crate::store::{Filters, Scope, SearchCursor, SearchError, SearchRequest};

type St = Extract<Arc<State>>;

/// Hits a page.
const PAGE: u32 = 20;

#[derive(Debug, Deserialize)]
pub struct SearchForm {
    #[serde(default)]
    q: String,
    #[serde(default)]
    case: String,
    #[serde(default, rename = "type")]
    doc_type: String,
    after: Option<String>,
}

/// One result as the page shows it: the snippet as parts, each escaped by the
/// template, the matches marked.
#[derive(Debug, Clone)]
pub struct ResultRow {
    pub href: String,
    pub title: String,
    pub case_ref: String,
    pub doc_type: String,
    pub date: String,
    pub parts: Vec<(String, bool)>,
}

#[derive(Debug, Template)]
#[template(path = "search.html")]
pub struct SearchPage {
    pub chrome: Chrome,
    pub q: String,
    pub case: String,
    pub types: Vec<(&'static str, String, bool)>,
    pub searched: bool,
    pub error: Option<String>,
    pub rows: Vec<ResultRow>,
    pub next: Option<String>,
}

/// The document types a search can be narrowed to (the rules' names).
fn types(selected: &str) -> Vec<(&'static str, String, bool)> {
    const TYPES: [&str; 16] = [
        "letter_of_claim",
        "letter_of_notification",
        "letter_of_response",
        "claim_form",
        "particulars_of_claim",
        "defence",
        "court_order",
        "settlement_offer",
        "expert_report",
        "medical_records",
        "correspondence",
        "foi_request",
        "foi_internal_review_request",
        "primary_care_appeal",
        "performance_concern",
        "early_notification",
    ];
    TYPES
        .iter()
        .map(|t| (*t, pages::words(t), *t == selected))
        .collect()
}

fn encode(v: &str) -> String {
    percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// `GET /search?q=&case=&type=&after=`: documents that match, best first.
pub async fn search(
    Extract(state): St,
    session: Session,
    Query(form): Query<SearchForm>,
) -> Result<Response, PageError> {
    let q = form.q.trim().to_owned();
    let case = form.case.trim().to_owned();
    let doc_type = form.doc_type.trim().to_owned();
    let mut page = SearchPage {
        chrome: Chrome::of(&session, "/search"),
        types: types(&doc_type),
        searched: !q.is_empty(),
        q: q.clone(),
        case: case.clone(),
        error: None,
        rows: Vec::new(),
        next: None,
    };
    // The documents the person's roles let them see, asked of the engine: a page's hits
    // and its next page say nothing of the others (not even that there are some).
    let scope = Scope {
        foi_requests: session.can(authz::Permission::ViewFoi),
        other_cases: session.can(authz::Permission::ViewCases),
        unfiled: session.can(authz::Permission::Triage),
    };
    if scope == Scope::default() {
        return Err(PageError::forbidden());
    }
    if !case.is_empty() && !session.can(authz::to_see_case(&case)) {
        page.error = Some(format!(
            "Your roles do not let you see the documents of {case}: search without the case"
        ));
        return Ok((StatusCode::FORBIDDEN, pages::render(&page)).into_response());
    }
    if q.is_empty() {
        return Ok(pages::render(&page).into_response());
    }
    let request = match SearchRequest::parse(&q) {
        Ok(r) => r,
        Err(e) => {
            page.error = Some(format!("Check the search: {e}"));
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, pages::render(&page)).into_response());
        }
    };
    let every = Scope {
        foi_requests: true,
        other_cases: true,
        unfiled: true,
    };
    let filters = Filters {
        case_ref: (!case.is_empty()).then(|| case.clone()),
        doc_type: (!doc_type.is_empty()).then(|| doc_type.clone()),
        scope: (scope != every).then_some(scope),
        ..Filters::default()
    };
    let request = request
        .filters(filters)
        .limit(PAGE)
        .after(form.after.clone().map(SearchCursor));
    let found = match state.app.search.query(&request).await {
        Ok(found) => found,
        Err(
            e @ (SearchError::Query(_)
            | SearchError::BadCursor
            | SearchError::BadFilter(_)
            | SearchError::TooBroad),
        ) => {
            page.error = Some(format!("Check the search: {e}"));
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, pages::render(&page)).into_response());
        }
        Err(SearchError::NotConfigured) => {
            page.error = Some("Search is not available on this service yet.".into());
            return Ok((StatusCode::SERVICE_UNAVAILABLE, pages::render(&page)).into_response());
        }
        Err(e) => return Err(e.into()),
    };
    let mut shown = Vec::new();
    for hit in found.hits {
        // The scope kept the others out; checked again, as every page checks each object.
        let need = match &hit.filing.case_ref {
            Some(r) => authz::to_see_case(r),
            None => authz::Permission::Triage,
        };
        if !session.can(need) {
            tracing::warn!(
                code = "search_scope_leak",
                "a hit outside the scope was left out"
            );
            continue;
        }
        shown.push(hit.doc_id.clone());
        page.rows.push(ResultRow {
            href: format!("/documents/{}", pages::segment(&hit.doc_id)),
            title: if hit.title.is_empty() {
                hit.doc_id.clone()
            } else {
                hit.title.clone()
            },
            case_ref: hit.filing.case_ref.clone().unwrap_or_default(),
            doc_type: hit
                .filing
                .doc_type
                .as_deref()
                .map(pages::words)
                .unwrap_or_default(),
            date: hit.document_date.clone().unwrap_or_default(),
            parts: hit
                .snippet
                .fragments
                .iter()
                .map(|f| (f.text.clone(), f.hit))
                .collect(),
        });
    }
    page.next = found.next.map(|c| {
        format!(
            "/search?q={}&case={}&type={}&after={}",
            encode(&q),
            encode(&case),
            encode(&doc_type),
            encode(&c.0)
        )
    });
    // Who searched and which documents' passages they were shown; never the words
    // searched for.
    state
        .app
        .audit
        .record(
            &session.actor(),
            Object::Person(&session.who),
            "searched",
            json!({"shown": shown, "in_case": !case.is_empty()}),
        )
        .await?;
    Ok(pages::render(&page).into_response())
}
