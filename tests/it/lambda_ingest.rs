//! The ingest function's handler end to end against the local stand-in (moto): real S3 →
//! SQS notifications, S3 and DynamoDB adapters, redelivery, an undecodable message, and a
//! table endpoint that stops mid-batch.

use std::sync::Arc;

use aws_sdk_s3::types::{
    Event, FilterRule, FilterRuleName, NotificationConfiguration, NotificationConfigurationFilter,
    QueueConfiguration, S3KeyFilter,
};
use postroom::clock::SystemClock;
use postroom::handlers::ingest_sqs_batch;
use postroom::ingest::{Ingest, IngestSettings};
use postroom::model::{IngestStatus, keys};
use postroom::store::Stores;
use postroom::store::{AwsSettings, Blobs, DynamoTable, PutOptions, Query, S3Blobs, Table};

use crate::contract::harness::{aws_settings, unique};

pub(crate) async fn sdk_config() -> aws_config::SdkConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http)
        .load()
        .await
}

/// Receives messages until `want` object notifications arrived (test events are kept too).
async fn receive(sqs: &aws_sdk_sqs::Client, url: &str, want: usize) -> Vec<(String, String)> {
    let mut messages = Vec::new();
    for _ in 0..40 {
        let out = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("receive");
        for m in out.messages() {
            messages.push((
                m.message_id().unwrap_or_default().to_owned(),
                m.body().unwrap_or_default().to_owned(),
            ));
        }
        if messages
            .iter()
            .filter(|(_, b)| b.contains("ObjectCreated"))
            .count()
            >= want
        {
            break;
        }
    }
    messages
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_flow_from_s3_through_sqs_to_filed_cases() {
    let name = "lambda_ingest::uploads_flow_from_s3_through_sqs_to_filed_cases";
    let Some(settings) = aws_settings(name).await else {
        return;
    };
    let sdk = sdk_config().await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let bucket = unique("ingest-e2e");
    let blobs = S3Blobs::new(&settings, &bucket);
    let table = DynamoTable::new(&settings, unique("ingest-e2e"));
    blobs.create_bucket().await.expect("bucket");
    table.create_table().await.expect("table");
    let queue = sqs
        .create_queue()
        .queue_name(unique("ingest"))
        .send()
        .await
        .expect("queue");
    let url = queue.queue_url().unwrap_or_default().to_owned();
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("arn");
    let arn = attrs
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
        .cloned()
        .unwrap_or_default();
    let filter = NotificationConfigurationFilter::builder()
        .key(
            S3KeyFilter::builder()
                .filter_rules(
                    FilterRule::builder()
                        .name(FilterRuleName::Prefix)
                        .value("inbox/")
                        .build(),
                )
                .build(),
        )
        .build();
    s3.put_bucket_notification_configuration()
        .bucket(&bucket)
        .notification_configuration(
            NotificationConfiguration::builder()
                .queue_configurations(
                    QueueConfiguration::builder()
                        .queue_arn(arn)
                        .events(Event::from("s3:ObjectCreated:*"))
                        .filter(filter)
                        .build()
                        .expect("queue config"),
                )
                .build(),
        )
        .send()
        .await
        .expect("notification");

    // The post arrives: keys with spaces and letters beyond ASCII, to be URL-encoded by S3.
    let uploads = [
        (
            "inbox/Zoë Pemberton letter of claim.pdf",
            "01-letter-of-claim.pdf",
        ),
        ("inbox/expert report.pdf", "02-expert-report.pdf"),
        ("inbox/foi/request.eml", "04-foi-request.eml"),
        ("inbox/photo.pdf", "09-photo-named-as.pdf"),
    ];
    for (key, sample) in uploads {
        let (_, bytes) = postroom::demo::SAMPLES
            .iter()
            .find(|(n, _)| *n == sample)
            .expect("sample");
        blobs
            .put(
                key,
                bytes::Bytes::from_static(bytes),
                &PutOptions::default(),
            )
            .await
            .expect("upload");
    }
    let mut messages = receive(&sqs, &url, uploads.len()).await;
    assert!(
        messages
            .iter()
            .filter(|(_, b)| b.contains("ObjectCreated"))
            .count()
            >= uploads.len(),
        "moto sent {messages:?}"
    );
    messages.push(("junk-1".into(), "this is not an S3 notification".into()));

    let stores = Stores {
        blobs: Arc::new(blobs.clone()),
        table: Arc::new(table.clone()),
    };
    let ingest = Ingest::new(
        stores,
        postroom::metadata::Rules::builtin(),
        Arc::new(SystemClock),
        IngestSettings::default(),
    );

    // A table endpoint that is down: every message fails, retryably, and nothing is written.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let dead = AwsSettings::load_with_endpoint(&format!("http://127.0.0.1:{port}")).await;
    let broken = Ingest::new(
        Stores {
            blobs: Arc::new(blobs.clone()),
            table: Arc::new(DynamoTable::new(&dead, table.table_name())),
        },
        postroom::metadata::Rules::builtin(),
        Arc::new(SystemClock),
        IngestSettings::default(),
    );
    let report = ingest_sqs_batch(&broken, messages.clone(), 4).await;
    let object_messages = messages
        .iter()
        .filter(|(_, b)| b.contains("ObjectCreated"))
        .count();
    assert_eq!(
        report.failed.len(),
        object_messages + 1,
        "every object message and the junk failed: {:?}",
        report.failed
    );
    let page = table.scan(0, 1, None).await.expect("scan");
    assert!(
        page.items.is_empty(),
        "nothing half-written: {:?}",
        page.items
    );

    // The redelivery, with the table back: everything filed; only the junk fails.
    let report = ingest_sqs_batch(&ingest, messages.clone(), 4).await;
    assert_eq!(report.failed, ["junk-1"]);
    let status_of = |needle: &str| {
        report
            .outcomes
            .iter()
            .find(|o| o.source.contains(needle))
            .map(|o| (o.status, o.case_ref.clone()))
            .unwrap_or((IngestStatus::Failed, None))
    };
    let (claim_status, claim_case) = status_of("Zoë Pemberton");
    assert_eq!(claim_status, IngestStatus::Filed, "{:?}", report.outcomes);
    let claim_case = claim_case.expect("a case");
    assert!(claim_case.starts_with("CNST/"));
    assert_eq!(status_of("foi/request.eml").0, IngestStatus::Filed);
    assert_eq!(status_of("photo.pdf").0, IngestStatus::Quarantined);
    let photo_id = report
        .outcomes
        .iter()
        .find(|o| o.source.contains("photo.pdf"))
        .and_then(|o| o.doc_id.clone())
        .expect("the photo's document id");
    assert!(
        blobs
            .head(&keys::quarantine(&photo_id, "inbox/photo.pdf"))
            .await
            .is_ok()
            && blobs.head("inbox/photo.pdf").await.is_err()
    );

    // Delivered again (at least once): all unchanged, no new events.
    let events_before = table
        .query_all(&Query::new(keys::case(&claim_case)))
        .await
        .expect("case items")
        .len();
    let again = ingest_sqs_batch(&ingest, messages.clone(), 4).await;
    assert_eq!(again.failed, ["junk-1"]);
    assert!(
        again
            .outcomes
            .iter()
            .all(|o| o.status == IngestStatus::Unchanged),
        "{:?}",
        again.outcomes
    );
    assert_eq!(
        table
            .query_all(&Query::new(keys::case(&claim_case)))
            .await
            .expect("case items")
            .len(),
        events_before
    );

    blobs.destroy_bucket().await.expect("remove bucket");
    table.delete_table().await.expect("remove table");
    sqs.delete_queue()
        .queue_url(&url)
        .send()
        .await
        .expect("remove queue");
}
