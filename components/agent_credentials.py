"""AgentCredentials: the Secrets and ConfigMaps agents read, when the stack supplies them.

Model API keys, memory and MCP tokens come from the stack's secret `agentSecrets`
(`pulumi config set --secret --path agentSecrets.<tenant>.<secret>.<key> ...`) and become
Kubernetes Secrets in the tenant's namespace; their values stay Pulumi secrets (encrypted in
state, never printed). Prompts and other texts come from `agents.configMaps` and become
ConfigMaps. Objects created outside the stack are listed in `agents.externalSecrets` /
`agents.externalConfigMaps` instead; the agent spec check accepts either and refuses a
reference nothing provides.
"""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_kubernetes as k8s
from pydantic import BaseModel, ConfigDict

from render.k8s_common import LABEL_TENANT, standard_labels


class AgentCredentialsArgs(BaseModel):
    model_config = ConfigDict(frozen=True)

    # tenant -> its Kubernetes namespace
    namespaces: dict[str, str]
    # tenant -> Secret name -> key -> value (secret) and tenant -> ConfigMap name -> key -> text
    secrets: dict[str, dict[str, dict[str, str]]] = {}
    config_maps: dict[str, dict[str, dict[str, str]]] = {}
    labels: dict[str, str] = {}


class AgentCredentials(pulumi.ComponentResource):
    """One Secret or ConfigMap per supplied name, in its tenant's namespace."""

    by_tenant: dict[str, list[pulumi.Resource]]

    def __init__(self, name: str, args: AgentCredentialsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("agent-runtime:agents:AgentCredentials", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.by_tenant = {}
        for tenant, by_name in sorted(args.secrets.items()):
            for secret_name, data in sorted(by_name.items()):
                self.by_tenant.setdefault(tenant, []).append(
                    k8s.core.v1.Secret(
                        f"{name}-{tenant}-secret-{secret_name}",
                        metadata=self._metadata(secret_name, tenant, args),
                        type="Opaque",
                        string_data={k: pulumi.Output.secret(v) for k, v in sorted(data.items())},
                        opts=child,
                    )
                )
        for tenant, by_name in sorted(args.config_maps.items()):
            for map_name, data in sorted(by_name.items()):
                self.by_tenant.setdefault(tenant, []).append(
                    k8s.core.v1.ConfigMap(
                        f"{name}-{tenant}-configmap-{map_name}",
                        metadata=self._metadata(map_name, tenant, args),
                        data=dict(sorted(data.items())),
                        opts=child,
                    )
                )
        self.register_outputs({"tenants": sorted(self.by_tenant)})

    @staticmethod
    def _metadata(object_name: str, tenant: str, args: AgentCredentialsArgs) -> dict:
        return {
            "name": object_name,
            "namespace": args.namespaces[tenant],
            "labels": standard_labels(object_name, "agent-credentials", {LABEL_TENANT: tenant, **args.labels}),
        }
