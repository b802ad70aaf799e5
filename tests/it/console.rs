//! The staff console in process: every route for every role through the same router
//! that `postroom console` and the console function serve, sign-in and sessions (idle
//! and absolute timeouts, sign-out), the CSRF defences (form token and cross-site
//! check), the security headers on every answer, filing from the triage page (audited
//! with the person), and the audit of every view of a claim document.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use chrono::{DateTime, Duration, TimeZone, Utc};
use http_body_util::BodyExt as _;
use postroom::app::{Acknowledgements, App, Front};
use postroom::audit::Object;
use postroom::clock::Clock;
use postroom::config::Config;
use postroom::console::authz::Role;
use postroom::console::{ConsoleSettings, LocalToken};
use postroom::store::Key;
use tower::ServiceExt as _;

/// A clock the test moves on.
#[derive(Debug)]
struct StepClock(Mutex<DateTime<Utc>>);

impl Clock for StepClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock")
    }
}

impl StepClock {
    fn advance(&self, by: Duration) {
        *self.0.lock().expect("clock") += by;
    }
}

struct Console {
    _dir: tempfile::TempDir,
    app: Arc<App>,
    clock: Arc<StepClock>,
    router: axum::Router,
}

fn token_of(role: Option<Role>) -> String {
    format!(
        "token-for-{}-0123456789",
        role.map_or("everyone", Role::as_str)
    )
}

/// A console over a fresh embedded store holding the demo post, with one sign-in token
/// per role and one with every role.
async fn console() -> Console {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = Config::local(dir.path());
    let stores = postroom::app::local_stores(&config).expect("local stores");
    let clock = Arc::new(StepClock(Mutex::new(
        Utc.with_ymd_and_hms(2026, 12, 7, 9, 30, 0)
            .single()
            .expect("a time"),
    )));
    let app = Arc::new(App::with_stores(
        config,
        stores,
        clock.clone(),
        Front::named("console", Acknowledgements::Off),
    ));
    // As `App::open` opens a home: every case in the cases list.
    postroom::cases::listing::relist_once(app.stores.table.as_ref())
        .await
        .expect("listed");
    postroom::demo::run(&app).await.expect("the demo post");
    let mut tokens: Vec<LocalToken> = Role::ALL
        .iter()
        .map(|r| {
            LocalToken::new(
                &token_of(Some(*r)),
                format!("{}-user", r.as_str()),
                vec![*r],
            )
        })
        .collect();
    tokens.push(LocalToken::new(
        &token_of(None),
        "everyone",
        Role::ALL.to_vec(),
    ));
    let router = postroom::console::router(app.clone(), ConsoleSettings::local(tokens));
    Console {
        _dir: dir,
        app,
        clock,
        router,
    }
}

impl Console {
    async fn send(&self, request: Request<Body>) -> Response<Body> {
        self.router
            .clone()
            .oneshot(request)
            .await
            .expect("an answer")
    }

    /// Signs in with the token of `role` (every role when `None`): the cookie.
    async fn sign_in(&self, role: Option<Role>) -> String {
        let answer = self
            .send(get(&format!("/sign-in?token={}", token_of(role)), None))
            .await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER);
        assert_eq!(answer.headers()[header::LOCATION], "/");
        let set = answer.headers()[header::SET_COOKIE]
            .to_str()
            .expect("ascii");
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Lax"),
            "{set}"
        );
        set.split(';').next().expect("a cookie").to_owned()
    }

    async fn page(&self, path: &str, cookie: &str) -> (StatusCode, String) {
        let answer = self.send(get(path, Some(cookie))).await;
        let status = answer.status();
        (status, body(answer).await)
    }

    /// The form token on a signed-in page.
    async fn csrf(&self, cookie: &str) -> String {
        let (_, html) = self.page("/", cookie).await;
        let needle = "name=\"csrf_token\" value=\"";
        let at = html.find(needle).expect("a form token") + needle.len();
        let token = &html[at..at + html[at..].find('"').expect("end")];
        assert_eq!(token.len(), 43, "a whole token");
        token.to_owned()
    }

    /// Whether `object`'s trail holds an event `what` by `who`.
    async fn audited(&self, object: Object<'_>, what: &str, who: &str) -> bool {
        let events = self.app.audit.events(object).await.expect("audit");
        events
            .iter()
            .any(|e| e.what.as_deref() == Some(what) && e.who.as_deref() == Some(who))
    }

    async fn unfiled(&self) -> Vec<String> {
        self.app
            .cases
            .inbox_view()
            .await
            .expect("inbox")
            .into_iter()
            .filter_map(|e| e.doc_id)
            .collect()
    }
}

fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut r = Request::get(path).header(header::ACCEPT, "text/html");
    if let Some(c) = cookie {
        r = r.header(header::COOKIE, c);
    }
    r.body(Body::empty()).expect("a request")
}

fn post(path: &str, cookie: &str, form: &str) -> Request<Body> {
    Request::post(path)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(form.to_owned()))
        .expect("a request")
}

async fn body(answer: Response<Body>) -> String {
    let bytes = answer
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Each page, and the permission it needs (`None`: any signed-in person).
const PAGES: &[(&str, Option<&str>)] = &[
    ("/", None),
    ("/inbox", Some("triage")),
    ("/cases", Some("cases")),
    ("/cases/CNST%2F25%2F008879", Some("cases")),
    ("/cases/SHA%2F22961", Some("cases")),
    ("/claims/deadlines", Some("cases")),
    ("/cases/import", Some("import")),
    ("/search", Some("search")),
    ("/foi", Some("foi")),
    ("/foi?view=due", Some("foi")),
    ("/foi?view=overdue", Some("foi")),
    ("/foi?view=closed", Some("foi")),
    ("/foi/FOI_7001", Some("foi")),
    ("/foi/new", Some("move_foi")),
    ("/uploads/new", Some("upload")),
    ("/letters", Some("letters")),
    ("/letters/claim-acknowledgement", Some("letters")),
    ("/letters/claim-acknowledgement/new", Some("send_letters")),
    ("/letters/claim-acknowledgement/batch", Some("send_letters")),
    ("/audit?case=CNST%2F25%2F008879", Some("audit")),
    ("/jobs", Some("jobs")),
    ("/foi/statistics", Some("foi")),
    ("/foi/disclosure-log", Some("foi")),
];

fn may(role: Role, need: Option<&str>) -> bool {
    use postroom::console::authz::Permission::*;
    let perm = match need {
        None => return true,
        Some("triage") => Triage,
        Some("cases") => ViewCases,
        Some("foi") => ViewFoi,
        Some("move_foi") => MoveFoi,
        Some("upload") => Upload,
        Some("letters") => ViewLetters,
        Some("send_letters") => SendLetters,
        Some("audit") => Audit,
        Some("import") => ImportCases,
        // Search is for whoever may see some document.
        Some("search") => {
            return [ViewCases, ViewFoi, Triage]
                .iter()
                .any(|p| role.permissions().contains(p));
        }
        // Jobs are letter batches, statistics and the disclosure log.
        Some("jobs") => {
            return role.permissions().contains(&SendLetters)
                || role.permissions().contains(&ViewFoi)
                || role.permissions().contains(&ImportCases);
        }
        Some(other) => panic!("{other}"),
    };
    role.permissions().contains(&perm)
}

#[tokio::test]
async fn every_page_answers_each_role_or_refuses_it() {
    let c = console().await;
    for role in Role::ALL {
        let cookie = c.sign_in(Some(role)).await;
        for (path, need) in PAGES {
            let (status, html) = c.page(path, &cookie).await;
            if may(role, *need) {
                assert_eq!(status, StatusCode::OK, "{} on {path}", role.as_str());
                assert!(html.contains("<h1"), "{path} has a heading");
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{} on {path}", role.as_str());
                assert!(html.contains("forbidden"), "the refusal names its code");
            }
        }
    }
}

/// An FOI request's page shows the requester's name and words: each view is recorded
/// with the person, as a case's is.
#[tokio::test]
async fn a_view_of_an_foi_request_is_audited_with_the_person() {
    let c = console().await;
    let officer = c.sign_in(Some(Role::FoiOfficer)).await;
    let (status, _) = c.page("/foi/FOI_7001", &officer).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        c.audited(
            Object::Case("FOI_7001"),
            "viewed_case",
            "console:foi-officer-user"
        )
        .await
    );
}

#[tokio::test]
async fn documents_are_seen_only_by_the_roles_of_their_case() {
    let c = console().await;
    let claim_doc = c
        .app
        .cases
        .view("CNST/25/008879")
        .await
        .expect("view")
        .expect("the demo claim")
        .documents()
        .find_map(|d| d.doc_id.clone())
        .expect("a document");
    let unfiled = c.unfiled().await[0].clone();
    for role in Role::ALL {
        let cookie = c.sign_in(Some(role)).await;
        for (doc, need) in [(&claim_doc, "cases"), (&unfiled, "triage")] {
            for suffix in ["", "/original", "/text"] {
                let path = format!("/documents/{doc}{suffix}");
                let (status, _) = c.page(&path, &cookie).await;
                let want = if may(role, Some(need)) {
                    StatusCode::OK
                } else {
                    StatusCode::FORBIDDEN
                };
                assert_eq!(status, want, "{} on {path}", role.as_str());
            }
        }
    }
    // Every view, download and refusal is in the document's history, with the person.
    let events = c
        .app
        .audit
        .events(Object::Document(&claim_doc))
        .await
        .expect("events");
    let by = |what: &str, who: &str| {
        events
            .iter()
            .any(|e| e.what.as_deref() == Some(what) && e.who.as_deref() == Some(who))
    };
    assert!(by("viewed", "console:case-handler-user"), "{events:?}");
    assert!(by("downloaded", "console:case-handler-user"));
    assert!(by("viewed_text", "console:admin-user"));
    assert!(by("access_refused", "console:foi-officer-user"));
    assert!(!by("viewed", "console:foi-officer-user"));
    // And findable by person.
    let mine = c
        .app
        .audit
        .count_by("console:case-handler-user", 100)
        .await
        .expect("by person");
    assert!(mine >= 3, "{mine}");
    // The audit page finds them by person and by document.
    let admin = c.sign_in(Some(Role::Admin)).await;
    let (_, html) = c
        .page("/audit?who=console%3Acase-handler-user", &admin)
        .await;
    assert!(
        html.contains("Downloaded") && html.contains(&format!("/documents/{claim_doc}")),
        "{html}"
    );
    let (_, html) = c.page(&format!("/audit?doc={claim_doc}"), &admin).await;
    assert!(html.contains("Access refused") && html.contains("console:foi-officer-user"));
}

