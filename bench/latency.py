"""Benchmark 2: keystroke echo latency at 1..N concurrent sessions (beside a flood: bench/neighbour.py).

Each session runs `stty -icanon; exec cat >/dev/null`: the pty then echoes every key at once
(the kernel's echo, as for a shell's prompt) and cat drains the input. A "typist" sends one
printable key, waits for its one-byte echo, pauses (think time), and repeats.
"""
from __future__ import annotations

import asyncio
import logging
import random
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .client import NS, Console
from .env import BenchEnv, Where
from .ptyexec import KubectlShell
from .rawexec import RawShell

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
    """One async mode: every level through the console (cookie and token sockets).

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
    return {"levels": levels, "stress": stress, "raw_measured_here": first}


def run_node(env: BenchEnv, server, cookie: str, node: str) -> dict:
    """The levels up to 50 sessions on another node (the real one): cookie and token sockets, raw
    exec and `kubectl exec -it`, all into the same pod of that node, one after the other."""
    consoles = {"console": (server, {"cookie": cookie}),
                "console_token": (server, {"token": Console.token_for(server)})}
    plan = [lv for lv in env.sizes.latency_levels if lv[0] <= 50]
    return {"node": node, "levels": _levels(env, consoles, plan, {}, env.where(node))}
