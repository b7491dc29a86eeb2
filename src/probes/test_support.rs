//! Test helpers: a loopback HTTP server and a context whose API server is a closed local port.

use std::{collections::BTreeMap, convert::Infallible, future::Future, net::SocketAddr};

use http_body_util::Full;
use hyper::{
    Request, Response,
    body::{Bytes, Incoming},
    server::conn::http1,
    service::service_fn,
};
use hyper_util::rt::TokioIo;
use tokio::{net::TcpListener, task::JoinHandle};

use super::ProbeContext;

/// A server on 127.0.0.1 that answers every request with `handler`; stopped on drop.
pub(crate) struct TestServer {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl TestServer {
    /// `http://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a server on 127.0.0.1:0.
pub(crate) async fn serve<F, Fut>(handler: F) -> TestServer
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local address");
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let handler = handler.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let answer = handler(req);
                    async move { Ok::<_, Infallible>(answer.await) }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    TestServer { addr, task }
}

/// A response with this status and body.
pub(crate) fn text_response(status: u16, body: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .body(Full::new(Bytes::from(body.to_owned())))
        .expect("a valid response")
}

/// A local port that nothing listens on (bound, then released).
pub(crate) fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("local address").port()
}

/// A context whose client points at a closed port on 127.0.0.1, so nothing leaves the host.
pub(crate) fn context() -> ProbeContext {
    let url = format!("http://127.0.0.1:{}", closed_port());
    let config = kube::Config::new(url.parse().expect("a valid URL"));
    ProbeContext {
        client: kube::Client::try_from(config).expect("a client"),
        namespace: "default".into(),
        owner: None,
        default_image: "faultline:test".into(),
        labels: BTreeMap::new(),
    }
}
