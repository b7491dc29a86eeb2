//! Pure decisions of `faultline run --wait`: what changed between two observations of a run,
//! the progress to show, and the exit code a pipeline acts on.

use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

use super::exit;
use super::journal::ProbeSample;
use crate::api::{ChaosResult, ChaosResultStatus, ProbeStatus, RunPhase, Verdict};
use crate::domain::scoring;

/// The name serde gives a status value (`CompletedWithError`, `N/A`, `OnChaos`...).
pub fn label<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Something worth a line in the plain (CI) output.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    Phase(RunPhase),
    FaultStarted {
        fault: String,
        kind: String,
        pod: Option<String>,
    },
    Target {
        fault: String,
        action: String,
        target: String,
    },
    Probe(ProbeSample),
    FaultEnded {
        fault: String,
        status: String,
        score: Option<f64>,
        message: Option<String>,
    },
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Change::Phase(phase) => write!(f, "phase {}", phase.as_str()),
            Change::FaultStarted { fault, kind, pod } => {
                write!(f, "fault {fault} ({kind}) started")?;
                if let Some(pod) = pod {
                    write!(f, " in pod {pod}")?;
                }
                Ok(())
            }
            Change::Target {
                fault,
                action,
                target,
            } => {
                write!(f, "fault {fault}: {} {target}", action.to_lowercase())
            }
            Change::Probe(sample) => {
                match &sample.fault {
                    Some(fault) => write!(
                        f,
                        "probe {} ({}) of fault {fault}",
                        sample.probe, sample.mode
                    )?,
                    None => write!(f, "steady-state probe {} ({})", sample.probe, sample.mode)?,
                }
                write!(f, " {}", sample.outcome.to_lowercase())?;
                if sample.outcome == "Failed"
                    && let Some(message) = &sample.message
                {
                    write!(f, ": {message}")?;
                }
                Ok(())
            }
            Change::FaultEnded {
                fault,
                status,
                score,
                message,
            } => {
                write!(f, "fault {fault} {status}")?;
                if let Some(score) = score {
                    write!(f, ", score {}", format_score(*score))?;
                }
                if let Some(message) = message {
                    write!(f, " ({message})")?;
                }
                Ok(())
            }
        }
    }
}

/// Scores print as `100`, `66.7`.
pub fn format_score(score: f64) -> String {
    let rounded = (score * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.1}")
    }
}

/// What changed from `prev` to `next`, in a readable order. Probe samples are inferred from
/// the passed/failed counters, stamped with `now` (the time of the observation).
pub fn changes(prev: &ChaosResultStatus, next: &ChaosResultStatus, now: Timestamp) -> Vec<Change> {
    let mut out = Vec::new();
    probe_changes(
        &mut out,
        now,
        None,
        Some("before"),
        &prev.steady_state.before,
        &next.steady_state.before,
    );
    let mut fault_lines = Vec::new();
    for fault in &next.faults {
        let old = prev.faults.iter().find(|f| f.name == fault.name);
        let started = fault.start_time.is_some() && old.is_none_or(|o| o.start_time.is_none());
        if started {
            fault_lines.push(Change::FaultStarted {
                fault: fault.name.clone(),
                kind: fault.fault_type.as_str().to_string(),
                pod: fault.pod.clone(),
            });
        }
        let seen = old.map_or(0, |o| o.targets.len());
        for target in fault.targets.iter().skip(seen) {
            fault_lines.push(Change::Target {
                fault: fault.name.clone(),
                action: label(&target.action),
                target: format!("{} {}/{}", target.kind, target.namespace, target.name),
            });
        }
        out.append(&mut fault_lines);
        probe_changes(
            &mut out,
            now,
            Some(&fault.name),
            None,
            old.map_or(&[], |o| &o.probes),
            &fault.probes,
        );
        // The status turns terminal after endTime is written, so follow the status.
        let ended = fault.status.is_terminal() && old.is_none_or(|o| !o.status.is_terminal());
        if ended {
            out.push(Change::FaultEnded {
                fault: fault.name.clone(),
                status: label(&fault.status),
                score: fault.score,
                message: fault.message.clone(),
            });
        }
    }
    probe_changes(
        &mut out,
        now,
        None,
        Some("after"),
        &prev.steady_state.after,
        &next.steady_state.after,
    );
    if prev.phase != next.phase {
        out.push(Change::Phase(next.phase));
    }
    out
}

