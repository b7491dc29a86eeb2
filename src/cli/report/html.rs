//! The self-contained HTML page: header, summary cards, score charts, the faults and their
//! targets, probes and Events.

use std::fmt::Write as _;

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

pub(super) fn badge(text: &str, tone: Tone) -> String {
    format!(
        r#"<span class="badge {}">{}</span>"#,
        tone.class(),
        escape(text)
    )
}

/// A table with a header row; cells arrive already escaped or built from escaped parts.
pub(super) fn table(class: &str, headers: &[&str], rows: &[Vec<String>]) -> String {
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
pub(super) fn datetime_html(time: &Timestamp) -> String {
    format!(
        r#"<span class="nw">{}</span> <span class="nw">{}</span>"#,
        time.strftime("%Y-%m-%d"),
        time.strftime("%H:%M:%S UTC")
    )
}

pub(super) fn optional_datetime_html(time: Option<&Time>) -> String {
    time.map(|t| datetime_html(&t.0)).unwrap_or_default()
}

pub(super) fn none_note(text: &str) -> String {
    format!("<p class=\"none\">{}</p>\n", escape(text))
}

pub(super) fn optional_score_text(score: Option<f64>) -> String {
    score.map(score_text).unwrap_or_else(|| "–".to_string())
}

pub(super) const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

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

pub(super) fn header_html(journal: &Journal) -> String {
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

pub(super) fn summary_html(journal: &Journal) -> String {
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
pub(super) fn score_chart(score: Option<f64>, minimum: f64, tone: Tone) -> String {
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
pub(super) fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let head: String = text.chars().take(max - 1).collect();
        format!("{head}…")
    }
}

/// One horizontal bar per fault: its score, coloured by its status, labelled with its weight.
pub(super) fn fault_score_chart(faults: &[FaultStatus]) -> String {
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

pub(super) fn probe_table(probes: &[ProbeStatus]) -> String {
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

pub(super) fn steady_state_html(journal: &Journal) -> String {
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

pub(super) fn faults_html(journal: &Journal) -> String {
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

pub(super) fn fault_html(fault: &FaultStatus) -> String {
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

pub(super) fn targets_table(targets: &[TargetRecord]) -> String {
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

pub(super) fn events_html(events: &[JournalEvent]) -> String {
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
