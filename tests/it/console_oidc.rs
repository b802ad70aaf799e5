//! The console's OpenID Connect sign-in (the AWS flow) against a real local provider:
//! oidc-provider-mock 0.3.4 from PyPI, started by `scripts/oidc-mock` so that it acts
//! as a Cognito public app client (no client secret; PKCE S256 required and checked;
//! nonce required), with per-user `cognito:groups`. Each test drives the whole flow:
//! `GET /sign-in` on the console's router → the provider's authorization form, submitted
//! over plain HTTP on loopback → `GET /auth/callback` back on the router → the session
//! on `/`. Also: replays, a state that is not the browser's, a person with no postroom
//! group, a refusal at the provider, a wrong PKCE verifier or nonce; and the sign-ins in
//! progress themselves (single use, ten minutes, relative `return_to` only). Signing
//! in, a refused sign-in and signing out are audit events on the person, and signing
//! out goes on to the provider's end-session endpoint, which sends the browser back to
//! `/signed-out`.
//!
//! Needs the provider in the test virtualenv (`.venv`, or `POSTROOM_VENV`):
//! `.venv/bin/pip install oidc-provider-mock==0.3.4`. Without it the flow tests print
//! why and do not run, unless `POSTROOM_REQUIRE_AWS=1` (scripts/test), where a missing
//! provider fails them.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use chrono::{DateTime, TimeZone, Utc};
use http_body_util::BodyExt as _;
use postroom::app::{Acknowledgements, App, Front};
use postroom::clock::{Clock, SystemClock};
use postroom::config::Config;
use postroom::console::ConsoleSettings;
use postroom::console::LocalToken;
use postroom::console::authz::Role;
use postroom::logins::{Logins, PendingLogin, safe_return_to};
use postroom::sessions::Lifetimes;
use postroom::store::{Item, Key, Query};
use postroom_web::oidc::OidcSettings;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tower::ServiceExt as _;

const REDIRECT_ORIGIN: &str = "http://console.test";
const CLIENT_ID: &str = "postroom-console-test";

