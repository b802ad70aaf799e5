//! Rebuilds reading order from positioned glyphs, the way pdftotext's default mode does:
//!
//! 1. glyphs sharing a baseline form a line, sorted left to right; a line of smaller or
//!    shorter text within half a font size of a line it sits beside (superscripts,
//!    subscripts, footnote marks) joins it;
//! 2. a gap wider than a tenth of the font size (poppler's rule) or a space glyph starts
//!    a new word; a gap wider than [`COLUMN_GAP`] font sizes splits the line into
//!    segments (columns, table cells), unless a word of the line above or below spans
//!    it (a wide sentence space in a paragraph);
//! 3. segments chain into blocks when one sits just below another and overlaps it
//!    horizontally; blocks are read column by column, top to bottom, and chain into
//!    flows as poppler's do;
//! 4. a line ending in a hyphenated word joins the next line of its block, or the first
//!    line of the next block of its flow.
//!
//! Glyphs drawn twice at the same place (fake bold) are kept once.

use super::interp::PageGlyphs;

/// poppler's `minWordBreakSpace`: a gap over this fraction of the word's font size ends it.
const MIN_WORD_BREAK_SPACE: f32 = 0.1;
/// poppler's `minDupBreakOverlap`: an overlap beyond this fraction also ends a word.
const MIN_DUP_BREAK_OVERLAP: f32 = 0.2;
/// poppler's `dupMaxPriDelta`/`dupMaxSecDelta`: a glyph this close to the last one
/// overlaps it.
const DUP_MAX_PRI_DELTA: f32 = 0.1;
const DUP_MAX_SEC_DELTA: f32 = 0.2;
/// poppler's `maxCharSpacing`, `maxWideCharSpacingMul`, `maxWideCharSpacing`: where
/// words of a line are joined without a space.
const MAX_CHAR_SPACING: f32 = 0.03;
const WIDE_CHAR_SPACING_MUL: f32 = 1.3;
const MAX_WIDE_CHAR_SPACING: f32 = 0.4;
/// A short line joins a line beside it whose baseline is within this fraction of that
/// line's font size (poppler's `maxIntraLineDelta`).
const SAME_LINE: f32 = 0.5;
/// Words whose baselines differ by less than this fraction are on the same baseline,
/// wherever they are across the page.
const SAME_BASELINE: f32 = 0.2;
/// A line joins a line of text at most this many times larger.
const MAX_HOST_SIZE: f32 = 2.5;
/// Lines of more words than this do not join another (and the search stays bounded).
const MAX_JOINING_WORDS: usize = 64;
/// How many lines either side are looked at for a line to join.
const NEAR_LINES: usize = 8;
/// A gap of this many font sizes splits a line into separate segments (poppler builds
/// its blocks with `minColSpacing1`, 0.3, against whole blocks rather than lines; 0.9
/// is what matches its columns best on the corpus, and [`MAX_BRIDGED_GAP`] keeps wide
/// sentence spaces together).
const COLUMN_GAP: f32 = 0.9;
/// Gaps up to this many font sizes can be bridged by the lines around them (poppler's
/// `maxWordSpacing`).
const MAX_BRIDGED_GAP: f32 = 1.5;
/// How far (in font sizes) a line's neighbours may be and still bridge its gaps:
/// double-spaced text is three sizes apart.
const BRIDGE_REACH: f32 = 3.5;
/// Words of a line overlapping by more than this many font sizes are separate words
/// (fields drawn over their labels, a value over its neighbour), never glued together.
const APART_OVERLAP: f32 = 0.4;
/// A segment continues a block when it starts at most this many font sizes below it.
const BLOCK_LEADING: f32 = 2.0;
/// A block continues the flow of the block above when it starts within this many font
/// sizes below it (poppler's `maxBlockSpacing`).
const FLOW_SPACING: f32 = 2.5;
/// Above this many blocks on a page, blocks are read plainly top to bottom.
const MAX_ORDERED_BLOCKS: usize = 400;

/// Spaces, and the control codes that separate (tab, line ends, the information
/// separators U+001C to U+001F).
fn is_blank(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_whitespace() || matches!(c, '\u{a0}' | '\u{1c}'..='\u{1f}'))
}

/// A glyph that stands for a control code (a TeX font's quotes mapped to U+0010, say):
/// it takes its place in its word, but writes nothing.
fn is_unprintable(text: &str) -> bool {
    text.chars().all(char::is_control)
}

