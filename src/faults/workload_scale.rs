//! workload-scale: sets a Deployment, StatefulSet or ReplicaSet to `workloadScale.replicas` for
//! the duration, then restores the count it recorded. Both changes are JSON patches with a `test`
//! of the expected value, so the revert never overwrites a count someone changed meanwhile: it
//! records the entry as Drifted instead. The workload carries the annotation
//! `chaos.faultline.dev/scaled-by` while scaled, so a second fault refuses it instead of recording
//! the first fault's count as its own original. It refuses a workload that a
//! HorizontalPodAutoscaler scales, since the autoscaler would undo the fault and fight the revert.

use futures::future::BoxFuture;
use kube::{
    Api, Client,
    api::{DynamicObject, ListParams, PatchParams},
    core::{ApiResource, GroupVersionKind},
};
use serde_json::{Value, json};

use super::{
    Env, Executor, FaultError, FaultKind, Prepared, Reverted, Rule, Scope, TargetRef, json_patch,
    targets::workload_api,
};
use crate::api::{self, FaultType, TargetAction, TargetKind, TargetRecord};

pub static KIND: FaultKind = FaultKind {
    fault_type: FaultType::WorkloadScale,
    scope: Scope::Workloads,
    sustained: true,
    action: TargetAction::Scaled,
    rules: &[
        Rule {
            groups: &["apps"],
            resources: &["deployments", "statefulsets", "replicasets"],
            verbs: &["get", "list", "patch"],
            why: "read the replica count, then set it and restore it with JSON patches that test the expected value",
        },
        Rule {
            groups: &["autoscaling"],
            resources: &["horizontalpodautoscalers"],
            verbs: &["list"],
            why: "refuse a workload that a HorizontalPodAutoscaler scales",
        },
    ],
    cluster_rules: &[],
    revert_wording: "restored the recorded replica count unless someone changed it meanwhile",
    pod_overrides: super::no_overrides,
    placement: super::Placement::Api,
    build,
};

/// The annotation a scaled workload carries: `<namespace>/<result>/<fault>`.
pub const SCALED_BY: &str = "chaos.faultline.dev/scaled-by";
/// [`SCALED_BY`] as a JSON pointer segment ('/' escaped as '~1').
const SCALED_BY_POINTER: &str = "/metadata/annotations/chaos.faultline.dev~1scaled-by";

fn build(client: Client, fault: &api::Fault, env: &Env) -> Box<dyn Executor> {
    let replicas = fault
        .parameters
        .workload_scale
        .as_ref()
        .map_or(0, |p| p.replicas);
    Box::new(WorkloadScale {
        client,
        replicas,
        mark: format!("{}/{}", env.result, env.fault),
    })
}

struct WorkloadScale {
    client: Client,
    replicas: i32,
    /// This fault's mark on the workloads it scales.
    mark: String,
}

fn mark_of(workload: &DynamicObject) -> Option<&str> {
    workload
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(SCALED_BY))
        .map(String::as_str)
}

fn target_kind(kind: &str) -> TargetKind {
    match kind {
        "StatefulSet" => TargetKind::StatefulSet,
        "ReplicaSet" => TargetKind::ReplicaSet,
        _ => TargetKind::Deployment,
    }
}

/// The JSON patch that moves `/spec/replicas` from `from` to `to`, or fails if it is not `from`.
pub fn replicas_patch(from: i64, to: i64) -> Value {
    json!([
        {"op": "test", "path": "/spec/replicas", "value": from},
        {"op": "replace", "path": "/spec/replicas", "value": to},
    ])
}

/// The scale patch plus the op that marks the workload (`has_annotations`: the map exists).
pub fn scale_and_mark(from: i64, to: i64, mark: &str, has_annotations: bool) -> Value {
    let mut ops = replicas_patch(from, to);
    let add = if has_annotations {
        json!({"op": "add", "path": SCALED_BY_POINTER, "value": mark})
    } else {
        json!({"op": "add", "path": "/metadata/annotations", "value": {SCALED_BY: mark}})
    };
    ops.as_array_mut().expect("a list of operations").push(add);
    ops
}

/// The revert patch: back from `set` to `original`, removing the mark only if it is `mark`.
pub fn restore_and_unmark(set: i64, original: i64, mark: &str) -> Value {
    let mut ops = replicas_patch(set, original);
    let ops_list = ops.as_array_mut().expect("a list of operations");
    ops_list.push(json!({"op": "test", "path": SCALED_BY_POINTER, "value": mark}));
    ops_list.push(json!({"op": "remove", "path": SCALED_BY_POINTER}));
    ops
}

/// What a revert that found `current` replicas (not the fault's `set`) means.
pub fn revert_found(current: i64, set: i64, original: i64) -> Reverted {
    if current == original {
        Reverted::done(Some(format!("replicas were already back at {original}")))
    } else {
        Reverted::drifted(format!(
            "replicas are {current}, not the {set} the fault set: someone changed them, so they \
             are left as they are (the original count was {original})"
        ))
    }
}

impl WorkloadScale {
    fn api(&self, record_kind: &str, namespace: &str) -> Api<DynamicObject> {
        workload_api(&self.client, namespace, target_kind(record_kind))
    }

