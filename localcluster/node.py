"""A real node beside the kwok node: Debian's containerd and runc, and a kubelet
built from Go modules, all owned by one cluster directory so that two local
clusters can run side by side.

Per node: containerd's root, state, socket, runc root, CNI config and netns
mounts under <dir>/node; the kubelet's root dir, pod logs, ports and its own
cgroup root (/kws-<id> in every hierarchy). The host-wide leftovers are in host.py.
Stopping undoes everything: pods' processes, shims, mounts, cgroups, sysctls.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from . import host
from .procs import ClusterError, alive, free_port, terminate, wait_for

NODE_NAME = "127.0.0.1"      # --hostname-override: taken as the node's InternalIP
CGROUP_FS = Path("/sys/fs/cgroup")
SHIM = "containerd-shim-runc-v2"
SHIM_SOCKETS = "/run/containerd/s"   # fixed in containerd 1.6; host.py removes it when empty
KUBELET_CLIENT_USER = "kube-apiserver-kubelet-client"
DISABLED = ("0", "false", "no", "off")


def enabled() -> bool:
    """The real node is on unless KWS_REAL_NODE says otherwise."""
    return os.environ.get("KWS_REAL_NODE", "1").strip().lower() not in DISABLED


def node_id(cluster_dir: Path) -> str:
    return "kws-" + hashlib.sha256(str(cluster_dir).encode()).hexdigest()[:10]


def issue_certs(ca, pki_dir: Path) -> dict[str, tuple[Path, Path]]:
    """Certificates of the node, and the API server's client certificate towards kubelets."""
    return {"kubelet-client": ca.issue("kubelet-client", f"system:node:{NODE_NAME}", ("system:nodes",)),
            "kubelet-serving": ca.issue("kubelet-serving", NODE_NAME, server=True),
            "apiserver-kubelet": ca.issue("apiserver-kubelet-client", KUBELET_CLIENT_USER)}


def check_host() -> None:
    """Fail with the exact reason when this host cannot run the real node."""
    hint = " (or set KWS_REAL_NODE=0 / --no-real-node to run without the real node)"
    if os.geteuid() != 0:
        raise ClusterError("the real node needs root: containerd and runc create namespaces and cgroups" + hint)
    for tool, pkg in (("containerd", "containerd"), ("ctr", "containerd"), (SHIM, "containerd"), ("runc", "runc")):
        if shutil.which(tool) is None:
            raise ClusterError(f"`{tool}` is missing (apt-get install {pkg})" + hint)
    if not (CGROUP_FS / "memory").is_dir() or not os.access(CGROUP_FS / "memory", os.W_OK):
        raise ClusterError(f"no writable cgroup v1 memory hierarchy at {CGROUP_FS / 'memory'}: "
                           "the real node is set up for the cgroupfs driver on cgroup v1" + hint)


def _hierarchies() -> list[Path]:
    out = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        dev, mnt, fstype = line.split()[:3]
        if fstype in ("cgroup", "cgroup2") and mnt.startswith(str(CGROUP_FS) + "/"):
            out.append(Path(mnt))
    return out


