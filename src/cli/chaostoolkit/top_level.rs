//! The experiment-level keys that are neither activities nor configuration: secrets, controls,
//! runtime, tags and the rest.

use serde_json::{Map, Value};

use super::converter::Converter;
use super::values::short_json;

/// Controls that only report what happens (to a tracer) and change nothing in the run.
pub(super) const OBSERVING_CONTROLS: &[&str] = &["chaostracing.control", "chaosotel.control"];

impl Converter<'_> {
    /// The experiment-level keys other than the activities and the configuration.
    pub(super) fn top_level(&mut self, experiment: &Map<String, Value>) {
        for (key, value) in experiment {
            match key.as_str() {
                "version"
                | "title"
                | "description"
                | "configuration"
                | "method"
                | "steady-state-hypothesis"
                | "rollbacks" => {}
                "tags" => self.notes.push(format!(
                    "tags ignored ({}): Faultline has no experiment tags; add labels to the \
                     ChaosExperiment if you select experiments by them",
                    short_json(value)
                )),
                "contributions" | "extensions" => self.notes.push(format!(
                    "{key} ignored: they describe the experiment and change nothing in how it runs"
                )),
                "secrets" => self.secrets(value),
                "controls" => self.controls("controls", value),
                "runtime" => self.runtime(value),
                other => self.notes.push(format!(
                    "the top-level key {other:?} is not part of a Chaos Toolkit experiment; ignored"
                )),
            }
        }
    }

    pub(super) fn secrets(&mut self, secrets: &Value) {
        let reason = "secrets are not imported: Faultline's probes and faults take no \
                      credentials from the experiment (the operator and fault pods use their \
                      ServiceAccounts); remove the secret, or put it in a Kubernetes Secret and \
                      reference it yourself";
        match secrets.as_object() {
            Some(scopes) if !scopes.is_empty() => {
                for (scope, entries) in scopes {
                    match entries.as_object() {
                        Some(entries) if !entries.is_empty() => {
                            for (key, entry) in entries {
                                let source = secret_source(entry);
                                self.refuse(
                                    format!("secrets.{scope}.{key}"),
                                    key.clone(),
                                    source,
                                    reason,
                                );
                            }
                        }
                        _ => self.refuse(format!("secrets.{scope}"), scope.clone(), "-", reason),
                    }
                }
            }
            _ => self
                .notes
                .push("an empty secrets section was ignored".into()),
        }
    }

    pub(super) fn controls(&mut self, location: &str, controls: &Value) {
        let Some(list) = controls.as_array() else {
            self.refuse(
                location,
                "controls",
                "-",
                "controls must be a list of controls",
            );
            return;
        };
        for (i, control) in list.iter().enumerate() {
            let name = control
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("control")
                .to_string();
            let module = control
                .pointer("/provider/module")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if OBSERVING_CONTROLS.contains(&module.as_str()) {
                self.notes.push(format!(
                    "{location}[{i}] {name:?} ({module}) ignored: it only reports the run to a \
                     tracer; Faultline records runs as ChaosResults, Events and metrics"
                ));
            } else {
                let provider = if module.is_empty() {
                    "control".to_string()
                } else {
                    format!("python {module}")
                };
                self.refuse(
                    format!("{location}[{i}]"),
                    name,
                    provider,
                    "controls run code around each step and can change the run (safeguards, \
                     repeats, interruptions); Faultline cannot run them",
                );
            }
        }
    }

    pub(super) fn runtime(&mut self, runtime: &Value) {
        let hypothesis = runtime
            .pointer("/hypothesis/strategy")
            .and_then(Value::as_str);
        if let Some(strategy) = hypothesis
            && strategy != "default"
        {
            self.refuse(
                "runtime.hypothesis.strategy",
                strategy,
                "runtime",
                "Faultline checks the steady state before the first fault and after the last \
                 (Chaos Toolkit's default strategy); use a fault probe with mode Continuous or \
                 OnChaos for checks during the method",
            );
        }
        if runtime.get("rollbacks").is_some() {
            self.notes.push(
                "runtime.rollbacks ignored: Faultline reverts every fault itself and runs no \
                 rollback activities"
                    .into(),
            );
        }
    }
}

pub(super) fn secret_source(entry: &Value) -> String {
    match entry.get("type").and_then(Value::as_str) {
        Some(kind) => match entry.get("key").and_then(Value::as_str) {
            Some(key) => format!("{kind} {key}"),
            None => kind.to_string(),
        },
        None => "inline value".into(),
    }
}
