//! Types shared by the three resources: durations, comparators, conditions and the status vocabulary.

use std::{borrow::Cow, fmt, str::FromStr};

use k8s_openapi::apimachinery::pkg::{apis::meta::v1::Condition, util::intstr::IntOrString};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The API group of every Faultline resource.
pub const GROUP: &str = "chaos.faultline.dev";
/// Annotation whose new value asks for another run of an experiment.
pub const RUN_REQUESTED_ANNOTATION: &str = "chaos.faultline.dev/run-requested";
/// Annotation on a ChaosResult that stops its run (set by the operator for spec.stop, and by the CLI).
pub const STOP_ANNOTATION: &str = "chaos.faultline.dev/stop-requested";
/// Annotation on a ChaosResult that gives up on reverts that keep failing, so its deletion can
/// finish; the entries are recorded as Abandoned.
pub const FORCE_CLEANUP_ANNOTATION: &str = "chaos.faultline.dev/force-cleanup";
/// Finalizer on a ChaosResult: its deletion waits until everything its run injected is reverted.
pub const REVERT_FINALIZER: &str = "chaos.faultline.dev/revert";
/// Label that opts a namespace in as a chaos target.
pub const ALLOW_LABEL: &str = "chaos.faultline.dev/allow";
/// Annotation on a target namespace listing the namespaces allowed to target it (or `*`).
pub const ALLOW_FROM_ANNOTATION: &str = "chaos.faultline.dev/allow-from";
/// Annotation (`"true"`) on kube-system or Faultline's own namespace that lets faults acting on
/// its containers' processes (container-kill) target it; without it they are refused there.
pub const ALLOW_PROTECTED_ANNOTATION: &str = "chaos.faultline.dev/allow-protected";
/// Label carried by results and the pods of a run, naming the experiment.
pub const EXPERIMENT_LABEL: &str = "chaos.faultline.dev/experiment";
/// Label carried by the pods of a run, naming the result.
pub const RESULT_LABEL: &str = "chaos.faultline.dev/result";
/// The label a node-level fault pod carries with its result's namespace: it lives in
/// Faultline's namespace, where no owner reference can tie it to the result.
pub const RESULT_NAMESPACE_LABEL: &str = "chaos.faultline.dev/result-namespace";

/// A Go-style duration such as `30s`, `5m` or `1h30m`, as Kubernetes writes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub std::time::Duration);

/// The schema pattern for [`Duration`]; the API server rejects anything else.
pub const DURATION_PATTERN: &str = r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$";

impl Duration {
    pub const fn from_secs(secs: u64) -> Self {
        Duration(std::time::Duration::from_secs(secs))
    }

    pub const fn from_millis(millis: u64) -> Self {
        Duration(std::time::Duration::from_millis(millis))
    }

    pub fn as_std(&self) -> std::time::Duration {
        self.0
    }
}

impl From<std::time::Duration> for Duration {
    fn from(d: std::time::Duration) -> Self {
        Duration(d)
    }
}

impl FromStr for Duration {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parsed: kube::core::Duration = s.parse().map_err(|e| {
            format!("invalid duration {s:?}: {e}; use a form like 30s, 5m or 1h30m")
        })?;
        if parsed.is_negative() {
            return Err(format!("invalid duration {s:?}: it must not be negative"));
        }
        Ok(Duration(parsed.into()))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d.subsec_nanos() == 0 {
            let secs = d.as_secs();
            let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
            if secs == 0 {
                return write!(f, "0s");
            }
            if h > 0 {
                write!(f, "{h}h")?;
            }
            if m > 0 {
                write!(f, "{m}m")?;
            }
            if s > 0 {
                write!(f, "{s}s")?;
            }
            Ok(())
        } else {
            write!(f, "{}ms", d.as_millis())
        }
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Duration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": DURATION_PATTERN,
        })
    }
}

/// How a comparator compares an observed value with the expected one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ComparatorOp {
    #[serde(rename = "==")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "contains")]
    Contains,
    #[serde(rename = "matches")]
    Matches,
    #[serde(rename = "oneOf")]
    OneOf,
}

/// Compares an observed value with `value`. Numeric ops compare numbers; `contains` and
/// `matches` (a regex) compare text; `oneOf` takes a comma-separated list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Comparator {
    /// One of ==, !=, <, <=, >, >=, contains, matches, oneOf.
    pub op: ComparatorOp,
    /// The expected value: a number or a string (for oneOf, a comma-separated list).
    pub value: IntOrString,
}

/// The verdict of one probe.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ProbeVerdict {
    /// Still being checked.
    #[default]
    Awaited,
    Passed,
    Failed,
    /// The outcome could not be determined.
    #[serde(rename = "N/A")]
    NotApplicable,
}

/// When a probe is checked relative to the chaos (Litmus' meaning).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum ProbeMode {
    /// Start of test: once before the fault is injected.
    #[serde(rename = "SOT")]
    Sot,
    /// End of test: once after the fault is reverted.
    #[default]
    #[serde(rename = "EOT")]
    Eot,
    /// Before and after; passes only if both pass.
    Edge,
    /// Throughout the fault, from before injection to after revert.
    Continuous,
    /// Only while the fault is injected.
    OnChaos,
}

impl ProbeMode {
    /// The mode as the API writes it: SOT, EOT, Edge, Continuous or OnChaos.
    pub fn as_str(&self) -> &'static str {
        match self {
            ProbeMode::Sot => "SOT",
            ProbeMode::Eot => "EOT",
            ProbeMode::Edge => "Edge",
            ProbeMode::Continuous => "Continuous",
            ProbeMode::OnChaos => "OnChaos",
        }
    }
}

/// The `conditions` schema: a list-map keyed by `type`, as Kubernetes API conventions ask.
pub fn conditions_schema(generator: &mut SchemaGenerator) -> Schema {
    let mut schema = generator.subschema_for::<Vec<Condition>>();
    schema.insert("x-kubernetes-list-type".into(), "map".into());
    schema.insert(
        "x-kubernetes-list-map-keys".into(),
        serde_json::json!(["type"]),
    );
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_mode_reads_as_it_serialises() {
        use ProbeMode::*;
        for mode in [Sot, Eot, Edge, Continuous, OnChaos] {
            let json = serde_json::to_string(&mode).unwrap();
            assert_eq!(json, format!("\"{}\"", mode.as_str()));
        }
    }

    #[test]
    fn durations_parse_and_print_the_kubernetes_way() {
        for (text, secs) in [("30s", 30), ("5m", 300), ("1h30m", 5400), ("0s", 0)] {
            let d: Duration = text.parse().unwrap();
            assert_eq!(d.as_std().as_secs(), secs);
            assert_eq!(d.to_string(), text);
        }
        assert_eq!("250ms".parse::<Duration>().unwrap().to_string(), "250ms");
    }

    #[test]
    fn a_bad_duration_says_what_form_to_use() {
        let err = "10 seconds".parse::<Duration>().unwrap_err();
        assert!(err.contains("like 30s"), "{err}");
        let pattern = regex::Regex::new(DURATION_PATTERN).unwrap();
        assert!(pattern.is_match("1h30m") && pattern.is_match("500ms"));
        assert!(!pattern.is_match("10") && !pattern.is_match("-5s"));
    }

    #[test]
    fn probe_verdict_na_is_spelled_as_in_the_design() {
        assert_eq!(
            serde_json::to_string(&ProbeVerdict::NotApplicable).unwrap(),
            "\"N/A\""
        );
    }
}
