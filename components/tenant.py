"""Tenant: an isolated namespace for one internal team's agents.

Isolation is by default: a quota with no LoadBalancers or NodePorts, container
limits, a default-deny network policy in both directions with only DNS, gateway
ingress and Nacos egress opened, and RBAC scoped to the namespace.
"""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_kubernetes as k8s
from pydantic import BaseModel, ConfigDict

from models.settings import TenantSettings
from render.k8s_common import (
    LABEL_SANDBOX_PROFILE,
    LABEL_TENANT,
    LABEL_TIER,
    dns_egress_rule,
    restricted_namespace_labels,
    selector_labels,
    standard_labels,
)
from render.nacos import CLIENT_GRPC_PORT, HTTP_PORT

AGENT_SERVICE_ACCOUNT = "tenant-agents"


class TenantArgs(BaseModel):
    model_config = ConfigDict(frozen=True)

    settings: TenantSettings
    gateway_namespace: str
    nacos_namespace: str
    labels: dict[str, str] = {}


class Tenant(pulumi.ComponentResource):
    namespace: pulumi.Output[str]
    nacos_namespace_id: pulumi.Output[str]
    tier: str

    def __init__(self, name: str, args: TenantArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("agent-runtime:platform:Tenant", name, None, opts)
        t = args.settings
        ns_name = t.k8s_namespace
        self.tier = t.tier
        tenant_labels = {LABEL_TENANT: t.name, LABEL_TIER: t.tier}
        labels = standard_labels(t.name, "tenant", {**tenant_labels, **args.labels})
        child = pulumi.ResourceOptions(parent=self)

        namespace = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata={"name": ns_name, "labels": {**restricted_namespace_labels(), **labels}},
            opts=child,
        )
        opts_ns = pulumi.ResourceOptions(parent=self, depends_on=[namespace])

        k8s.core.v1.ResourceQuota(
            f"{name}-quota",
            metadata={"name": "tenant-quota", "namespace": ns_name, "labels": labels},
            spec={"hard": t.quota_hard()},
            opts=opts_ns,
        )
        d = t.container_defaults
        k8s.core.v1.LimitRange(
            f"{name}-limits",
            metadata={"name": "tenant-limits", "namespace": ns_name, "labels": labels},
            spec={
                "limits": [
                    {
                        "type": "Container",
                        "defaultRequest": {"cpu": d.default_request.cpu, "memory": d.default_request.memory},
                        "default": {"cpu": d.default_limit.cpu, "memory": d.default_limit.memory},
                        "max": {"cpu": d.max.cpu, "memory": d.max.memory},
                    }
                ]
            },
            opts=opts_ns,
        )

        self._network_policies(name, ns_name, labels, args, opts_ns)
        self._rbac(name, ns_name, labels, opts_ns)

        self.namespace = namespace.metadata.name
        self.nacos_namespace_id = pulumi.Output.from_input(t.nacos_namespace)
        self.register_outputs({"namespace": self.namespace, "nacos_namespace_id": self.nacos_namespace_id, "tier": t.tier})

    @staticmethod
    def _network_policies(name, ns_name, labels, args: TenantArgs, opts):
        def policy(suffix: str, spec: dict):
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{suffix}",
                metadata={"name": suffix, "namespace": ns_name, "labels": labels},
                spec=spec,
                opts=opts,
            )

        # sandbox pods run untrusted tools: the tenant-wide allowances below never apply to them
        not_sandbox = {"matchExpressions": [{"key": LABEL_SANDBOX_PROFILE, "operator": "DoesNotExist"}]}
        policy("default-deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
        policy("allow-dns", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [dns_egress_rule()]})
        policy(
            "allow-from-gateway",
            {
                "podSelector": not_sandbox,
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [
                            {
                                "namespaceSelector": {
                                    "matchLabels": {"kubernetes.io/metadata.name": args.gateway_namespace}
                                }
                            }
                        ]
                    }
                ],
            },
        )
        policy(
            "allow-to-nacos",
            {
                "podSelector": not_sandbox,
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [
                            {
                                "namespaceSelector": {
                                    "matchLabels": {"kubernetes.io/metadata.name": args.nacos_namespace}
                                },
                                "podSelector": {"matchLabels": selector_labels("nacos", "registry")},
                            }
                        ],
                        "ports": [
                            {"protocol": "TCP", "port": HTTP_PORT},
                            {"protocol": "TCP", "port": CLIENT_GRPC_PORT},
                        ],
                    }
                ],
            },
        )

    @staticmethod
    def _rbac(name, ns_name, labels, opts):
        """Agents may read their own namespace's config and report events - nothing else."""
        k8s.core.v1.ServiceAccount(
            f"{name}-agents-sa",
            metadata={"name": AGENT_SERVICE_ACCOUNT, "namespace": ns_name, "labels": labels},
            automount_service_account_token=False,
            opts=opts,
        )
        k8s.rbac.v1.Role(
            f"{name}-agents-role",
            metadata={"name": "tenant-agent", "namespace": ns_name, "labels": labels},
            rules=[
                {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]},
                {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
            ],
            opts=opts,
        )
        k8s.rbac.v1.RoleBinding(
            f"{name}-agents-binding",
            metadata={"name": "tenant-agent", "namespace": ns_name, "labels": labels},
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "tenant-agent"},
            # every service account of the tenant's namespace (one per agent) gets the same narrow role
            subjects=[
                {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": f"system:serviceaccounts:{ns_name}"}
            ],
            opts=opts,
        )
