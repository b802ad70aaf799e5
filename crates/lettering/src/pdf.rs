//! The PDF writer: laid-out pages → a tagged PDF (structure tree in reading order, title,
//! language, artifacts marked) with subset, embedded fonts and ToUnicode maps, so that
//! copied or extracted text is exactly the text written. Deterministic: no clock, and
//! the file id and subset tags are derived from the content.

use std::io::Write;

use pdf_writer::types::{
    ActionType, AnnotationType, ArtifactType, CidFontType, FontFlags, StructRole, SystemInfo,
    TabOrder, TableHeaderScope,
};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use sha2::{Digest, Sha256};

use super::font::{Style, fonts};
use super::layout::{Item, Laid, PAGE_H, PAGE_W, Role};
use super::programs;

/// What the document says about itself.
#[derive(Debug, Clone)]
pub struct DocInfo<'a> {
    pub title: &'a str,
    pub language: &'a str,
    pub creator: &'a str,
    /// Seeds the file id (for example a hash of the template version and data).
    pub id_seed: &'a [u8],
}

#[derive(Debug)]
enum Kid {
    Mcid { page: usize, mcid: i32 },
    Elem(usize),
    Annot { page: usize, annot: Ref },
}

fn role(r: Role) -> (StructRole, &'static [u8]) {
    match r {
        Role::Document => (StructRole::Document, b"Document"),
        Role::P => (StructRole::P, b"P"),
        Role::H1 => (StructRole::H1, b"H1"),
        Role::H2 => (StructRole::H2, b"H2"),
        Role::H3 => (StructRole::H3, b"H3"),
        Role::L => (StructRole::L, b"L"),
        Role::LI => (StructRole::LI, b"LI"),
        Role::Lbl => (StructRole::Lbl, b"Lbl"),
        Role::LBody => (StructRole::LBody, b"LBody"),
        Role::BlockQuote => (StructRole::BlockQuote, b"BlockQuote"),
        Role::Table => (StructRole::Table, b"Table"),
        Role::TR => (StructRole::TR, b"TR"),
        Role::TH => (StructRole::TH, b"TH"),
        Role::TD => (StructRole::TD, b"TD"),
        Role::Link => (StructRole::Link, b"Link"),
    }
}

const FONT_NAMES: [&[u8]; 4] = [b"F0", b"F1", b"F2", b"F3"];

