//! Working days in the United Kingdom: the bank holiday table (shipped as data, replaceable
//! without a release) and working-day arithmetic for statutory clocks and letters.
//!
//! A working day is any day but Saturday, Sunday, Christmas Day, Good Friday and a bank
//! holiday in one of the nations counted (all three by default, as the FOI Act's s.10(6)
//! reads "in any part of the United Kingdom").
//!
//! Within the table's years the table is authoritative (it holds the one-off days and the
//! moved ones). Outside them, bank holidays are computed by rule ([`rules`]) and the dates
//! are *projected* ([`Calendar::is_projected`]): a proclamation may yet add or move a day.
//! Past [`rules::YEARS`] (and the table) nothing is counted: [`CalendarError::NotCovered`].

pub mod rules;

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};

/// The holiday table that ships with this release (GOV.UK data; see `data/bank-holidays.SOURCE.md`).
pub const EMBEDDED_TABLE: &str = include_str!("../../../data/bank-holidays-uk-any-part.csv");

/// A part of the United Kingdom with its own bank holidays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Nation {
    EnglandAndWales,
    Scotland,
    NorthernIreland,
}

impl Nation {
    pub const ALL: [Nation; 3] = [
        Nation::EnglandAndWales,
        Nation::Scotland,
        Nation::NorthernIreland,
    ];

    fn bit(self) -> u8 {
        match self {
            Nation::EnglandAndWales => 1,
            Nation::Scotland => 2,
            Nation::NorthernIreland => 4,
        }
    }

    /// The GOV.UK division name (`england-and-wales`, `scotland`, `northern-ireland`).
    pub fn division(self) -> &'static str {
        match self {
            Nation::EnglandAndWales => "england-and-wales",
            Nation::Scotland => "scotland",
            Nation::NorthernIreland => "northern-ireland",
        }
    }

    /// Division names, comma-separated or listed (`england-and-wales,scotland`); every
    /// unknown name is reported at once. Blank entries are ignored.
    pub fn parse_list<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Vec<Nation>, String> {
        let mut nations = Vec::new();
        let mut unknown = Vec::new();
        for name in names
            .into_iter()
            .flat_map(|n| n.split(','))
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            match Nation::from_division(name) {
                Some(n) => nations.push(n),
                None => unknown.push(name.to_string()),
            }
        }
        if unknown.is_empty() {
            Ok(nations)
        } else {
            Err(format!(
                "unknown nation(s) {} (england-and-wales, scotland, northern-ireland)",
                unknown.join(", ")
            ))
        }
    }

    pub fn from_division(name: &str) -> Option<Nation> {
        Nation::ALL
            .into_iter()
            .find(|n| n.division() == name.trim())
    }
}

impl crate::ErrorCode for CalendarError {
    fn code(&self) -> crate::Code {
        match self {
            CalendarError::Table { .. } => crate::Code::ConfigInvalid,
            CalendarError::NotCovered { .. } => crate::Code::DateOutOfRange,
        }
    }
}

/// Why a holiday table or a date calculation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("holiday table line {line}: {message}")]
    Table { line: usize, message: String },
    /// `first` and `last` are the years the calendar counts at all (the table's and the
    /// rules' together).
    #[error(
        "{date} is outside the years the working-day calendar counts ({first}–{last}); give a table that covers it (POSTROOM_HOLIDAYS) to count working days then"
    )]
    NotCovered {
        date: NaiveDate,
        first: i32,
        last: i32,
    },
}

/// A bank holiday table, the rules that extend it, and the nations it counts.
#[derive(Debug, Clone)]
pub struct Calendar {
    holidays: BTreeMap<NaiveDate, (String, u8)>,
    nations: u8,
    first_year: i32,
    last_year: i32,
}

