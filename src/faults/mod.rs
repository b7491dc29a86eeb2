//! Fault executors: what `faultline fault <type>` runs inside a fault pod. Each fault type is
//! one file behind the [`Fault`] trait; [`execute`] owns the loop every type shares: select
//! targets every interval for the duration, and keep the ledger in the ChaosResult (each change
//! recorded before it is made and marked reverted after).

pub mod pod_delete;

use std::{collections::BTreeMap, future::Future, time::Duration};

use k8s_openapi::{
    api::core::v1::Pod,
    apimachinery::pkg::apis::meta::v1::{LabelSelector, Time},
    jiff::Timestamp,
};
use kube::{
    Api, Client,
    api::{DynamicObject, ListParams, Patch, PatchParams},
    core::{ApiResource, GroupVersionKind},
};
use rand::{SeedableRng, rngs::SmallRng};
use serde_json::json;
use thiserror::Error;

use crate::{
    api::{self, ChaosResult, TargetAction, TargetKind, TargetRecord},
    domain::selection::{Candidate, select_targets},
};

/// The field manager a fault pod applies its ledger under; it owns `status.faults[].targets`.
pub const FIELD_MANAGER: &str = "faultline-fault";
/// Where Kubernetes reads a container's termination message from.
pub const TERMINATION_LOG: &str = "/dev/termination-log";

/// Errors of a fault pod.
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
}

/// One fault type: how it acts on a target pod and how it undoes that.
pub trait Fault {
    /// The fault type's name, as in `spec.faults[].type`.
    fn name(&self) -> &'static str;
    /// The action recorded in the ledger for each target.
    fn action(&self) -> TargetAction;
    /// Acts on one target pod.
    fn inject(&self, pod: &Candidate) -> impl Future<Output = Result<(), FaultError>> + Send;
    /// Undoes what `inject` did to `record`'s target (a no-op for faults that need none).
    fn revert(&self, record: &TargetRecord) -> impl Future<Output = Result<(), FaultError>> + Send;
}

/// What a fault pod did.
#[derive(Debug, Default)]
pub struct Report {
    pub injected: usize,
    pub refusals: Vec<String>,
}

/// What a fault pod runs: reads its run's ChaosResult once, builds the executor its fault
/// type names, and runs it until the fault's duration ends or `stop` resolves.
pub async fn run(
    client: Client,
    namespace: &str,
    result_name: &str,
    fault_name: &str,
    stop: impl Future<Output = ()>,
) -> Result<Report, FaultError> {
    let results: Api<ChaosResult> = Api::namespaced(client.clone(), namespace);
    let result = results.get(result_name).await?;
    let spec = result
        .spec
        .experiment
        .faults
        .iter()
        .find(|f| f.name == fault_name)
        .cloned()
        .ok_or_else(|| FaultError::UnknownFault(result_name.into(), fault_name.into()))?;
    match spec.fault_type {
        api::FaultType::PodDelete => {
            let fault = pod_delete::PodDelete::new(client.clone(), &spec.parameters);
            execute(client, &fault, results, &result, &spec, stop).await
        }
    }
}

