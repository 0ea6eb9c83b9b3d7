"""A minimal client of the /terminal Socket.IO protocol (docs/PROTOCOL.md).

    python docs/examples/terminal_client.py http://127.0.0.1:8080 admin PASSWORD CLUSTER NAMESPACE POD 'echo hello'

Logs in with a user name and password (a browser-session cookie), opens a terminal,
types a command, prints what comes back for two seconds, then closes the terminal.
"""
from __future__ import annotations

import re
import sys
import threading

import engineio
import requests
import socketio


class InOrderClient(socketio.Client):
    """A socketio.Client that handles messages in arrival order.

    python-engineio's client handles each message in a new thread; under heavy output a
    binary event's attachment can then be processed before its header, and events can
    overtake each other. Terminal output must stay in order, so dispatch in the reader.
    """

    class _EngineIO(engineio.Client):
        def _trigger_event(self, event, *args, **kwargs):
            if event == "message":
                kwargs["run_async"] = False
            return super()._trigger_event(event, *args, **kwargs)

    def _engineio_client_class(self):
        return self._EngineIO


def login(base: str, user: str, password: str) -> requests.Session:
    http = requests.Session()
    page = http.get(f"{base}/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = http.post(f"{base}/login", data={"username": user, "password": password, "csrf_token": token},
                  allow_redirects=False)
    if r.status_code != 302:
        raise SystemExit(f"login failed: HTTP {r.status_code}")
    return http


def main(base, user, password, cluster, namespace, pod, command) -> None:
    http = login(base, user, password)
    cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
    sio = InOrderClient()
    done = threading.Event()

    @sio.on("output", namespace="/terminal")
    def output(msg):
        sys.stdout.write(msg["data"].decode("utf-8", "replace"))
        sys.stdout.flush()
        return True   # the acknowledgement lets the server send more

    @sio.on("exit", namespace="/terminal")
    def exited(msg):
        print(f"\n[exit code={msg['code']} reason={msg['reason']}]")
        done.set()

    sio.connect(base, namespaces=["/terminal"], headers={"Cookie": cookie}, transports=["websocket"])
    ack = sio.call("open", {"cluster": cluster, "namespace": namespace, "pod": pod, "cols": 100, "rows": 30},
                   namespace="/terminal")
    if not ack["ok"]:
        raise SystemExit(f"open failed: {ack['error']['code']}: {ack['error']['message']}")
    session = ack["session"]
    sio.call("input", {"session": session, "data": command + "\n"}, namespace="/terminal")
    done.wait(2)
    sio.call("close", {"session": session}, namespace="/terminal")
    done.wait(5)
    sio.disconnect()


if __name__ == "__main__":
    main(*sys.argv[1:8])
