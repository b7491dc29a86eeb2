//! Probe verdicts: how checks tally into a probe's status while its fault runs, the verdict once
//! the fault is over, and the steady-state verdicts that judge every fault of a run.
//!
//! Everything the verdicts need lives in the probe's status (passed, failed and unknown counts),
//! so a run resumed by a restarted operator reaches the same verdicts.

use crate::{
    api::{ProbeMode, ProbeStatus, ProbeVerdict},
    probes::Outcome,
};

/// Tallies one check into `probe`: its count, its last message (and last failure), and its
/// verdict so far.
pub fn record_check(probe: &mut ProbeStatus, outcome: &Outcome) {
    match outcome {
        Outcome::Passed(_) => probe.passed += 1,
        Outcome::Failed(message) => {
            probe.failed += 1;
            probe.last_failure = Some(message.clone());
        }
        Outcome::Unknown(_) => probe.unknown += 1,
    }
    probe.last_message = Some(outcome.message().to_string());
    probe.verdict = verdict_so_far(probe);
}

/// The verdict of a probe whose fault is still running: a failure is final; anything else waits
/// for the fault to end (the stored verdict, Awaited for a fresh probe, is kept).
pub fn verdict_so_far(probe: &ProbeStatus) -> ProbeVerdict {
    if probe.failed > 0 {
        ProbeVerdict::Failed
    } else {
        probe.verdict
    }
}

/// A probe's verdict once its fault is over. `fault_finished` is true when the fault pod ran to
/// its end (successfully or not), false when the fault was stopped or timed out.
///
/// - Failed if any check failed;
/// - otherwise, if a check could not be determined or none ran: N/A when the fault finished,
///   still Awaited when it did not (the probe never had its chance);
/// - an Edge probe of a finished fault needs a pass on both sides of it, else N/A;
/// - Passed otherwise.
pub fn final_verdict(probe: &ProbeStatus, fault_finished: bool) -> ProbeVerdict {
    if probe.failed > 0 {
        ProbeVerdict::Failed
    } else if probe.unknown > 0 || probe.passed == 0 {
        if fault_finished {
            ProbeVerdict::NotApplicable
        } else {
            ProbeVerdict::Awaited
        }
    } else if probe.mode == ProbeMode::Edge && probe.passed < 2 && fault_finished {
        ProbeVerdict::NotApplicable
    } else {
        ProbeVerdict::Passed
    }
}

/// The status of a probe checked once (a steady-state probe).
pub fn single_check_status(name: &str, mode: ProbeMode, outcome: &Outcome) -> ProbeStatus {
    let mut status = ProbeStatus {
        name: name.to_string(),
        mode,
        ..Default::default()
    };
    record_check(&mut status, outcome);
    status.verdict = outcome.verdict();
    status
}

