//! Presigned POST forms, pure: the POST policy that fixes what a browser may upload
//! straight to S3 (key prefix, size range, redirect, metadata), and its SigV4 signature.
//! `S3Blobs::presign_post` supplies the credentials, the region, the URL and the clock.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::blobs::{PostRequest, PresignedPost};
use super::error::{StoreError, StoreResult};

/// The only algorithm S3 takes for SigV4 POST forms.
const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The service in the credential scope.
const SERVICE: &str = "s3";

/// The credentials that sign a form. The secret never leaves this module: it is not in
/// the form, and `Debug` leaves it out.
pub(crate) struct SigningKeys<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    /// Temporary credentials (a role, SSO) only; it goes into the form and the policy.
    pub session_token: Option<&'a str>,
}

impl std::fmt::Debug for SigningKeys<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeys")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// Where and when a form is signed.
#[derive(Debug, Clone)]
pub(crate) struct Scope<'a> {
    pub bucket: &'a str,
    pub region: &'a str,
    /// The form's action.
    pub url: String,
    /// The signing time (`x-amz-date`, the credential scope's date).
    pub now: SystemTime,
    /// The policy's expiration.
    pub expires_at: SystemTime,
}

/// Builds the form: the policy from the request, signed with the keys. Metadata values
/// go into the policy and the fields exactly as given (the caller encodes them as the
/// store keeps them). Times are cut to whole seconds.
pub(crate) fn presign(
    scope: &Scope<'_>,
    keys: &SigningKeys<'_>,
    request: &PostRequest,
) -> StoreResult<PresignedPost> {
    request.validate()?;
    if scope.bucket.is_empty() || scope.region.is_empty() || keys.access_key_id.is_empty() {
        return Err(StoreError::invalid(
            "a presigned POST needs a bucket, a region and an access key",
        ));
    }
    let now = whole_seconds(scope.now)?;
    let expires_at = whole_seconds(scope.expires_at)?;
    if expires_at <= now {
        return Err(StoreError::invalid(
            "a presigned POST must expire after it is signed",
        ));
    }
    let amz_date = amz_date(now)?;
    let credential = format!(
        "{}/{}/{}/{SERVICE}/aws4_request",
        keys.access_key_id,
        &amz_date[..8],
        scope.region
    );

    // The form's fields in order; the policy names each of them (S3 refuses a form
    // with a field the policy does not cover), plus the bucket and the size range.
    let mut fields: Vec<(String, String)> = vec![
        (
            "key".to_owned(),
            format!("{}${{filename}}", request.key_prefix),
        ),
        (
            "success_action_redirect".to_owned(),
            request.redirect.clone(),
        ),
    ];
    fields.extend(
        request
            .metadata
            .iter()
            .map(|(k, v)| (format!("x-amz-meta-{k}"), v.clone())),
    );
    fields.push(("x-amz-algorithm".to_owned(), ALGORITHM.to_owned()));
    fields.push(("x-amz-credential".to_owned(), credential));
    fields.push(("x-amz-date".to_owned(), amz_date));
    if let Some(token) = keys.session_token {
        fields.push(("x-amz-security-token".to_owned(), token.to_owned()));
    }

    let mut conditions = vec![
        exact("bucket", scope.bucket),
        json!(["starts-with", "$key", request.key_prefix]),
        json!(["content-length-range", 1, request.max_bytes]),
    ];
    conditions.extend(
        fields
            .iter()
            .filter(|(name, _)| name != "key")
            .map(|(name, value)| exact(name, value)),
    );
    let policy = json!({
        "expiration": iso8601(expires_at)?,
        "conditions": conditions,
    })
    .to_string();
    let policy = base64::engine::general_purpose::STANDARD.encode(policy);
    let signature = sign(keys.secret_access_key, now, scope.region, &policy);
    fields.push(("policy".to_owned(), policy));
    fields.push(("x-amz-signature".to_owned(), signature));

    Ok(PresignedPost {
        url: scope.url.clone(),
        fields,
        expires_at,
    })
}

