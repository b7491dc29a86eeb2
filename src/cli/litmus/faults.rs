//! A Litmus experiment and its env tunables to a Faultline fault. Each experiment reads the
//! tunables it knows through [`Env::take`]; any left over are refused by name, except the ones
//! that only choose how Litmus runs its helper pods, which are noted as ignored.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::api::Fault;
use crate::cli::findings::{Findings, Origin};

/// Tunables that choose how Litmus runs its helpers, not what the fault does.
const RUNTIME_ONLY: &[&str] = &[
    "LIB",
    "LIB_IMAGE",
    "RAMP_TIME",
    "DEFAULT_HEALTH_CHECK",
    "CHAOS_NAMESPACE",
    "SOCKET_PATH",
    "CONTAINER_RUNTIME",
    "TC_IMAGE",
    "NETWORK_INTERFACE",
    "STRESS_IMAGE",
    "SEQUENCE",
    "NODES_AFFECTED_PERC",
    "TARGET_CONTAINER_NAME",
];

/// The experiment's environment: the ChaosExperiment CR's defaults, overridden by the engine.
pub struct Env {
    values: BTreeMap<String, String>,
}

impl Env {
    pub fn new(values: BTreeMap<String, String>) -> Self {
        Env { values }
    }

    /// The tunable's value, if set and not empty; it counts as converted.
    pub fn take(&mut self, name: &str) -> Option<String> {
        self.values.remove(name).filter(|v| !v.trim().is_empty())
    }

    /// Whole seconds as a Faultline duration.
    fn seconds(&mut self, name: &str, origin: &Origin, found: &mut Findings) -> Option<Value> {
        let text = self.take(name)?;
        match text.trim().parse::<u64>() {
            Ok(s) => Some(json!(format!("{s}s"))),
            Err(_) => {
                found.refuse(
                    origin,
                    name,
                    format!("{text:?} is not a whole number of seconds"),
                );
                None
            }
        }
    }

    fn number(&mut self, name: &str, origin: &Origin, found: &mut Findings) -> Option<u64> {
        let text = self.take(name)?;
        text.trim()
            .parse::<u64>()
            .map_err(|_| found.refuse(origin, name, format!("{text:?} is not a whole number")))
            .ok()
    }

    /// Refuses (or, for runtime-only tunables, notes) what no conversion took.
    pub fn finish(self, origin: &Origin, found: &mut Findings) {
        for (name, value) in self.values {
            if value.trim().is_empty() {
                continue;
            }
            if RUNTIME_ONLY.contains(&name.as_str()) {
                found.note(origin, format!("{name}={value} is ignored: it chooses how Litmus runs its helper, and Faultline runs its own fault pod"));
            } else {
                found.refuse(
                    origin,
                    &name,
                    "is a tunable Faultline does not convert for this experiment",
                );
            }
        }
    }
}

/// Every Litmus experiment the importer converts, and the Faultline fault type it becomes.
pub const EXPERIMENTS: &[(&str, &str)] = &[
    ("pod-delete", "pod-delete"),
    ("container-kill", "container-kill"),
    ("pod-cpu-hog", "pod-cpu-hog"),
    ("pod-memory-hog", "pod-memory-hog"),
    ("pod-io-stress", "pod-io-stress"),
    ("pod-network-latency", "pod-network-latency"),
    ("pod-network-loss", "pod-network-loss"),
    ("pod-network-partition", "pod-network-partition"),
    ("pod-dns-error", "pod-dns-error"),
    ("node-drain", "node-drain"),
    ("node-taint", "node-taint"),
    ("pod-autoscaler", "workload-scale"),
];

