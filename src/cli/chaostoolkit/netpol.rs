//! chaosk8s' network-policy actions: none is converted (a stateless partition is not a
//! NetworkPolicy, see mapping.rs), and `label_selectors`, which the Chaos Mesh wrappers share.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde_json::Value;

use super::python::Args;
use super::selector::parse_label_selector;
use super::values::short_json;

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
    use crate::cli::chaostoolkit::{ImportError, ImportOptions, import};

    fn method(func: &str, arguments: &str) -> String {
        format!(
            r#"{{"title": "t", "method": [{{"type": "action", "name": "cut", "provider": {{
                "type": "python", "module": "chaosk8s.networking.actions", "func": "{func}",
                "arguments": {arguments}}}}}]}}"#
        )
    }

    #[test]
    fn network_policy_actions_are_refused_with_their_reason() {
        for (func, reason) in [
            ("deny_all_ingress", "a deny-all NetworkPolicy is stateful"),
            ("deny_all_egress", "a deny-all NetworkPolicy is stateful"),
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
