//! postroom: reads, classifies and files incoming documents and generates outgoing
//! letters, for a public body's post room. The application: its use cases, the
//! composition root (`app::App`, which builds the adapters) and what the fronts show
//! (`views`). The CLI and the Lambda functions are thin fronts over one `App`.

pub mod acknowledge;
pub mod app;
pub mod audit;
pub mod batches;
pub mod cases;
pub mod claims;
pub mod config;
#[cfg(feature = "console")]
pub mod console;
pub mod demo;
pub mod doctor;
pub mod events;
pub mod foi;
pub mod handlers;
pub mod ingest;
pub mod jobs;
pub mod letter_service;
pub mod logins;
pub mod model;
pub mod reading;
pub mod scanning;
#[cfg(feature = "search-index")]
pub mod search_index;
pub mod sessions;
pub mod telemetry;
pub mod uploads;
pub mod views;

// The crates the application is built from, under the names the code has always used.
pub use postroom_core::{calendar, clock, failure};
pub use postroom_extract as extract;
pub use postroom_lettering as letters;
pub use postroom_metadata as metadata;
pub use postroom_ocr as ocr;
pub use postroom_store as store;
