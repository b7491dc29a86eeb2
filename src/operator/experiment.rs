//! The ChaosExperiment controller: decides when a run starts, creates its ChaosResult (with a
//! snapshot of the spec and the probes it references), prunes old results, requests stops, and
//! writes the experiment's status. The run itself is driven by `run.rs`.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use k8s_openapi::{
    apimachinery::pkg::apis::meta::v1::{Condition, OwnerReference, Time},
    jiff::Timestamp,
};
use kube::{
    Api, Resource, ResourceExt,
    api::{DeleteParams, ObjectMeta, Patch, PatchParams, PostParams},
    runtime::{
        controller::Action,
        events::EventType,
        finalizer::{Event as Finalizer, finalizer},
    },
};
use serde_json::json;

use super::{
    context::Context,
    error::{Error, Result},
};
use crate::{
    api::{
        ChaosExperiment, ChaosExperimentStatus, ChaosProbe, ChaosProbeSpec, ChaosResult,
        ChaosResultSpec, EXPERIMENT_LABEL, LastRun, RUN_REQUESTED_ANNOTATION, STOP_ANNOTATION,
        Trigger,
    },
    domain::{
        runs::{RunDecision, RunInputs, decide_run, is_same_run},
        schedule::parse_schedule,
    },
};

pub const FINALIZER: &str = "chaos.faultline.dev/cleanup";
pub const FIELD_MANAGER: &str = "faultline-operator";
/// How long deletion waits for active runs to stop before giving up on them.
const CLEANUP_DEADLINE: Duration = Duration::from_secs(90);

/// Reconciles one experiment.
pub async fn reconcile(experiment: Arc<ChaosExperiment>, ctx: Arc<Context>) -> Result<Action> {
    let _timer = ctx
        .metrics
        .reconcile_duration
        .with_label_values(&["experiment"])
        .start_timer();
    let namespace = experiment
        .namespace()
        .ok_or(Error::MissingField("namespace"))?;
    if !ctx.config.watches(&namespace) {
        return Ok(Action::await_change());
    }
    // Decisions read the result and probe caches: before their first list (a new leader, a
    // restart) an active run would look absent, and concurrencyPolicy Forbid could overlap it.
    ctx.caches_ready().await?;
    // The copy our last status write was computed from: the write's own event brings the newer
    // one at once. Deciding on this one would only earn a 409.
    if ctx.is_stale(&experiment) {
        return Ok(Action::requeue(Duration::from_millis(500)));
    }
    let api: Api<ChaosExperiment> = Api::namespaced(ctx.client.clone(), &namespace);
    finalizer(&api, FINALIZER, experiment, |event| async {
        match event {
            Finalizer::Apply(experiment) => apply(&experiment, &ctx).await,
            Finalizer::Cleanup(experiment) => cleanup(&experiment, &ctx).await,
        }
    })
    .await
    .map_err(|e| Error::Finalizer(Box::new(e)))
}

/// Sorts reconcile errors into kinds: invalid specs wait, transient errors back off.
pub fn error_policy(_experiment: Arc<ChaosExperiment>, error: &Error, ctx: Arc<Context>) -> Action {
    super::error::requeue("experiment", error, &ctx.metrics)
}

/// The experiment's results, from the watch cache (no API request). A result created a moment
/// ago may be missing; creating it again is harmless (its name is fixed: 409 reuses it).
fn results_of(ctx: &Context, experiment: &ChaosExperiment) -> Vec<ChaosResult> {
    let namespace = experiment.namespace();
    let name = experiment.name_any();
    let mut results: Vec<ChaosResult> = ctx
        .results
        .state()
        .into_iter()
        .filter(|r| r.namespace() == namespace && r.labels().get(EXPERIMENT_LABEL) == Some(&name))
        .map(|r| (*r).clone())
        .collect();
    results.sort_by_key(|r| r.spec.run_number);
    results
}

fn is_active(result: &ChaosResult) -> bool {
    !result
        .status
        .as_ref()
        .is_some_and(|s| s.phase.is_terminal())
}

