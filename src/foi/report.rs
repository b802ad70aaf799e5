//! FOI figures and lists: the year's report (received, answered in time, outcomes,
//! exemptions, reviews), the due list, a due date with the bank holidays it skipped,
//! claims statistics with small numbers suppressed, and the disclosure log's files.

use std::collections::BTreeMap;

use chrono::{Datelike as _, NaiveDate};
use serde::Serialize;

use super::deadline::{ClockInput, DeadlineError, due_date};
use super::lifecycle::Status;
use super::service::{Foi, FoiCase, FoiError};
use super::stats::{Dim, Published, count, suppress};
use crate::calendar::Calendar;
use crate::store::StoreError;

/// Who publishes the disclosure log.
pub const PUBLISHER: &str = "NHS Resolution";

/// Counts below this are shown as "<N" in a claims table.
pub const DEFAULT_THRESHOLD: u64 = 5;

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot count by {0:?} (specialty, cause, injury, scheme, year)")]
    UnknownDimension(String),
    #[error("{0}")]
    Counting(String),
    #[error(transparent)]
    Foi(#[from] FoiError),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error(
        "the cases list is not complete: cases recorded before it was read from its index are not in it yet, and their claims would not be counted. An administrator runs `postroom cases relist` once (infra/README.md)"
    )]
    CasesNotListed,
}

impl crate::failure::ErrorCode for ReportError {
    fn code(&self) -> crate::failure::Code {
        use crate::failure::Code;
        match self {
            ReportError::UnknownDimension(_) | ReportError::Counting(_) => Code::InvalidRequest,
            ReportError::Foi(e) => e.code(),
            ReportError::Store(e) => e.code(),
            ReportError::CasesNotListed => Code::NotReady,
        }
    }
}

/// The year's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct YearReport {
    pub year: i32,
    /// Requests received in the year.
    pub received: usize,
    /// Of those, answered (a response recorded).
    pub answered: usize,
    /// Of those answered, answered by the due date.
    pub in_time: usize,
    /// Requests by outcome.
    pub outcomes: BTreeMap<String, usize>,
    /// Times each exemption was relied on (`s.<section> <title>`).
    pub exemptions: BTreeMap<String, usize>,
    /// Internal reviews by result (`pending` while undecided).
    pub reviews: BTreeMap<String, usize>,
    /// Complaints to the Information Commissioner noted.
    pub complaints: usize,
}

impl YearReport {
    /// The share of answered requests answered in time, in per cent (0 when none was
    /// answered).
    pub fn in_time_percent(&self) -> f64 {
        if self.answered == 0 {
            0.0
        } else {
            self.in_time as f64 * 100.0 / self.answered as f64
        }
    }

    /// Internal reviews requested.
    pub fn reviews_requested(&self) -> usize {
        self.reviews.values().sum()
    }
}

/// The figures of the requests received in `year`, from every request given.
pub fn year_report(cases: &[FoiCase], year: i32) -> YearReport {
    let mut report = YearReport {
        year,
        ..YearReport::default()
    };
    for r in cases
        .iter()
        .map(|c| &c.request)
        .filter(|r| r.received.year() == year)
    {
        report.received += 1;
        if r.responded.is_some() {
            report.answered += 1;
            report.in_time += usize::from(r.answered_in_time() == Some(true));
        }
        if let Some(o) = r.outcome {
            *report.outcomes.entry(o.as_str().to_owned()).or_insert(0) += 1;
        }
        for e in &r.exemptions {
            *report
                .exemptions
                .entry(format!("s.{} {}", e.section, e.title))
                .or_insert(0) += 1;
        }
        if r.review_requested.is_some() {
            let result = r.review_result.map_or("pending", |x| x.as_str());
            *report.reviews.entry(result.to_owned()).or_insert(0) += 1;
        }
        report.complaints += usize::from(r.complaint_noted.is_some());
    }
    report
}

/// The year's figures from the store.
pub async fn yearly(foi: &Foi, year: i32) -> Result<YearReport, FoiError> {
    Ok(year_report(&foi.all().await?, year))
}

/// Where a request on the due list stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum DueState {
    /// Its due date could not be worked out (a stable code such as
    /// `date_outside_calendar`): always listed, for someone to work it out.
    ClockNotStarted { code: String },
    /// Past its due date.
    Overdue,
    /// Not due yet: the working days left (none when the clock is paused, or the days
    /// cannot be counted on the calendar).
    Pending { working_days_left: Option<u32> },
}

