//! What each Chaos Toolkit provider becomes, as data: one row per python function with a
//! Faultline equivalent, and the reason for every family that has none. A new conversion is a
//! row here, a [`Becomes`] variant and the function that converts its arguments.

use super::model::Kind;

/// The conversion a python function gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Becomes {
    /// chaosk8s terminate_pods: a pod-delete fault with every argument mapped.
    TerminatePods,
    /// chaosk8s delete_pods: terminate_pods on a name pattern, with its defaults.
    DeletePods,
    /// A Deployment health check: a k8s probe for state Available.
    DeploymentAvailable,
    /// chaosk8s scale_deployment: a workload-scale fault on the Deployment, reverted at its end.
    ScaleDeployment,
    /// chaosk8s cordon_node: a node-cordon fault on the nodes named or selected.
    CordonNode,
    /// chaosk8s drain_nodes: a node-drain fault on the nodes named or selected.
    DrainNodes,
    /// chaosk8s' Chaos Mesh add_latency: pod-network-latency.
    AddLatency,
    /// chaosk8s' Chaos Mesh set_loss: pod-network-loss.
    SetLoss,
    /// chaosk8s' Chaos Mesh stress_cpu: pod-cpu-hog.
    StressCpu,
    /// chaosk8s' Chaos Mesh stress_memory: pod-memory-hog.
    StressMemory,
    /// An action that undoes another (uncordon, removing a network policy, deleting a Chaos Mesh
    /// object): a rollback that Faultline's own revert makes unnecessary, and no fault in a
    /// method.
    Revert,
}

/// One python function with a Faultline equivalent.
#[derive(Debug)]
pub(super) struct Row {
    /// Every module the function is found in (chaosk8s moved some between releases).
    pub(super) modules: &'static [&'static str],
    pub(super) func: &'static str,
    /// Whether the experiment must use it as an action or as a probe.
    pub(super) kind: Kind,
    pub(super) becomes: Becomes,
}

/// The python functions that are converted, in the order the refusals name them.
static PYTHON: &[Row] = &[
    Row {
        modules: &["chaosk8s.pod.actions"],
        func: "terminate_pods",
        kind: Kind::Action,
        becomes: Becomes::TerminatePods,
    },
    Row {
        modules: &["chaosk8s.pod.actions", "chaosk8s.actions"],
        func: "delete_pods",
        kind: Kind::Action,
        becomes: Becomes::DeletePods,
    },
    Row {
        modules: &["chaosk8s.probes"],
        func: "microservice_available_and_healthy",
        kind: Kind::Probe,
        becomes: Becomes::DeploymentAvailable,
    },
    Row {
        modules: &["chaosk8s.deployment.probes", "chaosk8s.probes"],
        func: "deployment_available_and_healthy",
        kind: Kind::Probe,
        becomes: Becomes::DeploymentAvailable,
    },
    Row {
        modules: &["chaosk8s.deployment.actions"],
        func: "scale_deployment",
        kind: Kind::Action,
        becomes: Becomes::ScaleDeployment,
    },
    Row {
        modules: &["chaosk8s.node.actions"],
        func: "cordon_node",
        kind: Kind::Action,
        becomes: Becomes::CordonNode,
    },
    Row {
        modules: &["chaosk8s.node.actions"],
        func: "drain_nodes",
        kind: Kind::Action,
        becomes: Becomes::DrainNodes,
    },
    Row {
        modules: &["chaosk8s.chaosmesh.network.actions"],
        func: "add_latency",
        kind: Kind::Action,
        becomes: Becomes::AddLatency,
    },
    Row {
        modules: &["chaosk8s.chaosmesh.network.actions"],
        func: "set_loss",
        kind: Kind::Action,
        becomes: Becomes::SetLoss,
    },
    Row {
        modules: &["chaosk8s.chaosmesh.stress.actions"],
        func: "stress_cpu",
        kind: Kind::Action,
        becomes: Becomes::StressCpu,
    },
    Row {
        modules: &["chaosk8s.chaosmesh.stress.actions"],
        func: "stress_memory",
        kind: Kind::Action,
        becomes: Becomes::StressMemory,
    },
    Row {
        modules: &["chaosk8s.node.actions"],
        func: "uncordon_node",
        kind: Kind::Action,
        becomes: Becomes::Revert,
    },
    Row {
        modules: &["chaosk8s.networking.actions"],
        func: "remove_deny_all_ingress",
        kind: Kind::Action,
        becomes: Becomes::Revert,
    },
    Row {
        modules: &["chaosk8s.networking.actions"],
        func: "remove_deny_all_egress",
        kind: Kind::Action,
        becomes: Becomes::Revert,
    },
    Row {
        modules: &["chaosk8s.networking.actions"],
        func: "remove_network_policy",
        kind: Kind::Action,
        becomes: Becomes::Revert,
    },
    Row {
        modules: &["chaosk8s.chaosmesh.network.actions"],
        func: "delete_network_fault",
        kind: Kind::Action,
        becomes: Becomes::Revert,
    },
    Row {
        modules: &["chaosk8s.chaosmesh.stress.actions"],
        func: "delete_stressor",
        kind: Kind::Action,
        becomes: Becomes::Revert,
    },
];

