//! Email (RFC 5322 / MIME): headers (each of bounded length), the text body (HTML
//! converted), and every attachment extracted as a child document, to a bounded depth
//! and count, the body and all attachments sharing the document's one text allowance.

use mail_parser::{Address, MessageParser, MimeHeaders, PartType};
use serde::Serialize;

use super::limits::Budget;
use super::{Attachment, Extracted, Warning, extract_with, sha256_hex, text};

/// The headers of an email that filing needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EmailHeaders {
    /// The sender's display name, if given.
    pub from_name: Option<String>,
    pub from_address: Option<String>,
    pub to: Vec<String>,
    pub subject: Option<String>,
    /// The Date header's calendar date, in the sender's own time zone (YYYY-MM-DD).
    pub date: Option<String>,
    /// The Date header in RFC 3339.
    pub date_time: Option<String>,
}

/// The longest header value kept, in bytes (a subject, a name, an address).
const MAX_HEADER_BYTES: usize = 4096;
/// The most recipients kept.
const MAX_RECIPIENTS: usize = 200;

/// Keeps headers within their bounds, noting whether any was cut.
#[derive(Default)]
struct Cut {
    any: bool,
}

impl Cut {
    fn value(&mut self, value: &str) -> String {
        if value.len() <= MAX_HEADER_BYTES {
            return value.to_owned();
        }
        self.any = true;
        let mut at = MAX_HEADER_BYTES;
        while !value.is_char_boundary(at) {
            at -= 1;
        }
        value[..at].to_owned()
    }

    fn addresses(&mut self, address: Option<&Address<'_>>) -> Vec<String> {
        let mut out = Vec::new();
        for addr in address.into_iter().flat_map(Address::iter) {
            if let Some(a) = addr.address() {
                if out.len() == MAX_RECIPIENTS {
                    self.any = true;
                    break;
                }
                out.push(self.value(a));
            }
        }
        out
    }
}

pub fn extract(bytes: &[u8], budget: &Budget, depth: usize, out: &mut Extracted) {
    let Some(message) = MessageParser::default().parse(bytes) else {
        out.warnings.add(Warning::Malformed);
        out.keep_text(budget, text::decode(bytes));
        return;
    };
    let from = message.from().and_then(|a| a.first());
    let date = message.date();
    let mut cut = Cut::default();
    out.email = Some(EmailHeaders {
        from_name: from
            .and_then(|a| a.name())
            .map(|n| cut.value(n.trim()))
            .filter(|n| !n.is_empty()),
        from_address: from.and_then(|a| a.address()).map(|a| cut.value(a)),
        to: cut.addresses(message.to()),
        subject: message.subject().map(|s| cut.value(s)),
        date: date
            .filter(|d| d.year > 0 && (1..=12).contains(&d.month) && (1..=31).contains(&d.day))
            .map(|d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)),
        date_time: date.map(|d| d.to_rfc3339()),
    });
    if cut.any {
        out.warnings.add(Warning::HeaderTruncated);
    }

    // The body: every text part; an HTML-only message through the HTML converter.
    let mut body = String::new();
    if message.text_body_count() > 0 {
        for (i, _) in message.text_bodies().enumerate() {
            if let Some(part) = message.body_text(i) {
                if !body.is_empty() {
                    body.push('\n');
                }
                body.push_str(&part);
            }
        }
    }
    if body.trim().is_empty() {
        for (i, _) in message.html_bodies().enumerate() {
            if let Some(html) = message.body_html(i) {
                body.push_str(&text::html_to_text(&html));
            }
        }
    }
    // The body is kept first; the attachments share what is left of the document's text.
    out.keep_text(budget, body.replace("\r\n", "\n"));

    // Attachments, each read as a document of its own.
    for part in message.attachments() {
        if budget.expired() {
            out.warnings.add(Warning::TruncatedAtLimit);
            break;
        }
        if depth + 1 > budget.limits.max_attachment_depth || !budget.take_attachment() {
            out.warnings.add(Warning::TruncatedAtLimit);
            break;
        }
        let filename = part.attachment_name().map(str::to_owned);
        let child_bytes: &[u8] = match &part.body {
            PartType::Message(inner) => inner.raw_message(),
            PartType::Binary(b) | PartType::InlineBinary(b) => b.as_ref(),
            PartType::Text(t) | PartType::Html(t) => t.as_bytes(),
            PartType::Multipart(_) => continue,
        };
        let extracted = extract_with(child_bytes, budget, depth + 1);
        if extracted.warnings.contains(Warning::TruncatedAtLimit) {
            out.warnings.add(Warning::TruncatedAtLimit);
        }
        out.attachments.push(Attachment {
            filename,
            sha256: sha256_hex(child_bytes),
            extracted,
        });
    }
}
