"""Pulumi resources for Nacos registry records, served by the dynamic providers in provider.py."""

from __future__ import annotations

from typing import Any, Optional

import pulumi
from pulumi.dynamic import Resource

from nacos_registry.provider import AgentCardProvider, ConfigItemProvider, McpServerProvider, NamespaceProvider, ReaderProvider


class NacosNamespace(Resource):
    """A Nacos namespace (one per tenant): the AI endpoints do not create it themselves."""


    def __init__(
        self,
        name: str,
        namespace_id: pulumi.Input[str],
        namespace_name: pulumi.Input[str],
        description: pulumi.Input[str] = "",
        opts: Optional[pulumi.ResourceOptions] = None,
    ):
        props = {
            "registryKind": "Namespace",
            "namespaceId": namespace_id,
            "namespaceName": namespace_name,
            "description": description,
        }
        super().__init__(NamespaceProvider(), name, props, opts)


class AgentCard(Resource):
    """An agent's A2A AgentCard, published (registrationType URL) in its tenant's Nacos namespace."""

    def __init__(
        self,
        name: str,
        namespace_id: pulumi.Input[str],
        card: dict[str, Any],
        opts: Optional[pulumi.ResourceOptions] = None,
    ):
        props = {
            "registryKind": "AgentCard",
            "namespaceId": namespace_id,
            "agentName": card.get("name"),
            "version": card.get("version"),
            "registrationType": "URL",
            "card": card,
            # output only: the versions this stack published (so `destroy` knows what it owns)
            "publishedVersions": None,
        }
        super().__init__(AgentCardProvider(), name, props, opts)


class McpServer(Resource):
    """A remote MCP server record in Nacos's MCP Registry."""

    def __init__(
        self,
        name: str,
        namespace_id: pulumi.Input[str],
        mcp_name: str,
        version: str,
        server_specification: dict[str, Any],
        endpoint_specification: Optional[dict[str, Any]] = None,
        tool_specification: Optional[dict[str, Any]] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
    ):
        props = {
            "registryKind": "McpServer",
            "namespaceId": namespace_id,
            "mcpName": mcp_name,
            "version": version,
            "serverSpecification": server_specification,
            "endpointSpecification": endpoint_specification,
            "toolSpecification": tool_specification,
        }
        super().__init__(McpServerProvider(), name, props, opts)


class NacosConfigItem(Resource):
    """A configuration item in a Nacos namespace: what agents subscribe to for live changes."""

    def __init__(
        self,
        name: str,
        namespace_id: pulumi.Input[str],
        group: str,
        data_id: str,
        content: pulumi.Input[str],
        description: str = "",
        opts: Optional[pulumi.ResourceOptions] = None,
    ):
        props = {
            "registryKind": "ConfigItem",
            "namespaceId": namespace_id,
            "group": group,
            "dataId": data_id,
            "content": content,
            "type": "json",
            "description": description,
        }
        super().__init__(ConfigItemProvider(), name, props, opts)


class NacosReader(Resource):
    """A Nacos user that may only read `resource` (`<namespace>:<group>:config/<pattern>`); its password is secret."""

    password: pulumi.Output[str]

    def __init__(self, name: str, username: str, resource: pulumi.Input[str], opts: Optional[pulumi.ResourceOptions] = None):
        props = {"registryKind": "Reader", "username": username, "resource": resource, "password": None}
        secret = pulumi.ResourceOptions(additional_secret_outputs=["password"])
        super().__init__(ReaderProvider(), name, props, pulumi.ResourceOptions.merge(opts, secret))
