//! The `Search` contract: every test runs on every adapter (`SqliteSearch`,
//! `TantivySearch`, and `LambdaSearch` with the search function behind it, fixture in
//! `search_function.rs`), on a fresh index. A queued adapter's writes answer `Queued`;
//! their effect is checked by the queries after `refresh`.
//! What it pins: all words must match, phrases, exclusions, prefixes, references as
//! written, filters, idempotent indexing and refiling, removal, stable pages and
//! refused cursors, highlighted snippets, the indexed text's limit, hostile queries.

use std::collections::BTreeSet;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt as _;
use postroom::failure::{Code, ErrorCode as _};
use postroom::store::search::MAX_INDEXED_TEXT_BYTES;
use postroom::store::{
    Filing, Filters, Indexed, Scope, Search, SearchCursor, SearchDoc, SearchError, SearchRequest,
    SqliteSearch, TantivySearch, Unconfigured,
};

use super::harness::TestFuture;

/// A fresh index for one test, and what to remove afterwards.
pub struct SearchFixture {
    search: Arc<dyn Search>,
    #[allow(dead_code, reason = "held so the folder lives until the test ends")]
    dir: Option<tempfile::TempDir>,
    /// Stops what the fixture started (the AWS adapter's stand-ins).
    stop: Option<Box<dyn FnOnce() + Send>>,
}

impl SearchFixture {
    /// An index with a folder and something to stop when the test ends.
    pub fn with_parts(
        search: Arc<dyn Search>,
        dir: tempfile::TempDir,
        stop: Box<dyn FnOnce() + Send>,
    ) -> Self {
        SearchFixture {
            search,
            dir: Some(dir),
            stop: Some(stop),
        }
    }
}

impl Drop for SearchFixture {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop();
        }
    }
}

pub async fn sqlite_search(_test: String) -> Option<SearchFixture> {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let search = SqliteSearch::open(dir.path().join("search.sqlite3")).expect("open SqliteSearch");
    Some(SearchFixture {
        search: Arc::new(search),
        dir: Some(dir),
        stop: None,
    })
}

pub async fn tantivy_search(_test: String) -> Option<SearchFixture> {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let search =
        TantivySearch::open(dir.path().join("search.tantivy")).expect("open TantivySearch");
    Some(SearchFixture {
        search: Arc::new(search),
        dir: Some(dir),
        stop: None,
    })
}

/// Runs one search test on a fresh index, which goes afterwards, pass or fail.
pub async fn with_search<M, F>(
    make: M,
    name: &str,
    test: impl FnOnce(Arc<dyn Search>) -> TestFuture,
) where
    M: FnOnce(String) -> F,
    F: Future<Output = Option<SearchFixture>>,
{
    let Some(fixture) = make(name.to_owned()).await else {
        return;
    };
    let outcome = AssertUnwindSafe(test(Arc::clone(&fixture.search)))
        .catch_unwind()
        .await;
    drop(fixture);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Instantiates every `Search` contract test for one adapter.
macro_rules! search_contract {
    ($adapter:ident, $make:path) => {
        mod $adapter {
            search_contract!(@each $make;
                distinctive_terms_rank_first, every_word_must_match, phrases_keep_their_order,
                exclusions_remove_hits, prefixes_match_word_starts, references_match_as_written,
                filters_narrow_hits, scopes_admit_only_their_documents,
                the_same_version_writes_nothing, refiling_moves_a_document,
                a_new_version_replaces_the_old, removed_documents_vanish, pages_are_stable_and_complete,
                foreign_cursors_are_refused, snippets_highlight_the_match, text_is_indexed_up_to_the_limit,
                hostile_queries_are_plain_words, invalid_documents_are_refused);
        }
    };
    (@each $make:path; $($test:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                let name = concat!(module_path!(), "::", stringify!($test));
                $crate::contract::search::with_search($make, name, |s| {
                    Box::pin($crate::contract::search::$test(s))
                })
                .await;
            }
        )*
    };
}