/// Writes `laid` as a tagged PDF.
pub fn write(laid: &Laid, info: &DocInfo<'_>) -> Result<Vec<u8>, String> {
    let mut next = Ref::new(1);
    let mut alloc = || next.bump();
    let catalog_id = alloc();
    let tree_id = alloc();
    let info_id = alloc();
    let root_id = alloc();
    let meta_id = alloc();
    let page_ids: Vec<(Ref, Ref)> = laid.pages.iter().map(|_| (alloc(), alloc())).collect();
    let elem_ids: Vec<Ref> = laid.elems.iter().map(|_| alloc()).collect();

    let mut pdf = Pdf::with_capacity(64 * 1024);
    pdf.set_version(1, 7);
    // Each style's glyphs: the fixed base, then this letter's extras in order of use.
    let mut used = [false; 4];
    let mut extras: [Vec<(u16, char)>; 4] = Default::default();
    let mut extra_ids: [std::collections::HashMap<u16, u16>; 4] = Default::default();
    for item in laid.pages.iter().flatten() {
        if let Item::Text(run) = item {
            let s = run.style.index();
            used[s] = true;
            let base = programs::base(run.style);
            for &g in &run.gids {
                if base.new_gid(g).is_none() && !extra_ids[s].contains_key(&g) {
                    let c = laid.unicode[s].get(&g).copied().unwrap_or('\u{FFFD}');
                    extras[s].push((g, c));
                    extra_ids[s].insert(g, (base.len() + extras[s].len()) as u16);
                }
            }
        }
    }
    let font_refs: [Option<Ref>; 4] = std::array::from_fn(|i| used[i].then(&mut alloc));
    let mut kids: Vec<Vec<Kid>> = laid.elems.iter().map(|_| Vec::new()).collect();
    let mut attached = vec![false; laid.elems.len()];
    let mut parent_tree: Vec<(i32, Vec<Ref>)> = Vec::new();
    let mut annots: Vec<(i32, Ref, usize)> = Vec::new();
    let mut next_key = laid.pages.len() as i32;
    let mut glyph_bytes = Vec::with_capacity(256);

    for (p, page) in laid.pages.iter().enumerate() {
        let mut content = Content::new();
        let mut mcid_owners: Vec<Ref> = Vec::new();
        let mut open: Option<Option<usize>> = None; // Some(None) = artifact
        let mut page_annots: Vec<Ref> = Vec::new();
        for item in page {
            let leaf = match item {
                Item::Text(run) => run.leaf,
                Item::Line { .. } => None,
                Item::Link { .. } => continue,
            };
            if open != Some(leaf) {
                if open.is_some() {
                    content.end_marked_content();
                }
                match leaf {
                    None => {
                        content
                            .begin_marked_content_with_properties(Name(b"Artifact"))
                            .properties()
                            .artifact()
                            .kind(ArtifactType::Pagination);
                    }
                    Some(e) => {
                        let mcid = mcid_owners.len() as i32;
                        mcid_owners.push(elem_ids[e]);
                        content
                            .begin_marked_content_with_properties(Name(role(laid.elems[e].role).1))
                            .properties()
                            .identify(mcid);
                        kids[e].push(Kid::Mcid { page: p, mcid });
                        attach(laid, e, &mut kids, &mut attached);
                    }
                }
                open = Some(leaf);
            }
            match item {
                Item::Text(run) => {
                    let s = run.style.index();
                    let base = programs::base(run.style);
                    glyph_bytes.clear();
                    for &g in &run.gids {
                        let new = base
                            .new_gid(g)
                            .or_else(|| extra_ids[s].get(&g).copied())
                            .unwrap_or(0);
                        glyph_bytes.extend_from_slice(&new.to_be_bytes());
                    }
                    content
                        .begin_text()
                        .set_font(Name(FONT_NAMES[s]), run.size)
                        .set_text_matrix([1.0, 0.0, 0.0, 1.0, run.x, PAGE_H - run.y])
                        .show(Str(&glyph_bytes))
                        .end_text();
                }
                Item::Line {
                    x1,
                    y1,
                    x2,
                    y2,
                    width,
                } => {
                    content
                        .set_line_width(*width)
                        .set_stroke_gray(0.35)
                        .move_to(*x1, PAGE_H - y1)
                        .line_to(*x2, PAGE_H - y2)
                        .stroke();
                }
                Item::Link { .. } => {}
            }
        }
        if open.is_some() {
            content.end_marked_content();
        }
        // Link annotations, each tied to its Link element.
        for item in page {
            if let Item::Link { rect, url, elem } = item {
                let id = alloc();
                kids[*elem].push(Kid::Annot { page: p, annot: id });
                attach(laid, *elem, &mut kids, &mut attached);
                let mut annot = pdf.annotation(id);
                annot
                    .subtype(AnnotationType::Link)
                    .rect(Rect::new(
                        rect[0],
                        PAGE_H - rect[3],
                        rect[2],
                        PAGE_H - rect[1],
                    ))
                    .contents(TextStr(url))
                    .border(0.0, 0.0, 0.0, None)
                    .struct_parent(next_key);
                annot
                    .action()
                    .action_type(ActionType::Uri)
                    .uri(Str(url.as_bytes()));
                annot.finish();
                annots.push((next_key, id, *elem));
                next_key += 1;
                page_annots.push(id);
            }
        }
        parent_tree.push((p as i32, mcid_owners));
        let data = deflate(&content.finish(), 2)?;
        let (page_id, content_id) = page_ids[p];
        pdf.stream(content_id, &data).filter(Filter::FlateDecode);
        let mut page_w = pdf.page(page_id);
        page_w
            .parent(tree_id)
            .media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H))
            .contents(content_id)
            .struct_parents(p as i32)
            .tab_order(TabOrder::StructureOrder);
        if !page_annots.is_empty() {
            page_w.annotations(page_annots.iter().copied());
        }
        let mut res = page_w.resources();
        let mut fonts_dict = res.fonts();
        for (i, r) in font_refs.iter().enumerate() {
            if let Some(r) = r {
                fonts_dict.pair(Name(FONT_NAMES[i]), *r);
            }
        }
        fonts_dict.finish();
        res.finish();
        page_w.finish();
    }

    // Fonts: one Type0 font per style used, subset to the glyphs shown.
    for s in Style::ALL {
        let i = s.index();
        let Some(type0) = font_refs[i] else { continue };
        let font = &fonts()[i];
        let program = programs::program(s, &extras[i])?;
        let (cid, desc, file, cmap) = (alloc(), alloc(), alloc(), alloc());
        let base = program.base_font.as_str();
        pdf.type0_font(type0)
            .base_font(Name(base.as_bytes()))
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid)
            .to_unicode(cmap);
        let system = SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        };
        let mut cid_font = pdf.cid_font(cid);
        cid_font
            .subtype(CidFontType::Type2)
            .base_font(Name(base.as_bytes()))
            .system_info(system)
            .font_descriptor(desc)
            .default_width(0.0)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        cid_font
            .widths()
            .consecutive(0, program.widths.iter().copied());
        cid_font.finish();
        let mut flags = FontFlags::NON_SYMBOLIC;
        if font.italic {
            flags |= FontFlags::ITALIC;
        }
        pdf.font_descriptor(desc)
            .name(Name(base.as_bytes()))
            .flags(flags)
            .bbox(Rect::new(
                font.bbox[0],
                font.bbox[1],
                font.bbox[2],
                font.bbox[3],
            ))
            .italic_angle(font.italic_angle)
            .ascent(font.ascent)
            .descent(font.descent)
            .cap_height(font.cap_height)
            .stem_v(if font.bold { 140.0 } else { 80.0 })
            .font_file2(file);
        pdf.stream(file, &program.compressed)
            .filter(Filter::FlateDecode)
            .pair(Name(b"Length1"), program.length1 as i32);
        pdf.cmap(cmap, &program.cmap).filter(Filter::FlateDecode);
    }

    let mut page_tree = pdf.pages(tree_id);
    page_tree
        .kids(page_ids.iter().map(|(p, _)| *p))
        .count(laid.pages.len() as i32);
    page_tree.finish();

    // The structure tree.
    for (e, elem) in laid.elems.iter().enumerate() {
        if !attached[e] {
            continue;
        }
        let mut w = pdf.struct_element(elem_ids[e]);
        w.kind(role(elem.role).0);
        w.parent(match elem.parent {
            Some(p) => elem_ids[p],
            None => root_id,
        });
        if elem.role == Role::Link
            && let Some(url) = &elem.url
        {
            w.alt(TextStr(url));
        }
        if elem.role == Role::TH {
            w.attributes()
                .push()
                .table()
                .scope(TableHeaderScope::Column);
        }
        // Kids on one page name it once on the element and are bare MCIDs.
        let pages: std::collections::BTreeSet<usize> = kids[e]
            .iter()
            .filter_map(|k| match k {
                Kid::Mcid { page, .. } | Kid::Annot { page, .. } => Some(*page),
                Kid::Elem(_) => None,
            })
            .collect();
        let one_page = pages.first().copied().filter(|_| pages.len() == 1);
        if let Some(p) = one_page {
            w.page(page_ids[p].0);
        }
        let mut children = w.children();
        for kid in &kids[e] {
            match kid {
                Kid::Mcid { page, mcid } => {
                    if one_page.is_some() {
                        children.marked_content_id(*mcid);
                    } else {
                        children
                            .marked_content_ref()
                            .marked_content_id(*mcid)
                            .page(page_ids[*page].0);
                    }
                }
                Kid::Elem(c) => {
                    children.struct_element(elem_ids[*c]);
                }
                Kid::Annot { page, annot } => {
                    children.object_ref().object(*annot).page(page_ids[*page].0);
                }
            }
        }
        children.finish();
        w.finish();
    }
    {
        let mut root = pdf.indirect(root_id).dict();
        root.pair(Name(b"Type"), Name(b"StructTreeRoot"));
        root.pair(Name(b"K"), elem_ids[0]);
        let mut tree = root.insert(Name(b"ParentTree")).dict();
        let mut nums = tree.insert(Name(b"Nums")).array();
        for (key, owners) in &parent_tree {
            nums.item(*key);
            nums.push().array().items(owners.iter().copied());
        }
        for (key, _, elem) in &annots {
            nums.item(*key);
            nums.item(elem_ids[*elem]);
        }
        nums.finish();
        tree.finish();
        root.pair(Name(b"ParentTreeNextKey"), next_key);
    }

    let xmp = xmp(info);
    pdf.stream(meta_id, xmp.as_bytes())
        .pair(Name(b"Type"), Name(b"Metadata"))
        .pair(Name(b"Subtype"), Name(b"XML"));

    let mut catalog = pdf.catalog(catalog_id);
    catalog
        .pages(tree_id)
        .lang(TextStr(info.language))
        .metadata(meta_id)
        .pair(Name(b"StructTreeRoot"), root_id);
    catalog.mark_info().marked(true);
    catalog.viewer_preferences().display_doc_title(true);
    catalog.finish();
    pdf.document_info(info_id)
        .title(TextStr(info.title))
        .creator(TextStr(info.creator))
        .producer(TextStr("postroom"));
    let id = Sha256::digest(info.id_seed)[..16].to_vec();
    pdf.set_file_id((id.clone(), id));
    let xref_id = alloc();
    Ok(pdf.finish_with_xref_stream_and_filter(xref_id, |data| {
        // Compressing into memory does not fail; if it ever did, hex still reads.
        match deflate(data, 2) {
            Ok(packed) => (packed, pdf_writer::XRefFilter::Single(Filter::FlateDecode)),
            Err(_) => (
                hex::encode(data).into_bytes(),
                pdf_writer::XRefFilter::Single(Filter::AsciiHexDecode),
            ),
        }
    }))
}

