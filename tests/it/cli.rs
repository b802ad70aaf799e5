//! The `postroom` binary as a user runs it: help, doctor, configuration errors.

use std::process::Command;

/// The binary with no postroom settings from the environment.
pub(crate) fn postroom() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_postroom"));
    for var in [
        "POSTROOM_BACKEND",
        "POSTROOM_HOME",
        "POSTROOM_TABLE",
        "POSTROOM_BUCKET",
        "POSTROOM_CONCURRENCY",
        "POSTROOM_LETTERS_QUEUE",
        "POSTROOM_HOLIDAYS",
        "POSTROOM_FOI_NATIONS",
        "POSTROOM_FOI_REMIND_WITHIN",
        "POSTROOM_SWEEP_RULE_ARN",
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
fn a_bad_setting_stops_any_command_naming_every_bad_setting() {
    let dir = tempfile::tempdir().unwrap();
    for command in [&["extract", "--json", "/dev/null"][..], &["doctor"][..]] {
        let (code, stdout, stderr) = run(postroom()
            .env("POSTROOM_CONCURRENCY", "abc")
            .env("POSTROOM_HOLIDAYS", dir.path().join("no-such-table.csv"))
            .arg("--home")
            .arg(dir.path().join("home"))
            .args(command));
        // The configuration is read once, for every command: exit 2, every problem named.
        assert_eq!(code, 2, "{command:?}: {stdout}{stderr}");
        assert!(
            stderr.contains("POSTROOM_CONCURRENCY") && stderr.contains("POSTROOM_HOLIDAYS"),
            "{command:?}: {stderr}"
        );
    }
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

/// On a reachable stack, doctor says whether `cases relist` has run: until it has, the
/// cases list and the claims statistics miss older cases (a new stack needs it once too).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_on_a_stack_says_when_the_cases_list_needs_relisting() {
    use crate::contract::harness::{aws_settings, unique};
    let test = "cli::doctor_on_a_stack_says_when_the_cases_list_needs_relisting";
    let Some(settings) = aws_settings(test).await else {
        return;
    };
    let (table, bucket) = (unique("doctor"), unique("doctor"));
    postroom::store::S3Blobs::new(&settings, &bucket)
        .create_bucket()
        .await
        .expect("bucket");
    postroom::store::DynamoTable::new(&settings, &table)
        .create_table()
        .await
        .expect("table");
    let on_the_stack = |args: &[&str]| {
        let mut cmd = postroom();
        cmd.args(["--backend", "aws"])
            .args(args)
            .env("POSTROOM_TABLE", &table)
            .env("POSTROOM_BUCKET", &bucket);
        run(&mut cmd)
    };
    let (code, stdout, stderr) = on_the_stack(&["doctor"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("ok   table"), "{stdout}");
    assert!(
        stdout.contains("FAIL cases list") && stdout.contains("cases relist"),
        "{stdout}"
    );
    let (code, stdout, stderr) = on_the_stack(&["cases", "relist"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (code, stdout, stderr) = on_the_stack(&["doctor"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(!stdout.contains("FAIL"), "{stdout}");
    assert!(stdout.contains("ok   cases list"), "{stdout}");
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

#[test]
fn ingest_json_twice_gives_unchanged_the_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let inbox = dir.path().join("post");
    std::fs::create_dir_all(&inbox).unwrap();
    for (name, bytes) in postroom::demo::SAMPLES {
        std::fs::write(inbox.join(name), bytes).unwrap();
    }
    let run_once = || {
        run(postroom()
            .arg("--home")
            .arg(&home)
            .args(["ingest", "--json"])
            .arg(&inbox))
    };
    let (code, first, stderr) = run_once();
    assert_eq!(
        code, 1,
        "a quarantined file makes the exit status 1\n{first}{stderr}"
    );
    let lines: Vec<serde_json::Value> = first
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), postroom::demo::SAMPLES.len());
    for line in &lines {
        let keys: Vec<&str> = line
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["case_ref", "doc_id", "source", "status"], "{line}");
    }
    assert!(lines.iter().any(|l| l["status"] == "filed"));
    assert!(lines.iter().any(|l| l["status"] == "quarantined"));
    let (code, second, _) = run_once();
    assert_eq!(code, 0, "{second}");
    for line in second.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["status"], "unchanged", "{line}");
    }
}

#[test]
fn demo_runs_on_a_fresh_folder() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(postroom()
        .arg("--home")
        .arg(dir.path().join("h"))
        .arg("demo"));
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("filed under CNST/"), "{stdout}");
    assert!(stdout.contains("quarantined"), "{stdout}");
    assert!(stdout.contains("The data lives in"), "{stdout}");
    // Acknowledgements for the letter of claim and the FOI request, written as they were
    // filed and stored as PDFs; a second run adds no letter.
    let path = |out: &str, template: &str| {
        out.lines()
            .find_map(|l| l.split(&format!("{template}: ")).nth(1))
            .unwrap_or_else(|| panic!("no {template} in:\n{out}"))
            .trim()
            .to_owned()
    };
    let claim = path(&stdout, "claim-acknowledgement");
    assert!(
        std::fs::read(&claim)
            .expect("the claim acknowledgement")
            .starts_with(b"%PDF-")
    );
    let foi = path(&stdout, "foi-acknowledgement");
    assert!(
        std::fs::read(&foi)
            .expect("the FOI acknowledgement")
            .starts_with(b"%PDF-")
    );
    let letters = |home: &std::path::Path| {
        walkdir::WalkDir::new(home.join("blobs/letters"))
            .into_iter()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "pdf"))
            .count()
    };
    let before = letters(&dir.path().join("h"));
    let (code, again, _) = run(postroom()
        .arg("--home")
        .arg(dir.path().join("h"))
        .arg("demo"));
    assert_eq!(code, 0);
    assert_eq!(path(&again, "claim-acknowledgement"), claim, "{again}");
    assert_eq!(
        letters(&dir.path().join("h")),
        before,
        "no new letter: {again}"
    );
}

