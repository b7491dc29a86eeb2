#!/usr/bin/env bash
# The operator tier: Faultline installed by its Helm chart as a pod, experiments run against the
# demo app on the real local cluster. One namespace per test, deleted afterwards.
# Prints "N passed, N failed" last. Needs the cluster and the images (make e2e does both).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cluster/config.sh"
export KUBECONFIG=$KUBECONFIG_ADMIN
export PATH=$KUBE_BIN_DIR:$(dirname "$HELM_BIN"):$PATH
OUT=${E2E_OUTPUT:-$REPO_ROOT/e2e/_output}/operator
mkdir -p "$OUT"
OPERATOR_NS=faultline-system

source "$REPO_ROOT/e2e/lib.sh"



POD_DELETE='  faults:
  - name: kill
    type: pod-delete
    duration: 15s
    interval: 5s
    target: {kind: Deployment, name: web, namePattern: "^web-", mode: one}
    probes:
    - name: available
      mode: EOT
      probe:
        type: k8s
        k8s: {apiVersion: apps/v1, kind: Deployment, name: web, check: {state: Available}}
        runProperties: {timeout: 5s, retries: 10, interval: 2s}
    - name: health
      mode: Continuous
      probe:
        type: http
        http: {url: "http://web.@NS@.svc.cluster.local/health"}
        runProperties: {timeout: 2s, interval: 1s, retries: 1}'

# ---------------------------------------------------------------- tests

test_a_healthy_service_passes() {
	new_namespace e2e-healthy opt-in; local ns=$NS
	deploy_app "$ns" 3
	local before; before=$(kubectl -n "$ns" get pods -l app=web -o name | sort)
	experiment "$ns" healthy "${POD_DELETE//@NS@/$ns}" || fail "experiment rejected"
	local phase; phase=$(wait_result "$ns" healthy-1 120) || fail "$phase"
	show "$ns" healthy-1
	[ "$phase" = Completed ] || fail "phase $phase, expected Completed"
	[ "$(field "$ns" chaosresult healthy-1 '{.status.verdict}')" = Pass ] || fail "verdict is not Pass"
	[ "$(field "$ns" chaosresult healthy-1 '{.status.resilienceScore}')" = 100 ] || fail "score is not 100"
	local deleted; deleted=$(field "$ns" chaosresult healthy-1 '{.status.faults[0].targets[*].name}' | wc -w)
	[ "$deleted" -ge 3 ] || fail "expected at least 3 deleted pods in the ledger, got $deleted"
	local after; after=$(kubectl -n "$ns" get pods -l app=web -o name | sort)
	[ "$before" != "$after" ] || fail "no pod was actually replaced"
	local reasons; reasons=$(kubectl -n "$ns" get events -o jsonpath='{.items[*].reason}')
	for reason in RunStarted TargetsSelected FaultInjected FaultReverted RunCompleted; do
		grep -w "$reason" <<< "$reasons" >/dev/null || fail "no $reason event (got: $reasons)"
	done
	# The run ended once: a driver started on a stale copy of the ended run would end it again.
	sleep 2
	local ended; ended=$(kubectl -n "$ns" get events.events.k8s.io --field-selector reason=RunCompleted -o json |
		python3 -c 'import json,sys; print(sum(max(1, (e.get("series") or {}).get("count", 1)) for e in json.load(sys.stdin)["items"]))')
	[ "$ended" = 1 ] || fail "RunCompleted $ended times for one run"
	[ "$(field "$ns" chaosexperiment healthy '{.status.lastRun.verdict}')" = Pass ] || fail "experiment status lastRun not Pass"
	local metrics; metrics=$(leader_metrics)
	grep -E '^faultline_runs_total\{verdict="Pass"\} [1-9]' <<< "$metrics" >/dev/null || fail "faultline_runs_total has no Pass"
	grep -E "^faultline_resilience_score\{.*experiment=\"healthy\".*\} 100" <<< "$metrics" >/dev/null || fail "no resilience score gauge for the experiment"
	grep -E '^faultline_probe_checks_total\{.*mode="Continuous".*outcome="passed".*\}' <<< "$metrics" >/dev/null || fail "no probe check metrics"
	# The chart's dashboard and alerts query only metrics and labels this real scrape has.
	echo "$metrics" > "$OUT/a-scrape.txt"
	local monitoring=(--set metrics.grafanaDashboard.enabled=true --set metrics.prometheusRule.enabled=true
		--set metrics.serviceMonitor.enabled=true)
	helm lint "$REPO_ROOT/charts/faultline" "${monitoring[@]}" >/dev/null || fail "helm lint with the monitoring objects"
	helm template faultline "$REPO_ROOT/charts/faultline" --namespace "$OPERATOR_NS" "${monitoring[@]}" > "$OUT/a-monitoring.yaml" ||
		fail "the chart does not render with the monitoring objects"
	/usr/bin/python3 "$REPO_ROOT/e2e/promql_check.py" "$OUT/a-scrape.txt" "$OUT/a-monitoring.yaml" ||
		fail "a dashboard panel or an alert queries something the operator does not expose"
}

test_b_fragile_service_fails() {
	new_namespace e2e-fragile opt-in; local ns=$NS
	deploy_app "$ns" 1
	experiment "$ns" fragile '  faults:
  - name: kill
    type: pod-delete
    duration: 15s
    interval: 5s
    target: {kind: Deployment, name: web, namePattern: "^web-", mode: one}
    podDelete: {force: true}
    probes:
    - name: health
      mode: Continuous
      probe:
        type: http
        http: {url: "http://web.'"$ns"'.svc.cluster.local/health"}
        runProperties: {timeout: 1s, interval: 1s}' || fail "experiment rejected"
	local phase; phase=$(wait_result "$ns" fragile-1 120) || fail "$phase"
	show "$ns" fragile-1
	[ "$phase" = CompletedWithError ] || fail "phase $phase, expected CompletedWithError"
	[ "$(field "$ns" chaosresult fragile-1 '{.status.verdict}')" = Fail ] || fail "verdict is not Fail"
	local score; score=$(field "$ns" chaosresult fragile-1 '{.status.resilienceScore}')
	python3 -c "import sys; sys.exit(0 if float('$score') < 100 else 1)" || fail "score $score is not below 100"
	kubectl -n "$ns" get events -o jsonpath='{.items[*].reason}' | grep -w ProbeFailed >/dev/null || fail "no ProbeFailed event"
}

