//! Layout every writer of a form shares: a column of labels followed by a column of the
//! same number of values (a claim form's boxes, a court order's heading table, a
//! notification form), read as label → value pairs.

use std::cell::{OnceCell, RefCell};

/// Words that make a short line a form's label.
const LABEL_WORDS: &[&str] = &[
    "name",
    "date",
    "birth",
    "claimant",
    "claimant's",
    "defendant",
    "defendant's",
    "ref",
    "reference",
    "number",
    "site",
    "member",
    "criteria",
    "submission",
    "client",
    "patient",
    "treatment",
    "dob",
    "claim",
    "mother's",
    "deceased",
];

/// Whether a line is a form's label: short, without digits or a colon, holding a label
/// word (or `In the`, a court form's first box).
fn is_label(line: &str) -> bool {
    if line.len() > 40 || line.bytes().any(|b| b.is_ascii_digit() || b == b':') {
        return false;
    }
    if line.is_ascii() {
        // The same test without allocating: lower-cased in place, and no `’` to spell out.
        let mut buf = [0u8; 40];
        let lower = &mut buf[..line.len()];
        lower.copy_from_slice(line.as_bytes());
        lower.make_ascii_lowercase();
        return lower == b"in the"
            || lower
                .split(|b| !(b.is_ascii_alphanumeric() || *b == b'\''))
                .any(|w| LABEL_WORDS.iter().any(|l| l.as_bytes() == w));
    }
    let lower = line.to_lowercase();
    lower == "in the"
        || lower
            .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
            .any(|w| LABEL_WORDS.contains(&w.replace('’', "'").as_str()))
}

/// The label → value pairs of the columns of labels in `lines` (labels lower-cased).
/// A column is three or more labels in a row, followed by as many values.
#[cfg(test)]
pub(crate) fn grid<'a>(lines: &[&'a str]) -> Vec<(String, &'a str)> {
    grid_of(lines, |i| is_label(lines[i]))
}

/// `grid`, with whether each line is a label told by `label` (by the line's index).
fn grid_of<'a>(lines: &[&'a str], label: impl Fn(usize) -> bool) -> Vec<(String, &'a str)> {
    let mut pairs = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if !label(i) {
            i += 1;
            continue;
        }
        let start = i;
        while i < lines.len() && label(i) {
            i += 1;
        }
        let n = i - start;
        if n >= 3 && i + n <= lines.len() {
            for k in 0..n {
                pairs.push((lines[start + k].to_lowercase(), lines[i + k]));
            }
            i += n;
        }
    }
    pairs
}

/// The most lines of a text its `Layout` holds.
pub(crate) const LAYOUT_LINES: usize = 400;

/// A text's first lines as its structure is read (each trimmed, blank ones left out, at
/// most `LAYOUT_LINES`), and which of them are a form's labels: found once for the
/// readers of a document's dates and of its parties, not once by each.
#[derive(Debug)]
pub(crate) struct Layout<'t> {
    text: &'t str,
    lines: OnceCell<Vec<&'t str>>,
    /// Whether each line is a label, for as many lines as asked about so far.
    labels: RefCell<Vec<bool>>,
}

impl<'t> Layout<'t> {
    pub(crate) fn new(text: &'t str) -> Self {
        Layout {
            text,
            lines: OnceCell::new(),
            labels: RefCell::new(Vec::new()),
        }
    }

    /// The first `limit` lines (at most `LAYOUT_LINES`): `text.lines()`, trimmed, blank
    /// ones left out.
    pub(crate) fn lines(&self, limit: usize) -> &[&'t str] {
        debug_assert!(limit <= LAYOUT_LINES);
        let lines = self.lines.get_or_init(|| {
            self.text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .take(LAYOUT_LINES)
                .collect()
        });
        &lines[..limit.min(lines.len())]
    }

    /// `grid` of the first `limit` lines.
    pub(crate) fn grid(&self, limit: usize) -> Vec<(String, &'t str)> {
        let lines = self.lines(limit);
        let mut labels = self.labels.borrow_mut();
        for line in &lines[labels.len().min(lines.len())..] {
            labels.push(is_label(line));
        }
        grid_of(lines, |i| labels[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_of_labels_pairs_with_the_values_after_it() {
        let lines = [
            "Order",
            "In the",
            "Claim Number",
            "Claimant",
            "Defendant",
            "County Court at Marlbury",
            "F76MV405",
            "Amara Osei",
            "Calderbrook NHS Trust",
            "Before the judge",
        ];
        let pairs = grid(&lines);
        assert_eq!(pairs.len(), 4);
        assert_eq!(pairs[2], ("claimant".to_owned(), "Amara Osei"));
    }

    #[test]
    fn a_layout_reads_as_its_lines_do() {
        let text = "Order\n\n  In the \nClaim Number\nClaimant\nDefendant\nCounty Court\nF76MV405\n\
            Amara Osei\nCalderbrook NHS Trust\nBefore the judge\n";
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let layout = Layout::new(text);
        for limit in [0, 3, 5, 8, 9, 200, LAYOUT_LINES, 7, 2] {
            let n = limit.min(lines.len());
            assert_eq!(layout.lines(limit), &lines[..n]);
            assert_eq!(layout.grid(limit), grid(&lines[..n]), "{limit}");
        }
    }
}
