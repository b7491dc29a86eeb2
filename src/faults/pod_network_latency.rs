//! pod-network-latency: every selected packet of the target pods is held for `latency` (± a
//! uniform `jitter`) by the verdict engine, then let through. Parameters (`networkLatency`):
//! `latency`, `jitter`, and the traffic selection (`direction`, `destinations`, `services`,
//! `ports`, `protocol`). The mechanism, its privileges and its limits: [`super::pod_network`].

use kube::Client;

use super::{
    Env, Executor, FaultKind, Placement, Scope,
    pod_network::{NetworkFault, Peers, RULES, node_level_pod},
};
use crate::{
    api::{self, FaultType, TargetAction},
    netfault::Action,
};

pub static KIND: FaultKind = FaultKind {
    fault_type: FaultType::PodNetworkLatency,
    scope: Scope::Pods,
    sustained: true,
    action: TargetAction::Shaped,
    rules: RULES,
    cluster_rules: &[],
    revert_wording: "deleted its nftables table from each target's network namespace",
    pod_overrides: node_level_pod,
    placement: Placement::TargetNode,
    build,
};

fn build(client: Client, fault: &api::Fault, env: &Env) -> Box<dyn Executor> {
    let parameters = fault.parameters.network_latency.clone();
    let (action, traffic) = match parameters {
        Some(p) => (
            Action::Delay {
                latency: p.latency.as_std(),
                jitter: p.jitter.as_std(),
            },
            p.traffic,
        ),
        None => (
            Action::Delay {
                latency: Default::default(),
                jitter: Default::default(),
            },
            Default::default(),
        ),
    };
    Box::new(NetworkFault::new(
        client,
        env,
        action,
        traffic,
        Peers::default(),
        false,
    ))
}
