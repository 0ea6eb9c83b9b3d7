"""Kubernetes name rules for every cluster, namespace, pod and container name a client sends.

Checked where names enter (REST routes, Socket.IO payloads), before any of them reaches a
URL towards the API server: `.` and `..` are not names, and the API server would resolve
them as path segments (namespace `..` listed the pods of every namespace).
"""
from __future__ import annotations

import re

from .errors import BadRequest

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS_LABEL = re.compile(_LABEL + r"\Z")                            # namespaces, containers: RFC 1123 label
DNS_SUBDOMAIN = re.compile(_LABEL + r"(\." + _LABEL + r")*\Z")    # pods: RFC 1123 subdomain
MAX_LABEL, MAX_SUBDOMAIN, MAX_CLUSTER = 63, 253, 253


def _show(value) -> str:
    return repr(value[:80]) if isinstance(value, str) else type(value).__name__


def namespace(value, what: str = "namespace") -> str:
    if not isinstance(value, str) or len(value) > MAX_LABEL or not DNS_LABEL.match(value):
        raise BadRequest(f"{_show(value)} is not a valid {what} name: lower-case letters, digits and '-', "
                         f"starting and ending with a letter or digit, at most {MAX_LABEL} characters")
    return value


def container(value) -> str:
    return namespace(value, "container")


def pod(value) -> str:
    if not isinstance(value, str) or len(value) > MAX_SUBDOMAIN or not DNS_SUBDOMAIN.match(value):
        raise BadRequest(f"{_show(value)} is not a valid pod name: lower-case letters, digits, '-' and '.', "
                         f"each dot-separated part starting and ending with a letter or digit, "
                         f"at most {MAX_SUBDOMAIN} characters")
    return value


def cluster(value) -> str:
    """A kubeconfig context name: any printable text without `/` (it is looked up, never sent)."""
    if (not isinstance(value, str) or not value or len(value) > MAX_CLUSTER or not value.isprintable()
            or "/" in value or value in (".", "..")):
        raise BadRequest(f"{_show(value)} is not a valid cluster name")
    return value


def target(cluster_name, namespace_name, pod_name=None, container_name=None) -> None:
    """Check each given part of a target; None parts are skipped."""
    cluster(cluster_name)
    if namespace_name is not None:
        namespace(namespace_name)
    if pod_name is not None:
        pod(pod_name)
    if container_name is not None:
        container(container_name)
