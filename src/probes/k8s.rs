//! Kubernetes probes: find objects by name or selector, then check presence, availability,
//! Ready pods or a jsonPath value.
//!
//! Objects are read as `DynamicObject`s of a kind resolved through discovery, so any kind
//! works for `Present`, `Absent` and `jsonPath`. `Available` knows Deployments, StatefulSets,
//! ReplicaSets, DaemonSets and Pods; `minReady` knows Pods and anything whose `spec.selector`
//! picks pods.

use k8s_openapi::{api::core::v1::Pod, apimachinery::pkg::apis::meta::v1::LabelSelector};
use kube::{
    Api,
    api::{ApiResource, DynamicObject, ListParams},
    core::GroupVersionKind,
    discovery::{Scope, pinned_kind},
};
use serde_json::Value;

use super::{
    Outcome, Probe, ProbeContext,
    comparator::{compare, describe},
    kube_message,
};
use crate::api::{Comparator, K8sProbe, K8sState};
use crate::domain::selector::{self, SelectorError};

/// How many not-Ready pods a message names before it says "and N more".
const NAMED_PODS: usize = 3;

/// Why a k8s probe cannot be evaluated; each becomes [`Outcome::Unknown`].
#[derive(Debug, thiserror::Error)]
enum K8sError {
    #[error("invalid apiVersion {0:?}: use group/version such as apps/v1, or v1")]
    ApiVersion(String),
    #[error("cannot resolve kind {kind} in {api_version}: {}", kube_message(.source))]
    Discovery {
        api_version: String,
        kind: String,
        #[source]
        source: kube::Error,
    },
    #[error("{action}: {}", kube_message(.source))]
    Api {
        action: String,
        #[source]
        source: kube::Error,
    },
    #[error("set name or selector to find the objects to check")]
    NoTarget,
    #[error("the check sets none of state, minReady or jsonPath")]
    NoCheck,
    #[error("jsonPath {0} needs a comparator")]
    NoComparator(String),
    #[error(
        "state Available is defined for Deployment, StatefulSet, ReplicaSet, DaemonSet and Pod, not {0}"
    )]
    AvailableUnsupported(String),
    #[error("{0} has no spec.selector to find its pods")]
    NoPodSelector(String),
    #[error("{what} has an unusable spec.selector: {reason}")]
    BadPodSelector { what: String, reason: String },
    #[error(transparent)]
    Selector(#[from] SelectorError),
    #[error(transparent)]
    JsonPath(#[from] JsonPathError),
}

impl Probe for K8sProbe {
    async fn check(&self, ctx: &ProbeContext) -> Outcome {
        match evaluate(self, ctx).await {
            Ok(outcome) => outcome,
            Err(e) => Outcome::Unknown(e.to_string()),
        }
    }
}

/// What can be known of a k8s probe without its objects: the kind resolves through discovery,
/// the check is complete, and the selector and jsonPath parse.
pub(super) async fn validate(probe: &K8sProbe, client: &kube::Client) -> Result<(), String> {
    let check = &probe.check;
    if let Some(path) = &check.json_path {
        if check.comparator.is_none() {
            return Err(K8sError::NoComparator(path.clone()).to_string());
        }
        parse_json_path(path).map_err(|e| K8sError::from(e).to_string())?;
    } else if check.state.is_none() && check.min_ready.is_none() {
        return Err(K8sError::NoCheck.to_string());
    }
    match (&probe.name, &probe.selector) {
        (None, None) => return Err(K8sError::NoTarget.to_string()),
        (None, Some(selector)) => {
            selector::render(selector).map_err(|e| K8sError::from(e).to_string())?;
        }
        (Some(_), _) => {}
    }
    let (group, version) = split_api_version(&probe.api_version).map_err(|e| e.to_string())?;
    let gvk = GroupVersionKind::gvk(group, version, &probe.kind);
    let (resource, _) = pinned_kind(client, &gvk).await.map_err(|source| {
        K8sError::Discovery {
            api_version: probe.api_version.clone(),
            kind: probe.kind.clone(),
            source,
        }
        .to_string()
    })?;
    if check.state == Some(K8sState::Available) && Workload::of(&resource).is_none() {
        return Err(K8sError::AvailableUnsupported(resource.kind).to_string());
    }
    Ok(())
}

/// The objects the probe found, and how to name them in messages.
struct Found {
    kind: String,
    /// "Deployment shop/web" or "Deployments in shop matching app=web".
    description: String,
    objects: Vec<Value>,
}

async fn evaluate(probe: &K8sProbe, ctx: &ProbeContext) -> Result<Outcome, K8sError> {
    let (group, version) = split_api_version(&probe.api_version)?;
    let gvk = GroupVersionKind::gvk(group, version, &probe.kind);
    let (resource, capabilities) =
        pinned_kind(&ctx.client, &gvk)
            .await
            .map_err(|source| K8sError::Discovery {
                api_version: probe.api_version.clone(),
                kind: probe.kind.clone(),
                source,
            })?;
    let namespace = probe.namespace.as_deref().unwrap_or(&ctx.namespace);
    let namespaced = matches!(capabilities.scope, Scope::Namespaced);
    let api: Api<DynamicObject> = if namespaced {
        Api::namespaced_with(ctx.client.clone(), namespace, &resource)
    } else {
        Api::all_with(ctx.client.clone(), &resource)
    };
    let found = find(probe, &api, &resource, namespaced.then_some(namespace)).await?;
    let check = &probe.check;
    if let Some(state) = check.state {
        return match state {
            K8sState::Present => Ok(presence(&found, true)),
            K8sState::Absent => Ok(presence(&found, false)),
            K8sState::Available => available(&found, &resource, ctx).await,
        };
    }
    if let Some(min_ready) = check.min_ready {
        return min_ready_pods(&found, &resource, min_ready, ctx).await;
    }
    if let Some(path) = &check.json_path {
        let comparator = check
            .comparator
            .as_ref()
            .ok_or_else(|| K8sError::NoComparator(path.clone()))?;
        let steps = parse_json_path(path)?;
        return Ok(json_path_outcome(&found, path, &steps, comparator));
    }
    Err(K8sError::NoCheck)
}

async fn find(
    probe: &K8sProbe,
    api: &Api<DynamicObject>,
    resource: &ApiResource,
    namespace: Option<&str>,
) -> Result<Found, K8sError> {
    let kind = resource.kind.clone();
    let place = namespace.map(|ns| format!("{ns}/")).unwrap_or_default();
    let (description, objects) = match (&probe.name, &probe.selector) {
        (Some(name), _) => {
            let description = format!("{kind} {place}{name}");
            let object = api.get_opt(name).await.map_err(|source| K8sError::Api {
                action: format!("get {description}"),
                source,
            })?;
            (description, object.into_iter().collect::<Vec<_>>())
        }
        (None, Some(selector)) => {
            let rendered = selector::render(selector)?;
            let within = namespace.map(|ns| format!(" in {ns}")).unwrap_or_default();
            let description = format!("{kind} objects{within} matching {rendered:?}");
            let list = api
                .list(&ListParams::default().labels(&rendered))
                .await
                .map_err(|source| K8sError::Api {
                    action: format!("list {description}"),
                    source,
                })?;
            (description, list.items)
        }
        (None, None) => return Err(K8sError::NoTarget),
    };
    let objects = objects
        .into_iter()
        .map(|object| to_json(object, resource))
        .collect();
    Ok(Found {
        kind,
        description,
        objects,
    })
}

/// The object as JSON, with apiVersion and kind filled in (list items may lack them).
fn to_json(object: DynamicObject, resource: &ApiResource) -> Value {
    let mut value = serde_json::to_value(object).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.entry("apiVersion")
            .or_insert_with(|| Value::String(resource.api_version.clone()));
        map.entry("kind")
            .or_insert_with(|| Value::String(resource.kind.clone()));
    }
    value
}

