# Shared settings of the local test cluster; sourced by cluster.sh and build.sh.
# Every address here stays on this machine: see e2e/cluster/README.md.

K8S_VERSION=v1.33.13          # kube-apiserver, controller-manager, scheduler, kubelet, kube-proxy, kubectl
ETCD_VERSION=v3.5.21          # the etcd server that k8s.io/kubernetes v1.33.13 pins; linked into the same binary
COREDNS_VERSION=v1.14.7
HELM_VERSION=v3.18.6
KWOK_VERSION=v0.7.0

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CLUSTER_SRC=$REPO_ROOT/e2e/cluster

# Built binaries and images, outside the repository and keyed by version, so clones share them.
FAULTLINE_CACHE=${FAULTLINE_CACHE:-/var/cache/faultline}
# Everything the running cluster owns; cluster-down removes it.
CLUSTER_DIR=${CLUSTER_DIR:-/var/lib/faultline-cluster}
RUN_DIR=/run/faultline-cluster
# One log file per component; kept across cluster-down so failures can be read afterwards.
LOG_DIR=${CLUSTER_LOG_DIR:-/var/log/faultline-cluster}

NODE_NAME=${NODE_NAME:-faultline-node}
NODE_IP=10.200.0.1            # on lo: the apiserver's advertise address and the node's InternalIP
FAKE_NODE_IP=10.200.0.2       # kwok's simulated nodes; blackholed, never a real destination
POD_CIDR=10.244.0.0/16        # cluster CIDR; the real node uses POD_SUBNET on the cni0 bridge
POD_SUBNET=10.244.0.0/24
POD_GATEWAY=10.244.0.1
FAKE_POD_CIDR=10.244.128.0/17 # kwok's simulated pods: inside POD_CIDR, blackholed
SERVICE_CIDR=10.96.0.0/16
KUBERNETES_SVC_IP=10.96.0.1
DNS_SVC_IP=10.96.0.10
CLUSTER_DOMAIN=cluster.local
BRIDGE=cni0

APISERVER_PORT=6443
ETCD_CLIENT_PORT=2379
ETCD_PEER_PORT=2380
KUBELET_PORT=10250
KUBELET_HEALTHZ_PORT=10248
PROXY_HEALTHZ_PORT=10256
PROXY_METRICS_PORT=10249
CONTROLLER_MANAGER_PORT=10257
SCHEDULER_PORT=10259
KWOK_PORT=10247

KUBECONFIG_ADMIN=$CLUSTER_DIR/admin.kubeconfig
CONTAINERD_SOCK=$RUN_DIR/containerd/containerd.sock

FAULTLINE_VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' "$REPO_ROOT/Cargo.toml" | head -1)
PAUSE_IMAGE=localhost/pause:3.10-faultline
COREDNS_IMAGE=localhost/coredns:$COREDNS_VERSION
DEMO_IMAGE=localhost/faultline-demo:$FAULTLINE_VERSION
FAULTLINE_IMAGE=localhost/faultline:$FAULTLINE_VERSION
CLI_IMAGE=localhost/faultline-cli:$FAULTLINE_VERSION   # the CI job image: faultline + busybox

export GOTOOLCHAIN=local GOFLAGS=-mod=mod

# A short hash of the files that define a build, so a changed recipe gets a new cache key.
recipe_hash() { cat "$@" | sha256sum | cut -c1-12; }

KUBE_KEY=kube-$K8S_VERSION-$(recipe_hash "$CLUSTER_SRC"/go/kube/{go.mod,go.sum,main.go})
COREDNS_KEY=coredns-$COREDNS_VERSION-$(recipe_hash "$CLUSTER_SRC"/go/coredns/{go.mod,go.sum,main.go})
KUBE_BIN_DIR=$FAULTLINE_CACHE/bin/$KUBE_KEY
COREDNS_BIN=$FAULTLINE_CACHE/bin/$COREDNS_KEY/coredns
HELM_BIN=$FAULTLINE_CACHE/bin/helm-$HELM_VERSION-k8s${K8S_VERSION#v}/helm
KWOK_BIN=$FAULTLINE_CACHE/bin/kwok-$KWOK_VERSION/kwok
IMAGE_DIR=$FAULTLINE_CACHE/images

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
