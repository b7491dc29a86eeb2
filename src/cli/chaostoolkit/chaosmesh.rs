//! chaosk8s' Chaos Mesh wrappers as the Faultline faults the Chaos Mesh import makes of the
//! same fields: `add_latency` and `set_loss` (module `chaosk8s.chaosmesh.network.actions`) as
//! pod-network-latency and pod-network-loss, `stress_cpu` and `stress_memory`
//! (`chaosk8s.chaosmesh.stress.actions`) as pod-cpu-hog and pod-memory-hog.
//!
//! The argument names follow chaosk8s' source (chaostoolkit-kubernetes,
//! chaosk8s/chaosmesh/network/actions.py and chaosk8s/chaosmesh/stress/actions.py), which
//! writes them into the chaos object: `ns` and `namespaces_selectors`, `label_selectors`,
//! `annotations_selectors` into its selector, `mode` and `mode_value` into mode and value,
//! `external_targets` and the `target_*` arguments into externalTargets and target,
//! `container_names` and `stressng_stressors` into containerNames and stressngStressors. A
//! field is converted by the rule `faultline import chaosmesh` applies to it
//! (src/cli/chaosmesh/convert.rs), its refusals named after the argument. Any other argument
//! is refused as unknown, as Chaos Toolkit refuses it.

use serde_json::Value;

use super::CTK_DEFAULT_NS;
use super::converter::{ActionDraft, Converted, Converter};
use super::netpol::label_selectors;
use super::nodes::target;
use super::python::Args;
use super::values::short_json;
use crate::api::{
    CpuHogParameters, Duration, FaultParameters, FaultType, MemoryHogParameters,
    NetworkLatencyParameters, NetworkLossParameters, Target, TargetKind, TrafficSelection,
};
use crate::cli::chaosmesh::convert;
use crate::cli::chaosmesh::model::Selector;
use crate::cli::findings::{Findings, Origin};

/// The Chaos Mesh fields the shared rules refuse by name, as the chaosk8s arguments that set
/// them (a field not listed is named as it is: `mode`, `direction`).
const ARGUMENT_OF_FIELD: [(&str, &str); 5] = [
    ("selector.namespaces", "namespaces_selectors"),
    ("value", "mode_value"),
    ("externalTargets", "external_targets"),
    ("containerNames", "container_names"),
    ("stressors.memory.size", "size"),
];

/// The network functions' arguments that select peer pods (the NetworkChaos' `target`).
const TARGET_SELECTORS: [&str; 3] = [
    "target_namespaces_selectors",
    "target_label_selectors",
    "target_annotations_selectors",
];

/// The OOM score adjustment Faultline's memory hog always runs with.
const HOG_OOM_SCORE: i64 = 1000;

