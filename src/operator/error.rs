//! The operator layer's errors, sorted into kinds for `error_policy` and the metrics.

use std::time::Duration;

use kube::runtime::controller::Action;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    #[error("Kubernetes API error: {0}")]
    Kube(#[source] kube::Error),
    #[error("finalizer error: {0}")]
    Finalizer(#[source] Box<kube::runtime::finalizer::Error<Error>>),
    #[error("invalid spec: {0}")]
    InvalidSpec(String),
    #[error("object has no {0}")]
    MissingField(&'static str),
    #[error("{0}")]
    Fault(#[from] crate::faults::FaultError),
    /// Deletion waits: injected changes are not reverted yet.
    #[error("waiting for the revert: {0}")]
    RevertPending(String),
    /// A write lost a race with another (a stale cached copy, a name already taken); read again.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Something the reconcile needs is not there yet (a watch cache still filling); retry.
    #[error("not ready: {0}")]
    NotReady(String),
}

impl From<kube::Error> for Error {
    fn from(err: kube::Error) -> Self {
        Error::Kube(err)
    }
}

/// How `error_policy` treats an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The spec cannot work as written; wait for a change.
    InvalidSpec,
    /// Throttled (429) or a transient server error; back off with jitter.
    Transient,
    /// Deletion is held until injected changes are reverted; retry with backoff.
    RevertPending,
    /// A write lost a race (409): read again soon.
    Conflict,
    /// Anything else; requeue.
    Other,
}

impl ErrorKind {
    /// Every kind, for series that should exist at 0 before the first error.
    pub const ALL: [ErrorKind; 5] = [
        ErrorKind::InvalidSpec,
        ErrorKind::Transient,
        ErrorKind::RevertPending,
        ErrorKind::Conflict,
        ErrorKind::Other,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorKind::InvalidSpec => "invalid_spec",
            ErrorKind::Transient => "transient",
            ErrorKind::RevertPending => "revert_pending",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Other => "other",
        }
    }
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidSpec(_) => ErrorKind::InvalidSpec,
            Error::RevertPending(_) => ErrorKind::RevertPending,
            Error::Conflict(_) => ErrorKind::Conflict,
            Error::NotReady(_) => ErrorKind::Transient,
            Error::Kube(kube::Error::Api(status)) if status.code == 409 => ErrorKind::Conflict,
            Error::Kube(kube::Error::Api(status)) if status.code == 429 || status.code >= 500 => {
                ErrorKind::Transient
            }
            Error::Kube(kube::Error::HyperError(_) | kube::Error::Service(_)) => {
                ErrorKind::Transient
            }
            Error::Finalizer(inner) => match inner.as_ref() {
                kube::runtime::finalizer::Error::ApplyFailed(e)
                | kube::runtime::finalizer::Error::CleanupFailed(e) => e.kind(),
                _ => ErrorKind::Other,
            },
            _ => ErrorKind::Other,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The requeue of a failed reconcile of `controller` ("experiment", "probe"), counted in
/// `faultline_reconcile_errors_total` by kind: a conflict is read again soon, a transient error
/// backs off with jitter, an invalid spec waits for a change.
pub fn requeue(controller: &str, error: &Error, metrics: &super::metrics::Metrics) -> Action {
    let kind = error.kind();
    metrics
        .reconcile_errors
        .with_label_values(&[controller, kind.as_str()])
        .inc();
    if kind == ErrorKind::Conflict {
        tracing::debug!(%error, controller, "reconcile lost a race; reading it again");
    } else {
        tracing::warn!(%error, controller, kind = kind.as_str(), "reconcile failed");
    }
    match kind {
        ErrorKind::InvalidSpec => Action::await_change(),
        // The watch brings the newer copy; read it again soon.
        ErrorKind::Conflict => {
            Action::requeue(Duration::from_millis(200 + rand::random_range(0..800)))
        }
        ErrorKind::Transient => {
            Action::requeue(Duration::from_millis(2000 + rand::random_range(0..3000)))
        }
        ErrorKind::Other | ErrorKind::RevertPending => Action::requeue(Duration::from_secs(10)),
    }
}
