//! CMaps: the code-space ranges, CID ranges and Unicode mappings of PDF fonts, parsed from
//! embedded CMap streams (ToUnicode and encoding CMaps), plus the predefined CJK CMaps
//! that map through a legacy character set (Shift-JIS, EUC, GBK, Big5, UCS-2).

use std::collections::HashMap;

use super::content::literal_string;

/// One code-space range: codes of `len` bytes between `lo` and `hi`, byte by byte.
#[derive(Debug, Clone)]
struct Range {
    len: u8,
    lo: [u8; 4],
    hi: [u8; 4],
}

impl Range {
    fn contains(&self, bytes: &[u8]) -> bool {
        bytes.len() == self.len as usize
            && bytes
                .iter()
                .enumerate()
                .all(|(i, b)| *b >= self.lo[i] && *b <= self.hi[i])
    }
}

/// A parsed CMap: code lengths, code → Unicode text, code → CID.
#[derive(Debug, Clone, Default)]
pub struct CMap {
    ranges: Vec<Range>,
    /// Key: code length in the top byte, code value below.
    unicode: HashMap<u32, String>,
    cids: Vec<(u32, u32, u32)>,
    cid_single: HashMap<u32, u32>,
    /// Longest code length seen in mappings (used when no code space is declared).
    max_len: u8,
    min_len: u8,
}

fn key(len: u8, code: u32) -> u32 {
    (u32::from(len) << 24) | (code & 0x00FF_FFFF)
}

#[derive(Debug, PartialEq)]
enum Tok<'a> {
    Hex(Vec<u8>),
    Int(i64),
    Name(&'a [u8]),
    Word(&'a [u8]),
    Open,
    Close,
    Str(Vec<u8>),
}

fn tokens(data: &[u8]) -> Vec<Tok<'_>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < data.len() {
        let c = data[i];
        match c {
            b'%' => {
                while i < data.len() && data[i] != b'\n' && data[i] != b'\r' {
                    i += 1;
                }
            }
            b'<' if data.get(i + 1) == Some(&b'<') => i += 2,
            b'>' if data.get(i + 1) == Some(&b'>') => i += 2,
            b'<' => {
                let start = i + 1;
                let end = memchr::memchr(b'>', &data[start..]).map_or(data.len(), |p| start + p);
                let digits: Vec<u8> = data[start..end]
                    .iter()
                    .filter(|b| b.is_ascii_hexdigit())
                    .copied()
                    .collect();
                let mut bytes = Vec::with_capacity(digits.len().div_ceil(2));
                for pair in digits.chunks(2) {
                    let hi = hex_val(pair[0]);
                    let lo = pair.get(1).map_or(0, |d| hex_val(*d));
                    bytes.push(hi << 4 | lo);
                }
                out.push(Tok::Hex(bytes));
                i = end + 1;
            }
            b'(' => {
                let (bytes, next, _) = literal_string(data, i + 1);
                out.push(Tok::Str(bytes));
                i = next;
            }
            b'[' => {
                out.push(Tok::Open);
                i += 1;
            }
            b']' => {
                out.push(Tok::Close);
                i += 1;
            }
            b'/' => {
                let start = i + 1;
                i = start;
                while i < data.len() && !is_delim(data[i]) {
                    i += 1;
                }
                out.push(Tok::Name(&data[start..i]));
            }
            b'{' | b'}' | b')' => i += 1,
            _ if c.is_ascii_whitespace() || c == 0 => i += 1,
            _ => {
                let start = i;
                while i < data.len() && !is_delim(data[i]) {
                    i += 1;
                }
                if i == start {
                    i += 1;
                    continue;
                }
                let word = &data[start..i];
                match std::str::from_utf8(word)
                    .ok()
                    .and_then(|s| s.parse::<i64>().ok())
                {
                    Some(n) => out.push(Tok::Int(n)),
                    None => out.push(Tok::Word(word)),
                }
            }
        }
    }
    out
}

fn is_delim(b: u8) -> bool {
    b.is_ascii_whitespace() || b"()<>[]{}/%".contains(&b) || b == 0
}

