//! The ingest use case on the embedded adapters: filing, opening cases, duplicates,
//! quarantine, idempotency under redelivery and racing deliveries, manual filing, and the
//! CLI's contract (`ingest --json` twice: everything `unchanged`, nothing written).

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use postroom::clock::Clock;
use postroom::config::Config;
use postroom::ingest::{Ingest, IngestSettings, ObjectRef};
use postroom::model::{IngestStatus, keys};
use postroom::store::Stores;
use postroom::store::{Key, Query};
use serde_json::Value;

/// 4 March 2025, 09:30 UTC.
#[derive(Debug)]
pub(crate) struct FixedClock;

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 4, 9, 30, 0)
            .single()
            .unwrap_or_default()
    }
}

fn setup(settings: IngestSettings) -> (tempfile::TempDir, Stores, Ingest) {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config::local(dir.path().to_path_buf());
    let stores = postroom::app::local_stores(&config).expect("local stores");
    let ingest = Ingest::new(
        stores.clone(),
        postroom::metadata::Rules::builtin(),
        Arc::new(FixedClock),
        settings,
    );
    (dir, stores, ingest)
}

async fn count_items(stores: &Stores) -> usize {
    crate::support::every_item(stores.table.as_ref())
        .await
        .len()
}

async fn ingest_sample(ingest: &Ingest, name: &str) -> postroom::ingest::Outcome {
    let (_, bytes) = postroom::demo::SAMPLES
        .iter()
        .find(|(n, _)| *n == name)
        .expect("sample");
    let obj = ingest
        .stage(
            &format!("inbox/{name}"),
            bytes::Bytes::from_static(bytes),
            "local",
        )
        .await
        .expect("stage");
    ingest.ingest(&obj).await.expect("ingest")
}

