#!/usr/bin/env python3
"""Helpers of the benchmark tier (bench/run.sh): a /proc sampler, and the summary that turns the raw
data run.sh collected into bench/results/*.json and the table in docs/benchmarks.md.

  bench.py sample PID OUT [INTERVAL]   append "epoch rss_kb hwm_kb cpu_ticks node_busy node_total" lines
  bench.py summarize WORK RESULTS DOCS  write RESULTS/*.json and the table between the markers in DOCS

Percentiles interpolate linearly between the two nearest ranks (numpy's default, "type 7").
"""

import datetime as dt
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

TERMINAL = {"Completed", "CompletedWithError", "Error", "Timeout", "Stopped"}
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- sampler

def read_proc(pid):
    """(rss_kb, hwm_kb, utime+stime ticks) of PID, or None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = {k: v for k, _, v in (line.partition(":") for line in status.splitlines())}
    rss = int(fields["VmRSS"].split()[0])
    hwm = int(fields["VmHWM"].split()[0])
    after_comm = stat.rsplit(")", 1)[1].split()  # field 3 (state) is index 0
    ticks = int(after_comm[11]) + int(after_comm[12])  # fields 14 utime and 15 stime
    return rss, hwm, ticks


def read_node_cpu():
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # guest time is already in user
    return total - idle, total


def sample(pid, out, interval=0.5):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    with open(out, "a", buffering=1) as f:
        while not stop:
            proc = read_proc(pid)
            if proc is None:
                f.write(f"{time.time():.3f} gone\n")
                return
            busy, total = read_node_cpu()
            f.write(f"{time.time():.3f} {proc[0]} {proc[1]} {proc[2]} {busy} {total}\n")
            time.sleep(interval)


# ---------------------------------------------------------------- statistics

def pct(values, p):
    values = sorted(values)
    if not values:
        return None
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def dist(values, unit, digits=3):
    """p50/p95/min/max/mean of VALUES (None entries dropped)."""
    values = [v for v in values if v is not None]
    if not values:
        return {"unit": unit, "samples": 0}
    r = lambda v: round(v, digits)
    return {
        "p50": r(pct(values, 50)),
        "p95": r(pct(values, 95)),
        "min": r(min(values)),
        "max": r(max(values)),
        "mean": r(statistics.fmean(values)),
        "unit": unit,
        "samples": len(values),
    }


def ts(text):
    """Epoch seconds of an RFC3339 time such as 2026-01-01T10:00:00Z (or None)."""
    if not text:
        return None
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def duration_s(text):
    """Seconds of a Faultline duration such as 2s, 500ms, 1m30s."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * units[u] for n, u in re.findall(r"([\d.]+)(ms|s|m|h)", text))


# ---------------------------------------------------------------- raw data readers

def read_env(path):
    env = {}
    if path.exists():
        for line in path.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep:
                env[key] = value
    return env


def read_watch(path):
    """Lines "epoch|field|field..." of a timestamped kubectl watch, as (epoch, [fields])."""
    events = []
    if path.exists():
        for line in path.read_text().splitlines():
            parts = line.split("|")
            try:
                events.append((float(parts[0]), parts[1:]))
            except ValueError:
                continue
    return events


def read_samples(path):
    rows, gone = [], None
    if path.exists():
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1] == "gone":
                gone = float(parts[0])
            elif len(parts) == 6:
                rows.append([float(parts[0])] + [int(x) for x in parts[1:]])
    return rows, gone


