//! ChaosExperiment: what to break, where, for how long, and what must hold meanwhile.

// Each printcolumn(...) repeats `type_ = "string"`; clippy reads those as duplicated attributes.
#![allow(clippy::duplicated_attributes)]

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, LabelSelector, Time};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{Duration, ProbeMode, conditions_schema};
use super::faults::FaultParameters;
use super::probe::ChaosProbeSpec;
use super::result::{RunPhase, Verdict};

/// A chaos experiment. Without a schedule it runs once per generation and again whenever the
/// `chaos.faultline.dev/run-requested` annotation changes; with one, on its schedule only.
#[derive(CustomResource, KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "chaos.faultline.dev",
    version = "v1alpha1",
    kind = "ChaosExperiment",
    namespaced,
    status = "ChaosExperimentStatus",
    shortname = "cexp",
    category = "chaos",
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(name = "Score", type_ = "number", json_path = ".status.lastRun.score"),
    printcolumn(name = "Schedule", type_ = "string", json_path = ".spec.schedule"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[x_kube(
    validation = Rule::new("self.faults.all(f, self.faults.exists_one(g, g.name == f.name))").message("fault names must be unique within an experiment"),
)]
#[serde(rename_all = "camelCase")]
pub struct ChaosExperimentSpec {
    /// The faults, run one after another unless `parallel` is set.
    #[schemars(length(min = 1, max = 20))]
    pub faults: Vec<Fault>,
    /// Run all faults at once.
    #[serde(default)]
    pub parallel: bool,
    /// Probes checked before the first fault and after the last; a failure before chaos ends
    /// the run in Error and injects nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steady_state: Option<SteadyState>,
    /// The verdict is Pass when the run's score is at least this.
    #[serde(default = "default_expected_score")]
    #[schemars(range(min = 0, max = 100))]
    pub expected_resilience_score: i32,
    /// A cron schedule ("*/10 * * * *", or with a leading seconds field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 128))]
    #[x_kube(validation = Rule::new(r"self.matches('^(@(yearly|annually|monthly|weekly|daily|hourly))$') || self.matches('^\\s*([0-9*/,?LW#-]+|[A-Za-z]{3}(-[A-Za-z]{3})?)(\\s+([0-9*/,?LW#-]+|[A-Za-z,]{3,}(-[A-Za-z]{3})?)){4,5}\\s*$')").message("schedule must be a cron expression such as \"*/10 * * * *\" (5 fields, or 6 with seconds) or @hourly, @daily, @weekly, @monthly, @yearly"))]
    pub schedule: Option<String>,
    /// What a schedule tick does while a run is still going: Forbid skips it, Allow starts
    /// another run, Replace stops the running one first.
    #[serde(default)]
    pub concurrency_policy: ConcurrencyPolicy,
    /// Pause the schedule.
    #[serde(default)]
    pub suspend: bool,
    /// A tick not acted on within this many seconds (the operator was down) is missed: no run,
    /// a ScheduleMissed Event. Unset, a missed tick runs late, once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub starting_deadline_seconds: Option<i64>,
    /// How many results to keep.
    #[serde(default = "default_history_limit")]
    #[schemars(range(min = 1, max = 100))]
    pub history_limit: i32,
    /// The whole run's deadline; past it the run ends in Timeout and everything is reverted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    /// How long a run may wait for its fault pod to start.
    #[serde(default = "default_queue_timeout")]
    pub queue_timeout: Duration,
    /// Abort the current run and revert everything injected.
    #[serde(default)]
    pub stop: bool,
    /// Resolve and record the targets, but inject nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// The most faults an experiment may have (the CRD's `maxItems`); the admission policy checks
/// each position.
pub const MAX_FAULTS: usize = 20;

fn default_expected_score() -> i32 {
    100
}

fn default_history_limit() -> i32 {
    10
}

fn default_queue_timeout() -> Duration {
    Duration::from_secs(300)
}

/// What a schedule tick does while a run is still going.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ConcurrencyPolicy {
    #[default]
    Forbid,
    Allow,
    Replace,
}

/// Probes checked before the first fault and after the last.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SteadyState {
    #[serde(default)]
    #[schemars(length(max = 10))]
    pub probes: Vec<ProbeEntry>,
}

