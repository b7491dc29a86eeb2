//! pod-network-loss: each selected packet of the target pods is dropped with probability
//! `percent`/100, independently. Parameters (`networkLoss`): `percent` and the traffic selection
//! (`direction`, `destinations`, `services`, `ports`, `protocol`). The mechanism, its privileges
//! and its limits: [`super::pod_network`].

use kube::Client;

use super::{
    Env, Executor, FaultKind,
    pod_network::{NetworkFault, Peers, network_kind},
};
use crate::{
    api::{self, FaultType},
    netfault::Action,
};

pub static KIND: FaultKind = network_kind(FaultType::PodNetworkLoss, build);

fn build(client: Client, fault: &api::Fault, env: &Env) -> Box<dyn Executor> {
    let parameters = fault.parameters.network_loss.clone();
    let percent = parameters.as_ref().map_or(0, |p| p.percent.min(100));
    let traffic = parameters.map(|p| p.traffic).unwrap_or_default();
    let action = if percent >= 100 {
        Action::DropAll
    } else {
        Action::Drop {
            probability: f64::from(percent) / 100.0,
        }
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
