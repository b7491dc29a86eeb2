//! Fault executors: what `faultline fault <type>` runs inside a fault pod, and what the operator's
//! backstop calls to revert. Each fault type is one file that declares a [`FaultKind`] (its scope,
//! RBAC rules, ledger action and revert wording) and an [`Executor`] (prepare, inject, revert).
//! [`run`] owns the loop every type shares: select targets, record each change in the ledger
//! before making it, hold for the duration, and revert everything on the way out.

pub mod admission;
pub mod container_kill;
pub mod ledger;
pub mod node_cordon;
pub mod node_drain;
pub mod node_pod;
pub mod node_taint;
pub mod pod_cpu_hog;
pub mod pod_delete;
pub mod pod_dns_error;
pub mod pod_hog;
pub mod pod_io_stress;
pub mod pod_memory_hog;
pub mod pod_network;
pub mod pod_network_latency;
pub mod pod_network_loss;
pub mod pod_network_partition;
pub mod rbac;
pub mod targets;
pub mod workload_scale;

use std::{future::Future, time::Duration};

use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::PodSpec;
use kube::{Api, Client, ResourceExt};
use rand::{SeedableRng, rngs::SmallRng};
use thiserror::Error;

pub use ledger::{Ledger, field_manager};
pub use targets::{TargetRef, selector_string};

use crate::{
    api::{self, ChaosResult, FaultType, LedgerState, TargetAction, TargetRecord},
    domain::revert::{RevertFailure, classify_failure, pending},
};

/// Where Kubernetes reads a container's termination message from.
pub const TERMINATION_LOG: &str = "/dev/termination-log";

/// Errors of a fault pod or of a revert.
#[derive(Debug, Error)]
pub enum FaultError {
    #[error("Kubernetes API error: {0}")]
    Kube(#[from] kube::Error),
    #[error("ChaosResult {0} has no fault named {1:?}")]
    UnknownFault(String, String),
    #[error("fault {fault:?} has type {actual}, but this executor runs {expected}")]
    WrongType {
        fault: String,
        actual: &'static str,
        expected: &'static str,
    },
    #[error("{kind} {namespace}/{name} has no pod selector")]
    NoSelector {
        kind: &'static str,
        namespace: String,
        name: String,
    },
    #[error("no injection happened during the whole fault: {0}")]
    NothingInjected(String),
    /// SIGTERM (the pod deleted or evicted, its node drained, its deadline passed) before the
    /// duration was over; everything recorded was reverted.
    #[error(
        "the fault pod was stopped after {after_seconds} s of its {duration_seconds} s, before the end of the fault; its changes were reverted"
    )]
    Interrupted {
        after_seconds: u64,
        duration_seconds: u64,
    },
    /// The fault will not act on this target, and says why (e.g. an HPA owns its replicas).
    #[error("{0}")]
    Refused(String),
    #[error("revert failed, left to the operator: {}", .0.join("; "))]
    RevertFailed(Vec<String>),
}

impl FaultError {
    /// The HTTP status of an API error, if this is one.
    pub fn status_code(&self) -> Option<u16> {
        match self {
            FaultError::Kube(kube::Error::Api(status)) => Some(status.code),
            _ => None,
        }
    }
}

/// What a fault type acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The target's pods.
    Pods,
    /// The target workload itself (Deployment, StatefulSet, ReplicaSet).
    Workloads,
    /// Nodes: named by a `kind: Node` target, or the nodes of the target's pods.
    Nodes,
}

/// An RBAC rule of a fault's ServiceAccount.
#[derive(Debug)]
pub struct Rule {
    pub groups: &'static [&'static str],
    pub resources: &'static [&'static str],
    pub verbs: &'static [&'static str],
    /// Why the fault needs it (a comment in the generated RBAC).
    pub why: &'static str,
}

