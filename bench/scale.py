#!/usr/bin/env python3
"""Summarizes bench/scale.sh's raw data: writes bench/results/scale.json and the scale table of
docs/benchmarks.md (between <!-- scale:begin --> and <!-- scale:end -->).

Usage: scale.py WORK RESULTS_JSON DOCS_MD
"""

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import bench  # noqa: E402  (read_metrics, read_samples, window_usage, dist, machine, git)

TERMINAL = {"Completed", "CompletedWithError", "Error", "Timeout", "Stopped"}


def env(work):
    return bench.read_env(work / "window.env")


def family(metrics, name):
    return {labels: v for (n, labels), v in metrics.items() if n == name}


def total(metrics, name):
    return sum(family(metrics, name).values())


def diff_total(before, after, name):
    return total(after, name) - total(before, name)


def histogram_quantiles(before, after, controller):
    """p50, p95 (bucket upper bounds) and mean of faultline_reconcile_duration_seconds for one
    controller, between two scrapes of the same process."""
    label = f'controller="{controller}"'

    def buckets(metrics):
        out = {}
        for (name, labels), value in metrics.items():
            if name == "faultline_reconcile_duration_seconds_bucket" and label in labels:
                le = re.search(r'le="([^"]+)"', labels).group(1)
                out[float("inf") if le == "+Inf" else float(le)] = value
        return out

    b0, b1 = buckets(before), buckets(after)
    counts = {le: b1.get(le, 0) - b0.get(le, 0) for le in b1}
    n = counts.get(float("inf"), 0)
    if n <= 0:
        return {"reconciles": 0}

    def q(p):
        for le in sorted(counts):
            if counts[le] >= p * n:
                return le if le != float("inf") else None
        return None

    s0 = sum(v for (nm, lb), v in before.items()
             if nm == "faultline_reconcile_duration_seconds_sum" and label in lb)
    s1 = sum(v for (nm, lb), v in after.items()
             if nm == "faultline_reconcile_duration_seconds_sum" and label in lb)
    return {"reconciles": int(n), "p50_at_most_s": q(0.5), "p95_at_most_s": q(0.95),
            "mean_s": round((s1 - s0) / n, 4)}


def errors_by_kind(before, after):
    out = {}
    for labels, value in family(after, "faultline_reconcile_errors_total").items():
        grew = value - family(before, "faultline_reconcile_errors_total").get(labels, 0)
        if grew:
            out[labels.strip("{}")] = int(grew)
    return out


def arrivals(work, t0):
    """When each real experiment arrived (its ADDED event in a watch stamped on the host), by
    namespace/app."""
    added = {}
    for epoch, fields in bench.read_watch(work / "experiments.watch"):
        if epoch >= t0 and len(fields) >= 3 and fields[0] == "ADDED" and fields[2].startswith("real-"):
            added.setdefault(f"{fields[1]}/app-{fields[2][len('real-'):]}", epoch)
    return added


def first_deletions(work, t0):
    """Seconds from each real experiment's arrival to the first deletion of a pod of its app,
    by namespace/app."""
    added = arrivals(work, t0)
    first = {}
    for epoch, fields in bench.read_watch(work / "pods.watch"):
        if epoch < t0 or len(fields) < 4 or not fields[3]:
            continue
        key = f"{fields[1]}/{fields[2]}"
        if key in added and key not in first:
            first[key] = epoch - added[key]
    return first


def fault_pods_created(work, t0):
    """When each real run's fault pod was first seen (created), by namespace/app, from a stamped
    watch of the fault pods."""
    created = {}
    for epoch, fields in bench.read_watch(work / "fault-pods.watch"):
        if epoch >= t0 and len(fields) >= 3 and fields[2].startswith("real-"):
            created.setdefault(f"{fields[1]}/app-{fields[2][len('real-'):].split('-')[0]}", epoch)
    return created


def first_deletion_parts(work, t0, first):
    """apply → first deletion split in two: arrival → fault pod created (the operator: its
    reconciles and API calls), and created → first deletion (scheduler, kubelet, container
    runtime, the fault process's start and reads). The pod's Running status is no divider: under
    this load the kubelet reports it after the fault has already acted."""
    added = arrivals(work, t0)
    created = fault_pods_created(work, t0)
    operator, pod = [], []
    for key, seconds in first.items():
        if key in added and key in created:
            operator.append(created[key] - added[key])
            pod.append(added[key] + seconds - created[key])
    return {"arrival_to_fault_pod_created_s": bench.dist(operator, "s", 2),
            "fault_pod_created_to_first_deletion_s": bench.dist(pod, "s", 2)}


def results(path):
    data = bench.json_file(path) or {"items": []}
    return data["items"]


