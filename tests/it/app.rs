//! The composition root: one `App` holds every use case over the same stores, acts as
//! its front's actor in the audit trail, and delivers acknowledgements the way its front
//! asks (in process, by queue, or not at all).

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use postroom::app::{Acknowledgements, App, Front};
use postroom::clock::FixedClock;
use postroom::config::Config;
use postroom::model::IngestStatus;
use postroom::views::CaseEntry;

fn app(dir: &tempfile::TempDir, front: Front) -> App {
    let config = Config::local(dir.path());
    let stores = postroom::app::local_stores(&config).expect("local stores");
    let clock = FixedClock(
        Utc.with_ymd_and_hms(2025, 3, 4, 9, 30, 0)
            .single()
            .expect("a time"),
    );
    App::with_stores(config, stores, Arc::new(clock), front)
}

/// Files a bundled sample (by name) through the app's ingest; its case reference.
async fn file_sample(app: &App, wanted: &str) -> String {
    let (name, bytes) = postroom::demo::SAMPLES
        .iter()
        .find(|(name, _)| *name == wanted)
        .expect("a bundled sample");
    let obj = app
        .ingest()
        .stage(
            &format!("inbox/app/{name}"),
            bytes::Bytes::from_static(bytes),
            app.bucket(),
        )
        .await
        .expect("stage");
    let outcome = app.ingest().ingest(&obj).await.expect("ingest");
    assert_eq!(outcome.status, IngestStatus::Filed, "{outcome:?}");
    outcome.case_ref.expect("a case")
}

/// Files the sample letter of claim; its case reference.
async fn file_letter_of_claim(app: &App) -> String {
    file_sample(app, "01-letter-of-claim.pdf").await
}

fn letters(view: &postroom::views::CaseView) -> Vec<(String, String)> {
    view.letters()
        .map(|l| {
            (
                l.template.clone().unwrap_or_default(),
                l.status.clone().unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_app_files_acknowledges_and_shows_through_its_use_cases() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = app(
        &dir,
        Front::named("officer:test", Acknowledgements::InProcess),
    );
    let case_ref = file_letter_of_claim(&app).await;
    assert!(app.finish().await.is_empty(), "no letter may fail");
    let view = app
        .cases
        .view(&case_ref)
        .await
        .expect("read")
        .expect("the case");
    assert_eq!(view.documents().count(), 1);
    assert_eq!(
        letters(&view),
        [("claim-acknowledgement".to_owned(), "stored".to_owned())]
    );
    let who: Vec<String> = view
        .entries
        .iter()
        .filter_map(|e| match e {
            CaseEntry::Event(event) => event.who.clone(),
            _ => None,
        })
        .collect();
    assert!(!who.is_empty());
    assert!(who.iter().all(|w| w == "officer:test"), "{who:?}");
    // The same app's cases use case sees what its ingest filed.
    let cases = app.cases.summaries().await.expect("cases");
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].case_ref, case_ref);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_front_without_delivery_requests_no_acknowledgement() {
    for front in [
        Front::named("t", Acknowledgements::Off),
        // A Lambda's queue delivery with no queue configured: none requested.
        Front::lambda("ingest"),
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        let app = app(&dir, front);
        let case_ref = file_letter_of_claim(&app).await;
        assert!(app.finish().await.is_empty());
        let view = app
            .cases
            .view(&case_ref)
            .await
            .expect("read")
            .expect("the case");
        assert_eq!(view.documents().count(), 1);
        assert!(letters(&view).is_empty(), "{:?}", letters(&view));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_foi_request_gets_one_acknowledgement_whatever_id_it_is_asked_with() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = app(&dir, Front::named("t", Acknowledgements::InProcess));
    let reference = file_sample(&app, "04-foi-request.eml").await;
    assert!(app.finish().await.is_empty());
    // Asked for again, as the letters function could be, under ids of the caller's own.
    let case = app.foi.get(&reference).await.expect("read").expect("case");
    let mut request = postroom::acknowledge::foi_acknowledgement(
        &case,
        case.request.received,
        &postroom::acknowledge::Signatory::foi(),
    )
    .expect("an acknowledgement");
    for id in ["caller:1", "caller:2"] {
        request.request_id = id.to_owned();
        let sent = app.letters().send(&request).await.expect("send");
        assert_eq!(
            sent.status,
            postroom::letter_service::LetterStatus::Unchanged,
            "{id}"
        );
    }
    let view = app
        .cases
        .view(&reference)
        .await
        .expect("read")
        .expect("the case");
    assert_eq!(
        letters(&view),
        [("foi-acknowledgement".to_owned(), "stored".to_owned())]
    );
}
