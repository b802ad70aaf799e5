//! Claims casework: existing cases imported from CSV (bad rows reported by row, column
//! and code; good rows landed; importing again changes nothing; documents waiting for a
//! case filed by the import), the keys cases learn and their lookup, and the document
//! listing (`postroom cases import`, `postroom documents list --json`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use postroom::app::{Acknowledgements, App, Front};
use postroom::cases::import::{ImportError, ImportReport, MAX_FILE_BYTES, MAX_ROWS, RowStatus};
use postroom::cases::matching::{KeyKind, MatchKey};
use postroom::config::Config;
use postroom::model::{IngestStatus, keys};
use postroom::store::{Item, Key, Query};
use serde_json::Value;

use crate::cli::postroom;
use crate::ingest::FixedClock;

const WHO: &str = "case.importer@example.org";

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/casework")
        .join(name)
}

fn open(dir: &tempfile::TempDir) -> App {
    let config = Config::local(dir.path().to_path_buf());
    let stores = postroom::app::local_stores(&config).expect("local stores");
    App::with_stores(
        config,
        stores,
        Arc::new(FixedClock),
        Front::named("test", Acknowledgements::Off),
    )
}

async fn import(app: &App, csv: &[u8]) -> ImportReport {
    app.cases
        .import(csv, WHO, &app.config.calendar)
        .await
        .expect("import")
}

/// Every item in the table, sorted by key.
async fn everything(app: &App) -> Vec<Item> {
    let mut items = crate::support::every_item(app.stores.table.as_ref()).await;
    items.sort_by_key(|i| Key::of(i).expect("keyed"));
    items
}

/// One line a row: `row N status reference column:code…`.
fn render(report: &ImportReport) -> String {
    report
        .rows
        .iter()
        .map(|r| {
            let mut line = format!(
                "row {} {} {}",
                r.row,
                r.status.as_str(),
                r.reference.as_deref().unwrap_or("-")
            );
            for p in &r.problems {
                line.push_str(&format!(
                    " {}:{}",
                    p.column.as_deref().unwrap_or("*"),
                    p.code
                ));
            }
            line + "\n"
        })
        .collect()
}

async fn case(app: &App, reference: &str) -> Item {
    app.stores
        .table
        .get(&Key::new(keys::case(reference), keys::META))
        .await
        .expect("get")
        .unwrap_or_else(|| panic!("no case {reference}"))
}

/// The demo's letter of claim, ingested: the reference of the claim it opened.
async fn letter_of_claim(app: &App) -> String {
    let letter = crate::support::sample("01-letter-of-claim.pdf");
    let obj = app
        .ingest()
        .stage(
            "inbox/claim.pdf",
            bytes::Bytes::from_static(letter),
            "local",
        )
        .await
        .expect("stage");
    let claim = app.ingest().ingest(&obj).await.expect("ingest");
    claim.case_ref.expect("a claim opened by its letter")
}

async fn ingest_text(app: &App, key: &str, text: &str) -> postroom::ingest::Outcome {
    let obj = app
        .ingest()
        .stage(key, bytes::Bytes::from(text.to_owned()), "local")
        .await
        .expect("stage");
    app.ingest().ingest(&obj).await.expect("ingest")
}