def run_summary(items, prefix, run_number, since):
    """Counts, verdicts and seconds to completion (whole seconds, from `since`: a number, or a
    map of namespace/app to each experiment's arrival)."""
    chosen = [r for r in items if r["metadata"]["name"].startswith(prefix)
              and r["spec"]["runNumber"] == run_number]
    status = [r.get("status", {}) for r in chosen]
    verdicts = {}
    for s in status:
        verdicts[s.get("verdict", "none")] = verdicts.get(s.get("verdict", "none"), 0) + 1

    def start(result):
        if not isinstance(since, dict):
            return since
        app = "app-" + result["spec"]["experimentRef"][len(prefix):]
        return since.get(f"{result['metadata']['namespace']}/{app}")

    to_verdict = [bench.ts(r["status"]["completionTime"]) - start(r) for r in chosen
                  if r.get("status", {}).get("completionTime") and start(r) is not None]
    unsettled = sum(1 for s in status for f in s.get("faults", []) for t in f.get("targets", [])
                    if t.get("state") in ("Injecting", "Injected"))
    return {
        "results": len(chosen),
        "terminal": sum(1 for s in status if s.get("phase") in TERMINAL),
        "verdicts": verdicts,
        "to_completion_s": bench.dist(to_verdict, "s", 1),
        "ledger_entries_unreverted": unsettled,
    }


def summarize(work):
    e = env(work)
    m = {name: bench.read_metrics(work / f"metrics-{name}.txt") for name in
         ("0-start", "1-idle-start", "2-idle-end", "3-runs-end", "4-before-restart", "5-end")}
    apps = int(e["apps"])
    idle_rows, _ = bench.read_samples(work / "idle.txt")
    run_rows, _ = bench.read_samples(work / "runs.txt")
    t0 = float(e["runs_t0"])
    first = first_deletions(work, t0)
    end_items = results(work / "results-end.json")
    runs = run_summary(results(work / "results-runs.json"), "real-", 1, arrivals(work, t0))
    idle_s = float(e["idle_t1"]) - float(e["idle_t0"])
    requests_runs = diff_total(m["2-idle-end"], m["3-runs-end"], "faultline_kube_requests_total")
    restart_t0 = float(e["restart_t0"])
    acquired = bench.ts(e.get("restart_acquired"))
    per_experiment = {}
    for r in end_items:
        key = (r["metadata"]["namespace"], r["spec"]["experimentRef"])
        per_experiment.setdefault(key, []).append(r["spec"]["runNumber"])
    duplicates = sum(len(v) - len(set(v)) for v in per_experiment.values())
    completed = {}
    events = work / "run-completed-events.json"
    prefix = e.get("prefix")
    for ev in (json.loads(events.read_text())["items"] if events.exists() and prefix else []):
        if ev["regarding"]["namespace"].startswith(prefix + "-"):
            key = (ev["regarding"]["namespace"], ev["regarding"]["name"])
            completed[key] = completed.get(key, 0) + max(1, (ev.get("series") or {}).get("count", 1))
    return {
        "shape": {
            "pods_on_kwok_nodes": int(e["pods"]), "pods_running": int(e.get("pods_running", 0)),
            "pods_running_s": int(e.get("pods_running_s", 0)), "deployments": apps,
            "experiments": int(e["experiments"]), "scheduled_experiments": int(e["scheduled"]),
            "dry_run_experiments": apps, "concurrent_real_runs": apps,
            "operator_replicas": 2,
        },
        "dry_runs_to_the_end_s": int(e.get("dry_runs_s", 0)),
        "idle": {
            "leader": bench.window_usage(idle_rows, float(e["idle_t0"]), float(e["idle_t1"])),
            "api_requests_per_minute": round(
                diff_total(m["1-idle-start"], m["2-idle-end"], "faultline_kube_requests_total")
                / idle_s * 60, 1),
        },
        "concurrent_runs": {
            "leader": bench.window_usage(run_rows, t0, float(e["runs_t1"])),
            "apply_to_first_deletion_s": bench.dist(list(first.values()), "s", 2),
            "first_deletion_parts": first_deletion_parts(work, t0, first),
            "apps_without_a_deletion": apps - len(first),
            "runs": runs,
            "api_requests_per_run": round(requests_runs / apps, 1),
            "reconcile": {c: histogram_quantiles(m["2-idle-end"], m["3-runs-end"], c)
                          for c in ("experiment", "result", "probe")},
        },
        "reconcile_errors_first_leader": errors_by_kind(m["0-start"], m["4-before-restart"]),
        "reconcile_errors_new_leader": errors_by_kind({}, m["5-end"]),
        "restart": {
            "lease_taken_after_s": round(acquired - restart_t0, 2) if acquired else None,
            "every_result_reconciled_after_s": round(float(e["restart_t1"]) - restart_t0, 2),
            "results_in_cluster": int(e["restart_results"]),
            "result_reconciles_by_then": int(e["restart_reconciled"]),
            "second_runs": run_summary(end_items, "real-", 2, restart_t0),
            "all_second_runs_ended_after_s": round(float(e["restart_t2"]) - restart_t0, 1),
            "duplicate_runs": duplicates,
            "runs_ended_more_than_once": sum(1 for n in completed.values() if n > 1)
            if events.exists() and prefix else None,
        },
    }


