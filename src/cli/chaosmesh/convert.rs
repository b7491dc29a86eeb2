//! One Chaos Mesh chaos spec to Faultline faults: the selector and mode to a target, each action
//! to its fault type. What has no equivalent is refused through [`Findings::refuse`]; what is
//! close but not the same is said through [`Findings::note`].

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::model::{
    Common, Delay, DnsChaosSpec, NetworkChaosSpec, PodChaosSpec, Selector, StressChaosSpec,
};
use crate::api::{
    ContainerKillParameters, CpuHogParameters, Direction, DnsErrorMode, DnsErrorParameters,
    Duration, Fault, FaultParameters, FaultType, MemoryHogParameters, NetworkLatencyParameters,
    NetworkLossParameters, NetworkPartitionParameters, PodDeleteParameters, Target, TargetKind,
    TargetMode, TrafficSelection,
};
pub use crate::cli::findings::{Findings, Origin};

/// How long a sustained fault lasts when its chaos object has no duration (Chaos Mesh keeps it
/// until the object is deleted).
const DEFAULT_DURATION: Duration = Duration::from_secs(30);
/// pod-kill and container-kill without a duration act once: one interval as long as the run.
const ONE_SHOT: Duration = Duration::from_secs(10);

/// A fault of `fault_type` on `target`, for `duration`.
fn fault(origin: &Origin, fault_type: FaultType, target: Target, duration: Duration) -> Fault {
    Fault {
        name: origin.name.clone(),
        fault_type,
        weight: 10,
        target,
        duration,
        interval: Duration::from_secs(10),
        parameters: FaultParameters::default(),
        probes: Vec::new(),
    }
}

/// The chaos' duration, or `fallback` with a note when it has none.
fn duration(
    common: &Common,
    origin: &Origin,
    found: &mut Findings,
    fallback: Duration,
) -> Duration {
    match common.duration.as_deref().map(str::parse::<Duration>) {
        Some(Ok(d)) => d,
        Some(Err(e)) => {
            found.refuse(origin, "duration", format!("is not a duration: {e}"));
            fallback
        }
        None => fallback,
    }
}

/// Chaos Mesh's `mode` and `value` as a target mode.
pub(crate) fn mode(
    mode: Option<&str>,
    value: Option<&str>,
    origin: &Origin,
    found: &mut Findings,
) -> (TargetMode, Option<i32>) {
    let number = |found: &mut Findings| match value.map(|v| (v, v.trim().parse::<i32>())) {
        Some((_, Ok(n))) if n >= 1 => Some(n),
        Some((v, _)) => {
            let reason = format!("{v:?} is not a positive whole number");
            found.refuse(origin, "value", reason);
            None
        }
        None => {
            let reason = format!(
                "is missing: mode {} needs the number or percent of pods",
                mode.unwrap_or_default()
            );
            found.refuse(origin, "value", reason);
            None
        }
    };
    match mode.unwrap_or("one") {
        "one" => (TargetMode::One, None),
        "all" => (TargetMode::All, None),
        "fixed" => (TargetMode::Fixed, number(found)),
        "fixed-percent" => (TargetMode::Percent, number(found).map(|n| n.min(100))),
        "random-max-percent" => {
            let n = number(found).map(|n| n.min(100));
            found.note(
                origin,
                format!(
                    "mode random-max-percent picks a random share of up to {}% of the pods; Faultline acts on exactly that share (mode percent)",
                    n.unwrap_or(0)
                ),
            );
            (TargetMode::Percent, n)
        }
        other => {
            found.refuse(
                origin,
                "mode",
                format!("{other:?} is not a Chaos Mesh mode (one, all, fixed, fixed-percent, random-max-percent)"),
            );
            (TargetMode::One, None)
        }
    }
}

/// A regular expression matching exactly the given pod names.
fn names_pattern(names: &[String]) -> String {
    let escaped: Vec<String> = names.iter().map(|n| regex::escape(n)).collect();
    format!("^({})$", escaped.join("|"))
}

