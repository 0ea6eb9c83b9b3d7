#!/usr/bin/env bash
# Build the kube-webshell image with podman from a Debian base bootstrapped here (no registry
# needed), and print its name. The base is cached by suite; the build reuses podman's layers.
#
#   deploy/image/build.sh [TAG]        # default tag: localhost/kube-webshell:<pyproject version>
#
# Env: BASE_IMAGE (default: the local Debian base), KWS_CACHE_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
die() { echo "deploy/image/build: $*" >&2; exit 1; }
command -v podman >/dev/null || die "podman is missing (Debian: apt-get install podman buildah)"
pm() { "$here/podman.sh" "$@"; }
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/pyproject.toml" | head -1)
tag=${1:-localhost/kube-webshell:$version}
base=${BASE_IMAGE:-}
if [ -z "$base" ]; then
  tarball=$("$here/debian-base.sh")     # cached by suite and recipe
  name=$(basename "$tarball" .tar)      # debian-<suite>-<recipe>
  base="localhost/kws-debian:${name#debian-}"
  if ! pm image exists "$base"; then
    echo "deploy/image/build: importing $tarball as $base" >&2
    pm import --change 'CMD ["/bin/bash"]' "$tarball" "$base" >/dev/null
  fi
fi
ca_args=()
# Behind a TLS-inspecting proxy the host trusts an extra CA: lend the build the host's bundle.
for ca in "${KWS_BUILD_CA_BUNDLE:-}" "${NODE_EXTRA_CA_CERTS:-}" "${PIP_CERT:-}"; do
  if [ -n "$ca" ] && [ -f "$ca" ]; then
    ca_args=(-v "$ca:/run/kws-build-ca.crt:ro" --build-arg CA_BUNDLE=/run/kws-build-ca.crt); break
  fi
done
echo "deploy/image/build: building $tag on $base" >&2
pm build --isolation chroot --network host --pull=never --layers --build-arg "BASE_IMAGE=$base" \
  "${ca_args[@]}" -t "$tag" -f "$root/Dockerfile" "$root" >&2
echo "$tag"
