#!/usr/bin/env bash
# The network tier: pod-network-latency, -loss, -partition and pod-dns-error on the real node,
# each measured by its effect (the latency a request sees, requests that fail or get through, a
# lookup that fails and resolves again), and the fail-open promise: a fault process killed with
# SIGKILL lets traffic through at once, and its leftover rules are deleted by the backstop. At
# the end of every test the target's network namespace is inspected for Faultline's tables.
# Prints "N passed, N failed" last. Needs the cluster and the images.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cluster/config.sh"
export KUBECONFIG=$KUBECONFIG_ADMIN
export PATH=$KUBE_BIN_DIR:$(dirname "$HELM_BIN"):$PATH
OUT=${E2E_OUTPUT:-$REPO_ROOT/e2e/_output}/network
mkdir -p "$OUT"
source "$REPO_ROOT/e2e/lib.sh"

context() {
	kubectl -n "$NS" get pods,chaosresults -o wide
	kubectl -n "$OPERATOR_NS" get pods -o wide
	kubectl -n "$NS" get events --sort-by=.lastTimestamp | tail -n 15
}

pod_of() { kubectl -n "$1" get pods -l "app=$2" -o jsonpath='{.items[0].metadata.name}'; }
pod_ip() { kubectl -n "$1" get pods -l "app=$2" -o jsonpath='{.items[0].status.podIP}'; }

# faultline_tables NS APP: the nftables tables named faultline_* in the app pod's network
# namespace, read from the host through one of the pod's processes (never `ip netns`)
faultline_tables() {
	local uid pid
	uid=$(kubectl -n "$1" get pods -l "app=$2" -o jsonpath='{.items[0].metadata.uid}')
	pid=$(grep -l "pod$uid" /proc/[0-9]*/cgroup 2>/dev/null | head -n1 | cut -d/ -f3)
	[ -n "$pid" ] || { echo "no process of pod $uid" >&2; return 1; }
	nsenter --net="/proc/$pid/ns/net" nft list tables | grep -o 'faultline_[^ ]*' | sort -u || true
}

# request_ms URL [METRIC]: one GET from this host (the pod bridge is local), its curl METRIC in
# whole ms (default time_total); 9999 when it fails. time_connect is the TCP handshake: exactly
# one packet of the server's (the SYN-ACK) crosses an egress delay on the way.
request_ms() {
	local t; t=$(curl -s -o /dev/null -m 3 -w "%{${2:-time_total}}" "$1") || { echo 9999; return; }
	awk -v t="$t" 'BEGIN { printf "%d\n", t * 1000 }'
}

