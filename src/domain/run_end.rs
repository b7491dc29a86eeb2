//! How a fault ends, what that end writes into the fault's status, and how the ends of a run's
//! faults merge into the run's end.

use super::states::RunEnd;
use crate::api::{FaultPhase, FaultStatus};

/// Why a fault ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultEnd {
    /// The fault pod finished; `Some(message)` if the injection failed (the pod failed, was
    /// refused or was lost).
    Finished(Option<String>),
    /// The user stopped the run.
    Stopped,
    /// The run passed its timeout.
    TimedOut,
    /// The fault pod did not start within queueTimeout.
    QueueTimedOut(String),
    /// A probe with stopOnFailure failed.
    ProbeStop(String),
}

impl FaultEnd {
    /// The fault pod ran to its end, successfully or not: its probes had their chance.
    pub fn finished(&self) -> bool {
        matches!(self, FaultEnd::Finished(_))
    }

    /// A label value for metrics: injected, failed, stopped or timeout.
    pub fn as_str(&self) -> &'static str {
        match self {
            FaultEnd::Finished(None) => "injected",
            FaultEnd::Finished(Some(_)) => "failed",
            FaultEnd::Stopped | FaultEnd::ProbeStop(_) => "stopped",
            FaultEnd::TimedOut | FaultEnd::QueueTimedOut(_) => "timeout",
        }
    }
}

/// Writes how a fault ended into its status: a stopped fault is Stopped, a timed-out one Error,
/// a failed injection is marked so that the fault ends in Error; the message says why. A fault
/// that finished or was stopped by a probe stays Running, for its probes to decide its phase
/// when the run ends.
pub fn record_fault_end(fault: &mut FaultStatus, end: &FaultEnd) {
    match end {
        FaultEnd::Finished(Some(failure)) => {
            fault.injection_failed = true;
            fault.message = Some(format!("injection failed: {failure}"));
        }
        FaultEnd::Finished(None) => {}
        FaultEnd::Stopped => {
            fault.status = FaultPhase::Stopped;
            fault.message = Some("stopped by the user".into());
        }
        FaultEnd::TimedOut => {
            fault.status = FaultPhase::Error;
            fault.message = Some("the run passed its timeout".into());
        }
        FaultEnd::QueueTimedOut(why) => {
            fault.status = FaultPhase::Error;
            fault.message = Some(why.clone());
        }
        FaultEnd::ProbeStop(why) => fault.message = Some(why.clone()),
    }
}

