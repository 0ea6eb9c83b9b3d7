"""Benchmark 3: file upload and download through the console vs kubectl, and the server's memory,
on the kwok node (demo/web-2) and on the real node (real/web, whose files are a host directory
mounted at the same path: localcluster.realpods.share_dir). On the real node `kubectl cp` works.

Uploads compare against `kubectl cp` when it completes on this cluster; kwok never delivers
stdin EOF, so `tar x` inside the pod may wait forever. Then the baseline is
`kubectl exec -i POD -- sh -c 'head -c N > FILE'` fed from the same file (the byte-count
technique the console itself uses), and the report says so.
"""
from __future__ import annotations

import logging
import os
import statistics
import subprocess
import threading
import time
from pathlib import Path


from localcluster.console import csrf_token, login

from localcluster import realpods

from .env import MB, BenchEnv, chown_like
from .rawexec import KUBECTL
from .servers import BenchServer

log = logging.getLogger(__name__)
POD, CONTAINER = "web-2", "web"


class PeakRss:
    """Samples a process's RSS every 50 ms in a thread; .peak is the highest seen."""

    def __init__(self, server: BenchServer):
        self.server, self.peak, self._stop = server, server.rss(), threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self.server.rss())

    def __enter__(self) -> "PeakRss":
        self._t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._t.join()


