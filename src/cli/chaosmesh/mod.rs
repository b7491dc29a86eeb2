//! `faultline import chaosmesh`: converts Chaos Mesh manifests (PodChaos, NetworkChaos,
//! StressChaos, DNSChaos, a Schedule of one of them, or a Workflow of Serial or Parallel steps)
//! into one ChaosExperiment. Whatever has no faithful equivalent is refused, all of it listed at
//! once; whatever is approximated is noted. The mapping is documented in docs/migrating.md.

pub(crate) mod convert;
pub mod model;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;
use serde_json::Value;

use self::convert::{Findings, Origin};
use self::model::{Metadata, ScheduleSpec, WorkflowSpec};
use crate::api::{
    ChaosExperiment, ChaosExperimentSpec, ChaosProbeSpec, ConcurrencyPolicy, Duration, Fault,
    ProbeEntry, ProbeMode, RunProperties,
};
use crate::cli::chaostoolkit::Unsupported;
use crate::cli::chaostoolkit::names::{slug, unique_name};
pub use crate::cli::findings::{ImportError, Imported};

/// What the caller knows that the manifests do not.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// The experiment's namespace; default: the first manifest's, else "default".
    pub namespace: Option<String>,
    /// The experiment's name; default: the first manifest's.
    pub name: Option<String>,
    /// Add to each fault an EOT probe that the Deployments its target's labels select are
    /// Available.
    pub probe_available: bool,
}

/// The Chaos Mesh kinds Faultline converts.
const CHAOS_KINDS: [&str; 4] = ["PodChaos", "NetworkChaos", "StressChaos", "DNSChaos"];

/// Chaos Mesh kinds Faultline has no equivalent for, with the reason.
const REFUSED_KINDS: &[(&str, &str)] = &[
    ("TimeChaos", "Faultline has no clock fault"),
    (
        "IOChaos",
        "Faultline has no I/O error or latency fault (pod-io-stress loads the disk instead)",
    ),
    ("HTTPChaos", "Faultline has no HTTP fault"),
    ("KernelChaos", "Faultline has no kernel fault"),
    ("JVMChaos", "Faultline has no JVM fault"),
    ("BlockChaos", "Faultline has no block device fault"),
    (
        "PhysicalMachineChaos",
        "Faultline acts on Kubernetes objects, not on machines outside the cluster",
    ),
    ("AWSChaos", "Faultline has no cloud provider faults"),
    ("GCPChaos", "Faultline has no cloud provider faults"),
    ("AzureChaos", "Faultline has no cloud provider faults"),
];

/// One parsed manifest with where it came from.
struct Manifest {
    document: usize,
    kind: String,
    metadata: Metadata,
    spec: Value,
}

fn documents(source: &str) -> Result<Vec<Manifest>, ImportError> {
    let mut out = Vec::new();
    for (i, document) in serde_yaml_ng::Deserializer::from_str(source).enumerate() {
        let value = Value::deserialize(document).map_err(|source| ImportError::Parse {
            document: i + 1,
            source,
        })?;
        let is_chaos_mesh = value["apiVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("chaos-mesh.org/"));
        if !is_chaos_mesh {
            continue;
        }
        out.push(Manifest {
            document: i + 1,
            kind: value["kind"].as_str().unwrap_or_default().to_owned(),
            metadata: serde_json::from_value(value["metadata"].clone()).unwrap_or_default(),
            spec: value["spec"].clone(),
        });
    }
    Ok(out)
}

/// What the manifests add up to.
#[derive(Default)]
struct Assembly {
    faults: Vec<Fault>,
    parallel: bool,
    schedule: Option<ScheduleSpec>,
    found: Findings,
}

/// Converts the Chaos Mesh manifests in `source` (YAML, one or more documents).
pub fn import(source: &str, options: &ImportOptions) -> Result<Imported, ImportError> {
    let manifests = documents(source)?;
    let first = manifests.first().ok_or(ImportError::Empty {
        expected: "Chaos Mesh object (apiVersion chaos-mesh.org/v1alpha1)",
    })?;
    let namespace = options
        .namespace
        .clone()
        .or_else(|| first.metadata.namespace.clone())
        .unwrap_or_else(|| "default".into());
    let name = options
        .name
        .clone()
        .unwrap_or_else(|| first.metadata.name.clone());
    let mut assembly = Assembly::default();
    let alone = manifests.len() == 1;
    for manifest in &manifests {
        add(manifest, &namespace, alone, &mut assembly);
    }
    let Assembly {
        mut faults,
        parallel,
        schedule,
        mut found,
    } = assembly;
    if !found.unsupported.is_empty() {
        return Err(ImportError::Unsupported(found.unsupported));
    }
    unique_names(&mut faults);
    if options.probe_available {
        add_probes(&mut faults, &mut found.notes);
    } else {
        found.notes.push("Chaos Mesh has no probes or score: the experiment ends in Error until a probe is added (--probe-available adds a k8s Available probe on each fault's workload)".into());
    }
    let mut spec: ChaosExperimentSpec =
        serde_json::from_value(serde_json::json!({ "faults": faults }))
            .expect("faults serialize and read back with the spec's defaults");
    spec.parallel = parallel;
    if let Some(s) = schedule {
        apply_schedule(&mut spec, &s);
    }
    let experiment = ChaosExperiment {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: Some(namespace),
            ..ObjectMeta::default()
        },
        spec,
        status: None,
    };
    Ok(Imported {
        experiment,
        notes: found.notes,
    })
}

