//! The `faultline` binary: parses the command line and hands over to `faultline::cli`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use faultline::cli;

/// The version and the git commit the binary was built from (build.rs; "unknown" outside a
/// checkout): `faultline 0.1.0 (abc1234)`.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("FAULTLINE_GIT_COMMIT"),
    ")"
);

/// Faultline: chaos experiments for Kubernetes, with verdicts and resilience scores.
#[derive(Debug, Parser)]
#[command(name = "faultline", version = VERSION, about)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the controllers, with /metrics, /healthz and /readyz.
    Operator(OperatorArgs),
    /// Execute a fault (what a fault pod runs): inject, hold for the duration, revert.
    Fault(FaultArgs),
    /// The load of a resource fault (what its fault process starts): join cgroups, burn or fill.
    #[command(hide = true)]
    Hog(HogArgs),
    /// Print the CustomResourceDefinitions as YAML (for kubectl apply -f -), or a Markdown field reference.
    Crds {
        /// yaml; markdown for the field reference (docs/reference.md); fault-rbac and
        /// fault-rbac-helm for the fault types' RBAC (config/rbac/, the chart's templates/);
        /// admission-policies and admission-policies-helm for the admission policies
        /// (config/admission/, the chart's templates/).
        #[arg(long, default_value = "yaml", value_parser = ["yaml", "markdown", "fault-rbac", "fault-rbac-helm", "admission-policies", "admission-policies-helm"])]
        format: String,
    },
    /// Apply (with -f) or pick an experiment, start a run, and with --wait follow it to its end.
    ///
    /// Exit codes: 0 Pass, 1 Fail (score below the minimum), 2 Error, Timeout or Stopped
    /// (also when --timeout passes), 3 usage or connection error.
    Run(RunArgs),
    /// List experiments, results or probes.
    Get {
        #[arg(value_enum)]
        kind: cli::get::Kind,
        /// The namespace (default: the kubeconfig context's).
        #[arg(short, long)]
        namespace: Option<String>,
        /// List across all namespaces.
        #[arg(short = 'A', long)]
        all_namespaces: bool,
        /// Results: only this experiment's.
        #[arg(long)]
        experiment: Option<String>,
    },
    /// Print a run's fault pod logs and Events in time order.
    Logs {
        /// The ChaosResult.
        result: String,
        #[arg(short, long)]
        namespace: Option<String>,
        /// Keep printing until the run has ended and its fault pods are done.
        #[arg(short, long)]
        follow: bool,
    },
    /// Stop an experiment's active run; it reverts what it injected and records Stopped.
    Stop {
        /// The ChaosExperiment.
        name: String,
        #[arg(short, long)]
        namespace: Option<String>,
    },
    /// Render a run's report: html (self-contained), junit (XML) or json (the run's journal);
    /// with --history, an experiment's retained runs (html or json).
    Report {
        /// The ChaosResult; with --history, the ChaosExperiment.
        result: String,
        /// Report on the experiment's retained runs: score over time, verdicts, what failed most.
        #[arg(long)]
        history: bool,
        /// With --history: only the last N runs.
        #[arg(long, requires = "history", value_parser = clap::value_parser!(u16).range(1..=1000))]
        last: Option<u16>,
        #[arg(short, long)]
        namespace: Option<String>,
        #[arg(long, value_enum)]
        format: cli::ReportFormat,
        /// Write to this file instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<std::path::PathBuf>,
    },
    /// Convert an experiment from another tool into ChaosExperiment and ChaosProbe YAML.
    Import {
        #[command(subcommand)]
        from: ImportCommand,
    },
    /// Check that the cluster is reachable and that this identity can list pods.
    Check {
        /// Namespace to list pods in (default: the kubeconfig's or the pod's own).
        #[arg(short, long)]
        namespace: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// A Chaos Toolkit experiment (JSON or YAML); the YAML goes to stdout, notes to stderr.
    ///
    /// Configuration entries of type env are resolved from this process's environment.
    /// Anything that cannot be converted is refused with the full list (exit 3).
    Chaostoolkit {
        /// The Chaos Toolkit experiment file.
        file: std::path::PathBuf,
        /// The namespace of the generated objects (default: the experiment's `ns` arguments).
        #[arg(short, long)]
        namespace: Option<String>,
        /// The experiment's name (default: from its title).
        #[arg(long)]
        name: Option<String>,
    },
    /// A Litmus ChaosEngine (and the ChaosExperiment CRs whose default env it uses) as one
    /// ChaosExperiment; the YAML goes to stdout, notes to stderr.
    ///
    /// Anything that cannot be converted is refused with the full list (exit 3).
    Litmus {
        /// The manifest files.
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
        /// The experiment's namespace (default: the engine's).
        #[arg(short, long)]
        namespace: Option<String>,
        /// The experiment's name (default: the engine's).
        #[arg(long)]
        name: Option<String>,
    },
    /// Chaos Mesh manifests (PodChaos, NetworkChaos, StressChaos, DNSChaos, a Schedule or a
    /// Workflow) as one ChaosExperiment; the YAML goes to stdout, notes to stderr.
    ///
    /// Several files or documents become faults run one after the other. Anything that cannot
    /// be converted is refused with the full list (exit 3).
    Chaosmesh {
        /// The manifest files.
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
        /// The experiment's namespace (default: the first manifest's).
        #[arg(short, long)]
        namespace: Option<String>,
        /// The experiment's name (default: the first manifest's).
        #[arg(long)]
        name: Option<String>,
        /// Add to each fault an end-of-test k8s probe that the Deployments labelled like its
        /// target pods are Available (Chaos Mesh has no probes, and a run without one ends in
        /// Error).
        #[arg(long)]
        probe_available: bool,
    },
}

