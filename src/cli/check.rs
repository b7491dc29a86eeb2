//! `faultline check`: proves the cluster is reachable with the current identity, from a
//! terminal (kubeconfig) or from inside a pod (its ServiceAccount token).

use k8s_openapi::api::core::v1::Pod;
use kube::{Api, Client, api::ListParams};

use super::CliError;

/// What `faultline check` found.
#[derive(Debug)]
pub struct CheckReport {
    pub server_version: String,
    pub namespace: String,
    pub pods: Vec<String>,
}

impl std::fmt::Display for CheckReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "api-server: {}", self.server_version)?;
        writeln!(
            f,
            "pods in namespace {}: {}",
            self.namespace,
            self.pods.len()
        )?;
        for pod in &self.pods {
            writeln!(f, "  {pod}")?;
        }
        Ok(())
    }
}

/// Connects with the default configuration and lists pods in `namespace` (or the
/// configuration's default namespace).
pub async fn run(namespace: Option<String>) -> Result<CheckReport, CliError> {
    let client = Client::try_default().await.map_err(CliError::Config)?;
    let info = client
        .apiserver_version()
        .await
        .map_err(|source| CliError::Connection {
            url: "the configured API server".into(),
            source,
        })?;
    let namespace = namespace.unwrap_or_else(|| client.default_namespace().to_string());
    let pods: Api<Pod> = Api::namespaced(client, &namespace);
    let list = pods
        .list(&ListParams::default())
        .await
        .map_err(|source| CliError::ListPods {
            namespace: namespace.clone(),
            source,
        })?;
    let pods = list
        .items
        .into_iter()
        .filter_map(|pod| pod.metadata.name)
        .collect();
    Ok(CheckReport {
        server_version: info.git_version,
        namespace,
        pods,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_lists_version_namespace_and_pods() {
        let report = CheckReport {
            server_version: "v1.33.13".into(),
            namespace: "shop".into(),
            pods: vec!["web-1".into(), "web-2".into()],
        };
        assert_eq!(
            report.to_string(),
            "api-server: v1.33.13\npods in namespace shop: 2\n  web-1\n  web-2\n"
        );
    }
}
