//! Cron schedules: parsing `spec.schedule` and finding its ticks, in UTC.

use std::fmt;

use chrono::{DateTime, Timelike, Utc};
use croner::Cron;
use croner::errors::CronError;
use croner::parser::{CronParser, Seconds, Year};

/// The example every schedule error shows.
const EXAMPLE: &str = "\"*/10 * * * *\"";

/// The nicknames a schedule may use instead of cron fields.
const NICKNAMES: [&str; 6] = [
    "@hourly",
    "@daily",
    "@weekly",
    "@monthly",
    "@yearly",
    "@annually",
];

/// A parsed `spec.schedule`, evaluated in UTC.
#[derive(Clone, Debug)]
pub struct Schedule {
    expression: String,
    cron: Cron,
}

/// Why a schedule cannot be parsed. Each message shows a valid example.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("schedule is empty; write a cron expression such as {EXAMPLE}")]
    Empty,
    #[error(
        "schedule {expression:?} has {fields} fields; write 5 (minute hour day-of-month month \
         day-of-week) or 6 with a leading seconds field, such as {EXAMPLE}"
    )]
    FieldCount { expression: String, fields: usize },
    #[error(
        "schedule {expression:?} is not a known nickname; use @hourly, @daily, @weekly, \
         @monthly, @yearly or @annually, or a cron expression such as {EXAMPLE}"
    )]
    UnknownNickname { expression: String },
    #[error(
        "schedule {expression:?} is not a valid cron expression ({source}); write one such as {EXAMPLE}"
    )]
    Invalid {
        expression: String,
        #[source]
        source: CronError,
    },
    #[error(
        "schedule {expression:?} never fires: no date matches it (such as February 30); write \
         one such as {EXAMPLE}"
    )]
    NeverFires { expression: String },
}

/// Parses a schedule: 5 cron fields, 6 with a leading seconds field, or one of @hourly, @daily,
/// @weekly, @monthly, @yearly and @annually.
pub fn parse_schedule(expr: &str) -> Result<Schedule, ScheduleError> {
    let expression = expr.trim();
    if expression.is_empty() {
        return Err(ScheduleError::Empty);
    }
    if expression.starts_with('@') {
        let known = NICKNAMES
            .iter()
            .any(|nickname| nickname.eq_ignore_ascii_case(expression));
        if !known {
            return Err(ScheduleError::UnknownNickname {
                expression: expression.to_string(),
            });
        }
    } else {
        let fields = expression.split_whitespace().count();
        if !(5..=6).contains(&fields) {
            return Err(ScheduleError::FieldCount {
                expression: expression.to_string(),
                fields,
            });
        }
    }
    let parser = CronParser::builder()
        .seconds(Seconds::Optional)
        .year(Year::Disallowed)
        .build();
    let cron = parser
        .parse(expression)
        .map_err(|source| ScheduleError::Invalid {
            expression: expression.to_string(),
            source,
        })?;
    let schedule = Schedule {
        expression: expression.to_string(),
        cron,
    };
    // croner gives up when no date matches, so one search from a fixed instant tells whether
    // the schedule fires at all ("0 0 30 2 *" does not), whatever `now` is.
    let reference = DateTime::<Utc>::UNIX_EPOCH;
    if schedule.next_after(reference).is_none() {
        return Err(ScheduleError::NeverFires {
            expression: schedule.expression,
        });
    }
    Ok(schedule)
}

impl Schedule {
    /// The expression as written (trimmed).
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// The first tick strictly after `t`, or None if the schedule never fires again.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // Ticks fall on whole seconds; searching from the whole second keeps sub-second parts
        // of `t` out of the answer.
        self.cron.find_next_occurrence(&whole_second(t), false).ok()
    }

    /// The most recent tick in `(since, now]`, or None if none fell in it. Missed ticks collapse
    /// into the latest one, so a controller that was down starts one run, not many.
    pub fn latest_due(&self, since: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if now <= since {
            return None;
        }
        self.cron
            .find_previous_occurrence(&whole_second(now), true)
            .ok()
            .filter(|tick| *tick > since)
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expression)
    }
}

