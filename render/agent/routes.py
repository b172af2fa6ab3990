"""An agent's gateway routes: one Higress Ingress for chat, one per A2A skill that agents call,
the agent-wide A2A route when some caller may call every skill, and their canaries.

Canary versions are extra Ingresses with the `higress.io/canary*` annotations, so a
rollback is a weight change. Each called skill has Ingresses of its own because the
gateway's jwt-auth rules match whole Ingresses: that is how a skill's allow list can
differ from its neighbours', and how its timeout, retries and version fallback (Higress
annotations) stay its own. The agent-wide route (`/api/v1/internal/a2a/<agent>`, where
a generic A2A client sends JSON-RPC naming the skill in the body) reaches every skill, so
it admits only the callers on every skill's allow list; with none, it is not made (an
empty jwt-auth allow list is refused by Higress and means "the whole tenant" to
`a2a_allowed_consumers`). The same plans give the Agent component its Ingresses, the
gateway security its RouteDescriptors and the AgentCard its URLs, so the plugins guard
exactly the routes made and the card names only routes that exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Mapping, Optional, Sequence

from models.agent_spec import A2ASkill, AgentCatalog, AgentSpec, ResolvedVersion, SkillResilience, SkillRule, skill_slug
from models.settings import AgentsSettings, StackConfig
from render.agent.context import AgentContext
from render.agent.labels import LABEL_VERSION
from render.gateway.higress import INGRESS_CLASS

CHAT_PATH = "/api/v1/agents/{agent}/chat"
A2A_PATH = "/api/v1/internal/a2a/{agent}"
A2A_SKILL_PATH = A2A_PATH + "/{skill}"
AGENT_CHAT_PATH = "/chat"  # the agent's own paths, after the gateway's rewrite
AGENT_A2A_PATH = "/a2a"
LABEL_ROUTE_KIND = "agent-runtime.io/route-kind"
SKIP_AWAIT = "pulumi.com/skipAwait"
# the skill's access rule, on its A2A Ingresses: the policy pack checks the gateway's allow lists against it
ANN_SKILL = "agent-runtime.io/a2a-skill"
ANN_ALLOW_TENANTS = "agent-runtime.io/a2a-allow-tenants"
ANN_ALLOW_AGENTS = "agent-runtime.io/a2a-allow-agents"
ANN_SENSITIVE = "agent-runtime.io/a2a-sensitive"
# on the agent-wide route: every skill it reaches; the policy pack holds its allow list against each skill's rule
ANN_SKILLS = "agent-runtime.io/a2a-skills"

Caller = tuple[str, str]  # (agent, tenant)


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
    """One Ingress to create: the route it serves, the Service behind it (and the fallback one), its Higress annotations."""

    route: RouteDescriptor
    service: str
    annotations: dict
    # Higress resolves `higress.io/default-backend` when it reads the Ingress: the Service must exist first
    fallback_service: Optional[str] = None


@dataclass(frozen=True)
class _RouteKind:
    """Chat or one A2A skill: its path at the gateway, who may call it, and its primary version."""

    kind: Literal["public", "a2a"]
    suffix: str
    path: str
    annotations: dict
    allowed_caller_agents: tuple[str, ...] = ()
    allowed_caller_tenants: tuple[str, ...] = ()
    skill_ids: tuple[str, ...] = ()
    pinned: Optional[ResolvedVersion] = None  # a skill pinned to one version: no canaries
    fallback: Optional[ResolvedVersion] = None


def _route_annotations(rewrite: str, timeout_seconds: int) -> dict:
    """What every Ingress of the agent tells Higress: a streamed POST, rewritten to the agent's own path."""
    return {
        "higress.io/match-method": "POST",
        # chat and the agent-wide A2A route are one exact path each (rewritten to /chat, /a2a); a skill is a
        # prefix (/<agent>/<skill>[/...]) rewritten to /a2a/<skill>[/...]
        "higress.io/rewrite-path": rewrite,
        # the route timeout bounds a whole SSE stream: keep it long
        "higress.io/timeout": str(timeout_seconds),
        # a streamed POST must never be replayed on another pod (a skill may opt in: _retry_annotations)
        "higress.io/proxy-next-upstream": "off",
        # tell any proxy in front of the gateway not to buffer the event stream
        "higress.io/response-header-control-update": "X-Accel-Buffering no",
        # Pulumi would wait for the gateway to publish its address in the Ingress status, which
        # Higress does only for an exposed gateway (a ClusterIP gateway never does: seen on the
        # real engine, every route then timed out after 10 min). The API server's acceptance is
        # the route's readiness; the gateway reads it from there.
        SKIP_AWAIT: "true",
    }


