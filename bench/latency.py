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

from .client import NS, Console
from .env import BenchEnv
from .rawexec import RawShell

log = logging.getLogger(__name__)
SETUP = "stty -icanon; exec cat >/dev/null\n"
KEYS = "abcdefghijklmnopqrstuvwxyz"
OPEN_PARALLEL = 8


def summary(samples: list[float]) -> dict:
    """p50/p95/p99/max in milliseconds."""
    if not samples:
        return {"n": 0}
    ms = sorted(s * 1000 for s in samples)

    def pct(p: float) -> float:
        return round(ms[min(len(ms) - 1, int(round(p / 100 * (len(ms) - 1))))], 3)
    return {"n": len(ms), "p50": pct(50), "p95": pct(95), "p99": pct(99), "max": round(ms[-1], 3),
            "mean": round(statistics.fmean(ms), 3)}


def _pause(env: BenchEnv, rng: random.Random) -> float:
    return env.sizes.think_ms / 1000 * rng.uniform(0.5, 1.5)


# -- console -------------------------------------------------------------------
async def _console_sessions(server, cookie: str, n: int) -> list[tuple[Console, str]]:
    sem = asyncio.Semaphore(OPEN_PARALLEL)

    async def one() -> tuple[Console, str]:
        async with sem:
            con = await Console(server, cookie).connect()
            ack = await con.open()
            if not ack.get("ok"):
                await con.disconnect()
                raise RuntimeError(f"console open failed: {ack}")
            sid = ack["session"]
            await con.send(sid, SETUP)
            return con, sid
    return list(await asyncio.gather(*(one() for _ in range(n))))


async def _console_type(env: BenchEnv, con: Console, sid: str, keys: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    sink = con.sinks[sid]
    out = []
    for i in range(keys):
        await asyncio.sleep(_pause(env, rng))
        n0 = sink.n
        t0 = time.perf_counter()
        await con.sio.emit("input", {"session": sid, "data": KEYS[i % len(KEYS)]}, namespace=NS)
        await sink.wait(lambda s: s.n > n0, 30)
        out.append(time.perf_counter() - t0)
    return out


async def _console_level(env: BenchEnv, server, cookie: str, n: int, keys: int) -> list[float]:
    sessions = await _console_sessions(server, cookie, n)
    try:
        await asyncio.sleep(1.0)   # let prompts and the setup's echo settle
        results = await asyncio.gather(*(_console_type(env, c, s, keys, i) for i, (c, s) in enumerate(sessions)))
        return [x for r in results for x in r]
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
def _raw_type(env: BenchEnv, shell: RawShell, keys: int, seed: int, out: list, lock: threading.Lock) -> None:
    rng = random.Random(seed)
    mine = []
    for i in range(keys):
        time.sleep(_pause(env, rng))
        with shell.cond:
            n0 = shell.n
        t0 = time.perf_counter()
        shell.write(KEYS[i % len(KEYS)])
        shell.wait(lambda s: s.n > n0, 30)
        mine.append(time.perf_counter() - t0)
    with lock:
        out.extend(mine)


def _raw_level(env: BenchEnv, n: int, keys: int) -> list[float]:
    with ThreadPoolExecutor(OPEN_PARALLEL) as pool:
        shells = list(pool.map(lambda _: RawShell(env.kubeconfig), range(n)))
    try:
        for s in shells:
            s.write(SETUP)
        time.sleep(1.0)
        out: list[float] = []
        lock = threading.Lock()
        threads = [threading.Thread(target=_raw_type, args=(env, s, keys, i, out, lock)) for i, s in enumerate(shells)]
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
                                     stdout=subprocess.PIPE, text=True, env=env)

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


def _flood_seconds(env: BenchEnv) -> float:
    return env.sizes.flood_keys * env.sizes.think_ms / 1000 * 1.2 + 10


def run(env: BenchEnv, server, cookie: str, raw_too: bool = True) -> dict:
    """One async mode: every level through the console (and raw exec), then the flood pair."""
    levels = []
    for n in env.sizes.latency_levels:
        keys = env.sizes.latency_keys[n]
        row = {"sessions": n, "keys_per_session": keys}
        row["console"] = summary(asyncio.run(_console_level(env, server, cookie, n, keys)))
        if raw_too:
            row["raw_exec"] = summary(_raw_level(env, n, keys))
            row["overhead_p50_ms"] = round(row["console"]["p50"] - row["raw_exec"]["p50"], 3)
            row["overhead_p99_ms"] = round(row["console"]["p99"] - row["raw_exec"]["p99"], 3)
        log.info("latency %d sessions: %s", n, row)
        levels.append(row)
    keys = env.sizes.flood_keys
    flood = {"keys": keys, "console_idle": summary(asyncio.run(_console_level(env, server, cookie, 1, keys)))}
    with Flood("console", server.url, _flood_seconds(env), cookie):
        flood["console_flood"] = summary(asyncio.run(_console_level(env, server, cookie, 1, keys)))
    if raw_too:
        flood["raw_idle"] = summary(_raw_level(env, 1, keys))
        with Flood("raw", str(env.kubeconfig), _flood_seconds(env)):
            flood["raw_flood"] = summary(_raw_level(env, 1, keys))
    flood["ratio_p99_flood_idle"] = round(flood["console_flood"]["p99"] / flood["console_idle"]["p99"], 3)
    log.info("latency flood: %s", flood)
    return {"levels": levels, "flood": flood}
