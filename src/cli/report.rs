//! Renders a run's journal for people and pipelines (`faultline report --format json|junit|html`):
//! pretty JSON, JUnit XML that CI systems show as test results, and one self-contained HTML page.

use std::fmt::Write as _;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde::Serialize;

use super::journal::{Journal, JournalEvent, ProbeSample};
use crate::api::{
    FaultPhase, FaultStatus, ProbeStatus, ProbeVerdict, RunPhase, TargetAction, TargetRecord,
    Verdict,
};

/// The journal as pretty JSON, ending in a newline.
pub fn json(journal: &Journal) -> String {
    // A Journal has only string map keys and derived Serialize impls, so this cannot fail.
    let mut out = serde_json::to_string_pretty(journal).expect("a Journal always serializes");
    out.push('\n');
    out
}

// ---------------------------------------------------------------------------------------------
// Shared vocabulary: names, numbers, times and escaping.

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
    journal
        .min_score
        .or(journal.status.expected_resilience_score.map(f64::from))
        .unwrap_or(100.0)
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

/// XML 1.0 forbids most control characters even as references; a message carrying terminal
/// colour codes must not make the whole report unparsable.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Escapes text for XML and HTML alike, in element content and in quoted attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().filter(|c| is_xml_char(*c)) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Escapes an XML attribute value, keeping line breaks: a parser turns raw ones into spaces.
fn xml_attr(text: &str) -> String {
    escape(text)
        .replace('\t', "&#9;")
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
}

// ---------------------------------------------------------------------------------------------
// JUnit XML

/// How one test case ended, in JUnit's terms.
#[derive(Debug, PartialEq)]
enum Outcome {
    Passed,
    Failure {
        kind: String,
        message: String,
        body: String,
    },
    Error {
        kind: String,
        message: String,
        body: String,
    },
    Skipped {
        message: String,
    },
}

/// One JUnit test case before it is written out.
#[derive(Debug)]
struct Case {
    name: String,
    seconds: f64,
    outcome: Outcome,
}

/// The run as JUnit XML: one suite, a case per fault, per probe, per steady-state probe, and one
/// for the resilience score, so a CI page shows which part of the run failed.
pub fn junit(journal: &Journal) -> String {
    let cases = junit_cases(journal);
    let count = |pick: fn(&Outcome) -> bool| cases.iter().filter(|c| pick(&c.outcome)).count();
    let tests = cases.len();
    let failures = count(|o| matches!(o, Outcome::Failure { .. }));
    let errors = count(|o| matches!(o, Outcome::Error { .. }));
    let skipped = count(|o| matches!(o, Outcome::Skipped { .. }));
    let seconds = run_seconds(journal).unwrap_or(0.0);
    let counts = format!(
        r#"tests="{tests}" failures="{failures}" errors="{errors}" skipped="{skipped}" time="{seconds:.3}""#
    );
    let classname = format!("faultline.{}", journal.experiment);

    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(xml, r#"<testsuites name="faultline" {counts}>"#);
    let _ = write!(
        xml,
        r#"  <testsuite name="{}" {counts}"#,
        xml_attr(&format!("{}/{}", journal.namespace, journal.experiment))
    );
    if let Some(start) = &journal.status.start_time {
        let _ = write!(xml, r#" timestamp="{}""#, junit_timestamp(&start.0));
    }
    xml.push_str(">\n");
    write_properties(&mut xml, journal);
    for case in &cases {
        write_case(&mut xml, &classname, case);
    }
    let _ = writeln!(
        xml,
        "    <system-out>{}</system-out>",
        escape(&plain_summary(journal))
    );
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

/// JUnit's schema wants a local date-time without a zone; Faultline's times are UTC.
fn junit_timestamp(time: &Timestamp) -> String {
    time.strftime("%Y-%m-%dT%H:%M:%S").to_string()
}

fn junit_cases(journal: &Journal) -> Vec<Case> {
    let status = &journal.status;
    let mut cases = Vec::new();
    cases.extend(steady_state_cases("before", &status.steady_state.before));
    for fault in &status.faults {
        cases.push(fault_case(fault));
        for probe in &fault.probes {
            cases.push(Case {
                name: format!(
                    "fault {} / probe {} ({})",
                    fault.name,
                    probe.name,
                    wire_name(&probe.mode)
                ),
                // The fault's case carries the time; CI tools add up case times.
                seconds: 0.0,
                outcome: probe_outcome(probe),
            });
        }
    }
    cases.extend(steady_state_cases("after", &status.steady_state.after));
    cases.push(Case {
        name: "resilience score".to_string(),
        seconds: 0.0,
        outcome: score_outcome(journal),
    });
    cases
}

fn steady_state_cases(when: &str, probes: &[ProbeStatus]) -> Vec<Case> {
    probes
        .iter()
        .map(|probe| Case {
            name: format!("steady state {when} / probe {}", probe.name),
            seconds: 0.0,
            outcome: probe_outcome(probe),
        })
        .collect()
}

fn fault_case(fault: &FaultStatus) -> Case {
    Case {
        name: format!("fault {} ({})", fault.name, wire_name(&fault.fault_type)),
        seconds: seconds_between(fault.start_time.as_ref(), fault.end_time.as_ref()).unwrap_or(0.0),
        outcome: fault_outcome(fault),
    }
}

fn fault_outcome(fault: &FaultStatus) -> Outcome {
    let message = |otherwise: &str| {
        fault
            .message
            .clone()
            .unwrap_or_else(|| otherwise.to_string())
    };
    match fault.status {
        FaultPhase::Completed => Outcome::Passed,
        FaultPhase::CompletedWithError => Outcome::Failure {
            kind: "CompletedWithError".to_string(),
            message: message("a probe failed"),
            body: probe_lines(fault, ProbeVerdict::Failed),
        },
        FaultPhase::Error => Outcome::Error {
            kind: "Error".to_string(),
            message: message("the fault ended in Error"),
            body: probe_lines(fault, ProbeVerdict::NotApplicable),
        },
        FaultPhase::Skipped => Outcome::Skipped {
            message: message("skipped"),
        },
        FaultPhase::Stopped => Outcome::Skipped {
            message: "stopped by the user".to_string(),
        },
        FaultPhase::Running => Outcome::Skipped {
            message: "still running".to_string(),
        },
    }
}

/// The probes of `fault` with `verdict`, a line each, so a failure says what failed.
fn probe_lines(fault: &FaultStatus, verdict: ProbeVerdict) -> String {
    fault
        .probes
        .iter()
        .filter(|p| p.verdict == verdict)
        .map(|p| {
            format!(
                "probe {} ({}): {}, passed {}, failed {}: {}\n",
                p.name,
                wire_name(&p.mode),
                wire_name(&p.verdict),
                p.passed,
                p.failed,
                p.last_message.as_deref().unwrap_or("no message")
            )
        })
        .collect()
}

fn probe_outcome(probe: &ProbeStatus) -> Outcome {
    let message = probe.last_message.clone().unwrap_or_default();
    let counts = format!("passed {}, failed {}", probe.passed, probe.failed);
    match probe.verdict {
        ProbeVerdict::Passed => Outcome::Passed,
        ProbeVerdict::Failed => Outcome::Failure {
            kind: "Failed".to_string(),
            message,
            body: counts,
        },
        ProbeVerdict::NotApplicable => Outcome::Error {
            kind: "N/A".to_string(),
            message: if message.is_empty() {
                "the outcome could not be determined".to_string()
            } else {
                message
            },
            body: counts,
        },
        ProbeVerdict::Awaited => Outcome::Skipped {
            message: "awaited: no verdict yet".to_string(),
        },
    }
}

/// The score case mirrors the CLI's exit code: a Pass below `--min-score` still fails the gate.
fn score_outcome(journal: &Journal) -> Outcome {
    let status = &journal.status;
    let gate = min_score(journal);
    let below = |score: f64| Outcome::Failure {
        kind: "Fail".to_string(),
        message: below_minimum_message(journal, score),
        body: status.message.clone().unwrap_or_default(),
    };
    match (status.verdict, status.resilience_score) {
        (Verdict::Pass, Some(score)) if score < gate => below(score),
        (Verdict::Pass, _) => Outcome::Passed,
        (Verdict::Fail, score) => below(score.unwrap_or(0.0)),
        (Verdict::Error, _) => Outcome::Error {
            kind: "Error".to_string(),
            message: status
                .message
                .clone()
                .unwrap_or_else(|| format!("the run ended in {}", status.phase.as_str())),
            body: String::new(),
        },
        (Verdict::Stopped, _) => Outcome::Skipped {
            message: "stopped by the user".to_string(),
        },
        (Verdict::Awaited, _) => Outcome::Skipped {
            message: "the run has not ended".to_string(),
        },
    }
}

/// Names the minimum the score actually fell below: the gate, or else the experiment's own.
fn below_minimum_message(journal: &Journal, score: f64) -> String {
    let gate = min_score(journal);
    let expected = journal.status.expected_resilience_score.map(f64::from);
    let minimum = match expected {
        Some(expected) if score >= gate && score < expected => expected,
        _ => gate,
    };
    format!(
        "score {} is below the minimum {}",
        score_text(score),
        score_text(minimum)
    )
}

fn write_properties(xml: &mut String, journal: &Journal) {
    let status = &journal.status;
    let mut properties = vec![
        ("result", journal.result.clone()),
        ("runNumber", journal.run_number.to_string()),
        ("trigger", journal.trigger.clone()),
        ("phase", status.phase.as_str().to_string()),
        ("verdict", status.verdict.as_str().to_string()),
    ];
    if let Some(score) = status.resilience_score {
        properties.push(("resilienceScore", score_text(score)));
    }
    properties.push(("minScore", score_text(min_score(journal))));
    xml.push_str("    <properties>\n");
    for (name, value) in properties {
        let _ = writeln!(
            xml,
            r#"      <property name="{name}" value="{}"/>"#,
            xml_attr(&value)
        );
    }
    xml.push_str("    </properties>\n");
}

fn write_case(xml: &mut String, classname: &str, case: &Case) {
    let _ = write!(
        xml,
        r#"    <testcase name="{}" classname="{}" time="{:.3}""#,
        xml_attr(&case.name),
        xml_attr(classname),
        case.seconds
    );
    let (element, kind, message, body) = match &case.outcome {
        Outcome::Passed => {
            xml.push_str("/>\n");
            return;
        }
        Outcome::Skipped { message } => {
            let _ = writeln!(
                xml,
                ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                xml_attr(message)
            );
            return;
        }
        Outcome::Failure {
            kind,
            message,
            body,
        } => ("failure", kind, message, body),
        Outcome::Error {
            kind,
            message,
            body,
        } => ("error", kind, message, body),
    };
    let _ = writeln!(
        xml,
        ">\n      <{element} message=\"{}\" type=\"{}\">{}</{element}>\n    </testcase>",
        xml_attr(message),
        xml_attr(kind),
        escape(body.trim_end())
    );
}

/// A few plain lines on the run, for CI logs that show a suite's output.
fn plain_summary(journal: &Journal) -> String {
    let status = &journal.status;
    let mut text = format!(
        "{}/{} run {} ({}): phase {}, verdict {}, score {} (minimum {})\n",
        journal.namespace,
        journal.experiment,
        journal.run_number,
        journal.trigger,
        status.phase.as_str(),
        status.verdict.as_str(),
        status
            .resilience_score
            .map(score_text)
            .unwrap_or_else(|| "n/a".to_string()),
        score_text(min_score(journal))
    );
    if let Some(message) = &status.message {
        let _ = writeln!(text, "{message}");
    }
    for fault in &status.faults {
        let _ = writeln!(
            text,
            "fault {}: {}, score {}, weight {}, {} target(s)",
            fault.name,
            wire_name(&fault.status),
            fault
                .score
                .map(score_text)
                .unwrap_or_else(|| "n/a".to_string()),
            fault.weight,
            fault.targets.len()
        );
    }
    text
}

// ---------------------------------------------------------------------------------------------
// HTML: tones and small building blocks

/// The colour family of a state; one palette keeps the page and its charts consistent.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Tone {
    Good,
    Warn,
    Bad,
    Muted,
    Active,
}

impl Tone {
    fn class(self) -> &'static str {
        match self {
            Tone::Good => "good",
            Tone::Warn => "warn",
            Tone::Bad => "bad",
            Tone::Muted => "muted",
            Tone::Active => "active",
        }
    }

    /// The fill used in charts; CSS classes cannot reach every SVG attribute we use.
    fn colour(self) -> &'static str {
        match self {
            Tone::Good => "#16a34a",
            Tone::Warn => "#d97706",
            Tone::Bad => "#dc2626",
            Tone::Muted => "#94a3b8",
            Tone::Active => "#2563eb",
        }
    }
}

