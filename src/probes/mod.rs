//! The probe engine: one file per probe type, behind one trait that returns an outcome.
//!
//! A check answers Passed, Failed or Unknown. Failed means the system under test answered
//! badly (a refused connection, a wrong status, a pod that is not Ready); Unknown means the
//! check itself could not be evaluated (a bad jsonPath, an unknown kind, RBAC forbidding the
//! read) and becomes the verdict N/A. When and how often a probe runs (its mode and
//! `initialDelay`) is the caller's business; this module checks once, or once plus retries.

use std::{collections::BTreeMap, future::Future, time::Duration};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

use crate::api::{ChaosProbeSpec, ProbeType, ProbeVerdict};

mod cmd;
pub mod comparator;
mod http;
mod k8s;
mod prometheus;
#[cfg(test)]
mod test_support;

pub use cmd::POD_START_SLACK;
pub use comparator::compare;

/// The result of one check, with a short message for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The check held, e.g. "GET http://web/health: 200 in 12ms".
    Passed(String),
    /// The check did not hold, e.g. "expected status 200, got 503".
    Failed(String),
    /// The check could not be evaluated; the probe's verdict becomes N/A.
    Unknown(String),
}

impl Outcome {
    /// The message, whatever the outcome.
    pub fn message(&self) -> &str {
        match self {
            Outcome::Passed(m) | Outcome::Failed(m) | Outcome::Unknown(m) => m,
        }
    }

    /// True for [`Outcome::Passed`].
    pub fn is_passed(&self) -> bool {
        matches!(self, Outcome::Passed(_))
    }

    /// The verdict this outcome gives a probe checked once.
    pub fn verdict(&self) -> ProbeVerdict {
        match self {
            Outcome::Passed(_) => ProbeVerdict::Passed,
            Outcome::Failed(_) => ProbeVerdict::Failed,
            Outcome::Unknown(_) => ProbeVerdict::NotApplicable,
        }
    }

    /// A label value for metrics: passed, failed or unknown.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Passed(_) => "passed",
            Outcome::Failed(_) => "failed",
            Outcome::Unknown(_) => "unknown",
        }
    }
}

/// What a check needs from the run that asks for it.
#[derive(Clone)]
pub struct ProbeContext {
    /// The client for k8s probes and cmd probe pods.
    pub client: kube::Client,
    /// The default namespace: the experiment's. Cmd probe pods run here.
    pub namespace: String,
    /// The owner of cmd probe pods, usually the ChaosResult.
    pub owner: Option<OwnerReference>,
    /// The image for cmd probes that name none: the operator's own.
    pub default_image: String,
    /// Labels put on cmd probe pods.
    pub labels: BTreeMap<String, String>,
}

/// One kind of check. Each probe block of a ChaosProbe implements it.
pub trait Probe {
    /// Checks once. Http, k8s and prometheus checks keep no deadline of their own and a cmd
    /// check uses the default timeout (5s): call [`check_once`] to apply `runProperties`.
    fn check(&self, ctx: &ProbeContext) -> impl Future<Output = Outcome> + Send;
}

