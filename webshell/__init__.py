"""kube-webshell: a web console for shells and files in Kubernetes containers."""
from __future__ import annotations

import logging
import secrets
import sys

from flask import Flask, redirect, request, url_for

from . import logsafe
from .config import Config
from .errors import error_json, wants_json
from .extensions import csrf, db, limiter, login_manager, socketio
from .ops.logs import configure as configure_logging
from .ops.proxy import trust_proxies
from .origins import origin_allowed

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)


def create_app(config: Config | None = None) -> Flask:
    """Build the app: load config, bind extensions, register blueprints and the terminal namespace."""
    cfg = config or Config()
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"),
                instance_path=str(cfg.INSTANCE_DIR))
    app.config.update(cfg.as_dict())
    cfg.INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    configure_logging(cfg.LOG_LEVEL, cfg.LOG_FORMAT)   # text, or JSON lines naming the user
    logsafe.install()   # every logged value quoted: no client can forge a log line
    app.config["SECRET_KEY"] = cfg.SECRET_KEY or _instance_secret(cfg.INSTANCE_DIR / "secret_key")
    if not cfg.SQLALCHEMY_DATABASE_URI:
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{cfg.INSTANCE_DIR / 'webshell.db'}"

    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login_form"
    allowed = cfg.ALLOWED_ORIGINS
    socketio.init_app(app, async_mode=cfg.ASYNC_MODE, cors_allowed_origins=lambda origin, environ: origin_allowed(origin, environ, allowed),
                      max_http_buffer_size=4 * cfg.MAX_INPUT_BYTES,
                      ping_interval=cfg.PING_INTERVAL, ping_timeout=cfg.PING_TIMEOUT,
                      # Many replicas: any one may emit to any socket (none: one process, as before)
                      message_queue=cfg.MESSAGE_QUEUE or None, channel=f"{cfg.REDIS_PREFIX}-socketio")
    if cfg.ASYNC_MODE == "eventlet":
        from . import internals
        internals.fast_eventlet_websocket_unmask()     # every client frame: docs/PERFORMANCE.md

    from . import access, cli, errors, internals, schema, socketlimits, vendor
    from .admin.views import bp as admin_bp
    from .auth.throttle import LoginThrottle
    from .auth.token_views import bp as tokens_bp
    from .auth.views import bp as auth_bp
    from .files.views import bp as files_bp
    from .files import changes as _file_changes  # noqa: F401 - adds its routes to files_bp
    from .logs.views import bp as logs_bp
    from .kube.clusters import ClusterRegistry
    from .kube.shell import ShellStarter
    from .ops import views as ops
    from .pods.views import bp as pods_bp
    from .terminal import namespace, wiring

    limiter.init_app(app)   # storage from RATELIMIT_STORAGE_URI (memory://, or the replicas' redis://)
    app.extensions["kws.login_throttle"] = LoginThrottle(limiter.limiter, cfg.LOGIN_MAX_FAILURES,
                                                         cfg.LOGIN_MAX_FAILURES_PER_USER, cfg.LOGIN_LOCK_SECONDS)
    clusters = app.extensions["kws.clusters"] = ClusterRegistry(cfg.KUBECONFIG, cfg.KUBE_TIMEOUT, cfg.SERVICE_ACCOUNT_DIR,
                                                                 retry_pause=cfg.KUBE_RETRY_PAUSE)
    for bp in (auth_bp, pods_bp, files_bp, vendor.bp, admin_bp, tokens_bp, logs_bp):
        app.register_blueprint(bp)
    from .auth import oidc as sso
    sso.init_app(app)   # "Sign in with <provider>" (KWS_OIDC_PROVIDERS)
    from .admin import alltokens as admin_tokens, rules as admin_rules, users as admin_users
    from .pods import shared
    for bp in (admin_users.bp, admin_rules.bp, admin_tokens.bp, shared.bp):   # admin's people pages; shared terminals
        app.register_blueprint(bp)
    schema.init_app(app)
    access.init_app(app)
    app.extensions["kws.recordings"] = _recordings(cfg)
    wiring.init_app(app, ShellStarter(clusters, cfg.SHELLS, socketio.sleep, probe_timeout=cfg.PROBE_TIMEOUT,
                                         probe_poll=cfg.PROBE_POLL, hangup_grace=cfg.HANGUP_GRACE,
                                         debug_image=cfg.DEBUG_IMAGE, debug_start_timeout=cfg.DEBUG_START_TIMEOUT,
                                         debug_poll=cfg.DEBUG_POLL))
    socketlimits.init_app(app, socketio, [namespace.NAMESPACE])   # no other namespace; bounded packets
    app.wsgi_app = internals.NoDelay(app.wsgi_app)   # terminals' small frames leave at once (TCP_NODELAY)
    errors.register_handlers(app)
    from . import i18n
    i18n.init_app(app)
    cli.init_app(app, prepare_database)
    ops.init_app(app)   # before _security: health and metrics skip origin, token and CSRF checks
    _security(app)

    if cfg.PREPARE_DATABASE and not cli.loading():   # the CLI's commands decide (cli.open_database)
        prepare_database(app)
    trust_proxies(app, cfg.TRUSTED_PROXIES)   # last: it wraps the Socket.IO middleware too
    return app


