"""HigressGateway: the official Higress chart plus the McpBridge that discovers agents in Nacos.

Higress reads exactly one McpBridge (`default` in its own namespace). It gets one
`nacos3` registry entry per tenant Nacos namespace, always with an explicit group
list (an empty list silently discovers nothing) and credentials from a Secret.
"""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_kubernetes as k8s
from pydantic import BaseModel, ConfigDict

from components.chart_hardening import HIGRESS_CHART
from models.settings import GatewaySettings
from render.k8s_common import LABEL_ROLE, resources_dict, standard_labels

MCP_BRIDGE_NAME = "default"
REGISTRY_SECRET = "nacos-registry-credentials"
GATEWAY_SERVICE = "higress-gateway"
INGRESS_CLASS = "higress"
NANOS_PER_SECOND = 1_000_000_000


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


def chart_values(settings: GatewaySettings, extra: Optional[dict] = None) -> dict:
    """Values for the higress-core chart (nested under `higress-core` for the umbrella chart)."""
    gateway: dict = {
        "replicas": settings.replicas,
        "resources": resources_dict(settings.resources),
        "service": {"type": settings.service_type},
        "metrics": {"enabled": settings.metrics},
    }
    if settings.spread_across_nodes:
        gateway["topologySpreadConstraints"] = [
            {
                "maxSkew": 1,
                "topologyKey": "kubernetes.io/hostname",
                "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": {"app": "higress-gateway"}},
            },
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": {"app": "higress-gateway"}},
            },
        ]
    core = {
        **_hardening_values(settings),
        "global": {
            "ingressClass": INGRESS_CLASS,
            "enableRedis": settings.redis,
            "local": False,
            "defaultPodDisruptionBudget": {"enabled": settings.replicas > 1},
        },
        "gateway": gateway,
        **(extra or {}),
    }
    if settings.chart.name == "higress":
        return {"higress-core": core}
    return core


# the controller pod's two containers: the Higress controller and Istio's discovery (pilot)
CONTROLLER_RESOURCES = {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}}
DISCOVERY_RESOURCES = {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}}
REDIS_RESOURCES = {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}}


def _hardening_values(settings: GatewaySettings) -> dict:
    """What the chart's values can say about limits and security; components.chart_hardening does the rest.

    The controller container gets the securityContext the chart already gives discovery,
    its neighbour in the same pod (uid 1337, read-only root; it logs to the chart's
    /var/log emptyDir). The chart's own defaults leave discovery and Redis without limits.
    """
    return {
        "controller": {
            "replicas": settings.controller_replicas,
            "resources": CONTROLLER_RESOURCES,
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "runAsNonRoot": True,
                "runAsUser": 1337,
                "runAsGroup": 1337,
                "capabilities": {"drop": ["ALL"]},
                "seccompProfile": {"type": "RuntimeDefault"},
            },
        },
        "pilot": {"resources": DISCOVERY_RESOURCES},
        "redis": {"redis": {"resources": REDIS_RESOURCES}},
    }


def mcp_bridge_registries(
    settings: GatewaySettings, nacos_host: str, nacos_port: int, namespace_ids: list[str]
) -> list[dict]:
    """One nacos3 registry per tenant Nacos namespace."""
    d = settings.discovery
    return [
        {
            "type": "nacos3",
            "name": f"nacos-{ns_id.lower().replace('_', '-')}",
            "domain": nacos_host,
            "port": nacos_port,
            "nacosNamespaceId": ns_id,
            "nacosGroups": list(d.groups),
            "nacosRefreshInterval": d.refresh_interval_seconds * NANOS_PER_SECOND,
            "authSecretName": REGISTRY_SECRET,
            "enableMCPServer": True,
            "mcpServerBaseUrl": d.mcp_server_base_url,
        }
        for ns_id in namespace_ids
    ]


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