/// The provider, running until dropped.
struct Provider {
    child: Child,
    port: u16,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Starts the provider, or says why it cannot (a skip, or a failure under
/// `POSTROOM_REQUIRE_AWS=1`).
fn provider(test: &str) -> Option<Provider> {
    let required = std::env::var("POSTROOM_REQUIRE_AWS").is_ok_and(|v| v == "1");
    let venv =
        std::env::var_os("POSTROOM_VENV").map_or_else(|| root().join(".venv"), |v| root().join(v));
    let python = venv.join("bin/python");
    let installed = python.exists()
        && Command::new(&python)
            .args(["-c", "import oidc_provider_mock"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if !installed {
        assert!(
            !required,
            "{test}: POSTROOM_REQUIRE_AWS=1 but oidc-provider-mock is not installed in {}: {}/bin/pip install oidc-provider-mock==0.3.4",
            venv.display(),
            venv.display()
        );
        let _ = writeln!(
            std::io::stderr(),
            "\n*** NOT RUN: {test}: oidc-provider-mock is not installed in {} ({}/bin/pip install oidc-provider-mock==0.3.4). ***",
            venv.display(),
            venv.display()
        );
        return None;
    }
    let logs = root().join("target/test-logs");
    std::fs::create_dir_all(&logs).expect("log folder");
    let log = std::fs::File::create(logs.join(format!("oidc-mock-{test}.log"))).expect("log");
    let mut child = Command::new(&python)
        .arg(root().join("scripts/oidc-mock"))
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("scripts/oidc-mock starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("its first line");
    let port = line
        .trim()
        .strip_prefix("PORT=")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| {
            let _ = child.kill();
            panic!("{test}: scripts/oidc-mock did not start (see target/test-logs/oidc-mock-{test}.log): {line:?}")
        });
    Some(Provider { child, port })
}

/// One HTTP/1.1 exchange with the provider over loopback (`Connection: close`): the
/// status, the `Location` header, the body.
fn http(method: &str, url: &str, content_type: &str, body: &str) -> (u16, Option<String>, String) {
    let rest = url
        .strip_prefix("http://")
        .expect("a plain-HTTP loopback URL");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut stream = TcpStream::connect(authority).expect("connected");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("sent");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("an answer");
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status");
    let location = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("location"))
        .map(|(_, v)| v.trim().to_owned());
    (status, location, body.to_owned())
}

impl Provider {
    fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Gives `sub` these claims at the provider.
    fn user(&self, sub: &str, claims: &Value) {
        let (status, _, body) = http(
            "PUT",
            &format!("{}/users/{sub}", self.issuer()),
            "application/json",
            &claims.to_string(),
        );
        assert_eq!(status, 204, "{body}");
    }

    /// Submits the provider's authorization form at `authorize_url` as `sub` (or
    /// presses Deny): where the provider sends the browser back, as a path on the
    /// console.
    fn authorize(&self, authorize_url: &str, form: &str) -> String {
        assert!(authorize_url.starts_with(&self.issuer()), "{authorize_url}");
        let (status, _, body) = http("GET", authorize_url, "text/plain", "");
        assert_eq!(status, 200, "the authorization form: {body:.500}");
        assert!(body.contains(r#"name="sub""#), "{body:.500}");
        let (status, location, body) = http(
            "POST",
            authorize_url,
            "application/x-www-form-urlencoded",
            form,
        );
        assert_eq!(status, 302, "{body:.500}");
        let location = location.expect("a redirect");
        location
            .strip_prefix(REDIRECT_ORIGIN)
            .unwrap_or_else(|| panic!("back to the console: {location}"))
            .to_owned()
    }
}

struct Console {
    _dir: tempfile::TempDir,
    app: Arc<App>,
    router: axum::Router,
    https: bool,
}

fn console_with(provider: &Provider, https: bool, clock: Arc<dyn Clock>) -> Console {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = Config::local(dir.path());
    let stores = postroom::app::local_stores(&config).expect("local stores");
    let app = Arc::new(App::with_stores(
        config,
        stores,
        clock,
        Front::named("console", Acknowledgements::Off),
    ));
    let settings = ConsoleSettings {
        https,
        oidc: Some(OidcSettings {
            issuer: provider.issuer(),
            client_id: CLIENT_ID.into(),
            redirect_uri: format!("{REDIRECT_ORIGIN}/auth/callback"),
            group_prefix: "postroom-".into(),
            post_logout_redirect_uri: format!("{REDIRECT_ORIGIN}/signed-out"),
            logout_url: None,
        }),
        ..ConsoleSettings::local(Vec::new())
    };
    let router = postroom::console::router(app.clone(), settings);
    Console {
        _dir: dir,
        app,
        router,
        https,
    }
}

fn console(provider: &Provider, https: bool) -> Console {
    console_with(provider, https, Arc::new(SystemClock))
}

/// A sign-in started: the provider's authorization URL and the login cookie.
struct Started {
    authorize_url: String,
    cookie: String,
    state: String,
}

fn set_cookies(answer: &Response<Body>) -> Vec<String> {
    answer
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().expect("ascii").to_owned())
        .collect()
}

fn query_value(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8()
                .expect("utf-8")
                .into_owned()
        })
}

async fn body_text(answer: Response<Body>) -> String {
    let bytes = answer.into_body().collect().await.expect("body").to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

impl Console {
    async fn send(&self, path: &str, cookie: Option<&str>) -> Response<Body> {
        let mut request = Request::get(path).header(header::ACCEPT, "text/html");
        if let Some(c) = cookie {
            request = request.header(header::COOKIE, c);
        }
        self.router
            .clone()
            .oneshot(request.body(Body::empty()).expect("request"))
            .await
            .expect("an answer")
    }

    fn login_cookie(&self) -> &'static str {
        if self.https {
            "__Host-postroom-login"
        } else {
            "postroom-login"
        }
    }

    fn session_cookie(&self) -> &'static str {
        if self.https {
            "__Host-postroom-session"
        } else {
            "postroom-session"
        }
    }

    async fn start(&self) -> Started {
        let answer = self.send("/sign-in", None).await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER);
        let authorize_url = answer.headers()[header::LOCATION]
            .to_str()
            .expect("ascii")
            .to_owned();
        let cookies = set_cookies(&answer);
        assert_eq!(cookies.len(), 1, "{cookies:?}");
        let set = &cookies[0];
        let prefix = format!("{}=", self.login_cookie());
        assert!(set.starts_with(&prefix), "{set}");
        for attribute in ["; Path=/", "; HttpOnly", "; SameSite=Lax", "; Max-Age=600"] {
            assert!(set.contains(attribute), "{attribute} in {set}");
        }
        assert_eq!(set.contains("; Secure"), self.https, "{set}");
        let state = set[prefix.len()..]
            .split(';')
            .next()
            .expect("a value")
            .to_owned();
        assert_eq!(
            query_value(&authorize_url, "state").as_deref(),
            Some(state.as_str())
        );
        assert_eq!(
            query_value(&authorize_url, "code_challenge_method").as_deref(),
            Some("S256")
        );
        assert_eq!(
            query_value(&authorize_url, "client_id").as_deref(),
            Some(CLIENT_ID)
        );
        assert!(query_value(&authorize_url, "nonce").is_some_and(|n| n.len() >= 43));
        Started {
            authorize_url,
            cookie: format!("{}={state}", self.login_cookie()),
            state,
        }
    }

