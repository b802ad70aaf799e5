//! A streaming content-stream lexer: yields one operator at a time with its operands,
//! reusing its buffers, so a page of millions of operators costs no more memory than
//! one. Arrays are parsed without recursion and at most [`MAX_ARRAY_DEPTH`] deep; inline
//! images (`BI … ID … EI`) are skipped.

/// One operand. Strings and names borrow from the stream where they can.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Number(f64),
    Name(Vec<u8>),
    Str(Vec<u8>),
    Array(Vec<Operand>),
    /// Dictionaries, booleans, null: not needed for text.
    Other,
}

impl Operand {
    pub fn number(&self) -> Option<f64> {
        match self {
            Operand::Number(n) => Some(*n),
            _ => None,
        }
    }
}

pub const MAX_ARRAY_DEPTH: usize = 32;
const MAX_OPERANDS: usize = 64;

/// Iterates the operations of a content stream.
#[derive(Debug)]
pub struct Lexer<'a> {
    data: &'a [u8],
    pos: usize,
    pub operands: Vec<Operand>,
    /// Set when the stream held something that is not PDF content (too deep, unbalanced).
    pub malformed: bool,
    /// The `/ActualText` string of the current operator's inline dictionary (a `BDC`'s
    /// property list), the only dictionary entry text extraction needs.
    pub actual_text: Option<Vec<u8>>,
}

fn is_white(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t' | b'\x0C' | b'\0')
}

