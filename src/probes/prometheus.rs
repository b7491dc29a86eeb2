//! Prometheus probes: an instant query whose single value is compared.

use http_body_util::Full;
use hyper::{Request, body::Bytes, header::ACCEPT};
use serde_json::Value;

use super::{
    Outcome, Probe, ProbeContext,
    comparator::{compare, describe},
    http::fetch,
};
use crate::api::PrometheusProbe;

/// What a query answer yields.
#[derive(Debug, PartialEq, Eq)]
enum QueryValue {
    /// One value, as Prometheus writes it ("1", "0.25", "NaN", "+Inf").
    One(String),
    /// A vector with no sample.
    NoData,
    /// The answer cannot be reduced to one value, or is an error; the message says why.
    Unusable(String),
}

impl PrometheusProbe {
    /// The query, as every message of the probe starts.
    pub(crate) fn what(&self) -> String {
        format!("query {:?}", self.query)
    }
}

impl Probe for PrometheusProbe {
    async fn check(&self, _ctx: &ProbeContext) -> Outcome {
        let url = query_url(&self.endpoint, &self.query);
        let what = self.what();
        let request = match Request::get(&url)
            .header(ACCEPT, "application/json")
            .body(Full::new(Bytes::new()))
        {
            Ok(request) => request,
            Err(e) => {
                return Outcome::Unknown(format!("invalid endpoint {:?}: {e}", self.endpoint));
            }
        };
        let fetched = match fetch(request, false).await {
            Ok(fetched) => fetched,
            // Prometheus is the observer, not the system under test: when it cannot be
            // reached the probe cannot say anything about the system.
            Err(e) => {
                return Outcome::Unknown(format!("{what}: Prometheus at {}: {e}", self.endpoint));
            }
        };
        match parse_answer(&fetched.body) {
            QueryValue::One(value) => match compare(&value, &self.comparator) {
                Ok(true) => Outcome::Passed(format!(
                    "{what} returned {value} ({})",
                    describe(&self.comparator)
                )),
                Ok(false) => Outcome::Failed(format!(
                    "{what} returned {value}, expected {}",
                    describe(&self.comparator)
                )),
                Err(e) => Outcome::Unknown(format!("{what} returned {value}: {e}")),
            },
            QueryValue::NoData => Outcome::Failed(format!("{what}: query returned no data")),
            QueryValue::Unusable(why) => {
                Outcome::Unknown(format!("{what}: {why} (HTTP {})", fetched.status.as_u16()))
            }
        }
    }
}

/// `{endpoint}/api/v1/query?query=<percent-encoded query>`.
/// The endpoint is an http(s) URL a query can be sent to.
pub(super) fn validate(probe: &PrometheusProbe) -> Result<(), String> {
    if !(probe.endpoint.starts_with("http://") || probe.endpoint.starts_with("https://")) {
        return Err(format!(
            "invalid endpoint {:?}: use http:// or https://, e.g. http://prometheus.monitoring:9090",
            probe.endpoint
        ));
    }
    query_url(&probe.endpoint, &probe.query)
        .parse::<hyper::Uri>()
        .map(|_| ())
        .map_err(|e| format!("invalid endpoint {:?}: {e}", probe.endpoint))
}

fn query_url(endpoint: &str, query: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("query", query)
        .finish();
    format!("{}/api/v1/query?{query}", endpoint.trim_end_matches('/'))
}

/// Reduces an `/api/v1/query` answer to one value.
fn parse_answer(body: &[u8]) -> QueryValue {
    let answer: Value = match serde_json::from_slice(body) {
        Ok(answer) => answer,
        Err(e) => {
            let start = String::from_utf8_lossy(&body[..body.len().min(120)]).into_owned();
            return QueryValue::Unusable(format!(
                "the answer is not Prometheus JSON ({e}): {start:?}"
            ));
        }
    };
    if answer["status"] != "success" {
        let kind = answer["errorType"].as_str().unwrap_or("error");
        let error = answer["error"].as_str().unwrap_or("no error message");
        return QueryValue::Unusable(format!("Prometheus answered {kind}: {error}"));
    }
    let data = &answer["data"];
    let result = &data["result"];
    match data["resultType"].as_str() {
        Some("scalar" | "string") => sample_value(result),
        Some("vector") => match result.as_array().map(Vec::as_slice) {
            Some([]) => QueryValue::NoData,
            Some([sample]) => sample_value(&sample["value"]),
            Some(samples) => QueryValue::Unusable(format!(
                "the query returned {} series; it must yield a scalar or one sample",
                samples.len()
            )),
            None => QueryValue::Unusable("the vector result is not a list".into()),
        },
        Some(other) => QueryValue::Unusable(format!(
            "the query returned a {other}; it must yield a scalar or one sample"
        )),
        None => QueryValue::Unusable("the answer has no data.resultType".into()),
    }
}

