//! Each Lambda binary at start-up: a missing or invalid setting stops it before its first
//! poll of the Runtime API, with one message naming every bad variable (issue 16: no
//! silent default). The binaries are the ones `scripts/test` builds into the target
//! folder; a plain `cargo test` without them names what it skipped and fails under CI.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn binary(name: &str) -> Option<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let path = target.join("debug").join(name);
    if path.is_file() {
        Some(path)
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "{} is missing: scripts/test builds it",
            path.display()
        );
        eprintln!(
            "skipped: {} is not built (scripts/test builds it)",
            path.display()
        );
        None
    }
}

#[test]
fn a_bad_setting_stops_every_function_at_start_up_naming_the_variables() {
    for name in [
        "postroom-ingest",
        "postroom-letters",
        "postroom-foi",
        "postroom-ocr-function",
    ] {
        let Some(path) = binary(name) else { continue };
        let started = Instant::now();
        let out = Command::new(&path)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            // Nowhere to poll: a function that went on past its settings would fail
            // differently (a connection error), not with the settings' message.
            .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_REGION", "eu-west-2")
            .env("POSTROOM_CONCURRENCY", "abc")
            .env("POSTROOM_FOI_NATIONS", "atlantis")
            .env("POSTROOM_OCR_QUEUE", "postroom-ocr")
            .output()
            .expect("run the function");
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{name} took {:?}",
            started.elapsed()
        );
        assert!(!out.status.success(), "{name} started with a bad setting");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        for variable in [
            "POSTROOM_CONCURRENCY",
            "POSTROOM_FOI_NATIONS",
            "POSTROOM_TABLE",
            "POSTROOM_BUCKET",
            "POSTROOM_OCR_QUEUE",
        ] {
            assert!(
                text.contains(variable),
                "{name}: {variable} is not named in: {text}"
            );
        }
        assert!(text.contains("\"abc\""), "{name}: {text}");
    }
}
