#!/usr/bin/env bash
# The network faults' figures (part of make bench, never a timed test), written to
# bench/results/network.json:
# - added latency, requested vs measured (p50 and p99 of the TCP handshake with a demo pod, from this
#   host: exactly one of the pod's packets, the SYN-ACK, crosses an egress delay);
# - the time from SIGKILL of the fault process to normal traffic (fail-open), over KILL_RUNS runs;
# - the packets per second the verdict engine decides at 0 ms added delay, in two scratch network
#   namespaces on this machine (tests/netfault_ns.rs, bench_engine_pps).
# Knobs: LATENCY_SAMPLES (300), KILL_RUNS (5).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/cluster/config.sh"
source "$REPO_ROOT/e2e/lib.sh"
export KUBECONFIG=$KUBECONFIG_ADMIN
export PATH=$KUBE_BIN_DIR:$(dirname "$HELM_BIN"):$PATH
SAMPLES=${LATENCY_SAMPLES:-300}
KILL_RUNS=${KILL_RUNS:-5}
NS=bench-net-$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')
RESULTS=$REPO_ROOT/bench/results/network.json
WORK=$(mktemp -d)
trap 'kubectl delete namespace "$NS" --wait=false >/dev/null 2>&1; rm -rf "$WORK"' EXIT

log() { printf '%s network: %s\n' "$(date +%T)" "$*"; }

"$CLUSTER_SRC/cluster.sh" status >/dev/null || { echo "the cluster is not up: run make cluster-up" >&2; exit 1; }
kubectl -n "$OPERATOR_NS" get deployment -l app.kubernetes.io/component=operator -o name | grep -q . || install_operator ||
	{ echo "cannot install the operator" >&2; exit 1; }
kubectl create namespace "$NS" >/dev/null && kubectl label namespace "$NS" chaos.faultline.dev/allow=true >/dev/null
until kubectl -n "$NS" get serviceaccount default >/dev/null 2>&1; do sleep 0.2; done
deploy_app "$NS" 1
URL="http://$(kubectl -n "$NS" get pods -l app=web -o jsonpath='{.items[0].status.podIP}'):8080/health"

# handshakes FILE N: N TCP handshake times (ms, 3 decimals) with the demo pod, one per line
handshakes() {
	for _ in $(seq "$2"); do
		curl -s -o /dev/null -m 3 -w '%{time_connect}\n' "$URL" | awk '{ printf "%.3f\n", $1 * 1000 }'
	done > "$1"
}

latency_run() { # latency_run NAME LATENCY DURATION: a pod-network-latency run on web
	experiment "$NS" "$1" "  faults:
  - name: slow
    type: pod-network-latency
    duration: $3
    target: {kind: Deployment, name: web}
    networkLatency: {latency: $2}
    probes:
    - {name: up, mode: EOT, probe: {type: http, http: {url: \"http://web.$NS.svc.cluster.local/health\"}}}" >/dev/null
	wait_running "$NS" "$1-1" >/dev/null
	local deadline=$((SECONDS + 30))
	until [ "$(curl -s -o /dev/null -m 3 -w '%{time_connect}' "$URL" | awk '{ print int($1 * 1000) }')" -ge "${2%ms}" ]; do
		[ $SECONDS -lt $deadline ] || { log "the delay never took effect"; return 1; }
		sleep 0.2
	done
}

log "baseline: $SAMPLES handshakes"
handshakes "$WORK/baseline" "$SAMPLES"
for requested in 50 200; do
	log "${requested} ms requested: $SAMPLES handshakes"
	latency_run "lat$requested" "${requested}ms" 300s || exit 1
	handshakes "$WORK/lat$requested" "$SAMPLES"
	kubectl -n "$NS" patch chaosexperiment "lat$requested" --type=merge -p '{"spec":{"stop":true}}' >/dev/null
	wait_result "$NS" "lat$requested-1" 90 >/dev/null
done

: > "$WORK/kills"
for n in $(seq "$KILL_RUNS"); do
	log "kill run $n of $KILL_RUNS"
	latency_run "kill$n" 300ms 120s || exit 1
	pids=$(pgrep -f -- "--result=kill$n-1 --fault=slow") || { log "no fault process"; exit 1; }
	kill -9 $pids
	killed=$(date +%s%N)
	until [ "$(curl -s -o /dev/null -m 3 -w '%{time_connect}' "$URL" | awk '{ print int($1 * 1000) }')" -lt 100 ]; do :; done
	echo $(( ($(date +%s%N) - killed) / 1000000 )) >> "$WORK/kills"
	wait_result "$NS" "kill$n-1" 120 >/dev/null
done

log "engine packets per second (scratch namespaces)"
pps=$(cd "$REPO_ROOT" && cargo test --quiet --locked --release --test netfault_ns bench_engine_pps -- --ignored --nocapture 2>/dev/null |
	grep -o 'engine: [0-9]* packets/s' | grep -o '[0-9]*' | head -n1)

python3 - "$WORK" "$RESULTS" "${pps:-0}" <<'EOF'
import json, sys, datetime, os, statistics
work, out_path, pps = sys.argv[1], sys.argv[2], int(sys.argv[3])
def read(name):
    return sorted(float(x) for x in open(os.path.join(work, name)) if x.strip())
def pct(values, p):
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]
base = read("baseline")
rows = []
for requested in (50, 200):
    shaped = read(f"lat{requested}")
    rows.append({
        "requested_ms": requested,
        "samples": len(shaped),
        "p50_ms": round(pct(shaped, 50), 1),
        "p99_ms": round(pct(shaped, 99), 1),
        "added_p50_ms": round(pct(shaped, 50) - pct(base, 50), 1),
        "added_p99_ms": round(pct(shaped, 99) - pct(base, 50), 1),
    })
kills = read("kills")
out = {
    "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "baseline_handshake_ms": {"p50": round(pct(base, 50), 2), "p99": round(pct(base, 99), 2), "samples": len(base)},
    "latency": rows,
    "kill_to_normal_ms": {"runs": len(kills), "values": kills, "median": statistics.median(kills), "max": max(kills)},
    "engine_packets_per_second": pps,
}
json.dump(out, open(out_path, "w"), indent=2)
print(json.dumps(out, indent=2))
EOF
