//! FOI casework: the statutory clock, the request lifecycle, safe statistics and the
//! disclosure log.

pub mod clock;
pub mod disclosure;
pub mod lifecycle;
pub mod service;
pub mod stats;
