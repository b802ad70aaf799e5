//! Search end to end: the labelled set (tests/data/search, made by its generate.py)
//! ingested through the real ingest and measured (recall@10 by kind of query: names and
//! references at least 0.95); the index fed by ingest, filing by hand and quarantine,
//! and rebuilt by `reindex` (on `TantivySearch`, the embedded default's index); the query
//! time limit (on both embedded adapters); and `postroom search` on the command line
//! (JSON lines, filters, a syntax error's exit status, `--reindex`, and a home without an
//! index built by its first command).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use postroom::app::{Acknowledgements, App, Front};
use postroom::config::Config;
use postroom::failure::ErrorCode as _;
use postroom::model::IngestStatus;
use postroom::store::{
    Filters, Search, SearchDoc, SearchError, SearchRequest, SqliteSearch, TantivySearch,
};
use serde_json::Value;

use crate::cli::postroom;
use crate::ingest::FixedClock;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/search")
}

/// An application on a fresh folder, feeding its own search index (the embedded
/// default's, `TantivySearch`).
fn open(dir: &tempfile::TempDir) -> (App, Arc<TantivySearch>) {
    let config = Config::local(dir.path().to_path_buf());
    let stores = postroom::app::local_stores(&config).expect("local stores");
    let search =
        Arc::new(TantivySearch::open(dir.path().join(postroom::app::SEARCH_DIR)).expect("search"));
    let app = App::with_stores(
        config,
        stores,
        Arc::new(FixedClock),
        Front::named("test", Acknowledgements::Off),
    )
    .with_search(search.clone());
    (app, search)
}

async fn ingest_text(app: &App, key: &str, text: &str) -> postroom::ingest::Outcome {
    let obj = app
        .ingest()
        .stage(key, bytes::Bytes::from(text.to_owned()), "local")
        .await
        .expect("stage");
    app.ingest().ingest(&obj).await.expect("ingest")
}

/// The ids of a query's first ten hits.
pub(crate) async fn hits(search: &dyn Search, query: &str, filters: Filters) -> Vec<String> {
    let request = SearchRequest::parse(query)
        .expect("parses")
        .filters(filters)
        .limit(10);
    search
        .query(&request)
        .await
        .expect("query")
        .hits
        .into_iter()
        .map(|h| h.doc_id)
        .collect()
}

/// The labelled set: every document ingested, every query run; recall@10 (the expected
/// documents among the first ten hits, over the expected or ten if more) averaged by
/// kind of query. One topic miss is kept on purpose: "cyber security" asks for words
/// the requests do not use (they say ransomware), which no word index finds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labelled_set_recall_at_10() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (app, search) = open(&dir);
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut files: Vec<_> = std::fs::read_dir(data().join("docs"))
        .expect("docs")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    for path in &files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_owned();
        let text = std::fs::read_to_string(path).expect("read");
        let outcome = ingest_text(&app, &format!("inbox/{name}"), &text).await;
        assert!(
            matches!(outcome.status, IngestStatus::Filed | IngestStatus::Unfiled),
            "{name}: {outcome:?}"
        );
        ids.insert(outcome.doc_id.expect("doc id"), name);
    }
    let queries = std::fs::read_to_string(data().join("queries.tsv")).expect("queries");
    let mut recall: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    let mut misses = Vec::new();
    for line in queries
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let [kind, query, expected] = line.split('\t').collect::<Vec<_>>()[..] else {
            panic!("a bad line in queries.tsv: {line:?}");
        };
        let expected: Vec<&str> = expected.split(',').collect();
        let found: Vec<String> = hits(search.as_ref(), query, Filters::default())
            .await
            .into_iter()
            .filter_map(|id| ids.get(&id).cloned())
            .collect();
        let got = expected
            .iter()
            .filter(|e| found.iter().any(|f| f == *e))
            .count();
        // Of the expected documents, those among the first ten; a query with more than
        // ten expected is measured against ten.
        let r = got as f64 / expected.len().min(10) as f64;
        if r < 1.0 {
            misses.push(format!(
                "{kind} {query:?}: {got}/{} ({found:?})",
                expected.len()
            ));
        }
        let entry = recall.entry(kind.to_owned()).or_default();
        entry.0 += r;
        entry.1 += 1;
    }
    let mut report = String::new();
    for (kind, (sum, n)) in &recall {
        report.push_str(&format!(
            "{kind}: recall@10 {:.3} over {n} queries\n",
            sum / *n as f64
        ));
    }
    println!(
        "{} documents\n{report}misses:\n{}",
        files.len(),
        misses.join("\n")
    );
    let of = |kind: &str| recall.get(kind).map_or(0.0, |(s, n)| s / *n as f64);
    assert!(
        recall.values().map(|(_, n)| n).sum::<usize>() >= 100,
        "{report}"
    );
    assert!(of("name") >= 0.95, "{report}{}", misses.join("\n"));
    assert!(of("reference") >= 0.95, "{report}{}", misses.join("\n"));
    assert!(of("phrase") >= 0.9, "{report}{}", misses.join("\n"));
    assert!(of("topic") >= 0.8, "{report}{}", misses.join("\n"));
}

