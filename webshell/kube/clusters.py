"""Cluster registry: every context of the kubeconfig files, or the in-cluster service account."""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException

from ..errors import ClusterUnavailable, NotFound
from .conn import Conn, Target
from .headers import carries_token

log = logging.getLogger(__name__)
IN_CLUSTER = "in-cluster"
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


class ClusterRegistry:
    """Named clusters and one cached ApiClient each."""

    def __init__(self, kubeconfig: str, timeout: float, service_account_dir: str = SERVICE_ACCOUNT_DIR,
                 retry_pause: float = 0.2):
        self.kubeconfig = kubeconfig
        self.timeout = timeout
        self.retry_pause = retry_pause      # KWS_KUBE_RETRY_PAUSE: before retrying a call whose connection broke
        self.service_account_dir = Path(service_account_dir)   # in-cluster: token and ca.crt
        self._clients: dict[tuple[str, bool], client.ApiClient] = {}
        self._lock = threading.Lock()
        self._names = self._discover()

    def _discover(self) -> list[str]:
        files = [p for p in self.kubeconfig.split(os.pathsep) if p and Path(p).expanduser().exists()]
        if files:
            try:
                contexts, _ = config.list_kube_config_contexts(config_file=os.pathsep.join(files))
                return [c["name"] for c in contexts]
            except ConfigException as e:
                log.warning("kubeconfig %s unusable: %s", self.kubeconfig, e)
        if os.environ.get("KUBERNETES_SERVICE_HOST"):
            return [IN_CLUSTER]
        log.warning("no clusters: no kubeconfig at %s and not running in a pod", self.kubeconfig)
        return []

    def names(self) -> list[str]:
        return list(self._names)

    def api_client(self, name: str, bare: bool = False) -> client.ApiClient:
        """The cluster's client; `bare`: without the console's credentials (calls bring the user's token)."""
        if name not in self._names:
            raise NotFound(f"cluster '{name}' is not configured")
        with self._lock:
            api = self._clients.get((name, bare))
            if api is None:
                api = self._clients[(name, bare)] = self._make(name, bare)
            return api

    def _make(self, name: str, bare: bool = False) -> client.ApiClient:
        cfg = client.Configuration()
        try:
            if name == IN_CLUSTER:
                # The loader re-reads the token file before it expires (bound tokens rotate hourly).
                config.incluster_config.InClusterConfigLoader(
                    token_filename=str(self.service_account_dir / "token"),
                    cert_filename=str(self.service_account_dir / "ca.crt")).load_and_set(cfg)
            else:
                files = os.pathsep.join(p for p in self.kubeconfig.split(os.pathsep) if p and Path(p).exists())
                config.load_kube_config(config_file=files, context=name, client_configuration=cfg,
                                        persist_config=False)
        except (ConfigException, OSError) as e:
            log.warning("cluster %s cannot be configured: %s", name, e)
            raise ClusterUnavailable(f"cluster '{name}' cannot be configured; see the server log") from None
        # No urllib3 retries: each would wait KWS_KUBE_TIMEOUT again. kube.calls retries within one deadline.
        cfg.retries = False
        if bare:   # token pass-through: a client certificate would win over the user's bearer token
            cfg.cert_file = cfg.key_file = None
            cfg.api_key, cfg.api_key_prefix, cfg.refresh_api_key_hook = {}, {}, None
            cfg.username = cfg.password = None
        return client.ApiClient(cfg)

    def call(self, cluster: str, what: str, fn, *args, missing: str | None = None, **kwargs):
        """Run one API call on `cluster` within KWS_KUBE_TIMEOUT, retries included (kube.calls)."""
        from .calls import call
        return call(cluster, self.address(cluster), self.timeout, what, fn, *args, missing=missing,
                    pause=self.retry_pause, **kwargs)

    def address(self, name: str) -> str:
        """The API server's URL: for the log, never for users."""
        return self.api_client(name).configuration.host

    def conn(self, target: Target, headers: dict[str, str] | None = None) -> Conn:
        """How to exec into `target` (with extra headers: impersonation)."""
        return Conn(self.api_client(target.cluster, carries_token(headers)), target, self.timeout, headers)

    def core(self, name: str, headers: dict[str, str] | None = None) -> client.CoreV1Api:
        """The core API; with the user's token in `headers`, on a client without the console's credentials."""
        return client.CoreV1Api(self.api_client(name, carries_token(headers)))
