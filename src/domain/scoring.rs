//! Resilience scores of faults and runs, and the run's verdict (the design's "Score").

use crate::api::{ChaosResultStatus, FaultPhase, ProbeVerdict, RunPhase, Verdict};

/// A fault's score: the percentage of its probes (its own and the steady-state ones) whose
/// verdict is Passed, from 0 to 100, rounded to 2 decimals.
///
/// A fault in `Error` scores 0, and so does a fault that no probe judged (for example one that
/// was Skipped or Stopped before any probe ran): nothing showed it resilient.
pub fn fault_score(phase: FaultPhase, probe_verdicts: &[ProbeVerdict]) -> f64 {
    if phase == FaultPhase::Error || probe_verdicts.is_empty() {
        return 0.0;
    }
    let passed = probe_verdicts
        .iter()
        .filter(|v| **v == ProbeVerdict::Passed)
        .count();
    round_to_hundredths(100.0 * passed as f64 / probe_verdicts.len() as f64)
}

/// A run's score from its faults' `(weight, score)` pairs: sum(weight × score) / sum(weight),
/// rounded to 2 decimals. No fault, or no positive total weight, scores 0.
pub fn run_score(faults: &[(i32, f64)]) -> f64 {
    let total_weight: f64 = faults.iter().map(|(weight, _)| f64::from(*weight)).sum();
    if total_weight <= 0.0 {
        return 0.0;
    }
    let weighted: f64 = faults
        .iter()
        .map(|(weight, score)| f64::from(*weight) * score)
        .sum();
    round_to_hundredths(weighted / total_weight)
}

/// The score a run must reach to pass: the bar asked for (`faultline run|report --min-score`),
/// else the experiment's expectedResilienceScore, else 100. The one score gate: the operator's
/// verdict, the CLI's exit code and the reports all read it from here.
pub fn pass_mark(min_score: Option<f64>, expected: Option<i32>) -> f64 {
    min_score.or(expected.map(f64::from)).unwrap_or(100.0)
}

/// The run's verdict from its phase and score against `pass_mark` (see [`pass_mark`]).
///
/// A run that completed (with or without error) passes when its score reaches the mark and
/// fails below it; a Stopped run is Stopped; Error and Timeout are Error; a run that has not
/// ended is still Awaited.
pub fn verdict(phase: RunPhase, score: f64, pass_mark: f64) -> Verdict {
    match phase {
        RunPhase::Completed | RunPhase::CompletedWithError => {
            if score >= pass_mark {
                Verdict::Pass
            } else {
                Verdict::Fail
            }
        }
        RunPhase::Stopped => Verdict::Stopped,
        RunPhase::Error | RunPhase::Timeout => Verdict::Error,
        RunPhase::Queued | RunPhase::Running => Verdict::Awaited,
    }
}

/// The verdict of a recorded run against `min_score` if one is asked for, else against its own
/// expected score (what the operator recorded). A run without a score has scored 0.
pub fn gated_verdict(status: &ChaosResultStatus, min_score: Option<f64>) -> Verdict {
    verdict(
        status.phase,
        status.resilience_score.unwrap_or(0.0),
        pass_mark(min_score, status.expected_resilience_score),
    )
}