test_c_stop_skips_the_rest() {
	new_namespace e2e-stop opt-in; local ns=$NS
	deploy_app "$ns" 2
	experiment "$ns" stopme '  faults:
  - name: first
    type: pod-delete
    duration: 60s
    interval: 10s
    target: {kind: Deployment, name: web}
    probes:
    - {name: up, mode: EOT, probe: {type: k8s, k8s: {apiVersion: apps/v1, kind: Deployment, name: web, check: {minReady: 1}}}}
  - name: second
    type: pod-delete
    duration: 10s
    target: {kind: Deployment, name: web}
    probes:
    - {name: up, mode: EOT, probe: {type: k8s, k8s: {apiVersion: apps/v1, kind: Deployment, name: web, check: {minReady: 1}}}}' || fail "experiment rejected"
	wait_running "$ns" stopme-1
	kubectl -n "$ns" patch chaosexperiment stopme --type=merge -p '{"spec":{"stop":true}}'
	local phase; phase=$(wait_result "$ns" stopme-1 60) || fail "$phase"
	show "$ns" stopme-1
	[ "$phase" = Stopped ] || fail "phase $phase, expected Stopped"
	[ "$(field "$ns" chaosresult stopme-1 '{.status.faults[?(@.name=="first")].status}')" = Stopped ] || fail "first fault not Stopped"
	[ "$(field "$ns" chaosresult stopme-1 '{.status.faults[?(@.name=="second")].status}')" = Skipped ] || fail "second fault not Skipped"
	[ "$(field "$ns" chaosresult stopme-1 '{.status.verdict}')" = Stopped ] || fail "verdict not Stopped"
	local running; running=$(kubectl -n "$ns" get pods -l chaos.faultline.dev/result=stopme-1 --field-selector=status.phase=Running -o name)
	[ -z "$running" ] || fail "a fault pod is still running after stop: $running"
}

expect_rejected() { # expect_rejected NS MESSAGE FAULTS_YAML
	local out; out=$(experiment "$1" bad "$3" 2>&1) && fail "accepted an invalid experiment: $3"
	echo "$out"
	grep -F -- "$2" <<< "$out" >/dev/null || fail "expected the message '$2'"
}

test_d_bad_manifests_are_rejected() {
	new_namespace e2e-bad opt-in; local ns=$NS
	local f='  faults:
  - name: kill'
	expect_rejected "$ns" 'Unsupported value: "pod-explode": supported values: "pod-delete"' "$f
    type: pod-explode
    target: {}"
	expect_rejected "$ns" 'spec.faults[0].weight in body should be less than or equal to 10' "$f
    type: pod-delete
    weight: 11
    target: {}"
	expect_rejected "$ns" 'mode percent needs value between 1 and 100' "$f
    type: pod-delete
    target: {mode: percent, value: 150}"
	expect_rejected "$ns" 'mode fixed needs value' "$f
    type: pod-delete
    target: {mode: fixed}"
	expect_rejected "$ns" 'schedule must be a cron expression' "$f
    type: pod-delete
    target: {}
  schedule: every minute"
	expect_rejected "$ns" 'namePattern must be a valid regular expression' "$f
    type: pod-delete
    target: {namePattern: 'web-(['}"
	expect_rejected "$ns" 'set exactly one probe block' "$f
    type: pod-delete
    target: {}
    probes: [{name: p, probe: {type: http}}]"
	expect_rejected "$ns" 'the parameter block must match type' "$f
    type: pod-delete
    target: {}
    workloadScale: {replicas: 0}"
	expect_rejected "$ns" 'type node-taint needs a nodeTaint block' "$f
    type: node-taint
    target: {kind: Node, name: n1}"
	expect_rejected "$ns" 'workload-scale targets a Deployment, StatefulSet or ReplicaSet' "$f
    type: workload-scale
    target: {kind: Pod, name: web-1}"
	expect_rejected "$ns" 'target kind Node is for the node faults' "$f
    type: pod-delete
    target: {kind: Node, name: n1}"
	expect_rejected "$ns" 'set exactly one probe block' "$f
    type: pod-delete
    target: {}
    probes: [{name: p, probe: {type: http, http: {url: 'http://x'}, k8s: {apiVersion: v1, kind: Pod, name: x, check: {state: Present}}}}]"
	local out
	out=$(kubectl -n "$ns" apply -f - 2>&1 <<-EOF
	apiVersion: chaos.faultline.dev/v1alpha1
	kind: ChaosProbe
	metadata: {name: two-blocks}
	spec: {type: k8s, http: {url: "http://x"}}
	EOF
	) && fail "accepted a probe whose block does not match its type"
	grep -F 'the probe block must match spec.type' <<< "$out" >/dev/null || fail "unexpected message: $out"
}

test_e_isolation_without_opt_in() {
	new_namespace e2e-iso opt-in; local ns=$NS
	local target="e2e-closed-$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')"
	kubectl create namespace "$target" >/dev/null
	trap "kubectl delete namespace $ns $target --wait=false >/dev/null 2>&1" EXIT
	deploy_app "$target" 2
	local before; before=$(kubectl -n "$target" get pods -o jsonpath='{.items[*].metadata.uid}')
	experiment "$ns" cross "  faults:
  - name: kill
    type: pod-delete
    duration: 5s
    target: {namespace: $target, kind: Deployment, name: web}
    probes:
    - {name: up, mode: EOT, probe: {type: k8s, k8s: {apiVersion: apps/v1, kind: Deployment, name: web, namespace: $target, check: {minReady: 1}}}}" || fail "experiment rejected"
	local phase; phase=$(wait_result "$ns" cross-1 60) || fail "$phase"
	show "$ns" cross-1
	[ "$phase" = Error ] || fail "phase $phase, expected Error"
	field "$ns" chaosresult cross-1 '{.status.message}' | grep -F "needs the label chaos.faultline.dev/allow=true" >/dev/null || fail "message does not name the label"
	[ "$(kubectl -n "$target" get pods -o jsonpath='{.items[*].metadata.uid}')" = "$before" ] || fail "pods in $target were touched"
	[ -z "$(kubectl -n "$ns" get pods -o name)" ] || fail "a fault pod was created"
	# Opted in, but cross-namespace needs allow-from too.
	kubectl label namespace "$target" chaos.faultline.dev/allow=true >/dev/null
	kubectl -n "$ns" annotate chaosexperiment cross chaos.faultline.dev/run-requested=again >/dev/null
	phase=$(wait_result "$ns" cross-2 60) || fail "$phase"
	[ "$phase" = Error ] || fail "second run: phase $phase, expected Error"
	field "$ns" chaosresult cross-2 '{.status.message}' | grep -F "chaos.faultline.dev/allow-from must list $ns" >/dev/null || fail "message does not name the annotation"
}

