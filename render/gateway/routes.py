"""The agent routes as the gateway's security plugins see them, and who may call each.

A GatewayRoute is one agent Ingress (public chat or internal A2A); the plugins are matched
to routes by `<namespace>/<ingress>`. Agent identities are jwt-auth consumers named
`agent:<tenant>/<agent>`, each with an issuer of its own under the internal base issuer.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Literal, Mapping, Optional, Sequence

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from models.security import Tier

PUBLIC_PATH = "/api/v1/agents/{agent}/chat"
A2A_PATH = "/api/v1/internal/a2a/{agent}/{skill}"
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


class GatewayRoute(BaseModel):
    """One agent Ingress as the security layer sees it (built by the agents' ingress builder).

    kind `public`: `POST /api/v1/agents/{agent}/chat`; kind `a2a`:
    `/api/v1/internal/a2a/{agent}/{skill}` for its one skill, or the agent-wide
    `/api/v1/internal/a2a/{agent}` for all the agent's skills. The allow lists of an
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
        """The chat path, or the path of each skill served (an agent-wide route is at their common prefix)."""
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


def _parse_caller(entry: str, default_tenant: str) -> tuple[str, str]:
    tenant, _, agent = entry.rpartition("/")
    return (tenant or default_tenant), agent


def known_agents(routes: Sequence[GatewayRoute], extra_agents: Sequence[str]) -> set[tuple[str, str]]:
    """Every (tenant, agent) that has a route or is listed as an extra caller."""
    return {(r.tenant, r.agent) for r in routes} | {_parse_caller(e, "") for e in extra_agents}


def agent_identities(routes: Sequence[GatewayRoute], extra_agents: Sequence[str]) -> list[tuple[str, str]]:
    ids = known_agents(routes, extra_agents)
    ids |= {_parse_caller(entry, r.tenant) for r in routes for entry in r.allowed_caller_agents}
    return sorted(ids)


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
        known = known_agents(routes, extra_agents)
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
