//! Typesetting: letter blocks → A4 pages of positioned glyph runs, with the structure
//! (headings, paragraphs, lists, tables) that the PDF writer tags.
//!
//! Page one carries the letterhead (top right), the recipient's address inside a DL
//! window envelope's window and the references beside it. Text is broken into lines
//! greedily (ragged right by default, or justified); lines flow onto pages keeping
//! headings with what follows, at least two lines of a paragraph on each side of a page
//! break, signature and `keep` regions whole, and table header rows repeated.

use std::collections::HashMap;

use super::font::{Style, fonts};
use super::markup::{Block, Inline, Region};

pub const MM: f32 = 72.0 / 25.4;
pub const PAGE_W: f32 = 210.0 * MM;
pub const PAGE_H: f32 = 297.0 * MM;
const LEFT: f32 = 25.0 * MM;
const RIGHT: f32 = PAGE_W - 20.0 * MM;
const TOP: f32 = 20.0 * MM;
const BOTTOM: f32 = PAGE_H - 27.0 * MM;
/// The height of a page's text area (pages after the first).
const BODY_H: f32 = BOTTOM - TOP;
const FOOTER_Y: f32 = PAGE_H - 18.0 * MM;

/// The DL window: 24.6–120 mm across, 39.5–66.3 mm down.
pub const WINDOW: [f32; 4] = [24.6 * MM, 39.5 * MM, 120.0 * MM, 66.3 * MM];
const ADDRESS_X: f32 = 29.0 * MM;
const ADDRESS_MAX_W: f32 = 117.0 * MM - ADDRESS_X;
const REFS_X: f32 = 125.0 * MM;

const BODY: f32 = 11.0;
const LEADING: f32 = 1.4;
const PARA_GAP: f32 = 7.0;
const TABLE_SIZE: f32 = 10.0;
const CELL_PAD: f32 = 4.0;

/// A role in the structure tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Document,
    P,
    H1,
    H2,
    H3,
    L,
    LI,
    Lbl,
    LBody,
    BlockQuote,
    Table,
    TR,
    TH,
    TD,
    Link,
}

/// A structure element.
#[derive(Debug, Clone)]
pub struct Elem {
    pub role: Role,
    pub parent: Option<usize>,
    /// For a `Link`, its address.
    pub url: Option<String>,
}

/// A positioned run of glyphs; `y` is the baseline from the top of the page.
#[derive(Debug, Clone)]
pub struct Run {
    pub style: Style,
    pub size: f32,
    pub x: f32,
    pub y: f32,
    pub gids: Vec<u16>,
    /// The structure element this run belongs to; `None` for artifacts (footer, page
    /// numbers, repeated table headers).
    pub leaf: Option<usize>,
}

/// What a page shows.
#[derive(Debug, Clone)]
pub enum Item {
    Text(Run),
    /// A rule (artifact): from (x1, y1) to (x2, y2), `width` thick.
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        width: f32,
    },
    /// A link area (top-down rectangle) for `elem`.
    Link {
        rect: [f32; 4],
        url: String,
        elem: usize,
    },
}

impl Item {
    fn shifted(&self, dx: f32, dy: f32) -> Item {
        match self {
            Item::Text(r) => Item::Text(Run {
                x: r.x + dx,
                y: r.y + dy,
                ..r.clone()
            }),
            Item::Line {
                x1,
                y1,
                x2,
                y2,
                width,
            } => Item::Line {
                x1: x1 + dx,
                y1: y1 + dy,
                x2: x2 + dx,
                y2: y2 + dy,
                width: *width,
            },
            Item::Link { rect, url, elem } => Item::Link {
                rect: [rect[0] + dx, rect[1] + dy, rect[2] + dx, rect[3] + dy],
                url: url.clone(),
                elem: *elem,
            },
        }
    }
}

/// A laid-out letter.
#[derive(Debug, Default)]
pub struct Laid {
    pub pages: Vec<Vec<Item>>,
    pub elems: Vec<Elem>,
    /// Per style: glyph id → the text it stands for (for ToUnicode).
    pub unicode: [HashMap<u16, char>; 4],
}

/// Layout options from the template.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub justify: bool,
}

// ---------------------------------------------------------------------------------------
// Line breaking

#[derive(Debug, Clone)]
struct Piece {
    style: Style,
    gids: Vec<u16>,
    width: f32,
    x: f32,
    link: Option<usize>,
}

#[derive(Debug, Clone, Default)]
struct Line {
    pieces: Vec<Piece>,
    width: f32,
}

struct Frag {
    style: Style,
    link: Option<usize>,
    gids: Vec<u16>,
    width: f32,
}

struct Word {
    frags: Vec<Frag>,
    width: f32,
    /// Width of the space after it (0 if none).
    space: f32,
    space_gid: u16,
    break_after: bool,
}

struct Ctx<'a> {
    laid: &'a mut Laid,
    opts: Options,
}