def make_source(path: Path, size: int) -> None:
    """`size` bytes of random-looking data (a 1 MiB random block repeated: no compression applies)."""
    if path.exists() and path.stat().st_size == size:
        return
    block = os.urandom(MB)
    with open(path, "wb") as f:
        for _ in range(size // MB):
            f.write(block)
        f.write(block[:size % MB])


def _kubectl(*args: str, stdin=None, timeout: float) -> tuple[bool, float]:
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([str(KUBECTL), *args], stdin=stdin, capture_output=True, timeout=timeout)
        ok = proc.returncode == 0
        if not ok:
            log.warning("kubectl %s failed: %s", args[:3], proc.stderr.decode(errors="replace")[-500:])
    except subprocess.TimeoutExpired:
        ok = False
    return ok, time.perf_counter() - t0


def _rate(size: int, seconds: float) -> dict:
    return {"seconds": round(seconds, 3), "mb_per_s": round(size / MB / seconds, 2)}


def run(env: BenchEnv, node: str = "kwok") -> dict:
    kc = str(env.kubeconfig)
    if node == "real":
        ns, pod = realpods.NAMESPACE, "web"
        box = Path(realpods.share_dir(env.cluster.dir)) / "bench-transfer"
    else:
        ns, pod = "demo", POD
        box = env.container_dir("demo", POD, CONTAINER) / "bench-transfer"
    box.mkdir(exist_ok=True)
    chown_like(box, box.parent)
    local = env.out / f"transfer-{node}"
    local.mkdir(exist_ok=True)
    base = ["--kubeconfig", kc, "-n", ns]
    # Does `kubectl cp` into a pod finish here? (It needs stdin EOF, which kwok does not deliver.)
    probe = local / "probe.bin"
    make_source(probe, MB)
    cp_ok, _ = _kubectl(*base, "cp", "-c", CONTAINER, str(probe), f"{pod}:{box / 'probe.bin'}",
                        timeout=env.sizes.cp_probe_timeout)
    upload_how = "kubectl cp" if cp_ok else "kubectl exec -i -- head -c N >file"
    if not cp_ok:   # the hung `tar x` outlives kubectl on kwok: end exactly that process
        _kubectl(*base, "exec", "-c", CONTAINER, pod, "--", "pkill", "-x", "-f", f"tar -xmf - -C {box}",
                 timeout=30)
    srv = BenchServer(env.kubeconfig, env.instance(f"transfer-{node}")).start()
    rows, peak_growth = [], 0
    try:
        http = login(srv)
        http.headers["X-CSRFToken"] = csrf_token(http, srv)
        url = f"{srv.url}/api/clusters/kws-local/namespaces/{ns}/pods/{pod}/files"
        params = {"container": CONTAINER}
        base_rss = srv.rss()

        def console_up(src: Path, dest: Path) -> float:
            nonlocal peak_growth
            with PeakRss(srv) as peak, open(src, "rb") as f:
                t0 = time.perf_counter()
                r = http.put(url + "/upload", data=f, params={**params, "path": str(dest)}, timeout=env.sizes.timeout)
                took = time.perf_counter() - t0
            r.raise_for_status()
            peak_growth = max(peak_growth, peak.peak - base_rss)
            return took

        def console_down(src: Path, dest: Path) -> float:
            nonlocal peak_growth
            with PeakRss(srv) as peak:
                t0 = time.perf_counter()
                with http.get(url + "/download", params={**params, "path": str(src)}, stream=True,
                              timeout=env.sizes.timeout) as resp, open(dest, "wb") as out:
                    resp.raise_for_status()
                    for chunk in resp.iter_content(MB):
                        out.write(chunk)
                took = time.perf_counter() - t0
            peak_growth = max(peak_growth, peak.peak - base_rss)
            return took

        def kubectl_up(src: Path, dest: Path, size: int) -> tuple[bool, float]:
            if cp_ok:
                return _kubectl(*base, "cp", "-c", CONTAINER, str(src), f"{pod}:{dest}", timeout=env.sizes.timeout)
            with open(src, "rb") as f:
                return _kubectl(*base, "exec", "-i", "-c", CONTAINER, pod, "--", "sh", "-c", 'head -c "$1" > "$2"',
                                "sh", str(size), str(dest), stdin=f, timeout=env.sizes.timeout)

        # A console is a long-running server: its first transfer pays one-time costs (the API
        # client, the first TLS session) that no later one does. Pay them before measuring.
        console_up(probe, box / "warm.bin")
        console_down(box / "warm.bin", local / "warm.bin")
        (box / "warm.bin").unlink(missing_ok=True)

        for size in env.sizes.transfer_sizes:
            src = local / f"src-{size}.bin"
            make_source(src, size)
            remote_c, remote_k = box / f"console-{size}.bin", box / f"kubectl-{size}.bin"
            dest_c, dest_k = local / f"down-console-{size}.bin", local / f"down-kubectl-{size}.bin"
            times = {k: [] for k in ("up_c", "up_k", "down_c", "down_k")}
            # Repeated, console and kubectl taking turns at going first: the page cache and the
            # write-back of the previous file then favour neither.
            for rep in range(env.sizes.transfer_repeats):
                for who in (("console", "kubectl") if rep % 2 == 0 else ("kubectl", "console")):
                    if who == "console":
                        times["up_c"].append(console_up(src, remote_c))
                        assert remote_c.stat().st_size == size, "console upload incomplete"
                        times["down_c"].append(console_down(remote_c, dest_c))
                        assert dest_c.stat().st_size == size, "console download incomplete"
                    else:
                        ok, took = kubectl_up(src, remote_k, size)
                        assert remote_k.stat().st_size == size, "kubectl upload incomplete"
                        if ok:
                            times["up_k"].append(took)
                        ok, took = _kubectl(*base, "cp", "-c", CONTAINER, f"{pod}:{remote_c}",
                                            str(dest_k), timeout=env.sizes.timeout)
                        if ok and dest_k.stat().st_size == size:
                            times["down_k"].append(took)
                    for p in (remote_k, dest_c, dest_k):
                        p.unlink(missing_ok=True)
            for direction, how in (("up", upload_how), ("down", "kubectl cp")):
                console, kubectl = times[f"{direction}_c"], times[f"{direction}_k"]   # kubectl: its successes only
                mc, mk = statistics.median(console), statistics.median(kubectl) if kubectl else None
                rows.append({"direction": f"{direction}load", "mb": size // MB, "console": _rate(size, mc),
                             "kubectl": _rate(size, mk) if mk else None, "kubectl_how": how,
                             "kubectl_ok": len(kubectl) == len(console), "repeats": len(console),
                             "kubectl_failures": len(console) - len(kubectl),
                             "ratio": round(mk / mc, 3) if mk else None})
            remote_c.unlink(missing_ok=True)
            log.info("transfer %d MB: %s", size // MB, rows[-2:])
    finally:
        srv.stop()
        for p in local.glob("*.bin"):
            p.unlink(missing_ok=True)
    return {"node": node, "rows": rows, "kubectl_cp_upload_finishes": cp_ok, "upload_baseline": upload_how,
            "peak_rss_growth_mb": round(peak_growth / MB, 1), "server_rss_base_mb": round(base_rss / MB, 1)}
