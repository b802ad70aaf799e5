//! Letters: every template's example renders; the PDF checked with poppler (every field's
//! value found verbatim by `pdftotext`, only embedded fonts, the address inside the DL
//! window, a structure tree); determinism; validation; escaping; the batch command; and
//! data-driven cases over `tests/data/letters` with expected-output files
//! (`UPDATE_EXPECT=1` rewrites them).

use std::path::{Path, PathBuf};
use std::process::Command;

use postroom::letters::{Format, LetterError, Registry};
use serde_json::{Value, json};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/letters")
}

/// Whether poppler's tools are here; under `scripts/test` (POSTROOM_REQUIRE_POPPLER=1)
/// their absence is a failure, elsewhere the check is skipped loudly.
fn poppler() -> bool {
    let ok = Command::new("pdftotext").arg("-v").output().is_ok();
    if !ok {
        assert!(
            std::env::var("POSTROOM_REQUIRE_POPPLER").is_err(),
            "pdftotext is required (apt-get install poppler-utils)"
        );
        eprintln!("*** NOT RUN: poppler-utils missing; PDF checks skipped ***");
    }
    ok
}

fn write_temp(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new()
        .suffix(".pdf")
        .tempfile()
        .expect("temp file");
    std::io::Write::write_all(&mut f, bytes).expect("write");
    f
}

