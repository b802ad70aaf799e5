//! `postroom extract`: reads documents and prints their text, their metadata as JSON
//! lines, or a one-line summary each. Needs no store.

use std::io::Write as _;
use std::process::ExitCode;

use postroom::extract::{Extracted, Limits, Warning, extract_isolated, sha256_hex};
use postroom::metadata::Rules;

use crate::args::ExtractArgs;

pub fn run(args: &ExtractArgs) -> anyhow::Result<ExitCode> {
    let rules_owned;
    let rules = match &args.rules {
        Some(path) => {
            rules_owned = Rules::load(path)?;
            &rules_owned
        }
        None => Rules::builtin(),
    };
    let limits = Limits::default();
    let scanner = if args.no_ocr {
        postroom::scanning::Scanner::none()
    } else {
        postroom::scanning::Scanner::deployment()
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failed = false;
    for file in &args.files {
        let source = file.display().to_string();
        let (extracted, sha, scanned) = match std::fs::read(file) {
            Ok(bytes) => {
                let sha = sha256_hex(&bytes);
                let mut extracted = extract_isolated(bytes, &limits);
                let scanned = postroom::reading::scan_guarded(&scanner, &mut extracted, &limits);
                (extracted, sha, scanned)
            }
            Err(e) => {
                eprintln!("postroom: cannot read {source}: {e}");
                (
                    Extracted::unreadable_file(),
                    sha256_hex(b""),
                    postroom::scanning::ScanSummary::default(),
                )
            }
        };
        failed |= extracted.unreadable();
        if args.text {
            out.write_all(extracted.text.as_bytes())?;
            if !extracted.text.ends_with('\n') {
                out.write_all(b"\n")?;
            }
            continue;
        }
        let mut meta = postroom::reading::analyse_guarded(&extracted, &source, &sha, rules);
        postroom::reading::with_text_confidence(&mut meta, &scanned);
        failed |= meta.warnings.contains(&Warning::InternalError);
        if args.json {
            serde_json::to_writer(&mut out, &meta)?;
            out.write_all(b"\n")?;
        } else {
            writeln!(out, "{}", postroom::metadata::summary(&meta))?;
        }
    }
    out.flush()?;
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
