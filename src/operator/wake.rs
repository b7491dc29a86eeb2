//! Wakes a run driver when its ChaosResult or its fault pod changes in the watch caches, so it
//! acts on a fault pod's ledger and exit report as they land instead of at its next tick. Each
//! result has one channel; every loop of its driver (one per parallel fault) subscribes to it,
//! and a change wakes them all.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use tokio::sync::watch;

use crate::api::{RESULT_LABEL, RESULT_NAMESPACE_LABEL};

/// A driver's channel: marked at each change of its result or fault pod.
pub type Waker = Arc<watch::Sender<()>>;

/// One channel per result with a driver in flight, by namespace/name.
#[derive(Default)]
pub struct Wakers(Mutex<HashMap<(String, String), Waker>>);

impl Wakers {
    /// The channel of a result's driver; a loop subscribes to it before it first looks, and a
    /// wake that comes before it waits is kept.
    pub fn register(&self, namespace: &str, name: &str) -> Waker {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.entry((namespace.into(), name.into()))
            .or_insert_with(|| Arc::new(watch::channel(()).0))
            .clone()
    }

    pub fn forget(&self, key: &(String, String)) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }

    /// Wakes the driver of `namespace/name`, if one is registered.
    pub fn wake(&self, namespace: &str, name: &str) {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sender) = map.get(&(namespace.to_string(), name.to_string())) {
            sender.send_replace(());
        }
    }

    /// Wakes the driver of a fault pod's result: named by its labels, in the pod's namespace
    /// unless the pod runs in Faultline's own (node-level faults), which a label then names.
    pub fn wake_for_pod(&self, pod: &Pod) {
        let labels = pod.labels();
        let Some(result) = labels.get(RESULT_LABEL) else {
            return;
        };
        let namespace = labels
            .get(RESULT_NAMESPACE_LABEL)
            .cloned()
            .or_else(|| pod.namespace())
            .unwrap_or_default();
        self.wake(&namespace, result);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn pod(namespace: &str, labels: &[(&str, &str)]) -> Pod {
        let mut pod = Pod::default();
        pod.metadata.namespace = Some(namespace.into());
        pod.metadata.labels = Some(
            labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        pod
    }

    async fn woken(waiter: &mut watch::Receiver<()>) -> bool {
        matches!(
            tokio::time::timeout(Duration::from_millis(50), waiter.changed()).await,
            Ok(Ok(()))
        )
    }

    #[tokio::test]
    async fn a_wake_before_the_loops_wait_reaches_each_of_them_and_no_other_result() {
        let wakers = Wakers::default();
        let shop = wakers.register("shop", "web-1");
        let (mut first, mut second) = (shop.subscribe(), shop.subscribe());
        let mut other = wakers.register("shop", "web-2").subscribe();
        wakers.wake("shop", "web-1");
        assert!(woken(&mut first).await);
        assert!(
            woken(&mut second).await,
            "a parallel fault's loop is woken too"
        );
        assert!(!woken(&mut other).await);
        assert!(!woken(&mut first).await, "one wake, seen once");
    }

    #[tokio::test]
    async fn a_fault_pod_wakes_its_result_in_its_namespace_or_the_labelled_one() {
        let wakers = Wakers::default();
        let mut api = wakers.register("shop", "web-1").subscribe();
        wakers.wake_for_pod(&pod("shop", &[(RESULT_LABEL, "web-1")]));
        assert!(woken(&mut api).await);
        wakers.wake_for_pod(&pod(
            "faultline-system",
            &[(RESULT_LABEL, "web-1"), (RESULT_NAMESPACE_LABEL, "shop")],
        ));
        assert!(woken(&mut api).await);
        wakers.wake_for_pod(&pod("shop", &[]));
        assert!(!woken(&mut api).await);
    }

    #[tokio::test]
    async fn a_forgotten_result_is_not_woken() {
        let wakers = Wakers::default();
        let driver = wakers.register("shop", "web-1");
        let mut waiter = driver.subscribe();
        wakers.forget(&("shop".into(), "web-1".into()));
        wakers.wake("shop", "web-1");
        assert!(!woken(&mut waiter).await);
    }
}
