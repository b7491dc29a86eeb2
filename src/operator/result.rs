//! The ChaosResult controller: keeps exactly one run driver per result that has not ended, so a
//! restarted operator resumes every run it finds; once a run has ended, reverts whatever its
//! fault pods left (the backstop); and holds a result's deletion, through its finalizer, until
//! everything its run injected is reverted or a person gives up with the force-cleanup annotation.

use std::{sync::Arc, time::Duration};

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use kube::{
    Api, ResourceExt,
    api::{DeleteParams, ListParams},
    runtime::{
        controller::Action,
        events::EventType,
        finalizer::{Event as Finalizer, finalizer},
    },
};

use super::{
    backstop,
    context::Context,
    error::{Error, Result},
    experiment::request_stop,
    pods, run,
};
use crate::api::{ChaosResult, FORCE_CLEANUP_ANNOTATION, RESULT_LABEL, REVERT_FINALIZER};

pub async fn reconcile(result: Arc<ChaosResult>, ctx: Arc<Context>) -> Result<Action> {
    let _timer = ctx
        .metrics
        .reconcile_duration
        .with_label_values(&["result"])
        .start_timer();
    let namespace = result.namespace().unwrap_or_default();
    if !ctx.config.watches(&namespace) {
        return Ok(Action::await_change());
    }
    let api: Api<ChaosResult> = Api::namespaced(ctx.client.clone(), &namespace);
    finalizer(&api, REVERT_FINALIZER, result, |event| async {
        match event {
            Finalizer::Apply(result) => apply(&result, &ctx).await,
            Finalizer::Cleanup(result) => cleanup(&result, &ctx).await,
        }
    })
    .await
    .map_err(|e| Error::Finalizer(Box::new(e)))
}

fn is_terminal(result: &ChaosResult) -> bool {
    result
        .status
        .as_ref()
        .is_some_and(|s| s.phase.is_terminal())
}

fn has_unsettled(result: &ChaosResult) -> bool {
    result
        .status
        .iter()
        .flat_map(|s| s.faults.iter())
        .flat_map(|f| f.targets.iter())
        .any(|t| !t.state.is_settled())
}

async fn apply(result: &ChaosResult, ctx: &Arc<Context>) -> Result<Action> {
    if is_terminal(result) {
        return settle(result, ctx).await;
    }
    ensure_driver(result, ctx);
    // A driver that failed on an API error is restarted by this requeue.
    Ok(Action::requeue(Duration::from_secs(30)))
}

/// Starts the run driver of `result` unless one is in flight. A driver leaves the map when it
/// returns, so the map holds only runs in flight; its errors are counted by kind.
fn ensure_driver(result: &ChaosResult, ctx: &Arc<Context>) {
    let key = (result.namespace().unwrap_or_default(), result.name_any());
    let mut runners = ctx.runners.lock().unwrap_or_else(|e| e.into_inner());
    if runners
        .get(&key)
        .is_some_and(|handle| !handle.is_finished())
    {
        return;
    }
    let driver_ctx = ctx.clone();
    let object = result.clone();
    let task_key = key.clone();
    let handle = tokio::spawn(async move {
        if let Err(err) = run::drive(driver_ctx.clone(), object).await {
            let kind = err.kind();
            driver_ctx
                .metrics
                .reconcile_errors
                .with_label_values(&["run", kind.as_str()])
                .inc();
            tracing::warn!(result = %task_key.1, %err, kind = kind.as_str(), "run driver stopped; it resumes at the next reconcile");
        }
        driver_ctx.forget_runner(&task_key, tokio::task::id());
    });
    runners.insert(key, handle.abort_handle());
}

/// What is left of an ended run's changes.
enum Left {
    Nothing,
    /// Reverts failed, or a fault pod may still act: try again.
    Pending(Vec<String>),
}

/// A person gave up on the revert: the entries are Abandoned and listed in an Event.
async fn force_cleanup(result: &ChaosResult, ctx: &Context) -> Result<()> {
    let left = backstop::abandon(ctx, result).await?;
    if left.is_empty() {
        return Ok(());
    }
    let note = format!(
        "{FORCE_CLEANUP_ANNOTATION} is set: gave up on reverting {}; they may still be in place",
        left.join(", ")
    );
    ctx.event(result, EventType::Warning, "ForceCleanup", note)
        .await;
    backstop::record_condition(ctx, result, &left, "ForceCleanup").await
}