    /// The session cookie a successful callback set (and checks the login cookie is
    /// cleared).
    fn signed_in(&self, answer: &Response<Body>) -> String {
        assert_eq!(answer.status(), StatusCode::SEE_OTHER);
        assert_eq!(answer.headers()[header::LOCATION], "/");
        let cookies = set_cookies(answer);
        assert!(
            cookies
                .iter()
                .any(|c| c.starts_with(&format!("{}=;", self.login_cookie()))
                    && c.contains("Max-Age=0")),
            "the login cookie is cleared: {cookies:?}"
        );
        let session = cookies
            .iter()
            .find(|c| c.starts_with(&format!("{}=", self.session_cookie())))
            .unwrap_or_else(|| panic!("a session cookie: {cookies:?}"));
        session.split(';').next().expect("a cookie").to_owned()
    }

    /// Refused: an error page, no session.
    async fn refused(&self, answer: Response<Body>, status: StatusCode) -> String {
        assert_eq!(answer.status(), status);
        assert!(
            !set_cookies(&answer)
                .iter()
                .any(|c| c.starts_with(&format!("{}=", self.session_cookie()))),
            "no session"
        );
        body_text(answer).await
    }

    /// Signs out with the form token of the session's home page: the answer.
    async fn sign_out(&self, session: &str) -> Response<Body> {
        let home = body_text(self.send("/", Some(session)).await).await;
        let needle = "name=\"csrf_token\" value=\"";
        let at = home.find(needle).expect("a form token") + needle.len();
        let csrf = &home[at..at + home[at..].find('"').expect("its end")];
        let request = Request::post("/sign-out")
            .header(header::COOKIE, session)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(format!("csrf_token={csrf}")))
            .expect("request");
        self.router
            .clone()
            .oneshot(request)
            .await
            .expect("an answer")
    }

    /// The audit events recorded on the person `who`, oldest first, as stored.
    async fn person_events(&self, who: &str) -> Vec<Item> {
        self.app
            .stores
            .table
            .query_all(
                &Query::new(postroom::model::keys::who(who))
                    .prefix(postroom::model::keys::EVENT_PREFIX),
            )
            .await
            .expect("read")
    }

    /// The sign-in kept for `state`, as stored.
    fn login_key(state: &str) -> Key {
        let digest = hex::encode(Sha256::digest(state.as_bytes()));
        Key::new(
            postroom::model::keys::login(&digest),
            postroom::model::keys::META,
        )
    }
}

fn alice() -> Value {
    json!({
        "name": "Alice Example",
        "email": "alice@example.org",
        "cognito:groups": ["postroom-foi-officer", "postroom-case-handler", "finance"],
    })
}

