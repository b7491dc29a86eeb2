//! Every CEL rule (`x-kubernetes-validations`) on the generated CRDs, evaluated client-side by
//! kube's `cel` feature: a valid object passes, and one case per rule breaks that rule
//! and gets its message. A rule added to src/api/ without a case here fails
//! `every_rule_has_a_case`.

use std::collections::BTreeSet;

use kube::CustomResourceExt;
use kube::core::cel::Validator;
use serde_json::{Value, json};

use faultline::api::{ChaosExperiment, ChaosProbe, ChaosResult};

fn schema<K: CustomResourceExt>() -> Value {
    let crd = K::crd();
    let schema = crd.spec.versions[0]
        .schema
        .as_ref()
        .and_then(|s| s.open_api_v3_schema.as_ref())
        .expect("an openAPIV3Schema");
    serde_json::to_value(schema).expect("JSON")
}

/// Every rule in a schema, with its message.
fn rules(node: &Value, out: &mut BTreeSet<(String, String)>) {
    let Some(object) = node.as_object() else {
        return;
    };
    for rule in object
        .get("x-kubernetes-validations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.insert((
            rule["rule"].as_str().unwrap_or_default().to_string(),
            rule["message"].as_str().unwrap_or_default().to_string(),
        ));
    }
    for child in ["items", "additionalProperties"] {
        if let Some(child) = object.get(child) {
            rules(child, out);
        }
    }
    for property in object
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|p| p.values())
    {
        rules(property, out);
    }
}

fn experiment() -> Value {
    json!({
        "apiVersion": "chaos.faultline.dev/v1alpha1", "kind": "ChaosExperiment",
        "metadata": {"name": "e", "namespace": "shop"},
        "spec": {
            "faults": [{
                "name": "kill", "type": "pod-delete", "duration": "10s",
                "target": {"kind": "Deployment", "name": "web"},
                "probes": [{"name": "up", "mode": "EOT", "probe": {"type": "http", "http": {"url": "http://web/health"}}}],
            }],
            "steadyState": {"probes": [{"probeRef": "ready"}]},
            "schedule": "*/10 * * * *",
        },
    })
}

fn probe() -> Value {
    json!({
        "apiVersion": "chaos.faultline.dev/v1alpha1", "kind": "ChaosProbe",
        "metadata": {"name": "p", "namespace": "shop"},
        "spec": {"type": "k8s", "k8s": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "check": {"state": "Available"}}},
    })
}

/// `base` with `value` at each JSON pointer (Null removes the field).
fn with(mut base: Value, edits: &[(&str, Value)]) -> Value {
    for (pointer, value) in edits {
        let (parent, key) = pointer.rsplit_once('/').expect("a pointer");
        let target = base
            .pointer_mut(parent)
            .unwrap_or_else(|| panic!("no {parent}"));
        match (target, value) {
            (Value::Object(map), Value::Null) => {
                map.remove(key);
            }
            (Value::Object(map), value) => {
                map.insert(key.to_string(), value.clone());
            }
            (Value::Array(items), value) => {
                let index: usize = key.parse().expect("an index");
                if index == items.len() {
                    items.push(value.clone());
                } else {
                    items[index] = value.clone();
                }
            }
            _ => panic!("{pointer} is not in an object or array"),
        }
    }
    base
}

/// The messages of the rules `object` breaks.
fn broken(schema: &Value, object: &Value, old: Option<&Value>) -> Vec<String> {
    match Validator::new().validate(schema, object, old) {
        Ok(()) => vec![],
        Err(errors) => errors.into_vec().into_iter().map(|e| e.message).collect(),
    }
}