/// An ended run: revert what is left (no API request when the cache shows nothing left).
async fn revert_left(result: &ChaosResult, ctx: &Context) -> Result<Left> {
    if !has_unsettled(result) {
        return Ok(Left::Nothing);
    }
    if result.annotations().contains_key(FORCE_CLEANUP_ANNOTATION) {
        force_cleanup(result, ctx).await?;
        return Ok(Left::Nothing);
    }
    let pass = backstop::revert_leftovers(ctx, result, None).await?;
    if !pass.waiting.is_empty() {
        let waiting = pass
            .waiting
            .iter()
            .map(|f| format!("fault {f}: its fault pod may still act"));
        return Ok(Left::Pending(
            pass.failures.iter().cloned().chain(waiting).collect(),
        ));
    }
    let reason = if pass.done() {
        "RevertedByOperator"
    } else {
        "RevertFailing"
    };
    backstop::record_condition(ctx, result, &pass.failures, reason).await?;
    Ok(if pass.done() {
        Left::Nothing
    } else {
        Left::Pending(pass.failures)
    })
}

/// The retry delay of a failing revert: 5 s at first, 60 s once it has failed for 5 minutes.
fn backoff(result: &ChaosResult) -> Duration {
    let failing_since = result
        .status
        .iter()
        .flat_map(|s| s.conditions.iter())
        .find(|c| c.type_ == backstop::REVERTED && c.status == "False")
        .map(|c| c.last_transition_time.0);
    let age = failing_since
        .map(|t| Timestamp::now().duration_since(t).as_secs())
        .unwrap_or(0);
    Duration::from_secs(if age < 300 { 5 } else { 60 })
}

async fn settle(result: &ChaosResult, ctx: &Context) -> Result<Action> {
    Ok(match revert_left(result, ctx).await? {
        Left::Nothing => Action::await_change(),
        Left::Pending(_) => Action::requeue(backoff(result)),
    })
}

/// Deletion: a person's force-cleanup releases at once; otherwise stop the run if it is active
/// (its driver and fault pods revert), then revert what is left. The finalizer holds (an error
/// requeues) until nothing is left.
async fn cleanup(result: &ChaosResult, ctx: &Arc<Context>) -> Result<Action> {
    if result.annotations().contains_key(FORCE_CLEANUP_ANNOTATION) {
        force_cleanup(result, ctx).await?;
        delete_node_level_pods(result, ctx).await?;
        return Ok(Action::await_change());
    }
    if !is_terminal(result) {
        request_stop(ctx, result, "result deleted").await?;
        // After an operator restart nobody drives the run: without a driver it would never stop.
        ensure_driver(result, ctx);
        return Err(Error::RevertPending(format!(
            "run {} is stopping before its result can go",
            result.name_any()
        )));
    }
    match revert_left(result, ctx).await? {
        Left::Nothing => {
            delete_node_level_pods(result, ctx).await?;
            Ok(Action::await_change())
        }
        Left::Pending(left) => Err(Error::RevertPending(format!(
            "deletion of {} waits for {} revert(s); set the annotation {FORCE_CLEANUP_ANNOTATION} to give up: {}",
            result.name_any(),
            left.len(),
            left.join("; ")
        ))),
    }
}

/// Deletes the result's pods in Faultline's namespace (node-level fault pods and revert pods),
/// which no owner reference ties to the result: its labels name it.
async fn delete_node_level_pods(result: &ChaosResult, ctx: &Context) -> Result<()> {
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &ctx.config.namespace);
    let selector = format!(
        "{RESULT_LABEL}={},{}={}",
        result.name_any(),
        pods::RESULT_NAMESPACE_LABEL,
        result.namespace().unwrap_or_default()
    );
    pods.delete_collection(
        &DeleteParams::default(),
        &ListParams::default().labels(&selector),
    )
    .await?;
    Ok(())
}

pub fn error_policy(result: Arc<ChaosResult>, error: &Error, ctx: Arc<Context>) -> Action {
    ctx.metrics
        .reconcile_errors
        .with_label_values(&["result", error.kind().as_str()])
        .inc();
    if error.kind() == super::error::ErrorKind::RevertPending {
        tracing::info!(result = %result.name_any(), %error, "deletion waits");
        return Action::requeue(backoff(&result));
    }
    Action::requeue(Duration::from_secs(5))
}
