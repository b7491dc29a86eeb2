//! `faultline get experiments|results|probes`: kubectl-like tables.

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{Api, ResourceExt, api::ListParams};

use super::{CliError, Cluster, follow::format_score, follow::label};
use crate::api::{ChaosExperiment, ChaosProbe, ChaosResult, EXPERIMENT_LABEL};

/// What to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    #[value(alias = "experiment", alias = "cexp", alias = "chaosexperiments")]
    Experiments,
    #[value(alias = "result", alias = "cres", alias = "chaosresults")]
    Results,
    #[value(alias = "probe", alias = "cprobe", alias = "chaosprobes")]
    Probes,
}

/// The options of `faultline get`.
#[derive(Debug)]
pub struct GetOptions {
    pub kind: Kind,
    pub namespace: Option<String>,
    pub all_namespaces: bool,
    /// For results: only this experiment's.
    pub experiment: Option<String>,
}

pub async fn run(options: GetOptions) -> Result<String, CliError> {
    let cluster = Cluster::connect().await?;
    let namespace = cluster.namespace(options.namespace.as_deref());
    let scope = if options.all_namespaces {
        None
    } else {
        Some(namespace.as_str())
    };
    let mut params = ListParams::default();
    if let Some(experiment) = &options.experiment {
        params = params.labels(&format!("{EXPERIMENT_LABEL}={experiment}"));
    }
    let now = Timestamp::now();
    let rows = match options.kind {
        Kind::Experiments => {
            let items = list::<ChaosExperiment>(&cluster, scope, &params).await?;
            with_namespace(experiment_rows(&items, now), &items, scope)
        }
        Kind::Results => {
            let mut items = list::<ChaosResult>(&cluster, scope, &params).await?;
            items.sort_by_key(|r| {
                (
                    r.namespace(),
                    r.spec.experiment_ref.clone(),
                    r.spec.run_number,
                )
            });
            with_namespace(result_rows(&items, now), &items, scope)
        }
        Kind::Probes => {
            let items = list::<ChaosProbe>(&cluster, scope, &params).await?;
            with_namespace(probe_rows(&items, now), &items, scope)
        }
    };
    if rows.len() == 1 {
        return Ok(nothing_found(options.kind, scope));
    }
    Ok(table(&rows))
}

/// The experiments table: a header row, then one row per experiment.
fn experiment_rows(items: &[ChaosExperiment], now: Timestamp) -> Vec<Vec<String>> {
    let mut rows = vec![cols([
        "NAME", "PHASE", "SCORE", "VERDICT", "LAST RUN", "SCHEDULE", "AGE",
    ])];
    rows.extend(items.iter().map(|e| {
        let status = e.status.clone().unwrap_or_default();
        let last = status.last_run.clone();
        vec![
            e.name_any(),
            status
                .phase
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "-".into()),
            last.as_ref()
                .and_then(|l| l.score)
                .map(format_score)
                .unwrap_or_else(|| "-".into()),
            last.as_ref()
                .and_then(|l| l.verdict)
                .map(|v| v.as_str().to_string())
                .unwrap_or_else(|| "-".into()),
            last.map(|l| l.result).unwrap_or_else(|| "-".into()),
            e.spec.schedule.clone().unwrap_or_else(|| "-".into()),
            age(e.metadata.creation_timestamp.as_ref(), now),
        ]
    }));
    rows
}

/// The results table: a header row, then one row per result, in the order given.
fn result_rows(items: &[ChaosResult], now: Timestamp) -> Vec<Vec<String>> {
    let mut rows = vec![cols([
        "NAME",
        "EXPERIMENT",
        "TRIGGER",
        "PHASE",
        "VERDICT",
        "SCORE",
        "DURATION",
        "AGE",
    ])];
    rows.extend(items.iter().map(|r| {
        let status = r.status.clone().unwrap_or_default();
        let duration = match (&status.start_time, &status.completion_time) {
            (Some(s), Some(e)) => format!("{}s", (e.0.as_second() - s.0.as_second())),
            _ => "-".into(),
        };
        vec![
            r.name_any(),
            r.spec.experiment_ref.clone(),
            label(&r.spec.trigger),
            status.phase.as_str().to_string(),
            status.verdict.as_str().to_string(),
            status
                .resilience_score
                .map(format_score)
                .unwrap_or_else(|| "-".into()),
            duration,
            age(r.metadata.creation_timestamp.as_ref(), now),
        ]
    }));
    rows
}

/// The probes table: a header row, then one row per probe with its `Ready` condition.
fn probe_rows(items: &[ChaosProbe], now: Timestamp) -> Vec<Vec<String>> {
    let mut rows = vec![cols(["NAME", "TYPE", "READY", "AGE"])];
    rows.extend(items.iter().map(|p| {
        let ready = p
            .status
            .as_ref()
            .and_then(|s| s.conditions.iter().find(|c| c.type_ == "Ready"))
            .map(|c| c.status.clone())
            .unwrap_or_else(|| "-".into());
        vec![
            p.name_any(),
            label(&p.spec.probe_type),
            ready,
            age(p.metadata.creation_timestamp.as_ref(), now),
        ]
    }));
    rows
}

/// What `get` prints when the list is empty, naming where it looked.
fn nothing_found(kind: Kind, scope: Option<&str>) -> String {
    let place = scope.map_or_else(
        || "any namespace".to_string(),
        |ns| format!("namespace {ns}"),
    );
    format!("No {} found in {place}.\n", plural(kind))
}