const LETTER: &str = "LETTER OF CLAIM\n\nOur client: Ottoline Pargeter. Your reference CNST/24/009911.\n\
    This is a letter of claim about a delayed ultrasound of the gallbladder.\n";
const UNREFERENCED: &str = "Dear team, the patient Ottoline Pargeter asks about her \
    cholecystectomy and the delayed ultrasound. Regards, PALS\n";

/// Ingest indexes what it records (filed and unfiled); filing by hand moves the document
/// to its case in the index; a redelivery writes nothing; reindex rebuilds a lost index
/// and removes what is no longer stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_feeds_the_index_and_reindex_rebuilds_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (app, search) = open(&dir);
    let letter = ingest_text(&app, "inbox/letter.txt", LETTER).await;
    assert_eq!(letter.status, IngestStatus::Filed, "{letter:?}");
    let other = ingest_text(&app, "inbox/pals.txt", UNREFERENCED).await;
    assert_eq!(other.status, IngestStatus::Unfiled, "{other:?}");
    let (letter_id, other_id) = (letter.doc_id.expect("id"), other.doc_id.expect("id"));

    let found = hits(search.as_ref(), "ultrasound", Filters::default()).await;
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(
        hits(search.as_ref(), "CNST/24/009911", Filters::default()).await,
        std::slice::from_ref(&letter_id)
    );
    let on_case = Filters {
        case_ref: Some("CNST/24/009911".into()),
        ..Filters::default()
    };
    assert_eq!(
        hits(search.as_ref(), "ultrasound", on_case.clone()).await,
        std::slice::from_ref(&letter_id)
    );
    // The hit carries its filing and a highlighted snippet.
    let page = search
        .query(&SearchRequest::parse("gallbladder").expect("parses"))
        .await
        .expect("query");
    assert_eq!(
        page.hits[0].filing.case_ref.as_deref(),
        Some("CNST/24/009911")
    );
    assert!(page.hits[0].filing.doc_type.is_some());
    assert!(
        page.hits[0]
            .snippet
            .marked("[", "]")
            .contains("[gallbladder]")
    );

    // Filed by hand: the index follows.
    app.cases
        .file(&other_id, "CNST/24/009911", Some("handler@example.org"))
        .await
        .expect("filed by hand");
    let both = hits(search.as_ref(), "ultrasound", on_case.clone()).await;
    assert_eq!(both.len(), 2, "{both:?}");

    // The same object again: unchanged, and nothing written.
    let again = ingest_text(&app, "inbox/letter.txt", LETTER).await;
    assert_eq!(again.status, IngestStatus::Unchanged);
    let doc = search.doc_ids(None, 10).await.expect("ids");
    assert_eq!(doc.len(), 2);

    // A lost index is rebuilt from the stored text (into a new folder: the app still
    // holds the first); a stray entry is removed.
    drop(search);
    let fresh = TantivySearch::open(dir.path().join("rebuilt.tantivy")).expect("a new index");
    fresh
        .index(&SearchDoc::new(
            "stray",
            "stray.txt",
            "ultrasound of nothing",
        ))
        .await
        .expect("stray");
    let done = postroom::ingest::reindex(&app.stores, &fresh, app.rules(), |_| {})
        .await
        .expect("reindex");
    assert_eq!(
        (done.documents, done.written, done.removed),
        (2, 2, 1),
        "{done:?}"
    );
    assert_eq!(hits(&fresh, "ultrasound", on_case).await.len(), 2);
    // Again: nothing to write.
    let done = postroom::ingest::reindex(&app.stores, &fresh, app.rules(), |_| {})
        .await
        .expect("reindex again");
    assert_eq!(
        (done.documents, done.written, done.unchanged, done.removed),
        (2, 0, 2, 0)
    );
}

/// A quarantined document never reaches the index (and one indexed before is removed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quarantined_documents_are_not_searchable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (app, search) = open(&dir);
    // A PDF that is not one: refused as unreadable.
    let bytes = b"%PDF-1.7\n this is not really a pdf zebrafish\n".to_vec();
    let obj = app
        .ingest()
        .stage("inbox/broken.pdf", bytes::Bytes::from(bytes), "local")
        .await
        .expect("stage");
    let outcome = app.ingest().ingest(&obj).await.expect("ingest");
    assert_eq!(outcome.status, IngestStatus::Quarantined, "{outcome:?}");
    assert!(search.doc_ids(None, 10).await.expect("ids").is_empty());
}

