//! Cursors over a text for questions asked at positions that only move forward (the line
//! around each date, the last full stop before it, whether a label stands before it on
//! its line). Each answers in time linear in the text overall; asking afresh at each of
//! a million dates on one long line would be quadratic.

use std::sync::OnceLock;

use memchr::memmem::Finder;

/// The largest index at most `i` that is a character boundary of `s`.
pub(crate) fn floor_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The line holding each position: its start, its end (the `\n`, or the end of the text),
/// and where its text begins after leading white space.
#[derive(Debug)]
pub(crate) struct Lines<'a> {
    text: &'a str,
    start: usize,
    end: usize,
    content: Option<usize>,
    known: bool,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Lines {
            text,
            start: 0,
            end: 0,
            content: None,
            known: false,
        }
    }

    /// The start and end of the line holding `pos`.
    pub(crate) fn at(&mut self, pos: usize) -> (usize, usize) {
        let bytes = self.text.as_bytes();
        let pos = pos.min(bytes.len());
        if !self.known || pos < self.start || pos > self.end {
            // Forward from the line before (linear overall); from the top if asked about
            // an earlier line.
            let from = if self.known && pos > self.end {
                self.end
            } else {
                0
            };
            self.start = memchr::memrchr(b'\n', &bytes[from..pos]).map_or(from, |i| from + i + 1);
            self.end = memchr::memchr(b'\n', &bytes[pos..]).map_or(bytes.len(), |i| pos + i);
            self.content = None;
            self.known = true;
        }
        (self.start, self.end)
    }

    /// Where the text of the line holding `pos` begins: after its leading white space (its
    /// end if it is blank).
    pub(crate) fn content_start(&mut self, pos: usize) -> usize {
        let (start, end) = self.at(pos);
        let text = self.text;
        *self.content.get_or_insert_with(|| {
            text[start..end]
                .find(|c: char| !c.is_whitespace())
                .map_or(end, |i| start + i)
        })
    }
}

/// The first of one or two bytes at or after each position.
#[derive(Debug)]
pub(crate) struct NextByte<'a> {
    text: &'a [u8],
    bytes: (u8, u8),
    from: usize,
    found: Option<usize>,
    known: bool,
}

impl<'a> NextByte<'a> {
    pub(crate) fn new(text: &'a str, a: u8, b: u8) -> Self {
        NextByte {
            text: text.as_bytes(),
            bytes: (a, b),
            from: 0,
            found: None,
            known: false,
        }
    }

    pub(crate) fn at_or_after(&mut self, pos: usize) -> Option<usize> {
        let pos = pos.min(self.text.len());
        let cached = self.known && self.from <= pos && self.found.is_none_or(|f| f >= pos);
        if !cached {
            self.from = pos;
            self.found =
                memchr::memchr2(self.bytes.0, self.bytes.1, &self.text[pos..]).map(|i| pos + i);
            self.known = true;
        }
        self.found
    }
}

/// The last of two bytes before each position.
#[derive(Debug)]
pub(crate) struct LastByte<'a> {
    text: &'a [u8],
    bytes: (u8, u8),
    scanned: usize,
    last: Option<usize>,
}

impl<'a> LastByte<'a> {
    pub(crate) fn new(text: &'a str, a: u8, b: u8) -> Self {
        LastByte {
            text: text.as_bytes(),
            bytes: (a, b),
            scanned: 0,
            last: None,
        }
    }

    pub(crate) fn before(&mut self, pos: usize) -> Option<usize> {
        let pos = pos.min(self.text.len());
        if pos < self.scanned {
            self.scanned = 0;
            self.last = None;
        }
        if let Some(i) = memchr::memrchr2(self.bytes.0, self.bytes.1, &self.text[self.scanned..pos])
        {
            self.last = Some(self.scanned + i);
        }
        self.scanned = pos;
        self.last
    }
}

/// A constant list of words with their searchers, built on first use and kept: building a
/// searcher costs more than running it over a letter.
pub(crate) struct WordList {
    words: &'static [&'static str],
    finders: OnceLock<Vec<(Finder<'static>, usize)>>,
}

impl WordList {
    pub(crate) const fn new(words: &'static [&'static str]) -> Self {
        WordList {
            words,
            finders: OnceLock::new(),
        }
    }

    fn finders(&self) -> &[(Finder<'static>, usize)] {
        self.finders.get_or_init(|| {
            self.words
                .iter()
                .map(|w| (Finder::new(w.as_bytes()).into_owned(), w.len()))
                .collect()
        })
    }
}

impl std::fmt::Debug for WordList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WordList")
            .field("words", &self.words)
            .finish_non_exhaustive()
    }
}

/// Whether any of some words occurs wholly inside a span of a (lower-cased) text, for
/// spans whose starts do not move back: each word's next occurrence is found once and
/// kept until the spans pass it.
pub(crate) struct Words<'a> {
    text: &'a [u8],
    words: &'a [(Finder<'static>, usize)],
    /// Per word: the position searched from, and the first occurrence at or after it.
    next: Vec<Option<(usize, Option<usize>)>>,
}

impl std::fmt::Debug for Words<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Words")
            .field("words", &self.words.len())
            .finish_non_exhaustive()
    }
}

impl<'a> Words<'a> {
    pub(crate) fn new(text: &'a str, words: &'a WordList) -> Self {
        let words = words.finders();
        Words {
            text: text.as_bytes(),
            words,
            next: vec![None; words.len()],
        }
    }

    /// Whether a word starts at or after `start` and ends at or before `end`.
    pub(crate) fn any_within(&mut self, start: usize, end: usize) -> bool {
        let start = start.min(self.text.len());
        if start >= end {
            return false;
        }
        for ((finder, len), next) in self.words.iter().zip(self.next.iter_mut()) {
            let occurrence = match *next {
                Some((from, found)) if from <= start && found.is_none_or(|f| f >= start) => found,
                _ => {
                    let found = finder.find(&self.text[start..]).map(|i| start + i);
                    *next = Some((start, found));
                    found
                }
            };
            if occurrence.is_some_and(|o| o + len <= end) {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_match_a_fresh_search() {
        let text = "ab\n\n  cd ef\ngh";
        let mut lines = Lines::new(text);
        for pos in 0..=text.len() {
            let start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
            let end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
            assert_eq!(lines.at(pos), (start, end), "{pos}");
        }
        assert_eq!(lines.content_start(7), 6);
        assert_eq!(lines.at(1), (0, 2));
    }

    #[test]
    fn bytes_before_and_after() {
        let text = "a. b\nc d.";
        let mut next = NextByte::new(text, b'.', b'\n');
        let mut last = LastByte::new(text, b'.', b'\n');
        for pos in 0..=text.len() {
            assert_eq!(
                next.at_or_after(pos),
                text[pos..].find(['.', '\n']).map(|i| pos + i)
            );
            assert_eq!(last.before(pos), text[..pos].rfind(['.', '\n']));
        }
    }

    #[test]
    fn words_within_spans() {
        let text = "born on 1 may; admitted by then";
        let list = WordList::new(&["admitted", "born"]);
        let mut words = Words::new(text, &list);
        assert!(words.any_within(0, 4));
        assert!(!words.any_within(1, 20));
        assert!(words.any_within(1, 23));
        assert!(!words.any_within(16, 40));
    }
}
