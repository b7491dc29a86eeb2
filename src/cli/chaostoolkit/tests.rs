use super::names::is_dns_label;
use super::*;
use crate::api::{
    ChaosProbeSpec, FaultType, HttpProbe, K8sState, ProbeEntry, ProbeMode, TargetMode,
};

const POD_TERMINATION: &str =
    include_str!("../../../tests/fixtures/chaostoolkit/pod-termination.json");
const ENV_PAUSES: &str = include_str!("../../../tests/fixtures/chaostoolkit/env-pauses.yaml");
const UNSUPPORTED: &str = include_str!("../../../tests/fixtures/chaostoolkit/unsupported.json");
const E2E: &str = include_str!("../../../e2e/manifests/chaostoolkit/pod-termination.json");

fn env(pairs: &[(&str, &str)]) -> ImportOptions {
    ImportOptions {
        env: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..ImportOptions::default()
    }
}

fn imported(source: &str, options: &ImportOptions) -> Imported {
    import(source, options).unwrap_or_else(|e| panic!("import failed: {e}"))
}

fn refused(source: &str, options: &ImportOptions) -> Vec<Unsupported> {
    match import(source, options) {
        Err(ImportError::Unsupported(list)) => list,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn inline(entry: &ProbeEntry) -> &ChaosProbeSpec {
    entry.probe.as_ref().expect("an inline probe")
}

fn http(entry: &ProbeEntry) -> &HttpProbe {
    inline(entry).http.as_ref().expect("an http probe")
}

#[test]
fn terminate_pods_becomes_a_pod_delete_fault_with_every_argument() {
    let imported = imported(POD_TERMINATION, &ImportOptions::default());
    let experiment = &imported.experiment;
    assert_eq!(
        experiment.metadata.name.as_deref(),
        Some("the-storefront-survives-losing-two-web-pods")
    );
    assert_eq!(experiment.metadata.namespace.as_deref(), Some("shop"));
    let [fault] = experiment.spec.faults.as_slice() else {
        panic!("one fault expected");
    };
    assert_eq!(fault.name, "terminate-two-web-pods");
    assert_eq!(fault.fault_type, FaultType::PodDelete);
    let target = &fault.target;
    assert_eq!(target.namespace, None, "ns equals the experiment's");
    assert_eq!((target.mode, target.value), (TargetMode::Fixed, Some(2)));
    assert!(target.random);
    assert_eq!(target.name_pattern.as_deref(), Some("^web-"));
    assert_eq!(
        crate::faults::selector_string(target.selector.as_ref().unwrap()).unwrap(),
        "app=web,tier notin (db),env in (prod,staging),!canary"
    );
    assert_eq!(
        fault
            .parameters
            .pod_delete
            .as_ref()
            .and_then(|p| p.grace_period_seconds),
        Some(5)
    );
    assert_eq!(fault.duration.to_string(), "15s", "the pause after");
    assert_eq!(fault.interval, fault.duration, "one deletion, as one call");
}

#[test]
fn probes_go_to_the_steady_state_or_to_the_fault_they_follow() {
    let imported = imported(POD_TERMINATION, &ImportOptions::default());
    let spec = &imported.experiment.spec;
    let steady = &spec.steady_state.as_ref().unwrap().probes;
    let shared = "the-storefront-survives-losing-two-web-storefront-must-answer";
    assert_eq!(steady[0].probe_ref.as_deref(), Some(shared));
    let k8s = inline(&steady[1]).k8s.as_ref().unwrap();
    assert_eq!(
        (k8s.kind.as_str(), k8s.name.as_deref()),
        ("Deployment", Some("web"))
    );
    assert_eq!(k8s.check.state, Some(K8sState::Available));
    assert_eq!(k8s.namespace, None);

    let probes = &spec.faults[0].probes;
    assert_eq!(
        probes[0].probe_ref.as_deref(),
        Some(shared),
        "a ref reuses it"
    );
    assert_eq!(probes[0].mode, ProbeMode::Eot);
    let catalogue = http(&probes[1]);
    assert_eq!(
        catalogue.url,
        "http://web.shop.svc.cluster.local/catalogue?page=1&q=red+shoes"
    );
    assert_eq!(catalogue.expected_status, ["200-399"], "no tolerance");

    let [probe] = imported.probes.as_slice() else {
        panic!("the probe used twice becomes the one ChaosProbe");
    };
    assert_eq!(probe.metadata.name.as_deref(), Some(shared));
    let health = probe.spec.http.as_ref().unwrap();
    assert_eq!(health.url, "http://web.shop.svc.cluster.local/health");
    assert_eq!(health.expected_status, ["200"]);
    assert_eq!(probe.spec.run_properties.timeout.to_string(), "3s");
}

#[test]
fn a_rollback_that_only_checks_is_dropped_with_a_note() {
    let imported = imported(POD_TERMINATION, &ImportOptions::default());
    assert!(
        imported
            .notes
            .iter()
            .any(|n| n.starts_with("rollbacks[0] \"web-is-back\" dropped")),
        "{:#?}",
        imported.notes
    );
    assert!(imported.notes.iter().any(|n| n.starts_with("tags ignored")));
}

#[test]
fn env_configuration_is_resolved_and_substituted_everywhere() {
    let imported = imported(ENV_PAUSES, &env(&[("TARGET_NS", "prod-shop")]));
    let spec = &imported.experiment.spec;
    assert_eq!(
        imported.experiment.metadata.namespace.as_deref(),
        Some("prod-shop")
    );
    let first = &spec.faults[0].target;
    assert_eq!(
        first.selector.as_ref().unwrap().match_labels,
        Some(BTreeMap::from([("app".into(), "api".into())])),
        "API_LABEL's default"
    );
    assert_eq!((first.mode, first.value), (TargetMode::Percent, Some(50)));
    let page = http(&spec.faults[0].probes[0]);
    assert_eq!(
        page.url,
        "http://checkout.prod-shop.svc.cluster.local:8080/"
    );
    assert_eq!(page.headers["X-Chaos"], "imported from $CTK", "$$ is a $");
    assert!(
        imported
            .notes
            .iter()
            .any(|n| n.contains("KILL_PERCENT is not set; used its default \"50\""))
    );
}

#[test]
fn an_env_value_wins_over_the_default() {
    let options = env(&[
        ("TARGET_NS", "shop"),
        ("API_LABEL", "app in (api, api-canary)"),
    ]);
    let imported = imported(ENV_PAUSES, &options);
    let selector = imported.experiment.spec.faults[0]
        .target
        .selector
        .clone()
        .unwrap();
    assert_eq!(
        crate::faults::selector_string(&selector).unwrap(),
        "app in (api,api-canary)"
    );
}

#[test]
fn an_env_entry_without_value_or_default_is_refused() {
    let refusals = refused(ENV_PAUSES, &ImportOptions::default());
    assert_eq!(refusals.len(), 1, "{refusals:#?}");
    assert_eq!(refusals[0].location, "configuration.target_ns");
    assert_eq!(refusals[0].provider, "env TARGET_NS");
    assert!(refusals[0].reason.contains("TARGET_NS is not set"));
}

#[test]
fn pauses_become_fault_windows() {
    let imported = imported(ENV_PAUSES, &env(&[("TARGET_NS", "shop")]));
    let faults = &imported.experiment.spec.faults;
    // 10 s after the first kill, plus the 2 s pause before the probe that follows it.
    assert_eq!(faults[0].duration.to_string(), "12s");
    assert_eq!(faults[0].interval.to_string(), "12s");
    assert_eq!(faults[1].duration.to_string(), "5s");
    assert!(
        imported
            .notes
            .iter()
            .any(|n| n.starts_with("dropped the waits before the first action (5s before")),
        "{:#?}",
        imported.notes
    );
}

#[test]
fn tolerances_become_expected_statuses() {
    let imported = imported(ENV_PAUSES, &env(&[("TARGET_NS", "shop")]));
    let spec = &imported.experiment.spec;
    let steady = &spec.steady_state.as_ref().unwrap().probes;
    assert_eq!(
        http(&steady[0]).expected_status,
        ["200-299"],
        "range on status"
    );
    assert_eq!(inline(&steady[0]).run_properties.timeout.to_string(), "5s");
    let page = http(&spec.faults[0].probes[0]);
    assert_eq!(page.body_matches.as_deref(), Some("(?i)checkout"));
    assert_eq!(
        page.expected_status,
        ["100-599"],
        "a regex looks at the body only"
    );
    let order = http(&spec.faults[1].probes[0]);
    assert_eq!(order.expected_status, ["200", "201"]);
    assert_eq!(order.method, "POST");
    assert_eq!(
        order.body.as_deref(),
        Some(r#"{"quantity":1,"sku":"RED-SHOE-42"}"#)
    );
}

#[test]
fn delete_pods_runs_terminate_pods_on_a_name_pattern() {
    let imported = imported(ENV_PAUSES, &env(&[("TARGET_NS", "shop")]));
    let target = &imported.experiment.spec.faults[1].target;
    assert_eq!(target.name_pattern.as_deref(), Some("^api-0"));
    assert_eq!((target.mode, target.random), (TargetMode::One, false));
    assert_eq!(
        imported.experiment.spec.faults[1].name,
        "delete-the-api-0-pod"
    );
}

#[test]
fn every_unsupported_part_is_listed_with_where_and_why() {
    let refusals = refused(UNSUPPORTED, &ImportOptions::default());
    let listed: Vec<(&str, &str, &str)> = refusals
        .iter()
        .map(|u| (u.location.as_str(), u.name.as_str(), u.provider.as_str()))
        .collect();
    assert_eq!(
        listed,
        [
            (
                "secrets.aws.aws_session_token",
                "aws_session_token",
                "env AWS_SESSION_TOKEN"
            ),
            (
                "steady-state-hypothesis.probes[1]",
                "smoke-test-script",
                "process ./smoke.sh"
            ),
            (
                "method[1]",
                "stop-a-worker-instance",
                "python chaosaws.ec2.actions.stop_instances"
            ),
            (
                "rollbacks[0]",
                "start-the-worker-again",
                "python chaosaws.ec2.actions.start_instances"
            ),
        ]
    );
    let message = ImportError::Unsupported(refusals).to_string();
    let lines: Vec<&str> = message.lines().collect();
    assert_eq!(lines.len(), 5, "a heading and one line each:\n{message}");
    assert!(lines[3].starts_with(
        "  - method[1] \"stop-a-worker-instance\" [python chaosaws.ec2.actions.stop_instances]: "
    ));
}

#[test]
fn arguments_chaos_toolkit_would_reject_are_refused() {
    let source = r#"{"title": "t", "method": [{"type": "action", "name": "kill",
        "provider": {"type": "python", "module": "chaosk8s.pod.actions",
        "func": "terminate_pods", "arguments": {"label_selector": "app=",
        "rand": "false", "qty": 0, "mode": "fixed", "colour": "red", "order": "oldest"}}}]}"#;
    let refusals = refused(source, &ImportOptions::default());
    let reason = &refusals[0].reason;
    for expected in [
        "rand must be true or false",
        "qty 0",
        "unknown argument \"colour\"",
        "order oldest",
    ] {
        assert!(reason.contains(expected), "{expected:?} in {reason}");
    }
    let bad_selector = source.replace("app=", "app=web,cpu>2");
    let refusals = refused(&bad_selector, &ImportOptions::default());
    assert!(
        refusals[0]
            .reason
            .contains("label_selector \"app=web,cpu>2\" cannot be parsed")
    );
}