/// Every bad row is reported with its row, column and code (as the expected file lists
/// them); the good rows land as cases with their fields, keys and an audit event.
#[tokio::test]
async fn bad_rows_are_reported_and_good_rows_land() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = open(&dir);
    let csv = std::fs::read(data("cases.csv")).expect("csv");
    let report = import(&app, &csv).await;
    let expected = std::fs::read_to_string(data("cases.expected")).expect("expected");
    assert_eq!(render(&report), expected);
    assert_eq!(
        (report.created(), report.rejected(), report.all_landed()),
        (5, 11, false)
    );

    let claim = case(&app, "CNST/24/004512").await;
    assert_eq!(claim["kind"], "claim");
    assert_eq!(claim["status"], "open");
    assert_eq!(claim["scheme"], "CNST");
    assert_eq!(claim["opened"], "2024-01-10");
    assert_eq!(claim["date_of_birth"], "1980-05-01");
    assert_eq!(claim["nhs_numbers"], serde_json::json!(["9990000018"]));
    assert_eq!(claim["court_refs"], serde_json::json!(["KB-2024-001234"]));
    assert_eq!(
        claim["defendants"],
        serde_json::json!(["Barsetshire Hospitals NHS Foundation Trust", "Dr A Example"])
    );
    // Normalised on the way in: reference, day-first dates, court number, scheme.
    let gp = case(&app, "CNSGP/23/000781").await;
    assert_eq!(gp["opened"], "2023-04-03");
    assert_eq!(gp["date_of_birth"], "1975-11-14");
    assert_eq!(gp["court_refs"], serde_json::json!(["F12YJ456"]));
    assert_eq!(gp["scheme"], "CNSGP");
    assert_eq!(case(&app, "REV/1207").await["kind"], "advice");
    // An imported FOI request has its statutory clock, counted from the day it opened.
    let foi = app
        .foi
        .get("FOI_6405")
        .await
        .expect("foi")
        .expect("request");
    assert_eq!(foi.request.received.to_string(), "2025-02-20");
    assert!(foi.request.due.is_some(), "{foi:?}");
    // Audited, with the person.
    let view = app
        .cases
        .view("CNST/24/004512")
        .await
        .expect("view")
        .expect("case");
    let events: Vec<_> = view
        .entries
        .iter()
        .filter_map(|e| match e {
            postroom::views::CaseEntry::Event(e) => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].what.as_deref(), Some("case_imported"));
    assert_eq!(events[0].who.as_deref(), Some(WHO));
    // Nothing of a rejected row was written.
    for rejected in [
        "ELS/19/000342",
        "LTPS/22/001023",
        "CNST/24/000998",
        "FOI_6406",
    ] {
        assert!(
            app.cases.show(rejected).await.expect("show").is_none(),
            "{rejected}"
        );
    }
}

/// Importing the same file again writes nothing: every good row is `unchanged` and the
/// table is item for item the same.
#[tokio::test]
async fn importing_twice_changes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = open(&dir);
    let csv = std::fs::read(data("cases.csv")).expect("csv");
    let first = import(&app, &csv).await;
    let before = everything(&app).await;
    let second = import(&app, &csv).await;
    assert_eq!(everything(&app).await, before);
    for (a, b) in first.rows.iter().zip(&second.rows) {
        let expected = match a.status {
            RowStatus::Created => RowStatus::Unchanged,
            other => other,
        };
        assert_eq!((b.row, b.status), (a.row, expected), "{b:?}");
    }
    assert_eq!(second.unchanged(), 5);
}

/// A row that differs from a case a handler changed is a conflict naming the field, and
/// the handler's value stays; a case postroom opened from a document has the fields it
/// lacked filled in (`updated`, audited), and then is `unchanged`.
#[tokio::test]
async fn a_changed_case_is_a_conflict_and_a_bare_one_is_filled_in() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = open(&dir);
    let csv = std::fs::read(data("cases.csv")).expect("csv");
    import(&app, &csv).await;
    // A handler closes the claim and corrects nothing else.
    app.stores
        .table
        .update(
            postroom::store::Update::new(Key::new(keys::case("CNST/24/004512"), keys::META))
                .set("status", "closed"),
        )
        .await
        .expect("update");
    let again = import(&app, &csv).await;
    let row = &again.rows[0];
    assert_eq!(row.status, RowStatus::Conflict);
    let columns: Vec<_> = row
        .problems
        .iter()
        .map(|p| (p.column.as_deref(), p.code))
        .collect();
    assert_eq!(columns, [(Some("status"), "conflict")]);
    assert_eq!(case(&app, "CNST/24/004512").await["status"], "closed");

    // A claim opened by its letter of claim (no claimant, court number or DOB recorded).
    let reference = letter_of_claim(&app).await;
    let stored = case(&app, &reference).await;
    let scheme = stored["scheme"].as_str().unwrap_or("").to_owned();
    let row = format!(
        "reference,kind,claimant,opened,date_of_birth,nhs_number,scheme\n\
         {reference},claim,Olive Example,2024-02-01,02/03/1990,9990237581,{scheme}\n"
    );
    let filled = import(&app, row.as_bytes()).await;
    assert_eq!(filled.rows[0].status, RowStatus::Updated, "{filled:?}");
    let stored = case(&app, &reference).await;
    assert_eq!(stored["date_of_birth"], "1990-03-02");
    assert_ne!(
        stored["opened"], "2024-02-01",
        "postroom's own opening time stays"
    );
    assert_eq!(
        app.cases
            .cases_for_key(KeyKind::Nhs, "9990237581")
            .await
            .expect("lookup"),
        [reference]
    );
    let once_more = import(&app, row.as_bytes()).await;
    assert_eq!(once_more.rows[0].status, RowStatus::Unchanged);
}

