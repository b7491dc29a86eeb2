# Shared by the end-to-end tiers: a test runner that gives each test a log file, a namespace per
# test, and the closing "N passed, N failed" line. Source it after cluster/config.sh and set OUT.

passed=0 failed=0 failures=()

# run_test NAME: runs the function test_NAME in its own process group and records the outcome. A
# test that runs past TEST_TIMEOUT seconds (default 600) is killed with everything it started and
# recorded as failed, with the operator's last log lines: a hang costs minutes, never the CI's hour.
run_test() {
	local name=$1 started=$SECONDS limit=${TEST_TIMEOUT:-600} pid rc timed_out=""
	printf '=== %s\n' "$name"
	set -m
	("test_$name") > "$OUT/$name.log" 2>&1 &
	pid=$!
	set +m
	# Its own process group no longer gets the runner's signals: pass them on.
	trap 'kill -TERM -- "-$pid" 2>/dev/null; exit 130' INT TERM
	while kill -0 "$pid" 2>/dev/null; do
		if [ $((SECONDS - started)) -ge "$limit" ]; then
			timed_out=1
			kill -TERM -- "-$pid" 2>/dev/null
			for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.5; done
			kill -KILL -- "-$pid" 2>/dev/null
			break
		fi
		sleep 0.5
	done
	wait "$pid"; rc=$?
	trap - INT TERM
	if [ -z "$timed_out" ] && [ "$rc" = 0 ]; then
		passed=$((passed + 1)); printf -- '--- PASS %s (%ss)\n' "$name" $((SECONDS - started))
	else
		failed=$((failed + 1)); failures+=("$name")
		printf -- '--- FAIL %s (%ss); its output:\n' "$name" $((SECONDS - started))
		sed 's/^/    /' "$OUT/$name.log" | tail -n 40
		if [ -n "$timed_out" ]; then
			echo "    FAIL: still running after ${limit}s (TEST_TIMEOUT); killed"
			echo "    the operator's last lines:"
			kubectl -n "${OPERATOR_NS:-faultline-system}" logs "$(leader_pod)" --tail 40 --request-timeout 10s 2>&1 | sed 's/^/    /'
		fi
	fi
}

fail() { echo "FAIL: $*"; exit 1; }

# new_namespace PREFIX [opt-in]: sets NS to a fresh namespace (labelled as a chaos target with
# opt-in), deleted when the test's subshell exits.
new_namespace() {
	NS="$1-$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
	kubectl create namespace "$NS" >/dev/null || fail "cannot create namespace $NS"
	trap "kubectl delete namespace $NS --wait=false >/dev/null 2>&1" EXIT
	[ "${2:-}" != opt-in ] || kubectl label namespace "$NS" chaos.faultline.dev/allow=true >/dev/null
	local deadline=$((SECONDS + 30))
	until kubectl -n "$NS" get serviceaccount default >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || fail "namespace $NS has no default ServiceAccount after 30s"
		sleep 0.2
	done
}

apply_app() { # apply_app NS REPLICAS [NAME]: the demo app (Deployment and Service NAME, default web); it
	# drains for 3 s before exiting, like a real service
	local app=${3:-web}
	kubectl -n "$1" apply -f - >/dev/null <<-EOF
	apiVersion: apps/v1
	kind: Deployment
	metadata: {name: $app, labels: {app: $app}}
	spec:
	  replicas: $2
	  selector: {matchLabels: {app: $app}}
	  template:
	    metadata: {labels: {app: $app}}
	    spec:
	      terminationGracePeriodSeconds: 10
	      securityContext: {runAsNonRoot: true, runAsUser: 65534, seccompProfile: {type: RuntimeDefault}}
	      containers:
	      - name: web
	        image: $DEMO_IMAGE
	        imagePullPolicy: Never
	        ports: [{containerPort: 8080, name: http}]
	        readinessProbe: {httpGet: {path: /health, port: http}, periodSeconds: 1}
	        lifecycle: {preStop: {exec: {command: [sleep, "3"]}}}
	        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
	---
	apiVersion: v1
	kind: Service
	metadata: {name: $app}
	spec:
	  selector: {app: $app}
	  ports: [{name: http, port: 80, targetPort: http}]
	EOF
}

deploy_app() { # deploy_app NS REPLICAS [NAME]: apply_app, then wait until the Deployment is Available
	apply_app "$@"
	kubectl -n "$1" wait --for=condition=Available "deployment/${3:-web}" --timeout=90s >/dev/null ||
		fail "demo app ${3:-web} not Available"
}

summary() { # summary TIER: the closing lines; exit status 0 only if nothing failed
	echo
	[ $failed = 0 ] || echo "failed: ${failures[*]} (logs in $OUT)"
	echo "$1: $passed passed, $failed failed"
	[ $failed = 0 ]
}

# ---------------------------------------------------------------- experiments and results

# experiment NS NAME FAULTS_YAML [EXTRA_SPEC_YAML]: applies a ChaosExperiment
experiment() {
	kubectl -n "$1" apply -f - <<-EOF
	apiVersion: chaos.faultline.dev/v1alpha1
	kind: ChaosExperiment
	metadata: {name: $2}
	spec:
	$3
	${4:-}
	EOF
}