search_contract!(sqlite_search, crate::contract::search::sqlite_search);
search_contract!(tantivy_search, crate::contract::search::tantivy_search);
search_contract!(
    lambda_search,
    crate::contract::search_function::lambda_search
);

fn doc(id: &str, text: &str) -> SearchDoc {
    SearchDoc::new(id, format!("{id}.txt"), text)
}

fn filed(id: &str, text: &str, case: &str, doc_type: &str, family: &str, date: &str) -> SearchDoc {
    let mut d = doc(id, text);
    d.filing = Filing {
        case_ref: Some(case.into()),
        doc_type: Some(doc_type.into()),
        family: Some(family.into()),
    };
    d.document_date = Some(date.into());
    d
}

async fn index_all(search: &dyn Search, docs: &[SearchDoc]) {
    search.index_many(docs).await.expect("index");
    search.refresh().await.expect("refresh");
}

async fn ids_with(search: &dyn Search, query: &str, filters: Filters) -> Vec<String> {
    let request = SearchRequest::parse(query)
        .unwrap_or_else(|e| panic!("{query:?} should parse: {e}"))
        .filters(filters)
        .limit(100);
    let page = search
        .query(&request)
        .await
        .unwrap_or_else(|e| panic!("{query:?}: {e}"));
    page.hits.into_iter().map(|h| h.doc_id).collect()
}

async fn ids(search: &dyn Search, query: &str) -> Vec<String> {
    ids_with(search, query, Filters::default()).await
}

fn set(ids: &[String]) -> BTreeSet<&str> {
    ids.iter().map(String::as_str).collect()
}

/// A small corpus most tests share.
fn corpus() -> Vec<SearchDoc> {
    vec![
        filed(
            "d1",
            "Letter of claim about a delayed MRI scan at the Royal Infirmary on 3 April.",
            "CNST/24/004512",
            "letter_of_claim",
            "claims",
            "2024-04-10",
        ),
        filed(
            "d2",
            "The radiology report: the MRI showed no fracture. Claim reference CNST/24/004512.",
            "CNST/24/004512",
            "medical_report",
            "claims",
            "2024-05-02",
        ),
        filed(
            "d3",
            "Freedom of information request FOI_6405 for spending on agency staff.",
            "FOI-2024-0001",
            "foi_request",
            "foi",
            "2024-06-01",
        ),
        filed(
            "d4",
            "Draft letter of claim, not sent. Patient NHS number 999 000 0018.",
            "CNST/24/004513",
            "letter_of_claim",
            "claims",
            "2023-12-01",
        ),
        filed(
            "d5",
            "Court order KB-2024-001234: the claim is stayed. NHS number 9990000018 noted.",
            "CNST/24/004513",
            "court_order",
            "claims",
            "2024-02-20",
        ),
        filed(
            "d6",
            "Invoice for radiologists and radiographers, agency cover in March.",
            "FOI-2024-0001",
            "invoice",
            "general",
            "2024-03-15",
        ),
    ]
}

pub async fn distinctive_terms_rank_first(search: Arc<dyn Search>) {
    let mut docs = corpus();
    docs.push(doc(
        "d7",
        "fracture fracture fracture: the fracture clinic saw the fracture.",
    ));
    index_all(search.as_ref(), &docs).await;
    let found = ids(search.as_ref(), "fracture").await;
    assert_eq!(found.first().map(String::as_str), Some("d7"), "{found:?}");
    assert_eq!(set(&found), BTreeSet::from(["d2", "d7"]));
    // A word in the title counts too.
    assert_eq!(ids(search.as_ref(), "d3").await, ["d3"]);
}

pub async fn every_word_must_match(search: Arc<dyn Search>) {
    index_all(search.as_ref(), &corpus()).await;
    assert_eq!(
        set(&ids(search.as_ref(), "MRI").await),
        BTreeSet::from(["d1", "d2"])
    );
    assert_eq!(ids(search.as_ref(), "mri fracture").await, ["d2"]);
    assert!(ids(search.as_ref(), "mri spending").await.is_empty());
    // Case and accents do not matter; a word is matched by its stem.
    assert_eq!(ids(search.as_ref(), "ROYAL infirmary").await, ["d1"]);
    assert_eq!(
        set(&ids(search.as_ref(), "claims").await),
        BTreeSet::from(["d1", "d2", "d4", "d5"])
    );
}

