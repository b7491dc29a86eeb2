use super::*;
use crate::api::{FaultType, ProbeMode, TargetKind, TargetMode};

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/litmus/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn imported(name: &str) -> Imported {
    import(&fixture(name), &ImportOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn pod_delete_with_its_tunables_and_all_four_probe_types() {
    let imported = imported("pod-delete-engine.yaml");
    let experiment = &imported.experiment;
    assert_eq!(experiment.metadata.name.as_deref(), Some("nginx-chaos"));
    assert_eq!(experiment.metadata.namespace.as_deref(), Some("shop"));
    let fault = &experiment.spec.faults[0];
    assert_eq!(fault.fault_type, FaultType::PodDelete);
    assert_eq!(fault.duration, "30s".parse().unwrap());
    assert_eq!(fault.interval, "10s".parse().unwrap());
    assert_eq!(
        (fault.target.mode, fault.target.value),
        (TargetMode::Percent, Some(50))
    );
    assert_eq!(fault.target.kind, TargetKind::Pod);
    assert_eq!(
        fault
            .target
            .selector
            .as_ref()
            .unwrap()
            .match_labels
            .as_ref()
            .unwrap()["app"],
        "nginx"
    );
    let modes: Vec<ProbeMode> = fault.probes.iter().map(|p| p.mode).collect();
    assert_eq!(
        modes,
        [
            ProbeMode::Continuous,
            ProbeMode::Eot,
            ProbeMode::Edge,
            ProbeMode::OnChaos
        ]
    );
    let http = fault.probes[0].probe.as_ref().unwrap();
    assert_eq!(http.http.as_ref().unwrap().expected_status, ["200"]);
    assert_eq!(http.run_properties.retries, 1);
    let k8s = fault.probes[1].probe.as_ref().unwrap();
    assert_eq!(k8s.k8s.as_ref().unwrap().kind, "Pod");
    assert_eq!(k8s.run_properties.retries, 3);
    assert_eq!(
        k8s.run_properties.timeout,
        "5s".parse().unwrap(),
        "a bare number is seconds"
    );
    let cmd = fault.probes[2]
        .probe
        .as_ref()
        .unwrap()
        .cmd
        .as_ref()
        .unwrap();
    assert_eq!(cmd.image.as_deref(), Some("busybox:1.36"));
    assert_eq!(cmd.command, ["sh", "-c", "cat /tmp/healthy"]);
    let prom = fault.probes[3]
        .probe
        .as_ref()
        .unwrap()
        .prometheus
        .as_ref()
        .unwrap();
    assert_eq!(prom.endpoint, "http://prometheus.monitoring:9090");
    for ignored in [
        "chaosServiceAccount",
        "jobCleanUpPolicy",
        "probePollingInterval",
    ] {
        assert!(
            imported.notes.iter().any(|n| n.contains(ignored)),
            "no note on {ignored}: {:?}",
            imported.notes
        );
    }
}

#[test]
fn the_experiment_crs_default_env_is_read_and_the_engine_overrides_it() {
    let imported = imported("network-engine.yaml");
    let faults = &imported.experiment.spec.faults;
    assert_eq!(faults.len(), 3);
    let latency = &faults[0];
    assert_eq!(latency.fault_type, FaultType::PodNetworkLatency);
    assert_eq!(
        latency.duration,
        "60s".parse().unwrap(),
        "TOTAL_CHAOS_DURATION from the CR"
    );
    let parameters = latency.parameters.network_latency.as_ref().unwrap();
    assert_eq!(
        parameters.latency,
        "200ms".parse().unwrap(),
        "NETWORK_LATENCY from the engine"
    );
    assert_eq!(
        parameters.traffic.destinations,
        ["10.96.0.10", "10.244.0.0/16"]
    );
    assert!(
        imported
            .notes
            .iter()
            .any(|n| n.contains("LIB_IMAGE") && n.contains("ignored"))
    );
    let cpu = faults[1].parameters.cpu_hog.as_ref().unwrap();
    assert_eq!(cpu.cores.as_deref(), Some("500m"));
    let scale = &faults[2];
    assert_eq!(scale.fault_type, FaultType::WorkloadScale);
    assert_eq!(scale.target.kind, TargetKind::Deployment);
    assert_eq!(
        scale.parameters.workload_scale.as_ref().unwrap().replicas,
        5
    );
    assert!(
        imported
            .notes
            .iter()
            .any(|n| n.contains("ends in Error until a probe is added"))
    );
}

#[test]
fn cloud_faults_host_names_and_probe_side_effects_are_refused_together() {
    let Err(ImportError::Unsupported(items)) = import(
        &fixture("unsupported-engine.yaml"),
        &ImportOptions::default(),
    ) else {
        panic!("expected a refusal");
    };
    let lines: Vec<String> = items.iter().map(ToString::to_string).collect();
    for (name, provider) in [
        ("ec2-terminate-by-id", "experiment ec2-terminate-by-id"),
        ("pod-network-latency", "experiment DESTINATION_HOSTS"),
        ("make-pod", "probe operation"),
    ] {
        assert!(
            items
                .iter()
                .any(|i| i.name == name && i.provider == provider),
            "missing {name}/{provider}: {lines:#?}"
        );
    }
    assert!(
        !items.iter().any(|i| i.provider.contains("EC2_INSTANCE_ID")),
        "the tunables of a refused experiment are not listed again: {lines:#?}"
    );
}

#[test]
fn every_listed_experiment_converts_with_its_defaults() {
    for (name, fault_type) in EXPERIMENTS {
        let env = match *name {
            "node-drain" => "\n            - {name: TARGET_NODE, value: node-1}",
            "node-taint" => {
                "\n            - {name: TARGET_NODE, value: node-1}\n            - {name: TAINTS, value: 'chaos=true:NoSchedule'}"
            }
            "pod-network-partition" => "\n            - {name: POD_SELECTOR, value: app=db}",
            "pod-dns-error" => "\n            - {name: TARGET_HOSTNAMES, value: '[\"db.shop\"]'}",
            _ => "",
        };
        let source = format!(
            "apiVersion: litmuschaos.io/v1alpha1\nkind: ChaosEngine\nmetadata: {{name: e, namespace: shop}}\nspec:\n  appinfo: {{appns: shop, applabel: app=web, appkind: deployment}}\n  experiments:\n    - name: {name}\n      spec:\n        components:\n          env:{}\n",
            if env.is_empty() { " []" } else { env }
        );
        let imported =
            import(&source, &ImportOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            imported.experiment.spec.faults[0].fault_type.as_str(),
            *fault_type,
            "{name}"
        );
    }
}

#[test]
fn a_file_without_an_engine_is_an_error() {
    let err = import(
        "apiVersion: v1\nkind: ConfigMap\n",
        &ImportOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("no Litmus ChaosEngine"), "{err}");
}

#[test]
fn node_taint_and_node_drain_target_the_named_nodes_with_a_namespace_probe() {
    let path = format!(
        "{}/e2e/manifests/litmus/node-engine.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let imported = import(&source, &ImportOptions::default()).unwrap();
    let faults = &imported.experiment.spec.faults;
    let kinds: Vec<(FaultType, TargetKind, Option<&str>)> = faults
        .iter()
        .map(|f| (f.fault_type, f.target.kind, f.target.name.as_deref()))
        .collect();
    assert_eq!(
        kinds,
        [
            (FaultType::NodeTaint, TargetKind::Node, Some("kwok-node-1")),
            (FaultType::NodeDrain, TargetKind::Node, Some("kwok-node-0")),
        ]
    );
    let taint = faults[0].parameters.node_taint.as_ref().unwrap();
    assert_eq!(
        (taint.key.as_str(), taint.value.as_str(), taint.effect),
        (
            "chaos.faultline.dev/litmus",
            "injected",
            crate::api::TaintEffect::NoSchedule
        )
    );
    for fault in faults {
        let k8s = fault.probes[0]
            .probe
            .as_ref()
            .unwrap()
            .k8s
            .as_ref()
            .unwrap();
        assert_eq!(
            (k8s.api_version.as_str(), k8s.kind.as_str()),
            ("v1", "Namespace")
        );
    }
    assert!(
        !imported.notes.iter().any(|n| n.contains("extraProbeRules")),
        "namespaces need no extra rule: {:?}",
        imported.notes
    );
}

#[test]
fn a_k8s_probe_of_nodes_says_the_operator_needs_extra_probe_rules() {
    let source = "apiVersion: litmuschaos.io/v1alpha1\nkind: ChaosEngine\nmetadata: {name: e, namespace: shop}\nspec:\n  experiments:\n    - name: node-drain\n      spec:\n        components:\n          env: [{name: TARGET_NODE, value: n1}]\n        probe:\n          - name: nodes\n            type: k8sProbe\n            k8sProbe/inputs: {version: v1, resource: nodes, labelSelector: pool=a}\n            mode: EOT\n";
    let imported = import(source, &ImportOptions::default()).unwrap();
    let probe = imported.experiment.spec.faults[0].probes[0].probe.as_ref();
    assert_eq!(probe.unwrap().k8s.as_ref().unwrap().kind, "Node");
    assert!(
        imported
            .notes
            .iter()
            .any(|n| n.contains("reads nodes only once the chart's extraProbeRules")),
        "{:?}",
        imported.notes
    );
}

#[test]
fn the_kinds_noted_as_needing_extra_probe_rules_are_those_the_operator_role_lacks() {
    let role = include_str!("../../../charts/faultline/templates/clusterrole-operator.yaml");
    let granted = |resource: &str| role.contains(&format!("\"{resource}\""));
    for resource in probes::READ_WITH_EXTRA_RULES {
        assert!(!granted(resource), "the operator's role grants {resource}");
    }
    let read_by_default = [
        "pods",
        "deployments",
        "statefulsets",
        "daemonsets",
        "replicasets",
        "services",
        "namespaces",
    ];
    for resource in read_by_default {
        assert!(granted(resource), "the operator's role lacks {resource}");
    }
}
