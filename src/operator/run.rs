//! The run driver: takes one ChaosResult from Queued to a terminal phase. Everything it needs to
//! resume lives in the result's status, so a restarted operator picks a run up where it was:
//! finished faults stay finished, a running fault pod is watched again, a lost one is an Error.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use futures::future::join_all;
use k8s_openapi::{
    api::core::v1::{Namespace, Pod},
    apimachinery::pkg::apis::meta::v1::Time,
    jiff::Timestamp,
};
use kube::{
    Api, Resource, ResourceExt,
    api::{DeleteParams, Patch, PatchParams},
    runtime::events::EventType,
};
use serde_json::json;
use tokio::sync::Mutex;

use super::{
    backstop,
    context::Context,
    error::{Error, Result},
    experiment::FIELD_MANAGER,
    pods::{self, NodePlan},
};
use crate::{
    api::{
        ChaosProbeSpec, ChaosResult, ChaosResultStatus, Fault, FaultPhase, FaultStatus, ProbeEntry,
        ProbeMode, ProbeStatus, ProbeVerdict, RESULT_LABEL, RunPhase, STOP_ANNOTATION, TargetKind,
        Verdict,
    },
    domain::{
        fault_pod::{FaultPodState, ended_cleanly, fault_pod_state, queue_expired},
        probe_verdicts::{final_verdict, record_check, single_check_status, steady_verdicts},
        run_end::{FaultEnd, merge_end, record_fault_end},
        scoring::{fault_score, pass_mark, run_score, verdict},
        states::{RunEnd, fault_phase, run_phase},
        tenancy::{NamespaceMeta, admit_node_fault, admit_protected, admit_target_namespace},
    },
    faults::{self, Placement},
    probes::{Outcome, ProbeContext, check_with_retries},
};
use rand::SeedableRng;

/// How often the driver looks at its fault pod and at stop requests.
const TICK: Duration = Duration::from_millis(500);

/// The driver's state: the status it owns (everything but the fault pods' ledgers).
struct Run {
    ctx: Arc<Context>,
    result: ChaosResult,
    /// When the run started (from its status, so a resumed run keeps its deadline).
    started: Timestamp,
    status: Mutex<ChaosResultStatus>,
    /// Held from a flush's snapshot to the API server's answer. Two applies in flight may land
    /// in either order, and an older snapshot landing last drops the fault entries a newer one
    /// added: the parallel fault's pod then applies its ledger into an entry with no type,
    /// status or weight, and the API server refuses it.
    applying: Mutex<()>,
    /// Marked when the result or its fault pod changes in the caches.
    wake: super::wake::Waker,
    namespace: String,
    name: String,
}

/// Drives `result` to a terminal phase. Errors are API failures; the caller retries the drive.
pub async fn drive(ctx: Arc<Context>, cached: ChaosResult) -> Result<()> {
    let namespace = cached.namespace().ok_or(Error::MissingField("namespace"))?;
    let name = cached.name_any();
    // The cache may still show a run that its last driver has just ended, the final write on
    // its way: a driver started on that copy would end the run again, and again, as long as the
    // watch lags (the scale bench saw 81 RunCompleted Events for one run). Read the run itself.
    let api: Api<ChaosResult> = Api::namespaced(ctx.client.clone(), &namespace);
    let Some(result) = api.get_opt(&name).await? else {
        return Ok(());
    };
    let mut status = result.status.clone().unwrap_or_default();
    if status.phase.is_terminal() {
        return Ok(());
    }
    let fresh = status.start_time.is_none();
    if fresh {
        status.start_time = Some(now());
        status.phase = RunPhase::Queued;
        status.verdict = Verdict::Awaited;
        status.expected_resilience_score = Some(result.spec.experiment.expected_resilience_score);
    }
    // Ledgers belong to the fault pods; the driver never applies them.
    let started = status
        .start_time
        .as_ref()
        .map(|t| t.0)
        .unwrap_or_else(Timestamp::now);
    let run = Arc::new(Run {
        ctx: ctx.clone(),
        started,
        status: Mutex::new(status),
        applying: Mutex::new(()),
        wake: ctx.wakers.register(&namespace, &name),
        result,
        namespace,
        name,
    });
    if fresh {
        run.flush().await?;
        run.event(
            EventType::Normal,
            "RunStarted",
            format!("run {} started", run.result.spec.run_number),
        )
        .await;
    }

    if let Some(message) = run.preflight().await? {
        return run.finish_early(message).await;
    }
    if let Some(message) = run.steady_state_before().await? {
        return run.finish_early(message).await;
    }

    let faults = run.result.spec.experiment.faults.clone();
    let mut end = RunEnd::Normal;
    let mut message = None;
    if run.result.spec.experiment.parallel {
        let ends = join_all(faults.iter().map(|f| run.clone().run_fault(f.name.clone()))).await;
        for fault_end in ends {
            (end, message) = merge_end(end, message, fault_end?);
        }
    } else {
        for fault in &faults {
            if end != RunEnd::Normal {
                run.skip_fault(&fault.name).await;
                continue;
            }
            let fault_end = run.clone().run_fault(fault.name.clone()).await?;
            (end, message) = merge_end(end, message, fault_end);
        }
    }
    if end == RunEnd::Normal {
        run.steady_state_after().await?;
    }
    run.finish(end, message).await
}

fn now() -> Time {
    Time(Timestamp::now())
}

impl Run {
    /// The fault named `name` in the run's experiment snapshot.
    fn fault_spec(&self, name: &str) -> Option<&Fault> {
        self.result
            .spec
            .experiment
            .faults
            .iter()
            .find(|f| f.name == name)
    }

    fn api(&self) -> Api<ChaosResult> {
        Api::namespaced(self.ctx.client.clone(), &self.namespace)
    }

    async fn event(&self, type_: EventType, reason: &str, note: String) {
        self.ctx.event(&self.result, type_, reason, note).await;
    }

    /// Applies the driver's part of the status (ledgers excluded) under its field manager.
    async fn flush(&self) -> Result<()> {
        let _in_order = self.applying.lock().await;
        let mut status = self.status.lock().await.clone();
        // Each fault pod owns its ledger and its exit report.
        for fault in &mut status.faults {
            fault.targets.clear();
            fault.pod_exit = None;
        }
        // The Reverted condition belongs to the backstop's field manager.
        status.conditions.clear();
        status.observed_generation = self.result.metadata.generation;
        let patch = json!({
            "apiVersion": "chaos.faultline.dev/v1alpha1",
            "kind": "ChaosResult",
            "status": status,
        });
        self.api()
            .patch_status(
                &self.name,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(&patch),
            )
            .await?;
        Ok(())
    }