test_f_operator_loss_mid_run() {
	new_namespace e2e-loss opt-in; local ns=$NS
	deploy_app "$ns" 3
	experiment "$ns" loss "$(sed -e 's/duration: 15s/duration: 25s/' -e "s/@NS@/$ns/" <<< "$POD_DELETE")" || fail "experiment rejected"
	wait_running "$ns" loss-1
	sleep 3
	kubectl -n "$OPERATOR_NS" delete pod -l app.kubernetes.io/name=faultline --wait=false
	local phase; phase=$(wait_result "$ns" loss-1 150) || fail "$phase"
	show "$ns" loss-1
	case $phase in Completed | CompletedWithError) ;; *) fail "phase $phase after operator loss" ;; esac
	[ "$(field "$ns" chaosresult loss-1 '{.status.faults[0].status}')" != Running ] || fail "fault left Running"
	local unreverted; unreverted=$(field "$ns" chaosresult loss-1 '{.status.faults[0].targets[?(@.reverted==false)].name}')
	[ -z "$unreverted" ] || fail "ledger entries not reverted: $unreverted"
	kubectl -n "$OPERATOR_NS" rollout status deployment -l app.kubernetes.io/name=faultline --timeout=60s
	wait_leader 60 || fail "no leader after the restart"
}

# The leader pod is deleted mid-run. The standby (or the Deployment's replacement, whichever takes the
# Lease first) resumes the run from its status: one result, one fault pod, a Pass verdict, and no
# longer without a leader than the lease duration.
test_p_leader_failover_mid_run() {
	new_namespace e2e-failover opt-in; local ns=$NS
	deploy_app "$ns" 3
	local leader standby lease
	leader=$(leader_pod); [ -n "$leader" ] || fail "no replica holds the Lease"
	standby=$(kubectl -n "$OPERATOR_NS" get pods -l app.kubernetes.io/component=operator -o name | sed 's#pod/##' | grep -vx "$leader" | head -1)
	[ -n "$standby" ] || fail "no second replica"
	lease=$(field "$OPERATOR_NS" lease faultline-operator '{.spec.leaseDurationSeconds}')
	# Each body is read whole before it is matched: `kubectl | grep -q` under pipefail fails when grep
	# stops reading before kubectl has written everything (CI saw it on /metrics).
	local body
	body=$(operator_get "$leader" /readyz)
	[ "$body" = "ok: leader" ] || fail "the leader's /readyz: $body"
	body=$(operator_get "$standby" /readyz)
	[[ $body == "ok: standby"* ]] || fail "the standby's /readyz: $body"
	body=$(operator_get "$leader" /metrics)
	grep -qx 'faultline_leader 1' <<< "$body" || fail "faultline_leader is not 1 on the leader: $(grep '^faultline_leader' <<< "$body")"
	body=$(operator_get "$standby" /metrics)
	grep -qx 'faultline_leader 0' <<< "$body" || fail "faultline_leader is not 0 on the standby: $(grep '^faultline_leader' <<< "$body")"
	experiment "$ns" failover "$(sed -e 's/duration: 15s/duration: 25s/' -e "s/@NS@/$ns/" <<< "$POD_DELETE")" || fail "experiment rejected"
	wait_running "$ns" failover-1
	sleep 3
	local deleted_at; deleted_at=$(date +%s.%N)
	kubectl -n "$OPERATOR_NS" delete pod "$leader" --wait=false >/dev/null
	local holder="$leader" deadline=$((SECONDS + lease + 10))
	until [ -n "$holder" ] && [ "$holder" != "$leader" ]; do
		[ $SECONDS -lt $deadline ] || fail "no replica took the Lease within ${lease}s + 10 s"
		sleep 0.2; holder=$(leader_pod)
	done
	local gap; gap=$(python3 -c 'import sys,datetime as d; t=d.datetime.fromisoformat(sys.argv[1].replace("Z","+00:00")).timestamp(); print(f"{t-float(sys.argv[2]):.2f}")' \
		"$(field "$OPERATOR_NS" lease faultline-operator '{.spec.acquireTime}')" "$deleted_at")
	echo "the Lease went from $leader to $holder ${gap}s after the delete (lease duration ${lease}s)"
	python3 -c "import sys; sys.exit(0 if float('$gap') <= $lease else 1)" || fail "leaderless for ${gap}s, longer than the lease duration ${lease}s"
	local phase; phase=$(wait_result "$ns" failover-1 150) || fail "$phase"
	show "$ns" failover-1
	[ "$phase" = Completed ] || fail "phase $phase after the failover, expected Completed"
	[ "$(field "$ns" chaosresult failover-1 '{.status.verdict}')" = Pass ] || fail "verdict is not Pass"
	[ "$(kubectl -n "$ns" get chaosresults -o name | wc -l)" = 1 ] || fail "more than one result: $(kubectl -n "$ns" get chaosresults -o name)"
	[ "$(field "$ns" chaosexperiment failover '{.status.runs}')" = 1 ] || fail "status.runs is not 1"
	local started; started=$(kubectl -n "$ns" get events --field-selector reason=RunStarted -o json |
		python3 -c 'import json,sys; print(sum(max(e.get("count") or 1, (e.get("series") or {}).get("count", 1)) for e in json.load(sys.stdin)["items"]))')
	[ "$started" = 1 ] || fail "RunStarted $started times"
	[ "$(operator_get "$holder" /readyz)" = "ok: leader" ] || fail "the new leader's /readyz: $(operator_get "$holder" /readyz)"
	wait_leader 60 || fail "no leader at the end"

	# A leader that dies without releasing the Lease (SIGKILL): the Lease is renewed again, by
	# its restarted container or by the standby once it expires, within the lease duration.
	holder=$(leader_pod)
	local pid; pid=$(operator_pid "$holder") || fail "no operator process for $holder"
	local killed_at; killed_at=$(date +%s.%N)
	kill -9 "$pid"
	local renewed=0
	deadline=$((SECONDS + lease + 10))
	while [ $SECONDS -lt $deadline ]; do
		renewed=$(python3 -c 'import sys,datetime as d; print(d.datetime.fromisoformat(sys.argv[1].replace("Z","+00:00")).timestamp() - float(sys.argv[2]))' \
			"$(field "$OPERATOR_NS" lease faultline-operator '{.spec.renewTime}')" "$killed_at")
		python3 -c "import sys; sys.exit(0 if float('$renewed') > 0 else 1)" && break
		sleep 0.2
	done
	echo "after SIGKILL of $holder's operator the Lease was renewed by $(leader_pod) ${renewed}s later (lease duration ${lease}s)"
	python3 -c "import sys; sys.exit(0 if 0 < float('$renewed') <= $lease else 1)" || fail "leaderless for ${renewed}s after SIGKILL, longer than the lease duration ${lease}s"
	wait_leader 60 || fail "no leader after the SIGKILL"
}