impl Ctx<'_> {
    fn elem(&mut self, role: Role, parent: Option<usize>) -> usize {
        self.laid.elems.push(Elem {
            role,
            parent,
            url: None,
        });
        self.laid.elems.len() - 1
    }

    fn glyph(&mut self, style: Style, c: char) -> (u16, f32) {
        let font = &fonts()[style.index()];
        let (gid, adv) = font
            .glyph(c)
            .or_else(|| font.glyph('?'))
            .unwrap_or((0, 500.0));
        self.laid.unicode[style.index()].entry(gid).or_insert(c);
        (gid, adv)
    }

    /// Splits inline runs into words, each a list of styled fragments.
    fn words(&mut self, inlines: &[Inline], size: f32, bold: bool, parent: usize) -> Vec<Word> {
        let mut words = Vec::new();
        let mut current = Word {
            frags: Vec::new(),
            width: 0.0,
            space: 0.0,
            space_gid: 0,
            break_after: false,
        };
        let mut links: HashMap<String, usize> = HashMap::new();
        for inline in inlines {
            let style = Style::new(bold || inline.bold, inline.italic);
            let link = inline.link.as_ref().map(|url| {
                *links.entry(url.clone()).or_insert_with(|| {
                    self.laid.elems.push(Elem {
                        role: Role::Link,
                        parent: Some(parent),
                        url: Some(url.clone()),
                    });
                    self.laid.elems.len() - 1
                })
            });
            for c in inline.text.chars() {
                if c == ' ' || c == '\n' {
                    if !current.frags.is_empty() {
                        let (gid, adv) = self.glyph(style, ' ');
                        current.space = adv * size / 1000.0;
                        current.space_gid = gid;
                        words.push(std::mem::replace(
                            &mut current,
                            Word {
                                frags: Vec::new(),
                                width: 0.0,
                                space: 0.0,
                                space_gid: 0,
                                break_after: false,
                            },
                        ));
                    }
                    continue;
                }
                let (gid, adv) = self.glyph(style, c);
                let w = adv * size / 1000.0;
                match current.frags.last_mut() {
                    Some(f) if f.style == style && f.link == link => {
                        f.gids.push(gid);
                        f.width += w;
                    }
                    _ => current.frags.push(Frag {
                        style,
                        link,
                        gids: vec![gid],
                        width: w,
                    }),
                }
                current.width += w;
            }
            if inline.hard_break {
                if current.frags.is_empty() {
                    if let Some(last) = words.last_mut() {
                        last.break_after = true;
                        last.space = 0.0;
                    }
                } else {
                    current.break_after = true;
                    words.push(std::mem::replace(
                        &mut current,
                        Word {
                            frags: Vec::new(),
                            width: 0.0,
                            space: 0.0,
                            space_gid: 0,
                            break_after: false,
                        },
                    ));
                }
            }
        }
        if !current.frags.is_empty() {
            words.push(current);
        }
        if let Some(last) = words.last_mut() {
            last.space = 0.0;
        }
        words
    }

    /// Greedy line breaking of `inlines` into lines at most `width` wide.
    fn lines(
        &mut self,
        inlines: &[Inline],
        size: f32,
        width: f32,
        bold: bool,
        parent: usize,
    ) -> Vec<Line> {
        // Words wider than the line are split at characters first.
        let words = self.words(inlines, size, bold, parent);
        let mut all: Vec<Word> = Vec::with_capacity(words.len());
        for w in words {
            if w.width > width {
                all.extend(split_word(&w, width));
            } else {
                all.push(w);
            }
        }
        let mut lines = Vec::new();
        let mut line: Vec<&Word> = Vec::new();
        let mut line_w = 0.0;
        for (i, w) in all.iter().enumerate() {
            let prev_space = line.last().map(|p| p.space).unwrap_or(0.0);
            if !line.is_empty() && line_w + prev_space + w.width > width + 0.01 {
                lines.push(self.build(&line, width, true));
                line.clear();
                line_w = 0.0;
            } else if !line.is_empty() {
                line_w += prev_space;
            }
            line.push(w);
            line_w += w.width;
            let last = i + 1 == all.len();
            if w.break_after || last {
                lines.push(self.build(&line, width, false));
                line.clear();
                line_w = 0.0;
            }
        }
        lines
    }

    /// Builds a line's pieces; `stretch` justifies it (when the template asks).
    fn build(&self, words: &[&Word], width: f32, stretch: bool) -> Line {
        let natural: f32 = words.iter().map(|w| w.width).sum::<f32>()
            + words[..words.len().saturating_sub(1)]
                .iter()
                .map(|w| w.space)
                .sum::<f32>();
        let gaps = words.len().saturating_sub(1) as f32;
        let extra = if self.opts.justify && stretch && gaps > 0.0 {
            (width - natural) / gaps
        } else {
            0.0
        };
        let mut pieces: Vec<Piece> = Vec::new();
        let mut x = 0.0;
        for (i, w) in words.iter().enumerate() {
            let last_word = i + 1 == words.len();
            for (j, f) in w.frags.iter().enumerate() {
                let mut gids = f.gids.clone();
                let mut fw = f.width;
                if j + 1 == w.frags.len() && !last_word && w.space > 0.0 {
                    gids.push(w.space_gid);
                    fw += w.space;
                }
                let joinable = extra == 0.0 || j > 0;
                match pieces.last_mut() {
                    Some(p) if joinable && p.style == f.style && p.link == f.link => {
                        p.gids.extend_from_slice(&gids);
                        p.width += fw;
                    }
                    _ => pieces.push(Piece {
                        style: f.style,
                        gids,
                        width: fw,
                        x,
                        link: f.link,
                    }),
                }
                x += fw;
            }
            x += extra;
        }
        Line {
            pieces,
            width: if extra > 0.0 { width } else { natural },
        }
    }
}

