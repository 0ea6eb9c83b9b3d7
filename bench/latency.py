"""Benchmark 2: keystroke echo latency at 1..N concurrent sessions, and beside a flooding neighbour.

Each session runs `stty -icanon; exec cat >/dev/null`: the pty then echoes every key at once
(the kernel's echo, as for a shell's prompt) and cat drains the input. A "typist" sends one
printable key, waits for its one-byte echo, pauses (think time), and repeats.
"""
from __future__ import annotations

import asyncio
import logging
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .client import NS, Console
from .env import BenchEnv, Where
from .ptyexec import KubectlShell
from .rawexec import RawShell
from .servers import BenchServer

log = logging.getLogger(__name__)
SETUP = "stty -icanon; exec cat >/dev/null\n"
KEYS = "abcdefghijklmnopqrstuvwxyz"
OPEN_PARALLEL = 8
ROOT = Path(__file__).resolve().parent.parent


def summary(samples: list[float]) -> dict:
    """p50/p95/p99/max in milliseconds."""
    if not samples:
        return {"n": 0}
    ms = sorted(s * 1000 for s in samples)

    def pct(p: float) -> float:
        return round(ms[min(len(ms) - 1, int(round(p / 100 * (len(ms) - 1))))], 3)
    return {"n": len(ms), "p50": pct(50), "p95": pct(95), "p99": pct(99), "max": round(ms[-1], 3),
            "mean": round(statistics.fmean(ms), 3)}


def _pause(think_ms: float, rng: random.Random) -> float:
    return think_ms / 1000 * rng.uniform(0.5, 1.5)


# -- console -------------------------------------------------------------------
async def _console_sessions(server, auth: dict, n: int, where: Where | None = None) -> list[tuple[Console, str]]:
    sem = asyncio.Semaphore(OPEN_PARALLEL)

    async def one() -> tuple[Console, str]:
        async with sem:
            con = await Console(server, **auth).connect()
            ack = await (con.open(where.pod, where.namespace) if where else con.open())
            if not ack.get("ok"):
                await con.disconnect()
                raise RuntimeError(f"console open failed: {ack}")
            sid = ack["session"]
            await con.send(sid, SETUP)
            return con, sid
    return list(await asyncio.gather(*(one() for _ in range(n))))


