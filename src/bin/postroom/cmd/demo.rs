//! `postroom demo`: runs `postroom::demo` (the bundled samples through the post room on
//! the embedded default) and renders what it did: each arrival, the cases, the
//! acknowledgements written as documents were filed, and the FOI request answered.

use std::process::ExitCode;

use postroom::app::App;
use postroom::model::IngestStatus;

pub async fn run(app: &App) -> anyhow::Result<ExitCode> {
    out!(
        "postroom demo: the post arrives ({} documents, fictional people only)\n",
        postroom::demo::SAMPLES.len()
    );
    let demo = postroom::demo::run(app)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut counts = std::collections::BTreeMap::new();
    for arrival in &demo.arrivals {
        let outcome = &arrival.outcome;
        *counts.entry(outcome.status.as_str()).or_insert(0) += 1;
        let what = match outcome.status {
            IngestStatus::Filed => {
                format!("filed under {}", outcome.case_ref.as_deref().unwrap_or("?"))
            }
            IngestStatus::Unfiled => format!(
                "unfiled, in the inbox for triage ({})",
                outcome.reason.as_deref().unwrap_or("")
            ),
            IngestStatus::Duplicate => "a duplicate of a document already filed".into(),
            IngestStatus::Quarantined => {
                format!("quarantined ({})", outcome.reason.as_deref().unwrap_or(""))
            }
            IngestStatus::Unchanged => "already ingested: nothing to do".into(),
            IngestStatus::Failed => "failed".into(),
        };
        out!("  {:<34} {what}", arrival.name);
    }
    if demo.letters_failed > 0 {
        eprintln!(
            "postroom: {} acknowledgement letter(s) not made; run the demo again to make them",
            demo.letters_failed
        );
    }
    out!();
    for case in &demo.cases {
        out!(
            "  case {:<16} {:<6} {} document(s)",
            case.reference,
            case.kind,
            case.documents
        );
    }
    out!(
        "\n  {}",
        counts
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    out!("\n  acknowledgements (sent as each letter of claim and FOI request was filed):");
    for letter in &demo.letters {
        let (reference, template) = (&letter.reference, &letter.template);
        match (letter.status.as_str(), &letter.path) {
            ("invalid", _) => {
                out!("  {reference:<16} {template}: not sent, the data did not fit the template")
            }
            (_, Some(path)) => out!("  {reference:<16} {template}: {}", path.display()),
            _ => out!("  {reference:<16} {template}: not finished (the next delivery finishes it)"),
        }
    }
    out!("\n  freedom of information:");
    for line in &demo.foi {
        out!("  {line}");
    }
    out!(
        "\nThe data lives in {} (documents in blobs/, records in postroom.sqlite3).",
        app.config.home.display()
    );
    out!(
        "Look around: postroom cases list | postroom inbox | postroom cases show REF | postroom foi due-list | postroom foi log"
    );
    Ok(ExitCode::SUCCESS)
}
