//! The console's pages as data: one struct per page, compiled with its askama template
//! (`templates/`, HTML-escaped), and the chrome every page shares (the person, the
//! navigation their roles allow, a success banner). Handlers build these from the
//! application's views; templates never see a stored item.

use askama::Template;
use axum::response::Html;

use super::authz::Permission;
use super::session::Session;

/// Renders a page; a template that cannot render (a bug) is a plain 500 page.
pub fn render<T: Template>(page: &T) -> Html<String> {
    match page.render() {
        Ok(html) => Html(html),
        Err(_) => {
            tracing::error!(code = "internal", "a console page could not be rendered");
            Html("<!DOCTYPE html><html lang=\"en\"><head><title>Error – postroom</title></head><body><main><h1>Sorry, there is a problem with the service</h1><p>Code: internal</p></main></body></html>".to_owned())
        }
    }
}

/// The signed-in person, as the header shows them.
#[derive(Debug, Clone)]
pub struct Person {
    pub name: String,
    pub roles: String,
    pub csrf: String,
}

/// One link in the service navigation.
#[derive(Debug, Clone)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
}

/// What every page shares.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// The assets' version, for cache-busting links.
    pub v: &'static str,
    pub person: Option<Person>,
    /// Whether the person's roles let them see any document (the search box).
    pub search: bool,
    pub nav: Vec<NavItem>,
    pub banner: Option<String>,
}

/// The sections of the console and what each needs.
const SECTIONS: &[(&str, &str, Option<Permission>)] = &[
    ("/", "Home", None),
    ("/inbox", "Inbox", Some(Permission::Triage)),
    ("/cases", "Cases", Some(Permission::ViewCases)),
    ("/foi", "FOI", Some(Permission::ViewFoi)),
    ("/letters", "Letters", Some(Permission::ViewLetters)),
    ("/uploads/new", "Upload", Some(Permission::Upload)),
    ("/audit", "Audit", Some(Permission::Audit)),
];

impl Chrome {
    /// For a signed-in person on the section `active` (its path).
    pub fn of(session: &Session, active: &str) -> Chrome {
        let nav = SECTIONS
            .iter()
            .filter(|(_, _, need)| need.is_none_or(|p| session.can(p)))
            .map(|(href, label, _)| NavItem {
                href,
                label,
                active: *href == active,
            })
            .collect();
        Chrome {
            v: web::assets::version(),
            person: Some(Person {
                name: session.name.clone(),
                roles: session
                    .roles
                    .iter()
                    .map(|r| r.label())
                    .collect::<Vec<_>>()
                    .join(", "),
                csrf: session.csrf.clone(),
            }),
            search: [
                Permission::ViewCases,
                Permission::ViewFoi,
                Permission::Triage,
            ]
            .into_iter()
            .any(|p| session.can(p)),
            nav,
            banner: None,
        }
    }

    /// For someone not signed in.
    pub fn anonymous() -> Chrome {
        Chrome {
            v: web::assets::version(),
            person: None,
            search: false,
            nav: Vec::new(),
            banner: None,
        }
    }

    pub fn with_banner(mut self, banner: Option<String>) -> Chrome {
        self.banner = banner;
        self
    }
}

use postroom_web as web;

/// A refused or failed request.
#[derive(Debug, Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// Error pages show no navigation: they may be answering someone not signed in.
    pub chrome: Chrome,
    pub title: &'static str,
    pub message: String,
    pub code: &'static str,
}

#[derive(Debug, Template)]
#[template(path = "sign_in.html")]
pub struct SignIn {
    pub chrome: Chrome,
    pub refused: bool,
}

#[derive(Debug, Template)]
#[template(path = "signed_out.html")]
pub struct SignedOut {
    pub chrome: Chrome,
}

/// A link with a count, on the home page.
#[derive(Debug, Clone)]
pub struct Count {
    pub href: String,
    pub number: String,
    pub label: &'static str,
}

/// An FOI request in a list.
#[derive(Debug, Clone)]
pub struct FoiRow {
    pub href: String,
    pub reference: String,
    pub title: String,
    pub status: String,
    pub received: String,
    pub due: String,
    pub left: String,
    /// GOV.UK tag colour class and text, when it needs one (overdue, due soon).
    pub tag: Option<(&'static str, &'static str)>,
}