#[test]
fn label_selectors_parse_both_syntaxes() {
    let selector = parse_label_selector("app=web, tier!=db,env in (a,b),!x,y,z notin (c)").unwrap();
    assert_eq!(
        crate::faults::selector_string(&selector).unwrap(),
        "app=web,tier notin (db),env in (a,b),!x,y,z notin (c)"
    );
    let prefixed = parse_label_selector("app.kubernetes.io/name==web").unwrap();
    assert_eq!(
        prefixed.match_labels.unwrap()["app.kubernetes.io/name"],
        "web"
    );
    for bad in [
        "app=web,",
        "env in (a,b",
        "a>1",
        "-app=web",
        "app=we b",
        "env in ()",
    ] {
        assert!(
            parse_label_selector(bad).is_err(),
            "{bad:?} should not parse"
        );
    }
}

#[test]
fn a_probe_before_and_after_the_only_fault_is_an_edge_probe() {
    let source = r#"{"title": "Edge", "method": [
        {"type": "probe", "name": "up", "tolerance": 200,
         "provider": {"type": "http", "url": "http://web/"}},
        {"type": "action", "name": "kill", "pauses": {"after": 3},
         "provider": {"type": "python", "module": "chaosk8s.pod.actions",
                      "func": "terminate_pods", "arguments": {"ns": "web"}}},
        {"ref": "up"}]}"#;
    let imported = imported(source, &ImportOptions::default());
    let probes = &imported.experiment.spec.faults[0].probes;
    assert_eq!(probes.len(), 1);
    assert_eq!(probes[0].mode, ProbeMode::Edge);
    assert!(imported.probes.is_empty(), "one entry, so inline");
    assert_eq!(
        imported.experiment.metadata.namespace.as_deref(),
        Some("web")
    );
}

