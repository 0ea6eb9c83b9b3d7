"""Many replicas: the stress row through 1, 2 and 3 console replicas in one run (issue 14).

Each row starts its replicas fresh on one Redis (KWS_MESSAGE_QUEUE) and one database, spreads
the sessions evenly over them (each client connects to its replica directly, as cookie affinity
would keep it), types the stress row's keys and measures every echo. The first row is one
replica at half the load: the target is that two replicas at the full load do no worse at p99.
"""
from __future__ import annotations

import asyncio
import logging
import secrets

from localcluster.redis import RedisServer

from .client import Console
from .env import BenchEnv
from .latency import _console_level, summary
from .servers import BenchServer

log = logging.getLogger(__name__)


def run(env: BenchEnv) -> dict:
    n, keys, think = env.sizes.latency_stress[0]
    redis = RedisServer(env.instance("redis")).start()
    rows = []
    try:
        for count, sessions in ((1, max(1, n // 2)), (1, n), (2, n), (3, n)):
            rows.append(_row(env, redis, count, sessions, keys, think))
    finally:
        redis.stop()
    half, two = rows[0], rows[2]
    result = {"rows": rows, "p99_2_replicas_over_1_at_half": round(two["p99"] / half["p99"], 3)}
    log.info("replicas: %s", result)
    return result


def _row(env: BenchEnv, redis: RedisServer, count: int, sessions: int, keys: int, think: float) -> dict:
    folder = env.instance(f"replicas-{count}x{sessions}")
    shared = {"database_url": f"sqlite:///{folder / 'shared.db'}", "message_queue": redis.url,
              "secret_key": secrets.token_hex(32), "redis_prefix": f"bench{count}x{sessions}",
              "recordings_dir": str(folder / "recordings"), "max_sessions_per_user": sessions + 10}
    servers = []
    try:
        for i in range(count):   # one by one: the first creates the database
            servers.append(BenchServer(env.kubeconfig, folder / f"r{i}", replica_name=f"r{i}", **shared).start())
        cookies = [Console.cookie_for(s) for s in servers]
        shares = [sessions // count + (1 if i < sessions % count else 0) for i in range(count)]

        async def all_replicas():
            return await asyncio.gather(*(_console_level(s, {"cookie": c}, k, keys, think)
                                          for s, c, k in zip(servers, cookies, shares) if k))
        results = asyncio.run(all_replicas())
        samples = [x for r, _ in results for x in r]
        cpu = sum(c for _, c in results)
        row = {"replicas": count, "sessions": sessions, "keys_per_session": keys, "think_ms": think,
               "keys_per_s": round(sessions * 1000 / think, 1), **summary(samples),
               "server_cpu_ms_per_key": round(cpu * 1000 / max(1, len(samples)), 3)}
        log.info("replicas %d, %d sessions: %s", count, sessions, row)
        return row
    finally:
        for s in servers:
            s.stop()
