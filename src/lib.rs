//! Faultline: a Kubernetes chaos-engineering operator.
//!
//! The binary in `main.rs` parses the command line and hands over to the modules here.

pub mod api;
pub mod cgroups;
pub mod cli;
pub mod domain;
pub mod faults;
pub mod hog;
pub mod iostress;
pub mod kubeclient;
pub mod netfault;
pub mod nodeproc;
pub mod operator;
pub mod podsec;
pub mod probes;
pub mod telemetry;
