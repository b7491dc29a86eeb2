//! What an import found: the parts it refuses and the notes on what it approximates, shared by
//! the importers of other tools' manifests.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::api::ChaosExperiment;
use crate::cli::chaostoolkit::{Unsupported, UnsupportedList};

/// What converting found: refusals and notes, in the order met.
#[derive(Debug, Default)]
pub struct Findings {
    pub unsupported: Vec<Unsupported>,
    pub notes: Vec<String>,
}

/// Where a chaos spec comes from: its location in the input, its name and kind.
#[derive(Clone, Debug)]
pub struct Origin {
    pub location: String,
    pub name: String,
    pub kind: &'static str,
    /// The namespace a selector without namespaces means.
    pub namespace: String,
}

impl Findings {
    pub fn refuse(&mut self, origin: &Origin, what: &str, reason: impl Into<String>) {
        self.unsupported.push(Unsupported {
            location: origin.location.clone(),
            name: origin.name.clone(),
            provider: format!("{} {what}", origin.kind),
            reason: reason.into(),
        });
    }

    pub fn note(&mut self, origin: &Origin, text: impl AsRef<str>) {
        self.notes.push(format!(
            "{} {:?}: {}",
            origin.kind,
            origin.name,
            text.as_ref()
        ));
    }

    /// Refuses every key of `rest`, named under `path`.
    pub fn refuse_rest(&mut self, origin: &Origin, path: &str, rest: &BTreeMap<String, Value>) {
        for key in rest.keys() {
            self.refuse(
                origin,
                &format!("{path}{key}"),
                "has no Faultline equivalent, so it cannot be converted",
            );
        }
    }
}

/// The experiment, and the notes the caller prints to stderr.
#[derive(Clone, Debug)]
pub struct Imported {
    pub experiment: ChaosExperiment,
    pub notes: Vec<String>,
}

/// Why the manifests could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("document {document} is not valid YAML: {source}")]
    Parse {
        document: usize,
        #[source]
        source: serde_yaml_ng::Error,
    },
    #[error("no {expected} found")]
    Empty { expected: &'static str },
    #[error(
        "cannot import: {} part(s) have no Faultline equivalent, so nothing was generated:{}",
        .0.len(),
        UnsupportedList(.0.clone())
    )]
    Unsupported(Vec<Unsupported>),
}

/// Millicores as a CPU quantity: whole cores when they are ("1"), else millicores ("500m").
pub fn cpu_quantity(millicores: u64) -> String {
    if millicores.is_multiple_of(1000) {
        (millicores / 1000).to_string()
    } else {
        format!("{millicores}m")
    }
}

/// A memory size (256MB, 1GiB, bytes) in MiB, rounded up: B, KB, MB, GB are decimal, KiB, MiB,
/// GiB binary.
pub fn mebibytes(size: &str) -> Option<u64> {
    let size = size.trim();
    let split = size
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(size.len());
    let (digits, unit) = size.split_at(split);
    let factor = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1.0,
        "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "KIB" => 1024.0,
        "MIB" => 1048576.0,
        "GIB" => 1073741824.0,
        _ => return None,
    };
    let bytes = digits.parse::<f64>().ok()? * factor;
    Some((bytes / 1048576.0).ceil().max(1.0) as u64)
}

impl Imported {
    /// YAML: a leading comment with the notes, then the ChaosExperiment without its defaults.
    pub fn to_yaml(&self, command: &str) -> String {
        let mut out = format!("# Imported by `faultline import {command}`.\n");
        for note in &self.notes {
            out.push_str(&format!("# note: {}\n", note.replace('\n', " ")));
        }
        out.push_str("---\n");
        out.push_str(&crate::cli::defaults::minimal_yaml(
            &self.experiment,
            "ChaosExperiment",
        ));
        out
    }
}
