#!/usr/bin/env bash
# The revert tier: faults that change state (workload-scale, node-cordon, node-drain, node-taint)
# and the revert guarantee, measured on the real cluster: the replicas come back, the nodes are
# uncordoned and untainted, whatever is lost on the way (the fault pod, the operator, the
# experiment). Node faults act on kwok nodes only (FAKE_NODES), never on the real node. The node
# family's import round trips (Litmus node-taint and node-drain, Chaos Toolkit cordon_node) are here
# too, for those nodes.
# Prints "N passed, N failed" last. Needs the cluster with FAKE_NODES>=2 and the images.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cluster/config.sh"
export KUBECONFIG=$KUBECONFIG_ADMIN
export PATH=$KUBE_BIN_DIR:$(dirname "$HELM_BIN"):$PATH
OUT=${E2E_OUTPUT:-$REPO_ROOT/e2e/_output}/revert
mkdir -p "$OUT"
source "$REPO_ROOT/e2e/lib.sh"
FAULTLINE=$(faultline_bin)

# The one namespace the operator lets run node faults (the chart's nodeTargets.namespaces).
NODE_NS=e2e-nodes

context() { # what a timed-out wait shows: the test namespace's pods, results and last events
	kubectl -n "$NS" get pods,chaosresults -o wide
	kubectl -n "$NS" get events --sort-by=.lastTimestamp | tail -n 15
}

replicas() { kubectl -n "$1" get deployment "$2" -o jsonpath='{.spec.replicas}'; }
node_field() { kubectl get node "$1" -o jsonpath="$2"; }

# ledger_state NS RESULT FAULT: the states of the fault's ledger entries, space-separated
ledger_state() {
	kubectl -n "$1" get chaosresult "$2" \
		-o jsonpath="{.status.faults[?(@.name==\"$3\")].targets[*].state}"
}

# kill_fault_process RESULT FAULT: SIGKILLs the fault pod's process on this node, as a crash would
kill_fault_process() {
	local pids; pids=$(pgrep -f -- "--result=$1 --fault=$2") || fail "no fault process for $1/$2"
	kill -9 $pids
}

# A probe that always holds while the Deployment exists: the scale tests measure the replicas
# themselves, so the verdict should not depend on the app's availability.
PRESENT='    probes:
    - {name: present, mode: EOT, probe: {type: k8s, k8s: {apiVersion: apps/v1, kind: Deployment, name: web, check: {state: Present}}}}'

scale_fault() { # scale_fault DURATION: workload-scale of web to 0
	cat <<-EOF
	  faults:
	  - name: scale
	    type: workload-scale
	    duration: $1
	    target: {kind: Deployment, name: web}
	    workloadScale: {replicas: 0}
	$PRESENT
	EOF
}

# ---------------------------------------------------------------- tests

test_a_scale_to_zero_and_back() {
	new_namespace e2e-scale opt-in; local ns=$NS
	deploy_app "$ns" 3
	experiment "$ns" scale "$(scale_fault 10s)" || fail "experiment rejected"
	wait_running "$ns" scale-1
	wait_for "replicas 0 during the fault" 60 'test "$(replicas "$ns" web)" = 0'
	local ready; ready=$(kubectl -n "$ns" get deployment web -o jsonpath='{.status.readyReplicas}')
	echo "during the fault: spec.replicas 0, readyReplicas ${ready:-0}"
	local phase; phase=$(wait_result "$ns" scale-1 90) || fail "$phase"
	show "$ns" scale-1
	[ "$phase" = Completed ] || fail "phase $phase, expected Completed"
	[ "$(replicas "$ns" web)" = 3 ] || fail "replicas $(replicas "$ns" web) after the fault, expected 3"
	kubectl -n "$ns" wait --for=condition=Available deployment/web --timeout=60s >/dev/null || fail "web not Available again"
	[ "$(ledger_state "$ns" scale-1 scale)" = Reverted ] || fail "ledger: $(ledger_state "$ns" scale-1 scale)"
	[ "$(field "$ns" chaosresult scale-1 '{.status.faults[0].targets[0].original}')" = 3 ] || fail "original count not recorded"
}