/// A document that names a claim not open yet waits (`case_not_found`); importing the
/// claim files it under it, once, audited as `filed_on_case_import` by the importer.
#[tokio::test]
async fn a_document_waiting_for_its_case_is_filed_by_the_import() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = open(&dir);
    let outcome = ingest_text(
        &app,
        "inbox/report.txt",
        "MEDICO-LEGAL REPORT ON BREACH OF DUTY\n\nExpert report under Part 35.\n\
         Your ref: CNST/24/004512\nClaimant: Jane Smith\nClaim No KB-2024-001234\n\n\
         In my opinion the standard of care fell below that of a reasonable body of \
         practitioners. I understand my duty to the court.\n",
    )
    .await;
    assert_eq!(
        (outcome.status, outcome.reason.as_deref()),
        (IngestStatus::Unfiled, Some("case_not_found")),
        "{outcome:?}"
    );
    let doc_id = outcome.doc_id.clone().expect("doc id");
    let csv = std::fs::read(data("cases.csv")).expect("csv");
    let report = import(&app, &csv).await;
    assert_eq!(report.rows[0].documents_filed, 1);
    assert_eq!(report.documents_filed(), 1);
    let doc = app
        .cases
        .document(&doc_id)
        .await
        .expect("doc")
        .expect("doc");
    assert_eq!(doc["status"], "filed");
    assert_eq!(doc["case_ref"], "CNST/24/004512");
    let events = app
        .stores
        .table
        .query_all(&Query::new(keys::doc(&doc_id)).prefix(keys::EVENT_PREFIX))
        .await
        .expect("events");
    let filed: Vec<_> = events
        .iter()
        .filter(|e| e["what"] == "filed_on_case_import")
        .collect();
    assert_eq!(filed.len(), 1, "{events:?}");
    assert_eq!(filed[0]["who"], WHO);
    assert!(app.cases.inbox().await.expect("inbox").is_empty());
    assert!(
        app.stores
            .table
            .query_all(&Query::new(keys::waiting("CNST/24/004512")))
            .await
            .expect("waiting")
            .is_empty()
    );
    let view = app
        .cases
        .view("CNST/24/004512")
        .await
        .expect("view")
        .expect("case");
    assert_eq!(view.documents().count(), 1);
    // Once: the import again files nothing more.
    let again = import(&app, &csv).await;
    assert_eq!(again.documents_filed(), 0);
}