/// Adds `e` to its parent's kids the first time content of `e` is met, and so on up, so
/// the tree's order is the reading order.
fn attach(laid: &Laid, e: usize, kids: &mut [Vec<Kid>], attached: &mut [bool]) {
    let mut e = e;
    while !attached[e] {
        attached[e] = true;
        match laid.elems[e].parent {
            Some(p) => {
                kids[p].push(Kid::Elem(e));
                e = p;
            }
            None => break,
        }
    }
}

/// zlib at `level` (content streams use a fast level; font programs, built once per
/// process, the best).
pub(super) fn deflate(data: &[u8], level: u32) -> Result<Vec<u8>, String> {
    let mut enc = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(data.len() / 2),
        flate2::Compression::new(level),
    );
    enc.write_all(data)
        .map_err(|e| format!("compressing: {e}"))?;
    enc.finish().map_err(|e| format!("compressing: {e}"))
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn xmp(info: &DocInfo<'_>) -> String {
    format!(
        r#"<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/"><dc:title><rdf:Alt><rdf:li xml:lang="x-default">{}</rdf:li></rdf:Alt></dc:title><dc:language><rdf:Bag><rdf:li>{}</rdf:li></rdf:Bag></dc:language><pdf:Producer>postroom</pdf:Producer></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="r"?>"#,
        xml_escape(info.title),
        xml_escape(info.language)
    )
}