/// `apps/v1` → ("apps", "v1"); `v1` → ("", "v1").
fn split_api_version(api_version: &str) -> Result<(&str, &str), K8sError> {
    let bad = || K8sError::ApiVersion(api_version.to_owned());
    let (group, version) = match api_version.split_once('/') {
        Some((group, version)) if !group.is_empty() => (group, version),
        Some(_) => return Err(bad()),
        None => ("", api_version),
    };
    if version.is_empty() || version.contains('/') {
        return Err(bad());
    }
    Ok((group, version))
}

fn presence(found: &Found, want_present: bool) -> Outcome {
    let count = found.objects.len();
    match (want_present, count) {
        (true, 0) => Outcome::Failed(format!("{}: none found", found.description)),
        (true, n) => Outcome::Passed(format!("{}: {n} present", found.description)),
        (false, 0) => Outcome::Passed(format!("{}: absent", found.description)),
        (false, n) => Outcome::Failed(format!(
            "{}: expected absent, {n} present",
            found.description
        )),
    }
}

/// The kinds `Available` understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Workload {
    Deployment,
    StatefulSet,
    ReplicaSet,
    DaemonSet,
    Pod,
}

impl Workload {
    fn of(resource: &ApiResource) -> Option<Self> {
        match (resource.group.as_str(), resource.kind.as_str()) {
            ("apps", "Deployment") => Some(Workload::Deployment),
            ("apps", "StatefulSet") => Some(Workload::StatefulSet),
            ("apps", "ReplicaSet") => Some(Workload::ReplicaSet),
            ("apps", "DaemonSet") => Some(Workload::DaemonSet),
            ("", "Pod") => Some(Workload::Pod),
            _ => None,
        }
    }
}

/// `Available`, as Kubernetes defines it: each object's own status says so
/// ([`workload_status`]), and the pods a workload selects are Ready, terminating pods
/// aside ([`pods_ready`]).
async fn available(
    found: &Found,
    resource: &ApiResource,
    ctx: &ProbeContext,
) -> Result<Outcome, K8sError> {
    let workload =
        Workload::of(resource).ok_or_else(|| K8sError::AvailableUnsupported(found.kind.clone()))?;
    if found.objects.is_empty() {
        return Ok(Outcome::Failed(format!(
            "{}: none found",
            found.description
        )));
    }
    let mut summaries = Vec::with_capacity(found.objects.len());
    for object in &found.objects {
        let what = format!("{} {}", found.kind, object_name(object));
        let verdict = match workload_status(workload, object) {
            Ok(counters) if workload != Workload::Pod => {
                pods_ready(&counters, &pods_of(object, &what, ctx).await?)
            }
            verdict => verdict,
        };
        match verdict {
            Ok(summary) => summaries.push(summary),
            Err(reason) => {
                return Ok(Outcome::Failed(format!(
                    "{what} is not available: {reason}"
                )));
            }
        }
    }
    Ok(Outcome::Passed(
        match (found.objects.as_slice(), summaries.as_slice()) {
            ([one], [summary]) => format!(
                "{} {} is available: {summary}",
                found.kind,
                object_name(one)
            ),
            (many, _) => format!("{}: all {} available", found.description, many.len()),
        },
    ))
}

