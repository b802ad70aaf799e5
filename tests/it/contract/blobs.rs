//! The `Blobs` contract: what every object store adapter must do alike.

use std::collections::BTreeSet;
use std::sync::Arc;

use bytes::Bytes;
use postroom::store::{Blobs, Cursor, Pin, PutOptions, StoreError};

fn md5_hex(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    hex::encode(Md5::digest(bytes))
}

/// Deterministic bytes that do not compress away (xorshift).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

async fn all_keys(blobs: &dyn Blobs, prefix: &str, limit: usize) -> (Vec<String>, usize) {
    let mut keys = Vec::new();
    let mut cursor: Option<Cursor> = None;
    let mut pages = 0;
    loop {
        let page = blobs
            .list(prefix, cursor.as_ref(), limit)
            .await
            .expect("list");
        pages += 1;
        assert!(
            page.objects.len() <= limit,
            "a page of {} over the limit {limit}",
            page.objects.len()
        );
        keys.extend(page.objects.into_iter().map(|o| o.key));
        match page.next {
            Some(next) => cursor = Some(next),
            None => return (keys, pages),
        }
        assert!(pages < 10_000, "listing does not end");
    }
}

pub async fn round_trip(blobs: Arc<dyn Blobs>) {
    let body = Bytes::from_static(b"%PDF-1.7\nletter of claim\n");
    let options = PutOptions::content_type("application/pdf")
        .with_meta("source", "inbox/Zoë Łukasz – letter.pdf")
        .with_meta("doc-id", "d-0001");
    let put = blobs
        .put("inbox/claim.pdf", body.clone(), &options)
        .await
        .expect("put");
    assert_eq!(put.size, body.len() as u64);
    assert_eq!(put.etag, md5_hex(&body));

    let got = blobs.get("inbox/claim.pdf").await.expect("get");
    assert_eq!(got.body, body);
    assert_eq!(got.meta.content_type.as_deref(), Some("application/pdf"));
    assert_eq!(got.meta.metadata, options.metadata);
    assert_eq!(got.meta.etag, put.etag);

    let head = blobs.head("inbox/claim.pdf").await.expect("head");
    assert_eq!(head.key, "inbox/claim.pdf");
    assert_eq!(head.size, body.len() as u64);
    assert_eq!(head.etag, put.etag);
    assert_eq!(head.content_type.as_deref(), Some("application/pdf"));
    assert_eq!(head.metadata, options.metadata);

    // Replacing an object replaces bytes, etag and metadata together.
    let body2 = Bytes::from_static(b"second version, longer than the first one");
    let put2 = blobs
        .put(
            "inbox/claim.pdf",
            body2.clone(),
            &PutOptions::content_type("text/plain"),
        )
        .await
        .expect("put again");
    assert_ne!(put2.etag, put.etag);
    let got2 = blobs.get("inbox/claim.pdf").await.expect("get again");
    assert_eq!(got2.body, body2);
    assert_eq!(got2.meta.content_type.as_deref(), Some("text/plain"));
    assert!(got2.meta.metadata.is_empty(), "{:?}", got2.meta.metadata);

    // The same bytes under another key have the same etag (content addressing).
    let copy = blobs
        .put("elsewhere/x", body2, &PutOptions::default())
        .await
        .expect("put");
    assert_eq!(copy.etag, put2.etag);
}

pub async fn replacing_drops_old_metadata(blobs: Arc<dyn Blobs>) {
    let with_meta = PutOptions::content_type("application/pdf").with_meta("doc-id", "d-1");
    blobs
        .put("r/letter.pdf", Bytes::from_static(b"one"), &with_meta)
        .await
        .expect("put");
    let plain = PutOptions::content_type("application/pdf");
    blobs
        .put("r/letter.pdf", Bytes::from_static(b"two!"), &plain)
        .await
        .expect("put again");
    let head = blobs.head("r/letter.pdf").await.expect("head");
    assert!(head.metadata.is_empty(), "{:?}", head.metadata);
    assert_eq!(head.content_type.as_deref(), Some("application/pdf"));
    assert_eq!(
        (head.size, head.etag.as_str()),
        (4, md5_hex(b"two!").as_str())
    );
    let text = PutOptions::content_type("text/plain; charset=utf-8").reproducible();
    blobs
        .put("r/t.txt", Bytes::from_static(b"text"), &text)
        .await
        .expect("put text");
    assert_eq!(
        blobs
            .get("r/t.txt")
            .await
            .expect("get")
            .meta
            .content_type
            .as_deref(),
        Some("text/plain; charset=utf-8")
    );
}

