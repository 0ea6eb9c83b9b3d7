"""Start and stop etcd + kube-apiserver + kwok as local processes bound to 127.0.0.1."""
from __future__ import annotations

import json
import os
import secrets
import shutil
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path

from . import demo, images, pki, realpods
from . import node as realnode
from .procs import ClusterError, alive, free_port, http_ok, port_open, terminate, wait_for

HERE = Path(__file__).resolve().parent
DEFAULT_CACHE = Path(os.environ.get("KWS_CACHE_DIR", Path.home() / ".cache" / "kube-webshell"))
# As root, exec runs as `nobody`, who must reach the sandbox: keep the state out of /root.
DEFAULT_STATE = Path("/var/lib/kube-webshell/cluster") if os.geteuid() == 0 else DEFAULT_CACHE / "cluster"
READY_TIMEOUT = 60.0
_CHILDREN: list[subprocess.Popen] = []

# The container runtime gives a TTY exec its pty as controlling terminal (so that
# Ctrl-C and SIGWINCH reach the foreground job); kwok only calls setsid. These
# shims, first on kwok's PATH, do the runtime's part for the shells.
SHELL_SHIM = """#!/bin/sh
if [ -t 0 ]; then exec {setsid} -w -c {real} "$@"; fi
exec {real} "$@"
"""


def build_binaries() -> Path:
    """Build (or find cached) etcd, kube-apiserver and kwok; return their directory."""
    if shutil.which("go") is None and not Path("/usr/local/go/bin/go").exists():
        raise ClusterError("Go is not installed: the local cluster is built from Go modules. "
                           "Install Go >= 1.25 (Debian: apt-get install golang) and retry.")
    env = dict(os.environ)
    env["PATH"] = env.get("PATH", "") + ":/usr/local/go/bin"
    proc = subprocess.run(["bash", str(HERE / "build.sh")], stdout=subprocess.PIPE, env=env)
    if proc.returncode != 0:
        raise ClusterError(f"building the cluster binaries failed (exit {proc.returncode}); see the output above")
    return Path(proc.stdout.decode().strip().splitlines()[-1])


def build_node_binaries() -> tuple[Path, Path]:
    """Build (or find cached) the kubelet and the node's C tools; return their two directories."""
    env = dict(os.environ)
    env["PATH"] = env.get("PATH", "") + ":/usr/local/go/bin"
    proc = subprocess.run(["bash", str(HERE / "build_node.sh")], stdout=subprocess.PIPE, env=env)
    if proc.returncode != 0:
        raise ClusterError(f"building the real node's binaries failed (exit {proc.returncode}); see above")
    kubelet_dir, tools_dir = proc.stdout.decode().strip().splitlines()[-2:]
    return Path(kubelet_dir), Path(tools_dir)


