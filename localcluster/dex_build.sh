#!/usr/bin/env bash
# Build Dex (the OIDC provider of the SSO tests) from Go modules into a cache outside the
# checkout, keyed by version. A warm cache makes this a no-op; prints the binary's path.
#
# Dex's go.mod replaces its api/v2 module with a local folder, so `go install` refuses it:
# a small wrapper module requires Dex at its pseudo-version and api/v2 at its published one.
# Env: KWS_CACHE_DIR (default ~/.cache/kube-webshell)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"

die() { echo "localcluster/dex_build: $*" >&2; exit 1; }
command -v go >/dev/null || die "Go is not installed (need Go >= 1.25 on PATH)"

cache=${KWS_CACHE_DIR:-$HOME/.cache/kube-webshell}
out="$cache/bin/dex-$DEX_VERSION/dex"
if [ ! -x "$out" ]; then
  echo "localcluster/dex_build: building dex $DEX_VERSION (cold build: a few minutes)" >&2
  d="$cache/build/dex-$DEX_VERSION"
  rm -rf "$d" && mkdir -p "$d" "$(dirname "$out")"
  cd "$d"
  export GOFLAGS="-buildvcs=false -trimpath"
  cat > go.mod <<MOD
module kws.local/dex-build

go 1.25

require (
	github.com/dexidp/dex $DEX_VERSION
	github.com/dexidp/dex/api/v2 $DEX_API_VERSION
)
MOD
  go get "github.com/dexidp/dex/cmd/dex@$DEX_VERSION" >&2
  go build -ldflags "-s -w" -o "$out.tmp" github.com/dexidp/dex/cmd/dex
  mv "$out.tmp" "$out"
fi
echo "$out"
