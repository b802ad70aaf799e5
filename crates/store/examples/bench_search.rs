//! Measures the embedded search adapters (`SqliteSearch`, and `TantivySearch` with the
//! `tantivy` feature) on synthetic documents: how fast each indexes (in batches, as
//! `postroom search --reindex` does, and one document a write, as ingest does, then a
//! `refresh` that commits what `TantivySearch` grouped), how long
//! queries of each kind take (p50, p95, max), and the index's size as a share of the
//! text. Run by `scripts/bench-search` (the `fast` profile); `BENCH_SEARCH_DOCS` sets the
//! corpus size (100,000 by default), `BENCH_SEARCH_ENGINE` the adapters, one after the
//! other on the same corpus (`sqlite`, the default; `tantivy`; `sqlite,tantivy` or
//! `both`), `BENCH_SEARCH_INDEX` a path to keep the index at (with `.sqlite3` or
//! `.tantivy` added when there are two).

use std::time::{Duration, Instant};

#[cfg(feature = "tantivy")]
use postroom_store::TantivySearch;
use postroom_store::search::{Filters, Scope, SearchDoc, SearchRequest};
use postroom_store::{Search, SqliteSearch};

/// Words a document, on average (about 2.7 KB of text).
const WORDS: usize = 400;
/// Distinct pseudo-words, drawn by a Zipf law (s = 1).
const VOCABULARY: usize = 60_000;
const BATCH: usize = 500;
const SINGLE: usize = 2_000;
const RUNS: usize = 40;

/// A small, fixed pseudo-random generator (xorshift64*): the same corpus every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Zipf sampling by inverse of the cumulative weights.
struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    fn new(n: usize) -> Zipf {
        let mut total = 0.0;
        let cumulative = (1..=n)
            .map(|k| {
                total += 1.0 / k as f64;
                total
            })
            .collect::<Vec<_>>();
        Zipf { cumulative }
    }

    fn sample(&self, rng: &mut Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let x = rng.unit() * total;
        self.cumulative.partition_point(|&c| c < x)
    }
}

fn pseudo_word(mut k: usize) -> String {
    const SYLLABLES: [&str; 24] = [
        "ka", "lo", "mi", "ner", "po", "qua", "ris", "ta", "ul", "ve", "wen", "xo", "yar", "zu",
        "bel", "cor", "dan", "ek", "fal", "gri", "hom", "ist", "jor", "sen",
    ];
    let mut word = String::new();
    loop {
        word.push_str(SYLLABLES[k % SYLLABLES.len()]);
        k /= SYLLABLES.len();
        if k == 0 {
            break;
        }
    }
    word
}

fn nhs_number(i: usize) -> String {
    // The 999 range; the check digit is not needed to be found as written.
    format!("999 {:03} {:04}", (i / 10_000) % 1000, i % 10_000)
}