test_b_a_person_scaling_mid_run_is_drift_not_overwritten() {
	new_namespace e2e-drift opt-in; local ns=$NS
	deploy_app "$ns" 3
	experiment "$ns" drift "$(scale_fault 12s)" || fail "experiment rejected"
	wait_for "replicas 0 during the fault" 60 'test "$(replicas "$ns" web)" = 0'
	kubectl -n "$ns" scale deployment web --replicas=2 >/dev/null
	local phase; phase=$(wait_result "$ns" drift-1 90) || fail "$phase"
	show "$ns" drift-1
	[ "$(replicas "$ns" web)" = 2 ] || fail "replicas $(replicas "$ns" web): the revert overwrote the person's 2"
	[ "$(ledger_state "$ns" drift-1 scale)" = Drifted ] || fail "ledger: $(ledger_state "$ns" drift-1 scale), expected Drifted"
	field "$ns" chaosresult drift-1 '{.status.faults[0].targets[0].message}' | grep -F 'replicas are 2, not the 0' >/dev/null ||
		fail "the drift message does not say what was found"
}

test_c_an_autoscaled_workload_is_refused() {
	new_namespace e2e-hpa opt-in; local ns=$NS
	deploy_app "$ns" 2
	kubectl -n "$ns" autoscale deployment web --min=2 --max=4 --cpu-percent=80 >/dev/null || fail "cannot create the HPA"
	experiment "$ns" hpa "$(scale_fault 5s)" || fail "experiment rejected"
	local phase; phase=$(wait_result "$ns" hpa-1 60) || fail "$phase"
	show "$ns" hpa-1
	[ "$phase" = Error ] || fail "phase $phase, expected Error"
	field "$ns" chaosresult hpa-1 '{.status.faults[0].message}' | grep -F 'HorizontalPodAutoscaler web scales Deployment' >/dev/null ||
		fail "the message does not name the autoscaler"
	[ "$(replicas "$ns" web)" = 2 ] || fail "replicas changed to $(replicas "$ns" web)"
	[ -z "$(ledger_state "$ns" hpa-1 scale)" ] || fail "a refused fault wrote ledger entries"
}

# A Deployment pinned to a kwok node, with a PodDisruptionBudget that allows one pod down.
pinned_app() { # pinned_app NS NODE REPLICAS
	kubectl -n "$1" apply -f - >/dev/null <<-EOF
	apiVersion: apps/v1
	kind: Deployment
	metadata: {name: pinned}
	spec:
	  replicas: $3
	  selector: {matchLabels: {app: pinned}}
	  template:
	    metadata: {labels: {app: pinned}}
	    spec:
	      nodeSelector: {kubernetes.io/hostname: $2}
	      tolerations: [{key: faultline.dev/fake-node, operator: Exists}]
	      containers: [{name: app, image: localhost/none:fake}]
	---
	apiVersion: policy/v1
	kind: PodDisruptionBudget
	metadata: {name: pinned}
	spec:
	  minAvailable: $(($3 - 1))
	  selector: {matchLabels: {app: pinned}}
	EOF
	kubectl -n "$1" wait --for=condition=Available deployment/pinned --timeout=60s >/dev/null || fail "pinned app not Available on $2"
}

node_namespace() { # a fresh NODE_NS, the namespace allowed to run node faults
	kubectl delete namespace "$NODE_NS" --wait=true --timeout=60s >/dev/null 2>&1
	kubectl create namespace "$NODE_NS" >/dev/null && kubectl label namespace "$NODE_NS" chaos.faultline.dev/allow=true >/dev/null
	trap "kubectl delete namespace $NODE_NS --wait=false >/dev/null 2>&1" EXIT
	wait_for "the default ServiceAccount" 30 'kubectl -n "$NODE_NS" get serviceaccount default'
	NS=$NODE_NS
}

NODE_PROBE='    probes:
    - {name: api, mode: EOT, probe: {type: k8s, k8s: {apiVersion: v1, kind: Namespace, name: kube-system, check: {state: Present}}}}'

