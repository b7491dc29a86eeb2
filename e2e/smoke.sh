#!/usr/bin/env bash
# The cluster smoke tier: proves the local cluster does what the later tiers rely on.
# Each test gets its own namespace and removes it. Prints "N passed, N failed" last.
# Needs a running cluster (make smoke brings it up). SKIP_RESTART=1 leaves out the tests that stop it
# (failure modes, down/up).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cluster/config.sh"
export KUBECONFIG=$KUBECONFIG_ADMIN
export PATH=$KUBE_BIN_DIR:$PATH
OUT=${E2E_OUTPUT:-$REPO_ROOT/e2e/_output}/smoke
mkdir -p "$OUT"

source "$REPO_ROOT/e2e/lib.sh"

run_pod() { # run_pod NS NAME IMAGE SERVICEACCOUNT CMD...: runs a pod to completion, prints its log; fails if it failed
	local ns=$1 name=$2 image=$3 sa=$4; shift 4
	local args; args=$(printf '%s\n' "$@" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read().splitlines()))')
	kubectl -n "$ns" apply -f - >/dev/null <<-EOF
	apiVersion: v1
	kind: Pod
	metadata: {name: $name}
	spec:
	  serviceAccountName: $sa
	  restartPolicy: Never
	  securityContext: {runAsNonRoot: true, runAsUser: 65532, seccompProfile: {type: RuntimeDefault}}
	  containers:
	  - name: main
	    image: $image
	    imagePullPolicy: Never
	    command: $args
	    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
	EOF
	local phase="" deadline=$((SECONDS + 90))
	while [ $SECONDS -lt $deadline ]; do
		phase=$(kubectl -n "$ns" get pod "$name" -o jsonpath='{.status.phase}')
		case $phase in Succeeded | Failed) break ;; esac
		sleep 0.5
	done
	kubectl -n "$ns" logs "$name" 2>&1
	[ "$phase" = Succeeded ] || { kubectl -n "$ns" describe pod "$name" | tail -n 15; return 1; }
}

# ---------------------------------------------------------------- tests

test_node_ready() {
	kubectl get nodes -o wide
	kubectl wait --for=condition=Ready "node/$NODE_NAME" --timeout=60s
	local version; version=$(kubectl get node "$NODE_NAME" -o jsonpath='{.status.nodeInfo.kubeletVersion}')
	[ "$version" = "$K8S_VERSION" ] || fail "kubelet reports $version, expected $K8S_VERSION"
}

test_dns_resolves_kubernetes_default() {
	new_namespace smoke-dns; local ns=$NS
	# nslookup asks CoreDNS directly; wget resolves through libc with the pod's search path
	# (<ns>.svc.cluster.local, svc.cluster.local, ...) and prints the address it connected to.
	# The apiserver answers plain HTTP with 400, which is fine: the name resolved and connected.
	local out
	out=$(run_pod "$ns" dns "$DEMO_IMAGE" default sh -c \
		"nslookup kubernetes.default.svc.$CLUSTER_DOMAIN; timeout 10 wget -O /dev/null http://kubernetes.default:443/ 2>&1; exit 0") ||
		fail "the lookup pod failed: $out"
	echo "$out"
	echo "$out" | grep -A1 "Name:.*kubernetes.default.svc.$CLUSTER_DOMAIN" | grep "Address: $KUBERNETES_SVC_IP" >/dev/null ||
		fail "CoreDNS did not answer kubernetes.default.svc.$CLUSTER_DOMAIN with $KUBERNETES_SVC_IP"
	echo "$out" | grep -F "Connecting to kubernetes.default:443 ($KUBERNETES_SVC_IP:443)" >/dev/null ||
		fail "the short name kubernetes.default did not resolve to $KUBERNETES_SVC_IP through the search path"
}