fn plural(kind: Kind) -> &'static str {
    match kind {
        Kind::Experiments => "chaosexperiments",
        Kind::Results => "chaosresults",
        Kind::Probes => "chaosprobes",
    }
}

fn cols<const N: usize>(names: [&str; N]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

async fn list<K>(
    cluster: &Cluster,
    namespace: Option<&str>,
    params: &ListParams,
) -> Result<Vec<K>, CliError>
where
    K: kube::Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned,
{
    let api: Api<K> = match namespace {
        Some(ns) => Api::namespaced(cluster.client.clone(), ns),
        None => Api::all(cluster.client.clone()),
    };
    let mut items = api
        .list(params)
        .await
        .map_err(|e| cluster.error(format!("listing {}", K::plural(&())), e))?
        .items;
    items.sort_by_key(|i| (i.meta().namespace.clone(), i.meta().name.clone()));
    Ok(items)
}

/// Adds a NAMESPACE column in front when listing across namespaces.
fn with_namespace<K: kube::Resource>(
    mut rows: Vec<Vec<String>>,
    items: &[K],
    scope: Option<&str>,
) -> Vec<Vec<String>> {
    if scope.is_none() {
        rows[0].insert(0, "NAMESPACE".into());
        for (row, item) in rows.iter_mut().skip(1).zip(items) {
            row.insert(0, item.meta().namespace.clone().unwrap_or_default());
        }
    }
    rows
}

/// Columns padded to their widest cell, three spaces apart, as kubectl prints.
pub fn table(rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, cell)| format!("{cell:<width$}", width = widths[c]))
            .collect();
        out.push_str(line.join("   ").trim_end());
        out.push('\n');
    }
    out
}

/// kubectl's short ages: 45s, 3m, 2h, 5d.
pub fn age(created: Option<&Time>, now: Timestamp) -> String {
    let Some(created) = created else {
        return "-".into();
    };
    let secs = (now.as_second() - created.0.as_second()).max(0);
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_like_kubectl() {
        let rows = vec![
            cols(["NAME", "PHASE"]),
            cols(["web-pod-delete-1", "Completed"]),
        ];
        assert_eq!(
            table(&rows),
            "NAME               PHASE\nweb-pod-delete-1   Completed\n"
        );
    }

    #[test]
    fn ages_are_short() {
        let now: Timestamp = "2026-11-21T12:00:00Z".parse().unwrap();
        let at = |s: &str| Time(s.parse().unwrap());
        assert_eq!(age(Some(&at("2026-11-21T11:59:15Z")), now), "45s");
        assert_eq!(age(Some(&at("2026-11-21T11:30:00Z")), now), "30m");
        assert_eq!(age(Some(&at("2026-11-21T07:00:00Z")), now), "5h");
        assert_eq!(age(Some(&at("2026-11-16T12:00:00Z")), now), "5d");
        assert_eq!(age(None, now), "-");
    }

    fn noon() -> Timestamp {
        "2026-11-21T12:00:00Z".parse().unwrap()
    }

    /// A Faultline object from the YAML that follows its apiVersion.
    fn object<K: serde::de::DeserializeOwned>(yaml: &str) -> K {
        serde_yaml_ng::from_str(&format!("apiVersion: chaos.faultline.dev/v1alpha1\n{yaml}"))
            .unwrap()
    }

    #[test]
    fn a_result_row_shows_the_duration_of_an_ended_run_only() {
        let result = |status: &str| -> ChaosResult {
            object(&format!(
                "kind: ChaosResult
metadata: {{name: kill-1, creationTimestamp: '2026-11-21T11:59:00Z'}}
spec:
  experimentRef: kill
  runNumber: 1
  trigger: request
  experiment:
    faults:
    - name: k
      type: pod-delete
      target: {{kind: Deployment, name: web}}
status: {status}"
            ))
        };
        let ended = result(
            "{phase: Completed, verdict: Pass, resilienceScore: 100, startTime: '2026-11-21T11:59:00Z', completionTime: '2026-11-21T11:59:42Z'}",
        );
        let running = result("{phase: Running, startTime: '2026-11-21T11:59:00Z'}");
        let rows = result_rows(&[ended, running], noon());
        assert_eq!(rows[0][6], "DURATION");
        assert_eq!(
            rows[1],
            cols([
                "kill-1",
                "kill",
                "request",
                "Completed",
                "Pass",
                "100",
                "42s",
                "60s"
            ])
        );
        assert_eq!(rows[2][6], "-");
    }

    #[test]
    fn a_probe_row_shows_its_ready_condition_or_a_dash() {
        let probe = |status: &str| -> ChaosProbe {
            object(&format!(
                "kind: ChaosProbe
metadata: {{name: up}}
spec: {{type: http, http: {{url: 'http://web'}}}}
{status}"
            ))
        };
        let ready = probe(
            "status: {conditions: [{type: Ready, status: 'False', reason: Invalid, message: m, lastTransitionTime: '2026-11-21T11:00:00Z'}]}",
        );
        let rows = probe_rows(&[ready, probe("")], noon());
        assert_eq!(rows[0], cols(["NAME", "TYPE", "READY", "AGE"]));
        assert_eq!(rows[1], cols(["up", "http", "False", "-"]));
        assert_eq!(rows[2], cols(["up", "http", "-", "-"]));
    }

    #[test]
    fn an_empty_list_names_where_it_looked() {
        assert_eq!(
            nothing_found(Kind::Probes, Some("shop")),
            "No chaosprobes found in namespace shop.\n"
        );
        assert_eq!(
            nothing_found(Kind::Results, None),
            "No chaosresults found in any namespace.\n"
        );
    }
}
