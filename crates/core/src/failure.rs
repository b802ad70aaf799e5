//! The one table of failure codes. Every error the library returns names a `Code`; the
//! code says whether a retry may help, which HTTP status the console answers with, and
//! which exit status the CLI ends with. A Lambda's diagnostic (`Retryable`/`Permanent`),
//! an HTTP response and a CLI message all come from this table, so a change of meaning is
//! made once, here (meilisearch's `make_error_codes!` is the model).

use std::fmt;

/// Exit status: the request was refused (bad input, a missing thing, a conflict).
pub const EXIT_REFUSED: u8 = 1;
/// Exit status: the command line or the configuration is wrong.
pub const EXIT_USAGE: u8 = 2;
/// Exit status: a bug or an unexpected failure inside postroom (BSD's EX_SOFTWARE).
pub const EXIT_INTERNAL: u8 = 70;
/// Exit status: a temporary failure; the same command may succeed later (EX_TEMPFAIL).
pub const EXIT_TEMPORARY: u8 = 75;

macro_rules! codes {
    ($( $(#[doc = $doc:literal])* $variant:ident = $name:literal, retry: $retry:literal, http: $http:literal, exit: $exit:expr; )*) => {
        /// A stable failure code: its name appears in logs, API answers and CLI messages.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Code {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl Code {
            /// Every code, in table order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The stable name (snake_case).
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            /// Whether trying the same thing again later may succeed.
            pub fn retryable(self) -> bool {
                match self { $(Code::$variant => $retry,)* }
            }

            /// The HTTP status an API answers with.
            pub fn http_status(self) -> u16 {
                match self { $(Code::$variant => $http,)* }
            }

            /// The CLI's exit status.
            pub fn exit_code(self) -> u8 {
                match self { $(Code::$variant => $exit,)* }
            }
        }
    };
}

codes! {
    /// The request is malformed or names something that cannot be (a bad date, a bad field).
    InvalidRequest = "invalid_request", retry: false, http: 400, exit: EXIT_REFUSED;
    /// An event did not have the shape of any event the function handles.
    BadEvent = "bad_event", retry: false, http: 400, exit: EXIT_REFUSED;
    /// The caller is not signed in.
    Unauthenticated = "unauthenticated", retry: false, http: 401, exit: EXIT_REFUSED;
    /// The caller may not do this, or may not see this object.
    Forbidden = "forbidden", retry: false, http: 403, exit: EXIT_REFUSED;
    /// The document, case, request or object does not exist.
    NotFound = "not_found", retry: false, http: 404, exit: EXIT_REFUSED;
    /// No case has this reference.
    CaseNotFound = "case_not_found", retry: false, http: 404, exit: EXIT_REFUSED;
    /// No letter template has this name.
    UnknownTemplate = "unknown_template", retry: false, http: 404, exit: EXIT_REFUSED;
    /// The thing changed or is in a state that does not allow this (a write's condition).
    Conflict = "conflict", retry: false, http: 409, exit: EXIT_REFUSED;
    /// The FOI request's status does not allow this move.
    IllegalMove = "illegal_move", retry: false, http: 409, exit: EXIT_REFUSED;
    /// Only an unfiled document can be filed by hand.
    NotUnfiled = "not_unfiled", retry: false, http: 409, exit: EXIT_REFUSED;
    /// A letter was recorded with a template version the registry no longer has.
    TemplateVersionChanged = "template_version_changed", retry: false, http: 409, exit: EXIT_REFUSED;
    /// A letter's record no longer reproduces its PDF.
    LetterNotReproducible = "letter_not_reproducible", retry: false, http: 409, exit: EXIT_REFUSED;
    /// An object, item or request is over a limit.
    TooLarge = "too_large", retry: false, http: 413, exit: EXIT_REFUSED;
    /// A letter request's data is over what its record holds.
    DataTooLarge = "data_too_large", retry: false, http: 413, exit: EXIT_REFUSED;
    /// The letter data does not satisfy its template's fields.
    InvalidData = "invalid_data", retry: false, http: 422, exit: EXIT_REFUSED;
    /// A date falls outside the years the calendar counts, or before another it must follow.
    DateOutOfRange = "date_out_of_range", retry: false, http: 422, exit: EXIT_REFUSED;
    /// The document is not something this action applies to (an acknowledgement of a
    /// letter that is not a letter of claim, or lacks what the letter needs).
    NotApplicable = "not_applicable", retry: false, http: 422, exit: EXIT_REFUSED;
    /// Lost every race for the same item; trying again later will do.
    Busy = "busy", retry: true, http: 503, exit: EXIT_TEMPORARY;
    /// The store is throttling, timing out or failing with 5xx.
    StoreUnavailable = "store_unavailable", retry: true, http: 503, exit: EXIT_TEMPORARY;
    /// The store refused the request in a way a retry will not change.
    StoreError = "store_error", retry: false, http: 500, exit: EXIT_INTERNAL;
    /// A letter template is broken (it does not parse, or does not render).
    TemplateError = "template_error", retry: false, http: 500, exit: EXIT_INTERNAL;
    /// The templates folder could not be read.
    TemplateLoadError = "template_load_error", retry: false, http: 500, exit: EXIT_USAGE;
    /// The configuration is missing or invalid.
    ConfigInvalid = "config_invalid", retry: false, http: 500, exit: EXIT_USAGE;
    /// A step of setting up or upgrading a stack has not been run, and what was asked
    /// would be wrong without it (the cases list not yet built: `postroom cases relist`).
    NotReady = "not_ready", retry: false, http: 409, exit: EXIT_REFUSED;
    /// A task stopped unexpectedly (a caught panic, a cancelled task). Retried: a crash
    /// may come from the moment (memory), and redrive limits bound the tries.
    Internal = "internal_error", retry: true, http: 500, exit: EXIT_INTERNAL;
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

/// An error that names its code. Implemented by every error type the library returns.
pub trait ErrorCode {
    /// This error's code.
    fn code(&self) -> Code;

    /// Whether trying again later may succeed.
    fn is_retryable(&self) -> bool {
        self.code().retryable()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_snake_case() {
        let mut seen = HashSet::new();
        for code in Code::ALL {
            let name = code.as_str();
            assert!(seen.insert(name), "{name} twice");
            assert!(
                name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{name}"
            );
        }
    }

    #[test]
    fn retryable_codes_are_service_unavailable_or_internal_and_exit_temporary() {
        for code in Code::ALL {
            let status = code.http_status();
            assert!((400..600).contains(&status), "{code}: {status}");
            if code.retryable() && *code != Code::Internal {
                assert_eq!(status, 503, "{code}");
                assert_eq!(code.exit_code(), EXIT_TEMPORARY, "{code}");
            }
            if (400..500).contains(&status) {
                assert!(!code.retryable(), "{code}: a client error is not retried");
                assert_eq!(code.exit_code(), EXIT_REFUSED, "{code}");
            }
        }
    }

    #[test]
    fn a_caught_panic_is_never_a_bad_request() {
        assert_eq!(Code::Internal.http_status(), 500);
        assert_eq!(Code::Internal.exit_code(), EXIT_INTERNAL);
    }
}