/// The second half of a workload's availability, once its status has passed (`counters`
/// summarises it): every pod it selects that is neither terminating nor finished is Ready.
/// Terminating pods are ignored, as the workload's own counters ignore them.
fn pods_ready(counters: &str, pods: &[Value]) -> Result<String, String> {
    let census = census(pods);
    if !census.not_ready.is_empty() {
        return Err(census.describe());
    }
    Ok(format!("{counters}; {}", census.summary()))
}

async fn min_ready_pods(
    found: &Found,
    resource: &ApiResource,
    min_ready: i32,
    ctx: &ProbeContext,
) -> Result<Outcome, K8sError> {
    let min = usize::try_from(min_ready).unwrap_or(0);
    if Workload::of(resource) == Some(Workload::Pod) {
        let ready = census(&found.objects).ready;
        let message = format!("{}: {ready} Ready pods, minReady {min}", found.description);
        return Ok(if ready >= min {
            Outcome::Passed(message)
        } else {
            Outcome::Failed(message)
        });
    }
    if found.objects.is_empty() {
        return Ok(Outcome::Failed(format!(
            "{}: none found",
            found.description
        )));
    }
    // Each workload must have enough Ready pods of its own.
    let mut counts = Vec::with_capacity(found.objects.len());
    for object in &found.objects {
        let what = format!("{} {}", found.kind, object_name(object));
        let ready = census(&pods_of(object, &what, ctx).await?).ready;
        if ready < min {
            return Ok(Outcome::Failed(format!(
                "{what}: {ready} Ready pods, minReady {min}"
            )));
        }
        counts.push(ready);
    }
    Ok(Outcome::Passed(
        match (found.objects.as_slice(), counts.as_slice()) {
            ([one], [ready]) => format!(
                "{} {}: {ready} Ready pods, minReady {min}",
                found.kind,
                object_name(one)
            ),
            _ => format!("{}: each has at least {min} Ready pods", found.description),
        },
    ))
}

/// The pods picked by the workload's `spec.selector`, in the workload's namespace.
async fn pods_of(workload: &Value, what: &str, ctx: &ProbeContext) -> Result<Vec<Value>, K8sError> {
    let selector = pod_selector(workload).map_err(|e| match e {
        PodSelectorError::Missing => K8sError::NoPodSelector(what.to_owned()),
        PodSelectorError::Invalid(reason) => K8sError::BadPodSelector {
            what: what.to_owned(),
            reason,
        },
    })?;
    let rendered = selector::render(&selector)?;
    if rendered.is_empty() {
        // An empty selector would pick every pod in the namespace.
        return Err(K8sError::BadPodSelector {
            what: what.to_owned(),
            reason: "it is empty".into(),
        });
    }
    let namespace = workload["metadata"]["namespace"]
        .as_str()
        .unwrap_or(&ctx.namespace);
    let pods_resource = ApiResource::erase::<Pod>(&());
    let pods: Api<DynamicObject> =
        Api::namespaced_with(ctx.client.clone(), namespace, &pods_resource);
    let list = pods
        .list(&ListParams::default().labels(&rendered))
        .await
        .map_err(|source| K8sError::Api {
            action: format!("list the pods of {what}"),
            source,
        })?;
    Ok(list
        .items
        .into_iter()
        .map(|pod| to_json(pod, &pods_resource))
        .collect())
}

fn json_path_outcome(
    found: &Found,
    path: &str,
    steps: &[Step],
    comparator: &Comparator,
) -> Outcome {
    if found.objects.is_empty() {
        return Outcome::Failed(format!("{}: none found", found.description));
    }
    let mut last = String::new();
    for object in &found.objects {
        let what = format!("{} {}", found.kind, object_name(object));
        let Some(value) = eval_json_path(object, steps) else {
            return Outcome::Failed(format!("{what}: path {path} not found"));
        };
        let observed = render_value(value);
        match compare(&observed, comparator) {
            Ok(true) => {}
            Ok(false) => {
                return Outcome::Failed(format!(
                    "{what}: {path} is {observed}, expected {}",
                    describe(comparator)
                ));
            }
            Err(e) => return Outcome::Unknown(format!("{what}: {path} is {observed}: {e}")),
        }
        last = observed;
    }
    match found.objects.as_slice() {
        [one] => Outcome::Passed(format!(
            "{} {}: {path} is {last} ({})",
            found.kind,
            object_name(one),
            describe(comparator)
        )),
        many => Outcome::Passed(format!(
            "{path} {} on all {} {} objects",
            describe(comparator),
            many.len(),
            found.kind
        )),
    }
}

/// `namespace/name`, or `name` for cluster-scoped objects.
fn object_name(object: &Value) -> String {
    let name = object["metadata"]["name"].as_str().unwrap_or("<unnamed>");
    match object["metadata"]["namespace"].as_str() {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_owned(),
    }
}

fn int_at(value: &Value, path: &[&str]) -> Option<i64> {
    path.iter()
        .try_fold(value, |v, key| v.get(key))
        .and_then(Value::as_i64)
}

/// Whether a workload's own status says it is available, as Kubernetes counts it (its
/// controllers leave terminating pods out of these counters); the error names the field
/// or condition that fell short. A Pod is checked by [`pod_available`].
fn workload_status(workload: Workload, object: &Value) -> Result<String, String> {
    let status = |field: &str| int_at(object, &["status", field]).unwrap_or(0);
    let desired = int_at(object, &["spec", "replicas"]).unwrap_or(1);
    let replicas = |field: &str| at_least(field, status(field), "spec.replicas", desired);
    match workload {
        Workload::Pod => return pod_available(object),
        Workload::Deployment => {
            observed_generation(object)?;
            condition_true(object, "Available")?;
            replicas("availableReplicas")?;
            replicas("updatedReplicas")?;
        }
        Workload::StatefulSet | Workload::ReplicaSet => {
            observed_generation(object)?;
            replicas("availableReplicas")?;
        }
        Workload::DaemonSet => {
            observed_generation(object)?;
            let (available, scheduled) =
                (status("numberAvailable"), status("desiredNumberScheduled"));
            at_least(
                "numberAvailable",
                available,
                "status.desiredNumberScheduled",
                scheduled,
            )?;
            return Ok(format!(
                "{available} of {scheduled} scheduled pods available"
            ));
        }
    }
    Ok(format!(
        "{} of {desired} replicas available",
        status("availableReplicas")
    ))
}

