"""Issue 11's flooding neighbour: one typist's echo idle and beside a `yes` flood in another session.

The flood runs in its own process (bench/flood.py), so its work never slows the measuring
client; the CPU the machine and the processes used over each flood window is reported too.
"""
from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time

from . import latency
from .latency import ROOT
from .client import Console
from .env import BenchEnv
from .servers import BenchServer

log = logging.getLogger(__name__)


class Flood:
    """A `yes`-flooding neighbour in its own process (so its work never slows the measuring client)."""

    def __init__(self, kind: str, where: str, seconds: float, cookie: str = ""):
        env = {**os.environ, "KWS_BENCH_COOKIE": cookie}
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.flood", kind, where, f"{seconds:.0f}"],
                                     stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)

    def __enter__(self) -> "Flood":
        line = self.proc.stdout.readline()
        if "started" not in line:
            self.__exit__()
            raise RuntimeError(f"flooding neighbour did not start: {line!r}")
        return self

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


class CpuUse:
    """How busy the machine's cores and some processes were over a window (percent of one core each)."""

    def __init__(self, **pids: int):
        import psutil
        self.procs = {name: psutil.Process(pid) for name, pid in pids.items()}

    @staticmethod
    def _busy(t) -> float:
        return t.user + t.system

    def __enter__(self) -> "CpuUse":
        import psutil
        self.t0, self.sys0 = time.monotonic(), psutil.cpu_times()
        self.p0 = {n: self._busy(p.cpu_times()) for n, p in self.procs.items()}
        return self

    def __exit__(self, *exc) -> None:
        import psutil
        wall, sys1 = time.monotonic() - self.t0, psutil.cpu_times()
        total = sum(sys1) - sum(self.sys0)
        idle = (sys1.idle + sys1.iowait) - (self.sys0.idle + self.sys0.iowait)
        self.result = {"machine_busy_pct": round(100 * (1 - idle / total), 1) if total else None,
                       "cores": psutil.cpu_count()}
        for n, p in self.procs.items():
            try:
                self.result[f"{n}_pct_of_a_core"] = round(100 * (self._busy(p.cpu_times()) - self.p0[n]) / wall, 1)
            except psutil.Error:
                self.result[f"{n}_pct_of_a_core"] = None


def _flood_seconds(keys: int, think_ms: float) -> float:
    return keys * think_ms / 1000 * 1.2 + 10


def run(env: BenchEnv, server, cookie: str, raw: dict) -> dict:
    """One session's echo idle and beside a `yes` flood: through this console (issue 11's
    neighbour), through raw exec, and the console's echo beside floods it does no work for.

    `raw` holds the raw exec baselines, measured in the first mode's pass only (as latency's).
    """
    first = "flood" not in raw
    _, _, think = env.sizes.latency_levels[0]
    keys, secs = env.sizes.flood_keys, _flood_seconds(env.sizes.flood_keys, think)
    auth = {"cookie": cookie}

    def echo() -> dict:
        """One session's echo through `server`, as the latency levels measure it."""
        return latency.summary(asyncio.run(latency._console_level(server, auth, 1, keys, think))[0])

    flood = {"keys": keys, "think_ms": think, "console_idle": echo()}
    # With the CPU use over each flood window: on a machine whose cores are all busy, every
    # process on a keystroke's path adds a scheduling wait, and the console is one more process.
    with Flood("console", server.url, secs, cookie) as fl, CpuUse(console=server.proc.pid, neighbour=fl.proc.pid) as cpu:
        flood["console_flood"] = echo()
    flood["cpu_console_flood"] = cpu.result
    if first:
        raw["flood_idle"] = latency.summary(latency._raw_level(env, 1, keys, think))
        with Flood("raw", str(env.kubeconfig), secs) as fl, CpuUse(neighbour=fl.proc.pid) as cpu:
            raw["flood"] = latency.summary(latency._raw_level(env, 1, keys, think))
        raw["cpu_raw_flood"] = cpu.result
    # The machine's share of it: the console's echo beside a flood that does not pass through
    # the console (raw exec's), so the console does no work for the flood.
    with Flood("raw", str(env.kubeconfig), secs) as fl, CpuUse(console=server.proc.pid, neighbour=fl.proc.pid) as cpu:
        flood["console_beside_raw_flood"] = echo()
    flood["cpu_console_beside_raw_flood"] = cpu.result
    # The console's own share: the same console flood, but in another console process on
    # the same machine; what the echo loses beyond this is the flooded process's doing.
    other = BenchServer(env.kubeconfig, env.instance("flood-elsewhere"),
                        async_mode=server.env.get("KWS_ASYNC_MODE", "eventlet")).start()
    try:
        with Flood("console", other.url, secs, Console.cookie_for(other)) as fl, \
                CpuUse(console=server.proc.pid, other_console=other.proc.pid) as cpu:
            flood["console_beside_other_console_flood"] = echo()
        flood["cpu_console_beside_other_console_flood"] = cpu.result
        other.drain()
    finally:
        other.stop()
    flood["raw_idle"], flood["raw_flood"] = raw["flood_idle"], raw["flood"]
    flood["cpu_raw_flood"] = raw.get("cpu_raw_flood")
    flood["ratio_p99_flood_idle"] = round(flood["console_flood"]["p99"] / flood["console_idle"]["p99"], 3)
    flood["raw_ratio_p99_flood_idle"] = round(flood["raw_flood"]["p99"] / flood["raw_idle"]["p99"], 3)
    log.info("latency flood: %s", flood)
    return flood