async fn apply(experiment: &ChaosExperiment, ctx: &Context) -> Result<Action> {
    let now = Utc::now();
    let namespace = experiment.namespace().unwrap_or_default();
    let status = experiment.status.clone().unwrap_or_default();
    let mut results = results_of(ctx, experiment);
    let active: Vec<&ChaosResult> = results.iter().filter(|r| is_active(r)).collect();

    let schedule = match experiment.spec.schedule.as_deref().map(parse_schedule) {
        Some(Ok(schedule)) => Some(schedule),
        Some(Err(err)) => {
            let message = format!("spec.schedule: {err}");
            write_status(
                ctx,
                experiment,
                &results,
                &status,
                Some(("InvalidSchedule", message.clone())),
            )
            .await?;
            return Err(Error::InvalidSpec(message));
        }
        None => None,
    };

    let mut new_status = status.clone();
    let mut requeue = if active.is_empty() {
        None
    } else {
        Some(Duration::from_secs(30))
    };
    if experiment.spec.stop {
        for result in &active {
            request_stop(ctx, result, "spec.stop").await?;
        }
    } else {
        let inputs = run_inputs(
            experiment,
            &status,
            schedule.as_ref(),
            !active.is_empty(),
            now,
        );
        let decision = decide_run(&inputs);
        let started = enact(
            ctx,
            experiment,
            decision,
            &active,
            &mut new_status,
            &mut requeue,
            now,
        )
        .await?;
        results.extend(started);
        // Nothing new to do for this generation once it has a run (or a schedule).
        if new_status.run_generation.is_none() && schedule.is_some() {
            new_status.run_generation = experiment.metadata.generation;
        }
    }

    prune(ctx, &namespace, &mut results, experiment.spec.history_limit).await?;
    let next_schedule = schedule
        .as_ref()
        .filter(|_| !experiment.spec.suspend)
        .and_then(|s| s.next_after(now));
    new_status.next_schedule_time = next_schedule.map(from_chrono);
    if let Some(next) = next_schedule {
        let wait = (next - now).to_std().unwrap_or(Duration::from_secs(1));
        requeue = Some(requeue.map_or(wait, |r| r.min(wait)));
    }
    let problem = probe_problem(ctx, experiment);
    write_status(ctx, experiment, &results, &new_status, problem).await?;
    Ok(requeue.map_or_else(Action::await_change, Action::requeue))
}

/// What [`decide_run`] weighs, read from the experiment and its status as they are now.
fn run_inputs<'a>(
    experiment: &'a ChaosExperiment,
    status: &'a ChaosExperimentStatus,
    schedule: Option<&'a crate::domain::schedule::Schedule>,
    active_run: bool,
    now: DateTime<Utc>,
) -> RunInputs<'a> {
    RunInputs {
        generation: experiment.metadata.generation.unwrap_or(1),
        run_generation: status.run_generation,
        requested: requested_run(experiment),
        handled_request: status.handled_request.as_deref(),
        schedule,
        suspend: experiment.spec.suspend,
        concurrency: experiment.spec.concurrency_policy,
        starting_deadline: experiment
            .spec
            .starting_deadline_seconds
            .map(chrono::Duration::seconds),
        last_schedule_time: status.last_schedule_time.as_ref().map(to_chrono),
        created: experiment
            .metadata
            .creation_timestamp
            .as_ref()
            .map(to_chrono)
            .unwrap_or(now),
        active_run,
        now,
    }
}

/// The run request annotation (`faultline run`), if any.
fn requested_run(experiment: &ChaosExperiment) -> Option<&str> {
    experiment
        .annotations()
        .get(RUN_REQUESTED_ANNOTATION)
        .map(String::as_str)
}

