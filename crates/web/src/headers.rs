//! The security headers every console answer carries, and its Content Security Policy:
//! no inline script or style, nothing from another origin except, on AWS, the bucket
//! that upload forms post to and previews are framed from.

/// The Content Security Policy for the console's pages. `bucket_origin` is the S3
/// origin that upload forms post to and previews come from (on AWS), if any.
pub fn content_security_policy(bucket_origin: Option<&str>) -> String {
    let extra = bucket_origin.map(|o| format!(" {o}")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
         font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         frame-ancestors 'self'; form-action 'self'{extra}; frame-src 'self'{extra}"
    )
}

/// The headers every answer carries besides the policy (name, value). HSTS only when
/// the console is served over HTTPS.
pub fn security_headers(https: bool) -> Vec<(&'static str, &'static str)> {
    let mut headers = vec![
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
        ("cross-origin-opener-policy", "same-origin"),
        ("cross-origin-resource-policy", "same-origin"),
        ("x-frame-options", "SAMEORIGIN"),
        (
            "permissions-policy",
            "camera=(), microphone=(), geolocation=()",
        ),
    ];
    if https {
        headers.push((
            "strict-transport-security",
            "max-age=31536000; includeSubDomains",
        ));
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_no_inline_script_and_names_the_bucket_only_when_given() {
        let local = content_security_policy(None);
        assert!(local.contains("script-src 'self';"));
        assert!(!local.contains("unsafe-inline"));
        assert!(local.contains("form-action 'self';"));
        let aws = content_security_policy(Some("https://b.s3.eu-west-2.amazonaws.com"));
        assert!(aws.contains("form-action 'self' https://b.s3.eu-west-2.amazonaws.com;"));
    }

    #[test]
    fn hsts_only_over_https() {
        let has = |https| {
            security_headers(https)
                .iter()
                .any(|(n, _)| *n == "strict-transport-security")
        };
        assert!(has(true));
        assert!(!has(false));
    }
}
