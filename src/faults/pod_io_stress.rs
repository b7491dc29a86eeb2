//! pod-io-stress: a hog process in the target container's cgroups writes, syncs and reads back
//! files inside the container's filesystem without pause (direct I/O where the filesystem allows
//! it), so the container's own I/O accounting and limits apply to the load and the disk the
//! container uses is the one stressed. Parameters (`ioStress`): `container`, `path` (its own
//! writable filesystem or an emptyDir volume on disk), `mebibytes` per file, `workers`. The files
//! take at most half the free space and are unlinked as soon as allocated (the kernel frees them
//! when the hog ends); the revert removes any name left. The mechanism, its privileges and its
//! limits: [`super::pod_hog`], [`crate::iostress`].

use kube::Client;

use super::{
    Env, Executor, FaultKind,
    pod_hog::{Ask, HogFault, hog_kind},
};
use crate::api::{self, FaultType};

pub static KIND: FaultKind = hog_kind(FaultType::PodIoStress, build);

fn build(client: Client, fault: &api::Fault, env: &Env) -> Box<dyn Executor> {
    let parameters = fault.parameters.io_stress.clone().unwrap_or_default();
    let ask = Ask::Io {
        path: parameters.path,
        mebibytes: parameters.mebibytes,
        workers: parameters.workers,
    };
    Box::new(HogFault::new(client, env, parameters.container, ask))
}
