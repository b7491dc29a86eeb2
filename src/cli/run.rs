//! `faultline run`: apply an experiment (optionally), request a run, find that run's ChaosResult
//! and, with `--wait`, follow it to its end and exit with a code a pipeline can act on.

use std::{
    io::{IsTerminal, Write},
    path::PathBuf,
    time::Duration,
};

use futures::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::{
    Api, Resource, ResourceExt,
    api::{DynamicObject, ListParams, Patch, PatchParams},
    core::ApiResource,
    runtime::{WatchStreamExt, watcher},
};
use rand::Rng;
use serde_json::{Value, json};

use super::{
    CliError, Cluster, FIELD_MANAGER, exit,
    follow::{Progress, changes, format_score, gate, label},
    journal::{Journal, JournalEvent, ProbeSample},
};
use crate::api::{
    ChaosExperiment, ChaosProbe, ChaosResult, ChaosResultStatus, EXPERIMENT_LABEL, RESULT_LABEL,
    RUN_REQUESTED_ANNOTATION, STOP_ANNOTATION,
};

/// How the outcome is printed on stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    Text,
    Json,
    Yaml,
}

/// The options of `faultline run`.
#[derive(Debug)]
pub struct RunOptions {
    pub file: Option<PathBuf>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub wait: bool,
    pub timeout: Option<Duration>,
    pub min_score: Option<f64>,
    pub junit: Option<PathBuf>,
    pub report: Option<PathBuf>,
    pub output: Output,
}

/// How long to wait for the operator to create the result when nothing else bounds it.
const FIND_RESULT_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a stop (at `--timeout` or on a signal) may take before the CLI gives up waiting.
const STOP_GRACE: Duration = Duration::from_secs(60);

pub async fn run(options: RunOptions) -> Result<u8, CliError> {
    // The arguments were checked by clap (src/main.rs): a name or a file, the reports with
    // --wait, a score from 0 to 100.
    let cluster = Cluster::connect().await?;
    let request = request_token();
    let (namespace, experiment) = match &options.file {
        Some(path) => apply_file(&cluster, path, options.namespace.as_deref(), &request).await?,
        None => {
            let namespace = cluster.namespace(options.namespace.as_deref());
            let name = options.name.clone().unwrap_or_default();
            let experiment = request_run(&cluster, &namespace, &name, &request).await?;
            (namespace, experiment)
        }
    };
    refuse_stopped(&experiment, &namespace)?;
    let name = experiment.name_any();
    let view = View::new();
    view.line(&format!(
        "requested a run of chaosexperiment {namespace}/{name}"
    ));

    let now = tokio::time::Instant::now();
    let deadline = options.timeout.map(|t| now + t);
    let follower = Follower {
        cluster: &cluster,
        namespace: &namespace,
        experiment: &name,
        request: &request,
        view: &view,
    };
    let find_deadline = find_deadline(options.wait, deadline, now);
    let outcome = follower.follow(options.wait, find_deadline).await?;
    let (result, samples, how) = match outcome {
        Followed::NoResult(why) => {
            view.finish();
            eprintln!("error: {why}");
            eprintln!(
                "the request stays on the experiment: the run starts when the operator handles it (check it: kubectl -n faultline-system get pods)"
            );
            return Ok(exit::ERROR);
        }
        Followed::Started(result) => {
            view.finish();
            print_started(&result, options.output);
            return Ok(exit::OK);
        }
        Followed::Ended(result, samples) => (result, samples, None),
        Followed::Interrupted(result, samples, why) => (result, samples, Some(why)),
    };
    let (journal, code) = record(&cluster, result, samples, options.min_score).await;
    view.finish();
    report(&journal, how.as_deref(), &options)?;
    Ok(exit_code(code, how.is_some()))
}

/// An experiment with `spec.stop: true` starts no run: say so, and how to lift it.
fn refuse_stopped(experiment: &ChaosExperiment, namespace: &str) -> Result<(), CliError> {
    if !experiment.spec.stop {
        return Ok(());
    }
    let name = experiment.name_any();
    Err(CliError::Usage(format!(
        "chaosexperiment {name} has spec.stop: true, so it starts no run; set it to false first: \
         kubectl -n {namespace} patch chaosexperiment {name} --type=merge -p '{{\"spec\":{{\"stop\":false}}}}'"
    )))
}