/// Samples for the counters that went up between `old` and `new`.
fn probe_changes(
    out: &mut Vec<Change>,
    now: Timestamp,
    fault: Option<&str>,
    mode: Option<&str>,
    old: &[ProbeStatus],
    new: &[ProbeStatus],
) {
    for probe in new {
        let before = old.iter().find(|p| p.name == probe.name);
        let (passed, failed) = before.map_or((0, 0), |p| (p.passed, p.failed));
        let mode = mode.map_or_else(|| label(&probe.mode), str::to_string);
        let sample = |outcome: &str, message: Option<String>| ProbeSample {
            time: now,
            fault: fault.map(str::to_string),
            probe: probe.name.clone(),
            mode: mode.clone(),
            outcome: outcome.to_string(),
            message,
        };
        for _ in passed..probe.passed {
            out.push(Change::Probe(sample("Passed", None)));
        }
        for _ in failed..probe.failed {
            out.push(Change::Probe(sample(
                "Failed",
                probe.reason().map(str::to_owned),
            )));
        }
    }
}

/// A snapshot of a run for the live view.
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    pub phase: RunPhase,
    /// The fault running now (`name (type) i/n`), if any.
    pub current: Option<String>,
    pub faults_done: usize,
    pub faults_total: usize,
    pub targets: usize,
    pub probes_passed: i64,
    pub probes_failed: i64,
    pub elapsed: Duration,
    /// An estimate from the faults' durations; None before the run starts.
    pub remaining: Option<Duration>,
}

impl Progress {
    pub fn of(result: &ChaosResult, now: Timestamp) -> Progress {
        let status = result.status.clone().unwrap_or_default();
        let spec = &result.spec.experiment;
        let total = spec.faults.len();
        let running = status
            .faults
            .iter()
            .enumerate()
            .filter(|(_, f)| !f.status.is_terminal())
            .map(|(i, f)| format!("{} ({}) {}/{total}", f.name, f.fault_type.as_str(), i + 1))
            .collect::<Vec<_>>();
        let all_probes = status
            .faults
            .iter()
            .flat_map(|f| f.probes.iter())
            .chain(status.steady_state.before.iter())
            .chain(status.steady_state.after.iter());
        let (passed, failed) = all_probes.fold((0i64, 0i64), |(p, f), probe| {
            (p + i64::from(probe.passed), f + i64::from(probe.failed))
        });
        let elapsed = status
            .start_time
            .as_ref()
            .map(|start| {
                let end = status.completion_time.as_ref().map_or(now, |t| t.0);
                Duration::from_millis(
                    u64::try_from(end.as_millisecond() - start.0.as_millisecond()).unwrap_or(0),
                )
            })
            .unwrap_or_default();
        let planned: Duration = if spec.parallel {
            spec.faults
                .iter()
                .map(|f| f.duration.0)
                .max()
                .unwrap_or_default()
        } else {
            spec.faults.iter().map(|f| f.duration.0).sum()
        };
        let remaining = status
            .start_time
            .as_ref()
            .filter(|_| !status.phase.is_terminal())
            .map(|_| planned.saturating_sub(elapsed));
        Progress {
            phase: status.phase,
            current: if running.is_empty() {
                None
            } else {
                Some(running.join(", "))
            },
            faults_done: status
                .faults
                .iter()
                .filter(|f| f.status.is_terminal() && f.end_time.is_some())
                .count(),
            faults_total: total,
            targets: status.faults.iter().map(|f| f.targets.len()).sum(),
            probes_passed: passed,
            probes_failed: failed,
            elapsed,
            remaining,
        }
    }