/// `Ok` when the controller has acted on the latest spec: a status written for an older
/// generation says nothing about the current one.
fn observed_generation(object: &Value) -> Result<(), String> {
    let generation = int_at(object, &["metadata", "generation"]).unwrap_or(0);
    let observed = int_at(object, &["status", "observedGeneration"]).unwrap_or(0);
    if observed < generation {
        return Err(format!(
            "status.observedGeneration {observed} is behind metadata.generation {generation}: \
             its controller has not yet acted on the latest spec"
        ));
    }
    Ok(())
}

/// `Ok` when `status.<field>` reaches `want`; otherwise names both numbers.
fn at_least(field: &str, have: i64, want_field: &str, want: i64) -> Result<(), String> {
    if have >= want {
        Ok(())
    } else {
        Err(format!(
            "status.{field} is {have}, short of {want_field} {want}"
        ))
    }
}

/// `Ok` when the object's condition `kind` has status True; otherwise says what it is.
fn condition_true(object: &Value, kind: &str) -> Result<(), String> {
    let condition = object["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == kind));
    match condition {
        Some(c) if c["status"] == "True" => Ok(()),
        Some(c) => {
            let status = c["status"].as_str().unwrap_or("Unknown");
            let reason = c["reason"].as_str().unwrap_or("no reason given");
            Err(format!("condition {kind} is {status} ({reason})"))
        }
        None => Err(format!("it has no {kind} condition yet")),
    }
}

/// A Pod is available when it is not terminating, has not finished, and its Ready condition
/// is True.
fn pod_available(pod: &Value) -> Result<String, String> {
    match pod_state(pod) {
        PodState::Terminating => {
            Err("it is terminating (metadata.deletionTimestamp is set)".into())
        }
        PodState::Finished => Err(format!(
            "it has finished (status.phase is {})",
            pod["status"]["phase"].as_str().unwrap_or("unknown")
        )),
        PodState::Ready | PodState::NotReady => {
            condition_true(pod, "Ready").map(|()| "condition Ready is True".into())
        }
    }
}

/// Where a pod stands, for availability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PodState {
    Ready,
    NotReady,
    /// Being deleted: whatever its conditions say, it is on its way out.
    Terminating,
    /// Succeeded or Failed: no longer part of the workload.
    Finished,
}

fn pod_state(pod: &Value) -> PodState {
    if !pod["metadata"]["deletionTimestamp"].is_null() {
        return PodState::Terminating;
    }
    if matches!(
        pod["status"]["phase"].as_str(),
        Some("Succeeded" | "Failed")
    ) {
        return PodState::Finished;
    }
    let ready = pod["status"]["conditions"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    });
    if ready {
        PodState::Ready
    } else {
        PodState::NotReady
    }
}

/// Ready pods and terminating pods counted, other pods named; finished pods are left out.
#[derive(Debug, Default, PartialEq, Eq)]
struct Census {
    ready: usize,
    /// Being deleted: neither Ready nor not Ready for `Available`.
    terminating: usize,
    /// Names of the pods that are neither Ready, terminating nor finished.
    not_ready: Vec<String>,
}

impl Census {
    /// "1 of 3 pods Ready (1 terminating ignored); not Ready: web-b, web-c": terminating
    /// pods are not in the total.
    fn describe(&self) -> String {
        let total = self.ready + self.not_ready.len();
        let mut names: Vec<String> = self.not_ready.iter().take(NAMED_PODS).cloned().collect();
        if self.not_ready.len() > NAMED_PODS {
            names.push(format!("and {} more", self.not_ready.len() - NAMED_PODS));
        }
        format!(
            "{} of {total} pods Ready{}; not Ready: {}",
            self.ready,
            self.ignored(),
            names.join(", ")
        )
    }

    /// "3 pods Ready", or "3 pods Ready (1 terminating ignored)".
    fn summary(&self) -> String {
        format!("{} pods Ready{}", self.ready, self.ignored())
    }

    fn ignored(&self) -> String {
        match self.terminating {
            0 => String::new(),
            n => format!(" ({n} terminating ignored)"),
        }
    }
}

fn census(pods: &[Value]) -> Census {
    let mut census = Census::default();
    for pod in pods {
        match pod_state(pod) {
            PodState::Ready => census.ready += 1,
            PodState::Terminating => census.terminating += 1,
            PodState::Finished => {}
            PodState::NotReady => {
                let name = pod["metadata"]["name"].as_str().unwrap_or("<unnamed>");
                census.not_ready.push(name.to_owned());
            }
        }
    }
    census
}

#[derive(Debug, PartialEq, Eq)]
enum PodSelectorError {
    Missing,
    Invalid(String),
}