#[test]
fn options_name_the_objects_and_implicit_namespaces_stay_default() {
    let options = ImportOptions {
        namespace: Some("chaos".into()),
        name: Some("storefront".into()),
        env: BTreeMap::new(),
    };
    let imported = imported(UNSUPPORTED_FREE, &options);
    assert_eq!(
        imported.experiment.metadata.name.as_deref(),
        Some("storefront")
    );
    assert_eq!(
        imported.experiment.metadata.namespace.as_deref(),
        Some("chaos")
    );
    let target = &imported.experiment.spec.faults[0].target;
    assert_eq!(
        target.namespace.as_deref(),
        Some("default"),
        "Chaos Toolkit's default ns"
    );
    assert!(
        imported
            .notes
            .iter()
            .any(|n| n.contains("has no ns argument"))
    );
    let bad = ImportOptions {
        name: Some("Store Front".into()),
        ..ImportOptions::default()
    };
    assert!(matches!(
        import(UNSUPPORTED_FREE, &bad),
        Err(ImportError::InvalidOption {
            option: "--name",
            ..
        })
    ));
}

const UNSUPPORTED_FREE: &str = r#"{"title": "kill one", "method": [{"type": "action",
    "name": "kill", "provider": {"type": "python", "module": "chaosk8s.pod.actions",
    "func": "terminate_pods", "arguments": {"label_selector": "app=web"}}}]}"#;