pub async fn phrases_keep_their_order(search: Arc<dyn Search>) {
    index_all(search.as_ref(), &corpus()).await;
    assert_eq!(
        set(&ids(search.as_ref(), "\"letter of claim\"").await),
        BTreeSet::from(["d1", "d4"])
    );
    assert!(ids(search.as_ref(), "\"claim of letter\"").await.is_empty());
    // The same words apart match as words but not as a phrase.
    assert_eq!(ids(search.as_ref(), "agency staff").await, ["d3"]);
    assert_eq!(
        ids(search.as_ref(), "\"staff agency\"").await,
        Vec::<String>::new()
    );
}

pub async fn exclusions_remove_hits(search: Arc<dyn Search>) {
    index_all(search.as_ref(), &corpus()).await;
    assert_eq!(
        set(&ids(search.as_ref(), "\"letter of claim\" -draft").await),
        BTreeSet::from(["d1"])
    );
    assert_eq!(ids(search.as_ref(), "mri -\"no fracture\"").await, ["d1"]);
    assert_eq!(
        set(&ids(search.as_ref(), "claim -999 000 0018").await),
        BTreeSet::from(["d1", "d2"])
    );
}

pub async fn prefixes_match_word_starts(search: Arc<dyn Search>) {
    index_all(search.as_ref(), &corpus()).await;
    assert_eq!(
        set(&ids(search.as_ref(), "radiolog*").await),
        BTreeSet::from(["d2", "d6"])
    );
    assert_eq!(
        set(&ids(search.as_ref(), "radiog*").await),
        BTreeSet::from(["d6"])
    );
    assert_eq!(
        set(&ids(search.as_ref(), "CNST/24/*").await),
        BTreeSet::from(["d2"])
    );
}

pub async fn references_match_as_written(search: Arc<dyn Search>) {
    index_all(search.as_ref(), &corpus()).await;
    assert_eq!(ids(search.as_ref(), "CNST/24/004512").await, ["d2"]);
    assert_eq!(ids(search.as_ref(), "cnst/24/004512").await, ["d2"]);
    // A neighbouring reference is another reference.
    assert!(ids(search.as_ref(), "CNST/24/004511").await.is_empty());
    assert_eq!(ids(search.as_ref(), "FOI_6405").await, ["d3"]);
    assert_eq!(ids(search.as_ref(), "KB-2024-001234").await, ["d5"]);
    // An NHS number however it is written, in the query or the text.
    for written in ["999 000 0018", "9990000018", "999-000-0018"] {
        assert_eq!(
            set(&ids(search.as_ref(), written).await),
            BTreeSet::from(["d4", "d5"]),
            "{written}"
        );
    }
    assert!(ids(search.as_ref(), "9990000026").await.is_empty());
}

pub async fn filters_narrow_hits(search: Arc<dyn Search>) {
    index_all(search.as_ref(), &corpus()).await;
    let by_case = Filters {
        case_ref: Some("CNST/24/004513".into()),
        ..Filters::default()
    };
    assert_eq!(
        set(&ids_with(search.as_ref(), "claim", by_case).await),
        BTreeSet::from(["d4", "d5"])
    );
    let by_type = Filters {
        doc_type: Some("letter_of_claim".into()),
        ..Filters::default()
    };
    assert_eq!(
        set(&ids_with(search.as_ref(), "claim", by_type).await),
        BTreeSet::from(["d1", "d4"])
    );
    let by_family = Filters {
        family: Some("general".into()),
        ..Filters::default()
    };
    assert_eq!(ids_with(search.as_ref(), "agency", by_family).await, ["d6"]);
    let in_2024 = Filters {
        from: Some("2024-01-01".into()),
        to: Some("2024-04-10".into()),
        ..Filters::default()
    };
    assert_eq!(
        set(&ids_with(search.as_ref(), "claim", in_2024).await),
        BTreeSet::from(["d1", "d5"])
    );
    // A document without a date of its own is dated by its arrival.
    let mut undated = doc("d9", "claim received undated");
    undated.received = Some("2025-01-05T10:00:00.000Z".into());
    index_all(search.as_ref(), &[undated]).await;
    let in_2025 = Filters {
        from: Some("2025-01-01".into()),
        ..Filters::default()
    };
    assert_eq!(ids_with(search.as_ref(), "claim", in_2025).await, ["d9"]);
    // Bad filters are refused as such.
    for bad in [
        Filters {
            from: Some("5 Jan 2025".into()),
            ..Filters::default()
        },
        Filters {
            from: Some("2025-02-01".into()),
            to: Some("2025-01-01".into()),
            ..Filters::default()
        },
    ] {
        let request = SearchRequest::parse("claim").expect("parses").filters(bad);
        let err = search.query(&request).await.expect_err("a bad filter");
        assert!(matches!(err, SearchError::BadFilter(_)), "{err}");
        assert_eq!(err.code(), Code::InvalidRequest);
    }
}