#[tokio::test]
async fn without_a_session_pages_go_to_sign_in_and_other_requests_get_401() {
    let c = console().await;
    for (path, _) in PAGES {
        let answer = c.send(get(path, None)).await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(answer.headers()[header::LOCATION], "/sign-in");
        let html = body(answer).await;
        assert!(
            !html.contains("FOI_7001") && !html.contains("CNST"),
            "{path} leaks nothing"
        );
    }
    let api = Request::get("/inbox").body(Body::empty()).expect("request");
    assert_eq!(c.send(api).await.status(), StatusCode::UNAUTHORIZED);
    let form = Request::post("/sign-out")
        .body(Body::empty())
        .expect("request");
    assert_eq!(c.send(form).await.status(), StatusCode::UNAUTHORIZED);
    // A forged or stale cookie is no session.
    let (status, _) = c.page("/", "postroom-session=forged").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // A wrong token is refused with the sign-in page.
    let (status, html) = c.page("/sign-in?token=wrong-token-0123456789", "x=y").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("not valid"));
}

#[tokio::test]
async fn sessions_end_when_idle_too_long_at_the_absolute_limit_and_on_sign_out() {
    let c = console().await;
    // Idle: 29 minutes between requests keeps it; 31 ends it.
    let cookie = c.sign_in(None).await;
    c.clock.advance(Duration::minutes(29));
    assert_eq!(c.page("/", &cookie).await.0, StatusCode::OK);
    c.clock.advance(Duration::minutes(31));
    assert_eq!(c.page("/", &cookie).await.0, StatusCode::SEE_OTHER);
    // Absolute: active every 20 minutes, it still ends after 8 hours.
    let cookie = c.sign_in(None).await;
    for _ in 0..24 {
        c.clock.advance(Duration::minutes(20));
        assert_eq!(c.page("/", &cookie).await.0, StatusCode::OK);
    }
    c.clock.advance(Duration::minutes(20));
    assert_eq!(c.page("/", &cookie).await.0, StatusCode::SEE_OTHER);
    // Sign-out deletes it: the same cookie opens nothing afterwards.
    let cookie = c.sign_in(None).await;
    let csrf = c.csrf(&cookie).await;
    let answer = c
        .send(post("/sign-out", &cookie, &format!("csrf_token={csrf}")))
        .await;
    assert_eq!(
        answer.status(),
        StatusCode::SEE_OTHER,
        "{}",
        body(answer).await
    );
    assert_eq!(answer.headers()[header::LOCATION], "/signed-out");
    assert!(
        answer.headers()[header::SET_COOKIE]
            .to_str()
            .expect("ascii")
            .contains("Max-Age=0")
    );
    assert_eq!(c.page("/", &cookie).await.0, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn forms_without_their_token_or_from_another_site_are_refused() {
    let c = console().await;
    let cookie = c.sign_in(None).await;
    let csrf = c.csrf(&cookie).await;
    let doc = c.unfiled().await[0].clone();
    let path = format!("/inbox/{doc}/file");
    let good = format!("csrf_token={csrf}&case_ref=CNST%2F25%2F008879");
    for form in [
        "case_ref=CNST%2F25%2F008879".to_owned(),
        "csrf_token=not-the-token&case_ref=CNST%2F25%2F008879".to_owned(),
    ] {
        let answer = c.send(post(&path, &cookie, &form)).await;
        assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{form}");
    }
    // The right token from another site: refused before the form is read.
    for (name, value) in [
        ("sec-fetch-site", "cross-site"),
        ("origin", "https://evil.example"),
    ] {
        let mut request = post(&path, &cookie, &good);
        request.headers_mut().remove("sec-fetch-site");
        request
            .headers_mut()
            .insert(name, value.parse().expect("header"));
        request
            .headers_mut()
            .insert(header::HOST, "127.0.0.1:8080".parse().expect("header"));
        let answer = c.send(request).await;
        assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{name}: {value}");
    }
    // Another person's token does not do either.
    let other = c.sign_in(Some(Role::Admin)).await;
    let answer = c.send(post(&path, &other, &good)).await;
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    assert_eq!(c.unfiled().await.len(), 2, "nothing was filed");
    // The same form, from this site with its token, is accepted.
    let answer = c.send(post(&path, &cookie, &good)).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert_eq!(c.unfiled().await.len(), 1);
}

#[tokio::test]
async fn triage_files_a_document_audited_with_the_person_then_shows_the_next() {
    let c = console().await;
    let cookie = c.sign_in(Some(Role::CaseHandler)).await;
    let csrf = c.csrf(&cookie).await;
    let waiting = c.unfiled().await;
    assert_eq!(waiting.len(), 2);
    // The inbox lists both, with why each is unfiled.
    let (_, html) = c.page("/inbox", &cookie).await;
    assert!(html.contains(&waiting[0]) && html.contains(&waiting[1]));
    assert!(html.contains("It carries no reference of ours"));
    let (first, second) = (&waiting[0], &waiting[1]);
    // A case that does not exist: the form again, with the error and what was typed.
    let answer = c
        .send(post(
            &format!("/inbox/{second}/file"),
            &cookie,
            &format!("csrf_token={csrf}&case_ref=CNST%2F99%2F000001&then=next"),
        ))
        .await;
    assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = body(answer).await;
    assert!(
        html.contains("govuk-error-summary") && html.contains("There is no case CNST/99/000001")
    );
    assert!(html.contains("value=\"CNST/99/000001\""));
    // A case handler may not file to an FOI request.
    let answer = c
        .send(post(
            &format!("/inbox/{second}/file"),
            &cookie,
            &format!("csrf_token={csrf}&case_ref=FOI_7001&then=next"),
        ))
        .await;
    assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Save and file next: filed, then the other unfiled document.
    let answer = c
        .send(post(
            &format!("/inbox/{second}/file"),
            &cookie,
            &format!("csrf_token={csrf}&case_ref=+CNST%2F25%2F008879+&then=next"),
        ))
        .await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let next = answer.headers()[header::LOCATION]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(next, format!("/documents/{first}?filed=CNST%2F25%2F008879"));
    let (_, html) = c.page(&next, &cookie).await;
    assert!(html.contains("The last document was filed to case CNST/25/008879."));
    let doc = c
        .app
        .cases
        .document_view(second)
        .await
        .expect("doc")
        .expect("doc");
    assert_eq!(doc.status.as_deref(), Some("filed"));
    assert_eq!(doc.case_ref.as_deref(), Some("CNST/25/008879"));
    let events = c
        .app
        .audit
        .events(Object::Document(second))
        .await
        .expect("events");
    assert!(
        events
            .iter()
            .any(|e| e.what.as_deref() == Some("filed_by_hand")
                && e.who.as_deref() == Some("console:case-handler-user")),
        "{events:?}"
    );
    // Filing it again is refused: it is no longer unfiled.
    let answer = c
        .send(post(
            &format!("/inbox/{second}/file"),
            &cookie,
            &format!("csrf_token={csrf}&case_ref=CNST%2F25%2F008879"),
        ))
        .await;
    assert_eq!(answer.status(), StatusCode::CONFLICT);
    assert!(
        c.app
            .stores
            .table
            .get(&Key::new(postroom::model::keys::doc(second), "META"))
            .await
            .expect("get")
            .is_some()
    );
}

#[tokio::test]
async fn every_answer_carries_the_policy_and_security_headers() {
    let c = console().await;
    let cookie = c.sign_in(None).await;
    let mut paths: Vec<String> = PAGES.iter().map(|(p, _)| p.to_string()).collect();
    paths.extend(
        [
            "/nope",
            "/sign-in",
            "/signed-out",
            "/healthz",
            "/assets/govuk-frontend.min.css",
        ]
        .map(String::from),
    );
    for path in paths {
        let answer = c.send(get(&path, Some(&cookie))).await;
        let h = answer.headers();
        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().expect("ascii");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
        assert!(h.contains_key(header::REFERRER_POLICY), "{path}");
        assert!(h.contains_key(header::CACHE_CONTROL), "{path}");
    }
    // Assets: long-lived when asked for by version, revalidated otherwise, 304 on a match.
    let v = postroom_web::assets::version();
    let answer = c
        .send(get(&format!("/assets/console.js?v={v}"), None))
        .await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(
        answer.headers()[header::CACHE_CONTROL]
            .to_str()
            .expect("ascii")
            .contains("immutable")
    );
    let etag = answer.headers()[header::ETAG].clone();
    let again = Request::get("/assets/console.js")
        .header(header::IF_NONE_MATCH, etag)
        .body(Body::empty())
        .expect("request");
    assert_eq!(c.send(again).await.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(
        c.send(get("/assets/../Cargo.toml", None)).await.status(),
        StatusCode::NOT_FOUND
    );
    // The page links its assets by version.
    let (_, html) = c.page("/", &cookie).await;
    assert!(html.contains(&format!("/assets/govuk-frontend.min.css?v={v}")));
}

/// The `Location` of a 303.
fn location(answer: &Response<Body>) -> String {
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    answer.headers()[header::LOCATION]
        .to_str()
        .expect("ascii")
        .to_owned()
}

#[tokio::test]
async fn an_foi_officer_logs_a_request_and_moves_its_clock_and_an_approver_publishes_it() {
    let c = console().await;
    let officer = c.sign_in(Some(Role::FoiOfficer)).await;
    let csrf = c.csrf(&officer).await;
    // An empty form: every problem at once, nothing logged.
    let answer = c
        .send(post(
            "/foi",
            &officer,
            &format!("csrf_token={csrf}&received=5+May"),
        ))
        .await;
    assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = body(answer).await;
    for problem in [
        "Enter who asked",
        "Enter the date as year-month-day",
        "Enter what they asked for",
    ] {
        assert!(html.contains(problem), "{problem}");
    }
    let before = c.app.foi.all().await.expect("all").len();
    let form = format!(
        "csrf_token={csrf}&requester=Ms+Ada+Example&received=2026-12-01&text=How+many+claims+were+settled+in+2025%3F"
    );
    let page = location(&c.send(post("/foi", &officer, &form)).await);
    assert_eq!(c.app.foi.all().await.expect("all").len(), before + 1);
    let reference = page.trim_start_matches("/foi/").to_owned();
    let (status, html) = c.page(&page, &officer).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Ask for clarification") && html.contains("Respond"));
    assert!(
        !html.contains("Decide the internal review"),
        "only the moves its status allows"
    );
    // A deadline change needs its reason.
    let path = format!("{page}/moves/extend_for_public_interest");
    let start = format!("{page}/moves/start_work");
    location(
        &c.send(post(
            &start,
            &officer,
            &format!("csrf_token={csrf}&on=2026-12-02"),
        ))
        .await,
    );
    let answer = c
        .send(post(
            &path,
            &officer,
            &format!("csrf_token={csrf}&on=2026-12-03&days=20&reason=+"),
        ))
        .await;
    assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body(answer)
            .await
            .contains("Give the reason for changing the deadline")
    );
    let moved = location(
        &c.send(post(
            &path,
            &officer,
            &format!(
                "csrf_token={csrf}&on=2026-12-03&days=20&reason=Public+interest+test+on+section+43"
            ),
        ))
        .await,
    );
    let (_, html) = c.page(&moved, &officer).await;
    assert!(html.contains("Done: extend for the public interest test."));
    assert!(html.contains("20 working days"));
    // A move the status does not allow is refused with the reason, and changes nothing.
    let answer = c
        .send(post(
            &format!("{page}/moves/fee_paid"),
            &officer,
            &format!("csrf_token={csrf}&on=2026-12-04"),
        ))
        .await;
    assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Respond (refused needs exemptions, given one a line).
    location(
        &c.send(post(
            &format!("{page}/moves/respond"),
            &officer,
            &format!("csrf_token={csrf}&on=2026-12-04&outcome=granted&exemptions="),
        ))
        .await,
    );
    let case = c
        .app
        .foi
        .get(&reference)
        .await
        .expect("get")
        .expect("the request");
    assert_eq!(case.request.status.as_str(), "responded");
    assert_eq!(case.request.pit_extension, 20);
    // Each move is in the request's history under the officer's name.
    let events = c
        .app
        .audit
        .events(Object::Case(&reference))
        .await
        .expect("events");
    let by_officer = events
        .iter()
        .filter(|e| e.who.as_deref() == Some("console:foi-officer-user"))
        .count();
    assert!(by_officer >= 3, "{events:?}");
    // A case handler cannot move it, nor publish; the officer cannot publish either.
    let handler = c.sign_in(Some(Role::CaseHandler)).await;
    let hcsrf = c.csrf(&handler).await;
    let answer = c
        .send(post(
            &format!("{page}/moves/close"),
            &handler,
            &format!("csrf_token={hcsrf}&on=2026-12-05"),
        ))
        .await;
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        c.page(&format!("{page}/publish"), &officer).await.0,
        StatusCode::FORBIDDEN
    );
    // The officer makes the response letter; it is listed and opens as a PDF.
    let made = location(
        &c.send(post(
            &format!("{page}/letters/response"),
            &officer,
            &format!("csrf_token={csrf}&information=We+settled+12+claims+in+2025."),
        ))
        .await,
    );
    let (_, html) = c.page(&made, &officer).await;
    assert!(html.contains("The letter was made"));
    let at = html
        .find(&format!("/cases/{reference}/letters/"))
        .expect("a link to the letter");
    let href = &html[at..at + html[at..].find('"').expect("end")];
    let answer = c.send(get(href, Some(&officer))).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.headers()[header::CONTENT_TYPE], "application/pdf");
    assert!(body(answer).await.starts_with("%PDF"));
    // The approver sees exactly what will be published, and must confirm the check.
    let approver = c.sign_in(Some(Role::FoiApprover)).await;
    let acsrf = c.csrf(&approver).await;
    let (status, html) = c.page(&format!("{page}/publish"), &approver).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Check what will be published"));
    assert!(
        !html.contains("Ada Example"),
        "the requester's name is not published"
    );
    let answer = c
        .send(post(
            &format!("{page}/publish"),
            &approver,
            &format!("csrf_token={acsrf}"),
        ))
        .await;
    assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        c.app
            .foi
            .disclosure_log()
            .await
            .expect("log")
            .iter()
            .all(|e| e.reference != reference)
    );
    let done = location(
        &c.send(post(
            &format!("{page}/publish"),
            &approver,
            &format!("csrf_token={acsrf}&checked=yes"),
        ))
        .await,
    );
    assert_eq!(done, format!("{page}?published=1"));
    assert!(
        c.app
            .foi
            .disclosure_log()
            .await
            .expect("log")
            .iter()
            .any(|e| e.reference == reference)
    );
}

