//! Cmd probes: a command run in a short-lived probe pod, judged by its exit code and output.
//!
//! The pod is locked down (non-root, read-only root filesystem, no capabilities, no
//! ServiceAccount token) and always deleted afterwards, also when the check is abandoned: a
//! guard deletes it on drop. Its `activeDeadlineSeconds` and owner reference are the
//! backstops should the operator die first.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use k8s_openapi::{
    api::core::v1::{Container, EmptyDirVolumeSource, Pod, PodSpec, Volume, VolumeMount},
    apimachinery::pkg::{
        api::resource::Quantity,
        apis::meta::v1::{ObjectMeta, OwnerReference},
    },
};
use kube::{
    Api,
    api::{DeleteParams, LogParams, PostParams},
};
use rand::Rng;

use super::{
    Outcome, Probe, ProbeContext,
    comparator::{compare, describe},
    kube_message,
};
use crate::api::{CmdExpect, CmdProbe, EXPERIMENT_LABEL, RESULT_LABEL, RunProperties};

/// Time a probe pod gets to be scheduled and start, on top of the probe's timeout.
pub const POD_START_SLACK: Duration = Duration::from_secs(30);
/// Time for reading the logs and deleting the pod once the command is done.
pub(crate) const CLEANUP_SLACK: Duration = Duration::from_secs(10);
/// How often the pod is looked at while it runs.
const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// The most output read from the pod's log.
const OUTPUT_LIMIT: i64 = 1 << 20;
/// The probe container's name.
const CONTAINER: &str = "probe";
/// The label that marks probe pods among the pods of a run.
const COMPONENT_LABEL: &str = "app.kubernetes.io/component";
/// Waiting reasons after which the container will not start without someone's help.
const CANNOT_START: &[&str] = &[
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
    "CreateContainerConfigError",
    "CreateContainerError",
];

impl Probe for CmdProbe {
    /// Runs with the default timeout (5s); [`super::check_once`] passes the probe's own.
    async fn check(&self, ctx: &ProbeContext) -> Outcome {
        run(self, ctx, RunProperties::default().timeout.as_std()).await
    }
}

/// Runs the command in a probe pod in `ctx.namespace`; `timeout` bounds the command once its
/// container runs, and [`POD_START_SLACK`] more is allowed for the pod to start.
pub(crate) async fn run(probe: &CmdProbe, ctx: &ProbeContext, timeout: Duration) -> Outcome {
    let name = pod_name(&ctx.labels, &mut rand::rng());
    let settings = PodSettings {
        namespace: &ctx.namespace,
        default_image: &ctx.default_image,
        owner: ctx.owner.as_ref(),
        labels: &ctx.labels,
        deadline: timeout + POD_START_SLACK,
    };
    let pod = probe_pod(probe, &name, &settings);
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ctx.namespace);
    // Armed before the create call: a create that times out may still have made the pod.
    let guard = PodGuard {
        api: api.clone(),
        name: name.clone(),
        armed: true,
    };
    let outcome = run_pod(&api, &pod, &name, &probe.expect, timeout).await;
    guard.delete().await;
    outcome
}

async fn run_pod(
    api: &Api<Pod>,
    pod: &Pod,
    name: &str,
    expect: &CmdExpect,
    timeout: Duration,
) -> Outcome {
    if let Err(e) = api.create(&PostParams::default(), pod).await {
        return Outcome::Unknown(format!("create probe pod {name}: {}", kube_message(&e)));
    }
    let exit_code = match wait_for_exit(api, name, timeout).await {
        Ok(code) => code,
        Err(outcome) => return outcome,
    };
    let params = LogParams {
        container: Some(CONTAINER.into()),
        limit_bytes: Some(OUTPUT_LIMIT),
        ..LogParams::default()
    };
    let output = match api.logs(name, &params).await {
        Ok(output) => output,
        Err(e) if expect.output.is_some() => {
            return Outcome::Unknown(format!(
                "read the output of probe pod {name}: {}",
                kube_message(&e)
            ));
        }
        // The output is only for the message here; its loss changes no verdict.
        Err(_) => String::new(),
    };
    evaluate(expect, exit_code, &output)
}

