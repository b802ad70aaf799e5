//! The console in the deployed shape (scripts/local-stack serves the console function's
//! binary in its listen mode, with the template's environment, over moto's S3 and
//! DynamoDB): over real HTTP, nothing without a session, a sign-in with the stack's
//! token, the home page, the inbox, the cases list (its index) and the audit trail read
//! from DynamoDB, each with its policy; then a
//! file uploaded through the console is staged in the bucket's inbox/, read by the
//! ingest function (the bucket's notification through SQS), and shown read on the
//! upload's page. Jobs (statistics, the disclosure log) started there run in the
//! letters function through the letters queue.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The console's address and sign-in token, from the local stack's state file.
fn console(test: &str) -> Option<(String, String)> {
    let required = std::env::var("POSTROOM_REQUIRE_AWS").is_ok_and(|v| v == "1");
    let not_run = |why: &str| {
        assert!(!required, "{test}: POSTROOM_REQUIRE_AWS=1 but {why}");
        let _ = writeln!(std::io::stderr(), "\n*** NOT RUN: {test}: {why}. ***");
        None
    };
    let Some(path) = std::env::var_os("POSTROOM_LOCAL_STACK") else {
        return not_run(
            "POSTROOM_LOCAL_STACK is not set (run scripts/test, or scripts/local-stack and point it at the state file)",
        );
    };
    let text = std::fs::read_to_string(&path).expect("the local stack's state file");
    let state: Value = serde_json::from_str(&text).expect("state JSON");
    let field = |p: &str| state.pointer(p).and_then(Value::as_str).map(str::to_owned);
    match (field("/console/url"), field("/console/token")) {
        (Some(url), Some(token)) => Some((url, token)),
        _ => not_run(
            "the local stack did not start the console (build it with `cargo build -p postroom-console`; see its log)",
        ),
    }
}

/// An answer: status, headers (names in lower case) and body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A GET over HTTP/1.1 on loopback, as a browser navigating there sends it.
fn get(base: &str, path: &str, cookie: Option<&str>) -> Answer {
    send(base, "GET", path, cookie, None)
}

/// A request over HTTP/1.1 on loopback (one connection each), with a body and its type.
fn send(
    base: &str,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    body: Option<(&str, &[u8])>,
) -> Answer {
    let host = base.strip_prefix("http://").expect("an http:// address");
    let mut stream = TcpStream::connect(host).expect("the console answers");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/html\r\nSec-Fetch-Site: same-origin\r\nConnection: close\r\n"
    );
    if let Some(c) = cookie {
        head.push_str(&format!("Cookie: {c}\r\n"));
    }
    if let Some((kind, bytes)) = body {
        head.push_str(&format!(
            "Content-Type: {kind}\r\nContent-Length: {}\r\n",
            bytes.len()
        ));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("send");
    if let Some((_, bytes)) = body {
        stream.write_all(bytes).expect("send the body");
    }
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("the answer");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header block");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"))
    {
        body = dechunk(&body);
    }
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// A chunked body's bytes.
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let end = raw
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("a chunk size");
        let size = std::str::from_utf8(&raw[..end]).expect("ascii");
        let size = usize::from_str_radix(size.split(';').next().expect("size").trim(), 16)
            .expect("a hex size");
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[end + 2..end + 2 + size]);
        raw = &raw[end + 2 + size + 2..];
    }
}

