//! The parts of Litmus' `litmuschaos.io/v1alpha1` ChaosEngine and ChaosExperiment the importer
//! reads, as typed serde structs, following the Litmus documentation ("ChaosEngine" concepts
//! page, "Probes" page, and each experiment's page under docs.litmuschaos.io/docs/chaos-engineering
//! /...). Unknown keys are kept in `rest`, so the importer can refuse them by name.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

pub type Rest = BTreeMap<String, Value>;

/// `spec.appinfo`: the application under test.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct AppInfo {
    #[serde(default)]
    pub appns: Option<String>,
    /// A label selector string such as `app=nginx`.
    #[serde(default)]
    pub applabel: Option<String>,
    /// deployment, statefulset, daemonset, replicaset, ...
    #[serde(default)]
    pub appkind: Option<String>,
}

/// One `name`/`value` environment entry.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct EnvVar {
    pub name: String,
    #[serde(default)]
    pub value: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Components {
    #[serde(default)]
    pub env: Vec<EnvVar>,
    #[serde(flatten)]
    pub rest: Rest,
}

/// One probe of an engine's experiment. The inputs live under a key named after the type
/// (`httpProbe/inputs`, ...), read from `rest`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    pub name: String,
    #[serde(rename = "type")]
    pub probe_type: String,
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub run_properties: Option<Value>,
    #[serde(flatten)]
    pub rest: Rest,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct ExperimentSpec {
    #[serde(default)]
    pub components: Components,
    #[serde(default)]
    pub probe: Vec<Probe>,
    #[serde(flatten)]
    pub rest: Rest,
}

/// One entry of `spec.experiments`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct EngineExperiment {
    pub name: String,
    #[serde(default)]
    pub spec: ExperimentSpec,
}

/// ChaosEngine's spec.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EngineSpec {
    #[serde(default)]
    pub appinfo: AppInfo,
    #[serde(default)]
    pub experiments: Vec<EngineExperiment>,
    /// active or stop.
    #[serde(default)]
    pub engine_state: Option<String>,
    #[serde(flatten)]
    pub rest: Rest,
}

/// A Litmus ChaosExperiment CR's `spec.definition`: its default environment.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Definition {
    #[serde(default)]
    pub env: Vec<EnvVar>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct ExperimentCrSpec {
    #[serde(default)]
    pub definition: Definition,
}
