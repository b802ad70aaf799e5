//! Counts of personal data (never the values): NHS numbers that pass the modulus 11 check,
//! dates of birth, UK postcodes, email addresses and UK phone numbers. Each distinct value
//! counts once.

use std::collections::HashSet;
use std::sync::OnceLock;

use regex::Regex;

use super::dates::Found;

/// How much personal data a document holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PersonalData {
    pub nhs_numbers: u32,
    pub dates_of_birth: u32,
    pub postcodes: u32,
    pub emails: u32,
    pub phone_numbers: u32,
}

/// Word boundaries in these patterns are ASCII ones (`(?-u:\b)`), which keep the regex
/// engine's fast automaton on text with non-ASCII letters.
fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| {
        Regex::new(pattern).unwrap_or_else(|e| unreachable!("constant pattern: {e}"))
    })
}

/// The NHS number check: weights 10..2 on the first nine digits, 11 minus the sum modulo 11
/// is the tenth (11 means 0; 10 means the number is invalid).
pub fn nhs_number_valid(digits: &[u8; 10]) -> bool {
    let sum: u32 = digits[..9]
        .iter()
        .enumerate()
        .map(|(i, d)| u32::from(*d) * (10 - i as u32))
        .sum();
    let check = 11 - (sum % 11);
    let check = if check == 11 { 0 } else { check };
    check != 10 && check == u32::from(digits[9])
}

/// Labels that make the date after them a date of birth.
const DOB_LABELS: &[&str] = &[
    "date of birth",
    "d.o.b",
    "dob",
    "born on",
    "born",
    "birth date",
    "d/o/b",
];

/// The labels of a record's date-of-birth field (not "born on" in a story of a birth).
const DOB_FIELD_LABELS: &[&str] = &["date of birth", "d.o.b", "dob", "birth date", "d/o/b"];

/// Whether the date at `found` is a date of birth: labelled so, or a birth told in prose.
pub fn is_date_of_birth(text: &str, found: &Found) -> bool {
    labelled_with(text, found, DOB_LABELS)
}

/// Whether the date at `found` is a date-of-birth field ("DOB: ..."), which is never the
/// date of an incident (a birth told in prose may be).
pub fn is_labelled_date_of_birth(text: &str, found: &Found) -> bool {
    labelled_with(text, found, DOB_FIELD_LABELS)
}

/// Whether one of `labels` stands right before the date (within its line, and at most 40
/// bytes before it: only those bytes are read).
fn labelled_with(text: &str, found: &Found, labels: &[&str]) -> bool {
    let window_start = found.start.saturating_sub(40);
    let line_start = memchr::memrchr(b'\n', &text.as_bytes()[window_start..found.start])
        .map_or(window_start, |i| window_start + i + 1);
    let mut start = line_start;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    // The lower-cased window is searched and sliced by its own offsets only.
    let before = text[start..found.start].to_lowercase();
    // The label must stand right before the date: only spaces and punctuation between.
    labels.iter().any(|l| {
        before.rfind(l).is_some_and(|i| {
            before[i + l.len()..]
                .chars()
                .all(|c| c.is_whitespace() || matches!(c, ':' | '-' | '(' | ')' | '.' | ','))
                || before[i + l.len()..].trim() == "on"
        })
    })
}

/// The most distinct values of one kind counted; a document with more is adversarial.
pub const MAX_DISTINCT: usize = 100_000;

pub fn count(text: &str, dates: &[Found]) -> PersonalData {
    count_bounded(text, dates).0
}

/// Adds each value to `set` until it holds `MAX_DISTINCT`; whether values were left out.
fn collect_bounded<T: std::hash::Hash + Eq>(
    set: &mut HashSet<T>,
    values: impl Iterator<Item = T>,
) -> bool {
    for v in values {
        if set.len() >= MAX_DISTINCT && !set.contains(&v) {
            return true;
        }
        set.insert(v);
    }
    false
}