/// The fault types this version can inject; each is one file in src/faults/.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum FaultType {
    /// Deletes target pods: Chaos Toolkit's terminate_pods, Litmus' pod-delete.
    #[serde(rename = "pod-delete")]
    PodDelete,
    /// Sets a Deployment, StatefulSet or ReplicaSet to `replicas` for the duration.
    #[serde(rename = "workload-scale")]
    WorkloadScale,
    /// Marks nodes unschedulable for the duration.
    #[serde(rename = "node-cordon")]
    NodeCordon,
    /// Cordons nodes and evicts their pods through the Eviction API.
    #[serde(rename = "node-drain")]
    NodeDrain,
    /// Adds a taint to nodes for the duration.
    #[serde(rename = "node-taint")]
    NodeTaint,
    /// Delays the target pods' packets (latency and jitter).
    #[serde(rename = "pod-network-latency")]
    PodNetworkLatency,
    /// Drops a share of the target pods' packets.
    #[serde(rename = "pod-network-loss")]
    PodNetworkLoss,
    /// Cuts the target pods off from the named peers.
    #[serde(rename = "pod-network-partition")]
    PodNetworkPartition,
    /// Makes the target pods' DNS lookups fail.
    #[serde(rename = "pod-dns-error")]
    PodDnsError,
    /// Signals the main process of a target pod's container; the kubelet restarts it.
    #[serde(rename = "container-kill")]
    ContainerKill,
    /// Burns CPU inside a target pod's container, under its limits.
    #[serde(rename = "pod-cpu-hog")]
    PodCpuHog,
    /// Fills memory inside a target pod's container, under its limits.
    #[serde(rename = "pod-memory-hog")]
    PodMemoryHog,
    /// Writes, syncs and reads files inside a target pod's container, in its cgroups.
    #[serde(rename = "pod-io-stress")]
    PodIoStress,
}

impl FaultType {
    /// Every type, in the order the documentation lists them.
    pub const ALL: [FaultType; 13] = [
        FaultType::PodDelete,
        FaultType::WorkloadScale,
        FaultType::NodeCordon,
        FaultType::NodeDrain,
        FaultType::NodeTaint,
        FaultType::PodNetworkLatency,
        FaultType::PodNetworkLoss,
        FaultType::PodNetworkPartition,
        FaultType::PodDnsError,
        FaultType::ContainerKill,
        FaultType::PodCpuHog,
        FaultType::PodMemoryHog,
        FaultType::PodIoStress,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            FaultType::PodDelete => "pod-delete",
            FaultType::WorkloadScale => "workload-scale",
            FaultType::NodeCordon => "node-cordon",
            FaultType::NodeDrain => "node-drain",
            FaultType::NodeTaint => "node-taint",
            FaultType::PodNetworkLatency => "pod-network-latency",
            FaultType::PodNetworkLoss => "pod-network-loss",
            FaultType::PodNetworkPartition => "pod-network-partition",
            FaultType::PodDnsError => "pod-dns-error",
            FaultType::ContainerKill => "container-kill",
            FaultType::PodCpuHog => "pod-cpu-hog",
            FaultType::PodMemoryHog => "pod-memory-hog",
            FaultType::PodIoStress => "pod-io-stress",
        }
    }
}

impl std::str::FromStr for FaultType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FaultType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| format!("unknown fault type {s:?}"))
    }
}

