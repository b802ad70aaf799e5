//! Which of a document's dates is its own (the date it bears) and which is the incident's
//! (the first date of the care complained of), from the dates `dates` finds.

use chrono::NaiveDate;

use crate::dates::Found;
use crate::personal;
use crate::scan::{LastByte, Lines, NextByte, WordList, Words};
use crate::structure::Layout;

/// A date read, the reading that gave it and its label or phrase.
pub(crate) type DateRead = (NaiveDate, &'static str, &'static str);

/// Labels that make the date after them the document's own.
const DATE_LABELS: &[&str] = &[
    "date:",
    "dated:",
    "dated",
    "date of report:",
    "date of report",
    "report date:",
    "date of this report",
    "printed on",
    "printed:",
    "date printed",
    "date of letter",
    "letter date",
    "issue date",
    "date of issue",
    "date issued",
    "issued on",
    "date of order",
    "printed",
    "record printed",
    "typed:",
    "typed",
    "published",
    "submitted",
    "invoice date",
];
/// Labels that make the date after them something else.
const OTHER_DATE_LABELS: &[&str] = &[
    "date of birth",
    "dob",
    "d.o.b",
    "born",
    "date of incident",
    "incident date",
    "date of death",
    "died",
    "date of admission",
    "admitted",
    "received",
    "date of index",
    "deadline",
    "by ",
    "before ",
    "on or before",
    "due",
    "hearing",
    "expires",
    "date of request",
];

/// What stands before a date on its line, as `document_date` weighs it. Costs the length
/// of the white space before the date and of a short label, never of the whole line.
struct LabelBefore<'t> {
    /// The text before the date on its line, white space trimmed, in its own case.
    trimmed: &'t str,
}

impl<'t> LabelBefore<'t> {
    fn new(text: &'t str, content_start: usize, pos: usize) -> Self {
        LabelBefore {
            trimmed: text.get(content_start..pos).unwrap_or("").trim_end(),
        }
    }

    /// The label, lower-cased, if it is at most `chars` characters long.
    fn short(&self, chars: usize) -> Option<String> {
        (self.trimmed.len() <= chars * 4 && self.trimmed.chars().count() <= chars)
            .then(|| self.trimmed.to_lowercase())
    }
}

/// Whether `rest` is only white space and full stops (`rest.trim()` is all dots), read
/// forwards only as far as it takes to tell.
fn only_dots(rest: &str) -> bool {
    let after_space = rest.trim_start();
    let after_dots = after_space.trim_start_matches('.');
    after_dots.trim_start().is_empty()
}

const WEEKDAY_WORDS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "the",
    "dated this",
    "this",
];

