//! `faultline logs RESULT [-f]`: the fault pods' logs interleaved with the run's Events, in
//! time order; with `-f`, until the run has ended and its fault pods are done.

use std::{collections::BTreeSet, time::Duration};

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use kube::{
    Api, ResourceExt,
    api::{ListParams, LogParams},
};
use serde_json::Value;

use super::{CliError, Cluster, run::run_events};
use crate::api::{ChaosResult, RESULT_LABEL, RESULT_NAMESPACE_LABEL};

/// One line of output.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    pub time: Timestamp,
    /// `pod/NAME` or `event/REASON`.
    pub source: String,
    pub text: String,
}

impl std::fmt::Display for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let time = self
            .time
            .round(jiff::Unit::Millisecond)
            .unwrap_or(self.time);
        write!(f, "{time}  {:<28}  {}", self.source, self.text)
    }
}

/// The run's node-level fault pods and revert pods, which live in Faultline's namespace; none
/// when the user may not list pods there (the Events still tell what they did).
async fn node_level_pods(cluster: &Cluster, result: &str, namespace: &str) -> Vec<Pod> {
    let selector = format!("{RESULT_LABEL}={result},{RESULT_NAMESPACE_LABEL}={namespace}");
    Api::<Pod>::all(cluster.client.clone())
        .list(&ListParams::default().labels(&selector))
        .await
        .map(|list| list.items)
        .unwrap_or_default()
}

pub async fn run(result: &str, namespace: Option<&str>, follow: bool) -> Result<(), CliError> {
    let cluster = Cluster::connect().await?;
    let namespace = cluster.namespace(namespace);
    let results: Api<ChaosResult> = Api::namespaced(cluster.client.clone(), &namespace);
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), &namespace);
    let mut printed: BTreeSet<Entry> = BTreeSet::new();
    let interrupted = super::interrupted();
    let mut interrupted = std::pin::pin!(interrupted);
    loop {
        let current = results
            .get(result)
            .await
            .map_err(|e| cluster.lookup_error(e, "chaosresult", result, &namespace))?;
        let mut fault_pods = pods
            .list(&ListParams::default().labels(&format!("{RESULT_LABEL}={result}")))
            .await
            .map_err(|e| cluster.error(format!("listing the fault pods of {result}"), e))?
            .items;
        fault_pods.extend(node_level_pods(&cluster, result, &namespace).await);
        let mut batch = Vec::new();
        for pod in &fault_pods {
            let home: Api<Pod> = Api::namespaced(
                cluster.client.clone(),
                pod.metadata.namespace.as_deref().unwrap_or(&namespace),
            );
            batch.extend(pod_lines(&home, pod).await);
        }
        for event in run_events(&cluster, &current).await {
            batch.push(Entry {
                time: event.time,
                source: format!("event/{}", event.reason),
                text: format!("{} {}: {}", event.event_type, event.object, event.message),
            });
        }
        batch.sort();
        for entry in batch {
            if printed.insert(entry.clone()) {
                println!("{entry}");
            }
        }
        let ended = current
            .status
            .as_ref()
            .is_some_and(|s| s.phase.is_terminal());
        let pods_done = fault_pods.iter().all(|p| {
            matches!(
                p.status.as_ref().and_then(|s| s.phase.as_deref()),
                Some("Succeeded" | "Failed")
            ) || p.metadata.deletion_timestamp.is_some()
        });
        if !follow || (ended && pods_done) {
            if printed.is_empty() {
                eprintln!("chaosresult {result} has no fault pod logs or events yet");
            }
            return Ok(());
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = &mut interrupted => return Ok(()),
        }
    }
}

/// A pod's log lines, with the kubelet's timestamps. A pod whose logs cannot be read (not
/// started, already gone) has none yet.
async fn pod_lines(pods: &Api<Pod>, pod: &Pod) -> Vec<Entry> {
    let params = LogParams {
        timestamps: true,
        ..LogParams::default()
    };
    let Ok(text) = pods.logs(&pod.name_any(), &params).await else {
        return Vec::new();
    };
    let source = format!("pod/{}", pod.name_any());
    text.lines()
        .filter_map(|line| {
            let (stamp, rest) = line.split_once(' ')?;
            Some(Entry {
                time: stamp.parse().ok()?,
                source: source.clone(),
                text: readable(rest),
            })
        })
        .collect()
}

/// A structured (JSON) log line as `LEVEL message key=value ...`; anything else as it is.
pub fn readable(line: &str) -> String {
    let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(line) else {
        return line.to_string();
    };
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    let mut out = format!(
        "{} {}",
        fields.get("level").map(text).unwrap_or_default(),
        fields.get("message").map(text).unwrap_or_default()
    );
    for (key, value) in &fields {
        if !matches!(key.as_str(), "level" | "message" | "timestamp" | "target") {
            out.push_str(&format!(" {key}={}", text(value)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_log_lines_read_as_level_message_fields() {
        let line = r#"{"timestamp":"2026-11-21T10:00:00Z","level":"INFO","message":"deleted pod","target":"faultline::faults","pod":"web-1","n":2}"#;
        assert_eq!(readable(line), "INFO deleted pod n=2 pod=web-1");
        assert_eq!(readable("plain text"), "plain text");
    }

    #[test]
    fn entries_sort_by_time_then_source() {
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        let mut entries = [
            Entry {
                time: at("2026-11-21T10:00:02Z"),
                source: "pod/a".into(),
                text: "second".into(),
            },
            Entry {
                time: at("2026-11-21T10:00:01Z"),
                source: "event/RunStarted".into(),
                text: "first".into(),
            },
        ];
        entries.sort();
        assert_eq!(entries[0].text, "first");
        assert!(
            entries[0]
                .to_string()
                .starts_with("2026-11-21T10:00:01Z  event/RunStarted")
        );
    }
}
