//! What the resource faults share (pod-cpu-hog, pod-memory-hog, pod-io-stress): a fault pod on the target's
//! node finds the target container's cgroups by container ID and starts one hog process per
//! target ([`crate::hog`]) that joins them, so the container's own limits and accounting apply
//! to the load. The hog dies with the fault process (a parent-death signal, and the fault's own
//! PID namespace); the revert kills it and checks that no hog of this fault is left in the
//! container; a revert pod of the backstop kills any that is. See docs/faults.md.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::Mutex,
    time::Duration,
};

use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::{Container, Pod, PodSpec};
use kube::{Api, Client};
use serde::{Deserialize, Serialize};

use super::{
    Env, Executor, FaultError, Prepared, Reverted, TargetRef,
    node_pod::{container_status, running_id},
};
use crate::{
    api::{self, LedgerState, TargetRecord},
    cgroups::{self, NodeView},
    domain::{
        containers::{container_id, cpu_hog_millicores, memory_hog_bytes, quantity_milli},
        io_stress::{IoPlace, Mount, io_file_name, io_place},
    },
    hog::{self, Hog, Load},
    nodeproc,
};

/// The capabilities a hog fault pod keeps: SYS_PTRACE to reach the node's cgroup file systems
/// and cgroup namespace through the container shim's /proc entries, SYS_ADMIN for the fault's own PID namespace and (cgroup
/// v2) entering the node's cgroup namespace, KILL for the backstop's revert pod to end a hog
/// left behind.
pub const CAPABILITIES: [&str; 3] = ["SYS_PTRACE", "SYS_ADMIN", "KILL"];

/// How long a hog has to join the cgroups (and fill its memory) before the fault gives up.
const READY_WITHIN: Duration = Duration::from_secs(30);

/// The kind of a resource fault type: everything but its type, its action and its `build`.
pub const fn hog_kind(
    fault_type: crate::api::FaultType,
    build: fn(Client, &api::Fault, &Env) -> Box<dyn Executor>,
) -> super::FaultKind {
    super::FaultKind {
        fault_type,
        scope: super::Scope::Pods,
        sustained: true,
        action: crate::api::TargetAction::Hogged,
        rules: super::node_pod::CONTAINER_RULES,
        cluster_rules: &[],
        revert_wording: "killed its hog process in each target container",
        pod_overrides: hog_pod,
        placement: super::Placement::TargetNode,
        build,
    }
}

fn hog_pod(spec: &mut PodSpec, _: &api::Fault) {
    super::node_pod::host_pid_pod(spec, &CAPABILITIES);
}

/// What a resource fault asks for, before the container's limits are known.
#[derive(Clone, Debug)]
pub enum Ask {
    /// Millicores, or a percent of the CPU limit.
    Cpu {
        millicores: Option<u128>,
        percent: Option<u32>,
    },
    /// MiB, or a percent of the memory limit.
    Memory {
        mebibytes: Option<u64>,
        percent: Option<u32>,
    },
    /// Files of `mebibytes` each, one per worker, in directory `path` of the container.
    Io {
        path: String,
        mebibytes: u64,
        workers: u32,
    },
}

/// One resource fault of a run.
pub struct HogFault {
    client: Client,
    env: Env,
    /// Names this fault's hogs: `<namespace>/<result>/<fault>`.
    tag: String,
    container: Option<String>,
    ask: Ask,
    /// The hogs this process runs, by pod UID.
    hogs: Mutex<HashMap<String, Hog>>,
}

/// What a ledger entry records in `original`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Hogged {
    pod_uid: String,
    node: String,
    container: String,
    container_id: String,
    tag: String,
    /// "1000m" or "64Mi", and why it differs from the ask (a cap), if it does.
    load: String,
    millicores: Option<u32>,
    bytes: Option<u64>,
    /// pod-io-stress's files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    io: Option<IoFiles>,
}

/// The files of a pod-io-stress hog, inside its container.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IoFiles {
    /// The directory, as the container sees it.
    dir: String,
    files: Vec<String>,
    /// The size of each.
    bytes: u64,
    /// The emptyDir volume the directory is on; None for the container's own filesystem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    volume: Option<String>,
}

impl Hogged {
    fn of(record: &TargetRecord) -> Result<Hogged, FaultError> {
        super::original_of(record, "its container and hog")
    }