/// What a write answered: `want` from an adapter that writes at once, `Queued` from
/// one that queues its writes (`Search::writes_queued`), whose effect the test then
/// checks by querying after `refresh`.
/// A scope (the documents a person's roles let them see) admits documents filed on FOI
/// requests, on other cases, or not filed, in any combination: on every page, with the
/// other filters, and with cursors that belong to it alone.
pub async fn scopes_admit_only_their_documents(search: Arc<dyn Search>) {
    let on = |id: &str, case: &str| {
        filed(
            id,
            "ward round record",
            case,
            "correspondence",
            "general",
            "2024-05-01",
        )
    };
    index_all(
        search.as_ref(),
        &[
            on("foi1", "FOI_7001"),
            on("foi2", "FOI_0002"),
            on("claim", "CNST/24/004512"),
            on("appeal", "SHA/22961"),
            // Starts as an FOI reference does, but is not one.
            on("foix", "FOIX/24/1"),
            doc("loose", "ward round record, not filed"),
        ],
    )
    .await;
    let foi = ["foi1", "foi2"];
    let other = ["appeal", "claim", "foix"];
    let loose = ["loose"];
    for bits in 0..8u8 {
        let scope = Scope {
            foi_requests: bits & 1 != 0,
            other_cases: bits & 2 != 0,
            unfiled: bits & 4 != 0,
        };
        let mut want: BTreeSet<&str> = BTreeSet::new();
        for (admitted, ids) in [
            (scope.foi_requests, &foi[..]),
            (scope.other_cases, &other[..]),
            (scope.unfiled, &loose[..]),
        ] {
            if admitted {
                want.extend(ids);
            }
        }
        let filters = Filters {
            scope: Some(scope),
            ..Filters::default()
        };
        // One hit a page: every page inside the scope, and nothing missed.
        let mut got = Vec::new();
        let mut request = SearchRequest::parse("ward round")
            .expect("parses")
            .filters(filters.clone())
            .limit(1);
        for _ in 0..10 {
            let page = search.query(&request).await.expect("a page");
            got.extend(page.hits.iter().map(|h| h.doc_id.clone()));
            match page.next {
                Some(next) => request = request.after(Some(next)),
                None => break,
            }
        }
        assert_eq!(set(&got), want, "{scope:?}");
        assert_eq!(got.len(), want.len(), "{scope:?}: each once");
        // With another filter too.
        let in_case = Filters {
            case_ref: Some("FOI_7001".into()),
            ..filters.clone()
        };
        let want_in_case: Vec<&str> = if scope.foi_requests {
            vec!["foi1"]
        } else {
            vec![]
        };
        assert_eq!(
            ids_with(search.as_ref(), "ward", in_case).await,
            want_in_case,
            "{scope:?}"
        );
    }
    // A cursor belongs to its scope: another scope's is refused.
    let wide = SearchRequest::parse("ward").expect("parses").limit(1);
    let next = search
        .query(&wide)
        .await
        .expect("a page")
        .next
        .expect("more");
    let narrow = SearchRequest::parse("ward")
        .expect("parses")
        .filters(Filters {
            scope: Some(Scope {
                foi_requests: true,
                ..Scope::default()
            }),
            ..Filters::default()
        })
        .limit(1)
        .after(Some(next));
    let err = search
        .query(&narrow)
        .await
        .expect_err("a cursor of another scope");
    assert!(matches!(err, SearchError::BadCursor), "{err}");
}

