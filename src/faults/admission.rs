//! The admission policies that keep Faultline from being a confused deputy, generated from the
//! fault types' [`FaultKind`]s: the chart's `templates/admission-policies.yaml` and kustomize's
//! `config/admission/admission_policies.yaml` come from here (`make generate`), and a test fails
//! when they drift.
//!
//! Two ValidatingAdmissionPolicies, on create and update of ChaosExperiments and ChaosProbes, ask
//! the API server's authorizer whether the person (or ServiceAccount) writing the object may do
//! what the object asks Faultline to do on their behalf:
//! - a cmd probe with an image other than the operator's own: create pods in the namespace;
//! - a fault on pods of another namespace: delete pods there;
//! - a fault that scales a workload: patch its kind's `scale` in the target namespace;
//! - a fault that changes nodes: patch nodes;
//! - a fault whose pod runs privileged on the target's node: the verb `inject` on the virtual
//!   resource `privilegedfaults.chaos.faultline.dev` in the target namespace, which only
//!   faultline-admin grants.
//!
//! On update only what changed is checked (a fault that is not identical to one already there, a
//! probe whose cmd block changed), so stopping an experiment, suspending it, and the operator's
//! own finalizer writes never need more than writing the object. A message cannot call the
//! authorizer, so the per-fault checks are one validation per fault position, each naming its
//! fault, its namespace and the permission it lacks.

use std::fmt::Write;

use serde_json::{Value, json};

use super::{FaultKind, Placement, Scope, kind};
use crate::api::{FaultType, MAX_FAULTS};

/// For the chart (with Helm templating) or for kustomize (plain YAML).
pub use super::rbac::Flavour;

/// The operator's image in the plain (kustomize) flavour, a CEL string literal; the chart templates
/// it, and config/default replaces it with the Deployment's image. It is written into the policies
/// rather than read from a ConfigMap as params: kube-apiserver stops resolving a core-type paramKind
/// for good once no binding uses it for a moment (kubernetes/kubernetes#130887), as a reinstall
/// does, and a binding that finds no params then skips its policy or refuses every write.
const PLAIN_IMAGE: &str = "'localhost/faultline:0.1.0'";
/// The API group of the virtual resource that grants the privileged faults.
pub const PRIVILEGED_GROUP: &str = "chaos.faultline.dev";
pub const PRIVILEGED_RESOURCE: &str = "privilegedfaults";
pub const PRIVILEGED_VERB: &str = "inject";

fn types_where(keep: impl Fn(&FaultKind) -> bool) -> Vec<&'static str> {
    FaultType::ALL
        .into_iter()
        .map(kind)
        .filter(|k| keep(k))
        .map(|k| k.fault_type.as_str())
        .collect()
}

/// The fault types whose pod runs with node-level privileges on the target's node.
pub fn privileged_types() -> Vec<&'static str> {
    types_where(|k| k.placement == Placement::TargetNode)
}

/// The fault types that change nodes.
pub fn node_types() -> Vec<&'static str> {
    types_where(FaultKind::touches_nodes)
}

/// The fault types that change a workload (its scale).
pub fn workload_types() -> Vec<&'static str> {
    types_where(|k| k.scope == Scope::Workloads)
}

/// A CEL list literal of strings.
fn cel_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("'{i}'")).collect();
    format!("[{}]", quoted.join(", "))
}

/// The variable that holds the operator's image, first in both policies.
fn operator_image() -> Value {
    variable("operatorImage", PLAIN_IMAGE.into())
}

/// CEL: whether inline probe entry `p` runs a cmd probe in an image of its own.
fn custom_image(p: &str) -> String {
    format!(
        "has({p}.probe) && {p}.probe.type == 'cmd' && has({p}.probe.cmd) && has({p}.probe.cmd.image) && \
         {p}.probe.cmd.image != variables.operatorImage"
    )
}

/// CEL: the message for a cmd probe named by the CEL string expression `name`.
fn custom_image_message(name: &str) -> String {
    format!(
        "'probe ' + {name} + ' runs its own image (cmd.image) as a pod: you may not create pods in \
         namespace ' + request.namespace + '; ask an admin there for create on pods, or leave \
         cmd.image unset to run Faultline\\'s image'"
    )
}