/// An accent or a combining mark alone, as drawn over a letter: any Unicode mark (Latin
/// diacritics, Arabic and Hebrew points, Thai and Indic vowel signs and tone marks) and
/// the spacing accents of TeX's fonts (not `^`, `~` or `` ` ``, which are as often
/// characters in their own right).
fn is_mark(text: &str) -> bool {
    let mut chars = text.chars();
    let (Some(c), None) = (chars.next(), chars.next()) else {
        return false;
    };
    unicode_normalization::char::is_combining_mark(c)
        || matches!(
            c,
            '\u{b4}'
                | '\u{a8}'
                | '\u{af}'
                | '\u{b8}'
                | '\u{2c6}'
                | '\u{2c7}'
                | '\u{2d8}'
                | '\u{2d9}'
                | '\u{2da}'
                | '\u{2db}'
                | '\u{2dc}'
                | '\u{2dd}'
        )
}

fn is_rtl(c: char) -> bool {
    matches!(c as u32, 0x0590..=0x08FF | 0xFB1D..=0xFDFF | 0xFE70..=0xFEFF)
}

/// A run of words on one line, between column gaps.
#[derive(Debug)]
struct Segment {
    words: Vec<String>,
    x0: f32,
    x1: f32,
    y: f32,
    size: f32,
    dir: u8,
}

#[derive(Debug)]
struct Block {
    segments: Vec<Segment>,
    x0: f32,
    x1: f32,
    top: f32,
    bottom: f32,
    dir: u8,
}

/// Words sharing a baseline, the one of its largest text.
struct Line {
    base: f32,
    size: f32,
    dir: u8,
    words: Vec<Word>,
}

impl Line {
    fn push(&mut self, w: Word) {
        if w.size > self.size {
            (self.base, self.size) = (w.base, w.size);
        }
        self.words.push(w);
    }

    /// Whether a word sits within a column gap of one of the line's words.
    fn beside(&self, w: &Word) -> bool {
        let reach = COLUMN_GAP * self.size.max(w.size).max(0.1);
        self.words
            .iter()
            .any(|o| w.x0 <= o.x1 + reach && o.x0 <= w.x1 + reach)
    }
}

/// A word as poppler builds it: glyphs until a break.
#[derive(Debug)]
struct Word {
    text: String,
    chars: usize,
    x0: f32,
    x1: f32,
    last_x0: f32,
    /// Where the word ended before its last glyph, when that glyph is an accent.
    before_mark: Option<f32>,
    base: f32,
    size: f32,
    dir: u8,
}

/// Builds words from glyphs in the order they were drawn, by poppler's `addChar` rules:
/// a space glyph, a change of direction or font size, a baseline moved by more than
/// half a point, a gap over a tenth of the font size, or an overlap ends a word.
/// A glyph drawn again over the last one (fake bold, shadows) is dropped.
fn words(page: &PageGlyphs) -> Vec<Word> {
    let mut words: Vec<Word> = Vec::new();
    let mut word: Option<Word> = None;
    for g in &page.glyphs {
        let gtext = &page.text[g.start as usize..g.end as usize];
        if is_blank(gtext) {
            words.extend(word.take());
            continue;
        }
        if let Some(w) = word.as_ref() {
            let fs = w.size.max(0.1);
            // A letter moved back under the accent just drawn (as TeX places \'e)
            // continues the word.
            let under_mark = w
                .before_mark
                .is_some_and(|end| g.x0 >= end - MIN_DUP_BREAK_OVERLAP * fs && g.x0 <= w.x1);
            // A combining mark drawn over the word's last letter belongs to it.
            let on_letter = is_mark(gtext) && g.x0 < w.x1 && g.x1 > w.last_x0;
            let sp = if under_mark || on_letter {
                0.0
            } else {
                g.x0 - w.x1
            };
            let delta = g.x0 - w.last_x0;
            let overlap = !under_mark
                && !on_letter
                && delta.abs() < DUP_MAX_PRI_DELTA * fs
                && (g.y - w.base).abs() < DUP_MAX_SEC_DELTA * fs;
            if overlap && g.dir == w.dir && w.text.ends_with(gtext) {
                continue;
            }
            if g.dir != w.dir
                || overlap
                || sp < -MIN_DUP_BREAK_OVERLAP * fs
                || sp > MIN_WORD_BREAK_SPACE * fs
                || (g.y - w.base).abs() > 0.5
                || (g.size - w.size).abs() > 0.01
            {
                words.extend(word.take());
            }
        }
        let w = word.get_or_insert_with(|| Word {
            text: String::new(),
            chars: 0,
            x0: g.x0,
            x1: g.x1,
            last_x0: g.x0,
            base: g.y,
            size: g.size,
            dir: g.dir,
            before_mark: None,
        });
        w.before_mark = (w.chars > 0 && is_mark(gtext)).then_some(w.x1);
        if !is_unprintable(gtext) {
            w.text.push_str(gtext);
            w.chars += 1;
        }
        w.x1 = w.x1.max(g.x1);
        w.last_x0 = g.x0;
    }
    words.extend(word.take());
    words.retain(|w| !w.text.is_empty());
    words
}