/// Merges one fault's end into the run's end so far (`end`, with its `message`).
///
/// A finished fault leaves the run's end alone, even when its injection failed (that fault is in
/// Error, which the run's phase reflects). Otherwise the first fault that ended abnormally
/// decides: Stopped for a stop, TimedOut for the run's timeout or a queueTimeout, Errored for a
/// probe's stopOnFailure; later ones are ignored.
pub fn merge_end(
    end: RunEnd,
    message: Option<String>,
    fault_end: FaultEnd,
) -> (RunEnd, Option<String>) {
    let (candidate, why) = match fault_end {
        FaultEnd::Finished(_) => return (end, message),
        FaultEnd::Stopped => (RunEnd::Stopped, "stopped by the user".to_string()),
        FaultEnd::TimedOut => (RunEnd::TimedOut, "the run passed its timeout".to_string()),
        FaultEnd::QueueTimedOut(why) => (RunEnd::TimedOut, why),
        FaultEnd::ProbeStop(why) => (RunEnd::Errored, why),
    };
    if end == RunEnd::Normal {
        (candidate, Some(why))
    } else {
        (end, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::FaultType;

    fn running() -> FaultStatus {
        FaultStatus {
            name: "kill".into(),
            fault_type: FaultType::PodDelete,
            status: FaultPhase::Running,
            weight: 1,
            score: None,
            pod: Some("run-1-kill".into()),
            start_time: None,
            end_time: None,
            message: None,
            injection_failed: false,
            targets: vec![],
            pod_exit: None,
            probes: vec![],
        }
    }

    fn ended(end: FaultEnd) -> FaultStatus {
        let mut fault = running();
        record_fault_end(&mut fault, &end);
        fault
    }

    fn merge_all(ends: Vec<FaultEnd>) -> (RunEnd, Option<String>) {
        ends.into_iter()
            .fold((RunEnd::Normal, None), |(end, message), fault_end| {
                merge_end(end, message, fault_end)
            })
    }

    #[test]
    fn a_finished_fault_stays_running_for_its_probes_to_judge() {
        let fault = ended(FaultEnd::Finished(None));
        assert_eq!(fault.status, FaultPhase::Running);
        assert!(!fault.injection_failed);
        assert_eq!(fault.message, None);
    }

    #[test]
    fn a_failed_injection_is_marked_and_keeps_its_message() {
        let fault = ended(FaultEnd::Finished(Some("exit code 2".into())));
        assert!(fault.injection_failed);
        assert_eq!(fault.status, FaultPhase::Running);
        assert_eq!(
            fault.message.as_deref(),
            Some("injection failed: exit code 2")
        );
    }

    #[test]
    fn a_stopped_fault_is_stopped() {
        let fault = ended(FaultEnd::Stopped);
        assert_eq!(fault.status, FaultPhase::Stopped);
        assert_eq!(fault.message.as_deref(), Some("stopped by the user"));
    }

    #[test]
    fn a_timed_out_fault_is_error_with_the_reason() {
        assert_eq!(ended(FaultEnd::TimedOut).status, FaultPhase::Error);
        let queued = ended(FaultEnd::QueueTimedOut("did not start".into()));
        assert_eq!(queued.status, FaultPhase::Error);
        assert_eq!(queued.message.as_deref(), Some("did not start"));
        assert!(!queued.injection_failed);
    }

    #[test]
    fn a_probe_stop_leaves_the_phase_to_the_probes() {
        let fault = ended(FaultEnd::ProbeStop("probe web failed".into()));
        assert_eq!(fault.status, FaultPhase::Running);
        assert_eq!(fault.message.as_deref(), Some("probe web failed"));
    }

    #[test]
    fn finished_faults_leave_the_run_normal_even_when_an_injection_failed() {
        assert_eq!(
            merge_all(vec![
                FaultEnd::Finished(None),
                FaultEnd::Finished(Some("refused".into()))
            ]),
            (RunEnd::Normal, None)
        );
    }

    #[test]
    fn each_abnormal_end_maps_to_its_run_end() {
        assert_eq!(
            merge_all(vec![FaultEnd::Stopped]),
            (RunEnd::Stopped, Some("stopped by the user".into()))
        );
        assert_eq!(
            merge_all(vec![FaultEnd::TimedOut]),
            (RunEnd::TimedOut, Some("the run passed its timeout".into()))
        );
        assert_eq!(
            merge_all(vec![FaultEnd::QueueTimedOut("pod stuck".into())]),
            (RunEnd::TimedOut, Some("pod stuck".into()))
        );
        assert_eq!(
            merge_all(vec![FaultEnd::ProbeStop("probe web failed".into())]),
            (RunEnd::Errored, Some("probe web failed".into()))
        );
    }

    #[test]
    fn the_first_abnormal_end_wins() {
        assert_eq!(
            merge_all(vec![
                FaultEnd::Finished(None),
                FaultEnd::ProbeStop("probe web failed".into()),
                FaultEnd::Stopped,
                FaultEnd::TimedOut,
            ]),
            (RunEnd::Errored, Some("probe web failed".into()))
        );
    }

    #[test]
    fn metrics_labels_sort_the_ends() {
        assert_eq!(FaultEnd::Finished(None).as_str(), "injected");
        assert_eq!(FaultEnd::Finished(Some("x".into())).as_str(), "failed");
        assert_eq!(FaultEnd::ProbeStop("x".into()).as_str(), "stopped");
        assert_eq!(FaultEnd::QueueTimedOut("x".into()).as_str(), "timeout");
        assert!(FaultEnd::Finished(Some("x".into())).finished());
        assert!(!FaultEnd::Stopped.finished());
    }
}
