//! The self-contained HTML page: header, summary cards, score charts, the faults and their
//! targets, probes and Events.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::*;

/// The colour family of a state; one palette keeps the page and its charts consistent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Tone {
    Good,
    Warn,
    Bad,
    Muted,
    Active,
}

impl Tone {
    pub(super) fn class(self) -> &'static str {
        match self {
            Tone::Good => "good",
            Tone::Warn => "warn",
            Tone::Bad => "bad",
            Tone::Muted => "muted",
            Tone::Active => "active",
        }
    }

    /// The fill used in charts; CSS classes cannot reach every SVG attribute we use.
    pub(super) fn colour(self) -> &'static str {
        match self {
            Tone::Good => "#16a34a",
            Tone::Warn => "#d97706",
            Tone::Bad => "#dc2626",
            Tone::Muted => "#94a3b8",
            Tone::Active => "#2563eb",
        }
    }
}

pub(super) fn verdict_tone(verdict: Verdict) -> Tone {
    match verdict {
        Verdict::Pass => Tone::Good,
        Verdict::Fail => Tone::Warn,
        Verdict::Error => Tone::Bad,
        Verdict::Stopped => Tone::Muted,
        Verdict::Awaited => Tone::Active,
    }
}

pub(super) fn phase_tone(phase: RunPhase) -> Tone {
    match phase {
        RunPhase::Completed => Tone::Good,
        RunPhase::CompletedWithError => Tone::Warn,
        RunPhase::Error | RunPhase::Timeout => Tone::Bad,
        RunPhase::Stopped => Tone::Muted,
        RunPhase::Queued | RunPhase::Running => Tone::Active,
    }
}

pub(super) fn fault_tone(phase: FaultPhase) -> Tone {
    match phase {
        FaultPhase::Completed => Tone::Good,
        FaultPhase::CompletedWithError => Tone::Warn,
        FaultPhase::Error => Tone::Bad,
        FaultPhase::Stopped | FaultPhase::Skipped => Tone::Muted,
        FaultPhase::Running => Tone::Active,
    }
}

pub(super) fn probe_tone(verdict: ProbeVerdict) -> Tone {
    match verdict {
        ProbeVerdict::Passed => Tone::Good,
        ProbeVerdict::Failed => Tone::Warn,
        ProbeVerdict::NotApplicable => Tone::Bad,
        ProbeVerdict::Awaited => Tone::Active,
    }
}

/// A sample's outcome is free text in the journal; anything but Passed is treated as a failure.
pub(super) fn sample_tone(sample: &ProbeSample) -> Tone {
    if sample.outcome == "Passed" {
        Tone::Good
    } else {
        Tone::Bad
    }
}

pub(super) fn badge(text: &str, tone: Tone) -> Markup {
    html! { span class={ "badge " (tone.class()) } { (text) } }
}

/// A table with a header row.
pub(super) fn table(class: &str, headers: &[&str], rows: &[Vec<Markup>]) -> Markup {
    html! {
        table class=(class) {
            thead { tr { @for header in headers { th { (header) } } } }
            tbody {
                @for row in rows {
                    tr { @for cell in row { td { (cell) } } }
                }
            }
        }
    }
}

/// A number in a table cell, in tabular figures.
pub(super) fn number(value: impl maud::Render) -> Markup {
    html! { span class="num" { (value) } }
}

/// A date and time for a table cell, which may break between the date and the time but
/// nowhere else.
pub(super) fn datetime_html(time: &Timestamp) -> Markup {
    html! {
        span class="nw" { (time.strftime("%Y-%m-%d")) } " "
        span class="nw" { (time.strftime("%H:%M:%S UTC")) }
    }
}

pub(super) fn optional_datetime_html(time: Option<&Time>) -> Markup {
    html! { @if let Some(time) = time { (datetime_html(&time.0)) } }
}

pub(super) fn none_note(text: &str) -> Markup {
    html! { p class="none" { (text) } }
}