/// Everything about a fault type apart from its code: what the operator, the generated RBAC and
/// the docs need. Each fault file declares one as `KIND`.
pub struct FaultKind {
    pub fault_type: FaultType,
    pub scope: Scope,
    /// Holds its change for the whole duration and reverts it at the end; otherwise it acts
    /// every interval and each change needs no revert (a deleted pod is replaced by its owner).
    pub sustained: bool,
    /// The action its ledger entries record.
    pub action: TargetAction,
    /// What its ServiceAccount may do in the experiment's namespace and the target's.
    pub rules: &'static [Rule],
    /// What it may do cluster-wide; bound only for namespaces allowed to target nodes.
    pub cluster_rules: &'static [Rule],
    /// How the FaultReverted Event describes the revert.
    pub revert_wording: &'static str,
    /// Changes to its fault pod's spec (e.g. node pinning); most types need none.
    pub pod_overrides: fn(&mut PodSpec, &api::Fault),
    /// Where its fault pod runs: anywhere, or on the node of its target pods.
    pub placement: Placement,
    /// Builds the executor for one fault of a run.
    pub build: fn(Client, &api::Fault, &Env) -> Box<dyn Executor>,
}

/// Where a fault type's pod runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Anywhere, in the result's namespace: it acts through the Kubernetes API.
    Api,
    /// On its target pods' node, in Faultline's own namespace, with the node-level privileges
    /// its `pod_overrides` grant: it acts inside the targets' network namespaces. The operator
    /// picks the targets and the node, and the backstop reverts through a revert pod there.
    TargetNode,
}

/// The `pod_overrides` of a type whose fault pod needs no change.
pub fn no_overrides(_: &mut PodSpec, _: &api::Fault) {}

impl FaultKind {
    /// The name of its ServiceAccount, ClusterRole and bindings.
    pub fn identity(&self) -> String {
        format!("faultline-fault-{}", self.fault_type.as_str())
    }

    /// Whether it acts on the processes of the target's containers, which kube-system and
    /// Faultline's own namespace must allow explicitly.
    pub fn acts_in_containers(&self) -> bool {
        matches!(
            self.fault_type,
            FaultType::ContainerKill
                | FaultType::PodCpuHog
                | FaultType::PodMemoryHog
                | FaultType::PodIoStress
        )
    }

    /// Whether its fault process runs as the first process of a PID namespace of its own, so
    /// that everything it starts (the resource faults' hogs) dies with it.
    pub fn own_pid_namespace(&self) -> bool {
        self.action == TargetAction::Hogged
    }

    /// Whether it changes nodes, which needs the node-target permission.
    pub fn touches_nodes(&self) -> bool {
        self.scope == Scope::Nodes
    }
}

/// The registry: the kind of each fault type.
pub fn kind(fault_type: FaultType) -> &'static FaultKind {
    match fault_type {
        FaultType::PodDelete => &pod_delete::KIND,
        FaultType::WorkloadScale => &workload_scale::KIND,
        FaultType::NodeCordon => &node_cordon::KIND,
        FaultType::NodeDrain => &node_drain::KIND,
        FaultType::NodeTaint => &node_taint::KIND,
        FaultType::PodNetworkLatency => &pod_network_latency::KIND,
        FaultType::PodNetworkLoss => &pod_network_loss::KIND,
        FaultType::PodNetworkPartition => &pod_network_partition::KIND,
        FaultType::PodDnsError => &pod_dns_error::KIND,
        FaultType::ContainerKill => &container_kill::KIND,
        FaultType::PodCpuHog => &pod_cpu_hog::KIND,
        FaultType::PodMemoryHog => &pod_memory_hog::KIND,
        FaultType::PodIoStress => &pod_io_stress::KIND,
    }
}

/// Who a fault acts for: the result and fault names, and Faultline's own namespace.
#[derive(Clone, Debug, Default)]
pub struct Env {
    /// `namespace/name` of the ChaosResult; node marks carry it.
    pub result: String,
    pub fault: String,
    /// Faultline's own namespace, which node-drain never evicts from.
    pub operator_namespace: String,
    /// The node this fault pod runs on (node-level faults act only there).
    pub node: Option<String>,
    /// The target pods the operator picked for a node-level fault, in the target's namespace;
    /// when set, the fault pod acts on these instead of selecting its own.
    pub pods: Vec<String>,
}

/// What `prepare` found, before anything is changed.
#[derive(Debug, PartialEq, Eq)]
pub enum Prepared {
    /// Go ahead; `original` is what the revert will restore.
    Go { original: Option<String> },
    /// Leave this target alone, for this reason (e.g. already cordoned by someone else).
    Skip(String),
}