def prepare_database(app: Flask) -> None:
    """Migrate the database to the newest schema and, on first start, create the first admin."""
    from . import schema
    cfg = app.config
    with app.app_context():
        schema.upgrade_to_head(then=lambda: _first_admin(cfg["ADMIN_USER"], cfg["ADMIN_PASSWORD"]))


def _recordings(cfg: Config):
    """Where terminal recordings go (None when KWS_RECORD=0); old ones are pruned at start."""
    from .terminal.recording import RecordingLimits, RecordingStore
    if not cfg.RECORD:
        return None
    store = RecordingStore(cfg.RECORDINGS_DIR, RecordingLimits(
        cfg.RECORDING_MAX_BYTES, cfg.RECORDINGS_MAX_BYTES, cfg.RECORDING_RETENTION_DAYS * 86400, cfg.RECORD_INPUT,
        cfg.RECORDING_FLUSH_SECONDS))
    store.prune()
    return store


def _security(app: Flask) -> None:
    from .auth import guard, revocation
    from .models import User

    @login_manager.user_loader
    def _load(uid: str):
        user = db.session.get(User, int(uid)) if uid.isdigit() else None
        return user if revocation.session_valid(user) else None   # active, and this login not revoked

    @login_manager.unauthorized_handler
    def _unauthorized():
        if wants_json():
            return error_json("unauthorized", "log in first", 401)
        return redirect(url_for("auth.login_form", next=request.full_path.rstrip("?")))

    @app.before_request
    def _check_origin():
        if request.method not in ("GET", "HEAD", "OPTIONS") and not origin_allowed(
                request.headers.get("Origin"), request.environ, app.config["ALLOWED_ORIGINS"]):
            return error_json("forbidden", "cross-origin request refused", 403)
        return None

    guard.init_app(app)   # bearer tokens, then CSRF on every other state-changing request

    @app.after_request
    def _headers(resp):
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                                "connect-src 'self'; frame-ancestors 'none'")
        return resp


def _instance_secret(path) -> str:
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _first_admin(name: str, given_password: str) -> None:
    """On first start, create the admin with KWS_ADMIN_PASSWORD or a generated password printed once."""
    from .models import User
    if db.session.execute(db.select(User.id).limit(1)).first() is not None:
        return
    password = given_password or secrets.token_urlsafe(12)
    user = User(username=name, is_admin=True)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    if not given_password:
        print(f"\n  First start: created user '{name}' with password: {password}\n"
              f"  (shown once; change it with `flask --app webshell reset-password {name}`)\n",
              file=sys.stderr, flush=True)
