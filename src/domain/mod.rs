//! Pure decisions with no client: states, containers as the node sees them, scores, target selection, schedules, run triggers,
//! namespace opt-in, probe verdicts, fault pod states, how faults end a run, and the revert plan.

pub mod containers;
pub mod fault_pod;
pub mod io_stress;
pub mod packets;
pub mod placement;
pub mod probe_verdicts;
pub mod revert;
pub mod run_end;
pub mod runs;
pub mod schedule;
pub mod scoring;
pub mod selection;
pub mod selector;
pub mod states;
pub mod tenancy;
