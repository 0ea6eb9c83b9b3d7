"""Configuration read from KWS_* environment variables; tests subclass Config."""
from __future__ import annotations

import os
from pathlib import Path

PREFIX = "KWS_"


def _env(name: str, default: str) -> str:
    return os.environ.get(PREFIX + name, default)


def _int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def _float(name: str, default: float) -> float:
    return float(_env(name, str(default)))


def _list(name: str, default: str) -> list[str]:
    return [x.strip() for x in _env(name, default).split(",") if x.strip()]


class Config:
    """Every setting of the console. Each reads KWS_<NAME> from the environment (see README)."""

    def __init__(self) -> None:
        self.HOST = _env("HOST", "127.0.0.1")
        self.PORT = _int("PORT", 8080)
        self.INSTANCE_DIR = Path(_env("INSTANCE_DIR", str(Path.cwd() / "instance")))
        self.SECRET_KEY = _env("SECRET_KEY", "")            # generated and kept in INSTANCE_DIR when empty
        self.SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", "")  # sqlite in INSTANCE_DIR when empty
        self.ADMIN_USER = _env("ADMIN_USER", "admin")
        self.ADMIN_PASSWORD = _env("ADMIN_PASSWORD", "")    # generated and printed once when empty
        # Clusters: every context of these kubeconfig files (KUBECONFIG syntax), else in-cluster.
        self.KUBECONFIG = _env("KUBECONFIG", os.environ.get("KUBECONFIG", str(Path.home() / ".kube" / "config")))
        self.SERVICE_ACCOUNT_DIR = _env("SERVICE_ACCOUNT_DIR", "/var/run/secrets/kubernetes.io/serviceaccount")
        self.ALLOWED_ORIGINS = _list("ALLOWED_ORIGINS", "")  # same origin only when empty
        self.SESSION_COOKIE_SECURE = _env("COOKIE_SECURE", "0") == "1"
        self.LOG_LEVEL = _env("LOG_LEVEL", "INFO")
        self.ASYNC_MODE = _env("ASYNC_MODE", "eventlet")         # eventlet | gevent | threading
        # Terminal
        self.SHELLS = _list("SHELLS", "bash,sh")
        self.ALLOWED_COMMANDS = [c.split() for c in _list("ALLOWED_COMMANDS", "")]
        self.SESSION_GRACE = _float("SESSION_GRACE", 60.0)       # seconds a session outlives its socket
        self.REPLAY_BYTES = _int("REPLAY_BYTES", 256 * 1024)      # output kept for attach
        self.SHARE_MAX_GUESTS = _int("SHARE_MAX_GUESTS", 10)      # users one session may be shared with
        self.OUTPUT_WINDOW = _int("OUTPUT_WINDOW", 512 * 1024)   # unacknowledged output per session
        self.OUTPUT_BATCH = _int("OUTPUT_BATCH", 64 * 1024)      # largest single output emit
        self.MAX_SESSIONS = _int("MAX_SESSIONS", 1000)           # whole server
        self.MAX_SESSIONS_PER_USER = _int("MAX_SESSIONS_PER_USER", 50)
        self.MAX_INPUT_BYTES = _int("MAX_INPUT_BYTES", 64 * 1024)
        self.MAX_TERMINAL_SIZE = _int("MAX_TERMINAL_SIZE", 1000)  # cols and rows
        # Interrupts and lag (docs/PROTOCOL.md): Ctrl-C, Ctrl-\, Ctrl-Z skip a flood's backlog.
        self.INTERRUPT_CHARS = bytes(int(c, 0) for c in _list("INTERRUPT_CHARS", "0x03,0x1c,0x1a"))
        self.INTERRUPT_QUIET = _float("INTERRUPT_QUIET", 0.1)          # the flood stopped: this quiet
        self.INTERRUPT_MAX_SKIP = _float("INTERRUPT_MAX_SKIP", 5.0)    # seconds skipped at most
        self.INTERRUPT_REARM = _float("INTERRUPT_REARM", 2.0)   # s after a quiet end a resumed backlog is skipped
        self.INTERRUPT_SLICE = _float("INTERRUPT_SLICE", 0.02)      # s a skip reads before others get a turn
        self.INTERRUPT_TAIL_BYTES = _int("INTERRUPT_TAIL_BYTES", 16384)  # skipped output's end shown
        self.INTERRUPT_FLOOD_BYTES = _int("INTERRUPT_FLOOD_BYTES", 65536)  # pending output that is a flood
        self.INTERRUPT_FLOOD_WINDOW = _float("INTERRUPT_FLOOD_WINDOW", 1.0)  # s of reads that count as pending
        self.OUTPUT_LAG = _float("OUTPUT_LAG", 1.0)                    # seconds of output queued per client
        self.PUMP_WAKE = _float("PUMP_WAKE", 1.0)      # a terminal's sender looks again at least this often
        self.OUTPUT_COALESCE = _float("OUTPUT_COALESCE", 0.01)   # s a streaming terminal gathers output (0: never)
        self.OUTPUT_COALESCE_MIN = _int("OUTPUT_COALESCE_MIN", 4096)   # a batch at least this big makes it gather
        self.OUTPUT_ACK_MIN = _int("OUTPUT_ACK_MIN", 2048)        # an output this big asks for an acknowledgement
        self.OUTPUT_ACK_EVERY = _int("OUTPUT_ACK_EVERY", 16384)   # smaller ones once this much went unasked
        self.EXEC_RECV_BUFFER_MIN = _int("EXEC_RECV_BUFFER_MIN", 64 * 1024)
        self.EXEC_RECV_BUFFER_MAX = _int("EXEC_RECV_BUFFER_MAX", 1024 * 1024)
        self.POD_CHECK_INTERVAL = _float("POD_CHECK_INTERVAL", 5.0)
        self.KUBE_TIMEOUT = _float("KUBE_TIMEOUT", 15.0)
        self.PROBE_TIMEOUT = _float("PROBE_TIMEOUT", 5.0)        # wait this long for a new shell's PID
        self.HANGUP_GRACE = _float("HANGUP_GRACE", 2.0)          # SIGHUP, then SIGKILL after this long
        self.SHUTDOWN_TIMEOUT = _float("SHUTDOWN_TIMEOUT", 10.0)  # hang-ups on SIGTERM wait at most this
        self.PROBE_POLL = _float("PROBE_POLL", 0.01)             # a new shell's probe looks for output this often
        self.DEBUG_POLL = _float("DEBUG_POLL", 0.2)              # a new debug container's state is read this often
        self.POLL_INTERVAL = _float("POLL_INTERVAL", 0.05)       # other waits (shutdown, upload watch, hang-up batches)
        self.KUBE_RETRY_PAUSE = _float("KUBE_RETRY_PAUSE", 0.2)  # before retrying a call whose connection broke
        # Debug containers for images without a shell (rules need --debug)
        self.DEBUG_IMAGE = _env("DEBUG_IMAGE", "kws.local/busybox:1")   # the local cluster's busybox image
        self.DEBUG_START_TIMEOUT = _float("DEBUG_START_TIMEOUT", 60.0)    # seconds until it runs (image pull)
        # File transfer
        self.TRANSFER_CHUNK = _int("TRANSFER_CHUNK", 128 * 1024)
        self.STDERR_SETTLE = _float("STDERR_SETTLE", 1.0)        # a failing upload's message: wait for its end
        self.MAX_UPLOAD_BYTES = _int("MAX_UPLOAD_BYTES", 64 * 1024 ** 3)
        self.MAX_TRANSFERS = _int("MAX_TRANSFERS", 16)
        self.TRANSFER_RETRIES = _int("TRANSFER_RETRIES", 3)
        # A file transfer whose exec stream sends nothing for this long ends (a frozen or cut-off cluster).
        self.TRANSFER_IDLE_TIMEOUT = _float("TRANSFER_IDLE_TIMEOUT", 60.0)
        self.MAX_UPLOAD_FILES = _int("MAX_UPLOAD_FILES", 10000)      # parts of one multipart upload
        self.TRANSFER_TMPDIR = _env("TRANSFER_TMPDIR", "")           # spool for multipart parts; system tmp when empty
        self.LIST_MAX_ENTRIES = _int("LIST_MAX_ENTRIES", 10000)     # directory listing, then `truncated`
        self.LIST_MAX_BYTES = _int("LIST_MAX_BYTES", 16 * 1024 ** 2)
        self.LOGIN_MAX_FAILURES = _int("LOGIN_MAX_FAILURES", 5)
        self.LOGIN_LOCK_SECONDS = _float("LOGIN_LOCK_SECONDS", 60.0)
        # The login throttle (webshell/auth/throttle.py): LOGIN_MAX_FAILURES counts per (name, address);
        # a name is locked everywhere after LOGIN_MAX_FAILURES_PER_USER; an address only by its total rate.
        self.LOGIN_MAX_FAILURES_PER_USER = _int("LOGIN_MAX_FAILURES_PER_USER", 20)
        self.LOGIN_ADDRESS_LIMIT = _env("LOGIN_ADDRESS_LIMIT", "120 per minute")   # every POST /login
        # The throttle's counts: in this process, or (with many replicas) in their Redis unless told otherwise
        self.RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", _env("MESSAGE_QUEUE", "") or "memory://")
        # Access control and audit
        self.IMPERSONATE = _env("IMPERSONATE", "0") == "1"       # act as the web user towards the cluster
        self.NAMESPACES = _list("NAMESPACES", "")   # offered when the console may not list namespaces
        self.AUTH_RECHECK = _float("AUTH_RECHECK", 2.0)          # seconds between re-checks of live sockets
        self.AUDIT_PAGE_SIZE = _int("AUDIT_PAGE_SIZE", 100)
        self.RECORDINGS_PAGE_SIZE = _int("RECORDINGS_PAGE_SIZE", 50)   # recordings per admin page
        self.TERMINATE_REASON_MAX = _int("TERMINATE_REASON_MAX", 500)  # characters of an admin's terminate reason
        self.AUDIT_RETRIES = _int("AUDIT_RETRIES", 5)            # tries to store one audit event
        self.AUDIT_RETRY_DELAY = _float("AUDIT_RETRY_DELAY", 0.2)  # seconds, growing with each try
        self.TOKEN_MAX_DAYS = _float("TOKEN_MAX_DAYS", 366.0)     # longest expiry a user may choose
        self.RECORD = _env("RECORD", "1") == "1"                  # record terminal output (asciicast v2)
        self.RECORD_INPUT = _env("RECORD_INPUT", "0") == "1"      # keystrokes too (typed passwords!)
        self.RECORDINGS_DIR = Path(_env("RECORDINGS_DIR", str(self.INSTANCE_DIR / "recordings")))
        self.RECORDING_MAX_BYTES = _int("RECORDING_MAX_BYTES", 50 * 1024 ** 2)         # one session
        self.RECORDINGS_MAX_BYTES = _int("RECORDINGS_MAX_BYTES", 2 * 1024 ** 3)        # all of them
        self.RECORDING_RETENTION_DAYS = _float("RECORDING_RETENTION_DAYS", 30.0)
        self.RECORDING_FLUSH_SECONDS = _float("RECORDING_FLUSH_SECONDS", 1.0)   # buffered at most this long; 0: none
        # Bounds before authentication (docs/SECURITY.md)
        self.MAX_BODY_BYTES = _int("MAX_BODY_BYTES", 1024 ** 2)              # every route but uploads
        self.MAX_SOCKET_ATTACHMENTS = _int("MAX_SOCKET_ATTACHMENTS", 4)      # per Socket.IO packet
        self.MAX_SOCKET_ATTACHMENT_BYTES = _int("MAX_SOCKET_ATTACHMENT_BYTES", 2 * self.MAX_INPUT_BYTES)
        # Operations: health, metrics, proxies, the production server, logs
        self.METRICS = _env("METRICS", "0") == "1"               # serve /metrics without a token
        self.METRICS_TOKEN = _env("METRICS_TOKEN", "")           # /metrics needs `Authorization: Bearer <it>`
        self.READYZ_TIMEOUT = _float("READYZ_TIMEOUT", 2.0)      # per-cluster probe of /readyz
        self.READYZ_CACHE = _float("READYZ_CACHE", 10.0)         # seconds a cluster probe result is reused
        self.TRUSTED_PROXIES = _int("TRUSTED_PROXIES", 0)        # reverse proxies in front (X-Forwarded-*)
        self.LOG_FORMAT = _env("LOG_FORMAT", "text")             # text | json
        self.ACCESS_LOG = _env("ACCESS_LOG", "1") == "1"         # one line per HTTP request
        self.HTTP_TIMEOUT = _float("HTTP_TIMEOUT", 300.0)        # idle client socket (not websockets)
        self.PING_INTERVAL = _float("PING_INTERVAL", 25.0)       # Socket.IO ping (proxies' read timeout > this)
        self.PING_TIMEOUT = _float("PING_TIMEOUT", 20.0)
        # Console page (issue 16)
        self.SEARCH_MAX_RESULTS = _int("SEARCH_MAX_RESULTS", 200)   # pods one search answers with
        self.LOGS_CHUNK = _int("LOGS_CHUNK", 64 * 1024)             # largest piece of a log stream held at once
        self.LOGS_IDLE_SECONDS = _float("LOGS_IDLE_SECONDS", 300.0)  # a quiet follow ends (the page resumes)
        self.LOGS_MAX_TAIL = _int("LOGS_MAX_TAIL", 100000)          # largest `tail`
        # Single sign-on (README "Single sign-on"): OIDC providers as a JSON list, groups -> roles
        self.OIDC_PROVIDERS = _env("OIDC_PROVIDERS", "")          # [{"name", "issuer", "client_id", ...}]
        self.OIDC_GROUP_ROLES = _list("OIDC_GROUP_ROLES", "")     # group=role,...: the first match wins
        self.OIDC_ADMIN_GROUPS = _list("OIDC_ADMIN_GROUPS", "")   # members are admins (set at each login)
        self.OIDC_REFRESH_MARGIN = _float("OIDC_REFRESH_MARGIN", 60.0)  # refresh an ID token this early
        self.OIDC_TIMEOUT = _float("OIDC_TIMEOUT", 10.0)          # each call to a provider
        self.LOCAL_LOGIN = _env("LOCAL_LOGIN", "1") == "1"        # 0: only SSO (the password form is gone)
        # How the cluster learns who acts, per cluster glob: rules | impersonate | token (glob=mode,...)
        self.CLUSTER_AUTH = _list("CLUSTER_AUTH", "")
        # Many replicas (issue 14): none of this is used unless MESSAGE_QUEUE names a Redis
        self.MESSAGE_QUEUE = _env("MESSAGE_QUEUE", "")           # redis://...: Socket.IO queue and shared state
        self.REPLICA_NAME = _env("REPLICA_NAME", "") or __import__("socket").gethostname()   # = affinity cookie value
        self.REPLICA_LEASE = _float("REPLICA_LEASE", 15.0)       # seconds a silent replica's shells outlive it
        self.REPLICA_REAP_CONCURRENCY = _int("REPLICA_REAP_CONCURRENCY", 32)   # a lost replica's hang-ups at once
        self.REPLICA_LISTEN_TIMEOUT = _float("REPLICA_LISTEN_TIMEOUT", 1.0)   # control channel: one wait; back-off
        self.REDIS_PREFIX = _env("REDIS_PREFIX", "kws")          # keys and channels (several consoles, one Redis)
        # Flask
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.SQLALCHEMY_TRACK_MODIFICATIONS = False
        self.WTF_CSRF_TIME_LIMIT = None
        self.MAX_CONTENT_LENGTH = self.MAX_BODY_BYTES   # the upload routes lift it once authenticated
        self.TESTING = False
        self.PREPARE_DATABASE = True     # migrate and create the first admin in create_app (tests may not)

    def as_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if k.isupper()}
