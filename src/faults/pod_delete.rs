//! pod-delete: deletes target pods, as Chaos Toolkit's terminate_pods and Litmus' pod-delete do.
//! Parameters (`podDelete`): `gracePeriodSeconds` (default: the pod's own) and `force` (grace
//! period 0). Nothing is reverted: a deleted pod's owner (Deployment, StatefulSet, ...) replaces
//! it, so each ledger entry is settled as soon as the delete is accepted.

use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::Pod;
use kube::{Api, Client, api::DeleteParams};

use super::{Env, Executor, FaultError, FaultKind, Prepared, Reverted, Rule, Scope, TargetRef};
use crate::api::{self, FaultType, PodDeleteParameters, TargetAction, TargetRecord};

pub static KIND: FaultKind = FaultKind {
    fault_type: FaultType::PodDelete,
    scope: Scope::Pods,
    sustained: false,
    action: TargetAction::Deleted,
    rules: &[
        Rule {
            groups: &[""],
            resources: &["pods"],
            verbs: &["get", "list", "delete"],
            why: "find the target pods and delete them",
        },
        Rule {
            groups: &["apps"],
            resources: &["deployments", "statefulsets", "daemonsets", "replicasets"],
            verbs: &["get", "list"],
            why: "resolve a workload target to its pod selector",
        },
    ],
    cluster_rules: &[],
    revert_wording: "pod-delete needs no revert: owners replace deleted pods",
    pod_overrides: super::no_overrides,
    placement: super::Placement::Api,
    build,
};

fn build(client: Client, fault: &api::Fault, _env: &Env) -> Box<dyn Executor> {
    let parameters = fault.parameters.pod_delete.clone().unwrap_or_default();
    Box::new(PodDelete {
        client,
        grace_period_seconds: grace_period(&parameters),
    })
}

/// Deletes pods.
struct PodDelete {
    client: Client,
    grace_period_seconds: Option<u32>,
}

/// The grace period a delete uses: 0 with `force`, else `gracePeriodSeconds`, else the pod's own.
pub fn grace_period(parameters: &PodDeleteParameters) -> Option<u32> {
    if parameters.force {
        Some(0)
    } else {
        parameters
            .grace_period_seconds
            .map(|s| u32::try_from(s).unwrap_or(u32::MAX))
    }
}

impl Executor for PodDelete {
    fn prepare<'a>(&'a self, _: &'a TargetRef) -> BoxFuture<'a, Result<Prepared, FaultError>> {
        Box::pin(async { Ok(Prepared::Go { original: None }) })
    }

    fn inject<'a>(
        &'a self,
        record: &'a TargetRecord,
    ) -> BoxFuture<'a, Result<Vec<TargetRecord>, FaultError>> {
        Box::pin(async move {
            let pods: Api<Pod> = Api::namespaced(self.client.clone(), &record.namespace);
            let params = DeleteParams {
                grace_period_seconds: self.grace_period_seconds,
                ..DeleteParams::default()
            };
            match pods.delete(&record.name, &params).await {
                Ok(_) => Ok(vec![]),
                // Already gone (e.g. replaced meanwhile): the desired effect holds.
                Err(kube::Error::Api(status)) if status.code == 404 => Ok(vec![]),
                Err(err) => Err(err.into()),
            }
        })
    }

    fn revert<'a>(&'a self, _: &'a TargetRecord) -> BoxFuture<'a, Result<Reverted, FaultError>> {
        Box::pin(async { Ok(Reverted::done(None)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn force_means_a_zero_grace_period() {
        let forced = PodDeleteParameters {
            grace_period_seconds: Some(30),
            force: true,
        };
        assert_eq!(grace_period(&forced), Some(0));
        let graceful = PodDeleteParameters {
            grace_period_seconds: Some(5),
            force: false,
        };
        assert_eq!(grace_period(&graceful), Some(5));
        assert_eq!(grace_period(&PodDeleteParameters::default()), None);
    }
}
