//! Python providers: the chaosk8s functions that have an equivalent, and their arguments.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use regex::Regex;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::CTK_DEFAULT_NS;
use super::converter::{Converted, Converter, ProbeDraft};
use super::mapping::{self, Becomes};
use super::model::{Kind, Lenient, PythonProvider, text};
use super::names::is_dns_label;
use super::selector::parse_label_selector;
use super::values::{kind_of, short_json};

impl Converter<'_> {
    /// A python provider, through the mapping table's row for its module and function.
    pub(super) fn python(
        &mut self,
        kind: Kind,
        provider: &Value,
        tolerance: Option<&Value>,
        timeout: Option<f64>,
        location: &str,
        name: &str,
    ) -> Option<Converted> {
        let provider = match PythonProvider::deserialize(provider) {
            Ok(provider) => provider,
            Err(e) => {
                let reason = format!("the provider cannot be read: {e}");
                self.refuse(location, name, "python", reason);
                return None;
            }
        };
        let (module, func) = (text(&provider.module), text(&provider.func));
        self.note_unknown_provider_keys(&provider.rest, "python", location, name);
        let label = format!("python {module}.{func}");
        if provider.secrets.is_some() {
            self.notes.push(format!(
                "{location} {name:?}: provider.secrets ignored: the chaosk8s calls use the \
                 operator's and fault pods' ServiceAccounts"
            ));
        }
        let arguments = self.python_arguments(provider.arguments.as_ref(), location);
        let ((values, names_failed_key), row) =
            match (arguments, mapping::python(kind, module, func)) {
                (Ok(arguments), Ok(row)) => (arguments, row),
                (Err(reason), _) | (_, Err(reason)) => {
                    self.refuse(location, name, label, reason);
                    return None;
                }
            };
        let mut args = Args {
            values,
            location: location.to_string(),
            name: name.to_string(),
            problems: Vec::new(),
        };
        let converted = self.convert(row.becomes, &mut args, func, tolerance, timeout);
        for unknown in args.values.keys() {
            args.problems.push(format!(
                "unknown argument {unknown:?} (Chaos Toolkit would refuse it too)"
            ));
        }
        if !args.problems.is_empty() {
            if names_failed_key {
                // The refused configuration key they name is the cause, listed already.
                return None;
            }
            let reason = args.problems.join("; ");
            self.refuse(location, name, label, reason);
            return None;
        }
        converted
    }

    /// The conversion of the row's function, from its arguments.
    fn convert(
        &mut self,
        becomes: Becomes,
        args: &mut Args,
        func: &str,
        tolerance: Option<&Value>,
        timeout: Option<f64>,
    ) -> Option<Converted> {
        match becomes {
            Becomes::TerminatePods => self.terminate_pods(args),
            Becomes::DeletePods => self.delete_pods(args),
            Becomes::DeploymentAvailable => self
                .deployment_probe(args, func, tolerance, timeout)
                .map(|spec| {
                    let name = args.name.clone();
                    Converted::Probe(Box::new(ProbeDraft { name, spec }))
                }),
            Becomes::ScaleDeployment => self.scale_deployment(args),
            Becomes::CordonNode => self.cordon_node(args),
            Becomes::DrainNodes => self.drain_nodes(args),
            Becomes::AddLatency => self.add_latency(args),
            Becomes::SetLoss => self.set_loss(args),
            Becomes::StressCpu => self.stress_cpu(args),
            Becomes::StressMemory => self.stress_memory(args),
            Becomes::Revert => {
                // What it would undo is Faultline's to revert, so its arguments do not matter.
                args.values.clear();
                Some(Converted::Revert(func.to_string()))
            }
        }
    }

    /// The arguments with the configuration substituted, and whether they name a refused
    /// configuration key; `Err` says why they cannot be read.
    fn python_arguments(
        &mut self,
        arguments: Option<&Lenient<Map<String, Value>>>,
        location: &str,
    ) -> Result<(Map<String, Value>, bool), String> {
        match arguments {
            None => Ok((Map::new(), false)),
            Some(Lenient::Typed(args)) => {
                match self.substitute_traced(&Value::Object(args.clone()), location) {
                    (Value::Object(args), failed) => Ok((args, failed)),
                    (_, failed) => Ok((Map::new(), failed)),
                }
            }
            Some(Lenient::Other(other)) => Err(format!(
                "arguments must be a mapping, not {}",
                kind_of(other)
            )),
        }
    }

    /// Keys a provider of `provider_type` does not define: Chaos Toolkit ignores them, and so
    /// does the import, saying so.
    pub(super) fn note_unknown_provider_keys(
        &mut self,
        rest: &BTreeMap<String, Value>,
        provider_type: &str,
        location: &str,
        name: &str,
    ) {
        for key in rest.keys().filter(|key| *key != "type") {
            self.notes.push(format!(
                "{location} {name:?}: provider.{key} ignored: it is not part of a Chaos Toolkit \
                 {provider_type} provider, which ignores it too"
            ));
        }
    }

    /// The activity's `ns` (Chaos Toolkit's default is "default"), remembering the first one.
    pub(super) fn ns_argument(&mut self, args: &mut Args) -> String {
        let explicit = args.string("ns");
        self.namespace_argument(args, "ns", explicit)
    }

    /// The namespace the argument `key` gives, or "default" (Chaos Toolkit's) when it gives
    /// none; the first one given becomes the experiment's, a missing one is remembered for the
    /// note.
    pub(super) fn namespace_argument(
        &mut self,
        args: &mut Args,
        key: &str,
        explicit: Option<String>,
    ) -> String {
        let ns = explicit
            .clone()
            .unwrap_or_else(|| CTK_DEFAULT_NS.to_string());
        if !is_dns_label(&ns, 63) {
            args.problems
                .push(format!("{key} {ns:?} is not a valid namespace name"));
        }
        match explicit {
            Some(_) if self.first_ns.is_none() => self.first_ns = Some(ns.clone()),
            Some(_) => {}
            None => self
                .implicit_ns
                .push(format!("{} {:?}", args.location, args.name)),
        }
        ns
    }
}

