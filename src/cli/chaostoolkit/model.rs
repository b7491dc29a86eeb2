//! The Chaos Toolkit experiment format (chaostoolkit.org/reference/api/experiment) as serde
//! types. Experiments in the wild hold values of the wrong type, and the importer reports each
//! with where and why instead of failing on the first: so a field of the wrong type is kept as
//! [`Lenient::Other`], a key present with `null` is told apart from a missing one, and keys the
//! format does not define are kept in `rest`. Free-form parts (arguments, tolerances, pauses
//! before substitution, secrets) stay JSON values.

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// A value of the type the format defines, or what the experiment has instead.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum Lenient<T> {
    Typed(T),
    Other(Value),
}

impl<T> Lenient<T> {
    pub(super) fn typed(&self) -> Option<&T> {
        match self {
            Lenient::Typed(value) => Some(value),
            Lenient::Other(_) => None,
        }
    }
}

/// A key that may be there with any value, `null` included (`Some(Value::Null)`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// The text of an optional string field, `""` when missing or not a string.
pub(super) fn text(field: &Option<Lenient<String>>) -> &str {
    field
        .as_ref()
        .and_then(Lenient::typed)
        .map_or("", String::as_str)
}

/// `T` read from a mapping; `None` for anything else (a struct would also read a list).
pub(super) fn from_mapping<T: for<'de> Deserialize<'de>>(value: &Value) -> Option<T> {
    value.as_object()?;
    T::deserialize(value).ok()
}

/// An experiment's top level.
#[derive(Debug, Deserialize)]
pub(super) struct Experiment {
    #[serde(default, deserialize_with = "present")]
    pub(super) title: Option<Lenient<String>>,
    #[serde(default, deserialize_with = "present")]
    pub(super) description: Option<Lenient<String>>,
    /// The format's version, which changes nothing in the conversion.
    #[serde(rename = "version", default)]
    _version: Option<IgnoredAny>,
    #[serde(default, deserialize_with = "present")]
    pub(super) tags: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub(super) contributions: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub(super) extensions: Option<Value>,
    /// Scopes of named secrets; none is imported, each is listed.
    #[serde(default, deserialize_with = "present")]
    pub(super) secrets: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub(super) configuration: Option<Lenient<BTreeMap<String, ConfigEntry>>>,
    #[serde(default, deserialize_with = "present")]
    pub(super) controls: Option<Lenient<Vec<Value>>>,
    #[serde(default, deserialize_with = "present")]
    pub(super) runtime: Option<Value>,
    #[serde(
        rename = "steady-state-hypothesis",
        default,
        deserialize_with = "present"
    )]
    pub(super) steady_state_hypothesis: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub(super) method: Option<Lenient<Vec<Value>>>,
    #[serde(default, deserialize_with = "present")]
    pub(super) rollbacks: Option<Lenient<Vec<Value>>>,
    /// Keys the format does not define.
    #[serde(flatten)]
    pub(super) rest: BTreeMap<String, Value>,
}

/// `steady-state-hypothesis` (its title is noted: the ChaosExperiment has none to hold it).
#[derive(Debug, Deserialize)]
pub(super) struct Hypothesis {
    #[serde(default, deserialize_with = "present")]
    pub(super) title: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub(super) controls: Option<Lenient<Vec<Value>>>,
    #[serde(default)]
    pub(super) probes: Option<Lenient<Vec<Value>>>,
    /// Keys the format does not define.
    #[serde(flatten)]
    pub(super) rest: BTreeMap<String, Value>,
}

/// One `configuration` entry: a dynamic one (`type` env or probe), else a plain value.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum ConfigEntry {
    Dynamic(Dynamic),
    Plain(Value),
}

#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub(super) enum Dynamic {
    /// Read from an environment variable.
    Env(EnvEntry),
    /// Computed by running a probe before the experiment.
    Probe,
}

#[derive(Clone, Debug, Deserialize)]
pub(super) struct EnvEntry {
    /// The variable's name.
    #[serde(default)]
    pub(super) key: Option<Lenient<String>>,
    #[serde(default, deserialize_with = "present")]
    pub(super) default: Option<Value>,
    /// bool, str, int, float, bytes or json.
    #[serde(default)]
    pub(super) env_var_type: Option<Lenient<String>>,
}

/// A control, at the experiment, hypothesis or activity level.
#[derive(Debug, Deserialize)]
pub(super) struct Control {
    #[serde(default)]
    pub(super) name: Option<Lenient<String>>,
    #[serde(default)]
    pub(super) provider: Option<Value>,
}

impl Control {
    /// The python module that implements it, `""` when it names none.
    pub(super) fn module(&self) -> String {
        let provider = self
            .provider
            .as_ref()
            .and_then(from_mapping::<ControlProvider>);
        provider.map_or(String::new(), |p| text(&p.module).to_string())
    }
}

#[derive(Debug, Deserialize)]
struct ControlProvider {
    #[serde(default)]
    module: Option<Lenient<String>>,
}

/// `runtime`: how Chaos Toolkit runs the hypothesis and the rollbacks.
#[derive(Debug, Deserialize)]
pub(super) struct Runtime {
    #[serde(default)]
    pub(super) hypothesis: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub(super) rollbacks: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RuntimeHypothesis {
    #[serde(default)]
    pub(super) strategy: Option<Lenient<String>>,
}

/// An activity's `type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Kind {
    Probe,
    Action,
}

