#!/usr/bin/env bash
# Build the real node's own binaries into the cache, keyed by version:
#   kubelet          from k8s.io/kubernetes (the wrapper-module technique of build.sh)
#   pause, kws-lo    from the C sources in localcluster/node/ (static, gcc), keyed by their hash
# Prints two lines: the kubelet's directory, then the tools' directory.
#
# Env: KWS_CACHE_DIR (default ~/.cache/kube-webshell)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
# shellcheck source=k8s_build.sh
. "$here/k8s_build.sh"

die() { echo "localcluster/build_node: $*" >&2; exit 1; }
command -v go >/dev/null || die "Go is not installed (need Go >= 1.25 on PATH)"
command -v gcc >/dev/null || die "gcc is missing: the pause and CNI binaries are compiled with it (apt-get install gcc libc6-dev)"

cache=${KWS_CACHE_DIR:-$HOME/.cache/kube-webshell}
kubelet_dir="$cache/bin/kubelet-$KUBERNETES_VERSION"
src_hash=$(cat "$here"/node/*.c | sha256sum | cut -c1-12)
tools_dir="$cache/bin/node-tools-$src_hash"
work="$cache/build"
mkdir -p "$kubelet_dir" "$tools_dir" "$work"
export GOFLAGS="-buildvcs=false -trimpath"

build_kubelet() {
  [ -x "$kubelet_dir/kubelet" ] && return
  echo "localcluster/build_node: building kubelet $KUBERNETES_VERSION (about 4 min with warm module caches)" >&2
  k8s_build kubelet "$kubelet_dir/kubelet" CGO_ENABLED=0
}

build_tools() {
  local c name
  for c in "$here"/node/*.c; do
    name=$(basename "$c" .c)
    [ -x "$tools_dir/$name" ] && continue
    gcc -Os -static -Wall -Werror -o "$tools_dir/$name.tmp" "$c" || die "compiling $c failed"
    strip "$tools_dir/$name.tmp"
    mv "$tools_dir/$name.tmp" "$tools_dir/$name"
  done
}

build_tools
build_kubelet
echo "$kubelet_dir"
echo "$tools_dir"