impl Converter<'_> {
    pub(super) fn add_latency(&mut self, args: &mut Args) -> Option<Converted> {
        let target = self.chaos_mesh_target(args);
        let traffic = self.traffic(args);
        require(args, "latency", "the delay to add, e.g. \"100ms\"");
        let latency = duration_argument(args, "latency");
        let jitter = duration_argument(args, "jitter").unwrap_or(Duration::from_secs(0));
        let parameters = FaultParameters {
            network_latency: Some(NetworkLatencyParameters {
                latency: latency?,
                jitter,
                traffic,
            }),
            ..FaultParameters::default()
        };
        Some(action(FaultType::PodNetworkLatency, target, parameters))
    }

    pub(super) fn set_loss(&mut self, args: &mut Args) -> Option<Converted> {
        let target = self.chaos_mesh_target(args);
        let traffic = self.traffic(args);
        require(args, "loss", "the percentage of packets dropped");
        let percent = match number_argument(args, "loss")? {
            p if (0.0..=100.0).contains(&p) => p.round() as u8,
            p => {
                args.problems
                    .push(format!("loss {p} is not a percentage (0 to 100)"));
                return None;
            }
        };
        let parameters = FaultParameters {
            network_loss: Some(NetworkLossParameters { percent, traffic }),
            ..FaultParameters::default()
        };
        Some(action(FaultType::PodNetworkLoss, target, parameters))
    }

    pub(super) fn stress_cpu(&mut self, args: &mut Args) -> Option<Converted> {
        let (target, container) = self.stress_target(args);
        let given = require(args, "workers", "the number of CPU workers")
            & require(args, "load", "the percent of a CPU each worker burns");
        let (workers, load) = (args.integer("workers"), args.integer("load"));
        let (Some(workers), Some(load), true) = (workers, load, given) else {
            return None;
        };
        let (workers, load) = (workers.max(1), load.clamp(0, 100));
        let millicores = u64::try_from(workers.saturating_mul(load * 10)).unwrap_or(u64::MAX);
        let cores = crate::cli::findings::cpu_quantity(millicores);
        self.notes.push(format!(
            "{} {:?}: {workers} CPU worker(s) at {load}% become one hog burning {cores} core(s) \
             in total",
            args.location, args.name
        ));
        let parameters = FaultParameters {
            cpu_hog: Some(CpuHogParameters {
                container,
                cores: Some(cores),
                percent: None,
            }),
            ..FaultParameters::default()
        };
        Some(action(FaultType::PodCpuHog, target, parameters))
    }

    pub(super) fn stress_memory(&mut self, args: &mut Args) -> Option<Converted> {
        let (target, container) = self.stress_target(args);
        let workers = args.integer("workers");
        memory_hog_settings(args);
        require(args, "size", "the memory to fill, e.g. \"256MB\"");
        let size = args.string("size")?;
        let (mebibytes, percent) = self.memory_size(args, &size)?;
        self.notes.push(format!(
            "{} {:?}: chaosk8s writes stress_memory's arguments into a CPU stressor by mistake \
             (size as its load); they are converted as what they mean: a memory hog of {size}",
            args.location, args.name
        ));
        if let Some(workers) = workers.filter(|w| *w > 1) {
            self.notes.push(format!(
                "{} {:?}: {workers} memory workers become one hog holding {size}",
                args.location, args.name
            ));
        }
        let parameters = FaultParameters {
            memory_hog: Some(MemoryHogParameters {
                container,
                mebibytes,
                percent,
            }),
            ..FaultParameters::default()
        };
        Some(action(FaultType::PodMemoryHog, target, parameters))
    }

    /// The pods the selector arguments pick, and how many of them (`mode`, `mode_value`);
    /// `name` (the chaos object's, which the fault does not need: it is named after the
    /// activity) is read and left.
    fn chaos_mesh_target(&mut self, args: &mut Args) -> Target {
        let _ = args.string("name");
        let namespace = self.pods_namespace(args);
        let selector = label_selectors(args);
        if args
            .take("annotations_selectors")
            .is_some_and(|v| truthy(&v))
        {
            args.problems.push(
                "annotations_selectors has no equivalent: a Faultline target selects pods by \
                 label (label_selectors) or by name"
                    .into(),
            );
        }
        let mode = args.string("mode");
        let value = text_argument(args, "mode_value");
        let (mode, value) = self.shared(args, |origin, found| {
            convert::mode(mode.as_deref(), value.as_deref(), origin, found)
        });
        let mut target = target(TargetKind::Pod, Some(namespace), None, selector);
        target.mode = mode;
        target.value = value;
        target
    }

    /// The pods' namespace: the one `namespaces_selectors` names, else `ns` (where chaosk8s
    /// creates the chaos object, and so where Chaos Mesh's selector looks by default).
    fn pods_namespace(&mut self, args: &mut Args) -> String {
        let ns = args.string("ns");
        let namespaces = list_argument(args, "namespaces_selectors");
        if namespaces.is_empty() {
            return self.namespace_argument(args, "ns", ns);
        }
        let selector = Selector {
            namespaces,
            ..Selector::default()
        };
        let one = self.shared(args, |origin, found| {
            convert::namespace(&selector, origin, found)
        });
        self.namespace_argument(args, "namespaces_selectors", Some(one))
    }

    /// The traffic a network fault affects: `direction`, and the addresses of
    /// `external_targets`; a `correlation` other than 0 is dropped with a note, as the Chaos
    /// Mesh import does, and the peer pods of the `target_*` arguments are refused.
    fn traffic(&mut self, args: &mut Args) -> TrafficSelection {
        let direction = args.string("direction");
        let peers = list_argument(args, "external_targets");
        let correlation = text_argument(args, "correlation");
        let (direction, destinations) = self.shared(args, |origin, found| {
            convert::correlation(correlation.as_deref(), origin, found);
            let direction = convert::direction(direction.as_deref(), origin, found);
            (direction, convert::destinations(&peers, origin, found))
        });
        peer_pods(args);
        TrafficSelection {
            direction,
            destinations,
            ..TrafficSelection::default()
        }
    }

    /// What both stress functions share: the pods, the container (`container_names`),
    /// `direction` (which a StressChaos has no use for) and `duration`; `stressng_stressors`
    /// is refused.
    fn stress_target(&mut self, args: &mut Args) -> (Target, Option<String>) {
        let target = self.chaos_mesh_target(args);
        let names = list_argument(args, "container_names");
        let container = self.shared(args, |origin, found| {
            convert::container(&names, origin, found)
        });
        if args.take("stressng_stressors").is_some_and(|v| truthy(&v)) {
            args.problems.push(
                "stressng_stressors has no equivalent: Faultline's hogs take cores or a memory \
                 size, not stress-ng options; write the hog by hand"
                    .into(),
            );
        }
        if let Some(direction) = args.string("direction").filter(|d| d != "to") {
            self.notes.push(format!(
                "{} {:?}: direction {direction:?} ignored: chaosk8s passes it to the \
                 StressChaos, which has no direction",
                args.location, args.name
            ));
        }
        if let Some(duration) = args.string("duration") {
            self.notes.push(format!(
                "{} {:?}: duration {duration} dropped: the fault lasts the pauses after the \
                 action, as every converted action does; set the fault's duration to {duration} \
                 if they differ",
                args.location, args.name
            ));
        }
        (target, container)
    }

    /// `size` as MiB or as a percent of the container's limit, as the Chaos Mesh import reads
    /// it; `None` when it is neither.
    fn memory_size(&mut self, args: &mut Args, size: &str) -> Option<(Option<u64>, Option<u32>)> {
        let sizes = self.shared(args, |origin, found| {
            convert::memory_size(size, origin, found)
        });
        // The shared rule refuses whatever it leaves out.
        (sizes != (None, None)).then_some(sizes)
    }

    /// Applies a rule of the Chaos Mesh import to the activity: a field it refuses becomes a
    /// problem named after the chaosk8s argument that sets it, and its notes become notes on
    /// the activity.
    fn shared<T>(&mut self, args: &mut Args, rule: impl FnOnce(&Origin, &mut Findings) -> T) -> T {
        // Without a kind, a refusal's provider is " <field>" and a note " \"<name>\": <text>".
        let origin = Origin {
            location: args.location.clone(),
            name: args.name.clone(),
            kind: "",
            namespace: CTK_DEFAULT_NS.to_string(),
        };
        let mut found = Findings::default();
        let out = rule(&origin, &mut found);
        for refusal in found.unsupported {
            let field = refusal.provider.trim_start();
            let argument = ARGUMENT_OF_FIELD
                .iter()
                .find(|(f, _)| *f == field)
                .map_or(field, |(_, argument)| argument);
            args.problems.push(format!("{argument} {}", refusal.reason));
        }
        for note in found.notes {
            self.notes.push(format!("{}{note}", args.location));
        }
        out
    }
}

