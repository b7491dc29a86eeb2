//! `configuration`: plain values and env entries, and their substitution into activities.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::Value;

use super::converter::Converter;
use super::model::{ConfigEntry, Dynamic, EnvEntry, Lenient};
use super::values::{python_str, short_json};

impl Converter<'_> {
    /// Resolves `configuration`: plain values as they are, env entries from the options' env.
    pub(super) fn load_configuration(
        &mut self,
        configuration: Option<&Lenient<BTreeMap<String, ConfigEntry>>>,
    ) {
        let Some(configuration) = configuration else {
            return;
        };
        let Some(entries) = configuration.typed() else {
            self.refuse(
                "configuration",
                "configuration",
                "-",
                "configuration must be a mapping",
            );
            return;
        };
        for (key, entry) in entries {
            let location = format!("configuration.{key}");
            match entry {
                ConfigEntry::Dynamic(Dynamic::Env(entry)) => {
                    if let Some(resolved) = self.env_entry(&location, key, entry) {
                        self.config.insert(key.clone(), resolved);
                    }
                }
                ConfigEntry::Dynamic(Dynamic::Probe) => self.refuse(
                    location,
                    key.clone(),
                    "dynamic configuration (probe)",
                    "a configuration value computed by running a probe before the experiment \
                     cannot be computed at import; set the value, or an env entry, instead",
                ),
                ConfigEntry::Plain(value) => {
                    self.config.insert(key.clone(), value.clone());
                }
            }
        }
    }

    /// An env entry's value: the variable, else its default, else refused (as Chaos Toolkit does).
    fn env_entry(&mut self, location: &str, key: &str, entry: &EnvEntry) -> Option<Value> {
        let Some(variable) = entry.key.as_ref().and_then(Lenient::typed) else {
            self.refuse(
                location,
                key,
                "env",
                "an env entry needs \"key\": the environment variable to read",
            );
            return None;
        };
        let provider = format!("env {variable}");
        let raw = match (self.options.env.get(variable), &entry.default) {
            (Some(value), _) => Value::String(value.clone()),
            (None, Some(default)) => {
                self.notes.push(format!(
                    "configuration {key}: the environment variable {variable} is not set; used \
                     its default {}",
                    short_json(default)
                ));
                default.clone()
            }
            (None, None) => {
                self.failed_keys.insert(key.to_string());
                self.refuse(
                    location,
                    key,
                    provider,
                    format!(
                        "the environment variable {variable} is not set and the entry has no \
                         default (Chaos Toolkit refuses to run then too); set {variable} when \
                         importing"
                    ),
                );
                return None;
            }
        };
        let kind = (entry.env_var_type.as_ref())
            .and_then(Lenient::typed)
            .map(String::as_str);
        match convert_env(kind, raw) {
            Ok(value) => Some(value),
            Err(reason) => {
                self.failed_keys.insert(key.to_string());
                self.refuse(location, key, provider, reason);
                None
            }
        }
    }

    /// [`Self::substitute`], and whether `value` names a configuration key that was refused:
    /// what is wrong with the result may come from that key, whose refusal is listed already.
    pub(super) fn substitute_traced(&mut self, value: &Value, location: &str) -> (Value, bool) {
        self.uses_failed_key = false;
        let value = self.substitute(value, location);
        (value, std::mem::take(&mut self.uses_failed_key))
    }

    /// Chaos Toolkit's substitution: `${name}` and `$name` from the configuration, `$$` for `$`;
    /// a string that is only one reference takes the value's own type.
    fn substitute(&mut self, value: &Value, location: &str) -> Value {
        match value {
            Value::String(s) => self.substitute_str(s, location),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| self.substitute(item, location))
                    .collect(),
            ),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.substitute(v, location)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn substitute_str(&mut self, text: &str, location: &str) -> Value {
        let pattern = template_pattern();
        if let Some(captures) = pattern.captures(text)
            && captures
                .get(0)
                .is_some_and(|m| m.as_str().len() == text.len())
            && let Some(key) = captures.get(2).or(captures.get(3))
            && let Some(value) = self.config.get(key.as_str())
        {
            return value.clone();
        }
        let mut out = String::new();
        let mut last = 0;
        for captures in pattern.captures_iter(text) {
            let whole = captures.get(0).expect("a match has group 0");
            out.push_str(&text[last..whole.start()]);
            last = whole.end();
            if captures.get(1).is_some() {
                out.push('$');
                continue;
            }
            let key = captures
                .get(2)
                .or(captures.get(3))
                .expect("the pattern captures a key")
                .as_str();
            match self.config.get(key) {
                Some(value) => out.push_str(&python_str(value)),
                None if self.failed_keys.contains(key) => {
                    self.uses_failed_key = true;
                    out.push_str(whole.as_str());
                }
                None => {
                    self.notes.push(format!(
                        "{location}: {} is not a configuration key; kept verbatim, as Chaos \
                         Toolkit does",
                        whole.as_str()
                    ));
                    out.push_str(whole.as_str());
                }
            }
        }
        out.push_str(&text[last..]);
        Value::String(out)
    }
}

/// Python `string.Template`'s pattern: `$$`, `$name` or `${name}`.
fn template_pattern() -> &'static Regex {
    static PATTERN: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    PATTERN.get_or_init(|| {
        Regex::new(r"(?i)\$(?:(\$)|([_a-z][_a-z0-9]*)|\{([_a-z][_a-z0-9]*)\})")
            .expect("the template pattern is valid")
    })
}

/// An env entry's value coerced as `env_var_type` says.
fn convert_env(kind: Option<&str>, raw: Value) -> Result<Value, String> {
    let text = match &raw {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match kind {
        None | Some("str" | "string" | "bytes") => Ok(match raw {
            Value::String(_) => raw,
            other => Value::String(other.to_string()),
        }),
        Some("int" | "integer") => text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("{text:?} is not an integer (env_var_type int)")),
        Some("float" | "number") => text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("{text:?} is not a number (env_var_type {kind:?})")),
        Some("bool") => Ok(match raw {
            Value::Bool(b) => Value::Bool(b),
            _ => Value::Bool(!matches!(
                text.to_lowercase().as_str(),
                "false" | "0" | "no"
            )),
        }),
        Some("json") => match raw {
            Value::String(s) if !s.is_empty() => serde_json::from_str(&s)
                .map_err(|e| format!("{s:?} is not JSON (env_var_type json): {e}")),
            other => Ok(other),
        },
        Some(other) => Err(format!(
            "env_var_type {other:?} is not one of bool, str, int, float, bytes or json"
        )),
    }
}
