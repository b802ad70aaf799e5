//! Dates as UK documents write them: `5 March 2024`, `5th of March, 2024`, `March 5, 2024`,
//! `Tuesday 5 March 2024`, `the 5th day of March 2024`, `05/03/2024` (day first), `5.3.24`,
//! `2024-03-05`. Only real calendar dates are kept.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::NaiveDate;
use regex::Regex;

/// A date found in text, with its byte span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    pub date: NaiveDate,
    pub start: usize,
    pub end: usize,
}

/// Space between the parts of a written date: blanks, or one line break (a wrapped line).
// Word boundaries are ASCII ones (`(?-u:\b)`): a Unicode `\b` makes the regex engine give
// up its fast automaton at the first non-ASCII byte ('£', 'ë') and read on ten to a hundred
// times slower. Digits and month names are ASCII, so only a date glued to a non-ASCII
// letter reads differently.
const SP: &str = r"(?:[ \t]+|[ \t]*\r?\n[ \t]*)";
const MONTH: &str = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?";

fn patterns() -> &'static [(Regex, Order)] {
    static P: OnceLock<Vec<(Regex, Order)>> = OnceLock::new();
    P.get_or_init(|| {
        let build = |p: &str| Regex::new(&format!("(?i){p}")).unwrap_or_else(|e| unreachable!("constant date pattern: {e}"));
        vec![
            (build(&format!(r"(?-u:\b)(\d{{1,2}})(?:st|nd|rd|th)?{SP}day{SP}of{SP}{MONTH},?{SP}(\d{{4}})(?-u:\b)")), Order::Dmy),
            (build(&format!(r"(?-u:\b)(\d{{1,2}})(?:st|nd|rd|th)?(?:{SP}of)?(?:{SP}|-){MONTH},?(?:{SP}|-)(\d{{4}}|\d{{2}})(?-u:\b)")), Order::Dmy),
            (build(&format!(r"(?-u:\b){MONTH}{SP}(\d{{1,2}})(?:st|nd|rd|th)?,?{SP}(\d{{4}})(?-u:\b)")), Order::Mdy),
            (build(r"(?-u:\b)(\d{4})-(\d{1,2})-(\d{1,2})(?-u:\b)"), Order::IsoNumeric),
            (build(r"(?-u:\b)(\d{1,2})[ \t]*[/.\-][ \t]*(\d{1,2})[ \t]*[/.\-][ \t]*(\d{4}|\d{2})(?-u:\b)"), Order::DmyNumeric),
        ]
    })
}

#[derive(Debug, Clone, Copy)]
enum Order {
    Dmy,
    Mdy,
    DmyNumeric,
    IsoNumeric,
}

fn month_number(name: &str) -> Option<u32> {
    let n = name.to_ascii_lowercase();
    let key = n.get(..3)?;
    Some(match key {
        "jan" => 1,
        "feb" => 2,
        "mar" => 3,
        "apr" => 4,
        "may" => 5,
        "jun" => 6,
        "jul" => 7,
        "aug" => 8,
        "sep" => 9,
        "oct" => 10,
        "nov" => 11,
        "dec" => 12,
        _ => return None,
    })
}

/// Two-digit years: up to next year's are this century, the rest the last (so `58` in a
/// date of birth is 1958).
fn full_year(y: &str) -> Option<i32> {
    use chrono::Datelike as _;
    let n: i32 = y.parse().ok()?;
    let pivot = (chrono::Utc::now().year() + 1) % 100;
    Some(match y.len() {
        2 if n <= pivot => 2000 + n,
        2 => 1900 + n,
        4 => n,
        _ => return None,
    })
}

/// Every date in the text, in order, without overlaps.
pub fn find_dates(text: &str) -> Vec<Found> {
    find_dates_bounded(text, usize::MAX).0
}