    /// The hog's load; `main` is the container's main process (its root is the files' root).
    fn load(&self, main: u32) -> Load {
        match (self.millicores, &self.io) {
            (Some(millicores), _) => Load::Cpu { millicores },
            (None, Some(io)) => Load::Io {
                root: PathBuf::from(format!("/proc/{main}/root")),
                dir: io.dir.clone(),
                files: io.files.clone(),
                bytes: io.bytes,
            },
            (None, None) => Load::Memory {
                bytes: self.bytes.unwrap_or_default(),
            },
        }
    }
}

impl HogFault {
    pub fn new(client: Client, env: &Env, container: Option<String>, ask: Ask) -> Self {
        HogFault {
            client,
            tag: format!("{}/{}", env.result, env.fault),
            env: env.clone(),
            container,
            ask,
            hogs: Mutex::new(HashMap::new()),
        }
    }

    /// The load for `container` of `pod` under its limits, as a Hogged without its identity
    /// fields: Err(Refused) says what to fix.
    fn load_for(&self, pod: &Pod, container: &Container) -> Result<Hogged, FaultError> {
        let limit = |resource: &str| {
            container
                .resources
                .as_ref()
                .and_then(|r| r.limits.as_ref())
                .and_then(|l| l.get(resource))
                .and_then(|q| quantity_milli(&q.0))
        };
        let refused =
            |why: String| FaultError::Refused(format!("container {}: {why}", container.name));
        let mut planned = Hogged::default();
        match &self.ask {
            Ask::Cpu {
                millicores,
                percent,
            } => {
                // SAFETY: sysconf takes a constant.
                let cpus = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
                let cpus = u32::try_from(cpus).unwrap_or(1).max(1);
                let (millicores, note) =
                    cpu_hog_millicores(*millicores, *percent, limit("cpu"), cpus)
                        .map_err(refused)?;
                planned.load = match note {
                    Some(note) => format!("{millicores}m ({note})"),
                    None => format!("{millicores}m"),
                };
                planned.millicores = Some(millicores);
            }
            Ask::Memory { mebibytes, percent } => {
                let limit = limit("memory").map(|m| u64::try_from(m / 1000).unwrap_or(u64::MAX));
                let bytes = memory_hog_bytes(*mebibytes, *percent, limit).map_err(refused)?;
                planned.load = format!("{} MiB", bytes >> 20);
                planned.bytes = Some(bytes);
            }
            Ask::Io {
                path,
                mebibytes,
                workers,
            } => {
                let place = io_place_of(pod, container, path).map_err(refused)?;
                let files = (0..*workers)
                    .map(|worker| io_file_name(&self.env.result, &self.env.fault, worker))
                    .collect();
                planned.load = format!("{workers} x {mebibytes} MiB in {path}");
                planned.io = Some(IoFiles {
                    dir: path.clone(),
                    files,
                    bytes: mebibytes.saturating_mul(1 << 20),
                    volume: match place {
                        IoPlace::RootFs => None,
                        IoPlace::EmptyDir { volume } => Some(volume),
                    },
                });
            }
        }
        Ok(planned)
    }

    /// Prepares `pod`: its container, running, and the load under its limits.
    fn plan(&self, pod: &Pod, shown: &str) -> Result<Result<Hogged, String>, FaultError> {
        let spec = pod.spec.as_ref();
        let node = spec.and_then(|s| s.node_name.clone()).unwrap_or_default();
        if let Some(here) = self.env.node.as_deref()
            && node != here
        {
            return Ok(Err(format!(
                "pod {shown} runs on node {node:?}, not on this fault pod's node {here}"
            )));
        }
        let containers = spec.map(|s| s.containers.as_slice()).unwrap_or_default();
        let container = match self.container.as_deref() {
            Some(name) => containers.iter().find(|c| c.name == name),
            None => containers.first(),
        };
        let Some(container) = container else {
            let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
            return Ok(Err(format!(
                "pod {shown} has no container named {:?}; its containers: {}",
                self.container.as_deref().unwrap_or_default(),
                names.join(", ")
            )));
        };
        let status = container_status(pod, &container.name);
        let Some(id) = status.and_then(running_id) else {
            return Ok(Err(format!(
                "container {} of pod {shown} is not running: it has already gone",
                container.name
            )));
        };
        Ok(Ok(Hogged {
            pod_uid: pod.metadata.uid.clone().unwrap_or_default(),
            node,
            container: container.name.clone(),
            container_id: id.to_string(),
            tag: self.tag.clone(),
            ..self.load_for(pod, container)?
        }))
    }
}

