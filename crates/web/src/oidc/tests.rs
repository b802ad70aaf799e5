//! The client's flow against canned provider answers: discovery checks and caching, the
//! authorization URL, the token exchange as a public client, key rotation and its rate
//! limit, and group-to-role mapping.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::jwt::tests::{CLIENT, ISSUER, NONCE, NOW, good_claims, key_set, public, sign_with};
use super::*;

const TEST_KEY: &[u8] = include_bytes!("testdata/test-only-rsa-key.pk8");
const OTHER_KEY: &[u8] = include_bytes!("testdata/test-only-other-rsa-key.pk8");

/// Answers from a table of URL → reply, and remembers every request.
#[derive(Debug, Default)]
struct Canned {
    replies: Mutex<HashMap<String, Reply>>,
    calls: Mutex<Vec<(String, Option<String>)>>,
}

impl Canned {
    fn answer(&self, url: &str, status: u16, body: &Value) {
        self.replies.lock().expect("lock").insert(
            url.to_owned(),
            Reply {
                status,
                body: body.to_string().into_bytes(),
            },
        );
    }

    fn calls_to(&self, url: &str) -> usize {
        self.calls
            .lock()
            .expect("lock")
            .iter()
            .filter(|(u, _)| u == url)
            .count()
    }

    fn reply(&self, url: &str, form: Option<&str>) -> Result<Reply, OidcError> {
        self.calls
            .lock()
            .expect("lock")
            .push((url.to_owned(), form.map(str::to_owned)));
        self.replies
            .lock()
            .expect("lock")
            .get(url)
            .cloned()
            .ok_or_else(|| OidcError::Unavailable(format!("nothing at {url}")))
    }
}

#[async_trait::async_trait]
impl Http for Canned {
    async fn get(&self, url: &str) -> Result<Reply, OidcError> {
        self.reply(url, None)
    }
    async fn post_form(&self, url: &str, form: &str) -> Result<Reply, OidcError> {
        self.reply(url, Some(form))
    }
}

const DISCOVERY_URL: &str =
    "https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_test/.well-known/openid-configuration";
const JWKS: &str =
    "https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_test/.well-known/jwks.json";
const TOKEN: &str = "https://postroom-test.auth.eu-west-2.amazoncognito.com/oauth2/token";

fn settings() -> OidcSettings {
    OidcSettings {
        issuer: ISSUER.into(),
        client_id: CLIENT.into(),
        redirect_uri: "https://console.example.org/auth/callback".into(),
        group_prefix: "postroom-".into(),
        post_logout_redirect_uri: "https://console.example.org/signed-out".into(),
        logout_url: None,
    }
}

fn discovery_doc() -> Value {
    json!({
        "issuer": ISSUER,
        "authorization_endpoint": "https://postroom-test.auth.eu-west-2.amazoncognito.com/oauth2/authorize",
        "token_endpoint": TOKEN,
        "jwks_uri": JWKS,
        "userinfo_endpoint": "https://postroom-test.auth.eu-west-2.amazoncognito.com/oauth2/userInfo",
        "id_token_signing_alg_values_supported": ["RS256"],
    })
}

fn jwks_of(keys: &[(&[u8], &str)]) -> Value {
    let keys: Vec<Value> = keys
        .iter()
        .map(|(der, kid)| {
            let k = public(der, kid);
            json!({"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
                   "n": URL_SAFE_NO_PAD.encode(&k.n), "e": URL_SAFE_NO_PAD.encode(&k.e)})
        })
        .collect();
    json!({ "keys": keys })
}

fn provider() -> (Arc<Canned>, Client) {
    let canned = Arc::new(Canned::default());
    canned.answer(DISCOVERY_URL, 200, &discovery_doc());
    canned.answer(JWKS, 200, &jwks_of(&[(TEST_KEY, "k1")]));
    let client = Client::new(settings(), canned.clone());
    (canned, client)
}

fn query_of(url: &str) -> HashMap<String, String> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| {
            let v = percent_encoding::percent_decode_str(v)
                .decode_utf8()
                .expect("utf-8");
            (k.to_owned(), v.into_owned())
        })
        .collect()
}

