"""A real OIDC provider for the SSO tests: Dex, built from Go modules, on 127.0.0.1 with its own TLS.

Dex's built-in password database has static users (a login form served by Dex itself) and a
static client; the tests' users are alice (group team-a) and bob (no groups). Its CA is made
here with `cryptography` (localcluster.pki), so the console and the API server trust it by file.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import ssl
import subprocess
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from . import pki
from .procs import ClusterError, free_port, terminate, wait_for

HERE = Path(__file__).resolve().parent
CLIENT_ID = "kube-webshell"
# Static users: name -> groups. Passwords are random per provider (see DexProvider.passwords).
USERS = {"alice": ("team-a",), "bob": ()}


def build_dex() -> Path:
    """Build (or find cached) the Dex binary; return its path."""
    env = dict(os.environ)
    env["PATH"] = env.get("PATH", "") + ":/usr/local/go/bin"
    if shutil.which("go", path=env["PATH"]) is None:
        raise ClusterError("Go is not installed: Dex (the OIDC provider of the tests) is built from Go modules")
    proc = subprocess.run(["bash", str(HERE / "dex_build.sh")], stdout=subprocess.PIPE, env=env)
    if proc.returncode != 0:
        raise ClusterError(f"building Dex failed (exit {proc.returncode}); see the output above")
    return Path(proc.stdout.decode().strip().splitlines()[-1])


@dataclass
class DexProvider:
    """One Dex process whose config, TLS files and log live in `directory`."""

    directory: Path
    redirect_uris: list[str] = field(default_factory=list)
    id_token_expiry: str = "10m"
    port: int = 0
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    passwords: dict[str, str] = field(default_factory=lambda: {u: secrets.token_urlsafe(12) for u in USERS})
    pid: int | None = None
    _proc: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def issuer(self) -> str:
        return f"https://127.0.0.1:{self.port}/dex"

    @property
    def ca_file(self) -> Path:
        return self.directory / "pki" / "ca.crt"

    @property
    def log_file(self) -> Path:
        return self.directory / "dex.log"

    def start(self) -> "DexProvider":
        import bcrypt   # Dex accepts bcrypt costs 10..16 only
        binary = build_dex()
        (self.directory / "pki").mkdir(parents=True, exist_ok=True)
        ca = pki.CertificateAuthority(self.directory / "pki")
        crt, key = ca.issue("dex", "127.0.0.1", server=True)
        self.port = self.port or free_port()
        users = [{"email": f"{name}@example.test", "username": name, "preferredUsername": name,
                  "userID": f"uid-{name}", "groups": list(groups),
                  "hash": bcrypt.hashpw(self.passwords[name].encode(), bcrypt.gensalt(rounds=10)).decode()}
                 for name, groups in USERS.items()]
        cfg = {"issuer": self.issuer,
               "storage": {"type": "memory"},
               "web": {"https": f"127.0.0.1:{self.port}", "tlsCert": str(crt), "tlsKey": str(key)},
               "logger": {"level": "info"},
               "expiry": {"idTokens": self.id_token_expiry},
               "oauth2": {"skipApprovalScreen": True, "responseTypes": ["code"],
                          "grantTypes": ["authorization_code", "refresh_token"]},
               "enablePasswordDB": True,
               "staticPasswords": users,
               "staticClients": [{"id": CLIENT_ID, "name": "kube-webshell", "secret": self.client_secret,
                                  "redirectURIs": self.redirect_uris}]}
        conf = self.directory / "dex.json"
        conf.write_text(json.dumps(cfg, indent=2))   # JSON is YAML
        conf.chmod(0o600)
        log = open(self.log_file, "ab")
        proc = subprocess.Popen([str(binary), "serve", str(conf)], stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, cwd=self.directory)
        log.close()
        self.pid, self._proc = proc.pid, proc
        try:
            wait_for(self._discovery_ok, 30, "Dex did not serve its discovery document", self.log_file)
        except BaseException:
            self.stop()
            raise
        return self

    def _discovery_ok(self) -> bool:
        ctx = ssl.create_default_context(cafile=str(self.ca_file))
        try:
            with urllib.request.urlopen(f"{self.issuer}/.well-known/openid-configuration", context=ctx,
                                        timeout=2) as r:
                return r.status == 200
        except (OSError, ValueError):
            return False

    def stop(self) -> None:
        if self.pid:
            terminate(self.pid)
            self.pid = None
        if self._proc is not None:
            self._proc.wait(timeout=5)   # reaped: no zombie, no "still running" warning
            self._proc = None


# -- a second API server of the local cluster that trusts the provider ---------------------------
OIDC_PREFIX = "oidc:"      # users and groups from the provider, as the API server names them


@dataclass
class OidcApiServer:
    """kube-apiserver on the local cluster's etcd, also authenticating Dex's ID tokens (--oidc-*).

    Dex's users become `oidc:<email>` with groups `oidc:<group>`; the console's own identity for
    it (`kubeconfig`) is the demo's token user bob, who may list pods but neither exec nor
    impersonate: whatever a user may do there comes from their own token.
    """

    cluster: object          # localcluster.cluster.LocalCluster (running)
    dex: DexProvider
    port: int = 0
    pid: int | None = None
    _proc: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def kubeconfig(self) -> Path:
        return self.cluster.dir / "oidc.kubeconfig"

    def start(self) -> "OidcApiServer":
        st = self.cluster._state()
        self.port = free_port()
        argv = self.cluster.apiserver_argv(Path(st["bin_dir"]), f"http://127.0.0.1:{st['ports']['etcd']}",
                                           self.port)
        argv += ["--oidc-issuer-url", self.dex.issuer, "--oidc-client-id", CLIENT_ID,
                 "--oidc-ca-file", str(self.dex.ca_file), "--oidc-username-claim", "email",
                 "--oidc-username-prefix", OIDC_PREFIX, "--oidc-groups-claim", "groups",
                 "--oidc-groups-prefix", OIDC_PREFIX]
        logf = self.cluster.dir / "logs" / f"kube-apiserver-oidc-{self.port}.log"
        log = open(logf, "ab")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, cwd=self.cluster.dir)
        log.close()
        self.pid, self._proc = proc.pid, proc
        try:
            wait_for(self._ready, 60, "the OIDC kube-apiserver did not become ready", logf)
        except BaseException:
            self.stop()
            raise
        ca = self.cluster.dir / "pki" / "ca.crt"
        cfg = {"apiVersion": "v1", "kind": "Config", "current-context": "kws-oidc",
               "clusters": [{"name": "kws-oidc", "cluster": {"server": f"https://127.0.0.1:{self.port}",
                                                             "certificate-authority": str(ca)}}],
               "users": [{"name": "console", "user": {"token": st["tokens"]["bob"]}}],
               "contexts": [{"name": "kws-oidc", "context": {"cluster": "kws-oidc", "user": "console"}}]}
        self.kubeconfig.write_text(json.dumps(cfg, indent=2))
        self.kubeconfig.chmod(0o600)
        return self

    def _ready(self) -> bool:
        ctx = ssl.create_default_context(cafile=str(self.cluster.dir / "pki" / "ca.crt"))
        d = self.cluster.dir / "pki"
        try:
            ctx.load_cert_chain(str(d / "admin.crt"), str(d / "admin.key"))
            with urllib.request.urlopen(f"https://127.0.0.1:{self.port}/readyz", context=ctx, timeout=2) as r:
                return r.status == 200
        except (OSError, ValueError, ssl.SSLError):
            return False

    def stop(self) -> None:
        if self.pid:
            terminate(self.pid)
            self.pid = None
        if self._proc is not None:
            self._proc.wait(timeout=5)
            self._proc = None
