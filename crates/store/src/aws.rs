//! Shared AWS SDK set-up for the S3 and DynamoDB adapters: one HTTPS client, timeouts,
//! and the mapping of SDK errors to `StoreError` (retryable or permanent).

use std::time::Duration;

use aws_config::{BehaviorVersion, SdkConfig, retry::RetryConfig, timeout::TimeoutConfig};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

use super::error::StoreError;

/// Error codes that mean "slow down or try again", across S3 and DynamoDB.
const RETRYABLE_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TransactionConflictException",
    "TransactionInProgressException",
    "InternalServerError",
    "InternalError",
    "ServiceUnavailable",
    "SlowDown",
    "RequestTimeout",
];

/// The AWS SDK's configuration, loaded once from the standard sources (environment,
/// profile, the Lambda role). `AWS_ENDPOINT_URL` points every client at a stand-in.
#[derive(Debug, Clone)]
pub struct AwsSettings {
    config: SdkConfig,
    custom_endpoint: bool,
    /// An endpoint given in code, set on each client's own configuration (where it
    /// wins over the `AWS_ENDPOINT_URL` environment variable).
    explicit_endpoint: Option<String>,
}

impl AwsSettings {
    /// Loads the configuration. Does no network I/O until a client is used.
    pub async fn load() -> Self {
        let config = sdk_config().await;
        let custom_endpoint = std::env::var_os("AWS_ENDPOINT_URL").is_some()
            || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
        AwsSettings {
            config,
            custom_endpoint,
            explicit_endpoint: None,
        }
    }

    /// The configuration with an explicit endpoint (a stand-in; tests use it to point one
    /// store at a stopped service).
    pub async fn load_with_endpoint(endpoint: &str) -> Self {
        AwsSettings {
            config: sdk_config().await,
            custom_endpoint: true,
            explicit_endpoint: Some(endpoint.to_owned()),
        }
    }

    /// The region the SDK resolved, if any.
    pub fn region(&self) -> Option<String> {
        self.config.region().map(|r| r.to_string())
    }

    /// The endpoint override, if one is set (`AWS_ENDPOINT_URL`).
    pub fn endpoint(&self) -> Option<&str> {
        self.explicit_endpoint
            .as_deref()
            .or(self.config.endpoint_url())
    }

    pub(crate) fn sdk(&self) -> &SdkConfig {
        &self.config
    }

    pub(crate) fn explicit_endpoint(&self) -> Option<&str> {
        self.explicit_endpoint.as_deref()
    }

    /// Stand-ins serve buckets by path, not by virtual host.
    pub(crate) fn path_style(&self) -> bool {
        self.custom_endpoint
    }
}

/// The SDK configuration with one HTTPS client (rustls with ring), bounded timeouts
/// and the standard retry policy (3 attempts with backoff).
pub(crate) async fn sdk_config() -> SdkConfig {
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(60))
                .operation_timeout(Duration::from_secs(150))
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .load()
        .await
}

/// The HTTP status of a service error, if the error came from the service.
pub(crate) fn status_of<E>(
    err: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> Option<u16> {
    match err {
        SdkError::ServiceError(se) => Some(se.raw().status().as_u16()),
        _ => None,
    }
}

/// The service's error code (`NoSuchKey`, `ConditionalCheckFailedException`, ...).
pub(crate) fn code_of<E: ProvideErrorMetadata>(
    err: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> Option<String> {
    match err {
        SdkError::ServiceError(se) => se.err().code().map(str::to_owned),
        _ => None,
    }
}

/// Maps any SDK error to a `Backend` error, marking what a retry may fix.
pub(crate) fn backend_error<E>(
    backend: &'static str,
    op: impl Into<String>,
    err: SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let retryable = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(se) => {
            let status = se.raw().status().as_u16();
            status >= 500
                || status == 429
                || se
                    .err()
                    .code()
                    .is_some_and(|c| RETRYABLE_CODES.contains(&c))
        }
        _ => false,
    };
    let message = match &err {
        // Connection problems: the root cause ("Connection refused") is what helps.
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            let mut cause: &dyn std::error::Error = &err;
            while let Some(next) = cause.source() {
                cause = next;
            }
            let kind = if matches!(err, SdkError::TimeoutError(_)) {
                "timed out"
            } else {
                "could not connect"
            };
            format!("{kind}: {cause}")
        }
        // The service's code and message (not the whole response: headers and ids).
        SdkError::ServiceError(se) => format!(
            "{} (HTTP {}): {}",
            se.err().code().unwrap_or("unknown error"),
            se.raw().status().as_u16(),
            se.err().message().unwrap_or("no message")
        ),
        _ => DisplayErrorContext(&err).to_string(),
    };
    StoreError::backend(backend, op, retryable, message)
}