#[derive(Debug, Template)]
#[template(path = "home.html")]
pub struct Home {
    pub chrome: Chrome,
    pub counts: Vec<Count>,
    pub due: Vec<FoiRow>,
    pub can_foi: bool,
}

/// An unfiled document in the inbox.
#[derive(Debug, Clone)]
pub struct InboxRow {
    pub href: String,
    pub file_name: String,
    pub doc_type: String,
    pub received: String,
    pub document_date: String,
    pub concerns: String,
    pub reason: String,
    /// The best suggested case, with its score in words.
    pub suggested: Option<String>,
}

#[derive(Debug, Template)]
#[template(path = "inbox.html")]
pub struct Inbox {
    pub chrome: Chrome,
    pub rows: Vec<InboxRow>,
    pub next: Option<String>,
    pub first: bool,
}

/// A row of a summary list.
#[derive(Debug, Clone)]
pub struct Row {
    pub key: String,
    pub value: String,
    pub href: Option<String>,
}

impl Row {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Row {
        Row {
            key: key.into(),
            value: value.into(),
            href: None,
        }
    }

    pub fn link(key: impl Into<String>, value: impl Into<String>, href: String) -> Row {
        Row {
            key: key.into(),
            value: value.into(),
            href: Some(href),
        }
    }
}

/// An event in a history or timeline.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    pub at: String,
    pub who: String,
    pub what: String,
}

/// The "file to case" form on an unfiled document.
#[derive(Debug, Clone)]
pub struct FileForm {
    pub action: String,
    pub csrf: String,
    pub case_ref: String,
    pub error: Option<String>,
    /// There is another unfiled document after this one ("Save and file next").
    pub has_next: bool,
    /// Cases it may belong to, best first: reference, score in words, why.
    pub suggestions: Vec<(String, String, String)>,
}