/// A multipart body: the form token first, then each file.
fn multipart(csrf: Option<&str>, files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "postroom-test-boundary-7d3f";
    let mut out = Vec::new();
    if let Some(token) = csrf {
        out.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n")
                .as_bytes(),
        );
    }
    for (name, bytes) in files {
        out.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        out.extend_from_slice(bytes);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), out)
}

fn upload_request(cookie: &str, csrf: Option<&str>, files: &[(&str, &[u8])]) -> Request<Body> {
    let (content_type, bytes) = multipart(csrf, files);
    Request::post("/uploads")
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, content_type)
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(bytes))
        .expect("a request")
}

#[tokio::test]
async fn uploaded_files_are_read_in_the_background_and_their_page_shows_where_each_went() {
    let c = console().await;
    let cookie = c.sign_in(Some(Role::CaseHandler)).await;
    let csrf = c.csrf(&cookie).await;
    let sample = |wanted: &str| {
        postroom::demo::SAMPLES
            .iter()
            .find(|(name, _)| name.contains(wanted))
            .map(|(_, bytes)| *bytes)
            .expect("a bundled sample")
    };
    let letter = sample("letter-of-claim");
    // Without the token first, nothing is read or stored.
    let answer = c
        .send(upload_request(&cookie, None, &[("a.pdf", letter)]))
        .await;
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    // No file chosen: the form again, with the error.
    let answer = c.send(upload_request(&cookie, Some(&csrf), &[])).await;
    assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body(answer).await.contains("Choose at least one file"));
    // A letter, a new file that belongs nowhere, and an executable named as a PDF.
    let files: &[(&str, &[u8])] = &[
        ("../../claim letter.pdf", letter),
        (
            "note.txt",
            b"Please find attached our note about a car park.\n",
        ),
        (
            "invoice.pdf",
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff",
        ),
    ];
    let page = location(&c.send(upload_request(&cookie, Some(&csrf), files)).await);
    assert!(page.starts_with("/uploads/"), "{page}");
    let mut html = String::new();
    for _ in 0..200 {
        html = c.page(&page, &cookie).await.1;
        if !html.contains("http-equiv=\"refresh\"") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(html.contains("Every file has been read"), "{html}");
    assert!(
        html.contains("claim letter.pdf") && !html.contains("../"),
        "the name is cleaned"
    );
    assert!(
        html.contains("Duplicate") || html.contains("Filed"),
        "the letter of claim"
    );
    assert!(html.contains("In the inbox"), "the note");
    assert!(
        html.contains("Quarantined"),
        "the executable, whatever its name"
    );
    // The upload is in its sender's audit trail.
    let sender = "console:case-handler-user";
    assert!(c.audited(Object::Person(sender), "uploaded", sender).await);
    // Another person does not see this upload.
    let other = c.sign_in(Some(Role::Admin)).await;
    assert_eq!(c.page(&page, &other).await.0, StatusCode::NOT_FOUND);
    // Roles without upload: 403.
    let letters = c.sign_in(Some(Role::Letters)).await;
    assert_eq!(
        c.page("/uploads/new", &letters).await.0,
        StatusCode::FORBIDDEN
    );
}

/// An upload's page refreshes itself while its files are read, counting, and stops after
/// 10 minutes with words on what to do (a browser left on it is then idle, and signed out
/// in time).
#[tokio::test]
async fn an_uploads_page_stops_refreshing_itself_after_ten_minutes() {
    let c = console().await;
    let cookie = c.sign_in(Some(Role::CaseHandler)).await;
    // Staged and never read: its file stays "Reading".
    let files = vec![(
        "slow.txt".to_owned(),
        bytes::Bytes::from_static(b"A letter still being read.\n"),
    )];
    c.app
        .uploads
        .stage(
            c.app.ingest(),
            "0123456789abcdef",
            "console:case-handler-user",
            c.app.bucket(),
            files,
        )
        .await
        .expect("staged");
    let (status, html) = c.page("/uploads/0123456789abcdef", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("content=\"2;url=/uploads/0123456789abcdef?n=1\""),
        "{html}"
    );
    let (_, html) = c.page("/uploads/0123456789abcdef?n=299", &cookie).await;
    assert!(html.contains("?n=300\""), "{html}");
    let (status, html) = c.page("/uploads/0123456789abcdef?n=300", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("http-equiv=\"refresh\""), "{html}");
    assert!(html.contains("still being read after 10 minutes"), "{html}");
}

/// The claim acknowledgement's example as form fields (address lines one a line).
fn example_fields(sep: &str) -> Vec<(String, String)> {
    example_fields_of("claim-acknowledgement", sep)
}

/// A template's example data as form fields (lists joined by `sep`).
fn example_fields_of(template: &str, sep: &str) -> Vec<(String, String)> {
    let t = postroom::letters::Registry::embedded()
        .get(template)
        .expect("the template");
    t.example
        .as_object()
        .expect("an object")
        .iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::Array(items) => items
                    .iter()
                    .filter_map(|i| i.as_str())
                    .collect::<Vec<_>>()
                    .join(sep),
                serde_json::Value::Bool(b) => if *b { "yes" } else { "no" }.to_owned(),
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), text)
        })
        .collect()
}

