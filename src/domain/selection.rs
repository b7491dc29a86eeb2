//! Target selection: which of the pods a target resolved to a fault acts on, within the blast radius.

use std::collections::BTreeMap;
use std::fmt;

use rand::Rng;
use regex::Regex;

use crate::api::{Target, TargetMode};

/// A pod that the target's namespace, kind, name or selector resolved to, as selection sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Candidate {
    pub name: String,
    pub namespace: String,
    /// The pod's Ready condition is True.
    pub ready: bool,
    /// The pod's phase is Running.
    pub running: bool,
    /// The pod has a deletion timestamp.
    pub terminating: bool,
    /// The labels of the node the pod runs on.
    pub node_labels: BTreeMap<String, String>,
}

/// The pods a fault acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    /// The chosen pods' names, in name order.
    pub targets: Vec<String>,
    /// How many pods were eligible: running, not terminating, on a matching node, with a
    /// matching name.
    pub eligible: usize,
}

/// Why no pod was eligible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoTargetsReason {
    /// The target's name or selector matched no pod.
    NoCandidates,
    /// Pods matched, but none is running and not terminating.
    NoneRunning { candidates: usize },
    /// Running pods matched, but none is on a node with the nodeSelector's labels.
    NodeSelector {
        running: usize,
        node_selector: BTreeMap<String, String>,
    },
    /// Pods remained, but no name matches namePattern.
    NamePattern { remaining: usize, pattern: String },
}

impl fmt::Display for NoTargetsReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoTargetsReason::NoCandidates => {
                write!(f, "no pod matches the target's name or selector")
            }
            NoTargetsReason::NoneRunning { candidates } => write!(
                f,
                "{} matching the target, but none is running and not terminating",
                pods(*candidates)
            ),
            NoTargetsReason::NodeSelector {
                running,
                node_selector,
            } => {
                let labels: Vec<String> = node_selector
                    .iter()
                    .map(|(key, value)| format!("{key}={value}"))
                    .collect();
                write!(
                    f,
                    "{} running, but none on a node labelled {}",
                    pods(*running),
                    labels.join(",")
                )
            }
            NoTargetsReason::NamePattern { remaining, pattern } => write!(
                f,
                "{} running, but no name matches namePattern {pattern:?} \
                 (it is searched anywhere in the name)",
                pods(*remaining)
            ),
        }
    }
}

/// Why a fault cannot pick its targets. Each message says what to change.
#[derive(Debug, thiserror::Error)]
pub enum SelectionError {
    #[error("namePattern {pattern:?} is not a valid regular expression: {source}")]
    BadPattern {
        pattern: String,
        #[source]
        source: regex::Error,
    },
    #[error("no pods to target: {reason}")]
    NoTargets { reason: NoTargetsReason },
    #[error(
        "refusing to inject: {} the target and maxPercent {max_percent} allows acting on none of them",
        pods_match(*.eligible)
    )]
    MaxPercent { eligible: usize, max_percent: i32 },
    #[error(
        "refusing to inject: only {} would remain, minHealthy is {min_healthy} \
         ({ready} ready now)",
        ready_pods(*.would_remain)
    )]
    MinHealthy {
        /// Ready pods among the eligible ones.
        ready: usize,
        /// Ready pods left once the selected ones are hit.
        would_remain: usize,
        min_healthy: i32,
    },
    #[error("mode {mode} needs value {expected}, got {}", .value.map_or("none".to_string(), |v| v.to_string()))]
    BadValue {
        mode: &'static str,
        value: Option<i32>,
        expected: &'static str,
    },
}

fn pods(n: usize) -> String {
    if n == 1 {
        "1 pod".to_string()
    } else {
        format!("{n} pods")
    }
}

fn pods_match(n: usize) -> String {
    if n == 1 {
        "1 pod matches".to_string()
    } else {
        format!("{n} pods match")
    }
}

fn ready_pods(n: usize) -> String {
    if n == 1 {
        "1 ready pod".to_string()
    } else {
        format!("{n} ready pods")
    }
}