class RealNode:
    def __init__(self, cluster_dir: Path):
        self.cluster_dir = cluster_dir
        self.dir = cluster_dir / "node"
        self.id = node_id(cluster_dir)
        self.sock = self.dir / "containerd" / "containerd.sock"
        self.kubelet_root = self.dir / "kubelet"
        self.pod_logs = self.dir / "pod-logs"
        self.runc_root = self.dir / "containerd" / "runc"

    # -- start ---------------------------------------------------------------
    def start(self, st: dict, spawn, kubelet_bin: Path, tools: Path, images: dict[str, Path],
              server: str, ca_cert: Path, certs: dict) -> None:
        """Start containerd and the kubelet; `spawn(name, argv)` runs and records a process."""
        check_host()
        if len(str(self.sock)) > 100:
            raise ClusterError(f"the cluster directory is too deep for a unix socket path: {self.sock}")
        for sub in ("containerd/root", "containerd/state", "cni/conf", "cni/bin", "kubelet", "pod-logs"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        host.register(self.id, os.getpid())
        self._make_cgroups()
        for plugin in ("kws-lo", "loopback"):   # containerd always sets up `loopback` first
            (self.dir / "cni/bin" / plugin).symlink_to(tools / "kws-lo")
        (self.dir / "cni/conf/10-kws-lo.conflist").write_text(json.dumps(
            {"cniVersion": "1.0.0", "name": "kws-lo", "plugins": [{"type": "kws-lo"}]}))
        cfg = self.dir / "containerd.toml"
        cfg.write_text(self._containerd_config())
        spawn("containerd", ["containerd", "--config", str(cfg)])
        wait_for(lambda: self.sock.exists() and self._ctr("version").returncode == 0, 20,
                 "containerd did not answer on its socket", self.cluster_dir / "logs/containerd.log")
        host.register(self.id, st["pids"]["containerd"])
        for name, tar in images.items():
            r = self._ctr("images", "import", str(tar))
            if r.returncode != 0:
                raise ClusterError(f"importing {tar} into containerd failed: {r.stderr.strip()}")
        kcfg = self.dir / "kubelet.kubeconfig"
        kcfg.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "node",
            "clusters": [{"name": "local", "cluster": {"server": server, "certificate-authority": str(ca_cert)}}],
            "users": [{"name": "node", "user": {"client-certificate": str(certs["kubelet-client"][0]),
                                                "client-key": str(certs["kubelet-client"][1])}}],
            "contexts": [{"name": "node", "context": {"cluster": "local", "user": "node"}}]}))
        kcfg.chmod(0o600)
        ports = {"kubelet": free_port(), "kubelet_healthz": free_port()}
        st["ports"].update(ports)
        conf = self.dir / "kubelet.yaml"
        conf.write_text(json.dumps(self._kubelet_config(ports, ca_cert, certs), indent=1))
        spawn("kubelet", [str(kubelet_bin), "--config", str(conf), "--kubeconfig", str(kcfg),
                          "--hostname-override", NODE_NAME, "--root-dir", str(self.kubelet_root), "--v=1"])

    def _make_cgroups(self) -> None:
        for h in _hierarchies():
            d = h / self.id
            d.mkdir(exist_ok=True)
            for f in ("cpuset.cpus", "cpuset.mems"):   # an empty cpuset admits no process
                if (h / f).exists() and not (d / f).read_text().strip():
                    (d / f).write_text((h / f).read_text())

    def _containerd_config(self) -> str:
        c = self.dir / "containerd"
        cri = {
            "sandbox_image": "kws.local/pause:1", "restrict_oom_score_adj": True,
            "disable_apparmor": True, "netns_mounts_under_state_dir": True,
            "stream_server_address": "127.0.0.1", "stream_server_port": "0",
            "enable_unprivileged_ports": False, "enable_unprivileged_icmp": False,
        }
        lines = [
            "version = 2", f'root = "{c}/root"', f'state = "{c}/state"', "oom_score = 0",
            'disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",'
            ' "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",'
            ' "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]',
            "[grpc]", f'  address = "{self.sock}"',
            "[ttrpc]", f'  address = "{self.sock}.ttrpc"',
            "[metrics]", '  address = ""',
            '[plugins."io.containerd.internal.v1.opt"]', f'  path = "{c}/opt"',
            '[plugins."io.containerd.grpc.v1.cri"]',
            *(f"  {k} = {json.dumps(v)}" for k, v in cri.items()),
            '[plugins."io.containerd.grpc.v1.cri".cni]',
            f'  bin_dir = "{self.dir}/cni/bin"', f'  conf_dir = "{self.dir}/cni/conf"',
            '[plugins."io.containerd.grpc.v1.cri".containerd]', '  snapshotter = "overlayfs"',
            '  default_runtime_name = "runc"',
            '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
            '  runtime_type = "io.containerd.runc.v2"',
            '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]',
            "  SystemdCgroup = false", f'  Root = "{self.runc_root}"',
        ]
        return "\n".join(lines) + "\n"

    def _kubelet_config(self, ports: dict, ca_cert: Path, certs: dict) -> dict:
        return {
            "apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
            "address": "127.0.0.1", "port": ports["kubelet"], "readOnlyPort": 0,
            "healthzBindAddress": "127.0.0.1", "healthzPort": ports["kubelet_healthz"],
            "containerRuntimeEndpoint": f"unix://{self.sock}",
            "cgroupDriver": "cgroupfs", "cgroupRoot": f"/{self.id}", "failCgroupV1": False,
            "oomScoreAdj": 0, "makeIPTablesUtilChains": False, "failSwapOn": False,
            "protectKernelDefaults": False, "resolvConf": "", "hairpinMode": "none",
            "podLogsDir": str(self.pod_logs),
            "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": True},
                               "x509": {"clientCAFile": str(ca_cert)}},
            "authorization": {"mode": "Webhook"},
            "tlsCertFile": str(certs["kubelet-serving"][0]), "tlsPrivateKeyFile": str(certs["kubelet-serving"][1]),
            # The images were imported, not pulled: never collect them. Never evict on a full disk.
            "imageGCHighThresholdPercent": 100, "imageGCLowThresholdPercent": 99,
            "evictionHard": {}, "serializeImagePulls": False,
            "nodeStatusUpdateFrequency": "10s", "syncFrequency": "10s",
        }

    def _ctr(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["ctr", "--address", str(self.sock), "--namespace", "k8s.io", *args],
                              capture_output=True, text=True, timeout=120)

    # -- stop ----------------------------------------------------------------
    def stop(self, st: dict) -> list[str]:
        """Undo everything the node did; returns what could not be undone (empty when all went)."""
        pids = st.get("pids", {})
        if pids.get("kubelet"):
            terminate(pids.pop("kubelet"))
        self._kill_cgroup_procs()
        self._kill_shims()
        if pids.get("containerd"):
            terminate(pids.pop("containerd"))
        # What containerd was still doing when the kubelet went (a sandbox's new shim, a runc
        # delete) the first pass may not have seen; with containerd gone nothing new starts.
        self._kill_shims()
        self._remove_shim_sockets()
        problems = self._unmount()
        problems += self._remove_cgroups()
        for link in Path("/var/log/containers").glob("*.log"):
            try:
                ours = os.readlink(link).startswith(str(self.pod_logs) + "/")
            except OSError:      # not a link: not the kubelet's, not ours
                ours = False
            if ours:
                link.unlink(missing_ok=True)
        problems += host.release(self.id)
        return problems

    def _remove_shim_sockets(self) -> None:
        """The socket of every sandbox this containerd knew; a shim killed at any moment leaves
        its own. Named sha256(<containerd socket>/k8s.io/<sandbox id>), so never another node's."""
        c = self.dir / "containerd"
        known = [c / "root/io.containerd.grpc.v1.cri/sandboxes", c / "state/io.containerd.runtime.v2.task/k8s.io"]
        for ident in {p.name for d in known if d.is_dir() for p in d.iterdir()}:
            name = hashlib.sha256(f"{self.sock}/k8s.io/{ident}".encode()).hexdigest()
            Path(SHIM_SOCKETS, name).unlink(missing_ok=True)

    def _cgroup_dirs(self) -> list[Path]:
        out = []
        for h in _hierarchies():
            root = h / self.id
            if root.is_dir():
                # bottom-up; the runtime may remove some while we walk (os.walk ignores that)
                out += [Path(d) for d, _, _ in os.walk(root, topdown=False)]
        return out

    def _kill_cgroup_procs(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            procs = {int(x) for d in self._cgroup_dirs() for x in _read(d / "cgroup.procs").split()}
            if not procs:
                return
            for pid in procs:
                _kill(pid)
            time.sleep(0.1)

    def _kill_shims(self) -> None:
        """The shims outlive containerd by design; ours are those given our socket. So do the
        runc processes they had started (a delete still removing a cgroup): ours use our root.
        The sockets of killed shims stay; _remove_shim_sockets removes them."""
        for p in Path("/proc").iterdir():
            try:
                args = (p / "cmdline").read_bytes().split(b"\0") if p.name.isdigit() else []
            except OSError:
                continue
            name = os.path.basename(args[0]) if args else b""
            if (name == b"runc" and _arg(args, b"--root") == str(self.runc_root).encode()) or \
                    (name == SHIM.encode() and _arg(args, b"-address") == str(self.sock).encode()):
                _kill(int(p.name))
                deadline = time.monotonic() + 5
                while alive(int(p.name)) and time.monotonic() < deadline:
                    time.sleep(0.05)

    def _unmount(self) -> list[str]:
        prefix = str(self.dir) + "/"
        for _ in range(5):
            mounts = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]
            ours = sorted({m.replace("\\040", " ") for m in mounts if m.startswith(prefix)}, key=len, reverse=True)
            if not ours:
                return []
            for m in ours:
                subprocess.run(["umount", "-l", m], capture_output=True)
        return [f"still mounted: {m}" for m in ours]

    def _remove_cgroups(self) -> list[str]:
        problems = []
        for d in self._cgroup_dirs():
            try:
                d.rmdir()
            except FileNotFoundError:   # removed meanwhile by a runc the runtime had started (delete)
                pass
            except OSError as e:
                problems.append(f"could not remove cgroup {d}: {e.strerror}")
        return problems


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _arg(args: list[bytes], flag: bytes) -> bytes | None:
    """The value after `flag` in a command line, if it has one."""
    return args[args.index(flag) + 1] if flag in args[:-1] else None


def _kill(pid: int) -> None:
    try:
        os.kill(pid, 9)
    except OSError:
        pass
