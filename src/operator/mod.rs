//! The operator: the ChaosExperiment and ChaosResult controllers, the run drivers, and the
//! /metrics, /healthz and /readyz endpoints.

pub mod backstop;
pub mod context;
pub mod error;
pub mod experiment;
pub mod http;
pub mod metrics;
pub mod pods;
pub mod result;
pub mod run;

use std::sync::{Arc, atomic::AtomicBool};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::{
    Api,
    runtime::{
        Controller, WatchStreamExt, conditions,
        reflector::{self, reflector},
        wait::await_condition,
        watcher::{self, watcher},
    },
};
use thiserror::Error;

pub use context::{Config, Context};
use metrics::Metrics;

use crate::api::{ChaosExperiment, ChaosResult};

/// Why the operator could not start or keep running.
#[derive(Debug, Error)]
pub enum StartError {
    #[error("cannot build a Kubernetes client: {0}")]
    Client(#[source] kube::Error),
    #[error("waiting for CRD {0} to be established: {1}")]
    Crd(String, #[source] kube::runtime::wait::Error),
    #[error("the metrics endpoint failed: {0}")]
    Http(#[source] std::io::Error),
}

/// The Pod Security label of Faultline's namespace: the network faults' pods run there with
/// hostPID and three capabilities, which only the privileged level admits.
pub const POD_SECURITY_LABEL: &str = "pod-security.kubernetes.io/enforce";

/// Applies `POD_SECURITY_LABEL: privileged` to the operator's namespace, under its own field
/// manager (so a GitOps tool that owns the namespace sees a second, named owner, not drift). A
/// failure is logged with the manual fix: the rest of Faultline works without it.
async fn label_namespace_privileged(client: &kube::Client, namespace: &str) {
    use k8s_openapi::api::core::v1::Namespace;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let patch = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": namespace, "labels": {POD_SECURITY_LABEL: "privileged"}},
    });
    let params = kube::api::PatchParams::apply("faultline-pod-security");
    match namespaces
        .patch(namespace, &params, &kube::api::Patch::Apply(&patch))
        .await
    {
        Ok(_) => tracing::info!(namespace, "labelled for the privileged Pod Security level"),
        Err(err) => tracing::warn!(
            namespace,
            %err,
            "cannot label the namespace for network fault pods; run: kubectl label namespace {namespace} {POD_SECURITY_LABEL}=privileged"
        ),
    }
}

/// Waits until Faultline's CRDs are established: the controllers start only then.
async fn wait_for_crds(client: &kube::Client) -> Result<(), StartError> {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for name in [
        "chaosexperiments.chaos.faultline.dev",
        "chaosresults.chaos.faultline.dev",
        "chaosprobes.chaos.faultline.dev",
    ] {
        tracing::info!(crd = name, "waiting for CRD");
        await_condition(crds.clone(), name, conditions::is_crd_established())
            .await
            .map_err(|e| StartError::Crd(name.into(), e))?;
    }
    Ok(())
}

/// Runs the controllers until SIGTERM/SIGINT.
pub async fn run(config: Config) -> Result<(), StartError> {
    let metrics = Arc::new(Metrics::new());
    let counter = metrics.kube_requests.clone();
    let client = crate::kubeclient::counted_client(move |verb| {
        counter.with_label_values(&[verb.as_str()]).inc();
    })
    .await
    .map_err(StartError::Client)?;
    let ready = Arc::new(AtomicBool::new(false));
    let server = tokio::spawn(http::serve(
        config.metrics_addr,
        metrics.clone(),
        ready.clone(),
    ));

    wait_for_crds(&client).await?;

    if config.label_namespace_privileged {
        label_namespace_privileged(&client, &config.namespace).await;
    }

    // Fault pods, cached by a reflector: run drivers read their pod from here every tick.
    let (fault_pods, pod_writer) = reflector::store();
    let pod_watch = reflector(
        pod_writer,
        watcher(
            Api::<Pod>::all(client.clone()),
            watcher::Config::default().labels("app.kubernetes.io/component=fault"),
        ),
    )
    .default_backoff()
    .for_each(|_| futures::future::ready(()));
    tokio::spawn(pod_watch);

    let experiments: Api<ChaosExperiment> = Api::all(client.clone());
    let results: Api<ChaosResult> = Api::all(client.clone());
    let experiment_controller =
        Controller::new(experiments, watcher::Config::default().any_semantic());
    let result_controller =
        Controller::new(results.clone(), watcher::Config::default().any_semantic());
    let kube_config = kube::Config::infer()
        .await
        .map_err(|e| StartError::Client(kube::Error::InferConfig(e)))?;
    let ctx = Arc::new(Context::new(
        client.clone(),
        kube_config,
        config,
        metrics,
        experiment_controller.store(),
        result_controller.store(),
        fault_pods,
    ));
    let experiment_loop = experiment_controller
        .watches(
            results,
            watcher::Config::default().any_semantic(),
            |result: ChaosResult| experiment::experiment_of(&result),
        )
        .shutdown_on_signal()
        .run(experiment::reconcile, experiment::error_policy, ctx.clone())
        .for_each(|_| futures::future::ready(()));
    let result_loop = result_controller
        .shutdown_on_signal()
        .run(result::reconcile, result::error_policy, ctx.clone())
        .for_each(|_| futures::future::ready(()));
    ready.store(true, std::sync::atomic::Ordering::Relaxed);
    tracing::info!("controllers started");
    tokio::select! {
        _ = futures::future::join(experiment_loop, result_loop) => {}
        served = server => {
            if let Ok(Err(err)) = served {
                return Err(StartError::Http(err));
            }
        }
    }
    // Runs in flight are left as they are: their status says where they were, and the next
    // operator resumes them.
    tracing::info!("controllers stopped");
    Ok(())
}