pub(super) fn optional_score_text(score: Option<f64>) -> String {
    score.map(score_text).unwrap_or_else(|| "–".to_string())
}

pub(super) const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/// The run as one HTML page that loads nothing: its CSP forbids every fetch, and the charts
/// are inline SVG, so the file can be archived as a CI artifact and opened anywhere. Every
/// string from the run goes through maud, which escapes it.
pub fn html(journal: &Journal) -> String {
    let journal = &printable(journal);
    let title = format!(
        "{}/{} run {} — Faultline report",
        journal.namespace, journal.experiment, journal.run_number
    );
    page(
        &title,
        "",
        html! {
            (header_html(journal))
            (summary_html(journal))
            (timeline_html(journal))
            (steady_state_html(journal))
            (faults_html(journal))
            (events_html(&journal.events))
            footer {
                "Rendered by " code { "faultline report" } " from a "
                (journal.version) " journal."
            }
        },
    )
}

/// A whole page around `main`: the CSP, the shared style plus `style`, ending in a newline.
pub(super) fn page(title: &str, style: &str, main: Markup) -> String {
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(CSP);
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) }
                style { (PreEscaped(STYLE)) (PreEscaped(style)) }
            }
            body { main { (main) } }
        }
    };
    let mut text = page.into_string();
    text.push('\n');
    text
}

/// `journal` (or a history) with every string stripped of the characters XML forbids (terminal
/// colour codes, NULs): maud escapes markup, and this keeps the page as clean as the JUnit report.
pub(super) fn printable<T>(value: &T) -> T
where
    T: Clone + serde::Serialize + serde::de::DeserializeOwned,
{
    fn strip(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(text) if !text.chars().all(is_xml_char) => {
                text.retain(is_xml_char);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            serde_json::Value::Object(map) => map.values_mut().for_each(strip),
            _ => {}
        }
    }
    let Ok(mut json) = serde_json::to_value(value) else {
        return value.clone();
    };
    strip(&mut json);
    serde_json::from_value(json).unwrap_or_else(|_| value.clone())
}

pub(super) fn header_html(journal: &Journal) -> Markup {
    let status = &journal.status;
    let facts = [
        ("Namespace", html! { (journal.namespace) }),
        ("Result", html! { (journal.result) }),
        ("Run", html! { (journal.run_number) }),
        ("Trigger", html! { (journal.trigger) }),
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
                None => html! { span class="dim" { "not yet" } },
            },
        ),
        (
            "Duration",
            html! { (run_seconds(journal).map(duration_text).unwrap_or_default()) },
        ),
    ];
    html! {
        header class="page" {
            p class="kicker" { "Faultline chaos experiment report" }
            h1 { (journal.experiment) }
            dl class="facts" {
                @for (name, value) in facts { div { dt { (name) } dd { (value) } } }
            }
            @if let Some(message) = &status.message { p class="message" { (message) } }
        }
    }
}

pub(super) fn summary_html(journal: &Journal) -> Markup {
    let status = &journal.status;
    let gate = min_score(journal);
    let tone = verdict_tone(status.verdict);
    let below_gate = matches!(
        (status.verdict, status.resilience_score),
        (Verdict::Pass, Some(score)) if score < gate
    );
    html! {
        section class="summary" {
            div class={ "card verdict-card " (tone.class()) } {
                div class="label" { "Verdict" }
                div id="verdict" class="verdict" { (status.verdict.as_str()) }
                div class="score-line" {
                    "Score " strong id="score" { (optional_score_text(status.resilience_score)) }
                    " " span class="dim" { "/ 100" }
                }
                div class="dim" { "Minimum " (score_text(gate)) }
                @if below_gate { div class="gate" { "Below the minimum asked for this report" } }
            }
            div class="card" {
                div class="label" { "Resilience score" }
                (score_chart(status.resilience_score, gate, tone))
            }
            div class="card wide" {
                div class="label" {
                    "Fault scores " span class="dim" { "(weight in the run's score)" }
                }
                (fault_score_chart(&status.faults))
            }
        }
    }
}

