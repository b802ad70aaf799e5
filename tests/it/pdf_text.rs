//! Text-layer rules that the real-world corpus shows only in passing, each on a small
//! PDF drawn here: what the page says, not just that it is read.

use postroom::extract::{Limits, extract};

use crate::hostile::{pdf, stream};

/// A page showing `content` with /F1, a CID font written vertically (Identity-V) whose
/// glyphs 1, 2 and 3 are あ, の and イ.
fn vertical_pdf(content: &[u8]) -> Vec<u8> {
    let to_unicode = b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap \
/CMapName /Test-UCS def 1 begincodespacerange <0000> <FFFF> endcodespacerange \
3 beginbfchar <0001> <3042> <0002> <306E> <0003> <30A4> endbfchar \
endcmap CMapName currentdict /CMap defineresource pop end end";
    pdf(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>".to_vec(),
        stream("", content),
        b"<< /Type /Font /Subtype /Type0 /BaseFont /Test /Encoding /Identity-V /DescendantFonts [6 0 R] /ToUnicode 7 0 R >>".to_vec(),
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Test /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 >>".to_vec(),
        stream("", to_unicode),
    ])
}

fn lines(bytes: &[u8]) -> Vec<String> {
    let text = extract(bytes, &Limits::default()).text;
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

#[test]
fn vertical_text_tightened_by_tj_or_character_spacing_stays_one_word() {
    // Tracking in a TJ array moves a vertical glyph up its column (not sideways), and
    // a positive Tc draws vertical glyphs closer (w1 is negative), as in pdf.js's
    // issue6387, a Japanese page set with InDesign's tracking and mojitsume.
    let tj = vertical_pdf(b"BT /F1 30 Tf 1 0 0 1 300 700 Tm [<0001> -100 <0002> -300 <0003> -100 <0001> -100 <0002> -100 <0003>] TJ ET");
    assert_eq!(lines(&tj), ["あのイあのイ"]);
    let tc = vertical_pdf(b"BT /F1 30 Tf 4.5 Tc 1 0 0 1 300 700 Tm [<00010002> 150 <0003>] TJ ET");
    assert_eq!(lines(&tc), ["あのイ"]);
    // Loosened the other way, the glyphs still read down the column in order.
    let loose =
        vertical_pdf(b"BT /F1 30 Tf 1 0 0 1 300 700 Tm [<0001> 400 <0002> 400 <0003>] TJ ET");
    assert_eq!(lines(&loose), ["あ の イ"]);
}
