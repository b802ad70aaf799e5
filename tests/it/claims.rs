//! Claim deadlines (issue 18): the module's due dates against a table of cases worked out
//! by hand (tests/data/claims/deadlines.csv) and against an independent, deliberately naive
//! calculation written first (day-by-day iteration over chrono dates and the calendar's
//! `is_working_day`), on every row and on every day of ten years.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use postroom::calendar::Calendar;
use postroom::claims::{
    ClaimEvents, ClaimsError, Deadline, DeadlineKind, Extension, Part36Offer, RecordsRequest,
    Status, court_calendar, deadlines,
};
use postroom::failure::{Code, ErrorCode};

const TABLE: &str = include_str!("../data/claims/deadlines.csv");

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a YYYY-MM-DD date in the test")
}

/// The independent calculation: no `claims` code, no chrono arithmetic beyond "the next
/// day", month lengths found by trying dates.
mod naive {
    use super::*;

    pub fn plus_days(from: NaiveDate, n: u32) -> NaiveDate {
        let mut date = from;
        for _ in 0..n {
            date = date.succ_opt().expect("a date");
        }
        date
    }

    fn month_length(year: i32, month: u32) -> u32 {
        (28..=31)
            .rev()
            .find(|day| NaiveDate::from_ymd_opt(year, month, *day).is_some())
            .expect("a month has 28 to 31 days")
    }

    /// Calendar months: the same day of the month `months` later, or that month's last day.
    pub fn plus_months(from: NaiveDate, months: u32) -> NaiveDate {
        let index = from.year() * 12 + from.month0() as i32 + months as i32;
        let (year, month) = (index / 12, (index % 12) as u32 + 1);
        let day = from.day().min(month_length(year, month));
        NaiveDate::from_ymd_opt(year, month, day).expect("a real date")
    }

    /// The day itself if the court office is open, else the next day it is.
    pub fn next_open(cal: &Calendar, date: NaiveDate) -> NaiveDate {
        let mut date = date;
        while !cal.is_working_day(date).expect("inside the calendar") {
            date = date.succ_opt().expect("a date");
        }
        date
    }

    pub struct Case {
        pub kind: DeadlineKind,
        pub from: NaiveDate,
        pub acknowledged: bool,
        pub born: Option<NaiveDate>,
        pub period: Option<u32>,
        pub extended_to: Option<NaiveDate>,
    }

    /// The due date by the rules as the brief states them.
    pub fn due(cal: &Calendar, c: &Case) -> NaiveDate {
        if let Some(extended) = c.extended_to {
            return extended;
        }
        match c.kind {
            DeadlineKind::AcknowledgeNotification | DeadlineKind::AcknowledgeClaim => {
                plus_days(c.from, 14)
            }
            DeadlineKind::LetterOfResponse => plus_months(c.from, 4),
            DeadlineKind::HealthRecords => plus_days(c.from, 40),
            DeadlineKind::AcknowledgmentOfService => next_open(cal, plus_days(c.from, 14)),
            DeadlineKind::Defence => {
                next_open(cal, plus_days(c.from, if c.acknowledged { 28 } else { 14 }))
            }
            DeadlineKind::Part36RelevantPeriod => plus_days(c.from, c.period.unwrap_or(21)),
            DeadlineKind::Limitation => {
                let start = match c.born {
                    Some(born) if c.from < plus_months(born, 18 * 12) => plus_months(born, 18 * 12),
                    _ => c.from,
                };
                next_open(cal, plus_months(start, 36))
            }
        }
    }
}

/// One row of the hand-worked table.
#[derive(Debug)]
struct Row {
    line: usize,
    kind: DeadlineKind,
    from: NaiveDate,
    acknowledgment_filed: Option<NaiveDate>,
    born: Option<NaiveDate>,
    period: Option<u32>,
    extended_to: Option<NaiveDate>,
    reason: String,
    due: NaiveDate,
}

