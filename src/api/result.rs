//! ChaosResult: the record of one run, immutable once it ends.

// Each printcolumn(...) repeats `type_ = "string"`; clippy reads those as duplicated attributes.
#![allow(clippy::duplicated_attributes)]

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{ProbeMode, ProbeVerdict, conditions_schema};
use super::experiment::{ChaosExperimentSpec, FaultType};
use super::probe::ChaosProbeSpec;

/// The phase of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum RunPhase {
    /// Waiting for its fault pod.
    #[default]
    Queued,
    Running,
    /// Every fault and probe passed.
    Completed,
    /// Every fault completed, none is Error, at least one is CompletedWithError.
    CompletedWithError,
    /// A fault or step is in error.
    Error,
    /// Not picked up or not started within queueTimeout, or past timeout.
    Timeout,
    /// Stopped by the user.
    Stopped,
}

impl RunPhase {
    pub fn is_terminal(&self) -> bool {
        !matches!(self, RunPhase::Queued | RunPhase::Running)
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            RunPhase::Queued => "Queued",
            RunPhase::Running => "Running",
            RunPhase::Completed => "Completed",
            RunPhase::CompletedWithError => "CompletedWithError",
            RunPhase::Error => "Error",
            RunPhase::Timeout => "Timeout",
            RunPhase::Stopped => "Stopped",
        }
    }
}

/// The status of one fault within a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum FaultPhase {
    Running,
    /// Stopped by the user after it started.
    Stopped,
    /// Never executed, e.g. because the run was stopped before it.
    Skipped,
    /// Executed, and no probe is Failed or N/A.
    Completed,
    /// At least one probe Failed and none is N/A.
    CompletedWithError,
    /// A probe is N/A, the fault has no probe at all, or the injection failed.
    Error,
}

impl FaultPhase {
    pub fn is_terminal(&self) -> bool {
        !matches!(self, FaultPhase::Running)
    }
}

/// The verdict of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Verdict {
    #[default]
    Awaited,
    Pass,
    Fail,
    Stopped,
    Error,
}

impl Verdict {
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Awaited => "Awaited",
            Verdict::Pass => "Pass",
            Verdict::Fail => "Fail",
            Verdict::Stopped => "Stopped",
            Verdict::Error => "Error",
        }
    }
}

/// What started a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// The experiment was created.
    Create,
    /// The experiment's spec changed.
    Generation,
    /// The run-requested annotation changed.
    Request,
    /// A schedule tick.
    Schedule,
}

/// One run of an experiment.
#[derive(CustomResource, KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "chaos.faultline.dev",
    version = "v1alpha1",
    kind = "ChaosResult",
    namespaced,
    status = "ChaosResultStatus",
    shortname = "cres",
    category = "chaos",
    printcolumn(
        name = "Experiment",
        type_ = "string",
        json_path = ".spec.experimentRef"
    ),
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(name = "Verdict", type_ = "string", json_path = ".status.verdict"),
    printcolumn(
        name = "Score",
        type_ = "number",
        json_path = ".status.resilienceScore"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct ChaosResultSpec {
    /// The experiment this run belongs to.
    #[x_kube(validation = Rule::new("self == oldSelf").message("experimentRef is immutable"))]
    #[schemars(length(max = 253))]
    pub experiment_ref: String,
    /// 1 for the experiment's first run, and so on.
    #[x_kube(validation = Rule::new("self == oldSelf").message("runNumber is immutable"))]
    pub run_number: i64,
    pub trigger: Trigger,
    /// The experiment spec this run used.
    pub experiment: ChaosExperimentSpec,
    /// The referenced ChaosProbes as they were when the run started, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub probes: BTreeMap<String, ChaosProbeSpec>,
}

/// The outcome of one probe.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProbeStatus {
    /// The probe's name in the experiment.
    pub name: String,
    pub mode: ProbeMode,
    pub verdict: ProbeVerdict,
    /// Checks that passed.
    #[serde(default)]
    pub passed: i32,
    /// Checks that failed (after retries).
    #[serde(default)]
    pub failed: i32,
    /// Checks whose outcome could not be determined.
    #[serde(default)]
    pub unknown: i32,
    /// What the last check saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message: Option<String>,
    /// What the last failed check saw: why the probe failed, kept when later checks pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure: Option<String>,
}

impl ProbeStatus {
    /// Why the probe stands where it does: its last failure once a check has failed, else what
    /// its last check saw.
    pub fn reason(&self) -> Option<&str> {
        self.last_failure
            .as_deref()
            .or(self.last_message.as_deref())
    }
}

/// Steady-state probes before the first fault and after the last.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SteadyStateStatus {
    /// Checked before the first fault.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "probe_statuses_schema")]
    pub before: Vec<ProbeStatus>,
    /// Checked after the last fault.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "probe_statuses_schema")]
    pub after: Vec<ProbeStatus>,
}

/// What was done to a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum TargetAction {
    /// Selected but left alone (dryRun).
    Selected,
    /// Deleted (pod-delete); its owner replaces it, so nothing is reverted.
    Deleted,
    /// Scaled to the fault's replica count (workload-scale); `original` holds the count to restore.
    Scaled,
    /// Marked unschedulable (node-cordon).
    Cordoned,
    /// Cordoned, then its pods evicted (node-drain); the revert uncordons.
    Drained,
    /// Evicted from a drained node (node-drain); its owner replaces it.
    Evicted,
    /// Tainted (node-taint); the revert removes exactly that taint.
    Tainted,
    /// Its packets sent through Faultline's verdict engine (the network faults); `original`
    /// names the pod instance, its node and the nftables table the revert deletes.
    Shaped,
    /// Its container's main process signalled (container-kill); the kubelet restarts the
    /// container, so nothing is reverted. `original` holds each container's ID and restart count
    /// before the kill.
    Killed,
    /// Loaded by a hog process in its container's cgroup (pod-cpu-hog, pod-memory-hog); the
    /// revert kills the hog. `original` names the pod instance, its node, the container and
    /// the hog's tag.
    Hogged,
}

