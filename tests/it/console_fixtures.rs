//! The console's GOV.UK component markup checked against the fixtures.json each vendored
//! component ships: pages are rendered in process (with forms in error, banners and a
//! paginated register), parsed, and every component instance on them compared with what
//! the fixtures' own HTML has: element names, the nesting of BEM parts, the attributes
//! the fixtures always carry, and that references (`for`, `aria-describedby`, `#id`)
//! resolve. The expectations are derived from crates/web/vendor/fixtures/*.json, so the
//! check follows the vendored version.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use chrono::{DateTime, TimeZone, Utc};
use http_body_util::BodyExt as _;
use postroom::app::{Acknowledgements, App, Front};
use postroom::clock::Clock;
use postroom::config::Config;
use postroom::console::authz::Role;
use postroom::console::{ConsoleSettings, LocalToken};
use tower::ServiceExt as _;

// ---------------------------------------------------------------------------------------
// A small HTML parser: enough of the HTML tree-building rules for well-formed pages
// (void elements, raw text, SVG self-closing tags, the implied end tags HTML allows and
// the `<p>` a block element closes), recording every place where the tree the browser
// builds differs from what the markup says.
// ---------------------------------------------------------------------------------------

const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];
const RAW_TEXT: &[&str] = &["script", "style", "textarea", "title"];
/// Start tags that close an open `<p>` (HTML's "close a p element").
const CLOSES_P: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "details",
    "dialog",
    "div",
    "dl",
    "dd",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "li",
    "main",
    "menu",
    "nav",
    "ol",
    "p",
    "pre",
    "search",
    "section",
    "summary",
    "table",
    "ul",
];
/// Elements whose end tag HTML lets the author leave out.
const OPTIONAL_END: &[&str] = &[
    "body", "colgroup", "dd", "dt", "head", "html", "li", "optgroup", "option", "p", "rp", "rt",
    "tbody", "td", "tfoot", "th", "thead", "tr",
];
/// Where the search for an open `<p>` (or `<li>`, `<dt>`…) to close stops.
const SCOPE: &[&str] = &[
    "applet", "button", "caption", "html", "marquee", "object", "table", "td", "template", "th",
];

#[derive(Debug)]
struct El {
    tag: String,
    attrs: Vec<(String, String)>,
    parent: Option<usize>,
    line: usize,
}

impl El {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn classes(&self) -> impl Iterator<Item = &str> {
        self.attr("class").unwrap_or("").split_ascii_whitespace()
    }

    fn describe(&self) -> String {
        match self.attr("class") {
            Some(c) => format!("<{} class=\"{c}\">", self.tag),
            None => format!("<{}>", self.tag),
        }
    }
}

#[derive(Debug, Default)]
struct Html {
    els: Vec<El>,
    /// (line, element concerned, what is wrong).
    problems: Vec<(usize, Option<usize>, String)>,
}

impl Html {
    /// The element and its ancestors, nearest first.
    fn ancestors(&self, at: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(Some(at), |&i| self.els[i].parent)
    }
}

