//! `faultline import litmus`: converts a Litmus ChaosEngine (its experiments, their env
//! tunables and probes) into a ChaosExperiment, reading the Litmus ChaosExperiment CRs given
//! alongside for their default env. Whatever has no equivalent is refused, all at once; what is
//! approximated is noted. The mapping is documented in docs/migrating.md.

mod faults;
pub mod model;
mod probes;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use self::faults::Env;
use self::model::{EngineSpec, EnvVar, ExperimentCrSpec};
use crate::api::{ChaosExperiment, ChaosExperimentSpec};
use crate::cli::findings::{Findings, ImportError, Imported, Origin};

pub use self::faults::EXPERIMENTS;

/// What the caller knows that the manifests do not.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// The experiment's namespace; default: the engine's, else "default".
    pub namespace: Option<String>,
    /// The experiment's name; default: the engine's.
    pub name: Option<String>,
}

/// The Litmus objects in `source`: the engines, and the default env of each ChaosExperiment CR.
struct Objects {
    engines: Vec<(usize, String, Option<String>, Value)>,
    defaults: BTreeMap<String, Vec<EnvVar>>,
}

fn objects(source: &str) -> Result<Objects, ImportError> {
    let mut out = Objects {
        engines: Vec::new(),
        defaults: BTreeMap::new(),
    };
    for (i, document) in serde_yaml_ng::Deserializer::from_str(source).enumerate() {
        let value = Value::deserialize(document).map_err(|source| ImportError::Parse {
            document: i + 1,
            source,
        })?;
        if !value["apiVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("litmuschaos.io/"))
        {
            continue;
        }
        let name = value["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        match value["kind"].as_str() {
            Some("ChaosEngine") => {
                let namespace = value["metadata"]["namespace"].as_str().map(str::to_owned);
                out.engines
                    .push((i + 1, name, namespace, value["spec"].clone()));
            }
            Some("ChaosExperiment") => {
                let spec: ExperimentCrSpec =
                    serde_json::from_value(value["spec"].clone()).unwrap_or_default();
                out.defaults.insert(name, spec.definition.env);
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Converts the ChaosEngine in `source` (YAML, with any ChaosExperiment CRs it uses).
pub fn import(source: &str, options: &ImportOptions) -> Result<Imported, ImportError> {
    let Objects { engines, defaults } = objects(source)?;
    let mut found = Findings::default();
    let [(document, name, engine_ns, spec)] = engines.as_slice() else {
        if engines.is_empty() {
            return Err(ImportError::Empty {
                expected: "Litmus ChaosEngine (apiVersion litmuschaos.io/v1alpha1)",
            });
        }
        let origin = Origin {
            location: "input".into(),
            name: String::new(),
            kind: "ChaosEngine",
            namespace: String::new(),
        };
        found.refuse(
            &origin,
            "",
            format!(
                "{} engines: import one ChaosEngine at a time",
                engines.len()
            ),
        );
        return Err(ImportError::Unsupported(found.unsupported));
    };
    let namespace = options
        .namespace
        .clone()
        .or(engine_ns.clone())
        .unwrap_or_else(|| "default".into());
    let origin = Origin {
        location: format!("document {document}"),
        name: name.clone(),
        kind: "ChaosEngine",
        namespace: namespace.clone(),
    };
    let spec: EngineSpec = serde_json::from_value(spec.clone()).map_err(|e| {
        let mut found = Findings::default();
        found.refuse(
            &origin,
            "spec",
            format!("is not a valid ChaosEngine spec: {e}"),
        );
        ImportError::Unsupported(found.unsupported)
    })?;
    let faults = convert(&spec, &defaults, &origin, &mut found);
    if !found.unsupported.is_empty() {
        return Err(ImportError::Unsupported(found.unsupported));
    }
    if faults.iter().all(|f| f.probes.is_empty()) {
        found.notes.push(
            "the engine has no probes: the experiment ends in Error until a probe is added".into(),
        );
    }
    let spec: ChaosExperimentSpec = serde_json::from_value(json!({ "faults": faults }))
        .expect("faults serialize and read back with the spec's defaults");
    let mut experiment =
        ChaosExperiment::new(&options.name.clone().unwrap_or_else(|| name.clone()), spec);
    experiment.metadata.namespace = Some(namespace);
    Ok(Imported {
        experiment,
        notes: found.notes,
    })
}

/// The engine's experiments as faults, in order (Litmus runs them one after the other).
fn convert(
    spec: &EngineSpec,
    defaults: &BTreeMap<String, Vec<EnvVar>>,
    origin: &Origin,
    found: &mut Findings,
) -> Vec<crate::api::Fault> {
    for key in spec.rest.keys() {
        if IGNORED_ENGINE_KEYS.contains(&key.as_str()) {
            found.note(origin, format!("{key} is ignored: it chooses how Litmus runs, and Faultline runs its own fault pods"));
        } else {
            found.refuse(
                origin,
                key,
                "has no Faultline equivalent, so it cannot be converted",
            );
        }
    }
    if spec.engine_state.as_deref() == Some("stop") {
        found.note(
            origin,
            "engineState stop: the experiment is imported with stop: false; apply it to run it",
        );
    }
    let target = target(spec, origin, found);
    let mut faults = Vec::new();
    for (i, experiment) in spec.experiments.iter().enumerate() {
        let at = Origin {
            location: format!("{} experiments[{i}]", origin.location),
            name: experiment.name.clone(),
            kind: "experiment",
            ..origin.clone()
        };
        for key in experiment
            .spec
            .rest
            .keys()
            .chain(experiment.spec.components.rest.keys())
        {
            found.refuse(
                &at,
                key,
                "has no Faultline equivalent, so it cannot be converted",
            );
        }
        let mut env: BTreeMap<String, String> = BTreeMap::new();
        for var in defaults
            .get(&experiment.name)
            .into_iter()
            .flatten()
            .chain(&experiment.spec.components.env)
        {
            env.insert(var.name.clone(), var.value.clone().unwrap_or_default());
        }
        let mut env = Env::new(env);
        let fault = faults::fault(
            &experiment.name,
            target.clone(),
            spec.appinfo.appkind.as_deref(),
            &mut env,
            &at,
            found,
        );
        if EXPERIMENTS
            .iter()
            .any(|(known, _)| *known == experiment.name)
        {
            // A refused experiment's tunables are not listed again.
            env.finish(&at, found);
        }
        let probes: Vec<_> = experiment
            .spec
            .probe
            .iter()
            .filter_map(|p| probes::probe(p, &at, found))
            .collect();
        if let Some(mut fault) = fault {
            fault.probes = probes;
            faults.push(fault);
        }
    }
    if faults.is_empty() && found.unsupported.is_empty() {
        found.refuse(origin, "experiments", "the engine lists no experiment");
    }
    faults
}

/// Engine keys that only choose how Litmus runs (its ServiceAccount, its job cleanup, ...).
const IGNORED_ENGINE_KEYS: &[&str] = &[
    "chaosServiceAccount",
    "jobCleanUpPolicy",
    "annotationCheck",
    "auxiliaryAppInfo",
    "components",
    "terminationGracePeriodSeconds",
];

/// appinfo as a pod target: the pods `applabel` selects, in `appns`.
fn target(spec: &EngineSpec, origin: &Origin, found: &mut Findings) -> Value {
    let mut target = json!({});
    if let Some(ns) = spec
        .appinfo
        .appns
        .as_deref()
        .filter(|ns| *ns != origin.namespace)
    {
        target["namespace"] = json!(ns);
    }
    if let Some(label) = spec.appinfo.applabel.as_deref().filter(|l| !l.is_empty()) {
        match crate::cli::chaostoolkit::parse_label_selector(label) {
            Ok(selector) => target["selector"] = json!(selector),
            Err(e) => found.refuse(origin, "appinfo.applabel", e),
        }
    }
    target
}
