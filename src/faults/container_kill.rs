//! container-kill: sends a signal (default SIGKILL) to the main process of one container, or of
//! every container, of each target pod, and checks that the kubelet restarted it. Parameters
//! (`containerKill`): `container` and `signal`.
//!
//! The fault pod runs on the target's node with the host PID namespace and CAP_KILL alone. It
//! finds the container's processes through /proc by the container ID from the pod's status (no
//! runtime socket: [`crate::nodeproc`]). The ledger entry records each container's ID and
//! restart count before the kill; an injection that finds the container already replaced since
//! does not kill it again. Nothing is reverted: the kubelet restarts the container, and the pod
//! keeps its UID. One entry per container (`Container ns/pod/container`) says what the check saw.

use std::time::Duration;

use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use kube::{Api, Client};
use serde::{Deserialize, Serialize};

use super::{
    Env, Executor, FaultError, FaultKind, Prepared, Reverted, Scope, TargetRef,
    node_pod::{container_status, is_running, running_id},
};
use crate::{
    api::{self, FaultType, LedgerState, Signal, TargetAction, TargetRecord},
    domain::containers::{ContainerState, container_id, replaced_since},
    nodeproc,
};

/// The only capability its fault pod keeps: signalling a process of another user.
pub const CAPABILITIES: [&str; 1] = ["KILL"];

/// How long the fault waits for a killed container to run again.
pub const RESTART_WAIT: Duration = Duration::from_secs(60);

pub static KIND: FaultKind = FaultKind {
    fault_type: FaultType::ContainerKill,
    scope: Scope::Pods,
    sustained: false,
    action: TargetAction::Killed,
    rules: super::node_pod::CONTAINER_RULES,
    cluster_rules: &[],
    revert_wording: "container-kill needs no revert: the kubelet restarts a killed container",
    pod_overrides: kill_pod,
    placement: super::Placement::TargetNode,
    build,
};

fn kill_pod(spec: &mut k8s_openapi::api::core::v1::PodSpec, _: &api::Fault) {
    super::node_pod::host_pid_pod(spec, &CAPABILITIES);
}

fn build(client: Client, fault: &api::Fault, env: &Env) -> Box<dyn Executor> {
    let parameters = fault.parameters.container_kill.clone().unwrap_or_default();
    Box::new(ContainerKill {
        client,
        node: env.node.clone(),
        container: parameters.container,
        signal: parameters.signal,
    })
}

struct ContainerKill {
    client: Client,
    node: Option<String>,
    container: Option<String>,
    signal: Signal,
}

/// What a ledger entry records in `original` before the kill.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Before {
    pod_uid: String,
    containers: Vec<Recorded>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Recorded {
    name: String,
    id: String,
    restart_count: i32,
}

impl Recorded {
    fn state(&self) -> ContainerState<'_> {
        ContainerState {
            id: Some(&self.id),
            restart_count: self.restart_count,
        }
    }
}

fn state_of(status: &ContainerStatus) -> ContainerState<'_> {
    ContainerState {
        id: status.container_id.as_deref().and_then(container_id),
        restart_count: status.restart_count,
    }
}

/// The containers of `pod` to kill (`container`, or all), as they are now; Err(Skip) says why
/// none is.
fn choose(container: Option<&str>, pod: &Pod, shown: &str) -> Result<Vec<Recorded>, Prepared> {
    let names: Vec<&str> = pod
        .spec
        .iter()
        .flat_map(|s| s.containers.iter().map(|c| c.name.as_str()))
        .collect();
    let wanted: Vec<&str> = match container {
        Some(name) if !names.contains(&name) => {
            return Err(Prepared::Skip(format!(
                "pod {shown} has no container named {name:?}; its containers: {}",
                names.join(", ")
            )));
        }
        Some(name) => vec![name],
        None => names,
    };
    let mut chosen = Vec::new();
    let mut gone = Vec::new();
    for name in wanted {
        let status = container_status(pod, name);
        match status.and_then(|s| Some((s, running_id(s)?))) {
            Some((status, id)) => chosen.push(Recorded {
                name: name.into(),
                id: id.into(),
                restart_count: status.restart_count,
            }),
            None => gone.push(name),
        }
    }
    if chosen.is_empty() {
        return Err(Prepared::Skip(format!(
            "container {} of pod {shown} is not running: it has already gone",
            gone.join(", ")
        )));
    }
    Ok(chosen)
}

