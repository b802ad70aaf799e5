//! The letter markup: Handlebars (with helpers and a Markdown-escaping of every value, so
//! data can never change a letter's structure) over a small Markdown subset, parsed into
//! the blocks that layout and the text renderer consume.
//!
//! Besides CommonMark paragraphs, headings, emphasis, lists, block quotes, tables and
//! links, a letter marks its regions with fenced lines: `::: letterhead`, `::: address`,
//! `::: references`, `::: signature` (kept together on one page), `::: keep` and
//! `::: footer` (repeated on every page), each closed by `:::`.

use chrono::NaiveDate;
use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderErrorReason,
};
use pulldown_cmark::{Alignment, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde_json::Value;

use super::fields::{format_money, parse_money};
use postroom_core::calendar::{self, Calendar};

/// A run of text in one style.
#[derive(Debug, Clone, PartialEq)]
pub struct Inline {
    pub text: String,
    pub bold: bool,
    pub italic: bool,
    pub link: Option<String>,
    /// A forced line break after this run.
    pub hard_break: bool,
}

/// A block of the letter.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Heading {
        level: u8,
        inlines: Vec<Inline>,
    },
    Para(Vec<Inline>),
    List {
        ordered: bool,
        start: u64,
        items: Vec<Vec<Block>>,
    },
    Quote(Vec<Block>),
    Table {
        head: Vec<Vec<Inline>>,
        rows: Vec<Vec<Vec<Inline>>>,
        right: Vec<bool>,
    },
    Rule,
    Region {
        kind: Region,
        blocks: Vec<Block>,
    },
}

/// A region of the letter's frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    Letterhead,
    Address,
    References,
    Signature,
    Keep,
    Footer,
}

impl Region {
    fn parse(name: &str) -> Option<Region> {
        Some(match name {
            "letterhead" => Region::Letterhead,
            "address" => Region::Address,
            "references" => Region::References,
            "signature" => Region::Signature,
            "keep" => Region::Keep,
            "footer" => Region::Footer,
            _ => return None,
        })
    }
}

/// Escapes a value for Markdown: every ASCII punctuation character is backslash-escaped
/// (CommonMark then prints it literally) and line breaks become spaces.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_ascii_punctuation() => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A Handlebars registry set up for letters: strict, Markdown escaping, letter helpers.
pub fn engine() -> Handlebars<'static> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.set_prevent_indent(true);
    hb.register_escape_fn(escape_markdown);
    hb.register_helper("date", Box::new(date_helper));
    hb.register_helper("money", Box::new(money_helper));
    hb.register_helper("list", Box::new(list_helper));
    hb.register_helper("lines", Box::new(lines_helper));
    hb.register_helper("paragraphs", Box::new(paragraphs_helper));
    hb.register_helper("quote", Box::new(quote_helper));
    hb.register_helper("table", Box::new(table_helper));
    hb.register_helper("add_working_days", Box::new(add_working_days_helper));
    hb.register_helper("add_months", Box::new(add_months_helper));
    hb.register_helper("eq", Box::new(eq_helper));
    hb
}

fn param<'a>(h: &'a Helper<'_>, i: usize) -> Result<&'a Value, RenderErrorReason> {
    h.param(i)
        .map(|p| p.value())
        .ok_or_else(|| RenderErrorReason::ParamNotFoundForIndex("helper", i))
}

fn other(message: String) -> RenderErrorReason {
    RenderErrorReason::Other(message)
}

fn date_param(h: &Helper<'_>, i: usize) -> Result<NaiveDate, RenderErrorReason> {
    let v = param(h, i)?;
    v.as_str()
        .and_then(calendar::parse_date)
        .ok_or_else(|| other(format!("{}: {v} is not a date", h.name())))
}

/// `{{date d}}` → `5 January 2023`.
fn date_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let d = date_param(h, 0)?;
    out.write(&escape_markdown(&calendar::uk_date(d)))?;
    Ok(())
}

/// `{{money m}}` → `£1,250,000.00`.
fn money_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let v = param(h, 0)?;
    let pence = match v {
        Value::String(s) => parse_money(s),
        Value::Number(n) => parse_money(&n.to_string()),
        _ => None,
    }
    .ok_or_else(|| other(format!("money: {v} is not an amount")))?;
    out.write(&escape_markdown(&format_money(pence)))?;
    Ok(())
}

