#!/usr/bin/env bash
# The container and resource tier: container-kill, pod-cpu-hog, pod-memory-hog and pod-io-stress
# on the real node, each measured by its effect (the container's restartCount and the outage a
# probe records; the CPU, memory and I/O the target container's own cgroup accounts), their clear
# refusals, and the fail-safe: a hog whose fault pod is force-deleted is gone from the target's
# cgroup at once, and pod-io-stress's files are removed even then.
# Prints "N passed, N failed" last. Needs the cluster and the images.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cluster/config.sh"
export KUBECONFIG=$KUBECONFIG_ADMIN
export PATH=$KUBE_BIN_DIR:$(dirname "$HELM_BIN"):$PATH
OUT=${E2E_OUTPUT:-$REPO_ROOT/e2e/_output}/resources
mkdir -p "$OUT"
source "$REPO_ROOT/e2e/lib.sh"

pod_of() { kubectl -n "$1" get pods -l "app=$2" -o jsonpath='{.items[0].metadata.name}'; }

# cgroup_dir NS POD CONTROLLER: the pod's first container's cgroup directory in that v1 hierarchy
# (cpuacct, memory), read from the host through one of the container's processes
cgroup_dir() {
	local cid pid path
	cid=$(field "$1" pod "$2" '{.status.containerStatuses[0].containerID}'); cid=${cid#*://}
	pid=$(grep -l "$cid" /proc/[0-9]*/cgroup 2>/dev/null | head -n1 | cut -d/ -f3)
	[ -n "$pid" ] || { echo "no process of container $cid" >&2; return 1; }
	# The v1 hierarchy that carries the controller (cpuacct alone, or cpu,cpuacct), else the v2 one.
	local line; line=$(awk -F: -v c="$3" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) { print $2 ":" $3; exit } }' "/proc/$pid/cgroup")
	if [ -n "$line" ]; then echo "/sys/fs/cgroup/${line%%:*}${line#*:}"; else echo "/sys/fs/cgroup$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup")"; fi
}

# cores DIR SECONDS: the CPU the cgroup DIR used over the next SECONDS, in cores (3 decimals)
cores() {
	local file=$1/cpuacct.usage a b
	[ -f "$file" ] || file=$1/cpu.stat
	a=$(cpu_ns "$file"); sleep "$2"; b=$(cpu_ns "$file")
	awk -v a="$a" -v b="$b" -v s="$2" 'BEGIN { printf "%.3f\n", (b - a) / s / 1e9 }'
}
cpu_ns() { case $1 in *cpu.stat) awk '$1 == "usage_usec" { print $2 * 1000 }' "$1" ;; *) cat "$1" ;; esac; }

# memory_mib DIR: the memory the cgroup DIR is charged now, in MiB
memory_mib() {
	local file=$1/memory.usage_in_bytes
	[ -f "$file" ] || file=$1/memory.current
	echo $(($(cat "$file") >> 20))
}

# hogs_in DIR: how many faultline-hog processes the cgroup DIR holds
hogs_in() {
	local n=0 p
	for p in $(cat "$1/cgroup.procs"); do
		tr '\0' ' ' 2>/dev/null < "/proc/$p/cmdline" | grep -q '^faultline-hog ' && n=$((n + 1))
	done
	echo $n
}

up_probe() { # up_probe NS: an EOT http probe of the web Service (a fault needs a probe to be judged)
	echo "    - {name: up, mode: EOT, probe: {type: http, http: {url: \"http://web.$1.svc.cluster.local/health\"}}}"
}

at_least() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; } # at_least A B: A >= B (decimals)

wait_state() { # wait_state NS RESULT STATE SECONDS: until the first ledger entry has STATE
	local deadline=$((SECONDS + $4))
	until [ "$(field "$1" chaosresult "$2" '{.status.faults[0].targets[0].state}' 2>/dev/null)" = "$3" ]; do
		[ $SECONDS -lt $deadline ] || { show "$1" "$2"; fail "the ledger never reached $3"; }
		sleep 0.5
	done
}

