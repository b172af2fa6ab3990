"""What the gateway does with a request it let in: WAF, prompt guard, rate limits and AI statistics.

Each of these plugins has `defaultConfigDisable: true` and its whole configuration in
per-route rules, so it acts on exactly the routes it lists.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Iterable, Optional, Sequence

import pulumi

from models.security import TIER_ORDER, GuardSettings, RateLimitSettings, StatisticsSettings, WafSettings
from render.gateway.routes import GatewayRoute
from render.gateway.wasm import (
    CONSUMER_HEADER,
    PLUGIN_GUARD,
    PLUGIN_REQUESTS,
    PLUGIN_STATS,
    PLUGIN_TIER_CEILING,
    PLUGIN_TOKENS,
    PLUGIN_WAF,
    PLUGINS,
    ingress_rule,
    wasm_plugin,
)


def _refs(routes: Iterable[GatewayRoute]) -> list[str]:
    return [r.ref for r in routes]


def waf_plugin(waf: WafSettings, namespace: str, public: Sequence[GatewayRoute], fail_close: bool) -> Optional[dict]:
    """The OWASP Core Rule Set on the public routes (plus the stack's own directives)."""
    if not (waf.enabled and public):
        return None
    sec_rules = list(waf.sec_rules)
    if waf.mode == "detect":
        sec_rules.append("SecRuleEngine DetectionOnly")  # useCRS switches the engine On; this overrides it
    config: dict[str, Any] = {"useCRS": True}
    if sec_rules:
        config["secRules"] = sec_rules
    return wasm_plugin(PLUGIN_WAF, "waf", namespace, [ingress_rule(_refs(public), config)], fail_close=fail_close)


def guard_plugin(
    g: GuardSettings, environment: str, namespace: str, public: Sequence[GatewayRoute], a2a: Sequence[GatewayRoute]
) -> Optional[dict]:
    """The prompt-injection guard: ext-auth asks a self-hosted service about each request body."""
    guarded = list(public) + (list(a2a) if g.apply_to_a2a else [])
    if not (g.is_enabled(environment) and guarded):
        return None
    config = {
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
    return wasm_plugin(
        PLUGIN_GUARD, "ext-auth", namespace, [ingress_rule(_refs(guarded), config)], fail_close=not g.fails_open(environment)
    )


# --------------------------------------------------------------------------- rate limits


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


def _per_consumer_rule(
    rl: RateLimitSettings, redis: dict, refs: list[str], name: str, unit: str, amount: int, message: str, quota_header: bool
) -> dict:
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


def token_limit_plugin(rl: RateLimitSettings, namespace: str, routes: Sequence[GatewayRoute], redis: dict) -> Optional[dict]:
    """Each consumer's LLM token budget per minute on a tenant's public routes, as its tier allows."""
    rules = []
    for tenant, trs in _by_tenant(routes).items():
        tier = trs[0].tier
        public = _refs(r for r in trs if r.kind == "public")
        if public:
            rules.append(_per_consumer_rule(rl, redis, public, f"ar-tokens-{tier}-{tenant}", "token_per_minute",
                                            rl.tiers[tier].tokens_per_minute, f"token budget of tier {tier} exhausted", False))
    return wasm_plugin(PLUGIN_TOKENS, "ai-token-ratelimit", namespace, rules, fail_close=False) if rules else None


def request_limit_plugin(rl: RateLimitSettings, namespace: str, routes: Sequence[GatewayRoute], redis: dict) -> Optional[dict]:
    """Each consumer's requests per minute on a tenant's public routes, and each calling agent's on its A2A routes."""
    rules = []
    for tenant, trs in _by_tenant(routes).items():
        tier = trs[0].tier
        limits = rl.tiers[tier]
        public = _refs(r for r in trs if r.kind == "public")
        internal = _refs(r for r in trs if r.kind == "a2a")
        if public:
            rules.append(_per_consumer_rule(rl, redis, public, f"ar-requests-{tier}-{tenant}", "query_per_minute",
                                            limits.requests_per_minute, f"request rate of tier {tier} exceeded", True))
        if internal:
            rules.append(_per_consumer_rule(rl, redis, internal, f"ar-a2a-{tier}-{tenant}", "query_per_minute",
                                            limits.a2a_requests_per_minute, f"A2A call rate of tier {tier} exceeded", True))
    return wasm_plugin(PLUGIN_REQUESTS, "cluster-key-rate-limit", namespace, rules, fail_close=False) if rules else None


def tier_ceiling_plugin(rl: RateLimitSettings, namespace: str, routes: Sequence[GatewayRoute], redis: dict) -> Optional[dict]:
    """One shared bucket per lower tier, so free traffic as a whole cannot take the capacity premium needs.

    Premium has no ceiling by default.
    """
    rules = []
    for tier in TIER_ORDER:
        ceiling = rl.tiers[tier].tier_requests_per_second
        members = [r.ref for r in routes if r.tier == tier and r.kind == "public"]
        if ceiling and members:
            rules.append(ingress_rule(members, {
                "rule_name": f"ar-tier-ceiling-{tier}",
                "global_threshold": {"query_per_second": ceiling},
                "rejected_code": rl.rejected_code,
                "rejected_msg": f"tier {tier} is at capacity, retry later",
                "redis": redis,
            }))
    if not rules:
        return None
    return wasm_plugin(PLUGIN_TIER_CEILING, "cluster-key-rate-limit", namespace, rules,
                       fail_close=False, priority=PLUGINS["cluster-key-rate-limit"].priority + 1)


def rate_limit_plugins(
    rl: RateLimitSettings, namespace: str, routes: Sequence[GatewayRoute], redis_password: Optional[pulumi.Input[str]]
) -> list[dict]:
    """Token budgets, request rates and tier ceilings, all counted in the one gateway Redis."""
    if not (rl.enabled and routes):
        return []
    redis = _redis(rl, None if redis_password is None else pulumi.Output.secret(redis_password))
    plugins = [build(rl, namespace, routes, redis) for build in (token_limit_plugin, request_limit_plugin, tier_ceiling_plugin)]
    return [p for p in plugins if p is not None]


# --------------------------------------------------------------------------- statistics


def _attribute(st: StatisticsSettings, key: str, source: str, value: str) -> dict:
    return {"key": key, "value_source": source, "value": value,
            "apply_to_log": st.log_attributes, "apply_to_span": st.span_attributes}


def statistics_plugin(st: StatisticsSettings, namespace: str, routes: Sequence[GatewayRoute]) -> Optional[dict]:
    """Token and latency metrics per route, consumer and model, and the A2A trace as log and span attributes."""
    if not (st.enabled and routes):
        return None
    attributes = [
        _attribute(st, "consumer", "request_header", CONSUMER_HEADER),
        _attribute(st, "model", "request_body", st.model_json_path),
        _attribute(st, "a2a_trace_id", "request_header", "x-a2a-trace-id"),
        _attribute(st, "a2a_parent_agent", "request_header", "x-a2a-parent-agent"),
        _attribute(st, "a2a_parent_request_id", "request_header", "x-a2a-parent-request-id"),
        _attribute(st, "a2a_agent", "response_header", "x-a2a-agent-name"),
        _attribute(st, "a2a_skill", "response_header", "x-a2a-skill-id"),
    ]
    config = {
        "attributes": attributes,
        # agent paths are not OpenAI paths: the upstream default would skip them
        "enable_path_suffixes": ["*"],
    }
    return wasm_plugin(PLUGIN_STATS, "ai-statistics", namespace, [ingress_rule(_refs(routes), config)], fail_close=False)
