"""The Helm chart: lint, render, apply to the real API server, and run the console as its ServiceAccount."""
from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml
from kubernetes import client, config

from localcluster import demo, realpods
from webshell.auth.oidc_config import parse_providers

from .helpers import ConsoleServer, Term, csrf_token, login, pid_alive, wait_dead
from .test_access import PW, add_user
from .test_terminal import shell_pid

CHART = Path(__file__).resolve().parent.parent / "deploy" / "helm" / "kube-webshell"
MANIFESTS = CHART.parent.parent / "manifests"
KUBECTL = str(Path(sys.executable).parent / "kubectl")
NS = "kube-webshell"
# Values for what plain `env` cannot carry: valueFrom, envFrom, mounted files.
EXTRAS = ["extraEnv[0].name=KWS_RATELIMIT_STORAGE_URI", "extraEnv[0].valueFrom.secretKeyRef.name=redis",
          "extraEnv[0].valueFrom.secretKeyRef.key=url", "extraEnvFrom[0].configMapRef.name=kws-settings",
          "extraVolumes[0].name=clusters", "extraVolumes[0].secret.secretName=kubeconfigs",
          "extraVolumeMounts[0].name=clusters", "extraVolumeMounts[0].mountPath=/etc/kws",
          "extraVolumeMounts[0].readOnly=true", "env.KWS_KUBECONFIG=/etc/kws/config", "env.KWS_SHELLS=sh"]


