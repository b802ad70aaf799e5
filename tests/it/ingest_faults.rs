//! Ingest under the faults the reliability review found: two uploads to one key,
//! quarantine under the template's permissions, FOI numbers quoted before they are
//! issued, the FOI clock's receipt date, records the store refuses, documents that arrive
//! before their case, same-named files given to the CLI, and panic messages kept out of
//! the logs.

use std::process::Command;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{TimeZone, Utc};
use postroom::config::Config;
use postroom::ingest::{Ingest, IngestSettings, ObjectRef, Outcome};
use postroom::model::{IngestStatus, keys};
use postroom::store::Stores;
use postroom::store::{
    Blobs, Cursor, Key, ListPage, Object, ObjectMeta, Pin, PutOptions, Query, S3Blobs, StoreError,
    StoreResult,
};
use serde_json::Value;

use crate::cli::postroom;
use crate::contract::harness::{aws_settings, unique};
use crate::ingest::FixedClock;
use crate::support::sample;

fn local(dir: &tempfile::TempDir) -> Stores {
    let config = Config::local(dir.path().to_path_buf());
    postroom::app::local_stores(&config).expect("local stores")
}

fn use_case(stores: &Stores) -> Ingest {
    Ingest::new(
        stores.clone(),
        postroom::metadata::Rules::builtin(),
        Arc::new(FixedClock),
        IngestSettings::default(),
    )
}

async fn doc(stores: &Stores, outcome: &Outcome) -> serde_json::Map<String, Value> {
    stores
        .table
        .get(&Key::new(
            keys::doc(outcome.doc_id.as_deref().expect("a document id")),
            keys::META,
        ))
        .await
        .expect("get")
        .expect("the document's record")
}

fn sha256(bytes: &[u8]) -> String {
    postroom::extract::sha256_hex(bytes)
}

/// A versioned bucket on the stand-in, beside a local table; `None` when no stand-in.
async fn versioned_bucket(test: &str) -> Option<(S3Blobs, Stores, tempfile::TempDir)> {
    let settings = aws_settings(test).await?;
    let s3 = S3Blobs::new(&settings, unique(test));
    s3.create_bucket().await.expect("bucket");
    s3.enable_versioning().await.expect("versioning");
    let dir = tempfile::tempdir().expect("temp dir");
    let stores = Stores {
        blobs: Arc::new(s3.clone()),
        table: local(&dir).table,
    };
    Some((s3, stores, dir))
}

async fn upload(blobs: &dyn Blobs, key: &str, bytes: &'static [u8]) -> ObjectRef {
    let meta = blobs
        .put(key, Bytes::from_static(bytes), &PutOptions::default())
        .await
        .expect("put");
    ObjectRef {
        bucket: "docs".into(),
        key: key.into(),
        version: meta.version,
        etag: Some(meta.etag),
        received: None,
    }
}

/// Finding 1: letter A, then letter B, uploaded to one key before either event is
/// handled. Each event's document is its own bytes (before: A was filed with B's bytes
/// and B became a `duplicate` of it, so A was never read).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_uploads_of_one_key_in_quick_succession_are_two_documents() {
    let name = "ingest_faults::two_uploads_of_one_key_in_quick_succession_are_two_documents";
    let Some((s3, stores, _dir)) = versioned_bucket(name).await else {
        return;
    };
    let a = sample("01-letter-of-claim.pdf");
    let b = sample("06-notice-of-appeal.pdf");
    let first = upload(stores.blobs.as_ref(), "inbox/scan.pdf", a).await;
    let second = upload(stores.blobs.as_ref(), "inbox/scan.pdf", b).await;
    assert!(first.version.is_some() && first.version != second.version);
    let ingest = use_case(&stores);
    let one = ingest.ingest(&first).await.expect("ingest A");
    let two = ingest.ingest(&second).await.expect("ingest B");
    assert_ne!(one.doc_id, two.doc_id);
    for (outcome, bytes, version) in [(&one, a, &first.version), (&two, b, &second.version)] {
        assert_eq!(outcome.status, IngestStatus::Filed, "{outcome:?}");
        let record = doc(&stores, outcome).await;
        assert_eq!(record["sha256"], Value::from(sha256(bytes)));
        assert_eq!(record["object_version"], Value::from(version.clone()));
    }
    s3.destroy_bucket().await.expect("clean up");
}