impl ContainerKill {
    /// Kills one container unless it was replaced since `recorded`, then waits for its restart.
    /// Returns the entry that says what happened.
    async fn kill_one(
        &self,
        pods: &Api<Pod>,
        record: &TargetRecord,
        recorded: &Recorded,
    ) -> Result<TargetRecord, FaultError> {
        let mut entry = TargetRecord::new(
            "Container",
            &record.namespace,
            &format!("{}/{}", record.name, recorded.name),
            TargetAction::Killed,
        );
        let now = pods.get_opt(&record.name).await?;
        let status = now
            .as_ref()
            .and_then(|p| container_status(p, &recorded.name));
        let message = if status.is_some_and(|s| replaced_since(&recorded.state(), &state_of(s))) {
            "already replaced since the record: not killed again".to_string()
        } else {
            let id = recorded.id.clone();
            let procs = tokio::task::spawn_blocking(move || nodeproc::find(&id))
                .await
                .map_err(|e| FaultError::Refused(format!("the /proc scan failed: {e}")))?
                .map_err(|e| FaultError::Refused(format!("scanning /proc: {e}")))?;
            let running = status.is_some_and(is_running);
            match procs {
                // It stopped on its own between the record and the scan.
                None if !running => format!(
                    "no process of container {} on this node: it had already exited",
                    recorded.id
                ),
                // The API says it runs with this ID, yet no process of the node has it: a
                // runtime whose processes the node cannot see (Kata, gVisor) or name.
                None => {
                    return Err(FaultError::Refused(format!(
                        "no process of container {} ({}) is visible on this node: its runtime hides them",
                        recorded.name, recorded.id
                    )));
                }
                Some(procs) => {
                    nodeproc::signal(procs.main, self.signal.number())
                        .map_err(|e| FaultError::Refused(e.to_string()))?;
                    let waited = self.await_restart(pods, record, recorded).await?;
                    format!("{} to PID {}; {waited}", self.signal.name(), procs.main)
                }
            }
        };
        entry.original = Some(recorded.id.clone());
        entry.settle(LedgerState::Reverted, super::BY_FAULT_POD, Some(message));
        Ok(entry)
    }