/// A put that brings the body's MD5 (S3 checks it; the folder trusts it) stores the same
/// object, and a replacement by plain put is seen at once (no ETag kept from before).
pub async fn put_with_the_callers_md5(blobs: Arc<dyn Blobs>) {
    let body = Bytes::from_static(b"%PDF-1.7 a letter of claim");
    let options = PutOptions::content_type("application/pdf").with_content_md5(md5_hex(&body));
    let put = blobs
        .put("inbox/claim.pdf", body.clone(), &options)
        .await
        .expect("put");
    assert_eq!(put.etag, md5_hex(&body));
    assert_eq!(
        blobs.head("inbox/claim.pdf").await.expect("head").etag,
        put.etag
    );
    let got = blobs.get("inbox/claim.pdf").await.expect("get");
    assert_eq!((got.meta.etag, got.body), (put.etag.clone(), body));
    let other = Bytes::from_static(b"%PDF-1.7 a letter of claiM");
    blobs
        .put(
            "inbox/claim.pdf",
            other.clone(),
            &PutOptions::content_type("application/pdf"),
        )
        .await
        .expect("put again");
    assert_eq!(
        blobs.head("inbox/claim.pdf").await.expect("head").etag,
        md5_hex(&other)
    );
    assert_eq!(
        blobs.get("inbox/claim.pdf").await.expect("get").meta.etag,
        md5_hex(&other)
    );
}

pub async fn empty_object(blobs: Arc<dyn Blobs>) {
    blobs
        .put("empty", Bytes::new(), &PutOptions::default())
        .await
        .expect("put");
    let got = blobs.get("empty").await.expect("get");
    assert!(got.body.is_empty());
    assert_eq!(blobs.head("empty").await.expect("head").size, 0);
}

pub async fn odd_keys(blobs: Arc<dyn Blobs>) {
    let long = format!("inbox/{}", "k".repeat(994));
    assert_eq!(long.len(), 1000);
    let keys = [
        "inbox/with space.pdf".to_owned(),
        "inbox/plus+sign.pdf".to_owned(),
        "inbox/percent%20encoded.pdf".to_owned(),
        "inbox/hash#1.pdf".to_owned(),
        "inbox/Zoë Łukasz/Nguyễn Siobhán.docx".to_owned(),
        "inbox/double//slash".to_owned(),
        "inbox/.hidden".to_owned(),
        "inbox/ключ 鍵 ✉.eml".to_owned(),
        "inbox/quote'\"&?=;,:@$!*()[]{}.txt".to_owned(),
        long,
    ];
    for (i, key) in keys.iter().enumerate() {
        let body = Bytes::from(format!("object {i}"));
        blobs
            .put(key, body.clone(), &PutOptions::default())
            .await
            .unwrap_or_else(|e| panic!("put {key:?}: {e}"));
        assert_eq!(
            blobs
                .get(key)
                .await
                .unwrap_or_else(|e| panic!("get {key:?}: {e}"))
                .body,
            body
        );
        assert_eq!(blobs.head(key).await.expect("head").key, *key);
    }
    let (listed, _) = all_keys(&*blobs, "inbox/", 1000).await;
    let mut expected: Vec<String> = keys.to_vec();
    expected.sort();
    assert_eq!(
        listed, expected,
        "listing returns every odd key, in byte order"
    );
    // A copy between odd keys, and a delete.
    blobs
        .copy(&keys[3], None, &keys[4].replace("docx", "copy"))
        .await
        .expect("copy odd key");
    blobs.delete(&keys[0]).await.expect("delete odd key");
    assert!(matches!(
        blobs.head(&keys[0]).await,
        Err(StoreError::NotFound { .. })
    ));
}

pub async fn missing_objects(blobs: Arc<dyn Blobs>) {
    assert!(matches!(
        blobs.get("nope/missing.pdf").await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        blobs.head("nope/missing.pdf").await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        blobs.copy("nope/missing.pdf", None, "nope/x").await,
        Err(StoreError::NotFound { .. })
    ));
    blobs
        .delete("nope/missing.pdf")
        .await
        .expect("deleting a missing object succeeds");
    let page = blobs.list("nope/", None, 10).await.expect("list");
    assert!(page.objects.is_empty() && page.next.is_none());
}

