//! The domain's records and their storage keys (see DESIGN.md's single-table layout).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A document's id, derived from where it came from, so a redelivered event finds the
/// same id: `d-` and 24 hex digits of SHA-256 over bucket, key and version (or ETag).
pub fn document_id(bucket: &str, key: &str, version_or_etag: &str) -> String {
    let mut h = Sha256::new();
    for part in [bucket, key, version_or_etag] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    format!("d-{}", &hex::encode(h.finalize())[..24])
}

/// What happened to an uploaded document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IngestStatus {
    /// Filed under a case.
    Filed,
    /// Read, but carries no reference of ours (or names no known case): in the inbox.
    Unfiled,
    /// The same bytes were already ingested under another key.
    Duplicate,
    /// Already ingested from this very object: nothing written.
    Unchanged,
    /// Unreadable or hostile: moved to `quarantine/`, with the reason recorded.
    Quarantined,
    /// A transient failure: nothing was lost, try again.
    Failed,
}

impl IngestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            IngestStatus::Filed => "filed",
            IngestStatus::Unfiled => "unfiled",
            IngestStatus::Duplicate => "duplicate",
            IngestStatus::Unchanged => "unchanged",
            IngestStatus::Quarantined => "quarantined",
            IngestStatus::Failed => "failed",
        }
    }
}

/// The kind of a case, from the form of its reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseKind {
    Claim,
    Foi,
    Appeal,
}

impl CaseKind {
    pub fn of_reference(case_ref: &str) -> CaseKind {
        if case_ref.starts_with("FOI_") {
            CaseKind::Foi
        } else if case_ref.starts_with("SHA/") || case_ref.starts_with("REV/") {
            CaseKind::Appeal
        } else {
            CaseKind::Claim
        }
    }
}

/// An audit event: append-only, written only if absent (a redelivery finds its own).
pub fn audit_event(
    pk: String,
    at: &str,
    seq: u32,
    who: &str,
    what: &str,
    details: serde_json::Value,
) -> crate::store::TxOp {
    let mut item = crate::store::Item::new();
    item.insert("PK".into(), pk.into());
    item.insert("SK".into(), keys::event(at, seq).into());
    item.insert("at".into(), at.into());
    item.insert("who".into(), who.into());
    item.insert("what".into(), what.into());
    item.insert("details".into(), details);
    crate::store::TxOp::Put {
        item,
        condition: crate::store::Condition::Absent,
    }
}

/// One reason a case is suggested for a document, as stored and shown: its code and its
/// words (made by `cases::suggest`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Reason {
    pub code: String,
    pub words: String,
}

/// A suggested case for a document, with its score (0 to 0.99, two decimals) and
/// reasons (the best first).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Suggestion {
    pub case_ref: String,
    pub score: f64,
    pub reasons: Vec<Reason>,
}

// Scores are made by `cases::suggest`, rounded, never NaN.
impl Eq for Suggestion {}

/// Storage keys, in one place.
pub mod keys {
    pub const META: &str = "META";
    pub const UNFILED: &str = "INBOX#UNFILED";

    pub fn doc(doc_id: &str) -> String {
        format!("{DOC_PREFIX}{doc_id}")
    }

    pub fn case(case_ref: &str) -> String {
        format!("{CASE_PREFIX}{case_ref}")
    }

    /// A document's entry under its case, sorted by the date it bears.
    pub fn case_doc(document_date: Option<&str>, doc_id: &str) -> String {
        format!(
            "{DOC_PREFIX}{}#{doc_id}",
            document_date.unwrap_or("0000-00-00")
        )
    }

    /// The content index: the first document with these bytes.
    pub fn content(sha256: &str) -> String {
        format!("SHA#{sha256}")
    }

    pub fn event(timestamp: &str, seq: u32) -> String {
        format!("{EVENT_PREFIX}{timestamp}#{seq:04}")
    }

    /// Sort-key prefixes of what lies under a case: its documents, audit events, letters
    /// and reminders.
    pub const DOC_PREFIX: &str = "DOC#";
    pub const EVENT_PREFIX: &str = "EVENT#";
    pub const LETTER_PREFIX: &str = "LETTER#";
    pub const REMINDER_PREFIX: &str = "REMINDER#";
    /// The partition key prefix of cases.
    pub const CASE_PREFIX: &str = "CASE#";
    /// GSI1's partition listing the cases that are not FOI requests (those are listed by
    /// their register, `FOI#<status>`), sort key `case_listing`.
    pub const CASES: &str = "CASES";

