//! Hostile inputs, built in code: decompression and zip bombs, truncated and corrupt
//! files, damaged cross-reference tables and stream lengths, cyclic page trees,
//! encryption, DTDs and entities, over-long headers, text over the document's cap in
//! many parts, deep nesting, nested emails, wrong types, empty files. Each must give its
//! stable warning code, never a panic, hang or out-of-memory: no hostile input passes
//! silently, even when its text is recovered (it is then kept, and not unreadable).
//!
//! With `POSTROOM_HOSTILE_DIR` set, the corpus is also written there, so that
//! `scripts/measure-hostile` can time each file through the release binary.

use std::io::Write as _;

use flate2::Compression;
use flate2::write::ZlibEncoder;
use postroom::extract::{Extracted, Limits, extract_isolated};

/// One hostile input, the warning code it must produce, and the text it must still give
/// when its text is recoverable (a damaged input that is flagged but not unreadable).
pub struct Case {
    pub name: &'static str,
    pub bytes: Vec<u8>,
    pub expect: &'static str,
    pub keeps: Option<&'static str>,
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::new(), Compression::best());
    e.write_all(data).expect("compress");
    e.finish().expect("compress")
}

/// Zeros compressed chunk by chunk, so a gigabyte never sits in memory.
fn zlib_zeros(len: usize) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::new(), Compression::best());
    let chunk = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        let n = left.min(chunk.len());
        e.write_all(&chunk[..n]).expect("compress");
        left -= n;
    }
    e.finish().expect("compress")
}

/// A PDF from numbered object bodies, with a correct cross-reference table.
pub fn pdf(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

pub fn stream(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut body = format!("<< {dict} /Length {} >>\nstream\n", data.len()).into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(b"\nendstream");
    body
}

/// A one-page PDF whose page shows `content` with Helvetica as /F1.
pub fn simple_pdf(content: &[u8]) -> Vec<u8> {
    pdf(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>".to_vec(),
        stream("", content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_vec(),
    ])
}

/// A page tree whose Pages node lists itself among its kids, then a page saying "cyclic".
fn cyclic_pages_pdf() -> Vec<u8> {
    pdf(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>".to_vec(),
        stream("", b"BT /F1 12 Tf 72 700 Td (cyclic) Tj ET"),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
    ])
}

#[test]
fn a_page_tree_that_loops_is_walked_by_hand() {
    let extracted = extract_isolated(cyclic_pages_pdf(), &Limits::default());
    assert_eq!(extracted.text.trim(), "cyclic");
    assert_eq!(extracted.pages, Some(1));
    assert_eq!(codes(&extracted), ["malformed", "repaired"]);
    assert!(!extracted.unreadable());
}

/// The warning codes of an extraction, in order.
fn codes(extracted: &Extracted) -> Vec<&'static str> {
    extracted
        .warnings
        .as_slice()
        .iter()
        .map(|w| w.code())
        .collect()
}

/// A one-page PDF saying "Hello repaired world", its content stream's `/Length` given.
fn pdf_with_content_length(length: &str) -> Vec<u8> {
    let mut content = format!("<< /Length {length} >>\nstream\n").into_bytes();
    content.extend_from_slice(b"BT /F1 12 Tf 72 720 Td (Hello repaired world) Tj ET\nendstream");
    pdf(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>".to_vec(),
        content,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
    ])
}

#[test]
fn a_stream_whose_length_names_no_number_is_read_to_its_endstream() {
    let limits = Limits::default();
    let good = extract_isolated(pdf_with_content_length("51"), &limits);
    assert_eq!(good.text.trim(), "Hello repaired world");
    assert_eq!(codes(&good), Vec::<&str>::new());
    // Named elsewhere, named nowhere, too short, too long: each read to its `endstream`.
    for length in ["4 0 R", "9 0 R", "20", "70"] {
        let repaired = extract_isolated(pdf_with_content_length(length), &limits);
        assert_eq!(
            repaired.text.trim(),
            "Hello repaired world",
            "/Length {length}"
        );
        assert_eq!(
            codes(&repaired),
            ["malformed", "repaired"],
            "/Length {length}"
        );
        assert!(!repaired.unreadable(), "/Length {length}");
    }
}