/// The single namespace a selector names, or `origin.namespace` when it names none.
pub(crate) fn namespace(selector: &Selector, origin: &Origin, found: &mut Findings) -> String {
    let mut namespaces: Vec<&String> = selector.namespaces.iter().collect();
    namespaces.extend(selector.pods.keys());
    namespaces.sort();
    namespaces.dedup();
    match namespaces.as_slice() {
        [] => origin.namespace.clone(),
        [one] => (*one).clone(),
        _ => {
            found.refuse(
                origin,
                "selector.namespaces",
                "selects pods in several namespaces; a Faultline fault targets one: import one copy per namespace",
            );
            origin.namespace.clone()
        }
    }
}

/// The label selector of a Chaos Mesh selector, if it has labels or expressions.
fn labels(selector: &Selector) -> Option<LabelSelector> {
    let empty = selector.label_selectors.is_empty() && selector.expression_selectors.is_empty();
    (!empty).then(|| LabelSelector {
        match_labels: (!selector.label_selectors.is_empty())
            .then(|| selector.label_selectors.clone()),
        match_expressions: (!selector.expression_selectors.is_empty())
            .then(|| selector.expression_selectors.clone()),
    })
}

/// The target of a chaos spec: its selector's pods, namespace and nodes, and its mode.
pub fn target(common: &Common, origin: &Origin, found: &mut Findings) -> Target {
    let selector = &common.selector;
    found.refuse_rest(origin, "selector.", &selector.rest);
    let namespace = namespace(selector, origin, found);
    let names: Vec<String> = selector.pods.values().flatten().cloned().collect();
    let (name, name_pattern) = match names.as_slice() {
        [] => (None, None),
        [one] => (Some(one.clone()), None),
        many => (None, Some(names_pattern(many))),
    };
    let (mode, value) = mode(
        common.mode.as_deref(),
        common.value.as_deref(),
        origin,
        found,
    );
    Target {
        namespace: (namespace != origin.namespace).then_some(namespace),
        kind: TargetKind::Pod,
        name,
        selector: labels(selector),
        name_pattern,
        mode,
        value,
        random: true,
        node_selector: (!selector.node_selectors.is_empty())
            .then(|| selector.node_selectors.clone()),
        max_percent: 100,
        min_healthy: None,
    }
}

/// The single container a chaos names, if any.
pub(crate) fn container(names: &[String], origin: &Origin, found: &mut Findings) -> Option<String> {
    match names {
        [] => None,
        [one] => Some(one.clone()),
        _ => {
            found.refuse(
                origin,
                "containerNames",
                "names several containers; a Faultline fault acts on one: import one copy per container",
            );
            None
        }
    }
}

/// PodChaos: pod-kill to pod-delete, container-kill to container-kill.
pub fn pod_chaos(spec: &PodChaosSpec, origin: &Origin, found: &mut Findings) -> Vec<Fault> {
    found.refuse_rest(origin, "", &spec.rest);
    let target = target(&spec.common, origin, found);
    let once = spec.common.duration.is_none();
    if once && spec.action != "pod-failure" {
        found.note(
            origin,
            format!(
                "{} without a duration acts once: duration and interval are both {ONE_SHOT}",
                spec.action
            ),
        );
    }
    let duration = duration(&spec.common, origin, found, ONE_SHOT);
    let mut fault = match spec.action.as_str() {
        "pod-kill" => {
            let mut f = fault(origin, FaultType::PodDelete, target, duration);
            f.parameters.pod_delete = Some(PodDeleteParameters {
                grace_period_seconds: spec.grace_period,
                force: false,
            });
            f
        }
        "container-kill" => {
            let mut f = fault(origin, FaultType::ContainerKill, target, duration);
            f.parameters.container_kill = Some(ContainerKillParameters {
                container: container(&spec.container_names, origin, found),
                ..ContainerKillParameters::default()
            });
            f
        }
        "pod-failure" => {
            found.refuse(origin, "pod-failure", "Faultline has no fault that swaps a pod's containers for pause containers; pod-delete or container-kill are the closest");
            return Vec::new();
        }
        other => {
            found.refuse(
                origin,
                other,
                "is not a PodChaos action Faultline knows (pod-kill, container-kill)",
            );
            return Vec::new();
        }
    };
    if once {
        fault.interval = fault.duration;
    }
    vec![fault]
}

