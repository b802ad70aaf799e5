//! Text accuracy against a true text: word-level F1 (bag of words, so reading order between
//! blocks does not count) and character error rate (edit distance over whitespace-normalised
//! text). scripts/ocr_compare.py computes the same two for other engines.

use std::collections::HashMap;

/// Word-level precision, recall and F1: words are whitespace-separated tokens, compared
/// exactly (case and punctuation count), each true word matched at most once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WordScore {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

pub fn word_score(truth: &str, read: &str) -> WordScore {
    let mut want: HashMap<&str, usize> = HashMap::new();
    let mut n_truth = 0usize;
    for w in truth.split_whitespace() {
        *want.entry(w).or_default() += 1;
        n_truth += 1;
    }
    let mut n_read = 0usize;
    let mut hits = 0usize;
    for w in read.split_whitespace() {
        n_read += 1;
        if let Some(n) = want.get_mut(w).filter(|n| **n > 0) {
            *n -= 1;
            hits += 1;
        }
    }
    let precision = if n_read == 0 {
        0.0
    } else {
        hits as f64 / n_read as f64
    };
    let recall = if n_truth == 0 {
        0.0
    } else {
        hits as f64 / n_truth as f64
    };
    let f1 = if hits == 0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    WordScore {
        precision,
        recall,
        f1,
    }
}

/// Character error rate: Levenshtein distance between the two texts, each with runs of
/// whitespace made one space, over the true text's length in characters.
pub fn cer(truth: &str, read: &str) -> f64 {
    let t: Vec<char> = normalise(truth).chars().collect();
    let r: Vec<char> = normalise(read).chars().collect();
    if t.is_empty() {
        return if r.is_empty() { 0.0 } else { 1.0 };
    }
    let mut prev: Vec<usize> = (0..=r.len()).collect();
    let mut cur = vec![0usize; r.len() + 1];
    for (i, tc) in t.iter().enumerate() {
        cur[0] = i + 1;
        for (j, rc) in r.iter().enumerate() {
            let sub = prev[j] + usize::from(tc != rc);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[r.len()] as f64 / t.len() as f64
}

fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_known_pairs() {
        let s = word_score("the cat sat on the mat", "the cat sat on a mat");
        assert!((s.precision - 5.0 / 6.0).abs() < 1e-9 && (s.recall - 5.0 / 6.0).abs() < 1e-9);
        assert_eq!(word_score("a b", "").f1, 0.0);
        assert_eq!(word_score("a b", "b  a").f1, 1.0);
        assert!((cer("kitten", "sitting") - 3.0 / 6.0).abs() < 1e-9);
        assert_eq!(cer("one  two\nthree", "one two three"), 0.0);
        assert_eq!(cer("", "x"), 1.0);
    }
}