/// The date the document bears: a date line near the top (alone, or after "Date:"), a
/// "Dated this 5th day of ..." line, or a report's date label; else none.
pub(crate) fn document_date(
    text: &str,
    lower: &str,
    layout: &Layout,
    found: &[Found],
) -> Option<DateRead> {
    if let Some((date, label)) = boxed_date(layout, &["date of submission", "date of order"]) {
        return Some((date, "form_box", label));
    }
    let top_lines = 40;
    let top_end = memchr::memchr_iter(b'\n', text.as_bytes())
        .nth(top_lines)
        .unwrap_or(text.len());
    let mut lines = Lines::new(text);
    static OTHER_LABELS: WordList = WordList::new(OTHER_DATE_LABELS);
    static DATED_THIS: WordList = WordList::new(&["dated this"]);
    let mut other_labels = Words::new(lower, &OTHER_LABELS);
    let mut dated_this = Words::new(lower, &DATED_THIS);
    let mut candidates: Vec<(i32, DateRead)> = Vec::new();
    for f in found {
        let (line_start, line_end) = lines.at(f.start);
        if other_labels.any_within(line_start, f.start) {
            continue;
        }
        let label = LabelBefore::new(text, lines.content_start(f.start), f.start);
        // A label ends at its last letter (`Submitted │`, `Date of order -`).
        let short = label.short(24).map(|l| {
            l.trim_end_matches(|c: char| !c.is_alphanumeric())
                .to_owned()
                + if l.ends_with(':') { ":" } else { "" }
        });
        // A label counts where it opens the line ("Date: 5 March 2024"), not mid-sentence
        // ("the decision dated 5 March").
        let labelled = short.as_deref().and_then(|label| {
            DATE_LABELS.iter().copied().find(|l| {
                label.starts_with(l.trim_end())
                    || label.ends_with(l.trim_end()) && label.len() <= l.len() + 2
            })
        });
        let before_words = label.trimmed.trim_end_matches(',').trim();
        let weekday_only = before_words.is_empty()
            || before_words.len() <= 16
                && WEEKDAY_WORDS.contains(&before_words.to_lowercase().as_str());
        let alone = weekday_only
            && f.start < top_end
            && only_dots(text.get(f.end..line_end.max(f.end)).unwrap_or(""));
        let day_of = dated_this.any_within(line_start, f.start)
            || label
                .trimmed
                .get(label.trimmed.len().saturating_sub(4)..)
                .is_some_and(|end| end.eq_ignore_ascii_case("this"));
        let (score, source, phrase) = match labelled {
            Some(l) if f.start < top_end => (4, "label", l),
            _ if alone && f.start < top_end => (3, "date_line", "a date alone near the top"),
            Some(l) => (2, "label", l),
            None if day_of => (2, "label", "dated this"),
            None => (0, "", ""),
        };
        if score > 0 {
            candidates.push((score, (f.date, source, phrase)));
        }
    }
    candidates.sort_by_key(|c| std::cmp::Reverse(c.0));
    candidates.first().map(|c| c.1)
}

/// Words that put a date in the story of the care complained of.
const CARE_WORDS: &[&str] = &[
    "admitted",
    "attended",
    "presented",
    "underwent",
    "operation",
    "surgery",
    "seen by",
    "delivered",
    "delivery",
    "born",
    "referred",
    "consulted",
    "reviewed",
    "treated",
    "treatment",
    "visited",
    "999",
    "labour",
    "gave birth",
    "assessed",
    "examined",
    "procedure",
    "appointment",
    "discharged",
    "incident",
    "care",
    "emergency department",
    "a&e",
    "called",
    "clinic",
    "seen in",
    "consulted",
];
const INCIDENT_LABELS: &[&str] = &[
    "date of incident",
    "incident date",
    "date of index event",
    "date of treatment",
    "dates of treatment",
    "date of alleged negligence",
    "date of event",
    "date(s) of treatment",
    "date of negligence",
    "clinic date",
    "attendance:",
    "date of attendance",
    "date of admission",
    "admission date",
    "care complained of",
    "care in question started",
    "begun on",
];

/// A form's boxes (a column of labels, then their values) that hold the incident date.
const INCIDENT_BOXES: &[&str] = &[
    "baby's date of birth",
    "baby’s date of birth",
    "date of treatment",
    "dates of treatment",
    "date of incident",
    "incident date",
    "date of admission",
];

