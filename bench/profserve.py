"""Run the console (app.py) under pyinstrument; SIGUSR1 writes the profile and exits.

    KWS_BENCH_PROFILE=/path/profile.html python -m bench.profserve

The benchmark starts the server this way when it wants a profile of a run, and
sends SIGUSR1 instead of SIGTERM at the end (SIGTERM's handler ends with os._exit).
"""
from __future__ import annotations

import os
import runpy
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    # Imported before monkey-patching: its per-thread state must be the OS thread's, shared
    # by every greenlet, so that the signal handler can stop it.
    from pyinstrument import Profiler

    mode = os.environ.get("KWS_ASYNC_MODE", "eventlet")
    if mode == "eventlet":
        import eventlet
        eventlet.monkey_patch()
    elif mode == "gevent":
        from gevent import monkey
        monkey.patch_all()
    out = Path(os.environ["KWS_BENCH_PROFILE"])
    profiler = Profiler(interval=0.0005, async_mode="disabled")

    def _dump(signum, frame) -> None:
        try:
            profiler.stop()
            out.write_text(profiler.output_html())
            out.with_suffix(".txt").write_text(profiler.output_text(unicode=False, color=False))
        except BaseException as e:  # noqa: BLE001
            sys.stderr.write(f"profile not written: {e!r}\n")
            import traceback; traceback.print_exc()
        finally:
            os._exit(0)

    sys.path.insert(0, str(ROOT))
    sys.argv = [str(ROOT / "app.py")]
    os.chdir(ROOT)
    profiler.start()
    signal.signal(signal.SIGUSR1, _dump)
    runpy.run_path(str(ROOT / "app.py"), run_name="__main__")


if __name__ == "__main__":
    main()
