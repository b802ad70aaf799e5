//! Search in its deployed shape (scripts/local-stack): a document uploaded to the inbox
//! is filed by the ingest function, whose change to the index goes by the FIFO search
//! queue to the search function (the real binary under cargo-lambda's emulator, its EFS
//! mount a folder), and is then found by a query that `LambdaSearch` sends through
//! Lambda's Invoke API (the emulator's) to the reader function, as the console does.

use std::sync::Arc;
use std::time::{Duration, Instant};

use postroom::store::{AwsSettings, LambdaSearch, S3Blobs, Search as _, SearchRequest};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uploaded_document_is_found_through_the_search_function() {
    // The search reader is named by its binary: cargo-lambda's emulator knows functions
    // so (the local stack gives the console the same).
    let Some(stack) = crate::local_stack::local_stack("local_stack_search") else {
        return;
    };
    let settings = AwsSettings::load_with_endpoint(&stack.endpoint).await;
    let blobs = S3Blobs::new(&settings, &stack.bucket);
    let (s3, _, _) = crate::local_stack::clients(&stack).await;
    let nanos = crate::local_stack::run_id();
    // A word no other document has, and a fictional writer.
    let word = format!("quokkamarmalade{nanos}");
    let email = format!(
        "From: Ada Testperson <ada@example.org>\r\nTo: post@example.org\r\nSubject: A question about parking\r\nDate: Tue, 3 Nov 2026 10:00:00 +0000\r\nMessage-ID: <{nanos}@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nDear team,\r\n\r\nI write about the {word} in the car park at the hospital.\r\n\r\nYours faithfully,\r\nAda Testperson\r\n"
    );
    s3.put_object()
        .bucket(&stack.bucket)
        .key(format!("inbox/search-e2e/{nanos}.eml"))
        .body(email.into_bytes().into())
        .send()
        .await
        .expect("upload");

    let search = LambdaSearch::new(
        &settings,
        &stack.search_queue,
        &stack.search_function,
        Arc::new(blobs),
    )
    .with_lambda_endpoint(&settings, &stack.invoke_url);
    let request = SearchRequest::parse(&word).expect("parses");
    let started = Instant::now();
    let page = loop {
        match search.query(&request).await {
            Ok(page) if !page.hits.is_empty() => break page,
            Ok(_) => {}
            Err(e) => panic!("the search function failed: {e}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the uploaded document was not found by search within 120 s"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(page.hits.len(), 1, "one document has the word");
    let hit = &page.hits[0];
    assert!(
        hit.snippet.marked("[", "]").contains(&format!("[{word}]")),
        "the match is marked: {:?}",
        hit.snippet
    );
    assert_eq!(hit.title, format!("{nanos}.eml"));
    let found_after = started.elapsed();
    // Query latency through the deployed shape: the SDK's Invoke, the emulator, the
    // reader catching up with the writer's commit, the query (a debug build here).
    let mut times = Vec::new();
    for _ in 0..40 {
        let t = Instant::now();
        search.query(&request).await.expect("a query");
        times.push(t.elapsed());
    }
    times.sort();
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "local_stack_search: found {:.1} s after upload (ingest, the search queue, the writer, the reader); 40 queries through Invoke: p50 {:.1} ms, p95 {:.1} ms",
        found_after.as_secs_f64(),
        times[19].as_secs_f64() * 1000.0,
        times[37].as_secs_f64() * 1000.0
    );
    // A word nobody wrote: an empty page, not an error.
    let none = search
        .query(&SearchRequest::parse(&format!("{word}x")).expect("parses"))
        .await
        .expect("a query");
    assert!(none.hits.is_empty());
}
