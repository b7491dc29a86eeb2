//! Fault pods: their spec, and the ServiceAccount and RoleBindings they run under.

use std::collections::BTreeMap;

use k8s_openapi::{
    api::{
        core::v1::{
            Container, EnvVar, EnvVarSource, ObjectFieldSelector, Pod, PodSecurityContext, PodSpec,
            ServiceAccount,
        },
        rbac::v1::{RoleBinding, RoleRef, Subject},
    },
    apimachinery::pkg::apis::meta::v1::OwnerReference,
};
use kube::{
    Api, Resource, ResourceExt,
    api::{ObjectMeta, PostParams},
};

use super::{context::Context, error::Result};
use crate::{
    api::{ChaosResult, EXPERIMENT_LABEL, Fault, RESULT_LABEL},
    faults::{self, Placement},
};

/// How long a fault pod has to revert after SIGTERM, and how long past its duration it may run
/// before the kubelet stops it (and it reverts).
pub const REVERT_GRACE_SECONDS: i64 = 30;

/// `<result>-<fault>`, cut to a valid pod name.
pub fn fault_pod_name(result: &str, fault: &str) -> String {
    let mut name = format!("{result}-{fault}");
    name.truncate(63);
    name.trim_end_matches('-').to_string()
}

pub use crate::api::RESULT_NAMESPACE_LABEL;

/// A short, stable hash (FNV-1a, 8 hex digits) that keeps names unique once cut.
fn short_hash(text: &str) -> String {
    let hash = text.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    format!("{hash:08x}")
}

/// Where a fault's pod lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultPodRef {
    pub namespace: String,
    pub name: String,
}

/// The fault pod of `fault` in the run `result_namespace/result`: in the result's namespace,
/// or, for a node-level fault, in Faultline's own, where results of every namespace meet: its
/// name then ends with a hash of the result's namespace, name and fault, so no two collide.
pub fn fault_pod_ref(
    operator_namespace: &str,
    result_namespace: &str,
    result: &str,
    fault: &Fault,
) -> FaultPodRef {
    match faults::kind(fault.fault_type).placement {
        Placement::Api => FaultPodRef {
            namespace: result_namespace.into(),
            name: fault_pod_name(result, &fault.name),
        },
        Placement::TargetNode => {
            let mut name = fault_pod_name(result, &fault.name);
            name.truncate(54);
            let hash = short_hash(&format!("{result_namespace}/{result}/{}", fault.name));
            FaultPodRef {
                namespace: operator_namespace.into(),
                name: format!("{}-{hash}", name.trim_end_matches('-')),
            }
        }
    }
}

pub use crate::domain::placement::NodePlan;

async fn create_if_missing<K>(api: &Api<K>, object: &K) -> Result<()>
where
    K: Resource + Clone + serde::Serialize + serde::de::DeserializeOwned + std::fmt::Debug,
{
    match api.create(&PostParams::default(), object).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(()),
        Err(err) => Err(err.into()),
    }
}

