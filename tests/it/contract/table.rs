//! The `Table` contract: what every single-table adapter must do alike.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use postroom::store::{Condition, Cursor, Item, Key, Page, Query, StoreError, Table, TxOp, Update};
use serde_json::{Value, json};

fn item(value: Value) -> Item {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn doc(pk: &str, sk: &str) -> Item {
    item(json!({"PK": pk, "SK": sk, "version": 1}))
}

fn sks(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["SK"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn put_all(table: &dyn Table, items: Vec<Item>) {
    for chunk in items.chunks(100) {
        let ops = chunk
            .iter()
            .cloned()
            .map(|item| TxOp::Put {
                item,
                condition: Condition::None,
            })
            .collect();
        table.transact(ops).await.expect("write a batch");
    }
}

/// Follows `next` to the end, returning the pages.
async fn pages(
    mut fetch: impl FnMut(
        Option<Cursor>,
    ) -> futures::future::BoxFuture<'static, Result<Page, StoreError>>,
) -> Vec<Page> {
    let mut out: Vec<Page> = Vec::new();
    let mut cursor = None;
    loop {
        let page = fetch(cursor).await.expect("page");
        cursor = page.next.clone();
        out.push(page);
        if cursor.is_none() {
            return out;
        }
        assert!(out.len() < 10_000, "paging does not end");
    }
}

pub async fn round_trip(table: Arc<dyn Table>) {
    let original = item(json!({
        "PK": "DOC#d-1", "SK": "META", "version": 1,
        "title": "Letter of claim — Zoë Łukasz, Nguyễn Siobhán",
        "pages": 12, "confidence": 0.875, "negative": -42, "big": 9_007_199_254_740_993_u64,
        "filed": true, "case_ref": null, "empty": "",
        "references": {"claim": ["CNST/24/004512"], "court": [], "nested": {"deep": [1, "two", false]}},
    }));
    table
        .put(original.clone(), Condition::None)
        .await
        .expect("put");
    let got = table
        .get(&Key::new("DOC#d-1", "META"))
        .await
        .expect("get")
        .expect("present");
    assert_eq!(got, original, "every JSON type comes back as written");
    assert_eq!(
        table.get(&Key::new("DOC#d-1", "OTHER")).await.expect("get"),
        None
    );
    assert_eq!(
        table.get(&Key::new("DOC#d-2", "META")).await.expect("get"),
        None
    );
}

pub async fn odd_keys(table: Arc<dyn Table>) {
    let pk = "CASE#CNST/24/004512";
    let long_sk = format!("DOC#{}", "é".repeat(500));
    assert_eq!(long_sk.len(), 1004);
    let sks_written = [
        "DOC#2024-01-05#a b+c%20#d".to_owned(),
        "DOC#2024-01-05#ключ 鍵".to_owned(),
        "DOC#2024-01-06#\"quoted\" 'x' \\ / ?".to_owned(),
        long_sk,
    ];
    for sk in &sks_written {
        table
            .put(doc(pk, sk), Condition::Absent)
            .await
            .unwrap_or_else(|e| panic!("put {sk:?}: {e}"));
        assert!(
            table.get(&Key::new(pk, sk)).await.expect("get").is_some(),
            "{sk:?}"
        );
    }
    let found = table
        .query_all(&Query::new(pk).prefix("DOC#2024-01-05#"))
        .await
        .expect("query");
    assert_eq!(
        sks(&found),
        ["DOC#2024-01-05#a b+c%20#d", "DOC#2024-01-05#ключ 鍵"]
    );
    let all = table
        .query_all(&Query::new(pk).prefix("DOC#"))
        .await
        .expect("query");
    let mut expected = sks_written.to_vec();
    expected.sort();
    assert_eq!(sks(&all), expected, "sort keys in UTF-8 byte order");
    let empty_key = table
        .put(item(json!({"PK": "", "SK": "x"})), Condition::None)
        .await;
    assert!(
        matches!(empty_key, Err(StoreError::Invalid { .. })),
        "{empty_key:?}"
    );
    let no_sk = table.put(item(json!({"PK": "p"})), Condition::None).await;
    assert!(
        matches!(no_sk, Err(StoreError::Invalid { .. })),
        "{no_sk:?}"
    );
}

pub async fn conditions(table: Arc<dyn Table>) {
    let key = Key::new("CASE#FOI_6405", "META");
    let v1 = item(json!({"PK": "CASE#FOI_6405", "SK": "META", "version": 1, "status": "received"}));
    table
        .put(v1.clone(), Condition::Absent)
        .await
        .expect("create");
    let again = table.put(v1.clone(), Condition::Absent).await;
    assert!(
        matches!(again, Err(StoreError::ConditionFailed { .. })),
        "{again:?}"
    );

    let v2 =
        item(json!({"PK": "CASE#FOI_6405", "SK": "META", "version": 2, "status": "acknowledged"}));
    table
        .put(v2.clone(), Condition::VersionEquals(1))
        .await
        .expect("version 1 -> 2");
    let stale = table.put(v1.clone(), Condition::VersionEquals(1)).await;
    assert!(
        matches!(stale, Err(StoreError::ConditionFailed { .. })),
        "{stale:?}"
    );
    assert_eq!(
        table.get(&key).await.expect("get"),
        Some(v2.clone()),
        "a failed write changes nothing"
    );

    let missing = table
        .put(doc("CASE#FOI_9999", "META"), Condition::Exists)
        .await;
    assert!(
        matches!(missing, Err(StoreError::ConditionFailed { .. })),
        "{missing:?}"
    );
    assert_eq!(
        table
            .get(&Key::new("CASE#FOI_9999", "META"))
            .await
            .expect("get"),
        None
    );
    let missing_version = table
        .put(doc("CASE#FOI_9998", "META"), Condition::VersionEquals(0))
        .await;
    assert!(matches!(
        missing_version,
        Err(StoreError::ConditionFailed { .. })
    ));

    let wrong = table.delete(&key, Condition::VersionEquals(1)).await;
    assert!(
        matches!(wrong, Err(StoreError::ConditionFailed { .. })),
        "{wrong:?}"
    );
    table
        .delete(&key, Condition::VersionEquals(2))
        .await
        .expect("delete at version 2");
    assert_eq!(table.get(&key).await.expect("get"), None);
    table
        .delete(&key, Condition::None)
        .await
        .expect("deleting an absent item succeeds");
    let gone = table.delete(&key, Condition::Exists).await;
    assert!(matches!(gone, Err(StoreError::ConditionFailed { .. })));
}

pub async fn updates(table: Arc<dyn Table>) {
    let key = Key::new("CASE#CNST/24/004512", "META");
    let created = table
        .update(
            Update::new(key.clone())
                .set("status", "open")
                .set("version", 1)
                .when(Condition::Absent),
        )
        .await
        .expect("update creates when absent");
    assert_eq!(
        created,
        item(json!({"PK": key.pk, "SK": "META", "status": "open", "version": 1}))
    );

    let updated = table
        .update(
            Update::new(key.clone())
                .set("status", "closed")
                .set("version", 2)
                .set("outcome", json!({"damages": 12500.5}))
                .when(Condition::VersionEquals(1)),
        )
        .await
        .expect("update at version 1");
    assert_eq!(updated["status"], "closed");
    assert_eq!(updated["outcome"]["damages"], 12500.5);
    assert_eq!(table.get(&key).await.expect("get"), Some(updated.clone()));

    let stale = table
        .update(
            Update::new(key.clone())
                .set("status", "x")
                .when(Condition::VersionEquals(1)),
        )
        .await;
    assert!(
        matches!(stale, Err(StoreError::ConditionFailed { .. })),
        "{stale:?}"
    );

    let removed = table
        .update(
            Update::new(key.clone())
                .remove("outcome")
                .when(Condition::Exists),
        )
        .await
        .expect("remove");
    assert!(!removed.contains_key("outcome"));
    assert_eq!(removed["status"], "closed");

    let absent = table
        .update(
            Update::new(Key::new("CASE#X", "META"))
                .set("a", 1)
                .when(Condition::Exists),
        )
        .await;
    assert!(
        matches!(absent, Err(StoreError::ConditionFailed { .. })),
        "{absent:?}"
    );
    assert_eq!(
        table.get(&Key::new("CASE#X", "META")).await.expect("get"),
        None
    );

    let rekey = table
        .update(Update::new(key.clone()).set("PK", "CASE#other"))
        .await;
    assert!(
        matches!(rekey, Err(StoreError::Invalid { .. })),
        "{rekey:?}"
    );
}

pub async fn racing_creates_one_wins(table: Arc<dyn Table>) {
    for round in 0..3 {
        let pk = format!("DOC#race-{round}");
        let tasks: Vec<_> = (0..8)
            .map(|writer| {
                let table = Arc::clone(&table);
                let mut it = doc(&pk, "META");
                it.insert("writer".into(), json!(writer));
                tokio::spawn(async move { table.put(it, Condition::Absent).await })
            })
            .collect();
        let mut wins = 0;
        for task in tasks {
            match task.await.expect("task") {
                Ok(()) => wins += 1,
                Err(StoreError::ConditionFailed { .. }) => {}
                Err(e) => panic!("unexpected error: {e}"),
            }
        }
        assert_eq!(wins, 1, "exactly one of eight racing creates wins");
    }
}

pub async fn racing_version_updates_one_wins(table: Arc<dyn Table>) {
    let key = Key::new("CASE#SHA/23456", "META");
    table
        .put(doc(&key.pk, &key.sk), Condition::Absent)
        .await
        .expect("create");
    let tasks: Vec<_> = (0..8)
        .map(|writer| {
            let table = Arc::clone(&table);
            let update = Update::new(key.clone())
                .set("version", 2)
                .set("writer", writer)
                .when(Condition::VersionEquals(1));
            tokio::spawn(async move { table.update(update).await })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.expect("task") {
            Ok(item) => winners.push(item["writer"].clone()),
            Err(StoreError::ConditionFailed { .. }) => {}
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one optimistic update wins");
    let stored = table.get(&key).await.expect("get").expect("present");
    assert_eq!(stored["writer"], winners[0]);
}

pub async fn query_order_and_prefix(table: Arc<dyn Table>) {
    let pk = "CASE#CNST/24/004512";
    let mut items = vec![
        doc(pk, "META"),
        doc(pk, "LETTER#l-1"),
        doc(pk, "EVENT#2024-02-01T10:00:00Z#0001"),
    ];
    for day in [9, 3, 1, 7, 5] {
        items.push(doc(pk, &format!("DOC#2024-01-0{day}#d-{day}")));
    }
    items.push(doc("CASE#CNST/24/004513", "DOC#2024-01-02#other"));
    items.push(doc("CASE#CNST/24/00451", "DOC#2024-01-02#prefix-of-pk"));
    put_all(&*table, items).await;

    let asc = table
        .query_all(&Query::new(pk).prefix("DOC#"))
        .await
        .expect("query");
    assert_eq!(
        sks(&asc),
        [
            "DOC#2024-01-01#d-1",
            "DOC#2024-01-03#d-3",
            "DOC#2024-01-05#d-5",
            "DOC#2024-01-07#d-7",
            "DOC#2024-01-09#d-9"
        ]
    );
    let desc = table
        .query_all(&Query::new(pk).prefix("DOC#").descending())
        .await
        .expect("query");
    let mut reversed = sks(&asc);
    reversed.reverse();
    assert_eq!(sks(&desc), reversed);
    let everything = table.query_all(&Query::new(pk)).await.expect("query");
    assert_eq!(everything.len(), 8, "the whole partition, and only it");
    assert_eq!(sks(&everything)[0], "DOC#2024-01-01#d-1");
    assert_eq!(sks(&everything)[7], "META");
    let none = table
        .query_all(&Query::new(pk).prefix("NOPE#"))
        .await
        .expect("query");
    assert!(none.is_empty());
    let missing = table
        .query_all(&Query::new("CASE#none"))
        .await
        .expect("query");
    assert!(missing.is_empty());
    // Everything but the events: the keys before them and from just after them.
    let before = table
        .query_all(&Query::new(pk).before("EVENT#"))
        .await
        .expect("query");
    assert_eq!(sks(&before).len(), 5, "{:?}", sks(&before));
    assert!(sks(&before).iter().all(|k| k.starts_with("DOC#")));
    let after = table
        .query_all(&Query::new(pk).from("EVENT$").descending())
        .await
        .expect("query");
    assert_eq!(sks(&after), ["META", "LETTER#l-1"]);
    let both = table
        .query(&Query::new(pk).prefix("DOC#").before("E"))
        .await
        .expect_err("two conditions on the sort key");
    assert!(matches!(both, StoreError::Invalid { .. }), "{both}");
}

pub async fn query_pages_by_limit(table: Arc<dyn Table>) {
    let pk = "INBOX#UNFILED";
    let expected: Vec<String> = (0..25)
        .map(|i| format!("2024-03-{:02}T09:00:00Z#d-{i}", i + 1))
        .collect();
    put_all(&*table, expected.iter().map(|sk| doc(pk, sk)).collect()).await;
    for descending in [false, true] {
        let t = Arc::clone(&table);
        let got = pages(move |cursor| {
            let t = Arc::clone(&t);
            let mut q = Query::new(pk).limit(10).after(cursor);
            q.descending = descending;
            Box::pin(async move { t.query(&q).await })
        })
        .await;
        assert!(
            got.len() >= 3,
            "25 items at 10 a page took {} pages",
            got.len()
        );
        assert!(got.iter().all(|p| p.items.len() <= 10));
        let mut want = expected.clone();
        if descending {
            want.reverse();
        }
        let all: Vec<Item> = got.into_iter().flat_map(|p| p.items).collect();
        assert_eq!(sks(&all), want);
    }
}

pub async fn query_pages_over_one_megabyte(table: Arc<dyn Table>) {
    let pk = "CASE#ELS/19/000342";
    let filler = "x".repeat(4000);
    let items: Vec<Item> = (0..300)
        .map(|i| item(json!({"PK": pk, "SK": format!("DOC#{i:04}"), "text": filler})))
        .collect();
    put_all(&*table, items).await;
    let t = Arc::clone(&table);
    let got = pages(move |cursor| {
        let t = Arc::clone(&t);
        let q = Query::new(pk).prefix("DOC#").after(cursor);
        Box::pin(async move { t.query(&q).await })
    })
    .await;
    assert!(
        got.len() >= 2,
        "1.2 MB of items came in {} page(s); pages stop at 1 MB",
        got.len()
    );
    let all: Vec<Item> = got.into_iter().flat_map(|p| p.items).collect();
    let want: Vec<String> = (0..300).map(|i| format!("DOC#{i:04}")).collect();
    assert_eq!(sks(&all), want, "every item once, in order, across pages");
}

pub async fn gsi1_queries(table: Arc<dyn Table>) {
    let mut items = Vec::new();
    for (i, due) in ["2024-05-20", "2024-04-02", "2024-06-11", "2025-01-03"]
        .iter()
        .enumerate()
    {
        items.push(item(json!({
            "PK": format!("CASE#FOI_64{i:02}"), "SK": "META", "GSI1PK": "FOI#in_progress", "GSI1SK": due,
        })));
    }
    items.push(item(json!({"PK": "CASE#FOI_7000", "SK": "META", "GSI1PK": "FOI#closed", "GSI1SK": "2024-01-01"})));
    items.push(doc("CASE#FOI_7001", "META"));
    put_all(&*table, items).await;

    let open = table.query_all(&Query::new("FOI#in_progress")).await;
    let all = match open {
        Ok(items) => items,
        Err(e) => panic!("query_all on the table (not the index) failed: {e}"),
    };
    assert!(
        all.is_empty(),
        "the base table has no partition FOI#in_progress"
    );

    let mut due = Vec::new();
    let mut cursor = None;
    loop {
        let page = table
            .query_gsi1(
                &Query::new("FOI#in_progress")
                    .prefix("2024-")
                    .limit(2)
                    .after(cursor),
            )
            .await
            .expect("query GSI1");
        assert!(page.items.len() <= 2);
        due.extend(
            page.items
                .iter()
                .map(|i| i["GSI1SK"].as_str().unwrap_or_default().to_owned()),
        );
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(due, ["2024-04-02", "2024-05-20", "2024-06-11"]);
    let newest = table
        .query_gsi1(&Query::new("FOI#in_progress").descending().limit(1))
        .await
        .expect("query GSI1");
    assert_eq!(newest.items[0]["PK"], "CASE#FOI_6403");
    let closed = table
        .query_gsi1(&Query::new("FOI#closed"))
        .await
        .expect("query GSI1");
    assert_eq!(closed.items.len(), 1);
    let bad = table
        .put(
            item(json!({"PK": "p", "SK": "s", "GSI1PK": 5})),
            Condition::None,
        )
        .await;
    assert!(matches!(bad, Err(StoreError::Invalid { .. })), "{bad:?}");
}

pub async fn scan_segments_cover_everything(table: Arc<dyn Table>) {
    let mut written = BTreeSet::new();
    let mut items = Vec::new();
    for p in 0..20 {
        for s in 0..6 {
            let key = (format!("DOC#scan-{p}"), format!("S#{s}"));
            items.push(doc(&key.0, &key.1));
            written.insert(key);
        }
    }
    put_all(&*table, items).await;
    let total = 4;
    let mut seen = BTreeSet::new();
    let mut segment_of: BTreeMap<String, u32> = BTreeMap::new();
    for segment in 0..total {
        let mut cursor: Option<Cursor> = None;
        loop {
            let page = table
                .scan(segment, total, cursor.as_ref())
                .await
                .expect("scan");
            for it in &page.items {
                let key = (
                    it["PK"].as_str().unwrap_or_default().to_owned(),
                    it["SK"].as_str().unwrap_or_default().to_owned(),
                );
                assert!(seen.insert(key.clone()), "{key:?} seen twice");
                let first = *segment_of.entry(key.0.clone()).or_insert(segment);
                assert_eq!(first, segment, "a partition stays in one segment");
            }
            cursor = page.next;
            if cursor.is_none() {
                break;
            }
        }
    }
    assert_eq!(
        seen, written,
        "the segments together hold every item exactly once"
    );
    assert!(matches!(
        table.scan(4, 4, None).await,
        Err(StoreError::Invalid { .. })
    ));
}

pub async fn transaction_commits_all(table: Arc<dyn Table>) {
    let case = Key::new("CASE#CNST/24/004512", "META");
    table
        .put(
            item(json!({"PK": case.pk, "SK": "META", "version": 3, "documents": 0})),
            Condition::None,
        )
        .await
        .expect("case");
    table
        .put(doc("INBOX#UNFILED", "2024-03-01#d-9"), Condition::None)
        .await
        .expect("inbox");
    table
        .transact(vec![
            TxOp::Put {
                item: doc("DOC#d-9", "META"),
                condition: Condition::Absent,
            },
            TxOp::Put {
                item: doc(&case.pk, "DOC#2024-03-01#d-9"),
                condition: Condition::Absent,
            },
            TxOp::Update(
                Update::new(case.clone())
                    .set("documents", 1)
                    .set("version", 4)
                    .when(Condition::VersionEquals(3)),
            ),
            TxOp::Delete {
                key: Key::new("INBOX#UNFILED", "2024-03-01#d-9"),
                condition: Condition::Exists,
            },
            TxOp::Check {
                key: Key::new("DOC#d-0", "META"),
                condition: Condition::Absent,
            },
        ])
        .await
        .expect("transaction");
    assert!(
        table
            .get(&Key::new("DOC#d-9", "META"))
            .await
            .expect("get")
            .is_some()
    );
    assert!(
        table
            .get(&Key::new(&case.pk, "DOC#2024-03-01#d-9"))
            .await
            .expect("get")
            .is_some()
    );
    assert_eq!(
        table.get(&case).await.expect("get").expect("case")["version"],
        4
    );
    assert_eq!(
        table
            .get(&Key::new("INBOX#UNFILED", "2024-03-01#d-9"))
            .await
            .expect("get"),
        None
    );
}

pub async fn transaction_rolls_back_on_one_failed_condition(table: Arc<dyn Table>) {
    table
        .put(doc("CASE#FOI_6405", "META"), Condition::None)
        .await
        .expect("case");
    let before = table
        .get(&Key::new("CASE#FOI_6405", "META"))
        .await
        .expect("get");
    let result = table
        .transact(vec![
            TxOp::Put {
                item: doc("DOC#a", "META"),
                condition: Condition::Absent,
            },
            TxOp::Update(Update::new(Key::new("CASE#FOI_6405", "META")).set("status", "changed")),
            TxOp::Put {
                item: doc("DOC#b", "META"),
                condition: Condition::None,
            },
            TxOp::Check {
                key: Key::new("CASE#FOI_6405", "EVENT#x"),
                condition: Condition::Exists,
            },
        ])
        .await;
    match result {
        Err(StoreError::ConditionFailed { what }) => assert!(
            what.contains("operation 3"),
            "names the failed operation: {what}"
        ),
        other => panic!("expected ConditionFailed, got {other:?}"),
    }
    assert_eq!(
        table.get(&Key::new("DOC#a", "META")).await.expect("get"),
        None,
        "rolled back"
    );
    assert_eq!(
        table.get(&Key::new("DOC#b", "META")).await.expect("get"),
        None,
        "rolled back"
    );
    assert_eq!(
        table
            .get(&Key::new("CASE#FOI_6405", "META"))
            .await
            .expect("get"),
        before,
        "rolled back"
    );
}

pub async fn transaction_limits(table: Arc<dyn Table>) {
    let hundred: Vec<TxOp> = (0..100)
        .map(|i| TxOp::Put {
            item: doc(&format!("DOC#t{i}"), "META"),
            condition: Condition::Absent,
        })
        .collect();
    table
        .transact(hundred)
        .await
        .expect("100 operations are allowed");
    let over: Vec<TxOp> = (0..101)
        .map(|i| TxOp::Put {
            item: doc(&format!("DOC#u{i}"), "META"),
            condition: Condition::None,
        })
        .collect();
    assert!(matches!(
        table.transact(over).await,
        Err(StoreError::TooLarge { .. })
    ));
    assert_eq!(
        table.get(&Key::new("DOC#u0", "META")).await.expect("get"),
        None
    );
    let twice = table
        .transact(vec![
            TxOp::Put {
                item: doc("DOC#v", "META"),
                condition: Condition::None,
            },
            TxOp::Check {
                key: Key::new("DOC#v", "META"),
                condition: Condition::Exists,
            },
        ])
        .await;
    assert!(
        matches!(twice, Err(StoreError::Invalid { .. })),
        "{twice:?}"
    );
    assert!(matches!(
        table.transact(Vec::new()).await,
        Err(StoreError::Invalid { .. })
    ));
}

pub async fn item_size_limit(table: Arc<dyn Table>) {
    let mut big = doc("DOC#big", "META");
    big.insert("text".into(), json!("x".repeat(401 * 1024)));
    let result = table.put(big, Condition::None).await;
    assert!(
        matches!(result, Err(StoreError::TooLarge { .. })),
        "{result:?}"
    );
    assert_eq!(
        table.get(&Key::new("DOC#big", "META")).await.expect("get"),
        None
    );
    let mut fits = doc("DOC#fits", "META");
    fits.insert("text".into(), json!("x".repeat(390 * 1024)));
    table
        .put(fits, Condition::None)
        .await
        .expect("an item under 400 KB fits");
}

/// What DynamoDB cannot hold, no adapter accepts: numbers beyond its range (1E-130 to
/// 9.99E+125, as a "£" and 130 digits would give) and keys over its limits, refused as
/// the caller's error (never worth a retry); the edges of the range fit everywhere.
pub async fn values_the_store_cannot_hold(table: Arc<dyn Table>) {
    for (n, bad) in [
        (json!(1e129), true),
        (json!(-1e127), true),
        (json!(1e-140), true),
        (json!(9.9e125), false),
        (json!(-1e-129), false),
        (json!(0), false),
        (json!(u64::MAX), false),
    ] {
        let mut item = doc("DOC#n", "META");
        item.insert("metadata".into(), json!({"amounts_gbp": [12.5, n.clone()]}));
        let result = table.put(item, Condition::None).await;
        if bad {
            assert!(
                matches!(result, Err(StoreError::Invalid { .. })),
                "{n}: {result:?}"
            );
            let update = Update::new(Key::new("DOC#n", "META")).set("amount", n.clone());
            let result = table.update(update).await;
            assert!(
                matches!(result, Err(StoreError::Invalid { .. })),
                "update with {n}: {result:?}"
            );
        } else {
            result.unwrap_or_else(|e| panic!("{n} fits: {e}"));
        }
    }
    let long_pk = format!("CASE#FOI_{}", "9".repeat(2100));
    let result = table.put(doc(&long_pk, "META"), Condition::None).await;
    assert!(
        matches!(result, Err(StoreError::TooLarge { .. })),
        "{result:?}"
    );
}