test_demo_deployment_available() {
	new_namespace smoke-deploy; local ns=$NS
	apply_app "$ns" 3 demo
	kubectl -n "$ns" wait --for=condition=Available deployment/demo --timeout=90s || fail "deployment not Available"
	local ready; ready=$(kubectl -n "$ns" get deployment demo -o jsonpath='{.status.readyReplicas}')
	[ "$ready" = 3 ] || fail "readyReplicas is $ready, expected 3"
}

test_pod_reaches_service_by_dns_name() {
	new_namespace smoke-svc; local ns=$NS
	apply_app "$ns" 2 demo
	kubectl -n "$ns" wait --for=condition=Available deployment/demo --timeout=90s || fail "deployment not Available"
	local out
	out=$(run_pod "$ns" client "$DEMO_IMAGE" default timeout 10 wget -q -O - \
		"http://demo.$ns.svc.$CLUSTER_DOMAIN/health") || fail "wget by full name failed: $out"
	echo "$out"; [ "$out" = ok ] || fail "expected 'ok' from /health, got: $out"
	out=$(run_pod "$ns" short "$DEMO_IMAGE" default timeout 10 wget -q -O - http://demo/) || fail "wget by short name failed: $out"
	echo "$out" | grep 'faultline demo app' >/dev/null || fail "index page not served through the Service: $out"
}

test_serviceaccount_lists_pods() {
	new_namespace smoke-sa; local ns=$NS
	kubectl -n "$ns" create serviceaccount lister
	kubectl -n "$ns" create role pod-lister --verb=list --resource=pods
	kubectl -n "$ns" create rolebinding pod-lister --role=pod-lister --serviceaccount="$ns:lister"
	kubectl -n "$ns" create serviceaccount nobody
	local out
	out=$(run_pod "$ns" check "$FAULTLINE_IMAGE" lister /faultline check) || fail "faultline check failed: $out"
	echo "$out"
	echo "$out" | grep "api-server: $K8S_VERSION" >/dev/null || fail "server version missing"
	echo "$out" | grep "pods in namespace $ns:" >/dev/null || fail "did not list pods in its own namespace"
	echo "$out" | grep -x '  check' >/dev/null || fail "did not see its own pod in the list"
	# Without the Role the same call is refused: the token, not luck, grants access.
	out=$(run_pod "$ns" denied "$FAULTLINE_IMAGE" nobody /faultline check) && fail "listing without RBAC succeeded: $out"
	echo "$out"
	echo "$out" | grep 'forbidden' >/dev/null || fail "expected a forbidden error, got: $out"
	local code; code=$(kubectl -n "$ns" get pod denied -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode}')
	[ "$code" = 3 ] || fail "faultline check exited $code without permission, expected 3"
}

test_fake_nodes() {
	FAKE_NODES=2 "$CLUSTER_SRC/cluster.sh" up || fail "FAKE_NODES=2 cluster-up failed"
	kubectl get nodes -l type=kwok
	local ready; ready=$(kubectl get nodes -l type=kwok -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True)
	[ "$ready" = 2 ] || fail "expected 2 Ready kwok nodes, got $ready"
	local taint; taint=$(kubectl get node kwok-node-0 -o jsonpath='{.spec.taints[0].key}')
	[ "$taint" = faultline.dev/fake-node ] || fail "kwok nodes are not tainted (got '$taint')"
	new_namespace smoke-kwok; local ns=$NS
	# Only a pod that tolerates the taint lands there; kwok then reports it Running.
	kubectl -n "$ns" apply -f - <<-EOF
	apiVersion: v1
	kind: Pod
	metadata: {name: simulated}
	spec:
	  nodeSelector: {type: kwok}
	  tolerations: [{key: faultline.dev/fake-node, operator: Exists, effect: NoSchedule}]
	  containers: [{name: main, image: localhost/not-pulled:never, imagePullPolicy: Never}]
	EOF
	kubectl -n "$ns" wait --for=jsonpath='{.status.phase}'=Running pod/simulated --timeout=60s || fail "the simulated pod never ran"
	kubectl -n "$ns" run untolerated --image="$DEMO_IMAGE" --image-pull-policy=Never --restart=Never \
		--overrides='{"spec":{"nodeSelector":{"type":"kwok"}}}' --command -- sleep 1
	sleep 3
	local node; node=$(kubectl -n "$ns" get pod untolerated -o jsonpath='{.spec.nodeName}')
	[ -z "$node" ] || fail "a pod without the toleration was scheduled onto $node"
}

expect_failure() { # expect_failure MESSAGE CMD...: CMD must exit non-zero and print MESSAGE
	local message=$1 out; shift
	if out=$("$@" 2>&1); then fail "expected '$*' to fail; it printed: $out"; fi
	echo "$out" | tail -n 12
	grep -F -- "$message" <<< "$out" >/dev/null || fail "expected the message '$message' from '$*'"
}

test_failure_modes_have_clear_messages() {
	local up="$CLUSTER_SRC/cluster.sh up"
	"$CLUSTER_SRC/cluster.sh" down || fail "cluster-down failed"
	echo "-- not root"
	expect_failure "must be started as root" setpriv --reuid=65534 --regid=65534 --clear-groups $up
	echo "-- a missing kernel feature"
	local proc; proc=$(mktemp -d)
	grep -vw overlay /proc/filesystems > "$proc/filesystems"
	expect_failure "the kernel lacks overlayfs" env PROC_ROOT="$proc" $up
	cp /proc/filesystems "$proc/filesystems"
	expect_failure "the kernel lacks br_netfilter" env PROC_ROOT="$proc" $up
	rm -rf "$proc"
	echo "-- a port in use"
	python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1", '"$ETCD_PEER_PORT"')); s.listen(); time.sleep(60)' &
	local squatter=$!
	sleep 1
	expect_failure "port $ETCD_PEER_PORT, needed by etcd, is in use by \"python3\" (pid $squatter)" $up
	kill $squatter
	echo "-- a component that does not become ready"
	local out
	out=$(KUBE_APISERVER_EXTRA_ARGS=--no-such-flag $up 2>&1) && fail "cluster-up with a broken kube-apiserver succeeded"
	echo "$out" | tail -n 12
	for message in "error: kube-apiserver exited while starting" "last 40 lines of $LOG_DIR/kube-apiserver.log" \
		"unknown flag: --no-such-flag" "all component logs are in $LOG_DIR"; do
		grep -F -- "$message" <<< "$out" >/dev/null || fail "expected the message '$message'"
	done
	"$CLUSTER_SRC/cluster.sh" down || fail "cluster-down after a failed start failed or left something behind"
}

test_cluster_down_then_up() {
	"$CLUSTER_SRC/cluster.sh" down || fail "cluster-down failed or left something behind"
	"$CLUSTER_SRC/cluster.sh" status && fail "status reports healthy after cluster-down"
	"$CLUSTER_SRC/cluster.sh" up || fail "cluster-up after cluster-down failed"
	"$CLUSTER_SRC/cluster.sh" status || fail "status is not healthy after cluster-up"
	kubectl wait --for=condition=Ready "node/$NODE_NAME" --timeout=60s
	# A second up is a no-op.
	"$CLUSTER_SRC/cluster.sh" up || fail "a second cluster-up failed"
	test_dns_resolves_kubernetes_default
}

"$CLUSTER_SRC/cluster.sh" status >/dev/null || { echo "the cluster is not up: run make cluster-up" >&2; exit 1; }
tests=(node_ready dns_resolves_kubernetes_default demo_deployment_available pod_reaches_service_by_dns_name serviceaccount_lists_pods)
tests+=(fake_nodes)
[ "${SKIP_RESTART:-0}" = 1 ] || tests+=(failure_modes_have_clear_messages cluster_down_then_up)
for t in "${tests[@]}"; do run_test "$t"; done

summary smoke