/// The fault for experiment `name`, with `target` (the appinfo's) and the env tunables.
pub fn fault(
    name: &str,
    target: Value,
    appkind: Option<&str>,
    env: &mut Env,
    origin: &Origin,
    found: &mut Findings,
) -> Option<Fault> {
    let Some((_, fault_type)) = EXPERIMENTS.iter().find(|(n, _)| *n == name) else {
        let reason = if ["aws", "gcp", "azure", "vmware", "ec2", "ebs", "gce", "vm-"]
            .iter()
            .any(|p| name.contains(p))
        {
            "is a cloud or VM fault; Faultline acts on Kubernetes objects only"
        } else {
            "is not a Litmus experiment Faultline converts (pod-delete, container-kill, pod-cpu-hog, pod-memory-hog, pod-io-stress, pod-network-latency, pod-network-loss, pod-network-partition, pod-dns-error, node-drain, node-taint, pod-autoscaler)"
        };
        found.refuse(origin, name, reason);
        return None;
    };
    let mut fault = json!({"name": origin.name, "type": fault_type, "target": target});
    if let Some(d) = env.seconds("TOTAL_CHAOS_DURATION", origin, found) {
        fault["duration"] = d;
    }
    if let Some(i) = env.seconds("CHAOS_INTERVAL", origin, found) {
        fault["interval"] = i;
    }
    pods_affected(&mut fault, env, origin, found);
    if name == "pod-autoscaler" {
        workload_target(&mut fault, appkind, origin, found);
    }
    let (block, parameters) = parameters(name, &mut fault, env, origin, found);
    if !parameters.is_empty() {
        fault[block] = Value::Object(parameters);
    }
    serde_json::from_value(fault)
        .map_err(|e| {
            found.refuse(
                origin,
                name,
                format!("does not convert to a valid fault: {e}"),
            )
        })
        .ok()
}

/// PODS_AFFECTED_PERC and TARGET_PODS into the target.
fn pods_affected(fault: &mut Value, env: &mut Env, origin: &Origin, found: &mut Findings) {
    if let Some(percent) = env
        .number("PODS_AFFECTED_PERC", origin, found)
        .filter(|p| *p > 0)
    {
        fault["target"]["mode"] = json!("percent");
        fault["target"]["value"] = json!(percent.min(100));
    }
    if let Some(pods) = env.take("TARGET_PODS") {
        let names: Vec<String> = pods.split(',').map(|p| regex::escape(p.trim())).collect();
        fault["target"]["namePattern"] = json!(format!("^({})$", names.join("|")));
        fault["target"]["mode"] = json!("all");
    }
}

/// The fault type's parameter block: its name and fields.
fn parameters(
    name: &str,
    fault: &mut Value,
    env: &mut Env,
    origin: &Origin,
    found: &mut Findings,
) -> (&'static str, Map<String, Value>) {
    let mut p = Map::new();
    let mut set = |key: &str, value: Option<Value>| {
        if let Some(v) = value {
            p.insert(key.to_owned(), v);
        }
    };
    let block = match name {
        "pod-delete" => {
            set("force", env.take("FORCE").map(|f| json!(f == "true")));
            "podDelete"
        }
        "container-kill" => {
            set("container", env.take("TARGET_CONTAINER").map(Value::from));
            set("signal", env.take("SIGNAL").map(Value::from));
            "containerKill"
        }
        "pod-cpu-hog" => {
            cpu(&mut set, env, origin, found);
            "cpuHog"
        }
        "pod-memory-hog" => {
            set("container", env.take("TARGET_CONTAINER").map(Value::from));
            let mib = env
                .number("MEMORY_CONSUMPTION", origin, found)
                .unwrap_or(500);
            set("mebibytes", Some(json!(mib)));
            workers_note(env, origin, found);
            "memoryHog"
        }
        "pod-io-stress" => {
            io(&mut set, env, origin, found);
            "ioStress"
        }
        "pod-network-latency" | "pod-network-loss" | "pod-network-partition" => {
            return network(name, env, origin, found);
        }
        "pod-dns-error" => {
            dns(&mut set, env, origin, found);
            "dnsError"
        }
        "node-drain" | "node-taint" => {
            node_target(fault, env, origin, found);
            if name == "node-taint" {
                taint(&mut set, env, origin, found);
                "nodeTaint"
            } else {
                "nodeDrain"
            }
        }
        "pod-autoscaler" => {
            set(
                "replicas",
                env.number("REPLICA_COUNT", origin, found).map(|r| json!(r)),
            );
            "workloadScale"
        }
        _ => "",
    };
    (block, p)
}

fn workers_note(env: &mut Env, origin: &Origin, found: &mut Findings) {
    if let Some(w) = env.take("NUMBER_OF_WORKERS") {
        found.note(
            origin,
            format!("NUMBER_OF_WORKERS={w}: Faultline runs one hog process"),
        );
    }
}

