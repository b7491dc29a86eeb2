#!/usr/bin/env bash
# The local test cluster: real etcd, kube-apiserver, controller-manager, scheduler, containerd,
# kubelet, kube-proxy and CoreDNS, run as plain processes on this machine.
#   cluster.sh up       start whatever is not running (idempotent); FAKE_NODES=N adds kwok nodes
#   cluster.sh down     stop everything and remove every trace (processes, mounts, rules, links)
#   cluster.sh status   show each component; exits 0 only when all are healthy
#   cluster.sh load     import the cached images into the running containerd
# Component logs: $LOG_DIR (/var/log/faultline-cluster), one file per component.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/config.sh"

PKI=$CLUSTER_DIR/pki
PID_DIR=$RUN_DIR/pids
KUBECTL="$KUBE_BIN_DIR/kubectl --kubeconfig $KUBECONFIG_ADMIN"
# Components in start order; down stops them in reverse.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy kwok)

# ---------------------------------------------------------------- processes

pid_of() { cat "$PID_DIR/$1.pid" 2>/dev/null || true; }

running() { # running NAME: its recorded process is alive
	local pid; pid=$(pid_of "$1")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

start() { # start NAME BINARY ARGS...: detached, logging to $LOG_DIR/NAME.log
	# <NAME>_EXTRA_ARGS (e.g. KUBE_APISERVER_EXTRA_ARGS="--v=4") adds flags to one component.
	local name=$1; shift
	local extra_var; extra_var=$(tr 'a-z-' 'A-Z_' <<< "$name")_EXTRA_ARGS
	local extra=(${!extra_var:-})
	mkdir -p "$PID_DIR" "$LOG_DIR"
	printf '\n==== %s starting %s\n' "$(date -Is)" "$name" >> "$LOG_DIR/$name.log"
	setsid "$@" "${extra[@]}" >> "$LOG_DIR/$name.log" 2>&1 < /dev/null &
	echo $! > "$PID_DIR/$name.pid"
}

stop() { # stop NAME: SIGTERM, then SIGKILL after 10 s
	local name=$1 pid; pid=$(pid_of "$name")
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$PID_DIR/$name.pid"
}

fail_component() { # fail_component NAME WHY: prints the tail of its log and exits
	local name=$1 why=$2
	{
		echo "error: $name $why"
		echo "---- last 40 lines of $LOG_DIR/$name.log ----"
		tail -n 40 "$LOG_DIR/$name.log" 2>/dev/null || echo "(no log)"
		echo "---- all component logs are in $LOG_DIR ----"
	} >&2
	exit 1
}

wait_ready() { # wait_ready NAME SECONDS CHECK...: polls CHECK until it succeeds
	local name=$1 secs=$2; shift 2
	local deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		running "$name" || fail_component "$name" "exited while starting"
		[ $SECONDS -lt $deadline ] || fail_component "$name" "did not become ready within ${secs}s"
		sleep 0.5
	done
}

healthy() { # healthy NAME: the component answers its health check
	case $1 in
	etcd) curl -sf "http://127.0.0.1:$ETCD_CLIENT_PORT/health" | grep '"health":"true"' >/dev/null ;;
	kube-apiserver) curl -sf --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
		"https://$NODE_IP:$APISERVER_PORT/readyz" | grep ok >/dev/null ;;
	kube-controller-manager) curl -skf "https://127.0.0.1:$CONTROLLER_MANAGER_PORT/healthz" | grep ok >/dev/null ;;
	kube-scheduler) curl -skf "https://127.0.0.1:$SCHEDULER_PORT/healthz" | grep ok >/dev/null ;;
	containerd) ctr --address "$CONTAINERD_SOCK" version ;;
	kubelet) curl -sf "http://127.0.0.1:$KUBELET_HEALTHZ_PORT/healthz" | grep ok >/dev/null ;;
	kube-proxy) curl -s "http://127.0.0.1:$PROXY_HEALTHZ_PORT/healthz" | grep lastUpdated >/dev/null ;;
	kwok) curl -sf "http://127.0.0.1:$KWOK_PORT/healthz" | grep ok >/dev/null ;;
	*) return 1 ;;
	esac
}