/// Why the deny-all policies are refused.
const DENY_ALL: &str = "a deny-all NetworkPolicy is stateful: it lets the answers to allowed connections through and spares the node's own traffic, while Faultline's pod-network-partition drops packets both ways, the kubelet's health checks included; no fault of Faultline's is equivalent, so write a pod-network-partition by hand with the peers to cut";

/// Why the Chaos Mesh network faults other than delay and loss are refused.
const NETEM: &str = "Faultline's network faults delay, drop or cut packets (pod-network-latency, pod-network-loss, pod-network-partition); it cannot duplicate, corrupt or reorder them or limit the bandwidth, so write one of those by hand if it serves the experiment";

/// chaosk8s functions that look convertible but are not, and why: (module, func, reason).
static REFUSED: &[(&str, &str, &str)] = &[
    ("chaosk8s.networking.actions", "deny_all_ingress", DENY_ALL),
    ("chaosk8s.networking.actions", "deny_all_egress", DENY_ALL),
    (
        "chaosk8s.networking.actions",
        "create_network_policy",
        "an arbitrary NetworkPolicy has no faithful equivalent: its allow rules would have to be \
         turned into the peers a pod-network-partition cuts; write that fault by hand",
    ),
    (
        "chaosk8s.networking.actions",
        "allow_dns_access",
        "it opens DNS through a deny-all policy, and a pod-network-partition cannot spare DNS \
         from every peer it cuts; write the partition by hand with the peers to cut as \
         destinations or services",
    ),
    (
        "chaosk8s.chaosmesh.network.actions",
        "duplicate_packets",
        NETEM,
    ),
    (
        "chaosk8s.chaosmesh.network.actions",
        "corrupt_packets",
        NETEM,
    ),
    (
        "chaosk8s.chaosmesh.network.actions",
        "reorder_packets",
        NETEM,
    ),
    ("chaosk8s.chaosmesh.network.actions", "set_bandwidth", NETEM),
];

/// The row for a python function used as `kind`, or why there is none.
pub(super) fn python(kind: Kind, module: &str, func: &str) -> Result<&'static Row, String> {
    if let Some(row) = PYTHON
        .iter()
        .find(|row| row.kind == kind && row.func == func && row.modules.contains(&module))
    {
        return Ok(row);
    }
    if let Some((_, _, reason)) = REFUSED.iter().find(|(m, f, _)| *m == module && *f == func) {
        return Err(format!("{module}.{func}: {reason}"));
    }
    Err(if module.starts_with("chaosk8s") {
        format!(
            "{module}.{func} has no Faultline equivalent yet; supported: chaosk8s {} (actions), \
             {} (probes)",
            supported(Kind::Action),
            supported(Kind::Probe)
        )
    } else if module.is_empty() || func.is_empty() {
        "a python provider needs a module and a func".to_string()
    } else {
        format!(
            "{module} is a Chaos Toolkit driver Faultline does not implement; only chaosk8s is \
             converted: {} (actions), {} (probes)",
            supported(Kind::Action),
            supported(Kind::Probe)
        )
    })
}

