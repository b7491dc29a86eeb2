#!/usr/bin/env bash
# Chaos of the chaos tool (part of make bench, never a timed test): runs a workload-scale fault again
# and again, and at a random moment of each run kills either the operator pod or the fault pod (SIGKILL of
# its process, then a force delete). It counts the runs left non-terminal and the injections left
# unreverted (replicas not restored, or ledger entries not settled), and writes
# bench/results/revert-chaos.json. The goal for both counts is 0.
# Knobs: CHAOS_RUNS (20 of each kind), CHAOS_DURATION (8, seconds of each fault).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/cluster/config.sh"
source "$REPO_ROOT/e2e/lib.sh"
export KUBECONFIG=$KUBECONFIG_ADMIN
export PATH=$KUBE_BIN_DIR:$(dirname "$HELM_BIN"):$PATH
RUNS=${CHAOS_RUNS:-20}
DURATION=${CHAOS_DURATION:-8}
NS=bench-chaos-$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')
RESULTS=$REPO_ROOT/bench/results/revert-chaos.json
ROWS=$(mktemp)
STARTED=$SECONDS

log() { printf '%s revert-chaos: %s\n' "$(date +%T)" "$*"; }
cleanup() {
	kubectl delete namespace "$NS" --wait=false >/dev/null 2>&1
	rm -f "$ROWS"
}
trap cleanup EXIT

"$CLUSTER_SRC/cluster.sh" status >/dev/null || { echo "the cluster is not up: run make cluster-up" >&2; exit 1; }
kubectl -n "$OPERATOR_NS" get deployment -l app.kubernetes.io/name=faultline -o name | grep -q . || install_operator ||
	{ echo "cannot install the operator" >&2; exit 1; }
kubectl create namespace "$NS" >/dev/null && kubectl label namespace "$NS" chaos.faultline.dev/allow=true >/dev/null
until kubectl -n "$NS" get serviceaccount default >/dev/null 2>&1; do sleep 0.2; done
deploy_app "$NS" 2

# one_run KIND N: one run whose operator ("operator") or fault pod ("fault-pod") is killed mid-run
one_run() {
	local kind=$1 n=$2 name="$1-$2" result="$1-$2-1"
	experiment "$NS" "$name" "  faults:
  - name: scale
    type: workload-scale
    duration: ${DURATION}s
    target: {kind: Deployment, name: web}
    workloadScale: {replicas: 0}
    probes:
    - {name: present, mode: EOT, probe: {type: k8s, k8s: {apiVersion: apps/v1, kind: Deployment, name: web, check: {state: Present}}}}" >/dev/null
	local deadline=$((SECONDS + 60))
	until [ "$(kubectl -n "$NS" get chaosresult "$result" -o jsonpath='{.status.phase}' 2>/dev/null)" = Running ]; do
		[ $SECONDS -lt $deadline ] || break
		sleep 0.2
	done
	# A random moment within the fault's duration (0 to DURATION s, in tenths).
	local delay; delay=$(awk -v r="$RANDOM" -v d="$DURATION" 'BEGIN { printf "%.1f", (r % (d * 10)) / 10 }')
	sleep "$delay"
	if [ "$kind" = operator ]; then
		kubectl -n "$OPERATOR_NS" delete pod -l app.kubernetes.io/name=faultline --wait=false >/dev/null
	else
		pkill -9 -f -- "--result=$result --fault=scale" || true
		kubectl -n "$NS" delete pod "$result-scale" --force --grace-period=0 >/dev/null 2>&1
	fi
	local phase="" settled=""
	deadline=$((SECONDS + 180))
	while [ $SECONDS -lt $deadline ]; do
		phase=$(kubectl -n "$NS" get chaosresult "$result" -o jsonpath='{.status.phase}' 2>/dev/null)
		case $phase in Completed | CompletedWithError | Error | Timeout | Stopped) break ;; esac
		sleep 1
	done
	# Give the backstop its retry period to settle what it can, then judge.
	deadline=$((SECONDS + 30))
	while [ $SECONDS -lt $deadline ]; do
		settled=$(kubectl -n "$NS" get chaosresult "$result" -o jsonpath='{.status.faults[0].targets[*].state}')
		replicas=$(kubectl -n "$NS" get deployment web -o jsonpath='{.spec.replicas}')
		[ "$replicas" = 2 ] && ! grep -qE 'Injecting|Injected' <<< "$settled" && break
		sleep 1
	done
	local terminal=1 reverted=1
	case $phase in Completed | CompletedWithError | Error | Timeout | Stopped) ;; *) terminal=0 ;; esac
	[ "$replicas" = 2 ] && ! grep -qE 'Injecting|Injected' <<< "$settled" || reverted=0
	local by; by=$(kubectl -n "$NS" get chaosresult "$result" -o jsonpath='{.status.faults[0].targets[*].revertedBy}')
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$kind" "$n" "$delay" "$phase" "$terminal" "$reverted" "${by:-none}" >> "$ROWS"
	log "$kind #$n: killed at ${delay}s, phase ${phase:-none}, ledger [${settled}], replicas $replicas, reverted by ${by:-nobody}"
	kubectl -n "$OPERATOR_NS" rollout status deployment -l app.kubernetes.io/name=faultline --timeout=120s >/dev/null
	# Leave the app as the next run expects it, whatever this one did.
	kubectl -n "$NS" scale deployment web --replicas=2 >/dev/null
	kubectl -n "$NS" delete chaosexperiment "$name" --wait=false >/dev/null
}

for n in $(seq 1 "$RUNS"); do
	one_run operator "$n"
	one_run fault-pod "$n"
done

python3 - "$ROWS" "$RESULTS" "$((SECONDS - STARTED))" <<'EOF'
import json, sys, datetime
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1]) if line.strip()]
out = {"measured": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
       "how": "bench/revert-chaos.sh: workload-scale to 0 for CHAOS_DURATION s; at a random moment the operator pod "
              "is deleted, or the fault pod's process SIGKILLed and the pod force-deleted; then each run is judged",
       "seconds": int(sys.argv[3]), "kinds": {}}
for kind in ("operator", "fault-pod"):
    mine = [r for r in rows if r[0] == kind]
    out["kinds"][kind] = {
        "runs": len(mine),
        "non_terminal": sum(1 for r in mine if r[4] != "1"),
        "unreverted": sum(1 for r in mine if r[5] != "1"),
        "phases": {p: sum(1 for r in mine if r[3] == p) for p in sorted({r[3] for r in mine})},
        "reverted_by": {b: sum(1 for r in mine if r[6] == b) for b in sorted({r[6] for r in mine})},
    }
json.dump(out, open(sys.argv[2], "w"), indent=2)
print(json.dumps(out["kinds"], indent=2))
EOF
log "took $((SECONDS - STARTED)) s; wrote ${RESULTS#$REPO_ROOT/}"
