//! The probe engine: one file per probe type, behind one trait that returns an outcome.
