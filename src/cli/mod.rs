//! The command-line interface for people and pipelines.

pub mod chaosmesh;
pub mod chaostoolkit;
pub mod check;
pub mod defaults;
pub mod findings;
pub mod follow;
pub mod get;
pub mod journal;
pub mod litmus;
pub mod logs;
pub mod report;
pub mod run;
pub mod stop;

use kube::{Client, Config};
use thiserror::Error;

/// Exit codes pipelines can act on (docs/cli.md).
pub mod exit {
    /// The command did what was asked; for `run --wait`, the verdict is Pass.
    pub const OK: u8 = 0;
    /// `run --wait`: the verdict is Pass.
    pub const PASS: u8 = 0;
    /// `run --wait`: the score is below the minimum (verdict Fail).
    pub const FAIL: u8 = 1;
    /// `run --wait`: the run ended in Error, Timeout or Stopped, or `--timeout` passed.
    pub const ERROR: u8 = 2;
    /// Usage error, bad input, or the cluster could not be reached.
    pub const USAGE_OR_CONNECTION: u8 = 3;
}

/// The field manager of everything the CLI applies or patches.
pub const FIELD_MANAGER: &str = "faultline-cli";

/// Errors of the CLI layer. Each says what to fix.
#[derive(Debug, Error)]
pub enum CliError {
    #[error("cannot load a Kubernetes client configuration (set KUBECONFIG, or run in a pod): {0}")]
    Config(#[source] kube::Error),
    #[error("cannot read the kubeconfig (set KUBECONFIG, or run in a pod): {0}")]
    Kubeconfig(#[source] kube::config::InferConfigError),
    #[error("cannot reach the Kubernetes API server at {url}: {source}")]
    Connection {
        url: String,
        #[source]
        source: kube::Error,
    },
    #[error("the API server refused to list pods in namespace {namespace:?}: {source}")]
    ListPods {
        namespace: String,
        #[source]
        source: kube::Error,
    },
    #[error(
        "{kind} {name:?} not found in namespace {namespace:?}; list them with: faultline get {plural} -n {namespace}"
    )]
    NotFound {
        kind: &'static str,
        plural: &'static str,
        name: String,
        namespace: String,
    },
    #[error("{action}: {message}")]
    Api { action: String, message: String },
    #[error("{path}: {why}")]
    BadFile { path: String, why: String },
    #[error("{0}")]
    Usage(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        exit::USAGE_OR_CONNECTION
    }
}

/// A client for the current kubeconfig context (or the pod's ServiceAccount), its URL for
/// messages, and its default namespace.
pub struct Cluster {
    pub client: Client,
    pub url: String,
    pub default_namespace: String,
}

impl Cluster {
    pub async fn connect() -> Result<Cluster, CliError> {
        let config = Config::infer().await.map_err(CliError::Kubeconfig)?;
        let url = config.cluster_url.to_string();
        let default_namespace = config.default_namespace.clone();
        let client = Client::try_from(config).map_err(CliError::Config)?;
        Ok(Cluster {
            client,
            url,
            default_namespace,
        })
    }

    /// `namespace`, or the context's default.
    pub fn namespace(&self, namespace: Option<&str>) -> String {
        namespace.map_or_else(|| self.default_namespace.clone(), str::to_string)
    }

    /// Sorts an API failure into what the user can act on: unreachable server, refused request.
    pub fn error(&self, action: impl Into<String>, err: kube::Error) -> CliError {
        match err {
            kube::Error::Api(status) => CliError::Api {
                action: action.into(),
                message: status.message,
            },
            other => CliError::Connection {
                url: self.url.clone(),
                source: other,
            },
        }
    }
}

/// The formats of `faultline report`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// One self-contained page.
    Html,
    /// JUnit XML, for CI test views.
    Junit,
    /// The run's journal.
    Json,
}

/// `faultline report RESULT --format html|junit|json [-o FILE]`.
pub async fn report_command(
    result: &str,
    namespace: Option<&str>,
    format: ReportFormat,
    output: Option<&std::path::Path>,
) -> Result<u8, CliError> {
    let cluster = Cluster::connect().await?;
    let namespace = cluster.namespace(namespace);
    let api: kube::Api<crate::api::ChaosResult> =
        kube::Api::namespaced(cluster.client.clone(), &namespace);
    let found = api
        .get(result)
        .await
        .map_err(|e| cluster.lookup_error(e, "chaosresult", result, &namespace))?;
    let mut journal = journal::Journal::from_result(&found);
    journal.events = run::run_events(&cluster, &found).await;
    let text = match format {
        ReportFormat::Html => report::html(&journal),
        ReportFormat::Junit => report::junit(&journal),
        ReportFormat::Json => report::json(&journal),
    };
    write_output(&text, output)?;
    Ok(exit::OK)
}

