#!/usr/bin/env bash
# The scale benchmark (part of make bench, never a timed test): the Helm-installed operator (two replicas,
# leader election) with SCALE_PODS pods on kwok nodes and SCALE_EXPERIMENTS ChaosExperiments:
#   - SCALE_APPS Deployments of SCALE_PODS/SCALE_APPS pods each, on simulated (kwok) nodes;
#   - scheduled experiments, most suspended, the rest on a schedule that does not fire during the bench;
#   - SCALE_APPS dry-run experiments (each resolves its targets in a fault pod, injects nothing);
#   - SCALE_APPS real runs at once, each a pod-delete of one pod of its own Deployment (the fault pods run on
#     the real node; the pods they delete are kwok's);
#   - then the same runs again, with the leader pod deleted while they are all Running.
# It samples the leader's process (RSS, CPU), scrapes its /metrics before and after each phase, watches
# the kwok pods' deletions, and writes bench/results/scale.json and the scale table in docs/benchmarks.md.
# Knobs: SCALE_PODS (5000), SCALE_APPS (100), SCALE_EXPERIMENTS (1000), SCALE_IDLE_SECONDS (30),
# SCALE_KEEP=1 keeps the raw data in /tmp.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/cluster/config.sh"
source "$REPO_ROOT/e2e/lib.sh"
export KUBECONFIG=$KUBECONFIG_ADMIN
export PATH=$KUBE_BIN_DIR:$(dirname "$HELM_BIN"):$PATH
PODS=${SCALE_PODS:-5000}
APPS=${SCALE_APPS:-100}
EXPERIMENTS=${SCALE_EXPERIMENTS:-1000}
IDLE_SECONDS=${SCALE_IDLE_SECONDS:-30}
PER_APP=$((PODS / APPS))
SCHEDULED=$((EXPERIMENTS - 2 * APPS))
NAMESPACES_N=10
SCALE_NODES=10
SUFFIX=$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')
PREFIX=bench-scale-$SUFFIX
TERMINAL='^(Completed|CompletedWithError|Error|Timeout|Stopped)$'
WORK=$(mktemp -d /tmp/faultline-scale.XXXXXX)
PIDS=() STARTED=$SECONDS

log() { printf '%s scale: %s\n' "$(date +%T)" "$*"; }
die() { log "$*"; exit 1; }
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	log "cleanup: deleting the namespaces and the scale nodes"
	kubectl delete namespace $(seq -f "$PREFIX-%g" 0 $((NAMESPACES_N - 1))) --ignore-not-found --wait=false >/dev/null 2>&1
	kubectl wait --for=delete $(seq -f "namespace/$PREFIX-%g" 0 $((NAMESPACES_N - 1))) --timeout=300s >/dev/null 2>&1 ||
		log "cleanup: namespaces still terminating after 300 s"
	kubectl delete node -l type=kwok-scale --ignore-not-found --wait=false >/dev/null 2>&1
	if [ -n "${SCALE_KEEP:-}" ]; then log "raw data kept in $WORK"; else rm -rf "$WORK"; fi
	log "took $((SECONDS - STARTED)) s"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stamp() { local line; while IFS= read -r line; do printf '%s|%s\n' "$EPOCHREALTIME" "$line"; done; }
ns_of() { echo "$PREFIX-$(($1 % NAMESPACES_N))"; }

scrape() { operator_get "$(leader_pod)" /metrics > "$1" 2>/dev/null || : > "$1"; }

start_sampler() { # start_sampler OUT: samples the leader's operator process; sets SAMPLER
	local pid
	pid=$(operator_pid "$(leader_pod)") || { log "the leader's process was not found on this host"; return 1; }
	python3 "$REPO_ROOT/bench/bench.py" sample "$pid" "$1" 0.5 &
	SAMPLER=$!
	PIDS+=("$SAMPLER")
}
stop_sampler() { kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null; }

# results_json: this bench's ChaosResults (its namespaces only)
results_json() {
	kubectl get chaosresults -A -o json | python3 -c "import json, sys; d = json.load(sys.stdin); d['items'] = [i for i in d['items'] if i['metadata']['namespace'].startswith('$PREFIX-')]; json.dump(d, sys.stdout)"
}

# count_phases PREFIX: "terminal running total" of this bench's results whose name starts with PREFIX
count_phases() {
	kubectl get chaosresults -A -o jsonpath='{range .items[*]}{.metadata.namespace}|{.metadata.name}|{.status.phase}{"\n"}{end}' |
		awk -F'|' -v ns="$PREFIX-" -v p="$1" -v term="$TERMINAL" \
			'index($1, ns) == 1 && index($2, p) == 1 {n++; if ($3 ~ term) t++; if ($3 == "Running") r++} END {print t + 0, r + 0, n + 0}'
}