fn decode(value: &str) -> String {
    if !value.contains('&') {
        return value.to_owned();
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';').filter(|&e| e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let named = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            _ => None,
        };
        let numeric = || {
            let n = entity.strip_prefix('#')?;
            let code = match n.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => n.parse().ok()?,
            };
            char::from_u32(code)
        };
        match named.or_else(numeric) {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn parse(src: &str) -> Html {
    let b = src.as_bytes();
    let newlines: Vec<usize> = src.match_indices('\n').map(|(i, _)| i).collect();
    let line_at = |at: usize| newlines.partition_point(|&n| n < at) + 1;
    let find = |from: usize, what: &str| src[from..].find(what).map(|i| from + i);
    let mut html = Html::default();
    let mut stack: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'<' {
            i = find(i, "<").unwrap_or(b.len());
            continue;
        }
        if src[i..].starts_with("<!--") {
            i = find(i + 4, "-->").map_or(b.len(), |e| e + 3);
            continue;
        }
        if matches!(b.get(i + 1), Some(b'!' | b'?')) {
            i = find(i, ">").map_or(b.len(), |e| e + 1);
            continue;
        }
        let line = line_at(i);
        let closing = b.get(i + 1) == Some(&b'/');
        let name_at = if closing { i + 2 } else { i + 1 };
        if !b.get(name_at).is_some_and(u8::is_ascii_alphabetic) {
            i += 1;
            continue;
        }
        let mut j = name_at;
        while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'/' && b[j] != b'>' {
            j += 1;
        }
        let tag = src[name_at..j].to_ascii_lowercase();
        if closing {
            i = find(j, ">").map_or(b.len(), |e| e + 1);
            if VOID.contains(&tag.as_str()) {
                continue;
            }
            match stack.iter().rposition(|&e| html.els[e].tag == tag) {
                Some(pos) => {
                    for &open in &stack[pos + 1..] {
                        let el = &html.els[open];
                        if !OPTIONAL_END.contains(&el.tag.as_str()) {
                            html.problems.push((
                                el.line,
                                Some(open),
                                format!("{} is not closed before </{tag}>", el.describe()),
                            ));
                        }
                    }
                    stack.truncate(pos);
                }
                None => html.problems.push((
                    line,
                    None,
                    format!("</{tag}> closes nothing that is open"),
                )),
            }
            continue;
        }
        // The attributes.
        let mut attrs = Vec::new();
        let mut self_closing = false;
        loop {
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            match b.get(j) {
                None => break,
                Some(b'>') => {
                    j += 1;
                    break;
                }
                Some(b'/') => {
                    j += 1;
                    if b.get(j) == Some(&b'>') {
                        self_closing = true;
                        j += 1;
                        break;
                    }
                    continue;
                }
                Some(_) => {}
            }
            let start = j;
            while j < b.len() && !b[j].is_ascii_whitespace() && !matches!(b[j], b'/' | b'>' | b'=')
            {
                j += 1;
            }
            let name = src[start..j].to_ascii_lowercase();
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            let mut value = String::new();
            if b.get(j) == Some(&b'=') {
                j += 1;
                while j < b.len() && b[j].is_ascii_whitespace() {
                    j += 1;
                }
                match b.get(j) {
                    Some(&q @ (b'"' | b'\'')) => {
                        let end = src[j + 1..].find(q as char).map_or(b.len(), |e| j + 1 + e);
                        value = decode(&src[j + 1..end]);
                        j = (end + 1).min(b.len());
                    }
                    _ => {
                        let start = j;
                        while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'>' {
                            j += 1;
                        }
                        value = decode(&src[start..j]);
                    }
                }
            }
            if attrs.iter().any(|(k, _): &(String, String)| *k == name) {
                html.problems
                    .push((line, None, format!("<{tag}> has {name} twice")));
            } else {
                attrs.push((name, value));
            }
        }
        i = j;
        // The end tags HTML implies before this start tag.
        let open_in_scope = |stack: &[usize], els: &[El], names: &[&str], stop: &[&str]| {
            for (pos, &e) in stack.iter().enumerate().rev() {
                let t = els[e].tag.as_str();
                if names.contains(&t) {
                    return Some(pos);
                }
                if SCOPE.contains(&t) || stop.contains(&t) {
                    return None;
                }
            }
            None
        };
        if CLOSES_P.contains(&tag.as_str())
            && let Some(pos) = open_in_scope(&stack, &html.els, &["p"], &[])
        {
            let p = stack[pos];
            if tag != "p" {
                html.problems.push((
                    line,
                    Some(p),
                    format!(
                        "<{tag}> inside {} (line {}): HTML closes the <p> there",
                        html.els[p].describe(),
                        html.els[p].line
                    ),
                ));
            }
            stack.truncate(pos);
        }
        let implied: Option<(&[&str], &[&str])> = match tag.as_str() {
            "li" => Some((&["li"], &["ul", "ol", "menu"])),
            "dt" | "dd" => Some((&["dt", "dd"], &["dl"])),
            "tr" => Some((&["tr"], &["thead", "tbody", "tfoot"])),
            "td" | "th" => Some((&["td", "th"], &["tr"])),
            "thead" | "tbody" | "tfoot" => Some((&["thead", "tbody", "tfoot"], &[])),
            "option" => Some((&["option"], &["select", "datalist", "optgroup"])),
            _ => None,
        };
        if let Some((names, stop)) = implied
            && let Some(pos) = open_in_scope(&stack, &html.els, names, stop)
        {
            stack.truncate(pos);
        }
        let in_svg = tag == "svg" || stack.iter().any(|&e| html.els[e].tag == "svg");
        let at = html.els.len();
        html.els.push(El {
            tag: tag.clone(),
            attrs,
            parent: stack.last().copied(),
            line,
        });
        if VOID.contains(&tag.as_str()) {
            continue;
        }
        if self_closing && in_svg {
            continue;
        }
        if self_closing {
            html.problems
                .push((line, Some(at), format!("<{tag}/> does not close in HTML")));
        }
        stack.push(at);
        if RAW_TEXT.contains(&tag.as_str()) {
            let lower = src[i..].to_ascii_lowercase();
            i = lower.find(&format!("</{tag}")).map_or(b.len(), |e| i + e);
        }
    }
    for &open in &stack {
        let el = &html.els[open];
        if !OPTIONAL_END.contains(&el.tag.as_str()) {
            html.problems.push((
                el.line,
                Some(open),
                format!("{} is never closed", el.describe()),
            ));
        }
    }
    html
}

#[test]
fn the_parser_builds_the_tree_html_does_and_names_what_differs() {
    let html = parse(
        "<!DOCTYPE html><div class=\"a b\" id=x data-v='1 &amp; 2'><p>one<div>two</div></p>\
         <ul><li>a<li><svg><path d=\"m0\"/></svg></ul><input disabled><textarea><b></textarea>\
         <!-- <span> --></div></span>",
    );
    let tags: Vec<&str> = html.els.iter().map(|e| e.tag.as_str()).collect();
    assert_eq!(
        tags,
        [
            "div", "p", "div", "ul", "li", "li", "svg", "path", "input", "textarea"
        ]
    );
    let parent = |i: usize| html.els[i].parent;
    // The inner div is the outer div's child: the <p> closed before it.
    assert_eq!(parent(2), Some(0));
    // The second <li> is the list's child, not the first item's; the path is the svg's.
    assert_eq!(parent(5), Some(3));
    assert_eq!(parent(7), Some(6));
    // Raw text is not markup; attributes are decoded; boolean attributes are present.
    assert_eq!(parent(9), Some(0));
    assert_eq!(html.els[0].attr("data-v"), Some("1 & 2"));
    assert_eq!(html.els[0].attr("id"), Some("x"));
    assert_eq!(html.els[8].attr("disabled"), Some(""));
    assert_eq!(html.els[0].classes().collect::<Vec<_>>(), ["a", "b"]);
    let problems: Vec<&str> = html.problems.iter().map(|p| p.2.as_str()).collect();
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(problems[0].starts_with("<div> inside <p>"), "{problems:?}");
    assert_eq!(problems[1], "</p> closes nothing that is open");
    assert_eq!(problems[2], "</span> closes nothing that is open");
}

