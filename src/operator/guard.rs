//! One malformed object must not stop a watch. Read as its type, an object the operator cannot
//! parse (written under an older CRD, or by a client that skipped validation) fails the whole
//! list or watch call, and with it every reconcile of that kind, over and over. [`guarded`]
//! reads each object on its own ([`DeserializeGuard`]), passes the good ones on and reports the
//! others: a warning in the log, a Warning Event `InvalidObject` on the object that says what to
//! fix, and `faultline_invalid_objects_total{kind}`. An object that turns malformed is treated
//! as gone from the cache until it is fixed.

use std::fmt::Debug;

use futures::{Stream, StreamExt};
use kube::{
    Api, Client, Resource,
    core::{DeserializeGuard, error_boundary::InvalidObject},
    runtime::{
        events::{Event as Note, EventType, Recorder},
        reflector::{ObjectRef, Store},
        watcher::{self, Event},
    },
};
use serde::de::DeserializeOwned;

/// What becomes of one watch event: the event to pass on, if any, and the invalid object to
/// report, if any.
pub fn sift<K>(
    event: Event<DeserializeGuard<K>>,
    cache: &Store<K>,
) -> (Option<Event<K>>, Option<InvalidObject>)
where
    K: Resource<DynamicType = ()> + Clone,
{
    // A copy the cache holds from before the object turned malformed leaves it.
    let forget = |invalid: InvalidObject| {
        let key = ObjectRef::<K>::new(invalid.metadata.name.as_deref().unwrap_or_default())
            .within(invalid.metadata.namespace.as_deref().unwrap_or_default());
        let gone = cache.get(&key).map(|old| Event::Delete((*old).clone()));
        (gone, Some(invalid))
    };
    match event {
        Event::Apply(DeserializeGuard(Ok(object))) => (Some(Event::Apply(object)), None),
        Event::InitApply(DeserializeGuard(Ok(object))) => (Some(Event::InitApply(object)), None),
        Event::Delete(DeserializeGuard(Ok(object))) => (Some(Event::Delete(object)), None),
        // A relist rebuilds the cache from scratch: a malformed object is simply left out.
        Event::InitApply(DeserializeGuard(Err(invalid))) => (None, Some(invalid)),
        Event::Apply(DeserializeGuard(Err(invalid))) => forget(invalid),
        Event::Delete(DeserializeGuard(Err(invalid))) => (forget(invalid).0, None),
        Event::Init => (Some(Event::Init), None),
        Event::InitDone => (Some(Event::InitDone), None),
    }
}

/// Reports malformed objects of kind `K`.
#[derive(Clone)]
pub struct Reporter {
    pub recorder: Recorder,
    pub counter: prometheus::IntCounterVec,
}

impl Reporter {
    async fn report<K: Resource<DynamicType = ()>>(&self, invalid: &InvalidObject) {
        let kind = K::kind(&());
        let name = invalid.metadata.name.clone().unwrap_or_default();
        tracing::warn!(
            %kind,
            name,
            namespace = invalid.metadata.namespace.as_deref().unwrap_or_default(),
            error = %invalid.error,
            "ignoring an object that cannot be read"
        );
        self.counter.with_label_values(&[kind.as_ref()]).inc();
        let reference = k8s_openapi::api::core::v1::ObjectReference {
            api_version: Some(K::api_version(&()).into()),
            kind: Some(kind.to_string()),
            name: Some(name),
            namespace: invalid.metadata.namespace.clone(),
            uid: invalid.metadata.uid.clone(),
            resource_version: invalid.metadata.resource_version.clone(),
            field_path: None,
        };
        let note = Note {
            type_: EventType::Warning,
            reason: "InvalidObject".into(),
            note: Some(format!(
                "Faultline cannot read this {kind} and ignores it until it is fixed: {}",
                invalid.error
            )),
            action: "Read".into(),
            secondary: None,
        };
        if let Err(err) = self.recorder.publish(&note, &reference).await {
            tracing::warn!(%err, "could not publish an InvalidObject event");
        }
    }
}