impl HogFault {
    /// Whether the container `hogged` loads is still the one running in its pod (same pod UID,
    /// same container ID).
    async fn still_there(
        &self,
        hogged: &Hogged,
        record: &TargetRecord,
    ) -> Result<bool, FaultError> {
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), &record.namespace);
        let Some(pod) = pods.get_opt(&record.name).await? else {
            return Ok(false);
        };
        if pod.metadata.uid.as_deref() != Some(hogged.pod_uid.as_str()) {
            return Ok(false);
        }
        let id = container_status(&pod, &hogged.container)
            .and_then(|s| container_id(s.container_id.as_deref()?));
        Ok(id == Some(hogged.container_id.as_str()))
    }
}

/// Where in `container` of `pod` pod-io-stress may write `path`, from its volume mounts.
fn io_place_of(pod: &Pod, container: &Container, path: &str) -> Result<IoPlace, String> {
    let volumes = pod
        .spec
        .as_ref()
        .and_then(|s| s.volumes.as_deref())
        .unwrap_or_default();
    let kind_of = |name: &str| {
        let Some(v) = volumes.iter().find(|v| v.name == name) else {
            return "unknown";
        };
        match () {
            _ if v
                .empty_dir
                .as_ref()
                .is_some_and(|e| e.medium.as_deref() == Some("Memory")) =>
            {
                "memory emptyDir"
            }
            _ if v.empty_dir.is_some() => "emptyDir",
            _ if v.persistent_volume_claim.is_some() => "persistentVolumeClaim",
            _ if v.ephemeral.is_some() => "ephemeral",
            _ if v.host_path.is_some() => "hostPath",
            _ if v.config_map.is_some() => "configMap",
            _ if v.secret.is_some() => "secret",
            _ if v.projected.is_some() => "projected",
            _ => "another kind",
        }
    };
    let mounts: Vec<Mount> = container
        .volume_mounts
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|m| Mount {
            mount_path: &m.mount_path,
            volume: &m.name,
            kind: kind_of(&m.name),
            read_only: m.read_only.unwrap_or(false),
        })
        .collect();
    let read_only_root = container
        .security_context
        .as_ref()
        .and_then(|s| s.read_only_root_filesystem)
        .unwrap_or(false);
    io_place(path, &mounts, read_only_root)
}

/// Runs blocking node work (a /proc scan, a cgroup walk, a hog's start) off the runtime.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, FaultError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| FaultError::Refused(format!("the worker thread failed: {e}")))?
        .map_err(|e| FaultError::Refused(e.to_string()))
}

/// The entry that records a memory hog's OOM kill. Filling up to the limit is what a memory hog
/// may do, and the OOM killer picks the hog first (oom_score_adj 1000): an outcome of the
/// experiment, recorded, not an error.
fn oom_note(record: &TargetRecord, hogged: &Hogged) -> TargetRecord {
    let message = format!(
        "the hog ({}) was OOM-killed: the container reached its memory limit",
        hogged.load
    );
    container_note(record, hogged, message)
}

/// A settled entry, `Container <namespace>/<pod>/<container>`, saying what happened to its hog.
fn container_note(record: &TargetRecord, hogged: &Hogged, message: String) -> TargetRecord {
    let mut note = TargetRecord::new(
        "Container",
        &record.namespace,
        &format!("{}/{}", record.name, hogged.container),
        crate::api::TargetAction::Hogged,
    );
    note.settle(LedgerState::Reverted, super::BY_FAULT_POD, Some(message));
    note
}

/// The hogs of `tag` left in container `id`, as host PIDs; None when the container is gone.
fn leftovers(id: &str, tag: &str) -> std::io::Result<Option<Vec<u32>>> {
    Ok(nodeproc::find(id)?.map(|procs| hog::hogs_of(tag, &procs.pids)))
}

impl Executor for HogFault {
    fn prepare<'a>(&'a self, target: &'a TargetRef) -> BoxFuture<'a, Result<Prepared, FaultError>> {
        Box::pin(async move {
            let pods: Api<Pod> = Api::namespaced(self.client.clone(), &target.namespace);
            let shown = format!("{}/{}", target.namespace, target.name);
            let Some(pod) = pods.get_opt(&target.name).await? else {
                return Ok(Prepared::Skip(format!("pod {shown} is gone")));
            };
            Ok(match self.plan(&pod, &shown)? {
                Ok(hogged) => Prepared::Go {
                    original: Some(serde_json::to_string(&hogged).expect("Hogged serialises")),
                },
                Err(why) => Prepared::Skip(why),
            })
        })
    }

