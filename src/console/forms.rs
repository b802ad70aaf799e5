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
            return Err(refused());
        }
        let form = serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| PageError::invalid(format!("The form could not be read: {e}")))?;
        Ok(Checked { session, form })
    }
}

/// The refusal of a form without its session's token.
fn refused() -> PageError {
    tracing::warn!(
        code = "csrf_refused",
        "a form without its session's token was refused"
    );
    PageError::new(
        Code::Forbidden,
        "This form has expired or did not come from this service. Go back, reload the page and try again.".into(),
    )
}

/// A multipart form's token, which must be its first part: checked before any file is
/// read.
pub async fn check_first_part(
    multipart: &mut axum::extract::Multipart,
    session: &Session,
) -> Result<(), PageError> {
    let unreadable = |_| PageError::invalid("The form could not be read. Try again.");
    let token = match multipart.next_field().await.map_err(unreadable)? {
        Some(field) if field.name() == Some("csrf_token") => {
            Some(field.text().await.map_err(unreadable)?)
        }
        _ => None,
    };
    if token.is_some_and(|t| session.csrf_matches(&t)) {
        Ok(())
    } else {
        Err(refused())
    }
}
