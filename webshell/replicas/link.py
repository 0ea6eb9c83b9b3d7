"""One replica among others: its lease, its sessions in the shared state, requests to and from peers.

The terminal service calls this link when a terminal opens or ends and when it cannot find a
session; the link keeps the shared state (state.py) in step. Two background loops (through the
runtime's spawn/sleep) renew the lease and hang up the shells of replicas whose lease expired,
and carry out the requests other replicas publish (terminate a session, end a user's terminals,
cut a token). No Flask here: the app wires the handlers and the audit function.
"""
from __future__ import annotations

import base64
import json
import logging
import secrets
import time
from collections.abc import Callable

import redis

from ..errors import NotFound, Unavailable, WrongReplica
from .state import ReplicaState

log = logging.getLogger(__name__)

LOST = "ended: replica lost"
# hang_up(target {cluster, namespace, pod, container}, pid) -> True when the shell is gone
HangUp = Callable[[dict, int], bool]


class ReplicaLink:
    def __init__(self, state: ReplicaState, max_sessions: int, max_per_user: int,
                 spawn: Callable, sleep: Callable[[float], None], hang_up: HangUp, audit: Callable[..., None],
                 concurrency: int = 32, poll_interval: float = 0.05, listen_timeout: float = 1.0):
        self.state, self.name = state, state.name
        self.poll_interval = poll_interval   # KWS_POLL_INTERVAL: how often a batch of hang-ups is looked at
        self.listen_timeout = listen_timeout   # KWS_REPLICA_LISTEN_TIMEOUT: one wait for a message; back-off
        self.max_sessions, self.max_per_user = max_sessions, max_per_user
        self._spawn, self._sleep, self._hang_up, self._audit = spawn, sleep, hang_up, audit
        self.concurrency = max(1, concurrency)   # hang-ups of a lost replica's shells at once
        self.handlers: dict[str, Callable[..., None]] = {}   # control op -> handler(**fields)
        self._slots: dict[str, tuple[str, str]] = {}         # session id -> (slot token, uid)
        self._started = False
        self._stopping = False
        self._renewing_since: float | None = None            # monotonic time of the first renewal in a row
        self.watching: dict[str, set[str]] = {}              # local admin sid -> sessions it watches elsewhere
        self.reply_timeout = max(2.0, state.lease / 3)

    # -- terminals of this replica ------------------------------------------------
    def reserve(self, uid: str) -> str:
        try:
            return self.state.reserve(uid, self.max_sessions, self.max_per_user)
        except redis.RedisError as e:
            log.warning("cannot count a new terminal: redis: %s", e)
            raise Unavailable("the console's shared state is unreachable; try again soon") from None

    def release(self, token: str, uid: str) -> None:
        try:
            self.state.release(token, uid)
        except Exception:  # noqa: BLE001 - a lost slot is freed when this replica goes
            log.exception("could not free terminal slot %s", token)

    def opened(self, session, token: str, username: str) -> None:
        t = session.target
        self._slots[session.id] = (token, session.owner)
        self.state.opened(session.id, {
            "owner": session.owner, "user": username, "pid": getattr(session, "pid", None), "slot": token,
            "cluster": t.cluster, "namespace": t.namespace, "pod": t.pod, "container": t.container,
            "shell": session.shell[0], "started": session.started_at})

    def ended(self, session, reason: str) -> None:
        slot = self._slots.pop(session.id, None)
        try:
            self.state.closed(session.id)
            self.state.mark_ended(session.id, reason)
        except Exception:  # noqa: BLE001 - the session ended here whatever Redis says
            log.exception("session %s: could not clear its shared record", session.id)
        if slot:
            self.release(*slot)

    def explain_missing(self, session_id, uid: str) -> None:
        """A session this replica does not hold: WrongReplica when another one does, else why it ended."""
        if not isinstance(session_id, str):
            raise NotFound("no such terminal session (it may have ended)")
        owner = self.state.owner_of(session_id)
        if owner is not None and owner[1].get("owner") == uid and owner[0] != self.name:
            raise WrongReplica(owner[0], round(self.state.lease / 3, 1))   # a lost one is reaped by then
        reason = self.state.ended_reason(session_id) if owner is None else None
        raise NotFound(f"the terminal session ended ({reason})" if reason else
                       "no such terminal session (it may have ended)")

    # -- other replicas' terminals -----------------------------------------------------
    def remote_sessions(self) -> list[dict]:
        """Sessions of the other replicas, described like the hub describes local ones."""
        return [{"session": sid, "user": rec.get("user"), "cluster": rec["cluster"], "namespace": rec["namespace"],
                 "pod": rec["pod"], "container": rec["container"], "shell": rec.get("shell"),
                 "started": rec.get("started"), "attached": None, "watchers": 0, "recorded": None,
                 "replica": name}
                for name, sid, rec in self.state.every_record() if name != self.name]

    def remote(self, session_id: str) -> tuple[str, dict] | None:
        owner = self.state.owner_of(session_id)
        return owner if owner is not None and owner[0] != self.name else None

    def watch(self, session_id: str, sid: str) -> dict:
        """Watch another replica's session from local socket `sid`: the owner adds `sid` as a watcher
        (its emits reach `sid` through the message queue) and answers with the recent output."""
        reply = self.state.key("reply", secrets.token_urlsafe(12))
        self.ask("watch", session=session_id, sid=sid, reply=reply)
        got = self.state.redis.blpop([reply], timeout=self.reply_timeout)
        if got is None:
            raise NotFound("the replica holding this session did not answer")
        answer = json.loads(got[1])
        if not answer.get("ok"):
            raise NotFound("no such live session")
        self.watching.setdefault(sid, set()).add(session_id)
        return {"session": session_id, "replay": base64.b64decode(answer["replay"]), "meta": answer["meta"]}

    def answer_watch(self, reply: str, watched: dict | None) -> None:
        """The owner's side of watch(): {ok, replay (base64), meta} pushed to the asker's reply key."""
        body = {"ok": False} if watched is None else {
            "ok": True, "replay": base64.b64encode(watched["replay"]).decode(), "meta": watched["meta"]}
        pipe = self.state.redis.pipeline()
        pipe.rpush(reply, json.dumps(body))
        pipe.expire(reply, 60)
        pipe.execute()

    def unwatch(self, sid: str, session_id: str | None = None) -> None:
        """Socket `sid` stops watching sessions elsewhere (all of them when `session_id` is None)."""
        watched = self.watching.get(sid)
        if not watched or (session_id is not None and session_id not in watched):
            return
        if session_id is None:
            self.watching.pop(sid, None)
        else:
            watched.discard(session_id)
        self.ask("unwatch", sid=sid, session=session_id)

    def ask(self, op: str, **fields) -> None:
        """Ask every other replica to do `op` (terminate, end_user, revoke_token)."""
        self.state.publish(op, **fields)

    # -- background work ---------------------------------------------------------------
    def start(self) -> None:
        if self._started:
            return
        self._started = True
        self.reap(self.name)   # sessions left by this replica's previous life (same name, killed)
        self.state.renew()
        self._spawn(self._lease_forever)
        self._spawn(self._listen_forever)

    def leave(self) -> None:
        """Clean shutdown, after this replica hung up its own shells."""
        self._stopping = True
        try:
            self.state.leave()
        except Exception:  # noqa: BLE001
            log.exception("could not leave the shared state")

    def _lease_forever(self) -> None:
        while not self._stopping:
            self.lease_pass()
            self._sleep(self.state.lease / 3)

    def lease_pass(self) -> list[str]:
        """Renew this replica's lease; reap the replicas whose lease expired (the ones reaped).

        Only a replica that has renewed without a break for a whole lease judges the others:
        after Redis was out of reach for longer than a lease, every lease has expired, and the
        live replicas renew theirs within a third of one; none of them is lost."""
        try:
            self.state.renew()
        except Exception:  # noqa: BLE001 - the lease loop must survive Redis hiccups
            log.exception("replica lease renewal failed")
            self._renewing_since = None
            return []
        now = time.monotonic()
        if self._renewing_since is None:
            self._renewing_since = now
        if now - self._renewing_since < self.state.lease:
            return []
        reaped = []
        try:
            for name in self.state.lost():
                self.reap(name)
                reaped.append(name)
        except Exception:  # noqa: BLE001
            log.exception("replica lease pass failed")
        return reaped

    def reap(self, replica: str) -> int:
        """Hang up every shell of a lost replica, audit why, and free what it held; the shells hung up."""
        if replica != self.name and not self.state.claim(replica):
            return 0
        records = self.state.records(replica)
        if not records and replica == self.name:
            self.state.forget_replica(replica)
            return 0
        log.warning("replica %s is lost: hanging up its %s shells", replica, len(records))
        gone = self._hang_up_all(records)
        for session_id, rec in records.items():
            target = {k: rec[k] for k in ("cluster", "namespace", "pod", "container")}
            self.state.mark_ended(session_id, LOST)
            self._audit("terminal.close", rec.get("owner"), session=session_id, code=None, reason=LOST,
                        replica=replica, pid=rec.get("pid"), hung_up=gone[session_id],
                        duration=round(time.time() - rec.get("started", time.time()), 1), **target)
        self.state.forget_replica(replica)
        return sum(gone.values())

    def _hang_up_all(self, records: dict[str, dict]) -> dict[str, bool]:
        """Hang up the shells of `records`, `concurrency` at a time; session id -> is the shell gone."""
        gone: dict[str, bool] = {}

        def one(session_id: str, rec: dict) -> None:
            target = {k: rec[k] for k in ("cluster", "namespace", "pod", "container")}
            try:
                gone[session_id] = rec.get("pid") is None or bool(self._hang_up(target, rec["pid"]))
            except Exception:  # noqa: BLE001 - audited as not hung up
                log.exception("hang-up of a lost replica's shell %s failed", session_id)
                gone[session_id] = False
        ids = list(records)
        for i in range(0, len(ids), self.concurrency):
            batch = ids[i:i + self.concurrency]
            for sid in batch:
                self._spawn(one, sid, records[sid])
            # Wait by polling: engine.io's eventlet task join() returns at once for a greenlet not yet started.
            while not all(sid in gone for sid in batch):
                self._sleep(self.poll_interval)
        return gone

    def _listen_forever(self) -> None:
        while not self._stopping:
            try:
                pubsub = self.state.subscribe()
                while not self._stopping:
                    msg = pubsub.get_message(timeout=self.listen_timeout)
                    if msg is None:
                        self._sleep(0)
                        continue
                    self.handle(msg["data"])
            except Exception:  # noqa: BLE001 - reconnect after a Redis failure
                log.exception("replica control channel failed; resubscribing")
                self._sleep(self.listen_timeout)

    def handle(self, raw: bytes | str) -> None:
        msg = json.loads(raw)
        if msg.pop("from", None) == self.name:
            return
        handler = self.handlers.get(msg.pop("op", ""))
        if handler is None:
            return
        try:
            handler(**msg)
        except Exception:  # noqa: BLE001
            log.exception("replica request %s failed", msg)
