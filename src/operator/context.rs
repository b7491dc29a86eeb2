//! What every reconcile and run needs: the client, stores, recorder, metrics and settings.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use kube::{
    Client, Resource,
    runtime::{
        events::{Event, EventType, Recorder, Reporter},
        reflector::Store,
    },
};

use k8s_openapi::api::core::v1::Pod;

use super::metrics::Metrics;
use crate::api::{ChaosExperiment, ChaosProbe, ChaosResult};

/// The watch caches the controllers and drivers read instead of the API server.
pub struct Stores {
    pub experiments: Store<ChaosExperiment>,
    pub results: Store<ChaosResult>,
    pub probes: Store<ChaosProbe>,
    pub fault_pods: Store<Pod>,
}

/// Settings parsed once at start; nothing reads the environment inside a reconcile.
#[derive(Clone, Debug)]
pub struct Config {
    /// The image fault pods and cmd-probe pods run: the operator's own.
    pub image: String,
    /// The operator's namespace.
    pub namespace: String,
    /// Namespaces whose experiments are reconciled; empty means all.
    pub watch_namespaces: Vec<String>,
    pub metrics_addr: SocketAddr,
    /// Namespaces whose experiments may run node faults; empty means none may.
    pub node_target_namespaces: Vec<String>,
    /// Label `namespace` for the privileged Pod Security level at start (network fault pods).
    pub label_namespace_privileged: bool,
    /// Leader election on a Lease in `namespace`; `None` runs the controllers at once (one
    /// replica only).
    pub election: Option<super::leader::Election>,
}

impl Config {
    pub fn watches(&self, namespace: &str) -> bool {
        self.watch_namespaces.is_empty() || self.watch_namespaces.iter().any(|n| n == namespace)
    }
}

/// Shared by the controllers and the run drivers.
pub struct Context {
    pub client: Client,
    /// The configuration `client` was built from; the backstop derives impersonating clients.
    pub kube_config: kube::Config,
    pub config: Config,
    pub metrics: Arc<Metrics>,
    pub recorder: Recorder,
    pub experiments: Store<ChaosExperiment>,
    pub results: Store<ChaosResult>,
    /// ChaosProbes, whose Ready condition an experiment's own reflects.
    pub probes: Store<ChaosProbe>,
    /// Fault pods (label app.kubernetes.io/component=fault), so drivers watch instead of polling.
    pub fault_pods: Store<Pod>,
    /// The run drivers in flight, by result namespace/name.
    pub runners: Mutex<HashMap<(String, String), tokio::task::AbortHandle>>,
    /// What wakes each driver when its result or fault pod changes.
    pub wakers: Arc<super::wake::Wakers>,
    /// Entries the backstop could not revert yet, by result namespace/name.
    unreverted: Mutex<HashMap<(String, String), usize>>,
    /// The experiments' last status writes, by namespace/name: the resourceVersion of the copy
    /// each was computed from, and the one it produced.
    status_writes: Mutex<HashMap<(String, String), (String, String)>>,
}

impl Context {
    pub fn new(
        client: Client,
        kube_config: kube::Config,
        config: Config,
        metrics: Arc<Metrics>,
        stores: Stores,
    ) -> Self {
        let reporter = Reporter {
            controller: "faultline-operator".into(),
            instance: std::env::var("HOSTNAME").ok(),
        };
        Context {
            recorder: Recorder::new(client.clone(), reporter),
            client,
            kube_config,
            config,
            metrics,
            experiments: stores.experiments,
            results: stores.results,
            probes: stores.probes,
            fault_pods: stores.fault_pods,
            runners: Mutex::new(HashMap::new()),
            wakers: Arc::default(),
            unreverted: Mutex::new(HashMap::new()),
            status_writes: Mutex::new(HashMap::new()),
        }
    }

    /// A context for controller tests against a fake API server `client`, with `results` as
    /// the ChaosResult cache and empty experiment and pod caches.
    #[cfg(test)]
    pub fn for_tests(client: Client, results: Store<ChaosResult>) -> Self {
        let config = Config {
            image: "faultline".into(),
            namespace: "faultline-system".into(),
            watch_namespaces: vec![],
            metrics_addr: "127.0.0.1:8080".parse().expect("an address"),
            node_target_namespaces: vec![],
            label_namespace_privileged: false,
            election: None,
        };
        Context::new(
            client,
            kube::Config::new("http://127.0.0.1:1".parse().expect("a URL")),
            config,
            Arc::new(Metrics::new()),
            Stores {
                experiments: kube::runtime::reflector::store().0,
                results,
                probes: kube::runtime::reflector::store().0,
                fault_pods: kube::runtime::reflector::store().0,
            },
        )
    }

