#!/usr/bin/env bash
# make demo: the local cluster (already up: the Makefile's prerequisites), Faultline installed by its
# Helm chart, the demo app, and the sample experiment from config/samples/, with its verdict and score.
# A second `make demo` reuses everything and runs the experiment again.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cluster/config.sh"
export KUBECONFIG=$KUBECONFIG_ADMIN PATH=$KUBE_BIN_DIR:$(dirname "$HELM_BIN"):$PATH
NS=faultline-demo

step() { printf '\n==> %s\n' "$*"; }

step "Installing Faultline $FAULTLINE_VERSION with its Helm chart (namespace faultline-system)"
kubectl apply --server-side --force-conflicts -f "$REPO_ROOT/crds/faultline.yaml" >/dev/null
helm upgrade --install faultline "$REPO_ROOT/charts/faultline" --namespace faultline-system --create-namespace \
	--set image.tag="$FAULTLINE_VERSION" --wait --timeout 120s >/dev/null
# The image tag stays the same across rebuilds; new pods pick up a rebuilt image.
kubectl -n faultline-system rollout restart deployment/faultline >/dev/null
kubectl -n faultline-system rollout status deployment/faultline --timeout=120s >/dev/null
kubectl -n faultline-system get pods -l app.kubernetes.io/name=faultline

step "Deploying the demo app (3 replicas of busybox httpd behind Service web in namespace $NS)"
sed "s#@DEMO_IMAGE@#$DEMO_IMAGE#" "$REPO_ROOT/e2e/manifests/demo-app.yaml" | kubectl apply -f - >/dev/null
kubectl -n $NS rollout status deployment/web --timeout=120s >/dev/null
kubectl -n $NS get deployment web

step "Running the sample experiment: delete one web pod every 5s for 15s, with an http and a k8s probe"
before=$(kubectl -n $NS get chaosexperiment web-pod-delete -o jsonpath='{.status.runs}' 2>/dev/null || true)
kubectl apply -f "$REPO_ROOT/config/samples/" >/dev/null
if [ -n "$before" ]; then
	# Already there from an earlier demo: ask for another run.
	kubectl -n $NS annotate --overwrite chaosexperiment web-pod-delete "chaos.faultline.dev/run-requested=$(date +%s)" >/dev/null
fi
run=$(( ${before:-0} + 1 ))
result="web-pod-delete-$run"
deadline=$((SECONDS + 180))
phase=""
while [ $SECONDS -lt $deadline ]; do
	phase=$(kubectl -n $NS get chaosresult "$result" -o jsonpath='{.status.phase}' 2>/dev/null || true)
	case $phase in Completed | CompletedWithError | Error | Timeout | Stopped) break ;; esac
	if [ -t 1 ]; then
		printf '\r  %s: %-10s %3ss' "$result" "${phase:-Pending}" $((SECONDS - deadline + 180))
	else
		printf '  %s %s: %s\n' "$(date +%H:%M:%S)" "$result" "${phase:-Pending}"
	fi
	sleep 2
done
echo
kubectl -n $NS get chaosresult "$result"
verdict=$(kubectl -n $NS get chaosresult "$result" -o jsonpath='{.status.verdict}')
score=$(kubectl -n $NS get chaosresult "$result" -o jsonpath='{.status.resilienceScore}')
deleted=$(kubectl -n $NS get chaosresult "$result" -o jsonpath='{.status.faults[0].targets[*].name}' | wc -w)
cat <<EOM

Verdict: ${verdict:-none}   Resilience score: ${score:-none}   Pods deleted: $deleted   ($result, phase ${phase:-unknown})

See the whole record:  kubectl -n $NS get chaosresult $result -o yaml
Events of the run:     kubectl -n $NS get events --field-selector involvedObject.name=$result
Use the cluster with:  export KUBECONFIG=$KUBECONFIG_ADMIN
EOM
[ "$verdict" = Pass ]