fn whole_second(t: DateTime<Utc>) -> DateTime<Utc> {
    // Nanoseconds 0 is always valid, so this never falls back.
    t.with_nanosecond(0).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 14, h, m, s).unwrap()
    }

    #[test]
    fn every_minute_ticks_on_the_next_whole_minute() {
        let schedule = parse_schedule("* * * * *").unwrap();
        assert_eq!(schedule.next_after(at(10, 0, 30)), Some(at(10, 1, 0)));
        assert_eq!(schedule.next_after(at(10, 1, 0)), Some(at(10, 2, 0)));
    }

    #[test]
    fn next_after_ignores_sub_seconds() {
        let schedule = parse_schedule("* * * * *").unwrap();
        let just_after_a_tick = at(10, 1, 0) + chrono::Duration::milliseconds(500);
        assert_eq!(schedule.next_after(just_after_a_tick), Some(at(10, 2, 0)));
        let just_before_a_tick = at(10, 0, 59) + chrono::Duration::milliseconds(500);
        assert_eq!(schedule.next_after(just_before_a_tick), Some(at(10, 1, 0)));
    }

    #[test]
    fn a_leading_seconds_field_ticks_every_ten_seconds() {
        let schedule = parse_schedule("*/10 * * * * *").unwrap();
        assert_eq!(schedule.next_after(at(10, 0, 0)), Some(at(10, 0, 10)));
        assert_eq!(schedule.next_after(at(10, 0, 55)), Some(at(10, 1, 0)));
    }

    #[test]
    fn every_ten_minutes_as_in_the_design() {
        let schedule = parse_schedule("*/10 * * * *").unwrap();
        assert_eq!(schedule.next_after(at(10, 3, 0)), Some(at(10, 10, 0)));
    }

    #[test]
    fn hourly_ticks_on_the_hour() {
        let schedule = parse_schedule("@hourly").unwrap();
        assert_eq!(schedule.next_after(at(10, 0, 0)), Some(at(11, 0, 0)));
        assert_eq!(schedule.next_after(at(10, 59, 59)), Some(at(11, 0, 0)));
    }

    #[test]
    fn every_nickname_parses() {
        for nickname in NICKNAMES {
            assert!(parse_schedule(nickname).is_ok(), "{nickname}");
        }
        let daily = parse_schedule("@daily").unwrap();
        let midnight = Utc.with_ymd_and_hms(2025, 3, 15, 0, 0, 0).unwrap();
        assert_eq!(daily.next_after(at(10, 0, 0)), Some(midnight));
    }

    #[test]
    fn an_empty_schedule_is_refused_with_an_example() {
        let err = parse_schedule("  ").unwrap_err();
        assert!(matches!(err, ScheduleError::Empty));
        assert!(err.to_string().contains("\"*/10 * * * *\""), "{err}");
    }

    #[test]
    fn a_wrong_number_of_fields_is_refused_with_the_count() {
        for (expression, fields) in [("* * * *", 4), ("0 0 * * * * 2030", 7)] {
            let err = parse_schedule(expression).unwrap_err();
            assert!(
                matches!(err, ScheduleError::FieldCount { fields: f, .. } if f == fields),
                "{err}"
            );
            let message = err.to_string();
            assert!(
                message.contains(&format!("has {fields} fields")),
                "{message}"
            );
            assert!(message.contains("\"*/10 * * * *\""), "{message}");
        }
    }

    #[test]
    fn an_unknown_nickname_is_refused_with_the_known_ones() {
        let err = parse_schedule("@fortnightly").unwrap_err();
        assert!(matches!(err, ScheduleError::UnknownNickname { .. }));
        assert!(err.to_string().contains("@hourly, @daily"), "{err}");
    }

    #[test]
    fn an_out_of_range_or_garbled_field_is_refused_with_an_example() {
        for expression in ["61 * * * *", "* * * * mon-xyz", "*/x * * * *"] {
            let err = parse_schedule(expression).unwrap_err();
            assert!(
                matches!(err, ScheduleError::Invalid { .. }),
                "{expression}: {err}"
            );
            let message = err.to_string();
            assert!(message.contains(expression), "{message}");
            assert!(message.contains("\"*/10 * * * *\""), "{message}");
        }
    }

    #[test]
    fn a_schedule_that_never_fires_is_refused() {
        let err = parse_schedule("0 0 30 2 *").unwrap_err();
        assert!(matches!(err, ScheduleError::NeverFires { .. }), "{err}");
        assert!(err.to_string().contains("never fires"), "{err}");
        assert!(
            parse_schedule("0 0 29 2 *").is_ok(),
            "February 29 fires in leap years"
        );
    }

    #[test]
    fn latest_due_is_none_when_no_tick_fell_since() {
        let schedule = parse_schedule("*/10 * * * *").unwrap();
        assert_eq!(schedule.latest_due(at(10, 0, 0), at(10, 9, 59)), None);
        assert_eq!(schedule.latest_due(at(10, 0, 0), at(10, 0, 0)), None);
    }

    #[test]
    fn latest_due_returns_the_one_tick_that_fell_since() {
        let schedule = parse_schedule("*/10 * * * *").unwrap();
        assert_eq!(
            schedule.latest_due(at(10, 0, 0), at(10, 12, 0)),
            Some(at(10, 10, 0))
        );
    }

    #[test]
    fn latest_due_includes_a_tick_exactly_at_now_but_not_at_since() {
        let schedule = parse_schedule("*/10 * * * *").unwrap();
        assert_eq!(
            schedule.latest_due(at(10, 0, 0), at(10, 10, 0)),
            Some(at(10, 10, 0))
        );
        assert_eq!(schedule.latest_due(at(10, 10, 0), at(10, 10, 0)), None);
    }

    #[test]
    fn many_missed_ticks_collapse_to_the_latest() {
        let schedule = parse_schedule("*/10 * * * *").unwrap();
        assert_eq!(
            schedule.latest_due(at(1, 0, 0), at(10, 45, 3)),
            Some(at(10, 40, 0))
        );
    }
}
