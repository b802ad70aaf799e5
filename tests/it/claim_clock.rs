//! A claim's deadlines kept on the claim (`postroom::claims::ClaimClocks`): worked out
//! from the letter of claim as it is filed, met by the acknowledgement sent, moved by
//! what a handler records (particulars served, an acknowledgment of service filed) and
//! by an extension with its reason (audited), listed across claims by due date with
//! overdue derived from today, swept daily once, and `postroom claims due --json` in
//! the contract's shape.

use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use postroom::app::{Acknowledgements, App, Front};
use postroom::audit::Object;
use postroom::claims::{ClockError, DeadlineKind, Extension, ManualEvent};
use postroom::clock::FixedClock;
use postroom::config::Config;
use postroom::failure::{Code, ErrorCode as _};
use postroom::letter_service::LetterRequest;

const CLAIM: &str = "CNST/25/008879";

fn d(s: &str) -> NaiveDate {
    s.parse().expect("a date")
}

/// The demo post on a fresh embedded store, received on Monday 7 December 2026.
async fn app(dir: &std::path::Path) -> Arc<App> {
    let config = Config::local(dir);
    let stores = postroom::app::local_stores(&config).expect("local stores");
    let clock = Arc::new(FixedClock(
        Utc.with_ymd_and_hms(2026, 12, 7, 9, 30, 0)
            .single()
            .expect("a time"),
    ));
    let app = Arc::new(App::with_stores(
        config,
        stores,
        clock,
        Front::named("claims-test", Acknowledgements::Off),
    ));
    postroom::demo::run(&app).await.expect("the demo post");
    app
}

fn due_of(list: &[postroom::claims::Deadline], kind: DeadlineKind) -> Option<NaiveDate> {
    list.iter().find(|x| x.deadline == kind).map(|x| x.due)
}

