//! chaosk8s pod actions (terminate_pods, delete_pods) as pod-delete faults.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::converter::{ActionDraft, Converted, Converter};
use super::python::{Args, check_pattern};
use super::values::clamp_i32;
use crate::api::{FaultParameters, FaultType, PodDeleteParameters, Target, TargetKind, TargetMode};

impl Converter<'_> {
    pub(super) fn terminate_pods(&mut self, args: &mut Args) -> Option<Converted> {
        let selector = args.selector("label_selector");
        let name_pattern = args.string("name_pattern");
        let all = args.boolean("all").unwrap_or(false);
        let rand = args.boolean("rand").unwrap_or(false);
        let mode = args.string("mode").unwrap_or_else(|| "fixed".into());
        let qty = args.integer("qty").unwrap_or(1);
        let grace = args.integer("grace_period").unwrap_or(-1);
        let ns = self.ns_argument(args);
        let order = args.string("order").unwrap_or_else(|| "alphabetic".into());

        if let Some(pattern) = &name_pattern {
            check_pattern(args, pattern);
        }
        let (target_mode, value) = if all {
            (TargetMode::All, None)
        } else {
            match mode.as_str() {
                "fixed" if qty == 1 => (TargetMode::One, None),
                "fixed" if qty > 1 => (TargetMode::Fixed, Some(clamp_i32(qty))),
                "percentage" if qty > 100 => {
                    self.notes.push(format!(
                        "{} {:?}: percentage qty {qty} is above 100, which Chaos Toolkit caps to \
                         every pod: mode all",
                        args.location, args.name
                    ));
                    (TargetMode::All, None)
                }
                "percentage" if qty >= 1 => (TargetMode::Percent, Some(clamp_i32(qty))),
                "fixed" | "percentage" => {
                    args.problems.push(format!(
                        "qty {qty} selects no pod, so the action does nothing; use qty 1 or more"
                    ));
                    (TargetMode::One, None)
                }
                other => {
                    args.problems.push(format!(
                        "mode {other:?} is not fixed or percentage (Chaos Toolkit refuses it too)"
                    ));
                    (TargetMode::One, None)
                }
            }
        };
        match order.as_str() {
            "alphabetic" => {}
            "oldest" if rand || all => self.notes.push(format!(
                "{} {:?}: order oldest ignored: it does not matter with {}",
                args.location,
                args.name,
                if all { "all" } else { "rand" }
            )),
            "oldest" => args.problems.push(
                "order oldest deletes the oldest pods first; Faultline picks by name order or at \
                 random (set rand: true, or drop order)"
                    .into(),
            ),
            other => args.problems.push(format!(
                "order {other:?} is not alphabetic or oldest (Chaos Toolkit refuses it too)"
            )),
        }
        let grace_period_seconds = match grace {
            g if g >= 0 => Some(g),
            _ => None,
        };
        Some(Converted::Action(Box::new(ActionDraft {
            fault_type: FaultType::PodDelete,
            target: pod_target(ns, selector, name_pattern, target_mode, value, rand),
            parameters: FaultParameters {
                pod_delete: Some(PodDeleteParameters {
                    grace_period_seconds,
                    force: false,
                }),
                ..FaultParameters::default()
            },
        })))
    }

    pub(super) fn delete_pods(&mut self, args: &mut Args) -> Option<Converted> {
        let name = args.string("name");
        let selector = args.selector("label_selector");
        let ns = self.ns_argument(args);
        if let Some(pattern) = &name {
            check_pattern(args, pattern);
        }
        self.notes.push(format!(
            "{} {:?}: delete_pods is deprecated in chaosk8s and runs terminate_pods with \
             name_pattern = name and its defaults (the first matching pod in name order); \
             chaosk8s releases before September 2021 deleted every pod matching the selector \
             instead: set the fault's target.mode to all if you relied on that",
            args.location, args.name
        ));
        Some(Converted::Action(Box::new(ActionDraft {
            fault_type: FaultType::PodDelete,
            target: pod_target(ns, selector, name, TargetMode::One, None, false),
            parameters: FaultParameters::default(),
        })))
    }
}

fn pod_target(
    ns: String,
    selector: Option<LabelSelector>,
    name_pattern: Option<String>,
    mode: TargetMode,
    value: Option<i32>,
    random: bool,
) -> Target {
    Target {
        namespace: Some(ns),
        kind: TargetKind::Pod,
        name: None,
        selector,
        name_pattern: name_pattern.filter(|p| !p.is_empty()),
        mode,
        value,
        random,
        node_selector: None,
        max_percent: 100,
        min_healthy: None,
    }
}