#[test]
fn a_damaged_cross_reference_table_is_rebuilt_and_said() {
    let hello = simple_pdf(b"BT /F1 12 Tf 72 700 Td (Letter of claim) Tj ET");
    let limits = Limits::default();
    assert_eq!(
        codes(&extract_isolated(hello.clone(), &limits)),
        Vec::<&str>::new()
    );
    for (what, bytes) in [
        ("offset", with_startxref_moved(&hello, 7)),
        ("table", without_xref_table(&hello)),
    ] {
        let repaired = extract_isolated(bytes, &limits);
        assert_eq!(repaired.text.trim(), "Letter of claim", "{what}");
        assert!(
            codes(&repaired).contains(&"repaired"),
            "{what}: {:?}",
            codes(&repaired)
        );
        assert!(!repaired.unreadable(), "{what}");
    }
}

#[test]
fn any_encryption_is_said_and_the_text_kept_when_no_password_is_needed() {
    let hello = simple_pdf(b"BT /F1 12 Tf 72 700 Td (Letter of claim) Tj ET");
    let limits = Limits::default();
    let open = extract_isolated(encrypted(&hello, ""), &limits);
    assert_eq!(open.text.trim(), "Letter of claim");
    assert_eq!(codes(&open), ["encrypted"]);
    assert!(!open.unreadable(), "readable without a password");
    let locked = extract_isolated(encrypted(&hello, "secret"), &limits);
    assert_eq!(locked.text, "");
    assert_eq!(codes(&locked), ["encrypted"]);
    assert!(locked.unreadable(), "not readable without its password");
}

#[test]
fn word_entities_and_dtds_are_refused_and_said() {
    let docx = zip(&[("word/document.xml", ENTITY_BOMB.as_bytes())]);
    let extracted = extract_isolated(docx, &Limits::default());
    assert_eq!(extracted.text.trim(), "Dear Sir & Madam,");
    assert_eq!(codes(&extracted), ["entities_refused"]);
    assert!(!extracted.unreadable());
    // An undeclared entity, without a DTD, is refused as well.
    let docx = zip(&[(
        "word/document.xml",
        br#"<w:document xmlns:w="x"><w:body><w:p><w:r><w:t>Dear &name; &#90;o&#xEB;</w:t></w:r></w:p></w:body></w:document>"#.as_slice(),
    )]);
    let extracted = extract_isolated(docx, &Limits::default());
    assert_eq!(extracted.text.trim(), "Dear  Zoë");
    assert_eq!(codes(&extracted), ["entities_refused"]);
}

#[test]
fn an_over_long_email_header_is_cut_and_said() {
    let subject = "FOI request ".repeat(90_000);
    let eml = email(
        &format!(
            "From: Zoë Example <a@example.org>\r\nTo: b@example.org\r\nSubject: {subject}\r\nDate: Tue, 5 Mar 2024 09:30:00 +0000"
        ),
        "Please send the 2023 figures.",
    );
    let extracted = extract_isolated(eml, &Limits::default());
    assert_eq!(extracted.text.trim(), "Please send the 2023 figures.");
    assert_eq!(codes(&extracted), ["header_truncated"]);
    assert!(!extracted.unreadable());
    let headers = extracted.email.expect("headers");
    let kept = headers.subject.expect("subject");
    assert!(kept.len() <= 4096, "subject of {} bytes kept", kept.len());
    assert!(subject.starts_with(&kept));
    assert_eq!(headers.from_name.as_deref(), Some("Zoë Example"));
    // A header of ordinary length is not cut.
    let eml = email(
        "From: a@example.org\r\nTo: b@example.org\r\nSubject: FOI request: waiting times\r\nDate: Tue, 5 Mar 2024 09:30:00 +0000",
        "Please send the 2023 figures.",
    );
    assert_eq!(
        codes(&extract_isolated(eml, &Limits::default())),
        Vec::<&str>::new()
    );
}

