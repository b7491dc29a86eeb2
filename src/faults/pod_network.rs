//! What the network faults share (pod-network-latency, -loss, -partition and pod-dns-error): a
//! fault pod on the target pods' node enters each target's network namespace, starts the verdict
//! engine on an NFQUEUE, and installs an nftables table that sends the selected packets to that
//! queue with the bypass flag. The table's name names the result and the fault; the revert
//! deletes that table and nothing else. If the fault process dies, the queue has no listener and
//! the kernel lets every packet through at once (fail open); the backstop's revert pod then
//! deletes the leftover table. See docs/faults.md, "Network faults".

use std::{collections::HashMap, net::IpAddr, sync::Mutex};

use futures::future::BoxFuture;
use k8s_openapi::api::{
    core::v1::{Pod, PodSpec, Service},
    discovery::v1::EndpointSlice,
};
use kube::{Api, Client, api::ListParams};
use serde::{Deserialize, Serialize};

use super::{Env, Executor, FaultError, Prepared, Reverted, Rule, TargetRef, selector_string};
use crate::{
    api::{self, Direction, LedgerState, Protocol, TargetRecord, TrafficSelection},
    netfault::{self, Action, Engine, Match, NetError, NetNs},
};

/// What every network fault's ServiceAccount may do where it is bound.
pub const RULES: &[Rule] = &[
    Rule {
        groups: &[""],
        resources: &["pods"],
        verbs: &["get", "list"],
        why: "read the target pods (node, UID, hostNetwork) and a partition's peer pods",
    },
    super::node_cordon::WORKLOAD_READ_RULE,
    Rule {
        groups: &[""],
        resources: &["services"],
        verbs: &["get"],
        why: "resolve a Service named in the traffic selection to its cluster IP",
    },
    Rule {
        groups: &["discovery.k8s.io"],
        resources: &["endpointslices"],
        verbs: &["list"],
        why: "resolve a Service named in the traffic selection to its endpoints' addresses",
    },
];

/// The kind of a network fault type: everything but its type and its `build` is shared.
pub const fn network_kind(
    fault_type: crate::api::FaultType,
    build: fn(Client, &api::Fault, &Env) -> Box<dyn super::Executor>,
) -> super::FaultKind {
    super::FaultKind {
        fault_type,
        scope: super::Scope::Pods,
        sustained: true,
        action: crate::api::TargetAction::Shaped,
        rules: RULES,
        cluster_rules: &[],
        revert_wording: "deleted its nftables table from each target's network namespace",
        pod_overrides: node_level_pod,
        placement: super::Placement::TargetNode,
        build,
    }
}

/// The Linux capabilities a network fault pod keeps (all others are dropped): NET_ADMIN for
/// nftables and NFQUEUE, SYS_ADMIN for setns(2) into the target's network namespace, and
/// SYS_PTRACE to open `/proc/<pid>/ns/net` of a target running as another user.
pub const CAPABILITIES: [&str; 3] = ["NET_ADMIN", "SYS_ADMIN", "SYS_PTRACE"];

/// The fault pod of a network fault: see [`super::node_pod::host_pid_pod`], with
/// [`CAPABILITIES`].
pub fn node_level_pod(spec: &mut PodSpec, _: &api::Fault) {
    super::node_pod::host_pid_pod(spec, &CAPABILITIES);
}

/// What a network fault's ledger entry records in `original`: the pod instance, its node and
/// the table the revert deletes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shaped {
    pub pod_uid: String,
    pub node: String,
    pub table: String,
}

impl Shaped {
    /// What `record` shaped, from its `original`.
    pub fn of(record: &TargetRecord) -> Result<Shaped, FaultError> {
        super::original_of(record, "which pod instance and table it shaped")
    }
}

/// Peers named by pod labels or namespaces (pod-network-partition).
#[derive(Clone, Debug, Default)]
pub struct Peers {
    pub pods: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>,
    pub namespaces: Vec<String>,
}

/// One network fault of a run: what it does to packets and which packets.
pub struct NetworkFault {
    client: Client,
    env: Env,
    table: String,
    action: Action,
    traffic: TrafficSelection,
    peers: Peers,
    /// DNS only: UDP and TCP port 53, whatever `traffic` says.
    dns: bool,
    /// A partition: the packets to drop must name peers, never "everything".
    requires_peers: bool,
    /// The engines this process runs, by pod UID.
    engines: Mutex<HashMap<String, Engine>>,
}