#[tokio::test]
async fn the_post_is_filed_where_a_case_handler_would_file_it() {
    let (_dir, stores, ingest) = setup(IngestSettings::default());
    let mut outcomes = Vec::new();
    for (name, _) in postroom::demo::SAMPLES {
        outcomes.push((*name, ingest_sample(&ingest, name).await));
    }
    let status = |name: &str| {
        outcomes
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, o)| o.clone())
            .expect("outcome")
    };
    let claim = status("01-letter-of-claim.pdf");
    assert_eq!(claim.status, IngestStatus::Filed);
    let case_ref = claim.case_ref.clone().expect("a claim reference");
    assert!(case_ref.starts_with("CNST/"), "{case_ref}");
    assert_eq!(
        status("02-expert-report.pdf").case_ref.as_deref(),
        Some(case_ref.as_str())
    );
    assert_eq!(
        status("03-part-36-offer.docx").case_ref.as_deref(),
        Some(case_ref.as_str())
    );
    let foi = status("04-foi-request.eml");
    assert_eq!(
        (foi.status, foi.case_ref.as_deref()),
        (IngestStatus::Filed, Some("FOI_7001"))
    );
    assert_eq!(
        status("05-internal-review.eml").status,
        IngestStatus::Unfiled
    );
    assert_eq!(
        status("06-notice-of-appeal.pdf").status,
        IngestStatus::Filed
    );
    let copy = status("07-letter-of-claim-copy.pdf");
    assert_eq!(copy.status, IngestStatus::Duplicate);
    assert_eq!(
        status("08-letter-without-reference.pdf").status,
        IngestStatus::Unfiled
    );
    let bad = status("09-photo-named-as.pdf");
    assert_eq!(
        (bad.status, bad.reason.as_deref()),
        (IngestStatus::Quarantined, Some("malformed"))
    );

    // The scanned letter (no text layer) is read by OCR and filed on the claim it names.
    let scanned = status("10-scanned-letter.pdf");
    assert_eq!(
        (scanned.status, scanned.case_ref.as_deref()),
        (IngestStatus::Filed, Some(case_ref.as_str()))
    );

    // The case holds its four documents, in date order, and the case was opened once.
    let (case, under) = postroom::cases::show_case(stores.table.as_ref(), &case_ref)
        .await
        .expect("show")
        .expect("case");
    assert_eq!(case["kind"], "claim");
    assert_eq!(case["scheme"], "CNST");
    let docs: Vec<&Value> = under
        .iter()
        .filter(|i| i["SK"].as_str().unwrap_or("").starts_with("DOC#"))
        .map(|i| &i["doc_type"])
        .collect();
    assert_eq!(docs.len(), 4);
    // The duplicate points at the original, the quarantined file left the inbox.
    let dup =
        postroom::cases::show_document(stores.table.as_ref(), copy.doc_id.as_deref().unwrap_or(""))
            .await
            .expect("get")
            .expect("doc");
    assert_eq!(
        dup["duplicate_of"],
        Value::String(claim.doc_id.clone().unwrap_or_default())
    );
    assert!(
        stores
            .blobs
            .head("inbox/09-photo-named-as.pdf")
            .await
            .is_err()
    );
    assert!(
        stores
            .blobs
            .head(&keys::quarantine(
                bad.doc_id.as_deref().unwrap_or(""),
                "inbox/09-photo-named-as.pdf"
            ))
            .await
            .is_ok()
    );
    // The text is stored for search; the inbox lists the two unfiled documents.
    assert!(
        stores
            .blobs
            .head(&keys::text(claim.doc_id.as_deref().unwrap_or("")))
            .await
            .is_ok()
    );
    assert_eq!(
        postroom::cases::inbox(stores.table.as_ref())
            .await
            .expect("inbox")
            .len(),
        2
    );

    // Everything again: unchanged, and nothing written.
    let before = count_items(&stores).await;
    for (name, _) in postroom::demo::SAMPLES {
        assert_eq!(
            ingest_sample(&ingest, name).await.status,
            IngestStatus::Unchanged,
            "{name}"
        );
    }
    assert_eq!(count_items(&stores).await, before);
    assert!(
        stores
            .blobs
            .head("inbox/09-photo-named-as.pdf")
            .await
            .is_err(),
        "a rerun does not put the quarantined file back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_deliveries_leave_one_document_and_one_event() {
    let (_dir, stores, ingest) = setup(IngestSettings::default());
    let (_, bytes) = postroom::demo::SAMPLES[0];
    let obj = ingest
        .stage("inbox/claim.pdf", bytes::Bytes::from_static(bytes), "local")
        .await
        .expect("stage");
    let ingest = Arc::new(ingest);
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let ingest = Arc::clone(&ingest);
            let obj: ObjectRef = obj.clone();
            tokio::spawn(async move { ingest.ingest(&obj).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.expect("task").expect("ingest").status);
    }
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == IngestStatus::Filed)
            .count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| matches!(s, IngestStatus::Filed | IngestStatus::Unchanged)),
        "{statuses:?}"
    );
    let doc_id = postroom::model::document_id(
        "local",
        "inbox/claim.pdf",
        obj.etag.as_deref().unwrap_or(""),
    );
    let events = stores
        .table
        .query_all(&Query::new(keys::doc(&doc_id)).prefix("EVENT#"))
        .await
        .expect("events");
    assert_eq!(events.len(), 1);
    assert!(
        stores
            .table
            .get(&Key::new(keys::doc(&doc_id), keys::META))
            .await
            .expect("get")
            .is_some()
    );
}

#[tokio::test]
async fn an_oversized_object_is_quarantined_without_being_read() {
    let (_dir, stores, ingest) = setup(IngestSettings {
        max_object_bytes: 1_000,
        ..IngestSettings::default()
    });
    let outcome = ingest_sample(&ingest, "01-letter-of-claim.pdf").await;
    assert_eq!(
        (outcome.status, outcome.reason.as_deref()),
        (IngestStatus::Quarantined, Some("too_large"))
    );
    let doc = postroom::cases::show_document(
        stores.table.as_ref(),
        outcome.doc_id.as_deref().unwrap_or(""),
    )
    .await
    .expect("get")
    .expect("doc");
    assert_eq!(doc["reason"], "too_large");
}