# ChaosProbe's Ready condition: a kind this cluster does not serve is not Ready, and says so; fixed, it
# is Ready. An experiment referencing a missing probe is not Ready either, until the probe exists.
test_q_probe_and_experiment_readiness() {
	new_namespace e2e-ready opt-in; local ns=$NS
	kubectl -n "$ns" apply -f - >/dev/null <<-EOF || fail "probe rejected"
	apiVersion: chaos.faultline.dev/v1alpha1
	kind: ChaosProbe
	metadata: {name: widgets}
	spec: {type: k8s, k8s: {apiVersion: example.com/v1, kind: Widget, name: w, check: {state: Present}}}
	EOF
	kubectl -n "$ns" wait --for=condition=Ready=False chaosprobe/widgets --timeout=30s >/dev/null || fail "the probe of an unknown kind never became Ready=False"
	field "$ns" chaosprobe widgets '{.status.conditions[?(@.type=="Ready")].message}' | grep -F "cannot resolve kind Widget in example.com/v1" >/dev/null ||
		fail "the message does not name the kind: $(field "$ns" chaosprobe widgets '{.status.conditions[0].message}')"
	kubectl -n "$ns" get chaosprobe widgets | grep -E '^widgets +k8s +False' >/dev/null || fail "the Ready column is not False: $(kubectl -n "$ns" get chaosprobe widgets)"
	kubectl -n "$ns" patch chaosprobe widgets --type merge -p '{"spec":{"k8s":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"}}}' >/dev/null
	kubectl -n "$ns" wait --for=condition=Ready chaosprobe/widgets --timeout=30s >/dev/null || fail "the fixed probe never became Ready"
	[ "$(field "$ns" chaosprobe widgets '{.status.observedGeneration}')" = 2 ] || fail "observedGeneration is not 2"
	experiment "$ns" uses '  suspend: true
  schedule: "0 0 1 1 *"
  faults:
  - name: kill
    type: pod-delete
    duration: 2s
    target: {kind: Deployment, name: web}
    probes:
    - {probeRef: later, mode: EOT}' || fail "experiment rejected"
	kubectl -n "$ns" wait --for=condition=Ready=False chaosexperiment/uses --timeout=30s >/dev/null || fail "an experiment with a missing probe is not Ready=False"
	[ "$(field "$ns" chaosexperiment uses '{.status.conditions[?(@.type=="Ready")].reason}')" = ProbeNotFound ] || fail "reason is not ProbeNotFound"
	kubectl -n "$ns" apply -f - >/dev/null <<-EOF || fail "probe rejected"
	apiVersion: chaos.faultline.dev/v1alpha1
	kind: ChaosProbe
	metadata: {name: later}
	spec: {type: http, http: {url: "http://web.$ns.svc.cluster.local/health"}}
	EOF
	kubectl -n "$ns" wait --for=condition=Ready chaosexperiment/uses --timeout=30s >/dev/null || fail "the experiment did not become Ready once its probe existed"
	kubectl -n "$ns" delete chaosprobe later >/dev/null || fail "cannot delete the probe"
	kubectl -n "$ns" wait --for=condition=Ready=False chaosexperiment/uses --timeout=30s >/dev/null || fail "the experiment stayed Ready after its probe was deleted"
}

# One malformed ChaosExperiment (written while its CRD was looser, as after a downgrade) stops
# nothing: the watch passes it over with a Warning Event that says what is wrong, the other
# experiments run, and a new leader's first list, which holds it, is read all the same.
test_r_a_malformed_object_stops_nothing() {
	new_namespace e2e-malformed opt-in; local ns=$NS
	deploy_app "$ns" 2
	local crd=chaosexperiments.chaos.faultline.dev
	kubectl patch crd "$crd" --type=json -p '[{"op": "replace", "path": "/spec/versions/0/schema/openAPIV3Schema",
		"value": {"type": "object", "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
		"status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}]' >/dev/null || fail "cannot loosen the CRD"
	local created=1
	kubectl -n "$ns" create -f - >/dev/null <<-EOF || created=0
	apiVersion: chaos.faultline.dev/v1alpha1
	kind: ChaosExperiment
	metadata: {name: broken}
	spec: {faults: "not a list"}
	EOF
	kubectl apply --server-side --force-conflicts -f "$REPO_ROOT/crds/faultline.yaml" >/dev/null || fail "cannot restore the CRDs"
	[ $created = 1 ] || fail "the loosened CRD refused the malformed experiment"
	local short="  faults:
  - name: kill
    type: pod-delete
    duration: 2s
    target: {kind: Deployment, name: web, mode: one}
    probes:
    - {name: up, mode: EOT, probe: {type: k8s, k8s: {apiVersion: apps/v1, kind: Deployment, name: web, check: {minReady: 1}}}}"
	experiment "$ns" good "$short" >/dev/null || fail "experiment rejected"
	local phase; phase=$(wait_result "$ns" good-1 90) || fail "beside a malformed experiment: $phase"
	[ "$phase" = Completed ] || fail "phase $phase beside a malformed experiment"
	wait_for "an InvalidObject event on the malformed experiment" 30 \
		"kubectl -n $ns get events --field-selector reason=InvalidObject,involvedObject.name=broken -o jsonpath='{.items[*].message}' | grep -q 'Expected a sequence'"
	# A new leader lists every experiment at start, the malformed one among them.
	local leader; leader=$(leader_pod)
	kubectl -n "$OPERATOR_NS" delete pod "$leader" --wait=false >/dev/null
	local deadline=$((SECONDS + 30))
	until [ "$(leader_pod)" != "$leader" ] && [ -n "$(leader_pod)" ]; do
		[ $SECONDS -lt $deadline ] || fail "no new leader within 30 s"
		sleep 0.2
	done
	wait_leader 60 || fail "no running leader"
	experiment "$ns" after "$short" >/dev/null || fail "experiment rejected"
	phase=$(wait_result "$ns" after-1 90) || fail "after a new leader listed a malformed experiment: $phase"
	[ "$phase" = Completed ] || fail "phase $phase after a new leader listed a malformed experiment"
	local metrics; metrics=$(leader_metrics)
	grep -E '^faultline_invalid_objects_total\{kind="ChaosExperiment"\} [1-9]' <<< "$metrics" >/dev/null ||
		fail "faultline_invalid_objects_total does not count it: $(grep '^faultline_invalid' <<< "$metrics")"
	kubectl -n "$ns" delete chaosexperiment broken --timeout=30s >/dev/null || fail "the malformed experiment cannot be deleted"
}

# A leader that cannot renew its Lease steps down before the Lease expires, so a follower never
# leads beside it: renewals are forbidden (the Role loses `patch`), the manager keeps retrying and
# would keep saying "leader"; the operator's own watch of the Lease sees no renewal, reads the Lease,
# and stops when no renewal is confirmed a quarter of the grace before expiry.
test_s_a_leader_that_cannot_renew_steps_down() {
	local role lease leader saved=$OUT/leader-election-role.json
	role=$(kubectl -n "$OPERATOR_NS" get role -l app.kubernetes.io/name=faultline -o name | grep leader-election) || fail "no leader-election Role"
	lease=$(field "$OPERATOR_NS" lease faultline-operator '{.spec.leaseDurationSeconds}')
	wait_leader 60 || fail "no leader to start with"
	leader=$(leader_pod)
	kubectl -n "$OPERATOR_NS" get "$role" -o json > "$saved"
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); r["metadata"].pop("resourceVersion",None)
for rule in r["rules"]: rule["verbs"]=[v for v in rule["verbs"] if v!="patch"]
json.dump(r,sys.stdout)' "$saved" | kubectl replace -f - >/dev/null || fail "cannot take patch away"
	local forbidden_at=$SECONDS stepped=""
	while [ $((SECONDS - forbidden_at)) -le $((lease + 10)) ]; do
		[ "$(operator_get "$leader" /readyz 2>/dev/null)" = "ok: leader" ] || { stepped=$((SECONDS - forbidden_at)); break; }
		sleep 0.5
	done
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); r["metadata"].pop("resourceVersion",None); json.dump(r,sys.stdout)' "$saved" |
		kubectl replace -f - >/dev/null || fail "cannot restore the Role"
	[ -n "$stepped" ] || fail "$leader still says it leads $((lease + 10)) s after its renewals were forbidden"
	echo "$leader stopped leading ${stepped}s after its renewals were forbidden (lease duration ${lease}s)"
	[ "$stepped" -lt "$lease" ] || fail "stepped down after ${stepped}s, not before the lease duration ${lease}s"
	wait_for "the leader's log saying why it stepped down" 30 \
		"kubectl -n $OPERATOR_NS logs $leader --previous | grep -q 'no renewal of the Lease confirmed in time'"
	wait_leader 90 || fail "no leader once renewals were allowed again"
}

