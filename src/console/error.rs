//! What the console answers when something goes wrong: the HTTP status of the failure
//! table's code, and a page that says what happened in plain words with the stable code
//! (never a stack trace, never document data). A request without a session is sent to
//! sign in.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::pages::ErrorPage;
use crate::failure::{Code, ErrorCode};

/// A refused or failed request.
#[derive(Debug)]
pub struct PageError {
    pub code: Code,
    /// Said to the person: plain words, no data from documents.
    pub message: String,
    /// Where a person without a session goes to sign in.
    sign_in: bool,
}

impl PageError {
    pub fn new(code: Code, message: String) -> PageError {
        PageError {
            code,
            message,
            sign_in: false,
        }
    }

    pub fn forbidden() -> PageError {
        PageError::new(
            Code::Forbidden,
            "Your role does not allow this. Ask an administrator if you need it.".into(),
        )
    }

    pub fn not_found(what: &str) -> PageError {
        PageError::new(Code::NotFound, format!("There is no {what} here."))
    }

    pub fn invalid(message: impl Into<String>) -> PageError {
        PageError::new(Code::InvalidRequest, message.into())
    }

    /// Not signed in, on a page: sent to the sign-in page.
    pub fn sign_in_first(_path: &str) -> PageError {
        PageError {
            code: Code::Unauthenticated,
            message: "Sign in first.".into(),
            sign_in: true,
        }
    }

    fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// The message people see for a failure of the library: its own words for what they
/// asked wrongly, and a general one for anything on our side (the details go to the
/// log with the code, not to the page).
impl<E: ErrorCode + std::fmt::Display> From<E> for PageError {
    fn from(e: E) -> PageError {
        let code = e.code();
        let message = if code.http_status() < 500 {
            e.to_string()
        } else {
            tracing::error!(code = code.as_str(), "console request failed");
            if code.retryable() {
                "Something went wrong on our side. Try again in a minute.".to_owned()
            } else {
                "Something went wrong on our side. The problem has been logged.".to_owned()
            }
        };
        PageError::new(code, message)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if self.sign_in {
            return (StatusCode::SEE_OTHER, [(header::LOCATION, "/sign-in")]).into_response();
        }
        let status = self.status();
        let page = ErrorPage {
            chrome: super::pages::Chrome::anonymous(),
            title: title_of(status),
            message: self.message,
            code: self.code.as_str(),
        };
        (status, super::pages::render(&page)).into_response()
    }
}

fn title_of(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 | 422 => "There is a problem with what was sent",
        401 => "Sign in first",
        403 => "You cannot do this",
        404 => "Page not found",
        409 => "This has changed",
        413 => "The file is too big",
        s if s >= 500 => "Sorry, there is a problem with the service",
        _ => "There is a problem",
    }
}