    /// A stop request, a deleted or stopped experiment, or the run's timeout.
    fn should_stop(&self) -> Option<FaultEnd> {
        if let Some(deadline) = self.deadline()
            && Timestamp::now() >= deadline
        {
            return Some(FaultEnd::TimedOut);
        }
        let key = kube::runtime::reflector::ObjectRef::<ChaosResult>::new(&self.name)
            .within(&self.namespace);
        if self
            .ctx
            .results
            .get(&key)
            .is_some_and(|r| r.annotations().contains_key(STOP_ANNOTATION))
        {
            return Some(FaultEnd::Stopped);
        }
        let experiment = kube::runtime::reflector::ObjectRef::new(&self.result.spec.experiment_ref)
            .within(&self.namespace);
        match self.ctx.experiments.get(&experiment) {
            Some(e) if e.spec.stop || e.metadata.deletion_timestamp.is_some() => {
                Some(FaultEnd::Stopped)
            }
            _ => None,
        }
    }

    fn deadline(&self) -> Option<Timestamp> {
        let timeout = self.result.spec.experiment.timeout?;
        self.started.checked_add(jiff_span(timeout.as_std())).ok()
    }

    /// Namespace opt-in and probe references, checked before anything is touched.
    async fn preflight(&self) -> Result<Option<String>> {
        let faults = &self.result.spec.experiment.faults;
        for fault in faults {
            if crate::faults::kind(fault.fault_type).touches_nodes()
                && let Err(refusal) = admit_node_fault(
                    &self.namespace,
                    &fault.name,
                    &self.ctx.config.node_target_namespaces,
                )
            {
                return Ok(Some(refusal.to_string()));
            }
        }
        let namespaces: Api<Namespace> = Api::all(self.ctx.client.clone());
        // A Node target names no namespace; the node allow-list above covers it.
        let mut targets: Vec<String> = faults
            .iter()
            .filter(|f| f.target.kind != TargetKind::Node)
            .map(|f| {
                f.target
                    .namespace
                    .clone()
                    .unwrap_or_else(|| self.namespace.clone())
            })
            .collect();
        // A network fault reads peer pods and Services in these: they must opt in as targets do.
        targets.extend(faults.iter().flat_map(pods::peer_namespaces));
        targets.sort();
        targets.dedup();
        for target in targets {
            let ns = namespaces.get_opt(&target).await?;
            let meta = ns.as_ref().map(|ns| NamespaceMeta {
                labels: ns.labels(),
                annotations: ns.annotations(),
            });
            if let Err(refusal) = admit_target_namespace(&self.namespace, &target, meta) {
                return Ok(Some(refusal.to_string()));
            }
            // kube-system and Faultline's own namespace must also allow faults on their
            // containers' processes explicitly.
            let in_containers = faults.iter().filter(|f| {
                crate::faults::kind(f.fault_type).acts_in_containers()
                    && f.target.namespace.as_deref().unwrap_or(&self.namespace) == target
            });
            for fault in in_containers {
                let operator_namespace = &self.ctx.config.namespace;
                if let Err(refusal) =
                    admit_protected(&fault.name, &target, operator_namespace, meta)
                {
                    return Ok(Some(refusal.to_string()));
                }
            }
        }
        for entry in self.all_probe_entries() {
            if let Some(reference) = &entry.probe_ref
                && !self.result.spec.probes.contains_key(reference)
            {
                return Ok(Some(format!(
                    "ChaosProbe {reference} was not found in namespace {} when the run started",
                    self.namespace
                )));
            }
        }
        Ok(None)
    }

    fn all_probe_entries(&self) -> impl Iterator<Item = &ProbeEntry> {
        let experiment = &self.result.spec.experiment;
        experiment
            .faults
            .iter()
            .flat_map(|f| f.probes.iter())
            .chain(experiment.steady_state.iter().flat_map(|s| s.probes.iter()))
    }

    fn probe_spec(&self, entry: &ProbeEntry) -> Option<ChaosProbeSpec> {
        match (&entry.probe, &entry.probe_ref) {
            (Some(spec), _) => Some(spec.clone()),
            (None, Some(reference)) => self.result.spec.probes.get(reference).cloned(),
            _ => None,
        }
    }

    fn probe_context(&self) -> ProbeContext {
        ProbeContext {
            client: self.ctx.client.clone(),
            namespace: self.namespace.clone(),
            owner: self.result.controller_owner_ref(&()).map(|mut o| {
                o.controller = Some(false);
                o
            }),
            default_image: self.ctx.config.image.clone(),
            labels: BTreeMap::from([(RESULT_LABEL.to_string(), self.name.clone())]),
        }
    }

    /// One check of `entry` (after its initialDelay when `first`), counted in the metrics.
    async fn check(
        &self,
        entry: &ProbeEntry,
        spec: &ChaosProbeSpec,
        mode: &str,
        first: bool,
    ) -> Outcome {
        if first && !spec.run_properties.initial_delay.as_std().is_zero() {
            tokio::time::sleep(spec.run_properties.initial_delay.as_std()).await;
        }
        let (outcome, _) = check_with_retries(spec, &self.probe_context()).await;
        let label = match &outcome {
            Outcome::Passed(_) => "passed",
            Outcome::Failed(_) => "failed",
            Outcome::Unknown(_) => "unknown",
        };
        self.ctx
            .metrics
            .probe_checks
            .with_label_values(&[spec.probe_type.as_str(), mode, label])
            .inc();
        if !matches!(outcome, Outcome::Passed(_)) {
            tracing::info!(result = %self.name, probe = entry.display_name(), ?outcome, "probe check did not pass");
        }
        outcome
    }

    /// Checks every steady-state probe once (after its initialDelay when `first`).
    async fn check_steady_state(&self, first: bool) -> Vec<ProbeStatus> {
        let entries = self
            .result
            .spec
            .experiment
            .steady_state
            .iter()
            .flat_map(|s| s.probes.iter());
        let mut statuses = Vec::new();
        // References were resolved by preflight, so every entry has a spec.
        for entry in entries {
            if let Some(spec) = self.probe_spec(entry) {
                let outcome = self.check(entry, &spec, "SteadyState", first).await;
                statuses.push(single_check_status(
                    entry.display_name(),
                    entry.mode,
                    &outcome,
                ));
            }
        }
        statuses
    }

    /// The steady state before chaos; Some(message) when it does not hold.
    async fn steady_state_before(&self) -> Result<Option<String>> {
        let has_probes = self
            .result
            .spec
            .experiment
            .steady_state
            .as_ref()
            .is_some_and(|s| !s.probes.is_empty());
        if !has_probes || !self.status.lock().await.steady_state.before.is_empty() {
            return Ok(None);
        }
        let statuses = self.check_steady_state(true).await;
        let failure = statuses
            .iter()
            .find(|s| s.verdict != ProbeVerdict::Passed)
            .map(|s| {
                format!(
                    "steady state before chaos failed: probe {}: {}",
                    s.name,
                    s.reason().unwrap_or("")
                )
            });
        self.status.lock().await.steady_state.before = statuses;
        self.flush().await?;
        Ok(failure)
    }

