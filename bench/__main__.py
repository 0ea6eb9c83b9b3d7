"""python -m bench [--tiny] [--out DIR] [--cluster-dir DIR] [--modes eventlet,threading,gevent] [--only ...]
                   [--profile] [--before DIR]

Runs every benchmark against the local cluster (started here and stopped afterwards unless
--cluster-dir names a running one) and writes bench/results/<timestamp>/{report.json,*.png,summary.md}.
"""
from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from . import capacity, interrupt, latency, neighbour, replicas, report, throughput, transfer
from .client import Console
from .env import BenchEnv, Sizes, local_cluster, machine, sizes_dict
from .servers import BenchServer

log = logging.getLogger("bench")
ROOT = Path(__file__).resolve().parent.parent
SUITES = ("throughput", "latency", "capacity", "transfer", "interrupt", "replicas")
DEFAULT = ("throughput", "latency", "capacity", "transfer", "replicas")   # `interrupt` takes ~45 min: --only interrupt


def run_all(cluster, sizes: Sizes, out: Path, modes: list[str], only: set[str],
            profile: bool = False, before: Path | None = None) -> dict:
    """Run the chosen suites on `cluster`; return the report (also written to `out`)."""
    out.mkdir(parents=True, exist_ok=True)
    env = BenchEnv(cluster, sizes, out)
    env.prepare()
    started = time.time()
    raw_latency: dict = {}   # raw exec baselines, measured once (in the first mode's pass)
    r: dict = {"meta": {"started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                        "commit": _commit(), "machine": machine(), "sizes": sizes_dict(sizes), "modes": modes,
                        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
                        "before": str(before) if before else None}}
    for mode in modes:
        if not (only & {"throughput", "latency"} or ("interrupt" in only and mode == modes[0])):
            break
        per_user = max([n for n, _, _ in sizes.latency_levels + sizes.latency_stress]
                       + list(sizes.interrupt_sessions)) + 10
        srv = BenchServer(env.kubeconfig, env.instance(mode), async_mode=mode,
                          profile=(out / f"profile-{mode}.html") if profile else None,
                          max_sessions_per_user=per_user).start()
        prior = None
        try:
            cookie = Console.cookie_for(srv)
            if before is not None and "latency" in only:
                prior = BenchServer(env.kubeconfig, env.instance(f"{mode}-before"), async_mode=mode, root=before,
                                  profile=(out / f"profile-{mode}-before.html") if profile else None,
                                  max_sessions_per_user=per_user).start()
            real = env.has_real_node and mode == modes[0]   # the other node, in the default mode
            if "throughput" in only:
                log.info("[%s] throughput", mode)
                r.setdefault("throughput", {})[mode] = throughput.run(env, srv, cookie, mode == modes[0])
                if real:
                    log.info("[%s] throughput on the real node", mode)
                    r.setdefault("throughput_real", {})[mode] = throughput.run(env, srv, cookie, True, "real")
            if "latency" in only:
                log.info("[%s] latency", mode)
                r.setdefault("latency", {})[mode] = latency.run(
                    env, srv, cookie, raw_latency, (prior, Console.cookie_for(prior)) if prior else None)
                log.info("[%s] latency beside a flooding neighbour", mode)
                r["latency"][mode]["flood"] = neighbour.run(env, srv, cookie, raw_latency)
                if real:
                    log.info("[%s] latency on the real node", mode)
                    r.setdefault("latency_real", {})[mode] = latency.run_node(env, srv, cookie, "real")
            if "interrupt" in only and mode == modes[0]:
                log.info("[%s] interrupt", mode)
                r["interrupt"] = {"mode": mode, **interrupt.run(env, srv, cookie)}
            srv.drain()
            if prior is not None:
                prior.drain()
        finally:
            srv.stop()
            if prior is not None:
                prior.stop()
    if "capacity" in only:
        log.info("capacity")
        r["capacity"] = capacity.run(env)
    if "replicas" in only:
        log.info("replicas")
        r["replicas"] = replicas.run(env)
    if "transfer" in only:
        log.info("transfer")
        r["transfer"] = transfer.run(env)
        if cluster._state().get("real_node"):
            log.info("transfer on the real node")
            r["transfer_real"] = transfer.run(env, "real")
    r["meta"]["duration_s"] = round(time.time() - started, 1)
    r["meta"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    report.write(r, out)
    return r


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tiny", action="store_true", help="seconds, not minutes: proves the harness works")
    ap.add_argument("--out", type=Path, help="report folder (default bench/results/<timestamp>)")
    ap.add_argument("--cluster-dir", type=Path, help="use this running local cluster")
    ap.add_argument("--modes", default="eventlet,threading,gevent")
    ap.add_argument("--only", default=",".join(DEFAULT),
                    help=f"comma-separated subset of {','.join(SUITES)} (default: all but interrupt)")
    ap.add_argument("--profile", action="store_true", help="run the console under pyinstrument")
    ap.add_argument("--floods", help="interrupt suite: comma-separated flood lengths in s (default 5,30)")
    ap.add_argument("--before", type=Path, help="a checkout of an earlier commit (git worktree or git archive): "
                    "its console is measured beside this one in every latency row")
    ap.add_argument("--sessions", help="interrupt suite: comma-separated flooding session counts (default 1,20)")
    ap.add_argument("--clients", help="interrupt suite: asyncio,ack-50ms-late,chromium (default all)")
    ap.add_argument("--kinds", help="interrupt suite: yes,cat (default both)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = args.out or ROOT / "bench" / "results" / stamp
    sizes = Sizes.tiny() if args.tiny else Sizes.full()
    if args.floods:
        sizes.interrupt_floods = tuple(float(x) for x in args.floods.split(","))
    if args.sessions:
        sizes.interrupt_sessions = tuple(int(x) for x in args.sessions.split(","))
    if args.clients:
        sizes.interrupt_clients = tuple(args.clients.split(","))
    if args.kinds:
        sizes.interrupt_kinds = tuple(args.kinds.split(","))
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = only - set(SUITES)
    if unknown:
        ap.error(f"unknown suites: {', '.join(sorted(unknown))}")
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    with local_cluster(args.cluster_dir) as cluster:
        r = run_all(cluster, sizes, out, modes, only, args.profile, args.before)
    print((out / "summary.md").read_text())
    failed = [t["name"] for t in r["targets"] if not t["ok"]]
    print(f"report: {out}  ({len(r['targets']) - len(failed)} targets hold, {len(failed)} do not)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
