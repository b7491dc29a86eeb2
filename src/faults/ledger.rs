//! The ledger of one fault: `status.faults[name].targets` of the ChaosResult, applied under the
//! fault's own field manager ([`field_manager`]) by whoever holds it: the fault pod while it runs,
//! the operator's backstop once the pod is gone. Each change is recorded before it is made. One
//! manager per fault matters: parallel faults apply their ledgers at the same time, and a manager
//! shared between them would drop the other fault's entries at every apply.

use kube::{
    Api,
    api::{Patch, PatchParams},
};
use serde_json::json;

use super::FaultError;
use crate::api::{ChaosResult, TargetRecord};

/// The field manager `fault`'s ledger is applied under; it owns `status.faults[fault].targets`.
pub fn field_manager(fault: &str) -> String {
    format!("faultline-fault-{fault}")
}

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
                &PatchParams::apply(&field_manager(&self.fault)).force(),
                &Patch::Apply(&patch),
            )
            .await?;
        Ok(())
    }
}