# ---------------------------------------------------------------- preflight

preflight() {
	[ "$(id -u)" = 0 ] || die "the local cluster must be started as root (it runs a kubelet, containerd and iptables); try: sudo make cluster-up"
	local missing=()
	for cmd in containerd containerd-shim-runc-v2 runc ctr iptables ip openssl curl python3 findmnt; do
		command -v "$cmd" >/dev/null || missing+=("$cmd")
	done
	[ -x /usr/lib/cni/bridge ] || missing+=(/usr/lib/cni/bridge)
	[ ${#missing[@]} -eq 0 ] || die "missing: ${missing[*]}; run 'make deps' (apt packages) first"

	# Kernel features, checked here so a failure names the feature rather than a symptom.
	# PROC_ROOT lets the tests show these messages without a kernel that lacks the feature.
	local proc=${PROC_ROOT:-/proc}
	grep -qw overlay "$proc/filesystems" || die "the kernel lacks overlayfs (containerd's snapshotter needs it)"
	[ -e "$proc/sys/net/bridge/bridge-nf-call-iptables" ] ||
		die "the kernel lacks br_netfilter ($proc/sys/net/bridge is missing); Services need bridged traffic to pass iptables"
	for ctl in cpu memory pids; do
		[ -d "/sys/fs/cgroup/$ctl" ] || [ -f /sys/fs/cgroup/cgroup.controllers ] ||
			die "the cgroup controller '$ctl' is not mounted under /sys/fs/cgroup"
	done
	iptables -t nat -S >/dev/null 2>&1 || die "iptables cannot use the nat table (kernel nf_nat missing?)"
	if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
		ip link add fl-probe0 type veth peer name fl-probe1 2>/dev/null ||
			die "the kernel cannot create veth pairs; pods need them"
		ip link del fl-probe0
	fi

	# Ports: a port held by something other than this cluster is a clear error, not a hang.
	local ports=("etcd $ETCD_CLIENT_PORT" "etcd $ETCD_PEER_PORT" "kube-apiserver $APISERVER_PORT"
		"kube-controller-manager $CONTROLLER_MANAGER_PORT" "kube-scheduler $SCHEDULER_PORT"
		"kubelet $KUBELET_PORT" "kubelet $KUBELET_HEALTHZ_PORT" "kube-proxy $PROXY_HEALTHZ_PORT"
		"kube-proxy $PROXY_METRICS_PORT")
	for entry in "${ports[@]}"; do
		set -- $entry
		running "$1" && continue
		local holder
		holder=$(ss -Hltnp "sport = :$2" 2>/dev/null | sed -n 's/.*users:((\("[^"]*"\),pid=\([0-9]*\).*/\1 (pid \2)/p' | head -1)
		[ -z "$holder" ] || die "port $2, needed by $1, is in use by $holder; stop it (or run 'make cluster-down' if it is a leftover of this cluster)"
	done
}

# ---------------------------------------------------------------- host network

save_sysctl() { # save_sysctl KEY [VALUE]: remembers the value before any change, so cluster-down restores it
	local key=$1 value=${2:-} file=$CLUSTER_DIR/sysctl.saved
	grep -q "^$key=" "$file" 2>/dev/null || echo "$key=$(sysctl -n "$key")" >> "$file"
	[ -z "$value" ] || sysctl -qw "$key=$value"
}

setup_network() {
	mkdir -p "$CLUSTER_DIR"
	ip addr show dev lo | grep " $NODE_IP/32" >/dev/null || ip addr add "$NODE_IP/32" dev lo
	save_sysctl net.ipv4.ip_forward 1
	save_sysctl net.bridge.bridge-nf-call-iptables 1
	save_sysctl fs.inotify.max_user_instances 8192
	save_sysctl fs.inotify.max_user_watches 1048576
	# The kubelet tunes these itself; remember them so cluster-down puts them back.
	for key in kernel.panic kernel.panic_on_oops vm.overcommit_memory vm.panic_on_oom kernel.keys.root_maxkeys kernel.keys.root_maxbytes; do
		save_sysctl "$key"
	done
	# Simulated nodes and pods have addresses that no host owns: drop, never route them out.
	for net in "${FAKE_NODE_IP%.*}.0/24" "$FAKE_POD_CIDR"; do
		ip route show type blackhole | grep "^blackhole $net" >/dev/null || ip route add blackhole "$net"
	done
	# Egress guard: traffic from pods may only be forwarded back onto the pod bridge. Pods reach the
	# host and Services (DNAT to pods or to $NODE_IP) but nothing beyond this machine.
	# It sits in the mangle table, which FORWARD traverses before filter, where kube-proxy's own
	# ACCEPT rules are inserted ahead of anything already there.
	iptables -t mangle -N FAULTLINE-EGRESS 2>/dev/null || iptables -t mangle -F FAULTLINE-EGRESS
	iptables -t mangle -A FAULTLINE-EGRESS -s "$POD_CIDR" ! -o "$BRIDGE" -j DROP
	iptables -t mangle -C FORWARD -j FAULTLINE-EGRESS 2>/dev/null || iptables -t mangle -I FORWARD 1 -j FAULTLINE-EGRESS
}

# ---------------------------------------------------------------- certificates and kubeconfigs

cert() { # cert NAME CN ORG KIND(client|server|both) [SAN]: a key and a cert signed by the cluster CA
	local name=$1 cn=$2 org=$3 kind=$4 san=${5:-}
	[ -f "$PKI/$name.crt" ] && return 0
	local usage=clientAuth
	[ "$kind" = server ] && usage=serverAuth
	[ "$kind" = both ] && usage=serverAuth,clientAuth
	local subj="/CN=$cn"
	[ -n "$org" ] && subj="/O=$org$subj"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/$name.key" 2>/dev/null
	openssl req -new -key "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
	{
		echo "basicConstraints=CA:FALSE"
		echo "keyUsage=critical,digitalSignature,keyEncipherment"
		echo "extendedKeyUsage=$usage"
		[ -n "$san" ] && echo "subjectAltName=$san"
	} > "$PKI/$name.ext"
	openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
		-days 365 -sha256 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
	rm -f "$PKI/$name.csr" "$PKI/$name.ext"
}

kubeconfig() { # kubeconfig FILE CERT: a kubeconfig authenticating with pki/CERT.{crt,key}
	local file=$1 name=$2
	[ -f "$file" ] && return 0
	cat > "$file" <<-EOF
	apiVersion: v1
	kind: Config
	clusters:
	- name: faultline
	  cluster:
	    server: https://$NODE_IP:$APISERVER_PORT
	    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
	users:
	- name: $name
	  user:
	    client-certificate-data: $(base64 -w0 "$PKI/$name.crt")
	    client-key-data: $(base64 -w0 "$PKI/$name.key")
	contexts:
	- name: faultline
	  context: {cluster: faultline, user: $name}
	current-context: faultline
	EOF
	chmod 600 "$file"
}

setup_pki() {
	mkdir -p "$PKI"
	if [ ! -f "$PKI/ca.crt" ]; then
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/ca.key" 2>/dev/null
		openssl req -x509 -new -key "$PKI/ca.key" -subj "/CN=faultline-local-ca" -days 3650 -sha256 \
			-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
			-out "$PKI/ca.crt" 2>/dev/null
	fi
	[ -f "$PKI/sa.key" ] || {
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI/sa.key" 2>/dev/null
		openssl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
	}
	local svc=kubernetes.default.svc
	cert apiserver kube-apiserver "" server \
		"IP:$NODE_IP,IP:$KUBERNETES_SVC_IP,IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:$svc,DNS:$svc.$CLUSTER_DOMAIN"
	cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters client
	cert admin faultline-admin system:masters client
	cert controller-manager system:kube-controller-manager "" client
	cert scheduler system:kube-scheduler "" client
	cert kubelet "system:node:$NODE_NAME" system:nodes client
	cert kubelet-serving "system:node:$NODE_NAME" system:nodes server "IP:$NODE_IP,DNS:$NODE_NAME"
	cert kube-proxy system:kube-proxy "" client
	cert kwok kwok system:masters client
	kubeconfig "$KUBECONFIG_ADMIN" admin
	for c in controller-manager scheduler kubelet kube-proxy kwok; do
		kubeconfig "$CLUSTER_DIR/$c.kubeconfig" "$c"
	done
}

# ---------------------------------------------------------------- control plane

start_etcd() {
	running etcd && return 0
	log "starting etcd $ETCD_VERSION"
	mkdir -p "$CLUSTER_DIR/etcd" && chmod 700 "$CLUSTER_DIR/etcd"
	local url=http://127.0.0.1
	start etcd "$KUBE_BIN_DIR/etcd" --name=faultline --data-dir="$CLUSTER_DIR/etcd" \
		--listen-client-urls="$url:$ETCD_CLIENT_PORT" --advertise-client-urls="$url:$ETCD_CLIENT_PORT" \
		--listen-peer-urls="$url:$ETCD_PEER_PORT" --initial-advertise-peer-urls="$url:$ETCD_PEER_PORT" \
		--initial-cluster="faultline=$url:$ETCD_PEER_PORT" --unsafe-no-fsync --quota-backend-bytes=4294967296
	wait_ready etcd 30 healthy etcd
}

start_apiserver() {
	running kube-apiserver && return 0
	log "starting kube-apiserver $K8S_VERSION on https://$NODE_IP:$APISERVER_PORT"
	start kube-apiserver "$KUBE_BIN_DIR/kube-apiserver" \
		--advertise-address="$NODE_IP" --bind-address="$NODE_IP" --secure-port="$APISERVER_PORT" \
		--etcd-servers="http://127.0.0.1:$ETCD_CLIENT_PORT" \
		--service-cluster-ip-range="$SERVICE_CIDR" \
		--client-ca-file="$PKI/ca.crt" --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
		--kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
		--kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
		--kubelet-certificate-authority="$PKI/ca.crt" --kubelet-preferred-address-types=InternalIP \
		--service-account-issuer="https://kubernetes.default.svc.$CLUSTER_DOMAIN" \
		--service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
		--authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
		--allow-privileged=true --profiling=false --event-ttl=1h
	wait_ready kube-apiserver 90 healthy kube-apiserver
}

start_controllers() {
	if ! running kube-controller-manager; then
		log "starting kube-controller-manager"
		local kc=$CLUSTER_DIR/controller-manager.kubeconfig
		start kube-controller-manager "$KUBE_BIN_DIR/kube-controller-manager" \
			--kubeconfig="$kc" --authentication-kubeconfig="$kc" --authorization-kubeconfig="$kc" \
			--bind-address=127.0.0.1 --secure-port="$CONTROLLER_MANAGER_PORT" \
			--root-ca-file="$PKI/ca.crt" --service-account-private-key-file="$PKI/sa.key" \
			--use-service-account-credentials=true --cluster-name=faultline \
			--cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
			--service-cluster-ip-range="$SERVICE_CIDR" --leader-elect=false --profiling=false
	fi
	if ! running kube-scheduler; then
		log "starting kube-scheduler"
		local kc=$CLUSTER_DIR/scheduler.kubeconfig
		start kube-scheduler "$KUBE_BIN_DIR/kube-scheduler" \
			--kubeconfig="$kc" --authentication-kubeconfig="$kc" --authorization-kubeconfig="$kc" \
			--bind-address=127.0.0.1 --secure-port="$SCHEDULER_PORT" --leader-elect=false --profiling=false
	fi
	wait_ready kube-controller-manager 60 healthy kube-controller-manager
	wait_ready kube-scheduler 60 healthy kube-scheduler
}

# ---------------------------------------------------------------- node

put() { # put FILE: writes stdin to FILE only if it differs (kube-proxy exits when its config changes)
	local tmp; tmp=$(mktemp)
	cat > "$tmp"
	if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv "$tmp" "$1"; chmod 644 "$1"; fi
}

write_node_config() {
	local etc=$CLUSTER_DIR/etc
	mkdir -p "$etc/cni" "$etc/certs.d" "$CLUSTER_DIR/containerd" "$RUN_DIR/containerd"
	# Nothing can be pulled here: every registry, named or not, points at a closed local port, so
	# a typo in an image name fails fast instead of sending traffic off this machine.
	for host in _default docker.io registry.k8s.io quay.io ghcr.io gcr.io; do
		mkdir -p "$etc/certs.d/$host"
		printf 'server = "http://127.0.0.1:1"\n[host."http://127.0.0.1:1"]\n  capabilities = ["pull", "resolve"]\n' \
			| put "$etc/certs.d/$host/hosts.toml"
	done
	put "$etc/containerd.toml" <<-EOF
	version = 2
	root = "$CLUSTER_DIR/containerd"
	state = "$RUN_DIR/containerd/state"
	oom_score = 0
	[grpc]
	  address = "$CONTAINERD_SOCK"
	[plugins."io.containerd.grpc.v1.cri"]
	  sandbox_image = "$PAUSE_IMAGE"
	  restrict_oom_score_adj = true
	  disable_apparmor = true
	  [plugins."io.containerd.grpc.v1.cri".containerd]
	    snapshotter = "overlayfs"
	    default_runtime_name = "runc"
	    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
	      runtime_type = "io.containerd.runc.v2"
	      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
	        SystemdCgroup = false
	  [plugins."io.containerd.grpc.v1.cri".cni]
	    bin_dir = "/usr/lib/cni"
	    conf_dir = "$etc/cni"
	  [plugins."io.containerd.grpc.v1.cri".registry]
	    config_path = "$etc/certs.d"
	EOF
	put "$etc/cni/10-faultline.conflist" <<-EOF
	{
	  "cniVersion": "1.0.0",
	  "name": "faultline",
	  "plugins": [
	    {
	      "type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
	      "ipam": {
	        "type": "host-local", "dataDir": "$CLUSTER_DIR/cni",
	        "ranges": [[{"subnet": "$POD_SUBNET", "gateway": "$POD_GATEWAY"}]],
	        "routes": [{"dst": "0.0.0.0/0"}]
	      }
	    },
	    {"type": "portmap", "capabilities": {"portMappings": true}}
	  ]
	}
	EOF
	put "$etc/kubelet.yaml" <<-EOF
	apiVersion: kubelet.config.k8s.io/v1beta1
	kind: KubeletConfiguration
	address: $NODE_IP
	port: $KUBELET_PORT
	healthzBindAddress: 127.0.0.1
	healthzPort: $KUBELET_HEALTHZ_PORT
	readOnlyPort: 0
	authentication:
	  anonymous: {enabled: false}
	  webhook: {enabled: true}
	  x509: {clientCAFile: $PKI/ca.crt}
	authorization: {mode: Webhook}
	tlsCertFile: $PKI/kubelet-serving.crt
	tlsPrivateKeyFile: $PKI/kubelet-serving.key
	clusterDomain: $CLUSTER_DOMAIN
	clusterDNS: [$DNS_SVC_IP]
	resolvConf: ""
	containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
	cgroupDriver: cgroupfs
	failSwapOn: false
	failCgroupV1: false
	oomScoreAdj: 0
	# Nothing can be pulled again, so images are never garbage-collected.
	imageGCHighThresholdPercent: 100
	imageGCLowThresholdPercent: 99
	evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%}
	serializeImagePulls: false
	kubeAPIQPS: 50
	kubeAPIBurst: 100
	maxPods: 250
	EOF
	put "$etc/kube-proxy.yaml" <<-EOF
	apiVersion: kubeproxy.config.k8s.io/v1alpha1
	kind: KubeProxyConfiguration
	clientConnection: {kubeconfig: $CLUSTER_DIR/kube-proxy.kubeconfig}
	hostnameOverride: $NODE_NAME
	mode: iptables
	clusterCIDR: $POD_CIDR
	healthzBindAddress: 127.0.0.1:$PROXY_HEALTHZ_PORT
	metricsBindAddress: 127.0.0.1:$PROXY_METRICS_PORT
	nodePortAddresses: [$NODE_IP/32]
	oomScoreAdj: 0
	conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
	iptables: {localhostNodePorts: false}
	EOF
}

import_images() { # every cached image archive goes into containerd's k8s.io namespace
	local archive
	for archive in "$IMAGE_DIR"/*.tar; do
		[ -f "$archive" ] || continue
		ctr --address "$CONTAINERD_SOCK" -n k8s.io images import --no-unpack=false "$archive" >/dev/null ||
			die "could not import $archive into containerd"
	done
}

start_containerd() {
	running containerd && return 0
	log "starting containerd $(containerd --version | awk '{print $3}')"
	start containerd containerd --config "$CLUSTER_DIR/etc/containerd.toml"
	wait_ready containerd 30 healthy containerd
}

start_kubelet() {
	running kubelet && return 0
	log "starting kubelet as node $NODE_NAME ($NODE_IP)"
	start kubelet "$KUBE_BIN_DIR/kubelet" --config="$CLUSTER_DIR/etc/kubelet.yaml" \
		--kubeconfig="$CLUSTER_DIR/kubelet.kubeconfig" --root-dir="$CLUSTER_DIR/kubelet" \
		--hostname-override="$NODE_NAME" --node-ip="$NODE_IP"
	wait_ready kubelet 60 healthy kubelet
	wait_ready kubelet 60 $KUBECTL get node "$NODE_NAME"
}

start_proxy() {
	running kube-proxy && return 0
	log "starting kube-proxy (iptables mode)"
	start kube-proxy "$KUBE_BIN_DIR/kube-proxy" --config="$CLUSTER_DIR/etc/kube-proxy.yaml"
	wait_ready kube-proxy 60 healthy kube-proxy
}

start_coredns() {
	sed -e "s#@IMAGE@#$COREDNS_IMAGE#" -e "s#@DNS_SVC_IP@#$DNS_SVC_IP#" -e "s#@DOMAIN@#$CLUSTER_DOMAIN#" \
		"$CLUSTER_SRC/manifests/coredns.yaml" | $KUBECTL apply -f - >/dev/null
	log "waiting for the node to be Ready and CoreDNS to be available"
	wait_ready kubelet 120 $KUBECTL wait --for=condition=Ready "node/$NODE_NAME" --timeout=2s
	if ! $KUBECTL -n kube-system rollout status deployment/coredns --timeout=120s >/dev/null; then
		$KUBECTL -n kube-system describe pods -l k8s-app=kube-dns | tail -n 30 >&2 || true
		die "CoreDNS did not become available; the pod's events are above, the kubelet's log is $LOG_DIR/kubelet.log"
	fi
}

start_kwok() {
	local n=${FAKE_NODES:-0}
	[ "$n" -gt 0 ] 2>/dev/null || return 0
	[ -x "$KWOK_BIN" ] || "$CLUSTER_SRC/build.sh" kwok
	if ! running kwok; then
		log "starting kwok for $n simulated nodes"
		start kwok "$KWOK_BIN" --kubeconfig="$CLUSTER_DIR/kwok.kubeconfig" \
			--manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
			--node-ip="$FAKE_NODE_IP" --cidr="$FAKE_POD_CIDR" --server-address="127.0.0.1:$KWOK_PORT"
		wait_ready kwok 60 healthy kwok
	fi
	local i
	for i in $(seq 0 $((n - 1))); do
		sed "s#@NAME@#kwok-node-$i#" "$CLUSTER_SRC/manifests/kwok-node.yaml"
		echo ---
	done | $KUBECTL apply -f - >/dev/null
	$KUBECTL wait --for=condition=Ready node -l type=kwok --timeout=60s >/dev/null ||
		fail_component kwok "did not make its nodes Ready"
}

# ---------------------------------------------------------------- commands

usage_hint() {
	cat <<-EOF
	The cluster is up ($K8S_VERSION, node $NODE_NAME, API https://$NODE_IP:$APISERVER_PORT).
	Use it with:
	  export KUBECONFIG=$KUBECONFIG_ADMIN
	  export PATH=$KUBE_BIN_DIR:\$PATH   # kubectl $K8S_VERSION
	  kubectl get nodes
	Component logs: $LOG_DIR. Stop and clean up with: make cluster-down
	EOF
}

cmd_up() {
	local started=$SECONDS
	preflight
	"$CLUSTER_SRC/build.sh" tools
	"$CLUSTER_SRC/build.sh" image-pause
	"$CLUSTER_SRC/build.sh" image-coredns
	mkdir -p "$CLUSTER_DIR" "$RUN_DIR" "$LOG_DIR"
	setup_network
	setup_pki
	write_node_config
	start_etcd
	start_apiserver
	start_controllers
	start_containerd
	import_images
	start_kubelet
	start_proxy
	start_coredns
	start_kwok
	log "cluster-up finished in $((SECONDS - started))s"
	usage_hint
}

purge_chains() { # purge_chains iptables|ip6tables: removes every KUBE-, CNI- and FAULTLINE- chain and the jumps to them
	local cmd=$1 table chain
	command -v "$cmd" >/dev/null || return 0
	for table in filter nat mangle raw; do
		local rules; rules=$("$cmd" -t "$table" -S 2>/dev/null) || continue
		# Jumps from other chains first, then the chains themselves.
		grep -E '^-A .* -j (KUBE|CNI|FAULTLINE)-' <<< "$rules" | grep -vE '^-A (KUBE|CNI|FAULTLINE)-' | sed 's/^-A/-D/' |
			while read -r rule; do eval "$cmd" -t "$table" "$rule" 2>/dev/null || true; done || true
		for chain in $(awk '/^-N (KUBE|CNI|FAULTLINE)-/{print $2}' <<< "$rules"); do
			"$cmd" -t "$table" -F "$chain" 2>/dev/null || true
		done
		for chain in $(awk '/^-N (KUBE|CNI|FAULTLINE)-/{print $2}' <<< "$rules"); do
			"$cmd" -t "$table" -X "$chain" 2>/dev/null || true
		done
	done
}

kill_matching() { # kill_matching PATTERN: SIGKILL processes whose command line matches
	local pids; pids=$(pgrep -f "$1" || true)
	[ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
}

cmd_down() {
	[ "$(id -u)" = 0 ] || die "cluster-down must run as root"
	local started=$SECONDS
	stop kwok
	stop kube-proxy
	[ -x "$KUBE_BIN_DIR/kube-proxy" ] && "$KUBE_BIN_DIR/kube-proxy" --cleanup >/dev/null 2>&1 || true
	stop kubelet
	# Containers first, through the runtime, while containerd is still up.
	if running containerd; then
		local c=(ctr --address "$CONTAINERD_SOCK" -n k8s.io)
		local tasks; tasks=$("${c[@]}" tasks ls -q 2>/dev/null || true)
		for t in $tasks; do "${c[@]}" tasks kill -s SIGKILL "$t" >/dev/null 2>&1 || true; done
		for t in $tasks; do "${c[@]}" tasks delete -f "$t" >/dev/null 2>&1 || true; done
		"${c[@]}" containers ls -q 2>/dev/null | xargs -r "${c[@]}" containers delete >/dev/null 2>&1 || true
	fi
	stop containerd
	kill_matching "containerd-shim-runc-v2 .*-address $CONTAINERD_SOCK"
	# Anything still running in a pod cgroup (a shim that outlived containerd) goes too.
	for f in /sys/fs/cgroup/pids/kubepods/cgroup.procs /sys/fs/cgroup/pids/kubepods/*/cgroup.procs \
		/sys/fs/cgroup/pids/kubepods/*/*/cgroup.procs /sys/fs/cgroup/pids/kubepods/*/*/*/cgroup.procs; do
		[ -f "$f" ] && xargs -r kill -9 < "$f" 2>/dev/null || true
	done
	for name in kube-scheduler kube-controller-manager kube-apiserver etcd; do stop "$name"; done

	# Mounts under our directories (pod volumes, rootfs overlays, shm), deepest first.
	local m
	for m in $(findmnt -rn -o TARGET | grep -E "^($CLUSTER_DIR|$RUN_DIR)(/|$)" | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
	# Pod network namespaces that containerd created; deleting one deletes its veth end.
	for ns in $(ip netns list 2>/dev/null | awk '/^cni-/{print $1}'); do ip netns delete "$ns" 2>/dev/null || true; done
	ip link del "$BRIDGE" 2>/dev/null || true
	for v in $(ip -o link show type veth 2>/dev/null | awk -F': ' '/master '"$BRIDGE"'/{print $2}' | cut -d@ -f1); do
		ip link del "$v" 2>/dev/null || true
	done

	# iptables: what kube-proxy --cleanup leaves (the kubelet's chains), CNI's portmap chains and our guard.
	purge_chains iptables
	purge_chains ip6tables

	for net in "${FAKE_NODE_IP%.*}.0/24" "$FAKE_POD_CIDR"; do ip route del blackhole "$net" 2>/dev/null || true; done
	ip addr del "$NODE_IP/32" dev lo 2>/dev/null || true
	if [ -f "$CLUSTER_DIR/sysctl.saved" ]; then
		while IFS='=' read -r key value; do sysctl -qw "$key=$value" 2>/dev/null || true; done < "$CLUSTER_DIR/sysctl.saved"
	fi
	# Pod cgroups the kubelet created, deepest first.
	find /sys/fs/cgroup/*/kubepods -depth -type d -exec rmdir {} + 2>/dev/null || true
	rm -rf "$CLUSTER_DIR" "$RUN_DIR"
	log "cluster-down finished in $((SECONDS - started))s"
	leftovers
}

leftovers() { # reports anything the cluster left behind; exits 1 if there is any
	local found=()
	local procs
	procs=$(pgrep -a -f "$FAULTLINE_CACHE/bin/|containerd --config $CLUSTER_DIR|containerd-shim-runc-v2 .*$CONTAINERD_SOCK" || true)
	[ -z "$procs" ] || found+=("processes: $procs")
	findmnt -rn -o TARGET | grep -E "^($CLUSTER_DIR|$RUN_DIR)(/|$)" >/dev/null && found+=("mounts under $CLUSTER_DIR or $RUN_DIR")
	ip link show "$BRIDGE" >/dev/null 2>&1 && found+=("the $BRIDGE bridge")
	[ -z "$(ip -o link show type veth 2>/dev/null)" ] || found+=("veth interfaces: $(ip -o link show type veth | awk -F': ' '{print $2}' | tr '\n' ' ')")
	ip netns list 2>/dev/null | grep '^cni-' >/dev/null && found+=("network namespaces: $(ip netns list | grep '^cni-' | tr '\n' ' ')")
	local chains
	chains=$( (iptables-save; ip6tables-save) 2>/dev/null | grep -oE '^:(KUBE|CNI|FAULTLINE)-[^ ]*' | tr '\n' ' ' || true)
	[ -z "$chains" ] || found+=("iptables chains: $chains")
	ip addr show dev lo | grep " $NODE_IP/" >/dev/null && found+=("the address $NODE_IP on lo")
	if [ ${#found[@]} -gt 0 ]; then
		printf 'cluster-down left behind:\n' >&2
		printf '  - %s\n' "${found[@]}" >&2
		return 1
	fi
	log "nothing left behind: no processes, mounts, iptables chains, bridge, veths or network namespaces"
}

cmd_status() {
	local ok=0 name state
	printf '%-24s %-8s %s\n' COMPONENT PID STATE
	for name in "${COMPONENTS[@]}"; do
		if running "$name"; then
			if healthy "$name" >/dev/null 2>&1; then state=healthy; else state=unhealthy; ok=1; fi
		elif [ "$name" = kwok ]; then
			continue
		else
			state=stopped; ok=1
		fi
		printf '%-24s %-8s %s\n' "$name" "$(pid_of "$name")" "$state"
	done
	if [ $ok = 0 ]; then
		$KUBECTL get nodes -o wide 2>/dev/null || true
		echo
		echo "export KUBECONFIG=$KUBECONFIG_ADMIN"
	else
		echo "the cluster is not (fully) up; run: make cluster-up   (logs: $LOG_DIR)"
	fi
	return $ok
}

# Sourcing the script (for debugging) defines the functions without running a command.
[ "${BASH_SOURCE[0]}" = "$0" ] || return 0
case "${1:-}" in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
leftovers) leftovers ;;
load) if running containerd; then import_images; else log "containerd is not running; images are imported at the next cluster-up"; fi ;;
*) die "usage: $0 up|down|status|load" ;;
esac