fn tool(name: &str, args: &[&str], pdf: &Path) -> String {
    let out = Command::new(name)
        .args(args)
        .arg(pdf)
        .arg("-")
        .output()
        .expect(name);
    assert!(
        out.status.success(),
        "{name} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every text value in the data, as it should print (dates and money as the letter
/// writes them are checked by the expected text files instead).
fn values(template: &postroom::letters::Template, data: &Value) -> Vec<String> {
    use postroom::letters::FieldType;
    let mut out = Vec::new();
    for f in &template.spec.fields {
        let Some(v) = data.get(&f.name) else { continue };
        match (f.kind, v) {
            (FieldType::Text, Value::String(s)) => out.extend(s.lines().map(str::to_string)),
            (FieldType::Address, Value::Array(lines)) => {
                out.extend(lines.iter().filter_map(|l| l.as_str().map(str::to_string)))
            }
            (FieldType::List, Value::Array(items)) => {
                for item in items {
                    match item {
                        Value::String(s) => out.push(s.clone()),
                        Value::Object(o) => {
                            out.extend(o.values().filter_map(|v| v.as_str().map(str::to_string)))
                        }
                        _ => {}
                    }
                }
            }
            (FieldType::Table, Value::Object(t)) => {
                for row in
                    std::iter::once(&t["columns"]).chain(t["rows"].as_array().into_iter().flatten())
                {
                    out.extend(
                        row.as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|c| c.as_str().map(str::to_string)),
                    );
                }
            }
            _ => {}
        }
    }
    out
}

#[test]
fn every_template_example_renders_and_poppler_reads_it_back() {
    let reg = Registry::embedded();
    let check = poppler();
    for t in reg.templates() {
        let letter = reg
            .render(&t.spec.name, &t.example, Format::Pdf)
            .unwrap_or_else(|e| panic!("{}: {e}", t.spec.name));
        assert!(letter.pages >= 1);
        assert!(
            letter.bytes.len() < 40 * 1024,
            "{}: {} bytes",
            t.spec.name,
            letter.bytes.len()
        );
        if !check {
            continue;
        }
        let file = write_temp(&letter.bytes);
        // The body only (the footer repeats on every page and would split a value that
        // runs on over a page break).
        let text = squash(&tool(
            "pdftotext",
            &[
                "-enc", "UTF-8", "-x", "0", "-y", "0", "-W", "600", "-H", "775",
            ],
            file.path(),
        ));
        for value in values(t, &t.example) {
            assert!(
                text.contains(&squash(&value)),
                "{}: {value:?} not found verbatim in:\n{text}",
                t.spec.name
            );
        }
        // Only embedded (and subset) fonts.
        let fonts = Command::new("pdffonts")
            .arg(file.path())
            .output()
            .expect("pdffonts");
        let listing = String::from_utf8_lossy(&fonts.stdout);
        let rows: Vec<&str> = listing.lines().skip(2).collect();
        assert!(!rows.is_empty(), "{listing}");
        for row in rows {
            let cols: Vec<&str> = row.split_whitespace().collect();
            // name type... emb sub uni object ID: emb is the fifth from the end.
            assert_eq!(cols[cols.len() - 5], "yes", "font not embedded: {row}");
            assert_eq!(cols[cols.len() - 3], "yes", "no ToUnicode: {row}");
        }
        // Tagged: a structure tree, marked, with a language and a title shown.
        let raw = String::from_utf8_lossy(&letter.bytes);
        for needle in [
            "/StructTreeRoot",
            "/MarkInfo",
            "/Lang (en-GB)",
            "/DisplayDocTitle true",
        ] {
            assert!(raw.contains(needle), "{}: {needle} missing", t.spec.name);
        }
        let info = Command::new("pdfinfo")
            .arg(file.path())
            .output()
            .expect("pdfinfo");
        let info = String::from_utf8_lossy(&info.stdout);
        assert!(info.contains("Tagged:          yes"), "{info}");
        assert!(
            info.contains(&format!("Title:           {}", t.spec.title)),
            "{info}"
        );
    }
}

/// The address's words (from `pdftotext -bbox`) all lie inside the DL window:
/// 24.6–120 mm across, 39.5–66.3 mm down.
#[test]
fn the_address_sits_inside_the_envelope_window() {
    if !poppler() {
        return;
    }
    let reg = Registry::embedded();
    let mm = 72.0 / 25.4;
    for name in [
        "claim-acknowledgement",
        "member-mis-result",
        "primary-care-appeal-decision",
    ] {
        let t = reg.get(name).expect("template");
        let mut data = t.example.clone();
        // The longest address allowed: seven lines, one of 60 characters.
        data["recipient_address"] = json!([
            "Mr Jean-Baptiste Ó Súilleabháin-Nguyễn",
            "The Senior Partner",
            "Harbour, Lane & Partners Solicitors LLP (Clinical Negligence Dept)",
            "Unit 14, Riverside Business Park",
            "Kingston upon Thames",
            "Surrey",
            "KT1 1AA"
        ]);
        // 66 characters is over the limit: refused, by name.
        let err = reg.render(name, &data, Format::Pdf).unwrap_err();
        assert!(err.to_string().contains("recipient_address"), "{err}");
        data["recipient_address"][2] =
            json!("Harbour, Lane & Partners LLP (Clinical Negligence Dept)");
        for address in [
            data["recipient_address"].clone(),
            t.example["recipient_address"].clone(),
        ] {
            data["recipient_address"] = address.clone();
            let letter = reg.render(name, &data, Format::Pdf).expect("renders");
            let file = write_temp(&letter.bytes);
            let bbox = tool("pdftotext", &["-bbox", "-f", "1", "-l", "1"], file.path());
            let lines: Vec<String> = address
                .as_array()
                .expect("lines")
                .iter()
                .map(|l| l.as_str().unwrap_or_default().to_string())
                .collect();
            let words: Vec<&str> = lines.iter().flat_map(|l| l.split_whitespace()).collect();
            let mut found = 0;
            for line in bbox.lines().filter(|l| l.contains("<word")) {
                let attr = |k: &str| -> f32 {
                    let at = line.find(&format!("{k}=\"")).expect("attr") + k.len() + 2;
                    line[at..]
                        .split('"')
                        .next()
                        .expect("value")
                        .parse()
                        .expect("number")
                };
                let word = line
                    .rsplit_once("\">")
                    .map(|(_, w)| w.trim_end_matches("</word>"))
                    .unwrap_or("");
                let word = word.replace("&amp;", "&");
                // Words of the address near the top left of page one.
                if words.contains(&word.as_str())
                    && attr("xMin") < 120.0 * mm
                    && attr("yMin") < 72.0 * mm
                    && attr("yMin") > 30.0 * mm
                {
                    found += 1;
                    let (x0, y0, x1, y1) = (attr("xMin"), attr("yMin"), attr("xMax"), attr("yMax"));
                    assert!(
                        x0 >= 24.6 * mm && x1 <= 120.0 * mm && y0 >= 39.5 * mm && y1 <= 66.3 * mm,
                        "{name}: {word:?} at ({:.1}, {:.1})–({:.1}, {:.1}) mm is outside the window",
                        x0 / mm,
                        y0 / mm,
                        x1 / mm,
                        y1 / mm
                    );
                }
            }
            assert!(
                found >= words.len(),
                "{name}: found {found} of {} address words",
                words.len()
            );
        }
    }
}

#[test]
fn the_same_data_gives_the_same_bytes() {
    let reg = Registry::embedded();
    for t in reg.templates() {
        let a = reg
            .render(&t.spec.name, &t.example, Format::Pdf)
            .expect("renders");
        let b = reg
            .render(&t.spec.name, &t.example, Format::Pdf)
            .expect("renders");
        assert_eq!(a.bytes, b.bytes, "{}", t.spec.name);
        let raw = String::from_utf8_lossy(&a.bytes);
        assert!(
            !raw.contains("CreationDate") && !raw.contains("ModDate"),
            "no clock in the PDF"
        );
    }
    // Another process (fresh font caches) gives the same bytes too.
    let dir = tempfile::tempdir().expect("tempdir");
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("templates/claim-acknowledgement/example.json");
    let out = dir.path().join("a.pdf");
    let status = Command::new(env!("CARGO_BIN_EXE_postroom"))
        .args([
            "letter",
            "render",
            "--template",
            "claim-acknowledgement",
            "--data",
        ])
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .status()
        .expect("postroom");
    assert!(status.success());
    let t = reg.get("claim-acknowledgement").expect("template");
    let here = reg
        .render("claim-acknowledgement", &t.example, Format::Pdf)
        .expect("renders");
    assert_eq!(std::fs::read(&out).expect("pdf"), here.bytes);
}

#[test]
fn hostile_values_print_literally() {
    let reg = Registry::embedded();
    let t = reg.get("claim-acknowledgement").expect("template");
    let mut data = t.example.clone();
    let hostile = "*Zoë* # {{x}} [link](http://evil.example) <b>x</b> _y_ `z` ::: signature";
    data["claimant_name"] = json!(hostile);
    let txt = reg
        .render("claim-acknowledgement", &data, Format::Txt)
        .expect("renders");
    let txt = String::from_utf8(txt.bytes).expect("utf-8");
    assert!(squash(&txt).contains(hostile), "{txt}");
    if poppler() {
        let pdf = reg
            .render("claim-acknowledgement", &data, Format::Pdf)
            .expect("renders");
        let file = write_temp(&pdf.bytes);
        let text = squash(&tool("pdftotext", &["-enc", "UTF-8"], file.path()));
        assert!(text.contains(hostile), "{text}");
        assert!(
            !String::from_utf8_lossy(&pdf.bytes).contains("evil.example"),
            "no link made from data"
        );
    }
}

#[test]
fn every_problem_is_reported_at_once_by_name() {
    let reg = Registry::embedded();
    let data = json!({
        "recipient_address": ["Ms A Person", "1 Road"],
        "salutation": "Ms Person",
        "letter_date": "2024-02-30",
        "signatory_name": "A Signer",
        "signatory_role": "Manager",
        "claimant_name": "A Claimant",
        "defendant": "A Trust",
        "letter_of_claim_date": "01/02/2024",
        "received_date": "yesterday",
        "case_handler_name": "B Handler",
        "case_handler_email": "b@example.org",
        "records_requested": "perhaps",
        "colour": "blue"
    });
    let Err(LetterError::Invalid(errors)) = reg.render("claim-acknowledgement", &data, Format::Pdf)
    else {
        panic!("expected invalid data");
    };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    for expected in [
        "recipient_address",
        "our_ref",
        "letter_date",
        "received_date",
        "records_requested",
        "colour",
    ] {
        assert!(
            fields.contains(&expected),
            "{expected} not reported: {errors:?}"
        );
    }
    assert!(
        !fields.contains(&"letter_of_claim_date"),
        "day-first dates are accepted: {errors:?}"
    );
    assert_eq!(errors.len(), 6, "{errors:?}");
}

#[test]
fn conditional_requirements_and_nested_records() {
    let reg = Registry::embedded();
    let t = reg.get("foi-response").expect("template");
    let mut data = t.example.clone();
    data["outcome"] = json!("refused");
    data.as_object_mut().expect("object").remove("exemptions");
    let err = reg.render("foi-response", &data, Format::Txt).unwrap_err();
    assert!(
        err.to_string()
            .contains("exemptions: is required when outcome is refused"),
        "{err}"
    );
    data["exemptions"] = json!([{"section": "40(2)", "title": "Personal information"}]);
    let err = reg.render("foi-response", &data, Format::Txt).unwrap_err();
    assert!(err.to_string().contains("exemptions[1].reason"), "{err}");
}

#[test]
fn templates_on_disk_match_the_embedded_ones() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut on_disk = Vec::new();
    for dir in std::fs::read_dir(&root).expect("templates").flatten() {
        for file in std::fs::read_dir(dir.path()).expect("folder").flatten() {
            let rel = format!(
                "{}/{}",
                dir.file_name().to_string_lossy(),
                file.file_name().to_string_lossy()
            );
            on_disk.push((rel, std::fs::read_to_string(file.path()).expect("text")));
        }
    }
    on_disk.sort();
    let mut embedded: Vec<(String, String)> = postroom::letters::embedded::FILES
        .iter()
        .map(|(p, t)| (p.to_string(), t.to_string()))
        .collect();
    embedded.sort();
    assert_eq!(
        on_disk.iter().map(|(p, _)| p).collect::<Vec<_>>(),
        embedded.iter().map(|(p, _)| p).collect::<Vec<_>>(),
        "crates/lettering/src/embedded.rs must list every file under templates/"
    );
    let from_dir = Registry::from_dir(&root).expect("loads");
    assert_eq!(
        from_dir.templates().count(),
        Registry::embedded().templates().count()
    );
}