    async fn steady_state_after(&self) -> Result<()> {
        let statuses = self.check_steady_state(false).await;
        self.status.lock().await.steady_state.after = statuses;
        self.flush().await
    }

    async fn skip_fault(&self, name: &str) {
        let Some(fault) = self.fault_spec(name) else {
            return;
        };
        let mut status = self.status.lock().await;
        match status.faults.iter_mut().find(|f| f.name == name) {
            Some(existing) if existing.status.is_terminal() => {}
            Some(existing) => existing.status = FaultPhase::Skipped,
            None => status.faults.push(FaultStatus {
                name: fault.name.clone(),
                fault_type: fault.fault_type,
                status: FaultPhase::Skipped,
                weight: fault.weight,
                score: Some(0.0),
                pod: None,
                start_time: None,
                end_time: None,
                message: Some("not executed".into()),
                injection_failed: false,
                targets: vec![],
                pod_exit: None,
                probes: vec![],
            }),
        }
    }

    /// Runs one fault: probes before, the fault pod, probes during and after.
    async fn run_fault(self: Arc<Self>, name: String) -> Result<FaultEnd> {
        let fault = self
            .fault_spec(&name)
            .cloned()
            .ok_or(Error::InvalidSpec(format!("no fault named {name}")))?;
        let at = pods::fault_pod_ref(
            &self.ctx.config.namespace,
            &self.namespace,
            &self.name,
            &fault,
        );
        if let Some(end) = self.ended_before(&name).await {
            return Ok(end);
        }
        let resumed = self
            .status
            .lock()
            .await
            .faults
            .iter()
            .any(|f| f.name == name);
        let probes: Vec<(ProbeEntry, ChaosProbeSpec)> = fault
            .probes
            .iter()
            .filter_map(|e| self.probe_spec(e).map(|s| (e.clone(), s)))
            .collect();
        let tracker = Arc::new(Mutex::new(ProbeTracker::new(
            &probes,
            &*self.status.lock().await,
            &name,
        )));

        if !resumed
            && let Some(end) = self
                .start_fault(&fault, &at.name, &probes, &tracker)
                .await?
        {
            return Ok(end);
        }

        // Samplers for Continuous (whole window) and OnChaos (while injected) probes.
        let (stop_tx, _) = tokio::sync::watch::channel(false);
        let (chaos_tx, chaos_rx) = tokio::sync::watch::channel(false);
        let samplers: Vec<_> = probes
            .iter()
            .filter(|(entry, _)| matches!(entry.mode, ProbeMode::Continuous | ProbeMode::OnChaos))
            .map(|(entry, spec)| {
                tokio::spawn(self.clone().sample(
                    name.clone(),
                    entry.clone(),
                    spec.clone(),
                    tracker.clone(),
                    stop_tx.subscribe(),
                    chaos_rx.clone(),
                ))
            })
            .collect();

        let end = self
            .watch_fault_pod(&fault.name, &at, &tracker, &chaos_tx)
            .await?;
        let end = self.revert_leftovers(&fault.name, end).await?;
        let _ = chaos_tx.send(false);
        let _ = stop_tx.send(true);
        for sampler in samplers {
            let _ = sampler.await;
        }
        if end.finished() {
            self.check_after(&name, &probes, &tracker).await;
        }
        self.record_end(&name, &tracker, &end).await?;
        Ok(end)
    }

    /// How a fault that ended before the operator restarted ended: it stays that way.
    async fn ended_before(&self, fault: &str) -> Option<FaultEnd> {
        let status = self.status.lock().await;
        let done = status
            .faults
            .iter()
            .find(|f| f.name == fault && f.status.is_terminal())?;
        Some(match done.status {
            FaultPhase::Stopped => FaultEnd::Stopped,
            _ => FaultEnd::Finished(None),
        })
    }

    /// Writes how a fault ended: its probes' final verdicts, its end time, phase and message.
    async fn record_end(
        &self,
        fault: &str,
        tracker: &Mutex<ProbeTracker>,
        end: &FaultEnd,
    ) -> Result<()> {
        let probes = tracker.lock().await.final_statuses(end);
        let mut status = self.status.lock().await;
        if let Some(fs) = status.faults.iter_mut().find(|f| f.name == fault) {
            fs.probes = probes;
            fs.end_time = Some(now());
            record_fault_end(fs, end);
        }
        drop(status);
        self.flush().await
    }

    /// Starts a fault: probes before it (SOT, the first half of Edge), its status, its RBAC and
    /// its pod. Some(end) when the pod was refused for good.
    async fn start_fault(
        &self,
        fault: &Fault,
        pod_name: &str,
        probes: &[(ProbeEntry, ChaosProbeSpec)],
        tracker: &Mutex<ProbeTracker>,
    ) -> Result<Option<FaultEnd>> {
        for (entry, spec) in probes {
            if matches!(entry.mode, ProbeMode::Sot | ProbeMode::Edge) {
                let outcome = self.check(entry, spec, entry.mode.as_str(), true).await;
                if tracker.lock().await.record(entry.display_name(), &outcome) {
                    self.probe_failed(&fault.name, entry, &outcome).await;
                }
            }
        }
        let setup = pods::ensure_fault_rbac(&self.ctx, &self.namespace, fault).await;
        let mut status = self.status.lock().await;
        status.faults.push(FaultStatus {
            name: fault.name.clone(),
            fault_type: fault.fault_type,
            status: FaultPhase::Running,
            weight: fault.weight,
            score: None,
            pod: Some(pod_name.to_string()),
            start_time: Some(now()),
            end_time: None,
            message: None,
            injection_failed: false,
            targets: vec![],
            pod_exit: None,
            probes: tracker.lock().await.statuses(),
        });
        drop(status);
        self.flush().await?;
        let plan = match faults::kind(fault.fault_type).placement {
            Placement::Api => None,
            Placement::TargetNode => match self.plan_node_fault(fault).await? {
                Ok(plan) => Some(plan),
                Err(why) => {
                    let end = FaultEnd::Finished(Some(why));
                    self.record_end(&fault.name, tracker, &end).await?;
                    return Ok(Some(end));
                }
            },
        };
        let created = match setup {
            Ok(()) => pods::create_fault_pod(&self.ctx, &self.result, fault, plan.as_ref()).await,
            Err(err) => Err(err),
        };
        // Refused for good (quota, RBAC, admission): the fault is in Error, not retried forever.
        if let Err(Error::Kube(kube::Error::Api(status))) = &created
            && (400..500).contains(&status.code)
            && status.code != 429
        {
            let why = format!("cannot create fault pod {pod_name}: {}", status.message);
            let end = FaultEnd::Finished(Some(why));
            self.record_end(&fault.name, tracker, &end).await?;
            return Ok(Some(end));
        }
        created?;
        Ok(None)
    }

