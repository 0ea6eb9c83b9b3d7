"""Waits and polls come from Config (KWS_*), with the defaults they had as literals."""
from __future__ import annotations

import threading
import time

from webshell.config import Config
from webshell.kube import transfer


def test_defaults_are_the_former_literals():
    cfg = Config()
    assert (cfg.STDERR_SETTLE, cfg.POLL_INTERVAL, cfg.PROBE_POLL, cfg.KUBE_RETRY_PAUSE) == (1.0, 0.05, 0.01, 0.2)
    assert (cfg.PUMP_WAKE, cfg.REPLICA_LISTEN_TIMEOUT, cfg.DEBUG_POLL) == (1.0, 1.0, 0.2)


def test_settings_reach_the_objects_that_wait(app):
    cfg = app.config
    assert app.extensions["kws.terminal"].registry.settings.poll_interval == cfg["POLL_INTERVAL"]
    assert app.extensions["kws.clusters"].retry_pause == cfg["KUBE_RETRY_PAUSE"]
    limits = app.extensions["kws.terminal"].registry.settings.limits
    assert limits.pump_wake == cfg["PUMP_WAKE"]
    assert (limits.coalesce, limits.coalesce_min) == (cfg["OUTPUT_COALESCE"], cfg["OUTPUT_COALESCE_MIN"]) == (0.01, 4096)
    assert limits.skip_slice == cfg["INTERRUPT_SLICE"] == 0.02
    assert transfer.Timing.from_config(cfg) == transfer.Timing(cfg["STDERR_SETTLE"], cfg["POLL_INTERVAL"])


def test_the_debug_poll_reaches_the_shell_starter(tmp_path):
    from webshell import create_app

    from .conftest import TestConfig
    cfg = TestConfig(tmp_path)
    cfg.DEBUG_POLL = 0.5
    app = create_app(cfg)      # the real ShellStarter (the `app` fixture swaps in a fake)
    try:
        assert app.extensions["kws.terminal"].registry.starter.debug_poll == 0.5
    finally:
        app.extensions["kws.terminal"].shutdown()


class _Stream:
    def __init__(self):
        self.reads = 1

    def readable_now(self):
        return self.reads > 0


class _Remote:
    """A failing writer that said part of its message (no newline yet), then nothing more."""

    def __init__(self):
        self.stream, self.status, self.stderr = _Stream(), None, b""

    def pull(self):
        self.stream.reads -= 1
        self.stderr = b"head: write error: No space left on dev"
        return True


def test_the_upload_watch_waits_the_settle_time_for_the_rest_of_a_message():
    started = time.monotonic()
    watch = transfer._watch(_Remote(), transfer.Timing(settle=0.3, poll=0.01))
    assert watch.wait(5)
    waited = time.monotonic() - started
    assert 0.3 <= waited < 0.95, waited         # the settle time given, not the former fixed second
    watch.stop()
    assert not any(t.name == "kws-upload-watch" for t in threading.enumerate())
