//! The ChaosResult controller: keeps exactly one run driver per result that has not ended,
//! so a restarted operator resumes every run it finds.

use std::{sync::Arc, time::Duration};

use kube::{ResourceExt, runtime::controller::Action};

use super::{context::Context, error::Result, run};
use crate::api::ChaosResult;

pub async fn reconcile(result: Arc<ChaosResult>, ctx: Arc<Context>) -> Result<Action> {
    let namespace = result.namespace().unwrap_or_default();
    if !ctx.config.watches(&namespace)
        || result
            .status
            .as_ref()
            .is_some_and(|s| s.phase.is_terminal())
    {
        return Ok(Action::await_change());
    }
    let key = (namespace, result.name_any());
    let mut runners = ctx.runners.lock().unwrap_or_else(|e| e.into_inner());
    if runners
        .get(&key)
        .is_some_and(|handle| !handle.is_finished())
    {
        return Ok(Action::requeue(Duration::from_secs(30)));
    }
    let driver_ctx = ctx.clone();
    let object = (*result).clone();
    let task_key = key.clone();
    let handle = tokio::spawn(async move {
        if let Err(err) = run::drive(driver_ctx.clone(), object).await {
            tracing::warn!(result = %task_key.1, %err, "run driver stopped; it resumes at the next reconcile");
        }
    });
    runners.insert(key, handle.abort_handle());
    // A driver that failed on an API error is restarted by this requeue.
    Ok(Action::requeue(Duration::from_secs(30)))
}

pub fn error_policy(
    _result: Arc<ChaosResult>,
    error: &super::error::Error,
    ctx: Arc<Context>,
) -> Action {
    ctx.metrics
        .reconcile_errors
        .with_label_values(&["result", error.kind().as_str()])
        .inc();
    Action::requeue(Duration::from_secs(5))
}
