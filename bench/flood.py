"""A neighbour that floods its terminal with `yes` for a bounded time (run as its own process).

    python -m bench.flood console URL SECONDS     (cookie in KWS_BENCH_COOKIE)
    python -m bench.flood raw KUBECONFIG SECONDS

It prints one line, `started`, once output flows, and ends after SECONDS or on SIGTERM
(closing its session either way).
"""
from __future__ import annotations

import asyncio
import signal
import sys
import threading
from pathlib import Path


async def _console(url: str, cookie: str, seconds: float) -> int:
    from .client import Console

    class _Server:   # Console needs only .url
        pass
    srv = _Server()
    srv.url = url
    con = await Console(srv, cookie).connect()
    try:
        ack = await con.open()
        sid = ack["session"]
        sink = con.sinks[sid]
        await con.send(sid, f"timeout {seconds:.0f} yes\n")
        await sink.wait(lambda s: s.n > 100_000, 30)
        print("started", flush=True)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        try:
            await asyncio.wait_for(stop.wait(), seconds)
        except TimeoutError:
            pass
        await con.close_session(sid)
        return sink.n
    finally:
        await con.disconnect()


def _raw(kubeconfig: str, seconds: float) -> int:
    from .rawexec import RawShell

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    shell = RawShell(Path(kubeconfig))
    try:
        shell.write(f"timeout {seconds:.0f} yes\n")
        shell.wait(lambda s: s.n > 100_000, 30)
        print("started", flush=True)
        stop.wait(seconds)
        shell.write("\x03")   # Ctrl-C: end `yes` before the stream closes
        return shell.n
    finally:
        shell.close()


def main(argv: list[str]) -> int:
    import os
    kind, where, seconds = argv[0], argv[1], float(argv[2])
    if kind == "console":
        n = asyncio.run(_console(where, os.environ["KWS_BENCH_COOKIE"], seconds))
    else:
        n = _raw(where, seconds)
    print(f"flooded {n} bytes", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
