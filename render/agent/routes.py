"""An agent's gateway routes: one Higress Ingress for chat, one for A2A (if it exposes skills), and their canaries.

Canary versions are extra Ingresses with the `higress.io/canary*` annotations, so a
rollback is a weight change. The same plans give the Agent component its Ingresses and
the gateway security its RouteDescriptors, so the plugins guard exactly the routes made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from models.agent_spec import AgentCatalog, AgentSpec, ResolvedVersion
from models.settings import AgentsSettings, StackConfig
from render.agent.context import AgentContext
from render.agent.labels import LABEL_VERSION
from render.gateway.higress import INGRESS_CLASS

CHAT_PATH = "/api/v1/agents/{agent}/chat"
A2A_PATH = "/api/v1/internal/a2a/{agent}"
AGENT_CHAT_PATH = "/chat"  # the agent's own paths, after the gateway's rewrite
AGENT_A2A_PATH = "/a2a"
LABEL_ROUTE_KIND = "agent-runtime.io/route-kind"
SKIP_AWAIT = "pulumi.com/skipAwait"


@dataclass(frozen=True)
class RouteDescriptor:
    """One gateway route (a Higress Ingress): what the gateway-security work matches plugins to."""

    namespace: str
    name: str
    kind: Literal["public", "a2a"]
    tenant: str
    agent: str
    version: str
    canary: bool
    path: str
    allowed_caller_agents: tuple[str, ...] = ()
    allowed_caller_tenants: tuple[str, ...] = ()
    skill_ids: tuple[str, ...] = ()

    @property
    def ingress_ref(self) -> str:
        """`<ns>/<name>`, the form of a WasmPlugin `matchRules[].ingress` entry."""
        return f"{self.namespace}/{self.name}"


def backend_service(spec: AgentSpec, version: ResolvedVersion) -> str:
    """The Service a version's routes point at: the agent's own while it has one version, else the version's.

    Higress canaries split traffic between Ingress backends, so each version needs its own
    Service only while several are served.
    """
    return f"{spec.name}-{version.slug}" if len(spec.versions()) > 1 else spec.name


@dataclass(frozen=True)
class IngressPlan:
    """One Ingress to create: the route it serves, the Service behind it, its Higress annotations."""

    route: RouteDescriptor
    service: str
    annotations: dict


@dataclass(frozen=True)
class _RouteKind:
    """Chat or A2A: its path at the gateway, at the agent, and who may call it."""

    kind: Literal["public", "a2a"]
    suffix: str
    path: str
    annotations: dict
    allowed_caller_agents: tuple[str, ...] = ()
    allowed_caller_tenants: tuple[str, ...] = ()
    skill_ids: tuple[str, ...] = ()


def _route_annotations(spec: AgentSpec, rewrite: str) -> dict:
    """What every Ingress of the agent tells Higress: a streamed POST, rewritten to the agent's own path."""
    return {
        "higress.io/match-method": "POST",
        # chat is one exact path; A2A is a prefix (/<agent> and /<agent>/<skill>) rewritten to /a2a[/<skill>]
        "higress.io/rewrite-path": rewrite,
        # the route timeout bounds a whole SSE stream: keep it long
        "higress.io/timeout": str(spec.route.timeout_seconds),
        # a streamed POST must never be replayed on another pod
        "higress.io/proxy-next-upstream": "off",
        # tell any proxy in front of the gateway not to buffer the event stream
        "higress.io/response-header-control-update": "X-Accel-Buffering no",
        # Pulumi would wait for the gateway to publish its address in the Ingress status, which
        # Higress does only for an exposed gateway (a ClusterIP gateway never does: seen on the
        # real engine, every route then timed out after 10 min). The API server's acceptance is
        # the route's readiness; the gateway reads it from there.
        SKIP_AWAIT: "true",
    }


def _route_kinds(spec: AgentSpec, callers: list[tuple[str, str]]) -> list[_RouteKind]:
    """Chat, and A2A when the agent exposes skills (only A2A routes name callers and skills)."""
    kinds = [_RouteKind("public", "chat", CHAT_PATH.format(agent=spec.name), _route_annotations(spec, AGENT_CHAT_PATH))]
    if spec.a2a_skills:
        kinds.append(
            _RouteKind(
                "a2a",
                "a2a",
                A2A_PATH.format(agent=spec.name),
                _route_annotations(spec, AGENT_A2A_PATH),
                # qualified: a same-named agent in another allowed tenant is not a caller
                allowed_caller_agents=tuple(sorted({f"{t}/{a}" for a, t in callers})),
                allowed_caller_tenants=tuple(sorted({t for _, t in callers})),
                skill_ids=tuple(s.id for s in spec.a2a_skills),
            )
        )
    return kinds