#[tokio::test]
async fn discovery_is_checked_and_fetched_once() {
    let (canned, client) = provider();
    let d = client.discovery().await.expect("discovery");
    assert_eq!(d.token_endpoint, TOKEN);
    client.discovery().await.expect("cached");
    assert_eq!(canned.calls_to(DISCOVERY_URL), 1);

    // An issuer differing by one byte (a trailing slash) is refused.
    for issuer in [
        format!("{ISSUER}/"),
        ISSUER.replace("eu-west-2_test", "eu-west-2_tesT"),
    ] {
        let canned = Canned::default();
        let mut doc = discovery_doc();
        doc["issuer"] = json!(issuer);
        canned.answer(DISCOVERY_URL, 200, &doc);
        let e = Discovery::fetch(&canned, ISSUER)
            .await
            .expect_err("refused");
        assert!(matches!(e, OidcError::Config(_)), "{e}");
    }
    // Endpoints over plain HTTP to a remote host are refused.
    let canned = Canned::default();
    let mut doc = discovery_doc();
    doc["token_endpoint"] =
        json!("http://postroom-test.auth.eu-west-2.amazoncognito.com/oauth2/token");
    canned.answer(DISCOVERY_URL, 200, &doc);
    assert!(matches!(
        Discovery::fetch(&canned, ISSUER).await,
        Err(OidcError::Config(_))
    ));
    // A remote plain-HTTP issuer is refused before anything is fetched.
    let canned = Canned::default();
    assert!(matches!(
        Discovery::fetch(&canned, "http://idp.example.org").await,
        Err(OidcError::Config(_))
    ));
    assert!(canned.calls.lock().expect("lock").is_empty());
    // A failed discovery is not cached.
    let canned = Arc::new(Canned::default());
    let client = Client::new(settings(), canned.clone());
    assert!(client.discovery().await.is_err());
    canned.answer(DISCOVERY_URL, 200, &discovery_doc());
    assert!(client.discovery().await.is_ok());
}

#[tokio::test]
async fn the_authorization_url_carries_state_nonce_and_the_s256_challenge() {
    let (_, client) = provider();
    let pkce = Pkce::new();
    let url = client
        .authorization_url("st&ate=1", "nonce 2", &pkce.challenge)
        .await
        .expect("url");
    assert!(
        url.starts_with("https://postroom-test.auth.eu-west-2.amazoncognito.com/oauth2/authorize?")
    );
    let q = query_of(&url);
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], CLIENT);
    assert_eq!(
        q["redirect_uri"],
        "https://console.example.org/auth/callback"
    );
    assert_eq!(q["scope"], "openid email profile");
    assert_eq!(q["state"], "st&ate=1");
    assert_eq!(q["nonce"], "nonce 2");
    assert_eq!(q["code_challenge"], pkce.challenge);
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q.len(), 8);
}

#[tokio::test]
async fn the_code_is_exchanged_as_a_public_client_and_the_token_verified() {
    let (canned, client) = provider();
    let token = sign_with(
        TEST_KEY,
        &json!({"alg": "RS256", "kid": "k1"}),
        &good_claims(),
    );
    canned.answer(
        TOKEN,
        200,
        &json!({"id_token": token, "access_token": "a", "token_type": "Bearer"}),
    );
    let claims = client
        .complete("the-code", "the-verifier", NONCE, NOW)
        .await
        .expect("signed in");
    assert_eq!(claims.sub, "4a0f-sub");
    let calls = canned.calls.lock().expect("lock").clone();
    let (_, form) = calls.iter().find(|(u, _)| u == TOKEN).expect("token call");
    let form = query_of(&format!("?{}", form.as_deref().expect("a form")));
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["code"], "the-code");
    assert_eq!(form["code_verifier"], "the-verifier");
    assert_eq!(form["client_id"], CLIENT);
    assert_eq!(
        form["redirect_uri"],
        "https://console.example.org/auth/callback"
    );
    assert_eq!(form.len(), 5, "no secret: {form:?}");
    // The wrong nonce, with the same good token.
    assert!(matches!(
        client.complete("the-code", "v", "another-nonce", NOW).await,
        Err(OidcError::Token(TokenError::Nonce))
    ));
    // The provider's refusals.
    canned.answer(TOKEN, 400, &json!({"error": "invalid_grant"}));
    let e = client.exchange("c", "v").await.expect_err("refused");
    assert!(matches!(e, OidcError::Provider(_)) && e.to_string().contains("invalid_grant"));
    canned.answer(TOKEN, 503, &json!("down"));
    assert!(matches!(
        client.exchange("c", "v").await,
        Err(OidcError::Unavailable(_))
    ));
    canned.answer(TOKEN, 200, &json!({"access_token": "a"}));
    assert!(matches!(
        client.exchange("c", "v").await,
        Err(OidcError::Provider(_))
    ));
}

