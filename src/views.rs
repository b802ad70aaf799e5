//! Typed views for the fronts: what a case, a document, the unfiled inbox and an FOI
//! request look like to the CLI, the console and the Lambdas. They are built here from
//! the stored records, so no front reads a storage item or matches a storage key.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::calendar::Calendar;
use crate::foi::service::FoiCase;
use crate::model::keys;
use crate::store::Item;

/// A request due within this many working days is shown as due soon.
pub const DUE_SOON_DAYS: u32 = 5;

fn text(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(Value::as_str).map(str::to_owned)
}

fn sort_key(item: &Item) -> &str {
    item.get("SK").and_then(Value::as_str).unwrap_or_default()
}

/// A case as listed: its reference, kind, status and when it was opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseSummary {
    pub case_ref: String,
    pub kind: Option<String>,
    pub status: Option<String>,
    /// When it was opened (an RFC 3339 timestamp, or a date).
    pub opened: Option<String>,
}

impl CaseSummary {
    /// From a case's record.
    pub fn from_record(case: &Item) -> CaseSummary {
        let case_ref = text(case, "case_ref").unwrap_or_else(|| {
            case.get("PK")
                .and_then(Value::as_str)
                .and_then(|pk| pk.strip_prefix(keys::CASE_PREFIX))
                .unwrap_or_default()
                .to_owned()
        });
        CaseSummary {
            case_ref,
            kind: text(case, "kind"),
            status: text(case, "status"),
            opened: text(case, "opened"),
        }
    }

    /// The day it was opened (the first ten characters of `opened`).
    pub fn opened_day(&self) -> Option<&str> {
        self.opened.as_deref().map(|o| o.get(..10).unwrap_or(o))
    }
}

/// A document filed under a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentEntry {
    pub doc_id: Option<String>,
    pub doc_type: Option<String>,
    pub document_date: Option<String>,
    pub source: Option<String>,
}

/// An audit event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventEntry {
    pub at: Option<String>,
    pub what: Option<String>,
    pub who: Option<String>,
    /// The roles the person acted in (recorded by the console), when recorded.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
}

/// A letter recorded under a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LetterEntry {
    pub letter_id: Option<String>,
    pub template: Option<String>,
    /// `stored`, `rendering` (not finished yet) or `invalid` (the data did not fit).
    pub status: Option<String>,
    pub created_at: Option<String>,
    /// Where the letter's PDF is stored.
    pub s3_key: Option<String>,
}

/// A reminder recorded by the FOI sweep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReminderEntry {
    pub at: Option<String>,
    /// `due_soon`, `overdue`, `review_due_soon`, `review_overdue` or `clock_error`.
    pub kind: Option<String>,
    pub due: Option<String>,
}

/// An FOI command applied once (for a caller that may send it again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandEntry {
    pub at: Option<String>,
    pub command: Option<String>,
}

/// What is recorded under a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CaseEntry {
    Document(DocumentEntry),
    Event(EventEntry),
    Letter(LetterEntry),
    Reminder(ReminderEntry),
    Command(CommandEntry),
    /// A record of a kind this view does not know (named by its kind only).
    Other {
        kind: String,
    },
}

impl CaseEntry {
    /// From a record stored under a case.
    pub fn from_record(item: &Item) -> CaseEntry {
        let sk = sort_key(item);
        if sk.starts_with(keys::DOC_PREFIX) {
            CaseEntry::Document(DocumentEntry {
                doc_id: text(item, "doc_id"),
                doc_type: text(item, "doc_type"),
                document_date: text(item, "document_date"),
                source: text(item, "source"),
            })
        } else if sk.starts_with(keys::EVENT_PREFIX) {
            CaseEntry::Event(EventEntry {
                at: text(item, "at"),
                what: text(item, "what"),
                who: text(item, "who"),
                roles: crate::store::strings(item.get("details").and_then(|d| d.get("roles"))),
            })
        } else if sk.starts_with(keys::LETTER_PREFIX) {
            CaseEntry::Letter(LetterEntry {
                letter_id: text(item, "letter_id"),
                template: text(item, "template"),
                status: text(item, "status"),
                created_at: text(item, "created_at"),
                s3_key: text(item, "s3_key"),
            })
        } else if sk.starts_with(keys::REMINDER_PREFIX) {
            CaseEntry::Reminder(ReminderEntry {
                at: text(item, "at"),
                kind: text(item, "kind"),
                due: text(item, "due"),
            })
        } else if item.contains_key("command") {
            CaseEntry::Command(CommandEntry {
                at: text(item, "at"),
                command: text(item, "command"),
            })
        } else {
            CaseEntry::Other {
                kind: sk.split('#').next().unwrap_or_default().to_lowercase(),
            }
        }
    }
}