/// Keys recorded on import are found in one query each: NHS number (however spaced),
/// court number (however cased), name with date of birth in any of its forms, surname;
/// a court number and one of our references are never taken for each other; a document
/// filed by hand teaches its case the keys it carries.
#[tokio::test]
async fn keys_are_recorded_and_looked_up() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = open(&dir);
    let csv = std::fs::read(data("cases.csv")).expect("csv");
    import(&app, &csv).await;
    let smith = ["CNST/24/004512".to_owned()];
    let cases = &app.cases;
    assert_eq!(
        cases
            .cases_for_key(KeyKind::Nhs, "999 000 0018")
            .await
            .unwrap(),
        smith
    );
    assert_eq!(
        cases
            .cases_for_key(KeyKind::Court, "kb-2024-001234")
            .await
            .unwrap(),
        smith
    );
    assert_eq!(
        cases
            .cases_for_key(KeyKind::Court, "F12YJ456")
            .await
            .unwrap(),
        ["CNSGP/23/000781".to_owned()]
    );
    let dob = NaiveDate::from_ymd_opt(1980, 5, 1).expect("date");
    for name in ["SMITH, Jane", "Jane Smith", "J. Smith", "Mrs Jane SMITH"] {
        assert_eq!(
            cases.cases_for_name_and_dob(name, dob).await.unwrap(),
            smith,
            "{name}"
        );
    }
    let other_day = NaiveDate::from_ymd_opt(1980, 5, 2).expect("date");
    assert!(
        cases
            .cases_for_name_and_dob("Jane Smith", other_day)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(cases.cases_for_surname("Ms J SMITH").await.unwrap(), smith);
    // Accents folded: `Tomás Ó Briain` is `briain`, and `tomas` by name.
    assert_eq!(
        cases
            .cases_for_key(KeyKind::Name, "BRIAIN, Tomas")
            .await
            .unwrap(),
        ["CNSGP/23/000781".to_owned()]
    );
    // Nothing is found for what is not a key of that kind, or is another kind's.
    assert!(
        cases
            .cases_for_key(KeyKind::Court, "CNST/24/004512")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        cases
            .cases_for_key(KeyKind::Nhs, "9990000019")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        cases
            .cases_for_key(KeyKind::Nhs, "9990158398 ")
            .await
            .unwrap()
            .len()
            == 1
    );
    // The keys are listed on the case.
    let listed = cases
        .keys_of("CNST/24/004512")
        .await
        .unwrap()
        .expect("case");
    for kind in [
        KeyKind::Court,
        KeyKind::Nhs,
        KeyKind::Dob,
        KeyKind::Surname,
        KeyKind::Name,
        KeyKind::NameDob,
    ] {
        assert!(
            listed.iter().any(|k| k.kind == kind),
            "{kind:?} in {listed:?}"
        );
    }
    // Recording known keys again writes nothing.
    assert_eq!(
        cases.record_keys("CNST/24/004512", &listed).await.unwrap(),
        0
    );

    // A report with no reference of ours, naming a court number and its claimant, filed
    // by hand under the appeal: the case learns both.
    let outcome = ingest_text(
        &app,
        "inbox/court.txt",
        "EXPERT REPORT ON CAUSATION\n\nExpert report under Part 35.\n\
         Claim No QB-2023-000456\nClaimant: Olive Example\n\n\
         In my opinion the delay made no difference. I understand my duty to the court.\n",
    )
    .await;
    assert_eq!(outcome.status, IngestStatus::Unfiled, "{outcome:?}");
    let doc_id = outcome.doc_id.expect("doc id");
    cases
        .file(&doc_id, "SHA/23456", Some(WHO))
        .await
        .expect("filed");
    assert_eq!(
        cases
            .cases_for_key(KeyKind::Court, "QB-2023-000456")
            .await
            .unwrap(),
        ["SHA/23456".to_owned()]
    );
    assert_eq!(
        cases.cases_for_surname("Example, Olive").await.unwrap(),
        ["SHA/23456".to_owned()]
    );
    // An unknown case learns nothing.
    let key = MatchKey::new(KeyKind::Court, "KB-2024-000001").expect("key");
    assert!(cases.record_keys("CNST/99/000001", &[key]).await.is_err());
}

/// Hostile files give row errors or a file error, never a panic: a cell that is not
/// UTF-8, a huge cell, a file over the size limit, too many rows, random bytes.
#[tokio::test]
async fn hostile_files_give_row_errors_not_panics() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = open(&dir);
    let mut csv =
        b"reference,kind,claimant,opened\nCNST/24/000111,claim,Jo \xff Example,2024-01-01\n"
            .to_vec();
    csv.extend_from_slice(b"CNST/24/000112,claim,");
    csv.extend(std::iter::repeat_n(b'A', 5_000));
    csv.extend_from_slice(b",2024-01-01\n\"CNST/24/000113\",claim,\"Quoted, Name\",2024-01-01\n");
    let report = import(&app, &csv).await;
    assert_eq!(
        render(&report),
        "row 2 rejected CNST/24/000111 claimant:bad_utf8\n\
         row 3 rejected CNST/24/000112 claimant:too_long\n\
         row 4 created CNST/24/000113\n"
    );

    let huge = vec![b'x'; MAX_FILE_BYTES + 1];
    let err = app.cases.import(&huge, WHO, &app.config.calendar).await;
    assert!(matches!(err, Err(ImportError::TooLarge { .. })), "{err:?}");
    let mut many = b"reference,kind,claimant,opened\n".to_vec();
    for _ in 0..=MAX_ROWS {
        many.extend_from_slice(b"x,y,z,w\n");
    }
    let err = app.cases.import(&many, WHO, &app.config.calendar).await;
    assert!(matches!(err, Err(ImportError::TooManyRows)), "{err:?}");
    let before = everything(&app).await;
    const ALPHABET: &[u8] = b"\",;\n\r\xffCNST/24/0123456789 aAzZ_-";
    for seed in 0..200u64 {
        let mut x = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut bytes = b"reference,kind,claimant,opened\n".to_vec();
        for _ in 0..(seed * 7 % 300) {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            bytes.push(ALPHABET[(x >> 33) as usize % ALPHABET.len()]);
        }
        // Either the file is refused or every row is reported; nothing panics.
        if let Ok(report) = app.cases.import(&bytes, WHO, &app.config.calendar).await {
            assert!(report.rows.iter().all(|r| r.row >= 2));
        }
    }
    assert_eq!(everything(&app).await, before, "random bytes made no case");
}