/// Carries out `decision`: records a new run (returned), asks active runs to stop, or notes a
/// skipped or missed schedule tick. `status` is the status to write, as read until now.
async fn enact(
    ctx: &Context,
    experiment: &ChaosExperiment,
    decision: RunDecision,
    active: &[&ChaosResult],
    status: &mut ChaosExperimentStatus,
    requeue: &mut Option<Duration>,
    now: DateTime<Utc>,
) -> Result<Option<ChaosResult>> {
    let event =
        |type_, reason: &'static str, note: String| ctx.event(experiment, type_, reason, note);
    match decision {
        RunDecision::Start {
            trigger,
            schedule_tick,
        } => {
            // Numbered from the status as read: on a stale copy the name collides with the run
            // just started, and the 409 finds it to be the same run instead of starting another.
            let run_number = status.runs + 1;
            // The request this run answers, recorded on the result so that `faultline run`
            // finds its own run and never a stale one.
            let requested = requested_run(experiment);
            let answers = requested.filter(|r| status.handled_request.as_deref() != Some(*r));
            let result = create_result(ctx, experiment, run_number, trigger, answers).await?;
            let note = format!(
                "run {run_number} ({trigger:?}) recorded in ChaosResult {}",
                result.name_any()
            );
            event(EventType::Normal, "RunCreated", note).await;
            // A start covers both a pending generation and a pending request, so applying a
            // changed spec together with the annotation (as `faultline run -f` does) runs once.
            status.runs = run_number;
            status.run_generation = experiment.metadata.generation;
            if requested.is_some() {
                status.handled_request = requested.map(str::to_string);
            }
            if let Some(tick) = schedule_tick {
                status.last_schedule_time = Some(from_chrono(tick));
            }
            *requeue = Some(Duration::from_secs(30));
            return Ok(Some(result));
        }
        RunDecision::ReplaceActive { .. } => {
            for result in active {
                request_stop(ctx, result, "concurrencyPolicy Replace").await?;
            }
            *requeue = Some(Duration::from_secs(2));
        }
        RunDecision::SkipTick { schedule_tick } => {
            let note =
                format!("a run is still active at {schedule_tick} and concurrencyPolicy is Forbid");
            event(EventType::Normal, "ScheduleSkipped", note).await;
            status.last_schedule_time = Some(from_chrono(schedule_tick));
        }
        RunDecision::MissTick { schedule_tick } => {
            let note = format!(
                "the tick at {schedule_tick} was not acted on within startingDeadlineSeconds {}; no run for it",
                experiment
                    .spec
                    .starting_deadline_seconds
                    .unwrap_or_default()
            );
            event(EventType::Warning, "ScheduleMissed", note).await;
            status.last_schedule_time = Some(from_chrono(schedule_tick));
        }
        RunDecision::Nothing { next_check } => {
            if let Some(next) = next_check {
                let wait = (next - now).to_std().unwrap_or(Duration::from_secs(1));
                *requeue = Some(requeue.map_or(wait, |r| r.min(wait)));
            }
        }
    }
    Ok(None)
}

/// Deletion: stop active runs (their drivers revert), then let the finalizer go.
async fn cleanup(experiment: &ChaosExperiment, ctx: &Context) -> Result<Action> {
    ctx.forget_status_writes(experiment);
    ctx.metrics.forget_scores(
        &experiment.namespace().unwrap_or_default(),
        &experiment.name_any(),
    );
    let results = results_of(ctx, experiment);
    let active: Vec<&ChaosResult> = results.iter().filter(|r| is_active(r)).collect();
    if active.is_empty() {
        return Ok(Action::await_change());
    }
    let deleting_since = experiment
        .metadata
        .deletion_timestamp
        .as_ref()
        .map(to_chrono)
        .unwrap_or_else(Utc::now);
    if (Utc::now() - deleting_since).to_std().unwrap_or_default() > CLEANUP_DEADLINE {
        let names: Vec<String> = active.iter().map(|r| r.name_any()).collect();
        ctx.event(
            experiment,
            EventType::Warning,
            "CleanupDeadline",
            format!("runs {names:?} did not stop within {CLEANUP_DEADLINE:?}; releasing the experiment anyway"),
        )
        .await;
        return Ok(Action::await_change());
    }
    for result in &active {
        request_stop(ctx, result, "experiment deleted").await?;
    }
    Ok(Action::requeue(Duration::from_secs(1)))
}