/// A case and what is recorded under it (documents by date, events, letters, reminders).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseView {
    #[serde(flatten)]
    pub case: CaseSummary,
    pub entries: Vec<CaseEntry>,
}

impl CaseView {
    /// From a case's record and the records under it, in their stored order.
    pub fn from_records(case: &Item, under: &[Item]) -> CaseView {
        CaseView {
            case: CaseSummary::from_record(case),
            entries: under.iter().map(CaseEntry::from_record).collect(),
        }
    }

    /// The documents filed under the case.
    pub fn documents(&self) -> impl Iterator<Item = &DocumentEntry> {
        self.entries.iter().filter_map(|e| match e {
            CaseEntry::Document(d) => Some(d),
            _ => None,
        })
    }

    /// The letters recorded under the case.
    pub fn letters(&self) -> impl Iterator<Item = &LetterEntry> {
        self.entries.iter().filter_map(|e| match e {
            CaseEntry::Letter(l) => Some(l),
            _ => None,
        })
    }
}

/// Attributes of a record that belong to the store, not to the document.
const STORAGE_ATTRIBUTES: &[&str] = &["PK", "SK", "GSI1PK", "GSI1SK", "version"];

/// A document's record and metadata.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentView {
    pub doc_id: String,
    /// `filed`, `unfiled`, `quarantined`, …
    pub status: Option<String>,
    pub case_ref: Option<String>,
    pub doc_type: Option<String>,
    pub document_date: Option<String>,
    pub source: Option<String>,
    pub received: Option<String>,
    /// Everything else recorded about it (its metadata, where it came from, why it was
    /// quarantined or left unfiled).
    #[serde(flatten)]
    pub details: Map<String, Value>,
}

impl DocumentView {
    /// From a document's record.
    pub fn from_record(doc: &Item) -> DocumentView {
        let mut details = doc.clone();
        for name in STORAGE_ATTRIBUTES {
            details.remove(*name);
        }
        let mut take = |name: &str| match details.remove(name) {
            Some(Value::String(s)) => Some(s),
            Some(Value::Null) | None => None,
            Some(other) => {
                details.insert(name.to_owned(), other);
                None
            }
        };
        let doc_id = take("doc_id").unwrap_or_default();
        DocumentView {
            doc_id,
            status: take("status"),
            case_ref: take("case_ref"),
            doc_type: take("doc_type"),
            document_date: take("document_date"),
            source: take("source"),
            received: take("received"),
            details,
        }
    }
}

/// A document as `documents list` shows it: where it came from, what it is and its
/// current filing (`filed`, `unfiled`, `duplicate` or `quarantined`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentListing {
    pub doc_id: String,
    pub source: Option<String>,
    pub doc_type: Option<String>,
    pub case_ref: Option<String>,
    pub status: Option<String>,
}

impl DocumentListing {
    /// From a document's record.
    pub fn from_record(doc: &Item) -> DocumentListing {
        DocumentListing {
            doc_id: text(doc, "doc_id").unwrap_or_else(|| {
                doc.get("PK")
                    .and_then(Value::as_str)
                    .and_then(|pk| pk.strip_prefix(keys::DOC_PREFIX))
                    .unwrap_or_default()
                    .to_owned()
            }),
            source: text(doc, "source"),
            doc_type: text(doc, "doc_type"),
            case_ref: text(doc, "case_ref"),
            status: text(doc, "status"),
        }
    }
}

/// An unfiled document waiting for triage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InboxEntry {
    /// When it was recorded (RFC 3339).
    pub received: String,
    pub doc_id: Option<String>,
    pub doc_type: Option<String>,
    pub source: Option<String>,
    /// Why it was not filed (a code).
    pub reason: Option<String>,
    /// The cases it may belong to, best first, as worked out when it was recorded.
    pub suggestions: Vec<crate::model::Suggestion>,
}

impl InboxEntry {
    /// From an inbox record (sorted by the time the document was recorded).
    pub fn from_record(item: &Item) -> InboxEntry {
        let received = keys::unfiled_received(sort_key(item)).to_owned();
        InboxEntry {
            received,
            doc_id: text(item, "doc_id"),
            doc_type: text(item, "doc_type"),
            source: text(item, "source"),
            reason: text(item, "reason"),
            suggestions: item
                .get("suggestions")
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default(),
        }
    }

    /// When it was recorded, to the second (`YYYY-MM-DDTHH:MM:SS`).
    pub fn received_to_the_second(&self) -> &str {
        self.received.get(..19).unwrap_or(&self.received)
    }
}