/// How long to look for the run's result: `--timeout` when waiting for the end (none if not
/// given), and otherwise `--timeout` or [`FIND_RESULT_TIMEOUT`] from `now`.
fn find_deadline(
    wait: bool,
    deadline: Option<tokio::time::Instant>,
    now: tokio::time::Instant,
) -> Option<tokio::time::Instant> {
    if wait {
        deadline
    } else {
        Some(deadline.unwrap_or(now + FIND_RESULT_TIMEOUT))
    }
}

/// The journal of an ended run (the result, the probe samples seen while following it, its
/// Events, the verdict judged against `--min-score` when given) and the verdict's exit code.
async fn record(
    cluster: &Cluster,
    result: ChaosResult,
    samples: Vec<ProbeSample>,
    min_score: Option<f64>,
) -> (Journal, u8) {
    let mut journal = Journal::from_result(&result);
    journal.samples = samples;
    journal.events = run_events(cluster, &result).await;
    let status = result.status.clone().unwrap_or_default();
    let (verdict, code) = gate(&status, min_score);
    if let Some(min) = min_score {
        journal.min_score = Some(min);
    }
    journal.status.verdict = verdict;
    (journal, code)
}

/// Writes the reports asked for and prints the outcome. `interrupted` says why the run had to
/// be stopped, if it had.
fn report(
    journal: &Journal,
    interrupted: Option<&str>,
    options: &RunOptions,
) -> Result<(), CliError> {
    write_reports(journal, options.junit.as_ref(), options.report.as_ref())?;
    print_journal(journal, options.output, || summary(journal, interrupted));
    if let Some(path) = &options.junit {
        eprintln!("JUnit report: {}", path.display());
    }
    if let Some(path) = &options.report {
        eprintln!("HTML report: {}", path.display());
    }
    Ok(())
}

/// A run stopped by `--timeout` or a signal exits with an error, whatever its verdict.
fn exit_code(verdict_code: u8, interrupted: bool) -> u8 {
    if interrupted {
        exit::ERROR
    } else {
        verdict_code
    }
}

/// A value no other request used: the time and some randomness.
fn request_token() -> String {
    let suffix: u32 = rand::rng().random();
    format!("cli-{}-{suffix:08x}", Timestamp::now().as_millisecond())
}

/// Applies the file's ChaosProbes, then its one ChaosExperiment carrying the run request, by
/// server-side apply. Returns the namespace and the applied experiment.
async fn apply_file(
    cluster: &Cluster,
    path: &std::path::Path,
    namespace: Option<&str>,
    request: &str,
) -> Result<(String, ChaosExperiment), CliError> {
    let shown = path.display().to_string();
    let text = read_manifests(path).map_err(|e| CliError::BadFile {
        path: shown.clone(),
        why: e.to_string(),
    })?;
    let documents = parse_documents(&text).map_err(|why| CliError::BadFile {
        path: shown.clone(),
        why,
    })?;
    let namespace = resolve_namespace(&documents, namespace)
        .map_err(|why| CliError::BadFile {
            path: shown.clone(),
            why,
        })?
        .unwrap_or_else(|| cluster.default_namespace.clone());
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let mut experiment = None;
    // Probes first, so the run's snapshot finds them.
    let mut ordered: Vec<&Value> = documents
        .iter()
        .filter(|d| kind(d) == "ChaosProbe")
        .collect();
    ordered.extend(documents.iter().filter(|d| kind(d) == "ChaosExperiment"));
    for document in ordered {
        let mut document = document.clone();
        document["metadata"]["namespace"] = json!(namespace);
        let name = document["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let is_experiment = kind(&document) == "ChaosExperiment";
        if is_experiment {
            document["metadata"]["annotations"][RUN_REQUESTED_ANNOTATION] = json!(request);
        }
        let resource = if is_experiment {
            ApiResource::erase::<ChaosExperiment>(&())
        } else {
            ApiResource::erase::<ChaosProbe>(&())
        };
        let api: Api<DynamicObject> =
            Api::namespaced_with(cluster.client.clone(), &namespace, &resource);
        let applied = api
            .patch(&name, &params, &Patch::Apply(&document))
            .await
            .map_err(|e| {
                cluster.error(
                    format!(
                        "the API server rejected {} {namespace}/{name} from {shown}",
                        kind(&document)
                    ),
                    e,
                )
            })?;
        if is_experiment {
            let typed: ChaosExperiment = applied.try_parse().map_err(|e| CliError::Api {
                action: format!("reading back chaosexperiment {name}"),
                message: e.to_string(),
            })?;
            experiment = Some(typed);
        }
    }
    let experiment = experiment.expect("parse_documents guarantees one ChaosExperiment");
    Ok((namespace, experiment))
}

/// A file's text, or the YAML and JSON files of a directory (not recursive, in name order) as
/// one multi-document stream, as `kubectl apply -f DIR` reads them.
fn read_manifests(path: &std::path::Path) -> std::io::Result<String> {
    if !path.is_dir() {
        return std::fs::read_to_string(path);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        })
        .collect();
    files.sort();
    let mut text = String::new();
    for file in files {
        text.push_str(&std::fs::read_to_string(&file)?);
        text.push_str("\n---\n");
    }
    Ok(text)
}

