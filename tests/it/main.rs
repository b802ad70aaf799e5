//! The one integration test binary: the storage contract over every adapter, and the CLI.

mod cli;
mod contract;
mod fuzz;
mod hostile;
mod labelled;
