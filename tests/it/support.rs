//! Small helpers the integration tests share: a demo sample by name, a document's
//! warning codes, and every item of a table (a scan, page by page).

use postroom::store::{Item, Table};
use serde_json::Value;

/// The bytes of the demo post's sample `name`.
pub fn sample(name: &str) -> &'static [u8] {
    postroom::demo::SAMPLES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, b)| *b)
        .unwrap_or_else(|| panic!("no demo sample {name}"))
}

/// The warning codes of a document's metadata (`metadata.warnings`).
pub fn warning_codes(metadata: &Value) -> Vec<String> {
    metadata["warnings"]
        .as_array()
        .map(|w| {
            w.iter()
                .filter_map(|c| c.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Every item of the table, in the store's order.
pub async fn every_item(table: &dyn Table) -> Vec<Item> {
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page = table.scan(0, 1, cursor.as_ref()).await.expect("scan");
        items.extend(page.items);
        match page.next {
            Some(c) => cursor = Some(c),
            None => return items,
        }
    }
}