fn rows() -> Vec<Row> {
    let mut reader = csv::Reader::from_reader(TABLE.as_bytes());
    let headers = reader.headers().expect("a header row").clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("column {name}"))
    };
    let (kind, from, ack, born, period, ext, reason, due) = (
        col("deadline"),
        col("from"),
        col("acknowledgment_filed"),
        col("claimant_born"),
        col("relevant_period_days"),
        col("extended_to"),
        col("extension_reason"),
        col("due"),
    );
    let opt = |s: &str| (!s.is_empty()).then(|| d(s));
    reader
        .records()
        .enumerate()
        .map(|(i, r)| {
            let r = r.expect("a well-formed row");
            assert_eq!(r.len(), headers.len(), "line {}: {r:?}", i + 2);
            Row {
                line: i + 2,
                kind: r[kind].parse().expect("a deadline id"),
                from: d(&r[from]),
                acknowledgment_filed: opt(&r[ack]),
                born: opt(&r[born]),
                period: (!r[period].is_empty()).then(|| r[period].parse().expect("days")),
                extended_to: opt(&r[ext]),
                reason: r[reason].to_string(),
                due: d(&r[due]),
            }
        })
        .collect()
}

/// The events a row describes: its one starting event, and the extension if any.
fn events(row: &Row) -> ClaimEvents {
    let mut e = ClaimEvents::default();
    match row.kind {
        DeadlineKind::AcknowledgeNotification => e.notification_received = Some(row.from),
        DeadlineKind::AcknowledgeClaim | DeadlineKind::LetterOfResponse => {
            e.claim_letter_received = Some(row.from)
        }
        DeadlineKind::HealthRecords => e.records_requests.push(RecordsRequest::new(row.from)),
        DeadlineKind::AcknowledgmentOfService | DeadlineKind::Defence => {
            e.particulars_served = Some(row.from);
            e.acknowledgment_filed = row.acknowledgment_filed;
        }
        DeadlineKind::Part36RelevantPeriod => e.part36_offers.push(Part36Offer {
            served: row.from,
            relevant_period_days: row.period,
            closed: None,
        }),
        DeadlineKind::Limitation => {
            e.incident = Some(row.from);
            e.claimant_born = row.born;
        }
    }
    if let Some(new_due) = row.extended_to {
        e.extensions.push(Extension {
            deadline: row.kind,
            from: None,
            new_due,
            reason: row.reason.clone(),
            agreed_on: row.from,
        });
    }
    e
}

fn find(list: &[Deadline], kind: DeadlineKind) -> Option<&Deadline> {
    list.iter().find(|x| x.deadline == kind)
}

