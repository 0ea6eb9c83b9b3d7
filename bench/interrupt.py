"""Benchmark: Ctrl-C to prompt under a flood (issue 11).

For `yes` and for `cat` of the big text file (looped so that it lasts), after each flood
length, Ctrl-C is typed and, right behind it, a command that prints a marker; the time is
from the Ctrl-C to the marker's arrival, and the bytes are what the client received in
between. Clients: the asyncio protocol client (acknowledges at once), the same acknowledging
each batch 50 ms after it arrived, and Chromium rendering with xterm.js. At 1 and at N
flooding sessions (for Chromium: its own session plus N-1 asyncio neighbours).

Chromium is timed on the page's own clock: from the Ctrl-C's keydown to the skip marker's
arrival, and its bytes are counted from that keydown. Under a flood the harness's CDP round
trips take up to seconds (an evaluate, a key press on its way to the renderer), and the first
runs counted the output that arrived meanwhile, before the page had the key, as "after" it.
The harness's own view (from its key press call to the echoed marker) is kept in `harness`.
"""
from __future__ import annotations

import asyncio
import logging
import re
import threading
import time

from .client import MARK, MARK_CMD, Console, Sink
from .env import BenchEnv
from .latency import summary

log = logging.getLogger(__name__)
SKIPPED = re.compile(rb"\[output skipped: (\d+) bytes\]")
LINE = "flood-line-of-some-length"
# Opens in flight at once: each open holds a database connection until its shell answers, and
# the pool has 15 (20 at once timed out after 30 s in the first run of this benchmark).
OPEN_PARALLEL = 8


def floods(env: BenchEnv) -> dict[str, str]:
    return {"yes": f"yes {LINE}", "cat": f"while :; do cat {env.big_text.name}; done"}


class LateConsole(Console):
    """A protocol client that acknowledges each output batch `delay` seconds after it arrived."""

    def __init__(self, server, cookie: str, delay: float):
        super().__init__(server, cookie)
        self.delay = delay

    async def _output(self, msg):
        sink = self.sinks.get(msg["session"])
        if sink is not None:
            sink.feed(msg["data"])
        await asyncio.sleep(self.delay)
        return True


class CountingSink(Sink):
    skipped: int = 0

    def feed(self, data: bytes) -> None:
        m = SKIPPED.search(data)
        if m:
            self.skipped += int(m.group(1))
        super().feed(data)


async def _open(server, cookie: str, late: float, command: str, sem: asyncio.Semaphore) -> tuple[Console, str]:
    async with sem:
        return await _open_one(server, cookie, late, command)


async def _open_one(server, cookie: str, late: float, command: str) -> tuple[Console, str]:
    con = await (LateConsole(server, cookie, late) if late else Console(server, cookie)).connect()
    ack = await con.open()
    if not ack.get("ok"):
        await con.disconnect()
        raise RuntimeError(f"console open failed: {ack}")
    sid = ack["session"]
    con.sinks[sid] = CountingSink()
    await con.send(sid, f"{command}\n")
    await con.sinks[sid].wait(lambda s: s.n > 200_000, 60)
    return con, sid


async def _interrupt(con: Console, sid: str, timeout: float) -> dict:
    sink = con.sinks[sid]
    n0, t0 = sink.n, time.perf_counter()
    con.send_nowait(sid, "\x03")
    con.send_nowait(sid, "true" + MARK_CMD)
    try:
        await sink.wait(lambda s: MARK in s.tail, timeout)
        seconds = time.perf_counter() - t0
    except TimeoutError:
        seconds = None
    return {"seconds": seconds, "bytes_after": sink.n - n0, "skipped": sink.skipped}


async def _protocol_round(server, cookie: str, sessions: int, command: str, flood_s: float, late: float,
                          timeout: float) -> list[dict]:
    sem = asyncio.Semaphore(OPEN_PARALLEL)
    opened = await asyncio.gather(*(_open(server, cookie, late, command, sem) for _ in range(sessions)))
    try:
        await asyncio.sleep(flood_s)
        return list(await asyncio.gather(*(_interrupt(c, s, timeout) for c, s in opened)))
    finally:
        await asyncio.gather(*(c.close_session(s) for c, s in opened), return_exceptions=True)
        await asyncio.gather(*(c.disconnect() for c, _ in opened), return_exceptions=True)


class Neighbours:
    """N asyncio sessions flooding in a thread of their own, beside a Chromium session."""

    def __init__(self, server, cookie: str, n: int, command: str):
        self.args = (server, cookie, n, command)
        self.ready, self.stop = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        server, cookie, n, command = self.args
        sem = asyncio.Semaphore(OPEN_PARALLEL)
        opened = await asyncio.gather(*(_open(server, cookie, 0, command, sem) for _ in range(n)))
        self.ready.set()
        try:
            while not self.stop.is_set():
                await asyncio.sleep(0.1)
        finally:
            await asyncio.gather(*(c.close_session(s) for c, s in opened), return_exceptions=True)
            await asyncio.gather(*(c.disconnect() for c, _ in opened), return_exceptions=True)

    def __enter__(self) -> "Neighbours":
        if self.args[2] > 0:
            self.thread.start()
            if not self.ready.wait(120):
                raise RuntimeError("the flooding neighbours did not start")
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join(60)


COUNT_JS = """() => { if (!window.__kwsBytes) { window.__kwsBytes = 0;
  window.kws.socket.on('output', (m) => { window.__kwsBytes += m.data.byteLength;
    const k = window.__kwsKey;
    const skipped = k && !k.marker && /output skipped: (\\d+) bytes/.exec(new TextDecoder().decode(m.data));
    if (skipped) { k.marker = performance.now(); k.skipped = Number(skipped[1]); } }); }
  return window.__kwsBytes; }"""