wait_running() { # wait_running NS RESULT: waits up to 60 s for the run to reach Running
	local deadline=$((SECONDS + 60))
	until [ "$(field "$1" chaosresult "$2" '{.status.phase}' 2>/dev/null)" = Running ]; do
		[ $SECONDS -lt $deadline ] || fail "the run $2 never reached Running"
		sleep 1
	done
}

wait_result() { # wait_result NS RESULT [SECONDS]: waits for a terminal phase, prints it
	local deadline=$((SECONDS + ${3:-180})) phase=""
	while [ $SECONDS -lt $deadline ]; do
		phase=$(kubectl -n "$1" get chaosresult "$2" -o jsonpath='{.status.phase}' 2>/dev/null)
		case $phase in Completed | CompletedWithError | Error | Timeout | Stopped) echo "$phase"; return 0 ;; esac
		sleep 1
	done
	echo "timeout waiting for $2 (last phase '$phase')"
	return 1
}

# wait_for DESCRIPTION SECONDS 'SHELL CONDITION' ['SHOW ON TIMEOUT']: evaluates the condition every
# 0.5 s until it holds; on timeout shows the fourth argument, or the tier's `context` if it has one.
wait_for() {
	local what=$1 deadline=$((SECONDS + $2)) condition=$3
	until eval "$condition" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || {
			if [ -n "${4:-}" ]; then eval "$4"; elif declare -F context >/dev/null; then context; fi
			fail "timed out waiting for: $what"
		}
		sleep 0.5
	done
}

field() { kubectl -n "$1" get "$2" "$3" -o jsonpath="$4"; }

show() { kubectl -n "$1" get chaosresult "$2" -o yaml | sed -n '/^status:/,$p'; }

OPERATOR_NS=${OPERATOR_NS:-faultline-system}

# install_operator [HELM_ARGS...]: the CRDs, then the chart with the local image and HELM_ARGS,
# then new pods (the tag is reused across rebuilds).
install_operator() {
	kubectl get namespace "$OPERATOR_NS" >/dev/null 2>&1 || kubectl create namespace "$OPERATOR_NS" >/dev/null
	# helm upgrade never updates CRDs from a chart's crds/ folder; apply them as the docs say.
	kubectl apply --server-side --force-conflicts -f "$REPO_ROOT/crds/faultline.yaml" >/dev/null
	helm upgrade --install faultline "$REPO_ROOT/charts/faultline" -n "$OPERATOR_NS" \
		--set image.repository=localhost/faultline --set image.tag="$FAULTLINE_VERSION" "$@" \
		--wait --timeout 120s >/dev/null || {
		kubectl -n "$OPERATOR_NS" describe pods | tail -20
		echo "helm install failed" >&2; return 1
	}
	# A new image under the same tag needs new pods.
	kubectl -n "$OPERATOR_NS" rollout restart deployment -l app.kubernetes.io/name=faultline >/dev/null
	kubectl -n "$OPERATOR_NS" rollout status deployment -l app.kubernetes.io/name=faultline --timeout=120s >/dev/null
	wait_leader 60
}

# leader_pod: the name of the operator pod that holds the leader Lease (empty when none does).
leader_pod() {
	kubectl -n "${OPERATOR_NS:-faultline-system}" get lease faultline-operator -o jsonpath='{.spec.holderIdentity}' 2>/dev/null
}

# operator_get POD PATH: GET PATH (/metrics, /readyz) of one operator pod, through the API server.
operator_get() {
	kubectl get --raw "/api/v1/namespaces/${OPERATOR_NS:-faultline-system}/pods/$1:8080/proxy$2"
}

# leader_metrics: /metrics of the leader, which alone counts runs (a standby's counters stay at 0).
leader_metrics() { operator_get "$(leader_pod)" /metrics; }

# operator_pid POD: the host pid of the operator process in POD (the test machine is the node).
operator_pid() {
	local uid pid
	uid=$(kubectl -n "${OPERATOR_NS:-faultline-system}" get pod "$1" -o jsonpath='{.metadata.uid}') || return 1
	for pid in $(pgrep -f '^/faultline operator'); do
		grep -qE "pod(${uid}|${uid//-/_})" "/proc/$pid/cgroup" 2>/dev/null && { echo "$pid"; return 0; }
	done
	return 1
}

# wait_leader [SECONDS]: waits until a running operator pod, not one on its way out, holds the Lease.
wait_leader() {
	local deadline=$((SECONDS + ${1:-60})) holder
	while [ $SECONDS -lt $deadline ]; do
		holder=$(leader_pod)
		[ -n "$holder" ] && [ "$(kubectl -n "${OPERATOR_NS:-faultline-system}" get pod "$holder" \
			-o jsonpath='{.status.phase}{.metadata.deletionTimestamp}' 2>/dev/null)" = Running ] && return 0
		sleep 0.5
	done
	echo "no running operator pod holds the Lease faultline-operator" >&2
	return 1
}

# faultline_bin: the path of the static release binary that `make image` builds (the image's own).
faultline_bin() {
	local dir
	dir=$(cd "$REPO_ROOT" && cargo metadata --format-version 1 --no-deps |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
	echo "$dir/x86_64-unknown-linux-gnu/release/faultline"
}