fn cpu(
    set: &mut impl FnMut(&str, Option<Value>),
    env: &mut Env,
    origin: &Origin,
    found: &mut Findings,
) {
    set("container", env.take("TARGET_CONTAINER").map(Value::from));
    let cores = env.number("CPU_CORES", origin, found).unwrap_or(1).max(1);
    let load = env
        .number("CPU_LOAD", origin, found)
        .unwrap_or(100)
        .clamp(1, 100);
    let millicores = cores * load * 10;
    let text = crate::cli::findings::cpu_quantity(millicores);
    if load != 100 {
        found.note(
            origin,
            format!("CPU_CORES={cores} at CPU_LOAD={load}% become one hog burning {text} core(s)"),
        );
    }
    set("cores", Some(json!(text)));
}

fn io(
    set: &mut impl FnMut(&str, Option<Value>),
    env: &mut Env,
    origin: &Origin,
    found: &mut Findings,
) {
    set("container", env.take("TARGET_CONTAINER").map(Value::from));
    let gigabytes = env.number("FILESYSTEM_UTILIZATION_BYTES", origin, found);
    if env.take("FILESYSTEM_UTILIZATION_PERCENTAGE").is_some() && gigabytes.is_none() {
        found.refuse(
            origin,
            "FILESYSTEM_UTILIZATION_PERCENTAGE",
            "Faultline's io-stress takes a size: set FILESYSTEM_UTILIZATION_BYTES (GB) instead",
        );
    }
    set("mebibytes", Some(json!(gigabytes.unwrap_or(1) * 1024)));
    set(
        "path",
        Some(json!(
            env.take("VOLUME_MOUNT_PATH")
                .unwrap_or_else(|| "/tmp".into())
        )),
    );
    set(
        "workers",
        env.number("NUMBER_OF_WORKERS", origin, found)
            .map(|w| json!(w)),
    );
}

/// The network experiments: latency, loss and partition, with their destinations.
fn network(
    name: &str,
    env: &mut Env,
    origin: &Origin,
    found: &mut Findings,
) -> (&'static str, Map<String, Value>) {
    let mut p = Map::new();
    if let Some(ips) = env.take("DESTINATION_IPS") {
        let list: Vec<&str> = ips
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        p.insert("destinations".into(), json!(list));
    }
    if let Some(hosts) = env.take("DESTINATION_HOSTS") {
        found.refuse(origin, "DESTINATION_HOSTS", format!("{hosts:?}: Faultline selects peers by address (DESTINATION_IPS) or by Service, not by host name"));
    }
    let block = match name {
        "pod-network-latency" => {
            let ms = env.number("NETWORK_LATENCY", origin, found).unwrap_or(2000);
            p.insert("latency".into(), json!(format!("{ms}ms")));
            if let Some(j) = env.number("JITTER", origin, found).filter(|j| *j > 0) {
                p.insert("jitter".into(), json!(format!("{j}ms")));
            }
            "networkLatency"
        }
        "pod-network-loss" => {
            let percent = env
                .number("NETWORK_PACKET_LOSS_PERCENTAGE", origin, found)
                .unwrap_or(100);
            p.insert("percent".into(), json!(percent.min(100)));
            "networkLoss"
        }
        _ => {
            partition(&mut p, env, origin, found);
            "networkPartition"
        }
    };
    (block, p)
}

fn partition(p: &mut Map<String, Value>, env: &mut Env, origin: &Origin, found: &mut Findings) {
    match env.take("POLICY_TYPES").as_deref() {
        None | Some("all") => p.insert("direction".into(), json!("both")),
        Some("ingress") => p.insert("direction".into(), json!("ingress")),
        Some("egress") => p.insert("direction".into(), json!("egress")),
        Some(other) => {
            found.refuse(
                origin,
                "POLICY_TYPES",
                format!("{other:?} is not ingress, egress or all"),
            );
            None
        }
    };
    if let Some(selector) = env.take("POD_SELECTOR") {
        match crate::cli::chaostoolkit::parse_label_selector(&selector) {
            Ok(s) => {
                p.insert("pods".into(), json!(s));
            }
            Err(e) => found.refuse(origin, "POD_SELECTOR", e),
        }
    }
    if let Some(namespaces) = env.take("NAMESPACE_SELECTOR") {
        found.refuse(origin, "NAMESPACE_SELECTOR", format!("{namespaces:?} selects namespaces by label; Faultline's partition names namespaces (networkPartition.namespaces)"));
    }
    if let Some(ports) = env.take("PORTS") {
        found.refuse(
            origin,
            "PORTS",
            format!(
                "{ports:?}: the partition cuts all ports; a port-scoped partition is not converted"
            ),
        );
    }
}

