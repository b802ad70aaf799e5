//! The storage contract: one suite per port, instantiated unchanged for every adapter.
//!
//! `blobs.rs` and `table.rs` hold the tests, written against `Arc<dyn Blobs>` and
//! `Arc<dyn Table>`; the macros below stamp each test out once per adapter, on a fresh
//! folder, SQLite file, bucket or table that is removed afterwards. The AWS adapters run
//! against the stand-in that `scripts/test` starts (moto on loopback).

pub mod blobs;
pub mod harness;
mod presign_post;
pub mod search;
pub mod search_function;
pub mod table;

/// Instantiates every `Blobs` contract test for one adapter.
macro_rules! blobs_contract {
    ($adapter:ident, $make:path) => {
        mod $adapter {
            blobs_contract!(@each $make;
                round_trip, replacing_drops_old_metadata, put_with_the_callers_md5, empty_object, odd_keys, missing_objects, listing_pages,
                listing_prefixes, copy_keeps_metadata, delete_removes, large_object,
                key_limits, concurrent_puts_are_atomic, pinned_states);
        }
    };
    (@each $make:path; $($test:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                let name = concat!(module_path!(), "::", stringify!($test));
                $crate::contract::harness::with_blobs(name, $make, |b| {
                    Box::pin($crate::contract::blobs::$test(b))
                })
                .await;
            }
        )*
    };
}

/// Instantiates every `Table` contract test for one adapter.
macro_rules! table_contract {
    ($adapter:ident, $make:path) => {
        mod $adapter {
            table_contract!(@each $make;
                round_trip, odd_keys, conditions, updates, racing_creates_one_wins,
                racing_version_updates_one_wins, query_order_and_prefix, query_pages_by_limit,
                query_pages_over_one_megabyte, gsi1_queries, scan_segments_cover_everything,
                transaction_commits_all, transaction_rolls_back_on_one_failed_condition,
                transaction_limits, item_size_limit, values_the_store_cannot_hold);
        }
    };
    (@each $make:path; $($test:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                let name = concat!(module_path!(), "::", stringify!($test));
                $crate::contract::harness::with_table(name, $make, |t| {
                    Box::pin($crate::contract::table::$test(t))
                })
                .await;
            }
        )*
    };
}

blobs_contract!(dir_blobs, crate::contract::harness::dir_blobs);
blobs_contract!(s3_blobs, crate::contract::harness::s3_blobs);
blobs_contract!(
    s3_versioned_blobs,
    crate::contract::harness::s3_versioned_blobs
);
table_contract!(sqlite_table, crate::contract::harness::sqlite_table);
table_contract!(dynamo_table, crate::contract::harness::dynamo_table);
