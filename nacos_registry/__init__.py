"""Nacos registry records (namespaces, A2A AgentCards, MCP servers, live configuration, readers) as Pulumi resources."""

from nacos_registry.resources import AgentCard, McpServer, NacosConfigItem, NacosNamespace, NacosReader

__all__ = ["AgentCard", "McpServer", "NacosConfigItem", "NacosNamespace", "NacosReader"]
