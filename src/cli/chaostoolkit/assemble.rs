//! Builds the objects from the drafts: shared probes, probe modes, fault windows.

use std::collections::{BTreeMap, BTreeSet};

use super::converter::{AssemblyInput, Converter, FaultDraft, ProbeDraft};
use super::names::{slug, unique_name};
use super::values::seconds;
use super::{CTK_DEFAULT_NS, Imported, MAX_PROBE_NAME};
use crate::api::{
    ChaosExperiment, ChaosExperimentSpec, ChaosProbe, ChaosProbeSpec, ConcurrencyPolicy, Duration,
    Fault, FaultType, ProbeEntry, ProbeMode, SteadyState,
};

impl Converter<'_> {
    /// Builds the objects: shared probes become ChaosProbes, namespaces equal to the
    /// experiment's are left implicit, and each fault's window becomes its duration.
    pub(super) fn assemble(mut self, input: AssemblyInput) -> Imported {
        let AssemblyInput {
            title,
            description,
            name,
            namespace,
            steady,
            plan,
        } = input;
        self.note_implicit_namespaces(&namespace);
        let localise = |probe| localise(probe, &namespace);
        let steady: Vec<ProbeDraft> = steady.into_iter().map(localise).collect();
        let fault_entries: Vec<Vec<(ProbeDraft, ProbeMode)>> = plan
            .iter()
            .map(|fault| probe_modes(fault, &localise))
            .collect();
        let used = steady
            .iter()
            .chain(fault_entries.iter().flatten().map(|(p, _)| p));
        let mut entries = Entries {
            shared: shared_probes(used, &name),
            display_names: BTreeMap::new(),
        };
        let steady_entries: Vec<ProbeEntry> = steady
            .iter()
            .map(|p| entries.entry(p, ProbeMode::Eot))
            .collect();
        let mut faults = Vec::new();
        for (fault, modes) in plan.into_iter().zip(fault_entries) {
            let probes: Vec<ProbeEntry> = modes.iter().map(|(p, m)| entries.entry(p, *m)).collect();
            self.note_fault(&fault, &modes);
            faults.push(fault_of(fault, probes, &namespace));
        }
        let mut experiment = ChaosExperiment::new(&name, experiment_spec(faults, steady_entries));
        experiment.metadata.namespace = Some(namespace.clone());
        let probes = (entries.shared.into_iter())
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

    fn note_implicit_namespaces(&mut self, namespace: &str) {
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
    }

    /// How long a fault lasts and why, and the modes of its method probes.
    fn note_fault(&mut self, fault: &FaultDraft, modes: &[(ProbeDraft, ProbeMode)]) {
        let (window, interval) = window_and_interval(fault.window);
        let modes: Vec<String> = modes
            .iter()
            .map(|(p, m)| format!("{:?} {}", p.name, m.as_str()))
            .collect();
        let what = match fault.action.fault_type {
            FaultType::PodDelete => format!("deletes once (interval {interval})"),
            _ if fault.window <= 0.0 => "is reverted at once: set its duration to how long the \
                 change should hold"
                .to_string(),
            _ => "is reverted when it ends".to_string(),
        };
        self.notes.push(format!(
            "fault {:?} lasts {window} ({}) and {what}{}",
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
    }
}

/// A k8s probe in the experiment's namespace names none.
fn localise(mut probe: ProbeDraft, namespace: &str) -> ProbeDraft {
    if let Some(k8s) = probe.spec.k8s.as_mut()
        && k8s.namespace.as_deref() == Some(namespace)
    {
        k8s.namespace = None;
    }
    probe
}

/// A fault's probes with their modes: a probe both before and after the fault is one Edge probe.
fn probe_modes(
    fault: &FaultDraft,
    localise: &impl Fn(ProbeDraft) -> ProbeDraft,
) -> Vec<(ProbeDraft, ProbeMode)> {
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
    entries
}

/// The probes used more than once, each with its ChaosProbe name `<experiment>-<probe>`.
fn shared_probes<'p>(
    used: impl Iterator<Item = &'p ProbeDraft>,
    experiment: &str,
) -> Vec<(ProbeDraft, String)> {
    let mut registry: Vec<(ProbeDraft, usize)> = Vec::new();
    for probe in used {
        match registry.iter_mut().find(|(p, _)| p == probe) {
            Some((_, uses)) => *uses += 1,
            None => registry.push((probe.clone(), 1)),
        }
    }
    let mut probe_names = BTreeSet::new();
    let mut shared = Vec::new();
    for (probe, uses) in registry {
        if uses > 1 {
            // `<experiment>-<probe>`, shortening the experiment's part first.
            let own = slug(&probe.name, MAX_PROBE_NAME / 2);
            let budget = MAX_PROBE_NAME - own.len() - 1;
            let mut prefix = slug(experiment, budget);
            if prefix.len() < experiment.len()
                && experiment.as_bytes().get(prefix.len()) != Some(&b'-')
            {
                // Cut at a word boundary rather than inside a word.
                prefix.truncate(prefix.rfind('-').unwrap_or(prefix.len()));
            }
            let base = slug(&format!("{prefix}-{own}"), MAX_PROBE_NAME);
            let probe_name = unique_name(&base, "probe", MAX_PROBE_NAME, &mut probe_names);
            shared.push((probe, probe_name));
        }
    }
    shared
}

/// Probe entries: a reference to a shared probe, else the probe inline under a unique name.
struct Entries {
    shared: Vec<(ProbeDraft, String)>,
    /// The inline probes' names so far, with their specs.
    display_names: BTreeMap<String, ChaosProbeSpec>,
}

impl Entries {
    fn entry(&mut self, probe: &ProbeDraft, mode: ProbeMode) -> ProbeEntry {
        if let Some((_, reference)) = self.shared.iter().find(|(p, _)| p == probe) {
            return ProbeEntry {
                probe_ref: Some(reference.clone()),
                probe: None,
                name: None,
                mode,
            };
        }
        let mut display: String = probe.name.chars().take(MAX_PROBE_NAME).collect();
        let mut n = 2;
        while self
            .display_names
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
        self.display_names
            .insert(display.clone(), probe.spec.clone());
        ProbeEntry {
            probe_ref: None,
            probe: Some(probe.spec.clone()),
            name: Some(display),
            mode,
        }
    }
}

/// A fault lasts its window and deletes once in it (every second when it has none).
fn window_and_interval(window: f64) -> (Duration, Duration) {
    let duration = seconds(window);
    let interval = if window > 0.0 {
        duration
    } else {
        Duration::from_secs(1)
    };
    (duration, interval)
}

fn fault_of(fault: FaultDraft, probes: Vec<ProbeEntry>, namespace: &str) -> Fault {
    let (duration, interval) = window_and_interval(fault.window);
    let mut target = fault.action.target;
    if target.namespace.as_deref() == Some(namespace) {
        target.namespace = None;
    }
    Fault {
        name: fault.name,
        fault_type: fault.action.fault_type,
        weight: 10,
        target,
        duration,
        interval,
        parameters: fault.action.parameters,
        probes,
    }
}

fn experiment_spec(faults: Vec<Fault>, steady: Vec<ProbeEntry>) -> ChaosExperimentSpec {
    ChaosExperimentSpec {
        faults,
        parallel: false,
        steady_state: (!steady.is_empty()).then_some(SteadyState { probes: steady }),
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
    }
}
