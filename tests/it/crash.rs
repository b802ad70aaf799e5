//! Crash consistency and racing filings: `postroom ingest` of 500+ mixed files killed
//! with SIGKILL at 20+ random moments, each time run again to completion, records every
//! file exactly once (none lost, none filed twice, no case opened twice, every
//! acknowledgement once; on a local home, the search index holds exactly the documents
//! filed or waiting: what a kill before a grouped commit lost is indexed by the rerun);
//! and two letters of claim that open the same new case at once
//! open it once and are both filed under it.
//!
//! The post, the runner and the checks are shared with `local_stack_faults` (the same
//! crash test against S3 and DynamoDB on moto).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use postroom::config::Config;
use postroom::store::Stores;
use postroom::store::{Item, Key, Query};
use serde_json::Value;

// ---------------------------------------------------------------------------------------
// A seeded random number generator (xorshift64*), so a failing run can be repeated.

/// xorshift64*: small, fast, good enough to pick kill moments and file contents.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The seed: `POSTROOM_CRASH_SEED` when set (to repeat a run), else a fixed one.
pub fn seed() -> u64 {
    std::env::var("POSTROOM_CRASH_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0x5EED_C0FF_EE15)
}

// ---------------------------------------------------------------------------------------
// The post: letters of claim, follow-ups, FOI requests, loose letters, hostile files,
// copies, and same-named files in two folders. Fictional people and firms only.

const FIRST: &[&str] = &[
    "Ann", "Bryony", "Callum", "Delyth", "Eamon", "Fenella", "Gethin", "Harriet", "Idris",
    "Jessamy", "Kofi", "Lowri", "Magnus", "Nerys", "Orla", "Piran",
];
const LAST: &[&str] = &[
    "Ashdown",
    "Brackley",
    "Cardew",
    "Dunmore",
    "Ellery",
    "Fairlie",
    "Garside",
    "Holloway",
    "Inchbald",
    "Jervis",
    "Kettering",
    "Lathom",
    "Mowbray",
    "Nettleton",
    "Oakshott",
    "Pennock",
];
/// Firm, street, town, postcode.
const FIRMS: &[[&str; 4]] = &[
    [
        "Hartley & Moss Solicitors",
        "56 Chancery Row",
        "Northtown",
        "NT1 4QX",
    ],
    ["Blake Orr LLP", "12 Mill Street", "Southby", "SB2 7HJ"],
    [
        "Quayle Fenton Solicitors",
        "3 Abbey Walk",
        "Easterly",
        "EA4 9LP",
    ],
    ["Marsh & Penrose", "88 Kings Parade", "Westcombe", "WC3 2RT"],
];
const TRUSTS: &[&str] = &[
    "Northshire Hospitals NHS Foundation Trust",
    "Westvale University Hospitals NHS Trust",
    "Eastmere Community NHS Trust",
    "Southdown Acute NHS Foundation Trust",
];
const DEPARTMENTS: &[&str] = &[
    "emergency",
    "orthopaedic",
    "maternity",
    "general surgery",
    "ophthalmology",
    "cardiology",
];
const FAILINGS: &[&str] = &[
    "A fracture visible on the radiograph was not reported.",
    "The deterioration in observations was not escalated to a doctor.",
    "Antibiotics were not started for several hours despite signs of sepsis.",
    "The wrong site was marked before the operation.",
    "A raised pressure reading was not acted upon at the review.",
    "The discharge letter did not pass on the plan for follow-up.",
];
const FOI_TOPICS: &[&str] = &[
    "the number of clinical negligence claims received",
    "the total damages paid on maternity claims",
    "the number of claims closed without payment",
    "the legal costs paid to claimant solicitors",
    "the number of claims about delayed diagnosis of cancer",
    "the number of claims involving never events",
    "the average time taken to settle a claim",
    "the number of claims about emergency departments",
    "the total paid on claims about surgery",
    "the number of claims that went to trial",
];
const MONTHS: &[&str] = &["January", "February", "March", "April", "May", "June"];
const SCHEMES: &[&str] = &["CNST", "ELS", "CNSGP", "LTPS"];

/// What a file in the post is, and so what filing it must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A letter of claim quoting a new claim reference: opens that case.
    Claim { reference: String },
    /// A later document for a claim: filed under it.
    FollowUp { reference: String },
    /// An FOI request with no reference: gets the next FOI number.
    Foi,
    /// A letter with no reference: unfiled.
    Loose,
    /// Not a document postroom reads: quarantined.
    Hostile,
    /// The exact bytes of input `of` under another name: a duplicate of it.
    Copy { of: usize },
}

/// One file of the post.
#[derive(Debug, Clone)]
pub struct Input {
    pub path: PathBuf,
    pub sha256: String,
    /// The MD5 (an object's ETag) of its bytes.
    pub md5: String,
    pub kind: Kind,
}

/// The post written under a folder, and the folders to give `postroom ingest`.
#[derive(Debug)]
pub struct Post {
    pub inputs: Vec<Input>,
    /// Given as separate arguments, so that `scans-a/scan-001.pdf` and
    /// `scans-b/scan-001.pdf` have the same path below the folder given.
    pub folders: Vec<PathBuf>,
}

impl Post {
    pub fn claims(&self) -> usize {
        self.count(|k| matches!(k, Kind::Claim { .. }))
    }
    pub fn fois(&self) -> usize {
        self.count(|k| matches!(k, Kind::Foi))
    }
    fn count(&self, f: impl Fn(&Kind) -> bool) -> usize {
        self.inputs.iter().filter(|i| f(&i.kind)).count()
    }
}

/// Escapes a line for a PDF string (WinAnsi: '£' is octal 243).
fn pdf_string(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    for c in line.chars() {
        match c {
            '(' | ')' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '£' => out.push_str("\\243"),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            _ => out.push('?'),
        }
    }
    out
}

