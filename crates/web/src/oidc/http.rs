//! The few HTTP requests of sign-in (discovery, keys, the token exchange), behind a
//! small trait so tests can answer them with canned JSON. The real one is hyper's
//! client over rustls (ring, the system's root certificates): HTTPS only, except plain
//! HTTP to a loopback address (the local stand-in); 5 s for the whole request; at most
//! 256 KB read; redirects never followed.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Bytes;
use hyper::{Method, Request, Uri, header};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::OidcError;

/// The whole request, connection to last byte.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// The most of a response body read.
pub const MAX_BODY: usize = 256 * 1024;

/// A response: its status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

/// How sign-in reaches the provider.
#[async_trait::async_trait]
pub trait Http: Send + Sync + std::fmt::Debug {
    /// `GET url` (JSON expected).
    async fn get(&self, url: &str) -> Result<Reply, OidcError>;
    /// `POST url` with an `application/x-www-form-urlencoded` body.
    async fn post_form(&self, url: &str, form: &str) -> Result<Reply, OidcError>;
}

/// Whether sign-in may talk to `url`: `https://`, or `http://` to a loopback host
/// (`127.0.0.1`, `localhost`, `[::1]`), with no user info in it.
pub fn check_url(url: &str) -> Result<Uri, OidcError> {
    let uri: Uri = url
        .parse()
        .map_err(|_| OidcError::Config(format!("not a URL: {url:.200}")))?;
    let host = uri.host().unwrap_or("");
    let userinfo = uri.authority().is_some_and(|a| a.as_str().contains('@'));
    let ok = !host.is_empty()
        && !userinfo
        && match uri.scheme_str() {
            Some("https") => true,
            Some("http") => is_loopback(host),
            _ => false,
        };
    if ok {
        Ok(uri)
    } else {
        Err(OidcError::Config(format!(
            "only https:// (or http:// on loopback) is allowed: {url:.200}"
        )))
    }
}

fn is_loopback(host: &str) -> bool {
    matches!(host, "127.0.0.1" | "localhost" | "[::1]" | "::1")
}

/// The real client.
#[derive(Clone)]
pub struct HyperHttp {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl std::fmt::Debug for HyperHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HyperHttp").finish_non_exhaustive()
    }
}

impl HyperHttp {
    /// Loads the system's root certificates (an error when there are none).
    pub fn new() -> Result<HyperHttp, OidcError> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(TIMEOUT));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(Arc::new(rustls::crypto::ring::default_provider()))
            .map_err(|e| OidcError::Config(format!("no trusted root certificates: {e}")))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        // No idle connections kept: sign-ins are rare, and a pooled connection would
        // belong to the runtime that opened it.
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(0)
            .build(https);
        Ok(HyperHttp { client })
    }

    async fn send(&self, request: Request<Full<Bytes>>) -> Result<Reply, OidcError> {
        let what = format!("{} {}", request.method(), request.uri().path());
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| OidcError::Unavailable(format!("{what}: {e}")))?;
            let status = response.status().as_u16();
            let body = Limited::new(response.into_body(), MAX_BODY)
                .collect()
                .await
                .map_err(|e| {
                    OidcError::Provider(format!(
                        "{what}: body unreadable or over {MAX_BODY} bytes: {e}"
                    ))
                })?
                .to_bytes();
            Ok(Reply {
                status,
                body: body.to_vec(),
            })
        };
        match tokio::time::timeout(TIMEOUT, exchange).await {
            Ok(result) => result,
            Err(_) => Err(OidcError::Unavailable(format!(
                "{what}: no answer within {} s",
                TIMEOUT.as_secs()
            ))),
        }
    }
}

#[async_trait::async_trait]
impl Http for HyperHttp {
    async fn get(&self, url: &str) -> Result<Reply, OidcError> {
        let uri = check_url(url)?;
        let request = Request::builder()
            .method(Method::GET)
            .uri(uri)
            .header(header::ACCEPT, "application/json")
            .body(Full::new(Bytes::new()))
            .map_err(|e| OidcError::Config(e.to_string()))?;
        self.send(request).await
    }

    async fn post_form(&self, url: &str, form: &str) -> Result<Reply, OidcError> {
        let uri = check_url(url)?;
        let request = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::ACCEPT, "application/json")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(form.to_owned())))
            .map_err(|e| OidcError::Config(e.to_string()))?;
        self.send(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http() {
        for ok in [
            "https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_abc",
            "https://auth.example.org/oauth2/token",
            "http://127.0.0.1:9400",
            "http://localhost:9400/jwks",
            "http://[::1]:9400/",
        ] {
            assert!(check_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://cognito-idp.eu-west-2.amazonaws.com/x",
            "http://127.0.0.2:9400",
            "http://localhost.evil.example/",
            "http://127.0.0.1@evil.example/",
            "https://user:pw@auth.example.org/",
            "ftp://127.0.0.1/",
            "file:///etc/passwd",
            "/relative",
            "",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn bodies_are_capped_and_plain_http_elsewhere_is_refused() {
        use std::io::{Read as _, Write as _};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bound");
        let port = listener.local_addr().expect("addr").port();
        std::thread::spawn(move || {
            for size in [10usize, MAX_BODY + 1] {
                let (mut s, _) = listener.accept().expect("accepted");
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {size}\r\nconnection: close\r\n\r\n"
                );
                let _ = s.write_all(head.as_bytes());
                let _ = s.write_all(&vec![b'x'; size]);
            }
        });
        let http = HyperHttp::new().expect("client");
        let url = format!("http://127.0.0.1:{port}/jwks");
        let small = http.get(&url).await.expect("small body");
        assert_eq!((small.status, small.body.len()), (200, 10));
        let big = http.get(&url).await;
        assert!(matches!(big, Err(OidcError::Provider(_))), "{big:?}");
        let remote = http.get("http://example.org/").await;
        assert!(matches!(remote, Err(OidcError::Config(_))), "{remote:?}");
    }
}
