"""The cluster decides as the SSO user: impersonation with the IdP groups, and token pass-through.

Both against the real local cluster and a real Dex; no browser (tests/test_e2e_sso.py has that).
"""
from __future__ import annotations

import sqlite3

import pytest

from localcluster.oidc import OIDC_PREFIX, OidcApiServer

from .helpers import Term, login
from .sso import bindings, sign_in_http, start_sso  # noqa: F401 - the fixture


def _stored_tokens(sso) -> list[tuple[bool, bool]]:
    with sqlite3.connect(sso.server.instance / "webshell.db") as c:
        return [(bool(i), bool(r)) for i, r in c.execute(
            "select i.id_token, i.refresh_token from oidc_identities i join users u on u.id = i.user_id "
            "where u.username = 'alice'")]


def _shell_answers(term: Term, session: str) -> None:
    term.send(session, "echo as-$((6*7))\n")
    term.wait_for(session, "as-42")


def test_token_pass_through_lets_the_clusters_rbac_decide(cluster, tmp_path, bindings):
    """No console rule, and the console's own identity may neither exec nor impersonate."""
    bindings("team-a", "oidc-team-a-shell", f"{OIDC_PREFIX}team-a")
    sso = None
    api = None
    try:
        # A margin longer than the token's life: every call refreshes it at Dex first.
        sso = start_sso(cluster.admin_kubeconfig, tmp_path, cluster_auth="kws-oidc=token", start=False,
                        oidc_refresh_margin="86400")
        api = OidcApiServer(cluster, sso.dex).start()
        sso.server.env["KUBECONFIG"] = str(api.kubeconfig)
        sso.server.start()
        alice_http = sign_in_http(sso, "alice")
        alice = Term(sso.server, alice_http)
        try:
            s = alice.open(cluster="kws-oidc", namespace="team-a", pod="shell-a")
            _shell_answers(alice, s)
            ack = alice.call("open", {"cluster": "kws-oidc", "namespace": "team-b", "pod": "shell-b",
                                      "cols": 80, "rows": 24})
            assert not ack["ok"] and ack["error"]["code"] == "forbidden", ack
            # What the page offers is the cluster's answer too (a rules review with her token).
            rights = alice_http.get(f"{sso.server.url}/api/clusters/kws-oidc/rights").json()["namespaces"]
            assert list(rights) == ["team-a"] and rights["team-a"]["exec"] and rights["team-a"]["logs"]
            assert not rights["team-a"]["debug"]
            assert sso.server.log().count("refreshed the ID token of alice at dex") >= 2, sso.server.log()[-2000:]
        finally:
            alice.close()
        # The console's own identity (used for admins) may not exec there: alice's right was her token's.
        admin = Term(sso.server, login(sso.server))
        try:
            ack = admin.call("open", {"cluster": "kws-oidc", "namespace": "team-a", "pod": "shell-a",
                                      "cols": 80, "rows": 24})
            assert not ack["ok"] and ack["error"]["code"] == "forbidden", ack
        finally:
            admin.close()
        # bob's token carries no group: the cluster refuses him team-a.
        bob = Term(sso.server, sign_in_http(sso, "bob"))
        try:
            ack = bob.call("open", {"cluster": "kws-oidc", "namespace": "team-a", "pod": "shell-a",
                                    "cols": 80, "rows": 24})
            assert not ack["ok"] and ack["error"]["code"] == "forbidden", ack
        finally:
            bob.close()

        # The provider away: no token now, but her login is kept for when it is back...
        alice = Term(sso.server, alice_http)
        try:
            sso.dex.stop()
            ack = alice.call("open", {"cluster": "kws-oidc", "namespace": "team-a", "pod": "shell-a",
                                      "cols": 80, "rows": 24})
            assert not ack["ok"] and "log in with single sign-on" in ack["error"]["message"], ack
            assert _stored_tokens(sso) == [(True, True)]
            # ...and a provider that no longer knows her refresh token ends the pass-through.
            sso.dex.start()
            ack = alice.call("open", {"cluster": "kws-oidc", "namespace": "team-a", "pod": "shell-a",
                                      "cols": 80, "rows": 24})
            assert not ack["ok"] and "log in with single sign-on" in ack["error"]["message"], ack
            assert _stored_tokens(sso) == [(False, False)]
            ack = alice.call("open", {"cluster": "kws-oidc", "namespace": "team-a", "pod": "shell-a",
                                      "cols": 80, "rows": 24})
            assert not ack["ok"] and "log in with single sign-on" in ack["error"]["message"], ack
        finally:
            alice.close()
    finally:
        if sso:
            sso.server.stop()
        if api:
            api.stop()
        if sso:
            sso.dex.stop()


def test_impersonation_passes_the_idp_groups(cluster, tmp_path, bindings):
    """team-b lets group team-a exec; alice is impersonated with her IdP group, bob has none.

    Her role (sso-devs, from the mapping) is a group too, but only the IdP group is bound.
    """
    bindings("team-b", "idp-team-a-shell", "team-a")
    sso = start_sso(cluster.admin_kubeconfig, tmp_path, impersonate="1", oidc_group_roles="team-a=sso-devs")
    try:
        sessions = {u: sign_in_http(sso, u) for u in ("alice", "bob")}   # the first login creates the user
        for user in ("alice", "bob"):
            sso.add_rule("--user", user, "--clusters", "kws-local", "--namespaces", "team-*", "--exec")
        alice = Term(sso.server, sessions["alice"])
        try:
            _shell_answers(alice, alice.open(namespace="team-b", pod="shell-b"))
        finally:
            alice.close()
        bob = Term(sso.server, sessions["bob"])
        try:
            ack = bob.call("open", {"cluster": "kws-local", "namespace": "team-b", "pod": "shell-b",
                                    "cols": 80, "rows": 24})
            assert not ack["ok"] and ack["error"]["code"] == "forbidden", ack
        finally:
            bob.close()
    finally:
        sso.server.stop()
        sso.dex.stop()
