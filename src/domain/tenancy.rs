//! Which namespaces a run may touch: a target namespace opts in with a label, and one that is not
//! the experiment's own must also allow chaos from the experiment's namespace.

use std::{collections::BTreeMap, fmt};

use crate::api::{ALLOW_FROM_ANNOTATION, ALLOW_LABEL, ALLOW_PROTECTED_ANNOTATION};

/// What the opt-in rule reads from a target namespace.
#[derive(Clone, Copy, Debug)]
pub struct NamespaceMeta<'a> {
    pub labels: &'a BTreeMap<String, String>,
    pub annotations: &'a BTreeMap<String, String>,
}

/// Why a run may not touch a target namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TenancyRefusal {
    /// The target namespace does not exist.
    Missing { target: String },
    /// The target namespace lacks the label `chaos.faultline.dev/allow=true`.
    NotOptedIn { target: String },
    /// The target namespace's `chaos.faultline.dev/allow-from` annotation does not list the
    /// experiment's namespace (or `*`).
    NotAllowedFrom { target: String, source: String },
    /// A node fault in a namespace the operator's node-target allow-list does not name.
    NodeTargetsNotAllowed { source: String, fault: String },
    /// A fault that acts on containers' processes, aimed at kube-system or Faultline's own
    /// namespace without that namespace's explicit allowance.
    Protected { target: String, fault: String },
}

impl fmt::Display for TenancyRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TenancyRefusal::Missing { target } => {
                write!(f, "target namespace {target} does not exist")
            }
            TenancyRefusal::NotOptedIn { target } => write!(
                f,
                "namespace {target} is not a chaos target: it needs the label {ALLOW_LABEL}=true"
            ),
            TenancyRefusal::NotAllowedFrom { target, source } => write!(
                f,
                "namespace {target} does not allow chaos from namespace {source}: its annotation \
                 {ALLOW_FROM_ANNOTATION} must list {source} (or *)"
            ),
            TenancyRefusal::NodeTargetsNotAllowed { source, fault } => write!(
                f,
                "fault {fault} changes nodes, and experiments in namespace {source} may not: a \
                 cluster admin must add {source} to the Helm value nodeTargets.namespaces \
                 (the operator's --node-target-namespaces)"
            ),
            TenancyRefusal::Protected { target, fault } => write!(
                f,
                "fault {fault} acts on the processes of namespace {target}'s containers, and \
                 {target} is protected (the cluster's or Faultline's own): annotate it \
                 {ALLOW_PROTECTED_ANNOTATION}=true to allow it"
            ),
        }
    }
}

/// Whether an experiment in namespace `source` may run `fault`, a node fault. Nodes belong to no
/// namespace, so the opt-in label cannot cover them: only the namespaces a cluster admin lists
/// in `allowed` (the chart's `nodeTargets.namespaces`) may, and none by default.
pub fn admit_node_fault(
    source: &str,
    fault: &str,
    allowed: &[String],
) -> Result<(), TenancyRefusal> {
    if allowed.iter().any(|n| n == source) {
        Ok(())
    } else {
        Err(TenancyRefusal::NodeTargetsNotAllowed {
            source: source.to_string(),
            fault: fault.to_string(),
        })
    }
}

/// Whether `fault`, which acts on containers' processes, may target namespace `target`:
/// kube-system and Faultline's own namespace (`operator_namespace`) only with the annotation
/// `chaos.faultline.dev/allow-protected=true`, on top of the usual opt-in.
pub fn admit_protected(
    fault: &str,
    target: &str,
    operator_namespace: &str,
    meta: Option<NamespaceMeta<'_>>,
) -> Result<(), TenancyRefusal> {
    let protected = target == "kube-system" || target == operator_namespace;
    let allowed = meta.is_some_and(|m| {
        m.annotations
            .get(ALLOW_PROTECTED_ANNOTATION)
            .map(String::as_str)
            == Some("true")
    });
    if protected && !allowed {
        return Err(TenancyRefusal::Protected {
            target: target.to_string(),
            fault: fault.to_string(),
        });
    }
    Ok(())
}