test_g_schedule_produces_pruned_results() {
	new_namespace e2e-cron opt-in; local ns=$NS
	deploy_app "$ns" 2
	experiment "$ns" cron '  faults:
  - name: kill
    type: pod-delete
    duration: 2s
    target: {kind: Deployment, name: web}
    probes:
    - {name: up, mode: EOT, probe: {type: k8s, k8s: {apiVersion: apps/v1, kind: Deployment, name: web, check: {minReady: 1}}}}' '  schedule: "*/10 * * * * *"
  historyLimit: 2' || fail "experiment rejected"
	local deadline=$((SECONDS + 90)) runs=0
	while [ $SECONDS -lt $deadline ]; do
		runs=$(field "$ns" chaosexperiment cron '{.status.runs}')
		[ "${runs:-0}" -ge 4 ] && break
		sleep 2
	done
	[ "${runs:-0}" -ge 4 ] || fail "only ${runs:-0} scheduled runs in 90s"
	sleep 3
	kubectl -n "$ns" get chaosresults
	local kept; kept=$(kubectl -n "$ns" get chaosresults -o name | wc -l)
	[ "$kept" -le 3 ] || fail "$kept results kept, historyLimit is 2 (plus at most one active)"
	kubectl -n "$ns" get chaosresult "cron-1" >/dev/null 2>&1 && fail "cron-1 was not pruned"
	[ -n "$(field "$ns" chaosexperiment cron '{.status.nextScheduleTime}')" ] || fail "no nextScheduleTime"
	kubectl -n "$ns" patch chaosexperiment cron --type=merge -p '{"spec":{"suspend":true}}' >/dev/null
}

test_h_timeout_ends_the_run() {
	new_namespace e2e-timeout opt-in; local ns=$NS
	deploy_app "$ns" 2
	experiment "$ns" slow '  faults:
  - name: kill
    type: pod-delete
    duration: 60s
    interval: 5s
    target: {kind: Deployment, name: web}
    probes:
    - {name: up, mode: EOT, probe: {type: k8s, k8s: {apiVersion: apps/v1, kind: Deployment, name: web, check: {minReady: 1}}}}' '  timeout: 8s' || fail "experiment rejected"
	local phase; phase=$(wait_result "$ns" slow-1 60) || fail "$phase"
	show "$ns" slow-1
	[ "$phase" = Timeout ] || fail "phase $phase, expected Timeout"
	[ "$(field "$ns" chaosresult slow-1 '{.status.verdict}')" = Error ] || fail "verdict is not Error"
	local running; running=$(kubectl -n "$ns" get pods -l chaos.faultline.dev/result=slow-1 --field-selector=status.phase=Running -o name)
	[ -z "$running" ] || fail "the fault pod still runs after the timeout: $running"
}

