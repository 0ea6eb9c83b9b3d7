"""What replicas share in Redis: leases, who owns which session, the session counts, ended reasons.

Keys (all under a prefix, KWS_REDIS_PREFIX):
  replicas              set of replica names that may own sessions
  lease:<replica>       present while the replica lives (expires after the lease time)
  sessions:<replica>    hash session id -> JSON record (owner, user name, target, shell PID, slot)
  owners                hash session id -> replica (one lookup for attach on the wrong replica)
  slots:all             set of slot tokens: one per terminal open or opening, on any replica
  slots:user:<uid>      the same, per user
  slots:of:<replica>    hash slot token -> uid: a lost replica's slots are freed with its sessions
  transfers:all         set of transfer tokens running on any replica (KWS_MAX_TRANSFERS counts them)
  transfers:of:<replica>  the same, of one replica (freed when it is lost)
  ended:<session id>    why a session that no replica holds any more ended (kept an hour)
  reaping:<replica>     taken by the one survivor that hangs up a lost replica's shells
  control               pub/sub channel of cross-replica requests (JSON)
"""
from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator

import redis

from ..errors import LimitReached

log = logging.getLogger(__name__)

# KEYS: slots:all, slots:user:<uid>, slots:of:<replica>; ARGV: max total, max per user, token, uid.
_RESERVE = """
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 1 end
if redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[2]) then return 2 end
redis.call('SADD', KEYS[1], ARGV[3])
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
return 0
"""
# KEYS: transfers:all, transfers:of:<replica>; ARGV: max, token.
_TAKE_TRANSFER = """
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('SADD', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[2])
return 1
"""
ENDED_TTL = 3600