/// An FOI request as a front shows it: the request, whether it is overdue or due soon,
/// and (when asked for) what is recorded under it.
#[derive(Debug, Clone, Serialize)]
pub struct FoiRequestView {
    #[serde(flatten)]
    pub case: FoiCase,
    /// The response is late (`today` is after its due date).
    pub overdue: bool,
    /// The response is due within [`DUE_SOON_DAYS`] working days.
    pub due_soon: bool,
    /// Events, letters and reminders under the request, in their stored order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<CaseEntry>,
}

impl FoiRequestView {
    /// The request as of `today`, counting working days on `calendar`.
    pub fn new(case: FoiCase, today: NaiveDate, calendar: &Calendar) -> FoiRequestView {
        let overdue = case.request.overdue(today);
        let due_soon = !overdue && case.request.due_soon(today, DUE_SOON_DAYS, calendar);
        FoiRequestView {
            case,
            overdue,
            due_soon,
            history: Vec::new(),
        }
    }

    /// With the events, letters and reminders recorded under the request.
    pub fn with_history(mut self, view: Option<CaseView>) -> FoiRequestView {
        self.history = view
            .map(|v| {
                v.entries
                    .into_iter()
                    .filter(|e| {
                        matches!(
                            e,
                            CaseEntry::Event(_) | CaseEntry::Letter(_) | CaseEntry::Reminder(_)
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(v: Value) -> Item {
        v.as_object().cloned().expect("an object")
    }

    #[test]
    fn a_case_and_its_records_read_by_kind() {
        let case = item(
            json!({"PK": "CASE#CNST/24/1", "SK": "META", "kind": "claim",
            "status": "open", "opened": "2024-04-25T09:00:00.000Z"}),
        );
        let under = [
            item(
                json!({"SK": "DOC#2024-04-01#d-1", "doc_id": "d-1", "doc_type": "letter_of_claim",
                "document_date": "2024-04-01"}),
            ),
            item(
                json!({"SK": "EVENT#2024-04-25T09:00:00.000Z#0001", "at": "2024-04-25T09:00:00.000Z",
                "what": "filed", "who": "cli"}),
            ),
            item(
                json!({"SK": "LETTER#L-1", "template": "claim-acknowledgement", "status": "stored",
                "s3_key": "letters/CNST/24/1/L-1.pdf"}),
            ),
            item(
                json!({"SK": "REMINDER#2024-04-25", "kind": "due_soon", "at": "2024-04-25T07:00:00Z"}),
            ),
            item(json!({"SK": "CMD#demo:start", "command": "start_work", "at": "x"})),
            item(json!({"SK": "ODD#1"})),
        ];
        let view = CaseView::from_records(&case, &under);
        // The reference comes from the partition when the record does not name it.
        assert_eq!(view.case.case_ref, "CNST/24/1");
        assert_eq!(view.case.opened_day(), Some("2024-04-25"));
        assert_eq!(view.documents().count(), 1);
        assert_eq!(view.letters().count(), 1);
        assert!(matches!(view.entries[1], CaseEntry::Event(_)));
        assert!(matches!(view.entries[3], CaseEntry::Reminder(_)));
        assert!(matches!(view.entries[4], CaseEntry::Command(_)));
        assert_eq!(view.entries[5], CaseEntry::Other { kind: "odd".into() });
        let json = serde_json::to_value(&view).expect("json");
        assert_eq!(json["case_ref"], "CNST/24/1");
        assert_eq!(json["entries"][0]["type"], "document");
        assert!(json.get("PK").is_none() && json["entries"][0].get("SK").is_none());
    }

    #[test]
    fn a_document_view_has_no_storage_attributes() {
        let doc = item(
            json!({"PK": "DOC#d-1", "SK": "META", "version": 3, "doc_id": "d-1",
            "status": "filed", "case_ref": "CNST/24/1", "metadata": {"doc_type": "x"}}),
        );
        let view = DocumentView::from_record(&doc);
        assert_eq!(view.doc_id, "d-1");
        assert_eq!(view.status.as_deref(), Some("filed"));
        let json = serde_json::to_value(&view).expect("json");
        for gone in ["PK", "SK", "version"] {
            assert!(json.get(gone).is_none(), "{gone} in {json}");
        }
        assert_eq!(json["metadata"]["doc_type"], "x");
    }

    #[test]
    fn an_inbox_entry_is_dated_by_its_recording() {
        let e = InboxEntry::from_record(&item(json!({"PK": "INBOX#UNFILED",
            "SK": "2024-04-25T09:00:00.123Z#d-2", "doc_id": "d-2", "reason": "no_reference"})));
        assert_eq!(e.received, "2024-04-25T09:00:00.123Z");
        assert_eq!(e.received_to_the_second(), "2024-04-25T09:00:00");
        assert_eq!(e.reason.as_deref(), Some("no_reference"));
    }
}
