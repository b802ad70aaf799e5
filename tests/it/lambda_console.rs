//! The console function's event path, in process: API Gateway HTTP API events (payload
//! 2.0, events/console/) decoded by lambda_http as the function's runtime decodes them,
//! sent through the same router the function serves (`lambda_http::run(router)` calls
//! it with exactly this request), and each answer turned into lambda_http's response as
//! the runtime does. Proves: the health check; no page without a session (303 to sign in
//! for a page, 401 otherwise); the CSP and HSTS on answers; a sign-in event with a query
//! string starts a session whose `__Host-` cookie, sent back in the event's `cookies`
//! array, opens the inbox; a cross-site POST is refused (403) and leaves the session; a
//! same-site POST with a base64 form body signs out.

use std::sync::Arc;

use axum::body::Body as AxumBody;
use axum::http::{Response, StatusCode, header};
use base64::Engine as _;
use http_body_util::BodyExt as _;
use postroom::app::{Acknowledgements, App, Front};
use postroom::clock::SystemClock;
use postroom::config::Config;
use postroom::console::authz::Role;
use postroom::console::{ConsoleSettings, LocalToken};
use serde_json::{Value, json};
use tower::ServiceExt as _;

/// The token the sign-in event carries.
const TOKEN: &str = "console-event-token-0123456789";
/// The session cookie's name behind HTTPS (as on AWS).
const COOKIE: &str = "__Host-postroom-session";

struct Console {
    _dir: tempfile::TempDir,
    app: Arc<App>,
    router: axum::Router,
}

/// The console as the function builds it (acting as `lambda:console`, acknowledgements
/// off, cookies Secure behind HTTPS) over a fresh embedded store, with the demo post
/// when `demo`, and one sign-in token with every role.
async fn console(demo: bool) -> Console {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = Config::local(dir.path());
    let stores = postroom::app::local_stores(&config).expect("local stores");
    let app = Arc::new(App::with_stores(
        config,
        stores,
        Arc::new(SystemClock),
        Front::named("lambda:console", Acknowledgements::Off),
    ));
    if demo {
        postroom::demo::run(&app).await.expect("the demo post");
    }
    let token = LocalToken::new(TOKEN, "events", Role::ALL.to_vec());
    let settings = ConsoleSettings {
        https: true,
        ..ConsoleSettings::local(vec![token])
    };
    let router = postroom::console::router(app.clone(), settings);
    Console {
        _dir: dir,
        app,
        router,
    }
}

/// An event from events/console/.
fn event(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("events")
        .join("console")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect("the event")).expect("json")
}

/// `event` with `cookies` in its `cookies` array (as API Gateway sends them).
fn with_cookies(mut event: Value, cookies: &[&str]) -> Value {
    event["cookies"] = json!(cookies);
    event
}

/// `event` with a form body, base64-encoded as API Gateway sends forms.
fn with_form(mut event: Value, form: &str) -> Value {
    event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(form));
    event["isBase64Encoded"] = json!(true);
    event["headers"]["content-length"] = json!(form.len().to_string());
    event
}

impl Console {
    /// The event decoded by lambda_http and answered by the router.
    async fn send(&self, event: &Value) -> Response<AxumBody> {
        let request =
            lambda_http::request::from_str(&event.to_string()).expect("an HTTP API event");
        self.router
            .clone()
            .oneshot(request)
            .await
            .expect("an answer")
    }

    /// A sign-in through the sign-in event: the session cookie (`name=value`).
    async fn sign_in(&self) -> String {
        let answer = self.send(&event("http-api-get-sign-in-token.json")).await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER);
        assert_eq!(answer.headers()[header::LOCATION], "/");
        let set = answer.headers()[header::SET_COOKIE]
            .to_str()
            .expect("ascii");
        assert!(set.starts_with(&format!("{COOKIE}=")), "{set}");
        for part in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(set.contains(part), "{part} in {set}");
        }
        set.split(';').next().expect("a cookie").to_owned()
    }
}

/// The answer as lambda_http hands it to API Gateway (its body conversion), with the
/// body as text when lambda_http sends it as text.
async fn as_lambda(answer: Response<AxumBody>) -> (StatusCode, Option<String>) {
    let answer = lambda_http::IntoResponse::into_response(answer).await;
    let status = answer.status();
    let body = match answer.into_body() {
        lambda_http::Body::Empty => None,
        lambda_http::Body::Text(t) => Some(t),
        other => panic!("an HTML answer sent as binary: {other:?}"),
    };
    (status, body)
}

