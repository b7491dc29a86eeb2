//! Pure decisions with no client: states, scores, target selection, schedules, run triggers and
//! namespace opt-in.

pub mod runs;
pub mod schedule;
pub mod scoring;
pub mod selection;
pub mod states;
pub mod tenancy;