/// Chaos Mesh's `direction` as a traffic direction.
pub(crate) fn direction(value: Option<&str>, origin: &Origin, found: &mut Findings) -> Direction {
    match value.unwrap_or("to") {
        "to" => Direction::Egress,
        "from" => Direction::Ingress,
        "both" => Direction::Both,
        other => {
            found.refuse(
                origin,
                "direction",
                format!("{other:?} is not to, from or both"),
            );
            Direction::Egress
        }
    }
}

/// The addresses of `externalTargets`; host names are refused (Faultline takes addresses).
pub(crate) fn destinations(peers: &[String], origin: &Origin, found: &mut Findings) -> Vec<String> {
    let mut out = Vec::new();
    for peer in peers {
        let address = peer.split('/').next().unwrap_or(peer);
        if address.parse::<std::net::IpAddr>().is_ok() {
            out.push(peer.clone());
        } else {
            found.refuse(origin, "externalTargets", format!("{peer:?} is a host name; Faultline selects peers by address or CIDR (destinations) or by Service (services)"));
        }
    }
    out
}

/// A Chaos Mesh correlation, noted when set: Faultline's network faults have none.
pub(crate) fn correlation(value: Option<&str>, origin: &Origin, found: &mut Findings) {
    if let Some(c) = value.filter(|c| c.trim() != "0" && !c.trim().is_empty()) {
        found.note(
            origin,
            format!("correlation {c}% is dropped: Faultline draws each packet independently"),
        );
    }
}

/// NetworkChaos: delay, loss and partition.
pub fn network_chaos(spec: &NetworkChaosSpec, origin: &Origin, found: &mut Findings) -> Vec<Fault> {
    // The block named after an action Faultline lacks is refused with the action.
    let mut rest = spec.rest.clone();
    rest.remove(&spec.action);
    found.refuse_rest(origin, "", &rest);
    let target = target(&spec.common, origin, found);
    if spec.common.duration.is_none() {
        found.note(origin, format!("no duration: Chaos Mesh keeps it until the object is deleted; the fault lasts {DEFAULT_DURATION}"));
    }
    let duration = duration(&spec.common, origin, found, DEFAULT_DURATION);
    let traffic = TrafficSelection {
        direction: direction(spec.direction.as_deref(), origin, found),
        destinations: destinations(&spec.external_targets, origin, found),
        ..TrafficSelection::default()
    };
    if spec.action != "partition" && spec.target.is_some() {
        found.refuse(origin, "target", "a delay or loss towards selected pods; Faultline selects the affected peers by address (destinations) or Service (services)");
    }
    let fault = match spec.action.as_str() {
        "delay" => {
            let Some(delay) = &spec.delay else {
                found.refuse(origin, "delay", "action delay needs a delay block");
                return Vec::new();
            };
            let mut f = fault(origin, FaultType::PodNetworkLatency, target, duration);
            f.parameters.network_latency = latency(delay, traffic, origin, found);
            f
        }
        "loss" => {
            let Some(loss) = &spec.loss else {
                found.refuse(origin, "loss", "action loss needs a loss block");
                return Vec::new();
            };
            found.refuse_rest(origin, "loss.", &loss.rest);
            correlation(loss.correlation.as_deref(), origin, found);
            let percent = match loss.loss.trim().parse::<f64>() {
                Ok(p) if (0.0..=100.0).contains(&p) => {
                    if p.fract() != 0.0 {
                        found.note(origin, format!("loss {p}% is rounded to {}%", p.round()));
                    }
                    p.round() as u8
                }
                _ => {
                    found.refuse(
                        origin,
                        "loss",
                        format!("{:?} is not a percent between 0 and 100", loss.loss),
                    );
                    0
                }
            };
            let mut f = fault(origin, FaultType::PodNetworkLoss, target, duration);
            f.parameters.network_loss = Some(NetworkLossParameters { percent, traffic });
            f
        }
        "partition" => {
            let mut f = fault(origin, FaultType::PodNetworkPartition, target, duration);
            f.parameters.network_partition = partition(spec, traffic, origin, found);
            f
        }
        other => {
            found.refuse(origin, other, "is not a NetworkChaos action Faultline has (delay, loss, partition); it has no bandwidth, duplicate, corrupt or netem fault");
            return Vec::new();
        }
    };
    vec![fault]
}

