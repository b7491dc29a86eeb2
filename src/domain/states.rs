//! The status of a fault from its probes, and the phase of a run from its faults (the design's "States").

use crate::api::{FaultPhase, ProbeVerdict, RunPhase};

/// The status of a fault that executed to its end.
///
/// `probe_verdicts` holds every probe that judged the fault: its own and the steady-state ones.
/// - `Error` when the injection failed, when nothing validated the fault (no probe at all), or when
///   a probe's outcome could not be determined (`N/A`, or still `Awaited` once the fault is over);
/// - `CompletedWithError` when a probe failed;
/// - `Completed` otherwise.
pub fn fault_phase(probe_verdicts: &[ProbeVerdict], injection_failed: bool) -> FaultPhase {
    let undetermined = probe_verdicts
        .iter()
        .any(|v| matches!(v, ProbeVerdict::NotApplicable | ProbeVerdict::Awaited));
    if injection_failed || probe_verdicts.is_empty() || undetermined {
        FaultPhase::Error
    } else if probe_verdicts.contains(&ProbeVerdict::Failed) {
        FaultPhase::CompletedWithError
    } else {
        FaultPhase::Completed
    }
}

/// How a run ended, as the controller saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunEnd {
    /// Every step ran.
    Normal,
    /// The user stopped it (`spec.stop`, or a Replace schedule tick).
    Stopped,
    /// It passed `timeout`, or its fault pod did not start within `queueTimeout`.
    TimedOut,
    /// A step outside the faults failed: steady state before chaos, a namespace opt-in check.
    Errored,
}

/// The phase of a run that has ended, from its faults' statuses and how it ended.
///
/// Stopped and Timeout say how the run ended whatever its faults did. Otherwise the run is in
/// `Error` if a step or any fault is; a fault that did not complete (Skipped, Stopped or still
/// Running) in a run nobody stopped counts as an error too, as does a run with no fault at all
/// (nothing was tested). What remains is `CompletedWithError` if any fault is, else `Completed`.
pub fn run_phase(faults: &[FaultPhase], end: RunEnd) -> RunPhase {
    match end {
        RunEnd::Stopped => return RunPhase::Stopped,
        RunEnd::TimedOut => return RunPhase::Timeout,
        RunEnd::Errored => return RunPhase::Error,
        RunEnd::Normal => {}
    }
    let all_completed = faults
        .iter()
        .all(|f| matches!(f, FaultPhase::Completed | FaultPhase::CompletedWithError));
    if faults.is_empty() || !all_completed {
        RunPhase::Error
    } else if faults.contains(&FaultPhase::CompletedWithError) {
        RunPhase::CompletedWithError
    } else {
        RunPhase::Completed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use FaultPhase as F;
    use ProbeVerdict::{Awaited, Failed, NotApplicable, Passed};

    #[test]
    fn a_fault_whose_injection_failed_is_error_even_if_its_probes_passed() {
        assert_eq!(fault_phase(&[Passed, Passed], true), F::Error);
    }

    #[test]
    fn a_fault_with_no_probe_at_all_is_error() {
        assert_eq!(fault_phase(&[], false), F::Error);
    }

    #[test]
    fn a_fault_with_an_na_probe_is_error_even_if_another_failed() {
        assert_eq!(
            fault_phase(&[Failed, NotApplicable, Passed], false),
            F::Error
        );
    }

    #[test]
    fn a_fault_that_ended_with_a_probe_still_awaited_is_error() {
        assert_eq!(fault_phase(&[Passed, Awaited], false), F::Error);
    }

    #[test]
    fn a_fault_with_a_failed_probe_and_none_na_is_completed_with_error() {
        assert_eq!(fault_phase(&[Passed, Failed], false), F::CompletedWithError);
    }

    #[test]
    fn a_fault_whose_probes_all_passed_is_completed() {
        assert_eq!(fault_phase(&[Passed, Passed], false), F::Completed);
    }

    #[test]
    fn a_stopped_run_is_stopped_whatever_its_faults() {
        assert_eq!(
            run_phase(&[F::Completed, F::Error, F::Skipped], RunEnd::Stopped),
            RunPhase::Stopped
        );
    }

    #[test]
    fn a_timed_out_run_is_timeout_whatever_its_faults() {
        assert_eq!(
            run_phase(&[F::Completed, F::Stopped], RunEnd::TimedOut),
            RunPhase::Timeout
        );
    }

    #[test]
    fn a_run_whose_step_outside_the_faults_failed_is_error() {
        assert_eq!(
            run_phase(&[F::Skipped, F::Skipped], RunEnd::Errored),
            RunPhase::Error
        );
    }

    #[test]
    fn a_run_with_any_fault_in_error_is_error() {
        assert_eq!(
            run_phase(
                &[F::Completed, F::Error, F::CompletedWithError],
                RunEnd::Normal
            ),
            RunPhase::Error
        );
    }

    #[test]
    fn a_skipped_fault_in_a_run_nobody_stopped_counts_as_error() {
        assert_eq!(
            run_phase(&[F::Completed, F::Skipped], RunEnd::Normal),
            RunPhase::Error
        );
    }

    #[test]
    fn a_run_with_no_fault_is_error() {
        assert_eq!(run_phase(&[], RunEnd::Normal), RunPhase::Error);
    }

    #[test]
    fn a_run_whose_faults_all_completed_and_one_with_error_is_completed_with_error() {
        assert_eq!(
            run_phase(&[F::Completed, F::CompletedWithError], RunEnd::Normal),
            RunPhase::CompletedWithError
        );
    }

    #[test]
    fn a_run_whose_faults_all_completed_cleanly_is_completed() {
        assert_eq!(
            run_phase(&[F::Completed, F::Completed], RunEnd::Normal),
            RunPhase::Completed
        );
    }
}