fn run(cmd: &mut std::process::Command) -> (i32, String, String) {
    let out = cmd.output().expect("run postroom");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `postroom cases import`: problems as `row N, column C: …`, a summary, exit 1 while
/// rows are rejected; `--json` one object a row; exit 2 for a file that cannot be read.
#[test]
fn the_cli_imports_cases() {
    let dir = tempfile::tempdir().expect("temp dir");
    let home = dir.path().join("home");
    let csv = data("cases.csv");
    let cli = || {
        let mut cmd = postroom();
        cmd.arg("--home").arg(&home).env("USER", "importer");
        cmd
    };
    let (code, stdout, stderr) = run(cli().args(["cases", "import"]).arg(&csv));
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("row 10, column opened: is not a date"),
        "{stdout}"
    );
    assert!(
        stdout.contains("row 13, column *: has 3 columns"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "5 created, 0 updated, 0 unchanged, 0 conflicts, 11 rejected rows; 0 documents filed"
        ),
        "{stdout}"
    );
    let (code, stdout, stderr) = run(cli().args(["cases", "import", "--json"]).arg(&csv));
    assert_eq!(code, 1, "{stdout}{stderr}");
    let rows: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(rows.len(), 16);
    for row in &rows {
        let keys: Vec<&str> = row
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["problems", "reference", "row", "status"], "{row}");
    }
    assert_eq!(rows[0]["status"], "unchanged");
    assert_eq!(rows[0]["reference"], "CNST/24/004512");
    assert_eq!(rows[5]["row"], 7);
    assert_eq!(rows[5]["problems"][0]["code"], "bad_reference");
    assert_eq!(rows[5]["problems"][0]["column"], "reference");

    // Only good rows: exit 0.
    let good = dir.path().join("good.csv");
    std::fs::write(
        &good,
        "reference,kind,claimant,opened\nELS/19/000342,claim,Ann Other,2019-05-01\n",
    )
    .unwrap();
    let (code, stdout, stderr) = run(cli().args(["cases", "import"]).arg(&good));
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (_, listed, _) = run(cli().args(["cases", "show", "ELS/19/000342"]));
    assert!(listed.contains("case_imported by importer"), "{listed}");
    // Listed from the index, FOI requests with the rest; relisting finds nothing to do.
    let (code, listed, stderr) = run(cli().args(["cases", "list"]));
    assert_eq!(code, 0, "{stderr}");
    for reference in [
        "CNST/24/004512",
        "ELS/19/000342",
        "FOI_6405",
        "SHA/23456",
        "REV/1207",
    ] {
        assert!(listed.contains(reference), "{reference}: {listed}");
    }
    let (code, relisted, stderr) = run(cli().args(["cases", "relist"]));
    assert_eq!(
        (code, relisted.trim()),
        (0, "0 cases given their place in the cases list."),
        "{stderr}"
    );

    // A file that cannot be read at all: exit 2, nothing else.
    let bad_header = dir.path().join("bad.csv");
    std::fs::write(&bad_header, "ref,kind\nCNST/24/000001,claim\n").unwrap();
    for file in [bad_header, dir.path().join("missing.csv")] {
        let (code, stdout, stderr) = run(cli().args(["cases", "import"]).arg(&file));
        assert_eq!(code, 2, "{file:?}: {stdout}{stderr}");
        assert!(stderr.contains("postroom:"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// `postroom documents list --json`: one object a document with its current filing;
/// the bundled samples give every status (filed, unfiled, duplicate, quarantined), each
/// as ingest reported it.
#[test]
fn documents_list_shows_each_documents_filing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let home = dir.path().join("home");
    let inbox = dir.path().join("post");
    std::fs::create_dir_all(&inbox).unwrap();
    for (name, bytes) in postroom::demo::SAMPLES {
        std::fs::write(inbox.join(name), bytes).unwrap();
    }
    let (_, ingested, stderr) = run(postroom()
        .arg("--home")
        .arg(&home)
        .args(["ingest", "--json"])
        .arg(&inbox));
    let ingested: Vec<Value> = ingested
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(ingested.len(), postroom::demo::SAMPLES.len(), "{stderr}");
    let (code, listed, stderr) =
        run(postroom()
            .arg("--home")
            .arg(&home)
            .args(["documents", "list", "--json"]));
    assert_eq!(code, 0, "{stderr}");
    let listed: Vec<Value> = listed
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(listed.len(), ingested.len());
    for doc in &listed {
        let keys: Vec<&str> = doc
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            ["case_ref", "doc_id", "doc_type", "source", "status"],
            "{doc}"
        );
        let at_ingest = ingested
            .iter()
            .find(|i| i["doc_id"] == doc["doc_id"])
            .unwrap_or_else(|| panic!("{doc} was not ingested"));
        assert_eq!(doc["status"], at_ingest["status"], "{doc}");
        assert_eq!(doc["case_ref"], at_ingest["case_ref"], "{doc}");
    }
    let mut statuses: Vec<&str> = listed.iter().filter_map(|d| d["status"].as_str()).collect();
    statuses.sort_unstable();
    statuses.dedup();
    assert_eq!(statuses, ["duplicate", "filed", "quarantined", "unfiled"]);
    let (code, plain, _) = run(postroom()
        .arg("--home")
        .arg(&home)
        .args(["documents", "list"]));
    assert_eq!(code, 0);
    assert_eq!(plain.lines().count(), listed.len(), "{plain}");
}

/// A CSV of `claims` claims and `appeals` appeals, their statuses in turn open, closed
/// and settled, and one FOI request.
fn many_cases(claims: usize, appeals: usize) -> String {
    let statuses = ["open", "closed", "settled"];
    let mut csv = String::from("reference,kind,claimant,opened,status\n");
    for i in 0..claims {
        csv.push_str(&format!(
            "CNST/25/{:06},claim,Claimant {i},2025-01-02,{}\n",
            100 + i,
            statuses[i % 3]
        ));
    }
    for i in 0..appeals {
        csv.push_str(&format!(
            "SHA/{:05},appeal,Appellant {i},2025-01-03,{}\n",
            20000 + i,
            statuses[i % 3]
        ));
    }
    csv.push_str("FOI_7100,foi,Some Requester,2025-01-04,\n");
    csv
}

/// Every case a filter selects, read a page of `limit` at a time: the references in
/// order, and how many pages it took.
async fn listed(
    app: &App,
    kind: Option<&str>,
    status: Option<&str>,
    limit: u32,
) -> (Vec<String>, usize) {
    let filter = postroom::cases::listing::CaseFilter {
        kind: kind.map(str::to_owned),
        status: status.map(str::to_owned),
    };
    let mut refs = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = app
            .cases
            .page(&filter, after.as_deref(), limit)
            .await
            .expect("a page");
        pages += 1;
        assert!(page.items.len() <= limit as usize);
        refs.extend(page.items.into_iter().map(|c| c.case_ref));
        match page.next {
            Some(next) => after = Some(next),
            None => return (refs, pages),
        }
        assert!(pages < 1_000, "the pages end");
    }
}

