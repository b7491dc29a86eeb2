//! When a run starts: on creation or a spec change, on a run request, or on a schedule tick.

use chrono::{DateTime, Utc};

use super::schedule::Schedule;
use crate::api::{ConcurrencyPolicy, Trigger};

/// What the run decision needs to know about an experiment, read from its metadata and status.
#[derive(Clone, Copy, Debug)]
pub struct RunInputs<'a> {
    /// `metadata.generation`.
    pub generation: i64,
    /// `status.runGeneration`: the generation whose run has been started.
    pub run_generation: Option<i64>,
    /// The `chaos.faultline.dev/run-requested` annotation's value.
    pub requested: Option<&'a str>,
    /// `status.handledRequest`: the annotation value already acted on.
    pub handled_request: Option<&'a str>,
    /// The parsed `spec.schedule`.
    pub schedule: Option<&'a Schedule>,
    /// `spec.suspend`.
    pub suspend: bool,
    /// `spec.concurrencyPolicy`.
    pub concurrency: ConcurrencyPolicy,
    /// `spec.startingDeadlineSeconds`: a tick later than this is missed, not run.
    pub starting_deadline: Option<chrono::Duration>,
    /// `status.lastScheduleTime`: the tick last acted on.
    pub last_schedule_time: Option<DateTime<Utc>>,
    /// `metadata.creationTimestamp`; no tick before it is due.
    pub created: DateTime<Utc>,
    /// A run of this experiment has not ended yet.
    pub active_run: bool,
    pub now: DateTime<Utc>,
}

/// What to do about runs of an experiment now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunDecision {
    /// Start no run. Check again at `next_check`, the schedule's next tick (None without a
    /// schedule: only a change to the experiment or its runs needs a new look).
    Nothing { next_check: Option<DateTime<Utc>> },
    /// Start a run. It uses the current spec and so answers every pending reason at once: record
    /// `generation` as runGeneration and `requested` as handledRequest whatever the trigger, and
    /// `schedule_tick`, when there is one, as lastScheduleTime.
    Start {
        trigger: Trigger,
        schedule_tick: Option<DateTime<Utc>>,
    },
    /// concurrencyPolicy Replace: stop the active run. Record nothing; once that run has ended,
    /// the same tick is still due and starts a new run.
    ReplaceActive { schedule_tick: DateTime<Utc> },
    /// Start no run for this tick (concurrencyPolicy Forbid while a run is active, or a suspended
    /// schedule); record it as lastScheduleTime so that it is not due again.
    SkipTick { schedule_tick: DateTime<Utc> },
    /// The tick came and went while nothing acted on it (the operator was down) and is now
    /// past startingDeadlineSeconds: start no run, record it, and say so in an Event.
    MissTick { schedule_tick: DateTime<Utc> },
}

/// Decides whether a run starts now (the design's "When runs start").
///
/// - A new run-requested value starts a run (Trigger::Request), suspended or not; while a run
///   is active, the request waits for it to end.
/// - Without a schedule, a generation with no run yet starts one: Trigger::Create for the
///   first, Trigger::Generation after; it too waits for an active run to end.
/// - With a schedule, spec changes start nothing. The latest tick due since lastScheduleTime
///   (or creation) starts a run (Trigger::Schedule); while a run is active, concurrencyPolicy
///   decides: Forbid skips the tick, Allow starts another run, Replace stops the active one.
///   A suspended schedule skips its ticks, so resuming does not fire one missed meanwhile.
///   Ticks missed while nothing acted (the operator down) collapse into the latest, which runs
///   late once, as a CronJob's does, unless it is older than startingDeadlineSeconds: then it
///   is missed. Never a burst of catch-up runs.
pub fn decide_run(inputs: &RunInputs) -> RunDecision {
    let new_request = inputs
        .requested
        .is_some_and(|requested| inputs.handled_request != Some(requested));

    let Some(schedule) = inputs.schedule else {
        return decide_unscheduled(inputs, new_request);
    };

    let next_check = schedule.next_after(inputs.now);
    let since = inputs
        .last_schedule_time
        .map_or(inputs.created, |last| last.max(inputs.created));
    let due_tick = schedule.latest_due(since, inputs.now);

    if new_request && !inputs.active_run {
        // A due tick is answered by this run too, so that it does not start (or, with Replace,
        // stop) a second run right after.
        return RunDecision::Start {
            trigger: Trigger::Request,
            schedule_tick: due_tick,
        };
    }
    let Some(tick) = due_tick else {
        return RunDecision::Nothing { next_check };
    };
    if inputs.suspend {
        return RunDecision::SkipTick {
            schedule_tick: tick,
        };
    }
    if inputs
        .starting_deadline
        .is_some_and(|deadline| inputs.now - tick > deadline)
    {
        return RunDecision::MissTick {
            schedule_tick: tick,
        };
    }
    if !inputs.active_run {
        return RunDecision::Start {
            trigger: Trigger::Schedule,
            schedule_tick: Some(tick),
        };
    }
    match inputs.concurrency {
        ConcurrencyPolicy::Forbid => RunDecision::SkipTick {
            schedule_tick: tick,
        },
        ConcurrencyPolicy::Allow => RunDecision::Start {
            trigger: Trigger::Schedule,
            schedule_tick: Some(tick),
        },
        ConcurrencyPolicy::Replace => RunDecision::ReplaceActive {
            schedule_tick: tick,
        },
    }
}

