//! Sign-in with OpenID Connect (the authorization code flow with PKCE, `state` and
//! `nonce`), as the console uses it on AWS against a Cognito user pool.

/// The provider and this client, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcSettings {
    /// The issuer URL (its `/.well-known/openid-configuration` is read).
    pub issuer: String,
    pub client_id: String,
    /// Where the provider sends people back: `<console origin>/auth/callback`.
    pub redirect_uri: String,
    /// Groups are named `<prefix><role>` (`postroom-case-handler`).
    pub group_prefix: String,
}