# The page's own clock and counter at the moment the Ctrl-C reaches it (its keydown): under a
# flood the harness's CDP round trips (an evaluate, a key press) take up to seconds, and output
# that arrives while the key is still on its way to the page was counted as "after" it.
KEY_JS = """() => { window.__kwsKey = null; if (window.__kwsKeyHook) return; window.__kwsKeyHook = true;
  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey && e.code === 'KeyC' && !window.__kwsKey) window.__kwsKey = { t: performance.now(), bytes: window.__kwsBytes };
  }, true); }"""
MARK_JS = """() => { const t = [...window.kws.tabs.values()][0]; const b = t.term.buffer.active;
  for (let i = b.length - 1; i >= Math.max(0, b.length - 200); i--) {
    if (b.getLine(i).translateToString(true).includes('__KWS_DONE__')) return true; }
  return false; }"""
def _chromium_trial(browser, server, command: str, flood_s: float, timeout: float) -> dict:
    from localcluster.console import ADMIN_PASSWORD
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    ctx.set_default_timeout(60000)
    page = ctx.new_page()
    try:
        page.goto(f"{server.url}/login")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", ADMIN_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.url}/")
        page.goto(f"{server.url}/t/kws-local/demo/web-1")
        page.wait_for_selector(".pane.active .status.connected")
        page.evaluate(COUNT_JS)
        page.locator(".pane.active .xterm").click()
        page.keyboard.type(command)
        page.keyboard.press("Enter")
        page.wait_for_function("() => window.__kwsBytes > 200000")
        time.sleep(flood_s)
        page.evaluate(KEY_JS)
        n0, t0 = page.evaluate(COUNT_JS), time.perf_counter()
        page.keyboard.press("Control+C")
        page.keyboard.type("true" + MARK_CMD.rstrip("\n"))
        page.keyboard.press("Enter")
        try:
            page.wait_for_function(MARK_JS, timeout=timeout * 1000, polling=10)
            harness_s = time.perf_counter() - t0
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: the trial failed
            harness_s = None
        key = page.evaluate("() => window.__kwsKey") or {}
        total = page.evaluate(COUNT_JS)
        # Ctrl-C to prompt on the page's clock: its keydown to the skip marker's arrival (the marker
        # comes with the last screen read, which holds the new prompt); the echo must arrive too.
        seconds = (key["marker"] - key["t"]) / 1000 if harness_s is not None and key.get("marker") else None
        # The marker's own count: on screen it may have scrolled out of xterm's scrollback by now.
        return {"seconds": seconds, "bytes_after": total - key.get("bytes", n0), "skipped": key.get("skipped", 0),
                "harness_seconds": harness_s, "harness_bytes_after": total - n0}
    finally:
        try:
            page.evaluate("() => { for (const t of window.kws.tabs.values()) t.close(); }")
            time.sleep(0.5)
        finally:
            ctx.close()


def _cell(samples: list[dict]) -> dict:
    ok = [s["seconds"] for s in samples if s["seconds"] is not None]
    out = {"trials": len(samples), "failed": len(samples) - len(ok), **summary(ok)}
    out["bytes_after_max"] = max(s["bytes_after"] for s in samples)
    out["bytes_after_p50"] = sorted(s["bytes_after"] for s in samples)[len(samples) // 2]
    out["skipped_p50"] = sorted(s["skipped"] for s in samples)[len(samples) // 2]
    if "harness_seconds" in samples[0]:       # Chromium: also as the harness saw it, CDP round trips included
        hs = [s["harness_seconds"] for s in samples if s["harness_seconds"] is not None]
        out["harness"] = {**summary(hs), "bytes_after_p50": sorted(s["harness_bytes_after"] for s in samples)[len(samples) // 2],
                          "bytes_after_max": max(s["harness_bytes_after"] for s in samples)}
    return out


def run(env: BenchEnv, server, cookie: str) -> dict:
    """Every cell: flood kind x flood length x client x sessions; p50/p95/max of Ctrl-C to prompt."""
    sz = env.sizes
    cells = []
    for kind, command in floods(env).items():
        if kind not in sz.interrupt_kinds:
            continue
        for flood_s in sz.interrupt_floods:
            for sessions in sz.interrupt_sessions:
                for client, late in (("asyncio", 0.0), ("ack-50ms-late", 0.05)):
                    if client not in sz.interrupt_clients:
                        continue
                    rounds = max(1, -(-sz.interrupt_trials // sessions))
                    samples = []
                    for _ in range(rounds):
                        samples += asyncio.run(_protocol_round(server, cookie, sessions, command, flood_s, late,
                                                               sz.interrupt_timeout))
                    cells.append({"flood": kind, "flood_s": flood_s, "sessions": sessions, "client": client,
                                  **_cell(samples)})
                    log.info("interrupt %s", cells[-1])
                if "chromium" in sz.interrupt_clients:
                    cells.append({"flood": kind, "flood_s": flood_s, "sessions": sessions, "client": "chromium",
                                  **_cell(_chromium_cell(env, server, cookie, command, flood_s, sessions))})
                    log.info("interrupt %s", cells[-1])
    return {"cells": cells}


def _chromium_cell(env: BenchEnv, server, cookie: str, command: str, flood_s: float, sessions: int) -> list[dict]:
    from playwright.sync_api import sync_playwright

    from localcluster.console import CHROMIUM, CHROMIUM_ARGS
    trials = env.sizes.interrupt_trials
    out = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            with Neighbours(server, cookie, sessions - 1, command):
                for _ in range(trials):
                    out.append(_chromium_trial(browser, server, command, flood_s, env.sizes.interrupt_timeout))
        finally:
            browser.close()
    return out
