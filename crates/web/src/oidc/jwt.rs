//! The ID token's checks (OpenID Connect Core 3.1.3.7): RS256 only, a signing key of
//! the provider's key set, then the claims (`iss`, `aud`/`azp`, `exp`, `iat`, `nonce`,
//! Cognito's `token_use`). Pure: keys and time are given, nothing is fetched here.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::Value;

/// Clock skew allowed on `exp` and `iat`, in seconds.
pub const LEEWAY_SECONDS: i64 = 60;
/// Longest ID token looked at (Cognito's are a few kilobytes).
const MAX_TOKEN: usize = 16 * 1024;

/// Why an ID token was refused. Each has a stable code for the log; none says more
/// than which check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the ID token is malformed")]
    Malformed,
    #[error("the ID token's algorithm is not RS256")]
    Algorithm,
    #[error("the ID token's signing key is not in the provider's key set")]
    UnknownKey,
    #[error("the ID token's signature does not verify")]
    Signature,
    #[error("the ID token is from another issuer")]
    Issuer,
    #[error("the ID token is for another client")]
    Audience,
    #[error("the ID token has expired")]
    Expired,
    #[error("the ID token is issued in the future")]
    IssuedInFuture,
    #[error("the ID token's nonce is not this sign-in's")]
    Nonce,
    #[error("the token is not an ID token")]
    TokenUse,
    #[error("the ID token lacks a claim it needs")]
    MissingClaim,
}

impl TokenError {
    /// A stable code for the log.
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::Malformed => "id_token_malformed",
            TokenError::Algorithm => "id_token_algorithm",
            TokenError::UnknownKey => "id_token_unknown_key",
            TokenError::Signature => "id_token_signature",
            TokenError::Issuer => "id_token_issuer",
            TokenError::Audience => "id_token_audience",
            TokenError::Expired => "id_token_expired",
            TokenError::IssuedInFuture => "id_token_issued_in_future",
            TokenError::Nonce => "id_token_nonce",
            TokenError::TokenUse => "id_token_use",
            TokenError::MissingClaim => "id_token_missing_claim",
        }
    }
}

/// One RSA signing key of the provider.
#[derive(Clone, PartialEq, Eq)]
pub struct RsaKey {
    pub kid: Option<String>,
    /// The modulus, big-endian.
    pub n: Vec<u8>,
    /// The public exponent, big-endian.
    pub e: Vec<u8>,
}

impl std::fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RsaKey")
            .field("kid", &self.kid)
            .field("bits", &(self.n.len() * 8))
            .finish()
    }
}

/// The provider's signing keys (its JWKS), keeping only RSA keys meant for signatures
/// with RS256 (or no algorithm named).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeySet {
    pub keys: Vec<RsaKey>,
}

#[derive(Deserialize)]
struct RawKeySet {
    keys: Vec<RawKey>,
}

#[derive(Deserialize)]
struct RawKey {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

impl KeySet {
    /// From a JWKS document (RFC 7517). Keys of other types or uses are left out; an
    /// undecodable RSA key too.
    pub fn from_json(body: &[u8]) -> Result<KeySet, serde_json::Error> {
        let raw: RawKeySet = serde_json::from_slice(body)?;
        let keys = raw
            .keys
            .into_iter()
            .filter(|k| k.kty == "RSA")
            .filter(|k| k.use_.as_deref().is_none_or(|u| u == "sig"))
            .filter(|k| k.alg.as_deref().is_none_or(|a| a == "RS256"))
            .filter_map(|k| {
                let n = URL_SAFE_NO_PAD.decode(k.n?.as_bytes()).ok()?;
                let e = URL_SAFE_NO_PAD.decode(k.e?.as_bytes()).ok()?;
                Some(RsaKey { kid: k.kid, n, e })
            })
            .collect();
        Ok(KeySet { keys })
    }

    /// The key a token names; without a `kid`, the one key when there is exactly one
    /// (OpenID Connect Core 10.1: `kid` is needed only among several keys).
    fn find(&self, kid: Option<&str>) -> Option<&RsaKey> {
        match kid {
            Some(kid) => self.keys.iter().find(|k| k.kid.as_deref() == Some(kid)),
            None if self.keys.len() == 1 => self.keys.first(),
            None => None,
        }
    }
}

/// What the token must say.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The issuer, byte for byte.
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// The nonce stored with this sign-in.
    pub nonce: &'a str,
    /// Now, in seconds since the epoch.
    pub now: i64,
}

