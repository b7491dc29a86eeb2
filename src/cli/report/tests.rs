use super::*;

fn fixture(text: &str) -> Journal {
    serde_json::from_str(text).expect("a valid journal fixture")
}

fn pass_run() -> Journal {
    fixture(include_str!("../../../tests/fixtures/report/pass.json"))
}

fn fail_run() -> Journal {
    fixture(include_str!("../../../tests/fixtures/report/fail.json"))
}

fn stopped_run() -> Journal {
    fixture(include_str!("../../../tests/fixtures/report/stopped.json"))
}

fn error_run() -> Journal {
    fixture(include_str!("../../../tests/fixtures/report/error.json"))
}

fn hostile_run() -> Journal {
    fixture(include_str!("../../../tests/fixtures/report/hostile.json"))
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
    assert!(xml.contains(r#"<testcase name="fault kill-api / probe api-available (Continuous)""#));
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
        "</section><script",
    ] {
        assert!(!page.contains(raw), "{raw} reached the page unescaped");
    }
    // maud escapes & < > and "; a ' is harmless in double-quoted attributes and in text.
    assert!(page.contains("<h1>&lt;script&gt;alert('exp')&lt;/script&gt;</h1>"));
    assert!(page.contains(r#"data-fault="f&quot;&lt;x&gt;&amp;'""#));
    assert!(page.contains("a&quot;b'c&lt;d&gt;&amp;ef"));
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
                "p", "h1", "h2", "h3", "h4", "dl", "div", "dt", "dd", "span", "strong", "section",
                "svg", "circle", "line", "title", "text", "g", "rect", "path", "table", "thead",
                "tbody", "tr", "th", "td", "i", "footer", "code",
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

/// A ChaosResult holding `journal`'s run, as numbered `run`.
fn result_of(journal: &Journal, run: i64) -> crate::api::ChaosResult {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "chaos.faultline.dev/v1alpha1",
        "kind": "ChaosResult",
        "metadata": {"name": format!("{}-{run}", journal.experiment), "namespace": journal.namespace},
        "spec": {
            "experimentRef": journal.experiment,
            "runNumber": run,
            "trigger": "schedule",
            "experiment": {"faults": []}
        },
        "status": journal.status,
    }))
    .expect("a ChaosResult")
}

/// Five runs out of order: pass, fail, error, fail, pass.
fn five_runs() -> Vec<crate::api::ChaosResult> {
    vec![
        result_of(&fail_run(), 4),
        result_of(&pass_run(), 1),
        result_of(&error_run(), 3),
        result_of(&fail_run(), 2),
        result_of(&pass_run(), 5),
    ]
}

#[test]
fn history_orders_runs_and_ranks_what_failed() {
    let history = History::new("shop", "checkout-resilience", None, &five_runs(), None);
    let numbers: Vec<i64> = history.runs.iter().map(|r| r.run_number).collect();
    assert_eq!(numbers, [1, 2, 3, 4, 5]);
    assert_eq!(history.retained, 5);
    let verdicts: Vec<Verdict> = history.runs.iter().map(|r| r.verdict).collect();
    assert_eq!(
        verdicts,
        [
            Verdict::Pass,
            Verdict::Fail,
            Verdict::Error,
            Verdict::Fail,
            Verdict::Pass
        ]
    );
    // The failed run's failing probe leads, in runs 2 and 4.
    let top = &history.failing_probes[0];
    assert_eq!(
        (top.failed_runs, top.runs.clone()),
        (2, vec![2, 4]),
        "{top:?}"
    );
    assert!(
        history
            .failing_probes
            .windows(2)
            .all(|w| w[0].failed_runs >= w[1].failed_runs)
    );
    assert!(!history.failing_faults.is_empty());
    let last_two = History::new("shop", "checkout-resilience", None, &five_runs(), Some(2));
    let numbers: Vec<i64> = last_two.runs.iter().map(|r| r.run_number).collect();
    assert_eq!((numbers, last_two.retained), (vec![4, 5], 5));
}

#[test]
fn history_page_charts_every_run_and_says_what_retention_drops() {
    let experiment: crate::api::ChaosExperiment = serde_json::from_value(serde_json::json!({
        "apiVersion": "chaos.faultline.dev/v1alpha1",
        "kind": "ChaosExperiment",
        "metadata": {"name": "checkout-resilience", "namespace": "shop"},
        "spec": {"expectedResilienceScore": 80, "historyLimit": 5, "faults": []}
    }))
    .expect("an experiment");
    let history = History::new(
        "shop",
        "checkout-resilience",
        Some(&experiment),
        &five_runs(),
        None,
    );
    let page = history_html(&history);
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains(r#"<svg id="history-chart""#));
    assert_eq!(page.matches(r#"class="run-point "#).count(), 5);
    assert!(page.contains(r#"id="expected-line""#));
    assert!(page.contains("expected score 80"));
    for run in 1..=5 {
        assert!(
            page.contains(&format!(r#"<section id="run-{run}""#)),
            "run {run}"
        );
        assert!(
            page.contains(&format!(r##"href="#run-{run}""##)),
            "link to run {run}"
        );
    }
    assert!(page.contains("keeps the last 5 results"));
    // Links stay in the page: the CSP forbids every fetch, and nothing else is referenced.
    for tag in tags(&page) {
        let lower = tag.to_lowercase();
        for reference in ["src=", "srcset=", "xlink:", "url(", "http:", "https:"] {
            assert!(!lower.contains(reference), "{reference} in <{tag}>");
        }
        if let Some(target) = lower.split("href=\"").nth(1) {
            assert!(target.starts_with('#'), "a link out of the page: <{tag}>");
        }
    }
    let json: serde_json::Value = serde_json::from_str(&history_json(&history)).unwrap();
    assert_eq!(json["version"], "faultline.dev/history/v1");
    assert_eq!(json["runs"].as_array().unwrap().len(), 5);
    assert_eq!(json["historyLimit"], 5);
}

#[test]
fn history_escapes_the_results_strings() {
    let history = History::new("shop", "x", None, &[result_of(&hostile_run(), 1)], None);
    let page = history_html(&history);
    for raw in ["<script", "<b>", "<img", "<svg onload"] {
        assert!(!page.contains(raw), "{raw} reached the page unescaped");
    }
    assert!(!page.contains('\u{1}') && !page.contains('\u{1b}') && !page.contains('\u{0}'));
}

#[test]
fn table_cells_break_only_long_words_except_the_free_text_column() {
    // `overflow-wrap: anywhere` let a squeezed column split "available" into "availabl e".
    let td = super::html::STYLE
        .lines()
        .find(|l| l.starts_with("td {"))
        .unwrap();
    assert!(td.contains("overflow-wrap: break-word"), "{td}");
    assert!(super::html::STYLE.contains("td:last-child { overflow-wrap: anywhere; }"));
}
