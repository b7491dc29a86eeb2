//! Renders a run's journal for people and pipelines (`faultline report --format json|junit|html`):
//! pretty JSON, JUnit XML that CI systems show as test results, and one self-contained HTML page.

mod history;
mod html;
mod junit;
#[cfg(test)]
mod tests;
mod timeline;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde::Serialize;

use super::journal::{Journal, JournalEvent, ProbeSample};
use crate::api::{
    FaultPhase, FaultStatus, ProbeStatus, ProbeVerdict, RunPhase, TargetAction, TargetRecord,
    Verdict,
};
use crate::domain::scoring;

pub use history::{History, history_html, history_json};
pub use html::html;
use html::*;
pub use junit::junit;
use junit::*;
use timeline::*;

/// The journal as pretty JSON, ending in a newline.
pub fn json(journal: &Journal) -> String {
    // A Journal has only string map keys and derived Serialize impls, so this cannot fail.
    let mut out = serde_json::to_string_pretty(journal).expect("a Journal always serializes");
    out.push('\n');
    out
}

/// The name a value has on the wire (`N/A`, `SOT`, `pod-delete`), so reports speak the API's words.
fn wire_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

/// A score as people read it: one decimal at most, `100` rather than `100.0`.
fn score_text(score: f64) -> String {
    if !score.is_finite() {
        return "n/a".to_string();
    }
    let rounded = (score * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.1}")
    }
}

/// The score gate of the run: `--min-score` or the experiment's expected score (100 by default).
fn min_score(journal: &Journal) -> f64 {
    scoring::pass_mark(journal.min_score, journal.status.expected_resilience_score)
}

fn seconds_between(start: Option<&Time>, end: Option<&Time>) -> Option<f64> {
    let (start, end) = (start?, end?);
    let millis = end.0.as_millisecond() - start.0.as_millisecond();
    Some(millis.max(0) as f64 / 1000.0)
}

/// The run's duration: the journal's own figure, else what the status times say.
fn run_seconds(journal: &Journal) -> Option<f64> {
    journal.duration_seconds.or_else(|| {
        seconds_between(
            journal.status.start_time.as_ref(),
            journal.status.completion_time.as_ref(),
        )
    })
}

/// A span as people say it: `0.4s`, `45s`, `2m 5s`, `1h 3m`.
fn duration_text(seconds: f64) -> String {
    if seconds < 10.0 && seconds.fract() != 0.0 {
        return format!("{seconds:.1}s");
    }
    let total = seconds.round() as i64;
    let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) if s == 0 => format!("{m}m"),
        (0, _) => format!("{m}m {s}s"),
        _ if m == 0 => format!("{h}h"),
        _ => format!("{h}h {m}m"),
    }
}

fn datetime_text(time: &Timestamp) -> String {
    time.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn clock_text(time: &Timestamp) -> String {
    time.strftime("%H:%M:%S").to_string()
}

fn action_text(action: TargetAction) -> &'static str {
    match action {
        TargetAction::Selected => "Selected",
        TargetAction::Deleted => "Deleted",
        TargetAction::Scaled => "Scaled",
        TargetAction::Cordoned => "Cordoned",
        TargetAction::Drained => "Drained",
        TargetAction::Evicted => "Evicted",
        TargetAction::Tainted => "Tainted",
        TargetAction::Shaped => "Shaped",
        TargetAction::Killed => "Killed",
        TargetAction::Hogged => "Hogged",
    }
}

/// What a target record says happened, e.g. `Deleted Pod shop/api-1`.
fn target_text(target: &TargetRecord) -> String {
    format!(
        "{} {} {}/{}",
        action_text(target.action),
        target.kind,
        target.namespace,
        target.name
    )
}
