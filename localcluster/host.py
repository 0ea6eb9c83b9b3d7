"""What a real node changes on the host outside its own directory, shared by every
local cluster on this host, and undone when the last one stops.

The kubelet sets sysctls (vm.overcommit_memory, kernel.panic, kernel.panic_on_oops)
and creates fixed paths (/var/lib/kubelet/device-plugins, /var/log/containers);
containerd's shims put their sockets in /run/containerd/s. Two clusters may run
side by side (two test suites), so the first node to start saves the original
values and notes which fixed paths did not exist, and the last node to stop
restores them. A registry under /run (gone at reboot) with a lock holds this.
"""
from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager
from pathlib import Path

from .procs import alive

REGISTRY = Path(os.environ.get("KWS_NODE_REGISTRY", "/run/kube-webshell-nodes"))
SYSCTLS = ("vm/overcommit_memory", "kernel/panic", "kernel/panic_on_oops")
# Deepest first: that is the order they are removed in.
FIXED_DIRS = ("/var/lib/kubelet/device-plugins", "/var/lib/kubelet", "/var/log/containers",
              "/run/containerd/s", "/run/containerd")
# What the kubelets leave in the fixed directories (nothing of any one node).
KNOWN_LEFTOVERS = {"/var/lib/kubelet/device-plugins": ("kubelet.sock", "kubelet_internal_checkpoint")}


@contextmanager
def _locked():
    REGISTRY.mkdir(mode=0o700, parents=True, exist_ok=True)
    (REGISTRY / "nodes").mkdir(exist_ok=True)
    with open(REGISTRY / "lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def _live_others(me: str) -> list[str]:
    live = []
    for f in (REGISTRY / "nodes").iterdir():
        try:
            pid = int(json.loads(f.read_text())["pid"])
        except (OSError, ValueError, KeyError):
            pid = 0
        if f.name != me and pid and alive(pid):
            live.append(f.name)
        elif f.name != me:
            f.unlink(missing_ok=True)   # a node that died without stopping
    return live


def register(node_id: str, pid: int) -> None:
    """Note a starting node (`pid` keeps the registration alive); save the host's state if first."""
    with _locked():
        saved = REGISTRY / "saved.json"
        if not _live_others(node_id) and not saved.exists():
            state = {"sysctls": {k: Path("/proc/sys", k).read_text().strip() for k in SYSCTLS},
                     "missing_dirs": [d for d in FIXED_DIRS if not os.path.lexists(d)]}
            saved.write_text(json.dumps(state))
        (REGISTRY / "nodes" / node_id).write_text(json.dumps({"pid": pid}))


def release(node_id: str) -> list[str]:
    """Forget a stopped node; if it was the last, restore the host. Returns what it could not undo."""
    problems = []
    with _locked():
        (REGISTRY / "nodes" / node_id).unlink(missing_ok=True)
        saved = REGISTRY / "saved.json"
        if _live_others(node_id) or not saved.exists():
            return problems
        state = json.loads(saved.read_text())
        for key, value in state["sysctls"].items():
            try:
                Path("/proc/sys", key).write_text(value)
            except OSError as e:
                problems.append(f"could not restore {key.replace('/', '.')}={value}: {e}")
        for d in FIXED_DIRS:
            if d not in state["missing_dirs"] or not os.path.isdir(d):
                continue
            for name in KNOWN_LEFTOVERS.get(d, ()):
                Path(d, name).unlink(missing_ok=True)
            try:
                os.rmdir(d)
            except OSError as e:
                problems.append(f"left {d} in place: {e.strerror}{_contents(d)}")
        saved.unlink()
    return problems


def _contents(d: str, most: int = 10) -> str:
    """What keeps a directory in place, links with their targets: what the message needs to be acted on."""
    try:
        names = sorted(os.listdir(d))
    except OSError:
        return ""
    shown = []
    for n in names[:most]:
        p = os.path.join(d, n)
        shown.append(f"{n} -> {os.readlink(p)}" if os.path.islink(p) else n)
    more = f", and {len(names) - most} more" if len(names) > most else ""
    return " (" + ", ".join(shown) + more + ")" if shown else ""
