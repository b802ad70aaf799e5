//! Long work as jobs (`postroom::jobs`): a letter batch advanced in steps that arrive
//! at least once and out of order makes each letter once and records its progress
//! exactly; statistics and the disclosure log run to their files; a statistics table
//! that cannot be counted is a failed job with its reason, not a retry; the letters
//! function's queue handler runs a job's steps and sends an early one back to SQS.

use std::sync::{Arc, Mutex};

use postroom::app::{Acknowledgements, App, Front};
use postroom::batches::BatchCheck;
use postroom::config::Config;
use postroom::failure::{Code, ErrorCode as _};
use postroom::jobs::{InProcess, JobError, JobQueue, JobSpec, JobStep};
use postroom::letter_service::LetterRequest;
use postroom::model::keys;
use postroom::store::Query;
use serde_json::{Value, json};

const CLAIM: &str = "CNST/25/008879";

/// An app over a fresh embedded store holding the demo post.
async fn app() -> (tempfile::TempDir, Arc<App>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = Config::local(dir.path());
    let stores = postroom::app::local_stores(&config).expect("local stores");
    let app = Arc::new(App::with_stores(
        config,
        stores,
        Arc::new(postroom::clock::SystemClock),
        Front::named("jobs-test", Acknowledgements::Off),
    ));
    // As `App::open` opens a home: every case in the cases list.
    postroom::cases::listing::relist_once(app.stores.table.as_ref())
        .await
        .expect("listed");
    postroom::demo::run(&app).await.expect("the demo post");
    (dir, app)
}

/// Keeps the steps a job hands on, instead of running them.
#[derive(Debug, Default)]
struct Recorder(Mutex<Vec<JobStep>>);

impl Recorder {
    fn steps(&self) -> Vec<u64> {
        self.0
            .lock()
            .expect("lock")
            .iter()
            .map(|s| s.from)
            .collect()
    }
}

#[async_trait::async_trait]
impl JobQueue for Recorder {
    async fn submit(&self, step: &JobStep) -> Result<(), JobError> {
        self.0.lock().expect("lock").push(step.clone());
        Ok(())
    }
}

async fn letters_of(app: &App, case_ref: &str) -> usize {
    let mut count = 0;
    let mut cursor = None;
    loop {
        let page = app
            .stores
            .table
            .query(
                &Query::new(keys::case(case_ref))
                    .prefix("LETTER#")
                    .after(cursor),
            )
            .await
            .expect("the case's letters");
        count += page.items.len();
        match page.next {
            Some(next) => cursor = Some(next),
            None => return count,
        }
    }
}

fn batch(id: &str, rows: usize) -> BatchCheck {
    let t = postroom::letters::Registry::embedded()
        .get("claim-acknowledgement")
        .expect("the template");
    BatchCheck {
        template: "claim-acknowledgement".into(),
        rows,
        errors: Vec::new(),
        requests: (0..rows)
            .map(|i| LetterRequest {
                request_id: format!("batch:{id}:{}", i + 2),
                template: "claim-acknowledgement".into(),
                case_ref: CLAIM.into(),
                data: t.example.clone(),
            })
            .collect(),
    }
}

#[tokio::test]
async fn a_batch_in_steps_delivered_twice_and_out_of_order_makes_each_letter_once() {
    let (_dir, app) = app().await;
    let before = letters_of(&app, CLAIM).await;
    app.jobs
        .create_batch("job-a", "alice", &batch("job-a", 60))
        .await
        .expect("recorded");
    assert!(
        app.jobs
            .start("job-a", "bob")
            .await
            .expect("start")
            .is_none(),
        "only its owner starts a job"
    );
    let first = app
        .jobs
        .start("job-a", "alice")
        .await
        .expect("start")
        .expect("started");
    assert_eq!(first.from, 0);
    assert!(
        app.jobs
            .start("job-a", "alice")
            .await
            .expect("start")
            .is_none(),
        "a job starts once"
    );
    let queue = Recorder::default();
    let step = |from| JobStep {
        job: "job-a".into(),
        from,
    };
    let advance = |s: JobStep| {
        let app = app.clone();
        let queue = &queue;
        async move { app.jobs.advance(app.letters(), &app.foi, queue, &s).await }
    };

    // A step before its predecessor was recorded: busy (SQS delivers it again later).
    let early = advance(step(25)).await.expect_err("early");
    assert_eq!(early.code(), Code::Busy);
    assert!(early.code().retryable());
    assert_eq!(
        letters_of(&app, CLAIM).await,
        before,
        "an early step makes nothing"
    );

    advance(step(0)).await.expect("step 0");
    assert_eq!(queue.steps(), [25], "the next step was handed on");
    // Step 0 delivered again: nothing more made, nothing handed on.
    advance(step(0)).await.expect("step 0 again");
    assert_eq!(queue.steps(), [25]);
    let p = app
        .jobs
        .progress("job-a", "alice")
        .await
        .expect("read")
        .expect("hers");
    assert_eq!(
        (p.done, p.failed, p.total, p.state.as_str()),
        (25, 0, 60, "running")
    );
    assert_eq!(letters_of(&app, CLAIM).await, before + 25);
    assert!(
        app.jobs
            .progress("job-a", "bob")
            .await
            .expect("read")
            .is_none(),
        "nobody else sees it"
    );

    advance(step(25)).await.expect("step 25");
    advance(step(50)).await.expect("step 50");
    assert_eq!(queue.steps(), [25, 50], "the last step hands nothing on");
    let p = app
        .jobs
        .progress("job-a", "alice")
        .await
        .expect("read")
        .expect("hers");
    assert_eq!((p.done, p.failed, p.state.as_str()), (60, 0, "finished"));
    assert_eq!(letters_of(&app, CLAIM).await, before + 60);

    // Every step delivered once more, in any order: nothing changes.
    for from in [50, 0, 25] {
        advance(step(from)).await.expect("a late step");
    }
    assert_eq!(letters_of(&app, CLAIM).await, before + 60);
    assert!(
        app.jobs
            .resume("job-a", "alice")
            .await
            .expect("resume")
            .is_none(),
        "a finished job is not resumed"
    );
}