/// Finding 1, second path: a hostile first version is quarantined after a good second
/// version arrived. The quarantine moves the first version's bytes and leaves the second
/// current, and the second's own event files it (before: the delete hid the second
/// version, whose event then ended as `object_gone`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quarantining_an_old_version_leaves_the_new_one() {
    let name = "ingest_faults::quarantining_an_old_version_leaves_the_new_one";
    let Some((s3, stores, _dir)) = versioned_bucket(name).await else {
        return;
    };
    let bad = sample("09-photo-named-as.pdf");
    let good = sample("01-letter-of-claim.pdf");
    let first = upload(stores.blobs.as_ref(), "inbox/post.pdf", bad).await;
    let second = upload(stores.blobs.as_ref(), "inbox/post.pdf", good).await;
    let ingest = use_case(&stores);
    let refused = ingest.ingest(&first).await.expect("ingest v1");
    assert_eq!(refused.status, IngestStatus::Quarantined);
    let record = doc(&stores, &refused).await;
    let target = record["quarantine_key"].as_str().expect("moved").to_owned();
    assert_eq!(
        stores.blobs.get(&target).await.expect("quarantined").body,
        Bytes::from_static(bad)
    );
    assert_eq!(
        stores
            .blobs
            .get("inbox/post.pdf")
            .await
            .expect("v2 stays")
            .body,
        Bytes::from_static(good)
    );
    let filed = ingest.ingest(&second).await.expect("ingest v2");
    assert_eq!(filed.status, IngestStatus::Filed, "{filed:?}");
    // A redelivery of the first event changes nothing.
    let again = ingest.ingest(&first).await.expect("redelivery");
    assert_eq!(again.status, IngestStatus::Unchanged);
    assert_eq!(
        stores
            .blobs
            .get("inbox/post.pdf")
            .await
            .expect("v2 stays")
            .body,
        Bytes::from_static(good)
    );
    s3.destroy_bucket().await.expect("clean up");
}

/// The ingest role's object permissions in `infra/template.yaml`, enforced in front of
/// a real store: GetObject (and so HeadObject) only under `inbox/` and `text/`,
/// PutObject under `text/` and `quarantine/`, DeleteObject (and its versions) under
/// `inbox/`. What S3 would answer with 403 fails here the same way: not retryable.
#[derive(Debug)]
struct IngestRolePolicy {
    inner: Arc<dyn Blobs>,
}

/// The template's ingest role grants exactly what `IngestRolePolicy` allows (a change to
/// either shows here).
#[test]
fn the_policy_in_front_of_the_store_is_the_templates() {
    let template = include_str!("../../infra/template.yaml");
    let role = &template[template.find("  IngestRole:").expect("the ingest role")..];
    let role = &role[..role.find("\n  LettersRole:").expect("the next role")];
    let s3_grants: Vec<(&str, &str)> = role
        .lines()
        .zip(role.lines().skip(1))
        .filter_map(|(action, resource)| {
            let action = action.trim().strip_prefix("Action: ")?;
            action.contains("s3:").then_some((action, resource.trim()))
        })
        .collect();
    assert_eq!(
        s3_grants,
        [
            (
                "[s3:GetObject, s3:GetObjectVersion, s3:DeleteObject, s3:DeleteObjectVersion]",
                "Resource: !Sub ${DocumentsBucket.Arn}/inbox/*"
            ),
            (
                "[s3:GetObject]",
                "Resource: !Sub ${DocumentsBucket.Arn}/text/*"
            ),
            ("[s3:PutObject]", "Resource:"),
            ("s3:ListBucket", "Resource: !GetAtt DocumentsBucket.Arn"),
            // A long change to the search index waits here for the search function.
            (
                "s3:PutObject",
                "Resource: !Sub ${DocumentsBucket.Arn}/search-changes/*"
            ),
        ]
    );
    assert!(role.contains("- !Sub ${DocumentsBucket.Arn}/text/*\n                  - !Sub ${DocumentsBucket.Arn}/quarantine/*"));
}

