"""Several values of one header through a dict: each under another spelling of the name."""
from __future__ import annotations

from webshell.kube.headers import carries_token, values, with_values


def test_each_value_gets_its_own_spelling_and_the_server_sees_them_all():
    h = with_values({"Impersonate-User": "alice"}, "Impersonate-Group", ["devs", "team-a", "team-b"])
    assert len(h) == 4 and h["Impersonate-User"] == "alice" and h["Impersonate-Group"] == "devs"
    assert len({k.lower() for k in h}) == 2                 # one name, as HTTP (and Go) fold it
    assert values(h, "impersonate-group") == ["devs", "team-a", "team-b"]
    assert with_values({}, "Impersonate-Group", []) == {}


def test_a_bearer_header_means_the_users_own_token():
    assert carries_token({"Authorization": "Bearer x"})
    assert not carries_token({"Impersonate-User": "alice"}) and not carries_token(None)


def test_rbac_rules_are_read_with_wildcards_subresources_and_names():
    from webshell.kube.review import permits
    rules = [{"verbs": ["get", "list"], "groups": [""], "resources": ["pods", "pods/log"], "names": []},
             {"verbs": ["create"], "groups": [""], "resources": ["pods/exec"], "names": ["only-this"]},
             {"verbs": ["*"], "groups": ["apps"], "resources": ["*"], "names": []}]
    assert permits(rules, "list", "pods") and permits(rules, "get", "pods/log")
    assert not permits(rules, "create", "pods/exec")             # one named pod is no right over all
    assert not permits(rules, "list", "pods", "batch") and permits(rules, "delete", "deployments", "apps")
    assert permits([{"verbs": ["create"], "groups": ["*"], "resources": ["pods/*"], "names": []}],
                   "create", "pods/exec")


def test_a_bare_client_carries_none_of_the_consoles_credentials(tmp_path):
    import base64
    import json

    from webshell.kube.clusters import ClusterRegistry
    pem = base64.b64encode(b"-----BEGIN X-----\nAA==\n-----END X-----\n").decode()
    kc = tmp_path / "kubeconfig"
    kc.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": "u", "user": {"client-certificate-data": pem, "client-key-data": pem, "token": "console"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}))
    reg = ClusterRegistry(str(kc), 1.0)
    full, bare = reg.api_client("c").configuration, reg.api_client("c", bare=True).configuration
    assert full.cert_file and full.key_file and full.api_key
    assert (bare.cert_file, bare.key_file, bare.api_key) == (None, None, {})
    assert bare.host == full.host
    assert reg.core("c", {"Authorization": "Bearer user"}).api_client.configuration is bare
    assert reg.core("c", {"Impersonate-User": "alice"}).api_client.configuration is full
