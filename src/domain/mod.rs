//! Pure decisions with no client: states, scores, target selection, schedules and run triggers.

pub mod revert;
pub mod runs;
pub mod schedule;
pub mod scoring;
pub mod selection;
pub mod states;
