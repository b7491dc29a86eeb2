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
use crate::api::{ChaosResult, FaultPodExit, TargetRecord};

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
    /// The fault pod's report of its end, once written; kept by every later apply.
    pub exit: Option<FaultPodExit>,
}

impl Ledger {
    /// The ledger of `fault` as `result` holds it now.
    pub fn of(api: Api<ChaosResult>, result: &ChaosResult, fault: &str) -> Self {
        let status = result
            .status
            .as_ref()
            .and_then(|s| s.faults.iter().find(|f| f.name == fault));
        Ledger {
            api,
            result: result.metadata.name.clone().unwrap_or_default(),
            fault: fault.into(),
            records: status.map(|f| f.targets.clone()).unwrap_or_default(),
            exit: status.and_then(|f| f.pod_exit.clone()),
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

    /// Records the fault pod's end (its reverts done) and writes the ledger: the run driver
    /// acts on it without waiting for the kubelet to report the pod.
    pub async fn finish(&mut self, error: Option<String>) -> Result<(), FaultError> {
        self.exit = Some(FaultPodExit {
            time: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                k8s_openapi::jiff::Timestamp::now(),
            ),
            error,
        });
        self.apply().await
    }

    /// Writes the whole ledger (server-side apply, list-map by fault name).
    pub async fn apply(&self) -> Result<(), FaultError> {
        let mut fault = json!({"name": self.fault, "targets": self.records});
        if let Some(exit) = &self.exit {
            fault["podExit"] = json!(exit);
        }
        let patch = json!({
            "apiVersion": "chaos.faultline.dev/v1alpha1",
            "kind": "ChaosResult",
            "status": {"faults": [fault]},
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    use http_body_util::BodyExt;

    use crate::api::{ChaosResultStatus, FaultStatus, TargetAction};

    /// A fake API server that keeps each request's JSON body and answers with an empty result.
    pub(crate) fn recording_api_server() -> (kube::Client, Arc<Mutex<Vec<serde_json::Value>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let service = tower::service_fn(move |req: hyper::Request<kube::client::Body>| {
            let log = log.clone();
            async move {
                let body = req.into_body().collect().await.unwrap().to_bytes();
                log.lock()
                    .unwrap()
                    .push(serde_json::from_slice(&body).unwrap());
                let answer = json!({
                    "apiVersion": "chaos.faultline.dev/v1alpha1", "kind": "ChaosResult",
                    "metadata": {"name": "web-1", "namespace": "shop"},
                    "spec": {"experimentRef": "web", "runNumber": 1, "trigger": "create",
                             "experiment": {"faults": []}}
                });
                Ok::<_, std::convert::Infallible>(hyper::Response::new(kube::client::Body::from(
                    serde_json::to_vec(&answer).unwrap(),
                )))
            }
        });
        (kube::Client::new(service, "shop"), seen)
    }

    pub(crate) fn result_with(fault: Option<FaultStatus>) -> ChaosResult {
        let mut result: ChaosResult = serde_json::from_value(json!({
            "apiVersion": "chaos.faultline.dev/v1alpha1", "kind": "ChaosResult",
            "metadata": {"name": "web-1", "namespace": "shop"},
            "spec": {"experimentRef": "web", "runNumber": 1, "trigger": "create",
                     "experiment": {"faults": []}}
        }))
        .unwrap();
        result.status = Some(ChaosResultStatus {
            faults: fault.into_iter().collect(),
            ..ChaosResultStatus::default()
        });
        result
    }

    #[tokio::test]
    async fn the_exit_report_is_applied_with_the_ledger_and_kept_by_later_applies() {
        let (client, seen) = recording_api_server();
        let api: Api<ChaosResult> = Api::namespaced(client, "shop");
        let mut ledger = Ledger::of(api.clone(), &result_with(None), "kill");
        ledger
            .push(TargetRecord::new(
                "Pod",
                "shop",
                "web-x",
                TargetAction::Deleted,
            ))
            .await
            .unwrap();
        ledger.finish(Some("boom".into())).await.unwrap();
        let applied = seen.lock().unwrap().clone();
        assert_eq!(applied.len(), 2);
        assert!(applied[0]["status"]["faults"][0].get("podExit").is_none());
        let fault = &applied[1]["status"]["faults"][0];
        assert_eq!(fault["name"], "kill");
        assert_eq!(fault["targets"][0]["name"], "web-x");
        assert_eq!(fault["podExit"]["error"], "boom");

        // The backstop, reverting later under the same field manager, keeps the report.
        let status: FaultStatus = serde_json::from_value(json!({
            "name": "kill", "type": "pod-delete", "status": "Running", "weight": 1,
            "targets": fault["targets"], "podExit": fault["podExit"]
        }))
        .unwrap();
        let backstop = Ledger::of(api, &result_with(Some(status)), "kill");
        backstop.apply().await.unwrap();
        let applied = seen.lock().unwrap().clone();
        assert_eq!(
            applied[2]["status"]["faults"][0]["podExit"]["error"],
            "boom"
        );
    }
}
