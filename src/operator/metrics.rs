//! Prometheus metrics, all prefixed `faultline_`. Labels are bounded: no label takes a pod name.

use std::{collections::BTreeMap, sync::Arc, sync::OnceLock};

use kube::runtime::reflector::Store;
use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

use crate::api::{ChaosResult, RunPhase};

/// The operator's metric families.
pub struct Metrics {
    registry: Registry,
    /// Finished runs by verdict.
    pub runs: IntCounterVec,
    /// The last resilience score per experiment.
    pub resilience_score: GaugeVec,
    /// The expected score each experiment's last run was judged against, by namespace and name.
    pub expected_resilience_score: GaugeVec,
    /// Fault injections by fault type and outcome (injected, refused, failed).
    pub injections: IntCounterVec,
    /// Reverts by fault type and outcome.
    pub reverts: IntCounterVec,
    /// Probe checks by probe type, mode and outcome (passed, failed, unknown).
    pub probe_checks: IntCounterVec,
    /// Ledger entries injected and not yet reverted, computed from the result cache at scrape.
    pub active_injections: IntGauge,
    /// ChaosResults by phase, computed from the result cache at scrape.
    pub results: IntGaugeVec,
    /// The result cache the two gauges above are computed from, once the controllers run.
    result_cache: OnceLock<Store<ChaosResult>>,
    /// Ledger entries the backstop could not revert yet (each retried with backoff).
    pub unreverted_injections: IntGauge,
    /// Reconcile duration by controller.
    pub reconcile_duration: HistogramVec,
    /// Reconcile errors by controller and error kind.
    pub reconcile_errors: IntCounterVec,
    /// Requests the operator sent to the Kubernetes API, by HTTP verb.
    pub kube_requests: IntCounterVec,
    /// 1 on the replica that holds the leader Lease, 0 on the others.
    pub leader: IntGauge,
    /// Objects a watch could not parse, by kind (see [`super::guard`]).
    pub invalid_objects: IntCounterVec,
}

/// Registers `collector` in `registry` and returns it.
fn registered<C: prometheus::core::Collector + Clone + 'static>(
    registry: &Registry,
    collector: C,
) -> C {
    registry
        .register(Box::new(collector.clone()))
        .expect("metric registered once");
    collector
}

/// A registered counter family with these labels.
fn counters(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let vec = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
    registered(registry, vec)
}

/// A registered gauge without labels.
fn gauge(registry: &Registry, name: &str, help: &str) -> IntGauge {
    registered(registry, IntGauge::new(name, help).expect("valid metric"))
}

/// A registered gauge family with one series per experiment.
fn per_experiment(registry: &Registry, name: &str, help: &str) -> GaugeVec {
    let vec =
        GaugeVec::new(Opts::new(name, help), &["namespace", "experiment"]).expect("valid metric");
    registered(registry, vec)
}

/// `faultline_results`, set from the result cache at each scrape.
fn results_by_phase(registry: &Registry) -> IntGaugeVec {
    let vec = IntGaugeVec::new(
        Opts::new("faultline_results", "ChaosResults by phase"),
        &["phase"],
    )
    .expect("valid metric");
    registered(registry, vec)
}

fn reconcile_duration(registry: &Registry) -> HistogramVec {
    let vec = HistogramVec::new(
        HistogramOpts::new(
            "faultline_reconcile_duration_seconds",
            "Time spent in one reconcile",
        )
        .buckets(vec![0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0]),
        &["controller"],
    )
    .expect("valid metric");
    registered(registry, vec)
}

