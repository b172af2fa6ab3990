"""The Higress gateway's chart values and the McpBridge registries that discover every tenant's Nacos namespace.

Higress reads exactly one McpBridge (`default` in its own namespace). It gets one
`nacos3` registry entry per tenant Nacos namespace, always with an explicit group
list (an empty list silently discovers nothing) and credentials from a Secret.
"""

from __future__ import annotations

from typing import Optional

from models.security import GatewaySecuritySettings
from models.settings import GatewaySettings, StackConfig
from render.k8s_common import resources_dict

MCP_BRIDGE_NAME = "default"
REGISTRY_SECRET = "nacos-registry-credentials"
GATEWAY_SERVICE = "higress-gateway"
INGRESS_CLASS = "higress"
NANOS_PER_SECOND = 1_000_000_000


def gateway_base_url(stack: StackConfig) -> str:
    """Where AgentCards and A2A calls reach the gateway: the stack's URL, else its Service inside the cluster."""
    return stack.agents.gateway_base_url or f"http://{GATEWAY_SERVICE}.{stack.gateway.namespace}.svc.cluster.local"


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


def gateway_chart_values(settings: GatewaySecuritySettings) -> dict:
    """Values to merge into the Higress chart for trace context (chart `tracing:` block).

    Access logs need nothing: the chart's default JSON access log already carries
    `ai_log` (ai-statistics log attributes), trace id, route and upstream.
    """
    t = settings.tracing
    if not t.enabled:
        return {}
    return {
        "tracing": {
            "enable": True,
            "sampling": t.sampling,
            "timeout": t.timeout_ms,
            t.provider: {"service": t.service, "port": str(t.port)},
        }
    }
