#!/usr/bin/env bash
# Builds what the local cluster runs, into the versioned cache ($FAULTLINE_CACHE), skipping
# whatever is already there:
#   build.sh tools                  kube (control plane, kubelet, kube-proxy, kubectl, etcd), coredns, helm, kwok
#   build.sh kube|coredns|helm|kwok one of them
#   build.sh image-pause|image-coredns|image-demo|image-faultline|image-cli
#   build.sh dist                   the release archive and SHA256SUMS in dist/ (DIST_DIR overrides)
# Each build prints how long it took; build times are recorded in e2e/cluster/README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/config.sh"

timed() { # timed LABEL CMD...: runs CMD, then logs its wall time and peak memory
	local label=$1 stats; shift
	stats=$(mktemp)
	/usr/bin/time -f '%e %M' -o "$stats" "$@" || { log "$label failed"; rm -f "$stats"; return 1; }
	read -r secs kib < "$stats"; rm -f "$stats"
	log "$label built in ${secs}s, peak RSS $((kib / 1024)) MiB"
}

require_go() {
	command -v go >/dev/null || die "go is not installed; it is needed to build the cluster components"
}

build_kube() {
	[ -x "$KUBE_BIN_DIR/kube" ] && return 0
	require_go
	log "building Kubernetes $K8S_VERSION and etcd $ETCD_VERSION (cold: about 6 minutes on 2 cores) -> $KUBE_BIN_DIR"
	local tmp=$KUBE_BIN_DIR.tmp minor=${K8S_VERSION#v1.}
	minor=${minor%%.*}
	rm -rf "$tmp"; mkdir -p "$tmp"
	local ld="-s -w"
	for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ld+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
	done
	(cd "$CLUSTER_SRC/go/kube" && CGO_ENABLED=0 timed "kube $K8S_VERSION" go build -trimpath -ldflags "$ld" -o "$tmp/kube" .)
	for name in etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl; do
		ln -sf kube "$tmp/$name"
	done
	mv "$tmp" "$KUBE_BIN_DIR"
}

build_coredns() {
	[ -x "$COREDNS_BIN" ] && return 0
	require_go
	log "building CoreDNS $COREDNS_VERSION -> $COREDNS_BIN"
	local tmp=$COREDNS_BIN.tmp
	mkdir -p "$(dirname "$COREDNS_BIN")"
	(cd "$CLUSTER_SRC/go/coredns" && CGO_ENABLED=0 timed "coredns $COREDNS_VERSION" go build -trimpath -ldflags "-s -w" -o "$tmp" .)
	mv "$tmp" "$COREDNS_BIN"
}

go_install() { # go_install BIN PACKAGE@VERSION [LDFLAGS]
	local bin=$1 pkg=$2 ldflags=${3:-}
	[ -x "$bin" ] && return 0
	require_go
	log "building $pkg -> $bin"
	local dir; dir=$(dirname "$bin")
	rm -rf "$dir.tmp"; mkdir -p "$dir.tmp"
	GOBIN="$dir.tmp" CGO_ENABLED=0 timed "$pkg" go install -trimpath -ldflags "-s -w $ldflags" "$pkg"
	rm -rf "$dir"; mv "$dir.tmp" "$dir"
}

build_helm() {
	# Without these, a client-only helm (template, lint) assumes Kubernetes v1.20 and rejects the
	# chart's kubeVersion constraint; upstream's Makefile sets them the same way.
	local minor=${K8S_VERSION#v1.} flags=""
	minor=${minor%%.*}
	for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
		flags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$minor"
	done
	go_install "$HELM_BIN" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" "$flags"
}

image_archive() { # the cached OCI archive for an image reference
	local ref=$1 name
	name=${ref#localhost/}
	echo "$IMAGE_DIR/${name/:/_}.tar"
}

mkimage() { python3 "$REPO_ROOT/e2e/images/mkimage.py" "$@"; }

build_image_pause() {
	local out; out=$(image_archive "$PAUSE_IMAGE")
	[ -f "$out" ] && return 0
	command -v gcc >/dev/null || die "gcc is needed to build the pause image (apt-get install gcc libc6-dev)"
	local tmp; tmp=$(mktemp -d)
	gcc -Os -static -s -o "$tmp/pause" "$REPO_ROOT/e2e/images/pause/pause.c"
	mkimage --name "$PAUSE_IMAGE" --out "$out" --entrypoint '["/pause"]' --user 65535 "$tmp/pause:/pause:0755" >&2
	rm -rf "$tmp"
}

build_image_coredns() {
	local out; out=$(image_archive "$COREDNS_IMAGE")
	build_coredns
	[ -f "$out" ] && [ "$out" -nt "$COREDNS_BIN" ] && return 0
	mkimage --name "$COREDNS_IMAGE" --out "$out" --entrypoint '["/coredns"]' --user 65532 \
		"$COREDNS_BIN:/coredns:0755" >&2
}

static_busybox() { # the path of Debian's statically linked busybox
	local busybox
	for busybox in /bin/busybox /usr/bin/busybox; do
		file -L "$busybox" 2>/dev/null | grep 'statically linked' >/dev/null && { echo "$busybox"; return 0; }
	done
	die "a static busybox is needed for the demo and CLI images (apt-get install busybox-static)"
}

build_image_demo() {
	local out; out=$(image_archive "$DEMO_IMAGE")
	local busybox; busybox=$(static_busybox)
	# The archive is rebuilt when the page or busybox changes; mkimage output is deterministic.
	local links=()
	for applet in sh wget nslookup nc timeout true id sleep cat ls ps kill; do links+=(--link "/bin/$applet=busybox"); done
	mkimage --name "$DEMO_IMAGE" --out "$out.new" --entrypoint '["/bin/busybox"]' \
		--cmd '["httpd", "-f", "-v", "-p", "8080", "-h", "/www"]' --user 65534 --port 8080/tcp "${links[@]}" \
		"$busybox:/bin/busybox:0755" \
		"$REPO_ROOT/e2e/images/demo/index.html:/www/index.html:0644" \
		"$REPO_ROOT/e2e/images/demo/health:/www/health:0644" >&2
	mv "$out.new" "$out"
}

build_faultline_bin() { # builds the static release binary (a no-op when fresh); prints its path
	local target=x86_64-unknown-linux-gnu
	log "building the static faultline binary (cargo build --release --target $target)"
	(cd "$REPO_ROOT" && RUSTFLAGS="-C target-feature=+crt-static" \
		cargo build --quiet --release --locked --target "$target" --bin faultline) >&2
	local bin; bin=$(cd "$REPO_ROOT" && cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/$target/release/faultline
	file "$bin" | grep -E 'statically linked|static-pie linked' >/dev/null || die "$bin is not statically linked"
	echo "$bin"
}

build_image_faultline() {
	local out; out=$(image_archive "$FAULTLINE_IMAGE")
	local bin; bin=$(build_faultline_bin)
	mkimage --name "$FAULTLINE_IMAGE" --out "$out.new" --entrypoint '["/faultline"]' --user 65532 \
		"$bin:/faultline:0755" >&2
	mv "$out.new" "$out"
	log "faultline binary $(stat -c %s "$bin") bytes, image archive $(stat -c %s "$out") bytes"
}

# The CI job image: the same binary, plus busybox for the job's shell and the tools a job script
# may use (sh, wget, sha256sum, tar, tail for GitHub's container keep-alive, ...). No entrypoint, so
# GitLab and GitHub run their own shell in it; root, as both expect of a job container.
build_image_cli() {
	local out; out=$(image_archive "$CLI_IMAGE")
	local bin; bin=$(build_faultline_bin)
	local busybox; busybox=$(static_busybox)
	local links=() applet
	for applet in $("$busybox" --list); do
		[ "$applet" = busybox ] || links+=(--link "/bin/$applet=busybox")
	done
	mkimage --name "$CLI_IMAGE" --out "$out.new" --cmd '["/bin/sh"]' --workdir / "${links[@]}" \
		"$busybox:/bin/busybox:0755" "$bin:/usr/local/bin/faultline:0755" >&2
	mv "$out.new" "$out"
	log "$CLI_IMAGE: image archive $(stat -c %s "$out") bytes (faultline $(stat -c %s "$bin"), busybox $(stat -c %s "$busybox"))"
}

# dist/faultline-<version>-linux-amd64.tar.gz (the static binary, LICENSE, docs/dist/README.md) and
# dist/SHA256SUMS. The archive is reproducible from the same binary: sorted entries, fixed owners,
# the commit's time as mtime, no gzip timestamp. Checks the sums and the unpacked binary's version.
build_dist() {
	local bin; bin=$(build_faultline_bin)
	local dir=${DIST_DIR:-$REPO_ROOT/dist} name=faultline-$FAULTLINE_VERSION-linux-amd64
	local stage mtime
	stage=$(mktemp -d)
	mtime=$(git -C "$REPO_ROOT" log -1 --format=%ct 2>/dev/null || echo 0)
	mkdir -p "$stage/$name" "$dir"
	install -m 0755 "$bin" "$stage/$name/faultline"
	install -m 0644 "$REPO_ROOT/LICENSE" "$stage/$name/LICENSE"
	install -m 0644 "$REPO_ROOT/docs/dist/README.md" "$stage/$name/README.md"
	rm -f "$dir"/faultline-*-linux-amd64.tar.gz "$dir/SHA256SUMS"
	tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$mtime" -cf - "$name" |
		gzip -9 -n > "$dir/$name.tar.gz"
	(cd "$dir" && sha256sum "$name.tar.gz" > SHA256SUMS)
	# What a user does after downloading: check the sum, unpack, run it.
	rm -rf "$stage"; mkdir -p "$stage"
	(cd "$dir" && sha256sum -c SHA256SUMS >&2) || die "the checksum of $dir/$name.tar.gz does not verify"
	tar -C "$stage" -xzf "$dir/$name.tar.gz"
	local version; version=$("$stage/$name/faultline" --version)
	rm -rf "$stage"
	[[ $version == "faultline $FAULTLINE_VERSION ("*")" ]] || die "the unpacked binary says '$version'"
	[ -z "$(git -C "$REPO_ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ] ||
		log "warning: the checkout has uncommitted changes, which '$version' does not show"
	log "$dir/$name.tar.gz: $(stat -c %s "$dir/$name.tar.gz") bytes, $version; $dir/SHA256SUMS verifies"
}

mkdir -p "$FAULTLINE_CACHE/bin" "$IMAGE_DIR"
case "${1:-tools}" in
tools) build_kube; build_coredns; build_helm; go_install "$KWOK_BIN" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" ;;
kube) build_kube ;;
coredns) build_coredns ;;
helm) build_helm ;;
kwok) go_install "$KWOK_BIN" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" ;;
image-pause) build_image_pause ;;
image-coredns) build_image_coredns ;;
image-demo) build_image_demo ;;
image-faultline) build_image_faultline ;;
image-cli) build_image_cli ;;
images) build_image_pause; build_image_coredns; build_image_demo; build_image_faultline; build_image_cli ;;
dist) build_dist ;;
*) die "unknown build target '$1'; see the header of $0" ;;
esac
