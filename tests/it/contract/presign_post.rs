//! Presigned POST uploads (`Blobs::presign_post`): the local folder offers no form, and
//! S3's form, posted as a browser would, lands the file under the prefix with the fixed
//! metadata. The policy's content (prefix, size range, redirect, metadata, signature) is
//! unit-tested in `crates/store/src/presign.rs`; moto does not enforce POST policies,
//! and `moto_and_the_policy` reports what it does with a form that breaks one.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use postroom::store::{Blobs, PostRequest, PresignedPost, StoreError};

use super::harness::{dir_blobs, s3_blobs, with_blobs};

const PREFIX: &str = "inbox/console/test/";

fn request(max_bytes: u64) -> PostRequest {
    PostRequest {
        key_prefix: PREFIX.to_owned(),
        max_bytes,
        redirect: "http://127.0.0.1:9/upload/done?batch=b1".to_owned(),
        metadata: BTreeMap::from([
            ("uploaded-by".to_owned(), "u-test".to_owned()),
            ("uploader-name".to_owned(), "Zoë Łukasz".to_owned()),
        ]),
        expires_in: Duration::from_secs(600),
    }
}

/// What the store answered to a form.
#[derive(Debug)]
struct Answer {
    status: u16,
    location: Option<String>,
    body: String,
}

/// Posts a form as a browser does: the fields in order, then the file, as
/// multipart/form-data over one HTTP/1.1 connection to the loopback stand-in.
async fn post_form(url: &str, fields: &[(String, String)], filename: &str, file: &[u8]) -> Answer {
    let (url, fields, filename, file) = (
        url.to_owned(),
        fields.to_vec(),
        filename.to_owned(),
        file.to_vec(),
    );
    tokio::task::spawn_blocking(move || post_form_blocking(&url, &fields, &filename, &file))
        .await
        .expect("the form's request")
}

fn post_form_blocking(
    url: &str,
    fields: &[(String, String)],
    filename: &str,
    file: &[u8],
) -> Answer {
    let rest = url
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("a stand-in's form URL is plain http: {url}"));
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let boundary = "----postroom-test-4f1c9a";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/pdf\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut stream = std::net::TcpStream::connect(authority)
        .unwrap_or_else(|e| panic!("connect to {authority}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("a timeout");
    stream.write_all(head.as_bytes()).expect("send head");
    stream.write_all(&body).expect("send form");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read answer");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    let location = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("location")
            .then(|| value.trim().to_owned())
    });
    Answer {
        status,
        location,
        body: body.to_owned(),
    }
}

async fn presign(blobs: &dyn Blobs, request: &PostRequest) -> PresignedPost {
    blobs
        .presign_post(request)
        .await
        .expect("presign_post")
        .expect("S3 gives a form")
}

