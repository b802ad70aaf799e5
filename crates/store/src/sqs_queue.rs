//! `SqsQueue`: hands a message to another function through an Amazon SQS queue
//! (aws-sdk-sqs); the ingest function queues acknowledgement requests for the letters
//! function this way.

use aws_sdk_sqs::Client;

use super::aws::{AwsSettings, backend_error};
use super::error::{StoreError, StoreResult};

const BACKEND: &str = "SQS";

/// SQS's largest message body.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// One SQS queue, by URL.
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: Client,
    url: String,
}

impl SqsQueue {
    pub fn new(settings: &AwsSettings, url: impl Into<String>) -> Self {
        let mut builder = aws_sdk_sqs::config::Builder::from(settings.sdk());
        if let Some(endpoint) = settings.explicit_endpoint() {
            builder.set_endpoint_url(Some(endpoint.to_owned()));
        }
        SqsQueue {
            client: Client::from_conf(builder.build()),
            url: url.into(),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends one message; `Ok` once the queue holds it. Throttling, timeouts and 5xx are
    /// retryable errors; a body over SQS's limit is refused before sending.
    pub async fn send(&self, body: &str) -> StoreResult<()> {
        if body.len() > MAX_MESSAGE_BYTES {
            return Err(StoreError::too_large(format!(
                "a queue message of {} bytes (SQS takes {MAX_MESSAGE_BYTES})",
                body.len()
            )));
        }
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| backend_error(BACKEND, "SendMessage", e))
    }
}
