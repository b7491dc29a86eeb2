//! The journal of one run: the ChaosResult's record plus the Events and probe samples seen
//! around it. `run -o json`, `report --format json|junit|html` all render from this one type.

use jiff::Timestamp;
use kube::ResourceExt;
use serde::{Deserialize, Serialize};

use crate::api::{ChaosResult, ChaosResultStatus};

/// The journal format's version, written into every journal.
pub const JOURNAL_VERSION: &str = "faultline.dev/journal/v1";

/// A machine-readable record of one run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Journal {
    /// Always [`JOURNAL_VERSION`].
    pub version: String,
    pub experiment: String,
    pub namespace: String,
    /// The ChaosResult's name.
    pub result: String,
    pub run_number: i64,
    /// create, generation, request or schedule.
    pub trigger: String,
    /// The score gate the verdict was judged against: `--min-score` when given, else the
    /// experiment's expectedResilienceScore.
    pub min_score: Option<f64>,
    /// Seconds from start to completion, once the run has ended.
    pub duration_seconds: Option<f64>,
    /// Phase, verdict, score, steady state, faults with their targets and probes.
    pub status: ChaosResultStatus,
    /// Probe checks as they were observed, oldest first.
    #[serde(default)]
    pub samples: Vec<ProbeSample>,
    /// The run's Events (of the result and its fault pods), oldest first.
    #[serde(default)]
    pub events: Vec<JournalEvent>,
}

/// One observed probe check: the probe's passed or failed count went up, or an Event said it failed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeSample {
    pub time: Timestamp,
    /// The fault the probe belongs to; None for steady-state probes.
    pub fault: Option<String>,
    pub probe: String,
    /// SOT, EOT, Edge, Continuous, OnChaos, or before/after for steady state.
    pub mode: String,
    /// Passed or Failed.
    pub outcome: String,
    pub message: Option<String>,
}

/// One Kubernetes Event about the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JournalEvent {
    pub time: Timestamp,
    /// Normal or Warning.
    #[serde(rename = "type")]
    pub event_type: String,
    pub reason: String,
    pub message: String,
    /// The object the Event is about, as kind/name.
    pub object: String,
}

impl Journal {
    /// A journal of `result` as it stands, with no samples or events yet.
    pub fn from_result(result: &ChaosResult) -> Journal {
        let status = result.status.clone().unwrap_or_default();
        let duration_seconds = match (&status.start_time, &status.completion_time) {
            (Some(start), Some(end)) => {
                Some((end.0.as_millisecond() - start.0.as_millisecond()) as f64 / 1000.0)
            }
            _ => None,
        };
        Journal {
            version: JOURNAL_VERSION.to_string(),
            experiment: result.spec.experiment_ref.clone(),
            namespace: result.namespace().unwrap_or_default(),
            result: result.name_any(),
            run_number: result.spec.run_number,
            trigger: serde_json::to_value(result.spec.trigger)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            min_score: status.expected_resilience_score.map(f64::from),
            duration_seconds,
            status,
            samples: Vec::new(),
            events: Vec::new(),
        }
    }
}
