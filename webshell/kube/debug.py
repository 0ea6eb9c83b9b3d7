"""Debug containers: `kubectl debug --target` through the pods/ephemeralcontainers subresource.

For images without a shell: an ephemeral container from a debug image (one with a shell)
joins the pod, with targetContainerName set so that it shares the target container's
process namespace. Its shell then sees the target's processes (`ps`) and, through
/proc/<pid>/root, the target's files.

RBAC the console's credentials (or the impersonated user) need, besides pods/exec:
  pods: get (waiting for it to run);  pods/ephemeralcontainers: patch
Kubernetes never removes an ephemeral container: it stays in the pod (stopped once its
process ends) until the pod is deleted.
"""
from __future__ import annotations

import secrets
import time

from ..errors import NotRunning, WebshellError
from .clusters import ClusterRegistry

# The container idles; terminals open in it with exec, like in any other container.
IDLE = ["sleep", "infinity"]


def container_spec(name: str, image: str, target: str) -> dict:
    return {"name": name, "image": image, "imagePullPolicy": "IfNotPresent", "command": IDLE,
            "targetContainerName": target, "stdin": False, "tty": False,
            "terminationMessagePolicy": "File"}


def add(reg: ClusterRegistry, cluster: str, namespace: str, pod: str, target: str, image: str,
        start_timeout: float, wait, headers: dict[str, str] | None = None) -> str:
    """Add a debug container next to `target` and wait until it runs; return its name."""
    core = reg.core(cluster, headers)
    name = f"debugger-{secrets.token_hex(3)}"
    body = {"spec": {"ephemeralContainers": [container_spec(name, image, target)]}}
    reg.call(cluster, f"add a debug container to pod '{pod}'", core.patch_namespaced_pod_ephemeralcontainers,
             pod, namespace, body, missing=f"pod '{pod}' not found in namespace '{namespace}'", _headers=headers)
    deadline = time.monotonic() + start_timeout
    why = "not started yet"
    while time.monotonic() < deadline:
        obj = reg.call(cluster, f"read pod '{pod}'", core.read_namespaced_pod, pod, namespace,
                       missing=f"pod '{pod}' was deleted", _headers=headers)
        st = next((s for s in obj.status.ephemeral_container_statuses or [] if s.name == name), None)
        if st is not None and st.state is not None:
            if st.state.running:
                return name
            if st.state.terminated:
                raise DebugFailed(f"the debug container {name} ({image}) ended at once: "
                                  f"{st.state.terminated.reason or ''} {st.state.terminated.message or ''}".strip())
            if st.state.waiting:
                why = f"{st.state.waiting.reason}: {st.state.waiting.message or ''}".strip(": ")
        wait()
    raise NotRunning(f"the debug container {name} ({image}) did not start within {start_timeout:.0f}s ({why})")


class DebugFailed(WebshellError):
    code, status = "debug_failed", 502