#[tokio::test]
async fn signs_in_with_the_provider_and_roles_come_from_cognito_groups() {
    let Some(provider) = provider("signs_in_with_the_provider") else {
        return;
    };
    provider.user("alice", &alice());
    let console = console(&provider, false);
    let started = console.start().await;
    // The sign-in in progress is stored under the state's digest, not the state.
    let stored = console
        .app
        .stores
        .table
        .get(&Console::login_key(&started.state))
        .await
        .expect("read")
        .expect("kept");
    assert!(
        !stored
            .values()
            .any(|v| v.as_str() == Some(started.state.as_str()))
    );
    assert!(stored["expires_at"].as_i64().is_some());

    let callback = provider.authorize(&started.authorize_url, "sub=alice");
    assert!(callback.starts_with("/auth/callback?code="), "{callback}");
    let answer = console.send(&callback, Some(&started.cookie)).await;
    let session = console.signed_in(&answer);

    // The session opens the console, as Alice, with the roles of her postroom groups.
    let home = console.send("/", Some(&session)).await;
    assert_eq!(home.status(), StatusCode::OK);
    assert!(body_text(home).await.contains("Alice Example"));
    let token = session.split_once('=').expect("a value").1;
    let record = console
        .app
        .sessions
        .find(
            token,
            Lifetimes {
                idle: Duration::from_secs(1800),
                absolute: Duration::from_secs(8 * 3600),
            },
        )
        .await
        .expect("read")
        .expect("a live session");
    assert_eq!(record.who, "oidc:alice");
    assert_eq!(record.name, "Alice Example");
    let mut roles = record.roles.clone();
    roles.sort();
    assert_eq!(roles, ["case-handler", "foi-officer"]);
    // The sign-in in progress is gone.
    assert!(
        console
            .app
            .stores
            .table
            .get(&Console::login_key(&started.state))
            .await
            .expect("read")
            .is_none()
    );

    // The same callback again (a replay, with its cookie) is refused.
    let replay = console.send(&callback, Some(&started.cookie)).await;
    let page = console.refused(replay, StatusCode::UNAUTHORIZED).await;
    assert!(page.contains("expired or was already used"), "{page}");
}

#[tokio::test]
async fn a_callback_whose_state_is_not_the_browsers_is_refused() {
    let Some(provider) = provider("state_not_the_browsers") else {
        return;
    };
    provider.user("alice", &alice());
    // Over HTTPS: the cookies are `__Host-` and Secure.
    let console = console(&provider, true);
    let victim = console.start().await;
    let attacker = console.start().await;
    // The attacker's own code and state, planted in the victim's browser (login CSRF).
    let planted = provider.authorize(&attacker.authorize_url, "sub=alice");
    let answer = console.send(&planted, Some(&victim.cookie)).await;
    let page = console.refused(answer, StatusCode::BAD_REQUEST).await;
    assert!(page.contains("did not start in this browser"), "{page}");
    // No cookie at all, and a cookie under the plain-HTTP name: refused too.
    for cookie in [None, Some(format!("postroom-login={}", attacker.state))] {
        let answer = console.send(&planted, cookie.as_deref()).await;
        console.refused(answer, StatusCode::BAD_REQUEST).await;
    }
    // The refusals did not use up the attacker's sign-in: its own browser completes it.
    let answer = console.send(&planted, Some(&attacker.cookie)).await;
    console.signed_in(&answer);
    // Nor the victim's sign-in in progress (the refusal cleared its cookie, so a real
    // browser starts again; the item itself was not taken).
    let own = provider.authorize(&victim.authorize_url, "sub=alice");
    let answer = console.send(&own, Some(&victim.cookie)).await;
    console.signed_in(&answer);
}