wait_results() { # wait_results PREFIX COUNT SECONDS: until COUNT results of PREFIX are terminal
	local deadline=$((SECONDS + $3)) counts
	while [ $SECONDS -lt $deadline ]; do
		counts=$(count_phases "$1")
		[ "${counts%% *}" -ge "$2" ] && return 0
		sleep 2
	done
	log "$1: only $(count_phases "$1" | cut -d' ' -f1) of $2 terminal after $3 s"
	return 1
}

experiment_doc() { # experiment_doc NAME NS APP KIND: KIND is real, dry or scheduled-N
	local extra=""
	case $4 in
	dry) extra='  dryRun: true' ;;
	scheduled-*) extra="  schedule: \"0 0 1 1 *\"
  suspend: $([ "${4#scheduled-}" -lt $((SCHEDULED * 49 / 50)) ] && echo true || echo false)" ;;
	esac
	cat <<-EOF
	---
	apiVersion: chaos.faultline.dev/v1alpha1
	kind: ChaosExperiment
	metadata: {name: $1, namespace: $2, labels: {bench-scale: "$SUFFIX"}}
	spec:
	$extra
	  faults:
	  - name: kill
	    type: pod-delete
	    duration: ${DURATION:-10s}
	    interval: ${DURATION:-10s}
	    target: {kind: Deployment, name: $3, mode: one}
	    probes:
	    - {name: up, mode: EOT, probe: {type: k8s, k8s: {apiVersion: apps/v1, kind: Deployment, name: $3, check: {state: Present}}}}
	EOF
}

# The apps' pods tolerate not-ready and unreachable nodes: under this load kwok's node heartbeats lag,
# the node lifecycle controller marks the nodes NotReady now and then, and would otherwise evict the
# pods (a deletion the bench would count) and leaves them not Ready (so the probe asks only that the
# Deployment is there).
app_doc() { # app_doc NAME NS: PER_APP pods on the scale nodes
	cat <<-EOF
	---
	apiVersion: apps/v1
	kind: Deployment
	metadata: {name: $1, namespace: $2}
	spec:
	  replicas: $PER_APP
	  selector: {matchLabels: {app: $1}}
	  template:
	    metadata: {labels: {app: $1, bench-scale: "$SUFFIX"}}
	    spec:
	      nodeSelector: {type: kwok-scale}
	      tolerations:
	      - {key: faultline.dev/fake-node, operator: Exists, effect: NoSchedule}
	      - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute}
	      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute}
	      containers: [{name: web, image: "localhost/faultline-demo:$FAULTLINE_VERSION"}]
	EOF
}

# ---------------------------------------------------------------- phases

setup() {
	log "kwok and $SCALE_NODES scale nodes"
	FAKE_NODES=${FAKE_NODES:-2} "$CLUSTER_SRC/cluster.sh" up >/dev/null || die "cannot start kwok"
	local i
	for i in $(seq 0 $((SCALE_NODES - 1))); do
		sed -e "s#@NAME@#scale-node-$i#" -e 's#type: kwok#type: kwok-scale#' -e 's#pods: "110"#pods: "1000"#' \
			"$CLUSTER_SRC/manifests/kwok-node.yaml"
		echo ---
	done | kubectl apply -f - >/dev/null || die "cannot create the scale nodes"
	kubectl wait --for=condition=Ready node -l type=kwok-scale --timeout=60s >/dev/null || die "the scale nodes are not Ready"
	log "the operator (Helm, defaults: two replicas)"
	install_operator || die "cannot install the operator"
	for i in $(seq 0 $((NAMESPACES_N - 1))); do
		kubectl create namespace "$PREFIX-$i" >/dev/null && kubectl label namespace "$PREFIX-$i" chaos.faultline.dev/allow=true >/dev/null
	done
	log "$APPS Deployments of $PER_APP pods on the scale nodes"
	local t0=$SECONDS
	for i in $(seq 0 $((APPS - 1))); do app_doc "$(printf 'app-%03d' "$i")" "$(ns_of "$i")"; done > "$WORK/apps.yaml"
	kubectl apply -f "$WORK/apps.yaml" >/dev/null || die "cannot create the apps"
	local ready=0 deadline=$((SECONDS + 900))
	while [ $SECONDS -lt $deadline ]; do
		ready=$(kubectl get pods -A -l "bench-scale=$SUFFIX" --field-selector status.phase=Running --no-headers 2>/dev/null | wc -l)
		[ "$ready" -ge "$PODS" ] && break
		sleep 5
	done
	log "$ready of $PODS pods Running after $((SECONDS - t0)) s"
	echo "pods_running=$ready" >> "$WORK/window.env"
	echo "pods_running_s=$((SECONDS - t0))" >> "$WORK/window.env"
}

