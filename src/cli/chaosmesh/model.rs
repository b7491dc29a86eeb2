//! The parts of Chaos Mesh's `chaos-mesh.org/v1alpha1` kinds the importer reads, as typed serde
//! structs, following the Chaos Mesh documentation (chaos-mesh.org/docs: "Simulate Pod Faults",
//! "Simulate Network Faults", "Simulate Heavy Stress", "Simulate DNS Faults", "Define Scheduling
//! Rules", "Create Chaos Mesh Workflow"). Every struct keeps the keys it does not know in `rest`,
//! so the importer can refuse them by name instead of dropping them.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;
use serde::Deserialize;
use serde_json::Value;

/// Keys a struct does not model.
pub type Rest = BTreeMap<String, Value>;

/// The metadata the importer uses.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Metadata {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub namespace: Option<String>,
}

/// Which pods a chaos object selects (`spec.selector`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Selector {
    #[serde(default)]
    pub namespaces: Vec<String>,
    #[serde(default)]
    pub label_selectors: BTreeMap<String, String>,
    #[serde(default)]
    pub expression_selectors: Vec<LabelSelectorRequirement>,
    /// Pod names by namespace.
    #[serde(default)]
    pub pods: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub node_selectors: BTreeMap<String, String>,
    /// annotationSelectors, fieldSelectors, podPhaseSelectors, nodes: no Faultline equivalent.
    #[serde(flatten)]
    pub rest: Rest,
}

/// What every pod chaos kind shares: the selector, the mode and the duration.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Common {
    #[serde(default)]
    pub selector: Selector,
    /// one, all, fixed, fixed-percent or random-max-percent.
    #[serde(default)]
    pub mode: Option<String>,
    /// The number or percent of `mode`, as a string.
    #[serde(default)]
    pub value: Option<String>,
    /// A Go duration such as "30s"; unset, the chaos lasts until the object is deleted (or, for
    /// pod-kill and container-kill, acts once).
    #[serde(default)]
    pub duration: Option<String>,
}

/// PodChaos: pod-kill, pod-failure, container-kill.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodChaosSpec {
    pub action: String,
    #[serde(flatten)]
    pub common: Common,
    #[serde(default)]
    pub container_names: Vec<String>,
    #[serde(default)]
    pub grace_period: Option<i64>,
    #[serde(flatten)]
    pub rest: Rest,
}

/// NetworkChaos' delay block.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delay {
    pub latency: String,
    #[serde(default)]
    pub jitter: Option<String>,
    #[serde(default)]
    pub correlation: Option<String>,
    #[serde(flatten)]
    pub rest: Rest,
}

/// NetworkChaos' loss block.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Loss {
    pub loss: String,
    #[serde(default)]
    pub correlation: Option<String>,
    #[serde(flatten)]
    pub rest: Rest,
}

/// The other side of a NetworkChaos (`spec.target`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerPods {
    #[serde(default)]
    pub selector: Selector,
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
}

/// NetworkChaos: delay, loss, partition (and others the importer refuses).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkChaosSpec {
    pub action: String,
    #[serde(flatten)]
    pub common: Common,
    #[serde(default)]
    pub delay: Option<Delay>,
    #[serde(default)]
    pub loss: Option<Loss>,
    /// to (the default), from or both.
    #[serde(default)]
    pub direction: Option<String>,
    #[serde(default)]
    pub target: Option<PeerPods>,
    #[serde(default)]
    pub external_targets: Vec<String>,
    #[serde(flatten)]
    pub rest: Rest,
}

/// StressChaos' CPU stressor.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CpuStressor {
    pub workers: u32,
    /// Percent of one CPU each worker burns (default 100).
    #[serde(default)]
    pub load: Option<u32>,
    #[serde(flatten)]
    pub rest: Rest,
}

/// StressChaos' memory stressor.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemoryStressor {
    #[serde(default)]
    pub workers: Option<u32>,
    /// e.g. "256MB", "1GiB" or "25%".
    pub size: String,
    #[serde(flatten)]
    pub rest: Rest,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stressors {
    #[serde(default)]
    pub cpu: Option<CpuStressor>,
    #[serde(default)]
    pub memory: Option<MemoryStressor>,
    #[serde(flatten)]
    pub rest: Rest,
}

/// StressChaos: CPU and memory stressors in the target's containers.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StressChaosSpec {
    #[serde(flatten)]
    pub common: Common,
    #[serde(default)]
    pub stressors: Stressors,
    #[serde(default)]
    pub container_names: Vec<String>,
    #[serde(flatten)]
    pub rest: Rest,
}

/// DNSChaos: the selected pods' DNS lookups get an error or a random address.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DnsChaosSpec {
    /// error or random.
    pub action: String,
    #[serde(flatten)]
    pub common: Common,
    /// The names that fail: `*` at the end for any run of characters, `?` for one; none, every
    /// name.
    #[serde(default)]
    pub patterns: Vec<String>,
    #[serde(default)]
    pub container_names: Vec<String>,
    #[serde(flatten)]
    pub rest: Rest,
}

/// Schedule: a chaos spec run on a cron schedule.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleSpec {
    pub schedule: String,
    #[serde(default)]
    pub history_limit: Option<i32>,
    /// Forbid (the default) or Allow.
    #[serde(default)]
    pub concurrency_policy: Option<String>,
    #[serde(default)]
    pub starting_deadline_seconds: Option<i64>,
    /// The embedded chaos kind, e.g. NetworkChaos, whose spec is under networkChaos.
    #[serde(rename = "type")]
    pub chaos_type: String,
    #[serde(flatten)]
    pub rest: Rest,
}

/// One Workflow template: Serial or Parallel with children, or a chaos kind.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Template {
    pub name: String,
    pub template_type: String,
    /// For a chaos template, how long it runs.
    #[serde(default)]
    pub deadline: Option<String>,
    #[serde(default)]
    pub children: Vec<String>,
    /// The embedded chaos spec, read from the raw template by its kind.
    #[serde(flatten)]
    pub rest: Rest,
}

/// Workflow: templates, run from `entry`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowSpec {
    pub entry: String,
    pub templates: Vec<Template>,
    #[serde(flatten)]
    pub rest: Rest,
}
