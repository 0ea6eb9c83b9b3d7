"""Session sharing in the terminal domain: invitations, modes, the owner told of viewers, revocation, limits."""
from __future__ import annotations

import pytest

from webshell.errors import BadRequest, Forbidden, LimitReached, NotFound
from webshell.terminal.guard import Identity

from .test_registry import REQ, connect, service

ALICE, BOB, EVE = Identity("1", "alice"), Identity("2", "bob"), Identity("3", "eve")


def _viewers_sent(tr, sid="owner"):
    return [p for e, p, to in tr.sent if e == "viewers" and to == sid]


def test_only_the_owner_shares_and_guests_type_only_after_join_mode():
    svc, starter, tr, audit = service(max_per_user=3)
    connect(svc, "owner", "1", "alice")
    s = svc.open("owner", REQ)
    sharing = svc.sharing
    with pytest.raises(NotFound):
        sharing.share(BOB, s.id, "eve", "watch")                 # not bob's session
    with pytest.raises(BadRequest):
        sharing.share(ALICE, s.id, "alice", "watch")
    with pytest.raises(NotFound):
        sharing.join("eve-sid", EVE, s.id)                        # not invited
    sharing.share(ALICE, s.id, "bob", "watch")
    assert [x["session"] for x in sharing.shared_with(BOB)] == [s.id] and sharing.shared_with(EVE) == []
    joined = sharing.join("bob-sid", BOB, s.id)
    assert joined["mode"] == "watch" and joined["meta"]["user"] == "alice"
    assert _viewers_sent(tr)[-1]["viewers"] == [{"user": "bob", "mode": "watch"}]
    with pytest.raises(Forbidden):
        sharing.session_for_input("bob-sid", s.id)
    with pytest.raises(NotFound):
        sharing.session_for_input("eve-sid", s.id)
    sharing.share(ALICE, s.id, "bob", "join")                     # the connected guest's mode changes too
    assert sharing.session_for_input("bob-sid", s.id) is s
    starter.shells[0].stream.out(b"hello")
    tr.wait(lambda: any(e == "output" and to == "bob-sid" for e, _, to in tr.sent))

    svc.watch("admin-sid", s.id, "root")
    assert _viewers_sent(tr)[-1]["viewers"] == [{"user": "bob", "mode": "join"}, {"user": "root", "mode": "admin"}]
    sharing.unshare(ALICE, s.id, "bob")
    assert ("exit", {"session": s.id, "code": None, "reason": "access revoked by the owner"}, "bob-sid") in tr.sent
    assert _viewers_sent(tr)[-1]["viewers"] == [{"user": "root", "mode": "admin"}]
    with pytest.raises(NotFound):
        sharing.session_for_input("bob-sid", s.id)
    svc.unwatch("admin-sid", s.id)
    assert _viewers_sent(tr)[-1]["viewers"] == []
    names = audit.names()
    assert names.count("session.share") == 2 and "session.join" in names and "session.unshare" in names


def test_invitations_are_bounded_and_end_with_the_session():
    svc, starter, tr, audit = service()
    svc.sharing.max_guests = 2
    connect(svc, "owner", "1", "alice")
    s = svc.open("owner", REQ)
    svc.sharing.share(ALICE, s.id, "bob", "watch")
    svc.sharing.share(ALICE, s.id, "eve", "join")
    svc.sharing.share(ALICE, s.id, "eve", "watch")               # a change, not one more
    with pytest.raises(LimitReached):
        svc.sharing.share(ALICE, s.id, "zoe", "watch")
    svc.sharing.join("bob-sid", BOB, s.id)
    svc.disconnected("bob-sid")                                   # a guest's socket drops: the owner is told
    assert _viewers_sent(tr)[-1]["viewers"] == []
    s.close("closed by the user")
    from .fakes import wait_until
    wait_until(lambda: "terminal.close" in audit.names())
    assert svc.sharing.shared_with(BOB) == [] and svc.sharing._invites == {}
