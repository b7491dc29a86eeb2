//! Wakes a run driver when its ChaosResult or its fault pod changes in the watch caches, so it
//! acts on a fault pod's ledger and exit report as they land instead of at its next tick.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use tokio::sync::Notify;

use crate::api::{RESULT_LABEL, RESULT_NAMESPACE_LABEL};

/// One [`Notify`] per result with a driver in flight, by namespace/name.
#[derive(Default)]
pub struct Wakers(Mutex<HashMap<(String, String), Arc<Notify>>>);

impl Wakers {
    /// The notifier of a result's driver. A wake that comes before the driver waits is kept.
    pub fn register(&self, namespace: &str, name: &str) -> Arc<Notify> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.entry((namespace.into(), name.into()))
            .or_default()
            .clone()
    }

    pub fn forget(&self, key: &(String, String)) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }

    /// Wakes the driver of `namespace/name`, if one is registered.
    pub fn wake(&self, namespace: &str, name: &str) {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(notify) = map.get(&(namespace.to_string(), name.to_string())) {
            notify.notify_one();
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

    async fn woken(notify: &Notify) -> bool {
        tokio::time::timeout(Duration::from_millis(50), notify.notified())
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn a_wake_before_the_driver_waits_is_kept_and_others_results_are_not_woken() {
        let wakers = Wakers::default();
        let shop = wakers.register("shop", "web-1");
        let other = wakers.register("shop", "web-2");
        wakers.wake("shop", "web-1");
        assert!(woken(&shop).await);
        assert!(!woken(&other).await);
        assert!(!woken(&shop).await, "one wake, one permit");
    }

    #[tokio::test]
    async fn a_fault_pod_wakes_its_result_in_its_namespace_or_the_labelled_one() {
        let wakers = Wakers::default();
        let api = wakers.register("shop", "web-1");
        wakers.wake_for_pod(&pod("shop", &[(RESULT_LABEL, "web-1")]));
        assert!(woken(&api).await);
        wakers.wake_for_pod(&pod(
            "faultline-system",
            &[(RESULT_LABEL, "web-1"), (RESULT_NAMESPACE_LABEL, "shop")],
        ));
        assert!(woken(&api).await);
        wakers.wake_for_pod(&pod("shop", &[]));
        assert!(!woken(&api).await);
    }

    #[tokio::test]
    async fn a_forgotten_result_is_not_woken() {
        let wakers = Wakers::default();
        let notify = wakers.register("shop", "web-1");
        wakers.forget(&("shop".into(), "web-1".into()));
        wakers.wake("shop", "web-1");
        assert!(!woken(&notify).await);
    }
}