    /// A case's GSI1 sort key in `CASES`: its kind, its status, its reference (so a kind,
    /// or a kind in one status, is a prefix).
    pub fn case_listing(kind: &str, status: &str, case_ref: &str) -> String {
        format!("{kind}#{status}#{case_ref}")
    }

    /// A letter under its case (`SK`).
    pub fn letter(letter_id: &str) -> String {
        format!("{LETTER_PREFIX}{letter_id}")
    }

    /// An FOI request's reminder of one day (`SK` under its case).
    pub fn reminder(day: impl std::fmt::Display) -> String {
        format!("{REMINDER_PREFIX}{day}")
    }

    /// The marker of an FOI command applied once (`SK` under its case).
    pub fn command(request_id: &str) -> String {
        format!("CMD#{request_id}")
    }

    /// The marker of an FOI request opened once from a request id.
    pub fn foi_request_marker(request_id: &str) -> String {
        format!("FOIREQ#{request_id}")
    }

    /// The index of FOI requests by requester and text (possible duplicates).
    pub fn foi_duplicate(fingerprint: &str) -> String {
        format!("FOIDUP#{fingerprint}")
    }

    /// GSI1's sort key for an FOI request: its due date (the far future when it has
    /// none), then its reference, so a partition lists by due date.
    pub fn foi_due(due: Option<&str>, reference: &str) -> String {
        format!("{}#{reference}", due.unwrap_or("9999-12-31"))
    }

    /// The disclosure log's sort key for a published response: its date, then its
    /// reference (the log lists by date).
    pub fn disclosure_entry(date: &str, reference: &str) -> String {
        format!("{date}#{reference}")
    }

    /// The published response of an FOI request (a blob).
    pub fn disclosure_response(reference: &str) -> String {
        format!("disclosure/{reference}/response.pdf")
    }

    /// GSI1's partition for FOI requests in one state.
    pub fn foi_status(status: &str) -> String {
        format!("FOI#{status}")
    }

    /// The disclosure log's partition (`SK` = `<date>#<reference>`).
    pub const DISCLOSURE: &str = "DISCLOSURE";

    pub fn unfiled(received: &str, doc_id: &str) -> String {
        format!("{received}#{doc_id}")
    }

    /// The time of receipt in an inbox entry's sort key (`unfiled`'s first part).
    pub fn unfiled_received(sk: &str) -> &str {
        sk.split_once('#').map_or(sk, |(at, _)| at)
    }

    pub fn text(doc_id: &str) -> String {
        format!("text/{doc_id}.txt")
    }

    /// Where a refused upload is kept: under its document id, so two uploads to one key
    /// (two versions) are two objects here, each the bytes that were refused.
    /// The key is cut (at a character) to fit S3's 1,024 bytes: the id keeps it unique.
    pub fn quarantine(doc_id: &str, key: &str) -> String {
        let mut out = format!("quarantine/{doc_id}/");
        let room = crate::store::MAX_KEY_BYTES.saturating_sub(out.len());
        let rest = key.strip_prefix("inbox/").unwrap_or(key);
        let mut end = rest.len().min(room);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        out.push_str(&rest[..end]);
        out
    }

    /// Where `postroom ingest` stages a local file: under the first 16 hex digits of its
    /// MD5, so two files never share a key (the same name in two folders, names that
    /// differ only by case or Unicode form on a file system that folds them) and each
    /// stored original stays the bytes that were given; the same file again finds its
    /// own key. Cut (at a character) to S3's 1,024 bytes.
    pub fn staged(md5_hex: &str, name: &str) -> String {
        let mut out = format!("inbox/{}/", &md5_hex[..md5_hex.len().min(16)]);
        let name = name.trim_start_matches('/');
        let room = crate::store::MAX_KEY_BYTES.saturating_sub(out.len());
        let mut end = name.len().min(room);
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        out.push_str(&name[..end]);
        out
    }

    /// Documents waiting for a case that is not open yet (`SK` = the document id): filed
    /// under it when it opens.
    pub fn waiting(case_ref: &str) -> String {
        format!("WAIT#{case_ref}")
    }

    /// The FOI reference counter.
    /// A console session, by the SHA-256 of its cookie (the cookie is never stored).
    pub fn session(digest_hex: &str) -> String {
        format!("SESSION#{digest_hex}")
    }

