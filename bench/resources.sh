#!/usr/bin/env bash
# The resource faults' figures (part of make bench, never a timed test), written to
# bench/results/resources.json:
# - CPU-hog accuracy: cores requested vs the cores the target container's own cgroup accounted over
#   10 s of the fault (cpuacct.usage, or cpu.stat on cgroup v2), for 0.5 and 1 core;
# - memory-hog accuracy: MiB requested vs the rise of the cgroup's memory usage, for 64 and 256 MiB;
# - I/O stress: the MiB per second the target container's blkio cgroup read and wrote over 10 s of
#   pod-io-stress (one worker, files of 64 and 256 MiB in an emptyDir), against the idle rate;
# - the time from the fault pod's force delete (kubectl delete --grace-period=0 --force returning) to no
#   hog process left in the target's cgroup, over KILL_RUNS runs.
# Knobs: KILL_RUNS (5).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/cluster/config.sh"
source "$REPO_ROOT/e2e/lib.sh"
export KUBECONFIG=$KUBECONFIG_ADMIN
export PATH=$KUBE_BIN_DIR:$(dirname "$HELM_BIN"):$PATH
KILL_RUNS=${KILL_RUNS:-5}
NS=bench-res-$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')
RESULTS=$REPO_ROOT/bench/results/resources.json
WORK=$(mktemp -d)
trap 'kubectl delete namespace "$NS" --wait=false >/dev/null 2>&1; rm -rf "$WORK"' EXIT

log() { printf '%s resources: %s\n' "$(date +%T)" "$*"; }
# The cgroup helpers of the resource tier (cgroup_dir, cores, memory_mib, hogs_in, wait_state, io_mib,
# io_accounting, scratch_app).
eval "$(sed -n '/^# cgroup_dir NS POD/,/^# -----/p' "$REPO_ROOT/e2e/resources.sh")"
fail() { log "FAIL: $*"; exit 1; }

"$CLUSTER_SRC/cluster.sh" status >/dev/null || { echo "the cluster is not up: run make cluster-up" >&2; exit 1; }
kubectl -n "$OPERATOR_NS" get deployment -l app.kubernetes.io/component=operator -o name | grep -q . || install_operator ||
	{ echo "cannot install the operator" >&2; exit 1; }
kubectl create namespace "$NS" >/dev/null && kubectl label namespace "$NS" chaos.faultline.dev/allow=true >/dev/null
until kubectl -n "$NS" get serviceaccount default >/dev/null 2>&1; do sleep 0.2; done
scratch_app "$NS"
POD=$(kubectl -n "$NS" get pods -l app=web -o jsonpath='{.items[0].metadata.name}')
CPU_DIR=$(cgroup_dir "$NS" "$POD" cpuacct) || exit 1
MEM_DIR=$(cgroup_dir "$NS" "$POD" memory) || exit 1
IO_DIR=$(cgroup_dir "$NS" "$POD" blkio) || exit 1
MAIN=$(head -n1 "$IO_DIR/cgroup.procs")
io_accounting "$IO_DIR" "$(stat -L -c '%Hd:%Ld' "/proc/$MAIN/root/scratch")"

hog_run() { # hog_run NAME TYPE BLOCK DURATION: starts a resource fault on web and waits until it holds
	experiment "$NS" "$1" "  faults:
  - name: hog
    type: $2
    duration: $4
    target: {kind: Deployment, name: web}
    $3" >/dev/null || fail "experiment $1 rejected"
	wait_state "$NS" "$1-1" Injected 60 >/dev/null
}
stop_run() {
	kubectl -n "$NS" patch chaosexperiment "$1" --type=merge -p '{"spec":{"stop":true}}' >/dev/null
	wait_result "$NS" "$1-1" 90 >/dev/null
}

: > "$WORK/cpu"
for cores in 0.5 1; do
	log "cpu hog, $cores cores requested"
	idle=$(cores "$CPU_DIR" 3)
	hog_run "cpu${cores/./}" pod-cpu-hog "cpuHog: {cores: \"$cores\"}" 60s
	measured=$(cores "$CPU_DIR" 10)
	stop_run "cpu${cores/./}"
	echo "$cores $measured $idle" >> "$WORK/cpu"
done

: > "$WORK/memory"
for mib in 64 256; do
	log "memory hog, $mib MiB requested"
	before=$(memory_mib "$MEM_DIR")
	hog_run "mem$mib" pod-memory-hog "memoryHog: {mebibytes: $mib}" 60s
	during=$(memory_mib "$MEM_DIR")
	stop_run "mem$mib"
	echo "$mib $((during - before))" >> "$WORK/memory"
done

: > "$WORK/io"
for mib in 64 256; do
	log "io stress, one $mib MiB file"
	idle=$(io_mib "$IO_DIR" 3)
	hog_run "io$mib" pod-io-stress "ioStress: {path: /scratch, mebibytes: $mib}" 60s
	during=$(io_mib "$IO_DIR" 10)
	stop_run "io$mib"
	left=$(ls "/proc/$MAIN/root/scratch" | grep -c '^faultline-io' || true)
	echo "$mib $during $idle $left" >> "$WORK/io"
done

: > "$WORK/kills"
for n in $(seq "$KILL_RUNS"); do
	log "kill run $n of $KILL_RUNS"
	hog_run "kill$n" pod-cpu-hog 'cpuHog: {cores: "1"}' 120s
	pod=$(kubectl -n "$NS" get chaosresult "kill$n-1" -o jsonpath='{.status.faults[0].pod}')
	kubectl -n "$OPERATOR_NS" delete pod "$pod" --grace-period=0 --force >/dev/null 2>&1
	killed=$(date +%s%N)
	until [ "$(hogs_in "$CPU_DIR")" = 0 ]; do sleep 0.01; done
	echo $((($(date +%s%N) - killed) / 1000000)) >> "$WORK/kills"
	wait_result "$NS" "kill$n-1" 180 >/dev/null
done

python3 - "$WORK" "$RESULTS" <<'PY'
import json, sys, datetime, os, statistics
work, out_path = sys.argv[1], sys.argv[2]
rows = lambda name: [line.split() for line in open(os.path.join(work, name)) if line.strip()]
kills = sorted(int(x[0]) for x in rows("kills"))
out = {
    "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "cpu_hog": [{"requested_cores": float(r), "measured_cores": float(m), "idle_cores": float(i)} for r, m, i in rows("cpu")],
    "memory_hog": [{"requested_mib": int(r), "measured_mib": int(m)} for r, m in rows("memory")],
    "io_stress": [{"file_mib": int(f), "mib_per_s": int(d) / 10, "idle_mib_per_s": int(i) / 3, "files_left_after_stop": int(l)} for f, d, i, l in rows("io")],
    "force_delete_to_no_hog_ms": {"runs": len(kills), "values": kills, "median": statistics.median(kills), "max": max(kills)},
}
json.dump(out, open(out_path, "w"), indent=2)
print(json.dumps(out, indent=2))
PY
