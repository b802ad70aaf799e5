//! The command line's output: `out!` (a `println!` that ends quietly on a closed pipe),
//! and small rendering helpers shared by the commands.

/// `println!` for the CLI's output: a closed pipe (`postroom cases list | head`) ends
/// the program quietly, as the reader wanted, instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            $crate::output::write_failed(e);
        }
    }};
}

/// Text for the output as it is (no line break added), as `out!` writes it.
pub fn out_str(text: &str) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        write_failed(e);
    }
}

/// Ends the program after a failed write to standard output: quietly when the reader
/// closed the pipe, with a message otherwise.
pub fn write_failed(e: std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("postroom: cannot write the output: {e}");
    std::process::exit(1);
}

/// A value or `-` when there is none.
pub fn or_dash(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("-")
}

/// A value or nothing.
pub fn or_empty(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or_default()
}

/// `key value, key value`, or `none`.
pub fn join_counts<K: std::fmt::Display, V: std::fmt::Display>(
    counts: &std::collections::BTreeMap<K, V>,
) -> String {
    if counts.is_empty() {
        return "none".into();
    }
    counts
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}