async def _console_type(think_ms: float, con: Console, sid: str, keys: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    sink = con.sinks[sid]
    out = []
    for i in range(keys):
        await asyncio.sleep(_pause(think_ms, rng))
        n0 = sink.n
        t0 = time.perf_counter()
        await con.sio.emit("input", {"session": sid, "data": KEYS[i % len(KEYS)]}, namespace=NS)
        await sink.wait(lambda s: s.n > n0, 30)
        out.append(time.perf_counter() - t0)
    return out


async def _console_level(server, auth: dict, n: int, keys: int, think_ms: float,
                         on_typing=None, where: Where | None = None) -> tuple[list[float], float]:
    """(echo round trips in seconds, the server's CPU seconds over the typing phase);
    `on_typing()` is called when the sessions are open and typing starts (bench/keyprofile.py)."""
    import psutil
    sessions = await _console_sessions(server, auth, n, where)
    try:
        await asyncio.sleep(1.0)   # let prompts and the setup's echo settle
        if on_typing is not None:
            on_typing()
        cpu0 = _on_cpu_seconds(server.proc.pid)
        results = await asyncio.gather(*(_console_type(think_ms, c, s, keys, i)
                                         for i, (c, s) in enumerate(sessions)))
        cpu = _on_cpu_seconds(server.proc.pid) - cpu0
        return [x for r in results for x in r], cpu
    finally:
        await asyncio.gather(*(_end(c, s) for c, s in sessions), return_exceptions=True)
        await asyncio.gather(*(c.disconnect() for c, _ in sessions), return_exceptions=True)


async def _end(con: Console, sid: str) -> None:
    """Ctrl-C ends the exec'd cat, so the session ends by itself; close it if it does not."""
    await con.send(sid, "\x03")
    try:
        await con.sinks[sid].wait(lambda s: s.exited is not None, 5)
    except TimeoutError:
        await con.close_session(sid)


# -- raw exec ------------------------------------------------------------------
def _raw_type(think_ms: float, shell: RawShell, keys: int, seed: int, out: list, lock: threading.Lock) -> None:
    rng = random.Random(seed)
    mine = []
    for i in range(keys):
        time.sleep(_pause(think_ms, rng))
        with shell.cond:
            n0 = shell.n
        t0 = time.perf_counter()
        shell.write(KEYS[i % len(KEYS)])
        shell.wait(lambda s: s.n > n0, 30)
        mine.append(time.perf_counter() - t0)
    with lock:
        out.extend(mine)


def _raw_level(env: BenchEnv, n: int, keys: int, think_ms: float, shell=RawShell,
               where: Where | None = None) -> list[float]:
    """Raw exec websockets (`shell=RawShell`) or `kubectl exec -it` under a pty (`KubectlShell`)."""
    where = where or env.where("kwok")
    with ThreadPoolExecutor(OPEN_PARALLEL) as pool:
        shells = list(pool.map(lambda _: shell(env.kubeconfig, namespace=where.namespace, pod=where.pod), range(n)))
    try:
        for s in shells:
            s.write(SETUP)
        time.sleep(1.0)
        out: list[float] = []
        lock = threading.Lock()
        threads = [threading.Thread(target=_raw_type, args=(think_ms, s, keys, i, out, lock))
                   for i, s in enumerate(shells)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return out
    finally:
        with ThreadPoolExecutor(OPEN_PARALLEL) as pool:
            list(pool.map(lambda s: s.close(), shells))


# -- flood -----------------------------------------------------------------------
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


def _on_cpu_seconds(pid: int) -> float:
    """Time every thread of `pid` has run, to the nanosecond (/proc/<pid>/task/*/schedstat).

    psutil's cpu_times() counts 10 ms clock ticks: a short typing phase (the --tiny run's
    ten keys) could measure 0.
    """
    total = 0
    for stat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        try:
            total += int(stat.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass                        # a thread that ended meanwhile
    return total / 1e9


def _flood_seconds(keys: int, think_ms: float) -> float:
    return keys * think_ms / 1000 * 1.2 + 10


def _console_row(server, auth: dict, n: int, keys: int, think: float, where: Where | None = None) -> dict:
    samples, cpu = asyncio.run(_console_level(server, auth, n, keys, think, where=where))
    return {**summary(samples), "server_cpu_s": round(cpu, 3),
            "server_cpu_ms_per_key": round(1000 * cpu / max(1, len(samples)), 3)}


def _levels(env: BenchEnv, consoles: dict, plan, raw: dict | None, where: Where | None = None) -> list[dict]:
    """Each level through every console client (`consoles`: name -> (server, auth)), then the
    baselines: raw exec and `kubectl exec -it` under a pty, measured once per run (in `raw`),
    all in the same pod (`where`, by default the kwok node's demo/web-1)."""
    rows = []
    for n, keys, think in plan:
        row = {"sessions": n, "keys_per_session": keys, "think_ms": think,
               "keys_per_s": round(n * 1000 / think, 1)}
        for name, (server, auth) in consoles.items():
            row[name] = _console_row(server, auth, n, keys, think, where)
        key = f"{n}/{keys}/{think}"
        if raw is not None and key not in raw:
            raw[key] = summary(_raw_level(env, n, keys, think, where=where))
            raw["kubectl/" + key] = summary(_raw_level(env, n, keys, think, KubectlShell, where))
        if raw is not None:
            row["raw_exec"], row["kubectl"] = raw[key], raw["kubectl/" + key]
            row["overhead_p50_ms"] = round(row["console"]["p50"] - row["raw_exec"]["p50"], 3)
            row["overhead_p99_ms"] = round(row["console"]["p99"] - row["raw_exec"]["p99"], 3)
            for name in consoles:
                row[name]["over_kubectl_p50_ms"] = round(row[name]["p50"] - row["kubectl"]["p50"], 3)
                row[name]["over_kubectl_p99_ms"] = round(row[name]["p99"] - row["kubectl"]["p99"], 3)
        log.info("latency %d sessions at %.0f keys/s: %s", n, row["keys_per_s"], row)
        rows.append(row)
    return rows


def run(env: BenchEnv, server, cookie: str, raw: dict, before=None) -> dict:
    """One async mode: every level through the console (cookie and token sockets), then the flood pair.

    `raw` holds the baselines (raw exec, kubectl -it), shared across modes (they do not depend
    on the console): measured in the first mode's pass, right after its console run. `before`,
    a second server (another checkout, same mode) and its cookie, is measured beside this one
    in every row: "before" and "after" a change, in one run.
    """
    first = not raw
    consoles = {"console": (server, {"cookie": cookie}),
                "console_token": (server, {"token": Console.token_for(server)})}
    if before is not None:
        bsrv, bcookie = before
        consoles["before"] = (bsrv, {"cookie": bcookie})
        consoles["before_token"] = (bsrv, {"token": Console.token_for(bsrv)})
    levels = _levels(env, consoles, env.sizes.latency_levels, raw)
    stress = _levels(env, consoles, env.sizes.latency_stress, raw)
    flood = _flood_pair(env, server, cookie, raw, first)
    return {"levels": levels, "stress": stress, "flood": flood, "raw_measured_here": first}


def _flood_pair(env: BenchEnv, server, cookie: str, raw: dict, first: bool) -> dict:
    """One session's echo idle and beside a `yes` flood: through this console (issue 11's
    neighbour), through raw exec, and the console's echo beside floods it does no work for."""
    _, _, think = env.sizes.latency_levels[0]
    keys, secs = env.sizes.flood_keys, _flood_seconds(env.sizes.flood_keys, think)
    auth = {"cookie": cookie}
    flood = {"keys": keys, "think_ms": think,
             "console_idle": summary(asyncio.run(_console_level(server, auth, 1, keys, think))[0])}
    # With the CPU use over each flood window: on a machine whose cores are all busy, every
    # process on a keystroke's path adds a scheduling wait, and the console is one more process.
    with Flood("console", server.url, secs, cookie) as fl, CpuUse(console=server.proc.pid, neighbour=fl.proc.pid) as cpu:
        flood["console_flood"] = summary(asyncio.run(_console_level(server, auth, 1, keys, think))[0])
    flood["cpu_console_flood"] = cpu.result
    if first:
        raw["flood_idle"] = summary(_raw_level(env, 1, keys, think))
        with Flood("raw", str(env.kubeconfig), secs) as fl, CpuUse(neighbour=fl.proc.pid) as cpu:
            raw["flood"] = summary(_raw_level(env, 1, keys, think))
        raw["cpu_raw_flood"] = cpu.result
    # The machine's share of it: the console's echo beside a flood that does not pass through
    # the console (raw exec's), so the console does no work for the flood.
    with Flood("raw", str(env.kubeconfig), secs) as fl, CpuUse(console=server.proc.pid, neighbour=fl.proc.pid) as cpu:
        flood["console_beside_raw_flood"] = summary(asyncio.run(_console_level(server, auth, 1, keys, think))[0])
    flood["cpu_console_beside_raw_flood"] = cpu.result
    # The console's own share: the same console flood, but in another console process on
    # the same machine; what the echo loses beyond this is the flooded process's doing.
    other = BenchServer(env.kubeconfig, env.instance("flood-elsewhere"),
                        async_mode=server.env.get("KWS_ASYNC_MODE", "eventlet")).start()
    try:
        with Flood("console", other.url, secs, Console.cookie_for(other)) as fl, \
                CpuUse(console=server.proc.pid, other_console=other.proc.pid) as cpu:
            flood["console_beside_other_console_flood"] = summary(
                asyncio.run(_console_level(server, auth, 1, keys, think))[0])
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


def run_node(env: BenchEnv, server, cookie: str, node: str) -> dict:
    """The levels up to 50 sessions on another node (the real one): cookie and token sockets, raw
    exec and `kubectl exec -it`, all into the same pod of that node, one after the other."""
    consoles = {"console": (server, {"cookie": cookie}),
                "console_token": (server, {"token": Console.token_for(server)})}
    plan = [lv for lv in env.sizes.latency_levels if lv[0] <= 50]
    return {"node": node, "levels": _levels(env, consoles, plan, {}, env.where(node))}
