//! The HTTP pieces of the staff console that know nothing of the domain: the embedded
//! GOV.UK Frontend assets, the Content Security Policy and security headers, and safe
//! file names for downloads. The console's router (in the `postroom` library, feature
//! `console`) uses them; this crate has no postroom dependency, so it is tested alone.

pub mod assets;
pub mod disposition;
pub mod headers;
pub mod oidc;
