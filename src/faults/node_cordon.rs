//! node-cordon: marks the target nodes unschedulable for the duration. Each node it cordons
//! carries the annotation `chaos.faultline.dev/cordoned-by` naming the result and fault, and the
//! revert uncordons only a node that still carries its own mark: a node someone else cordoned is
//! skipped, and one someone uncordoned meanwhile is left as they set it. node-drain shares these
//! steps.

use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::Node;
use kube::{
    Api, Client,
    api::{Patch, PatchParams},
};
use serde_json::json;

use super::{Env, Executor, FaultError, FaultKind, Prepared, Reverted, Rule, Scope, TargetRef};
use crate::api::{self, FaultType, LedgerState, TargetAction, TargetRecord};

/// The annotation a cordoned node carries: `<namespace>/<result>/<fault>`.
pub const CORDONED_BY: &str = "chaos.faultline.dev/cordoned-by";

/// What a node fault may do to nodes (bound cluster-wide, only where node targets are allowed).
pub const NODE_RULES: Rule = Rule {
    groups: &[""],
    resources: &["nodes"],
    verbs: &["get", "list", "patch"],
    why: "read the target nodes, then change and restore them",
};

/// Finding the nodes of a pod target.
pub const POD_READ_RULE: Rule = Rule {
    groups: &[""],
    resources: &["pods"],
    verbs: &["get", "list"],
    why: "find the nodes of a pod or workload target",
};

/// Resolving a workload target to its pods.
pub const WORKLOAD_READ_RULE: Rule = Rule {
    groups: &["apps"],
    resources: &["deployments", "statefulsets", "daemonsets", "replicasets"],
    verbs: &["get", "list"],
    why: "resolve a workload target to its pod selector",
};

pub static KIND: FaultKind = FaultKind {
    fault_type: FaultType::NodeCordon,
    scope: Scope::Nodes,
    sustained: true,
    action: TargetAction::Cordoned,
    rules: &[POD_READ_RULE, WORKLOAD_READ_RULE],
    cluster_rules: &[NODE_RULES],
    revert_wording: "uncordoned the nodes it had cordoned",
    pod_overrides: super::no_overrides,
    placement: super::Placement::Api,
    build,
};

fn build(client: Client, _fault: &api::Fault, env: &Env) -> Box<dyn Executor> {
    Box::new(NodeCordon(Cordon::new(client, env)))
}

/// The cordon steps node-cordon and node-drain share.
pub struct Cordon {
    pub client: Client,
    /// This fault's mark: `<namespace>/<result>/<fault>`.
    pub mark: String,
}

impl Cordon {
    pub fn new(client: Client, env: &Env) -> Self {
        Cordon {
            client,
            mark: format!("{}/{}", env.result, env.fault),
        }
    }

    fn nodes(&self) -> Api<Node> {
        Api::all(self.client.clone())
    }

    /// Go, unless someone else has already cordoned the node.
    pub async fn prepare(&self, target: &TargetRef) -> Result<Prepared, FaultError> {
        let node = self.nodes().get(&target.name).await?;
        if is_cordoned(&node) {
            return Ok(Prepared::Skip(format!(
                "node {} is already cordoned; Faultline only uncordons nodes it cordoned itself, \
                 so it leaves this one alone",
                target.name
            )));
        }
        Ok(Prepared::Go {
            original: Some("schedulable".into()),
        })
    }

    /// Cordons the node and marks it, failing if the node changed since it was read or someone
    /// cordoned it since `prepare` (then it is theirs, and the revert leaves it alone).
    pub async fn cordon(&self, name: &str) -> Result<(), FaultError> {
        super::retry_conflicts(|| self.cordon_once(name)).await
    }

    async fn cordon_once(&self, name: &str) -> Result<(), FaultError> {
        let node = self.nodes().get(name).await?;
        if is_cordoned(&node) {
            return Err(FaultError::Refused(format!(
                "node {name} was cordoned by someone else just before this fault; left alone"
            )));
        }
        let patch = json!({
            "metadata": {
                "resourceVersion": node.metadata.resource_version,
                "annotations": {CORDONED_BY: self.mark},
            },
            "spec": {"unschedulable": true},
        });
        self.nodes()
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
        Ok(())
    }

    /// Uncordons the node if it still carries this fault's mark.
    pub async fn uncordon(&self, record: &TargetRecord) -> Result<Reverted, FaultError> {
        super::retry_conflicts(|| self.uncordon_once(record)).await
    }

