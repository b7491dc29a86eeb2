//! pod-memory-hog: a hog process in the target container's cgroups fills `mebibytes` (or
//! `percent` of the container's memory limit) and holds it for the fault's duration, so the
//! container's own memory limit and accounting apply. The hog offers itself to the OOM killer
//! first (oom_score_adj 1000). Parameters (`memoryHog`): `container`, `mebibytes` or `percent`.
//! The mechanism, its privileges and its limits: [`super::pod_hog`].

use kube::Client;

use super::{
    Env, Executor, FaultKind,
    pod_hog::{Ask, HogFault, hog_kind},
};
use crate::api::{self, FaultType};

pub static KIND: FaultKind = hog_kind(FaultType::PodMemoryHog, build);

fn build(client: Client, fault: &api::Fault, env: &Env) -> Box<dyn Executor> {
    let parameters = fault.parameters.memory_hog.clone().unwrap_or_default();
    let ask = Ask::Memory {
        mebibytes: parameters.mebibytes,
        percent: parameters.percent,
    };
    Box::new(HogFault::new(client, env, parameters.container, ask))
}
