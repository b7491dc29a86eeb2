//! Imported objects as YAML without the fields that only repeat their CRD's defaults, so that an
//! import is short enough to read and to review in Git; the API server puts the defaults back.

use serde::Serialize;
use serde_json::Value;

/// `object` (a ChaosExperiment or ChaosProbe) as YAML, leaving out every field whose value is
/// the default its CRD's schema declares.
pub fn minimal_yaml<T: Serialize>(object: &T, kind: &str) -> String {
    // A YAML value keeps the fields in the order the types declare them.
    let mut value = serde_yaml_ng::to_value(object).expect("CRD objects serialise to YAML");
    if let Some(schema) = schema_of(kind) {
        prune(&mut value, &schema);
    }
    serde_yaml_ng::to_string(&value).expect("YAML values serialise")
}

/// The OpenAPI schema of `kind`'s first version.
fn schema_of(kind: &str) -> Option<Value> {
    let crds = serde_json::to_value(crate::api::crds()).ok()?;
    crds.as_array()?
        .iter()
        .find(|crd| crd["spec"]["names"]["kind"] == kind)
        .map(|crd| crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone())
}

/// Removes, depth first, each property equal to its schema's default, and each object with a
/// default of its own that held nothing else (`runProperties` of default values; an object
/// without a default, such as `podDelete` or an empty `nodeCordon: {}`, stays).
fn prune(value: &mut serde_yaml_ng::Value, schema: &Value) {
    let filled = |v: &serde_yaml_ng::Value| v.as_mapping().is_some_and(|m| !m.is_empty());
    match value {
        serde_yaml_ng::Value::Mapping(map) => {
            let properties = &schema["properties"];
            let required = schema["required"].as_array();
            map.retain(|key, field| {
                let name = key.as_str().unwrap_or_default();
                let field_schema = &properties[name];
                let was_filled = filled(field);
                prune(field, field_schema);
                let default = field_schema.get("default").map(serde_yaml_ng::to_value);
                // An object whose fields were all defaults reads back as its own default.
                let emptied = was_filled
                    && !filled(field)
                    && default.is_some()
                    && !required.is_some_and(|r| r.iter().any(|k| k == name));
                !emptied && !matches!(default, Some(Ok(default)) if default == *field)
            });
        }
        serde_yaml_ng::Value::Sequence(items) => {
            for item in items {
                prune(item, &schema["items"]);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_left_out_and_set_values_kept() {
        let experiment: crate::api::ChaosExperiment = serde_yaml_ng::from_str(
            "apiVersion: chaos.faultline.dev/v1alpha1\nkind: ChaosExperiment\nmetadata: {name: e}\n\
             spec:\n  historyLimit: 3\n  faults:\n  - name: f\n    type: pod-delete\n    target: {mode: one, selector: {matchLabels: {app: web}}}\n",
        )
        .unwrap();
        let yaml = minimal_yaml(&experiment, "ChaosExperiment");
        assert!(yaml.contains("historyLimit: 3"), "{yaml}");
        for default in [
            "weight:",
            "interval:",
            "mode:",
            "random:",
            "maxPercent:",
            "probes:",
            "stop:",
            "queueTimeout:",
        ] {
            assert!(!yaml.contains(default), "{default} is a default: {yaml}");
        }
        let back: crate::api::ChaosExperiment = serde_yaml_ng::from_str(&yaml).unwrap();
        assert_eq!(back.spec, experiment.spec);
    }

    #[test]
    fn an_object_of_defaults_is_left_out_and_an_empty_one_kept() {
        let experiment: crate::api::ChaosExperiment = serde_yaml_ng::from_str(
            "apiVersion: chaos.faultline.dev/v1alpha1\nkind: ChaosExperiment\nmetadata: {name: e}\n\
             spec:\n  faults:\n  - name: f\n    type: node-cordon\n    target: {kind: Node, name: n}\n    nodeCordon: {}\n\
                 probes:\n    - name: p\n      probe:\n        type: k8s\n        k8s: {apiVersion: v1, kind: Namespace, name: default, check: {state: Present}}\n",
        )
        .unwrap();
        let yaml = minimal_yaml(&experiment, "ChaosExperiment");
        assert!(!yaml.contains("runProperties"), "only defaults: {yaml}");
        assert!(yaml.contains("nodeCordon: {}"), "{yaml}");
        let back: crate::api::ChaosExperiment = serde_yaml_ng::from_str(&yaml).unwrap();
        assert_eq!(back.spec, experiment.spec);
    }
}