fn kind(document: &Value) -> &str {
    document["kind"].as_str().unwrap_or_default()
}

/// The file's documents, checked: Faultline kinds only, exactly one ChaosExperiment, names set.
pub fn parse_documents(text: &str) -> Result<Vec<Value>, String> {
    let group_version = format!(
        "{}/{}",
        ChaosExperiment::group(&()),
        ChaosExperiment::version(&())
    );
    let mut documents = Vec::new();
    for (index, document) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let value = <serde_yaml_ng::Value as serde::Deserialize>::deserialize(document)
            .map_err(|e| format!("not YAML or JSON (document {}): {e}", index + 1))?;
        if value.is_null() {
            continue;
        }
        let value: Value = serde_json::to_value(value)
            .map_err(|e| format!("document {} cannot be read as an object: {e}", index + 1))?;
        let api_version = value["apiVersion"].as_str().unwrap_or_default();
        let kind = kind(&value);
        if api_version != group_version || !matches!(kind, "ChaosExperiment" | "ChaosProbe") {
            let what = if api_version.is_empty() && kind.is_empty() {
                "has no apiVersion and kind".to_string()
            } else {
                format!("is a {api_version} {kind}")
            };
            return Err(format!(
                "document {} {what}; faultline run applies only {group_version} ChaosExperiment (exactly one) and ChaosProbe documents",
                index + 1
            ));
        }
        if value["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .is_empty()
        {
            return Err(format!(
                "document {} ({kind}) has no metadata.name",
                index + 1
            ));
        }
        if kind == "ChaosExperiment" {
            serde_json::from_value::<ChaosExperiment>(value.clone()).map_err(|e| {
                format!("document {} is not a valid ChaosExperiment: {e}", index + 1)
            })?;
        }
        documents.push(value);
    }
    match documents
        .iter()
        .filter(|d| kind(d) == "ChaosExperiment")
        .count()
    {
        1 => Ok(documents),
        0 => Err(format!(
            "no ChaosExperiment in the file; faultline run needs exactly one {group_version} ChaosExperiment"
        )),
        n => Err(format!(
            "{n} ChaosExperiments in the file; faultline run runs exactly one (split the file, or kubectl apply it and run each by name)"
        )),
    }
}

/// The one namespace of the documents: `-n`, or theirs. Documents that disagree are an error.
pub fn resolve_namespace(
    documents: &[Value],
    flag: Option<&str>,
) -> Result<Option<String>, String> {
    let mut found: Option<&str> = None;
    for document in documents {
        if let Some(ns) = document["metadata"]["namespace"].as_str() {
            if let Some(flag) = flag
                && flag != ns
            {
                return Err(format!(
                    "{} {} is in namespace {ns:?}, but -n says {flag:?}; drop one of them",
                    kind(document),
                    document["metadata"]["name"].as_str().unwrap_or_default()
                ));
            }
            if found.is_some_and(|f| f != ns) {
                return Err(
                    "the documents are in different namespaces; faultline run applies to one"
                        .into(),
                );
            }
            found = Some(ns);
        }
    }
    Ok(flag.or(found).map(str::to_string))
}

/// Sets the run-requested annotation on an existing experiment.
async fn request_run(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    request: &str,
) -> Result<ChaosExperiment, CliError> {
    let api: Api<ChaosExperiment> = Api::namespaced(cluster.client.clone(), namespace);
    let patch = json!({"metadata": {"annotations": {RUN_REQUESTED_ANNOTATION: request}}});
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|e| cluster.lookup_error(e, "chaosexperiment", name, namespace))
}

/// How following a run ended.
enum Followed {
    /// No result answered the request in time.
    NoResult(String),
    /// Not waiting: the result exists.
    Started(ChaosResult),
    Ended(ChaosResult, Vec<ProbeSample>),
    /// `--timeout` passed or a signal came: the run was stopped; why.
    Interrupted(ChaosResult, Vec<ProbeSample>, String),
}