/// One case per rule: the message of the rule it breaks, and the object that breaks it.
fn cases() -> Vec<(&'static str, &'static str, Value)> {
    let fault = |edits: &[(&str, Value)]| {
        let edits: Vec<(String, Value)> = edits
            .iter()
            .map(|(p, v)| (format!("/spec/faults/0{p}"), v.clone()))
            .collect();
        let edits: Vec<(&str, Value)> =
            edits.iter().map(|(p, v)| (p.as_str(), v.clone())).collect();
        with(experiment(), &edits)
    };
    let node = json!({"kind": "Node", "name": "n1"});
    vec![
        (
            "ChaosExperiment",
            "fault names must be unique within an experiment",
            with(
                experiment(),
                &[(
                    "/spec/faults/1",
                    json!({"name": "kill", "type": "pod-delete", "target": {"kind": "Deployment", "name": "api"}}),
                )],
            ),
        ),
        (
            "ChaosExperiment",
            "set at most one parameter block",
            fault(&[
                ("/podDelete", json!({})),
                ("/workloadScale", json!({"replicas": 0})),
            ]),
        ),
        (
            "ChaosExperiment",
            "the parameter block must match type",
            fault(&[("/workloadScale", json!({"replicas": 0}))]),
        ),
        (
            "ChaosExperiment",
            "type node-taint needs a nodeTaint block",
            fault(&[("/type", json!("node-taint")), ("/target", node.clone())]),
        ),
        (
            "ChaosExperiment",
            "type pod-network-latency needs a networkLatency block",
            fault(&[("/type", json!("pod-network-latency"))]),
        ),
        (
            "ChaosExperiment",
            "type pod-network-loss needs a networkLoss block",
            fault(&[("/type", json!("pod-network-loss"))]),
        ),
        (
            "ChaosExperiment",
            "type pod-network-partition needs a networkPartition block",
            fault(&[
                ("/type", json!("pod-network-partition")),
                ("/networkPartition", json!({"namespaces": []})),
            ]),
        ),
        (
            "ChaosExperiment",
            "type pod-cpu-hog needs a cpuHog block",
            fault(&[
                ("/type", json!("pod-cpu-hog")),
                ("/cpuHog", json!({"cores": "1", "percent": 50})),
            ]),
        ),
        (
            "ChaosExperiment",
            "type pod-memory-hog needs a memoryHog block",
            fault(&[
                ("/type", json!("pod-memory-hog")),
                ("/memoryHog", json!({"mebibytes": 64, "percent": 10})),
            ]),
        ),
        (
            "ChaosExperiment",
            "workload-scale targets a Deployment, StatefulSet or ReplicaSet",
            fault(&[
                ("/type", json!("workload-scale")),
                ("/target/kind", json!("DaemonSet")),
            ]),
        ),
        (
            "ChaosExperiment",
            "target kind Node is for the node faults",
            fault(&[("/target", node)]),
        ),
        (
            "ChaosExperiment",
            "a probe entry has exactly one of probeRef or probe",
            fault(&[("/probes/0/probeRef", json!("ready"))]),
        ),
        (
            "ChaosExperiment",
            "an inline probe needs a name",
            fault(&[("/probes/0/name", Value::Null)]),
        ),
        (
            "ChaosExperiment",
            "url must start with http:// or https://",
            fault(&[("/probes/0/probe/http/url", json!("web/health"))]),
        ),
        (
            "ChaosExperiment",
            "mode fixed needs value",
            fault(&[("/target/mode", json!("fixed"))]),
        ),
        (
            "ChaosExperiment",
            "mode percent needs value between 1 and 100",
            fault(&[
                ("/target/mode", json!("percent")),
                ("/target/value", json!(150)),
            ]),
        ),
        (
            "ChaosExperiment",
            "target (Deployment, StatefulSet, DaemonSet, ReplicaSet, Node) needs name or selector",
            fault(&[("/target/name", Value::Null)]),
        ),
        (
            "ChaosExperiment",
            "namePattern must be a valid regular expression",
            fault(&[("/target/namePattern", json!("web-("))]),
        ),
        (
            "ChaosExperiment",
            "schedule must be a cron expression",
            with(
                experiment(),
                &[("/spec/schedule", json!("every ten minutes"))],
            ),
        ),
        (
            "ChaosProbe",
            "set exactly one probe block",
            with(
                probe(),
                &[("/spec/http", json!({"url": "http://web/health"}))],
            ),
        ),
        (
            "ChaosProbe",
            "the probe block must match spec.type",
            with(probe(), &[("/spec/type", json!("http"))]),
        ),
        (
            "ChaosProbe",
            "bodyMatches must be a valid regular expression",
            with(
                probe(),
                &[
                    ("/spec/type", json!("http")),
                    ("/spec/k8s", Value::Null),
                    (
                        "/spec/http",
                        json!({"url": "http://web/", "bodyMatches": "ok("}),
                    ),
                ],
            ),
        ),
        (
            "ChaosProbe",
            "a k8s probe names its object with exactly one of name or selector",
            with(
                probe(),
                &[("/spec/k8s/selector", json!({"matchLabels": {"app": "web"}}))],
            ),
        ),
        (
            "ChaosProbe",
            "a k8s check sets exactly one of state",
            with(probe(), &[("/spec/k8s/check/minReady", json!(1))]),
        ),
        (
            "ChaosProbe",
            "jsonPath and comparator go together",
            with(
                probe(),
                &[
                    ("/spec/k8s/check/state", Value::Null),
                    ("/spec/k8s/check/jsonPath", json!("{.status.readyReplicas}")),
                ],
            ),
        ),
    ]
}

