//! `postroom demo`: the bundled samples (made by tests/data/generate.py, fictional
//! people only), ingested into the embedded default, with the acknowledgements they get
//! and the FOI request worked to a published response. The steps live here; the CLI
//! only renders the `Demo` it gets back.

/// The samples, in the order the post arrives.
pub const SAMPLES: &[(&str, &[u8])] = &[
    (
        "01-letter-of-claim.pdf",
        include_bytes!("../samples/01-letter-of-claim.pdf"),
    ),
    (
        "02-expert-report.pdf",
        include_bytes!("../samples/02-expert-report.pdf"),
    ),
    (
        "03-part-36-offer.docx",
        include_bytes!("../samples/03-part-36-offer.docx"),
    ),
    (
        "04-foi-request.eml",
        include_bytes!("../samples/04-foi-request.eml"),
    ),
    (
        "05-internal-review.eml",
        include_bytes!("../samples/05-internal-review.eml"),
    ),
    (
        "06-notice-of-appeal.pdf",
        include_bytes!("../samples/06-notice-of-appeal.pdf"),
    ),
    (
        "07-letter-of-claim-copy.pdf",
        include_bytes!("../samples/07-letter-of-claim-copy.pdf"),
    ),
    (
        "08-letter-without-reference.pdf",
        include_bytes!("../samples/08-letter-without-reference.pdf"),
    ),
    (
        "09-photo-named-as.pdf",
        include_bytes!("../samples/09-photo-named-as.pdf"),
    ),
    // A scanned letter (no text layer: scripts/make-scans --sample), read by OCR.
    (
        "10-scanned-letter.pdf",
        include_bytes!("../samples/10-scanned-letter.pdf"),
    ),
];

/// What happened to one sample.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub name: &'static str,
    pub outcome: crate::ingest::Outcome,
}

/// A case after the post is filed.
#[derive(Debug, Clone)]
pub struct CaseLine {
    pub reference: String,
    pub kind: String,
    pub documents: usize,
}

/// A letter recorded under a case, and where its PDF is.
#[derive(Debug, Clone)]
pub struct LetterLine {
    pub reference: String,
    pub template: String,
    /// `stored`, `invalid` (the data did not fit the template) or `rendering` (the next
    /// delivery finishes it).
    pub status: String,
    pub path: Option<std::path::PathBuf>,
}

/// Everything the demo did, for a front to render.
#[derive(Debug, Clone)]
pub struct Demo {
    pub arrivals: Vec<Arrival>,
    pub cases: Vec<CaseLine>,
    pub letters: Vec<LetterLine>,
    /// The FOI steps, as lines of text (ids, dates and paths only).
    pub foi: Vec<String>,
    /// The acknowledgements that could not be rendered this time.
    pub letters_failed: usize,
}

/// Why the demo stopped.
pub type DemoError = Box<dyn std::error::Error + Send + Sync>;

/// Runs the demo on `app` (which must use the embedded default: the demo names the
/// files it wrote). Run again, it changes nothing.
#[cfg(feature = "embedded")]
pub async fn run(app: &crate::app::App) -> Result<Demo, DemoError> {
    let mut arrivals = Vec::new();
    for (name, bytes) in SAMPLES {
        let key = format!("inbox/demo/{name}");
        let obj = app
            .ingest()
            .stage(&key, bytes::Bytes::from_static(bytes), "local")
            .await?;
        let outcome = app.ingest().ingest(&obj).await?;
        arrivals.push(Arrival { name, outcome });
    }
    let letters_failed = app.finish().await.len();
    let files = crate::store::DirBlobs::open(app.config.blobs_dir())?;
    let mut cases = Vec::new();
    let mut letters = Vec::new();
    for case in app.cases.summaries().await? {
        let Some(view) = app.cases.view(&case.case_ref).await? else {
            continue;
        };
        cases.push(CaseLine {
            reference: case.case_ref.clone(),
            kind: case.kind.clone().unwrap_or_default(),
            documents: view.documents().count(),
        });
        for letter in view.letters() {
            let status = letter.status.clone().unwrap_or_default();
            letters.push(LetterLine {
                reference: case.case_ref.clone(),
                template: letter.template.clone().unwrap_or_default(),
                path: letter
                    .s3_key
                    .as_deref()
                    .filter(|_| status == "stored")
                    .map(|key| files.path_of(key)),
                status,
            });
        }
    }
    let foi = foi(app).await?;
    Ok(Demo {
        arrivals,
        cases,
        letters,
        foi,
        letters_failed,
    })
}