test_d_node_drain_honours_the_budget_and_uncordons() {
	node_namespace; local ns=$NS node=kwok-node-0
	pinned_app "$ns" $node 2
	experiment "$ns" drain "  faults:
  - name: drain
    type: node-drain
    duration: 12s
    interval: 2s
    target: {kind: Node, name: $node}
$NODE_PROBE" || fail "experiment rejected"
	wait_for "node cordoned" 60 'test "$(node_field $node "{.spec.unschedulable}")" = true'
	node_field $node '{.metadata.annotations}' | grep -F "$ns/drain-1/drain" >/dev/null || fail "the node does not carry the fault's mark"
	local phase; phase=$(wait_result "$ns" drain-1 90) || fail "$phase"
	show "$ns" drain-1
	[ "$phase" = Completed ] || fail "phase $phase, expected Completed"
	local evicted; evicted=$(field "$ns" chaosresult drain-1 '{.status.faults[0].targets[?(@.action=="evicted")].name}' | wc -w)
	echo "evicted during the drain: $evicted of 2 pods (budget minAvailable 1)"
	[ "$evicted" = 1 ] || fail "$evicted pods evicted; the budget allows exactly 1 while the replacement cannot schedule"
	[ -z "$(node_field $node '{.spec.unschedulable}')" ] || fail "node still cordoned"
	! node_field $node '{.metadata.annotations}' | grep -F cordoned-by >/dev/null || fail "the mark was left on the node"
	# Whether the Pending replacement is scheduled again is the scheduler's business (its requeue after
	# an uncordon took from 2 s to over a minute here); the revert's effect is the node above.
}

test_e_node_cordon_and_taint_revert_exactly_their_change() {
	node_namespace; local ns=$NS node=kwok-node-1
	experiment "$ns" nodes "  parallel: true
  faults:
  - name: cordon
    type: node-cordon
    duration: 8s
    target: {kind: Node, name: $node}
$NODE_PROBE
  - name: taint
    type: node-taint
    duration: 8s
    target: {kind: Node, selector: {matchLabels: {kubernetes.io/hostname: $node}}}
    nodeTaint: {key: chaos.faultline.dev/e2e, value: injected, effect: NoSchedule}
$NODE_PROBE" || fail "experiment rejected"
	wait_for "node cordoned" 60 'test "$(node_field $node "{.spec.unschedulable}")" = true'
	wait_for "node tainted" 60 "kubectl get node $node -o jsonpath='{.spec.taints[*].key}' | grep -q chaos.faultline.dev/e2e"
	local phase; phase=$(wait_result "$ns" nodes-1 60) || fail "$phase"
	show "$ns" nodes-1
	[ "$phase" = Completed ] || fail "phase $phase, expected Completed"
	[ -z "$(node_field $node '{.spec.unschedulable}')" ] || fail "node still cordoned"
	[ "$(node_field $node '{.spec.taints[*].key}')" = faultline.dev/fake-node ] ||
		fail "taints after the revert: $(node_field $node '{.spec.taints[*].key}'), expected only the node's own"
	# Not allowed: the same fault from a namespace missing from nodeTargets.namespaces touches nothing.
	new_namespace e2e-nonode opt-in; local other=$NS
	experiment "$other" nodes "  faults:
  - name: cordon
    type: node-cordon
    duration: 5s
    target: {kind: Node, name: $node}
$NODE_PROBE" || fail "experiment rejected"
	phase=$(wait_result "$other" nodes-1 60) || fail "$phase"
	[ "$phase" = Error ] || fail "phase $phase in a namespace not allowed to target nodes"
	field "$other" chaosresult nodes-1 '{.status.message}' | grep -F 'nodeTargets.namespaces' >/dev/null || fail "the message does not say how to allow it"
	[ -z "$(node_field $node '{.spec.unschedulable}')" ] || fail "the refused run cordoned the node"
}