pub(super) async fn request_stop(ctx: &Context, result: &ChaosResult, why: &str) -> Result<()> {
    if result.annotations().contains_key(STOP_ANNOTATION) {
        return Ok(());
    }
    let api: Api<ChaosResult> =
        Api::namespaced(ctx.client.clone(), &result.namespace().unwrap_or_default());
    let patch = json!({"metadata": {"annotations": {STOP_ANNOTATION: why}}});
    api.patch(
        &result.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await?;
    Ok(())
}

/// Creates the ChaosResult of run `run_number`, with the referenced probes snapshotted.
async fn create_result(
    ctx: &Context,
    experiment: &ChaosExperiment,
    run_number: i64,
    trigger: Trigger,
    answers_request: Option<&str>,
) -> Result<ChaosResult> {
    let namespace = experiment.namespace().unwrap_or_default();
    let name = format!("{}-{run_number}", experiment.name_any());
    let probes = snapshot_probes(ctx, experiment, &namespace).await?;
    let owner = OwnerReference {
        controller: Some(true),
        block_owner_deletion: Some(true),
        ..experiment
            .controller_owner_ref(&())
            .ok_or(Error::MissingField("metadata.uid"))?
    };
    let result = ChaosResult {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(namespace.clone()),
            labels: Some(BTreeMap::from([
                (EXPERIMENT_LABEL.to_string(), experiment.name_any()),
                (
                    "app.kubernetes.io/managed-by".to_string(),
                    "faultline".to_string(),
                ),
            ])),
            annotations: answers_request.map(|request| {
                BTreeMap::from([(RUN_REQUESTED_ANNOTATION.to_string(), request.to_string())])
            }),
            owner_references: Some(vec![owner]),
            // Its deletion waits for the revert of everything the run injects.
            finalizers: Some(vec![crate::api::REVERT_FINALIZER.to_string()]),
            ..ObjectMeta::default()
        },
        spec: ChaosResultSpec {
            experiment_ref: experiment.name_any(),
            run_number,
            trigger,
            experiment: experiment.spec.clone(),
            probes,
        },
        status: None,
    };
    let api: Api<ChaosResult> = Api::namespaced(ctx.client.clone(), &namespace);
    match api.create(&PostParams::default(), &result).await {
        Ok(created) => Ok(created),
        Err(kube::Error::Api(status)) if status.code == 409 => {
            let existing = api.get(&name).await?;
            name_taken(ctx, experiment, existing, trigger, answers_request).await
        }
        Err(err) => Err(err.into()),
    }
}

/// The referenced ChaosProbes' specs, by name. A missing probe is left out; the run driver ends
/// the run in Error naming it.
async fn snapshot_probes(
    ctx: &Context,
    experiment: &ChaosExperiment,
    namespace: &str,
) -> Result<BTreeMap<String, ChaosProbeSpec>> {
    let api: Api<ChaosProbe> = Api::namespaced(ctx.client.clone(), namespace);
    let mut probes = BTreeMap::new();
    for reference in experiment.spec.probe_refs() {
        if let Some(probe) = api.get_opt(reference).await? {
            probes.insert(reference.to_string(), probe.spec);
        }
    }
    Ok(probes)
}

/// The run's name is taken by `existing`. It is this same run when an earlier reconcile created
/// it and its status write did not land: reuse it. Otherwise the run count this reconcile read is
/// behind: on a stale copy the next reconcile reads the newer count; when the server's count is
/// behind too (a status write that never landed), it is moved up to the taken number, guarded by
/// the resourceVersion read, so the next reconcile starts the run under the next number. Never
/// marks a request handled: only a result that carries it does that.
async fn name_taken(
    ctx: &Context,
    experiment: &ChaosExperiment,
    existing: ChaosResult,
    trigger: Trigger,
    answers_request: Option<&str>,
) -> Result<ChaosResult> {
    let existing_request = existing.annotations().get(RUN_REQUESTED_ANNOTATION);
    if is_same_run(
        existing.spec.trigger,
        existing_request.map(String::as_str),
        trigger,
        answers_request,
    ) {
        return Ok(existing);
    }
    let run_number = existing.spec.run_number;
    let api: Api<ChaosExperiment> = Api::namespaced(
        ctx.client.clone(),
        &experiment.namespace().unwrap_or_default(),
    );
    let name = experiment.name_any();
    let fresh = api.get(&name).await?;
    let runs = fresh.status.as_ref().map_or(0, |s| s.runs);
    if runs < run_number {
        let patch = json!({
            "metadata": {"resourceVersion": fresh.resource_version()},
            "status": {"runs": run_number},
        });
        api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
    }
    Err(Error::Conflict(format!(
        "ChaosResult {} already exists for another run (the run count read was {}, the server's {runs}); the next reconcile starts the run under the next number",
        existing.name_any(),
        run_number - 1
    )))
}

/// Deletes the oldest finished results beyond `limit`; active runs are never pruned.
async fn prune(
    ctx: &Context,
    namespace: &str,
    results: &mut Vec<ChaosResult>,
    limit: i32,
) -> Result<()> {
    let limit = usize::try_from(limit.max(1)).unwrap_or(1);
    let finished: Vec<String> = results
        .iter()
        .filter(|r| !is_active(r))
        .map(|r| r.name_any())
        .collect();
    if results.len() <= limit {
        return Ok(());
    }
    let excess = results.len() - limit;
    let api: Api<ChaosResult> = Api::namespaced(ctx.client.clone(), namespace);
    for name in finished.iter().take(excess) {
        match api.delete(name, &DeleteParams::background()).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(err) => return Err(err.into()),
        }
        results.retain(|r| &r.name_any() != name);
    }
    Ok(())
}

