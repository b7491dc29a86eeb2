//! The run's timeline in the HTML page: one SVG lane per fault, probe and warning, and the
//! same moments as a table.

use maud::{Markup, html};

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

pub(super) fn timeline_html(journal: &Journal) -> Markup {
    let moments = moments(journal);
    html! {
        section id="timeline" class="timeline" {
            h2 { "Timeline" }
            @if moments.is_empty() {
                (none_note("Nothing with a time has been recorded yet."))
            } @else {
                (timeline_chart(journal, &moments))
                (timeline_legend())
                (timeline_table(&moments))
            }
        }
    }
}

pub(super) fn timeline_legend() -> Markup {
    let entry = |swatch: &str, text: &str| {
        html! { span { i class={ "sw " (swatch) } {} (text) } }
    };
    html! {
        p class="legend" {
            (entry("bar", "fault injected (start to end)"))
            (entry("target", "target action"))
            (entry("dot good", "probe passed"))
            (entry("dot bad", "probe failed"))
            (entry("warn-mark", "Warning event"))
        }
    }
}

pub(super) fn timeline_chart(journal: &Journal, moments: &[Moment]) -> Markup {
    const WIDTH: f64 = 1160.0;
    const GUTTER: f64 = 190.0;
    const ROW: f64 = 40.0;
    let in_progress = journal.status.completion_time.is_none();
    let Some(axis) = Axis::covering(moments, in_progress, GUTTER, WIDTH - GUTTER - 20.0) else {
        return html! {};
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
    html! {
        svg id="timeline-chart" class="timeline-chart" viewBox={ "0 0 " (WIDTH) " " (height) }
            role="img" aria-label="timeline of the run" {
            (timeline_axis(&axis, journal, plot_bottom))
            @for (i, lane) in lanes.iter().enumerate() {
                @let top = 8.0 + ROW * i as f64;
                @if i % 2 == 1 {
                    rect x="0" y=(top) width=(WIDTH) height=(ROW) fill="#f8fafc" {}
                }
                (lane_svg(lane, journal, &axis, top))
            }
        }
    }
}

/// Grid lines, relative-time labels, and the run's start and end marks.
pub(super) fn timeline_axis(axis: &Axis, journal: &Journal, bottom: f64) -> Markup {
    let step = axis.tick_seconds();
    let span = axis.span_ms as f64 / 1000.0;
    let ticks: Vec<f64> = std::iter::successors(Some(0.0), |offset| Some(offset + step))
        .take_while(|offset| *offset <= span + 1e-9)
        .collect();
    let status = &journal.status;
    let marks = [
        (status.start_time.as_ref(), "run start"),
        (status.completion_time.as_ref(), "run end"),
    ];
    html! {
        @for offset in ticks {
            @let x = f1(axis.x0 + axis.width * offset / span);
            line x1=(x) y1="4" x2=(x) y2=(f1(bottom)) stroke="#e2e8f0" {}
            text x=(x) y=(f1(bottom + 16.0)) text-anchor="middle" class="axis" {
                "+" (duration_text(offset))
            }
        }
        text x="0" y=(f1(bottom + 30.0)) class="axis" { "from " (datetime_text(&axis.start)) }
        @for (time, label) in marks {
            @if let Some(time) = time {
                @let x = f1(axis.x(time.0));
                line x1=(x) y1="4" x2=(x) y2=(f1(bottom)) stroke="#64748b" stroke-dasharray="4 3" {
                    title { (label) " " (clock_text(&time.0)) }
                }
            }
        }
        @if status.completion_time.is_none() {
            text x=(f1(axis.end_x())) y=(f1(bottom + 30.0)) text-anchor="end" class="axis" {
                "in progress"
            }
        }
    }
}

pub(super) fn lane_svg(lane: &Lane, journal: &Journal, axis: &Axis, top: f64) -> Markup {
    let (label, sublabel) = match lane {
        Lane::Warnings => ("Warning events".to_string(), String::new()),
        Lane::SteadyState => ("steady state".to_string(), "probes".to_string()),
        Lane::Fault(fault) => (fault.name.clone(), wire_name(&fault.status)),
    };
    let marks = match lane {
        Lane::Warnings => html! {
            @for event in journal.events.iter().filter(|e| is_warning(e)) {
                (warning_mark(event, axis, top + 20.0))
            }
        },
        Lane::SteadyState => html! {
            @for sample in journal.samples.iter().filter(|s| s.fault.is_none()) {
                (sample_mark(sample, axis, top + 20.0))
            }
        },
        Lane::Fault(fault) => html! {
            (fault_bar(fault, axis, top))
            @for target in &fault.targets { (target_mark(target, axis, top + 15.0)) }
            @for sample in journal.samples.iter().filter(|s| s.fault.as_deref() == Some(fault.name.as_str())) {
                (sample_mark(sample, axis, top + 31.0))
            }
        },
    };
    html! {
        text x="8" y=(f1(top + 17.0)) class="lane-label" { title { (label) } (shorten(&label, 24)) }
        @if !sublabel.is_empty() {
            text x="8" y=(f1(top + 31.0)) class="lane-sub" { (sublabel) }
        }
        (marks)
    }
}

/// The fault's injection window; a fault still running extends to the chart's end, dashed.
pub(super) fn fault_bar(fault: &FaultStatus, axis: &Axis, top: f64) -> Markup {
    let Some(start) = &fault.start_time else {
        return html! {
            text x=(f1(axis.x0 + 4.0)) y=(f1(top + 19.0)) class="lane-sub" { "not started" }
        };
    };
    let x1 = axis.x(start.0);
    let (x2, open) = match &fault.end_time {
        Some(end) => (axis.x(end.0), false),
        None => (axis.end_x(), true),
    };
    let tone = fault_tone(fault.status);
    let until = fault
        .end_time
        .as_ref()
        .map(|t| clock_text(&t.0))
        .unwrap_or_else(|| "now".to_string());
    html! {
        rect class=(if open { "fault-bar open" } else { "fault-bar" }) x=(f1(x1)) y=(f1(top + 8.0))
            width=(f1((x2 - x1).max(2.0))) height="14" rx="3" fill=(tone.colour())
            fill-opacity="0.35" stroke=(tone.colour()) stroke-dasharray=[open.then_some("4 3")] {
            title {
                (fault.name) " " (wire_name(&fault.status)) ": " (clock_text(&start.0)) " to " (until)
            }
        }
    }
}

pub(super) fn target_mark(target: &TargetRecord, axis: &Axis, y: f64) -> Markup {
    let x = axis.x(target.time.0);
    html! {
        path class="target-mark" d={ "M" (f1(x)) " " (f1(y - 7.0)) " l5 7 l-5 7 l-5 -7 z" }
            fill="#0f172a" {
            title { (target_text(target)) " at " (clock_text(&target.time.0)) }
        }
    }
}

pub(super) fn sample_mark(sample: &ProbeSample, axis: &Axis, y: f64) -> Markup {
    let tone = sample_tone(sample);
    html! {
        circle class={ "sample-mark " (tone.class()) } cx=(f1(axis.x(sample.time))) cy=(f1(y)) r="4"
            fill=(tone.colour()) {
            title {
                (sample.probe) " (" (sample.mode) ") " (sample.outcome) " at "
                (clock_text(&sample.time))
                @if let Some(message) = &sample.message { ": " (message) }
            }
        }
    }
}

pub(super) fn warning_mark(event: &JournalEvent, axis: &Axis, y: f64) -> Markup {
    let x = axis.x(event.time);
    html! {
        path class="warning-mark" d={ "M" (f1(x)) " " (f1(y - 7.0)) " l6 11 l-12 0 z" }
            fill=(Tone::Bad.colour()) {
            title { (event.reason) " at " (clock_text(&event.time)) ": " (event.message) }
        }
    }
}

pub(super) fn timeline_table(moments: &[Moment]) -> Markup {
    let origin = moments[0].at;
    let rows: Vec<Vec<Markup>> = moments
        .iter()
        .map(|m| {
            let offset = (m.at.as_millisecond() - origin.as_millisecond()) as f64 / 1000.0;
            vec![
                html! { (clock_text(&m.at)) },
                html! { "+" (duration_text(offset)) },
                html! { (m.what) },
                html! { (m.subject) },
                html! { (m.detail) },
                html! {
                    @if let Some((text, tone)) = &m.outcome { (badge(text, *tone)) }
                },
            ]
        })
        .collect();
    table(
        "timeline-table",
        &["Time", "Offset", "What", "Of", "Detail", "Outcome"],
        &rows,
    )
}
