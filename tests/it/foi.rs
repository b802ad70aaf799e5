//! FOI casework: the statutory clock over a table of due dates worked out by hand
//! (2019–2028: Easter, Christmas and New Year, each nation's holidays, one-off holidays,
//! weekends, clarification, fees and extensions).

use chrono::NaiveDate;
use postroom::calendar::{Calendar, Nation};
use postroom::foi::deadline::{
    ClockInput, DeadlineError, due_date, review_due, review_request_deadline,
};

const ALL: &[Nation] = &Nation::ALL;

type Case = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    u32,
    &'static [Nation],
    &'static str,
);

/// (received, clarification received, fees notice, fee paid, extension, nations counted, due).
#[rustfmt::skip]
const CASES: &[Case] = &[
    // plain weeks, no holidays.
    // Received Mon 4 Feb 2019.
    // Not counted (weekdays): none.
    // 20 working days after Mon 4 Feb 2019 → Mon 4 Mar 2019.
    ("2019-02-04", None, None, None, 0, ALL, "2019-03-04"),
    // Easter 2019 (Good Friday, Easter Monday).
    // Received Mon 15 Apr 2019.
    // Not counted (weekdays): Fri 19 Apr Good Friday, Mon 22 Apr Easter Monday, Mon 6 May Early May bank holiday.
    // 20 working days after Mon 15 Apr 2019 → Thu 16 May 2019.
    ("2019-04-15", None, None, None, 0, ALL, "2019-05-16"),
    // early May 2019.
    // Received Mon 29 Apr 2019.
    // Not counted (weekdays): Mon 6 May Early May bank holiday, Mon 27 May Spring bank holiday.
    // 20 working days after Mon 29 Apr 2019 → Wed 29 May 2019.
    ("2019-04-29", None, None, None, 0, ALL, "2019-05-29"),
    // Christmas and New Year 2019/20 with 2 January.
    // Received Mon 16 Dec 2019.
    // Not counted (weekdays): Wed 25 Dec Christmas Day, Thu 26 Dec Boxing Day, Wed 1 Jan New Year’s Day, Thu 2 Jan 2nd January.
    // 20 working days after Mon 16 Dec 2019 → Fri 17 Jan 2020.
    ("2019-12-16", None, None, None, 0, ALL, "2020-01-17"),
    // VE day moved early May 2020.
    // Received Fri 1 May 2020.
    // Not counted (weekdays): Fri 8 May Early May bank holiday (VE day), Mon 25 May Spring bank holiday.
    // 20 working days after Fri 1 May 2020 → Tue 2 Jun 2020.
    ("2020-05-01", None, None, None, 0, ALL, "2020-06-02"),
    // August 2020: Scotland's first Monday and England's last.
    // Received Mon 27 Jul 2020.
    // Not counted (weekdays): Mon 3 Aug Summer bank holiday.
    // 20 working days after Mon 27 Jul 2020 → Tue 25 Aug 2020.
    ("2020-07-27", None, None, None, 0, ALL, "2020-08-25"),
    // St Andrew's Day 2020 (Monday 30 Nov).
    // Received Mon 23 Nov 2020.
    // Not counted (weekdays): Mon 30 Nov St Andrew’s Day.
    // 20 working days after Mon 23 Nov 2020 → Tue 22 Dec 2020.
    ("2020-11-23", None, None, None, 0, ALL, "2020-12-22"),
    // Christmas 2020 on a Friday, Boxing Day substitute 28th.
    // Received Mon 14 Dec 2020.
    // Not counted (weekdays): Fri 25 Dec Christmas Day, Mon 28 Dec Boxing Day, Fri 1 Jan New Year’s Day, Mon 4 Jan 2nd January.
    // 20 working days after Mon 14 Dec 2020 → Fri 15 Jan 2021.
    ("2020-12-14", None, None, None, 0, ALL, "2021-01-15"),
    // Christmas 2021 on a Saturday: substitutes 27 and 28 Dec, New Year 3 Jan, 2 Jan on 4th.
    // Received Mon 20 Dec 2021.
    // Not counted (weekdays): Mon 27 Dec Christmas Day, Tue 28 Dec Boxing Day, Mon 3 Jan New Year’s Day, Tue 4 Jan 2nd January.
    // 20 working days after Mon 20 Dec 2021 → Fri 21 Jan 2022.
    ("2021-12-20", None, None, None, 0, ALL, "2022-01-21"),
    // St Patrick's Day 2021 (Wednesday).
    // Received Wed 10 Mar 2021.
    // Not counted (weekdays): Wed 17 Mar St Patrick’s Day, Fri 2 Apr Good Friday, Mon 5 Apr Easter Monday.
    // 20 working days after Wed 10 Mar 2021 → Mon 12 Apr 2021.
    ("2021-03-10", None, None, None, 0, ALL, "2021-04-12"),
    // Platinum Jubilee 2022 (2 and 3 June).
    // Received Wed 25 May 2022.
    // Not counted (weekdays): Thu 2 Jun Spring bank holiday, Fri 3 Jun Platinum Jubilee bank holiday.
    // 20 working days after Wed 25 May 2022 → Fri 24 Jun 2022.
    ("2022-05-25", None, None, None, 0, ALL, "2022-06-24"),
    // The State Funeral, Mon 19 Sep 2022 (a one-off holiday in every nation).
    // Received Mon 12 Sep 2022.
    // Not counted (weekdays): Mon 19 Sep Bank Holiday for the State Funeral of Queen Elizabeth II.
    // 20 working days after Mon 12 Sep 2022 → Tue 11 Oct 2022.
    ("2022-09-12", None, None, None, 0, ALL, "2022-10-11"),
    // Coronation 8 May 2023 and early May 1 May.
    // Received Mon 24 Apr 2023.
    // Not counted (weekdays): Mon 1 May Early May bank holiday, Mon 8 May Bank holiday for the coronation of King Charles III.
    // 20 working days after Mon 24 Apr 2023 → Wed 24 May 2023.
    ("2023-04-24", None, None, None, 0, ALL, "2023-05-24"),
    // received on a Saturday.
    // Received Sat 10 Jun 2023.
    // Not counted (weekdays): none.
    // 20 working days after Sat 10 Jun 2023 → Fri 7 Jul 2023.
    ("2023-06-10", None, None, None, 0, ALL, "2023-07-07"),
    // received on a Sunday.
    // Received Sun 11 Jun 2023.
    // Not counted (weekdays): none.
    // 20 working days after Sun 11 Jun 2023 → Fri 7 Jul 2023.
    ("2023-06-11", None, None, None, 0, ALL, "2023-07-07"),
    // received on Good Friday 2023.
    // Received Fri 7 Apr 2023.
    // Not counted (weekdays): Mon 10 Apr Easter Monday, Mon 1 May Early May bank holiday, Mon 8 May Bank holiday for the coronation of King Charles III.
    // 20 working days after Fri 7 Apr 2023 → Wed 10 May 2023.
    ("2023-04-07", None, None, None, 0, ALL, "2023-05-10"),
    // received on Christmas Day 2023.
    // Received Mon 25 Dec 2023.
    // Not counted (weekdays): Tue 26 Dec Boxing Day, Mon 1 Jan New Year’s Day, Tue 2 Jan 2nd January.
    // 20 working days after Mon 25 Dec 2023 → Thu 25 Jan 2024.
    ("2023-12-25", None, None, None, 0, ALL, "2024-01-25"),
    // Easter 2024 at the end of March.
    // Received Mon 25 Mar 2024.
    // Not counted (weekdays): Fri 29 Mar Good Friday, Mon 1 Apr Easter Monday.
    // 20 working days after Mon 25 Mar 2024 → Wed 24 Apr 2024.
    ("2024-03-25", None, None, None, 0, ALL, "2024-04-24"),
    // St Patrick's Day 2024 substitute Monday 18 March.
    // Received Mon 11 Mar 2024.
    // Not counted (weekdays): Mon 18 Mar St Patrick’s Day, Fri 29 Mar Good Friday, Mon 1 Apr Easter Monday.
    // 20 working days after Mon 11 Mar 2024 → Thu 11 Apr 2024.
    ("2024-03-11", None, None, None, 0, ALL, "2024-04-11"),
    // St Andrew's Day 2024 substitute Monday 2 Dec.
    // Received Mon 25 Nov 2024.
    // Not counted (weekdays): Mon 2 Dec St Andrew’s Day.
    // 20 working days after Mon 25 Nov 2024 → Tue 24 Dec 2024.
    ("2024-11-25", None, None, None, 0, ALL, "2024-12-24"),
    // Orangemen's Day 2024 (Friday 12 July).
    // Received Mon 8 Jul 2024.
    // Not counted (weekdays): Fri 12 Jul Battle of the Boyne (Orangemen’s Day), Mon 5 Aug Summer bank holiday.
    // 20 working days after Mon 8 Jul 2024 → Wed 7 Aug 2024.
    ("2024-07-08", None, None, None, 0, ALL, "2024-08-07"),
    // 2 January 2025 (Scotland).
    // Received Mon 23 Dec 2024.
    // Not counted (weekdays): Wed 25 Dec Christmas Day, Thu 26 Dec Boxing Day, Wed 1 Jan New Year’s Day, Thu 2 Jan 2nd January.
    // 20 working days after Mon 23 Dec 2024 → Fri 24 Jan 2025.
    ("2024-12-23", None, None, None, 0, ALL, "2025-01-24"),
    // England and Wales only: St Patrick's Day 2025 counts.
    // Received Mon 10 Mar 2025.
    // Not counted (weekdays): none.
    // 20 working days after Mon 10 Mar 2025; nations england-and-wales; → Mon 7 Apr 2025.
    ("2025-03-10", None, None, None, 0, &[Nation::EnglandAndWales], "2025-04-07"),
    // UK-wide: St Patrick's Day 2025 does not count.
    // Received Mon 10 Mar 2025.
    // Not counted (weekdays): Mon 17 Mar St Patrick’s Day.
    // 20 working days after Mon 10 Mar 2025 → Tue 8 Apr 2025.
    ("2025-03-10", None, None, None, 0, ALL, "2025-04-08"),
    // Scotland only: Easter Monday 2025 counts.
    // Received Mon 14 Apr 2025.
    // Not counted (weekdays): Fri 18 Apr Good Friday, Mon 5 May Early May bank holiday.
    // 20 working days after Mon 14 Apr 2025; nations scotland; → Wed 14 May 2025.
    ("2025-04-14", None, None, None, 0, &[Nation::Scotland], "2025-05-14"),
    // UK-wide Easter 2025.
    // Received Mon 14 Apr 2025.
    // Not counted (weekdays): Fri 18 Apr Good Friday, Mon 21 Apr Easter Monday, Mon 5 May Early May bank holiday.
    // 20 working days after Mon 14 Apr 2025 → Thu 15 May 2025.
    ("2025-04-14", None, None, None, 0, ALL, "2025-05-15"),
    // August 2025 both summer holidays.
    // Received Mon 28 Jul 2025.
    // Not counted (weekdays): Mon 4 Aug Summer bank holiday, Mon 25 Aug Summer bank holiday.
    // 20 working days after Mon 28 Jul 2025 → Wed 27 Aug 2025.
    ("2025-07-28", None, None, None, 0, ALL, "2025-08-27"),
    // World Cup bank holiday 2026 (Scotland).
    // Received Mon 8 Jun 2026.
    // Not counted (weekdays): Mon 15 Jun World Cup bank holiday.
    // 20 working days after Mon 8 Jun 2026 → Tue 7 Jul 2026.
    ("2026-06-08", None, None, None, 0, ALL, "2026-07-07"),
    // England only: 15 June 2026 counts.
    // Received Mon 8 Jun 2026.
    // Not counted (weekdays): none.
    // 20 working days after Mon 8 Jun 2026; nations england-and-wales; → Mon 6 Jul 2026.
    ("2026-06-08", None, None, None, 0, &[Nation::EnglandAndWales], "2026-07-06"),
    // Christmas 2026: Boxing Day substitute 28 Dec.
    // Received Mon 14 Dec 2026.
    // Not counted (weekdays): Fri 25 Dec Christmas Day, Mon 28 Dec Boxing Day, Fri 1 Jan New Year’s Day, Mon 4 Jan 2nd January.
    // 20 working days after Mon 14 Dec 2026 → Fri 15 Jan 2027.
    ("2026-12-14", None, None, None, 0, ALL, "2027-01-15"),
    // Christmas 2027 on a Saturday: 27 and 28 Dec; New Year 3 Jan 2028; 2 January on 4th.
    // Received Fri 17 Dec 2027.
    // Not counted (weekdays): Mon 27 Dec Christmas Day, Tue 28 Dec Boxing Day, Mon 3 Jan New Year’s Day, Tue 4 Jan 2nd January.
    // 20 working days after Fri 17 Dec 2027 → Thu 20 Jan 2028.
    ("2027-12-17", None, None, None, 0, ALL, "2028-01-20"),
    // Easter 2028 (14 and 17 April).
    // Received Mon 10 Apr 2028.
    // Not counted (weekdays): Fri 14 Apr Good Friday, Mon 17 Apr Easter Monday, Mon 1 May Early May bank holiday.
    // 20 working days after Mon 10 Apr 2028 → Thu 11 May 2028.
    ("2028-04-10", None, None, None, 0, ALL, "2028-05-11"),
    // clarification restarts the clock.
    // Received Mon 8 Jan 2024; clarified Mon 22 Jan 2024, so the count restarts from it.
    // Not counted (weekdays): none.
    // 20 working days after Mon 22 Jan 2024 → Mon 19 Feb 2024.
    ("2024-01-08", Some("2024-01-22"), None, None, 0, ALL, "2024-02-19"),
    // clarification arrives on a Saturday.
    // Received Mon 5 Feb 2024; clarified Sat 17 Feb 2024, so the count restarts from it.
    // Not counted (weekdays): none.
    // 20 working days after Sat 17 Feb 2024 → Fri 15 Mar 2024.
    ("2024-02-05", Some("2024-02-17"), None, None, 0, ALL, "2024-03-15"),
    // clarification just before Easter 2024.
    // Received Fri 1 Mar 2024; clarified Thu 28 Mar 2024, so the count restarts from it.
    // Not counted (weekdays): Fri 29 Mar Good Friday, Mon 1 Apr Easter Monday.
    // 20 working days after Thu 28 Mar 2024 → Mon 29 Apr 2024.
    ("2024-03-01", Some("2024-03-28"), None, None, 0, ALL, "2024-04-29"),
    // fees notice pauses the clock.
    // Received Mon 3 Jun 2024.
    // Fees notice Mon 10 Jun 2024, paid Fri 14 Jun 2024: those working days do not count.
    // Not counted (weekdays): Mon 10 Jun (fee pause), Tue 11 Jun (fee pause), Wed 12 Jun (fee pause), Thu 13 Jun (fee pause), Fri 14 Jun (fee pause).
    // 20 working days after Mon 3 Jun 2024 → Mon 8 Jul 2024.
    ("2024-06-03", None, Some("2024-06-10"), Some("2024-06-14"), 0, ALL, "2024-07-08"),
    // fee paid the day the notice was given.
    // Received Mon 3 Jun 2024.
    // Fees notice Mon 10 Jun 2024, paid Mon 10 Jun 2024: those working days do not count.
    // Not counted (weekdays): Mon 10 Jun (fee pause).
    // 20 working days after Mon 3 Jun 2024 → Tue 2 Jul 2024.
    ("2024-06-03", None, Some("2024-06-10"), Some("2024-06-10"), 0, ALL, "2024-07-02"),
    // fee pause over a weekend and the August holiday.
    // Received Mon 21 Jul 2025.
    // Fees notice Thu 31 Jul 2025, paid Tue 5 Aug 2025: those working days do not count.
    // Not counted (weekdays): Thu 31 Jul (fee pause), Fri 1 Aug (fee pause), Tue 5 Aug (fee pause).
    // 20 working days after Mon 21 Jul 2025 → Fri 22 Aug 2025.
    ("2025-07-21", None, Some("2025-07-31"), Some("2025-08-05"), 0, ALL, "2025-08-22"),
    // public interest extension of 20 days.
    // Received Mon 2 Sep 2024.
    // Not counted (weekdays): none.
    // 20 working days after Mon 2 Sep 2024 then 20 more working days for the public interest test; → Mon 28 Oct 2024.
    ("2024-09-02", None, None, None, 20, ALL, "2024-10-28"),
    // public interest extension of 10 days over Christmas 2024.
    // Received Mon 18 Nov 2024.
    // Not counted (weekdays): Mon 2 Dec St Andrew’s Day, Wed 25 Dec Christmas Day, Thu 26 Dec Boxing Day, Wed 1 Jan New Year’s Day, Thu 2 Jan 2nd January.
    // 20 working days after Mon 18 Nov 2024 then 10 more working days for the public interest test; → Mon 6 Jan 2025.
    ("2024-11-18", None, None, None, 10, ALL, "2025-01-06"),
    // clarification then a fee then an extension.
    // Received Mon 2 Oct 2023; clarified Mon 9 Oct 2023, so the count restarts from it.
    // Fees notice Mon 16 Oct 2023, paid Fri 20 Oct 2023: those working days do not count.
    // Not counted (weekdays): Mon 16 Oct (fee pause), Tue 17 Oct (fee pause), Wed 18 Oct (fee pause), Thu 19 Oct (fee pause), Fri 20 Oct (fee pause).
    // 20 working days after Mon 9 Oct 2023 then 5 more working days for the public interest test; → Mon 20 Nov 2023.
    ("2023-10-02", Some("2023-10-09"), Some("2023-10-16"), Some("2023-10-20"), 5, ALL, "2023-11-20"),
    // received on New Year's Day 2027.
    // Received Fri 1 Jan 2027.
    // Not counted (weekdays): Mon 4 Jan 2nd January.
    // 20 working days after Fri 1 Jan 2027 → Mon 1 Feb 2027.
    ("2027-01-01", None, None, None, 0, ALL, "2027-02-01"),
];

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