impl NetworkFault {
    pub fn new(
        client: Client,
        env: &Env,
        action: Action,
        traffic: TrafficSelection,
        peers: Peers,
        dns: bool,
    ) -> Self {
        let (namespace, result) = env.result.split_once('/').unwrap_or_default();
        NetworkFault {
            client,
            env: env.clone(),
            table: netfault::table_name(namespace, result, &env.fault),
            action,
            traffic,
            peers,
            dns,
            requires_peers: false,
            engines: Mutex::new(HashMap::new()),
        }
    }

    /// A fault whose selection must name peers (pod-network-partition): a peer list that
    /// resolves to no address is refused rather than widened to every packet.
    pub fn requiring_peers(mut self) -> Self {
        self.requires_peers = true;
        self
    }

    /// The packets to queue, with Services, peer pods and namespaces resolved to addresses now.
    async fn matcher(&self, namespace: &str) -> Result<Match, FaultError> {
        if self.dns {
            return Ok(Match {
                direction: netfault::Direction::Egress,
                cidrs: vec![],
                ports: vec![53],
                protocols: vec![netfault::Protocol::Udp, netfault::Protocol::Tcp],
            });
        }
        let mut cidrs = Vec::new();
        for destination in &self.traffic.destinations {
            cidrs.push(destination.parse().map_err(|e| {
                FaultError::Refused(format!(
                    "destination {destination:?} is not an address or CIDR: {e}"
                ))
            })?);
        }
        let mut addresses = Vec::new();
        for service in &self.traffic.services {
            addresses.extend(self.service_addresses(namespace, service).await?);
        }
        if let Some(selector) = &self.peers.pods {
            let selector = selector_string(selector)?;
            addresses.extend(self.pod_addresses(namespace, Some(&selector)).await?);
        }
        for peer_namespace in &self.peers.namespaces {
            addresses.extend(self.pod_addresses(peer_namespace, None).await?);
        }
        let named_peers = self.requires_peers
            || !self.traffic.services.is_empty()
            || self.peers.pods.is_some()
            || !self.peers.namespaces.is_empty();
        if named_peers && addresses.is_empty() && cidrs.is_empty() {
            // Never widen an empty peer list into "everything".
            return Err(FaultError::Refused(
                "the named Services, pods and namespaces have no address now, so there is nothing to cut off".into(),
            ));
        }
        cidrs.extend(addresses.into_iter().filter_map(|a| {
            let prefix = if a.is_ipv4() { 32 } else { 128 };
            netfault::Cidr::new(a, prefix).ok()
        }));
        Ok(Match {
            direction: match self.traffic.direction {
                Direction::Egress => netfault::Direction::Egress,
                Direction::Ingress => netfault::Direction::Ingress,
                Direction::Both => netfault::Direction::Both,
            },
            cidrs,
            ports: self.traffic.ports.clone(),
            protocols: match self.traffic.protocol {
                Some(Protocol::Tcp) => vec![netfault::Protocol::Tcp],
                Some(Protocol::Udp) => vec![netfault::Protocol::Udp],
                None => vec![],
            },
        })
    }

    /// A Service's cluster IPs and its endpoints' addresses.
    async fn service_addresses(
        &self,
        namespace: &str,
        service: &str,
    ) -> Result<Vec<IpAddr>, FaultError> {
        let (namespace, name) = service.split_once('/').unwrap_or((namespace, service));
        let services: Api<Service> = Api::namespaced(self.client.clone(), namespace);
        let found = services.get(name).await.map_err(|err| match err {
            kube::Error::Api(s) if s.code == 404 => {
                FaultError::Refused(format!("Service {namespace}/{name} does not exist"))
            }
            other => other.into(),
        })?;
        let mut addresses: Vec<IpAddr> = found
            .spec
            .iter()
            .flat_map(|s| s.cluster_ips.iter().flatten())
            .filter_map(|ip| ip.parse().ok())
            .collect();
        let slices: Api<EndpointSlice> = Api::namespaced(self.client.clone(), namespace);
        let params = ListParams::default().labels(&format!("kubernetes.io/service-name={name}"));
        for slice in slices.list(&params).await? {
            for endpoint in slice.endpoints {
                addresses.extend(
                    endpoint
                        .addresses
                        .iter()
                        .filter_map(|a| a.parse::<IpAddr>().ok()),
                );
            }
        }
        Ok(addresses)
    }

