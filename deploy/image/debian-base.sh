#!/usr/bin/env bash
# Bootstrap a minimal Debian root filesystem with debootstrap and keep it as a tarball in a
# cache outside the checkout, keyed by suite and variant (no container registry is needed).
# Prints the tarball's path; a warm cache makes this a no-op.
#
#   deploy/image/debian-base.sh            # bookworm, minbase
#
# Env: KWS_CACHE_DIR (default ~/.cache/kube-webshell), DEBIAN_SUITE (bookworm),
#      DEBIAN_MIRROR (http://deb.debian.org/debian)
set -euo pipefail
suite=${DEBIAN_SUITE:-bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
die() { echo "deploy/image/debian-base: $*" >&2; exit 1; }
command -v debootstrap >/dev/null || die "debootstrap is missing (Debian: apt-get install debootstrap)"
[ "$(id -u)" = 0 ] || die "debootstrap needs root"
cache=${KWS_CACHE_DIR:-$HOME/.cache/kube-webshell}/images
tarball="$cache/debian-$suite-minbase-slim1.tar"   # bump the suffix when the recipe changes
mkdir -p "$cache"
exec 9>"$cache/debian-$suite.lock"
flock 9
if [ ! -s "$tarball" ]; then
  root=$(mktemp -d "$cache/rootfs.XXXXXX")
  trap 'rm -rf "$root"' EXIT
  echo "deploy/image/debian-base: debootstrap $suite (minbase) from $mirror" >&2
  debootstrap --variant=minbase "$suite" "$root" "$mirror" >&2 \
    || { tail -20 "$root/debootstrap/debootstrap.log" >&2 2>/dev/null; die "debootstrap failed"; }
  # What the official slim images do: no package caches, no man pages, apt that keeps nothing.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
         "$root"/usr/share/man/* "$root"/usr/share/doc/* "$root"/usr/share/info/* "$root"/usr/share/locale/* \
         "$root"/var/log/*.log
  # ...and keeps it so for later installs.
  printf 'path-exclude /usr/share/doc/*\npath-exclude /usr/share/man/*\npath-exclude /usr/share/info/*\npath-exclude /usr/share/locale/*\npath-include /usr/share/doc/*/copyright\n' \
    > "$root/etc/dpkg/dpkg.cfg.d/90kws-slim"
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' > "$root/etc/apt/apt.conf.d/90kws"
  tar --numeric-owner -C "$root" -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
fi
echo "$tarball"
