//! How the console is set up: who may sign in and how (a local token, or on AWS the
//! organisation's OpenID Connect provider), session timeouts, and whether cookies need
//! HTTPS. Built once by the front that serves the console.

use std::time::Duration;

use sha2::{Digest, Sha256};

use super::authz::Role;

/// A sign-in token for the embedded default (as Jupyter prints one): whoever opens the
/// link is signed in as `who`, with `roles`. Only its SHA-256 is kept.
#[derive(Clone)]
pub struct LocalToken {
    pub(crate) digest: [u8; 32],
    pub who: String,
    pub roles: Vec<Role>,
}

impl std::fmt::Debug for LocalToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalToken")
            .field("who", &self.who)
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

impl LocalToken {
    pub fn new(token: &str, who: impl Into<String>, roles: Vec<Role>) -> LocalToken {
        LocalToken {
            digest: Sha256::digest(token.as_bytes()).into(),
            who: who.into(),
            roles,
        }
    }

    /// Whether `token` is this one (compared by digest, in constant time).
    pub fn matches(&self, token: &str) -> bool {
        let other: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        self.digest
            .iter()
            .zip(other.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

/// The console's settings.
#[derive(Debug, Clone)]
pub struct ConsoleSettings {
    /// The sign-in tokens accepted (the embedded default).
    pub tokens: Vec<LocalToken>,
    /// A session ends after this long without a request.
    pub idle: Duration,
    /// And after this long in any case.
    pub absolute: Duration,
    /// Cookies marked `Secure` (with the `__Host-` prefix): when served over HTTPS.
    pub https: bool,
    /// The S3 origin upload forms post to and previews come from (AWS only).
    pub bucket_origin: Option<String>,
    /// Largest upload accepted by the console itself, in bytes.
    pub upload_limit: usize,
    /// Sign-in with the organisation's OpenID Connect provider (on AWS).
    pub oidc: Option<postroom_web::oidc::OidcSettings>,
    /// Where people reach the console (`POSTROOM_CONSOLE_ORIGIN`): the address the
    /// bucket sends browsers back to after a direct upload.
    pub origin: Option<String>,
}

impl ConsoleSettings {
    /// The embedded default: one token, plain HTTP on loopback.
    pub fn local(tokens: Vec<LocalToken>) -> ConsoleSettings {
        ConsoleSettings {
            tokens,
            idle: Duration::from_secs(30 * 60),
            absolute: Duration::from_secs(8 * 60 * 60),
            https: false,
            bucket_origin: None,
            upload_limit: 64 * 1024 * 1024,
            oidc: None,
            origin: None,
        }
    }

    /// From the configuration: local sign-in tokens when given, OpenID Connect when the
    /// provider is configured (`POSTROOM_OIDC_ISSUER`), cookies Secure when the
    /// console's origin is HTTPS.
    pub fn from_config(config: &crate::config::Config, tokens: Vec<LocalToken>) -> ConsoleSettings {
        let https = config
            .console_origin
            .as_deref()
            .is_some_and(|o| o.starts_with("https://"));
        let oidc = match (
            &config.oidc_issuer,
            &config.oidc_client_id,
            &config.console_origin,
        ) {
            (Some(issuer), Some(client_id), Some(origin)) => {
                Some(postroom_web::oidc::OidcSettings {
                    issuer: issuer.clone(),
                    client_id: client_id.clone(),
                    redirect_uri: format!("{origin}/auth/callback"),
                    group_prefix: "postroom-".into(),
                    post_logout_redirect_uri: format!("{origin}/signed-out"),
                    logout_url: None,
                })
            }
            _ => None,
        };
        ConsoleSettings {
            https,
            oidc,
            origin: config.console_origin.clone(),
            ..ConsoleSettings::local(tokens)
        }
    }

    /// `postroom console` on this computer: sign-in with the local `token` (as the link
    /// it prints), unless an OpenID Connect provider is configured
    /// (`POSTROOM_OIDC_ISSUER`, `POSTROOM_OIDC_CLIENT_ID`, `POSTROOM_CONSOLE_ORIGIN`):
    /// then with the provider only, as on AWS (the browser test signs in this way
    /// through the local stand-in).
    pub fn for_local_console(config: &crate::config::Config, token: LocalToken) -> ConsoleSettings {
        let settings = ConsoleSettings::from_config(config, Vec::new());
        match settings.oidc {
            Some(_) => settings,
            None => ConsoleSettings::local(vec![token]),
        }
    }

    /// Whether people sign in with a provider rather than a token.
    pub fn uses_provider(&self) -> bool {
        self.oidc.is_some()
    }

    /// The session cookie's name.
    pub fn cookie_name(&self) -> &'static str {
        if self.https {
            "__Host-postroom-session"
        } else {
            "postroom-session"
        }
    }
}

/// A fresh random token: 32 bytes, base64url without padding.
pub fn random_token() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    // The operating system's generator does not fail on the systems postroom runs on;
    // if it did, a token of zeros must never be handed out, so stop here.
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_matches_only_itself() {
        let t = LocalToken::new("s3cret", "ann", vec![Role::Admin]);
        assert!(t.matches("s3cret"));
        assert!(!t.matches("s3cre"));
        assert!(!t.matches(""));
        assert!(!format!("{t:?}").contains("digest"));
    }

    #[test]
    fn the_local_console_takes_its_token_unless_a_provider_is_configured() {
        let dir = std::path::Path::new("/nonexistent-home");
        let token = || LocalToken::new("s3cret-token", "ann", vec![Role::Admin]);
        let plain = crate::config::Config::local(dir);
        let settings = ConsoleSettings::for_local_console(&plain, token());
        assert!(!settings.uses_provider());
        assert_eq!(settings.tokens.len(), 1);
        assert!(!settings.https);

        let with_provider = crate::config::Config {
            oidc_issuer: Some("http://127.0.0.1:9000".into()),
            oidc_client_id: Some("postroom-console".into()),
            console_origin: Some("http://127.0.0.1:8080".into()),
            ..crate::config::Config::local(dir)
        };
        let settings = ConsoleSettings::for_local_console(&with_provider, token());
        assert!(settings.uses_provider());
        assert!(settings.tokens.is_empty(), "no token beside the provider");
        let oidc = settings.oidc.expect("the provider");
        assert_eq!(oidc.redirect_uri, "http://127.0.0.1:8080/auth/callback");
        assert_eq!(
            oidc.post_logout_redirect_uri,
            "http://127.0.0.1:8080/signed-out"
        );
        assert!(!settings.https);
    }

    #[test]
    fn tokens_are_random_and_url_safe() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }
}