#[tokio::test]
async fn a_batch_row_that_cannot_be_made_is_counted_and_the_rest_still_run() {
    let (_dir, app) = app().await;
    let mut check = batch("job-b", 3);
    check.requests[1].case_ref = "CNST/25/999999".into();
    app.jobs
        .create_batch("job-b", "alice", &check)
        .await
        .expect("recorded");
    let first = app
        .jobs
        .start("job-b", "alice")
        .await
        .expect("start")
        .expect("started");
    InProcess::new(app.jobs.clone(), app.letters().clone(), app.foi.clone())
        .run(&first)
        .await
        .expect("run");
    let p = app
        .jobs
        .progress("job-b", "alice")
        .await
        .expect("read")
        .expect("hers");
    assert_eq!((p.done, p.failed, p.state.as_str()), (2, 1, "finished"));
}

/// Until every case is in the cases list (a stack where `cases relist` has not run),
/// the claims statistics are refused with what to do, rather than counted without the
/// older cases; once listed, the same job counts them.
#[tokio::test]
async fn statistics_refuse_until_every_case_is_listed() {
    let (_dir, app) = app().await;
    app.stores
        .table
        .delete(
            &postroom::store::Key::new("SCHEMA", "CASES_LISTED"),
            postroom::store::Condition::Exists,
        )
        .await
        .expect("the marker of a stack not yet relisted");
    let spec = JobSpec::ClaimsStatistics {
        by: vec!["scheme".into()],
        from: 2019,
        to: 2026,
        threshold: 5,
    };
    app.jobs
        .create("early", "fiona", &spec)
        .await
        .expect("recorded");
    assert!(app.start_job("early", "fiona").await.expect("start"));
    let p = wait(&app, "early", "fiona").await;
    assert_eq!(
        (p.state.as_str(), p.error.as_deref()),
        ("failed", Some("not_ready")),
        "{p:?}"
    );
    assert!(
        p.summary
            .as_deref()
            .is_some_and(|why| why.contains("postroom cases relist")),
        "{p:?}"
    );
    assert!(p.files.is_empty());
    app.cases.relist().await.expect("relist");
    app.jobs
        .create("later", "fiona", &spec)
        .await
        .expect("recorded");
    assert!(app.start_job("later", "fiona").await.expect("start"));
    let p = wait(&app, "later", "fiona").await;
    assert_eq!(p.state, "finished", "{p:?}");
}

