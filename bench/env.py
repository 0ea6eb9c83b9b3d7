"""The benchmark's world: the local cluster, the files and pods it needs, sizes, the machine."""
from __future__ import annotations

import base64
import logging
import os
import platform
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from localcluster import demo
from localcluster.cluster import LocalCluster

log = logging.getLogger(__name__)
MB = 1024 * 1024


@dataclass
class Sizes:
    """How much each benchmark does; `full()` is the documented run, `tiny()` the smoke test's."""

    stream_bytes: int          # cat / yes output
    # `yes` through kwok's pty runs at ~6 MB/s: in the other async modes it streams this much
    # (the default mode gets the full 200 MiB), so that a run stays under 15 minutes.
    yes_bytes_other_modes: int
    # Latency levels: (concurrent sessions, keystrokes per session, mean pause between one
    # session's keystrokes in ms). Targets apply to these; `latency_stress` is reported only.
    latency_levels: list[tuple[int, int, float]]
    latency_stress: list[tuple[int, int, float]]
    flood_keys: int            # the flood pair types at the first level's pace (200: a p99 that is not the maximum)
    capacity_sessions: int
    capacity_extra: int        # opens attempted beyond the cap
    transfer_sizes: list[int]
    transfer_repeats: int      # each size this many times, console and kubectl taking turns first
    timeout: float
    cp_probe_timeout: float    # how long `kubectl cp` into a pod may take before it counts as hung
    # Ctrl-C to prompt (bench/interrupt.py): flood lengths, concurrent flooding sessions, trials per cell.
    interrupt_floods: tuple[float, ...] = (5.0, 30.0)
    interrupt_sessions: tuple[int, ...] = (1, 20)
    interrupt_trials: int = 10
    interrupt_timeout: float = 60.0
    interrupt_clients: tuple[str, ...] = ("asyncio", "ack-50ms-late", "chromium")
    interrupt_kinds: tuple[str, ...] = ("yes", "cat")

    @classmethod
    def full(cls) -> "Sizes":
        # One fast typist (6.7 keys/s); at 50 and 200 sessions each types a key a second on
        # average (a busy human's sustained rate); the stress row has all 200 at 6.7 keys/s.
        return cls(stream_bytes=200 * MB, yes_bytes_other_modes=100 * MB, latency_levels=[(1, 60, 150.0), (50, 15, 1000.0), (200, 8, 1000.0)],
                   latency_stress=[(200, 10, 150.0)], flood_keys=200, capacity_sessions=1000, capacity_extra=5,
                   transfer_sizes=[100 * MB, 1024 * MB], transfer_repeats=3, timeout=600.0, cp_probe_timeout=20.0)

    @classmethod
    def tiny(cls) -> "Sizes":
        return cls(stream_bytes=1 * MB, yes_bytes_other_modes=1 * MB, latency_levels=[(1, 10, 20.0), (3, 5, 20.0)], latency_stress=[(3, 5, 5.0)],
                   flood_keys=10, capacity_sessions=4, capacity_extra=1, transfer_sizes=[1 * MB], transfer_repeats=2, timeout=60.0,
                   cp_probe_timeout=5.0, interrupt_floods=(1.0,), interrupt_sessions=(1, 2), interrupt_trials=2,
                   interrupt_timeout=30.0)


@dataclass(frozen=True)
class Where:
    """A pod for the terminal benchmarks: the same pod for the console, raw exec and kubectl."""
    node: str
    namespace: str
    pod: str
    container: str
    big_text: Path           # on the host; the same path, or its name in the working directory, inside

    @property
    def cat_path(self) -> str:
        return str(self.big_text) if self.node == "real" else self.big_text.name


@dataclass
class BenchEnv:
    cluster: LocalCluster
    sizes: Sizes
    out: Path

    @property
    def kubeconfig(self) -> Path:
        return self.cluster.admin_kubeconfig

    def container_dir(self, ns: str = "demo", pod: str = "web-1", container: str = "web") -> Path:
        return demo.container_dir(self.cluster.sandbox, ns, pod, container)

    @property
    def big_text(self) -> Path:
        return self.container_dir() / "bench-big.txt"

    @property
    def has_real_node(self) -> bool:
        return bool(self.cluster._state().get("real_node"))

    def where(self, node: str) -> Where:
        """The pod the terminal benchmarks use on `node` ("kwok": demo/web-1, "real": real/web)."""
        if node == "real":
            from localcluster import realpods
            return Where("real", realpods.NAMESPACE, "web", "web",
                         Path(realpods.share_dir(self.cluster.dir)) / "bench-big.txt")
        return Where("kwok", "demo", "web-1", "web", self.big_text)

    def prepare(self) -> None:
        """A text file of stream_bytes (a log-like file for `cat`) in demo/web-1/web (and real/web)."""
        for path in [self.big_text] + ([self.where("real").big_text] if self.has_real_node else []):
            if not path.exists() or path.stat().st_size != self.sizes.stream_bytes:
                write_text_file(path, self.sizes.stream_bytes)
            chown_like(path, path.parent)

    def instance(self, name: str) -> Path:
        """A fresh instance folder for one console server."""
        d = self.out / "servers" / name
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        return d


def write_text_file(path: Path, size: int) -> None:
    """Printable lines (base64 of random bytes, 76 columns) up to exactly `size` bytes."""
    block = base64.encodebytes(os.urandom(MB))[:MB]
    with open(path, "wb") as f:
        left = size
        while left > 0:
            f.write(block[:left])
            left -= min(left, len(block))


def chown_like(path: Path, ref: Path) -> None:
    st = ref.stat()
    if os.geteuid() == 0:
        os.chown(path, st.st_uid, st.st_gid)


@contextmanager
def local_cluster(existing: Path | None = None):
    """A running local cluster: `existing` (left running) or a new one stopped afterwards."""
    if existing is not None:
        lc = LocalCluster(existing)
        if not lc.is_running():
            raise RuntimeError(f"no running local cluster in {existing}")
        yield lc
        return
    state = Path(tempfile.mkdtemp(prefix="kws-bench-cluster-"))
    state.chmod(0o755)   # exec runs as `nobody` under root: it must reach the sandbox
    lc = LocalCluster(state)
    try:
        lc.up(log=log.info)
        yield lc
    finally:
        lc.down(quiet=True)
        shutil.rmtree(state, ignore_errors=True)


def ensure_pods(cluster: LocalCluster, namespace: str, count: int) -> list[str]:
    """`count` running pods named cap-N in `namespace` (the catch-all ClusterExec serves them)."""
    from kubernetes import client, config
    from kubernetes.client.rest import ApiException

    api = config.new_client_from_config(str(cluster.admin_kubeconfig))
    core = client.CoreV1Api(api)
    try:
        core.create_namespace({"metadata": {"name": namespace}})
        core.create_namespaced_service_account(namespace, {"metadata": {"name": "default"}})
    except ApiException as e:
        if e.status != 409:
            raise
    names = [f"cap-{i}" for i in range(count)]
    existing = {p.metadata.name for p in core.list_namespaced_pod(namespace).items}
    for name in names:
        if name not in existing:
            core.create_namespaced_pod(namespace, demo.pod_manifest(namespace, name, ["main"]))
    demo.wait_running(core, [(namespace, n) for n in names], timeout=60)
    return names


def machine() -> dict:
    def sh(*argv: str) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    return {"nproc": sh("nproc"), "free_h": sh("free", "-h"), "lscpu": "\n".join(sh("lscpu").splitlines()[:10]),
            "kernel": platform.release(), "python": platform.python_version()}


def sizes_dict(sizes: Sizes) -> dict:
    return asdict(sizes)