fn urlencode(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                percent_encoding::utf8_percent_encode(k, percent_encoding::NON_ALPHANUMERIC),
                percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Letters go only to the kind of case their template is for, and an FOI request's
/// letters only from someone who may move FOI requests: the letters role can neither make
/// an FOI request's acknowledgement (made once, it is final) nor batch FOI letters.
#[tokio::test]
async fn letters_go_only_to_their_kind_of_case_and_foi_letters_only_from_foi_officers() {
    let c = console().await;
    let letters_of = |reference: &'static str| {
        let app = c.app.clone();
        async move {
            app.cases
                .view(reference)
                .await
                .expect("view")
                .expect("the case")
                .letters()
                .count()
        }
    };
    let make = |template: &str, case: &str, csrf: &str| {
        let mut form = vec![
            ("csrf_token".to_owned(), csrf.to_owned()),
            ("action".to_owned(), "make".to_owned()),
            ("case_ref".to_owned(), case.to_owned()),
        ];
        form.extend(example_fields_of(template, "\n"));
        urlencode(&form)
    };
    let foi_letters = letters_of("FOI_7001").await;
    let clerk = c.sign_in(Some(Role::Letters)).await;
    let csrf = c.csrf(&clerk).await;
    let answer = c
        .send(post(
            "/letters/foi-acknowledgement/new",
            &clerk,
            &make("foi-acknowledgement", "FOI_7001", &csrf),
        ))
        .await;
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    // A claim's letter for an FOI request, by anyone: the wrong kind of case.
    let answer = c
        .send(post(
            "/letters/claim-acknowledgement/new",
            &clerk,
            &make("claim-acknowledgement", "FOI_7001", &csrf),
        ))
        .await;
    assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body(answer).await.contains("not for FOI requests"));
    let admin = c.sign_in(None).await;
    let admin_csrf = c.csrf(&admin).await;
    let answer = c
        .send(post(
            "/letters/foi-acknowledgement/new",
            &admin,
            &make("foi-acknowledgement", "CNST/25/008879", &admin_csrf),
        ))
        .await;
    assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body(answer).await.contains("are for FOI requests"));
    assert_eq!(letters_of("FOI_7001").await, foi_letters, "nothing made");
    // Batches: FOI letters are refused to the letters role whole, and a claim letter's
    // row naming an FOI request is a problem of its row.
    let batch = |template: &str, csv: &str, cookie: &str, csrf: &str| {
        let boundary = "b-7d3f";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"csv\"; filename=\"batch.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
        );
        Request::post(format!("/letters/{template}/batch"))
            .header(header::COOKIE, cookie)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(body))
            .expect("request")
    };
    let answer = c
        .send(batch("foi-response", "case_ref\nFOI_7001\n", &clerk, &csrf))
        .await;
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    let example = example_fields("|");
    let header: Vec<&str> = std::iter::once("case_ref")
        .chain(example.iter().map(|(k, _)| k.as_str()))
        .collect();
    let row = |case: &str| {
        std::iter::once(case.to_owned())
            .chain(example.iter().map(|(_, v)| v.clone()))
            .map(|cell| format!("\"{}\"", cell.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(",")
    };
    let csv = [header.join(","), row("CNST/25/008879"), row("FOI_7001")].join("\n");
    let answer = c
        .send(batch("claim-acknowledgement", &csv, &clerk, &csrf))
        .await;
    assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = body(answer).await;
    assert!(html.contains("1 problem in 2 rows"), "{html}");
    assert!(html.contains("not for FOI requests"), "{html}");
}

#[tokio::test]
async fn letters_preview_make_for_a_case_and_batches_are_checked_whole_before_anything_is_made() {
    let c = console().await;
    let cookie = c.sign_in(Some(Role::Letters)).await;
    let csrf = c.csrf(&cookie).await;
    let (status, html) = c.page("/letters", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("/letters/claim-acknowledgement"));
    let (status, html) = c.page("/letters/claim-acknowledgement", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("received_date") && html.contains("Dear Ms O’Neill"),
        "fields and the example's text"
    );
    let answer = c
        .send(get(
            "/letters/claim-acknowledgement/example.pdf",
            Some(&cookie),
        ))
        .await;
    assert_eq!(answer.headers()[header::CONTENT_TYPE], "application/pdf");
    assert_eq!(
        c.page("/letters/nope", &cookie).await.0,
        StatusCode::NOT_FOUND
    );
    // The form is generated from the declared fields.
    let (_, html) = c
        .page(
            "/letters/claim-acknowledgement/new?case=CNST%2F25%2F008879",
            &cookie,
        )
        .await;
    for field in ["recipient_address", "claimant_name", "records_requested"] {
        assert!(html.contains(&format!("name=\"{field}\"")), "{field}");
    }
    // A preview with a bad date: every problem at once, nothing made.
    let mut fields = example_fields("\n");
    fields.retain(|(k, _)| k != "claimant_name");
    fields.push(("letter_date".into(), "31/02/2024".into()));
    fields.retain(|(k, v)| !(k == "letter_date" && v == "2024-03-12"));
    let mut form = vec![
        ("csrf_token".to_owned(), csrf.clone()),
        ("case_ref".to_owned(), "CNST/25/008879".to_owned()),
        ("action".to_owned(), "make".to_owned()),
    ];
    form.extend(fields);
    let answer = c
        .send(post(
            "/letters/claim-acknowledgement/new",
            &cookie,
            &urlencode(&form),
        ))
        .await;
    assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = body(answer).await;
    assert!(
        html.contains("claimant_name:") && html.contains("letter_date:"),
        "both problems"
    );
    let letters_before = c
        .app
        .cases
        .view("CNST/25/008879")
        .await
        .expect("v")
        .expect("case")
        .letters()
        .count();
    // Right, for a case that does not exist: refused; for the claim: made.
    let mut form: Vec<(String, String)> = vec![
        ("csrf_token".to_owned(), csrf.clone()),
        ("action".to_owned(), "make".to_owned()),
    ];
    form.extend(example_fields("\n"));
    let mut missing = form.clone();
    missing.push(("case_ref".into(), "CNST/99/000001".into()));
    let answer = c
        .send(post(
            "/letters/claim-acknowledgement/new",
            &cookie,
            &urlencode(&missing),
        ))
        .await;
    assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body(answer)
            .await
            .contains("There is no case CNST/99/000001")
    );
    form.push(("case_ref".into(), "CNST/25/008879".into()));
    location(
        &c.send(post(
            "/letters/claim-acknowledgement/new",
            &cookie,
            &urlencode(&form),
        ))
        .await,
    );
    let letters_after = c
        .app
        .cases
        .view("CNST/25/008879")
        .await
        .expect("v")
        .expect("case")
        .letters()
        .count();
    assert_eq!(letters_after, letters_before + 1);
    // A batch with errors in two rows: listed by spreadsheet row and column, none made.
    let example = example_fields("|");
    let header: Vec<&str> = std::iter::once("case_ref")
        .chain(example.iter().map(|(k, _)| k.as_str()))
        .collect();
    let row = |case: &str, change: Option<(&str, &str)>| {
        let cells: Vec<String> = std::iter::once(case.to_owned())
            .chain(example.iter().map(|(k, v)| match change {
                Some((field, value)) if field == k => value.to_owned(),
                _ => v.clone(),
            }))
            .map(|c| format!("\"{}\"", c.replace('"', "\"\"")))
            .collect();
        cells.join(",")
    };
    let bad_csv = [
        header.join(","),
        row("CNST/25/008879", None),
        row("CNST/25/008879", Some(("received_date", "yesterday"))),
        row("", None),
    ]
    .join("\n");
    let batch = |csv: &str| {
        let boundary = "b-7d3f";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"csv\"; filename=\"batch.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
        );
        Request::post("/letters/claim-acknowledgement/batch")
            .header(header::COOKIE, &cookie)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(body))
            .expect("request")
    };
    let answer = c.send(batch(&bad_csv)).await;
    assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = body(answer).await;
    assert!(html.contains("2 problems in 3 rows"), "{html}");
    assert!(
        html.contains("<td class=\"govuk-table__cell\">3</td>") && html.contains("received_date")
    );
    assert!(html.contains("<td class=\"govuk-table__cell\">4</td>") && html.contains("case_ref"));
    // The same file fixed: ready; started; made in the background.
    let good_csv = [
        header.join(","),
        row("CNST/25/008879", None),
        row("SHA/22961", None),
    ]
    .join("\n");
    let answer = c.send(batch(&good_csv)).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let html = body(answer).await;
    assert!(html.contains("2 letters ready to make"));
    let at = html.find("/jobs/").expect("a start form");
    let start = &html[at..at + html[at..].find('"').expect("end")];
    let job = location(
        &c.send(post(start, &cookie, &format!("csrf_token={csrf}")))
            .await,
    );
    let mut html = String::new();
    for _ in 0..400 {
        html = c.page(&job, &cookie).await.1;
        if html.contains("The batch is finished") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(html.contains("The batch is finished"), "{html}");
    assert!(html.contains("<dd class=\"govuk-summary-list__value\">2</dd>"));
    // The batch is on the person's list and on the home page.
    let (_, html) = c.page("/jobs", &cookie).await;
    assert!(html.contains("2 of 2 made, 0 not made"), "{html}");
    let (_, html) = c.page("/", &cookie).await;
    assert!(html.contains("letter batches waiting or running"));
    // Starting it again makes nothing more.
    location(
        &c.send(post(start, &cookie, &format!("csrf_token={csrf}")))
            .await,
    );
    let appeal_letters = c
        .app
        .cases
        .view("SHA/22961")
        .await
        .expect("v")
        .expect("case")
        .letters()
        .count();
    assert_eq!(appeal_letters, 1);
    // Other roles may not make letters.
    let handler = c.sign_in(Some(Role::CaseHandler)).await;
    assert_eq!(c.page("/letters", &handler).await.0, StatusCode::FORBIDDEN);
}

/// The classes (`govuk-…`, `moj-…`) in a piece of HTML or CSS.
fn frontend_classes(text: &str) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for prefix in ["govuk-", "moj-"] {
        let mut rest = text;
        while let Some(at) = rest.find(prefix) {
            let before = rest[..at].chars().last();
            let tail = &rest[at..];
            let end = tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                .unwrap_or(tail.len());
            // A class name starts after a space, a quote or a dot (CSS), not inside a word.
            if matches!(before, None | Some(' ' | '"' | '.' | '\n')) {
                out.insert(tail[..end].trim_end_matches(['-', '_']).to_owned());
            }
            rest = &tail[end.max(1)..];
        }
    }
    out
}

#[test]
fn the_templates_use_only_gov_uk_frontend_classes_that_exist_with_its_markup() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let vendor = root.join("crates/web/vendor");
    let mut known = String::new();
    for file in [
        "govuk-frontend.min.css",
        "moj-frontend.min.css",
        "govuk-frontend.min.js",
    ] {
        known.push_str(&std::fs::read_to_string(vendor.join(file)).expect("vendored file"));
    }
    for fixture in std::fs::read_dir(vendor.join("fixtures")).expect("fixtures") {
        known.push_str(&std::fs::read_to_string(fixture.expect("entry").path()).expect("fixture"));
    }
    let known = frontend_classes(&known);
    let mut unknown = Vec::new();
    let mut layout = String::new();
    for entry in std::fs::read_dir(root.join("src/console/templates")).expect("templates") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("template");
        for class in frontend_classes(&text) {
            // Modifiers built in the template (`govuk-tag {{ class }}`) are checked where
            // they are written: in routes.rs, below.
            if !known.contains(&class) && !class.ends_with("__") {
                unknown.push(format!("{}: {class}", path.display()));
            }
        }
        if path.ends_with("layout.html") {
            layout = text;
        }
    }
    let routes = std::fs::read_to_string(root.join("src/console/routes.rs")).expect("routes");
    for class in frontend_classes(&routes) {
        if !known.contains(&class) {
            unknown.push(format!("routes.rs: {class}"));
        }
    }
    assert!(
        unknown.is_empty(),
        "classes GOV.UK Frontend does not have: {unknown:#?}"
    );
    // The shared chrome is the components' own markup (fixtures.json, whitespace aside).
    let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let fixture = |component: &str, name: &str| -> String {
        let text = std::fs::read_to_string(vendor.join(format!("fixtures/{component}.json")))
            .expect("fixture");
        let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        let html = json["fixtures"]
            .as_array()
            .expect("fixtures")
            .iter()
            .find(|f| f["name"] == name)
            .and_then(|f| f["html"].as_str())
            .expect("the fixture")
            .to_owned();
        squash(&html)
    };
    let layout = squash(&layout);
    let skip = fixture("skip-link", "default").replace("#test-target-element", "#main-content");
    assert!(layout.contains(&skip), "the skip link is GOV.UK's: {skip}");
    let header = fixture("generic-header", "default").replace("My cool service", "postroom");
    let header = header.replace("> postroom <", ">postroom<");
    assert!(
        layout.contains(&header),
        "the header is GOV.UK's generic header: {header}"
    );
    assert!(
        !layout.contains("govuk-header__logotype") && !layout.contains("crown"),
        "no crown"
    );
}