async fn text(answer: Response<AxumBody>) -> String {
    let bytes = answer
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn assert_secured(answer: &Response<AxumBody>) {
    let csp = answer.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("ascii");
    for part in [
        "default-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
    ] {
        assert!(csp.contains(part), "{part} in {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(
        answer
            .headers()
            .contains_key(header::STRICT_TRANSPORT_SECURITY)
    );
    assert_eq!(answer.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
}

#[tokio::test]
async fn the_health_check_and_no_page_without_a_session() {
    let c = console(false).await;

    let answer = c.send(&event("http-api-get-healthz.json")).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_secured(&answer);
    assert_eq!(as_lambda(answer).await.1.as_deref(), Some("ok"));

    // A browser navigating to a page is sent to sign in...
    let inbox = event("http-api-get-inbox-no-session.json");
    let answer = c.send(&inbox).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert_eq!(answer.headers()[header::LOCATION], "/sign-in");
    assert_secured(&answer);
    assert_eq!(as_lambda(answer).await.1.unwrap_or_default(), "");

    // ...anything else is told 401, and neither shows any data.
    let mut other = inbox.clone();
    other["headers"]["accept"] = json!("application/json");
    let answer = c.send(&other).await;
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    assert!(!text(answer).await.contains("/documents/"));

    // A cookie that is no session's is no better.
    let forged = with_cookies(inbox, &[&format!("{COOKIE}=not-a-session")]);
    assert_eq!(c.send(&forged).await.status(), StatusCode::SEE_OTHER);

    // A sign-in event with a wrong token starts nothing.
    let mut wrong = event("http-api-get-sign-in-token.json");
    wrong["rawQueryString"] = json!("token=not-the-token-0123456789");
    wrong["queryStringParameters"]["token"] = json!("not-the-token-0123456789");
    let answer = c.send(&wrong).await;
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    assert!(!answer.headers().contains_key(header::SET_COOKIE));
}

#[tokio::test]
async fn a_session_from_a_sign_in_event_opens_pages_when_sent_back_as_cookies() {
    let c = console(true).await;
    let cookie = c.sign_in().await;

    // API Gateway sends the browser's cookies as an array, other sites' cookies too.
    let inbox = with_cookies(
        event("http-api-get-inbox-no-session.json"),
        &["_ga=GA1.1.123.456", &cookie],
    );
    let answer = c.send(&inbox).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_secured(&answer);
    assert!(
        answer.headers()[header::CONTENT_TYPE]
            .to_str()
            .is_ok_and(|t| t.starts_with("text/html"))
    );
    let (status, html) = as_lambda(answer).await;
    assert_eq!(status, StatusCode::OK);
    let html = html.expect("the page as text");
    let unfiled = c.app.cases.inbox_view().await.expect("inbox");
    let first = unfiled
        .iter()
        .find_map(|e| e.doc_id.clone())
        .expect("the demo leaves documents unfiled");
    assert!(html.contains(&first), "the inbox lists {first}");

    // The home page answers through the `ANY /` route's event too.
    let mut home = inbox.clone();
    home["rawPath"] = json!("/");
    home["routeKey"] = json!("ANY /");
    home["requestContext"]["http"]["path"] = json!("/");
    home["requestContext"]["routeKey"] = json!("ANY /");
    home.as_object_mut()
        .expect("object")
        .remove("pathParameters");
    assert_eq!(c.send(&home).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_cross_site_post_is_refused_and_a_same_site_one_signs_out() {
    let c = console(false).await;
    let cookie = c.sign_in().await;
    let page = with_cookies(event("http-api-get-inbox-no-session.json"), &[&cookie]);
    let html = text(c.send(&page).await).await;
    let needle = "name=\"csrf_token\" value=\"";
    let at = html.find(needle).expect("a form token") + needle.len();
    let csrf = &html[at..at + html[at..].find('"').expect("end")];
    let form = format!("csrf_token={csrf}");

    // From another site, even with the session and its form token: refused.
    let cross = with_cookies(
        event("http-api-post-sign-out-cross-site.json"),
        &["_ga=GA1.1.123.456", &cookie],
    );
    let answer = c.send(&with_form(cross, &form)).await;
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    assert_secured(&answer);
    assert!(!answer.headers().contains_key(header::SET_COOKIE));
    assert_eq!(
        c.send(&page).await.status(),
        StatusCode::OK,
        "still signed in"
    );

    // From the console itself, without the form token: refused.
    let same = with_cookies(event("http-api-post-sign-out.json"), &[&cookie]);
    let answer = c.send(&with_form(same.clone(), "csrf_token=")).await;
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        c.send(&page).await.status(),
        StatusCode::OK,
        "still signed in"
    );

    // With it (the form body base64-encoded, as API Gateway sends forms): signed out.
    let answer = c.send(&with_form(same, &form)).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert_eq!(answer.headers()[header::LOCATION], "/signed-out");
    let cleared = answer.headers()[header::SET_COOKIE]
        .to_str()
        .expect("ascii");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let answer = c.send(&page).await;
    assert_eq!(
        answer.status(),
        StatusCode::SEE_OTHER,
        "the session has ended"
    );
    assert_eq!(answer.headers()[header::LOCATION], "/sign-in");
}