fn verdict_tone(verdict: Verdict) -> Tone {
    match verdict {
        Verdict::Pass => Tone::Good,
        Verdict::Fail => Tone::Warn,
        Verdict::Error => Tone::Bad,
        Verdict::Stopped => Tone::Muted,
        Verdict::Awaited => Tone::Active,
    }
}

fn phase_tone(phase: RunPhase) -> Tone {
    match phase {
        RunPhase::Completed => Tone::Good,
        RunPhase::CompletedWithError => Tone::Warn,
        RunPhase::Error | RunPhase::Timeout => Tone::Bad,
        RunPhase::Stopped => Tone::Muted,
        RunPhase::Queued | RunPhase::Running => Tone::Active,
    }
}

fn fault_tone(phase: FaultPhase) -> Tone {
    match phase {
        FaultPhase::Completed => Tone::Good,
        FaultPhase::CompletedWithError => Tone::Warn,
        FaultPhase::Error => Tone::Bad,
        FaultPhase::Stopped | FaultPhase::Skipped => Tone::Muted,
        FaultPhase::Running => Tone::Active,
    }
}

fn probe_tone(verdict: ProbeVerdict) -> Tone {
    match verdict {
        ProbeVerdict::Passed => Tone::Good,
        ProbeVerdict::Failed => Tone::Warn,
        ProbeVerdict::NotApplicable => Tone::Bad,
        ProbeVerdict::Awaited => Tone::Active,
    }
}

/// A sample's outcome is free text in the journal; anything but Passed is treated as a failure.
fn sample_tone(sample: &ProbeSample) -> Tone {
    if sample.outcome == "Passed" {
        Tone::Good
    } else {
        Tone::Bad
    }
}

fn badge(text: &str, tone: Tone) -> String {
    format!(
        r#"<span class="badge {}">{}</span>"#,
        tone.class(),
        escape(text)
    )
}

