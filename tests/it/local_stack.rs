//! The whole pipeline in its deployed shape (scripts/local-stack: resources made from
//! infra/template.yaml on moto, the function binaries under cargo-lambda's Runtime API
//! emulator, the SQS event-source pump): documents uploaded with the AWS SDK are filed,
//! acknowledged by letter, an FOI request gets its case and due date, a hostile document
//! is quarantined once, and a poison message ends in the dead-letter queue; a scanned
//! letter goes ingest -> the OCR queue -> the OCR function and is filed on its claim.

use std::time::{Duration, Instant};

use postroom::calendar::Calendar;
use postroom::foi::deadline::{ClockInput, due_date};
use postroom::foi::service::Foi;
use postroom::letter_service::letter_id;
use postroom::model::{document_id, keys};
use postroom::store::Stores;
use postroom::store::{AwsSettings, DynamoTable, Item, Key, S3Blobs, Table};
use serde_json::Value;

/// What scripts/local-stack wrote once it was up.
pub(crate) struct LocalStack {
    pub(crate) endpoint: String,
    /// cargo-lambda's emulator (Lambda's Invoke API).
    pub(crate) invoke_url: String,
    /// The search queue, and the search reader as the emulator knows it (its binary).
    pub(crate) search_queue: String,
    pub(crate) search_function: String,
    pub(crate) bucket: String,
    table: String,
    ingest_queue: String,
    ingest_dlq: String,
    letters_queue: String,
    letters_dlq: String,
    ocr_queue: String,
    ocr_dlq: String,
}

pub(crate) fn local_stack(test: &str) -> Option<LocalStack> {
    let required = std::env::var("POSTROOM_REQUIRE_AWS").is_ok_and(|v| v == "1");
    let Some(path) = std::env::var_os("POSTROOM_LOCAL_STACK") else {
        assert!(
            !required,
            "{test}: POSTROOM_REQUIRE_AWS=1 but POSTROOM_LOCAL_STACK is not set: scripts/test starts the local stack"
        );
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "\n*** NOT RUN: {test}: POSTROOM_LOCAL_STACK is not set. Run scripts/test (or scripts/local-stack and point POSTROOM_LOCAL_STACK at its state file). ***"
        );
        return None;
    };
    let text = std::fs::read_to_string(&path).expect("the local stack's state file");
    let state: Value = serde_json::from_str(&text).expect("state JSON");
    let s = |p: &str| {
        state
            .pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("state file has no {p}"))
            .to_owned()
    };
    Some(LocalStack {
        endpoint: s("/endpoint"),
        invoke_url: s("/invoke_url"),
        search_queue: s("/queues/SearchQueue/url"),
        search_function: s("/functions/SearchQueryFunction/binary"),
        bucket: s("/buckets/DocumentsBucket"),
        table: s("/tables/Table"),
        ingest_queue: s("/queues/IngestQueue/url"),
        ingest_dlq: s("/queues/IngestDeadLetterQueue/url"),
        letters_queue: s("/queues/LettersQueue/url"),
        letters_dlq: s("/queues/LettersDeadLetterQueue/url"),
        ocr_queue: s("/queues/OcrQueue/url"),
        ocr_dlq: s("/queues/OcrDeadLetterQueue/url"),
    })
}

async fn sdk(endpoint: &str) -> aws_config::SdkConfig {
    crate::lambda_ingest::sdk_config()
        .await
        .to_builder()
        .endpoint_url(endpoint)
        .build()
}

/// An id of this run, which makes each upload new (so a test can run again against the
/// same stack).
pub(crate) fn run_id() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
    )
}

/// Clients of the stack's S3, SQS and table.
pub(crate) async fn clients(
    stack: &LocalStack,
) -> (aws_sdk_s3::Client, aws_sdk_sqs::Client, DynamoTable) {
    let sdk = sdk(&stack.endpoint).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let settings = AwsSettings::load_with_endpoint(&stack.endpoint).await;
    (s3, sqs, DynamoTable::new(&settings, &stack.table))
}

