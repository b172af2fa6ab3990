"""The gateway, rendered: Higress chart values and McpBridge registries, and the WasmPlugins that guard every agent route."""