/// One manifest's faults into the assembly.
fn add(manifest: &Manifest, namespace: &str, alone: bool, assembly: &mut Assembly) {
    let origin = Origin {
        location: format!("document {}", manifest.document),
        name: manifest.metadata.name.clone(),
        kind: "",
        namespace: manifest
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| namespace.to_owned()),
    };
    match manifest.kind.as_str() {
        "Schedule" | "Workflow" if !alone => assembly.found.refuse(
            &Origin { kind: "Schedule", ..origin },
            &manifest.kind,
            "a Schedule or Workflow becomes an experiment of its own: import it from a file of its own",
        ),
        "Schedule" => schedule(manifest, origin, assembly),
        "Workflow" => workflow(manifest, origin, assembly),
        kind => {
            let faults = chaos(kind, &manifest.spec, &origin, &mut assembly.found);
            if faults.len() > 1 && alone {
                assembly.parallel = true;
            } else if faults.len() > 1 {
                let note = format!("{kind} {:?}: its stressors become faults that run one after the other, with the rest of the file's", origin.name);
                assembly.found.notes.push(note);
            }
            assembly.faults.extend(faults);
        }
    }
}

/// A chaos kind's spec (top level, or embedded) to faults.
fn chaos(kind: &str, spec: &Value, origin: &Origin, found: &mut Findings) -> Vec<Fault> {
    fn typed<T: serde::de::DeserializeOwned>(
        spec: &Value,
        origin: &Origin,
        found: &mut Findings,
    ) -> Option<T> {
        serde_json::from_value(spec.clone())
            .map_err(|e| {
                found.refuse(
                    origin,
                    "spec",
                    format!("is not a valid {} spec: {e}", origin.kind),
                )
            })
            .ok()
    }
    let mut origin = origin.clone();
    match kind {
        "PodChaos" => {
            origin.kind = "PodChaos";
            typed(spec, &origin, found)
                .map(|s| convert::pod_chaos(&s, &origin, found))
                .unwrap_or_default()
        }
        "NetworkChaos" => {
            origin.kind = "NetworkChaos";
            typed(spec, &origin, found)
                .map(|s| convert::network_chaos(&s, &origin, found))
                .unwrap_or_default()
        }
        "StressChaos" => {
            origin.kind = "StressChaos";
            typed(spec, &origin, found)
                .map(|s| convert::stress_chaos(&s, &origin, found))
                .unwrap_or_default()
        }
        "DNSChaos" => {
            origin.kind = "DNSChaos";
            typed(spec, &origin, found)
                .map(|s| convert::dns_chaos(&s, &origin, found))
                .unwrap_or_default()
        }
        other => {
            let reason = REFUSED_KINDS
                .iter()
                .find(|(k, _)| *k == other)
                .map_or("is not a Chaos Mesh kind Faultline converts (PodChaos, NetworkChaos, StressChaos, DNSChaos, Schedule, Workflow)", |(_, r)| r);
            found.unsupported.push(Unsupported {
                location: origin.location.clone(),
                name: origin.name.clone(),
                provider: other.to_owned(),
                reason: reason.to_owned(),
            });
            Vec::new()
        }
    }
}

fn schedule(manifest: &Manifest, origin: Origin, assembly: &mut Assembly) {
    let origin = Origin {
        kind: "Schedule",
        ..origin
    };
    let spec: ScheduleSpec = match serde_json::from_value(manifest.spec.clone()) {
        Ok(s) => s,
        Err(e) => {
            return assembly.found.refuse(
                &origin,
                "spec",
                format!("is not a valid Schedule spec: {e}"),
            );
        }
    };
    let field = embedded_field(&spec.chaos_type);
    let mut rest = spec.rest.clone();
    rest.remove(&field);
    assembly.found.refuse_rest(&origin, "", &rest);
    match manifest.spec.get(field.as_str()) {
        Some(chaos_spec) => {
            let faults = chaos(&spec.chaos_type, chaos_spec, &origin, &mut assembly.found);
            assembly.faults.extend(faults);
        }
        None => assembly.found.refuse(
            &origin,
            &spec.chaos_type,
            format!("the Schedule has no {field} block"),
        ),
    }
    assembly.schedule = Some(spec);
}

