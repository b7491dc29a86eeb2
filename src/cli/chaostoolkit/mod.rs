//! `faultline import chaostoolkit`: converts a Chaos Toolkit experiment (JSON or YAML) into a
//! ChaosExperiment and the ChaosProbes it references. Whatever has no faithful equivalent is
//! refused, all of it listed at once; nothing is dropped without a note. The mapping is
//! documented in docs/chaostoolkit.md.

mod activities;
mod assemble;
mod chaosmesh;
mod configuration;
mod converter;
mod deployment;
mod http;
mod mapping;
mod method;
mod model;
pub(crate) mod names;
mod netpol;
mod nodes;
mod pods;
mod python;
mod selector;
mod top_level;
mod values;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use crate::api::{ChaosExperiment, ChaosProbe};
use crate::cli::defaults::minimal_yaml;
use converter::{AssemblyInput, Converter};
use model::{Experiment, Hypothesis, Lenient};
use names::{check_dns_label, slug};
use values::kind_of;

pub use selector::parse_label_selector;

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
    let experiment = model::from_mapping::<Experiment>(&document).ok_or_else(|| {
        ImportError::NotAnExperiment {
            reason: format!(
                "the document is {}, not a mapping with a title and a method",
                kind_of(&document)
            ),
        }
    })?;
    let mut missing = Vec::new();
    let title = experiment.title.as_ref().and_then(Lenient::typed);
    if title.is_none_or(|t| t.trim().is_empty()) {
        missing.push("no \"title\"");
    }
    let method = experiment.method.as_ref().and_then(Lenient::typed);
    if method.is_none_or(|m| m.is_empty()) {
        missing.push("no \"method\" with at least one activity");
    }
    if !missing.is_empty() {
        return Err(ImportError::NotAnExperiment {
            reason: format!("it has {}", missing.join(" and ")),
        });
    }
    let title = title.map_or("", String::as_str).trim().to_string();
    if let Some(name) = &options.name {
        check_dns_label("--name", name, MAX_EXPERIMENT_NAME)?;
    }
    if let Some(namespace) = &options.namespace {
        check_dns_label("--namespace", namespace, 63)?;
    }

    let mut converter = Converter::new(options);
    converter.top_level(&experiment);
    converter.load_configuration(experiment.configuration.as_ref());
    let hypothesis =
        (experiment.steady_state_hypothesis.as_ref()).and_then(model::from_mapping::<Hypothesis>);
    let rollbacks = experiment.rollbacks.as_ref().and_then(Lenient::typed);
    let method = method.map(Vec::as_slice).unwrap_or_default();
    converter.index_activities(hypothesis.as_ref(), method, rollbacks);

    let steady = converter.steady_state(hypothesis.as_ref());
    let plan = converter.method(method);
    converter.rollbacks(rollbacks);

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
    let description = (experiment.description.as_ref())
        .and_then(Lenient::typed)
        .cloned();
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
    /// Multi-document YAML: a leading comment, the ChaosProbes, then the ChaosExperiment, each
    /// without the fields that equal their CRD schema's default.
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
            out.push_str(&minimal_yaml(probe, "ChaosProbe"));
        }
        out.push_str("---\n");
        out.push_str(&minimal_yaml(&self.experiment, "ChaosExperiment"));
        out
    }
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
