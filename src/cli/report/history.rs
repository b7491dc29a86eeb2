//! An experiment's retained runs on one page (`faultline report EXPERIMENT --history`): the
//! score over time against the expected score, the verdict of each run, the probes and faults
//! that failed most often, and a section per run. The same data is the JSON format.

use std::collections::BTreeMap;

use jiff::Timestamp;
use maud::{Markup, html};
use serde::{Deserialize, Serialize};

use super::*;
use crate::api::{ChaosExperiment, ChaosResult, FaultType};

/// The history format's version, written into every history.
pub const HISTORY_VERSION: &str = "faultline.dev/history/v1";

/// An experiment's retained runs, oldest first, and what failed in them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct History {
    /// Always [`HISTORY_VERSION`].
    pub version: String,
    pub experiment: String,
    pub namespace: String,
    /// The experiment's expectedResilienceScore now (each run keeps the one it was judged by).
    pub expected_resilience_score: Option<i32>,
    /// How many results the operator keeps; older runs are deleted and cannot be shown.
    pub history_limit: Option<i32>,
    /// Results found for the experiment, before `--last` cut them.
    pub retained: usize,
    pub runs: Vec<HistoryRun>,
    /// Probes by how many of the runs shown they failed in, most first.
    pub failing_probes: Vec<Failing>,
    /// Faults by how many of the runs shown they did not complete cleanly in, most first.
    pub failing_faults: Vec<Failing>,
}

/// One run, as the history shows it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryRun {
    pub result: String,
    pub run_number: i64,
    pub trigger: String,
    pub start_time: Option<Timestamp>,
    pub completion_time: Option<Timestamp>,
    pub phase: RunPhase,
    pub verdict: Verdict,
    pub score: Option<f64>,
    pub expected_resilience_score: Option<i32>,
    pub message: Option<String>,
    pub faults: Vec<HistoryFault>,
    /// The probes that failed in this run: `fault/probe`, or `steady state/probe`.
    pub failed_probes: Vec<String>,
}

/// One fault of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryFault {
    pub name: String,
    pub fault_type: FaultType,
    pub status: FaultPhase,
    pub score: Option<f64>,
}

/// Something that failed, and in how many runs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Failing {
    pub name: String,
    pub failed_runs: usize,
    /// The run numbers, oldest first.
    pub runs: Vec<i64>,
}

impl History {
    /// The history of `name` from its results (in any order): the last `last` runs by run
    /// number, or all of them.
    pub fn new(
        namespace: &str,
        name: &str,
        experiment: Option<&ChaosExperiment>,
        results: &[ChaosResult],
        last: Option<usize>,
    ) -> History {
        let mut runs: Vec<HistoryRun> = results.iter().map(history_run).collect();
        runs.sort_by_key(|run| run.run_number);
        let retained = runs.len();
        if let Some(last) = last {
            runs.drain(..retained.saturating_sub(last));
        }
        let failing_probes = ranked(runs.iter().flat_map(|run| {
            run.failed_probes
                .iter()
                .map(move |probe| (probe.clone(), run.run_number))
        }));
        let failing_faults = ranked(runs.iter().flat_map(|run| {
            run.faults
                .iter()
                .filter(|fault| {
                    matches!(
                        fault.status,
                        FaultPhase::CompletedWithError | FaultPhase::Error
                    )
                })
                .map(move |fault| (fault.name.clone(), run.run_number))
        }));
        History {
            version: HISTORY_VERSION.to_string(),
            experiment: name.to_string(),
            namespace: namespace.to_string(),
            expected_resilience_score: experiment.map(|e| e.spec.expected_resilience_score),
            history_limit: experiment.map(|e| e.spec.history_limit),
            retained,
            runs,
            failing_probes,
            failing_faults,
        }
    }
}

fn history_run(result: &ChaosResult) -> HistoryRun {
    let journal = Journal::from_result(result);
    let status = journal.status;
    let failed = |scope: &str, probes: &[ProbeStatus]| -> Vec<String> {
        probes
            .iter()
            .filter(|p| p.verdict == ProbeVerdict::Failed)
            .map(|p| format!("{scope}/{}", p.name))
            .collect()
    };
    let mut failed_probes = failed("steady state", &status.steady_state.before);
    for probe in failed("steady state", &status.steady_state.after) {
        if !failed_probes.contains(&probe) {
            failed_probes.push(probe);
        }
    }
    for fault in &status.faults {
        failed_probes.extend(failed(&fault.name, &fault.probes));
    }
    HistoryRun {
        result: journal.result,
        run_number: journal.run_number,
        trigger: journal.trigger,
        start_time: status.start_time.map(|t| t.0),
        completion_time: status.completion_time.map(|t| t.0),
        phase: status.phase,
        verdict: status.verdict,
        score: status.resilience_score,
        expected_resilience_score: status.expected_resilience_score,
        message: status.message,
        faults: status
            .faults
            .iter()
            .map(|f| HistoryFault {
                name: f.name.clone(),
                fault_type: f.fault_type,
                status: f.status,
                score: f.score,
            })
            .collect(),
        failed_probes,
    }
}