/// A request on the due list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DueEntry {
    pub reference: String,
    pub status: Status,
    pub received: NaiveDate,
    /// The date it must next be acted on: the review's while a review is pending, the
    /// response's otherwise (none while the clock is paused).
    pub due: Option<NaiveDate>,
    /// Past `due` (as `state` says too; kept for callers of the FOI function's
    /// `due_list`, which answered with it first).
    pub overdue: bool,
    /// Why the due date could not be worked out, if it could not (a stable code).
    pub clock_error: Option<String>,
    #[serde(flatten)]
    pub state: DueState,
}

/// The requests awaiting a response or a review (`cases`, by due date), as of `today`:
/// all of them, or with `within`, those overdue or due within that many working days
/// (and those whose due date could not be worked out).
///
/// Overdue and due soon are judged against [`Request::deadline`](super::lifecycle::Request::deadline),
/// as the daily sweep judges them, so a pending internal review is listed by its own due
/// date; `Request::overdue` and `Request::due_soon` look at the response's due date only.
pub fn due_list(
    cases: &[FoiCase],
    today: NaiveDate,
    within: Option<u32>,
    calendar: &Calendar,
) -> Vec<DueEntry> {
    let mut list = Vec::new();
    for case in cases {
        let r = &case.request;
        let due = r.deadline();
        let state = match (&r.clock_error, due) {
            (Some(code), None) => DueState::ClockNotStarted { code: code.clone() },
            _ => {
                let overdue = due.is_some_and(|d| today > d);
                let left = due
                    .filter(|_| !overdue)
                    .and_then(|d| calendar.working_days_between(today, d).ok());
                if let Some(w) = within
                    && !(overdue || left.is_some_and(|n| n <= w))
                {
                    continue;
                }
                if overdue {
                    DueState::Overdue
                } else {
                    DueState::Pending {
                        working_days_left: left,
                    }
                }
            }
        };
        list.push(DueEntry {
            reference: r.reference.clone(),
            status: r.status,
            received: r.received,
            due,
            overdue: due.is_some_and(|d| today > d),
            clock_error: r.clock_error.clone(),
            state,
        });
    }
    list
}

/// The due list from the store, as of the FOI use case's today and on its calendar.
pub async fn due(foi: &Foi, within: Option<u32>) -> Result<Vec<DueEntry>, FoiError> {
    Ok(due_list(
        &foi.pending().await?,
        foi.today(),
        within,
        &foi.calendar,
    ))
}

/// A statutory due date and the bank holidays between the start of the clock and it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DueDate {
    pub due: NaiveDate,
    /// Each bank holiday not counted: its date and name.
    pub holidays_skipped: Vec<(NaiveDate, String)>,
    /// Whether the clock ran over days outside the bank holiday table, whose holidays
    /// were computed by rule ([`Calendar::is_projected`]): the date is a projection that
    /// a proclamation (a one-off or moved bank holiday) could still change.
    pub projected: bool,
    /// The years of the holiday table the clock was counted on.
    pub table_years: (i32, i32),
}

impl DueDate {
    /// A line saying the due date is projected, when it is.
    pub fn projection_note(&self) -> Option<String> {
        let (first, last) = self.table_years;
        self.projected.then(|| {
            format!(
                "  projected: the bank holiday table covers {first}–{last}; holidays outside it were computed by rule, and a proclamation may still add or move one"
            )
        })
    }
}

/// The due date of a request, with the bank holidays not counted from the day the clock
/// started (the clarification's, else the receipt's) to the due date.
pub fn explain_due(calendar: &Calendar, input: &ClockInput) -> Result<DueDate, DeadlineError> {
    let due = due_date(calendar, input)?;
    let start = input.clarification_received.unwrap_or(input.received);
    let holidays_skipped = start
        .iter_days()
        .skip(1)
        .take_while(|d| *d <= due)
        .filter_map(|d| calendar.holiday(d).map(|h| (d, h.to_owned())))
        .collect();
    Ok(DueDate {
        due,
        holidays_skipped,
        projected: calendar.is_projected_span(start, due),
        table_years: calendar.years(),
    })
}

/// A claims table for publication: counts suppressed, and its caption.
#[derive(Debug, Clone)]
pub struct ClaimsTable {
    pub table: Published,
    pub caption: String,
}

