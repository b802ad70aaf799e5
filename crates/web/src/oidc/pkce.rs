//! Random values of the sign-in flow: the PKCE verifier and its S256 challenge
//! (RFC 7636), and the `state` and `nonce` strings, all from the operating system's
//! generator, base64url without padding.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A PKCE pair: the verifier stays with us (stored with the sign-in in progress), the
/// challenge goes to the provider in the authorization request.
#[derive(Clone, PartialEq, Eq)]
pub struct Pkce {
    /// 43 characters of base64url (32 random bytes): RFC 7636's `code_verifier`.
    pub verifier: String,
    /// base64url(SHA-256(verifier)): the `code_challenge` with method `S256`.
    pub challenge: String,
}

impl std::fmt::Debug for Pkce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkce")
            .field("challenge", &self.challenge)
            .finish_non_exhaustive()
    }
}

impl Pkce {
    /// A fresh pair.
    pub fn new() -> Pkce {
        Pkce::from_verifier(random_string())
    }

    /// The pair of a known verifier.
    pub fn from_verifier(verifier: String) -> Pkce {
        let challenge = challenge_of(&verifier);
        Pkce {
            verifier,
            challenge,
        }
    }
}

impl Default for Pkce {
    fn default() -> Self {
        Pkce::new()
    }
}

/// The S256 challenge of a verifier.
pub fn challenge_of(verifier: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// 32 random bytes as 43 characters of base64url: for `state`, `nonce` and verifiers.
pub fn random_string() -> String {
    let mut bytes = [0u8; 32];
    // The operating system's generator does not fail where postroom runs; if it did, a
    // predictable value must never be handed out, so stop here.
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn verifiers_are_43_unreserved_characters_and_fresh() {
        let (a, b) = (Pkce::new(), Pkce::new());
        assert_ne!(a.verifier, b.verifier);
        assert_eq!(a.verifier.len(), 43);
        assert!(
            a.verifier
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert!(!format!("{a:?}").contains(&a.verifier));
    }

    #[test]
    fn the_challenge_is_base64url_of_sha256() {
        let p = Pkce::from_verifier("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ".into());
        let expected = URL_SAFE_NO_PAD.encode(Sha256::digest(p.verifier.as_bytes()));
        assert_eq!(p.challenge, expected);
        // Computed independently with Python's hashlib and base64.
        assert_eq!(p.challenge, "YHBP6B6mvodQJzAPdYIxjkKX-y4g-eurpel--I4hSGU");
        assert_eq!(p.challenge.len(), 43);
        assert!(!p.challenge.contains('='));
    }
}