test_f_operator_restart_mid_injection() {
	node_namespace; local ns=$NS node=kwok-node-1
	deploy_app "$ns" 2
	experiment "$ns" restart "$(scale_fault 20s)
  - name: cordon
    type: node-cordon
    duration: 20s
    target: {kind: Node, name: $node}
$NODE_PROBE" "  parallel: true" || fail "experiment rejected"
	wait_for "both injected" 60 'test "$(ledger_state "$ns" restart-1 scale) $(ledger_state "$ns" restart-1 cordon)" = "Injected Injected"' 'show "$ns" restart-1; kubectl -n "$ns" get pods'
	kubectl -n "$OPERATOR_NS" delete pod -l app.kubernetes.io/name=faultline --wait=false >/dev/null
	local phase; phase=$(wait_result "$ns" restart-1 120) || fail "$phase"
	show "$ns" restart-1
	case $phase in Completed | CompletedWithError | Error) ;; *) fail "phase $phase after the operator restart" ;; esac
	[ "$(ledger_state "$ns" restart-1 scale) $(ledger_state "$ns" restart-1 cordon)" = "Reverted Reverted" ] ||
		fail "ledger after the restart: $(ledger_state "$ns" restart-1 scale) / $(ledger_state "$ns" restart-1 cordon)"
	[ "$(replicas "$ns" web)" = 2 ] || fail "replicas not restored"
	[ -z "$(node_field $node '{.spec.unschedulable}')" ] || fail "node still cordoned"
	kubectl -n "$OPERATOR_NS" rollout status deployment -l app.kubernetes.io/name=faultline --timeout=60s >/dev/null
	wait_leader 60 || fail "no leader after the restart"
}

test_g_a_lost_fault_pod_is_reverted_by_the_operator() {
	new_namespace e2e-lost opt-in; local ns=$NS
	deploy_app "$ns" 3
	experiment "$ns" lost "$(scale_fault 60s)" || fail "experiment rejected"
	wait_for "injected" 60 'test "$(ledger_state "$ns" lost-1 scale)" = Injected'
	# The fault pod crashes without a chance to revert, then is force-deleted.
	kill_fault_process lost-1 scale
	kubectl -n "$ns" delete pod lost-1-scale --force --grace-period=0 >/dev/null 2>&1
	local started=$SECONDS
	wait_for "replicas restored by the operator" 60 'test "$(replicas "$ns" web)" = 3'
	echo "replicas restored $((SECONDS - started)) s after the fault pod was killed"
	local phase; phase=$(wait_result "$ns" lost-1 60) || fail "$phase"
	show "$ns" lost-1
	[ "$(field "$ns" chaosresult lost-1 '{.status.faults[0].status}')" = Error ] || fail "the fault is not Error"
	field "$ns" chaosresult lost-1 '{.status.faults[0].message}' | grep -E '(fault pod .*(lost|exited|failed)|fault process was killed).*the operator reverted 1 change' >/dev/null ||
		fail "the message does not say the pod was lost and the operator reverted"
	[ "$(field "$ns" chaosresult lost-1 '{.status.faults[0].targets[0].revertedBy}')" = operator ] || fail "not reverted by the operator"
}

test_h_deleting_the_experiment_reverts_before_the_finalizer_lets_go() {
	new_namespace e2e-delete opt-in; local ns=$NS
	deploy_app "$ns" 3
	experiment "$ns" gone "$(scale_fault 60s)" || fail "experiment rejected"
	wait_for "injected" 60 'test "$(ledger_state "$ns" gone-1 scale)" = Injected'
	# Every change of the result until it is deleted, with its ledger entry's state: polling could
	# miss a revert and the deletion landing between two looks.
	kubectl -n "$ns" get chaosresult gone-1 --watch --output-watch-events \
		-o jsonpath='{.type} {.object.status.faults[0].targets[0].state}{"\n"}' > "$OUT/h-watch.txt" 2>&1 &
	local watcher=$!
	sleep 1
	kubectl -n "$ns" delete chaosexperiment gone --wait=false >/dev/null
	local deadline=$((SECONDS + 90))
	while kubectl -n "$ns" get chaosresult gone-1 >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || fail "the result was never deleted"
		sleep 0.2
	done
	[ "$(replicas "$ns" web)" = 3 ] || fail "replicas $(replicas "$ns" web) after the deletion"
	local until=$((SECONDS + 10))
	until grep -q '^DELETED' "$OUT/h-watch.txt" || [ $SECONDS -ge $until ]; do sleep 0.2; done
	kill "$watcher" 2>/dev/null
	cat "$OUT/h-watch.txt"
	# The result went with its entry Reverted: the finalizer let go only after the revert.
	grep -qx 'DELETED Reverted' "$OUT/h-watch.txt" || fail "the result was deleted without its entry Reverted"
}

