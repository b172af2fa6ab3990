"""Sandboxes, rendered: the pods agents run dangerous tools in, their templates, policies and the quota over them.

Sandbox pods are never privileged, mount no service-account token and die after the
profile's TTL (`activeDeadlineSeconds`), which is also what scopes the quota to them:
Deployments cannot set a deadline.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from models.agent_spec import AgentCatalog
from models.settings import SandboxProfileSettings, StackConfig
from render.k8s_common import (
    LABEL_AGENT,
    LABEL_SANDBOX_PROFILE,
    LABEL_TENANT,
    dns_egress_rule,
    ip_block_egress_rule,
    restricted_container_security,
    restricted_pod_security,
    standard_labels,
)

SANDBOX_API = "extensions.agents.x-k8s.io/v1beta1"
RUNTIME_HANDLERS = {"gvisor": "runsc", "kata": "kata-qemu"}
# Kata boots a VM per pod: account for it so the scheduler and quotas see the real cost
RUNTIME_OVERHEAD = {"kata": {"cpu": "250m", "memory": "160Mi"}}
_SUFFIX = {"m": Decimal("0.001"), "": Decimal(1), "k": Decimal(10**3), "M": Decimal(10**6), "G": Decimal(10**9),
           "T": Decimal(10**12), "Ki": Decimal(2**10), "Mi": Decimal(2**20), "Gi": Decimal(2**30), "Ti": Decimal(2**40)}


class SandboxUsage(BaseModel):
    """One profile used in one tenant namespace, and by which agents."""

    model_config = ConfigDict(frozen=True)

    tenant: str
    namespace: str
    profile: SandboxProfileSettings
    agents: list[str]


def sandbox_usages(catalog: AgentCatalog, stack: StackConfig) -> list[SandboxUsage]:
    """Each (tenant, profile) pair some agent uses, with the agents that use it."""
    users: dict[tuple[str, str], list[str]] = {}
    for spec in catalog.agents:
        if spec.sandbox is not None:
            users.setdefault((spec.tenant, spec.sandbox.profile), []).append(spec.name)
    usages = []
    for (tenant_name, profile_name), agents in sorted(users.items()):
        tenant, profile = stack.tenant(tenant_name), stack.sandbox_profile(profile_name)
        assert tenant is not None and profile is not None, "specs are validated against the stack"
        usages.append(SandboxUsage(tenant=tenant_name, namespace=tenant.k8s_namespace, profile=profile, agents=agents))
    return usages


def _base_units(quantity: str) -> Decimal:
    for suffix in sorted(_SUFFIX, key=len, reverse=True):
        if suffix and quantity.endswith(suffix):
            return Decimal(quantity[: -len(suffix)]) * _SUFFIX[suffix]
    return Decimal(quantity)


def quota_for(usages: list[SandboxUsage]) -> dict[str, str]:
    """Hard limits for all sandboxes of one namespace: every profile at its maximum count.

    Only what a Terminating-scoped quota may hold (pods, cpu, memory).
    """
    pods = sum(u.profile.max_sandboxes for u in usages)

    def total(pick) -> Decimal:
        return sum((_base_units(pick(u.profile)) * u.profile.max_sandboxes for u in usages), Decimal(0))

    millicores = lambda d: f"{int(d * 1000)}m"  # noqa: E731
    mebibytes = lambda d: f"{int(d / _SUFFIX['Mi'])}Mi"  # noqa: E731
    return {
        "pods": str(pods),
        "requests.cpu": millicores(total(lambda p: p.resources.requests.cpu)),
        "requests.memory": mebibytes(total(lambda p: p.resources.requests.memory)),
        "limits.cpu": millicores(total(lambda p: p.resources.limits.cpu)),
        "limits.memory": mebibytes(total(lambda p: p.resources.limits.memory)),
        # No ephemeral-storage here: the API server refuses it in a quota scoped to Terminating
        # pods (seen on a real kube-apiserver 1.34). It is bounded anyway: every sandbox container
        # requests and limits its profile's ephemeral storage, and `pods` caps their number.
    }


def egress_rules(profile: SandboxProfileSettings) -> list[dict]:
    """Cluster DNS plus exactly the profile's allow-list."""
    return [dns_egress_rule(), *(ip_block_egress_rule(rule) for rule in profile.egress)]


def object_name(profile: SandboxProfileSettings) -> str:
    """The name of the profile's template, warm pool and network policy in a namespace."""
    return f"sandbox-{profile.name}"


def object_labels(usage: SandboxUsage, stack_labels: dict) -> dict:
    p = usage.profile
    return standard_labels(object_name(p), "sandbox", {LABEL_TENANT: usage.tenant, LABEL_SANDBOX_PROFILE: p.name, **stack_labels})


def _pod_labels(usage: SandboxUsage) -> dict:
    return {
        "app.kubernetes.io/name": object_name(usage.profile),
        "app.kubernetes.io/component": "sandbox",
        LABEL_TENANT: usage.tenant,
        LABEL_SANDBOX_PROFILE: usage.profile.name,
    }


def _from_agents(usage: SandboxUsage) -> list[dict]:
    """Only the agents that use the profile reach its sandboxes."""
    selector = {"matchExpressions": [{"key": LABEL_AGENT, "operator": "In", "values": sorted(usage.agents)}]}
    return [{"from": [{"podSelector": selector}]}]


def _pod_spec(p: SandboxProfileSettings) -> dict:
    """A sandbox pod: the profile's runtime and image, the restricted baseline, a TTL, scratch space only."""
    resources = {
        "requests": {"cpu": p.resources.requests.cpu, "memory": p.resources.requests.memory, "ephemeral-storage": p.ephemeral_storage},
        "limits": {"cpu": p.resources.limits.cpu, "memory": p.resources.limits.memory, "ephemeral-storage": p.ephemeral_storage},
    }
    return {
        "runtimeClassName": p.runtime,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "hostNetwork": False,
        "hostPID": False,
        "hostIPC": False,
        # the TTL: the kubelet ends the pod even if nobody releases the claim
        "activeDeadlineSeconds": p.ttl_seconds,
        "securityContext": restricted_pod_security(fs_group=False),
        "containers": [
            {
                "name": "sandbox",
                "image": p.image,
                "imagePullPolicy": "IfNotPresent",
                "resources": resources,
                "securityContext": restricted_container_security(),
                "volumeMounts": [
                    {"name": "workspace", "mountPath": "/workspace"},
                    {"name": "tmp", "mountPath": "/tmp"},
                ],
            }
        ],
        "volumes": [
            {"name": "workspace", "emptyDir": {"sizeLimit": p.ephemeral_storage}},
            {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}},
        ],
    }


def template_spec(usage: SandboxUsage) -> dict:
    """The SandboxTemplate: the pod, and the allow-list the controller enforces as well as the explicit policy."""
    return {
        "podTemplate": {"metadata": {"labels": _pod_labels(usage)}, "spec": _pod_spec(usage.profile)},
        # the controller enforces the same allow-list as the explicit policy below
        "networkPolicyManagement": "Managed",
        "networkPolicy": {"ingress": _from_agents(usage), "egress": egress_rules(usage.profile)},
    }


def network_policy_spec(usage: SandboxUsage) -> dict:
    """In: the agents that use the profile. Out: DNS and the profile's allow-list."""
    return {
        "podSelector": {"matchLabels": {LABEL_SANDBOX_PROFILE: usage.profile.name}},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": _from_agents(usage),
        "egress": egress_rules(usage.profile),
    }