fn action(fault_type: FaultType, target: Target, parameters: FaultParameters) -> Converted {
    Converted::Action(Box::new(ActionDraft {
        fault_type,
        target,
        parameters,
    }))
}

/// The `target_*` arguments: chaosk8s always writes a target (mode "one"), which picks no
/// particular peers until a target selector is given, so `target_mode` and
/// `target_mode_value` are read and left; a target selector is refused.
fn peer_pods(args: &mut Args) {
    for key in TARGET_SELECTORS {
        if args.take(key).is_some_and(|v| truthy(&v)) {
            args.problems.push(format!(
                "{key} picks the peer pods whose traffic is affected; Faultline's delay and loss \
                 select the peers by address (external_targets) or by Service (the fault's \
                 services, to write by hand)"
            ));
        }
    }
    let _ = args.take("target_mode");
    let _ = args.take("target_mode_value");
}

/// stress_memory's `oom_score` and `time_to_get_to_size`, which Faultline's hog has no setting
/// for (an `oom_score` of 1000 is what it does anyway).
fn memory_hog_settings(args: &mut Args) {
    if let Some(score) = args.integer("oom_score").filter(|s| *s != HOG_OOM_SCORE) {
        args.problems.push(format!(
            "oom_score {score} has no equivalent: Faultline's memory hog always offers itself to \
             the OOM killer first (oom_score_adj {HOG_OOM_SCORE}); drop it"
        ));
    }
    if let Some(time) = args.take("time_to_get_to_size").filter(truthy) {
        args.problems.push(format!(
            "time_to_get_to_size {} has no equivalent: Faultline's memory hog fills its size at \
             once, not over a time; drop it",
            short_json(&time)
        ));
    }
}