#[derive(Debug, Template)]
#[template(path = "document.html")]
pub struct DocumentPage {
    pub chrome: Chrome,
    pub title: String,
    pub doc_id: String,
    pub summary: Vec<Row>,
    pub warnings: Vec<String>,
    pub original_href: Option<String>,
    pub preview_href: Option<String>,
    pub text: Option<String>,
    pub text_cut: bool,
    pub text_href: String,
    pub history: Vec<HistoryRow>,
    /// Whether older events exist than those shown, and where the whole trail is (for
    /// those who may read it).
    pub history_cut: bool,
    pub history_href: Option<String>,
    pub file_form: Option<FileForm>,
    pub back: (String, &'static str),
}

/// A case in the list.
#[derive(Debug, Clone)]
pub struct CaseRow {
    pub href: String,
    pub reference: String,
    pub kind: String,
    pub status: String,
    pub opened: String,
}

/// One choice of a filter.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

#[derive(Debug, Template)]
#[template(path = "cases.html")]
pub struct Cases {
    pub chrome: Chrome,
    /// Whether the person may import cases (a link to the import).
    pub can_import: bool,
    pub kinds: Vec<Choice>,
    pub status: Vec<Choice>,
    pub rows: Vec<CaseRow>,
    /// The next page's address, when there are more cases.
    pub next: Option<String>,
    /// Whether this is the list's first page (else "no more cases", not "none match").
    pub first_page: bool,
}

/// A document in a case's list.
#[derive(Debug, Clone)]
pub struct DocRow {
    pub href: String,
    pub name: String,
    pub doc_type: String,
    pub date: String,
}

/// A letter in a case's list.
#[derive(Debug, Clone)]
pub struct LetterRow {
    /// Where its PDF opens, once made.
    pub href: Option<String>,
    pub template: String,
    pub status: String,
    pub created: String,
}

#[derive(Debug, Template)]
#[template(path = "case.html")]
pub struct CasePage {
    pub chrome: Chrome,
    pub reference: String,
    pub summary: Vec<Row>,
    pub documents: Vec<DocRow>,
    pub letters: Vec<LetterRow>,
    /// A claim's deadlines (empty for other cases).
    pub claim: super::claims::ClaimSection,
    /// Why a claim form was refused.
    pub error: Option<FormError>,
    pub csrf: String,
    pub timeline: Vec<HistoryRow>,
    /// The timeline holds as many events as a case's view reads: older ones may exist.
    pub timeline_full: bool,
}

#[derive(Debug, Template)]
#[template(path = "foi_register.html")]
pub struct FoiRegister {
    pub chrome: Chrome,
    /// The person may log a new request.
    pub can_log: bool,
    pub views: Vec<Choice>,
    pub rows: Vec<FoiRow>,
    /// The next page's link, if there are more requests.
    pub next: Option<String>,
    /// This is the view's first page.
    pub first: bool,
}

/// A lifecycle move offered on a request, as a form.
#[derive(Debug, Clone)]
pub struct MoveForm {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub action: String,
    pub csrf: String,
    pub today: String,
    pub days: bool,
    pub reason: bool,
    pub outcome: bool,
    pub exemptions: bool,
    pub result: bool,
    pub outcomes: Vec<Choice>,
    pub results: Vec<Choice>,
    /// Shown open (its form was refused).
    pub open: bool,
    /// The field in error (`on`, `days`, `reason`, `outcome`, `exemptions`, `result`),
    /// or `""`.
    pub error_field: &'static str,
    pub error: String,
}

impl MoveForm {
    /// Whether the form has the field `name` (the date always).
    pub fn has_field(&self, name: &str) -> bool {
        match name {
            "on" => true,
            "days" => self.days,
            "reason" => self.reason,
            "outcome" => self.outcome,
            "exemptions" => self.exemptions,
            "result" => self.result,
            _ => false,
        }
    }
}

/// A refused form's error summary: its title, the message and the field it links to.
#[derive(Debug, Clone)]
pub struct FormError {
    pub title: &'static str,
    pub message: String,
    pub href: String,
}

/// The forms that make a request's acknowledgement and response letters.
#[derive(Debug, Clone)]
pub struct DraftForms {
    pub csrf: String,
    pub acknowledgement: String,
    /// Only once the response is recorded.
    pub response: Option<String>,
}

#[derive(Debug, Template)]
#[template(path = "foi_request.html")]
pub struct FoiRequest {
    pub chrome: Chrome,
    /// Why the last move or letter was refused.
    pub error: Option<FormError>,
    pub moves: Vec<MoveForm>,
    /// Where the publication review is, when the person may publish and it can be.
    pub publish_href: Option<String>,
    /// The forms that draft its letters, for a person who may.
    pub drafts: Option<DraftForms>,
    pub reference: String,
    pub title: String,
    pub tag: Option<(&'static str, &'static str)>,
    pub summary: Vec<Row>,
    pub request_text: String,
    pub documents: Vec<DocRow>,
    pub letters: Vec<LetterRow>,
    pub history: Vec<HistoryRow>,
}

#[derive(Debug, Template)]
#[template(path = "foi_new.html")]
pub struct FoiNew {
    pub chrome: Chrome,
    pub csrf: String,
    pub requester: String,
    pub received: String,
    pub text: String,
    pub errors: Vec<(&'static str, String)>,
}

impl FoiNew {
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
}

/// One field of the public response, for the reviewer.
#[derive(Debug, Clone)]
pub struct ReviewField {
    pub field: String,
    pub public: String,
    /// What was removed: kind (in words) and the text as it was.
    pub removed: Vec<(String, String)>,
    pub check: Vec<String>,
}

#[derive(Debug, Template)]
#[template(path = "foi_publish.html")]
pub struct FoiPublish {
    pub chrome: Chrome,
    pub reference: String,
    pub title: String,
    pub date: String,
    pub outcome: String,
    pub fields: Vec<ReviewField>,
    pub action: String,
    pub csrf: String,
    pub error: Option<String>,
}

#[derive(Debug, Template)]
#[template(path = "upload_new.html")]
pub struct UploadNew {
    pub chrome: Chrome,
    pub csrf: String,
    pub limit_mb: usize,
    pub error: Option<String>,
}

/// The upload form that posts straight to the bucket (a presigned POST).
#[derive(Debug, Template)]
#[template(path = "upload_direct.html")]
pub struct UploadDirect {
    pub chrome: Chrome,
    pub action: String,
    pub fields: Vec<(String, String)>,
    pub limit_mb: u64,
    pub minutes: u64,
}

/// One file of an upload as its page shows it.
#[derive(Debug, Clone)]
pub struct UploadRow {
    pub name: String,
    pub href: Option<String>,
    pub state: &'static str,
    pub tag_class: &'static str,
    pub detail: String,
}

#[derive(Debug, Template)]
#[template(path = "upload.html")]
pub struct Upload {
    pub chrome: Chrome,
    pub processing: bool,
    /// Where the page sends itself in 2 seconds while files are read: itself, counted,
    /// until `UPLOAD_REFRESHES` (a browser left on it would never be idle otherwise).
    pub refresh: Option<String>,
    pub files: Vec<UploadRow>,
}

/// How many times an upload's page refreshes itself (10 minutes at one each 2 s).
pub const UPLOAD_REFRESHES: u32 = 300;

/// A template in the list.
#[derive(Debug, Clone)]
pub struct TemplateRow {
    pub href: String,
    pub title: String,
    pub description: String,
    pub version: String,
}

#[derive(Debug, Template)]
#[template(path = "letters.html")]
pub struct LettersPage {
    pub chrome: Chrome,
    pub templates: Vec<TemplateRow>,
}

/// A declared field, as the template page lists it.
#[derive(Debug, Clone)]
pub struct FieldRow {
    pub name: String,
    pub kind: &'static str,
    pub required: bool,
    pub description: String,
}

#[derive(Debug, Template)]
#[template(path = "letter_template.html")]
pub struct LetterTemplate {
    pub chrome: Chrome,
    pub name: String,
    pub title: String,
    pub version: String,
    pub description: String,
    pub preview: String,
    pub pdf_href: String,
    pub make_href: String,
    pub batch_href: String,
    pub can_send: bool,
    pub fields: Vec<FieldRow>,
}

/// One input of a letter form, generated from the template's declared field.
#[derive(Debug, Clone)]
pub struct FieldInput {
    pub name: String,
    pub label: String,
    pub hint: String,
    pub required: bool,
    pub multiline: bool,
    /// For a choice or yes/no: each value and whether it is chosen.
    pub choices: Vec<(String, bool)>,
    pub value: String,
    pub error: Option<String>,
}

#[derive(Debug, Template)]
#[template(path = "letter_new.html")]
pub struct LetterNew {
    pub chrome: Chrome,
    pub title: String,
    pub back: String,
    pub action: String,
    pub csrf: String,
    pub case_ref: String,
    pub fields: Vec<FieldInput>,
    pub errors: Vec<(String, String)>,
    pub preview: Option<String>,
}

/// An audit event as the audit page lists it.
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub at: String,
    pub who: String,
    /// The roles they acted in, in words.
    pub roles: String,
    pub what: String,
    pub object: String,
    pub href: Option<String>,
}

#[derive(Debug, Template)]
#[template(path = "audit.html")]
pub struct AuditPage {
    pub chrome: Chrome,
    pub case: String,
    pub doc: String,
    pub who: String,
    pub searched: bool,
    pub rows: Vec<AuditRow>,
    /// The next (older) page's address, when there are more events.
    pub next: Option<String>,
    pub first_page: bool,
}

/// A code or snake_case name as words: `letter_of_claim` → `Letter of claim`.
pub fn words(code: &str) -> String {
    let spaced = code.replace(['_', '-'], " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Why a document is unfiled, in plain words.
pub fn unfiled_reason(code: &str) -> String {
    match code {
        "case_not_found" => "Its case is not known yet".into(),
        "no_reference" => "It carries no reference of ours".into(),
        "ambiguous_reference" => "It names more than one case".into(),
        other => words(other),
    }
}

/// A timestamp as people read it: `2026-12-05 04:35` (UTC).
pub fn when(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time}"),
        _ => rfc3339.to_owned(),
    }
}

/// A path segment with `/` and anything unsafe percent-encoded (case references).
pub fn segment(value: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(value, SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_as_words() {
        assert_eq!(words("letter_of_claim"), "Letter of claim");
        assert_eq!(
            unfiled_reason("no_reference"),
            "It carries no reference of ours"
        );
        assert_eq!(when("2026-12-05T04:35:58.867Z"), "2026-12-05 04:35");
        assert_eq!(segment("CNST/24/004512"), "CNST%2F24%2F004512");
        assert_eq!(segment("d-0a_b.c~"), "d-0a_b.c~");
        assert_eq!(segment("d-0a_b.c~"), "d-0a_b.c~");
    }
}