/// A table with a header row; cells arrive already escaped or built from escaped parts.
fn table(class: &str, headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut html = format!("<table class=\"{class}\">\n<thead><tr>");
    for header in headers {
        let _ = write!(html, "<th>{}</th>", escape(header));
    }
    html.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        html.push_str("<tr>");
        for cell in row {
            let _ = write!(html, "<td>{cell}</td>");
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody>\n</table>\n");
    html
}

/// A date and time for a table cell, which may break between the date and the time but
/// nowhere else.
fn datetime_html(time: &Timestamp) -> String {
    format!(
        r#"<span class="nw">{}</span> <span class="nw">{}</span>"#,
        time.strftime("%Y-%m-%d"),
        time.strftime("%H:%M:%S UTC")
    )
}

fn optional_datetime_html(time: Option<&Time>) -> String {
    time.map(|t| datetime_html(&t.0)).unwrap_or_default()
}

fn none_note(text: &str) -> String {
    format!("<p class=\"none\">{}</p>\n", escape(text))
}

fn optional_score_text(score: Option<f64>) -> String {
    score.map(score_text).unwrap_or_else(|| "–".to_string())
}

// ---------------------------------------------------------------------------------------------
// HTML: the page

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/// The run as one HTML page that loads nothing: its CSP forbids every fetch, and the charts
/// are inline SVG, so the file can be archived as a CI artifact and opened anywhere.
pub fn html(journal: &Journal) -> String {
    let title = format!(
        "{}/{} run {} — Faultline report",
        journal.namespace, journal.experiment, journal.run_number
    );
    let mut page = String::new();
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(
        page,
        r#"<meta http-equiv="Content-Security-Policy" content="{CSP}">"#
    );
    page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    page.push_str("<meta name=\"referrer\" content=\"no-referrer\">\n");
    let _ = writeln!(page, "<title>{}</title>", escape(&title));
    let _ = writeln!(page, "<style>{STYLE}</style>\n</head>\n<body>\n<main>");
    page.push_str(&header_html(journal));
    page.push_str(&summary_html(journal));
    page.push_str(&timeline_html(journal));
    page.push_str(&steady_state_html(journal));
    page.push_str(&faults_html(journal));
    page.push_str(&events_html(&journal.events));
    let _ = writeln!(
        page,
        "<footer>Rendered by <code>faultline report</code> from a {} journal.</footer>",
        escape(&journal.version)
    );
    page.push_str("</main>\n</body>\n</html>\n");
    page
}

fn header_html(journal: &Journal) -> String {
    let status = &journal.status;
    let facts = [
        ("Namespace", escape(&journal.namespace)),
        ("Result", escape(&journal.result)),
        ("Run", journal.run_number.to_string()),
        ("Trigger", escape(&journal.trigger)),
        (
            "Phase",
            badge(status.phase.as_str(), phase_tone(status.phase)),
        ),
        (
            "Started",
            optional_datetime_html(status.start_time.as_ref()),
        ),
        (
            "Completed",
            match &status.completion_time {
                Some(time) => datetime_html(&time.0),
                None => "<span class=\"dim\">not yet</span>".to_string(),
            },
        ),
        (
            "Duration",
            run_seconds(journal).map(duration_text).unwrap_or_default(),
        ),
    ];
    let mut html = String::from("<header class=\"page\">\n");
    html.push_str("<p class=\"kicker\">Faultline chaos experiment report</p>\n");
    let _ = writeln!(html, "<h1>{}</h1>", escape(&journal.experiment));
    html.push_str("<dl class=\"facts\">\n");
    for (name, value) in facts {
        let _ = writeln!(html, "<div><dt>{name}</dt><dd>{value}</dd></div>");
    }
    html.push_str("</dl>\n");
    if let Some(message) = &status.message {
        let _ = writeln!(html, "<p class=\"message\">{}</p>", escape(message));
    }
    html.push_str("</header>\n");
    html
}

fn summary_html(journal: &Journal) -> String {
    let status = &journal.status;
    let gate = min_score(journal);
    let tone = verdict_tone(status.verdict);
    let mut html = String::from("<section class=\"summary\">\n");
    let _ = writeln!(
        html,
        "<div class=\"card verdict-card {}\">\n<div class=\"label\">Verdict</div>\n\
         <div id=\"verdict\" class=\"verdict\">{}</div>\n\
         <div class=\"score-line\">Score <strong id=\"score\">{}</strong> <span class=\"dim\">/ 100</span></div>\n\
         <div class=\"dim\">Minimum {}</div>",
        tone.class(),
        escape(status.verdict.as_str()),
        optional_score_text(status.resilience_score),
        score_text(gate)
    );
    if let (Verdict::Pass, Some(score)) = (status.verdict, status.resilience_score)
        && score < gate
    {
        html.push_str("<div class=\"gate\">Below the minimum asked for this report</div>\n");
    }
    html.push_str("</div>\n");
    let _ = writeln!(
        html,
        "<div class=\"card\">\n<div class=\"label\">Resilience score</div>\n{}</div>",
        score_chart(status.resilience_score, gate, tone)
    );
    let _ = writeln!(
        html,
        "<div class=\"card wide\">\n<div class=\"label\">Fault scores <span class=\"dim\">(weight in the run's score)</span></div>\n{}</div>",
        fault_score_chart(&status.faults)
    );
    html.push_str("</section>\n");
    html
}

/// A donut whose arc is the score, with a tick where the minimum lies.
fn score_chart(score: Option<f64>, minimum: f64, tone: Tone) -> String {
    const C: f64 = 80.0; // centre
    const R: f64 = 60.0;
    let circumference = 2.0 * std::f64::consts::PI * R;
    let fraction = score.unwrap_or(0.0).clamp(0.0, 100.0) / 100.0;
    let label = match score {
        Some(score) => format!(
            "score {} of 100, minimum {}",
            score_text(score),
            score_text(minimum)
        ),
        None => format!("no score yet, minimum {}", score_text(minimum)),
    };
    let mut svg = format!(
        r#"<svg id="score-chart" class="donut" viewBox="0 0 160 160" width="160" height="160" role="img" aria-label="{}">"#,
        escape(&label)
    );
    let _ = write!(
        svg,
        r##"<circle cx="{C}" cy="{C}" r="{R}" fill="none" stroke="#e2e8f0" stroke-width="16"/>"##
    );
    if fraction > 0.0 {
        let _ = write!(
            svg,
            r#"<circle cx="{C}" cy="{C}" r="{R}" fill="none" stroke="{}" stroke-width="16" stroke-dasharray="{:.2} {:.2}" transform="rotate(-90 {C} {C})"/>"#,
            tone.colour(),
            fraction * circumference,
            circumference
        );
    }
    // The minimum's tick, clockwise from twelve o'clock like the arc.
    let angle = minimum.clamp(0.0, 100.0) / 100.0 * std::f64::consts::TAU;
    let point = |radius: f64| (C + radius * angle.sin(), C - radius * angle.cos());
    let ((x1, y1), (x2, y2)) = (point(R - 12.0), point(R + 12.0));
    let _ = write!(
        svg,
        r##"<line class="min-marker" x1="{x1:.2}" y1="{y1:.2}" x2="{x2:.2}" y2="{y2:.2}" stroke="#0f172a" stroke-width="3"><title>minimum {}</title></line>"##,
        score_text(minimum)
    );
    let _ = write!(
        svg,
        r#"<text x="{C}" y="{}" text-anchor="middle" class="donut-value">{}</text>"#,
        C + 6.0,
        optional_score_text(score)
    );
    let _ = write!(
        svg,
        r#"<text x="{C}" y="{}" text-anchor="middle" class="donut-caption">min {}</text>"#,
        C + 26.0,
        score_text(minimum)
    );
    svg.push_str("</svg>\n");
    svg
}

/// Shortens a label for a chart's fixed gutter; the full text stays in the SVG title.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let head: String = text.chars().take(max - 1).collect();
        format!("{head}…")
    }
}

/// One horizontal bar per fault: its score, coloured by its status, labelled with its weight.
fn fault_score_chart(faults: &[FaultStatus]) -> String {
    if faults.is_empty() {
        return none_note("No faults recorded.");
    }
    const ROW: f64 = 28.0;
    const GUTTER: f64 = 150.0;
    const BAR: f64 = 270.0;
    let height = ROW * faults.len() as f64 + 22.0;
    let mut svg = format!(
        r#"<svg id="fault-scores" class="bars" viewBox="0 0 480 {height}" width="480" height="{height}" role="img" aria-label="score of each fault">"#
    );
    for (i, fault) in faults.iter().enumerate() {
        let y = ROW * i as f64;
        let tone = fault_tone(fault.status);
        let score = fault.score.unwrap_or(0.0).clamp(0.0, 100.0);
        let _ = write!(
            svg,
            r#"<g><title>{}: {}, score {}, weight {}</title>"#,
            escape(&fault.name),
            escape(&wire_name(&fault.status)),
            optional_score_text(fault.score),
            fault.weight
        );
        let _ = write!(
            svg,
            r#"<text x="0" y="{:.1}" class="bar-label">{}</text>"#,
            y + 17.0,
            escape(&shorten(&fault.name, 16))
        );
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" class="bar-weight">×{}</text>"#,
            GUTTER - 8.0,
            y + 17.0,
            fault.weight
        );
        let _ = write!(
            svg,
            r##"<rect x="{GUTTER}" y="{:.1}" width="{BAR}" height="14" rx="3" fill="#f1f5f9"/>"##,
            y + 6.0
        );
        if score > 0.0 {
            let _ = write!(
                svg,
                r#"<rect x="{GUTTER}" y="{:.1}" width="{:.1}" height="14" rx="3" fill="{}"/>"#,
                y + 6.0,
                BAR * score / 100.0,
                tone.colour()
            );
        }
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" class="bar-value">{}</text></g>"#,
            GUTTER + BAR + 8.0,
            y + 17.0,
            optional_score_text(fault.score)
        );
    }
    // Scale under the bars: 0, 50, 100.
    let axis_y = ROW * faults.len() as f64 + 14.0;
    for value in [0.0, 50.0, 100.0] {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{axis_y:.1}" text-anchor="middle" class="axis">{value}</text>"#,
            GUTTER + BAR * value / 100.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}

// ---------------------------------------------------------------------------------------------
// HTML: the timeline

/// One dated thing that happened in the run, for the timeline's table.
struct Moment {
    at: Timestamp,
    what: &'static str,
    subject: String,
    detail: String,
    outcome: Option<(String, Tone)>,
}

