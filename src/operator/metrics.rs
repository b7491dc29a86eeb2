//! Prometheus metrics, all prefixed `faultline_`. Labels are bounded: no label takes a pod name.

use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

/// The operator's metric families.
pub struct Metrics {
    registry: Registry,
    /// Finished runs by verdict.
    pub runs: IntCounterVec,
    /// The last resilience score per experiment.
    pub resilience_score: GaugeVec,
    /// Fault injections by fault type and outcome (injected, refused, failed).
    pub injections: IntCounterVec,
    /// Reverts by fault type and outcome.
    pub reverts: IntCounterVec,
    /// Probe checks by probe type, mode and outcome (passed, failed, unknown).
    pub probe_checks: IntCounterVec,
    /// Faults injected right now.
    pub active_injections: IntGauge,
    /// Ledger entries the backstop could not revert yet (each retried with backoff).
    pub unreverted_injections: IntGauge,
    /// Reconcile duration by controller.
    pub reconcile_duration: HistogramVec,
    /// Reconcile errors by controller and error kind.
    pub reconcile_errors: IntCounterVec,
    /// Requests the operator sent to the Kubernetes API, by HTTP verb.
    pub kube_requests: IntCounterVec,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let runs = IntCounterVec::new(
            Opts::new("faultline_runs_total", "Finished chaos runs by verdict"),
            &["verdict"],
        )
        .expect("valid metric");
        let resilience_score = GaugeVec::new(
            Opts::new(
                "faultline_resilience_score",
                "The last resilience score (0-100) of each experiment",
            ),
            &["namespace", "experiment"],
        )
        .expect("valid metric");
        let injections = IntCounterVec::new(
            Opts::new(
                "faultline_fault_injections_total",
                "Fault injections by fault type and outcome",
            ),
            &["type", "outcome"],
        )
        .expect("valid metric");
        let reverts = IntCounterVec::new(
            Opts::new(
                "faultline_fault_reverts_total",
                "Fault reverts by fault type and outcome",
            ),
            &["type", "outcome"],
        )
        .expect("valid metric");
        let probe_checks = IntCounterVec::new(
            Opts::new(
                "faultline_probe_checks_total",
                "Probe checks by probe type, mode and outcome",
            ),
            &["type", "mode", "outcome"],
        )
        .expect("valid metric");
        let active_injections = IntGauge::new(
            "faultline_active_injections",
            "Faults whose fault pod is running right now",
        )
        .expect("valid metric");
        let unreverted_injections = IntGauge::new(
            "faultline_unreverted_injections",
            "Injected changes whose revert keeps failing; each is listed in its result's Reverted condition",
        )
        .expect("valid metric");
        let reconcile_duration = HistogramVec::new(
            HistogramOpts::new(
                "faultline_reconcile_duration_seconds",
                "Time spent in one reconcile",
            )
            .buckets(vec![0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0]),
            &["controller"],
        )
        .expect("valid metric");
        let reconcile_errors = IntCounterVec::new(
            Opts::new(
                "faultline_reconcile_errors_total",
                "Reconcile errors by controller and error kind",
            ),
            &["controller", "kind"],
        )
        .expect("valid metric");
        let kube_requests = IntCounterVec::new(
            Opts::new(
                "faultline_kube_requests_total",
                "Requests the operator sent to the Kubernetes API, by HTTP verb",
            ),
            &["verb"],
        )
        .expect("valid metric");
        for collector in [
            Box::new(kube_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(runs.clone()),
            Box::new(resilience_score.clone()),
            Box::new(injections.clone()),
            Box::new(reverts.clone()),
            Box::new(probe_checks.clone()),
            Box::new(active_injections.clone()),
            Box::new(unreverted_injections.clone()),
            Box::new(reconcile_duration.clone()),
            Box::new(reconcile_errors.clone()),
        ] {
            registry
                .register(collector)
                .expect("metric registered once");
        }
        Metrics {
            registry,
            runs,
            resilience_score,
            injections,
            reverts,
            probe_checks,
            active_injections,
            unreverted_injections,
            reconcile_duration,
            reconcile_errors,
            kube_requests,
        }
    }

    /// The text exposition of every family.
    pub fn render(&self) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(text.contains("faultline_probe_checks_total"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert!(line.starts_with("faultline_"), "{line}");
        }
    }
}