/// Joins a line's words the way poppler's `TextLine::coalesce` does: a space only where
/// the gap reaches 0.03 of the line's first font size (or, on lines of single-character
/// words, 1.3 times the smallest gap, at most 0.4 of the font size). Words that overlap
/// by more than [`APART_OVERLAP`] stay apart.
fn join_words(words: &[Word], out: &mut Vec<Segment>) {
    let Some(first) = words.first() else { return };
    let size = first.size.max(0.1);
    let singles = words.iter().all(|w| w.chars == 1);
    let threshold = if singles && words.len() > 1 {
        let min_space = words
            .windows(2)
            .map(|w| w[1].x0 - w[0].x1)
            .fold(f32::MAX, f32::min);
        if min_space <= 0.0 {
            MAX_CHAR_SPACING * size
        } else {
            (WIDE_CHAR_SPACING_MUL * min_space).min(MAX_WIDE_CHAR_SPACING * size)
        }
    } else {
        MAX_CHAR_SPACING * size
    };
    let mut seg = Segment {
        words: Vec::new(),
        x0: first.x0,
        x1: first.x1,
        y: first.base,
        size: 0.0,
        dir: first.dir,
    };
    let mut current = String::new();
    let mut prev_x1 = f32::NAN;
    let mut prev_mark = false;
    // Whether the last word was a mark that began a word of its own.
    let mut lone_mark = false;
    for w in words {
        // Two words drawn over each other; an accent or a mark placed on its letter
        // stays in the word.
        let mark = is_mark(&w.text);
        let apart = w.x0 < prev_x1 - APART_OVERLAP * size && !mark && !prev_mark;
        // A mark never stands alone: one a little off its letter (drawn on a baseline
        // of its own, after the letter or before it) still joins it.
        let touching = (mark || lone_mark) && w.x0 - prev_x1 <= MIN_WORD_BREAK_SPACE * size;
        let starts = current.is_empty() || ((w.x0 - prev_x1 >= threshold || apart) && !touching);
        if starts && !current.is_empty() {
            seg.words.push(std::mem::take(&mut current));
        }
        current.push_str(&w.text);
        prev_x1 = w.x1;
        prev_mark = mark;
        lone_mark = mark && starts;
        seg.x1 = seg.x1.max(w.x1);
        seg.size = seg.size.max(w.size);
    }
    if !current.is_empty() {
        seg.words.push(current);
    }
    for word in &mut seg.words {
        if word.chars().filter(|c| is_rtl(*c)).count() * 2 > word.chars().count() {
            // Right-to-left words are drawn in visual order: store them in logical order.
            *word = word.chars().rev().collect();
        }
    }
    out.push(seg);
}

/// Drops words drawn twice at (almost) the same place: fake bold and drop shadows, as
/// poppler's `TextBlock::coalesce` discards them. `line` is sorted by x.
fn drop_duplicates(line: &mut Vec<Word>) {
    let mut keep = vec![true; line.len()];
    for i in 0..line.len() {
        if !keep[i] {
            continue;
        }
        let fs = line[i].size.max(0.1);
        for j in i + 1..line.len() {
            if line[j].x0 - line[i].x0 > DUP_MAX_PRI_DELTA * fs {
                break;
            }
            if keep[j]
                && line[j].text == line[i].text
                && (line[j].base - line[i].base).abs() < DUP_MAX_SEC_DELTA * fs
            {
                keep[j] = false;
            }
        }
    }
    let mut flags = keep.into_iter();
    line.retain(|_| flags.next().unwrap_or(true));
}

