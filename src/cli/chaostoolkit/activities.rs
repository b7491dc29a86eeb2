//! One activity: `ref` resolution, its common keys (type, pauses, timeout, tolerance, controls)
//! and the dispatch on its provider type.

use serde_json::{Map, Value};

use super::Unsupported;
use super::converter::{Converted, Converter, Kind, Pauses, ProbeDraft, Section};
use super::mapping::{self, Route};
use super::values::short_json;

/// The activity keys Chaos Toolkit defines.
pub(super) const ACTIVITY_KEYS: &[&str] = &[
    "type",
    "name",
    "provider",
    "tolerance",
    "pauses",
    "background",
    "controls",
    "ref",
    "timeout",
];

impl Converter<'_> {
    /// Chaos Toolkit resolves `ref` against every named activity of the experiment.
    pub(super) fn index_activities(&mut self, experiment: &Map<String, Value>) {
        let sections = [
            experiment
                .get("steady-state-hypothesis")
                .and_then(|h| h.get("probes")),
            experiment.get("method"),
            experiment.get("rollbacks"),
        ];
        for activity in sections
            .into_iter()
            .flatten()
            .filter_map(Value::as_array)
            .flatten()
        {
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
        let name = activity_name(activity);
        let provider_text = provider_label(activity);
        let refused_before = self.unsupported.len();
        self.uses_failed_key = false;
        let Some(object) = activity.as_object() else {
            self.refuse(location, name, "-", "an activity must be a mapping");
            return None;
        };
        let kind = match object.get("type").and_then(Value::as_str) {
            Some("probe") => Kind::Probe,
            Some("action") => Kind::Action,
            other => {
                self.refuse(
                    location,
                    name,
                    provider_text,
                    format!(
                        "an activity's type must be probe or action, not {}",
                        other.map_or("missing".to_string(), |t| format!("{t:?}"))
                    ),
                );
                return None;
            }
        };
        for key in object.keys() {
            if !ACTIVITY_KEYS.contains(&key.as_str()) {
                self.notes.push(format!(
                    "{location} {name:?}: the key {key:?} is not part of a Chaos Toolkit \
                     activity; ignored"
                ));
            }
        }
        if object.get("background").and_then(Value::as_bool) == Some(true) {
            self.refuse(
                location,
                name.clone(),
                provider_text.clone(),
                "background activities run alongside the next ones; Faultline runs a method's \
                 steps in order (use a fault probe with mode Continuous or OnChaos to check \
                 during a fault)",
            );
        }
        if let Some(controls) = object.get("controls") {
            self.controls(&format!("{location}.controls"), controls);
        }
        let pauses = self.pauses(object.get("pauses"), location, &name);
        let timeout = match object.get("timeout") {
            None => None,
            Some(t) => match t.as_f64() {
                Some(secs) if secs > 0.0 => Some(secs),
                _ => {
                    self.refuse(
                        location,
                        name.clone(),
                        provider_text.clone(),
                        format!(
                            "timeout must be a positive number of seconds, not {}",
                            short_json(t)
                        ),
                    );
                    None
                }
            },
        };
        let provider = object.get("provider").and_then(Value::as_object);
        let Some(provider) = provider else {
            self.refuse(
                location,
                name,
                provider_text,
                "an activity needs a provider",
            );
            return None;
        };
        let tolerance = object.get("tolerance");
        if section == Section::SteadyState && tolerance.is_none() {
            self.refuse(
                location,
                name.clone(),
                provider_text.clone(),
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
                self.refuse(location, name, provider_text, reason);
                if provider_type == Some("http") {
                    // Listed even when the activity uses a refused configuration key, as before.
                    return None;
                }
                None
            }
        };
        if self.uses_failed_key {
            // The refused configuration entry is the cause, and it is listed already.
            self.unsupported.truncate(refused_before);
            return None;
        }
        if self.unsupported.len() > refused_before {
            return None;
        }
        converted.map(|c| (kind, c, pauses))
    }

    pub(super) fn pauses(&mut self, pauses: Option<&Value>, location: &str, name: &str) -> Pauses {
        let mut out = Pauses::default();
        let Some(pauses) = pauses else {
            return out;
        };
        let pauses = self.substitute(pauses, location);
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
        .unwrap_or("(unnamed)")
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
