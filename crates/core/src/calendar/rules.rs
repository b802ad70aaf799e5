//! The UK bank holidays that follow a rule, computed for any year the calendar counts:
//! the base set each nation would have without a proclamation, substitute days included.
//! The shipped table is authoritative for its own years (it adds one-off days and moves
//! some); these rules give every year outside it.
//!
//! The rules are today's (the Banking and Financial Dealings Act 1971 as amended, the
//! annual proclamations' pattern since 1978, the St Andrew's Day Bank Holiday (Scotland)
//! Act 2007). Years before the table are projected with the same rules, which is not how
//! holidays fell before 2007: load a longer table to count working days then.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;
use std::sync::OnceLock;

use chrono::{Datelike, Days, NaiveDate, Weekday};

use super::Nation;

/// The years for which holidays are computed by rule; outside them (and outside the
/// table) the calendar refuses to count, so no date can make it loop for ever.
pub const YEARS: RangeInclusive<i32> = 1900..=2200;

/// A bank holiday that follows a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// 1 January.
    NewYear,
    /// 2 January (Scotland).
    SecondJanuary,
    /// 17 March (Northern Ireland).
    StPatrick,
    /// Easter Sunday − 2 days.
    GoodFriday,
    /// Easter Sunday + 1 day (not Scotland).
    EasterMonday,
    /// The first Monday of May.
    EarlyMay,
    /// The last Monday of May.
    Spring,
    /// The first Monday of August in Scotland, the last elsewhere.
    Summer,
    /// 12 July (Northern Ireland).
    Boyne,
    /// 30 November (Scotland).
    StAndrew,
    /// 25 December.
    Christmas,
    /// 26 December.
    BoxingDay,
}

impl Rule {
    pub const ALL: [Rule; 12] = [
        Rule::NewYear,
        Rule::SecondJanuary,
        Rule::StPatrick,
        Rule::GoodFriday,
        Rule::EasterMonday,
        Rule::EarlyMay,
        Rule::Spring,
        Rule::Summer,
        Rule::Boyne,
        Rule::StAndrew,
        Rule::Christmas,
        Rule::BoxingDay,
    ];

    /// The holiday's name (as GOV.UK writes it).
    pub fn title(self) -> &'static str {
        match self {
            Rule::NewYear => "New Year’s Day",
            Rule::SecondJanuary => "2nd January",
            Rule::StPatrick => "St Patrick’s Day",
            Rule::GoodFriday => "Good Friday",
            Rule::EasterMonday => "Easter Monday",
            Rule::EarlyMay => "Early May bank holiday",
            Rule::Spring => "Spring bank holiday",
            Rule::Summer => "Summer bank holiday",
            Rule::Boyne => "Battle of the Boyne (Orangemen’s Day)",
            Rule::StAndrew => "St Andrew’s Day",
            Rule::Christmas => "Christmas Day",
            Rule::BoxingDay => "Boxing Day",
        }
    }

    /// The name of the weekday observed in its place when it falls on a weekend.
    pub fn substitute_title(self) -> &'static str {
        match self {
            Rule::NewYear => "New Year’s Day (substitute day)",
            Rule::SecondJanuary => "2nd January (substitute day)",
            Rule::StPatrick => "St Patrick’s Day (substitute day)",
            Rule::Boyne => "Battle of the Boyne (Orangemen’s Day) (substitute day)",
            Rule::StAndrew => "St Andrew’s Day (substitute day)",
            Rule::Christmas => "Christmas Day (substitute day)",
            Rule::BoxingDay => "Boxing Day (substitute day)",
            // These always fall on a weekday.
            Rule::GoodFriday
            | Rule::EasterMonday
            | Rule::EarlyMay
            | Rule::Spring
            | Rule::Summer => self.title(),
        }
    }

    /// Whether `nation` has this holiday.
    pub fn observed_in(self, nation: Nation) -> bool {
        match self {
            Rule::SecondJanuary | Rule::StAndrew => nation == Nation::Scotland,
            Rule::StPatrick | Rule::Boyne => nation == Nation::NorthernIreland,
            Rule::EasterMonday => nation != Nation::Scotland,
            Rule::NewYear
            | Rule::GoodFriday
            | Rule::EarlyMay
            | Rule::Spring
            | Rule::Summer
            | Rule::Christmas
            | Rule::BoxingDay => true,
        }
    }

    /// The day the rule names in `year` for `nation`, before any substitution (it may be
    /// a Saturday or Sunday for the fixed dates).
    pub fn nominal(self, year: i32, nation: Nation) -> Option<NaiveDate> {
        let ymd = |m, d| NaiveDate::from_ymd_opt(year, m, d);
        match self {
            Rule::NewYear => ymd(1, 1),
            Rule::SecondJanuary => ymd(1, 2),
            Rule::StPatrick => ymd(3, 17),
            Rule::GoodFriday => super::good_friday(year),
            Rule::EasterMonday => super::good_friday(year)?.checked_add_days(Days::new(3)),
            Rule::EarlyMay => first_monday(year, 5),
            Rule::Spring => last_monday(year, 5),
            Rule::Summer if nation == Nation::Scotland => first_monday(year, 8),
            Rule::Summer => last_monday(year, 8),
            Rule::Boyne => ymd(7, 12),
            Rule::StAndrew => ymd(11, 30),
            Rule::Christmas => ymd(12, 25),
            Rule::BoxingDay => ymd(12, 26),
        }
    }
}