/// What a revert did.
#[derive(Debug, PartialEq, Eq)]
pub struct Reverted {
    /// Reverted, Drifted or TargetGone.
    pub state: LedgerState,
    pub message: Option<String>,
}

impl Reverted {
    pub fn done(message: impl Into<Option<String>>) -> Self {
        Reverted {
            state: LedgerState::Reverted,
            message: message.into(),
        }
    }

    pub fn drifted(message: String) -> Self {
        Reverted {
            state: LedgerState::Drifted,
            message: Some(message),
        }
    }
}

/// One fault type's actions on one target. `prepare` only reads; `inject` makes the change a
/// ledger entry describes; `revert` undoes it, and must be safe on an entry whose change was
/// never made (state Injecting) and never overwrite a value someone else set since.
pub trait Executor: Send + Sync {
    fn prepare<'a>(&'a self, target: &'a TargetRef) -> BoxFuture<'a, Result<Prepared, FaultError>>;
    /// Makes the change; returns further entries that need no revert (e.g. evicted pods).
    fn inject<'a>(
        &'a self,
        record: &'a TargetRecord,
    ) -> BoxFuture<'a, Result<Vec<TargetRecord>, FaultError>>;
    /// Called every interval while a sustained change holds (node-drain evicts again).
    fn renew<'a>(
        &'a self,
        _record: &'a TargetRecord,
    ) -> BoxFuture<'a, Result<Vec<TargetRecord>, FaultError>> {
        Box::pin(async { Ok(vec![]) })
    }
    fn revert<'a>(
        &'a self,
        record: &'a TargetRecord,
    ) -> BoxFuture<'a, Result<Reverted, FaultError>>;
}

/// What a fault pod did.
#[derive(Debug, Default)]
pub struct Report {
    pub injected: usize,
    pub refusals: Vec<String>,
}

/// What a fault pod runs: reads its run's ChaosResult, builds the executor its fault type names,
/// injects and holds until the duration ends or `stop` resolves (SIGTERM), then reverts.
pub async fn run(
    client: Client,
    fault_type: FaultType,
    env: Env,
    stop: impl Future<Output = ()>,
) -> Result<Report, FaultError> {
    let (namespace, result_name) = env.result.split_once('/').unwrap_or_default();
    let results: Api<ChaosResult> = Api::namespaced(client.clone(), namespace);
    let result = results.get(result_name).await?;
    let spec = fault_spec(&result, &env.fault, fault_type)?;
    let kind = kind(fault_type);
    let executor = (kind.build)(client.clone(), &spec, &env);
    let fault_name = env.fault.as_str();
    let mut ledger = Ledger::of(results, &result, fault_name);
    let hold = Hold {
        client: &client,
        kind,
        executor: executor.as_ref(),
        spec: &spec,
        dry_run: result.spec.experiment.dry_run,
        target_namespace: spec.target.namespace.as_deref().unwrap_or(namespace),
        pods: &env.pods,
    };
    let outcome = hold.inject_and_hold(&mut ledger, stop).await;
    // Whatever happened above, everything recorded is reverted before the pod exits.
    let failures = revert_pending(&mut ledger, executor.as_ref(), BY_FAULT_POD, 3).await;
    let outcome = match outcome {
        Ok(_) if !failures.is_empty() => Err(FaultError::RevertFailed(failures)),
        outcome => outcome,
    };
    // Best effort: without it the driver learns the end from the kubelet, a second or so later.
    let error = outcome.as_ref().err().map(ToString::to_string);
    if let Err(err) = ledger.finish(error).await {
        tracing::warn!(%err, "cannot record the fault pod's end in the ledger");
    }
    outcome
}

/// `fault_name`'s spec in `result`, checked to be of `fault_type`.
fn fault_spec(
    result: &ChaosResult,
    fault_name: &str,
    fault_type: FaultType,
) -> Result<api::Fault, FaultError> {
    let spec = result
        .spec
        .experiment
        .faults
        .iter()
        .find(|f| f.name == fault_name)
        .cloned()
        .ok_or_else(|| FaultError::UnknownFault(result.name_any(), fault_name.into()))?;
    if spec.fault_type != fault_type {
        return Err(FaultError::WrongType {
            fault: fault_name.into(),
            actual: spec.fault_type.as_str(),
            expected: fault_type.as_str(),
        });
    }
    Ok(spec)
}