#[test]
fn due_dates_match_the_hand_worked_table_and_the_independent_calculation() {
    let cal = court_calendar();
    let rows = rows();
    let mut per_kind: BTreeMap<DeadlineKind, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for row in &rows {
        *per_kind.entry(row.kind).or_default() += 1;
        let naive = naive::due(
            cal,
            &naive::Case {
                kind: row.kind,
                from: row.from,
                acknowledged: row.acknowledgment_filed.is_some(),
                born: row.born,
                period: row.period,
                extended_to: row.extended_to,
            },
        );
        if naive != row.due {
            failures.push(format!(
                "line {}: hand-worked {} but the independent calculation gives {naive}",
                row.line, row.due
            ));
        }
        match deadlines(cal, &events(row)) {
            Ok(list) => match find(&list, row.kind) {
                Some(x) if x.due == row.due => {
                    if row.extended_to.is_some() {
                        if x.extensions.len() != 1 || x.rule_due >= x.due {
                            failures.push(format!("line {}: extension not recorded", row.line));
                        }
                    } else if !x.extensions.is_empty() || x.rule_due != x.due {
                        failures.push(format!("line {}: an extension appeared", row.line));
                    }
                }
                other => failures.push(format!(
                    "line {}: {} expected {}, got {other:?}",
                    row.line, row.kind, row.due
                )),
            },
            Err(e) => failures.push(format!("line {}: {e}", row.line)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for kind in DeadlineKind::ALL {
        let n = per_kind.get(&kind).copied().unwrap_or(0);
        assert!(n >= 4, "{kind}: only {n} hand-worked rows");
    }
}

/// The table exercises what it claims to: rolls where the rules roll, none where they do
/// not, month ends, leap days and extensions.
#[test]
fn the_table_covers_rolls_month_ends_leap_days_and_extensions() {
    let cal = court_calendar();
    let rows = rows();
    // The module reports the roll; the independent calculation's unrolled date is closed.
    let rolled = |kind| {
        rows.iter().any(|r| {
            r.kind == kind
                && r.extended_to.is_none()
                && deadlines(cal, &events(r))
                    .expect("computes")
                    .iter()
                    .any(|x| {
                        x.deadline == kind
                            && x.rolled_from.is_some_and(|closed| {
                                closed < x.due && !cal.is_working_day(closed).unwrap_or(true)
                            })
                    })
        })
    };
    for kind in [
        DeadlineKind::AcknowledgmentOfService,
        DeadlineKind::Defence,
        DeadlineKind::Limitation,
    ] {
        assert!(rolled(kind), "{kind}: no row where the period rolls");
    }
    for kind in [
        DeadlineKind::AcknowledgeNotification,
        DeadlineKind::AcknowledgeClaim,
        DeadlineKind::LetterOfResponse,
        DeadlineKind::HealthRecords,
        DeadlineKind::Part36RelevantPeriod,
    ] {
        assert!(
            rows.iter().any(|r| r.kind == kind
                && r.extended_to.is_none()
                && !cal.is_working_day(r.due).expect("in the table")),
            "{kind}: no row ending on a closed day (which must not roll)"
        );
    }
    let leap = d("2024-02-29");
    assert!(rows.iter().any(|r| r.due == leap || r.from == leap));
    assert!(rows.iter().any(|r| r.due == d("2028-02-29")));
    assert!(
        rows.iter()
            .filter(|r| r.kind == DeadlineKind::LetterOfResponse)
            .any(|r| r.from.day() == 31 && r.due.month() == 2)
    );
    let extended: std::collections::BTreeSet<_> = rows
        .iter()
        .filter(|r| r.extended_to.is_some())
        .map(|r| r.kind)
        .collect();
    assert_eq!(extended.len(), DeadlineKind::ALL.len(), "{extended:?}");
}

/// Every day from 2016 to mid-2025, for every deadline (both defence periods, children and
/// adults): the module and the independent calculation agree.
#[test]
fn the_module_agrees_with_the_independent_calculation_on_every_day() {
    let cal = court_calendar();
    let mut date = d("2016-01-01");
    let last = d("2025-06-30");
    let mut checked = 0;
    let mut failures = Vec::new();
    while date <= last {
        for kind in DeadlineKind::ALL {
            for variant in 0..2 {
                let row = Row {
                    line: 0,
                    kind,
                    from: date,
                    acknowledgment_filed: (variant == 1).then_some(date),
                    // A child at the incident for some days, an adult for others.
                    born: (variant == 1 && kind == DeadlineKind::Limitation)
                        .then(|| naive::plus_days(d("1999-01-01"), (date.ordinal() * 7) % 4000)),
                    period: (variant == 1 && kind == DeadlineKind::Part36RelevantPeriod)
                        .then_some(21 + date.day()),
                    extended_to: None,
                    reason: String::new(),
                    due: date,
                };
                let expected = naive::due(
                    cal,
                    &naive::Case {
                        kind,
                        from: date,
                        acknowledged: row.acknowledgment_filed.is_some(),
                        born: row.born,
                        period: row.period,
                        extended_to: None,
                    },
                );
                let got = deadlines(cal, &events(&row))
                    .ok()
                    .and_then(|l| find(&l, kind).map(|x| x.due));
                if got != Some(expected) && failures.len() < 20 {
                    failures.push(format!(
                        "{kind} from {date} ({variant}): {got:?} vs {expected}"
                    ));
                }
                checked += 1;
            }
        }
        date = date.succ_opt().expect("a date");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked > 50_000, "{checked}");
}

mod generated {
    use super::*;
    use proptest::prelude::*;

    fn date_in(first: &'static str, days: u32) -> impl Strategy<Value = NaiveDate> {
        (0..days).prop_map(move |n| naive::plus_days(d(first), n))
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 300,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]
        /// A whole claim at once (every event, in order, with an extension of one
        /// deadline): each deadline is still the independent calculation's.
        #[test]
        fn a_whole_claim_agrees_deadline_by_deadline(
            incident in date_in("2016-01-01", 2500),
            gaps in proptest::collection::vec(0u32..200, 6),
            acknowledged in any::<bool>(),
            child in any::<bool>(),
            extend in 0usize..8,
            extra in 1u32..60,
        ) {
            let cal = court_calendar();
            let notification = naive::plus_days(incident, gaps[0]);
            let claim = naive::plus_days(notification, gaps[1]);
            let records = naive::plus_days(incident, gaps[2]);
            let particulars = naive::plus_days(claim, gaps[3]);
            let offer = naive::plus_days(claim, gaps[4]);
            let born = if child {
                naive::plus_days(incident, 0).with_year(incident.year() - 16)
            } else {
                naive::plus_days(incident, 0).with_year(incident.year() - 40)
            };
            let mut e = ClaimEvents {
                incident: Some(incident),
                claimant_born: born,
                notification_received: Some(notification),
                claim_letter_received: Some(claim),
                records_requests: vec![RecordsRequest::new(records)],
                particulars_served: Some(particulars),
                acknowledgment_filed: acknowledged.then(|| naive::plus_days(particulars, gaps[5] % 14)),
                part36_offers: vec![Part36Offer { served: offer, relevant_period_days: None, closed: None }],
                ..ClaimEvents::default()
            };
            let kind = DeadlineKind::ALL[extend];
            let from_of = |k: DeadlineKind| match k {
                DeadlineKind::AcknowledgeNotification => notification,
                DeadlineKind::AcknowledgeClaim | DeadlineKind::LetterOfResponse => claim,
                DeadlineKind::HealthRecords => records,
                DeadlineKind::AcknowledgmentOfService | DeadlineKind::Defence => particulars,
                DeadlineKind::Part36RelevantPeriod => offer,
                DeadlineKind::Limitation => incident,
            };
            // A child's limitation runs from the 18th birthday.
            let eighteen = born.map(|b| naive::plus_months(b, 18 * 12)).filter(|e| incident < *e);
            let start_of = |k: DeadlineKind| match k {
                DeadlineKind::Limitation => eighteen.unwrap_or(incident),
                k => from_of(k),
            };
            let naive_due = |k: DeadlineKind, extended_to| naive::due(cal, &naive::Case {
                kind: k,
                from: from_of(k),
                acknowledged: e.acknowledgment_filed.is_some(),
                born,
                period: None,
                extended_to,
            });
            let mut new_due = naive::plus_days(naive_due(kind, None), extra);
            // The defence may be extended by agreement by at most 28 days (CPR 15.5): the
            // period's end plus 28, moved to a day the court office is open.
            if kind == DeadlineKind::Defence {
                let period = if e.acknowledgment_filed.is_some() { 28 } else { 14 };
                new_due = new_due.min(naive::next_open(cal, naive::plus_days(particulars, period + 28)));
            }
            e.extensions.push(Extension {
                deadline: kind,
                from: None,
                new_due,
                reason: "agreed by letter".into(),
                agreed_on: start_of(kind),
            });
            let list = deadlines(cal, &e).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(list.len(), DeadlineKind::ALL.len());
            for k in DeadlineKind::ALL {
                let x = find(&list, k).ok_or_else(|| TestCaseError::fail(format!("no {k}")))?;
                let expected = naive_due(k, (k == kind).then_some(new_due));
                prop_assert_eq!(x.due, expected, "{}", k);
                prop_assert_eq!(x.from, start_of(k), "{}", k);
                prop_assert!(x.rule_due <= x.due);
            }
            // Sorted by due date.
            prop_assert!(list.windows(2).all(|w| w[0].due <= w[1].due));
        }
    }
}

#[test]
fn events_that_do_not_apply_give_no_deadline() {
    let cal = court_calendar();
    assert_eq!(deadlines(cal, &ClaimEvents::default()), Ok(Vec::new()));
    // An acknowledgment of service without particulars: nothing runs.
    let e = ClaimEvents {
        acknowledgment_filed: Some(d("2025-03-10")),
        claimant_born: Some(d("1990-01-01")),
        ..ClaimEvents::default()
    };
    assert_eq!(deadlines(cal, &e), Ok(Vec::new()));
    // A letter of claim alone: its acknowledgment and the response, nothing else.
    let e = ClaimEvents {
        claim_letter_received: Some(d("2025-01-15")),
        ..ClaimEvents::default()
    };
    let kinds: Vec<_> = deadlines(cal, &e)
        .expect("computes")
        .iter()
        .map(|x| x.deadline)
        .collect();
    assert_eq!(
        kinds,
        [
            DeadlineKind::AcknowledgeClaim,
            DeadlineKind::LetterOfResponse
        ]
    );
}

#[test]
fn status_is_derived_from_today_and_the_met_date() {
    let cal = court_calendar();
    let mut e = ClaimEvents {
        particulars_served: Some(d("2025-04-04")),
        ..ClaimEvents::default()
    };
    let list = deadlines(cal, &e).expect("computes");
    let aos = find(&list, DeadlineKind::AcknowledgmentOfService).expect("aos");
    assert_eq!(aos.due, d("2025-04-22"));
    assert_eq!(aos.status(d("2025-04-22")), Status::Due);
    assert_eq!(aos.status(d("2025-04-23")), Status::Overdue);
    assert_eq!(aos.days_left(d("2025-04-20")), 2);
    assert_eq!(aos.days_left(d("2025-04-25")), -3);
    assert!(aos.needs_attention(d("2025-04-20"), 2));
    assert!(!aos.needs_attention(d("2025-04-19"), 2));
    assert!(aos.needs_attention(d("2025-05-01"), 0), "overdue is listed");
    // A defence filed within 14 days meets the acknowledgment too (CPR 10.1(3)).
    e.defence_filed = Some(d("2025-04-15"));
    let list = deadlines(cal, &e).expect("computes");
    for kind in [DeadlineKind::AcknowledgmentOfService, DeadlineKind::Defence] {
        let x = find(&list, kind).expect("listed");
        assert_eq!(x.met, Some(d("2025-04-15")), "{kind}");
        assert_eq!(x.status(d("2025-06-01")), Status::Met);
        assert!(!x.needs_attention(d("2025-06-01"), 30));
    }
    assert_eq!(serde_json::to_value(Status::Overdue).unwrap(), "overdue");
}

#[test]
fn deadline_ids_and_json_are_stable() {
    let ids: Vec<_> = DeadlineKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(
        ids,
        [
            "acknowledge_notification",
            "acknowledge_claim",
            "letter_of_response",
            "health_records",
            "acknowledgment_of_service",
            "defence",
            "part36_relevant_period",
            "limitation"
        ]
    );
    for kind in DeadlineKind::ALL {
        assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        assert_eq!(kind.as_str().parse::<DeadlineKind>(), Ok(kind));
        assert_eq!(kind.to_string(), kind.as_str());
    }
    assert!("defense".parse::<DeadlineKind>().is_err());
    // A deadline survives storage as JSON; events too.
    let e = ClaimEvents {
        incident: Some(d("2022-06-01")),
        particulars_served: Some(d("2025-03-03")),
        acknowledgment_filed: Some(d("2025-03-10")),
        extensions: vec![Extension {
            deadline: DeadlineKind::Defence,
            from: None,
            new_due: d("2025-04-28"),
            reason: "expert evidence".into(),
            agreed_on: d("2025-03-20"),
        }],
        ..ClaimEvents::default()
    };
    let json = serde_json::to_string(&e).unwrap();
    assert_eq!(serde_json::from_str::<ClaimEvents>(&json).unwrap(), e);
    assert_eq!(
        serde_json::from_str::<ClaimEvents>("{}").unwrap(),
        ClaimEvents::default()
    );
    let list = deadlines(court_calendar(), &e).expect("computes");
    let json = serde_json::to_value(&list).unwrap();
    let defence = json
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["deadline"] == "defence")
        .expect("defence");
    assert_eq!(defence["due"], "2025-04-28");
    assert_eq!(defence["rule_due"], "2025-03-31");
    assert!(
        defence["basis"]
            .as_str()
            .unwrap()
            .contains("CPR 15.4(1)(b)")
    );
    assert!(defence["note"].as_str().unwrap().contains("CPR 15.5(2)"));
    assert_eq!(serde_json::from_value::<Vec<Deadline>>(json).unwrap(), list);
}

#[test]
fn every_deadline_names_its_rule_and_limitation_asks_for_the_date_of_knowledge() {
    let e = ClaimEvents {
        incident: Some(d("2022-06-01")),
        notification_received: Some(d("2024-01-08")),
        claim_letter_received: Some(d("2024-05-01")),
        records_requests: vec![RecordsRequest::new(d("2023-02-01"))],
        particulars_served: Some(d("2025-03-03")),
        part36_offers: vec![Part36Offer {
            served: d("2024-06-03"),
            relevant_period_days: None,
            closed: None,
        }],
        ..ClaimEvents::default()
    };
    let list = deadlines(court_calendar(), &e).expect("computes");
    let basis = |k| find(&list, k).expect("listed").basis.clone();
    let pap = "Pre-Action Protocol for the Resolution of Clinical Disputes";
    assert!(basis(DeadlineKind::AcknowledgeNotification).starts_with(pap));
    assert!(basis(DeadlineKind::AcknowledgeNotification).contains("para 3.13"));
    assert!(basis(DeadlineKind::AcknowledgeClaim).contains("para 3.25"));
    assert!(basis(DeadlineKind::LetterOfResponse).contains("para 3.26"));
    assert!(basis(DeadlineKind::HealthRecords).contains("para 3.3"));
    assert!(basis(DeadlineKind::AcknowledgmentOfService).contains("CPR 10.3"));
    assert!(basis(DeadlineKind::Defence).contains("CPR 15.4(1)(a)"));
    assert!(basis(DeadlineKind::Part36RelevantPeriod).contains("CPR 36.5(1)(c)"));
    assert!(basis(DeadlineKind::Limitation).contains("Limitation Act 1980 s.11"));
    let limitation = find(&list, DeadlineKind::Limitation).expect("limitation");
    let note = limitation.note.as_deref().expect("a note");
    assert!(note.contains("check the date of knowledge"), "{note}");
    assert!(note.contains("s.14") && note.contains("s.33"), "{note}");
    // Sun 1 Jun 2025 rolled to Mon 2 Jun.
    assert_eq!(limitation.rolled_from, Some(d("2025-06-01")));
    assert_eq!(limitation.due, d("2025-06-02"));
    // A child at the incident: s.28.
    let child = ClaimEvents {
        incident: Some(d("2016-03-01")),
        claimant_born: Some(d("2007-05-10")),
        ..ClaimEvents::default()
    };
    let list = deadlines(court_calendar(), &child).expect("computes");
    let x = find(&list, DeadlineKind::Limitation).expect("limitation");
    assert!(x.basis.contains("s.28"), "{}", x.basis);
    assert_eq!(x.from, d("2025-05-10"));
    assert!(
        x.note
            .as_deref()
            .unwrap_or("")
            .contains("check the date of knowledge")
    );
}

#[test]
fn the_response_counts_from_the_letters_date_when_known() {
    let e = ClaimEvents {
        claim_letter_dated: Some(d("2025-10-31")),
        claim_letter_received: Some(d("2025-11-03")),
        ..ClaimEvents::default()
    };
    let list = deadlines(court_calendar(), &e).expect("computes");
    assert_eq!(
        find(&list, DeadlineKind::LetterOfResponse).map(|x| x.due),
        Some(d("2026-02-28"))
    );
    assert_eq!(
        find(&list, DeadlineKind::AcknowledgeClaim).map(|x| x.due),
        Some(d("2025-11-17"))
    );
}

#[test]
fn several_requests_and_offers_each_have_a_deadline_and_extensions_say_which() {
    let mut e = ClaimEvents {
        records_requests: vec![
            RecordsRequest::new(d("2025-01-02")),
            RecordsRequest {
                requested: d("2025-02-03"),
                provided: Some(d("2025-02-20")),
            },
        ],
        ..ClaimEvents::default()
    };
    let list = deadlines(court_calendar(), &e).expect("computes");
    let dues: Vec<_> = list.iter().map(|x| (x.due, x.met)).collect();
    assert_eq!(
        dues,
        [
            (d("2025-02-11"), None),
            (d("2025-03-15"), Some(d("2025-02-20")))
        ]
    );
    let ext = Extension {
        deadline: DeadlineKind::HealthRecords,
        from: None,
        new_due: d("2025-03-31"),
        reason: "archive retrieval".into(),
        agreed_on: d("2025-02-05"),
    };
    e.extensions = vec![ext.clone()];
    let err = deadlines(court_calendar(), &e).unwrap_err();
    assert!(
        matches!(err, ClaimsError::AmbiguousExtension { .. }),
        "{err}"
    );
    e.extensions = vec![Extension {
        from: Some(d("2025-01-02")),
        ..ext.clone()
    }];
    let list = deadlines(court_calendar(), &e).expect("computes");
    assert_eq!(list[1].due, d("2025-03-31"));
    assert_eq!(list[1].from, d("2025-01-02"));
    assert_eq!(list[1].rule_due, d("2025-02-11"));
    // Two extensions in turn: each later than the last.
    e.extensions.push(Extension {
        from: Some(d("2025-01-02")),
        new_due: d("2025-04-30"),
        agreed_on: d("2025-03-20"),
        ..ext.clone()
    });
    let list = deadlines(court_calendar(), &e).expect("computes");
    let x = list.iter().find(|x| x.from == d("2025-01-02")).unwrap();
    assert_eq!((x.due, x.extensions.len()), (d("2025-04-30"), 2));
}

/// Bad input is a typed error with a stable code, never a panic.
#[test]
fn bad_input_is_refused_with_a_stable_code() {
    let cal = court_calendar();
    let base = ClaimEvents {
        incident: Some(d("2022-06-01")),
        claim_letter_received: Some(d("2025-01-15")),
        particulars_served: Some(d("2025-03-03")),
        ..ClaimEvents::default()
    };
    let ext = Extension {
        deadline: DeadlineKind::LetterOfResponse,
        from: None,
        new_due: d("2025-06-15"),
        reason: "expert report awaited".into(),
        agreed_on: d("2025-04-01"),
    };
    let cases: Vec<(&str, ClaimEvents, &str, Code)> = vec![
        (
            "acknowledgment before the particulars",
            ClaimEvents {
                acknowledgment_filed: Some(d("2025-03-01")),
                ..base.clone()
            },
            "event_out_of_order",
            Code::DateOutOfRange,
        ),
        (
            "defence before the particulars",
            ClaimEvents {
                defence_filed: Some(d("2025-02-01")),
                ..base.clone()
            },
            "event_out_of_order",
            Code::DateOutOfRange,
        ),
        (
            "letter of claim before the incident",
            ClaimEvents {
                claim_letter_received: Some(d("2022-05-01")),
                ..base.clone()
            },
            "event_out_of_order",
            Code::DateOutOfRange,
        ),
        (
            "claimant born after the incident",
            ClaimEvents {
                claimant_born: Some(d("2023-01-01")),
                ..base.clone()
            },
            "event_out_of_order",
            Code::DateOutOfRange,
        ),
        (
            "letter received before it was dated",
            ClaimEvents {
                claim_letter_dated: Some(d("2025-01-20")),
                ..base.clone()
            },
            "event_out_of_order",
            Code::DateOutOfRange,
        ),
        (
            "records provided before they were asked for",
            ClaimEvents {
                records_requests: vec![RecordsRequest {
                    requested: d("2024-05-01"),
                    provided: Some(d("2024-04-01")),
                }],
                ..base.clone()
            },
            "event_out_of_order",
            Code::DateOutOfRange,
        ),
        (
            "particulars served before the claim was issued",
            ClaimEvents {
                claim_issued: Some(d("2025-03-04")),
                ..base.clone()
            },
            "event_out_of_order",
            Code::DateOutOfRange,
        ),
        (
            "a relevant period under 21 days",
            ClaimEvents {
                part36_offers: vec![Part36Offer {
                    served: d("2025-02-01"),
                    relevant_period_days: Some(14),
                    closed: None,
                }],
                ..base.clone()
            },
            "relevant_period_too_short",
            Code::InvalidRequest,
        ),
        (
            "an extension without a reason",
            ClaimEvents {
                extensions: vec![Extension {
                    reason: "  ".into(),
                    ..ext.clone()
                }],
                ..base.clone()
            },
            "extension_without_reason",
            Code::InvalidRequest,
        ),
        (
            "an extension that moves the date earlier",
            ClaimEvents {
                extensions: vec![Extension {
                    new_due: d("2025-05-01"),
                    ..ext.clone()
                }],
                ..base.clone()
            },
            "extension_not_later",
            Code::InvalidRequest,
        ),
        (
            "an extension to the same date",
            ClaimEvents {
                extensions: vec![Extension {
                    new_due: d("2025-05-15"),
                    ..ext.clone()
                }],
                ..base.clone()
            },
            "extension_not_later",
            Code::InvalidRequest,
        ),
        (
            "an extension agreed before the period began",
            ClaimEvents {
                extensions: vec![Extension {
                    agreed_on: d("2025-01-01"),
                    ..ext.clone()
                }],
                ..base.clone()
            },
            "extension_before_start",
            Code::DateOutOfRange,
        ),
        (
            "an extension of a deadline that does not run",
            ClaimEvents {
                extensions: vec![Extension {
                    deadline: DeadlineKind::HealthRecords,
                    ..ext.clone()
                }],
                ..base.clone()
            },
            "nothing_to_extend",
            Code::NotApplicable,
        ),
        (
            "a defence extended by more than 28 days",
            ClaimEvents {
                extensions: vec![Extension {
                    deadline: DeadlineKind::Defence,
                    new_due: d("2025-04-15"),
                    agreed_on: d("2025-03-10"),
                    ..ext.clone()
                }],
                ..base.clone()
            },
            "defence_extension_too_long",
            Code::InvalidRequest,
        ),
    ];
    assert!(deadlines(cal, &base).is_ok());
    for (what, events, id, code) in cases {
        match deadlines(cal, &events) {
            Err(e) => {
                assert_eq!(e.id(), id, "{what}: {e}");
                assert_eq!(e.code(), code, "{what}: {e}");
                assert!(!e.to_string().is_empty());
            }
            Ok(list) => panic!("{what}: accepted, {list:?}"),
        }
    }
    // The most CPR 15.5 allows is fine: served 3 Mar, no acknowledgment, due 17 Mar; 28 more
    // days is 14 Apr.
    let mut ok = base.clone();
    ok.extensions = vec![Extension {
        deadline: DeadlineKind::Defence,
        new_due: d("2025-04-14"),
        agreed_on: d("2025-03-10"),
        ..ext.clone()
    }];
    let list = deadlines(cal, &ok).expect("28 days is allowed");
    let defence = find(&list, DeadlineKind::Defence).expect("defence");
    assert_eq!(defence.due, d("2025-04-14"));
    assert_eq!(defence.extensions[0].reason, "expert report awaited");
    // A Part 36 offer before the letter of claim is allowed (CPR 36.7(1)).
    let early = ClaimEvents {
        part36_offers: vec![Part36Offer {
            served: d("2024-12-02"),
            relevant_period_days: None,
            closed: None,
        }],
        ..base.clone()
    };
    assert!(deadlines(cal, &early).is_ok());
}

#[test]
fn a_calendar_error_keeps_its_code() {
    let err = Calendar::from_csv("date,title,divisions\nnot-a-date,x,england-and-wales\n")
        .expect_err("a bad table");
    let code = err.code();
    let claims = ClaimsError::from(err);
    assert_eq!(claims.code(), code);
    assert_eq!(claims.id(), "calendar");
}