// ---------------------------------------------------------------------------------------
// What the fixtures have.
// ---------------------------------------------------------------------------------------

/// Attributes whose value the fixtures fix (when every example has the same one); other
/// attributes (ids, names, links, labels, sizes) are the instance's own.
const FIXED_VALUES: &[&str] = &["role", "data-module", "type", "aria-hidden", "focusable"];

/// The attributes every example of one element carries: the value when all agree.
#[derive(Debug, Default)]
struct Always {
    examples: usize,
    attrs: BTreeMap<String, Option<String>>,
}

impl Always {
    fn add(&mut self, el: &El) {
        let here: BTreeMap<String, Option<String>> = el
            .attrs
            .iter()
            .filter(|(k, _)| k != "class")
            .map(|(k, v)| (k.clone(), Some(v.clone())))
            .collect();
        if self.examples == 0 {
            self.attrs = here;
        } else {
            self.attrs.retain(|k, v| match here.get(k) {
                None => false,
                Some(h) => {
                    if h != v {
                        *v = None;
                    }
                    true
                }
            });
        }
        self.examples += 1;
    }
}

#[derive(Debug, Default)]
struct Fixtures {
    /// Components: `govuk-<block>` whose fixtures file exists or which has BEM parts.
    blocks: BTreeSet<String>,
    /// Per component class (block or part, no modifier): the element names it is on.
    tags: BTreeMap<String, BTreeSet<String>>,
    /// Per part: the classes of the nearest element of its block around it ("" for none).
    parents: BTreeMap<String, BTreeSet<String>>,
    /// Per part: whether that element is always its parent.
    direct: BTreeMap<String, bool>,
    /// Per (class, element name, modifier or "", the element's other component
    /// classes or "*" for any): what every example carries. (An input that is also a
    /// date input's part leaves `aria-describedby` to its fieldset; a lone one has it.)
    always: BTreeMap<(String, String, String, String), Always>,
    /// The fixture files' component names, and how many examples each has.
    files: BTreeMap<String, usize>,
}

/// `govuk-summary-list__row--x` → `summary-list`, for GOV.UK classes (not `govuk-!-…`).
fn block_of(class: &str) -> Option<&str> {
    let rest = class.strip_prefix("govuk-")?;
    if rest.starts_with('!') {
        return None;
    }
    let rest = rest.split("--").next()?;
    rest.split("__").next()
}

impl Fixtures {
    fn load(dir: &std::path::Path) -> Fixtures {
        let mut parsed: Vec<(String, String, Html)> = Vec::new();
        let mut fx = Fixtures::default();
        let mut bad = Vec::new();
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("the fixtures")
            .map(|e| e.expect("an entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        entries.sort();
        for path in entries {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("a name")
                .to_owned();
            let text = std::fs::read_to_string(&path).expect("a fixtures file");
            let json: serde_json::Value = serde_json::from_str(&text).expect("fixtures JSON");
            let list = json["fixtures"].as_array().expect("a fixtures list");
            fx.files.insert(stem.clone(), list.len());
            fx.blocks.insert(stem.clone());
            for f in list {
                let name = f["name"].as_str().unwrap_or("?").to_owned();
                let html = parse(f["html"].as_str().expect("fixture html"));
                for p in &html.problems {
                    bad.push(format!("{stem} \"{name}\" line {}: {}", p.0, p.2));
                }
                parsed.push((stem.clone(), name, html));
            }
        }
        assert!(
            bad.is_empty(),
            "the fixtures parse as the browser builds them: {bad:#?}"
        );
        for (_, _, html) in &parsed {
            for el in &html.els {
                for class in el.classes() {
                    if class.contains("__")
                        && let Some(block) = block_of(class)
                    {
                        fx.blocks.insert(block.to_owned());
                    }
                }
            }
        }
        for (_, _, html) in &parsed {
            for (at, el) in html.els.iter().enumerate() {
                for class in fx.component_classes(el) {
                    fx.tags
                        .entry(class.to_owned())
                        .or_default()
                        .insert(el.tag.clone());
                    if class.contains("__") {
                        let (around, direct) = fx.around(html, at, class);
                        let found = around.map_or_else(
                            || BTreeSet::from([String::new()]),
                            |a| fx.same_block(&html.els[a], class),
                        );
                        fx.parents
                            .entry(class.to_owned())
                            .or_default()
                            .extend(found);
                        *fx.direct.entry(class.to_owned()).or_insert(true) &= direct;
                    }
                    for modifier in modifiers(el, class) {
                        for others in [fx.others(el, class), "*".to_owned()] {
                            fx.always
                                .entry((class.to_owned(), el.tag.clone(), modifier.clone(), others))
                                .or_default()
                                .add(el);
                        }
                    }
                }
            }
        }
        fx
    }

    /// The element's classes that are a component or one of its parts (no modifiers).
    fn component_classes<'a>(&self, el: &'a El) -> Vec<&'a str> {
        el.classes()
            .filter(|c| !c.contains("--"))
            .filter(|c| block_of(c).is_some_and(|b| self.blocks.contains(b)))
            .collect()
    }

