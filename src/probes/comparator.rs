//! Comparators: decide whether an observed value satisfies `{op, value}`.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use regex::Regex;

use crate::api::{Comparator, ComparatorOp};

/// Compares `observed` with the comparator's value.
///
/// `<`, `<=`, `>` and `>=` need both sides to be numbers. `==` and `!=` compare numerically
/// when both sides are numbers (so `"3"` equals `"3.0"`) and as strings otherwise. `contains`
/// looks for a substring, `matches` searches with a regular expression, and `oneOf` takes a
/// comma-separated list whose trimmed items are compared like `==`.
///
/// The error says why the comparison cannot be made: a side that is not a number, or an
/// invalid regular expression.
pub fn compare(observed: &str, comparator: &Comparator) -> Result<bool, String> {
    let expected = expected_text(&comparator.value);
    match comparator.op {
        ComparatorOp::Eq => Ok(equal(observed, &expected)),
        ComparatorOp::Ne => Ok(!equal(observed, &expected)),
        ComparatorOp::Lt => numbers(observed, &expected).map(|(o, e)| o < e),
        ComparatorOp::Le => numbers(observed, &expected).map(|(o, e)| o <= e),
        ComparatorOp::Gt => numbers(observed, &expected).map(|(o, e)| o > e),
        ComparatorOp::Ge => numbers(observed, &expected).map(|(o, e)| o >= e),
        ComparatorOp::Contains => Ok(observed.contains(expected.as_str())),
        ComparatorOp::Matches => Regex::new(&expected)
            .map(|re| re.is_match(observed))
            .map_err(|e| format!("invalid regular expression {expected:?}: {e}")),
        ComparatorOp::OneOf => Ok(expected.split(',').any(|item| equal(observed, item.trim()))),
    }
}

/// The comparator as people write it, e.g. `>= 3` or `oneOf a,b`, for messages.
pub fn describe(comparator: &Comparator) -> String {
    format!(
        "{} {}",
        op_symbol(comparator.op),
        expected_text(&comparator.value)
    )
}

fn op_symbol(op: ComparatorOp) -> &'static str {
    match op {
        ComparatorOp::Eq => "==",
        ComparatorOp::Ne => "!=",
        ComparatorOp::Lt => "<",
        ComparatorOp::Le => "<=",
        ComparatorOp::Gt => ">",
        ComparatorOp::Ge => ">=",
        ComparatorOp::Contains => "contains",
        ComparatorOp::Matches => "matches",
        ComparatorOp::OneOf => "oneOf",
    }
}

fn expected_text(value: &IntOrString) -> String {
    match value {
        IntOrString::Int(i) => i.to_string(),
        IntOrString::String(s) => s.clone(),
    }
}

/// A number, or `None`; NaN counts as not a number so that `NaN == NaN` compares as text.
fn number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|n| !n.is_nan())
}

fn equal(observed: &str, expected: &str) -> bool {
    match (number(observed), number(expected)) {
        (Some(o), Some(e)) => o == e,
        _ => observed == expected,
    }
}

fn numbers(observed: &str, expected: &str) -> Result<(f64, f64), String> {
    let o =
        number(observed).ok_or_else(|| format!("observed value {observed:?} is not a number"))?;
    let e =
        number(expected).ok_or_else(|| format!("expected value {expected:?} is not a number"))?;
    Ok((o, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(op: ComparatorOp, value: &str) -> Comparator {
        Comparator {
            op,
            value: IntOrString::String(value.into()),
        }
    }

    #[test]
    fn equality_is_numeric_when_both_sides_are_numbers() {
        assert_eq!(compare("3", &cmp(ComparatorOp::Eq, "3.0")), Ok(true));
        let int = Comparator {
            op: ComparatorOp::Eq,
            value: IntOrString::Int(3),
        };
        assert_eq!(compare("3", &int), Ok(true));
        assert_eq!(compare("ready", &cmp(ComparatorOp::Eq, "ready")), Ok(true));
        assert_eq!(compare("Ready", &cmp(ComparatorOp::Eq, "ready")), Ok(false));
        assert_eq!(compare("3", &cmp(ComparatorOp::Eq, "three")), Ok(false));
    }

    #[test]
    fn inequality_is_the_negation_of_equality() {
        assert_eq!(compare("3", &cmp(ComparatorOp::Ne, "3.0")), Ok(false));
        assert_eq!(compare("a", &cmp(ComparatorOp::Ne, "b")), Ok(true));
        assert_eq!(compare("NaN", &cmp(ComparatorOp::Ne, "NaN")), Ok(false));
    }

    #[test]
    fn ordering_ops_compare_numbers() {
        assert_eq!(compare("2", &cmp(ComparatorOp::Lt, "3")), Ok(true));
        assert_eq!(compare("3", &cmp(ComparatorOp::Lt, "3")), Ok(false));
        assert_eq!(compare("3", &cmp(ComparatorOp::Le, "3")), Ok(true));
        assert_eq!(compare("0.5", &cmp(ComparatorOp::Gt, "0.25")), Ok(true));
        assert_eq!(
            compare("10", &cmp(ComparatorOp::Gt, "9")),
            Ok(true),
            "not string order"
        );
        assert_eq!(compare("-1", &cmp(ComparatorOp::Ge, "0")), Ok(false));
        assert_eq!(compare(" 4 ", &cmp(ComparatorOp::Ge, "4")), Ok(true));
        assert_eq!(compare("+Inf", &cmp(ComparatorOp::Gt, "1e300")), Ok(true));
    }

    #[test]
    fn ordering_ops_refuse_text() {
        let err = compare("fast", &cmp(ComparatorOp::Lt, "3")).unwrap_err();
        assert!(err.contains("\"fast\" is not a number"), "{err}");
        let err = compare("3", &cmp(ComparatorOp::Ge, "many")).unwrap_err();
        assert!(err.contains("expected value \"many\""), "{err}");
        assert!(compare("NaN", &cmp(ComparatorOp::Gt, "0")).is_err());
    }

    #[test]
    fn contains_looks_for_a_substring() {
        assert_eq!(
            compare("status: ok", &cmp(ComparatorOp::Contains, "ok")),
            Ok(true)
        );
        assert_eq!(
            compare("status: OK", &cmp(ComparatorOp::Contains, "ok")),
            Ok(false)
        );
    }

    #[test]
    fn matches_searches_with_a_regex() {
        assert_eq!(
            compare("v1.2.3", &cmp(ComparatorOp::Matches, r"\d+\.\d+")),
            Ok(true)
        );
        assert_eq!(
            compare("v1", &cmp(ComparatorOp::Matches, r"^\d+$")),
            Ok(false)
        );
        let err = compare("x", &cmp(ComparatorOp::Matches, "(")).unwrap_err();
        assert!(err.contains("invalid regular expression"), "{err}");
    }

    #[test]
    fn one_of_takes_a_trimmed_comma_separated_list() {
        let c = cmp(ComparatorOp::OneOf, "Running, Succeeded ,3");
        assert_eq!(compare("Running", &c), Ok(true));
        assert_eq!(compare("Succeeded", &c), Ok(true));
        assert_eq!(compare("3.0", &c), Ok(true), "numeric-aware");
        assert_eq!(compare("Pending", &c), Ok(false));
    }

    #[test]
    fn describe_reads_like_the_spec() {
        assert_eq!(describe(&cmp(ComparatorOp::Ge, "3")), ">= 3");
        assert_eq!(describe(&cmp(ComparatorOp::OneOf, "a,b")), "oneOf a,b");
    }
}