fn decide_unscheduled(inputs: &RunInputs, new_request: bool) -> RunDecision {
    let wait = RunDecision::Nothing { next_check: None };
    let trigger = if new_request {
        Trigger::Request
    } else {
        match inputs.run_generation {
            None => Trigger::Create,
            Some(run_generation) if run_generation != inputs.generation => Trigger::Generation,
            Some(_) => return wait,
        }
    };
    if inputs.active_run {
        return wait;
    }
    RunDecision::Start {
        trigger,
        schedule_tick: None,
    }
}

/// Whether a result that already holds the name of the run being started is that same run (an
/// earlier reconcile created it and its status write did not land), so starting it again is done.
/// Any other result means the run count was behind: reusing it would mark a request answered by
/// a run that never answered it.
pub fn is_same_run(
    existing_trigger: Trigger,
    existing_request: Option<&str>,
    trigger: Trigger,
    request: Option<&str>,
) -> bool {
    existing_trigger == trigger && existing_request == request
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::domain::schedule::parse_schedule;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 14, h, m, s).unwrap()
    }

    /// An unscheduled experiment whose current generation has already run, at rest.
    fn settled() -> RunInputs<'static> {
        RunInputs {
            generation: 3,
            run_generation: Some(3),
            requested: None,
            handled_request: None,
            schedule: None,
            suspend: false,
            concurrency: ConcurrencyPolicy::Forbid,
            starting_deadline: None,
            last_schedule_time: None,
            created: at(9, 0, 0),
            active_run: false,
            now: at(10, 5, 0),
        }
    }

    /// A schedule ticking every 10 minutes, last acted on at 10:00, with now at 10:05.
    fn scheduled(schedule: &Schedule) -> RunInputs<'_> {
        RunInputs {
            schedule: Some(schedule),
            last_schedule_time: Some(at(10, 0, 0)),
            ..settled()
        }
    }

    fn every_ten_minutes() -> Schedule {
        parse_schedule("*/10 * * * *").unwrap()
    }

    fn start(trigger: Trigger) -> RunDecision {
        RunDecision::Start {
            trigger,
            schedule_tick: None,
        }
    }

    #[test]
    fn a_settled_experiment_starts_nothing() {
        assert_eq!(
            decide_run(&settled()),
            RunDecision::Nothing { next_check: None }
        );
    }

    #[test]
    fn a_new_experiment_runs_once_with_trigger_create() {
        let inputs = RunInputs {
            generation: 1,
            run_generation: None,
            ..settled()
        };
        assert_eq!(decide_run(&inputs), start(Trigger::Create));
    }

    #[test]
    fn a_changed_spec_runs_again_with_trigger_generation() {
        let inputs = RunInputs {
            generation: 4,
            ..settled()
        };
        assert_eq!(decide_run(&inputs), start(Trigger::Generation));
    }

    #[test]
    fn a_changed_spec_waits_while_a_run_is_active() {
        let inputs = RunInputs {
            generation: 4,
            active_run: true,
            ..settled()
        };
        assert_eq!(
            decide_run(&inputs),
            RunDecision::Nothing { next_check: None }
        );
    }

    #[test]
    fn a_new_request_value_starts_a_run_with_trigger_request() {
        let inputs = RunInputs {
            requested: Some("2025-03-14T10:04:00Z"),
            handled_request: Some("2025-03-13T08:00:00Z"),
            ..settled()
        };
        assert_eq!(decide_run(&inputs), start(Trigger::Request));
        let first_request = RunInputs {
            requested: Some("1"),
            ..settled()
        };
        assert_eq!(decide_run(&first_request), start(Trigger::Request));
    }

    #[test]
    fn a_request_already_handled_starts_nothing() {
        let inputs = RunInputs {
            requested: Some("1"),
            handled_request: Some("1"),
            ..settled()
        };
        assert_eq!(
            decide_run(&inputs),
            RunDecision::Nothing { next_check: None }
        );
    }

    #[test]
    fn a_new_request_waits_while_a_run_is_active() {
        let inputs = RunInputs {
            requested: Some("2"),
            handled_request: Some("1"),
            active_run: true,
            ..settled()
        };
        assert_eq!(
            decide_run(&inputs),
            RunDecision::Nothing { next_check: None }
        );
    }

    #[test]
    fn a_request_together_with_a_spec_change_starts_one_request_run() {
        let inputs = RunInputs {
            generation: 4,
            requested: Some("2"),
            handled_request: Some("1"),
            ..settled()
        };
        assert_eq!(decide_run(&inputs), start(Trigger::Request));
    }

    #[test]
    fn a_scheduled_experiment_does_not_run_on_creation_or_spec_change() {
        let schedule = every_ten_minutes();
        let created = RunInputs {
            generation: 1,
            run_generation: None,
            last_schedule_time: None,
            created: at(10, 1, 0),
            ..scheduled(&schedule)
        };
        assert_eq!(
            decide_run(&created),
            RunDecision::Nothing {
                next_check: Some(at(10, 10, 0))
            }
        );
        let changed = RunInputs {
            generation: 4,
            ..scheduled(&schedule)
        };
        assert_eq!(
            decide_run(&changed),
            RunDecision::Nothing {
                next_check: Some(at(10, 10, 0))
            }
        );
    }

    #[test]
    fn a_due_tick_starts_a_run_with_trigger_schedule() {
        let schedule = every_ten_minutes();
        let inputs = RunInputs {
            now: at(10, 10, 2),
            ..scheduled(&schedule)
        };
        assert_eq!(
            decide_run(&inputs),
            RunDecision::Start {
                trigger: Trigger::Schedule,
                schedule_tick: Some(at(10, 10, 0))
            }
        );
    }

    #[test]
    fn missed_ticks_start_one_run_for_the_latest() {
        let schedule = every_ten_minutes();
        let inputs = RunInputs {
            now: at(11, 25, 0),
            ..scheduled(&schedule)
        };
        assert_eq!(
            decide_run(&inputs),
            RunDecision::Start {
                trigger: Trigger::Schedule,
                schedule_tick: Some(at(11, 20, 0))
            }
        );
    }

    #[test]
    fn the_first_tick_counts_from_creation() {
        let schedule = every_ten_minutes();
        let before_creation = RunInputs {
            last_schedule_time: None,
            created: at(10, 10, 30),
            now: at(10, 15, 0),
            ..scheduled(&schedule)
        };
        assert_eq!(
            decide_run(&before_creation),
            RunDecision::Nothing {
                next_check: Some(at(10, 20, 0))
            }
        );
        let after_creation = RunInputs {
            now: at(10, 20, 1),
            ..before_creation
        };
        assert_eq!(
            decide_run(&after_creation),
            RunDecision::Start {
                trigger: Trigger::Schedule,
                schedule_tick: Some(at(10, 20, 0))
            }
        );
    }

    #[test]
    fn no_due_tick_waits_for_the_next_one() {
        let schedule = every_ten_minutes();
        assert_eq!(
            decide_run(&scheduled(&schedule)),
            RunDecision::Nothing {
                next_check: Some(at(10, 10, 0))
            }
        );
    }

    #[test]
    fn a_suspended_schedule_skips_its_due_tick() {
        let schedule = every_ten_minutes();
        let inputs = RunInputs {
            suspend: true,
            now: at(10, 10, 2),
            ..scheduled(&schedule)
        };
        assert_eq!(
            decide_run(&inputs),
            RunDecision::SkipTick {
                schedule_tick: at(10, 10, 0)
            }
        );
    }

    #[test]
    fn a_request_runs_a_suspended_scheduled_experiment() {
        let schedule = every_ten_minutes();
        let inputs = RunInputs {
            suspend: true,
            requested: Some("1"),
            ..scheduled(&schedule)
        };
        assert_eq!(decide_run(&inputs), start(Trigger::Request));
    }

    #[test]
    fn a_request_run_also_answers_a_due_tick() {
        let schedule = every_ten_minutes();
        let inputs = RunInputs {
            requested: Some("1"),
            now: at(10, 10, 2),
            ..scheduled(&schedule)
        };
        assert_eq!(
            decide_run(&inputs),
            RunDecision::Start {
                trigger: Trigger::Request,
                schedule_tick: Some(at(10, 10, 0))
            }
        );
    }

    #[test]
    fn forbid_skips_a_tick_while_a_run_is_active() {
        let schedule = every_ten_minutes();
        let inputs = RunInputs {
            active_run: true,
            concurrency: ConcurrencyPolicy::Forbid,
            now: at(10, 10, 2),
            ..scheduled(&schedule)
        };
        assert_eq!(
            decide_run(&inputs),
            RunDecision::SkipTick {
                schedule_tick: at(10, 10, 0)
            }
        );
    }

    #[test]
    fn allow_starts_another_run_while_one_is_active() {
        let schedule = every_ten_minutes();
        let inputs = RunInputs {
            active_run: true,
            concurrency: ConcurrencyPolicy::Allow,
            now: at(10, 10, 2),
            ..scheduled(&schedule)
        };
        assert_eq!(
            decide_run(&inputs),
            RunDecision::Start {
                trigger: Trigger::Schedule,
                schedule_tick: Some(at(10, 10, 0))
            }
        );
    }

    #[test]
    fn replace_stops_the_active_run_for_a_due_tick() {
        let schedule = every_ten_minutes();
        let inputs = RunInputs {
            active_run: true,
            concurrency: ConcurrencyPolicy::Replace,
            now: at(10, 10, 2),
            ..scheduled(&schedule)
        };
        assert_eq!(
            decide_run(&inputs),
            RunDecision::ReplaceActive {
                schedule_tick: at(10, 10, 0)
            }
        );
    }

    #[test]
    fn a_waiting_request_does_not_hold_back_a_due_tick() {
        let schedule = every_ten_minutes();
        let inputs = RunInputs {
            active_run: true,
            requested: Some("1"),
            concurrency: ConcurrencyPolicy::Replace,
            now: at(10, 10, 2),
            ..scheduled(&schedule)
        };
        assert_eq!(
            decide_run(&inputs),
            RunDecision::ReplaceActive {
                schedule_tick: at(10, 10, 0)
            }
        );
    }

    #[test]
    fn an_existing_result_is_the_same_run_only_with_the_same_trigger_and_request() {
        let request = Some("cli-1-aa");
        assert!(is_same_run(
            Trigger::Request,
            request,
            Trigger::Request,
            request
        ));
        assert!(is_same_run(
            Trigger::Schedule,
            None,
            Trigger::Schedule,
            None
        ));
        // The lost-request case: run 1 answered an older request; a new one must not reuse it.
        assert!(!is_same_run(
            Trigger::Request,
            Some("cli-0-bb"),
            Trigger::Request,
            request
        ));
        assert!(!is_same_run(
            Trigger::Create,
            None,
            Trigger::Request,
            request
        ));
        assert!(!is_same_run(
            Trigger::Schedule,
            None,
            Trigger::Generation,
            None
        ));
    }

    #[test]
    fn a_tick_missed_by_less_than_the_starting_deadline_runs_late_once() {
        let schedule = every_ten_minutes();
        // Down from 10:05 to 10:33: the 10:10, 10:20 and 10:30 ticks were missed.
        let inputs = RunInputs {
            now: at(10, 33, 0),
            starting_deadline: Some(chrono::Duration::seconds(300)),
            ..scheduled(&schedule)
        };
        assert_eq!(
            decide_run(&inputs),
            RunDecision::Start {
                trigger: Trigger::Schedule,
                schedule_tick: Some(at(10, 30, 0)),
            }
        );
    }

    #[test]
    fn a_tick_older_than_the_starting_deadline_is_missed_not_run() {
        let schedule = every_ten_minutes();
        let inputs = RunInputs {
            now: at(10, 36, 0),
            starting_deadline: Some(chrono::Duration::seconds(300)),
            ..scheduled(&schedule)
        };
        assert_eq!(
            decide_run(&inputs),
            RunDecision::MissTick {
                schedule_tick: at(10, 30, 0)
            }
        );
        // Recorded, the missed tick is not due again: the next look waits for 10:40.
        let after = RunInputs {
            last_schedule_time: Some(at(10, 30, 0)),
            ..inputs
        };
        assert_eq!(
            decide_run(&after),
            RunDecision::Nothing {
                next_check: Some(at(10, 40, 0))
            }
        );
    }

    #[test]
    fn without_a_starting_deadline_a_late_tick_still_runs() {
        let schedule = every_ten_minutes();
        let inputs = RunInputs {
            now: at(10, 39, 0),
            ..scheduled(&schedule)
        };
        assert!(matches!(
            decide_run(&inputs),
            RunDecision::Start {
                trigger: Trigger::Schedule,
                ..
            }
        ));
    }
}