/// The value of a `[timestamp, "value"]` pair.
fn sample_value(pair: &Value) -> QueryValue {
    match pair.get(1).and_then(Value::as_str) {
        Some(value) => QueryValue::One(value.to_owned()),
        None => QueryValue::Unusable(format!("unexpected sample {pair}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Comparator, ComparatorOp};
    use crate::probes::test_support::{context, serve, text_response};
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

    fn parse(json: &str) -> QueryValue {
        parse_answer(json.as_bytes())
    }

    #[test]
    fn a_scalar_yields_its_value() {
        let answer =
            r#"{"status":"success","data":{"resultType":"scalar","result":[1700000000.5,"0.25"]}}"#;
        assert_eq!(parse(answer), QueryValue::One("0.25".into()));
    }

    #[test]
    fn a_vector_of_one_sample_yields_its_value() {
        let answer = r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"job":"web"},"value":[1700000000.5,"3"]}]}}"#;
        assert_eq!(parse(answer), QueryValue::One("3".into()));
    }

    #[test]
    fn an_empty_vector_is_no_data() {
        let answer = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert_eq!(parse(answer), QueryValue::NoData);
    }

    #[test]
    fn several_series_cannot_be_compared() {
        let answer = r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"pod":"a"},"value":[1,"1"]},{"metric":{"pod":"b"},"value":[1,"0"]}]}}"#;
        let QueryValue::Unusable(why) = parse(answer) else {
            panic!("expected Unusable")
        };
        assert!(why.contains("2 series"), "{why}");
        let matrix = r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;
        assert!(matches!(parse(matrix), QueryValue::Unusable(w) if w.contains("matrix")));
    }

    #[test]
    fn an_error_answer_carries_the_error() {
        let answer = r#"{"status":"error","errorType":"bad_data","error":"parse error at char 4"}"#;
        assert_eq!(
            parse(answer),
            QueryValue::Unusable("Prometheus answered bad_data: parse error at char 4".into())
        );
        assert!(
            matches!(parse("<html>502</html>"), QueryValue::Unusable(w) if w.contains("not Prometheus JSON"))
        );
    }

    #[test]
    fn the_query_is_percent_encoded() {
        assert_eq!(
            query_url(
                "http://prom:9090/",
                r#"sum(rate(http_requests_total{code=~"5.."}[1m])) > 0"#
            ),
            "http://prom:9090/api/v1/query?query=sum%28rate%28http_requests_total%7Bcode%3D%7E%225..%22%7D%5B1m%5D%29%29+%3E+0"
        );
        assert_eq!(
            query_url("http://prom:9090", "a+b/é"),
            "http://prom:9090/api/v1/query?query=a%2Bb%2F%C3%A9"
        );
    }

    #[tokio::test]
    async fn a_query_is_answered_and_compared_end_to_end() {
        let server = serve(|req| async move {
            let expected = "/api/v1/query?query=up%7Bjob%3D%22web%22%7D";
            if req.uri().path_and_query().map(|p| p.as_str()) == Some(expected) {
                text_response(
                    200,
                    r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1"]}]}}"#,
                )
            } else {
                text_response(400, r#"{"status":"error","errorType":"bad_data","error":"unexpected"}"#)
            }
        })
        .await;
        let mut probe = PrometheusProbe {
            endpoint: server.url(""),
            query: r#"up{job="web"}"#.into(),
            comparator: Comparator {
                op: ComparatorOp::Eq,
                value: IntOrString::Int(1),
            },
        };
        let outcome = probe.check(&context()).await;
        assert_eq!(
            outcome,
            Outcome::Passed(r#"query "up{job=\"web\"}" returned 1 (== 1)"#.into())
        );
        probe.comparator.op = ComparatorOp::Gt;
        assert_eq!(
            probe.check(&context()).await,
            Outcome::Failed(r#"query "up{job=\"web\"}" returned 1, expected > 1"#.into())
        );
        probe.query = "nope".into();
        assert!(
            matches!(probe.check(&context()).await, Outcome::Unknown(m) if m.contains("bad_data: unexpected"))
        );
    }
}