#[tokio::test]
async fn a_person_with_no_postroom_group_gets_403() {
    let Some(provider) = provider("no_postroom_group") else {
        return;
    };
    provider.user(
        "bob",
        &json!({"name": "Bob", "cognito:groups": ["finance", "postroom", "Postroom-admin"]}),
    );
    provider.user("carol", &json!({"name": "Carol"}));
    let console = console(&provider, false);
    for (sub, name) in [("bob", "Bob"), ("carol", "Carol")] {
        let started = console.start().await;
        let callback = provider.authorize(&started.authorize_url, &format!("sub={sub}"));
        let answer = console.send(&callback, Some(&started.cookie)).await;
        let cookies = set_cookies(&answer);
        assert!(
            cookies.iter().any(|c| c.starts_with("postroom-login=;")),
            "the login cookie is cleared: {cookies:?}"
        );
        let page = console.refused(answer, StatusCode::FORBIDDEN).await;
        assert!(page.contains("no postroom role"), "{page}");
        assert!(!page.contains(name), "no name on the page: {page}");
    }
}

#[tokio::test]
async fn a_refusal_at_the_provider_is_a_clear_page() {
    let Some(provider) = provider("refusal_at_the_provider") else {
        return;
    };
    let console = console(&provider, false);
    let started = console.start().await;
    let callback = provider.authorize(&started.authorize_url, "action=deny");
    assert!(callback.contains("error=access_denied"), "{callback}");
    let answer = console.send(&callback, Some(&started.cookie)).await;
    let page = console.refused(answer, StatusCode::UNAUTHORIZED).await;
    assert!(page.contains("cancelled or refused"), "{page}");
}

#[tokio::test]
async fn the_provider_checks_the_pkce_verifier_and_the_console_the_nonce() {
    let Some(provider) = provider("pkce_and_nonce") else {
        return;
    };
    provider.user("alice", &alice());
    let console = console(&provider, false);
    let table = console.app.stores.table.clone();
    for (field, value) in [
        ("verifier", "x".repeat(43)),
        ("nonce", "not-the-nonce-sent-to-the-provider".to_owned()),
    ] {
        let started = console.start().await;
        let key = Console::login_key(&started.state);
        let mut item = table.get(&key).await.expect("read").expect("kept");
        item.insert(field.into(), value.into());
        table
            .put(item, postroom::store::Condition::Exists)
            .await
            .expect("changed");
        let callback = provider.authorize(&started.authorize_url, "sub=alice");
        let answer = console.send(&callback, Some(&started.cookie)).await;
        let page = console.refused(answer, StatusCode::UNAUTHORIZED).await;
        let expected = if field == "verifier" {
            "did not complete"
        } else {
            "could not be verified"
        };
        assert!(page.contains(expected), "{field}: {page}");
    }
}

/// A clock the test moves on.
#[derive(Debug)]
struct StepClock(Mutex<DateTime<Utc>>);

impl Clock for StepClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock")
    }
}

#[tokio::test]
async fn sign_ins_in_progress_are_single_use_and_last_ten_minutes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = Config::local(dir.path());
    let stores = postroom::app::local_stores(&config).expect("local stores");
    let clock = Arc::new(StepClock(Mutex::new(
        Utc.with_ymd_and_hms(2026, 12, 7, 9, 30, 0)
            .single()
            .expect("a time"),
    )));
    let logins = Logins::new(stores.table.clone(), clock.clone());
    let login = PendingLogin {
        nonce: "n".repeat(43),
        verifier: "v".repeat(43),
        return_to: "/foi?view=due".into(),
    };
    logins.begin("state-1", &login).await.expect("kept");
    // A second sign-in under the same state is refused.
    assert!(logins.begin("state-1", &login).await.is_err());
    assert_eq!(logins.take("state-2").await.expect("read"), None);
    assert_eq!(
        logins.take("state-1").await.expect("read"),
        Some(login.clone())
    );
    assert_eq!(
        logins.take("state-1").await.expect("read"),
        None,
        "used once"
    );

    // Ten minutes: taken at 9:39:59, not at 9:40:00.
    logins.begin("state-3", &login).await.expect("kept");
    logins.begin("state-4", &login).await.expect("kept");
    *clock.0.lock().expect("clock") += chrono::Duration::seconds(599);
    assert!(logins.take("state-3").await.expect("read").is_some());
    *clock.0.lock().expect("clock") += chrono::Duration::seconds(1);
    assert_eq!(logins.take("state-4").await.expect("read"), None, "expired");

    // Only a path on the console is kept as where to go after.
    let offsite = PendingLogin {
        return_to: "//evil.example/".into(),
        ..login
    };
    logins.begin("state-5", &offsite).await.expect("kept");
    assert_eq!(
        logins
            .take("state-5")
            .await
            .expect("read")
            .expect("kept")
            .return_to,
        "/"
    );
    for ok in ["/", "/foi?view=due", "/documents/abc#text"] {
        assert_eq!(safe_return_to(ok), ok);
    }
    for bad in [
        "",
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "/a\\b",
        "/a\r\nSet-Cookie: x=y",
        "/a b",
        "/caf\u{e9}",
        "foi",
        &format!("/{}", "a".repeat(600)),
    ] {
        assert_eq!(safe_return_to(bad), "/", "{bad:?}");
    }
}