/// Everything with a time, oldest first; ties keep the order in which the run records them.
fn moments(journal: &Journal) -> Vec<Moment> {
    let status = &journal.status;
    let mut list = Vec::new();
    if let Some(start) = &status.start_time {
        list.push(Moment {
            at: start.0,
            what: "Run started",
            subject: journal.result.clone(),
            detail: format!("trigger {}", journal.trigger),
            outcome: None,
        });
    }
    for fault in &status.faults {
        list.extend(fault_moments(fault));
    }
    for sample in &journal.samples {
        list.push(Moment {
            at: sample.time,
            what: "Probe",
            subject: sample_subject(sample),
            detail: format!(
                "{} ({}){}",
                sample.probe,
                sample.mode,
                sample
                    .message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            ),
            outcome: Some((sample.outcome.clone(), sample_tone(sample))),
        });
    }
    for event in journal.events.iter().filter(|e| is_warning(e)) {
        list.push(Moment {
            at: event.time,
            what: "Warning",
            subject: event.object.clone(),
            detail: format!("{}: {}", event.reason, event.message),
            outcome: None,
        });
    }
    if let Some(end) = &status.completion_time {
        list.push(Moment {
            at: end.0,
            what: "Run ended",
            subject: journal.result.clone(),
            detail: status.message.clone().unwrap_or_default(),
            outcome: Some((status.phase.as_str().to_string(), phase_tone(status.phase))),
        });
    }
    list.sort_by_key(|m| m.at);
    list
}

fn fault_moments(fault: &FaultStatus) -> Vec<Moment> {
    let mut list = Vec::new();
    if let Some(start) = &fault.start_time {
        list.push(Moment {
            at: start.0,
            what: "Fault started",
            subject: fault.name.clone(),
            detail: format!(
                "{}{}",
                wire_name(&fault.fault_type),
                fault
                    .pod
                    .as_deref()
                    .map(|p| format!(" in pod {p}"))
                    .unwrap_or_default()
            ),
            outcome: None,
        });
    }
    for target in &fault.targets {
        list.push(Moment {
            at: target.time.0,
            what: "Target",
            subject: fault.name.clone(),
            detail: target_text(target),
            outcome: None,
        });
    }
    if let Some(end) = &fault.end_time {
        list.push(Moment {
            at: end.0,
            what: "Fault ended",
            subject: fault.name.clone(),
            detail: fault.message.clone().unwrap_or_default(),
            outcome: Some((wire_name(&fault.status), fault_tone(fault.status))),
        });
    }
    list
}

fn sample_subject(sample: &ProbeSample) -> String {
    sample
        .fault
        .clone()
        .unwrap_or_else(|| "steady state".to_string())
}

fn is_warning(event: &JournalEvent) -> bool {
    event.event_type == "Warning"
}

/// Maps times onto the timeline's x axis.
struct Axis {
    start: Timestamp,
    span_ms: i64,
    x0: f64,
    width: f64,
}

impl Axis {
    /// Spans every moment (the run's start and end among them), so nothing is drawn off the
    /// chart. A run still in progress gets some room on the right, so a fault that has just
    /// started shows as a bar rather than a sliver.
    fn covering(moments: &[Moment], in_progress: bool, x0: f64, width: f64) -> Option<Axis> {
        let start = moments.iter().map(|m| m.at).min()?;
        let end = moments.iter().map(|m| m.at).max()?;
        let mut span_ms = (end.as_millisecond() - start.as_millisecond()).max(1000);
        if in_progress {
            span_ms += (span_ms / 10).max(5000);
        }
        Some(Axis {
            start,
            span_ms,
            x0,
            width,
        })
    }

    fn offset_seconds(&self, time: Timestamp) -> f64 {
        (time.as_millisecond() - self.start.as_millisecond()) as f64 / 1000.0
    }

    fn x(&self, time: Timestamp) -> f64 {
        self.x0 + self.width * self.offset_seconds(time) * 1000.0 / self.span_ms as f64
    }

    fn end_x(&self) -> f64 {
        self.x0 + self.width
    }

    /// A round tick interval giving at most eight ticks.
    fn tick_seconds(&self) -> f64 {
        const STEPS: [f64; 14] = [
            1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0,
            7200.0,
        ];
        let span = self.span_ms as f64 / 1000.0;
        STEPS
            .into_iter()
            .find(|step| span / step <= 8.0)
            .unwrap_or_else(|| (span / 8.0 / 3600.0).ceil() * 3600.0)
    }
}

/// A row of the timeline chart.
enum Lane<'a> {
    Warnings,
    SteadyState,
    Fault(&'a FaultStatus),
}

fn timeline_html(journal: &Journal) -> String {
    let moments = moments(journal);
    let mut html =
        String::from("<section id=\"timeline\" class=\"timeline\">\n<h2>Timeline</h2>\n");
    if moments.is_empty() {
        html.push_str(&none_note("Nothing with a time has been recorded yet."));
        html.push_str("</section>\n");
        return html;
    }
    html.push_str(&timeline_chart(journal, &moments));
    html.push_str(TIMELINE_LEGEND);
    html.push_str(&timeline_table(&moments));
    html.push_str("</section>\n");
    html
}

const TIMELINE_LEGEND: &str = "<p class=\"legend\">\
<span><i class=\"sw bar\"></i>fault injected (start to end)</span>\
<span><i class=\"sw target\"></i>target action</span>\
<span><i class=\"sw dot good\"></i>probe passed</span>\
<span><i class=\"sw dot bad\"></i>probe failed</span>\
<span><i class=\"sw warn-mark\"></i>Warning event</span></p>\n";

fn timeline_chart(journal: &Journal, moments: &[Moment]) -> String {
    const WIDTH: f64 = 1160.0;
    const GUTTER: f64 = 190.0;
    const ROW: f64 = 40.0;
    let in_progress = journal.status.completion_time.is_none();
    let Some(axis) = Axis::covering(moments, in_progress, GUTTER, WIDTH - GUTTER - 20.0) else {
        return String::new();
    };
    let mut lanes = Vec::new();
    if journal.events.iter().any(is_warning) {
        lanes.push(Lane::Warnings);
    }
    if journal.samples.iter().any(|s| s.fault.is_none()) {
        lanes.push(Lane::SteadyState);
    }
    lanes.extend(journal.status.faults.iter().map(Lane::Fault));
    let plot_bottom = ROW * lanes.len() as f64 + 8.0;
    let height = plot_bottom + 34.0;
    let mut svg = format!(
        r#"<svg id="timeline-chart" class="timeline-chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="timeline of the run">"#
    );
    svg.push_str(&timeline_axis(&axis, journal, plot_bottom));
    for (i, lane) in lanes.iter().enumerate() {
        let top = 8.0 + ROW * i as f64;
        if i % 2 == 1 {
            let _ = write!(
                svg,
                r##"<rect x="0" y="{top}" width="{WIDTH}" height="{ROW}" fill="#f8fafc"/>"##
            );
        }
        svg.push_str(&lane_svg(lane, journal, &axis, top));
    }
    svg.push_str("</svg>\n");
    svg
}

/// Grid lines, relative-time labels, and the run's start and end marks.
fn timeline_axis(axis: &Axis, journal: &Journal, bottom: f64) -> String {
    let mut svg = String::new();
    let step = axis.tick_seconds();
    let span = axis.span_ms as f64 / 1000.0;
    let mut offset = 0.0;
    while offset <= span + 1e-9 {
        let x = axis.x0 + axis.width * offset / span;
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" y1="4" x2="{x:.1}" y2="{bottom:.1}" stroke="#e2e8f0"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" class="axis">+{}</text>"##,
            bottom + 16.0,
            duration_text(offset)
        );
        offset += step;
    }
    let _ = write!(
        svg,
        r#"<text x="0" y="{:.1}" class="axis">{}</text>"#,
        bottom + 30.0,
        escape(&format!("from {}", datetime_text(&axis.start)))
    );
    let status = &journal.status;
    for (time, label) in [
        (status.start_time.as_ref(), "run start"),
        (status.completion_time.as_ref(), "run end"),
    ] {
        if let Some(time) = time {
            let x = axis.x(time.0);
            let _ = write!(
                svg,
                r##"<line x1="{x:.1}" y1="4" x2="{x:.1}" y2="{bottom:.1}" stroke="#64748b" stroke-dasharray="4 3"><title>{label} {}</title></line>"##,
                escape(&clock_text(&time.0))
            );
        }
    }
    if status.completion_time.is_none() {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" class="axis">in progress</text>"#,
            axis.end_x(),
            bottom + 30.0
        );
    }
    svg
}