#[test]
fn due_dates_match_the_hand_worked_table() {
    assert!(CASES.len() >= 40);
    let mut failures = Vec::new();
    for (received, clarified, notice, paid, pit, nations, due) in CASES {
        let cal = Calendar::embedded().with_nations(nations);
        let input = ClockInput {
            received: d(received),
            clarification_received: clarified.map(d),
            fee_notice: notice.map(d),
            fee_paid: paid.map(d),
            pit_extension: *pit,
        };
        match due_date(&cal, &input) {
            Ok(got) if got == d(due) => {}
            other => failures.push(format!(
                "received {received}: expected {due}, got {other:?}"
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_clock_refuses_what_it_cannot_count() {
    let cal = Calendar::embedded();
    let mut input = ClockInput::received(d("2024-06-03"));
    input.fee_notice = Some(d("2024-06-10"));
    assert_eq!(due_date(cal, &input), Err(DeadlineError::Paused));
    input.fee_paid = Some(d("2024-06-07"));
    assert!(matches!(
        due_date(cal, &input),
        Err(DeadlineError::PaidBeforeNotice { .. })
    ));
    let mut input = ClockInput::received(d("2024-06-03"));
    input.pit_extension = 21;
    assert_eq!(
        due_date(cal, &input),
        Err(DeadlineError::ExtensionTooLong(21))
    );
    let mut input = ClockInput::received(d("2024-06-03"));
    input.clarification_received = Some(d("2024-05-31"));
    assert!(matches!(
        due_date(cal, &input),
        Err(DeadlineError::BeforeReceipt { .. })
    ));
    // Past the holiday table: computed by rule (projected). Wed 20 Dec 2028: 21, 22, 27,
    // 28, 29 Dec, then 1 and 2 Jan 2029 are holidays (2 Jan in Scotland): day 20 is Tue 23 Jan.
    assert_eq!(
        due_date(cal, &ClockInput::received(d("2028-12-20"))),
        Ok(d("2029-01-23"))
    );
    // Past the last year the calendar counts at all (2200): refused, not guessed.
    let input = ClockInput::received(d("2200-12-20"));
    assert!(matches!(
        due_date(cal, &input),
        Err(DeadlineError::Calendar(_))
    ));
}

#[test]
fn internal_review_deadlines() {
    let cal = Calendar::embedded();
    // Responded Mon 1 Jul 2024: day 1 is Tue 2 Jul; 40 working days would end Mon 26 Aug,
    // but Northern Ireland's 12 Jul, Scotland's 5 Aug and England's 26 Aug do not count,
    // so three more → Thu 29 Aug 2024.
    assert_eq!(
        review_request_deadline(cal, d("2024-07-01")).unwrap(),
        d("2024-08-29")
    );
    // Review asked for Mon 2 Sep 2024: 20 working days → Mon 30 Sep; 40 at most → Mon 28 Oct.
    assert_eq!(
        review_due(cal, d("2024-09-02"), 20).unwrap(),
        d("2024-09-30")
    );
    assert_eq!(
        review_due(cal, d("2024-09-02"), 40).unwrap(),
        d("2024-10-28")
    );
    assert_eq!(
        review_due(cal, d("2024-09-02"), 41),
        Err(DeadlineError::ExtensionTooLong(41))
    );
}

mod lifecycle {
    use super::d;
    use postroom::calendar::Calendar;
    use postroom::foi::lifecycle::{
        Command, LifecycleError, Outcome, Request, ReviewResult, Status,
    };

    fn commands() -> Vec<Command> {
        let on = d("2024-03-06");
        vec![
            Command::Acknowledge { on },
            Command::RequestClarification { on },
            Command::ClarificationReceived { on },
            Command::IssueFeeNotice { on },
            Command::FeePaid { on },
            Command::StartWork { on },
            Command::ExtendForPublicInterest {
                on,
                days: 10,
                reason: "balancing the public interest in s.43".into(),
            },
            Command::Respond {
                on,
                outcome: Outcome::Withdrawn,
                exemptions: vec![],
            },
            Command::RequestReview { on },
            Command::ExtendReview {
                on,
                days: 40,
                reason: "a complex review".into(),
            },
            Command::DecideReview {
                on,
                result: ReviewResult::Upheld,
            },
            Command::Close { on },
            Command::NoteComplaint { on },
        ]
    }

    /// A request brought to `status` by legal moves.
    fn in_status(status: Status, cal: &Calendar) -> Request {
        let on = d("2024-03-05");
        let path: Vec<Command> = match status {
            Status::Received => vec![],
            Status::Acknowledged => vec![Command::Acknowledge { on }],
            Status::AwaitingClarification => vec![
                Command::Acknowledge { on },
                Command::RequestClarification { on },
            ],
            Status::AwaitingFee => {
                vec![Command::Acknowledge { on }, Command::IssueFeeNotice { on }]
            }
            Status::InProgress => vec![Command::Acknowledge { on }, Command::StartWork { on }],
            Status::Extended => vec![
                Command::StartWork { on },
                Command::ExtendForPublicInterest {
                    on,
                    days: 5,
                    reason: "s.36 balance".into(),
                },
            ],
            Status::Responded => vec![
                Command::StartWork { on },
                Command::Respond {
                    on,
                    outcome: Outcome::Granted,
                    exemptions: vec![],
                },
            ],
            Status::ReviewRequested => vec![
                Command::StartWork { on },
                Command::Respond {
                    on,
                    outcome: Outcome::Granted,
                    exemptions: vec![],
                },
                Command::RequestReview { on },
            ],
            Status::ReviewDecided => vec![
                Command::StartWork { on },
                Command::Respond {
                    on,
                    outcome: Outcome::Granted,
                    exemptions: vec![],
                },
                Command::RequestReview { on },
                Command::DecideReview {
                    on,
                    result: ReviewResult::Overturned,
                },
            ],
            Status::Closed => vec![
                Command::StartWork { on },
                Command::Respond {
                    on,
                    outcome: Outcome::Granted,
                    exemptions: vec![],
                },
                Command::Close { on },
            ],
        };
        let mut r = Request::new("FOI_7001", d("2024-03-01"), cal).expect("new");
        for c in &path {
            r = r
                .apply(c, cal)
                .unwrap_or_else(|e| panic!("path to {status:?}: {e}"));
        }
        assert_eq!(r.status, status);
        r
    }

    #[test]
    fn every_illegal_move_is_refused_and_every_legal_one_accepted() {
        let cal = Calendar::embedded();
        let mut checked = 0;
        for status in Status::ALL {
            let request = in_status(status, cal);
            for cmd in commands() {
                let legal = cmd.allowed_from().contains(&status);
                match request.apply(&cmd, cal) {
                    Ok(next) => {
                        assert!(legal, "{status:?} accepted illegal {}", cmd.name());
                        assert_ne!(
                            next,
                            request,
                            "{status:?} + {}: nothing changed",
                            cmd.name()
                        );
                    }
                    Err(LifecycleError::IllegalMove { from, command, .. }) => {
                        assert!(!legal, "{status:?} refused legal {}", cmd.name());
                        assert_eq!((from, command), (status, cmd.name()));
                        let message = request.apply(&cmd, cal).unwrap_err().to_string();
                        assert!(
                            message.contains(status.as_str()) && message.contains(cmd.name()),
                            "{message}"
                        );
                    }
                    Err(e) => panic!("{status:?} + {}: {e}", cmd.name()),
                }
                checked += 1;
            }
        }
        assert_eq!(checked, Status::ALL.len() * commands().len());
    }

    #[test]
    fn the_clock_follows_the_lifecycle() {
        let cal = Calendar::embedded();
        // Received Mon 8 Jan 2024: day 1 is Tue 9 Jan → due Mon 5 Feb (no holidays).
        let r = Request::new("FOI_7002", d("2024-01-08"), cal).unwrap();
        assert_eq!(r.due, Some(d("2024-02-05")));
        // Clarification asked: the clock stops; it arrives Mon 22 Jan: due Mon 19 Feb.
        let r = r
            .apply(
                &Command::RequestClarification {
                    on: d("2024-01-09"),
                },
                cal,
            )
            .unwrap();
        assert_eq!(r.due, None);
        let r = r
            .apply(
                &Command::ClarificationReceived {
                    on: d("2024-01-22"),
                },
                cal,
            )
            .unwrap();
        assert_eq!(r.due, Some(d("2024-02-19")));
        // A public interest extension of 10 days: Mon 4 Mar.
        let r = r
            .apply(
                &Command::ExtendForPublicInterest {
                    on: d("2024-02-12"),
                    days: 10,
                    reason: "s.43 balance".into(),
                },
                cal,
            )
            .unwrap();
        assert_eq!(r.due, Some(d("2024-03-04")));
        assert!(r.overdue(d("2024-03-05")) && !r.overdue(d("2024-03-04")));
        assert!(r.due_soon(d("2024-02-28"), 5, cal) && !r.due_soon(d("2024-02-12"), 5, cal));
        // Refused without exemptions: refused, by reason.
        let err = r
            .apply(
                &Command::Respond {
                    on: d("2024-03-01"),
                    outcome: Outcome::Refused,
                    exemptions: vec![],
                },
                cal,
            )
            .unwrap_err();
        assert!(
            err.to_string().contains("must cite its exemptions"),
            "{err}"
        );
        let r = r
            .apply(
                &Command::Respond {
                    on: d("2024-03-01"),
                    outcome: Outcome::NotHeld,
                    exemptions: vec![],
                },
                cal,
            )
            .unwrap();
        assert_eq!(r.answered_in_time(), Some(true));
        assert!(!r.overdue(d("2024-04-01")), "a response stops the clock");
        // An extension after the due date, or of more than 20 days, is refused.
        let late = Request::new("FOI_7003", d("2024-01-08"), cal).unwrap();
        let late = late
            .apply(
                &Command::StartWork {
                    on: d("2024-01-08"),
                },
                cal,
            )
            .unwrap();
        assert!(
            late.apply(
                &Command::ExtendForPublicInterest {
                    on: d("2024-02-06"),
                    days: 5,
                    reason: "x".into()
                },
                cal
            )
            .is_err()
        );
        assert!(
            late.apply(
                &Command::ExtendForPublicInterest {
                    on: d("2024-01-10"),
                    days: 21,
                    reason: "x".into()
                },
                cal
            )
            .is_err()
        );
    }
}

mod statistics {
    use postroom::foi::stats::{Counts, Dim, Shown, count, suppress};
    use serde_json::json;

    fn counts(cells: Vec<Vec<u64>>) -> Counts {
        Counts {
            row_dim: Dim::Specialty,
            col_dim: Some(Dim::Year),
            rows: (0..cells.len()).map(|i| format!("r{i}")).collect(),
            cols: (0..cells[0].len()).map(|j| format!("c{j}")).collect(),
            cells,
        }
    }

    /// An attacker's brute force, independent of the library's solver: every assignment
    /// of the suppressed cells (small ones 1..t-1, hidden ones t..grand) that fits every
    /// published row and column total. Returns, per suppressed small cell, the set of
    /// values it can take.
    fn attack(
        published: &[Vec<Shown>],
        t: u64,
        grand_bound: u64,
    ) -> Vec<((usize, usize), std::collections::BTreeSet<u64>)> {
        let rows = published.len() - 1;
        let cols = published[0].len() - 1;
        let vars: Vec<(usize, usize)> = (0..=rows)
            .flat_map(|i| (0..=cols).map(move |j| (i, j)))
            .filter(|&(i, j)| !matches!(published[i][j], Shown::Value(_)))
            .collect();
        let mut values = vec![std::collections::BTreeSet::new(); vars.len()];
        let mut grid: Vec<Vec<Option<u64>>> = published
            .iter()
            .map(|r| {
                r.iter()
                    .map(|s| {
                        if let Shown::Value(v) = s {
                            Some(*v)
                        } else {
                            None
                        }
                    })
                    .collect()
            })
            .collect();
        /// Every line's assigned cells stay within its total, and add up to it when
        /// the whole line is known.
        fn lines_ok(grid: &[Vec<Option<u64>>], rows: usize, cols: usize) -> bool {
            let check = |cells: Vec<Option<u64>>, total: Option<u64>| -> bool {
                let sum: u64 = cells.iter().flatten().sum();
                let complete = cells.iter().all(Option::is_some);
                match total {
                    Some(t) => sum <= t && (!complete || sum == t),
                    None => true,
                }
            };
            (0..=rows).all(|i| check((0..cols).map(|j| grid[i][j]).collect(), grid[i][cols]))
                && (0..=cols).all(|j| check((0..rows).map(|i| grid[i][j]).collect(), grid[rows][j]))
        }
        #[allow(clippy::too_many_arguments)]
        fn go(
            k: usize,
            vars: &[(usize, usize)],
            published: &[Vec<Shown>],
            grid: &mut Vec<Vec<Option<u64>>>,
            values: &mut Vec<std::collections::BTreeSet<u64>>,
            t: u64,
            bound: u64,
            rows: usize,
            cols: usize,
        ) {
            if !lines_ok(grid, rows, cols) {
                return;
            }
            if k == vars.len() {
                for (n, &(i, j)) in vars.iter().enumerate() {
                    values[n].insert(grid[i][j].expect("assigned"));
                }
                return;
            }
            let (i, j) = vars[k];
            // A hidden cell is at most its smallest visible line total.
            let cap = [published[i][cols], published[rows][j]]
                .iter()
                .filter_map(|s| {
                    if let Shown::Value(v) = s {
                        Some(*v)
                    } else {
                        None
                    }
                })
                .min()
                .unwrap_or(bound)
                .min(bound);
            let (lo, hi) = if published[i][j] == Shown::Small {
                (1, t - 1)
            } else {
                (t, cap)
            };
            for v in lo..=hi {
                grid[i][j] = Some(v);
                go(k + 1, vars, published, grid, values, t, bound, rows, cols);
            }
            grid[i][j] = None;
        }
        go(
            0,
            &vars,
            published,
            &mut grid,
            &mut values,
            t,
            grand_bound,
            rows,
            cols,
        );
        vars.into_iter()
            .zip(values)
            .filter(|((i, j), _)| published[*i][*j] == Shown::Small)
            .collect()
    }

    #[test]
    fn a_lone_small_count_is_protected_by_a_second_suppression() {
        // Row r0: 7, 3, 9 (total 19). "<5" alone would be 19 - 7 - 9 = 3.
        let p = suppress(
            counts(vec![vec![7, 3, 9], vec![12, 8, 6], vec![5, 10, 11]]),
            5,
        );
        let hidden = p
            .shown
            .iter()
            .flatten()
            .filter(|s| **s == Shown::Hidden)
            .count();
        assert!(hidden >= 1, "{:?}", p.shown);
        for (cell, values) in attack(&p.shown, 5, 60) {
            assert!(
                values.len() >= 2,
                "{cell:?} recoverable: {values:?} in {:?}",
                p.shown
            );
        }
        assert!(
            p.to_csv().starts_with("Specialty,c0,c1,c2,Total\n"),
            "{}",
            p.to_csv()
        );
    }

    #[test]
    fn no_suppressed_value_can_be_recovered_from_random_tables() {
        let mut seed: u64 = 0x05EE_DF01;
        let mut next = |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let mut tables = 0;
        let mut with_secondary = 0;
        for _ in 0..400 {
            let rows = 2 + next(2) as usize;
            let cols = 2 + next(2) as usize;
            let cells: Vec<Vec<u64>> = (0..rows)
                .map(|_| {
                    (0..cols)
                        .map(|_| if next(3) == 0 { next(5) } else { next(12) })
                        .collect()
                })
                .collect();
            let truth = cells.clone();
            let p = suppress(counts(cells), 5);
            // Visible cells are true; "<5" cells are 1–4; totals add up.
            let grand: u64 = truth.iter().flatten().sum();
            for (i, row) in p.shown.iter().enumerate().take(rows) {
                for (j, s) in row.iter().enumerate().take(cols) {
                    match s {
                        Shown::Value(v) => assert_eq!(*v, truth[i][j]),
                        Shown::Small => assert!((1..5).contains(&truth[i][j])),
                        Shown::Hidden => assert!(truth[i][j] >= 1),
                    }
                }
            }
            if p.shown.iter().flatten().any(|s| *s == Shown::Hidden) {
                with_secondary += 1;
            }
            // The attacker never pins a small count down.
            let suppressed = p
                .shown
                .iter()
                .flatten()
                .filter(|s| !matches!(s, Shown::Value(_)))
                .count();
            if suppressed <= 7 {
                for (cell, values) in attack(&p.shown, 5, grand.max(5)) {
                    assert!(
                        values.len() >= 2,
                        "{cell:?} recoverable ({values:?}) from {:?} (truth {truth:?})",
                        p.shown
                    );
                }
                tables += 1;
            }
        }
        assert!(
            tables >= 150,
            "only {tables} tables small enough to attack exhaustively"
        );
        assert!(
            with_secondary >= 20,
            "secondary suppression exercised {with_secondary} times"
        );
    }

    #[test]
    fn counts_come_from_claim_case_records() {
        let case = |specialty: &str, year: &str| {
            json!({"kind": "claim", "specialty": specialty, "year": year})
                .as_object()
                .cloned()
                .unwrap()
        };
        let mut cases = vec![
            case("Obstetrics", "2022"),
            case("Obstetrics", "2023"),
            case("Surgery", "2023"),
        ];
        cases.push(
            json!({"kind": "foi", "year": "2023"})
                .as_object()
                .cloned()
                .unwrap(),
        );
        cases.push(case("Surgery", "2018"));
        let c = count(&cases, &[Dim::Specialty, Dim::Year], 2022, 2023).unwrap();
        assert_eq!(c.rows, ["Obstetrics", "Surgery"]);
        assert_eq!(c.cols, ["2022", "2023"]);
        assert_eq!(c.cells, vec![vec![1, 1], vec![0, 1]]);
        assert!(count(&cases, &[], 2022, 2023).is_err());
    }
}

mod cli {
    use std::process::Command;

    fn postroom(home: &std::path::Path, args: &[&str]) -> (i32, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_postroom"))
            .arg("--home")
            .arg(home)
            .args(args)
            .output()
            .expect("postroom");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    #[test]
    fn foi_due_prints_the_date_first_on_its_line() {
        let dir = tempfile::tempdir().unwrap();
        for (args, due) in [
            (vec!["--received", "2024-03-28"], "2024-04-29"),
            (
                vec![
                    "--received",
                    "2024-01-08",
                    "--clarification-received",
                    "2024-01-22",
                ],
                "2024-02-19",
            ),
            (
                vec![
                    "--received",
                    "2024-06-03",
                    "--fee-notice",
                    "2024-06-10",
                    "--fee-paid",
                    "2024-06-14",
                ],
                "2024-07-08",
            ),
            (
                vec!["--received", "2024-09-02", "--pit-extension", "20"],
                "2024-10-28",
            ),
            (
                vec!["--received", "2025-03-10", "--nations", "england-and-wales"],
                "2025-04-07",
            ),
        ] {
            let mut all = vec!["foi", "due"];
            all.extend(args.iter());
            let (code, out, err) = postroom(dir.path(), &all);
            assert_eq!(code, 0, "{err}");
            assert_eq!(out.split_whitespace().next(), Some(due), "{args:?}: {out}");
        }
        let (code, _, err) = postroom(
            dir.path(),
            &[
                "foi",
                "due",
                "--received",
                "2024-09-02",
                "--pit-extension",
                "21",
            ],
        );
        assert_ne!(code, 0);
        assert!(err.contains("at most 20 working days"), "{err}");
    }

    /// A request whose clock could not be started (received in 2201) is listed by `foi
    /// due-list` (with or without `--within`), flagged, and `foi show` shows why.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_due_list_shows_a_request_without_its_clock() {
        use postroom::calendar::Calendar;
        use postroom::foi::service::opening_fields;
        use postroom::model::keys;
        use postroom::store::{Condition, Item, SqliteTable, Table};
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path();
        {
            let table = SqliteTable::open(home.join("postroom.sqlite3")).unwrap();
            let mut item = Item::new();
            for (k, v) in [
                ("PK", keys::case("FOI_7100")),
                ("SK", keys::META.into()),
                ("case_ref", "FOI_7100".into()),
                ("kind", "foi".into()),
                ("status", "open".into()),
            ] {
                item.insert(k.into(), v.into());
            }
            item.insert("version".into(), 1.into());
            item.extend(
                opening_fields(
                    "FOI_7100",
                    super::d("2201-01-06"),
                    Some(super::d("2200-12-31")),
                    Some("Tomasz Wren"),
                    "How many maternity claims?",
                    "How many maternity claims",
                    Calendar::embedded(),
                )
                .fields,
            );
            table.put(item, Condition::Absent).await.unwrap();
        }
        for args in [
            vec!["foi", "due-list"],
            vec!["foi", "due-list", "--within", "5"],
        ] {
            let (code, out, err) = postroom(home, &args);
            assert_eq!(code, 0, "{err}");
            assert!(
                out.contains("FOI_7100")
                    && out.contains("CLOCK NOT STARTED (date_outside_calendar"),
                "{args:?}: {out}"
            );
        }
        let (code, out, err) = postroom(home, &["foi", "show", "FOI_7100"]);
        assert_eq!(code, 0, "{err}");
        assert!(
            out.contains("NOT WORKED OUT (date_outside_calendar)")
                && out.contains("dated    2200-12-31 (by the sender)"),
            "{out}"
        );
        let (code, out, err) = postroom(home, &["foi", "sweep"]);
        assert_eq!(code, 0, "{err}");
        assert!(
            out.contains("FOI_7100") && out.contains("clock_error"),
            "{out}"
        );
    }

    #[test]
    fn a_request_logged_by_hand_moves_through_its_lifecycle() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path();
        let (code, out, err) = postroom(
            home,
            &[
                "foi",
                "new",
                "--requester",
                "Ms Aoife Byrne",
                "--received",
                "2024-03-28",
                "--text",
                "How many maternity claims were received in 2023?",
            ],
        );
        assert_eq!(code, 0, "{err}");
        assert!(out.starts_with("FOI_7001  due 2024-04-29"), "{out}");
        let (_, out, _) = postroom(
            home,
            &[
                "foi",
                "new",
                "--requester",
                "ms aoife byrne",
                "--received",
                "2024-03-29",
                "--text",
                "How many maternity claims were received in 2023",
            ],
        );
        assert!(out.contains("possible duplicate of FOI_7001"), "{out}");
        let (code, _, err) = postroom(
            home,
            &["foi", "move", "close", "FOI_7001", "--on", "2024-04-02"],
        );
        assert_eq!(code, 1);
        assert!(
            err.contains("FOI_7001 is received: it cannot be sent `close`"),
            "{err}"
        );
        let (code, out, err) = postroom(
            home,
            &[
                "foi",
                "move",
                "acknowledge",
                "FOI_7001",
                "--on",
                "2024-04-02",
            ],
        );
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("status   acknowledged"), "{out}");
        let (code, _, err) = postroom(
            home,
            &[
                "foi",
                "move",
                "respond",
                "FOI_7001",
                "--on",
                "2024-04-24",
                "--outcome",
                "refused",
                "--exemption",
                "40(2)|Personal information|The figures would identify patients.",
            ],
        );
        assert_eq!(code, 0, "{err}");
        let out_pdf = home.join("response.pdf");
        let (code, out, err) = postroom(
            home,
            &[
                "foi",
                "letter",
                "FOI_7001",
                "--kind",
                "response",
                "--out",
                out_pdf.to_str().unwrap(),
            ],
        );
        assert_eq!(code, 0, "{err}{out}");
        assert!(std::fs::read(&out_pdf).unwrap().starts_with(b"%PDF"));
        let (code, out, _) = postroom(home, &["foi", "report", "--year", "2024"]);
        assert_eq!(code, 0);
        assert!(out.contains("FOI requests received in 2024: 2"), "{out}");
        assert!(out.contains("Answered: 1; in time: 1 (100.0%)"), "{out}");
        assert!(out.contains("s.40(2) Personal information 1"), "{out}");
        let (code, out, err) = postroom(home, &["foi", "publish", "FOI_7001", "--dry-run"]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("not published (--dry-run)"), "{out}");
        let (code, out, err) = postroom(home, &["foi", "publish", "FOI_7001"]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("published FOI_7001"), "{out}");
        assert!(
            out.contains("Removed from the public version")
                && out.contains("Kept (the public text):")
                && out.contains("How many maternity claims"),
            "{out}"
        );
        let log = home.join("log");
        let (code, _, err) = postroom(home, &["foi", "log", "--out-dir", log.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        let html = std::fs::read_to_string(log.join("index.html")).unwrap();
        assert!(
            html.contains("<caption>")
                && html.contains("lang=\"en-GB\"")
                && html.contains("FOI_7001")
        );
        assert!(
            !html.contains("Aoife") && !html.contains("Byrne"),
            "no requester name in the log"
        );
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(log.join("disclosure-log.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(json[0]["outcome"], "refused");
    }
}

/// FOI casework over the stores: numbers are never handed out twice, a request whose
/// clock cannot be worked out is still listed (flagged), and the disclosure log's
/// redaction. Fictional people throughout.
mod service {
    use std::sync::Arc;

    use postroom::calendar::Calendar;
    use postroom::clock::Clock;
    use postroom::foi::lifecycle::Command;
    use postroom::foi::service::{FIRST_FOI_NUMBER, Foi, NewRequest, opening_fields, title_of};
    use postroom::model::keys;
    use postroom::store::Stores;
    use postroom::store::{
        Condition, Cursor, DirBlobs, DynamoTable, Item, Key, Page, Query, SqliteTable, StoreError,
        Table, TxOp, Update,
    };
    use serde_json::json;

    use crate::contract::harness::{aws_settings, unique};

    #[derive(Debug)]
    struct Fixed;

    impl Clock for Fixed {
        fn now(&self) -> chrono::DateTime<chrono::Utc> {
            "2024-04-25T09:00:00Z".parse().expect("time")
        }
    }

    fn foi(blobs: &std::path::Path, table: Arc<dyn Table>) -> Foi {
        Foi {
            stores: Stores {
                blobs: Arc::new(DirBlobs::open(blobs).expect("blobs")),
                table,
            },
            clock: Arc::new(Fixed),
            calendar: Calendar::embedded().clone(),
            actor: "test:foi".into(),
        }
    }

    fn request(n: usize) -> NewRequest {
        NewRequest {
            requester: format!("Requester Number{n}"),
            request_text: format!("How many maternity claims were received in 20{n:02}?"),
            received: Some(super::d("2024-03-28")),
            title: None,
            source_doc: None,
        }
    }

    /// Sixteen opens at once, each on its own task (so they interleave on the runtime's
    /// threads): sixteen cases, sixteen distinct numbers, none refused.
    async fn sixteen_at_once(foi: &Foi) {
        let start = Arc::new(tokio::sync::Barrier::new(16));
        let opens = (0..16).map(|n| {
            let (foi, start) = (foi.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                foi.open(request(n)).await
            })
        });
        let results = futures::future::join_all(opens).await;
        let mut numbers: Vec<String> = results
            .into_iter()
            .map(|r| {
                r.expect("task")
                    .expect("every open succeeds")
                    .request
                    .reference
            })
            .collect();
        numbers.sort();
        numbers.dedup();
        assert_eq!(numbers.len(), 16, "{numbers:?}");
        for n in &numbers {
            assert!(foi.get(n).await.expect("get").is_some(), "{n} not stored");
        }
    }

    /// The embedded table with a network's latency on every read (2 ms), so that racing
    /// openers read the counter before any of them writes it, as they do on DynamoDB.
    #[derive(Debug)]
    struct Slow(SqliteTable);

    #[async_trait::async_trait]
    impl Table for Slow {
        fn describe(&self) -> String {
            self.0.describe()
        }
        async fn health(&self) -> Result<(), StoreError> {
            self.0.health().await
        }
        async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
            let item = self.0.get(key).await;
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            item
        }
        async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
            self.0.put(item, condition).await
        }
        async fn update(&self, update: Update) -> Result<Item, StoreError> {
            self.0.update(update).await
        }
        async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
            self.0.delete(key, condition).await
        }
        async fn query(&self, query: &Query) -> Result<Page, StoreError> {
            self.0.query(query).await
        }
        async fn query_gsi1(&self, query: &Query) -> Result<Page, StoreError> {
            self.0.query_gsi1(query).await
        }
        async fn scan(
            &self,
            segment: u32,
            total_segments: u32,
            cursor: Option<&Cursor>,
        ) -> Result<Page, StoreError> {
            self.0.scan(segment, total_segments, cursor).await
        }
        async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
            self.0.transact(ops).await
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sixteen_concurrent_opens_get_sixteen_numbers_on_sqlite() {
        let dir = tempfile::tempdir().expect("tempdir");
        let table = SqliteTable::open(dir.path().join("t.sqlite")).expect("table");
        sixteen_at_once(&foi(&dir.path().join("blobs"), Arc::new(Slow(table)))).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sixteen_concurrent_opens_get_sixteen_numbers_on_dynamodb() {
        let Some(settings) =
            aws_settings("foi::service::sixteen_concurrent_opens_get_sixteen_numbers_on_dynamodb")
                .await
        else {
            return;
        };
        let table = DynamoTable::new(&settings, unique("foi-race"));
        table.create_table().await.expect("table");
        let dir = tempfile::tempdir().expect("tempdir");
        sixteen_at_once(&foi(&dir.path().join("blobs"), Arc::new(table.clone()))).await;
        table.delete_table().await.ok();
    }

    /// Eight officers acknowledge one request at once (each command with its own request
    /// id): one move is applied and audited, the others are refused as illegal (it is
    /// acknowledged already), none is lost or applied twice, and nothing is left `Busy`.
    async fn racing_moves_apply_once(foi: &Foi) {
        let opened = foi.open(request(1)).await.expect("open");
        let reference = opened.request.reference.clone();
        let start = Arc::new(tokio::sync::Barrier::new(8));
        let moves = (0..8).map(|n| {
            let (foi, start, reference) = (foi.clone(), start.clone(), reference.clone());
            tokio::spawn(async move {
                start.wait().await;
                let cmd = Command::Acknowledge {
                    on: super::d("2024-03-29"),
                };
                foi.apply_once(&reference, &cmd, Some(&format!("officer-{n}")))
                    .await
            })
        });
        let results = futures::future::join_all(moves).await;
        let mut applied = 0;
        for result in results {
            match result.expect("task") {
                Ok((_, true)) => applied += 1,
                Ok((_, false)) => panic!("no command was sent twice"),
                Err(postroom::foi::service::FoiError::Lifecycle(_)) => {}
                Err(e) => panic!("a racing move must be applied or refused, not {e}"),
            }
        }
        assert_eq!(applied, 1);
        let case = foi.get(&reference).await.expect("get").expect("case");
        assert_eq!(case.request.status.as_str(), "acknowledged");
        let events = foi
            .stores
            .table
            .query_all(&Query::new(keys::case(&reference)))
            .await
            .expect("items");
        let acknowledged = events
            .iter()
            .filter(|e| e.get("what").and_then(|w| w.as_str()) == Some("acknowledge"))
            .count();
        assert_eq!(acknowledged, 1, "one audit event for the one move");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn racing_moves_apply_once_on_sqlite() {
        let dir = tempfile::tempdir().expect("tempdir");
        let table = SqliteTable::open(dir.path().join("t.sqlite")).expect("table");
        racing_moves_apply_once(&foi(&dir.path().join("blobs"), Arc::new(Slow(table)))).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn racing_moves_apply_once_on_dynamodb() {
        let Some(settings) =
            aws_settings("foi::service::racing_moves_apply_once_on_dynamodb").await
        else {
            return;
        };
        let table = DynamoTable::new(&settings, unique("foi-moves"));
        table.create_table().await.expect("table");
        let dir = tempfile::tempdir().expect("tempdir");
        racing_moves_apply_once(&foi(&dir.path().join("blobs"), Arc::new(table.clone()))).await;
        table.delete_table().await.ok();
    }

    #[tokio::test]
    async fn a_number_already_in_use_is_skipped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let table = Arc::new(SqliteTable::open(dir.path().join("t.sqlite")).expect("table"));
        let foi = foi(&dir.path().join("blobs"), table.clone());
        // FOI_7001 and FOI_7002 exist already (say, quoted by a requester and opened).
        for n in [FIRST_FOI_NUMBER, FIRST_FOI_NUMBER + 1] {
            let mut item = Item::new();
            item.insert("PK".into(), json!(keys::case(&format!("FOI_{n}"))));
            item.insert("SK".into(), json!(keys::META));
            item.insert("kind".into(), json!("foi"));
            table.put(item, Condition::Absent).await.expect("put");
        }
        let first = foi
            .open(request(1))
            .await
            .expect("open skips the numbers in use");
        assert_eq!(first.request.reference, "FOI_7003");
        let second = foi.open(request(2)).await.expect("open again");
        assert_eq!(second.request.reference, "FOI_7004");
        // Forty in a row in use (more than one look-ahead window): skipped, and the
        // counter moved past them for good.
        for n in 7005..7045 {
            let mut item = Item::new();
            item.insert("PK".into(), json!(keys::case(&format!("FOI_{n}"))));
            item.insert("SK".into(), json!(keys::META));
            table.put(item, Condition::Absent).await.expect("put");
        }
        let third = foi.open(request(3)).await.expect("open past forty");
        assert_eq!(third.request.reference, "FOI_7045");
        let counter = table
            .get(&Key::new(keys::FOI_COUNTER, keys::META))
            .await
            .expect("get")
            .expect("counter");
        assert_eq!(counter["next"], 7046);
    }

    /// `publish` redacts the exemptions, the table's caption and cells too, and tells
    /// the reviewer what it removed; the public PDF holds none of it.
    #[tokio::test]
    async fn publish_redacts_exemptions_captions_and_tables() {
        use postroom::extract::{Limits, extract};
        use postroom::foi::lifecycle::{Exemption, Outcome};
        let dir = tempfile::tempdir().expect("tempdir");
        let table = Arc::new(SqliteTable::open(dir.path().join("t.sqlite")).expect("table"));
        let foi = foi(&dir.path().join("blobs"), table);
        let case = foi
            .open(NewRequest {
                requester: "Ms Jo Ng".into(),
                request_text: "Dear FOI Team,\nHow many maternity claims in 2023? Please reply to Jo at 14 Larkspur Close, Leeds LS1 4AP.\nKind regards\nJo Ng".into(),
                received: Some(super::d("2024-03-28")),
                title: None,
                source_doc: None,
            })
            .await
            .expect("open");
        let reference = case.request.reference.clone();
        let exemption = Exemption {
            section: "40(2)".into(),
            title: "Personal information".into(),
            reason: "Dr Hollis Vane, the consultant, was named by Ms Ng on 3rd March 2024.".into(),
        };
        foi.apply(
            &reference,
            &Command::Respond {
                on: super::d("2024-04-24"),
                outcome: Outcome::PartlyGranted,
                exemptions: vec![exemption.clone()],
            },
        )
        .await
        .expect("respond");
        let data = json!({
            "salutation": "Ms Ng",
            "our_ref": reference,
            "letter_date": "2024-04-24",
            "signatory_name": "Freedom of Information Team",
            "signatory_role": "Information Governance",
            "received_date": "2024-03-28",
            "request_text": case.request_text,
            "outcome": "partly-granted",
            "information": "The figures are below.",
            "exemptions": [exemption],
            "statistics_caption": "Claims Jo Ng asked about, by year",
            "statistics": {"columns": ["Specialty", "2023"], "rows": [["Obstetrics (Jo Ng)", "12"], ["Total", "12"]]},
        });
        foi.record_response(&reference, &data)
            .await
            .expect("record");
        let published = foi
            .publish_reviewed(&reference, postroom::letters::Registry::embedded(), true)
            .await
            .expect("publish");
        let removed: Vec<(String, &str, &str)> = published
            .review
            .iter()
            .flat_map(|f| {
                f.removed
                    .iter()
                    .map(move |r| (f.field.clone(), r.kind, r.text.as_str()))
            })
            .collect();
        for (field, kind, text) in [
            ("request_text", "address", "14 Larkspur Close"),
            ("request_text", "postcode", "LS1 4AP"),
            ("request_text", "name", "Jo"),
            ("exemptions[0].reason", "name", "Dr Hollis Vane"),
            ("exemptions[0].reason", "date", "3rd March 2024"),
            ("statistics_caption", "name", "Jo Ng"),
            ("statistics.rows[0][0]", "name", "Jo Ng"),
        ] {
            assert!(
                removed.contains(&(field.to_string(), kind, text)),
                "{field} {kind} {text} not in {removed:?}"
            );
        }
        let pdf = foi
            .stores
            .blobs
            .get(&published.entry.document)
            .await
            .expect("public pdf");
        let public = extract(&pdf.body, &Limits::default()).text;
        assert!(public.contains("Obstetrics"), "{public}");
        for gone in ["Jo", "Ng", "Hollis", "Vane", "Larkspur", "LS1", "3rd March"] {
            assert!(
                !public
                    .split(|c: char| !c.is_alphanumeric())
                    .any(|w| w == gone)
                    && !public.contains(gone),
                "{gone:?} in the public response: {public}"
            );
        }
    }

    /// The case item an emailed request opens, built as the ingest builds it.
    fn emailed_case(reference: &str, received: &str, sender_date: Option<&str>) -> Item {
        let mut item = Item::new();
        item.insert("PK".into(), json!(keys::case(reference)));
        item.insert("SK".into(), json!(keys::META));
        item.insert("case_ref".into(), json!(reference));
        item.insert("kind".into(), json!("foi"));
        item.insert("status".into(), json!("open"));
        item.insert("version".into(), json!(1));
        let text = "Under the Freedom of Information Act, how many maternity claims were there?";
        let opened = opening_fields(
            reference,
            super::d(received),
            sender_date.map(super::d),
            Some("Tomasz Wren"),
            text,
            &title_of(text),
            Calendar::embedded(),
        );
        item.extend(opened.fields);
        item
    }

    /// An emailed request received in 2201, past the years the calendar counts: it is in the
    /// due list, flagged, can be shown and moved, and the sweep reminds about it daily.
    #[tokio::test]
    async fn a_request_outside_the_calendar_is_listed_flagged() {
        let dir = tempfile::tempdir().expect("tempdir");
        let table = Arc::new(SqliteTable::open(dir.path().join("t.sqlite")).expect("table"));
        let foi = foi(&dir.path().join("blobs"), table.clone());
        let opened = opening_fields(
            "FOI_7100",
            super::d("2201-01-06"),
            None,
            None,
            "text",
            "title",
            Calendar::embedded(),
        );
        assert_eq!(opened.clock_error, Some("date_outside_calendar"));
        table
            .put(
                emailed_case("FOI_7100", "2201-01-06", Some("2200-12-24")),
                Condition::Absent,
            )
            .await
            .expect("put");
        // One inside the table, for comparison: received Thu 28 Mar 2024, due Mon 29 Apr.
        table
            .put(
                emailed_case("FOI_7101", "2024-03-28", None),
                Condition::Absent,
            )
            .await
            .expect("put");
        let due = foi.pending().await.expect("due list");
        let listed: Vec<(&str, Option<&str>)> = due
            .iter()
            .map(|c| {
                (
                    c.request.reference.as_str(),
                    c.request.clock_error.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            listed,
            [
                ("FOI_7100", Some("date_outside_calendar")),
                ("FOI_7101", None)
            ]
        );
        let shown = foi.get("FOI_7100").await.expect("shown").expect("case");
        assert_eq!(shown.request.due, None);
        assert_eq!(shown.sender_date, Some(super::d("2200-12-24")));
        assert_eq!(shown.request.received, super::d("2201-01-06"));
        assert_eq!(
            foi.get("FOI_7101")
                .await
                .expect("get")
                .expect("case")
                .request
                .due,
            Some(super::d("2024-04-29"))
        );
        // The sweep reminds about it (its due date could not be worked out).
        let reminders = foi.sweep(super::d("2024-04-25"), 5).await.expect("sweep");
        assert!(
            reminders
                .iter()
                .any(|r| r.reference == "FOI_7100" && r.kind == "clock_error" && r.due.is_none()),
            "{reminders:?}"
        );
        // It can be moved; it stays flagged while the calendar does not cover it.
        let moved = foi
            .apply(
                "FOI_7100",
                &Command::Acknowledge {
                    on: super::d("2201-01-07"),
                },
            )
            .await
            .expect("acknowledge");
        assert_eq!(moved.request.status.as_str(), "acknowledged");
        assert_eq!(
            moved.request.clock_error.as_deref(),
            Some("date_outside_calendar")
        );
        let item = table
            .get(&Key::new(keys::case("FOI_7100"), keys::META))
            .await
            .expect("get")
            .expect("item");
        assert_eq!(item["clock_error"], "date_outside_calendar");
        assert_eq!(item["GSI1PK"], "FOI#acknowledged");
    }

    /// An FOI case stored without its clock (as ingestion opened one before) can still be
    /// shown and moved: it reads as flagged `clock_not_started`.
    #[tokio::test]
    async fn a_case_stored_without_its_clock_can_be_shown_and_moved() {
        let dir = tempfile::tempdir().expect("tempdir");
        let table = Arc::new(SqliteTable::open(dir.path().join("t.sqlite")).expect("table"));
        let foi = foi(&dir.path().join("blobs"), table.clone());
        let mut item = Item::new();
        item.insert("PK".into(), json!(keys::case("FOI_7200")));
        item.insert("SK".into(), json!(keys::META));
        item.insert("case_ref".into(), json!("FOI_7200"));
        item.insert("kind".into(), json!("foi"));
        item.insert("received".into(), json!("2029-01-01"));
        item.insert("requester".into(), json!("Tomasz Wren"));
        item.insert("version".into(), json!(1));
        table.put(item, Condition::Absent).await.expect("put");
        let case = foi.get("FOI_7200").await.expect("shown").expect("case");
        assert_eq!(
            case.request.clock_error.as_deref(),
            Some("clock_not_started")
        );
        foi.apply(
            "FOI_7200",
            &Command::Acknowledge {
                on: super::d("2029-01-02"),
            },
        )
        .await
        .expect("moved");
        // Moved, it has GSI1 keys: it is in the due list from now on.
        assert_eq!(foi.pending().await.expect("due").len(), 1);
    }
}

/// The disclosure log's redaction: every part of a name, names in the text when no
/// requester is recorded, dates in words, street lines. Fictional people.
mod redaction {
    use postroom::foi::disclosure::redact;

    fn gone(out: &str, words: &[&str]) {
        for w in words {
            assert!(!out.contains(w), "{w:?} left in {out:?}");
        }
    }

    #[test]
    fn every_part_of_the_requesters_name_goes_short_parts_too() {
        let out = redact(
            "Please send it to Jo at the address below. Ng family records are not wanted.",
            Some("Ms Jo Ng"),
        );
        gone(&out, &["Jo ", "Ng "]);
        assert!(out.contains("family records"), "{out}");
    }

    #[test]
    fn names_in_the_text_go_when_no_requester_is_recorded() {
        let text = "Dear FOI Team,\nMy name is Perpetua Quill and I would like the number of claims.\nKind regards\nPerpetua Quill-Harrow\n";
        let out = redact(text, None);
        gone(&out, &["Perpetua", "Quill"]);
        assert!(
            out.contains("number of claims") && out.contains("Dear FOI Team"),
            "{out}"
        );
    }

    #[test]
    fn titles_are_not_names_and_what_is_not_a_name_stays() {
        let text = "Dear Sir or Madam,\nMr Mr. Ms: I am a journalist. Thank you for your help.\nYours faithfully\nFOI Officer";
        let out = redact(text, Some("Mr Osric Pell"));
        assert_eq!(out, text, "nothing personal here");
    }

    #[test]
    fn numbers_addresses_and_contact_details_go() {
        let out = redact(
            "Write to Flat 2, 7 Rowan Terrace or call 07700 900123 or (0113) 496 0000; NHS number 999 000 0018; email j.ng@example.org; seen on 2024-03-03.",
            None,
        );
        gone(
            &out,
            &[
                "Rowan Terrace",
                "07700 900123",
                "496 0000",
                "999 000 0018",
                "j.ng@",
                "2024-03-03",
            ],
        );
    }

    #[test]
    fn the_reviewer_is_told_what_was_removed() {
        let r = postroom::foi::disclosure::redact_report(
            "My name is Perpetua Quill, born 3rd March 1961.",
            None,
        );
        let kinds: Vec<(&str, &str)> = r
            .removed
            .iter()
            .map(|x| (x.kind, x.text.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [("date", "3rd March 1961"), ("name", "Perpetua Quill")]
        );
        assert_eq!(r.text, "My name is [name removed], born [date removed].");
    }

    #[test]
    fn dates_in_words_and_street_lines_go() {
        let out = redact(
            "I was born on 3rd March 1961 and moved on March 3, 2024 to 14 Larkspur Close, Leeds.",
            Some("Ivo Stenning"),
        );
        gone(
            &out,
            &["3rd March 1961", "March 3, 2024", "14 Larkspur Close"],
        );
        assert!(out.contains("Leeds"), "{out}");
    }
}
