//! The bank holiday rules against data: every date of the shipped table, nation by nation,
//! is what the rules give except the named one-off days and overrides; hand-worked
//! holidays for 2029–2033 (`data/projected-holidays.csv`); Easter against an independent
//! computus (`data/easter-sunday.csv`); and working days counted across the table's end.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Days, NaiveDate, Weekday};
use postroom_core::calendar::{Calendar, EMBEDDED_TABLE, Nation, good_friday, rules};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// The rows of a CSV file with a header, as string records.
fn rows(text: &str) -> Vec<csv::StringRecord> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.expect("a well-formed row"))
        .collect()
}

/// Each nation's dates, from rows whose first column is a date and column `divisions` the
/// `;`-separated GOV.UK divisions that observe it.
fn by_nation(text: &str, divisions: usize) -> BTreeMap<Nation, BTreeSet<NaiveDate>> {
    let mut out: BTreeMap<Nation, BTreeSet<NaiveDate>> = BTreeMap::new();
    for row in rows(text) {
        let date = d(&row[0]);
        for division in row[divisions].split(';') {
            let nation = Nation::from_division(division)
                .unwrap_or_else(|| panic!("unknown division {division:?}"));
            out.entry(nation).or_default().insert(date);
        }
    }
    out
}

const ALL: &[Nation] = &Nation::ALL;
const SCOTLAND: &[Nation] = &[Nation::Scotland];

/// Days in the shipped table that no rule gives: one-off holidays and days moved by
/// proclamation, each with its reason.
const TABLE_ONLY: &[(&str, &[Nation], &str)] = &[
    (
        "2020-05-08",
        ALL,
        "VE Day 75th anniversary: the early May bank holiday moved from Monday 4 May to Friday 8 May",
    ),
    (
        "2022-06-02",
        ALL,
        "Platinum Jubilee: the spring bank holiday moved from Monday 30 May to Thursday 2 June",
    ),
    ("2022-06-03", ALL, "Platinum Jubilee bank holiday (one-off)"),
    (
        "2022-09-19",
        ALL,
        "Bank holiday for the State Funeral of Queen Elizabeth II (one-off)",
    ),
    (
        "2023-05-08",
        ALL,
        "Bank holiday for the coronation of King Charles III (one-off)",
    ),
    (
        "2026-06-15",
        SCOTLAND,
        "World Cup bank holiday, Scotland only (one-off)",
    ),
];

/// Days the rules give that the shipped table moved away.
const RULES_ONLY: &[(&str, &[Nation], &str)] = &[
    (
        "2020-05-04",
        ALL,
        "the first Monday of May 2020, moved to Friday 8 May for VE Day",
    ),
    (
        "2022-05-30",
        ALL,
        "the last Monday of May 2022, moved to Thursday 2 June for the Platinum Jubilee",
    ),
];

fn expand(list: &[(&str, &[Nation], &str)]) -> BTreeSet<(NaiveDate, Nation)> {
    list.iter()
        .flat_map(|(date, nations, _)| nations.iter().map(|n| (d(date), *n)))
        .collect()
}

fn rule_dates(year: i32, nation: Nation) -> BTreeSet<NaiveDate> {
    rules::holidays(year, nation)
        .iter()
        .map(|h| h.date)
        .collect()
}

#[test]
fn the_rules_reproduce_the_shipped_table_but_its_one_off_days() {
    let table = by_nation(EMBEDDED_TABLE, 2);
    let (first, last) = Calendar::embedded().years();
    assert_eq!((first, last), (2015, 2028));
    let mut table_only = BTreeSet::new();
    let mut rules_only = BTreeSet::new();
    let mut reproduced = BTreeMap::new();
    for nation in Nation::ALL {
        let in_table = &table[&nation];
        let by_rule: BTreeSet<NaiveDate> =
            (first..=last).flat_map(|y| rule_dates(y, nation)).collect();
        table_only.extend(in_table.difference(&by_rule).map(|d| (*d, nation)));
        rules_only.extend(by_rule.difference(in_table).map(|d| (*d, nation)));
        reproduced.insert(
            nation,
            (in_table.intersection(&by_rule).count(), in_table.len()),
        );
    }
    assert_eq!(
        table_only,
        expand(TABLE_ONLY),
        "table days the rules miss, other than the named one-off days"
    );
    assert_eq!(
        rules_only,
        expand(RULES_ONLY),
        "rule days the table lacks, other than the named overrides"
    );
    // Reproduced out of the table's rows, per nation (the table's row counts are in
    // data/bank-holidays.SOURCE.md's terms: 115 for England and Wales).
    assert_eq!(
        reproduced,
        BTreeMap::from([
            (Nation::EnglandAndWales, (110, 115)),
            (Nation::Scotland, (124, 130)),
            (Nation::NorthernIreland, (138, 143)),
        ])
    );
}