fn says(search: &dyn Search, got: Indexed, want: Indexed) {
    if search.writes_queued() {
        assert_eq!(got, Indexed::Queued, "a queued write");
    } else {
        assert_eq!(got, want);
    }
}

/// What `refile` or `remove` answered: `want`, or true from an adapter that queues.
fn found(search: &dyn Search, got: bool, want: bool) {
    assert_eq!(got, want || search.writes_queued());
}

pub async fn the_same_version_writes_nothing(search: Arc<dyn Search>) {
    let s = search.as_ref();
    let d = corpus().remove(0);
    says(s, search.index(&d).await.expect("index"), Indexed::Written);
    says(
        s,
        search.index(&d).await.expect("again"),
        Indexed::Unchanged,
    );
    let mut explicit = d.clone();
    explicit.version = Some("v7".into());
    says(
        s,
        search.index(&explicit).await.expect("v7"),
        Indexed::Written,
    );
    says(
        s,
        search.index(&explicit).await.expect("v7 again"),
        Indexed::Unchanged,
    );
    search.refresh().await.expect("refresh");
    assert_eq!(ids(search.as_ref(), "infirmary").await, ["d1"]);
}

pub async fn refiling_moves_a_document(search: Arc<dyn Search>) {
    let mut d = doc("u1", "an unfiled letter about a knee operation");
    index_all(search.as_ref(), std::slice::from_ref(&d)).await;
    let filing = Filing {
        case_ref: Some("CNST/25/000001".into()),
        doc_type: Some("correspondence".into()),
        family: Some("general".into()),
    };
    let s = search.as_ref();
    assert!(search.refile("u1", &filing).await.expect("refile"));
    found(
        s,
        search
            .refile("absent", &filing)
            .await
            .expect("refile absent"),
        false,
    );
    search.refresh().await.expect("refresh");
    let on_case = Filters {
        case_ref: Some("CNST/25/000001".into()),
        ..Filters::default()
    };
    let request = SearchRequest::parse("knee")
        .expect("parses")
        .filters(on_case);
    let page = search.query(&request).await.expect("query");
    assert_eq!(page.hits.len(), 1);
    assert_eq!(page.hits[0].filing, filing);
    // Indexing the same text with the new filing writes nothing more; with another
    // filing it changes the filing alone.
    d.filing = filing.clone();
    says(s, search.index(&d).await.expect("same"), Indexed::Unchanged);
    d.filing.case_ref = Some("CNST/25/000002".into());
    says(s, search.index(&d).await.expect("moved"), Indexed::Refiled);
    search.refresh().await.expect("refresh");
    let page = search
        .query(&SearchRequest::parse("knee").expect("parses"))
        .await
        .expect("query");
    assert_eq!(page.hits.len(), 1);
    assert_eq!(
        page.hits[0].filing.case_ref.as_deref(),
        Some("CNST/25/000002")
    );
    search
        .refile("absent", &filing)
        .await
        .expect("refile absent");
    search.refresh().await.expect("refresh");
    assert_eq!(
        search.doc_ids(None, 10).await.expect("ids"),
        ["u1"],
        "refiling an absent document adds none"
    );
}

pub async fn a_new_version_replaces_the_old(search: Arc<dyn Search>) {
    let mut d = doc("v1", "the first reading said hip");
    index_all(search.as_ref(), std::slice::from_ref(&d)).await;
    d.text = "the corrected reading says shoulder".into();
    says(
        search.as_ref(),
        search.index(&d).await.expect("new version"),
        Indexed::Written,
    );
    search.refresh().await.expect("refresh");
    assert!(ids(search.as_ref(), "hip").await.is_empty());
    assert_eq!(ids(search.as_ref(), "shoulder").await, ["v1"]);
    assert_eq!(
        ids(search.as_ref(), "reading").await,
        ["v1"],
        "one entry a document"
    );
}

