use super::*;
use crate::api::{Direction, FaultType, K8sState, TargetMode};

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/chaosmesh/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn imported(name: &str) -> Imported {
    import(&fixture(name), &ImportOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn refused(source: &str) -> Vec<Unsupported> {
    match import(source, &ImportOptions::default()) {
        Err(ImportError::Unsupported(items)) => items,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn pod_kill_becomes_one_pod_delete_that_acts_once() {
    let imported = imported("pod-kill.yaml");
    let experiment = &imported.experiment;
    assert_eq!(experiment.metadata.name.as_deref(), Some("pod-kill-web"));
    assert_eq!(experiment.metadata.namespace.as_deref(), Some("shop"));
    let [fault] = experiment.spec.faults.as_slice() else {
        panic!("one fault")
    };
    assert_eq!(fault.fault_type, FaultType::PodDelete);
    assert_eq!(fault.name, "pod-kill-web");
    assert_eq!(fault.target.mode, TargetMode::One);
    assert_eq!(fault.target.namespace, None);
    let labels = fault
        .target
        .selector
        .as_ref()
        .unwrap()
        .match_labels
        .as_ref()
        .unwrap();
    assert_eq!(labels["app"], "web");
    assert_eq!(
        fault
            .parameters
            .pod_delete
            .as_ref()
            .unwrap()
            .grace_period_seconds,
        Some(0)
    );
    assert_eq!(
        fault.duration, fault.interval,
        "without a duration it acts once"
    );
    assert!(
        imported.notes.iter().any(|n| n.contains("acts once")),
        "{:?}",
        imported.notes
    );
    assert!(
        imported
            .notes
            .iter()
            .any(|n| n.contains("ends in Error until a probe is added"))
    );
}

#[test]
fn a_delay_keeps_latency_jitter_direction_and_addresses_and_notes_the_correlation() {
    let imported = imported("network-delay.yaml");
    let fault = &imported.experiment.spec.faults[0];
    assert_eq!(fault.fault_type, FaultType::PodNetworkLatency);
    assert_eq!(
        (fault.target.mode, fault.target.value),
        (TargetMode::Percent, Some(50))
    );
    assert_eq!(fault.duration, "30s".parse().unwrap());
    let latency = fault.parameters.network_latency.as_ref().unwrap();
    assert_eq!(latency.latency, "10ms".parse().unwrap());
    assert_eq!(latency.jitter, "2ms".parse().unwrap());
    assert_eq!(latency.traffic.direction, Direction::Egress);
    assert_eq!(
        latency.traffic.destinations,
        ["10.96.0.10", "10.244.0.0/16"]
    );
    assert!(
        imported
            .notes
            .iter()
            .any(|n| n.contains("correlation 100% is dropped"))
    );
}

#[test]
fn a_partition_cuts_the_target_pods_by_label_both_ways() {
    let fault = imported("network-partition.yaml")
        .experiment
        .spec
        .faults
        .remove(0);
    assert_eq!(fault.fault_type, FaultType::PodNetworkPartition);
    assert_eq!(fault.target.mode, TargetMode::All);
    let partition = fault.parameters.network_partition.unwrap();
    assert_eq!(partition.pods.unwrap().match_labels.unwrap()["app"], "db");
    assert_eq!(partition.traffic.direction, Direction::Both);
}

#[test]
fn cpu_and_memory_stressors_become_two_hogs_with_the_same_total() {
    let imported = imported("stress.yaml");
    let faults = &imported.experiment.spec.faults;
    assert_eq!(faults.len(), 2);
    let cpu = faults[0].parameters.cpu_hog.as_ref().unwrap();
    assert_eq!(
        cpu.cores.as_deref(),
        Some("1"),
        "2 workers at 50% burn one core"
    );
    assert_eq!(cpu.container.as_deref(), Some("web"));
    let memory = faults[1].parameters.memory_hog.as_ref().unwrap();
    assert_eq!(
        memory.mebibytes,
        Some(245),
        "256 MB is 244.1 MiB, rounded up"
    );
    assert_eq!(faults[0].name, "burn");
    assert_eq!(faults[1].name, "burn-2");
    assert!(
        imported.experiment.spec.parallel,
        "one StressChaos runs its stressors together"
    );
}

#[test]
fn a_schedule_keeps_its_cron_history_and_concurrency() {
    let spec = imported("schedule.yaml").experiment.spec;
    assert_eq!(spec.schedule.as_deref(), Some("*/5 * * * *"));
    assert_eq!(spec.history_limit, 5);
    assert_eq!(spec.concurrency_policy, ConcurrencyPolicy::Allow);
    let fault = &spec.faults[0];
    assert_eq!(fault.fault_type, FaultType::PodNetworkLoss);
    assert_eq!(fault.parameters.network_loss.as_ref().unwrap().percent, 25);
    assert_eq!(fault.duration, "1m".parse().unwrap());
}

#[test]
fn a_parallel_workflow_becomes_parallel_faults_lasting_their_deadlines() {
    let spec = imported("workflow.yaml").experiment.spec;
    assert!(spec.parallel);
    let names: Vec<&str> = spec.faults.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["workflow-stress-chaos", "workflow-pod-chaos"]);
    assert_eq!(spec.faults[0].fault_type, FaultType::PodCpuHog);
    assert_eq!(spec.faults[0].duration, "20s".parse().unwrap());
    assert_eq!(spec.faults[1].fault_type, FaultType::ContainerKill);
    assert_eq!(spec.faults[1].duration, "40s".parse().unwrap());
    let kill = spec.faults[1].parameters.container_kill.as_ref().unwrap();
    assert_eq!(kill.container.as_deref(), Some("web"));
}

#[test]
fn every_unconvertible_part_is_listed_at_once() {
    let items = refused(&fixture("unsupported.yaml"));
    let lines: Vec<String> = items.iter().map(ToString::to_string).collect();
    let expected = [
        ("document 1", "TimeChaos", "no clock fault"),
        ("document 2", "PodChaos pod-failure", "pause containers"),
        (
            "document 3",
            "NetworkChaos selector.annotationSelectors",
            "no Faultline equivalent",
        ),
        ("document 3", "NetworkChaos bandwidth", "no bandwidth"),
    ];
    for (location, provider, reason) in expected {
        assert!(
            items.iter().any(|i| i.location == location
                && i.provider == provider
                && i.reason.contains(reason)),
            "missing {location} {provider}: {lines:#?}"
        );
    }
}

#[test]
fn probe_available_adds_an_eot_k8s_probe_on_the_labelled_deployments() {
    let options = ImportOptions {
        probe_available: true,
        ..ImportOptions::default()
    };
    let imported = import(&fixture("pod-kill.yaml"), &options).unwrap();
    let entry = &imported.experiment.spec.faults[0].probes[0];
    assert_eq!(entry.mode, ProbeMode::Eot);
    let k8s = entry.probe.as_ref().unwrap().k8s.as_ref().unwrap();
    assert_eq!(
        (k8s.api_version.as_str(), k8s.kind.as_str()),
        ("apps/v1", "Deployment")
    );
    assert_eq!(k8s.check.state, Some(K8sState::Available));
    assert!(!imported.notes.iter().any(|n| n.contains("ends in Error")));
}

#[test]
fn selectors_by_pod_name_and_in_other_namespaces_map_to_the_target() {
    let source = r#"
apiVersion: chaos-mesh.org/v1alpha1
kind: PodChaos
metadata: {name: named, namespace: chaos}
spec:
  action: pod-kill
  mode: fixed
  value: "2"
  selector:
    pods:
      shop: [web-0, web-1.x]
    nodeSelectors: {zone: a}
  duration: 30s
"#;
    let imported = import(source, &ImportOptions::default()).unwrap();
    let target = &imported.experiment.spec.faults[0].target;
    assert_eq!(target.namespace.as_deref(), Some("shop"));
    assert_eq!(
        target.name_pattern.as_deref(),
        Some(r"^(web\-0|web\-1\.x)$")
    );
    assert_eq!((target.mode, target.value), (TargetMode::Fixed, Some(2)));
    assert_eq!(target.node_selector.as_ref().unwrap()["zone"], "a");
}

#[test]
fn random_max_percent_is_the_closest_percent_with_a_note() {
    let source = "apiVersion: chaos-mesh.org/v1alpha1\nkind: PodChaos\nmetadata: {name: p}\nspec: {action: pod-kill, mode: random-max-percent, value: '30'}\n";
    let imported = import(source, &ImportOptions::default()).unwrap();
    let target = &imported.experiment.spec.faults[0].target;
    assert_eq!((target.mode, target.value), (TargetMode::Percent, Some(30)));
    assert!(
        imported
            .notes
            .iter()
            .any(|n| n.contains("random-max-percent"))
    );
}

#[test]
fn the_yaml_reads_back_as_a_chaos_experiment() {
    let yaml = imported("workflow.yaml").to_yaml("chaosmesh");
    let body = yaml.split("---\n").nth(1).unwrap();
    let back: ChaosExperiment = serde_yaml_ng::from_str(body).unwrap();
    assert_eq!(back.spec.faults.len(), 2);
    assert!(yaml.starts_with("# Imported by `faultline import chaosmesh`."));
}

#[test]
fn a_file_without_chaos_mesh_objects_is_an_error() {
    let err = import(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
        &ImportOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, ImportError::Empty { .. }), "{err}");
}

#[test]
fn workflow_steps_that_are_not_chaos_are_refused_with_their_fields() {
    let source = r#"
apiVersion: chaos-mesh.org/v1alpha1
kind: Workflow
metadata: {name: wf, namespace: shop}
spec:
  entry: entry
  templates:
    - {name: entry, templateType: Serial, children: [wait, inner, kill]}
    - {name: wait, templateType: Suspend, deadline: 10s}
    - {name: inner, templateType: Serial, children: [kill]}
    - name: kill
      templateType: PodChaos
      abortWithStatusCheck: true
      podChaos: {action: pod-kill, mode: one, selector: {labelSelectors: {app: web}}}
"#;
    let items = refused(source);
    let lines: Vec<String> = items.iter().map(ToString::to_string).collect();
    assert_eq!(items.len(), 4, "{lines:#?}");
    assert!(
        items
            .iter()
            .any(|i| i.name == "wait" && i.provider == "Workflow Suspend"),
        "{lines:#?}"
    );
    assert!(
        items
            .iter()
            .any(|i| i.name == "inner" && i.provider == "Workflow Serial"),
        "{lines:#?}"
    );
    assert!(
        items
            .iter()
            .any(|i| i.name == "inner" && i.provider == "Workflow children"),
        "{lines:#?}"
    );
    assert!(
        items
            .iter()
            .any(|i| i.name == "kill" && i.provider == "Workflow abortWithStatusCheck"),
        "{lines:#?}"
    );
}

#[test]
fn dns_error_becomes_pod_dns_error_on_its_one_pattern() {
    let imported = imported("dns.yaml");
    let [fault] = imported.experiment.spec.faults.as_slice() else {
        panic!("one fault")
    };
    assert_eq!(fault.fault_type, FaultType::PodDnsError);
    assert_eq!(fault.duration, "90s".parse().unwrap());
    assert_eq!(fault.target.mode, TargetMode::All);
    let dns = fault.parameters.dns_error.as_ref().unwrap();
    assert_eq!(dns.mode, crate::api::DnsErrorMode::Refuse);
    assert_eq!(dns.pattern.as_deref(), Some("db-?.shop.svc.cluster.local"));
    for noted in ["containerNames is dropped", "answers every matching lookup"] {
        assert!(
            imported.notes.iter().any(|n| n.contains(noted)),
            "no note {noted:?}: {:?}",
            imported.notes
        );
    }
}

#[test]
fn dns_random_several_patterns_and_invalid_ones_are_refused_by_name() {
    let dns = |action: &str, patterns: &str| {
        format!(
            "apiVersion: chaos-mesh.org/v1alpha1\nkind: DNSChaos\nmetadata: {{name: d, namespace: shop}}\nspec:\n  action: {action}\n  mode: one\n  patterns: {patterns}\n  selector: {{labelSelectors: {{app: web}}}}\n"
        )
    };
    let provider = |items: Vec<Unsupported>| -> Vec<(String, String)> {
        items.into_iter().map(|i| (i.provider, i.reason)).collect()
    };
    let random = provider(refused(&dns("random", "[]")));
    assert_eq!(random[0].0, "DNSChaos random", "{random:?}");
    assert!(random[0].1.contains("random addresses"), "{random:?}");
    let several = provider(refused(&dns("error", "[a.shop, b.shop]")));
    assert_eq!(several[0].0, "DNSChaos patterns", "{several:?}");
    assert!(several[0].1.contains("one copy per pattern"), "{several:?}");
    let invalid = provider(refused(&dns("error", "['a b']")));
    assert!(
        invalid[0].1.contains("is not a DNS name pattern"),
        "{invalid:?}"
    );
    let every = import(&dns("error", "[]"), &ImportOptions::default()).unwrap();
    let parameters = every.experiment.spec.faults[0]
        .parameters
        .dns_error
        .as_ref();
    assert_eq!(parameters.unwrap().pattern, None, "no pattern: every name");
}

#[test]
fn a_kind_embeds_its_spec_under_its_leading_word_in_lower_case() {
    for (kind, field) in [
        ("PodChaos", "podChaos"),
        ("StressChaos", "stressChaos"),
        ("DNSChaos", "dnsChaos"),
        ("IOChaos", "ioChaos"),
        ("HTTPChaos", "httpChaos"),
        ("TimeChaos", "timeChaos"),
    ] {
        assert_eq!(embedded_field(kind), field);
    }
}

#[test]
fn a_memory_percent_out_of_range_and_a_mode_without_value_are_refused() {
    let source = "apiVersion: chaos-mesh.org/v1alpha1\nkind: StressChaos\nmetadata: {name: s, namespace: shop}\nspec:\n  mode: fixed\n  selector: {labelSelectors: {app: web}}\n  stressors:\n    memory: {size: '0%'}\n";
    let reasons: Vec<String> = refused(source)
        .into_iter()
        .map(|i| format!("{} {}", i.provider, i.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            "StressChaos value is missing: mode fixed needs the number or percent of pods",
            "StressChaos stressors.memory.size \"0%\" is not a percent from 1% to 100%",
        ]
    );
}