/// A workload's pod selector: a LabelSelector (apps kinds, Jobs), or a plain map of labels
/// (Services, ReplicationControllers).
fn pod_selector(workload: &Value) -> Result<LabelSelector, PodSelectorError> {
    let selector = &workload["spec"]["selector"];
    let Some(map) = selector.as_object() else {
        return Err(PodSelectorError::Missing);
    };
    if map.contains_key("matchLabels") || map.contains_key("matchExpressions") {
        return serde_json::from_value(selector.clone())
            .map_err(|e| PodSelectorError::Invalid(e.to_string()));
    }
    let labels = serde_json::from_value(selector.clone())
        .map_err(|e| PodSelectorError::Invalid(e.to_string()))?;
    Ok(LabelSelector {
        match_labels: Some(labels),
        match_expressions: None,
    })
}

/// One step of a JSONPath: a field or an array index (negative counts from the end).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(i64),
}

/// Why a jsonPath cannot be used.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid jsonPath {path:?}: {reason}")]
struct JsonPathError {
    path: String,
    reason: String,
}

/// Parses the subset of kubectl's JSONPath that names one value: `{.a.b}`, `{.a[0].b}`,
/// `{.a[-1]}`, `{.metadata.labels.app\.kubernetes\.io/name}` and `{.metadata.labels['app']}`.
/// The braces and a leading `$` are optional; `{.}` is the whole object.
fn parse_json_path(path: &str) -> Result<Vec<Step>, JsonPathError> {
    let fail = |reason: &str| JsonPathError {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    let mut text = path.trim();
    if let Some(inner) = text.strip_prefix('{') {
        text = inner
            .strip_suffix('}')
            .ok_or_else(|| fail("missing closing }"))?;
    }
    let text = text.trim();
    let text = text.strip_prefix('$').unwrap_or(text);
    if text.is_empty() {
        return Err(fail(
            "the path is empty; write it like {.status.readyReplicas}",
        ));
    }
    if text == "." {
        return Ok(Vec::new());
    }
    if text.contains("..") {
        return Err(fail("recursive descent (..) is not supported"));
    }
    let chars: Vec<char> = text.chars().collect();
    let mut steps = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '[' => {
                let close = chars[i..]
                    .iter()
                    .position(|&c| c == ']')
                    .map(|offset| i + offset)
                    .ok_or_else(|| fail("missing closing ]"))?;
                let inside: String = chars[i + 1..close].iter().collect();
                steps.push(parse_bracket(inside.trim()).map_err(|reason| fail(&reason))?);
                i = close + 1;
            }
            c => {
                // A field: after a dot, or at the very start (kubectl needs the dot; we forgive).
                if c == '.' {
                    i += 1;
                } else if i != 0 {
                    return Err(fail("expected . or [ between steps"));
                }
                let mut key = String::new();
                while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                    if chars[i] == ']' {
                        return Err(fail("unexpected ] outside brackets"));
                    }
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        i += 1;
                    }
                    key.push(chars[i]);
                    i += 1;
                }
                if key.is_empty() {
                    return Err(fail("a field name is empty"));
                }
                if key == "*" {
                    return Err(fail(
                        "wildcards are not supported; the path must name one value",
                    ));
                }
                steps.push(Step::Key(key));
            }
        }
    }
    Ok(steps)
}

fn parse_bracket(inside: &str) -> Result<Step, String> {
    for quote in ['\'', '"'] {
        if let Some(key) = inside
            .strip_prefix(quote)
            .and_then(|rest| rest.strip_suffix(quote))
        {
            return Ok(Step::Key(key.to_owned()));
        }
    }
    if inside == "*" {
        return Err("wildcards are not supported; the path must name one value".into());
    }
    if inside.starts_with('?') || inside.contains(':') {
        return Err(format!("[{inside}]: filters and slices are not supported"));
    }
    inside
        .parse::<i64>()
        .map(Step::Index)
        .map_err(|_| format!("[{inside}] is neither an index nor a quoted field name"))
}

/// The value the path names, or `None` when it is missing (or null).
fn eval_json_path<'a>(value: &'a Value, steps: &[Step]) -> Option<&'a Value> {
    let found = steps.iter().try_fold(value, |current, step| match step {
        Step::Key(key) => current.as_object()?.get(key),
        Step::Index(index) => {
            let items = current.as_array()?;
            let len = i64::try_from(items.len()).ok()?;
            let position = if *index < 0 { len + index } else { *index };
            items.get(usize::try_from(position).ok()?)
        }
    })?;
    (!found.is_null()).then_some(found)
}