    /// The lines of the live view.
    pub fn lines(&self, result: &str) -> Vec<String> {
        let remaining = self
            .remaining
            .map(|r| format!("   remaining ~{}", clock(r)))
            .unwrap_or_default();
        vec![
            format!("run      chaosresult/{result}"),
            format!(
                "phase    {:<20} elapsed {}{remaining}",
                self.phase.as_str(),
                clock(self.elapsed)
            ),
            format!(
                "fault    {}   ({}/{} done, {} target{} acted on)",
                self.current.as_deref().unwrap_or("-"),
                self.faults_done,
                self.faults_total,
                self.targets,
                if self.targets == 1 { "" } else { "s" }
            ),
            format!(
                "probes   {} passed, {} failed",
                self.probes_passed, self.probes_failed
            ),
        ]
    }
}

/// `m:ss`, or `h:mm:ss` past an hour.
pub fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// The verdict a pipeline acts on and its exit code. `min_score` (from `--min-score`) replaces
/// the experiment's expectedResilienceScore as the bar for Pass ([`scoring::pass_mark`]).
pub fn gate(status: &ChaosResultStatus, min_score: Option<f64>) -> (Verdict, u8) {
    let verdict = scoring::gated_verdict(status, min_score);
    let code = match verdict {
        Verdict::Pass => exit::PASS,
        Verdict::Fail => exit::FAIL,
        Verdict::Stopped | Verdict::Error | Verdict::Awaited => exit::ERROR,
    };
    (verdict, code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{
        FaultPhase, FaultStatus, FaultType, ProbeMode, ProbeVerdict, TargetAction, TargetRecord,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn probe(name: &str, passed: i32, failed: i32, message: Option<&str>) -> ProbeStatus {
        ProbeStatus {
            name: name.into(),
            mode: ProbeMode::Continuous,
            verdict: ProbeVerdict::Awaited,
            passed,
            failed,
            unknown: 0,
            last_message: message.map(str::to_string),
            last_failure: None,
        }
    }

    fn fault(status: FaultPhase) -> FaultStatus {
        FaultStatus {
            name: "kill".into(),
            fault_type: FaultType::PodDelete,
            status,
            weight: 10,
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

    fn completed(phase: RunPhase, score: f64, expected: i32) -> ChaosResultStatus {
        ChaosResultStatus {
            phase,
            resilience_score: Some(score),
            expected_resilience_score: Some(expected),
            ..Default::default()
        }
    }

    #[test]
    fn pass_at_or_above_the_expected_score_exits_zero() {
        assert_eq!(
            gate(&completed(RunPhase::Completed, 100.0, 100), None),
            (Verdict::Pass, 0)
        );
        assert_eq!(
            gate(&completed(RunPhase::CompletedWithError, 80.0, 80), None),
            (Verdict::Pass, 0)
        );
    }

    #[test]
    fn below_the_expected_score_exits_one() {
        assert_eq!(
            gate(&completed(RunPhase::CompletedWithError, 66.7, 100), None),
            (Verdict::Fail, 1)
        );
    }

    #[test]
    fn min_score_replaces_the_expected_score_both_ways() {
        assert_eq!(
            gate(&completed(RunPhase::Completed, 100.0, 100), Some(101.0)).1,
            1
        );
        assert_eq!(
            gate(
                &completed(RunPhase::CompletedWithError, 70.0, 100),
                Some(60.0)
            )
            .1,
            0
        );
    }

    #[test]
    fn error_timeout_and_stopped_exit_two_whatever_the_score() {
        for phase in [
            RunPhase::Error,
            RunPhase::Timeout,
            RunPhase::Stopped,
            RunPhase::Running,
        ] {
            assert_eq!(
                gate(&completed(phase, 100.0, 0), Some(0.0)).1,
                2,
                "{phase:?}"
            );
        }
        assert_eq!(
            gate(&completed(RunPhase::Stopped, 0.0, 0), None).0,
            Verdict::Stopped
        );
        assert_eq!(
            gate(&completed(RunPhase::Timeout, 0.0, 0), None).0,
            Verdict::Error
        );
    }

    #[test]
    fn changes_report_a_start_new_targets_samples_and_the_end_once() {
        let now = ts("2026-11-21T10:00:05Z");
        let before = ChaosResultStatus {
            phase: RunPhase::Queued,
            faults: vec![fault(FaultPhase::Running)],
            ..Default::default()
        };
        let mut during = before.clone();
        during.phase = RunPhase::Running;
        during.faults[0].start_time = Some(Time(ts("2026-11-21T10:00:01Z")));
        during.faults[0].targets.push(TargetRecord {
            kind: "Pod".into(),
            namespace: "shop".into(),
            name: "web-1".into(),
            action: TargetAction::Deleted,
            time: Time(ts("2026-11-21T10:00:02Z")),
            state: crate::api::LedgerState::Reverted,
            reverted: true,
            original: None,
            reverted_by: Some("fault-pod".into()),
            message: None,
        });
        during.faults[0].probes = vec![probe("http", 2, 1, Some("got 503"))];
        let got = changes(&before, &during, now);
        let text: Vec<String> = got.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "fault kill (pod-delete) started in pod run-1-kill",
                "fault kill: deleted Pod shop/web-1",
                "probe http (Continuous) of fault kill passed",
                "probe http (Continuous) of fault kill passed",
                "probe http (Continuous) of fault kill failed: got 503",
                "phase Running",
            ]
        );
        assert!(changes(&during, &during, now).is_empty());
        let mut after = during.clone();
        after.faults[0].status = FaultPhase::CompletedWithError;
        after.faults[0].end_time = Some(Time(ts("2026-11-21T10:00:20Z")));
        after.faults[0].score = Some(50.0);
        let text: Vec<String> = changes(&during, &after, now)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(text, ["fault kill CompletedWithError, score 50"]);
    }

    #[test]
    fn steady_state_samples_are_labelled_before_and_after() {
        let now = ts("2026-11-21T10:00:05Z");
        let next = ChaosResultStatus {
            steady_state: crate::api::SteadyStateStatus {
                before: vec![probe("up", 1, 0, None)],
                after: vec![],
            },
            ..Default::default()
        };
        let got = changes(&ChaosResultStatus::default(), &next, now);
        let Change::Probe(sample) = &got[0] else {
            panic!("{got:?}")
        };
        assert_eq!(
            (sample.fault.as_deref(), sample.mode.as_str()),
            (None, "before")
        );
        assert_eq!(got[0].to_string(), "steady-state probe up (before) passed");
    }

    #[test]
    fn scores_and_clocks_read_like_a_person_wrote_them() {
        assert_eq!(format_score(100.0), "100");
        assert_eq!(format_score(66.666), "66.7");
        assert_eq!(clock(Duration::from_secs(75)), "1:15");
        assert_eq!(clock(Duration::from_secs(3725)), "1:02:05");
    }

    #[test]
    fn progress_names_the_running_fault_and_estimates_what_is_left() {
        let spec: crate::api::ChaosExperimentSpec = serde_json::from_value(serde_json::json!({
            "faults": [
                {"name": "kill", "type": "pod-delete", "target": {}, "duration": "30s"},
                {"name": "again", "type": "pod-delete", "target": {}, "duration": "20s"}
            ]
        }))
        .unwrap();
        let mut status = ChaosResultStatus {
            phase: RunPhase::Running,
            start_time: Some(Time(ts("2026-11-21T10:00:00Z"))),
            faults: vec![fault(FaultPhase::Running)],
            ..Default::default()
        };
        status.faults[0].probes = vec![probe("http", 4, 1, None)];
        let result = ChaosResult {
            metadata: Default::default(),
            spec: crate::api::ChaosResultSpec {
                experiment_ref: "e".into(),
                run_number: 1,
                trigger: crate::api::Trigger::Request,
                experiment: spec,
                probes: Default::default(),
            },
            status: Some(status),
        };
        let progress = Progress::of(&result, ts("2026-11-21T10:00:12Z"));
        assert_eq!(progress.current.as_deref(), Some("kill (pod-delete) 1/2"));
        assert_eq!(progress.elapsed, Duration::from_secs(12));
        assert_eq!(progress.remaining, Some(Duration::from_secs(38)));
        assert_eq!((progress.probes_passed, progress.probes_failed), (4, 1));
        let lines = progress.lines("e-1");
        assert_eq!(
            lines[1],
            "phase    Running              elapsed 0:12   remaining ~0:38"
        );
        assert_eq!(lines[3], "probes   4 passed, 1 failed");
    }
}