/// Whether an experiment in namespace `source` may act on namespace `target`, whose metadata is
/// `meta` (None when it does not exist).
///
/// - `target` must carry the label `chaos.faultline.dev/allow=true`;
/// - when `target` is not `source`, its annotation `chaos.faultline.dev/allow-from` must list
///   `source` or `*` (a comma-separated list; spaces around names are ignored).
pub fn admit_target_namespace(
    source: &str,
    target: &str,
    meta: Option<NamespaceMeta<'_>>,
) -> Result<(), TenancyRefusal> {
    let Some(meta) = meta else {
        return Err(TenancyRefusal::Missing {
            target: target.to_string(),
        });
    };
    if meta.labels.get(ALLOW_LABEL).map(String::as_str) != Some("true") {
        return Err(TenancyRefusal::NotOptedIn {
            target: target.to_string(),
        });
    }
    if target == source {
        return Ok(());
    }
    let allowed = meta
        .annotations
        .get(ALLOW_FROM_ANNOTATION)
        .map(String::as_str)
        .unwrap_or("");
    if allowed
        .split(',')
        .map(str::trim)
        .any(|n| n == "*" || n == source)
    {
        Ok(())
    } else {
        Err(TenancyRefusal::NotAllowedFrom {
            target: target.to_string(),
            source: source.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn opted_in() -> BTreeMap<String, String> {
        map(&[(ALLOW_LABEL, "true")])
    }

    fn admit(
        source: &str,
        target: &str,
        labels: &BTreeMap<String, String>,
        annotations: &BTreeMap<String, String>,
    ) -> Result<(), TenancyRefusal> {
        let meta = NamespaceMeta {
            labels,
            annotations,
        };
        admit_target_namespace(source, target, Some(meta))
    }

    #[test]
    fn a_missing_target_namespace_is_refused() {
        let refusal = admit_target_namespace("team-a", "gone", None).unwrap_err();
        assert_eq!(refusal.to_string(), "target namespace gone does not exist");
    }

    #[test]
    fn the_own_namespace_with_the_label_is_admitted_without_allow_from() {
        assert_eq!(admit("team-a", "team-a", &opted_in(), &map(&[])), Ok(()));
    }

    #[test]
    fn a_namespace_without_the_label_is_refused_and_the_message_names_it() {
        let refusal = admit("team-a", "team-a", &map(&[]), &map(&[])).unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "namespace team-a is not a chaos target: it needs the label chaos.faultline.dev/allow=true"
        );
    }

    #[test]
    fn a_label_other_than_true_is_not_an_opt_in() {
        let labels = map(&[(ALLOW_LABEL, "yes")]);
        assert_eq!(
            admit("team-a", "team-a", &labels, &map(&[])),
            Err(TenancyRefusal::NotOptedIn {
                target: "team-a".into()
            })
        );
    }

    #[test]
    fn the_label_is_needed_even_when_allow_from_lists_the_source() {
        let annotations = map(&[(ALLOW_FROM_ANNOTATION, "team-a")]);
        assert_eq!(
            admit("team-a", "shop", &map(&[]), &annotations),
            Err(TenancyRefusal::NotOptedIn {
                target: "shop".into()
            })
        );
    }

    #[test]
    fn a_cross_namespace_target_without_allow_from_is_refused_and_the_message_names_it() {
        let refusal = admit("team-a", "shop", &opted_in(), &map(&[])).unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "namespace shop does not allow chaos from namespace team-a: its annotation \
             chaos.faultline.dev/allow-from must list team-a (or *)"
        );
    }

    #[test]
    fn a_cross_namespace_target_listing_the_source_is_admitted() {
        let annotations = map(&[(ALLOW_FROM_ANNOTATION, "ops, team-a ,qa")]);
        assert_eq!(admit("team-a", "shop", &opted_in(), &annotations), Ok(()));
    }

    #[test]
    fn a_cross_namespace_star_admits_any_source() {
        let annotations = map(&[(ALLOW_FROM_ANNOTATION, "*")]);
        assert_eq!(admit("team-a", "shop", &opted_in(), &annotations), Ok(()));
        assert_eq!(admit("anyone", "shop", &opted_in(), &annotations), Ok(()));
    }

    #[test]
    fn a_cross_namespace_list_naming_others_only_is_refused() {
        let annotations = map(&[(ALLOW_FROM_ANNOTATION, "team-ab,team")]);
        assert_eq!(
            admit("team-a", "shop", &opted_in(), &annotations),
            Err(TenancyRefusal::NotAllowedFrom {
                target: "shop".into(),
                source: "team-a".into()
            })
        );
    }

    #[test]
    fn node_faults_need_the_admin_allow_list() {
        let allowed = vec!["chaos-ops".to_string()];
        assert!(admit_node_fault("chaos-ops", "drain", &allowed).is_ok());
        let refusal = admit_node_fault("shop", "drain", &allowed).unwrap_err();
        assert!(refusal.to_string().contains("nodeTargets.namespaces"));
        assert!(admit_node_fault("shop", "drain", &[]).is_err());
    }

    #[test]
    fn kube_system_and_faultlines_namespace_need_an_explicit_allowance() {
        let none = BTreeMap::new();
        let meta = NamespaceMeta {
            labels: &none,
            annotations: &none,
        };
        let refused = admit_protected("kill", "kube-system", "faultline-system", Some(meta));
        assert_eq!(
            refused.unwrap_err().to_string(),
            "fault kill acts on the processes of namespace kube-system's containers, and \
             kube-system is protected (the cluster's or Faultline's own): annotate it \
             chaos.faultline.dev/allow-protected=true to allow it"
        );
        assert!(
            admit_protected("kill", "faultline-system", "faultline-system", Some(meta)).is_err()
        );
        assert!(admit_protected("kill", "shop", "faultline-system", Some(meta)).is_ok());
        let allowed =
            BTreeMap::from([(ALLOW_PROTECTED_ANNOTATION.to_string(), "true".to_string())]);
        let meta = NamespaceMeta {
            labels: &none,
            annotations: &allowed,
        };
        assert!(admit_protected("kill", "kube-system", "faultline-system", Some(meta)).is_ok());
    }
}