/// Writes the experiment's status from its latest result, skipping the write when nothing changed.
async fn write_status(
    ctx: &Context,
    experiment: &ChaosExperiment,
    results: &[ChaosResult],
    base: &ChaosExperimentStatus,
    invalid: Option<(&str, String)>,
) -> Result<()> {
    let mut status = base.clone();
    if let Some(latest) = results.iter().max_by_key(|r| r.spec.run_number) {
        let result_status = latest.status.clone().unwrap_or_default();
        status.phase = Some(result_status.phase);
        status.last_run = Some(LastRun {
            result: latest.name_any(),
            score: result_status.resilience_score,
            verdict: Some(result_status.verdict),
            start_time: result_status.start_time.clone(),
            completion_time: result_status.completion_time.clone(),
        });
        if result_status.phase.is_terminal()
            && let Some(score) = result_status.resilience_score
        {
            ctx.metrics.set_scores(
                &experiment.namespace().unwrap_or_default(),
                &experiment.name_any(),
                score,
                result_status
                    .expected_resilience_score
                    .unwrap_or(experiment.spec.expected_resilience_score),
            );
        }
    }
    status.observed_generation = experiment.metadata.generation;
    let (ready, reason, message) = match invalid {
        Some((reason, message)) => ("False", reason.to_string(), message),
        None => (
            "True",
            "Valid".to_string(),
            "the experiment is valid".to_string(),
        ),
    };
    status.conditions = vec![condition(
        base.conditions.iter().find(|c| c.type_ == "Ready"),
        "Ready",
        ready,
        &reason,
        &message,
        experiment.metadata.generation,
    )];
    if experiment.status.as_ref() == Some(&status) {
        return Ok(());
    }
    let api: Api<ChaosExperiment> = Api::namespaced(
        ctx.client.clone(),
        &experiment.namespace().unwrap_or_default(),
    );
    // Written against the experiment as read: a reconcile that ran on a stale copy (a result's
    // event can arrive before our last status write is in the cache) gets a 409 and runs again,
    // instead of putting back an older run count and handled request.
    let patch = json!({
        "apiVersion": "chaos.faultline.dev/v1alpha1",
        "kind": "ChaosExperiment",
        "metadata": {"resourceVersion": experiment.resource_version()},
        "status": status,
    });
    let written = api
        .patch_status(
            &experiment.name_any(),
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&patch),
        )
        .await?;
    ctx.wrote_status(experiment, &written);
    Ok(())
}

/// A condition that keeps its lastTransitionTime unless its status changes.
pub fn condition(
    previous: Option<&Condition>,
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    generation: Option<i64>,
) -> Condition {
    let last_transition_time = previous
        .filter(|p| p.status == status)
        .map(|p| p.last_transition_time.clone())
        .unwrap_or_else(|| Time(Timestamp::now()));
    Condition {
        type_: type_.into(),
        status: status.into(),
        reason: reason.into(),
        message: message.into(),
        observed_generation: generation,
        last_transition_time,
    }
}

pub fn to_chrono(time: &Time) -> DateTime<Utc> {
    DateTime::from_timestamp(time.0.as_second(), time.0.subsec_nanosecond().max(0) as u32)
        .unwrap_or_default()
}

pub fn from_chrono(time: DateTime<Utc>) -> Time {
    Time(Timestamp::from_second(time.timestamp()).unwrap_or(Timestamp::UNIX_EPOCH))
}

/// The experiments a ChaosProbe change concerns: those in its namespace that reference it.
pub fn experiments_using(
    experiments: &kube::runtime::reflector::Store<ChaosExperiment>,
    probe: &ChaosProbe,
) -> Vec<kube::runtime::reflector::ObjectRef<ChaosExperiment>> {
    let namespace = probe.namespace();
    let name = probe.name_any();
    experiments
        .state()
        .iter()
        .filter(|e| e.namespace() == namespace && e.spec.probe_refs().contains(&name.as_str()))
        .map(|e| kube::runtime::reflector::ObjectRef::from(e.as_ref()))
        .collect()
}

