//! The pod spec every node-level fault pod shares (the network faults, container-kill): the
//! host PID namespace, root with only the capabilities its type names, a read-only root file
//! system, no volumes (no hostPath, no runtime socket), and a toleration of every NoExecute
//! taint, so it stays to finish and revert on a node that is being emptied.

use k8s_openapi::api::core::v1::{
    Capabilities, ContainerStatus, Pod, PodSecurityContext, PodSpec, SeccompProfile,
    SecurityContext, Toleration,
};

use crate::domain::containers::container_id;

/// What the ServiceAccounts of the faults on a pod's containers (container-kill, the resource
/// faults) may do where they are bound.
pub const CONTAINER_RULES: &[super::Rule] = &[
    super::Rule {
        groups: &[""],
        resources: &["pods"],
        verbs: &["get", "list"],
        why: "read the target pods' node, UID, containers' IDs, restart counts and limits",
    },
    super::node_cordon::WORKLOAD_READ_RULE,
];

/// The status of `pod`'s container `name`.
pub fn container_status<'a>(pod: &'a Pod, name: &str) -> Option<&'a ContainerStatus> {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or_default()
        .iter()
        .find(|s| s.name == name)
}

/// Whether the container `status` describes runs now.
pub fn is_running(status: &ContainerStatus) -> bool {
    status.state.as_ref().is_some_and(|s| s.running.is_some())
}

/// The bare ID of the container `status` describes, if it runs now.
pub fn running_id(status: &ContainerStatus) -> Option<&str> {
    is_running(status)
        .then_some(status.container_id.as_deref())
        .flatten()
        .and_then(container_id)
}

/// Sets `spec` up as a node-level fault pod keeping only `capabilities` (all others dropped).
/// The host PID namespace is how it finds a target container's processes (and through them its
/// namespaces and cgroups). The operator pins the pod to the target's node.
pub fn host_pid_pod(spec: &mut PodSpec, capabilities: &[&str]) {
    spec.host_pid = Some(true);
    spec.security_context = Some(PodSecurityContext {
        run_as_user: Some(0),
        run_as_group: Some(0),
        run_as_non_root: Some(false),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            ..SeccompProfile::default()
        }),
        ..PodSecurityContext::default()
    });
    spec.tolerations = Some(vec![Toleration {
        operator: Some("Exists".into()),
        effect: Some("NoExecute".into()),
        ..Toleration::default()
    }]);
    for container in &mut spec.containers {
        container.security_context = Some(SecurityContext {
            run_as_user: Some(0),
            run_as_non_root: Some(false),
            allow_privilege_escalation: Some(false),
            privileged: Some(false),
            read_only_root_filesystem: Some(true),
            capabilities: Some(Capabilities {
                add: Some(capabilities.iter().map(|c| c.to_string()).collect()),
                drop: Some(vec!["ALL".into()]),
            }),
            ..SecurityContext::default()
        });
    }
}

/// The pod instance and node every node-level ledger entry records in `original` (with more
/// fields of its type's own): what the backstop needs to settle an entry whose pod is gone, or
/// to start a revert pod on the right node.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OnNode {
    pub pod_uid: String,
    pub node: String,
}

impl OnNode {
    pub fn of(record: &crate::api::TargetRecord) -> Result<OnNode, super::FaultError> {
        super::original_of(record, "which pod instance and node it acted on")
    }
}

/// Refuses to revert `record`, changed on `node`, from a process on another node (`here`): only
/// a process on the entry's node can see its pod, and elsewhere "no such process" would wrongly
/// read as "the pod is gone".
pub fn revert_here(
    here: Option<&str>,
    node: &str,
    record: &crate::api::TargetRecord,
) -> Result<(), super::FaultError> {
    match here {
        Some(here) if here != node => Err(super::FaultError::RevertFailed(vec![format!(
            "{} was changed on node {node:?}; this process runs on {here}",
            record.display()
        )])),
        _ => Ok(()),
    }
}
