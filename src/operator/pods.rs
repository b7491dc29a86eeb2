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
    faults,
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
    let identity = faults::kind(fault.fault_type).identity();
    let labels = BTreeMap::from([(
        "app.kubernetes.io/managed-by".to_string(),
        "faultline".to_string(),
    )]);
    let accounts: Api<ServiceAccount> = Api::namespaced(ctx.client.clone(), namespace);
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
    let mut namespaces = vec![namespace.to_string()];
    if target != namespace {
        namespaces.push(target);
    }
    for binding_namespace in namespaces {
        let name = if binding_namespace == namespace {
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
                namespace: Some(namespace.into()),
                ..Subject::default()
            }]),
        };
        create_if_missing(&bindings, &binding).await?;
    }
    Ok(())
}

/// The fault pod: `faultline fault <type>`, owned by the result, locked down. It may run for the
/// fault's duration plus the revert grace; past that the kubelet stops it, and SIGTERM reverts.
pub fn fault_pod(
    config: &super::Config,
    result: &ChaosResult,
    fault: &Fault,
    name: &str,
) -> Option<Pod> {
    let image = config.image.as_str();
    let owner = OwnerReference {
        controller: Some(true),
        block_owner_deletion: Some(true),
        ..result.controller_owner_ref(&())?
    };
    let labels = BTreeMap::from([
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
    ]);
    let mut pod = Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: result.namespace(),
            labels: Some(labels),
            owner_references: Some(vec![owner]),
            ..ObjectMeta::default()
        },
        spec: Some(PodSpec {
            restart_policy: Some("Never".into()),
            service_account_name: Some(faults::kind(fault.fault_type).identity()),
            enable_service_links: Some(false),
            termination_grace_period_seconds: Some(REVERT_GRACE_SECONDS),
            active_deadline_seconds: Some(
                i64::try_from(fault.duration.as_std().as_secs()).unwrap_or(i64::MAX / 2)
                    + REVERT_GRACE_SECONDS,
            ),
            security_context: Some(PodSecurityContext {
                run_as_group: Some(crate::podsec::RUN_AS),
                ..crate::podsec::restricted_pod()
            }),
            containers: vec![Container {
                name: "fault".into(),
                image: Some(image.into()),
                image_pull_policy: Some("IfNotPresent".into()),
                args: Some(vec![
                    "fault".into(),
                    fault.fault_type.as_str().into(),
                    format!("--result={}", result.name_any()),
                    format!("--fault={}", fault.name),
                ]),
                env: Some(fault_env(config)),
                security_context: Some(crate::podsec::restricted_container()),
                termination_message_policy: Some("FallbackToLogsOnError".into()),
                ..Container::default()
            }],
            ..PodSpec::default()
        }),
        status: None,
    };
    if let Some(spec) = pod.spec.as_mut() {
        (faults::kind(fault.fault_type).pod_overrides)(spec, fault);
    }
    Some(pod)
}

/// What a fault pod's process reads from its environment.
fn fault_env(config: &super::Config) -> Vec<EnvVar> {
    vec![
        EnvVar {
            name: "FAULTLINE_NAMESPACE".into(),
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector {
                    field_path: "metadata.namespace".into(),
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

pub async fn create_fault_pod(
    ctx: &Context,
    result: &ChaosResult,
    fault: &Fault,
    name: &str,
) -> Result<()> {
    let pod = fault_pod(&ctx.config, result, fault, name)
        .ok_or(super::error::Error::MissingField("metadata.uid"))?;
    let pods: Api<Pod> =
        Api::namespaced(ctx.client.clone(), &result.namespace().unwrap_or_default());
    create_if_missing(&pods, &pod).await
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
}