/// Why the experiment's referenced ChaosProbes cannot be used, from the probe cache: one that
/// does not exist, or whose `Ready` condition is False. A probe not yet judged counts as fine;
/// its status write brings the experiment back here.
fn probe_problem(ctx: &Context, experiment: &ChaosExperiment) -> Option<(&'static str, String)> {
    let namespace = experiment.namespace().unwrap_or_default();
    for name in experiment.spec.probe_refs() {
        let key = kube::runtime::reflector::ObjectRef::new(name).within(&namespace);
        let Some(probe) = ctx.probes.get(&key) else {
            return Some((
                "ProbeNotFound",
                format!(
                    "ChaosProbe {name} does not exist in namespace {namespace}: create it or fix probeRef"
                ),
            ));
        };
        let ready = probe
            .status
            .as_ref()
            .and_then(|s| s.conditions.iter().find(|c| c.type_ == "Ready"));
        if let Some(ready) = ready.filter(|c| c.status == "False") {
            return Some((
                "ProbeNotReady",
                format!("ChaosProbe {name} is not Ready: {}", ready.message),
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use http_body_util::BodyExt;
    use kube::runtime::{reflector, watcher};
    use serde_json::Value;

    use super::*;

    /// Each request the fake API server saw: method, path, and JSON body (Null when empty).
    type Seen = Arc<Mutex<Vec<(String, String, Value)>>>;

    const RESULTS: &str = "/apis/chaos.faultline.dev/v1alpha1/namespaces/shop/chaosresults";
    const STATUS: &str =
        "/apis/chaos.faultline.dev/v1alpha1/namespaces/shop/chaosexperiments/kill-web/status";

    fn result(run: i64, request: &str, phase: &str) -> ChaosResult {
        serde_json::from_value(json!({
            "apiVersion": "chaos.faultline.dev/v1alpha1", "kind": "ChaosResult",
            "metadata": {"name": format!("kill-web-{run}"), "namespace": "shop",
                "labels": {EXPERIMENT_LABEL: "kill-web"},
                "annotations": {RUN_REQUESTED_ANNOTATION: request}},
            "spec": {"experimentRef": "kill-web", "runNumber": run, "trigger": "request",
                "experiment": {"faults": []}},
            "status": {"phase": phase}
        }))
        .unwrap()
    }

    /// The experiment with request `request` pending, as read with `runs` runs counted and
    /// `handled` as the last handled request.
    fn experiment(request: &str, runs: i64, handled: Option<&str>) -> ChaosExperiment {
        serde_json::from_value(json!({
            "apiVersion": "chaos.faultline.dev/v1alpha1", "kind": "ChaosExperiment",
            "metadata": {"name": "kill-web", "namespace": "shop", "uid": "e-1",
                "resourceVersion": format!("{}", 40 + runs), "generation": 1,
                "annotations": {RUN_REQUESTED_ANNOTATION: request}},
            "spec": {"faults": []},
            "status": {"runs": runs, "runGeneration": 1, "handledRequest": handled}
        }))
        .unwrap()
    }

    /// A fake API server: creating a result answers 409 when `taken` names it (and a read of it
    /// returns `taken`); a read of the experiment shows `server_runs` runs; deletes succeed;
    /// other writes echo.
    fn api_server(taken: Option<ChaosResult>, server_runs: i64) -> (kube::Client, Seen) {
        let seen: Seen = Arc::default();
        let log = seen.clone();
        let service = tower::service_fn(move |req: hyper::Request<kube::client::Body>| {
            let (log, taken) = (log.clone(), taken.clone());
            async move {
                let (method, path) = (req.method().to_string(), req.uri().path().to_string());
                let body = req.into_body().collect().await.unwrap().to_bytes();
                let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                log.lock()
                    .unwrap()
                    .push((method.clone(), path.clone(), body.clone()));
                let taken_path = taken
                    .as_ref()
                    .map(|t| format!("{RESULTS}/{}", t.name_any()));
                let (code, answer) = match (method.as_str(), taken) {
                    ("POST", Some(_)) if path == RESULTS => (
                        409,
                        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                            "reason": "AlreadyExists", "code": 409, "message": "exists"}),
                    ),
                    ("DELETE", _) => (
                        200,
                        json!({"kind": "Status", "apiVersion": "v1", "status": "Success", "code": 200}),
                    ),
                    ("GET", Some(taken)) if Some(&path) == taken_path.as_ref() => {
                        (200, serde_json::to_value(taken).unwrap())
                    }
                    _ if path.contains("/chaosexperiments/") => (
                        200,
                        serde_json::to_value(experiment("x", server_runs, None)).unwrap(),
                    ),
                    _ => (200, body),
                };
                let response = hyper::Response::builder()
                    .status(code)
                    .body(kube::client::Body::from(
                        serde_json::to_vec(&answer).unwrap(),
                    ))
                    .unwrap();
                Ok::<_, std::convert::Infallible>(response)
            }
        });
        (kube::Client::new(service, "shop"), seen)
    }

    fn context(client: kube::Client, cached: Vec<ChaosResult>) -> Context {
        let (results, mut writer) = reflector::store();
        for result in cached {
            writer.apply_watcher_event(&watcher::Event::Apply(result));
        }
        Context::for_tests(client, results)
    }

    /// The requests that change something (events left out).
    fn writes(seen: &Seen) -> Vec<(String, String, Value)> {
        let seen = seen.lock().unwrap().clone();
        seen.into_iter()
            .filter(|(method, path, _)| method != "GET" && !path.contains("/events"))
            .collect()
    }

    #[tokio::test]
    async fn a_name_taken_by_another_run_on_a_stale_copy_changes_nothing_and_the_request_stays_pending()
     {
        // The copy read counts no run; the server already counts run 1, which answered cli-1.
        let (client, seen) = api_server(Some(result(1, "cli-1", "Completed")), 1);
        let ctx = context(client, vec![]);
        let err = apply(&experiment("cli-2", 0, None), &ctx)
            .await
            .unwrap_err();
        assert_eq!(
            err.kind(),
            super::super::error::ErrorKind::Conflict,
            "{err}"
        );
        let writes = writes(&seen);
        // Only the refused create: no status write marks cli-2 handled by run 1.
        assert_eq!(writes.len(), 1, "{writes:#?}");
        assert_eq!(
            (writes[0].0.as_str(), writes[0].1.as_str()),
            ("POST", RESULTS)
        );
    }

    #[tokio::test]
    async fn a_run_count_left_behind_on_the_server_is_moved_up_without_handling_the_request() {
        let (client, seen) = api_server(Some(result(1, "cli-1", "Completed")), 0);
        let ctx = context(client, vec![result(1, "cli-1", "Completed")]);
        let err = apply(&experiment("cli-2", 0, None), &ctx)
            .await
            .unwrap_err();
        assert_eq!(
            err.kind(),
            super::super::error::ErrorKind::Conflict,
            "{err}"
        );
        let writes = writes(&seen);
        assert_eq!(writes.len(), 2, "{writes:#?}");
        let (method, path, patch) = &writes[1];
        assert_eq!((method.as_str(), path.as_str()), ("PATCH", STATUS));
        assert_eq!(
            patch,
            &json!({"metadata": {"resourceVersion": "40"}, "status": {"runs": 1}})
        );
    }

    #[tokio::test]
    async fn the_request_then_starts_under_the_next_number_written_against_the_copy_read() {
        let (client, seen) = api_server(None, 1);
        let ctx = context(client, vec![result(1, "cli-1", "Completed")]);
        apply(&experiment("cli-2", 1, Some("cli-1")), &ctx)
            .await
            .unwrap();
        let writes = writes(&seen);
        assert_eq!(writes.len(), 2, "{writes:#?}");
        let (method, path, created) = &writes[0];
        assert_eq!((method.as_str(), path.as_str()), ("POST", RESULTS));
        assert_eq!(created["metadata"]["name"], "kill-web-2");
        assert_eq!(
            created["metadata"]["annotations"][RUN_REQUESTED_ANNOTATION],
            "cli-2"
        );
        let (method, path, status) = &writes[1];
        assert_eq!((method.as_str(), path.as_str()), ("PATCH", STATUS));
        // The write is conditional on the copy it was computed from.
        assert_eq!(status["metadata"]["resourceVersion"], "41");
        assert_eq!(status["status"]["runs"], 2);
        assert_eq!(status["status"]["handledRequest"], "cli-2");
    }

    #[tokio::test]
    async fn a_run_started_by_the_same_request_is_reused_not_started_again() {
        // A stale copy: run 1 for cli-2 exists already (the cache may show it, active).
        let (client, seen) = api_server(Some(result(1, "cli-2", "Running")), 1);
        let ctx = context(client, vec![]);
        apply(&experiment("cli-2", 0, None), &ctx).await.unwrap();
        let writes = writes(&seen);
        assert_eq!(writes.len(), 2, "{writes:#?}");
        let (_, _, status) = &writes[1];
        assert_eq!(status["status"]["runs"], 1);
        assert_eq!(status["status"]["handledRequest"], "cli-2");
    }

    /// The experiment at rest: its one generation ran (run `runs`, request cli-`runs` handled),
    /// keeping `limit` results, with `spec` merged over its faults-only spec.
    fn settled(runs: i64, limit: i32, spec: Value) -> ChaosExperiment {
        let mut experiment = experiment(&format!("cli-{runs}"), runs, Some(&format!("cli-{runs}")));
        experiment.spec.history_limit = limit;
        let mut merged = serde_json::to_value(&experiment.spec).unwrap();
        json_patch::merge(&mut merged, &spec);
        experiment.spec = serde_json::from_value(merged).unwrap();
        experiment
    }

    #[tokio::test]
    async fn results_past_the_history_limit_are_deleted_oldest_first_and_never_an_active_one() {
        let (client, seen) = api_server(None, 3);
        let cached = vec![
            result(1, "cli-1", "Completed"),
            result(2, "cli-2", "Running"),
            result(3, "cli-3", "Completed"),
        ];
        let ctx = context(client, cached);
        apply(&settled(3, 1, json!({})), &ctx).await.unwrap();
        let deletes: Vec<String> = writes(&seen)
            .into_iter()
            .filter(|(method, _, _)| method == "DELETE")
            .map(|(_, path, _)| path)
            .collect();
        // Two over the limit: the finished runs 1 and 3 go; run 2 is still active.
        assert_eq!(
            deletes,
            [
                format!("{RESULTS}/kill-web-1"),
                format!("{RESULTS}/kill-web-3")
            ]
        );
    }

    #[tokio::test]
    async fn a_status_that_would_not_change_is_not_written() {
        let (client, seen) = api_server(None, 1);
        let ctx = context(client, vec![result(1, "cli-1", "Completed")]);
        let mut experiment = settled(1, 10, json!({}));
        apply(&experiment, &ctx).await.unwrap();
        let first = writes(&seen);
        assert_eq!(first.len(), 1, "{first:#?}");
        // Read back with the status just written, the same reconcile writes nothing.
        experiment.status = serde_json::from_value(first[0].2["status"].clone()).unwrap();
        seen.lock().unwrap().clear();
        apply(&experiment, &ctx).await.unwrap();
        assert_eq!(writes(&seen), vec![]);
    }

    #[tokio::test]
    async fn an_experiment_whose_probe_does_not_exist_is_not_ready_and_names_it() {
        let (client, seen) = api_server(None, 1);
        let ctx = context(client, vec![result(1, "cli-1", "Completed")]);
        let spec = json!({"steadyState": {"probes": [{"probeRef": "shop-up"}]}});
        apply(&settled(1, 10, spec), &ctx).await.unwrap();
        let writes = writes(&seen);
        assert_eq!(writes.len(), 1, "{writes:#?}");
        let ready = &writes[0].2["status"]["conditions"][0];
        assert_eq!(ready["type"], "Ready");
        assert_eq!(ready["status"], "False");
        assert_eq!(ready["reason"], "ProbeNotFound");
        assert!(
            ready["message"]
                .as_str()
                .unwrap()
                .contains("ChaosProbe shop-up does not exist"),
            "{ready}"
        );
    }

    #[tokio::test]
    async fn only_the_copy_a_status_write_was_computed_from_is_stale() {
        let (client, _) = api_server(None, 1);
        let ctx = context(client, vec![]);
        let copy = |rv: &str| {
            let mut e = experiment("cli-1", 1, Some("cli-1"));
            e.metadata.resource_version = Some(rv.into());
            e
        };
        assert!(!ctx.is_stale(&copy("41")));
        ctx.wrote_status(&copy("41"), &copy("42"));
        assert!(
            ctx.is_stale(&copy("41")),
            "the copy the write was computed from"
        );
        assert!(!ctx.is_stale(&copy("42")), "the copy the write produced");
        assert!(!ctx.is_stale(&copy("43")), "a later change by someone else");
        ctx.forget_status_writes(&copy("43"));
        assert!(!ctx.is_stale(&copy("41")));
    }
}