/// A watch of every `K` under `config` that passes on the objects it can read and reports the
/// others. `cache` is the store this stream feeds.
pub fn guarded<K>(
    client: Client,
    config: watcher::Config,
    cache: Store<K>,
    reporter: Reporter,
) -> impl Stream<Item = Result<Event<K>, watcher::Error>> + Send
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    watcher::watcher(Api::<DeserializeGuard<K>>::all(client), config).filter_map(move |event| {
        let (cache, reporter) = (cache.clone(), reporter.clone());
        async move {
            let event = match event {
                Ok(event) => event,
                Err(err) => return Some(Err(err)),
            };
            let (pass, invalid) = sift(event, &cache);
            if let Some(invalid) = invalid {
                reporter.report::<K>(&invalid).await;
            }
            pass.map(Ok)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ChaosExperiment;
    use kube::runtime::reflector;
    use serde_json::json;

    fn read(value: serde_json::Value) -> DeserializeGuard<ChaosExperiment> {
        serde_json::from_value(value).expect("metadata is readable")
    }

    fn experiment(name: &str) -> serde_json::Value {
        json!({
            "apiVersion": "chaos.faultline.dev/v1alpha1", "kind": "ChaosExperiment",
            "metadata": {"name": name, "namespace": "shop", "uid": format!("uid-{name}")},
            "spec": {"faults": [{"name": "kill", "type": "pod-delete",
                                 "target": {"kind": "Deployment", "name": "web"}}]}
        })
    }

    fn malformed(name: &str) -> serde_json::Value {
        let mut value = experiment(name);
        value["spec"]["faults"] = json!("not a list");
        value
    }

    #[test]
    fn good_objects_pass_and_a_malformed_one_is_reported_and_left_out_of_a_relist() {
        let (cache, _) = reflector::store::<ChaosExperiment>();
        let (pass, invalid) = sift(Event::InitApply(read(experiment("good"))), &cache);
        assert!(
            matches!(pass, Some(Event::InitApply(e)) if e.metadata.name.as_deref() == Some("good"))
        );
        assert!(invalid.is_none());
        let (pass, invalid) = sift(Event::InitApply(read(malformed("bad"))), &cache);
        assert!(pass.is_none());
        let invalid = invalid.expect("reported");
        assert_eq!(invalid.metadata.name.as_deref(), Some("bad"));
        assert!(
            invalid.error.contains("Expected a sequence"),
            "{}",
            invalid.error
        );
        assert!(matches!(sift(Event::Init, &cache).0, Some(Event::Init)));
        assert!(matches!(
            sift(Event::InitDone, &cache).0,
            Some(Event::InitDone)
        ));
    }

    #[test]
    fn an_object_that_turns_malformed_leaves_the_cache() {
        let (cache, mut writer) = reflector::store::<ChaosExperiment>();
        let good: ChaosExperiment = serde_json::from_value(experiment("web")).unwrap();
        writer.apply_watcher_event(&Event::Apply(good));
        let (pass, invalid) = sift(Event::Apply(read(malformed("web"))), &cache);
        assert!(
            matches!(pass, Some(Event::Delete(e)) if e.metadata.name.as_deref() == Some("web"))
        );
        assert!(invalid.is_some());
        // Deleted while malformed: the cache copy (if any) goes, and nothing is reported again.
        let (pass, invalid) = sift(Event::Delete(read(malformed("web"))), &cache);
        assert!(matches!(pass, Some(Event::Delete(_))));
        assert!(invalid.is_none());
        let (cache, _) = reflector::store::<ChaosExperiment>();
        let (pass, invalid) = sift(Event::Apply(read(malformed("new"))), &cache);
        assert!(pass.is_none());
        assert!(invalid.is_some());
    }
}