#[tokio::test]
async fn a_claims_deadlines_follow_its_documents_letters_and_what_handlers_record() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = app(dir.path()).await;
    let today = app.claims.today();
    assert_eq!(today, d("2026-12-07"));

    // Filed by ingest: the letter of claim, received today, starts its deadlines.
    let list = app.claims.of_case(CLAIM).await.expect("the clock");
    assert_eq!(
        due_of(&list, DeadlineKind::AcknowledgeClaim),
        Some(d("2026-12-21")),
        "{list:?}"
    );
    assert!(due_of(&list, DeadlineKind::LetterOfResponse).is_some());
    let due = app.claims.due(today, 14).await.expect("due");
    let ack = due
        .iter()
        .find(|x| x.case_ref == CLAIM && x.deadline == DeadlineKind::AcknowledgeClaim)
        .expect("listed across claims");
    assert_eq!((ack.due, ack.status), (d("2026-12-21"), "due"));
    assert!(ack.basis.contains("Pre-Action Protocol"), "{}", ack.basis);
    assert!(
        due.windows(2).all(|w| w[0].due <= w[1].due),
        "soonest first"
    );
    // Not within 5 days: not listed then (overdue ones always are).
    let soon = app.claims.due(today, 5).await.expect("due");
    assert!(
        soon.iter()
            .all(|x| x.due < today || x.due <= d("2026-12-12"))
    );
    assert!(
        !soon
            .iter()
            .any(|x| x.deadline == DeadlineKind::AcknowledgeClaim)
    );

    // The acknowledgement sent meets it, and it leaves the list.
    let example = postroom::letters::Registry::embedded()
        .get("claim-acknowledgement")
        .expect("the template")
        .example
        .clone();
    app.letters()
        .send(&LetterRequest {
            request_id: "claims-test-ack".into(),
            template: "claim-acknowledgement".into(),
            case_ref: CLAIM.into(),
            data: example,
        })
        .await
        .expect("the acknowledgement");
    let list = app.claims.of_case(CLAIM).await.expect("the clock");
    let acknowledged = list
        .iter()
        .find(|x| x.deadline == DeadlineKind::AcknowledgeClaim)
        .expect("still shown");
    assert_eq!(acknowledged.met, Some(today));
    let due = app.claims.due(today, 14).await.expect("due");
    assert!(
        !due.iter()
            .any(|x| x.case_ref == CLAIM && x.deadline == DeadlineKind::AcknowledgeClaim),
        "a met deadline is not due"
    );

    // Particulars served on Tuesday 1 December: 14 days for each (CPR 10.3, 15.4).
    let clocks = app.claims.acting_as("console:hana");
    let clock = clocks
        .record(
            CLAIM,
            ManualEvent::ParticularsServed {
                on: d("2026-12-01"),
            },
        )
        .await
        .expect("recorded");
    assert_eq!(
        due_of(&clock.deadlines, DeadlineKind::AcknowledgmentOfService),
        Some(d("2026-12-15"))
    );
    assert_eq!(
        due_of(&clock.deadlines, DeadlineKind::Defence),
        Some(d("2026-12-15"))
    );
    // An acknowledgment of service filed: the defence is due 28 days after service.
    let clock = clocks
        .record(
            CLAIM,
            ManualEvent::AcknowledgmentFiled {
                on: d("2026-12-10"),
            },
        )
        .await
        .expect("recorded");
    assert_eq!(
        due_of(&clock.deadlines, DeadlineKind::Defence),
        Some(d("2026-12-29"))
    );
    // Recording the same thing again changes nothing.
    let again = clocks
        .record(
            CLAIM,
            ManualEvent::AcknowledgmentFiled {
                on: d("2026-12-10"),
            },
        )
        .await
        .expect("recorded");
    assert_eq!(again.deadlines, clock.deadlines);

    // An extension needs its reason, and CPR 15.5 caps a defence's at 28 more days.
    let extension = |to: &str, reason: &str| Extension {
        deadline: DeadlineKind::Defence,
        from: None,
        new_due: d(to),
        reason: reason.into(),
        agreed_on: d("2026-12-11"),
    };
    let refused = clocks
        .extend(CLAIM, extension("2027-01-20", "  "))
        .await
        .expect_err("no reason");
    assert_eq!(refused.code(), Code::InvalidRequest);
    let refused = clocks
        .extend(CLAIM, extension("2027-02-10", "agreed by letter"))
        .await
        .expect_err("too long");
    assert!(matches!(refused, ClockError::Rules(_)), "{refused}");
    let clock = clocks
        .extend(
            CLAIM,
            extension(
                "2027-01-26",
                "agreed by the claimant's solicitors' letter of 11 December",
            ),
        )
        .await
        .expect("extended");
    assert_eq!(
        due_of(&clock.deadlines, DeadlineKind::Defence),
        Some(d("2027-01-26"))
    );
    let events = app.audit.events(Object::Case(CLAIM)).await.expect("audit");
    let extended = events
        .iter()
        .find(|e| e.what.as_deref() == Some("deadline_extended"))
        .expect("the extension is audited");
    assert_eq!(extended.who.as_deref(), Some("console:hana"));

    // The daily sweep reminds once a deadline and day.
    let first = app.claims.sweep(today, 14).await.expect("sweep");
    assert!(first.iter().any(|r| r.case_ref == CLAIM && r.new));
    let second = app.claims.sweep(today, 14).await.expect("sweep");
    assert_eq!(first.len(), second.len());
    assert!(second.iter().all(|r| !r.new), "already reminded today");

    // Not a claim: refused with its code.
    let err = app
        .claims
        .recompute("FOI_7001")
        .await
        .expect_err("an FOI request");
    assert_eq!(err.code(), Code::NotApplicable);
}

#[tokio::test]
async fn claims_due_json_has_the_contracts_shape() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The CLI runs on the system clock: its home holds the demo post filed today.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_postroom"))
        .args(["--home"])
        .arg(dir.path())
        .arg("demo")
        .output()
        .expect("demo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_postroom"))
        .args(["--home"])
        .arg(dir.path())
        .args(["claims", "due", "--within", "30", "--json"])
        .output()
        .expect("claims due");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert!(!lines.is_empty());
    for line in &lines {
        let keys: Vec<&str> = line
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            ["basis", "case_ref", "deadline", "due", "status"],
            "{line}"
        );
        assert!(
            DeadlineKind::ALL
                .iter()
                .any(|k| Some(k.as_str()) == line["deadline"].as_str())
        );
        assert!(matches!(line["status"].as_str(), Some("due" | "overdue")));
    }
    // A bad extension is a clear error with a non-zero exit.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_postroom"))
        .args(["--home"])
        .arg(dir.path())
        .args([
            "claims",
            "extend",
            CLAIM,
            "--deadline",
            "defense",
            "--to",
            "2027-01-26",
            "--reason",
            "x",
        ])
        .output()
        .expect("claims extend");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("defense"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
