"""Is a configured cluster's API server answering? (for /readyz; never raises)."""
from __future__ import annotations

import logging

from kubernetes import client

from ..errors import WebshellError
from .clusters import ClusterRegistry

log = logging.getLogger(__name__)


def reachable(clusters: ClusterRegistry, name: str, timeout: float) -> bool:
    """True when the cluster's API server answers GET /version within `timeout` seconds."""
    try:
        client.VersionApi(clusters.api_client(name)).get_code(_request_timeout=timeout)
        return True
    except (WebshellError, client.ApiException, OSError, ValueError) as e:
        log.info("cluster %s not reachable: %s", name, e)
    except Exception as e:  # noqa: BLE001 - urllib3's errors and the like: reported, never fatal
        log.info("cluster %s not reachable: %s: %s", name, type(e).__name__, e)
    return False
