//! http providers as http probes: URL, method, headers, arguments, timeouts and tolerances.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::{Map, Value};

use super::converter::Converter;
use super::deployment::run_properties;
use super::model::{HttpProvider, Lenient, from_mapping, text};
use super::values::{kind_of, python_str, short_json};
use crate::api::{ChaosProbeSpec, HttpProbe, ProbeType};

impl Converter<'_> {
    /// An http probe: the provider is read once the configuration is substituted into it.
    pub(super) fn http_probe(
        &mut self,
        provider: &Value,
        tolerance: Option<&Value>,
        activity_timeout: Option<f64>,
        location: &str,
        name: &str,
    ) -> Option<ChaosProbeSpec> {
        let (provider, provider_failed) = self.substitute_traced(provider, location);
        let provider = from_mapping::<HttpProvider>(&provider)?;
        let url = text(&provider.url).to_string();
        let method = (provider.method.as_ref().and_then(Lenient::typed))
            .map_or("GET", String::as_str)
            .to_uppercase();
        let label = format!("http {method} {url}");
        let mut problems = Vec::new();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            problems.push(format!("url {url:?} must start with http:// or https://"));
        }
        let mut request = Request {
            url,
            headers: headers(provider.headers.as_ref(), &mut problems),
            body: None,
        };
        if let Some(arguments) = &provider.arguments {
            request.add_arguments(&method, arguments, &mut problems);
        }
        let timeout = timeout(provider.timeout.as_ref(), activity_timeout, &mut problems);
        let insecure = matches!(provider.verify_tls, Some(Lenient::Typed(false)));
        let retries = (provider.max_retries.as_ref().and_then(Lenient::typed))
            .map_or(0, |r| (*r).min(100) as u32);
        self.note_ignored_http_keys(&provider, location, name);
        let (tolerance, tolerance_failed) = match tolerance {
            Some(tolerance) => {
                let (tolerance, failed) = self.substitute_traced(tolerance, location);
                (Some(tolerance), failed)
            }
            None => (None, false),
        };
        let (expected_status, body_matches) = self
            .http_expected(tolerance.as_ref(), location, name)
            .unwrap_or_else(|why| {
                problems.push(why);
                (Vec::new(), None)
            });
        if !problems.is_empty() && (provider_failed || tolerance_failed) {
            // The refused configuration key they name is the cause, listed already.
            return None;
        }
        if !problems.is_empty() {
            self.refuse(location, name, label, problems.join("; "));
            return None;
        }
        let mut run_properties = run_properties(timeout);
        run_properties.retries = retries;
        Some(ChaosProbeSpec {
            probe_type: ProbeType::Http,
            http: Some(HttpProbe {
                url: request.url,
                method,
                headers: request.headers,
                body: request.body,
                expected_status,
                body_matches,
                max_latency: None,
                insecure_skip_verify: insecure,
            }),
            k8s: None,
            cmd: None,
            prometheus: None,
            run_properties,
        })
    }

    fn note_ignored_http_keys(&mut self, provider: &HttpProvider, location: &str, name: &str) {
        self.note_unknown_provider_keys(&provider.rest, "http", location, name);
        if provider.expected_status.is_some() {
            self.notes.push(format!(
                "{location} {name:?}: provider.expected_status ignored: Chaos Toolkit's http \
                 provider has no such key and judges the status by the tolerance"
            ));
        }
        if provider.secrets.is_some() {
            self.notes.push(format!(
                "{location} {name:?}: provider.secrets ignored: Faultline's http probes send only \
                 the headers written in the probe"
            ));
        }
    }

    /// The statuses (and body pattern) a substituted tolerance accepts; none accepts below 400.
    fn http_expected(
        &mut self,
        tolerance: Option<&Value>,
        location: &str,
        name: &str,
    ) -> Result<(Vec<String>, Option<String>), String> {
        match tolerance {
            Some(tolerance) => self.http_tolerance(tolerance, location, name),
            None => {
                self.notes.push(format!(
                    "{location} {name:?} has no tolerance: it passes on a status below 400, the \
                     statuses Chaos Toolkit does not warn about"
                ));
                Ok((vec!["200-399".to_string()], None))
            }
        }
    }

    /// An http tolerance as expectedStatus (and bodyMatches for a regex on the body).
    fn http_tolerance(
        &mut self,
        tolerance: &Value,
        location: &str,
        name: &str,
    ) -> Result<(Vec<String>, Option<String>), String> {
        match tolerance {
            Value::Number(_) => Ok((vec![status_code(tolerance)?], None)),
            Value::Array(codes) if !codes.is_empty() => {
                let codes: Vec<String> = codes.iter().map(status_code).collect::<Result<_, _>>()?;
                if let [low, high] = codes.as_slice()
                    && high.parse::<u32>().unwrap_or(0) > low.parse::<u32>().unwrap_or(0) + 1
                {
                    self.notes.push(format!(
                        "{location} {name:?}: tolerance [{low}, {high}] accepts exactly those two \
                         statuses, as Chaos Toolkit compares an http status with a list by \
                         membership; use a range tolerance for {low}-{high}"
                    ));
                }
                Ok((codes, None))
            }
            Value::Object(object) => {
                let kind = object.get("type").and_then(Value::as_str).unwrap_or("");
                let target = object.get("target").and_then(Value::as_str);
                match (kind, target) {
                    ("range", Some("status")) => {
                        let bounds = object.get("range").and_then(Value::as_array);
                        let (Some(low), Some(high)) = (
                            bounds.and_then(|b| b.first()).and_then(Value::as_f64),
                            bounds.and_then(|b| b.get(1)).and_then(Value::as_f64),
                        ) else {
                            return Err("a range tolerance needs range: [low, high]".into());
                        };
                        let low = (low.ceil() as i64).max(100);
                        let high = (high.floor() as i64).min(599);
                        if low > high {
                            return Err(format!(
                                "range tolerance [{low}, {high}] accepts no HTTP status"
                            ));
                        }
                        let range = if low == high {
                            low.to_string()
                        } else {
                            format!("{low}-{high}")
                        };
                        Ok((vec![range], None))
                    }
                    ("regex", Some("body")) => {
                        let pattern = object
                            .get("pattern")
                            .and_then(Value::as_str)
                            .ok_or("a regex tolerance needs a pattern")?;
                        Regex::new(pattern).map_err(|e| {
                            format!(
                                "regex {pattern:?} is not valid in Faultline's (RE2) syntax: {e}"
                            )
                        })?;
                        // Chaos Toolkit's regex tolerance looks at the body only.
                        Ok((vec!["100-599".to_string()], Some(pattern.to_string())))
                    }
                    ("range" | "regex", _) => Err(format!(
                        "a {kind} tolerance on an http probe needs target {}",
                        if kind == "range" { "status" } else { "body" }
                    )),
                    _ => Err(format!(
                        "tolerance type {kind:?} is not supported for http probes (supported: a \
                         status code, a list of codes, a range on status, a regex on body)"
                    )),
                }
            }
            other => Err(format!(
                "tolerance {} is not supported for http probes (supported: a status code, a list \
                 of codes, a range on status, a regex on body)",
                short_json(other)
            )),
        }
    }
}