fn hex_val(d: u8) -> u8 {
    match d {
        b'0'..=b'9' => d - b'0',
        b'a'..=b'f' => d - b'a' + 10,
        b'A'..=b'F' => d - b'A' + 10,
        _ => 0,
    }
}

fn be(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .take(4)
        .fold(0u32, |acc, b| acc << 8 | u32::from(*b))
}

/// Decodes a ToUnicode destination (UTF-16BE) to text.
pub fn utf16be(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks(2)
        .map(|c| u16::from(c[0]) << 8 | u16::from(*c.get(1).unwrap_or(&0)))
        .collect();
    String::from_utf16_lossy(&units)
}

/// Adds one to a UTF-16BE destination's last code unit (for bfrange increments).
fn bump(dst: &[u8], by: u32) -> Vec<u8> {
    let mut out = dst.to_vec();
    if out.len() >= 2 {
        let n = out.len();
        let last = u32::from(out[n - 2]) << 8 | u32::from(out[n - 1]);
        let next = last.wrapping_add(by);
        out[n - 2] = (next >> 8) as u8;
        out[n - 1] = next as u8;
    } else if let Some(last) = out.last_mut() {
        *last = last.wrapping_add(by as u8);
    }
    out
}

/// Bounds on what a hostile CMap can make us store.
const MAX_RANGE_SPAN: u32 = 0x1_0000;
const MAX_ENTRIES: usize = 200_000;

impl CMap {
    /// Parses a CMap stream. Never fails: what cannot be read is skipped.
    pub fn parse(data: &[u8]) -> CMap {
        let toks = tokens(data);
        let mut cmap = CMap {
            min_len: 4,
            ..CMap::default()
        };
        let mut i = 0;
        while i < toks.len() {
            match &toks[i] {
                Tok::Word(b"begincodespacerange") => {
                    i += 1;
                    while i + 1 < toks.len() {
                        match (&toks[i], &toks[i + 1]) {
                            (Tok::Hex(lo), Tok::Hex(hi))
                                if !lo.is_empty() && lo.len() <= 4 && lo.len() == hi.len() =>
                            {
                                let mut range = Range {
                                    len: lo.len() as u8,
                                    lo: [0; 4],
                                    hi: [0; 4],
                                };
                                range.lo[..lo.len()].copy_from_slice(lo);
                                range.hi[..hi.len()].copy_from_slice(hi);
                                cmap.ranges.push(range);
                                i += 2;
                            }
                            _ => break,
                        }
                    }
                }
                Tok::Word(b"beginbfchar") => {
                    i += 1;
                    while i + 1 < toks.len() {
                        match (&toks[i], &toks[i + 1]) {
                            (Tok::Hex(src), Tok::Hex(dst)) => {
                                cmap.put_unicode(src, utf16be(dst));
                                i += 2;
                            }
                            (Tok::Hex(src), Tok::Name(name)) => {
                                if let Some(text) = std::str::from_utf8(name)
                                    .ok()
                                    .and_then(super::font::glyph_to_unicode)
                                {
                                    cmap.put_unicode(src, text);
                                }
                                i += 2;
                            }
                            _ => break,
                        }
                    }
                }
                Tok::Word(b"beginbfrange") => {
                    i += 1;
                    while let (Some(Tok::Hex(lo)), Some(Tok::Hex(hi))) =
                        (toks.get(i), toks.get(i + 1))
                    {
                        let (lo_v, hi_v) = (be(lo), be(hi));
                        let len = lo.len().clamp(1, 4) as u8;
                        match toks.get(i + 2) {
                            Some(Tok::Hex(dst)) => {
                                if hi_v >= lo_v && hi_v - lo_v < MAX_RANGE_SPAN {
                                    for (n, code) in (lo_v..=hi_v).enumerate() {
                                        cmap.put_unicode_code(
                                            len,
                                            code,
                                            utf16be(&bump(dst, n as u32)),
                                        );
                                    }
                                }
                                i += 3;
                            }
                            Some(Tok::Open) => {
                                let mut j = i + 3;
                                let mut code = lo_v;
                                while let Some(Tok::Hex(dst)) = toks.get(j) {
                                    if code <= hi_v {
                                        cmap.put_unicode_code(len, code, utf16be(dst));
                                    }
                                    code = code.wrapping_add(1);
                                    j += 1;
                                }
                                i = j + usize::from(matches!(toks.get(j), Some(Tok::Close)));
                            }
                            _ => break,
                        }
                        if cmap.unicode.len() > MAX_ENTRIES {
                            break;
                        }
                    }
                }
                Tok::Word(b"begincidrange") => {
                    i += 1;
                    while let (Some(Tok::Hex(lo)), Some(Tok::Hex(hi)), Some(Tok::Int(cid))) =
                        (toks.get(i), toks.get(i + 1), toks.get(i + 2))
                    {
                        cmap.note_len(lo.len());
                        if cmap.cids.len() < MAX_ENTRIES {
                            cmap.cids.push((be(lo), be(hi), (*cid).max(0) as u32));
                        }
                        i += 3;
                    }
                }
                Tok::Word(b"begincidchar") => {
                    i += 1;
                    while let (Some(Tok::Hex(src)), Some(Tok::Int(cid))) =
                        (toks.get(i), toks.get(i + 1))
                    {
                        cmap.note_len(src.len());
                        if cmap.cid_single.len() < MAX_ENTRIES {
                            cmap.cid_single.insert(be(src), (*cid).max(0) as u32);
                        }
                        i += 2;
                    }
                }
                _ => i += 1,
            }
        }
        if cmap.min_len > cmap.max_len {
            cmap.min_len = cmap.max_len;
        }
        cmap
    }

