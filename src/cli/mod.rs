//! The command-line interface for people and pipelines.

pub mod chaostoolkit;
pub mod check;
pub mod journal;

use thiserror::Error;

/// Exit codes pipelines can act on (see docs/cli.md).
pub mod exit {
    /// The command did what was asked.
    pub const OK: u8 = 0;
    /// Usage error, or the cluster could not be reached.
    pub const USAGE_OR_CONNECTION: u8 = 3;
}

/// Errors of the CLI layer.
#[derive(Debug, Error)]
pub enum CliError {
    #[error("cannot load a Kubernetes client configuration (kubeconfig or in-cluster): {0}")]
    Config(#[source] kube::Error),
    #[error("cannot reach the Kubernetes API server: {0}")]
    Connection(#[source] kube::Error),
    #[error("the API server refused to list pods in namespace {namespace:?}: {source}")]
    ListPods {
        namespace: String,
        #[source]
        source: kube::Error,
    },
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Config(_) | CliError::Connection(_) | CliError::ListPods { .. } => {
                exit::USAGE_OR_CONNECTION
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_errors_exit_with_the_usage_or_connection_code() {
        let err = CliError::Connection(kube::Error::LinesCodecMaxLineLengthExceeded);
        assert_eq!(err.exit_code(), 3);
    }
}