/// A one-page PDF (Helvetica) showing `text`, lines wrapped at about 90 characters.
fn text_pdf(text: &str) -> Vec<u8> {
    let mut content = String::from("BT /F1 10 Tf 13 TL 60 770 Td\n");
    for para in text.lines() {
        let mut line = String::new();
        let mut lines = Vec::new();
        for word in para.split_whitespace() {
            if !line.is_empty() && line.len() + word.len() > 90 {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
        for l in lines {
            content.push_str(&format!("({}) Tj T*\n", pdf_string(&l)));
        }
    }
    content.push_str("ET");
    crate::hostile::simple_pdf(content.as_bytes())
}

fn person(i: usize) -> (String, String) {
    (
        FIRST[i % FIRST.len()].to_owned(),
        LAST[(i / FIRST.len() + i * 7) % LAST.len()].to_owned(),
    )
}

fn date_2025(i: usize) -> String {
    format!("{} {} 2025", 1 + i % 28, MONTHS[i % MONTHS.len()])
}

fn sender_block(firm: &[&str; 4], i: usize) -> String {
    format!(
        "{}\n{}\n{}\n{}\nTel: 01632 9{:05}\n",
        firm[0],
        firm[1],
        firm[2],
        firm[3],
        i % 100_000
    )
}

fn letter_of_claim(i: usize, reference: &str) -> String {
    let firm = &FIRMS[i % FIRMS.len()];
    let (first, last) = person(i);
    let trust = TRUSTS[i % TRUSTS.len()];
    format!(
        "{sender}\n{date}\n\nClinical Negligence Team\n2 Quayside Chambers\nLeeds\nLS1 4ZZ\n\n\
         Your ref: {reference}\nOur ref: CL/{i:05}\n\nDear Sirs\n\nLETTER OF CLAIM\n\n\
         Our client: {first} {last} (date of birth {dd:02}/{mm:02}/19{yy:02})\nDefendant: {trust}\n\n\
         We are instructed by our client in connection with a claim for clinical negligence \
         against {trust}. This letter is sent in accordance with the Pre-Action Protocol for the \
         Resolution of Clinical Disputes and we look forward to receiving a Letter of Response \
         within four months.\n\nSummary of facts\n\nOn {when} our client attended the {dept} \
         department. {failing}\n\nAllegations of negligence\n\nIt is alleged that there was a \
         breach of duty in the respects set out above. Causation will be addressed in expert \
         evidence.\n\nWe estimate the value of the claim at £{amount},000.\n\nYours faithfully\n\n{firm}\n",
        sender = sender_block(firm, i),
        date = date_2025(i),
        dd = 1 + i % 28,
        mm = 1 + i % 12,
        yy = 40 + i % 50,
        when = format_args!(
            "{} {} 2023",
            1 + (i * 3) % 28,
            MONTHS[(i + 2) % MONTHS.len()]
        ),
        dept = DEPARTMENTS[i % DEPARTMENTS.len()],
        failing = FAILINGS[i % FAILINGS.len()],
        amount = 20 + i % 400,
        firm = firm[0],
    )
}

fn follow_up(i: usize, reference: &str, claim: usize) -> String {
    let firm = &FIRMS[claim % FIRMS.len()];
    let (first, last) = person(claim);
    let trust = TRUSTS[claim % TRUSTS.len()];
    match i % 3 {
        0 => format!(
            "MEDICO-LEGAL EXPERT REPORT\n\nReport on breach of duty\n\nPrepared for: {firm}\n\
             Claimant: {first} {last}\nClaim reference: {reference}\nDate: {date}\n\n\
             I understand my duty to the court and have complied with it. This report is \
             prepared in accordance with Part 35 and Practice Direction 35.\n\n\
             In my opinion the care given in the {dept} department fell below a reasonable \
             standard. {failing}\n\nCondition and prognosis\n\nThe claimant has made a partial \
             recovery (observation {i}).\n",
            firm = firm[0],
            date = date_2025(i),
            dept = DEPARTMENTS[i % DEPARTMENTS.len()],
            failing = FAILINGS[(i + 1) % FAILINGS.len()],
        ),
        1 => format!(
            "{sender}\n{date}\n\nYour ref: {reference}\n\nWITHOUT PREJUDICE SAVE AS TO COSTS\n\n\
             Dear Sirs\n\n{first} {last} v {trust}\n\nPART 36 OFFER\n\nOur client offers to \
             settle the whole of the claim for £{amount},000. This offer is made pursuant to \
             Part 36 and the relevant period is 21 days.\n\nYours faithfully\n\n{firm}\n",
            sender = sender_block(firm, i),
            date = date_2025(i),
            amount = 10 + i % 300,
            firm = firm[0],
        ),
        _ => format!(
            "{sender}\n{date}\n\nYour ref: {reference}\n\nDear Sirs\n\n{first} {last} v {trust}\n\n\
             We enclose copies of the records we hold for your attention (bundle {i}). Please \
             confirm that you have received them.\n\nYours faithfully\n\n{firm}\n",
            sender = sender_block(firm, i),
            date = date_2025(i),
            firm = firm[0],
        ),
    }
}

fn foi_request(i: usize, email: bool) -> String {
    let (first, last) = person(i + 3);
    let topic = FOI_TOPICS[i % FOI_TOPICS.len()];
    let from = 2005 + i / FOI_TOPICS.len();
    let body = format!(
        "Dear Sir or Madam,\n\nUnder the Freedom of Information Act 2000 I would like to request \
         {topic} for each year from {from} to {to}.\n\nPlease provide the information in an \
         electronic format.\n\nYours faithfully,\n\n{first} {last}\n",
        to = from + 5,
    );
    if !email {
        return body;
    }
    let day = chrono::NaiveDate::from_ymd_opt(2025, 3, 1 + (i % 28) as u32).unwrap_or_default();
    format!(
        "From: {first} {last} <{f}.{l}{i}@mail.example>\r\nTo: FOI Team <foi@resolution.example>\r\n\
         Subject: Freedom of Information request\r\nDate: {date} 10:{min:02}:00 +0000\r\n\
         Message-ID: <foi-{i}@mail.example>\r\nContent-Type: text/plain; charset=\"utf-8\"\r\n\
         MIME-Version: 1.0\r\n\r\n{body}",
        f = first.to_lowercase(),
        l = last.to_lowercase(),
        date = day.format("%a, %d %b %Y"),
        min = i % 60,
        body = body.replace('\n', "\r\n"),
    )
}

fn loose_letter(i: usize) -> String {
    let firm = &FIRMS[i % FIRMS.len()];
    let (first, last) = person(i + 11);
    format!(
        "{sender}\n{date}\n\nDear Sirs\n\nWe write on behalf of {first} {last} about treatment \
         in the {dept} department of {trust}. We will write again with a reference once we have \
         our client's instructions (note {i}).\n\nYours faithfully\n\n{firm}\n",
        sender = sender_block(firm, i),
        date = date_2025(i),
        dept = DEPARTMENTS[(i + 3) % DEPARTMENTS.len()],
        trust = TRUSTS[(i + 1) % TRUSTS.len()],
        firm = firm[0],
    )
}

/// Bytes that are not a document: an image or an archive under a document's name.
fn hostile(i: usize, rng: &mut Rng) -> Vec<u8> {
    let mut bytes: Vec<u8> = match i % 3 {
        0 => b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00".to_vec(),
        1 => b"\x89PNG\r\n\x1A\n\x00\x00\x00\x0DIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x02"
            .to_vec(),
        _ => b"GIF89a\x10\x00\x10\x00\x80\x00\x00".to_vec(),
    };
    bytes.extend((0..600 + rng.below(1500)).map(|_| rng.next_u64() as u8));
    bytes
}

/// How many files of each kind: at least 500 in all.
#[derive(Debug, Clone, Copy)]
pub struct Mix {
    pub claims: usize,
    pub follow_ups: usize,
    pub fois: usize,
    pub loose: usize,
    pub same_named: usize,
    pub hostile: usize,
    pub copies: usize,
}

impl Mix {
    /// 512 files. Acknowledged documents (letters of claim and FOI requests) cost the
    /// most, a letter each, so there are fewer of them than of the rest.
    pub const FULL: Mix = Mix {
        claims: 32,
        follow_ups: 224,
        fois: 40,
        loose: 152,
        same_named: 6,
        hostile: 12,
        copies: 40,
    };

    pub fn total(&self) -> usize {
        self.claims
            + self.follow_ups
            + self.fois
            + self.loose
            + 2 * self.same_named
            + self.hostile
            + self.copies
    }
}

/// Writes the post under `root`. Letters of claim sort before everything that follows
/// them, so each case is open before its follow-ups are filed.
pub fn write_post(root: &Path, mix: Mix, rng: &mut Rng) -> Post {
    let mut inputs: Vec<Input> = Vec::new();
    let mut folders = Vec::new();
    let add = |inputs: &mut Vec<Input>, path: PathBuf, bytes: &[u8], kind: Kind| {
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("make folder");
        std::fs::write(&path, bytes).expect("write input");
        inputs.push(Input {
            path,
            sha256: postroom::extract::sha256_hex(bytes),
            md5: postroom::store::md5_hex(bytes),
            kind,
        });
    };
    let folder = |name: &str, folders: &mut Vec<PathBuf>| {
        let f = root.join(name);
        folders.push(f.clone());
        f
    };

    // Letters of claim, each with a new reference; a third of them as PDFs.
    let claims = folder("1-claims", &mut folders);
    let mut references = Vec::new();
    for i in 0..mix.claims {
        let reference = format!(
            "{}/25/{:06}",
            SCHEMES[i % SCHEMES.len()],
            300_000 + i * 97 + rng.below(90) as usize
        );
        let text = letter_of_claim(i, &reference);
        let (name, bytes) = if i % 3 == 0 {
            (format!("claim-{i:04}.pdf"), text_pdf(&text))
        } else {
            (format!("claim-{i:04}.txt"), text.into_bytes())
        };
        add(
            &mut inputs,
            claims.join(name),
            &bytes,
            Kind::Claim {
                reference: reference.clone(),
            },
        );
        references.push(reference);
    }

    // Follow-ups for those claims.
    let follow = folder("2-follow-ups", &mut folders);
    for i in 0..mix.follow_ups {
        let claim = rng.below(references.len() as u64) as usize;
        let reference = &references[claim];
        let text = follow_up(i, reference, claim);
        let (name, bytes) = if i % 4 == 0 {
            (format!("doc-{i:04}.pdf"), text_pdf(&text))
        } else {
            (format!("doc-{i:04}.txt"), text.into_bytes())
        };
        add(
            &mut inputs,
            follow.join(name),
            &bytes,
            Kind::FollowUp {
                reference: reference.clone(),
            },
        );
    }

    // FOI requests by email (.eml) and as plain text, none quoting a reference.
    let foi = folder("3-foi", &mut folders);
    for i in 0..mix.fois {
        let email = i % 2 == 0;
        let name = if email {
            format!("request-{i:04}.eml")
        } else {
            format!("request-{i:04}.txt")
        };
        add(
            &mut inputs,
            foi.join(name),
            foi_request(i, email).as_bytes(),
            Kind::Foi,
        );
    }

    // Letters with no reference; two of them differ only by the case of their names.
    let loose = folder("4-loose", &mut folders);
    for i in 0..mix.loose {
        let text = loose_letter(i);
        let (name, bytes) = match i {
            0 => ("Note.txt".to_owned(), text.into_bytes()),
            1 => ("note.txt".to_owned(), text.into_bytes()),
            _ if i % 5 == 0 => (format!("letter-{i:04}.pdf"), text_pdf(&text)),
            _ => (format!("letter-{i:04}.txt"), text.into_bytes()),
        };
        add(&mut inputs, loose.join(name), &bytes, Kind::Loose);
    }

    // The same names in two folders, different contents: a follow-up and a loose letter.
    let scans_a = folder("5-scans-a", &mut folders);
    let scans_b = folder("5-scans-b", &mut folders);
    for i in 0..mix.same_named {
        let claim = rng.below(references.len() as u64) as usize;
        let reference = references[claim].clone();
        let name = format!("scan-{i:03}.pdf");
        let a = text_pdf(&follow_up(1000 + i, &reference, claim));
        add(
            &mut inputs,
            scans_a.join(&name),
            &a,
            Kind::FollowUp { reference },
        );
        let b = text_pdf(&loose_letter(1000 + i));
        add(&mut inputs, scans_b.join(&name), &b, Kind::Loose);
    }

    // Images and the like under documents' names.
    let odd = folder("6-odd", &mut folders);
    for i in 0..mix.hostile {
        let ext = ["pdf", "docx", "eml"][i % 3];
        let bytes = hostile(i, rng);
        add(
            &mut inputs,
            odd.join(format!("upload-{i:03}.{ext}")),
            &bytes,
            Kind::Hostile,
        );
    }

    // Exact copies of earlier documents (not the hostile ones) under other names.
    let copies = folder("7-copies", &mut folders);
    let readable = inputs
        .iter()
        .position(|i| i.kind == Kind::Hostile)
        .unwrap_or(inputs.len());
    let mut copied = BTreeSet::new();
    for i in 0..mix.copies {
        let mut of = rng.below(readable as u64) as usize;
        while !copied.insert(of) {
            of = rng.below(readable as u64) as usize;
        }
        let bytes = std::fs::read(&inputs[of].path).expect("read original");
        let ext = inputs[of]
            .path
            .extension()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default();
        add(
            &mut inputs,
            copies.join(format!("copy-{i:03}.{ext}")),
            &bytes,
            Kind::Copy { of },
        );
    }
    Post { inputs, folders }
}

// ---------------------------------------------------------------------------------------
// Running `postroom ingest`.

/// Where the store is: a local home, or S3 and DynamoDB behind an endpoint.
#[derive(Debug, Clone)]
pub enum Target {
    Local(PathBuf),
    Aws {
        endpoint: String,
        table: String,
        bucket: String,
    },
}

impl Target {
    pub fn config(&self) -> Config {
        match self {
            Target::Local(home) => Config::local(home.clone()),
            Target::Aws { table, bucket, .. } => Config::aws(table.clone(), bucket.clone()),
        }
    }

    /// The stores, opened as the test process sees them (an AWS target's endpoint is
    /// given in code: the process's own `AWS_ENDPOINT_URL` may name another stand-in).
    pub async fn stores(&self) -> Stores {
        match self {
            Target::Local(_) => postroom::app::local_stores(&self.config()).expect("local stores"),
            Target::Aws {
                endpoint,
                table,
                bucket,
            } => {
                let settings = postroom::store::AwsSettings::load_with_endpoint(endpoint).await;
                Stores {
                    blobs: Arc::new(postroom::store::S3Blobs::new(&settings, bucket)),
                    table: Arc::new(postroom::store::DynamoTable::new(&settings, table)),
                }
            }
        }
    }

    /// `postroom ingest --json <folders>` against this store.
    pub fn ingest(&self, post: &Post) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_postroom"));
        for var in [
            "POSTROOM_BACKEND",
            "POSTROOM_HOME",
            "POSTROOM_TABLE",
            "POSTROOM_BUCKET",
            "POSTROOM_RULES",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("NO_COLOR", "1").stdin(Stdio::null());
        match self {
            Target::Local(home) => {
                cmd.arg("--home").arg(home);
            }
            Target::Aws {
                endpoint,
                table,
                bucket,
            } => {
                cmd.args(["--backend", "aws"])
                    .env("AWS_ENDPOINT_URL", endpoint)
                    .env("AWS_REGION", "eu-west-2")
                    .env("AWS_ACCESS_KEY_ID", "testing")
                    .env("AWS_SECRET_ACCESS_KEY", "testing")
                    .env("AWS_EC2_METADATA_DISABLED", "true")
                    .env("POSTROOM_TABLE", table)
                    .env("POSTROOM_BUCKET", bucket);
            }
        }
        cmd.args(["ingest", "--json"]).args(&post.folders);
        cmd
    }
}

/// What one run printed.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub lines: Vec<Value>,
    pub stderr: String,
    pub took: Duration,
}

impl Run {
    pub fn statuses(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for l in &self.lines {
            *counts
                .entry(l["status"].as_str().unwrap_or("?").to_owned())
                .or_insert(0) += 1;
        }
        counts
    }
}

fn parse_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Runs `cmd` to the end.
pub fn run_to_end(mut cmd: Command) -> Run {
    let start = Instant::now();
    let out = cmd.output().expect("run postroom");
    Run {
        code: out.status.code().unwrap_or(-1),
        lines: parse_lines(&String::from_utf8_lossy(&out.stdout)),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: start.elapsed(),
    }
}

/// Whether a run that went to its end completed: exit status 0, or 1 only because some
/// file was quarantined; no file failed.
pub fn completed(run: &Run, inputs: usize) -> Result<(), String> {
    let failed = run.lines.iter().filter(|l| l["status"] == "failed").count();
    let quarantined = run.lines.iter().any(|l| l["status"] == "quarantined");
    let ok_code = run.code == 0 || (run.code == 1 && quarantined);
    if failed == 0 && ok_code && run.lines.len() == inputs {
        Ok(())
    } else {
        Err(format!(
            "the run did not complete: exit {}, {} lines for {inputs} files, {failed} failed; statuses {:?}\nstderr (tail):\n{}",
            run.code,
            run.lines.len(),
            run.statuses(),
            tail_of(&run.stderr, 3000)
        ))
    }
}

pub fn tail_of(s: &str, n: usize) -> &str {
    let mut start = s.len().saturating_sub(n);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// Starts `cmd`, and SIGKILLs it (`Child::kill`) after `delay` unless it ended before.
/// Returns whether it was killed, and how many files it had reported by then.
pub fn run_and_kill(mut cmd: Command, delay: Duration, scratch: &Path) -> (bool, usize) {
    let out_path = scratch.join("killed.stdout");
    let out = std::fs::File::create(&out_path).expect("stdout file");
    let mut child = cmd
        .stdout(out)
        .stderr(Stdio::null())
        .spawn()
        .expect("start postroom");
    std::thread::sleep(delay);
    let killed = match child.try_wait().expect("try_wait") {
        Some(_) => false,
        None => {
            child.kill().expect("SIGKILL");
            true
        }
    };
    let _ = child.wait();
    let reported = std::fs::read_to_string(&out_path)
        .map(|s| s.lines().count())
        .unwrap_or(0);
    (killed, reported)
}

// ---------------------------------------------------------------------------------------
// Reading the store back and checking it.

/// Every item of the table, and every key of the object store with its ETag.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub items: Vec<Item>,
    pub blobs: BTreeMap<String, String>,
}

pub async fn snapshot(stores: &Stores) -> Snapshot {
    let mut snap = Snapshot {
        items: crate::support::every_item(stores.table.as_ref()).await,
        ..Snapshot::default()
    };
    let mut cursor = None;
    loop {
        let page = stores
            .blobs
            .list("", cursor.as_ref(), 1000)
            .await
            .expect("list");
        snap.blobs
            .extend(page.objects.into_iter().map(|o| (o.key, o.etag)));
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    snap
}

fn s<'a>(item: &'a Item, field: &str) -> &'a str {
    item.get(field).and_then(Value::as_str).unwrap_or("")
}

