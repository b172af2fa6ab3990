"""Who may pass the gateway: jwt-auth for end users and for agents, key-auth for service callers, IP lists.

The auth plugins keep their consumers in `defaultConfig` (they only accept consumers at
instance level) with `global_auth: false`, so each acts only on the routes listed in its
rules, each rule carrying an `allow` list. Every auth plugin fails closed.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

import pulumi

from models.security import GatewaySecuritySettings, IpList, IpRestrictionSettings, JwtIssuer, KeyAuthSettings
from render.gateway.routes import GatewayRoute, a2a_allowed_consumers, agent_consumer, agent_identities, agent_issuer, known_agents
from render.gateway.wasm import (
    LABEL_AUTH,
    PLUGIN_INTERNAL_JWT,
    PLUGIN_IP,
    PLUGIN_KEY_AUTH,
    PLUGIN_PUBLIC_JWT,
    ingress_rule,
    wasm_plugin,
)


def _by_ref(routes: Sequence[GatewayRoute]) -> list[GatewayRoute]:
    return sorted(routes, key=lambda r: r.ref)


def _jwt_plugin(name: str, audience: str, namespace: str, rules: list[dict], consumers: list[dict]) -> dict:
    """A jwt-auth plugin for one audience: its consumers at instance level, acting only through its rules."""
    return wasm_plugin(
        name, "jwt-auth", namespace, rules,
        default_config={"global_auth": False, "consumers": consumers},
        fail_close=True, labels={LABEL_AUTH: audience},
    )


def _issuer_consumer(issuer: JwtIssuer) -> dict:
    return {
        "name": issuer.name,
        "issuer": issuer.issuer,
        "jwks": issuer.jwks,
        "claims_to_headers": [c.model_dump() for c in issuer.claims_to_headers],
        "clock_skew_seconds": issuer.clock_skew_seconds,
        "keep_token": issuer.keep_token,
    }


def _public_allow(route: GatewayRoute, settings: GatewaySecuritySettings) -> list[str]:
    allow = [i.name for i in settings.public_auth.issuers if i.tenants is None or route.tenant in i.tenants]
    if not allow:
        raise ValueError(f"public route {route.ref}: no public issuer accepts tenant {route.tenant!r}")
    return allow


def public_jwt_plugin(settings: GatewaySecuritySettings, namespace: str, public: Sequence[GatewayRoute]) -> Optional[dict]:
    """End users: each public issuer is a consumer; a public route allows the issuers that accept its tenant."""
    if not public:
        return None
    consumers = [_issuer_consumer(i) for i in settings.public_auth.issuers]
    rules = [ingress_rule([r.ref], {"allow": _public_allow(r, settings)}) for r in _by_ref(public)]
    return _jwt_plugin(PLUGIN_PUBLIC_JWT, "public", namespace, rules, consumers)


def internal_jwt_plugin(
    settings: GatewaySecuritySettings, namespace: str, routes: Sequence[GatewayRoute], a2a: Sequence[GatewayRoute]
) -> Optional[dict]:
    """Agents calling agents: one consumer per agent identity; an A2A route allows the agents that may call it."""
    if not a2a:
        return None
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
    rules = [ingress_rule([r.ref], {"allow": a2a_allowed_consumers(r, routes, known=known)}) for r in _by_ref(a2a)]
    return _jwt_plugin(PLUGIN_INTERNAL_JWT, "internal", namespace, rules, consumers)


def _key_auth_allow(ka: KeyAuthSettings, route: GatewayRoute) -> list[str]:
    allow = [c.name for c in ka.consumers if c.tenants is None or route.tenant in c.tenants]
    if not allow:
        raise ValueError(f"gateway security: keyAuth route {route.ref}: no consumer may call it")
    return allow


def key_auth_plugin(
    ka: KeyAuthSettings,
    namespace: str,
    public: Sequence[GatewayRoute],
    credentials: Optional[Mapping[str, pulumi.Input[str]]],
) -> Optional[dict]:
    """Service callers: an API key as a second factor (after JWT) on the public routes of the listed agents."""
    if not ka.enabled:
        return None
    creds = dict(credentials or {})
    missing = [c.name for c in ka.consumers if c.name not in creds]
    if missing:
        raise ValueError(f"gateway security: keyAuth consumers {missing} have no credential in secret config gatewayKeyAuthCredentials")
    wanted = set(ka.agents)
    guarded = [r for r in public if f"{r.tenant}/{r.agent}" in wanted]
    if not guarded:
        return None
    consumers = [{"name": c.name, "credential": pulumi.Output.secret(creds[c.name])} for c in ka.consumers]
    rules = [ingress_rule([r.ref], {"allow": _key_auth_allow(ka, r)}) for r in _by_ref(guarded)]
    return wasm_plugin(
        PLUGIN_KEY_AUTH, "key-auth", namespace, rules,
        default_config={
            "global_auth": False, "consumers": consumers, "keys": list(ka.keys),
            "in_header": ka.in_header, "in_query": ka.in_query,
        },
        fail_close=True, labels={LABEL_AUTH: "service"},
    )


def _ip_rule(ipr: IpRestrictionSettings, lists: IpList, group: Sequence[GatewayRoute]) -> dict:
    config: dict[str, Any] = {"ip_source_type": ipr.ip_source_type, "status": ipr.status, "message": ipr.message}
    if ipr.ip_source_type == "header":
        config["ip_header_name"] = ipr.ip_header_name
    if lists.allow:
        config["allow"] = list(lists.allow)
    if lists.deny:
        config["deny"] = list(lists.deny)
    return ingress_rule([r.ref for r in group], config)


def ip_restriction_plugin(
    ipr: IpRestrictionSettings, namespace: str, public: Sequence[GatewayRoute], a2a: Sequence[GatewayRoute]
) -> Optional[dict]:
    """Allow and deny lists of client addresses, one for the public routes and one for the A2A routes."""
    rules = [_ip_rule(ipr, lists, group) for lists, group in ((ipr.public, public), (ipr.a2a, a2a)) if lists.active and group]
    return wasm_plugin(PLUGIN_IP, "ip-restriction", namespace, rules, fail_close=True) if rules else None