/// What a revert pod runs (`faultline fault <type> --revert`): the backstop of a node-level
/// fault, whose changes only a process on the target's node can undo. It reverts every
/// unsettled entry of the fault's ledger, as the operator.
pub async fn revert_only(
    client: Client,
    fault_type: FaultType,
    env: Env,
) -> Result<usize, FaultError> {
    let (namespace, result_name) = env.result.split_once('/').unwrap_or_default();
    let results: Api<ChaosResult> = Api::namespaced(client.clone(), namespace);
    let result = results.get(result_name).await?;
    let spec = fault_spec(&result, &env.fault, fault_type)?;
    let executor = (kind(fault_type).build)(client, &spec, &env);
    let mut ledger = Ledger::of(results, &result, &env.fault);
    let before = pending(&ledger.records).len();
    let failures = revert_pending(&mut ledger, executor.as_ref(), BY_OPERATOR, 3).await;
    if !failures.is_empty() {
        return Err(FaultError::RevertFailed(failures));
    }
    Ok(before)
}

/// The `revertedBy` of entries the fault pod settles.
pub const BY_FAULT_POD: &str = "fault-pod";
/// The `revertedBy` of entries the operator's backstop settles.
pub const BY_OPERATOR: &str = "operator";

/// One fault pod's inject-and-hold phase.
struct Hold<'a> {
    client: &'a Client,
    kind: &'static FaultKind,
    executor: &'a dyn Executor,
    spec: &'a api::Fault,
    dry_run: bool,
    target_namespace: &'a str,
    /// The targets the operator picked (node-level faults), instead of a selection here.
    pods: &'a [String],
}

impl Hold<'_> {
    /// Injects every interval (or once, for a sustained fault) until the duration ends or `stop`.
    async fn inject_and_hold(
        &self,
        ledger: &mut Ledger,
        stop: impl Future<Output = ()>,
    ) -> Result<Report, FaultError> {
        let mut rng = SmallRng::from_os_rng();
        let mut report = Report::default();
        let started = tokio::time::Instant::now();
        let duration = self.spec.duration.as_std();
        let interval = self.spec.interval.as_std().max(Duration::from_millis(100));
        tokio::pin!(stop);
        let mut tick = 0u32;
        loop {
            if tick == 0 || !self.kind.sustained {
                self.inject_tick(ledger, &mut rng, &mut report, tick)
                    .await?;
            } else if !self.dry_run {
                self.renew(ledger).await?;
            }
            tick += 1;
            let next = interval * tick;
            // The fault pod lives for the whole duration, so OnChaos probes see the chaos window.
            let wake = next.min(duration);
            tokio::select! {
                _ = tokio::time::sleep_until(started + wake) => {}
                _ = &mut stop => {
                    tracing::info!("stopped before the end of the fault");
                    return Err(FaultError::Interrupted {
                        after_seconds: started.elapsed().as_secs(),
                        duration_seconds: duration.as_secs(),
                    });
                }
            }
            if next >= duration {
                break;
            }
        }
        if report.injected == 0 {
            let why = report
                .refusals
                .last()
                .cloned()
                .unwrap_or_else(|| "the fault ended before its first injection".into());
            return Err(FaultError::NothingInjected(why));
        }
        Ok(report)
    }

    async fn inject_tick(
        &self,
        ledger: &mut Ledger,
        rng: &mut SmallRng,
        report: &mut Report,
        tick: u32,
    ) -> Result<(), FaultError> {
        if !self.pods.is_empty() {
            for name in self.pods {
                let target = TargetRef {
                    kind: "Pod".into(),
                    namespace: self.target_namespace.into(),
                    name: name.clone(),
                };
                self.inject_one(ledger, &target, report).await?;
            }
            return Ok(());
        }
        let resolved = targets::resolve(
            self.client,
            self.target_namespace,
            &self.spec.target,
            self.kind.scope,
            rng,
        )
        .await?;
        match resolved {
            targets::Resolved::Refused(refusal) => {
                tracing::warn!(tick, %refusal, "no injection this interval");
                report.refusals.push(refusal);
            }
            targets::Resolved::Targets { targets, eligible } => {
                tracing::info!(tick, eligible, ?targets, "targets selected");
                for target in &targets {
                    self.inject_one(ledger, target, report).await?;
                }
            }
        }
        Ok(())
    }

    /// Prepares, records (Injecting), injects, and marks one target.
    async fn inject_one(
        &self,
        ledger: &mut Ledger,
        target: &TargetRef,
        report: &mut Report,
    ) -> Result<(), FaultError> {
        let original = match self.executor.prepare(target).await? {
            Prepared::Go { original } => original,
            Prepared::Skip(why) => {
                tracing::warn!(target = ?target, %why, "target skipped");
                report.refusals.push(why);
                return Ok(());
            }
        };
        let action = if self.dry_run {
            TargetAction::Selected
        } else {
            self.kind.action
        };
        let mut record = TargetRecord::new(&target.kind, &target.namespace, &target.name, action);
        record.original = original;
        let index = ledger.push(record).await?;
        report.injected += 1;
        if self.dry_run {
            let note = Some("dry run: nothing was changed".to_string());
            return ledger
                .update(index, |r| {
                    r.settle(LedgerState::Reverted, BY_FAULT_POD, note)
                })
                .await;
        }
        // A failed inject leaves the entry Injecting: the revert on the way out handles it.
        let extra = self.executor.inject(&ledger.records[index]).await?;
        tracing::info!(target = ?target, ?action, "injected");
        let sustained = self.kind.sustained;
        let wording = self.kind.revert_wording.to_string();
        ledger.records.extend(extra);
        ledger
            .update(index, |r| {
                if sustained {
                    r.state = LedgerState::Injected;
                } else {
                    r.settle(LedgerState::Reverted, BY_FAULT_POD, Some(wording));
                }
            })
            .await
    }

    /// Lets each change in place act again (node-drain evicts pods that came back).
    async fn renew(&self, ledger: &mut Ledger) -> Result<(), FaultError> {
        let held: Vec<TargetRecord> = ledger
            .records
            .iter()
            .filter(|r| r.state == LedgerState::Injected)
            .cloned()
            .collect();
        let mut extra = Vec::new();
        for record in &held {
            extra.extend(self.executor.renew(record).await?);
        }
        if !extra.is_empty() {
            ledger.records.extend(extra);
            ledger.apply().await?;
        }
        Ok(())
    }
}

