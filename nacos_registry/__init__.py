"""Nacos registry records (namespaces, A2A AgentCards, MCP servers) as Pulumi resources."""

from nacos_registry.resources import AgentCard, McpServer, NacosNamespace

__all__ = ["AgentCard", "McpServer", "NacosNamespace"]
