"""The demo pods of the real node (namespace `real`), one per kind of image and setting."""
from __future__ import annotations

import time

from .images import REFS
from .node import NODE_NAME

NAMESPACE = "real"
NOBODY = 65534
_SLEEP = ["sleep", "infinity"]


def _c(name: str, image: str, command: list[str] | None = None, **security) -> dict:
    c = {"name": name, "image": REFS[image], "imagePullPolicy": "Never"}
    if command:
        c["command"] = command
    if security:
        c["securityContext"] = security
    return c


# name → (containers, pod-level extras)
PODS = {
    # bash, coreutils and tar: the real-node counterpart of demo/web-1
    "web": ([_c("web", "debian", _SLEEP)], {}),
    "multi": ([_c("app", "debian", _SLEEP), _c("sidecar", "busybox", _SLEEP)], {}),
    "nonroot": ([_c("main", "busybox", _SLEEP, runAsUser=NOBODY, runAsGroup=NOBODY,
                    allowPrivilegeEscalation=False)], {}),
    "readonly": ([_c("main", "debian", _SLEEP, readOnlyRootFilesystem=True)],
                 {"volumes": [{"name": "scratch", "emptyDir": {}}]}),
    # no shell, no tools: one static program
    "distroless": ([_c("app", "distroless")], {}),
}
PODS["readonly"][0][0]["volumeMounts"] = [{"name": "scratch", "mountPath": "/scratch"}]


def share_dir(cluster_dir) -> str:
    """A host directory mounted at the same path in real/web (and its working directory): tests
    check on the host what went into the container, at the path the console used."""
    return f"{cluster_dir}/node/share/web"


def manifest(name: str, cluster_dir) -> dict:
    import copy
    containers, extra = copy.deepcopy(PODS[name])
    if name == "web":
        share = share_dir(cluster_dir)
        containers[0].update(workingDir=share, volumeMounts=[{"name": "share", "mountPath": share}])
        extra["volumes"] = [{"name": "share", "hostPath": {"path": share, "type": "DirectoryOrCreate"}}]
    spec = {"nodeName": NODE_NAME, "containers": containers, "automountServiceAccountToken": False,
            "enableServiceLinks": False, "terminationGracePeriodSeconds": 1,
            "tolerations": [{"operator": "Exists"}], **extra}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"app": name}}, "spec": spec}


def rbac(api) -> None:
    """The node's rights (RBAC only: no Node authorizer here) and the API server's towards kubelets."""
    from kubernetes import client
    rb = client.RbacAuthorizationV1Api(api)
    ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole"}
    rb.create_cluster_role_binding({"metadata": {"name": "kws-nodes"}, "roleRef": {**ref, "name": "system:node"},
                                    "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                                                  "name": "system:nodes"}]})
    rb.create_cluster_role_binding({"metadata": {"name": "kws-apiserver-kubelet"},
                                    "roleRef": {**ref, "name": "system:kubelet-api-admin"},
                                    "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                                                  "name": "kube-apiserver-kubelet-client"}]})


def populate(api, cluster_dir, timeout: float = 90.0) -> None:
    """Wait for the node to register, create the pods and wait until they run."""
    from kubernetes import client
    core = client.CoreV1Api(api)
    deadline = time.monotonic() + timeout
    while True:
        try:
            core.read_node(NODE_NAME)
            break
        except client.ApiException as e:
            if e.status != 404 or time.monotonic() > deadline:
                raise RuntimeError(f"the real node did not register within {timeout:.0f}s") from e
            time.sleep(0.2)
    core.create_namespace({"metadata": {"name": NAMESPACE}})
    core.create_namespaced_service_account(NAMESPACE, {"metadata": {"name": "default"}})
    for name in PODS:
        core.create_namespaced_pod(NAMESPACE, manifest(name, cluster_dir))
    pending = set(PODS)
    while pending:
        for name in sorted(pending):
            pod = core.read_namespaced_pod(name, NAMESPACE)
            if pod.status.phase == "Running" and all(s.ready for s in pod.status.container_statuses or []):
                pending.discard(name)
        if pending and time.monotonic() > deadline:
            raise RuntimeError(f"real-node pods not running after {timeout:.0f}s: {sorted(pending)}; "
                               f"{_why(core, sorted(pending)[0])}")
        if pending:
            time.sleep(0.2)


def _why(core, name: str) -> str:
    pod = core.read_namespaced_pod(name, NAMESPACE)
    for s in pod.status.container_statuses or []:
        w = s.state.waiting
        if w:
            return f"{name}/{s.name}: {w.reason}: {w.message}"
    ev = core.list_namespaced_event(NAMESPACE, field_selector=f"involvedObject.name={name}").items
    return "; ".join(f"{e.reason}: {e.message}" for e in ev[-3:]) or f"phase {pod.status.phase}"