pub async fn removed_documents_vanish(search: Arc<dyn Search>) {
    index_all(search.as_ref(), &corpus()).await;
    assert!(search.remove("d1").await.expect("remove"));
    found(
        search.as_ref(),
        search.remove("d1").await.expect("remove again"),
        false,
    );
    search.refresh().await.expect("refresh");
    assert_eq!(ids(search.as_ref(), "mri").await, ["d2"]);
    let listed = search.doc_ids(None, 100).await.expect("ids");
    assert_eq!(listed, ["d2", "d3", "d4", "d5", "d6"]);
    assert_eq!(search.doc_ids(Some("d4"), 1).await.expect("after"), ["d5"]);
}

pub async fn pages_are_stable_and_complete(search: Arc<dyn Search>) {
    // 45 documents, many with equal scores: pages of 10 cover each once, best first.
    let docs: Vec<SearchDoc> = (0..45)
        .map(|i| {
            let extra = " orthopaedic".repeat(i % 4);
            doc(
                &format!("p{i:02}"),
                &format!("orthopaedic review number {i}{extra} of the ward"),
            )
        })
        .collect();
    index_all(search.as_ref(), &docs).await;
    let mut request = SearchRequest::parse("orthopaedic")
        .expect("parses")
        .limit(10);
    let mut seen = Vec::new();
    let mut scores = Vec::new();
    let mut pages = 0;
    loop {
        let page = search.query(&request).await.expect("page");
        pages += 1;
        assert!(page.hits.len() <= 10);
        seen.extend(page.hits.iter().map(|h| h.doc_id.clone()));
        scores.extend(page.hits.iter().map(|h| h.score));
        match page.next {
            Some(next) => request = request.after(Some(next)),
            None => break,
        }
        assert!(pages < 10, "pages do not end");
    }
    assert_eq!(pages, 5);
    assert_eq!(seen.len(), 45);
    assert_eq!(set(&seen).len(), 45, "a document twice");
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "not best first: {scores:?}"
    );
    // The same request again gives the same pages.
    let again = search
        .query(
            &SearchRequest::parse("orthopaedic")
                .expect("parses")
                .limit(10),
        )
        .await
        .expect("again");
    assert_eq!(
        again
            .hits
            .iter()
            .map(|h| h.doc_id.clone())
            .collect::<Vec<_>>(),
        seen[..10]
    );
}

pub async fn foreign_cursors_are_refused(search: Arc<dyn Search>) {
    index_all(search.as_ref(), &corpus()).await;
    let first = search
        .query(&SearchRequest::parse("claim").expect("parses").limit(1))
        .await
        .expect("first page");
    let cursor = first.next.expect("more than one page");
    // Another query, or other filters, with this cursor: refused.
    let other = SearchRequest::parse("mri")
        .expect("parses")
        .after(Some(cursor.clone()));
    assert!(matches!(
        search.query(&other).await,
        Err(SearchError::BadCursor)
    ));
    let refiltered = SearchRequest::parse("claim")
        .expect("parses")
        .filters(Filters {
            doc_type: Some("invoice".into()),
            ..Filters::default()
        })
        .after(Some(cursor.clone()));
    assert!(matches!(
        search.query(&refiltered).await,
        Err(SearchError::BadCursor)
    ));
    for forged in ["", "not hex", "7b7d", "00ff", &format!("{}00", cursor.0)] {
        let request = SearchRequest::parse("claim")
            .expect("parses")
            .after(Some(SearchCursor(forged.to_owned())));
        let err = search.query(&request).await.expect_err("a forged cursor");
        assert!(matches!(err, SearchError::BadCursor), "{forged:?}: {err}");
        assert_eq!(err.code(), Code::InvalidRequest);
    }
}