def render(summary, common):
    s, idle, runs, restart = (summary["shape"], summary["idle"], summary["concurrent_runs"],
                              summary["restart"])
    fd = runs["apply_to_first_deletion_s"]
    rec = runs["reconcile"]
    errors = {**summary["reconcile_errors_first_leader"], **{
        f"new leader {k}": v for k, v in summary["reconcile_errors_new_leader"].items()}}
    rows = [
        ("shape", f"{s['pods_running']} of {s['pods_on_kwok_nodes']} pods Running on kwok nodes "
                  f"({s['deployments']} Deployments, Running after {s['pods_running_s']} s); "
                  f"{s['experiments']} experiments: {s['scheduled_experiments']} scheduled "
                  f"(98 % suspended), {s['dry_run_experiments']} dry-run, "
                  f"{s['concurrent_real_runs']} real runs at once; 2 operator replicas"),
        ("leader idle with every experiment", f"RSS {idle['leader'].get('rss_peak_mib')} MiB peak, "
                  f"CPU {idle['leader'].get('cpu_avg_percent_of_one_core')} % of a core, "
                  f"{idle['api_requests_per_minute']} API requests/min"),
        ("leader during the real runs", f"RSS {runs['leader'].get('rss_peak_mib')} MiB peak, "
                  f"CPU {runs['leader'].get('cpu_avg_percent_of_one_core')} % of a core "
                  f"(node {runs['leader'].get('node_cpu_busy_percent_of_all_cores')} % busy)"),
        ("apply → first deletion under load", f"p50 {fd.get('p50')} s, p95 {fd.get('p95')} s "
                  f"({fd.get('samples')} apps; {runs['apps_without_a_deletion']} without one)"),
        ("… of which", "; ".join(
            f"{name.removesuffix('_s').replace('_', ' ')} p50 {d.get('p50')} s, p95 {d.get('p95')} s"
            for name, d in runs.get("first_deletion_parts", {}).items())),
        ("apply → completion under load",
                  f"p50 {runs['runs']['to_completion_s'].get('p50')} s, "
                  f"p95 {runs['runs']['to_completion_s'].get('p95')} s; verdicts "
                  f"{runs['runs']['verdicts']}"),
        ("reconcile latency (bucket bounds)", "; ".join(
            f"{c} {v['reconciles']} reconciles, p50 ≤ {v.get('p50_at_most_s')} s, "
            f"p95 ≤ {v.get('p95_at_most_s')} s" for c, v in rec.items() if v["reconciles"])),
        ("API requests per run", f"{runs['api_requests_per_run']}"),
        ("reconcile errors", f"{sum(errors.values())} {errors if errors else ''}".strip()),
        ("leader deleted mid-run", f"Lease taken after {restart['lease_taken_after_s']} s; every "
                  f"one of {restart['results_in_cluster']} results reconciled after "
                  f"{restart['every_result_reconciled_after_s']} s; "
                  f"{restart['second_runs']['terminal']} of {restart['second_runs']['results']} runs "
                  f"ended ({restart['second_runs']['verdicts']}), "
                  f"{restart['duplicate_runs']} duplicated, "
                  f"{restart['runs_ended_more_than_once']} ended more than once (RunCompleted Events), "
                  f"{restart['second_runs']['ledger_entries_unreverted']} entries unreverted"),
    ]
    lines = ["<!-- scale:begin -->", "",
             f"Measured {common['date']} on {common['machine']['nproc']} cores "
             f"({common['machine']['cpu_model']}), commit {common['git_commit'][:10]}, "
             "by `bench/scale.sh` (`make bench`); raw figures in `bench/results/scale.json`.", "",
             "| figure | value |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    lines += ["", "<!-- scale:end -->"]
    return "\n".join(lines)


def main(work, results_path, docs_path):
    work = Path(work)
    summary = summarize(work)
    repo = Path(__file__).resolve().parent.parent
    common = {"date": bench.time.strftime("%Y-%m-%d"), "machine": bench.machine(),
              "git_commit": bench.git(repo, "rev-parse", "HEAD")}
    Path(results_path).write_text(json.dumps({**common, **summary}, indent=2) + "\n")
    docs = Path(docs_path)
    text = docs.read_text()
    table = render(summary, common)
    if "<!-- scale:begin -->" in text:
        text = re.sub(r"<!-- scale:begin -->.*<!-- scale:end -->", lambda _: table, text, flags=re.S)
    else:
        text += "\n## Scale\n\n" + table + "\n"
    docs.write_text(text)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main(*sys.argv[1:4])
