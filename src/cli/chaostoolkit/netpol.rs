//! chaosk8s deny-all network policies (deny_all_ingress, deny_all_egress) as
//! pod-network-partition faults that cut the selected pods off from every IPv4 peer.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde_json::Value;

use super::converter::{ActionDraft, Converted, Converter};
use super::nodes::target;
use super::python::Args;
use super::selector::parse_label_selector;
use super::values::short_json;
use crate::api::{
    Direction, FaultParameters, FaultType, NetworkPartitionParameters, TargetKind, TargetMode,
    TrafficSelection,
};

/// Every IPv4 peer: what a deny-all policy's empty rule list cuts.
const EVERY_PEER: &str = "0.0.0.0/0";

impl Converter<'_> {
    pub(super) fn deny_all(&mut self, args: &mut Args, direction: Direction) -> Option<Converted> {
        let selector = label_selectors(args);
        let ns = self.ns_argument(args);
        let way = match direction {
            Direction::Ingress => "ingress",
            _ => "egress",
        };
        let (answers, so) = match direction {
            Direction::Ingress => (
                "the answers to the pods' own connections (DNS included)",
                "the pods reach nothing either",
            ),
            _ => (
                "the pods' answers to incoming connections",
                "nothing reaches the pods either",
            ),
        };
        self.notes.push(format!(
            "{} {:?}: a NetworkPolicy denying all {way} became a pod-network-partition of {} in \
             {ns:?} from every IPv4 peer ({EVERY_PEER}), which differs: the partition is \
             stateless, so it also drops {answers} and {so} over TCP, where a policy lets \
             answers through; it cuts the node too, so the kubelet's probes of the pods may fail \
             (they may turn unready or be restarted); IPv6 peers are not cut; it holds the pods \
             running when it starts, not those created later; it needs no CNI that enforces \
             policies; and the pods must all run on one node, or the fault is refused when it \
             runs (narrow the target, or add one fault per node)",
            args.location,
            args.name,
            if selector.is_some() {
                "the selected pods"
            } else {
                "every pod"
            },
        ));
        let mut target = target(TargetKind::Pod, Some(ns), None, selector);
        target.mode = TargetMode::All;
        Some(Converted::Action(Box::new(ActionDraft {
            fault_type: FaultType::PodNetworkPartition,
            target,
            parameters: FaultParameters {
                network_partition: Some(NetworkPartitionParameters {
                    pods: None,
                    namespaces: Vec::new(),
                    traffic: TrafficSelection {
                        direction,
                        destinations: vec![EVERY_PEER.to_string()],
                        services: Vec::new(),
                        ports: Vec::new(),
                        protocol: None,
                    },
                }),
                ..FaultParameters::default()
            },
        })))
    }
}

/// chaosk8s' `label_selectors`: the labels the policy's podSelector matches, a mapping (a
/// selector string is read too, since chaostoolkit's catalogue types it as one).
pub(super) fn label_selectors(args: &mut Args) -> Option<LabelSelector> {
    let map = match args.take("label_selectors")? {
        Value::Object(map) => map,
        Value::String(text) if text.trim().is_empty() => return None,
        Value::String(text) => {
            return parse_label_selector(&text)
                .map_err(|why| {
                    let problem = format!("label_selectors {text:?} cannot be parsed: {why}");
                    args.problems.push(problem);
                })
                .ok();
        }
        other => {
            args.problems.push(format!(
                "label_selectors must be a mapping of label names to values, not {}",
                short_json(&other)
            ));
            return None;
        }
    };
    let mut labels = BTreeMap::new();
    for (key, value) in map {
        match value {
            Value::String(value) => {
                labels.insert(key, value);
            }
            other => args.problems.push(format!(
                "label_selectors {key:?} must be a string, not {}",
                short_json(&other)
            )),
        }
    }
    let selector = LabelSelector {
        match_labels: Some(labels),
        match_expressions: None,
    };
    selector
        .match_labels
        .as_ref()
        .is_some_and(|l| !l.is_empty())
        .then_some(selector)
}

#[cfg(test)]
mod tests {
    use crate::api::{Direction, TargetMode};
    use crate::cli::chaostoolkit::{ImportError, ImportOptions, import};

    fn method(func: &str, arguments: &str) -> String {
        format!(
            r#"{{"title": "t", "method": [{{"type": "action", "name": "cut", "provider": {{
                "type": "python", "module": "chaosk8s.networking.actions", "func": "{func}",
                "arguments": {arguments}}}}}]}}"#
        )
    }

    #[test]
    fn deny_all_cuts_the_selected_pods_from_every_peer_with_a_note() {
        for (arguments, selected) in [
            (r#"{"label_selectors": {"app": "web"}, "ns": "shop"}"#, true),
            (r#"{"label_selectors": "app=web", "ns": "shop"}"#, true),
            (r#"{"ns": "shop"}"#, false),
        ] {
            let source = method("deny_all_egress", arguments);
            let imported = import(&source, &ImportOptions::default()).unwrap();
            let fault = &imported.experiment.spec.faults[0];
            assert_eq!(fault.target.mode, TargetMode::All);
            assert_eq!(fault.target.selector.is_some(), selected, "{arguments}");
            let partition = fault.parameters.network_partition.as_ref().unwrap();
            assert_eq!(partition.traffic.direction, Direction::Egress);
            let notes = imported.notes.join("\n");
            assert!(notes.contains("IPv6 peers are not cut"), "{notes}");
        }
    }

    #[test]
    fn an_arbitrary_policy_and_dns_access_are_refused_with_their_reason() {
        for (func, reason) in [
            (
                "create_network_policy",
                "an arbitrary NetworkPolicy has no faithful",
            ),
            ("allow_dns_access", "it opens DNS through a deny-all policy"),
        ] {
            let Err(ImportError::Unsupported(list)) =
                import(&method(func, "{}"), &ImportOptions::default())
            else {
                panic!("{func} was not refused");
            };
            let prefix = format!("chaosk8s.networking.actions.{func}: {reason}");
            assert!(list[0].reason.starts_with(&prefix), "{}", list[0].reason);
        }
    }
}