    async fn pod_addresses(
        &self,
        namespace: &str,
        selector: Option<&str>,
    ) -> Result<Vec<IpAddr>, FaultError> {
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        let params = match selector {
            Some(selector) => ListParams::default().labels(selector),
            None => ListParams::default(),
        };
        Ok(pods
            .list(&params)
            .await?
            .into_iter()
            .filter(|p| p.spec.as_ref().is_none_or(|s| s.host_network != Some(true)))
            // A finished pod's address may already belong to another pod.
            .filter(|p| {
                let phase = p.status.as_ref().and_then(|s| s.phase.as_deref());
                matches!(phase, Some("Running" | "Pending"))
            })
            .flat_map(|p| p.status.and_then(|s| s.pod_ips).unwrap_or_default())
            .filter_map(|ip| ip.ip.parse().ok())
            .collect())
    }

    /// Why this process cannot shape `pod`, if it cannot.
    fn refusal(&self, pod: &Pod) -> Option<String> {
        let name = format!(
            "{}/{}",
            pod.metadata.namespace.as_deref().unwrap_or_default(),
            pod.metadata.name.as_deref().unwrap_or_default()
        );
        let spec = pod.spec.as_ref()?;
        let node = spec.node_name.as_deref().unwrap_or_default();
        if spec.host_network == Some(true) {
            return Some(format!(
                "pod {name} uses hostNetwork: a network fault on it would shape node {node} itself; refused"
            ));
        }
        match self.env.node.as_deref() {
            Some(here) if here != node => Some(format!(
                "pod {name} runs on node {node:?}, not on this fault pod's node {here}"
            )),
            _ => None,
        }
    }
}

/// Runs a namespace operation off the async runtime's worker threads (they are short: a /proc
/// scan or a netlink round trip).
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, NetError> + Send + 'static,
) -> Result<T, NetError> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(NetError::Netlink(format!("the worker thread failed: {e}"))))
}

fn net_error(err: NetError) -> FaultError {
    FaultError::Refused(err.to_string())
}

/// Who holds a table found in a target's namespace, for the refusal: "result ns/name, fault f".
pub fn holder(table: &str) -> String {
    let parts: Vec<&str> = table
        .trim_start_matches("faultline_")
        .splitn(3, '_')
        .collect();
    match parts.as_slice() {
        [namespace, result, fault] => format!("result {namespace}/{result}, fault {fault}"),
        _ => format!("table {table}"),
    }
}

impl Executor for NetworkFault {
    fn prepare<'a>(&'a self, target: &'a TargetRef) -> BoxFuture<'a, Result<Prepared, FaultError>> {
        Box::pin(async move {
            let pods: Api<Pod> = Api::namespaced(self.client.clone(), &target.namespace);
            let Some(pod) = pods.get_opt(&target.name).await? else {
                return Ok(Prepared::Skip(format!(
                    "pod {}/{} is gone",
                    target.namespace, target.name
                )));
            };
            if let Some(why) = self.refusal(&pod) {
                return Ok(Prepared::Skip(why));
            }
            let Some(uid) = pod.metadata.uid.clone().filter(|u| !u.is_empty()) else {
                return Ok(Prepared::Skip(format!(
                    "pod {}/{} has no UID",
                    target.namespace, target.name
                )));
            };
            let lookup = uid.clone();
            let tables = blocking(move || netfault::tables(&NetNs::of_pod(&lookup)?)).await;
            let tables = match tables {
                Ok(tables) => tables,
                Err(err) => return Ok(Prepared::Skip(err.to_string())),
            };
            if let Some(first) = tables.first() {
                return Ok(Prepared::Skip(format!(
                    "pod {}/{} already has a network fault ({}): network faults do not stack",
                    target.namespace,
                    target.name,
                    holder(first)
                )));
            }
            let shaped = Shaped {
                pod_uid: uid,
                node: self.env.node.clone().unwrap_or_default(),
                table: self.table.clone(),
            };
            let original = serde_json::to_string(&shaped).expect("Shaped serialises");
            Ok(Prepared::Go {
                original: Some(original),
            })
        })
    }

