"""The replicas' shared state (webshell/replicas/state.py) against a real redis-server."""
from __future__ import annotations

import secrets
import threading
import time

import pytest

from webshell.errors import LimitReached, NotFound, WrongReplica
from webshell.replicas.link import LOST, ReplicaLink
from webshell.replicas.state import ReplicaState


@pytest.fixture
def states(redis_server):
    prefix = f"t{secrets.token_hex(4)}"
    made = []

    def make(name: str, lease: float = 0.5) -> ReplicaState:
        st = ReplicaState(redis_server.url, name, lease, prefix)
        made.append(st)
        return st
    yield make
    client = redis_server.client()
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def test_limits_count_every_replica_and_concurrent_reservations(states):
    a, b = states("a"), states("b")
    tokens, refused = [], []

    def grab(st):
        try:
            tokens.append(st.reserve("u1", 100, 5))
        except LimitReached as e:
            refused.append(e.message)
    threads = [threading.Thread(target=grab, args=(st,)) for st in (a, b) * 6]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(tokens) == 5 and len(refused) == 7 and all("limit of 5" in m for m in refused)
    assert a.counts("u1") == 5 and a.counts() == 5
    b.release(tokens[0], "u1")
    assert a.counts("u1") == 4
    owner = tokens[0].partition("/")[0]
    assert not a.redis.hexists(a.key("slots", "of", owner), tokens[0])   # gone from its replica's list too
    with pytest.raises(LimitReached, match="console has reached its limit of 4"):
        a.reserve("u2", 4, 5)


def test_an_expired_lease_is_claimed_once_and_its_slots_freed(states):
    a, b, c = states("a"), states("b"), states("c")
    for st in (a, b, c):
        st.renew()
    a.reserve("u1", 10, 10)
    a.opened("s1", {"owner": "u1", "pid": 42})
    assert b.lost() == [] and b.owner_of("s1") == ("a", {"owner": "u1", "pid": 42})
    time.sleep(0.7)   # a's lease (0.5 s) expires; b and c renew theirs
    b.renew()
    c.renew()
    assert b.lost() == ["a"] and c.lost() == ["a"]
    assert [b.claim("a"), c.claim("a")].count(True) == 1
    b.forget_replica("a")
    assert b.counts("u1") == 0 and b.owner_of("s1") is None and "a" not in c.lost()


def spawn_now(fn, *args):
    """The runtime's spawn, here a thread (the server's is a greenlet)."""
    t = threading.Thread(target=fn, args=args)
    t.start()
    return t


def test_the_link_reaps_a_lost_replica_and_explains_what_it_ended(states):
    a, b = states("a", lease=30), states("b", lease=30)
    hung, audited = [], []
    link_b = ReplicaLink(b, 10, 10, spawn_now, time.sleep,
                         lambda target, pid: hung.append((target["pod"], pid)) or True,
                         lambda event, user, **f: audited.append((event, user, f["reason"], f["session"])))
    a.renew()
    a.reserve("u1", 10, 10)
    a.opened("s1", {"owner": "u1", "pid": 7, "cluster": "c", "namespace": "n", "pod": "p", "container": "k",
                    "started": time.time()})
    with pytest.raises(WrongReplica) as e:
        link_b.explain_missing("s1", "u1")
    assert e.value.to_dict()["replica"] == "a"
    with pytest.raises(NotFound, match="may have ended"):
        link_b.explain_missing("s1", "someone-else")    # another user's session stays not found
    assert link_b.remote_sessions()[0]["replica"] == "a"
    assert link_b.reap("a") == 1
    assert hung == [("p", 7)] and audited == [("terminal.close", "u1", LOST, "s1")]
    with pytest.raises(NotFound, match="replica lost"):
        link_b.explain_missing("s1", "u1")
    assert b.counts() == 0 and link_b.remote_sessions() == []


def test_readyz_reports_redis(make_replicas):
    import requests
    rs = make_replicas(1)
    body = requests.get(f"{rs['r0'].url}/readyz").json()
    assert body["checks"]["redis"] == "ok" and body["status"] == "ready", body


def test_an_unreachable_redis_refuses_new_terminals_with_a_clear_error():
    from webshell.errors import Unavailable

    from .helpers import free_port
    st = ReplicaState(f"redis://127.0.0.1:{free_port()}/0", "a", 3)   # nothing listens there
    link = ReplicaLink(st, 10, 10, spawn_now, time.sleep, lambda target, pid: True, lambda *a, **k: None)
    with pytest.raises(Unavailable, match="shared state is unreachable") as e:
        link.reserve("u1")
    assert e.value.to_dict()["code"] == "unavailable"


def test_only_a_replica_that_renewed_for_a_whole_lease_judges_the_others(states):
    """After Redis was out of reach, every lease has expired: no replica may reap the others at once."""
    a, b = states("a", lease=2), states("b", lease=2)
    a.renew()
    a.opened("s1", {"owner": "u1", "pid": None, "cluster": "c", "namespace": "n", "pod": "p", "container": "k"})
    hung = []
    link_b = ReplicaLink(b, 10, 10, spawn_now, time.sleep, lambda target, pid: hung.append(pid) or True,
                         lambda *args, **kw: None)
    time.sleep(2.2)                      # a's lease expired
    assert link_b.lease_pass() == []     # b's first renewal in a row: too soon to judge
    assert b.owner_of("s1") is not None
    time.sleep(1.0)
    a.renew()                            # a was alive after all, and says so within the lease
    time.sleep(1.2)                      # b has renewed for a whole lease now; a's lease has 0.8 s left
    assert link_b.lease_pass() == [] and b.owner_of("s1") is not None
    time.sleep(2.2)                      # a is silent for longer than a lease now
    assert link_b.lease_pass() == ["a"] and b.owner_of("s1") is None
