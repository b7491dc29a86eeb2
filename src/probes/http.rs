//! HTTP(S) probes: one request, then its status, body and latency against the spec.
//!
//! Also home of the shared HTTP client that Prometheus probes use. Connections are not
//! pooled: every check opens its own, so it resolves DNS and goes through the Service's load
//! balancing again instead of riding a kept-alive connection to one backend.

use std::{
    fmt,
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

use http_body_util::{BodyExt, Full};
use hyper::{
    Method, Request, StatusCode, Uri,
    body::Bytes,
    header::{HeaderName, HeaderValue, USER_AGENT},
};
use hyper_rustls::{ConfigBuilderExt, HttpsConnector};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};
use regex::Regex;
use rustls::{
    ClientConfig, DigitallySignedStruct, SignatureScheme,
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature},
    pki_types::{CertificateDer, ServerName, UnixTime},
};

use super::{Outcome, Probe, ProbeContext, error_chain};
use crate::api::HttpProbe;

/// The most of a response body that is read; the rest is ignored.
pub(crate) const BODY_LIMIT: usize = 1 << 20;

const USER_AGENT_VALUE: &str = concat!("faultline-probe/", env!("CARGO_PKG_VERSION"));

type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Why a request got no complete answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FetchError {
    #[error("TLS configuration: {0}")]
    Tls(#[source] rustls::Error),
    #[error("{}", error_chain(.0))]
    Request(#[source] hyper_util::client::legacy::Error),
    #[error("reading the body: {}", error_chain(.0))]
    Body(#[source] hyper::Error),
}

/// A complete answer: status, at most [`BODY_LIMIT`] bytes of body, and the time it took.
pub(crate) struct Fetched {
    pub status: StatusCode,
    pub body: Vec<u8>,
    pub elapsed: Duration,
}

/// Sends `request` with the shared client and reads the answer.
pub(crate) async fn fetch(
    request: Request<Full<Bytes>>,
    insecure_skip_verify: bool,
) -> Result<Fetched, FetchError> {
    let client = shared_client(insecure_skip_verify).map_err(FetchError::Tls)?;
    let started = Instant::now();
    let response = client.request(request).await.map_err(FetchError::Request)?;
    let status = response.status();
    let mut body = response.into_body();
    let mut bytes = Vec::new();
    while bytes.len() < BODY_LIMIT {
        let Some(frame) = body.frame().await else {
            break;
        };
        if let Ok(data) = frame.map_err(FetchError::Body)?.into_data() {
            let room = BODY_LIMIT - bytes.len();
            bytes.extend_from_slice(&data[..data.len().min(room)]);
        }
    }
    Ok(Fetched {
        status,
        body: bytes,
        elapsed: started.elapsed(),
    })
}

/// A clone of the process-wide client; one verifies certificates against the webpki roots,
/// the other accepts any certificate.
fn shared_client(insecure_skip_verify: bool) -> Result<HttpClient, rustls::Error> {
    static VERIFYING: OnceLock<Result<HttpClient, rustls::Error>> = OnceLock::new();
    static INSECURE: OnceLock<Result<HttpClient, rustls::Error>> = OnceLock::new();
    let cell = if insecure_skip_verify {
        &INSECURE
    } else {
        &VERIFYING
    };
    cell.get_or_init(|| build_client(insecure_skip_verify))
        .clone()
}

fn build_client(insecure_skip_verify: bool) -> Result<HttpClient, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let tls = if insecure_skip_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
            .with_no_client_auth()
    } else {
        builder.with_webpki_roots().with_no_client_auth()
    };
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build(connector))
}

/// Accepts any server certificate, for `insecureSkipVerify`. Handshake signatures are still
/// checked, so the peer must hold the key of the certificate it shows.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Why a probe's spec cannot be turned into a request or a check.
#[derive(Debug, thiserror::Error)]
enum SpecError {
    #[error("invalid url {url:?}: {source}")]
    Url {
        url: String,
        #[source]
        source: hyper::http::uri::InvalidUri,
    },
    #[error("invalid method {0:?}")]
    Method(String),
    #[error("invalid header {0:?}")]
    Header(String),
    #[error("invalid request: {0}")]
    Request(#[source] hyper::http::Error),
    #[error("invalid expectedStatus {0:?}: use a code such as 200 or a range such as 200-299")]
    ExpectedStatus(String),
    #[error("invalid bodyMatches {pattern:?}: {source}")]
    BodyMatches {
        pattern: String,
        #[source]
        source: regex::Error,
    },
}

/// An accepted status: one code, or an inclusive range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct StatusRange {
    low: u16,
    high: u16,
}

impl StatusRange {
    fn parse(text: &str) -> Result<Self, SpecError> {
        let bad = || SpecError::ExpectedStatus(text.to_owned());
        let code = |s: &str| {
            s.trim()
                .parse::<u16>()
                .ok()
                .filter(|c| (100..=599).contains(c))
        };
        let (low, high) = match text.split_once('-') {
            Some((low, high)) => (code(low).ok_or_else(bad)?, code(high).ok_or_else(bad)?),
            None => {
                let c = code(text).ok_or_else(bad)?;
                (c, c)
            }
        };
        if low > high {
            return Err(bad());
        }
        Ok(StatusRange { low, high })
    }