pub async fn snippets_highlight_the_match(search: Arc<dyn Search>) {
    let long = format!(
        "{} The scan on 3 April showed a tear. {}",
        "Opening words of the letter. ".repeat(40),
        "Closing words of the letter. ".repeat(40)
    );
    index_all(search.as_ref(), &[doc("s1", &long), corpus().remove(1)]).await;
    let page = search
        .query(&SearchRequest::parse("tear").expect("parses"))
        .await
        .expect("query");
    let snippet = &page.hits[0].snippet;
    let marked = snippet.marked("[", "]");
    assert!(marked.contains("[tear]"), "{marked}");
    assert!(marked.len() < 400, "a passage, not the text: {marked}");
    // A reference is highlighted as written in the text.
    let page = search
        .query(&SearchRequest::parse("CNST/24/004512").expect("parses"))
        .await
        .expect("query");
    let marked = page.hits[0].snippet.marked("[", "]");
    assert!(marked.contains("[CNST/24/004512]"), "{marked}");
    assert_eq!(
        page.hits[0].filing.case_ref.as_deref(),
        Some("CNST/24/004512")
    );
    assert_eq!(page.hits[0].document_date.as_deref(), Some("2024-05-02"));
    assert_eq!(page.hits[0].title, "d2.txt");
    assert!(page.hits[0].score > 0.0);
}

pub async fn text_is_indexed_up_to_the_limit(search: Arc<dyn Search>) {
    let filler = "lorem ipsum dolor sit amet ".repeat(MAX_INDEXED_TEXT_BYTES / 27 + 10);
    let text = format!("beginningword {filler} endingword");
    assert!(text.len() > MAX_INDEXED_TEXT_BYTES);
    index_all(search.as_ref(), &[doc("big", &text)]).await;
    assert_eq!(ids(search.as_ref(), "beginningword").await, ["big"]);
    assert!(ids(search.as_ref(), "endingword").await.is_empty());
}

pub async fn hostile_queries_are_plain_words(search: Arc<dyn Search>) {
    let mut docs = corpus();
    docs.push(doc(
        "h1",
        "NEAR and NOT and OR appear here as words: col:umn {braces} ^caret",
    ));
    index_all(search.as_ref(), &docs).await;
    for query in [
        "NEAR",
        "NOT",
        "OR",
        "AND",
        "col:umn",
        "{braces}",
        "^caret",
        "near(and or)",
        "title:mri",
        "body : x",
        "'); DROP TABLE docs; x--",
        "\u{E000}mri\u{E001}",
    ] {
        let request = SearchRequest::parse(query).unwrap_or_else(|e| panic!("{query:?}: {e}"));
        if let Err(e) = search.query(&request).await {
            panic!("{query:?} reached the engine as syntax: {e}");
        }
    }
    assert_eq!(ids(search.as_ref(), "NEAR").await, ["h1"]);
    assert_eq!(ids(search.as_ref(), "col:umn").await, ["h1"]);
    // Still there.
    assert_eq!(
        set(&ids(search.as_ref(), "mri").await),
        BTreeSet::from(["d1", "d2"])
    );
}

pub async fn invalid_documents_are_refused(search: Arc<dyn Search>) {
    for bad in [
        doc("", "no id"),
        doc(&"x".repeat(300), "too long an id"),
        doc("a\nb", "a control character"),
        {
            let mut d = doc("dated", "a bad date");
            d.document_date = Some("3 April 2024".into());
            d
        },
    ] {
        let err = search.index(&bad).await.expect_err("refused");
        assert_eq!(err.code(), Code::InvalidRequest, "{err}");
    }
}

#[tokio::test]
async fn without_an_adapter_a_query_says_search_is_not_configured() {
    let search = Unconfigured;
    assert!(!search.configured());
    assert_eq!(
        search.index(&doc("d", "t")).await.expect("skipped"),
        Indexed::Skipped
    );
    let err = search
        .query(&SearchRequest::parse("anything").expect("parses"))
        .await
        .expect_err("not configured");
    assert!(matches!(err, SearchError::NotConfigured));
    assert_eq!(err.code(), Code::ConfigInvalid);
    assert_eq!(err.reason(), "search_not_configured");
}
