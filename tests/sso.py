"""Fixtures of the single sign-on tests: a real Dex (localcluster/oidc.py) and a console that trusts it."""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from kubernetes import client, config

from localcluster.oidc import CLIENT_ID, DexProvider

from .helpers import ROOT, ConsoleServer

PROVIDER = "dex"
LABEL = "Dex Test SSO"


@dataclass
class Sso:
    server: ConsoleServer
    dex: DexProvider

    def add_rule(self, *args: str) -> None:
        subprocess.run([sys.executable, "-m", "flask", "--app", "webshell", "add-rule", *args], cwd=ROOT,
                       env=self.server.env, check=True, capture_output=True, text=True)


def provider_settings(dex: DexProvider) -> str:
    return json.dumps([{"name": PROVIDER, "label": LABEL, "issuer": dex.issuer, "client_id": CLIENT_ID,
                        "client_secret": dex.client_secret, "ca_file": str(dex.ca_file)}])


def start_sso(kubeconfig: Path, directory: Path, start: bool = True, **env: str) -> Sso:
    """Dex with a client whose redirect URI is this console's, then the console (unless start=False)."""
    env.setdefault("oidc_group_roles", "team-a=team-a")
    srv = ConsoleServer(kubeconfig, directory / "instance", **env)
    dex = DexProvider(directory / "dex", redirect_uris=[f"{srv.url}/login/sso/{PROVIDER}/callback"]).start()
    srv.env["KWS_OIDC_PROVIDERS"] = provider_settings(dex)
    if not start:
        return Sso(srv, dex)
    try:
        srv.start()
    except BaseException:
        dex.stop()
        raise
    return Sso(srv, dex)


@pytest.fixture
def sso(cluster, tmp_path):
    s = start_sso(cluster.admin_kubeconfig, tmp_path)
    s.add_rule("--role", "team-a", "--clusters", "kws-local", "--namespaces", "team-a", "--exec")
    yield s
    s.server.stop()
    s.dex.stop()


def sign_in(page, sso: Sso, user: str) -> None:
    """Through the console's button and Dex's own login form, back to the console."""
    page.goto(f"{sso.server.url}/login")
    page.click(f"text=Sign in with {LABEL}")
    _wait(page, sso, lambda: page.wait_for_selector("input[name=login]"))   # Dex's own form, on Dex's origin
    assert page.url.startswith(sso.dex.issuer)
    page.fill("input[name=login]", f"{user}@example.test")
    page.fill("input[name=password]", sso.dex.passwords[user])
    page.click("button[type=submit]")
    _wait(page, sso, lambda: page.wait_for_url(f"{sso.server.url}/"))


def _wait(page, sso: Sso, step) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    try:
        step()
    except PlaywrightTimeout:
        raise AssertionError(f"stuck at {page.url}: {page.locator('body').inner_text()[:1000]}\n"
                             f"console log: {sso.server.log()[-2500:]}\n"
                             f"Dex log: {sso.dex.log_file.read_text()[-1500:]}") from None


def sign_in_http(sso: Sso, user: str) -> requests.Session:
    """The same login without a browser: the console's redirect, Dex's form posted, the callback followed."""
    http = requests.Session()
    http.trust_env = False    # else REQUESTS_CA_BUNDLE would win over `verify`
    http.verify = str(sso.dex.ca_file)
    form = http.get(f"{sso.server.url}/login/sso/{PROVIDER}")
    assert form.url.startswith(sso.dex.issuer) and 'name="login"' in form.text, form.url
    back = http.post(form.url, data={"login": f"{user}@example.test", "password": sso.dex.passwords[user]})
    assert back.url == f"{sso.server.url}/", f"login as {user} ended at {back.url}: {back.text[:300]}"
    return http


def _rbac(cluster) -> client.RbacAuthorizationV1Api:
    return client.RbacAuthorizationV1Api(config.new_client_from_config(str(cluster.admin_kubeconfig)))


@pytest.fixture
def bindings(cluster):
    """RBAC made by a test, removed after it."""
    made = []

    def bind(namespace: str, name: str, group: str) -> None:
        rbac = _rbac(cluster)
        if namespace != "team-a":   # team-a has the demo's Role `shell`
            rbac.create_namespaced_role(namespace, {"metadata": {"name": name}, "rules": [
                {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
                {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["get", "create"]}]})
            made.append(("role", namespace, name))
        rbac.create_namespaced_role_binding(namespace, {
            "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                        "name": "shell" if namespace == "team-a" else name},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}]})
        made.append(("binding", namespace, name))
    yield bind
    rbac = _rbac(cluster)
    for kind, ns, name in reversed(made):
        (rbac.delete_namespaced_role_binding if kind == "binding" else rbac.delete_namespaced_role)(name, ns)
