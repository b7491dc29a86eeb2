//! What an import found: the parts it refuses and the notes on what it approximates, shared by
//! the importers of other tools' manifests.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::cli::chaostoolkit::Unsupported;

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
