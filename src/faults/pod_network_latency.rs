//! pod-network-latency: every selected packet of the target pods is held for `latency` (± a
//! uniform `jitter`) by the verdict engine, then let through. Parameters (`networkLatency`):
//! `latency`, `jitter`, and the traffic selection (`direction`, `destinations`, `services`,
//! `ports`, `protocol`). The mechanism, its privileges and its limits: [`super::pod_network`].

use kube::Client;

use super::{
    Env, Executor, FaultKind,
    pod_network::{NetworkFault, Peers, network_kind},
};
use crate::{
    api::{self, FaultType},
    netfault::Action,
};

pub static KIND: FaultKind = network_kind(FaultType::PodNetworkLatency, build);

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