def _retry_annotations(resilience: SkillResilience) -> dict:
    """Higress retry annotations (pkg/ingress/kube/annotations/retry.go): tries are retries after the first attempt."""
    retries = resilience.retries
    if retries.attempts == 0:
        return {"higress.io/proxy-next-upstream": "off"}
    out = {
        "higress.io/proxy-next-upstream-tries": str(retries.attempts),
        "higress.io/proxy-next-upstream": ",".join(retries.retry_on),
    }
    if retries.per_try_timeout_seconds is not None:
        out["higress.io/proxy-next-upstream-timeout"] = str(retries.per_try_timeout_seconds)
    return out


def _fallback_annotations(spec: AgentSpec, resilience: SkillResilience, fallback: Optional[ResolvedVersion]) -> dict:
    """Higress fallback (default_backend.go): another Service on no healthy endpoint or on the listed status codes."""
    if fallback is None:
        return {}
    return {
        "higress.io/default-backend": backend_service(spec, fallback),
        "higress.io/custom-http-errors": ",".join(str(c) for c in resilience.fallback_on),
    }


def _access_annotations(rule: SkillRule) -> dict:
    """The skill's rule, written where the policy pack can hold the gateway's allow list against it."""
    return {
        ANN_SKILL: rule.skill,
        ANN_ALLOW_TENANTS: ",".join(rule.allow_tenants),
        ANN_ALLOW_AGENTS: ",".join(rule.allow_agents),
        ANN_SENSITIVE: "true" if rule.sensitive else "false",
    }


def _version(spec: AgentSpec, version: Optional[str]) -> Optional[ResolvedVersion]:
    return next(v for v in spec.versions() if v.version == version) if version else None


def _skill_route(spec: AgentSpec, skill: A2ASkill, callers: Sequence[Caller]) -> _RouteKind:
    """One skill's route: its callers (qualified: a same-named agent in another tenant is not one), rule and resilience."""
    resilience = skill.resilience
    fallback = _version(spec, resilience.fallback_version)
    annotations = {
        **_route_annotations(f"{AGENT_A2A_PATH}/{skill.id}", resilience.timeout_seconds or spec.route.timeout_seconds),
        **_retry_annotations(resilience),
        **_fallback_annotations(spec, resilience, fallback),
        **_access_annotations(spec.skill_rule(skill.id)),
    }
    return _RouteKind(
        "a2a",
        f"a2a-{skill_slug(skill.id)}",
        A2A_SKILL_PATH.format(agent=spec.name, skill=skill.id),
        annotations,
        allowed_caller_agents=tuple(sorted({f"{t}/{a}" for a, t in callers})),
        allowed_caller_tenants=tuple(sorted({t for _, t in callers})),
        skill_ids=(skill.id,),
        pinned=_version(spec, resilience.version),
        fallback=fallback,
    )


def agent_wide_callers(spec: AgentSpec, skill_callers: Mapping[str, Sequence[Caller]]) -> list[Caller]:
    """The callers of every skill the agent exposes (on every skill route's allow list); none if a skill has no caller."""
    common: Optional[set[Caller]] = None
    for skill in spec.a2a_skills:
        callers = set(skill_callers.get(skill.id, ()))
        common = callers if common is None else common & callers
    return sorted(common or ())