/// `faultline report EXPERIMENT --history [--last N] --format html|json [-o FILE]`: the
/// experiment's retained runs on one page, or as JSON.
pub async fn history_command(
    experiment: &str,
    namespace: Option<&str>,
    last: Option<usize>,
    format: ReportFormat,
    output: Option<&std::path::Path>,
) -> Result<u8, CliError> {
    if format == ReportFormat::Junit {
        return Err(CliError::Usage(
            "a history is written as html or json; junit describes one run: use faultline report RESULT --format junit".into(),
        ));
    }
    let cluster = Cluster::connect().await?;
    let namespace = cluster.namespace(namespace);
    let experiments: kube::Api<crate::api::ChaosExperiment> =
        kube::Api::namespaced(cluster.client.clone(), &namespace);
    let found = experiments
        .get_opt(experiment)
        .await
        .map_err(|e| cluster.lookup_error(e, "chaosexperiment", experiment, &namespace))?;
    let results: kube::Api<crate::api::ChaosResult> =
        kube::Api::namespaced(cluster.client.clone(), &namespace);
    let listed = results
        .list(
            &kube::api::ListParams::default()
                .labels(&format!("{}={experiment}", crate::api::EXPERIMENT_LABEL)),
        )
        .await
        .map_err(|e| cluster.lookup_error(e, "chaosresult", experiment, &namespace))?;
    if found.is_none() && listed.items.is_empty() {
        return Err(CliError::NotFound {
            kind: "chaosexperiment",
            plural: "experiments",
            name: experiment.to_string(),
            namespace: namespace.clone(),
        });
    }
    let history = report::History::new(&namespace, experiment, found.as_ref(), &listed.items, last);
    let text = match format {
        ReportFormat::Html => report::history_html(&history),
        ReportFormat::Json | ReportFormat::Junit => report::history_json(&history),
    };
    write_output(&text, output)?;
    Ok(exit::OK)
}

fn write_output(text: &str, output: Option<&std::path::Path>) -> Result<(), CliError> {
    match output {
        Some(path) => std::fs::write(path, text).map_err(|source| CliError::Write {
            path: path.display().to_string(),
            source,
        }),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// `faultline import chaostoolkit FILE`: YAML on stdout, notes on stderr.
pub fn import_chaostoolkit(
    file: &std::path::Path,
    namespace: Option<String>,
    name: Option<String>,
) -> Result<u8, CliError> {
    let shown = file.display().to_string();
    let source = std::fs::read_to_string(file).map_err(|e| CliError::BadFile {
        path: shown.clone(),
        why: e.to_string(),
    })?;
    let options = chaostoolkit::ImportOptions {
        namespace,
        name,
        env: std::env::vars().collect(),
    };
    let imported = chaostoolkit::import(&source, &options).map_err(|e| CliError::BadFile {
        path: shown,
        why: e.to_string(),
    })?;
    for note in &imported.notes {
        eprintln!("note: {note}");
    }
    print!("{}", imported.to_yaml());
    Ok(exit::OK)
}

/// The files' text, one YAML stream, and their names for messages.
fn read_manifests(files: &[std::path::PathBuf]) -> Result<(String, String), CliError> {
    let shown: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let mut source = String::new();
    for (file, path) in files.iter().zip(&shown) {
        let text = std::fs::read_to_string(file).map_err(|e| CliError::BadFile {
            path: path.clone(),
            why: e.to_string(),
        })?;
        source.push_str(&text);
        source.push_str("\n---\n");
    }
    Ok((source, shown.join(", ")))
}

/// Prints an import's notes on stderr and its YAML on stdout.
fn print_import(
    imported: Result<findings::Imported, findings::ImportError>,
    command: &str,
    shown: String,
) -> Result<u8, CliError> {
    let imported = imported.map_err(|e| CliError::BadFile {
        path: shown,
        why: e.to_string(),
    })?;
    for note in &imported.notes {
        eprintln!("note: {note}");
    }
    print!("{}", imported.to_yaml(command));
    Ok(exit::OK)
}

/// `faultline import chaosmesh FILE...`: YAML on stdout, notes on stderr.
pub fn import_chaosmesh(
    files: &[std::path::PathBuf],
    options: chaosmesh::ImportOptions,
) -> Result<u8, CliError> {
    let (source, shown) = read_manifests(files)?;
    print_import(chaosmesh::import(&source, &options), "chaosmesh", shown)
}

/// `faultline import litmus FILE...`: YAML on stdout, notes on stderr.
pub fn import_litmus(
    files: &[std::path::PathBuf],
    options: litmus::ImportOptions,
) -> Result<u8, CliError> {
    let (source, shown) = read_manifests(files)?;
    print_import(litmus::import(&source, &options), "litmus", shown)
}

impl Cluster {
    /// An error from reading or patching one named object: NotFound (with how to list what
    /// exists) for a 404, else as [`Cluster::error`]. `kind` is chaosexperiment or chaosresult.
    pub fn lookup_error(
        &self,
        err: kube::Error,
        kind: &'static str,
        name: &str,
        namespace: &str,
    ) -> CliError {
        if is_not_found(&err) {
            let plural = if kind == "chaosresult" {
                "results"
            } else {
                "experiments"
            };
            return CliError::NotFound {
                kind,
                plural,
                name: name.to_string(),
                namespace: namespace.to_string(),
            };
        }
        self.error(format!("reading {kind} {namespace}/{name}"), err)
    }
}

/// True for an API 404.
pub fn is_not_found(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(status) if status.code == 404)
}

/// Resolves on SIGTERM or SIGINT.
pub async fn interrupted() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_errors_exit_with_the_usage_or_connection_code() {
        let err = CliError::Connection {
            url: "https://10.200.0.1:6443/".into(),
            source: kube::Error::LinesCodecMaxLineLengthExceeded,
        };
        assert_eq!(err.exit_code(), 3);
    }

    #[test]
    fn not_found_says_how_to_list_what_exists() {
        let err = CliError::NotFound {
            kind: "chaosexperiment",
            plural: "experiments",
            name: "nope".into(),
            namespace: "shop".into(),
        };
        assert_eq!(
            err.to_string(),
            "chaosexperiment \"nope\" not found in namespace \"shop\"; list them with: faultline get experiments -n shop"
        );
    }
}