/// A Word part (body, header, footer...) holding one paragraph of `bytes` of text.
fn word_part(root: &str, bytes: usize) -> Vec<u8> {
    let words = "claimant ".repeat(bytes / 9);
    format!(r#"<w:{root} xmlns:w="x"><w:p><w:r><w:t>{words}</w:t></w:r></w:p></w:{root}>"#)
        .into_bytes()
}

/// The text of a document and of all its attachments, at every depth.
fn all_text(extracted: &Extracted) -> usize {
    extracted.text.len()
        + extracted
            .attachments
            .iter()
            .map(|a| all_text(&a.extracted))
            .sum::<usize>()
}

#[test]
fn word_text_is_capped_per_document_not_per_part() {
    let limits = Limits {
        max_text_bytes: 64 * 1024,
        ..Limits::default()
    };
    let near_cap = 60 * 1024;
    let parts: Vec<(&str, Vec<u8>)> = vec![
        ("word/header1.xml", word_part("hdr", near_cap)),
        ("word/document.xml", word_part("document", near_cap)),
        ("word/footnotes.xml", word_part("footnotes", near_cap)),
        ("word/footer1.xml", word_part("ftr", near_cap)),
        ("word/footer2.xml", word_part("ftr", near_cap)),
        // Read only if reading went on after the document's text was used up.
        (
            "word/footer3.xml",
            b"<w:ftr><w:p><w:r><w:t>late</w:t></w:r></w:p></w:ftr><w:p".to_vec(),
        ),
    ];
    let entries: Vec<(&str, &[u8])> = parts.iter().map(|(n, d)| (*n, d.as_slice())).collect();
    let extracted = extract_isolated(zip(&entries), &limits);
    assert!(
        extracted.text.len() <= limits.max_text_bytes,
        "{} bytes of text",
        extracted.text.len()
    );
    assert!(extracted.text.starts_with("claimant claimant"));
    assert_eq!(
        codes(&extracted),
        ["truncated_at_limit"],
        "parts after the cap were read"
    );
}

#[test]
fn email_attachments_share_the_document_text_cap() {
    let limits = Limits {
        max_text_bytes: 64 * 1024,
        ..Limits::default()
    };
    let attachment = "The claimant attended on 5 March 2024.\r\n".repeat(500); // 20 KB
    let mut inner = String::new();
    for i in 0..3 {
        inner.push_str(&format!("--in\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"n{i}.txt\"\r\n\r\n{attachment}\r\n"));
    }
    inner.push_str("--in--\r\n");
    let inner = email(
        "From: c@example.org\r\nTo: a@example.org\r\nSubject: forwarded\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"in\"",
        &format!("--in\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n{inner}"),
    );
    let mut body = String::from("--sep\r\nContent-Type: text/plain\r\n\r\nCovering note.\r\n");
    for i in 0..8 {
        body.push_str(&format!("--sep\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"a{i}.txt\"\r\n\r\n{attachment}\r\n"));
    }
    body.push_str(&format!(
        "--sep\r\nContent-Type: message/rfc822\r\n\r\n{}\r\n--sep--\r\n",
        String::from_utf8_lossy(&inner)
    ));
    let eml = email(
        "From: a@example.org\r\nTo: b@example.org\r\nSubject: bundle\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"sep\"",
        &body,
    );
    let extracted = extract_isolated(eml, &limits);
    assert_eq!(extracted.attachments.len(), 9);
    assert!(extracted.text.contains("Covering note."));
    assert!(
        extracted.attachments[0].extracted.text.len() >= 19_000,
        "the first attachment is whole"
    );
    let total = all_text(&extracted);
    assert!(
        total <= limits.max_text_bytes,
        "{total} bytes of text in all"
    );
    assert!(
        codes(&extracted).contains(&"truncated_at_limit"),
        "{:?}",
        codes(&extracted)
    );
}

fn email(headers: &str, body: &str) -> Vec<u8> {
    format!("{headers}\r\n\r\n{body}").into_bytes()
}

/// A zip archive (stored names, deflated data) from (name, data) pairs.
fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        for (name, data) in entries {
            z.start_file(*name, options).expect("zip entry");
            z.write_all(data).expect("zip write");
        }
        z.finish().expect("zip finish");
    }
    out.into_inner()
}

