//! Litmus probes (httpProbe, k8sProbe, cmdProbe, promProbe) to inline Faultline probes, with
//! their mode and runProperties. Litmus and Faultline share the five modes.

use serde_json::{Map, Value, json};

use super::model::Probe;
use crate::api::ProbeEntry;
use crate::cli::findings::{Findings, Origin};

const MODES: [&str; 5] = ["SOT", "EOT", "Edge", "Continuous", "OnChaos"];

/// The probe as an inline probe entry, or None when it is refused.
pub fn probe(probe: &Probe, origin: &Origin, found: &mut Findings) -> Option<ProbeEntry> {
    let at = Origin {
        name: probe.name.clone(),
        kind: "probe",
        ..origin.clone()
    };
    let mode = probe.mode.clone().unwrap_or_else(|| "EOT".into());
    if !MODES.contains(&mode.as_str()) {
        found.refuse(
            &at,
            "mode",
            format!("{mode:?} is not SOT, EOT, Edge, Continuous or OnChaos"),
        );
    }
    let inputs_key = format!("{}/inputs", probe.probe_type);
    let mut rest = probe.rest.clone();
    let inputs = rest.remove(&inputs_key).unwrap_or(Value::Null);
    for key in rest.keys() {
        found.refuse(
            &at,
            key,
            "has no Faultline equivalent, so it cannot be converted",
        );
    }
    let refused = found.unsupported.len();
    let (kind, block) = match probe.probe_type.as_str() {
        "httpProbe" => ("http", http(&inputs, &at, found)),
        "k8sProbe" => ("k8s", k8s(&inputs, &at, found)),
        "cmdProbe" => ("cmd", cmd(&inputs, &at, found)),
        "promProbe" => ("prometheus", prom(&inputs, &at, found)),
        other => {
            found.refuse(
                &at,
                other,
                "is not a Litmus probe type (httpProbe, k8sProbe, cmdProbe, promProbe)",
            );
            return None;
        }
    };
    let Some(block) = block else {
        if found.unsupported.len() == refused {
            let needs = "its inputs lack a required field (httpProbe url; cmdProbe command; promProbe endpoint and query)";
            found.refuse(&at, &inputs_key, needs);
        }
        return None;
    };
    let mut spec = json!({"type": kind});
    spec[kind] = block;
    if let Some(properties) = &probe.run_properties {
        spec["runProperties"] = run_properties(properties, &at, found);
    }
    serde_json::from_value(json!({"name": probe.name, "mode": mode, "probe": spec}))
        .map_err(|e| {
            found.refuse(
                &at,
                &probe.probe_type,
                format!("does not convert to a valid probe: {e}"),
            )
        })
        .ok()
}

/// A Litmus duration: a number of seconds, or a string with units ("5s", "500ms").
fn duration(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => n.as_u64().map(|s| format!("{s}s")),
        Value::String(s) if s.chars().all(|c| c.is_ascii_digit()) && !s.is_empty() => {
            Some(format!("{s}s"))
        }
        Value::String(s) => s.parse::<crate::api::Duration>().ok().map(|_| s.clone()),
        _ => None,
    }
}

fn run_properties(properties: &Value, at: &Origin, found: &mut Findings) -> Value {
    let mut out = Map::new();
    for (key, value) in properties.as_object().into_iter().flatten() {
        let field = match key.as_str() {
            "probeTimeout" => "timeout",
            "interval" => "interval",
            "initialDelay" | "initialDelaySeconds" => "initialDelay",
            "probePollingInterval" => {
                found.note(at, "probePollingInterval becomes the interval between samples (Faultline has one interval)");
                "interval"
            }
            "retry" => {
                out.insert("retries".into(), value.clone());
                continue;
            }
            "stopOnFailure" => {
                out.insert("stopOnFailure".into(), value.clone());
                continue;
            }
            other => {
                found.refuse(
                    at,
                    &format!("runProperties.{other}"),
                    "has no Faultline equivalent",
                );
                continue;
            }
        };
        match duration(value) {
            Some(d) => {
                out.entry(field.to_owned()).or_insert(json!(d));
            }
            None => found.refuse(
                at,
                &format!("runProperties.{key}"),
                format!("{value} is not a duration"),
            ),
        }
    }
    Value::Object(out)
}

/// Litmus' criteria as a Faultline comparator op.
fn op(criteria: &str, at: &Origin, found: &mut Findings) -> Option<&'static str> {
    let op = match criteria {
        "==" | "equal" => "==",
        "!=" | "notEqual" => "!=",
        "<" => "<",
        "<=" => "<=",
        ">" => ">",
        ">=" => ">=",
        "contains" => "contains",
        "matches" => "matches",
        "oneOf" => "oneOf",
        other => {
            found.refuse(at, "comparator.criteria", format!("{other:?} has no Faultline comparator (==, !=, <, <=, >, >=, contains, matches, oneOf)"));
            return None;
        }
    };
    Some(op)
}

