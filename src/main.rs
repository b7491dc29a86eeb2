//! The `faultline` binary: parses the command line and hands over to `faultline::cli`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use faultline::cli;

/// Faultline: chaos experiments for Kubernetes, with verdicts and resilience scores.
#[derive(Debug, Parser)]
#[command(name = "faultline", version, about)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the controllers, with /metrics, /healthz and /readyz.
    Operator {
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
    },
    /// Execute a fault (what a fault pod runs).
    Fault {
        #[command(subcommand)]
        fault: FaultCommand,
    },
    /// Print the CustomResourceDefinitions as YAML (for kubectl apply -f -), or a Markdown field reference.
    Crds {
        /// yaml, or markdown for the field reference (docs/reference.md).
        #[arg(long, default_value = "yaml", value_parser = ["yaml", "markdown"])]
        format: String,
    },
    /// Check that the cluster is reachable and that this identity can list pods.
    Check {
        /// Namespace to list pods in (default: the kubeconfig's or the pod's own).
        #[arg(short, long)]
        namespace: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum FaultCommand {
    /// Delete target pods every interval for the duration.
    PodDelete {
        /// The ChaosResult of the run.
        #[arg(long)]
        result: String,
        /// The fault's name within the experiment.
        #[arg(long)]
        fault: String,
        /// The result's namespace (in a fault pod: its own).
        #[arg(long, env = "FAULTLINE_NAMESPACE")]
        namespace: String,
    },
}

async fn fault_main(command: FaultCommand) -> ExitCode {
    let FaultCommand::PodDelete {
        result,
        fault,
        namespace,
    } = command;
    let requests = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = requests.clone();
    let outcome = async {
        let client = faultline::kubeclient::counted_client(move |_| {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        })
        .await?;
        faultline::faults::run(client, &namespace, &result, &fault, terminated()).await
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

/// Resolves on SIGTERM or SIGINT.
async fn terminated() {
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

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if matches!(
        args.command,
        Command::Operator { .. } | Command::Fault { .. }
    ) {
        faultline::telemetry::init(std::env::var("FAULTLINE_LOG_FORMAT").ok().as_deref());
    }
    match args.command {
        Command::Operator {
            metrics_addr,
            watch_namespaces,
            image,
            namespace,
        } => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let config = faultline::operator::Config {
                image,
                namespace,
                watch_namespaces,
                metrics_addr,
            };
            match faultline::operator::run(config).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    tracing::error!(%err, "operator failed");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Fault { fault } => fault_main(fault).await,
        Command::Crds { format } if format == "markdown" => {
            print!(
                "{}",
                faultline::api::reference::reference_markdown(&faultline::api::crds())
            );
            ExitCode::from(cli::exit::OK)
        }
        Command::Crds { .. } => match faultline::api::crds_yaml() {
            Ok(yaml) => {
                print!("{yaml}");
                ExitCode::from(cli::exit::OK)
            }
            Err(err) => {
                eprintln!("faultline: cannot render the CRDs: {err}");
                ExitCode::FAILURE
            }
        },
        Command::Check { namespace } => match cli::check::run(namespace).await {
            Ok(report) => {
                print!("{report}");
                ExitCode::from(cli::exit::OK)
            }
            Err(err) => {
                eprintln!("faultline: {err}");
                ExitCode::from(err.exit_code())
            }
        },
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
    fn check_takes_a_namespace() {
        let args = Args::try_parse_from(["faultline", "check", "-n", "shop"]).unwrap();
        assert!(matches!(args.command, Command::Check { namespace: Some(ns) } if ns == "shop"));
    }
}