/// A donut whose arc is the score, with a tick where the minimum lies.
pub(super) fn score_chart(score: Option<f64>, minimum: f64, tone: Tone) -> Markup {
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
    // The minimum's tick, clockwise from twelve o'clock like the arc.
    let angle = minimum.clamp(0.0, 100.0) / 100.0 * std::f64::consts::TAU;
    let point = |radius: f64| (C + radius * angle.sin(), C - radius * angle.cos());
    let ((x1, y1), (x2, y2)) = (point(R - 12.0), point(R + 12.0));
    html! {
        svg id="score-chart" class="donut" viewBox="0 0 160 160" width="160" height="160"
            role="img" aria-label=(label) {
            circle cx=(C) cy=(C) r=(R) fill="none" stroke="#e2e8f0" stroke-width="16" {}
            @if fraction > 0.0 {
                circle cx=(C) cy=(C) r=(R) fill="none" stroke=(tone.colour()) stroke-width="16"
                    stroke-dasharray=(format!("{:.2} {:.2}", fraction * circumference, circumference))
                    transform=(format!("rotate(-90 {C} {C})")) {}
            }
            line class="min-marker" x1=(f2(x1)) y1=(f2(y1)) x2=(f2(x2)) y2=(f2(y2))
                stroke="#0f172a" stroke-width="3" {
                title { "minimum " (score_text(minimum)) }
            }
            text x=(C) y=(C + 6.0) text-anchor="middle" class="donut-value" {
                (optional_score_text(score))
            }
            text x=(C) y=(C + 26.0) text-anchor="middle" class="donut-caption" {
                "min " (score_text(minimum))
            }
        }
    }
}

/// A coordinate with one decimal.
pub(super) fn f1(value: f64) -> String {
    format!("{value:.1}")
}

/// A coordinate with two decimals.
pub(super) fn f2(value: f64) -> String {
    format!("{value:.2}")
}

/// Shortens a label for a chart's fixed gutter; the full text stays in the SVG title.
pub(super) fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let head: String = text.chars().take(max - 1).collect();
        format!("{head}…")
    }
}

/// One horizontal bar per fault: its score, coloured by its status, labelled with its weight.
pub(super) fn fault_score_chart(faults: &[FaultStatus]) -> Markup {
    if faults.is_empty() {
        return none_note("No faults recorded.");
    }
    const ROW: f64 = 28.0;
    const GUTTER: f64 = 150.0;
    const BAR: f64 = 270.0;
    let height = ROW * faults.len() as f64 + 22.0;
    let axis_y = ROW * faults.len() as f64 + 14.0;
    html! {
        svg id="fault-scores" class="bars" viewBox={ "0 0 480 " (height) } width="480"
            height=(height) role="img" aria-label="score of each fault" {
            @for (i, fault) in faults.iter().enumerate() {
                @let y = ROW * i as f64;
                @let tone = fault_tone(fault.status);
                @let score = fault.score.unwrap_or(0.0).clamp(0.0, 100.0);
                g {
                    title {
                        (fault.name) ": " (wire_name(&fault.status)) ", score "
                        (optional_score_text(fault.score)) ", weight " (fault.weight)
                    }
                    text x="0" y=(f1(y + 17.0)) class="bar-label" { (shorten(&fault.name, 16)) }
                    text x=(f1(GUTTER - 8.0)) y=(f1(y + 17.0)) text-anchor="end" class="bar-weight" {
                        "×" (fault.weight)
                    }
                    rect x=(GUTTER) y=(f1(y + 6.0)) width=(BAR) height="14" rx="3" fill="#f1f5f9" {}
                    @if score > 0.0 {
                        rect x=(GUTTER) y=(f1(y + 6.0)) width=(f1(BAR * score / 100.0)) height="14"
                            rx="3" fill=(tone.colour()) {}
                    }
                    text x=(f1(GUTTER + BAR + 8.0)) y=(f1(y + 17.0)) class="bar-value" {
                        (optional_score_text(fault.score))
                    }
                }
            }
            // Scale under the bars: 0, 50, 100.
            @for value in [0.0, 50.0, 100.0] {
                text x=(f1(GUTTER + BAR * value / 100.0)) y=(f1(axis_y)) text-anchor="middle"
                    class="axis" { (value) }
            }
        }
    }
}