fn lane_svg(lane: &Lane, journal: &Journal, axis: &Axis, top: f64) -> String {
    let mut svg = String::new();
    let (label, sublabel) = match lane {
        Lane::Warnings => ("Warning events".to_string(), String::new()),
        Lane::SteadyState => ("steady state".to_string(), "probes".to_string()),
        Lane::Fault(fault) => (fault.name.clone(), wire_name(&fault.status)),
    };
    let _ = write!(
        svg,
        r#"<text x="8" y="{:.1}" class="lane-label"><title>{}</title>{}</text>"#,
        top + 17.0,
        escape(&label),
        escape(&shorten(&label, 24))
    );
    if !sublabel.is_empty() {
        let _ = write!(
            svg,
            r#"<text x="8" y="{:.1}" class="lane-sub">{}</text>"#,
            top + 31.0,
            escape(&sublabel)
        );
    }
    match lane {
        Lane::Warnings => {
            for event in journal.events.iter().filter(|e| is_warning(e)) {
                svg.push_str(&warning_mark(event, axis, top + 20.0));
            }
        }
        Lane::SteadyState => {
            for sample in journal.samples.iter().filter(|s| s.fault.is_none()) {
                svg.push_str(&sample_mark(sample, axis, top + 20.0));
            }
        }
        Lane::Fault(fault) => {
            svg.push_str(&fault_bar(fault, axis, top));
            for target in &fault.targets {
                svg.push_str(&target_mark(target, axis, top + 15.0));
            }
            let samples = journal
                .samples
                .iter()
                .filter(|s| s.fault.as_deref() == Some(fault.name.as_str()));
            for sample in samples {
                svg.push_str(&sample_mark(sample, axis, top + 31.0));
            }
        }
    }
    svg
}

/// The fault's injection window; a fault still running extends to the chart's end, dashed.
fn fault_bar(fault: &FaultStatus, axis: &Axis, top: f64) -> String {
    let Some(start) = &fault.start_time else {
        return format!(
            r#"<text x="{:.1}" y="{:.1}" class="lane-sub">not started</text>"#,
            axis.x0 + 4.0,
            top + 19.0
        );
    };
    let x1 = axis.x(start.0);
    let (x2, open) = match &fault.end_time {
        Some(end) => (axis.x(end.0), false),
        None => (axis.end_x(), true),
    };
    let tone = fault_tone(fault.status);
    let title = format!(
        "{} {}: {} to {}",
        fault.name,
        wire_name(&fault.status),
        clock_text(&start.0),
        fault
            .end_time
            .as_ref()
            .map(|t| clock_text(&t.0))
            .unwrap_or_else(|| "now".to_string())
    );
    format!(
        r#"<rect class="fault-bar{}" x="{x1:.1}" y="{:.1}" width="{:.1}" height="14" rx="3" fill="{}" fill-opacity="0.35" stroke="{}"{}><title>{}</title></rect>"#,
        if open { " open" } else { "" },
        top + 8.0,
        (x2 - x1).max(2.0),
        tone.colour(),
        tone.colour(),
        if open {
            r#" stroke-dasharray="4 3""#
        } else {
            ""
        },
        escape(&title)
    )
}

fn target_mark(target: &TargetRecord, axis: &Axis, y: f64) -> String {
    let x = axis.x(target.time.0);
    format!(
        r##"<path class="target-mark" d="M{:.1} {:.1} l5 7 l-5 7 l-5 -7 z" fill="#0f172a"><title>{} at {}</title></path>"##,
        x,
        y - 7.0,
        escape(&target_text(target)),
        escape(&clock_text(&target.time.0))
    )
}

fn sample_mark(sample: &ProbeSample, axis: &Axis, y: f64) -> String {
    let tone = sample_tone(sample);
    format!(
        r#"<circle class="sample-mark {}" cx="{:.1}" cy="{y:.1}" r="4" fill="{}"><title>{} ({}) {} at {}{}</title></circle>"#,
        tone.class(),
        axis.x(sample.time),
        tone.colour(),
        escape(&sample.probe),
        escape(&sample.mode),
        escape(&sample.outcome),
        escape(&clock_text(&sample.time)),
        escape(
            &sample
                .message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        )
    )
}

fn warning_mark(event: &JournalEvent, axis: &Axis, y: f64) -> String {
    let x = axis.x(event.time);
    format!(
        r#"<path class="warning-mark" d="M{x:.1} {:.1} l6 11 l-12 0 z" fill="{}"><title>{} at {}: {}</title></path>"#,
        y - 7.0,
        Tone::Bad.colour(),
        escape(&event.reason),
        escape(&clock_text(&event.time)),
        escape(&event.message)
    )
}

