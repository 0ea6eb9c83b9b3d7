"""Listing namespaces and pods, and resolving an exec target with human errors."""
from __future__ import annotations

from ..errors import BadRequest, Forbidden, NotFound, NotRunning
from .clusters import ClusterRegistry
from .conn import Target

__all__ = ["Target", "list_namespaces", "list_pods", "pod_names", "resolve", "summarize"]

DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"


def list_namespaces(reg: ClusterRegistry, cluster: str, headers: dict[str, str] | None = None,
                    fallback: list[str] | tuple[str, ...] = ()) -> list[str]:
    """`headers`: extra request headers (impersonation), on this call only. `fallback`: the names
    answered when the cluster refuses the listing (a console bound to some namespaces only)."""
    core = reg.core(cluster, headers)
    try:
        items = reg.call(cluster, f"list namespaces of cluster '{cluster}'", core.list_namespace,
                         _headers=headers).items
    except Forbidden:
        if not fallback:
            raise
        return sorted(set(fallback))
    return sorted(ns.metadata.name for ns in items)


def _container_summaries(pod) -> list[dict]:
    statuses = {s.name: s for s in (pod.status.container_statuses or [])}
    out = []
    for c in pod.spec.containers:
        st = statuses.get(c.name)
        state = "waiting"
        if st and st.state:
            state = "running" if st.state.running else "terminated" if st.state.terminated else "waiting"
        out.append({"name": c.name, "image": c.image, "ready": bool(st and st.ready), "state": state,
                    "restarts": (st.restart_count or 0) if st else 0,
                    "reason": _reason(st)})
    return out


def _reason(st) -> str | None:
    """Why a container is not running (CrashLoopBackOff, ErrImagePull, Completed...), or None."""
    if st is None or st.state is None:
        return None
    if st.state.waiting:
        return st.state.waiting.reason
    if st.state.terminated:
        return st.state.terminated.reason
    return None


def summarize(pod) -> dict:
    return {"name": pod.metadata.name, "namespace": pod.metadata.namespace,
            "phase": pod.status.phase, "node": pod.spec.node_name,
            "deleting": pod.metadata.deletion_timestamp is not None,
            "default_container": default_container(pod),
            "containers": _container_summaries(pod),
            "created": pod.metadata.creation_timestamp.isoformat() if pod.metadata.creation_timestamp else None}


def list_pods(reg: ClusterRegistry, cluster: str, namespace: str,
              headers: dict[str, str] | None = None) -> list[dict]:
    core = reg.core(cluster, headers)
    items = reg.call(cluster, f"list pods in namespace '{namespace}'", core.list_namespaced_pod, namespace,
                     missing=f"namespace '{namespace}' not found", _headers=headers).items
    return sorted((summarize(p) for p in items), key=lambda p: p["name"])


def pod_names(reg: ClusterRegistry, cluster: str, namespace: str) -> set[str]:
    """Names of the pods in a namespace that are not being deleted."""
    return {p["name"] for p in list_pods(reg, cluster, namespace) if not p["deleting"]}


def default_container(pod) -> str:
    names = [c.name for c in pod.spec.containers]
    wanted = (pod.metadata.annotations or {}).get(DEFAULT_CONTAINER_ANNOTATION)
    return wanted if wanted in names else names[0]


def resolve(reg: ClusterRegistry, cluster: str, namespace: str, pod: str, container: str | None,
            headers: dict[str, str] | None = None) -> Target:
    """Check that the container exists and runs; raise NotFound / NotRunning with a clear message."""
    core = reg.core(cluster, headers)
    obj = reg.call(cluster, f"read pod '{pod}' in namespace '{namespace}'", core.read_namespaced_pod, pod, namespace,
                   missing=f"pod '{pod}' not found in namespace '{namespace}'", _headers=headers)
    names = [c.name for c in obj.spec.containers]
    name = container or default_container(obj)
    if any(c.name == name for c in obj.spec.ephemeral_containers or []):   # a debug container
        names.append(name)
    if name not in names:
        if any(c.name == name for c in obj.spec.init_containers or []):
            raise BadRequest(f"container '{name}' is an init container of pod '{pod}'")
        raise NotFound(f"container '{name}' not found in pod '{pod}' (containers: {', '.join(names)})")
    if obj.metadata.deletion_timestamp is not None:
        raise NotRunning(f"pod '{pod}' is being deleted")
    if obj.status.phase != "Running":
        raise NotRunning(f"pod '{pod}' is {obj.status.phase or 'not running'}")
    statuses = (obj.status.container_statuses or []) + (obj.status.ephemeral_container_statuses or [])
    state = next((s.state for s in statuses if s.name == name), None)
    if state is not None and not state.running:
        why = state.waiting.reason if state.waiting else "terminated" if state.terminated else "not running"
        raise NotRunning(f"container '{name}' in pod '{pod}' is not running ({why})")
    return Target(cluster, namespace, pod, name)
