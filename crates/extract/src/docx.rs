//! Word (DOCX) text: headers, body (paragraphs and tables) and footers, in order, read
//! with zip + quick-xml under the container limits.

use std::io::{Cursor, Read};

use quick_xml::Reader;
use quick_xml::events::Event;

use super::limits::Budget;
use super::{Extracted, Warning, Warnings};

/// Reads one zip member whole, within the stream limit.
fn member(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    limit: usize,
) -> Result<Option<Vec<u8>>, Warning> {
    let file = match archive.by_name(name) {
        Ok(f) => f,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(zip::result::ZipError::UnsupportedArchive(_)) => return Err(Warning::Encrypted),
        Err(_) => return Err(Warning::Malformed),
    };
    let mut out = Vec::new();
    // Never trust the declared size: read at most limit + 1 bytes.
    match file.take(limit as u64 + 1).read_to_end(&mut out) {
        Ok(_) if out.len() > limit => Err(Warning::TruncatedAtLimit),
        Ok(_) => Ok(Some(out)),
        Err(_) => Err(Warning::Malformed),
    }
}

/// The text of one WordprocessingML part, up to what the document may still keep. A DTD
/// is skipped and entities other than XML's own are not expanded (`entities_refused`):
/// Word writes neither.
fn part_text(
    xml: &[u8],
    budget: &Budget,
    out: &mut String,
    warnings: &mut Warnings,
) -> Result<(), Warning> {
    let max_text = budget.text_left();
    let mut reader = Reader::from_reader(xml);
    reader.config_mut().check_end_names = false;
    let mut buf = Vec::new();
    let mut in_text = false;
    let mut skip_depth = 0usize; // inside mc:Fallback, w:instrText, w:delText
    let mut table_depth = 0usize;
    let mut events = 0usize;
    loop {
        events += 1;
        if events.is_multiple_of(8192) && budget.expired() {
            return Err(Warning::TruncatedAtLimit);
        }
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => match e.name().as_ref() {
                b"mc:Fallback" | b"w:instrText" | b"w:delText" => skip_depth += 1,
                b"w:t" if skip_depth == 0 => in_text = true,
                b"w:tbl" => table_depth += 1,
                _ => {}
            },
            Ok(Event::Empty(e)) if skip_depth == 0 => match e.name().as_ref() {
                b"w:tab" => out.push('\t'),
                b"w:br" | b"w:cr" => out.push('\n'),
                b"w:noBreakHyphen" => out.push('-'),
                _ => {}
            },
            Ok(Event::Text(t)) if in_text && skip_depth == 0 => {
                let raw = t.into_inner();
                match quick_xml::escape::unescape(&String::from_utf8_lossy(&raw)) {
                    Ok(s) => out.push_str(&s),
                    Err(_) => out.push_str(&String::from_utf8_lossy(&raw)),
                }
            }
            Ok(Event::DocType(_)) => warnings.add(Warning::EntitiesRefused),
            Ok(Event::GeneralRef(r)) => {
                let name = String::from_utf8_lossy(&r);
                match quick_xml::escape::unescape(&format!("&{name};")) {
                    Ok(s) if in_text && skip_depth == 0 => out.push_str(&s),
                    Ok(_) => {}
                    Err(_) => warnings.add(Warning::EntitiesRefused),
                }
            }
            Ok(Event::End(e)) => match e.name().as_ref() {
                b"mc:Fallback" | b"w:instrText" | b"w:delText" => {
                    skip_depth = skip_depth.saturating_sub(1)
                }
                b"w:t" => in_text = false,
                b"w:p" if skip_depth == 0 => out.push(if table_depth > 0 { ' ' } else { '\n' }),
                b"w:tc" if skip_depth == 0 => {
                    while out.ends_with(' ') {
                        out.pop();
                    }
                    out.push('\t');
                }
                b"w:tr" if skip_depth == 0 => {
                    while out.ends_with('\t') {
                        out.pop();
                    }
                    out.push('\n');
                }
                b"w:tbl" => table_depth = table_depth.saturating_sub(1),
                _ => {}
            },
            Ok(Event::Eof) => return Ok(()),
            Ok(_) => {}
            Err(_) => return Err(Warning::Malformed),
        }
        if out.len() > max_text {
            return Err(Warning::TruncatedAtLimit);
        }
        buf.clear();
    }
}

fn numbered(names: &[String], prefix: &str) -> Vec<String> {
    let mut parts: Vec<String> = names
        .iter()
        .filter(|n| n.starts_with(prefix) && n.ends_with(".xml") && !n.contains("/_rels/"))
        .cloned()
        .collect();
    parts.sort_by_key(|n| {
        let digits: String = n.chars().filter(char::is_ascii_digit).collect();
        (digits.parse::<u64>().unwrap_or(0), n.clone())
    });
    parts
}

pub fn extract(bytes: &[u8], budget: &Budget, out: &mut Extracted) {
    let mut archive = match zip::ZipArchive::new(Cursor::new(bytes)) {
        Ok(a) => a,
        Err(_) => {
            out.warnings.add(Warning::Malformed);
            return;
        }
    };
    if archive.len() > budget.limits.max_zip_entries {
        out.warnings.add(Warning::TruncatedAtLimit);
        return;
    }
    let names: Vec<String> = archive.file_names().map(str::to_owned).collect();
    let body = if names.iter().any(|n| n == "word/document.xml") {
        "word/document.xml"
    } else {
        "word/document2.xml"
    };
    let mut parts = numbered(&names, "word/header");
    parts.push(body.to_owned());
    parts.extend(numbered(&names, "word/footnotes"));
    parts.extend(numbered(&names, "word/footer"));
    // One text allowance for the whole document (and its siblings, when it is an
    // attachment): once it is used up, no further part is opened.
    let mut text = String::new();
    for name in parts {
        if budget.text_left() == 0 {
            out.warnings.add(Warning::TruncatedAtLimit);
            break;
        }
        match member(&mut archive, &name, budget.limits.max_stream_bytes) {
            Ok(Some(xml)) => {
                let mut part = String::new();
                if let Err(w) = part_text(&xml, budget, &mut part, &mut out.warnings) {
                    out.warnings.add(w);
                }
                let part = part.trim_matches('\n');
                if !part.is_empty() {
                    let mut piece = format!("{part}\n");
                    if budget.keep_text(&mut piece) {
                        out.warnings.add(Warning::TruncatedAtLimit);
                    }
                    text.push_str(&piece);
                }
            }
            Ok(None) => {
                if name == body {
                    out.warnings.add(Warning::Malformed);
                }
            }
            Err(w) => out.warnings.add(w),
        }
    }
    out.text = text;
    // Word records the page count it last laid out.
    if let Ok(Some(app)) = member(&mut archive, "docProps/app.xml", 1024 * 1024) {
        let app = String::from_utf8_lossy(&app);
        if let Some(start) = app.find("<Pages>") {
            let rest = &app[start + 7..];
            out.pages = rest.split('<').next().and_then(|n| n.trim().parse().ok());
        }
    }
}