/// The cases list reads its index (GSI1 `CASES`): by kind, then status, then
/// reference, a page at a time, each filter a prefix of it; FOI requests are not in it
/// (their register lists them) but are in the list of every case.
#[tokio::test]
async fn the_cases_list_pages_its_index_by_kind_and_status() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = open(&dir);
    let report = import(&app, many_cases(40, 7).as_bytes()).await;
    assert!(report.rows.iter().all(|r| r.status == RowStatus::Created));
    // And a claim opened by its letter of claim, as post.
    let by_post = letter_of_claim(&app).await;
    assert_eq!(case(&app, &by_post).await["kind"], "claim");

    let (all, pages) = listed(&app, None, None, 10).await;
    let mut expected: Vec<(String, String, String)> = Vec::new();
    for i in 0..40 {
        let status = ["open", "closed", "settled"][i % 3];
        expected.push((
            "claim".into(),
            status.into(),
            format!("CNST/25/{:06}", 100 + i),
        ));
    }
    for i in 0..7 {
        let status = ["open", "closed", "settled"][i % 3];
        expected.push((
            "appeal".into(),
            status.into(),
            format!("SHA/{:05}", 20000 + i),
        ));
    }
    expected.push(("claim".into(), "open".into(), by_post.clone()));
    expected.sort();
    let refs = |e: &[(String, String, String)]| e.iter().map(|c| c.2.clone()).collect::<Vec<_>>();
    assert_eq!(all, refs(&expected), "by kind, status, reference");
    assert_eq!(pages, expected.len().div_ceil(10));

    let (closed_claims, _) = listed(&app, Some("claim"), Some("closed"), 5).await;
    let want: Vec<_> = expected
        .iter()
        .filter(|c| c.0 == "claim" && c.1 == "closed")
        .cloned()
        .collect();
    assert_eq!(closed_claims, refs(&want));

    // Open cases of every kind: one prefix a kind, pages running across them.
    let (open, _) = listed(&app, None, Some("open"), 4).await;
    let want: Vec<_> = expected.iter().filter(|c| c.1 == "open").cloned().collect();
    assert_eq!(open, refs(&want));
    assert!(
        open.iter().any(|r| r.starts_with("SHA/")) && open.iter().any(|r| r.starts_with("CNST/"))
    );

    let (appeals, _) = listed(&app, Some("appeal"), None, 100).await;
    assert_eq!(appeals.len(), 7);
    assert!(listed(&app, Some("advice"), None, 100).await.0.is_empty());

    // FOI requests are listed by their register, and with every case.
    assert!(!all.iter().any(|r| r.starts_with("FOI_")));
    let every = app.cases.summaries().await.expect("every case");
    assert!(every.iter().any(|c| c.case_ref == "FOI_7100"));
    assert_eq!(every.len(), expected.len() + 1);

    // What the list does not have, and positions it did not give, are refused.
    for (kind, status, after) in [
        (Some("foi"), None, None),
        (Some("lawsuit"), None, None),
        (None, Some("under review!"), None),
        (None, None, Some("7.")),
        (None, None, Some("nonsense")),
        (None, None, Some("0.zz")),
        (Some("claim"), None, Some("1.")),
    ] {
        let filter = postroom::cases::listing::CaseFilter {
            kind: kind.map(str::to_owned),
            status: status.map(str::to_owned),
        };
        let refused = app.cases.page(&filter, after, 10).await;
        assert!(
            matches!(refused, Err(postroom::store::StoreError::Invalid { .. })),
            "{kind:?} {status:?} {after:?}: {refused:?}"
        );
    }
}