    fn inject<'a>(
        &'a self,
        record: &'a TargetRecord,
    ) -> BoxFuture<'a, Result<Vec<TargetRecord>, FaultError>> {
        Box::pin(async move {
            let hogged = Hogged::of(record)?;
            let id = hogged.container_id.clone();
            let (view, dirs, main) = blocking(move || {
                let Some(procs) = nodeproc::find(&id)? else {
                    return Err(std::io::Error::other(format!(
                        "container {id} has no process on this node: it has already gone"
                    )));
                };
                // The shim lives in the node's mount and cgroup namespaces.
                let view = NodeView::Through(procs.shim);
                let dirs = cgroups::find(&view.mounts()?, &id)?;
                Ok((view, dirs, procs.main))
            })
            .await?;
            let load = hogged.load(main);
            let needed = match load {
                Load::Cpu { .. } => "cpu",
                Load::Memory { .. } => "memory",
                Load::Io { .. } => "blkio",
            };
            if !dirs
                .iter()
                .any(|d| d.v2 || d.controllers.iter().any(|c| c == needed))
            {
                return Err(FaultError::Refused(format!(
                    "no {needed} cgroup of container {} under the node's cgroup file systems",
                    hogged.container_id
                )));
            }
            let tag = hogged.tag.clone();
            let started = blocking(move || {
                hog::spawn(
                    Path::new("/proc/self/exe"),
                    &tag,
                    &view,
                    &dirs,
                    load,
                    READY_WITHIN,
                )
            })
            .await;
            let hog = match started {
                Ok(hog) => hog,
                // Killed while filling: the container's limit is below the ask.
                Err(err) if hogged.bytes.is_some() && err.to_string().contains("SIGKILL") => {
                    return Ok(vec![oom_note(record, &hogged)]);
                }
                Err(err) => return Err(err),
            };
            tracing::info!(pid = hog.pid(), load = %hogged.load, container = %hogged.container, "hog running");
            self.hogs
                .lock()
                .expect("hogs lock")
                .insert(hogged.pod_uid, hog);
            Ok(vec![])
        })
    }

    /// A hog that ended early (the OOM killer, a person) no longer loads its target: the fault
    /// says so instead of reporting a load it no longer has.
    fn renew<'a>(
        &'a self,
        record: &'a TargetRecord,
    ) -> BoxFuture<'a, Result<Vec<TargetRecord>, FaultError>> {
        Box::pin(async move {
            let hogged = Hogged::of(record)?;
            if !self
                .hogs
                .lock()
                .expect("hogs lock")
                .contains_key(&hogged.pod_uid)
            {
                return Ok(vec![]);
            }
            if !self.still_there(&hogged, record).await? {
                // A restarted container has a new cgroup: the hog would burn in the old one (and
                // keep the runtime from removing it) while claiming to load the target.
                let hog = self.hogs.lock().expect("hogs lock").remove(&hogged.pod_uid);
                if let Some(hog) = hog {
                    blocking(move || hog.stop()).await?;
                }
                let note = format!(
                    "container {} was replaced (restarted or deleted) during the fault: its hog was stopped",
                    hogged.container
                );
                return Ok(vec![container_note(record, &hogged, note)]);
            }
            let mut hogs = self.hogs.lock().expect("hogs lock");
            let Some(hog) = hogs.get_mut(&hogged.pod_uid) else {
                return Ok(vec![]);
            };
            let Err(how) = hog.check() else {
                return Ok(vec![]);
            };
            hogs.remove(&hogged.pod_uid);
            if hogged.bytes.is_none() || !how.contains("SIGKILL") {
                return Err(FaultError::Refused(format!(
                    "the hog in container {} of {} ended early: {how}",
                    hogged.container,
                    record.display()
                )));
            }
            Ok(vec![oom_note(record, &hogged)])
        })
    }

    fn revert<'a>(
        &'a self,
        record: &'a TargetRecord,
    ) -> BoxFuture<'a, Result<Reverted, FaultError>> {
        Box::pin(async move {
            let hogged = Hogged::of(record)?;
            super::node_pod::revert_here(self.env.node.as_deref(), &hogged.node, record)?;
            let own = self.hogs.lock().expect("hogs lock").remove(&hogged.pod_uid);
            let ran = match own {
                Some(hog) => Some(blocking(move || hog.stop()).await?),
                None => None,
            };
            let (id, tag) = (hogged.container_id.clone(), hogged.tag.clone());
            let left = blocking(move || leftovers(&id, &tag)).await?;
            // Hogs first: the files go once nothing writes them.
            let hogs = match &left {
                None => "the container is gone, and its cgroup with it".to_string(),
                Some(left) if left.is_empty() => match ran {
                    Some(ran) => format!(
                        "stopped the hog ({}) in container {} after {:.1} s; no hog process is left in it",
                        hogged.load,
                        hogged.container,
                        ran.as_secs_f64()
                    ),
                    None => format!("no hog process is left in container {}", hogged.container),
                },
                Some(left) => kill_leftovers(left, &hogged.container)?,
            };
            let message = match &hogged.io {
                Some(io) => format!("{hogs}; {}", self.remove_files(&hogged, io, record).await?),
                None => hogs,
            };
            Ok(Reverted {
                state: if left.is_none() {
                    LedgerState::TargetGone
                } else {
                    LedgerState::Reverted
                },
                message: Some(message),
            })
        })
    }
}

