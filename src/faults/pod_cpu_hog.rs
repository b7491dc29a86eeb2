//! pod-cpu-hog: a hog process in the target container's cgroups burns `cores` (or `percent` of
//! the container's CPU limit) for the fault's duration, so the container's own CPU quota and
//! accounting apply to the load. Without a limit, the load is capped at the node's CPUs less
//! half a core. Parameters (`cpuHog`): `container`, `cores` or `percent`. The mechanism, its
//! privileges and its limits: [`super::pod_hog`].

use kube::Client;

use super::{
    Env, Executor, FaultKind,
    pod_hog::{Ask, HogFault, hog_kind},
};
use crate::{
    api::{self, FaultType},
    domain::containers::quantity_milli,
};

pub static KIND: FaultKind = hog_kind(FaultType::PodCpuHog, build);

fn build(client: Client, fault: &api::Fault, env: &Env) -> Box<dyn Executor> {
    let parameters = fault.parameters.cpu_hog.clone().unwrap_or_default();
    let ask = Ask::Cpu {
        millicores: parameters.cores.as_deref().and_then(quantity_milli),
        percent: parameters.percent,
    };
    Box::new(HogFault::new(client, env, parameters.container, ask))
}
