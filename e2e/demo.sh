#!/usr/bin/env bash
# make demo: the local cluster, the demo app, and (once the operator exists) a sample experiment.
# The cluster and images are already up when this runs (the Makefile's prerequisites).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cluster/config.sh"
export KUBECONFIG=$KUBECONFIG_ADMIN PATH=$KUBE_BIN_DIR:$PATH

sed "s#@DEMO_IMAGE@#$DEMO_IMAGE#" "$REPO_ROOT/e2e/manifests/demo-app.yaml" | kubectl apply -f - >/dev/null
kubectl -n faultline-demo rollout status deployment/web --timeout=120s >/dev/null
echo "The demo app runs in namespace faultline-demo:"
kubectl -n faultline-demo get deployment,service,pods -o wide
cat <<EOM

Reach it from inside the cluster at http://web.faultline-demo.svc.$CLUSTER_DOMAIN/ (health: /health).
Use the cluster with: export KUBECONFIG=$KUBECONFIG_ADMIN
Not yet in this demo: installing the operator with Helm and running a sample experiment; they arrive
with the operator (issues 3 and 4 in the tracker).
EOM
