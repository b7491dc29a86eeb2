//! Label selectors as the API's `labelSelector` parameter (`app=web,tier in (a,b),!canary`): one
//! rendering, through kube's [`Selector`], for the faults' targets and peers and the k8s probe.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
use kube::core::{Expression, Selector};

/// Why a label selector cannot be written as a selector string.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    #[error("selector: operator {operator} on key {key} needs at least one value")]
    NoValues { key: String, operator: String },
    #[error("selector: operator {operator} on key {key} takes no values")]
    UnexpectedValues { key: String, operator: String },
    #[error(
        "selector: unknown operator {operator:?} on key {key}; use In, NotIn, Exists or DoesNotExist"
    )]
    Operator { key: String, operator: String },
}

/// `selector` in the API's selector syntax. Each requirement is checked before kube converts
/// it, so a bad one is named with its key (kube's own conversion accepts `In` with an empty list,
/// which the API server then refuses, and reports the others without the key).
pub fn render(selector: &LabelSelector) -> Result<String, SelectorError> {
    let mut rendered: Selector = selector
        .match_labels
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    for requirement in selector.match_expressions.iter().flatten() {
        rendered.extend(expression(requirement)?);
    }
    Ok(rendered.to_string())
}

fn expression(requirement: &LabelSelectorRequirement) -> Result<Expression, SelectorError> {
    let LabelSelectorRequirement {
        key,
        operator,
        values,
    } = requirement;
    let has_values = values.as_ref().is_some_and(|v| !v.is_empty());
    let (key, operator) = (key.clone(), operator.clone());
    match (operator.as_str(), has_values) {
        ("In" | "NotIn", true) | ("Exists" | "DoesNotExist", false) => {
            Expression::try_from(requirement.clone())
                .map_err(|_| SelectorError::Operator { key, operator })
        }
        ("In" | "NotIn", false) => Err(SelectorError::NoValues { key, operator }),
        ("Exists" | "DoesNotExist", true) => Err(SelectorError::UnexpectedValues { key, operator }),
        _ => Err(SelectorError::Operator { key, operator }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn requirement(key: &str, operator: &str, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.into(),
            operator: operator.into(),
            values: (!values.is_empty()).then(|| values.iter().map(|v| v.to_string()).collect()),
        }
    }

    fn selector(
        labels: &[(&str, &str)],
        requirements: Vec<LabelSelectorRequirement>,
    ) -> LabelSelector {
        LabelSelector {
            match_labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<BTreeMap<_, _>>(),
            ),
            match_expressions: Some(requirements),
        }
    }

    #[test]
    fn labels_then_requirements_in_selector_syntax() {
        let rendered = render(&selector(
            &[("app", "web")],
            vec![
                requirement("tier", "In", &["b", "a"]),
                requirement("zone", "NotIn", &["x"]),
                requirement("ready", "Exists", &[]),
                requirement("canary", "DoesNotExist", &[]),
            ],
        ));
        assert_eq!(
            rendered.unwrap(),
            "app=web,tier in (a,b),zone notin (x),ready,!canary"
        );
        assert_eq!(render(&LabelSelector::default()).unwrap(), "");
    }

    #[test]
    fn a_bad_requirement_is_named_by_its_key() {
        let render_one = |r| render(&selector(&[], vec![r]));
        assert_eq!(
            render_one(requirement("tier", "In", &[])),
            Err(SelectorError::NoValues {
                key: "tier".into(),
                operator: "In".into()
            })
        );
        assert!(matches!(
            render_one(requirement("tier", "Exists", &["a"])),
            Err(SelectorError::UnexpectedValues { key, .. }) if key == "tier"
        ));
        let unknown = render_one(requirement("tier", "Gt", &["1"])).unwrap_err();
        assert!(
            unknown
                .to_string()
                .contains("use In, NotIn, Exists or DoesNotExist")
        );
    }
}
