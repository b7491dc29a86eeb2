#!/usr/bin/env bash
# The container and resource tier: container-kill on the real node, measured by its effect (the
# container's restartCount, the pod's UID, the outage a Continuous probe records), and its clear
# refusals. Prints "N passed, N failed" last. Needs the cluster and the images.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cluster/config.sh"
export KUBECONFIG=$KUBECONFIG_ADMIN
export PATH=$KUBE_BIN_DIR:$(dirname "$HELM_BIN"):$PATH
OUT=${E2E_OUTPUT:-$REPO_ROOT/e2e/_output}/resources
mkdir -p "$OUT"
source "$REPO_ROOT/e2e/lib.sh"

pod_of() { kubectl -n "$1" get pods -l "app=$2" -o jsonpath='{.items[0].metadata.name}'; }

# ---------------------------------------------------------------- tests

test_a_container_kill_restarts_the_container_in_the_same_pod() {
	new_namespace e2e-kill opt-in; local ns=$NS
	deploy_app "$ns" 1
	local pod uid restarts
	pod=$(pod_of "$ns" web)
	uid=$(field "$ns" pod "$pod" '{.metadata.uid}')
	restarts=$(field "$ns" pod "$pod" '{.status.containerStatuses[0].restartCount}')
	experiment "$ns" kill "  faults:
  - name: kill
    type: container-kill
    duration: 8s
    interval: 30s
    target: {kind: Deployment, name: web}
    containerKill: {container: web}
    probes:
    - {name: up, mode: Continuous, probe: {type: http, http: {url: \"http://web.$ns.svc.cluster.local/health\"}, runProperties: {timeout: 1s, interval: 500ms}}}" ||
		fail "experiment rejected"
	local phase; phase=$(wait_result "$ns" kill-1 120) || fail "$phase"
	show "$ns" kill-1
	local after now_uid; after=$(field "$ns" pod "$pod" '{.status.containerStatuses[0].restartCount}')
	now_uid=$(field "$ns" pod "$pod" '{.metadata.uid}')
	echo "restartCount $restarts -> $after; pod UID $uid -> $now_uid"
	[ "$after" = $((restarts + 1)) ] || fail "restartCount $restarts -> $after, expected one more"
	[ "$now_uid" = "$uid" ] || fail "the pod was replaced (UID $uid -> $now_uid)"
	local failed; failed=$(field "$ns" chaosresult kill-1 '{.status.faults[0].probes[0].failed}')
	echo "the Continuous probe failed $failed times during the outage"
	[ "${failed:-0}" -ge 1 ] || fail "the Continuous probe saw no outage"
	[ "$phase" = CompletedWithError ] || fail "phase $phase, expected CompletedWithError (the 1-replica app is down while its container restarts)"
	local check; check=$(field "$ns" chaosresult kill-1 '{.status.faults[0].targets[?(@.kind=="Container")].message}')
	echo "the fault's check: $check"
	[[ $check == *"restarted: restartCount $restarts -> $after"* ]] || fail "the ledger does not record the restart"
}

test_b_a_missing_container_and_a_protected_namespace_are_clear_errors() {
	new_namespace e2e-nokill opt-in; local ns=$NS
	deploy_app "$ns" 1
	local pod restarts; pod=$(pod_of "$ns" web)
	experiment "$ns" nope "  faults:
  - name: kill
    type: container-kill
    duration: 5s
    target: {kind: Deployment, name: web}
    containerKill: {container: sidecar}" || fail "experiment rejected"
	local phase; phase=$(wait_result "$ns" nope-1 90) || fail "$phase"
	local message; message=$(field "$ns" chaosresult nope-1 '{.status.faults[0].message}')
	echo "phase $phase: $message"
	[ "$phase" = Error ] || fail "phase $phase, expected Error"
	[[ $message == *'has no container named "sidecar"; its containers: web'* ]] || fail "the message does not say what to fix"
	restarts=$(field "$ns" pod "$pod" '{.status.containerStatuses[0].restartCount}')
	[ "$restarts" = 0 ] || fail "the container was restarted $restarts times"
	# kube-system opted in as a target still refuses a fault on its containers' processes.
	trap "kubectl label namespace kube-system chaos.faultline.dev/allow- >/dev/null 2>&1
		kubectl annotate namespace kube-system chaos.faultline.dev/allow-from- >/dev/null 2>&1
		kubectl delete namespace $ns --wait=false >/dev/null 2>&1" EXIT
	kubectl label namespace kube-system chaos.faultline.dev/allow=true >/dev/null
	kubectl annotate namespace kube-system chaos.faultline.dev/allow-from="$ns" >/dev/null
	local dns; dns=$(kubectl -n kube-system get pods -l k8s-app=kube-dns -o jsonpath='{.items[0].status.containerStatuses[0].restartCount}')
	experiment "$ns" system "  faults:
  - name: kill-dns
    type: container-kill
    duration: 5s
    target: {kind: Deployment, name: coredns, namespace: kube-system}" || fail "experiment rejected"
	phase=$(wait_result "$ns" system-1 60) || fail "$phase"
	message=$(field "$ns" chaosresult system-1 '{.status.message}')
	echo "kube-system: phase $phase: $message"
	[ "$phase" = Error ] || fail "phase $phase for a fault on kube-system, expected Error"
	[[ $message == *"kube-system is protected"*"chaos.faultline.dev/allow-protected=true"* ]] || fail "the refusal does not say how to allow it"
	[ "$(kubectl -n kube-system get pods -l k8s-app=kube-dns -o jsonpath='{.items[0].status.containerStatuses[0].restartCount}')" = "$dns" ] ||
		fail "CoreDNS was restarted"
}

"$CLUSTER_SRC/cluster.sh" status >/dev/null || { echo "the cluster is not up: run make cluster-up" >&2; exit 1; }
install_operator || { echo "resources: 0 passed, 1 failed"; exit 1; }
for t in a_container_kill_restarts_the_container_in_the_same_pod b_a_missing_container_and_a_protected_namespace_are_clear_errors; do
	[ -z "${ONLY:-}" ] || [[ $t == *$ONLY* ]] || continue
	run_test "$t"
done
kubectl -n "$OPERATOR_NS" logs -l app.kubernetes.io/component=operator --tail=-1 > "$OUT/operator.log" 2>&1 || true
summary resources
