//! The three activity lists: the steady-state hypothesis, the method and the rollbacks.

use std::collections::BTreeSet;

use serde_json::Value;

use super::MAX_FAULT_NAME;
use super::activities::{activity_name, provider_label};
use super::converter::{
    ActionDraft, Converted, Converter, FaultDraft, Pauses, ProbeDraft, Section,
};
use super::mapping;
use super::model::{Hypothesis, Kind, Lenient};
use super::names::{slug, unique_name};
use super::values::{seconds, short_json};

impl Converter<'_> {
    pub(super) fn steady_state(&mut self, hypothesis: Option<&Hypothesis>) -> Vec<ProbeDraft> {
        let Some(hypothesis) = hypothesis else {
            return Vec::new();
        };
        let mut probes = Vec::new();
        self.note_hypothesis_keys(hypothesis);
        if let Some(controls) = &hypothesis.controls {
            self.controls("steady-state-hypothesis.controls", controls);
        }
        let Some(list) = hypothesis.probes.as_ref().and_then(Lenient::typed) else {
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
    pub(super) fn method(&mut self, method: &[Value]) -> Vec<FaultDraft> {
        let mut plan = Plan::default();
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
            match converted {
                Converted::Action(action) => plan.action(&name, *action, pauses),
                Converted::Probe(probe) => {
                    self.note_method_probes_are_scored();
                    plan.probe(&name, *probe, pauses);
                }
                Converted::Revert(func) => self.refuse(
                    location,
                    name,
                    provider_label(&activity),
                    format!(
                        "{func} undoes an earlier action; Faultline reverts each fault itself when \
                         it ends, so a method has nothing for it to undo: delete it"
                    ),
                ),
            }
        }
        if !plan.leading_wait.is_empty() && !plan.faults.is_empty() {
            self.notes.push(format!(
                "dropped the waits before the first action ({}): they only delay the first fault, \
                 which Faultline starts right after the steady-state check",
                plan.leading_wait.join(", ")
            ));
        }
        if plan.faults.is_empty() && self.unsupported.is_empty() {
            self.refuse(
                "method",
                "method",
                "-",
                format!(
                    "the method has no action Faultline can inject, and an experiment needs at \
                     least one fault (supported: chaosk8s {})",
                    mapping::supported(Kind::Action)
                ),
            );
        }
        plan.faults
    }

    /// The hypothesis's title and the keys it does not define have nowhere to go: noted.
    fn note_hypothesis_keys(&mut self, hypothesis: &Hypothesis) {
        if let Some(title) = &hypothesis.title {
            self.notes.push(format!(
                "steady-state-hypothesis.title {} not kept: a ChaosExperiment's steadyState has \
                 no title (its probes keep their names)",
                short_json(title)
            ));
        }
        for key in hypothesis.rest.keys() {
            self.notes.push(format!(
                "steady-state-hypothesis.{key} ignored: it is not part of a Chaos Toolkit \
                 steady-state hypothesis, which ignores it too"
            ));
        }
    }

    fn note_method_probes_are_scored(&mut self) {
        if !self.scored_note {
            self.scored_note = true;
            self.notes.push(
                "method probes are scored: Chaos Toolkit only records them in its journal, while \
                 each becomes a probe of a fault here, and its verdict counts toward that fault's \
                 score"
                    .into(),
            );
        }
    }

    /// Rollbacks: Faultline reverts its faults itself (and owners replace deleted pods), so a
    /// rollback that only checks, or that undoes an action, is dropped with a note; a rollback
    /// that would inject chaos is refused.
    pub(super) fn rollbacks(&mut self, rollbacks: Option<&Vec<Value>>) {
        let Some(list) = rollbacks else {
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
                Some((_, Converted::Revert(func), _)) => self.notes.push(format!(
                    "{location} {name:?} dropped: {func} undoes an action, and Faultline reverts \
                     each fault itself when it ends (node faults uncordon the nodes they \
                     cordoned, network faults remove their rules, hogs stop)"
                )),
                Some(_) => self.refuse(
                    location,
                    name,
                    provider_label(&activity),
                    "a rollback that injects a fault adds chaos instead of undoing it; Faultline \
                     runs no rollback activities: each fault reverts itself (a workload-scale \
                     fault restores the replica count it found, so a rollback that scales the \
                     Deployment back can be deleted)",
                ),
                None => {}
            }
        }
    }
}

/// The method's faults as they are built, and what comes before the first one.
#[derive(Default)]
struct Plan {
    faults: Vec<FaultDraft>,
    /// Probes before the first action: checked at the start of the first fault (SOT).
    leading: Vec<ProbeDraft>,
    /// Pauses before the first action, which are dropped.
    leading_wait: Vec<String>,
    /// Fault names taken so far.
    names: BTreeSet<String>,
}

impl Plan {
    /// A new fault; the pause before it extends the window of the fault before.
    fn action(&mut self, name: &str, action: ActionDraft, pauses: Pauses) {
        let before = pauses.describe_before(name);
        let after = pauses.describe_after(name);
        if let Some(previous) = self.faults.last_mut() {
            previous.window += pauses.before;
            previous.window_parts.extend(before);
        } else {
            self.leading_wait.extend(before);
        }
        let fault_name = unique_name(
            &slug(name, MAX_FAULT_NAME),
            action.fault_type.as_str(),
            MAX_FAULT_NAME,
            &mut self.names,
        );
        self.faults.push(FaultDraft {
            name: fault_name,
            action,
            before: std::mem::take(&mut self.leading),
            after: Vec::new(),
            window: pauses.after,
            window_parts: after.into_iter().collect(),
        });
    }

    /// A probe checked after the fault before it (EOT), whose window its pauses extend.
    fn probe(&mut self, name: &str, probe: ProbeDraft, pauses: Pauses) {
        let before = pauses.describe_before(name);
        let after = pauses.describe_after(name);
        match self.faults.last_mut() {
            Some(previous) => {
                previous.window += pauses.before + pauses.after;
                previous.window_parts.extend(before);
                previous.window_parts.extend(after);
                previous.after.push(probe);
            }
            None => {
                self.leading_wait.extend(before);
                self.leading_wait.extend(after);
                self.leading.push(probe);
            }
        }
    }
}