    /// Picks a node-level fault's target pods (as the fault's own ServiceAccount, so it sees
    /// what the fault may act on) and the node they share. Err(why) when there is none, or when
    /// they are spread over several nodes: one fault pod acts on one node.
    async fn plan_node_fault(
        &self,
        fault: &Fault,
    ) -> Result<std::result::Result<NodePlan, String>> {
        let kind = faults::kind(fault.fault_type);
        let client = backstop::fault_identity_client(
            &self.ctx,
            &self.ctx.config.namespace,
            &kind.identity(),
        )?;
        let target_namespace = fault.target.namespace.as_deref().unwrap_or(&self.namespace);
        let mut rng = rand::rngs::SmallRng::from_os_rng();
        // A RoleBinding created a moment ago may not be in the authorizer's cache yet.
        let mut attempt = 0;
        let resolved = loop {
            attempt += 1;
            match faults::targets::resolve(
                &client,
                target_namespace,
                &fault.target,
                kind.scope,
                &mut rng,
            )
            .await
            {
                Err(err) if err.status_code() == Some(403) && attempt < 5 => {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(err) => return Ok(Err(format!("cannot select the targets: {err}"))),
                Ok(resolved) => break resolved,
            }
        };
        let targets = match resolved {
            faults::targets::Resolved::Targets { targets, .. } => targets,
            faults::targets::Resolved::Refused(why) => return Ok(Err(why)),
        };
        let pods: Api<Pod> = Api::namespaced(client, target_namespace);
        let mut placed = Vec::new();
        for target in &targets {
            if let Some(pod) = pods.get_opt(&target.name).await? {
                let node = pod.spec.and_then(|s| s.node_name).unwrap_or_default();
                placed.push((target.name.clone(), node));
            }
        }
        Ok(crate::domain::placement::one_node(&placed))
    }

    /// Checks a Continuous probe, or an OnChaos one while the fault is injected, every interval
    /// until `stop`; a failure with stopOnFailure asks the fault to stop.
    async fn sample(
        self: Arc<Self>,
        fault: String,
        entry: ProbeEntry,
        spec: ChaosProbeSpec,
        tracker: Arc<Mutex<ProbeTracker>>,
        mut stop: tokio::sync::watch::Receiver<bool>,
        mut chaos: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut first = true;
        loop {
            if entry.mode == ProbeMode::OnChaos && !*chaos.borrow() {
                tokio::select! {
                    _ = chaos.changed() => continue,
                    _ = stop.changed() => break,
                }
            }
            let outcome = self.check(&entry, &spec, entry.mode.as_str(), first).await;
            first = false;
            let (first_failure, stop_now) = {
                let mut t = tracker.lock().await;
                let first = t.record(entry.display_name(), &outcome);
                let stop =
                    spec.run_properties.stop_on_failure && matches!(outcome, Outcome::Failed(_));
                (first, stop)
            };
            if first_failure {
                self.probe_failed(&fault, &entry, &outcome).await;
            }
            if stop_now {
                tracker.lock().await.stop_requested = Some(format!(
                    "probe {} failed and has stopOnFailure: {}",
                    entry.display_name(),
                    outcome_message(&outcome)
                ));
            }
            if *stop.borrow() {
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep(spec.run_properties.interval.as_std()) => {}
                _ = stop.changed() => break,
            }
        }
    }

    /// After the fault: EOT, the second half of Edge, a last Continuous sample.
    async fn check_after(
        &self,
        fault: &str,
        probes: &[(ProbeEntry, ChaosProbeSpec)],
        tracker: &Mutex<ProbeTracker>,
    ) {
        for (entry, spec) in probes {
            if matches!(
                entry.mode,
                ProbeMode::Eot | ProbeMode::Edge | ProbeMode::Continuous
            ) {
                let first = entry.mode == ProbeMode::Eot;
                let outcome = self.check(entry, spec, entry.mode.as_str(), first).await;
                if tracker.lock().await.record(entry.display_name(), &outcome) {
                    self.probe_failed(fault, entry, &outcome).await;
                }
            }
        }
    }

    /// The backstop, once the fault pod is done: reverts what it left in place and says so in
    /// how the fault ended.
    async fn revert_leftovers(&self, fault: &str, end: FaultEnd) -> Result<FaultEnd> {
        let sustained = self
            .fault_spec(fault)
            .is_some_and(|f| crate::faults::kind(f.fault_type).sustained);
        // A fault that holds nothing (pod-delete) leaves nothing to revert: no extra request.
        if !sustained {
            return Ok(end);
        }
        let pass = backstop::revert_leftovers(&self.ctx, &self.result, Some(fault)).await?;
        if !pass.failures.is_empty() {
            backstop::record_condition(&self.ctx, &self.result, &pass.failures, "RevertFailing")
                .await?;
        }
        if pass.settled == 0 && pass.failures.is_empty() {
            return Ok(end);
        }
        let mut note = format!(
            "the operator reverted {} change(s) of fault {fault} left in place",
            pass.settled
        );
        if !pass.failures.is_empty() {
            note.push_str(&format!(
                "; {} revert(s) failed and are retried: {}",
                pass.failures.len(),
                pass.failures.join("; ")
            ));
        }
        Ok(match end {
            FaultEnd::Finished(Some(why)) => FaultEnd::Finished(Some(format!("{why}; {note}"))),
            FaultEnd::Finished(None) => FaultEnd::Finished(Some(note)),
            other => other,
        })
    }

    async fn probe_failed(&self, fault: &str, entry: &ProbeEntry, outcome: &Outcome) {
        let note = format!(
            "probe {} ({}) of fault {fault} failed: {}",
            entry.display_name(),
            entry.mode.as_str(),
            outcome_message(outcome)
        );
        self.event(EventType::Warning, "ProbeFailed", note).await;
    }

    /// `fault`'s status as the watch cache has it, with what its fault pod wrote.
    fn cached_fault(&self, fault: &str) -> Option<FaultStatus> {
        let key = kube::runtime::reflector::ObjectRef::<ChaosResult>::new(&self.name)
            .within(&self.namespace);
        self.ctx
            .results
            .get(&key)
            .and_then(|r| r.status.clone())
            .and_then(|s| s.faults.into_iter().find(|f| f.name == fault))
    }

    /// Ledger entries the fault pod has written for `fault`, from the watch cache.
    fn ledger_names(&self, fault: &str) -> Vec<String> {
        self.cached_fault(fault)
            .map(|f| {
                f.targets
                    .into_iter()
                    .map(|t| format!("{}/{}", t.namespace, t.name))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Sleeps until the result or the fault pod changes, or one tick at most (stop requests
    /// and deadlines are not woken for).
    async fn nap(woken: &mut tokio::sync::watch::Receiver<()>) {
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = woken.changed() => {}
        }
    }

    /// Waits for the fault pod to finish, honouring queueTimeout, stops and the run's timeout.
    async fn watch_fault_pod(
        &self,
        fault: &str,
        at: &pods::FaultPodRef,
        tracker: &Arc<Mutex<ProbeTracker>>,
        chaos: &tokio::sync::watch::Sender<bool>,
    ) -> Result<FaultEnd> {
        let pod_name = at.name.as_str();
        let pods: Api<Pod> = Api::namespaced(self.ctx.client.clone(), &at.namespace);
        let queue_timeout = self.result.spec.experiment.queue_timeout.as_std();
        let mut injected = false;
        let mut last_flush = tokio::time::Instant::now();
        let mut announced_targets = self.ledger_names(fault).len();
        let mut woken = self.wake.subscribe();
        let end = loop {
            self.announce_targets(fault, &mut announced_targets).await;
            if let Some(end) = self.should_stop() {
                terminate_fault_pod(&pods, pod_name).await;
                break end;
            }
            // Read, then let go of the tracker: its probes keep sampling while the pod stops.
            let stop_requested = tracker.lock().await.stop_requested.clone();
            if let Some(why) = stop_requested {
                terminate_fault_pod(&pods, pod_name).await;
                break FaultEnd::ProbeStop(why);
            }
            // The fault pod's own report of a clean end ends the fault now; the kubelet's comes a
            // second or so later. A failed end waits for the pod to be gone, so that the backstop
            // can revert what it left.
            let reported = self.cached_fault(fault);
            if reported.as_ref().is_some_and(ended_cleanly) {
                break FaultEnd::Finished(None);
            }
            // The first ledger entry is the first injection, often before the kubelet says Running
            // (a resumed fault whose pod has already reported its end is not marked again).
            let exited = reported.is_some_and(|f| f.pod_exit.is_some());
            if !injected && announced_targets > 0 && !exited {
                injected = true;
                self.mark_injected(fault, pod_name, chaos).await?;
            }
            let Some(pod) = self.fault_pod(&pods, at).await? else {
                break FaultEnd::Finished(Some(format!(
                    "fault pod {pod_name} was lost before it finished"
                )));
            };
            match fault_pod_state(&pod) {
                FaultPodState::Succeeded => break FaultEnd::Finished(None),
                FaultPodState::Failed(why) => break FaultEnd::Finished(Some(why)),
                FaultPodState::Running if !injected => {
                    injected = true;
                    self.mark_injected(fault, pod_name, chaos).await?;
                }
                // Once the ledger shows an injection, a pod the cache still shows Pending has
                // started: the queue timeout no longer applies.
                FaultPodState::Pending
                    if !injected && queue_expired(&pod, queue_timeout, Timestamp::now()) =>
                {
                    let _ = pods.delete(pod_name, &DeleteParams::default()).await;
                    break FaultEnd::QueueTimedOut(format!(
                        "fault pod {pod_name} did not start within queueTimeout {}",
                        self.result.spec.experiment.queue_timeout
                    ));
                }
                _ => {}
            }
            if last_flush.elapsed() >= Duration::from_secs(2) {
                self.flush_probes(fault, tracker).await?;
                last_flush = tokio::time::Instant::now();
            }
            Self::nap(&mut woken).await;
        };
        self.count_fault_end(fault, &end).await;
        Ok(end)
    }

    /// The fault pod as the watch cache has it, or as a GET finds it when the cache does not
    /// have it (not seen yet, just created, or gone); None once it is gone.
    async fn fault_pod(&self, pods: &Api<Pod>, at: &pods::FaultPodRef) -> Result<Option<Pod>> {
        let key = kube::runtime::reflector::ObjectRef::new(&at.name).within(&at.namespace);
        match self.ctx.fault_pods.get(&key) {
            Some(pod) => Ok(Some((*pod).clone())),
            None => Ok(pods.get_opt(&at.name).await?),
        }
    }

    /// The fault pod runs: OnChaos probes start sampling and the run is Running.
    async fn mark_injected(
        &self,
        fault: &str,
        pod_name: &str,
        chaos: &tokio::sync::watch::Sender<bool>,
    ) -> Result<()> {
        let _ = chaos.send(true);
        self.status.lock().await.phase = RunPhase::Running;
        self.flush().await?;
        self.event(
            EventType::Normal,
            "FaultInjected",
            format!("fault {fault} is running in pod {pod_name}"),
        )
        .await;
        Ok(())
    }

    /// Announces the targets the fault pod has added to its ledger since `announced`.
    async fn announce_targets(&self, fault: &str, announced: &mut usize) {
        let targets = self.ledger_names(fault);
        if targets.len() > *announced {
            let new = targets[*announced..].join(", ");
            *announced = targets.len();
            let note = format!("fault {fault} acted on {new}");
            self.event(EventType::Normal, "TargetsSelected", note).await;
        }
    }

    /// Writes the probes' tallies so far into the fault's status, when they changed.
    async fn flush_probes(&self, fault: &str, tracker: &Mutex<ProbeTracker>) -> Result<()> {
        let statuses = tracker.lock().await.statuses();
        let changed = {
            let mut status = self.status.lock().await;
            match status.faults.iter_mut().find(|f| f.name == fault) {
                Some(fs) if fs.probes != statuses => {
                    fs.probes = statuses;
                    true
                }
                _ => false,
            }
        };
        if changed {
            self.flush().await?;
        }
        Ok(())
    }

    /// Counts a fault's end in the metrics and records it as an Event.
    async fn count_fault_end(&self, fault: &str, end: &FaultEnd) {
        let fault_type = self
            .fault_spec(fault)
            .map(|f| f.fault_type.as_str())
            .unwrap_or("unknown");
        let outcome = end.as_str();
        self.ctx
            .metrics
            .injections
            .with_label_values(&[fault_type, outcome])
            .inc();
        self.ctx
            .metrics
            .reverts
            .with_label_values(&[fault_type, "reverted"])
            .inc();
        let wording = self
            .fault_spec(fault)
            .map_or("", |f| crate::faults::kind(f.fault_type).revert_wording);
        self.event(
            EventType::Normal,
            "FaultReverted",
            format!("fault {fault} ended ({outcome}); {wording}"),
        )
        .await;
    }

    /// Ends a run before any fault ran: every fault Skipped, nothing touched.
    async fn finish_early(&self, message: String) -> Result<()> {
        for fault in &self.result.spec.experiment.faults {
            self.skip_fault(&fault.name).await;
        }
        self.event(EventType::Warning, "RunFailed", message.clone())
            .await;
        self.finish(RunEnd::Errored, Some(message)).await
    }

    /// Computes fault statuses, scores, the run's phase and verdict, and writes them.
    async fn finish(&self, end: RunEnd, message: Option<String>) -> Result<()> {
        let mut status = self.status.lock().await;
        let steady = steady_verdicts(&status.steady_state.before, &status.steady_state.after);
        let stopped = end == RunEnd::Stopped;
        for fault in &mut status.faults {
            let mut verdicts: Vec<ProbeVerdict> = fault.probes.iter().map(|p| p.verdict).collect();
            verdicts.extend(steady.iter().copied());
            if fault.status == FaultPhase::Running {
                fault.status = fault_phase(&verdicts, fault.injection_failed);
            }
            if fault.status == FaultPhase::Running && stopped {
                fault.status = FaultPhase::Stopped;
            }
            fault.score = Some(fault_score(fault.status, &verdicts));
        }
        let phases: Vec<FaultPhase> = status.faults.iter().map(|f| f.status).collect();
        let phase = run_phase(&phases, end);
        let weighted: Vec<(i32, f64)> = status
            .faults
            .iter()
            .map(|f| (f.weight, f.score.unwrap_or(0.0)))
            .collect();
        let score = run_score(&weighted);
        let expected = self.result.spec.experiment.expected_resilience_score;
        status.phase = phase;
        status.resilience_score = Some(score);
        status.verdict = verdict(phase, score, pass_mark(None, Some(expected)));
        status.completion_time = Some(now());
        status.message = Some(message.unwrap_or_else(|| match status.verdict {
            Verdict::Pass => format!("score {score} meets the expected {expected}"),
            Verdict::Fail => format!("score {score} is below the expected {expected}"),
            other => format!("run ended: {}", other.as_str()),
        }));
        let verdict = status.verdict;
        let note = status.message.clone().unwrap_or_default();
        drop(status);
        self.flush().await?;
        self.ctx
            .metrics
            .runs
            .with_label_values(&[verdict.as_str()])
            .inc();
        let type_ = if verdict == Verdict::Pass {
            EventType::Normal
        } else {
            EventType::Warning
        };
        self.event(
            type_,
            "RunCompleted",
            format!("{} {verdict:?}, score {score}: {note}", phase.as_str()),
        )
        .await;
        Ok(())
    }
}

fn outcome_message(outcome: &Outcome) -> &str {
    match outcome {
        Outcome::Passed(m) | Outcome::Failed(m) | Outcome::Unknown(m) => m,
    }
}

fn jiff_span(d: Duration) -> k8s_openapi::jiff::SignedDuration {
    k8s_openapi::jiff::SignedDuration::try_from(d).unwrap_or(k8s_openapi::jiff::SignedDuration::MAX)
}

/// Per-probe tallies of one fault, restored from status when a run resumes.
struct ProbeTracker {
    probes: Vec<ProbeStatus>,
    stop_requested: Option<String>,
    /// Probes whose first failure has been announced with a ProbeFailed event.
    announced: std::collections::BTreeSet<String>,
}

impl ProbeTracker {
    fn new(
        probes: &[(ProbeEntry, ChaosProbeSpec)],
        status: &ChaosResultStatus,
        fault: &str,
    ) -> Self {
        let existing = status
            .faults
            .iter()
            .find(|f| f.name == fault)
            .map(|f| f.probes.clone())
            .unwrap_or_default();
        let probes = probes
            .iter()
            .map(|(entry, _)| {
                existing
                    .iter()
                    .find(|p| p.name == entry.display_name())
                    .cloned()
                    .unwrap_or(ProbeStatus {
                        name: entry.display_name().to_string(),
                        mode: entry.mode,
                        verdict: ProbeVerdict::Awaited,
                        ..Default::default()
                    })
            })
            .collect();
        ProbeTracker {
            probes,
            stop_requested: None,
            announced: Default::default(),
        }
    }

    /// Tallies one check; true when it is this probe's first failure (worth an Event).
    fn record(&mut self, name: &str, outcome: &Outcome) -> bool {
        let Some(probe) = self.probes.iter_mut().find(|p| p.name == name) else {
            return false;
        };
        record_check(probe, outcome);
        matches!(outcome, Outcome::Failed(_)) && self.announced.insert(name.to_string())
    }

    fn statuses(&self) -> Vec<ProbeStatus> {
        self.probes.clone()
    }

    /// The statuses with their verdicts once the fault is over (see `final_verdict`).
    fn final_statuses(&self, end: &FaultEnd) -> Vec<ProbeStatus> {
        self.probes
            .iter()
            .map(|p| ProbeStatus {
                verdict: final_verdict(p, end.finished()),
                ..p.clone()
            })
            .collect()
    }
}

/// Deletes a fault pod and waits until it has stopped acting: gone, or finished (see
/// `fault_pod_state`).
/// The fault process stops on SIGTERM, so this normally takes a second or two; it gives up
/// after the pod's grace period plus a margin, and the kubelet's deadline still applies.
async fn terminate_fault_pod(pods: &Api<Pod>, pod_name: &str) {
    // The pod's own grace period: long enough for it to revert.
    const GRACE_SECONDS: i64 = pods::REVERT_GRACE_SECONDS;
    let deleted = pods.delete(pod_name, &DeleteParams::default()).await;
    if let Err(err) = deleted
        && !matches!(&err, kube::Error::Api(e) if e.code == 404)
    {
        tracing::warn!(pod = pod_name, %err, "could not delete the fault pod");
    }
    let deadline =
        tokio::time::Instant::now() + Duration::from_secs(GRACE_SECONDS.unsigned_abs() + 10);
    while tokio::time::Instant::now() < deadline {
        match pods.get_opt(pod_name).await {
            Ok(None) => return,
            Ok(Some(pod)) if fault_pod_state(&pod).is_final() => return,
            Ok(Some(_)) => {}
            Err(err) => tracing::debug!(pod = pod_name, %err, "waiting for the fault pod to stop"),
        }
        tokio::time::sleep(TICK).await;
    }
    tracing::warn!(
        pod = pod_name,
        "the fault pod was still terminating when the run ended"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, mode: ProbeMode) -> (ProbeEntry, ChaosProbeSpec) {
        let spec: ChaosProbeSpec = serde_json::from_value(json!({
            "type": "http", "http": {"url": "http://web/health"}
        }))
        .unwrap();
        let entry = ProbeEntry {
            probe_ref: None,
            probe: Some(spec.clone()),
            name: Some(name.into()),
            mode,
        };
        (entry, spec)
    }

    fn status_with(probes: Vec<ProbeStatus>) -> ChaosResultStatus {
        let fault = FaultStatus {
            name: "kill".into(),
            fault_type: crate::api::FaultType::PodDelete,
            status: FaultPhase::Running,
            weight: 1,
            score: None,
            pod: Some("run-1-kill".into()),
            start_time: None,
            end_time: None,
            message: None,
            injection_failed: false,
            targets: vec![],
            pod_exit: None,
            probes,
        };
        ChaosResultStatus {
            faults: vec![fault],
            ..Default::default()
        }
    }

    #[test]
    fn a_resumed_tracker_keeps_unknown_checks_so_the_probe_ends_na() {
        let stored = ProbeStatus {
            name: "web".into(),
            mode: ProbeMode::Continuous,
            verdict: ProbeVerdict::Awaited,
            passed: 3,
            unknown: 1,
            ..Default::default()
        };
        let probes = [entry("web", ProbeMode::Continuous)];
        let mut tracker = ProbeTracker::new(&probes, &status_with(vec![stored]), "kill");
        tracker.record("web", &Outcome::Passed("200".into()));
        let ended = tracker.final_statuses(&FaultEnd::Finished(None));
        assert_eq!(ended[0].verdict, ProbeVerdict::NotApplicable);
        assert_eq!((ended[0].passed, ended[0].unknown), (4, 1));
    }

    /// The fault names one apply carried, and how many other applies were in flight.
    type Applied = (Vec<String>, usize);

    /// A fake API server that answers each request 50 ms late and records, per request, the
    /// fault names its status carried and how many other requests were in flight.
    fn slow_api_server() -> (kube::Client, Arc<std::sync::Mutex<Vec<Applied>>>) {
        use http_body_util::BodyExt;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let log = seen.clone();
        let service = tower::service_fn(move |req: hyper::Request<kube::client::Body>| {
            let (log, in_flight) = (log.clone(), in_flight.clone());
            async move {
                let others = in_flight.fetch_add(1, Ordering::SeqCst);
                let body = req.into_body().collect().await.unwrap().to_bytes();
                let patch: serde_json::Value = serde_json::from_slice(&body).unwrap();
                let names = patch["status"]["faults"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|f| f["name"].as_str().unwrap_or_default().to_string())
                    .collect();
                log.lock().unwrap().push((names, others));
                tokio::time::sleep(Duration::from_millis(50)).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                let answer = serde_json::to_vec(&a_result()).unwrap();
                Ok::<_, std::convert::Infallible>(hyper::Response::new(kube::client::Body::from(
                    answer,
                )))
            }
        });
        (kube::Client::new(service, "shop"), seen)
    }

    fn a_result() -> ChaosResult {
        serde_json::from_value(json!({
            "apiVersion": "chaos.faultline.dev/v1alpha1", "kind": "ChaosResult",
            "metadata": {"name": "web-1", "namespace": "shop"},
            "spec": {"experimentRef": "web", "runNumber": 1, "trigger": "create", "experiment": {
                "parallel": true, "faults": [
                    {"name": "a", "type": "pod-delete", "target": {"kind": "Deployment", "name": "web"}},
                    {"name": "b", "type": "pod-delete", "target": {"kind": "Deployment", "name": "web"}}
                ]}}
        }))
        .unwrap()
    }

    fn run_against(client: kube::Client) -> Arc<Run> {
        let ctx = Context::for_tests(client, kube::runtime::reflector::store().0);
        Arc::new(Run {
            ctx: Arc::new(ctx),
            result: a_result(),
            started: Timestamp::now(),
            status: Mutex::new(ChaosResultStatus::default()),
            applying: Mutex::new(()),
            wake: Arc::default(),
            namespace: "shop".into(),
            name: "web-1".into(),
        })
    }

    #[tokio::test]
    async fn parallel_faults_flush_one_at_a_time_so_the_newest_snapshot_lands_last() {
        let (client, seen) = slow_api_server();
        let run = run_against(client);
        let start = |name: &'static str| {
            let run = run.clone();
            async move {
                let mut fault = status_with(vec![]).faults.remove(0);
                fault.name = name.into();
                run.status.lock().await.faults.push(fault);
                run.flush().await.unwrap();
            }
        };
        futures::join!(start("a"), start("b"));
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 2);
        assert!(seen.iter().all(|(_, others)| *others == 0), "{seen:?}");
        assert_eq!(seen[1].0, ["a", "b"], "{seen:?}");
    }

    /// A fake API server that records each request's method and path and answers with
    /// [`a_result`].
    fn recording_api_server() -> (kube::Client, Arc<std::sync::Mutex<Vec<String>>>) {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        let service = tower::service_fn(move |req: hyper::Request<kube::client::Body>| {
            log.lock()
                .unwrap()
                .push(format!("{} {}", req.method(), req.uri().path()));
            let answer = serde_json::to_vec(&a_result()).unwrap();
            async move {
                Ok::<_, std::convert::Infallible>(hyper::Response::new(kube::client::Body::from(
                    answer,
                )))
            }
        });
        (kube::Client::new(service, "shop"), seen)
    }

    #[tokio::test]
    async fn the_fault_pods_exit_report_ends_the_fault_before_the_kubelet_reports_the_pod() {
        let (client, seen) = recording_api_server();
        let mut result = a_result();
        let mut fault = status_with(vec![]).faults.remove(0);
        fault.name = "a".into();
        let mut entry = crate::api::TargetRecord::new(
            "Pod",
            "shop",
            "web-x",
            crate::api::TargetAction::Deleted,
        );
        entry.settle(crate::api::LedgerState::Reverted, "fault-pod", None);
        fault.targets = vec![entry];
        fault.pod_exit = Some(crate::api::FaultPodExit {
            time: now(),
            error: None,
        });
        result.status = Some(ChaosResultStatus {
            faults: vec![fault],
            ..ChaosResultStatus::default()
        });
        let (store, mut writer) = kube::runtime::reflector::store();
        writer.apply_watcher_event(&kube::runtime::watcher::Event::Apply(result));
        let run = Arc::new(Run {
            ctx: Arc::new(Context::for_tests(client, store)),
            ..Arc::into_inner(run_against(recording_api_server().0)).unwrap()
        });
        let at = pods::FaultPodRef {
            namespace: "shop".into(),
            name: "web-1-a".into(),
        };
        let tracker = Arc::new(Mutex::new(ProbeTracker::new(
            &[],
            &status_with(vec![]),
            "a",
        )));
        let (chaos, injected) = tokio::sync::watch::channel(false);
        let started = tokio::time::Instant::now();
        let end = run
            .watch_fault_pod("a", &at, &tracker, &chaos)
            .await
            .unwrap();
        assert!(started.elapsed() < TICK, "ended at once, not a tick later");
        assert_eq!(end, FaultEnd::Finished(None));
        // Ended already: not marked injected again, and the pod itself was never read; the one
        // request is the FaultReverted Event.
        assert!(!*injected.borrow());
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen, ["POST /apis/events.k8s.io/v1/namespaces/shop/events"]);
    }

    /// Each request a fake API server saw: "METHOD path" and its JSON body.
    type Calls = Arc<std::sync::Mutex<Vec<(String, serde_json::Value)>>>;

    /// A fake API server for a whole drive: the namespace (opted in), status writes and Events
    /// answer; anything else is a 404. Records each request as "METHOD path" and each status
    /// write's body.
    fn cluster_api_server(stored: ChaosResult) -> (kube::Client, Calls) {
        use http_body_util::BodyExt;
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        let service = tower::service_fn(move |req: hyper::Request<kube::client::Body>| {
            let (log, stored) = (log.clone(), stored.clone());
            async move {
                let call = format!("{} {}", req.method(), req.uri().path());
                let body = req.into_body().collect().await.unwrap().to_bytes();
                let body: serde_json::Value =
                    serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
                log.lock().unwrap().push((call.clone(), body.clone()));
                let (code, answer) = match call.as_str() {
                    "GET /api/v1/namespaces/shop" => (
                        200,
                        json!({
                            "apiVersion": "v1", "kind": "Namespace",
                            "metadata": {"name": "shop", "labels": {"chaos.faultline.dev/allow": "true"}}
                        }),
                    ),
                    "GET /api/v1" => (
                        200,
                        json!({
                            "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1",
                            "resources": [{"name": "configmaps", "singularName": "configmap",
                                           "namespaced": true, "kind": "ConfigMap", "verbs": ["get"]}]
                        }),
                    ),
                    "GET /apis/chaos.faultline.dev/v1alpha1/namespaces/shop/chaosresults/web-1" => {
                        (200, json!(stored))
                    }
                    c if c.ends_with("/status") => (200, json!(stored)),
                    c if c.contains("/events") => (200, body),
                    _ => (
                        404,
                        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                      "reason": "NotFound", "code": 404, "message": "not found"}),
                    ),
                };
                let mut response = hyper::Response::new(kube::client::Body::from(
                    serde_json::to_vec(&answer).unwrap(),
                ));
                *response.status_mut() = hyper::StatusCode::from_u16(code).unwrap();
                Ok::<_, std::convert::Infallible>(response)
            }
        });
        (kube::Client::new(service, "shop"), seen)
    }

    /// The operator restarted while fault `kill` ran; its pod has since finished and reported.
    fn a_run_in_flight() -> ChaosResult {
        let mut result: ChaosResult = serde_json::from_value(json!({
            "apiVersion": "chaos.faultline.dev/v1alpha1", "kind": "ChaosResult",
            "metadata": {"name": "web-1", "namespace": "shop"},
            "spec": {"experimentRef": "web", "runNumber": 1, "trigger": "create", "experiment": {
                "faults": [{"name": "kill", "type": "pod-delete",
                            "target": {"kind": "Deployment", "name": "web"},
                            "probes": [{"name": "gone", "mode": "EOT", "probe": {"type": "k8s",
                                "k8s": {"apiVersion": "v1", "kind": "ConfigMap", "name": "old",
                                        "check": {"state": "Absent"}}}}]}]}},
            "status": {"phase": "Running", "verdict": "Awaited",
                       "startTime": "2026-12-03T10:00:00Z",
                       "faults": [{"name": "kill", "type": "pod-delete", "status": "Running",
                                   "weight": 1, "pod": "web-1-kill",
                                   "startTime": "2026-12-03T10:00:01Z"}]}
        }))
        .unwrap();
        let fault = &mut result.status.as_mut().unwrap().faults[0];
        let mut entry = crate::api::TargetRecord::new(
            "Pod",
            "shop",
            "web-x",
            crate::api::TargetAction::Deleted,
        );
        entry.settle(crate::api::LedgerState::Reverted, "fault-pod", None);
        fault.targets = vec![entry];
        fault.pod_exit = Some(crate::api::FaultPodExit {
            time: now(),
            error: None,
        });
        result
    }

    #[tokio::test]
    async fn a_resumed_run_creates_no_second_fault_pod_and_finishes_from_its_status() {
        let result = a_run_in_flight();
        let (client, seen) = cluster_api_server(result.clone());
        let (store, mut writer) = kube::runtime::reflector::store();
        writer.apply_watcher_event(&kube::runtime::watcher::Event::Apply(result.clone()));
        let ctx = Arc::new(Context::for_tests(client, store));
        drive(ctx, result).await.unwrap();
        let seen = seen.lock().unwrap().clone();
        let calls: Vec<&str> = seen.iter().map(|(call, _)| call.as_str()).collect();
        let status =
            "PATCH /apis/chaos.faultline.dev/v1alpha1/namespaces/shop/chaosresults/web-1/status";
        let event = "POST /apis/events.k8s.io/v1/namespaces/shop/events";
        // The run as stored; the opt-in check; FaultReverted (its pod reported a clean end); the
        // EOT probe (discovery, then the ConfigMap it expects absent); the fault's end, the
        // steady state after, the run's end and RunCompleted. No fault pod, no RBAC, no
        // RunStarted, no FaultInjected again.
        assert_eq!(
            calls,
            [
                "GET /apis/chaos.faultline.dev/v1alpha1/namespaces/shop/chaosresults/web-1",
                "GET /api/v1/namespaces/shop",
                event,
                "GET /api/v1",
                "GET /api/v1/namespaces/shop/configmaps/old",
                status,
                status,
                status,
                event
            ],
            "{calls:?}"
        );
        let reasons: Vec<&str> = seen
            .iter()
            .filter(|(call, _)| call == event)
            .map(|(_, body)| body["reason"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(reasons, ["FaultReverted", "RunCompleted"]);
        let last = &seen[7].1["status"];
        assert_eq!(last["phase"], "Completed", "{last}");
        assert_eq!(
            last["startTime"], "2026-12-03T10:00:00Z",
            "the run keeps its start"
        );
        let fault = &last["faults"][0];
        assert_eq!(fault["startTime"], "2026-12-03T10:00:01Z");
        assert!(
            fault.get("targets").is_none() && fault.get("podExit").is_none(),
            "{fault}"
        );
    }

    #[tokio::test]
    async fn a_driver_started_on_a_stale_copy_of_an_ended_run_does_nothing() {
        let mut ended = a_run_in_flight();
        ended.status.as_mut().unwrap().phase = crate::api::RunPhase::Completed;
        let (client, seen) = cluster_api_server(ended);
        let stale = a_run_in_flight();
        let ctx = Arc::new(Context::for_tests(
            client,
            kube::runtime::reflector::store().0,
        ));
        drive(ctx, stale).await.unwrap();
        let seen = seen.lock().unwrap().clone();
        let calls: Vec<&str> = seen.iter().map(|(call, _)| call.as_str()).collect();
        assert_eq!(
            calls,
            ["GET /apis/chaos.faultline.dev/v1alpha1/namespaces/shop/chaosresults/web-1"]
        );
    }

    #[test]
    fn unknown_checks_are_stored_in_the_probe_status() {
        let probes = [entry("web", ProbeMode::OnChaos)];
        let mut tracker = ProbeTracker::new(&probes, &status_with(vec![]), "kill");
        tracker.record("web", &Outcome::Unknown("no route".into()));
        assert_eq!(tracker.statuses()[0].unknown, 1);
    }
}
