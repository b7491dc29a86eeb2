//! pod-dns-error: the target pods' DNS lookups fail. Only queries (UDP and TCP port 53) reach
//! the verdict engine; one whose name matches `pattern` (every name by default) is answered at
//! once with RCODE REFUSED (`mode: refuse`, UDP) or dropped (`mode: drop`, and any TCP query),
//! and any other is let through. Parameters (`dnsError`): `mode` and `pattern`. The mechanism:
//! [`super::pod_network`].

use kube::Client;

use super::{
    Env, Executor, FaultKind, Placement, Scope,
    pod_network::{NetworkFault, Peers, RULES, node_level_pod},
};
use crate::{
    api::{self, DnsErrorMode, FaultType, TargetAction},
    netfault::Action,
};

pub static KIND: FaultKind = FaultKind {
    fault_type: FaultType::PodDnsError,
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
    let parameters = fault.parameters.dns_error.clone().unwrap_or_default();
    let action = Action::DnsError {
        refuse: parameters.mode == DnsErrorMode::Refuse,
        pattern: parameters.pattern,
    };
    Box::new(NetworkFault::new(
        client,
        env,
        action,
        Default::default(),
        Peers::default(),
        true,
    ))
}