# io_mib DIR SECONDS: the MiB the blkio cgroup DIR read and wrote over the next SECONDS. A v1
# blkio cgroup counts I/O only for a device it has a throttle rule for: io_accounting sets one far
# above any disk's speed, which limits nothing.
io_mib() {
	local a b
	a=$(io_bytes "$1"); sleep "$2"; b=$(io_bytes "$1")
	echo $(((b - a) >> 20))
}
io_bytes() {
	if [ -f "$1/io.stat" ]; then
		tr ' ' '\n' < "$1/io.stat" | awk -F= '$1 == "rbytes" || $1 == "wbytes" { n += $2 } END { printf "%.0f\n", n }'
	else
		awk '$2 == "Read" || $2 == "Write" { n += $3 } END { printf "%.0f\n", n }' "$1/blkio.throttle.io_service_bytes"
	fi
}
io_accounting() { # io_accounting DIR DEVICE: a no-op throttle rule for DEVICE (major:minor)
	[ -f "$1/blkio.throttle.read_bps_device" ] || return 0
	echo "$2 1099511627776" > "$1/blkio.throttle.read_bps_device"
	echo "$2 1099511627776" > "$1/blkio.throttle.write_bps_device"
}

# held_file DIR NAME: "<target> <size> bytes" for each open file named NAME held by a process of
# cgroup DIR (the target of an unlinked file ends in " (deleted)")
held_file() {
	local p fd target
	for p in $(cat "$1/cgroup.procs"); do
		for fd in /proc/"$p"/fd/*; do
			target=$(readlink "$fd" 2>/dev/null) || continue
			[[ $target == *"/$2"* ]] && echo "$target $(stat -L -c %s "$fd" 2>/dev/null) bytes"
		done
	done
	return 0
}

# scratch_app NS: the demo app with an emptyDir volume at /scratch (its root filesystem is read-only)
scratch_app() {
	apply_app "$1" 1
	kubectl -n "$1" patch deployment web --type=json -p '[
		{"op": "add", "path": "/spec/template/spec/volumes", "value": [{"name": "scratch", "emptyDir": {}}]},
		{"op": "add", "path": "/spec/template/spec/containers/0/volumeMounts", "value": [{"name": "scratch", "mountPath": "/scratch"}]}]' >/dev/null
	kubectl -n "$1" rollout status deployment/web --timeout=90s >/dev/null || fail "the app with /scratch is not ready"
	# The pod without the volume is still terminating: wait until it is gone.
	local deadline=$((SECONDS + 60))
	until [ "$(kubectl -n "$1" get pods -l app=web -o name | wc -l)" = 1 ]; do
		[ $SECONDS -lt $deadline ] || fail "the app's old pod did not go"
		sleep 0.5
	done
}

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

test_c_cpu_hog_burns_a_core_in_the_targets_cgroup_and_stops() {
	new_namespace e2e-cpu opt-in; local ns=$NS
	deploy_app "$ns" 1
	local pod dir; pod=$(pod_of "$ns" web); dir=$(cgroup_dir "$ns" "$pod" cpuacct) || fail "no cgroup"
	local before; before=$(cores "$dir" 3)
	experiment "$ns" burn "  faults:
  - name: burn
    type: pod-cpu-hog
    duration: 20s
    target: {kind: Deployment, name: web}
    cpuHog: {cores: \"1\"}
    probes:
$(up_probe "$ns")" || fail "experiment rejected"
	wait_state "$ns" burn-1 Injected 60
	# The hog is in the fault process's own PID namespace (two PIDs: the node's and the fault's).
	local hog; hog=$(for p in $(cat "$dir/cgroup.procs"); do tr '\0' ' ' < "/proc/$p/cmdline" | grep -q '^faultline-hog ' && echo "$p"; done)
	[ -n "$hog" ] || fail "no hog in the target's cgroup"
	local nspid; nspid=$(awk '$1 == "NSpid:" { print NF - 1 }' "/proc/$hog/status")
	echo "hog $hog: NSpid $(awk '$1 == "NSpid:" { $1 = ""; print }' "/proc/$hog/status")"
	[ "$nspid" -ge 2 ] || fail "the hog is not in a PID namespace of its own (NSpid has $nspid entries)"
	local during; during=$(cores "$dir" 10)
	echo "the target container's cgroup used $before cores before, $during during (1 requested)"
	at_least "$during" 0.8 || fail "$during cores during the fault, expected at least 0.8"
	local phase; phase=$(wait_result "$ns" burn-1 90) || fail "$phase"
	show "$ns" burn-1
	[ "$phase" = Completed ] || fail "phase $phase"
	[ "$(hogs_in "$dir")" = 0 ] || fail "a hog is left in the cgroup"
	local after; after=$(cores "$dir" 3)
	echo "after: $after cores, no hog process in the cgroup"
	at_least "$(awk -v b="$before" 'BEGIN { print b + 0.1 }')" "$after" || fail "usage did not fall back: $after cores"
}

test_d_memory_hog_fills_the_targets_cgroup_and_releases_it_and_an_oom_is_recorded() {
	new_namespace e2e-mem opt-in; local ns=$NS
	deploy_app "$ns" 1
	local pod dir; pod=$(pod_of "$ns" web); dir=$(cgroup_dir "$ns" "$pod" memory) || fail "no cgroup"
	local before; before=$(memory_mib "$dir")
	experiment "$ns" fill "  faults:
  - name: fill
    type: pod-memory-hog
    duration: 10s
    target: {kind: Deployment, name: web}
    memoryHog: {mebibytes: 64}
    probes:
$(up_probe "$ns")" || fail "experiment rejected"
	wait_state "$ns" fill-1 Injected 60
	local during; during=$(memory_mib "$dir")
	local phase; phase=$(wait_result "$ns" fill-1 90) || fail "$phase"
	local after; after=$(memory_mib "$dir")
	echo "the target container's memory: $before MiB before, $during MiB during (64 MiB requested), $after MiB after"
	[ $((during - before)) -ge 60 ] || fail "usage rose by $((during - before)) MiB, expected at least 60"
	[ $((after - before)) -le 8 ] || fail "usage did not fall back: $after MiB"
	[ "$phase" = Completed ] || fail "phase $phase"
	# Past the limit: the hog is the OOM killer's first pick, and the run records it.
	kubectl -n "$ns" set resources deployment web --limits=memory=48Mi >/dev/null
	kubectl -n "$ns" rollout status deployment web --timeout=90s >/dev/null || fail "web did not roll out with a limit"
	experiment "$ns" over "  faults:
  - name: fill
    type: pod-memory-hog
    duration: 10s
    target: {kind: Deployment, name: web}
    memoryHog: {mebibytes: 96}
    probes:
$(up_probe "$ns")" || fail "experiment rejected"
	phase=$(wait_result "$ns" over-1 90) || fail "$phase"
	show "$ns" over-1
	local oom; oom=$(field "$ns" chaosresult over-1 '{.status.faults[0].targets[?(@.kind=="Container")].message}')
	echo "96 MiB into a 48Mi container: phase $phase; the ledger says: $oom"
	[[ $oom == *OOM-killed* ]] || fail "the run does not record the OOM kill"
}

test_e_a_hog_is_gone_at_once_when_its_fault_pod_is_force_deleted_or_killed() {
	new_namespace e2e-hogkill opt-in; local ns=$NS
	deploy_app "$ns" 1
	local pod dir; pod=$(pod_of "$ns" web); dir=$(cgroup_dir "$ns" "$pod" cpuacct) || fail "no cgroup"
	local how run
	for how in force-delete sigkill; do
		run="lost-$how"
		experiment "$ns" "$run" "  faults:
  - name: burn
    type: pod-cpu-hog
    duration: 60s
    target: {kind: Deployment, name: web}
    cpuHog: {cores: \"1\"}
    probes:
$(up_probe "$ns")" || fail "experiment rejected"
		wait_state "$ns" "$run-1" Injected 60
		[ "$(hogs_in "$dir")" = 1 ] || fail "no hog in the target's cgroup"
		local fault_pod; fault_pod=$(field "$ns" chaosresult "$run-1" '{.status.faults[0].pod}')
		local start=$SECONDS t0 ms
		if [ $how = force-delete ]; then
			kubectl -n "$OPERATOR_NS" delete pod "$fault_pod" --grace-period=0 --force >/dev/null 2>&1
		else
			# Both the fault process and its PID namespace's first process, at once: nothing can clean up.
			local pids; pids=$(pgrep -f -- "--result=$run-1 --fault=burn") || fail "no fault process"
			kill -9 $pids
		fi
		t0=$(date +%s%N)
		until [ "$(hogs_in "$dir")" = 0 ]; do
			[ $((SECONDS - start)) -lt 10 ] || fail "$how: the hog outlived its fault process by 10 s"
			sleep 0.05
		done
		ms=$((($(date +%s%N) - t0) / 1000000))
		echo "$how of $fault_pod: no hog left in the target's cgroup $ms ms later"
		[ $ms -le 2000 ] || fail "$how: the hog lived $ms ms after its fault pod, expected at most 2 s"
		local after; after=$(cores "$dir" 3)
		echo "$how: usage after, $after cores"
		at_least 0.2 "$after" || fail "$how: usage did not fall back: $after cores"
		local phase; phase=$(wait_result "$ns" "$run-1" 120) || fail "$phase"
		local deadline=$((SECONDS + 60)) ledger=""
		until [[ $ledger == *"state=Reverted"* ]]; do
			[ $SECONDS -lt $deadline ] || { show "$ns" "$run-1"; fail "$how: the ledger entry was never settled: $ledger"; }
			sleep 1
			ledger=$(field "$ns" chaosresult "$run-1" '{range .status.faults[0].targets[*]}state={.state} by={.revertedBy}: {.message}{end}')
		done
		echo "$how: phase $phase; ledger: $ledger"
	done
}

io_experiment() { # io_experiment NS NAME DURATION IOSTRESS: a pod-io-stress fault "disk" on web
	experiment "$1" "$2" "  faults:
  - name: disk
    type: pod-io-stress
    duration: $3
    target: {kind: Deployment, name: web}
    ioStress: $4
    probes:
$(up_probe "$1")" || fail "experiment $2 rejected"
}

test_f_io_stress_moves_data_through_the_targets_cgroup_and_leaves_no_file() {
	new_namespace e2e-io opt-in; local ns=$NS
	scratch_app "$ns"
	local pod dir main device
	pod=$(pod_of "$ns" web)
	dir=$(cgroup_dir "$ns" "$pod" blkio) || fail "no blkio cgroup"
	main=$(cat "$dir/cgroup.procs" | head -n1)
	device=$(stat -L -c '%Hd:%Ld' "/proc/$main/root/scratch")
	io_accounting "$dir" "$device"
	# The read-only root filesystem is refused with what to use instead.
	io_experiment "$ns" readonly 10s "{path: /tmp, mebibytes: 16}"
	local phase; phase=$(wait_result "$ns" readonly-1 60) || fail "$phase"
	local why; why=$(field "$ns" chaosresult readonly-1 '{.status.faults[0].message}')
	echo "path /tmp: phase $phase: $why"
	[ "$phase" = Error ] || fail "phase $phase for a read-only path, expected Error"
	[[ $why == *"read-only root filesystem"*"/scratch"* ]] || { show "$ns" readonly-1; fail "the refusal does not point at the emptyDir"; }
	# A directory that does not exist fails the start, and the revert still ends (nothing to remove).
	io_experiment "$ns" typo 10s "{path: /scratch/nope, mebibytes: 16}"
	phase=$(wait_result "$ns" typo-1 60) || fail "$phase"
	why=$(field "$ns" chaosresult typo-1 '{.status.faults[0].message} / {.status.faults[0].targets[0].state}: {.status.faults[0].targets[0].message}')
	echo "path /scratch/nope: phase $phase: $why"
	[[ $why == *"cannot open /scratch/nope inside the container"*" / Reverted: "*"cannot be opened in the container"* ]] ||
		{ show "$ns" typo-1; fail "a missing directory is not a clear error with a settled entry"; }
	local before; before=$(io_mib "$dir" 3)
	local run
	for run in disk lost restart; do
		io_experiment "$ns" "$run" 20s "{path: /scratch, mebibytes: 64}"
		wait_state "$ns" "$run-1" Injected 60
		local file="/proc/$main/root/scratch/faultline-io.$run-1.disk.0"
		[ "$(hogs_in "$dir")" = 1 ] || fail "$run: no hog in the target's cgroup"
		# The hog holds its file open and already unlinked: nothing of it can outlive the hog.
		local held; held=$(held_file "$dir" "faultline-io.$run-1.disk.0")
		echo "$run: the hog holds $held"
		[[ $held == *"(deleted) $((64 << 20)) bytes" ]] || fail "$run: the hog does not hold an unlinked 64 MiB file"
		[ ! -e "$file" ] || fail "$run: the file has a name in /scratch"
		if [ $run = disk ]; then
			local during; during=$(io_mib "$dir" 5)
			echo "the target container's blkio cgroup moved $before MiB in 3 s before, $during MiB in 5 s during (a 64 MiB file)"
			[ "$during" -ge 128 ] || fail "$during MiB in 5 s: not even one write and read-back of the file"
			phase=$(wait_result "$ns" disk-1 90) || fail "$phase"
		elif [ $run = restart ]; then
			# The target container restarts mid-fault (its main process killed): the hog is stopped
			# with the old container, and the file, which the emptyDir keeps, is removed through
			# the new instance.
			local restarts; restarts=$(field "$ns" pod "$pod" '{.status.containerStatuses[0].restartCount}')
			kill -9 "$main"
			phase=$(wait_result "$ns" restart-1 90) || fail "$phase"
			[ "$(field "$ns" pod "$pod" '{.status.containerStatuses[0].restartCount}')" -gt "$restarts" ] || fail "the container did not restart"
			dir=$(cgroup_dir "$ns" "$pod" blkio) || fail "no blkio cgroup after the restart"
			main=$(head -n1 "$dir/cgroup.procs")
			file="/proc/$main/root/scratch/faultline-io.restart-1.disk.0"
		else
			# Lost: the fault process and its PID namespace's first process SIGKILLed at once, so
			# nothing of the fault pod can clean up; the kernel ends the hog, and the backstop's
			# revert pod must remove the file.
			local pids; pids=$(pgrep -f -- "--result=lost-1 --fault=disk") || fail "no fault process"
			kill -9 $pids
			phase=$(wait_result "$ns" lost-1 120) || fail "$phase"
			local deadline=$((SECONDS + 60))
			until [ "$(field "$ns" chaosresult lost-1 '{.status.faults[0].targets[0].state}')" = Reverted ]; do
				[ $SECONDS -lt $deadline ] || { show "$ns" lost-1; fail "the lost fault's entry was never reverted"; }
				sleep 1
			done
		fi
		local ledger; ledger=$(field "$ns" chaosresult "$run-1" '{.status.faults[0].targets[0].state} by {.status.faults[0].targets[0].revertedBy}: {.status.faults[0].targets[0].message}')
		echo "$run: phase $phase; ledger: $ledger"
		[ ! -e "$file" ] || fail "$run: the file is left in the container"
		[ -z "$(held_file "$dir" "faultline-io.$run-1.disk.0")" ] || fail "$run: a process still holds the file"
		[ "$(hogs_in "$dir")" = 0 ] || fail "$run: a hog is left in the cgroup"
		[[ $ledger == *"no file of it is left in /scratch"* ]] || fail "$run: the ledger does not say no file is left"
		[ $run = restart ] || [[ $ledger == Reverted* ]] || fail "$run: the entry is not Reverted"
		[ $run != lost ] || [[ $ledger == "Reverted by operator"* ]] || fail "the lost fault's file was not removed by the backstop"
	done
	local after; after=$(io_mib "$dir" 3)
	echo "after: $after MiB in 3 s; no file and no hog left"
	[ "$after" -lt 32 ] || fail "I/O did not fall back: $after MiB in 3 s"
}

"$CLUSTER_SRC/cluster.sh" status >/dev/null || { echo "the cluster is not up: run make cluster-up" >&2; exit 1; }
install_operator || { echo "resources: 0 passed, 1 failed"; exit 1; }
for t in a_container_kill_restarts_the_container_in_the_same_pod b_a_missing_container_and_a_protected_namespace_are_clear_errors \
	c_cpu_hog_burns_a_core_in_the_targets_cgroup_and_stops \
	d_memory_hog_fills_the_targets_cgroup_and_releases_it_and_an_oom_is_recorded \
	e_a_hog_is_gone_at_once_when_its_fault_pod_is_force_deleted_or_killed \
	f_io_stress_moves_data_through_the_targets_cgroup_and_leaves_no_file; do
	[ -z "${ONLY:-}" ] || [[ $t == *$ONLY* ]] || continue
	run_test "$t"
done
kubectl -n "$OPERATOR_NS" logs -l app.kubernetes.io/component=operator --prefix --tail=-1 > "$OUT/operator.log" 2>&1 || true
summary resources
