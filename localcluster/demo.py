"""What the local cluster holds: users, RBAC, a fake node, demo namespaces and pods."""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

NODE = "kws-node-1"
NOBODY = 65534

# Restricted users authenticate with bearer tokens (the admin with a client cert).
#   alice: may list pods and exec only in namespace team-a
#   bob:   may list pods everywhere but exec nowhere
TOKEN_USERS = {"alice": ("devs",), "bob": ("viewers",)}

# (namespace, pod, containers, scheduled?). Unscheduled pods stay Pending: there is no scheduler.
PODS = [
    ("demo", "web-1", ["web"], True),
    ("demo", "web-2", ["web"], True),
    ("demo", "multi", ["app", "sidecar"], True),
    ("demo", "distroless", ["app"], True),
    ("demo", "pending", ["app"], False),
    ("demo", "minimal", ["app"], True),
    ("team-a", "shell-a", ["main"], True),
    ("team-b", "shell-b", ["main"], True),
]
# A pod whose exec target cannot start any program: the stand-in for an image without a shell.
NO_SHELL = {("demo", "distroless")}
# A pod whose PATH holds only these programs: a minimal image (no head, no tar).
MINIMAL = {("demo", "minimal")}
MINIMAL_TOOLS = ("sh", "cat", "ls", "stat")


def container_dir(sandbox: Path, namespace: str, pod: str, container: str) -> Path:
    """The local work directory that plays a container's filesystem."""
    return sandbox / namespace / pod / container


def logs_file(sandbox: Path, namespace: str, pod: str, container: str, previous: bool = False) -> Path:
    """The CRI-format file kwok serves as a demo container's log (`<RFC 3339> stdout F <line>` per line)."""
    return sandbox / "_logs" / namespace / pod / f"{container}{'.previous' if previous else ''}.log"


def _exec_target(workdir: Path, pod: str, containers: list[str] | None, run_as_nobody: bool,
                 path: str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") -> dict:
    target = {"local": {"workDir": str(workdir), "envs": [
        {"name": "HOME", "value": str(workdir)},
        {"name": "PATH", "value": path},
        {"name": "TERM", "value": "xterm-256color"},
        {"name": "LANG", "value": "C.UTF-8"},
        {"name": "HOSTNAME", "value": pod},
    ]}}
    if containers:
        target["containers"] = containers
    if run_as_nobody:
        target["local"]["securityContext"] = {"runAsUser": NOBODY, "runAsGroup": NOBODY}
    return target


def kwok_config(bin_dir: Path, sandbox: Path, run_as_nobody: bool) -> str:
    """kwok's --config: the stock stages plus one Exec per demo pod and a catch-all ClusterExec."""
    docs = [(bin_dir / "stages" / f).read_text()
            for f in ("node-initialize.yaml", "pod-ready.yaml", "pod-delete.yaml")]
    for ns, pod, containers, _ in PODS:
        execs = []
        for c in containers:
            wd = container_dir(sandbox, ns, pod, c)
            if (ns, pod) in NO_SHELL:
                wd = wd / "no-such-dir"   # chdir fails: no program can start
            if (ns, pod) in MINIMAL:
                execs.append(_exec_target(wd, pod, [c], run_as_nobody, path=str(sandbox / "_minimal-bin")))
            else:
                execs.append(_exec_target(wd, pod, [c], run_as_nobody))
        docs.append(json.dumps({"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Exec",
                                "metadata": {"name": pod, "namespace": ns}, "spec": {"execs": execs}}))
        docs.append(json.dumps({"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Logs",
                                "metadata": {"name": pod, "namespace": ns}, "spec": {"logs": [
                                    {"containers": [c], "logsFile": str(logs_file(sandbox, ns, pod, c)),
                                     "previousLogsFile": str(logs_file(sandbox, ns, pod, c, True)), "follow": True}
                                    for c in containers]}}))
    docs.append(json.dumps({"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "ClusterExec",
                            "metadata": {"name": "any-pod"},
                            "spec": {"execs": [_exec_target(sandbox / "_shared", "pod", None, run_as_nobody)]}}))
    return "\n---\n".join(d.strip() for d in docs) + "\n"


def _prepare_sandbox(sandbox: Path, run_as_nobody: bool) -> None:
    dirs = [sandbox / "_shared"] + [container_dir(sandbox, ns, p, c)
                                    for ns, p, cs, _ in PODS if (ns, p) not in NO_SHELL for c in cs]
    for d in dirs:
        d.mkdir(parents=True, exist_ok=True)
        (d / "README.txt").write_text(f"This directory plays the filesystem of {d.relative_to(sandbox)}.\n")
    for ns, p, cs, _ in PODS:   # a few lines of log per container, and one of its previous run
        for c in cs:
            for previous in (False, True):
                f = logs_file(sandbox, ns, p, c, previous)
                f.parent.mkdir(parents=True, exist_ok=True)
                if not f.exists():
                    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime())
                    f.write_text("".join(f"{stamp} stdout F {'previous run: ' if previous else ''}{ns}/{p}/{c} line {i}\n"
                                         for i in range(1, 4)))
    minimal_bin = sandbox / "_minimal-bin"
    minimal_bin.mkdir(exist_ok=True)
    for tool in MINIMAL_TOOLS:
        real = shutil.which(tool, path="/usr/bin:/bin")
        if real and not (minimal_bin / tool).exists():
            (minimal_bin / tool).symlink_to(real)
    if run_as_nobody:
        import os
        for path in [sandbox, *sandbox.rglob("*")]:
            os.chown(path, NOBODY, NOBODY, follow_symlinks=False)   # never the symlinks' targets