    /// The element's component classes other than `class`, in order, as one key.
    fn others(&self, el: &El, class: &str) -> String {
        let mut others: Vec<&str> = self.component_classes(el);
        others.retain(|c| *c != class);
        others.sort_unstable();
        others.join(" ")
    }

    /// What every fixture example of `class` on this kind of element carries: from
    /// examples with the same other component classes where there are any.
    fn always(&self, el: &El, class: &str, modifier: &str) -> Option<&Always> {
        let key = |others: String| {
            (
                class.to_owned(),
                el.tag.clone(),
                modifier.to_owned(),
                others,
            )
        };
        self.always
            .get(&key(self.others(el, class)))
            .or_else(|| self.always.get(&key("*".to_owned())))
    }

    /// The classes of `el` of the same block as `class` (no modifiers).
    fn same_block(&self, el: &El, class: &str) -> BTreeSet<String> {
        let block = block_of(class);
        el.classes()
            .filter(|c| !c.contains("--") && block_of(c) == block)
            .map(str::to_owned)
            .collect()
    }

    /// The nearest element around `at` with a class of `class`'s block, and whether it
    /// is `at`'s parent.
    fn around(&self, html: &Html, at: usize, class: &str) -> (Option<usize>, bool) {
        let parent = html.els[at].parent;
        let found = html
            .ancestors(at)
            .skip(1)
            .find(|&a| !self.same_block(&html.els[a], class).is_empty());
        (found, found.is_some() && found == parent)
    }
}

/// The modifiers that mark a state the fixtures tie attributes to: a field in error
/// always points at its message (`aria-describedby`). Other modifiers (sizes, colours,
/// `--secondary`) have a few examples each, whose shared attributes are happenstance.
const STATE_MODIFIERS: &[&str] = &["error"];

/// "" (every example) and each state modifier of `class` the element has.
fn modifiers(el: &El, class: &str) -> Vec<String> {
    let prefix = format!("{class}--");
    std::iter::once(String::new())
        .chain(
            el.classes()
                .filter(|c| {
                    c.strip_prefix(&prefix)
                        .is_some_and(|m| STATE_MODIFIERS.contains(&m))
                })
                .map(str::to_owned),
        )
        .collect()
}

fn list(set: &BTreeSet<String>, show: impl Fn(&str) -> String) -> String {
    set.iter().map(|s| show(s)).collect::<Vec<_>>().join(" or ")
}

/// Where one mismatch was seen.
type Seen = BTreeMap<String, BTreeSet<String>>;

/// Checks one rendered page; each mismatch is "component: element: what is wrong; what
/// the fixtures have", with where on the page it was.
fn check_page(fx: &Fixtures, page: &str, src: &str, out: &mut Seen, used: &mut Seen) {
    let html = parse(src);
    let component = |at: usize| -> String {
        html.ancestors(at)
            .find_map(|a| {
                fx.component_classes(&html.els[a])
                    .first()
                    .and_then(|c| block_of(c))
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| "page".into())
    };
    let mut report = |at: Option<usize>, line: usize, what: String| {
        let component = at.map_or_else(|| "page".into(), component);
        out.entry(format!("{component}: {what}"))
            .or_default()
            .insert(format!("{page} (line {line})"));
    };
    for (line, at, what) in &html.problems {
        report(*at, *line, what.clone());
    }
    // The ids on the page, and which elements a label may point at.
    let mut ids: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (at, el) in html.els.iter().enumerate() {
        if let Some(id) = el.attr("id") {
            ids.entry(id).or_default().push(at);
        }
    }
    for (id, at) in &ids {
        if at.len() > 1 {
            let el = &html.els[at[1]];
            report(
                Some(at[1]),
                el.line,
                format!("id \"{id}\" is on {} elements", at.len()),
            );
        }
    }
    for (at, el) in html.els.iter().enumerate() {
        let here = |what: String| (Some(at), el.line, format!("{} {what}", el.describe()));
        let mut found = Vec::new();
        // The component's own markup.
        for class in fx.component_classes(el) {
            if let Some(block) = block_of(class) {
                used.entry(block.to_owned())
                    .or_default()
                    .insert(page.to_owned());
            }
            let Some(tags) = fx.tags.get(class) else {
                found.push(here(format!(
                    "has {class}, which no fixture has: a part this version does not have"
                )));
                continue;
            };
            if !tags.contains(&el.tag) {
                found.push(here(format!(
                    "is a <{}>; the fixtures have {class} on {}",
                    el.tag,
                    list(tags, |t| format!("<{t}>"))
                )));
                continue;
            }
            if class.contains("__") {
                let (around, direct) = fx.around(&html, at, class);
                let want = &fx.parents[class];
                let classes = around.map_or_else(
                    || BTreeSet::from([String::new()]),
                    |a| fx.same_block(&html.els[a], class),
                );
                let shown = |c: &str| {
                    if c.is_empty() {
                        format!("outside any govuk-{}", block_of(class).unwrap_or(""))
                    } else {
                        format!("inside {c}")
                    }
                };
                if classes.is_disjoint(want) {
                    found.push(here(format!(
                        "is {}; the fixtures have {class} only {}",
                        list(&classes, shown),
                        list(want, shown)
                    )));
                } else if fx.direct[class] && !direct {
                    found.push(here(format!(
                        "is not a direct child of {}; in the fixtures it always is",
                        list(&classes, |c| c.to_owned())
                    )));
                }
            }
            for modifier in modifiers(el, class) {
                let Some(always) = fx.always(el, class, &modifier) else {
                    continue;
                };
                let with = if modifier.is_empty() {
                    String::new()
                } else {
                    format!(" with {modifier}")
                };
                for (name, value) in &always.attrs {
                    match (el.attr(name), value) {
                        (None, _) => found.push(here(format!(
                            "has no {name}; every fixture's <{}> {class}{with} has it ({} examples)",
                            el.tag, always.examples
                        ))),
                        (Some(v), Some(fixed))
                            if always.examples > 1
                                && FIXED_VALUES.contains(&name.as_str())
                                && v != fixed =>
                        {
                            found.push(here(format!(
                                "has {name}=\"{v}\"; every fixture's <{}> {class}{with} has {name}=\"{fixed}\"",
                                el.tag
                            )));
                        }
                        _ => {}
                    }
                }
            }
        }
        // What it points at is on the page.
        for name in ["aria-describedby", "aria-labelledby", "aria-controls"] {
            for id in el.attr(name).unwrap_or("").split_ascii_whitespace() {
                if !ids.contains_key(id) {
                    found.push(here(format!(
                        "has {name} \"{id}\", and no element has that id"
                    )));
                }
            }
        }
        if el.tag == "label"
            && let Some(target) = el.attr("for")
        {
            let labelable = [
                "input", "select", "textarea", "button", "meter", "output", "progress",
            ];
            match ids.get(target) {
                None => found.push(here(format!(
                    "is for \"{target}\", and no element has that id"
                ))),
                Some(t) if !labelable.contains(&html.els[t[0]].tag.as_str()) => {
                    found.push(here(format!(
                        "is for \"{target}\", a <{}>, which is not a form control",
                        html.els[t[0]].tag
                    )))
                }
                Some(_) => {}
            }
        }
        if let Some(fragment) = el.attr("href").and_then(|h| h.strip_prefix('#'))
            && !fragment.is_empty()
            && !ids.contains_key(fragment)
        {
            found.push(here(format!(
                "links to #{fragment}, and no element has that id"
            )));
        }
        for (at, line, what) in found {
            report(at, line, what);
        }
    }
}

// ---------------------------------------------------------------------------------------
// The console in process (as tests/it/console.rs sets it up), and the pages it renders.
// ---------------------------------------------------------------------------------------

#[derive(Debug)]
/// A clock the test moves on.
struct StepClock(Mutex<DateTime<Utc>>);

impl Clock for StepClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock")
    }
}