/// The dimensions named (`specialty`, `cause`, `injury`, `scheme`, `year`).
pub fn dimensions(by: &[String]) -> Result<Vec<Dim>, ReportError> {
    by.iter()
        .map(|b| Dim::parse(b).ok_or_else(|| ReportError::UnknownDimension(b.clone())))
        .collect()
}

/// Clinical negligence claims counted from the case records by the dimensions named,
/// for the years `from` to `to`; counts from 1 to `threshold` − 1 suppressed.
pub async fn claims_table(
    foi: &Foi,
    by: &[String],
    from: i32,
    to: i32,
    threshold: u64,
) -> Result<ClaimsTable, ReportError> {
    let dims = dimensions(by)?;
    // Counts that leave out older cases would be published as if whole.
    if !crate::cases::listing::is_complete(foi.stores.table.as_ref()).await? {
        return Err(ReportError::CasesNotListed);
    }
    let cases = crate::cases::list_cases(foi.stores.table.as_ref()).await?;
    let counts = count(&cases, &dims, from, to).map_err(ReportError::Counting)?;
    let caption = format!(
        "Clinical negligence claims by {}, {from} to {to}",
        dims.iter()
            .map(|d| d.as_str())
            .collect::<Vec<_>>()
            .join(" and ")
    );
    Ok(ClaimsTable {
        table: suppress(counts, threshold),
        caption,
    })
}

/// The disclosure log as files: each public response (`<reference>-response.pdf`),
/// `index.html` and `disclosure-log.json`.
#[derive(Debug, Clone)]
pub struct LogFiles {
    /// Entries in the log.
    pub entries: usize,
    /// Name (within the log's folder) and bytes, the responses first.
    pub files: Vec<(String, Vec<u8>)>,
}

