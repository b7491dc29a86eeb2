//! Leader election on a Lease in the operator's namespace. Every replica serves /metrics and
//! /readyz; only the holder of the Lease runs the controllers and the run drivers. A follower
//! takes the Lease within its duration once the leader stops renewing it (or at once when the
//! leader released it), and resumes every run in flight from the ChaosResult status.

use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::coordination::v1::Lease;
use kube::{
    Api,
    runtime::{WatchStreamExt, watcher},
};
use kube_lease_manager::{LeaseManager, LeaseManagerBuilder};
use tokio::{sync::watch, task::JoinHandle};

/// The Lease's name, in the operator's namespace.
pub const LEASE_NAME: &str = "faultline-operator";

/// How a replica takes part in the election.
#[derive(Clone, Debug)]
pub struct Election {
    /// This replica's name in the Lease's holderIdentity: its pod name.
    pub identity: String,
    /// How long a Lease stays held without renewal; the longest a failover waits.
    pub lease_duration: Duration,
}

impl Election {
    /// Renewals start this long before the Lease would expire: a third of the duration, so
    /// two renewals can fail before a follower may take over.
    fn grace(&self) -> u64 {
        (self.lease_duration.as_secs() / 3).max(1)
    }
}

/// The Lease held by this replica, renewed in the background until released or lost.
pub struct Leadership {
    state: watch::Receiver<bool>,
    task: JoinHandle<kube_lease_manager::Result<LeaseManager>>,
}

/// Waits until this replica holds the Lease. Errors are API errors at the start; afterwards
/// the manager retries with backoff on its own.
///
/// The manager sleeps until the Lease it last read expires, so on its own it would wait out
/// the whole duration after a leader released the Lease on its way out. A watch on the Lease
/// cuts that short: when the Lease shows no holder, the manager is started again and takes it
/// at once (two replicas racing for it are kept apart by server-side apply's field ownership).
pub async fn acquire(
    client: &kube::Client,
    namespace: &str,
    election: &Election,
) -> Result<Leadership, kube_lease_manager::LeaseManagerError> {
    let leases: Api<Lease> = Api::namespaced(client.clone(), namespace);
    let released = watcher(
        leases,
        watcher::Config::default().fields(&format!("metadata.name={LEASE_NAME}")),
    )
    .default_backoff()
    .applied_objects()
    .filter_map(|lease| async move { lease.ok().filter(is_free).map(|_| ()) });
    let mut released = std::pin::pin!(released);
    tracing::info!(lease = LEASE_NAME, identity = %election.identity, "standing by for the Lease");
    loop {
        let (mut state, task) = start(client, namespace, election).await?.watch().await;
        loop {
            if *state.borrow_and_update() {
                tracing::info!(lease = LEASE_NAME, identity = %election.identity, "took the Lease: leading");
                return Ok(Leadership { state, task });
            }
            tokio::select! {
                changed = state.changed() => {
                    if changed.is_err() {
                        // The manager ended: it only does so on an error, which the join reports.
                        return Err(match task.await {
                            Ok(Err(err)) => err,
                            _ => kube_lease_manager::LeaseManagerError::InconsistentState(
                                "the lease manager stopped".into(),
                            ),
                        });
                    }
                }
                Some(()) = released.next() => {
                    tracing::debug!(lease = LEASE_NAME, "the Lease is free; trying for it now");
                    task.abort();
                    break;
                }
            }
        }
    }
}

async fn start(
    client: &kube::Client,
    namespace: &str,
    election: &Election,
) -> kube_lease_manager::Result<LeaseManager> {
    LeaseManagerBuilder::new(client.clone(), LEASE_NAME)
        .with_namespace(namespace)
        .with_identity(&election.identity)
        .with_duration(election.lease_duration.as_secs())
        .with_grace(election.grace())
        .with_field_manager(format!("faultline-leader-{}", election.identity))
        .build()
        .await
}

/// A Lease nobody holds: released by its last holder, or never taken.
fn is_free(lease: &Lease) -> bool {
    lease
        .spec
        .as_ref()
        .and_then(|spec| spec.holder_identity.as_deref())
        .is_none_or(str::is_empty)
}

impl Leadership {
    /// Resolves when the Lease is no longer held: another replica took it after renewals
    /// failed for longer than the grace period, or the manager stopped.
    pub async fn lost(&mut self) {
        loop {
            if self.state.changed().await.is_err() || !*self.state.borrow_and_update() {
                return;
            }
        }
    }

    /// Gives the Lease up so a follower may take it without waiting for it to expire; waits at
    /// most `timeout` for the API server.
    pub async fn release(self, timeout: Duration) {
        let Leadership { state, task } = self;
        drop(state);
        match tokio::time::timeout(timeout, task).await {
            Ok(Ok(Ok(_))) => tracing::info!(lease = LEASE_NAME, "released the Lease"),
            Ok(Ok(Err(err))) => {
                tracing::warn!(%err, "could not release the Lease; it expires on its own")
            }
            Ok(Err(err)) => tracing::warn!(%err, "the lease manager failed"),
            Err(_) => tracing::warn!("releasing the Lease timed out; it expires on its own"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewals_start_a_third_of_the_duration_before_expiry() {
        let election = |secs| Election {
            identity: "a".into(),
            lease_duration: Duration::from_secs(secs),
        };
        assert_eq!(election(15).grace(), 5);
        assert_eq!(election(2).grace(), 1);
    }

    #[test]
    fn a_lease_without_a_holder_is_free() {
        use k8s_openapi::api::coordination::v1::LeaseSpec;
        let lease = |holder: Option<&str>| Lease {
            spec: Some(LeaseSpec {
                holder_identity: holder.map(String::from),
                ..LeaseSpec::default()
            }),
            ..Lease::default()
        };
        assert!(is_free(&lease(None)));
        assert!(is_free(&lease(Some(""))));
        assert!(is_free(&Lease::default()));
        assert!(!is_free(&lease(Some("faultline-abc"))));
    }
}
