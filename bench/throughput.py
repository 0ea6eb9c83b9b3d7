"""Benchmark 1: terminal output throughput, console vs raw exec vs kubectl, side by side."""
from __future__ import annotations

import asyncio
import logging

from .client import Console, run_marked
from .env import BenchEnv, Where
from .rawexec import RawShell, kubectl_exec

log = logging.getLogger(__name__)


def commands(env: BenchEnv, default_mode: bool = True, where: Where | None = None) -> list[tuple[str, str]]:
    """(name, shell command) pairs and how much they print before the TTY adds CRs."""
    n = env.sizes.stream_bytes if default_mode else env.sizes.yes_bytes_other_modes
    where = where or env.where("kwok")
    return [("cat", f"cat {where.cat_path}"), ("yes", f"yes | head -c {n}")]


def _rate(n: int, seconds: float) -> dict:
    return {"bytes": n, "seconds": round(seconds, 4), "mb_per_s": round(n / seconds / 1e6, 3)}


async def _console_run(server, cookie: str, command: str, timeout: float, where: Where) -> tuple[int, float]:
    con = await Console(server, cookie).connect()
    try:
        ack = await con.open(where.pod, where.namespace)
        if not ack.get("ok"):
            raise RuntimeError(f"console open failed: {ack}")
        sid = ack["session"]
        result = await run_marked(con.sinks[sid], lambda t: con.send(sid, t), command, timeout)
        await con.close_session(sid)
        return result
    finally:
        await con.disconnect()


def run(env: BenchEnv, server, cookie: str, default_mode: bool = True, node: str = "kwok") -> list[dict]:
    """One mode: every command through the console, a raw TTY exec and kubectl, one after the other,
    all three in the same pod on `node` (on the real node, raw exec's TTY is a real pty)."""
    rows = []
    where = env.where(node)
    for name, command in commands(env, default_mode, where):
        timeout = env.sizes.timeout
        raw = RawShell(env.kubeconfig, where.namespace, where.pod)
        try:
            rn, rt = raw.run_marked(command, timeout)
        finally:
            raw.close()
        cn, ct = asyncio.run(_console_run(server, cookie, command, timeout, where))
        kn, kt = kubectl_exec(env.kubeconfig, command, where.namespace, where.pod, timeout=timeout)
        row = {"name": name, "node": node, "command": command, "console": _rate(cn, ct),
               "raw_exec": _rate(rn, rt), "kubectl": _rate(kn, kt)}
        # Rates in bytes per second of the same payload: the TTY's CRs make the byte counts differ slightly.
        row["ratio_console_raw"] = round(rt / ct, 3)
        row["ratio_console_kubectl"] = round(kt / ct, 3)
        log.info("throughput %s on %s: console %.1f MB/s, raw %.1f MB/s, kubectl %.1f MB/s (ratio %.2f)",
                 name, node, row["console"]["mb_per_s"], row["raw_exec"]["mb_per_s"], row["kubectl"]["mb_per_s"],
                 row["ratio_console_raw"])
        rows.append(row)
    return rows