pub(super) fn probe_table(probes: &[ProbeStatus]) -> Markup {
    if probes.is_empty() {
        return none_note("No probes.");
    }
    let rows: Vec<Vec<Markup>> = probes
        .iter()
        .map(|p| {
            vec![
                html! { (p.name) },
                html! { (wire_name(&p.mode)) },
                badge(&wire_name(&p.verdict), probe_tone(p.verdict)),
                number(p.passed),
                number(p.failed),
                html! { (p.reason().unwrap_or("")) },
            ]
        })
        .collect();
    table(
        "probes",
        &["Probe", "Mode", "Verdict", "Passed", "Failed", "Message"],
        &rows,
    )
}

pub(super) fn steady_state_html(journal: &Journal) -> Markup {
    let steady = &journal.status.steady_state;
    html! {
        section id="steady-state" {
            h2 { "Steady state" }
            div class="pair" {
                @for (when, probes) in [("Before", &steady.before), ("After", &steady.after)] {
                    div class={ "steady-" (when.to_lowercase()) } {
                        h3 { (when) " the chaos" }
                        (probe_table(probes))
                    }
                }
            }
        }
    }
}

pub(super) fn faults_html(journal: &Journal) -> Markup {
    html! {
        section id="faults" {
            h2 { "Faults" }
            @if journal.status.faults.is_empty() { (none_note("No faults recorded.")) }
            @for fault in &journal.status.faults { (fault_html(fault)) }
        }
    }
}

pub(super) fn fault_html(fault: &FaultStatus) -> Markup {
    let tone = fault_tone(fault.status);
    let facts = vec![vec![
        badge(&wire_name(&fault.status), tone),
        number(optional_score_text(fault.score)),
        number(fault.weight),
        html! { (fault.pod.as_deref().unwrap_or("")) },
        optional_datetime_html(fault.start_time.as_ref()),
        optional_datetime_html(fault.end_time.as_ref()),
        html! { (fault.message.as_deref().unwrap_or("")) },
    ]];
    html! {
        section class={ "fault " (tone.class()) } data-fault=(fault.name) {
            h3 {
                (fault.name) " " span class="type" { (wire_name(&fault.fault_type)) } " "
                (badge(&wire_name(&fault.status), tone))
            }
            (table(
                "fault-facts",
                &["Status", "Score", "Weight", "Pod", "Start", "End", "Message"],
                &facts,
            ))
            h4 { "Targets" }
            (targets_table(&fault.targets))
            h4 { "Probes" }
            (probe_table(&fault.probes))
        }
    }
}

pub(super) fn targets_table(targets: &[TargetRecord]) -> Markup {
    if targets.is_empty() {
        return none_note("No targets recorded.");
    }
    let rows: Vec<Vec<Markup>> = targets
        .iter()
        .map(|t| {
            vec![
                html! { (t.kind) },
                html! { (t.namespace) },
                html! { (t.name) },
                html! { (action_text(t.action)) },
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

pub(super) fn events_html(events: &[JournalEvent]) -> Markup {
    let rows: Vec<Vec<Markup>> = events
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
                html! { (e.reason) },
                html! { (e.object) },
                html! { (e.message) },
            ]
        })
        .collect();
    html! {
        section id="events" {
            h2 { "Events" }
            @if events.is_empty() {
                (none_note("No events recorded."))
            } @else {
                (table("events", &["Time", "Type", "Reason", "Object", "Message"], &rows))
            }
        }
    }
}

/// The page's only styling. No web fonts or images: the CSP blocks every fetch.
pub(super) const STYLE: &str = r#"
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
td { padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: break-word; }
td:last-child { overflow-wrap: anywhere; }
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