impl Calendar {
    /// The table shipped with this release, counting every nation.
    pub fn embedded() -> &'static Calendar {
        static CAL: std::sync::OnceLock<Calendar> = std::sync::OnceLock::new();
        CAL.get_or_init(|| {
            Calendar::from_csv(EMBEDDED_TABLE).expect("the embedded holiday table is valid")
        })
    }

    /// Parses a table in the shipped format: `date,title,divisions` with divisions
    /// separated by `;`.
    pub fn from_csv(text: &str) -> Result<Calendar, CalendarError> {
        let mut holidays = BTreeMap::new();
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(text.as_bytes());
        for (i, record) in reader.records().enumerate() {
            let line = i + 2;
            let record = record.map_err(|e| CalendarError::Table {
                line,
                message: e.to_string(),
            })?;
            let date = record.get(0).unwrap_or("");
            let date = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").map_err(|_| {
                CalendarError::Table {
                    line,
                    message: format!("{date:?} is not a YYYY-MM-DD date"),
                }
            })?;
            let title = record.get(1).unwrap_or("").trim().to_string();
            let mut mask = 0u8;
            for division in record.get(2).unwrap_or("").split(';') {
                let nation =
                    Nation::from_division(division).ok_or_else(|| CalendarError::Table {
                        line,
                        message: format!("unknown division {division:?}"),
                    })?;
                mask |= nation.bit();
            }
            holidays.insert(date, (title, mask));
        }
        let (Some(first), Some(last)) = (holidays.keys().next(), holidays.keys().next_back())
        else {
            return Err(CalendarError::Table {
                line: 1,
                message: "the table has no holidays".into(),
            });
        };
        let (first_year, last_year) = (first.year(), last.year());
        Ok(Calendar {
            holidays,
            nations: 7,
            first_year,
            last_year,
        })
    }

    /// The same table, counting the given nations' holidays (all of them if none given).
    pub fn counting(&self, nations: &[Nation]) -> Calendar {
        if nations.is_empty() {
            self.clone()
        } else {
            self.with_nations(nations)
        }
    }

    /// The same table, counting only the given nations' holidays.
    pub fn with_nations(&self, nations: &[Nation]) -> Calendar {
        let mut cal = self.clone();
        cal.nations = nations.iter().fold(0, |m, n| m | n.bit());
        cal
    }

    /// The years the table covers (its dates are authoritative; others are projected).
    pub fn years(&self) -> (i32, i32) {
        (self.first_year, self.last_year)
    }

    /// The years the calendar counts at all: the table's and [`rules::YEARS`] together.
    pub fn bounds(&self) -> (i32, i32) {
        (
            self.first_year.min(*rules::YEARS.start()),
            self.last_year.max(*rules::YEARS.end()),
        )
    }

    /// Whether `date`'s bank holidays come from the rules rather than the table: a date
    /// outside the table's years. Working days counted over such a date are a projection
    /// (a proclamation may yet add or move a holiday), not refused.
    pub fn is_projected(&self, date: NaiveDate) -> bool {
        !(self.first_year..=self.last_year).contains(&date.year())
    }

    /// Whether any day from `from` to `to` (either order, both included) is projected.
    /// The table's years are one run, so only the ends need looking at.
    pub fn is_projected_span(&self, from: NaiveDate, to: NaiveDate) -> bool {
        self.is_projected(from) || self.is_projected(to)
    }

    /// The holiday on `date` in a counted nation, if any: from the table within its years,
    /// by rule outside them.
    pub fn holiday(&self, date: NaiveDate) -> Option<&str> {
        if !self.is_projected(date) {
            return self
                .holidays
                .get(&date)
                .filter(|(_, mask)| mask & self.nations != 0)
                .map(|(title, _)| title.as_str());
        }
        let titles = rules::all().get(&date)?;
        Nation::ALL
            .into_iter()
            .zip(titles)
            .find_map(|(nation, title)| title.filter(|_| self.nations & nation.bit() != 0))
    }

    /// `NotCovered` unless the calendar counts `date`'s year.
    fn check_covered(&self, date: NaiveDate) -> Result<(), CalendarError> {
        let (first, last) = self.bounds();
        if (first..=last).contains(&date.year()) {
            Ok(())
        } else {
            Err(CalendarError::NotCovered { date, first, last })
        }
    }

    /// Whether `date` is a working day (see [`Calendar::is_projected`] for whether that
    /// comes from the table or the rules).
    pub fn is_working_day(&self, date: NaiveDate) -> Result<bool, CalendarError> {
        self.check_covered(date)?;
        if matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
            || (date.month() == 12 && date.day() == 25)
            || Some(date) == good_friday(date.year())
        {
            return Ok(false);
        }
        Ok(self.holiday(date).is_none())
    }

    /// The `n`th working day after `from`: day 1 is the first working day after `from`
    /// (so `from` itself never counts, whatever day it is). `n = 0` gives `from`.
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> Result<NaiveDate, CalendarError> {
        let mut date = from;
        let mut counted = 0;
        while counted < n {
            date = next_day(date, self)?;
            if self.is_working_day(date)? {
                counted += 1;
            }
        }
        Ok(date)
    }

    /// How many working days lie after `from` up to and including `to` (0 if `to <= from`).
    pub fn working_days_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<u32, CalendarError> {
        let mut date = from;
        let mut counted = 0;
        while date < to {
            date = next_day(date, self)?;
            if self.is_working_day(date)? {
                counted += 1;
            }
        }
        Ok(counted)
    }
}