fn split_word_count(w: &Word, width: f32) -> usize {
    let chars: f32 = w.frags.iter().map(|f| f.gids.len() as f32).sum();
    let per = (width / (w.width / chars.max(1.0))).floor().max(1.0);
    (chars / per).ceil() as usize
}

/// Splits an over-long word into parts no wider than `width` (by average glyph width, so
/// the part count matches `split_word_count`).
fn split_word(w: &Word, width: f32) -> Vec<Word> {
    let count = split_word_count(w, width);
    let glyphs: Vec<(Style, Option<usize>, u16, f32)> = w
        .frags
        .iter()
        .flat_map(|f| {
            let each = f.width / f.gids.len().max(1) as f32;
            f.gids.iter().map(move |g| (f.style, f.link, *g, each))
        })
        .collect();
    let per = glyphs.len().div_ceil(count.max(1));
    let chunks: Vec<_> = glyphs.chunks(per.max(1)).collect();
    let n = chunks.len();
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| {
            let mut frags: Vec<Frag> = Vec::new();
            for &(style, link, gid, adv) in chunk {
                match frags.last_mut() {
                    Some(f) if f.style == style && f.link == link => {
                        f.gids.push(gid);
                        f.width += adv;
                    }
                    _ => frags.push(Frag {
                        style,
                        link,
                        gids: vec![gid],
                        width: adv,
                    }),
                }
            }
            let width = frags.iter().map(|f| f.width).sum();
            let last = i + 1 == n;
            Word {
                frags,
                width,
                space: if last { w.space } else { 0.0 },
                space_gid: w.space_gid,
                break_after: last && w.break_after,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Flow

/// A unit that pagination moves whole: a line, a table row, a rule.
#[derive(Debug, Clone, Default)]
struct FlowBox {
    height: f32,
    gap_before: f32,
    keep_with_next: bool,
    /// Items with `y` relative to the box top.
    items: Vec<Item>,
    /// The table this row belongs to, and whether it is the header row.
    table: Option<(usize, bool)>,
}

/// Places line items for `lines` at `x` into boxes (one per line).
fn line_boxes(
    lines: Vec<Line>,
    x: f32,
    size: f32,
    leaf: usize,
    right_align: Option<f32>,
) -> Vec<FlowBox> {
    let leading = size * LEADING;
    let n = lines.len();
    lines
        .into_iter()
        .enumerate()
        .map(|(i, line)| {
            let baseline = leading * 0.78;
            let x0 = match right_align {
                Some(w) => x + w - line.width,
                None => x,
            };
            let mut items = Vec::with_capacity(line.pieces.len());
            for p in line.pieces {
                if let Some(link) = p.link {
                    let descent = size * 0.2;
                    items.push(Item::Line {
                        x1: x0 + p.x,
                        y1: baseline + descent * 0.6,
                        x2: x0 + p.x + p.width,
                        y2: baseline + descent * 0.6,
                        width: 0.6,
                    });
                    items.push(Item::Link {
                        rect: [
                            x0 + p.x,
                            baseline - size,
                            x0 + p.x + p.width,
                            baseline + descent,
                        ],
                        url: String::new(),
                        elem: link,
                    });
                }
                items.push(Item::Text(Run {
                    style: p.style,
                    size,
                    x: x0 + p.x,
                    y: baseline,
                    gids: p.gids,
                    leaf: Some(p.link.unwrap_or(leaf)),
                }));
            }
            FlowBox {
                height: leading,
                gap_before: 0.0,
                // Orphans and widows: never one line alone at either side of a break.
                keep_with_next: (i == 0 && n >= 2) || (n >= 3 && i == n - 2),
                items,
                table: None,
            }
        })
        .collect()
}

struct Flow<'a, 'b> {
    ctx: &'a mut Ctx<'b>,
    boxes: Vec<FlowBox>,
    /// Per table, the header row repeated on each page it continues on (none when the
    /// header is too tall to repeat).
    headers: Vec<Option<FlowBox>>,
    tables: usize,
}

impl Flow<'_, '_> {
    fn push_lines(&mut self, mut boxes: Vec<FlowBox>, gap: f32) {
        if let Some(first) = boxes.first_mut() {
            first.gap_before = gap;
        }
        self.boxes.extend(boxes);
    }

    fn blocks(&mut self, blocks: &[Block], x: f32, width: f32, parent: usize) {
        for block in blocks {
            self.block(block, x, width, parent);
        }
    }

    fn block(&mut self, block: &Block, x: f32, width: f32, parent: usize) {
        match block {
            Block::Heading { level, inlines } => {
                let (role, size) = match level {
                    1 => (Role::H1, 14.0),
                    2 => (Role::H2, 12.5),
                    _ => (Role::H3, BODY),
                };
                let e = self.ctx.elem(role, Some(parent));
                let lines = self.ctx.lines(inlines, size, width, true, e);
                let mut boxes = line_boxes(lines, x, size, e, None);
                for b in &mut boxes {
                    b.keep_with_next = true;
                }
                self.push_lines(boxes, size);
            }
            Block::Para(inlines) => {
                let e = self.ctx.elem(Role::P, Some(parent));
                let lines = self.ctx.lines(inlines, BODY, width, false, e);
                let boxes = line_boxes(lines, x, BODY, e, None);
                self.push_lines(boxes, PARA_GAP);
            }
            Block::Quote(blocks) => {
                let e = self.ctx.elem(Role::BlockQuote, Some(parent));
                let start = self.boxes.len();
                self.blocks(blocks, x + 8.0 * MM, width - 8.0 * MM, e);
                for b in &mut self.boxes[start..] {
                    b.items.push(Item::Line {
                        x1: x + 3.0 * MM,
                        y1: 0.0,
                        x2: x + 3.0 * MM,
                        y2: b.height,
                        width: 1.5,
                    });
                }
            }
            Block::List {
                ordered,
                start,
                items,
            } => {
                let list = self.ctx.elem(Role::L, Some(parent));
                let indent = 7.0 * MM;
                for (i, item) in items.iter().enumerate() {
                    let li = self.ctx.elem(Role::LI, Some(list));
                    let lbl = self.ctx.elem(Role::Lbl, Some(li));
                    let body = self.ctx.elem(Role::LBody, Some(li));
                    let label = if *ordered {
                        format!("{}.", start + i as u64)
                    } else {
                        "•".to_string()
                    };
                    let first = self.boxes.len();
                    let gap = if i == 0 { PARA_GAP } else { PARA_GAP * 0.5 };
                    for (k, b) in item.iter().enumerate() {
                        let before = self.boxes.len();
                        self.block(b, x + indent, width - indent, body);
                        if k == 0
                            && let Some(fb) = self.boxes.get_mut(before)
                        {
                            fb.gap_before = gap;
                        }
                    }
                    let label_line = self.ctx.lines(
                        &[Inline {
                            text: label,
                            bold: false,
                            italic: false,
                            link: None,
                            hard_break: false,
                        }],
                        BODY,
                        indent,
                        false,
                        lbl,
                    );
                    if let Some(fb) = self.boxes.get_mut(first) {
                        let label_boxes = line_boxes(label_line, x, BODY, lbl, None);
                        // The label goes first in reading order.
                        let mut items: Vec<Item> =
                            label_boxes.into_iter().flat_map(|b| b.items).collect();
                        items.append(&mut fb.items);
                        fb.items = items;
                    }
                }
            }
            Block::Table { head, rows, right } => self.table(head, rows, right, x, width, parent),
            Block::Rule => self.boxes.push(FlowBox {
                height: 6.0,
                gap_before: PARA_GAP,
                keep_with_next: false,
                items: vec![Item::Line {
                    x1: x,
                    y1: 3.0,
                    x2: x + width,
                    y2: 3.0,
                    width: 0.5,
                }],
                table: None,
            }),
            Block::Region { kind, blocks } => {
                let start = self.boxes.len();
                self.blocks(blocks, x, width, parent);
                if matches!(kind, Region::Signature | Region::Keep) {
                    let end = self.boxes.len();
                    for b in &mut self.boxes[start..end.saturating_sub(1)] {
                        b.keep_with_next = true;
                    }
                    if let Some(b) = self.boxes.get_mut(start) {
                        b.gap_before = b.gap_before.max(PARA_GAP * 1.5);
                    }
                }
            }
        }
    }

    fn table(
        &mut self,
        head: &[Vec<Inline>],
        rows: &[Vec<Vec<Inline>>],
        right: &[bool],
        x: f32,
        width: f32,
        parent: usize,
    ) {
        let table = self.ctx.elem(Role::Table, Some(parent));
        let id = self.tables;
        self.tables += 1;
        let cols = head.len().max(1);
        // Column widths: natural widths if they fit, else minimums plus a share.
        let measure = |ctx: &mut Ctx<'_>, cell: &[Inline], bold: bool| -> (f32, f32) {
            let words = ctx.words(cell, TABLE_SIZE, bold, table);
            let natural: f32 = words.iter().map(|w| w.width + w.space).sum();
            let min = words.iter().map(|w| w.width).fold(0.0, f32::max);
            (natural, min)
        };
        let mut natural = vec![0.0f32; cols];
        let mut min = vec![0.0f32; cols];
        for (row, bold) in
            std::iter::once((head, true)).chain(rows.iter().map(|r| (r.as_slice(), false)))
        {
            for (c, cell) in row.iter().enumerate().take(cols) {
                let (n, m) = measure(self.ctx, cell, bold);
                natural[c] = natural[c].max(n + 2.0 * CELL_PAD);
                min[c] = min[c].max(m + 2.0 * CELL_PAD);
            }
        }
        let total: f32 = natural.iter().sum();
        let widths: Vec<f32> = if total <= width {
            natural
                .iter()
                .map(|n| n + (width - total) / cols as f32)
                .collect()
        } else {
            let min_total: f32 = min.iter().sum();
            let spare = (width - min_total).max(0.0);
            let want: f32 = natural
                .iter()
                .zip(&min)
                .map(|(n, m)| n - m)
                .sum::<f32>()
                .max(1.0);
            natural
                .iter()
                .zip(&min)
                .map(|(n, m)| m.min(width / cols as f32 * 2.0) + spare * (n - m) / want)
                .collect()
        };
        // A row is split by lines into parts no taller than `max_h`, so that no part is
        // taller than a page: a cell of many lines continues on the next page.
        let row_parts =
            |ctx: &mut Ctx<'_>, cells: &[Vec<Inline>], header: bool, max_h: f32| -> Vec<FlowBox> {
                let tr = ctx.elem(Role::TR, Some(table));
                let mut columns: Vec<Vec<FlowBox>> = Vec::with_capacity(widths.len());
                let mut cx = x;
                for (c, &w) in widths.iter().enumerate() {
                    let cell_elem = ctx.elem(if header { Role::TH } else { Role::TD }, Some(tr));
                    let empty = Vec::new();
                    let cell = cells.get(c).unwrap_or(&empty);
                    let lines = ctx.lines(
                        cell,
                        TABLE_SIZE,
                        (w - 2.0 * CELL_PAD).max(1.0),
                        header,
                        cell_elem,
                    );
                    let align = right
                        .get(c)
                        .copied()
                        .unwrap_or(false)
                        .then_some(w - 2.0 * CELL_PAD);
                    columns.push(line_boxes(
                        lines,
                        cx + CELL_PAD,
                        TABLE_SIZE,
                        cell_elem,
                        align,
                    ));
                    cx += w;
                }
                let leading = TABLE_SIZE * LEADING;
                let per = (((max_h - 2.0 * CELL_PAD) / leading).floor() as usize).max(1);
                let tallest = columns.iter().map(Vec::len).max().unwrap_or(0);
                let parts = tallest.div_ceil(per).max(1);
                (0..parts)
                    .map(|k| {
                        let mut items = Vec::new();
                        let mut height: f32 = 0.0;
                        for column in &columns {
                            let mut y = CELL_PAD;
                            for b in column.iter().skip(k * per).take(per) {
                                items.extend(b.items.iter().map(|i| i.shifted(0.0, y)));
                                y += b.height;
                            }
                            height = height.max(y + CELL_PAD);
                        }
                        // The rule goes under the row's last part only.
                        if k + 1 == parts {
                            items.push(Item::Line {
                                x1: x,
                                y1: height,
                                x2: x + width,
                                y2: height,
                                width: if header { 1.0 } else { 0.4 },
                            });
                        }
                        FlowBox {
                            height,
                            gap_before: 0.0,
                            keep_with_next: header,
                            items,
                            table: Some((id, header)),
                        }
                    })
                    .collect()
            };
        let mut header = row_parts(self.ctx, head, true, BODY_H - 1.0);
        if let Some(first) = header.first_mut() {
            first.gap_before = PARA_GAP;
        }
        // The repeat on later pages is a pagination artifact. A header of more than one
        // part, or taller than a quarter of a page, is not repeated.
        let repeat = match header.as_slice() {
            [one] if one.height <= BODY_H / 4.0 => {
                let mut repeat = one.clone();
                for item in &mut repeat.items {
                    if let Item::Text(run) = item {
                        run.leaf = None;
                    }
                }
                repeat.gap_before = 0.0;
                Some(repeat)
            }
            _ => None,
        };
        let row_max = BODY_H - repeat.as_ref().map_or(0.0, |r| r.height) - 1.0;
        self.headers.push(repeat);
        self.boxes.extend(header);
        for row in rows {
            let parts = row_parts(self.ctx, row, false, row_max);
            self.boxes.extend(parts);
        }
    }
}

/// Lays out `blocks` as a letter.
pub fn layout(blocks: &[Block], opts: Options) -> Laid {
    let mut laid = Laid::default();
    let mut ctx = Ctx {
        laid: &mut laid,
        opts,
    };
    let doc = ctx.elem(Role::Document, None);
    let mut first_page: Vec<Item> = Vec::new();
    let mut body_top = TOP;
    let mut footer: Vec<&Block> = Vec::new();
    let mut flow = Flow {
        ctx: &mut ctx,
        boxes: Vec::new(),
        headers: Vec::new(),
        tables: 0,
    };
    for block in blocks {
        match block {
            Block::Region {
                kind: Region::Letterhead,
                blocks,
            } => {
                let width = 75.0 * MM;
                let bottom = place_static(
                    &mut flow,
                    blocks,
                    RIGHT - width,
                    12.0 * MM,
                    width,
                    9.0,
                    true,
                    doc,
                    &mut first_page,
                );
                body_top = body_top.max(bottom);
            }
            Block::Region {
                kind: Region::Address,
                blocks,
            } => {
                let bottom = place_address(&mut flow, blocks, doc, &mut first_page);
                body_top = body_top.max(bottom);
            }
            Block::Region {
                kind: Region::References,
                blocks,
            } => {
                let bottom = place_static(
                    &mut flow,
                    blocks,
                    REFS_X,
                    WINDOW[1] + 1.0 * MM,
                    RIGHT - REFS_X,
                    10.0,
                    false,
                    doc,
                    &mut first_page,
                );
                body_top = body_top.max(bottom);
            }
            Block::Region {
                kind: Region::Footer,
                ..
            } => footer.push(block),
            other => flow.block(other, LEFT, RIGHT - LEFT, doc),
        }
    }
    let first_top = if first_page.is_empty() {
        TOP
    } else {
        body_top.max(WINDOW[3]) + 10.0 * MM
    };
    let Flow { boxes, headers, .. } = flow;
    let mut pages = paginate(&boxes, &headers, first_top);
    if let Some(p) = pages.first_mut() {
        let mut all = first_page;
        all.append(p);
        *p = all;
    }
    // Footer and page numbers on every page, as artifacts.
    let total = pages.len();
    let footer_lines: Vec<Line> = footer
        .iter()
        .flat_map(|b| match b {
            Block::Region { blocks, .. } => blocks.clone(),
            _ => Vec::new(),
        })
        .flat_map(|b| match b {
            Block::Para(inlines) => ctx.lines(&inlines, 8.0, RIGHT - LEFT - 30.0 * MM, false, doc),
            _ => Vec::new(),
        })
        .collect();
    for (i, page) in pages.iter_mut().enumerate() {
        let mut y = FOOTER_Y;
        for line in &footer_lines {
            for p in &line.pieces {
                page.push(Item::Text(Run {
                    style: p.style,
                    size: 8.0,
                    x: LEFT + p.x,
                    y,
                    gids: p.gids.clone(),
                    leaf: None,
                }));
            }
            y += 8.0 * LEADING;
        }
        let label = format!("Page {} of {}", i + 1, total);
        let number = ctx.lines(
            &[Inline {
                text: label,
                bold: false,
                italic: false,
                link: None,
                hard_break: false,
            }],
            9.0,
            40.0 * MM,
            false,
            doc,
        );
        for line in number {
            for p in line.pieces {
                page.push(Item::Text(Run {
                    style: p.style,
                    size: 9.0,
                    x: RIGHT - line.width + p.x,
                    y: FOOTER_Y,
                    gids: p.gids,
                    leaf: None,
                }));
            }
        }
    }
    laid.pages = pages;
    // Link items learn their address from their element.
    let Laid { pages, elems, .. } = &mut laid;
    for item in pages.iter_mut().flatten() {
        if let Item::Link { url, elem, .. } = item {
            *url = elems[*elem].url.clone().unwrap_or_default();
        }
    }
    laid
}

/// Lays out static blocks (letterhead, references) at a fixed place on page one; returns
/// the bottom.
#[allow(clippy::too_many_arguments)]
fn place_static(
    flow: &mut Flow<'_, '_>,
    blocks: &[Block],
    x: f32,
    top: f32,
    width: f32,
    size: f32,
    right_align: bool,
    parent: usize,
    out: &mut Vec<Item>,
) -> f32 {
    let mut y = top;
    for block in blocks {
        let (inlines, bold, size) = match block {
            Block::Para(inlines) => (inlines, false, size),
            Block::Heading { inlines, .. } => (inlines, true, size * 1.3),
            _ => continue,
        };
        let e = flow.ctx.elem(Role::P, Some(parent));
        let lines = flow.ctx.lines(inlines, size, width, bold, e);
        for b in line_boxes(lines, x, size, e, right_align.then_some(width)) {
            out.extend(b.items.iter().map(|i| i.shifted(0.0, y)));
            y += b.height;
        }
        y += size * 0.5;
    }
    y
}

/// Places the address inside the envelope window, shrinking the type if needed.
fn place_address(
    flow: &mut Flow<'_, '_>,
    blocks: &[Block],
    parent: usize,
    out: &mut Vec<Item>,
) -> f32 {
    let inlines: Vec<Inline> = blocks
        .iter()
        .flat_map(|b| match b {
            Block::Para(i) => {
                let mut i = i.clone();
                if let Some(last) = i.last_mut() {
                    last.hard_break = true;
                }
                i
            }
            _ => Vec::new(),
        })
        .collect();
    let e = flow.ctx.elem(Role::P, Some(parent));
    let window_h = WINDOW[3] - WINDOW[1] - 1.5 * MM;
    let mut size = 10.5;
    loop {
        let lines = flow.ctx.lines(&inlines, size, f32::MAX / 4.0, false, e);
        let widest = lines.iter().map(|l| l.width).fold(0.0, f32::max);
        let leading = (window_h / lines.len().max(1) as f32)
            .min(size * 1.3)
            .max(size * 1.12);
        let height = leading * lines.len() as f32;
        if (widest <= ADDRESS_MAX_W && height <= window_h) || size <= 7.0 {
            let top = WINDOW[1] + (WINDOW[3] - WINDOW[1] - height) / 2.0;
            let mut y = top;
            for line in lines {
                let baseline = y + leading * 0.5 + size * 0.35;
                for p in line.pieces {
                    out.push(Item::Text(Run {
                        style: p.style,
                        size,
                        x: ADDRESS_X + p.x,
                        y: baseline,
                        gids: p.gids,
                        leaf: Some(e),
                    }));
                }
                y += leading;
            }
            return WINDOW[3];
        }
        size -= 0.5;
    }
}

/// Moves boxes onto pages. Returns the pages' items.
///
/// Bounded: every page takes at least one box (a repeated table header alone does not
/// count), and a page that ends early to keep boxes together starts the next with a
/// later box than the one it began with, so there are at most as many pages as boxes.
/// A box taller than a page (none is: table rows are split) would overrun its page
/// rather than loop.
fn paginate(boxes: &[FlowBox], headers: &[Option<FlowBox>], first_top: f32) -> Vec<Vec<Item>> {
    // (page, box index or header repeat, table, y)
    let mut placed: Vec<(usize, Option<usize>, usize, f32)> = Vec::new();
    let mut page = 0;
    let mut y = first_top;
    let mut page_first = 0; // index into placed of the page's first placement
    let mut i = 0;
    let top_of = |p: usize| if p == 0 { first_top } else { TOP };
    let repeat_of = |b: &FlowBox| match b.table {
        Some((t, false)) => headers[t].as_ref(),
        _ => None,
    };
    while i < boxes.len() {
        let b = &boxes[i];
        let at_top = !placed[page_first..].iter().any(|p| p.1.is_some());
        let gap = if at_top { 0.0 } else { b.gap_before };
        let overflows = y + gap + b.height > BOTTOM;
        // Page one's text starts lower (under the address): a box too tall for what is
        // left there, but not for a later page, goes to page two.
        let fits_later = TOP + repeat_of(b).map_or(0.0, |h| h.height) + b.height <= BOTTOM;
        if overflows && (!at_top || (page == 0 && fits_later)) {
            // Walk back over what must stay with this box.
            let mut j = i;
            while j > 0 && boxes[j - 1].keep_with_next {
                let on_page = placed[page_first..].iter().any(|p| p.1 == Some(j - 1));
                if !on_page {
                    break;
                }
                j -= 1;
            }
            let first_box_on_page = placed[page_first..].iter().find_map(|p| p.1);
            if j < i && first_box_on_page.is_some_and(|f| f < j) {
                placed.retain(|p| !(p.0 == page && p.1.is_some_and(|k| k >= j)));
                i = j;
            }
            page += 1;
            y = top_of(page);
            page_first = placed.len();
            // A table continued on a new page repeats its header row.
            if let Some((t, false)) = boxes[i].table
                && let Some(h) = &headers[t]
            {
                placed.push((page, None, t, y));
                y += h.height;
            }
            continue;
        }
        y += gap;
        placed.push((page, Some(i), 0, y));
        y += b.height;
        i += 1;
    }
    let mut pages: Vec<Vec<Item>> = vec![Vec::new(); page + 1];
    for (p, b, t, y) in placed {
        let src = match b {
            Some(k) => &boxes[k],
            None => match &headers[t] {
                Some(h) => h,
                None => continue,
            },
        };
        pages[p].extend(src.items.iter().map(|i| i.shifted(0.0, y)));
    }
    pages
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markup;

    /// Each page's flowed text, line by line (artifacts left out), with the role of each line.
    fn lines_of(laid: &Laid) -> Vec<Vec<(Role, String)>> {
        laid.pages
            .iter()
            .map(|page| {
                let mut lines: Vec<(f32, Role, String)> = Vec::new();
                for item in page {
                    let Item::Text(run) = item else { continue };
                    let Some(leaf) = run.leaf else { continue };
                    let text: String = run
                        .gids
                        .iter()
                        .map(|g| {
                            laid.unicode[run.style.index()]
                                .get(g)
                                .copied()
                                .unwrap_or('?')
                        })
                        .collect();
                    match lines.iter_mut().find(|(y, _, _)| (*y - run.y).abs() < 0.5) {
                        Some(line) => line.2.push_str(&text),
                        None => lines.push((run.y, laid.elems[leaf].role, text)),
                    }
                }
                lines.sort_by(|a, b| a.0.total_cmp(&b.0));
                lines.into_iter().map(|(_, r, t)| (r, t)).collect()
            })
            .collect()
    }

    fn letter(paragraphs: usize, tail: &str) -> Laid {
        let mut text =
            String::from("::: address\nMs A Person\\\n1 Road\\\nLeeds LS1 4AP\n:::\n# Title\n\n");
        for i in 0..paragraphs {
            text.push_str(&format!(
                "Paragraph {i} has enough words in it to run over two lines of the letter at the body size, so that breaks can fall inside it.\n\n"
            ));
        }
        text.push_str(tail);
        layout(&markup::parse(&text).expect("parses"), Options::default())
    }

    #[test]
    fn headings_are_never_left_at_the_foot_of_a_page() {
        for n in 0..70 {
            let laid = letter(n, "## A heading before the end\n\nThe last paragraph.\n");
            for (p, page) in lines_of(&laid).iter().enumerate() {
                let last = page.last().expect("a page has lines");
                assert!(
                    !matches!(last.0, Role::H1 | Role::H2 | Role::H3),
                    "n={n}: page {p} ends with heading {:?}",
                    last.1
                );
            }
        }
    }

    #[test]
    fn paragraphs_leave_no_single_line_at_a_break_and_signatures_stay_whole() {
        let signature = "::: signature\nYours sincerely\n\n**Ada Signer**\\\nHead of Claims\\\nNHS Resolution\n:::\n";
        for n in 0..70 {
            let laid = letter(n, signature);
            let pages = lines_of(&laid);
            let signed: Vec<usize> = pages
                .iter()
                .enumerate()
                .filter(|(_, lines)| {
                    lines.iter().any(|(_, t)| {
                        t.contains("Yours sincerely")
                            || t.contains("Ada Signer")
                            || t.contains("Head of Claims")
                    })
                })
                .map(|(p, _)| p)
                .collect();
            assert_eq!(
                signed.len(),
                1,
                "n={n}: the signature is split over pages {signed:?}"
            );
            // Every paragraph here runs to two lines, so a page never ends on a
            // paragraph's first line (an orphan) nor starts with its last (a widow).
            for (p, page) in pages.iter().enumerate().take(pages.len() - 1) {
                let (_, last) = page.last().expect("lines");
                assert!(
                    !last.starts_with("Paragraph"),
                    "n={n}: page {p} ends with an orphan line {last:?}"
                );
            }
        }
    }

    /// Lays out `markup` on a thread; fails if that takes over 30 s (a loop without a
    /// bound would otherwise hang the test run).
    fn laid_within(markup: String) -> Laid {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let blocks = markup::parse(&markup).expect("parses");
            let _ = tx.send(layout(&blocks, Options::default()));
        });
        rx.recv_timeout(std::time::Duration::from_secs(30))
            .expect("laid out in bounded time")
    }

    /// Every flowed word (artifacts left out), and checks that no text runs below the
    /// text area.
    fn words_within_pages(laid: &Laid) -> Vec<String> {
        let mut words = Vec::new();
        for (p, page) in laid.pages.iter().enumerate() {
            for item in page {
                let Item::Text(run) = item else { continue };
                let Some(_) = run.leaf else { continue };
                assert!(
                    run.y <= BOTTOM,
                    "page {p}: text at {} below {BOTTOM}",
                    run.y
                );
                let text: String = run
                    .gids
                    .iter()
                    .map(|g| {
                        laid.unicode[run.style.index()]
                            .get(g)
                            .copied()
                            .unwrap_or('?')
                    })
                    .collect();
                words.extend(text.split_whitespace().map(str::to_string));
            }
        }
        words
    }

    fn numbered(tag: &str, n: usize) -> String {
        (0..n)
            .map(|i| format!("{tag}{i:04}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn assert_all_there(words: &[String], tag: &str, n: usize) {
        for i in 0..n {
            let w = format!("{tag}{i:04}");
            let count = words.iter().filter(|x| **x == w).count();
            assert_eq!(count, 1, "{w} laid out {count} times");
        }
    }

    #[test]
    fn rows_headers_and_keeps_taller_than_a_page_are_laid_out_in_bounded_time() {
        // A table first in the body whose one row is over two pages tall.
        let md = format!(
            "| A | B |\n| --- | --- |\n| {} | x |\n",
            numbered("r", 2000)
        );
        let laid = laid_within(md);
        assert!(laid.pages.len() >= 3, "{} pages", laid.pages.len());
        assert_all_there(&words_within_pages(&laid), "r", 2000);

        // The same after some text, with a row after it.
        let md = format!(
            "::: address\nMs A Person\\\n1 Road\\\nLeeds LS1 4AP\n:::\nSome text.\n\n| A | B |\n| --- | --- |\n| {} | {} |\n| after | row |\n",
            numbered("s", 2000),
            numbered("t", 1000)
        );
        let laid = laid_within(md);
        let words = words_within_pages(&laid);
        assert_all_there(&words, "s", 2000);
        assert_all_there(&words, "t", 1000);
        assert!(words.iter().any(|w| w == "after"));

        // A header row taller than a page, and a row under it.
        let md = format!(
            "| {} | B |\n| --- | --- |\n| {} | x |\n",
            numbered("h", 2000),
            numbered("u", 50)
        );
        let laid = laid_within(md);
        let words = words_within_pages(&laid);
        assert_all_there(&words, "h", 2000);
        assert_all_there(&words, "u", 50);

        // A keep region taller than a page, and a table inside one.
        let mut md = String::from("Before.\n\n::: keep\n");
        for i in 0..150 {
            md.push_str(&format!("k{i:04} is a line of its own.\n\n"));
        }
        md.push_str(&format!(
            "| A | B |\n| --- | --- |\n| {} | x |\n:::\n",
            numbered("v", 2000)
        ));
        let laid = laid_within(md);
        let words = words_within_pages(&laid);
        assert_all_there(&words, "k", 150);
        assert_all_there(&words, "v", 2000);
    }

    #[test]
    fn long_tables_repeat_their_header_row_on_every_page() {
        let mut table = String::from("| Specialty | Claims |\n| --- | ---: |\n");
        for i in 0..120 {
            table.push_str(&format!("| Specialty number {i} | {} |\n", i * 7));
        }
        let laid = letter(3, &table);
        let pages = lines_of(&laid);
        assert!(pages.len() >= 3, "{} pages", pages.len());
        for (p, page) in laid.pages.iter().enumerate() {
            // The header's text is on every page (tagged once, artifacts after).
            let header_runs = page
                .iter()
                .filter(|i| matches!(i, Item::Text(r) if r.style == Style::Bold && r.size == TABLE_SIZE))
                .count();
            assert!(header_runs >= 2, "page {p}: no header row");
        }
        let th = laid.elems.iter().filter(|e| e.role == Role::TH).count();
        assert_eq!(th, 2, "the header is one row in the structure tree");
        let rows: Vec<String> = pages
            .iter()
            .flatten()
            .filter(|(r, _)| *r == Role::TD)
            .map(|(_, t)| t.clone())
            .collect();
        assert!(
            rows.iter().any(|t| t.contains("Specialty number 119")),
            "the last row is there"
        );
    }
}