/// The PDF with its `startxref` offset moved `by` bytes further on.
fn with_startxref_moved(pdf: &[u8], by: usize) -> Vec<u8> {
    let at = memchr::memmem::rfind(pdf, b"startxref\n").expect("startxref") + 10;
    let end = at
        + pdf[at..]
            .iter()
            .position(|b| *b == b'\n')
            .expect("offset line");
    let offset: usize = std::str::from_utf8(&pdf[at..end])
        .expect("offset")
        .parse()
        .expect("offset");
    let mut out = pdf[..at].to_vec();
    out.extend_from_slice((offset + by).to_string().as_bytes());
    out.extend_from_slice(&pdf[end..]);
    out
}

/// The PDF with its cross-reference table blanked out (the trailer kept).
fn without_xref_table(pdf: &[u8]) -> Vec<u8> {
    let start = memchr::memmem::rfind(pdf, b"xref\n0 ").expect("xref");
    let end = memchr::memmem::rfind(pdf, b"trailer").expect("trailer");
    let mut out = pdf.to_vec();
    out[start..end].fill(b' ');
    out
}

/// The PDF encrypted (RC4, 128-bit) with the given user password.
fn encrypted(pdf: &[u8], user_password: &str) -> Vec<u8> {
    use lopdf::{Document, EncryptionState, EncryptionVersion, Object, Permissions};
    let mut doc = Document::load_mem(pdf).expect("load");
    doc.trailer.set(
        "ID",
        Object::Array(vec![
            Object::string_literal(b"0123456789abcdef".to_vec()),
            Object::string_literal(b"fedcba9876543210".to_vec()),
        ]),
    );
    let state = EncryptionState::try_from(EncryptionVersion::V2 {
        document: &doc,
        owner_password: "owner",
        user_password,
        key_length: 128,
        permissions: Permissions::all(),
    })
    .expect("encryption state");
    doc.encrypt(&state).expect("encrypt");
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("save");
    out
}

/// A Word body with a DTD declaring a billion-laughs entity and an external one.
const ENTITY_BOMB: &str = r#"<?xml version="1.0"?>
<!DOCTYPE w:document [
<!ENTITY a "aaaaaaaaaa">
<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
<!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
<!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">
<!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">
<!ENTITY secret SYSTEM "file:///etc/passwd">
]>
<w:document xmlns:w="x"><w:body><w:p><w:r><w:t>Dear Sir &amp; Madam,</w:t></w:r></w:p><w:p><w:r><w:t>&i;&secret;</w:t></w:r></w:p></w:body></w:document>"#;