#[derive(Debug, clap::Args)]
struct OperatorArgs {
    /// Address of the metrics and health endpoints.
    #[arg(long, default_value = "0.0.0.0:8080")]
    metrics_addr: std::net::SocketAddr,
    /// Reconcile experiments only in these namespaces (comma-separated; default: all).
    #[arg(long, value_delimiter = ',')]
    watch_namespaces: Vec<String>,
    /// The image fault pods run: the operator's own.
    #[arg(long, env = "FAULTLINE_IMAGE")]
    image: String,
    /// The operator's namespace.
    #[arg(long, env = "FAULTLINE_NAMESPACE", default_value = "faultline-system")]
    namespace: String,
    /// Namespaces whose experiments may run node faults (comma-separated; default: none).
    #[arg(long, env = "FAULTLINE_NODE_TARGET_NAMESPACES", value_delimiter = ',')]
    node_target_namespaces: Vec<String>,
    /// Label the operator's namespace for the privileged Pod Security level, which the
    /// network faults' pods need (they run there; target namespaces keep their own level).
    #[arg(long, env = "FAULTLINE_LABEL_NAMESPACE_PRIVILEGED")]
    label_namespace_privileged: bool,
    /// Elect a leader on the Lease faultline-operator in the operator's namespace, so several
    /// replicas may run and only the leader reconciles. Without it, run exactly one replica.
    #[arg(long, env = "FAULTLINE_LEADER_ELECTION", default_value_t = true, action = clap::ArgAction::Set)]
    leader_election: bool,
    /// Seconds a Lease stays held without renewal: the longest a follower waits to take over
    /// from a leader that stopped without releasing it (at least 3).
    #[arg(long, env = "FAULTLINE_LEASE_DURATION", default_value_t = 15,
          value_parser = clap::value_parser!(u64).range(3..=300))]
    lease_duration: u64,
    /// This replica's identity in the Lease (default: the pod name from HOSTNAME).
    #[arg(long, env = "FAULTLINE_POD_NAME")]
    identity: Option<String>,
}

#[derive(Debug, clap::Args)]
struct FaultArgs {
    /// The fault type, e.g. pod-delete or workload-scale.
    #[arg(value_parser = clap::builder::ValueParser::new(|s: &str| s.parse::<faultline::api::FaultType>()))]
    fault_type: faultline::api::FaultType,
    /// The ChaosResult of the run.
    #[arg(long)]
    result: String,
    /// The fault's name within the experiment.
    #[arg(long)]
    fault: String,
    /// The result's namespace (in a fault pod: its own).
    #[arg(long, env = "FAULTLINE_NAMESPACE")]
    namespace: String,
    /// Faultline's own namespace, which node-drain never evicts from.
    #[arg(
        long,
        env = "FAULTLINE_OPERATOR_NAMESPACE",
        default_value = "faultline-system"
    )]
    operator_namespace: String,
    /// The node this pod runs on (node-level faults act only on pods there).
    #[arg(long, env = "FAULTLINE_NODE_NAME")]
    node: Option<String>,
    /// The target pods the operator picked, in the target's namespace (node-level faults).
    #[arg(long, value_delimiter = ',')]
    pods: Vec<String>,
    /// Revert the fault's unsettled ledger entries and exit (the backstop's revert pod).
    #[arg(long)]
    revert: bool,
}