def read_metrics(path):
    """{(name, labels): value} of a Prometheus text exposition."""
    out = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.startswith("#") or not line.strip():
                continue
            m = re.match(r"^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)", line)
            if m:
                out[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return out


def kube_requests(metrics):
    """{verb: count} of faultline_kube_requests_total, or None when the family is absent."""
    found = {k: v for k, v in metrics.items() if k[0] == "faultline_kube_requests_total"}
    if not found:
        return None
    out = {}
    for (_, labels), value in found.items():
        m = re.search(r'verb="([^"]*)"', labels)
        out[m.group(1) if m else labels] = value
    return out


def json_file(path):
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def window_usage(rows, start, end):
    """RSS, CPU and node CPU over the samples between START and END."""
    inside = [r for r in rows if start <= r[0] <= end]
    if len(inside) < 2:
        return {"samples": len(inside)}
    first, last = inside[0], inside[-1]
    seconds = last[0] - first[0]
    return {
        "window_s": round(seconds, 1),
        "samples": len(inside),
        "rss_peak_mib": round(max(r[1] for r in inside) / 1024, 1),
        "rss_mean_mib": round(statistics.fmean(r[1] for r in inside) / 1024, 1),
        "vm_hwm_mib_at_end": round(last[2] / 1024, 1),
        "cpu_avg_percent_of_one_core": round((last[3] - first[3]) / CLK_TCK / seconds * 100, 2),
        "cpu_seconds": round((last[3] - first[3]) / CLK_TCK, 2),
        "node_cpu_busy_percent_of_all_cores": round(
            (last[4] - first[4]) / max(1, last[5] - first[5]) * 100, 1),
    }


# ---------------------------------------------------------------- summary

def machine():
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    model = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
    return {
        "nproc": os.cpu_count(),
        "mem_total_gib": round(mem_kb / 1024 / 1024, 1),
        "cpu_model": model.group(1).strip() if model else None,
        "kernel": platform.release(),
    }


def git(repo, *args):
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (subprocess.CalledProcessError, FileNotFoundError):
        return None


def latency_runs(work):
    """Per-run records of the latency series, from WORK/lat/<run>/ and the two watches."""
    lat = work / "lat"
    pod_events = read_watch(lat / "pods.watch")  # type|name|app|deletionTimestamp|phase
    result_events = read_watch(lat / "results.watch")  # type|name|phase
    runs = []
    for d in sorted(p for p in lat.iterdir() if p.is_dir()):
        times = (d / "times").read_text().split() if (d / "times").exists() else []
        if len(times) < 2:
            continue
        t0, t_applied = float(times[0]), float(times[1])
        result = json_file(d / "result.json") or {}
        rname = result.get("metadata", {}).get("name", d.name + "-1")
        status = result.get("status", {})
        fault = (status.get("faults") or [{}])[0]
        targets = fault.get("targets") or []
        spec_fault = result.get("spec", {}).get("experiment", {}).get("faults", [{}])[0]
        duration = duration_s(spec_fault.get("duration", "0s"))
        fault_pod_name = fault.get("pod")

        first_deletion = next((t for t, f in pod_events
                               if t >= t0 and len(f) >= 4 and f[2] == "web" and f[3]), None)
        pod_added = next((t for t, f in pod_events
                          if t >= t0 and f[0] == "ADDED" and f[1] == fault_pod_name), None)
        pod_running = next((t for t, f in pod_events
                            if t >= t0 and f[1] == fault_pod_name and len(f) >= 5 and f[4] == "Running"),
                           None)
        terminal_seen = next((t for t, f in result_events
                              if t >= t0 and f[1] == rname and len(f) >= 3 and f[2] in TERMINAL), None)

        pods = (json_file(d / "faultpods.json") or {}).get("items", [])
        started_at = created_at = None
        if pods:
            created_at = ts(pods[0]["metadata"].get("creationTimestamp"))
            for cs in pods[0].get("status", {}).get("containerStatuses", []):
                state = cs.get("state", {})
                started_at = ts((state.get("terminated") or state.get("running") or {}).get("startedAt"))
        fault_log_requests = first_log = process_started = None
        log = (d / "faultpod.log").read_text() if (d / "faultpod.log").exists() else ""
        for line in log.splitlines():
            try:
                entry = json.loads(line)
                at = ts(entry.get("timestamp"))
            except (json.JSONDecodeError, AttributeError, ValueError):
                continue
            if entry.get("message") == "fault pod started":
                process_started = process_started or at
            elif first_log is None:
                first_log = at
        for line in reversed(log.splitlines()):
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if "kube_requests" in entry:
                fault_log_requests = entry["kube_requests"]
                break

        before = kube_requests(read_metrics(d / "metrics-before.txt"))
        after_run = kube_requests(read_metrics(d / "metrics-after-run.txt"))
        after_delete = kube_requests(read_metrics(d / "metrics-after-delete.txt"))
        delta = lambda a, b: None if a is None or b is None else {
            v: int(b.get(v, 0) - a.get(v, 0)) for v in sorted(set(a) | set(b))}
        others = [int(x) for x in (d / "others").read_text().split()] if (d / "others").exists() else []

        start, completion = ts(status.get("startTime")), ts(status.get("completionTime"))
        ledger = ts(targets[0]["time"]) if targets else None
        sub = lambda a, b: None if a is None or b is None else round(a - b, 3)
        runs.append({
            "run": d.name,
            "warmup": (d / "warmup").exists(),
            "phase": status.get("phase"),
            "verdict": status.get("verdict"),
            "duration_s": duration,
            "t0_apply_called": round(t0, 3),
            "kubectl_apply_s": round(t_applied - t0, 3),
            "apply_to_first_deletion_seen_s": sub(first_deletion, t0),
            "apply_to_ledger_time_s": sub(ledger, t0),
            "apply_to_fault_pod_added_s": sub(pod_added, t0),
            "fault_pod_added_to_running_seen_s": sub(pod_running, pod_added),
            "fault_pod_created_to_started_s": sub(started_at, created_at),
            "fault_pod_added_to_first_log_line_s": sub(first_log, pod_added),
            "fault_pod_added_to_process_started_s": sub(process_started, pod_added),
            "result_overhead_s": None if start is None or completion is None else round(completion - start - duration, 3),
            "apply_overhead_s": None if completion is None else round(completion - t0 - duration, 3),
            "apply_to_terminal_seen_overhead_s": None if terminal_seen is None else round(terminal_seen - t0 - duration, 3),
            "operator_requests_run": delta(before, after_run),
            "operator_requests_delete": delta(after_run, after_delete),
            "fault_pod_requests": fault_log_requests,
            "foreign_active_runs_before_after": others,
            "targets": len(targets),
        })
    return runs


def load_summary(work):
    load = work / "load"
    env = read_env(load / "window.env")
    if not env:
        return None
    t0, t_end = float(env["t0"]), float(env["t_end"])
    rows, gone = read_samples(load / "proc.txt")
    usage = window_usage(rows, t0, t_end)
    results = (json_file(load / "results.json") or {}).get("items", [])
    phases = {}
    for r in results:
        phase = r.get("status", {}).get("phase") or "(none)"
        phases[phase] = phases.get(phase, 0) + 1
    ledger, run_s = [], []
    for r in results:
        status = r.get("status", {})
        targets = ((status.get("faults") or [{}])[0].get("targets")) or []
        if targets:
            ledger.append(ts(targets[0]["time"]) - t0)
        if status.get("completionTime"):
            run_s.append(ts(status["completionTime"]) - t0)
    startup = []
    for p in (json_file(load / "faultpods.json") or {}).get("items", []):
        created = ts(p["metadata"].get("creationTimestamp"))
        for cs in p.get("status", {}).get("containerStatuses", []):
            state = cs.get("state", {})
            started = ts((state.get("terminated") or state.get("running") or {}).get("startedAt"))
            if created and started:
                startup.append(started - created)
    # The timeline: "T epoch", then "R phase" per result and "P phase" per fault pod.
    peaks = {"results_queued": 0, "results_running": 0, "fault_pods_pending": 0, "fault_pods_running": 0}
    first_all_created = None
    polls = 0
    if (load / "timeline.txt").exists():
        block = None
        def close(block):
            nonlocal first_all_created
            if block is None:
                return
            peaks["results_queued"] = max(peaks["results_queued"], block["R"].count("Queued"))
            peaks["results_running"] = max(peaks["results_running"], block["R"].count("Running"))
            peaks["fault_pods_pending"] = max(peaks["fault_pods_pending"], block["P"].count("Pending"))
            peaks["fault_pods_running"] = max(peaks["fault_pods_running"], block["P"].count("Running"))
            if first_all_created is None and len(block["R"]) >= int(env["count"]):
                first_all_created = block["t"] - t0
        for line in (load / "timeline.txt").read_text().splitlines():
            kind, _, value = line.partition(" ")
            if kind == "T":
                close(block)
                polls += 1
                block = {"t": float(value), "R": [], "P": []}
            elif block is not None and kind in ("R", "P"):
                block[kind].append(value)
        close(block)
    before, after = read_metrics(load / "metrics-before.txt"), read_metrics(load / "metrics-after.txt")
    requests = None
    if kube_requests(before) is not None and kube_requests(after) is not None:
        b, a = kube_requests(before), kube_requests(after)
        by_verb = {v: int(a.get(v, 0) - b.get(v, 0)) for v in sorted(set(a) | set(b))}
        requests = {"by_verb": by_verb, "total": sum(by_verb.values()),
                    "per_experiment": round(sum(by_verb.values()) / int(env["count"]), 1)}
    rec = lambda m, s: m.get((f"faultline_reconcile_duration_seconds_{s}", '{controller="experiment"}'), 0)
    reconciles = int(rec(after, "count") - rec(before, "count"))
    reconcile = {
        "count": reconciles,
        "mean_s": round((rec(after, "sum") - rec(before, "sum")) / reconciles, 3) if reconciles else None,
        "over_1s": int(reconciles - (after.get(("faultline_reconcile_duration_seconds_bucket", '{controller="experiment",le="1"}'), 0)
                                     - before.get(("faultline_reconcile_duration_seconds_bucket", '{controller="experiment",le="1"}'), 0))),
    }
    return {
        "experiments": int(env["count"]),
        "namespaces": int(env["namespaces"]),
        "fault": env.get("fault"),
        "timed_out": env.get("timed_out") == "1",
        "apply_to_all_terminal_s": round(t_end - t0, 1),
        "phases": phases,
        "usage": usage,
        "operator_process_gone_at": gone,
        "operator_restarts_during_load": int(env.get("restarts_after", 0)) - int(env.get("restarts_before", 0)),
        "operator_last_termination_reason": env.get("last_termination") or None,
        "apply_to_ledger_time_s": dist(ledger, "s", 1),
        "apply_to_completion_s": dist(run_s, "s", 1),
        "fault_pod_created_to_started_s": dist(startup, "s", 1),
        "all_results_created_after_s": None if first_all_created is None else round(first_all_created, 1),
        "peaks_2s_polls": peaks,
        "polls": polls,
        "operator_requests_during_window": requests,
        "experiment_reconciles_during_window": reconcile,
    }


def operator_log(path):
    """Counts of the operator's log lines by level, and its most frequent WARN/ERROR messages."""
    levels, messages = {}, {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            level = entry.get("level", "?")
            levels[level] = levels.get(level, 0) + 1
            if level in ("WARN", "ERROR"):
                key = f"{level} {entry.get('message')}" + (f" ({entry['reason']})" if "reason" in entry else "")
                messages[key] = messages.get(key, 0) + 1
    top = sorted(messages.items(), key=lambda kv: -kv[1])[:10]
    return {"lines_by_level": levels, "top_warn_error": [{"message": k, "count": v} for k, v in top]}


def summarize(work, results_dir, docs):
    work, results_dir, docs = Path(work), Path(results_dir), Path(docs)
    repo = Path(__file__).resolve().parent.parent
    meta = read_env(work / "meta.env")
    common = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git_commit": meta.get("git_commit") or git(repo, "rev-parse", "HEAD"),
        # Uncommitted changes in what the image and the install are built from, when the bench started.
        "git_dirty": meta.get("git_dirty", "false") == "true",
        "faultline_version": meta.get("version"),
        "operator_image": meta.get("image_id"),
        "kubernetes": meta.get("kubernetes"),
        "machine": machine(),
    }
    results_dir.mkdir(parents=True, exist_ok=True)
    written = {}

    def write(name, title, method, samples, figures, **extra):
        doc = {"name": name, "title": title, **common, "method": method, "samples": samples,
               "figures": figures, **extra}
        (results_dir / f"{name}.json").write_text(json.dumps(doc, indent=2) + "\n")
        written[name] = doc

    runs = latency_runs(work) if (work / "lat").exists() else []
    measured = [r for r in runs if not r["warmup"]]
    warmup = [r for r in runs if r["warmup"]]
    col = lambda key: [r[key] for r in measured]
    foreign = sum(1 for r in measured if any(r["foreign_active_runs_before_after"]))
    series = ("Per run: a fresh ChaosExperiment (one pod-delete fault, target Deployment web, mode one, "
              "duration 2s, interval 2s, one k8s EOT probe minReady 1) in one namespace with a 2-replica "
              "demo app, reused across runs; the experiment is deleted after its result is terminal and the "
              "app is back to 2 Ready pods. t0 = host clock just before `kubectl apply` is called. "
              "One warm-up run (first in the namespace: creates the fault ServiceAccount and RoleBinding) "
              "is excluded and reported separately.")
    if runs:
        write("apply-to-first-delete", "apply -> first target pod deleted",
              series + " Precise: a `kubectl get pods -w` started before the series, each event stamped "
              "with the host clock on arrival; t1 = first event after t0 showing a demo pod with a "
              "deletionTimestamp. Ledger: t1 = status.faults[0].targets[0].time of the ChaosResult, which "
              "the fault pod writes just before the delete and which has 1 s resolution (truncated), so "
              "it reads up to 1 s low.",
              len(measured),
              {
                  "apply_to_first_deletion_seen_s": dist(col("apply_to_first_deletion_seen_s"), "s"),
                  "apply_to_ledger_time_s": dist(col("apply_to_ledger_time_s"), "s"),
                  "kubectl_apply_s": dist(col("kubectl_apply_s"), "s"),
                  "breakdown_apply_to_fault_pod_added_s": dist(col("apply_to_fault_pod_added_s"), "s"),
                  "breakdown_fault_pod_added_to_running_seen_s": dist(col("fault_pod_added_to_running_seen_s"), "s"),
                  "breakdown_fault_pod_added_to_process_started_s": dist(col("fault_pod_added_to_process_started_s"), "s"),
                  "breakdown_fault_pod_added_to_first_log_line_s": dist(col("fault_pod_added_to_first_log_line_s"), "s"),
              },
              warmup={k: warmup[0][k] for k in ("apply_to_first_deletion_seen_s", "apply_to_ledger_time_s")} if warmup else None,
              runs_with_other_active_chaos_runs_in_cluster=foreign,
              phases={p: col("phase").count(p) for p in set(col("phase"))},
              raw=runs)
        write("run-overhead", "run overhead beyond the configured fault duration",
              series + " result: (status.completionTime - status.startTime) - duration; apply: "
              "(status.completionTime - t0) - duration; both timestamps have 1 s resolution, so each "
              "figure is +-1 s. Precise: (moment a `kubectl get chaosresults -w` on the host saw the "
              "terminal phase - t0) - duration.",
              len(measured),
              {
                  "result_overhead_s": dist(col("result_overhead_s"), "s"),
                  "apply_overhead_s": dist(col("apply_overhead_s"), "s"),
                  "apply_to_terminal_seen_overhead_s": dist(col("apply_to_terminal_seen_overhead_s"), "s"),
              },
              configured_duration_s=measured[0]["duration_s"] if measured else None,
              runs_with_other_active_chaos_runs_in_cluster=foreign)

        op = [r["operator_requests_run"] for r in measured]
        op_present = any(x is not None for x in op)
        fp = col("fault_pod_requests")
        fp_present = any(x is not None for x in fp)
        figures = {}
        if op_present:
            totals = [sum(x.values()) for x in op if x is not None]
            figures["operator_requests_per_run"] = dist(totals, "requests", 1)
            verbs = sorted({v for x in op if x for v in x})
            figures["operator_requests_per_run_by_verb_p50"] = {
                v: pct([x.get(v, 0) for x in op if x is not None], 50) for v in verbs}
            dels = [sum(x.values()) for x in (r["operator_requests_delete"] for r in measured) if x is not None]
            figures["operator_requests_per_experiment_delete"] = dist(dels, "requests", 1)
        if fp_present:
            figures["fault_pod_requests_per_run"] = dist(fp, "requests", 1)
        write("api-requests", "Kubernetes API requests per run",
              "Operator: delta of faultline_kube_requests_total (all verbs; a watch counts once per "
              "(re)connect) scraped from the faultline-metrics Service just before `kubectl apply` and "
              "again once the result is terminal and the app has recovered (so it includes the status "
              "writes that follow the run); the experiment's deletion is counted separately. Fault pod: "
              "the kube_requests field of the fault pod's final JSON log line (`kubectl logs`). Runs are "
              "isolated only if no other chaos run was active in the cluster: see "
              "runs_with_other_active_chaos_runs_in_cluster.",
              len(measured), figures,
              operator_counter_present=op_present,
              fault_pod_field_present=fp_present,
              absent=[n for n, present in (("faultline_kube_requests_total on /metrics", op_present),
                                           ("kube_requests in the fault pod's final log line", fp_present))
                      if not present],
              runs_with_other_active_chaos_runs_in_cluster=foreign)

    idle_env = read_env(work / "idle" / "window.env")
    load = load_summary(work)
    if idle_env or load:
        idle = None
        if idle_env:
            rows, gone = read_samples(work / "idle" / "proc.txt")
            idle = window_usage(rows, float(idle_env["t0"]), float(idle_env["t_end"]))
            idle["other_active_chaos_runs_in_cluster"] = int(idle_env.get("others", 0))
            idle["operator_process_gone_at"] = gone
        write("operator-resources", "operator RSS and CPU, idle and with concurrent experiments",
              "The operator process (`faultline operator`, found by pgrep and matched to the operator "
              "pod's UID through /proc/<pid>/cgroup) sampled every 0.5 s: VmRSS and VmHWM from "
              "/proc/<pid>/status, utime+stime from /proc/<pid>/stat. CPU % is of one core, averaged "
              "over the window. Idle: 30 s with no experiment of the bench, after a fresh operator "
              "start plus a settle period (VmHWM then includes start-up). Load: "
              f"{load['experiments'] if load else '?'} experiments applied in one `kubectl apply`, spread "
              f"over {load['namespaces'] if load else '?'} namespaces, each against its own 1-replica demo "
              "app Deployment (so no two compete for a target); each has one pod-delete fault (20 s, "
              "interval 20 s, so one deletion, mode one, dryRun false) and one k8s EOT minReady 1 probe; "
              "the window runs from the apply until every result is terminal, polled every 2 s. "
              "node_cpu_busy is the whole machine (control plane, kubelet, pods included), from /proc/stat.",
              (idle or {}).get("samples", 0) + ((load or {}).get("usage", {}).get("samples", 0)),
              {"idle": idle, "load": load},
              operator_log_during_bench=operator_log(work / "operator.log"))

    startup_fig = {}
    if runs:
        startup_fig["created_to_started_s"] = dist(col("fault_pod_created_to_started_s"), "s")
        startup_fig["precise_added_to_process_started_s"] = dist(col("fault_pod_added_to_process_started_s"), "s")
        startup_fig["precise_added_to_first_log_line_s"] = dist(col("fault_pod_added_to_first_log_line_s"), "s")
        startup_fig["precise_added_to_running_seen_s"] = dist(col("fault_pod_added_to_running_seen_s"), "s")
    if load:
        startup_fig["under_load_created_to_started_s"] = load["fault_pod_created_to_started_s"]
    if startup_fig:
        write("fault-pod-startup", "fault pod start-up time",
              "created_to_started: pod metadata.creationTimestamp -> containerStatuses[0].state.*.startedAt "
              "(both 1 s resolution) of each latency run's fault pod. precise_added_to_first_log_line: "
              "host-clock arrival of the pod's ADDED watch event -> timestamp of the fault process's first "
              "log line after 'fault pod started' ('targets selected', written once it has read the ChaosResult, the target workload and its pods; same host clock). "
              "precise_added_to_process_started: ADDED -> the process's 'fault pod started' line, its first act (the kubelet's volume mount, the sandbox and the container start). "
              "precise_added_to_running_seen: ADDED -> arrival of the first event with status.phase Running; "
              "this includes the kubelet's status-update delay, which is longer than the start-up itself "
              "(the first deletion usually happens before the pod is reported Running). under_load: "
              "created_to_started of the fault pods of the concurrent-experiments phase.",
              len(measured), startup_fig)

    images = []
    for line in (work / "images.txt").read_text().splitlines() if (work / "images.txt").exists() else []:
        size, _, path = line.partition(" ")
        images.append({"file": path, "bytes": int(size), "mib": round(int(size) / 1024 / 1024, 2)})
    if images:
        write("image-size", "faultline image size",
              "Size of the OCI image archive(s) /var/cache/faultline/images/faultline_*.tar (`ls -l`), the "
              "image that both the operator and the fault pods run; built by `make image`.",
              len(images), {"archives": images})

    render_docs(docs, written, common)
    return written


# ---------------------------------------------------------------- docs table

def fmt(d, key="p50"):
    if not d or d.get("samples", 1) == 0 or d.get(key) is None:
        return "n/a"
    return f"{d[key]:g}"


def render_docs(docs, written, common):
    begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
    m = common["machine"]
    lines = [begin, "",
             f"Last run: {common['date']}, commit `{(common['git_commit'] or '?')[:12]}`"
             f"{' (src/, Cargo files or charts/ had uncommitted changes)' if common['git_dirty'] else ''}, "
             f"Faultline {common['faultline_version']}, Kubernetes {common['kubernetes']}; "
             f"machine: {m['nproc']} cores ({m['cpu_model']}), {m['mem_total_gib']} GiB memory, "
             f"Linux {m['kernel']}.", "",
             "| figure | p50 | p95 | unit | samples | how | file |",
             "| --- | --- | --- | --- | --- | --- | --- |"]

    def row(label, d, how, file, unit=None):
        d = d or {}
        lines.append(f"| {label} | {fmt(d)} | {fmt(d, 'p95')} | {unit or d.get('unit', '')} | "
                     f"{d.get('samples', '')} | {how} | `bench/results/{file}.json` |")

    def single(label, value, unit, samples, how, file):
        lines.append(f"| {label} | {value} | | {unit} | {samples} | {how} | `bench/results/{file}.json` |")

    a = written.get("apply-to-first-delete")
    if a:
        f = a["figures"]
        row("apply -> first target pod deleted (watch)", f["apply_to_first_deletion_seen_s"],
            "host clock before `kubectl apply` -> first pod watch event with a deletionTimestamp",
            "apply-to-first-delete")
        row("apply -> first target pod deleted (ledger)", f["apply_to_ledger_time_s"],
            "-> `status.faults[0].targets[0].time` (1 s resolution, reads up to 1 s low)",
            "apply-to-first-delete")
        row("  of which: apply -> fault pod created", f["breakdown_apply_to_fault_pod_added_s"],
            "pod watch ADDED event", "apply-to-first-delete")
    o = written.get("run-overhead")
    if o:
        f = o["figures"]
        row("run overhead: (completion - start) - duration", f["result_overhead_s"],
            "ChaosResult status times (1 s resolution)", "run-overhead")
        row("run overhead: (completion - apply) - duration", f["apply_overhead_s"],
            "completionTime minus host clock at apply", "run-overhead")
        row("run overhead: (terminal seen - apply) - duration", f["apply_to_terminal_seen_overhead_s"],
            "chaosresults watch on the host", "run-overhead")
    s = written.get("fault-pod-startup")
    if s:
        f = s["figures"]
        if "created_to_started_s" in f:
            row("fault pod start-up (created -> startedAt)", f["created_to_started_s"],
                "pod status times, 1 s resolution", "fault-pod-startup")
            if f.get("precise_added_to_process_started_s", {}).get("samples"):
                row("fault pod start-up (created -> process started)", f["precise_added_to_process_started_s"],
                    "pod watch ADDED -> the fault process's first line, 'fault pod started'", "fault-pod-startup")
            row("fault pod start-up (created -> targets selected)", f["precise_added_to_first_log_line_s"],
                "pod watch ADDED -> the fault's first log line (after it has read the result, the workload and its pods)", "fault-pod-startup")
        if "under_load_created_to_started_s" in f:
            row("fault pod start-up under load", f["under_load_created_to_started_s"],
                "created -> startedAt, concurrent phase", "fault-pod-startup")
    r = written.get("api-requests")
    if r:
        f = r["figures"]
        if r["operator_counter_present"]:
            row("operator API requests per run", f["operator_requests_per_run"],
                "delta of `faultline_kube_requests_total`", "api-requests")
        else:
            single("operator API requests per run", "not measured", "", 0,
                   "`faultline_kube_requests_total` absent from /metrics", "api-requests")
        if r["fault_pod_field_present"]:
            row("fault pod API requests per run", f["fault_pod_requests_per_run"],
                "`kube_requests` in the fault pod's final log line", "api-requests")
        else:
            single("fault pod API requests per run", "not measured", "", 0,
                   "no `kube_requests` field in the fault pod's final log line", "api-requests")
    res = written.get("operator-resources")
    if res:
        idle, load = res["figures"]["idle"], res["figures"]["load"]
        if idle:
            single("operator RSS, idle (peak VmRSS)", idle.get("rss_peak_mib"), "MiB", idle.get("samples"),
                   f"{idle.get('window_s')} s window; VmHWM {idle.get('vm_hwm_mib_at_end')} MiB", "operator-resources")
            single("operator CPU, idle", idle.get("cpu_avg_percent_of_one_core"), "% of one core",
                   idle.get("samples"), "utime+stime over the window", "operator-resources")
        if load:
            u = load["usage"]
            n = load["experiments"]
            single(f"operator RSS, {n} concurrent experiments (peak VmRSS)", u.get("rss_peak_mib"), "MiB",
                   u.get("samples"), f"VmHWM at end {u.get('vm_hwm_mib_at_end')} MiB", "operator-resources")
            single(f"operator CPU, {n} concurrent experiments", u.get("cpu_avg_percent_of_one_core"),
                   "% of one core", u.get("samples"),
                   f"over {u.get('window_s')} s; whole machine {u.get('node_cpu_busy_percent_of_all_cores')} % busy",
                   "operator-resources")
            phases = ", ".join(f"{k} {v}" for k, v in sorted(load["phases"].items()))
            single(f"apply -> all {n} results terminal", load["apply_to_all_terminal_s"], "s", 1,
                   f"phases: {phases}{'; TIMED OUT' if load['timed_out'] else ''}", "operator-resources")
            row(f"apply -> first delete, {n} concurrent (ledger)", load["apply_to_ledger_time_s"],
                "ledger time, 1 s resolution", "operator-resources")
            req = load.get("operator_requests_during_window")
            if req:
                verbs = ", ".join(f"{k} {v}" for k, v in req["by_verb"].items())
                single(f"operator API requests per experiment, {n} concurrent", req["per_experiment"],
                       "requests", n, f"`faultline_kube_requests_total` delta over the window / {n} ({verbs})",
                       "operator-resources")
    im = written.get("image-size")
    if im:
        for a_ in im["figures"]["archives"]:
            single(f"image archive `{Path(a_['file']).name}`", a_["mib"], "MiB", 1, "`ls -l`", "image-size")
    lines += ["", end]
    text = docs.read_text() if docs.exists() else f"# Benchmarks\n\n{begin}\n{end}\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        tail = rest.split(end, 1)[1]
        text = head + "\n".join(lines) + tail
    else:
        text += "\n" + "\n".join(lines) + "\n"
    docs.write_text(text)


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "sample":
        sample(int(sys.argv[2]), sys.argv[3], float(sys.argv[4]) if len(sys.argv) > 4 else 0.5)
    elif len(sys.argv) == 5 and sys.argv[1] == "summarize":
        for name, doc in summarize(*sys.argv[2:]).items():
            print(f"wrote bench/results/{name}.json")
    else:
        sys.exit(__doc__)