/// CEL: the authorizer may create pods in the request's namespace.
const MAY_CREATE_PODS: &str =
    "authorizer.group('').resource('pods').namespace(request.namespace).check('create').allowed()";

fn variable(name: &str, expression: String) -> Value {
    json!({"name": name, "expression": expression})
}

fn validation(expression: String, message: String) -> Value {
    json!({"expression": expression, "messageExpression": message, "reason": "Forbidden"})
}

/// The experiment policy's variables: the faults this request adds or changes, and for each
/// permission the faults that need it, with their messages.
fn experiment_variables() -> Vec<Value> {
    let nodes_and_workloads: Vec<&str> = node_types().into_iter().chain(workload_types()).collect();
    let steady = "has(object.spec.steadyState) && has(object.spec.steadyState.probes)";
    let old_steady = "oldObject != null && has(oldObject.spec.steadyState) && has(oldObject.spec.steadyState.probes)";
    vec![
        operator_image(),
        variable(
            "changed",
            "object.spec.faults.filter(f, oldObject == null || !oldObject.spec.faults.exists(o, o == f))".into(),
        ),
        variable(
            "asks",
            "variables.changed.map(f, {'name': string(f.name), 'type': string(f.type), \
             'ns': has(f.target.namespace) ? string(f.target.namespace) : request.namespace, \
             'kind': has(f.target.kind) ? string(f.target.kind) : 'Pod'})"
                .into(),
        ),
        variable(
            "customProbes",
            format!(
                "variables.changed.filter(f, has(f.probes) && f.probes.exists(p, {c})).map(f, f.probes.filter(p, {c})[0].name) + \
                 ({steady} ? object.spec.steadyState.probes.filter(p, {c} && !({old_steady} && \
                 oldObject.spec.steadyState.probes.exists(o, o == p))).map(p, p.name) : [])",
                c = custom_image("p"),
            ),
        ),
        variable(
            "foreign",
            format!(
                "variables.asks.filter(a, a.ns != request.namespace && a.kind != 'Node' && !(a.type in {}))",
                cel_list(&nodes_and_workloads)
            ),
        ),
        variable(
            "foreignMessages",
            "variables.foreign.map(a, 'fault ' + a.name + ' targets pods in namespace ' + a.ns + \
             ': you may not delete pods in namespace ' + a.ns + '; ask an admin there for delete on pods')"
                .into(),
        ),
        variable(
            "scales",
            format!(
                "variables.asks.filter(a, a.type in {}).map(a, {{'name': a.name, 'ns': a.ns, 'kind': a.kind, \
                 'resource': a.kind == 'StatefulSet' ? 'statefulsets' : a.kind == 'ReplicaSet' ? 'replicasets' : 'deployments'}})",
                cel_list(&workload_types())
            ),
        ),
        variable(
            "scalesMessages",
            "variables.scales.map(a, 'fault ' + a.name + ' scales a ' + a.kind + ' in namespace ' + a.ns + \
             ': you may not patch ' + a.resource + '/scale in namespace ' + a.ns + \
             '; ask an admin there for patch on ' + a.resource + '/scale')"
                .into(),
        ),
        variable(
            "nodes",
            format!(
                "variables.asks.filter(a, a.type in {} || a.kind == 'Node')",
                cel_list(&node_types())
            ),
        ),
        variable(
            "privileged",
            format!(
                "variables.asks.filter(a, a.type in {})",
                cel_list(&privileged_types())
            ),
        ),
        variable(
            "privilegedMessages",
            format!(
                "variables.privileged.map(a, 'fault ' + a.name + ' (' + a.type + ') runs a privileged fault pod on its \
                 target\\'s node: you may not {PRIVILEGED_VERB} {PRIVILEGED_RESOURCE}.{PRIVILEGED_GROUP} in namespace ' + a.ns + \
                 '; ask an admin there for it (the faultline-admin role grants it)')"
            ),
        ),
    ]
}

