"""Entry point: serve kube-webshell with Flask-SocketIO (eventlet unless KWS_ASYNC_MODE says otherwise)."""
import gc
import os
import warnings

# eventlet announces its maintenance mode at import; the design card chose it knowingly.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
ASYNC_MODE = os.environ.get("KWS_ASYNC_MODE", "eventlet")
if ASYNC_MODE == "eventlet":
    import eventlet
    eventlet.monkey_patch()
elif ASYNC_MODE == "gevent":
    from gevent import monkey
    monkey.patch_all()

from webshell import create_app  # noqa: E402
from webshell.ops.server import server_options  # noqa: E402
from webshell.serve import run  # noqa: E402

app = create_app()
# Everything created so far (Flask, SQLAlchemy, the kubernetes client's hundreds of model
# classes) lives as long as the process. Freezing it keeps the cyclic collector from walking
# those ~150 000 objects in every full collection: a 70 ms pause for every open terminal.
gc.freeze()

if __name__ == "__main__":
    run(app, **server_options(app.config))