pub async fn listing_pages(blobs: Arc<dyn Blobs>) {
    let mut expected = Vec::new();
    for i in 0..25 {
        let key = format!("p/doc-{i:03}.txt");
        blobs
            .put(&key, Bytes::from(vec![b'x'; i]), &PutOptions::default())
            .await
            .expect("put");
        expected.push(key);
    }
    for i in 0..3 {
        blobs
            .put(
                &format!("q/other-{i}"),
                Bytes::from_static(b"q"),
                &PutOptions::default(),
            )
            .await
            .expect("put");
    }
    let (keys, pages) = all_keys(&*blobs, "p/", 10).await;
    assert_eq!(keys, expected);
    assert!(pages >= 3, "25 keys at 10 a page took {pages} pages");
    let first = blobs.list("p/", None, 10).await.expect("list");
    assert_eq!(first.objects[3].size, 3, "listing reports sizes");
    assert_eq!(first.objects[3].etag, md5_hex(b"xxx"));
}

pub async fn listing_prefixes(blobs: Arc<dyn Blobs>) {
    for key in ["a/b/c1", "a/b/c2", "a/bc", "a/b2/x", "ab/c"] {
        blobs
            .put(key, Bytes::from_static(b"1"), &PutOptions::default())
            .await
            .expect("put");
    }
    let keys = |prefix: &'static str| {
        let blobs = Arc::clone(&blobs);
        async move { all_keys(&*blobs, prefix, 1000).await.0 }
    };
    assert_eq!(keys("a/b/").await, ["a/b/c1", "a/b/c2"]);
    assert_eq!(keys("a/b").await, ["a/b/c1", "a/b/c2", "a/b2/x", "a/bc"]);
    assert_eq!(keys("a/").await.len(), 4);
    assert_eq!(keys("a").await.len(), 5);
    assert_eq!(keys("").await.len(), 5);
    assert!(keys("zzz").await.is_empty());
}

pub async fn copy_keeps_metadata(blobs: Arc<dyn Blobs>) {
    let options =
        PutOptions::content_type("message/rfc822").with_meta("received", "2024-03-05T09:30:00Z");
    let put = blobs
        .put(
            "inbox/request.eml",
            Bytes::from_static(b"Subject: FOI\r\n\r\nhello"),
            &options,
        )
        .await
        .expect("put");
    blobs
        .copy("inbox/request.eml", None, "quarantine/request.eml")
        .await
        .expect("copy");
    let copied = blobs.head("quarantine/request.eml").await.expect("head");
    assert_eq!(copied.etag, put.etag);
    assert_eq!(copied.content_type.as_deref(), Some("message/rfc822"));
    assert_eq!(copied.metadata, options.metadata);
    assert_eq!(
        blobs.get("quarantine/request.eml").await.expect("get").body,
        Bytes::from_static(b"Subject: FOI\r\n\r\nhello")
    );
    assert!(
        blobs.head("inbox/request.eml").await.is_ok(),
        "the source stays"
    );
}

