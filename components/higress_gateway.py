"""HigressGateway: the official Higress chart plus the McpBridge that discovers agents in Nacos.

The chart's values and the McpBridge's registries are rendered in render/gateway/higress.py;
this component installs the chart (hardened by components/chart_hardening.py) and creates
the namespace, the registry credentials Secret and the McpBridge.
"""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_kubernetes as k8s
from pydantic import BaseModel, ConfigDict

from components.chart_hardening import HIGRESS_CHART
from models.settings import GatewaySettings
from render.gateway.higress import GATEWAY_SERVICE, MCP_BRIDGE_NAME, REGISTRY_SECRET, chart_values, mcp_bridge_registries
from render.k8s_common import LABEL_ROLE, standard_labels


class HigressGatewayArgs(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    settings: GatewaySettings
    nacos_host: pulumi.Output
    nacos_port: int
    nacos_username: str
    nacos_password: pulumi.Output
    nacos_namespace_ids: list[str]
    # extra chart values owned by other parts (e.g. tracing from the gateway security settings)
    extra_values: dict = {}
    labels: dict[str, str] = {}


class HigressGateway(pulumi.ComponentResource):
    """The AI gateway: Helm release of the pinned official chart, Nacos discovery, registry credentials."""

    namespace: pulumi.Output[str]
    address: pulumi.Output[str]

    def __init__(self, name: str, args: HigressGatewayArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("agent-runtime:platform:HigressGateway", name, None, opts)
        s = args.settings
        labels = standard_labels("higress", "gateway", args.labels)
        child = pulumi.ResourceOptions(parent=self)

        namespace = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata={
                "name": s.namespace,
                "labels": {
                    **labels,
                    # the gateway data plane binds 80/443 and needs the chart's own securityContext
                    "pod-security.kubernetes.io/enforce": "baseline",
                    "pod-security.kubernetes.io/warn": "restricted",
                    LABEL_ROLE: "gateway",
                },
            },
            opts=child,
        )
        ns_opts = pulumi.ResourceOptions(parent=self, depends_on=[namespace])

        credentials = k8s.core.v1.Secret(
            f"{name}-nacos-credentials",
            metadata={"name": REGISTRY_SECRET, "namespace": s.namespace, "labels": labels},
            type="Opaque",
            string_data={
                "nacosUsername": pulumi.Output.secret(args.nacos_username),
                "nacosPassword": args.nacos_password,
            },
            opts=ns_opts,
        )

        chart_args: dict = {"namespace": s.namespace, "values": chart_values(s, args.extra_values)}
        if s.chart.local_path:
            chart_args["chart"] = s.chart.local_path
        else:
            chart_args.update(
                chart=s.chart.name,
                version=s.chart.version,
                repository_opts=k8s.helm.v4.RepositoryOptsArgs(repo=s.chart.repository),
            )
        chart = k8s.helm.v4.Chart(
            f"{name}-chart",
            **chart_args,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace], transforms=[HIGRESS_CHART]),
        )

        registries = args.nacos_host.apply(
            lambda host: mcp_bridge_registries(s, host, args.nacos_port, args.nacos_namespace_ids)
        )
        k8s.apiextensions.CustomResource(
            f"{name}-mcpbridge",
            api_version="networking.higress.io/v1",
            kind="McpBridge",
            metadata={"name": MCP_BRIDGE_NAME, "namespace": s.namespace, "labels": labels},
            spec={"registries": registries},
            # the chart installs the McpBridge CRD; the registry entries need the credentials Secret
            opts=pulumi.ResourceOptions(parent=self, depends_on=[chart, credentials]),
        )

        self.namespace = namespace.metadata.name
        self.address = pulumi.Output.from_input(f"{GATEWAY_SERVICE}.{s.namespace}.svc.cluster.local:80")
        self.register_outputs({"namespace": self.namespace, "address": self.address})
