//! node-taint: adds the taint `nodeTaint: {key, value, effect}` to the target nodes for the
//! duration; the revert removes exactly that taint (same key, value and effect), and nothing
//! else. A node that already has a taint with that key and effect is skipped: the taint is not
//! Faultline's to remove.

use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::{Node, PodSpec, Taint, Toleration};
use kube::{Api, Client, api::PatchParams};
use serde_json::json;

use super::{
    Env, Executor, FaultError, FaultKind, Prepared, Reverted, Scope, TargetRef, json_patch,
    node_cordon::{NODE_RULES, POD_READ_RULE, WORKLOAD_READ_RULE},
};
use crate::api::{self, FaultType, LedgerState, NodeTaintParameters, TargetAction, TargetRecord};

pub static KIND: FaultKind = FaultKind {
    fault_type: FaultType::NodeTaint,
    scope: Scope::Nodes,
    sustained: true,
    action: TargetAction::Tainted,
    rules: &[POD_READ_RULE, WORKLOAD_READ_RULE],
    cluster_rules: &[NODE_RULES],
    revert_wording: "removed exactly the taint it had added",
    pod_overrides: tolerate_own_taint,
    placement: super::Placement::Api,
    build,
};

/// The fault pod tolerates the taint it adds, so a NoExecute taint on its own node does not
/// evict it before the duration ends.
fn tolerate_own_taint(spec: &mut PodSpec, fault: &api::Fault) {
    if let Some(taint) = &fault.parameters.node_taint {
        spec.tolerations
            .get_or_insert_with(Vec::new)
            .push(Toleration {
                key: Some(taint.key.clone()),
                operator: Some("Exists".into()),
                ..Toleration::default()
            });
    }
}

fn build(client: Client, fault: &api::Fault, _env: &Env) -> Box<dyn Executor> {
    let taint = fault.parameters.node_taint.clone().unwrap_or_default();
    Box::new(NodeTaint { client, taint })
}

struct NodeTaint {
    client: Client,
    taint: NodeTaintParameters,
}

/// `key=value:Effect`, as kubectl writes a taint.
pub fn describe(taint: &NodeTaintParameters) -> String {
    format!("{}={}:{}", taint.key, taint.value, taint.effect.as_str())
}

fn taints(node: &Node) -> &[Taint] {
    node.spec
        .as_ref()
        .and_then(|s| s.taints.as_deref())
        .unwrap_or_default()
}

/// The position of exactly this taint on the node.
pub fn position(taints: &[Taint], taint: &NodeTaintParameters) -> Option<usize> {
    taints.iter().position(|t| {
        t.key == taint.key
            && t.value.as_deref().unwrap_or("") == taint.value
            && t.effect == taint.effect.as_str()
    })
}

/// The JSON patch that adds `taint`, failing if the node changed since `resource_version`.
pub fn add_patch(
    resource_version: &str,
    existing: usize,
    taint: &NodeTaintParameters,
) -> serde_json::Value {
    let value = json!({"key": taint.key, "value": taint.value, "effect": taint.effect.as_str()});
    let add = if existing == 0 {
        json!({"op": "add", "path": "/spec/taints", "value": [value]})
    } else {
        json!({"op": "add", "path": "/spec/taints/-", "value": value})
    };
    json!([
        {"op": "test", "path": "/metadata/resourceVersion", "value": resource_version},
        add,
    ])
}

impl NodeTaint {
    fn nodes(&self) -> Api<Node> {
        Api::all(self.client.clone())
    }
}

impl Executor for NodeTaint {
    fn prepare<'a>(&'a self, target: &'a TargetRef) -> BoxFuture<'a, Result<Prepared, FaultError>> {
        Box::pin(async move {
            let node = self.nodes().get(&target.name).await?;
            let clash = taints(&node)
                .iter()
                .any(|t| t.key == self.taint.key && t.effect == self.taint.effect.as_str());
            if clash {
                return Ok(Prepared::Skip(format!(
                    "node {} already has a taint {}:{}; it is not Faultline's to remove, so the \
                     node is left alone",
                    target.name,
                    self.taint.key,
                    self.taint.effect.as_str()
                )));
            }
            Ok(Prepared::Go { original: None })
        })
    }

    fn inject<'a>(
        &'a self,
        record: &'a TargetRecord,
    ) -> BoxFuture<'a, Result<Vec<TargetRecord>, FaultError>> {
        Box::pin(async move {
            super::retry_conflicts(|| async {
                let node = self.nodes().get(&record.name).await?;
                let version = node.metadata.resource_version.clone().unwrap_or_default();
                let patch = add_patch(&version, taints(&node).len(), &self.taint);
                self.nodes()
                    .patch(&record.name, &PatchParams::default(), &json_patch(patch))
                    .await?;
                Ok(vec![])
            })
            .await
        })
    }

    fn revert<'a>(
        &'a self,
        record: &'a TargetRecord,
    ) -> BoxFuture<'a, Result<Reverted, FaultError>> {
        Box::pin(super::retry_conflicts(move || self.revert_once(record)))
    }
}

impl NodeTaint {
    /// Removes the taint if the node has it; the patch tests that exact taint is still at its
    /// index, so a concurrent change to the taints fails it (and it is tried again).
    async fn revert_once(&self, record: &TargetRecord) -> Result<Reverted, FaultError> {
        {
            let node = self.nodes().get(&record.name).await?;
            let Some(index) = position(taints(&node), &self.taint) else {
                let why = format!(
                    "node {} does not have the taint {}",
                    record.name,
                    describe(&self.taint)
                );
                return Ok(if record.state == LedgerState::Injecting {
                    Reverted::done(Some(why))
                } else {
                    Reverted::drifted(format!("{why}: someone removed it meanwhile"))
                });
            };
            let path = format!("/spec/taints/{index}");
            let patch = json!([
                {"op": "test", "path": path, "value": taints(&node)[index]},
                {"op": "remove", "path": path},
            ]);
            self.nodes()
                .patch(&record.name, &PatchParams::default(), &json_patch(patch))
                .await?;
            Ok(Reverted::done(Some(format!(
                "removed the taint {}",
                describe(&self.taint)
            ))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::TaintEffect;

    fn taint(key: &str, value: &str, effect: &str) -> Taint {
        Taint {
            key: key.into(),
            value: Some(value.into()),
            effect: effect.into(),
            time_added: None,
        }
    }

    #[test]
    fn the_revert_finds_exactly_the_taint_it_added() {
        let ours = NodeTaintParameters {
            key: "chaos".into(),
            value: "on".into(),
            effect: TaintEffect::NoSchedule,
        };
        let on_node = vec![
            taint("chaos", "other", "NoSchedule"),
            taint("chaos", "on", "NoExecute"),
            taint("chaos", "on", "NoSchedule"),
        ];
        assert_eq!(position(&on_node, &ours), Some(2));
        assert_eq!(position(&on_node[..2], &ours), None);
        assert_eq!(describe(&ours), "chaos=on:NoSchedule");
    }

    #[test]
    fn a_node_without_taints_gets_the_list_created() {
        let ours = NodeTaintParameters {
            key: "k".into(),
            value: String::new(),
            effect: TaintEffect::NoExecute,
        };
        let patch = add_patch("42", 0, &ours);
        assert_eq!(patch[1]["path"], "/spec/taints");
        assert_eq!(add_patch("42", 2, &ours)[1]["path"], "/spec/taints/-");
        assert_eq!(patch[0]["value"], "42");
    }
}
