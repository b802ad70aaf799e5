//! Hostile inputs, built in code: decompression and zip bombs, truncated and corrupt
//! files, cyclic page trees, deep nesting, nested emails, wrong types, empty files.
//! Each must give its stable warning code, never a panic, hang or out-of-memory.
//!
//! With `POSTROOM_HOSTILE_DIR` set, the corpus is also written there, so that
//! `scripts/measure-hostile` can time each file through the release binary.

use std::io::Write as _;

use flate2::Compression;
use flate2::write::ZlibEncoder;
use postroom::extract::{Limits, Warning, extract_isolated};

/// One hostile input and the warning it must produce.
pub struct Case {
    pub name: &'static str,
    pub bytes: Vec<u8>,
    pub expect: Warning,
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
    assert!(extracted.warnings.contains(Warning::Malformed));
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
    assert!(!good.warnings.contains(Warning::Malformed));
    for length in ["4 0 R", "9 0 R"] {
        let repaired = extract_isolated(pdf_with_content_length(length), &limits);
        assert_eq!(
            repaired.text.trim(),
            "Hello repaired world",
            "/Length {length}"
        );
        assert!(
            repaired.warnings.contains(Warning::Malformed),
            "/Length {length}"
        );
    }
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
        expect: Warning::TruncatedAtLimit,
    });
    // A content stream whose /Length names itself, or an object that is not there:
    // read up to its `endstream` (see the test below).
    for (name, length) in [
        ("pdf-length-names-itself.pdf", "4 0 R"),
        ("pdf-length-names-nothing.pdf", "9 0 R"),
    ] {
        cases.push(Case {
            name,
            bytes: pdf_with_content_length(length),
            expect: Warning::Malformed,
        });
    }
    // An object stream bomb, decoded while the file loads.
    cases.push(Case {
        name: "pdf-objstm-bomb.pdf",
        bytes: pdf(&[
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>".to_vec(),
            stream("/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", &bomb),
        ]),
        expect: Warning::TruncatedAtLimit,
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
            expect: Warning::Malformed,
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
        expect: Warning::Malformed,
    });
    // A page tree whose Pages node lists itself among its kids.
    cases.push(Case {
        name: "pdf-cyclic-pages.pdf",
        bytes: cyclic_pages_pdf(),
        expect: Warning::Malformed,
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
        expect: Warning::NoTextLayer,
    });
    let mut deep_content = deep.clone();
    deep_content.extend_from_slice(b" TJ");
    cases.push(Case {
        name: "pdf-deep-content.pdf",
        bytes: simple_pdf(&deep_content),
        expect: Warning::Malformed,
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
        expect: Warning::NoTextLayer,
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
        expect: Warning::TruncatedAtLimit,
    });
    // A JPEG named .pdf, an empty file, random bytes.
    cases.push(Case {
        name: "photo-named.pdf",
        bytes: b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00".repeat(50),
        expect: Warning::UnsupportedType,
    });
    cases.push(Case {
        name: "empty.pdf",
        bytes: Vec::new(),
        expect: Warning::Empty,
    });
    cases.push(Case {
        name: "random.bin",
        bytes: (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect(),
        expect: Warning::UnsupportedType,
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
        expect: Warning::TruncatedAtLimit,
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
        expect: Warning::TruncatedAtLimit,
    });
    // A truncated DOCX.
    let docx = zip(&[("word/document.xml", br#"<w:document xmlns:w="x"><w:body><w:p><w:r><w:t>Hello</w:t></w:r></w:p></w:body></w:document>"#)]);
    cases.push(Case {
        name: "docx-truncated.docx",
        bytes: docx[..docx.len() * 2 / 3].to_vec(),
        expect: Warning::Malformed,
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
        expect: Warning::TruncatedAtLimit,
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
        expect: Warning::TruncatedAtLimit,
    });
    // An input over the size limit.
    cases.push(Case {
        name: "too-large.txt",
        bytes: vec![b'a'; Limits::default().max_input_bytes + 1],
        expect: Warning::TooLarge,
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
        if extracted.warnings.contains(Warning::InternalError)
            || !extracted.warnings.contains(case.expect)
        {
            failures.push(format!(
                "{}: expected {}, got {codes:?}",
                case.name,
                case.expect.code()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
