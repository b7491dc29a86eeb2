//! pod-network-partition: every packet between the target pods and the named peers is dropped.
//! Parameters (`networkPartition`): the peers, as `destinations` (addresses or CIDRs),
//! `services`, `namespaces` (their pods) or `pods` (a label selector in the target's namespace),
//! all resolved to addresses when the fault starts; `direction` (default egress: connections
//! the target opens fail; `both` also cuts what the peers send), `ports` and `protocol`. A peer
//! list that resolves to no address is refused, never widened to "everything". The mechanism:
//! [`super::pod_network`].

use kube::Client;

use super::{
    Env, Executor, FaultKind,
    pod_network::{NetworkFault, Peers, network_kind},
};
use crate::{
    api::{self, FaultType},
    netfault::Action,
};

pub static KIND: FaultKind = network_kind(FaultType::PodNetworkPartition, build);

fn build(client: Client, fault: &api::Fault, env: &Env) -> Box<dyn Executor> {
    let parameters = fault
        .parameters
        .network_partition
        .clone()
        .unwrap_or_default();
    let peers = Peers {
        pods: parameters.pods,
        namespaces: parameters.namespaces,
    };
    Box::new(
        NetworkFault::new(
            client,
            env,
            Action::DropAll,
            parameters.traffic,
            peers,
            false,
        )
        .requiring_peers(),
    )
}