pub async fn delete_removes(blobs: Arc<dyn Blobs>) {
    blobs
        .put("t/one", Bytes::from_static(b"1"), &PutOptions::default())
        .await
        .expect("put");
    blobs
        .put("t/two", Bytes::from_static(b"2"), &PutOptions::default())
        .await
        .expect("put");
    blobs.delete("t/one").await.expect("delete");
    assert!(matches!(
        blobs.get("t/one").await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(all_keys(&*blobs, "t/", 100).await.0, ["t/two"]);
    blobs.delete("t/two").await.expect("delete");
    assert!(all_keys(&*blobs, "t/", 100).await.0.is_empty());
    // A key can be written again after its folder was tidied away.
    blobs
        .put(
            "t/one",
            Bytes::from_static(b"again"),
            &PutOptions::default(),
        )
        .await
        .expect("put");
    assert_eq!(
        blobs.get("t/one").await.expect("get").body,
        Bytes::from_static(b"again")
    );
}

pub async fn large_object(blobs: Arc<dyn Blobs>) {
    let body = Bytes::from(noise(50 * 1024 * 1024, 7));
    let etag = md5_hex(&body);
    let put = blobs
        .put(
            "big/scan.pdf",
            body.clone(),
            &PutOptions::content_type("application/pdf"),
        )
        .await
        .expect("put 50 MB");
    assert_eq!(put.etag, etag);
    assert_eq!(
        blobs.head("big/scan.pdf").await.expect("head").size,
        body.len() as u64
    );
    let got = blobs.get("big/scan.pdf").await.expect("get 50 MB");
    assert_eq!(got.body.len(), body.len());
    assert!(got.body == body, "50 MB come back unchanged");
}

pub async fn key_limits(blobs: Arc<dyn Blobs>) {
    let put = |key: String| {
        let blobs = Arc::clone(&blobs);
        async move {
            blobs
                .put(&key, Bytes::from_static(b"x"), &PutOptions::default())
                .await
        }
    };
    assert!(matches!(
        put(String::new()).await,
        Err(StoreError::Invalid { .. })
    ));
    assert!(matches!(
        put("k".repeat(1025)).await,
        Err(StoreError::TooLarge { .. })
    ));
    put("k".repeat(1024))
        .await
        .expect("a 1,024-byte key is allowed");
    let bad_meta = PutOptions::default().with_meta("Upper Case", "x");
    assert!(matches!(
        blobs.put("m", Bytes::from_static(b"x"), &bad_meta).await,
        Err(StoreError::Invalid { .. })
    ));
    assert!(
        matches!(blobs.head("m").await, Err(StoreError::NotFound { .. })),
        "a refused put writes nothing"
    );
}

pub async fn concurrent_puts_are_atomic(blobs: Arc<dyn Blobs>) {
    let bodies: Vec<Bytes> = (0..8)
        .map(|i| Bytes::from(noise(256 * 1024 + i * 1000, i as u64 + 1)))
        .collect();
    let tasks: Vec<_> = bodies
        .iter()
        .cloned()
        .map(|body| {
            let blobs = Arc::clone(&blobs);
            tokio::spawn(async move {
                blobs
                    .put("race/doc.pdf", body, &PutOptions::default())
                    .await
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task").expect("put");
    }
    let got = blobs.get("race/doc.pdf").await.expect("get");
    assert!(
        bodies.contains(&got.body),
        "the object is one writer's bytes, whole"
    );
    assert_eq!(got.meta.etag, md5_hex(&got.body));
    let (keys, _) = all_keys(&*blobs, "race/", 100).await;
    assert_eq!(
        keys.into_iter().collect::<BTreeSet<_>>(),
        BTreeSet::from(["race/doc.pdf".to_owned()])
    );
}

/// Two uploads to one key in quick succession are two states: a read, copy or delete
/// pinned to the first never touches the second (a version where the store keeps them;
/// else the first's ETag finds nothing once the key holds the second's bytes).
pub async fn pinned_states(blobs: Arc<dyn Blobs>) {
    let key = "inbox/scan.pdf";
    let put = |body: &'static [u8]| {
        let blobs = blobs.clone();
        async move {
            let meta = blobs
                .put(key, Bytes::from_static(body), &PutOptions::default())
                .await
                .expect("put");
            Pin::of(meta.version.as_deref(), Some(&meta.etag)).expect("a pin")
        }
    };
    let first = put(b"letter A: from Ms Ada Example").await;
    let second = put(b"letter B: from Mr Ben Sample").await;
    let versioned = matches!(first, Pin::Version(_));

    let b = blobs
        .get_pinned(key, &second)
        .await
        .expect("the current state");
    assert_eq!(b.body, Bytes::from_static(b"letter B: from Mr Ben Sample"));
    assert!(second.matches(&blobs.head_pinned(key, &second).await.expect("head")));
    match blobs.get_pinned(key, &first).await {
        Ok(a) if versioned => {
            assert_eq!(a.body, Bytes::from_static(b"letter A: from Ms Ada Example"));
        }
        Err(StoreError::NotFound { .. }) if !versioned => {}
        other => panic!("the first state (versioned: {versioned}): {other:?}"),
    }

    // A copy of the first state is the first bytes, or nothing at all.
    let copied = blobs.copy(key, Some(&first), "quarantine/scan.pdf").await;
    if versioned {
        copied.expect("copy of a version");
        assert_eq!(
            blobs.get("quarantine/scan.pdf").await.expect("copy").body,
            Bytes::from_static(b"letter A: from Ms Ada Example")
        );
    } else {
        assert!(
            matches!(copied, Err(StoreError::NotFound { .. })),
            "copy of overwritten bytes: {copied:?}"
        );
    }

    // Deleting the first state leaves the second where it is.
    blobs
        .delete_pinned(key, &first)
        .await
        .expect("delete first");
    assert_eq!(
        blobs.get(key).await.expect("the later upload stays").body,
        Bytes::from_static(b"letter B: from Mr Ben Sample")
    );
    blobs
        .delete_pinned(key, &second)
        .await
        .expect("delete second");
    assert!(matches!(
        blobs.get(key).await,
        Err(StoreError::NotFound { .. })
    ));
    blobs
        .delete_pinned(key, &second)
        .await
        .expect("deleting a state that is gone succeeds");
    assert!(matches!(
        blobs.head_pinned(key, &second).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        blobs
            .get_pinned(
                key,
                &Pin::Version("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY".into())
            )
            .await,
        Err(StoreError::NotFound { .. })
    ));
}
