//! pod-delete: deletes target pods, as Chaos Toolkit's terminate_pods and Litmus' pod-delete do.
//! Parameters: `gracePeriodSeconds` (default: the pod's own) and `force` (grace period 0).
//! Nothing is reverted: a deleted pod's owner (Deployment, StatefulSet, ...) replaces it, so each
//! ledger entry is marked reverted as soon as the delete is accepted.

use kube::{
    Api, Client,
    api::{DeleteParams, Preconditions},
};

use super::{Fault, FaultError};
use crate::{
    api::{FaultParameters, TargetAction, TargetRecord},
    domain::selection::Candidate,
};

/// Deletes pods.
pub struct PodDelete {
    client: Client,
    grace_period_seconds: Option<u32>,
}

impl PodDelete {
    pub fn new(client: Client, parameters: &FaultParameters) -> Self {
        PodDelete {
            client,
            grace_period_seconds: grace_period(parameters),
        }
    }

    fn delete_params(&self) -> DeleteParams {
        DeleteParams {
            grace_period_seconds: self.grace_period_seconds,
            preconditions: None::<Preconditions>,
            ..DeleteParams::default()
        }
    }
}

/// The grace period a delete uses: 0 with `force`, else `gracePeriodSeconds`, else the pod's own.
pub fn grace_period(parameters: &FaultParameters) -> Option<u32> {
    if parameters.force {
        Some(0)
    } else {
        parameters
            .grace_period_seconds
            .map(|s| u32::try_from(s).unwrap_or(u32::MAX))
    }
}

impl Fault for PodDelete {
    fn name(&self) -> &'static str {
        "pod-delete"
    }

    fn action(&self) -> TargetAction {
        TargetAction::Deleted
    }

    async fn inject(&self, pod: &Candidate) -> Result<(), FaultError> {
        let pods: Api<k8s_openapi::api::core::v1::Pod> =
            Api::namespaced(self.client.clone(), &pod.namespace);
        match pods.delete(&pod.name, &self.delete_params()).await {
            Ok(_) => Ok(()),
            // Already gone (e.g. replaced meanwhile): the desired effect holds.
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    async fn revert(&self, _record: &TargetRecord) -> Result<(), FaultError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn force_means_a_zero_grace_period() {
        let forced = FaultParameters {
            grace_period_seconds: Some(30),
            force: true,
        };
        assert_eq!(grace_period(&forced), Some(0));
        let graceful = FaultParameters {
            grace_period_seconds: Some(5),
            force: false,
        };
        assert_eq!(grace_period(&graceful), Some(5));
        assert_eq!(grace_period(&FaultParameters::default()), None);
    }
}