/// A bank holiday worked out by rule: the day observed, and whether it is the substitute
/// for a day that fell on a weekend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleHoliday {
    pub date: NaiveDate,
    pub rule: Rule,
    pub substitute: bool,
}

impl RuleHoliday {
    pub fn title(&self) -> &'static str {
        if self.substitute {
            self.rule.substitute_title()
        } else {
            self.rule.title()
        }
    }
}

/// The bank holidays `nation` observes in `year` by rule, by date; none outside [`YEARS`].
///
/// A holiday on a Saturday or Sunday is observed on the next weekday that is not already
/// a holiday, taking the weekend holidays in date order: so Christmas on a Saturday and
/// Boxing Day on the Sunday give Monday 27 and Tuesday 28 December; Christmas on a Sunday
/// gives Boxing Day on Monday 26 and Christmas's substitute on Tuesday 27; in Scotland a
/// Saturday 1 January and Sunday 2 January give Monday 3 and Tuesday 4 January; and
/// St Andrew's Day on a Saturday or Sunday moves to the Monday after (the 2007 Act's
/// rule, which this one gives as nothing else falls then).
pub fn holidays(year: i32, nation: Nation) -> Vec<RuleHoliday> {
    if !YEARS.contains(&year) {
        return Vec::new();
    }
    let mut nominal: Vec<(NaiveDate, Rule)> = Rule::ALL
        .into_iter()
        .filter(|r| r.observed_in(nation))
        .filter_map(|r| r.nominal(year, nation).map(|d| (d, r)))
        .collect();
    nominal.sort();
    let mut taken: BTreeSet<NaiveDate> = nominal
        .iter()
        .map(|(d, _)| *d)
        .filter(|d| !is_weekend(*d))
        .collect();
    let mut observed = Vec::with_capacity(nominal.len());
    for (date, rule) in nominal {
        if !is_weekend(date) {
            observed.push(RuleHoliday {
                date,
                rule,
                substitute: false,
            });
            continue;
        }
        let substitute = date
            .iter_days()
            .skip(1)
            .take(7)
            .find(|d| !is_weekend(*d) && !taken.contains(d));
        if let Some(day) = substitute {
            taken.insert(day);
            observed.push(RuleHoliday {
                date: day,
                rule,
                substitute: true,
            });
        }
    }
    observed.sort_by_key(|h| h.date);
    observed
}

/// The rule holidays of every year in [`YEARS`]: for each date, its name in each nation
/// that observes it (indexed as [`Nation::ALL`]). Worked out once.
pub(super) fn all() -> &'static BTreeMap<NaiveDate, [Option<&'static str>; 3]> {
    static ALL: OnceLock<BTreeMap<NaiveDate, [Option<&'static str>; 3]>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut map: BTreeMap<NaiveDate, [Option<&'static str>; 3]> = BTreeMap::new();
        for year in YEARS {
            for (i, nation) in Nation::ALL.into_iter().enumerate() {
                for h in holidays(year, nation) {
                    map.entry(h.date).or_default()[i] = Some(h.title());
                }
            }
        }
        map
    })
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The first Monday of `month` in `year`.
fn first_monday(year: i32, month: u32) -> Option<NaiveDate> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let ahead = (7 - first.weekday().num_days_from_monday()) % 7;
    first.checked_add_days(Days::new(u64::from(ahead)))
}

/// The last Monday of `month` in `year`.
fn last_monday(year: i32, month: u32) -> Option<NaiveDate> {
    let first_of_next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    let last = first_of_next.pred_opt()?;
    let back = last.weekday().num_days_from_monday();
    last.checked_sub_days(Days::new(u64::from(back)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn mondays_of_a_month() {
        // May 2032 begins on a Saturday and ends on a Monday.
        assert_eq!(first_monday(2032, 5), Some(d("2032-05-03")));
        assert_eq!(last_monday(2032, 5), Some(d("2032-05-31")));
        // August 2033 begins on a Monday and ends on a Wednesday.
        assert_eq!(first_monday(2033, 8), Some(d("2033-08-01")));
        assert_eq!(last_monday(2033, 8), Some(d("2033-08-29")));
        assert_eq!(last_monday(2030, 12), Some(d("2030-12-30")));
    }

    #[test]
    fn nothing_is_computed_outside_the_years() {
        assert!(holidays(1899, Nation::Scotland).is_empty());
        assert!(holidays(2201, Nation::EnglandAndWales).is_empty());
        assert!(!holidays(2200, Nation::NorthernIreland).is_empty());
    }

    #[test]
    fn substitutes_are_named_as_such() {
        // 2033: Christmas is a Sunday; Boxing Day (Monday 26) stands, Christmas moves to 27.
        let titles: Vec<(NaiveDate, &str)> = holidays(2033, Nation::EnglandAndWales)
            .iter()
            .filter(|h| h.date.month() == 12)
            .map(|h| (h.date, h.title()))
            .collect();
        assert_eq!(
            titles,
            [
                (d("2033-12-26"), "Boxing Day"),
                (d("2033-12-27"), "Christmas Day (substitute day)")
            ]
        );
    }
}
