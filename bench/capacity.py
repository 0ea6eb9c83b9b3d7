"""Benchmark 4: idle sessions up to the cap on one worker; memory, fds, open time; refusal beyond."""
from __future__ import annotations

import asyncio
import logging
import time

from .client import Console
from .env import BenchEnv, ensure_pods
from .latency import summary
from .servers import BenchServer

log = logging.getLogger(__name__)
SOCKETS = 20          # sessions are spread over this many Socket.IO connections (browser tabs)
PODS = 20             # and over this many pods
OPEN_PARALLEL = 8     # opens in flight at once
SAMPLE_EVERY = 50


async def _run(env: BenchEnv, srv: BenchServer, pods: list[str]) -> dict:
    target = env.sizes.capacity_sessions
    cookie = Console.cookie_for(srv)
    cons = [await Console(srv, cookie).connect() for _ in range(min(SOCKETS, target))]
    await asyncio.sleep(1.0)
    base_rss, base_fds = srv.rss(), srv.fds()
    curve = [{"sessions": 0, "rss_mb": round(base_rss / 2**20, 1), "fds": base_fds}]
    open_times: list[float] = []
    opened: list[tuple[Console, str]] = []
    failures: list[dict] = []
    sem = asyncio.Semaphore(OPEN_PARALLEL)

    async def open_one(i: int) -> None:
        con = cons[i % len(cons)]
        async with sem:
            t0 = time.perf_counter()
            ack = await con.open(pod=pods[i % len(pods)], namespace="bench")
            dt = time.perf_counter() - t0
        if ack.get("ok"):
            open_times.append(dt)
            opened.append((con, ack["session"]))
            if len(opened) % SAMPLE_EVERY == 0:
                curve.append({"sessions": len(opened), "rss_mb": round(srv.rss() / 2**20, 1), "fds": srv.fds()})
        else:
            failures.append(ack.get("error", {}))

    t_all = time.perf_counter()
    await asyncio.gather(*(open_one(i) for i in range(target)))
    open_all = time.perf_counter() - t_all
    await asyncio.sleep(2.0)
    rss, fds = srv.rss(), srv.fds()
    curve.append({"sessions": len(opened), "rss_mb": round(rss / 2**20, 1), "fds": fds})
    refused = []
    for i in range(env.sizes.capacity_extra):
        t0 = time.perf_counter()
        ack = await cons[i % len(cons)].open(pod=pods[0], namespace="bench")
        refused.append({"ok": ack.get("ok"), "code": (ack.get("error") or {}).get("code"),
                        "message": (ack.get("error") or {}).get("message"),
                        "ms": round((time.perf_counter() - t0) * 1000, 2)})
        if ack.get("ok"):
            opened.append((cons[i % len(cons)], ack["session"]))
    n = max(1, len(opened))
    t_close = time.perf_counter()
    close_sem = asyncio.Semaphore(32)

    async def close_one(con: Console, sid: str) -> None:
        async with close_sem:
            await con.close_session(sid)
    await asyncio.gather(*(close_one(c, s) for c, s in opened), return_exceptions=True)
    close_all = time.perf_counter() - t_close
    for con in cons:
        await con.disconnect()
    return {"target": target, "opened": len(opened) - sum(1 for x in refused if x["ok"]),
            "failures": failures[:10], "failure_count": len(failures),
            "rss_base_mb": round(base_rss / 2**20, 1), "rss_full_mb": round(rss / 2**20, 1),
            "rss_per_session_kb": round((rss - base_rss) / n / 1024, 1),
            "fds_base": base_fds, "fds_full": fds, "fds_per_session": round((fds - base_fds) / n, 2),
            "open_ms": summary(open_times), "open_all_s": round(open_all, 2), "close_all_s": round(close_all, 2),
            "refused": refused, "refused_codes": [x["code"] for x in refused], "curve": curve,
            "sockets": len(cons), "pods": len(pods), "open_parallel": OPEN_PARALLEL}


def run(env: BenchEnv) -> dict:
    pods = ensure_pods(env.cluster, "bench", min(PODS, env.sizes.capacity_sessions))
    target = env.sizes.capacity_sessions
    srv = BenchServer(env.kubeconfig, env.instance("capacity"), max_sessions=target,
                      max_sessions_per_user=target, session_grace=600).start()
    try:
        result = asyncio.run(_run(env, srv, pods))
        result["drain_s"] = round(srv.drain(), 2)   # every shell hung up
        log.info("capacity: %s", {k: v for k, v in result.items() if k != "curve"})
        return result
    finally:
        srv.stop()