/// The disclosure log's files, with the public responses from the store.
pub async fn disclosure_log_files(foi: &Foi) -> Result<LogFiles, FoiError> {
    let mut entries = foi.disclosure_log().await?;
    let mut files = Vec::new();
    for e in &mut entries {
        let pdf = foi.stores.blobs.get(&e.document).await?;
        let name = format!("{}-response.pdf", e.reference.replace(['/', '\\'], "-"));
        files.push((name.clone(), pdf.body.to_vec()));
        e.document = name;
    }
    files.push((
        "index.html".to_owned(),
        super::disclosure::html(&entries, PUBLISHER).into_bytes(),
    ));
    let json = serde_json::to_string_pretty(&entries)
        .map_err(|e| FoiError::Invalid(format!("the disclosure log: {e}")))?;
    files.push(("disclosure-log.json".to_owned(), (json + "\n").into_bytes()));
    Ok(LogFiles {
        entries: entries.len(),
        files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::foi::lifecycle::{Exemption, Outcome, Request, ReviewResult};

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn case(r: Request) -> FoiCase {
        FoiCase {
            request: r,
            requester: None,
            request_text: String::new(),
            title: String::new(),
            duplicate_of: None,
            sender_date: None,
            version: 1,
        }
    }

    fn request(reference: &str, received: &str) -> Request {
        Request::new(reference, d(received), Calendar::embedded()).expect("request")
    }

    #[test]
    fn the_year_counts_only_requests_received_in_it() {
        let mut a = request("FOI_1", "2024-03-28"); // due 2024-04-29
        a.status = Status::Responded;
        a.responded = Some(d("2024-04-24"));
        a.outcome = Some(Outcome::Refused);
        a.exemptions = vec![Exemption {
            section: "40(2)".into(),
            title: "Personal information".into(),
            reason: "r".into(),
        }];
        a.review_requested = Some(d("2024-05-01"));
        a.review_result = Some(ReviewResult::Upheld);
        let mut b = request("FOI_2", "2024-03-29");
        b.responded = Some(d("2024-06-01")); // late
        b.outcome = Some(Outcome::Granted);
        b.review_requested = Some(d("2024-06-10"));
        b.complaint_noted = Some(d("2024-07-01"));
        let c = request("FOI_3", "2024-04-02");
        let other_year = request("FOI_4", "2023-12-01");
        let cases: Vec<FoiCase> = [a, b, c, other_year].into_iter().map(case).collect();
        let report = year_report(&cases, 2024);
        assert_eq!(report.received, 3);
        assert_eq!((report.answered, report.in_time), (2, 1));
        assert!((report.in_time_percent() - 50.0).abs() < 1e-9);
        assert_eq!(report.outcomes["refused"], 1);
        assert_eq!(report.outcomes["granted"], 1);
        assert_eq!(report.exemptions["s.40(2) Personal information"], 1);
        assert_eq!(report.reviews["upheld"], 1);
        assert_eq!(report.reviews["pending"], 1);
        assert_eq!(report.reviews_requested(), 2);
        assert_eq!(report.complaints, 1);
        let empty = year_report(&cases, 2020);
        assert_eq!(empty.received, 0);
        assert_eq!(empty.in_time_percent(), 0.0);
    }

    #[test]
    fn the_due_list_keeps_the_overdue_the_due_soon_and_the_unclocked() {
        let cal = Calendar::embedded();
        let today = d("2024-04-25"); // Thursday
        let overdue = request("FOI_1", "2024-03-01"); // due 2024-03-28
        let soon = request("FOI_2", "2024-03-28"); // due 2024-04-29: 2 working days
        let later = request("FOI_3", "2024-04-24"); // due 2024-05-23
        let unclocked = Request::flagged("FOI_4", d("2031-01-06"), "date_outside_calendar");
        let mut review = request("FOI_5", "2024-01-02");
        review.status = Status::ReviewRequested;
        review.review_due = Some(d("2024-04-26"));
        let cases: Vec<FoiCase> = [overdue, soon, later, unclocked, review]
            .into_iter()
            .map(case)
            .collect();
        let all = due_list(&cases, today, None, cal);
        assert_eq!(all.len(), 5);
        assert_eq!(all[0].state, DueState::Overdue);
        assert_eq!(
            all[1].state,
            DueState::Pending {
                working_days_left: Some(2)
            }
        );
        assert_eq!(
            all[3].state,
            DueState::ClockNotStarted {
                code: "date_outside_calendar".into()
            }
        );
        let listed = due_list(&cases, today, Some(5), cal);
        let within: Vec<&str> = listed.iter().map(|e| e.reference.as_str()).collect();
        // The review is listed by its own due date.
        assert_eq!(within, ["FOI_1", "FOI_2", "FOI_4", "FOI_5"]);
        // For a request awaiting its response, the list agrees with the request's own
        // judgement.
        for c in &cases[..3] {
            let listed = within.contains(&c.request.reference.as_str());
            assert_eq!(
                listed,
                c.request.overdue(today) || c.request.due_soon(today, 5, cal),
                "{}",
                c.request.reference
            );
        }
    }

    #[test]
    fn a_due_date_names_the_bank_holidays_it_skipped() {
        let due = explain_due(
            Calendar::embedded(),
            &ClockInput {
                received: d("2024-03-28"),
                ..ClockInput::default()
            },
        )
        .expect("due");
        assert_eq!(due.due, d("2024-04-29"));
        let days: Vec<NaiveDate> = due.holidays_skipped.iter().map(|(d, _)| *d).collect();
        assert_eq!(days, [d("2024-03-29"), d("2024-04-01")]);
        assert!(!due.projected);
        assert_eq!(due.projection_note(), None);
    }

    /// Received Fri 22 Dec 2028, the clock runs into 2029, past the table: a due date by
    /// rule, marked projected. By hand: 27, 28, 29 Dec are days 1-3; 1 Jan 2029 and
    /// Scotland's 2 Jan are holidays; Wed 3 Jan is day 4, Mon 8 day 7, Mon 15 day 12,
    /// Mon 22 day 17, Thu 25 Jan day 20.
    #[test]
    fn a_request_received_on_22_december_2028_is_due_in_2029_projected() {
        let due = explain_due(
            Calendar::embedded(),
            &ClockInput {
                received: d("2028-12-22"),
                ..ClockInput::default()
            },
        )
        .expect("due");
        assert_eq!(due.due, d("2029-01-25"));
        let days: Vec<NaiveDate> = due.holidays_skipped.iter().map(|(d, _)| *d).collect();
        assert_eq!(
            days,
            [
                d("2028-12-25"),
                d("2028-12-26"),
                d("2029-01-01"),
                d("2029-01-02")
            ]
        );
        assert!(due.projected);
        assert!(
            due.projection_note()
                .is_some_and(|n| n.contains("projected") && n.contains("2015–2028")),
            "{:?}",
            due.projection_note()
        );
    }

    #[test]
    fn unknown_dimensions_are_refused_by_name() {
        let err = dimensions(&["specialty".into(), "colour".into()]).unwrap_err();
        assert!(err.to_string().contains("\"colour\""), "{err}");
        assert_eq!(dimensions(&["year".into()]).expect("year"), [Dim::Year]);
    }
}