/// Reverts every entry of `ledger` that is not settled, newest first, trying each up to
/// `attempts` times with a growing pause. A target that no longer exists counts as reverted.
/// Returns what could not be reverted; those entries keep their state and say why.
pub async fn revert_pending(
    ledger: &mut Ledger,
    executor: &dyn Executor,
    by: &str,
    attempts: u32,
) -> Vec<String> {
    let mut failures = Vec::new();
    for index in pending(&ledger.records) {
        let record = ledger.records[index].clone();
        let mut attempt = 0;
        let (state, message) = loop {
            attempt += 1;
            match executor.revert(&record).await {
                Ok(done) => break (Some(done.state), done.message),
                Err(err) => match classify_failure(err.status_code()) {
                    RevertFailure::TargetGone => {
                        break (
                            Some(LedgerState::TargetGone),
                            Some("the target no longer exists".into()),
                        );
                    }
                    RevertFailure::Retry if attempt < attempts => {
                        tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
                    }
                    RevertFailure::Retry => break (None, Some(format!("revert failed: {err}"))),
                },
            }
        };
        let shown = record.display();
        match state {
            Some(state) => tracing::info!(target = %shown, ?state, by, "reverted"),
            None => {
                tracing::warn!(target = %shown, ?message, by, "revert failed");
                failures.push(format!("{shown}: {}", message.clone().unwrap_or_default()));
            }
        }
        // A failure already recorded with the same words is not written again, so a revert that
        // keeps failing does not rewrite the ledger (and wake the controllers) at every retry.
        if state.is_none() && ledger.records[index].message == message {
            continue;
        }
        let update = ledger
            .update(index, |r| match state {
                Some(state) => r.settle(state, by, message),
                None => r.message = message,
            })
            .await;
        if let Err(err) = update {
            tracing::warn!(%err, "could not record the revert in the ledger");
            failures.push(format!("{shown}: could not record the revert: {err}"));
        }
    }
    failures
}