#[tokio::test]
async fn a_handler_files_an_unfiled_document_by_hand() {
    let (_dir, stores, ingest) = setup(IngestSettings::default());
    let claim = ingest_sample(&ingest, "01-letter-of-claim.pdf").await;
    let loose = ingest_sample(&ingest, "08-letter-without-reference.pdf").await;
    assert_eq!(loose.status, IngestStatus::Unfiled);
    let case_ref = claim.case_ref.expect("case");
    let doc_id = loose.doc_id.expect("doc id");
    postroom::cases::file_document(
        stores.table.as_ref(),
        &doc_id,
        &case_ref,
        "a.handler",
        &FixedClock,
    )
    .await
    .expect("file");
    let doc = postroom::cases::show_document(stores.table.as_ref(), &doc_id)
        .await
        .expect("get")
        .expect("doc");
    assert_eq!(
        (doc["status"].as_str(), doc["case_ref"].as_str()),
        (Some("filed"), Some(case_ref.as_str()))
    );
    assert!(
        postroom::cases::inbox(stores.table.as_ref())
            .await
            .expect("inbox")
            .is_empty()
    );
    let events = stores
        .table
        .query_all(&Query::new(keys::doc(&doc_id)).prefix("EVENT#"))
        .await
        .expect("events");
    assert!(
        events
            .iter()
            .any(|e| e["what"] == "filed_by_hand" && e["who"] == "a.handler")
    );
    // Filing twice is refused with a clear reason.
    let again = postroom::cases::file_document(
        stores.table.as_ref(),
        &doc_id,
        &case_ref,
        "a.handler",
        &FixedClock,
    )
    .await;
    assert!(
        matches!(again, Err(postroom::cases::CaseError::NotUnfiled { .. })),
        "{again:?}"
    );
}

/// A letter sink that records what it was given (and can be told to fail).
#[derive(Debug, Default)]
struct Recording {
    requests: std::sync::Mutex<Vec<postroom::letter_service::LetterRequest>>,
    fail: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl postroom::letter_service::LetterSink for Recording {
    async fn submit(
        &self,
        request: &postroom::letter_service::LetterRequest,
    ) -> Result<(), postroom::letter_service::SendError> {
        if self.fail.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(postroom::letter_service::SendError::Store(
                postroom::store::StoreError::Backend {
                    backend: "SQS",
                    op: "SendMessage".into(),
                    retryable: true,
                    source: "throttled".into(),
                },
            ));
        }
        self.requests.lock().expect("lock").push(request.clone());
        Ok(())
    }
}

#[tokio::test]
async fn filed_letters_of_claim_and_foi_requests_are_acknowledged_once_each() {
    let sink = Arc::new(Recording::default());
    let (_dir, stores, ingest) = setup(IngestSettings::default());
    let ingest = ingest.with_letters(sink.clone());

    // A transient failure of the sink fails the document (so its message is retried)...
    sink.fail.store(true, std::sync::atomic::Ordering::SeqCst);
    let (_, bytes) = postroom::demo::SAMPLES[0];
    let obj = ingest
        .stage(
            "inbox/01-letter-of-claim.pdf",
            bytes::Bytes::from_static(bytes),
            "local",
        )
        .await
        .expect("stage");
    let err = ingest
        .ingest(&obj)
        .await
        .expect_err("the sink failed: retry");
    assert!(err.is_retryable(), "{err}");
    // ...and the redelivery, finding the document filed, sends what was not sent.
    sink.fail.store(false, std::sync::atomic::Ordering::SeqCst);
    let again = ingest.ingest(&obj).await.expect("redelivery");
    assert_eq!(again.status, IngestStatus::Unchanged);

    for name in [
        "02-expert-report.pdf",
        "04-foi-request.eml",
        "07-letter-of-claim-copy.pdf",
        "08-letter-without-reference.pdf",
        "09-photo-named-as.pdf",
    ] {
        ingest_sample(&ingest, name).await;
    }
    let requests = sink.requests.lock().expect("lock").clone();
    let mut templates: Vec<&str> = requests.iter().map(|r| r.template.as_str()).collect();
    templates.sort();
    // The letter of claim and the FOI request; not the expert report, the duplicate
    // copy, the unfiled letter or the quarantined photo.
    assert_eq!(
        templates,
        ["claim-acknowledgement", "foi-acknowledgement"],
        "{requests:#?}"
    );
    let foi = requests
        .iter()
        .find(|r| r.template == "foi-acknowledgement")
        .expect("FOI acknowledgement");
    assert!(foi.case_ref.starts_with("FOI_"));
    assert_eq!(
        foi.request_id,
        format!("foi-acknowledgement:{}", foi.case_ref)
    );
    assert!(foi.data["due_date"].is_string(), "{:?}", foi.data);

    // Each request renders through the real outbox (the embedded sink).
    let outbox = postroom::letter_service::Letters {
        stores: stores.clone(),
        registry: postroom::letters::Registry::embedded(),
        clock: Arc::new(FixedClock),
        actor: "test".into(),
    };
    for r in &requests {
        let out = outbox.send(r).await.expect("render");
        assert_eq!(
            out.status,
            postroom::letter_service::LetterStatus::Stored,
            "{:?}",
            out.errors
        );
    }
}