    fn inject<'a>(
        &'a self,
        record: &'a TargetRecord,
    ) -> BoxFuture<'a, Result<Vec<TargetRecord>, FaultError>> {
        Box::pin(async move {
            let shaped = Shaped::of(record)?;
            let matcher = self.matcher(&record.namespace).await?;
            let queue = netfault::queue_number(&shaped.table);
            let action = self.action.clone();
            let uid = shaped.pod_uid.clone();
            let engine = blocking(move || {
                let ns = NetNs::of_pod(&uid)?;
                // The queue is bound before any packet is sent to it.
                let engine = Engine::start(&ns, queue, action)?;
                match netfault::install(&ns, &shaped.table, queue, &matcher) {
                    Ok(()) => Ok(engine),
                    Err(err) => {
                        engine.stop();
                        Err(err)
                    }
                }
            })
            .await
            .map_err(net_error)?;
            self.engines
                .lock()
                .expect("engines lock")
                .insert(record_uid(record), engine);
            Ok(vec![])
        })
    }

    /// A verdict engine that stopped (a socket error) leaves traffic unshaped (fail-open): the
    /// fault says so instead of reporting a hold it no longer has.
    fn renew<'a>(
        &'a self,
        record: &'a TargetRecord,
    ) -> BoxFuture<'a, Result<Vec<TargetRecord>, FaultError>> {
        Box::pin(async move {
            let uid = record_uid(record);
            let engines = self.engines.lock().expect("engines lock");
            match engines.get(&uid) {
                Some(engine) if !engine.healthy() => Err(FaultError::Refused(format!(
                    "the verdict engine of {} stopped early: its traffic has flowed unshaped (fail-open) since",
                    record.display()
                ))),
                _ => Ok(vec![]),
            }
        })
    }

    fn revert<'a>(
        &'a self,
        record: &'a TargetRecord,
    ) -> BoxFuture<'a, Result<Reverted, FaultError>> {
        Box::pin(async move {
            let shaped = Shaped::of(record)?;
            super::node_pod::revert_here(self.env.node.as_deref(), &shaped.node, record)?;
            let uid = shaped.pod_uid.clone();
            let table = shaped.table.clone();
            let removed = blocking(move || netfault::remove(&NetNs::of_pod(&uid)?, &table)).await;
            let engine = self
                .engines
                .lock()
                .expect("engines lock")
                .remove(&shaped.pod_uid);
            // Stopping releases the held packets, which can take a moment: off the runtime.
            let stats = match engine {
                Some(engine) => tokio::task::spawn_blocking(move || engine.stop())
                    .await
                    .ok(),
                None => None,
            };
            let handled = stats
                .map(|s| {
                    format!(
                        "; the engine saw {} packets (delayed {}, dropped {}, refused {})",
                        s.packets, s.delayed, s.dropped, s.refused
                    )
                })
                .unwrap_or_default();
            match removed {
                Ok(true) => Ok(Reverted::done(Some(format!(
                    "deleted nftables table {}{handled}",
                    shaped.table
                )))),
                Ok(false) => Ok(Reverted::done(Some(format!(
                    "table {} was already gone{handled}",
                    shaped.table
                )))),
                Err(NetError::PodNotFound(_)) => Ok(Reverted {
                    state: LedgerState::TargetGone,
                    message: Some(
                        "the pod is gone, and its network namespace (with the rules) with it"
                            .into(),
                    ),
                }),
                Err(err) => Err(FaultError::RevertFailed(vec![err.to_string()])),
            }
        })
    }
}

fn record_uid(record: &TargetRecord) -> String {
    Shaped::of(record).map(|s| s.pod_uid).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_names_who_holds_it() {
        assert_eq!(
            holder("faultline_team-a_web-chaos-3_slow"),
            "result team-a/web-chaos-3, fault slow"
        );
        assert_eq!(holder("faultline_x"), "table faultline_x");
    }

    #[test]
    fn the_fault_pod_keeps_only_three_capabilities_and_the_host_pid_namespace() {
        let mut spec = PodSpec {
            containers: vec![Default::default()],
            ..PodSpec::default()
        };
        let fault: api::Fault = serde_json::from_value(serde_json::json!({
            "name": "slow", "type": "pod-network-latency", "target": {},
            "networkLatency": {"latency": "200ms"}
        }))
        .unwrap();
        node_level_pod(&mut spec, &fault);
        assert_eq!(spec.host_pid, Some(true));
        let caps = spec.containers[0]
            .security_context
            .as_ref()
            .and_then(|s| s.capabilities.clone())
            .unwrap();
        assert_eq!(caps.drop, Some(vec!["ALL".to_string()]));
        assert_eq!(caps.add.unwrap().len(), 3);
        assert!(spec.volumes.is_none(), "no hostPath, no runtime socket");
    }
}