/// Splits one line (words sorted by x) into segments at column gaps.
/// A gap no wider than [`MAX_BRIDGED_GAP`] font sizes is not a column gap when a word of
/// a neighbouring line (`bridged`, given the gap's middle) spans it: a wide sentence
/// space inside a paragraph, not a river of white down the page.
fn segments(line: &[Word], bridged: impl Fn(f32) -> bool, out: &mut Vec<Segment>) {
    let mut start = 0;
    for i in 1..line.len() {
        let gap = line[i].x0 - line[i - 1].x1;
        let size = line[i - 1].size.max(line[i].size).max(0.1);
        let column = gap > COLUMN_GAP * size
            && (gap > MAX_BRIDGED_GAP * size || !bridged(line[i - 1].x1 + gap / 2.0));
        if column {
            join_words(&line[start..i], out);
            start = i;
        }
    }
    join_words(&line[start..], out);
}

fn overlaps(a0: f32, a1: f32, b0: f32, b1: f32) -> bool {
    a0 < b1 && b0 < a1
}

/// Chains segments (sorted top to bottom) into blocks.
fn blocks(segs: Vec<Segment>) -> Vec<Block> {
    let mut blocks: Vec<Block> = Vec::new();
    for seg in segs {
        let found = blocks.iter_mut().rev().take(64).find(|b| {
            let Some(last) = b.segments.last() else {
                return false;
            };
            let dy = last.y - seg.y;
            b.dir == seg.dir
                && dy > 0.0
                && dy <= BLOCK_LEADING * last.size.max(seg.size)
                && overlaps(b.x0, b.x1, seg.x0, seg.x1)
                && (last.size / seg.size.max(0.1)).clamp(0.0, 10.0) < 1.6
                && (seg.size / last.size.max(0.1)) < 1.6
        });
        match found {
            Some(b) => {
                b.x0 = b.x0.min(seg.x0);
                b.x1 = b.x1.max(seg.x1);
                b.bottom = seg.y;
                b.segments.push(seg);
            }
            None => blocks.push(Block {
                x0: seg.x0,
                x1: seg.x1,
                top: seg.y + seg.size,
                bottom: seg.y,
                dir: seg.dir,
                segments: vec![seg],
            }),
        }
    }
    blocks
}