/// Within the table's years the table is authoritative: the one-off days are holidays
/// and the days moved away are working days, though the rules would give them.
#[test]
fn within_the_table_the_table_wins() {
    let cal = Calendar::embedded();
    for (date, nations, why) in TABLE_ONLY {
        for nation in *nations {
            let counted = cal.with_nations(&[*nation]);
            assert_eq!(
                counted.is_working_day(d(date)),
                Ok(false),
                "{date} {nation}: {why}"
            );
            assert!(!counted.is_projected(d(date)));
        }
    }
    for (date, nations, why) in RULES_ONLY {
        for nation in *nations {
            let counted = cal.with_nations(&[*nation]);
            assert_eq!(
                counted.is_working_day(d(date)),
                Ok(true),
                "{date} {nation}: {why}"
            );
        }
    }
}

/// The holidays of 2029–2033 as worked out by hand (`data/projected-holidays.csv`, one
/// reason a row): the rules give exactly those, and the calendar counts every other
/// weekday of those years as a working day, projected.
#[test]
fn future_years_match_the_hand_worked_dates() {
    let expected = by_nation(include_str!("data/projected-holidays.csv"), 1);
    let years: BTreeSet<i32> = expected.values().flatten().map(|d| d.year()).collect();
    assert_eq!(years, (2029..=2033).collect());
    let cal = Calendar::embedded();
    for nation in Nation::ALL {
        let counted = cal.with_nations(&[nation]);
        for &year in &years {
            let hand: BTreeSet<NaiveDate> = expected[&nation]
                .iter()
                .copied()
                .filter(|d| d.year() == year)
                .collect();
            assert_eq!(rule_dates(year, nation), hand, "{year} {nation}");
            let start = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
            for day in start.iter_days().take_while(|d| d.year() == year) {
                let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
                assert_eq!(
                    counted.is_working_day(day),
                    Ok(!weekend && !hand.contains(&day)),
                    "{day} {nation}"
                );
                assert!(counted.is_projected(day));
            }
        }
    }
}

/// Easter Sunday from 1900 to 2200 as python-dateutil 2.9.0 computes it
/// (`dateutil.easter.easter(year, EASTER_WESTERN)`, a different algorithm): Good Friday
/// is two days before.
#[test]
fn good_friday_agrees_with_an_independent_computus() {
    let table = rows(include_str!("data/easter-sunday.csv"));
    assert_eq!(table.len(), 301);
    for row in table {
        let year: i32 = row[0].parse().unwrap();
        let easter = d(&row[1]);
        assert_eq!(
            good_friday(year).and_then(|f| f.checked_add_days(Days::new(2))),
            Some(easter),
            "{year}"
        );
    }
}

/// An FOI request received on Friday 22 December 2028 runs into 2029, past the table:
/// it gets a due date, marked projected. By hand, counting every nation: 27, 28, 29 Dec
/// are days 1–3 (25, 26 Dec are holidays); 1 Jan 2029 (all) and 2 Jan (Scotland) are
/// holidays; Wed 3 Jan is day 4, Fri 12 day 11, Fri 19 day 16, Thu 25 Jan day 20.
/// England and Wales alone count 2 Jan (day 4), so day 20 is Wed 24 Jan.
#[test]
fn a_clock_started_on_22_december_2028_is_projected_into_2029() {
    let cal = Calendar::embedded();
    let received = d("2028-12-22");
    let due = cal.add_working_days(received, 20).expect("a due date");
    assert_eq!(due, d("2029-01-25"));
    assert!(cal.is_projected_span(received, due));
    let england = cal.with_nations(&[Nation::EnglandAndWales]);
    assert_eq!(england.add_working_days(received, 20), Ok(d("2029-01-24")));
    assert_eq!(cal.working_days_between(received, d("2029-01-25")), Ok(20));
    // Before the table the rules count too: from Fri 19 Dec 2014, days 1-3 are 22-24 Dec;
    // Thu 25 and Fri 26 are Christmas and Boxing Day, so day 4 is Mon 29 Dec.
    assert_eq!(
        cal.add_working_days(d("2014-12-19"), 3),
        Ok(d("2014-12-24"))
    );
    assert_eq!(
        cal.add_working_days(d("2014-12-19"), 4),
        Ok(d("2014-12-29"))
    );
    assert!(cal.is_projected(d("2014-12-29")));
}
