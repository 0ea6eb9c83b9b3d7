"""Run the console (app.py) under a profiler; SIGUSR1 writes the profile and exits.

    KWS_BENCH_PROFILE=/path/profile.html python -m bench.profserve

KWS_BENCH_PROFILER=pyinstrument (default: a sampled call tree, every greenlet summed) or
cprofile (function totals summed over every greenlet, text sorted by own time, and the
.pstats file). The benchmark starts the server this way when asked for profiles, and
sends SIGUSR1 instead of SIGTERM at the end (SIGTERM's handler ends with os._exit);
SIGUSR2 throws away what was profiled so far (to profile one phase only).
"""
from __future__ import annotations

import os
import runpy
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class _CProfile:
    def __init__(self) -> None:
        import cProfile
        self.p = cProfile.Profile()

    def start(self) -> None:
        self.p.enable()

    def restart(self) -> None:
        import cProfile
        self.p.disable()
        self.p = cProfile.Profile()
        self.p.enable()

    def write(self, out: Path) -> None:
        import io
        import pstats
        self.p.disable()
        self.p.dump_stats(str(out.with_suffix(".pstats")))
        for key in ("tottime", "cumulative"):
            buf = io.StringIO()
            pstats.Stats(self.p, stream=buf).sort_stats(key).print_stats(60)
            out.with_suffix(f".{key}.txt").write_text(buf.getvalue())


class _Pyinstrument:
    def __init__(self) -> None:
        from pyinstrument import Profiler
        self.p = Profiler(interval=0.001, async_mode="disabled")

    def start(self) -> None:
        self.p.start()

    def restart(self) -> None:
        self.p.stop()
        self.p.start()

    def write(self, out: Path) -> None:
        from pyinstrument.renderers import ConsoleRenderer, HTMLRenderer
        session = self.p.stop()
        # One tree for the whole process: under eventlet/gevent every greenlet looks like a
        # thread of its own; drop that first stack level so that their samples add up.
        session.frame_records = [(stack[1:] if stack and "<thread>" in stack[0] else stack, t)
                                 for stack, t in session.frame_records]
        out.with_suffix(".html").write_text(HTMLRenderer().render(session))
        out.with_suffix(".txt").write_text(ConsoleRenderer(unicode=False, color=False).render(session))


def main() -> None:
    # Created before monkey-patching: the profiler's per-thread state must be the OS thread's,
    # shared by every greenlet, so that the signal handler can stop it.
    kind = os.environ.get("KWS_BENCH_PROFILER", "pyinstrument")
    profiler = _CProfile() if kind == "cprofile" else _Pyinstrument()
    out = Path(os.environ["KWS_BENCH_PROFILE"])
    mode = os.environ.get("KWS_ASYNC_MODE", "eventlet")
    if mode == "eventlet":
        import eventlet
        eventlet.monkey_patch()
    elif mode == "gevent":
        from gevent import monkey
        monkey.patch_all()

    def _dump(signum, frame) -> None:
        try:
            profiler.write(out)
        except BaseException as e:  # noqa: BLE001 - report, then exit anyway
            sys.stderr.write(f"profile not written: {e!r}\n")
        finally:
            os._exit(0)

    root = Path(os.environ.get("KWS_BENCH_APP_ROOT") or ROOT)   # another checkout's console
    sys.path.insert(0, str(root))
    sys.argv = [str(root / "app.py")]
    os.chdir(root)
    signal.signal(signal.SIGUSR1, _dump)
    signal.signal(signal.SIGUSR2, lambda signum, frame: profiler.restart())   # profile from now on
    profiler.start()
    runpy.run_path(str(root / "app.py"), run_name="__main__")


if __name__ == "__main__":
    main()