#[test]
fn the_valid_objects_break_no_rule() {
    assert_eq!(
        broken(&schema::<ChaosExperiment>(), &experiment(), None),
        Vec::<String>::new()
    );
    assert_eq!(
        broken(&schema::<ChaosProbe>(), &probe(), None),
        Vec::<String>::new()
    );
}

#[test]
fn each_case_breaks_its_rule_with_its_message() {
    for (kind, message, object) in cases() {
        let schema = match kind {
            "ChaosExperiment" => schema::<ChaosExperiment>(),
            _ => schema::<ChaosProbe>(),
        };
        let messages = broken(&schema, &object, None);
        // A regex rule breaks by failing to evaluate, as on the API server: the error names
        // the pattern instead of the rule's message.
        let regex_rule = message.contains("valid regular expression");
        assert!(
            messages
                .iter()
                .any(|m| m.contains(message) || (regex_rule && m.contains("not a valid regex"))),
            "{kind}: expected a rule saying {message:?}, got {messages:?}"
        );
    }
}

#[test]
fn a_results_experiment_and_run_number_never_change() {
    let result = |experiment: &str, run: i64| {
        json!({
            "apiVersion": "chaos.faultline.dev/v1alpha1", "kind": "ChaosResult",
            "metadata": {"name": "e-1", "namespace": "shop"},
            "spec": {"experimentRef": experiment, "runNumber": run, "trigger": "create", "experiment": {"faults": []}},
        })
    };
    let schema = schema::<ChaosResult>();
    assert!(broken(&schema, &result("e", 1), Some(&result("e", 1))).is_empty());
    assert!(!broken(&schema, &result("other", 1), Some(&result("e", 1))).is_empty());
    assert!(!broken(&schema, &result("e", 2), Some(&result("e", 1))).is_empty());
}

#[test]
fn every_rule_has_a_case() {
    let mut all = BTreeSet::new();
    rules(&schema::<ChaosExperiment>(), &mut all);
    rules(&schema::<ChaosProbe>(), &mut all);
    let covered: Vec<&str> = cases().iter().map(|(_, message, _)| *message).collect();
    let uncovered: Vec<&(String, String)> = all
        .iter()
        .filter(|(_, message)| !covered.iter().any(|c| message.contains(c)))
        .collect();
    assert!(
        uncovered.is_empty(),
        "rules without a case in tests/cel_rules.rs: {uncovered:#?}"
    );
    // A result embeds its experiment's spec (and so its rules); its own are the two below.
    let mut result_rules = BTreeSet::new();
    rules(&schema::<ChaosResult>(), &mut result_rules);
    let own: Vec<&str> = result_rules
        .iter()
        .filter(|(_, message)| !all.iter().any(|(_, m)| m == message))
        .map(|(_, message)| message.as_str())
        .collect();
    assert_eq!(
        own,
        ["experimentRef is immutable", "runNumber is immutable"]
    );
}