impl IngestRolePolicy {
    fn allow(&self, action: &str, key: &str) -> StoreResult<()> {
        let prefixes: &[&str] = match action {
            "s3:GetObject" => &["inbox/", "text/"],
            "s3:PutObject" => &["text/", "quarantine/", "search-changes/"],
            "s3:DeleteObject" => &["inbox/"],
            _ => &[],
        };
        if prefixes.iter().any(|p| key.starts_with(p)) {
            Ok(())
        } else {
            Err(StoreError::Backend {
                backend: "S3",
                op: format!("{action} on a key the ingest role may not touch"),
                retryable: false,
                source: "AccessDenied (403)".into(),
            })
        }
    }
}

#[async_trait]
impl Blobs for IngestRolePolicy {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    async fn health(&self) -> StoreResult<()> {
        self.inner.health().await
    }
    async fn get(&self, key: &str) -> StoreResult<Object> {
        self.allow("s3:GetObject", key)?;
        self.inner.get(key).await
    }
    async fn put(&self, key: &str, body: Bytes, options: &PutOptions) -> StoreResult<ObjectMeta> {
        self.allow("s3:PutObject", key)?;
        self.inner.put(key, body, options).await
    }
    async fn head(&self, key: &str) -> StoreResult<ObjectMeta> {
        self.allow("s3:GetObject", key)?;
        self.inner.head(key).await
    }
    async fn list(
        &self,
        prefix: &str,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> StoreResult<ListPage> {
        self.inner.list(prefix, cursor, limit).await
    }
    async fn get_pinned(&self, key: &str, pin: &Pin) -> StoreResult<Object> {
        self.allow("s3:GetObject", key)?;
        self.inner.get_pinned(key, pin).await
    }
    async fn head_pinned(&self, key: &str, pin: &Pin) -> StoreResult<ObjectMeta> {
        self.allow("s3:GetObject", key)?;
        self.inner.head_pinned(key, pin).await
    }
    async fn copy(&self, from: &str, pin: Option<&Pin>, to: &str) -> StoreResult<()> {
        self.allow("s3:GetObject", from)?;
        self.allow("s3:PutObject", to)?;
        self.inner.copy(from, pin, to).await
    }
    async fn delete(&self, key: &str) -> StoreResult<()> {
        self.allow("s3:DeleteObject", key)?;
        self.inner.delete(key).await
    }
    async fn delete_pinned(&self, key: &str, pin: &Pin) -> StoreResult<()> {
        self.allow("s3:DeleteObject", key)?;
        // Pinned by ETag, the adapter checks the bytes with a HeadObject first: a
        // GetObject on the same inbox key, which the role has.
        self.allow("s3:GetObject", key)?;
        self.inner.delete_pinned(key, pin).await
    }
}

async fn quarantine_under_the_role(uploader: Stores, stores: Stores) {
    let ingest = use_case(&stores);
    let obj = use_case(&uploader)
        .stage(
            "inbox/photo.pdf",
            Bytes::from_static(sample("09-photo-named-as.pdf")),
            "docs",
        )
        .await
        .expect("stage");
    let outcome = ingest
        .ingest(&obj)
        .await
        .expect("a quarantine is no failure");
    assert_eq!(outcome.status, IngestStatus::Quarantined, "{outcome:?}");
    assert!(matches!(
        stores.blobs.head("inbox/photo.pdf").await,
        Err(StoreError::NotFound { .. })
    ));
    let again = ingest.ingest(&obj).await.expect("redelivery");
    assert_eq!(again.status, IngestStatus::Unchanged);
}

/// Finding 2: the whole quarantine works with only the role's permissions (before:
/// `copy` read the new object back with HeadObject under `quarantine/`, and the
/// finishing step did too: a 403 on every quarantine).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quarantine_needs_only_the_ingest_roles_permissions() {
    let dir = tempfile::tempdir().expect("temp dir");
    let plain = local(&dir);
    quarantine_under_the_role(
        plain.clone(),
        Stores {
            blobs: Arc::new(IngestRolePolicy {
                inner: plain.blobs.clone(),
            }),
            table: plain.table.clone(),
        },
    )
    .await;
    let name = "ingest_faults::a_quarantine_needs_only_the_ingest_roles_permissions";
    if let Some((s3, stores, _dir)) = versioned_bucket(name).await {
        quarantine_under_the_role(
            stores.clone(),
            Stores {
                blobs: Arc::new(IngestRolePolicy {
                    inner: stores.blobs.clone(),
                }),
                table: stores.table.clone(),
            },
        )
        .await;
        s3.destroy_bucket().await.expect("clean up");
    }
}

