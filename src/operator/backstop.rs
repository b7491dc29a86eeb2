//! The revert backstop: whatever a fault pod left in place (it was deleted, evicted, OOMKilled,
//! its node vanished, or the operator restarted while it ran) is reverted here, through the
//! fault type's own executor under the fault's own identity (impersonating its ServiceAccount),
//! never with the operator's wider rights. A revert that fails shows as a `Reverted=False`
//! condition listing the entries, a `RevertFailed` Event and the `faultline_unreverted_injections`
//! gauge, and is retried with backoff by the ChaosResult controller.

use k8s_openapi::{
    api::core::v1::Pod,
    apimachinery::pkg::apis::meta::v1::{Condition, Time},
    jiff::Timestamp,
};
use kube::{
    Api, Client, ResourceExt,
    api::{Patch, PatchParams},
    runtime::events::EventType,
};
use serde_json::json;

use super::{context::Context, error::Result, pods};
use crate::{
    api::{ChaosResult, FORCE_CLEANUP_ANNOTATION, LedgerState, TargetRecord},
    domain::{
        fault_pod::fault_pod_state,
        revert::{backstop_due, unsettled},
    },
    faults::{self, BY_OPERATOR, Env, Ledger},
};

/// The field manager of the `Reverted` condition.
const FIELD_MANAGER: &str = "faultline-backstop";
/// The condition type the backstop owns.
pub const REVERTED: &str = "Reverted";

/// What one backstop pass found.
#[derive(Debug, Default)]
pub struct Pass {
    /// Entries it reverted (or found gone or drifted).
    pub settled: usize,
    /// Entries still in place: "Kind ns/name: why".
    pub failures: Vec<String>,
}

/// Whether the fault pod of `fault` may still act: it exists and has not finished.
async fn fault_pod_active(ctx: &Context, namespace: &str, pod_name: &str) -> Result<bool> {
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), namespace);
    Ok(pods
        .get_opt(pod_name)
        .await?
        .is_some_and(|pod| !fault_pod_state(&pod).is_final()))
}

/// A client that acts as the fault type's ServiceAccount in `namespace`.
fn fault_identity_client(ctx: &Context, namespace: &str, identity: &str) -> Result<Client> {
    let mut config = ctx.kube_config.clone();
    config.auth_info.impersonate = Some(format!("system:serviceaccount:{namespace}:{identity}"));
    config.auth_info.impersonate_groups = None;
    Ok(Client::try_from(config)?)
}

/// Reverts every unsettled ledger entry of `result` whose fault pod is gone or finished.
/// `result` must be fresh (read from the API, not the cache): the fault pod's last ledger
/// writes decide what is left.
pub async fn revert_leftovers(ctx: &Context, result: &ChaosResult) -> Result<Pass> {
    let namespace = result.namespace().unwrap_or_default();
    let name = result.name_any();
    let api: Api<ChaosResult> = Api::namespaced(ctx.client.clone(), &namespace);
    let mut pass = Pass::default();
    let statuses = result
        .status
        .as_ref()
        .map(|s| s.faults.clone())
        .unwrap_or_default();
    for status in statuses {
        let pod_name = pods::fault_pod_name(&name, &status.name);
        if !status.targets.iter().any(|t| !t.state.is_settled()) {
            continue;
        }
        let active = fault_pod_active(ctx, &namespace, &pod_name).await?;
        if !backstop_due(&status.targets, active) {
            continue;
        }
        let Some(spec) = result
            .spec
            .experiment
            .faults
            .iter()
            .find(|f| f.name == status.name)
        else {
            continue;
        };
        let kind = faults::kind(spec.fault_type);
        let client = fault_identity_client(ctx, &namespace, &kind.identity())?;
        let env = Env {
            result: format!("{namespace}/{name}"),
            fault: status.name.clone(),
            operator_namespace: ctx.config.namespace.clone(),
        };
        let executor = (kind.build)(client, spec, &env);
        let mut ledger = Ledger::of(api.clone(), result, &status.name);
        let before = unsettled(&ledger.records).len();
        let failures = faults::revert_pending(&mut ledger, executor.as_ref(), BY_OPERATOR, 2).await;
        let settled = before - failures.len().min(before);
        for outcome in ["reverted", "failed"] {
            let count = if outcome == "reverted" {
                settled
            } else {
                failures.len()
            };
            ctx.metrics
                .reverts
                .with_label_values(&[spec.fault_type.as_str(), outcome])
                .inc_by(count as u64);
        }
        if settled > 0 {
            let note = format!(
                "the operator reverted {settled} change(s) of fault {} that its fault pod left: {}",
                status.name, kind.revert_wording
            );
            ctx.event(result, EventType::Normal, "FaultReverted", note)
                .await;
        }
        pass.settled += settled;
        pass.failures.extend(failures);
    }
    ctx.set_unreverted(&namespace, &name, pass.failures.len());
    Ok(pass)
}