fn comparator(value: &Value, at: &Origin, found: &mut Findings) -> Option<Value> {
    let criteria = value["criteria"].as_str().unwrap_or("==");
    let op = op(criteria, at, found)?;
    let expected = match &value["value"] {
        Value::String(s) => s.parse::<i64>().map_or_else(|_| json!(s), |n| json!(n)),
        other => other.clone(),
    };
    Some(json!({"op": op, "value": expected}))
}

fn http(inputs: &Value, at: &Origin, found: &mut Findings) -> Option<Value> {
    let url = inputs["url"].as_str()?;
    let mut http = json!({"url": url});
    if inputs["insecureSkipVerify"].as_bool() == Some(true) {
        http["insecureSkipVerify"] = json!(true);
    }
    let Some((method, spec)) = inputs["method"].as_object().and_then(|m| m.iter().next()) else {
        return Some(http);
    };
    http["method"] = json!(method.to_ascii_uppercase());
    if let Some(body) = spec["body"].as_str() {
        http["body"] = json!(body);
    }
    match (
        spec["criteria"].as_str().unwrap_or("=="),
        spec["responseCode"].as_str(),
    ) {
        ("==", Some(code)) => http["expectedStatus"] = json!([code]),
        (_, None) => {}
        (other, Some(_)) => {
            found.refuse(at, "responseCode", format!("criteria {other:?}: Faultline's http probe lists the accepted codes (expectedStatus)"));
        }
    }
    Some(http)
}

/// Resources a k8s probe may name that the operator's ClusterRole does not let it read by default.
pub(super) const READ_WITH_EXTRA_RULES: [&str; 4] =
    ["configmaps", "persistentvolumeclaims", "jobs", "nodes"];

fn k8s(inputs: &Value, at: &Origin, found: &mut Findings) -> Option<Value> {
    let state = match inputs["operation"].as_str().unwrap_or("present") {
        "present" => "Present",
        "absent" => "Absent",
        other => {
            found.refuse(at, "operation", format!("{other:?}: a Faultline k8s probe checks objects, it does not create or delete them"));
            return None;
        }
    };
    let (group, version) = (
        inputs["group"].as_str().unwrap_or(""),
        inputs["version"].as_str().unwrap_or("v1"),
    );
    let api_version = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    let resource = inputs["resource"].as_str().unwrap_or_default();
    if READ_WITH_EXTRA_RULES.contains(&resource) {
        found.note(at, format!("the operator reads {resource} only once the chart's extraProbeRules grants get and list on them (docs/probes.md)"));
    }
    let kind = match resource {
        "pods" => "Pod",
        "deployments" => "Deployment",
        "statefulsets" => "StatefulSet",
        "daemonsets" => "DaemonSet",
        "replicasets" => "ReplicaSet",
        "services" => "Service",
        "configmaps" => "ConfigMap",
        "persistentvolumeclaims" => "PersistentVolumeClaim",
        "jobs" => "Job",
        "namespaces" => "Namespace",
        "nodes" => "Node",
        other => {
            found.refuse(
                at,
                "resource",
                format!("{other:?} is not a resource Faultline's k8s probe reads"),
            );
            return None;
        }
    };
    if inputs["fieldSelector"]
        .as_str()
        .is_some_and(|f| !f.is_empty())
    {
        found.refuse(
            at,
            "fieldSelector",
            "Faultline's k8s probe selects by label only",
        );
    }
    let selector = inputs["labelSelector"].as_str().unwrap_or_default();
    let selector = crate::cli::chaostoolkit::parse_label_selector(selector)
        .map_err(|e| found.refuse(at, "labelSelector", e))
        .ok()?;
    let mut k8s = json!({"apiVersion": api_version, "kind": kind, "selector": selector, "check": {"state": state}});
    if let Some(ns) = inputs["namespace"].as_str().filter(|n| !n.is_empty()) {
        k8s["namespace"] = json!(ns);
    }
    Some(k8s)
}

fn cmd(inputs: &Value, at: &Origin, found: &mut Findings) -> Option<Value> {
    let command = inputs["command"].as_str()?;
    let mut cmd = json!({"command": ["sh", "-c", command]});
    if let Some(image) = inputs["source"]["image"].as_str() {
        cmd["image"] = json!(image);
    } else {
        found.note(at, "an inline cmdProbe runs in Faultline's probe pod, whose image has no shell: give it source.image");
    }
    if inputs["comparator"].is_object() {
        cmd["expect"] = json!({"output": comparator(&inputs["comparator"], at, found)?});
    }
    Some(cmd)
}

fn prom(inputs: &Value, at: &Origin, found: &mut Findings) -> Option<Value> {
    let endpoint = inputs["endpoint"].as_str()?;
    let query = inputs["query"].as_str()?;
    let comparator = comparator(&inputs["comparator"], at, found)?;
    Some(json!({"endpoint": endpoint, "query": query, "comparator": comparator}))
}