/// DNSChaos: action error to pod-dns-error, on one pattern or every name.
pub fn dns_chaos(spec: &DnsChaosSpec, origin: &Origin, found: &mut Findings) -> Vec<Fault> {
    found.refuse_rest(origin, "", &spec.rest);
    let target = target(&spec.common, origin, found);
    if spec.common.duration.is_none() {
        found.note(origin, format!("no duration: Chaos Mesh keeps it until the object is deleted; the fault lasts {DEFAULT_DURATION}"));
    }
    let duration = duration(&spec.common, origin, found, DEFAULT_DURATION);
    match spec.action.as_str() {
        "error" => {}
        "random" => {
            found.refuse(origin, "random", "Faultline's pod-dns-error makes lookups fail; it has no fault that answers with random addresses");
            return Vec::new();
        }
        other => {
            found.refuse(origin, other, "is not a DNSChaos action (error, random)");
            return Vec::new();
        }
    }
    let pattern = match spec.patterns.as_slice() {
        [] => None,
        [one] => DnsErrorParameters::check_pattern(one)
            .map_err(|e| found.refuse(origin, "patterns", e))
            .ok()
            .map(|()| one.clone()),
        _ => {
            found.refuse(origin, "patterns", "names several patterns; Faultline's pod-dns-error takes one: import one copy per pattern");
            None
        }
    };
    if !spec.container_names.is_empty() {
        found.note(origin, "containerNames is dropped: the lookups of every container of the pod fail, as they share one network");
    }
    found.note(origin, "Chaos Mesh's DNS server answers the matching A and AAAA lookups with an error; Faultline answers every matching lookup, of any type, with REFUSED at the pod itself (no DNS server to deploy)");
    let mut f = fault(origin, FaultType::PodDnsError, target, duration);
    f.parameters.dns_error = Some(DnsErrorParameters {
        mode: DnsErrorMode::Refuse,
        pattern,
    });
    vec![f]
}

/// A delay block's latency and jitter.
fn latency(
    delay: &Delay,
    traffic: TrafficSelection,
    origin: &Origin,
    found: &mut Findings,
) -> Option<NetworkLatencyParameters> {
    found.refuse_rest(origin, "delay.", &delay.rest);
    correlation(delay.correlation.as_deref(), origin, found);
    let parse = |text: &str, found: &mut Findings| {
        text.parse::<Duration>()
            .map_err(|e| found.refuse(origin, "delay", format!("{text:?} is not a duration: {e}")))
            .ok()
    };
    let latency = parse(&delay.latency, found);
    let jitter = delay.jitter.as_deref().and_then(|j| parse(j, found));
    latency.map(|latency| NetworkLatencyParameters {
        latency,
        jitter: jitter.unwrap_or(Duration::from_secs(0)),
        traffic,
    })
}

/// A partition's peers: `target` pods (in the fault's namespace, or whole namespaces) and
/// external addresses.
fn partition(
    spec: &NetworkChaosSpec,
    traffic: TrafficSelection,
    origin: &Origin,
    found: &mut Findings,
) -> Option<NetworkPartitionParameters> {
    let mut parameters = NetworkPartitionParameters {
        traffic,
        ..NetworkPartitionParameters::default()
    };
    if let Some(peers) = &spec.target {
        found.refuse_rest(origin, "target.selector.", &peers.selector.rest);
        if peers.mode.as_deref().is_some_and(|m| m != "all") {
            found.note(origin, "the partition cuts the target off from every peer pod, not a share of them (mode all)");
        }
        let own = spec
            .common
            .selector
            .namespaces
            .first()
            .cloned()
            .unwrap_or_else(|| origin.namespace.clone());
        let others: Vec<String> = peers
            .selector
            .namespaces
            .iter()
            .filter(|n| **n != own)
            .cloned()
            .collect();
        match (labels(&peers.selector), others.is_empty()) {
            (Some(selector), true) => parameters.pods = Some(selector),
            (None, false) => parameters.namespaces = others,
            (None, true) => parameters.namespaces = vec![own],
            (Some(_), false) => found.refuse(origin, "target.selector", "selects pods by label in another namespace; Faultline's partition takes labelled pods in the target's own namespace, or whole namespaces"),
        }
    }
    let empty = parameters.pods.is_none()
        && parameters.namespaces.is_empty()
        && parameters.traffic.destinations.is_empty();
    if empty {
        found.refuse(
            origin,
            "partition",
            "names no peers (target or externalTargets) to cut off",
        );
        return None;
    }
    Some(parameters)
}

