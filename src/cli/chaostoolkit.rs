//! `faultline import chaostoolkit`: converts a Chaos Toolkit experiment (JSON or YAML) into a
//! ChaosExperiment and the ChaosProbes it references. Whatever has no faithful equivalent is
//! refused, all of it listed at once; nothing is dropped without a note. The mapping is
//! documented in docs/chaostoolkit.md.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
use regex::Regex;
use serde_json::{Map, Value};

use crate::api::{
    ChaosExperiment, ChaosExperimentSpec, ChaosProbe, ChaosProbeSpec, ConcurrencyPolicy, Duration,
    Fault, FaultParameters, FaultType, HttpProbe, K8sCheck, K8sProbe, K8sState,
    PodDeleteParameters, ProbeEntry, ProbeMode, ProbeType, RunProperties, SteadyState, Target,
    TargetKind, TargetMode,
};

/// What the caller knows that the experiment file does not.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// The namespace of the generated objects; default: the first `ns` argument of the
    /// experiment's chaosk8s activities, else "default".
    pub namespace: Option<String>,
    /// The experiment's name; default: a DNS-1123 slug of the experiment's title.
    pub name: Option<String>,
    /// The environment that `configuration` entries of type env are resolved from.
    pub env: BTreeMap<String, String>,
}

/// The converted objects, and remarks the caller prints to stderr.
#[derive(Clone, Debug)]
pub struct Imported {
    pub experiment: ChaosExperiment,
    /// ChaosProbes for the probes the experiment uses more than once, referenced by probeRef.
    pub probes: Vec<ChaosProbe>,
    /// Non-fatal remarks: how pauses were mapped, defaults used, fields ignored.
    pub notes: Vec<String>,
    /// The Chaos Toolkit experiment's title and description, for the YAML's leading comment.
    pub title: String,
    pub description: Option<String>,
}

/// Something in the experiment that has no Faultline equivalent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported {
    /// Where it is, e.g. `method[2]`, `steady-state-hypothesis.probes[0]`, `secrets.aws.key`.
    pub location: String,
    /// The activity's (or entry's) name.
    pub name: String,
    /// What runs it, e.g. `python chaosaws.ec2.actions.stop_instances`, `process ./kill.sh`.
    pub provider: String,
    /// Why it cannot be converted, and what would do instead where there is something.
    pub reason: String,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {:?} [{}]: {}",
            self.location, self.name, self.provider, self.reason
        )
    }
}

/// The list of [`Unsupported`] items, one per line.
#[derive(Debug)]
pub struct UnsupportedList(pub Vec<Unsupported>);

impl fmt::Display for UnsupportedList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for item in &self.0 {
            write!(f, "\n  - {item}")?;
        }
        Ok(())
    }
}

/// Why the file could not be parsed.
#[derive(Debug, thiserror::Error)]
pub enum SyntaxError {
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Yaml(#[from] serde_yaml_ng::Error),
}

/// Why an experiment could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file is neither JSON nor YAML; `line` and `column` are 1-based (0 when unknown).
    #[error("the experiment is not valid {format}: {source}")]
    Parse {
        format: &'static str,
        line: usize,
        column: usize,
        #[source]
        source: SyntaxError,
    },
    /// The document parses but is not a Chaos Toolkit experiment.
    #[error("not a Chaos Toolkit experiment: {reason}")]
    NotAnExperiment { reason: String },
    /// A name or namespace given as an option is not a valid Kubernetes name.
    #[error("{option} {value:?} is not valid: {reason}")]
    InvalidOption {
        option: &'static str,
        value: String,
        reason: String,
    },
    /// Every part of the experiment that cannot be converted; nothing was generated.
    #[error(
        "cannot import the experiment: {} part(s) have no Faultline equivalent, so nothing was generated:{}",
        .0.len(),
        UnsupportedList(.0.clone())
    )]
    Unsupported(Vec<Unsupported>),
}

/// Longest experiment name: its results are `<name>-<run>`, and both carry the name as a label.
const MAX_EXPERIMENT_NAME: usize = 52;
/// Longest fault name (the CRD's limit).
const MAX_FAULT_NAME: usize = 32;
/// Longest inline probe name (the CRD's limit) and ChaosProbe name we generate.
const MAX_PROBE_NAME: usize = 63;
/// Chaos Toolkit's namespace when an activity has no `ns` argument.
const CTK_DEFAULT_NS: &str = "default";

/// Converts the Chaos Toolkit experiment in `source` (JSON or YAML, told apart by content).
pub fn import(source: &str, options: &ImportOptions) -> Result<Imported, ImportError> {
    let document = parse(source)?;
    let experiment = document
        .as_object()
        .ok_or_else(|| ImportError::NotAnExperiment {
            reason: format!(
                "the document is {}, not a mapping with a title and a method",
                kind_of(&document)
            ),
        })?;
    let mut missing = Vec::new();
    let title = experiment.get("title").and_then(Value::as_str);
    if title.is_none_or(|t| t.trim().is_empty()) {
        missing.push("no \"title\"");
    }
    let method = experiment.get("method").and_then(Value::as_array);
    if method.is_none_or(|m| m.is_empty()) {
        missing.push("no \"method\" with at least one activity");
    }
    if !missing.is_empty() {
        return Err(ImportError::NotAnExperiment {
            reason: format!("it has {}", missing.join(" and ")),
        });
    }
    let title = title.unwrap_or_default().trim().to_string();
    if let Some(name) = &options.name {
        check_dns_label("--name", name, MAX_EXPERIMENT_NAME)?;
    }
    if let Some(namespace) = &options.namespace {
        check_dns_label("--namespace", namespace, 63)?;
    }

    let mut converter = Converter::new(options);
    converter.top_level(experiment);
    converter.load_configuration(experiment.get("configuration"));
    converter.index_activities(experiment);

    let hypothesis = experiment.get("steady-state-hypothesis");
    let steady = converter.steady_state(hypothesis);
    let plan = converter.method(method.map(Vec::as_slice).unwrap_or_default());
    converter.rollbacks(experiment.get("rollbacks"));

    if !converter.unsupported.is_empty() {
        return Err(ImportError::Unsupported(converter.unsupported));
    }
    let namespace = options
        .namespace
        .clone()
        .or_else(|| converter.first_ns.clone())
        .unwrap_or_else(|| CTK_DEFAULT_NS.to_string());
    let name = options.name.clone().unwrap_or_else(|| {
        let slug = slug(&title, MAX_EXPERIMENT_NAME);
        if slug.is_empty() {
            "chaostoolkit-experiment".to_string()
        } else {
            slug
        }
    });
    let description = experiment
        .get("description")
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(converter.assemble(AssemblyInput {
        title,
        description,
        name,
        namespace,
        steady,
        plan,
    }))
}

impl Imported {
    /// Multi-document YAML: a leading comment, the ChaosProbes, then the ChaosExperiment.
    pub fn to_yaml(&self) -> String {
        let mut out = format!(
            "# Imported by `faultline import chaostoolkit` from the Chaos Toolkit experiment {:?}.\n",
            self.title
        );
        if let Some(description) = &self.description {
            out.push_str(&format!("# {description}\n"));
        }
        for note in &self.notes {
            out.push_str(&format!("# note: {}\n", note.replace('\n', " ")));
        }
        for probe in &self.probes {
            out.push_str("---\n");
            out.push_str(&to_yaml_document(probe));
        }
        out.push_str("---\n");
        out.push_str(&to_yaml_document(&self.experiment));
        out
    }
}

fn to_yaml_document<T: serde::Serialize>(object: &T) -> String {
    // Our CRD types hold only strings, numbers, booleans, lists and string-keyed maps, which
    // YAML always represents.
    serde_yaml_ng::to_string(object).expect("CRD objects always serialise to YAML")
}

