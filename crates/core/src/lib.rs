//! postroom's core: what every other postroom crate may use and which uses none of them.
//! The time source (`clock`), the UK working-day calendar (`calendar`) and the one table
//! of failure codes (`failure`). No I/O happens here.
//!
//! Architecture invariant: this crate knows nothing of storage, documents, letters or
//! fronts. Anything added here must be true for all of them.

pub mod calendar;
pub mod clock;
pub mod failure;

pub use failure::{Code, ErrorCode};
