//! A Kubernetes client that counts the requests it sends, so "API requests per run" is measured.

use std::sync::Arc;

use hyper::{Method, Request};
use kube::{Client, Config, client::ClientBuilder};
use tower::util::MapRequestLayer;

/// A client from the kubeconfig or in-cluster configuration that calls `on_request` with the
/// HTTP verb of every request it sends.
pub async fn counted_client(
    on_request: impl Fn(&Method) + Send + Sync + 'static,
) -> Result<Client, kube::Error> {
    let config = Config::infer().await.map_err(kube::Error::InferConfig)?;
    let on_request = Arc::new(on_request);
    let layer = MapRequestLayer::new(move |request: Request<kube::client::Body>| {
        on_request(request.method());
        request
    });
    Ok(ClientBuilder::try_from(config)?.with_layer(&layer).build())
}
