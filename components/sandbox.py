"""SandboxRuntimes: isolated pods where agents run dangerous tools (shell, code, browser).

Per runtime a RuntimeClass (gVisor `runsc` or Kata); per tenant namespace and
sandbox profile its agents use: an agent-sandbox SandboxTemplate and
SandboxWarmPool, and a NetworkPolicy that admits only those agents and lets out
only the profile's egress allow-list; per tenant namespace a ResourceQuota over
sandbox pods. Sandbox pods are never privileged, mount no service-account
token and die after the profile's TTL (`activeDeadlineSeconds`), which is also
what scopes the quota to them: Deployments cannot set a deadline.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s
from pydantic import BaseModel, ConfigDict

from models.agent_spec import AgentCatalog
from models.settings import SandboxProfileSettings, StackConfig
from render.k8s_common import (
    LABEL_AGENT,
    LABEL_SANDBOX_PROFILE,
    LABEL_TENANT,
    dns_egress_rule,
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


class SandboxRuntimesArgs(BaseModel):
    model_config = ConfigDict(frozen=True)

    profiles: list[SandboxProfileSettings]
    usages: list[SandboxUsage]
    labels: dict[str, str] = {}

    @classmethod
    def from_catalog(cls, catalog: AgentCatalog, stack: StackConfig) -> "SandboxRuntimesArgs":
        """The stack's profiles, and each (tenant, profile) pair some agent uses."""
        users: dict[tuple[str, str], list[str]] = {}
        for spec in catalog.agents:
            if spec.sandbox is not None:
                users.setdefault((spec.tenant, spec.sandbox.profile), []).append(spec.name)
        usages = []
        for (tenant_name, profile_name), agents in sorted(users.items()):
            tenant, profile = stack.tenant(tenant_name), stack.sandbox_profile(profile_name)
            assert tenant is not None and profile is not None, "specs are validated against the stack"
            usages.append(SandboxUsage(tenant=tenant_name, namespace=tenant.k8s_namespace, profile=profile, agents=agents))
        return cls(profiles=list(stack.sandbox_profiles), usages=usages, labels=stack.labels)


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
    rules = [dns_egress_rule()]
    for rule in profile.egress:
        block = {"cidr": rule.cidr, **({"except": list(rule.except_)} if rule.except_ else {})}
        rules.append({"to": [{"ipBlock": block}], "ports": [{"protocol": rule.protocol, "port": p} for p in rule.ports]})
    return rules


class SandboxRuntimes(pulumi.ComponentResource):
    """RuntimeClasses, and the sandbox templates, warm pools, policies and quotas tenants use."""

    def __init__(self, name: str, args: SandboxRuntimesArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("agent-runtime:agents:SandboxRuntimes", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        for runtime in sorted({p.runtime for p in args.profiles}):
            extra: dict = {}
            if runtime in RUNTIME_OVERHEAD:
                extra["overhead"] = {"podFixed": RUNTIME_OVERHEAD[runtime]}
            k8s.node.v1.RuntimeClass(
                f"{name}-runtimeclass-{runtime}",
                metadata={"name": runtime, "labels": standard_labels(runtime, "sandbox-runtime", args.labels)},
                handler=RUNTIME_HANDLERS[runtime],
                **extra,
                opts=child,
            )

        by_ns: dict[str, list[SandboxUsage]] = {}
        for usage in args.usages:
            by_ns.setdefault(usage.namespace, []).append(usage)
            self._profile_in_namespace(name, usage, args.labels, child)
        for ns, usages in sorted(by_ns.items()):
            k8s.core.v1.ResourceQuota(
                f"{name}-{ns}-quota",
                metadata={
                    "name": "sandboxes",
                    "namespace": ns,
                    "labels": standard_labels("sandboxes", "sandbox", {LABEL_TENANT: usages[0].tenant, **args.labels}),
                },
                # Terminating = pods with activeDeadlineSeconds: sandboxes, never agent Deployments
                spec={"hard": quota_for(usages), "scopes": ["Terminating"]},
                opts=child,
            )
        self.register_outputs({"runtimes": sorted({p.runtime for p in args.profiles})})

    def _profile_in_namespace(self, name: str, usage: SandboxUsage, labels: dict, opts: pulumi.ResourceOptions) -> None:
        p, ns = usage.profile, usage.namespace
        obj_name = f"sandbox-{p.name}"
        meta_labels = standard_labels(obj_name, "sandbox", {LABEL_TENANT: usage.tenant, LABEL_SANDBOX_PROFILE: p.name, **labels})
        pod_labels = {
            "app.kubernetes.io/name": obj_name,
            "app.kubernetes.io/component": "sandbox",
            LABEL_TENANT: usage.tenant,
            LABEL_SANDBOX_PROFILE: p.name,
        }
        from_agents = [
            {"podSelector": {"matchExpressions": [{"key": LABEL_AGENT, "operator": "In", "values": sorted(usage.agents)}]}}
        ]
        ingress = [{"from": from_agents}]
        egress = egress_rules(p)
        resources = {
            "requests": {"cpu": p.resources.requests.cpu, "memory": p.resources.requests.memory, "ephemeral-storage": p.ephemeral_storage},
            "limits": {"cpu": p.resources.limits.cpu, "memory": p.resources.limits.memory, "ephemeral-storage": p.ephemeral_storage},
        }
        pod_spec = {
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
        template = k8s.apiextensions.CustomResource(
            f"{name}-{ns}-{p.name}-template",
            api_version=SANDBOX_API,
            kind="SandboxTemplate",
            metadata={"name": obj_name, "namespace": ns, "labels": meta_labels},
            spec={
                "podTemplate": {"metadata": {"labels": pod_labels}, "spec": pod_spec},
                # the controller enforces the same allow-list as the explicit policy below
                "networkPolicyManagement": "Managed",
                "networkPolicy": {"ingress": ingress, "egress": egress},
            },
            opts=opts,
        )
        k8s.apiextensions.CustomResource(
            f"{name}-{ns}-{p.name}-warmpool",
            api_version=SANDBOX_API,
            kind="SandboxWarmPool",
            metadata={"name": obj_name, "namespace": ns, "labels": meta_labels},
            spec={"replicas": p.warm_pool_size, "sandboxTemplateRef": {"name": obj_name}},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[template]),
        )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-{ns}-{p.name}-netpol",
            metadata={"name": obj_name, "namespace": ns, "labels": meta_labels},
            spec={
                "podSelector": {"matchLabels": {LABEL_SANDBOX_PROFILE: p.name}},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": ingress,
                "egress": egress,
            },
            opts=opts,
        )
