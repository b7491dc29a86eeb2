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
    api::{ChaosResult, FORCE_CLEANUP_ANNOTATION, Fault, LedgerState, TargetRecord},
    domain::{
        fault_pod::{FaultPodState, fault_pod_state},
        revert::{pending, unsettled},
    },
    faults::{self, BY_OPERATOR, Env, Ledger, Placement, node_pod::OnNode},
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
    /// Faults whose pod may still act, so their entries are left to it for now.
    pub waiting: Vec<String>,
}

impl Pass {
    /// Nothing is left to revert, now or later.
    pub fn done(&self) -> bool {
        self.failures.is_empty() && self.waiting.is_empty()
    }
}

/// Whether a fault pod may still act: it exists, has not finished, and is not past its grace
/// period after deletion. A pod in phase Unknown (its node unreachable) may not be able to revert
/// at all, so it does not hold the backstop back: a revert is safe to repeat.
async fn fault_pod_active(ctx: &Context, namespace: &str, pod_name: &str) -> Result<bool> {
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), namespace);
    let Some(pod) = pods.get_opt(pod_name).await? else {
        return Ok(false);
    };
    let overdue = pod.metadata.deletion_timestamp.as_ref().is_some_and(|t| {
        Timestamp::now().duration_since(t.0).as_secs() > pods::REVERT_GRACE_SECONDS + 15
    });
    Ok(!overdue
        && matches!(
            fault_pod_state(&pod),
            FaultPodState::Pending | FaultPodState::Running
        ))
}

/// A client that acts as the fault type's ServiceAccount in `namespace`.
pub fn fault_identity_client(ctx: &Context, namespace: &str, identity: &str) -> Result<Client> {
    let mut config = ctx.kube_config.clone();
    config.auth_info.impersonate = Some(format!("system:serviceaccount:{namespace}:{identity}"));
    config.auth_info.impersonate_groups = None;
    Ok(Client::try_from(config)?)
}

fn has_unsettled(result: &ChaosResult, fault: &str) -> bool {
    result
        .status
        .iter()
        .flat_map(|s| s.faults.iter())
        .filter(|f| f.name == fault)
        .flat_map(|f| f.targets.iter())
        .any(|t| !t.state.is_settled())
}

/// Reverts the unsettled ledger entries of `result`'s faults (only `only`, if given) whose fault
/// pod is gone or finished. `view` may be stale (the watch cache): each fault pod is checked
/// first, and the ledger is then read fresh, so a pod's last writes are never overwritten.
pub async fn revert_leftovers(
    ctx: &Context,
    view: &ChaosResult,
    only: Option<&str>,
) -> Result<Pass> {
    let namespace = view.namespace().unwrap_or_default();
    let name = view.name_any();
    let mut pass = Pass::default();
    let mut due = Vec::new();
    for spec in &view.spec.experiment.faults {
        // The driver names its fault, whose latest entries the view may not show yet.
        let candidate = match only {
            Some(fault) => fault == spec.name,
            None => has_unsettled(view, &spec.name),
        };
        if !candidate {
            continue;
        }
        let at = pods::fault_pod_ref(&ctx.config.namespace, &namespace, &name, spec);
        if fault_pod_active(ctx, &at.namespace, &at.name).await? {
            pass.waiting.push(spec.name.clone());
        } else {
            due.push(spec);
        }
    }
    if due.is_empty() {
        return Ok(pass);
    }
    let api: Api<ChaosResult> = Api::namespaced(ctx.client.clone(), &namespace);
    let fresh = api.get(&name).await?;
    for spec in due {
        let mut ledger = Ledger::of(api.clone(), &fresh, &spec.name);
        if unsettled(&ledger.records).is_empty() {
            continue;
        }
        let kind = faults::kind(spec.fault_type);
        let (settled, failures) = if kind.placement == Placement::TargetNode {
            let on_nodes = revert_on_nodes(ctx, view, spec, &mut ledger).await?;
            pass.waiting.extend(on_nodes.waiting);
            (on_nodes.settled, on_nodes.failures)
        } else {
            let client = fault_identity_client(ctx, &namespace, &kind.identity())?;
            let env = Env {
                result: format!("{namespace}/{name}"),
                fault: spec.name.clone(),
                operator_namespace: ctx.config.namespace.clone(),
                ..Env::default()
            };
            let executor = (kind.build)(client, spec, &env);
            let before = unsettled(&ledger.records).len();
            let failures =
                faults::revert_pending(&mut ledger, executor.as_ref(), BY_OPERATOR, 2).await;
            (before.saturating_sub(failures.len()), failures)
        };
        let fault_type = spec.fault_type.as_str();
        let metric = &ctx.metrics.reverts;
        metric
            .with_label_values(&[fault_type, "reverted"])
            .inc_by(settled as u64);
        metric
            .with_label_values(&[fault_type, "failed"])
            .inc_by(failures.len() as u64);
        if settled > 0 {
            let note = format!(
                "the operator reverted {settled} change(s) of fault {} that its fault pod left: {}",
                spec.name, kind.revert_wording
            );
            ctx.event(view, EventType::Normal, "FaultReverted", note)
                .await;
        }
        pass.settled += settled;
        pass.failures.extend(failures);
    }
    ctx.set_unreverted(&namespace, &name, pass.failures.len());
    Ok(pass)
}