#[test]
fn the_console_signs_in_and_reads_the_post_room_on_moto() {
    let Some((url, token)) = console("the_console_signs_in_and_reads_the_post_room_on_moto") else {
        return;
    };
    let health = get(&url, "/healthz", None);
    assert_eq!((health.status, health.body.as_str()), (200, "ok"));

    // No session: sent to sign in, and no data shown.
    let refused = get(&url, "/inbox", None);
    assert_eq!(refused.status, 303);
    assert_eq!(refused.header("location"), Some("/sign-in"));

    let signed_in = get(&url, &format!("/sign-in?token={token}"), None);
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    assert_eq!(signed_in.header("location"), Some("/"));
    let set = signed_in.header("set-cookie").expect("a session cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    let cookie = set.split(';').next().expect("a cookie").to_owned();

    for path in [
        "/",
        "/inbox",
        "/cases",
        "/cases?kind=claim&status=open",
        "/audit?who=nobody",
    ] {
        let page = get(&url, path, Some(&cookie));
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        let csp = page.header("content-security-policy").expect("a policy");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert!(
            page.body.contains("name=\"csrf_token\""),
            "{path} is a signed-in page"
        );
    }

    // An upload through the console: staged in S3, read by the ingest function.
    let form_page = get(&url, "/uploads/new", Some(&cookie));
    let needle = "name=\"csrf_token\" value=\"";
    let at = form_page.body.find(needle).expect("a form token") + needle.len();
    let csrf = &form_page.body[at..at + form_page.body[at..].find('"').expect("end")];
    let boundary = "postroom-test-boundary-7d2f";
    let name = format!("console-upload-{}.txt", std::process::id());
    let word = format!("zebrafinch{}", std::process::id());
    let letter = format!(
        "Dear Sir or Madam,\r\n\r\nUnder the Freedom of Information Act 2000, please send me the number of claims settled in 2025 ({word}).\r\n\r\nYours faithfully,\r\nA. Requester\r\n"
    );
    let form = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: text/plain\r\n\r\n{letter}\r\n\
         --{boundary}--\r\n"
    );
    let kind = format!("multipart/form-data; boundary={boundary}");
    let sent = send(
        &url,
        "POST",
        "/uploads",
        Some(&cookie),
        Some((&kind, form.as_bytes())),
    );
    assert_eq!(sent.status, 303, "{}", sent.body);
    let progress = sent
        .header("location")
        .expect("the upload's page")
        .to_owned();
    assert!(progress.starts_with("/uploads/"), "{progress}");
    let started = Instant::now();
    let page = loop {
        let page = get(&url, &progress, Some(&cookie));
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains(&name), "the page names the file");
        if !page.body.contains(">Reading<") {
            break page;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "the ingest function did not read the upload in 90 s"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(
        page.body.contains(">Filed<") || page.body.contains(">In the inbox<"),
        "read, and not quarantined: {}",
        page.body
    );

    // Found by the console's search: the change went by the search queue to the search
    // function's writer, and the query by Invoke to its reader.
    let started = Instant::now();
    let found = loop {
        let page = get(&url, &format!("/search?q={word}"), Some(&cookie));
        assert_eq!(page.status, 200, "{}", page.body);
        if page.body.contains(&name) {
            break page;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the upload was not found by search in 60 s: {}",
            page.body
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(
        found
            .body
            .contains(&format!("<mark class=\"app-search-hit\">{word}</mark>")),
        "the match is marked: {}",
        found.body
    );

    // A wrong token opens nothing.
    let wrong = get(&url, "/sign-in?token=not-the-stack-token-0123", None);
    assert_eq!(wrong.status, 403);
    assert!(wrong.header("set-cookie").is_none());
}

/// The form token on a signed-in page.
fn csrf_of(html: &str) -> String {
    let needle = "name=\"csrf_token\" value=\"";
    let at = html.find(needle).expect("a form token") + needle.len();
    html[at..at + html[at..].find('"').expect("end")].to_owned()
}

/// Long work through the queue, as on AWS: the console records a job and sends its first
/// step to the letters queue (moto's SQS); the letters function runs it and records its
/// progress; the job's page shows the result and its files download from S3.
#[test]
fn jobs_started_in_the_console_run_in_the_letters_function_through_sqs() {
    let Some((url, token)) =
        console("jobs_started_in_the_console_run_in_the_letters_function_through_sqs")
    else {
        return;
    };
    let signed_in = get(&url, &format!("/sign-in?token={token}"), None);
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    let cookie = signed_in
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let form = get(&url, "/foi/statistics", Some(&cookie));
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = csrf_of(&form.body);
    let kind = "application/x-www-form-urlencoded";
    for (path, body) in [
        (
            "/foi/statistics",
            format!("csrf_token={csrf}&by=scheme&from=2019&to=2025&threshold=5"),
        ),
        ("/foi/disclosure-log", format!("csrf_token={csrf}")),
    ] {
        let started = send(
            &url,
            "POST",
            path,
            Some(&cookie),
            Some((kind, body.as_bytes())),
        );
        assert_eq!(started.status, 303, "{path}: {}", started.body);
        let job = started
            .header("location")
            .expect("the job's page")
            .to_owned();
        assert!(job.starts_with("/jobs/"), "{job}");
        let began = Instant::now();
        let page = loop {
            let page = get(&url, &job, Some(&cookie));
            assert_eq!(page.status, 200, "{}", page.body);
            if !page.body.contains("Working on it") {
                break page;
            }
            assert!(
                began.elapsed() < Duration::from_secs(90),
                "{path}: the letters function did not run the job in 90 s"
            );
            std::thread::sleep(Duration::from_millis(500));
        };
        assert!(page.body.contains(">Done<"), "{path}: {}", page.body);
        let needle = format!("href=\"{job}/files/");
        let at = page.body.find(&needle).expect("a file to download") + 6;
        let href = &page.body[at..at + page.body[at..].find('"').expect("end")];
        let file = get(&url, href, Some(&cookie));
        assert_eq!(file.status, 200, "{href}");
        assert!(!file.body.is_empty(), "{href} has content");
        assert!(
            file.header("content-disposition")
                .is_some_and(|d| d.starts_with("attachment")),
            "{href} downloads"
        );
    }
}