#[tokio::test]
async fn an_unknown_key_fetches_the_keys_again_at_most_once_a_minute() {
    let (canned, client) = provider();
    let ok = |kid: &str, der: &[u8]| {
        sign_with(der, &json!({"alg": "RS256", "kid": kid}), &good_claims())
    };
    client
        .verify(&ok("k1", TEST_KEY), NONCE, NOW)
        .await
        .expect("k1");
    assert_eq!(canned.calls_to(JWKS), 1);
    client
        .verify(&ok("k1", TEST_KEY), NONCE, NOW)
        .await
        .expect("cached");
    assert_eq!(canned.calls_to(JWKS), 1);
    // The provider rotates to k2 (signed with the other key): within the minute since
    // the last fetch, no refetch, so the token is refused as of an unknown key.
    canned.answer(JWKS, 200, &jwks_of(&[(TEST_KEY, "k1"), (OTHER_KEY, "k2")]));
    let rotated = ok("k2", OTHER_KEY);
    assert!(matches!(
        client.verify(&rotated, NONCE, NOW).await,
        Err(OidcError::Token(TokenError::UnknownKey))
    ));
    assert_eq!(canned.calls_to(JWKS), 1);
    // A minute later the unknown id fetches the set again, once.
    client.keys.lock().await.fetched = Some(Instant::now() - KEYS_REFRESH);
    client
        .verify(&rotated, NONCE, NOW)
        .await
        .expect("k2 after refetch");
    assert_eq!(canned.calls_to(JWKS), 2);
    assert!(matches!(
        client.verify(&ok("k3", OTHER_KEY), NONCE, NOW).await,
        Err(OidcError::Token(TokenError::UnknownKey))
    ));
    assert_eq!(canned.calls_to(JWKS), 2);
    // The checks of jwt.rs run here too.
    assert_eq!(key_set().keys.len(), 1);
    let tampered = {
        let t = ok("k1", TEST_KEY);
        let mut p: Vec<String> = t.split('.').map(str::to_owned).collect();
        let mut claims = good_claims();
        claims["sub"] = json!("someone-else");
        p[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
        p.join(".")
    };
    assert!(matches!(
        client.verify(&tampered, NONCE, NOW).await,
        Err(OidcError::Token(TokenError::Signature))
    ));
}

#[test]
fn groups_with_the_prefix_give_roles() {
    let roles = [
        "case-handler",
        "foi-officer",
        "foi-approver",
        "letters",
        "admin",
    ];
    let groups: Vec<String> = [
        "postroom-foi-officer",
        "postroom-admin",
        "postroom-admin",
        "admin",
        "Postroom-letters",
        "postroom-postroom-letters",
        "postroom-case-handler-x",
        "other-postroom-foi-approver",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(
        roles_of(&groups, "postroom-", &roles),
        ["foi-officer", "admin"]
    );
    assert!(roles_of(&[], "postroom-", &roles).is_empty());
    assert!(roles_of(&["other".into()], "postroom-", &roles).is_empty());
}

#[test]
fn error_codes_are_stable() {
    assert_eq!(OidcError::Config(String::new()).code(), "oidc_config");
    assert_eq!(OidcError::Token(TokenError::Nonce).code(), "id_token_nonce");
}

#[tokio::test]
async fn sign_out_goes_to_cognitos_logout_beside_its_authorize_endpoint() {
    // Cognito's discovery document names no end_session_endpoint.
    let (_, client) = provider();
    let url = client
        .end_session_url()
        .await
        .expect("a URL")
        .expect("Cognito has a sign-out");
    let (base, _) = url.split_once('?').expect("a query");
    assert_eq!(
        base,
        "https://postroom-test.auth.eu-west-2.amazoncognito.com/logout"
    );
    let q = query_of(&url);
    assert_eq!(q.len(), 2, "{url}");
    assert_eq!(q["client_id"], CLIENT);
    assert_eq!(q["logout_uri"], "https://console.example.org/signed-out");
}

#[test]
fn sign_out_prefers_the_discovered_end_session_endpoint_then_the_configured_one() {
    let mut doc: Discovery = serde_json::from_value(discovery_doc()).expect("a document");
    let mut s = settings();
    s.logout_url = Some("https://login.example.org/signout?tenant=a".into());
    // The configured address, with Cognito's parameters, added to its own query.
    let url = end_session_url(&s, &doc).expect("ok").expect("a URL");
    assert!(
        url.starts_with("https://login.example.org/signout?tenant=a&"),
        "{url}"
    );
    assert_eq!(query_of(&url)["logout_uri"], s.post_logout_redirect_uri);

    // A discovered endpoint wins, with the OpenID Connect parameters.
    doc.end_session_endpoint = Some("https://idp.example.org/oidc/logout".into());
    let url = end_session_url(&s, &doc).expect("ok").expect("a URL");
    assert!(
        url.starts_with("https://idp.example.org/oidc/logout?"),
        "{url}"
    );
    let q = query_of(&url);
    assert_eq!(q["client_id"], CLIENT);
    assert_eq!(
        q["post_logout_redirect_uri"],
        "https://console.example.org/signed-out"
    );
    assert!(!q.contains_key("logout_uri") && !q.contains_key("id_token_hint"));

    // Plain HTTP to a remote host is refused, as for every other endpoint.
    doc.end_session_endpoint = Some("http://idp.example.org/logout".into());
    assert!(matches!(
        end_session_url(&s, &doc),
        Err(OidcError::Config(_))
    ));

    // Not Cognito, nothing discovered, nothing configured: no sign-out at the provider.
    doc.end_session_endpoint = None;
    s.logout_url = None;
    s.issuer = "https://login.example.org".into();
    assert_eq!(end_session_url(&s, &doc).expect("ok"), None);
    // A look-alike host is not taken for Cognito.
    s.issuer = "https://cognito-idp.eu-west-2.amazonaws.com.evil.example/pool".into();
    assert_eq!(end_session_url(&s, &doc).expect("ok"), None);
}
