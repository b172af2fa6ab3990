"""GatewaySecurity: authentication, WAF, prompt guard, rate limits and AI statistics at the Higress entry.

Everything is a Higress `WasmPlugin` (extensions.higress.io/v1alpha1) in the gateway
namespace, with a pinned plugin image, and every plugin is matched - by
`matchRules[].ingress: ["<ns>/<ingress>"]` - to exactly the routes it guards. No plugin
has a global (empty-match) configuration that could guard, or fail to guard, a route
it should not:

* auth plugins (jwt-auth, key-auth) keep their consumers in `defaultConfig` (the
  plugins only accept consumers at instance level) with `global_auth: false`, so they
  act only on the routes listed in their rules, each rule carrying an `allow` list;
* every other plugin has `defaultConfigDisable: true` and its whole configuration in
  per-route rules.

Versions, phases and priorities: plugin images as pinned by the Higress console
(higress-group/higress-console v2.2.4 `plugins.properties`, same as
shared/reference/higress.md); config fields as in each plugin's published spec
(console `spec.yaml`) and README/config parser in alibaba/higress v2.2.1. The JSON
schemas in components/plugin_schemas/ are derived from those and name their source.

Secrets: key-auth credentials and the Redis password are only ever taken as inputs
and wrapped with `pulumi.Output.secret` before they enter a WasmPlugin spec, so the
state stores them encrypted. (The WasmPlugin object itself still holds them in the
cluster, readable by anyone who can read WasmPlugins in the gateway namespace.)
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from typing import Any, Iterable, Literal, Mapping, Optional, Sequence

import pulumi
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from models.security import TIER_ORDER, GatewaySecuritySettings, RateLimitSettings, Tier, environment_problems

# --------------------------------------------------------------------------- constants

PLUGIN_REGISTRY = "oci://higress-registry.cn-hangzhou.cr.aliyuncs.com/plugins"
WASMPLUGIN_API_VERSION = "extensions.higress.io/v1alpha1"
PODMONITOR_API_VERSION = "monitoring.coreos.com/v1"
LABEL_AUTH = "agent-runtime.io/auth"
LABEL_PLUGIN = "agent-runtime.io/gateway-plugin"
CONSUMER_HEADER = "x-mse-consumer"  # set by jwt-auth / key-auth (upstream name)
PUBLIC_PATH = "/api/v1/agents/{agent}/chat"
A2A_PATH = "/api/v1/internal/a2a/{agent}/{skill}"



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

# WasmPlugin object names (metadata.name) this component creates.
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

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


# --------------------------------------------------------------------------- route descriptors


class GatewayRoute(BaseModel):
    """One agent Ingress as the security layer sees it (built by the agents' ingress builder).

    kind `public`: `POST /api/v1/agents/{agent}/chat`; kind `a2a`:
    `/api/v1/internal/a2a/{agent}/{skill}` for the listed skills. The allow lists of an
    A2A route apply to every skill it serves: a skill with its own allow list needs its
    own Ingress (WasmPlugin rules match whole Ingresses, not paths).
    `allowed_caller_agents` entries are `<tenant>/<agent>` or `<agent>` (same tenant).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    ingress_namespace: str
    ingress_name: str
    kind: Literal["public", "a2a"]
    tenant: str
    tier: Tier
    agent: str
    skill_ids: tuple[str, ...] = ()
    allowed_caller_agents: tuple[str, ...] = ()
    allowed_caller_tenants: tuple[str, ...] = ()

    @field_validator("ingress_namespace", "ingress_name", "tenant", "agent")
    @classmethod
    def _dns(cls, value: str) -> str:
        if len(value) > 253 or not _NAME.match(value):
            raise ValueError(f"{value!r} is not a DNS-1123 name")
        return value

    @model_validator(mode="after")
    def _kind_fields(self) -> "GatewayRoute":
        if self.kind == "a2a" and not self.skill_ids:
            raise ValueError(f"a2a route {self.ref}: needs at least one skill id")
        if self.kind == "public" and (self.skill_ids or self.allowed_caller_agents or self.allowed_caller_tenants):
            raise ValueError(f"public route {self.ref}: skill ids and allowed callers only apply to a2a routes")
        return self

    @property
    def ref(self) -> str:
        """The WasmPlugin matchRules `ingress` reference."""
        return f"{self.ingress_namespace}/{self.ingress_name}"

    @property
    def paths(self) -> list[str]:
        if self.kind == "public":
            return [PUBLIC_PATH.format(agent=self.agent)]
        return [A2A_PATH.format(agent=self.agent, skill=s) for s in self.skill_ids]


def agent_consumer(tenant: str, agent: str) -> str:
    """Internal jwt-auth consumer name of an agent identity."""
    return f"agent:{tenant}/{agent}"


def agent_issuer(base_issuer: str, tenant: str, agent: str) -> str:
    """`iss` an agent's internal token carries. jwt-auth identifies a consumer by issuer
    (+ signature), so each agent gets its own issuer under the internal base issuer."""
    return f"{base_issuer.rstrip('/')}/{tenant}/{agent}"

# --------------------------------------------------------------------------- data for other builders


def tls_for_public_routes(settings: GatewaySecuritySettings) -> dict:
    """Annotations and `spec.tls` for the public agent Ingresses (built by the agents' ingress builder).

    Higress annotations verified in alibaba/higress v2.2.1 pkg/ingress/kube/annotations
    (redirect.go `ssl-redirect`, downstreamtls.go `tls-min-protocol-version`).
    """
    tls = settings.tls
    if tls.mode == "none":
        return {"annotations": {}, "tls": []}
    annotations: dict[str, str] = {"higress.io/tls-min-protocol-version": tls.min_version}
    if tls.ssl_redirect:
        annotations["higress.io/ssl-redirect"] = "true"
    if tls.mode == "certManager":
        if tls.cluster_issuer:
            annotations["cert-manager.io/cluster-issuer"] = tls.cluster_issuer
        else:
            annotations["cert-manager.io/issuer"] = str(tls.issuer)
    return {"annotations": annotations, "tls": [{"hosts": list(tls.hosts), "secretName": tls.secret_name}]}


def a2a_mtls_annotations(settings: GatewaySecuritySettings, ingress_namespace: str, sni: Optional[str] = None) -> dict:
    """Upstream (gateway -> agent) mTLS annotations for an A2A Ingress; empty when off.

    Verified in alibaba/higress v2.2.1 pkg/ingress/kube/annotations/upstreamtls.go:
    backend-protocol, proxy-ssl-secret (<ns>/<name>: client cert + key + ca.crt),
    proxy-ssl-verify (on|off), proxy-ssl-name, proxy-ssl-server-name (on|off).
    """
    m = settings.internal_mtls
    if not m.enabled:
        return {}
    out = {
        "higress.io/backend-protocol": "HTTPS",
        "higress.io/proxy-ssl-secret": f"{ingress_namespace}/{m.client_secret_name}",
        "higress.io/proxy-ssl-verify": "on" if m.verify else "off",
    }
    if sni:
        out["higress.io/proxy-ssl-name"] = sni
        out["higress.io/proxy-ssl-server-name"] = "on"
    return out


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


# --------------------------------------------------------------------------- plugin configs (pure)


def _ingress_rule(refs: Iterable[str], config: Any) -> dict:
    return {"ingress": sorted(set(refs)), "config": config}


def _wasm_plugin(
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


def _parse_caller(entry: str, default_tenant: str) -> tuple[str, str]:
    tenant, _, agent = entry.rpartition("/")
    return (tenant or default_tenant), agent


def _known_agents(routes: Sequence[GatewayRoute], extra_agents: Sequence[str]) -> set[tuple[str, str]]:
    """Every (tenant, agent) that has a route or is listed as an extra caller."""
    return {(r.tenant, r.agent) for r in routes} | {_parse_caller(e, "") for e in extra_agents}


def a2a_allowed_consumers(
    route: GatewayRoute,
    routes: Sequence[GatewayRoute],
    extra_agents: Sequence[str] = (),
    known: Optional[set[tuple[str, str]]] = None,
) -> list[str]:
    """Consumers (agent identities) allowed on one A2A route.

    Default: every agent of the target's tenant (including the target itself). Tenants in
    `allowed_caller_tenants` add their agents. `allowed_caller_agents` narrows to the listed
    agents; listing an agent of a tenant the target does not allow is an error (tenant
    boundaries are never crossed implicitly).
    """
    if known is None:  # callers deciding many routes pass it, computed once
        known = _known_agents(routes, extra_agents)
    tenants = {route.tenant, *route.allowed_caller_tenants}
    if route.allowed_caller_agents:
        callers = set()
        for entry in route.allowed_caller_agents:
            if "/" not in entry:
                # unqualified name: that agent in any tenant the target admits (the agents'
                # RouteDescriptor lists caller names and caller tenants separately)
                matches = {(t, a) for t, a in known if a == entry and t in tenants}
                callers |= matches or {(route.tenant, entry)}
                continue
            tenant, agent = _parse_caller(entry, route.tenant)
            if tenant not in tenants:
                raise ValueError(
                    f"a2a route {route.ref}: caller {tenant}/{agent} is in tenant {tenant!r}, which the target "
                    f"agent {route.tenant}/{route.agent} does not allow (allowedCallerTenants: {sorted(route.allowed_caller_tenants)})"
                )
            callers.add((tenant, agent))
    else:
        callers = {(t, a) for t, a in known if t in tenants}
    if not callers:
        raise ValueError(f"a2a route {route.ref}: no agent may call it (empty allow list)")
    return sorted(agent_consumer(t, a) for t, a in callers)


def routes_from_descriptors(descriptors: Iterable[Any], tiers: Mapping[str, str]) -> list[GatewayRoute]:
    """GatewayRoutes from the agents' `components.agent.RouteDescriptor`s (duck-typed: namespace,
    name, kind, tenant, agent, skill_ids, allowed_caller_agents, allowed_caller_tenants)."""
    out = []
    for d in descriptors:
        if isinstance(d, GatewayRoute):
            out.append(d)
            continue
        out.append(GatewayRoute(
            ingress_namespace=d.namespace, ingress_name=d.name, kind=d.kind, tenant=d.tenant,
            tier=tiers[d.tenant], agent=d.agent, skill_ids=tuple(d.skill_ids),
            allowed_caller_agents=tuple(d.allowed_caller_agents), allowed_caller_tenants=tuple(d.allowed_caller_tenants),
        ))
    return out


def _agent_identities(routes: Sequence[GatewayRoute], extra_agents: Sequence[str]) -> list[tuple[str, str]]:
    ids = _known_agents(routes, extra_agents)
    ids |= {_parse_caller(entry, r.tenant) for r in routes for entry in r.allowed_caller_agents}
    return sorted(ids)


def _public_allow(route: GatewayRoute, settings: GatewaySecuritySettings) -> list[str]:
    allow = [i.name for i in settings.public_auth.issuers if i.tenants is None or route.tenant in i.tenants]
    if not allow:
        raise ValueError(f"public route {route.ref}: no public issuer accepts tenant {route.tenant!r}")
    return allow


def _redis(rl: RateLimitSettings, password: Optional[pulumi.Input[str]]) -> dict:
    redis: dict[str, Any] = {"service_name": rl.redis_service, "service_port": rl.redis_port, "timeout": rl.redis_timeout_ms}
    if password is not None:
        redis["password"] = password
    return redis


def _by_tenant(routes: Iterable[GatewayRoute]) -> "OrderedDict[str, list[GatewayRoute]]":
    out: "OrderedDict[str, list[GatewayRoute]]" = OrderedDict()
    for r in sorted(routes, key=lambda r: (r.tenant, r.ref)):
        out.setdefault(r.tenant, []).append(r)
    return out


def build_plugins(
    settings: GatewaySecuritySettings,
    environment: str,
    namespace: str,
    routes: Sequence[GatewayRoute],
    tiers: Optional[Mapping[str, str]] = None,
    redis_password: Optional[pulumi.Input[str]] = None,
    key_auth_credentials: Optional[Mapping[str, pulumi.Input[str]]] = None,
) -> list[dict]:
    """Every WasmPlugin object (plain dicts; secret inputs stay Outputs). Raises ValueError."""
    problems = environment_problems(settings, environment)
    refs = [r.ref for r in routes]
    if len(set(refs)) != len(refs):
        problems.append(f"routes: an Ingress appears twice {sorted({x for x in refs if refs.count(x) > 1})}")
    for r in routes:
        if tiers is not None and tiers.get(r.tenant, r.tier) != r.tier:
            problems.append(f"route {r.ref}: tier {r.tier!r} but tenant {r.tenant!r} is {tiers[r.tenant]!r}")
    if problems:
        raise ValueError("gateway security: " + "; ".join(problems))

    public = [r for r in routes if r.kind == "public"]
    a2a = [r for r in routes if r.kind == "a2a"]
    plugins: list[dict] = []
    fail_close_env = environment == "prod"

    # ---- jwt-auth (public)
    if public:
        consumers = []
        for i in settings.public_auth.issuers:
            consumers.append(
                {
                    "name": i.name,
                    "issuer": i.issuer,
                    "jwks": i.jwks,
                    "claims_to_headers": [c.model_dump() for c in i.claims_to_headers],
                    "clock_skew_seconds": i.clock_skew_seconds,
                    "keep_token": i.keep_token,
                }
            )
        rules = [_ingress_rule([r.ref], {"allow": _public_allow(r, settings)}) for r in sorted(public, key=lambda r: r.ref)]
        plugins.append(
            _wasm_plugin(
                PLUGIN_PUBLIC_JWT, "jwt-auth", namespace, rules,
                default_config={"global_auth": False, "consumers": consumers},
                fail_close=True, labels={LABEL_AUTH: "public"},
            )
        )

    # ---- jwt-auth (internal, A2A)
    if a2a:
        ia = settings.internal_auth
        consumers = [
            {
                "name": agent_consumer(t, a),
                "issuer": agent_issuer(ia.issuer, t, a),
                "jwks": ia.jwks,
                "claims_to_headers": [{"claim": "sub", "header": "x-agent-runtime-caller", "override": True}],
                "clock_skew_seconds": ia.clock_skew_seconds,
                "keep_token": ia.keep_token,
            }
            for t, a in _agent_identities(routes, ia.extra_agents)
        ]
        known = _known_agents(routes, ia.extra_agents)
        rules = [
            _ingress_rule([r.ref], {"allow": a2a_allowed_consumers(r, routes, known=known)})
            for r in sorted(a2a, key=lambda r: r.ref)
        ]
        plugins.append(
            _wasm_plugin(
                PLUGIN_INTERNAL_JWT, "jwt-auth", namespace, rules,
                default_config={"global_auth": False, "consumers": consumers},
                fail_close=True, labels={LABEL_AUTH: "internal"},
            )
        )

    # ---- key-auth (service callers, second factor on selected public routes)
    ka = settings.key_auth
    if ka.enabled:
        creds = dict(key_auth_credentials or {})
        missing = [c.name for c in ka.consumers if c.name not in creds]
        if missing:
            raise ValueError(f"gateway security: keyAuth consumers {missing} have no credential in secret config gatewayKeyAuthCredentials")
        wanted = set(ka.agents)
        guarded = [r for r in public if f"{r.tenant}/{r.agent}" in wanted]
        if guarded:
            consumers = [{"name": c.name, "credential": pulumi.Output.secret(creds[c.name])} for c in ka.consumers]
            rules = []
            for r in sorted(guarded, key=lambda r: r.ref):
                allow = [c.name for c in ka.consumers if c.tenants is None or r.tenant in c.tenants]
                if not allow:
                    raise ValueError(f"gateway security: keyAuth route {r.ref}: no consumer may call it")
                rules.append(_ingress_rule([r.ref], {"allow": allow}))
            plugins.append(
                _wasm_plugin(
                    PLUGIN_KEY_AUTH, "key-auth", namespace, rules,
                    default_config={
                        "global_auth": False, "consumers": consumers, "keys": list(ka.keys),
                        "in_header": ka.in_header, "in_query": ka.in_query,
                    },
                    fail_close=True, labels={LABEL_AUTH: "service"},
                )
            )

    # ---- ip-restriction
    ipr = settings.ip_restriction
    ip_rules = []
    for kind, lists, group in (("public", ipr.public, public), ("a2a", ipr.a2a, a2a)):
        if lists.active and group:
            config: dict[str, Any] = {"ip_source_type": ipr.ip_source_type, "status": ipr.status, "message": ipr.message}
            if ipr.ip_source_type == "header":
                config["ip_header_name"] = ipr.ip_header_name
            if lists.allow:
                config["allow"] = list(lists.allow)
            if lists.deny:
                config["deny"] = list(lists.deny)
            ip_rules.append(_ingress_rule([r.ref for r in group], config))
    if ip_rules:
        plugins.append(_wasm_plugin(PLUGIN_IP, "ip-restriction", namespace, ip_rules, fail_close=True))

    # ---- WAF (OWASP CRS) on public routes
    if settings.waf.enabled and public:
        rules_ = list(settings.waf.sec_rules)
        if settings.waf.mode == "detect":
            rules_.append("SecRuleEngine DetectionOnly")  # useCRS switches the engine On; this overrides it
        waf_config: dict[str, Any] = {"useCRS": True}
        if rules_:
            waf_config["secRules"] = rules_
        plugins.append(
            _wasm_plugin(PLUGIN_WAF, "waf", namespace, [_ingress_rule([r.ref for r in public], waf_config)],
                         fail_close=fail_close_env)
        )

    # ---- prompt-injection guard (ext-auth to a self-hosted service)
    g = settings.guard
    guarded_routes = public + (a2a if g.apply_to_a2a else [])
    if g.is_enabled(environment) and guarded_routes:
        guard_config = {
            "http_service": {
                "endpoint_mode": "envoy",
                "endpoint": {"service_name": g.service_name, "service_port": g.service_port, "path_prefix": g.path_prefix},
                "timeout": g.timeout_ms,
                "authorization_request": {
                    "allowed_headers": [{"exact": CONSUMER_HEADER}, {"prefix": "x-a2a-"}, {"exact": "x-agent-runtime-subject"}],
                    "with_request_body": True,
                    "max_request_body_bytes": g.max_request_body_bytes,
                },
            },
            "failure_mode_allow": g.fails_open(environment),
            "status_on_error": 503,
        }
        plugins.append(
            _wasm_plugin(PLUGIN_GUARD, "ext-auth", namespace,
                         [_ingress_rule([r.ref for r in guarded_routes], guard_config)],
                         fail_close=not g.fails_open(environment))
        )

    # ---- rate limits
    rl = settings.rate_limits
    if rl.enabled and routes:
        redis = _redis(rl, None if redis_password is None else pulumi.Output.secret(redis_password))
        token_rules, request_rules = [], []

        def per_consumer(refs: list[str], name: str, unit: str, amount: int, message: str, quota_header: bool) -> dict:
            """One limit bucket per consumer on `refs`, counted in the gateway Redis."""
            config = {
                "rule_name": name,
                "rule_items": [{"limit_by_per_consumer": "", "limit_keys": [{"key": "*", unit: amount}]}],
                "rejected_code": rl.rejected_code,
                "rejected_msg": message,
                "redis": redis,
            }
            if quota_header:
                config["show_limit_quota_header"] = True
            return _ingress_rule(refs, config)

        for tenant, trs in _by_tenant(routes).items():
            tier = trs[0].tier
            limits = rl.tiers[tier]
            pub = [r.ref for r in trs if r.kind == "public"]
            internal = [r.ref for r in trs if r.kind == "a2a"]
            if pub:
                token_rules.append(per_consumer(pub, f"ar-tokens-{tier}-{tenant}", "token_per_minute",
                                                limits.tokens_per_minute, f"token budget of tier {tier} exhausted", False))
                request_rules.append(per_consumer(pub, f"ar-requests-{tier}-{tenant}", "query_per_minute",
                                                  limits.requests_per_minute, f"request rate of tier {tier} exceeded", True))
            if internal:
                request_rules.append(per_consumer(internal, f"ar-a2a-{tier}-{tenant}", "query_per_minute",
                                                  limits.a2a_requests_per_minute, f"A2A call rate of tier {tier} exceeded", True))
        if token_rules:
            plugins.append(_wasm_plugin(PLUGIN_TOKENS, "ai-token-ratelimit", namespace, token_rules, fail_close=False))
        if request_rules:
            plugins.append(_wasm_plugin(PLUGIN_REQUESTS, "cluster-key-rate-limit", namespace, request_rules, fail_close=False))
        # tier ceilings: all tenants of a lower tier share one bucket, so free traffic as a whole
        # cannot take the capacity premium traffic needs (premium: no ceiling by default)
        ceiling_rules = []
        for tier in TIER_ORDER:
            ceiling = rl.tiers[tier].tier_requests_per_second
            members = [r.ref for r in routes if r.tier == tier and r.kind == "public"]
            if ceiling and members:
                ceiling_rules.append(_ingress_rule(members, {
                    "rule_name": f"ar-tier-ceiling-{tier}",
                    "global_threshold": {"query_per_second": ceiling},
                    "rejected_code": rl.rejected_code,
                    "rejected_msg": f"tier {tier} is at capacity, retry later",
                    "redis": redis,
                }))
        if ceiling_rules:
            plugins.append(_wasm_plugin(PLUGIN_TIER_CEILING, "cluster-key-rate-limit", namespace, ceiling_rules,
                                        fail_close=False, priority=PLUGINS["cluster-key-rate-limit"].priority + 1))

    # ---- AI statistics (token/latency metrics per route, consumer and model; log + span attributes)
    st = settings.statistics
    if st.enabled and routes:
        def attr(key: str, source: str, value: str) -> dict:
            return {"key": key, "value_source": source, "value": value,
                    "apply_to_log": st.log_attributes, "apply_to_span": st.span_attributes}

        attributes = [
            attr("consumer", "request_header", CONSUMER_HEADER),
            attr("model", "request_body", st.model_json_path),
            attr("a2a_trace_id", "request_header", "x-a2a-trace-id"),
            attr("a2a_parent_agent", "request_header", "x-a2a-parent-agent"),
            attr("a2a_parent_request_id", "request_header", "x-a2a-parent-request-id"),
            attr("a2a_agent", "response_header", "x-a2a-agent-name"),
            attr("a2a_skill", "response_header", "x-a2a-skill-id"),
        ]
        plugins.append(
            _wasm_plugin(PLUGIN_STATS, "ai-statistics", namespace,
                         [_ingress_rule([r.ref for r in routes], {
                             "attributes": attributes,
                             # agent paths are not OpenAI paths: the upstream default would skip them
                             "enable_path_suffixes": ["*"],
                         })], fail_close=False)
        )
    return plugins


def build_pod_monitors(
    settings: GatewaySecuritySettings,
    namespace: str,
    routes: Sequence[GatewayRoute],
    chart_creates_gateway_monitor: bool = False,
) -> list[dict]:
    """PodMonitors (only with monitoring.prometheusOperator): gateway Envoy stats and agents."""
    m = settings.monitoring
    if not m.prometheus_operator:
        return []
    labels = {"app.kubernetes.io/part-of": "agent-runtime", "app.kubernetes.io/managed-by": "pulumi", **m.labels}
    out = []
    if not chart_creates_gateway_monitor:  # the chart creates one itself when gateway.metrics is on
        out.append({
            "apiVersion": PODMONITOR_API_VERSION, "kind": "PodMonitor",
            "metadata": {"name": "ar-higress-gateway", "namespace": namespace, "labels": labels},
            "spec": {
                "jobLabel": "app.kubernetes.io/name",
                # the higress-core chart's gateway selector labels (helm/core/templates/_helpers.tpl)
                "selector": {"matchLabels": {"app": "higress-gateway", "higress": f"{namespace}-higress-gateway"}},
                "namespaceSelector": {"matchNames": [namespace]},
                "podMetricsEndpoints": [{"port": "istio-prom", "path": "/stats/prometheus", "interval": m.interval}],
            },
        })
    agent_namespaces = sorted({r.ingress_namespace for r in routes})
    if agent_namespaces:
        out.append({
            "apiVersion": PODMONITOR_API_VERSION, "kind": "PodMonitor",
            "metadata": {"name": "ar-agents", "namespace": namespace, "labels": labels},
            "spec": {
                "selector": {"matchLabels": dict(m.agent_selector)},
                "namespaceSelector": {"matchNames": agent_namespaces},
                "podMetricsEndpoints": [{"port": m.agent_metrics_port, "path": m.agent_metrics_path, "interval": m.interval}],
            },
        })
    return out


# --------------------------------------------------------------------------- coverage checks (reusable)


def _plain_plugin(p: Any) -> dict:
    """Accept a plain object, Pulumi CustomResource inputs (mocks) or a harness `Registered`."""
    if hasattr(p, "inputs"):
        p = p.inputs
    return p


def _is_jwt(p: dict, audience: str) -> bool:
    spec = p.get("spec") or {}
    labels = (p.get("metadata") or {}).get("labels") or {}
    return f"/plugins/{PLUGINS['jwt-auth'].name}:" in str(spec.get("url", "")) and labels.get(LABEL_AUTH) == audience


def uncovered_routes(plugins: Iterable[Any], routes: Sequence[GatewayRoute]) -> list[str]:
    """Routes not guarded as they must be; empty when every route is covered.

    * a public route needs a `jwt-auth` plugin labelled `agent-runtime.io/auth: public`
      matching its Ingress with a non-empty `allow`;
    * an A2A route needs the same from a plugin labelled `internal`;
    * neither may be matched by the other audience's jwt-auth, and no jwt-auth may
      authenticate globally (`global_auth` must be false) or disable a rule.
    """
    plugs = [_plain_plugin(p) for p in plugins]
    problems: list[str] = []
    for p in plugs:
        for audience in ("public", "internal"):
            if _is_jwt(p, audience):
                dc = (p["spec"].get("defaultConfig") or {})
                if dc.get("global_auth") is not False:
                    problems.append(f"jwt-auth {p['metadata'].get('name')}: global_auth must be false")
                if p["spec"].get("failStrategy") != "FAIL_CLOSE":
                    problems.append(f"jwt-auth {p['metadata'].get('name')}: failStrategy must be FAIL_CLOSE")

    def guarded(route: GatewayRoute, audience: str) -> Optional[list]:
        for p in plugs:
            if not _is_jwt(p, audience):
                continue
            for rule in p["spec"].get("matchRules") or []:  # first matching rule wins
                if route.ref in (rule.get("ingress") or []):
                    if rule.get("configDisable"):
                        return None
                    return list((rule.get("config") or {}).get("allow") or [])
        return None

    for r in routes:
        need, forbid = ("public", "internal") if r.kind == "public" else ("internal", "public")
        allow = guarded(r, need)
        if allow is None:
            problems.append(f"{r.kind} route {r.ref}: not guarded by a jwt-auth plugin labelled {LABEL_AUTH}={need}")
        elif not allow:
            problems.append(f"{r.kind} route {r.ref}: jwt-auth rule has an empty allow list")
        if guarded(r, forbid) is not None:
            problems.append(f"{r.kind} route {r.ref}: also matched by the {forbid} jwt-auth plugin")
    return problems


def stray_matches(plugins: Iterable[Any], routes: Sequence[GatewayRoute]) -> list[str]:
    """Plugins matched to Ingresses that are not known routes, or with a global/empty match."""
    known = {r.ref for r in routes}
    problems = []
    for p in (_plain_plugin(x) for x in plugins):
        name = (p.get("metadata") or {}).get("name")
        spec = p.get("spec") or {}
        rules = spec.get("matchRules") or []
        if not rules:
            problems.append(f"{name}: no matchRules (would act globally or not at all)")
        for rule in rules:
            ingress = rule.get("ingress") or []
            if not ingress or rule.get("domain") or rule.get("service"):
                problems.append(f"{name}: a rule not matched by ingress")
            for ref in ingress:
                if ref not in known:
                    problems.append(f"{name}: matches unknown Ingress {ref}")
        if spec.get("defaultConfigDisable") is not True and (spec.get("defaultConfig") or {}).get("global_auth") is not False:
            problems.append(f"{name}: has an active global defaultConfig")
    return problems


# --------------------------------------------------------------------------- the component


class GatewaySecurityArgs(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    settings: GatewaySecuritySettings
    environment: Literal["dev", "prod"]
    gateway_namespace: str = "higress-system"
    routes: list[Any] = []  # GatewayRoute or components.agent.RouteDescriptor
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
        import pulumi_kubernetes as k8s  # lazy: keeps this module importable from config.py

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