    /// Waits until the container runs again, the pod can no longer restart it, or
    /// [`RESTART_WAIT`] passes; Err when it did not restart and nothing explains why.
    async fn await_restart(
        &self,
        pods: &Api<Pod>,
        record: &TargetRecord,
        recorded: &Recorded,
    ) -> Result<String, FaultError> {
        let started = tokio::time::Instant::now();
        let shown = format!("{}/{}", record.namespace, record.name);
        loop {
            let pod = pods.get_opt(&record.name).await?;
            let uid = pod.as_ref().and_then(|p| p.metadata.uid.as_deref());
            let before = Before::of(record).map(|b| b.pod_uid).unwrap_or_default();
            if uid != Some(before.as_str()) {
                return Ok(format!(
                    "pod {shown} was replaced (not a container restart)"
                ));
            }
            let pod = pod.expect("a pod with the UID");
            let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
            let status = container_status(&pod, &recorded.name);
            if let Some(status) = status {
                let now = state_of(status);
                if is_running(status) && replaced_since(&recorded.state(), &now) {
                    return Ok(format!(
                        "restarted: restartCount {} -> {} after {:.1} s, pod UID unchanged",
                        recorded.restart_count,
                        now.restart_count,
                        started.elapsed().as_secs_f64()
                    ));
                }
            }
            if started.elapsed() >= RESTART_WAIT {
                let waiting = status
                    .and_then(|s| s.state.as_ref())
                    .and_then(|s| s.waiting.as_ref());
                return match waiting.and_then(|w| w.reason.as_deref()) {
                    Some("CrashLoopBackOff") => Ok(format!(
                        "waiting to restart (CrashLoopBackOff) after {} s",
                        RESTART_WAIT.as_secs()
                    )),
                    _ => Err(FaultError::Refused(format!(
                        "container {} of pod {shown} did not run again within {} s of the kill",
                        recorded.name,
                        RESTART_WAIT.as_secs()
                    ))),
                };
            }
            if matches!(phase, Some("Succeeded" | "Failed")) {
                return Ok(format!(
                    "not restarted: pod {shown} ended ({}) under its restartPolicy",
                    phase.unwrap_or_default()
                ));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

impl Before {
    fn of(record: &TargetRecord) -> Result<Before, FaultError> {
        super::original_of(record, "its containers")
    }
}

impl Executor for ContainerKill {
    fn prepare<'a>(&'a self, target: &'a TargetRef) -> BoxFuture<'a, Result<Prepared, FaultError>> {
        Box::pin(async move {
            let pods: Api<Pod> = Api::namespaced(self.client.clone(), &target.namespace);
            let shown = format!("{}/{}", target.namespace, target.name);
            let Some(pod) = pods.get_opt(&target.name).await? else {
                return Ok(Prepared::Skip(format!("pod {shown} is gone")));
            };
            let node = pod.spec.as_ref().and_then(|s| s.node_name.as_deref());
            if let Some(here) = self.node.as_deref()
                && node != Some(here)
            {
                return Ok(Prepared::Skip(format!(
                    "pod {shown} runs on node {node:?}, not on this fault pod's node {here}"
                )));
            }
            let containers = match choose(self.container.as_deref(), &pod, &shown) {
                Ok(containers) => containers,
                Err(skip) => return Ok(skip),
            };
            let before = Before {
                pod_uid: pod.metadata.uid.clone().unwrap_or_default(),
                containers,
            };
            Ok(Prepared::Go {
                original: Some(serde_json::to_string(&before).expect("Before serialises")),
            })
        })
    }

    fn inject<'a>(
        &'a self,
        record: &'a TargetRecord,
    ) -> BoxFuture<'a, Result<Vec<TargetRecord>, FaultError>> {
        Box::pin(async move {
            let before = Before::of(record)?;
            let pods: Api<Pod> = Api::namespaced(self.client.clone(), &record.namespace);
            let kills = before
                .containers
                .iter()
                .map(|recorded| self.kill_one(&pods, record, recorded));
            futures::future::try_join_all(kills).await
        })
    }

    fn revert<'a>(&'a self, _: &'a TargetRecord) -> BoxFuture<'a, Result<Reverted, FaultError>> {
        Box::pin(async { Ok(Reverted::done(None)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef";

    fn pod(statuses: serde_json::Value) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web-1", "namespace": "shop", "uid": "u-1"},
            "spec": {"containers": [{"name": "web"}, {"name": "proxy"}]},
            "status": {"containerStatuses": statuses}
        }))
        .unwrap()
    }

    fn running(name: &str, restarts: i32) -> serde_json::Value {
        serde_json::json!({"name": name, "image": "x", "imageID": "", "ready": true,
            "restartCount": restarts, "containerID": format!("containerd://{ID}{name}"),
            "state": {"running": {}}})
    }

    #[test]
    fn every_running_container_is_recorded_with_its_id_and_restart_count() {
        let pod = pod(serde_json::json!([running("web", 2), running("proxy", 0)]));
        let chosen = choose(None, &pod, "shop/web-1").unwrap();
        assert_eq!(chosen.len(), 2);
        assert_eq!(chosen[0].id, format!("{ID}web"));
        assert_eq!(chosen[0].restart_count, 2);
        assert_eq!(
            choose(Some("proxy"), &pod, "shop/web-1").unwrap()[0].name,
            "proxy"
        );
    }

    #[test]
    fn a_container_the_pod_does_not_have_is_named_with_those_it_has() {
        let pod = pod(serde_json::json!([running("web", 0)]));
        let Err(Prepared::Skip(why)) = choose(Some("sidecar"), &pod, "shop/web-1") else {
            panic!("not skipped");
        };
        assert_eq!(
            why,
            "pod shop/web-1 has no container named \"sidecar\"; its containers: web, proxy"
        );
    }

    #[test]
    fn a_container_that_is_not_running_has_already_gone() {
        let waiting = serde_json::json!({"name": "web", "image": "x", "imageID": "", "ready": false,
            "restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff"}}});
        let pod = pod(serde_json::json!([waiting]));
        let Err(Prepared::Skip(why)) = choose(Some("web"), &pod, "shop/web-1") else {
            panic!("not skipped");
        };
        assert!(why.contains("is not running: it has already gone"), "{why}");
    }

    #[test]
    fn a_signal_is_named_as_the_spec_spells_it() {
        for signal in [
            Signal::Kill,
            Signal::Term,
            Signal::Int,
            Signal::Quit,
            Signal::Hup,
        ] {
            assert_eq!(serde_json::to_value(signal).unwrap(), signal.name());
        }
        assert_eq!(Signal::default().number(), libc::SIGKILL);
    }
}
