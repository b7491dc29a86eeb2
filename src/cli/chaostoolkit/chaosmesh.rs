//! chaosk8s' Chaos Mesh wrappers (add_latency, add_packet_loss, stress_cpu, stress_memory) as
//! the Faultline faults the Chaos Mesh import makes of the same fields.
//!
//! The argument names are assumed, not confirmed from chaosk8s' source: they mirror Chaos
//! Mesh's fields (`latency`, `jitter`, `correlation`, `direction`, `loss`, `workers`, `load`,
//! `size`, `mode`, `value`, `label_selectors`, `ns`, `duration`, `name`). Any other argument
//! is refused as unknown, so a wrong assumption refuses an experiment rather than dropping a
//! setting.

use serde_json::Value;

use super::converter::{ActionDraft, Converted, Converter};
use super::netpol::label_selectors;
use super::nodes::target;
use super::python::Args;
use super::values::clamp_i32;
use crate::api::{
    CpuHogParameters, Direction, Duration, FaultParameters, FaultType, MemoryHogParameters,
    NetworkLatencyParameters, NetworkLossParameters, Target, TargetKind, TargetMode,
    TrafficSelection,
};

impl Converter<'_> {
    pub(super) fn add_latency(&mut self, args: &mut Args) -> Option<Converted> {
        let target = self.chaos_mesh_target(args);
        let traffic = traffic(args);
        let latency = duration_argument(args, "latency");
        let jitter = duration_argument(args, "jitter").unwrap_or(Duration::from_secs(0));
        let Some(latency) = latency else {
            args.problems
                .push("latency is required, e.g. \"100ms\"".into());
            return None;
        };
        let parameters = FaultParameters {
            network_latency: Some(NetworkLatencyParameters {
                latency,
                jitter,
                traffic,
            }),
            ..FaultParameters::default()
        };
        Some(action(FaultType::PodNetworkLatency, target, parameters))
    }

    pub(super) fn add_packet_loss(&mut self, args: &mut Args) -> Option<Converted> {
        let target = self.chaos_mesh_target(args);
        let traffic = traffic(args);
        let loss = number_argument(args, "loss");
        let percent = match loss {
            Some(p) if (0.0..=100.0).contains(&p) => p.round() as u8,
            Some(p) => {
                args.problems
                    .push(format!("loss {p} is not a percentage (0 to 100)"));
                return None;
            }
            None => {
                args.problems
                    .push("loss is required: the percentage of packets dropped".into());
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
        let target = self.chaos_mesh_target(args);
        let workers = args.integer("workers").unwrap_or(1).max(1);
        let load = args.integer("load").unwrap_or(100).clamp(0, 100);
        let millicores = u64::try_from(workers * load * 10).unwrap_or(0);
        let cores = crate::cli::findings::cpu_quantity(millicores);
        self.notes.push(format!(
            "{} {:?}: {workers} CPU worker(s) at {load}% become one hog burning {cores} core(s) \
             in total",
            args.location, args.name
        ));
        let parameters = FaultParameters {
            cpu_hog: Some(CpuHogParameters {
                container: None,
                cores: Some(cores),
                percent: None,
            }),
            ..FaultParameters::default()
        };
        Some(action(FaultType::PodCpuHog, target, parameters))
    }

    pub(super) fn stress_memory(&mut self, args: &mut Args) -> Option<Converted> {
        let target = self.chaos_mesh_target(args);
        let Some(size) = args.string("size") else {
            args.problems
                .push("size is required, e.g. \"256MB\"".into());
            return None;
        };
        let Some(mebibytes) = crate::cli::findings::mebibytes(&size) else {
            args.problems
                .push(format!("size {size:?} is not a size such as 256MB or 1GiB"));
            return None;
        };
        if let Some(workers) = args.integer("workers").filter(|w| *w > 1) {
            self.notes.push(format!(
                "{} {:?}: {workers} memory workers become one hog holding {mebibytes} MiB",
                args.location, args.name
            ));
        }
        let parameters = FaultParameters {
            memory_hog: Some(MemoryHogParameters {
                container: None,
                mebibytes: Some(mebibytes),
                percent: None,
            }),
            ..FaultParameters::default()
        };
        Some(action(FaultType::PodMemoryHog, target, parameters))
    }

    /// The pods a Chaos Mesh selector picks: `label_selectors` in `ns`, with `mode` and
    /// `value`; `duration` is noted, and `name` (the Chaos Mesh object's, which the fault does
    /// not need: it is named after the activity) is read and left.
    fn chaos_mesh_target(&mut self, args: &mut Args) -> Target {
        let selector = label_selectors(args);
        let ns = self.ns_argument(args);
        let _ = args.string("name");
        if let Some(duration) = args.string("duration") {
            self.notes.push(format!(
                "{} {:?}: duration {duration} dropped: the fault lasts the pauses after the \
                 action, as every converted action does; set the fault's duration to {duration} \
                 if they differ",
                args.location, args.name
            ));
        }
        let (mode, value) = mode(args);
        let mut target = target(TargetKind::Pod, Some(ns), None, selector);
        target.mode = mode;
        target.value = value;
        target
    }
}

fn action(fault_type: FaultType, target: Target, parameters: FaultParameters) -> Converted {
    Converted::Action(Box::new(ActionDraft {
        fault_type,
        target,
        parameters,
    }))
}

/// Chaos Mesh's `mode` and `value`, as the Chaos Mesh import converts them.
fn mode(args: &mut Args) -> (TargetMode, Option<i32>) {
    let mode = args.string("mode").unwrap_or_else(|| "one".into());
    let value = args.integer("value");
    let positive = |args: &mut Args| match value {
        Some(n) if n >= 1 => Some(clamp_i32(n)),
        _ => {
            args.problems
                .push(format!("mode {mode} needs a value of 1 or more"));
            None
        }
    };
    match mode.as_str() {
        "one" => (TargetMode::One, None),
        "all" => (TargetMode::All, None),
        "fixed" => (TargetMode::Fixed, positive(args)),
        "fixed-percent" => (TargetMode::Percent, positive(args).map(|n| n.min(100))),
        other => {
            args.problems.push(format!(
                "mode {other:?} is not converted (one, all, fixed or fixed-percent)"
            ));
            (TargetMode::One, None)
        }
    }
}

/// `direction` (to, from or both) and `correlation`, which Faultline has none of.
fn traffic(args: &mut Args) -> TrafficSelection {
    let direction = match args.string("direction").as_deref() {
        None | Some("to") => Direction::Egress,
        Some("from") => Direction::Ingress,
        Some("both") => Direction::Both,
        Some(other) => {
            args.problems
                .push(format!("direction {other:?} is not to, from or both"));
            Direction::Egress
        }
    };
    if let Some(c) = number_argument(args, "correlation").filter(|c| *c != 0.0) {
        args.problems.push(format!(
            "correlation {c}% has no equivalent: Faultline draws each packet independently; \
             drop it"
        ));
    }
    TrafficSelection {
        direction,
        destinations: Vec::new(),
        services: Vec::new(),
        ports: Vec::new(),
        protocol: None,
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
    use crate::api::{Direction, Duration, TargetMode};
    use crate::cli::chaostoolkit::{ImportError, ImportOptions, import};

    fn latency(arguments: &str) -> String {
        format!(
            r#"{{"title": "t", "method": [{{"type": "action", "name": "slow", "provider": {{
                "type": "python", "module": "chaosk8s.chaosmesh.network.actions",
                "func": "add_latency", "arguments": {arguments}}}}}]}}"#
        )
    }

    #[test]
    fn add_latency_takes_the_chaos_mesh_fields_and_notes_its_duration() {
        let source = latency(
            r#"{"name": "x", "ns": "shop", "label_selectors": {"app": "web"}, "mode": "fixed-percent",
                "value": "50", "direction": "both", "latency": "200ms", "jitter": "20ms",
                "correlation": "0", "duration": "60s"}"#,
        );
        let imported = import(&source, &ImportOptions::default()).unwrap();
        let fault = &imported.experiment.spec.faults[0];
        assert_eq!(fault.target.mode, TargetMode::Percent);
        assert_eq!(fault.target.value, Some(50));
        let latency = fault.parameters.network_latency.as_ref().unwrap();
        assert_eq!(latency.latency, Duration::from_millis(200));
        assert_eq!(latency.jitter, Duration::from_millis(20));
        assert_eq!(latency.traffic.direction, Direction::Both);
        assert!(imported.notes.join("\n").contains("duration 60s dropped"));
    }

    #[test]
    fn a_correlation_and_an_unassumed_argument_are_refused() {
        let source = latency(r#"{"latency": "1s", "correlation": "25", "bandwidth": "1mbps"}"#);
        let Err(ImportError::Unsupported(list)) = import(&source, &ImportOptions::default()) else {
            panic!("not refused");
        };
        let reason = &list[0].reason;
        assert!(
            reason.starts_with("correlation 25% has no equivalent"),
            "{reason}"
        );
        assert!(
            reason.contains("unknown argument \"bandwidth\""),
            "{reason}"
        );
    }
}
