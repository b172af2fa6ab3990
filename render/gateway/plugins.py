"""Every WasmPlugin guarding the agent routes at the Higress entry, in one fixed order.

Everything is a Higress `WasmPlugin` (extensions.higress.io/v1alpha1) in the gateway
namespace, with a pinned plugin image, and every plugin is matched - by
`matchRules[].ingress: ["<ns>/<ingress>"]` - to exactly the routes it guards. No plugin
has a global (empty-match) configuration that could guard, or fail to guard, a route
it should not. Who may pass is said in auth_plugins.py; what happens to a request that
passed, in traffic_plugins.py.

Secrets: key-auth credentials and the Redis password are only ever taken as inputs
and wrapped with `pulumi.Output.secret` before they enter a WasmPlugin spec, so the
state stores them encrypted. (The WasmPlugin object itself still holds them in the
cluster, readable by anyone who can read WasmPlugins in the gateway namespace.)
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

import pulumi

from models.security import GatewaySecuritySettings, environment_problems
from render.gateway.auth_plugins import internal_jwt_plugin, ip_restriction_plugin, key_auth_plugin, public_jwt_plugin
from render.gateway.routes import GatewayRoute
from render.gateway.traffic_plugins import guard_plugin, rate_limit_plugins, statistics_plugin, waf_plugin


def _input_problems(
    settings: GatewaySecuritySettings, environment: str, routes: Sequence[GatewayRoute], tiers: Optional[Mapping[str, str]]
) -> list[str]:
    """What the environment requires of the settings, and routes that repeat or contradict the tenants' tiers."""
    problems = environment_problems(settings, environment)
    refs = [r.ref for r in routes]
    if len(set(refs)) != len(refs):
        problems.append(f"routes: an Ingress appears twice {sorted({x for x in refs if refs.count(x) > 1})}")
    for r in routes:
        if tiers is not None and tiers.get(r.tenant, r.tier) != r.tier:
            problems.append(f"route {r.ref}: tier {r.tier!r} but tenant {r.tenant!r} is {tiers[r.tenant]!r}")
    return problems


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
    problems = _input_problems(settings, environment, routes, tiers)
    if problems:
        raise ValueError("gateway security: " + "; ".join(problems))
    public = [r for r in routes if r.kind == "public"]
    a2a = [r for r in routes if r.kind == "a2a"]
    plugins = [
        public_jwt_plugin(settings, namespace, public),
        internal_jwt_plugin(settings, namespace, routes, a2a),
        key_auth_plugin(settings.key_auth, namespace, public, key_auth_credentials),
        ip_restriction_plugin(settings.ip_restriction, namespace, public, a2a),
        waf_plugin(settings.waf, namespace, public, fail_close=environment == "prod"),
        guard_plugin(settings.guard, environment, namespace, public, a2a),
        *rate_limit_plugins(settings.rate_limits, namespace, routes, redis_password),
        statistics_plugin(settings.statistics, namespace, routes),
    ]
    return [p for p in plugins if p is not None]