fn is_delim(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

enum Token<'a> {
    Operand(Operand),
    ArrayStart,
    ArrayEnd,
    DictStart,
    DictEnd,
    Keyword(&'a [u8]),
}

impl<'a> Lexer<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Lexer {
            data,
            pos: 0,
            operands: Vec::with_capacity(8),
            malformed: false,
            actual_text: None,
        }
    }

    fn skip_white(&mut self) {
        while self.pos < self.data.len() {
            let b = self.data[self.pos];
            if is_white(b) {
                self.pos += 1;
            } else if b == b'%' {
                while self.pos < self.data.len() && !matches!(self.data[self.pos], b'\n' | b'\r') {
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    fn literal(&mut self) -> Vec<u8> {
        let (out, next, closed) = literal_string(self.data, self.pos + 1);
        self.pos = next;
        self.malformed |= !closed;
        out
    }

    fn hex_string(&mut self) -> Vec<u8> {
        let d = self.data;
        self.pos += 1;
        let mut out = Vec::new();
        let mut high: Option<u8> = None;
        while self.pos < d.len() {
            let b = d[self.pos];
            self.pos += 1;
            if b == b'>' {
                break;
            }
            if let Some(v) = hex(b) {
                match high.take() {
                    Some(h) => out.push(h << 4 | v),
                    None => high = Some(v),
                }
            }
        }
        if let Some(h) = high {
            out.push(h << 4);
        }
        out
    }

    fn regular(&mut self) -> &'a [u8] {
        let start = self.pos;
        while self.pos < self.data.len()
            && !is_white(self.data[self.pos])
            && !is_delim(self.data[self.pos])
        {
            self.pos += 1;
        }
        &self.data[start..self.pos]
    }

    fn token(&mut self) -> Option<Token<'a>> {
        self.skip_white();
        let b = *self.data.get(self.pos)?;
        Some(match b {
            b'(' => Token::Operand(Operand::Str(self.literal())),
            b'<' if self.data.get(self.pos + 1) == Some(&b'<') => {
                self.pos += 2;
                Token::DictStart
            }
            b'>' if self.data.get(self.pos + 1) == Some(&b'>') => {
                self.pos += 2;
                Token::DictEnd
            }
            b'<' => Token::Operand(Operand::Str(self.hex_string())),
            b'[' => {
                self.pos += 1;
                Token::ArrayStart
            }
            b']' => {
                self.pos += 1;
                Token::ArrayEnd
            }
            b'/' => {
                self.pos += 1;
                let name = self.regular();
                Token::Operand(Operand::Name(unescape_name(name)))
            }
            b')' | b'>' | b'{' | b'}' => {
                // Stray delimiters: viewers skip them, and so does this lexer.
                self.pos += 1;
                Token::Operand(Operand::Other)
            }
            _ => {
                let word = self.regular();
                if word.is_empty() {
                    self.pos += 1;
                    return Some(Token::Operand(Operand::Other));
                }
                if let Some(n) = parse_number(word) {
                    Token::Operand(Operand::Number(n))
                } else if matches!(word, b"true" | b"false" | b"null") {
                    Token::Operand(Operand::Other)
                } else {
                    Token::Keyword(word)
                }
            }
        })
    }

    /// Skips an inline image's data, after its `ID` keyword, to just past `EI`.
    fn skip_inline_image(&mut self) {
        let d = self.data;
        let mut i = self.pos + 1;
        while i + 2 <= d.len() {
            if &d[i..i + 2] == b"EI"
                && is_white(d[i - 1])
                && d.get(i + 2).is_none_or(|b| is_white(*b) || is_delim(*b))
            {
                self.pos = i + 2;
                return;
            }
            i += 1;
        }
        self.pos = d.len();
    }

    /// The next operator, with its operands in `self.operands`.
    pub fn next_op(&mut self) -> Option<&'a [u8]> {
        self.operands.clear();
        self.actual_text = None;
        let mut actual_next = false;
        let mut arrays: Vec<Vec<Operand>> = Vec::new();
        let mut dict_depth = 0usize;
        loop {
            let token = self.token()?;
            let operand = match token {
                Token::Operand(o) => o,
                Token::ArrayStart => {
                    if arrays.len() >= MAX_ARRAY_DEPTH {
                        self.malformed = true;
                        // Give up on this array: skip to the stream's end of nesting.
                        self.skip_deep_array();
                        arrays.clear();
                        continue;
                    }
                    arrays.push(Vec::new());
                    continue;
                }
                Token::ArrayEnd => match arrays.pop() {
                    Some(done) => Operand::Array(done),
                    None => continue,
                },
                Token::DictStart => {
                    dict_depth += 1;
                    continue;
                }
                Token::DictEnd => {
                    dict_depth = dict_depth.saturating_sub(1);
                    if dict_depth == 0 && arrays.is_empty() {
                        self.operands.push(Operand::Other);
                    }
                    continue;
                }
                Token::Keyword(word) => {
                    if dict_depth > 0 || !arrays.is_empty() {
                        continue; // a keyword inside a dictionary or array: skip
                    }
                    if word == b"ID" {
                        self.skip_inline_image();
                        self.operands.clear();
                        continue;
                    }
                    return Some(word);
                }
            };
            if dict_depth > 0 {
                if dict_depth == 1 && arrays.is_empty() {
                    match operand {
                        Operand::Name(ref n) if n == b"ActualText" => actual_next = true,
                        Operand::Str(text) if actual_next => {
                            self.actual_text = Some(text);
                            actual_next = false;
                        }
                        _ => actual_next = false,
                    }
                }
                continue;
            }
            match arrays.last_mut() {
                Some(array) => {
                    if array.len() < 100_000 {
                        array.push(operand);
                    }
                }
                None => {
                    if self.operands.len() >= MAX_OPERANDS {
                        self.operands.remove(0);
                    }
                    self.operands.push(operand);
                }
            }
        }
    }

    /// Skips bytes until the brackets opened so far are closed (or the stream ends).
    fn skip_deep_array(&mut self) {
        let mut depth = 1usize;
        while self.pos < self.data.len() && depth > 0 {
            match self.data[self.pos] {
                b'[' => depth += 1,
                b']' => depth -= 1,
                b'(' => {
                    self.literal();
                    continue;
                }
                _ => {}
            }
            self.pos += 1;
        }
        // Close the outer arrays too: the operation they belonged to is lost.
        while self.pos < self.data.len()
            && self.data[self.pos] != b']'
            && !self.data[self.pos].is_ascii_alphabetic()
        {
            self.pos += 1;
        }
    }
}