/// Ensures the fault type's ServiceAccount in `namespace` and RoleBindings to its ClusterRole in
/// `namespace` (to write the ledger) and in the target namespace (to act on targets). A node
/// fault's cluster-wide rules are bound by the chart, for the namespaces it allows.
pub async fn ensure_fault_rbac(ctx: &Context, namespace: &str, fault: &Fault) -> Result<()> {
    let kind = faults::kind(fault.fault_type);
    let identity = kind.identity();
    // A node-level fault pod runs in Faultline's namespace, under an account there.
    let home = match kind.placement {
        Placement::Api => namespace.to_string(),
        Placement::TargetNode => ctx.config.namespace.clone(),
    };
    let labels = BTreeMap::from([(
        "app.kubernetes.io/managed-by".to_string(),
        "faultline".to_string(),
    )]);
    let accounts: Api<ServiceAccount> = Api::namespaced(ctx.client.clone(), &home);
    let account = ServiceAccount {
        metadata: ObjectMeta {
            name: Some(identity.clone()),
            labels: Some(labels.clone()),
            ..ObjectMeta::default()
        },
        automount_service_account_token: Some(true),
        ..ServiceAccount::default()
    };
    create_if_missing(&accounts, &account).await?;
    let target = fault
        .target
        .namespace
        .clone()
        .unwrap_or_else(|| namespace.to_string());
    let mut namespaces = vec![namespace.to_string(), target];
    namespaces.extend(peer_namespaces(fault));
    namespaces.sort();
    namespaces.dedup();
    for binding_namespace in namespaces {
        let name = if binding_namespace == home {
            identity.clone()
        } else {
            format!("{identity}-{namespace}")
        };
        let bindings: Api<RoleBinding> = Api::namespaced(ctx.client.clone(), &binding_namespace);
        let binding = RoleBinding {
            metadata: ObjectMeta {
                name: Some(name),
                labels: Some(labels.clone()),
                ..ObjectMeta::default()
            },
            role_ref: RoleRef {
                api_group: "rbac.authorization.k8s.io".into(),
                kind: "ClusterRole".into(),
                name: identity.clone(),
            },
            subjects: Some(vec![Subject {
                kind: "ServiceAccount".into(),
                name: identity.clone(),
                namespace: Some(home.clone()),
                ..Subject::default()
            }]),
        };
        create_if_missing(&bindings, &binding).await?;
    }
    Ok(())
}

/// Namespaces other than the result's and the target's whose objects a fault reads: a
/// partition's peer namespaces, and those of Services named as `namespace/name`. The run admits
/// them as it admits target namespaces (opt-in, allow-from).
pub fn peer_namespaces(fault: &Fault) -> Vec<String> {
    let parameters = &fault.parameters;
    let mut namespaces = Vec::new();
    if let Some(partition) = &parameters.network_partition {
        namespaces.extend(partition.namespaces.iter().cloned());
    }
    let services = [
        parameters.network_latency.as_ref().map(|p| &p.traffic),
        parameters.network_loss.as_ref().map(|p| &p.traffic),
        parameters.network_partition.as_ref().map(|p| &p.traffic),
    ];
    for traffic in services.into_iter().flatten() {
        namespaces.extend(
            traffic
                .services
                .iter()
                .filter_map(|s| s.split_once('/').map(|(ns, _)| ns.to_string())),
        );
    }
    namespaces
}

/// The fault pod: `faultline fault <type>`, locked down. It may run for [`active_deadline`];
/// past that the kubelet stops it, and SIGTERM reverts. An API fault's
/// pod is owned by the result, in its namespace; a node-level fault's pod runs on `plan.node`
/// in Faultline's namespace, tied to the result by labels only.
pub fn fault_pod(
    config: &super::Config,
    result: &ChaosResult,
    fault: &Fault,
    plan: Option<&NodePlan>,
) -> Option<Pod> {
    let result_namespace = result.namespace()?;
    let at = fault_pod_ref(
        &config.namespace,
        &result_namespace,
        &result.name_any(),
        fault,
    );
    let kind = faults::kind(fault.fault_type);
    let mut labels = fault_pod_labels(result);
    let mut args = vec![
        "fault".into(),
        fault.fault_type.as_str().into(),
        format!("--result={}", result.name_any()),
        format!("--fault={}", fault.name),
    ];
    let owner_references = match kind.placement {
        Placement::Api => Some(vec![OwnerReference {
            controller: Some(true),
            block_owner_deletion: Some(true),
            ..result.controller_owner_ref(&())?
        }]),
        Placement::TargetNode => {
            labels.insert(RESULT_NAMESPACE_LABEL.into(), result_namespace.clone());
            if let Some(plan) = plan {
                args.push(format!("--pods={}", plan.pods.join(",")));
            }
            None
        }
    };
    let mut pod = Pod {
        metadata: ObjectMeta {
            name: Some(at.name),
            namespace: Some(at.namespace),
            labels: Some(labels),
            owner_references,
            ..ObjectMeta::default()
        },
        spec: Some(PodSpec {
            restart_policy: Some("Never".into()),
            service_account_name: Some(kind.identity()),
            enable_service_links: Some(false),
            termination_grace_period_seconds: Some(REVERT_GRACE_SECONDS),
            active_deadline_seconds: Some(active_deadline(result, fault)),
            node_name: plan.map(|p| p.node.clone()),
            security_context: Some(PodSecurityContext {
                run_as_group: Some(crate::podsec::RUN_AS),
                ..crate::podsec::restricted_pod()
            }),
            containers: vec![Container {
                name: "fault".into(),
                image: Some(config.image.clone()),
                image_pull_policy: Some("IfNotPresent".into()),
                args: Some(args),
                env: Some(fault_env(config, &result_namespace)),
                security_context: Some(crate::podsec::restricted_container()),
                termination_message_policy: Some("FallbackToLogsOnError".into()),
                ..Container::default()
            }],
            ..PodSpec::default()
        }),
        status: None,
    };
    if let Some(spec) = pod.spec.as_mut() {
        (kind.pod_overrides)(spec, fault);
    }
    Some(pod)
}