fn texts(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        Value::String(s) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// `{{list items}}` → `a, b and c`.
fn list_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let items = texts(param(h, 0)?);
    let text = match items.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    };
    out.write(&escape_markdown(&text))?;
    Ok(())
}

/// `{{lines address}}` → the lines with hard breaks between them.
fn lines_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let lines: Vec<String> = texts(param(h, 0)?)
        .iter()
        .map(|l| escape_markdown(l))
        .collect();
    out.write(&lines.join("\\\n"))?;
    Ok(())
}

fn paragraphs_of(text: &str) -> Vec<String> {
    text.split('\n')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(escape_markdown)
        .collect()
}

/// `{{paragraphs text}}` → one paragraph per line of the value.
fn paragraphs_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let v = param(h, 0)?;
    out.write(&paragraphs_of(v.as_str().unwrap_or_default()).join("\n\n"))?;
    Ok(())
}

/// `{{quote text}}` → the value as a block quote, one paragraph per line.
fn quote_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let v = param(h, 0)?;
    let paras: Vec<String> = paragraphs_of(v.as_str().unwrap_or_default())
        .into_iter()
        .map(|p| format!("> {p}"))
        .collect();
    out.write(&paras.join("\n>\n"))?;
    Ok(())
}

/// `{{table t}}` → a Markdown table of a `table` field.
fn table_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let v = param(h, 0)?;
    let columns = v.get("columns").map(texts).unwrap_or_default();
    let rows: Vec<Vec<String>> = v
        .get("rows")
        .and_then(Value::as_array)
        .map(|rows| rows.iter().map(texts).collect())
        .unwrap_or_default();
    if columns.is_empty() {
        return Err(other("table: the value is not a table".into()).into());
    }
    // Columns whose body cells are all numbers (or suppressed, "<5") align right.
    let numeric: Vec<bool> = (0..columns.len())
        .map(|c| {
            !rows.is_empty()
                && rows.iter().all(|r| {
                    let cell = r.get(c).map(String::as_str).unwrap_or("");
                    cell.starts_with('<') || cell.replace(',', "").parse::<f64>().is_ok()
                })
        })
        .collect();
    let cell = |s: &String| escape_markdown(s).replace('|', "\\|");
    let mut text = String::new();
    text.push('|');
    for c in &columns {
        text.push_str(&format!(" {} |", cell(c)));
    }
    text.push_str("\n|");
    for n in &numeric {
        text.push_str(if *n { " ---: |" } else { " --- |" });
    }
    for row in &rows {
        text.push_str("\n|");
        for c in row {
            text.push_str(&format!(" {} |", cell(c)));
        }
    }
    out.write(&text)?;
    Ok(())
}

fn count_param(h: &Helper<'_>, i: usize) -> Result<u32, RenderErrorReason> {
    let v = param(h, i)?;
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| other(format!("{}: {v} is not a count", h.name())))
}

/// `{{add_working_days d 20}}` → the 20th working day after `d`, as `YYYY-MM-DD`
/// (combine with `date`: `{{date (add_working_days received 20)}}`).
fn add_working_days_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let d = date_param(h, 0)?;
    let n = count_param(h, 1)?;
    let due = Calendar::embedded()
        .add_working_days(d, n)
        .map_err(|e| other(e.to_string()))?;
    out.write(&due.format("%Y-%m-%d").to_string())?;
    Ok(())
}

/// `{{add_months d 4}}` → `d` plus four calendar months, as `YYYY-MM-DD`.
fn add_months_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let d = date_param(h, 0)?;
    let n = count_param(h, 1)?;
    let later = calendar::add_months(d, n)
        .ok_or_else(|| other(format!("add_months: {d} + {n} months is out of range")))?;
    out.write(&later.format("%Y-%m-%d").to_string())?;
    Ok(())
}

/// `{{#if (eq outcome "refused")}}`.
fn eq_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let equal = param(h, 0)? == param(h, 1)?;
    out.write(if equal { "true" } else { "" })?;
    Ok(())
}