/// What the checks found.
#[derive(Debug, Default)]
pub struct Tally {
    /// Inputs with no record of their own bytes.
    pub lost: usize,
    /// Records, filings, case openings or letters beyond one per thing.
    pub duplicated: usize,
    /// Every problem, in words (ids and keys only).
    pub problems: Vec<String>,
    pub documents: usize,
    pub cases: usize,
    pub letters: usize,
}

impl Tally {
    fn lost(&mut self, p: String) {
        self.lost += 1;
        self.problems.push(format!("LOST: {p}"));
    }
    fn duplicated(&mut self, p: String) {
        self.duplicated += 1;
        self.problems.push(format!("DUPLICATED: {p}"));
    }
    fn wrong(&mut self, p: String) {
        self.problems.push(format!("WRONG: {p}"));
    }
}

/// The events that record a document's ingest (one per document).
const INGEST_EVENTS: &[&str] = &[
    "ingested_filed",
    "ingested_unfiled",
    "ingested_duplicate",
    "quarantined",
];

/// Checks the store after a completed run whose JSON lines are `lines`: every input
/// recorded once, as its kind says; every case opened once; every FOI request its own
/// number; every acknowledgement once; nothing left half-written.
pub fn verify(post: &Post, lines: &[Value], snap: &Snapshot) -> Tally {
    let mut t = Tally::default();
    let docs: BTreeMap<&str, &Item> = snap
        .items
        .iter()
        .filter(|i| s(i, "PK").starts_with("DOC#") && s(i, "SK") == "META")
        .map(|i| (s(i, "doc_id"), i))
        .collect();
    t.documents = docs.len();

    // 1. Each input: one line, one record of its own bytes, the status its kind calls for.
    let mut by_source: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for l in lines {
        by_source
            .entry(l["source"].as_str().unwrap_or(""))
            .or_default()
            .push(l);
    }
    let mut doc_of: Vec<Option<String>> = vec![None; post.inputs.len()];
    let mut owner: BTreeMap<String, usize> = BTreeMap::new();
    for (n, input) in post.inputs.iter().enumerate() {
        let source = input.path.display().to_string();
        let found = by_source.get(source.as_str()).cloned().unwrap_or_default();
        if found.len() != 1 {
            t.wrong(format!("{source}: {} output lines", found.len()));
        }
        let Some(line) = found.first() else {
            t.lost(format!("{source}: not reported"));
            continue;
        };
        let Some(doc_id) = line["doc_id"].as_str() else {
            t.lost(format!("{source}: no document id ({})", line["status"]));
            continue;
        };
        let Some(doc) = docs.get(doc_id) else {
            t.lost(format!("{source}: no record {doc_id}"));
            continue;
        };
        if let Some(other) = owner.insert(doc_id.to_owned(), n) {
            t.lost(format!(
                "{source} and {} share the record {doc_id}",
                post.inputs[other].path.display()
            ));
            continue;
        }
        doc_of[n] = Some(doc_id.to_owned());
        if let Some(sha) = doc.get("sha256").and_then(Value::as_str)
            && sha != input.sha256
        {
            t.lost(format!(
                "{source}: its record {doc_id} holds other bytes (sha256 {})",
                &sha[..sha.len().min(12)]
            ));
            continue;
        }
        // The stored original (in the inbox, or in quarantine) is the file's own bytes.
        let stored = match s(doc, "status") {
            "quarantined" => s(doc, "quarantine_key"),
            _ => s(doc, "key"),
        };
        match snap.blobs.get(stored) {
            None => t.lost(format!("{source}: its stored original {stored} is gone")),
            Some(etag) if *etag != input.md5 => t.lost(format!(
                "{source}: its stored original {stored} holds other bytes"
            )),
            Some(_) => {}
        }
    }

    // Inputs with the same bytes: whichever was recorded first is the original (a copy
    // ingested while its original failed takes its place), and is filed as the kind of
    // document it is; the others are duplicates of it.
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (n, input) in post.inputs.iter().enumerate() {
        if doc_of[n].is_some() {
            groups.entry(input.sha256.as_str()).or_default().push(n);
        }
    }
    // The original of each group that has one, and its kind.
    let mut originals: Vec<(usize, &Kind)> = Vec::new();
    for members in groups.values() {
        let kind = members
            .iter()
            .map(|&n| &post.inputs[n].kind)
            .find(|k| !matches!(k, Kind::Copy { .. }))
            .unwrap_or(&post.inputs[members[0]].kind);
        let status_of = |n: usize| s(docs[doc_of[n].as_deref().unwrap_or("")], "status");
        let firsts: Vec<usize> = if matches!(kind, Kind::Hostile) {
            // Refused files are not indexed by content: each is quarantined.
            members.clone()
        } else {
            members
                .iter()
                .copied()
                .filter(|&n| status_of(n) != "duplicate")
                .collect()
        };
        let names = |ns: &[usize]| {
            ns.iter()
                .map(|&n| post.inputs[n].path.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match firsts.len() {
            0 => {
                t.wrong(format!("{}: all duplicates, no original", names(members)));
                continue;
            }
            1 => {}
            _ if matches!(kind, Kind::Hostile) => {}
            _ => t.duplicated(format!(
                "{}: the same bytes recorded as originals",
                names(&firsts)
            )),
        }
        for &first in &firsts {
            let id = doc_of[first].as_deref().unwrap_or("");
            let doc = docs[id];
            let (status, case_ref) = (s(doc, "status"), s(doc, "case_ref"));
            let ok = match kind {
                Kind::Claim { reference } | Kind::FollowUp { reference } => {
                    status == "filed" && case_ref == reference
                }
                Kind::Foi => status == "filed" && case_ref.starts_with("FOI_"),
                Kind::Loose => status == "unfiled",
                Kind::Hostile | Kind::Copy { .. } => status == "quarantined",
            };
            if !ok {
                t.wrong(format!(
                    "{} ({kind:?}): {id} is {status} {case_ref}",
                    post.inputs[first].path.display()
                ));
            }
            originals.push((first, kind));
        }
        if let [first] = firsts[..] {
            let original = doc_of[first].as_deref().unwrap_or("");
            for &n in members.iter().filter(|&&n| n != first) {
                let id = doc_of[n].as_deref().unwrap_or("");
                let doc = docs[id];
                if s(doc, "status") != "duplicate" || s(doc, "duplicate_of") != original {
                    t.wrong(format!(
                        "{}: {id} is {} {}, not a duplicate of {original}",
                        post.inputs[n].path.display(),
                        s(doc, "status"),
                        s(doc, "duplicate_of")
                    ));
                }
            }
        }
    }
    // Records no input owns: a file recorded twice.
    for id in docs.keys() {
        if !owner.contains_key(*id) {
            t.duplicated(format!(
                "record {id} ({}) belongs to no input",
                s(docs[id], "key")
            ));
        }
    }

    // 2. One ingest event per document; each filed or unfiled document in one place.
    let mut ingest_events: BTreeMap<&str, usize> = BTreeMap::new();
    let mut placed: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut opened: BTreeMap<&str, usize> = BTreeMap::new();
    let mut letters: BTreeMap<&str, Vec<&Item>> = BTreeMap::new();
    for item in &snap.items {
        let (pk, sk) = (s(item, "PK"), s(item, "SK"));
        if let Some(id) = pk.strip_prefix("DOC#")
            && sk.starts_with("EVENT#")
            && INGEST_EVENTS.contains(&s(item, "what"))
        {
            *ingest_events.entry(id).or_insert(0) += 1;
        }
        if let Some(case) = pk.strip_prefix("CASE#") {
            if sk.starts_with("DOC#") {
                placed
                    .entry(s(item, "doc_id"))
                    .or_default()
                    .push(case.to_owned());
            } else if sk.starts_with("EVENT#") && s(item, "what") == "case_opened" {
                *opened.entry(case).or_insert(0) += 1;
            } else if sk.starts_with("LETTER#") {
                letters.entry(case).or_default().push(item);
            }
        }
        if pk == postroom::model::keys::UNFILED {
            placed
                .entry(s(item, "doc_id"))
                .or_default()
                .push("INBOX".into());
        }
    }
    for (id, doc) in &docs {
        match ingest_events.get(id).copied().unwrap_or(0) {
            1 => {}
            0 => t.wrong(format!("{id}: no ingest event")),
            n => t.duplicated(format!("{id}: {n} ingest events")),
        }
        let at = placed.get(id).cloned().unwrap_or_default();
        let want: Vec<String> = match s(doc, "status") {
            "filed" => vec![s(doc, "case_ref").to_owned()],
            "unfiled" => vec!["INBOX".into()],
            _ => vec![],
        };
        if at.len() > want.len() {
            t.duplicated(format!("{id}: filed in {at:?}, wanted {want:?}"));
        } else if at != want {
            t.wrong(format!("{id}: filed in {at:?}, wanted {want:?}"));
        }
    }

    // 3. Cases: the claims' and the FOI requests', each opened once, by its document.
    let cases: BTreeMap<&str, &Item> = snap
        .items
        .iter()
        .filter(|i| s(i, "PK").starts_with("CASE#") && s(i, "SK") == "META")
        .map(|i| (s(i, "case_ref"), i))
        .collect();
    t.cases = cases.len();
    for reference in cases.keys() {
        match opened.get(reference).copied().unwrap_or(0) {
            1 => {}
            0 => t.wrong(format!("case {reference}: no case_opened event")),
            n => t.duplicated(format!("case {reference}: opened {n} times")),
        }
    }
    let mut expected_cases = BTreeSet::new();
    let mut foi_numbers: BTreeMap<String, usize> = BTreeMap::new();
    for &(n, kind) in &originals {
        let input = &post.inputs[n];
        let Some(id) = &doc_of[n] else { continue };
        let doc = docs[id.as_str()];
        let reference = match kind {
            Kind::Claim { reference } => reference.clone(),
            Kind::Foi if s(doc, "case_ref").starts_with("FOI_") => {
                let r = s(doc, "case_ref").to_owned();
                if let Some(other) = foi_numbers.insert(r.clone(), n) {
                    t.duplicated(format!(
                        "{r} issued to {} and {}",
                        post.inputs[other].path.display(),
                        input.path.display()
                    ));
                }
                r
            }
            _ => continue,
        };
        expected_cases.insert(reference.clone());
        match cases.get(reference.as_str()) {
            None => t.lost(format!("case {reference} not opened")),
            Some(case) if s(case, "opened_by") != id => t.wrong(format!(
                "case {reference} opened by {}, not {id}",
                s(case, "opened_by")
            )),
            Some(_) => {}
        }
        // 4. Its acknowledgement: one letter record, one PDF.
        let template = match kind {
            Kind::Claim { .. } => "claim-acknowledgement",
            _ => "foi-acknowledgement",
        };
        let sent: Vec<&&Item> = letters
            .get(reference.as_str())
            .map(|l| l.iter().filter(|i| s(i, "template") == template).collect())
            .unwrap_or_default();
        match sent.len() {
            1 if s(sent[0], "status") == "stored" => {
                let key = s(sent[0], "s3_key");
                if !snap.blobs.contains_key(key) {
                    t.lost(format!("{reference}: letter record without its PDF {key}"));
                }
            }
            1 => t.wrong(format!(
                "{reference}: the {template} is {}",
                s(sent[0], "status")
            )),
            0 => t.lost(format!("{reference}: no {template}")),
            n => t.duplicated(format!("{reference}: {n} {template} letters")),
        }
    }
    for reference in cases.keys() {
        if !expected_cases.contains(*reference) {
            t.wrong(format!(
                "case {reference} opened by no letter of claim or FOI request"
            ));
        }
    }
    t.letters = letters.values().map(Vec::len).sum();

    // 5. Nothing half-written: every stored object belongs to a record.
    let mut owned: BTreeSet<&str> = BTreeSet::new();
    let text_keys: Vec<String> = docs
        .keys()
        .map(|id| postroom::model::keys::text(id))
        .collect();
    owned.extend(text_keys.iter().map(String::as_str));
    for (id, doc) in &docs {
        let key = s(doc, "key");
        if s(doc, "status") == "quarantined" {
            let q = s(doc, "quarantine_key");
            if snap.blobs.contains_key(key) {
                t.wrong(format!(
                    "{id}: quarantined, but still in the inbox at {key}"
                ));
            }
            owned.insert(q);
        } else {
            owned.insert(key);
        }
    }
    for items in letters.values() {
        owned.extend(items.iter().map(|i| s(i, "s3_key")));
    }
    for key in snap.blobs.keys() {
        if !owned.contains(key.as_str()) {
            if key.starts_with("letters/") {
                t.duplicated(format!("{key}: a letter PDF no record names"));
            } else {
                t.wrong(format!("{key}: an object no record names"));
            }
        }
    }
    t
}

/// Leftover temporary files of interrupted writes under a local home's blobs.
pub fn temp_leftovers(home: &Path) -> usize {
    walkdir::WalkDir::new(home.join("blobs"))
        .into_iter()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
        .count()
}

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// Checks the store behind `target` after a completed run; panics with every problem.
pub fn check(label: &str, target: &Target, post: &Post, run: &Run) -> Tally {
    let tally = block_on(async {
        let stores = target.stores().await;
        let snap = snapshot(&stores).await;
        let mut tally = verify(post, &run.lines, &snap);
        if let Target::Local(home) = target {
            tally.problems.extend(index_problems(home, &snap).await);
        }
        tally
    });
    assert!(
        tally.problems.is_empty(),
        "{label}: {} lost, {} duplicated, {} problems:\n{}",
        tally.lost,
        tally.duplicated,
        tally.problems.len(),
        tally
            .problems
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    tally
}

/// On a local home, what is wrong with the search index: it must hold exactly the
/// documents filed or waiting in the inbox (a kill before a grouped commit loses
/// writes; the rerun must index them again).
async fn index_problems(home: &Path, snap: &Snapshot) -> Vec<String> {
    use postroom::model::keys;
    use postroom::store::{Search as _, TantivySearch};
    let wanted: BTreeSet<String> = snap
        .items
        .iter()
        .filter(|i| {
            s(i, "SK") == keys::META
                && s(i, "PK").starts_with(keys::DOC_PREFIX)
                && matches!(s(i, "status"), "filed" | "unfiled")
        })
        .map(|i| s(i, "doc_id").to_owned())
        .collect();
    let search =
        TantivySearch::open(home.join(postroom::app::SEARCH_DIR)).expect("the search index");
    let mut indexed = BTreeSet::new();
    let mut after: Option<String> = None;
    loop {
        let ids = search
            .doc_ids(after.as_deref(), 1000)
            .await
            .expect("indexed ids");
        let Some(last) = ids.last().cloned() else {
            break;
        };
        indexed.extend(ids);
        after = Some(last);
    }
    let mut problems: Vec<String> = wanted
        .difference(&indexed)
        .map(|id| format!("{id}: filed or waiting, but not in the search index"))
        .collect();
    problems.extend(
        indexed
            .difference(&wanted)
            .map(|id| format!("{id}: in the search index, but neither filed nor waiting")),
    );
    problems
}

fn say(msg: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{msg}");
}

/// The number of killed-and-rerun trials (`POSTROOM_CRASH_KILLS`, at least 20).
fn kills_wanted() -> usize {
    std::env::var("POSTROOM_CRASH_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20)
        .max(20)
}

#[test]
fn ingest_killed_at_random_moments_records_every_file_once() {
    let seed = seed();
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().expect("temp dir");
    let post = write_post(&dir.path().join("post"), Mix::FULL, &mut rng);
    let n = post.inputs.len();
    assert_eq!(n, Mix::FULL.total());
    assert!(n >= 500, "{n} files");

    // One uninterrupted run on its own home: the duration to spread the kills over, and
    // proof that the post files as its kinds say.
    let reference = Target::Local(dir.path().join("reference"));
    let first = run_to_end(reference.ingest(&post));
    completed(&first, n).unwrap_or_else(|e| panic!("uninterrupted run: {e}"));
    let base = check("uninterrupted run", &reference, &post, &first);
    let mut full = first.took;
    say(&format!(
        "crash test (seed {seed}): {n} files ({} letters of claim, {} FOI requests), an uninterrupted run takes {full:?}: {:?}; {} documents, {} cases, {} letters",
        post.claims(),
        post.fois(),
        first.statuses(),
        base.documents,
        base.cases,
        base.letters
    ));

    // Trial k starts on a fresh home, and its run is killed at a random moment in the
    // k-th slice of the uninterrupted run's duration; in every fourth trial the rerun is
    // killed too (a crash while finishing what the first run left). The last rerun goes
    // to the end, and the store is checked. So every trial's last kill is followed by a
    // rerun that completes.
    let trials = kills_wanted();
    let (mut kills, mut recovery_kills, mut missed, mut leftovers) = (0, 0, 0, 0);
    let (mut lost, mut duplicated) = (0, 0);
    let mut checked = Duration::ZERO;
    let started = Instant::now();
    let mut k = 0;
    while k < trials {
        assert!(
            missed <= trials,
            "{missed} runs ended before their kill: the machine is much faster than the uninterrupted run said"
        );
        let home = dir.path().join(format!("home-{k}"));
        let _ = std::fs::remove_dir_all(&home);
        let target = Target::Local(home.clone());
        let slice = (k as f64 + rng.unit()) / trials as f64;
        let delay = full.mul_f64(0.05 + 0.9 * slice);
        let (killed, reported) = run_and_kill(target.ingest(&post), delay, dir.path());
        if !killed {
            // The machine runs faster now than when the run was measured.
            missed += 1;
            full = full.mul_f64(0.9);
            continue;
        }
        kills += 1;
        let mut what = format!(
            "killed at {:>5} ms ({reported:>3} of {n} lines printed)",
            delay.as_millis()
        );
        if k % 4 == 3 {
            let again = full.mul_f64(0.1 + 0.6 * rng.unit());
            let (killed, reported) = run_and_kill(target.ingest(&post), again, dir.path());
            if killed {
                kills += 1;
                recovery_kills += 1;
                what.push_str(&format!(
                    ", rerun killed at {:>5} ms ({reported:>3} lines printed)",
                    again.as_millis()
                ));
            }
        }
        k += 1;
        let rerun = run_to_end(target.ingest(&post));
        completed(&rerun, n).unwrap_or_else(|e| panic!("trial {k}, {what}: {e}"));
        // Panics with every problem found (lost, duplicated, wrong) if there is one.
        let checking = Instant::now();
        let tally = check(&format!("trial {k}, {what}"), &target, &post, &rerun);
        checked += checking.elapsed();
        lost += tally.lost;
        duplicated += tally.duplicated;
        let left = temp_leftovers(&home);
        leftovers += left;
        say(&format!(
            "  trial {k:>2}: {what}; {left} temporary files left; the rerun took {:?}: {:?}",
            rerun.took,
            rerun.statuses()
        ));
        let _ = std::fs::remove_dir_all(&home);
    }
    say(&format!(
        "crash test: {kills} kills ({recovery_kills} of them of a rerun; {missed} runs ended before their kill), {lost} lost, {duplicated} duplicated over {trials} completed reruns; {leftovers} temporary files of interrupted writes left in all; {:?} ({checked:?} of it checking)",
        started.elapsed()
    ));
    assert!(kills >= trials);
}

// ---------------------------------------------------------------------------------------
// Two letters of claim opening the same new case at once.

#[derive(Debug)]
struct FixedClock;

impl postroom::clock::Clock for FixedClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        use chrono::TimeZone as _;
        chrono::Utc
            .with_ymd_and_hms(2025, 3, 4, 9, 30, 0)
            .single()
            .unwrap_or_default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_letters_of_claim_opening_one_case_at_once_open_it_once() {
    use postroom::ingest::{Ingest, IngestSettings};
    use postroom::model::{IngestStatus, keys};
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Target::Local(dir.path().to_path_buf()).config();
    let stores = postroom::app::local_stores(&config).expect("local stores");
    let ingest = Arc::new(Ingest::new(
        stores.clone(),
        postroom::metadata::Rules::builtin(),
        Arc::new(FixedClock),
        IngestSettings::default(),
    ));
    for round in 0..20usize {
        let reference = format!("CNST/25/{:06}", 700_000 + round);
        // Two letters (different firms, different bytes) quoting one new reference.
        let a = letter_of_claim(round * 2, &reference);
        let b = text_pdf(&letter_of_claim(round * 2 + 1, &reference));
        let a = ingest
            .stage(&format!("inbox/race-{round}/a.txt"), a.into(), "local")
            .await
            .expect("stage a");
        let b = ingest
            .stage(&format!("inbox/race-{round}/b.pdf"), b.into(), "local")
            .await
            .expect("stage b");
        // Even rounds race whole ingests; odd ones prepare both first, so that the two
        // filing transactions start together.
        let (ra, rb) = if round % 2 == 0 {
            let (i1, i2) = (ingest.clone(), ingest.clone());
            let (a2, b2) = (a.clone(), b.clone());
            let ta = tokio::spawn(async move { i1.ingest(&a2).await });
            let tb = tokio::spawn(async move { i2.ingest(&b2).await });
            (ta.await.expect("task a"), tb.await.expect("task b"))
        } else {
            let pa = ingest.prepare(&a).await.expect("prepare a");
            let pb = ingest.prepare(&b).await.expect("prepare b");
            let (i1, i2) = (ingest.clone(), ingest.clone());
            let ta = tokio::spawn(async move { i1.commit(pa).await });
            let tb = tokio::spawn(async move { i2.commit(pb).await });
            (ta.await.expect("task a"), tb.await.expect("task b"))
        };
        let (ra, rb) = (
            ra.unwrap_or_else(|e| panic!("round {round}: a: {e}")),
            rb.unwrap_or_else(|e| panic!("round {round}: b: {e}")),
        );
        for r in [&ra, &rb] {
            assert_eq!(
                (r.status, r.case_ref.as_deref()),
                (IngestStatus::Filed, Some(reference.as_str())),
                "round {round}: {r:?}"
            );
        }
        let ids = [
            ra.doc_id.clone().expect("id a"),
            rb.doc_id.clone().expect("id b"),
        ];
        assert_ne!(ids[0], ids[1]);
        let case = stores
            .table
            .get(&Key::new(keys::case(&reference), keys::META))
            .await
            .expect("get case")
            .unwrap_or_else(|| panic!("round {round}: no case {reference}"));
        assert!(
            ids.contains(&s(&case, "opened_by").to_owned()),
            "round {round}: opened by {}",
            s(&case, "opened_by")
        );
        let under = stores
            .table
            .query_all(&Query::new(keys::case(&reference)))
            .await
            .expect("query case");
        let mut filed: Vec<&str> = under
            .iter()
            .filter(|i| s(i, "SK").starts_with("DOC#"))
            .map(|i| s(i, "doc_id"))
            .collect();
        filed.sort_unstable();
        let mut want: Vec<&str> = ids.iter().map(String::as_str).collect();
        want.sort_unstable();
        assert_eq!(filed, want, "round {round}: both documents under the case");
        let opened = under
            .iter()
            .filter(|i| s(i, "SK").starts_with("EVENT#") && s(i, "what") == "case_opened")
            .count();
        assert_eq!(opened, 1, "round {round}: case_opened events");
        for id in &ids {
            let doc = stores
                .table
                .get(&Key::new(keys::doc(id), keys::META))
                .await
                .expect("get doc")
                .expect("doc");
            assert_eq!(
                (s(&doc, "status"), s(&doc, "case_ref")),
                ("filed", reference.as_str()),
                "round {round}: {id}"
            );
        }
    }
}