    /// Waits until the result and probe caches hold their first list; a transient error (retried
    /// with backoff) if that takes over 30 s.
    pub async fn caches_ready(&self) -> Result<(), super::error::Error> {
        let both = futures::future::join(
            self.results.wait_until_ready(),
            self.probes.wait_until_ready(),
        );
        match tokio::time::timeout(std::time::Duration::from_secs(30), both).await {
            Ok((Ok(()), Ok(()))) => Ok(()),
            _ => Err(super::error::Error::NotReady(
                "the result and probe caches are not filled yet".into(),
            )),
        }
    }

    /// Remembers that a status write on `read` produced `written`.
    pub fn wrote_status(&self, read: &ChaosExperiment, written: &ChaosExperiment) {
        use kube::ResourceExt;
        let key = (read.namespace().unwrap_or_default(), read.name_any());
        let mut writes = self.status_writes.lock().unwrap_or_else(|e| e.into_inner());
        match (read.resource_version(), written.resource_version()) {
            (Some(before), Some(after)) => {
                writes.insert(key, (before, after));
            }
            _ => {
                writes.remove(&key);
            }
        }
    }

    /// True for the very copy a status write of ours was computed from: the cache has not caught
    /// up with that write yet. Any other copy (ours, or someone else's change) is current.
    pub fn is_stale(&self, experiment: &ChaosExperiment) -> bool {
        use kube::ResourceExt;
        let key = (
            experiment.namespace().unwrap_or_default(),
            experiment.name_any(),
        );
        let writes = self.status_writes.lock().unwrap_or_else(|e| e.into_inner());
        writes
            .get(&key)
            .is_some_and(|(before, _)| experiment.resource_version().as_ref() == Some(before))
    }

    /// Forgets an experiment's status writes (it is being deleted).
    pub fn forget_status_writes(&self, experiment: &ChaosExperiment) {
        use kube::ResourceExt;
        let key = (
            experiment.namespace().unwrap_or_default(),
            experiment.name_any(),
        );
        let mut writes = self.status_writes.lock().unwrap_or_else(|e| e.into_inner());
        writes.remove(&key);
    }

    /// Stops every run driver in flight (this replica stops leading). Their runs stay as
    /// their status says, for the next leader to resume.
    pub fn stop_runners(&self) {
        let mut runners = self.runners.lock().unwrap_or_else(|e| e.into_inner());
        for (_, handle) in runners.drain() {
            handle.abort();
        }
    }

    /// Forgets the driver of a result once it has returned, unless a newer one took its place.
    pub fn forget_runner(&self, key: &(String, String), id: tokio::task::Id) {
        let mut runners = self.runners.lock().unwrap_or_else(|e| e.into_inner());
        if runners.get(key).is_some_and(|handle| handle.id() == id) {
            runners.remove(key);
            self.wakers.forget(key);
        }
    }

    /// Records how many entries of a result are left unreverted, and updates the gauge.
    pub fn set_unreverted(&self, namespace: &str, name: &str, count: usize) {
        let mut map = self.unreverted.lock().unwrap_or_else(|e| e.into_inner());
        let key = (namespace.to_string(), name.to_string());
        if count == 0 {
            map.remove(&key);
        } else {
            map.insert(key, count);
        }
        let total: usize = map.values().sum();
        self.metrics
            .unreverted_injections
            .set(i64::try_from(total).unwrap_or(i64::MAX));
    }

    /// Publishes a Kubernetes Event about `object`; a failure is logged, never fatal.
    pub async fn event<K: Resource<DynamicType = ()>>(
        &self,
        object: &K,
        type_: EventType,
        reason: &str,
        note: String,
    ) {
        let event = Event {
            type_,
            reason: reason.into(),
            note: Some(note),
            action: reason.into(),
            secondary: None,
        };
        if let Err(err) = self.recorder.publish(&event, &object.object_ref(&())).await {
            tracing::warn!(%err, reason, "could not publish an event");
        }
    }
}