/// The day after `date`, or `NotCovered` at the end of the calendar.
pub fn next_day(date: NaiveDate, cal: &Calendar) -> Result<NaiveDate, CalendarError> {
    let (first, last) = cal.bounds();
    date.checked_add_days(Days::new(1))
        .ok_or(CalendarError::NotCovered { date, first, last })
}

/// `date` plus `months` calendar months, clamped to the month's last day (31 January + 1
/// month is 28 or 29 February), as the civil procedure rules count months; `None` past
/// the end of the calendar.
pub fn add_months(date: NaiveDate, months: u32) -> Option<NaiveDate> {
    date.checked_add_months(Months::new(months))
}

/// Good Friday of `year` (anonymous Gregorian algorithm for Easter Sunday, minus two
/// days); `None` only for a year chrono cannot hold.
pub fn good_friday(year: i32) -> Option<NaiveDate> {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l) / 451;
    // h + l − 7m + 114 lies in 107..=149: always a day of March or April.
    let n = u32::try_from(h + l - 7 * m + 114).ok()?;
    let easter = NaiveDate::from_ymd_opt(year, n / 31, n % 31 + 1)?;
    easter.checked_sub_days(Days::new(2))
}

/// The date in the UK at an instant: British Summer Time (UTC+1) runs from 01:00 UTC on
/// the last Sunday of March to 01:00 UTC on the last Sunday of October; GMT otherwise.
/// What "the day of receipt" means for a document that arrived at that instant.
pub fn uk_local_date(at: chrono::DateTime<chrono::Utc>) -> NaiveDate {
    use chrono::{NaiveTime, TimeZone as _, Utc};
    let year = at.year();
    let last_sunday = |month: u32| {
        let first_of_next = NaiveDate::from_ymd_opt(year, month + 1, 1).expect("a real month");
        let back = (first_of_next.weekday().num_days_from_sunday() + 6) % 7 + 1;
        first_of_next - Days::new(u64::from(back))
    };
    let one_am = NaiveTime::from_hms_opt(1, 0, 0).expect("a real time");
    let starts = Utc.from_utc_datetime(&last_sunday(3).and_time(one_am));
    let ends = Utc.from_utc_datetime(&last_sunday(10).and_time(one_am));
    if at >= starts && at < ends {
        (at + chrono::Duration::hours(1)).date_naive()
    } else {
        at.date_naive()
    }
}

/// A date as UK letters write it: `5 January 2023`.
pub fn uk_date(date: NaiveDate) -> String {
    format!(
        "{} {} {}",
        date.day(),
        MONTHS[date.month0() as usize],
        date.year()
    )
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Parses `YYYY-MM-DD`, or a UK day-first `D/M/YYYY`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d/%m/%Y"))
        .ok()
        .filter(|d| (1900..=2200).contains(&d.year()))
}

