//! The plain-text rendering of a letter (`--format txt`): the same blocks as the PDF,
//! wrapped at 78 columns, for previews and for people who ask for another format.

use super::markup::{Block, Inline, Region};

const WIDTH: usize = 78;

/// Renders blocks as plain text.
pub fn render(blocks: &[Block]) -> String {
    let mut out = String::new();
    let mut footer = String::new();
    for block in blocks {
        match block {
            Block::Region {
                kind: Region::Footer,
                blocks,
            } => render_blocks(blocks, "", &mut footer),
            other => render_blocks(std::slice::from_ref(other), "", &mut out),
        }
    }
    if !footer.is_empty() {
        out.push_str(&"-".repeat(WIDTH));
        out.push('\n');
        out.push_str(&footer);
    }
    out.trim_end().to_string() + "\n"
}

fn text_of(inlines: &[Inline]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for i in inlines {
        line.push_str(&i.text);
        if let Some(url) = &i.link
            && url != &i.text
        {
            line.push_str(&format!(" ({url})"));
        }
        if i.hard_break {
            lines.push(std::mem::take(&mut line));
        }
    }
    lines.push(line);
    lines
}

fn wrap(text: &str, indent: &str, first: &str, out: &mut String) {
    let mut line = String::from(first);
    let mut empty = true;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        if !empty && line.chars().count() + 1 + word.chars().count() > WIDTH {
            out.push_str(line.trim_end());
            out.push('\n');
            line = String::from(indent);
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

fn render_blocks(blocks: &[Block], indent: &str, out: &mut String) {
    for block in blocks {
        match block {
            Block::Heading { level, inlines } => {
                let text = text_of(inlines).join(" ");
                out.push('\n');
                wrap(&text, indent, indent, out);
                let underline = if *level == 1 { '=' } else { '-' };
                out.push_str(indent);
                out.push_str(
                    &underline
                        .to_string()
                        .repeat(text.chars().count().min(WIDTH)),
                );
                out.push_str("\n\n");
            }
            Block::Para(inlines) => {
                for line in text_of(inlines) {
                    wrap(&line, indent, indent, out);
                }
                out.push('\n');
            }
            Block::Quote(inner) => render_blocks(inner, &format!("{indent}    "), out),
            Block::List {
                ordered,
                start,
                items,
            } => {
                for (i, item) in items.iter().enumerate() {
                    let label = if *ordered {
                        format!("{}. ", start + i as u64)
                    } else {
                        "- ".to_string()
                    };
                    let mut inner = String::new();
                    let pad = " ".repeat(label.len());
                    render_blocks(item, &format!("{indent}{pad}"), &mut inner);
                    let inner = inner.trim_end();
                    let mut lines = inner.lines();
                    if let Some(first) = lines.next() {
                        out.push_str(&format!("{indent}{label}{}\n", first.trim_start()));
                    }
                    for l in lines {
                        out.push_str(l);
                        out.push('\n');
                    }
                }
                out.push('\n');
            }
            Block::Table { head, rows, right } => {
                let cells: Vec<Vec<String>> = std::iter::once(head)
                    .chain(rows.iter())
                    .map(|r| r.iter().map(|c| text_of(c).join(" ")).collect())
                    .collect();
                let cols = head.len();
                let widths: Vec<usize> = (0..cols)
                    .map(|c| {
                        cells
                            .iter()
                            .map(|r| r.get(c).map_or(0, |s| s.chars().count()))
                            .max()
                            .unwrap_or(0)
                    })
                    .collect();
                for (n, row) in cells.iter().enumerate() {
                    let mut line = String::from(indent);
                    for (c, w) in widths.iter().enumerate() {
                        let cell = row.get(c).map(String::as_str).unwrap_or("");
                        let pad = w.saturating_sub(cell.chars().count());
                        if right.get(c).copied().unwrap_or(false) {
                            line.push_str(&" ".repeat(pad));
                            line.push_str(cell);
                        } else {
                            line.push_str(cell);
                            line.push_str(&" ".repeat(pad));
                        }
                        line.push_str("  ");
                    }
                    out.push_str(line.trim_end());
                    out.push('\n');
                    if n == 0 {
                        out.push_str(indent);
                        out.push_str(
                            &"-".repeat(widths.iter().sum::<usize>() + 2 * cols.saturating_sub(1)),
                        );
                        out.push('\n');
                    }
                }
                out.push('\n');
            }
            Block::Rule => {
                out.push_str(&"-".repeat(WIDTH));
                out.push_str("\n\n");
            }
            Block::Region { blocks, .. } => render_blocks(blocks, indent, out),
        }
    }
}