/// The fields with one value replaced.
fn with_field(form: &PresignedPost, name: &str, value: &str) -> Vec<(String, String)> {
    form.fields
        .iter()
        .map(|(n, v)| {
            let v = if n == name {
                value.to_owned()
            } else {
                v.clone()
            };
            (n.clone(), v)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_folder_offers_no_form() {
    let name = concat!(module_path!(), "::the_local_folder_offers_no_form");
    with_blobs(name, dir_blobs, |blobs| {
        Box::pin(async move {
            assert!(
                blobs
                    .presign_post(&request(1024))
                    .await
                    .expect("presign")
                    .is_none()
            );
            // Bad requests fail as they do on S3.
            let mut bad = request(1024);
            bad.key_prefix.clear();
            let err = blobs.presign_post(&bad).await.expect_err("no prefix");
            assert!(matches!(err, StoreError::Invalid { .. }), "{err}");
        })
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_uploads_under_the_prefix_with_the_metadata() {
    let name = concat!(
        module_path!(),
        "::a_form_uploads_under_the_prefix_with_the_metadata"
    );
    with_blobs(name, s3_blobs, |blobs: Arc<dyn Blobs>| {
        Box::pin(async move {
            let before = SystemTime::now();
            let form = presign(blobs.as_ref(), &request(1024 * 1024)).await;
            let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("the stand-in's endpoint");
            assert!(
                form.url.starts_with(endpoint.trim_end_matches('/')),
                "path-style URL on the stand-in: {}",
                form.url
            );
            assert_eq!(form.field("key"), Some("inbox/console/test/${filename}"));
            assert!(form.expires_at > before + Duration::from_secs(590));
            assert!(form.expires_at <= SystemTime::now() + Duration::from_secs(600));
            // scripts/test gives temporary credentials: the token rides in the form.
            if std::env::var_os("AWS_SESSION_TOKEN").is_some() {
                assert!(form.field("x-amz-security-token").is_some());
            }
            assert!(!format!("{form:?}").contains(form.field("x-amz-signature").unwrap()));

            let file = b"%PDF-1.7\n\xff\x00\xfe binary letter of claim\n%%EOF\n";
            let answer = post_form(&form.url, &form.fields, "letter of claim.pdf", file).await;
            assert_eq!(answer.status, 303, "{answer:?}");
            let location = answer.location.expect("a redirect");
            assert!(
                location.starts_with("http://127.0.0.1:9/upload/done?"),
                "{location}"
            );
            assert!(location.contains("batch=b1"), "{location}");

            let key = "inbox/console/test/letter of claim.pdf";
            let object = blobs.get(key).await.expect("the upload landed");
            assert_eq!(&object.body[..], &file[..]);
            assert_eq!(object.meta.size, file.len() as u64);
            assert_eq!(
                object.meta.metadata.get("uploaded-by").map(String::as_str),
                Some("u-test")
            );
            assert_eq!(
                object
                    .meta
                    .metadata
                    .get("uploader-name")
                    .map(String::as_str),
                Some("Zoë Łukasz"),
                "metadata read back as `put` writes it"
            );
            let listed = blobs.list(PREFIX, None, 10).await.expect("list");
            let keys: Vec<_> = listed.objects.iter().map(|o| o.key.as_str()).collect();
            assert_eq!(keys, [key]);
        })
    })
    .await;
}

/// moto does not check POST policies (nor signatures): what it does with a key outside
/// the prefix and with a file over the limit is printed, not asserted, except that its
/// answer and the bucket agree (rejected: nothing stored; accepted: stored as sent).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_and_the_policy() {
    let name = concat!(module_path!(), "::moto_and_the_policy");
    with_blobs(name, s3_blobs, |blobs: Arc<dyn Blobs>| {
        Box::pin(async move {
            let form = presign(blobs.as_ref(), &request(16)).await;

            let outside = with_field(&form, "key", "cases/escaped-${filename}");
            let answer = post_form(&form.url, &outside, "x.pdf", b"%PDF-1.7 small").await;
            let stored = blobs.head("cases/escaped-x.pdf").await.is_ok();
            eprintln!(
                "moto, key outside the prefix: HTTP {} ({}), stored: {stored}",
                answer.status,
                answer.body.trim()
            );
            assert_eq!(stored, answer.status < 400, "{answer:?}");

            let big = vec![b'x'; 64];
            let answer = post_form(&form.url, &form.fields, "big.pdf", &big).await;
            let stored = blobs.head("inbox/console/test/big.pdf").await.is_ok();
            eprintln!(
                "moto, 64 bytes over a 16-byte limit: HTTP {} ({}), stored: {stored}",
                answer.status,
                answer.body.trim()
            );
            assert_eq!(stored, answer.status < 400, "{answer:?}");

            let forged = with_field(&form, "x-amz-signature", &"0".repeat(64));
            let answer = post_form(&form.url, &forged, "forged.pdf", b"%PDF-1.7").await;
            let stored = blobs.head("inbox/console/test/forged.pdf").await.is_ok();
            eprintln!(
                "moto, a wrong signature: HTTP {} ({}), stored: {stored}",
                answer.status,
                answer.body.trim()
            );
            assert_eq!(stored, answer.status < 400, "{answer:?}");
        })
    })
    .await;
}