impl fmt::Display for Nation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.division())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn good_friday_matches_the_table() {
        for (year, date) in [
            (2019, "2019-04-19"),
            (2024, "2024-03-29"),
            (2025, "2025-04-18"),
            (2028, "2028-04-14"),
        ] {
            assert_eq!(good_friday(year), Some(d(date)));
        }
    }

    #[test]
    fn nations_change_the_count() {
        let all = Calendar::embedded();
        let england = all.with_nations(&[Nation::EnglandAndWales]);
        // St Patrick's Day 2025 was a Monday.
        assert!(!all.is_working_day(d("2025-03-17")).unwrap());
        assert!(england.is_working_day(d("2025-03-17")).unwrap());
        assert_eq!(uk_date(d("2023-01-05")), "5 January 2023");
    }

    #[test]
    fn the_uk_day_of_an_instant() {
        let at = |s: &str| {
            chrono::DateTime::parse_from_rfc3339(s)
                .unwrap()
                .with_timezone(&chrono::Utc)
        };
        // Summer: 23:30 UTC is 00:30 the next day in London.
        assert_eq!(uk_local_date(at("2024-06-03T23:30:00Z")), d("2024-06-04"));
        // Winter: UTC is London time.
        assert_eq!(uk_local_date(at("2024-12-03T23:30:00Z")), d("2024-12-03"));
        // 2024's changes: 31 March 01:00 UTC and 27 October 01:00 UTC.
        assert_eq!(uk_local_date(at("2024-03-31T00:59:59Z")), d("2024-03-31"));
        assert_eq!(uk_local_date(at("2024-03-30T23:30:00Z")), d("2024-03-30"));
        assert_eq!(uk_local_date(at("2024-03-31T23:30:00Z")), d("2024-04-01"));
        assert_eq!(uk_local_date(at("2024-10-26T23:30:00Z")), d("2024-10-27"));
        assert_eq!(uk_local_date(at("2024-10-27T23:30:00Z")), d("2024-10-27"));
    }

    #[test]
    fn past_the_table_is_projected_by_rule() {
        let cal = Calendar::embedded();
        assert_eq!(cal.years(), (2015, 2028));
        // Wed 20 Dec 2028: 21, 22, 27, 28, 29 Dec (25, 26 table holidays) are days 1-5,
        // then 2029 by rule: 1 Jan (all) and 2 Jan (Scotland) are not counted; Wed 3 Jan
        // is day 6, Fri 12 day 13, Fri 19 day 18, and day 20 is Tue 23 Jan 2029.
        assert_eq!(
            cal.add_working_days(d("2028-12-20"), 20),
            Ok(d("2029-01-23"))
        );
        assert!(cal.is_projected(d("2029-01-23")));
        assert!(!cal.is_projected(d("2028-12-20")));
        assert!(cal.is_projected_span(d("2028-12-20"), d("2029-01-24")));
        assert!(!cal.is_projected_span(d("2028-11-01"), d("2028-12-29")));
        assert_eq!(cal.holiday(d("2029-01-02")), Some("2nd January"));
        let england = cal.with_nations(&[Nation::EnglandAndWales]);
        assert_eq!(england.holiday(d("2029-01-02")), None);
        assert_eq!(england.is_working_day(d("2029-01-02")), Ok(true));
        // 2 Jan 2033 is a Sunday: Scotland's substitute is Tue 4 Jan, England's day is not.
        let scotland = cal.with_nations(&[Nation::Scotland]);
        assert_eq!(
            scotland.holiday(d("2033-01-04")),
            Some("2nd January (substitute day)")
        );
        assert_eq!(england.holiday(d("2033-01-04")), None);
        // Before the table too.
        assert!(cal.is_projected(d("2014-12-25")));
        assert_eq!(cal.is_working_day(d("2014-12-26")), Ok(false));
    }

    #[test]
    fn outside_the_rules_years_is_refused() {
        let cal = Calendar::embedded();
        assert_eq!(cal.bounds(), (1900, 2200));
        for date in ["2201-01-03", "1899-12-29", "2201-12-25"] {
            let err = cal.is_working_day(d(date)).unwrap_err();
            assert!(matches!(err, CalendarError::NotCovered { .. }), "{err}");
        }
        // A count that would run past 2200 stops there, with the error, not a loop.
        let err = cal.add_working_days(d("2200-12-01"), u32::MAX).unwrap_err();
        assert_eq!(
            err,
            CalendarError::NotCovered {
                date: d("2201-01-01"),
                first: 1900,
                last: 2200
            }
        );
        assert_eq!(crate::ErrorCode::code(&err), crate::Code::DateOutOfRange);
        let err = cal
            .working_days_between(d("2200-12-01"), NaiveDate::MAX)
            .unwrap_err();
        assert!(matches!(err, CalendarError::NotCovered { .. }), "{err}");
        assert!(cal.is_working_day(NaiveDate::MIN).is_err());
        assert_eq!(good_friday(-4000).map(|d| d.month() >= 3), Some(true));
    }

    #[test]
    fn months_clamp_to_the_end_of_the_month() {
        assert_eq!(add_months(d("2024-10-31"), 4), Some(d("2025-02-28")));
        assert_eq!(parse_date("03/04/2023"), Some(d("2023-04-03")));
        assert_eq!(parse_date("2023-02-30"), None);
    }
}
