//! Pure decisions with no client: states, scores, target selection, schedules and run triggers.
