#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian machine (as root): the container runtime,
# CNI plugins, iptables, build tools, and the CLI tier's Chromium, junitparser, PyYAML and Lua. Go and Rust come with the machine; this checks them.
set -euo pipefail
source "$(dirname "$0")/config.sh"

PACKAGES=(containerd runc containernetworking-plugins iptables iproute2 conntrack kmod
	busybox-static gcc libc6-dev openssl curl ca-certificates time file util-linux procps psmisc
	# The network tier reads the rules inside a target's network namespace with nft.
	nftables
	# The CLI tier: Chromium renders the HTML report, junitparser reads the JUnit report, PyYAML
	# reads the docs' CI examples, Lua runs the Argo CD health checks (Debian's python3, not a pyenv's).
	chromium python3-junitparser python3-yaml lua5.1 lua-cjson)

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep 'install ok installed' >/dev/null || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || die "missing packages (${missing[*]}); install them as root: make deps"
	log "installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v go >/dev/null || die "Go is needed to build the cluster components (the machine image ships it)"
command -v cargo >/dev/null || die "Rust (cargo) is needed (the machine image ships it)"
for component in rustfmt clippy; do
	rustup component list --installed 2>/dev/null | grep "^$component" >/dev/null || rustup component add "$component"
done
log "dependencies present: $(go version | awk '{print $3}'), $(cargo --version | awk '{print $1, $2}'), containerd $(containerd --version | awk '{print $3}')"