/// Kills hog processes left in `container` (host PIDs). Only a revert pod may: in the fault's
/// own PID namespace, PIDs read from the host's /proc name other processes.
fn kill_leftovers(left: &[u32], container: &str) -> Result<String, FaultError> {
    if hog::in_pid_namespace() {
        return Err(FaultError::RevertFailed(vec![format!(
            "hog processes {left:?} are still in container {container}"
        )]));
    }
    for pid in left {
        nodeproc::signal(*pid, libc::SIGKILL)
            .map_err(|e| FaultError::RevertFailed(vec![e.to_string()]))?;
    }
    Ok(format!(
        "killed {} leftover hog process(es) in container {container}",
        left.len()
    ))
}

impl HogFault {
    /// Removes pod-io-stress's files (after its hog is stopped). They are reached through a
    /// process of the container that holds them now: the recorded one, or (on an emptyDir
    /// volume, which outlives a restart) the container's current instance. Says what it did.
    async fn remove_files(
        &self,
        hogged: &Hogged,
        io: &IoFiles,
        record: &TargetRecord,
    ) -> Result<String, FaultError> {
        let mut id = hogged.container_id.clone();
        let main = blocking({
            let id = id.clone();
            move || Ok(nodeproc::find(&id)?.map(|p| p.main))
        })
        .await?;
        let main = match (main, &io.volume) {
            (Some(main), _) => main,
            (None, None) => return Ok("its files went with the container's filesystem".into()),
            (None, Some(volume)) => {
                let pods: Api<Pod> = Api::namespaced(self.client.clone(), &record.namespace);
                let pod = pods.get_opt(&record.name).await?;
                let pod =
                    pod.filter(|p| p.metadata.uid.as_deref() == Some(hogged.pod_uid.as_str()));
                let Some(pod) = pod else {
                    return Ok(format!(
                        "its files went with the pod's emptyDir volume {volume}"
                    ));
                };
                let current = container_status(&pod, &hogged.container).and_then(running_id);
                let Some(current) = current else {
                    return Err(FaultError::RevertFailed(vec![format!(
                        "container {} is not running, so its emptyDir volume {volume} cannot be reached to remove {:?} yet",
                        hogged.container, io.files
                    )]));
                };
                id = current.to_string();
                let found = blocking({
                    let id = id.clone();
                    move || Ok(nodeproc::find(&id)?.map(|p| p.main))
                })
                .await?;
                found.ok_or_else(|| {
                    FaultError::RevertFailed(vec![format!(
                        "container {id} has no process on this node to reach volume {volume} through"
                    )])
                })?
            }
        };
        let (dir, files) = (io.dir.clone(), io.files.clone());
        let removed = blocking(move || {
            let root = PathBuf::from(format!("/proc/{main}/root"));
            let Some(dir) = crate::iostress::open_dir_if_there(&root, &dir)? else {
                return Ok(None);
            };
            let mut removed = 0;
            for file in &files {
                removed += usize::from(crate::iostress::remove(&dir, file)?);
            }
            Ok(Some(removed))
        })
        .await
        .map_err(|e| FaultError::RevertFailed(vec![e.to_string()]))?;
        Ok(match removed {
            None => format!(
                "{} cannot be opened in the container, so no file of it is there",
                io.dir
            ),
            // The hog unlinks its files once created: a name is left only if it died in between.
            Some(0) => format!("no file of it is left in {}", io.dir),
            Some(removed) => format!(
                "removed {removed} file(s) left in {}; no file of it is left",
                io.dir
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hog_fault_pod_keeps_three_capabilities_and_no_volume() {
        let mut spec = PodSpec {
            containers: vec![Default::default()],
            ..PodSpec::default()
        };
        let fault: api::Fault = serde_json::from_value(serde_json::json!({
            "name": "burn", "type": "pod-cpu-hog", "target": {}, "cpuHog": {"cores": "1"}
        }))
        .unwrap();
        hog_pod(&mut spec, &fault);
        assert_eq!(spec.host_pid, Some(true));
        let caps = spec.containers[0]
            .security_context
            .as_ref()
            .and_then(|s| s.capabilities.clone())
            .unwrap();
        assert_eq!(caps.drop, Some(vec!["ALL".to_string()]));
        assert_eq!(caps.add.unwrap(), ["SYS_PTRACE", "SYS_ADMIN", "KILL"]);
        assert!(spec.volumes.is_none(), "no hostPath, no runtime socket");
    }

    #[test]
    fn the_backstop_reads_the_pod_instance_and_node_of_a_hog_entry() {
        let hogged = Hogged {
            pod_uid: "u-1".into(),
            node: "node-a".into(),
            container: "web".into(),
            container_id: "abc".into(),
            tag: "shop/web-1/burn".into(),
            load: "1000m".into(),
            millicores: Some(1000),
            bytes: None,
            io: None,
        };
        let mut record = TargetRecord::new("Pod", "shop", "web-1", api::TargetAction::Hogged);
        record.original = Some(serde_json::to_string(&hogged).unwrap());
        let on = super::super::node_pod::OnNode::of(&record).unwrap();
        assert_eq!((on.pod_uid.as_str(), on.node.as_str()), ("u-1", "node-a"));
        assert_eq!(
            Hogged::of(&record).unwrap().load(7),
            Load::Cpu { millicores: 1000 }
        );
    }

    #[test]
    fn an_io_entry_names_its_files_and_reaches_them_through_the_main_process() {
        let record_json = serde_json::json!({
            "podUid": "u-1", "node": "node-a", "container": "web", "containerId": "abc",
            "tag": "shop/web-1/disk", "load": "1 x 64 MiB in /scratch",
            "io": {"dir": "/scratch", "files": ["faultline-io.web-1.disk.0"], "bytes": 67108864,
                "volume": "scratch"}
        });
        let hogged: Hogged = serde_json::from_value(record_json).unwrap();
        assert_eq!(
            hogged.load(42),
            Load::Io {
                root: PathBuf::from("/proc/42/root"),
                dir: "/scratch".into(),
                files: vec!["faultline-io.web-1.disk.0".into()],
                bytes: 64 << 20,
            }
        );
    }

    #[test]
    fn io_stress_writes_to_an_empty_dir_and_refuses_a_claim_or_a_read_only_root() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web-1"},
            "spec": {
                "volumes": [{"name": "scratch", "emptyDir": {}},
                    {"name": "data", "persistentVolumeClaim": {"claimName": "data"}}],
                "containers": [{"name": "web",
                    "securityContext": {"readOnlyRootFilesystem": true},
                    "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"},
                        {"name": "data", "mountPath": "/data"}]}]
            }
        }))
        .unwrap();
        let container = &pod.spec.as_ref().unwrap().containers[0];
        assert_eq!(
            io_place_of(&pod, container, "/scratch/io"),
            Ok(IoPlace::EmptyDir {
                volume: "scratch".into()
            })
        );
        let err = io_place_of(&pod, container, "/data").unwrap_err();
        assert!(err.contains("persistentVolumeClaim"), "{err}");
        let err = io_place_of(&pod, container, "/tmp").unwrap_err();
        assert!(
            err.contains("read-only root filesystem") && err.contains("/scratch"),
            "{err}"
        );
    }
}