/// A python provider's arguments, taken one by one; what is left over is unknown.
pub(super) struct Args {
    pub(super) values: Map<String, Value>,
    pub(super) location: String,
    pub(super) name: String,
    pub(super) problems: Vec<String>,
}

impl Args {
    pub(super) fn take(&mut self, key: &str) -> Option<Value> {
        self.values.remove(key).filter(|v| !v.is_null())
    }

    pub(super) fn string(&mut self, key: &str) -> Option<String> {
        match self.take(key)? {
            Value::String(s) => Some(s),
            other => {
                self.problems.push(format!(
                    "{key} must be a string, not {}",
                    short_json(&other)
                ));
                None
            }
        }
    }

    pub(super) fn boolean(&mut self, key: &str) -> Option<bool> {
        match self.take(key)? {
            Value::Bool(b) => Some(b),
            other => {
                self.problems.push(format!(
                    "{key} must be true or false, not {} (Python would treat a non-empty string \
                     as true; use a boolean, or env_var_type bool in the configuration)",
                    short_json(&other)
                ));
                None
            }
        }
    }

    pub(super) fn integer(&mut self, key: &str) -> Option<i64> {
        let value = self.take(key)?;
        let parsed = match &value {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        if parsed.is_none() {
            self.problems.push(format!(
                "{key} must be a whole number, not {}",
                short_json(&value)
            ));
        }
        parsed
    }

    pub(super) fn selector(&mut self, key: &str) -> Option<LabelSelector> {
        let text = self.string(key)?;
        if text.trim().is_empty() {
            return None;
        }
        match parse_label_selector(&text) {
            Ok(selector) => Some(selector),
            Err(why) => {
                self.problems
                    .push(format!("{key} {text:?} cannot be parsed: {why}"));
                None
            }
        }
    }
}

pub(super) fn check_pattern(args: &mut Args, pattern: &str) {
    if let Err(e) = Regex::new(pattern) {
        args.problems.push(format!(
            "name pattern {pattern:?} is not valid in Faultline's (RE2) syntax: {e}"
        ));
    }
}
