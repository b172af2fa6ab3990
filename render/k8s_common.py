"""Shared Kubernetes building blocks: labels, the restricted security baseline, cluster DNS egress.

Kept in one place so every workload the platform renders gets the same
restrictive defaults and the policy pack can check for exactly these.
"""

from __future__ import annotations

from typing import Optional

from models.settings import Resources, SandboxEgressRule

PART_OF = "agent-runtime"
LABEL_TENANT = "agent-runtime.io/tenant"
LABEL_TIER = "agent-runtime.io/tier"
LABEL_ROLE = "agent-runtime.io/role"
LABEL_SANDBOX_PROFILE = "agent-runtime.io/sandbox-profile"
# on agent pods: network policies of agents and sandboxes select them by it
LABEL_AGENT = "agent-runtime.io/agent"

# UID/GID used for every platform container: not root, not a system id.
NON_ROOT_UID = 10001


def standard_labels(name: str, component: str, extra: Optional[dict[str, str]] = None) -> dict[str, str]:
    """The recommended app.kubernetes.io labels, plus any extras."""
    labels = {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "pulumi",
    }
    if extra:
        labels.update(extra)
    return labels


def selector_labels(name: str, component: str) -> dict[str, str]:
    """The stable subset used in selectors (never add mutable labels here)."""
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/component": component}


def restricted_pod_security(fs_group: bool = True) -> dict:
    """Pod-level securityContext meeting the 'restricted' Pod Security Standard."""
    ctx = {
        "runAsNonRoot": True,
        "runAsUser": NON_ROOT_UID,
        "runAsGroup": NON_ROOT_UID,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    if fs_group:
        ctx["fsGroup"] = NON_ROOT_UID
        ctx["fsGroupChangePolicy"] = "OnRootMismatch"
    return ctx


def restricted_container_security() -> dict:
    """Container-level securityContext: no privilege, read-only root, no capabilities."""
    return {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def resources_dict(resources: Resources) -> dict:
    return {
        "requests": {"cpu": resources.requests.cpu, "memory": resources.requests.memory},
        "limits": {"cpu": resources.limits.cpu, "memory": resources.limits.memory},
    }


def restricted_namespace_labels() -> dict[str, str]:
    """Pod Security Admission: enforce 'restricted' on every namespace we own."""
    return {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
    }


def default_deny_spec() -> dict:
    """A NetworkPolicy spec denying all traffic in both directions to every pod of its namespace: the base others open up."""
    return {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def dns_egress_rule() -> dict:
    """Egress to cluster DNS (kube-dns / CoreDNS in kube-system)."""
    return {
        "to": [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
            }
        ],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    }


def ip_block_egress_rule(rule: SandboxEgressRule) -> dict:
    """Egress to one declared CIDR (less its exceptions) on the declared ports."""
    block = {"cidr": rule.cidr, **({"except": list(rule.except_)} if rule.except_ else {})}
    return {"to": [{"ipBlock": block}], "ports": [{"protocol": rule.protocol, "port": p} for p in rule.ports]}
