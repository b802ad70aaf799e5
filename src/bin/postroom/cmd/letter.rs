//! `postroom templates` and `postroom letter`: list templates, render one letter, or a
//! batch from CSV on every core with a progress bar. They work on a templates folder (or
//! the built-in templates) and need no store.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context as _;
use postroom::letters::{Format, LetterError, Registry};
use serde_json::Value;

use crate::args::{BatchArgs, LetterCmd, RenderArgs, TemplatesCmd};

/// The built-in templates, or those of a folder (loaded once for the process's life).
fn registry(dir: &Option<PathBuf>) -> anyhow::Result<&'static Registry> {
    Ok(match dir {
        Some(dir) => Box::leak(Box::new(Registry::from_dir(dir)?)),
        None => Registry::embedded(),
    })
}

pub fn templates(cmd: &TemplatesCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        TemplatesCmd::List { templates } => {
            let reg = registry(templates)?;
            for t in reg.templates() {
                out!("{:<30} {:<7} {}", t.spec.name, t.spec.version, t.spec.title);
            }
        }
        TemplatesCmd::Show {
            name,
            templates,
            json,
        } => {
            let reg = registry(templates)?;
            let t = reg.get(name)?;
            if *json {
                out!("{}", serde_json::to_string_pretty(&t.spec)?);
                return Ok(ExitCode::SUCCESS);
            }
            out!("{} {} ({})", t.spec.name, t.spec.version, t.spec.language);
            out!("{}\n", t.spec.title);
            out!("{}\n", t.spec.description);
            out!(
                "{:<22} {:<8} {:<9} description",
                "field",
                "type",
                "required"
            );
            for f in &t.spec.fields {
                print_field(f, "");
            }
            for r in &t.spec.requirements {
                out!(
                    "\nwhen {} is {}: {} required",
                    r.when,
                    r.values.join(" or "),
                    r.require.join(", ")
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_field(f: &postroom::letters::FieldSpec, indent: &str) {
    let mut description = f.description.clone();
    if !f.choices.is_empty() {
        description.push_str(&format!(" [{}]", f.choices.join(" | ")));
    }
    out!(
        "{:<22} {:<8} {:<9} {}",
        format!("{indent}{}", f.name),
        f.kind.as_str(),
        if f.required { "yes" } else { "no" },
        description
    );
    for sub in &f.fields {
        print_field(sub, &format!("{indent}  ."));
    }
}

pub fn letter(cmd: &LetterCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        LetterCmd::Render(args) => render(args),
        LetterCmd::Batch(args) => batch(args),
    }
}

fn render(args: &RenderArgs) -> anyhow::Result<ExitCode> {
    let reg = registry(&args.templates)?;
    let text = if args.data == Path::new("-") {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading the data from standard input")?;
        s
    } else {
        std::fs::read_to_string(&args.data)
            .with_context(|| format!("reading {}", args.data.display()))?
    };
    let data: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not JSON", args.data.display()))?;
    match reg.render(&args.template, &data, args.format) {
        Ok(letter) => {
            if args.out == Path::new("-") {
                std::io::stdout().write_all(&letter.bytes)?;
            } else {
                write_atomic(&args.out, &letter.bytes)?;
                eprintln!(
                    "wrote {} ({} {}, {} bytes{})",
                    args.out.display(),
                    letter.template,
                    letter.version,
                    letter.bytes.len(),
                    if letter.pages > 0 {
                        format!(", {} pages", letter.pages)
                    } else {
                        String::new()
                    }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(LetterError::Invalid(errors)) => {
            eprintln!(
                "postroom: the letter was not rendered; {} field(s) need attention:",
                errors.len()
            );
            for e in errors {
                eprintln!("  {}: {}", e.field, e.message);
            }
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.persist(path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn file_name(row: usize, data: &Value, ext: &str) -> String {
    let tag: String = data
        .get("our_ref")
        .and_then(Value::as_str)
        .unwrap_or("")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    if tag.is_empty() {
        format!("row-{row:05}.{ext}")
    } else {
        format!("row-{row:05}-{tag}.{ext}")
    }
}

fn batch(args: &BatchArgs) -> anyhow::Result<ExitCode> {
    let reg = registry(&args.templates)?;
    reg.get(&args.template)?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_path(&args.csv)
        .with_context(|| format!("opening {}", args.csv.display()))?;
    let headers = reader
        .headers()
        .with_context(|| format!("reading the header of {}", args.csv.display()))?
        .clone();
    // Rows are read up front (a CSV of 10,000 letters is a few MB); a malformed row is
    // reported with its number and the rest still run.
    let mut rows: Vec<(usize, Result<Value, String>)> = Vec::new();
    for (i, record) in reader.records().enumerate() {
        rows.push((
            i + 1,
            record
                .map(|r| postroom::batches::row_data(&headers, &r))
                .map_err(|e| format!("unreadable row: {e}")),
        ));
    }
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("creating {}", args.out_dir.display()))?;
    let ext = if args.format == Format::Pdf {
        "pdf"
    } else {
        "txt"
    };
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, 64);
    let progress = indicatif::ProgressBar::new(rows.len() as u64);
    progress.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} letters  {per_sec}  eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let next = AtomicUsize::new(0);
    let failures: Mutex<Vec<(usize, Vec<String>)>> = Mutex::new(Vec::new());
    let bytes = AtomicUsize::new(0);
    let started = std::time::Instant::now();
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((row, data)) = rows.get(i) else {
                        break;
                    };
                    let outcome = data.clone().and_then(|data| {
                        let letter = reg.render(&args.template, &data, args.format).map_err(
                            |e| match e {
                                LetterError::Invalid(errors) => errors
                                    .iter()
                                    .map(|e| e.to_string())
                                    .collect::<Vec<_>>()
                                    .join("\n"),
                                other => other.to_string(),
                            },
                        )?;
                        let path = args.out_dir.join(file_name(*row, &data, ext));
                        std::fs::write(&path, &letter.bytes)
                            .map_err(|e| format!("writing {}: {e}", path.display()))?;
                        bytes.fetch_add(letter.bytes.len(), Ordering::Relaxed);
                        Ok(())
                    });
                    if let Err(message) = outcome {
                        let mut f = failures.lock().unwrap_or_else(|p| p.into_inner());
                        f.push((*row, message.lines().map(str::to_string).collect()));
                    }
                    progress.inc(1);
                }
            });
        }
    });
    progress.finish_and_clear();
    let mut failures = failures.into_inner().unwrap_or_else(|p| p.into_inner());
    failures.sort();
    for (row, messages) in &failures {
        for m in messages {
            eprintln!("row {row} (line {}): {m}", row + 1);
        }
    }
    let done = rows.len() - failures.len();
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{done} of {} letters written to {} ({} KB, {:.2} s, {:.0} letters/s on {jobs} threads); {} row(s) refused",
        rows.len(),
        args.out_dir.display(),
        bytes.load(Ordering::Relaxed) / 1024,
        secs,
        done as f64 / secs.max(1e-9),
        failures.len()
    );
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
