//! Kubernetes label selector text (as chaosk8s takes it) parsed into a LabelSelector.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
use regex::Regex;

use super::names::is_dns_label;

/// Parses a Kubernetes label selector string: `a=b`, `a==b`, `a!=b`, `a in (x,y)`,
/// `a notin (x,y)`, `a` and `!a`, separated by commas.
pub fn parse_label_selector(text: &str) -> Result<LabelSelector, String> {
    let mut labels: BTreeMap<String, String> = BTreeMap::new();
    let mut expressions: Vec<LabelSelectorRequirement> = Vec::new();
    for requirement in split_requirements(text)? {
        let requirement = requirement.trim();
        if requirement.is_empty() {
            return Err("an empty requirement (two commas in a row?)".into());
        }
        let requirement_for =
            |key: &str, operator: &str, values: Option<Vec<String>>| LabelSelectorRequirement {
                key: key.to_string(),
                operator: operator.to_string(),
                values,
            };
        if let Some(key) = requirement.strip_prefix('!') {
            let key = key.trim();
            check_label_key(key)?;
            expressions.push(requirement_for(key, "DoesNotExist", None));
        } else if let Some((key, value)) = requirement.split_once("!=") {
            let (key, value) = (key.trim(), value.trim());
            check_label_key(key)?;
            check_label_value(value)?;
            expressions.push(requirement_for(key, "NotIn", Some(vec![value.into()])));
        } else if let Some((key, value)) = requirement
            .split_once("==")
            .or_else(|| requirement.split_once('='))
        {
            let (key, value) = (key.trim(), value.trim());
            check_label_key(key)?;
            check_label_value(value)?;
            match labels.get(key) {
                Some(existing) if existing != value => {
                    expressions.push(requirement_for(key, "In", Some(vec![value.into()])))
                }
                _ => {
                    labels.insert(key.into(), value.into());
                }
            }
        } else if let Some(captures) = set_pattern().captures(requirement) {
            let key = &captures[1];
            check_label_key(key)?;
            let operator = if captures[2].eq_ignore_ascii_case("in") {
                "In"
            } else {
                "NotIn"
            };
            let values: Vec<String> = captures[3]
                .split(',')
                .map(|v| v.trim().to_string())
                .collect();
            for value in &values {
                check_label_value(value)?;
            }
            if values.iter().all(String::is_empty) {
                return Err(format!("{requirement:?} lists no value"));
            }
            expressions.push(requirement_for(key, operator, Some(values)));
        } else if requirement.contains(['<', '>', '(', ')', ' ']) {
            return Err(format!(
                "{requirement:?} is not a label requirement (=, ==, !=, in, notin, exists or !key; \
                 a LabelSelector has no < or >)"
            ));
        } else {
            check_label_key(requirement)?;
            expressions.push(requirement_for(requirement, "Exists", None));
        }
    }
    Ok(LabelSelector {
        match_labels: (!labels.is_empty()).then_some(labels),
        match_expressions: (!expressions.is_empty()).then_some(expressions),
    })
}

fn set_pattern() -> &'static Regex {
    static PATTERN: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    PATTERN.get_or_init(|| {
        Regex::new(r"^(\S+)\s+(in|notin)\s*\(([^()]*)\)$").expect("the set pattern is valid")
    })
}

/// Splits on the commas that are not inside parentheses.
fn split_requirements(text: &str) -> Result<Vec<&str>, String> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| "a ')' without its '('".to_string())?
            }
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err("a '(' without its ')'".into());
    }
    parts.push(&text[start..]);
    Ok(parts)
}

fn check_label_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        let valid = !prefix.is_empty()
            && prefix.len() <= 253
            && prefix.split('.').all(|part| is_dns_label(part, 63));
        if !valid {
            return Err(format!("{key:?} has an invalid prefix (a DNS subdomain)"));
        }
    }
    if !is_label_name(name) || name.is_empty() {
        return Err(format!(
            "{key:?} is not a valid label key (up to 63 letters, digits, '-', '_' or '.', \
             starting and ending with a letter or digit)"
        ));
    }
    Ok(())
}

fn check_label_value(value: &str) -> Result<(), String> {
    if value.is_empty() || is_label_name(value) {
        Ok(())
    } else {
        Err(format!(
            "{value:?} is not a valid label value (up to 63 letters, digits, '-', '_' or '.', \
             starting and ending with a letter or digit)"
        ))
    }
}

fn is_label_name(text: &str) -> bool {
    let bytes = text.as_bytes();
    let inner = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
    !text.is_empty()
        && text.len() <= 63
        && bytes.iter().all(inner)
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
}