/// How long the kubelet lets a fault pod live, from the moment it accepts the pod: its start
/// (which may take up to the run's queueTimeout under load; the driver gives up on it after
/// that), the fault's duration, and the revert grace. A deadline of the duration and the grace
/// alone killed faults that started late before their end: in the scale bench, 73 of 100
/// two-minute faults, started together, ended in Error about 150 s after the kubelet took them.
pub fn active_deadline(result: &ChaosResult, fault: &Fault) -> i64 {
    let seconds = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 4);
    seconds(result.spec.experiment.queue_timeout.as_std())
        + seconds(fault.duration.as_std())
        + REVERT_GRACE_SECONDS
}

fn fault_pod_labels(result: &ChaosResult) -> BTreeMap<String, String> {
    BTreeMap::from([
        (RESULT_LABEL.to_string(), result.name_any()),
        (
            EXPERIMENT_LABEL.to_string(),
            result.spec.experiment_ref.clone(),
        ),
        (
            "app.kubernetes.io/name".to_string(),
            "faultline".to_string(),
        ),
        (
            "app.kubernetes.io/component".to_string(),
            "fault".to_string(),
        ),
    ])
}

/// The revert pod of a node-level fault: `faultline fault <type> --revert` on `node`, where the
/// fault pod was lost. The backstop creates it; it reverts the fault's unsettled ledger entries
/// and exits.
pub fn revert_pod(
    config: &super::Config,
    result: &ChaosResult,
    fault: &Fault,
    node: &str,
) -> Option<Pod> {
    let plan = NodePlan {
        node: node.into(),
        pods: vec![],
    };
    let mut pod = fault_pod(config, result, fault, Some(&plan))?;
    pod.metadata.name = Some(revert_pod_name(pod.metadata.name.as_deref()?, node));
    let spec = pod.spec.as_mut()?;
    spec.active_deadline_seconds = Some(REVERT_GRACE_SECONDS * 2);
    let container = spec.containers.first_mut()?;
    let args = container.args.get_or_insert_with(Vec::new);
    args.retain(|a| !a.starts_with("--pods="));
    args.push("--revert".into());
    Some(pod)
}

/// `<fault pod>-revert-<hash of node>`, cut to a valid pod name.
pub fn revert_pod_name(fault_pod: &str, node: &str) -> String {
    let suffix = format!("-revert-{}", short_hash(node));
    let mut name = fault_pod.to_string();
    name.truncate(63 - suffix.len());
    format!("{}{suffix}", name.trim_end_matches('-'))
}

