//! The conversion's state (configuration, notes, refusals) and the drafts it builds before the
//! objects are assembled.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{ImportOptions, Unsupported};
use crate::api::{ChaosProbeSpec, FaultParameters, FaultType, Target};

/// A probe converted from a Chaos Toolkit probe.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct ProbeDraft {
    /// The Chaos Toolkit name.
    pub(super) name: String,
    pub(super) spec: ChaosProbeSpec,
}

/// What a Chaos Toolkit action becomes, before the method gives it a name and a window.
#[derive(Clone, Debug)]
pub(super) struct ActionDraft {
    pub(super) fault_type: FaultType,
    pub(super) target: Target,
    pub(super) parameters: FaultParameters,
}

/// A fault converted from a Chaos Toolkit action.
#[derive(Clone, Debug)]
pub(super) struct FaultDraft {
    pub(super) name: String,
    pub(super) action: ActionDraft,
    /// The method probes before it (only for the first fault: SOT).
    pub(super) before: Vec<ProbeDraft>,
    /// The method probes after it, up to the next action (EOT).
    pub(super) after: Vec<ProbeDraft>,
    /// Seconds from this action to the next one (or to the end of the method).
    pub(super) window: f64,
    /// Where the window's seconds came from, for the note.
    pub(super) window_parts: Vec<String>,
}

pub(super) struct AssemblyInput {
    pub(super) title: String,
    pub(super) description: Option<String>,
    pub(super) name: String,
    pub(super) namespace: String,
    pub(super) steady: Vec<ProbeDraft>,
    pub(super) plan: Vec<FaultDraft>,
}

/// What an activity converts to.
pub(super) enum Converted {
    Probe(Box<ProbeDraft>),
    Action(Box<ActionDraft>),
    /// An action that undoes another (its python function's name): Faultline reverts its
    /// faults itself.
    Revert(String),
}

/// Where an activity sits, which decides what a tolerance means.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Section {
    SteadyState,
    Method,
    Rollback,
}

pub(super) struct Converter<'a> {
    pub(super) options: &'a ImportOptions,
    /// The resolved `configuration`.
    pub(super) config: BTreeMap<String, Value>,
    /// Activities by name, for `ref` (Chaos Toolkit looks them up in all three sections).
    pub(super) library: BTreeMap<String, Value>,
    pub(super) notes: Vec<String>,
    pub(super) unsupported: Vec<Unsupported>,
    /// The first explicit `ns` argument, the experiment's namespace unless one is given.
    pub(super) first_ns: Option<String>,
    /// Activities without `ns`, which Chaos Toolkit runs in namespace "default".
    pub(super) implicit_ns: Vec<String>,
    /// Whether the note on how method probes are scored was given.
    pub(super) scored_note: bool,
    /// Configuration keys that were refused; what refers to them is not refused again.
    pub(super) failed_keys: BTreeSet<String>,
    /// Whether the value being substituted names a refused configuration key.
    pub(super) uses_failed_key: bool,
}

impl<'a> Converter<'a> {
    pub(super) fn new(options: &'a ImportOptions) -> Self {
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

    pub(super) fn refuse(
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
}

/// An activity's pauses, in seconds.
#[derive(Clone, Copy, Default)]
pub(super) struct Pauses {
    pub(super) before: f64,
    pub(super) after: f64,
}

impl Pauses {
    pub(super) fn describe_before(&self, name: &str) -> Option<String> {
        (self.before > 0.0).then(|| format!("{}s before {name:?}", self.before))
    }

    pub(super) fn describe_after(&self, name: &str) -> Option<String> {
        (self.after > 0.0).then(|| format!("{}s after {name:?}", self.after))
    }
}
