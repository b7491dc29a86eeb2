//! chaosk8s deployment scaling and node actions (scale_deployment, cordon_node, drain_nodes) as
//! workload-scale, node-cordon and node-drain faults, which Faultline reverts when they end.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::converter::{ActionDraft, Converted, Converter};
use super::python::Args;
use super::values::clamp_i32;
use crate::api::{
    FaultParameters, FaultType, NodeCordonParameters, NodeDrainParameters, Target, TargetKind,
    TargetMode, WorkloadScaleParameters,
};

/// drain_nodes arguments that choose which pods are evicted: Faultline evicts every pod it may.
const DRAIN_POD_FILTERS: [&str; 2] = ["pod_label_selector", "pod_namespace"];

impl Converter<'_> {
    pub(super) fn scale_deployment(&mut self, args: &mut Args) -> Option<Converted> {
        let name = args.string("name");
        let replicas = args.integer("replicas");
        let ns = self.ns_argument(args);
        let Some(name) = name else {
            args.problems
                .push("name is required: the Deployment to scale".into());
            return None;
        };
        let Some(replicas) = replicas else {
            args.problems
                .push("replicas is required: the replica count to set".into());
            return None;
        };
        if !(0..=1000).contains(&replicas) {
            args.problems.push(format!(
                "replicas {replicas} is outside what workload-scale accepts (0 to 1000)"
            ));
        }
        self.notes.push(format!(
            "{} {:?}: Faultline holds {name:?} at {replicas} replicas for the fault's duration \
             and then scales it back to the count it found; chaosk8s leaves the new count until a \
             rollback changes it",
            args.location, args.name
        ));
        Some(Converted::Action(Box::new(ActionDraft {
            fault_type: FaultType::WorkloadScale,
            target: target(TargetKind::Deployment, Some(ns), Some(name), None),
            parameters: FaultParameters {
                workload_scale: Some(WorkloadScaleParameters {
                    replicas: clamp_i32(replicas),
                }),
                ..FaultParameters::default()
            },
        })))
    }

    pub(super) fn cordon_node(&mut self, args: &mut Args) -> Option<Converted> {
        let target = node_target(args, TargetMode::All, None)?;
        Some(Converted::Action(Box::new(ActionDraft {
            fault_type: FaultType::NodeCordon,
            target,
            parameters: FaultParameters {
                node_cordon: Some(NodeCordonParameters {}),
                ..FaultParameters::default()
            },
        })))
    }

    pub(super) fn drain_nodes(&mut self, args: &mut Args) -> Option<Converted> {
        let (mode, value) = match args.integer("count") {
            None => (TargetMode::All, None),
            Some(1) => (TargetMode::One, None),
            Some(count) if count > 1 => (TargetMode::Fixed, Some(clamp_i32(count))),
            Some(count) => {
                args.problems
                    .push(format!("count {count} drains no node; use 1 or more"));
                (TargetMode::All, None)
            }
        };
        let target = node_target(args, mode, value);
        for key in DRAIN_POD_FILTERS {
            if args.take(key).is_some() {
                args.problems.push(format!(
                    "{key} limits the drain to some pods; Faultline's node-drain evicts every pod \
                     of the node it may (it skips DaemonSet, mirror and unowned pods)"
                ));
            }
        }
        let local_storage = args.boolean("delete_pods_with_local_storage");
        let timeout = args.integer("timeout");
        self.notes.push(format!(
            "{} {:?}: node-drain evicts pods with local storage (emptyDir) like any other{}, and \
             retries an eviction a PodDisruptionBudget refuses every interval while the fault \
             lasts instead of waiting {}s; the nodes are uncordoned when it ends",
            args.location,
            args.name,
            if local_storage == Some(true) {
                ""
            } else {
                " (chaosk8s leaves them unless delete_pods_with_local_storage is true)"
            },
            timeout.unwrap_or(120)
        ));
        Some(Converted::Action(Box::new(ActionDraft {
            fault_type: FaultType::NodeDrain,
            target: target?,
            parameters: FaultParameters {
                node_drain: Some(NodeDrainParameters::default()),
                ..FaultParameters::default()
            },
        })))
    }
}

/// A `kind: Node` target from the `name` or `label_selector` argument (one of them is needed).
fn node_target(args: &mut Args, mode: TargetMode, value: Option<i32>) -> Option<Target> {
    let name = args.string("name");
    let selector: Option<LabelSelector> = args.selector("label_selector");
    if name.is_none() && selector.is_none() {
        args.problems
            .push("name or label_selector is required: the nodes to act on".into());
        return None;
    }
    let mut target = target(TargetKind::Node, None, name, selector);
    target.mode = mode;
    target.value = value;
    Some(target)
}

