//! Leader election on a Lease in the operator's namespace. Every replica serves /metrics and
//! /readyz; only the holder of the Lease runs the controllers and the run drivers. A follower
//! takes the Lease within its duration once the leader stops renewing it (or at once when the
//! leader released it), and resumes every run in flight from the ChaosResult status.

use std::time::{Duration, SystemTime};

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

    /// When a leader whose last renewal is `renewed`, and none seen since, starts reading the
    /// Lease: half the grace after its renewal was due, so a retry or two fit in between.
    fn step_down_at(&self, renewed: SystemTime) -> SystemTime {
        let grace_ms = self.grace() * 1000;
        renewed + self.lease_duration - Duration::from_millis(grace_ms / 2)
    }

    /// When a leader whose last renewal is `renewed` stops, unless it has confirmed a newer
    /// one: a quarter of the grace before the Lease expires, so it has stopped before a follower
    /// may take over.
    fn must_stop_at(&self, renewed: SystemTime) -> SystemTime {
        let grace_ms = self.grace() * 1000;
        renewed + self.lease_duration - Duration::from_millis(grace_ms / 4)
    }
}

/// The Lease held by this replica, renewed in the background until released or lost.
pub struct Leadership {
    state: watch::Receiver<bool>,
    task: JoinHandle<kube_lease_manager::Result<LeaseManager>>,
    /// The Lease as the API server has it: renewals this replica can see, or another holder.
    lease: futures::stream::BoxStream<'static, Lease>,
    /// To read the Lease when the watch has shown no renewal for too long.
    leases: Api<Lease>,
    election: Election,
    /// The Lease's last renewal when this replica took it ([`renewed_at`]).
    acquired: SystemTime,
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
    let released = lease_changes(client, namespace)
        .filter_map(|lease| async move { is_free(&lease).then_some(()) });
    let mut released = std::pin::pin!(released);
    tracing::info!(lease = LEASE_NAME, identity = %election.identity, "standing by for the Lease");
    loop {
        let (mut state, task) = start(client, namespace, election).await?.watch().await;
        loop {
            if *state.borrow_and_update() {
                tracing::info!(lease = LEASE_NAME, identity = %election.identity, "took the Lease: leading");
                let leases = Api::namespaced(client.clone(), namespace);
                let acquired = renewed_at(&leases, &election.identity).await;
                return Ok(Leadership {
                    state,
                    task,
                    lease: lease_changes(client, namespace),
                    leases,
                    election: election.clone(),
                    acquired,
                });
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

/// Every change of the Lease, as a watch sees it.
fn lease_changes(
    client: &kube::Client,
    namespace: &str,
) -> futures::stream::BoxStream<'static, Lease> {
    let leases: Api<Lease> = Api::namespaced(client.clone(), namespace);
    watcher(
        leases,
        watcher::Config::default().fields(&format!("metadata.name={LEASE_NAME}")),
    )
    .default_backoff()
    .applied_objects()
    .filter_map(|lease| async move { lease.ok() })
    .boxed()
}

/// The last renewal of the Lease this replica has just taken, as the API server has it. A
/// replica restarted under the same identity (its pod name) finds the Lease still its own and
/// is told "leader" without a new renewal, so its own clock would overstate how long the Lease
/// has left. If the Lease cannot be read, the time is now: the first check in
/// [`Leadership::lost`] reads it again.
async fn renewed_at(leases: &Api<Lease>, identity: &str) -> SystemTime {
    let now = SystemTime::now();
    match leases.get(LEASE_NAME).await {
        Ok(lease) => lease
            .spec
            .filter(|spec| spec.holder_identity.as_deref() == Some(identity))
            .and_then(|spec| spec.renew_time)
            .map_or(now, |time| SystemTime::from(time.0).min(now)),
        Err(err) => {
            tracing::warn!(%err, "could not read the Lease just taken");
            now
        }
    }
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
    /// Resolves when this replica must stop leading: another replica holds the Lease, the
    /// manager stopped, or no renewal can be confirmed in time. The manager retries a failed
    /// renewal and keeps saying "leader" meanwhile, so an API server this replica cannot reach
    /// would leave two leaders. Renewals come through a watch of the Lease; when none has come
    /// by [`Election::step_down_at`] (a busy API server delays renewals and watch events), the
    /// Lease is read, again every half second, and the replica stops at
    /// [`Election::must_stop_at`] unless a read shows a newer renewal first.
    pub async fn lost(&mut self) {
        let mut renewed = self.acquired;
        let mut next_read = SystemTime::UNIX_EPOCH;
        loop {
            let limit = self.election.must_stop_at(renewed);
            let check = self
                .election
                .step_down_at(renewed)
                .max(next_read)
                .min(limit);
            let wait = check.duration_since(SystemTime::now()).unwrap_or_default();
            tokio::select! {
                changed = self.state.changed() => {
                    if changed.is_err() || !*self.state.borrow_and_update() {
                        return;
                    }
                }
                Some(lease) = self.lease.next() => match self.renewal(lease) {
                    Some(time) => renewed = renewed.max(time),
                    None => return,
                },
                _ = tokio::time::sleep(wait) => {
                    let left = limit.duration_since(SystemTime::now()).unwrap_or_default();
                    if left.is_zero() {
                        tracing::error!(
                            lease = LEASE_NAME,
                            "no renewal of the Lease confirmed in time; stepping down before it expires"
                        );
                        return;
                    }
                    // A failed or slow read is tried again until the limit.
                    let read = self.leases.get(LEASE_NAME);
                    if let Ok(Ok(lease)) = tokio::time::timeout(left, read).await {
                        match self.renewal(lease) {
                            Some(time) => renewed = renewed.max(time),
                            None => return,
                        }
                    }
                    next_read = SystemTime::now() + Duration::from_millis(500);
                }
            }
        }
    }

    /// The renewal time of `lease` if this replica holds it; None (and a log line) if another does.
    fn renewal(&self, lease: Lease) -> Option<SystemTime> {
        let spec = lease.spec.unwrap_or_default();
        if spec.holder_identity.as_deref() != Some(self.election.identity.as_str()) {
            tracing::error!(holder = ?spec.holder_identity, "the Lease has another holder");
            return None;
        }
        Some(
            spec.renew_time
                .map(|t| SystemTime::from(t.0))
                .unwrap_or(SystemTime::UNIX_EPOCH),
        )
    }

    /// Gives the Lease up so a follower may take it without waiting for it to expire; waits at
    /// most `timeout` for the API server.
    pub async fn release(self, timeout: Duration) {
        let Leadership { state, task, .. } = self;
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
    fn a_leader_reads_the_lease_after_its_renewal_was_due_and_stops_before_it_expires() {
        let election = |secs| Election {
            identity: "a".into(),
            lease_duration: Duration::from_secs(secs),
        };
        let renewed = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let after = |e: &Election| e.step_down_at(renewed).duration_since(renewed).unwrap();
        let stop = |e: &Election| e.must_stop_at(renewed).duration_since(renewed).unwrap();
        // 15 s: renewals are due 10 s after the last, a follower may take over at 15 s.
        assert_eq!(after(&election(15)), Duration::from_millis(12_500));
        assert_eq!(stop(&election(15)), Duration::from_millis(13_750));
        assert_eq!(after(&election(3)), Duration::from_millis(2_500));
        assert_eq!(stop(&election(3)), Duration::from_millis(2_750));
        for secs in [3, 15, 60, 300] {
            let e = election(secs);
            let due = e.lease_duration - Duration::from_secs(e.grace());
            assert!(due < after(&e) && after(&e) < stop(&e), "{secs}");
            assert!(stop(&e) < e.lease_duration, "{secs}");
        }
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