fn round_to_hundredths(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProbeVerdict::{Failed, NotApplicable, Passed};

    #[test]
    fn a_fault_in_error_scores_zero_even_with_passed_probes() {
        assert_eq!(fault_score(FaultPhase::Error, &[Passed, Passed]), 0.0);
    }

    #[test]
    fn a_skipped_or_stopped_fault_with_no_probes_scores_zero() {
        assert_eq!(fault_score(FaultPhase::Skipped, &[]), 0.0);
        assert_eq!(fault_score(FaultPhase::Stopped, &[]), 0.0);
    }

    #[test]
    fn a_fault_scores_the_percentage_of_passed_probes() {
        assert_eq!(
            fault_score(
                FaultPhase::CompletedWithError,
                &[Passed, Failed, Passed, Failed]
            ),
            50.0
        );
        assert_eq!(fault_score(FaultPhase::Completed, &[Passed, Passed]), 100.0);
    }

    #[test]
    fn a_fault_score_is_rounded_to_two_decimals() {
        assert_eq!(
            fault_score(FaultPhase::CompletedWithError, &[Passed, Failed, Failed]),
            33.33
        );
        assert_eq!(
            fault_score(FaultPhase::CompletedWithError, &[Passed, Passed, Failed]),
            66.67
        );
    }

    #[test]
    fn a_stopped_fault_scores_the_probes_that_did_pass() {
        assert_eq!(
            fault_score(FaultPhase::Stopped, &[Passed, NotApplicable]),
            50.0
        );
    }

    #[test]
    fn the_run_score_weighs_each_fault_score() {
        assert_eq!(run_score(&[(10, 100.0), (5, 40.0)]), 80.0);
    }

    #[test]
    fn equal_weights_give_the_plain_average() {
        assert_eq!(run_score(&[(10, 100.0), (10, 0.0), (10, 50.0)]), 50.0);
    }

    #[test]
    fn the_run_score_is_rounded_to_two_decimals() {
        assert_eq!(run_score(&[(1, 100.0), (1, 0.0), (1, 0.0)]), 33.33);
    }

    #[test]
    fn a_run_without_faults_scores_zero() {
        assert_eq!(run_score(&[]), 0.0);
    }

    #[test]
    fn a_completed_run_at_the_expected_score_passes() {
        assert_eq!(verdict(RunPhase::Completed, 100.0, 100.0), Verdict::Pass);
        assert_eq!(
            verdict(RunPhase::CompletedWithError, 80.0, 80.0),
            Verdict::Pass
        );
    }

    #[test]
    fn a_completed_run_below_the_expected_score_fails() {
        assert_eq!(
            verdict(RunPhase::CompletedWithError, 79.99, 80.0),
            Verdict::Fail
        );
        assert_eq!(verdict(RunPhase::Completed, 90.0, 100.0), Verdict::Fail);
    }

    #[test]
    fn a_stopped_run_has_the_verdict_stopped() {
        assert_eq!(verdict(RunPhase::Stopped, 100.0, 0.0), Verdict::Stopped);
    }

    #[test]
    fn an_error_or_timeout_run_has_the_verdict_error_whatever_its_score() {
        assert_eq!(verdict(RunPhase::Error, 100.0, 0.0), Verdict::Error);
        assert_eq!(verdict(RunPhase::Timeout, 100.0, 0.0), Verdict::Error);
    }

    #[test]
    fn a_run_that_has_not_ended_is_awaited() {
        assert_eq!(verdict(RunPhase::Queued, 0.0, 100.0), Verdict::Awaited);
        assert_eq!(verdict(RunPhase::Running, 100.0, 100.0), Verdict::Awaited);
    }

    #[test]
    fn the_pass_mark_is_the_asked_minimum_else_the_expected_score_else_100() {
        assert_eq!(pass_mark(Some(50.0), Some(90)), 50.0);
        assert_eq!(pass_mark(Some(95.0), Some(90)), 95.0);
        assert_eq!(pass_mark(None, Some(90)), 90.0);
        assert_eq!(pass_mark(None, None), 100.0);
    }

    #[test]
    fn a_minimum_score_moves_the_verdict_both_ways() {
        let status = |score| ChaosResultStatus {
            phase: RunPhase::CompletedWithError,
            resilience_score: Some(score),
            expected_resilience_score: Some(80),
            ..Default::default()
        };
        assert_eq!(gated_verdict(&status(70.0), None), Verdict::Fail);
        assert_eq!(gated_verdict(&status(70.0), Some(60.0)), Verdict::Pass);
        assert_eq!(gated_verdict(&status(90.0), Some(95.0)), Verdict::Fail);
        assert_eq!(
            gated_verdict(
                &ChaosResultStatus {
                    phase: RunPhase::Completed,
                    ..Default::default()
                },
                None
            ),
            Verdict::Fail,
            "no score is a score of 0"
        );
    }
}