test_i_a_revert_that_cannot_succeed_holds_deletion_until_force_cleanup() {
	new_namespace e2e-stuck opt-in; local ns=$NS
	deploy_app "$ns" 2
	experiment "$ns" stuck "$(scale_fault 60s)" || fail "experiment rejected"
	wait_for "injected" 60 'test "$(ledger_state "$ns" stuck-1 scale)" = Injected'
	# The fault's identity loses its rights in the namespace, and the fault pod crashes.
	kubectl -n "$ns" delete rolebinding faultline-fault-workload-scale >/dev/null || fail "no RoleBinding to delete"
	kill_fault_process stuck-1 scale
	wait_for "Reverted=False" 60 "kubectl -n $ns get chaosresult stuck-1 -o jsonpath='{.status.conditions[?(@.type==\"Reverted\")].status}' | grep -qx False"
	field "$ns" chaosresult stuck-1 '{.status.conditions[?(@.type=="Reverted")].message}' | grep -F "Deployment $ns/web" >/dev/null ||
		fail "the condition does not list the entry"
	leader_metrics | grep -E '^faultline_unreverted_injections [1-9]' ||
		fail "faultline_unreverted_injections does not count the entry"
	kubectl -n "$ns" get events --field-selector reason=RevertFailed -o name | grep . >/dev/null || fail "no RevertFailed Event"
	kubectl -n "$ns" delete chaosresult stuck-1 --wait=false >/dev/null
	sleep 15
	kubectl -n "$ns" get chaosresult stuck-1 >/dev/null 2>&1 || fail "the finalizer let go although the revert failed"
	kubectl -n "$ns" annotate chaosresult stuck-1 chaos.faultline.dev/force-cleanup="e2e gives up" >/dev/null
	wait_for "the result gone after force-cleanup" 60 "! kubectl -n $ns get chaosresult stuck-1"
	kubectl -n "$ns" get events --field-selector reason=ForceCleanup -o jsonpath='{.items[*].message}' | grep -F "Deployment $ns/web" >/dev/null ||
		fail "no ForceCleanup Event recording what was left"
	[ "$(replicas "$ns" web)" = 0 ] || fail "replicas $(replicas "$ns" web): expected the abandoned 0"
}

# passing_run NS: sets RESULT to the namespace's one run, waits for it to end and fails the test
# unless it Completed with a Pass.
passing_run() {
	RESULT=$(kubectl -n "$1" get chaosresults -o jsonpath='{.items[0].metadata.name}')
	local phase; phase=$(wait_result "$1" "$RESULT" 90) || fail "$phase"
	show "$1" "$RESULT"
	[ "$phase" = Completed ] || fail "phase $phase, expected Completed"
	[ "$(field "$1" chaosresult "$RESULT" '{.status.verdict}')" = Pass ] || fail "verdict is not Pass"
}

