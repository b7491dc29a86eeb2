//! The run's timeline in the HTML page: one SVG lane per fault, probe and warning, and the
//! same moments as a table.

use std::fmt::Write as _;

use super::*;

/// One dated thing that happened in the run, for the timeline's table.
pub(super) struct Moment {
    at: Timestamp,
    what: &'static str,
    subject: String,
    detail: String,
    outcome: Option<(String, Tone)>,
}

/// Everything with a time, oldest first; ties keep the order in which the run records them.
pub(super) fn moments(journal: &Journal) -> Vec<Moment> {
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

pub(super) fn fault_moments(fault: &FaultStatus) -> Vec<Moment> {
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

pub(super) fn sample_subject(sample: &ProbeSample) -> String {
    sample
        .fault
        .clone()
        .unwrap_or_else(|| "steady state".to_string())
}

pub(super) fn is_warning(event: &JournalEvent) -> bool {
    event.event_type == "Warning"
}

/// Maps times onto the timeline's x axis.
pub(super) struct Axis {
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
pub(super) enum Lane<'a> {
    Warnings,
    SteadyState,
    Fault(&'a FaultStatus),
}

pub(super) fn timeline_html(journal: &Journal) -> String {
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

pub(super) const TIMELINE_LEGEND: &str = "<p class=\"legend\">\
<span><i class=\"sw bar\"></i>fault injected (start to end)</span>\
<span><i class=\"sw target\"></i>target action</span>\
<span><i class=\"sw dot good\"></i>probe passed</span>\
<span><i class=\"sw dot bad\"></i>probe failed</span>\
<span><i class=\"sw warn-mark\"></i>Warning event</span></p>\n";

pub(super) fn timeline_chart(journal: &Journal, moments: &[Moment]) -> String {
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
pub(super) fn timeline_axis(axis: &Axis, journal: &Journal, bottom: f64) -> String {
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

pub(super) fn lane_svg(lane: &Lane, journal: &Journal, axis: &Axis, top: f64) -> String {
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
pub(super) fn fault_bar(fault: &FaultStatus, axis: &Axis, top: f64) -> String {
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

pub(super) fn target_mark(target: &TargetRecord, axis: &Axis, y: f64) -> String {
    let x = axis.x(target.time.0);
    format!(
        r##"<path class="target-mark" d="M{:.1} {:.1} l5 7 l-5 7 l-5 -7 z" fill="#0f172a"><title>{} at {}</title></path>"##,
        x,
        y - 7.0,
        escape(&target_text(target)),
        escape(&clock_text(&target.time.0))
    )
}

pub(super) fn sample_mark(sample: &ProbeSample, axis: &Axis, y: f64) -> String {
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

pub(super) fn warning_mark(event: &JournalEvent, axis: &Axis, y: f64) -> String {
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

pub(super) fn timeline_table(moments: &[Moment]) -> String {
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
