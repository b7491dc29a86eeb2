//! The operator: the ChaosExperiment and ChaosResult controllers, the run drivers, and the
//! /metrics, /healthz and /readyz endpoints.

pub mod backstop;
pub mod context;
pub mod error;
pub mod experiment;
pub mod guard;
pub mod http;
pub mod leader;
pub mod metrics;
pub mod pods;
pub mod probe;
pub mod result;
pub mod run;
pub mod wake;

use std::{sync::Arc, time::Duration};

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

pub use context::{Config, Context, Stores};
use metrics::Metrics;

use crate::api::{ChaosExperiment, ChaosProbe, ChaosResult};

/// Why the operator could not start or keep running.
#[derive(Debug, Error)]
pub enum StartError {
    #[error("cannot build a Kubernetes client: {0}")]
    Client(#[source] kube::Error),
    #[error("waiting for CRD {0} to be established: {1}")]
    Crd(String, #[source] kube::runtime::wait::Error),
    #[error("the metrics endpoint failed: {0}")]
    Http(#[source] std::io::Error),
    #[error("leader election failed: {0}")]
    Election(#[source] kube_lease_manager::LeaseManagerError),
    /// Another replica holds the Lease now: this one stopped its controllers and exits, to
    /// start again as a follower.
    #[error("lost the leader Lease; exiting so this replica restarts as a follower")]
    LostLeadership,
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

/// Serves the endpoints and, once this replica leads (at once without an election), runs the
/// controllers until SIGTERM/SIGINT or until the Lease is lost.
pub async fn run(config: Config) -> Result<(), StartError> {
    let metrics = Arc::new(Metrics::new());
    let counter = metrics.kube_requests.clone();
    let client = crate::kubeclient::counted_client(move |verb| {
        counter.with_label_values(&[verb.as_str()]).inc();
    })
    .await
    .map_err(StartError::Client)?;
    let health = Arc::new(http::Health::default());
    let mut server = tokio::spawn(http::serve(
        config.metrics_addr,
        metrics.clone(),
        health.clone(),
    ));
    let stopped = |served: Result<std::io::Result<()>, tokio::task::JoinError>| match served {
        Ok(Err(err)) => Err(StartError::Http(err)),
        _ => Ok(()),
    };

    wait_for_crds(&client).await?;
    let mut leadership = match &config.election {
        None => None,
        Some(election) => {
            health.set(http::Role::Standby);
            tokio::select! {
                acquired = leader::acquire(&client, &config.namespace, election) => {
                    Some(acquired.map_err(StartError::Election)?)
                }
                served = &mut server => return stopped(served),
                _ = crate::cli::interrupted() => {
                    tracing::info!("stopped while standing by");
                    return Ok(());
                }
            }
        }
    };
    metrics.leader.set(1);
    health.set(http::Role::Leader);
    let (ctx, controllers) = controllers(client, config, metrics.clone()).await?;
    let lost = async {
        match leadership.as_mut() {
            Some(leadership) => leadership.lost().await,
            None => std::future::pending().await,
        }
    };
    let outcome = tokio::select! {
        _ = controllers => Ok(()),
        served = &mut server => stopped(served),
        _ = lost => {
            tracing::error!("this replica no longer holds the leader Lease; stopping");
            Err(StartError::LostLeadership)
        }
    };
    // Runs in flight are left as they are: their status says where they were, and the next
    // leader resumes them. Their drivers stop before the Lease is released, so two drivers
    // never act on one run.
    ctx.stop_runners();
    metrics.leader.set(0);
    // A Lease another replica took is not ours to release.
    if let Some(leadership) = leadership
        && !matches!(outcome, Err(StartError::LostLeadership))
    {
        leadership.release(Duration::from_secs(3)).await;
    }
    tracing::info!("controllers stopped");
    outcome
}

/// How many changes a shared watch holds for a subscriber that is behind before it waits.
const SHARED_BUFFER: usize = 1024;

/// The watches, the context and the three controllers, ready to run until SIGTERM/SIGINT.
///
/// Each kind is watched once, through [`guard::guarded`], into a shared cache that its
/// controller and the others follow: a reconcile woken by a change reads that change from the
/// cache, never an older copy, and one malformed object stops nothing.
async fn controllers(
    client: kube::Client,
    config: Config,
    metrics: Arc<Metrics>,
) -> Result<(Arc<Context>, impl std::future::Future<Output = ()>), StartError> {
    if config.label_namespace_privileged {
        label_namespace_privileged(&client, &config.namespace).await;
    }
    let kube_config = kube::Config::infer()
        .await
        .map_err(|e| StartError::Client(kube::Error::InferConfig(e)))?;
    let (fault_pods, pod_writer) = reflector::store();
    let (experiments, experiment_writer) = reflector::store_shared(SHARED_BUFFER);
    let (results, result_writer) = reflector::store_shared(SHARED_BUFFER);
    let (probes, probe_writer) = reflector::store_shared(SHARED_BUFFER);
    let subscribe = "a shared store takes subscribers";
    let experiment_events = experiment_writer.subscribe().expect(subscribe);
    let (result_events, owned_results, woken_results) = (
        result_writer.subscribe().expect(subscribe),
        result_writer.subscribe().expect(subscribe),
        result_writer.subscribe().expect(subscribe),
    );
    let probe_events = probe_writer.subscribe().expect(subscribe);
    let probe_changes = probe_writer.subscribe().expect(subscribe);
    metrics.observe(results.clone());
    let ctx = Arc::new(Context::new(
        client,
        kube_config,
        config,
        metrics,
        Stores {
            experiments: experiments.clone(),
            results: results.clone(),
            probes: probes.clone(),
            fault_pods,
        },
    ));
    let wakers = ctx.wakers.clone();
    // A shared store's subscribers see changes, not deletions; a deleted probe still makes its
    // experiments not Ready.
    let (probe_deleted, probe_deletions) = futures::channel::mpsc::unbounded();
    let watches = futures::future::join4(
        shared_watch(&ctx, experiment_writer, None),
        shared_watch(&ctx, result_writer, None),
        shared_watch(&ctx, probe_writer, Some(probe_deleted)),
        wake_run_drivers(woken_results, wakers),
    );
    tokio::spawn(fault_pod_watch(&ctx, pod_writer));

    let experiment_loop = experiment_controller(
        experiment_events,
        experiments,
        owned_results,
        probe_changes,
        probe_deletions,
        ctx.clone(),
    );
    let result_loop = Controller::for_shared_stream(result_events, results)
        .shutdown_on_signal()
        .run(result::reconcile, result::error_policy, ctx.clone())
        .for_each(|_| futures::future::ready(()));
    let probe_loop = Controller::for_shared_stream(probe_events, probes)
        .shutdown_on_signal()
        .run(probe::reconcile, probe::error_policy, ctx.clone())
        .for_each(|_| futures::future::ready(()));
    tracing::info!("controllers started");
    let all = async move {
        // The controllers end on SIGTERM/SIGINT; the watches that feed them end with them.
        tokio::select! {
            _ = futures::future::join3(experiment_loop, result_loop, probe_loop) => {}
            _ = watches => {}
        }
    };
    Ok((ctx, all))
}

/// The ChaosExperiment controller, woken by a change of an experiment, of a result it owns,
/// or of a probe it uses, deletions included.
fn experiment_controller(
    events: reflector::ReflectHandle<ChaosExperiment>,
    experiments: reflector::Store<ChaosExperiment>,
    owned_results: reflector::ReflectHandle<ChaosResult>,
    probe_changes: reflector::ReflectHandle<ChaosProbe>,
    probe_deletions: futures::channel::mpsc::UnboundedReceiver<ChaosProbe>,
    ctx: Arc<Context>,
) -> impl std::future::Future<Output = ()> {
    let users = experiments.clone();
    Controller::for_shared_stream(events, experiments.clone())
        .owns_shared_stream(owned_results)
        .watches_shared_stream(probe_changes, move |probe: Arc<ChaosProbe>| {
            experiment::experiments_using(&experiments, &probe)
        })
        .watches_stream(probe_deletions.map(Ok), move |probe: ChaosProbe| {
            experiment::experiments_using(&users, &probe)
        })
        .shutdown_on_signal()
        .run(experiment::reconcile, experiment::error_policy, ctx)
        .for_each(|_| futures::future::ready(()))
}

/// Wakes a result's run driver at each change of the result.
fn wake_run_drivers(
    results: reflector::ReflectHandle<ChaosResult>,
    wakers: Arc<wake::Wakers>,
) -> impl std::future::Future<Output = ()> {
    results.for_each(move |result| {
        use kube::ResourceExt;
        wakers.wake(&result.namespace().unwrap_or_default(), &result.name_any());
        futures::future::ready(())
    })
}

/// The guarded watch of every `K` that feeds `writer`'s shared cache and its subscribers, and
/// sends each deleted object to `deleted`.
fn shared_watch<K>(
    ctx: &Context,
    writer: reflector::store::Writer<K>,
    deleted: Option<futures::channel::mpsc::UnboundedSender<K>>,
) -> impl std::future::Future<Output = ()> + use<K>
where
    K: kube::Resource<DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    let reporter = guard::Reporter {
        recorder: ctx.recorder.clone(),
        counter: ctx.metrics.invalid_objects.clone(),
    };
    guard::guarded(
        ctx.client.clone(),
        watcher::Config::default().any_semantic(),
        writer.as_reader(),
        reporter,
    )
    .default_backoff()
    .inspect(move |event| {
        if let (Some(deleted), Ok(watcher::Event::Delete(object))) = (&deleted, event) {
            let _ = deleted.unbounded_send(object.clone());
        }
    })
    .reflect_shared(writer)
    .for_each(|_| futures::future::ready(()))
}

/// Fault pods, cached by a reflector: run drivers read their pod from here, woken by each change.
fn fault_pod_watch(
    ctx: &Context,
    writer: reflector::store::Writer<Pod>,
) -> impl std::future::Future<Output = ()> + use<> {
    let wakers = ctx.wakers.clone();
    reflector(
        writer,
        watcher(
            Api::<Pod>::all(ctx.client.clone()),
            watcher::Config::default().labels("app.kubernetes.io/component=fault"),
        ),
    )
    .default_backoff()
    .for_each(move |event| {
        if let Ok(watcher::Event::Apply(pod) | watcher::Event::Delete(pod)) = event {
            wakers.wake_for_pod(&pod);
        }
        futures::future::ready(())
    })
}
