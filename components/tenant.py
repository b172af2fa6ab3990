"""Tenant: an isolated namespace for one internal team's agents.

Isolation is by default: a quota with no LoadBalancers or NodePorts, container
limits, a default-deny network policy in both directions with only DNS, gateway
ingress and Nacos egress opened, and RBAC scoped to the namespace. What each
object says is rendered in render/tenant.py; this component creates the objects.
"""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_kubernetes as k8s
from pydantic import BaseModel, ConfigDict

from models.settings import TenantSettings
from render.tenant import (
    AGENT_ROLE,
    AGENT_SERVICE_ACCOUNT,
    agent_role_ref,
    agent_role_rules,
    agent_role_subjects,
    limit_range_spec,
    namespace_labels,
    network_policy_specs,
    quota_spec,
    tenant_labels,
)


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
        labels = tenant_labels(t, args.labels)
        child = pulumi.ResourceOptions(parent=self)

        namespace = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata={"name": ns_name, "labels": namespace_labels(labels)},
            opts=child,
        )
        opts_ns = pulumi.ResourceOptions(parent=self, depends_on=[namespace])

        k8s.core.v1.ResourceQuota(
            f"{name}-quota",
            metadata={"name": "tenant-quota", "namespace": ns_name, "labels": labels},
            spec=quota_spec(t),
            opts=opts_ns,
        )
        k8s.core.v1.LimitRange(
            f"{name}-limits",
            metadata={"name": "tenant-limits", "namespace": ns_name, "labels": labels},
            spec=limit_range_spec(t.container_defaults),
            opts=opts_ns,
        )

        for policy_name, spec in network_policy_specs(args.gateway_namespace, args.nacos_namespace).items():
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{policy_name}",
                metadata={"name": policy_name, "namespace": ns_name, "labels": labels},
                spec=spec,
                opts=opts_ns,
            )
        self._rbac(name, ns_name, labels, opts_ns)

        self.namespace = namespace.metadata.name
        self.nacos_namespace_id = pulumi.Output.from_input(t.nacos_namespace)
        self.register_outputs({"namespace": self.namespace, "nacos_namespace_id": self.nacos_namespace_id, "tier": t.tier})

    @staticmethod
    def _rbac(name, ns_name, labels, opts):
        """The agents' service account, and the narrow Role every service account of the namespace is bound to."""
        k8s.core.v1.ServiceAccount(
            f"{name}-agents-sa",
            metadata={"name": AGENT_SERVICE_ACCOUNT, "namespace": ns_name, "labels": labels},
            automount_service_account_token=False,
            opts=opts,
        )
        k8s.rbac.v1.Role(
            f"{name}-agents-role",
            metadata={"name": AGENT_ROLE, "namespace": ns_name, "labels": labels},
            rules=agent_role_rules(),
            opts=opts,
        )
        k8s.rbac.v1.RoleBinding(
            f"{name}-agents-binding",
            metadata={"name": AGENT_ROLE, "namespace": ns_name, "labels": labels},
            role_ref=agent_role_ref(),
            subjects=agent_role_subjects(ns_name),
            opts=opts,
        )