/// What the backstop did for a node-level fault.
#[derive(Debug, Default)]
struct NodePass {
    settled: usize,
    failures: Vec<String>,
    waiting: Vec<String>,
}

/// The backstop of a node-level fault, whose changes live inside pods' network namespaces: an
/// entry whose pod instance is gone went with its namespace and is settled here; the others
/// are reverted by a revert pod on their node (`faultline fault <type> --revert`), which this
/// creates, and then waits for. A revert pod that failed is deleted, so the next pass (with
/// backoff) starts a fresh one, and its failure is reported.
async fn revert_on_nodes(
    ctx: &Context,
    view: &ChaosResult,
    spec: &Fault,
    ledger: &mut Ledger,
) -> Result<NodePass> {
    let mut pass = NodePass::default();
    let mut nodes = std::collections::BTreeSet::new();
    let kind = faults::kind(spec.fault_type);
    for index in pending(&ledger.records) {
        let record = ledger.records[index].clone();
        // Settled here, with no revert pod: a one-shot change (a killed container) has nothing
        // to undo, an entry that names no pod instance had nothing injected, and a pod instance
        // that is gone took its network namespace (with the rules) with it.
        let settled = if !kind.sustained {
            Some((LedgerState::Reverted, kind.revert_wording.to_string()))
        } else {
            match OnNode::of(&record) {
                Err(_) => Some((
                    LedgerState::Reverted,
                    "nothing was injected: the entry names no pod instance".to_string(),
                )),
                Ok(shaped) => {
                    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &record.namespace);
                    let live = pods.get_opt(&record.name).await?;
                    if live.and_then(|p| p.metadata.uid).as_deref() == Some(shaped.pod_uid.as_str())
                    {
                        nodes.insert(shaped.node);
                        None
                    } else {
                        Some((
                            LedgerState::TargetGone,
                            "the pod is gone, and with it what the fault changed inside it"
                                .to_string(),
                        ))
                    }
                }
            }
        };
        if let Some((state, note)) = settled {
            ledger
                .update(index, |r| r.settle(state, BY_OPERATOR, Some(note)))
                .await?;
            pass.settled += 1;
        }
    }
    for node in nodes {
        let Some(pod) = pods::revert_pod(&ctx.config, view, spec, &node) else {
            continue;
        };
        let name = pod.metadata.name.clone().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ctx.config.namespace);
        match api.get_opt(&name).await? {
            None => {
                pods::create_pod(ctx, &pod).await?;
                pass.waiting
                    .push(format!("{}: revert pod {name} on node {node}", spec.name));
            }
            Some(existing) => match fault_pod_state(&existing) {
                FaultPodState::Failed(why) => {
                    let _ = api.delete(&name, &Default::default()).await;
                    pass.failures.push(format!(
                        "fault {}: revert pod {name} on node {node} failed: {why}",
                        spec.name
                    ));
                }
                FaultPodState::Succeeded => {
                    // Its writes are in the ledger the next pass reads; a fresh one may be needed.
                    let _ = api.delete(&name, &Default::default()).await;
                    pass.waiting
                        .push(format!("{}: revert pod {name} finished", spec.name));
                }
                _ => pass
                    .waiting
                    .push(format!("{}: revert pod {name} on node {node}", spec.name)),
            },
        }
    }
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
    } else if reason == "ForceCleanup" {
        (
            "False",
            format!(
                "{} change(s) abandoned through {FORCE_CLEANUP_ANNOTATION}, possibly still in place: {}",
                failures.len(),
                failures.join("; ")
            ),
        )
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
    if !failures.is_empty() && reason != "ForceCleanup" {
        ctx.event(result, EventType::Warning, "RevertFailed", message)
            .await;
    }
    Ok(())
}