/// `faultline run`'s arguments.
#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The experiment to run (already in the cluster).
    #[arg(required_unless_present = "file", conflicts_with = "file")]
    name: Option<String>,
    /// A file (or a directory of YAML/JSON files) with one ChaosExperiment, and any ChaosProbes
    /// it uses, to apply first.
    #[arg(short, long)]
    file: Option<std::path::PathBuf>,
    /// The namespace (default: the kubeconfig context's).
    #[arg(short, long)]
    namespace: Option<String>,
    /// Follow the run to its end and exit with its verdict.
    #[arg(long)]
    wait: bool,
    /// Give up after this long (e.g. 90s, 10m): the run is stopped and the exit code is 2.
    #[arg(long)]
    timeout: Option<faultline::api::Duration>,
    /// Pass only at or above this score (0-100), instead of the experiment's expectedResilienceScore.
    #[arg(long, value_parser = score)]
    min_score: Option<f64>,
    /// Write a JUnit XML report here when the run ends (needs --wait).
    #[arg(long, value_name = "FILE", requires = "wait")]
    junit: Option<std::path::PathBuf>,
    /// Write a self-contained HTML report here when the run ends (needs --wait).
    #[arg(long, value_name = "FILE", requires = "wait")]
    report: Option<std::path::PathBuf>,
    /// How to print the outcome: text, or the run's journal as json or yaml.
    #[arg(short, long, value_enum, default_value = "text")]
    output: cli::run::Output,
}

/// A score from 0 to 100.
fn score(text: &str) -> Result<f64, String> {
    let score: f64 = text.parse().map_err(|_| "not a number".to_string())?;
    if (0.0..=100.0).contains(&score) {
        Ok(score)
    } else {
        Err("a score is between 0 and 100".into())
    }
}

impl From<RunArgs> for cli::run::RunOptions {
    fn from(args: RunArgs) -> Self {
        cli::run::RunOptions {
            file: args.file,
            name: args.name,
            namespace: args.namespace,
            wait: args.wait,
            timeout: args.timeout.map(|t| t.0),
            min_score: args.min_score,
            junit: args.junit,
            report: args.report,
            output: args.output,
        }
    }
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("load").required(true).multiple(false)))]
struct HogArgs {
    /// Names the fault the hog belongs to: <namespace>/<result>/<fault>.
    #[arg(long)]
    tag: String,
    /// The node's cgroup namespace (/proc/<pid>/ns/cgroup of a process of the node's).
    #[arg(long)]
    cgroup_namespace: std::path::PathBuf,
    /// A cgroup directory to join (one per hierarchy).
    #[arg(long = "cgroup")]
    cgroups: Vec<std::path::PathBuf>,
    /// Burn this many millicores.
    #[arg(long, group = "load")]
    millicores: Option<u32>,
    /// Fill and hold this many bytes.
    #[arg(long, group = "load")]
    bytes: Option<u64>,
    /// Write, sync and read back files of this many bytes (with --io-root, --io-dir, --io-file).
    #[arg(long, group = "load", requires_all = ["io_root", "io_dir", "io_files"])]
    io_bytes: Option<u64>,
    /// The container's root: /proc/<pid>/root of one of its processes.
    #[arg(long)]
    io_root: Option<std::path::PathBuf>,
    /// The directory inside the container.
    #[arg(long)]
    io_dir: Option<String>,
    /// A file to write in it (one worker each).
    #[arg(long = "io-file")]
    io_files: Vec<String>,
}