struct Console {
    _dir: tempfile::TempDir,
    app: Arc<App>,
    clock: Arc<StepClock>,
    router: axum::Router,
    cookie: String,
    csrf: String,
    /// (what was asked, the HTML answered).
    pages: Vec<(String, String)>,
}

const TOKEN: &str = "token-for-everyone-0123456789";

/// A console over a fresh embedded store holding the demo post, signed in with every role.
async fn console() -> Console {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = Config::local(dir.path());
    let stores = postroom::app::local_stores(&config).expect("local stores");
    let clock = Arc::new(StepClock(Mutex::new(
        Utc.with_ymd_and_hms(2026, 12, 7, 9, 30, 0)
            .single()
            .expect("a time"),
    )));
    let app = Arc::new(App::with_stores(
        config,
        stores,
        clock.clone(),
        Front::named("console", Acknowledgements::Off),
    ));
    postroom::demo::run(&app).await.expect("the demo post");
    let tokens = vec![LocalToken::new(TOKEN, "everyone", Role::ALL.to_vec())];
    let router = postroom::console::router(app.clone(), ConsoleSettings::local(tokens));
    let mut c = Console {
        _dir: dir,
        app,
        clock,
        router,
        cookie: String::new(),
        csrf: String::new(),
        pages: Vec::new(),
    };
    let answer = c.send(get(&format!("/sign-in?token={TOKEN}"), None)).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let set = answer.headers()[header::SET_COOKIE]
        .to_str()
        .expect("ascii");
    c.cookie = set.split(';').next().expect("a cookie").to_owned();
    let html = c.keep("/", get("/", Some(&c.cookie)), StatusCode::OK).await;
    let needle = "name=\"csrf_token\" value=\"";
    let at = html.find(needle).expect("a form token") + needle.len();
    c.csrf = html[at..at + html[at..].find('"').expect("end")].to_owned();
    c
}

fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut r = Request::get(path).header(header::ACCEPT, "text/html");
    if let Some(c) = cookie {
        r = r.header(header::COOKIE, c);
    }
    r.body(Body::empty()).expect("a request")
}

