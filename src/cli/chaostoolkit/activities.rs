//! One activity: `ref` resolution, its common keys (type, pauses, timeout, tolerance, controls)
//! and the dispatch on its provider type.

use serde_json::Value;

use super::Unsupported;
use super::converter::{Converted, Converter, Pauses, ProbeDraft, Section};
use super::mapping::{self, Route};
use super::model::{Activity, Hypothesis, Kind, Lenient, from_mapping};

/// The name shown for an activity without one.
const UNNAMED: &str = "(unnamed)";
use super::values::short_json;

impl Converter<'_> {
    /// Chaos Toolkit resolves `ref` against every named activity of the experiment.
    pub(super) fn index_activities(
        &mut self,
        hypothesis: Option<&Hypothesis>,
        method: &[Value],
        rollbacks: Option<&Vec<Value>>,
    ) {
        let probes = hypothesis.and_then(|h| h.probes.as_ref()?.typed());
        let sections = [
            probes.map(Vec::as_slice),
            Some(method),
            rollbacks.map(Vec::as_slice),
        ];
        for activity in sections.into_iter().flatten().flatten() {
            if activity.get("ref").is_none()
                && let Some(name) = activity.get("name").and_then(Value::as_str)
            {
                self.library
                    .entry(name.to_string())
                    .or_insert_with(|| activity.clone());
            }
        }
    }

    /// Replaces `{"ref": name}` by the named activity.
    pub(super) fn resolve_ref(
        &mut self,
        activity: &Value,
        location: String,
    ) -> Option<(Value, String)> {
        let Some(reference) = activity.get("ref") else {
            return Some((activity.clone(), location));
        };
        let name = reference.as_str().unwrap_or_default().to_string();
        match self.library.get(&name) {
            Some(found) => Some((found.clone(), format!("{location} (ref {name:?})"))),
            None => {
                self.refuse(
                    location,
                    name,
                    "ref",
                    "it refers to no activity of that name in the experiment",
                );
                None
            }
        }
    }

    /// Converts one activity; refusals are recorded and give `None`.
    pub(super) fn activity(
        &mut self,
        activity: &Value,
        location: &str,
        section: Section,
    ) -> Option<(Kind, Converted, Pauses)> {
        let refused_before = self.unsupported.len();
        let Some(parsed) = from_mapping::<Activity>(activity) else {
            self.refuse(location, UNNAMED, "-", "an activity must be a mapping");
            return None;
        };
        let name = (parsed.name.as_ref().and_then(Lenient::typed))
            .map_or(UNNAMED, String::as_str)
            .to_string();
        let label = provider_label(activity);
        let Some(kind) = parsed.kind.as_ref().and_then(Lenient::typed).copied() else {
            let found = match &parsed.kind {
                Some(Lenient::Other(Value::String(t))) => format!("{t:?}"),
                _ => "missing".to_string(),
            };
            let reason = format!("an activity's type must be probe or action, not {found}");
            self.refuse(location, name, label, reason);
            return None;
        };
        self.activity_keys(&parsed, location, &name, &label);
        let pauses = self.pauses(parsed.pauses.as_ref(), location, &name);
        let timeout = self.activity_timeout(parsed.timeout.as_ref(), location, &name, &label);
        let Some(provider) = parsed.provider.as_ref().filter(|p| p.is_object()) else {
            self.refuse(location, name, label, "an activity needs a provider");
            return None;
        };
        let tolerance = parsed.tolerance.as_ref();
        if section == Section::SteadyState && tolerance.is_none() {
            self.refuse(
                location,
                name.clone(),
                label.clone(),
                "a steady-state probe needs a tolerance (Chaos Toolkit refuses it too)",
            );
        }
        let provider_type = provider.get("type").and_then(Value::as_str);
        let converted = match mapping::provider(kind, provider_type) {
            Route::HttpProbe => self
                .http_probe(provider, tolerance, timeout, location, &name)
                .map(|spec| Converted::Probe(Box::new(ProbeDraft { name, spec }))),
            Route::Python => self.python(kind, provider, tolerance, timeout, location, &name),
            Route::Refused(reason) => {
                self.refuse(location, name, label, reason);
                None
            }
        };
        if self.unsupported.len() > refused_before {
            return None;
        }
        converted.map(|c| (kind, c, pauses))
    }

    /// Keys outside the format are noted; background activities and controls are refused.
    fn activity_keys(&mut self, activity: &Activity, location: &str, name: &str, label: &str) {
        for key in activity.rest.keys() {
            self.notes.push(format!(
                "{location} {name:?}: the key {key:?} is not part of a Chaos Toolkit activity; \
                 ignored"
            ));
        }
        if let Some(Lenient::Typed(true)) = activity.background {
            self.refuse(
                location,
                name,
                label,
                "background activities run alongside the next ones; Faultline runs a method's \
                 steps in order (use a fault probe with mode Continuous or OnChaos to check \
                 during a fault)",
            );
        }
        if let Some(controls) = &activity.controls {
            self.controls(&format!("{location}.controls"), controls);
        }
    }

    /// The activity's timeout in seconds; anything but a positive number is refused.
    fn activity_timeout(
        &mut self,
        timeout: Option<&Value>,
        location: &str,
        name: &str,
        label: &str,
    ) -> Option<f64> {
        let timeout = timeout?;
        match timeout.as_f64() {
            Some(secs) if secs > 0.0 => Some(secs),
            _ => {
                let reason = format!(
                    "timeout must be a positive number of seconds, not {}",
                    short_json(timeout)
                );
                self.refuse(location, name, label, reason);
                None
            }
        }
    }

    pub(super) fn pauses(&mut self, pauses: Option<&Value>, location: &str, name: &str) -> Pauses {
        let mut out = Pauses::default();
        let Some(pauses) = pauses else {
            return out;
        };
        let (pauses, names_failed_key) = self.substitute_traced(pauses, location);
        for (key, slot) in [("before", &mut out.before), ("after", &mut out.after)] {
            let Some(value) = pauses.get(key) else {
                continue;
            };
            let secs = match value {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            };
            match secs {
                Some(secs) if secs >= 0.0 && secs.is_finite() => *slot = secs,
                // The refused configuration key it names is the cause, listed already.
                _ if names_failed_key => {}
                _ => self.unsupported.push(Unsupported {
                    location: location.to_string(),
                    name: name.to_string(),
                    provider: "pauses".into(),
                    reason: format!(
                        "pauses.{key} must be a number of seconds, not {}",
                        short_json(value)
                    ),
                }),
            }
        }
        out
    }
}

pub(super) fn activity_name(activity: &Value) -> String {
    activity
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or(UNNAMED)
        .to_string()
}

/// How an activity's provider is shown: `python module.func`, `http GET url`, `process path`.
pub(super) fn provider_label(activity: &Value) -> String {
    let Some(provider) = activity.get("provider") else {
        return "no provider".into();
    };
    let text = |key: &str| provider.get(key).and_then(Value::as_str).unwrap_or("");
    match text("type") {
        "python" => format!("python {}.{}", text("module"), text("func")),
        "http" => format!(
            "http {} {}",
            provider
                .get("method")
                .and_then(Value::as_str)
                .unwrap_or("GET")
                .to_uppercase(),
            text("url")
        ),
        "process" => format!("process {}", text("path")),
        other => format!("{other} provider"),
    }
}