/// `postroom foi letter --kind acknowledgement` asks for the very letter ingest asked for
/// when the request arrived (`foi-acknowledgement:<ref>`): a request that ingest
/// acknowledged gets no second acknowledgement, and the file written is the one sent.
#[test]
fn an_foi_request_acknowledged_by_ingest_is_not_acknowledged_again() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let email = dir.path().join("04-foi-request.eml");
    let (_, bytes) = postroom::demo::SAMPLES
        .iter()
        .find(|(name, _)| *name == "04-foi-request.eml")
        .expect("the FOI sample");
    std::fs::write(&email, bytes).unwrap();
    let (code, out, err) = run(postroom()
        .arg("--home")
        .arg(&home)
        .args(["ingest", "--json"])
        .arg(&email));
    assert_eq!(code, 0, "{out}{err}");
    let line: serde_json::Value = serde_json::from_str(out.trim()).expect("a JSON line");
    assert_eq!(line["status"], "filed", "{out}");
    let reference = line["case_ref"].as_str().expect("a reference").to_owned();
    let letters = || -> Vec<std::path::PathBuf> {
        walkdir::WalkDir::new(home.join("blobs/letters"))
            .into_iter()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "pdf"))
            .map(|e| e.path().to_path_buf())
            .collect()
    };
    let acknowledged = letters();
    assert_eq!(acknowledged.len(), 1, "ingest acknowledges the request");

    let out_pdf = dir.path().join("acknowledgement.pdf");
    for _ in 0..2 {
        let (code, out, err) = run(postroom()
            .arg("--home")
            .arg(&home)
            .args([
                "foi",
                "letter",
                &reference,
                "--kind",
                "acknowledgement",
                "--out",
            ])
            .arg(&out_pdf));
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains("(Unchanged)"), "the letter ingest made: {out}");
    }
    assert_eq!(letters(), acknowledged, "no second acknowledgement");
    assert_eq!(
        std::fs::read(&out_pdf).unwrap(),
        std::fs::read(&acknowledged[0]).unwrap(),
        "the file written is the letter sent"
    );
    let (code, shown, err) = run(postroom()
        .arg("--home")
        .arg(&home)
        .args(["foi", "show", &reference]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        shown
            .lines()
            .filter(|l| l.trim_start().starts_with("letter "))
            .count(),
        1,
        "{shown}"
    );

    // A request that does not exist is refused (exit status 1, from the failure table).
    let (code, _, err) = run(postroom()
        .arg("--home")
        .arg(&home)
        .args([
            "foi",
            "letter",
            "FOI_9999",
            "--kind",
            "acknowledgement",
            "--out",
        ])
        .arg(&out_pdf));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.starts_with("postroom: no FOI request FOI_9999"),
        "{err}"
    );
}
