//! The one error type every storage adapter returns, with retryable/permanent marked.

use std::error::Error as StdError;

impl postroom_core::ErrorCode for StoreError {
    fn code(&self) -> postroom_core::Code {
        use postroom_core::Code;
        match self {
            StoreError::NotFound { .. } => Code::NotFound,
            StoreError::ConditionFailed { .. } => Code::Conflict,
            StoreError::TooLarge { .. } => Code::TooLarge,
            StoreError::Invalid { .. } => Code::InvalidRequest,
            StoreError::Backend {
                retryable: true, ..
            } => Code::StoreUnavailable,
            StoreError::Backend { .. } => Code::StoreError,
        }
    }
}

/// What went wrong in a storage call. Messages name keys and operations, never content.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The object or item does not exist.
    #[error("not found: {what}")]
    NotFound { what: String },
    /// A write's condition (absent / exists / version equals) did not hold.
    #[error("condition failed: {what}")]
    ConditionFailed { what: String },
    /// An object, item, key or transaction is over a limit of the store.
    #[error("too large: {what}")]
    TooLarge { what: String },
    /// The request itself is malformed (an empty key, a missing PK, two ops on one item...).
    #[error("invalid request: {what}")]
    Invalid { what: String },
    /// The backend failed. `retryable` is true for throttling, timeouts, 5xx and
    /// connection failures: the caller may try again later.
    #[error("{backend} failed during {op}: {source}")]
    Backend {
        backend: &'static str,
        op: String,
        retryable: bool,
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
}

impl StoreError {
    /// True when trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        postroom_core::ErrorCode::code(self).retryable()
    }

    pub(crate) fn not_found(what: impl Into<String>) -> Self {
        StoreError::NotFound { what: what.into() }
    }

    pub(crate) fn condition(what: impl Into<String>) -> Self {
        StoreError::ConditionFailed { what: what.into() }
    }

    pub(crate) fn too_large(what: impl Into<String>) -> Self {
        StoreError::TooLarge { what: what.into() }
    }

    pub(crate) fn invalid(what: impl Into<String>) -> Self {
        StoreError::Invalid { what: what.into() }
    }

    pub(crate) fn backend(
        backend: &'static str,
        op: impl Into<String>,
        retryable: bool,
        source: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        StoreError::Backend {
            backend,
            op: op.into(),
            retryable,
            source: source.into(),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