/// Chooses the pods a fault acts on.
///
/// Pods that are running and not terminating, on a node carrying every `nodeSelector` label,
/// and whose name contains a match of `namePattern` are eligible. `mode` says how many to take;
/// `maxPercent` caps that share of the eligible pods; `random` picks them with `rng`, otherwise
/// the first in name order. `minHealthy` refuses a selection that would leave fewer Ready pods.
pub fn select_targets(
    candidates: &[Candidate],
    target: &Target,
    rng: &mut impl Rng,
) -> Result<Selection, SelectionError> {
    let name_pattern = target
        .name_pattern
        .as_deref()
        .map(|pattern| {
            Regex::new(pattern).map_err(|source| SelectionError::BadPattern {
                pattern: pattern.to_string(),
                source,
            })
        })
        .transpose()?;

    let mut eligible = eligible_pods(candidates, target, name_pattern.as_ref())?;
    eligible.sort_by(|a, b| (&a.name, &a.namespace).cmp(&(&b.name, &b.namespace)));

    let wanted = wanted_count(target, eligible.len())?;
    let allowed = allowed_by_max_percent(eligible.len(), target.max_percent);
    if allowed == 0 {
        return Err(SelectionError::MaxPercent {
            eligible: eligible.len(),
            max_percent: target.max_percent,
        });
    }
    let count = wanted.min(allowed).min(eligible.len());

    let mut chosen: Vec<&Candidate> = if target.random {
        rand::seq::index::sample(rng, eligible.len(), count)
            .into_iter()
            .map(|i| eligible[i])
            .collect()
    } else {
        eligible[..count].to_vec()
    };
    chosen.sort_by(|a, b| a.name.cmp(&b.name));

    if let Some(min_healthy) = target.min_healthy {
        let ready = eligible.iter().filter(|pod| pod.ready).count();
        let ready_chosen = chosen.iter().filter(|pod| pod.ready).count();
        let would_remain = ready - ready_chosen;
        if i64::try_from(would_remain).unwrap_or(i64::MAX) < i64::from(min_healthy) {
            return Err(SelectionError::MinHealthy {
                ready,
                would_remain,
                min_healthy,
            });
        }
    }

    Ok(Selection {
        targets: chosen.iter().map(|pod| pod.name.clone()).collect(),
        eligible: eligible.len(),
    })
}

/// Filters the candidates step by step, so that an empty result can say which step emptied it.
fn eligible_pods<'a>(
    candidates: &'a [Candidate],
    target: &Target,
    name_pattern: Option<&Regex>,
) -> Result<Vec<&'a Candidate>, SelectionError> {
    let no_targets = |reason| SelectionError::NoTargets { reason };
    if candidates.is_empty() {
        return Err(no_targets(NoTargetsReason::NoCandidates));
    }

    let running: Vec<&Candidate> = candidates
        .iter()
        .filter(|pod| pod.running && !pod.terminating)
        .collect();
    if running.is_empty() {
        return Err(no_targets(NoTargetsReason::NoneRunning {
            candidates: candidates.len(),
        }));
    }

    let on_matching_nodes: Vec<&Candidate> = match &target.node_selector {
        Some(node_selector) => {
            let kept: Vec<&Candidate> = running
                .iter()
                .copied()
                .filter(|pod| {
                    node_selector
                        .iter()
                        .all(|(key, value)| pod.node_labels.get(key) == Some(value))
                })
                .collect();
            if kept.is_empty() {
                return Err(no_targets(NoTargetsReason::NodeSelector {
                    running: running.len(),
                    node_selector: node_selector.clone(),
                }));
            }
            kept
        }
        None => running,
    };

    match name_pattern {
        Some(pattern) => {
            let kept: Vec<&Candidate> = on_matching_nodes
                .iter()
                .copied()
                .filter(|pod| pattern.is_match(&pod.name))
                .collect();
            if kept.is_empty() {
                return Err(no_targets(NoTargetsReason::NamePattern {
                    remaining: on_matching_nodes.len(),
                    pattern: pattern.as_str().to_string(),
                }));
            }
            Ok(kept)
        }
        None => Ok(on_matching_nodes),
    }
}