/// Where a ledger entry stands. An entry is written `Injecting` before the change is made, so a
/// change whose writer died half-way is still known and reverted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum LedgerState {
    /// Recorded; the change may or may not have been made.
    #[default]
    Injecting,
    /// The change is in place.
    Injected,
    /// Undone, or needing no undoing (a deleted pod is replaced by its owner).
    Reverted,
    /// Someone changed the target after the fault did; the revert left it as they set it.
    Drifted,
    /// The target no longer exists, which counts as reverted.
    TargetGone,
    /// Given up on through the force-cleanup annotation; the change may still be in place.
    Abandoned,
}

impl LedgerState {
    /// True once nothing is left to undo (or a person gave up on it).
    pub fn is_settled(&self) -> bool {
        !matches!(self, LedgerState::Injecting | LedgerState::Injected)
    }
}

/// One entry of the run's ledger: a change to a target, recorded before it is made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetRecord {
    /// The target's kind: Pod, Deployment, StatefulSet, ReplicaSet or Node.
    pub kind: String,
    /// The target's namespace (empty for a Node).
    #[serde(default)]
    pub namespace: String,
    /// The target's name.
    pub name: String,
    pub action: TargetAction,
    pub time: Time,
    /// Where the entry stands: Injecting, Injected, Reverted, Drifted, TargetGone or Abandoned.
    #[serde(default)]
    pub state: LedgerState,
    /// The change has been undone or needs no undoing: state Reverted, Drifted or TargetGone.
    #[serde(default)]
    pub reverted: bool,
    /// What the revert restores, recorded before the change (e.g. the replica count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<String>,
    /// Who settled the entry: the fault pod, or the operator's backstop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverted_by: Option<String>,
    /// What the revert found, e.g. why an entry Drifted or why a revert is failing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl TargetRecord {
    /// A fresh entry, in state Injecting.
    pub fn new(kind: &str, namespace: &str, name: &str, action: TargetAction) -> Self {
        TargetRecord {
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
            action,
            time: Time(k8s_openapi::jiff::Timestamp::now()),
            state: LedgerState::Injecting,
            reverted: false,
            original: None,
            reverted_by: None,
            message: None,
        }
    }

    /// Moves the entry to `state`, keeping `reverted` in step.
    pub fn settle(&mut self, state: LedgerState, by: &str, message: Option<String>) {
        self.state = state;
        self.reverted = matches!(
            state,
            LedgerState::Reverted | LedgerState::Drifted | LedgerState::TargetGone
        );
        self.reverted_by = Some(by.into());
        if message.is_some() {
            self.message = message;
        }
    }

    /// `namespace/name`, or the name alone for a cluster-scoped target.
    pub fn display(&self) -> String {
        if self.namespace.is_empty() {
            format!("{} {}", self.kind, self.name)
        } else {
            format!("{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// A fault pod's own report of its end.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FaultPodExit {
    pub time: Time,
    /// Why the fault failed (its termination message too); absent when it succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One fault of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FaultStatus {
    /// The fault's name in the experiment.
    pub name: String,
    #[serde(rename = "type")]
    pub fault_type: FaultType,
    pub status: FaultPhase,
    /// The fault's weight in the run's score.
    pub weight: i32,
    /// The percentage of its probes (own and steady-state) that passed; 0 for Error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// The fault pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Time>,
    /// Why the fault ended as it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The fault pod failed, was refused or was lost, so the fault is in Error whatever its
    /// probes say; `message` says why.
    #[serde(default, skip_serializing_if = "is_false")]
    pub injection_failed: bool,
    /// The ledger of this fault's changes, written by its fault pod.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<TargetRecord>,
    /// How the fault pod ended, in its own words: written with the ledger, after its reverts
    /// and just before it exits, so the run goes on without waiting for the kubelet to report
    /// the container terminated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_exit: Option<FaultPodExit>,
    /// The fault's own probes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "probe_statuses_schema")]
    pub probes: Vec<ProbeStatus>,
}

/// ChaosResult status.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChaosResultStatus {
    #[serde(default)]
    pub phase: RunPhase,
    #[serde(default)]
    pub verdict: Verdict,
    /// The run's score, 0 to 100, once it ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resilience_score: Option<f64>,
    /// The experiment's expectedResilienceScore when the run started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_resilience_score: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<Time>,
    /// A sentence on the outcome: what failed, or how the score compares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Steady-state probes before and after the chaos.
    #[serde(default)]
    pub steady_state: SteadyStateStatus,
    /// Faults in the order they ran; a list-map keyed by name, so the operator and each fault
    /// pod (which owns its `targets`) apply their parts under their own field managers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "fault_statuses_schema")]
    pub faults: Vec<FaultStatus>,
    /// Standard conditions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Vec<Condition>,
    /// The generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

fn is_false(value: &bool) -> bool {
    !value
}

fn list_map_by_name(mut schema: schemars::Schema) -> schemars::Schema {
    schema.insert("x-kubernetes-list-type".into(), "map".into());
    schema.insert(
        "x-kubernetes-list-map-keys".into(),
        serde_json::json!(["name"]),
    );
    schema
}

fn fault_statuses_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    list_map_by_name(generator.subschema_for::<Vec<FaultStatus>>())
}

fn probe_statuses_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    list_map_by_name(generator.subschema_for::<Vec<ProbeStatus>>())
}
