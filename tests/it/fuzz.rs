//! A mutation fuzz test per extractor, run briefly in CI: seeded byte-level mutations of a
//! real PDF, DOCX, email, text and HTML document must never make extraction or metadata
//! fail internally (a caught panic shows as `internal_error`). Set
//! `POSTROOM_FUZZ_ITERS` to run longer; a failing case is written to `target/fuzz-failures`.

use std::path::PathBuf;

use postroom::extract::{Limits, Warning, extract_isolated, sha256_hex};
use postroom::metadata::{Rules, analyse};

/// xorshift64*: small, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..=rng.below(4) {
        if data.is_empty() {
            data.push(rng.next() as u8);
        }
        let at = rng.below(data.len());
        match rng.below(6) {
            0 => data[at] ^= 1 << rng.below(8),
            1 => data[at] = rng.next() as u8,
            2 => data.truncate(at),
            3 => {
                let len = rng.below(64).min(data.len() - at);
                let chunk: Vec<u8> = data[at..at + len].to_vec();
                let to = rng.below(data.len());
                data.splice(to..to, chunk);
            }
            4 => {
                let interesting: &[&[u8]] = &[
                    b"[",
                    b"<<",
                    b"obj",
                    b"stream",
                    b"endstream",
                    b"(",
                    b"\\",
                    b"99999999999",
                    b"-1",
                    b"\r\n\r\n",
                    b"--",
                    b"PK\x03\x04",
                    b"\xFF\xFE",
                    b"BT",
                    b"Tj",
                    // Letters whose case mapping changes their length in UTF-8, and the
                    // labels analysis reads after them.
                    "İ".as_bytes(),
                    "ẞ".as_bytes(),
                    "Ⱥ".as_bytes(),
                    "\u{2126}".as_bytes(),
                    b"Claimant: ",
                    b"Kind regards\n",
                    b"01/01/2000 ",
                ];
                let token = interesting[rng.below(interesting.len())];
                data.splice(at..at, token.iter().copied());
            }
            _ => {
                let len = rng.below(256).min(data.len() - at);
                data.drain(at..at + len);
            }
        }
    }
    data
}

fn seed(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/documents")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("seed {}: {e}", path.display()))
}

fn fuzz(kind: &str, seed: Vec<u8>, default_iters: usize) {
    let iters = std::env::var("POSTROOM_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_iters);
    let limits = Limits {
        max_millis: 4_000,
        ..Limits::default()
    };
    let rules = Rules::builtin();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ kind.len() as u64 ^ u64::from(kind.as_bytes()[0]));
    for i in 0..iters {
        let input = mutate(&seed, &mut rng);
        let extracted = extract_isolated(input.clone(), &limits);
        let meta = analyse(&extracted, "fuzz", &sha256_hex(&input), rules);
        if extracted.warnings.contains(Warning::InternalError)
            || meta.warnings.contains(&Warning::InternalError)
        {
            let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failures");
            let _ = std::fs::create_dir_all(&dir);
            let file = dir.join(format!("{kind}-{i}.bin"));
            let _ = std::fs::write(&file, &input);
            panic!(
                "{kind} iteration {i}: internal error; input saved to {}",
                file.display()
            );
        }
    }
}

#[test]
fn fuzz_pdf() {
    fuzz("pdf", seed("letter_of_claim-01.fpdf.pdf"), 150);
}

#[test]
fn fuzz_pdf_other_producers() {
    fuzz("pdf-reportlab", seed("expert_report-03.reportlab.pdf"), 100);
    fuzz("pdf-typst", seed("expert_report-01.typst.pdf"), 100);
}

#[test]
fn fuzz_docx() {
    fuzz("docx", seed("letter_of_claim-03.docx.docx"), 150);
}

#[test]
fn fuzz_email() {
    fuzz("email", seed("foi_request-01.eml"), 200);
}

#[test]
fn fuzz_text_and_html() {
    fuzz(
        "text",
        "Dear Sirs,\r\nOur ref: CNST/24/004512 — Zoë Łukasz, DOB 01/02/1980, £1,250.\r\n"
            .repeat(20)
            .into_bytes(),
        200,
    );
    fuzz("html", b"<!DOCTYPE html><html><body><p>FOI_6405</p><table><tr><td>&pound;5</td></tr></table><script>x</script></body></html>".to_vec(), 200);
}
