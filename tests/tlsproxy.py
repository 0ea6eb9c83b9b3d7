"""A test CA and certificate (cryptography), and Debian's nginx terminating TLS on loopback."""
from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import shutil
import subprocess
import time
from pathlib import Path

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from localcluster import procs

from .helpers import ROOT, free_port

NGINX = "/usr/sbin/nginx"
CONF = ROOT / "deploy" / "nginx" / "kube-webshell.conf"


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_tls(directory: Path) -> dict[str, Path | str]:
    """A CA, and a server certificate it signed for 127.0.0.1/localhost; paths and the server key's SPKI pin."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("kws test CA")).issuer_name(_name("kws test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    out = {"ca": directory / "ca.crt", "cert": directory / "console.crt", "key": directory / "console.key"}
    out["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    out["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM) + out["ca"].read_bytes())
    out["key"].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
    spki = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    out["spki"] = base64.b64encode(hashlib.sha256(spki).digest()).decode()
    return out


class Nginx:
    """deploy/nginx/kube-webshell.conf with test ports and certificates, run in the foreground."""

    def __init__(self, directory: Path, upstream_port: int, tls: dict):
        if not Path(NGINX).exists():
            raise RuntimeError(f"{NGINX} is missing: `apt-get install nginx` (./dev test installs it)")
        self.dir, self.port, self.tls = directory, free_port(), tls
        self.url = f"https://127.0.0.1:{self.port}"
        site = (CONF.read_text()
                .replace("server 127.0.0.1:8080;", f"server 127.0.0.1:{upstream_port};")
                .replace("listen 127.0.0.1:8443 ssl;", f"listen 127.0.0.1:{self.port} ssl;")
                .replace("/etc/nginx/tls/console.crt", str(tls["cert"]))
                .replace("/etc/nginx/tls/console.key", str(tls["key"])))
        assert str(self.port) in site and str(tls["key"]) in site, "the nginx template changed"
        temp = directory / "temp"
        temp.mkdir(parents=True, exist_ok=True)
        temp.chmod(0o777)
        self.conf = directory / "nginx.conf"
        self.conf.write_text(
            "worker_processes 1;\nerror_log %s/error.log info;\npid %s/nginx.pid;\n"
            "events { worker_connections 256; }\nhttp {\n  access_log %s/access.log;\n"
            "  client_body_temp_path %s/body; proxy_temp_path %s/proxy;\n  fastcgi_temp_path %s/fcgi;"
            " uwsgi_temp_path %s/uwsgi; scgi_temp_path %s/scgi;\n%s\n}\n"
            % (directory, directory, directory, temp, temp, temp, temp, temp, site))
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Nginx":
        with open(self.dir / "stderr.log", "wb") as err:
            self.proc = subprocess.Popen([NGINX, "-p", str(self.dir), "-c", str(self.conf), "-g", "daemon off;"],
                                         stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited: {(self.dir / 'stderr.log').read_text()[-2000:]}")
            try:
                requests.get(f"{self.url}/healthz", verify=str(self.tls["ca"]), timeout=2)
                return self
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("nginx did not start")

    def stop(self) -> None:
        procs.stop(self.proc)
        shutil.rmtree(self.dir / "temp", ignore_errors=True)