fn status_code(value: &Value) -> Result<String, String> {
    match value.as_u64() {
        Some(code @ 100..=599) => Ok(code.to_string()),
        _ => Err(format!(
            "tolerance {} is not an HTTP status code (100 to 599)",
            short_json(value)
        )),
    }
}

/// `application/x-www-form-urlencoded`, as Python requests encodes a mapping.
fn form_encode(arguments: &Value) -> Result<String, String> {
    let Value::Object(map) = arguments else {
        return Err(format!(
            "arguments must be a mapping for a GET request, not {}",
            kind_of(arguments)
        ));
    };
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (key, value) in map {
        let values: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            Value::Null => continue,
            other => vec![other],
        };
        for value in values {
            if value.is_object() || value.is_array() {
                return Err(format!(
                    "argument {key:?} is nested; only flat values can be form-encoded"
                ));
            }
            form.append_pair(key, &python_str(value));
        }
    }
    Ok(form.finish())
}

/// The parts of a request that the provider's arguments change.
struct Request {
    url: String,
    headers: BTreeMap<String, String>,
    body: Option<String>,
}

impl Request {
    /// Arguments as Python requests sends them: a query for GET, else a JSON, raw or form body.
    fn add_arguments(&mut self, method: &str, arguments: &Value, problems: &mut Vec<String>) {
        if method == "GET" {
            match form_encode(arguments) {
                Ok(query) if !query.is_empty() => {
                    self.url
                        .push(if self.url.contains('?') { '&' } else { '?' });
                    self.url.push_str(&query);
                }
                Ok(_) => {}
                Err(why) => problems.push(why),
            }
        } else if self.headers.get("Content-Type").map(String::as_str) == Some("application/json") {
            self.body = Some(arguments.to_string());
        } else if let Value::String(raw) = arguments {
            self.body = Some(raw.clone());
        } else {
            match form_encode(arguments) {
                Ok(form) => {
                    self.headers
                        .entry("Content-Type".into())
                        .or_insert_with(|| "application/x-www-form-urlencoded".to_string());
                    self.body = Some(form);
                }
                Err(why) => problems.push(why),
            }
        }
    }
}

/// Header values as Python's `str()` prints them.
fn headers(
    headers: Option<&Lenient<Map<String, Value>>>,
    problems: &mut Vec<String>,
) -> BTreeMap<String, String> {
    match headers {
        None => BTreeMap::new(),
        Some(Lenient::Typed(map)) => map
            .iter()
            .map(|(key, value)| (key.clone(), python_str(value)))
            .collect(),
        Some(Lenient::Other(other)) => {
            problems.push(format!("headers must be a mapping, not {}", kind_of(other)));
            BTreeMap::new()
        }
    }
}

/// The shorter of the activity's timeout and the provider's (seconds, or connect + read).
fn timeout(
    provider: Option<&Value>,
    activity: Option<f64>,
    problems: &mut Vec<String>,
) -> Option<f64> {
    let Some(value) = provider else {
        return activity;
    };
    let secs = match value {
        Value::Array(parts) => parts.iter().map(Value::as_f64).sum::<Option<f64>>(),
        other => other.as_f64(),
    };
    match secs {
        Some(secs) if secs > 0.0 => Some(activity.map_or(secs, |t| t.min(secs))),
        _ => {
            problems.push(format!(
                "timeout must be a positive number of seconds or a [connect, read] pair, not {}",
                short_json(value)
            ));
            activity
        }
    }
}