/// One validation per fault position for a per-fault check: a message cannot call the
/// authorizer, so a position's validation is what names the fault that lacks the permission.
fn per_fault(list: &str, check: impl Fn(&str) -> String) -> impl Iterator<Item = Value> {
    let list = list.to_owned();
    (0..MAX_FAULTS).map(move |i| {
        let item = format!("variables.{list}[{i}]");
        validation(
            format!("size(variables.{list}) <= {i} || {}", check(&item)),
            format!("variables.{list}Messages[{i}]"),
        )
    })
}

fn experiment_validations() -> Vec<Value> {
    let mut validations = vec![validation(
        format!("size(variables.customProbes) == 0 || {MAY_CREATE_PODS}"),
        custom_image_message("variables.customProbes[0]"),
    )];
    validations.extend(per_fault("foreign", |a| {
        format!("authorizer.group('').resource('pods').namespace({a}.ns).check('delete').allowed()")
    }));
    validations.extend(per_fault("scales", |a| {
        format!(
            "authorizer.group('apps').resource({a}.resource).subresource('scale').namespace({a}.ns).check('patch').allowed()"
        )
    }));
    validations.push(validation(
        "size(variables.nodes) == 0 || authorizer.group('').resource('nodes').check('patch').allowed()".into(),
        "'fault ' + variables.nodes[0].name + ' (' + variables.nodes[0].type + ') changes nodes: you may not \
         patch nodes; ask a cluster admin for patch on nodes'"
            .into(),
    ));
    validations.extend(per_fault("privileged", |a| {
        format!(
            "authorizer.group('{PRIVILEGED_GROUP}').resource('{PRIVILEGED_RESOURCE}').namespace({a}.ns).check('{PRIVILEGED_VERB}').allowed()"
        )
    }));
    validations
}

fn policy(name: &str, resource: &str, variables: Vec<Value>, validations: Vec<Value>) -> Value {
    let mut policy = json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": [{
                "apiGroups": ["chaos.faultline.dev"],
                "apiVersions": ["*"],
                "operations": ["CREATE", "UPDATE"],
                "resources": [resource],
            }]},
            "variables": variables,
            "validations": validations,
        }
    });
    if resource == "chaosexperiments" {
        // An experiment whose faults are not a list (possible only under a loosened or older
        // CRD schema) cannot run: the operator refuses it as an invalid object. The policy
        // leaves it to that refusal rather than fail on it.
        policy["spec"]["matchConditions"] = json!([{
            "name": "faults-are-a-list",
            "expression": "has(object.spec) && has(object.spec.faults) && type(object.spec.faults) == list",
        }]);
    }
    policy
}

fn binding(name: &str) -> Value {
    json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name},
        "spec": {
            "policyName": name,
            "validationActions": ["Deny"],
        }
    })
}

fn probe_policy() -> Value {
    let custom = "object.spec.type == 'cmd' && has(object.spec.cmd) && has(object.spec.cmd.image) && \
                  object.spec.cmd.image != variables.operatorImage && \
                  (oldObject == null || !has(oldObject.spec.cmd) || oldObject.spec.cmd != object.spec.cmd)";
    policy(
        "faultline-probes",
        "chaosprobes",
        vec![operator_image(), variable("customImage", custom.into())],
        vec![validation(
            format!("!variables.customImage || {MAY_CREATE_PODS}"),
            custom_image_message("object.metadata.name"),
        )],
    )
}

/// The objects, in order: each policy and its binding.
fn objects() -> Vec<(&'static str, Value)> {
    vec![
        (
            "What a ChaosExperiment asks Faultline to do, checked against what its writer may do.",
            policy(
                "faultline-experiments",
                "chaosexperiments",
                experiment_variables(),
                experiment_validations(),
            ),
        ),
        ("", binding("faultline-experiments")),
        (
            "A ChaosProbe's cmd image, checked against its writer's right to create pods.",
            probe_policy(),
        ),
        ("", binding("faultline-probes")),
    ]
}