/// Marks every unsettled entry Abandoned: a person gave up on them with the force-cleanup
/// annotation. Returns what was left, for the Event.
pub async fn abandon(ctx: &Context, result: &ChaosResult) -> Result<Vec<String>> {
    let namespace = result.namespace().unwrap_or_default();
    let api: Api<ChaosResult> = Api::namespaced(ctx.client.clone(), &namespace);
    let mut left = Vec::new();
    for status in result.status.iter().flat_map(|s| s.faults.iter()) {
        let mut ledger = Ledger::of(api.clone(), result, &status.name);
        let pending = unsettled(&ledger.records);
        if pending.is_empty() {
            continue;
        }
        let why = result
            .annotations()
            .get(FORCE_CLEANUP_ANNOTATION)
            .cloned()
            .unwrap_or_default();
        for record in ledger.records.iter_mut().filter(|r| !r.state.is_settled()) {
            abandon_entry(record, &why);
        }
        ledger.apply().await?;
        left.extend(pending);
    }
    ctx.set_unreverted(&namespace, &result.name_any(), 0);
    Ok(left)
}

fn abandon_entry(record: &mut TargetRecord, why: &str) {
    let message = format!(
        "abandoned through {FORCE_CLEANUP_ANNOTATION} ({why}): the change may still be in place"
    );
    record.settle(LedgerState::Abandoned, BY_OPERATOR, Some(message));
}

/// Writes the `Reverted` condition: True when nothing is left, else False listing the entries.
pub async fn record_condition(
    ctx: &Context,
    result: &ChaosResult,
    failures: &[String],
    reason: &str,
) -> Result<()> {
    let (status, message) = if failures.is_empty() {
        ("True", "every injected change is reverted".to_string())
    } else {
        (
            "False",
            format!(
                "{} change(s) not reverted, retried with backoff: {}",
                failures.len(),
                failures.join("; ")
            ),
        )
    };
    let existing = result
        .status
        .as_ref()
        .and_then(|s| s.conditions.iter().find(|c| c.type_ == REVERTED));
    if existing.is_some_and(|c| c.status == status && c.message == message && c.reason == reason) {
        return Ok(());
    }
    let since = match existing {
        Some(c) if c.status == status => c.last_transition_time.clone(),
        _ => Time(Timestamp::now()),
    };
    let condition = Condition {
        type_: REVERTED.into(),
        status: status.into(),
        reason: reason.into(),
        message: message.clone(),
        last_transition_time: since,
        observed_generation: result.metadata.generation,
    };
    let patch = json!({
        "apiVersion": "chaos.faultline.dev/v1alpha1",
        "kind": "ChaosResult",
        "status": {"conditions": [condition]},
    });
    let api: Api<ChaosResult> =
        Api::namespaced(ctx.client.clone(), &result.namespace().unwrap_or_default());
    api.patch_status(
        &result.name_any(),
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await?;
    if !failures.is_empty() {
        ctx.event(result, EventType::Warning, "RevertFailed", message)
            .await;
    }
    Ok(())
}
