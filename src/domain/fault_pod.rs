//! Where a fault pod stands, read from its status. The pod's container is the fault: once it has
//! terminated the fault is over, even while the pod's phase still lags behind (a slow kubelet can
//! take a minute to move the phase).

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{ContainerStateTerminated, Pod};

use crate::api::FaultStatus;

/// A fault pod's state as the run driver sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultPodState {
    /// Not started yet (phase Pending, or no phase so far): queueTimeout applies.
    Pending,
    /// The fault is acting.
    Running,
    /// The fault ran and exited cleanly.
    Succeeded,
    /// The fault failed; the message says why (its termination message, or its exit code).
    Failed(String),
    /// The kubelet cannot report on the pod (phase Unknown, e.g. its node is unreachable).
    Unknown,
}

impl FaultPodState {
    /// The fault pod has stopped acting.
    pub fn is_final(&self) -> bool {
        matches!(self, FaultPodState::Succeeded | FaultPodState::Failed(_))
    }
}

/// The state of a fault pod (restartPolicy Never, one container).
///
/// A Succeeded or Failed phase is final. In any other phase, a terminated container is final
/// too: exit code 0 is Succeeded, any other Failed with its termination message.
pub fn fault_pod_state(pod: &Pod) -> FaultPodState {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    match phase {
        Some("Succeeded") => return FaultPodState::Succeeded,
        Some("Failed") => return FaultPodState::Failed(termination_message(pod)),
        _ => {}
    }
    if let Some(terminated) = terminated(pod) {
        return if terminated.exit_code == 0 {
            FaultPodState::Succeeded
        } else {
            FaultPodState::Failed(termination_message(pod))
        };
    }
    match phase {
        None | Some("" | "Pending") => FaultPodState::Pending,
        Some("Running") => FaultPodState::Running,
        Some(_) => FaultPodState::Unknown,
    }
}

/// The fault pod reported a clean end (`podExit` without an error) and every change in its
/// ledger is settled: the fault is over, nothing is left for the backstop, and the run can go on
/// before the kubelet reports the pod.
pub fn ended_cleanly(fault: &FaultStatus) -> bool {
    fault.pod_exit.as_ref().is_some_and(|e| e.error.is_none())
        && fault.targets.iter().all(|t| t.state.is_settled())
}

/// Why a fault pod failed: its container's termination message (the fault writes its error
/// there, or the kubelet falls back to the log's tail), else its exit code.
pub fn termination_message(pod: &Pod) -> String {
    terminated(pod)
        .map(|t| {
            // Killed by a signal (SIGKILL, the OOM killer): the process wrote no message of its
            // own, and the kubelet's fallback would be the tail of its logs.
            if t.exit_code > 128 {
                return format!(
                    "the fault process was killed by signal {} (exit code {})",
                    t.exit_code - 128,
                    t.exit_code
                );
            }
            t.message
                .as_deref()
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map(str::to_string)
                .unwrap_or_else(|| format!("the fault pod exited with code {}", t.exit_code))
        })
        .unwrap_or_else(|| "the fault pod failed".into())
}

fn terminated(pod: &Pod) -> Option<&ContainerStateTerminated> {
    pod.status
        .as_ref()?
        .container_statuses
        .as_ref()?
        .first()?
        .state
        .as_ref()?
        .terminated
        .as_ref()
}

