//! Hinting removal for subset TrueType fonts: drops the `fpgm`, `prep` and `cvt ` tables
//! and every glyph's instructions. PDF viewers render at high resolution and mostly ignore
//! TrueType hints; DejaVu's hints are about half of a subset's size, and a letter's size
//! matters when thousands are stored and sent.

const DROP: [&[u8; 4]; 5] = [b"fpgm", b"prep", b"cvt ", b"hdmx", b"LTSH"];

fn u16_at(d: &[u8], at: usize) -> Option<u16> {
    d.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]]))
}

fn u32_at(d: &[u8], at: usize) -> Option<u32> {
    d.get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Returns the font without hinting, or `None` if it is not a TrueType font this
/// understands (the caller then embeds it as it is).
pub fn strip_hints(font: &[u8]) -> Option<Vec<u8>> {
    let num_tables = usize::from(u16_at(font, 4)?);
    let mut tables: Vec<([u8; 4], &[u8])> = Vec::with_capacity(num_tables);
    for i in 0..num_tables {
        let rec = 12 + 16 * i;
        let tag: [u8; 4] = font.get(rec..rec + 4)?.try_into().ok()?;
        let offset = u32_at(font, rec + 8)? as usize;
        let length = u32_at(font, rec + 12)? as usize;
        tables.push((tag, font.get(offset..offset.checked_add(length)?)?));
    }
    let find = |tag: &[u8; 4]| tables.iter().find(|(t, _)| t == tag).map(|(_, d)| *d);
    let head = find(b"head")?;
    let maxp = find(b"maxp")?;
    let glyf = find(b"glyf")?;
    let loca = find(b"loca")?;
    let long = i16::from_be_bytes(head.get(50..52)?.try_into().ok()?) == 1;
    let glyphs = usize::from(u16_at(maxp, 4)?);
    let offset = |i: usize| -> Option<usize> {
        if long {
            u32_at(loca, 4 * i).map(|o| o as usize)
        } else {
            u16_at(loca, 2 * i).map(|o| usize::from(o) * 2)
        }
    };
    let mut new_glyf = Vec::with_capacity(glyf.len());
    let mut new_loca = Vec::with_capacity((glyphs + 1) * 4);
    for g in 0..glyphs {
        new_loca.extend_from_slice(&(new_glyf.len() as u32).to_be_bytes());
        let (start, end) = (offset(g)?, offset(g + 1)?);
        if end <= start {
            continue;
        }
        let data = glyf.get(start..end)?;
        strip_glyph(data, &mut new_glyf)?;
        while new_glyf.len() % 4 != 0 {
            new_glyf.push(0);
        }
    }
    new_loca.extend_from_slice(&(new_glyf.len() as u32).to_be_bytes());

    let mut new_head = head.to_vec();
    new_head[8..12].copy_from_slice(&[0; 4]); // checkSumAdjustment, recomputed below
    new_head[50..52].copy_from_slice(&1i16.to_be_bytes());
    let mut new_maxp = maxp.to_vec();
    if new_maxp.len() >= 32 {
        // No instructions, no twilight zone, no storage, no function defs.
        for field in [16usize, 18, 20, 22, 24, 26] {
            new_maxp[field..field + 2].copy_from_slice(&[0, 0]);
        }
    }
    let mut out_tables: Vec<([u8; 4], Vec<u8>)> = Vec::new();
    for (tag, data) in &tables {
        if DROP.contains(&tag) {
            continue;
        }
        let data = match tag {
            b"glyf" => std::mem::take(&mut new_glyf),
            b"loca" => std::mem::take(&mut new_loca),
            b"head" => std::mem::take(&mut new_head),
            b"maxp" => std::mem::take(&mut new_maxp),
            _ => data.to_vec(),
        };
        out_tables.push((*tag, data));
    }
    out_tables.sort_by_key(|(tag, _)| *tag);
    Some(write_sfnt(&out_tables))
}

/// Copies one glyph without its instructions.
fn strip_glyph(data: &[u8], out: &mut Vec<u8>) -> Option<()> {
    let contours = i16::from_be_bytes(data.get(0..2)?.try_into().ok()?);
    if contours >= 0 {
        let n = contours as usize;
        let ilen_at = 10 + 2 * n;
        let ilen = usize::from(u16_at(data, ilen_at)?);
        out.extend_from_slice(data.get(..ilen_at)?);
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(data.get(ilen_at + 2 + ilen..)?);
    } else {
        // Composite: copy the components, clear WE_HAVE_INSTRUCTIONS, drop the rest.
        let mut at = 10;
        let start = out.len();
        out.extend_from_slice(data.get(..10)?);
        loop {
            let flags = u16_at(data, at)?;
            let mut len = 4 + if flags & 0x0001 != 0 { 4 } else { 2 };
            if flags & 0x0008 != 0 {
                len += 2;
            } else if flags & 0x0040 != 0 {
                len += 4;
            } else if flags & 0x0080 != 0 {
                len += 8;
            }
            let comp = out.len();
            out.extend_from_slice(data.get(at..at + len)?);
            let cleared = flags & !0x0100;
            out[comp..comp + 2].copy_from_slice(&cleared.to_be_bytes());
            at += len;
            if flags & 0x0020 == 0 {
                break;
            }
        }
        debug_assert!(out.len() > start);
    }
    Some(())
}

fn checksum(data: &[u8]) -> u32 {
    let mut sum = 0u32;
    for chunk in data.chunks(4) {
        let mut word = [0u8; 4];
        word[..chunk.len()].copy_from_slice(chunk);
        sum = sum.wrapping_add(u32::from_be_bytes(word));
    }
    sum
}

fn write_sfnt(tables: &[([u8; 4], Vec<u8>)]) -> Vec<u8> {
    let n = tables.len() as u16;
    let mut pow = 1u16;
    let mut log = 0u16;
    while pow * 2 <= n {
        pow *= 2;
        log += 1;
    }
    let mut out = Vec::new();
    out.extend_from_slice(&0x0001_0000u32.to_be_bytes());
    out.extend_from_slice(&n.to_be_bytes());
    out.extend_from_slice(&(pow * 16).to_be_bytes());
    out.extend_from_slice(&log.to_be_bytes());
    out.extend_from_slice(&(n * 16 - pow * 16).to_be_bytes());
    let mut offset = 12 + 16 * tables.len();
    let mut head_at = None;
    for (tag, data) in tables {
        out.extend_from_slice(tag);
        out.extend_from_slice(&checksum(data).to_be_bytes());
        out.extend_from_slice(&(offset as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        if tag == b"head" {
            head_at = Some(offset);
        }
        offset += data.len().div_ceil(4) * 4;
    }
    for (_, data) in tables {
        out.extend_from_slice(data);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    }
    if let Some(at) = head_at {
        let adjust = 0xB1B0_AFBAu32.wrapping_sub(checksum(&out));
        out[at + 8..at + 12].copy_from_slice(&adjust.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripped_subset_still_parses_with_the_same_outlines() {
        let font = &super::super::font::fonts()[0];
        let mut remapper = subsetter::GlyphRemapper::new();
        for c in "Hello Łukasz Nguyễn Siobhán £1,250.00 (é)".chars() {
            if let Some((g, _)) = font.glyph(c) {
                remapper.remap(g);
            }
        }
        let subset = subsetter::subset(font.data, 0, &remapper).unwrap();
        let stripped = strip_hints(&subset).expect("strips");
        assert!(
            stripped.len() < subset.len(),
            "{} !< {}",
            stripped.len(),
            subset.len()
        );
        let a = ttf_parser::Face::parse(&subset, 0).unwrap();
        let b = ttf_parser::Face::parse(&stripped, 0).unwrap();
        assert_eq!(a.number_of_glyphs(), b.number_of_glyphs());
        for g in 0..a.number_of_glyphs() {
            let id = ttf_parser::GlyphId(g);
            assert_eq!(
                a.glyph_bounding_box(id),
                b.glyph_bounding_box(id),
                "glyph {g}"
            );
            assert_eq!(a.glyph_hor_advance(id), b.glyph_hor_advance(id));
        }
        assert!(
            b.raw_face()
                .table(ttf_parser::Tag::from_bytes(b"fpgm"))
                .is_none()
        );
    }
}