fn hog_main(args: HogArgs) -> ExitCode {
    use faultline::hog::Load;
    let load = match (args.millicores, args.bytes, args.io_bytes) {
        (Some(millicores), _, _) => Load::Cpu { millicores },
        (None, Some(bytes), _) => Load::Memory { bytes },
        (None, None, Some(bytes)) => Load::Io {
            root: args.io_root.unwrap_or_default(),
            dir: args.io_dir.unwrap_or_default(),
            files: args.io_files,
            bytes,
        },
        (None, None, None) => {
            eprintln!("give --millicores, --bytes or --io-bytes");
            return ExitCode::from(3);
        }
    };
    faultline::hog::hog_main(&args.cgroup_namespace, args.cgroups, load)
}

async fn fault_main(args: FaultArgs) -> ExitCode {
    let FaultArgs {
        fault_type,
        result,
        fault,
        namespace,
        operator_namespace,
        node,
        pods,
        revert,
    } = args;
    let env = faultline::faults::Env {
        result: format!("{namespace}/{result}"),
        fault,
        operator_namespace,
        node: node.filter(|n| !n.is_empty()),
        pods,
    };
    // Registered first: from here on SIGTERM asks for the revert instead of killing the process.
    let stop = terminated();
    tracing::info!(
        result = env.result,
        fault = env.fault,
        revert,
        "fault pod started"
    );
    let requests = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = requests.clone();
    let outcome = async {
        let client = faultline::kubeclient::counted_client(move |_| {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        })
        .await?;
        if revert {
            let reverted = faultline::faults::revert_only(client, fault_type, env).await?;
            return Ok(faultline::faults::Report {
                injected: reverted,
                refusals: vec![],
            });
        }
        faultline::faults::run(client, fault_type, env, stop).await
    }
    .await;
    let kube_requests = requests.load(std::sync::atomic::Ordering::Relaxed);
    match outcome {
        Ok(report) => {
            tracing::info!(
                injected = report.injected,
                refusals = report.refusals.len(),
                kube_requests,
                "fault finished"
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            tracing::error!(%err, kube_requests, "fault failed");
            let _ = std::fs::write(faultline::faults::TERMINATION_LOG, err.to_string());
            ExitCode::from(2)
        }
    }
}

/// `faultline operator`: the controllers, until SIGTERM.
async fn operator_main(args: OperatorArgs) -> ExitCode {
    let OperatorArgs {
        metrics_addr,
        watch_namespaces,
        image,
        namespace,
        node_target_namespaces,
        label_namespace_privileged,
        leader_election,
        lease_duration,
        identity,
    } = args;
    let election = leader_election.then(|| faultline::operator::leader::Election {
        identity: identity
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_else(|| format!("faultline-{}", std::process::id())),
        lease_duration: std::time::Duration::from_secs(lease_duration),
    });
    let config = faultline::operator::Config {
        image,
        namespace,
        watch_namespaces,
        metrics_addr,
        node_target_namespaces: node_target_namespaces
            .into_iter()
            .filter(|n| !n.is_empty())
            .collect(),
        label_namespace_privileged,
        election,
    };
    match faultline::operator::run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(%err, "operator failed");
            ExitCode::FAILURE
        }
    }
}

