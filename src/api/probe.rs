//! ChaosProbe: a reusable health check, referenced by experiments or written inline.

// Each printcolumn(...) repeats `type_ = "string"`; clippy reads those as duplicated attributes.
#![allow(clippy::duplicated_attributes)]

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, LabelSelector};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{Comparator, Duration, conditions_schema};

/// The kind of check a probe runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProbeType {
    Http,
    K8s,
    Cmd,
    Prometheus,
}

impl ProbeType {
    pub fn as_str(&self) -> &'static str {
        match self {
            ProbeType::Http => "http",
            ProbeType::K8s => "k8s",
            ProbeType::Cmd => "cmd",
            ProbeType::Prometheus => "prometheus",
        }
    }
}

/// A health check: `type` names it, and exactly one block of that name configures it.
#[derive(CustomResource, KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "chaos.faultline.dev",
    version = "v1alpha1",
    kind = "ChaosProbe",
    namespaced,
    status = "ChaosProbeStatus",
    shortname = "cprobe",
    category = "chaos",
    printcolumn(name = "Type", type_ = "string", json_path = ".spec.type"),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[x_kube(
    validation = Rule::new("(has(self.http) ? 1 : 0) + (has(self.k8s) ? 1 : 0) + (has(self.cmd) ? 1 : 0) + (has(self.prometheus) ? 1 : 0) == 1").message("set exactly one probe block (http, k8s, cmd or prometheus), the one named by spec.type"),
    validation = Rule::new("self.type == 'http' ? has(self.http) : self.type == 'k8s' ? has(self.k8s) : self.type == 'cmd' ? has(self.cmd) : has(self.prometheus)").message("the probe block must match spec.type: type http needs an http block, k8s a k8s block, and so on"),
)]
#[serde(rename_all = "camelCase")]
pub struct ChaosProbeSpec {
    /// The kind of check: http, k8s, cmd or prometheus.
    #[serde(rename = "type")]
    pub probe_type: ProbeType,
    /// An HTTP request and what its response must look like.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpProbe>,
    /// A check on Kubernetes objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k8s: Option<K8sProbe>,
    /// A command run in a short-lived probe pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<CmdProbe>,
    /// A PromQL query whose single value is compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<PrometheusProbe>,
    /// How often and how patiently the probe is checked.
    #[serde(default)]
    pub run_properties: RunProperties,
}

impl ChaosProbeSpec {
    /// A k8s probe that the Deployments `name` or `selector` picks in `namespace` (default: the
    /// experiment's) are Available.
    pub fn deployments_available(
        name: Option<String>,
        selector: Option<LabelSelector>,
        namespace: Option<String>,
        run_properties: RunProperties,
    ) -> Self {
        ChaosProbeSpec {
            probe_type: ProbeType::K8s,
            http: None,
            k8s: Some(K8sProbe {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                name,
                selector,
                namespace,
                check: K8sCheck {
                    state: Some(K8sState::Available),
                    min_ready: None,
                    json_path: None,
                    comparator: None,
                },
            }),
            cmd: None,
            prometheus: None,
            run_properties,
        }
    }
}

/// An HTTP check.
#[derive(KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[x_kube(validation = Rule::new("!has(self.bodyMatches) || ''.matches(self.bodyMatches) || !''.matches(self.bodyMatches)").message("bodyMatches must be a valid regular expression"))]
#[serde(rename_all = "camelCase")]
pub struct HttpProbe {
    /// The URL to request, e.g. http://web.shop.svc.cluster.local/health.
    #[x_kube(validation = Rule::new("self.startsWith('http://') || self.startsWith('https://')").message("url must start with http:// or https://"))]
    #[schemars(length(min = 1, max = 2048))]
    pub url: String,
    /// The HTTP method.
    #[serde(default = "default_method")]
    pub method: String,
    /// Request headers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// A request body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Accepted status codes or ranges, such as "200" or "200-299".
    #[serde(default = "default_expected_status")]
    #[schemars(schema_with = "expected_status_schema")]
    pub expected_status: Vec<String>,
    /// A regular expression the response body must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 512))]
    pub body_matches: Option<String>,
    /// The slowest acceptable response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_latency: Option<Duration>,
    /// Accept any TLS certificate.
    #[serde(default)]
    pub insecure_skip_verify: bool,
}