/// A table whose first update of one record is preceded by another writer's: an import
/// filling in the record's status (and moving it in the list) just after `relist` read
/// it.
#[derive(Debug)]
struct ImportInBetween {
    inner: Arc<dyn postroom::store::Table>,
    key: Key,
    done: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl postroom::store::Table for ImportInBetween {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    async fn health(&self) -> Result<(), postroom::store::StoreError> {
        self.inner.health().await
    }
    async fn get(&self, key: &Key) -> Result<Option<Item>, postroom::store::StoreError> {
        self.inner.get(key).await
    }
    async fn put(
        &self,
        item: Item,
        condition: postroom::store::Condition,
    ) -> Result<(), postroom::store::StoreError> {
        self.inner.put(item, condition).await
    }
    async fn update(
        &self,
        update: postroom::store::Update,
    ) -> Result<Item, postroom::store::StoreError> {
        if update.key == self.key && !self.done.swap(true, std::sync::atomic::Ordering::SeqCst) {
            let import = postroom::store::Update::new(self.key.clone())
                .set("status", "closed")
                .set(postroom::store::GSI1_PK, "CASES")
                .set(postroom::store::GSI1_SK, "claim#closed#CNST/20/000002")
                .set("version", 1);
            self.inner.update(import).await?;
        }
        self.inner.update(update).await
    }
    async fn delete(
        &self,
        key: &Key,
        condition: postroom::store::Condition,
    ) -> Result<(), postroom::store::StoreError> {
        self.inner.delete(key, condition).await
    }
    async fn query(
        &self,
        query: &Query,
    ) -> Result<postroom::store::Page, postroom::store::StoreError> {
        self.inner.query(query).await
    }
    async fn query_gsi1(
        &self,
        query: &Query,
    ) -> Result<postroom::store::Page, postroom::store::StoreError> {
        self.inner.query_gsi1(query).await
    }
    async fn scan(
        &self,
        segment: u32,
        total_segments: u32,
        cursor: Option<&postroom::store::Cursor>,
    ) -> Result<postroom::store::Page, postroom::store::StoreError> {
        self.inner.scan(segment, total_segments, cursor).await
    }
    async fn transact(
        &self,
        ops: Vec<postroom::store::TxOp>,
    ) -> Result<(), postroom::store::StoreError> {
        self.inner.transact(ops).await
    }
}

/// `relist` beside an import: a record without a version, whose status the import fills
/// in between `relist`'s read and its write, keeps the import's place in the list (the
/// write's condition, that the record exists, cannot see the change; the record read
/// again after the write does).
#[tokio::test]
async fn relisting_beside_an_import_keeps_the_status_the_import_wrote() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = open(&dir);
    let key = Key::new(keys::case("CNST/20/000002"), keys::META);
    let mut bare = Item::new();
    bare.insert("PK".into(), key.pk.clone().into());
    bare.insert("SK".into(), key.sk.clone().into());
    bare.insert("case_ref".into(), "CNST/20/000002".into());
    bare.insert("kind".into(), "claim".into());
    app.stores
        .table
        .put(bare, postroom::store::Condition::None)
        .await
        .expect("put");
    let racing = ImportInBetween {
        inner: Arc::clone(&app.stores.table),
        key: key.clone(),
        done: std::sync::atomic::AtomicBool::new(false),
    };
    assert_eq!(
        postroom::cases::listing::relist(&racing)
            .await
            .expect("relist"),
        1
    );
    assert!(
        racing.done.load(std::sync::atomic::Ordering::SeqCst),
        "the import ran"
    );
    let record = app
        .stores
        .table
        .get(&key)
        .await
        .expect("get")
        .expect("the case");
    assert_eq!(record["status"], "closed");
    assert_eq!(
        record[postroom::store::GSI1_SK],
        "claim#closed#CNST/20/000002"
    );
    assert_eq!(
        listed(&app, Some("claim"), Some("closed"), 10).await.0,
        ["CNST/20/000002"]
    );
    assert!(
        listed(&app, Some("claim"), Some("open"), 10)
            .await
            .0
            .is_empty()
    );
}