/// The FOI part of the demo: the request that arrived by email gets its acknowledgement
/// and a response with a claims table (small numbers suppressed), and the response is
/// published to the disclosure log. Returns what to print (ids, dates and paths only).
/// Run again, it changes nothing.
pub async fn foi(app: &crate::app::App) -> Result<Vec<String>, DemoError> {
    use crate::foi::lifecycle::{Command, Outcome, Status};
    use crate::foi::stats::{Dim, count, suppress};
    use crate::letter_service::LetterRequest;
    use serde_json::json;

    let (foi, outbox, stores) = (&app.foi, app.letters(), &app.stores);
    let today = foi.today();
    let mut lines = Vec::new();
    for case in foi.all().await? {
        let r = &case.request;
        let reference = r.reference.clone();
        lines.push(format!(
            "{reference:<16} received {}, due {}{}",
            r.received,
            r.due.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
            if r.overdue(today) { " (overdue)" } else { "" }
        ));
        let base = json!({
            "salutation": case.requester.clone().unwrap_or_else(|| "Requester".into()),
            "our_ref": reference,
            "signatory_name": "Freedom of Information Team",
            "signatory_role": "Information Governance",
            "received_date": r.received.to_string(),
            "request_text": case.request_text,
        });
        // The acknowledgement (the same request the ingest function queues).
        let ack = crate::acknowledge::foi_acknowledgement(
            &case,
            r.received,
            &crate::acknowledge::Signatory::foi(),
        )?;
        let sent = outbox.send(&ack).await?;
        lines.push(format!(
            "  acknowledgement: {}",
            sent.s3_key.unwrap_or_default()
        ));
        // The response, with claims by specialty and year (suppressed).
        if r.status.awaits_response() {
            foi.apply_once(
                &reference,
                &Command::StartWork { on: today },
                Some("demo:start"),
            )
            .await?;
            foi.apply_once(
                &reference,
                &Command::Respond {
                    on: today,
                    outcome: Outcome::Granted,
                    exemptions: vec![],
                },
                Some("demo:respond"),
            )
            .await?;
        }
        let Some(case) = foi.get(&reference).await? else {
            continue;
        };
        if case.request.status != Status::Responded
            || case.request.outcome != Some(Outcome::Granted)
        {
            continue;
        }
        let year: i32 = today.format("%Y").to_string().parse().unwrap_or(2026);
        let cases = crate::cases::list_cases(stores.table.as_ref()).await?;
        let table = suppress(
            count(&cases, &[Dim::Specialty, Dim::Year], year - 7, year)?,
            5,
        );
        let mut response = base.clone();
        response["letter_date"] = json!(today.to_string());
        response["outcome"] = json!("granted");
        response["information"] = json!(
            "The table below shows the clinical negligence claims we have recorded, by specialty and by the year of the claim."
        );
        response["statistics"] = table.to_letter_table();
        response["statistics_caption"] = json!(format!(
            "Claims by specialty and year, {} to {year}",
            year - 7
        ));
        let sent = outbox
            .send(&LetterRequest {
                request_id: format!("demo:foi-response:{reference}"),
                template: "foi-response".into(),
                case_ref: reference.clone(),
                data: response.clone(),
            })
            .await?;
        foi.record_response(&reference, &response).await?;
        lines.push(format!(
            "  response        {:?}: {}",
            sent.status,
            sent.s3_key.unwrap_or_default()
        ));
        for row in table.text_rows().iter().take(4) {
            lines.push(format!("    {}", row.join("  ")));
        }
        let entry = foi.publish(&reference, outbox.registry).await?;
        lines.push(format!(
            "  published (personal data removed): {}",
            entry.document
        ));
    }
    Ok(lines)
}
