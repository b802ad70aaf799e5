//! Seeds a console home for `scripts/bench-console`: N unfiled documents (small
//! letters with no reference of ours, each different, so all wait in the inbox), M
//! FOI requests and C claims, through the application's use cases (ingest, FOI and the
//! cases import), as the console would see them in a busy post room: of every eight
//! requests, three are still as received, two in progress, two responded and one
//! closed, so the register's views each read several statuses; of every ten claims,
//! seven are open, two closed and one settled.
//!
//! `cargo run --profile fast --example seed_console -- HOME [DOCS] [REQUESTS] [CLAIMS]`

use std::sync::Arc;
use std::time::Instant;

use postroom::app::{Acknowledgements, App, Front};
use postroom::config::Config;
use postroom::foi::lifecycle::{Command, Outcome};
use postroom::foi::service::NewRequest;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let home = args
        .get(1)
        .expect("usage: seed_console HOME [DOCS] [REQUESTS] [CLAIMS]");
    let docs: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let requests: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(2_000);
    let claims: usize = args.get(4).and_then(|a| a.parse().ok()).unwrap_or(15_000);
    let app = Arc::new(
        App::open(
            Config::local(home),
            Front::named("seed", Acknowledgements::Off),
        )
        .await
        .expect("the embedded default"),
    );
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for _ in 0..4 {
        let (app, next) = (app.clone(), next.clone());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= docs {
                    break;
                }
                let text = format!(
                    "Dear Sir or Madam,\n\nWe write about the parking arrangements at our \
                     premises, letter number {i}. Please reply at your convenience.\n\n\
                     Yours faithfully,\n\nA. Sender {i}\n"
                );
                let obj = app
                    .ingest()
                    .stage_file(
                        &format!("bench/letter-{i:05}.txt"),
                        text.into_bytes().into(),
                        app.bucket(),
                    )
                    .await
                    .expect("stage");
                app.ingest().ingest(&obj).await.expect("ingest");
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let filed = started.elapsed();
    let started = Instant::now();
    for i in 0..requests {
        let received = chrono::NaiveDate::from_ymd_opt(2026, 10, 1).expect("a date")
            + chrono::Duration::days((i % 60) as i64);
        let case = app
            .foi
            .open(NewRequest {
                requester: format!("Requester {i}"),
                request_text: format!(
                    "Please send the number of claims in year {} (request {i}).",
                    2000 + i % 25
                ),
                received: Some(received),
                title: None,
                source_doc: None,
            })
            .await
            .expect("an FOI request");
        let respond = Command::Respond {
            on: received,
            outcome: Outcome::Granted,
            exemptions: vec![],
        };
        let moves = match i % 8 {
            3 | 4 => vec![Command::StartWork { on: received }],
            5 | 6 => vec![respond],
            7 => vec![respond, Command::Close { on: received }],
            _ => vec![],
        };
        for command in moves {
            app.foi
                .apply(&case.request.reference, &command)
                .await
                .expect("a move");
        }
    }
    let opened = started.elapsed();
    let started = Instant::now();
    // Claims by the cases import, at most its rows a file at a time.
    let statuses = [
        "open", "open", "open", "open", "open", "open", "open", "closed", "closed", "settled",
    ];
    let rows: Vec<String> = (0..claims)
        .map(|i| {
            format!(
                "CNST/{}/{:06},claim,Claimant {i},20{}-03-04,{}\n",
                20 + i % 6,
                i + 1,
                20 + i % 6,
                statuses[i % 10]
            )
        })
        .collect();
    for chunk in rows.chunks(postroom::cases::import::MAX_ROWS) {
        let csv = format!("reference,kind,claimant,opened,status\n{}", chunk.concat());
        let report = app
            .cases
            .import(csv.as_bytes(), "seed", &app.config.calendar)
            .await
            .expect("the claims");
        assert_eq!(report.created(), chunk.len(), "every claim created");
    }
    println!(
        "seeded {docs} documents in {:.1} s, {requests} FOI requests in {:.1} s and {claims} claims in {:.1} s into {home}",
        filed.as_secs_f64(),
        opened.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}