/// Resolves on SIGTERM or SIGINT. The handlers are installed when this is called, not when the
/// future is first polled, so a signal that arrives early is not lost (nor fatal).
fn terminated() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate());
    let interrupt = signal(SignalKind::interrupt());
    async move {
        match (term, interrupt) {
            (Ok(mut term), Ok(mut interrupt)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = interrupt.recv() => {}
                }
            }
            (Ok(mut term), Err(_)) => {
                term.recv().await;
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}

/// Prints a command's output and returns the OK exit code.
fn print_ok(text: String) -> u8 {
    print!("{text}");
    cli::exit::OK
}

/// The exit code of a CLI command; errors go to stderr with what to fix.
fn finish(outcome: Result<u8, cli::CliError>) -> ExitCode {
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("faultline: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}

/// The name the binary answers to in its help and usage: `kubectl faultline` when it runs as
/// the kubectl plugin `kubectl-faultline` (kubectl finds plugins on PATH by that prefix).
fn bin_name(argv0: &std::ffi::OsStr) -> &'static str {
    let file = std::path::Path::new(argv0)
        .file_stem()
        .and_then(|stem| stem.to_str())
        .unwrap_or_default();
    if file == "kubectl-faultline" {
        "kubectl faultline"
    } else {
        "faultline"
    }
}

/// The command line, named after how the binary was called ([`bin_name`]).
fn parse(argv: impl IntoIterator<Item = std::ffi::OsString>) -> Result<Args, clap::Error> {
    use clap::{CommandFactory, FromArgMatches};
    let argv: Vec<_> = argv.into_iter().collect();
    let name = argv.first().map_or("faultline", |argv0| bin_name(argv0));
    let matches = Args::command().bin_name(name).try_get_matches_from(argv)?;
    Args::from_arg_matches(&matches)
}

fn main() -> ExitCode {
    // Usage errors exit 3, as the design's exit codes say (clap's own default is 2, which
    // pipelines read as "the run ended in Error").
    let args = match parse(std::env::args_os()) {
        Ok(args) => args,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() {
                cli::exit::USAGE_OR_CONNECTION
            } else {
                cli::exit::OK
            });
        }
    };
    // Before any thread starts: a hog runs no runtime, and a resource fault re-executes itself
    // as the first process of a PID namespace of its own.
    match &args.command {
        Command::Hog(_) => {
            let Command::Hog(hog) = args.command else {
                unreachable!()
            };
            return hog_main(hog);
        }
        Command::Fault(fault)
            if !fault.revert && faultline::faults::kind(fault.fault_type).own_pid_namespace() =>
        {
            if let Some(code) = faultline::hog::in_own_pid_namespace() {
                return code;
            }
        }
        _ => {}
    }
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(dispatch(args)),
        Err(err) => {
            eprintln!("faultline: cannot start the async runtime: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Prints the CRDs as YAML, the field reference, or the fault types' RBAC.
fn crds_main(format: &str) -> ExitCode {
    match format {
        "markdown" => print!(
            "{}",
            faultline::api::reference::reference_markdown(&faultline::api::crds())
        ),
        "fault-rbac" | "fault-rbac-helm" => {
            let flavour = if format == "fault-rbac-helm" {
                faultline::faults::rbac::Flavour::Helm
            } else {
                faultline::faults::rbac::Flavour::Plain
            };
            print!("{}", faultline::faults::rbac::fault_rbac(flavour));
        }
        "admission-policies" | "admission-policies-helm" => {
            let flavour = if format == "admission-policies-helm" {
                faultline::faults::rbac::Flavour::Helm
            } else {
                faultline::faults::rbac::Flavour::Plain
            };
            print!(
                "{}",
                faultline::faults::admission::admission_policies(flavour)
            );
        }
        _ => match faultline::api::crds_yaml() {
            Ok(yaml) => print!("{yaml}"),
            Err(err) => {
                eprintln!("faultline: cannot render the CRDs: {err}");
                return ExitCode::FAILURE;
            }
        },
    }
    ExitCode::from(cli::exit::OK)
}

/// Runs a parsed command on the async runtime.
async fn dispatch(args: Args) -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    if matches!(args.command, Command::Operator(_) | Command::Fault(_)) {
        faultline::telemetry::init(std::env::var("FAULTLINE_LOG_FORMAT").ok().as_deref());
    }
    match args.command {
        Command::Operator(args) => operator_main(args).await,
        Command::Fault(args) => fault_main(args).await,
        Command::Hog(_) => unreachable!("a hog runs before the runtime starts"),
        Command::Crds { format } => crds_main(&format),
        command => finish(cli_command(command).await),
    }
}

/// Runs one of the commands a person types against a cluster, and returns its exit code.
async fn cli_command(command: Command) -> Result<u8, cli::CliError> {
    match command {
        Command::Run(args) => cli::run::run(args.into()).await,
        Command::Get {
            kind,
            namespace,
            all_namespaces,
            experiment,
        } => {
            let options = cli::get::GetOptions {
                kind,
                namespace,
                all_namespaces,
                experiment,
            };
            cli::get::run(options).await.map(print_ok)
        }
        Command::Logs {
            result,
            namespace,
            follow,
        } => cli::logs::run(&result, namespace.as_deref(), follow)
            .await
            .map(|()| cli::exit::OK),
        Command::Stop { name, namespace } => cli::stop::run(&name, namespace.as_deref())
            .await
            .map(print_ok),
        Command::Report {
            result,
            history,
            last,
            namespace,
            format,
            output,
        } => report_main(&result, history, last, namespace.as_deref(), format, output).await,
        Command::Import {
            from:
                ImportCommand::Chaostoolkit {
                    file,
                    namespace,
                    name,
                },
        } => cli::import_chaostoolkit(&file, namespace, name),
        Command::Import {
            from:
                ImportCommand::Litmus {
                    files,
                    namespace,
                    name,
                },
        } => cli::import_litmus(&files, cli::litmus::ImportOptions { namespace, name }),
        Command::Import {
            from:
                ImportCommand::Chaosmesh {
                    files,
                    namespace,
                    name,
                    probe_available,
                },
        } => cli::import_chaosmesh(
            &files,
            cli::chaosmesh::ImportOptions {
                namespace,
                name,
                probe_available,
            },
        ),
        Command::Check { namespace } => cli::check::run(namespace).await.map(|report| {
            print!("{report}");
            cli::exit::OK
        }),
        Command::Operator(_) | Command::Fault(_) | Command::Hog(_) | Command::Crds { .. } => {
            unreachable!("dispatch runs the operator's own commands")
        }
    }
}

/// `faultline report`: one run's report, or with `--history` the experiment's.
async fn report_main(
    result: &str,
    history: bool,
    last: Option<u16>,
    namespace: Option<&str>,
    format: cli::ReportFormat,
    output: Option<std::path::PathBuf>,
) -> Result<u8, cli::CliError> {
    if history {
        let last = last.map(usize::from);
        cli::history_command(result, namespace, last, format, output.as_deref()).await
    } else {
        cli::report_command(result, namespace, format, output.as_deref()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn the_version_names_the_commit_it_was_built_from() {
        let version = Args::command().render_version();
        let commit = version
            .strip_prefix(concat!("faultline ", env!("CARGO_PKG_VERSION"), " ("))
            .and_then(|rest| rest.strip_suffix(")\n"))
            .unwrap_or_else(|| panic!("unexpected version line {version:?}"));
        let hash = commit.strip_suffix("-dirty").unwrap_or(commit);
        assert!(
            commit == "unknown" || (hash.len() >= 7 && hash.chars().all(|c| c.is_ascii_hexdigit())),
            "{commit:?} is neither a short commit hash (with -dirty for uncommitted sources) nor unknown"
        );
    }

    #[test]
    fn as_a_kubectl_plugin_it_calls_itself_kubectl_faultline() {
        let usage = |argv0: &str| {
            parse([argv0, "run"].map(std::ffi::OsString::from))
                .unwrap_err()
                .to_string()
        };
        assert!(
            usage("/usr/local/bin/kubectl-faultline").contains("Usage: kubectl faultline run"),
            "{}",
            usage("/usr/local/bin/kubectl-faultline")
        );
        assert!(usage("faultline").contains("Usage: faultline run"));
        assert!(usage("./target/release/faultline").contains("Usage: faultline run"));
    }

    #[test]
    fn clap_checks_the_run_arguments() {
        let run = |args: &[&str]| {
            let argv = ["faultline", "run"].iter().chain(args).copied();
            Args::try_parse_from(argv)
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        assert!(run(&["web", "--min-score", "80"]).is_ok());
        assert!(run(&["web", "--min-score", "0"]).is_ok());
        let out_of_range = run(&["web", "--min-score", "150"]).unwrap_err();
        assert!(
            out_of_range.contains("a score is between 0 and 100"),
            "{out_of_range}"
        );
        assert!(run(&["web", "--min-score", "high"]).is_err());
        let no_wait = run(&["web", "--junit", "j.xml"]).unwrap_err();
        assert!(no_wait.contains("--wait"), "{no_wait}");
        assert!(run(&["web", "--report", "r.html", "--wait"]).is_ok());
        assert!(run(&["web", "-f", "x.yaml"]).is_err(), "a name and a file");
        assert!(run(&[]).is_err(), "neither a name nor a file");
    }

    #[test]
    fn check_takes_a_namespace() {
        let args = Args::try_parse_from(["faultline", "check", "-n", "shop"]).unwrap();
        assert!(matches!(args.command, Command::Check { namespace: Some(ns) } if ns == "shop"));
    }
}
