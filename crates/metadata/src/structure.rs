//! Layout every writer of a form shares: a column of labels followed by a column of the
//! same number of values (a claim form's boxes, a court order's heading table, a
//! notification form), read as label → value pairs.

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
pub(crate) fn grid<'a>(lines: &[&'a str]) -> Vec<(String, &'a str)> {
    let mut pairs = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if !is_label(lines[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < lines.len() && is_label(lines[i]) {
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
}
