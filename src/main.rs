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
    /// Print the CustomResourceDefinitions as YAML (for kubectl apply -f -).
    Crds,
    /// Check that the cluster is reachable and that this identity can list pods.
    Check {
        /// Namespace to list pods in (default: the kubeconfig's or the pod's own).
        #[arg(short, long)]
        namespace: Option<String>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match args.command {
        Command::Crds => match faultline::api::crds_yaml() {
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