#[test]
fn parse_errors_say_where_and_non_experiments_say_what_is_missing() {
    let err = import(
        "{\n  \"title\": \"x\",\n  \"method\": [\n}",
        &ImportOptions::default(),
    )
    .unwrap_err();
    match &err {
        ImportError::Parse { format, line, .. } => assert_eq!((*format, *line), ("JSON", 4)),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("line 4"), "{err}");
    let err = import("title: x\nmethod: [a\n", &ImportOptions::default()).unwrap_err();
    assert!(
        matches!(err, ImportError::Parse { format: "YAML", .. }),
        "{err:?}"
    );
    let err = import("title: Only a title\n", &ImportOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "not a Chaos Toolkit experiment: it has no \"method\" with at least one activity"
    );
    let err = import("just words", &ImportOptions::default()).unwrap_err();
    assert!(err.to_string().contains("is a string"), "{err}");
}

#[test]
fn to_yaml_reads_back_as_our_resources() {
    for (source, options) in [
        (POD_TERMINATION, ImportOptions::default()),
        (ENV_PAUSES, env(&[("TARGET_NS", "shop")])),
        (E2E, env(&[("TARGET_NS", "e2e-ctk")])),
    ] {
        let imported = imported(source, &options);
        let yaml = imported.to_yaml();
        assert!(yaml.starts_with("# Imported by `faultline import chaostoolkit` from"));
        let documents: Vec<serde_yaml_ng::Value> = serde_yaml_ng::Deserializer::from_str(&yaml)
            .map(|d| <serde_yaml_ng::Value as serde::Deserialize>::deserialize(d).unwrap())
            .collect();
        assert_eq!(documents.len(), imported.probes.len() + 1);
        for (document, probe) in documents.iter().zip(&imported.probes) {
            let back: ChaosProbe = serde_yaml_ng::from_value(document.clone()).unwrap();
            assert_eq!(back.spec, probe.spec);
            assert_eq!(back.metadata, probe.metadata);
        }
        let back: ChaosExperiment =
            serde_yaml_ng::from_value(documents.last().unwrap().clone()).unwrap();
        assert_eq!(back.spec, imported.experiment.spec);
        assert_eq!(back.metadata, imported.experiment.metadata);
    }
}

#[test]
fn generated_names_fit_the_crds() {
    let long = r#"{"title": "A very long title that goes on and on about what the experiment really checks in production", "method": [
        {"type": "action", "name": "Terminate a pod of the web tier, randomly, with grace", "provider": {"type": "python",
         "module": "chaosk8s.pod.actions", "func": "terminate_pods"}},
        {"type": "action", "name": "Terminate a pod of the web tier, randomly, with grace", "provider": {"type": "python",
         "module": "chaosk8s.pod.actions", "func": "terminate_pods"}}]}"#;
    let imported = imported(long, &ImportOptions::default());
    let name = imported.experiment.metadata.name.clone().unwrap();
    assert!(is_dns_label(&name, MAX_EXPERIMENT_NAME), "{name}");
    let faults: Vec<&str> = imported
        .experiment
        .spec
        .faults
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(
        faults[1],
        format!(
            "{}-2",
            &faults[0][..MAX_FAULT_NAME - 2].trim_end_matches('-')
        )
    );
    for fault in faults {
        assert!(is_dns_label(fault, MAX_FAULT_NAME), "{fault}");
    }
}