fn foi_email(quoting: &str, sent: &str) -> Vec<u8> {
    format!(
        "From: Ada Example <ada.example@mail.example>\r\n\
         To: FOI Team <foi@resolution.example>\r\n\
         Subject: Freedom of Information request {quoting}\r\n\
         Date: {sent}\r\n\
         Message-ID: <{}@mail.example>\r\n\
         Content-Type: text/plain; charset=\"utf-8\"\r\n\
         MIME-Version: 1.0\r\n\r\n\
         Dear Sir or Madam,\r\n\r\n\
         Under the Freedom of Information Act 2000 I would like to request the number \
         of claims about {quoting} closed in each year from 2019 to 2023.\r\n\r\n\
         Yours faithfully,\r\n\r\nAda Example\r\n",
        sha256(format!("{quoting}{sent}").as_bytes())
    )
    .into_bytes()
}

async fn ingest_bytes(ingest: &Ingest, key: &str, bytes: Vec<u8>) -> Outcome {
    let obj = ingest
        .stage(key, Bytes::from(bytes), "local")
        .await
        .expect("stage");
    ingest.ingest(&obj).await.expect("ingest")
}

/// Finding 3: a request quoting `FOI_7003`, a number postroom has not issued, gets the
/// next number and keeps the quoted one as written; the numbers after it go on past
/// 7003 (before: it opened FOI_7003, and once the counter reached 7003 no request could
/// be opened at all).
#[tokio::test]
async fn a_quoted_foi_number_never_issued_opens_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stores = local(&dir);
    let ingest = use_case(&stores);
    let sent = "Tue, 04 Feb 2025 10:15:00 +0000";
    let quoting = ingest_bytes(&ingest, "inbox/q.eml", foi_email("FOI_7003", sent)).await;
    assert_eq!(
        (quoting.status, quoting.case_ref.as_deref()),
        (IngestStatus::Filed, Some("FOI_7001"))
    );
    let (case, _) = postroom::cases::show_case(stores.table.as_ref(), "FOI_7001")
        .await
        .expect("show")
        .expect("case");
    assert_eq!(case["quoted_reference"], "FOI_7003");
    let mut issued = Vec::new();
    for topic in ["maternity", "surgery", "radiology", "orthopaedics"] {
        let outcome = ingest_bytes(
            &ingest,
            &format!("inbox/{topic}.eml"),
            foi_email(topic, sent),
        )
        .await;
        assert_eq!(outcome.status, IngestStatus::Filed, "{outcome:?}");
        issued.push(outcome.case_ref.expect("a number"));
    }
    assert_eq!(issued, ["FOI_7002", "FOI_7003", "FOI_7004", "FOI_7005"]);
}

/// Finding 6: the clock starts on the day the request reached postroom (the event's
/// time, else now), not on the sender's `Date:` header, which is kept as written. A
/// header far in the future no longer leaves the case without a clock.
#[tokio::test]
async fn the_foi_clock_starts_on_receipt() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stores = local(&dir);
    let ingest = use_case(&stores);
    let outcome = ingest_bytes(
        &ingest,
        "inbox/future.eml",
        foi_email("maternity", "Mon, 01 Jan 2029 09:00:00 +0000"),
    )
    .await;
    let reference = outcome.case_ref.expect("an FOI number");
    let (case, _) = postroom::cases::show_case(stores.table.as_ref(), &reference)
        .await
        .expect("show")
        .expect("case");
    assert_eq!(case["received"], "2025-03-04", "the FixedClock's day");
    assert_eq!(case["sender_date"], "2029-01-01");
    assert!(case.contains_key("GSI1PK"), "on the due list: {case:?}");

    // With an event time, that time's UK day: 23:30 UTC in June is the next day.
    let late = received_at(&stores, &ingest, "surgery", (2025, 6, 3, 23, 30)).await;
    assert_eq!(late["received"], "2025-06-04");

    // Received where the calendar cannot count (past 2200, the last year it computes
    // bank holidays for): the case still opens, on the due list, flagged.
    let far = received_at(&stores, &ingest, "radiology", (2201, 6, 3, 9, 0)).await;
    assert_eq!(far["received"], "2201-06-03");
    assert_eq!(far["clock_error"], "date_outside_calendar");
    assert!(far.contains_key("GSI1PK"), "on the due list: {far:?}");
}

