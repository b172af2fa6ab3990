"""AgentRegistry: every tenant's Nacos namespace, agent AgentCards and MCP servers as Pulumi resources.

Registered through the dynamic providers in nacos_registry/, so `pulumi up`,
`refresh` and `destroy` keep Nacos true. Records wait for the NacosCluster (and
the provider itself waits, bounded, until Nacos answers a login) so a stack that
deploys Nacos can register into it in the same run.
"""

from __future__ import annotations

from typing import Optional
from urllib.parse import urlparse

import pulumi
from pydantic import BaseModel, ConfigDict

from models.agent_spec import AgentCatalog, McpServerSpec
from models.settings import StackConfig
from nacos_registry import AgentCard, McpServer, NacosNamespace
from render.agent.card import build_agent_card
from render.agent.queue import card_interface, queue_endpoints
from render.agent.routes import skill_callers_of
from render.gateway.higress import gateway_base_url
from render.queue_plan import QueuePlan

MCP_PROTOCOLS = {"sse": "mcp-sse", "streamable-http": "mcp-streamable"}
MCP_RECORD_VERSION = "1.0.0"


def mcp_server_record(spec: McpServerSpec) -> dict:
    """The Nacos MCP Registry shape of a remote MCP server declared under agents/mcp/."""
    url = urlparse(str(spec.url))
    protocol = MCP_PROTOCOLS[spec.protocol]
    port = url.port or (443 if url.scheme == "https" else 80)
    return {
        "serverSpecification": {
            "name": spec.name,
            "protocol": protocol,
            "frontProtocol": protocol,
            "description": spec.description or spec.name,
            "versionDetail": {"version": MCP_RECORD_VERSION},
            "remoteServerConfig": {"exportPath": url.path or "/"},
            "enabled": True,
        },
        "endpointSpecification": {
            "type": "DIRECT",
            "data": {"address": url.hostname, "port": str(port), "transportProtocol": url.scheme},
        },
        "toolSpecification": (
            {"tools": [{"name": t, "description": t, "inputSchema": {"type": "object"}} for t in spec.tools], "toolsMeta": {}}
            if spec.tools
            else None
        ),
    }


class AgentRegistryArgs(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    catalog: AgentCatalog
    stack: StackConfig
    nacos: pulumi.Resource
    # the agents' queue access: async agents' cards advertise their task topics
    queue_plan: Optional[QueuePlan] = None


class AgentRegistry(pulumi.ComponentResource):
    namespaces: dict[str, NacosNamespace]
    agent_cards: dict[str, AgentCard]

    def __init__(self, name: str, args: AgentRegistryArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("agent-runtime:registry:AgentRegistry", name, None, opts)
        stack, catalog = args.stack, args.catalog
        base_url = gateway_base_url(stack)
        after_nacos = pulumi.ResourceOptions(parent=self, depends_on=[args.nacos])

        self.namespaces = namespaces = {
            t.name: NacosNamespace(
                f"{name}-ns-{t.name}",
                namespace_id=t.nacos_namespace,
                namespace_name=t.nacos_namespace,
                description=f"agents of tenant {t.name} (managed by agent-runtime)",
                opts=after_nacos,
            )
            for t in stack.tenants
        }
        for server in catalog.mcp_servers.values():
            record = mcp_server_record(server)
            for tenant in server.tenants or [t.name for t in stack.tenants]:
                McpServer(
                    f"{name}-mcp-{tenant}-{server.name}",
                    namespace_id=stack.tenant(tenant).nacos_namespace,
                    mcp_name=server.name,
                    version=MCP_RECORD_VERSION,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[namespaces[tenant]]),
                    **{
                        "server_specification": record["serverSpecification"],
                        "endpoint_specification": record["endpointSpecification"],
                        "tool_specification": record["toolSpecification"],
                    },
                )
        endpoints = queue_endpoints(stack)
        access = args.queue_plan.access if args.queue_plan else {}
        async_interfaces = {s.name: card_interface(s, access.get(s.name), endpoints) for s in catalog.agents}
        self.agent_cards = {
            spec.name: AgentCard(
                f"{name}-card-{spec.name}",
                namespace_id=stack.tenant(spec.tenant).nacos_namespace,
                card=build_agent_card(spec, base_url, skill_callers_of(spec, catalog), async_interface=async_interfaces.get(spec.name)),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[namespaces[spec.tenant]]),
            )
            for spec in catalog.agents
        }
        self.register_outputs({"agents": sorted(self.agent_cards)})
