#!/usr/bin/env bash
# podman with the settings this project's machines need: its own storage under the cache
# (overlay), the cgroupfs manager (no systemd as PID 1), events to a file, runc, and rlimits
# no higher than this process holds: without CAP_SYS_RESOURCE runc cannot raise them (podman's
# defaults, nofile 1048576, fail with "error setting rlimit type 7"), and conmon caps nproc at 32768.
#   deploy/image/podman.sh <podman args>
# Env: KWS_CACHE_DIR (default ~/.cache/kube-webshell)
set -euo pipefail
cache=${KWS_CACHE_DIR:-$HOME/.cache/kube-webshell}
mkdir -p "$cache/containers/storage" /run/kws-podman
nofile=$(ulimit -Hn); [ "$nofile" = unlimited ] || [ "$nofile" -gt 65536 ] && nofile=65536
nproc=$(ulimit -Hu); [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
conf="$cache/containers/containers.conf"
want="[containers]
default_ulimits = [\"nofile=$nofile:$nofile\", \"nproc=$nproc:$nproc\"]"
[ -f "$conf" ] && [ "$(cat "$conf")" = "$want" ] || printf '%s\n' "$want" > "$conf"
export CONTAINERS_CONF="$conf"
exec podman --root "$cache/containers/storage" --runroot /run/kws-podman --storage-driver overlay \
  --cgroup-manager cgroupfs --events-backend file --runtime /usr/sbin/runc "$@"
