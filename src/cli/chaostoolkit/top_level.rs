//! The experiment-level keys that are neither activities nor configuration: secrets, controls,
//! runtime, tags and the rest.

use serde_json::Value;

use super::converter::Converter;
use super::model::{Control, Experiment, Lenient, Runtime, RuntimeHypothesis, from_mapping};
use super::values::short_json;

/// Controls that only report what happens (to a tracer) and change nothing in the run.
const OBSERVING_CONTROLS: &[&str] = &["chaostracing.control", "chaosotel.control"];

/// A top-level key the conversion has something to say about.
enum Part<'e> {
    Tags(&'e Value),
    /// contributions or extensions.
    Descriptive,
    Secrets(&'e Value),
    Controls(&'e Lenient<Vec<Value>>),
    Runtime(&'e Value),
    Unknown,
}

impl Converter<'_> {
    /// The experiment-level keys other than the activities and the configuration, in the
    /// mapping's key order.
    pub(super) fn top_level(&mut self, experiment: &Experiment) {
        let known = [
            ("tags", experiment.tags.as_ref().map(Part::Tags)),
            (
                "contributions",
                experiment.contributions.as_ref().map(|_| Part::Descriptive),
            ),
            (
                "extensions",
                experiment.extensions.as_ref().map(|_| Part::Descriptive),
            ),
            ("secrets", experiment.secrets.as_ref().map(Part::Secrets)),
            ("controls", experiment.controls.as_ref().map(Part::Controls)),
            ("runtime", experiment.runtime.as_ref().map(Part::Runtime)),
        ];
        let mut parts: Vec<(&str, Part)> = known
            .into_iter()
            .filter_map(|(key, part)| Some((key, part?)))
            .chain(
                experiment
                    .rest
                    .keys()
                    .map(|key| (key.as_str(), Part::Unknown)),
            )
            .collect();
        parts.sort_by_key(|(key, _)| *key);
        for (key, part) in parts {
            match part {
                Part::Tags(value) => self.notes.push(format!(
                    "tags ignored ({}): Faultline has no experiment tags; add labels to the \
                     ChaosExperiment if you select experiments by them",
                    short_json(value)
                )),
                Part::Descriptive => self.notes.push(format!(
                    "{key} ignored: they describe the experiment and change nothing in how it runs"
                )),
                Part::Secrets(value) => self.secrets(value),
                Part::Controls(controls) => self.controls("controls", controls),
                Part::Runtime(value) => self.runtime(value),
                Part::Unknown => self.notes.push(format!(
                    "the top-level key {key:?} is not part of a Chaos Toolkit experiment; ignored"
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

    pub(super) fn controls(&mut self, location: &str, controls: &Lenient<Vec<Value>>) {
        let Some(list) = controls.typed() else {
            self.refuse(
                location,
                "controls",
                "-",
                "controls must be a list of controls",
            );
            return;
        };
        for (i, control) in list.iter().enumerate() {
            let control = from_mapping::<Control>(control);
            let name = (control.as_ref())
                .and_then(|c| c.name.as_ref()?.typed().cloned())
                .unwrap_or_else(|| "control".to_string());
            let module = control.as_ref().map(Control::module).unwrap_or_default();
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
        let Some(runtime) = from_mapping::<Runtime>(runtime) else {
            return;
        };
        let hypothesis = (runtime.hypothesis.as_ref()).and_then(from_mapping::<RuntimeHypothesis>);
        if let Some(strategy) = hypothesis
            .as_ref()
            .and_then(|h| h.strategy.as_ref()?.typed())
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
        if runtime.rollbacks.is_some() {
            self.notes.push(
                "runtime.rollbacks ignored: Faultline reverts every fault itself and runs no \
                 rollback activities"
                    .into(),
            );
        }
    }
}

fn secret_source(entry: &Value) -> String {
    match entry.get("type").and_then(Value::as_str) {
        Some(kind) => match entry.get("key").and_then(Value::as_str) {
            Some(key) => format!("{kind} {key}"),
            None => kind.to_string(),
        },
        None => "inline value".into(),
    }
}