class ReplicaState:
    """One replica's view of the shared state (a redis-py client; eventlet-patched in the server)."""

    def __init__(self, url: str, name: str, lease: float, prefix: str = "kws"):
        self.name, self.lease, self.prefix = name, lease, prefix
        self.redis = redis.Redis.from_url(url, socket_timeout=max(2.0, lease / 3), health_check_interval=30)
        self._reserve = self.redis.register_script(_RESERVE)
        self._take_transfer = self.redis.register_script(_TAKE_TRANSFER)

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    @property
    def channel(self) -> str:
        return self.key("control")

    # -- the lease ---------------------------------------------------------------
    def renew(self) -> None:
        """Say this replica lives for another lease period."""
        pipe = self.redis.pipeline()
        pipe.sadd(self.key("replicas"), self.name)
        pipe.set(self.key("lease", self.name), "1", px=int(self.lease * 1000))
        pipe.execute()

    def lost(self) -> list[str]:
        """Replicas (other than this one) whose lease expired."""
        names = sorted(n.decode() for n in self.redis.smembers(self.key("replicas")))
        others = [n for n in names if n != self.name]
        pipe = self.redis.pipeline()
        for n in others:
            pipe.exists(self.key("lease", n))
        return [n for n, up in zip(others, pipe.execute()) if not up]

    def claim(self, replica: str) -> bool:
        """Take the lost `replica`'s clean-up (one survivor at a time; retried after a lease if it dies too)."""
        return bool(self.redis.set(self.key("reaping", replica), self.name, nx=True, px=int(self.lease * 1000)))

    def forget_replica(self, replica: str) -> None:
        """After its sessions were hung up: free its slots and drop every key it had."""
        slots = {k.decode(): v.decode() for k, v in self.redis.hgetall(self.key("slots", "of", replica)).items()}
        pipe = self.redis.pipeline()
        for token, uid in slots.items():
            pipe.srem(self.key("slots", "all"), token)
            pipe.srem(self.key("slots", "user", uid), token)
        transfers = self.redis.smembers(self.key("transfers", "of", replica))
        if transfers:
            pipe.srem(self.key("transfers", "all"), *transfers)
        sessions = self.redis.hkeys(self.key("sessions", replica))
        if sessions:
            pipe.hdel(self.key("owners"), *sessions)
        pipe.delete(self.key("slots", "of", replica), self.key("sessions", replica), self.key("reaping", replica),
                    self.key("transfers", "of", replica))
        pipe.srem(self.key("replicas"), replica)
        pipe.execute()

    def leave(self) -> None:
        """A clean shutdown: its shells are hung up already; nothing is left for others to do."""
        self.forget_replica(self.name)
        self.redis.delete(self.key("lease", self.name))

    # -- counts --------------------------------------------------------------------
    def reserve(self, uid: str, max_total: int, max_per_user: int) -> str:
        """A slot for one more terminal of `uid`, counted on every replica; LimitReached beyond the limits."""
        token = f"{self.name}/{secrets.token_urlsafe(9)}"
        why = self._reserve(keys=[self.key("slots", "all"), self.key("slots", "user", uid),
                                  self.key("slots", "of", self.name)],
                            args=[max_total, max_per_user, token, uid])
        if why == 1:
            raise LimitReached(f"the console has reached its limit of {max_total} terminals")
        if why == 2:
            raise LimitReached(f"you have reached your limit of {max_per_user} terminals")
        return token

    def release(self, token: str, uid: str) -> None:
        pipe = self.redis.pipeline()
        pipe.srem(self.key("slots", "all"), token)
        pipe.srem(self.key("slots", "user", uid), token)
        pipe.hdel(self.key("slots", "of", token.partition("/")[0]), token)   # the replica that reserved it
        pipe.execute()

    def counts(self, uid: str | None = None) -> int:
        return self.redis.scard(self.key("slots", "user", uid) if uid else self.key("slots", "all"))

    def take_transfer(self, limit: int) -> str | None:
        """A transfer slot counted on every replica; None beyond `limit`."""
        token = f"{self.name}/{secrets.token_urlsafe(9)}"
        ok = self._take_transfer(keys=[self.key("transfers", "all"), self.key("transfers", "of", self.name)],
                                 args=[limit, token])
        return token if ok else None

    def give_transfer(self, token: str) -> None:
        pipe = self.redis.pipeline()
        pipe.srem(self.key("transfers", "all"), token)
        pipe.srem(self.key("transfers", "of", self.name), token)
        pipe.execute()

    # -- sessions ------------------------------------------------------------------
    def opened(self, session_id: str, record: dict) -> None:
        pipe = self.redis.pipeline()
        pipe.hset(self.key("sessions", self.name), session_id, json.dumps(record))
        pipe.hset(self.key("owners"), session_id, self.name)
        pipe.execute()

    def closed(self, session_id: str) -> None:
        pipe = self.redis.pipeline()
        pipe.hdel(self.key("sessions", self.name), session_id)
        pipe.hdel(self.key("owners"), session_id)
        pipe.execute()

    def records(self, replica: str) -> dict[str, dict]:
        raw = self.redis.hgetall(self.key("sessions", replica))
        return {k.decode(): json.loads(v) for k, v in raw.items()}

    def every_record(self) -> Iterator[tuple[str, str, dict]]:
        """(replica, session id, record) for every session of every replica."""
        for name in sorted(n.decode() for n in self.redis.smembers(self.key("replicas"))):
            for session_id, rec in self.records(name).items():
                yield name, session_id, rec

    def owner_of(self, session_id: str) -> tuple[str, dict] | None:
        """(replica, record) of a live session, or None."""
        name = self.redis.hget(self.key("owners"), session_id)
        rec = self.redis.hget(self.key("sessions", name.decode()), session_id) if name is not None else None
        return (name.decode(), json.loads(rec)) if rec is not None else None

    def mark_ended(self, session_id: str, reason: str) -> None:
        self.redis.set(self.key("ended", session_id), reason, ex=ENDED_TTL)

    def ended_reason(self, session_id: str) -> str | None:
        v = self.redis.get(self.key("ended", session_id))
        return v.decode() if v is not None else None

    # -- control messages ------------------------------------------------------------
    def publish(self, op: str, **fields) -> None:
        self.redis.publish(self.channel, json.dumps({"op": op, "from": self.name, **fields}))

    def subscribe(self) -> redis.client.PubSub:
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(self.channel)
        return pubsub