struct Follower<'a> {
    cluster: &'a Cluster,
    namespace: &'a str,
    experiment: &'a str,
    request: &'a str,
    view: &'a View,
}

impl Follower<'_> {
    /// Watches the experiment's results until the one answering our request exists (and, when
    /// `wait`, until it ends). `deadline` bounds it; past it the run is stopped.
    async fn follow(
        &self,
        wait: bool,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<Followed, CliError> {
        let api: Api<ChaosResult> = Api::namespaced(self.cluster.client.clone(), self.namespace);
        // Surface an unreachable server or missing RBAC now, not as silent watcher retries.
        api.list(&ListParams::default().limit(1))
            .await
            .map_err(|e| {
                self.cluster
                    .error(format!("listing chaosresults in {}", self.namespace), e)
            })?;
        let selector = format!("{EXPERIMENT_LABEL}={}", self.experiment);
        let stream = watcher(api, watcher::Config::default().labels(&selector)).default_backoff();
        let mut stream = std::pin::pin!(stream);
        let mut seen = Seen::new();
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        let sleep_until = deadline.unwrap_or_else(|| {
            tokio::time::Instant::now() + Duration::from_secs(100 * 365 * 86400)
        });
        let mut interrupted = std::pin::pin!(super::interrupted());
        let mut timeout = std::pin::pin!(tokio::time::sleep_until(sleep_until));
        loop {
            tokio::select! {
                event = stream.next() => {
                    let Some(event) = event else { break };
                    if let Some(followed) = self.on_event(event, wait, &mut seen)? {
                        return Ok(followed);
                    }
                }
                _ = tick.tick() => self.on_tick(&mut seen).await,
                _ = &mut timeout => {
                    let after = deadline.map(|d| d.duration_since(seen.started_waiting)).unwrap_or_default();
                    return match seen.current {
                        None => Ok(Followed::NoResult(format!(
                            "no run of chaosexperiment {} started within {}", self.experiment, humantime(after)
                        ))),
                        Some(result) => {
                            let why = format!("--timeout {} passed", humantime(after));
                            self.stop_and_settle(result, seen.samples, why).await
                        }
                    };
                }
                _ = &mut interrupted => {
                    return match seen.current {
                        None => Ok(Followed::NoResult("interrupted before the run started".into())),
                        Some(result) => self.stop_and_settle(result, seen.samples, "interrupted".into()).await,
                    };
                }
            }
        }
        Err(CliError::Usage(
            "the watch on chaosresults ended unexpectedly".into(),
        ))
    }

    /// One event of the watch on the experiment's results: the end of following when our
    /// result appears and we do not wait, or when it ends.
    fn on_event(
        &self,
        event: Result<watcher::Event<ChaosResult>, watcher::Error>,
        wait: bool,
        seen: &mut Seen,
    ) -> Result<Option<Followed>, CliError> {
        let object = match event {
            Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o)) => o,
            Ok(watcher::Event::Delete(o)) if self.ours(&o) => {
                return Err(CliError::Usage(format!(
                    "chaosresult {} was deleted while the CLI was following it",
                    o.name_any()
                )));
            }
            Ok(_) => return Ok(None),
            Err(err) => {
                tracing::debug!(%err, "watch error; the watcher retries");
                return Ok(None);
            }
        };
        if !self.ours(&object) {
            return Ok(None);
        }
        if seen.current.is_none() {
            self.view.line(&format!(
                "run {} recorded in chaosresult/{}",
                object.spec.run_number,
                object.name_any()
            ));
            if !wait {
                return Ok(Some(Followed::Started(object)));
            }
        }
        let previous = seen
            .current
            .as_ref()
            .and_then(|r| r.status.clone())
            .unwrap_or_default();
        let next = object.status.clone().unwrap_or_default();
        self.show_changes(&previous, &next, &mut seen.samples);
        if next.phase.is_terminal() {
            let samples = std::mem::take(&mut seen.samples);
            return Ok(Some(Followed::Ended(object, samples)));
        }
        seen.current = Some(object);
        Ok(None)
    }

    /// Every half second: the progress of the run, or a hint once nothing has answered the
    /// request for 20 s.
    async fn on_tick(&self, seen: &mut Seen) {
        match &seen.current {
            Some(result) => {
                let progress = Progress::of(result, Timestamp::now());
                if self.view.live {
                    self.view.draw(&progress.lines(&result.name_any()));
                } else if seen.last_heartbeat.elapsed() >= Duration::from_secs(15) {
                    seen.last_heartbeat = tokio::time::Instant::now();
                    self.view.line(&heartbeat(&progress));
                }
            }
            None if !seen.hinted && seen.started_waiting.elapsed() >= Duration::from_secs(20) => {
                seen.hinted = true;
                self.view.line(&self.waiting_hint().await);
            }
            None => {}
        }
    }

    /// Prints what changed from `previous` to `next`, keeping the probe samples for the journal.
    fn show_changes(
        &self,
        previous: &ChaosResultStatus,
        next: &ChaosResultStatus,
        samples: &mut Vec<ProbeSample>,
    ) {
        for change in changes(previous, next, Timestamp::now()) {
            if let super::follow::Change::Probe(sample) = &change {
                samples.push(sample.clone());
            }
            self.view.line(&change.to_string());
        }
    }

    fn ours(&self, result: &ChaosResult) -> bool {
        result
            .annotations()
            .get(RUN_REQUESTED_ANNOTATION)
            .map(String::as_str)
            == Some(self.request)
    }

    /// Why no result has appeared yet, from the experiment's status.
    async fn waiting_hint(&self) -> String {
        let api: Api<ChaosExperiment> =
            Api::namespaced(self.cluster.client.clone(), self.namespace);
        let active = api
            .get_opt(self.experiment)
            .await
            .ok()
            .flatten()
            .and_then(|e| e.status)
            .and_then(|s| s.last_run)
            .filter(|last| last.completion_time.is_none())
            .map(|last| last.result);
        match active {
            Some(result) => format!("waiting: run {result} is still active; this request starts after it ends"),
            None => "still no ChaosResult for this request after 20s; is the operator running? (kubectl -n faultline-system get pods)".into(),
        }
    }

    /// Asks the run to stop (it reverts what it injected) and waits for it to end.
    async fn stop_and_settle(
        &self,
        result: ChaosResult,
        mut samples: Vec<ProbeSample>,
        why: String,
    ) -> Result<Followed, CliError> {
        let name = result.name_any();
        self.view
            .line(&format!("{why}: stopping chaosresult/{name}"));
        let api: Api<ChaosResult> = Api::namespaced(self.cluster.client.clone(), self.namespace);
        let patch = json!({"metadata": {"annotations": {STOP_ANNOTATION: format!("faultline run: {why}")}}});
        api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(|e| {
                self.cluster
                    .error(format!("stopping chaosresult {name}"), e)
            })?;
        let settle = tokio::time::Instant::now() + STOP_GRACE;
        let mut last = result;
        while tokio::time::Instant::now() < settle {
            if let Ok(latest) = api.get(&name).await {
                let previous = last.status.clone().unwrap_or_default();
                let next = latest.status.clone().unwrap_or_default();
                self.show_changes(&previous, &next, &mut samples);
                last = latest;
                if next.phase.is_terminal() {
                    return Ok(Followed::Interrupted(last, samples, why));
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let why = format!(
            "{why}; the run had not ended {}s after the stop request",
            STOP_GRACE.as_secs()
        );
        Ok(Followed::Interrupted(last, samples, why))
    }
}

/// What the follower has seen of the run so far.
struct Seen {
    /// Our result, once it exists.
    current: Option<ChaosResult>,
    samples: Vec<ProbeSample>,
    started_waiting: tokio::time::Instant,
    /// Whether the hint on why no result has appeared was shown.
    hinted: bool,
    /// When the last progress line was printed (plain output only).
    last_heartbeat: tokio::time::Instant,
}

impl Seen {
    fn new() -> Seen {
        let now = tokio::time::Instant::now();
        Seen {
            current: None,
            samples: Vec::new(),
            started_waiting: now,
            hinted: false,
            last_heartbeat: now,
        }
    }
}

/// The progress line printed every 15 s when the output is not a terminal.
fn heartbeat(progress: &Progress) -> String {
    let remaining = progress
        .remaining
        .map(|r| format!(", ~{} left", super::follow::clock(r)))
        .unwrap_or_default();
    format!(
        "{}: {} elapsed{remaining}, probes {} passed {} failed",
        progress.phase.as_str(),
        super::follow::clock(progress.elapsed),
        progress.probes_passed,
        progress.probes_failed
    )
}

/// `5m`, `90s`.
fn humantime(d: Duration) -> String {
    crate::api::Duration(Duration::from_secs(d.as_secs_f64().round() as u64)).to_string()
}

/// Progress on stderr: a redrawn block on a terminal, timestamped lines otherwise.
struct View {
    live: bool,
    drawn: std::sync::Mutex<usize>,
}

impl View {
    fn new() -> View {
        View {
            // CI runners that allocate a pseudo-terminal still want plain lines in their logs.
            live: std::io::stderr().is_terminal() && std::env::var_os("CI").is_none(),
            drawn: std::sync::Mutex::new(0),
        }
    }

    /// A line worth keeping: above the live block on a terminal, timestamped otherwise.
    fn line(&self, text: &str) {
        let mut err = std::io::stderr().lock();
        if self.live {
            self.clear(&mut err);
            let _ = writeln!(err, "  {text}");
        } else {
            let now = Timestamp::now()
                .round(jiff::Unit::Second)
                .unwrap_or(Timestamp::now());
            let _ = writeln!(err, "{now} {text}");
        }
    }

    fn clear(&self, err: &mut impl Write) {
        let mut drawn = self.drawn.lock().expect("not poisoned");
        if *drawn > 0 {
            let _ = write!(err, "\x1b[{}A\x1b[J", *drawn);
            *drawn = 0;
        }
    }

    /// Redraws the live block. Each line is cut to the terminal's width: a line that wrapped
    /// would take two rows, and the next redraw, which moves up one row per line, would leave
    /// part of the block behind on a narrow terminal.
    fn draw(&self, lines: &[String]) {
        let mut err = std::io::stderr().lock();
        self.clear(&mut err);
        let width = terminal_columns(&err).unwrap_or(80);
        for line in lines {
            // Two columns for the gutter ("│ ").
            let _ = writeln!(
                err,
                "\x1b[2m│\x1b[0m {}",
                fit(line, width.saturating_sub(2))
            );
        }
        *self.drawn.lock().expect("not poisoned") = lines.len();
    }

    /// Removes the live block before the summary.
    fn finish(&self) {
        if self.live {
            self.clear(&mut std::io::stderr().lock());
        }
    }
}

/// The width of the terminal `stream` writes to, if it is one.
fn terminal_columns(stream: &impl std::os::fd::AsRawFd) -> Option<usize> {
    let mut size = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one winsize into the struct it is given, which lives on the stack.
    let done = unsafe { libc::ioctl(stream.as_raw_fd(), libc::TIOCGWINSZ, &mut size) };
    (done == 0 && size.ws_col > 0).then_some(usize::from(size.ws_col))
}

/// `line` cut to `width` characters, ending in … when cut.
fn fit(line: &str, width: usize) -> std::borrow::Cow<'_, str> {
    if line.chars().count() <= width {
        return line.into();
    }
    let kept: String = line.chars().take(width.saturating_sub(1)).collect();
    format!("{kept}…").into()
}

fn print_started(result: &ChaosResult, output: Output) {
    let journal = Journal::from_result(result);
    print_journal(&journal, output, || {
        format!(
            "chaosresult/{} created; follow it with: faultline logs {} -n {} -f\n",
            journal.result, journal.result, journal.namespace
        )
    });
}

/// The journal on stdout as JSON or YAML, or as `text` makes it.
fn print_journal(journal: &Journal, output: Output, text: impl FnOnce() -> String) {
    match output {
        Output::Text => print!("{}", text()),
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(journal).unwrap_or_default()
        ),
        Output::Yaml => print!("{}", serde_yaml_ng::to_string(journal).unwrap_or_default()),
    }
}