/// Checks the probe once within `runProperties.timeout`.
///
/// A missing block (type http without an http block) is Unknown. Past the timeout an http,
/// prometheus or cmd probe is Failed ("timed out after 5s"): a slow answer is a bad answer.
/// A k8s probe past its timeout is Unknown, because a slow API server says nothing about
/// the objects it was asked about. A cmd probe gets [`POD_START_SLACK`] on top of its
/// timeout to schedule and start its pod; the timeout itself bounds the command.
pub async fn check_once(spec: &ChaosProbeSpec, ctx: &ProbeContext) -> Outcome {
    let timeout = spec.run_properties.timeout.as_std();
    let outcome = match spec.probe_type {
        ProbeType::Http => match &spec.http {
            Some(probe) => {
                let failed = |m| Outcome::Failed(format!("{}: {m}", probe.what()));
                with_deadline(timeout, probe.check(ctx), failed).await
            }
            None => missing_block(spec.probe_type),
        },
        ProbeType::Prometheus => match &spec.prometheus {
            Some(probe) => {
                let failed = |m| Outcome::Failed(format!("{}: {m}", probe.what()));
                with_deadline(timeout, probe.check(ctx), failed).await
            }
            None => missing_block(spec.probe_type),
        },
        ProbeType::K8s => match &spec.k8s {
            Some(probe) => {
                with_deadline(timeout, probe.check(ctx), |m| {
                    Outcome::Unknown(format!("Kubernetes API: {m}"))
                })
                .await
            }
            None => missing_block(spec.probe_type),
        },
        ProbeType::Cmd => match &spec.cmd {
            // The pod run keeps its own deadlines (start slack, then the timeout); this outer
            // one only guards against an API call that never returns.
            Some(probe) => {
                with_deadline(
                    timeout + POD_START_SLACK + cmd::CLEANUP_SLACK,
                    cmd::run(probe, ctx, timeout),
                    Outcome::Failed,
                )
                .await
            }
            None => missing_block(spec.probe_type),
        },
    };
    tracing::debug!(
        probe_type = spec.probe_type.as_str(),
        outcome = outcome.as_str(),
        message = outcome.message(),
        "probe checked"
    );
    outcome
}

/// Whether a ChaosProbe can be checked as written, without checking it: its block matches its
/// type and parses, and a k8s probe's kind resolves on this cluster. The message says what to
/// fix. This is the ChaosProbe's `Ready` condition.
pub async fn validate(spec: &ChaosProbeSpec, client: &kube::Client) -> Result<(), String> {
    let missing = || Err(missing_block(spec.probe_type).message().to_string());
    match spec.probe_type {
        ProbeType::Http => spec.http.as_ref().map_or_else(missing, http::validate),
        ProbeType::Prometheus => spec
            .prometheus
            .as_ref()
            .map_or_else(missing, prometheus::validate),
        ProbeType::Cmd => spec.cmd.as_ref().map_or_else(missing, |_| Ok(())),
        ProbeType::K8s => match &spec.k8s {
            Some(probe) => k8s::validate(probe, client).await,
            None => missing(),
        },
    }
}

/// Checks the probe, then up to `runProperties.retries` more times `interval` apart, stopping
/// at the first Passed. Returns the last outcome and the number of attempts made.
pub async fn check_with_retries(spec: &ChaosProbeSpec, ctx: &ProbeContext) -> (Outcome, u32) {
    let attempts = spec.run_properties.retries.saturating_add(1);
    let mut attempt = 1;
    loop {
        let outcome = check_once(spec, ctx).await;
        if outcome.is_passed() || attempt >= attempts {
            return (outcome, attempt);
        }
        tokio::time::sleep(spec.run_properties.interval.as_std()).await;
        attempt += 1;
    }
}

async fn with_deadline(
    timeout: Duration,
    check: impl Future<Output = Outcome>,
    on_timeout: impl FnOnce(String) -> Outcome,
) -> Outcome {
    match tokio::time::timeout(timeout, check).await {
        Ok(outcome) => outcome,
        Err(_) => on_timeout(format!("timed out after {}", crate::api::Duration(timeout))),
    }
}

fn missing_block(probe_type: ProbeType) -> Outcome {
    let name = probe_type.as_str();
    Outcome::Unknown(format!(
        "probe type is {name} but the spec has no {name} block"
    ))
}