fn document(i: usize, rng: &mut Rng, zipf: &Zipf, words: &[String]) -> SearchDoc {
    let mut text = String::with_capacity(WORDS * 7);
    let n = WORDS / 2 + rng.below(WORDS);
    for w in 0..n {
        if w > 0 {
            text.push(if w % 17 == 0 { '\n' } else { ' ' });
        }
        text.push_str(&words[zipf.sample(rng)]);
    }
    text.push_str(&format!(
        "\nClaim CNST/{}/{:06} for patient {} NHS number {}.",
        20 + i % 7,
        i,
        words[i % VOCABULARY],
        nhs_number(i)
    ));
    let mut doc = SearchDoc::new(format!("doc-{i:07}"), format!("scan-{i}.pdf"), text);
    // One document in 30 is an FOI request's (a scope's range to read or skip).
    doc.filing.case_ref = Some(if i % 30 == 29 {
        format!("FOI_{:05}", i / 30)
    } else {
        format!("CNST/{}/{:06}", 20 + i % 7, i / 4)
    });
    doc.filing.doc_type = Some(
        [
            "letter_of_claim",
            "medical_report",
            "court_order",
            "correspondence",
        ][i % 4]
            .into(),
    );
    doc.filing.family = Some("claims".into());
    doc.document_date = Some(format!(
        "20{:02}-{:02}-{:02}",
        18 + i % 8,
        1 + i % 12,
        1 + i % 28
    ));
    doc
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// An adapter under measurement.
enum Engine {
    Sqlite(SqliteSearch),
    #[cfg(feature = "tantivy")]
    Tantivy(TantivySearch),
}

impl Engine {
    fn open(name: &str, path: &std::path::Path) -> Result<Engine, Box<dyn std::error::Error>> {
        match name {
            "sqlite" => Ok(Engine::Sqlite(SqliteSearch::open(path)?)),
            #[cfg(feature = "tantivy")]
            "tantivy" => Ok(Engine::Tantivy(TantivySearch::open(path)?)),
            #[cfg(not(feature = "tantivy"))]
            "tantivy" => Err("tantivy: build with the `tantivy` feature".into()),
            other => Err(format!("unknown engine {other:?}: sqlite or tantivy").into()),
        }
    }

    fn search(&self) -> &dyn Search {
        match self {
            Engine::Sqlite(s) => s,
            #[cfg(feature = "tantivy")]
            Engine::Tantivy(s) => s,
        }
    }

    fn size_on_disk(&self) -> u64 {
        match self {
            Engine::Sqlite(s) => s.size_on_disk(),
            #[cfg(feature = "tantivy")]
            Engine::Tantivy(s) => s.size_on_disk(),
        }
    }

    async fn optimize(&self) -> postroom_store::StoreResult<()> {
        match self {
            Engine::Sqlite(s) => s.optimize().await,
            #[cfg(feature = "tantivy")]
            Engine::Tantivy(s) => s.optimize().await,
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let total: usize = std::env::var("BENCH_SEARCH_DOCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let engines: Vec<String> = match std::env::var("BENCH_SEARCH_ENGINE").as_deref() {
        Err(_) | Ok("") => vec!["sqlite".into()],
        Ok("both") => vec!["sqlite".into(), "tantivy".into()],
        Ok(list) => list.split(',').map(|e| e.trim().to_lowercase()).collect(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let dir = tempfile::tempdir()?;
    for (n, engine) in engines.iter().enumerate() {
        if n > 0 {
            println!();
        }
        let suffix = if engine == "sqlite" {
            "sqlite3"
        } else {
            "tantivy"
        };
        // `BENCH_SEARCH_INDEX`: where to build the index, kept for a look afterwards (a
        // path not yet taken); by default a temporary folder's, removed.
        let path = match std::env::var_os("BENCH_SEARCH_INDEX") {
            Some(kept) if engines.len() == 1 => std::path::PathBuf::from(kept),
            Some(kept) => {
                let mut kept = kept;
                kept.push(format!(".{suffix}"));
                std::path::PathBuf::from(kept)
            }
            None => dir.path().join(format!("search.{suffix}")),
        };
        if path.exists() {
            return Err(format!("{} exists: name a new path", path.display()).into());
        }
        let search = Engine::open(engine, &path)?;
        println!("engine: {engine} ({})", search.search().describe());
        measure(&search, total, &runtime)?;
    }
    Ok(())
}

/// Runs `requests` one after the other and prints their p50, p95 and max under `label`:
/// their times, sorted.
fn timed(
    runtime: &tokio::runtime::Runtime,
    search: &dyn Search,
    requests: &[SearchRequest],
    label: &str,
    note: &str,
) -> Result<Vec<Duration>, Box<dyn std::error::Error>> {
    let mut times = Vec::with_capacity(requests.len());
    let mut found = 0usize;
    for request in requests {
        let t = Instant::now();
        let page = runtime.block_on(search.query(request))?;
        times.push(t.elapsed());
        found += page.hits.len();
    }
    times.sort();
    println!(
        "  {label:<34} p50 {:>7.2}  p95 {:>7.2}  max {:>7.2}  ({:.1} hits a query{note})",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.95)),
        ms(*times.last().unwrap_or(&Duration::ZERO)),
        found as f64 / requests.len().max(1) as f64
    );
    Ok(times)
}

fn measure(
    engine: &Engine,
    total: usize,
    runtime: &tokio::runtime::Runtime,
) -> Result<(), Box<dyn std::error::Error>> {
    let search = engine.search();
    let words: Vec<String> = (0..VOCABULARY).map(pseudo_word).collect();
    let zipf = Zipf::new(VOCABULARY);
    let mut rng = Rng(0x5eed_2026);

    // 1. Batches, as a rebuild does.
    let mut text_bytes = 0u64;
    let mut making = Duration::ZERO;
    let started = Instant::now();
    let mut i = 0;
    while i < total {
        let t = Instant::now();
        let batch: Vec<SearchDoc> = (i..(i + BATCH).min(total))
            .map(|k| document(k, &mut rng, &zipf, &words))
            .collect();
        making += t.elapsed();
        text_bytes += batch.iter().map(|d| d.text.len() as u64).sum::<u64>();
        runtime.block_on(search.index_many(&batch))?;
        i += BATCH;
    }
    // What TantivySearch still holds is committed (as a rebuild ends).
    runtime.block_on(search.refresh())?;
    let indexing = started.elapsed() - making;
    let size_before = engine.size_on_disk();
    let t = Instant::now();
    runtime.block_on(engine.optimize())?;
    let optimizing = t.elapsed();
    let size = engine.size_on_disk();
    println!(
        "documents: {total}, text: {:.1} MB ({} bytes a document)",
        text_bytes as f64 / 1e6,
        text_bytes / total as u64
    );
    println!(
        "batch index: {:.1} s ({:.0} documents/s; generating the text, {:.1} s, not counted)",
        indexing.as_secs_f64(),
        total as f64 / indexing.as_secs_f64(),
        making.as_secs_f64()
    );
    println!(
        "index size: {:.1} MB before optimize, {:.1} MB after ({:.2} × the text; optimize {:.1} s)",
        size_before as f64 / 1e6,
        size as f64 / 1e6,
        size as f64 / text_bytes as f64,
        optimizing.as_secs_f64()
    );

    // 2. One document a write, as ingest indexes (on top of the corpus).
    let extra: Vec<SearchDoc> = (total..total + SINGLE)
        .map(|k| document(k, &mut rng, &zipf, &words))
        .collect();
    let t = Instant::now();
    for doc in &extra {
        runtime.block_on(search.index(doc))?;
    }
    let single = t.elapsed();
    // Grouped writes (TantivySearch) are committed by then, or by this.
    let t = Instant::now();
    runtime.block_on(search.refresh())?;
    let refresh = t.elapsed();
    println!(
        "single-document index: {SINGLE} in {:.2} s ({:.0} documents/s); then refresh {:.3} s ({:.0} documents/s with it)",
        single.as_secs_f64(),
        SINGLE as f64 / single.as_secs_f64(),
        refresh.as_secs_f64(),
        SINGLE as f64 / (single + refresh).as_secs_f64()
    );
    let t = Instant::now();
    for doc in &extra {
        runtime.block_on(search.index(doc))?;
    }
    println!(
        "the same {SINGLE} again (unchanged, nothing written): {:.0} documents/s",
        SINGLE as f64 / t.elapsed().as_secs_f64()
    );

    // 3. Queries of each kind, top 20 with snippets.
    let common = &words[0];
    let mid = &words[50];
    let rare = &words[20_000];
    let kinds: Vec<(&str, Vec<String>, Filters)> = vec![
        (
            "rare word",
            (0..RUNS).map(|k| words[20_000 + k * 37].clone()).collect(),
            Filters::default(),
        ),
        (
            "common word (in most documents)",
            vec![common.clone()],
            Filters::default(),
        ),
        (
            "two mid words",
            (0..RUNS)
                .map(|k| format!("{} {}", words[40 + k], words[200 + k]))
                .collect(),
            Filters::default(),
        ),
        (
            "phrase",
            (0..RUNS)
                .map(|k| format!("\"{} {}\"", words[k % 5], words[5 + k % 7]))
                .collect(),
            Filters::default(),
        ),
        (
            "prefix",
            (0..RUNS)
                .map(|k| format!("{}*", &words[300 + k][..4.min(words[300 + k].len())]))
                .collect(),
            Filters::default(),
        ),
        (
            "reference",
            (0..RUNS)
                .map(|k| format!("CNST/{}/{:06}", 20 + (k * 997) % 7, (k * 997) % total))
                .collect(),
            Filters::default(),
        ),
        (
            "NHS number",
            (0..RUNS).map(|k| nhs_number(k * 1_234 % total)).collect(),
            Filters::default(),
        ),
        (
            "mid word on a case",
            (0..RUNS).map(|_| mid.clone()).collect(),
            Filters {
                case_ref: Some("CNST/21/000001".into()),
                ..Filters::default()
            },
        ),
        (
            "common word in a year",
            vec![common.clone()],
            Filters {
                from: Some("2020-01-01".into()),
                to: Some("2020-12-31".into()),
                ..Filters::default()
            },
        ),
        (
            "rare word -common",
            vec![format!("{rare} -{common}")],
            Filters::default(),
        ),
        // The console's scopes: a case handler's (every case but FOI requests, and the
        // unfiled: the FOI requests' documents skipped as matches are collected); an FOI
        // officer's (the FOI requests' range: 3,333 documents here).
        (
            "common word, a case handler's scope",
            vec![common.clone()],
            Filters {
                scope: Some(Scope {
                    foi_requests: false,
                    other_cases: true,
                    unfiled: true,
                }),
                ..Filters::default()
            },
        ),
        (
            "common word, an FOI officer's scope",
            vec![common.clone()],
            Filters {
                scope: Some(Scope {
                    foi_requests: true,
                    ..Scope::default()
                }),
                ..Filters::default()
            },
        ),
    ];
    let mut all = Vec::new();
    println!("queries (top 20 with snippets; milliseconds):");
    for (kind, queries, filters) in &kinds {
        let requests = (0..RUNS)
            .map(|r| {
                Ok(SearchRequest::parse(&queries[r % queries.len()])?
                    .filters(filters.clone())
                    .limit(20))
            })
            .collect::<Result<Vec<_>, Box<dyn std::error::Error>>>()?;
        let times = timed(runtime, search, &requests, kind, "")?;
        all.extend(times);
    }
    all.sort();
    // Not in the overall figures (the same mix as before it was added).
    let requests = (0..RUNS)
        .map(|k| {
            let query = format!("\"{} {} {}\"", words[k % 5], words[5 + k % 7], words[k % 3]);
            Ok(SearchRequest::parse(&query)?.limit(20))
        })
        .collect::<Result<Vec<_>, Box<dyn std::error::Error>>>()?;
    timed(
        runtime,
        search,
        &requests,
        "phrase of three words",
        "; not in the figures below",
    )?;
    println!(
        "all queries: p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms over {}",
        ms(percentile(&all, 0.5)),
        ms(percentile(&all, 0.95)),
        ms(*all.last().unwrap_or(&Duration::ZERO)),
        all.len()
    );
    Ok(())
}