/// Data-driven: `tests/data/letters/*.json` hold `{"template", "data"}`; the plain-text
/// rendering must equal `*.expected.txt`, or the errors `*.expected-errors.txt`.
#[test]
fn letters_data_driven() {
    let reg = Registry::embedded();
    let update = std::env::var("UPDATE_EXPECT").is_ok();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(data_dir())
        .expect("tests/data/letters")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 8, "{} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let spec: Value =
            serde_json::from_str(&std::fs::read_to_string(case).expect("case")).expect("json");
        let template = spec["template"].as_str().expect("template");
        let (actual, expected_path) = match reg.render(template, &spec["data"], Format::Txt) {
            Ok(letter) => (
                String::from_utf8(letter.bytes).expect("utf-8"),
                case.with_extension("expected.txt"),
            ),
            Err(LetterError::Invalid(errors)) => (
                errors.iter().map(|e| format!("{e}\n")).collect::<String>(),
                case.with_extension("expected-errors.txt"),
            ),
            Err(e) => (
                format!("error: {e}\n"),
                case.with_extension("expected-errors.txt"),
            ),
        };
        if update {
            std::fs::write(&expected_path, &actual).expect("write expected");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != actual {
            failures.push(format!(
                "{}:\n--- expected\n{expected}\n--- actual\n{actual}",
                case.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn batch_reports_bad_rows_and_still_renders_the_good_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("members.csv");
    std::fs::write(
        &csv,
        "recipient_address,salutation,our_ref,letter_date,signatory_name,signatory_role,trust_name,member_code,scheme_year,result,actions_met,contribution,amount,payment_date,actions_not_met\n\
         Chief Executive|Trust A|1 Road|Leeds|LS1 4AP,Chief Executive,MIS/Y6/RA1,2024-11-01,H Signer,Director,Trust A,RA1,Year 6,met-all,10,1000.00,1100.50,2024-12-13,\n\
         Chief Executive|Trust B|1 Road|Leeds|NOT A POSTCODE,Chief Executive,MIS/Y6/RB2,2024-11-01,H Signer,Director,Trust B,RB2,Year 6,met-all,10,ten pounds,1100.50,2024-12-13,\n\
         Chief Executive|Trust C|1 Road|York|YO1 7HH,Chief Executive,MIS/Y6/RC3,2024-11-01,H Signer,Director,Trust C,RC3,Year 6,not-met,8,2000,0,2024-12-13,Safety action 1;Safety action 6\n\
         Chief Executive|Trust D|1 Road|York|YO1 7HH,Chief Executive,MIS/Y6/RD4,2024-11-01,H Signer,Director,Trust D,RD4,Year 6,not-met,8,2000,0,2024-12-13,\n",
    )
    .expect("csv");
    let out = dir.path().join("out");
    let result = Command::new(env!("CARGO_BIN_EXE_postroom"))
        .args([
            "letter",
            "batch",
            "--template",
            "member-mis-result",
            "--csv",
        ])
        .arg(&csv)
        .arg("--out-dir")
        .arg(&out)
        .output()
        .expect("postroom");
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("row 2 (line 3): recipient_address"),
        "{stderr}"
    );
    assert!(stderr.contains("row 2 (line 3): contribution"), "{stderr}");
    assert!(
        stderr.contains("row 4 (line 5): actions_not_met: is required when result is not-met"),
        "{stderr}"
    );
    assert!(stderr.contains("2 of 4 letters written"), "{stderr}");
    let mut made: Vec<String> = std::fs::read_dir(&out)
        .expect("out")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    made.sort();
    assert_eq!(
        made,
        ["row-00001-MIS_Y6_RA1.pdf", "row-00003-MIS_Y6_RC3.pdf"]
    );
}

#[test]
fn templates_command_lists_and_shows_fields() {
    let out = Command::new(env!("CARGO_BIN_EXE_postroom"))
        .args(["templates", "show", "foi-response"])
        .output()
        .expect("postroom");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    for needle in [
        "outcome",
        "choice",
        "granted | partly-granted",
        "exemptions",
        ".reason",
        "when outcome is",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_postroom"))
        .args(["templates", "list"])
        .output()
        .expect("postroom");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.lines().count(),
        Registry::embedded().templates().count(),
        "{text}"
    );
}

/// Renders on a thread and gives up after `secs` (a layout loop without a bound would
/// otherwise hang the test run).
fn render_within(
    secs: u64,
    template: &str,
    data: &Value,
) -> Result<postroom::letters::Rendered, LetterError> {
    let (tx, rx) = std::sync::mpsc::channel();
    let (name, data) = (template.to_string(), data.clone());
    std::thread::spawn(move || {
        let _ = tx.send(Registry::embedded().render(&name, &data, Format::Pdf));
    });
    rx.recv_timeout(std::time::Duration::from_secs(secs))
        .unwrap_or_else(|_| panic!("{template}: not rendered within {secs} s"))
}

/// Words of a PDF (from `pdftotext -bbox`): page number, text and bottom edge (pt).
fn words_with_bottoms(pdf: &Path) -> Vec<(usize, String, f32)> {
    let bbox = tool("pdftotext", &["-bbox", "-enc", "UTF-8"], pdf);
    let mut page = 0;
    let mut out = Vec::new();
    for line in bbox.lines() {
        if line.contains("<page ") {
            page += 1;
        }
        if !line.contains("<word") {
            continue;
        }
        let at = line.find("yMax=\"").expect("yMax") + 6;
        let y_max: f32 = line[at..]
            .split('"')
            .next()
            .and_then(|v| v.parse().ok())
            .expect("number");
        let word = line
            .rsplit_once("\">")
            .map(|(_, w)| w.trim_end_matches("</word>"))
            .unwrap_or("");
        out.push((page, word.to_string(), y_max));
    }
    out
}

/// Review finding 8: a table row taller than a page (ten columns whose cells are
/// 500-character runs of short words) used to send pagination round for ever, pushing a
/// repeated header on each new page. It is now split across pages by lines, with the
/// header repeated: rendered in bounded time, every word of every cell read back by
/// poppler, none below the page's text area, and the header on every page of the table.
#[test]
fn a_table_row_taller_than_a_page_is_split_across_pages() {
    let reg = Registry::embedded();
    let t = reg.get("foi-response").expect("template");
    let mut data = t.example.clone();
    let cols = 10;
    // Short words, each naming its column, row and place ("c3r1w042"): 500 characters.
    let cell = |r: usize, c: usize| -> String {
        let mut s = String::new();
        for w in 0.. {
            let word = format!("{}{r}{w:03}", (b'a' + c as u8) as char);
            if s.len() + word.len() + 1 > 500 {
                break;
            }
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(&word);
        }
        s
    };
    let rows: Vec<Vec<String>> = (0..2)
        .map(|r| (0..cols).map(|c| cell(r, c)).collect())
        .collect();
    let header: Vec<String> = (0..cols).map(|c| format!("hd{c}")).collect();
    data["statistics"] = json!({ "columns": header, "rows": rows });
    let letter = render_within(60, "foi-response", &data).expect("renders");
    assert!(letter.pages >= 3, "{} pages", letter.pages);
    if !poppler() {
        return;
    }
    let file = write_temp(&letter.bytes);
    let words = words_with_bottoms(file.path());
    let bottom = 297.0 * 72.0 / 25.4 - 27.0 * 72.0 / 25.4; // the text area's foot
    for (r, row) in rows.iter().enumerate() {
        for (c, text) in row.iter().enumerate() {
            for w in text.split_whitespace() {
                let found: Vec<&(usize, String, f32)> =
                    words.iter().filter(|(_, t, _)| t == w).collect();
                assert_eq!(found.len(), 1, "row {r} column {c}: {w:?} found {found:?}");
                assert!(
                    found[0].2 <= bottom + 1.0,
                    "{w:?} on page {} lies below the text area ({} pt)",
                    found[0].0,
                    found[0].2
                );
            }
        }
    }
    // The header row on every page that shows a part of the table.
    let pages_with_cells: std::collections::BTreeSet<usize> = words
        .iter()
        .filter(|(_, t, _)| {
            t.len() == 5
                && t.starts_with(|ch: char| ch.is_ascii_lowercase())
                && t[1..].chars().all(|ch| ch.is_ascii_digit())
        })
        .map(|(p, _, _)| *p)
        .collect();
    assert!(pages_with_cells.len() >= 2, "{pages_with_cells:?}");
    for p in &pages_with_cells {
        for h in &header {
            assert!(
                words.iter().any(|(q, t, _)| q == p && t == h),
                "page {p}: header {h} missing"
            );
        }
    }
}

/// Review finding 8 (audit of the other loops): a single word of 5,000 characters is
/// broken across lines (and a 500-character word fills a table cell) in bounded time, and
/// every character is read back.
#[test]
fn a_five_thousand_character_word_renders() {
    let reg = Registry::embedded();
    let t = reg.get("foi-response").expect("template");
    let mut data = t.example.clone();
    let word: String = "abcdefghij".repeat(500);
    data["request_text"] = json!(word);
    let cell: String = "klmnopqrst".repeat(50);
    data["statistics"] = json!({
        "columns": ["Injury", "2023/24"],
        "rows": [[cell, "41"]]
    });
    let letter = render_within(60, "foi-response", &data).expect("renders");
    if !poppler() {
        return;
    }
    let file = write_temp(&letter.bytes);
    // The body only: the footer and page numbers would split a word run on over a page.
    let body = &[
        "-enc", "UTF-8", "-x", "0", "-y", "0", "-W", "600", "-H", "775",
    ];
    let text: String = tool("pdftotext", body, file.path())
        .split_whitespace()
        .collect();
    assert!(text.contains(&word), "the long word is not read back whole");
    assert!(text.contains(&cell), "the long cell is not read back whole");
}