    fn contains(&self, status: u16) -> bool {
        (self.low..=self.high).contains(&status)
    }
}

impl fmt::Display for StatusRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.low == self.high {
            write!(f, "{}", self.low)
        } else {
            write!(f, "{}-{}", self.low, self.high)
        }
    }
}

/// The spec, checked and ready to send.
struct Prepared {
    request: Request<Full<Bytes>>,
    expected: Vec<StatusRange>,
    body_matches: Option<Regex>,
}

/// The spec builds a request: the URL, method, headers, expected statuses and bodyMatches parse.
pub(super) fn validate(probe: &HttpProbe) -> Result<(), String> {
    prepare(probe).map(|_| ()).map_err(|e| e.to_string())
}

fn prepare(probe: &HttpProbe) -> Result<Prepared, SpecError> {
    let uri: Uri = probe.url.parse().map_err(|source| SpecError::Url {
        url: probe.url.clone(),
        source,
    })?;
    let method = Method::from_bytes(probe.method.trim().to_ascii_uppercase().as_bytes())
        .map_err(|_| SpecError::Method(probe.method.clone()))?;
    let mut builder = Request::builder().method(method).uri(uri);
    for (name, value) in &probe.headers {
        let name =
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| SpecError::Header(name.clone()))?;
        let value =
            HeaderValue::from_str(value).map_err(|_| SpecError::Header(name.to_string()))?;
        builder = builder.header(name, value);
    }
    if !probe
        .headers
        .keys()
        .any(|k| k.eq_ignore_ascii_case("user-agent"))
    {
        builder = builder.header(USER_AGENT, USER_AGENT_VALUE);
    }
    let body = Bytes::from(probe.body.clone().unwrap_or_default());
    let request = builder.body(Full::new(body)).map_err(SpecError::Request)?;
    let mut expected = probe
        .expected_status
        .iter()
        .map(|s| StatusRange::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    if expected.is_empty() {
        expected.push(StatusRange {
            low: 200,
            high: 200,
        });
    }
    let body_matches = probe
        .body_matches
        .as_deref()
        .map(|pattern| {
            Regex::new(pattern).map_err(|source| SpecError::BodyMatches {
                pattern: pattern.to_owned(),
                source,
            })
        })
        .transpose()?;
    Ok(Prepared {
        request,
        expected,
        body_matches,
    })
}

impl HttpProbe {
    /// The request, as every message of the probe starts: "GET http://web/health".
    pub(crate) fn what(&self) -> String {
        format!("{} {}", self.method.trim().to_ascii_uppercase(), self.url)
    }
}

impl Probe for HttpProbe {
    async fn check(&self, _ctx: &ProbeContext) -> Outcome {
        let what = self.what();
        let prepared = match prepare(self) {
            Ok(prepared) => prepared,
            Err(e) => return Outcome::Unknown(format!("{what}: {e}")),
        };
        let fetched = match fetch(prepared.request, self.insecure_skip_verify).await {
            Ok(fetched) => fetched,
            Err(e @ FetchError::Tls(_)) => return Outcome::Unknown(format!("{what}: {e}")),
            Err(e) => return Outcome::Failed(format!("{what}: {e}")),
        };
        judge(
            &what,
            self,
            &prepared.expected,
            prepared.body_matches.as_ref(),
            &fetched,
        )
    }
}

/// Compares a complete answer with the spec: status first, then latency, then body.
fn judge(
    what: &str,
    probe: &HttpProbe,
    expected: &[StatusRange],
    body_matches: Option<&Regex>,
    fetched: &Fetched,
) -> Outcome {
    let status = fetched.status.as_u16();
    let took = format_latency(fetched.elapsed);
    if !expected.iter().any(|range| range.contains(status)) {
        let expected = expected
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        return Outcome::Failed(format!(
            "{what}: expected status {expected}, got {status} in {took}"
        ));
    }
    if let Some(max) = probe.max_latency
        && fetched.elapsed > max.as_std()
    {
        return Outcome::Failed(format!(
            "{what}: {status} in {took}, slower than maxLatency {max}"
        ));
    }
    if let Some(re) = body_matches
        && !re.is_match(&String::from_utf8_lossy(&fetched.body))
    {
        return Outcome::Failed(format!(
            "{what}: {status} in {took}, but the body does not match {:?}",
            re.as_str()
        ));
    }
    Outcome::Passed(format!("{what}: {status} in {took}"))
}