/// Reading order: a block comes after every block to its left that shares its height
/// and after every block above it that shares its width.
fn reading_order(mut blocks: Vec<Block>) -> Vec<Block> {
    blocks.sort_by(|a, b| {
        a.dir
            .cmp(&b.dir)
            .then(b.top.total_cmp(&a.top))
            .then(a.x0.total_cmp(&b.x0))
    });
    if blocks.len() > MAX_ORDERED_BLOCKS {
        return blocks;
    }
    let n = blocks.len();
    let before = |a: &Block, b: &Block| -> bool {
        if a.dir != b.dir {
            return a.dir < b.dir;
        }
        let v_overlap = overlaps(a.bottom, a.top, b.bottom, b.top);
        let h_overlap = overlaps(a.x0, a.x1, b.x0, b.x1);
        (v_overlap && a.x1 <= b.x0) || (h_overlap && a.bottom >= b.top)
    };
    let mut done = vec![false; n];
    let mut order = Vec::with_capacity(n);
    for _ in 0..n {
        // The first block (in top-to-bottom order) that nothing remaining must precede.
        let pick = (0..n)
            .filter(|&i| !done[i])
            .find(|&i| (0..n).all(|j| j == i || done[j] || !before(&blocks[j], &blocks[i])))
            .or_else(|| (0..n).find(|&i| !done[i]));
        let Some(i) = pick else { break };
        done[i] = true;
        order.push(i);
    }
    let mut slots: Vec<Option<Block>> = blocks.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// For each block (in reading order), whether the next block continues its flow, as
/// poppler's `TextPage::coalesce` builds flows: the next block starts within
/// [`FLOW_SPACING`] font sizes below it, is no larger, and lies within the room this
/// block and the flow's first block have beside them (up to the nearest block to
/// either side). A word hyphenated at the end of a block continues into the next
/// block of its flow.
fn flow_breaks(blocks: &[Block]) -> Vec<bool> {
    let n = blocks.len();
    let mut goes_on = vec![false; n];
    if !(2..=MAX_ORDERED_BLOCKS).contains(&n) {
        return goes_on;
    }
    let size = |b: &Block| b.segments.first().map_or(0.0, |s| s.size);
    // The room beside each block: from the nearest block on its left to the nearest on
    // its right among those sharing its height.
    let room: Vec<(f32, f32)> = blocks
        .iter()
        .map(|b| {
            let (mut lo, mut hi) = (f32::NEG_INFINITY, f32::INFINITY);
            for o in blocks {
                if std::ptr::eq(o, b)
                    || o.dir != b.dir
                    || !overlaps(o.bottom, o.top, b.bottom, b.top)
                {
                    continue;
                }
                if o.x0 < b.x0 {
                    lo = lo.max(o.x1.min(b.x0));
                }
                if o.x1 > b.x1 {
                    hi = hi.min(o.x0.max(b.x1));
                }
            }
            (lo, hi)
        })
        .collect();
    let mut first = 0;
    for i in 1..n {
        let (prev, blk) = (&blocks[i - 1], &blocks[i]);
        let within = |(lo, hi): (f32, f32)| blk.x0 >= lo && blk.x1 <= hi;
        let fits = prev.dir == blk.dir
            && prev.bottom - blk.top <= FLOW_SPACING * size(prev)
            && blk.top < prev.top
            && size(blk) <= size(prev)
            && within(room[i - 1])
            && within(room[first]);
        if fits {
            goes_on[i - 1] = true;
        } else {
            first = i;
        }
    }
    goes_on
}

/// Writes the page's text: blocks in reading order, lines separated by `\n`, words by
/// one space, hyphenated line ends joined.
pub fn page_text(page: &PageGlyphs) -> String {
    let mut words = words(page);
    if words.is_empty() {
        return String::new();
    }
    // Most common direction first, then top to bottom.
    let mut dir_count = [0usize; 4];
    for w in &words {
        dir_count[w.dir as usize & 3] += w.chars;
    }
    let mut dir_order = [0u8, 1, 2, 3];
    dir_order.sort_by_key(|d| std::cmp::Reverse(dir_count[*d as usize]));
    let rank = |d: u8| dir_order.iter().position(|x| *x == d).unwrap_or(0) as u8;
    for w in &mut words {
        w.dir = rank(w.dir);
    }
    words.sort_by(|a, b| {
        a.dir
            .cmp(&b.dir)
            .then(b.base.total_cmp(&a.base))
            .then(a.x0.total_cmp(&b.x0))
    });

    // Words on one baseline form a line, but text far smaller than the line so far
    // (beside a drop cap) starts its own. Then a line within half a font size of a line
    // of text at least as large, and beside it (a superscript, a subscript, a
    // footnote mark), joins the nearest such line (poppler's `maxIntraLineDelta`): not
    // a line of the next column that merely shares its height.
    let mut lines: Vec<Line> = Vec::new();
    for w in words {
        match lines.last_mut() {
            Some(l)
                if l.dir == w.dir
                    && (l.base - w.base).abs() <= SAME_BASELINE * l.size.min(w.size).max(0.5)
                    && l.size <= MAX_HOST_SIZE * w.size =>
            {
                l.push(w)
            }
            _ => lines.push(Line {
                base: w.base,
                size: w.size,
                dir: w.dir,
                words: vec![w],
            }),
        }
    }
    let mut order: Vec<usize> = (0..lines.len()).collect();
    let chars = |l: &Line| l.words.iter().map(|w| w.chars).sum::<usize>();
    order.sort_by(|&a, &b| {
        lines[a]
            .size
            .total_cmp(&lines[b].size)
            .then(chars(&lines[a]).cmp(&chars(&lines[b])))
    });
    let mut merged = vec![false; lines.len()];
    for i in order {
        let line = &lines[i];
        if line.words.len() > MAX_JOINING_WORDS {
            continue; // a line of text in its own right, not a mark
        }
        let near = |j: &usize| {
            let host = &lines[*j];
            !merged[*j]
                && *j != i
                && host.dir == line.dir
                && (host.size > line.size || (host.size == line.size && chars(host) >= chars(line)))
                && host.size <= MAX_HOST_SIZE * line.size
                && (host.base - line.base).abs() <= SAME_LINE * host.size.max(0.5)
                && line.words.iter().any(|w| host.beside(w))
        };
        let lo = i.saturating_sub(NEAR_LINES);
        let hi = (i + NEAR_LINES + 1).min(lines.len());
        let host = (lo..hi).filter(near).min_by(|&a, &b| {
            (lines[a].base - line.base)
                .abs()
                .total_cmp(&(lines[b].base - line.base).abs())
        });
        if let Some(j) = host {
            let words = std::mem::take(&mut lines[i].words);
            lines[j].words.extend(words);
            merged[i] = true;
        }
    }
    lines.retain(|l| !l.words.is_empty());
    for line in &mut lines {
        line.words.sort_by(|a, b| a.x0.total_cmp(&b.x0));
        drop_duplicates(&mut line.words);
    }
    let mut segs: Vec<Segment> = Vec::new();
    for i in 0..lines.len() {
        let (base, size, dir) = (lines[i].base, lines[i].size.max(0.1), lines[i].dir);
        // The nearest line above and below, when within reach.
        let near = |j: usize| {
            let l = &lines[j];
            (l.dir == dir && (l.base - base).abs() <= BRIDGE_REACH * size).then_some(l)
        };
        let above = i.checked_sub(1).and_then(near);
        let below = (i + 1 < lines.len()).then(|| near(i + 1)).flatten();
        let spans = |x: f32| {
            [above, below]
                .into_iter()
                .flatten()
                .any(|l| l.words.iter().any(|w| w.x0 < x && x < w.x1))
        };
        segments(&lines[i].words, spans, &mut segs);
    }

    let mut out = String::with_capacity(page.text.len() + segs.len() * 2);
    let blocks = reading_order(blocks(segs));
    let flows = flow_breaks(&blocks);
    for (block, flow_goes_on) in blocks.into_iter().zip(flows) {
        let count = block.segments.len();
        for (i, seg) in block.segments.into_iter().enumerate() {
            let joined = seg.words.join(" ");
            let hyphenated = (i + 1 < count || flow_goes_on)
                && joined.ends_with('-')
                && joined.chars().rev().nth(1).is_some_and(char::is_alphabetic);
            if hyphenated {
                out.push_str(&joined[..joined.len() - 1]);
            } else {
                out.push_str(&joined);
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::interp::Glyph;

    /// Draws `text` from `x` on baseline `y`, each character `size / 2` wide.
    fn draw(page: &mut PageGlyphs, text: &str, x: f32, y: f32, size: f32) {
        let mut x = x;
        for c in text.chars() {
            let start = page.text.len() as u32;
            page.text.push(c);
            page.glyphs.push(Glyph {
                x0: x,
                x1: x + size / 2.0,
                y,
                size,
                dir: 0,
                start,
                end: page.text.len() as u32,
            });
            x += size / 2.0;
        }
    }

    /// The text of a page drawn from (text, x, baseline, size) runs, in drawing order.
    fn text_of(runs: &[(&str, f32, f32, f32)]) -> String {
        let mut page = PageGlyphs::default();
        for &(text, x, y, size) in runs {
            draw(&mut page, text, x, y, size);
        }
        page_text(&page).trim().to_owned()
    }

    #[test]
    fn a_footnote_mark_joins_the_line_it_sits_beside() {
        let text = text_of(&[
            // Left column: a line ending in a raised mark drawn before its text.
            ("[10]", 130.0, 384.5, 9.6),
            ("used in Thunderbird,", 10.0, 380.0, 12.0),
            // Right column, its baseline nearer the mark's than the text's.
            ("Original author", 400.0, 386.75, 10.5),
        ]);
        assert!(
            text.contains("Thunderbird,[10]"),
            "the mark stays with its word: {text:?}"
        );
        assert!(text.contains("Original author"), "{text:?}");
    }

    #[test]
    fn marks_stay_with_their_words() {
        for (runs, expected) in [
            // A superscript drawn before the line it belongs to.
            (
                &[
                    ("th", 70.0, 703.5, 7.0),
                    ("On the 240", 10.0, 700.0, 12.0),
                    ("day", 80.0, 700.0, 12.0),
                ][..],
                "On the 240th day",
            ),
            // As TeX draws \'e: "r", the accent centred over where the e goes, then the
            // e (moved back under it) and the rest.
            (
                &[
                    ("r", 10.0, 700.0, 12.0),
                    ("\u{b4}", 17.0, 700.0, 12.0),
                    ("esume", 16.0, 700.0, 12.0),
                ][..],
                "r\u{b4}esume",
            ),
            // "re", then U+0301 over the e, then the rest.
            (
                &[
                    ("re", 10.0, 700.0, 12.0),
                    ("\u{301}", 17.0, 700.0, 12.0),
                    ("sume", 22.0, 700.0, 12.0),
                ][..],
                "re\u{301}sume",
            ),
            // A Thai tone mark drawn a point above the vowel it sits on.
            (
                &[
                    ("\u{e2a}\u{e34}", 10.0, 700.0, 12.0),
                    ("\u{e49}", 16.0, 701.0, 12.0),
                    ("\u{e19}\u{e2a}\u{e38}\u{e14}", 22.0, 700.0, 12.0),
                ][..],
                "\u{e2a}\u{e34}\u{e49}\u{e19}\u{e2a}\u{e38}\u{e14}",
            ),
        ] {
            assert_eq!(text_of(runs), expected);
        }
    }

    #[test]
    fn a_mark_a_little_off_its_letter_is_not_a_word_of_its_own() {
        // A kasra drawn first, two points up and a point short of its letter.
        let text = text_of(&[("\u{650}", 4.0, 702.0, 12.0), ("e", 10.9, 700.0, 12.0)]);
        assert_eq!(text, "\u{650}e");
    }

    #[test]
    fn a_word_hyphenated_at_the_end_of_a_block_goes_on_in_the_next_block_of_its_flow() {
        // Lines far enough apart to be blocks of their own, in one flow.
        let text = text_of(&[
            ("the excusatory function of ide-", 10.0, 700.0, 12.0),
            ("ology, and he argues", 10.0, 670.0, 12.0),
        ]);
        assert_eq!(text, "the excusatory function of ideology, and he argues");
        // A larger line below starts a flow of its own: the hyphen stays.
        let text = text_of(&[
            ("nothing is lost in the post-", 10.0, 700.0, 12.0),
            ("Heading", 10.0, 665.0, 20.0),
        ]);
        assert_eq!(text, "nothing is lost in the post-\nHeading");
    }

    #[test]
    fn a_wide_space_under_a_word_is_not_a_column_gap() {
        // A sentence space of 1.2 font sizes, with a word of the line above over it.
        let text = text_of(&[
            ("by or for a person, but rather", 10.0, 700.0, 10.0),
            ("the ordinary signified.", 10.0, 688.0, 10.0),
            ("Havel terms", 137.0, 688.0, 10.0),
        ]);
        assert_eq!(
            text,
            "by or for a person, but rather\nthe ordinary signified. Havel terms"
        );
        // The same gap running down two lines is a gap between columns.
        let text = text_of(&[
            ("Claimant", 10.0, 700.0, 10.0),
            ("Ada", 62.0, 700.0, 10.0),
            ("Defendant", 10.0, 688.0, 10.0),
            ("Trust", 67.0, 688.0, 10.0),
        ]);
        assert_eq!(text, "Claimant\nDefendant\nAda\nTrust");
    }

    #[test]
    fn a_control_code_glyph_holds_its_place_and_writes_nothing() {
        // A space and a quote are together wider than a column gap; the quote is ink.
        let text = text_of(&[(
            "terms this the \u{10}excusatory\u{11} function",
            10.0,
            700.0,
            12.0,
        )]);
        assert_eq!(text, "terms this the excusatory function");
    }

    #[test]
    fn a_large_initial_does_not_draw_the_lines_beside_it_into_one() {
        let text = text_of(&[
            ("A", 10.0, 701.3, 99.0),
            ("[1] Taco Hoekwater. LuaT", 120.0, 700.0, 10.0),
            ("E", 240.0, 697.9, 10.0),
            ("X.", 245.0, 700.0, 10.0),
            ("28(3):312-313, 2007.", 120.0, 688.0, 10.0),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.contains(&"[1] Taco Hoekwater. LuaTEX."), "{text:?}");
        assert!(lines.contains(&"28(3):312-313, 2007."), "{text:?}");
    }

    #[test]
    fn words_drawn_over_each_other_stay_apart() {
        let text = text_of(&[("RdoGrp1", 80.0, 500.0, 12.0), ("Rdo1", 100.0, 497.0, 12.0)]);
        assert!(
            text.contains("RdoGrp1") && text.contains("Rdo1"),
            "{text:?}"
        );
        assert!(!text.contains("RdoGrp1Rdo1"), "{text:?}");
    }
}
