"""What the cluster lets the caller do in a namespace: one SelfSubjectRulesReview, read like RBAC reads it."""
from __future__ import annotations

from kubernetes import client

from .clusters import ClusterRegistry
from .headers import carries_token


def namespace_rules(reg: ClusterRegistry, cluster: str, namespace: str,
                    headers: dict[str, str] | None) -> list[dict]:
    """The resource rules the caller (the user, by the token in `headers`) has in `namespace`."""
    api = client.AuthorizationV1Api(reg.api_client(cluster, carries_token(headers)))
    body = client.V1SelfSubjectRulesReview(spec=client.V1SelfSubjectRulesReviewSpec(namespace=namespace))
    review = reg.call(cluster, f"ask what you may do in namespace '{namespace}'",
                      api.create_self_subject_rules_review, body, _headers=headers)
    return [{"verbs": r.verbs or [], "groups": r.api_groups or [], "resources": r.resources or [],
             "names": r.resource_names or []} for r in review.status.resource_rules or []]


def permits(rules: list[dict], verb: str, resource: str, group: str = "") -> bool:
    """Does any rule allow `verb` on every object of `resource` (a/sub) in `group`? Wildcards count."""
    top = resource.split("/")[0]
    for r in rules:
        if r["names"]:          # limited to some objects: not a right over the namespace
            continue
        if not ({verb, "*"} & set(r["verbs"]) and {group, "*"} & set(r["groups"])):
            continue
        if {resource, "*", f"{top}/*" if "/" in resource else resource} & set(r["resources"]):
            return True
    return False