/// The case opened by an FOI request about `topic` whose upload event came at `at`.
async fn received_at(
    stores: &Stores,
    ingest: &Ingest,
    topic: &str,
    (y, mo, d, h, mi): (i32, u32, u32, u32, u32),
) -> serde_json::Map<String, Value> {
    let bytes = foi_email(topic, "Tue, 04 Feb 2025 10:15:00 +0000");
    let mut obj = ingest
        .stage(&format!("inbox/{topic}.eml"), Bytes::from(bytes), "local")
        .await
        .expect("stage");
    obj.received = Some(Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap());
    let outcome = ingest.ingest(&obj).await.expect("ingest");
    let reference = outcome.case_ref.expect("an FOI number");
    postroom::cases::show_case(stores.table.as_ref(), &reference)
        .await
        .expect("show")
        .expect("case")
        .0
}

/// Finding 7(a): metadata too large for one record is trimmed, with a warning, and the
/// document is filed (before: `TooLarge`, retried into the DLQ).
#[tokio::test]
async fn a_record_too_large_is_trimmed_not_failed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stores = local(&dir);
    let ingest = use_case(&stores);
    let mut text = String::from("Re: our references, as listed\n");
    for i in 0..30_000 {
        text.push_str(&format!("KB-2024-{i:06} CNST/24/{i:06} 9990{i:06}\n"));
    }
    let outcome = ingest_bytes(&ingest, "inbox/list.txt", text.into_bytes()).await;
    assert!(
        matches!(outcome.status, IngestStatus::Filed | IngestStatus::Unfiled),
        "{outcome:?}"
    );
    let record = doc(&stores, &outcome).await;
    let size = serde_json::to_string(&record).expect("json").len();
    assert!(size < 400 * 1024, "{size} bytes");
}

/// Finding 10: a report that names a claim processed before the letter that opens the
/// claim waits, and is filed (once, audited) when the letter opens the case; running
/// everything again changes nothing.
#[tokio::test]
async fn documents_that_arrive_before_their_case_are_filed_when_it_opens() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stores = local(&dir);
    let ingest = use_case(&stores);
    let report = ingest_bytes(
        &ingest,
        "inbox/report.pdf",
        sample("02-expert-report.pdf").to_vec(),
    )
    .await;
    assert_eq!(
        (report.status, report.reason.as_deref()),
        (IngestStatus::Unfiled, Some("case_not_found"))
    );
    let claim = ingest_bytes(
        &ingest,
        "inbox/claim.pdf",
        sample("01-letter-of-claim.pdf").to_vec(),
    )
    .await;
    assert_eq!(claim.status, IngestStatus::Filed);
    let case_ref = claim.case_ref.clone().expect("opened");
    let record = doc(&stores, &report).await;
    assert_eq!(record["status"], "filed");
    assert_eq!(record["case_ref"], Value::from(case_ref.clone()));
    let events = stores
        .table
        .query_all(&Query::new(keys::doc(report.doc_id.as_deref().unwrap())))
        .await
        .expect("events");
    let filed: Vec<_> = events
        .iter()
        .filter(|e| e.get("what") == Some(&Value::from("filed_on_case_open")))
        .collect();
    assert_eq!(filed.len(), 1, "{events:?}");
    assert!(
        postroom::cases::inbox(stores.table.as_ref())
            .await
            .expect("inbox")
            .is_empty()
    );
    let (_, under) = postroom::cases::show_case(stores.table.as_ref(), &case_ref)
        .await
        .expect("show")
        .expect("case");
    assert_eq!(
        under
            .iter()
            .filter(|i| i["SK"].as_str().unwrap_or("").starts_with("DOC#"))
            .count(),
        2
    );
    // Again, in the other order: nothing changes.
    for (key, name) in [
        ("inbox/claim.pdf", "01-letter-of-claim.pdf"),
        ("inbox/report.pdf", "02-expert-report.pdf"),
    ] {
        let again = ingest_bytes(&ingest, key, sample(name).to_vec()).await;
        assert_eq!(again.status, IngestStatus::Unchanged);
    }
    assert!(
        stores
            .table
            .query_all(&Query::new(keys::waiting(&case_ref)))
            .await
            .expect("waiting")
            .is_empty()
    );
}

