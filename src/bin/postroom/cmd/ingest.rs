//! `postroom ingest`: files the documents of local files and folders through the ingest
//! use case, reading and extracting several ahead while each is filed in the order
//! given; one line (or JSON object) per file. Acknowledgements are made in the
//! background as letters of claim and FOI requests are filed.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use postroom::app::App;
use postroom::failure::ErrorCode as _;
use postroom::ingest::{Outcome, in_order_ahead, read_ahead};
use postroom::model::IngestStatus;

use crate::args::IngestArgs;

/// A temporary file of the local store this old belongs to no live write.
const STALE_TEMP_FILES: std::time::Duration = std::time::Duration::from_secs(3600);

/// The megabytes of files `postroom ingest` holds while reading ahead.
const READ_AHEAD_MB: u64 = 64;

/// Why a file given to `postroom ingest` was not read.
#[derive(Debug)]
enum ReadError {
    Io(std::io::Error),
    TooLarge(u64),
}

/// Every file under the paths, with the name it is staged under (its path below the
/// folder given, or its file name); `Ingest::stage_file` adds the bytes' own folder.
fn collect_files(paths: &[PathBuf]) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
                let entry =
                    entry.with_context(|| format!("cannot read the folder {}", path.display()))?;
                if entry.file_type().is_file() {
                    let rel = entry.path().strip_prefix(path).unwrap_or(entry.path());
                    files.push((
                        entry.path().to_path_buf(),
                        rel.to_string_lossy().into_owned(),
                    ));
                }
            }
        } else {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "upload".into());
            files.push((path.clone(), name));
        }
    }
    Ok(files)
}

/// Waits for the acknowledgement letters still being made; says which failed (running
/// the same ingest again makes them) and how many.
pub async fn report_unmade_letters(app: &App) -> usize {
    let failed = app.finish().await;
    for (request_id, e) in &failed {
        eprintln!(
            "postroom: the letter {request_id} was not made ({}): {e}; ingest the same files again to make it",
            e.code()
        );
    }
    failed.len()
}

/// The outcome of a file that could not be filed.
fn failed(path: &std::path::Path, reason: &str) -> Outcome {
    Outcome {
        source: path.display().to_string(),
        doc_id: None,
        case_ref: None,
        status: IngestStatus::Failed,
        reason: Some(reason.into()),
    }
}

fn line(outcome: &Outcome, json: bool) -> anyhow::Result<String> {
    Ok(if json {
        serde_json::to_string(&serde_json::json!({
            "source": outcome.source,
            "doc_id": outcome.doc_id,
            "case_ref": outcome.case_ref,
            "status": outcome.status,
        }))?
    } else {
        format!(
            "{:<12} {}{}{}",
            outcome.status.as_str(),
            outcome.source,
            outcome
                .case_ref
                .as_deref()
                .map(|c| format!(" -> {c}"))
                .unwrap_or_default(),
            outcome
                .reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        )
    })
}

pub async fn run(app: &App, args: &IngestArgs) -> anyhow::Result<ExitCode> {
    use std::io::IsTerminal as _;
    // What a run killed in the middle of a write left on the disk (never an object).
    let removed = app.remove_stale_temp_files(STALE_TEMP_FILES)?;
    if removed > 0 {
        tracing::info!(removed, "stale temporary files removed");
    }
    let files = collect_files(&args.paths)?;
    let bar = (files.len() > 3 && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(files.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let bucket = app.bucket().to_owned();
    let mut bad = 0;
    // Files are read, staged and extracted several ahead while each is filed in turn, so
    // filing is in the order given (a letter that opens a case is filed before the
    // documents that follow it) and one document's disk writes overlap the extraction
    // of the next. The files read ahead hold at most READ_AHEAD_MB between them (a
    // larger one waits to be read alone).
    let max_bytes = app.ingest().settings().max_object_bytes;
    let budget = Arc::new(tokio::sync::Semaphore::new(READ_AHEAD_MB as usize));
    let work = files
        .iter()
        .cloned()
        .map(|(path, name)| {
            let use_case = app.ingest().clone();
            let bucket = bucket.clone();
            let budget = budget.clone();
            async move {
                let size = tokio::fs::metadata(&path).await.map(|m| m.len());
                // A file over the limit is not read at all (the user still has it).
                if let Ok(size) = size
                    && size > max_bytes
                {
                    return (path, Err(ReadError::TooLarge(size)));
                }
                let mb = size
                    .map_or(1, |s| s.div_ceil(1024 * 1024))
                    .clamp(1, READ_AHEAD_MB) as u32;
                let _held = budget.acquire_many_owned(mb).await;
                let result = match tokio::fs::read(&path).await {
                    Ok(bytes) => Ok(
                        match use_case.stage_file(&name, bytes.into(), &bucket).await {
                            Ok(obj) => use_case.prepare(&obj).await,
                            Err(e) => Err(e),
                        },
                    ),
                    Err(e) => Err(ReadError::Io(e)),
                };
                (path, result)
            }
        })
        .collect();
    let (mut rx, reader) = in_order_ahead(work, read_ahead());
    while let Some((path, read)) = rx.recv().await {
        let outcome = match read {
            Ok(Ok(prepared)) => app.ingest().file(prepared).await,
            Ok(Err(e)) => Err(e),
            Err(ReadError::Io(e)) => {
                eprintln!("postroom: cannot read {}: {e}", path.display());
                bad += 1;
                continue;
            }
            Err(ReadError::TooLarge(size)) => {
                eprintln!(
                    "postroom: {} is {} MB, over the {} MB a document may be: not read",
                    path.display(),
                    size.div_ceil(1024 * 1024),
                    max_bytes / (1024 * 1024)
                );
                Ok(failed(&path, "too_large"))
            }
        };
        let outcome = outcome.unwrap_or_else(|e| {
            eprintln!("postroom: {}: {e}", path.display());
            failed(
                &path,
                if e.is_retryable() {
                    "retryable"
                } else {
                    "permanent"
                },
            )
        });
        let outcome = Outcome {
            source: path.display().to_string(),
            ..outcome
        };
        bad += usize::from(matches!(
            outcome.status,
            IngestStatus::Failed | IngestStatus::Quarantined
        ));
        let line = line(&outcome, args.json)?;
        match &bar {
            Some(bar) => {
                bar.println(line);
                bar.inc(1);
            }
            None => out!("{line}"),
        }
    }
    reader
        .await
        .map_err(|e| anyhow::anyhow!("reading the files stopped: {e}"))?;
    bad += report_unmade_letters(app).await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(if bad > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
