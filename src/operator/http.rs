//! The operator's HTTP endpoints: /metrics, /healthz and /readyz.

use std::{
    convert::Infallible,
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU8, Ordering},
    },
};

use http_body_util::Full;
use hyper::{Request, Response, StatusCode, body::Bytes, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::metrics::Metrics;

/// What a replica is doing, as /readyz tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Role {
    /// Waiting for the CRDs or the first contact with the API server: not ready.
    Starting = 0,
    /// Ready to take over: waiting for the Lease that another replica holds.
    Standby = 1,
    /// Holds the Lease (or runs without election): the controllers run here.
    Leader = 2,
}

/// The replica's role, shared by the operator and the endpoints.
#[derive(Debug, Default)]
pub struct Health(AtomicU8);

impl Health {
    pub fn set(&self, role: Role) {
        self.0.store(role as u8, Ordering::Relaxed);
    }

    pub fn role(&self) -> Role {
        match self.0.load(Ordering::Relaxed) {
            2 => Role::Leader,
            1 => Role::Standby,
            _ => Role::Starting,
        }
    }
}

/// Serves the endpoints until the process ends.
pub async fn serve(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    tracing::info!(%addr, "serving /metrics, /healthz and /readyz");
    loop {
        let (stream, _) = listener.accept().await?;
        let metrics = metrics.clone();
        let health = health.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                let response = respond(req.uri().path(), &metrics, health.role());
                async move { Ok::<_, Infallible>(response) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// /readyz is 200 for the leader and for a follower standing by: a follower is ready to take
/// over, and a rolling update must be able to replace replicas one at a time. The body says
/// which, as does the `faultline_leader` gauge.
fn respond(path: &str, metrics: &Metrics, role: Role) -> Response<Full<Bytes>> {
    let (status, body, content_type) = match path {
        "/metrics" => (
            StatusCode::OK,
            metrics.render(),
            "text/plain; version=0.0.4",
        ),
        "/healthz" => (StatusCode::OK, "ok\n".to_string(), "text/plain"),
        "/readyz" => match role {
            Role::Leader => (StatusCode::OK, "ok: leader\n".to_string(), "text/plain"),
            Role::Standby => (
                StatusCode::OK,
                "ok: standby, another replica leads\n".to_string(),
                "text/plain",
            ),
            Role::Starting => (
                StatusCode::SERVICE_UNAVAILABLE,
                "starting\n".to_string(),
                "text/plain",
            ),
        },
        _ => (
            StatusCode::NOT_FOUND,
            "not found\n".to_string(),
            "text/plain",
        ),
    };
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(response: Response<Full<Bytes>>) -> String {
        use http_body_util::BodyExt;
        let bytes = futures::executor::block_on(response.into_body().collect())
            .expect("a body")
            .to_bytes();
        String::from_utf8(bytes.to_vec()).expect("UTF-8")
    }

    #[test]
    fn readyz_tells_the_leader_from_a_follower_and_both_from_a_starting_replica() {
        let metrics = Metrics::new();
        let starting = respond("/readyz", &metrics, Role::Starting);
        assert_eq!(starting.status(), StatusCode::SERVICE_UNAVAILABLE);
        let standby = respond("/readyz", &metrics, Role::Standby);
        assert_eq!(standby.status(), StatusCode::OK);
        assert!(body(standby).contains("standby"));
        let leader = respond("/readyz", &metrics, Role::Leader);
        assert_eq!(leader.status(), StatusCode::OK);
        assert_eq!(body(leader), "ok: leader\n");
        assert_eq!(
            respond("/healthz", &metrics, Role::Starting).status(),
            StatusCode::OK
        );
        assert_eq!(
            respond("/nope", &metrics, Role::Leader).status(),
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn the_role_round_trips() {
        let health = Health::default();
        assert_eq!(health.role(), Role::Starting);
        for role in [Role::Standby, Role::Leader, Role::Starting] {
            health.set(role);
            assert_eq!(health.role(), role);
        }
    }
}