impl std::fmt::Display for FaultType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One fault of an experiment.
#[derive(KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[x_kube(
    validation = Rule::new("(has(self.podDelete) ? 1 : 0) + (has(self.workloadScale) ? 1 : 0) + (has(self.nodeCordon) ? 1 : 0) + (has(self.nodeDrain) ? 1 : 0) + (has(self.nodeTaint) ? 1 : 0) + (has(self.networkLatency) ? 1 : 0) + (has(self.networkLoss) ? 1 : 0) + (has(self.networkPartition) ? 1 : 0) + (has(self.dnsError) ? 1 : 0) + (has(self.containerKill) ? 1 : 0) + (has(self.cpuHog) ? 1 : 0) + (has(self.memoryHog) ? 1 : 0) + (has(self.ioStress) ? 1 : 0) <= 1").message("set at most one parameter block, the one named by type (podDelete, workloadScale, nodeCordon, nodeDrain, nodeTaint, networkLatency, networkLoss, networkPartition, dnsError, containerKill, cpuHog, memoryHog or ioStress)"),
    validation = Rule::new("(!has(self.podDelete) || self.type == 'pod-delete') && (!has(self.workloadScale) || self.type == 'workload-scale') && (!has(self.nodeCordon) || self.type == 'node-cordon') && (!has(self.nodeDrain) || self.type == 'node-drain') && (!has(self.nodeTaint) || self.type == 'node-taint') && (!has(self.networkLatency) || self.type == 'pod-network-latency') && (!has(self.networkLoss) || self.type == 'pod-network-loss') && (!has(self.networkPartition) || self.type == 'pod-network-partition') && (!has(self.dnsError) || self.type == 'pod-dns-error') && (!has(self.containerKill) || self.type == 'container-kill') && (!has(self.cpuHog) || self.type == 'pod-cpu-hog') && (!has(self.memoryHog) || self.type == 'pod-memory-hog') && (!has(self.ioStress) || self.type == 'pod-io-stress')").message("the parameter block must match type: type workload-scale takes workloadScale, pod-network-latency takes networkLatency, and so on"),
    validation = Rule::new("self.type != 'node-taint' || has(self.nodeTaint)").message("type node-taint needs a nodeTaint block with the taint's key (and optional value and effect)"),
    validation = Rule::new("self.type != 'pod-network-latency' || has(self.networkLatency)").message("type pod-network-latency needs a networkLatency block with at least latency, e.g. latency: 200ms"),
    validation = Rule::new("self.type != 'pod-network-loss' || has(self.networkLoss)").message("type pod-network-loss needs a networkLoss block with percent, e.g. percent: 30"),
    validation = Rule::new("self.type != 'pod-network-partition' || (has(self.networkPartition) && (has(self.networkPartition.pods) || (has(self.networkPartition.namespaces) && size(self.networkPartition.namespaces) > 0) || (has(self.networkPartition.destinations) && size(self.networkPartition.destinations) > 0) || (has(self.networkPartition.services) && size(self.networkPartition.services) > 0)))").message("type pod-network-partition needs a networkPartition block naming the peers to cut off: destinations, services, namespaces or pods"),
    validation = Rule::new("self.type != 'pod-cpu-hog' || (has(self.cpuHog) && has(self.cpuHog.cores) != has(self.cpuHog.percent))").message("type pod-cpu-hog needs a cpuHog block with one of cores (e.g. \"1\" or \"500m\") or percent (of the container's CPU limit)"),
    validation = Rule::new("self.type != 'pod-memory-hog' || (has(self.memoryHog) && has(self.memoryHog.mebibytes) != has(self.memoryHog.percent))").message("type pod-memory-hog needs a memoryHog block with one of mebibytes or percent (of the container's memory limit)"),
    validation = Rule::new("self.type != 'workload-scale' || self.target.kind in ['Deployment', 'StatefulSet', 'ReplicaSet']").message("workload-scale targets a Deployment, StatefulSet or ReplicaSet: set target.kind"),
    validation = Rule::new("self.target.kind != 'Node' || self.type in ['node-cordon', 'node-drain', 'node-taint']").message("target kind Node is for the node faults (node-cordon, node-drain, node-taint)"),
)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    /// Unique within the experiment; a DNS label.
    #[schemars(
        length(min = 1, max = 32),
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    )]
    pub name: String,
    /// The fault type: pod-delete, workload-scale, node-cordon, node-drain, node-taint,
    /// pod-network-latency, pod-network-loss, pod-network-partition, pod-dns-error,
    /// container-kill, pod-cpu-hog, pod-memory-hog or pod-io-stress.
    #[serde(rename = "type")]
    pub fault_type: FaultType,
    /// The fault's weight in the run's score, 1 to 10.
    #[serde(default = "default_weight")]
    #[schemars(range(min = 1, max = 10))]
    pub weight: i32,
    /// Which pods the fault acts on.
    pub target: Target,
    /// How long the fault lasts.
    #[serde(default = "default_duration")]
    pub duration: Duration,
    /// Time between injections, e.g. kill one pod every interval for the duration.
    #[serde(default = "default_interval")]
    pub interval: Duration,
    /// The type's own knobs, in a block named after it (see docs/faults.md).
    #[serde(flatten)]
    pub parameters: FaultParameters,
    /// Probes checked for this fault.
    #[serde(default)]
    #[schemars(length(max = 10))]
    pub probes: Vec<ProbeEntry>,
}

fn default_weight() -> i32 {
    10
}

fn default_duration() -> Duration {
    Duration::from_secs(30)
}

fn default_interval() -> Duration {
    Duration::from_secs(10)
}

/// The kinds a target can name; a workload kind means its pods (or, for workload-scale, the
/// workload itself), and Node is for the node faults.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum TargetKind {
    #[default]
    Pod,
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet,
    Node,
}