#[tokio::test]
async fn a_direct_upload_is_recorded_only_for_its_sender_under_their_own_prefix() {
    use postroom::store::PutOptions;
    let c = console().await;
    let cookie = c.sign_in(Some(Role::CaseHandler)).await;
    let who = "console:case-handler-user";
    let put = |key: String, by: &str| {
        let blobs = c.app.stores.blobs.clone();
        let by = by.to_owned();
        async move {
            let options = PutOptions {
                metadata: [("uploaded-by".to_owned(), by)].into(),
                ..PutOptions::default()
            };
            blobs
                .put(
                    &key,
                    bytes::Bytes::from_static(b"Our ref: FOI_7001. A note."),
                    &options,
                )
                .await
                .expect("put");
        }
    };
    // Theirs, under their prefix for this upload: recorded, then its progress page.
    let mine = postroom::model::keys::direct_upload_prefix(who, "u1") + "note.txt";
    put(mine.clone(), who).await;
    let answer = c
        .send(get(
            &format!(
                "/uploads/u1/done?bucket=local&key={}",
                mine.replace('/', "%2F")
            ),
            Some(&cookie),
        ))
        .await;
    assert_eq!(location(&answer), "/uploads/u1");
    let (status, html) = c.page("/uploads/u1", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("note.txt") && html.contains("Reading"),
        "{html}"
    );
    // Someone else's prefix, or an object that says another person sent it: nothing.
    let theirs = postroom::model::keys::direct_upload_prefix("console:admin-user", "u2") + "x.txt";
    put(theirs.clone(), "console:admin-user").await;
    let forged = postroom::model::keys::direct_upload_prefix(who, "u3") + "y.txt";
    put(forged.clone(), "console:admin-user").await;
    for (id, key) in [
        ("u2", &theirs),
        ("u3", &forged),
        ("u1", &"inbox/elsewhere.txt".to_owned()),
    ] {
        let path = format!("/uploads/{id}/done?key={}", key.replace('/', "%2F"));
        assert_eq!(
            c.page(&path, &cookie).await.0,
            StatusCode::NOT_FOUND,
            "{key}"
        );
    }
    // The embedded default offers no direct form: the console's own form, even with an
    // origin configured.
    let (_, html) = c.page("/uploads/new", &cookie).await;
    assert!(html.contains("action=\"/uploads\""));
}

#[tokio::test]
async fn the_register_reads_only_the_requests_due_soonest() {
    use postroom::foi::service::NewRequest;
    let c = console().await;
    for (i, day) in [20, 3, 11, 7, 15].iter().enumerate() {
        c.app
            .foi
            .open(NewRequest {
                requester: format!("Requester {i}"),
                request_text: format!("Please send the figures for year {i}."),
                received: chrono::NaiveDate::from_ymd_opt(2026, 11, *day),
                title: None,
                source_doc: None,
            })
            .await
            .expect("open");
    }
    let (all, more) = c.app.foi.soonest(100).await.expect("soonest");
    assert!(!more);
    let (first, more) = c.app.foi.soonest(3).await.expect("soonest");
    assert!(more, "five wait, three were read");
    let due = |v: &[postroom::foi::service::FoiCase]| -> Vec<_> {
        v.iter()
            .map(|c| {
                (
                    c.request.deadline().or(c.request.due),
                    c.request.reference.clone(),
                )
            })
            .collect()
    };
    assert_eq!(
        due(&first),
        due(&all)[..3].to_vec(),
        "the three due soonest, in order"
    );
    let mut sorted = due(&all);
    sorted.sort_by(|a, b| (a.0.is_none(), a.0, &a.1).cmp(&(b.0.is_none(), b.0, &b.1)));
    assert_eq!(due(&all), sorted);
    // The register and home show them by due date.
    let cookie = c.sign_in(Some(Role::FoiOfficer)).await;
    let (status, html) = c.page("/foi", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    let refs: Vec<usize> = first
        .iter()
        .map(|c| {
            html.find(&format!(">{}<", c.request.reference))
                .expect("listed")
        })
        .collect();
    assert!(refs.windows(2).all(|w| w[0] < w[1]), "soonest first");
}

/// The body of a page's (first) table.
fn table_body(html: &str) -> &str {
    html.split_once("<tbody")
        .and_then(|(_, rest)| rest.split_once("</tbody>"))
        .map_or("", |(rows, _)| rows)
}

/// The references a register page lists, in order, and its next page's link.
fn register_rows(html: &str) -> (Vec<String>, Option<String>) {
    // The rows of the register's table only.
    let refs = table_body(html)
        .split("href=\"/foi/")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_owned)
        .collect();
    let next = html
        .split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .find(|h| h.contains("after="))
        .map(|h| h.replace("&amp;", "&").replace("&#38;", "&"));
    (refs, next)
}

#[tokio::test]
async fn the_register_pages_every_view_by_due_date_and_refuses_a_page_it_did_not_give() {
    use postroom::foi::lifecycle::{Command, Outcome, Status};
    use postroom::foi::service::NewRequest;
    let c = console().await;
    let first = chrono::NaiveDate::from_ymd_opt(2026, 8, 3).expect("a date");
    for i in 0..156u64 {
        let on = first + chrono::Days::new(i * 7 % 125);
        let case = c
            .app
            .foi
            .open(NewRequest {
                requester: format!("Requester {i}"),
                request_text: format!("Please send the figures for year {i}."),
                received: Some(on),
                title: None,
                source_doc: None,
            })
            .await
            .expect("open");
        let respond = Command::Respond {
            on,
            outcome: Outcome::Granted,
            exemptions: vec![],
        };
        let moves = match i % 6 {
            0 => vec![respond],
            1 => vec![Command::Acknowledge { on }],
            2 => vec![Command::StartWork { on }],
            3 => vec![respond, Command::Close { on }],
            4 => vec![Command::RequestClarification { on }],
            _ => vec![],
        };
        for m in moves {
            c.app
                .foi
                .apply(&case.request.reference, &m)
                .await
                .expect("a move");
        }
    }
    // What each view must list, from every request: by the index's sort key (due date,
    // or none last, then reference).
    let all = c.app.foi.all().await.expect("every request");
    let key = |c: &postroom::foi::service::FoiCase| {
        let due = c.request.deadline().or(c.request.due);
        (
            due.map_or("9999-12-31".to_owned(), |d| d.to_string()),
            c.request.reference.clone(),
        )
    };
    let is_open = |c: &&postroom::foi::service::FoiCase| {
        c.request.status.awaits_response() || c.request.status == Status::ReviewRequested
    };
    let mut open: Vec<_> = all.iter().filter(is_open).collect();
    open.sort_by_key(|c| key(c));
    let mut closed: Vec<_> = all.iter().filter(|c| !is_open(c)).collect();
    closed.sort_by_key(|c| std::cmp::Reverse(key(c)));
    let today = c.app.foi.today();
    let due_refs: std::collections::HashSet<String> = postroom::foi::report::due_list(
        &open.iter().map(|c| (*c).clone()).collect::<Vec<_>>(),
        today,
        Some(postroom::views::DUE_SOON_DAYS),
        &c.app.foi.calendar,
    )
    .into_iter()
    .map(|e| e.reference)
    .collect();
    let refs = |v: &[&postroom::foi::service::FoiCase]| -> Vec<String> {
        v.iter().map(|c| c.request.reference.clone()).collect()
    };
    let expected = [
        ("open", refs(&open)),
        (
            "overdue",
            refs(&open)
                .into_iter()
                .zip(&open)
                .filter(|(_, c)| c.request.deadline().is_some_and(|d| d < today))
                .map(|(r, _)| r)
                .collect(),
        ),
        (
            "due",
            refs(&open)
                .into_iter()
                .filter(|r| due_refs.contains(r))
                .collect(),
        ),
        ("closed", refs(&closed)),
    ];
    assert!(
        open.len() > 100 && closed.len() > 50,
        "{} {}",
        open.len(),
        closed.len()
    );
    assert!(
        open.iter()
            .map(|c| c.request.status)
            .collect::<std::collections::HashSet<_>>()
            .len()
            >= 4,
        "several statuses, each its own partition of the index"
    );
    assert!(!expected[1].1.is_empty() && expected[1].1.len() < open.len());

    let cookie = c.sign_in(Some(Role::FoiOfficer)).await;
    let mut cursors = std::collections::HashMap::new();
    for (view, want) in &expected {
        let mut path = format!("/foi?view={view}");
        let mut pages: Vec<Vec<String>> = Vec::new();
        loop {
            let (status, html) = c.page(&path, &cookie).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            let (rows, next) = register_rows(&html);
            assert!(rows.len() <= 50, "{view}: a page holds at most 50");
            pages.push(rows);
            match next {
                Some(n) => {
                    assert!(n.starts_with(&format!("/foi?view={view}&after=")), "{n}");
                    if pages.len() == 1 {
                        cursors.insert(*view, n.clone());
                    }
                    path = n;
                }
                None => break,
            }
            assert!(pages.len() < 10, "{view}: the pages end");
        }
        if want.len() > 50 {
            assert_eq!(pages[0].len(), 50, "{view}: a full first page");
            assert!(
                pages[0].iter().all(|r| !pages[1].contains(r)),
                "{view}: pages 1 and 2 are disjoint"
            );
        }
        assert_eq!(
            &pages.concat(),
            want,
            "{view}: every request once, in order"
        );
    }
    assert!(cursors.contains_key("open") && cursors.contains_key("closed"));

    // Positions it did not give: a clear 400 page, never a 500.
    let open_after = cursors["open"].split("after=").nth(1).expect("a position");
    let closed_after = cursors["closed"]
        .split("after=")
        .nth(1)
        .expect("a position");
    let decode = |hex_text: &str| -> serde_json::Value {
        serde_json::from_slice(&hex::decode(hex_text).expect("hex")).expect("json")
    };
    let encode = |v: &serde_json::Value| hex::encode(v.to_string());
    let mut wrong_key = decode(open_after);
    wrong_key["l"] = "not a sort key".into();
    let mut few_lanes = decode(open_after);
    few_lanes["p"] = serde_json::json!(["start"]);
    let mut bad_store = decode(open_after);
    bad_store["p"] = serde_json::json!(vec![serde_json::json!({"after": "not the store's"}); 7]);
    for (view, after) in [
        ("open", "zz".to_owned()),
        ("open", hex::encode("{}")),
        ("closed", open_after.to_owned()),
        ("open", closed_after.to_owned()),
        ("open", encode(&wrong_key)),
        ("open", encode(&few_lanes)),
        ("open", encode(&bad_store)),
        ("open", "ab".repeat(20_000)),
    ] {
        let (status, html) = c
            .page(&format!("/foi?view={view}&after={after}"), &cookie)
            .await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{view} {}",
            &after[..after.len().min(80)]
        );
        assert!(
            html.contains("This page of the register does not exist"),
            "{html}"
        );
    }
    // A place in a closed status's partition of the index, given to the open view for
    // each of its statuses: it still reads only its own statuses' partitions.
    let place = c
        .app
        .stores
        .table
        .query_gsi1(
            &postroom::store::Query::new(postroom::model::keys::foi_status(
                Status::Responded.as_str(),
            ))
            .limit(1),
        )
        .await
        .expect("a page of the index")
        .next
        .expect("more than one responded request");
    let mut moved = decode(open_after);
    moved["p"] = serde_json::json!(vec![serde_json::json!({ "after": place.0 }); 7]);
    moved["l"] = serde_json::Value::Null;
    let (status, html) = c
        .page(&format!("/foi?view=open&after={}", encode(&moved)), &cookie)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (rows, _) = register_rows(&html);
    assert!(
        !rows.is_empty() && rows.iter().all(|r| expected[0].1.contains(r)),
        "only open requests: {rows:?}"
    );
}

