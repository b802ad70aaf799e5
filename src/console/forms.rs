//! Forms that change something: the `Checked<T>` extractor reads a signed-in person's
//! urlencoded form and refuses it (403) unless its `csrf_token` field is their session's
//! form token. The cross-site check (`Sec-Fetch-Site`/`Origin`) runs before, as a layer.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use serde::de::DeserializeOwned;

use super::State;
use super::error::PageError;
use super::session::Session;
use crate::failure::Code;

/// A form from a signed-in person whose CSRF token matched.
#[derive(Debug)]
pub struct Checked<T> {
    pub session: Session,
    pub form: T,
}

impl<T: DeserializeOwned + Send> FromRequest<Arc<State>> for Checked<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &Arc<State>) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let session = Session::from_request_parts(&mut parts, state).await?;
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|_| PageError::new(Code::TooLarge, "The form is too large.".into()))?;
        let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| PageError::invalid("The form could not be read."))?;
        let token = fields
            .iter()
            .find(|(k, _)| k == "csrf_token")
            .map(|(_, v)| v.as_str());
        if !token.is_some_and(|t| session.csrf_matches(t)) {
            tracing::warn!(
                code = "csrf_refused",
                "a form without its session's token was refused"
            );
            return Err(PageError::new(
                Code::Forbidden,
                "This form has expired or did not come from this service. Go back, reload the page and try again.".into(),
            ));
        }
        let form = serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| PageError::invalid(format!("The form could not be read: {e}")))?;
        Ok(Checked { session, form })
    }
}