/// The first date of a form's box whose label is one of `labels`, and the label.
fn boxed_date(layout: &Layout, labels: &[&'static str]) -> Option<(NaiveDate, &'static str)> {
    layout
        .grid(200)
        .into_iter()
        .filter_map(|(label, value)| Some((*labels.iter().find(|l| **l == label)?, value)))
        .find_map(|(label, value)| {
            crate::dates::find_dates_bounded(value, 2)
                .0
                .first()
                .map(|f| (f.date, label))
        })
}

/// Whether the sentence around a date only tells of care no one complains of (`an
/// unremarkable annual review`), or is a date of birth (`X was born on 5 May 1960.`).
fn not_the_care_complained_of(lower: &str, f: &Found, sentence: &str) -> bool {
    let before = lower[..f.start].trim_end();
    let after = lower[f.end..].trim_start();
    let birth = (before.ends_with("born on") || before.ends_with("born"))
        && (after.starts_with(['.', ')']) || after.is_empty());
    birth
        || ["unremarkable", "uneventful", "routine review"]
            .iter()
            .any(|w| sentence.contains(w))
}

/// The first date of the care complained of, where the document states one. `lower` is
/// `text` with ASCII letters lowered (the same offsets).
pub(crate) fn incident_date(
    text: &str,
    lower: &str,
    layout: &Layout,
    found: &[Found],
    document_date: Option<NaiveDate>,
) -> Option<DateRead> {
    // A labelled incident date wins.
    if let Some((date, label)) = boxed_date(layout, INCIDENT_BOXES) {
        return Some((date, "form_box", label));
    }
    let mut lines = Lines::new(text);
    static INCIDENT: WordList = WordList::new(INCIDENT_LABELS);
    static LABELS: WordList = WordList::new(DATE_LABELS);
    static CARE: WordList = WordList::new(CARE_WORDS);
    let mut incident_labels = Words::new(lower, &INCIDENT);
    for f in found {
        let (line_start, _) = lines.at(f.start);
        if incident_labels.any_within(line_start, f.start) {
            return Some((
                f.date,
                "label",
                "incident label (Date of incident, care complained of)",
            ));
        }
    }
    // Otherwise the earliest date in a sentence about care, before the document's date.
    let mut lines = Lines::new(text);
    let mut stop_before = LastByte::new(lower, b'.', b'\n');
    let mut stop_after = NextByte::new(lower, b'.', b'\n');
    let mut newline_after = NextByte::new(lower, b'\n', b'\n');
    let mut next_line_end = NextByte::new(lower, b'\n', b'\n');
    let mut date_labels = Words::new(lower, &LABELS);
    let mut care_words = Words::new(lower, &CARE);
    let mut best: Option<NaiveDate> = None;
    for f in found {
        if personal::is_labelled_date_of_birth(text, f) {
            continue;
        }
        if document_date.is_some_and(|d| f.date >= d) {
            continue;
        }
        let (line_start, _) = lines.at(f.start);
        // A date opening a line (a diary or records entry) is about the rest of its line
        // and the line after it.
        let (sentence_start, sentence_end) = if lines.content_start(f.start) >= f.start {
            let line_end = newline_after.at_or_after(f.end).unwrap_or(lower.len());
            let end = if line_end < lower.len() {
                next_line_end
                    .at_or_after(line_end + 1)
                    .unwrap_or(lower.len())
            } else {
                lower.len()
            };
            (line_start, end)
        } else {
            let start = stop_before.before(f.start).map_or(0, |i| i + 1);
            let end = stop_after.at_or_after(f.end).unwrap_or(lower.len());
            (start, end)
        };
        if date_labels.any_within(line_start, f.start) {
            continue;
        }
        if care_words.any_within(sentence_start, sentence_end)
            && !not_the_care_complained_of(
                lower,
                f,
                // At most 300 bytes either side: a sentence without end is not read whole
                // at every date.
                lower
                    .get(
                        crate::scan::floor_boundary(
                            lower,
                            sentence_start.max(f.start.saturating_sub(300)),
                        )
                            ..crate::scan::floor_boundary(lower, sentence_end.min(f.end + 300)),
                    )
                    .unwrap_or(""),
            )
        {
            best = Some(best.map_or(f.date, |b: NaiveDate| b.min(f.date)));
        }
    }
    best.map(|d| (d, "narrative", "earliest date in a sentence about care"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dates;

    #[test]
    fn document_date_is_the_date_line_not_a_mentioned_date() {
        let text = "Smith & Co Solicitors\n1 High Street\n\n5 March 2024\n\nDear Sirs\nOur client (DOB 01/02/1980) was admitted on 3 January 2022.";
        let found = dates::find_dates(text);
        let lower = text.to_ascii_lowercase();
        assert_eq!(
            document_date(text, &lower, &Layout::new(text), &found).map(|d| d.0),
            NaiveDate::from_ymd_opt(2024, 3, 5)
        );
        assert_eq!(
            incident_date(
                text,
                &lower,
                &Layout::new(text),
                &found,
                NaiveDate::from_ymd_opt(2024, 3, 5)
            )
            .map(|d| d.0),
            NaiveDate::from_ymd_opt(2022, 1, 3)
        );
    }
}
