//! The parameter block of each fault type: `spec.faults[].<type>`, for example
//! `workloadScale: {replicas: 0}`. A fault carries at most one block, the one its `type` names
//! (a CEL rule on [`super::Fault`] checks it). Adding a fault type adds its block here.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Duration;

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
    /// pod-network-latency's parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_latency: Option<NetworkLatencyParameters>,
    /// pod-network-loss's parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_loss: Option<NetworkLossParameters>,
    /// pod-network-partition's parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_partition: Option<NetworkPartitionParameters>,
    /// pod-dns-error's parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_error: Option<DnsErrorParameters>,
    /// container-kill's parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_kill: Option<ContainerKillParameters>,
    /// pod-cpu-hog's parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_hog: Option<CpuHogParameters>,
    /// pod-memory-hog's parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_hog: Option<MemoryHogParameters>,
    /// pod-io-stress's parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub io_stress: Option<IoStressParameters>,
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

/// Which way the shaped traffic flows, seen from the target pod.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Packets the target sends (the default).
    #[default]
    Egress,
    /// Packets the target receives.
    Ingress,
    /// Both.
    Both,
}

/// A transport protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
}

/// Which of the target's packets a network fault acts on. Every list left empty means "any";
/// the lists that are set must all match.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrafficSelection {
    /// egress (default), ingress or both.
    #[serde(default)]
    pub direction: Direction,
    /// Peer addresses or CIDRs, e.g. `10.96.0.0/12` or `10.244.0.7`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32))]
    pub destinations: Vec<String>,
    /// Peer Services, by name in the target's namespace or as `namespace/name`: their cluster IP
    /// and the addresses of their endpoints, read when the fault starts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub services: Vec<String>,
    /// Ports: a packet matches when its source or destination port is listed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub ports: Vec<u16>,
    /// tcp or udp (default: any; with `ports`, both).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
}

/// pod-network-latency: every selected packet is held for `latency` (± `jitter`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NetworkLatencyParameters {
    /// The delay added to each packet, e.g. `200ms`.
    pub latency: Duration,
    /// A uniform variation around the delay, e.g. `20ms` (default none); packets may reorder.
    #[serde(default = "zero")]
    pub jitter: Duration,
    #[serde(flatten)]
    pub traffic: TrafficSelection,
}

fn zero() -> Duration {
    Duration::from_secs(0)
}

/// pod-network-loss: each selected packet is dropped with probability `percent`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NetworkLossParameters {
    /// The share of packets dropped, 0 to 100.
    #[schemars(range(min = 0, max = 100))]
    pub percent: u8,
    #[serde(flatten)]
    pub traffic: TrafficSelection,
}

/// pod-network-partition: everything to or from the named peers is dropped.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPartitionParameters {
    /// Pods in the target's namespace cut off from the target, by label (their addresses when
    /// the fault starts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pods: Option<LabelSelector>,
    /// Namespaces whose pods are cut off from the target.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub namespaces: Vec<String>,
    #[serde(flatten)]
    pub traffic: TrafficSelection,
}

/// What a failed lookup looks like to the target.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DnsErrorMode {
    /// An immediate answer with RCODE REFUSED (the default): the lookup fails at once.
    #[default]
    Refuse,
    /// No answer: the lookup times out after the resolver's retries.
    Drop,
}

/// pod-dns-error: the target's DNS lookups (UDP and TCP port 53) fail.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DnsErrorParameters {
    /// refuse (default) or drop.
    #[serde(default)]
    pub mode: DnsErrorMode,
    /// Only names matching this pattern fail: a DNS name where `*` stands for any run of
    /// characters and `?` for one, e.g. `*.example.com`, `web.*` or `db-?.shop` (default: every
    /// name). Case-insensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    #[schemars(regex(pattern = DnsErrorParameters::PATTERN))]
    pub pattern: Option<String>,
}

impl DnsErrorParameters {
    /// What the CRD accepts as `pattern`.
    pub const PATTERN: &str = r"^[A-Za-z0-9_*?]([-A-Za-z0-9_.*?]*[A-Za-z0-9_*?])?\.?$";

    /// Whether `pattern` is one the CRD accepts, with what to fix when it is not.
    pub fn check_pattern(pattern: &str) -> Result<(), String> {
        static VALID: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
            regex::Regex::new(DnsErrorParameters::PATTERN).expect("the pattern compiles")
        });
        if pattern.len() > 253 || !VALID.is_match(pattern) {
            return Err(format!(
                "{pattern:?} is not a DNS name pattern: letters, digits, '-', '_' and '.', with '*' for any run of characters and '?' for one, at most 253 characters"
            ));
        }
        Ok(())
    }
}

