//! node-drain: cordons the target nodes (as node-cordon does, with the same mark), then evicts
//! their pods through the Eviction API, so PodDisruptionBudgets are honoured: an eviction they
//! refuse (429) is tried again every interval while the fault lasts. It skips DaemonSet pods,
//! mirror pods, pods without a controller (nothing would replace them), Faultline's own pods and
//! everything in Faultline's namespace. The revert uncordons; evicted pods are replaced by their
//! owners and need no revert.

use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::Pod;
use kube::{
    Api, Client,
    api::{DeleteParams, EvictParams, ListParams},
};

use super::{
    BY_FAULT_POD, Env, Executor, FaultError, FaultKind, Prepared, Reverted, Rule, Scope, TargetRef,
    node_cordon::{Cordon, NODE_RULES, WORKLOAD_READ_RULE},
};
use crate::api::{self, FaultType, LedgerState, TargetAction, TargetRecord};

pub static KIND: FaultKind = FaultKind {
    fault_type: FaultType::NodeDrain,
    scope: Scope::Nodes,
    sustained: true,
    action: TargetAction::Drained,
    rules: &[WORKLOAD_READ_RULE],
    cluster_rules: &[
        NODE_RULES,
        Rule {
            groups: &[""],
            resources: &["pods"],
            verbs: &["get", "list"],
            why: "find the pods on a drained node, in every namespace",
        },
        Rule {
            groups: &[""],
            resources: &["pods/eviction"],
            verbs: &["create"],
            why: "evict them through the Eviction API, which honours PodDisruptionBudgets",
        },
    ],
    revert_wording: "uncordoned the nodes it had drained; evicted pods were replaced by their owners",
    pod_overrides: super::no_overrides,
    placement: super::Placement::Api,
    build,
};

fn build(client: Client, fault: &api::Fault, env: &Env) -> Box<dyn Executor> {
    let grace = fault
        .parameters
        .node_drain
        .as_ref()
        .and_then(|p| p.grace_period_seconds)
        .map(|s| u32::try_from(s).unwrap_or(u32::MAX));
    Box::new(NodeDrain {
        cordon: Cordon::new(client.clone(), env),
        client,
        grace,
        operator_namespace: env.operator_namespace.clone(),
    })
}

/// How long one eviction may take before it counts as refused for this interval.
const EVICTION_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

struct NodeDrain {
    client: Client,
    cordon: Cordon,
    grace: Option<u32>,
    operator_namespace: String,
}

/// Why a pod on a drained node is left where it is, or None to evict it.
pub fn keep_reason(pod: &Pod, operator_namespace: &str) -> Option<&'static str> {
    let meta = &pod.metadata;
    let owners = meta.owner_references.as_deref().unwrap_or_default();
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    if meta.namespace.as_deref() == Some(operator_namespace) {
        Some("in Faultline's namespace")
    } else if meta
        .labels
        .as_ref()
        .and_then(|l| l.get("app.kubernetes.io/name"))
        == Some(&"faultline".to_string())
    {
        Some("a Faultline pod")
    } else if meta
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key("kubernetes.io/config.mirror"))
    {
        Some("a mirror pod")
    } else if owners.iter().any(|o| o.kind == "DaemonSet") {
        Some("a DaemonSet pod")
    } else if !owners.iter().any(|o| o.controller == Some(true)) {
        Some("not managed by a controller: nothing would replace it")
    } else if meta.deletion_timestamp.is_some() || matches!(phase, Some("Succeeded" | "Failed")) {
        Some("already terminating or finished")
    } else {
        None
    }
}

