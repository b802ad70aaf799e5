//! The one integration test binary: the storage contract over every adapter, the CLI,
//! extraction on the real-world corpus, hostile inputs, fuzzing, and the labelled set.

mod analysis;
mod app;
mod casework;
mod claim_clock;
mod claims;
mod cli;
mod console;
mod console_fixtures;
mod console_oidc;
mod contract;
mod corpus;
mod crash;
mod events;
mod foi;
mod fuzz;
mod hostile;
mod ingest;
mod ingest_faults;
mod jobs;
mod labelled;
mod labelled2;
mod lambda_console;
mod lambda_foi;
mod lambda_ingest;
mod lambda_letters;
mod lambda_start;
mod layout;
mod letters;
mod local_stack;
mod local_stack_console;
mod local_stack_faults;
mod matching;
mod pdf_text;
mod scanned;
mod search;