/// Decodes a literal string whose `(` is just before `start`: escapes, octal codes, line
/// continuations and balanced parentheses. Returns the bytes, the position after the
/// closing `)`, and whether the string was closed before the data ended.
pub(super) fn literal_string(d: &[u8], start: usize) -> (Vec<u8>, usize, bool) {
    let mut out = Vec::new();
    let mut depth = 1usize;
    let mut pos = start;
    while pos < d.len() {
        let b = d[pos];
        pos += 1;
        match b {
            b'\\' => {
                let Some(&e) = d.get(pos) else { break };
                pos += 1;
                match e {
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    b'b' => out.push(8),
                    b'f' => out.push(12),
                    b'\r' => {
                        if d.get(pos) == Some(&b'\n') {
                            pos += 1;
                        }
                    }
                    b'\n' => {}
                    b'0'..=b'7' => {
                        let mut v = u32::from(e - b'0');
                        for _ in 0..2 {
                            match d.get(pos) {
                                Some(&c @ b'0'..=b'7') => {
                                    v = v * 8 + u32::from(c - b'0');
                                    pos += 1;
                                }
                                _ => break,
                            }
                        }
                        out.push(v as u8);
                    }
                    other => out.push(other),
                }
            }
            b'(' => {
                depth += 1;
                out.push(b);
            }
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return (out, pos, true);
                }
                out.push(b);
            }
            _ => out.push(b),
        }
    }
    (out, pos, false)
}

fn unescape_name(raw: &[u8]) -> Vec<u8> {
    if !raw.contains(&b'#') {
        return raw.to_vec();
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'#'
            && let (Some(h), Some(l)) = (
                raw.get(i + 1).and_then(|b| hex(*b)),
                raw.get(i + 2).and_then(|b| hex(*b)),
            )
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(raw[i]);
        i += 1;
    }
    out
}

fn parse_number(word: &[u8]) -> Option<f64> {
    let first = *word.first()?;
    if !(first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.')) {
        return None;
    }
    let s = std::str::from_utf8(word).ok()?;
    // PDF allows `--5` and `5.` and `.5`; be lenient like viewers.
    let s = s.trim_start_matches('+');
    let s = if s.starts_with("--") { &s[1..] } else { s };
    s.parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .or_else(|| (s == "-" || s == ".").then_some(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(data: &[u8]) -> Vec<(String, Vec<Operand>)> {
        let mut lx = Lexer::new(data);
        let mut out = Vec::new();
        while let Some(op) = lx.next_op() {
            out.push((
                String::from_utf8_lossy(op).into_owned(),
                lx.operands.clone(),
            ));
        }
        out
    }

    #[test]
    fn lexes_text_operators() {
        let got = ops(b"BT /F1 12 Tf 72 700 Td (Hello \\(world\\)) Tj [(A) -120 <0042>] TJ ET");
        assert_eq!(
            got[1],
            (
                "Tf".into(),
                vec![Operand::Name(b"F1".to_vec()), Operand::Number(12.0)]
            )
        );
        assert_eq!(got[3].1, vec![Operand::Str(b"Hello (world)".to_vec())]);
        assert_eq!(
            got[4].1,
            vec![Operand::Array(vec![
                Operand::Str(b"A".to_vec()),
                Operand::Number(-120.0),
                Operand::Str(vec![0, 0x42])
            ])]
        );
    }

    #[test]
    fn skips_inline_images_and_dictionaries() {
        let got = ops(b"/P <</MCID 3>> BDC BI /W 2 /H 2 ID \x00EI\xffzz EI Q (x) Tj");
        let names: Vec<&str> = got.iter().map(|(o, _)| o.as_str()).collect();
        assert_eq!(names, ["BDC", "BI", "Q", "Tj"]);
    }

    #[test]
    fn deep_nesting_is_bounded_without_recursion() {
        let mut data = b"[".repeat(100_000);
        data.extend(b"]".repeat(100_000));
        data.extend_from_slice(b" TJ (ok) Tj");
        let mut lx = Lexer::new(&data);
        let mut last = None;
        while let Some(op) = lx.next_op() {
            last = Some((op.to_vec(), lx.operands.clone()));
        }
        assert!(lx.malformed);
        assert_eq!(
            last,
            Some((b"Tj".to_vec(), vec![Operand::Str(b"ok".to_vec())]))
        );
    }
}