/// The text summary: one line for the run, one per fault and probe.
pub fn summary(journal: &Journal, interrupted: Option<&str>) -> String {
    let status: &ChaosResultStatus = &journal.status;
    let mut out = String::new();
    let score = status
        .resilience_score
        .map(format_score)
        .unwrap_or_else(|| "-".into());
    let bar = journal
        .min_score
        .map(format_score)
        .unwrap_or_else(|| "-".into());
    let duration = journal
        .duration_seconds
        .map(|s| format!(", {s:.1}s"))
        .unwrap_or_default();
    out.push_str(&format!(
        "chaosresult/{}: {}, verdict {}, score {score} (minimum {bar}){duration}\n",
        journal.result,
        status.phase.as_str(),
        status.verdict.as_str(),
    ));
    if let Some(why) = interrupted {
        out.push_str(&format!("  {why}\n"));
    }
    if let Some(message) = &status.message {
        out.push_str(&format!("  {message}\n"));
    }
    for (when, probes) in [
        ("before", &status.steady_state.before),
        ("after", &status.steady_state.after),
    ] {
        for probe in probes {
            out.push_str(&format!(
                "  steady state {when}: probe {} {} ({} passed, {} failed)\n",
                probe.name,
                label(&probe.verdict),
                probe.passed,
                probe.failed
            ));
        }
    }
    for fault in &status.faults {
        let score = fault
            .score
            .map(|s| format!(", score {}", format_score(s)))
            .unwrap_or_default();
        out.push_str(&format!(
            "  fault {} ({}): {}{score}, {} target{}\n",
            fault.name,
            fault.fault_type.as_str(),
            label(&fault.status),
            fault.targets.len(),
            if fault.targets.len() == 1 { "" } else { "s" }
        ));
        for probe in &fault.probes {
            let message = match (probe.reason(), probe.failed > 0) {
                (Some(m), true) => format!(": {m}"),
                _ => String::new(),
            };
            out.push_str(&format!(
                "    probe {} ({}): {} ({} passed, {} failed){message}\n",
                probe.name,
                label(&probe.mode),
                label(&probe.verdict),
                probe.passed,
                probe.failed
            ));
        }
    }
    out
}