fn dns(
    set: &mut impl FnMut(&str, Option<Value>),
    env: &mut Env,
    origin: &Origin,
    found: &mut Findings,
) {
    let substring = match env.take("MATCH_SCHEME").as_deref() {
        None | Some("exact") => false,
        Some("substring") => true,
        Some(other) => {
            found.refuse(
                origin,
                "MATCH_SCHEME",
                format!("{other:?} is not exact or substring"),
            );
            false
        }
    };
    let Some(hosts) = env.take("TARGET_HOSTNAMES") else {
        return;
    };
    let list: Vec<String> = serde_json::from_str(&hosts)
        .unwrap_or_else(|_| hosts.split(',').map(|h| h.trim().to_owned()).collect());
    let pattern = match list.as_slice() {
        [] => return,
        [one] if substring => format!("*{one}*"),
        [one] => one.clone(),
        _ => return found.refuse(origin, "TARGET_HOSTNAMES", "names several hosts; Faultline's pod-dns-error takes one pattern: import one copy per host"),
    };
    match crate::api::DnsErrorParameters::check_pattern(&pattern) {
        Ok(()) => set("pattern", Some(json!(pattern))),
        Err(e) => found.refuse(origin, "TARGET_HOSTNAMES", e),
    }
}

/// TARGET_NODE or NODE_LABEL as a Node target.
fn node_target(fault: &mut Value, env: &mut Env, origin: &Origin, found: &mut Findings) {
    let mut target = json!({"kind": "Node"});
    if let Some(node) = env.take("TARGET_NODE") {
        target["name"] = json!(node);
    } else if let Some(label) = env.take("NODE_LABEL") {
        match crate::cli::chaostoolkit::parse_label_selector(&label) {
            Ok(s) => target["selector"] = json!(s),
            Err(e) => found.refuse(origin, "NODE_LABEL", e),
        }
    } else {
        found.refuse(
            origin,
            "TARGET_NODE",
            "a node fault needs TARGET_NODE or NODE_LABEL",
        );
    }
    fault["target"] = target;
}

fn taint(
    set: &mut impl FnMut(&str, Option<Value>),
    env: &mut Env,
    origin: &Origin,
    found: &mut Findings,
) {
    let Some(taints) = env.take("TAINTS") else {
        return found.refuse(
            origin,
            "TAINTS",
            "node-taint needs TAINTS, e.g. key=value:NoSchedule",
        );
    };
    let (pair, effect) = taints
        .split_once(':')
        .unwrap_or((taints.as_str(), "NoSchedule"));
    let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
    set("key", Some(json!(key.trim())));
    set("value", Some(json!(value.trim())));
    set("effect", Some(json!(effect.trim())));
}

/// pod-autoscaler scales the workload itself: a workload target by the same labels.
fn workload_target(
    fault: &mut Value,
    appkind: Option<&str>,
    origin: &Origin,
    found: &mut Findings,
) {
    let kind = match appkind
        .unwrap_or("deployment")
        .to_ascii_lowercase()
        .as_str()
    {
        "deployment" => "Deployment",
        "statefulset" => "StatefulSet",
        "replicaset" => "ReplicaSet",
        other => {
            found.refuse(
                origin,
                "appinfo.appkind",
                format!("{other:?}: pod-autoscaler scales a deployment, statefulset or replicaset"),
            );
            "Deployment"
        }
    };
    fault["target"]["kind"] = json!(kind);
    found.note(origin, format!("pod-autoscaler scales the {kind}s whose own labels match applabel (Litmus finds them through their pods)"));
}