class LocalCluster:
    """One local control plane whose state (certs, data, logs, kubeconfigs) lives in `state_dir`."""

    def __init__(self, state_dir: Path | str, real_node: bool | None = None):
        self.dir = Path(state_dir).resolve()
        self.state_file = self.dir / "state.json"
        self.real_node = realnode.enabled() if real_node is None else real_node

    # -- paths -------------------------------------------------------------
    @property
    def admin_kubeconfig(self) -> Path:
        return self.dir / "admin.kubeconfig"

    def user_kubeconfig(self, user: str) -> Path:
        return self.dir / f"{user}.kubeconfig"

    @property
    def sandbox(self) -> Path:
        return self.dir / "sandbox"

    def _state(self) -> dict:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}

    # -- lifecycle ---------------------------------------------------------
    def is_running(self) -> bool:
        st = self._state()
        pids = st.get("pids", {})
        if not pids or not all(alive(p) for p in pids.values()):
            return False
        return self._readyz(st, timeout=2.0)

    def up(self, bin_dir: Path | None = None, log=print) -> dict:
        """Start the cluster unless it already runs; idempotent. Returns the state."""
        if self.is_running():
            return self._state()
        self.down(quiet=True)
        bin_dir = bin_dir or build_binaries()
        for b in ("etcd", "kube-apiserver", "kwok"):
            if not (bin_dir / b).exists():
                raise ClusterError(f"missing binary {bin_dir / b}; run localcluster/build.sh")
        if shutil.which("setsid") is None:
            raise ClusterError("`setsid` (util-linux) is missing; apt-get install util-linux")
        node_bins = None
        if self.real_node:
            realnode.check_host()
            node_bins = build_node_binaries()
            node_bins += (images.ensure_images(DEFAULT_CACHE, node_bins[1], log),)
        try:
            return self._start(bin_dir, log, node_bins)
        except BaseException:
            self.down(quiet=True)   # never leave a half-started cluster behind
            raise

    def _start(self, bin_dir: Path, log, node_bins: tuple | None) -> dict:
        t0 = time.monotonic()
        if self.dir.exists():
            shutil.rmtree(self.dir)
        for sub in ("pki", "etcd", "logs", "shims"):
            (self.dir / sub).mkdir(parents=True)
        self.dir.chmod(0o755)
        (self.dir / "pki").chmod(0o700)
        if os.geteuid() == 0:
            _check_reachable_by_others(self.dir)
        ports = {k: free_port() for k in ("etcd", "etcd_peer", "apiserver", "kwok")}
        tokens = {u: secrets.token_urlsafe(24) for u in demo.TOKEN_USERS}
        st = {"ports": ports, "pids": {}, "bin_dir": str(bin_dir), "tokens": tokens,
              "real_node": bool(node_bins)}
        self._save(st)

        p = self.dir / "pki"
        ca = pki.CertificateAuthority(p)
        ca.issue("apiserver", "kube-apiserver", server=True)
        admin = ca.issue("admin", "admin", ("system:masters",))
        kwok_client = ca.issue("kwok", "kwok-controller", ("system:masters",))
        kwok_serving = ca.issue("kwok-serving", "127.0.0.1", server=True)
        node_certs = realnode.issue_certs(ca, p)
        pki.service_account_keys(p)
        (p / "tokens.csv").write_text("".join(
            f'{tok},{user},{i + 100},"{",".join(demo.TOKEN_USERS[user])}"\n'
            for i, (user, tok) in enumerate(tokens.items())))
        (p / "tokens.csv").chmod(0o600)

        server = f"https://127.0.0.1:{ports['apiserver']}"
        _kubeconfig(self.admin_kubeconfig, "kws-local", server, ca.cert_path, "admin",
                    {"client-certificate": str(admin[0]), "client-key": str(admin[1])})
        _kubeconfig(self.dir / "kwok.kubeconfig", "kws-local", server, ca.cert_path, "kwok",
                    {"client-certificate": str(kwok_client[0]), "client-key": str(kwok_client[1])})
        for user, tok in tokens.items():
            _kubeconfig(self.user_kubeconfig(user), "kws-local", server, ca.cert_path, user, {"token": tok})

        etcd_url = f"http://127.0.0.1:{ports['etcd']}"
        peer_url = f"http://127.0.0.1:{ports['etcd_peer']}"
        self._spawn(st, "etcd", [str(bin_dir / "etcd"), "--name", "kws", "--data-dir", str(self.dir / "etcd"),
                                 "--listen-client-urls", etcd_url, "--advertise-client-urls", etcd_url,
                                 "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
                                 "--initial-cluster", f"kws={peer_url}", "--unsafe-no-fsync",
                                 "--log-level", "warn"])
        wait_for(lambda: http_ok(f"{etcd_url}/health"), 20, "etcd did not become healthy", self.dir / "logs/etcd.log")

        self._spawn(st, "kube-apiserver", self.apiserver_argv(bin_dir, etcd_url, ports["apiserver"]))
        wait_for(lambda: self._readyz(st), READY_TIMEOUT, "kube-apiserver did not become ready",
              self.dir / "logs/kube-apiserver.log")

        shims = self.dir / "shims"
        for shell in ("bash", "sh"):
            real = shutil.which(shell, path="/usr/bin:/bin")
            if real:
                (shims / shell).write_text(SHELL_SHIM.format(real=real, setsid=shutil.which("setsid")))
                (shims / shell).chmod(0o755)
        kwok_cfg = self.dir / "kwok.yaml"
        kwok_cfg.write_text(demo.kwok_config(bin_dir, self.sandbox, run_as_nobody=os.geteuid() == 0))
        env = {"PATH": f"{shims}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
               "HOME": str(self.dir), "LANG": "C.UTF-8"}
        self._spawn(st, "kwok", [
            str(bin_dir / "kwok"), "--kubeconfig", str(self.dir / "kwok.kubeconfig"),
            "--manage-nodes-with-annotation-selector", "kwok.x-k8s.io/node=fake",
            "--node-ip", "127.0.0.1", "--node-port", str(ports["kwok"]),
            "--server-address", f"127.0.0.1:{ports['kwok']}", "--config", str(kwok_cfg),
            "--tls-cert-file", str(kwok_serving[0]), "--tls-private-key-file", str(kwok_serving[1])], env=env)
        wait_for(lambda: port_open(ports["kwok"]), 20, "kwok did not start listening", self.dir / "logs/kwok.log")

        demo.populate(self.admin_kubeconfig, self.sandbox, run_as_nobody=os.geteuid() == 0)
        if node_bins:
            self._start_node(st, node_bins, server, ca.cert_path, node_certs, log)
        log(f"local cluster ready in {time.monotonic() - t0:.1f}s; admin kubeconfig: {self.admin_kubeconfig}")
        return st

    def apiserver_argv(self, bin_dir: Path, etcd_url: str, port: int) -> list[str]:
        """kube-apiserver on `port` over this cluster's etcd and certificates (a second one may share them)."""
        p = self.dir / "pki"
        return [
            str(bin_dir / "kube-apiserver"), "--etcd-servers", etcd_url,
            "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
            "--secure-port", str(port),
            "--tls-cert-file", str(p / "apiserver.crt"), "--tls-private-key-file", str(p / "apiserver.key"),
            "--client-ca-file", str(p / "ca.crt"), "--token-auth-file", str(p / "tokens.csv"),
            "--authorization-mode", "RBAC",
            "--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
            "--service-account-key-file", str(p / "sa.pub"), "--service-account-signing-key-file", str(p / "sa.key"),
            "--service-cluster-ip-range", "10.96.0.0/16",
            "--kubelet-preferred-address-types", "InternalIP",
            # Both nodes show a certificate from the cluster CA, and kubelets want ours.
            "--kubelet-certificate-authority", str(p / "ca.crt"),
            "--kubelet-client-certificate", str(p / "apiserver-kubelet-client.crt"),
            "--kubelet-client-key", str(p / "apiserver-kubelet-client.key"),
            "--enable-priority-and-fairness=false", "--profiling=false", "--v=1"]

    def _start_node(self, st: dict, node_bins: tuple, server: str, ca_cert: Path, certs: dict, log) -> None:
        from kubernetes import config
        t0 = time.monotonic()
        kubelet_dir, tools_dir, image_tars = node_bins
        api = config.new_client_from_config(str(self.admin_kubeconfig))
        realpods.rbac(api)
        node = realnode.RealNode(self.dir)
        st["node"] = {"id": node.id}
        self._save(st)   # from here on, down() undoes the node
        node.start(st, lambda name, argv: self._spawn(st, name, argv), kubelet_dir / "kubelet", tools_dir,
                   image_tars, server, ca_cert, certs)
        self._save(st)
        try:
            realpods.populate(api, self.dir)
        except RuntimeError as e:
            raise ClusterError(f"{e}\nsee {self.dir / 'logs/kubelet.log'} and {self.dir / 'logs/containerd.log'}")
        log(f"real node ready in {time.monotonic() - t0:.1f}s (pods in namespace {realpods.NAMESPACE})")

    def down(self, quiet: bool = False) -> None:
        """Stop every process of the cluster (the real node, then kwok first); safe when nothing runs."""
        st = self._state()
        problems = []
        if st.get("node"):
            problems = realnode.RealNode(self.dir).stop(st)
            st.pop("node")
            self._save(st)
        for name in ("kwok", "kube-apiserver", "etcd"):
            pid = st.get("pids", {}).get(name)
            if pid:
                terminate(pid)
        if st.get("pids"):
            st["pids"] = {}
            self._save(st)
        if problems:
            raise ClusterError("the real node did not clean up after itself:\n  " + "\n  ".join(problems))
        if not quiet:
            print(f"local cluster in {self.dir} stopped")

    # -- helpers -----------------------------------------------------------
    def _save(self, st: dict) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(st, indent=2))
        tmp.replace(self.state_file)

    def _spawn(self, st: dict, name: str, argv: list[str], env: dict | None = None) -> None:
        logf = open(self.dir / "logs" / f"{name}.log", "ab")
        proc = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env=env, cwd=self.dir)
        logf.close()
        _CHILDREN.append(proc)   # they outlive this object by design: no "still running" warning at GC
        st["pids"][name] = proc.pid
        self._save(st)

    def _readyz(self, st: dict, timeout: float = 2.0) -> bool:
        port = st.get("ports", {}).get("apiserver")
        if not port:
            return False
        ctx = ssl.create_default_context(cafile=str(self.dir / "pki" / "ca.crt"))
        try:
            ctx.load_cert_chain(str(self.dir / "pki" / "admin.crt"), str(self.dir / "pki" / "admin.key"))
            with urllib.request.urlopen(f"https://127.0.0.1:{port}/readyz", context=ctx, timeout=timeout) as r:
                return r.status == 200
        except (OSError, ValueError, ssl.SSLError):
            return False


def _check_reachable_by_others(path: Path) -> None:
    """Exec runs as `nobody` when we are root: every parent of the sandbox must be o+x."""
    for parent in [path, *path.parents]:
        if not parent.stat().st_mode & 0o001:
            raise ClusterError(f"{parent} is not reachable by other users (mode "
                               f"{oct(parent.stat().st_mode & 0o777)}); exec into demo pods runs as "
                               f"`nobody` and needs o+x on every parent of {path}: choose another --dir")


def _kubeconfig(path: Path, cluster: str, server: str, ca: Path, user: str, creds: dict) -> None:
    ctx = f"{cluster}" if user == "admin" else f"{cluster}-{user}"
    cfg = {"apiVersion": "v1", "kind": "Config", "current-context": ctx,
           "clusters": [{"name": cluster, "cluster": {"server": server, "certificate-authority": str(ca)}}],
           "users": [{"name": user, "user": creds}],
           "contexts": [{"name": ctx, "context": {"cluster": cluster, "user": user}}]}
    path.write_text(json.dumps(cfg, indent=2))   # JSON is valid YAML
    path.chmod(0o600)
