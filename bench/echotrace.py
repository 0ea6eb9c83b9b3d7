"""One keystroke's echo, hop by hop: where the time over `kubectl exec -it` goes (issue 17).

    python -m bench.echotrace --cluster-dir DIR [--keys 300 --think 150 --record 1] [--out trace.json]

The console runs under this module's `--serve` entry, which wraps a few functions of the
libraries and of the console with timestamps (CLOCK_MONOTONIC, the same clock in every
process of the machine) and starts app.py; nothing is added to the console's own code.
One asyncio client (the latency benchmark's dashboard client) types single keys at a
typist's pace into `stty -icanon; exec cat`, stamping its side too, so every echo is split
into the steps below. `kubectl exec -it` under a pty types the same keys afterwards.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import runpy
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# (from, to, what happens in between), in the order an echo passes them.
STEPS = [
    ("C0", "C0b", "client: emit() encodes the input and queues it"),
    ("C0b", "C0s", "client: its Engine.IO writer task takes it"),
    ("C0s", "C0t", "client: websocket send"),
    ("C0t", "E1", "loopback, server wakes, eventlet reads the frame"),
    ("E1", "E2", "server: Engine.IO and Socket.IO decode"),
    ("E2", "S1", "server: python-socketio spawns the handler, it runs"),
    ("S1", "S2a", "server: validate, find the session, tap, interrupt check"),
    ("S2a", "S2", "server: exec frame, TLS write to the API server"),
    ("S2", "S3", "API server, kwok, the container's pty, back (the part kubectl has too)"),
    ("S3", "S4", "server: pump takes the frame, records it, replay buffer, window"),
    ("S4", "S5", "server: emit() encodes output + attachment and queues them"),
    ("S5", "W1", "server: the socket's writer greenlet takes them"),
    ("W1", "W2", "server: websocket send of the first frame"),
    ("W2", "Cr", "loopback, client wakes, aiohttp reads the frame"),
    ("Cr", "C1", "client: the attachment, Socket.IO decode, dispatch to the handler"),
    ("C1", "C2", "client: handler returns, the typist resumes"),
]
MARKS = [a for a, _, _ in STEPS] + ["C2"]


# -- the server side -------------------------------------------------------------------
def serve() -> None:
    import eventlet
    eventlet.monkey_patch()
    import engineio.socket
    import eventlet.websocket
    import socketio.server

    from webshell.kube.execstream import ExecStream
    from webshell.terminal.namespace import SocketIOTransport, TerminalNamespace

    marks: list[tuple[str, float]] = []
    mark = marks.append
    now = time.monotonic

    def around(cls, name, before=None, after=None, when=None):
        fn = getattr(cls, name)

        def wrapped(*args, **kwargs):
            on = when is None or when(args)
            if on and before:
                mark((before, now()))
            r = fn(*args, **kwargs)
            if on and after:
                mark((after, now()))
            return r
        setattr(cls, name, wrapped)

    around(engineio.socket.Socket, "receive", "E1")
    around(socketio.server.Server, "_handle_event", "E2")
    around(TerminalNamespace, "trigger_event", "S1", when=lambda a: a[1] == "input")
    around(ExecStream, "write", "S2a", "S2")
    around(ExecStream, "read_ready", after="S3")   # the pump reads with read_ready()
    around(SocketIOTransport, "output", "S4", "S5")
    around(eventlet.websocket.RFC6455WebSocket, "send", "W1", "W2")

    out = Path(os.environ["KWS_BENCH_TRACE"])

    def flush() -> None:
        while True:
            eventlet.sleep(0.5)
            rows, marks[:] = marks[:], []
            if rows:
                with open(out, "a") as f:
                    f.writelines(f"{k} {t:.7f}\n" for k, t in rows)
    eventlet.spawn(flush)
    sys.path.insert(0, str(ROOT))
    sys.argv = [str(ROOT / "app.py")]
    os.chdir(ROOT)
    runpy.run_path(str(ROOT / "app.py"), run_name="__main__")


# -- the client side -------------------------------------------------------------------
async def _type(srv, keys: int, think_ms: float, marks: list) -> None:
    from .client import NS, Console
    from .latency import KEYS, SETUP, _pause
    con = await Console(srv, cookie=Console.cookie_for(srv)).connect()
    sid = (await con.open())["session"]
    await con.send(sid, SETUP)
    await asyncio.sleep(1.5)
    mark, now = marks.append, time.monotonic
    handler = con._output

    async def output(msg):
        mark(("C1", now()))
        return await handler(msg)
    con.sio.handlers[NS]["output"] = output
    ws = con.sio.eio.ws
    send_str, receive = ws.send_str, ws.receive

    async def stamped_send(*a, **k):
        mark(("C0s", now()))
        r = await send_str(*a, **k)
        mark(("C0t", now()))
        return r

    async def stamped_receive(*a, **k):
        r = await receive(*a, **k)
        mark(("Cr", now()))
        return r
    ws.send_str, ws.receive = stamped_send, stamped_receive
    rng, sink = random.Random(1), con.sinks[sid]
    await asyncio.sleep(1.0)
    marks.clear()
    try:
        for i in range(keys):
            await asyncio.sleep(_pause(think_ms, rng))
            n0 = sink.n
            mark(("C0", now()))
            await con.sio.emit("input", {"session": sid, "data": KEYS[i % len(KEYS)]}, namespace=NS)
            mark(("C0b", now()))
            await sink.wait(lambda s: s.n > n0, 30)
            mark(("C2", now()))
    finally:
        await con.close_session(sid)
        await con.disconnect()


def _echoes(stamps: list[tuple[str, float]]) -> list[dict]:
    """Per key, the first of each mark from its C0 to its C2; only echoes with every mark."""
    rows, cur = [], None
    for k, t in sorted(stamps, key=lambda x: x[1]):
        if k == "C0":
            cur = {"C0": t}
        elif cur is not None:
            cur.setdefault(k, t)
            if k == "C2":
                rows.append(cur)
                cur = None
    # A send may return after the other side has already read what it sent (C0t after E1, W2
    # after Cr): the processes overlap there, and those steps may be negative. Every other
    # mark follows from the one before it; an echo that shows otherwise (a ping's frame taken
    # for the echo's) is left out.
    causal = [m for m in MARKS if m not in ("C0t", "W2")]
    return [r for r in rows if all(m in r for m in MARKS)
            and all(r[a] <= r[b] for a, b in zip(causal, causal[1:]))]


def _kubectl(kubeconfig: Path, keys: int, think_ms: float) -> list[float]:
    """The same keys through `kubectl exec -it` under a pty, typed as the latency benchmark types."""
    import threading

    from .latency import SETUP, _raw_type
    from .ptyexec import KubectlShell
    sh = KubectlShell(kubeconfig, namespace="demo", pod="web-1")
    try:
        sh.write(SETUP)
        time.sleep(1.5)
        out: list[float] = []
        _raw_type(think_ms, sh, keys, 1, out, threading.Lock())
        return out
    finally:
        sh.close()


def measure(kubeconfig: Path, work: Path, keys: int, think_ms: float, record: bool) -> dict:
    from .latency import summary
    from .servers import BenchServer

    class TracedServer(BenchServer):
        def command(self) -> list[str]:
            return [sys.executable, "-m", "bench.echotrace", "--serve"]

    trace = work / "server-marks.txt"
    trace.unlink(missing_ok=True)
    srv = TracedServer(kubeconfig, work / "server", record="1" if record else "0")
    srv.env["KWS_BENCH_TRACE"] = str(trace)
    srv.start()
    client: list[tuple[str, float]] = []
    try:
        asyncio.run(_type(srv, keys, think_ms, client))
        time.sleep(1.0)          # the server writes its marks every 0.5 s
    finally:
        srv.drain()
        srv.stop()
    server = [(k, float(t)) for k, t in (line.split() for line in trace.read_text().splitlines())]
    echoes = _echoes(client + server)
    result = {"keys": keys, "think_ms": think_ms, "record": record, "complete": len(echoes),
              "steps": [{"from": a, "to": b, "what": what, **summary([r[b] - r[a] for r in echoes])}
                        for a, b, what in STEPS],
              "console_total": summary([r["C2"] - r["C0"] for r in echoes]),
              "kubectl_total": summary(_kubectl(kubeconfig, keys, think_ms))}
    return result


def main() -> None:
    if "--serve" in sys.argv:
        serve()
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cluster-dir", type=Path, help="a running `python -m localcluster up` (default: a new one)")
    ap.add_argument("--keys", type=int, default=300)
    ap.add_argument("--think", type=float, default=150.0, help="ms between keys (a typist's pace)")
    ap.add_argument("--record", type=int, choices=(0, 1), default=1, help="KWS_RECORD of the console")
    ap.add_argument("--out", type=Path, help="write the result as JSON here")
    args = ap.parse_args()
    import tempfile

    from .env import local_cluster
    with local_cluster(args.cluster_dir) as lc, tempfile.TemporaryDirectory(prefix="kws-echotrace-") as work:
        r = measure(lc.admin_kubeconfig, Path(work), args.keys, args.think, bool(args.record))
    print(f"{r['complete']} of {args.keys} echoes with every mark; ms, p50 / p95")
    for s in r["steps"]:
        print(f"  {s['p50']:7.3f} / {s['p95']:7.3f}  {s['from']:>3}->{s['to']:<3} {s['what']}")
    c, k = r["console_total"], r["kubectl_total"]
    print(f"  console echo {c['p50']:.3f} / {c['p95']:.3f}; kubectl exec -it {k['p50']:.3f} / {k['p95']:.3f}")
    if args.out:
        args.out.write_text(json.dumps(r, indent=1))


if __name__ == "__main__":
    main()