/// The dates of the text as `find_dates` reads them, but no more than `max`: when there
/// are more, the dates of the text up to a point (those the unbounded search finds there)
/// and `true`. Each pattern looks at no more than a few times `max` candidates, so the
/// work is linear in the text whatever it holds.
pub fn find_dates_bounded(text: &str, max: usize) -> (Vec<Found>, bool) {
    // Accepted spans by start; they never overlap one another, so the one starting last
    // before a candidate's end is the only one that can overlap it.
    let mut spans: BTreeMap<usize, Found> = BTreeMap::new();
    // The text is read up to here: where a pattern reached its limit.
    let mut horizon = text.len();
    let mut truncated = false;
    let max_candidates = max.saturating_mul(4);
    for (re, order) in patterns() {
        let (mut accepted, mut candidates) = (0usize, 0usize);
        for caps in re.captures_iter(text) {
            let Some(m) = caps.get(0) else { continue };
            if m.start() >= horizon {
                break;
            }
            candidates += 1;
            if candidates > max_candidates {
                horizon = m.start();
                truncated = true;
                break;
            }
            if spans
                .range(..m.end())
                .next_back()
                .is_some_and(|(_, f)| m.start() < f.end)
            {
                continue;
            }
            let g = |i: usize| caps.get(i).map_or("", |c| c.as_str());
            let (y, mo, d) = match order {
                Order::Dmy => (full_year(g(3)), month_number(g(2)), g(1).parse().ok()),
                Order::Mdy => (full_year(g(3)), month_number(g(1)), g(2).parse().ok()),
                Order::DmyNumeric => (full_year(g(3)), g(2).parse().ok(), g(1).parse().ok()),
                Order::IsoNumeric => (g(1).parse().ok(), g(2).parse().ok(), g(3).parse().ok()),
            };
            if let (Some(y), Some(mo), Some(d)) = (y, mo, d)
                && (1900..=2100).contains(&y)
                && let Some(date) = NaiveDate::from_ymd_opt(y, mo, d)
            {
                // A numeric date inside a longer number or reference (`12/34/5678/90`) is not one.
                let before = text[..m.start()].chars().next_back();
                let after = text[m.end()..].chars().next();
                if matches!(order, Order::DmyNumeric | Order::IsoNumeric)
                    && (before.is_some_and(|c| c == '/' || c.is_ascii_digit())
                        || after.is_some_and(|c| c == '/' || c.is_ascii_digit()))
                {
                    continue;
                }
                spans.insert(
                    m.start(),
                    Found {
                        date,
                        start: m.start(),
                        end: m.end(),
                    },
                );
                accepted += 1;
                if accepted >= max {
                    // Later patterns read only as far as this one did.
                    horizon = horizon.min(m.end());
                    truncated = true;
                    break;
                }
            }
        }
    }
    // Every pattern read the text up to the horizon, so a date ending there is one the
    // unbounded search finds too.
    let mut found: Vec<Found> = spans.into_values().filter(|f| f.end <= horizon).collect();
    if found.len() > max {
        found.truncate(max);
        truncated = true;
    }
    (found, truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn reads_every_common_form() {
        let cases = [
            ("5 March 2024", d(2024, 3, 5)),
            ("5th March 2024", d(2024, 3, 5)),
            ("5th of March, 2024", d(2024, 3, 5)),
            ("Tuesday, 5 March 2024", d(2024, 3, 5)),
            ("March 5, 2024", d(2024, 3, 5)),
            ("March 5th 2024", d(2024, 3, 5)),
            ("5 Mar 2024", d(2024, 3, 5)),
            ("5-Mar-24", d(2024, 3, 5)),
            ("the 5th day of March 2024", d(2024, 3, 5)),
            ("05/03/2024", d(2024, 3, 5)),
            ("5/3/24", d(2024, 3, 5)),
            ("05.03.2024", d(2024, 3, 5)),
            ("05-03-2024", d(2024, 3, 5)),
            ("2024-03-05", d(2024, 3, 5)),
            ("DOB 14/11/58", d(1958, 11, 14)),
        ];
        for (text, want) in cases {
            let found = find_dates(text);
            assert_eq!(found.len(), 1, "{text}: {found:?}");
            assert_eq!(found[0].date, want, "{text}");
        }
    }

    #[test]
    fn day_first_and_real_dates_only() {
        assert_eq!(find_dates("03/04/2023")[0].date, d(2023, 4, 3));
        assert!(find_dates("31/02/2023").is_empty());
        assert!(find_dates("13/13/2023").is_empty());
        assert!(find_dates("CNST/24/004512").is_empty());
        assert!(find_dates("ref 12/05/2023/77").is_empty());
        let two = find_dates("from 1 May 2022 to 03/06/2022");
        assert_eq!(
            two.iter().map(|f| f.date).collect::<Vec<_>>(),
            [d(2022, 5, 1), d(2022, 6, 3)]
        );
    }

    #[test]
    fn a_bounded_search_keeps_a_prefix_of_the_dates() {
        let text = "5 March 2024 01/02/2023 2024-01-31 ".repeat(10);
        let all = find_dates(&text);
        assert_eq!(all.len(), 30);
        for max in [1, 2, 7, 29] {
            let (some, truncated) = find_dates_bounded(&text, max);
            assert!(truncated && some.len() <= max && !some.is_empty(), "{max}");
            assert_eq!(some[..], all[..some.len()], "{max}");
        }
        assert_eq!(find_dates_bounded(&text, 30), (all, false));
    }
}