/// An event's action, roles, name and how the person signed in.
fn event_summary(e: &Item) -> (String, Vec<String>, String, String) {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let details = &e["details"];
    let mut roles: Vec<String> = details["roles"]
        .as_array()
        .map(|a| a.iter().map(text).collect())
        .unwrap_or_default();
    roles.sort();
    (
        text(&e["what"]),
        roles,
        text(&details["name"]),
        text(&details["method"]),
    )
}

#[tokio::test]
async fn sign_in_refusal_and_sign_out_are_audited_and_sign_out_ends_the_provider_session() {
    let Some(provider) = provider("audit_and_end_session") else {
        return;
    };
    provider.user("alice", &alice());
    provider.user(
        "bob",
        &json!({"name": "Bob Example", "cognito:groups": ["finance"]}),
    );
    let console = console(&provider, false);

    // Bob has no postroom group: refused, and that is recorded with the reason.
    let started = console.start().await;
    let callback = provider.authorize(&started.authorize_url, "sub=bob");
    let code = query_value(&callback, "code").expect("a code");
    let answer = console.send(&callback, Some(&started.cookie)).await;
    console.refused(answer, StatusCode::FORBIDDEN).await;
    let bob = console.person_events("oidc:bob").await;
    assert_eq!(bob.len(), 1, "{bob:?}");
    assert_eq!(
        event_summary(&bob[0]),
        (
            "sign_in_refused".into(),
            vec![],
            "Bob Example".into(),
            "oidc".into()
        )
    );
    assert_eq!(bob[0]["details"]["reason"], "no_role");
    assert_eq!(bob[0]["who"], "oidc:bob");

    // Alice signs in: recorded with her roles.
    let started = console.start().await;
    let callback = provider.authorize(&started.authorize_url, "sub=alice");
    let answer = console.send(&callback, Some(&started.cookie)).await;
    let session = console.signed_in(&answer);
    let signed_in = (
        "signed_in".to_owned(),
        vec!["case-handler".to_owned(), "foi-officer".to_owned()],
        "Alice Example".to_owned(),
        "oidc".to_owned(),
    );
    let events = console.person_events("oidc:alice").await;
    assert_eq!(
        events.iter().map(event_summary).collect::<Vec<_>>(),
        std::slice::from_ref(&signed_in)
    );

    // She signs out: the session ends here, the answer says so and sends the browser on
    // to the provider's end-session endpoint (a Refresh: a form's answer may not
    // redirect to another origin under the console's form-action policy).
    let answer = console.sign_out(&session).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let cleared = set_cookies(&answer);
    assert!(
        cleared
            .iter()
            .any(|c| c.starts_with("postroom-session=;") && c.contains("Max-Age=0")),
        "{cleared:?}"
    );
    let refresh = answer.headers()[header::REFRESH]
        .to_str()
        .expect("ascii")
        .to_owned();
    let end_session = refresh.strip_prefix("0; url=").expect("at once");
    assert!(
        end_session.starts_with(&format!("{}/oauth2/end_session?", provider.issuer())),
        "{end_session}"
    );
    assert_eq!(
        query_value(end_session, "client_id").as_deref(),
        Some(CLIENT_ID)
    );
    assert_eq!(
        query_value(end_session, "post_logout_redirect_uri").as_deref(),
        Some(format!("{REDIRECT_ORIGIN}/signed-out").as_str())
    );
    let page = body_text(answer).await;
    assert!(page.contains("You have signed out"), "{page}");
    let home = console.send("/", Some(&session)).await;
    assert_eq!(home.status(), StatusCode::SEE_OTHER, "the session is over");
    assert_eq!(home.headers()[header::LOCATION], "/sign-in");

    // The provider takes those parameters and, once its session is ended, sends the
    // browser back to the console's signed-out page.
    let (status, _, form) = http("GET", end_session, "text/plain", "");
    assert_eq!(status, 200, "{form:.500}");
    let needle = r#"name="redirect_uri" value=""#;
    let at = form.find(needle).expect("the way back") + needle.len();
    let back = &form[at..at + form[at..].find('"').expect("its end")];
    assert_eq!(back, format!("{REDIRECT_ORIGIN}/signed-out"));
    let (status, location, _) = http(
        "POST",
        &format!("{}/oauth2/end_session/confirm", provider.issuer()),
        "application/x-www-form-urlencoded",
        &format!(
            "redirect_uri={}",
            percent_encoding::utf8_percent_encode(back, percent_encoding::NON_ALPHANUMERIC)
        ),
    );
    assert_eq!(status, 302);
    assert_eq!(location.as_deref(), Some(back));
    let signed_out = console.send("/signed-out", None).await;
    assert_eq!(signed_out.status(), StatusCode::OK);

    let events = console.person_events("oidc:alice").await;
    let mut signed_out = signed_in.clone();
    signed_out.0 = "signed_out".into();
    assert_eq!(
        events.iter().map(event_summary).collect::<Vec<_>>(),
        [signed_in, signed_out]
    );
    // The person's index finds the same events; no token or code is in any of them.
    let by_person = console
        .app
        .audit
        .trail(&[postroom::audit::Source::Person("oidc:alice")], None, 10)
        .await
        .expect("read");
    assert_eq!(by_person.events.len(), 2);
    assert!(by_person.next.is_none());
    let token = session.split_once('=').expect("a value").1;
    let stored = format!("{events:?}{bob:?}");
    for secret in [token, code.as_str(), started.state.as_str()] {
        assert!(!stored.contains(secret), "a secret in the trail");
    }
}