# median_ms URL N [METRIC]: the median of N requests
median_ms() {
	for _ in $(seq "$2"); do request_ms "$1" "${3:-}"; done | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

# A client pod from the demo image (busybox: wget, nslookup), restricted like any app.
client_pod() {
	kubectl -n "$1" apply -f - >/dev/null <<-EOF
	apiVersion: v1
	kind: Pod
	metadata: {name: client, labels: {app: client}}
	spec:
	  terminationGracePeriodSeconds: 1
	  securityContext: {runAsNonRoot: true, runAsUser: 65534, seccompProfile: {type: RuntimeDefault}}
	  containers:
	  - name: client
	    image: $DEMO_IMAGE
	    imagePullPolicy: Never
	    command: [/bin/busybox, sleep, "3600"]
	    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
	EOF
	kubectl -n "$1" wait --for=condition=Ready pod/client --timeout=60s >/dev/null || fail "client pod not Ready"
}

# from_client NS CMD...: runs a busybox command in the client pod
from_client() { local ns=$1; shift; kubectl -n "$ns" exec client -- /bin/busybox "$@"; }

# http_from_client NS IP: GET /health on IP:80 from the client pod, 2 s at most (busybox-static's wget
# crashes here, so nc speaks HTTP/1.0); succeeds on a 200
http_from_client() {
	from_client "$1" sh -c "printf 'GET /health HTTP/1.0\r\n\r\n' | /bin/busybox nc -w 2 $2 80" 2>/dev/null | head -n1 | grep -q ' 200 '
}

probe() { # probe NAME MODE URL [MAX_LATENCY]: an inline http probe entry
	echo "    - {name: $1, mode: $2, probe: {type: http, http: {url: \"$3\"${4:+, maxLatency: $4}}, runProperties: {timeout: 2s, interval: 1s}}}"
}

# latency_ms MESSAGE: the latency an http probe's message gives ("200 in 412ms" or "200 in 1.4s"), in ms
latency_ms() {
	grep -oE 'in [0-9.]+(ms|s)\b' <<< "$1" | head -n1 |
		awk '{ v = $2; if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%d\n", v } else { sub(/s$/, "", v); printf "%d\n", v * 1000 } }'
}

no_tables_left() { # no_tables_left NS APP
	local left; left=$(faultline_tables "$1" "$2") || fail "cannot inspect the network namespace of $2"
	[ -z "$left" ] || fail "Faultline tables left in $2's network namespace: $left"
	echo "the network namespace of $2 holds no Faultline table"
}

# ---------------------------------------------------------------- tests

test_a_latency_fails_a_max_latency_probe_during_the_fault_only() {
	new_namespace e2e-latency opt-in; local ns=$NS
	deploy_app "$ns" 1
	local url="http://$(pod_ip "$ns" web):8080/health" svc="http://web.$ns.svc.cluster.local/health"
	local before; before=$(median_ms "$url" 9 time_connect)
	experiment "$ns" slow "  faults:
  - name: slow
    type: pod-network-latency
    duration: 20s
    target: {kind: Deployment, name: web}
    networkLatency: {latency: 200ms}
    probes:
$(probe fast OnChaos "$svc" 150ms)
$(probe fast-after EOT "$svc" 150ms)" || fail "experiment rejected"
	wait_running "$ns" slow-1
	wait_for "the table in place" 30 "faultline_tables $ns web | grep -q faultline_"
	local during; during=$(median_ms "$url" 9 time_connect)
	local added=$((during - before))
	echo "TCP handshake with web from the host: median ${before} ms before, ${during} ms during: added ${added} ms for 200 ms requested"
	[ $added -ge 150 ] && [ $added -le 250 ] || fail "added latency ${added} ms, expected 200 ms ± 20% + 10 ms"
	local phase; phase=$(wait_result "$ns" slow-1 90) || fail "$phase"
	show "$ns" slow-1
	# The app is not resilient to 200 ms: the OnChaos probe fails, so the run completes with an error.
	[ "$phase" = CompletedWithError ] || fail "phase $phase, expected CompletedWithError"
	local verdicts; verdicts=$(field "$ns" chaosresult slow-1 '{range .status.faults[0].probes[*]}{.name}={.verdict} {end}')
	echo "probe verdicts: $verdicts"
	[[ $verdicts == *"fast=Failed"* ]] || fail "the OnChaos probe did not fail during the fault"
	[[ $verdicts == *"fast-after=Passed"* ]] || fail "the EOT probe did not pass after the fault"
	# The run's record of the probe's failures (its ProbeFailed Events) gives the latency it saw. The
	# probe opens a fresh connection: two of web's packets (SYN-ACK, response) cross the delay.
	local message; message=$(kubectl -n "$ns" get events --field-selector reason=ProbeFailed -o jsonpath='{.items[0].message}')
	echo "the run's record: $message"
	local first; first=$(latency_ms "$message")
	[ -n "$first" ] || fail "the probe's failure does not give the latency it saw"
	# One check can include a TCP retransmission on a busy node (a SYN retried after its 1 s timeout: CI
	# once saw 1.4 s), and the first can straddle the injection (the ledger entry that starts OnChaos
	# sampling is written before the rules: CI once saw 216 ms, one crossing, then 402 ms), so the delay
	# is judged on either the first failure or the last check.
	local last_message last=""; last_message=$(field "$ns" chaosresult slow-1 '{.status.faults[0].probes[?(@.name=="fast")].lastMessage}')
	[[ $last_message == *"slower than maxLatency"* ]] && last=$(latency_ms "$last_message")
	echo "the probe saw ${first} ms at its first failure, ${last:-?} ms at its last check: two crossings of 200 ms"
	local seen ok=""
	for seen in $first $last; do [ "$seen" -ge 310 ] && [ "$seen" -le 550 ] && ok=$seen; done
	[ -n "$ok" ] || fail "the probe saw ${first} ms and ${last:-?} ms, expected 400 ms ± 20% + 10 ms (plus its own time)"
	[ "$(field "$ns" chaosresult slow-1 '{.status.faults[0].targets[0].state}')" = Reverted ] || fail "the ledger entry is not Reverted"
	# faultline logs finds the fault pod in Faultline's namespace through its labels.
	"$(faultline_bin)" logs slow-1 -n "$ns" > "$OUT/a-logs.txt" 2>&1 || fail "faultline logs failed: $(tail -3 "$OUT/a-logs.txt")"
	grep -E "pod/slow-1-slow-[0-9a-f]{8} " "$OUT/a-logs.txt" | grep -F injected >/dev/null || fail "faultline logs shows no line of the fault pod"
	local after; after=$(median_ms "$url" 9 time_connect)
	echo "after the fault: median ${after} ms"
	[ "$after" -le $((before + 50)) ] || fail "latency after the fault is ${after} ms"
	no_tables_left "$ns" web
}

test_b_loss_fails_requests_during_the_fault_only() {
	new_namespace e2e-loss opt-in; local ns=$NS
	deploy_app "$ns" 1
	local svc="http://web.$ns.svc.cluster.local/health"
	experiment "$ns" lossy "  faults:
  - name: lossy
    type: pod-network-loss
    duration: 15s
    target: {kind: Deployment, name: web}
    networkLoss: {percent: 100, ports: [8080], protocol: tcp}
    probes:
$(probe up OnChaos "$svc")
$(probe up-after EOT "$svc")" || fail "experiment rejected"
	local phase; phase=$(wait_result "$ns" lossy-1 90) || fail "$phase"
	show "$ns" lossy-1
	local verdicts; verdicts=$(field "$ns" chaosresult lossy-1 '{range .status.faults[0].probes[*]}{.name}={.verdict} {end}')
	echo "probe verdicts: $verdicts"
	[ "$phase" = CompletedWithError ] || fail "phase $phase, expected CompletedWithError"
	[[ $verdicts == *"up=Failed"* ]] || fail "the OnChaos probe did not fail under 100% loss"
	[[ $verdicts == *"up-after=Passed"* ]] || fail "the EOT probe did not pass after the fault"
	no_tables_left "$ns" web
	# 30%: each TCP connect from this host needs web's SYN-ACK, which crosses the loss once (a lost one is
	# resent after 1 s, past the 0.5 s connect timeout), so the failed share of connects is the loss ratio.
	local url="http://$(pod_ip "$ns" web):8080/health"
	experiment "$ns" some "  faults:
  - name: some
    type: pod-network-loss
    duration: 25s
    target: {kind: Deployment, name: web}
    networkLoss: {percent: 30}
    probes:
$(probe up-after EOT "$svc")" || fail "experiment rejected"
	wait_running "$ns" some-1
	wait_for "the table in place" 30 "faultline_tables $ns web | grep -q faultline_"
	local failed; failed=$(seq 240 | xargs -P 8 -I{} curl -s -o /dev/null --connect-timeout 0.5 -m 2 -w '%{time_connect}\n' "$url" |
		awk '$1 == 0 { n++ } END { print n + 0 }')
	local percent=$((failed * 100 / 240))
	echo "30% loss: $failed of 240 connects failed (${percent}%)"
	[ $percent -ge 20 ] && [ $percent -le 40 ] || fail "measured ${percent}% loss, expected 30 ± 10"
	phase=$(wait_result "$ns" some-1 90) || fail "$phase"
	no_tables_left "$ns" web
}

test_c_partition_cuts_the_named_service_only() {
	new_namespace e2e-partition opt-in; local ns=$NS
	deploy_app "$ns" 1
	deploy_app "$ns" 1 api
	client_pod "$ns"
	local web api
	web=$(field "$ns" service web '{.spec.clusterIP}') api=$(field "$ns" service api '{.spec.clusterIP}')
	# A new Service answers once kube-proxy has written its rules, which can lag the Deployment's
	# Available by seconds on a busy node; both must answer before the fault for the checks to mean anything.
	wait_for "the client reaching web before the fault" 30 "http_from_client $ns $web"
	wait_for "the client reaching api before the fault" 30 "http_from_client $ns $api"
	experiment "$ns" cut "  faults:
  - name: cut
    type: pod-network-partition
    duration: 20s
    target: {kind: Pod, name: client}
    networkPartition: {services: [web]}
    probes:
$(probe web-up EOT "http://web.$ns.svc.cluster.local/health")" || fail "experiment rejected"
	wait_running "$ns" cut-1
	wait_for "the table in place" 30 "faultline_tables $ns client | grep -q faultline_"
	if http_from_client "$ns" "$web"; then fail "client reached web during the partition"; fi
	http_from_client "$ns" "$api" || fail "client could not reach api, which is not named"
	echo "during: web unreachable, api reachable"
	local phase; phase=$(wait_result "$ns" cut-1 90) || fail "$phase"
	[ "$phase" = Completed ] || { show "$ns" cut-1; fail "phase $phase"; }
	# CI once saw the first request after the run's end time out (2 s) and the cause is not known yet:
	# the test records how long web takes to answer again and fails past 10 s.
	local reverted=$SECONDS
	wait_for "the client reaching web after the fault" 10 "http_from_client $ns $web"
	echo "web answered the client $((SECONDS - reverted)) s after the run completed"
	no_tables_left "$ns" client
}

test_d_dns_lookups_fail_during_the_fault_and_resolve_after() {
	new_namespace e2e-dns opt-in; local ns=$NS
	deploy_app "$ns" 1
	deploy_app "$ns" 1 api
	client_pod "$ns"
	# Full names: busybox's nslookup does not walk the search path.
	local web=web.$ns.svc.cluster.local api=api.$ns.svc.cluster.local
	from_client "$ns" nslookup "$web" >/dev/null || fail "web does not resolve before the fault"
	experiment "$ns" dns "  faults:
  - name: dns
    type: pod-dns-error
    duration: 20s
    target: {kind: Pod, name: client}
    dnsError: {pattern: 'web.*'}
    probes:
$(probe web-up EOT "http://web.$ns.svc.cluster.local/health")" || fail "experiment rejected"
	wait_running "$ns" dns-1
	wait_for "the table in place" 30 "faultline_tables $ns client | grep -q faultline_"
	local started=$SECONDS
	if from_client "$ns" nslookup "$web"; then fail "web resolved during the fault"; fi
	echo "the failed lookup took $((SECONDS - started)) s"
	[ $((SECONDS - started)) -le 3 ] || fail "the lookup took $((SECONDS - started)) s: a refusal should fail it at once"
	from_client "$ns" nslookup "$api" >/dev/null || fail "api (not matching the pattern) did not resolve"
	local phase; phase=$(wait_result "$ns" dns-1 90) || fail "$phase"
	[ "$phase" = Completed ] || { show "$ns" dns-1; fail "phase $phase"; }
	from_client "$ns" nslookup "$web" >/dev/null || fail "web does not resolve after the fault"
	no_tables_left "$ns" client
}

test_e_a_killed_fault_process_fails_open_and_the_backstop_deletes_its_rules() {
	new_namespace e2e-failopen opt-in; local ns=$NS
	deploy_app "$ns" 1
	local url="http://$(pod_ip "$ns" web):8080/health"
	experiment "$ns" killed "  faults:
  - name: slow
    type: pod-network-latency
    duration: 60s
    target: {kind: Deployment, name: web}
    networkLatency: {latency: 300ms}" || fail "experiment rejected"
	wait_running "$ns" killed-1
	wait_for "the table in place" 30 "faultline_tables $ns web | grep -q faultline_"
	wait_for "the delay in effect" 30 "test \$(request_ms $url time_connect) -ge 300"
	local pod; pod=$(kubectl -n "$OPERATOR_NS" get pods -l "chaos.faultline.dev/result=killed-1" -o jsonpath='{.items[0].metadata.name}')
	local pids; pids=$(pgrep -f -- "--result=killed-1 --fault=slow") || fail "no fault process"
	kill -9 $pids
	local killed; killed=$(date +%s%N)
	until [ "$(request_ms "$url" time_connect)" -lt 100 ]; do
		[ $(( ($(date +%s%N) - killed) / 1000000 )) -lt 5000 ] || fail "traffic still delayed 5 s after the kill"
	done
	local normal_ms=$(( ($(date +%s%N) - killed) / 1000000 ))
	kubectl -n "$OPERATOR_NS" delete pod "$pod" --grace-period=0 --force >/dev/null 2>&1
	echo "traffic normal ${normal_ms} ms after SIGKILL (fail-open through the queue's bypass)"
	[ $normal_ms -le 1000 ] || fail "traffic normal only after ${normal_ms} ms, expected within 1 s"
	echo "left in the namespace right after the kill: $(faultline_tables "$ns" web)"
	local started=$SECONDS
	wait_for "the backstop deleting the rules" 60 '[ -z "$(faultline_tables '"$ns"' web)" ]'
	echo "the backstop deleted the leftover table $((SECONDS - started)) s after the kill"
	wait_for "the ledger entry settled" 60 "kubectl -n $ns get chaosresult killed-1 -o jsonpath='{.status.faults[0].targets[0].revertedBy}' | grep -q operator"
	local phase; phase=$(wait_result "$ns" killed-1 120) || fail "$phase"
	show "$ns" killed-1
	no_tables_left "$ns" web
}

test_f_an_operator_killed_mid_fault_still_ends_reverted() {
	new_namespace e2e-netop opt-in; local ns=$NS
	deploy_app "$ns" 1
	experiment "$ns" opkill "  faults:
  - name: slow
    type: pod-network-latency
    duration: 15s
    target: {kind: Deployment, name: web}
    networkLatency: {latency: 100ms}
    probes:
$(probe up EOT "http://web.$ns.svc.cluster.local/health")" || fail "experiment rejected"
	wait_running "$ns" opkill-1
	wait_for "the table in place" 30 "faultline_tables $ns web | grep -q faultline_"
	kubectl -n "$OPERATOR_NS" delete pod -l app.kubernetes.io/component=operator --wait=false >/dev/null
	local phase; phase=$(wait_result "$ns" opkill-1 150) || fail "$phase"
	show "$ns" opkill-1
	[ "$phase" = Completed ] || fail "phase $phase, expected Completed"
	[ "$(field "$ns" chaosresult opkill-1 '{.status.faults[0].targets[0].state}')" = Reverted ] || fail "ledger not Reverted"
	no_tables_left "$ns" web
	kubectl -n "$OPERATOR_NS" rollout status deployment -l app.kubernetes.io/component=operator --timeout=60s >/dev/null
	wait_leader 60 || fail "no leader after the restart"
}

test_g_host_network_and_a_second_fault_on_the_same_pod_are_refused() {
	new_namespace e2e-netrefuse opt-in; local ns=$NS
	deploy_app "$ns" 1
	kubectl -n "$ns" run hostnet --image="$DEMO_IMAGE" --image-pull-policy=Never --labels=app=hostnet \
		--overrides='{"spec":{"hostNetwork":true}}' --command -- /bin/busybox sleep 3600 >/dev/null
	kubectl -n "$ns" wait --for=condition=Ready pod/hostnet --timeout=60s >/dev/null || fail "hostnet pod not Ready"
	experiment "$ns" first "  faults:
  - name: slow
    type: pod-network-latency
    duration: 30s
    target: {kind: Deployment, name: web}
    networkLatency: {latency: 50ms}" || fail "experiment rejected"
	wait_running "$ns" first-1
	wait_for "the first fault's table" 30 "faultline_tables $ns web | grep -q faultline_"
	experiment "$ns" second "  parallel: true
  faults:
  - name: lossy
    type: pod-network-loss
    duration: 10s
    target: {kind: Deployment, name: web}
    networkLoss: {percent: 50}
  - name: node
    type: pod-network-latency
    duration: 10s
    target: {kind: Pod, name: hostnet}
    networkLatency: {latency: 50ms}" || fail "experiment rejected"
	local phase; phase=$(wait_result "$ns" second-1 90) || fail "$phase"
	show "$ns" second-1
	field "$ns" chaosresult second-1 '{.status.faults[?(@.name=="lossy")].message}' | grep -F "result $ns/first-1, fault slow" >/dev/null ||
		fail "the second fault on the pod does not name the first"
	field "$ns" chaosresult second-1 '{.status.faults[?(@.name=="node")].message}' | grep -F "hostNetwork" >/dev/null ||
		fail "the hostNetwork target was not refused as such"
	local tables; tables=$(faultline_tables "$ns" web)
	[ "$tables" = "faultline_${ns}_first-1_slow" ] || fail "the pod's tables changed: '$tables'"
	phase=$(wait_result "$ns" first-1 90) || fail "$phase"
	no_tables_left "$ns" web
	# A partition reads its peers' addresses: a peer namespace must opt in as a target does.
	experiment "$ns" closed "  faults:
  - name: cut
    type: pod-network-partition
    duration: 5s
    target: {kind: Deployment, name: web}
    networkPartition: {namespaces: [kube-system]}" || fail "experiment rejected"
	phase=$(wait_result "$ns" closed-1 60) || fail "$phase"
	[ "$phase" = Error ] || fail "phase $phase with a peer namespace that did not opt in"
	field "$ns" chaosresult closed-1 '{.status.message}' | grep -F "namespace kube-system is not a chaos target" >/dev/null ||
		fail "the refusal does not name the peer namespace: $(field "$ns" chaosresult closed-1 '{.status.message}')"
	[ -z "$(kubectl -n kube-system get rolebindings -o name | grep faultline-fault)" ] || fail "a RoleBinding was created in kube-system"
}

test_h_a_restarted_target_keeps_its_rules_and_a_deleted_one_counts_as_reverted() {
	new_namespace e2e-netlife opt-in; local ns=$NS
	deploy_app "$ns" 2
	experiment "$ns" life "  faults:
  - name: slow
    type: pod-network-latency
    duration: 25s
    target: {kind: Deployment, name: web, mode: all}
    networkLatency: {latency: 200ms}
    probes:
$(probe up EOT "http://web.$ns.svc.cluster.local/health")" || fail "experiment rejected"
	wait_running "$ns" life-1
	wait_for "both pods shaped" 30 "test \$(kubectl -n $ns get chaosresult life-1 -o jsonpath='{.status.faults[0].targets[*].state}' | grep -o Injected | wc -l) = 2"
	local restarted gone; read -r restarted gone <<< "$(kubectl -n "$ns" get pods -l app=web -o jsonpath='{.items[*].metadata.name}')"
	# The container's process dies (SIGKILL from the node): the kubelet restarts it in the same sandbox.
	local uid pid; uid=$(field "$ns" pod "$restarted" '{.metadata.uid}')
	pid=$(grep -l "pod$uid" /proc/[0-9]*/cgroup | cut -d/ -f3 | while read -r p; do
		[ "$(cat /proc/$p/comm 2>/dev/null)" = busybox ] && echo "$p"; done | head -n1)
	[ -n "$pid" ] || fail "no process of the web container in $restarted"
	kill -9 "$pid"
	kubectl -n "$ns" delete pod "$gone" --wait=false >/dev/null
	wait_for "the container restarted" 60 "test \$(kubectl -n $ns get pod $restarted -o jsonpath='{.status.containerStatuses[0].restartCount}') -ge 1"
	kubectl -n "$ns" wait --for=condition=Ready "pod/$restarted" --timeout=60s >/dev/null || fail "$restarted not Ready after its restart"
	local ms; ms=$(request_ms "http://$(field "$ns" pod "$restarted" '{.status.podIP}'):8080/health" time_connect)
	echo "after the restart, a handshake with $restarted took $ms ms (200 ms injected): the rules stayed"
	[ "$ms" -ge 150 ] || fail "the restarted pod is no longer delayed (${ms} ms)"
	local phase; phase=$(wait_result "$ns" life-1 90) || fail "$phase"
	show "$ns" life-1
	local states; states=$(kubectl -n "$ns" get chaosresult life-1 -o jsonpath='{range .status.faults[0].targets[*]}{.name}={.state} {end}')
	echo "ledger: $states"
	[[ $states == *"$restarted=Reverted"* ]] || fail "the restarted pod's entry is not Reverted"
	[[ $states == *"$gone=TargetGone"* ]] || fail "the deleted pod's entry is not TargetGone"
	local tables; tables=$(nsenter --net="/proc/$(grep -l "pod$uid" /proc/[0-9]*/cgroup | head -n1 | cut -d/ -f3)/ns/net" nft list tables | grep -c faultline_)
	[ "$tables" = 0 ] || fail "Faultline tables left in $restarted"
}

"$CLUSTER_SRC/cluster.sh" status >/dev/null || { echo "the cluster is not up: run make cluster-up" >&2; exit 1; }
install_operator || { echo "network: 0 passed, 1 failed"; exit 1; }
for t in a_latency_fails_a_max_latency_probe_during_the_fault_only b_loss_fails_requests_during_the_fault_only \
	c_partition_cuts_the_named_service_only d_dns_lookups_fail_during_the_fault_and_resolve_after \
	e_a_killed_fault_process_fails_open_and_the_backstop_deletes_its_rules \
	f_an_operator_killed_mid_fault_still_ends_reverted \
	g_host_network_and_a_second_fault_on_the_same_pod_are_refused \
	h_a_restarted_target_keeps_its_rules_and_a_deleted_one_counts_as_reverted; do
	[ -z "${ONLY:-}" ] || [[ $t == *$ONLY* ]] || continue
	run_test "$t"
done
kubectl -n "$OPERATOR_NS" logs -l app.kubernetes.io/component=operator --prefix --tail=-1 > "$OUT/operator.log" 2>&1 || true
summary network
