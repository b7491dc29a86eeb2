//! Kubernetes names: checking the ones given as options, and making DNS-1123 slugs.

use std::collections::BTreeSet;

use super::ImportError;

pub(super) fn check_dns_label(
    option: &'static str,
    value: &str,
    max: usize,
) -> Result<(), ImportError> {
    if is_dns_label(value, max) {
        Ok(())
    } else {
        Err(ImportError::InvalidOption {
            option,
            value: value.to_string(),
            reason: format!(
                "use lowercase letters, digits and '-', starting and ending with a letter or \
                 digit, at most {max} characters"
            ),
        })
    }
}

pub(super) fn is_dns_label(value: &str, max: usize) -> bool {
    let bytes = value.as_bytes();
    !value.is_empty()
        && value.len() <= max
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

/// A DNS-1123 label made of `text`: lowercase alphanumerics and single dashes, at most `max`.
pub(crate) fn slug(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.truncate(max);
    out.trim_end_matches('-').to_string()
}

/// `base`, or `base-2`, `base-3`... cut to `max`, whichever is not taken yet.
pub(crate) fn unique_name(
    base: &str,
    fallback: &str,
    max: usize,
    taken: &mut BTreeSet<String>,
) -> String {
    let base = if base.is_empty() { fallback } else { base };
    let mut candidate = base.to_string();
    let mut n = 2;
    while taken.contains(&candidate) {
        let suffix = format!("-{n}");
        let mut stem = base.to_string();
        stem.truncate(max.saturating_sub(suffix.len()));
        candidate = format!("{}{suffix}", stem.trim_end_matches('-'));
        n += 1;
    }
    taken.insert(candidate.clone());
    candidate
}
