"""GatewaySecurity: the WasmPlugins (and PodMonitors) that guard every agent route at the Higress entry.

What each plugin says is rendered in render/gateway/plugins.py; this component only
creates the objects, in the gateway namespace, with the stack's labels.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

import pulumi
import pulumi_kubernetes as k8s
from pydantic import BaseModel, ConfigDict

from models.security import GatewaySecuritySettings, Tier
from render.gateway.monitors import build_pod_monitors
from render.gateway.plugins import build_plugins
from render.gateway.route_tls import tls_for_public_routes
from render.gateway.routes import routes_from_descriptors


class GatewaySecurityArgs(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    settings: GatewaySecuritySettings
    environment: Literal["dev", "prod"]
    gateway_namespace: str = "higress-system"
    routes: list[Any] = []  # GatewayRoute or render.agent.routes.RouteDescriptor
    tiers: dict[str, Tier] = {}
    redis_service: Optional[str] = None  # overrides security.rateLimits.redisService when given
    redis_password: Optional[Any] = None  # pulumi.Input[str]; wrapped as a secret
    key_auth_credentials: dict[str, Any] = {}  # name -> pulumi.Input[str]; wrapped as secrets
    chart_creates_gateway_monitor: bool = False  # stack gateway.metrics: the chart's own PodMonitor
    labels: dict[str, str] = {}


class GatewaySecurity(pulumi.ComponentResource):
    """All WasmPlugins (and PodMonitors) guarding the agent routes at the Higress entry."""

    plugin_names: pulumi.Output[list]

    def __init__(self, name: str, args: GatewaySecurityArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("agent-runtime:platform:GatewaySecurity", name, None, opts)
        s = args.settings
        if args.redis_service and args.redis_service != s.rate_limits.redis_service:
            s = s.model_copy(update={"rate_limits": s.rate_limits.model_copy(update={"redis_service": args.redis_service})})
        try:
            routes = routes_from_descriptors(args.routes, args.tiers)
            plugins = build_plugins(
                s, args.environment, args.gateway_namespace, routes, args.tiers or None,
                redis_password=args.redis_password, key_auth_credentials=args.key_auth_credentials,
            )
            monitors = build_pod_monitors(s, args.gateway_namespace, routes, args.chart_creates_gateway_monitor)
        except KeyError as exc:
            raise pulumi.RunError(f"gateway security: no tier known for tenant {exc}") from None
        except ValueError as exc:
            raise pulumi.RunError(str(exc)) from None
        child = pulumi.ResourceOptions(parent=self)
        created = []
        for obj in plugins + monitors:
            meta = dict(obj["metadata"])
            meta["labels"] = {**args.labels, **meta["labels"]}
            created.append(
                k8s.apiextensions.CustomResource(
                    f"{name}-{obj['kind'].lower()}-{meta['name']}",
                    api_version=obj["apiVersion"],
                    kind=obj["kind"],
                    metadata=meta,
                    spec=obj["spec"],
                    opts=child,
                )
            )
        self.plugin_names = pulumi.Output.from_input([o["metadata"]["name"] for o in plugins])
        self.tls = tls_for_public_routes(s)
        self.register_outputs({"pluginNames": self.plugin_names})
