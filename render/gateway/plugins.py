"""Every WasmPlugin guarding the agent routes at the Higress entry: authentication, WAF, prompt guard, rate limits and AI statistics.

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

Secrets: key-auth credentials and the Redis password are only ever taken as inputs
and wrapped with `pulumi.Output.secret` before they enter a WasmPlugin spec, so the
state stores them encrypted. (The WasmPlugin object itself still holds them in the
cluster, readable by anyone who can read WasmPlugins in the gateway namespace.)
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Iterable, Mapping, Optional, Sequence

import pulumi

from models.security import TIER_ORDER, GatewaySecuritySettings, RateLimitSettings, environment_problems
from render.gateway.routes import GatewayRoute, a2a_allowed_consumers, agent_consumer, agent_identities, agent_issuer, known_agents
from render.gateway.wasm import (
    LABEL_AUTH,
    PLUGIN_GUARD,
    PLUGIN_INTERNAL_JWT,
    PLUGIN_IP,
    PLUGIN_KEY_AUTH,
    PLUGIN_PUBLIC_JWT,
    PLUGIN_REQUESTS,
    PLUGIN_STATS,
    PLUGIN_TIER_CEILING,
    PLUGIN_TOKENS,
    PLUGIN_WAF,
    PLUGINS,
    ingress_rule,
    wasm_plugin,
)

CONSUMER_HEADER = "x-mse-consumer"  # set by jwt-auth / key-auth (upstream name)


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
        rules = [ingress_rule([r.ref], {"allow": _public_allow(r, settings)}) for r in sorted(public, key=lambda r: r.ref)]
        plugins.append(
            wasm_plugin(
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
            for t, a in agent_identities(routes, ia.extra_agents)
        ]
        known = known_agents(routes, ia.extra_agents)
        rules = [
            ingress_rule([r.ref], {"allow": a2a_allowed_consumers(r, routes, known=known)})
            for r in sorted(a2a, key=lambda r: r.ref)
        ]
        plugins.append(
            wasm_plugin(
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
                rules.append(ingress_rule([r.ref], {"allow": allow}))
            plugins.append(
                wasm_plugin(
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
            ip_rules.append(ingress_rule([r.ref for r in group], config))
    if ip_rules:
        plugins.append(wasm_plugin(PLUGIN_IP, "ip-restriction", namespace, ip_rules, fail_close=True))

    # ---- WAF (OWASP CRS) on public routes
    if settings.waf.enabled and public:
        rules_ = list(settings.waf.sec_rules)
        if settings.waf.mode == "detect":
            rules_.append("SecRuleEngine DetectionOnly")  # useCRS switches the engine On; this overrides it
        waf_config: dict[str, Any] = {"useCRS": True}
        if rules_:
            waf_config["secRules"] = rules_
        plugins.append(
            wasm_plugin(PLUGIN_WAF, "waf", namespace, [ingress_rule([r.ref for r in public], waf_config)],
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
            wasm_plugin(PLUGIN_GUARD, "ext-auth", namespace,
                         [ingress_rule([r.ref for r in guarded_routes], guard_config)],
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
            return ingress_rule(refs, config)

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
            plugins.append(wasm_plugin(PLUGIN_TOKENS, "ai-token-ratelimit", namespace, token_rules, fail_close=False))
        if request_rules:
            plugins.append(wasm_plugin(PLUGIN_REQUESTS, "cluster-key-rate-limit", namespace, request_rules, fail_close=False))
        # tier ceilings: all tenants of a lower tier share one bucket, so free traffic as a whole
        # cannot take the capacity premium traffic needs (premium: no ceiling by default)
        ceiling_rules = []
        for tier in TIER_ORDER:
            ceiling = rl.tiers[tier].tier_requests_per_second
            members = [r.ref for r in routes if r.tier == tier and r.kind == "public"]
            if ceiling and members:
                ceiling_rules.append(ingress_rule(members, {
                    "rule_name": f"ar-tier-ceiling-{tier}",
                    "global_threshold": {"query_per_second": ceiling},
                    "rejected_code": rl.rejected_code,
                    "rejected_msg": f"tier {tier} is at capacity, retry later",
                    "redis": redis,
                }))
        if ceiling_rules:
            plugins.append(wasm_plugin(PLUGIN_TIER_CEILING, "cluster-key-rate-limit", namespace, ceiling_rules,
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
            wasm_plugin(PLUGIN_STATS, "ai-statistics", namespace,
                         [ingress_rule([r.ref for r in routes], {
                             "attributes": attributes,
                             # agent paths are not OpenAI paths: the upstream default would skip them
                             "enable_path_suffixes": ["*"],
                         })], fail_close=False)
        )
    return plugins