/// Names by how many distinct runs they appear in, most first, then by name.
fn ranked(failures: impl Iterator<Item = (String, i64)>) -> Vec<Failing> {
    let mut by_name: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (name, run) in failures {
        let runs = by_name.entry(name).or_default();
        if !runs.contains(&run) {
            runs.push(run);
        }
    }
    let mut list: Vec<Failing> = by_name
        .into_iter()
        .map(|(name, runs)| Failing {
            name,
            failed_runs: runs.len(),
            runs,
        })
        .collect();
    list.sort_by(|a, b| b.failed_runs.cmp(&a.failed_runs).then(a.name.cmp(&b.name)));
    list
}

/// The history as pretty JSON, ending in a newline.
pub fn history_json(history: &History) -> String {
    let mut out = serde_json::to_string_pretty(history).expect("a History always serializes");
    out.push('\n');
    out
}

/// The history as one self-contained page, under the same CSP as a run's report.
pub fn history_html(history: &History) -> String {
    let history = &printable(history);
    let title = format!(
        "{}/{} history — Faultline report",
        history.namespace, history.experiment
    );
    let main = html! {
        header class="page" {
            p class="kicker" { "Faultline chaos experiment history" }
            h1 { (history.experiment) }
            p id="retention" class="message" { (retention_note(history)) }
        }
        section id="scores" {
            h2 { "Score over time" }
            (score_history_chart(history))
        }
        section id="runs" {
            h2 { "Runs" }
            (runs_table(history))
        }
        section id="failing" {
            h2 { "What failed most" }
            div class="pair" {
                div { h3 { "Probes" } (failing_table(&history.failing_probes, "probe")) }
                div { h3 { "Faults" } (failing_table(&history.failing_faults, "fault")) }
            }
        }
        section id="run-details" {
            h2 { "Each run" }
            @for run in history.runs.iter().rev() { (run_section(history, run)) }
        }
        footer {
            "Rendered by " code { "faultline report --history" } " as a "
            (history.version) " history."
        }
    };
    page(&title, HISTORY_STYLE, main)
}

/// What the page shows and what it cannot: the operator deletes results past historyLimit.
fn retention_note(history: &History) -> String {
    let shown = history.runs.len();
    let mut note = format!(
        "{shown} run{} shown of {} retained.",
        if shown == 1 { "" } else { "s" },
        history.retained
    );
    if let Some(limit) = history.history_limit {
        note.push_str(&format!(
            " The operator keeps the last {limit} results (spec.historyLimit, at most 100) and \
             deletes older ones, so older runs are gone. For longer history, raise historyLimit, \
             or keep the faultline_resilience_score and faultline_runs_total metrics in Prometheus."
        ));
    }
    note
}