/// Case records written before cases were listed from the index are listed once
/// `relist` has run (the embedded default runs it when it opens); a status filled in by
/// an import moves the case in the list.
#[tokio::test]
async fn cases_recorded_before_the_list_are_relisted_and_move_with_their_status() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = open(&dir);
    let table = &app.stores.table;
    let old = |reference: &str, status: Option<&str>, version: Option<u64>| {
        let mut item = Item::new();
        item.insert("PK".into(), keys::case(reference).into());
        item.insert("SK".into(), keys::META.into());
        item.insert("case_ref".into(), reference.into());
        item.insert("kind".into(), "claim".into());
        if let Some(status) = status {
            item.insert("status".into(), status.into());
        }
        if let Some(version) = version {
            item.insert("version".into(), version.into());
        }
        item
    };
    for item in [
        old("CNST/20/000001", Some("open"), Some(3)),
        old("CNST/20/000002", None, None),
    ] {
        table
            .put(item, postroom::store::Condition::None)
            .await
            .expect("put");
    }
    assert!(
        listed(&app, None, None, 10).await.0.is_empty(),
        "not listed yet"
    );
    assert_eq!(
        postroom::cases::listing::relist_once(table.as_ref())
            .await
            .expect("relist"),
        2
    );
    assert_eq!(
        listed(&app, None, None, 10).await.0,
        ["CNST/20/000001", "CNST/20/000002"]
    );
    // Once done, opening again reads nothing more; relisting again changes nothing.
    assert_eq!(
        postroom::cases::listing::relist_once(table.as_ref())
            .await
            .expect("relist"),
        0
    );
    assert_eq!(app.cases.relist().await.expect("relist"), 0);
    assert_eq!(case(&app, "CNST/20/000001").await["version"], 3);

    // The import fills in the bare case's status: it moves to the closed claims.
    let report = import(
        &app,
        b"reference,kind,claimant,opened,status\nCNST/20/000002,claim,Jo Example,2020-01-01,closed\n",
    )
    .await;
    assert_eq!(report.rows[0].status, RowStatus::Updated, "{report:?}");
    assert_eq!(
        listed(&app, Some("claim"), Some("closed"), 10).await.0,
        ["CNST/20/000002"]
    );
    assert_eq!(
        listed(&app, Some("claim"), Some("open"), 10).await.0,
        ["CNST/20/000001"]
    );
}