#[tokio::test]
async fn statistics_and_the_disclosure_log_run_as_jobs_to_their_files() {
    let (_dir, app) = app().await;
    let spec = JobSpec::ClaimsStatistics {
        by: vec!["scheme".into(), "year".into()],
        from: 2019,
        to: 2026,
        threshold: 5,
    };
    app.jobs
        .create("stats", "fiona", &spec)
        .await
        .expect("recorded");
    assert!(app.start_job("stats", "fiona").await.expect("start"));
    let p = wait(&app, "stats", "fiona").await;
    assert_eq!(p.state, "finished", "{p:?}");
    assert_eq!(p.files, ["claims-statistics.csv", "claims-statistics.txt"]);
    assert!(
        p.summary
            .as_deref()
            .is_some_and(|s| s.contains("by scheme and year, 2019 to 2026")),
        "{p:?}"
    );
    let csv = app
        .jobs
        .file("stats", "fiona", "claims-statistics.csv")
        .await
        .expect("read")
        .expect("the table");
    let csv = String::from_utf8(csv.to_vec()).expect("utf-8");
    assert!(csv.lines().count() >= 2, "a header and rows: {csv}");
    assert!(
        app.jobs
            .file("stats", "fiona", "../stats.json")
            .await
            .expect("read")
            .is_none(),
        "only the job's own files by name"
    );
    assert!(
        app.jobs
            .file("stats", "someone-else", "claims-statistics.csv")
            .await
            .expect("read")
            .is_none()
    );

    app.jobs
        .create("log", "fiona", &JobSpec::DisclosureLog)
        .await
        .expect("recorded");
    assert!(app.start_job("log", "fiona").await.expect("start"));
    let p = wait(&app, "log", "fiona").await;
    assert_eq!(p.state, "finished", "{p:?}");
    assert!(p.files.iter().any(|f| f == "index.html"), "{:?}", p.files);
    assert!(p.files.iter().any(|f| f == "disclosure-log.json"));
    let json = app
        .jobs
        .file("log", "fiona", "disclosure-log.json")
        .await
        .expect("read")
        .expect("the log");
    let entries: Value = serde_json::from_slice(&json).expect("json");
    let n = entries.as_array().map_or(0, Vec::len);
    assert!(p.summary.is_some_and(|s| s.starts_with(&n.to_string())));
}

#[tokio::test]
async fn a_table_that_cannot_be_counted_is_a_failed_job_with_its_reason() {
    let (_dir, app) = app().await;
    let spec = JobSpec::ClaimsStatistics {
        by: vec!["shoe_size".into()],
        from: 2019,
        to: 2026,
        threshold: 5,
    };
    app.jobs
        .create("bad", "fiona", &spec)
        .await
        .expect("recorded");
    assert!(app.start_job("bad", "fiona").await.expect("start"));
    let p = wait(&app, "bad", "fiona").await;
    assert_eq!(p.state, "failed");
    assert!(p.error.is_some(), "a stable code");
    assert!(p.summary.is_some_and(|s| s.contains("shoe_size")));
    assert!(p.files.is_empty());
}

#[tokio::test]
async fn the_letters_queue_runs_job_steps_and_sends_an_early_one_back() {
    let (_dir, app) = app().await;
    app.jobs
        .create_batch("job-q", "alice", &batch("job-q", 30))
        .await
        .expect("recorded");
    app.jobs
        .start("job-q", "alice")
        .await
        .expect("start")
        .expect("started");
    let sqs = |records: &[(&str, Value)]| {
        json!({"Records": records.iter().map(|(id, body)| json!({
            "messageId": id,
            "eventSource": "aws:sqs",
            "body": body.to_string(),
        })).collect::<Vec<_>>()})
    };
    // The second step before the first: the first is done, the second sent back.
    let out = postroom::handlers::handle_letters_and_jobs(
        &app,
        sqs(&[
            ("m-early", json!({"job": "job-q", "from": 25})),
            ("m-first", json!({"job": "job-q", "from": 0})),
        ]),
    )
    .await
    .expect("handled");
    let failed: Vec<&str> = out["batchItemFailures"]
        .as_array()
        .expect("failures")
        .iter()
        .filter_map(|f| f["itemIdentifier"].as_str())
        .collect();
    // Handled concurrently: the early step fails unless the first was recorded before it
    // was read; either way it is never lost.
    assert!(!failed.contains(&"m-first"), "{out}");
    let p = app
        .jobs
        .progress("job-q", "alice")
        .await
        .expect("read")
        .expect("hers");
    assert!(p.done >= 25, "{p:?}");
    // Delivered again later (SQS): the job finishes. In this process the next step went
    // to a task of its own (no queue is configured), which may finish it first.
    if p.state != "finished" {
        postroom::handlers::handle_letters_and_jobs(
            &app,
            sqs(&[("m-again", json!({"job": "job-q", "from": 25}))]),
        )
        .await
        .expect("handled");
    }
    let p = wait(&app, "job-q", "alice").await;
    assert_eq!((p.done, p.state.as_str()), (30, "finished"));
    // A message that is neither a letter request nor a step is reported, not dropped.
    let out =
        postroom::handlers::handle_letters_and_jobs(&app, sqs(&[("m-junk", json!({"hello": 1}))]))
            .await
            .expect("handled");
    assert_eq!(out["batchItemFailures"][0]["itemIdentifier"], "m-junk");
}

/// Waits (at most 30 s) for a job to finish or fail.
async fn wait(app: &App, id: &str, who: &str) -> postroom::jobs::JobProgress {
    let started = std::time::Instant::now();
    loop {
        let p = app
            .jobs
            .progress(id, who)
            .await
            .expect("read")
            .expect("theirs");
        if p.is_finished() || started.elapsed() > std::time::Duration::from_secs(30) {
            return p;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