/// Finding 9: `postroom ingest a/letter.pdf b/letter.pdf` (and names that differ only by
/// case) keeps each file's own bytes (before: both were staged as `inbox/letter.pdf`, A
/// was filed with B's bytes and B reported `duplicate`).
#[test]
fn the_cli_never_lets_two_files_share_an_inbox_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = [
        ("a/letter.pdf", sample("01-letter-of-claim.pdf")),
        ("b/letter.pdf", sample("06-notice-of-appeal.pdf")),
        ("c/Letter.pdf", sample("02-expert-report.pdf")),
    ];
    let mut paths = Vec::new();
    for (name, bytes) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        paths.push(path);
    }
    let home = dir.path().join("home");
    let out = postroom()
        .arg("ingest")
        .arg("--json")
        .args(&paths)
        .arg("--home")
        .arg(&home)
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 3);
    let config = Config::local(home.clone());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let stores = postroom::app::local_stores(&config).expect("stores");
        for (line, (_, bytes)) in lines.iter().zip(files) {
            assert_ne!(line["status"], "duplicate", "{line}");
            let record = stores
                .table
                .get(&Key::new(
                    keys::doc(line["doc_id"].as_str().expect("id")),
                    keys::META,
                ))
                .await
                .expect("get")
                .expect("record");
            let stored = stores
                .blobs
                .get(record["key"].as_str().expect("key"))
                .await
                .expect("the original");
            assert_eq!(stored.body, Bytes::from_static(bytes));
            assert_eq!(record["sha256"], Value::from(sha256(bytes)));
        }
    });
    // Run again: every file unchanged.
    let out = postroom()
        .arg("ingest")
        .arg("--json")
        .args(&paths)
        .arg("--home")
        .arg(&home)
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.matches("\"unchanged\"").count(), 3, "{stdout}");
}

/// Finding 16: the SQLite file and the data folders are readable by their owner only.
#[cfg(unix)]
#[test]
fn local_data_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("temp dir");
    let home = dir.path().join("home");
    let out = postroom()
        .arg("ingest")
        .arg(dir.path().join("nothing-here.pdf"))
        .arg("--home")
        .arg(&home)
        .output()
        .expect("run");
    let _ = out;
    for path in [
        home.clone(),
        home.join("blobs"),
        home.join("postroom.sqlite3"),
    ] {
        let mode = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{} is {mode:o}", path.display());
    }
}

/// Finding 4 (logs): a panic's message never reaches standard error, only where it
/// happened. Runs itself as a child process with the hook installed.
#[test]
fn a_panic_message_never_reaches_the_logs() {
    if std::env::var("POSTROOM_PANIC_CHILD").is_ok() {
        postroom::telemetry::install_panic_hook();
        let handle = std::thread::Builder::new()
            .name("reader".into())
            .spawn(|| {
                let text = "Jo Bloggs, NHS number 999 000 0018";
                panic!("slice of {text}");
            })
            .expect("thread");
        assert!(handle.join().is_err());
        return;
    }
    let out = Command::new(std::env::current_exe().expect("this test binary"))
        .args([
            "ingest_faults::a_panic_message_never_reaches_the_logs",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("POSTROOM_PANIC_CHILD", "1")
        .output()
        .expect("run the child");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stderr.contains("internal error (panic) at") && stderr.contains("thread reader"),
        "{stderr}"
    );
    for secret in ["Jo Bloggs", "999 000 0018", "slice of"] {
        assert!(
            !stderr.contains(secret) && !stdout.contains(secret),
            "{secret} leaked:\n{stdout}{stderr}"
        );
    }
}
