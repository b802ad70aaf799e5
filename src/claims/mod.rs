//! Claims casework: the deadlines a clinical negligence claim runs to (issue 18). The
//! pure rules are in [`deadlines()`]: given what has happened on a claim
//! ([`ClaimEvents`]), which deadlines run, when each is due, the rule behind it, and
//! whether it was met; nothing there reads a store or the clock. [`clock`] keeps them on
//! the claim: worked out from its record and what handlers recorded, stored, indexed by
//! due date, swept daily.

pub mod clock;
pub mod deadlines;

pub use clock::{ClaimClock, ClaimClocks, ClaimReminder, ClockError, DueDeadline, ManualEvent};
pub use deadlines::{
    ClaimEvents, ClaimsError, Deadline, DeadlineKind, Extension, Part36Offer, RecordsRequest,
    Status, UnknownDeadline, court_calendar, deadlines,
};