@pytest.fixture(scope="session")
def helm() -> str:
    started = time.monotonic()
    r = subprocess.run([str(CHART.parent.parent / "build-helm.sh")], capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stderr[-3000:]
    print(f"\nhelm ready in {time.monotonic() - started:.0f} s")
    return r.stdout.strip().splitlines()[-1]


def run(*args: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=120, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(args[:4])}… failed: {r.stdout[-1500:]} {r.stderr[-1500:]}")
    return r


def render(helm: str, release: str, namespace: str, *sets: str) -> str:
    args = [helm, "template", release, str(CHART), "--namespace", namespace, "--set", "secret.generate=false"]
    for s in sets:
        args += ["--set", s]
    return run(*args).stdout


def docs(text: str) -> dict[tuple[str, str], dict]:
    return {(d["kind"], d["metadata"]["name"] + "@" + d["metadata"].get("namespace", "")): d
            for d in yaml.safe_load_all(text) if d}


def kubectl(kubeconfig: Path, *args: str, check: bool = True, input: str | None = None):
    return run(KUBECTL, "--kubeconfig", str(kubeconfig), *args, check=check, input=input)


def apply(cluster, text: str, namespace: str) -> str:
    """The namespace, then a server-side dry run of `text`, then for real (server-side apply:
    idempotent on a reused cluster). A dry run cannot create the namespace its objects need.
    Returns the warnings (kubectl's standard error)."""
    ns = f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {namespace}\n"
    # Its own field manager: applying a bare namespace must not take away labels others applied.
    kubectl(cluster.admin_kubeconfig, "apply", "--server-side", "--field-manager=kws-test-namespace", "-f", "-", input=ns)
    runs = [kubectl(cluster.admin_kubeconfig, "apply", "--server-side", "--force-conflicts", *extra, "-f", "-",
                    input=text) for extra in (["--dry-run=server"], [])]
    out = [r.stdout for r in runs]
    assert "(server dry run)" in out[0] and "serviceaccount/" in out[1] and "deployment.apps/" in out[1], out
    return "\n".join(r.stderr for r in runs)


def sa_kubeconfig(cluster, namespace: str, account: str, dest: Path) -> tuple[Path, str]:
    """A kubeconfig holding only a TokenRequest token of the ServiceAccount (and the cluster's CA)."""
    token = kubectl(cluster.admin_kubeconfig, "create", "token", account, "-n", namespace, "--duration=1h").stdout.strip()
    admin = json.loads(cluster.admin_kubeconfig.read_text())
    cfg = {"apiVersion": "v1", "kind": "Config", "current-context": "kws-local",
           "clusters": [{"name": "kws-local", "cluster": admin["clusters"][0]["cluster"]}],
           "users": [{"name": account, "user": {"token": token}}],
           "contexts": [{"name": "kws-local", "context": {"cluster": "kws-local", "user": account}}]}
    dest.write_text(json.dumps(cfg))
    dest.chmod(0o600)
    return dest, token


def can_i(kubeconfig: Path, verb: str, resource: str, *args: str) -> bool:
    """`kubectl auth can-i` as that kubeconfig's identity; `pods/exec` means the exec subresource."""
    resource, _, sub = resource.partition("/")
    extra = [f"--subresource={sub}"] if sub else []
    r = kubectl(kubeconfig, "auth", "can-i", verb, resource, *extra, *args, check=False)
    assert r.stdout.strip() in ("yes", "no"), r.stdout + r.stderr
    return r.stdout.strip() == "yes"


@pytest.fixture(scope="module")
def installed(helm, cluster):
    """deploy/manifests applied as they are committed: the release `kube-webshell`, cluster-wide."""
    kubectl(cluster.admin_kubeconfig, "apply", "--server-side", "-f", str(MANIFESTS / "namespace.yaml"))
    apply(cluster, (MANIFESTS / "kube-webshell.yaml").read_text(), NS)
    return cluster


def test_deployment_passes_restricted_pod_security(helm, installed):
    """The namespace enforces and warns at the `restricted` Pod Security level: the API server
    warns when it creates a Deployment whose pods it would refuse. The chart's gets no warning;
    the same chart with privilege escalation allowed does (the control)."""
    def warnings(release: str, *sets: str) -> str:
        docs_ = [d for d in yaml.safe_load_all(render(helm, release, NS, *sets)) if d and d["kind"] == "Deployment"]
        return kubectl(installed.admin_kubeconfig, "create", "--dry-run=server", "-f", "-",
                       input=yaml.safe_dump(docs_[0])).stderr
    assert "PodSecurity" not in warnings("psa-strict")
    loose = warnings("psa-loose", "securityContext.allowPrivilegeEscalation=true")
    assert "violate PodSecurity" in loose and "allowPrivilegeEscalation" in loose, loose


def test_readmes_set_image_points_the_manifests_at_a_registry(installed):
    """README "Without Helm": its `kubectl set image` names the manifests' Deployment and container."""
    readme = (CHART.parent.parent.parent / "README.md").read_text()
    line = re.search(r"`(kubectl -n kube-webshell set image [^`]+)`", readme).group(1).split()
    out = kubectl(installed.admin_kubeconfig, *line[1:], "--dry-run=server", "-o", "json").stdout
    image = json.loads(out)["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == line[-1].split("=", 1)[1] and image.startswith("registry.example.com/"), image


def test_chart_lints_in_every_mode(helm):
    for sets in ([], ["rbac.namespaces={team-a,team-b}"], ["impersonate=true", "ingress.enabled=true",
                 "ingress.tlsSecret=web-tls"], ["persistence.enabled=false", "database.url=postgresql+psycopg://x@db/kws"],
                 ["replicaCount=2", "redis.url=redis://redis:6379/0", "database.url=postgresql+psycopg://x@db/kws"],
                 ["rbac.listNamespaces=false", "rbac.namespaces={team-a}", "rbac.debug=true",
                  "clusterAuth={in-cluster=impersonate}", "metrics.token=t0ken"],
                 [*EXTRAS, "oidc.providers[0].name=corp", "oidc.providers[0].issuer=https://id.example",
                  "oidc.providers[0].client_id=kws", "oidc.groupRoles={ops=operator}", "oidc.localLogin=false"]):
        args = [helm, "lint", "--strict", str(CHART)] + [a for s in sets for a in ("--set", s)]
        assert "0 chart(s) failed" in run(*args).stdout


def test_many_replicas_get_redis_their_names_and_refuse_sqlite(helm):
    sets = ["replicaCount=3", "redis.url=redis://redis:6379/0", "database.url=postgresql+psycopg://x@db/kws",
            "persistence.enabled=false"]
    d = docs(render(helm, "kube-webshell", NS, *sets))
    dep = d[("Deployment", f"kube-webshell@{NS}")]
    assert dep["spec"]["replicas"] == 3
    env = {e["name"]: e for e in dep["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["KWS_MESSAGE_QUEUE"]["valueFrom"]["secretKeyRef"]["key"] == "redis-url"
    assert env["KWS_REPLICA_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    secret = d[("Secret", f"kube-webshell@{NS}")]
    assert secret["data"]["redis-url"] == "cmVkaXM6Ly9yZWRpczo2Mzc5LzA="
    for missing in ("redis.url", "database.url"):
        args = [helm, "template", "x", str(CHART), "--set", "secret.generate=false"]
        for s in sets:
            if not s.startswith(missing):
                args += ["--set", s]
        r = run(*args, check=False)
        assert r.returncode != 0 and f"needs {missing}" in r.stderr, r.stderr


def test_manifests_are_rendered_from_the_chart(helm):
    committed = (MANIFESTS / "kube-webshell.yaml").read_text()
    body = committed.split("\n", 2)[2]   # after the two comment lines
    assert body == render(helm, "kube-webshell", NS), "deploy/manifests is stale: run deploy/render-manifests.sh"


def test_helm_install_generates_the_secret_once_and_upgrades_keep_it(helm, installed, tmp_path):
    """README's `helm install` against the real API server; `lookup` keeps the generated values."""
    ns, kube = "kws-helm", str(installed.admin_kubeconfig)
    env = {**os.environ, **{f"HELM_{d}_HOME": str(tmp_path / d.lower()) for d in ("CACHE", "CONFIG", "DATA")}}

    def secret() -> dict:
        out = kubectl(installed.admin_kubeconfig, "-n", ns, "get", "secret", "rel-kube-webshell", "-o", "json").stdout
        return {k: base64.b64decode(v) for k, v in json.loads(out)["data"].items()}
    run(helm, "install", "rel", str(CHART), "--kubeconfig", kube, "--namespace", ns, "--create-namespace", env=env)
    try:
        first = secret()
        assert len(first["secret-key"]) == 64 and len(first["admin-password"]) == 20
        run(helm, "upgrade", "rel", str(CHART), "--kubeconfig", kube, "--namespace", ns, "--set", "metrics.token=t0ken",
            env=env)
        second = secret()
        assert second["secret-key"] == first["secret-key"] and second["admin-password"] == first["admin-password"]
        assert second["metrics-token"] == b"t0ken"
    finally:
        run(helm, "uninstall", "rel", "--kubeconfig", kube, "--namespace", ns, env=env)


def test_deployment_is_locked_down(helm):
    d = docs(render(helm, "kube-webshell", NS, "ingress.enabled=true", "ingress.tlsSecret=web-tls"))
    pod = d[("Deployment", f"kube-webshell@{NS}")]["spec"]["template"]["spec"]
    c = pod["containers"][0]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert c["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                    "capabilities": {"drop": ["ALL"]}}
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz" and c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert c["resources"]["limits"]["memory"] and c["resources"]["requests"]["cpu"]
    assert {m["mountPath"] for m in c["volumeMounts"]} == {"/var/lib/kube-webshell", "/tmp"}
    env = {e["name"]: e for e in c["env"]}
    assert env["KWS_SECRET_KEY"]["valueFrom"]["secretKeyRef"]["key"] == "secret-key"
    assert env["KWS_COOKIE_SECURE"]["value"] == "1" and env["KWS_TRUSTED_PROXIES"]["value"] == "1"
    ing = d[("Ingress", f"kube-webshell@{NS}")]["metadata"]["annotations"]
    assert ing["nginx.ingress.kubernetes.io/proxy-read-timeout"] == "3600"
    assert ing["nginx.ingress.kubernetes.io/proxy-body-size"] == "0"
    assert env["KWS_DEBUG_IMAGE"]["value"] == "busybox:1.36"   # not the local cluster's test image
    rules = d[("ClusterRole", "kube-webshell@")]["rules"]
    base = [(["pods"], ["get", "list"]), (["pods/exec"], ["get", "create"]), (["pods/log"], ["get"])]
    assert [(r["resources"], r["verbs"]) for r in rules] == base
    cluster_rules = d[("ClusterRole", "kube-webshell-cluster@")]["rules"]
    assert [(r["resources"], r["verbs"]) for r in cluster_rules] == [(["namespaces"], ["list"])]
    debug = docs(render(helm, "kube-webshell", NS, "rbac.debug=true"))[("ClusterRole", "kube-webshell@")]
    assert [(r["resources"], r["verbs"]) for r in debug["rules"]] == base + [(["pods/ephemeralcontainers"], ["patch"])]
    imp_rules = [(["namespaces"], ["list"]), (["users", "groups"], ["impersonate"])]
    for sets in (["impersonate=true"], ["clusterAuth={prod-*=token,in-cluster=impersonate}"]):
        imp = docs(render(helm, "kube-webshell", NS, *sets))[("ClusterRole", "kube-webshell-cluster@")]
        assert [(r["resources"], r["verbs"]) for r in imp["rules"]] == imp_rules, sets
    token = docs(render(helm, "kube-webshell", NS, "clusterAuth={*=token}"))[("ClusterRole", "kube-webshell-cluster@")]
    assert [(r["resources"], r["verbs"]) for r in token["rules"]] == [(["namespaces"], ["list"])]


def test_chart_values_reach_the_console_once(helm):
    """Settings the chart cannot write as plain env: valueFrom, envFrom, mounted files, and its Secret."""
    d = docs(render(helm, "kube-webshell", NS, *EXTRAS, "metrics.token=t0ken", "debug.image=registry.example/bb:1",
                    "oidc.providers[0].name=corp", "oidc.providers[0].issuer=https://id.example",
                    "oidc.providers[0].client_id=kws", "oidc.providers[0].client_secret=s3cret",
                    "oidc.adminGroups={ops}", "oidc.localLogin=false", "clusterAuth={*=impersonate}"))
    c = d[("Deployment", f"kube-webshell@{NS}")]["spec"]["template"]["spec"]
    env = {e["name"]: e for e in c["containers"][0]["env"]}
    assert len(env) == len(c["containers"][0]["env"])   # no name twice
    assert env["KWS_RATELIMIT_STORAGE_URI"]["valueFrom"] == {"secretKeyRef": {"name": "redis", "key": "url"}}
    assert c["containers"][0]["envFrom"] == [{"configMapRef": {"name": "kws-settings"}}]
    assert {"name": "clusters", "mountPath": "/etc/kws", "readOnly": True} in c["containers"][0]["volumeMounts"]
    assert {"name": "clusters", "secret": {"secretName": "kubeconfigs"}} in c["volumes"]
    assert env["KWS_KUBECONFIG"]["value"] == "/etc/kws/config" and env["KWS_SHELLS"]["value"] == "sh"
    assert env["KWS_DEBUG_IMAGE"]["value"] == "registry.example/bb:1"
    assert env["KWS_CLUSTER_AUTH"]["value"] == "*=impersonate" and env["KWS_LOCAL_LOGIN"]["value"] == "0"
    assert env["KWS_OIDC_ADMIN_GROUPS"]["value"] == "ops"
    secret = d[("Secret", f"kube-webshell@{NS}")]["data"]
    for name, key in (("KWS_METRICS_TOKEN", "metrics-token"), ("KWS_OIDC_PROVIDERS", "oidc-providers")):
        assert "value" not in env[name] and env[name]["valueFrom"]["secretKeyRef"]["key"] == key
    assert base64.b64decode(secret["metrics-token"]) == b"t0ken"
    providers = parse_providers(base64.b64decode(secret["oidc-providers"]).decode())   # as the console reads it
    assert [(p.name, p.client_id, p.client_secret) for p in providers] == [("corp", "kws", "s3cret")]
    assert "t0ken" not in yaml.safe_dump(c) and "s3cret" not in yaml.safe_dump(c)


@pytest.mark.parametrize("sets, message", [
    (["env.KWS_IMPERSONATE=1"], "env.KWS_IMPERSONATE is set by the chart"),
    (["env.KWS_COOKIE_SECURE=1", "ingress.tlsSecret=web-tls"], "env.KWS_COOKIE_SECURE is set by the chart"),
    (["extraEnv[0].name=KWS_SECRET_KEY", "extraEnv[0].value=x"], "extraEnv KWS_SECRET_KEY is already set"),
    (["env.KWS_SHELLS=sh", "extraEnv[0].name=KWS_SHELLS", "extraEnv[0].value=x"], "extraEnv KWS_SHELLS is already set"),
    (["rbac.listNamespaces=false"], "rbac.listNamespaces=false needs rbac.namespaces"),
    (["shutdownTimeout=30"], "shutdownTimeout must be below terminationGracePeriodSeconds"),
    (["metrics.token=t", "secret.create=false"], "metrics.token and oidc.providers are kept in the Secret"),
])
def test_chart_refuses_what_it_cannot_render_right(helm, sets, message):
    args = [helm, "template", "x", str(CHART), "--set", "secret.generate=false"] + [a for s in sets for a in ("--set", s)]
    r = run(*args, check=False)
    assert r.returncode != 0 and message in r.stderr, r.stderr


def test_service_account_can_do_exactly_what_the_console_needs(installed, tmp_path):
    kube, _ = sa_kubeconfig(installed, NS, "kube-webshell", tmp_path / "sa.kubeconfig")
    for ns in ("demo", "team-b"):
        assert can_i(kube, "list", "pods", "-n", ns) and can_i(kube, "get", "pods", "-n", ns)
        assert can_i(kube, "create", "pods/exec", "-n", ns) and can_i(kube, "get", "pods/exec", "-n", ns)
        assert can_i(kube, "get", "pods/log", "-n", ns)
    assert can_i(kube, "list", "namespaces")
    for denied in (["get", "secrets", "-n", "demo"], ["list", "secrets", "-A"], ["create", "pods", "-n", "demo"],
                   ["delete", "pods", "-n", "demo"], ["patch", "pods", "-n", "demo"],
                   ["patch", "pods/ephemeralcontainers", "-n", "demo"],
                   ["impersonate", "users"], ["impersonate", "groups"], ["create", "pods/attach", "-n", "demo"],
                   ["get", "configmaps", "-n", NS], ["create", "serviceaccounts/token", "-n", NS]):
        assert not can_i(kube, *denied), denied


def test_console_as_the_service_account_runs_terminals_and_transfers(installed, tmp_path):
    kube, _ = sa_kubeconfig(installed, NS, "kube-webshell", tmp_path / "sa.kubeconfig")
    srv = ConsoleServer(kube, tmp_path / "instance").start()
    try:
        _terminal_and_files(srv, installed)
        http = login(srv)
        assert "demo" in http.get(f"{srv.url}/api/clusters/kws-local/namespaces").json()["namespaces"]
    finally:
        srv.stop()


def _terminal_and_files(srv, cluster, cluster_name: str = "kws-local") -> None:
    """What the console does with its identity: a terminal and its hang-up, the pod check, a Files
    listing, an upload and a download, and the logs pane."""
    http = login(srv)
    core = client.CoreV1Api(config.new_client_from_config(str(cluster.admin_kubeconfig)))
    doomed = f"sa-doomed-{secrets.token_hex(3)}"
    core.create_namespaced_pod("demo", demo.pod_manifest("demo", doomed, ["c"]))
    t = Term(srv, http)
    try:
        sid = t.open(cluster=cluster_name)
        t.send(sid, "echo as-sa-$((40+2))\n")
        t.wait_for(sid, "as-sa-42")
        pid = shell_pid(t, sid)
        assert pid_alive(pid)   # kwok's shells are this machine's processes
        assert t.call("close", {"session": sid})["ok"]
        t.wait_exit(sid)
        assert wait_dead(pid), "the close must hang the shell up (an exec of kill, as the ServiceAccount)"
        # The pod check (list pods, every POD_CHECK_INTERVAL) ends a terminal whose pod is gone.
        demo.wait_running(core, [("demo", doomed)])
        gone = t.open(cluster=cluster_name, pod=doomed)
        core.delete_namespaced_pod(doomed, "demo", grace_period_seconds=0)
        assert t.wait_exit(gone, 30)["reason"] == f"pod '{doomed}' was deleted"
    finally:
        t.close()
        core.api_client.close()
    box = demo.container_dir(cluster.sandbox, "demo", "web-2", "web") / f"sa-{secrets.token_hex(4)}"
    box.mkdir()
    os.chown(box, demo.NOBODY, demo.NOBODY)
    http.headers["X-CSRFToken"] = csrf_token(http, srv)
    files = f"{srv.url}/api/clusters/{cluster_name}/namespaces/demo/pods/web-2/files"
    data = os.urandom(500_000)
    up = http.put(f"{files}/upload", params={"container": "web", "path": f"{box}/sa.bin"}, data=data)
    assert up.status_code == 200, up.text
    assert (box / "sa.bin").read_bytes() == data
    assert http.get(f"{files}/download", params={"container": "web", "path": f"{box}/sa.bin"}).content == data
    listed = http.get(f"{files}/list", params={"container": "web", "path": str(box)})
    assert listed.status_code == 200, listed.text
    assert [(e["name"], e["size"]) for e in listed.json()["entries"]] == [("sa.bin", len(data))]
    mark = f"as-sa-log-{secrets.token_hex(4)}"
    with open(demo.logs_file(cluster.sandbox, "demo", "web-2", "web"), "a") as f:
        f.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S.000000000Z', time.gmtime())} stdout F {mark}\n")
    logs = http.get(f"{srv.url}/api/clusters/{cluster_name}/namespaces/demo/pods/web-2/logs",
                    params={"container": "web", "tail": "1"})
    assert logs.status_code == 200 and logs.text.splitlines() == [mark], logs.text


def test_namespace_scoped_rbac_grants_only_its_namespaces(helm, installed, tmp_path):
    """One RoleBinding in team-a and no namespace listing: the picker offers the chart's list."""
    ns = "kws-scoped"
    text = render(helm, "scoped", ns, "rbac.namespaces={team-a}", "rbac.listNamespaces=false")
    apply(installed, text, ns)
    kube, _ = sa_kubeconfig(installed, ns, "scoped-kube-webshell", tmp_path / "scoped.kubeconfig")
    assert can_i(kube, "create", "pods/exec", "-n", "team-a") and can_i(kube, "list", "pods", "-n", "team-a")
    for other in ("team-b", "demo"):
        assert not can_i(kube, "create", "pods/exec", "-n", other)
        assert not can_i(kube, "get", "pods/exec", "-n", other)
        assert not can_i(kube, "list", "pods", "-n", other)
    assert not can_i(kube, "get", "secrets", "-n", "team-a") and not can_i(kube, "create", "pods", "-n", "team-a")
    assert not can_i(kube, "list", "namespaces")
    env = {e["name"]: e.get("value") for e in docs(text)[("Deployment", f"scoped-kube-webshell@{ns}")]
           ["spec"]["template"]["spec"]["containers"][0]["env"]}
    srv = ConsoleServer(kube, tmp_path / "instance", namespaces=env["KWS_NAMESPACES"]).start()
    try:
        http = login(srv)
        assert http.get(f"{srv.url}/api/clusters/kws-local/namespaces").json() == {"namespaces": ["team-a"]}
        rights = http.get(f"{srv.url}/api/clusters/kws-local/rights")
        assert rights.status_code == 200 and list(rights.json()["namespaces"]) == ["team-a"], rights.text
        preview = http.get(f"{srv.url}/api/admin/rules/preview", params={"user": "admin", "cluster": "kws-local"})
        assert list(preview.json()["namespaces"]) == ["team-a"], preview.text   # the admin's rules preview too
        pods = http.get(f"{srv.url}/api/clusters/kws-local/namespaces/team-a/pods")
        assert "shell-a" in [p["name"] for p in pods.json()["pods"]], pods.text
        t = Term(srv, http)
        try:
            sid = t.open(pod="shell-a", namespace="team-a")
            t.send(sid, "echo scoped-$((40+2))\n")
            t.wait_for(sid, "scoped-42")
            ack = t.call("open", {"cluster": "kws-local", "namespace": "team-b", "pod": "shell-b",
                                  "cols": 80, "rows": 24})
            assert not ack["ok"] and ack["error"]["code"] == "forbidden", ack
        finally:
            t.close()
    finally:
        srv.stop()


def test_debug_containers_need_only_patch_on_ephemeralcontainers(helm, installed, real_target, tmp_path):
    """rbac.debug=true, as the ServiceAccount, on the real node's distroless pod: patch, then pods get."""
    ns = "kws-debug"
    apply(installed, render(helm, "dbg", ns, "rbac.debug=true", "rbac.namespaces={%s}" % realpods.NAMESPACE), ns)
    kube, _ = sa_kubeconfig(installed, ns, "dbg-kube-webshell", tmp_path / "dbg.kubeconfig")
    assert can_i(kube, "patch", "pods/ephemeralcontainers", "-n", realpods.NAMESPACE)
    assert not can_i(kube, "get", "pods/ephemeralcontainers", "-n", realpods.NAMESPACE)
    srv = ConsoleServer(kube, tmp_path / "instance").start()
    try:
        t = Term(srv, login(srv))
        try:
            ack = t.call("debug", {"cluster": "kws-local", "namespace": realpods.NAMESPACE, "pod": "distroless",
                                   "container": "app", "cols": 100, "rows": 30}, timeout=90)
            assert ack["ok"], ack
            t.send(ack["session"], "echo debug-as-sa-$((40+2))\n")
            t.wait_for(ack["session"], "debug-as-sa-42")
        finally:
            t.close()
    finally:
        srv.stop()


def test_impersonation_adds_only_impersonate(helm, installed, tmp_path):
    ns = "kws-imp"
    apply(installed, render(helm, "imp", ns, "impersonate=true"), ns)
    kube, _ = sa_kubeconfig(installed, ns, "imp-kube-webshell", tmp_path / "imp.kubeconfig")
    assert can_i(kube, "impersonate", "users") and can_i(kube, "impersonate", "groups")
    assert not can_i(kube, "impersonate", "serviceaccounts") and not can_i(kube, "get", "secrets", "-n", "demo")


def test_impersonated_users_get_the_charts_namespaces_when_nobody_may_list(helm, installed, tmp_path):
    """impersonate=true, bound in team-a only, no namespace listing: alice (the cluster's RBAC lets her
    exec in team-a, not list namespaces) sees team-a and opens a shell there, as herself."""
    ns = "kws-imps"
    text = render(helm, "imps", ns, "impersonate=true", "rbac.namespaces={team-a}", "rbac.listNamespaces=false")
    apply(installed, text, ns)
    kube, _ = sa_kubeconfig(installed, ns, "imps-kube-webshell", tmp_path / "imps.kubeconfig")
    assert not can_i(kube, "list", "namespaces") and not can_i(kube, "list", "namespaces", "--as", "alice")
    env = {e["name"]: e.get("value") for e in docs(text)[("Deployment", f"imps-kube-webshell@{ns}")]
           ["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["KWS_IMPERSONATE"] == "1"
    srv = ConsoleServer(kube, tmp_path / "instance", impersonate=1, namespaces=env["KWS_NAMESPACES"]).start()
    try:
        add_user(srv, "alice", ["--exec"])
        alice = login(srv, "alice", PW)
        assert alice.get(f"{srv.url}/api/clusters/kws-local/namespaces").json() == {"namespaces": ["team-a"]}
        t = Term(srv, alice)
        try:
            sid = t.open(pod="shell-a", namespace="team-a")
            t.send(sid, "echo as-alice-$((40+2))\n")
            t.wait_for(sid, "as-alice-42")
        finally:
            t.close()
    finally:
        srv.stop()


def test_in_cluster_mode_uses_the_mounted_service_account(installed, tmp_path):
    """No kubeconfig; a token and ca.crt in a directory, as a pod sees them, and KUBERNETES_SERVICE_*."""
    _, token = sa_kubeconfig(installed, NS, "kube-webshell", tmp_path / "unused.kubeconfig")
    mount = tmp_path / "serviceaccount"
    mount.mkdir()
    (mount / "token").write_text(token)
    admin = json.loads(installed.admin_kubeconfig.read_text())["clusters"][0]["cluster"]
    shutil.copy(admin["certificate-authority"], mount / "ca.crt")
    (mount / "namespace").write_text(NS)
    host, port = admin["server"].removeprefix("https://").rsplit(":", 1)
    srv = ConsoleServer(tmp_path / "no-kubeconfig", tmp_path / "instance", service_account_dir=mount)
    srv.env.update(KUBERNETES_SERVICE_HOST=host, KUBERNETES_SERVICE_PORT=port)
    srv.env.pop("KWS_KUBECONFIG", None)
    srv.start()
    try:
        assert requests.get(f"{srv.url}/readyz", timeout=10).json()["clusters"] == {"in-cluster": "ok"}
        _terminal_and_files(srv, installed, cluster_name="in-cluster")
        # And it is the ServiceAccount acting: it may not read secrets, so neither can the console.
        assert not can_i(tmp_path / "unused.kubeconfig", "get", "secrets", "-n", "demo")
    finally:
        srv.stop()