/// Who signed in, from a verified ID token.
#[derive(Clone, PartialEq, Eq)]
pub struct Claims {
    /// The provider's subject: stable, not personal.
    pub sub: String,
    /// Shown to the person: `name`, or `email`, or `cognito:username`, or `sub`.
    pub name: String,
    /// `cognito:groups`, and a federated person's directory groups (`custom:groups`).
    pub groups: Vec<String>,
}

/// Names stay out of logs.
impl std::fmt::Debug for Claims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claims")
            .field("sub", &self.sub)
            .field("groups", &self.groups)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
    crit: Option<Value>,
}

fn decode_part(part: &str) -> Result<Vec<u8>, TokenError> {
    URL_SAFE_NO_PAD
        .decode(part.as_bytes())
        .map_err(|_| TokenError::Malformed)
}

/// Checks an ID token's signature with `keys` and its claims against `expected`.
pub fn verify(token: &str, keys: &KeySet, expected: &Expected<'_>) -> Result<Claims, TokenError> {
    if token.len() > MAX_TOKEN {
        return Err(TokenError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let header: Header =
        serde_json::from_slice(&decode_part(header)?).map_err(|_| TokenError::Malformed)?;
    // Only RS256: never `none`, never an HMAC keyed with the public key.
    if header.alg != "RS256" {
        return Err(TokenError::Algorithm);
    }
    // No extension this client understands may be critical.
    if header.crit.is_some() {
        return Err(TokenError::Malformed);
    }
    let key = keys
        .find(header.kid.as_deref())
        .ok_or(TokenError::UnknownKey)?;
    let signature = decode_part(signature)?;
    let signed = &token.as_bytes()[..token.len() - signature_len(token)];
    ring::signature::RsaPublicKeyComponents {
        n: &key.n,
        e: &key.e,
    }
    .verify(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        signed,
        &signature,
    )
    .map_err(|_| TokenError::Signature)?;

    let claims: Value =
        serde_json::from_slice(&decode_part(payload)?).map_err(|_| TokenError::Malformed)?;
    let Value::Object(claims) = claims else {
        return Err(TokenError::Malformed);
    };
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let seconds = |name: &str| claims.get(name).and_then(Value::as_f64).map(|s| s as i64);

    if text("iss") != Some(expected.issuer) {
        return Err(TokenError::Issuer);
    }
    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => aud == expected.client_id,
        Some(Value::Array(auds)) => {
            auds.iter().any(|a| a.as_str() == Some(expected.client_id))
                && (auds.len() == 1 || text("azp") == Some(expected.client_id))
        }
        _ => false,
    };
    // An authorized party, when named, must be this client.
    if !audience_ok || text("azp").is_some_and(|azp| azp != expected.client_id) {
        return Err(TokenError::Audience);
    }
    let exp = seconds("exp").ok_or(TokenError::MissingClaim)?;
    if expected.now >= exp.saturating_add(LEEWAY_SECONDS) {
        return Err(TokenError::Expired);
    }
    let iat = seconds("iat").ok_or(TokenError::MissingClaim)?;
    if iat > expected.now.saturating_add(LEEWAY_SECONDS) {
        return Err(TokenError::IssuedInFuture);
    }
    let nonce = text("nonce").ok_or(TokenError::Nonce)?;
    if !same(nonce.as_bytes(), expected.nonce.as_bytes()) || expected.nonce.is_empty() {
        return Err(TokenError::Nonce);
    }
    // Cognito marks its tokens; an access token is never taken for an ID token.
    if claims.contains_key("token_use") && text("token_use") != Some("id") {
        return Err(TokenError::TokenUse);
    }
    let sub = text("sub")
        .filter(|s| !s.is_empty())
        .ok_or(TokenError::MissingClaim)?
        .to_owned();
    let name = ["name", "email", "cognito:username"]
        .iter()
        .filter_map(|n| text(n))
        .map(str::trim)
        .find(|n| !n.is_empty())
        .unwrap_or(&sub)
        .to_owned();
    let mut groups: Vec<String> = claims
        .get("cognito:groups")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    // A person federated from the organisation's directory: its groups, as the pool's
    // attribute mapping wrote them (`[a, b]` or `a,b`; no client may write this).
    if let Some(directory) = text("custom:groups") {
        for g in directory
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split(',')
            .map(str::trim)
            .filter(|g| !g.is_empty())
        {
            if !groups.iter().any(|have| have == g) {
                groups.push(g.to_owned());
            }
        }
    }
    Ok(Claims { sub, name, groups })
}

/// Length of the signature part with its dot.
fn signature_len(token: &str) -> usize {
    token.rfind('.').map_or(0, |dot| token.len() - dot)
}

/// Constant-time equality.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
    use serde_json::json;

    /// A TEST-ONLY RSA key (2048 bits, PKCS#8 DER), made once with `openssl genpkey`;
    /// it signs nothing but these tests' tokens.
    const TEST_KEY: &[u8] = include_bytes!("testdata/test-only-rsa-key.pk8");
    /// A second test-only key: "someone else's".
    const OTHER_KEY: &[u8] = include_bytes!("testdata/test-only-other-rsa-key.pk8");

    pub(crate) const ISSUER: &str = "https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_test";
    pub(crate) const CLIENT: &str = "console-client";
    pub(crate) const NONCE: &str = "n-0123456789";
    pub(crate) const NOW: i64 = 1_796_450_000;

    fn pair(der: &[u8]) -> RsaKeyPair {
        RsaKeyPair::from_pkcs8(der).expect("the test key")
    }

    /// The public half of a test key as a key set entry.
    pub(crate) fn public(der: &[u8], kid: &str) -> RsaKey {
        let pair = pair(der);
        let public = pair.public();
        let components: ring::signature::RsaPublicKeyComponents<Vec<u8>> = public.into();
        RsaKey {
            kid: Some(kid.into()),
            n: components.n,
            e: components.e,
        }
    }

    pub(crate) fn key_set() -> KeySet {
        KeySet {
            keys: vec![public(TEST_KEY, "k1")],
        }
    }

    fn b64(v: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(v)
    }

    /// A token of `header` and `claims` signed with `der`.
    pub(crate) fn sign_with(der: &[u8], header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let pair = pair(der);
        let mut sig = vec![0u8; pair.public().modulus_len()];
        pair.sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            input.as_bytes(),
            &mut sig,
        )
        .expect("signed");
        format!("{input}.{}", b64(&sig))
    }

    pub(crate) fn good_claims() -> Value {
        json!({
            "iss": ISSUER, "aud": CLIENT, "sub": "4a0f-sub", "nonce": NONCE,
            "exp": NOW + 3600, "iat": NOW - 5, "token_use": "id",
            "cognito:username": "ann", "email": "ann@example.org",
            "cognito:groups": ["postroom-foi-officer", "Other"],
        })
    }

    pub(crate) fn sign(claims: &Value) -> String {
        sign_with(TEST_KEY, &json!({"alg": "RS256", "kid": "k1"}), claims)
    }

    fn expected() -> Expected<'static> {
        Expected {
            issuer: ISSUER,
            client_id: CLIENT,
            nonce: NONCE,
            now: NOW,
        }
    }

    fn check(token: &str) -> Result<Claims, TokenError> {
        verify(token, &key_set(), &expected())
    }

    fn with(change: impl FnOnce(&mut serde_json::Map<String, Value>)) -> String {
        let mut claims = good_claims();
        change(claims.as_object_mut().expect("object"));
        sign(&claims)
    }

    #[test]
    fn a_federated_persons_directory_groups_join_the_pools() {
        for written in [
            "[postroom-case-handler, Finance]",
            "postroom-case-handler,Finance",
            " postroom-case-handler , Finance, ",
        ] {
            let claims = check(&with(|c| {
                c.insert("custom:groups".into(), json!(written));
            }))
            .expect("verified");
            assert_eq!(
                claims.groups,
                [
                    "postroom-foi-officer",
                    "Other",
                    "postroom-case-handler",
                    "Finance"
                ],
                "{written}"
            );
        }
        let same = check(&with(|c| {
            c.insert("custom:groups".into(), json!("postroom-foi-officer"));
        }))
        .expect("verified");
        assert_eq!(same.groups, ["postroom-foi-officer", "Other"], "no repeats");
    }

    #[test]
    fn a_good_token_gives_the_subject_name_and_groups() {
        let claims = check(&sign(&good_claims())).expect("verified");
        assert_eq!(claims.sub, "4a0f-sub");
        assert_eq!(claims.name, "ann@example.org");
        assert_eq!(claims.groups, ["postroom-foi-officer", "Other"]);
        assert!(!format!("{claims:?}").contains("ann@"));
        // `name` first, `sub` last.
        let named = check(&with(|c| {
            c.insert("name".into(), json!("Ann Example"));
        }))
        .expect("verified");
        assert_eq!(named.name, "Ann Example");
        let bare = check(&with(|c| {
            c.remove("email");
            c.remove("cognito:username");
            c.remove("cognito:groups");
        }))
        .expect("verified");
        assert_eq!((bare.name.as_str(), bare.groups.len()), ("4a0f-sub", 0));
    }

    #[test]
    fn algorithms_other_than_rs256_are_refused() {
        let claims = good_claims();
        let body = b64(claims.to_string().as_bytes());
        // `alg: none` with no signature, and with an empty one.
        for header in [json!({"alg": "none"}), json!({"alg": "none", "kid": "k1"})] {
            let h = b64(header.to_string().as_bytes());
            assert_eq!(check(&format!("{h}.{body}.")), Err(TokenError::Algorithm));
            assert_eq!(check(&format!("{h}.{body}")), Err(TokenError::Malformed));
        }
        // HS256 keyed with the public modulus (the classic confusion attack).
        let h = b64(json!({"alg": "HS256", "kid": "k1"}).to_string().as_bytes());
        let input = format!("{h}.{body}");
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key_set().keys[0].n);
        let tag = ring::hmac::sign(&key, input.as_bytes());
        assert_eq!(
            check(&format!("{input}.{}", b64(tag.as_ref()))),
            Err(TokenError::Algorithm)
        );
        for alg in ["RS384", "RS512", "PS256", "ES256", "rs256", ""] {
            let t = sign_with(TEST_KEY, &json!({"alg": alg, "kid": "k1"}), &claims);
            assert_eq!(check(&t), Err(TokenError::Algorithm), "{alg}");
        }
    }

    #[test]
    fn unknown_keys_and_bad_signatures_are_refused() {
        let claims = good_claims();
        let unknown = sign_with(TEST_KEY, &json!({"alg": "RS256", "kid": "k9"}), &claims);
        assert_eq!(check(&unknown), Err(TokenError::UnknownKey));
        // Signed by another key under our key's id.
        let forged = sign_with(OTHER_KEY, &json!({"alg": "RS256", "kid": "k1"}), &claims);
        assert_eq!(check(&forged), Err(TokenError::Signature));
        // A payload changed after signing (groups widened).
        let token = sign(&claims);
        let parts: Vec<&str> = token.split('.').collect();
        let mut tampered = claims.clone();
        tampered["cognito:groups"] = json!(["postroom-admin"]);
        let tampered = format!(
            "{}.{}.{}",
            parts[0],
            b64(tampered.to_string().as_bytes()),
            parts[2]
        );
        assert_eq!(check(&tampered), Err(TokenError::Signature));
        // A flipped signature bit.
        let mut sig = URL_SAFE_NO_PAD.decode(parts[2]).expect("b64");
        sig[10] ^= 1;
        let flipped = format!("{}.{}.{}", parts[0], parts[1], b64(&sig));
        assert_eq!(check(&flipped), Err(TokenError::Signature));
        // Without a kid: the one key, or refused among several.
        let no_kid = sign_with(TEST_KEY, &json!({"alg": "RS256"}), &claims);
        assert!(check(&no_kid).is_ok());
        let two = KeySet {
            keys: vec![public(OTHER_KEY, "k0"), public(TEST_KEY, "k1")],
        };
        assert_eq!(
            verify(&no_kid, &two, &expected()),
            Err(TokenError::UnknownKey)
        );
        assert!(verify(&sign(&claims), &two, &expected()).is_ok());
        // A critical header extension.
        let crit = sign_with(
            TEST_KEY,
            &json!({"alg": "RS256", "kid": "k1", "crit": ["exp"]}),
            &claims,
        );
        assert_eq!(check(&crit), Err(TokenError::Malformed));
    }

    #[test]
    fn claims_must_match_this_client_and_sign_in() {
        let cases: Vec<(String, TokenError)> = vec![
            (
                with(|c| {
                    c.insert("iss".into(), json!(format!("{ISSUER}/")));
                }),
                TokenError::Issuer,
            ),
            (
                with(|c| {
                    c.remove("iss");
                }),
                TokenError::Issuer,
            ),
            (
                with(|c| {
                    c.insert("aud".into(), json!("another-client"));
                }),
                TokenError::Audience,
            ),
            (
                with(|c| {
                    c.insert("aud".into(), json!([CLIENT, "another-client"]));
                }),
                TokenError::Audience,
            ),
            (
                with(|c| {
                    c.insert("azp".into(), json!("another-client"));
                }),
                TokenError::Audience,
            ),
            (
                with(|c| {
                    c.remove("aud");
                }),
                TokenError::Audience,
            ),
            (
                with(|c| {
                    c.insert("exp".into(), json!(NOW - LEEWAY_SECONDS));
                }),
                TokenError::Expired,
            ),
            (
                with(|c| {
                    c.remove("exp");
                }),
                TokenError::MissingClaim,
            ),
            (
                with(|c| {
                    c.insert("iat".into(), json!(NOW + LEEWAY_SECONDS + 1));
                }),
                TokenError::IssuedInFuture,
            ),
            (
                with(|c| {
                    c.insert("nonce".into(), json!("n-0123456788"));
                }),
                TokenError::Nonce,
            ),
            (
                with(|c| {
                    c.remove("nonce");
                }),
                TokenError::Nonce,
            ),
            (
                with(|c| {
                    c.insert("token_use".into(), json!("access"));
                }),
                TokenError::TokenUse,
            ),
            (
                with(|c| {
                    c.insert("sub".into(), json!(""));
                }),
                TokenError::MissingClaim,
            ),
        ];
        for (token, error) in cases {
            assert_eq!(check(&token), Err(error.clone()), "{}", error.code());
        }
        // Within the leeway, and an audience list holding only this client, or others
        // with this client as the authorized party.
        for ok in [
            with(|c| {
                c.insert("exp".into(), json!(NOW - LEEWAY_SECONDS + 1));
            }),
            with(|c| {
                c.insert("iat".into(), json!(NOW + LEEWAY_SECONDS));
            }),
            with(|c| {
                c.insert("aud".into(), json!([CLIENT]));
            }),
            with(|c| {
                c.insert("aud".into(), json!([CLIENT, "api"]));
                c.insert("azp".into(), json!(CLIENT));
            }),
        ] {
            assert!(check(&ok).is_ok());
        }
        // An empty expected nonce matches nothing.
        let empty = with(|c| {
            c.insert("nonce".into(), json!(""));
        });
        let e = Expected {
            nonce: "",
            ..expected()
        };
        assert_eq!(verify(&empty, &key_set(), &e), Err(TokenError::Nonce));
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for t in [
            "",
            ".",
            "..",
            "a.b.c",
            "a.b.c.d",
            "eyJhbGciOiJSUzI1NiJ9..",
            "eyJhbGciOiJSUzI1NiJ9.e30.",
            &"a".repeat(MAX_TOKEN + 1),
        ] {
            assert!(check(t).is_err(), "{t:.20}");
        }
    }

    #[test]
    fn key_sets_keep_only_rsa_signing_keys() {
        let n = b64(&key_set().keys[0].n);
        let body = json!({"keys": [
            {"kty": "RSA", "kid": "a", "n": n, "e": "AQAB", "use": "sig", "alg": "RS256"},
            {"kty": "RSA", "kid": "b", "n": n, "e": "AQAB"},
            {"kty": "RSA", "kid": "c", "n": n, "e": "AQAB", "use": "enc"},
            {"kty": "RSA", "kid": "d", "n": n, "e": "AQAB", "alg": "RS512"},
            {"kty": "EC", "kid": "e", "crv": "P-256", "x": "AA", "y": "AA"},
            {"kty": "oct", "kid": "f", "k": "c2VjcmV0"},
            {"kty": "RSA", "kid": "g", "n": "!!", "e": "AQAB"},
        ]});
        let set = KeySet::from_json(body.to_string().as_bytes()).expect("parsed");
        let kids: Vec<_> = set.keys.iter().filter_map(|k| k.kid.as_deref()).collect();
        assert_eq!(kids, ["a", "b"]);
        assert!(KeySet::from_json(b"{}").is_err());
    }
}