/// An activity of any section; a `ref` activity is resolved before it is read as one.
#[derive(Debug, Deserialize)]
pub(super) struct Activity {
    #[serde(rename = "type", default)]
    pub(super) kind: Option<Lenient<Kind>>,
    #[serde(default)]
    pub(super) name: Option<Lenient<String>>,
    #[serde(default, deserialize_with = "present")]
    pub(super) provider: Option<Value>,
    /// Free-form: a value, a list, or a typed tolerance (range, regex, jsonpath, probe).
    #[serde(default, deserialize_with = "present")]
    pub(super) tolerance: Option<Value>,
    /// `before` and `after`, read once the configuration is substituted.
    #[serde(default, deserialize_with = "present")]
    pub(super) pauses: Option<Value>,
    #[serde(default)]
    pub(super) background: Option<Lenient<bool>>,
    #[serde(default, deserialize_with = "present")]
    pub(super) controls: Option<Lenient<Vec<Value>>>,
    /// Seconds; kept as written, for the message when it is not a positive number.
    #[serde(default, deserialize_with = "present")]
    pub(super) timeout: Option<Value>,
    /// Keys the format does not define (`ref` is resolved before an activity is read).
    #[serde(flatten)]
    pub(super) rest: BTreeMap<String, Value>,
}

/// A python provider: a function of a Chaos Toolkit driver.
#[derive(Debug, Deserialize)]
pub(super) struct PythonProvider {
    #[serde(default)]
    pub(super) module: Option<Lenient<String>>,
    #[serde(default)]
    pub(super) func: Option<Lenient<String>>,
    /// Free-form: the function's keyword arguments.
    #[serde(default)]
    pub(super) arguments: Option<Lenient<Map<String, Value>>>,
    #[serde(default, deserialize_with = "present")]
    pub(super) secrets: Option<Value>,
    /// Keys the format does not define, and `type`.
    #[serde(flatten)]
    pub(super) rest: BTreeMap<String, Value>,
}

/// An http provider, read after the configuration is substituted into it.
#[derive(Debug, Deserialize)]
pub(super) struct HttpProvider {
    #[serde(default)]
    pub(super) url: Option<Lenient<String>>,
    #[serde(default)]
    pub(super) method: Option<Lenient<String>>,
    #[serde(default)]
    pub(super) headers: Option<Lenient<Map<String, Value>>>,
    /// Free-form: a query (GET) or a body (other methods).
    #[serde(default)]
    pub(super) arguments: Option<Value>,
    /// Seconds or a `[connect, read]` pair; kept as written, for the message when it is not.
    #[serde(default, deserialize_with = "present")]
    pub(super) timeout: Option<Value>,
    #[serde(default)]
    pub(super) verify_tls: Option<Lenient<bool>>,
    #[serde(default)]
    pub(super) max_retries: Option<Lenient<u64>>,
    /// Not part of the format; noted when present.
    #[serde(default, deserialize_with = "present")]
    pub(super) expected_status: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub(super) secrets: Option<Value>,
    /// Keys the format does not define, and `type`.
    #[serde(flatten)]
    pub(super) rest: BTreeMap<String, Value>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_wrongly_typed_field_is_kept_and_null_is_not_missing() {
        let activity: Activity = from_mapping(&json!({
            "type": "Action", "name": 5, "timeout": null, "colour": "red",
            "background": true, "provider": {"type": "python"}
        }))
        .unwrap();
        assert!(
            matches!(activity.kind, Some(Lenient::Other(Value::String(ref t))) if t == "Action")
        );
        assert!(matches!(activity.name, Some(Lenient::Other(_))));
        assert_eq!(activity.timeout, Some(Value::Null), "present, null");
        assert_eq!(activity.tolerance, None, "missing");
        assert!(matches!(activity.background, Some(Lenient::Typed(true))));
        assert_eq!(activity.rest.keys().collect::<Vec<_>>(), ["colour"]);
    }

    #[test]
    fn configuration_entries_are_env_probe_or_plain() {
        let experiment: Experiment = from_mapping(&json!({"configuration": {
            "a": {"type": "env", "key": "A", "default": null},
            "b": {"type": "probe", "provider": {}},
            "c": {"type": "other"},
            "d": 3
        }, "zzz": 1}))
        .unwrap();
        let Some(Lenient::Typed(entries)) = &experiment.configuration else {
            panic!("a mapping");
        };
        let ConfigEntry::Dynamic(Dynamic::Env(env)) = &entries["a"] else {
            panic!("{:?}", entries["a"]);
        };
        assert_eq!(text(&env.key), "A");
        assert_eq!(env.default, Some(Value::Null));
        assert!(matches!(entries["b"], ConfigEntry::Dynamic(Dynamic::Probe)));
        assert!(matches!(&entries["c"], ConfigEntry::Plain(v) if v["type"] == "other"));
        assert!(matches!(&entries["d"], ConfigEntry::Plain(v) if *v == json!(3)));
        assert_eq!(experiment.rest.keys().collect::<Vec<_>>(), ["zzz"]);
    }

    #[test]
    fn only_mappings_are_read_as_structs() {
        // A derived struct would also read a list positionally.
        assert!(from_mapping::<Control>(&json!(["name", "provider"])).is_none());
        let control: Control = from_mapping(&json!({"name": "c", "provider": ["x"]})).unwrap();
        assert_eq!(control.module(), "");
    }
}