fn timeline_table(moments: &[Moment]) -> String {
    let origin = moments[0].at;
    let rows: Vec<Vec<String>> = moments
        .iter()
        .map(|m| {
            let offset = (m.at.as_millisecond() - origin.as_millisecond()) as f64 / 1000.0;
            vec![
                escape(&clock_text(&m.at)),
                format!("+{}", duration_text(offset)),
                escape(m.what),
                escape(&m.subject),
                escape(&m.detail),
                m.outcome
                    .as_ref()
                    .map(|(text, tone)| badge(text, *tone))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    table(
        "timeline-table",
        &["Time", "Offset", "What", "Of", "Detail", "Outcome"],
        &rows,
    )
}

// ---------------------------------------------------------------------------------------------
// HTML: tables

fn probe_table(probes: &[ProbeStatus]) -> String {
    if probes.is_empty() {
        return none_note("No probes.");
    }
    let rows: Vec<Vec<String>> = probes
        .iter()
        .map(|p| {
            vec![
                escape(&p.name),
                escape(&wire_name(&p.mode)),
                badge(&wire_name(&p.verdict), probe_tone(p.verdict)),
                format!("<span class=\"num\">{}</span>", p.passed),
                format!("<span class=\"num\">{}</span>", p.failed),
                escape(p.last_message.as_deref().unwrap_or("")),
            ]
        })
        .collect();
    table(
        "probes",
        &[
            "Probe",
            "Mode",
            "Verdict",
            "Passed",
            "Failed",
            "Last message",
        ],
        &rows,
    )
}

fn steady_state_html(journal: &Journal) -> String {
    let steady = &journal.status.steady_state;
    let mut html = String::from("<section id=\"steady-state\">\n<h2>Steady state</h2>\n");
    html.push_str("<div class=\"pair\">\n");
    for (when, probes) in [("Before", &steady.before), ("After", &steady.after)] {
        let _ = writeln!(
            html,
            "<div class=\"steady-{}\">\n<h3>{when} the chaos</h3>\n{}</div>",
            when.to_lowercase(),
            probe_table(probes)
        );
    }
    html.push_str("</div>\n</section>\n");
    html
}

fn faults_html(journal: &Journal) -> String {
    let mut html = String::from("<section id=\"faults\">\n<h2>Faults</h2>\n");
    if journal.status.faults.is_empty() {
        html.push_str(&none_note("No faults recorded."));
    }
    for fault in &journal.status.faults {
        html.push_str(&fault_html(fault));
    }
    html.push_str("</section>\n");
    html
}

fn fault_html(fault: &FaultStatus) -> String {
    let tone = fault_tone(fault.status);
    let mut html = format!(
        "<section class=\"fault {}\" data-fault=\"{}\">\n",
        tone.class(),
        escape(&fault.name)
    );
    let _ = writeln!(
        html,
        "<h3>{} <span class=\"type\">{}</span> {}</h3>",
        escape(&fault.name),
        escape(&wire_name(&fault.fault_type)),
        badge(&wire_name(&fault.status), tone)
    );
    let facts = vec![vec![
        badge(&wire_name(&fault.status), tone),
        format!(
            "<span class=\"num\">{}</span>",
            optional_score_text(fault.score)
        ),
        format!("<span class=\"num\">{}</span>", fault.weight),
        escape(fault.pod.as_deref().unwrap_or("")),
        optional_datetime_html(fault.start_time.as_ref()),
        optional_datetime_html(fault.end_time.as_ref()),
        escape(fault.message.as_deref().unwrap_or("")),
    ]];
    html.push_str(&table(
        "fault-facts",
        &[
            "Status", "Score", "Weight", "Pod", "Start", "End", "Message",
        ],
        &facts,
    ));
    html.push_str("<h4>Targets</h4>\n");
    html.push_str(&targets_table(&fault.targets));
    html.push_str("<h4>Probes</h4>\n");
    html.push_str(&probe_table(&fault.probes));
    html.push_str("</section>\n");
    html
}

fn targets_table(targets: &[TargetRecord]) -> String {
    if targets.is_empty() {
        return none_note("No targets recorded.");
    }
    let rows: Vec<Vec<String>> = targets
        .iter()
        .map(|t| {
            vec![
                escape(&t.kind),
                escape(&t.namespace),
                escape(&t.name),
                escape(action_text(t.action)),
                datetime_html(&t.time.0),
                if t.reverted {
                    badge("yes", Tone::Good)
                } else {
                    badge("no", Tone::Warn)
                },
            ]
        })
        .collect();
    table(
        "targets",
        &["Kind", "Namespace", "Name", "Action", "Time", "Reverted"],
        &rows,
    )
}

fn events_html(events: &[JournalEvent]) -> String {
    let mut html = String::from("<section id=\"events\">\n<h2>Events</h2>\n");
    if events.is_empty() {
        html.push_str(&none_note("No events recorded."));
    } else {
        let rows: Vec<Vec<String>> = events
            .iter()
            .map(|e| {
                let tone = if is_warning(e) {
                    Tone::Bad
                } else {
                    Tone::Muted
                };
                vec![
                    datetime_html(&e.time),
                    badge(&e.event_type, tone),
                    escape(&e.reason),
                    escape(&e.object),
                    escape(&e.message),
                ]
            })
            .collect();
        html.push_str(&table(
            "events",
            &["Time", "Type", "Reason", "Object", "Message"],
            &rows,
        ));
    }
    html.push_str("</section>\n");
    html
}

/// The page's only styling. No web fonts or images: the CSP blocks every fetch.
const STYLE: &str = r#"
:root { --ink: #0f172a; --dim: #64748b; --line: #e2e8f0; --panel: #ffffff; --page: #f8fafc; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; background: var(--page); color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 20px 40px; }
h1 { font-size: 26px; margin: 2px 0 12px; overflow-wrap: anywhere; }
h2 { font-size: 18px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 0 0 8px; overflow-wrap: anywhere; }
h4 { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--dim); margin: 14px 0 6px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
.kicker { margin: 0; color: var(--dim); font-size: 12px; text-transform: uppercase; letter-spacing: .08em; }
.dim { color: var(--dim); }
.none { color: var(--dim); font-style: italic; margin: 4px 0; }
.facts { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 8px 16px; margin: 0;
  background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
.facts dt { font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: var(--dim); }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.message { background: var(--panel); border: 1px solid var(--line); border-left: 4px solid var(--dim);
  border-radius: 6px; padding: 10px 14px; margin: 12px 0 0; overflow-wrap: anywhere; }
.summary { display: grid; grid-template-columns: 230px 200px minmax(0, 1fr); gap: 16px; margin-top: 20px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; }
.card .label { font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: var(--dim); margin-bottom: 6px; }
.verdict-card { border-top: 6px solid var(--dim); }
.verdict { font-size: 40px; font-weight: 700; line-height: 1.1; margin: 4px 0 10px; }
.score-line { font-size: 16px; }
.score-line strong { font-size: 22px; }
.gate { margin-top: 8px; color: #92400e; font-weight: 600; }
.verdict-card.good { border-top-color: #16a34a; } .verdict-card.good .verdict { color: #166534; }
.verdict-card.warn { border-top-color: #d97706; } .verdict-card.warn .verdict { color: #b45309; }
.verdict-card.bad { border-top-color: #dc2626; } .verdict-card.bad .verdict { color: #b91c1c; }
.verdict-card.muted { border-top-color: #94a3b8; } .verdict-card.muted .verdict { color: #475569; }
.verdict-card.active { border-top-color: #2563eb; } .verdict-card.active .verdict { color: #1d4ed8; }
svg { display: block; max-width: 100%; height: auto; }
svg text { font-family: inherit; fill: var(--ink); }
.donut-value { font-size: 28px; font-weight: 700; }
.donut-caption, .axis, .lane-sub, .bar-weight { font-size: 11px; fill: var(--dim); }
.bar-label, .bar-value, .lane-label { font-size: 12px; }
.lane-label { font-weight: 600; }
.timeline-chart { width: 100%; background: var(--panel); border: 1px solid var(--line); border-radius: 8px; }
.legend { display: flex; flex-wrap: wrap; gap: 18px; color: var(--dim); font-size: 12px; margin: 8px 0 12px; }
.legend .sw { display: inline-block; vertical-align: middle; margin-right: 6px; }
.sw.bar { width: 22px; height: 10px; border-radius: 2px; background: #bbf7d0; border: 1px solid #16a34a; }
.sw.target { width: 9px; height: 9px; background: var(--ink); transform: rotate(45deg); }
.sw.dot { width: 9px; height: 9px; border-radius: 50%; }
.sw.dot.good { background: #16a34a; } .sw.dot.bad { background: #dc2626; }
.sw.warn-mark { width: 0; height: 0; border-left: 6px solid transparent; border-right: 6px solid transparent;
  border-bottom: 10px solid #dc2626; }
table { width: 100%; border-collapse: collapse; background: var(--panel); border: 1px solid var(--line);
  border-radius: 6px; font-size: 13px; }
th { text-align: left; font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: var(--dim);
  background: #f1f5f9; padding: 6px 10px; border-bottom: 1px solid var(--line); }
td { padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
tbody tr:last-child td { border-bottom: none; }
tbody tr:nth-child(even) td { background: #fcfdfe; }
.num { font-variant-numeric: tabular-nums; }
.timeline-table td:nth-child(-n+3), .nw { white-space: nowrap; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600;
  border: 1px solid transparent; white-space: nowrap; }
.badge.good { color: #166534; background: #dcfce7; border-color: #86efac; }
.badge.warn { color: #92400e; background: #fef3c7; border-color: #fcd34d; }
.badge.bad { color: #991b1b; background: #fee2e2; border-color: #fca5a5; }
.badge.muted { color: #475569; background: #f1f5f9; border-color: #cbd5e1; }
.badge.active { color: #1e40af; background: #dbeafe; border-color: #93c5fd; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
section.fault { background: var(--panel); border: 1px solid var(--line); border-left: 5px solid #94a3b8;
  border-radius: 8px; padding: 14px 16px; margin: 0 0 16px; }
section.fault.good { border-left-color: #16a34a; } section.fault.warn { border-left-color: #d97706; }
section.fault.bad { border-left-color: #dc2626; } section.fault.active { border-left-color: #2563eb; }
section.fault table { border-radius: 4px; }
.type { font-weight: 400; color: var(--dim); font-size: 13px; }
footer { margin-top: 32px; color: var(--dim); font-size: 12px; }
@media screen and (max-width: 900px) {
  .summary, .pair { grid-template-columns: 1fr; }
  .facts { grid-template-columns: repeat(2, minmax(0, 1fr)); }
}
@media print {
  @page { margin: 12mm; }
  body { background: #fff; font-size: 12px; }
  main { max-width: none; padding: 0; }
  .summary { grid-template-columns: 190px 170px minmax(0, 1fr); }
  .pair { grid-template-columns: 1fr; }
  table { font-size: 11px; }
  th, td { padding: 4px 6px; }
  .card, section.fault, .timeline-chart, tr { break-inside: avoid; }
  h2 { break-after: avoid; }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(text: &str) -> Journal {
        serde_json::from_str(text).expect("a valid journal fixture")
    }

    fn pass_run() -> Journal {
        fixture(include_str!("../../tests/fixtures/report/pass.json"))
    }

    fn fail_run() -> Journal {
        fixture(include_str!("../../tests/fixtures/report/fail.json"))
    }

    fn stopped_run() -> Journal {
        fixture(include_str!("../../tests/fixtures/report/stopped.json"))
    }

    fn error_run() -> Journal {
        fixture(include_str!("../../tests/fixtures/report/error.json"))
    }

    fn hostile_run() -> Journal {
        fixture(include_str!("../../tests/fixtures/report/hostile.json"))
    }

    /// The pass run caught halfway: the second fault still running, nothing complete.
    fn running_run() -> Journal {
        let mut journal = pass_run();
        journal.duration_seconds = None;
        journal.status.phase = RunPhase::Running;
        journal.status.verdict = Verdict::Awaited;
        journal.status.resilience_score = None;
        journal.status.completion_time = None;
        journal.status.message = None;
        journal.status.steady_state.after.clear();
        let cart = &mut journal.status.faults[1];
        cart.status = FaultPhase::Running;
        cart.end_time = None;
        cart.score = None;
        cart.targets.clear();
        cart.probes[0].verdict = ProbeVerdict::Awaited;
        journal
            .samples
            .retain(|s| s.fault.as_deref() != Some("kill-cart") && s.mode != "after");
        journal.events.truncate(2);
        journal
    }

    fn all_runs() -> Vec<Journal> {
        vec![
            pass_run(),
            fail_run(),
            stopped_run(),
            error_run(),
            hostile_run(),
            running_run(),
        ]
    }

    /// The value of `name` on the first `<element ...>` tag.
    fn attr(xml: &str, element: &str, name: &str) -> String {
        let tag_start = xml
            .find(&format!("<{element} "))
            .unwrap_or_else(|| panic!("no <{element}> in {xml}"));
        let tag = &xml[tag_start..];
        let tag = &tag[..tag.find('>').expect("a closed tag")];
        let key = format!(" {name}=\"");
        let value = &tag[tag
            .find(&key)
            .unwrap_or_else(|| panic!("no {name} on {tag}"))
            + key.len()..];
        value[..value.find('"').expect("a closed attribute")].to_string()
    }

    /// The testcase element whose name is `name`, through its end.
    fn case<'a>(xml: &'a str, name: &str) -> &'a str {
        let start = xml
            .find(&format!("<testcase name=\"{name}\""))
            .unwrap_or_else(|| panic!("no testcase {name:?} in {xml}"));
        let rest = &xml[start..];
        let open_end = rest.find('>').expect("a closed tag");
        if rest[..open_end].ends_with('/') {
            return &rest[..=open_end];
        }
        let close = "</testcase>";
        &rest[..rest.find(close).expect("a closed testcase") + close.len()]
    }

    /// Every tag in the page; escaped text never contains a raw `<`, so this sees only markup.
    fn tags(html: &str) -> Vec<&str> {
        html.split('<')
            .skip(1)
            .map(|chunk| &chunk[..chunk.find('>').unwrap_or(chunk.len())])
            .collect()
    }

    #[test]
    fn json_is_pretty_round_trips_and_ends_in_a_newline() {
        let journal = fail_run();
        let text = json(&journal);
        assert!(text.ends_with("}\n"));
        assert!(text.contains("\n  \"experiment\": \"checkout-resilience\""));
        let back: Journal = serde_json::from_str(&text).expect("the output parses");
        assert_eq!(back, journal);
    }

    #[test]
    fn junit_counts_a_pass_run_as_all_passed() {
        let xml = junit(&pass_run());
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "));
        // 2 faults + 2 fault probes + 2 steady-state probes + the score.
        assert_eq!(attr(&xml, "testsuites", "name"), "faultline");
        assert_eq!(attr(&xml, "testsuites", "tests"), "7");
        assert_eq!(attr(&xml, "testsuites", "failures"), "0");
        assert_eq!(attr(&xml, "testsuites", "errors"), "0");
        assert_eq!(attr(&xml, "testsuites", "skipped"), "0");
        assert_eq!(attr(&xml, "testsuite", "name"), "shop/checkout-resilience");
        assert_eq!(attr(&xml, "testsuite", "time"), "130.000");
        assert_eq!(attr(&xml, "testsuite", "timestamp"), "2025-06-01T10:00:00");
        assert!(!xml.contains("hostname"));
        assert_eq!(
            attr(&xml, "testcase", "classname"),
            "faultline.checkout-resilience"
        );
        assert_eq!(
            attr(
                case(&xml, "fault kill-api (pod-delete)"),
                "testcase",
                "time"
            ),
            "55.000"
        );
        assert!(xml.contains(r#"<property name="verdict" value="Pass"/>"#));
        assert!(xml.contains(r#"<property name="resilienceScore" value="100"/>"#));
        assert!(xml.contains(r#"<property name="minScore" value="100"/>"#));
        assert!(xml.contains(r#"<property name="runNumber" value="3"/>"#));
        assert!(xml.contains(r#"<testcase name="steady state before / probe checkout-up""#));
        assert!(xml.contains(r#"<testcase name="steady state after / probe checkout-up""#));
        assert!(
            xml.contains(r#"<testcase name="fault kill-api / probe api-available (Continuous)""#)
        );
        assert!(xml.contains("<system-out>shop/checkout-resilience run 3 (request)"));
    }

    #[test]
    fn junit_fails_the_fault_its_failed_probes_and_the_score_of_a_failed_run() {
        let xml = junit(&fail_run());
        // 2 faults + 3 fault probes + 2 steady-state probes + the score; the fault, its two
        // failed probes and the score fail.
        assert_eq!(attr(&xml, "testsuites", "tests"), "8");
        assert_eq!(attr(&xml, "testsuites", "failures"), "4");
        assert_eq!(attr(&xml, "testsuites", "errors"), "0");
        assert_eq!(attr(&xml, "testsuite", "time"), "95.000");
        let fault = case(&xml, "fault kill-api (pod-delete)");
        assert_eq!(attr(fault, "failure", "type"), "CompletedWithError");
        assert_eq!(
            attr(fault, "failure", "message"),
            "probe api-available failed"
        );
        assert!(fault.contains(
            "probe api-available (Continuous): Failed, passed 12, failed 3: deployment api: 1/3 ready"
        ));
        let probe = case(&xml, "fault kill-api / probe api-available (Continuous)");
        assert_eq!(attr(probe, "failure", "type"), "Failed");
        assert_eq!(
            attr(probe, "failure", "message"),
            "deployment api: 1/3 ready, want all available"
        );
        assert!(probe.contains("passed 12, failed 3"));
        let score = case(&xml, "resilience score");
        assert_eq!(attr(score, "failure", "type"), "Fail");
        assert_eq!(
            attr(score, "failure", "message"),
            "score 66.7 is below the minimum 100"
        );
        assert!(xml.contains(r#"<property name="resilienceScore" value="66.7"/>"#));
    }

    #[test]
    fn junit_skips_stopped_and_skipped_faults_and_the_score_of_a_stopped_run() {
        let xml = junit(&stopped_run());
        // 2 faults + 2 awaited probes + 1 steady-state probe + the score; all but the
        // steady-state probe are skipped.
        assert_eq!(attr(&xml, "testsuites", "tests"), "6");
        assert_eq!(attr(&xml, "testsuites", "skipped"), "5");
        assert_eq!(attr(&xml, "testsuites", "failures"), "0");
        assert!(!xml.contains("resilienceScore"));
        let stopped = case(&xml, "fault kill-api (pod-delete)");
        assert_eq!(attr(stopped, "skipped", "message"), "stopped by the user");
        let skipped = case(&xml, "fault kill-cart (pod-delete)");
        assert_eq!(
            attr(skipped, "skipped", "message"),
            "the run was stopped before this fault"
        );
        assert_eq!(attr(skipped, "testcase", "time"), "0.000");
        assert!(case(&xml, "resilience score").contains("<skipped "));
    }

    #[test]
    fn junit_errors_an_errored_fault_its_na_probe_and_the_score() {
        let xml = junit(&error_run());
        assert_eq!(attr(&xml, "testsuites", "tests"), "3");
        assert_eq!(attr(&xml, "testsuites", "errors"), "3");
        let fault = case(&xml, "fault kill-db (pod-delete)");
        assert_eq!(
            attr(fault, "error", "message"),
            "namespace pay lacks the label chaos.faultline.dev/allow=true"
        );
        let probe = case(&xml, "fault kill-db / probe db-ready (EOT)");
        assert_eq!(attr(probe, "error", "type"), "N/A");
        assert_eq!(attr(probe, "error", "message"), "timed out after 5s");
        assert_eq!(
            attr(case(&xml, "resilience score"), "error", "type"),
            "Error"
        );
        assert!(xml.contains(r#"<property name="minScore" value="80"/>"#));
    }

    #[test]
    fn junit_fails_the_score_of_a_pass_below_the_min_score_gate() {
        let mut journal = fail_run();
        journal.status.phase = RunPhase::CompletedWithError;
        journal.status.verdict = Verdict::Pass;
        journal.status.expected_resilience_score = Some(50);
        journal.min_score = Some(80.0);
        let xml = junit(&journal);
        assert_eq!(
            attr(case(&xml, "resilience score"), "failure", "message"),
            "score 66.7 is below the minimum 80"
        );
    }

    #[test]
    fn junit_counts_match_the_testcases_for_every_run() {
        for journal in all_runs() {
            let xml = junit(&journal);
            for (attribute, element) in [
                ("tests", "<testcase "),
                ("failures", "<failure "),
                ("errors", "<error "),
                ("skipped", "<skipped "),
            ] {
                let count = xml.matches(element).count().to_string();
                assert_eq!(attr(&xml, "testsuites", attribute), count, "{attribute}");
                assert_eq!(attr(&xml, "testsuite", attribute), count, "{attribute}");
            }
        }
    }

    #[test]
    fn junit_escapes_markup_and_drops_characters_xml_forbids() {
        let xml = junit(&hostile_run());
        assert!(!xml.contains("<script"));
        assert!(!xml.contains("<b>"));
        assert!(!xml.contains('\u{1}') && !xml.contains('\u{1b}') && !xml.contains('\u{0}'));
        assert!(!xml.contains('\u{7}'));
        assert_eq!(
            attr(&xml, "testsuite", "name"),
            "ns&quot;&amp;&#39;/&lt;script&gt;alert(&#39;exp&#39;)&lt;/script&gt;"
        );
        assert!(xml.contains("message=\"a&quot;b&#39;c&lt;d&gt;&amp;ef\" type=\"Failed\""));
        assert!(xml.contains("]]&gt;"));
        assert!(xml.contains("<testcase name=\"fault f&quot;&lt;x&gt;&amp;&#39; (pod-delete)\""));
    }

    #[test]
    fn junit_of_a_run_in_progress_skips_what_has_not_ended() {
        let xml = junit(&running_run());
        let running = case(&xml, "fault kill-cart (pod-delete)");
        assert_eq!(attr(running, "skipped", "message"), "still running");
        assert_eq!(attr(&xml, "testsuite", "time"), "0.000");
        assert_eq!(
            attr(case(&xml, "resilience score"), "skipped", "message"),
            "the run has not ended"
        );
    }

    #[test]
    fn xml_attributes_keep_line_breaks_as_references() {
        assert_eq!(xml_attr("a\nb\tc\rd"), "a&#10;b&#9;c&#13;d");
        assert_eq!(escape("x\u{FFFE}y\u{b}z"), "xyz");
        assert_eq!(escape("ü→😀"), "ü→😀");
    }

    #[test]
    fn html_has_the_csp_and_fetches_nothing() {
        for journal in all_runs() {
            let page = html(&journal);
            assert!(page.starts_with("<!DOCTYPE html>"));
            assert!(page.contains(
                r#"<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">"#
            ));
            for tag in tags(&page) {
                let lower = tag.to_lowercase();
                for reference in [
                    "src=", "href=", "srcset=", "xlink:", "url(", "@import", "http:", "https:",
                ] {
                    assert!(!lower.contains(reference), "{reference} in <{tag}>");
                }
                for element in ["script", "link", "img", "iframe", "object", "embed", "a "] {
                    assert!(!lower.starts_with(element), "a <{tag}> element");
                }
            }
            assert!(!STYLE.contains("url(") && !STYLE.contains("@import"));
        }
    }

    #[test]
    fn html_shows_the_verdict_score_and_charts_of_a_pass_run() {
        let page = html(&pass_run());
        assert!(page.contains(r#"<div id="verdict" class="verdict">Pass</div>"#));
        assert!(page.contains(r#"<strong id="score">100</strong>"#));
        assert!(page.contains(r#"<svg id="score-chart""#));
        assert!(page.contains(r#"class="min-marker""#));
        assert!(page.contains(r#"<svg id="fault-scores""#));
        assert!(page.contains(r#"<section id="timeline""#));
        assert!(page.contains(r#"<svg id="timeline-chart""#));
        assert!(page.contains(r#"data-fault="kill-api""#));
        assert!(page.contains(r#"data-fault="kill-cart""#));
        assert!(page.contains("×5"));
        assert_eq!(page.matches("class=\"target-mark\"").count(), 3);
        assert_eq!(page.matches("class=\"sample-mark good\"").count(), 6);
        assert!(page.contains("<td>Deleted Pod shop/api-7d9f8-abcde</td>"));
        assert!(page.contains("<dd>2m 10s</dd>"));
        assert!(page.contains(
            r#"<dd><span class="nw">2025-06-01</span> <span class="nw">10:02:10 UTC</span></dd>"#
        ));
        assert!(page.contains("<td>10:00:10</td><td>+10s</td><td>Target</td><td>kill-api</td>"));
    }

    #[test]
    fn html_marks_failed_samples_and_warnings_of_a_failed_run() {
        let page = html(&fail_run());
        assert!(page.contains(r#"<div id="verdict" class="verdict">Fail</div>"#));
        assert!(page.contains(r#"<strong id="score">66.7</strong>"#));
        assert!(page.contains(r#"class="card verdict-card warn""#));
        assert_eq!(page.matches("class=\"sample-mark bad\"").count(), 3);
        assert_eq!(page.matches("class=\"warning-mark\"").count(), 2);
        assert!(page.contains(r#"<section class="fault warn" data-fault="kill-api">"#));
    }

    #[test]
    fn html_handles_a_stopped_run_with_a_skipped_fault() {
        let page = html(&stopped_run());
        assert!(page.contains(r#"<div id="verdict" class="verdict">Stopped</div>"#));
        assert!(page.contains(r#"<strong id="score">–</strong>"#));
        assert!(page.contains(r#"<section class="fault muted" data-fault="kill-cart">"#));
        assert!(page.contains("not started"));
        assert!(page.contains("No targets recorded."));
    }

    #[test]
    fn html_handles_an_error_run_and_a_run_in_progress() {
        let page = html(&error_run());
        assert!(page.contains(r#"<div id="verdict" class="verdict">Error</div>"#));
        assert!(page.contains(r#"<strong id="score">0</strong>"#));
        assert!(page.contains(r#"<span class="badge bad">N/A</span>"#));

        let page = html(&running_run());
        assert!(page.contains(r#"<div id="verdict" class="verdict">Awaited</div>"#));
        assert!(page.contains("in progress"));
        assert!(page.contains(r#"class="fault-bar open""#));
        assert!(page.contains("not yet"));
    }

    #[test]
    fn html_of_a_run_with_no_times_renders_without_a_timeline_chart() {
        let journal = Journal {
            experiment: "fresh".to_string(),
            ..Journal::default()
        };
        let page = html(&journal);
        assert!(page.contains(r#"<section id="timeline""#));
        assert!(!page.contains("timeline-chart\""));
        assert!(page.contains("Nothing with a time has been recorded yet."));
        assert!(page.contains(r#"<div id="verdict" class="verdict">Awaited</div>"#));
    }

    #[test]
    fn html_escapes_every_string_from_the_result() {
        let page = html(&hostile_run());
        for raw in [
            "<script",
            "<b>",
            "<img",
            "<svg onload",
            "<a href",
            "</section><",
        ] {
            assert!(!page.contains(raw), "{raw} reached the page unescaped");
        }
        assert!(page.contains("<h1>&lt;script&gt;alert(&#39;exp&#39;)&lt;/script&gt;</h1>"));
        assert!(page.contains(r#"data-fault="f&quot;&lt;x&gt;&amp;&#39;""#));
        assert!(page.contains("a&quot;b&#39;c&lt;d&gt;&amp;ef"));
        assert!(!page.contains('\u{1}') && !page.contains('\u{1b}') && !page.contains('\u{0}'));
        // Every tag the page opens is one of ours.
        for tag in tags(&page) {
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '!')
                .collect();
            assert!(
                [
                    "!DOCTYPE", "html", "head", "meta", "title", "style", "body", "main", "header",
                    "p", "h1", "h2", "h3", "h4", "dl", "div", "dt", "dd", "span", "strong",
                    "section", "svg", "circle", "line", "title", "text", "g", "rect", "path",
                    "table", "thead", "tbody", "tr", "th", "td", "i", "footer", "code",
                ]
                .contains(&name.as_str()),
                "unexpected tag <{tag}>"
            );
        }
    }

    #[test]
    fn scores_and_durations_read_as_people_write_them() {
        assert_eq!(score_text(100.0), "100");
        assert_eq!(score_text(66.666_666), "66.7");
        assert_eq!(score_text(0.0), "0");
        assert_eq!(duration_text(0.4), "0.4s");
        assert_eq!(duration_text(45.0), "45s");
        assert_eq!(duration_text(125.0), "2m 5s");
        assert_eq!(duration_text(120.0), "2m");
        assert_eq!(duration_text(3780.0), "1h 3m");
    }

    /// Writes the sample pages and JUnit files to /tmp/report-check for a look in a browser.
    #[test]
    #[ignore = "writes files for a manual look"]
    fn write_samples_for_a_manual_look() {
        let dir = std::path::Path::new("/tmp/report-check");
        std::fs::create_dir_all(dir).expect("a scratch directory");
        let runs = [
            ("pass", pass_run()),
            ("fail", fail_run()),
            ("stopped", stopped_run()),
            ("error", error_run()),
            ("hostile", hostile_run()),
            ("running", running_run()),
        ];
        for (name, journal) in runs {
            std::fs::write(dir.join(format!("{name}.html")), html(&journal)).expect("write");
            std::fs::write(dir.join(format!("{name}.xml")), junit(&journal)).expect("write");
        }
        std::fs::write(dir.join("sample.html"), html(&fail_run())).expect("write");
    }
}