impl NodeDrain {
    /// Evicts every pod on `node` that may go; returns the evicted ones as settled entries.
    async fn evict_all(&self, node: &str) -> Result<Vec<TargetRecord>, FaultError> {
        let all: Api<Pod> = Api::all(self.client.clone());
        let on_node = all
            .list(&ListParams::default().fields(&format!("spec.nodeName={node}")))
            .await?;
        let mut evicted = Vec::new();
        for pod in &on_node.items {
            let namespace = pod.metadata.namespace.clone().unwrap_or_default();
            let name = pod.metadata.name.clone().unwrap_or_default();
            if let Some(why) = keep_reason(pod, &self.operator_namespace) {
                tracing::debug!(pod = %name, %namespace, why, "not evicted");
                continue;
            }
            let params = EvictParams {
                delete_options: Some(DeleteParams {
                    grace_period_seconds: self.grace,
                    ..DeleteParams::default()
                }),
                ..EvictParams::default()
            };
            let api: Api<Pod> = Api::namespaced(self.client.clone(), &namespace);
            // The client retries a 429 with backoff, but a budget's 429 is an answer: give up on
            // this pod until the next interval rather than wait the backoff out.
            let Ok(evicted_now) =
                tokio::time::timeout(EVICTION_WAIT, api.evict(&name, &params)).await
            else {
                tracing::info!(pod = %name, %namespace, "eviction refused (a PodDisruptionBudget); trying again next interval");
                continue;
            };
            match evicted_now {
                Ok(_) => {
                    let mut record =
                        TargetRecord::new("Pod", &namespace, &name, TargetAction::Evicted);
                    let note = format!("evicted from node {node}; its owner replaces it");
                    record.settle(LedgerState::Reverted, BY_FAULT_POD, Some(note));
                    evicted.push(record);
                }
                Err(kube::Error::Api(status)) if status.code == 429 => {
                    tracing::info!(pod = %name, %namespace, message = %status.message, "eviction refused by a PodDisruptionBudget; trying again next interval");
                }
                Err(kube::Error::Api(status)) if status.code == 404 => {}
                Err(err) => return Err(err.into()),
            }
        }
        Ok(evicted)
    }
}

impl Executor for NodeDrain {
    fn prepare<'a>(&'a self, target: &'a TargetRef) -> BoxFuture<'a, Result<Prepared, FaultError>> {
        Box::pin(self.cordon.prepare(target))
    }

    fn inject<'a>(
        &'a self,
        record: &'a TargetRecord,
    ) -> BoxFuture<'a, Result<Vec<TargetRecord>, FaultError>> {
        Box::pin(async move {
            self.cordon.cordon(&record.name).await?;
            self.evict_all(&record.name).await
        })
    }

    fn renew<'a>(
        &'a self,
        record: &'a TargetRecord,
    ) -> BoxFuture<'a, Result<Vec<TargetRecord>, FaultError>> {
        Box::pin(self.evict_all(&record.name))
    }

    fn revert<'a>(
        &'a self,
        record: &'a TargetRecord,
    ) -> BoxFuture<'a, Result<Reverted, FaultError>> {
        Box::pin(self.cordon.uncordon(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
    use kube::api::ObjectMeta;
    use std::collections::BTreeMap;

    fn pod(namespace: &str, owner: Option<&str>) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some("p".into()),
                namespace: Some(namespace.into()),
                owner_references: owner.map(|kind| {
                    vec![OwnerReference {
                        kind: kind.into(),
                        controller: Some(true),
                        ..OwnerReference::default()
                    }]
                }),
                ..ObjectMeta::default()
            },
            ..Pod::default()
        }
    }

    #[test]
    fn a_drain_evicts_only_replaceable_pods_outside_faultline() {
        assert_eq!(
            keep_reason(&pod("shop", Some("ReplicaSet")), "faultline-system"),
            None
        );
        assert_eq!(
            keep_reason(&pod("shop", Some("DaemonSet")), "faultline-system"),
            Some("a DaemonSet pod")
        );
        assert!(keep_reason(&pod("shop", None), "faultline-system").is_some());
        assert_eq!(
            keep_reason(
                &pod("faultline-system", Some("ReplicaSet")),
                "faultline-system"
            ),
            Some("in Faultline's namespace")
        );
        let mut mirror = pod("kube-system", Some("Node"));
        mirror.metadata.annotations = Some(BTreeMap::from([(
            "kubernetes.io/config.mirror".into(),
            "x".into(),
        )]));
        assert_eq!(
            keep_reason(&mirror, "faultline-system"),
            Some("a mirror pod")
        );
    }
}