# The node family of the Litmus import (issue 12): the docs-shaped engine is imported, applied and
# run to a Pass, and each node is back as it was: the taint gone, the drained node uncordoned.
test_j_litmus_node_faults_import_round_trip() {
	node_namespace; local ns=$NS
	"$FAULTLINE" import litmus "$REPO_ROOT/e2e/manifests/litmus/node-engine.yaml" -n "$ns" > "$OUT/j-imported.yaml" ||
		fail "the import failed"
	cat "$OUT/j-imported.yaml"
	local types; types=$(grep -E '^    type: ' "$OUT/j-imported.yaml" | awk '{print $2}' | tr '\n' ' ')
	[ "$types" = "node-taint node-drain " ] || fail "imported fault types: $types"
	"$FAULTLINE" run -f "$OUT/j-imported.yaml" >/dev/null || fail "faultline run refused the imported experiment"
	wait_for "kwok-node-1 tainted" 60 "kubectl get node kwok-node-1 -o jsonpath='{.spec.taints[*].key}' | grep -q chaos.faultline.dev/litmus"
	wait_for "kwok-node-0 cordoned" 60 'test "$(node_field kwok-node-0 "{.spec.unschedulable}")" = true'
	passing_run "$ns"; local result=$RESULT
	[ "$(ledger_state "$ns" "$result" node-taint) $(ledger_state "$ns" "$result" node-drain)" = "Reverted Reverted" ] ||
		fail "ledger: $(ledger_state "$ns" "$result" node-taint) / $(ledger_state "$ns" "$result" node-drain)"
	[ "$(node_field kwok-node-1 '{.spec.taints[*].key}')" = faultline.dev/fake-node ] ||
		fail "taints after the revert: $(node_field kwok-node-1 '{.spec.taints[*].key}'), expected only the node's own"
	[ -z "$(node_field kwok-node-0 '{.spec.unschedulable}')" ] || fail "kwok-node-0 still cordoned"
}

# The Chaos Toolkit import's node actions: cordon_node, with its uncordon_node rollback dropped
# (Faultline reverts the fault itself), imported, applied and run to a Pass; the node is back.
test_k_chaostoolkit_node_cordon_import_round_trip() {
	node_namespace; local ns=$NS node=kwok-node-1
	deploy_app "$ns" 1
	TARGET_NS=$ns "$FAULTLINE" import chaostoolkit "$REPO_ROOT/e2e/manifests/chaostoolkit/node-cordon.json" -n "$ns" \
		> "$OUT/k-imported.yaml" 2> "$OUT/k-notes.txt" || fail "the import failed: $(cat "$OUT/k-notes.txt")"
	cat "$OUT/k-imported.yaml" "$OUT/k-notes.txt"
	grep -F 'rollbacks[0] "uncordon-the-node" dropped' "$OUT/k-notes.txt" >/dev/null || fail "no note on the dropped rollback"
	"$FAULTLINE" run -f "$OUT/k-imported.yaml" >/dev/null || fail "faultline run refused the imported experiment"
	wait_for "$node cordoned" 60 'test "$(node_field $node "{.spec.unschedulable}")" = true'
	passing_run "$ns"; local result=$RESULT
	[ "$(ledger_state "$ns" "$result" cordon-a-node)" = Reverted ] || fail "ledger: $(ledger_state "$ns" "$result" cordon-a-node)"
	[ -z "$(node_field $node '{.spec.unschedulable}')" ] || fail "$node still cordoned"
}

"$CLUSTER_SRC/cluster.sh" status >/dev/null || { echo "the cluster is not up: run make cluster-up" >&2; exit 1; }
[ -x "$FAULTLINE" ] || { echo "no faultline binary at $FAULTLINE: run make image" >&2; exit 1; }
[ "$(kubectl get nodes -l type=kwok -o name | wc -l)" -ge 2 ] || { echo "needs FAKE_NODES>=2 (make revert-e2e starts them)" >&2; exit 1; }
install_operator --set "nodeTargets.namespaces={$NODE_NS}" || { echo "revert: 0 passed, 1 failed"; exit 1; }
for t in a_scale_to_zero_and_back b_a_person_scaling_mid_run_is_drift_not_overwritten c_an_autoscaled_workload_is_refused \
	d_node_drain_honours_the_budget_and_uncordons e_node_cordon_and_taint_revert_exactly_their_change \
	f_operator_restart_mid_injection g_a_lost_fault_pod_is_reverted_by_the_operator \
	h_deleting_the_experiment_reverts_before_the_finalizer_lets_go \
	i_a_revert_that_cannot_succeed_holds_deletion_until_force_cleanup j_litmus_node_faults_import_round_trip \
	k_chaostoolkit_node_cordon_import_round_trip; do
	[ -z "${ONLY:-}" ] || [[ $t == *$ONLY* ]] || continue
	run_test "$t"
done
kubectl -n "$OPERATOR_NS" logs -l app.kubernetes.io/name=faultline --prefix --tail=-1 > "$OUT/operator.log" 2>&1 || true
summary revert