/// Parses rendered letter markup into blocks.
pub fn parse(markup: &str) -> Result<Vec<Block>, String> {
    let mut blocks = Vec::new();
    let mut region: Option<(Region, String)> = None;
    let mut plain = String::new();
    for line in markup.lines() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix(":::") {
            let name = rest.trim();
            match (&mut region, name) {
                (Some((kind, text)), "") => {
                    blocks.push(Block::Region {
                        kind: *kind,
                        blocks: parse_markdown(text),
                    });
                    region = None;
                }
                (None, "") => return Err("a ':::' closes no region".into()),
                (Some(_), _) => {
                    return Err(format!("region '{name}' opened inside another region"));
                }
                (None, name) => {
                    let kind =
                        Region::parse(name).ok_or_else(|| format!("unknown region '{name}'"))?;
                    blocks.extend(parse_markdown(&plain));
                    plain.clear();
                    region = Some((kind, String::new()));
                }
            }
            continue;
        }
        let target = match &mut region {
            Some((_, text)) => text,
            None => &mut plain,
        };
        target.push_str(line);
        target.push('\n');
    }
    if let Some((kind, _)) = region {
        return Err(format!("region {kind:?} is not closed with ':::'"));
    }
    blocks.extend(parse_markdown(&plain));
    Ok(blocks)
}

#[derive(Default)]
struct Style {
    bold: u32,
    italic: u32,
    link: Option<String>,
}

enum Frame {
    Blocks(Vec<Block>),
    /// Inline runs; `true` for a tight list item's implicit paragraph.
    Inlines(Vec<Inline>, bool),
    List {
        ordered: bool,
        start: u64,
        items: Vec<Vec<Block>>,
    },
    Table {
        right: Vec<bool>,
        head: Vec<Vec<Inline>>,
        rows: Vec<Vec<Vec<Inline>>>,
        row: Vec<Vec<Inline>>,
    },
}

fn parse_markdown(text: &str) -> Vec<Block> {
    let mut stack: Vec<Frame> = vec![Frame::Blocks(Vec::new())];
    let mut style = Style::default();
    let push_inline = |stack: &mut Vec<Frame>, style: &Style, text: &str| {
        if let Some(Frame::Inlines(inlines, _)) = stack.last_mut() {
            let bold = style.bold > 0;
            let italic = style.italic > 0;
            match inlines.last_mut() {
                Some(last)
                    if last.bold == bold
                        && last.italic == italic
                        && last.link == style.link
                        && !last.hard_break =>
                {
                    last.text.push_str(text)
                }
                _ => inlines.push(Inline {
                    text: text.to_string(),
                    bold,
                    italic,
                    link: style.link.clone(),
                    hard_break: false,
                }),
            }
        }
    };
    for event in Parser::new_ext(text, Options::ENABLE_TABLES) {
        let closes_implicit = match &event {
            Event::Start(tag) => !matches!(tag, Tag::Emphasis | Tag::Strong | Tag::Link { .. }),
            Event::End(end) => matches!(end, TagEnd::Item | TagEnd::BlockQuote(_)),
            Event::Rule => true,
            _ => false,
        };
        if closes_implicit
            && matches!(stack.last(), Some(Frame::Inlines(_, true)))
            && let Some(Frame::Inlines(inlines, _)) = stack.pop()
        {
            push_block(&mut stack, Block::Para(inlines));
        }
        match event {
            Event::Start(tag) => match tag {
                Tag::Paragraph | Tag::Heading { .. } | Tag::TableCell => {
                    stack.push(Frame::Inlines(Vec::new(), false))
                }
                Tag::BlockQuote(_) | Tag::Item => stack.push(Frame::Blocks(Vec::new())),
                Tag::List(start) => stack.push(Frame::List {
                    ordered: start.is_some(),
                    start: start.unwrap_or(1),
                    items: Vec::new(),
                }),
                Tag::Table(aligns) => stack.push(Frame::Table {
                    right: aligns.iter().map(|a| *a == Alignment::Right).collect(),
                    head: Vec::new(),
                    rows: Vec::new(),
                    row: Vec::new(),
                }),
                Tag::Emphasis => style.italic += 1,
                Tag::Strong => style.bold += 1,
                Tag::Link { dest_url, .. } => style.link = Some(dest_url.to_string()),
                _ => {}
            },
            Event::End(end) => match end {
                TagEnd::Paragraph | TagEnd::Heading(_) => {
                    let Some(Frame::Inlines(inlines, _)) = stack.pop() else {
                        continue;
                    };
                    let block = match end {
                        TagEnd::Heading(level) => Block::Heading {
                            level: match level {
                                HeadingLevel::H1 => 1,
                                HeadingLevel::H2 => 2,
                                _ => 3,
                            },
                            inlines,
                        },
                        _ => Block::Para(inlines),
                    };
                    push_block(&mut stack, block);
                }
                TagEnd::TableCell => {
                    let Some(Frame::Inlines(inlines, _)) = stack.pop() else {
                        continue;
                    };
                    if let Some(Frame::Table { row, .. }) = stack.last_mut() {
                        row.push(inlines);
                    }
                }
                TagEnd::TableHead | TagEnd::TableRow => {
                    if let Some(Frame::Table {
                        head, rows, row, ..
                    }) = stack.last_mut()
                    {
                        let cells = std::mem::take(row);
                        if matches!(end, TagEnd::TableHead) {
                            *head = cells;
                        } else {
                            rows.push(cells);
                        }
                    }
                }
                TagEnd::Table => {
                    if let Some(Frame::Table {
                        right, head, rows, ..
                    }) = stack.pop()
                    {
                        push_block(&mut stack, Block::Table { head, rows, right });
                    }
                }
                TagEnd::BlockQuote(_) => {
                    if let Some(Frame::Blocks(blocks)) = stack.pop() {
                        push_block(&mut stack, Block::Quote(blocks));
                    }
                }
                TagEnd::Item => {
                    if let Some(Frame::Blocks(blocks)) = stack.pop()
                        && let Some(Frame::List { items, .. }) = stack.last_mut()
                    {
                        items.push(blocks);
                    }
                }
                TagEnd::List(_) => {
                    if let Some(Frame::List {
                        ordered,
                        start,
                        items,
                    }) = stack.pop()
                    {
                        push_block(
                            &mut stack,
                            Block::List {
                                ordered,
                                start,
                                items,
                            },
                        );
                    }
                }
                TagEnd::Emphasis => style.italic = style.italic.saturating_sub(1),
                TagEnd::Strong => style.bold = style.bold.saturating_sub(1),
                TagEnd::Link => style.link = None,
                _ => {}
            },
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => {
                // Tight list items carry their text without a paragraph: open one.
                if let Some(Frame::Blocks(_)) = stack.last() {
                    stack.push(Frame::Inlines(Vec::new(), true));
                }
                push_inline(&mut stack, &style, &t);
            }
            Event::SoftBreak => push_inline(&mut stack, &style, " "),
            Event::HardBreak => {
                if let Some(Frame::Inlines(inlines, _)) = stack.last_mut()
                    && let Some(last) = inlines.last_mut()
                {
                    last.hard_break = true;
                }
            }
            Event::Rule => push_block(&mut stack, Block::Rule),
            _ => {}
        }
    }
    match stack.into_iter().next() {
        Some(Frame::Blocks(blocks)) => blocks,
        _ => Vec::new(),
    }
}