#[tokio::test]
async fn statistics_and_the_disclosure_log_are_jobs_with_a_page_and_files() {
    let c = console().await;
    let cookie = c.sign_in(Some(Role::FoiOfficer)).await;
    let csrf = c.csrf(&cookie).await;
    // Every problem of the form at once, with what was typed kept.
    let answer = c
        .send(post(
            "/foi/statistics",
            &cookie,
            &format!("csrf_token={csrf}&by=scheme&by=year&by=cause&from=2024&to=2019&threshold=1"),
        ))
        .await;
    assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = body(answer).await;
    for anchor in ["href=\"#by\"", "href=\"#to\"", "href=\"#threshold\""] {
        assert!(html.contains(anchor), "{anchor} in the error summary");
    }
    assert!(html.contains("value=\"2024\""), "the typed year is kept");
    // A good one: a job, its page, its files.
    let answer = c
        .send(post(
            "/foi/statistics",
            &cookie,
            &format!("csrf_token={csrf}&by=scheme&from=2019&to=2026&threshold=5"),
        ))
        .await;
    let job = location(&answer);
    assert!(job.starts_with("/jobs/"), "{job}");
    let mut html = String::new();
    for _ in 0..200 {
        html = c.page(&job, &cookie).await.1;
        if html.contains(">Done<") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(html.contains(">Done<"), "{html}");
    let file = format!("{job}/files/claims-statistics.csv");
    assert!(html.contains(&file), "{html}");
    let answer = c.send(get(&file, Some(&cookie))).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(
        answer.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .expect("ascii")
            .starts_with("attachment")
    );
    // Not another person's, nor a file it did not make.
    let other = c.sign_in(Some(Role::FoiApprover)).await;
    assert_eq!(c.page(&job, &other).await.0, StatusCode::NOT_FOUND);
    assert_eq!(c.page(&file, &other).await.0, StatusCode::NOT_FOUND);
    let missing = format!("{job}/files/..%2Fsecret");
    assert_eq!(c.page(&missing, &cookie).await.0, StatusCode::NOT_FOUND);
    // A letters-only person may not start one.
    let letters = c.sign_in(Some(Role::Letters)).await;
    let token = c.csrf(&letters).await;
    let answer = c
        .send(post(
            "/foi/disclosure-log",
            &letters,
            &format!("csrf_token={token}"),
        ))
        .await;
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    // The disclosure log, and both jobs on the person's list.
    let answer = c
        .send(post(
            "/foi/disclosure-log",
            &cookie,
            &format!("csrf_token={csrf}"),
        ))
        .await;
    let log = location(&answer);
    for _ in 0..200 {
        html = c.page(&log, &cookie).await.1;
        if html.contains(">Done<") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(html.contains(&format!("{log}/files/index.html")), "{html}");
    let (_, html) = c.page("/jobs", &cookie).await;
    assert!(
        html.contains("Claims statistics by Scheme, 2019 to 2026")
            || html.contains("Claims statistics by"),
        "{html}"
    );
    assert!(html.contains("The disclosure log"), "{html}");
}

#[tokio::test]
async fn a_sessions_last_seen_time_is_written_after_the_answer_and_never_brings_it_back() {
    use postroom::sessions::{Lifetimes, Sessions};
    use sha2::Digest as _;
    let c = console().await;
    let lifetimes = Lifetimes {
        idle: std::time::Duration::from_secs(30 * 60),
        absolute: std::time::Duration::from_secs(8 * 3600),
    };
    let stored_seen = |token: String| {
        let table = c.app.stores.table.clone();
        async move {
            let digest = hex::encode(sha2::Sha256::digest(token.as_bytes()));
            let key = Key::new(
                postroom::model::keys::session(&digest),
                postroom::model::keys::META,
            );
            table
                .get(&key)
                .await
                .expect("a read")
                .and_then(|item| item.get("seen").and_then(|v| v.as_str()).map(str::to_owned))
        }
    };
    let cookie = c.sign_in(None).await;
    let token = cookie.split_once('=').expect("name=value").1.to_owned();
    let signed_in = stored_seen(token.clone()).await.expect("a session");
    c.clock.advance(Duration::minutes(20));
    let asked = c
        .clock
        .now()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    assert_eq!(c.page("/", &cookie).await.0, StatusCode::OK);
    // The request did not wait for the write; it lands soon after, with the request's
    // own time.
    let mut seen = None;
    for _ in 0..200 {
        seen = stored_seen(token.clone()).await;
        if seen.as_deref() != Some(signed_in.as_str()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(seen.as_deref(), Some(asked.as_str()));
    // Another instance (its own memory, the same table) counts idle time from it: 20
    // minutes after that request the session is alive, 31 minutes after it is not.
    let other = Sessions::new(c.app.stores.table.clone(), c.clock.clone());
    c.clock.advance(Duration::minutes(20));
    assert!(other.find(&token, lifetimes).await.expect("find").is_some());
    c.clock.advance(Duration::minutes(11));
    let fresh = Sessions::new(c.app.stores.table.clone(), c.clock.clone());
    assert!(fresh.find(&token, lifetimes).await.expect("find").is_none());
    // A write still on its way when the person signs out does not bring the session
    // back.
    let cookie = c.sign_in(None).await;
    let token = cookie.split_once('=').expect("name=value").1.to_owned();
    c.clock.advance(Duration::minutes(2));
    assert_eq!(c.page("/", &cookie).await.0, StatusCode::OK);
    let csrf = c.csrf(&cookie).await;
    let answer = c
        .send(post("/sign-out", &cookie, &format!("csrf_token={csrf}")))
        .await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(stored_seen(token).await, None);
    assert_eq!(c.page("/", &cookie).await.0, StatusCode::SEE_OTHER);
}

/// A table whose writes of sessions' last-seen times wait until the test opens the gate.
#[derive(Debug)]
struct HeldTouches {
    inner: Arc<dyn postroom::store::Table>,
    gate: Arc<tokio::sync::Semaphore>,
}

#[async_trait::async_trait]
impl postroom::store::Table for HeldTouches {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    async fn health(&self) -> postroom::store::StoreResult<()> {
        self.inner.health().await
    }
    async fn get(&self, key: &Key) -> postroom::store::StoreResult<Option<postroom::store::Item>> {
        self.inner.get(key).await
    }
    async fn put(
        &self,
        item: postroom::store::Item,
        condition: postroom::store::Condition,
    ) -> postroom::store::StoreResult<()> {
        self.inner.put(item, condition).await
    }
    async fn update(
        &self,
        update: postroom::store::Update,
    ) -> postroom::store::StoreResult<postroom::store::Item> {
        if update
            .key
            .pk
            .starts_with(&postroom::model::keys::session(""))
            && update.set.contains_key("seen")
        {
            let _open = self.gate.acquire().await;
        }
        self.inner.update(update).await
    }
    async fn delete(
        &self,
        key: &Key,
        condition: postroom::store::Condition,
    ) -> postroom::store::StoreResult<()> {
        self.inner.delete(key, condition).await
    }
    async fn query(
        &self,
        query: &postroom::store::Query,
    ) -> postroom::store::StoreResult<postroom::store::Page> {
        self.inner.query(query).await
    }
    async fn query_gsi1(
        &self,
        query: &postroom::store::Query,
    ) -> postroom::store::StoreResult<postroom::store::Page> {
        self.inner.query_gsi1(query).await
    }
    async fn scan(
        &self,
        segment: u32,
        total_segments: u32,
        cursor: Option<&postroom::store::Cursor>,
    ) -> postroom::store::StoreResult<postroom::store::Page> {
        self.inner.scan(segment, total_segments, cursor).await
    }
    async fn transact(&self, ops: Vec<postroom::store::TxOp>) -> postroom::store::StoreResult<()> {
        self.inner.transact(ops).await
    }
}

#[tokio::test]
async fn a_request_does_not_wait_for_its_sessions_last_seen_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = Config::local(dir.path());
    let mut stores = postroom::app::local_stores(&config).expect("local stores");
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    stores.table = Arc::new(HeldTouches {
        inner: stores.table.clone(),
        gate: gate.clone(),
    });
    let clock = Arc::new(StepClock(Mutex::new(
        Utc.with_ymd_and_hms(2026, 12, 7, 9, 30, 0)
            .single()
            .expect("a time"),
    )));
    let app = Arc::new(App::with_stores(
        config,
        stores,
        clock.clone(),
        Front::named("console", Acknowledgements::Off),
    ));
    let tokens = vec![LocalToken::new(
        &token_of(None),
        "everyone",
        Role::ALL.to_vec(),
    )];
    let c = Console {
        _dir: dir,
        app: app.clone(),
        clock,
        router: postroom::console::router(app, ConsoleSettings::local(tokens)),
    };
    let cookie = c.sign_in(None).await;
    // Past the touch interval: the page is answered while its write is held.
    c.clock.advance(Duration::minutes(5));
    let answered = tokio::time::timeout(std::time::Duration::from_secs(10), c.page("/", &cookie))
        .await
        .expect("answered without waiting for the write");
    assert_eq!(answered.0, StatusCode::OK);
    // A later request counts idle time from it even before the write lands (this
    // instance remembers it): 29 minutes after it, 34 after the stored time.
    c.clock.advance(Duration::minutes(29));
    let (status, _) =
        tokio::time::timeout(std::time::Duration::from_secs(10), c.page("/", &cookie))
            .await
            .expect("answered");
    assert_eq!(status, StatusCode::OK);
    gate.add_permits(100);
}

/// The text a person reads in `html` (tags dropped, as a screen shows it).
fn visible_text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[tokio::test]
async fn the_identity_bar_shows_the_name_apart_from_the_roles() {
    let c = console().await;
    let cookie = c.sign_in(Some(Role::FoiOfficer)).await;
    let (_, html) = c.page("/", &cookie).await;
    let at = html
        .find("moj-identity-bar__title")
        .expect("the identity bar");
    let bar = visible_text(&html[at..at + 400]);
    assert!(bar.contains("foi-officer-user (FOI officer"), "{bar}");
    // MoJ Frontend sets the bar's container in font size 0 (its inline blocks then sit
    // without gaps), so a space between the two spans takes no room on screen: it must
    // be inside the roles' own text.
    assert!(
        html[at..].contains("foi-officer-user</span><span class=\"govuk-body-s\"> (FOI officer"),
        "{}",
        &html[at..at + 200]
    );
}

#[tokio::test]
async fn a_refused_move_links_its_error_to_the_field_in_its_form_shown_open() {
    use postroom::foi::lifecycle::Command;
    use postroom::foi::service::NewRequest;
    let c = console().await;
    let on = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).expect("a date");
    let case = c
        .app
        .foi
        .open(NewRequest {
            requester: "Requester A".into(),
            request_text: "Please send the figures for 2025.".into(),
            received: Some(on),
            title: None,
            source_doc: None,
        })
        .await
        .expect("open");
    let reference = case.request.reference;
    c.app
        .foi
        .apply(&reference, &Command::StartWork { on })
        .await
        .expect("start work");
    let officer = c.sign_in(Some(Role::FoiOfficer)).await;
    let csrf = c.csrf(&officer).await;
    let moves = format!("/foi/{reference}/moves");
    // (move, form, the field in error, what the person is told)
    let cases = [
        (
            "extend_for_public_interest",
            "on=2026-12-03&days=20&reason=+",
            "reason",
            "Give the reason for changing the deadline",
        ),
        (
            "extend_for_public_interest",
            "on=2026-12-03&days=99&reason=Why",
            "days",
            "Enter the extra working days as a number from 1 to 60",
        ),
        (
            "respond",
            "on=3+December&outcome=granted",
            "on",
            "Enter the date as year-month-day",
        ),
        (
            "respond",
            "on=2026-12-03&outcome=granted&exemptions=just+one+part",
            "exemptions",
            "Write each exemption as section|title|reason",
        ),
    ];
    for (name, form, field, message) in cases {
        let answer = c
            .send(post(
                &format!("{moves}/{name}"),
                &officer,
                &format!("csrf_token={csrf}&{form}"),
            ))
            .await;
        assert_eq!(
            answer.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name} {form}"
        );
        let html = body(answer).await;
        let id = format!("{name}-{field}");
        let summary = html.find("govuk-error-summary__list").expect("a summary");
        assert!(
            html[summary..].starts_with(&format!(
                "govuk-error-summary__list\"><li><a href=\"#{id}\">{message}"
            )),
            "{name} {form}: {}",
            &html[summary..summary + 200]
        );
        // The field is there, marked in error, with the message, in the one form
        // shown open.
        let at = html.find(&format!("id=\"{id}\"")).expect("the field");
        let details = html[..at].rfind("<details").expect("in a details");
        assert!(
            html[details..at].starts_with("<details class=\"govuk-details\" open>"),
            "{}",
            &html[details..details + 60]
        );
        assert_eq!(
            html.matches("<details class=\"govuk-details\" open>")
                .count(),
            1
        );
        assert!(
            html.contains(&format!("id=\"{id}-error\" class=\"govuk-error-message\"")),
            "{name} {form}"
        );
    }
    // A letter that cannot be made yet links to the letters.
    let answer = c
        .send(post(
            &format!("/foi/{reference}/letters/response"),
            &officer,
            &format!("csrf_token={csrf}&information=x"),
        ))
        .await;
    assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = body(answer).await;
    assert!(html.contains("The letter was not made"), "{html}");
    assert!(html.contains("<a href=\"#letters\">"), "{html}");
    assert!(html.contains("id=\"letters\""));
}

#[tokio::test]
async fn a_claims_page_shows_its_deadlines_and_records_events_and_extensions_with_reasons() {
    let c = console().await;
    let claim = "/cases/CNST%2F25%2F008879";
    let handler = c.sign_in(Some(Role::CaseHandler)).await;
    let csrf = c.csrf(&handler).await;
    let (status, html) = c.page(claim, &handler).await;
    assert_eq!(status, StatusCode::OK);
    // The letter of claim filed by the demo started its deadlines; each names its rule.
    assert!(html.contains("Acknowledge the letter of claim"), "{html}");
    assert!(html.contains("Pre-Action Protocol for the Resolution of Clinical Disputes"));
    assert!(html.contains("Record an extension agreed with the other side"));
    // Particulars served: the acknowledgment of service and defence start.
    let answer = c
        .send(post(
            &format!("{claim}/claim-events"),
            &handler,
            &format!("csrf_token={csrf}&event=particulars_served&on=01%2F12%2F2026"),
        ))
        .await;
    assert_eq!(location(&answer), format!("{claim}#deadlines"));
    let (_, html) = c.page(claim, &handler).await;
    assert!(
        html.contains("File the defence") && html.contains("15 December 2026"),
        "{html}"
    );
    // An extension without its reason is refused; with one, it moves the date.
    let extend = |reason: &str| {
        post(
            &format!("{claim}/extensions"),
            &handler,
            &format!(
                "csrf_token={csrf}&deadline=defence&to=2026-12-29&agreed_on=2026-12-07&reason={reason}"
            ),
        )
    };
    let refused = c.send(extend("")).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    // The claim's page again: the summary links to the field, the form is open with
    // what was typed, and the title says there is an error.
    let html = body(refused).await;
    assert!(html.contains("<title>Error: Case CNST/25/008879"), "{html}");
    assert!(
        html.contains("href=\"#extend-reason\">Give the reason"),
        "{html}"
    );
    assert!(html.contains("id=\"extend-reason-error\""), "{html}");
    assert!(html.contains("value=\"2026-12-29\""), "{html}");
    assert!(
        html.contains("<option value=\"defence\" selected>"),
        "{html}"
    );
    // A date that is not one is refused on its field, the event kept as chosen.
    let answer = c
        .send(post(
            &format!("{claim}/claim-events"),
            &handler,
            &format!("csrf_token={csrf}&event=defence_filed&on=someday"),
        ))
        .await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    let html = body(answer).await;
    assert!(html.contains("href=\"#claim-event-on\""), "{html}");
    assert!(
        html.contains("<option value=\"defence_filed\" selected>"),
        "{html}"
    );
    let answer = c
        .send(extend("agreed%20by%20letter%20of%207%20December"))
        .await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let (_, html) = c.page(claim, &handler).await;
    assert!(html.contains("agreed by letter of 7 December"), "{html}");
    let events = c
        .app
        .audit
        .events(Object::Case("CNST/25/008879"))
        .await
        .expect("audit");
    assert!(
        events
            .iter()
            .any(|e| e.what.as_deref() == Some("deadline_extended")
                && e.who
                    .as_deref()
                    .is_some_and(|w| w.ends_with("case-handler-user"))),
        "{events:?}"
    );
    // Across claims, and on home.
    let (_, html) = c.page("/claims/deadlines", &handler).await;
    assert!(html.contains("CNST/25/008879"), "{html}");
    let (_, html) = c.page("/", &handler).await;
    assert!(html.contains("href=\"/claims/deadlines\""), "{html}");
    // Who may not change them: an FOI officer, a letters person.
    for role in [Role::FoiOfficer, Role::Letters] {
        let cookie = c.sign_in(Some(role)).await;
        let token = c.csrf(&cookie).await;
        let answer = c
            .send(post(
                &format!("{claim}/claim-events"),
                &cookie,
                &format!("csrf_token={token}&event=defence_filed&on=01%2F12%2F2026"),
            ))
            .await;
        assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{}", role.as_str());
    }
}

#[tokio::test]
async fn an_administrator_imports_cases_as_a_job_and_sees_each_bad_row() {
    let c = console().await;
    let admin = c.sign_in(Some(Role::Admin)).await;
    let csrf = c.csrf(&admin).await;
    let csv = "reference,kind,claimant,opened,date_of_birth\n\
               CNST/24/004512,claim,\"SMITH, Jane\",2024-01-10,1980-05-01\n\
               CNST/24/4512,claim,Joe Bloggs,2024-01-10,\n\
               SHA/23456,appeal,Priya Example,31/02/2024,\n";
    let boundary = "postroom-import-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"csv\"; filename=\"cases.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n\
         --{boundary}--\r\n"
    );
    let request = |cookie: &str, body: String| {
        Request::post("/cases/import")
            .header(header::COOKIE, cookie)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(body))
            .expect("request")
    };
    let answer = c.send(request(&admin, body.clone())).await;
    let job = location(&answer);
    assert!(job.starts_with("/jobs/"), "{job}");
    let mut html = String::new();
    for _ in 0..200 {
        html = c.page(&job, &admin).await.1;
        if html.contains(">Done<") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(html.contains("1 created"), "{html}");
    assert!(html.contains("2 rejected"), "{html}");
    assert!(html.contains("Row 3, column reference"), "{html}");
    assert!(html.contains("Row 4, column opened"), "{html}");
    assert!(html.contains(&format!("{job}/files/import-report.csv")));
    assert!(
        c.app
            .cases
            .view("CNST/24/004512")
            .await
            .expect("read")
            .is_some(),
        "the good row landed"
    );
    // Only administrators import.
    let handler = c.sign_in(Some(Role::CaseHandler)).await;
    let answer = c.send(request(&handler, body)).await;
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_triage_page_suggests_the_case_a_document_names_and_files_it_in_one_step() {
    let c = console().await;
    let report = c
        .app
        .cases
        .import(
            b"reference,kind,claimant,opened,date_of_birth\n\
              CNST/24/004512,claim,\"SMITH, Jane\",2024-01-10,1980-05-01\n",
            "console-test",
            postroom::calendar::Calendar::embedded(),
        )
        .await
        .expect("imported");
    assert_eq!(report.created(), 1);
    let handler = c.sign_in(Some(Role::CaseHandler)).await;
    let csrf = c.csrf(&handler).await;
    // Clinical notes naming the claimant and her birth, no reference of ours.
    let notes: &[u8] =
        b"Barsetshire Hospitals NHS Foundation Trust\nCLINICAL NOTES - printed on 02/09/2024\n\n\
        Patient: Jane Smith   Date of birth: 01/05/1980\n\n\
        11/08/2021 09:40 Ward round. Presenting complaint: abdominal pain.\n";
    let page = location(
        &c.send(upload_request(
            &handler,
            Some(&csrf),
            &[("notes.txt", notes)],
        ))
        .await,
    );
    for _ in 0..200 {
        if !c
            .page(&page, &handler)
            .await
            .1
            .contains("http-equiv=\"refresh\"")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (_, inbox) = c.page("/inbox", &handler).await;
    assert!(inbox.contains("CNST/24/004512 (strong match"), "{inbox}");
    let doc = c
        .unfiled()
        .await
        .into_iter()
        .find(|id| inbox.contains(&format!("/documents/{id}\">notes.txt<")))
        .expect("the notes in the inbox");
    let (_, html) = c.page(&format!("/documents/{doc}"), &handler).await;
    assert!(html.contains("Suggested cases"), "{html}");
    assert!(html.contains("File to CNST/24/004512"), "{html}");
    // One step: the suggestion's own form files it, audited as by hand.
    let answer = c
        .send(post(
            &format!("/inbox/{doc}/file"),
            &handler,
            &format!("csrf_token={csrf}&case_ref=CNST%2F24%2F004512&then=inbox"),
        ))
        .await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert!(!c.unfiled().await.contains(&doc));
}

/// A console whose app has the embedded search index (the demo post indexed as it is
/// ingested), with one token per role.
async fn console_with_search() -> Console {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = Config::local(dir.path());
    let stores = postroom::app::local_stores(&config).expect("local stores");
    let search = postroom::store::TantivySearch::open(dir.path().join(postroom::app::SEARCH_DIR))
        .expect("the search index");
    let clock = Arc::new(StepClock(Mutex::new(
        Utc.with_ymd_and_hms(2026, 12, 7, 9, 30, 0)
            .single()
            .expect("a time"),
    )));
    let app = Arc::new(
        App::with_stores(
            config,
            stores,
            clock.clone(),
            Front::named("console", Acknowledgements::Off),
        )
        .with_search(Arc::new(search)),
    );
    postroom::demo::run(&app).await.expect("the demo post");
    let tokens: Vec<LocalToken> = Role::ALL
        .iter()
        .map(|r| {
            LocalToken::new(
                &token_of(Some(*r)),
                format!("{}-user", r.as_str()),
                vec![*r],
            )
        })
        .collect();
    let router = postroom::console::router(app.clone(), ConsoleSettings::local(tokens));
    Console {
        _dir: dir,
        app,
        clock,
        router,
    }
}

#[tokio::test]
async fn search_finds_what_the_person_may_see_marks_the_matches_and_audits_no_words() {
    let c = console_with_search().await;
    let handler = c.sign_in(Some(Role::CaseHandler)).await;
    let (_, home) = c.page("/", &handler).await;
    assert!(home.contains("id=\"site-search\""), "the box on every page");
    // A reference, as written: the claim's documents, with the match marked.
    let (status, html) = c.page("/search?q=CNST%2F25%2F008879", &handler).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("case CNST/25/008879"), "{html}");
    assert!(html.contains("<mark class=\"app-search-hit\">"), "{html}");
    // Within a case, from its page's form.
    let (_, case_page) = c.page("/cases/CNST%2F25%2F008879", &handler).await;
    assert!(
        case_page.contains("Search this case&#39;s documents")
            || case_page.contains("Search this case")
    );
    let (status, _) = c
        .page("/search?q=claim&case=CNST%2F25%2F008879", &handler)
        .await;
    assert_eq!(status, StatusCode::OK);
    // An FOI officer is not shown claim documents, nor told that some match; nor may
    // they search within a claim.
    let officer = c.sign_in(Some(Role::FoiOfficer)).await;
    let (status, html) = c.page("/search?q=CNST%2F25%2F008879", &officer).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("case CNST/25/008879"), "{html}");
    assert!(!html.contains("your roles do not let you see"), "{html}");
    assert!(!html.contains("/search?q=CNST"), "no next page: {html}");
    let (status, html) = c
        .page("/search?q=claim&case=CNST%2F25%2F008879", &officer)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        html.contains("do not let you see the documents of CNST/25/008879"),
        "{html}"
    );
    // Someone whose roles see no document has no search.
    let letters = c.sign_in(Some(Role::Letters)).await;
    let (_, home) = c.page("/", &letters).await;
    assert!(!home.contains("id=\"site-search\""), "{home}");
    let (status, _) = c.page("/search?q=claim", &letters).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A syntax error is the person's to fix, in words.
    let (status, html) = c.page("/search?q=%22unclosed", &handler).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("govuk-error-summary") && html.contains("href=\"#q\""),
        "{html}"
    );
    // Audited with the person, never with the words.
    let events = c
        .app
        .audit
        .events(Object::Person("console:case-handler-user"))
        .await
        .expect("audit");
    assert!(
        events.iter().any(|e| e.what.as_deref() == Some("searched")),
        "{events:?}"
    );
    let stored = format!("{:?}", c.app.stores.table);
    assert!(!stored.contains("unclosed"));
}