pub fn corpus() -> Vec<Case> {
    let hello = simple_pdf(b"BT /F1 12 Tf 72 700 Td (Letter of claim) Tj ET");
    let mut cases = Vec::new();

    // Decompression bomb: a page content stream of 256 MiB of zeros (about 250 KB on
    // disk), four times the stream limit.
    let bomb = zlib_zeros(256 << 20);
    cases.push(Case {
        name: "pdf-content-bomb.pdf",
        bytes: pdf(&[
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>".to_vec(),
            stream("/Filter /FlateDecode", &bomb),
        ]),
        expect: "truncated_at_limit",
        keeps: None,
    });
    // A content stream whose /Length names itself, an object that is not there, or the
    // wrong number: read up to its `endstream` (see the test below), and said so.
    for (name, length) in [
        ("pdf-length-names-itself.pdf", "4 0 R"),
        ("pdf-length-names-nothing.pdf", "9 0 R"),
        ("pdf-length-wrong.pdf", "20"),
    ] {
        cases.push(Case {
            name,
            bytes: pdf_with_content_length(length),
            expect: "repaired",
            keeps: Some("Hello repaired world"),
        });
    }
    // A cross-reference table that is off by some bytes, and one that is not there: the
    // reader finds or rebuilds the table.
    cases.push(Case {
        name: "pdf-xref-offset-wrong.pdf",
        bytes: with_startxref_moved(&hello, 7),
        expect: "repaired",
        keeps: Some("Letter of claim"),
    });
    cases.push(Case {
        name: "pdf-xref-missing.pdf",
        bytes: without_xref_table(&hello),
        expect: "repaired",
        keeps: Some("Letter of claim"),
    });
    // Encrypted with an empty user password (opened without asking), and with a real one.
    cases.push(Case {
        name: "pdf-encrypted-empty-password.pdf",
        bytes: encrypted(&hello, ""),
        expect: "encrypted",
        keeps: Some("Letter of claim"),
    });
    cases.push(Case {
        name: "pdf-encrypted-password.pdf",
        bytes: encrypted(&hello, "secret"),
        expect: "encrypted",
        keeps: None,
    });
    // An object stream bomb, decoded while the file loads.
    cases.push(Case {
        name: "pdf-objstm-bomb.pdf",
        bytes: pdf(&[
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>".to_vec(),
            stream("/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", &bomb),
        ]),
        expect: "truncated_at_limit",
        keeps: None,
    });
    // Truncated at several places.
    for (name, cut) in [
        ("pdf-truncated-10.pdf", 10),
        ("pdf-truncated-half.pdf", hello.len() / 2),
        ("pdf-truncated-tail.pdf", hello.len() - 30),
    ] {
        cases.push(Case {
            name,
            bytes: hello[..cut].to_vec(),
            expect: "malformed",
            keeps: None,
        });
    }
    // Corrupt: every 7th byte flipped after the header.
    let mut corrupt = hello.clone();
    for (i, b) in corrupt.iter_mut().enumerate().skip(16) {
        if i % 7 == 0 {
            *b ^= 0x5A;
        }
    }
    cases.push(Case {
        name: "pdf-corrupt.pdf",
        bytes: corrupt,
        expect: "malformed",
        keeps: None,
    });
    // A page tree whose Pages node lists itself among its kids.
    cases.push(Case {
        name: "pdf-cyclic-pages.pdf",
        bytes: cyclic_pages_pdf(),
        expect: "repaired",
        keeps: Some("cyclic"),
    });
    // 100,000-deep nested arrays, in an object and in a content stream.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes();
    cases.push(Case {
        name: "pdf-deep-object.pdf",
        bytes: pdf(&[
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Deep 4 0 R >>".to_vec(),
            deep.clone(),
        ]),
        expect: "no_text_layer",
        keeps: None,
    });
    let mut deep_content = deep.clone();
    deep_content.extend_from_slice(b" TJ");
    cases.push(Case {
        name: "pdf-deep-content.pdf",
        bytes: simple_pdf(&deep_content),
        expect: "malformed",
        keeps: None,
    });
    // A form XObject that draws itself.
    cases.push(Case {
        name: "pdf-form-recursion.pdf",
        bytes: pdf(&[
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /X 4 0 R >> >> /Contents 5 0 R >>".to_vec(),
            stream("/Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources << /XObject << /X 4 0 R >> >>", b"/X Do /X Do"),
            stream("", b"/X Do"),
        ]),
        expect: "no_text_layer",
        keeps: None,
    });
    // Millions of operators on one page (about 1 MB compressed).
    let ops = b"0 0 m ".repeat(3_000_000);
    cases.push(Case {
        name: "pdf-operator-flood.pdf",
        bytes: pdf(&[
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>".to_vec(),
            stream("/Filter /FlateDecode", &zlib(&ops)),
        ]),
        expect: "truncated_at_limit",
        keeps: None,
    });
    // A broken JPEG named .pdf (a picture's header with no size in it), an empty file,
    // random bytes.
    cases.push(Case {
        name: "photo-named.pdf",
        bytes: b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00".repeat(50),
        expect: "malformed",
        keeps: None,
    });
    cases.push(Case {
        name: "empty.pdf",
        bytes: Vec::new(),
        expect: "empty",
        keeps: None,
    });
    cases.push(Case {
        name: "random.bin",
        bytes: (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect(),
        expect: "unsupported_type",
        keeps: None,
    });
    // Zip bomb: a DOCX whose body inflates to 256 MiB.
    cases.push(Case {
        name: "docx-zip-bomb.docx",
        bytes: {
            let zeros = vec![0u8; 1 << 20];
            let mut w = std::io::Cursor::new(Vec::new());
            {
                let mut z = zip::ZipWriter::new(&mut w);
                let options = zip::write::SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Deflated)
                    .compression_level(Some(9))
                    .large_file(true);
                z.start_file("word/document.xml", options)
                    .expect("zip entry");
                for _ in 0..256 {
                    z.write_all(&zeros).expect("zip write");
                }
                z.finish().expect("zip finish");
            }
            w.into_inner()
        },
        expect: "truncated_at_limit",
        keeps: None,
    });
    // A DOCX with 20,000 entries.
    cases.push(Case {
        name: "docx-many-entries.docx",
        bytes: {
            let names: Vec<String> = (0..20_000)
                .map(|i| format!("word/media/x{i}.bin"))
                .collect();
            let mut entries: Vec<(&str, &[u8])> = names
                .iter()
                .map(|n| (n.as_str(), b"x".as_slice()))
                .collect();
            entries.push(("word/document.xml", b"<w:document/>"));
            zip(&entries)
        },
        expect: "truncated_at_limit",
        keeps: None,
    });
    // A truncated DOCX.
    let docx = zip(&[("word/document.xml", br#"<w:document xmlns:w="x"><w:body><w:p><w:r><w:t>Hello</w:t></w:r></w:p></w:body></w:document>"#)]);
    cases.push(Case {
        name: "docx-truncated.docx",
        bytes: docx[..docx.len() * 2 / 3].to_vec(),
        expect: "malformed",
        keeps: None,
    });
    // A Word body with a DTD: an entity expanding a billion times, and one naming a file.
    cases.push(Case {
        name: "docx-entities.docx",
        bytes: zip(&[("word/document.xml", ENTITY_BOMB.as_bytes())]),
        expect: "entities_refused",
        keeps: Some("Dear Sir"),
    });
    // An email whose Subject is a megabyte long.
    cases.push(Case {
        name: "email-long-header.eml",
        bytes: email(
            &format!(
                "From: a@example.org\r\nTo: b@example.org\r\nSubject: {}\r\nDate: Tue, 5 Mar 2024 09:30:00 +0000",
                "FOI request ".repeat(90_000)
            ),
            "Please send the 2023 figures.",
        ),
        expect: "header_truncated",
        keeps: Some("Please send the 2023 figures."),
    });
    // 500-deep nested emails.
    let mut nested = email(
        "From: a@example.org\r\nTo: b@example.org\r\nSubject: innermost\r\nDate: Tue, 5 Mar 2024 09:30:00 +0000",
        "the core",
    );
    for depth in 0..500 {
        let boundary = format!("b{depth}");
        let body = format!(
            "--{boundary}\r\nContent-Type: text/plain\r\n\r\nlevel {depth}\r\n--{boundary}\r\nContent-Type: message/rfc822\r\n\r\n{}\r\n--{boundary}--\r\n",
            String::from_utf8_lossy(&nested)
        );
        nested = email(
            &format!(
                "From: a@example.org\r\nTo: b@example.org\r\nSubject: level {depth}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"{boundary}\""
            ),
            &body,
        );
    }
    cases.push(Case {
        name: "email-nested-500.eml",
        bytes: nested,
        expect: "truncated_at_limit",
        keeps: None,
    });
    // An email with 1,000 attachments.
    let mut many = String::new();
    for i in 0..1000 {
        many.push_str(&format!("--sep\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"a{i}.txt\"\r\n\r\nattachment {i}\r\n"));
    }
    many.push_str("--sep--\r\n");
    cases.push(Case {
        name: "email-many-attachments.eml",
        bytes: email("From: a@example.org\r\nTo: b@example.org\r\nSubject: many\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"sep\"", &many),
        expect: "truncated_at_limit",
        keeps: None,
    });
    // Text over the document's cap in every part: a DOCX with a header, a body, footnotes
    // and 20 footers of 17 MiB of text each (17 KB each in the zip), and an email with 200
    // such DOCX attachments. Each part or attachment alone is just over the cap; read one
    // at a time, they came to gigabytes.
    let big = word_part("document", 17 << 20);
    let mut names = vec![
        "word/header1.xml".to_owned(),
        "word/document.xml".to_owned(),
    ];
    names.push("word/footnotes.xml".to_owned());
    names.extend((1..=20).map(|i| format!("word/footer{i}.xml")));
    let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), big.as_slice())).collect();
    cases.push(Case {
        name: "docx-parts-over-text-cap.docx",
        bytes: zip(&entries),
        expect: "truncated_at_limit",
        keeps: Some("claimant claimant"),
    });
    let one = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(zip(&[("word/document.xml", &big)]))
    };
    let mut parts = String::from("--sep\r\nContent-Type: text/plain\r\n\r\nCovering note.\r\n");
    for i in 0..200 {
        parts.push_str(&format!("--sep\r\nContent-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document\r\nContent-Disposition: attachment; filename=\"r{i}.docx\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{one}\r\n"));
    }
    parts.push_str("--sep--\r\n");
    cases.push(Case {
        name: "email-attachments-over-text-cap.eml",
        bytes: email("From: a@example.org\r\nTo: b@example.org\r\nSubject: records\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"sep\"", &parts),
        expect: "truncated_at_limit",
        keeps: Some("Covering note."),
    });
    // An input over the size limit.
    cases.push(Case {
        name: "too-large.txt",
        bytes: vec![b'a'; Limits::default().max_input_bytes + 1],
        expect: "too_large",
        keeps: None,
    });
    cases
}

