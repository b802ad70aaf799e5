//! Metadata analysis speed on adversarial text (review finding 5): floods of dates, on
//! many lines and on one, 30,000 distinct court numbers, and 16 MB of labels, references,
//! names and amounts mixed. Each must be analysed in linear time (goal: 16 MB in under
//! 2 s).
//!
//! `cargo bench --bench analysis [-- RUNS]` prints one line per input with the seconds
//! it took (the best of RUNS, default 3) and a JSON line for scripts.

use std::hint::black_box;
use std::time::Instant;

use postroom::extract::{Extracted, MediaType, Warnings};
use postroom::metadata::{Rules, analyse};

const MB: usize = 1 << 20;

fn fill(unit: &str, bytes: usize) -> String {
    unit.repeat(bytes / unit.len())
}

/// Labels, references, names, dates and amounts, on short lines and long ones.
fn mixed(bytes: usize) -> String {
    let mut s = String::with_capacity(bytes + 256);
    let mut i = 0u64;
    while s.len() < bytes {
        let line = match i % 8 {
            0 => format!("Claimant: Jo Bloggs{i}\nDate of incident: 01/02/2023\n"),
            1 => format!("Our ref: AB/{i} Your ref: CNST/24/{:06} ", i % 1_000_000),
            2 => format!(
                "FOI_{:07} KB-2024-{:06} £{i} ",
                i % 10_000_000,
                i % 1_000_000
            ),
            3 => format!("Fenbrook{i} NHS Foundation Trust and Smith{i} Solicitors "),
            4 => "Kind regards\nYours sincerely\nDOB: 14/11/1958 admitted on 5 March 2024. "
                .to_owned(),
            5 => format!("Name: Zoë Example{i} Re: İẞ 999 000 0018 NT1 1AA zoe{i}@example.org "),
            6 => "Under the Freedom of Information Act I would like to request ".to_owned(),
            _ => "\n".to_owned(),
        };
        s.push_str(&line);
        i += 1;
    }
    s
}

/// This thread's CPU time (user and system, in 1/100 s) from `/proc/thread-self/stat`:
/// on a machine whose other core is busy, what the analysis itself cost, beside the
/// wall time. `None` where there is no such file.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    Some((ticks(11)? + ticks(12)?) / 100.0)
}

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(3);
    let inputs: Vec<(&str, String)> = vec![
        ("dates_lines_16mb", fill("01/01/2000\n", 16 * MB)),
        ("dates_one_line_16mb", fill("01/01/2000 ", 16 * MB)),
        (
            "court_refs_30k_500kb",
            (0..30_000).map(|i| format!("KB-2024-{i:06}\n")).collect(),
        ),
        ("mixed_16mb", mixed(16 * MB)),
    ];
    let rules = Rules::builtin();
    let mut json = Vec::new();
    for (name, text) in inputs {
        let extracted = Extracted {
            media_type: MediaType::Text,
            text,
            pages: None,
            email: None,
            attachments: Vec::new(),
            warnings: Warnings::default(),
            scans: Vec::new(),
        };
        let mut best = f64::INFINITY;
        let mut best_cpu = f64::INFINITY;
        let mut warnings = String::new();
        for _ in 0..runs.max(1) {
            let (start, cpu) = (Instant::now(), thread_cpu_seconds());
            let meta = black_box(analyse(black_box(&extracted), "bench", "0", rules));
            best = best.min(start.elapsed().as_secs_f64());
            if let (Some(after), Some(before)) = (thread_cpu_seconds(), cpu) {
                best_cpu = best_cpu.min(after - before);
            }
            warnings = meta
                .warnings
                .iter()
                .map(|w| w.code())
                .collect::<Vec<_>>()
                .join(",");
        }
        println!(
            "{name}: {:.1} MB analysed in {best:.3} s ({:.1} MB/s; {best_cpu:.2} s of CPU) [{warnings}]",
            extracted.text.len() as f64 / MB as f64,
            extracted.text.len() as f64 / MB as f64 / best
        );
        json.push(format!(
            "\"{name}\":{{\"bytes\":{},\"seconds\":{best:.4},\"cpu_seconds\":{best_cpu:.2}}}",
            extracted.text.len()
        ));
    }
    println!("{{\"tool\":\"postroom-analysis\",{}}}", json.join(","));
}