/// A document viewed often shows its latest events, not its whole history (each view
/// adds one, and the page once read them all on every view): the latest 50, a sentence
/// that older ones exist, and for those who may read the audit trail a link to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_viewed_often_shows_its_latest_events_and_links_the_rest() {
    let c = console().await;
    let handler = c.sign_in(Some(Role::CaseHandler)).await;
    let doc = c.unfiled().await.remove(0);
    let path = format!("/documents/{doc}");
    let (_, first) = c.page(&path, &handler).await;
    assert!(
        !first.contains("Only the latest events are shown"),
        "{first}"
    );
    for _ in 0..55 {
        let (status, _) = c.page(&path, &handler).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (_, html) = c.page(&path, &handler).await;
    assert!(html.contains("Only the latest events are shown"), "{html}");
    assert!(
        !html.contains(&format!("/audit?doc={doc}")),
        "no link for a role without the audit trail"
    );
    let admin = c.sign_in(Some(Role::Admin)).await;
    let (_, html) = c.page(&path, &admin).await;
    assert!(html.contains(&format!("/audit?doc={doc}")), "{html}");
    // Every view is still recorded: the trail holds them all.
    let events = c
        .app
        .audit
        .events(postroom::audit::Object::Document(&doc))
        .await
        .expect("the trail");
    assert!(events.len() >= 58, "{} events", events.len());
    // The audit page shows that trail a page at a time, the latest first.
    let mut path = format!("/audit?doc={doc}");
    let mut rows = 0;
    let mut pages = 0;
    loop {
        let (status, html) = c.page(&path, &admin).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        rows += table_body(&html)
            .matches("<tr class=\"govuk-table__row\">")
            .count();
        pages += 1;
        match register_rows(&html).1 {
            Some(next) => path = next,
            None => break,
        }
        assert!(pages < 20, "the pages end");
    }
    assert!(pages >= 2, "more than a page of events");
    // Each event once: reading the audit page adds nothing to the document's trail.
    assert_eq!(rows, events.len(), "{pages} pages");
    let (status, _) = c.page("/audit?doc=x&after=nonsense", &admin).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// A case viewed often reads only its latest events (each view adds one): its page says
/// so once the timeline is full, and still lists its documents.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_viewed_often_reads_its_latest_events_only() {
    let c = console().await;
    let handler = c.sign_in(Some(Role::CaseHandler)).await;
    let path = "/cases/CNST%2F25%2F008879";
    let (status, first) = c.page(path, &handler).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert!(!first.contains("Only the latest events are shown"));
    for _ in 0..postroom::cases::CASE_EVENTS_SHOWN {
        c.page(path, &handler).await;
    }
    let (_, html) = c.page(path, &handler).await;
    assert!(html.contains("Only the latest events are shown"), "{html}");
    assert!(
        html.contains("01-letter-of-claim.pdf"),
        "its documents still listed"
    );
    let view = c
        .app
        .cases
        .view("CNST/25/008879")
        .await
        .expect("the case")
        .expect("it exists");
    let events = view
        .entries
        .iter()
        .filter(|e| matches!(e, postroom::views::CaseEntry::Event(_)))
        .count();
    assert_eq!(events, postroom::cases::CASE_EVENTS_SHOWN);
}