fn push_block(stack: &mut [Frame], block: Block) {
    match stack.last_mut() {
        Some(Frame::Blocks(blocks)) => blocks.push(block),
        Some(Frame::Inlines(inlines, _)) => {
            // A block inside inline context cannot happen in this subset; keep its text.
            if let Block::Para(more) = block {
                inlines.extend(more);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_values_stay_literal() {
        let value = "*Zoë* # {{x}} [a](b) | <b>";
        let blocks = parse(&format!("Dear {},", escape_markdown(value))).unwrap();
        let Block::Para(inlines) = &blocks[0] else {
            panic!("{blocks:?}")
        };
        let text: String = inlines.iter().map(|i| i.text.as_str()).collect();
        assert_eq!(text, format!("Dear {value},"));
        assert!(
            inlines
                .iter()
                .all(|i| !i.bold && !i.italic && i.link.is_none())
        );
    }

    #[test]
    fn regions_lists_and_tables() {
        let blocks = parse(
            "::: address\nA\\\nB\n:::\n# Title\n\n- one **two**\n- three\n\n| a | b |\n| --- | ---: |\n| x | 1 |\n",
        )
        .unwrap();
        assert!(matches!(
            &blocks[0],
            Block::Region {
                kind: Region::Address,
                ..
            }
        ));
        assert!(matches!(&blocks[1], Block::Heading { level: 1, .. }));
        let Block::List { items, .. } = &blocks[2] else {
            panic!("{blocks:?}")
        };
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].len(), 1, "{:?}", items[0]);
        let Block::Table { head, rows, right } = &blocks[3] else {
            panic!("{blocks:?}")
        };
        assert_eq!(
            (head.len(), rows.len(), right.clone()),
            (2, 1, vec![false, true])
        );
    }
}
