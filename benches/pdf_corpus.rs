//! PDF text quality and speed against poppler's `pdftotext`, over the real-world corpus.
//!
//! `cargo bench --bench pdf_corpus [-- DIR] [--list]` runs every PDF under DIR (default
//! `../shared/corpus/pdf`) through `pdftotext` and through postroom in the same run, and
//! prints: the share of files (where pdftotext finds 20 words or more) whose word-level
//! F1 against pdftotext is at least 0.98; panics and failures; and speed, docs/s and MB/s,
//! three ways: one process per file for both tools (`postroom extract --json FILE`, text
//! *and* metadata, against `pdftotext FILE -`), and postroom's library in-process.
//! With `--list`, every file's F1. Words are compared as multisets; the invisible bidi
//! controls pdftotext wraps around right-to-left text are ignored.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use postroom::extract::{Limits, extract_isolated};

// Keep the bench's own dependency list small: it uses only postroom and std.

fn pdfs(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            pdfs(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("pdf"))
        {
            out.push(path);
        }
    }
}

/// Words as multisets, ignoring the invisible bidirectional controls (U+200E/F,
/// U+202A-202E, U+2066-2069) that pdftotext wraps around right-to-left text.
fn words(text: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for w in text.split_whitespace() {
        let w: String = w
            .chars()
            .filter(|c| !matches!(*c as u32, 0x200E | 0x200F | 0x202A..=0x202E | 0x2066..=0x2069))
            .collect();
        if !w.is_empty() {
            *counts.entry(w).or_insert(0) += 1;
        }
    }
    counts
}

/// Word-level F1 of `ours` against `reference`, as multisets of whitespace-separated words.
fn f1(ours: &str, reference: &str) -> f64 {
    let a = words(ours);
    let b = words(reference);
    let total_a: usize = a.values().sum();
    let total_b: usize = b.values().sum();
    if total_a == 0 || total_b == 0 {
        return if total_a == total_b { 1.0 } else { 0.0 };
    }
    let common: usize = a
        .iter()
        .map(|(w, n)| (*n).min(*b.get(w.as_str()).unwrap_or(&0)))
        .sum();
    let p = common as f64 / total_a as f64;
    let r = common as f64 / total_b as f64;
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

fn pdftotext(path: &Path) -> (Option<String>, Duration) {
    let start = Instant::now();
    let out = Command::new("timeout")
        .args(["10", "pdftotext", "-q", "-enc", "UTF-8"])
        .arg(path)
        .arg("-")
        .output();
    let took = start.elapsed();
    match out {
        Ok(o) if o.status.success() => {
            (Some(String::from_utf8_lossy(&o.stdout).into_owned()), took)
        }
        _ => (None, took),
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let list = args.iter().any(|a| a == "--list");
    let dir = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/pdf"))
        });
    if Command::new("pdftotext").arg("-v").output().is_err() {
        eprintln!("pdftotext is not installed (Debian: apt-get install poppler-utils)");
        std::process::exit(2);
    }
    let mut files = Vec::new();
    pdfs(&dir, &mut files);
    if files.is_empty() {
        eprintln!("no PDFs under {}", dir.display());
        std::process::exit(2);
    }
    let limits = Limits::default();
    let rules = postroom::metadata::Rules::builtin();
    let binary = env!("CARGO_BIN_EXE_postroom");
    let mut process_time = Duration::ZERO;
    let (mut ours_time, mut theirs_time) = (Duration::ZERO, Duration::ZERO);
    let mut bytes_total = 0u64;
    let (mut eligible, mut good, mut internal, mut unreadable) = (0usize, 0usize, 0usize, 0usize);
    let mut scores: Vec<(f64, String)> = Vec::new();
    for path in &files {
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        bytes_total += bytes.len() as u64;
        let (reference, took) = pdftotext(path);
        theirs_time += took;
        let start = Instant::now();
        let extracted = extract_isolated(bytes.clone(), &limits);
        let meta = postroom::metadata::analyse(
            &extracted,
            "bench",
            &postroom::extract::sha256_hex(&bytes),
            rules,
        );
        ours_time += start.elapsed();
        std::hint::black_box(&meta);
        let start = Instant::now();
        let _ = Command::new(binary)
            .args(["extract", "--json"])
            .arg(path)
            .output();
        process_time += start.elapsed();
        let codes: Vec<&str> = extracted
            .warnings
            .as_slice()
            .iter()
            .map(|w| w.code())
            .collect();
        if codes.contains(&"internal_error") {
            internal += 1;
        }
        if extracted.unreadable() {
            unreadable += 1;
        }
        let Some(reference) = reference else { continue };
        if words(&reference).values().sum::<usize>() < 20 {
            continue;
        }
        eligible += 1;
        let score = f1(&extracted.text, &reference);
        if score >= 0.98 {
            good += 1;
        }
        let name = path
            .strip_prefix(&dir)
            .unwrap_or(path)
            .display()
            .to_string();
        scores.push((score, format!("{name} {codes:?}")));
    }
    scores.sort_by(|a, b| a.0.total_cmp(&b.0));
    if list {
        for (score, name) in &scores {
            println!("{score:.3} {name}");
        }
    }
    let mb = bytes_total as f64 / 1e6;
    let n = files.len() as f64;
    println!(
        "files: {} ({mb:.1} MB); internal errors (caught panics): {internal}; unreadable: {unreadable}",
        files.len()
    );
    println!(
        "text quality: {good} of {eligible} files ({:.1} %) reach word F1 >= 0.98 against pdftotext",
        100.0 * good as f64 / eligible.max(1) as f64
    );
    println!(
        "speed, one process per file: postroom extract --json {:.1} docs/s {:.2} MB/s; pdftotext {:.1} docs/s {:.2} MB/s; ratio (postroom/pdftotext) {:.2}",
        n / process_time.as_secs_f64(),
        mb / process_time.as_secs_f64(),
        n / theirs_time.as_secs_f64(),
        mb / theirs_time.as_secs_f64(),
        theirs_time.as_secs_f64() / process_time.as_secs_f64()
    );
    println!(
        "speed, postroom library in-process (text + metadata): {:.1} docs/s {:.2} MB/s; ratio to pdftotext processes {:.2}",
        n / ours_time.as_secs_f64(),
        mb / ours_time.as_secs_f64(),
        theirs_time.as_secs_f64() / ours_time.as_secs_f64()
    );
}
