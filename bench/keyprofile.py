"""Profile the console's typing phase only: where a keystroke's server time goes.

    python -m bench.keyprofile --cluster-dir DIR [--before CHECKOUT] [--sessions 200 --keys 10 --think 150]
                               [--auth cookie|token] [--profiler cprofile|pyinstrument|none] --out DIR

Starts the console (and, with --before, the console of another checkout, one after the other)
under bench/profserve.py, opens the sessions, throws away what was profiled while they opened
(SIGUSR2), types the load (the stress row's by default: 200 sessions at 6.7 keys/s), and writes
profile-<now|before>.{tottime,cumulative}.txt (cProfile) or .txt/.html (pyinstrument) into --out.
The CPU seconds printed are the profiled server's (a profiler slows it: compare them with each
other, not with the benchmark's).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from pathlib import Path

from .client import Console
from .env import local_cluster
from .latency import _console_level, summary
from .servers import BenchServer

log = logging.getLogger("bench.keyprofile")


def profile_one(kubeconfig: Path, out: Path, name: str, root: Path | None, args) -> dict:
    profiled = args.profiler != "none"
    srv = BenchServer(kubeconfig, out / "servers" / name, root=root, max_sessions_per_user=args.sessions + 10,
                      profile=out / f"profile-{name}.html" if profiled else None)
    if profiled:
        srv.env["KWS_BENCH_PROFILER"] = args.profiler
    srv.start()
    try:
        auth = {"token": Console.token_for(srv)} if args.auth == "token" else {"cookie": Console.cookie_for(srv)}
        samples, cpu = asyncio.run(_console_level(srv, auth, args.sessions, args.keys, args.think,
                                                  on_typing=(lambda: os.kill(srv.proc.pid, signal.SIGUSR2))
                                                  if profiled else None))
        srv.drain()
    finally:
        srv.stop()
    row = {"server": name, **summary(samples), "server_cpu_s": round(cpu, 3),
           "server_cpu_ms_per_key": round(1000 * cpu / max(1, len(samples)), 3)}
    log.info("%s", row)
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.keyprofile", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cluster-dir", type=Path, help="use this running local cluster")
    ap.add_argument("--before", type=Path, help="also profile the console of this checkout")
    ap.add_argument("--sessions", type=int, default=200)
    ap.add_argument("--keys", type=int, default=10)
    ap.add_argument("--think", type=float, default=150.0, help="mean pause between one session's keys, ms")
    ap.add_argument("--auth", choices=("cookie", "token"), default="cookie")
    ap.add_argument("--profiler", choices=("cprofile", "pyinstrument", "none"),
                    default="cprofile", help="none: no profiler, only the server's CPU per key (quick checks)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    with local_cluster(args.cluster_dir) as cluster:
        rows.append(profile_one(cluster.admin_kubeconfig, args.out, "now", None, args))
        if args.before:
            rows.append(profile_one(cluster.admin_kubeconfig, args.out, "before", args.before, args))
    (args.out / "keyprofile.json").write_text(json.dumps({"load": os.getloadavg(), "rows": rows}, indent=2) + "\n")
    print(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