fn default_method() -> String {
    "GET".into()
}

fn default_expected_status() -> Vec<String> {
    vec!["200".into()]
}

/// Status codes ("200") or ranges ("200-299"), at most 20.
fn expected_status_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "array",
        "maxItems": 20,
        "default": ["200"],
        "items": {"type": "string", "pattern": "^[1-5][0-9][0-9](-[1-5][0-9][0-9])?$"},
    })
}

/// What a k8s probe checks on the objects it finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum K8sState {
    /// At least one matching object exists.
    Present,
    /// No matching object exists.
    Absent,
    /// The workload is available as Kubernetes counts it, and its pods are Ready, terminating
    /// pods aside (docs/probes.md has the exact rule).
    Available,
}

/// Exactly one of `state`, `minReady` or `jsonPath` (with a comparator).
#[derive(KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[x_kube(
    validation = Rule::new("(has(self.state) ? 1 : 0) + (has(self.minReady) ? 1 : 0) + (has(self.jsonPath) ? 1 : 0) == 1").message("a k8s check sets exactly one of state (Present, Absent, Available), minReady or jsonPath"),
    validation = Rule::new("has(self.jsonPath) == has(self.comparator)").message("jsonPath and comparator go together"),
)]
#[serde(rename_all = "camelCase")]
pub struct K8sCheck {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<K8sState>,
    /// At least this many Ready pods (of the workload, or matching the selector).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub min_ready: Option<i32>,
    /// A JSONPath such as {.status.readyReplicas}, evaluated on each object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 512))]
    pub json_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparator: Option<Comparator>,
}

/// A check on Kubernetes objects found by name or selector.
#[derive(KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[x_kube(validation = Rule::new("has(self.name) != has(self.selector)").message("a k8s probe names its object with exactly one of name or selector"))]
#[serde(rename_all = "camelCase")]
pub struct K8sProbe {
    /// e.g. apps/v1 or v1.
    pub api_version: String,
    /// e.g. Deployment.
    pub kind: String,
    /// The object's name (or use selector).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
    /// Defaults to the experiment's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub check: K8sCheck,
}

/// What a cmd probe's command must produce.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CmdExpect {
    /// The exit code required (0 when neither this nor output is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// A comparison on the command's trimmed standard output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Comparator>,
}

/// A command run in a short-lived probe pod.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CmdProbe {
    /// The image to run (defaults to the operator's own image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The command to run (the container's entrypoint).
    #[schemars(length(min = 1))]
    pub command: Vec<String>,
    /// Its arguments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    #[serde(default)]
    pub expect: CmdExpect,
}

/// A PromQL query whose value is compared.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrometheusProbe {
    /// The Prometheus base URL, e.g. http://prometheus.monitoring:9090.
    pub endpoint: String,
    /// PromQL that yields a scalar or a single sample.
    pub query: String,
    pub comparator: Comparator,
}

/// How a probe is checked over time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunProperties {
    /// The deadline of one check.
    #[serde(default = "default_timeout")]
    pub timeout: Duration,
    /// Time between samples of Continuous and OnChaos probes, and between retries.
    #[serde(default = "default_interval")]
    pub interval: Duration,
    /// Extra attempts before a check counts as failed.
    #[serde(default)]
    #[schemars(range(min = 0, max = 100))]
    pub retries: u32,
    /// Wait this long before the first check.
    #[serde(default = "default_initial_delay")]
    pub initial_delay: Duration,
    /// End the run as soon as this probe fails.
    #[serde(default)]
    pub stop_on_failure: bool,
}

fn default_timeout() -> Duration {
    Duration::from_secs(5)
}

fn default_interval() -> Duration {
    Duration::from_secs(2)
}

fn default_initial_delay() -> Duration {
    Duration::from_secs(0)
}

impl Default for RunProperties {
    fn default() -> Self {
        RunProperties {
            timeout: default_timeout(),
            interval: default_interval(),
            retries: 0,
            initial_delay: default_initial_delay(),
            stop_on_failure: false,
        }
    }
}

/// ChaosProbe status: `Ready` says the spec is valid and its references resolve.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChaosProbeStatus {
    /// Standard conditions; `Ready` says the spec is valid.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Vec<Condition>,
    /// The generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}
