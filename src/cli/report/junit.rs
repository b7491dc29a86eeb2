//! JUnit XML that CI systems show as test results: a test case per steady-state probe, fault,
//! fault probe and the score.

use std::fmt::Write as _;

use super::*;

/// XML 1.0 forbids most control characters even as references; a message carrying terminal
/// colour codes must not make the whole report unparsable.
pub(super) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Escapes text for XML, in element content and in quoted attributes, dropping the characters
/// XML forbids.
pub(super) fn escape(text: &str) -> String {
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
pub(super) fn xml_attr(text: &str) -> String {
    escape(text)
        .replace('\t', "&#9;")
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
}

/// How one test case ended, in JUnit's terms.
#[derive(Debug, PartialEq)]
pub(super) enum Outcome {
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
pub(super) struct Case {
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
pub(super) fn junit_timestamp(time: &Timestamp) -> String {
    time.strftime("%Y-%m-%dT%H:%M:%S").to_string()
}

pub(super) fn junit_cases(journal: &Journal) -> Vec<Case> {
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

pub(super) fn steady_state_cases(when: &str, probes: &[ProbeStatus]) -> Vec<Case> {
    probes
        .iter()
        .map(|probe| Case {
            name: format!("steady state {when} / probe {}", probe.name),
            seconds: 0.0,
            outcome: probe_outcome(probe),
        })
        .collect()
}

pub(super) fn fault_case(fault: &FaultStatus) -> Case {
    Case {
        name: format!("fault {} ({})", fault.name, wire_name(&fault.fault_type)),
        seconds: seconds_between(fault.start_time.as_ref(), fault.end_time.as_ref()).unwrap_or(0.0),
        outcome: fault_outcome(fault),
    }
}

pub(super) fn fault_outcome(fault: &FaultStatus) -> Outcome {
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
pub(super) fn probe_lines(fault: &FaultStatus, verdict: ProbeVerdict) -> String {
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
                p.reason().unwrap_or("no message")
            )
        })
        .collect()
}

pub(super) fn probe_outcome(probe: &ProbeStatus) -> Outcome {
    let message = probe.reason().unwrap_or_default().to_owned();
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

/// The score case mirrors the CLI's exit code: the same gate ([`scoring::gated_verdict`]), so a
/// Pass below `--min-score` fails it and a Fail at or above a lower `--min-score` passes it.
pub(super) fn score_outcome(journal: &Journal) -> Outcome {
    let status = &journal.status;
    match scoring::gated_verdict(status, journal.min_score) {
        Verdict::Pass => Outcome::Passed,
        Verdict::Fail => Outcome::Failure {
            kind: "Fail".to_string(),
            message: format!(
                "score {} is below the minimum {}",
                score_text(status.resilience_score.unwrap_or(0.0)),
                score_text(min_score(journal))
            ),
            body: status.message.clone().unwrap_or_default(),
        },
        Verdict::Error => Outcome::Error {
            kind: "Error".to_string(),
            message: status
                .message
                .clone()
                .unwrap_or_else(|| format!("the run ended in {}", status.phase.as_str())),
            body: String::new(),
        },
        Verdict::Stopped => Outcome::Skipped {
            message: "stopped by the user".to_string(),
        },
        Verdict::Awaited => Outcome::Skipped {
            message: "the run has not ended".to_string(),
        },
    }
}

pub(super) fn write_properties(xml: &mut String, journal: &Journal) {
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

pub(super) fn write_case(xml: &mut String, classname: &str, case: &Case) {
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
pub(super) fn plain_summary(journal: &Journal) -> String {
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