/// Chaos Mesh's memory size as MiB, or a percent.
pub(crate) fn memory_size(
    size: &str,
    origin: &Origin,
    found: &mut Findings,
) -> (Option<u64>, Option<u32>) {
    let size = size.trim();
    if let Some(percent) = size.strip_suffix('%') {
        found.note(
            origin,
            format!(
                "memory {size} of the node's memory becomes {size} of the container's memory limit"
            ),
        );
        let percent = percent
            .trim()
            .parse()
            .ok()
            .filter(|p| (1..=100).contains(p));
        if percent.is_none() {
            found.refuse(
                origin,
                "stressors.memory.size",
                format!("{size:?} is not a percent from 1% to 100%"),
            );
        }
        return (None, percent);
    }
    match crate::cli::findings::mebibytes(size) {
        Some(mebibytes) => (Some(mebibytes), None),
        None => {
            found.refuse(
                origin,
                "stressors.memory.size",
                format!("{size:?} is not a size such as 256MB, 1GiB or 25%"),
            );
            (None, None)
        }
    }
}

/// StressChaos: the CPU stressor to pod-cpu-hog, the memory stressor to pod-memory-hog.
pub fn stress_chaos(spec: &StressChaosSpec, origin: &Origin, found: &mut Findings) -> Vec<Fault> {
    found.refuse_rest(origin, "", &spec.rest);
    found.refuse_rest(origin, "stressors.", &spec.stressors.rest);
    let target = target(&spec.common, origin, found);
    if spec.common.duration.is_none() {
        found.note(origin, format!("no duration: Chaos Mesh keeps it until the object is deleted; the fault lasts {DEFAULT_DURATION}"));
    }
    let duration = duration(&spec.common, origin, found, DEFAULT_DURATION);
    let container = container(&spec.container_names, origin, found);
    let mut faults = Vec::new();
    if let Some(cpu) = &spec.stressors.cpu {
        found.refuse_rest(origin, "stressors.cpu.", &cpu.rest);
        let millicores = cpu.workers * cpu.load.unwrap_or(100).min(100) * 10;
        let cores = crate::cli::findings::cpu_quantity(u64::from(millicores));
        found.note(
            origin,
            format!(
                "{} CPU worker(s) at {}% become one hog burning {cores} core(s) in total",
                cpu.workers,
                cpu.load.unwrap_or(100)
            ),
        );
        let mut f = fault(origin, FaultType::PodCpuHog, target.clone(), duration);
        f.parameters.cpu_hog = Some(CpuHogParameters {
            container: container.clone(),
            cores: Some(cores),
            percent: None,
        });
        faults.push(f);
    }
    if let Some(memory) = &spec.stressors.memory {
        found.refuse_rest(origin, "stressors.memory.", &memory.rest);
        let (mebibytes, percent) = memory_size(&memory.size, origin, found);
        let mut f = fault(origin, FaultType::PodMemoryHog, target, duration);
        f.parameters.memory_hog = Some(MemoryHogParameters {
            container,
            mebibytes,
            percent,
        });
        faults.push(f);
    }
    if faults.is_empty() {
        found.refuse(
            origin,
            "stressors",
            "has neither a cpu nor a memory stressor",
        );
    }
    faults
}