#[tokio::test]
async fn token_sign_in_and_sign_out_are_audited_and_sign_out_stays_on_the_console() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = Config::local(dir.path());
    let stores = postroom::app::local_stores(&config).expect("local stores");
    let app = Arc::new(App::with_stores(
        config,
        stores,
        Arc::new(SystemClock),
        Front::named("console", Acknowledgements::Off),
    ));
    let token = "a-local-sign-in-token-of-enough-length";
    let settings =
        ConsoleSettings::local(vec![LocalToken::new(token, "dana", vec![Role::Letters])]);
    let console = Console {
        _dir: dir,
        router: postroom::console::router(app.clone(), settings),
        app,
        https: false,
    };
    // A wrong token names nobody: refused (and logged), with nothing to record.
    let refused = console.send("/sign-in?token=not-this-one", None).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let answer = console.send(&format!("/sign-in?token={token}"), None).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let session = set_cookies(&answer)[0]
        .split(';')
        .next()
        .expect("a cookie")
        .to_owned();
    let answer = console.sign_out(&session).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert_eq!(answer.headers()[header::LOCATION], "/signed-out");
    assert!(answer.headers().get(header::REFRESH).is_none());
    let events = console.person_events("console:dana").await;
    let summary: Vec<_> = events.iter().map(event_summary).collect();
    let expected = |what: &str| {
        (
            what.to_owned(),
            vec!["letters".to_owned()],
            "dana".to_owned(),
            "token".to_owned(),
        )
    };
    assert_eq!(summary, [expected("signed_in"), expected("signed_out")]);
    assert!(
        !format!("{events:?}").contains(token),
        "no token in the trail"
    );
}