/// One verdict per steady-state probe checked before the chaos: its verdict before, unless it
/// passed before and not after (then its verdict after). A probe not checked after (the run
/// ended early) keeps its verdict before.
pub fn steady_verdicts(before: &[ProbeStatus], after: &[ProbeStatus]) -> Vec<ProbeVerdict> {
    before
        .iter()
        .map(|b| {
            let after = after.iter().find(|a| a.name == b.name).map(|a| a.verdict);
            match (b.verdict, after) {
                (ProbeVerdict::Passed, Some(after)) => after,
                (before, _) => before,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProbeVerdict::{Awaited, Failed, NotApplicable, Passed};

    fn probe(mode: ProbeMode, passed: i32, failed: i32, unknown: i32) -> ProbeStatus {
        ProbeStatus {
            name: "web".into(),
            mode,
            verdict: Awaited,
            passed,
            failed,
            unknown,
            last_message: None,
            last_failure: None,
        }
    }

    fn named(name: &str, verdict: ProbeVerdict) -> ProbeStatus {
        ProbeStatus {
            name: name.into(),
            verdict,
            ..Default::default()
        }
    }

    #[test]
    fn checks_tally_into_their_counts_and_the_last_message() {
        let mut p = probe(ProbeMode::Continuous, 0, 0, 0);
        record_check(&mut p, &Outcome::Passed("200".into()));
        record_check(&mut p, &Outcome::Unknown("bad jsonPath".into()));
        record_check(&mut p, &Outcome::Passed("200 again".into()));
        assert_eq!((p.passed, p.failed, p.unknown), (2, 0, 1));
        assert_eq!(p.last_message.as_deref(), Some("200 again"));
        assert_eq!(p.verdict, Awaited);
    }

    #[test]
    fn a_failed_check_is_kept_as_the_reason_when_later_checks_pass() {
        let mut p = probe(ProbeMode::Continuous, 0, 0, 0);
        record_check(&mut p, &Outcome::Passed("200 in 2ms".into()));
        assert_eq!(p.reason(), Some("200 in 2ms"));
        record_check(&mut p, &Outcome::Failed("503 in 4ms".into()));
        record_check(&mut p, &Outcome::Passed("200 in 3ms".into()));
        assert_eq!(p.last_message.as_deref(), Some("200 in 3ms"));
        assert_eq!(p.last_failure.as_deref(), Some("503 in 4ms"));
        assert_eq!(p.reason(), Some("503 in 4ms"), "a Failed probe says why");
        assert_eq!(p.verdict, ProbeVerdict::Failed);
    }

    #[test]
    fn a_failure_while_running_is_final_at_once() {
        let mut p = probe(ProbeMode::Continuous, 3, 0, 0);
        record_check(&mut p, &Outcome::Failed("503".into()));
        assert_eq!(p.verdict, Failed);
        record_check(&mut p, &Outcome::Passed("200".into()));
        assert_eq!(p.verdict, Failed);
    }

    #[test]
    fn passes_while_running_leave_the_verdict_awaited() {
        let mut p = probe(ProbeMode::OnChaos, 0, 0, 0);
        record_check(&mut p, &Outcome::Passed("200".into()));
        assert_eq!(p.verdict, Awaited);
    }

    #[test]
    fn any_failure_is_final_whatever_else_happened() {
        assert_eq!(final_verdict(&probe(ProbeMode::Eot, 5, 1, 2), true), Failed);
        assert_eq!(
            final_verdict(&probe(ProbeMode::Eot, 0, 1, 0), false),
            Failed
        );
    }

    #[test]
    fn passes_only_end_passed() {
        let p = probe(ProbeMode::Continuous, 4, 0, 0);
        assert_eq!(final_verdict(&p, true), Passed);
        assert_eq!(final_verdict(&p, false), Passed);
    }

    #[test]
    fn an_unknown_outcome_makes_a_finished_fault_probe_na_despite_passes() {
        assert_eq!(
            final_verdict(&probe(ProbeMode::Continuous, 3, 0, 1), true),
            NotApplicable
        );
    }

    #[test]
    fn a_probe_that_never_ran_on_a_finished_fault_is_na() {
        assert_eq!(
            final_verdict(&probe(ProbeMode::Eot, 0, 0, 0), true),
            NotApplicable
        );
    }

    #[test]
    fn a_stopped_fault_leaves_an_unchecked_or_unknown_probe_awaited() {
        assert_eq!(
            final_verdict(&probe(ProbeMode::Eot, 0, 0, 0), false),
            Awaited
        );
        assert_eq!(
            final_verdict(&probe(ProbeMode::Continuous, 2, 0, 1), false),
            Awaited
        );
    }

    #[test]
    fn an_edge_probe_with_only_one_pass_on_a_finished_fault_is_na() {
        assert_eq!(
            final_verdict(&probe(ProbeMode::Edge, 1, 0, 0), true),
            NotApplicable
        );
        assert_eq!(
            final_verdict(&probe(ProbeMode::Edge, 2, 0, 0), true),
            Passed
        );
    }

    #[test]
    fn an_edge_probe_with_one_pass_on_a_stopped_fault_keeps_its_pass() {
        assert_eq!(
            final_verdict(&probe(ProbeMode::Edge, 1, 0, 0), false),
            Passed
        );
    }

    #[test]
    fn a_status_restored_with_unknown_checks_still_ends_na() {
        // What a restarted operator reads back from the ChaosResult's status.
        let stored = serde_json::json!({
            "name": "web", "mode": "Continuous", "verdict": "Awaited",
            "passed": 4, "failed": 0, "unknown": 1, "lastMessage": "200"
        });
        let mut restored: ProbeStatus = serde_json::from_value(stored).unwrap();
        record_check(&mut restored, &Outcome::Passed("200".into()));
        assert_eq!(final_verdict(&restored, true), NotApplicable);
    }

    #[test]
    fn a_status_written_before_unknown_was_counted_reads_as_none_unknown() {
        let stored = serde_json::json!({
            "name": "web", "mode": "EOT", "verdict": "Awaited", "passed": 1, "failed": 0
        });
        let restored: ProbeStatus = serde_json::from_value(stored).unwrap();
        assert_eq!(restored.unknown, 0);
        assert_eq!(final_verdict(&restored, true), Passed);
    }

    #[test]
    fn a_single_check_gives_the_outcome_verdict() {
        let unknown = single_check_status("db", ProbeMode::Sot, &Outcome::Unknown("rbac".into()));
        assert_eq!(unknown.verdict, NotApplicable);
        assert_eq!((unknown.passed, unknown.failed, unknown.unknown), (0, 0, 1));
        assert_eq!(unknown.last_message.as_deref(), Some("rbac"));
        let passed = single_check_status("db", ProbeMode::Sot, &Outcome::Passed("ok".into()));
        assert_eq!((passed.verdict, passed.passed), (Passed, 1));
        let failed = single_check_status("db", ProbeMode::Sot, &Outcome::Failed("no".into()));
        assert_eq!((failed.verdict, failed.failed), (Failed, 1));
    }

    #[test]
    fn steady_state_passing_before_and_after_passes() {
        let before = [named("web", Passed)];
        let after = [named("web", Passed)];
        assert_eq!(steady_verdicts(&before, &after), vec![Passed]);
    }

    #[test]
    fn steady_state_failing_after_but_passing_before_takes_the_verdict_after() {
        let before = [named("web", Passed), named("db", Passed)];
        let after = [named("db", NotApplicable), named("web", Failed)];
        assert_eq!(
            steady_verdicts(&before, &after),
            vec![Failed, NotApplicable]
        );
    }

    #[test]
    fn steady_state_not_checked_after_keeps_its_verdict_before() {
        let before = [named("web", Passed), named("db", Failed)];
        assert_eq!(steady_verdicts(&before, &[]), vec![Passed, Failed]);
    }

    #[test]
    fn steady_state_not_passing_before_keeps_that_verdict_whatever_after() {
        let before = [named("web", NotApplicable)];
        let after = [named("web", Passed)];
        assert_eq!(steady_verdicts(&before, &after), vec![NotApplicable]);
    }

    #[test]
    fn no_steady_state_gives_no_verdict() {
        assert!(steady_verdicts(&[], &[named("web", Passed)]).is_empty());
    }
}
