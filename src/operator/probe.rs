//! The ChaosProbe controller: writes the `Ready` condition. A probe is Ready when its spec can
//! be checked as written (its block matches its type and parses) and what it references
//! resolves (a k8s probe's kind is served by this cluster). It never runs the check: whether
//! the service is healthy is a run's question, not the probe's.

use std::{sync::Arc, time::Duration};

use kube::{
    Api, ResourceExt,
    api::{Patch, PatchParams},
    runtime::controller::Action,
};
use serde_json::json;

use super::{
    context::Context,
    error::{Error, Result},
    experiment::{FIELD_MANAGER, condition},
};
use crate::api::{ChaosProbe, ChaosProbeStatus};

/// How often a probe whose reference does not resolve is looked at again: a CRD installed
/// later makes it Ready without an edit.
const RECHECK_UNRESOLVED: Duration = Duration::from_secs(60);

pub async fn reconcile(probe: Arc<ChaosProbe>, ctx: Arc<Context>) -> Result<Action> {
    let namespace = probe.namespace().unwrap_or_default();
    if !ctx.config.watches(&namespace) {
        return Ok(Action::await_change());
    }
    let _timer = ctx
        .metrics
        .reconcile_duration
        .with_label_values(&["probe"])
        .start_timer();
    let verdict = crate::probes::validate(&probe.spec, &ctx.client).await;
    let status = ready_status(&probe, &verdict);
    if probe.status.as_ref() != Some(&status) {
        let api: Api<ChaosProbe> = Api::namespaced(ctx.client.clone(), &namespace);
        let patch = json!({
            "apiVersion": "chaos.faultline.dev/v1alpha1",
            "kind": "ChaosProbe",
            "status": status,
        });
        api.patch_status(
            &probe.name_any(),
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&patch),
        )
        .await?;
    }
    Ok(match verdict {
        Ok(()) => Action::await_change(),
        Err(_) => Action::requeue(RECHECK_UNRESOLVED),
    })
}

/// The status the probe should have: `Ready` from the validation, keeping its transition time
/// while its status stays the same.
pub fn ready_status(probe: &ChaosProbe, verdict: &Result<(), String>) -> ChaosProbeStatus {
    let previous = probe
        .status
        .as_ref()
        .and_then(|s| s.conditions.iter().find(|c| c.type_ == "Ready"));
    let generation = probe.metadata.generation;
    let ready = match verdict {
        Ok(()) => condition(
            previous,
            "Ready",
            "True",
            "Valid",
            "the probe can be checked as written",
            generation,
        ),
        Err(message) => condition(
            previous,
            "Ready",
            "False",
            "InvalidSpec",
            message,
            generation,
        ),
    };
    ChaosProbeStatus {
        conditions: vec![ready],
        observed_generation: generation,
    }
}

pub fn error_policy(_probe: Arc<ChaosProbe>, error: &Error, ctx: Arc<Context>) -> Action {
    super::error::requeue("probe", error, &ctx.metrics)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(status: Option<ChaosProbeStatus>) -> ChaosProbe {
        let mut probe: ChaosProbe = serde_json::from_value(json!({
            "apiVersion": "chaos.faultline.dev/v1alpha1",
            "kind": "ChaosProbe",
            "metadata": {"name": "up", "namespace": "shop", "generation": 3},
            "spec": {"type": "http", "http": {"url": "http://web/health"}},
        }))
        .expect("a probe");
        probe.status = status;
        probe
    }

    #[test]
    fn a_valid_probe_is_ready_for_its_generation() {
        let status = ready_status(&probe(None), &Ok(()));
        assert_eq!(status.observed_generation, Some(3));
        let ready = &status.conditions[0];
        assert_eq!(
            (
                ready.type_.as_str(),
                ready.status.as_str(),
                ready.reason.as_str()
            ),
            ("Ready", "True", "Valid")
        );
        assert_eq!(ready.observed_generation, Some(3));
    }

    #[test]
    fn an_unchanged_verdict_gives_the_same_status_so_nothing_is_written() {
        let first = ready_status(&probe(None), &Err("cannot resolve kind Widget".into()));
        let again = ready_status(
            &probe(Some(first.clone())),
            &Err("cannot resolve kind Widget".into()),
        );
        assert_eq!(first, again);
        assert_eq!(first.conditions[0].status, "False");
        assert_eq!(first.conditions[0].message, "cannot resolve kind Widget");
    }

    /// Each request the fake API server saw: method and path.
    type Seen = Arc<std::sync::Mutex<Vec<(String, String)>>>;

    /// A fake API server that records each request's method and path and answers the probe.
    fn api_server() -> (kube::Client, Seen) {
        use http_body_util::BodyExt;
        let seen: Seen = Arc::default();
        let log = seen.clone();
        let service = tower::service_fn(move |req: hyper::Request<kube::client::Body>| {
            let log = log.clone();
            async move {
                log.lock()
                    .unwrap()
                    .push((req.method().to_string(), req.uri().path().to_string()));
                let _ = req.into_body().collect().await;
                let answer = serde_json::to_vec(&probe(None)).unwrap();
                Ok::<_, std::convert::Infallible>(hyper::Response::new(kube::client::Body::from(
                    answer,
                )))
            }
        });
        (kube::Client::new(service, "shop"), seen)
    }

    #[tokio::test]
    async fn the_condition_is_written_once_then_left_alone() {
        let (client, seen) = api_server();
        let ctx = Arc::new(Context::for_tests(
            client,
            kube::runtime::reflector::store().0,
        ));
        let action = reconcile(Arc::new(probe(None)), ctx.clone()).await.unwrap();
        assert_eq!(action, Action::await_change());
        assert_eq!(
            *seen.lock().unwrap(),
            [(
                "PATCH".to_string(),
                "/apis/chaos.faultline.dev/v1alpha1/namespaces/shop/chaosprobes/up/status"
                    .to_string()
            )]
        );
        seen.lock().unwrap().clear();
        let written = ready_status(&probe(None), &Ok(()));
        reconcile(Arc::new(probe(Some(written))), ctx)
            .await
            .unwrap();
        assert!(
            seen.lock().unwrap().is_empty(),
            "{:?}",
            seen.lock().unwrap()
        );
    }

    #[tokio::test]
    async fn an_invalid_probe_is_not_ready_and_looked_at_again() {
        let (client, _) = api_server();
        let ctx = Arc::new(Context::for_tests(
            client,
            kube::runtime::reflector::store().0,
        ));
        let mut bad = probe(None);
        bad.spec.http.as_mut().unwrap().expected_status = vec!["2xx".into()];
        let action = reconcile(Arc::new(bad), ctx).await.unwrap();
        assert_eq!(action, Action::requeue(RECHECK_UNRESOLVED));
    }
}