test_i_probe_types_modes_and_parallel_faults() {
	new_namespace e2e-probes opt-in; local ns=$NS
	deploy_app "$ns" 3
	# A tiny Prometheus: busybox httpd answering /api/v1/query with a scalar 3.
	kubectl -n "$ns" apply -f - >/dev/null <<-EOF
	apiVersion: v1
	kind: ConfigMap
	metadata: {name: prom}
	data:
	  query: '{"status":"success","data":{"resultType":"scalar","result":[1700000000,"3"]}}'
	---
	apiVersion: v1
	kind: Pod
	metadata: {name: prom, labels: {app: prom}}
	spec:
	  securityContext: {runAsNonRoot: true, runAsUser: 65534, seccompProfile: {type: RuntimeDefault}}
	  containers:
	  - name: prom
	    image: $DEMO_IMAGE
	    imagePullPolicy: Never
	    args: [httpd, -f, -p, "9090", -h, /www]
	    ports: [{containerPort: 9090}]
	    readinessProbe: {tcpSocket: {port: 9090}, periodSeconds: 1}
	    volumeMounts: [{name: api, mountPath: /www/api/v1}]
	    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
	  volumes: [{name: api, configMap: {name: prom}}]
	---
	apiVersion: v1
	kind: Service
	metadata: {name: prom}
	spec: {selector: {app: prom}, ports: [{port: 9090}]}
	EOF
	kubectl -n "$ns" wait --for=condition=Ready pod/prom --timeout=60s >/dev/null || fail "prom pod not Ready"
	experiment "$ns" modes "  parallel: true
  faults:
  - name: first
    type: pod-delete
    duration: 10s
    interval: 5s
    target: {kind: Deployment, name: web}
    probes:
    - name: prometheus
      mode: SOT
      probe:
        type: prometheus
        prometheus: {endpoint: 'http://prom.$ns.svc.cluster.local:9090', query: 'sum(up)', comparator: {op: '>=', value: 3}}
    - name: cmd
      mode: Edge
      probe:
        type: cmd
        cmd: {image: '$DEMO_IMAGE', command: [sh, -c, 'echo all good'], expect: {exitCode: 0, output: {op: contains, value: good}}}
        runProperties: {timeout: 20s}
    - name: during
      mode: OnChaos
      probe:
        type: http
        http: {url: 'http://web.$ns.svc.cluster.local/', bodyMatches: 'demo app'}
        runProperties: {interval: 1s, retries: 2}
  - name: second
    type: pod-delete
    duration: 10s
    interval: 5s
    target: {kind: Deployment, name: web}
    probes:
    - name: replicas
      mode: Continuous
      probe:
        type: k8s
        k8s: {apiVersion: apps/v1, kind: Deployment, name: web, check: {jsonPath: '{.spec.replicas}', comparator: {op: '==', value: 3}}}
        runProperties: {interval: 2s}" || fail "experiment rejected"
	local phase; phase=$(wait_result "$ns" modes-1 150) || fail "$phase"
	show "$ns" modes-1
	[ "$phase" = Completed ] || fail "phase $phase, expected Completed"
	[ "$(field "$ns" chaosresult modes-1 '{.status.resilienceScore}')" = 100 ] || fail "score is not 100"
	local probe
	for probe in prometheus cmd during; do
		[ "$(field "$ns" chaosresult modes-1 "{.status.faults[?(@.name==\"first\")].probes[?(@.name==\"$probe\")].verdict}")" = Passed ] ||
			fail "probe $probe did not pass"
	done
	[ "$(field "$ns" chaosresult modes-1 '{.status.faults[?(@.name=="first")].probes[?(@.name=="cmd")].passed}')" = 2 ] ||
		fail "the Edge probe was not checked before and after"
	local samples; samples=$(field "$ns" chaosresult modes-1 '{.status.faults[?(@.name=="second")].probes[0].passed}')
	[ "${samples:-0}" -ge 3 ] || fail "the Continuous probe took only ${samples:-0} samples"
	# Parallel: the second fault started while the first was running.
	local first second
	first=$(field "$ns" chaosresult modes-1 '{.status.faults[?(@.name=="first")].endTime}')
	second=$(field "$ns" chaosresult modes-1 '{.status.faults[?(@.name=="second")].startTime}')
	[[ "$second" < "$first" ]] || fail "faults did not overlap: second started $second, first ended $first"
	[ -z "$(kubectl -n "$ns" get pods -l app.kubernetes.io/component=probe -o name)" ] || fail "a cmd probe pod was left behind"
}

test_j_dry_run_touches_nothing() {
	new_namespace e2e-dry opt-in; local ns=$NS
	deploy_app "$ns" 2
	local before; before=$(kubectl -n "$ns" get pods -l app=web -o jsonpath='{.items[*].metadata.uid}')
	experiment "$ns" dry '  dryRun: true
  faults:
  - name: kill
    type: pod-delete
    duration: 4s
    interval: 2s
    target: {kind: Deployment, name: web, mode: all}
    probes:
    - {name: up, mode: EOT, probe: {type: k8s, k8s: {apiVersion: apps/v1, kind: Deployment, name: web, check: {minReady: 2}}}}' || fail "experiment rejected"
	local phase; phase=$(wait_result "$ns" dry-1 60) || fail "$phase"
	show "$ns" dry-1
	[ "$phase" = Completed ] || fail "phase $phase, expected Completed"
	local actions; actions=$(field "$ns" chaosresult dry-1 '{.status.faults[0].targets[*].action}')
	[ -n "$actions" ] || fail "no targets recorded"
	[ -z "$(tr ' ' '\n' <<< "$actions" | grep -v '^selected$')" ] || fail "a dry run recorded actions: $actions"
	[ "$(kubectl -n "$ns" get pods -l app=web -o jsonpath='{.items[*].metadata.uid}')" = "$before" ] || fail "a dry run touched pods"
}

test_k_packaging_lints_and_renders() {
	helm lint "$REPO_ROOT/charts/faultline" || fail "helm lint"
	helm template faultline "$REPO_ROOT/charts/faultline" --namespace "$OPERATOR_NS" |
		kubectl apply --dry-run=server -f - || fail "the chart's objects are not accepted by the API server"
	kubectl kustomize "$REPO_ROOT/config/default" | kubectl apply --dry-run=server -f - ||
		fail "config/default is not accepted by the API server"
	kubectl create namespace faultline-demo --dry-run=client -o yaml | kubectl apply -f - >/dev/null
	kubectl label --overwrite namespace faultline-demo chaos.faultline.dev/allow=true >/dev/null
	kubectl apply --dry-run=server -f "$REPO_ROOT/config/samples/" || fail "the samples are not accepted"
	# The chart grants no cluster-admin and no wildcard.
	local rendered; rendered=$(helm template faultline "$REPO_ROOT/charts/faultline" --namespace "$OPERATOR_NS")
	grep -E 'cluster-admin|"\*"' <<< "$rendered" && fail "the chart grants cluster-admin or a wildcard"
	return 0
}

test_l_failed_steady_state_injects_nothing() {
	new_namespace e2e-steady opt-in; local ns=$NS
	deploy_app "$ns" 2
	local before; before=$(kubectl -n "$ns" get pods -l app=web -o jsonpath='{.items[*].metadata.uid}')
	experiment "$ns" steady "  steadyState:
    probes:
    - name: missing-page
      probe:
        type: http
        http: {url: 'http://web.$ns.svc.cluster.local/no-such-page'}
        runProperties: {initialDelay: 1s}
  faults:
  - name: kill
    type: pod-delete
    duration: 5s
    target: {kind: Deployment, name: web}
    probes:
    - {name: up, mode: EOT, probe: {type: k8s, k8s: {apiVersion: apps/v1, kind: Deployment, name: web, check: {minReady: 1}}}}" || fail "experiment rejected"
	local phase; phase=$(wait_result "$ns" steady-1 60) || fail "$phase"
	show "$ns" steady-1
	[ "$phase" = Error ] || fail "phase $phase, expected Error"
	field "$ns" chaosresult steady-1 '{.status.message}' | grep -F 'steady state before chaos failed: probe missing-page' >/dev/null ||
		fail "the message does not name the steady-state probe"
	[ "$(field "$ns" chaosresult steady-1 '{.status.faults[0].status}')" = Skipped ] || fail "the fault was not Skipped"
	[ "$(kubectl -n "$ns" get pods -l app=web -o jsonpath='{.items[*].metadata.uid}')" = "$before" ] || fail "pods were touched"
}

test_m_deleting_the_experiment_aborts_the_run() {
	new_namespace e2e-delete opt-in; local ns=$NS
	deploy_app "$ns" 2
	experiment "$ns" doomed '  faults:
  - name: kill
    type: pod-delete
    duration: 120s
    interval: 10s
    target: {kind: Deployment, name: web}
    probes:
    - {name: up, mode: EOT, probe: {type: k8s, k8s: {apiVersion: apps/v1, kind: Deployment, name: web, check: {minReady: 1}}}}' || fail "experiment rejected"
	wait_running "$ns" doomed-1
	local started=$SECONDS
	kubectl -n "$ns" delete chaosexperiment doomed --timeout=60s || fail "the experiment was not released within 60s"
	echo "experiment deleted after $((SECONDS - started))s"
	deadline=$((SECONDS + 30))
	while [ -n "$(kubectl -n "$ns" get pods -l chaos.faultline.dev/result=doomed-1 -o name)" ]; do
		[ $SECONDS -lt $deadline ] || fail "the fault pod outlived its experiment"
		sleep 1
	done
	[ "$(kubectl -n "$ns" get deployment web -o jsonpath='{.status.readyReplicas}')" != "" ] || fail "the app lost all its pods"
}

test_n_stop_on_failure_ends_the_run() {
	new_namespace e2e-sof opt-in; local ns=$NS
	deploy_app "$ns" 2
	experiment "$ns" sof "  faults:
  - name: first
    type: pod-delete
    duration: 60s
    interval: 10s
    target: {kind: Deployment, name: web}
    probes:
    - name: strict
      mode: Continuous
      probe:
        type: http
        http: {url: 'http://web.$ns.svc.cluster.local/health', expectedStatus: ['204']}
        runProperties: {interval: 1s, stopOnFailure: true}
  - name: second
    type: pod-delete
    duration: 5s
    target: {kind: Deployment, name: web}
    probes:
    - {name: up, mode: EOT, probe: {type: k8s, k8s: {apiVersion: apps/v1, kind: Deployment, name: web, check: {minReady: 1}}}}" || fail "experiment rejected"
	local phase; phase=$(wait_result "$ns" sof-1 40) || fail "$phase (stopOnFailure should end the run well before the 60 s fault)"
	show "$ns" sof-1
	[ "$phase" = Error ] || fail "phase $phase, expected Error"
	field "$ns" chaosresult sof-1 '{.status.message}' | grep -F 'probe strict failed and has stopOnFailure' >/dev/null || fail "message does not say why"
	[ "$(field "$ns" chaosresult sof-1 '{.status.faults[?(@.name=="second")].status}')" = Skipped ] || fail "the second fault was not Skipped"
}

test_o_queue_timeout() {
	new_namespace e2e-queue opt-in; local ns=$NS
	deploy_app "$ns" 2
	# From now on, pods without requests in this namespace ask for 64 CPUs: the fault pod stays Pending.
	kubectl -n "$ns" apply -f - >/dev/null <<-EOF
	apiVersion: v1
	kind: LimitRange
	metadata: {name: huge}
	spec:
	  limits:
	  - type: Container
	    defaultRequest: {cpu: "64"}
	    default: {cpu: "64"}
	EOF
	experiment "$ns" queued '  faults:
  - name: kill
    type: pod-delete
    duration: 5s
    target: {kind: Deployment, name: web}
    probes:
    - {name: up, mode: EOT, probe: {type: k8s, k8s: {apiVersion: apps/v1, kind: Deployment, name: web, check: {minReady: 1}}}}' '  queueTimeout: 5s' || fail "experiment rejected"
	local phase; phase=$(wait_result "$ns" queued-1 60) || fail "$phase"
	show "$ns" queued-1
	[ "$phase" = Timeout ] || fail "phase $phase, expected Timeout"
	[ "$(field "$ns" chaosresult queued-1 '{.status.verdict}')" = Error ] || fail "verdict is not Error"
	field "$ns" chaosresult queued-1 '{.status.message}' | grep -F 'did not start within queueTimeout 5s' >/dev/null || fail "message does not name queueTimeout"
	[ -z "$(kubectl -n "$ns" get pods -l chaos.faultline.dev/result=queued-1 -o name)" ] || fail "the pending fault pod was left behind"
}

# as_user USER [kubectl args...]: kubectl impersonating USER (and the group every user has).
as_user() { local user=$1; shift; kubectl --as "$user" --as-group system:authenticated "$@"; }

# admit USER NS WHAT YAML: the object is admitted for USER (server-side dry run: admission runs, nothing is kept).
admit() {
	local out; out=$(as_user "$1" -n "$2" create --dry-run=server -f - <<< "$4" 2>&1) ||
		fail "$1 was refused $3: $out"
}

# refuse USER NS WHAT YAML MESSAGE: the object is refused for USER with exactly MESSAGE.
refuse() {
	local out; out=$(as_user "$1" -n "$2" create --dry-run=server -f - <<< "$4" 2>&1) &&
		fail "$1 was admitted $3"
	echo "$3: $out"
	grep -F -- "denied request: $5" <<< "$out" >/dev/null || fail "$3: expected the message '$5'"
}

# adm_experiment NAME FAULT_YAML [PROBES_YAML]: a one-fault experiment as YAML.
adm_experiment() {
	printf 'apiVersion: chaos.faultline.dev/v1alpha1\nkind: ChaosExperiment\nmetadata: {name: %s}\nspec:\n  faults:\n  - name: f\n%s\n%s\n' \
		"$1" "$2" "${3:-}"
}

test_t_admission_asks_for_the_writers_rights() {
	new_namespace e2e-adm-a opt-in; local a=$NS
	local b="e2e-adm-b-${a##*-}" user="e2e-alice-${a##*-}" admin="e2e-bob-${a##*-}"
	kubectl create namespace "$b" >/dev/null || fail "cannot create $b"
	trap "kubectl delete namespace $a $b --wait=false >/dev/null 2>&1; kubectl delete clusterrolebinding $admin-nodes >/dev/null 2>&1" EXIT
	# alice may only edit chaos resources in a; bob is a's admin (which aggregates faultline-admin), may edit
	# b, and may patch nodes.
	kubectl -n "$a" create rolebinding alice --clusterrole=faultline-edit --user="$user" >/dev/null
	kubectl -n "$a" create rolebinding bob --clusterrole=admin --user="$admin" >/dev/null
	kubectl -n "$b" create rolebinding bob --clusterrole=edit --user="$admin" >/dev/null
	kubectl create clusterrole e2e-node-patcher --verb=patch --resource=nodes --dry-run=client -o yaml | kubectl apply -f - >/dev/null
	kubectl create clusterrolebinding "$admin-nodes" --clusterrole=e2e-node-patcher --user="$admin" >/dev/null
	local image; image=$(kubectl -n "$OPERATOR_NS" get deployment faultline \
		-o jsonpath='{.spec.template.spec.containers[0].env[?(@.name=="FAULTLINE_IMAGE")].value}')
	[ -n "$image" ] || fail "no FAULTLINE_IMAGE in the operator's Deployment"
	local target='    target: {selector: {matchLabels: {app: web}}}'
	local custom_probe="apiVersion: chaos.faultline.dev/v1alpha1
kind: ChaosProbe
metadata: {name: custom}
spec: {type: cmd, cmd: {image: 'busybox:1.36', command: ['true']}}"
	local inline_probe=$(adm_experiment inline "    type: pod-delete
$target" "    probes: [{name: custom, mode: EOT, probe: {type: cmd, cmd: {image: 'busybox:1.36', command: ['true']}}}]")
	local foreign=$(adm_experiment foreign "    type: pod-delete
    target: {namespace: $b, selector: {matchLabels: {app: web}}}")
	local scale=$(adm_experiment scale "    type: workload-scale
    target: {kind: Deployment, name: web}
    workloadScale: {replicas: 0}")
	local node=$(adm_experiment node "    type: node-cordon
    target: {kind: Node, name: kwok-node-0}")
	local latency=$(adm_experiment latency "    type: pod-network-latency
$target
    networkLatency: {latency: 100ms}")

	# A policy is enforced a moment after it is created (the API server loads it): wait for the first refusal.
	local deadline=$((SECONDS + 30))
	while as_user "$user" -n "$a" create --dry-run=server -f - <<< "$custom_probe" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || fail "the admission policies were not enforced 30 s after the install"
		sleep 0.5
	done
	refuse "$user" "$a" "a ChaosProbe with its own image" "$custom_probe" \
		"probe custom runs its own image (cmd.image) as a pod: you may not create pods in namespace $a; ask an admin there for create on pods, or leave cmd.image unset to run Faultline's image"
	refuse "$user" "$a" "an inline cmd probe with its own image" "$inline_probe" \
		"probe custom runs its own image (cmd.image) as a pod: you may not create pods in namespace $a; ask an admin there for create on pods, or leave cmd.image unset to run Faultline's image"
	refuse "$user" "$a" "a target in another namespace" "$foreign" \
		"fault f targets pods in namespace $b: you may not delete pods in namespace $b; ask an admin there for delete on pods"
	refuse "$user" "$a" "a workload-scale" "$scale" \
		"fault f scales a Deployment in namespace $a: you may not patch deployments/scale in namespace $a; ask an admin there for patch on deployments/scale"
	refuse "$user" "$a" "a node target" "$node" \
		"fault f (node-cordon) changes nodes: you may not patch nodes; ask a cluster admin for patch on nodes"
	refuse "$user" "$a" "a node-level fault" "$latency" \
		"fault f (pod-network-latency) runs a privileged fault pod on its target's node: you may not inject privilegedfaults.chaos.faultline.dev in namespace $a; ask an admin there for it (the faultline-admin role grants it)"
	# What faultline-edit alone may ask for: a pod-delete in its namespace, cmd probes in Faultline's image.
	admit "$user" "$a" "a pod-delete in its namespace" "$(adm_experiment plain "    type: pod-delete
$target")"
	admit "$user" "$a" "a cmd probe in the operator's image" "apiVersion: chaos.faultline.dev/v1alpha1
kind: ChaosProbe
metadata: {name: own}
spec: {type: cmd, cmd: {image: '$image', command: ['/faultline', '--help']}}"
	admit "$user" "$a" "a cmd probe with no image" "apiVersion: chaos.faultline.dev/v1alpha1
kind: ChaosProbe
metadata: {name: default}
spec: {type: cmd, cmd: {command: ['/faultline', '--help']}}"
	for what in custom_probe inline_probe foreign scale node latency; do
		admit "$admin" "$a" "$what" "${!what}"
	done

	# The operator's own writes (finalizer, status, results) pass on an experiment that holds a privileged
	# fault; alice may stop it, and may not change the fault.
	deploy_app "$a" 1
	as_user "$admin" -n "$a" create -f - <<< "$(adm_experiment held "    type: pod-network-latency
$target
    duration: 2s
    networkLatency: {latency: 100ms}" "    probes: [{name: up, mode: EOT, probe: {type: k8s, k8s: {apiVersion: apps/v1, kind: Deployment, name: web, check: {state: Available}}}}]")
  dryRun: true" >/dev/null || fail "bob could not create the experiment"
	local phase; phase=$(wait_result "$a" held-1 90) || fail "$phase"
	show "$a" held-1
	[ "$phase" = Completed ] || fail "phase $phase, expected Completed"
	as_user "$user" -n "$a" patch chaosexperiment held --type merge -p '{"spec":{"stop":true}}' >/dev/null ||
		fail "alice could not stop an experiment she did not write"
	local out; out=$(as_user "$user" -n "$a" patch chaosexperiment held --type json \
		-p '[{"op":"replace","path":"/spec/faults/0/networkLatency/latency","value":"300ms"}]' 2>&1) &&
		fail "alice changed a privileged fault"
	grep -F "fault f (pod-network-latency) runs a privileged fault pod" <<< "$out" >/dev/null || fail "unexpected: $out"
}

"$CLUSTER_SRC/cluster.sh" status >/dev/null || { echo "the cluster is not up: run make cluster-up" >&2; exit 1; }
install_operator || { echo "operator: 0 passed, 1 failed"; exit 1; }
for t in a_healthy_service_passes b_fragile_service_fails c_stop_skips_the_rest d_bad_manifests_are_rejected \
	e_isolation_without_opt_in f_operator_loss_mid_run g_schedule_produces_pruned_results h_timeout_ends_the_run \
	i_probe_types_modes_and_parallel_faults j_dry_run_touches_nothing k_packaging_lints_and_renders \
	l_failed_steady_state_injects_nothing m_deleting_the_experiment_aborts_the_run n_stop_on_failure_ends_the_run \
	o_queue_timeout p_leader_failover_mid_run q_probe_and_experiment_readiness r_a_malformed_object_stops_nothing \
	s_a_leader_that_cannot_renew_steps_down t_admission_asks_for_the_writers_rights; do
	[ -z "${ONLY:-}" ] || [[ $t == *$ONLY* ]] || continue
	run_test "$t"
done
kubectl -n "$OPERATOR_NS" logs -l app.kubernetes.io/name=faultline --prefix --tail=-1 > "$OUT/operator.log" 2>&1 || true
summary operator