apply_rest() { # the scheduled and dry-run experiments, then their dry runs to the end
	local i
	for i in $(seq 0 $((SCHEDULED - 1))); do
		experiment_doc "$(printf 'sched-%03d' "$i")" "$(ns_of "$i")" "$(printf 'app-%03d' $((i % APPS)))" "scheduled-$i"
	done > "$WORK/scheduled.yaml"
	for i in $(seq 0 $((APPS - 1))); do
		experiment_doc "$(printf 'dry-%03d' "$i")" "$(ns_of "$i")" "$(printf 'app-%03d' "$i")" dry
	done > "$WORK/dry.yaml"
	log "applying $SCHEDULED scheduled and $APPS dry-run experiments"
	scrape "$WORK/metrics-0-start.txt"
	local t0=$SECONDS
	kubectl apply --server-side -f "$WORK/scheduled.yaml" >/dev/null || log "apply of the scheduled experiments failed"
	kubectl apply --server-side -f "$WORK/dry.yaml" >/dev/null || log "apply of the dry-run experiments failed"
	wait_results dry- "$APPS" 900
	echo "dry_runs_s=$((SECONDS - t0))" >> "$WORK/window.env"
	log "dry runs ended $((SECONDS - t0)) s after the apply"
}

idle() {
	log "idle: sampling the leader for ${IDLE_SECONDS} s with $((SCHEDULED + APPS)) experiments"
	sleep 10
	scrape "$WORK/metrics-1-idle-start.txt"
	start_sampler "$WORK/idle.txt" || return 1
	echo "idle_t0=$EPOCHREALTIME" >> "$WORK/window.env"
	sleep "$IDLE_SECONDS"
	echo "idle_t1=$EPOCHREALTIME" >> "$WORK/window.env"
	stop_sampler
	scrape "$WORK/metrics-2-idle-end.txt"
}

real_runs() {
	local i
	for i in $(seq 0 $((APPS - 1))); do
		experiment_doc "$(printf 'real-%03d' "$i")" "$(ns_of "$i")" "$(printf 'app-%03d' "$i")" real
	done > "$WORK/real.yaml"
	kubectl get pods -A -l "bench-scale=$SUFFIX" -w --output-watch-events \
		-o jsonpath='{.type}|{.object.metadata.namespace}|{.object.metadata.labels.app}|{.object.metadata.deletionTimestamp}{"\n"}' \
		2>/dev/null > >(stamp > "$WORK/pods.watch") &
	PIDS+=($!)
	# Each experiment's arrival, stamped: apply → first deletion counts from it, not from the start
	# of an apply that takes tens of seconds to send 100 objects to a busy API server.
	kubectl get chaosexperiments -A -l "bench-scale=$SUFFIX" -w --output-watch-events \
		-o jsonpath='{.type}|{.object.metadata.namespace}|{.object.metadata.name}{"\n"}' \
		2>/dev/null > >(stamp > "$WORK/experiments.watch") &
	PIDS+=($!)
	# The fault pods (in the experiments' namespaces): when each was created, to split apply → first
	# deletion into the operator's part and the pod's.
	kubectl get pods -A -l chaos.faultline.dev/result -w --output-watch-events \
		-o jsonpath='{.type}|{.object.metadata.namespace}|{.object.metadata.labels.chaos\.faultline\.dev/result}|{.object.status.phase}{"\n"}' \
		2>/dev/null > >(stamp > "$WORK/fault-pods.watch") &
	PIDS+=($!)
	sleep 5
	start_sampler "$WORK/runs.txt" || return 1
	log "applying $APPS real experiments at once"
	echo "runs_t0=$EPOCHREALTIME" >> "$WORK/window.env"
	# One apply per namespace, side by side.
	local applies=() ns
	for ns in $(seq -f "$PREFIX-%g" 0 $((NAMESPACES_N - 1))); do
		python3 -c 'import sys; docs = open(sys.argv[1]).read().split("---\n"); print("---\n".join(d for d in docs if f"namespace: {sys.argv[2]}," in d))' \
			"$WORK/real.yaml" "$ns" | kubectl apply --server-side -f - >/dev/null &
		applies+=($!)
	done
	wait "${applies[@]}" || log "an apply of the real experiments failed"
	echo "runs_applied=$EPOCHREALTIME" >> "$WORK/window.env"
	wait_results real- "$APPS" 900
	echo "runs_t1=$EPOCHREALTIME" >> "$WORK/window.env"
	stop_sampler
	sleep 2
	scrape "$WORK/metrics-3-runs-end.txt"
	results_json > "$WORK/results-runs.json"
	log "real runs ended $(python3 -c "print(round($EPOCHREALTIME - $(grep runs_t0 "$WORK/window.env" | cut -d= -f2), 1))") s after the apply"
}