/// What `record` recorded in `original` (JSON), or a refusal saying it does not record `what`.
pub fn original_of<T: serde::de::DeserializeOwned>(
    record: &TargetRecord,
    what: &str,
) -> Result<T, FaultError> {
    record
        .original
        .as_deref()
        .and_then(|o| serde_json::from_str(o).ok())
        .ok_or_else(|| {
            FaultError::Refused(format!(
                "ledger entry {} does not record {what}",
                record.display()
            ))
        })
}

/// A JSON patch (RFC 6902) from its operations, as `kube` sends it.
pub fn json_patch(operations: serde_json::Value) -> kube::api::Patch<serde_json::Value> {
    let patch: json_patch::Patch =
        serde_json::from_value(operations).expect("JSON patch operations are well formed");
    kube::api::Patch::Json(patch)
}

/// Runs a read-then-write `step` again when the write lost a race (409 Conflict, or 422 from a
/// failed JSON-patch `test` on the resourceVersion): nodes change often (heartbeats, taints set
/// by the node lifecycle controller, a parallel fault on the same node), so a precondition can
/// fail for reasons that are not ours. Up to 10 attempts over about 5 s.
pub async fn retry_conflicts<T, F, Fut>(mut step: F) -> Result<T, FaultError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, FaultError>>,
{
    let mut attempt = 0u64;
    loop {
        attempt += 1;
        match step().await {
            Err(err) if matches!(err.status_code(), Some(409 | 422)) && attempt < 10 => {
                tracing::debug!(%err, attempt, "lost a race with another writer; trying again");
                // Growing, and jittered: two faults patching one node at the same instant (with
                // heartbeats in between) must not keep colliding in lockstep.
                let jitter = rand::random_range(0..150);
                let pause = (100 * attempt).min(600) + jitter;
                tokio::time::sleep(Duration::from_millis(pause)).await;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Acts on any target and reverts it, touching nothing.
    struct Noop;

    impl Executor for Noop {
        fn prepare<'a>(&'a self, _: &'a TargetRef) -> BoxFuture<'a, Result<Prepared, FaultError>> {
            Box::pin(async { Ok(Prepared::Go { original: None }) })
        }
        fn inject<'a>(
            &'a self,
            _: &'a TargetRecord,
        ) -> BoxFuture<'a, Result<Vec<TargetRecord>, FaultError>> {
            Box::pin(async { Ok(vec![]) })
        }
        fn revert<'a>(
            &'a self,
            _: &'a TargetRecord,
        ) -> BoxFuture<'a, Result<Reverted, FaultError>> {
            Box::pin(async { Ok(Reverted::done(None)) })
        }
    }

    #[tokio::test]
    async fn a_sigterm_before_the_end_of_the_duration_is_an_error_that_says_how_far_it_got() {
        let (client, applied) = ledger::tests::recording_api_server();
        let spec: api::Fault = serde_json::from_value(serde_json::json!({
            "name": "kill", "type": "pod-delete", "duration": "60s", "interval": "60s",
            "target": {"kind": "Deployment", "name": "web"}
        }))
        .unwrap();
        let pods = vec!["web-x".to_string()];
        let hold = Hold {
            client: &client,
            kind: &pod_delete::KIND,
            executor: &Noop,
            spec: &spec,
            dry_run: false,
            target_namespace: "shop",
            pods: &pods,
        };
        let results: Api<ChaosResult> = Api::namespaced(client.clone(), "shop");
        let mut ledger = Ledger::of(results, &ledger::tests::result_with(None), "kill");
        let outcome = hold.inject_and_hold(&mut ledger, async {}).await;
        let err = outcome.expect_err("stopped before the end");
        assert!(matches!(
            err,
            FaultError::Interrupted {
                after_seconds: 0,
                duration_seconds: 60
            }
        ));
        assert_eq!(
            err.to_string(),
            "the fault pod was stopped after 0 s of its 60 s, before the end of the fault; its changes were reverted"
        );
        // It acted first: the entry was recorded, then settled.
        assert_eq!(applied.lock().unwrap().len(), 2);
        assert_eq!(ledger.records[0].state, LedgerState::Reverted);
    }
}