    /// The HorizontalPodAutoscaler that scales `target`, if any.
    async fn autoscaler_of(&self, target: &TargetRef) -> Result<Option<String>, FaultError> {
        let resource = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("autoscaling", "v2", "HorizontalPodAutoscaler"),
            "horizontalpodautoscalers",
        );
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.client.clone(), &target.namespace, &resource);
        let hpas = api.list(&ListParams::default()).await?;
        Ok(hpas.items.into_iter().find_map(|hpa| {
            let scales = hpa.data.pointer("/spec/scaleTargetRef");
            let kind = scales.and_then(|s| s["kind"].as_str());
            let name = scales.and_then(|s| s["name"].as_str());
            (kind == Some(target.kind.as_str()) && name == Some(target.name.as_str()))
                .then(|| hpa.metadata.name.clone().unwrap_or_default())
        }))
    }

    /// Removes this fault's mark, if the workload still carries it.
    async fn unmark(&self, record: &TargetRecord) -> Result<(), FaultError> {
        let patch = json!([
            {"op": "test", "path": SCALED_BY_POINTER, "value": self.mark},
            {"op": "remove", "path": SCALED_BY_POINTER},
        ]);
        let removed = self
            .api(&record.kind, &record.namespace)
            .patch(&record.name, &PatchParams::default(), &json_patch(patch))
            .await
            .map_err(FaultError::from);
        match removed {
            Err(err) if !is_failed_test(&err) => Err(err),
            _ => Ok(()),
        }
    }

    async fn current(&self, record: &TargetRecord) -> Result<i64, FaultError> {
        let workload = self
            .api(&record.kind, &record.namespace)
            .get(&record.name)
            .await?;
        Ok(replicas_of(&workload))
    }
}

fn replicas_of(workload: &DynamicObject) -> i64 {
    workload
        .data
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1)
}

fn original_of(record: &TargetRecord) -> Result<i64, FaultError> {
    record
        .original
        .as_deref()
        .and_then(|o| o.parse().ok())
        .ok_or_else(|| {
            FaultError::Refused(format!(
                "{} has no recorded replica count",
                record.display()
            ))
        })
}

fn is_failed_test(err: &FaultError) -> bool {
    err.status_code() == Some(422)
}

impl Executor for WorkloadScale {
    fn prepare<'a>(&'a self, target: &'a TargetRef) -> BoxFuture<'a, Result<Prepared, FaultError>> {
        Box::pin(async move {
            if let Some(hpa) = self.autoscaler_of(target).await? {
                return Err(FaultError::Refused(format!(
                    "HorizontalPodAutoscaler {hpa} scales {} {}/{}: it would undo the fault and \
                     fight the revert; target a workload without an autoscaler",
                    target.kind, target.namespace, target.name
                )));
            }
            let workload = self
                .api(&target.kind, &target.namespace)
                .get(&target.name)
                .await?;
            if let Some(other) = mark_of(&workload).filter(|m| *m != self.mark) {
                return Err(FaultError::Refused(format!(
                    "{} {}/{} is already scaled by the fault {other}; two faults scaling one \
                     workload would restore each other's counts",
                    target.kind, target.namespace, target.name
                )));
            }
            Ok(Prepared::Go {
                original: Some(replicas_of(&workload).to_string()),
            })
        })
    }

    fn inject<'a>(
        &'a self,
        record: &'a TargetRecord,
    ) -> BoxFuture<'a, Result<Vec<TargetRecord>, FaultError>> {
        Box::pin(async move {
            let original = original_of(record)?;
            let api = self.api(&record.kind, &record.namespace);
            let has_annotations = api.get(&record.name).await?.metadata.annotations.is_some();
            let patch = scale_and_mark(
                original,
                i64::from(self.replicas),
                &self.mark,
                has_annotations,
            );
            api.patch(&record.name, &PatchParams::default(), &json_patch(patch))
                .await?;
            Ok(vec![])
        })
    }

    fn revert<'a>(
        &'a self,
        record: &'a TargetRecord,
    ) -> BoxFuture<'a, Result<Reverted, FaultError>> {
        Box::pin(async move {
            let original = original_of(record)?;
            let set = i64::from(self.replicas);
            let patch = restore_and_unmark(set, original, &self.mark);
            let patched = self
                .api(&record.kind, &record.namespace)
                .patch(&record.name, &PatchParams::default(), &json_patch(patch))
                .await
                .map_err(FaultError::from);
            match patched {
                Ok(_) => Ok(Reverted::done(Some(format!(
                    "replicas restored from {set} to {original}"
                )))),
                Err(err) if is_failed_test(&err) => {
                    let current = self.current(record).await?;
                    self.unmark(record).await?;
                    Ok(revert_found(current, set, original))
                }
                Err(err) => Err(err),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::LedgerState;

    #[test]
    fn the_patch_tests_the_value_it_replaces() {
        assert_eq!(
            replicas_patch(3, 0),
            json!([
                {"op": "test", "path": "/spec/replicas", "value": 3},
                {"op": "replace", "path": "/spec/replicas", "value": 0},
            ])
        );
    }

    #[test]
    fn the_mark_is_added_with_the_scale_and_removed_only_if_it_is_ours() {
        let with_map = scale_and_mark(3, 0, "shop/run-1/scale", true);
        assert_eq!(with_map[2]["path"], SCALED_BY_POINTER);
        let without_map = scale_and_mark(3, 0, "shop/run-1/scale", false);
        assert_eq!(without_map[2]["value"][SCALED_BY], "shop/run-1/scale");
        let revert = restore_and_unmark(0, 3, "shop/run-1/scale");
        assert_eq!(
            revert[2],
            json!({"op": "test", "path": SCALED_BY_POINTER, "value": "shop/run-1/scale"})
        );
        assert_eq!(revert[3]["op"], "remove");
    }

    #[test]
    fn a_count_changed_by_someone_else_is_drift_and_left_alone() {
        let drift = revert_found(5, 0, 3);
        assert_eq!(drift.state, LedgerState::Drifted);
        assert!(drift.message.unwrap().contains("replicas are 5, not the 0"));
        // Never scaled (the entry was Injecting) or already restored: nothing to do.
        assert_eq!(revert_found(3, 0, 3).state, LedgerState::Reverted);
    }
}