/// A 300-page letter-like PDF (45 lines of text a page), for the memory goal: it is not
/// hostile, so it is only written out for `scripts/measure-hostile`.
pub fn three_hundred_pages() -> Vec<u8> {
    let pages = 300;
    let mut objects = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {pages} >>",
            (0..pages)
                .map(|i| format!("{} 0 R", 4 + 2 * i))
                .collect::<Vec<_>>()
                .join(" ")
        )
        .into_bytes(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    ];
    for page in 0..pages {
        let mut content = String::from("BT /F1 10 Tf 72 770 Td 14 TL\n");
        for line in 0..45 {
            content.push_str(&format!("(Page {page} line {line}: the claimant attended the emergency department on 5 March 2024, ref CNST/24/004512.) '\n"));
        }
        content.push_str("ET");
        objects.push(format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>", 5 + 2 * page).into_bytes());
        objects.push(stream("/Filter /FlateDecode", &zlib(content.as_bytes())));
    }
    pdf(&objects)
}

#[test]
fn hostile_inputs_give_stable_codes_without_panics() {
    let limits = Limits::default();
    let dir = std::env::var_os("POSTROOM_HOSTILE_DIR").map(std::path::PathBuf::from);
    if let Some(dir) = &dir {
        std::fs::create_dir_all(dir).expect("hostile dir");
        std::fs::write(dir.join("big-300-pages.pdf"), three_hundred_pages())
            .expect("write 300 pages");
    }
    let mut failures = Vec::new();
    for case in corpus() {
        if let Some(dir) = &dir {
            std::fs::create_dir_all(dir).expect("hostile dir");
            std::fs::write(dir.join(case.name), &case.bytes).expect("write hostile file");
        }
        let extracted = extract_isolated(case.bytes.clone(), &limits);
        let codes: Vec<&str> = extracted
            .warnings
            .as_slice()
            .iter()
            .map(|w| w.code())
            .collect();
        // No hostile input passes silently: each has a warning, and the one it is known by.
        if codes.is_empty() || codes.contains(&"internal_error") || !codes.contains(&case.expect) {
            failures.push(format!(
                "{}: expected {}, got {codes:?}",
                case.name, case.expect
            ));
        }
        // The document's text, attachments included, is within its cap.
        let total = all_text(&extracted);
        if total > limits.max_text_bytes {
            failures.push(format!("{}: {total} bytes of text", case.name));
        }
        // Flagged, but its text is recovered: it is not quarantined as unreadable.
        if let Some(keeps) = case.keeps
            && (extracted.unreadable() || !extracted.text.contains(keeps))
        {
            failures.push(format!(
                "{}: expected to keep {keeps:?} and be readable, got unreadable={} {codes:?}",
                case.name,
                extracted.unreadable()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