/// Refuses a missing argument the fault needs; whether it was given.
fn require(args: &mut Args, key: &str, what: &str) -> bool {
    let given = args.values.get(key).is_some_and(|v| !v.is_null());
    if !given {
        args.problems.push(format!("{key} is required: {what}"));
    }
    given
}

/// Whether Python finds the value true, as chaosk8s tests its optional arguments.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    }
}

/// A list chaosk8s takes as a list of strings or as one string, split at its commas.
fn list_argument(args: &mut Args, key: &str) -> Vec<String> {
    let items = match args.take(key) {
        None => return Vec::new(),
        Some(Value::String(text)) => text.split(',').map(|s| Value::from(s.trim())).collect(),
        Some(Value::Array(items)) => items,
        Some(other) => {
            args.problems.push(format!(
                "{key} must be a string such as \"a,b\" or a list of strings, not {}",
                short_json(&other)
            ));
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for item in items {
        match item {
            Value::String(s) if s.trim().is_empty() => {}
            Value::String(s) => out.push(s.trim().to_string()),
            other => args.problems.push(format!(
                "{key} must list strings, not {}",
                short_json(&other)
            )),
        }
    }
    out
}

/// A value chaosk8s passes on as a string, given as a string or as a number.
fn text_argument(args: &mut Args, key: &str) -> Option<String> {
    match args.take(key)? {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        other => {
            args.problems.push(format!(
                "{key} must be a string or a number, not {}",
                short_json(&other)
            ));
            None
        }
    }
}

fn duration_argument(args: &mut Args, key: &str) -> Option<Duration> {
    let text = args.string(key)?;
    text.parse::<Duration>()
        .map_err(|e| {
            let problem = format!("{key} {text:?} is not a duration: {e}");
            args.problems.push(problem);
        })
        .ok()
}

/// A number given as a number or as a string, as Chaos Mesh's fields are.
fn number_argument(args: &mut Args, key: &str) -> Option<f64> {
    let value = args.take(key)?;
    let number = match &value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    if number.is_none() {
        args.problems.push(format!("{key} must be a number"));
    }
    number
}

#[cfg(test)]
mod tests {
    use crate::api::{Direction, Duration, Fault, FaultType, TargetMode};
    use crate::cli::chaostoolkit::{ImportError, ImportOptions, Imported, Unsupported, import};

    const NETWORK: &str = "chaosk8s.chaosmesh.network.actions";
    const STRESS: &str = "chaosk8s.chaosmesh.stress.actions";

    fn action(name: &str, module: &str, func: &str, arguments: &str) -> String {
        format!(
            r#"{{"type": "action", "name": "{name}", "provider": {{"type": "python",
                "module": "{module}", "func": "{func}", "arguments": {arguments}}}}}"#
        )
    }

    fn experiment(method: &[String]) -> String {
        format!(r#"{{"title": "t", "method": [{}]}}"#, method.join(", "))
    }

    fn imported(module: &str, func: &str, arguments: &str) -> Imported {
        let source = experiment(&[action("it", module, func, arguments)]);
        import(&source, &ImportOptions::default()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn only_fault(imported: &Imported) -> &Fault {
        assert_eq!(imported.experiment.spec.faults.len(), 1);
        &imported.experiment.spec.faults[0]
    }

    fn refused(source: &str) -> Vec<Unsupported> {
        match import(source, &ImportOptions::default()) {
            Err(ImportError::Unsupported(list)) => list,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn add_latency_reads_chaosk8s_arguments_in_their_string_forms() {
        let imported = imported(
            NETWORK,
            "add_latency",
            r#"{"name": "slow", "ns": "chaos", "namespaces_selectors": "shop",
                "label_selectors": "app=web,tier=front", "mode": "fixed-percent",
                "mode_value": "50", "direction": "both", "latency": "200ms", "jitter": "20ms",
                "correlation": "0", "external_targets": "10.0.0.1, 10.1.0.0/16",
                "target_mode": "one", "target_mode_value": null}"#,
        );
        let fault = only_fault(&imported);
        assert_eq!(fault.fault_type, FaultType::PodNetworkLatency);
        // The pods' namespace, not ns "chaos", is the experiment's, so the target leaves it out.
        assert_eq!(fault.target.namespace, None);
        let labels = fault
            .target
            .selector
            .as_ref()
            .unwrap()
            .match_labels
            .as_ref();
        assert_eq!(labels.unwrap().len(), 2);
        assert_eq!(labels.unwrap()["tier"], "front");
        assert_eq!(
            (fault.target.mode, fault.target.value),
            (TargetMode::Percent, Some(50))
        );
        let latency = fault.parameters.network_latency.as_ref().unwrap();
        assert_eq!(latency.latency, Duration::from_millis(200));
        assert_eq!(latency.jitter, Duration::from_millis(20));
        assert_eq!(latency.traffic.direction, Direction::Both);
        assert_eq!(latency.traffic.destinations, ["10.0.0.1", "10.1.0.0/16"]);
        assert_eq!(
            imported.experiment.metadata.namespace.as_deref(),
            Some("shop")
        );
    }

    #[test]
    fn set_loss_reads_chaosk8s_arguments_in_their_list_and_mapping_forms() {
        let imported = imported(
            NETWORK,
            "set_loss",
            r#"{"name": "drop", "ns": "shop", "namespaces_selectors": ["shop"],
                "label_selectors": {"app": "web"}, "annotations_selectors": {},
                "mode": "fixed", "mode_value": 2, "loss": "25",
                "external_targets": ["192.168.0.7"], "target_mode": "all",
                "target_mode_value": "10", "target_label_selectors": ""}"#,
        );
        let fault = only_fault(&imported);
        assert_eq!(fault.fault_type, FaultType::PodNetworkLoss);
        assert_eq!(
            (fault.target.mode, fault.target.value),
            (TargetMode::Fixed, Some(2))
        );
        let labels = fault
            .target
            .selector
            .as_ref()
            .unwrap()
            .match_labels
            .as_ref();
        assert_eq!(labels.unwrap()["app"], "web");
        let loss = fault.parameters.network_loss.as_ref().unwrap();
        assert_eq!(loss.percent, 25);
        assert_eq!(loss.traffic.direction, Direction::Egress);
        assert_eq!(loss.traffic.destinations, ["192.168.0.7"]);
    }

    #[test]
    fn a_random_max_percent_mode_is_the_chaos_mesh_imports_percent_with_its_note() {
        let imported = imported(
            NETWORK,
            "set_loss",
            r#"{"name": "drop", "ns": "shop", "label_selectors": "app=web",
                "mode": "random-max-percent", "mode_value": "30", "loss": 10}"#,
        );
        let fault = only_fault(&imported);
        assert_eq!(
            (fault.target.mode, fault.target.value),
            (TargetMode::Percent, Some(30))
        );
        let note = "method[0] \"it\": mode random-max-percent picks a random share of up to 30% \
                    of the pods; Faultline acts on exactly that share (mode percent)";
        assert!(
            imported.notes.iter().any(|n| n == note),
            "{:?}",
            imported.notes
        );
    }

    #[test]
    fn stress_cpu_reads_container_names_and_notes_its_duration() {
        let imported = imported(
            STRESS,
            "stress_cpu",
            r#"{"name": "burn", "workers": 2, "load": 50, "ns": "shop",
                "label_selectors": "app=web", "mode": "all", "direction": "to",
                "duration": "60s", "container_names": "app", "stressng_stressors": ""}"#,
        );
        let fault = only_fault(&imported);
        assert_eq!(fault.fault_type, FaultType::PodCpuHog);
        assert_eq!(fault.target.mode, TargetMode::All);
        let hog = fault.parameters.cpu_hog.as_ref().unwrap();
        assert_eq!(hog.container.as_deref(), Some("app"));
        assert_eq!(hog.cores.as_deref(), Some("1"));
        let notes = imported.notes.join("\n");
        assert!(notes.contains("duration 60s dropped"), "{notes}");
        assert!(!notes.contains("direction"), "{notes}");
    }

    #[test]
    fn stress_memory_is_a_memory_hog_of_its_size_whatever_chaosk8s_writes() {
        let imported = imported(
            STRESS,
            "stress_memory",
            r#"{"name": "fill", "workers": 2, "size": "512MB", "oom_score": 1000,
                "ns": "shop", "namespaces_selectors": "shop", "label_selectors": "app=web",
                "direction": "from", "container_names": ["app"]}"#,
        );
        let fault = only_fault(&imported);
        assert_eq!(fault.fault_type, FaultType::PodMemoryHog);
        let hog = fault.parameters.memory_hog.as_ref().unwrap();
        assert_eq!((hog.mebibytes, hog.percent), (Some(489), None));
        assert_eq!(hog.container.as_deref(), Some("app"));
        let notes = imported.notes.join("\n");
        assert!(
            notes.contains("into a CPU stressor by mistake (size as its load)"),
            "{notes}"
        );
        assert!(notes.contains("direction \"from\" ignored"), "{notes}");
        assert!(notes.contains("2 memory workers become one hog"), "{notes}");
    }

    #[test]
    fn chaosk8s_arguments_without_an_equivalent_are_refused_by_name() {
        let latency = r#""latency": "1s", "label_selectors": "app=web""#;
        for (func, arguments, reason) in [
            (
                "add_latency",
                format!(r#"{{{latency}, "annotations_selectors": "team=a"}}"#),
                "annotations_selectors has no equivalent",
            ),
            (
                "add_latency",
                format!(r#"{{{latency}, "target_label_selectors": {{"app": "db"}}}}"#),
                "target_label_selectors picks the peer pods whose traffic is affected",
            ),
            (
                "add_latency",
                format!(r#"{{{latency}, "external_targets": "10.0.0.1,db.example.com"}}"#),
                "external_targets \"db.example.com\" is a host name; Faultline selects peers by \
                 address or CIDR",
            ),
            (
                "set_loss",
                r#"{"loss": 5, "namespaces_selectors": "shop,cart"}"#.to_string(),
                "namespaces_selectors selects pods in several namespaces; a Faultline fault \
                 targets one: import one copy per namespace",
            ),
            (
                "stress_cpu",
                r#"{"workers": 1, "load": 10, "stressng_stressors": "--cpu 2"}"#.to_string(),
                "stressng_stressors has no equivalent",
            ),
            (
                "stress_cpu",
                r#"{"workers": 1, "load": 10, "container_names": "app,sidecar"}"#.to_string(),
                "container_names names several containers; a Faultline fault acts on one: import \
                 one copy per container",
            ),
            (
                "stress_memory",
                r#"{"size": "64MB", "oom_score": -1000}"#.to_string(),
                "oom_score -1000 has no equivalent",
            ),
            (
                "stress_memory",
                r#"{"size": "64MB", "time_to_get_to_size": "30s"}"#.to_string(),
                "time_to_get_to_size \"30s\" has no equivalent",
            ),
            (
                "stress_cpu",
                r#"{"load": 10}"#.to_string(),
                "workers is required",
            ),
        ] {
            let module = if func.starts_with("stress") {
                STRESS
            } else {
                NETWORK
            };
            let source = experiment(&[action("it", module, func, &arguments)]);
            let list = refused(&source);
            assert_eq!(list.len(), 1, "{func} {arguments}: {list:?}");
            assert_eq!(list[0].provider, format!("python {module}.{func}"));
            assert!(list[0].reason.starts_with(reason), "{}", list[0].reason);
        }
    }

    #[test]
    fn every_problem_of_an_experiment_is_reported_in_one_pass() {
        let source = experiment(&[
            action(
                "slow",
                NETWORK,
                "add_latency",
                r#"{"latency": "1s", "annotations_selectors": "team=a",
                    "target_namespaces_selectors": "db", "external_targets": ["db.local"],
                    "mode": "fixed"}"#,
            ),
            action(
                "burn",
                STRESS,
                "stress_cpu",
                r#"{"workers": 1, "load": 10, "container_names": ["a", "b"],
                    "stressng_stressors": "--cpu 1", "value": "1"}"#,
            ),
            action(
                "fill",
                STRESS,
                "stress_memory",
                r#"{"size": "64MB", "oom_score": 0, "time_to_get_to_size": "10s"}"#,
            ),
        ]);
        let list = refused(&source);
        let names: Vec<&str> = list.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["slow", "burn", "fill"]);
        for (unsupported, parts) in list.iter().zip([
            &[
                "annotations_selectors has no",
                "mode_value is missing: mode",
                "external_targets \"db.local\" is a host name",
                "target_namespaces_selectors picks the peer pods",
            ][..],
            &[
                "container_names names several containers",
                "stressng_stressors has no",
                "unknown argument \"value\"",
            ][..],
            &["oom_score 0 has no", "time_to_get_to_size \"10s\" has no"][..],
        ]) {
            for part in parts {
                assert!(unsupported.reason.contains(part), "{}", unsupported.reason);
            }
        }
    }

    #[test]
    fn delete_network_fault_and_delete_stressor_in_rollbacks_are_the_undo() {
        let source = format!(
            r#"{{"title": "t", "method": [{}, {}], "rollbacks": [{}, {}]}}"#,
            action(
                "slow",
                NETWORK,
                "add_latency",
                r#"{"name": "slow", "latency": "1s"}"#
            ),
            action(
                "burn",
                STRESS,
                "stress_cpu",
                r#"{"name": "burn", "workers": 1, "load": 10}"#
            ),
            action(
                "unslow",
                NETWORK,
                "delete_network_fault",
                r#"{"name": "slow", "ns": "default"}"#
            ),
            action("unburn", STRESS, "delete_stressor", r#"{"name": "burn"}"#),
        );
        let imported = import(&source, &ImportOptions::default()).unwrap();
        assert_eq!(imported.experiment.spec.faults.len(), 2);
        for dropped in [
            "rollbacks[0] \"unslow\" dropped: delete_network_fault undoes an action",
            "rollbacks[1] \"unburn\" dropped: delete_stressor undoes an action",
        ] {
            assert!(
                imported.notes.iter().any(|n| n.starts_with(dropped)),
                "{:?}",
                imported.notes
            );
        }
    }

    #[test]
    fn delete_network_fault_in_the_method_is_refused_like_uncordon_node() {
        let source = experiment(&[
            action("slow", NETWORK, "add_latency", r#"{"latency": "1s"}"#),
            action(
                "unslow",
                NETWORK,
                "delete_network_fault",
                r#"{"name": "x"}"#,
            ),
        ]);
        let list = refused(&source);
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].location, "method[1]");
        assert!(
            list[0]
                .reason
                .starts_with("delete_network_fault undoes an earlier action"),
            "{}",
            list[0].reason
        );
    }

    #[test]
    fn a_correlation_is_noted_and_arguments_chaosk8s_does_not_take_are_refused() {
        let noted = experiment(&[action(
            "slow",
            NETWORK,
            "add_latency",
            r#"{"latency": "1s", "correlation": "25"}"#,
        )]);
        let imported = import(&noted, &ImportOptions::default()).unwrap();
        assert!(
            imported
                .notes
                .iter()
                .any(|n| n.contains("correlation 25% is dropped")),
            "{:?}",
            imported.notes
        );
        let source = experiment(&[
            action(
                "slow",
                NETWORK,
                "add_latency",
                r#"{"latency": "1s", "value": "50", "duration": "30s"}"#,
            ),
            action("drop", NETWORK, "add_packet_loss", r#"{"loss": "25"}"#),
        ]);
        let list = refused(&source);
        let reason = &list[0].reason;
        for unknown in ["\"value\"", "\"duration\""] {
            assert!(
                reason.contains(&format!("unknown argument {unknown}")),
                "{reason}"
            );
        }
        assert!(
            list[1]
                .reason
                .contains("add_packet_loss has no Faultline equivalent yet"),
            "{}",
            list[1].reason
        );
    }

    #[test]
    fn chaos_mesh_network_faults_faultline_lacks_are_refused_with_the_reason() {
        for func in [
            "duplicate_packets",
            "corrupt_packets",
            "reorder_packets",
            "set_bandwidth",
        ] {
            let source = experiment(&[action("it", NETWORK, func, r#"{"name": "x"}"#)]);
            let reason = &refused(&source)[0].reason;
            let prefix = format!("{NETWORK}.{func}: Faultline's network faults delay, drop or cut");
            assert!(reason.starts_with(&prefix), "{reason}");
        }
    }
}
