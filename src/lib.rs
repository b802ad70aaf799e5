//! postroom: reads, classifies and files incoming documents and generates outgoing
//! letters, for a public body's post room. All behaviour lives here; the CLI and the
//! Lambda functions are thin fronts that build adapters and call this library.

pub mod acknowledge;
pub mod calendar;
pub mod cases;
pub mod clock;
pub mod config;
pub mod demo;
pub mod doctor;
pub mod events;
pub mod extract;
pub mod foi;
pub mod handlers;
pub mod ingest;
pub mod letters;
pub mod metadata;
pub mod model;
pub mod outbox;
pub mod reading;
pub mod store;
pub mod stores;
pub mod telemetry;