/// The references a cases page lists, in order, and its next page's link.
fn case_rows(html: &str) -> (Vec<String>, Option<String>) {
    let refs = table_body(html)
        .split("href=\"/cases/")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(|s| s.replace("%2F", "/"))
        .collect();
    let (_, next) = register_rows(html);
    (refs, next)
}

/// The cases list is read a page at a time from its index, filters kept from page to
/// page; a filter or a position it does not have is a clear 400.
#[tokio::test]
async fn the_cases_list_pages_by_kind_and_status_and_refuses_what_it_does_not_list() {
    let c = console().await;
    let mut csv = String::from("reference,kind,claimant,opened,status\n");
    for i in 0..75 {
        let status = if i % 5 == 0 { "closed" } else { "open" };
        csv.push_str(&format!(
            "CNST/21/{:06},claim,Claimant {i},2021-03-04,{status}\n",
            i + 1
        ));
    }
    let report = c
        .app
        .cases
        .import(csv.as_bytes(), "admin", &c.app.config.calendar)
        .await
        .expect("import");
    assert_eq!(report.created(), 75);
    let handler = c.sign_in(Some(Role::CaseHandler)).await;
    let mut seen = Vec::new();
    let mut path = "/cases?kind=claim&status=open".to_owned();
    let mut pages = 0;
    loop {
        let (status, html) = c.page(&path, &handler).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        let (refs, next) = case_rows(&html);
        assert!(refs.len() <= 50);
        seen.extend(refs);
        pages += 1;
        match next {
            Some(next) => {
                assert!(
                    next.contains("kind=claim") && next.contains("status=open"),
                    "{next}"
                );
                path = next;
            }
            None => break,
        }
    }
    assert!(pages >= 2, "75 claims do not fit on one page");
    let imported_open: Vec<String> = (0..75)
        .filter(|i| i % 5 != 0)
        .map(|i| format!("CNST/21/{:06}", i + 1))
        .collect();
    assert!(imported_open.iter().all(|r| seen.contains(r)));
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "by reference");
    assert!(
        !seen.iter().any(|r| r.starts_with("CNST/21/000001")),
        "closed"
    );
    for bad in [
        "/cases?kind=foi",
        "/cases?status=Under%20review",
        "/cases?after=nonsense",
    ] {
        let (status, html) = c.page(bad, &handler).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {html}");
    }
}