    /// A sign-in in progress (OpenID Connect: its state's digest), until the provider
    /// sends the person back.
    pub fn login(state_digest: &str) -> String {
        format!("LOGIN#{state_digest}")
    }

    /// A background job (a letters batch): its progress.
    pub fn job(id: &str) -> String {
        format!("JOB#{id}")
    }

    /// The index partition of one person's jobs (GSI1), newest last by creation time.
    pub fn jobs_of(who: &str) -> String {
        format!("JOBS#{who}")
    }

    /// Where a person's files go when their browser sends them straight to the bucket
    /// (a presigned POST): `inbox/console/<digest of who>/<upload id>/`.
    pub fn direct_upload_prefix(who: &str, upload_id: &str) -> String {
        use sha2::Digest as _;
        let digest = hex::encode(sha2::Sha256::digest(who.as_bytes()));
        format!("inbox/console/{}/{upload_id}/", &digest[..16])
    }

    /// An upload made in the console.
    pub fn upload(id: &str) -> String {
        format!("UPLOAD#{id}")
    }

    /// The index partition of the audit events done by one person (GSI1).
    pub fn who(who: &str) -> String {
        format!("WHO#{who}")
    }

    /// The person a [`who`] partition names.
    pub fn who_of(pk: &str) -> Option<&str> {
        pk.strip_prefix("WHO#")
    }

    /// A letters batch's checked requests (a blob), read by its job's steps.
    pub fn job_requests(id: &str) -> String {
        format!("jobs/{id}.json")
    }

    /// A file given to a job (a cases CSV to import), a blob read by its step.
    pub fn job_input(id: &str) -> String {
        format!("jobs/{id}.input")
    }

    /// A file a job made (a blob): `jobs/<id>/<name>`.
    pub fn job_file(id: &str, name: &str) -> String {
        format!("jobs/{id}/{name}")
    }

    /// A claim's clock under its case (`SK`): the events recorded by hand, and the
    /// deadlines last worked out.
    pub const CLAIM_CLOCK: &str = "CLOCK";
    /// Sort-key prefix of a claim's running deadlines under its case.
    pub const DEADLINE_PREFIX: &str = "DEADLINE#";

    /// One running deadline of a claim (`SK` under its case).
    pub fn claim_deadline(kind: &str, from: &str) -> String {
        format!("{DEADLINE_PREFIX}{kind}#{from}")
    }

    /// GSI1's partition of claims' running deadlines, sorted by [`claim_due`].
    pub const CLAIMS_DUE: &str = "CLAIMDUE#open";

    /// GSI1's sort key of a running claim deadline: its due date first.
    pub fn claim_due(due: &str, case_ref: &str, kind: &str, from: &str) -> String {
        format!("{due}#{case_ref}#{kind}#{from}")
    }

    /// A claim deadline's reminder of one day (`SK` under its case).
    pub fn claim_reminder(day: impl std::fmt::Display, kind: &str) -> String {
        format!("{REMINDER_PREFIX}{day}#{kind}")
    }

    pub const FOI_COUNTER: &str = "COUNTER#FOI";

    /// The partition key prefix of the matching-key index.
    pub const MATCH_PREFIX: &str = "MATCH#";

    /// The index partition of one matching key (`SK` = [`case`] of each case that
    /// learned it): `MATCH#<kind>#<value>`, the value as `cases::matching` writes it
    /// (court numbers as they are, personal keys as a digest).
    pub fn match_key(kind: &str, value: &str) -> String {
        format!("{MATCH_PREFIX}{kind}#{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_ids_are_stable_and_distinct() {
        let a = document_id("docs", "inbox/a.pdf", "v1");
        assert_eq!(a, document_id("docs", "inbox/a.pdf", "v1"));
        assert_ne!(a, document_id("docs", "inbox/a.pdf", "v2"));
        assert_ne!(a, document_id("docs", "inbox/a.pd", "fv1"));
        assert_eq!(a.len(), 26);
    }

    #[test]
    fn case_kinds_follow_reference_forms() {
        assert_eq!(CaseKind::of_reference("FOI_6405"), CaseKind::Foi);
        assert_eq!(CaseKind::of_reference("SHA/23456"), CaseKind::Appeal);
        assert_eq!(CaseKind::of_reference("CNST/24/004512"), CaseKind::Claim);
    }
}
