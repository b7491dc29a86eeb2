//! Target resolution: the pods, workloads or nodes a fault's `target` names, as candidates for
//! [`select_targets`], and the chosen ones as [`TargetRef`]s.

use std::collections::BTreeMap;

use k8s_openapi::{
    api::core::v1::{Node, Pod},
    apimachinery::pkg::apis::meta::v1::LabelSelector,
};
use kube::{
    Api, Client,
    api::{DynamicObject, ListParams},
    core::{ApiResource, GroupVersionKind},
};
use rand::Rng;

use super::{FaultError, Scope};
use crate::{
    api::{self, TargetKind},
    domain::{
        selection::{Candidate, select_targets},
        selector,
    },
};

/// One object a fault acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetRef {
    /// Pod, Deployment, StatefulSet, ReplicaSet or Node.
    pub kind: String,
    /// Empty for a Node.
    pub namespace: String,
    pub name: String,
}

/// What one selection found: the targets, or why there are none this time.
pub enum Resolved {
    Targets {
        targets: Vec<TargetRef>,
        eligible: usize,
    },
    Refused(String),
}

/// Resolves `target` for a fault acting on `scope`, and picks the targets with `rng`.
pub async fn resolve(
    client: &Client,
    namespace: &str,
    target: &api::Target,
    scope: Scope,
    rng: &mut impl Rng,
) -> Result<Resolved, FaultError> {
    let (kind, candidates) = match (scope, target.kind) {
        (Scope::Nodes, TargetKind::Node) => ("Node", node_candidates(client, target).await?),
        (Scope::Workloads, kind) => (
            kind.as_str(),
            workload_candidates(client, namespace, kind, target).await?,
        ),
        _ => ("Pod", list_candidates(client, namespace, target).await?),
    };
    let selection = match select_targets(&candidates, target, rng) {
        Ok(selection) => selection,
        Err(refusal) => return Ok(Resolved::Refused(refusal.to_string())),
    };
    let mut targets: Vec<TargetRef> = selection
        .targets
        .iter()
        .filter_map(|name| candidates.iter().find(|c| &c.name == name))
        .map(|c| TargetRef {
            kind: kind.into(),
            namespace: if kind == "Node" {
                String::new()
            } else {
                c.namespace.clone()
            },
            name: c.name.clone(),
        })
        .collect();
    if scope == Scope::Nodes && kind == "Pod" {
        targets = nodes_of(client, &targets).await?;
    }
    Ok(Resolved::Targets {
        targets,
        eligible: selection.eligible,
    })
}

/// The nodes the chosen pods run on, each once.
async fn nodes_of(client: &Client, pods: &[TargetRef]) -> Result<Vec<TargetRef>, FaultError> {
    let mut nodes: Vec<TargetRef> = Vec::new();
    for pod in pods {
        let api: Api<Pod> = Api::namespaced(client.clone(), &pod.namespace);
        let node = api
            .get_opt(&pod.name)
            .await?
            .and_then(|p| p.spec)
            .and_then(|s| s.node_name);
        if let Some(name) = node
            && !nodes.iter().any(|n| n.name == name)
        {
            nodes.push(TargetRef {
                kind: "Node".into(),
                namespace: String::new(),
                name,
            });
        }
    }
    Ok(nodes)
}

/// Nodes by name or label selector; a node is "ready" when its Ready condition is True.
async fn node_candidates(
    client: &Client,
    target: &api::Target,
) -> Result<Vec<Candidate>, FaultError> {
    let nodes = named_or_selected(&Api::<Node>::all(client.clone()), target).await?;
    Ok(nodes
        .into_iter()
        .map(|node| {
            let ready = node
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
            Candidate {
                name: node.metadata.name.clone().unwrap_or_default(),
                namespace: String::new(),
                ready,
                running: true,
                terminating: node.metadata.deletion_timestamp.is_some(),
                node_labels: node.metadata.labels.unwrap_or_default(),
            }
        })
        .collect())
}

/// The workloads a target names themselves (workload-scale acts on them, not on their pods).
async fn workload_candidates(
    client: &Client,
    namespace: &str,
    kind: TargetKind,
    target: &api::Target,
) -> Result<Vec<Candidate>, FaultError> {
    let api = workload_api(client, namespace, kind);
    let workloads = named_or_selected(&api, target).await?;
    Ok(workloads
        .into_iter()
        .map(|w| Candidate {
            name: w.metadata.name.clone().unwrap_or_default(),
            namespace: namespace.into(),
            ready: true,
            running: true,
            terminating: w.metadata.deletion_timestamp.is_some(),
            node_labels: BTreeMap::new(),
        })
        .collect())
}

/// The API of a workload kind (apps/v1), as dynamic objects.
pub fn workload_api(client: &Client, namespace: &str, kind: TargetKind) -> Api<DynamicObject> {
    let plural = match kind {
        TargetKind::StatefulSet => "statefulsets",
        TargetKind::DaemonSet => "daemonsets",
        TargetKind::ReplicaSet => "replicasets",
        _ => "deployments",
    };
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("apps", "v1", kind.as_str()),
        plural,
    );
    Api::namespaced_with(client.clone(), namespace, &resource)
}

/// The objects `target` names: the one called `name`, or those matching `selector` (all when
/// neither is set).
async fn named_or_selected<K>(api: &Api<K>, target: &api::Target) -> Result<Vec<K>, FaultError>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    Ok(match &target.name {
        Some(name) => api.get_opt(name).await?.into_iter().collect(),
        None => {
            let selector = target
                .selector
                .as_ref()
                .map(selector_string)
                .transpose()?
                .unwrap_or_default();
            api.list(&ListParams::default().labels(&selector))
                .await?
                .items
        }
    })
}

/// The pods a target names: directly (kind Pod) or through a workload's selector.
async fn list_candidates(
    client: &Client,
    namespace: &str,
    target: &api::Target,
) -> Result<Vec<Candidate>, FaultError> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let listed: Vec<Pod> = match target.kind {
        TargetKind::Pod => named_or_selected(&pods, target).await?,
        kind => match workload_selector(client, namespace, kind, target).await? {
            Some(selector) => {
                pods.list(&ListParams::default().labels(&selector))
                    .await?
                    .items
            }
            // The named workload does not exist: no candidates, and selection says so.
            None => vec![],
        },
    };
    let mut node_labels: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    if target.node_selector.is_some() {
        let nodes: Api<Node> = Api::all(client.clone());
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
) -> Result<Option<String>, FaultError> {
    let kind_name = kind.as_str();
    let api = workload_api(client, namespace, kind);
    let workloads = named_or_selected(&api, target).await?;
    let mut selectors = Vec::new();
    for workload in &workloads {
        let name = workload.metadata.name.clone().unwrap_or_default();
        let selector: Option<LabelSelector> = workload
            .data
            .pointer("/spec/selector")
            .and_then(|s| serde_json::from_value(s.clone()).ok());
        match selector {
            Some(s) => selectors.push(selector_string(&s)?),
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
    Ok(selectors.into_iter().next())
}

/// A LabelSelector in the API's label-selector syntax ([`selector::render`]); a requirement
/// the API would refuse is refused here, with its key.
pub fn selector_string(selector: &LabelSelector) -> Result<String, FaultError> {
    selector::render(selector).map_err(|e| FaultError::Refused(e.to_string()))
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
        assert_eq!(
            selector_string(&selector).unwrap(),
            "app=web,tier in (a,b),!canary"
        );
    }
}
