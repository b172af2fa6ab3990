"""Checks that every agent route is guarded as it must be and no plugin acts beyond the known routes.

Reused by the tests and the policy pack's reasoning: they read plain objects, Pulumi mock
inputs or harness registrations alike.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional, Sequence

from render.gateway.routes import GatewayRoute
from render.gateway.wasm import LABEL_AUTH, PLUGINS


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
