"""Session sharing over the real protocol and cluster: the owner invites by name to watch or join,
sees who is connected (admins too), and revokes; guests' keystrokes are refused unless they joined."""
from __future__ import annotations

import threading
import time

from .helpers import Term, login
from .test_access import PW, add_user, admin_events


class Viewer(Term):
    """A terminal client that also keeps every `viewers` announcement."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.viewers: list[dict] = []
        self.seen = threading.Condition()
        self.sio.on("viewers", self._viewers, namespace="/terminal")

    def _viewers(self, msg):
        with self.seen:
            self.viewers.append(msg)
            self.seen.notify_all()

    def wait_viewers(self, want: list[dict], timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        with self.seen:
            while not (self.viewers and self.viewers[-1]["viewers"] == want):
                left = deadline - time.monotonic()
                assert left > 0, f"viewers never became {want}: {self.viewers[-3:]}"
                self.seen.wait(left)


def test_invite_to_watch_then_join_then_revoke(make_server):
    srv = make_server()
    add_user(srv, "alice", ["--namespaces", "team-a", "--exec"])
    add_user(srv, "bob")
    add_user(srv, "mallory")
    alice, bob, mallory = (Viewer(srv, login(srv, n, PW)) for n in ("alice", "bob", "mallory"))
    admin = Term(srv, login(srv))
    try:
        session = alice.open("shell-a", "team-a")
        alice.send(session, "echo before-$((20+1))\n")
        alice.wait_for(session, "before-21")

        assert not bob.call("join", {"session": session})["ok"]                 # not invited yet
        shared = alice.call("share", {"session": session, "user": "bob", "mode": "watch"})
        assert shared["ok"] and shared["invited"] == [{"user": "bob", "mode": "watch"}], shared
        assert not alice.call("share", {"session": session, "user": "nobody", "mode": "watch"})["ok"]
        assert not mallory.call("share", {"session": session, "user": "mallory", "mode": "join"})["ok"]  # not hers
        listed = bob.call("shared", {})
        assert [(s["session"], s["owner"], s["mode"]) for s in listed["sessions"]] == [(session, "alice", "watch")]
        assert mallory.call("shared", {})["sessions"] == []
        assert not mallory.call("join", {"session": session})["ok"]

        joined = bob.call("join", {"session": session})
        assert joined["ok"] and joined["mode"] == "watch" and b"before-21" in joined["replay"]
        alice.wait_viewers([{"user": "bob", "mode": "watch"}])
        alice.send(session, "echo shown-$((6*7))\n")
        bob.wait_for(session, "shown-42")
        refused = bob.call("input", {"session": session, "data": "echo typed-by-bob\n"})
        assert not refused["ok"] and refused["error"]["code"] == "forbidden"

        assert alice.call("share", {"session": session, "user": "bob", "mode": "join"})["ok"]
        alice.wait_viewers([{"user": "bob", "mode": "join"}])
        assert bob.call("input", {"session": session, "data": "echo from-bob-$((2*21))\n"})["ok"]
        alice.wait_for(session, "from-bob-42")
        bob.wait_for(session, "from-bob-42")

        watched = admin.call("watch", {"session": session})                     # an admin's watch is shown
        assert watched["ok"]
        alice.wait_viewers([{"user": "admin", "mode": "admin"}, {"user": "bob", "mode": "join"}])

        assert alice.call("unshare", {"session": session, "user": "bob"})["ok"]
        assert bob.wait_exit(session)["reason"] == "access revoked by the owner"
        alice.wait_viewers([{"user": "admin", "mode": "admin"}])
        assert not bob.call("input", {"session": session, "data": "echo again\n"})["ok"]
        assert bob.call("shared", {})["sessions"] == []
        alice.send(session, "echo after-$((50+5))\n")
        alice.wait_for(session, "after-55")
        admin.wait_for(session, "after-55")
        assert b"after-55" not in bytes(bob.out.get(session, b""))               # his view has ended
    finally:
        for t in (alice, bob, mallory, admin):
            t.close()

    events = admin_events(srv)
    mine = [(e["event"], e["user"], e["detail"].get("guest") or e["detail"].get("owner"), e["detail"].get("mode"))
            for e in events if e["event"].startswith("session.")]
    assert ("session.share", "alice", "bob", "watch") in mine and ("session.share", "alice", "bob", "join") in mine
    assert ("session.join", "bob", "alice", "watch") in mine and ("session.unshare", "alice", "bob", None) in mine
    assert ("session.watch", "admin", "alice", None) in mine