    fn note_len(&mut self, len: usize) {
        let len = len.clamp(1, 4) as u8;
        self.max_len = self.max_len.max(len);
        self.min_len = self.min_len.min(len);
    }

    fn put_unicode(&mut self, src: &[u8], text: String) {
        if src.is_empty() || src.len() > 4 {
            return;
        }
        self.put_unicode_code(src.len() as u8, be(src), text);
    }

    fn put_unicode_code(&mut self, len: u8, code: u32, text: String) {
        self.note_len(len as usize);
        if self.unicode.len() < MAX_ENTRIES {
            self.unicode.insert(key(len, code), text);
        }
    }

    pub fn has_code_space(&self) -> bool {
        !self.ranges.is_empty()
    }

    pub fn is_empty(&self) -> bool {
        self.unicode.is_empty()
    }

    /// The length of the code at the start of `bytes`, from the code space (or the
    /// mapping's lengths), or `None` when no rule applies.
    pub fn code_len(&self, bytes: &[u8]) -> Option<usize> {
        if !self.ranges.is_empty() {
            for len in 1..=4usize.min(bytes.len()) {
                if self.ranges.iter().any(|r| r.contains(&bytes[..len])) {
                    return Some(len);
                }
            }
            // Not in any range: the spec says to use the shortest range's length.
            return self.ranges.iter().map(|r| r.len as usize).min();
        }
        if self.max_len > 0 && self.min_len == self.max_len {
            return Some(self.max_len as usize);
        }
        None
    }

    /// The Unicode text of a code of `len` bytes.
    pub fn unicode(&self, len: usize, code: u32) -> Option<&str> {
        self.unicode.get(&key(len as u8, code)).map(String::as_str)
    }

    /// Any mapping of `code`, whatever its length (for fonts whose ToUnicode and
    /// encoding disagree on code lengths).
    pub fn unicode_any_len(&self, code: u32) -> Option<&str> {
        (1..=4).find_map(|len| self.unicode(len, code))
    }

    /// The CID of a code, from `cidrange`/`cidchar`.
    pub fn cid(&self, code: u32) -> Option<u32> {
        if let Some(cid) = self.cid_single.get(&code) {
            return Some(*cid);
        }
        self.cids
            .iter()
            .find(|(lo, hi, _)| code >= *lo && code <= *hi)
            .map(|(lo, _, cid)| cid + (code - lo))
    }
}

/// A predefined CMap that stands for a legacy character set: the text is decoded with
/// that set, and codes are as long as the set's characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Predefined {
    /// `Identity-H`/`-V`: two-byte codes equal to CIDs.
    Identity,
    /// `Uni*-UCS2-*`/`-UTF16-*`: the codes are UTF-16BE.
    Ucs2,
    /// A multi-byte legacy set, decoded with encoding_rs.
    Legacy(&'static encoding_rs::Encoding),
}