/// Polls the pod until its container exits; anything else ends as the outcome to report.
async fn wait_for_exit(api: &Api<Pod>, name: &str, timeout: Duration) -> Result<i32, Outcome> {
    let started = Instant::now();
    let mut running_since: Option<Instant> = None;
    let mut last_hint = String::new();
    loop {
        match api.get_opt(name).await {
            Ok(Some(pod)) => match progress(&pod) {
                Progress::Exited(code) => return Ok(code),
                Progress::CannotStart(why) => {
                    return Err(Outcome::Unknown(format!(
                        "probe pod {name} cannot start: {why}"
                    )));
                }
                Progress::DeadlineExceeded => return Err(timed_out(timeout)),
                Progress::Lost(why) => {
                    return Err(Outcome::Unknown(format!("probe pod {name} failed: {why}")));
                }
                Progress::Running => {
                    running_since.get_or_insert_with(Instant::now);
                }
                Progress::Starting(hint) => last_hint = hint,
            },
            Ok(None) => {
                return Err(Outcome::Unknown(format!(
                    "probe pod {name} was deleted before its command finished"
                )));
            }
            Err(e) => last_hint = kube_message(&e),
        }
        match running_since {
            Some(since) if since.elapsed() > timeout => return Err(timed_out(timeout)),
            None if started.elapsed() > timeout + POD_START_SLACK => {
                let hint = if last_hint.is_empty() {
                    String::new()
                } else {
                    format!(" ({last_hint})")
                };
                return Err(Outcome::Unknown(format!(
                    "probe pod {name} did not start within {}{hint}",
                    crate::api::Duration(timeout + POD_START_SLACK)
                )));
            }
            _ => {}
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

fn timed_out(timeout: Duration) -> Outcome {
    Outcome::Failed(format!("timed out after {}", crate::api::Duration(timeout)))
}

/// Where a probe pod stands.
#[derive(Debug, PartialEq, Eq)]
enum Progress {
    /// Not running yet; the text says why when the pod says so.
    Starting(String),
    Running,
    Exited(i32),
    /// Stuck in a state that needs someone's help, e.g. ImagePullBackOff.
    CannotStart(String),
    /// Killed by its activeDeadlineSeconds.
    DeadlineExceeded,
    /// Failed without its container saying how, e.g. evicted.
    Lost(String),
}

fn progress(pod: &Pod) -> Progress {
    let Some(status) = pod.status.as_ref() else {
        return Progress::Starting(String::new());
    };
    let state = status
        .container_statuses
        .as_ref()
        .and_then(|cs| cs.iter().find(|c| c.name == CONTAINER).or(cs.first()))
        .and_then(|c| c.state.as_ref());
    if let Some(state) = state {
        if let Some(terminated) = &state.terminated {
            return Progress::Exited(terminated.exit_code);
        }
        if state.running.is_some() {
            return Progress::Running;
        }
        if let Some(waiting) = &state.waiting
            && let Some(reason) = &waiting.reason
        {
            let why = match &waiting.message {
                Some(message) => format!("{reason}: {message}"),
                None => reason.clone(),
            };
            if CANNOT_START.contains(&reason.as_str()) {
                return Progress::CannotStart(why);
            }
            return Progress::Starting(why);
        }
    }
    if status.phase.as_deref() == Some("Failed") {
        let reason = status.reason.clone().unwrap_or_default();
        if reason == "DeadlineExceeded" {
            return Progress::DeadlineExceeded;
        }
        let message = status.message.clone().unwrap_or_default();
        return Progress::Lost(format!("{reason} {message}").trim().to_owned());
    }
    // Not yet scheduled, e.g. "Unschedulable: 0/3 nodes are available".
    let unscheduled = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "PodScheduled" && c.status == "False");
    match unscheduled {
        Some(c) => Progress::Starting(format!(
            "{}: {}",
            c.reason.as_deref().unwrap_or("not scheduled"),
            c.message.as_deref().unwrap_or("")
        )),
        None => Progress::Starting(String::new()),
    }
}

/// Judges the command: the exit code (0 unless the spec says otherwise or only checks the
/// output), then the trimmed output against the comparator.
fn evaluate(expect: &CmdExpect, exit_code: i32, output: &str) -> Outcome {
    let required_code = match (expect.exit_code, &expect.output) {
        (Some(code), _) => Some(code),
        (None, None) => Some(0),
        (None, Some(_)) => None,
    };
    let output = output.trim();
    if let Some(required) = required_code
        && exit_code != required
    {
        let last_line = output.lines().last().unwrap_or_default();
        let said = if last_line.is_empty() {
            String::new()
        } else {
            format!("; last output line: {:?}", shorten(last_line))
        };
        return Outcome::Failed(format!("exit code {exit_code}, expected {required}{said}"));
    }
    let Some(comparator) = &expect.output else {
        return Outcome::Passed(format!("exit code {exit_code}"));
    };
    match compare(output, comparator) {
        Ok(true) => Outcome::Passed(format!(
            "exit code {exit_code}, output {:?} ({})",
            shorten(output),
            describe(comparator)
        )),
        Ok(false) => Outcome::Failed(format!(
            "output {:?}, expected {}",
            shorten(output),
            describe(comparator)
        )),
        Err(e) => Outcome::Unknown(format!("output {:?}: {e}", shorten(output))),
    }
}

/// At most 200 characters of `text`, for messages.
fn shorten(text: &str) -> String {
    const MAX: usize = 200;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// `<prefix>-<5 random characters>`: the prefix is `<result>-probe` (or `<experiment>-probe`)
/// when the labels name one, otherwise `faultline-probe`.
fn pod_name(labels: &BTreeMap<String, String>, rng: &mut impl Rng) -> String {
    // Kubernetes' own generateName alphabet: no vowels, so no words.
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    // 63 (a DNS label, the pod's hostname) less the dash and the suffix.
    const MAX_PREFIX: usize = 57;
    let prefix = labels
        .get(RESULT_LABEL)
        .or_else(|| labels.get(EXPERIMENT_LABEL))
        .map(|owner| dns_label(&format!("{owner}-probe"), MAX_PREFIX))
        .filter(|prefix| !prefix.is_empty())
        .unwrap_or_else(|| "faultline-probe".to_owned());
    let suffix: String = (0..5)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("{prefix}-{suffix}")
}

/// `text` made a valid DNS label of at most `max` characters.
fn dns_label(text: &str, max: usize) -> String {
    let cleaned: String = text
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(max)
        .collect();
    cleaned.trim_matches('-').to_owned()
}

/// What a probe pod takes from its context.
struct PodSettings<'a> {
    namespace: &'a str,
    default_image: &'a str,
    owner: Option<&'a OwnerReference>,
    labels: &'a BTreeMap<String, String>,
    /// The pod's activeDeadlineSeconds: the kubelet kills it past this.
    deadline: Duration,
}

/// The probe pod: the command in a locked-down container that cannot restart.
fn probe_pod(probe: &CmdProbe, name: &str, settings: &PodSettings<'_>) -> Pod {
    let mut labels = settings.labels.clone();
    labels.insert(COMPONENT_LABEL.into(), "probe".into());
    let image = probe
        .image
        .clone()
        .unwrap_or_else(|| settings.default_image.to_owned());
    let whole_seconds =
        settings.deadline.as_secs() + u64::from(settings.deadline.subsec_nanos() > 0);
    let deadline = i64::try_from(whole_seconds).unwrap_or(i64::MAX);
    Pod {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(settings.namespace.to_owned()),
            labels: Some(labels),
            owner_references: settings.owner.map(|owner| vec![owner.clone()]),
            ..ObjectMeta::default()
        },
        spec: Some(PodSpec {
            restart_policy: Some("Never".into()),
            automount_service_account_token: Some(false),
            active_deadline_seconds: Some(deadline.max(1)),
            termination_grace_period_seconds: Some(0),
            security_context: Some(crate::podsec::restricted_pod()),
            containers: vec![Container {
                name: CONTAINER.into(),
                image: Some(image),
                image_pull_policy: Some("IfNotPresent".into()),
                command: Some(probe.command.clone()),
                args: (!probe.args.is_empty()).then(|| probe.args.clone()),
                termination_message_policy: Some("FallbackToLogsOnError".into()),
                security_context: Some(crate::podsec::restricted_container()),
                // The root filesystem is read-only; many commands still want a scratch /tmp.
                volume_mounts: Some(vec![VolumeMount {
                    name: "tmp".into(),
                    mount_path: "/tmp".into(),
                    ..VolumeMount::default()
                }]),
                ..Container::default()
            }],
            volumes: Some(vec![Volume {
                name: "tmp".into(),
                empty_dir: Some(EmptyDirVolumeSource {
                    size_limit: Some(Quantity("16Mi".into())),
                    ..EmptyDirVolumeSource::default()
                }),
                ..Volume::default()
            }]),
            ..PodSpec::default()
        }),
        ..Pod::default()
    }
}

/// Deletes the probe pod when dropped unless [`PodGuard::delete`] already did.
struct PodGuard {
    api: Api<Pod>,
    name: String,
    armed: bool,
}

impl PodGuard {
    async fn delete(mut self) {
        self.armed = false;
        delete_pod(&self.api, &self.name).await;
    }
}

impl Drop for PodGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let api = self.api.clone();
                let name = std::mem::take(&mut self.name);
                runtime.spawn(async move { delete_pod(&api, &name).await });
            }
            Err(_) => tracing::warn!(
                pod = %self.name,
                "no runtime to delete the probe pod; its deadline and owner will collect it"
            ),
        }
    }
}