/// `faultline_reconcile_errors_total`, with every controller and error kind at 0 from the
/// start, so a rate() or an alert sees the series before the first error.
fn reconcile_errors(registry: &Registry) -> IntCounterVec {
    let errors = counters(
        registry,
        "faultline_reconcile_errors_total",
        "Reconcile errors by controller and error kind",
        &["controller", "kind"],
    );
    for controller in ["experiment", "result", "probe", "run"] {
        for kind in super::error::ErrorKind::ALL {
            errors.with_label_values(&[controller, kind.as_str()]);
        }
    }
    errors
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let r = &registry;
        Metrics {
            leader: gauge(
                r,
                "faultline_leader",
                "1 if this replica holds the leader Lease and runs the controllers, else 0",
            ),
            kube_requests: counters(
                r,
                "faultline_kube_requests_total",
                "Requests the operator sent to the Kubernetes API, by HTTP verb",
                &["verb"],
            ),
            runs: counters(
                r,
                "faultline_runs_total",
                "Finished chaos runs by verdict",
                &["verdict"],
            ),
            resilience_score: per_experiment(
                r,
                "faultline_resilience_score",
                "The last resilience score (0-100) of each experiment",
            ),
            expected_resilience_score: per_experiment(
                r,
                "faultline_expected_resilience_score",
                "The expected score the last run of each experiment was judged against (0-100)",
            ),
            injections: counters(
                r,
                "faultline_fault_injections_total",
                "Fault injections by fault type and outcome",
                &["type", "outcome"],
            ),
            reverts: counters(
                r,
                "faultline_fault_reverts_total",
                "Fault reverts by fault type and outcome",
                &["type", "outcome"],
            ),
            probe_checks: counters(
                r,
                "faultline_probe_checks_total",
                "Probe checks by probe type, mode and outcome",
                &["type", "mode", "outcome"],
            ),
            active_injections: gauge(
                r,
                "faultline_active_injections",
                "Ledger entries injected and not yet reverted, across every ChaosResult",
            ),
            unreverted_injections: gauge(
                r,
                "faultline_unreverted_injections",
                "Injected changes whose revert keeps failing; each is listed in its result's Reverted condition",
            ),
            reconcile_errors: reconcile_errors(r),
            invalid_objects: counters(
                r,
                "faultline_invalid_objects_total",
                "Objects read from a watch that could not be parsed and were ignored, by kind",
                &["kind"],
            ),
            results: results_by_phase(r),
            reconcile_duration: reconcile_duration(r),
            result_cache: OnceLock::new(),
            registry,
        }
    }

    /// Records an experiment's last finished run: its score and the expected score it was judged
    /// against.
    pub fn set_scores(&self, namespace: &str, experiment: &str, score: f64, expected: i32) {
        let labels = [namespace, experiment];
        self.resilience_score.with_label_values(&labels).set(score);
        self.expected_resilience_score
            .with_label_values(&labels)
            .set(f64::from(expected));
    }

    /// Drops a deleted experiment's score series, so the gauges' label sets stay bounded.
    pub fn forget_scores(&self, namespace: &str, experiment: &str) {
        let labels = [namespace, experiment];
        let _ = self.resilience_score.remove_label_values(&labels);
        let _ = self.expected_resilience_score.remove_label_values(&labels);
    }

    /// Computes `faultline_results` and `faultline_active_injections` from `cache` from now on.
    pub fn observe(&self, cache: Store<ChaosResult>) {
        let _ = self.result_cache.set(cache);
    }

    /// The text exposition of every family.
    pub fn render(&self) -> String {
        if let Some(cache) = self.result_cache.get() {
            let (phases, active) = census(&cache.state());
            for (phase, count) in phases {
                self.results.with_label_values(&[phase]).set(count);
            }
            self.active_injections.set(active);
        }
        let mut buffer = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buffer);
        String::from_utf8(buffer).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Results by phase (every phase listed, 0 included, so a series drops to 0 rather than
/// vanishing) and the ledger entries still injected.
fn census(results: &[Arc<ChaosResult>]) -> (BTreeMap<&'static str, i64>, i64) {
    let mut phases: BTreeMap<&'static str, i64> = [
        RunPhase::Queued,
        RunPhase::Running,
        RunPhase::Completed,
        RunPhase::CompletedWithError,
        RunPhase::Error,
        RunPhase::Timeout,
        RunPhase::Stopped,
    ]
    .iter()
    .map(|p| (p.as_str(), 0))
    .collect();
    let mut active = 0;
    for status in results.iter().filter_map(|r| r.status.as_ref()) {
        *phases.entry(status.phase.as_str()).or_default() += 1;
        let injected = status
            .faults
            .iter()
            .flat_map(|f| f.targets.iter())
            .filter(|t| !t.state.is_settled())
            .count();
        active += i64::try_from(injected).unwrap_or(i64::MAX);
    }
    (phases, active)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_census_counts_results_by_phase_and_entries_still_injected() {
        let result = |phase: &str, states: &[&str]| -> Arc<ChaosResult> {
            let targets: Vec<_> = states
                .iter()
                .map(|s| serde_json::json!({"kind": "Pod", "namespace": "shop", "name": "web-1", "action": "scaled", "time": "2026-12-03T10:00:00Z", "state": s}))
                .collect();
            Arc::new(
                serde_json::from_value(serde_json::json!({
                    "apiVersion": "chaos.faultline.dev/v1alpha1", "kind": "ChaosResult",
                    "metadata": {"name": "r", "namespace": "shop"},
                    "spec": {"experimentRef": "e", "runNumber": 1, "trigger": "create", "experiment": {"faults": []}},
                    "status": {"phase": phase, "faults": [{"name": "f", "type": "pod-delete", "status": "Running", "weight": 1, "targets": targets}]},
                }))
                .expect("a result"),
            )
        };
        let (phases, active) = census(&[
            result("Running", &["Injected", "Reverted"]),
            result("Running", &["Injecting"]),
            result("Completed", &["Reverted"]),
        ]);
        assert_eq!(phases["Running"], 2);
        assert_eq!(phases["Completed"], 1);
        assert_eq!(phases["Stopped"], 0);
        assert_eq!(active, 2);
    }

    #[test]
    fn families_are_prefixed_and_rendered() {
        let metrics = Metrics::new();
        metrics.runs.with_label_values(&["Pass"]).inc();
        metrics
            .probe_checks
            .with_label_values(&["http", "Continuous", "passed"])
            .inc();
        let text = metrics.render();
        assert!(text.contains("faultline_runs_total{verdict=\"Pass\"} 1"));
        // Every controller and error kind at 0 before any error, so alerts and rate() see them.
        assert_eq!(
            text.lines()
                .filter(|l| l.starts_with("faultline_reconcile_errors_total{") && l.ends_with(" 0"))
                .count(),
            20
        );
        assert!(text.contains("faultline_probe_checks_total"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert!(line.starts_with("faultline_"), "{line}");
        }
    }
}
