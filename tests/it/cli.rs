//! The `postroom` binary as a user runs it: help, doctor, configuration errors.

use std::process::Command;

fn postroom() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_postroom"));
    for var in [
        "POSTROOM_BACKEND",
        "POSTROOM_HOME",
        "POSTROOM_TABLE",
        "POSTROOM_BUCKET",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("run postroom");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_lists_every_command() {
    let (code, stdout, _) = run(postroom().arg("--help"));
    assert_eq!(code, 0);
    for command in [
        "extract",
        "ingest",
        "letter",
        "templates",
        "foi",
        "demo",
        "doctor",
    ] {
        assert!(
            stdout.contains(command),
            "--help lists {command}:\n{stdout}"
        );
    }
}

#[test]
fn doctor_on_a_fresh_folder_creates_and_checks_the_local_store() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("fresh");
    let (code, stdout, stderr) = run(postroom().arg("doctor").arg("--home").arg(&home));
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("local"), "{stdout}");
    assert!(home.join("postroom.sqlite3").is_file());
    assert!(home.join("blobs").is_dir());
}

#[test]
fn doctor_reports_an_unwritable_folder_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, b"x").unwrap();
    let (code, stdout, stderr) = run(postroom().arg("doctor").arg("--home").arg(&file));
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("FAIL"), "{stdout}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn doctor_against_a_stopped_endpoint_says_so() {
    // Bind and drop a listener: nothing listens on that port afterwards.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (code, stdout, stderr) = run(postroom()
        .args(["--backend", "aws", "doctor"])
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
        .env("AWS_REGION", "eu-west-2")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("POSTROOM_TABLE", "postroom")
        .env("POSTROOM_BUCKET", "postroom-docs"));
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("cannot reach"), "{stdout}");
    assert!(
        stdout.contains("FAIL bucket") && stdout.contains("FAIL table"),
        "{stdout}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn missing_aws_settings_are_reported_together() {
    let (code, _, stderr) = run(postroom().args(["--backend", "aws", "doctor"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("POSTROOM_TABLE") && stderr.contains("POSTROOM_BUCKET"),
        "{stderr}"
    );
}