/// The SigV4 signature of a base64 POST policy: hex(HMAC-SHA256(signing key for the
/// day of `date`, `region` and `s3`, the base64 text)).
pub(crate) fn sign(
    secret_access_key: &str,
    date: SystemTime,
    region: &str,
    policy: &str,
) -> String {
    let key = aws_sigv4::sign::v4::generate_signing_key(secret_access_key, date, region, SERVICE);
    aws_sigv4::sign::v4::calculate_signature(key, policy.as_bytes())
}

/// `{"name": "value"}`: a condition the field must equal.
fn exact(name: &str, value: &str) -> Value {
    let mut map = Map::new();
    map.insert(name.to_owned(), Value::String(value.to_owned()));
    Value::Object(map)
}

fn whole_seconds(t: SystemTime) -> StoreResult<SystemTime> {
    let since = t
        .duration_since(UNIX_EPOCH)
        .map_err(|_| StoreError::invalid("a time before 1970 in a presigned POST"))?;
    Ok(UNIX_EPOCH + Duration::from_secs(since.as_secs()))
}

/// Year, month, day, hour, minute, second in UTC.
fn utc_parts(t: SystemTime) -> StoreResult<(i64, u32, u32, u64, u64, u64)> {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map_err(|_| StoreError::invalid("a time before 1970 in a presigned POST"))?
        .as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    Ok((y, m, d, rest / 3600, rest % 3600 / 60, rest % 60))
}