/// The functions converted as `kind`, in table order: `a and b`, `a, b and c` (reverts, which
/// convert to nothing, are left out).
pub(super) fn supported(kind: Kind) -> String {
    let mut funcs: Vec<&str> = Vec::new();
    for row in PYTHON
        .iter()
        .filter(|row| row.kind == kind && row.becomes != Becomes::Revert)
    {
        if !funcs.contains(&row.func) {
            funcs.push(row.func);
        }
    }
    match funcs.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        Some((last, _)) => last.to_string(),
        None => String::new(),
    }
}

/// Where an activity's provider `type` leads.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Route {
    HttpProbe,
    Python,
    Refused(String),
}

/// The provider types: http probes and python functions are converted, the rest refused.
pub(super) fn provider(kind: Kind, provider_type: Option<&str>) -> Route {
    match (provider_type, kind) {
        (Some("http"), Kind::Probe) => Route::HttpProbe,
        (Some("http"), Kind::Action) => Route::Refused(
            "an http action changes the system through an API Faultline does not know how to \
             revert; only http probes are converted"
                .into(),
        ),
        (Some("python"), _) => Route::Python,
        (Some("process"), _) => Route::Refused(
            "a process provider runs a local program; Faultline cannot run it (for a check, a \
             cmd probe runs a command in a probe pod: write one by hand)"
                .into(),
        ),
        (other, _) => Route::Refused(format!(
            "unknown provider type {}",
            other.map_or("(missing)".to_string(), |t| format!("{t:?}"))
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{FaultType, ProbeType, TargetKind};
    use crate::cli::chaostoolkit::{ImportOptions, import};

    /// Arguments that a row's conversion accepts; the match makes a new variant need one.
    fn minimal_arguments(becomes: Becomes) -> &'static str {
        match becomes {
            Becomes::TerminatePods | Becomes::DeletePods => r#"{"ns": "shop"}"#,
            Becomes::DeploymentAvailable => r#"{"name": "web", "ns": "shop"}"#,
            Becomes::ScaleDeployment => r#"{"name": "web", "replicas": 0, "ns": "shop"}"#,
            Becomes::CordonNode | Becomes::DrainNodes => r#"{"label_selector": "pool=spot"}"#,
            Becomes::AddLatency => r#"{"latency": "100ms", "label_selectors": "app=web"}"#,
            Becomes::SetLoss => r#"{"loss": "25", "label_selectors": "app=web"}"#,
            Becomes::StressCpu => r#"{"workers": 2, "load": 50, "label_selectors": "app=web"}"#,
            Becomes::StressMemory => r#"{"size": "300MB", "label_selectors": "app=web"}"#,
            Becomes::Revert => r#"{"name": "node-1"}"#,
        }
    }

    #[test]
    fn every_row_is_found_under_each_of_its_modules() {
        for row in PYTHON {
            assert!(!row.modules.is_empty() && !row.func.is_empty(), "{row:?}");
            for module in row.modules {
                let found = python(row.kind, module, row.func).unwrap();
                assert!(
                    std::ptr::eq(found, row),
                    "{module}.{} finds {found:?}",
                    row.func
                );
            }
        }
    }

    #[test]
    fn a_function_used_as_the_other_kind_is_refused() {
        for row in PYTHON {
            let other = match row.kind {
                Kind::Action => Kind::Probe,
                Kind::Probe => Kind::Action,
            };
            let why = python(other, row.modules[0], row.func).unwrap_err();
            assert!(why.contains("has no Faultline equivalent yet"), "{why}");
        }
    }

    #[test]
    fn refusals_name_what_is_supported_or_the_driver() {
        assert_eq!(
            python(Kind::Action, "chaosk8s.node.actions", "taint_nodes").unwrap_err(),
            "chaosk8s.node.actions.taint_nodes has no Faultline equivalent yet; supported: \
             chaosk8s terminate_pods, delete_pods, scale_deployment, cordon_node, drain_nodes, \
             add_latency, set_loss, stress_cpu and stress_memory (actions), \
             microservice_available_and_healthy and deployment_available_and_healthy (probes)"
        );
        assert_eq!(
            python(Kind::Action, "chaosaws.ec2.actions", "stop_instances").unwrap_err(),
            "chaosaws.ec2.actions is a Chaos Toolkit driver Faultline does not implement; only \
             chaosk8s is converted: terminate_pods, delete_pods, scale_deployment, cordon_node, \
             drain_nodes, add_latency, set_loss, stress_cpu and stress_memory (actions), \
             microservice_available_and_healthy and deployment_available_and_healthy (probes)"
        );
        for (module, func, reason) in REFUSED {
            let why = python(Kind::Action, module, func).unwrap_err();
            assert_eq!(why, format!("{module}.{func}: {reason}"));
            assert!(why.contains("write"), "{why}");
        }
        for (module, func) in [("", "terminate_pods"), ("chaosaws.ec2.actions", "")] {
            assert_eq!(
                python(Kind::Action, module, func).unwrap_err(),
                "a python provider needs a module and a func"
            );
        }
        for row in PYTHON {
            let listed = supported(row.kind).contains(row.func);
            assert_eq!(listed, row.becomes != Becomes::Revert, "{row:?}");
        }
    }

    #[test]
    fn every_chaos_mesh_wrapper_of_chaosk8s_has_a_row_or_a_reason() {
        // The __all__ of chaosk8s/chaosmesh/network/actions.py and stress/actions.py.
        let network = "chaosk8s.chaosmesh.network.actions";
        let stress = "chaosk8s.chaosmesh.stress.actions";
        let wrappers: [(&str, &[&str]); 2] = [
            (
                network,
                &[
                    "add_latency",
                    "set_loss",
                    "duplicate_packets",
                    "corrupt_packets",
                    "reorder_packets",
                    "set_bandwidth",
                    "delete_network_fault",
                ],
            ),
            (stress, &["stress_memory", "stress_cpu", "delete_stressor"]),
        ];
        for (module, funcs) in wrappers {
            for func in funcs {
                if let Err(why) = python(Kind::Action, module, func) {
                    let reasoned = REFUSED.iter().any(|(m, f, _)| *m == module && f == func);
                    assert!(reasoned, "{why}");
                }
            }
        }
        for (module, func) in [
            (network, "delete_network_fault"),
            (stress, "delete_stressor"),
        ] {
            let row = python(Kind::Action, module, func).unwrap();
            assert_eq!(row.becomes, Becomes::Revert, "{func}");
        }
        let why = python(Kind::Action, network, "add_packet_loss").unwrap_err();
        assert!(
            why.starts_with(&format!(
                "{network}.add_packet_loss has no Faultline equivalent"
            )) && why.contains("add_latency, set_loss,"),
            "{why}"
        );
    }

    #[test]
    fn every_row_converts_a_minimal_activity() {
        let kill = r#"{"type": "action", "name": "kill", "provider": {"type": "python",
            "module": "chaosk8s.pod.actions", "func": "terminate_pods", "arguments": {"ns": "shop"}}}"#;
        for row in PYTHON {
            for module in row.modules {
                let activity = format!(
                    r#"{{"type": "{}", "name": "it", "provider": {{"type": "python",
                    "module": "{module}", "func": "{}", "arguments": {}}}}}"#,
                    if row.kind == Kind::Action {
                        "action"
                    } else {
                        "probe"
                    },
                    row.func,
                    minimal_arguments(row.becomes)
                );
                // A revert is only meaningful as a rollback.
                let source = if row.becomes == Becomes::Revert {
                    format!(r#"{{"title": "t", "method": [{kill}], "rollbacks": [{activity}]}}"#)
                } else {
                    format!(r#"{{"title": "t", "method": [{kill}, {activity}]}}"#)
                };
                let imported = import(&source, &ImportOptions::default())
                    .unwrap_or_else(|e| panic!("{module}.{}: {e}", row.func));
                let spec = &imported.experiment.spec;
                let second = |fault_type: FaultType, kind: TargetKind| {
                    assert_eq!(spec.faults.len(), 2, "{module}.{}", row.func);
                    assert_eq!(spec.faults[1].fault_type, fault_type);
                    assert_eq!(spec.faults[1].target.kind, kind);
                };
                match row.becomes {
                    Becomes::TerminatePods | Becomes::DeletePods => {
                        second(FaultType::PodDelete, TargetKind::Pod)
                    }
                    Becomes::ScaleDeployment => {
                        second(FaultType::WorkloadScale, TargetKind::Deployment)
                    }
                    Becomes::CordonNode => second(FaultType::NodeCordon, TargetKind::Node),
                    Becomes::DrainNodes => second(FaultType::NodeDrain, TargetKind::Node),
                    Becomes::AddLatency => second(FaultType::PodNetworkLatency, TargetKind::Pod),
                    Becomes::SetLoss => second(FaultType::PodNetworkLoss, TargetKind::Pod),
                    Becomes::StressCpu => {
                        second(FaultType::PodCpuHog, TargetKind::Pod);
                        let hog = spec.faults[1].parameters.cpu_hog.as_ref().unwrap();
                        assert_eq!(hog.cores.as_deref(), Some("1"));
                    }
                    Becomes::StressMemory => {
                        second(FaultType::PodMemoryHog, TargetKind::Pod);
                        let hog = spec.faults[1].parameters.memory_hog.as_ref().unwrap();
                        assert_eq!(hog.mebibytes, Some(287));
                    }
                    Becomes::Revert => {
                        assert_eq!(spec.faults.len(), 1);
                        let dropped = format!("rollbacks[0] \"it\" dropped: {} undoes", row.func);
                        assert!(
                            imported.notes.iter().any(|n| n.starts_with(&dropped)),
                            "{:?}",
                            imported.notes
                        );
                    }
                    Becomes::DeploymentAvailable => {
                        let probe = spec.faults[0].probes[0].probe.as_ref().unwrap();
                        assert_eq!(probe.probe_type, ProbeType::K8s);
                        assert_eq!(probe.k8s.as_ref().unwrap().kind, "Deployment");
                    }
                }
            }
        }
    }

    #[test]
    fn http_probes_and_python_are_routed_and_other_providers_refused() {
        assert_eq!(provider(Kind::Probe, Some("http")), Route::HttpProbe);
        assert_eq!(provider(Kind::Action, Some("python")), Route::Python);
        assert_eq!(provider(Kind::Probe, Some("python")), Route::Python);
        for (kind, provider_type, reason) in [
            (
                Kind::Action,
                Some("http"),
                "an http action changes the system",
            ),
            (
                Kind::Probe,
                Some("process"),
                "a process provider runs a local program",
            ),
            (Kind::Probe, Some("ruby"), "unknown provider type \"ruby\""),
            (Kind::Action, None, "unknown provider type (missing)"),
        ] {
            match provider(kind, provider_type) {
                Route::Refused(why) => assert!(why.starts_with(reason), "{why}"),
                other => panic!("{provider_type:?} routed to {other:?}"),
            }
        }
    }
}