/// How many pods `mode` and `value` ask for, before the blast-radius cap. `eligible` is at least 1.
fn wanted_count(target: &Target, eligible: usize) -> Result<usize, SelectionError> {
    match target.mode {
        TargetMode::One => Ok(1),
        TargetMode::All => Ok(eligible),
        TargetMode::Fixed => match target.value {
            Some(value) if value >= 1 => Ok(usize::try_from(value).unwrap_or(usize::MAX)),
            value => Err(SelectionError::BadValue {
                mode: "fixed",
                value,
                expected: "of at least 1 (the number of pods)",
            }),
        },
        TargetMode::Percent => match target.value {
            Some(value @ 1..=100) => {
                // value is 1..=100, so the conversion cannot fail.
                let percent = usize::try_from(value).unwrap_or(100);
                Ok((eligible * percent).div_ceil(100).max(1))
            }
            value => Err(SelectionError::BadValue {
                mode: "percent",
                value,
                expected: "between 1 and 100",
            }),
        },
    }
}

/// The most pods `max_percent` allows out of `eligible`: floor(eligible × max_percent / 100).
fn allowed_by_max_percent(eligible: usize, max_percent: i32) -> usize {
    let percent = usize::try_from(max_percent.clamp(0, 100)).unwrap_or(0);
    eligible * percent / 100
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    use super::*;
    use crate::api::TargetKind;

    fn pod(name: &str) -> Candidate {
        Candidate {
            name: name.to_string(),
            namespace: "shop".to_string(),
            ready: true,
            running: true,
            terminating: false,
            node_labels: BTreeMap::new(),
        }
    }

    fn pods(names: &[&str]) -> Vec<Candidate> {
        names.iter().map(|name| pod(name)).collect()
    }

    fn target(mode: TargetMode, value: Option<i32>) -> Target {
        Target {
            namespace: None,
            kind: TargetKind::Pod,
            name: None,
            selector: None,
            name_pattern: None,
            mode,
            value,
            random: false,
            node_selector: None,
            max_percent: 100,
            min_healthy: None,
        }
    }

    fn rng() -> SmallRng {
        SmallRng::seed_from_u64(7)
    }

    fn select(candidates: &[Candidate], target: &Target) -> Result<Selection, SelectionError> {
        select_targets(candidates, target, &mut rng())
    }

    #[test]
    fn mode_one_picks_a_single_pod() {
        let selection = select(
            &pods(&["web-a", "web-b", "web-c"]),
            &target(TargetMode::One, None),
        )
        .unwrap();
        assert_eq!(selection.targets, ["web-a"]);
        assert_eq!(selection.eligible, 3);
    }

    #[test]
    fn mode_all_picks_every_eligible_pod() {
        let selection = select(
            &pods(&["web-c", "web-a", "web-b"]),
            &target(TargetMode::All, None),
        )
        .unwrap();
        assert_eq!(selection.targets, ["web-a", "web-b", "web-c"]);
    }

    #[test]
    fn mode_fixed_picks_value_pods_and_no_more_than_exist() {
        let candidates = pods(&["web-a", "web-b", "web-c"]);
        let two = select(&candidates, &target(TargetMode::Fixed, Some(2))).unwrap();
        assert_eq!(two.targets, ["web-a", "web-b"]);
        let too_many = select(&candidates, &target(TargetMode::Fixed, Some(5))).unwrap();
        assert_eq!(too_many.targets.len(), 3);
    }

    #[test]
    fn mode_percent_rounds_up_and_takes_at_least_one() {
        let candidates = pods(&["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]);
        let quarter = select(&candidates, &target(TargetMode::Percent, Some(25))).unwrap();
        assert_eq!(quarter.targets.len(), 3, "ceil(10 × 25 / 100) = 3");
        let one_percent = select(&candidates, &target(TargetMode::Percent, Some(1))).unwrap();
        assert_eq!(one_percent.targets.len(), 1);
    }

    #[test]
    fn fixed_and_percent_without_a_usable_value_are_refused() {
        let candidates = pods(&["web-a"]);
        let err = select(&candidates, &target(TargetMode::Fixed, None)).unwrap_err();
        assert!(matches!(err, SelectionError::BadValue { .. }), "{err}");
        let err = select(&candidates, &target(TargetMode::Percent, Some(150))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "mode percent needs value between 1 and 100, got 150"
        );
    }

    #[test]
    fn ordered_selection_takes_the_first_pods_by_name() {
        let candidates = pods(&["web-d", "web-b", "web-a", "web-c"]);
        let selection = select(&candidates, &target(TargetMode::Fixed, Some(2))).unwrap();
        assert_eq!(selection.targets, ["web-a", "web-b"]);
    }

    #[test]
    fn random_selection_does_not_always_take_the_first_by_name() {
        let names: Vec<String> = (0..20).map(|i| format!("web-{i:02}")).collect();
        let candidates: Vec<Candidate> = names.iter().map(|name| pod(name)).collect();
        let mut random = target(TargetMode::One, None);
        random.random = true;
        let picked: std::collections::BTreeSet<String> = (0..10)
            .map(|seed| {
                let mut rng = SmallRng::seed_from_u64(seed);
                select_targets(&candidates, &random, &mut rng)
                    .unwrap()
                    .targets[0]
                    .clone()
            })
            .collect();
        assert!(picked.len() > 1, "ten seeds all picked {picked:?}");
    }

    #[test]
    fn random_selection_is_deterministic_for_a_fixed_seed() {
        let names: Vec<String> = (0..20).map(|i| format!("web-{i:02}")).collect();
        let candidates: Vec<Candidate> = names.iter().map(|name| pod(name)).collect();
        let mut random = target(TargetMode::Fixed, Some(5));
        random.random = true;
        let first = select_targets(&candidates, &random, &mut SmallRng::seed_from_u64(42)).unwrap();
        let second =
            select_targets(&candidates, &random, &mut SmallRng::seed_from_u64(42)).unwrap();
        assert_eq!(first, second);
        assert_eq!(first.targets.len(), 5);
        assert!(
            first.targets.is_sorted(),
            "targets are reported in name order"
        );
    }

    #[test]
    fn name_pattern_is_searched_anywhere_in_the_name() {
        let candidates = pods(&["cart-api-1", "api-gateway", "web"]);
        let mut t = target(TargetMode::All, None);
        t.name_pattern = Some("api".to_string());
        let selection = select(&candidates, &t).unwrap();
        assert_eq!(selection.targets, ["api-gateway", "cart-api-1"]);
        assert_eq!(selection.eligible, 2);
    }

    #[test]
    fn an_anchored_name_pattern_matches_only_from_the_start() {
        let candidates = pods(&["cart-api-1", "api-gateway", "web"]);
        let mut t = target(TargetMode::All, None);
        t.name_pattern = Some("^api-".to_string());
        assert_eq!(select(&candidates, &t).unwrap().targets, ["api-gateway"]);
    }

    #[test]
    fn an_invalid_name_pattern_reports_the_regex_error() {
        let mut t = target(TargetMode::One, None);
        t.name_pattern = Some("web-(".to_string());
        let err = select(&pods(&["web-a"]), &t).unwrap_err();
        assert!(matches!(err, SelectionError::BadPattern { .. }));
        let message = err.to_string();
        assert!(message.starts_with("namePattern \"web-(\" is not a valid regular expression"));
        assert!(message.contains("unclosed group"), "{message}");
    }

    #[test]
    fn a_name_pattern_matching_nothing_says_so() {
        let mut t = target(TargetMode::One, None);
        t.name_pattern = Some("^db-".to_string());
        let err = select(&pods(&["web-a", "web-b"]), &t).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no pods to target: 2 pods running, but no name matches namePattern \"^db-\" \
             (it is searched anywhere in the name)"
        );
    }

    #[test]
    fn node_selector_keeps_pods_on_nodes_with_every_label() {
        let mut on_zone_a = pod("web-a");
        on_zone_a.node_labels = BTreeMap::from([
            ("zone".to_string(), "a".to_string()),
            ("pool".to_string(), "spot".to_string()),
        ]);
        let mut on_zone_b = pod("web-b");
        on_zone_b.node_labels = BTreeMap::from([("zone".to_string(), "b".to_string())]);
        let mut zone_only = pod("web-c");
        zone_only.node_labels = BTreeMap::from([("zone".to_string(), "a".to_string())]);

        let mut t = target(TargetMode::All, None);
        t.node_selector = Some(BTreeMap::from([
            ("zone".to_string(), "a".to_string()),
            ("pool".to_string(), "spot".to_string()),
        ]));
        let selection = select(&[on_zone_a, on_zone_b, zone_only], &t).unwrap();
        assert_eq!(selection.targets, ["web-a"]);
        assert_eq!(selection.eligible, 1);
    }

    #[test]
    fn a_node_selector_matching_no_pod_names_the_labels() {
        let mut t = target(TargetMode::One, None);
        t.node_selector = Some(BTreeMap::from([("zone".to_string(), "c".to_string())]));
        let err = select(&pods(&["web-a"]), &t).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no pods to target: 1 pod running, but none on a node labelled zone=c"
        );
    }

    #[test]
    fn terminating_and_not_running_pods_are_never_targeted() {
        let mut terminating = pod("web-a");
        terminating.terminating = true;
        let mut pending = pod("web-b");
        pending.running = false;
        let selection = select(
            &[terminating, pending, pod("web-c")],
            &target(TargetMode::All, None),
        )
        .unwrap();
        assert_eq!(selection.targets, ["web-c"]);
        assert_eq!(selection.eligible, 1);
    }

    #[test]
    fn no_running_pod_means_no_targets() {
        let mut terminating = pod("web-a");
        terminating.terminating = true;
        let err = select(&[terminating], &target(TargetMode::One, None)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no pods to target: 1 pod matching the target, but none is running and not terminating"
        );
    }

    #[test]
    fn no_candidate_at_all_means_no_targets() {
        let err = select(&[], &target(TargetMode::One, None)).unwrap_err();
        assert!(matches!(
            err,
            SelectionError::NoTargets {
                reason: NoTargetsReason::NoCandidates
            }
        ));
    }

    #[test]
    fn max_percent_caps_how_many_pods_are_hit() {
        let candidates = pods(&["a", "b", "c", "d", "e"]);
        let mut t = target(TargetMode::All, None);
        t.max_percent = 50;
        let selection = select(&candidates, &t).unwrap();
        assert_eq!(selection.targets, ["a", "b"], "floor(5 × 50 / 100) = 2");
    }

    #[test]
    fn max_percent_allowing_no_pod_refuses_and_says_why() {
        let mut t = target(TargetMode::One, None);
        t.max_percent = 40;
        let err = select(&pods(&["web-a", "web-b"]), &t).unwrap_err();
        assert!(matches!(
            err,
            SelectionError::MaxPercent {
                eligible: 2,
                max_percent: 40
            }
        ));
        assert_eq!(
            err.to_string(),
            "refusing to inject: 2 pods match the target and maxPercent 40 allows acting on none of them"
        );
    }

    #[test]
    fn min_healthy_refuses_when_too_few_ready_pods_would_remain() {
        let mut t = target(TargetMode::Fixed, Some(2));
        t.min_healthy = Some(2);
        let err = select(&pods(&["web-a", "web-b", "web-c"]), &t).unwrap_err();
        assert!(matches!(
            err,
            SelectionError::MinHealthy {
                ready: 3,
                would_remain: 1,
                min_healthy: 2
            }
        ));
        assert_eq!(
            err.to_string(),
            "refusing to inject: only 1 ready pod would remain, minHealthy is 2 (3 ready now)"
        );
    }

    #[test]
    fn min_healthy_allows_hitting_a_pod_that_is_not_ready() {
        let mut unready = pod("web-a");
        unready.ready = false;
        let mut t = target(TargetMode::One, None);
        t.min_healthy = Some(2);
        let selection = select(&[unready, pod("web-b"), pod("web-c")], &t).unwrap();
        assert_eq!(selection.targets, ["web-a"]);
    }
}