/// The policy's expiration: `2015-12-30T12:00:00.000Z`.
fn iso8601(t: SystemTime) -> StoreResult<String> {
    let (y, mo, d, h, mi, s) = utc_parts(t)?;
    Ok(format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.000Z"))
}

/// `x-amz-date`: `20151229T000000Z`.
fn amz_date(t: SystemTime) -> StoreResult<String> {
    let (y, mo, d, h, mi, s) = utc_parts(t)?;
    Ok(format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z"))
}

/// The proleptic Gregorian date of a day count from 1970-01-01 (H. Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// AWS's published example ("Example: Browser-Based Upload using HTTP POST (Using AWS
    /// Signature Version 4)", S3 API reference, sigv4-post-example): its policy (CRLF line
    /// ends) in base64, the example credentials, 2015-12-29, us-east-1, and the signature
    /// the page gives.
    const AWS_POLICY_B64: &str = "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9";
    const AWS_SIGNATURE: &str = "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e";
    // AWS's documentation example credentials (not a real key): the published
    // signature below is computed with them.
    const EXAMPLE_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
    const EXAMPLE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    /// 2015-12-29T00:00:00Z, the example's x-amz-date.
    const EXAMPLE_NOW: u64 = 1_451_347_200;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn request() -> PostRequest {
        PostRequest {
            key_prefix: "inbox/console/u-17/".to_owned(),
            max_bytes: 50 * 1024 * 1024,
            redirect: "https://console.example/upload/done".to_owned(),
            metadata: BTreeMap::from([
                ("uploaded-by".to_owned(), "u-17".to_owned()),
                ("batch".to_owned(), "b-0042".to_owned()),
            ]),
            expires_in: Duration::from_secs(900),
        }
    }

    fn scope() -> Scope<'static> {
        Scope {
            bucket: "postroom-documents",
            region: "eu-west-2",
            url: "https://postroom-documents.s3.eu-west-2.amazonaws.com/".to_owned(),
            now: at(EXAMPLE_NOW) + Duration::from_millis(750),
            expires_at: at(EXAMPLE_NOW + 900) + Duration::from_millis(750),
        }
    }

    fn keys(session_token: Option<&'static str>) -> SigningKeys<'static> {
        SigningKeys {
            access_key_id: EXAMPLE_KEY_ID,
            secret_access_key: EXAMPLE_SECRET,
            session_token,
        }
    }

    fn decoded_policy(form: &PresignedPost) -> Value {
        let b64 = form.field("policy").expect("a policy field");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .expect("base64");
        serde_json::from_slice(&bytes).expect("JSON")
    }

    /// What S3 does with a submitted form, for the conditions this module writes: every
    /// condition holds for the form's fields (with `${filename}` replaced) and the file's
    /// size, and every field but `policy`, `x-amz-signature` and `file` is covered by one.
    fn policy_allows(policy: &Value, bucket: &str, form: &[(String, String)], size: u64) -> bool {
        let value_of = |name: &str| {
            if name == "bucket" {
                return Some(bucket.to_owned());
            }
            form.iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let mut covered = vec!["policy".to_owned(), "x-amz-signature".to_owned()];
        for condition in policy["conditions"].as_array().expect("conditions") {
            let holds = match condition {
                Value::Object(map) => map.iter().all(|(name, want)| {
                    covered.push(name.to_ascii_lowercase());
                    value_of(name).as_deref() == want.as_str()
                }),
                Value::Array(items) => match items[0].as_str() {
                    Some("starts-with") => {
                        let name = items[1].as_str().expect("$name").trim_start_matches('$');
                        covered.push(name.to_ascii_lowercase());
                        let prefix = items[2].as_str().expect("prefix");
                        value_of(name).is_some_and(|v| v.starts_with(prefix))
                    }
                    Some("content-length-range") => {
                        let (lo, hi) = (items[1].as_u64(), items[2].as_u64());
                        lo.is_some_and(|lo| size >= lo) && hi.is_some_and(|hi| size <= hi)
                    }
                    other => panic!("a condition this checker does not know: {other:?}"),
                },
                other => panic!("a malformed condition: {other}"),
            };
            if !holds {
                return false;
            }
        }
        form.iter()
            .all(|(name, _)| covered.contains(&name.to_ascii_lowercase()))
    }

    /// The fields as a browser sends them for a file named `name`.
    fn submitted(form: &PresignedPost, name: &str) -> Vec<(String, String)> {
        form.fields
            .iter()
            .map(|(n, v)| (n.clone(), v.replace("${filename}", name)))
            .collect()
    }

    #[test]
    fn signature_matches_awss_published_example() {
        let signature = sign(EXAMPLE_SECRET, at(EXAMPLE_NOW), "us-east-1", AWS_POLICY_B64);
        assert_eq!(signature, AWS_SIGNATURE);
        // Any time on that day signs alike (the key is scoped to the date).
        let later = sign(
            EXAMPLE_SECRET,
            at(EXAMPLE_NOW + 86_399),
            "us-east-1",
            AWS_POLICY_B64,
        );
        assert_eq!(later, AWS_SIGNATURE);
        assert_ne!(
            sign(EXAMPLE_SECRET, at(EXAMPLE_NOW), "eu-west-2", AWS_POLICY_B64),
            AWS_SIGNATURE
        );
    }

    #[test]
    fn the_form_is_signed_over_its_own_policy_with_the_scope_it_names() {
        let form = presign(&scope(), &keys(None), &request()).expect("presign");
        assert_eq!(
            form.field("x-amz-credential"),
            Some("AKIAIOSFODNN7EXAMPLE/20151229/eu-west-2/s3/aws4_request")
        );
        assert_eq!(form.field("x-amz-date"), Some("20151229T000000Z"));
        assert_eq!(form.field("x-amz-algorithm"), Some("AWS4-HMAC-SHA256"));
        let policy = form.field("policy").expect("policy");
        assert_eq!(
            form.field("x-amz-signature"),
            Some(sign(EXAMPLE_SECRET, at(EXAMPLE_NOW), "eu-west-2", policy).as_str())
        );
        assert_eq!(form.url, scope().url);
        assert_eq!(form.expires_at, at(EXAMPLE_NOW + 900));
        // The secret is nowhere in the form.
        assert!(
            form.fields
                .iter()
                .all(|(n, v)| !n.contains(EXAMPLE_SECRET) && !v.contains(EXAMPLE_SECRET))
        );
    }

    #[test]
    fn the_fields_come_in_order_with_the_key_under_the_prefix() {
        let form =
            presign(&scope(), &keys(Some("token/with+chars=")), &request()).expect("presign");
        let names: Vec<&str> = form.fields.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "key",
                "success_action_redirect",
                "x-amz-meta-batch",
                "x-amz-meta-uploaded-by",
                "x-amz-algorithm",
                "x-amz-credential",
                "x-amz-date",
                "x-amz-security-token",
                "policy",
                "x-amz-signature",
            ]
        );
        assert_eq!(form.field("key"), Some("inbox/console/u-17/${filename}"));
        assert_eq!(
            form.field("x-amz-security-token"),
            Some("token/with+chars=")
        );
        let without = presign(&scope(), &keys(None), &request()).expect("presign");
        assert_eq!(without.field("x-amz-security-token"), None);
        assert!(
            !decoded_policy(&without)
                .to_string()
                .contains("x-amz-security-token")
        );
    }

    #[test]
    fn the_policy_pins_prefix_size_redirect_and_metadata() {
        let form = presign(&scope(), &keys(Some("tok")), &request()).expect("presign");
        let policy = decoded_policy(&form);
        assert_eq!(policy["expiration"], "2015-12-29T00:15:00.000Z");
        let conditions = policy["conditions"].as_array().expect("conditions").clone();
        assert_eq!(
            conditions,
            vec![
                json!({"bucket": "postroom-documents"}),
                json!(["starts-with", "$key", "inbox/console/u-17/"]),
                json!(["content-length-range", 1, 52_428_800]),
                json!({"success_action_redirect": "https://console.example/upload/done"}),
                json!({"x-amz-meta-batch": "b-0042"}),
                json!({"x-amz-meta-uploaded-by": "u-17"}),
                json!({"x-amz-algorithm": "AWS4-HMAC-SHA256"}),
                json!({"x-amz-credential": "AKIAIOSFODNN7EXAMPLE/20151229/eu-west-2/s3/aws4_request"}),
                json!({"x-amz-date": "20151229T000000Z"}),
                json!({"x-amz-security-token": "tok"}),
            ]
        );
    }

    #[test]
    fn the_policy_allows_the_form_and_nothing_else() {
        let form = presign(&scope(), &keys(Some("tok")), &request()).expect("presign");
        let policy = decoded_policy(&form);
        let bucket = "postroom-documents";
        let ok = submitted(&form, "letter of claim.pdf");
        assert!(policy_allows(&policy, bucket, &ok, 1));
        assert!(policy_allows(&policy, bucket, &ok, 50 * 1024 * 1024));

        // A size outside 1..=max.
        assert!(!policy_allows(&policy, bucket, &ok, 0));
        assert!(!policy_allows(&policy, bucket, &ok, 50 * 1024 * 1024 + 1));
        // Another bucket.
        assert!(!policy_allows(&policy, "other-bucket", &ok, 10));

        let changed = |name: &str, value: &str| -> Vec<(String, String)> {
            ok.iter()
                .map(|(n, v)| {
                    let v = if n == name {
                        value.to_owned()
                    } else {
                        v.clone()
                    };
                    (n.clone(), v)
                })
                .collect()
        };
        // A key outside the prefix, or climbing out of it by a look-alike.
        assert!(!policy_allows(
            &policy,
            bucket,
            &changed("key", "cases/x.pdf"),
            10
        ));
        assert!(!policy_allows(
            &policy,
            bucket,
            &changed("key", "inbox/console/u-1/x.pdf"),
            10
        ));
        assert!(!policy_allows(
            &policy,
            bucket,
            &changed("key", "inbox/console/x.pdf"),
            10
        ));
        // A key under the prefix that the browser names itself is allowed (only the
        // prefix is fixed).
        assert!(policy_allows(
            &policy,
            bucket,
            &changed("key", "inbox/console/u-17/y.pdf"),
            10
        ));
        // Another redirect or metadata value.
        assert!(!policy_allows(
            &policy,
            bucket,
            &changed("success_action_redirect", "https://evil.example/"),
            10
        ));
        assert!(!policy_allows(
            &policy,
            bucket,
            &changed("x-amz-meta-uploaded-by", "u-1"),
            10
        ));
        // Dropping a fixed metadata field, or adding one the policy does not name.
        let dropped: Vec<_> = ok
            .iter()
            .filter(|(n, _)| n != "x-amz-meta-batch")
            .cloned()
            .collect();
        assert!(!policy_allows(&policy, bucket, &dropped, 10));
        let mut added = ok.clone();
        added.push(("x-amz-meta-case".to_owned(), "c-1".to_owned()));
        assert!(!policy_allows(&policy, bucket, &added, 10));
        let mut acl = ok.clone();
        acl.push(("acl".to_owned(), "public-read".to_owned()));
        assert!(!policy_allows(&policy, bucket, &acl, 10));
    }

    #[test]
    fn bad_requests_are_refused() {
        let refused = |edit: &dyn Fn(&mut PostRequest)| {
            let mut r = request();
            edit(&mut r);
            let err = presign(&scope(), &keys(None), &r).expect_err("refused");
            assert!(
                matches!(
                    err,
                    StoreError::Invalid { .. } | StoreError::TooLarge { .. }
                ),
                "{err}"
            );
        };
        refused(&|r| r.key_prefix.clear());
        refused(&|r| r.key_prefix = "a".repeat(1024));
        refused(&|r| r.key_prefix = "inbox/\0/".to_owned());
        refused(&|r| r.key_prefix = "inbox/${x}/".to_owned());
        refused(&|r| r.max_bytes = 0);
        refused(&|r| r.max_bytes = crate::MAX_POST_BYTES + 1);
        refused(&|r| r.redirect = "javascript:alert(1)".to_owned());
        refused(&|r| r.redirect = "https://".to_owned());
        refused(&|r| r.redirect = "https://console.example/\r\nX: y".to_owned());
        refused(&|r| {
            r.metadata.insert("Uploaded By".to_owned(), "x".to_owned());
        });
        refused(&|r| r.expires_in = Duration::ZERO);
        refused(&|r| r.expires_in = Duration::from_secs(3601));
        // The longest allowed lifetime and size are fine.
        let mut r = request();
        r.expires_in = crate::MAX_POST_EXPIRY;
        r.max_bytes = crate::MAX_POST_BYTES;
        presign(&scope(), &keys(None), &r).expect("an hour and 5 GiB");

        // A form that expires before it is signed.
        let mut s = scope();
        s.expires_at = s.now;
        assert!(presign(&s, &keys(None), &request()).is_err());
    }

    #[test]
    fn dates_in_utc() {
        assert_eq!(iso8601(at(0)).unwrap(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            iso8601(at(EXAMPLE_NOW + 36 * 3600)).unwrap(),
            "2015-12-30T12:00:00.000Z"
        );
        assert_eq!(amz_date(at(951_782_400)).unwrap(), "20000229T000000Z");
        assert_eq!(amz_date(at(951_868_799)).unwrap(), "20000229T235959Z");
        assert_eq!(amz_date(at(951_868_800)).unwrap(), "20000301T000000Z");
        assert_eq!(amz_date(at(1_709_164_800)).unwrap(), "20240229T000000Z");
        assert_eq!(amz_date(at(4_102_444_800)).unwrap(), "21000101T000000Z");
    }

    #[test]
    fn debug_hides_the_secret_the_token_and_the_signature() {
        let k = keys(Some("session-token-value"));
        assert!(!format!("{k:?}").contains(EXAMPLE_SECRET));
        assert!(!format!("{k:?}").contains("session-token-value"));
        let form = presign(&scope(), &k, &request()).expect("presign");
        let shown = format!("{form:?}");
        assert!(!shown.contains("session-token-value"));
        assert!(!shown.contains(form.field("x-amz-signature").unwrap()));
        assert!(shown.contains("inbox/console/u-17/${filename}"));
    }
}