/// What a fault pod's process reads from its environment.
fn fault_env(config: &super::Config, result_namespace: &str) -> Vec<EnvVar> {
    vec![
        EnvVar {
            name: "FAULTLINE_NAMESPACE".into(),
            value: Some(result_namespace.into()),
            ..EnvVar::default()
        },
        EnvVar {
            name: "FAULTLINE_NODE_NAME".into(),
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector {
                    field_path: "spec.nodeName".into(),
                    ..ObjectFieldSelector::default()
                }),
                ..EnvVarSource::default()
            }),
            ..EnvVar::default()
        },
        EnvVar {
            name: "FAULTLINE_OPERATOR_NAMESPACE".into(),
            value: Some(config.namespace.clone()),
            ..EnvVar::default()
        },
        EnvVar {
            name: "FAULTLINE_LOG_FORMAT".into(),
            value: Some("json".into()),
            ..EnvVar::default()
        },
    ]
}

/// Creates `pod` unless it exists.
pub async fn create_pod(ctx: &Context, pod: &Pod) -> Result<()> {
    let pods: Api<Pod> = Api::namespaced(
        ctx.client.clone(),
        pod.metadata.namespace.as_deref().unwrap_or_default(),
    );
    create_if_missing(&pods, pod).await
}

pub async fn create_fault_pod(
    ctx: &Context,
    result: &ChaosResult,
    fault: &Fault,
    plan: Option<&NodePlan>,
) -> Result<()> {
    let pod = fault_pod(&ctx.config, result, fault, plan)
        .ok_or(super::error::Error::MissingField("metadata.uid"))?;
    create_pod(ctx, &pod).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_pod_names_fit_and_never_end_in_a_dash() {
        assert_eq!(fault_pod_name("web-chaos-3", "kill"), "web-chaos-3-kill");
        let long = fault_pod_name(&"a".repeat(60), "kill-some-pods");
        assert!(long.len() <= 63 && !long.ends_with('-'));
    }

    fn config() -> super::super::Config {
        super::super::Config {
            image: "localhost/faultline:dev".into(),
            namespace: "faultline-system".into(),
            watch_namespaces: vec![],
            metrics_addr: "127.0.0.1:8080".parse().unwrap(),
            node_target_namespaces: vec![],
            label_namespace_privileged: true,
            election: None,
        }
    }

    fn result_with(fault: serde_json::Value) -> (ChaosResult, Fault) {
        let result: ChaosResult = serde_json::from_value(serde_json::json!({
            "apiVersion": "chaos.faultline.dev/v1alpha1", "kind": "ChaosResult",
            "metadata": {"name": "web-1", "namespace": "shop", "uid": "u-1"},
            "spec": {"experimentRef": "web", "runNumber": 1, "trigger": "create", "experiment": {"faults": [fault]}}
        }))
        .expect("a valid ChaosResult");
        let fault = result.spec.experiment.faults[0].clone();
        (result, fault)
    }

    #[test]
    fn the_kubelets_deadline_leaves_room_for_a_late_start_the_duration_and_the_revert() {
        let (mut result, fault) = result_with(serde_json::json!({
            "name": "kill", "type": "pod-delete", "duration": "2m",
            "target": {"kind": "Deployment", "name": "web"}
        }));
        result.spec.experiment.queue_timeout =
            serde_json::from_value(serde_json::json!("90s")).unwrap();
        let pod = fault_pod(&config(), &result, &fault, None).unwrap();
        // A pod the kubelet accepted at once but started 89 s later still runs its 120 s and reverts.
        assert_eq!(
            pod.spec.unwrap().active_deadline_seconds,
            Some(90 + 120 + 30)
        );
    }

    #[test]
    fn a_network_fault_pod_runs_on_the_targets_node_in_faultlines_namespace_tied_by_labels() {
        let (result, fault) = result_with(serde_json::json!({
            "name": "slow", "type": "pod-network-latency", "target": {"kind": "Deployment", "name": "web"},
            "networkLatency": {"latency": "200ms"}
        }));
        let plan = NodePlan {
            node: "node-a".into(),
            pods: vec!["web-1".into(), "web-2".into()],
        };
        let pod = fault_pod(&config(), &result, &fault, Some(&plan)).unwrap();
        assert_eq!(pod.metadata.namespace.as_deref(), Some("faultline-system"));
        let name = pod.metadata.name.clone().unwrap();
        assert!(
            name.starts_with("web-1-slow-") && name.len() == 19,
            "{name}"
        );
        assert!(pod.metadata.owner_references.is_none());
        let labels = pod.metadata.labels.clone().unwrap();
        assert_eq!(labels[RESULT_NAMESPACE_LABEL], "shop");
        assert_eq!(labels[RESULT_LABEL], "web-1");
        let spec = pod.spec.unwrap();
        assert_eq!(spec.node_name.as_deref(), Some("node-a"));
        assert_eq!(spec.host_pid, Some(true));
        let args = spec.containers[0].args.clone().unwrap();
        assert!(args.contains(&"--pods=web-1,web-2".to_string()), "{args:?}");
        let env = spec.containers[0].env.clone().unwrap();
        let namespace = env
            .iter()
            .find(|e| e.name == "FAULTLINE_NAMESPACE")
            .unwrap();
        assert_eq!(namespace.value.as_deref(), Some("shop"));
    }

    #[test]
    fn a_partitions_peer_namespaces_and_qualified_services_are_read_there() {
        let fault: Fault = serde_json::from_value(serde_json::json!({
            "name": "cut", "type": "pod-network-partition", "target": {},
            "networkPartition": {"namespaces": ["db"], "services": ["cache", "auth/login"]}
        }))
        .unwrap();
        assert_eq!(peer_namespaces(&fault), vec!["db", "auth"]);
    }

    #[test]
    fn node_level_pod_names_stay_unique_across_namespaces_and_cuts() {
        let fault: Fault = serde_json::from_value(serde_json::json!({
            "name": "slow", "type": "pod-network-latency", "target": {},
            "networkLatency": {"latency": "1s"}
        }))
        .unwrap();
        let a = fault_pod_ref("faultline", "a-b", "c", &fault);
        let b = fault_pod_ref("faultline", "a", "b-c", &fault);
        assert_ne!(a.name, b.name);
        let long = "r".repeat(70);
        let cut = fault_pod_ref("faultline", "shop", &long, &fault);
        assert!(
            cut.name.len() <= 63 && !cut.name.contains("--"),
            "{}",
            cut.name
        );
        let other = fault_pod_ref("faultline", "shop2", &long, &fault);
        assert_ne!(cut.name, other.name);
    }

    #[test]
    fn a_revert_pod_reverts_on_the_named_node_and_an_api_fault_pod_stays_owned() {
        let (result, fault) = result_with(serde_json::json!({
            "name": "slow", "type": "pod-network-loss", "target": {}, "networkLoss": {"percent": 30}
        }));
        let pod = revert_pod(&config(), &result, &fault, "node-b").unwrap();
        let name = pod.metadata.name.clone().unwrap();
        assert!(
            name.starts_with("web-1-slow-") && name.contains("-revert-") && name.len() <= 63,
            "{name}"
        );
        let spec = pod.spec.unwrap();
        assert_eq!(spec.node_name.as_deref(), Some("node-b"));
        let args = spec.containers[0].args.clone().unwrap();
        assert!(args.contains(&"--revert".to_string()));
        assert!(!args.iter().any(|a| a.starts_with("--pods=")));

        let (result, fault) = result_with(serde_json::json!({
            "name": "kill", "type": "pod-delete", "target": {}
        }));
        let pod = fault_pod(&config(), &result, &fault, None).unwrap();
        assert_eq!(pod.metadata.namespace.as_deref(), Some("shop"));
        assert_eq!(pod.metadata.owner_references.map(|o| o.len()), Some(1));
        assert_eq!(pod.spec.unwrap().host_pid, None);
    }
}
