//! The hardened security settings every pod Faultline creates (fault pods, cmd-probe pods) runs
//! with: non-root 65532, RuntimeDefault seccomp, no privilege escalation, a read-only root
//! filesystem and no capabilities.

use k8s_openapi::api::core::v1::{
    Capabilities, PodSecurityContext, SeccompProfile, SecurityContext,
};

/// The user Faultline's pods run as: the conventional "nonroot" user of distroless images.
pub const RUN_AS: i64 = 65532;

/// Pod-level: non-root, RuntimeDefault seccomp.
pub fn restricted_pod() -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(RUN_AS),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            ..SeccompProfile::default()
        }),
        ..PodSecurityContext::default()
    }
}

/// Container-level: no privilege escalation, read-only root filesystem, all capabilities dropped.
pub fn restricted_container() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        read_only_root_filesystem: Some(true),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            ..Capabilities::default()
        }),
        ..SecurityContext::default()
    }
}
