"""Container images for the real node, built locally (no registry is reachable).

Each image is a docker-archive tarball (one layer tar, a config JSON, manifest.json)
made reproducibly: sorted entries, owner root, one fixed mtime. They are cached
outside the checkout, keyed by what goes into them, and imported into the node's
containerd with `ctr images import`.

  busybox     Debian's busybox-static with its applet links, a passwd with nobody (sh, no bash)
  debian      bookworm minbase from Debian's archive by debootstrap (bash, coreutils, tar)
  distroless  one static program and nothing else: no shell, no tools
  pause       the sandbox image: a static pause compiled with gcc
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

from .procs import ClusterError

REFS = {"busybox": "kws.local/busybox:1", "debian": "kws.local/debian:12",
        "distroless": "kws.local/distroless:1", "pause": "kws.local/pause:1"}
MTIME = 1700000000   # every entry gets the same mtime: same inputs, same bytes
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SUITE = "bookworm"
MIRROR = os.environ.get("KWS_DEBIAN_MIRROR", "http://deb.debian.org/debian")
PASSWD = ("root:x:0:0:root:/root:/bin/sh\n"
          "nobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n")
GROUP = "root:x:0:\nnogroup:x:65534:\n"
FORMAT = 1   # bump when the way images are made changes: the cache key includes it


def _dpkg_version(pkg: str) -> str:
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True)
    if out.returncode != 0 or not out.stdout:
        raise ClusterError(f"Debian package {pkg} is not installed (apt-get install {pkg}); "
                           "the real node's images are made from it")
    return out.stdout.strip()


class _Layer:
    """Collects tar entries, then writes them sorted with fixed metadata."""

    def __init__(self):
        self.entries: dict[str, tuple[tarfile.TarInfo, bytes | None]] = {}

    def add(self, name: str, kind=tarfile.REGTYPE, mode=0o644, data: bytes = b"", link: str = "",
            uid: int = 0) -> None:
        info = tarfile.TarInfo(name.lstrip("/"))
        info.type, info.mode, info.mtime, info.uid, info.gid = kind, mode, MTIME, uid, uid
        info.linkname = link
        if kind == tarfile.REGTYPE:
            info.size = len(data)
        self.entries[info.name] = (info, data if kind == tarfile.REGTYPE else None)
        parent = os.path.dirname(info.name)
        while parent and parent not in self.entries:
            self.add(parent, tarfile.DIRTYPE, 0o755)
            parent = os.path.dirname(parent)

    def tree(self, root: Path, skip: tuple[str, ...]) -> None:
        """Add a directory tree (symlinks kept, hard links kept as such, no device nodes)."""
        seen: dict[tuple[int, int], str] = {}
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for n in sorted(dirnames) + sorted(filenames):
                p = Path(dirpath) / n
                rel = str(p.relative_to(root))
                if any(rel == s or rel.startswith(s + "/") for s in skip):
                    continue
                st = p.lstat()
                if p.is_symlink():
                    self.add(rel, tarfile.SYMTYPE, 0o777, link=os.readlink(p))
                elif p.is_dir():
                    self.add(rel, tarfile.DIRTYPE, st.st_mode & 0o7777)
                elif p.is_file():
                    key = (st.st_dev, st.st_ino)
                    if st.st_nlink > 1 and key in seen:
                        self.add(rel, tarfile.LNKTYPE, st.st_mode & 0o7777, link=seen[key])
                    else:
                        seen[key] = rel
                        self.add(rel, mode=st.st_mode & 0o7777, data=p.read_bytes())

    def bytes(self) -> bytes:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
            # hard links after everything else: their targets must exist when they are made
            for name in sorted(self.entries, key=lambda n: (self.entries[n][0].type == tarfile.LNKTYPE, n)):
                info, data = self.entries[name]
                tar.addfile(info, io.BytesIO(data) if data is not None else None)
        return buf.getvalue()


def _archive(path: Path, ref: str, layer: _Layer, cmd: list[str], user: str = "") -> None:
    blob = layer.bytes()
    digest = hashlib.sha256(blob).hexdigest()
    config = {"architecture": "amd64", "os": "linux", "created": "2023-11-14T22:13:20Z",
              "config": {"Env": [PATH_ENV], "Cmd": cmd, "User": user, "WorkingDir": "/"},
              "rootfs": {"type": "layers", "diff_ids": [f"sha256:{digest}"]},
              "history": [{"created": "2023-11-14T22:13:20Z", "created_by": "kube-webshell localcluster"}]}
    cfg = json.dumps(config, sort_keys=True).encode()
    cfg_name = hashlib.sha256(cfg).hexdigest() + ".json"
    manifest = json.dumps([{"Config": cfg_name, "RepoTags": [ref], "Layers": [f"{digest}/layer.tar"]}]).encode()
    out = _Layer()
    out.add(cfg_name, data=cfg)
    out.add(f"{digest}/layer.tar", data=blob)
    out.add("manifest.json", data=manifest)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(out.bytes())
    tmp.replace(path)


def _busybox(path: Path, tools: Path) -> None:
    layer = _Layer()
    layer.add("bin/busybox", mode=0o755, data=Path("/bin/busybox").read_bytes())
    applets = subprocess.run(["/bin/busybox", "--list-full"], capture_output=True, text=True, check=True)
    for rel in applets.stdout.split():
        if rel != "bin/busybox":
            layer.add(rel, tarfile.LNKTYPE, 0o755, link="bin/busybox")
    _base_files(layer)
    _archive(path, REFS["busybox"], layer, ["sh"])


def _base_files(layer: _Layer) -> None:
    layer.add("etc/passwd", data=PASSWD.encode())
    layer.add("etc/group", data=GROUP.encode())
    layer.add("tmp", tarfile.DIRTYPE, 0o1777)
    layer.add("root", tarfile.DIRTYPE, 0o700)


def _distroless(path: Path, tools: Path) -> None:
    layer = _Layer()
    layer.add("app", mode=0o755, data=(tools / "app").read_bytes())
    _archive(path, REFS["distroless"], layer, ["/app"])


def _pause(path: Path, tools: Path) -> None:
    layer = _Layer()
    layer.add("pause", mode=0o755, data=(tools / "pause").read_bytes())
    _archive(path, REFS["pause"], layer, ["/pause"])


def _debian(path: Path, tools: Path) -> None:
    if shutil.which("debootstrap") is None:
        raise ClusterError("debootstrap is missing (apt-get install debootstrap): the Debian image is made with it")
    root = path.parent / f"debootstrap-{SUITE}"
    shutil.rmtree(root, ignore_errors=True)
    proc = subprocess.run(["debootstrap", "--variant=minbase", SUITE, str(root), MIRROR],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.splitlines()[-15:])
        raise ClusterError(f"debootstrap {SUITE} from {MIRROR} failed (exit {proc.returncode}):\n{tail}")
    layer = _Layer()
    layer.tree(root, skip=("dev", "proc", "sys", "run", "var/cache/apt", "var/lib/apt/lists",
                           "var/log", "debootstrap", "usr/share/doc", "usr/share/man",
                           "usr/share/info", "usr/share/locale"))
    for d in ("dev", "proc", "sys", "run"):
        layer.add(d, tarfile.DIRTYPE, 0o755)
    _archive(path, REFS["debian"], layer, ["bash"])
    shutil.rmtree(root, ignore_errors=True)


_BUILDERS = {"pause": _pause, "busybox": _busybox, "distroless": _distroless, "debian": _debian}


def _key(name: str, tools: Path) -> str:
    if name == "busybox":
        return _dpkg_version("busybox-static").replace(":", "_").replace("+", "_")
    if name == "debian":
        return SUITE
    return tools.name.rsplit("-", 1)[-1]   # the hash of the C sources


def ensure_images(cache: Path, tools: Path, log=print) -> dict[str, Path]:
    """Build the images that are not cached yet; return name → docker-archive path."""
    out = {}
    d = cache / "images"
    d.mkdir(parents=True, exist_ok=True)
    for name, build in _BUILDERS.items():
        path = d / f"{name}-{_key(name, tools)}-f{FORMAT}.tar"
        if not path.exists():
            log(f"localcluster: building image {REFS[name]} → {path}")
            build(path, tools)
        out[name] = path
    return out
