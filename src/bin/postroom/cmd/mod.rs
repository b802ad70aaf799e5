//! One module per command: each takes its arguments, calls the library (through the
//! application's use cases) and renders the answer. No storage keys, no business rules.

pub mod cases;
pub mod claims;
pub mod console;
pub mod demo;
pub mod doctor;
pub mod documents;
pub mod extract;
pub mod file;
pub mod foi;
pub mod inbox;
pub mod ingest;
pub mod letter;
pub mod search;