async fn depth(sqs: &aws_sdk_sqs::Client, url: &str) -> (u64, u64) {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let out = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(A::ApproximateNumberOfMessages)
        .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .expect("queue attributes");
    let get = |a: A| {
        out.attributes()
            .and_then(|m| m.get(&a))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (
        get(A::ApproximateNumberOfMessages),
        get(A::ApproximateNumberOfMessagesNotVisible),
    )
}

/// The document recorded under either candidate id.
async fn doc(table: &DynamoTable, ids: &[String; 2]) -> Option<Item> {
    for id in ids {
        if let Some(item) = table
            .get(&Key::new(keys::doc(id), keys::META))
            .await
            .expect("get document")
        {
            return Some(item);
        }
    }
    None
}

/// The object a letter's record names, once the letter is recorded.
async fn letter_object(
    table: &DynamoTable,
    case_ref: &str,
    request_id: &str,
    limit: Duration,
) -> String {
    let key = Key::new(
        keys::case(case_ref),
        format!("LETTER#{}", letter_id(request_id)),
    );
    let record = eventually("the letter recorded", limit, || async {
        table.get(&key).await.ok().flatten()
    })
    .await;
    let object = text(&record, "s3_key");
    assert!(
        object.starts_with(&format!("letters/{case_ref}/")),
        "{object}"
    );
    object
}

fn text(item: &Item, field: &str) -> String {
    item.get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Polls `check` every half second until it gives a value or `limit` passes.
async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            start.elapsed() < limit,
            "{what}: not seen within {limit:?} (logs: target/local-stack/)"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_filed_acknowledged_and_quarantined_through_the_deployed_shape() {
    let Some(stack) = local_stack(
        "local_stack::uploads_are_filed_acknowledged_and_quarantined_through_the_deployed_shape",
    ) else {
        return;
    };
    let (s3, sqs, table) = clients(&stack).await;
    let limit = Duration::from_secs(120);

    // A run id makes each upload new (new bytes, new keys), so the test can run again
    // against the same stack: a trailing PDF comment, an extra mail header.
    let run = run_id();
    let samples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let read = |name: &str| std::fs::read(samples.join(name)).expect("sample");
    let mut claim = read("01-letter-of-claim.pdf");
    claim.extend_from_slice(format!("\n% e2e run {run}\n").as_bytes());
    let mut foi_mail = format!("X-E2E-Run: {run}\r\n").into_bytes();
    foi_mail.extend(read("04-foi-request.eml"));
    let hostile = read("09-photo-named-as.pdf");

    let mut versions = Vec::new();
    for (name, body) in [
        ("letter of claim.pdf", claim),
        ("FOI request.eml", foi_mail),
        ("scan.pdf", hostile),
    ] {
        let key = format!("inbox/e2e-{run}/{name}");
        let out = s3
            .put_object()
            .bucket(&stack.bucket)
            .key(&key)
            .body(body.into())
            .send()
            .await
            .expect("upload");
        let version = out
            .version_id()
            .expect("the bucket is versioned")
            .to_owned();
        let etag = out.e_tag().unwrap_or_default().trim_matches('"').to_owned();
        versions.push((key, version, etag));
    }
    // The document id comes from the event's version id, or its ETag where the event
    // carries no version (moto's notifications do not): either names the upload.
    let candidates: Vec<[String; 2]> = versions
        .iter()
        .map(|(k, v, e)| {
            [
                document_id(&stack.bucket, k, v),
                document_id(&stack.bucket, k, e),
            ]
        })
        .collect();
    // A message no handler can read: it must end in the dead-letter queue.
    let poison = format!("not an upload event {run}");
    sqs.send_message()
        .queue_url(&stack.ingest_queue)
        .message_body(&poison)
        .send()
        .await
        .expect("send poison");

    // 1. The letter of claim is filed under its claim, and acknowledged by letter.
    let filed = eventually("the letter of claim filed", limit, || async {
        doc(&table, &candidates[0])
            .await
            .filter(|d| text(d, "status") == "filed")
    })
    .await;
    let case_ref = text(&filed, "case_ref");
    assert!(case_ref.starts_with("CNST/"), "filed under {case_ref:?}");
    assert_eq!(text(&filed, "doc_type"), "letter_of_claim");
    let claim_letter = letter_object(
        &table,
        &case_ref,
        &format!("claim-acknowledgement:{}", text(&filed, "doc_id")),
        limit,
    )
    .await;
    let pdf = eventually("the claim acknowledgement in S3", limit, || async {
        s3.get_object()
            .bucket(&stack.bucket)
            .key(&claim_letter)
            .send()
            .await
            .ok()
    })
    .await;
    let bytes = pdf.body.collect().await.expect("letter body").into_bytes();
    assert!(bytes.starts_with(b"%PDF-"), "the acknowledgement is a PDF");

    // 2. The FOI request opens an FOI case with its statutory due date, and is acknowledged.
    let foi_doc = eventually("the FOI request filed", limit, || async {
        doc(&table, &candidates[1])
            .await
            .filter(|d| text(d, "status") == "filed")
    })
    .await;
    let reference = text(&foi_doc, "case_ref");
    assert!(reference.starts_with("FOI_"), "FOI case {reference:?}");
    let stores = Stores {
        blobs: std::sync::Arc::new(S3Blobs::new(
            &AwsSettings::load_with_endpoint(&stack.endpoint).await,
            &stack.bucket,
        )),
        table: std::sync::Arc::new(table.clone()),
    };
    let foi = Foi {
        stores,
        clock: std::sync::Arc::new(postroom::clock::SystemClock),
        calendar: Calendar::embedded().clone(),
        actor: "e2e".into(),
    };
    let case = foi
        .get(&reference)
        .await
        .expect("FOI case")
        .expect("the FOI case exists");
    let expected = due_date(
        Calendar::embedded(),
        &ClockInput::received(case.request.received),
    )
    .expect("due date");
    assert_eq!(case.request.due, Some(expected), "the s.10 due date");
    let foi_letter = letter_object(
        &table,
        &reference,
        &format!("foi-acknowledgement:{reference}"),
        limit,
    )
    .await;
    eventually("the FOI acknowledgement in S3", limit, || async {
        s3.head_object()
            .bucket(&stack.bucket)
            .key(&foi_letter)
            .send()
            .await
            .ok()
    })
    .await;

    // 3. The hostile document is quarantined with its reason, and its upload is gone.
    let quarantined = eventually("the hostile document quarantined", limit, || async {
        doc(&table, &candidates[2])
            .await
            .filter(|d| text(d, "status") == "quarantined")
    })
    .await;
    assert!(
        !text(&quarantined, "reason").is_empty(),
        "a reason is recorded: {quarantined:?}"
    );
    let moved = text(&quarantined, "quarantine_key");
    assert!(
        moved.starts_with("quarantine/") && moved.ends_with(&format!("e2e-{run}/scan.pdf")),
        "{moved}"
    );
    eventually("the quarantined copy", limit, || async {
        s3.head_object()
            .bucket(&stack.bucket)
            .key(&moved)
            .send()
            .await
            .ok()
    })
    .await;

    // 4. The poison message is neither lost nor retried forever: after maxReceiveCount
    //    receives it is in the dead-letter queue.
    let received = eventually("the poison message in the DLQ", limit, || async {
        let out = sqs
            .receive_message()
            .queue_url(&stack.ingest_dlq)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .message_system_attribute_names(
                aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount,
            )
            .send()
            .await
            .expect("receive from DLQ");
        out.messages()
            .iter()
            .find(|m| m.body() == Some(poison.as_str()))
            .map(|m| m.attributes().cloned().unwrap_or_default())
    })
    .await;
    let receives: u32 = received
        .get(&aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(
        receives >= 5,
        "the poison message was received {receives} times before the DLQ"
    );

    // 5. Every other message was handled once and deleted: the queues drain, and nothing
    //    of this run is in a dead-letter queue but the poison message.
    eventually("the queues drained", limit, || async {
        let ingest = depth(&sqs, &stack.ingest_queue).await;
        let letters = depth(&sqs, &stack.letters_queue).await;
        (ingest == (0, 0) && letters == (0, 0)).then_some(())
    })
    .await;
    let dlq = sqs
        .receive_message()
        .queue_url(&stack.ingest_dlq)
        .max_number_of_messages(10)
        .visibility_timeout(0)
        .send()
        .await
        .expect("receive from DLQ");
    for m in dlq.messages() {
        assert!(
            !m.body().unwrap_or_default().contains(&run) || m.body() == Some(poison.as_str()),
            "an upload of this run ended in the DLQ"
        );
    }
    assert_eq!(
        depth(&sqs, &stack.letters_dlq).await,
        (0, 0),
        "no letter request failed"
    );
}

/// Issue 20 on AWS's shape: an image-only PDF uploaded to S3 goes ingest (no OCR engine:
/// filed on no text, `ocr_pending`) -> the OCR queue -> the OCR function (Tesseract; run
/// natively here, the image's binary) -> its text read, its metadata replaced and the
/// letter filed on the claim it names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scanned_letter_goes_through_the_ocr_queue_and_is_filed_on_its_claim() {
    let Some(stack) = local_stack(
        "local_stack::a_scanned_letter_goes_through_the_ocr_queue_and_is_filed_on_its_claim",
    ) else {
        return;
    };
    let (s3, sqs, table) = clients(&stack).await;
    let limit = Duration::from_secs(180);
    let run = run_id();
    let samples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let read = |name: &str| {
        let mut bytes = std::fs::read(samples.join(name)).expect("sample");
        bytes.extend_from_slice(format!("\n% e2e ocr run {run}\n").as_bytes());
        bytes
    };
    // The claim the scanned letter names (CNST/25/008879), and the scan: an image-only PDF.
    let mut candidates = Vec::new();
    for (name, body) in [
        ("claim.pdf", read("01-letter-of-claim.pdf")),
        ("scan.pdf", read("10-scanned-letter.pdf")),
    ] {
        let key = format!("inbox/e2e-ocr-{run}/{name}");
        let out = s3
            .put_object()
            .bucket(&stack.bucket)
            .key(&key)
            .body(body.into())
            .send()
            .await
            .expect("upload");
        let version = out.version_id().unwrap_or_default().to_owned();
        let etag = out.e_tag().unwrap_or_default().trim_matches('"').to_owned();
        candidates.push([
            document_id(&stack.bucket, &key, &version),
            document_id(&stack.bucket, &key, &etag),
        ]);
    }
    let claim = eventually("the letter of claim filed", limit, || async {
        doc(&table, &candidates[0])
            .await
            .filter(|d| text(d, "status") == "filed")
    })
    .await;
    let case_ref = text(&claim, "case_ref");
    assert_eq!(case_ref, "CNST/25/008879");

    // The scan, once the OCR function has read it: filed on the claim, on OCR's text.
    let scan = eventually(
        "the scanned letter read by OCR and filed",
        limit,
        || async {
            doc(&table, &candidates[1])
                .await
                .filter(|d| d.get("ocr_read").is_some() && text(d, "status") == "filed")
        },
    )
    .await;
    let doc_id = text(&scan, "doc_id");
    assert_eq!(text(&scan, "case_ref"), case_ref);
    let meta = scan.get("metadata").cloned().unwrap_or_default();
    let warnings: Vec<&str> = meta["warnings"]
        .as_array()
        .map(|w| w.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(warnings.contains(&"ocr_text"), "{warnings:?}");
    assert!(!warnings.contains(&"ocr_pending"), "{warnings:?}");
    assert!(!warnings.contains(&"ocr_unavailable"), "{warnings:?}");
    let confidence = meta["text_confidence"].as_f64().unwrap_or(0.0);
    assert!(
        (0.6..=1.0).contains(&confidence),
        "text_confidence {confidence}"
    );
    assert_eq!(
        scan.get("ocr_read").and_then(|r| r.get("sha256")),
        scan.get("sha256"),
        "read at the version stored"
    );
    // Its stored text is what OCR read.
    let stored = s3
        .get_object()
        .bucket(&stack.bucket)
        .key(keys::text(&doc_id))
        .send()
        .await
        .expect("the text");
    let stored = stored.body.collect().await.expect("body").into_bytes();
    assert!(
        String::from_utf8_lossy(&stored).contains("Pre-Action"),
        "the stored text is OCR's"
    );
    // Ingest filed it first (no text: the inbox), and the OCR function read it once.
    let history = table
        .query_all(&postroom::store::Query::new(keys::doc(&doc_id)))
        .await
        .expect("history");
    let what = |kind: &str| {
        history
            .iter()
            .filter(|e| e.get("what").and_then(Value::as_str) == Some(kind))
            .count()
    };
    assert_eq!(
        (what("ingested_unfiled"), what("ocr_read")),
        (1, 1),
        "{history:?}"
    );
    // The OCR queue drains, and nothing went to its dead-letter queue.
    eventually("the OCR queue drained", limit, || async {
        (depth(&sqs, &stack.ocr_queue).await == (0, 0)).then_some(())
    })
    .await;
    assert_eq!(
        depth(&sqs, &stack.ocr_dlq).await,
        (0, 0),
        "no OCR request failed"
    );
}
