//! Ingest throughput on the embedded default against extraction alone.
//!
//! `cargo bench --bench ingest_throughput [-- N]` makes N (default 1,000) distinct
//! documents from the labelled set (PDFs and emails made unique without changing what
//! they say, so none is skipped as a duplicate), then times, in one run: extraction with
//! metadata alone over all of them, and the whole ingest use case on the same objects
//! once uploaded to the inbox (head, read, extract, store text, one SQLite transaction
//! with the audit event). It prints docs/s for both and the ratio (goal: at least 0.8).
//! Then the same two at the parallelism `postroom ingest` uses on two cores: ingest with
//! the next documents read and extracted two at a time while each is filed in order,
//! against extraction alone one at a time (as `postroom extract` runs) and two at a time
//! (equal parallelism).
//!
//! The stores live in a temporary folder: set `TMPDIR` (for example to `/dev/shm`) to
//! tell the bookkeeping's own cost from the file system's cost of creating files.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use postroom::clock::SystemClock;
use postroom::config::Config;
use postroom::extract::{Limits, extract_isolated, sha256_hex};
use postroom::ingest::{Ingest, IngestSettings, ObjectRef};
use postroom::metadata::{Rules, analyse};

fn corpus(n: usize) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/documents");
    let mut seeds: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .expect("tests/data/documents")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "pdf" || e == "eml"))
        .map(|p| {
            (
                p.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
                std::fs::read(&p).expect("read"),
            )
        })
        .collect();
    seeds.sort();
    (0..n)
        .map(|i| {
            let (name, bytes) = &seeds[i % seeds.len()];
            let mut bytes = bytes.clone();
            if name.ends_with(".pdf") {
                // A comment after the end of the file: different bytes, same document.
                bytes.extend_from_slice(format!("\n% copy {i}\n").as_bytes());
            } else {
                bytes.extend_from_slice(format!("\r\n-- \r\ncopy {i}\r\n").as_bytes());
            }
            (format!("inbox/{i:05}-{name}"), bytes)
        })
        .collect()
}

/// Uploads every document to the inbox, as a sender's PUT would (not timed).
async fn stage_all(ingest: &Ingest, docs: &[(String, Vec<u8>)]) -> Vec<ObjectRef> {
    let mut objects = Vec::new();
    for (key, bytes) in docs {
        objects.push(
            ingest
                .stage(key, bytes.clone().into(), "local")
                .await
                .expect("stage"),
        );
    }
    objects
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1000);
    let docs = corpus(n);
    let mb = docs.iter().map(|(_, b)| b.len()).sum::<usize>() as f64 / 1e6;
    let limits = Limits::default();
    let rules = Rules::builtin();

    let start = Instant::now();
    for (name, bytes) in &docs {
        let extracted = extract_isolated(bytes.clone(), &limits);
        std::hint::black_box(analyse(&extracted, name, &sha256_hex(bytes), rules));
    }
    let extract_secs = start.elapsed().as_secs_f64();

    let home = tempfile::tempdir().expect("temp dir");
    let config = Config::local(home.path().to_path_buf());
    let stores = postroom::app::local_stores(&config).expect("stores");
    let ingest = Ingest::new(
        stores,
        rules,
        Arc::new(SystemClock),
        IngestSettings::default(),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // The upload (staging into the inbox) is the sender's work, as a PUT to S3 is; the
    // use case starts from an object already there, as the Lambda does.
    let objects = runtime.block_on(stage_all(&ingest, &docs));
    // Written back before the clock starts, so the ingest does not pay for the upload.
    let _ = std::process::Command::new("sync").status();
    let start = Instant::now();
    let statuses = runtime.block_on(async {
        let mut statuses = std::collections::BTreeMap::new();
        for obj in &objects {
            let outcome = ingest.ingest(obj).await.expect("ingest");
            *statuses.entry(outcome.status.as_str()).or_insert(0) += 1;
        }
        statuses
    });
    let ingest_secs = start.elapsed().as_secs_f64();

    // As `postroom ingest` runs: the next documents read and extracted (two at a time)
    // while each is filed in turn, on a fresh store with the same objects.
    let home2 = tempfile::tempdir().expect("temp dir");
    let stores2 =
        postroom::app::local_stores(&Config::local(home2.path().to_path_buf())).expect("stores");
    let ingest2 = Ingest::new(
        stores2,
        rules,
        Arc::new(SystemClock),
        IngestSettings::default(),
    );
    let objects2 = runtime.block_on(stage_all(&ingest2, &docs));
    let _ = std::process::Command::new("sync").status();
    let start = Instant::now();
    let pipelined = runtime.block_on(async {
        let work = objects2
            .into_iter()
            .map(|obj| {
                let ingest = ingest2.clone();
                async move { ingest.prepare(&obj).await.expect("prepare") }
            })
            .collect();
        let (mut rx, reader) =
            postroom::ingest::in_order_ahead(work, postroom::ingest::read_ahead());
        let mut statuses = std::collections::BTreeMap::new();
        while let Some(p) = rx.recv().await {
            let outcome = ingest2.commit(p).await.expect("commit");
            *statuses.entry(outcome.status.as_str()).or_insert(0) += 1;
        }
        reader.await.expect("reader");
        statuses
    });
    let pipelined_secs = start.elapsed().as_secs_f64();
    assert_eq!(pipelined, statuses, "the same outcomes either way");

    // Extraction alone, two at a time: the comparison at equal parallelism.
    let start = Instant::now();
    std::thread::scope(|scope| {
        for half in [0, 1] {
            let (docs, limits) = (&docs, &limits);
            scope.spawn(move || {
                for (name, bytes) in docs.iter().skip(half).step_by(2) {
                    let extracted = extract_isolated(bytes.clone(), limits);
                    std::hint::black_box(analyse(&extracted, name, &sha256_hex(bytes), rules));
                }
            });
        }
    });
    let extract2_secs = start.elapsed().as_secs_f64();

    println!("{n} documents, {mb:.1} MB; ingest outcomes: {statuses:?}");
    println!(
        "extract + metadata alone: {:.1} docs/s",
        n as f64 / extract_secs
    );
    println!(
        "ingest (embedded default): {:.1} docs/s",
        n as f64 / ingest_secs
    );
    println!(
        "ratio ingest/extract, one at a time: {:.2} (goal >= 0.8)",
        extract_secs / ingest_secs
    );
    println!(
        "ingest as `postroom ingest` runs it ({} read ahead, filed in order): {:.1} docs/s",
        postroom::ingest::read_ahead(),
        n as f64 / pipelined_secs
    );
    println!(
        "  ratio to extraction one at a time (as `postroom extract` runs): {:.2}",
        extract_secs / pipelined_secs
    );
    println!(
        "extract + metadata, two at a time: {:.1} docs/s",
        n as f64 / extract2_secs
    );
    println!(
        "  ratio of pipelined ingest to it (equal parallelism): {:.2}",
        extract2_secs / pipelined_secs
    );
}