/// Each run's score as a point, in run order, joined by a line, with the expected score as a
/// dashed line. Runs without a score (Error, Stopped, in progress) sit on the axis, hollow.
fn score_history_chart(history: &History) -> Markup {
    if history.runs.is_empty() {
        return none_note("No runs retained.");
    }
    const WIDTH: f64 = 1160.0;
    const HEIGHT: f64 = 260.0;
    const LEFT: f64 = 44.0;
    const RIGHT: f64 = 20.0;
    const TOP: f64 = 14.0;
    const BOTTOM: f64 = 40.0;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let n = history.runs.len();
    let x = |i: usize| {
        let span = WIDTH - LEFT - RIGHT;
        if n == 1 {
            LEFT + span / 2.0
        } else {
            LEFT + span * i as f64 / (n - 1) as f64
        }
    };
    let y = |score: f64| TOP + plot_h * (1.0 - score.clamp(0.0, 100.0) / 100.0);
    let line: Vec<String> = history
        .runs
        .iter()
        .enumerate()
        .filter_map(|(i, run)| run.score.map(|s| format!("{:.1},{:.1}", x(i), y(s))))
        .collect();
    let label_every = n.div_ceil(20).max(1);
    html! {
        svg id="history-chart" class="timeline-chart" viewBox={ "0 0 " (WIDTH) " " (HEIGHT) }
            role="img" aria-label="resilience score of each run" {
            @for tick in [0.0, 25.0, 50.0, 75.0, 100.0] {
                line x1=(LEFT) y1=(f1(y(tick))) x2=(WIDTH - RIGHT) y2=(f1(y(tick))) stroke="#e2e8f0" {}
                text x=(LEFT - 8.0) y=(f1(y(tick) + 4.0)) text-anchor="end" class="axis" { (tick) }
            }
            @if let Some(expected) = history.expected_resilience_score {
                line id="expected-line" x1=(LEFT) y1=(f1(y(f64::from(expected)))) x2=(WIDTH - RIGHT)
                    y2=(f1(y(f64::from(expected)))) stroke="#0f172a" stroke-dasharray="6 4" {
                    title { "expected score " (expected) }
                }
            }
            @if line.len() > 1 {
                polyline points=(line.join(" ")) fill="none" stroke="#94a3b8" stroke-width="2" {}
            }
            @for (i, run) in history.runs.iter().enumerate() {
                @let tone = verdict_tone(run.verdict);
                a href={ "#run-" (run.run_number) } {
                    circle class={ "run-point " (tone.class()) } cx=(f1(x(i))) cy=(f1(y(run.score.unwrap_or(0.0))))
                        r="6" fill=(if run.score.is_some() { tone.colour() } else { "#ffffff" })
                        stroke=(tone.colour()) stroke-width="2" {
                        title {
                            "run " (run.run_number) ": " (run.verdict.as_str()) ", score "
                            (optional_score_text(run.score))
                        }
                    }
                }
                @if i % label_every == 0 || i + 1 == n {
                    text x=(f1(x(i))) y=(f1(HEIGHT - BOTTOM + 18.0)) text-anchor="middle" class="axis" {
                        "#" (run.run_number)
                    }
                }
            }
            text x=(LEFT) y=(f1(HEIGHT - 6.0)) class="axis" { "run number" }
        }
    }
}

fn runs_table(history: &History) -> Markup {
    if history.runs.is_empty() {
        return none_note("No runs retained.");
    }
    let rows: Vec<Vec<Markup>> = history
        .runs
        .iter()
        .rev()
        .map(|run| {
            vec![
                html! { a href={ "#run-" (run.run_number) } { "#" (run.run_number) } },
                html! { (run.result) },
                html! { (run.trigger) },
                html! { @if let Some(start) = &run.start_time { (datetime_html(start)) } },
                badge(run.verdict.as_str(), verdict_tone(run.verdict)),
                number(optional_score_text(run.score)),
                number(
                    run.expected_resilience_score
                        .map(|e| e.to_string())
                        .unwrap_or_default(),
                ),
                html! { (run.failed_probes.join(", ")) },
            ]
        })
        .collect();
    table(
        "history-runs",
        &[
            "Run",
            "Result",
            "Trigger",
            "Started",
            "Verdict",
            "Score",
            "Expected",
            "Failed probes",
        ],
        &rows,
    )
}

fn failing_table(failing: &[Failing], what: &str) -> Markup {
    if failing.is_empty() {
        return none_note(&format!("No {what} failed in these runs."));
    }
    let rows: Vec<Vec<Markup>> = failing
        .iter()
        .map(|f| {
            vec![
                html! { (f.name) },
                number(f.failed_runs),
                html! {
                    @for (i, run) in f.runs.iter().enumerate() {
                        @if i > 0 { ", " }
                        a href={ "#run-" (run) } { "#" (run) }
                    }
                },
            ]
        })
        .collect();
    table(
        &format!("failing-{what}s"),
        &[what, "Failed in", "Runs"],
        &rows,
    )
}

fn run_section(history: &History, run: &HistoryRun) -> Markup {
    let tone = verdict_tone(run.verdict);
    let faults: Vec<Vec<Markup>> = run
        .faults
        .iter()
        .map(|f| {
            vec![
                html! { (f.name) },
                html! { (wire_name(&f.fault_type)) },
                html! { (wire_name(&f.status)) },
                number(optional_score_text(f.score)),
            ]
        })
        .collect();
    html! {
        section id={ "run-" (run.run_number) } class={ "fault " (tone.class()) } {
            h3 {
                "Run #" (run.run_number) " " span class="type" { (run.result) } " "
                (badge(run.verdict.as_str(), tone))
            }
            p class="dim" {
                "Score " (optional_score_text(run.score)) ", phase " (run.phase.as_str())
                @if let Some(message) = &run.message { ": " (message) }
            }
            @if faults.is_empty() {
                (none_note("No faults recorded."))
            } @else {
                (table("history-faults", &["Fault", "Type", "Status", "Score"], &faults))
            }
            p class="dim" {
                "Its own report: " code {
                    "faultline report " (run.result) " -n " (history.namespace) " --format html"
                }
            }
        }
    }
}

const HISTORY_STYLE: &str = r#"
.run-point { cursor: pointer; }
#history-chart { margin-bottom: 8px; }
"#;