/// Whether a fault pod not yet started has waited longer than the run's queueTimeout since it
/// was created (one without a creation time, or created after `now` by a clock ahead of ours,
/// has not waited).
pub fn queue_expired(pod: &Pod, queue_timeout: Duration, now: Timestamp) -> bool {
    let Some(created) = pod.metadata.creation_timestamp.as_ref() else {
        return false;
    };
    now.duration_since(created.0)
        .try_into()
        .is_ok_and(|waited: Duration| waited > queue_timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(status: &str) -> Pod {
        let yaml = format!(
            "metadata:\n  name: run-1-kill\nspec:\n  containers:\n  - name: fault\nstatus:\n{status}"
        );
        serde_yaml_ng::from_str(&yaml).expect("a valid Pod fixture")
    }

    fn with_container(phase: &str, state: &str) -> Pod {
        pod(&format!(
            "  phase: {phase}\n  containerStatuses:\n  - name: fault\n    image: faultline\n    \
             imageID: ''\n    ready: false\n    restartCount: 0\n    state:\n{state}"
        ))
    }

    fn terminated_with(exit_code: i32, message: Option<&str>) -> String {
        let message = message.map_or(String::new(), |m| format!("        message: {m:?}\n"));
        format!("      terminated:\n        exitCode: {exit_code}\n{message}")
    }

    #[test]
    fn a_pod_without_status_or_phase_is_pending() {
        assert_eq!(fault_pod_state(&Pod::default()), FaultPodState::Pending);
        assert_eq!(
            fault_pod_state(&pod("  phase: Pending\n")),
            FaultPodState::Pending
        );
        assert_eq!(
            fault_pod_state(&pod("  phase: ''\n")),
            FaultPodState::Pending
        );
    }

    #[test]
    fn a_running_container_in_a_running_pod_is_running() {
        let running = with_container("Running", "      running: {}\n");
        assert_eq!(fault_pod_state(&running), FaultPodState::Running);
    }

    #[test]
    fn a_container_that_exited_zero_is_succeeded_while_the_phase_still_says_running() {
        let pod = with_container("Running", &terminated_with(0, None));
        assert_eq!(fault_pod_state(&pod), FaultPodState::Succeeded);
    }

    #[test]
    fn a_container_that_exited_non_zero_is_failed_while_the_phase_still_says_running() {
        let pod = with_container(
            "Running",
            &terminated_with(2, Some("  no target matched\n")),
        );
        assert_eq!(
            fault_pod_state(&pod),
            FaultPodState::Failed("no target matched".into())
        );
        let killed = with_container(
            "Failed",
            &terminated_with(137, Some("{\"level\":\"INFO\"}")),
        );
        assert_eq!(
            fault_pod_state(&killed),
            FaultPodState::Failed(
                "the fault process was killed by signal 9 (exit code 137)".into()
            ),
            "a log tail is no reason"
        );
        let silent = with_container("Running", &terminated_with(2, None));
        assert_eq!(
            fault_pod_state(&silent),
            FaultPodState::Failed("the fault pod exited with code 2".into())
        );
    }

    #[test]
    fn a_terminated_container_is_final_even_while_the_phase_says_pending() {
        let pod = with_container("Pending", &terminated_with(1, Some("")));
        assert_eq!(
            fault_pod_state(&pod),
            FaultPodState::Failed("the fault pod exited with code 1".into())
        );
    }

    #[test]
    fn terminal_phases_are_final() {
        assert_eq!(
            fault_pod_state(&pod("  phase: Succeeded\n")),
            FaultPodState::Succeeded
        );
        assert_eq!(
            fault_pod_state(&pod("  phase: Failed\n")),
            FaultPodState::Failed("the fault pod failed".into())
        );
        let failed = with_container("Failed", &terminated_with(1, Some("no target matched")));
        assert_eq!(
            fault_pod_state(&failed),
            FaultPodState::Failed("no target matched".into())
        );
    }

    #[test]
    fn an_unknown_phase_is_neither_pending_nor_running() {
        let pod = with_container("Unknown", "      running: {}\n");
        assert_eq!(fault_pod_state(&pod), FaultPodState::Unknown);
        assert!(!FaultPodState::Unknown.is_final());
        assert!(FaultPodState::Failed(String::new()).is_final());
    }
    #[test]
    fn only_a_clean_report_with_every_change_settled_ends_a_fault_early() {
        use crate::api::{FaultPodExit, LedgerState, TargetAction, TargetRecord};
        let mut fault: FaultStatus = serde_json::from_value(serde_json::json!({
            "name": "kill", "type": "pod-delete", "status": "Running", "weight": 1
        }))
        .unwrap();
        assert!(!ended_cleanly(&fault), "no report yet");
        let exit = |error: Option<&str>| FaultPodExit {
            time: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                k8s_openapi::jiff::Timestamp::now(),
            ),
            error: error.map(String::from),
        };
        let mut entry = TargetRecord::new("Pod", "shop", "web-x", TargetAction::Deleted);
        fault.targets = vec![entry.clone()];
        fault.pod_exit = Some(exit(None));
        assert!(
            !ended_cleanly(&fault),
            "an entry still Injecting is the backstop's"
        );
        entry.settle(LedgerState::Reverted, "fault-pod", None);
        fault.targets = vec![entry];
        assert!(ended_cleanly(&fault));
        fault.pod_exit = Some(exit(Some("revert failed, left to the operator: boom")));
        assert!(!ended_cleanly(&fault), "a failed end waits for the pod");
    }

    #[test]
    fn a_pending_fault_pod_times_out_only_past_the_queue_timeout_since_its_creation() {
        let now: Timestamp = "2026-12-04T12:00:00Z".parse().unwrap();
        let created = |at: &str| Pod {
            metadata: kube::api::ObjectMeta {
                creation_timestamp: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                    at.parse().unwrap(),
                )),
                ..Default::default()
            },
            ..Default::default()
        };
        let limit = Duration::from_secs(60);
        assert!(!queue_expired(&created("2026-12-04T11:59:30Z"), limit, now));
        assert!(!queue_expired(&created("2026-12-04T11:59:00Z"), limit, now));
        assert!(queue_expired(&created("2026-12-04T11:58:59Z"), limit, now));
        // A clock ahead of the pod's creation time does not count as waiting.
        assert!(!queue_expired(&created("2026-12-04T12:05:00Z"), limit, now));
        assert!(!queue_expired(&Pod::default(), limit, now));
    }
}
