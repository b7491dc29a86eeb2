//! The parameter block of each fault type: `spec.faults[].<type>`, for example
//! `workloadScale: {replicas: 0}`. A fault carries at most one block, the one its `type` names
//! (a CEL rule on [`super::Fault`] checks it). Adding a fault type adds its block here.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Every type's parameter block; a fault sets at most the one its type names.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FaultParameters {
    /// pod-delete's parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_delete: Option<PodDeleteParameters>,
    /// workload-scale's parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_scale: Option<WorkloadScaleParameters>,
    /// node-cordon's parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_cordon: Option<NodeCordonParameters>,
    /// node-drain's parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_drain: Option<NodeDrainParameters>,
    /// node-taint's parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_taint: Option<NodeTaintParameters>,
}

/// pod-delete: how target pods are deleted.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PodDeleteParameters {
    /// The deleted pod's grace period (default: the pod's own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub grace_period_seconds: Option<i64>,
    /// Delete at once, with a grace period of 0.
    #[serde(default)]
    pub force: bool,
}

/// workload-scale: the replica count the target workloads hold for the fault's duration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadScaleParameters {
    /// The replica count during the fault (default 0).
    #[serde(default)]
    #[schemars(range(min = 0, max = 1000))]
    pub replicas: i32,
}

/// node-cordon has no knobs: it marks the target nodes unschedulable for the duration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NodeCordonParameters {}

/// node-drain: how the node's pods are evicted.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeDrainParameters {
    /// The grace period given to each evicted pod (default: the pod's own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub grace_period_seconds: Option<i64>,
}

/// The effect of a taint, as Kubernetes defines them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum TaintEffect {
    #[default]
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

impl TaintEffect {
    pub fn as_str(&self) -> &'static str {
        match self {
            TaintEffect::NoSchedule => "NoSchedule",
            TaintEffect::PreferNoSchedule => "PreferNoSchedule",
            TaintEffect::NoExecute => "NoExecute",
        }
    }
}

/// node-taint: the taint added to the target nodes for the duration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeTaintParameters {
    /// The taint's key, a qualified name such as `chaos.faultline.dev/fault`.
    #[schemars(length(min = 1, max = 253))]
    #[schemars(regex(
        pattern = r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
    ))]
    pub key: String,
    /// The taint's value (may be empty).
    #[serde(default)]
    #[schemars(length(max = 63))]
    pub value: String,
    /// NoSchedule (default), PreferNoSchedule or NoExecute (which evicts pods without a toleration).
    #[serde(default)]
    pub effect: TaintEffect,
}