def _canaries(spec: AgentSpec, versions: list[ResolvedVersion], suffix: str) -> list[tuple[str, ResolvedVersion, dict]]:
    """Name, version and canary annotations of each Ingress beside the primary's: by weight, header or cookie."""
    out = []
    for v in versions:
        if v.primary:
            continue
        if v.weight > 0:
            out.append((
                f"{spec.name}-{suffix}-canary-{v.slug}",
                v,
                {
                    "higress.io/canary": "true",
                    "higress.io/canary-weight": str(v.weight),
                    "higress.io/canary-weight-total": "100",
                },
            ))
        if v.match is not None and v.match.header is not None:
            out.append((
                f"{spec.name}-{suffix}-canary-{v.slug}-by-header",
                v,
                {
                    "higress.io/canary": "true",
                    "higress.io/canary-by-header": v.match.header.name,
                    "higress.io/canary-by-header-value": v.match.header.value,
                },
            ))
        elif v.match is not None and v.match.cookie is not None:
            out.append((
                f"{spec.name}-{suffix}-canary-{v.slug}-by-cookie",
                v,
                {"higress.io/canary": "true", "higress.io/canary-by-cookie": v.match.cookie},
            ))
    return out


def _plan(spec: AgentSpec, namespace: str, route: _RouteKind, name: str, version: ResolvedVersion, canary: dict) -> IngressPlan:
    return IngressPlan(
        RouteDescriptor(
            namespace=namespace,
            name=name,
            kind=route.kind,
            tenant=spec.tenant,
            agent=spec.name,
            version=version.version,
            canary=bool(canary),
            path=route.path,
            allowed_caller_agents=route.allowed_caller_agents,
            allowed_caller_tenants=route.allowed_caller_tenants,
            skill_ids=route.skill_ids,
        ),
        service=backend_service(spec, version),
        annotations={**route.annotations, **canary},
    )


def route_plans(
    spec: AgentSpec, namespace: str, settings: AgentsSettings, callers: list[tuple[str, str]]
) -> list[IngressPlan]:
    """Every Ingress of an agent: chat, A2A (if it exposes skills) and their canaries.

    `callers` are (agent, tenant) pairs; `settings` does not change the plan.
    """
    versions = spec.versions()
    primary = next(v for v in versions if v.primary)
    plans = []
    for route in _route_kinds(spec, callers):
        plans.append(_plan(spec, namespace, route, f"{spec.name}-{route.suffix}", primary, {}))
        plans += [_plan(spec, namespace, route, name, v, canary) for name, v, canary in _canaries(spec, versions, route.suffix)]
    return plans


def callers_of(spec: AgentSpec, catalog: AgentCatalog) -> list[tuple[str, str]]:
    """The (agent, tenant) pairs that call this agent."""
    return [(c.name, c.tenant) for c in catalog.callers_of(spec.name)]


def route_descriptors(catalog: AgentCatalog, stack: StackConfig) -> list[RouteDescriptor]:
    """Every agent route the program creates (same planner the Agent component uses)."""
    routes: list[RouteDescriptor] = []
    for spec in catalog.agents:
        tenant = stack.tenant(spec.tenant)
        assert tenant is not None, "specs are validated against the stack's tenants"
        routes += [p.route for p in route_plans(spec, tenant.k8s_namespace, stack.agents, callers_of(spec, catalog))]
    return routes


def ingress(plan: IngressPlan, context: AgentContext, labels: dict) -> dict:
    """The Ingress of one plan: its metadata and spec, with the TLS (public) or mTLS (A2A) the gateway settings add."""
    r = plan.route
    host = context.settings.gateway_host
    annotations = dict(plan.annotations)
    ingress_spec: dict = {"ingressClassName": INGRESS_CLASS}
    if r.kind == "public":
        annotations.update(context.public_tls["annotations"])
        if context.public_tls["tls"]:
            ingress_spec["tls"] = context.public_tls["tls"]
    else:
        annotations.update(context.a2a_annotations)
    path = {
        "path": r.path,
        "pathType": "Exact" if r.kind == "public" else "Prefix",
        "backend": {"service": {"name": plan.service, "port": {"name": "http"}}},
    }
    rule: dict = {"http": {"paths": [path]}}
    if host:
        rule["host"] = host
    return {
        "metadata": {
            "name": r.name,
            "namespace": r.namespace,
            "labels": {**labels, LABEL_ROUTE_KIND: r.kind, LABEL_VERSION: r.version},
            "annotations": annotations,
        },
        "spec": {**ingress_spec, "rules": [rule]},
    }
