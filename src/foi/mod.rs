//! FOI casework: the statutory deadline (s.10), the request lifecycle, safe statistics and the
//! disclosure log.

pub mod deadline;
pub mod disclosure;
pub mod lifecycle;
pub mod notices;
pub mod report;
pub mod service;
pub mod stats;
