//! The ledger of one fault: `status.faults[name].targets` of the ChaosResult, applied under the
//! field manager [`FIELD_MANAGER`] by whoever holds it: the fault pod while it runs, the
//! operator's backstop once the pod is gone. Each change is recorded before it is made.

use kube::{
    Api,
    api::{Patch, PatchParams},
};
use serde_json::json;

use super::FaultError;
use crate::api::{ChaosResult, TargetRecord};

/// The field manager the ledger is applied under; it owns `status.faults[].targets`.
pub const FIELD_MANAGER: &str = "faultline-fault";

/// One fault's ledger and where it is written.
pub struct Ledger {
    api: Api<ChaosResult>,
    result: String,
    fault: String,
    pub records: Vec<TargetRecord>,
}

impl Ledger {
    /// The ledger of `fault` as `result` holds it now.
    pub fn of(api: Api<ChaosResult>, result: &ChaosResult, fault: &str) -> Self {
        let records = result
            .status
            .as_ref()
            .and_then(|s| s.faults.iter().find(|f| f.name == fault))
            .map(|f| f.targets.clone())
            .unwrap_or_default();
        Ledger {
            api,
            result: result.metadata.name.clone().unwrap_or_default(),
            fault: fault.into(),
            records,
        }
    }

    /// Records an entry (before its change is made) and returns its index.
    pub async fn push(&mut self, record: TargetRecord) -> Result<usize, FaultError> {
        self.records.push(record);
        self.apply().await?;
        Ok(self.records.len() - 1)
    }

    /// Changes entry `index` with `change`, then writes the ledger.
    pub async fn update(
        &mut self,
        index: usize,
        change: impl FnOnce(&mut TargetRecord),
    ) -> Result<(), FaultError> {
        change(&mut self.records[index]);
        self.apply().await
    }

    /// Writes the whole ledger (server-side apply, list-map by fault name).
    pub async fn apply(&self) -> Result<(), FaultError> {
        let patch = json!({
            "apiVersion": "chaos.faultline.dev/v1alpha1",
            "kind": "ChaosResult",
            "status": {"faults": [{"name": self.fault, "targets": self.records}]},
        });
        self.api
            .patch_status(
                &self.result,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(&patch),
            )
            .await?;
        Ok(())
    }
}
