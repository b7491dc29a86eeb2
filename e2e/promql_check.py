#!/usr/bin/env python3
"""Checks the chart's Grafana dashboard and PrometheusRule against a real scrape of the operator.

Usage: promql_check.py SCRAPE RENDERED_CHART

SCRAPE is the text of the leader's /metrics; RENDERED_CHART is `helm template` output with the
dashboard ConfigMap and the PrometheusRule enabled. For every PromQL expression (each dashboard
target and each alert):
  - its parentheses, brackets and braces balance, and string literals close;
  - every metric it names is a family the operator exposes (a histogram's _bucket, _sum and _count
    count as its family), and names no other metric;
  - every label it groups by or matches on is a label of one of those metrics in the scrape.
It also checks the dashboard has the panels the chart documents and that every alert has a summary.
Exit 0 when all hold; otherwise one line per problem and exit 1.
"""
import json
import re
import sys

import yaml

KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
            "and", "or", "unless", "inf", "nan"}
FUNCTIONS_AND_AGGREGATIONS = {
    "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile",
    "count_values", "group", "rate", "irate", "increase", "delta", "idelta", "deriv", "abs",
    "absent", "absent_over_time", "ceil", "floor", "round", "clamp", "clamp_min", "clamp_max",
    "histogram_quantile", "label_replace", "label_join", "sort", "sort_desc", "time", "vector",
    "scalar", "changes", "resets", "avg_over_time", "min_over_time", "max_over_time",
    "sum_over_time", "count_over_time", "last_over_time", "present_over_time", "timestamp",
}
SUFFIXES = ("_bucket", "_sum", "_count")


def scrape_families(text):
    """Family name -> set of label names seen on its samples."""
    families, labels = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            families[line.split()[2]] = set()
        elif line and not line.startswith("#"):
            name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0)
            names = set(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', line.split("}")[0])) if "{" in line else set()
            labels.setdefault(name, set()).update(names)
    for sample, names in labels.items():
        family = sample
        for suffix in SUFFIXES:
            if sample.endswith(suffix) and sample[: -len(suffix)] in families:
                family = sample[: -len(suffix)]
        families.setdefault(family, set()).update(names - {"le"})
    return families


def balanced(expr):
    stack, pairs, in_string = [], {")": "(", "]": "[", "}": "{"}, None
    for c in expr:
        if in_string:
            in_string = None if c == in_string else in_string
        elif c in "\"'":
            in_string = c
        elif c in "([{":
            stack.append(c)
        elif c in pairs:
            if not stack or stack.pop() != pairs[c]:
                return False
    return not stack and in_string is None


def check(expr, families):
    problems = []
    if not balanced(expr):
        problems.append("unbalanced brackets or an unclosed string")
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    matcher_labels = set()
    for block in re.findall(r"\{([^}]*)\}", bare):
        matcher_labels.update(re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", block))
    grouped = set()
    for block in re.findall(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)", bare):
        grouped.update(x.strip() for x in block.split(",") if x.strip())
    outside = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\b(?:by|without|on|ignoring)\s*\([^)]*\)", " ", bare)
    outside = re.sub(r"\$\w+", " ", outside)
    metrics = set()
    for token in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", outside):
        word = token.group(0)
        after = outside[token.end():].lstrip()
        if word in KEYWORDS or (word in FUNCTIONS_AND_AGGREGATIONS and after.startswith("(")):
            continue
        if re.fullmatch(r"\d+[a-z]*", word):
            continue
        metrics.add(word)
    known = set()
    for metric in sorted(metrics):
        family = metric
        for suffix in SUFFIXES:
            if metric.endswith(suffix) and metric[: -len(suffix)] in families:
                family = metric[: -len(suffix)]
        if family not in families:
            problems.append(f"queries {metric}, which the operator does not expose")
        else:
            known.update(families[family])
    if not metrics:
        problems.append("names no metric")
    for label in sorted((grouped | matcher_labels) - {"__name__"}):
        if label not in known:
            problems.append(f"uses label {label!r}, which none of {sorted(metrics)} carries in the scrape")
    return problems


def expressions(documents):
    """(where, expr) for every dashboard target and alert, and the dashboards and rules seen."""
    found, dashboards, alerts = [], [], []
    for doc in documents:
        if not doc:
            continue
        if doc.get("kind") == "ConfigMap":
            for key, text in (doc.get("data") or {}).items():
                if key.endswith(".json"):
                    dashboard = json.loads(text)
                    dashboards.append(dashboard)
                    for panel in dashboard.get("panels", []):
                        for target in panel.get("targets", []):
                            found.append((f"dashboard panel {panel.get('title')!r}", target["expr"]))
        if doc.get("kind") == "PrometheusRule":
            for group in doc["spec"]["groups"]:
                for rule in group["rules"]:
                    alerts.append(rule)
                    found.append((f"alert {rule.get('alert') or rule.get('record')}", rule["expr"]))
    return found, dashboards, alerts


def main(scrape_path, chart_path):
    families = scrape_families(open(scrape_path).read())
    documents = list(yaml.safe_load_all(open(chart_path)))
    found, dashboards, alerts = expressions(documents)
    problems = []
    if len(dashboards) != 1:
        problems.append(f"expected one dashboard ConfigMap, found {len(dashboards)}")
    if {a.get("alert") for a in alerts} != {"FaultlineScoreBelowExpected", "FaultlineInjectionUnreverted",
                                           "FaultlineReconcileErrors"}:
        problems.append(f"unexpected alerts: {[a.get('alert') for a in alerts]}")
    for alert in alerts:
        if not alert.get("annotations", {}).get("summary"):
            problems.append(f"alert {alert.get('alert')} has no summary")
    for where, expr in found:
        for problem in check(expr, families):
            problems.append(f"{where}: {problem}: {expr}")
    for problem in problems:
        print(problem)
    print(f"checked {len(found)} expressions ({len(alerts)} alerts) against {len(families)} metric families")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