/// The signals container-kill may send.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Signal {
    #[default]
    #[serde(rename = "SIGKILL")]
    Kill,
    #[serde(rename = "SIGTERM")]
    Term,
    #[serde(rename = "SIGINT")]
    Int,
    #[serde(rename = "SIGQUIT")]
    Quit,
    #[serde(rename = "SIGHUP")]
    Hup,
}

impl Signal {
    /// Its name, as the spec spells it ("SIGKILL").
    pub fn name(self) -> &'static str {
        match self {
            Signal::Kill => "SIGKILL",
            Signal::Term => "SIGTERM",
            Signal::Int => "SIGINT",
            Signal::Quit => "SIGQUIT",
            Signal::Hup => "SIGHUP",
        }
    }

    /// The signal's number.
    pub fn number(self) -> i32 {
        match self {
            Signal::Kill => libc::SIGKILL,
            Signal::Term => libc::SIGTERM,
            Signal::Int => libc::SIGINT,
            Signal::Quit => libc::SIGQUIT,
            Signal::Hup => libc::SIGHUP,
        }
    }
}

/// container-kill: which container of each target pod gets which signal.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContainerKillParameters {
    /// The container to signal; unset, every container of the pod (init containers excluded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub container: Option<String>,
    /// The signal sent to the container's main process (default SIGKILL).
    #[serde(default)]
    pub signal: Signal,
}

/// pod-cpu-hog: the CPU a hog process burns inside the target container's cgroup.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CpuHogParameters {
    /// The container whose cgroup the hog joins (default: the pod's first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub container: Option<String>,
    /// Cores to burn, as a CPU quantity: "1", "1.5", "500m". Give this or percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]{1,3})?|[0-9]+m)$"))]
    pub cores: Option<String>,
    /// A share of the container's CPU limit, 1 to 100. Give this or cores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub percent: Option<u32>,
}

/// pod-memory-hog: the memory a hog process fills inside the target container's cgroup.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemoryHogParameters {
    /// The container whose cgroup the hog joins (default: the pod's first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub container: Option<String>,
    /// MiB to fill. Give this or percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1048576))]
    pub mebibytes: Option<u64>,
    /// A share of the container's memory limit, 1 to 100 (100 reaches the limit: see
    /// docs/faults.md). Give this or mebibytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub percent: Option<u32>,
}

/// pod-io-stress: files a hog process writes, syncs and reads back without pause inside the
/// target container's filesystem, in its cgroups.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IoStressParameters {
    /// The container whose filesystem and cgroups the hog uses (default: the pod's first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub container: Option<String>,
    /// An absolute directory inside the container, in its own writable filesystem or an
    /// emptyDir volume (default /tmp). Must be writable by root without CAP_DAC_OVERRIDE, as
    /// /tmp and emptyDir volumes are.
    #[serde(default = "default_io_path")]
    #[schemars(length(min = 1, max = 1024), regex(pattern = r"^/"))]
    pub path: String,
    /// The size of each worker's file, in MiB (default 256).
    #[serde(default = "default_io_mebibytes")]
    #[schemars(range(min = 1, max = 65536))]
    pub mebibytes: u64,
    /// Parallel workers, each with its own file (default 1).
    #[serde(default = "default_io_workers")]
    #[schemars(range(min = 1, max = 8))]
    pub workers: u32,
}

fn default_io_path() -> String {
    "/tmp".into()
}

fn default_io_mebibytes() -> u64 {
    256
}

fn default_io_workers() -> u32 {
    1
}

impl Default for IoStressParameters {
    fn default() -> Self {
        IoStressParameters {
            container: None,
            path: default_io_path(),
            mebibytes: default_io_mebibytes(),
            workers: default_io_workers(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DnsErrorParameters;

    #[test]
    fn dns_patterns_take_names_with_star_and_question_mark_and_nothing_else() {
        for ok in [
            "web",
            "*.example.com",
            "github.*",
            "db-?.shop",
            "example.com.",
            "*",
        ] {
            assert_eq!(DnsErrorParameters::check_pattern(ok), Ok(()), "{ok}");
        }
        for bad in ["", "-web", "web-", "a b", "web/x", &"a".repeat(254)] {
            let err = DnsErrorParameters::check_pattern(bad).unwrap_err();
            assert!(err.contains("is not a DNS name pattern"), "{bad}: {err}");
        }
    }
}
