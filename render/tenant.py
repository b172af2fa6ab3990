"""A tenant, rendered: the labels, quota, container limits, network policies and RBAC of one team's namespace.

Isolation is by default: everything is denied, then only DNS, gateway ingress and
Nacos egress are opened, and never for sandbox pods, which run untrusted tools.
"""

from __future__ import annotations

from models.settings import ContainerDefaults, TenantSettings
from render.k8s_common import (
    LABEL_SANDBOX_PROFILE,
    LABEL_TENANT,
    LABEL_TIER,
    default_deny_spec,
    dns_egress_rule,
    restricted_namespace_labels,
    standard_labels,
)
from render.nacos import nacos_client_egress_rule

AGENT_SERVICE_ACCOUNT = "tenant-agents"
AGENT_ROLE = "tenant-agent"


def tenant_labels(t: TenantSettings, extra: dict[str, str]) -> dict[str, str]:
    """Labels of every tenant object: tenant and tier mark it, e.g. for Nacos's tenant-namespace ingress rule."""
    return standard_labels(t.name, "tenant", {LABEL_TENANT: t.name, LABEL_TIER: t.tier, **extra})


def namespace_labels(labels: dict[str, str]) -> dict[str, str]:
    """The namespace enforces the restricted Pod Security Standard."""
    return {**restricted_namespace_labels(), **labels}


def quota_spec(t: TenantSettings) -> dict:
    """The tenant's hard quota (no LoadBalancers or NodePorts among it)."""
    return {"hard": t.quota_hard()}


def limit_range_spec(d: ContainerDefaults) -> dict:
    """Default requests and limits for containers that set none, and the most any container may ask."""
    return {
        "limits": [
            {
                "type": "Container",
                "defaultRequest": {"cpu": d.default_request.cpu, "memory": d.default_request.memory},
                "default": {"cpu": d.default_limit.cpu, "memory": d.default_limit.memory},
                "max": {"cpu": d.max.cpu, "memory": d.max.memory},
            }
        ]
    }


def not_sandbox() -> dict:
    """Every pod but sandbox pods: sandboxes run untrusted tools, so the tenant-wide allowances never apply to them."""
    return {"matchExpressions": [{"key": LABEL_SANDBOX_PROFILE, "operator": "DoesNotExist"}]}


def allow_dns_spec() -> dict:
    """Every pod, sandboxes too, may resolve names."""
    return {"podSelector": {}, "policyTypes": ["Egress"], "egress": [dns_egress_rule()]}


def allow_from_gateway_spec(gateway_namespace: str) -> dict:
    """The gateway may reach the tenant's agents."""
    return {
        "podSelector": not_sandbox(),
        "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": gateway_namespace}}}]}],
    }


def allow_to_nacos_spec(nacos_namespace: str) -> dict:
    """The tenant's agents may register with and discover through Nacos."""
    return {"podSelector": not_sandbox(), "policyTypes": ["Egress"], "egress": [nacos_client_egress_rule(nacos_namespace)]}


def network_policy_specs(gateway_namespace: str, nacos_namespace: str) -> dict[str, dict]:
    """The tenant's NetworkPolicies by name: default-deny first, then what it opens."""
    return {
        "default-deny": default_deny_spec(),
        "allow-dns": allow_dns_spec(),
        "allow-from-gateway": allow_from_gateway_spec(gateway_namespace),
        "allow-to-nacos": allow_to_nacos_spec(nacos_namespace),
    }


def agent_role_rules() -> list[dict]:
    """Agents may read their own namespace's config and report events - nothing else."""
    return [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
    ]


def agent_role_ref() -> dict:
    """The Role the tenant's agents are bound to."""
    return {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": AGENT_ROLE}


def agent_role_subjects(namespace: str) -> list[dict]:
    """Every service account of the tenant's namespace (one per agent) gets the same narrow role."""
    return [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": f"system:serviceaccounts:{namespace}"}]