impl TargetKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            TargetKind::Pod => "Pod",
            TargetKind::Deployment => "Deployment",
            TargetKind::StatefulSet => "StatefulSet",
            TargetKind::DaemonSet => "DaemonSet",
            TargetKind::ReplicaSet => "ReplicaSet",
            TargetKind::Node => "Node",
        }
    }
}

/// How many of the matching pods a fault acts on at each injection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TargetMode {
    #[default]
    One,
    All,
    Fixed,
    Percent,
}

/// Which pods a fault acts on.
#[derive(KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[x_kube(
    validation = Rule::new("self.mode != 'fixed' || (has(self.value) && self.value >= 1)").message("mode fixed needs value: the number of pods (at least 1)"),
    validation = Rule::new("self.mode != 'percent' || (has(self.value) && self.value >= 1 && self.value <= 100)").message("mode percent needs value between 1 and 100"),
    validation = Rule::new("self.kind == 'Pod' || has(self.name) || has(self.selector)").message("a workload or Node target (Deployment, StatefulSet, DaemonSet, ReplicaSet, Node) needs name or selector"),
    validation = Rule::new("!has(self.namePattern) || ''.matches(self.namePattern) || !''.matches(self.namePattern)").message("namePattern must be a valid regular expression"),
)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    /// Defaults to the experiment's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Pod, or a workload whose pods are targeted.
    #[serde(default)]
    pub kind: TargetKind,
    /// The pod's or workload's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A label selector for pods (kind Pod) or workloads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
    /// A regular expression searched anywhere in the pod name (anchor it with ^ and $).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 256))]
    pub name_pattern: Option<String>,
    /// one, all, fixed (value pods) or percent (value percent).
    #[serde(default)]
    pub mode: TargetMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub value: Option<i32>,
    /// Pick targets at random (otherwise by name order).
    #[serde(default = "default_true")]
    pub random: bool,
    /// Only pods on nodes with these labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<BTreeMap<String, String>>,
    /// Never act on more than this percent of the matching pods at once.
    #[serde(default = "default_max_percent")]
    #[schemars(range(min = 1, max = 100))]
    pub max_percent: i32,
    /// Refuse to inject when fewer than this many Ready pods would remain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub min_healthy: Option<i32>,
}

fn default_true() -> bool {
    true
}

fn default_max_percent() -> i32 {
    100
}

/// A probe used by an experiment: a reference to a ChaosProbe, or one written inline.
#[derive(KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[x_kube(
    validation = Rule::new("has(self.probeRef) != has(self.probe)").message("a probe entry has exactly one of probeRef or probe"),
    validation = Rule::new("!has(self.probe) || has(self.name)").message("an inline probe needs a name"),
)]
#[serde(rename_all = "camelCase")]
pub struct ProbeEntry {
    /// The name of a ChaosProbe in the experiment's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 253))]
    pub probe_ref: Option<String>,
    /// An inline probe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<ChaosProbeSpec>,
    /// The inline probe's name (defaults to probeRef for references).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 63))]
    pub name: Option<String>,
    /// SOT, EOT, Edge, Continuous or OnChaos.
    #[serde(default)]
    pub mode: ProbeMode,
}

impl ChaosExperimentSpec {
    /// The names of the ChaosProbes the experiment references (in its namespace), each once,
    /// in order of first use: the faults' probes, then the steady state's.
    pub fn probe_refs(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        let entries = self
            .faults
            .iter()
            .flat_map(|f| f.probes.iter())
            .chain(self.steady_state.iter().flat_map(|s| s.probes.iter()));
        for name in entries.filter_map(|p| p.probe_ref.as_deref()) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }
}

impl ProbeEntry {
    /// The name this probe is reported under.
    pub fn display_name(&self) -> &str {
        self.name
            .as_deref()
            .or(self.probe_ref.as_deref())
            .unwrap_or("probe")
    }
}

/// A summary of the last run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LastRun {
    /// The ChaosResult's name.
    pub result: String,
    /// The run's resilience score, 0 to 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<Time>,
}

/// ChaosExperiment status.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChaosExperimentStatus {
    /// The last run's phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<RunPhase>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<LastRun>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_schedule_time: Option<Time>,
    /// How many runs this experiment has had; the next result is `<name>-<runs + 1>`.
    #[serde(default)]
    pub runs: i64,
    /// The generation whose run has been started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_generation: Option<i64>,
    /// The run-requested annotation value that has been acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handled_request: Option<String>,
    /// The schedule tick that last started a run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_schedule_time: Option<Time>,
    /// Standard conditions; `Ready` says the spec is valid (e.g. the schedule parses).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Vec<Condition>,
    /// The generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}
