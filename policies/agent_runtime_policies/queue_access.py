"""Message-queue isolation: which topics and groups an agent's queue credential reaches.

The queue provider's resources (pulumi-python dynamic resources with `queueKind` Topic,
ConsumerGroup, User) say who owns what: a topic's `tenant`/`agent`, the callers it accepts
(`acceptsFrom`), a user's `tenant`/`agent` and its ACL `entries`. A credential may consume (Sub,
Get) only its own agent's topics and groups, and publish (Pub) to its own topics or to a topic
that lists it in `acceptsFrom` (the A2A rules the program derived it from). The agent's credential
Secret must live in its own tenant's namespace.
"""

from __future__ import annotations

from typing import Iterator, Optional

from .framework import stack_policy
from .model import DYNAMIC_PREFIX, L_TENANT, T_NAMESPACE, Res, as_dict, as_list, is_unknown

Found = Iterator[tuple[str, Optional[str]]]
T_SECRET = "kubernetes:core/v1:Secret"
L_QUEUE_USER = "agent-runtime.io/queue-user"
PUBLISH = {"Pub"}
DEAD_LETTERS = "%DLQ%"


def queue_resources(resources: list[Res], kind: str) -> list[Res]:
    return [r for r in resources if r.type.startswith(DYNAMIC_PREFIX) and r.props.get("queueKind") == kind]


def _owner(r: Res) -> tuple[object, object]:
    return r.props.get("tenant"), r.props.get("agent")


def _entry_problem(user: Res, resource: str, actions: set, topics: dict, groups: dict) -> Optional[str]:
    """Why one ACL entry reaches beyond what the user's agent may, or None."""
    tenant, agent = _owner(user)
    caller = f"{tenant}/{agent}"
    kind, _, name = resource.partition(":")
    if "*" in name or kind not in ("Topic", "Group"):
        return f"names {resource!r}: a queue credential must name each topic and group it uses (no wildcard, no cluster rights)"
    if kind == "Topic" and name.startswith(DEAD_LETTERS):
        # the broker makes %DLQ%<group> at the first dead letter: it belongs to the group's owner
        kind, name = "Group", name.removeprefix(DEAD_LETTERS)
    owners = topics if kind == "Topic" else groups
    target = owners.get(name)
    if target is None:
        return f"names {resource!r}, which this stack does not declare, so nobody can tell whose it is"
    if _owner(target) == (tenant, agent):
        return None
    if kind == "Topic" and actions <= PUBLISH and caller in as_list(target.props.get("acceptsFrom")):
        return None
    target_tenant, target_agent = _owner(target)
    where = "another tenant's" if target_tenant != tenant else "another agent's"
    if kind == "Topic" and actions <= PUBLISH:
        return (
            f"may publish to {where} topic {name!r} ({target_tenant}/{target_agent}), which does not accept {caller} "
            "(its acceptsFrom comes from the A2A rules of the skill)"
        )
    return f"may {'/'.join(sorted(actions))} {where} {kind.lower()} {name!r} ({target_tenant}/{target_agent}): only its owner consumes it"


def check_queue_acl_isolation(resources: list[Res], cfg: dict) -> Found:
    topics = {r.props.get("topic"): r for r in queue_resources(resources, "Topic")}
    groups = {r.props.get("group"): r for r in queue_resources(resources, "ConsumerGroup")}
    if any(is_unknown(k) for k in [*topics, *groups]):
        return
    for user in queue_resources(resources, "User"):
        entries = user.props.get("entries")
        if is_unknown(entries):
            continue
        for entry in as_list(entries):
            entry = as_dict(entry)
            resource, actions = entry.get("resource"), entry.get("actions")
            if is_unknown(resource) or is_unknown(actions) or entry.get("decision", "Allow") != "Allow":
                continue
            problem = _entry_problem(user, str(resource), set(as_list(actions)), topics, groups)
            if problem:
                yield (
                    f"queue user {user.props.get('username')!r} of {user.props.get('tenant')}/{user.props.get('agent')} "
                    f"[{user.urn}] {problem}. Fix: declare the call in the caller's a2aCalls and admit it in the "
                    "skill's access rule, or drop the entry.",
                    user.urn,
                )


def check_queue_credential_namespace(resources: list[Res], cfg: dict) -> Found:
    users = {u.props.get("username"): u for u in queue_resources(resources, "User")}
    tenant_namespaces = {
        as_dict(r.metadata.get("labels")).get(L_TENANT): r.metadata.get("name") for r in resources if r.type == T_NAMESPACE
    }
    for secret in (r for r in resources if r.type == T_SECRET and L_QUEUE_USER in r.labels):
        username = secret.labels[L_QUEUE_USER]
        user = users.get(username)
        if user is None or is_unknown(secret.namespace):
            continue
        expected = tenant_namespaces.get(user.props.get("tenant"))
        if expected is not None and secret.namespace != expected:
            yield (
                f"{secret.where()}: holds the queue credential of {username!r} (tenant {user.props.get('tenant')}) in "
                f"namespace {secret.namespace!r}, where other tenants' pods could mount it. Fix: keep it in {expected!r}.",
                secret.urn,
            )


POLICIES = [
    stack_policy(
        "queue-acl-tenant-isolation",
        "A queue credential consumes only its own agent's topics and groups, and publishes only where the A2A rules admit it.",
        check_queue_acl_isolation,
    ),
    stack_policy(
        "queue-credential-in-own-tenant",
        "An agent's queue credential Secret lives in its own tenant's namespace.",
        check_queue_credential_namespace,
    ),
]
