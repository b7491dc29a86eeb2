//! The revert plan: which ledger entries still need a revert, which count as reverted, and how a
//! failed revert is treated. The fault pod and the operator's backstop share these rules.

use crate::api::TargetRecord;

/// The indices of the entries still to revert, newest first (undo in reverse order).
pub fn pending(records: &[TargetRecord]) -> Vec<usize> {
    (0..records.len())
        .rev()
        .filter(|&i| !records[i].state.is_settled())
        .collect()
}

/// What a failed revert means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RevertFailure {
    /// The target is gone (404): nothing is left to undo, which counts as reverted.
    TargetGone,
    /// Anything else: try again later.
    Retry,
}

/// Sorts a failed revert by the HTTP status of its API error (None: not an API error).
pub fn classify_failure(status: Option<u16>) -> RevertFailure {
    match status {
        Some(404) => RevertFailure::TargetGone,
        _ => RevertFailure::Retry,
    }
}

/// The entries still in place or possibly in place, as "Kind ns/name" for messages.
pub fn unsettled(records: &[TargetRecord]) -> Vec<String> {
    records
        .iter()
        .filter(|r| !r.state.is_settled())
        .map(TargetRecord::display)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{LedgerState, TargetAction};

    fn entry(name: &str, state: LedgerState) -> TargetRecord {
        let mut r = TargetRecord::new("Deployment", "shop", name, TargetAction::Scaled);
        r.state = state;
        r
    }

    #[test]
    fn only_unsettled_entries_are_pending_newest_first() {
        let records = vec![
            entry("a", LedgerState::Injected),
            entry("b", LedgerState::Reverted),
            entry("c", LedgerState::Injecting),
            entry("d", LedgerState::Drifted),
            entry("e", LedgerState::TargetGone),
            entry("f", LedgerState::Abandoned),
        ];
        assert_eq!(pending(&records), vec![2, 0]);
        assert_eq!(
            unsettled(&records),
            vec!["Deployment shop/a", "Deployment shop/c"]
        );
    }

    #[test]
    fn a_missing_target_counts_as_reverted_and_anything_else_is_retried() {
        assert_eq!(classify_failure(Some(404)), RevertFailure::TargetGone);
        assert_eq!(classify_failure(Some(403)), RevertFailure::Retry);
        assert_eq!(classify_failure(Some(409)), RevertFailure::Retry);
        assert_eq!(classify_failure(None), RevertFailure::Retry);
    }

    #[test]
    fn settling_keeps_reverted_in_step() {
        let mut r = entry("a", LedgerState::Injected);
        r.settle(LedgerState::Drifted, "operator", Some("changed".into()));
        assert!(r.reverted && r.state.is_settled());
        assert_eq!(r.reverted_by.as_deref(), Some("operator"));
        r.settle(LedgerState::Abandoned, "operator", None);
        assert!(!r.reverted && r.state.is_settled());
        assert_eq!(r.message.as_deref(), Some("changed"));
    }
}