fn format_latency(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Duration as ApiDuration;
    use crate::probes::test_support::{closed_port, context, serve, text_response};

    fn probe(url: String) -> HttpProbe {
        serde_json::from_value(serde_json::json!({ "url": url })).expect("a minimal http probe")
    }

    async fn shop() -> crate::probes::test_support::TestServer {
        serve(|req| async move {
            match req.uri().path() {
                "/health" => text_response(200, "status: ok, version 1.4.2"),
                "/created" => text_response(201, ""),
                "/down" => text_response(503, "unavailable"),
                "/slow" => {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    text_response(200, "ok")
                }
                "/echo" => {
                    let method = req.method().to_string();
                    let token = req
                        .headers()
                        .get("x-token")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-")
                        .to_owned();
                    let body = req.into_body().collect().await.expect("body").to_bytes();
                    let body = String::from_utf8_lossy(&body).into_owned();
                    text_response(200, &format!("{method} {token} {body}"))
                }
                "/big" => text_response(200, &"x".repeat(BODY_LIMIT + 10)),
                _ => text_response(404, "not found"),
            }
        })
        .await
    }

    #[tokio::test]
    async fn a_matching_status_passes_with_the_latency() {
        let server = shop().await;
        let outcome = probe(server.url("/health")).check(&context()).await;
        let Outcome::Passed(message) = outcome else {
            panic!("{outcome:?}")
        };
        let prefix = format!("GET {}: 200 in ", server.url("/health"));
        assert!(
            message.starts_with(&prefix) && message.ends_with("ms"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn a_wrong_status_fails_and_names_both() {
        let server = shop().await;
        let outcome = probe(server.url("/down")).check(&context()).await;
        assert!(
            matches!(&outcome, Outcome::Failed(m) if m.contains("expected status 200, got 503")),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn a_status_range_accepts_any_code_inside() {
        let server = shop().await;
        let mut p = probe(server.url("/created"));
        p.expected_status = vec!["200-299".into()];
        assert!(p.check(&context()).await.is_passed());
        p.expected_status = vec!["200".into(), "202-204".into()];
        let outcome = p.check(&context()).await;
        assert!(
            matches!(&outcome, Outcome::Failed(m) if m.contains("expected status 200, 202-204, got 201")),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn the_body_regex_is_searched() {
        let server = shop().await;
        let mut p = probe(server.url("/health"));
        p.body_matches = Some(r"version \d+\.\d+".into());
        assert!(p.check(&context()).await.is_passed());
        p.body_matches = Some("^degraded".into());
        let outcome = p.check(&context()).await;
        assert!(
            matches!(&outcome, Outcome::Failed(m) if m.contains("does not match \"^degraded\"")),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn method_headers_and_body_are_sent() {
        let server = shop().await;
        let mut p = probe(server.url("/echo"));
        p.method = "post".into();
        p.headers.insert("X-Token".into(), "s3cret".into());
        p.body = Some("{\"q\":1}".into());
        p.body_matches = Some(r#"^POST s3cret \{"q":1\}$"#.into());
        let outcome = p.check(&context()).await;
        assert!(outcome.is_passed(), "{outcome:?}");
        assert!(outcome.message().starts_with("POST "), "{outcome:?}");
    }

    #[tokio::test]
    async fn exceeding_max_latency_fails() {
        let server = shop().await;
        let mut p = probe(server.url("/slow"));
        p.max_latency = Some(ApiDuration::from_millis(50));
        let outcome = p.check(&context()).await;
        assert!(
            matches!(&outcome, Outcome::Failed(m) if m.contains("slower than maxLatency 50ms")),
            "{outcome:?}"
        );
        p.max_latency = Some(ApiDuration::from_secs(5));
        assert!(p.check(&context()).await.is_passed());
    }

    #[tokio::test]
    async fn a_refused_connection_fails() {
        let url = format!("http://127.0.0.1:{}/health", closed_port());
        let outcome = probe(url).check(&context()).await;
        assert!(
            matches!(&outcome, Outcome::Failed(m) if m.to_lowercase().contains("connect")),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn the_body_is_read_up_to_one_mebibyte() {
        let server = shop().await;
        let request = prepare(&probe(server.url("/big"))).expect("valid").request;
        let fetched = fetch(request, false).await.expect("an answer");
        assert_eq!(fetched.body.len(), BODY_LIMIT);
    }

    #[tokio::test]
    async fn an_unusable_spec_is_unknown() {
        let mut p = probe("http://127.0.0.1:1/".into());
        p.expected_status = vec!["2xx".into()];
        let outcome = p.check(&context()).await;
        assert!(
            matches!(&outcome, Outcome::Unknown(m) if m.contains("invalid expectedStatus \"2xx\"")),
            "{outcome:?}"
        );
        let mut p = probe("http://127.0.0.1:1/".into());
        p.body_matches = Some("(".into());
        assert!(matches!(p.check(&context()).await, Outcome::Unknown(_)));
    }

    #[test]
    fn status_ranges_parse_codes_and_ranges() {
        assert_eq!(
            StatusRange::parse("200").unwrap(),
            StatusRange {
                low: 200,
                high: 200
            }
        );
        let range = StatusRange::parse("200-299").unwrap();
        assert!(range.contains(200) && range.contains(299) && !range.contains(300));
        assert_eq!(range.to_string(), "200-299");
        for bad in ["", "abc", "299-200", "200-", "99", "600"] {
            assert!(StatusRange::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn both_tls_clients_build() {
        assert!(build_client(false).is_ok());
        assert!(build_client(true).is_ok());
    }
}
