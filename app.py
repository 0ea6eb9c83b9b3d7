"""Entry point: serve kube-webshell with Flask-SocketIO's eventlet server."""
import eventlet

eventlet.monkey_patch()

from webshell import create_app  # noqa: E402
from webshell.extensions import socketio  # noqa: E402
from webshell.terminal.namespace import shutdown_on_signals  # noqa: E402

app = create_app()

if __name__ == "__main__":
    shutdown_on_signals(app)
    socketio.run(app, host=app.config["HOST"], port=app.config["PORT"])