restart_runs() { # the real experiments again; the leader pod deleted once all are Running
	local i ns leader t_delete patches=()
	log "restart: the $APPS real experiments again, 120 s each; the leader is deleted once they all run"
	for i in $(seq 0 $((APPS - 1))); do
		ns=$(ns_of "$i")
		kubectl -n "$ns" patch chaosexperiment "$(printf 'real-%03d' "$i")" --type merge \
			-p '{"spec":{"faults":[{"name":"kill","type":"pod-delete","duration":"120s","interval":"120s","target":{"kind":"Deployment","name":"'"$(printf 'app-%03d' "$i")"'","mode":"one"},"probes":[{"name":"up","mode":"EOT","probe":{"type":"k8s","k8s":{"apiVersion":"apps/v1","kind":"Deployment","name":"'"$(printf 'app-%03d' "$i")"'","check":{"state":"Present"}}}}]}]}}' >/dev/null &
		patches+=($!)
	done
	wait "${patches[@]}"
	local deadline=$((SECONDS + 300)) counts
	while [ $SECONDS -lt $deadline ]; do
		counts=$(count_phases real-)
		read -r _ running total <<< "$counts"
		[ "$total" -ge $((2 * APPS)) ] && [ "$running" -ge "$APPS" ] && break
		sleep 1
	done
	log "restart: $running of $APPS second runs Running; deleting the leader"
	leader=$(leader_pod)
	scrape "$WORK/metrics-4-before-restart.txt"
	t_delete=$EPOCHREALTIME
	kubectl -n "$OPERATOR_NS" delete pod "$leader" --wait=false >/dev/null
	echo "restart_t0=$t_delete" >> "$WORK/window.env"
	# Recovered: the new leader has reconciled every result (each run has its driver again).
	local new="" reconciled=0 results
	results=$(kubectl get chaosresults -A --no-headers | wc -l)
	deadline=$((SECONDS + 300))
	while [ $SECONDS -lt $deadline ]; do
		new=$(leader_pod)
		if [ -n "$new" ] && [ "$new" != "$leader" ]; then
			reconciled=$(operator_get "$new" /metrics 2>/dev/null |
				awk '/^faultline_reconcile_duration_seconds_count\{controller="result"\}/ {print int($2)}')
			[ "${reconciled:-0}" -ge "$results" ] && break
		fi
		sleep 0.2
	done
	echo "restart_t1=$EPOCHREALTIME" >> "$WORK/window.env"
	printf 'restart_results=%s\nrestart_reconciled=%s\nrestart_old=%s\nrestart_new=%s\n' "$results" "${reconciled:-0}" "$leader" "$new" >> "$WORK/window.env"
	echo "restart_acquired=$(kubectl -n "$OPERATOR_NS" get lease faultline-operator -o jsonpath='{.spec.acquireTime}')" >> "$WORK/window.env"
	log "restart: $new reconciled ${reconciled:-0} of $results results"
	wait_results real- $((2 * APPS)) 900
	echo "restart_t2=$EPOCHREALTIME" >> "$WORK/window.env"
	scrape "$WORK/metrics-5-end.txt"
	results_json > "$WORK/results-end.json"
	kubectl get chaosexperiments -A -l "bench-scale=$SUFFIX" -o json > "$WORK/experiments-end.json"
	# Each run ends once: one RunCompleted Event (a series counts its repeats).
	kubectl get events.events.k8s.io -A --field-selector reason=RunCompleted -o json > "$WORK/run-completed-events.json"
}

# ---------------------------------------------------------------- main

"$CLUSTER_SRC/cluster.sh" status >/dev/null || die "the cluster is not up: run make cluster-up"
[ "$SCHEDULED" -ge 0 ] || die "SCALE_EXPERIMENTS must be at least 2 x SCALE_APPS"
printf 'pods=%s\napps=%s\nexperiments=%s\nscheduled=%s\nprefix=%s\n' "$PODS" "$APPS" "$EXPERIMENTS" "$SCHEDULED" "$PREFIX" > "$WORK/window.env"
setup
apply_rest
idle || log "idle: not measured"
real_runs || log "real runs: not measured"
restart_runs
kubectl -n "$OPERATOR_NS" logs -l app.kubernetes.io/component=operator --prefix --tail=-1 > "$WORK/operator.log" 2>&1
python3 "$REPO_ROOT/bench/scale.py" "$WORK" "$REPO_ROOT/bench/results/scale.json" "$REPO_ROOT/docs/benchmarks.md"
