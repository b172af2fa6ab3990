"""SandboxRuntimes: isolated pods where agents run dangerous tools (shell, code, browser).

Per runtime a RuntimeClass (gVisor `runsc` or Kata); per tenant namespace and
sandbox profile its agents use: an agent-sandbox SandboxTemplate and
SandboxWarmPool, and a NetworkPolicy that admits only those agents and lets out
only the profile's egress allow-list; per tenant namespace a ResourceQuota over
sandbox pods. What each object says is rendered in render/sandbox.py.
"""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_kubernetes as k8s
from pydantic import BaseModel, ConfigDict

from models.agent_spec import AgentCatalog
from models.settings import SandboxProfileSettings, StackConfig
from render.k8s_common import LABEL_TENANT, standard_labels
from render.sandbox import (
    RUNTIME_HANDLERS,
    RUNTIME_OVERHEAD,
    SANDBOX_API,
    SandboxUsage,
    network_policy_spec,
    object_labels,
    object_name,
    quota_for,
    sandbox_usages,
    template_spec,
)


class SandboxRuntimesArgs(BaseModel):
    model_config = ConfigDict(frozen=True)

    profiles: list[SandboxProfileSettings]
    usages: list[SandboxUsage]
    labels: dict[str, str] = {}

    @classmethod
    def from_catalog(cls, catalog: AgentCatalog, stack: StackConfig) -> "SandboxRuntimesArgs":
        """The stack's profiles, and each (tenant, profile) pair some agent uses."""
        return cls(profiles=list(stack.sandbox_profiles), usages=sandbox_usages(catalog, stack), labels=stack.labels)


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
        """The profile's template, warm pool and network policy in one tenant namespace."""
        p, ns = usage.profile, usage.namespace
        metadata = {"name": object_name(p), "namespace": ns, "labels": object_labels(usage, labels)}
        template = k8s.apiextensions.CustomResource(
            f"{name}-{ns}-{p.name}-template",
            api_version=SANDBOX_API,
            kind="SandboxTemplate",
            metadata=metadata,
            spec=template_spec(usage),
            opts=opts,
        )
        k8s.apiextensions.CustomResource(
            f"{name}-{ns}-{p.name}-warmpool",
            api_version=SANDBOX_API,
            kind="SandboxWarmPool",
            metadata=metadata,
            spec={"replicas": p.warm_pool_size, "sandboxTemplateRef": {"name": object_name(p)}},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[template]),
        )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-{ns}-{p.name}-netpol",
            metadata=metadata,
            spec=network_policy_spec(usage),
            opts=opts,
        )
