"""What auth announces and the terminal layer listens to (blinker signals, sent with the app as sender).

Auth never reaches up into the terminal service: it says that a user signed out (or was
signed out everywhere) or that a token was revoked, and whoever cares acts on it.
"""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# send(app, uid=str, reason=str): the user's terminals and sockets must end.
signed_out = _signals.signal("signed-out")
# send(app, token_id=int): sockets and terminals that came in with this token must end.
token_revoked = _signals.signal("token-revoked")
