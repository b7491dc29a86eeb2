//! pod-dns-error: the target pods' DNS lookups fail. Only queries (UDP and TCP port 53) reach
//! the verdict engine; one whose name matches `pattern` (every name by default) is answered at
//! once with RCODE REFUSED (`mode: refuse`, UDP) or dropped (`mode: drop`, and any TCP query),
//! and any other is let through. Parameters (`dnsError`): `mode` and `pattern`. The mechanism:
//! [`super::pod_network`].

use kube::Client;

use super::{
    Env, Executor, FaultKind,
    pod_network::{NetworkFault, Peers, network_kind},
};
use crate::{
    api::{self, DnsErrorMode, FaultType},
    netfault::Action,
};

pub static KIND: FaultKind = network_kind(FaultType::PodDnsError, build);

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
