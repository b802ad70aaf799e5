//! The staff console: one axum router over the application's use cases, served by
//! `postroom console` on the embedded default and by the console function on AWS.
//! Pages are plain HTML forms (GOV.UK Frontend) that work without JavaScript; every
//! route checks the person's session and role, every form its CSRF token, and every
//! answer carries a strict Content Security Policy.

pub mod authz;
mod claims;
pub mod error;
pub mod forms;
mod jobs;
pub mod oidc;
pub mod pages;
mod routes;
mod search;
pub mod session;
pub mod settings;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, header};
use axum::routing::{get, post};
use tower_http::csrf::CsrfLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::app::App;
pub use settings::{ConsoleSettings, LocalToken};

/// Largest form body accepted (uploads have their own limit).
const FORM_LIMIT: usize = 64 * 1024;

/// What every request handler reaches: the application and the console's settings.
#[derive(Debug)]
pub struct State {
    pub app: Arc<App>,
    pub settings: ConsoleSettings,
}

/// The console's router, ready to serve (locally with `axum::serve`, on AWS through
/// `lambda_http`).
pub fn router(app: Arc<App>, settings: ConsoleSettings) -> Router {
    let csp = web::headers::content_security_policy(settings.bucket_origin.as_deref());
    let https = settings.https;
    let upload_limit = settings.upload_limit;
    let state = Arc::new(State { app, settings });
    let router = Router::new()
        .route("/healthz", get(routes::healthz))
        .route("/assets/{*path}", get(routes::asset))
        .route("/sign-in", get(oidc::sign_in))
        .route("/auth/callback", get(oidc::callback))
        .route("/sign-out", post(routes::sign_out))
        .route("/signed-out", get(routes::signed_out))
        .route("/", get(routes::home))
        .route("/inbox", get(routes::inbox))
        .route("/inbox/{doc_id}/file", post(routes::file_document))
        .route("/documents/{doc_id}", get(routes::document))
        .route("/documents/{doc_id}/original", get(routes::original))
        .route("/documents/{doc_id}/text", get(routes::text))
        .route("/cases", get(routes::cases))
        .route("/cases/import", get(jobs::import_form))
        .route("/cases/{case_ref}", get(routes::case))
        .route("/cases/{case_ref}/claim-events", post(claims::record_event))
        .route("/cases/{case_ref}/extensions", post(claims::extend))
        .route("/claims/deadlines", get(claims::due_page))
        .route("/foi", get(routes::foi_register).post(routes::foi_create))
        .route("/foi/new", get(routes::foi_new))
        .route("/foi/{reference}", get(routes::foi_request))
        .route("/foi/{reference}/moves/{name}", post(routes::foi_move))
        .route("/foi/{reference}/letters/{kind}", post(routes::foi_letter))
        .route("/cases/{case_ref}/letters/{letter_id}", get(routes::letter))
        .route(
            "/foi/{reference}/publish",
            get(routes::foi_publish_review).post(routes::foi_publish),
        )
        .route("/letters", get(routes::letters))
        .route("/letters/{name}", get(routes::letter_template))
        .route("/letters/{name}/example.pdf", get(routes::letter_example))
        .route(
            "/letters/{name}/new",
            get(routes::letter_form).post(routes::letter_make),
        )
        .route("/letters/{name}/batch", get(jobs::batch_form))
        .route("/jobs", get(jobs::jobs))
        .route("/jobs/{id}", get(jobs::job))
        .route("/jobs/{id}/start", post(jobs::job_start))
        .route("/jobs/{id}/resume", post(jobs::job_resume))
        .route("/jobs/{id}/files/{name}", get(jobs::job_file))
        .route(
            "/foi/statistics",
            get(jobs::statistics_form).post(jobs::statistics_start),
        )
        .route(
            "/foi/disclosure-log",
            get(jobs::disclosure_form).post(jobs::disclosure_start),
        )
        .route("/audit", get(routes::audit))
        .route("/search", get(search::search))
        .route("/uploads/new", get(routes::upload_form))
        .route("/uploads/{id}", get(routes::upload_progress))
        .route("/uploads/{id}/done", get(routes::upload_done))
        .fallback(routes::not_found)
        .layer(RequestBodyLimitLayer::new(FORM_LIMIT));
    // Uploads take files up to the upload limit; every other request a small form.
    let uploads = Router::new()
        .route("/uploads", post(routes::upload))
        .route("/cases/import", post(jobs::import_start))
        .route("/letters/{name}/batch", post(jobs::batch_check))
        .layer(DefaultBodyLimit::max(upload_limit));
    let mut router = router
        .merge(uploads)
        .with_state(state)
        .layer(CsrfLayer::new().with_rejection_response(routes::cross_site_refused))
        // A handler may set a narrower policy (a document's original sets its own).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&csp).expect("the policy is ASCII"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    for (name, value) in web::headers::security_headers(https) {
        router = router.layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ));
    }
    router
}

use postroom_web as web;