/// A value as text for a comparator: strings bare, everything else as JSON.
fn render_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ComparatorOp;
    use crate::probes::test_support::{context, serve, text_response};
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    use serde_json::json;

    /// Deployment shop/web wanting 3 replicas, with these counters and Available condition.
    fn deployment(available: i64, updated: i64, condition: &str) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "generation": 2},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}},
            "status": {
                "observedGeneration": 2, "replicas": 3,
                "readyReplicas": available, "updatedReplicas": updated,
                "availableReplicas": available,
                "conditions": [
                    {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
                    {"type": "Available", "status": condition, "reason": "MinimumReplicasAvailable"}
                ]
            }
        })
    }

    fn pod(name: &str, ready: bool) -> Value {
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "shop", "labels": {"app": "web"}},
            "status": {"phase": "Running", "conditions": [
                {"type": "PodScheduled", "status": "True"},
                if ready {
                    json!({"type": "Ready", "status": "True"})
                } else {
                    json!({"type": "Ready", "status": "False", "reason": "ContainersNotReady"})
                }
            ]}
        })
    }

    /// A pod the pod-delete fault has deleted, waiting out its grace period: not Ready.
    fn terminating(name: &str) -> Value {
        let mut pod = pod(name, false);
        pod["metadata"]["deletionTimestamp"] = json!("2025-01-01T00:00:00Z");
        pod
    }

    fn found(kind: &str, objects: Vec<Value>) -> Found {
        Found {
            kind: kind.into(),
            description: format!("{kind} objects in shop matching \"app=web\""),
            objects,
        }
    }

    fn comparator(op: ComparatorOp, value: &str) -> Comparator {
        Comparator {
            op,
            value: IntOrString::String(value.into()),
        }
    }

    #[test]
    fn api_versions_split_into_group_and_version() {
        assert_eq!(split_api_version("apps/v1").unwrap(), ("apps", "v1"));
        assert_eq!(split_api_version("v1").unwrap(), ("", "v1"));
        for bad in ["", "/v1", "apps/", "a/b/c"] {
            assert!(split_api_version(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_rolled_out_deployment_is_available() {
        assert_eq!(
            workload_status(Workload::Deployment, &deployment(3, 3, "True")),
            Ok("3 of 3 replicas available".into())
        );
        // Mid-rollout, with a surge pod, more than the desired count may be available.
        assert!(workload_status(Workload::Deployment, &deployment(4, 3, "True")).is_ok());
    }

    #[test]
    fn a_deployment_short_of_available_replicas_is_not_available() {
        let err = workload_status(Workload::Deployment, &deployment(2, 3, "True")).unwrap_err();
        assert_eq!(
            err,
            "status.availableReplicas is 2, short of spec.replicas 3"
        );
        let err = workload_status(Workload::Deployment, &deployment(3, 2, "True")).unwrap_err();
        assert_eq!(err, "status.updatedReplicas is 2, short of spec.replicas 3");
        let err = workload_status(Workload::Deployment, &deployment(3, 3, "False")).unwrap_err();
        assert_eq!(
            err,
            "condition Available is False (MinimumReplicasAvailable)"
        );
        let mut no_condition = deployment(3, 3, "True");
        no_condition["status"]["conditions"] = json!([]);
        let err = workload_status(Workload::Deployment, &no_condition).unwrap_err();
        assert_eq!(err, "it has no Available condition yet");
        let mut stale = deployment(3, 3, "True");
        stale["metadata"]["generation"] = json!(3);
        let err = workload_status(Workload::Deployment, &stale).unwrap_err();
        assert_eq!(
            err,
            "status.observedGeneration 2 is behind metadata.generation 3: \
             its controller has not yet acted on the latest spec"
        );
    }

    #[test]
    fn a_deployment_whose_only_unready_pod_is_terminating_is_available() {
        // 3 of 3 available while the pod the fault deleted waits out its grace period.
        let counters = workload_status(Workload::Deployment, &deployment(3, 3, "True")).unwrap();
        let pods = [
            pod("web-a", true),
            pod("web-b", true),
            pod("web-new", true),
            terminating("web-c"),
        ];
        assert_eq!(
            pods_ready(&counters, &pods),
            Ok("3 of 3 replicas available; 3 pods Ready (1 terminating ignored)".into())
        );
    }

    #[test]
    fn a_pod_that_is_not_ready_and_not_terminating_still_counts() {
        let counters = workload_status(Workload::Deployment, &deployment(3, 3, "True")).unwrap();
        let pods = [
            pod("web-a", true),
            pod("web-b", true),
            pod("web-new", false),
            terminating("web-c"),
        ];
        assert_eq!(
            pods_ready(&counters, &pods),
            Err("2 of 3 pods Ready (1 terminating ignored); not Ready: web-new".into())
        );
    }

    #[test]
    fn statefulsets_and_replicasets_count_available_replicas() {
        let sts = |ready: i64, available: i64| {
            json!({
                "metadata": {"generation": 1},
                "spec": {"replicas": 3},
                "status": {"observedGeneration": 1, "replicas": 3,
                           "readyReplicas": ready, "availableReplicas": available}
            })
        };
        assert_eq!(
            workload_status(Workload::StatefulSet, &sts(3, 3)),
            Ok("3 of 3 replicas available".into())
        );
        // Ready but not yet available for minReadySeconds.
        assert_eq!(
            workload_status(Workload::StatefulSet, &sts(3, 2)),
            Err("status.availableReplicas is 2, short of spec.replicas 3".into())
        );
        let counters = workload_status(Workload::StatefulSet, &sts(3, 3)).unwrap();
        let pods = [pod("db-0", true), pod("db-1", true), pod("db-2", true)];
        assert!(pods_ready(&counters, &pods).is_ok());
        let rs =
            json!({"metadata": {}, "spec": {"replicas": 2}, "status": {"availableReplicas": 1}});
        assert_eq!(
            workload_status(Workload::ReplicaSet, &rs),
            Err("status.availableReplicas is 1, short of spec.replicas 2".into())
        );
        // Without spec.replicas one is wanted.
        let default = json!({"metadata": {}, "spec": {}, "status": {"availableReplicas": 1}});
        assert!(workload_status(Workload::StatefulSet, &default).is_ok());
    }

    #[test]
    fn daemonsets_count_available_pods_against_desired_scheduled() {
        let ds = |ready: i64, available: i64| {
            json!({"metadata": {}, "status": {
                "desiredNumberScheduled": 5, "numberReady": ready, "numberAvailable": available
            }})
        };
        assert_eq!(
            workload_status(Workload::DaemonSet, &ds(5, 4)),
            Err("status.numberAvailable is 4, short of status.desiredNumberScheduled 5".into())
        );
        let counters = workload_status(Workload::DaemonSet, &ds(5, 5)).unwrap();
        assert_eq!(counters, "5 of 5 scheduled pods available");
        let pods = [
            pod("agent-a", true),
            pod("agent-b", true),
            terminating("agent-old"),
        ];
        assert_eq!(
            pods_ready(&counters, &pods),
            Ok("5 of 5 scheduled pods available; 2 pods Ready (1 terminating ignored)".into())
        );
    }

    #[test]
    fn a_pod_is_available_when_ready_and_not_terminating() {
        assert_eq!(
            workload_status(Workload::Pod, &pod("a", true)),
            Ok("condition Ready is True".into())
        );
        assert_eq!(
            workload_status(Workload::Pod, &pod("a", false)),
            Err("condition Ready is False (ContainersNotReady)".into())
        );
        let mut going = pod("a", true);
        going["metadata"]["deletionTimestamp"] = json!("2025-01-01T00:00:00Z");
        assert_eq!(
            workload_status(Workload::Pod, &going),
            Err("it is terminating (metadata.deletionTimestamp is set)".into())
        );
        let mut done = pod("a", true);
        done["status"]["phase"] = json!("Succeeded");
        assert_eq!(
            workload_status(Workload::Pod, &done),
            Err("it has finished (status.phase is Succeeded)".into())
        );
        assert_eq!(
            workload_status(Workload::Pod, &json!({"metadata": {"name": "new"}})),
            Err("it has no Ready condition yet".into())
        );
    }

    #[test]
    fn pod_readiness_comes_from_the_ready_condition_and_deletion() {
        assert_eq!(pod_state(&pod("a", true)), PodState::Ready);
        assert_eq!(pod_state(&pod("a", false)), PodState::NotReady);
        let mut terminating = pod("a", true);
        terminating["metadata"]["deletionTimestamp"] = json!("2025-01-01T00:00:00Z");
        assert_eq!(pod_state(&terminating), PodState::Terminating);
        let mut done = pod("a", false);
        done["status"]["phase"] = json!("Succeeded");
        assert_eq!(pod_state(&done), PodState::Finished);
        assert_eq!(
            pod_state(&json!({"metadata": {"name": "new"}})),
            PodState::NotReady
        );
    }

    #[test]
    fn a_census_counts_ready_and_terminating_pods_and_names_the_rest() {
        let mut evicted = pod("web-old", false);
        evicted["status"]["phase"] = json!("Failed");
        let mut pods = vec![
            pod("web-a", true),
            pod("web-b", false),
            terminating("web-c"),
            evicted,
        ];
        let first = census(&pods);
        assert_eq!((first.ready, first.terminating), (1, 1));
        assert_eq!(
            first.describe(),
            "1 of 2 pods Ready (1 terminating ignored); not Ready: web-b"
        );
        pods.extend(["web-d", "web-e", "web-f"].map(|name| pod(name, false)));
        assert_eq!(
            census(&pods).describe(),
            "1 of 5 pods Ready (1 terminating ignored); not Ready: web-b, web-d, web-e, and 1 more"
        );
    }

    /// `available` end to end, the pods listed by a stand-in API server.
    async fn available_with_pods(workload: Value, pods: Vec<Value>) -> Outcome {
        let list = json!({"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": pods});
        let body = list.to_string();
        let server = serve(move |request| {
            let listing = request.uri().path() == "/api/v1/namespaces/shop/pods"
                && request
                    .uri()
                    .query()
                    .is_some_and(|q| q.contains("labelSelector=app%3Dweb"));
            let body = body.clone();
            async move {
                if listing {
                    text_response(200, &body)
                } else {
                    text_response(404, "{}")
                }
            }
        })
        .await;
        let mut ctx = context();
        let config = kube::Config::new(server.url("").parse().expect("a valid URL"));
        ctx.client = kube::Client::try_from(config).expect("a client");
        let resource = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("apps", "v1", "Deployment"),
            "deployments",
        );
        let found = found("Deployment", vec![workload]);
        available(&found, &resource, &ctx).await.expect("evaluated")
    }

    #[tokio::test]
    async fn available_ignores_the_pod_the_fault_deleted() {
        let pods = vec![
            pod("web-a", true),
            pod("web-b", true),
            pod("web-new", true),
            terminating("web-c"),
        ];
        assert_eq!(
            available_with_pods(deployment(3, 3, "True"), pods.clone()).await,
            Outcome::Passed(
                "Deployment shop/web is available: 3 of 3 replicas available; \
                 3 pods Ready (1 terminating ignored)"
                    .into()
            )
        );
        let mut new_pod_not_ready = pods.clone();
        new_pod_not_ready[2] = pod("web-new", false);
        assert_eq!(
            available_with_pods(deployment(3, 3, "True"), new_pod_not_ready).await,
            Outcome::Failed(
                "Deployment shop/web is not available: \
                 2 of 3 pods Ready (1 terminating ignored); not Ready: web-new"
                    .into()
            )
        );
        assert_eq!(
            available_with_pods(deployment(2, 3, "True"), pods).await,
            Outcome::Failed(
                "Deployment shop/web is not available: \
                 status.availableReplicas is 2, short of spec.replicas 3"
                    .into()
            )
        );
    }

    #[test]
    fn pod_selectors_come_from_label_selectors_or_plain_maps() {
        let selector = pod_selector(&deployment(3, 3, "True")).unwrap();
        assert_eq!(selector::render(&selector).unwrap(), "app=web");
        let service = json!({"spec": {"selector": {"app": "web", "tier": "front"}}});
        let selector = pod_selector(&service).unwrap();
        assert_eq!(selector::render(&selector).unwrap(), "app=web,tier=front");
        assert_eq!(
            pod_selector(&json!({"spec": {}})),
            Err(PodSelectorError::Missing)
        );
    }

    #[test]
    fn json_paths_parse_fields_indexes_and_escapes() {
        use Step::{Index, Key};
        assert_eq!(
            parse_json_path("{.status.readyReplicas}").unwrap(),
            vec![Key("status".into()), Key("readyReplicas".into())]
        );
        assert_eq!(
            parse_json_path("{.status.conditions[0].type}").unwrap(),
            vec![
                Key("status".into()),
                Key("conditions".into()),
                Index(0),
                Key("type".into())
            ]
        );
        assert_eq!(
            parse_json_path(r"{.metadata.labels.app\.kubernetes\.io/name}").unwrap(),
            vec![
                Key("metadata".into()),
                Key("labels".into()),
                Key("app.kubernetes.io/name".into())
            ]
        );
        assert_eq!(
            parse_json_path("$.metadata.annotations['a.b/c'][-1]").unwrap(),
            vec![
                Key("metadata".into()),
                Key("annotations".into()),
                Key("a.b/c".into()),
                Index(-1)
            ]
        );
        assert_eq!(parse_json_path("{.}").unwrap(), vec![]);
    }

    #[test]
    fn json_paths_outside_the_subset_are_refused() {
        for bad in [
            "{}",
            "{.status",
            "{.items[*].name}",
            "{.items[?(@.x)]}",
            "{.a[1:2]}",
            "{..name}",
            "{.a[x]}",
            "{.a.}",
            "{.a]b}",
        ] {
            assert!(parse_json_path(bad).is_err(), "{bad}");
        }
        let err = parse_json_path("{.items[*].name}").unwrap_err();
        assert!(
            err.to_string().contains("wildcards are not supported"),
            "{err}"
        );
    }

    #[test]
    fn json_paths_evaluate_on_objects() {
        let object = deployment(3, 3, "True");
        let eval =
            |path: &str| eval_json_path(&object, &parse_json_path(path).unwrap()).map(render_value);
        assert_eq!(eval("{.status.readyReplicas}").as_deref(), Some("3"));
        assert_eq!(
            eval("{.status.conditions[1].type}").as_deref(),
            Some("Available")
        );
        assert_eq!(
            eval("{.status.conditions[-1].status}").as_deref(),
            Some("True")
        );
        assert_eq!(
            eval("{.spec.selector.matchLabels}").as_deref(),
            Some(r#"{"app":"web"}"#)
        );
        assert_eq!(eval("{.status.conditions[5].type}"), None);
        assert_eq!(eval("{.status.missing}"), None);
        assert_eq!(eval("{.metadata.name.deeper}"), None);
    }

    #[test]
    fn every_object_must_satisfy_the_json_path() {
        let path = "{.status.readyReplicas}";
        let steps = parse_json_path(path).unwrap();
        let ge3 = comparator(ComparatorOp::Ge, "3");
        let one = found("Deployment", vec![deployment(3, 3, "True")]);
        assert_eq!(
            json_path_outcome(&one, path, &steps, &ge3),
            Outcome::Passed("Deployment shop/web: {.status.readyReplicas} is 3 (>= 3)".into())
        );
        let two = found(
            "Deployment",
            vec![deployment(3, 3, "True"), deployment(2, 3, "True")],
        );
        assert_eq!(
            json_path_outcome(&two, path, &steps, &ge3),
            Outcome::Failed(
                "Deployment shop/web: {.status.readyReplicas} is 2, expected >= 3".into()
            )
        );
        let none = found("Deployment", vec![]);
        assert!(matches!(
            json_path_outcome(&none, path, &steps, &ge3),
            Outcome::Failed(m) if m.ends_with("none found")
        ));
    }

    #[test]
    fn a_missing_path_fails_and_says_so() {
        let path = "{.status.nothing}";
        let steps = parse_json_path(path).unwrap();
        let outcome = json_path_outcome(
            &found("Deployment", vec![deployment(3, 3, "True")]),
            path,
            &steps,
            &comparator(ComparatorOp::Eq, "1"),
        );
        assert_eq!(
            outcome,
            Outcome::Failed("Deployment shop/web: path {.status.nothing} not found".into())
        );
    }

    #[test]
    fn a_comparison_that_cannot_be_made_is_unknown() {
        let path = "{.metadata.name}";
        let steps = parse_json_path(path).unwrap();
        let outcome = json_path_outcome(
            &found("Deployment", vec![deployment(3, 3, "True")]),
            path,
            &steps,
            &comparator(ComparatorOp::Gt, "1"),
        );
        assert!(matches!(outcome, Outcome::Unknown(m) if m.contains("not a number")));
    }

    #[test]
    fn presence_and_absence_count_objects() {
        let none = found("Pod", vec![]);
        let some = found("Pod", vec![pod("a", true)]);
        assert!(presence(&some, true).is_passed());
        assert!(!presence(&none, true).is_passed());
        assert!(presence(&none, false).is_passed());
        assert_eq!(
            presence(&some, false),
            Outcome::Failed(
                "Pod objects in shop matching \"app=web\": expected absent, 1 present".into()
            )
        );
    }

    #[test]
    fn available_knows_the_workload_kinds() {
        let resource = |group: &str, kind: &str| ApiResource {
            group: group.into(),
            version: "v1".into(),
            api_version: if group.is_empty() {
                "v1".into()
            } else {
                format!("{group}/v1")
            },
            kind: kind.into(),
            plural: format!("{}s", kind.to_lowercase()),
        };
        assert_eq!(
            Workload::of(&resource("apps", "Deployment")),
            Some(Workload::Deployment)
        );
        assert_eq!(Workload::of(&resource("", "Pod")), Some(Workload::Pod));
        assert_eq!(Workload::of(&resource("batch", "Job")), None);
        assert_eq!(Workload::of(&resource("example.com", "Deployment")), None);
    }
}
