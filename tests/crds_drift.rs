//! The CRD YAML in crds/, charts/faultline/crds/ and config/crd/ is generated from src/api/ by `faultline crds`
//! (`make generate`); this test fails when any copy has drifted from the Rust types.

use std::path::Path;

#[test]
fn generated_crds_match_the_rust_types() {
    let expected = faultline::api::crds_yaml().expect("the CRDs render as YAML");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for file in [
        "crds/faultline.yaml",
        "charts/faultline/crds/faultline.yaml",
        "config/crd/faultline.yaml",
    ] {
        let on_disk = std::fs::read_to_string(root.join(file))
            .unwrap_or_else(|e| panic!("cannot read {file}: {e}; run `make generate`"));
        assert!(
            on_disk == expected,
            "{file} has drifted from src/api/; run `make generate` and commit the result"
        );
    }
}

#[test]
fn the_field_reference_matches_the_rust_types() {
    let expected = faultline::api::reference::reference_markdown(&faultline::api::crds());
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/reference.md");
    let on_disk = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("cannot read docs/reference.md: {e}; run `make generate`"));
    assert!(
        on_disk == expected,
        "docs/reference.md has drifted from src/api/; run `make generate` and commit the result"
    );
}

#[test]
fn generated_fault_rbac_matches_the_fault_types() {
    use faultline::faults::rbac::{Flavour, fault_rbac};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (file, flavour) in [
        ("charts/faultline/templates/fault-rbac.yaml", Flavour::Helm),
        ("config/rbac/fault_roles.yaml", Flavour::Plain),
    ] {
        let on_disk = std::fs::read_to_string(root.join(file))
            .unwrap_or_else(|e| panic!("cannot read {file}: {e}; run `make generate`"));
        assert!(
            on_disk == fault_rbac(flavour),
            "{file} has drifted from src/faults/; run `make generate` and commit the result"
        );
    }
}

#[test]
fn generated_admission_policies_match_the_fault_types() {
    use faultline::faults::admission::{Flavour, admission_policies};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (file, flavour) in [
        (
            "charts/faultline/templates/admission-policies.yaml",
            Flavour::Helm,
        ),
        ("config/admission/admission_policies.yaml", Flavour::Plain),
    ] {
        let on_disk = std::fs::read_to_string(root.join(file))
            .unwrap_or_else(|e| panic!("cannot read {file}: {e}; run `make generate`"));
        assert!(
            on_disk == admission_policies(flavour),
            "{file} has drifted from src/faults/; run `make generate` and commit the result"
        );
    }
}