async fn delete_pod(api: &Api<Pod>, name: &str) {
    match api
        .delete(name, &DeleteParams::background().grace_period(0))
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(status)) if status.code == 404 => {}
        Err(e) => tracing::warn!(
            pod = name,
            error = %kube_message(&e),
            "could not delete the probe pod; its deadline and owner will collect it"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Comparator, ComparatorOp};
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    use rand::{SeedableRng, rngs::SmallRng};
    use serde_json::json;

    fn probe() -> CmdProbe {
        CmdProbe {
            image: None,
            command: vec!["sh".into(), "-c".into()],
            args: vec!["curl -sf http://web/health".into()],
            expect: CmdExpect::default(),
        }
    }

    fn owner() -> OwnerReference {
        OwnerReference {
            api_version: "chaos.faultline.dev/v1alpha1".into(),
            kind: "ChaosResult".into(),
            name: "web-chaos-1".into(),
            uid: "0f6e7c1e-0000-4000-8000-000000000001".into(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }
    }

    fn output(op: ComparatorOp, value: &str) -> Option<Comparator> {
        Some(Comparator {
            op,
            value: IntOrString::String(value.into()),
        })
    }

    #[test]
    fn the_pod_is_locked_down_and_runs_the_command() {
        let labels = BTreeMap::from([(RESULT_LABEL.to_owned(), "web-chaos-1".to_owned())]);
        let owner = owner();
        let settings = PodSettings {
            namespace: "shop",
            default_image: "ghcr.io/faultline/faultline:0.1.0",
            owner: Some(&owner),
            labels: &labels,
            deadline: Duration::from_millis(35_500),
        };
        let pod = serde_json::to_value(probe_pod(&probe(), "web-chaos-1-probe-x7k2p", &settings))
            .unwrap();
        assert_eq!(
            pod,
            json!({
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": "web-chaos-1-probe-x7k2p",
                    "namespace": "shop",
                    "labels": {
                        "app.kubernetes.io/component": "probe",
                        "chaos.faultline.dev/result": "web-chaos-1"
                    },
                    "ownerReferences": [{
                        "apiVersion": "chaos.faultline.dev/v1alpha1",
                        "kind": "ChaosResult",
                        "name": "web-chaos-1",
                        "uid": "0f6e7c1e-0000-4000-8000-000000000001",
                        "controller": true,
                        "blockOwnerDeletion": true
                    }]
                },
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": false,
                    "activeDeadlineSeconds": 36,
                    "terminationGracePeriodSeconds": 0,
                    "securityContext": {
                        "runAsNonRoot": true,
                        "runAsUser": 65532,
                        "seccompProfile": {"type": "RuntimeDefault"}
                    },
                    "containers": [{
                        "name": "probe",
                        "image": "ghcr.io/faultline/faultline:0.1.0",
                        "imagePullPolicy": "IfNotPresent",
                        "command": ["sh", "-c"],
                        "args": ["curl -sf http://web/health"],
                        "terminationMessagePolicy": "FallbackToLogsOnError",
                        "securityContext": {
                            "allowPrivilegeEscalation": false,
                            "readOnlyRootFilesystem": true,
                            "capabilities": {"drop": ["ALL"]}
                        },
                        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}]
                    }],
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "16Mi"}}]
                }
            })
        );
    }

    #[test]
    fn the_probe_image_wins_and_no_owner_means_no_reference() {
        let labels = BTreeMap::new();
        let settings = PodSettings {
            namespace: "shop",
            default_image: "faultline:dev",
            owner: None,
            labels: &labels,
            deadline: Duration::from_secs(35),
        };
        let mut p = probe();
        p.image = Some("curlimages/curl:8.10.1".into());
        p.args.clear();
        let pod = probe_pod(&p, "faultline-probe-bcdfg", &settings);
        assert!(pod.metadata.owner_references.is_none());
        let container = &pod.spec.as_ref().unwrap().containers[0];
        assert_eq!(container.image.as_deref(), Some("curlimages/curl:8.10.1"));
        assert!(container.args.is_none());
        assert_eq!(
            pod.metadata.labels.unwrap(),
            BTreeMap::from([(COMPONENT_LABEL.to_owned(), "probe".to_owned())])
        );
    }

    #[test]
    fn pod_names_take_a_prefix_from_the_labels_and_a_random_suffix() {
        let mut rng = SmallRng::seed_from_u64(7);
        let name = pod_name(&BTreeMap::new(), &mut rng);
        let suffix = name.strip_prefix("faultline-probe-").expect(&name);
        assert_eq!(suffix.len(), 5);
        assert!(
            suffix
                .bytes()
                .all(|b| b"bcdfghjklmnpqrstvwxz2456789".contains(&b))
        );
        assert_ne!(name, pod_name(&BTreeMap::new(), &mut rng));

        let labels = BTreeMap::from([(EXPERIMENT_LABEL.to_owned(), "Web_Chaos".to_owned())]);
        assert!(pod_name(&labels, &mut rng).starts_with("web-chaos-probe-"));

        let long = BTreeMap::from([(RESULT_LABEL.to_owned(), "r".repeat(80))]);
        let name = pod_name(&long, &mut rng);
        assert_eq!(name.len(), 63, "{name}");
    }

    #[test]
    fn exit_code_zero_is_expected_by_default() {
        let expect = CmdExpect::default();
        assert_eq!(
            evaluate(&expect, 0, "ok\n"),
            Outcome::Passed("exit code 0".into())
        );
        assert_eq!(
            evaluate(&expect, 7, "connecting\ncurl: (7) Failed to connect\n"),
            Outcome::Failed(
                "exit code 7, expected 0; last output line: \"curl: (7) Failed to connect\"".into()
            )
        );
    }

    #[test]
    fn an_explicit_exit_code_is_required() {
        let expect = CmdExpect {
            exit_code: Some(1),
            output: None,
        };
        assert!(evaluate(&expect, 1, "").is_passed());
        assert_eq!(
            evaluate(&expect, 0, ""),
            Outcome::Failed("exit code 0, expected 1".into())
        );
    }

    #[test]
    fn output_alone_ignores_the_exit_code() {
        let expect = CmdExpect {
            exit_code: None,
            output: output(ComparatorOp::Contains, "healthy"),
        };
        assert_eq!(
            evaluate(&expect, 3, "  all healthy\n"),
            Outcome::Passed("exit code 3, output \"all healthy\" (contains healthy)".into())
        );
        assert_eq!(
            evaluate(&expect, 0, "degraded\n"),
            Outcome::Failed("output \"degraded\", expected contains healthy".into())
        );
    }

    #[test]
    fn exit_code_and_output_must_both_hold() {
        let expect = CmdExpect {
            exit_code: Some(0),
            output: output(ComparatorOp::Ge, "3"),
        };
        assert!(evaluate(&expect, 0, "4\n").is_passed());
        assert!(
            matches!(evaluate(&expect, 1, "4"), Outcome::Failed(m) if m.starts_with("exit code 1"))
        );
        assert!(
            matches!(evaluate(&expect, 0, "2"), Outcome::Failed(m) if m.contains("expected >= 3"))
        );
        assert!(
            matches!(evaluate(&expect, 0, "many"), Outcome::Unknown(m) if m.contains("not a number"))
        );
    }

    #[test]
    fn long_output_is_shortened_in_messages() {
        let text = "é".repeat(300);
        let short = shorten(&text);
        assert_eq!(short.chars().count(), 201);
        assert!(short.ends_with('…'));
    }

    #[test]
    fn progress_reads_the_container_state() {
        let pod = |status: serde_json::Value| -> Pod {
            serde_json::from_value(json!({"metadata": {"name": "p"}, "status": status})).unwrap()
        };
        let container = |state: serde_json::Value| {
            json!({"phase": "Running", "containerStatuses": [{
                "name": "probe", "image": "i", "imageID": "", "ready": false, "restartCount": 0,
                "state": state
            }]})
        };
        assert_eq!(
            progress(&pod(container(json!({"terminated": {"exitCode": 2}})))),
            Progress::Exited(2)
        );
        assert_eq!(
            progress(&pod(container(json!({"running": {}})))),
            Progress::Running
        );
        assert_eq!(
            progress(&pod(container(
                json!({"waiting": {"reason": "ImagePullBackOff", "message": "back-off pulling"}})
            ))),
            Progress::CannotStart("ImagePullBackOff: back-off pulling".into())
        );
        assert_eq!(
            progress(&pod(container(
                json!({"waiting": {"reason": "ContainerCreating"}})
            ))),
            Progress::Starting("ContainerCreating".into())
        );
        assert_eq!(
            progress(&pod(
                json!({"phase": "Failed", "reason": "DeadlineExceeded"})
            )),
            Progress::DeadlineExceeded
        );
        assert_eq!(
            progress(&pod(
                json!({"phase": "Failed", "reason": "Evicted", "message": "low memory"})
            )),
            Progress::Lost("Evicted low memory".into())
        );
        assert_eq!(
            progress(&pod(json!({"phase": "Pending", "conditions": [{
                "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                "message": "0/1 nodes are available"
            }]}))),
            Progress::Starting("Unschedulable: 0/1 nodes are available".into())
        );
    }
}
