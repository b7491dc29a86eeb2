//! chaosk8s deployment health probes as k8s probes of a Deployment.

use serde_json::Value;

use super::converter::Converter;
use super::python::Args;
use super::values::{seconds, short_json};
use crate::api::{ChaosProbeSpec, RunProperties};

impl Converter<'_> {
    pub(super) fn deployment_probe(
        &mut self,
        args: &mut Args,
        func: &str,
        tolerance: Option<&Value>,
        timeout: Option<f64>,
    ) -> Option<ChaosProbeSpec> {
        let name = args.string("name");
        let selector = args.string("label_selector");
        let ns = self.ns_argument(args);
        if func == "deployment_available_and_healthy" {
            // Raising or returning False both fail the probe's tolerance of true.
            let _ = args.boolean("raise_on_unavailable");
        }
        match tolerance {
            None | Some(Value::Bool(true)) => {}
            Some(other) => args.problems.push(format!(
                "tolerance {} is not supported: the converted check passes when the Deployment is \
                 available, which is tolerance true",
                short_json(other)
            )),
        }
        let Some(name) = name else {
            args.problems
                .push("name is required: the Deployment to check".into());
            return None;
        };
        if let Some(selector) = selector {
            self.notes.push(format!(
                "{} {:?}: label_selector {selector:?} dropped: the Deployment is found by its \
                 name {name:?}, which a selector could only narrow",
                args.location, args.name
            ));
        }
        Some(ChaosProbeSpec::deployments_available(
            Some(name),
            None,
            Some(ns),
            run_properties(timeout),
        ))
    }
}

pub(super) fn run_properties(timeout: Option<f64>) -> RunProperties {
    let mut properties = RunProperties::default();
    if let Some(secs) = timeout {
        properties.timeout = seconds(secs);
    }
    properties
}