/// A query that runs past its time is stopped and says so (`search_too_broad`), on both
/// embedded adapters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_past_its_time_is_stopped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = dir.path().join("s.sqlite3");
    let tantivy = dir.path().join("s.tantivy");
    stopped_past_its_time(
        SqliteSearch::open(&sqlite)
            .expect("open")
            .with_time_limit(Duration::from_micros(1)),
        || SqliteSearch::open(&sqlite).expect("reopen"),
    )
    .await;
    stopped_past_its_time(
        TantivySearch::open(&tantivy)
            .expect("open")
            .with_time_limit(Duration::from_micros(1)),
        || TantivySearch::open(&tantivy).expect("reopen"),
    )
    .await;
}

async fn stopped_past_its_time<S: Search>(search: S, reopen: impl FnOnce() -> S) {
    let docs: Vec<SearchDoc> = (0..3000)
        .map(|i| {
            SearchDoc::new(
                format!("d{i:05}"),
                "t.txt",
                format!("common words for document {i} common again and common once more"),
            )
        })
        .collect();
    search.index_many(&docs).await.expect("index");
    let err = search
        .query(&SearchRequest::parse("co*").expect("parses"))
        .await
        .expect_err("past its time");
    assert!(matches!(err, SearchError::TooBroad), "{err}");
    assert_eq!(err.reason(), "search_too_broad");
    assert_eq!(err.code(), postroom::failure::Code::TooLarge);
    // The index still answers afterwards, within the normal limit.
    drop(search);
    let search = reopen();
    let page = search
        .query(&SearchRequest::parse("\"document 42 common\"").expect("parses"))
        .await
        .expect("query");
    assert_eq!(page.hits.len(), 1);
}

fn run(cmd: &mut std::process::Command) -> (i32, String, String) {
    let out = cmd.output().expect("run postroom");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `postroom search`: JSON lines best first, filters, a syntax error's stable reason and
/// exit status, and `--reindex`; the query's text appears in no log line.
#[test]
fn the_command_line_searches_and_reindexes() {
    let home = tempfile::tempdir().expect("temp dir");
    let inbox = home.path().join("in");
    std::fs::create_dir_all(&inbox).expect("inbox");
    std::fs::write(inbox.join("letter.txt"), LETTER).expect("write");
    std::fs::write(inbox.join("pals.txt"), UNREFERENCED).expect("write");
    let postroom = || {
        let mut cmd = postroom();
        cmd.arg("--home").arg(home.path().join("data")).arg("-vv");
        cmd
    };
    let (code, _, err) = run(postroom().arg("ingest").arg(&inbox));
    assert_eq!(code, 0, "{err}");

    let (code, out, err) = run(postroom().args(["search", "cholecystectomy", "--json"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        !err.contains("cholecystectomy"),
        "the query was logged: {err}"
    );
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 1, "{out}");
    let hit = lines[0].as_object().expect("an object");
    let mut keys: Vec<&str> = hit.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["case_ref", "doc_id", "doc_type", "score", "snippet"]);
    assert!(
        hit["snippet"]
            .as_str()
            .unwrap_or("")
            .contains("**cholecystectomy**"),
        "{out}"
    );

    let (code, out, err) = run(postroom().args(["search", "ultrasound", "--json"]));
    assert_eq!(code, 0, "{err}");
    let scores: Vec<f64> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("json")["score"]
                .as_f64()
                .expect("score")
        })
        .collect();
    assert_eq!(scores.len(), 2, "{out}");
    assert!(scores[0] >= scores[1]);
    let (code, out, _) =
        run(postroom().args(["search", "ultrasound", "--case", "CNST/24/009911", "--json"]));
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 1, "{out}");
    let (code, out, _) = run(postroom().args(["search", "pargeter", "--type", "no_such_type"]));
    assert_eq!((code, out.trim()), (0, "Nothing found."));

    // A syntax error: the grammar's message and reason, exit status 1 (refused).
    let (code, _, err) = run(postroom().args(["search", "\"ultrasound of"]));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("not closed") && err.contains("unclosed_quote"),
        "{err}"
    );

    let (code, out, err) = run(postroom().args(["search", "--reindex"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Indexed 2 documents") && out.contains("0 written"),
        "{out}"
    );

    // A home whose documents have no index yet (made before the index moved to
    // tantivy, or its folder deleted): the first command builds it, and says so.
    let index = home.path().join("data").join(postroom::app::SEARCH_DIR);
    std::fs::remove_dir_all(&index).expect("remove the index");
    let (code, out, err) = run(postroom().args(["search", "cholecystectomy", "--json"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(err.contains("building the search index"), "{err}");
    // Once.
    let (code, out, err) = run(postroom().args(["search", "ultrasound", "--json"]));
    assert_eq!((code, out.lines().count()), (0, 2), "{out}{err}");
    assert!(!err.contains("building the search index"), "{err}");
}