/// The error and its causes on one line, as hyper and kube errors hide the useful part in
/// their sources ("client error (Connect)": "tcp connect error": "Connection refused").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// A kube error in a few words: the API's own message when there is one.
fn kube_message(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => {
            let reason = if status.reason.is_empty() {
                "Error"
            } else {
                &status.reason
            };
            format!("{reason} ({}): {}", status.code, status.message)
        }
        other => error_chain(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Comparator, ComparatorOp, HttpProbe, K8sCheck, K8sProbe, K8sState};
    use crate::api::{Duration as ApiDuration, PrometheusProbe, RunProperties};
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    };

    use test_support::{context, serve, text_response};

    fn spec(probe_type: ProbeType) -> ChaosProbeSpec {
        ChaosProbeSpec {
            probe_type,
            http: None,
            k8s: None,
            cmd: None,
            prometheus: None,
            run_properties: RunProperties::default(),
        }
    }

    fn http_spec(url: String) -> ChaosProbeSpec {
        let probe: HttpProbe = serde_json::from_value(serde_json::json!({ "url": url }))
            .expect("a minimal http probe");
        ChaosProbeSpec {
            http: Some(probe),
            ..spec(ProbeType::Http)
        }
    }

    #[tokio::test]
    async fn a_missing_block_is_unknown() {
        let outcome = check_once(&spec(ProbeType::Prometheus), &context()).await;
        assert_eq!(
            outcome,
            Outcome::Unknown(
                "probe type is prometheus but the spec has no prometheus block".into()
            )
        );
        assert_eq!(outcome.verdict(), ProbeVerdict::NotApplicable);
    }

    #[tokio::test]
    async fn a_slow_http_answer_fails_with_the_timeout() {
        let server = serve(|_| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            text_response(200, "late")
        })
        .await;
        let mut spec = http_spec(server.url("/"));
        spec.run_properties.timeout = ApiDuration::from_millis(100);
        let outcome = check_once(&spec, &context()).await;
        let want = format!("GET {}: timed out after 100ms", server.url("/"));
        assert_eq!(outcome, Outcome::Failed(want));
    }

    #[tokio::test]
    async fn a_prometheus_timeout_is_failed_too() {
        let server = serve(|_| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            text_response(200, "{}")
        })
        .await;
        let mut spec = spec(ProbeType::Prometheus);
        spec.prometheus = Some(PrometheusProbe {
            endpoint: server.url(""),
            query: "up".into(),
            comparator: Comparator {
                op: ComparatorOp::Eq,
                value: IntOrString::Int(1),
            },
        });
        spec.run_properties.timeout = ApiDuration::from_millis(100);
        assert!(
            matches!(check_once(&spec, &context()).await, Outcome::Failed(m) if m.contains("timed out"))
        );
    }

    #[tokio::test]
    async fn retries_stop_at_the_first_pass() {
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        let server = serve(move |_| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 2 {
                    text_response(503, "warming up")
                } else {
                    text_response(200, "ok")
                }
            }
        })
        .await;
        let mut spec = http_spec(server.url("/"));
        spec.run_properties.retries = 5;
        spec.run_properties.interval = ApiDuration::from_millis(10);
        let (outcome, attempts) = check_with_retries(&spec, &context()).await;
        assert!(outcome.is_passed(), "{outcome:?}");
        assert_eq!(attempts, 3);
        assert_eq!(hits.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn retries_give_up_with_the_last_outcome() {
        let server = serve(|_| async { text_response(503, "down") }).await;
        let mut spec = http_spec(server.url("/"));
        spec.run_properties.retries = 2;
        spec.run_properties.interval = ApiDuration::from_millis(10);
        let (outcome, attempts) = check_with_retries(&spec, &context()).await;
        assert!(
            matches!(&outcome, Outcome::Failed(m) if m.contains("503")),
            "{outcome:?}"
        );
        assert_eq!(attempts, 3);
    }

    #[tokio::test]
    async fn a_k8s_probe_without_an_api_server_is_unknown() {
        let mut spec = spec(ProbeType::K8s);
        spec.k8s = Some(K8sProbe {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            name: Some("web".into()),
            selector: None,
            namespace: None,
            check: K8sCheck {
                state: Some(K8sState::Present),
                min_ready: None,
                json_path: None,
                comparator: None,
            },
        });
        spec.run_properties.timeout = ApiDuration::from_secs(3);
        let outcome = check_once(&spec, &context()).await;
        assert!(matches!(outcome, Outcome::Unknown(_)), "{outcome:?}");
    }
}
