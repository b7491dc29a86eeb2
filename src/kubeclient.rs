//! A Kubernetes client that counts the requests it sends, so "API requests per run" is measured.

use std::sync::Arc;

use hyper::{Method, Request};
use kube::{Client, Config, client::ClientBuilder};
use tower::util::MapRequestLayer;

/// How a client treats 429 and 503 answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retries {
    /// kube's default: retry them with backoff (up to 15 times), as a controller wants.
    Default,
    /// Return them at once: a fault pod treats an eviction a PodDisruptionBudget refuses (429)
    /// as an answer, not as throttling to wait out.
    None,
}

/// A client from the kubeconfig or in-cluster configuration that calls `on_request` with the
/// HTTP verb of every request it sends.
pub async fn counted_client(
    retries: Retries,
    on_request: impl Fn(&Method) + Send + Sync + 'static,
) -> Result<Client, kube::Error> {
    let mut config = Config::infer().await.map_err(kube::Error::InferConfig)?;
    config.default_retry = retries == Retries::Default;
    let on_request = Arc::new(on_request);
    let layer = MapRequestLayer::new(move |request: Request<kube::client::Body>| {
        on_request(request.method());
        request
    });
    Ok(ClientBuilder::try_from(config)?.with_layer(&layer).build())
}
