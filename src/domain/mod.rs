//! Pure decisions with no client: states, scores, target selection, schedules, run triggers,
//! namespace opt-in and fault pod states.

pub mod fault_pod;
pub mod runs;
pub mod schedule;
pub mod scoring;
pub mod selection;
pub mod states;
pub mod tenancy;