    async fn uncordon_once(&self, record: &TargetRecord) -> Result<Reverted, FaultError> {
        let node = self.nodes().get(&record.name).await?;
        let decision = uncordon_decision(&node, &self.mark, record.state);
        if let UncordonDecision::Uncordon | UncordonDecision::RemoveMark(_) = decision {
            let unschedulable = if decision == UncordonDecision::Uncordon {
                serde_json::Value::Null
            } else {
                json!(node.spec.as_ref().and_then(|s| s.unschedulable))
            };
            let patch = json!({
                "metadata": {
                    "resourceVersion": node.metadata.resource_version,
                    "annotations": {CORDONED_BY: null},
                },
                "spec": {"unschedulable": unschedulable},
            });
            self.nodes()
                .patch(&record.name, &PatchParams::default(), &Patch::Merge(&patch))
                .await?;
        }
        Ok(match decision {
            UncordonDecision::Uncordon => Reverted::done(Some("uncordoned".to_string())),
            UncordonDecision::RemoveMark(why) | UncordonDecision::LeaveAlone(why) => {
                if record.state == LedgerState::Injecting {
                    Reverted::done(Some(why))
                } else {
                    Reverted::drifted(why)
                }
            }
        })
    }
}

fn is_cordoned(node: &Node) -> bool {
    node.spec
        .as_ref()
        .and_then(|s| s.unschedulable)
        .unwrap_or(false)
}

/// What the revert of a cordon does with the node as it finds it.
#[derive(Debug, PartialEq, Eq)]
pub enum UncordonDecision {
    /// It carries this fault's mark and is cordoned: uncordon it and remove the mark.
    Uncordon,
    /// It carries this fault's mark but someone uncordoned it: remove the mark only.
    RemoveMark(String),
    /// It does not carry this fault's mark: not ours to touch.
    LeaveAlone(String),
}

/// Decides the revert of a cordon from the node's mark and state.
pub fn uncordon_decision(node: &Node, mark: &str, state: LedgerState) -> UncordonDecision {
    let name = node.metadata.name.clone().unwrap_or_default();
    let found = node
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(CORDONED_BY));
    match found {
        Some(found) if found == mark && is_cordoned(node) => UncordonDecision::Uncordon,
        Some(found) if found == mark => UncordonDecision::RemoveMark(format!(
            "node {name} was uncordoned by someone else meanwhile; left schedulable"
        )),
        Some(other) => UncordonDecision::LeaveAlone(format!(
            "node {name} is now marked as cordoned by {other}; left as it is"
        )),
        None if state == LedgerState::Injecting => {
            UncordonDecision::LeaveAlone(format!("node {name} was never cordoned by this fault"))
        }
        None => UncordonDecision::LeaveAlone(format!(
            "node {name} no longer carries this fault's mark; left as it is"
        )),
    }
}

struct NodeCordon(Cordon);

impl Executor for NodeCordon {
    fn prepare<'a>(&'a self, target: &'a TargetRef) -> BoxFuture<'a, Result<Prepared, FaultError>> {
        Box::pin(self.0.prepare(target))
    }

    fn inject<'a>(
        &'a self,
        record: &'a TargetRecord,
    ) -> BoxFuture<'a, Result<Vec<TargetRecord>, FaultError>> {
        Box::pin(async move {
            self.0.cordon(&record.name).await?;
            Ok(vec![])
        })
    }

    fn revert<'a>(
        &'a self,
        record: &'a TargetRecord,
    ) -> BoxFuture<'a, Result<Reverted, FaultError>> {
        Box::pin(self.0.uncordon(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::NodeSpec;
    use kube::api::ObjectMeta;
    use std::collections::BTreeMap;

    fn node(mark: Option<&str>, cordoned: bool) -> Node {
        Node {
            metadata: ObjectMeta {
                name: Some("n1".into()),
                annotations: mark.map(|m| BTreeMap::from([(CORDONED_BY.into(), m.into())])),
                ..ObjectMeta::default()
            },
            spec: Some(NodeSpec {
                unschedulable: Some(cordoned),
                ..NodeSpec::default()
            }),
            status: None,
        }
    }

    #[test]
    fn only_a_node_carrying_this_faults_mark_is_uncordoned() {
        let ours = "shop/run-1/cordon";
        let injected = LedgerState::Injected;
        assert_eq!(
            uncordon_decision(&node(Some(ours), true), ours, injected),
            UncordonDecision::Uncordon
        );
        assert!(matches!(
            uncordon_decision(&node(Some(ours), false), ours, injected),
            UncordonDecision::RemoveMark(_)
        ));
        assert!(matches!(
            uncordon_decision(&node(Some("other/run-2/x"), true), ours, injected),
            UncordonDecision::LeaveAlone(_)
        ));
        assert!(matches!(
            uncordon_decision(&node(None, true), ours, LedgerState::Injecting),
            UncordonDecision::LeaveAlone(_)
        ));
    }
}
