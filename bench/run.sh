#!/usr/bin/env bash
# The benchmark tier (make bench): measures the Helm-installed operator on the real local cluster and
# writes bench/results/*.json and the table in docs/benchmarks.md (docs/benchmarks.md says how each
# figure is obtained). It measures and never judges: there are no thresholds, and it exits non-zero only
# when it could not measure at all. Everything it creates (namespaces, experiments, background watchers,
# its scratch directory) is removed when it ends; the operator release stays only if it was there before.
# Knobs: BENCH_RUNS (20), BENCH_CONCURRENT (50), BENCH_LOAD_NAMESPACES (5), BENCH_IDLE_SECONDS (30),
# BENCH_LOAD_TIMEOUT (420 s), BENCH_KEEP=1 keeps the raw data in /tmp.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/cluster/config.sh"
source "$REPO_ROOT/e2e/lib.sh" # apply_app: the demo app of the end-to-end tiers
export KUBECONFIG=$KUBECONFIG_ADMIN
export PATH=$KUBE_BIN_DIR:$(dirname "$HELM_BIN"):$PATH
BENCH=$REPO_ROOT/bench
OPERATOR_NS=faultline-system
OPERATOR_PODS=app.kubernetes.io/name=faultline,app.kubernetes.io/component=operator
RUNS=${BENCH_RUNS:-20}
CONCURRENT=${BENCH_CONCURRENT:-50}
LOAD_NAMESPACES=${BENCH_LOAD_NAMESPACES:-5}
IDLE_SECONDS=${BENCH_IDLE_SECONDS:-30}
LOAD_TIMEOUT=${BENCH_LOAD_TIMEOUT:-420}
TERMINAL='^(Completed|CompletedWithError|Error|Timeout|Stopped)$'
SUFFIX=$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')
LAT_NS=bench-lat-$SUFFIX
LOAD_PREFIX=bench-load-$SUFFIX
WORK=$(mktemp -d /tmp/faultline-bench.XXXXXX)
PIDS=() NAMESPACES=() RELEASE_EXISTED=1 OPERATOR_NS_EXISTED=1
STARTED=$SECONDS

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	if [ ${#NAMESPACES[@]} -gt 0 ]; then
		log "cleanup: deleting namespaces ${NAMESPACES[*]}"
		kubectl delete namespace "${NAMESPACES[@]}" --ignore-not-found --wait=false >/dev/null 2>&1
		kubectl wait --for=delete "${NAMESPACES[@]/#/namespace/}" --timeout=180s >/dev/null 2>&1 ||
			log "cleanup: still terminating after 180 s: $(kubectl get namespace "${NAMESPACES[@]}" -o name 2>/dev/null | tr '\n' ' ')"
	fi
	if [ $RELEASE_EXISTED = 0 ]; then
		helm uninstall faultline -n "$OPERATOR_NS" --wait >/dev/null 2>&1
		[ $OPERATOR_NS_EXISTED = 1 ] || kubectl delete namespace "$OPERATOR_NS" --wait=false >/dev/null 2>&1
	fi
	if [ -n "${BENCH_KEEP:-}" ]; then log "raw data kept in $WORK"; else rm -rf "$WORK"; fi
	log "bench took $((SECONDS - STARTED)) s"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stamp() { local line; while IFS= read -r line; do printf '%s|%s\n' "$EPOCHREALTIME" "$line"; done; }

create_namespace() { # create_namespace NS: opted in, deleted by cleanup
	kubectl create namespace "$1" >/dev/null || die "cannot create namespace $1"
	NAMESPACES+=("$1")
	kubectl label namespace "$1" chaos.faultline.dev/allow=true >/dev/null
}

experiment_yaml() { # experiment_yaml NAME DURATION INTERVAL [NS [APP]]: one pod-delete fault, one EOT probe
	cat <<-EOF
	---
	apiVersion: chaos.faultline.dev/v1alpha1
	kind: ChaosExperiment
	metadata: {name: $1${4:+, namespace: $4}}
	spec:
	  dryRun: false
	  faults:
	  - name: kill
	    type: pod-delete
	    duration: $2
	    interval: $3
	    target: {kind: Deployment, name: ${5:-web}, mode: one}
	    probes:
	    - {name: up, mode: EOT, probe: {type: k8s, k8s: {apiVersion: apps/v1, kind: Deployment, name: ${5:-web}, check: {minReady: 1}}}}
	EOF
}

operator_pod() { # prints "UID RESTARTS LAST_TERMINATION_REASON" of the live operator pod
	kubectl -n "$OPERATOR_NS" get pods -l "$OPERATOR_PODS" -o jsonpath='{range .items[*]}{.metadata.deletionTimestamp}|{.metadata.uid} {.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].lastState.terminated.reason}{"\n"}{end}' |
		awk -F'|' '$1 == "" {print $2; exit}'
}

scrape() { curl -s --max-time 5 "$METRICS_URL" -o "$1" || : > "$1"; }

foreign_active() { # chaos runs not in a terminal phase outside this bench's namespaces
	kubectl get chaosresults -A -o jsonpath='{range .items[*]}{.metadata.namespace}|{.status.phase}{"\n"}{end}' 2>/dev/null |
		awk -F'|' -v mine="^bench-(lat|load)-$SUFFIX" -v term="$TERMINAL" '$1 != "" && $1 !~ mine && $2 !~ term {n++} END {print n + 0}'
}

wait_app_steady() { # wait_app_steady NS REPLICAS SECONDS: exactly REPLICAS pods, all Ready, none terminating
	local deadline=$((SECONDS + $3)) state
	while [ $SECONDS -lt $deadline ]; do
		state=$(kubectl -n "$1" get pods -l app=web -o jsonpath='{range .items[*]}{.metadata.deletionTimestamp}|{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}')
		[ "$(grep -c . <<< "$state")" = "$2" ] && [ "$(grep -c '^|True$' <<< "$state")" = "$2" ] && return 0
		sleep 0.5
	done
	return 1
}

wait_terminal() { # wait_terminal NS RESULT WATCH_FILE SECONDS: prints the terminal phase
	local deadline=$((SECONDS + $4)) check=$((SECONDS + 5)) phase
	while [ $SECONDS -lt $deadline ]; do
		phase=$(awk -F'|' -v r="$2" -v term="$TERMINAL" '$3 == r && $4 ~ term {print $4; exit}' "$3")
		if [ -z "$phase" ] && [ $SECONDS -ge $check ]; then # in case the watch dropped
			phase=$(kubectl -n "$1" get chaosresult "$2" -o jsonpath='{.status.phase}' 2>/dev/null | grep -E "$TERMINAL")
			check=$((SECONDS + 5))
		fi
		[ -n "$phase" ] && { echo "$phase"; return 0; }
		sleep 0.2
	done
	return 1
}

start_sampler() { # start_sampler OUT: samples the operator process into OUT; sets SAMPLER
	local pid
	pid=$(operator_pid "$(leader_pod)") || { log "the operator process was not found on this host"; return 1; }
	python3 "$BENCH/bench.py" sample "$pid" "$1" 0.5 &
	SAMPLER=$!
	PIDS+=("$SAMPLER")
}

stop_sampler() { kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null; }

# ---------------------------------------------------------------- phases

idle_phase() {
	local dir=$WORK/idle t0 t_end others later
	mkdir -p "$dir"
	log "idle: sampling the operator for ${IDLE_SECONDS} s"
	start_sampler "$dir/proc.txt" || return 1
	others=$(foreign_active)
	t0=$EPOCHREALTIME
	sleep "$IDLE_SECONDS"
	t_end=$EPOCHREALTIME
	stop_sampler
	later=$(foreign_active)
	others=$((later > others ? later : others))
	printf 't0=%s\nt_end=%s\nothers=%s\n' "$t0" "$t_end" "$others" > "$dir/window.env"
}

latency_run() { # latency_run NAME [warmup]: one experiment, measured; deleted once its result is terminal
	local name=$1 dir=$WORK/lat/$1 t0 t_applied phase others seen
	mkdir -p "$dir"
	[ -z "${2:-}" ] || touch "$dir/warmup"
	wait_app_steady "$LAT_NS" 2 120 || log "$name: the demo app is not at 2 Ready pods; measuring anyway"
	others=$(foreign_active)
	scrape "$dir/metrics-before.txt"
	t0=$EPOCHREALTIME
	experiment_yaml "$name" 2s 2s | kubectl -n "$LAT_NS" apply -f - >/dev/null || { log "$name: apply failed"; return 1; }
	t_applied=$EPOCHREALTIME
	echo "$t0 $t_applied" > "$dir/times"
	phase=$(wait_terminal "$LAT_NS" "$name-1" "$WORK/lat/results.watch" 120) || log "$name: no terminal phase within 120 s"
	kubectl -n "$LAT_NS" get chaosresult "$name-1" -o json > "$dir/result.json" 2>/dev/null
	kubectl -n "$LAT_NS" get pods -l chaos.faultline.dev/result="$name-1" -o json > "$dir/faultpods.json" 2>/dev/null
	kubectl -n "$LAT_NS" logs -l chaos.faultline.dev/result="$name-1" --tail=-1 > "$dir/faultpod.log" 2>&1
	wait_app_steady "$LAT_NS" 2 120 || log "$name: the demo app did not recover to 2 Ready pods"
	scrape "$dir/metrics-after-run.txt"
	echo "$others $(foreign_active)" > "$dir/others"
	kubectl -n "$LAT_NS" delete chaosexperiment "$name" --timeout=90s >/dev/null 2>&1 || log "$name: delete did not finish in 90 s"
	scrape "$dir/metrics-after-delete.txt"
	seen=$(awk -F'|' -v t0="$t0" '$1 >= t0 && $4 == "web" && $5 != "" {printf "%.2f", $1 - t0; exit}' "$WORK/lat/pods.watch")
	log "$name${2:+ (warm-up)}: ${phase:-not terminal}; first pod deletion seen ${seen:-never} s after apply"
}

latency_phase() {
	local dir=$WORK/lat i
	mkdir -p "$dir"
	create_namespace "$LAT_NS"
	apply_app "$LAT_NS" 2
	kubectl -n "$LAT_NS" wait --for=condition=Available deployment/web --timeout=90s >/dev/null || die "demo app not Available"
	# Two watches for the whole series, each event stamped with the host clock on arrival.
	kubectl -n "$LAT_NS" get pods -w --output-watch-events \
		-o jsonpath='{.type}|{.object.metadata.name}|{.object.metadata.labels.app}|{.object.metadata.deletionTimestamp}|{.object.status.phase}{"\n"}' \
		2>/dev/null > >(stamp > "$dir/pods.watch") &
	PIDS+=($!)
	kubectl -n "$LAT_NS" get chaosresults -w --output-watch-events \
		-o jsonpath='{.type}|{.object.metadata.name}|{.object.status.phase}{"\n"}' \
		2>/dev/null > >(stamp > "$dir/results.watch") &
	PIDS+=($!)
	for i in $(seq 50); do [ "$(grep -c . "$dir/pods.watch" 2>/dev/null)" -ge 2 ] && break; sleep 0.1; done
	sleep 1
	log "latency: 1 warm-up and $RUNS measured runs in $LAT_NS"
	latency_run lat-00 warmup
	for i in $(seq "$RUNS"); do latency_run "$(printf 'lat-%02d' "$i")"; done
	kill "${PIDS[@]: -2}" 2>/dev/null
	kubectl delete namespace "$LAT_NS" --wait=false >/dev/null 2>&1
}

load_phase() { # CONCURRENT experiments at once, each against its own 1-replica demo app, so they never
	# compete for a target: with a shared app, single-tick faults find every pod already terminating.
	local dir=$WORK/load i ns app nss=() t0 t_end="" timed_out=1 deadline terminal before after
	mkdir -p "$dir"
	log "load: $CONCURRENT experiments, each with its own 1-replica demo app, in $LOAD_NAMESPACES namespaces"
	for i in $(seq "$LOAD_NAMESPACES"); do
		ns=$LOAD_PREFIX-$i
		create_namespace "$ns"
		nss+=("$ns")
	done
	for i in $(seq "$CONCURRENT"); do
		ns=${nss[$(((i - 1) % LOAD_NAMESPACES))]} app=$(printf 'web-%02d' "$i")
		apply_app "$ns" 1 "$app"
		experiment_yaml "$(printf 'load-%02d' "$i")" 20s 20s "$ns" "$app" >> "$dir/experiments.yaml"
	done
	for ns in "${nss[@]}"; do
		kubectl -n "$ns" wait --for=condition=Available deployment --all --timeout=300s >/dev/null || log "load: demo apps in $ns not Available"
	done
	before=$(operator_pod)
	scrape "$dir/metrics-before.txt"
	start_sampler "$dir/proc.txt" || return 1
	sleep 1
	t0=$EPOCHREALTIME
	kubectl apply -f "$dir/experiments.yaml" >/dev/null || log "load: apply failed"
	deadline=$((SECONDS + LOAD_TIMEOUT))
	while [ $SECONDS -lt $deadline ]; do
		local now=$EPOCHREALTIME
		{
			echo "T $now"
			kubectl get chaosresults -A -o jsonpath='{range .items[*]}{.metadata.namespace}|{.status.phase}{"\n"}{end}' |
				awk -F'|' -v p="$LOAD_PREFIX-" 'index($1, p) == 1 {print "R " ($2 == "" ? "(none)" : $2)}'
			kubectl get pods -A -l app.kubernetes.io/component=fault -o jsonpath='{range .items[*]}{.metadata.namespace}|{.status.phase}{"\n"}{end}' |
				awk -F'|' -v p="$LOAD_PREFIX-" 'index($1, p) == 1 {print "P " $2}'
		} >> "$dir/timeline.txt"
		terminal=$(awk -v now="$now" -v term="$TERMINAL" '$1 == "T" {on = ($2 == now)} on && $1 == "R" && $2 ~ term {n++} END {print n + 0}' "$dir/timeline.txt")
		if [ "$terminal" -ge "$CONCURRENT" ]; then t_end=$now timed_out=0; break; fi
		sleep 2
	done
	[ -n "$t_end" ] || t_end=$EPOCHREALTIME
	sleep 1
	stop_sampler
	log "load: $terminal of $CONCURRENT results terminal after $(python3 -c "print(round($t_end - $t0, 1))") s"
	after=$(operator_pod)
	scrape "$dir/metrics-after.txt"
	kubectl get chaosresults -A -o json | python3 -c "import json, sys; d = json.load(sys.stdin); d['items'] = [i for i in d['items'] if i['metadata']['namespace'].startswith('$LOAD_PREFIX-')]; json.dump(d, sys.stdout)" > "$dir/results.json"
	kubectl get pods -A -l app.kubernetes.io/component=fault -o json | python3 -c "import json, sys; d = json.load(sys.stdin); d['items'] = [i for i in d['items'] if i['metadata']['namespace'].startswith('$LOAD_PREFIX-')]; json.dump(d, sys.stdout)" > "$dir/faultpods.json"
	{
		printf 't0=%s\nt_end=%s\ncount=%s\nnamespaces=%s\ntimed_out=%s\n' "$t0" "$t_end" "$CONCURRENT" "$LOAD_NAMESPACES" "$timed_out"
		printf 'fault=pod-delete 20s interval 20s mode one, own 1-replica app each\n'
		printf 'pod_before=%s\npod_after=%s\n' "$(cut -d' ' -f1 <<< "$before")" "$(cut -d' ' -f1 <<< "$after")"
		printf 'restarts_before=%s\nrestarts_after=%s\nlast_termination=%s\n' \
			"$(cut -d' ' -f2 <<< "$before")" "$(cut -d' ' -f2 <<< "$after")" "$(cut -d' ' -f3 <<< "$after")"
	} > "$dir/window.env"
}

# ---------------------------------------------------------------- main

"$CLUSTER_SRC/cluster.sh" status >/dev/null || die "the cluster is not up: run make cluster-up"
helm status faultline -n "$OPERATOR_NS" >/dev/null 2>&1 || RELEASE_EXISTED=0
kubectl get namespace "$OPERATOR_NS" >/dev/null 2>&1 || OPERATOR_NS_EXISTED=0
log "installing the operator (Helm, as e2e/operator.sh does)"
# One replica: these series measure one operator process (its RSS, its requests, its restart),
# which a standby replica would only blur.
install_operator --set replicaCount=1 || die "cannot install the operator"
METRICS_URL="http://$(kubectl -n "$OPERATOR_NS" get service faultline-metrics -o jsonpath='{.spec.clusterIP}'):8080/metrics"
{
	echo "version=$FAULTLINE_VERSION"
	echo "git_commit=$(git -C "$REPO_ROOT" rev-parse HEAD)"
	echo "git_dirty=$([ -n "$(git -C "$REPO_ROOT" status --porcelain -- src Cargo.toml Cargo.lock charts)" ] && echo true || echo false)"
	echo "image_id=$(kubectl -n "$OPERATOR_NS" get pods -l "$OPERATOR_PODS" -o jsonpath='{.items[0].status.containerStatuses[0].imageID}')"
	echo "kubernetes=$(kubectl version -o json 2>/dev/null | python3 -c 'import json, sys; print(json.load(sys.stdin)["serverVersion"]["gitVersion"])')"
} > "$WORK/meta.env"
stat -c '%s %n' "$IMAGE_DIR"/faultline_*.tar > "$WORK/images.txt" 2>/dev/null
log "letting the fresh operator settle for 15 s"
sleep 15

idle_phase || log "idle: not measured"
latency_phase
load_phase || log "load: not measured"
kubectl -n "$OPERATOR_NS" logs -l "$OPERATOR_PODS" --tail=-1 --since="$((SECONDS - STARTED + 5))s" > "$WORK/operator.log" 2>&1
python3 "$BENCH/bench.py" summarize "$WORK" "$BENCH/results" "$REPO_ROOT/docs/benchmarks.md"