/// JSON when the first non-blank character opens an object, YAML otherwise.
fn parse(source: &str) -> Result<Value, ImportError> {
    let trimmed = source.trim_start_matches('\u{feff}');
    if trimmed.trim_start().starts_with('{') {
        serde_json::from_str(trimmed).map_err(|e| ImportError::Parse {
            format: "JSON",
            line: e.line(),
            column: e.column(),
            source: e.into(),
        })
    } else {
        serde_yaml_ng::from_str(trimmed).map_err(|e| {
            let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
            ImportError::Parse {
                format: "YAML",
                line,
                column,
                source: e.into(),
            }
        })
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "empty",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn check_dns_label(option: &'static str, value: &str, max: usize) -> Result<(), ImportError> {
    if is_dns_label(value, max) {
        Ok(())
    } else {
        Err(ImportError::InvalidOption {
            option,
            value: value.to_string(),
            reason: format!(
                "use lowercase letters, digits and '-', starting and ending with a letter or \
                 digit, at most {max} characters"
            ),
        })
    }
}

fn is_dns_label(value: &str, max: usize) -> bool {
    let bytes = value.as_bytes();
    !value.is_empty()
        && value.len() <= max
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

/// A DNS-1123 label made of `text`: lowercase alphanumerics and single dashes, at most `max`.
fn slug(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.truncate(max);
    out.trim_end_matches('-').to_string()
}

/// A probe converted from a Chaos Toolkit probe.
#[derive(Clone, Debug, PartialEq)]
struct ProbeDraft {
    /// The Chaos Toolkit name.
    name: String,
    spec: ChaosProbeSpec,
}

/// A fault converted from a Chaos Toolkit action.
#[derive(Clone, Debug)]
struct FaultDraft {
    name: String,
    target: Target,
    parameters: FaultParameters,
    /// The method probes before it (only for the first fault: SOT).
    before: Vec<ProbeDraft>,
    /// The method probes after it, up to the next action (EOT).
    after: Vec<ProbeDraft>,
    /// Seconds from this action to the next one (or to the end of the method).
    window: f64,
    /// Where the window's seconds came from, for the note.
    window_parts: Vec<String>,
}

struct AssemblyInput {
    title: String,
    description: Option<String>,
    name: String,
    namespace: String,
    steady: Vec<ProbeDraft>,
    plan: Vec<FaultDraft>,
}

/// What an activity converts to.
enum Converted {
    Probe(Box<ProbeDraft>),
    Action(Box<(Target, FaultParameters)>),
}

/// The activity kinds, as `type` says.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Probe,
    Action,
}

/// Where an activity sits, which decides what a tolerance means.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    SteadyState,
    Method,
    Rollback,
}

/// The activity keys Chaos Toolkit defines.
const ACTIVITY_KEYS: &[&str] = &[
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

/// Controls that only report what happens (to a tracer) and change nothing in the run.
const OBSERVING_CONTROLS: &[&str] = &["chaostracing.control", "chaosotel.control"];

struct Converter<'a> {
    options: &'a ImportOptions,
    /// The resolved `configuration`.
    config: BTreeMap<String, Value>,
    /// Activities by name, for `ref` (Chaos Toolkit looks them up in all three sections).
    library: BTreeMap<String, Value>,
    notes: Vec<String>,
    unsupported: Vec<Unsupported>,
    /// The first explicit `ns` argument, the experiment's namespace unless one is given.
    first_ns: Option<String>,
    /// Activities without `ns`, which Chaos Toolkit runs in namespace "default".
    implicit_ns: Vec<String>,
    /// Whether the note on how method probes are scored was given.
    scored_note: bool,
    /// Configuration keys that were refused; what refers to them is not refused again.
    failed_keys: BTreeSet<String>,
    /// Whether the activity being converted refers to a refused configuration key.
    uses_failed_key: bool,
}

impl<'a> Converter<'a> {
    fn new(options: &'a ImportOptions) -> Self {
        Converter {
            options,
            config: BTreeMap::new(),
            library: BTreeMap::new(),
            notes: Vec::new(),
            unsupported: Vec::new(),
            first_ns: None,
            implicit_ns: Vec::new(),
            scored_note: false,
            failed_keys: BTreeSet::new(),
            uses_failed_key: false,
        }
    }

    fn refuse(
        &mut self,
        location: impl Into<String>,
        name: impl Into<String>,
        provider: impl Into<String>,
        reason: impl Into<String>,
    ) {
        self.unsupported.push(Unsupported {
            location: location.into(),
            name: name.into(),
            provider: provider.into(),
            reason: reason.into(),
        });
    }

    /// The experiment-level keys other than the activities and the configuration.
    fn top_level(&mut self, experiment: &Map<String, Value>) {
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

    fn secrets(&mut self, secrets: &Value) {
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

    fn controls(&mut self, location: &str, controls: &Value) {
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

    fn runtime(&mut self, runtime: &Value) {
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

    /// Resolves `configuration`: plain values as they are, env entries from the options' env.
    fn load_configuration(&mut self, configuration: Option<&Value>) {
        let Some(configuration) = configuration else {
            return;
        };
        let Some(entries) = configuration.as_object() else {
            self.refuse(
                "configuration",
                "configuration",
                "-",
                "configuration must be a mapping",
            );
            return;
        };
        for (key, value) in entries {
            let location = format!("configuration.{key}");
            let typed = value.as_object().and_then(|o| o.get("type"));
            match typed.and_then(Value::as_str) {
                Some("env") => {
                    if let Some(resolved) = self.env_entry(&location, key, value) {
                        self.config.insert(key.clone(), resolved);
                    }
                }
                Some("probe") => self.refuse(
                    location,
                    key.clone(),
                    "dynamic configuration (probe)",
                    "a configuration value computed by running a probe before the experiment \
                     cannot be computed at import; set the value, or an env entry, instead",
                ),
                _ => {
                    self.config.insert(key.clone(), value.clone());
                }
            }
        }
    }

    /// An env entry's value: the variable, else its default, else refused (as Chaos Toolkit does).
    fn env_entry(&mut self, location: &str, key: &str, entry: &Value) -> Option<Value> {
        let Some(variable) = entry.get("key").and_then(Value::as_str) else {
            self.refuse(
                location,
                key,
                "env",
                "an env entry needs \"key\": the environment variable to read",
            );
            return None;
        };
        let provider = format!("env {variable}");
        let raw = match (self.options.env.get(variable), entry.get("default")) {
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
        let kind = entry.get("env_var_type").and_then(Value::as_str);
        match convert_env(kind, raw) {
            Ok(value) => Some(value),
            Err(reason) => {
                self.failed_keys.insert(key.to_string());
                self.refuse(location, key, provider, reason);
                None
            }
        }
    }

    /// Chaos Toolkit resolves `ref` against every named activity of the experiment.
    fn index_activities(&mut self, experiment: &Map<String, Value>) {
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

    fn steady_state(&mut self, hypothesis: Option<&Value>) -> Vec<ProbeDraft> {
        let Some(hypothesis) = hypothesis else {
            return Vec::new();
        };
        let mut probes = Vec::new();
        if let Some(controls) = hypothesis.get("controls") {
            self.controls("steady-state-hypothesis.controls", controls);
        }
        let Some(list) = hypothesis.get("probes").and_then(Value::as_array) else {
            return probes;
        };
        for (i, activity) in list.iter().enumerate() {
            let location = format!("steady-state-hypothesis.probes[{i}]");
            let Some((activity, location)) = self.resolve_ref(activity, location) else {
                continue;
            };
            let Some((kind, converted, pauses)) =
                self.activity(&activity, &location, Section::SteadyState)
            else {
                continue;
            };
            match (kind, converted) {
                (Kind::Probe, Converted::Probe(mut probe)) => {
                    if pauses.before > 0.0 {
                        probe.spec.run_properties.initial_delay = seconds(pauses.before);
                        self.notes.push(format!(
                            "{location} {:?}: its pause before ({}s) became runProperties.initialDelay, \
                             waited before the check that precedes the chaos",
                            probe.name, pauses.before
                        ));
                    }
                    if pauses.after > 0.0 {
                        self.notes.push(format!(
                            "{location} {:?}: its pause after ({}s) was dropped: it only delays \
                             what follows the steady-state check",
                            probe.name, pauses.after
                        ));
                    }
                    probes.push(*probe);
                }
                _ => self.refuse(
                    location,
                    activity_name(&activity),
                    provider_label(&activity),
                    "a steady-state hypothesis holds probes only",
                ),
            }
        }
        probes
    }

    /// The method's actions become faults in order; its probes attach to the fault before them
    /// (EOT), or to the first fault (SOT) when no action precedes them; pauses become windows.
    fn method(&mut self, method: &[Value]) -> Vec<FaultDraft> {
        let mut faults: Vec<FaultDraft> = Vec::new();
        let mut leading: Vec<ProbeDraft> = Vec::new();
        let mut leading_wait: Vec<String> = Vec::new();
        let mut names = BTreeSet::new();
        for (i, activity) in method.iter().enumerate() {
            let location = format!("method[{i}]");
            let Some((activity, location)) = self.resolve_ref(activity, location) else {
                continue;
            };
            let Some((_, converted, pauses)) = self.activity(&activity, &location, Section::Method)
            else {
                continue;
            };
            let name = activity_name(&activity);
            let before = pauses.describe_before(&name);
            let after = pauses.describe_after(&name);
            match converted {
                Converted::Action(action) => {
                    let (target, parameters) = *action;
                    if let Some(previous) = faults.last_mut() {
                        previous.window += pauses.before;
                        previous.window_parts.extend(before);
                    } else {
                        leading_wait.extend(before);
                    }
                    let fault_name = unique_name(
                        &slug(&name, MAX_FAULT_NAME),
                        "pod-delete",
                        MAX_FAULT_NAME,
                        &mut names,
                    );
                    faults.push(FaultDraft {
                        name: fault_name,
                        target,
                        parameters,
                        before: std::mem::take(&mut leading),
                        after: Vec::new(),
                        window: pauses.after,
                        window_parts: after.into_iter().collect(),
                    });
                }
                Converted::Probe(probe) => {
                    if !self.scored_note {
                        self.scored_note = true;
                        self.notes.push(
                            "method probes are scored: Chaos Toolkit only records them in its \
                             journal, while each becomes a probe of a fault here, and its verdict \
                             counts toward that fault's score"
                                .into(),
                        );
                    }
                    match faults.last_mut() {
                        Some(previous) => {
                            previous.window += pauses.before + pauses.after;
                            previous.window_parts.extend(before);
                            previous.window_parts.extend(after);
                            previous.after.push(*probe);
                        }
                        None => {
                            leading_wait.extend(before);
                            leading_wait.extend(after);
                            leading.push(*probe);
                        }
                    }
                }
            }
        }
        if !leading_wait.is_empty() && !faults.is_empty() {
            self.notes.push(format!(
                "dropped the waits before the first action ({}): they only delay the first fault, \
                 which Faultline starts right after the steady-state check",
                leading_wait.join(", ")
            ));
        }
        if faults.is_empty() && self.unsupported.is_empty() {
            self.refuse(
                "method",
                "method",
                "-",
                "the method has no action Faultline can inject, and an experiment needs at \
                 least one fault (supported: chaosk8s terminate_pods and delete_pods)",
            );
        }
        faults
    }

    /// Rollbacks: pod deletion needs none (the owner replaces deleted pods), so a rollback that
    /// only checks the workload is dropped with a note; anything else is refused.
    fn rollbacks(&mut self, rollbacks: Option<&Value>) {
        let Some(list) = rollbacks.and_then(Value::as_array) else {
            return;
        };
        for (i, activity) in list.iter().enumerate() {
            let location = format!("rollbacks[{i}]");
            let Some((activity, location)) = self.resolve_ref(activity, location) else {
                continue;
            };
            let before = self.unsupported.len();
            let notes = self.notes.len();
            let converted = self.activity(&activity, &location, Section::Rollback);
            // Remarks on how a dropped rollback would have been converted are noise.
            self.notes.truncate(notes);
            if self.unsupported.len() > before {
                continue;
            }
            let name = activity_name(&activity);
            match converted {
                Some((Kind::Probe, Converted::Probe(_), _)) => self.notes.push(format!(
                    "{location} {name:?} dropped: it only checks the system, and deleted pods \
                     need no rollback since their owner replaces them; Faultline's steady-state \
                     check after the last fault verifies the recovery"
                )),
                Some(_) => self.refuse(
                    location,
                    name,
                    provider_label(&activity),
                    "a rollback that deletes pods adds chaos instead of undoing it; Faultline \
                     runs no rollback activities (each fault reverts itself)",
                ),
                None => {}
            }
        }
    }

    /// Replaces `{"ref": name}` by the named activity.
    fn resolve_ref(&mut self, activity: &Value, location: String) -> Option<(Value, String)> {
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
    fn activity(
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
        let converted = match provider.get("type").and_then(Value::as_str) {
            Some("http") => {
                if kind == Kind::Action {
                    self.refuse(
                        location,
                        name,
                        provider_text,
                        "an http action changes the system through an API Faultline does not \
                         know how to revert; only http probes are converted",
                    );
                    return None;
                }
                self.http_probe(provider, tolerance, timeout, location, &name)
                    .map(|spec| Converted::Probe(Box::new(ProbeDraft { name, spec })))
            }
            Some("python") => self.python(kind, provider, tolerance, timeout, location, &name),
            Some("process") => {
                self.refuse(
                    location,
                    name,
                    provider_text,
                    "a process provider runs a local program; Faultline cannot run it (for a \
                     check, a cmd probe runs a command in a probe pod: write one by hand)",
                );
                None
            }
            other => {
                self.refuse(
                    location,
                    name,
                    provider_text,
                    format!(
                        "unknown provider type {}",
                        other.map_or("(missing)".to_string(), |t| format!("{t:?}"))
                    ),
                );
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

    fn pauses(&mut self, pauses: Option<&Value>, location: &str, name: &str) -> Pauses {
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

    fn python(
        &mut self,
        kind: Kind,
        provider: &Map<String, Value>,
        tolerance: Option<&Value>,
        timeout: Option<f64>,
        location: &str,
        name: &str,
    ) -> Option<Converted> {
        let module = provider
            .get("module")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let func = provider
            .get("func")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let label = format!("python {module}.{func}");
        if provider.get("secrets").is_some() {
            self.notes.push(format!(
                "{location} {name:?}: provider.secrets ignored: the chaosk8s calls use the \
                 operator's and fault pods' ServiceAccounts"
            ));
        }
        let arguments = match provider.get("arguments") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(args)) => {
                match self.substitute(&Value::Object(args.clone()), location) {
                    Value::Object(args) => args,
                    _ => Map::new(),
                }
            }
            Some(other) => {
                self.refuse(
                    location,
                    name,
                    label,
                    format!("arguments must be a mapping, not {}", kind_of(other)),
                );
                return None;
            }
        };
        let mut args = Args {
            values: arguments,
            location: location.to_string(),
            name: name.to_string(),
            problems: Vec::new(),
        };
        let converted = match (kind, module, func) {
            (Kind::Action, "chaosk8s.pod.actions", "terminate_pods") => {
                self.terminate_pods(&mut args)
            }
            (Kind::Action, "chaosk8s.pod.actions" | "chaosk8s.actions", "delete_pods") => {
                self.delete_pods(&mut args)
            }
            (Kind::Probe, "chaosk8s.probes", "microservice_available_and_healthy")
            | (
                Kind::Probe,
                "chaosk8s.deployment.probes" | "chaosk8s.probes",
                "deployment_available_and_healthy",
            ) => self
                .deployment_probe(&mut args, func, tolerance, timeout)
                .map(|spec| {
                    Converted::Probe(Box::new(ProbeDraft {
                        name: name.to_string(),
                        spec,
                    }))
                }),
            _ => {
                let reason = if module.starts_with("chaosk8s") {
                    format!(
                        "{module}.{func} has no Faultline equivalent yet; supported: chaosk8s \
                         terminate_pods and delete_pods (actions), microservice_available_and_healthy \
                         and deployment_available_and_healthy (probes)"
                    )
                } else if module.is_empty() || func.is_empty() {
                    "a python provider needs a module and a func".to_string()
                } else {
                    format!(
                        "{module} is a Chaos Toolkit driver Faultline does not implement; only \
                         chaosk8s pod deletion and deployment health checks are converted"
                    )
                };
                self.refuse(location, name, label, reason);
                return None;
            }
        };
        for unknown in args.values.keys() {
            args.problems.push(format!(
                "unknown argument {unknown:?} (Chaos Toolkit would refuse it too)"
            ));
        }
        if !args.problems.is_empty() {
            let reason = args.problems.join("; ");
            self.refuse(location, name, label, reason);
            return None;
        }
        converted
    }

    fn terminate_pods(&mut self, args: &mut Args) -> Option<Converted> {
        let selector = args.selector("label_selector");
        let name_pattern = args.string("name_pattern");
        let all = args.boolean("all").unwrap_or(false);
        let rand = args.boolean("rand").unwrap_or(false);
        let mode = args.string("mode").unwrap_or_else(|| "fixed".into());
        let qty = args.integer("qty").unwrap_or(1);
        let grace = args.integer("grace_period").unwrap_or(-1);
        let ns = self.ns_argument(args);
        let order = args.string("order").unwrap_or_else(|| "alphabetic".into());

        if let Some(pattern) = &name_pattern {
            check_pattern(args, pattern);
        }
        let (target_mode, value) = if all {
            (TargetMode::All, None)
        } else {
            match mode.as_str() {
                "fixed" if qty == 1 => (TargetMode::One, None),
                "fixed" if qty > 1 => (TargetMode::Fixed, Some(clamp_i32(qty))),
                "percentage" if qty > 100 => {
                    self.notes.push(format!(
                        "{} {:?}: percentage qty {qty} is above 100, which Chaos Toolkit caps to \
                         every pod: mode all",
                        args.location, args.name
                    ));
                    (TargetMode::All, None)
                }
                "percentage" if qty >= 1 => (TargetMode::Percent, Some(clamp_i32(qty))),
                "fixed" | "percentage" => {
                    args.problems.push(format!(
                        "qty {qty} selects no pod, so the action does nothing; use qty 1 or more"
                    ));
                    (TargetMode::One, None)
                }
                other => {
                    args.problems.push(format!(
                        "mode {other:?} is not fixed or percentage (Chaos Toolkit refuses it too)"
                    ));
                    (TargetMode::One, None)
                }
            }
        };
        match order.as_str() {
            "alphabetic" => {}
            "oldest" if rand || all => self.notes.push(format!(
                "{} {:?}: order oldest ignored: it does not matter with {}",
                args.location,
                args.name,
                if all { "all" } else { "rand" }
            )),
            "oldest" => args.problems.push(
                "order oldest deletes the oldest pods first; Faultline picks by name order or at \
                 random (set rand: true, or drop order)"
                    .into(),
            ),
            other => args.problems.push(format!(
                "order {other:?} is not alphabetic or oldest (Chaos Toolkit refuses it too)"
            )),
        }
        let grace_period_seconds = match grace {
            g if g >= 0 => Some(g),
            _ => None,
        };
        Some(Converted::Action(Box::new((
            pod_target(ns, selector, name_pattern, target_mode, value, rand),
            FaultParameters {
                pod_delete: Some(PodDeleteParameters {
                    grace_period_seconds,
                    force: false,
                }),
                ..FaultParameters::default()
            },
        ))))
    }

    fn delete_pods(&mut self, args: &mut Args) -> Option<Converted> {
        let name = args.string("name");
        let selector = args.selector("label_selector");
        let ns = self.ns_argument(args);
        if let Some(pattern) = &name {
            check_pattern(args, pattern);
        }
        self.notes.push(format!(
            "{} {:?}: delete_pods is deprecated in chaosk8s and runs terminate_pods with \
             name_pattern = name and its defaults (the first matching pod in name order); \
             chaosk8s releases before September 2021 deleted every pod matching the selector \
             instead: set the fault's target.mode to all if you relied on that",
            args.location, args.name
        ));
        Some(Converted::Action(Box::new((
            pod_target(ns, selector, name, TargetMode::One, None, false),
            FaultParameters::default(),
        ))))
    }

    fn deployment_probe(
        &mut self,
        args: &mut Args,
        func: &str,
        tolerance: Option<&Value>,
        timeout: Option<f64>,
    ) -> Option<ChaosProbeSpec> {
        let name = args.string("name");
        let selector = args.string("label_selector");
        let ns = self.ns_argument(args);
        if func == "deployment_available_and_healthy" {
            // Raising or returning False both fail the probe's tolerance of true.
            let _ = args.boolean("raise_on_unavailable");
        }
        match tolerance {
            None | Some(Value::Bool(true)) => {}
            Some(other) => args.problems.push(format!(
                "tolerance {} is not supported: the converted check passes when the Deployment is \
                 available, which is tolerance true",
                short_json(other)
            )),
        }
        let Some(name) = name else {
            args.problems
                .push("name is required: the Deployment to check".into());
            return None;
        };
        if let Some(selector) = selector {
            self.notes.push(format!(
                "{} {:?}: label_selector {selector:?} dropped: the Deployment is found by its \
                 name {name:?}, which a selector could only narrow",
                args.location, args.name
            ));
        }
        Some(ChaosProbeSpec {
            probe_type: ProbeType::K8s,
            http: None,
            k8s: Some(K8sProbe {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                name: Some(name),
                selector: None,
                namespace: Some(ns),
                check: K8sCheck {
                    state: Some(K8sState::Available),
                    min_ready: None,
                    json_path: None,
                    comparator: None,
                },
            }),
            cmd: None,
            prometheus: None,
            run_properties: run_properties(timeout),
        })
    }

    /// The activity's `ns` (Chaos Toolkit's default is "default"), remembering the first one.
    fn ns_argument(&mut self, args: &mut Args) -> String {
        let explicit = args.string("ns");
        let ns = explicit
            .clone()
            .unwrap_or_else(|| CTK_DEFAULT_NS.to_string());
        if !is_dns_label(&ns, 63) {
            args.problems
                .push(format!("ns {ns:?} is not a valid namespace name"));
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

    fn http_probe(
        &mut self,
        provider: &Map<String, Value>,
        tolerance: Option<&Value>,
        activity_timeout: Option<f64>,
        location: &str,
        name: &str,
    ) -> Option<ChaosProbeSpec> {
        let provider = match self.substitute(&Value::Object(provider.clone()), location) {
            Value::Object(p) => p,
            _ => return None,
        };
        let url = provider
            .get("url")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let method = provider
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or("GET")
            .to_uppercase();
        let label = format!("http {method} {url}");
        let mut problems = Vec::new();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            problems.push(format!("url {url:?} must start with http:// or https://"));
        }
        let mut headers = BTreeMap::new();
        match provider.get("headers") {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                for (key, value) in map {
                    headers.insert(key.clone(), python_str(value));
                }
            }
            Some(other) => {
                problems.push(format!("headers must be a mapping, not {}", kind_of(other)))
            }
        }
        let mut url = url;
        let mut body = None;
        match provider.get("arguments") {
            None | Some(Value::Null) => {}
            Some(arguments) if method == "GET" => match form_encode(arguments) {
                Ok(query) if !query.is_empty() => {
                    url.push(if url.contains('?') { '&' } else { '?' });
                    url.push_str(&query);
                }
                Ok(_) => {}
                Err(why) => problems.push(why),
            },
            Some(arguments) => {
                if headers.get("Content-Type").map(String::as_str) == Some("application/json") {
                    body = Some(arguments.to_string());
                } else if let Value::String(raw) = arguments {
                    body = Some(raw.clone());
                } else {
                    match form_encode(arguments) {
                        Ok(form) => {
                            headers
                                .entry("Content-Type".into())
                                .or_insert_with(|| "application/x-www-form-urlencoded".to_string());
                            body = Some(form);
                        }
                        Err(why) => problems.push(why),
                    }
                }
            }
        }
        let mut timeout = activity_timeout;
        if let Some(value) = provider.get("timeout") {
            let secs = match value {
                Value::Array(parts) => parts.iter().map(Value::as_f64).sum::<Option<f64>>(),
                other => other.as_f64(),
            };
            match secs {
                Some(secs) if secs > 0.0 => {
                    timeout = Some(timeout.map_or(secs, |t: f64| t.min(secs)));
                }
                _ => problems.push(format!(
                    "timeout must be a positive number of seconds or a [connect, read] pair, not {}",
                    short_json(value)
                )),
            }
        }
        let insecure = provider.get("verify_tls").and_then(Value::as_bool) == Some(false);
        let retries = provider
            .get("max_retries")
            .and_then(Value::as_u64)
            .map(|r| r.min(100) as u32)
            .unwrap_or(0);
        if provider.get("expected_status").is_some() {
            self.notes.push(format!(
                "{location} {name:?}: provider.expected_status ignored: Chaos Toolkit's http \
                 provider has no such key and judges the status by the tolerance"
            ));
        }
        if provider.get("secrets").is_some() {
            self.notes.push(format!(
                "{location} {name:?}: provider.secrets ignored: Faultline's http probes send only \
                 the headers written in the probe"
            ));
        }
        let expected = match tolerance {
            Some(tolerance) => {
                let tolerance = self.substitute(tolerance, location);
                self.http_tolerance(&tolerance, location, name)
            }
            None => {
                self.notes.push(format!(
                    "{location} {name:?} has no tolerance: it passes on a status below 400, the \
                     statuses Chaos Toolkit does not warn about"
                ));
                Ok((vec!["200-399".to_string()], None))
            }
        };
        let (expected_status, body_matches) = match expected {
            Ok(found) => found,
            Err(why) => {
                problems.push(why);
                (Vec::new(), None)
            }
        };
        if !problems.is_empty() {
            self.refuse(location, name, label, problems.join("; "));
            return None;
        }
        let mut run_properties = run_properties(timeout);
        run_properties.retries = retries;
        Some(ChaosProbeSpec {
            probe_type: ProbeType::Http,
            http: Some(HttpProbe {
                url,
                method,
                headers,
                body,
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

    /// Builds the objects: shared probes become ChaosProbes, namespaces equal to the
    /// experiment's are left implicit, and each fault's window becomes its duration.
    fn assemble(mut self, input: AssemblyInput) -> Imported {
        let AssemblyInput {
            title,
            description,
            name,
            namespace,
            steady,
            plan,
        } = input;
        if namespace != CTK_DEFAULT_NS && !self.implicit_ns.is_empty() {
            self.notes.push(format!(
                "{} ha{} no ns argument: Chaos Toolkit acts in namespace \"default\" then, so the \
                 converted target or probe names namespace default explicitly",
                self.implicit_ns.join(", "),
                if self.implicit_ns.len() == 1 {
                    "s"
                } else {
                    "ve"
                }
            ));
        }
        let localise = |mut probe: ProbeDraft| {
            if let Some(k8s) = probe.spec.k8s.as_mut()
                && k8s.namespace.as_deref() == Some(namespace.as_str())
            {
                k8s.namespace = None;
            }
            probe
        };
        let steady: Vec<ProbeDraft> = steady.into_iter().map(localise).collect();

        // Each fault's entries, with a probe both before and after one fault merged into Edge.
        let mut fault_entries: Vec<Vec<(ProbeDraft, ProbeMode)>> = Vec::new();
        for fault in &plan {
            let mut entries: Vec<(ProbeDraft, ProbeMode)> = Vec::new();
            let after: Vec<ProbeDraft> = fault.after.iter().cloned().map(localise).collect();
            let mut after_used = vec![false; after.len()];
            for probe in fault.before.iter().cloned().map(localise) {
                let twin = after
                    .iter()
                    .enumerate()
                    .position(|(i, p)| !after_used[i] && *p == probe);
                match twin {
                    Some(i) => {
                        after_used[i] = true;
                        entries.push((probe, ProbeMode::Edge));
                    }
                    None => entries.push((probe, ProbeMode::Sot)),
                }
            }
            for (i, probe) in after.into_iter().enumerate() {
                if !after_used[i] {
                    entries.push((probe, ProbeMode::Eot));
                }
            }
            fault_entries.push(entries);
        }

        // Probes used more than once become ChaosProbes.
        let mut registry: Vec<(ProbeDraft, usize)> = Vec::new();
        for probe in steady
            .iter()
            .chain(fault_entries.iter().flatten().map(|(p, _)| p))
        {
            match registry.iter_mut().find(|(p, _)| p == probe) {
                Some((_, uses)) => *uses += 1,
                None => registry.push((probe.clone(), 1)),
            }
        }
        let mut probe_names = BTreeSet::new();
        let mut shared: Vec<(ProbeDraft, String)> = Vec::new();
        for (probe, uses) in &registry {
            if *uses > 1 {
                // `<experiment>-<probe>`, shortening the experiment's part first.
                let own = slug(&probe.name, MAX_PROBE_NAME / 2);
                let budget = MAX_PROBE_NAME - own.len() - 1;
                let mut prefix = slug(&name, budget);
                if prefix.len() < name.len() && name.as_bytes().get(prefix.len()) != Some(&b'-') {
                    // Cut at a word boundary rather than inside a word.
                    prefix.truncate(prefix.rfind('-').unwrap_or(prefix.len()));
                }
                let base = slug(&format!("{prefix}-{own}"), MAX_PROBE_NAME);
                shared.push((
                    probe.clone(),
                    unique_name(&base, "probe", MAX_PROBE_NAME, &mut probe_names),
                ));
            }
        }
        let mut display_names: BTreeMap<String, ChaosProbeSpec> = BTreeMap::new();
        let mut entry = |probe: &ProbeDraft, mode: ProbeMode| -> ProbeEntry {
            if let Some((_, reference)) = shared.iter().find(|(p, _)| p == probe) {
                return ProbeEntry {
                    probe_ref: Some(reference.clone()),
                    probe: None,
                    name: None,
                    mode,
                };
            }
            let mut display: String = probe.name.chars().take(MAX_PROBE_NAME).collect();
            let mut n = 2;
            while display_names
                .get(&display)
                .is_some_and(|spec| *spec != probe.spec)
            {
                let suffix = format!("-{n}");
                display = probe
                    .name
                    .chars()
                    .take(MAX_PROBE_NAME - suffix.len())
                    .collect::<String>()
                    + &suffix;
                n += 1;
            }
            display_names.insert(display.clone(), probe.spec.clone());
            ProbeEntry {
                probe_ref: None,
                probe: Some(probe.spec.clone()),
                name: Some(display),
                mode,
            }
        };

        let steady_entries: Vec<ProbeEntry> =
            steady.iter().map(|p| entry(p, ProbeMode::Eot)).collect();
        let mut faults = Vec::new();
        for (fault, entries) in plan.into_iter().zip(fault_entries) {
            let window = seconds(fault.window);
            let interval = if fault.window > 0.0 {
                window
            } else {
                Duration::from_secs(1)
            };
            let probes: Vec<ProbeEntry> = entries.iter().map(|(p, m)| entry(p, *m)).collect();
            let modes: Vec<String> = entries
                .iter()
                .map(|(p, m)| format!("{:?} {}", p.name, mode_name(*m)))
                .collect();
            self.notes.push(format!(
                "fault {:?} lasts {window} ({}) and deletes once (interval {interval}){}",
                fault.name,
                if fault.window_parts.is_empty() {
                    "no pause follows the action".to_string()
                } else {
                    format!("the pauses {}", fault.window_parts.join(" + "))
                },
                if modes.is_empty() {
                    String::new()
                } else {
                    format!("; its method probes: {}", modes.join(", "))
                }
            ));
            let mut target = fault.target;
            if target.namespace.as_deref() == Some(namespace.as_str()) {
                target.namespace = None;
            }
            faults.push(Fault {
                name: fault.name,
                fault_type: FaultType::PodDelete,
                weight: 10,
                target,
                duration: window,
                interval,
                parameters: fault.parameters,
                probes,
            });
        }

        let spec = ChaosExperimentSpec {
            faults,
            parallel: false,
            steady_state: (!steady_entries.is_empty()).then_some(SteadyState {
                probes: steady_entries,
            }),
            expected_resilience_score: 100,
            schedule: None,
            concurrency_policy: ConcurrencyPolicy::Forbid,
            suspend: false,
            starting_deadline_seconds: None,
            history_limit: 10,
            timeout: None,
            queue_timeout: Duration::from_secs(300),
            stop: false,
            dry_run: false,
        };
        let mut experiment = ChaosExperiment::new(&name, spec);
        experiment.metadata.namespace = Some(namespace.clone());
        let probes = shared
            .into_iter()
            .map(|(probe, probe_name)| {
                let mut object = ChaosProbe::new(&probe_name, probe.spec);
                object.metadata.namespace = Some(namespace.clone());
                object
            })
            .collect();
        Imported {
            experiment,
            probes,
            notes: self.notes,
            title,
            description: description
                .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|d| !d.is_empty()),
        }
    }
}

/// An activity's pauses, in seconds.
#[derive(Clone, Copy, Default)]
struct Pauses {
    before: f64,
    after: f64,
}

impl Pauses {
    fn describe_before(&self, name: &str) -> Option<String> {
        (self.before > 0.0).then(|| format!("{}s before {name:?}", self.before))
    }

    fn describe_after(&self, name: &str) -> Option<String> {
        (self.after > 0.0).then(|| format!("{}s after {name:?}", self.after))
    }
}

/// A python provider's arguments, taken one by one; what is left over is unknown.
struct Args {
    values: Map<String, Value>,
    location: String,
    name: String,
    problems: Vec<String>,
}

impl Args {
    fn take(&mut self, key: &str) -> Option<Value> {
        self.values.remove(key).filter(|v| !v.is_null())
    }

    fn string(&mut self, key: &str) -> Option<String> {
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

    fn boolean(&mut self, key: &str) -> Option<bool> {
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

    fn integer(&mut self, key: &str) -> Option<i64> {
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

    fn selector(&mut self, key: &str) -> Option<LabelSelector> {
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

fn check_pattern(args: &mut Args, pattern: &str) {
    if let Err(e) = Regex::new(pattern) {
        args.problems.push(format!(
            "name pattern {pattern:?} is not valid in Faultline's (RE2) syntax: {e}"
        ));
    }
}

fn pod_target(
    ns: String,
    selector: Option<LabelSelector>,
    name_pattern: Option<String>,
    mode: TargetMode,
    value: Option<i32>,
    random: bool,
) -> Target {
    Target {
        namespace: Some(ns),
        kind: TargetKind::Pod,
        name: None,
        selector,
        name_pattern: name_pattern.filter(|p| !p.is_empty()),
        mode,
        value,
        random,
        node_selector: None,
        max_percent: 100,
        min_healthy: None,
    }
}

fn run_properties(timeout: Option<f64>) -> RunProperties {
    let mut properties = RunProperties::default();
    if let Some(secs) = timeout {
        properties.timeout = seconds(secs);
    }
    properties
}

fn seconds(secs: f64) -> Duration {
    Duration::from_millis((secs * 1000.0).round() as u64)
}

fn clamp_i32(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn mode_name(mode: ProbeMode) -> &'static str {
    match mode {
        ProbeMode::Sot => "SOT",
        ProbeMode::Eot => "EOT",
        ProbeMode::Edge => "Edge",
        ProbeMode::Continuous => "Continuous",
        ProbeMode::OnChaos => "OnChaos",
    }
}

/// `base`, or `base-2`, `base-3`... cut to `max`, whichever is not taken yet.
fn unique_name(base: &str, fallback: &str, max: usize, taken: &mut BTreeSet<String>) -> String {
    let base = if base.is_empty() { fallback } else { base };
    let mut candidate = base.to_string();
    let mut n = 2;
    while taken.contains(&candidate) {
        let suffix = format!("-{n}");
        let mut stem = base.to_string();
        stem.truncate(max.saturating_sub(suffix.len()));
        candidate = format!("{}{suffix}", stem.trim_end_matches('-'));
        n += 1;
    }
    taken.insert(candidate.clone());
    candidate
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

fn activity_name(activity: &Value) -> String {
    activity
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("(unnamed)")
        .to_string()
}

/// How an activity's provider is shown: `python module.func`, `http GET url`, `process path`.
fn provider_label(activity: &Value) -> String {
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

fn secret_source(entry: &Value) -> String {
    match entry.get("type").and_then(Value::as_str) {
        Some(kind) => match entry.get("key").and_then(Value::as_str) {
            Some(key) => format!("{kind} {key}"),
            None => kind.to_string(),
        },
        None => "inline value".into(),
    }
}

/// A value as Python's `str()` prints it, which is what Chaos Toolkit substitutes.
fn python_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or_default();
            if f.fract() == 0.0 && f.abs() < 1e16 {
                format!("{f:.1}")
            } else {
                f.to_string()
            }
        }
        other => other.to_string(),
    }
}

fn short_json(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 80 {
        format!("{}...", text.chars().take(77).collect::<String>())
    } else {
        text
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

/// Parses a Kubernetes label selector string: `a=b`, `a==b`, `a!=b`, `a in (x,y)`,
/// `a notin (x,y)`, `a` and `!a`, separated by commas.
pub fn parse_label_selector(text: &str) -> Result<LabelSelector, String> {
    let mut labels: BTreeMap<String, String> = BTreeMap::new();
    let mut expressions: Vec<LabelSelectorRequirement> = Vec::new();
    for requirement in split_requirements(text)? {
        let requirement = requirement.trim();
        if requirement.is_empty() {
            return Err("an empty requirement (two commas in a row?)".into());
        }
        let requirement_for =
            |key: &str, operator: &str, values: Option<Vec<String>>| LabelSelectorRequirement {
                key: key.to_string(),
                operator: operator.to_string(),
                values,
            };
        if let Some(key) = requirement.strip_prefix('!') {
            let key = key.trim();
            check_label_key(key)?;
            expressions.push(requirement_for(key, "DoesNotExist", None));
        } else if let Some((key, value)) = requirement.split_once("!=") {
            let (key, value) = (key.trim(), value.trim());
            check_label_key(key)?;
            check_label_value(value)?;
            expressions.push(requirement_for(key, "NotIn", Some(vec![value.into()])));
        } else if let Some((key, value)) = requirement
            .split_once("==")
            .or_else(|| requirement.split_once('='))
        {
            let (key, value) = (key.trim(), value.trim());
            check_label_key(key)?;
            check_label_value(value)?;
            match labels.get(key) {
                Some(existing) if existing != value => {
                    expressions.push(requirement_for(key, "In", Some(vec![value.into()])))
                }
                _ => {
                    labels.insert(key.into(), value.into());
                }
            }
        } else if let Some(captures) = set_pattern().captures(requirement) {
            let key = &captures[1];
            check_label_key(key)?;
            let operator = if captures[2].eq_ignore_ascii_case("in") {
                "In"
            } else {
                "NotIn"
            };
            let values: Vec<String> = captures[3]
                .split(',')
                .map(|v| v.trim().to_string())
                .collect();
            for value in &values {
                check_label_value(value)?;
            }
            if values.iter().all(String::is_empty) {
                return Err(format!("{requirement:?} lists no value"));
            }
            expressions.push(requirement_for(key, operator, Some(values)));
        } else if requirement.contains(['<', '>', '(', ')', ' ']) {
            return Err(format!(
                "{requirement:?} is not a label requirement (=, ==, !=, in, notin, exists or !key; \
                 a LabelSelector has no < or >)"
            ));
        } else {
            check_label_key(requirement)?;
            expressions.push(requirement_for(requirement, "Exists", None));
        }
    }
    Ok(LabelSelector {
        match_labels: (!labels.is_empty()).then_some(labels),
        match_expressions: (!expressions.is_empty()).then_some(expressions),
    })
}

fn set_pattern() -> &'static Regex {
    static PATTERN: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    PATTERN.get_or_init(|| {
        Regex::new(r"^(\S+)\s+(in|notin)\s*\(([^()]*)\)$").expect("the set pattern is valid")
    })
}

/// Splits on the commas that are not inside parentheses.
fn split_requirements(text: &str) -> Result<Vec<&str>, String> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| "a ')' without its '('".to_string())?
            }
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err("a '(' without its ')'".into());
    }
    parts.push(&text[start..]);
    Ok(parts)
}

fn check_label_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        let valid = !prefix.is_empty()
            && prefix.len() <= 253
            && prefix.split('.').all(|part| is_dns_label(part, 63));
        if !valid {
            return Err(format!("{key:?} has an invalid prefix (a DNS subdomain)"));
        }
    }
    if !is_label_name(name) || name.is_empty() {
        return Err(format!(
            "{key:?} is not a valid label key (up to 63 letters, digits, '-', '_' or '.', \
             starting and ending with a letter or digit)"
        ));
    }
    Ok(())
}

fn check_label_value(value: &str) -> Result<(), String> {
    if value.is_empty() || is_label_name(value) {
        Ok(())
    } else {
        Err(format!(
            "{value:?} is not a valid label value (up to 63 letters, digits, '-', '_' or '.', \
             starting and ending with a letter or digit)"
        ))
    }
}

fn is_label_name(text: &str) -> bool {
    let bytes = text.as_bytes();
    let inner = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
    !text.is_empty()
        && text.len() <= 63
        && bytes.iter().all(inner)
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
}

#[cfg(test)]
mod tests {
    use super::*;

    const POD_TERMINATION: &str =
        include_str!("../../tests/fixtures/chaostoolkit/pod-termination.json");
    const ENV_PAUSES: &str = include_str!("../../tests/fixtures/chaostoolkit/env-pauses.yaml");
    const UNSUPPORTED: &str = include_str!("../../tests/fixtures/chaostoolkit/unsupported.json");
    const E2E: &str = include_str!("../../e2e/manifests/chaostoolkit/pod-termination.json");

    fn env(pairs: &[(&str, &str)]) -> ImportOptions {
        ImportOptions {
            env: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..ImportOptions::default()
        }
    }

    fn imported(source: &str, options: &ImportOptions) -> Imported {
        import(source, options).unwrap_or_else(|e| panic!("import failed: {e}"))
    }

    fn refused(source: &str, options: &ImportOptions) -> Vec<Unsupported> {
        match import(source, options) {
            Err(ImportError::Unsupported(list)) => list,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    fn inline(entry: &ProbeEntry) -> &ChaosProbeSpec {
        entry.probe.as_ref().expect("an inline probe")
    }

    fn http(entry: &ProbeEntry) -> &HttpProbe {
        inline(entry).http.as_ref().expect("an http probe")
    }

    #[test]
    fn terminate_pods_becomes_a_pod_delete_fault_with_every_argument() {
        let imported = imported(POD_TERMINATION, &ImportOptions::default());
        let experiment = &imported.experiment;
        assert_eq!(
            experiment.metadata.name.as_deref(),
            Some("the-storefront-survives-losing-two-web-pods")
        );
        assert_eq!(experiment.metadata.namespace.as_deref(), Some("shop"));
        let [fault] = experiment.spec.faults.as_slice() else {
            panic!("one fault expected");
        };
        assert_eq!(fault.name, "terminate-two-web-pods");
        assert_eq!(fault.fault_type, FaultType::PodDelete);
        let target = &fault.target;
        assert_eq!(target.namespace, None, "ns equals the experiment's");
        assert_eq!((target.mode, target.value), (TargetMode::Fixed, Some(2)));
        assert!(target.random);
        assert_eq!(target.name_pattern.as_deref(), Some("^web-"));
        assert_eq!(
            crate::faults::selector_string(target.selector.as_ref().unwrap()).unwrap(),
            "app=web,tier notin (db),env in (prod,staging),!canary"
        );
        assert_eq!(
            fault
                .parameters
                .pod_delete
                .as_ref()
                .and_then(|p| p.grace_period_seconds),
            Some(5)
        );
        assert_eq!(fault.duration.to_string(), "15s", "the pause after");
        assert_eq!(fault.interval, fault.duration, "one deletion, as one call");
    }

    #[test]
    fn probes_go_to_the_steady_state_or_to_the_fault_they_follow() {
        let imported = imported(POD_TERMINATION, &ImportOptions::default());
        let spec = &imported.experiment.spec;
        let steady = &spec.steady_state.as_ref().unwrap().probes;
        let shared = "the-storefront-survives-losing-two-web-storefront-must-answer";
        assert_eq!(steady[0].probe_ref.as_deref(), Some(shared));
        let k8s = inline(&steady[1]).k8s.as_ref().unwrap();
        assert_eq!(
            (k8s.kind.as_str(), k8s.name.as_deref()),
            ("Deployment", Some("web"))
        );
        assert_eq!(k8s.check.state, Some(K8sState::Available));
        assert_eq!(k8s.namespace, None);

        let probes = &spec.faults[0].probes;
        assert_eq!(
            probes[0].probe_ref.as_deref(),
            Some(shared),
            "a ref reuses it"
        );
        assert_eq!(probes[0].mode, ProbeMode::Eot);
        let catalogue = http(&probes[1]);
        assert_eq!(
            catalogue.url,
            "http://web.shop.svc.cluster.local/catalogue?page=1&q=red+shoes"
        );
        assert_eq!(catalogue.expected_status, ["200-399"], "no tolerance");

        let [probe] = imported.probes.as_slice() else {
            panic!("the probe used twice becomes the one ChaosProbe");
        };
        assert_eq!(probe.metadata.name.as_deref(), Some(shared));
        let health = probe.spec.http.as_ref().unwrap();
        assert_eq!(health.url, "http://web.shop.svc.cluster.local/health");
        assert_eq!(health.expected_status, ["200"]);
        assert_eq!(probe.spec.run_properties.timeout.to_string(), "3s");
    }

    #[test]
    fn a_rollback_that_only_checks_is_dropped_with_a_note() {
        let imported = imported(POD_TERMINATION, &ImportOptions::default());
        assert!(
            imported
                .notes
                .iter()
                .any(|n| n.starts_with("rollbacks[0] \"web-is-back\" dropped")),
            "{:#?}",
            imported.notes
        );
        assert!(imported.notes.iter().any(|n| n.starts_with("tags ignored")));
    }

    #[test]
    fn env_configuration_is_resolved_and_substituted_everywhere() {
        let imported = imported(ENV_PAUSES, &env(&[("TARGET_NS", "prod-shop")]));
        let spec = &imported.experiment.spec;
        assert_eq!(
            imported.experiment.metadata.namespace.as_deref(),
            Some("prod-shop")
        );
        let first = &spec.faults[0].target;
        assert_eq!(
            first.selector.as_ref().unwrap().match_labels,
            Some(BTreeMap::from([("app".into(), "api".into())])),
            "API_LABEL's default"
        );
        assert_eq!((first.mode, first.value), (TargetMode::Percent, Some(50)));
        let page = http(&spec.faults[0].probes[0]);
        assert_eq!(
            page.url,
            "http://checkout.prod-shop.svc.cluster.local:8080/"
        );
        assert_eq!(page.headers["X-Chaos"], "imported from $CTK", "$$ is a $");
        assert!(
            imported
                .notes
                .iter()
                .any(|n| n.contains("KILL_PERCENT is not set; used its default \"50\""))
        );
    }

    #[test]
    fn an_env_value_wins_over_the_default() {
        let options = env(&[
            ("TARGET_NS", "shop"),
            ("API_LABEL", "app in (api, api-canary)"),
        ]);
        let imported = imported(ENV_PAUSES, &options);
        let selector = imported.experiment.spec.faults[0]
            .target
            .selector
            .clone()
            .unwrap();
        assert_eq!(
            crate::faults::selector_string(&selector).unwrap(),
            "app in (api,api-canary)"
        );
    }

    #[test]
    fn an_env_entry_without_value_or_default_is_refused() {
        let refusals = refused(ENV_PAUSES, &ImportOptions::default());
        assert_eq!(refusals.len(), 1, "{refusals:#?}");
        assert_eq!(refusals[0].location, "configuration.target_ns");
        assert_eq!(refusals[0].provider, "env TARGET_NS");
        assert!(refusals[0].reason.contains("TARGET_NS is not set"));
    }

    #[test]
    fn pauses_become_fault_windows() {
        let imported = imported(ENV_PAUSES, &env(&[("TARGET_NS", "shop")]));
        let faults = &imported.experiment.spec.faults;
        // 10 s after the first kill, plus the 2 s pause before the probe that follows it.
        assert_eq!(faults[0].duration.to_string(), "12s");
        assert_eq!(faults[0].interval.to_string(), "12s");
        assert_eq!(faults[1].duration.to_string(), "5s");
        assert!(
            imported
                .notes
                .iter()
                .any(|n| n.starts_with("dropped the waits before the first action (5s before")),
            "{:#?}",
            imported.notes
        );
    }

    #[test]
    fn tolerances_become_expected_statuses() {
        let imported = imported(ENV_PAUSES, &env(&[("TARGET_NS", "shop")]));
        let spec = &imported.experiment.spec;
        let steady = &spec.steady_state.as_ref().unwrap().probes;
        assert_eq!(
            http(&steady[0]).expected_status,
            ["200-299"],
            "range on status"
        );
        assert_eq!(inline(&steady[0]).run_properties.timeout.to_string(), "5s");
        let page = http(&spec.faults[0].probes[0]);
        assert_eq!(page.body_matches.as_deref(), Some("(?i)checkout"));
        assert_eq!(
            page.expected_status,
            ["100-599"],
            "a regex looks at the body only"
        );
        let order = http(&spec.faults[1].probes[0]);
        assert_eq!(order.expected_status, ["200", "201"]);
        assert_eq!(order.method, "POST");
        assert_eq!(
            order.body.as_deref(),
            Some(r#"{"quantity":1,"sku":"RED-SHOE-42"}"#)
        );
    }

    #[test]
    fn delete_pods_runs_terminate_pods_on_a_name_pattern() {
        let imported = imported(ENV_PAUSES, &env(&[("TARGET_NS", "shop")]));
        let target = &imported.experiment.spec.faults[1].target;
        assert_eq!(target.name_pattern.as_deref(), Some("^api-0"));
        assert_eq!((target.mode, target.random), (TargetMode::One, false));
        assert_eq!(
            imported.experiment.spec.faults[1].name,
            "delete-the-api-0-pod"
        );
    }

    #[test]
    fn every_unsupported_part_is_listed_with_where_and_why() {
        let refusals = refused(UNSUPPORTED, &ImportOptions::default());
        let listed: Vec<(&str, &str, &str)> = refusals
            .iter()
            .map(|u| (u.location.as_str(), u.name.as_str(), u.provider.as_str()))
            .collect();
        assert_eq!(
            listed,
            [
                (
                    "secrets.aws.aws_session_token",
                    "aws_session_token",
                    "env AWS_SESSION_TOKEN"
                ),
                (
                    "steady-state-hypothesis.probes[1]",
                    "smoke-test-script",
                    "process ./smoke.sh"
                ),
                (
                    "method[1]",
                    "stop-a-worker-instance",
                    "python chaosaws.ec2.actions.stop_instances"
                ),
                (
                    "rollbacks[0]",
                    "start-the-worker-again",
                    "python chaosaws.ec2.actions.start_instances"
                ),
            ]
        );
        let message = ImportError::Unsupported(refusals).to_string();
        let lines: Vec<&str> = message.lines().collect();
        assert_eq!(lines.len(), 5, "a heading and one line each:\n{message}");
        assert!(lines[3].starts_with(
            "  - method[1] \"stop-a-worker-instance\" [python chaosaws.ec2.actions.stop_instances]: "
        ));
    }

    #[test]
    fn arguments_chaos_toolkit_would_reject_are_refused() {
        let source = r#"{"title": "t", "method": [{"type": "action", "name": "kill",
            "provider": {"type": "python", "module": "chaosk8s.pod.actions",
            "func": "terminate_pods", "arguments": {"label_selector": "app=",
            "rand": "false", "qty": 0, "mode": "fixed", "colour": "red", "order": "oldest"}}}]}"#;
        let refusals = refused(source, &ImportOptions::default());
        let reason = &refusals[0].reason;
        for expected in [
            "rand must be true or false",
            "qty 0",
            "unknown argument \"colour\"",
            "order oldest",
        ] {
            assert!(reason.contains(expected), "{expected:?} in {reason}");
        }
        let bad_selector = source.replace("app=", "app=web,cpu>2");
        let refusals = refused(&bad_selector, &ImportOptions::default());
        assert!(
            refusals[0]
                .reason
                .contains("label_selector \"app=web,cpu>2\" cannot be parsed")
        );
    }

    #[test]
    fn label_selectors_parse_both_syntaxes() {
        let selector =
            parse_label_selector("app=web, tier!=db,env in (a,b),!x,y,z notin (c)").unwrap();
        assert_eq!(
            crate::faults::selector_string(&selector).unwrap(),
            "app=web,tier notin (db),env in (a,b),!x,y,z notin (c)"
        );
        let prefixed = parse_label_selector("app.kubernetes.io/name==web").unwrap();
        assert_eq!(
            prefixed.match_labels.unwrap()["app.kubernetes.io/name"],
            "web"
        );
        for bad in [
            "app=web,",
            "env in (a,b",
            "a>1",
            "-app=web",
            "app=we b",
            "env in ()",
        ] {
            assert!(
                parse_label_selector(bad).is_err(),
                "{bad:?} should not parse"
            );
        }
    }

    #[test]
    fn a_probe_before_and_after_the_only_fault_is_an_edge_probe() {
        let source = r#"{"title": "Edge", "method": [
            {"type": "probe", "name": "up", "tolerance": 200,
             "provider": {"type": "http", "url": "http://web/"}},
            {"type": "action", "name": "kill", "pauses": {"after": 3},
             "provider": {"type": "python", "module": "chaosk8s.pod.actions",
                          "func": "terminate_pods", "arguments": {"ns": "web"}}},
            {"ref": "up"}]}"#;
        let imported = imported(source, &ImportOptions::default());
        let probes = &imported.experiment.spec.faults[0].probes;
        assert_eq!(probes.len(), 1);
        assert_eq!(probes[0].mode, ProbeMode::Edge);
        assert!(imported.probes.is_empty(), "one entry, so inline");
        assert_eq!(
            imported.experiment.metadata.namespace.as_deref(),
            Some("web")
        );
    }

    #[test]
    fn options_name_the_objects_and_implicit_namespaces_stay_default() {
        let options = ImportOptions {
            namespace: Some("chaos".into()),
            name: Some("storefront".into()),
            env: BTreeMap::new(),
        };
        let imported = imported(UNSUPPORTED_FREE, &options);
        assert_eq!(
            imported.experiment.metadata.name.as_deref(),
            Some("storefront")
        );
        assert_eq!(
            imported.experiment.metadata.namespace.as_deref(),
            Some("chaos")
        );
        let target = &imported.experiment.spec.faults[0].target;
        assert_eq!(
            target.namespace.as_deref(),
            Some("default"),
            "Chaos Toolkit's default ns"
        );
        assert!(
            imported
                .notes
                .iter()
                .any(|n| n.contains("has no ns argument"))
        );
        let bad = ImportOptions {
            name: Some("Store Front".into()),
            ..ImportOptions::default()
        };
        assert!(matches!(
            import(UNSUPPORTED_FREE, &bad),
            Err(ImportError::InvalidOption {
                option: "--name",
                ..
            })
        ));
    }

    const UNSUPPORTED_FREE: &str = r#"{"title": "kill one", "method": [{"type": "action",
        "name": "kill", "provider": {"type": "python", "module": "chaosk8s.pod.actions",
        "func": "terminate_pods", "arguments": {"label_selector": "app=web"}}}]}"#;

    #[test]
    fn parse_errors_say_where_and_non_experiments_say_what_is_missing() {
        let err = import(
            "{\n  \"title\": \"x\",\n  \"method\": [\n}",
            &ImportOptions::default(),
        )
        .unwrap_err();
        match &err {
            ImportError::Parse { format, line, .. } => assert_eq!((*format, *line), ("JSON", 4)),
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("line 4"), "{err}");
        let err = import("title: x\nmethod: [a\n", &ImportOptions::default()).unwrap_err();
        assert!(
            matches!(err, ImportError::Parse { format: "YAML", .. }),
            "{err:?}"
        );
        let err = import("title: Only a title\n", &ImportOptions::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "not a Chaos Toolkit experiment: it has no \"method\" with at least one activity"
        );
        let err = import("just words", &ImportOptions::default()).unwrap_err();
        assert!(err.to_string().contains("is a string"), "{err}");
    }

    #[test]
    fn to_yaml_reads_back_as_our_resources() {
        for (source, options) in [
            (POD_TERMINATION, ImportOptions::default()),
            (ENV_PAUSES, env(&[("TARGET_NS", "shop")])),
            (E2E, env(&[("TARGET_NS", "e2e-ctk")])),
        ] {
            let imported = imported(source, &options);
            let yaml = imported.to_yaml();
            assert!(yaml.starts_with("# Imported by `faultline import chaostoolkit` from"));
            let documents: Vec<serde_yaml_ng::Value> = serde_yaml_ng::Deserializer::from_str(&yaml)
                .map(|d| <serde_yaml_ng::Value as serde::Deserialize>::deserialize(d).unwrap())
                .collect();
            assert_eq!(documents.len(), imported.probes.len() + 1);
            for (document, probe) in documents.iter().zip(&imported.probes) {
                let back: ChaosProbe = serde_yaml_ng::from_value(document.clone()).unwrap();
                assert_eq!(back.spec, probe.spec);
                assert_eq!(back.metadata, probe.metadata);
            }
            let back: ChaosExperiment =
                serde_yaml_ng::from_value(documents.last().unwrap().clone()).unwrap();
            assert_eq!(back.spec, imported.experiment.spec);
            assert_eq!(back.metadata, imported.experiment.metadata);
        }
    }

    #[test]
    fn generated_names_fit_the_crds() {
        let long = r#"{"title": "A very long title that goes on and on about what the experiment really checks in production", "method": [
            {"type": "action", "name": "Terminate a pod of the web tier, randomly, with grace", "provider": {"type": "python",
             "module": "chaosk8s.pod.actions", "func": "terminate_pods"}},
            {"type": "action", "name": "Terminate a pod of the web tier, randomly, with grace", "provider": {"type": "python",
             "module": "chaosk8s.pod.actions", "func": "terminate_pods"}}]}"#;
        let imported = imported(long, &ImportOptions::default());
        let name = imported.experiment.metadata.name.clone().unwrap();
        assert!(is_dns_label(&name, MAX_EXPERIMENT_NAME), "{name}");
        let faults: Vec<&str> = imported
            .experiment
            .spec
            .faults
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        assert_eq!(
            faults[1],
            format!(
                "{}-2",
                &faults[0][..MAX_FAULT_NAME - 2].trim_end_matches('-')
            )
        );
        for fault in faults {
            assert!(is_dns_label(fault, MAX_FAULT_NAME), "{fault}");
        }
    }

    #[test]
    fn the_e2e_experiment_imports_with_its_namespace_from_the_environment() {
        let imported = imported(E2E, &env(&[("TARGET_NS", "ctk-e2e")]));
        let spec = &imported.experiment.spec;
        assert_eq!(
            imported.experiment.metadata.namespace.as_deref(),
            Some("ctk-e2e")
        );
        assert_eq!(spec.faults.len(), 1);
        assert_eq!(spec.faults[0].duration.to_string(), "20s");
        assert_eq!(spec.faults[0].target.mode, TargetMode::One);
        let steady = &spec.steady_state.as_ref().unwrap().probes;
        assert_eq!(
            http(&steady[0]).url,
            "http://web.ctk-e2e.svc.cluster.local/health"
        );
        let refusals = refused(E2E, &ImportOptions::default());
        assert_eq!(refusals[0].location, "configuration.ns");
    }

    #[test]
    fn the_documented_example_is_what_the_importer_prints() {
        let doc = include_str!("../../docs/chaostoolkit.md");
        let yaml = imported(POD_TERMINATION, &ImportOptions::default()).to_yaml();
        assert!(
            doc.contains(POD_TERMINATION) && doc.contains(&yaml),
            "docs/chaostoolkit.md must show tests/fixtures/chaostoolkit/pod-termination.json \
             and exactly this output:\n{yaml}"
        );
        let refusal = import(UNSUPPORTED, &ImportOptions::default()).unwrap_err();
        assert!(
            doc.contains(&refusal.to_string()),
            "docs/chaostoolkit.md must show exactly this refusal:\n{refusal}"
        );
    }
}