/// The Events of the result and of its fault pods, oldest first. Best effort: a run's record
/// is complete without them.
pub async fn run_events(cluster: &Cluster, result: &ChaosResult) -> Vec<JournalEvent> {
    let namespace = result.namespace().unwrap_or_default();
    let name = result.name_any();
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), &namespace);
    let mut names = vec![name.clone()];
    if let Ok(list) = pods
        .list(&ListParams::default().labels(&format!("{RESULT_LABEL}={name}")))
        .await
    {
        names.extend(list.items.iter().map(ResourceExt::name_any));
    }
    if let Some(status) = &result.status {
        names.extend(status.faults.iter().filter_map(|f| f.pod.clone()));
    }
    let events: Api<Event> = Api::namespaced(cluster.client.clone(), &namespace);
    let Ok(list) = events.list(&ListParams::default()).await else {
        return Vec::new();
    };
    journal_events(list.items, &names)
}

/// Events about the named objects as journal entries, oldest first.
pub fn journal_events(events: Vec<Event>, names: &[String]) -> Vec<JournalEvent> {
    let mut out: Vec<JournalEvent> = events
        .into_iter()
        .filter(|e| {
            e.involved_object
                .name
                .as_ref()
                .is_some_and(|n| names.contains(n))
        })
        .filter_map(|e| {
            let time = e
                .last_timestamp
                .as_ref()
                .map(|t| t.0)
                .or(e.event_time.as_ref().map(|t| t.0))
                .or(e.first_timestamp.as_ref().map(|t| t.0))
                .or(e.metadata.creation_timestamp.as_ref().map(|t| t.0))?;
            Some(JournalEvent {
                time,
                event_type: e.type_.unwrap_or_else(|| "Normal".into()),
                reason: e.reason.unwrap_or_default(),
                message: e.message.unwrap_or_default(),
                object: format!(
                    "{}/{}",
                    e.involved_object.kind.unwrap_or_default(),
                    e.involved_object.name.unwrap_or_default()
                ),
            })
        })
        .collect();
    out.sort_by_key(|e| e.time);
    out
}