/// The object of `kind` that `name` or `selector` picks (mode one, the CRD's default).
pub(super) fn target(
    kind: TargetKind,
    namespace: Option<String>,
    name: Option<String>,
    selector: Option<LabelSelector>,
) -> Target {
    Target {
        namespace,
        kind,
        name,
        selector,
        name_pattern: None,
        mode: TargetMode::One,
        value: None,
        random: true,
        node_selector: None,
        max_percent: 100,
        min_healthy: None,
    }
}

#[cfg(test)]
mod tests {
    use crate::api::{FaultType, TargetKind, TargetMode};
    use crate::cli::chaostoolkit::{ImportError, ImportOptions, Unsupported, import};

    fn action(module: &str, func: &str, arguments: &str) -> String {
        format!(
            r#"{{"type": "action", "name": "it", "pauses": {{"after": 30}}, "provider": {{
                "type": "python", "module": "{module}", "func": "{func}",
                "arguments": {arguments}}}}}"#
        )
    }

    fn refused(source: &str) -> Vec<Unsupported> {
        match import(source, &ImportOptions::default()) {
            Err(ImportError::Unsupported(list)) => list,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn scale_deployment_holds_the_replicas_for_the_window_with_a_note() {
        let scale = action(
            "chaosk8s.deployment.actions",
            "scale_deployment",
            r#"{"name": "web", "replicas": 1, "ns": "shop"}"#,
        );
        let source = format!(r#"{{"title": "t", "method": [{scale}]}}"#);
        let imported = import(&source, &ImportOptions::default()).unwrap();
        let fault = &imported.experiment.spec.faults[0];
        assert_eq!(fault.fault_type, FaultType::WorkloadScale);
        assert_eq!(fault.target.kind, TargetKind::Deployment);
        assert_eq!(fault.target.name.as_deref(), Some("web"));
        assert_eq!(
            fault.parameters.workload_scale.as_ref().unwrap().replicas,
            1
        );
        assert_eq!(fault.duration, crate::api::Duration::from_secs(30));
        let notes = imported.notes.join("\n");
        assert!(
            notes.contains("scales it back to the count it found"),
            "{notes}"
        );
        assert!(notes.contains("is reverted when it ends"), "{notes}");
    }

    #[test]
    fn drain_nodes_count_is_a_fixed_mode_and_pod_filters_are_refused_by_name() {
        let drain = action(
            "chaosk8s.node.actions",
            "drain_nodes",
            r#"{"label_selector": "pool=spot", "count": 2, "timeout": 60,
                "delete_pods_with_local_storage": true}"#,
        );
        let source = format!(r#"{{"title": "t", "method": [{drain}]}}"#);
        let imported = import(&source, &ImportOptions::default()).unwrap();
        let target = &imported.experiment.spec.faults[0].target;
        assert_eq!(
            (target.kind, target.mode),
            (TargetKind::Node, TargetMode::Fixed)
        );
        assert_eq!((target.value, target.namespace.as_deref()), (Some(2), None));
        assert!(imported.notes.join("\n").contains("instead of waiting 60s"));

        let drain = action(
            "chaosk8s.node.actions",
            "drain_nodes",
            r#"{"name": "node-1", "pod_label_selector": "app=web", "pod_namespace": "shop"}"#,
        );
        let source = format!(r#"{{"title": "t", "method": [{drain}]}}"#);
        let reason = &refused(&source)[0].reason;
        assert!(reason.starts_with("pod_label_selector limits"), "{reason}");
        assert!(reason.contains("; pod_namespace limits"), "{reason}");
    }

    #[test]
    fn a_node_action_needs_a_name_or_a_selector() {
        let cordon = action("chaosk8s.node.actions", "cordon_node", "{}");
        let source = format!(r#"{{"title": "t", "method": [{cordon}]}}"#);
        assert_eq!(
            refused(&source)[0].reason,
            "name or label_selector is required: the nodes to act on"
        );
    }

    #[test]
    fn a_revert_in_the_method_is_refused() {
        let cordon = action("chaosk8s.node.actions", "cordon_node", r#"{"name": "n"}"#);
        let uncordon = action("chaosk8s.node.actions", "uncordon_node", r#"{"name": "n"}"#);
        let source = format!(r#"{{"title": "t", "method": [{cordon}, {uncordon}]}}"#);
        let refusals = refused(&source);
        assert_eq!(refusals.len(), 1);
        assert_eq!(refusals[0].location, "method[1]");
        assert!(
            refusals[0]
                .reason
                .starts_with("uncordon_node undoes an earlier action"),
            "{}",
            refusals[0].reason
        );
    }
}