/// The counts, with at most `MAX_DISTINCT` values of each kind, and whether there were
/// more.
pub fn count_bounded(text: &str, dates: &[Found]) -> (PersonalData, bool) {
    static NHS: OnceLock<Regex> = OnceLock::new();
    static POSTCODE: OnceLock<Regex> = OnceLock::new();
    static EMAIL: OnceLock<Regex> = OnceLock::new();
    static PHONE: OnceLock<Regex> = OnceLock::new();

    let mut truncated = false;
    let mut nhs = HashSet::new();
    truncated |= collect_bounded(
        &mut nhs,
        re(&NHS, r"(?-u:\b)\d{3}[ -]?\d{3}[ -]?\d{4}(?-u:\b)")
            .find_iter(text)
            .filter_map(|m| {
                let digits: Vec<u8> = m
                    .as_str()
                    .bytes()
                    .filter(u8::is_ascii_digit)
                    .map(|b| b - b'0')
                    .collect();
                <[u8; 10]>::try_from(digits.as_slice())
                    .ok()
                    .filter(nhs_number_valid)
            }),
    );
    // The dates are bounded already (`MAX_DATES`).
    let dobs: HashSet<_> = dates
        .iter()
        .filter(|f| is_date_of_birth(text, f))
        .map(|f| f.date)
        .collect();
    let mut postcodes = HashSet::new();
    truncated |= collect_bounded(
        &mut postcodes,
        re(
            &POSTCODE,
            r"(?-u:\b)(GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})(?-u:\b)",
        )
        .find_iter(text)
        .map(|m| m.as_str().replace(' ', "")),
    );
    let mut emails = HashSet::new();
    truncated |= collect_bounded(
        &mut emails,
        re(
            &EMAIL,
            r"(?i)(?-u:\b)[a-z0-9._%+'-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?-u:\b)",
        )
        .find_iter(text)
        .map(|m| m.as_str().to_lowercase()),
    );
    let mut phones = HashSet::new();
    truncated |= collect_bounded(
        &mut phones,
        re(
            &PHONE,
            r"(?:\+44\s?\(0\)\s?|\+44\s?|(?-u:\b)0)\d[\d \-]{8,12}\d(?-u:\b)",
        )
        .find_iter(text)
        .filter_map(|m| {
            let mut digits: String = m.as_str().chars().filter(char::is_ascii_digit).collect();
            if let Some(rest) = digits.strip_prefix("440") {
                digits = format!("0{rest}");
            } else if let Some(rest) = digits.strip_prefix("44") {
                digits = format!("0{rest}");
            }
            (digits.len() == 11 && digits.starts_with('0')).then_some(digits)
        }),
    );
    let n = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
    let counts = PersonalData {
        nhs_numbers: n(nhs.len()),
        dates_of_birth: n(dobs.len()),
        postcodes: n(postcodes.len()),
        emails: n(emails.len()),
        phone_numbers: n(phones.len()),
    };
    (counts, truncated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dates::find_dates;

    #[test]
    fn nhs_numbers_need_the_check_digit() {
        // 943 476 5919 is the NHS's published example; 999 numbers are for testing.
        assert!(nhs_number_valid(&[9, 4, 3, 4, 7, 6, 5, 9, 1, 9]));
        assert!(!nhs_number_valid(&[9, 4, 3, 4, 7, 6, 5, 9, 1, 8]));
        let text = "NHS No: 999 000 0018, again 9990000018; bad 999 000 0019";
        assert_eq!(count(text, &[]).nhs_numbers, 1);
    }

    #[test]
    fn counts_each_kind_once_per_value() {
        let text = "Mrs Zoë Example (DOB 14/11/1958), 1 Test Street, Northtown NT1 1AA.\n\
                    Email zoe@example.org or ZOE@example.org; tel 01632 960 123 or +44 (0)1632 960123; mobile 07700 900123.\n\
                    Letter dated 05/03/2024 about care on 12 March 2022. Postcode again: NT11AA.";
        let dates = find_dates(text);
        let pd = count(text, &dates);
        assert_eq!(pd.dates_of_birth, 1);
        assert_eq!(pd.postcodes, 1);
        assert_eq!(pd.emails, 1);
        assert_eq!(pd.phone_numbers, 2);
        assert_eq!(pd.nhs_numbers, 0);
    }
}
