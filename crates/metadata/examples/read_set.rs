//! Reads a set of documents many times over (extraction, then analysis with the built-in
//! rules) and prints the time each takes, for profiling reading (issue 19's speed goal):
//! `cargo run --profile fast -p postroom-metadata --example read_set -- ROUNDS FILE...`.
//! With `READ_SET_ANALYSIS_ONLY=1`, each document is extracted once and analysed ROUNDS
//! times. With `READ_SET_DUMP=FILE`, each document's metadata (Rust's debug form) is
//! written to FILE once, to compare two builds' readings.

use std::time::{Duration, Instant};

use postroom_extract::{Limits, extract};
use postroom_metadata::{Rules, analyse};

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);
    let files: Vec<(String, Vec<u8>)> = args
        .map(|f| {
            let bytes = std::fs::read(&f).unwrap_or_default();
            (f, bytes)
        })
        .collect();
    let rules = Rules::builtin();
    let limits = Limits::default();
    let n = (rounds * files.len()) as f64;
    let mut fields = 0usize;
    if std::env::var_os("READ_SET_ANALYSIS_ONLY").is_some() {
        let extracted: Vec<_> = files
            .iter()
            .map(|(name, bytes)| (name, extract(bytes, &limits)))
            .collect();
        let t = Instant::now();
        for _ in 0..rounds {
            for (name, e) in &extracted {
                fields += analyse(e, name, "0", rules).evidence.len();
            }
        }
        println!(
            "analysis alone: {:.1} us/doc ({fields} evidence)",
            t.elapsed().as_secs_f64() * 1e6 / n
        );
    } else {
        let (mut extracting, mut analysing) = (Duration::ZERO, Duration::ZERO);
        for _ in 0..rounds {
            for (name, bytes) in &files {
                let t = Instant::now();
                let extracted = extract(bytes, &limits);
                let e = t.elapsed();
                let meta = analyse(&extracted, name, "0", rules);
                analysing += t.elapsed() - e;
                extracting += e;
                fields += meta.evidence.len();
            }
        }
        println!(
            "{} documents: extraction {:.1} us/doc, analysis {:.1} us/doc ({fields} evidence)",
            rounds * files.len(),
            extracting.as_secs_f64() * 1e6 / n,
            analysing.as_secs_f64() * 1e6 / n,
        );
    }
    if let Ok(dump) = std::env::var("READ_SET_DUMP") {
        let all: String = files
            .iter()
            .map(|(name, bytes)| {
                let meta = analyse(&extract(bytes, &limits), name, "0", rules);
                format!("{meta:?}\n")
            })
            .collect();
        std::fs::write(dump, all).unwrap_or_else(|e| eprintln!("cannot write the dump: {e}"));
    }
}