#[test]
fn the_e2e_experiment_imports_with_its_namespace_from_the_environment() {
    let imported = imported(E2E, &env(&[("TARGET_NS", "ctk-e2e")]));
    let spec = &imported.experiment.spec;
    assert_eq!(
        imported.experiment.metadata.namespace.as_deref(),
        Some("ctk-e2e")
    );
    assert_eq!(spec.faults.len(), 1);
    assert_eq!(spec.faults[0].duration.to_string(), "20s");
    assert_eq!(spec.faults[0].target.mode, TargetMode::One);
    let steady = &spec.steady_state.as_ref().unwrap().probes;
    assert_eq!(
        http(&steady[0]).url,
        "http://web.ctk-e2e.svc.cluster.local/health"
    );
    let refusals = refused(E2E, &ImportOptions::default());
    assert_eq!(refusals[0].location, "configuration.ns");
}

#[test]
fn the_documented_example_is_what_the_importer_prints() {
    let doc = include_str!("../../../docs/chaostoolkit.md");
    let yaml = imported(POD_TERMINATION, &ImportOptions::default()).to_yaml();
    assert!(
        doc.contains(POD_TERMINATION) && doc.contains(&yaml),
        "docs/chaostoolkit.md must show tests/fixtures/chaostoolkit/pod-termination.json \
         and exactly this output:\n{yaml}"
    );
    let refusal = import(UNSUPPORTED, &ImportOptions::default()).unwrap_err();
    assert!(
        doc.contains(&refusal.to_string()),
        "docs/chaostoolkit.md must show exactly this refusal:\n{refusal}"
    );
}

#[test]
fn an_unset_variable_does_not_hide_what_else_cannot_be_converted() {
    let source = r#"{"title": "t", "configuration": {"ns": {"type": "env", "key": "TARGET_NS"}},
        "method": [
          {"type": "action", "name": "stop-an-instance", "provider": {"type": "python",
           "module": "chaosaws.ec2.actions", "func": "stop_instances",
           "arguments": {"az": "${ns}"}}},
          {"type": "action", "name": "kill", "background": true, "pauses": {"after": "${ns}"},
           "provider": {"type": "python", "module": "chaosk8s.pod.actions",
           "func": "terminate_pods", "arguments": {"ns": "${ns}"}}},
          {"type": "probe", "name": "up", "provider": {"type": "http",
           "url": "http://web.${ns}/", "timeout": "${ns}"}}]}"#;
    let refusals = refused(source, &ImportOptions::default());
    let listed: Vec<(&str, &str)> = refusals
        .iter()
        .map(|u| (u.location.as_str(), u.provider.as_str()))
        .collect();
    // The kill's ns and pause, and the probe's timeout, are wrong only because TARGET_NS is
    // unset: the variable's refusal says so once; the driver and the background are not.
    assert_eq!(
        listed,
        [
            ("configuration.ns", "env TARGET_NS"),
            ("method[0]", "python chaosaws.ec2.actions.stop_instances"),
            ("method[1]", "python chaosk8s.pod.actions.terminate_pods"),
        ],
        "{refusals:#?}"
    );
    assert!(refusals[2].reason.starts_with("background activities"));
    // Setting it brings out the problems of its value, and the other two remain as they were.
    let again = refused(source, &env(&[("TARGET_NS", "shop")]));
    assert_eq!(again[..2], refusals[1..], "{again:#?}");
}

#[test]
fn unknown_provider_and_hypothesis_keys_and_the_hypothesis_title_are_noted() {
    let source = r#"{"title": "t",
        "steady-state-hypothesis": {"title": "all is well", "colour": "red", "probes": [
          {"type": "probe", "name": "up", "tolerance": 200, "provider": {"type": "http",
           "url": "http://web/", "retries": 3}}]},
        "method": [
          {"type": "action", "name": "kill", "provider": {"type": "python",
           "module": "chaosk8s.pod.actions", "func": "terminate_pods", "modul": "x",
           "arguments": {"ns": "shop"}}}]}"#;
    let notes = imported(source, &ImportOptions::default()).notes;
    for expected in [
        "steady-state-hypothesis.title \"all is well\" not kept",
        "steady-state-hypothesis.colour ignored: it is not part of a Chaos Toolkit steady-state \
         hypothesis",
        "steady-state-hypothesis.probes[0] \"up\": provider.retries ignored: it is not part of a \
         Chaos Toolkit http provider",
        "method[0] \"kill\": provider.modul ignored: it is not part of a Chaos Toolkit python \
         provider",
    ] {
        assert!(
            notes.iter().any(|n| n.starts_with(expected)),
            "{expected} not in {notes:#?}"
        );
    }
    assert!(
        !notes.iter().any(|n| n.contains("provider.type")),
        "{notes:#?}"
    );
}
