//! `faultline stop NAME`: stops the experiment's active run. The run reverts what it injected,
//! records Stopped, and later faults are Skipped. Unlike `spec.stop`, this blocks no future runs.

use kube::{
    Api, ResourceExt,
    api::{ListParams, Patch, PatchParams},
};
use serde_json::json;

use super::{CliError, Cluster};
use crate::api::{ChaosExperiment, ChaosResult, EXPERIMENT_LABEL, STOP_ANNOTATION};

pub async fn run(name: &str, namespace: Option<&str>) -> Result<String, CliError> {
    let cluster = Cluster::connect().await?;
    let namespace = cluster.namespace(namespace);
    let experiments: Api<ChaosExperiment> = Api::namespaced(cluster.client.clone(), &namespace);
    experiments
        .get(name)
        .await
        .map_err(|e| cluster.lookup_error(e, "chaosexperiment", name, &namespace))?;
    let results: Api<ChaosResult> = Api::namespaced(cluster.client.clone(), &namespace);
    let active: Vec<ChaosResult> = results
        .list(&ListParams::default().labels(&format!("{EXPERIMENT_LABEL}={name}")))
        .await
        .map_err(|e| cluster.error(format!("listing the results of {name}"), e))?
        .items
        .into_iter()
        .filter(|r| !r.status.as_ref().is_some_and(|s| s.phase.is_terminal()))
        .collect();
    if active.is_empty() {
        return Ok(format!(
            "chaosexperiment {name} has no active run; nothing to stop\n"
        ));
    }
    let patch = json!({"metadata": {"annotations": {STOP_ANNOTATION: "faultline stop"}}});
    let mut out = String::new();
    for result in active {
        results
            .patch(
                &result.name_any(),
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await
            .map_err(|e| cluster.error(format!("stopping chaosresult {}", result.name_any()), e))?;
        out.push_str(&format!(
            "chaosresult/{} stop requested\n",
            result.name_any()
        ));
    }
    Ok(out)
}