async fn body(answer: Response<Body>) -> String {
    let bytes = answer
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

impl Console {
    async fn send(&self, request: Request<Body>) -> Response<Body> {
        self.router
            .clone()
            .oneshot(request)
            .await
            .expect("an answer")
    }

    fn post(&self, path: &str, form: &str) -> Request<Body> {
        Request::post(path)
            .header(header::COOKIE, &self.cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(format!("csrf_token={}&{form}", self.csrf)))
            .expect("a request")
    }

    /// A multipart form: the token first, then each (field, file name, bytes).
    fn multipart(&self, path: &str, files: &[(&str, &str, &[u8])]) -> Request<Body> {
        let boundary = "console-fixtures-boundary";
        let mut out = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{}\r\n",
            self.csrf
        )
        .into_bytes();
        for (field, name, bytes) in files {
            out.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            out.extend_from_slice(bytes);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        Request::post(path)
            .header(header::COOKIE, &self.cookie)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(out))
            .expect("a request")
    }

    fn page(&self, path: &str) -> Request<Body> {
        get(path, Some(&self.cookie))
    }

    /// Sends the request, expects `want`, and keeps the page to check.
    async fn keep(&mut self, what: &str, request: Request<Body>, want: StatusCode) -> String {
        let answer = self.send(request).await;
        let status = answer.status();
        let html = body(answer).await;
        let start: String = html.chars().take(3000).collect();
        assert_eq!(status, want, "{what}: {start}");
        assert!(html.contains("<html"), "{what} is a page: {start}");
        self.pages.push((what.to_owned(), html.clone()));
        html
    }

    /// Sends the request, expects a redirect: where to.
    async fn follow(&self, what: &str, request: Request<Body>) -> String {
        let answer = self.send(request).await;
        let status = answer.status();
        let to = answer
            .headers()
            .get(header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .map(str::to_owned);
        let start: String = body(answer).await.chars().take(3000).collect();
        assert_eq!(status, StatusCode::SEE_OTHER, "{what}: {start}");
        to.expect("a location")
    }
}

/// Every page the console has, as tests/it/console.rs lists them.
const PAGES: &[&str] = &[
    "/",
    "/inbox",
    "/cases",
    "/cases/CNST%2F25%2F008879",
    "/cases/SHA%2F22961",
    "/claims/deadlines",
    "/cases/import",
    "/foi",
    "/foi?view=due",
    "/foi?view=overdue",
    "/foi?view=closed",
    "/foi/FOI_7001",
    "/foi/new",
    "/uploads/new",
    "/letters",
    "/letters/claim-acknowledgement",
    "/letters/claim-acknowledgement/new",
    "/letters/claim-acknowledgement/batch",
    "/audit?case=CNST%2F25%2F008879",
    "/jobs",
    "/foi/statistics",
    "/foi/disclosure-log",
];

/// Renders every page, and the same pages with forms in error, banners shown, a job's
/// progress and a register long enough to have a next page.
async fn rendered_pages() -> Vec<(String, String)> {
    use StatusCode as S;
    let mut c = console().await;
    for path in PAGES.iter().skip(1) {
        c.keep(path, c.page(path), S::OK).await;
    }
    // Documents: filed, unfiled, and filing to a case that does not exist.
    let unfiled: Vec<String> = c
        .app
        .cases
        .inbox_view()
        .await
        .expect("inbox")
        .into_iter()
        .filter_map(|e| e.doc_id)
        .collect();
    let mut documents = unfiled.clone();
    for case in ["CNST/25/008879", "SHA/22961"] {
        let view = c.app.cases.view(case).await.expect("view");
        let view = view.expect("a demo case");
        documents.extend(view.documents().filter_map(|d| d.doc_id.clone()));
    }
    assert!(documents.len() > unfiled.len() && !unfiled.is_empty());
    for doc in &documents {
        let path = format!("/documents/{doc}");
        c.keep(&path, c.page(&path), S::OK).await;
    }
    let unfiled = &unfiled[0];
    c.keep(
        "filing to a case that does not exist",
        c.post(
            &format!("/inbox/{unfiled}/file"),
            "case_ref=CNST%2F99%2F000001&then=next",
        ),
        S::UNPROCESSABLE_ENTITY,
    )
    .await;
    let path = "/inbox?filed=CNST%2F25%2F008879";
    c.keep(path, c.page(path), S::OK).await;
    // An FOI request: logged, moved, answered and published, with each form in error.
    c.keep(
        "an empty FOI request",
        c.post("/foi", "received=5+May"),
        S::UNPROCESSABLE_ENTITY,
    )
    .await;
    let request = c
        .follow(
            "an FOI request",
            c.post(
                "/foi",
                "requester=Ms+Ada+Example&received=2026-12-01&text=How+many+claims+were+settled%3F",
            ),
        )
        .await;
    c.keep(&request, c.page(&request), S::OK).await;
    let moves = format!("{request}/moves");
    c.follow(
        "start work",
        c.post(&format!("{moves}/start_work"), "on=2026-12-02"),
    )
    .await;
    c.keep(
        "an extension without its reason",
        c.post(
            &format!("{moves}/extend_for_public_interest"),
            "on=2026-12-03&days=20&reason=+",
        ),
        S::UNPROCESSABLE_ENTITY,
    )
    .await;
    c.keep(
        "a response with a date that is not one",
        c.post(&format!("{moves}/respond"), "on=3+December&outcome=granted"),
        S::UNPROCESSABLE_ENTITY,
    )
    .await;
    let moved = c
        .follow(
            "respond",
            c.post(
                &format!("{moves}/respond"),
                "on=2026-12-04&outcome=granted&exemptions=",
            ),
        )
        .await;
    c.keep(&moved, c.page(&moved), S::OK).await;
    let made = c
        .follow(
            "the response letter",
            c.post(
                &format!("{request}/letters/response"),
                "information=We+settled+12+claims.",
            ),
        )
        .await;
    c.keep(&made, c.page(&made), S::OK).await;
    let publish = format!("{request}/publish");
    c.keep(&publish, c.page(&publish), S::OK).await;
    c.keep(
        "publishing without the check",
        c.post(&publish, ""),
        S::UNPROCESSABLE_ENTITY,
    )
    .await;
    let published = c
        .follow("publishing", c.post(&publish, "checked=yes"))
        .await;
    c.keep(&published, c.page(&published), S::OK).await;
    // Uploads: none chosen, then one read in the background.
    c.keep(
        "an upload without a file",
        c.multipart("/uploads", &[]),
        S::UNPROCESSABLE_ENTITY,
    )
    .await;
    let upload = c
        .follow(
            "an upload",
            c.multipart(
                "/uploads",
                &[("files", "note.txt", b"A note about a car park.\n")],
            ),
        )
        .await;
    c.keep(&upload, c.page(&upload), S::OK).await;
    // Letters: a letter with nothing filled in, a batch without its file and with errors.
    c.keep(
        "a letter with nothing filled in",
        c.post("/letters/claim-acknowledgement/new", "action=make"),
        S::UNPROCESSABLE_ENTITY,
    )
    .await;
    let batch = "/letters/claim-acknowledgement/batch";
    c.keep(
        "a batch without its file",
        c.multipart(batch, &[]),
        S::UNPROCESSABLE_ENTITY,
    )
    .await;
    c.keep(
        "a batch with errors",
        c.multipart(
            batch,
            &[("csv", "batch.csv", b"case_ref\n\nCNST/25/008879\n")],
        ),
        S::UNPROCESSABLE_ENTITY,
    )
    .await;
    // Statistics in error; cases imported as a job, whose page shows its progress.
    c.keep(
        "statistics with nothing chosen",
        c.post("/foi/statistics", "from=19&to=x&threshold=1"),
        S::UNPROCESSABLE_ENTITY,
    )
    .await;
    c.keep(
        "an import without its file",
        c.multipart("/cases/import", &[]),
        S::UNPROCESSABLE_ENTITY,
    )
    .await;
    let job = c
        .follow(
            "an import",
            c.multipart(
                "/cases/import",
                &[(
                    "csv",
                    "cases.csv",
                    b"reference,kind,claimant,opened,date_of_birth\n\
                      CNST/24/004512,claim,Jane Smith,2024-01-10,1980-05-01\n\
                      CNST/24/4512,claim,Joe Bloggs,2024-01-10,\n",
                )],
            ),
        )
        .await;
    for _ in 0..200 {
        let answer = c.send(c.page(&job)).await;
        if body(answer).await.contains(">Done<") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    c.keep(&job, c.page(&job), S::OK).await;
    // A job that fails, and one that has stopped moving.
    let who = "console:everyone";
    let spec = |by: &str| postroom::jobs::JobSpec::ClaimsStatistics {
        by: vec![by.into()],
        from: 2019,
        to: 2026,
        threshold: 5,
    };
    let jobs = c.app.clone();
    let jobs = &jobs.jobs;
    jobs.create("fails", who, &spec("shoe_size"))
        .await
        .expect("a job");
    assert!(c.app.start_job("fails", who).await.expect("started"));
    for _ in 0..200 {
        if jobs
            .progress("fails", who)
            .await
            .expect("progress")
            .is_some_and(|p| p.state == "failed")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    c.keep("/jobs/fails", c.page("/jobs/fails"), S::OK).await;
    jobs.create("stalls", who, &spec("year"))
        .await
        .expect("a job");
    jobs.start("stalls", who).await.expect("marked as started");
    *c.clock.0.lock().expect("clock") +=
        chrono::Duration::seconds(postroom::jobs::STALLED_AFTER_SECONDS + 1);
    c.keep("/jobs/stalls", c.page("/jobs/stalls"), S::OK).await;
    // A register with a next page.
    for i in 0..51 {
        c.app
            .foi
            .open(postroom::foi::service::NewRequest {
                requester: format!("Requester {i}"),
                request_text: format!("Please send the figures for year {i}."),
                received: Some(chrono::NaiveDate::from_ymd_opt(2026, 11, 2).expect("a date")),
                title: None,
                source_doc: None,
            })
            .await
            .expect("open");
    }
    c.keep("/foi (a long register)", c.page("/foi"), S::OK)
        .await;
    // Refusals: a case event with a date that is not one, a page that does not exist, a
    // sign-in link that is wrong; and the page after signing out.
    c.keep(
        "a claim event with a date that is not one",
        c.post(
            "/cases/CNST%2F25%2F008879/claim-events",
            "event=defence_filed&on=someday",
        ),
        S::BAD_REQUEST,
    )
    .await;
    c.keep("/no-such-page", c.page("/no-such-page"), S::NOT_FOUND)
        .await;
    c.keep(
        "a wrong sign-in link",
        get("/sign-in?token=wrong", None),
        S::FORBIDDEN,
    )
    .await;
    c.keep("/signed-out", get("/signed-out", None), S::OK).await;
    c.pages
}

#[test]
fn the_check_names_each_kind_of_difference_from_the_fixtures() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let fx = Fixtures::load(&root.join("crates/web/vendor/fixtures"));
    // (markup, what the check must say about it)
    let cases = [
        (
            r#"<dl class="govuk-summary-list"><div class="govuk-summary-list__row"><div class="govuk-summary-list__key">K</div><dd class="govuk-summary-list__value">V</dd></div></dl>"#,
            r#"summary-list: <div class="govuk-summary-list__key"> is a <div>; the fixtures have govuk-summary-list__key on <dt>"#,
        ),
        (
            r#"<dl class="govuk-summary-list"><dd class="govuk-summary-list__value">V</dd></dl>"#,
            "is inside govuk-summary-list; the fixtures have govuk-summary-list__value only inside govuk-summary-list__row",
        ),
        (
            r#"<table class="govuk-table"><tbody class="govuk-table__body"><tr class="govuk-table__row"><th class="govuk-table__header">H</th></tr></tbody></table>"#,
            r#"table: <th class="govuk-table__header"> has no scope"#,
        ),
        (
            r#"<div class="govuk-error-summary" data-module="govuk-error"><div class="govuk-error-summary__body"></div></div>"#,
            r#"has data-module="govuk-error"; every fixture's <div> govuk-error-summary has data-module="govuk-error-summary""#,
        ),
        (
            r#"<strong class="govuk-tag"><span class="govuk-tag__icon"></span></strong>"#,
            "has govuk-tag__icon, which no fixture has",
        ),
        (
            r#"<label class="govuk-label" for="nowhere">L</label>"#,
            r#"is for "nowhere", and no element has that id"#,
        ),
        (
            r#"<label class="govuk-label" for="h">L</label><div class="govuk-hint" id="h">H</div>"#,
            "which is not a form control",
        ),
        (
            r#"<input class="govuk-input govuk-input--error" id="a" name="a" type="text">"#,
            "has no aria-describedby; every fixture's <input> govuk-input with govuk-input--error has it",
        ),
        (
            r#"<input class="govuk-input" id="a" name="a" type="text" aria-describedby="a-hint">"#,
            r#"has aria-describedby "a-hint", and no element has that id"#,
        ),
        (
            r##"<a class="govuk-back-link" href="#gone">Back</a>"##,
            "back-link: <a class=\"govuk-back-link\"> links to #gone",
        ),
        (
            r#"<p class="govuk-body" id="x"></p><p id="x"></p>"#,
            r#"page: id "x" is on 2 elements"#,
        ),
        (
            r#"<p class="govuk-body"><div class="govuk-inset-text">I</div></p>"#,
            "page: <div> inside <p class=\"govuk-body\"> (line 1): HTML closes the <p> there",
        ),
        (
            r#"<div class="govuk-details__text">T</div>"#,
            "is outside any govuk-details",
        ),
    ];
    for (html, want) in cases {
        let (mut out, mut used) = (Seen::new(), Seen::new());
        check_page(&fx, "test", html, &mut out, &mut used);
        assert!(
            out.keys().any(|k| k.contains(want)),
            "{html}\nwant: {want}\ngot: {:#?}",
            out.keys()
        );
    }
    // The components' own markup passes.
    let (mut out, mut used) = (Seen::new(), Seen::new());
    check_page(
        &fx,
        "test",
        r#"<dl class="govuk-summary-list"><div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">K</dt><dd class="govuk-summary-list__value">V</dd></div></dl>
           <div class="govuk-form-group govuk-form-group--error"><label class="govuk-label" for="a">A</label><p id="a-error" class="govuk-error-message"><span class="govuk-visually-hidden">Error:</span> Wrong</p><input class="govuk-input govuk-input--error" id="a" name="a" type="text" aria-describedby="a-error"></div>"#,
        &mut out,
        &mut used,
    );
    assert!(out.is_empty(), "{out:#?}");
    assert_eq!(
        used.keys().map(String::as_str).collect::<Vec<_>>(),
        ["error-message", "input", "label", "summary-list"]
    );
}

#[tokio::test]
async fn every_component_on_every_page_has_the_markup_of_its_gov_uk_fixtures() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let fx = Fixtures::load(&root.join("crates/web/vendor/fixtures"));
    // The fixtures are read: each component's elements, parts and attributes.
    assert!(
        fx.files.len() >= 20 && fx.files.values().all(|&n| n > 0),
        "{:?}",
        fx.files
    );
    assert!(fx.tags["govuk-summary-list__key"].contains("dt"));
    assert!(fx.parents["govuk-summary-list__row"].contains("govuk-summary-list"));
    assert!(
        fx.always[&(
            "govuk-table__header".into(),
            "th".into(),
            String::new(),
            "*".into()
        )]
            .attrs
            .contains_key("scope")
    );
    assert!(
        fx.always[&(
            "govuk-input".into(),
            "input".into(),
            "govuk-input--error".into(),
            String::new()
        )]
            .attrs
            .contains_key("aria-describedby")
    );
    let pages = rendered_pages().await;
    let mut mismatches = Seen::new();
    let mut used = Seen::new();
    for (page, html) in &pages {
        check_page(&fx, page, html, &mut mismatches, &mut used);
    }
    // Every component the templates use was on some page checked here.
    let mut unchecked = BTreeSet::new();
    for entry in std::fs::read_dir(root.join("src/console/templates")).expect("templates") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("a template");
        for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || "-_!".contains(c))) {
            if let Some(block) = block_of(word)
                && fx.blocks.contains(block)
                && !used.contains_key(block)
            {
                unchecked.insert(block.to_owned());
            }
        }
    }
    let report: Vec<String> = mismatches
        .iter()
        .map(|(what, wheres)| {
            let wheres: Vec<&String> = wheres.iter().collect();
            let more = wheres.len().saturating_sub(3);
            let shown: Vec<&str> = wheres.iter().take(3).map(|s| s.as_str()).collect();
            if more > 0 {
                format!("{what}\n    on {} and {more} more", shown.join(", "))
            } else {
                format!("{what}\n    on {}", shown.join(", "))
            }
        })
        .collect();
    assert!(
        report.is_empty() && unchecked.is_empty(),
        "components the templates use that no page here showed: {unchecked:?}\n{} differences from the GOV.UK fixtures on {} pages:\n{}",
        report.len(),
        pages.len(),
        report.join("\n")
    );
    eprintln!(
        "{} pages; components checked: {}",
        pages.len(),
        used.keys().cloned().collect::<Vec<_>>().join(", ")
    );
}
