#!/usr/bin/env bash
# make demo: the local cluster (already up: the Makefile's prerequisites), Faultline installed by its
# Helm chart, the demo app, and the sample experiment from config/samples/, with its verdict and score.
# A second `make demo` reuses everything and runs the experiment again.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cluster/config.sh"
export KUBECONFIG=$KUBECONFIG_ADMIN PATH=$KUBE_BIN_DIR:$(dirname "$HELM_BIN"):$PATH
source "$REPO_ROOT/e2e/lib.sh"
NS=faultline-demo
OUT=${E2E_OUTPUT:-$REPO_ROOT/e2e/_output}/demo
FAULTLINE=$(faultline_bin)
faultline() { "$FAULTLINE" "$@"; }

step() { printf '\n==> %s\n' "$*"; }

step "Installing Faultline $FAULTLINE_VERSION with its Helm chart (namespace faultline-system)"
install_operator
kubectl -n faultline-system get pods -l app.kubernetes.io/name=faultline

step "Deploying the demo app (3 replicas of busybox httpd behind Service web in namespace $NS)"
sed "s#@DEMO_IMAGE@#$DEMO_IMAGE#" "$REPO_ROOT/e2e/manifests/demo-app.yaml" | kubectl apply -f - >/dev/null
kubectl -n $NS rollout status deployment/web --timeout=120s >/dev/null
kubectl -n $NS get deployment web

step "Running the sample experiment: delete one web pod every 5s for 15s, with an http and a k8s probe"
mkdir -p "$OUT"
report="$OUT/report.html"
echo "faultline run -f config/samples/ --wait --report $report"
code=0
faultline run -f "$REPO_ROOT/config/samples/" --wait --timeout 5m --report "$report" || code=$?
cat <<EOM

HTML report:           $report
Runs so far:           faultline get results -n $NS      (the binary: $FAULTLINE)
Use the cluster with:  export KUBECONFIG=$KUBECONFIG_ADMIN
EOM
exit $code