/// The policies and their bindings as YAML.
pub fn admission_policies(flavour: Flavour) -> String {
    let format = match flavour {
        Flavour::Helm => "admission-policies-helm",
        Flavour::Plain => "admission-policies",
    };
    let mut out = format!(
        "# Generated by `faultline crds --format {format}` from src/faults/; do not edit.\n"
    );
    if flavour == Flavour::Helm {
        out.push_str("{{- if .Values.admissionPolicies.enabled }}\n");
    }
    for (comment, object) in objects() {
        out.push_str("---\n");
        if !comment.is_empty() {
            let _ = writeln!(out, "# {comment}");
        }
        let yaml = serde_yaml_ng::to_string(&object).expect("plain JSON values render as YAML");
        out.push_str(&match flavour {
            Flavour::Plain => yaml,
            Flavour::Helm => templated(&yaml),
        });
    }
    if flavour == Flavour::Helm {
        out.push_str("{{- end }}\n");
    }
    out
}

/// The chart's version of an object: its release's image, and its labels.
fn templated(yaml: &str) -> String {
    // The YAML scalar of the CEL literal: single-quoted, its quotes doubled.
    let literal = format!("'{}'", PLAIN_IMAGE.replace('\'', "''"));
    yaml.replace(
        &literal,
        "{{ include \"faultline.image\" . | squote | quote }}",
    )
    .replacen(
        "metadata:\n",
        "metadata:\n  labels:\n    {{- include \"faultline.labels\" . | nindent 4 }}\n",
        1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_type_lists_follow_the_fault_kinds() {
        assert_eq!(workload_types(), ["workload-scale"]);
        assert_eq!(node_types(), ["node-cordon", "node-drain", "node-taint"]);
        let privileged = privileged_types();
        assert_eq!(privileged.len(), 8, "{privileged:?}");
        for t in [
            "pod-network-latency",
            "pod-dns-error",
            "container-kill",
            "pod-io-stress",
        ] {
            assert!(privileged.contains(&t), "{t} is not privileged");
        }
        assert!(!privileged.contains(&"pod-delete"));
    }

    #[test]
    fn every_fault_position_has_a_validation_per_permission() {
        let validations = experiment_validations();
        assert_eq!(validations.len(), 2 + 3 * MAX_FAULTS);
        let last = validations.last().unwrap();
        assert_eq!(
            last["messageExpression"],
            format!("variables.privilegedMessages[{}]", MAX_FAULTS - 1)
        );
    }

    #[test]
    fn every_variable_used_is_declared_before_use() {
        let pattern = regex::Regex::new(r"variables\.([A-Za-z]+)").unwrap();
        let mut declared: Vec<String> = Vec::new();
        let used = |text: &str| -> Vec<String> {
            pattern
                .captures_iter(text)
                .map(|c| c[1].to_owned())
                .collect()
        };
        for variable in experiment_variables() {
            for name in used(variable["expression"].as_str().unwrap()) {
                assert!(
                    declared.contains(&name),
                    "{name} is used before it is declared"
                );
            }
            declared.push(variable["name"].as_str().unwrap().to_owned());
        }
        for validation in experiment_validations() {
            for key in ["expression", "messageExpression"] {
                for name in used(validation[key].as_str().unwrap()) {
                    assert!(declared.contains(&name), "{name} is not declared");
                }
            }
        }
    }

    #[test]
    fn the_crd_allows_as_many_faults_as_the_policy_checks() {
        let crds = serde_json::to_value(crate::api::crds()).unwrap();
        let experiment = crds
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["metadata"]["name"] == "chaosexperiments.chaos.faultline.dev")
            .unwrap();
        let faults = "/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/faults";
        assert_eq!(experiment.pointer(faults).unwrap()["maxItems"], MAX_FAULTS);
    }

    #[test]
    fn the_chart_flavour_templates_namespace_image_and_labels_only() {
        let helm = admission_policies(Flavour::Helm);
        let plain = admission_policies(Flavour::Plain);
        assert!(!helm.contains("localhost/faultline"));
        assert!(plain.contains("expression: '''localhost/faultline:0.1.0'''"));
        assert_eq!(helm.matches("include \"faultline.labels\"").count(), 4);
        assert_eq!(helm.matches("include \"faultline.image\"").count(), 2);
        // Helm would read "{{" inside a CEL expression as a template action.
        let actions = helm.matches("{{").count();
        assert_eq!(actions, 2 + 4 + 2, "{helm}");
        assert!(!plain.contains("{{"));
    }
}