/// The field a Schedule or template embeds a kind's spec under: its leading word in lower case,
/// as in PodChaos in podChaos, DNSChaos in dnsChaos and IOChaos in ioChaos.
fn embedded_field(kind: &str) -> String {
    let upper = kind.chars().take_while(char::is_ascii_uppercase).count();
    // In an acronym followed by a word (DNSChaos), the word's capital stays.
    let lower = if upper > 1 && upper < kind.len() {
        upper - 1
    } else {
        upper
    };
    kind[..lower].to_ascii_lowercase() + &kind[lower..]
}

fn apply_schedule(spec: &mut ChaosExperimentSpec, schedule: &ScheduleSpec) {
    spec.schedule = Some(schedule.schedule.clone());
    if let Some(limit) = schedule.history_limit {
        spec.history_limit = limit.clamp(1, 100);
    }
    spec.concurrency_policy = match schedule.concurrency_policy.as_deref() {
        Some("Allow") => ConcurrencyPolicy::Allow,
        _ => ConcurrencyPolicy::Forbid,
    };
    spec.starting_deadline_seconds = schedule.starting_deadline_seconds;
}

fn workflow(manifest: &Manifest, origin: Origin, assembly: &mut Assembly) {
    let origin = Origin {
        kind: "Workflow",
        ..origin
    };
    let spec: WorkflowSpec = match serde_json::from_value(manifest.spec.clone()) {
        Ok(s) => s,
        Err(e) => {
            return assembly.found.refuse(
                &origin,
                "spec",
                format!("is not a valid Workflow spec: {e}"),
            );
        }
    };
    assembly.found.refuse_rest(&origin, "", &spec.rest);
    let Some(entry) = spec.templates.iter().find(|t| t.name == spec.entry) else {
        return assembly.found.refuse(
            &origin,
            "entry",
            format!("names no template {:?}", spec.entry),
        );
    };
    assembly
        .found
        .refuse_rest(&origin, "the entry's ", &entry.rest);
    match entry.template_type.as_str() {
        "Serial" => assembly.parallel = false,
        "Parallel" => assembly.parallel = true,
        other => {
            return assembly.found.refuse(
                &origin,
                other,
                "the entry template must be Serial or Parallel",
            );
        }
    }
    let templates: Vec<&serde_json::Map<String, Value>> = manifest.spec["templates"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default();
    for (child, raw) in entry.children.iter().map(|c| {
        (
            c,
            templates
                .iter()
                .find(|t| t.get("name").and_then(Value::as_str) == Some(c.as_str())),
        )
    }) {
        let step = Origin {
            name: child.clone(),
            location: format!("{} template {child}", origin.location),
            ..origin.clone()
        };
        let Some(raw) = raw else {
            assembly
                .found
                .refuse(&step, "children", "names no template");
            continue;
        };
        let kind = raw
            .get("templateType")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let field = embedded_field(kind);
        let known = ["name", "templateType", "deadline", field.as_str()];
        for key in raw.keys().filter(|k| !known.contains(&k.as_str())) {
            let reason = "has no Faultline equivalent, so it cannot be converted";
            assembly.found.refuse(&step, key, reason);
        }
        let is_chaos = CHAOS_KINDS.contains(&kind) || REFUSED_KINDS.iter().any(|(k, _)| *k == kind);
        let Some(chaos_spec) = raw.get(field.as_str()).filter(|_| is_chaos) else {
            assembly.found.refuse(&step, kind, "only chaos steps convert: Faultline runs faults back to back or all at once, with no nested Serial or Parallel, Suspend, Task or StatusCheck step");
            continue;
        };
        let mut chaos_spec = chaos_spec.clone();
        if let Some(deadline) = raw
            .get("deadline")
            .filter(|_| chaos_spec.get("duration").is_none())
        {
            chaos_spec["duration"] = deadline.clone();
        }
        let faults = chaos(kind, &chaos_spec, &step, &mut assembly.found);
        assembly.faults.extend(faults);
    }
}

/// Fault names: DNS labels of at most 32 characters, unique.
fn unique_names(faults: &mut [Fault]) {
    let mut taken = BTreeSet::new();
    for fault in faults {
        fault.name = unique_name(&slug(&fault.name, 32), "fault", 32, &mut taken);
    }
}

/// `--probe-available`: each fault whose target selects pods by label gets an EOT probe that
/// the Deployments with those labels are Available.
fn add_probes(faults: &mut [Fault], notes: &mut Vec<String>) {
    for fault in faults {
        let Some(selector) = fault.target.selector.clone() else {
            notes.push(format!(
                "fault {}: no probe added, its target names pods rather than labels",
                fault.name
            ));
            continue;
        };
        fault.probes.push(ProbeEntry {
            probe_ref: None,
            name: Some("available".into()),
            mode: ProbeMode::Eot,
            probe: Some(ChaosProbeSpec::deployments_available(
                None,
                Some(selector),
                fault.target.namespace.clone(),
                RunProperties {
                    timeout: Duration::from_secs(5),
                    ..RunProperties::default()
                },
            )),
        });
        notes.push(format!(
            "fault {}: probe available checks the Deployments labelled like its target pods",
            fault.name
        ));
    }
}
