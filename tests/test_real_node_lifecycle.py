"""The real node's start and stop: two clusters side by side, nothing left behind, loud failures."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from localcluster import host
from localcluster import node as realnode
from localcluster.cluster import ClusterError, LocalCluster

from .targets import target_for


def _traces(d: Path) -> dict:
    """Everything a node in cluster dir `d` could leave on the host."""
    nid = realnode.node_id(d)
    sock = str(d / "node" / "containerd" / "containerd.sock")
    shims = [p.name for p in Path("/proc").iterdir() if p.name.isdigit() and _cmdline_has(p, sock)]
    sandboxes = d / "node" / "containerd" / "root" / "io.containerd.grpc.v1.cri" / "sandboxes"
    sockets = [s for s in (hashlib.sha256(f"{sock}/k8s.io/{p.name}".encode()).hexdigest()
                           for p in (sandboxes.iterdir() if sandboxes.is_dir() else ()))
               if Path(realnode.SHIM_SOCKETS, s).exists()]
    return {
        "mounts": [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()
                   if line.split()[4].startswith(f"{d}/")],
        "cgroups": [str(h / nid) for h in Path("/sys/fs/cgroup").iterdir() if (h / nid).exists()],
        "shims": shims,
        "shim sockets": sockets,
        "log links": [p.name for p in Path("/var/log/containers").glob("*.log")
                      if p.is_symlink() and os.readlink(p).startswith(f"{d}/")],
        "registered": (host.REGISTRY / "nodes" / nid).exists(),
    }


def _cmdline_has(p: Path, needle: str) -> bool:
    try:
        return needle.encode() in (p / "cmdline").read_bytes()
    except OSError:
        return False


def test_a_second_cluster_runs_beside_and_stops_cleanly(cluster, real_target):
    """Per-cluster containerd, kubelet, cgroup root and ports; stopping one leaves the other working,
    and leaves nothing of its own behind. The host's sysctls stay as the kubelet set them while
    another node runs (the last one to stop restores them)."""
    before = {k: Path("/proc/sys", k).read_text() for k in host.SYSCTLS}
    d = Path(tempfile.mkdtemp(prefix="kws-second-"))
    d.chmod(0o755)
    second = LocalCluster(d, real_node=True)
    try:
        second.up(log=lambda *_: None)
        theirs = target_for("real", second)
        r = theirs.kubectl("exec", theirs.pod, "--", "cat", "/etc/hostname")
        assert r.returncode == 0 and r.stdout.strip() == b"web", r.stderr
        mine = json.loads(cluster.state_file.read_text())["ports"]
        assert not set(json.loads(second.state_file.read_text())["ports"].values()) & set(mine.values())
        t = _traces(d)
        assert t["cgroups"] and t["shims"] and t["shim sockets"] and t["log links"] and t["registered"]
    finally:
        second.down(quiet=True)
    try:
        assert _traces(d) == {"mounts": [], "cgroups": [], "shims": [], "shim sockets": [],
                              "log links": [], "registered": False}
        r = real_target.kubectl("exec", real_target.pod, "--", "echo", "still-here")
        assert r.returncode == 0 and r.stdout.strip() == b"still-here", r.stderr
        assert {k: Path("/proc/sys", k).read_text() for k in host.SYSCTLS} == before
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_a_missing_runtime_fails_loudly_with_the_reason(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))     # no containerd, ctr or runc to be found
    with pytest.raises(ClusterError) as err:
        realnode.check_host()
    assert "`containerd` is missing (apt-get install containerd)" in str(err.value)
    assert "KWS_REAL_NODE=0" in str(err.value)


@pytest.mark.parametrize("value,on", [("", True), ("1", True), ("0", False), ("off", False), ("false", False)])
def test_the_setting_turns_the_real_node_off(monkeypatch, value, on):
    monkeypatch.setenv("KWS_REAL_NODE", value or "1")
    assert realnode.enabled() is on
    assert LocalCluster(Path("/nonexistent")).real_node is on
    assert LocalCluster(Path("/nonexistent"), real_node=False).real_node is False