impl Predefined {
    pub fn from_name(name: &str) -> Option<Predefined> {
        use encoding_rs::{BIG5, EUC_JP, EUC_KR, GBK, SHIFT_JIS};
        if name.starts_with("Identity-") {
            return Some(Predefined::Identity);
        }
        if name.contains("UCS2") || name.contains("UTF16") {
            return Some(Predefined::Ucs2);
        }
        let legacy = if name.contains("RKSJ") {
            SHIFT_JIS
        } else if name.starts_with("GB") {
            GBK
        } else if name.starts_with("B5")
            || name.starts_with("ETen")
            || name.starts_with("HKscs")
            || name.starts_with("CNS")
        {
            BIG5
        } else if name.starts_with("KSC") || name.starts_with("KSCms") {
            EUC_KR
        } else if name.starts_with("EUC")
            || name.starts_with("90pv")
            || name.starts_with("83pv")
            || name.starts_with("Ext-")
            || name == "H"
            || name == "V"
        {
            if name == "H"
                || name == "V"
                || name.starts_with("Ext-")
                || name.starts_with("90pv")
                || name.starts_with("83pv")
            {
                SHIFT_JIS
            } else {
                EUC_JP
            }
        } else {
            return None;
        };
        Some(Predefined::Legacy(legacy))
    }

    /// The length of the code at the start of `bytes`.
    pub fn code_len(self, bytes: &[u8]) -> usize {
        let b = bytes.first().copied().unwrap_or(0);
        let len = match self {
            Predefined::Identity | Predefined::Ucs2 => 2,
            Predefined::Legacy(enc) if enc == encoding_rs::SHIFT_JIS => {
                if (0x81..=0x9F).contains(&b) || (0xE0..=0xFC).contains(&b) {
                    2
                } else {
                    1
                }
            }
            Predefined::Legacy(enc) if enc == encoding_rs::EUC_JP => match b {
                0x8F => 3,
                0x8E | 0xA1..=0xFE => 2,
                _ => 1,
            },
            Predefined::Legacy(_) => {
                if (0x81..=0xFE).contains(&b) {
                    2
                } else {
                    1
                }
            }
        };
        len.min(bytes.len().max(1))
    }

    /// The text of one code, where the set defines it.
    pub fn decode(self, code: &[u8]) -> Option<String> {
        match self {
            Predefined::Identity => None,
            Predefined::Ucs2 => Some(utf16be(code)),
            Predefined::Legacy(enc) => {
                let (text, had_errors) = enc.decode_without_bom_handling(code);
                (!had_errors).then(|| text.into_owned())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bfchar_bfrange_and_code_space() {
        let cmap = CMap::parse(
            b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap
              1 begincodespacerange <0000> <FFFF> endcodespacerange
              2 beginbfchar <0003> <0020> <0011> <00660069> endbfchar
              2 beginbfrange <0024> <0026> <0041> <0030> <0031> [<00E9> <0141>] endbfrange
              endcmap",
        );
        assert_eq!(cmap.code_len(&[0, 3]), Some(2));
        assert_eq!(cmap.unicode(2, 3), Some(" "));
        assert_eq!(cmap.unicode(2, 0x11), Some("fi"));
        assert_eq!(cmap.unicode(2, 0x25), Some("B"));
        assert_eq!(cmap.unicode(2, 0x26), Some("C"));
        assert_eq!(cmap.unicode(2, 0x31), Some("Ł"));
    }

    #[test]
    fn a_hostile_range_is_bounded() {
        let cmap = CMap::parse(b"1 beginbfrange <00000000> <FFFFFFFF> <0041> endbfrange");
        assert!(cmap.unicode.len() <= MAX_ENTRIES);
    }

    #[test]
    fn predefined_legacy_sets_decode() {
        let sjis = Predefined::from_name("90ms-RKSJ-H").unwrap();
        assert_eq!(sjis.code_len(&[0x82, 0xA0]), 2);
        assert_eq!(sjis.decode(&[0x82, 0xA0]).as_deref(), Some("あ"));
        assert_eq!(
            Predefined::from_name("UniJIS-UCS2-H"),
            Some(Predefined::Ucs2)
        );
    }
}