/// The loop every fault type shares, for the fault `spec` of `result`.
async fn execute<F: Fault>(
    client: Client,
    fault: &F,
    results: Api<ChaosResult>,
    result: &ChaosResult,
    spec: &api::Fault,
    stop: impl Future<Output = ()>,
) -> Result<Report, FaultError> {
    let namespace = result.metadata.namespace.as_deref().unwrap_or_default();
    let result_name = result.metadata.name.as_deref().unwrap_or_default();
    let fault_name = spec.name.as_str();
    if spec.fault_type.as_str() != fault.name() {
        return Err(FaultError::WrongType {
            fault: fault_name.into(),
            actual: spec.fault_type.as_str(),
            expected: fault.name(),
        });
    }
    let dry_run = result.spec.experiment.dry_run;
    let target_namespace = spec
        .target
        .namespace
        .clone()
        .unwrap_or_else(|| namespace.into());
    let mut ledger = Ledger {
        api: results,
        result: result_name.into(),
        fault: fault_name.into(),
        records: result
            .status
            .as_ref()
            .and_then(|s| s.faults.iter().find(|f| f.name == fault_name))
            .map(|f| f.targets.clone())
            .unwrap_or_default(),
    };
    let mut rng = SmallRng::from_os_rng();
    let mut report = Report::default();
    let started = tokio::time::Instant::now();
    let duration = spec.duration.as_std();
    let interval = spec.interval.as_std().max(Duration::from_millis(100));
    tokio::pin!(stop);

    let mut tick = 0u32;
    loop {
        let candidates = list_candidates(&client, &target_namespace, &spec.target).await?;
        match select_targets(&candidates, &spec.target, &mut rng) {
            Ok(selection) => {
                tracing::info!(
                    tick,
                    eligible = selection.eligible,
                    targets = ?selection.targets,
                    "targets selected"
                );
                for name in selection.targets {
                    let Some(pod) = candidates.iter().find(|c| c.name == name) else {
                        continue;
                    };
                    let action = if dry_run {
                        TargetAction::Selected
                    } else {
                        fault.action()
                    };
                    let index = ledger.record(pod, action).await?;
                    if !dry_run {
                        fault.inject(pod).await?;
                        tracing::info!(pod = %pod.name, namespace = %pod.namespace, action = ?action, "injected");
                        fault.revert(&ledger.records[index]).await?;
                    }
                    ledger.mark_reverted(index).await?;
                    report.injected += 1;
                }
            }
            Err(refusal) => {
                tracing::warn!(tick, %refusal, "no injection this interval");
                report.refusals.push(refusal.to_string());
            }
        }
        tick += 1;
        let next = interval * tick;
        // The fault pod lives for the whole duration, so OnChaos probes see the chaos window.
        let wake = if next < duration { next } else { duration };
        tokio::select! {
            _ = tokio::time::sleep_until(started + wake) => {}
            _ = &mut stop => {
                tracing::info!("stopped before the end of the fault");
                break;
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

/// The fault's ledger, kept in `status.faults[name].targets` of the ChaosResult.
struct Ledger {
    api: Api<ChaosResult>,
    result: String,
    fault: String,
    records: Vec<TargetRecord>,
}

impl Ledger {
    /// Records a change before it is made; returns its index.
    async fn record(&mut self, pod: &Candidate, action: TargetAction) -> Result<usize, FaultError> {
        self.records.push(TargetRecord {
            kind: "Pod".into(),
            namespace: pod.namespace.clone(),
            name: pod.name.clone(),
            action,
            time: Time(Timestamp::now()),
            reverted: false,
        });
        self.apply().await?;
        Ok(self.records.len() - 1)
    }

    async fn mark_reverted(&mut self, index: usize) -> Result<(), FaultError> {
        self.records[index].reverted = true;
        self.apply().await
    }

    async fn apply(&self) -> Result<(), FaultError> {
        let patch = json!({
            "apiVersion": "chaos.faultline.dev/v1alpha1",
            "kind": "ChaosResult",
            "status": {"faults": [{"name": self.fault, "targets": self.records}]},
        });
        self.api
            .patch_status(
                &self.result,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(&patch),
            )
            .await?;
        Ok(())
    }
}

/// The pods a target names: directly (kind Pod) or through a workload's selector.
async fn list_candidates(
    client: &Client,
    namespace: &str,
    target: &api::Target,
) -> Result<Vec<Candidate>, FaultError> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let listed: Vec<Pod> = match (target.kind, &target.name) {
        (TargetKind::Pod, Some(name)) => pods.get_opt(name).await?.into_iter().collect(),
        (TargetKind::Pod, None) => {
            let selector = target
                .selector
                .as_ref()
                .map(selector_string)
                .unwrap_or_default();
            pods.list(&ListParams::default().labels(&selector))
                .await?
                .items
        }
        (kind, _) => {
            let selector = workload_selector(client, namespace, kind, target).await?;
            pods.list(&ListParams::default().labels(&selector))
                .await?
                .items
        }
    };
    let mut node_labels: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    if target.node_selector.is_some() {
        let nodes: Api<k8s_openapi::api::core::v1::Node> = Api::all(client.clone());
        for pod in &listed {
            if let Some(node) = pod.spec.as_ref().and_then(|s| s.node_name.clone())
                && !node_labels.contains_key(&node)
            {
                let labels = nodes.get(&node).await?.metadata.labels.unwrap_or_default();
                node_labels.insert(node, labels);
            }
        }
    }
    Ok(listed
        .into_iter()
        .map(|pod| candidate(pod, namespace, &node_labels))
        .collect())
}

fn candidate(
    pod: Pod,
    namespace: &str,
    node_labels: &BTreeMap<String, BTreeMap<String, String>>,
) -> Candidate {
    let status = pod.status.as_ref();
    let ready = status
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    let running = status.and_then(|s| s.phase.as_deref()) == Some("Running");
    let node = pod.spec.as_ref().and_then(|s| s.node_name.clone());
    Candidate {
        name: pod.metadata.name.clone().unwrap_or_default(),
        namespace: pod
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| namespace.into()),
        ready,
        running,
        terminating: pod.metadata.deletion_timestamp.is_some(),
        node_labels: node
            .and_then(|n| node_labels.get(&n).cloned())
            .unwrap_or_default(),
    }
}

/// The pod selector of the workload a target names (by name, or the first matching selector).
async fn workload_selector(
    client: &Client,
    namespace: &str,
    kind: TargetKind,
    target: &api::Target,
) -> Result<String, FaultError> {
    let (kind_name, plural) = match kind {
        TargetKind::Deployment => ("Deployment", "deployments"),
        TargetKind::StatefulSet => ("StatefulSet", "statefulsets"),
        TargetKind::DaemonSet => ("DaemonSet", "daemonsets"),
        TargetKind::ReplicaSet => ("ReplicaSet", "replicasets"),
        TargetKind::Pod => unreachable!("pods are listed directly"),
    };
    let resource =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("apps", "v1", kind_name), plural);
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource);
    let workloads: Vec<DynamicObject> = match &target.name {
        Some(name) => vec![api.get(name).await?],
        None => {
            let selector = target
                .selector
                .as_ref()
                .map(selector_string)
                .unwrap_or_default();
            api.list(&ListParams::default().labels(&selector))
                .await?
                .items
        }
    };
    let mut selectors = Vec::new();
    for workload in &workloads {
        let name = workload.metadata.name.clone().unwrap_or_default();
        let selector: Option<LabelSelector> = workload
            .data
            .pointer("/spec/selector")
            .and_then(|s| serde_json::from_value(s.clone()).ok());
        match selector {
            Some(s) => selectors.push(selector_string(&s)),
            None => {
                return Err(FaultError::NoSelector {
                    kind: kind_name,
                    namespace: namespace.into(),
                    name,
                });
            }
        }
    }
    // Several workloads: their pods are the union; one list per selector would be needed, so
    // we use the first one and say so in the logs. Naming one workload is the common case.
    if selectors.len() > 1 {
        tracing::warn!(
            count = selectors.len(),
            "several workloads match; targeting the pods of the first"
        );
    }
    selectors.into_iter().next().ok_or(FaultError::NoSelector {
        kind: kind_name,
        namespace: namespace.into(),
        name: target.name.clone().unwrap_or_default(),
    })
}

/// Renders a LabelSelector in the API's label-selector syntax.
pub fn selector_string(selector: &LabelSelector) -> String {
    let mut parts: Vec<String> = selector
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for expr in selector.match_expressions.iter().flatten() {
        let values = expr.values.clone().unwrap_or_default().join(",");
        parts.push(match expr.operator.as_str() {
            "In" => format!("{} in ({values})", expr.key),
            "NotIn" => format!("{} notin ({values})", expr.key),
            "Exists" => expr.key.clone(),
            "DoesNotExist" => format!("!{}", expr.key),
            other => format!("{} {other} ({values})", expr.key),
        });
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    #[test]
    fn selectors_render_in_label_selector_syntax() {
        let selector = LabelSelector {
            match_labels: Some(BTreeMap::from([("app".into(), "web".into())])),
            match_expressions: Some(vec![
                LabelSelectorRequirement {
                    key: "tier".into(),
                    operator: "In".into(),
                    values: Some(vec!["a".into(), "b".into()]),
                },
                LabelSelectorRequirement {
                    key: "canary".into(),
                    operator: "DoesNotExist".into(),
                    values: None,
                },
            ]),
        };
        assert_eq!(selector_string(&selector), "app=web,tier in (a,b),!canary");
    }
}
