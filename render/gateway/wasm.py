"""The WasmPlugin object: the upstream plugins the platform pins, and the one shape every plugin object takes.

Versions, phases and priorities: plugin images as pinned by the Higress console
(higress-group/higress-console v2.2.4 `plugins.properties`, same as
shared/reference/higress.md); config fields as in each plugin's published spec
(console `spec.yaml`) and README/config parser in alibaba/higress v2.2.1. The JSON
schemas in render/gateway/plugin_schemas/ are derived from those and name their source.
"""

from __future__ import annotations

from typing import Any, Iterable, Literal, Optional

from pydantic import BaseModel, ConfigDict

PLUGIN_REGISTRY = "oci://higress-registry.cn-hangzhou.cr.aliyuncs.com/plugins"
WASMPLUGIN_API_VERSION = "extensions.higress.io/v1alpha1"
LABEL_AUTH = "agent-runtime.io/auth"
LABEL_PLUGIN = "agent-runtime.io/gateway-plugin"
CONSUMER_HEADER = "x-mse-consumer"  # set by jwt-auth / key-auth (upstream name)


class PluginSpec(BaseModel):
    """One upstream plugin: pinned image version and its upstream phase/priority."""

    model_config = ConfigDict(frozen=True)

    name: str  # image name under PLUGIN_REGISTRY
    version: str
    phase: Literal["AUTHN", "AUTHZ", "STATS", "UNSPECIFIED_PHASE"]
    priority: int

    @property
    def url(self) -> str:
        return f"{PLUGIN_REGISTRY}/{self.name}:{self.version}"


# Upstream phase "default" (console spec.yaml) is the CRD's UNSPECIFIED_PHASE.
PLUGINS: dict[str, PluginSpec] = {
    "jwt-auth": PluginSpec(name="jwt-auth", version="2.0.0", phase="AUTHN", priority=340),
    "key-auth": PluginSpec(name="key-auth", version="2.0.0", phase="AUTHN", priority=310),
    "ip-restriction": PluginSpec(name="ip-restriction", version="2.0.1", phase="AUTHN", priority=210),
    "waf": PluginSpec(name="waf", version="2.0.1", phase="AUTHZ", priority=330),
    # upstream: AUTHN 360, i.e. BEFORE jwt-auth. We run the guard in AUTHZ after the WAF so it
    # only ever sees authenticated, WAF-clean requests and can be told the consumer.
    "ext-auth": PluginSpec(name="ext-auth", version="2.0.1", phase="AUTHZ", priority=300),
    "ai-token-ratelimit": PluginSpec(name="ai-token-ratelimit", version="2.0.1", phase="UNSPECIFIED_PHASE", priority=600),
    "cluster-key-rate-limit": PluginSpec(
        name="cluster-key-rate-limit", version="2.0.1", phase="UNSPECIFIED_PHASE", priority=20
    ),
    "ai-statistics": PluginSpec(name="ai-statistics", version="2.0.1", phase="UNSPECIFIED_PHASE", priority=900),
}

# WasmPlugin object names (metadata.name) the GatewaySecurity component creates.
PLUGIN_PUBLIC_JWT = "ar-jwt-auth-public"
PLUGIN_INTERNAL_JWT = "ar-jwt-auth-internal"
PLUGIN_KEY_AUTH = "ar-key-auth-service"
PLUGIN_IP = "ar-ip-restriction"
PLUGIN_WAF = "ar-waf"
PLUGIN_GUARD = "ar-prompt-guard"
PLUGIN_TOKENS = "ar-ai-token-ratelimit"
PLUGIN_REQUESTS = "ar-request-ratelimit"
PLUGIN_TIER_CEILING = "ar-tier-ceiling"
PLUGIN_STATS = "ar-ai-statistics"


def ingress_rule(refs: Iterable[str], config: Any) -> dict:
    """One `matchRules` entry: this config on exactly these Ingresses."""
    return {"ingress": sorted(set(refs)), "config": config}


def wasm_plugin(
    name: str,
    plugin: str,
    namespace: str,
    match_rules: list[dict],
    *,
    default_config: Optional[dict] = None,
    fail_close: bool,
    labels: Optional[dict] = None,
    priority: Optional[int] = None,
) -> dict:
    """One WasmPlugin object of a pinned plugin; without `default_config` it acts only through its rules."""
    spec_def = PLUGINS[plugin]
    spec: dict[str, Any] = {
        "url": spec_def.url,
        "phase": spec_def.phase,
        "priority": priority if priority is not None else spec_def.priority,
        "failStrategy": "FAIL_CLOSE" if fail_close else "FAIL_OPEN",
        "imagePullPolicy": "IfNotPresent",
    }
    if default_config is not None:
        spec["defaultConfig"] = default_config
        spec["defaultConfigDisable"] = False
    else:
        spec["defaultConfigDisable"] = True
    spec["matchRules"] = match_rules
    return {
        "apiVersion": WASMPLUGIN_API_VERSION,
        "kind": "WasmPlugin",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {
                "app.kubernetes.io/name": "gateway-security",
                "app.kubernetes.io/component": "gateway-plugin",
                "app.kubernetes.io/part-of": "agent-runtime",
                "app.kubernetes.io/managed-by": "pulumi",
                LABEL_PLUGIN: plugin,
                **(labels or {}),
            },
        },
        "spec": spec,
    }