fn write_reports(
    journal: &Journal,
    junit: Option<&PathBuf>,
    html: Option<&PathBuf>,
) -> Result<(), CliError> {
    let write = |path: &PathBuf, text: String| {
        std::fs::write(path, text).map_err(|source| CliError::Write {
            path: path.display().to_string(),
            source,
        })
    };
    if let Some(path) = junit {
        write(path, super::report::junit(journal))?;
    }
    if let Some(path) = html {
        write(path, super::report::html(journal))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_lines_are_cut_to_the_terminal_width() {
        assert_eq!(
            fit("kill: 3 of 5 pods deleted", 40),
            "kill: 3 of 5 pods deleted"
        );
        assert_eq!(fit("kill: 3 of 5 pods deleted", 10), "kill: 3 o…");
        assert_eq!(fit("ü→😀ab", 4), "ü→😀…");
        assert_eq!(fit("anything", 0), "…");
    }

    const EXPERIMENT: &str = "apiVersion: chaos.faultline.dev/v1alpha1
kind: ChaosExperiment
metadata: {name: kill, namespace: shop}
spec:
  faults:
  - name: k
    type: pod-delete
    target: {kind: Deployment, name: web}
";

    #[test]
    fn a_file_with_one_experiment_and_probes_is_accepted() {
        let text = format!(
            "apiVersion: chaos.faultline.dev/v1alpha1\nkind: ChaosProbe\nmetadata: {{name: up}}\nspec: {{type: http, http: {{url: 'http://web'}}}}\n---\n{EXPERIMENT}"
        );
        let docs = parse_documents(&text).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(
            resolve_namespace(&docs, None).unwrap().as_deref(),
            Some("shop")
        );
    }

    #[test]
    fn a_file_that_is_not_an_experiment_is_refused_with_what_it_is() {
        let err =
            parse_documents("apiVersion: v1\nkind: Service\nmetadata: {name: web}\n").unwrap_err();
        assert!(err.contains("document 1 is a v1 Service"), "{err}");
        let err = parse_documents("just a sentence").unwrap_err();
        assert!(
            err.contains("cannot be read") || err.contains("no apiVersion"),
            "{err}"
        );
        let err = parse_documents("{not: [yaml").unwrap_err();
        assert!(err.starts_with("not YAML or JSON"), "{err}");
        let err = parse_documents(&format!("{EXPERIMENT}---\n{EXPERIMENT}")).unwrap_err();
        assert!(err.contains("2 ChaosExperiments"), "{err}");
        let probe_only = "apiVersion: chaos.faultline.dev/v1alpha1\nkind: ChaosProbe\nmetadata: {name: up}\nspec: {}\n";
        assert!(
            parse_documents(probe_only)
                .unwrap_err()
                .contains("no ChaosExperiment")
        );
    }

    #[test]
    fn an_experiment_with_a_wrong_shape_names_the_field() {
        let err = parse_documents(&EXPERIMENT.replace("faults:", "faults: 3\n  x:")).unwrap_err();
        assert!(err.contains("not a valid ChaosExperiment"), "{err}");
    }

    #[test]
    fn the_namespace_flag_and_the_file_must_agree() {
        let docs = parse_documents(EXPERIMENT).unwrap();
        assert_eq!(
            resolve_namespace(&docs, Some("shop")).unwrap().as_deref(),
            Some("shop")
        );
        let err = resolve_namespace(&docs, Some("prod")).unwrap_err();
        assert!(err.contains("but -n says \"prod\""), "{err}");
    }

    #[test]
    fn a_stopped_experiment_is_refused_with_the_patch_that_lifts_the_stop() {
        let mut experiment: ChaosExperiment = serde_yaml_ng::from_str(EXPERIMENT).unwrap();
        assert!(refuse_stopped(&experiment, "shop").is_ok());
        experiment.spec.stop = true;
        let err = refuse_stopped(&experiment, "shop").unwrap_err().to_string();
        assert!(
            err.starts_with("chaosexperiment kill has spec.stop: true"),
            "{err}"
        );
        assert!(
            err.ends_with(
                "kubectl -n shop patch chaosexperiment kill --type=merge -p '{\"spec\":{\"stop\":false}}'"
            ),
            "{err}"
        );
    }

    #[test]
    fn without_wait_the_result_is_looked_for_two_minutes_unless_timeout_says() {
        let now = tokio::time::Instant::now();
        let timeout = Some(now + Duration::from_secs(5));
        assert_eq!(find_deadline(true, None, now), None);
        assert_eq!(find_deadline(true, timeout, now), timeout);
        assert_eq!(find_deadline(false, timeout, now), timeout);
        assert_eq!(
            find_deadline(false, None, now),
            Some(now + FIND_RESULT_TIMEOUT)
        );
    }

    #[test]
    fn an_interrupted_run_exits_with_an_error_whatever_its_verdict() {
        assert_eq!(exit_code(exit::PASS, false), exit::PASS);
        assert_eq!(exit_code(exit::FAIL, false), exit::FAIL);
        assert_eq!(exit_code(exit::PASS, true), exit::ERROR);
    }

    #[test]
    fn the_heartbeat_line_says_the_phase_the_time_and_the_probes() {
        let mut progress = Progress {
            phase: crate::api::RunPhase::Running,
            current: None,
            faults_done: 0,
            faults_total: 1,
            targets: 0,
            probes_passed: 4,
            probes_failed: 1,
            elapsed: Duration::from_secs(75),
            remaining: Some(Duration::from_secs(45)),
        };
        assert_eq!(
            heartbeat(&progress),
            "Running: 1:15 elapsed, ~0:45 left, probes 4 passed 1 failed"
        );
        progress.remaining = None;
        assert_eq!(
            heartbeat(&progress),
            "Running: 1:15 elapsed, probes 4 passed 1 failed"
        );
    }

    #[test]
    fn request_tokens_differ() {
        assert_ne!(request_token(), request_token());
    }
}