def pod_manifest(ns: str, name: str, containers: list[str], scheduled: bool = True) -> dict:
    spec = {"containers": [{"name": c, "image": f"example.invalid/{c}:1"} for c in containers],
            "tolerations": [{"operator": "Exists"}], "automountServiceAccountToken": False}
    if scheduled:
        spec["nodeName"] = NODE
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns,
            "labels": {"app": name}}, "spec": spec}


def populate(admin_kubeconfig: Path, sandbox: Path, run_as_nobody: bool) -> None:
    """Create node, namespaces, service accounts, RBAC and pods; wait until scheduled pods run."""
    from kubernetes import client, config

    _prepare_sandbox(sandbox, run_as_nobody)
    api = config.new_client_from_config(str(admin_kubeconfig))
    core, rbac = client.CoreV1Api(api), client.RbacAuthorizationV1Api(api)
    core.create_node({"apiVersion": "v1", "kind": "Node", "metadata": {
        "name": NODE, "annotations": {"kwok.x-k8s.io/node": "fake"},
        "labels": {"kubernetes.io/hostname": NODE, "type": "kwok"}}})
    for ns in sorted({p[0] for p in PODS}):
        core.create_namespace({"metadata": {"name": ns}})
        core.create_namespaced_service_account(ns, {"metadata": {"name": "default"}})
    for ns, name, containers, scheduled in PODS:
        core.create_namespaced_pod(ns, pod_manifest(ns, name, containers, scheduled))

    read_pods = {"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "watch"]}
    read_ns = {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list"]}
    exec_pods = {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["get", "create"]}
    rbac.create_cluster_role({"metadata": {"name": "kws-pod-viewer"}, "rules": [read_pods, read_ns]})
    rbac.create_cluster_role_binding({"metadata": {"name": "kws-bob-viewer"},
                                      "roleRef": _ref("ClusterRole", "kws-pod-viewer"),
                                      "subjects": [_user("bob")]})
    rbac.create_namespaced_role("team-a", {"metadata": {"name": "shell"}, "rules": [read_pods, exec_pods]})
    rbac.create_namespaced_role_binding("team-a", {"metadata": {"name": "alice-shell"},
                                                   "roleRef": _ref("Role", "shell"),
                                                   "subjects": [_user("alice")]})
    wait_running(core, [(ns, n) for ns, n, _, s in PODS if s])


def wait_running(core, pods: list[tuple[str, str]], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    pending = set(pods)
    while pending and time.monotonic() < deadline:
        for ns, name in list(pending):
            if core.read_namespaced_pod(name, ns).status.phase == "Running":
                pending.discard((ns, name))
        if pending:
            time.sleep(0.2)
    if pending:
        raise RuntimeError(f"pods not Running after {timeout:.0f}s: {sorted(pending)}")


def _ref(kind: str, name: str) -> dict:
    return {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name}


def _user(name: str) -> dict:
    return {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": name}