def _agent_wide_route(spec: AgentSpec, skill_callers: Mapping[str, Sequence[Caller]]) -> Optional[_RouteKind]:
    """The route at the AgentCard's URL: every skill, for the callers of every skill; None when nobody qualifies.

    Its timeout is the longest of the skills' (the skill is chosen in the request body); it never
    retries and has no fallback (those stay per skill). Skills pinned to one version pin it too;
    skills pinned to different versions leave no version that serves them all, hence no route.
    """
    callers = agent_wide_callers(spec, skill_callers)
    pins = {s.resilience.version for s in spec.a2a_skills if s.resilience.version}
    if not callers or len(pins) > 1:
        return None
    timeout = max(s.resilience.timeout_seconds or spec.route.timeout_seconds for s in spec.a2a_skills)
    skills = tuple(s.id for s in spec.a2a_skills)
    return _RouteKind(
        "a2a",
        "a2a",
        A2A_PATH.format(agent=spec.name),
        {**_route_annotations(AGENT_A2A_PATH, timeout), ANN_SKILLS: ",".join(skills)},
        allowed_caller_agents=tuple(sorted({f"{t}/{a}" for a, t in callers})),
        allowed_caller_tenants=tuple(sorted({t for _, t in callers})),
        skill_ids=skills,
        pinned=_version(spec, next(iter(pins), None)),
    )


def _route_kinds(spec: AgentSpec, skill_callers: Mapping[str, Sequence[Caller]]) -> list[_RouteKind]:
    """Chat, the agent-wide A2A route (if some caller may call every skill), and one route per skill some agent
    calls: a skill nobody calls has no route, so nobody reaches it."""
    kinds = [_RouteKind("public", "chat", CHAT_PATH.format(agent=spec.name), _route_annotations(AGENT_CHAT_PATH, spec.route.timeout_seconds))]
    agent_wide = _agent_wide_route(spec, skill_callers)
    kinds += [agent_wide] if agent_wide is not None else []
    kinds += [_skill_route(spec, s, skill_callers[s.id]) for s in spec.a2a_skills if skill_callers.get(s.id)]
    return kinds


def a2a_paths(spec: AgentSpec, skill_callers: Mapping[str, Sequence[Caller]]) -> list[str]:
    """The gateway paths of the agent's A2A routes, the agent-wide one (if made) first, then each called skill's."""
    return [k.path for k in _route_kinds(spec, skill_callers) if k.kind == "a2a"]


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
        fallback_service=backend_service(spec, route.fallback) if route.fallback else None,
    )


def route_plans(
    spec: AgentSpec, namespace: str, settings: AgentsSettings, skill_callers: Mapping[str, Sequence[Caller]]
) -> list[IngressPlan]:
    """Every Ingress of an agent: chat, the agent-wide A2A route (if made), each called skill, and their canaries
    (none for a route pinned to a version).

    `skill_callers` maps a skill id to its (agent, tenant) callers; `settings` does not change the plan.
    """
    versions = spec.versions()
    primary = next(v for v in versions if v.primary)
    plans = []
    for route in _route_kinds(spec, skill_callers):
        if route.pinned is not None:
            plans.append(_plan(spec, namespace, route, f"{spec.name}-{route.suffix}", route.pinned, {}))
            continue
        plans.append(_plan(spec, namespace, route, f"{spec.name}-{route.suffix}", primary, {}))
        plans += [_plan(spec, namespace, route, name, v, canary) for name, v, canary in _canaries(spec, versions, route.suffix)]
    return plans


def skill_callers_of(spec: AgentSpec, catalog: AgentCatalog) -> dict[str, list[Caller]]:
    """Per skill id, the (agent, tenant) pairs whose a2aCalls name it."""
    return {skill: [(c.name, c.tenant) for c in callers] for skill, callers in catalog.skill_callers(spec.name).items()}


def route_descriptors(catalog: AgentCatalog, stack: StackConfig) -> list[RouteDescriptor]:
    """Every agent route the program creates (same planner the Agent component uses)."""
    routes: list[RouteDescriptor] = []
    for spec in catalog.agents:
        tenant = stack.tenant(spec.tenant)
        assert tenant is not None, "specs are validated against the stack's tenants"
        routes += [p.route for p in route_plans(spec, tenant.k8s_namespace, stack.agents, skill_callers_of(spec, catalog))]
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
        # a skill route is a prefix (/<agent>/<skill>[/...]); chat and the agent-wide route are one exact path, so
        # the agent-wide route never takes the path of a skill nobody calls
        "pathType": "Prefix" if r.kind == "a2a" and r.path != A2A_PATH.format(agent=r.agent) else "Exact",
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
