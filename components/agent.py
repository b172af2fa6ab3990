"""Agent: one declarative (or bring-your-own) agent spec rendered as Kubernetes workloads.

Per agent, in its tenant's namespace: a ServiceAccount, a Service over all its
versions, one PodDisruptionBudget, a NetworkPolicy and the gateway routes (each
created after the gateway plugins that guard it); per rollout version: a ConfigMap
(prompt, model parameters, tools, AgentCard), a Deployment and an autoscaler (HPA,
or a KEDA ScaledObject when the agent scales to zero), plus a Service of its own
while several versions are served (canary routes need one backend per version).

Credentials never appear in any object: API keys reach the container only as
files of one projected volume. Routes are Higress Ingresses; canary versions are extra
Ingresses with the `higress.io/canary*` annotations, so a rollback is a weight change.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any, Literal, Optional
from urllib.parse import urlparse

import pulumi
import pulumi_kubernetes as k8s
from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentProvider,
    AgentSkill,
    HTTPAuthSecurityScheme,
    SecurityScheme,
)
from pydantic import BaseModel, ConfigDict

from components.k8s_resources import spec_object
from components.nacos_cluster import CLIENT_GRPC_PORT, HTTP_PORT as NACOS_HTTP_PORT
from models.agent_spec import AgentCatalog, AgentSpec, ResolvedVersion
from models.settings import AgentsSettings, SandboxProfileSettings, StackConfig, TenantSettings
from render.gateway.higress import INGRESS_CLASS, gateway_base_url
from render.gateway.route_tls import a2a_mtls_annotations, tls_for_public_routes
from render.k8s_common import (
    LABEL_AGENT,
    LABEL_SANDBOX_PROFILE,
    LABEL_TENANT,
    dns_egress_rule,
    resources_dict,
    restricted_container_security,
    restricted_pod_security,
    selector_labels,
    standard_labels,
)

COMPONENT = "agent"
LABEL_VERSION = "agent-runtime.io/version"
LABEL_ROUTE_KIND = "agent-runtime.io/route-kind"
ANNOTATION_CONFIG_HASH = "agent-runtime.io/config-hash"
CHAT_PATH = "/api/v1/agents/{agent}/chat"
A2A_PATH = "/api/v1/internal/a2a/{agent}"
AGENT_CHAT_PATH = "/chat"  # the agent's own paths, after the gateway's rewrite
AGENT_A2A_PATH = "/a2a"
CONFIG_DIR = "/etc/agent"
PROMPT_DIR = "/etc/agent-prompt"
CREDENTIALS_DIR = "/etc/agent-credentials"
A2A_PROTOCOL_VERSION = "0.3.0"
INTERNAL_JWT_SCHEME = "internalJwt"
# destinations outside the cluster: anything but private, CGNAT and link-local ranges
NON_PUBLIC = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16"]
HPA_SCALE_DOWN_MAX_SECONDS = 3600


# --------------------------------------------------------------------------- AgentCard


def build_agent_card(spec: AgentSpec, gateway_base_url: str, version: Optional[str] = None) -> dict:
    """The A2A AgentCard of an agent (validated by a2a-sdk), as the JSON dict Nacos stores."""
    base = gateway_base_url.rstrip("/")
    input_modes = sorted({m for s in spec.a2a_skills for m in s.input_modes}) or ["text/plain"]
    output_modes = sorted({m for s in spec.a2a_skills for m in s.output_modes}) or ["text/plain"]
    provider = spec.provider
    card = AgentCard(
        name=spec.name,
        description=spec.description,
        version=version or spec.version,
        url=base + A2A_PATH.format(agent=spec.name),
        preferred_transport="JSONRPC",
        protocol_version=A2A_PROTOCOL_VERSION,
        capabilities=AgentCapabilities(streaming=True),
        default_input_modes=input_modes,
        default_output_modes=output_modes,
        skills=[
            AgentSkill(
                id=s.id,
                name=s.name,
                description=s.description,
                tags=list(s.tags),
                examples=list(s.examples) or None,
                input_modes=list(s.input_modes),
                output_modes=list(s.output_modes),
            )
            for s in spec.a2a_skills
        ],
        security_schemes={
            INTERNAL_JWT_SCHEME: SecurityScheme(
                root=HTTPAuthSecurityScheme(
                    type="http",
                    scheme="bearer",
                    bearer_format="JWT",
                    description="Platform-internal JWT issued to agents; checked by the gateway",
                )
            )
        },
        security=[{INTERNAL_JWT_SCHEME: []}],
        provider=AgentProvider(
            organization=provider.organization if provider else f"agent-runtime/{spec.tenant}",
            url=provider.url if provider else base,
        ),
    )
    return card.model_dump(mode="json", by_alias=True, exclude_none=True)


# --------------------------------------------------------------------------- routes


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


SKIP_AWAIT = "pulumi.com/skipAwait"


@dataclass(frozen=True)
class _IngressPlan:
    route: RouteDescriptor
    service: str
    annotations: dict


def _route_plans(
    spec: AgentSpec, namespace: str, settings: AgentsSettings, callers: list[tuple[str, str]]
) -> list[_IngressPlan]:
    """Every Ingress of an agent: chat, A2A (if it exposes skills) and their canaries."""
    versions = spec.versions()
    primary = next(v for v in versions if v.primary)
    # qualified: a same-named agent in another allowed tenant is not a caller
    caller_agents = tuple(sorted({f"{t}/{a}" for a, t in callers}))
    caller_tenants = tuple(sorted({t for _, t in callers}))
    skills = tuple(s.id for s in spec.a2a_skills)
    kinds: list[tuple[str, str, str, str]] = [("public", "chat", CHAT_PATH.format(agent=spec.name), AGENT_CHAT_PATH)]
    if spec.a2a_skills:
        kinds.append(("a2a", "a2a", A2A_PATH.format(agent=spec.name), AGENT_A2A_PATH))
    plans = []
    for kind, suffix, path, rewrite in kinds:
        base_annotations = {
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

        def plan(name: str, version: ResolvedVersion, extra: dict) -> _IngressPlan:
            return _IngressPlan(
                RouteDescriptor(
                    namespace=namespace,
                    name=name,
                    kind=kind,  # type: ignore[arg-type]
                    tenant=spec.tenant,
                    agent=spec.name,
                    version=version.version,
                    canary=bool(extra),
                    path=path,
                    allowed_caller_agents=caller_agents if kind == "a2a" else (),
                    allowed_caller_tenants=caller_tenants if kind == "a2a" else (),
                    skill_ids=skills if kind == "a2a" else (),
                ),
                service=backend_service(spec, version),
                annotations={**base_annotations, **extra},
            )

        plans.append(plan(f"{spec.name}-{suffix}", primary, {}))
        for v in versions:
            if v.primary:
                continue
            if v.weight > 0:
                plans.append(
                    plan(
                        f"{spec.name}-{suffix}-canary-{v.slug}",
                        v,
                        {
                            "higress.io/canary": "true",
                            "higress.io/canary-weight": str(v.weight),
                            "higress.io/canary-weight-total": "100",
                        },
                    )
                )
            if v.match is not None and v.match.header is not None:
                plans.append(
                    plan(
                        f"{spec.name}-{suffix}-canary-{v.slug}-by-header",
                        v,
                        {
                            "higress.io/canary": "true",
                            "higress.io/canary-by-header": v.match.header.name,
                            "higress.io/canary-by-header-value": v.match.header.value,
                        },
                    )
                )
            elif v.match is not None and v.match.cookie is not None:
                plans.append(
                    plan(
                        f"{spec.name}-{suffix}-canary-{v.slug}-by-cookie",
                        v,
                        {"higress.io/canary": "true", "higress.io/canary-by-cookie": v.match.cookie},
                    )
                )
    return plans


def _callers(spec: AgentSpec, catalog: AgentCatalog) -> list[tuple[str, str]]:
    return [(c.name, c.tenant) for c in catalog.callers_of(spec.name)]


def route_descriptors(catalog: AgentCatalog, stack: StackConfig) -> list[RouteDescriptor]:
    """Every agent route the program creates (same planner the Agent component uses)."""
    routes: list[RouteDescriptor] = []
    for spec in catalog.agents:
        tenant = stack.tenant(spec.tenant)
        assert tenant is not None, "specs are validated against the stack's tenants"
        routes += [p.route for p in _route_plans(spec, tenant.k8s_namespace, stack.agents, _callers(spec, catalog))]
    return routes


# --------------------------------------------------------------------------- args


@dataclass(frozen=True)
class Peer:
    """Another agent this one talks to (or hears from) directly."""

    agent: str
    tenant: str
    namespace: str
    port: int


class AgentArgs(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    spec: AgentSpec
    tenant: TenantSettings
    settings: AgentsSettings
    gateway_namespace: str
    gateway_base_url: str
    nacos_namespace: str
    mcp_servers: list  # McpServerSpec | RemoteMcp, one per spec.tools entry
    callers: list  # Peer
    callees: list  # Peer
    sandbox_profile: Optional[SandboxProfileSettings] = None
    keda_dependency: Optional[pulumi.Resource] = None
    # the gateway plugins that guard this agent's routes: its Ingresses are created only
    # after them, so no route is ever live before its auth and limits are
    route_guard: Optional[pulumi.Resource] = None
    # from the gateway security settings: TLS for public routes, upstream mTLS for A2A routes
    public_tls: dict = {"annotations": {}, "tls": []}
    a2a_annotations: dict[str, str] = {}
    labels: dict[str, str] = {}

    @classmethod
    def for_spec(
        cls,
        spec: AgentSpec,
        catalog: AgentCatalog,
        stack: StackConfig,
        keda_dependency: Optional[pulumi.Resource] = None,
        route_guard: Optional[pulumi.Resource] = None,
    ) -> "AgentArgs":
        """Everything one Agent needs, resolved from the validated catalog and the stack config."""

        def namespace_of(agent: AgentSpec) -> str:
            tenant = stack.tenant(agent.tenant)
            assert tenant is not None
            return tenant.k8s_namespace

        tenant = stack.tenant(spec.tenant)
        assert tenant is not None, "specs are validated against the stack's tenants"
        callee_names = sorted({c.agent for c in spec.a2a_calls})
        return cls(
            spec=spec,
            tenant=tenant,
            settings=stack.agents,
            gateway_namespace=stack.gateway.namespace,
            gateway_base_url=gateway_base_url(stack),
            nacos_namespace=stack.nacos.namespace,
            mcp_servers=catalog.mcp_for(spec),
            callers=[Peer(c.name, c.tenant, namespace_of(c), c.port) for c in catalog.callers_of(spec.name)],
            callees=[Peer(n, catalog.agent(n).tenant, namespace_of(catalog.agent(n)), catalog.agent(n).port) for n in callee_names],
            sandbox_profile=stack.sandbox_profile(spec.sandbox.profile) if spec.sandbox else None,
            keda_dependency=keda_dependency,
            route_guard=route_guard,
            public_tls=tls_for_public_routes(stack.security),
            a2a_annotations=a2a_mtls_annotations(stack.security, tenant.k8s_namespace, f"{spec.name}.{tenant.k8s_namespace}.svc"),
            labels=stack.labels,
        )


# --------------------------------------------------------------------------- egress helpers


def _egress_for_url(url: str) -> dict:
    """A NetworkPolicy egress rule reaching `url`: in-cluster Service by namespace, else public IPs only."""
    parsed = urlparse(url)
    host = parsed.hostname or ""
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    ports = [{"protocol": "TCP", "port": port}]
    parts = host.split(".")
    if len(parts) >= 3 and parts[2] == "svc":
        return {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": parts[1]}}}], "ports": ports}
    try:
        ip = ipaddress.ip_address(host)
        return {"to": [{"ipBlock": {"cidr": f"{ip}/{32 if ip.version == 4 else 128}"}}], "ports": ports}
    except ValueError:
        pass
    return {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": list(NON_PUBLIC)}}], "ports": ports}


def _dedupe(rules: list[dict]) -> list[dict]:
    seen, out = set(), []
    for rule in rules:
        key = json.dumps(rule, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(rule)
    return out


def _file_name(*parts: str) -> str:
    return "-".join(re.sub(r"[^a-z0-9]+", "-", p.lower()).strip("-") for p in parts)


class _CredentialFiles:
    """The secret values an agent reads, as files of one projected volume - never environment variables.

    Scanners flag secrets in env (they leak into crash dumps, child processes and `kubectl
    describe`); the agent runtime reads each value from the file its config.json names.
    """

    def __init__(self) -> None:
        self.items: list[tuple[str, Any]] = []

    def add(self, file_name: str, ref) -> str:
        self.items.append((file_name, ref))
        return f"{CREDENTIALS_DIR}/{file_name}"

    def volume(self) -> Optional[dict]:
        if not self.items:
            return None
        by_secret: dict[str, list[dict]] = {}
        for file_name, ref in self.items:
            by_secret.setdefault(ref.name, []).append({"key": ref.key, "path": file_name})
        sources = [{"secret": {"name": name, "items": items}} for name, items in sorted(by_secret.items())]
        # readable by the pod's group (fsGroup) only: the agent runs as that group, nothing else does
        return {"name": "credentials", "projected": {"defaultMode": 0o440, "sources": sources}}


# --------------------------------------------------------------------------- component


class Agent(pulumi.ComponentResource):
    """The workloads, routes, autoscaling and policies of one agent spec."""

    namespace: str
    card: dict
    routes: list[RouteDescriptor]

    def __init__(self, name: str, args: AgentArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("agent-runtime:agents:Agent", name, None, opts)
        spec = args.spec
        ns = args.tenant.k8s_namespace
        self.namespace = ns
        agent_labels = standard_labels(
            spec.name, COMPONENT, {LABEL_AGENT: spec.name, LABEL_TENANT: spec.tenant, **args.labels}
        )
        child = pulumi.ResourceOptions(parent=self)
        self.card = build_agent_card(spec, args.gateway_base_url)

        k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata={"name": spec.name, "namespace": ns, "labels": agent_labels},
            # only agents that create sandbox claims talk to the Kubernetes API
            automount_service_account_token=spec.sandbox is not None,
            opts=child,
        )
        if spec.sandbox is not None:
            self._sandbox_rbac(name, spec, ns, agent_labels, child)

        # every version's pods: the in-cluster A2A address, and the route backend of a one-version agent
        backends = {
            spec.name: k8s.core.v1.Service(
                f"{name}-svc",
                metadata={"name": spec.name, "namespace": ns, "labels": agent_labels},
                spec={
                    "type": "ClusterIP",
                    "selector": selector_labels(spec.name, COMPONENT),
                    "ports": [{"name": "http", "port": spec.port, "targetPort": "http", "protocol": "TCP"}],
                },
                opts=child,
            )
        }
        spec_object(
            f"{name}-pdb",
            "policy/v1",
            "PodDisruptionBudget",
            metadata={"name": spec.name, "namespace": ns, "labels": agent_labels},
            # one budget over all versions: a drain takes at most one of the agent's pods at a time;
            # maxUnavailable works at any replica count, including 0 for scale-to-zero agents
            spec={"maxUnavailable": 1, "selector": {"matchLabels": selector_labels(spec.name, COMPONENT)}},
            opts=child,
        )
        for version in spec.versions():
            backends.update(self._render_version(name, args, version, ns, agent_labels))

        self._network_policy(name, args, ns, agent_labels, child)

        plans = _route_plans(spec, ns, args.settings, [(p.agent, p.tenant) for p in args.callers])
        self.routes = [p.route for p in plans]
        guard = [args.route_guard] if args.route_guard else []
        for p in plans:
            # a route waits for its backend (a canary's Service is new) and for the plugins guarding it
            route_opts = pulumi.ResourceOptions(parent=self, depends_on=[backends[p.service], *guard])
            self._ingress(name, spec, p, args, agent_labels, route_opts)

        self.register_outputs(
            {"namespace": ns, "card": self.card, "routes": [r.ingress_ref for r in self.routes]}
        )

    # ---- per version

    def _render_version(
        self, name: str, args: AgentArgs, version: ResolvedVersion, ns: str, agent_labels: dict
    ) -> dict[str, k8s.core.v1.Service]:
        """The version's config, Deployment and autoscaler; and its Service when routes must tell versions apart."""
        spec = args.spec
        full = f"{spec.name}-{version.slug}"
        rname = f"{name}-{version.slug}"
        labels = {**agent_labels, LABEL_VERSION: version.version}
        match = {**selector_labels(spec.name, COMPONENT), LABEL_VERSION: version.version}
        child = pulumi.ResourceOptions(parent=self)

        config, env, files = self._config(args, version)
        card = build_agent_card(spec, args.gateway_base_url, version.version)
        data = {
            "config.json": json.dumps(config, indent=2, sort_keys=True),
            "agent-card.json": json.dumps(card, indent=2, sort_keys=True),
        }
        if spec.system_prompt is not None and spec.system_prompt.inline is not None:
            data["system-prompt.txt"] = spec.system_prompt.inline
        config_hash = hashlib.sha256(json.dumps([data, env], sort_keys=True).encode()).hexdigest()[:16]

        config_map = k8s.core.v1.ConfigMap(
            f"{rname}-config",
            metadata={"name": f"{full}-config", "namespace": ns, "labels": labels},
            data=data,
            opts=child,
        )
        deployment = spec_object(
            f"{rname}-deployment",
            "apps/v1",
            "Deployment",
            metadata={"name": full, "namespace": ns, "labels": labels},
            spec=self._deployment_spec(args, version, full, labels, match, env, files, config_hash),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[config_map]),
        )
        own_service = {}
        if backend_service(spec, version) == full:
            own_service[full] = k8s.core.v1.Service(
                f"{rname}-svc",
                metadata={"name": full, "namespace": ns, "labels": labels},
                spec={
                    "type": "ClusterIP",
                    "selector": match,
                    "ports": [{"name": "http", "port": spec.port, "targetPort": "http", "protocol": "TCP"}],
                },
                opts=child,
            )
        a = spec.autoscaling
        target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": full}
        if a.scale_to_zero:
            keda = args.settings.keda
            cluster = f"outbound|{spec.port}||{backend_service(spec, version)}.{ns}.svc.cluster.local"
            # requests the gateway sent to this version, plus those it could not send because no pod
            # was up (that is what wakes a scaled-to-zero agent)
            query = (
                f'(sum(rate(envoy_cluster_upstream_rq_total{{cluster_name="{cluster}"}}[1m])) or vector(0))'
                f' + (sum(rate(envoy_cluster_upstream_cx_none_healthy{{cluster_name="{cluster}"}}[1m])) or vector(0))'
            )
            triggers = [
                {
                    "type": "prometheus",
                    "name": "gateway-requests",
                    "metadata": {
                        "serverAddress": keda.prometheus_address,
                        "query": query,
                        "threshold": f"{a.target_requests_per_second:g}",
                        "activationThreshold": "0",
                    },
                },
                {"type": "cpu", "metricType": "Utilization", "metadata": {"value": str(a.target_cpu_utilization)}},
            ]
            if a.target_memory_utilization:
                triggers.append(
                    {"type": "memory", "metricType": "Utilization", "metadata": {"value": str(a.target_memory_utilization)}}
                )
            spec_object(
                f"{rname}-scaledobject",
                "keda.sh/v1alpha1",
                "ScaledObject",
                metadata={"name": full, "namespace": ns, "labels": labels},
                spec={
                    "scaleTargetRef": target,
                    "pollingInterval": keda.polling_interval_seconds,
                    "cooldownPeriod": a.cooldown_seconds,
                    "minReplicaCount": 0,
                    "maxReplicaCount": a.max_replicas,
                    "triggers": triggers,
                },
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=[deployment] + ([args.keda_dependency] if args.keda_dependency else []),
                ),
            )
        else:
            metrics = [
                {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": a.target_cpu_utilization}}}
            ]
            if a.target_memory_utilization:
                metrics.append(
                    {"type": "Resource", "resource": {"name": "memory", "target": {"type": "Utilization", "averageUtilization": a.target_memory_utilization}}}
                )
            spec_object(
                f"{rname}-hpa",
                "autoscaling/v2",
                "HorizontalPodAutoscaler",
                metadata={"name": full, "namespace": ns, "labels": labels},
                spec={
                    "scaleTargetRef": target,
                    "minReplicas": a.min_replicas,
                    "maxReplicas": a.max_replicas,
                    "metrics": metrics,
                    "behavior": {"scaleDown": {"stabilizationWindowSeconds": min(a.cooldown_seconds, HPA_SCALE_DOWN_MAX_SECONDS)}},
                },
                opts=pulumi.ResourceOptions(parent=self, depends_on=[deployment]),
            )
        return own_service

    def _config(self, args: AgentArgs, version: ResolvedVersion) -> tuple[dict, list[dict], _CredentialFiles]:
        """The agent's runtime config (no secrets: it names the files they are mounted at), env vars, credential files."""
        spec = args.spec
        files = _CredentialFiles()
        env: list[dict] = [
            {"name": "AGENT_NAME", "value": spec.name},
            {"name": "AGENT_VERSION", "value": version.version},
            {"name": "AGENT_CONFIG", "value": f"{CONFIG_DIR}/config.json"},
            {"name": "AGENT_CARD", "value": f"{CONFIG_DIR}/agent-card.json"},
        ]
        config: dict = {
            "agent": {"name": spec.name, "tenant": spec.tenant, "version": version.version, "description": spec.description},
            "server": {"port": spec.port, "chatPath": AGENT_CHAT_PATH, "a2aPath": AGENT_A2A_PATH},
            "nacos": {
                "serverAddr": f"nacos.{args.nacos_namespace}.svc.cluster.local:{NACOS_HTTP_PORT}",
                "namespaceId": args.tenant.nacos_namespace,
            },
        }
        if spec.system_prompt is not None:
            config["systemPrompt"] = {
                "file": f"{CONFIG_DIR}/system-prompt.txt" if spec.system_prompt.inline is not None else f"{PROMPT_DIR}/system-prompt.txt"
            }
        model = version.model
        if model is not None:
            headers = {k: v for k, v in model.headers.items() if isinstance(v, str)}
            header_files = {
                header: files.add(_file_name("model-header", header), value.secret_key_ref)
                for header, value in model.headers.items()
                if not isinstance(value, str)
            }
            config["model"] = {
                "provider": model.provider,
                "model": model.model,
                "baseUrl": model.endpoint(),
                "temperature": model.temperature,
                "maxTokens": model.max_tokens,
                "topP": model.top_p,
                "timeoutSeconds": model.timeout_seconds,
                "headers": headers,
                "headersFromFiles": header_files,
            }
            if model.api_key is not None:
                config["model"]["apiKeyFile"] = files.add("model-api-key", model.api_key.secret_key_ref)
        tools = []
        for ref, server in zip(spec.tools, args.mcp_servers):
            tool = {
                "name": server.name,
                "url": server.url,
                "protocol": server.protocol,
                "timeoutSeconds": server.timeout_seconds,
                "toolNames": list(ref.tool_names),
                "requireApproval": list(ref.require_approval),
            }
            if server.auth is not None:
                path = files.add(_file_name("mcp", server.name, "auth"), server.auth.secret_key_ref)
                tool["auth"] = {"header": server.auth.header, "prefix": server.auth.prefix, "valueFile": path}
            tools.append(tool)
        config["tools"] = tools
        if spec.memory is not None:
            m = spec.memory
            config["memory"] = {
                "provider": m.provider,
                "indexHost": m.index_host,
                "namespace": m.namespace,
                "topK": m.top_k,
                "scoreThreshold": m.score_threshold,
                "apiKeyFile": files.add("memory-api-key", m.api_key.secret_key_ref),
            }
        kbs = []
        for kb in spec.knowledge_bases:
            entry = {"name": kb.name, "description": kb.description, "url": kb.url, "topK": kb.top_k}
            if kb.api_key is not None:
                entry["apiKeyFile"] = files.add(_file_name("kb", kb.name, "api-key"), kb.api_key.secret_key_ref)
            kbs.append(entry)
        config["knowledgeBases"] = kbs
        base = args.gateway_base_url.rstrip("/")
        config["a2a"] = {
            "skills": [s.id for s in spec.a2a_skills],
            "calls": [
                {"agent": c.agent, "skill": c.skill, "url": f"{base}{A2A_PATH.format(agent=c.agent)}/{c.skill}"}
                for c in spec.a2a_calls
            ],
        }
        if spec.sandbox is not None and args.sandbox_profile is not None:
            p = args.sandbox_profile
            config["sandbox"] = {
                "profile": p.name,
                "tools": list(spec.sandbox.tools),
                "namespace": args.tenant.k8s_namespace,
                # the agent claims sandboxes from this warm pool, with this lifetime
                "warmPool": p.name,
                "ttlSeconds": p.ttl_seconds,
                "runtime": p.runtime,
            }
        return config, env, files

    def _deployment_spec(
        self,
        args: AgentArgs,
        version: ResolvedVersion,
        full: str,
        labels: dict,
        match: dict,
        env: list,
        files: _CredentialFiles,
        config_hash: str,
    ) -> dict:
        spec = args.spec
        resources = spec.resources or args.settings.default_resources
        probe = lambda path, **extra: {"httpGet": {"path": path, "port": "http"}, "timeoutSeconds": 3, **extra}  # noqa: E731
        volumes = [
            {"name": "config", "configMap": {"name": f"{full}-config"}},
            {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}},
        ]
        mounts = [
            {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
        ]
        credentials = files.volume()
        if credentials is not None:
            volumes.append(credentials)
            mounts.append({"name": "credentials", "mountPath": CREDENTIALS_DIR, "readOnly": True})
        prompt = spec.system_prompt
        if prompt is not None and prompt.inline is None:
            ref = prompt.from_config_map or prompt.from_secret
            assert ref is not None
            items = [{"key": ref.key, "path": "system-prompt.txt"}]
            source = {"configMap": {"name": ref.name, "items": items}} if prompt.from_config_map else {"secret": {"secretName": ref.name, "items": items}}
            volumes.append({"name": "prompt", **source})
            mounts.append({"name": "prompt", "mountPath": PROMPT_DIR, "readOnly": True})
        spread = [
            {
                "maxSkew": 1,
                "topologyKey": key,
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": match},
            }
            for key in ("kubernetes.io/hostname", "topology.kubernetes.io/zone")
        ]
        return {
            # no `replicas`: the HPA / KEDA owns the replica count
            "selector": {"matchLabels": match},
            "revisionHistoryLimit": 5,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": labels, "annotations": {ANNOTATION_CONFIG_HASH: config_hash}},
                "spec": {
                    "serviceAccountName": spec.name,
                    "automountServiceAccountToken": spec.sandbox is not None,
                    "enableServiceLinks": False,
                    # fsGroup: the mounted credential files are group-readable (0440) and nothing else
                    "securityContext": restricted_pod_security(fs_group=credentials is not None),
                    "topologySpreadConstraints": spread,
                    # open SSE streams get time to finish on scale-down and rollouts
                    "terminationGracePeriodSeconds": min(spec.route.timeout_seconds, 300),
                    "containers": [
                        {
                            "name": "agent",
                            "image": version.image or args.settings.runtime_image,
                            "imagePullPolicy": "IfNotPresent",
                            "ports": [{"name": "http", "containerPort": spec.port, "protocol": "TCP"}],
                            "env": env,
                            "resources": resources_dict(resources),
                            "securityContext": restricted_container_security(),
                            "startupProbe": probe(spec.probes.readiness_path, periodSeconds=2, failureThreshold=60),
                            "readinessProbe": probe(spec.probes.readiness_path, periodSeconds=5, failureThreshold=3),
                            "livenessProbe": probe(spec.probes.liveness_path, periodSeconds=10, failureThreshold=6),
                            "volumeMounts": mounts,
                        }
                    ],
                    "volumes": volumes,
                },
            },
        }

    # ---- per agent

    def _network_policy(self, name: str, args: AgentArgs, ns: str, labels: dict, opts: pulumi.ResourceOptions) -> None:
        """In: the gateway and the agents that call this one. Out: Nacos, MCP servers, model, declared egress."""
        spec = args.spec
        port = [{"protocol": "TCP", "port": spec.port}]
        ingress = [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": args.gateway_namespace}}}], "ports": port}]
        by_ns: dict[str, list[str]] = {}
        for peer in args.callers:
            by_ns.setdefault(peer.namespace, []).append(peer.agent)
        for caller_ns, agents in sorted(by_ns.items()):
            ingress.append(
                {
                    "from": [
                        {
                            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": caller_ns}},
                            "podSelector": {"matchExpressions": [{"key": LABEL_AGENT, "operator": "In", "values": sorted(set(agents))}]},
                        }
                    ],
                    "ports": port,
                }
            )
        egress = [
            dns_egress_rule(),
            {
                "to": [
                    {
                        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": args.nacos_namespace}},
                        "podSelector": {"matchLabels": selector_labels("nacos", "registry")},
                    }
                ],
                "ports": [{"protocol": "TCP", "port": NACOS_HTTP_PORT}, {"protocol": "TCP", "port": CLIENT_GRPC_PORT}],
            },
        ]
        egress += [_egress_for_url(s.url) for s in args.mcp_servers]
        for v in spec.versions():
            endpoint = v.model.endpoint() if v.model else None
            if endpoint:
                egress.append(_egress_for_url(endpoint))
        if spec.memory is not None:
            egress.append(_egress_for_url(spec.memory.index_host))
        egress += [_egress_for_url(kb.url) for kb in spec.knowledge_bases]
        if args.callees:
            # A2A calls go through the gateway (AgentCard url) ...
            egress.append(_egress_for_url(args.gateway_base_url))
            # ... or straight to the callee's pods, which admit exactly these callers
            for peer in args.callees:
                egress.append(
                    {
                        "to": [
                            {
                                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": peer.namespace}},
                                "podSelector": {"matchLabels": {LABEL_AGENT: peer.agent}},
                            }
                        ],
                        "ports": [{"protocol": "TCP", "port": peer.port}],
                    }
                )
        if spec.sandbox is not None:
            egress.append({"to": [{"podSelector": {"matchLabels": {LABEL_SANDBOX_PROFILE: spec.sandbox.profile}}}]})
            # sandbox claims are created through the Kubernetes API
            egress.append(
                {
                    "to": [{"ipBlock": {"cidr": c}} for c in args.settings.api_server_cidrs],
                    "ports": [{"protocol": "TCP", "port": p} for p in args.settings.api_server_ports],
                }
            )
        for rule in spec.egress:
            block = {"cidr": rule.cidr, **({"except": list(rule.except_)} if rule.except_ else {})}
            egress.append({"to": [{"ipBlock": block}], "ports": [{"protocol": rule.protocol, "port": p} for p in rule.ports]})
        spec_object(
            f"{name}-netpol",
            "networking.k8s.io/v1",
            "NetworkPolicy",
            metadata={"name": f"agent-{spec.name}", "namespace": ns, "labels": labels},
            spec={
                "podSelector": {"matchLabels": {LABEL_AGENT: spec.name}},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": ingress,
                "egress": _dedupe(egress),
            },
            opts=opts,
        )

    def _sandbox_rbac(self, name: str, spec: AgentSpec, ns: str, labels: dict, opts: pulumi.ResourceOptions) -> None:
        """The agent may claim sandboxes from its namespace's warm pools - nothing more."""
        role = f"{spec.name}-sandbox-claims"
        k8s.rbac.v1.Role(
            f"{name}-sandbox-role",
            metadata={"name": role, "namespace": ns, "labels": labels},
            rules=[
                {
                    "apiGroups": ["extensions.agents.x-k8s.io"],
                    "resources": ["sandboxclaims"],
                    "verbs": ["create", "get", "list", "watch", "delete"],
                },
                {"apiGroups": ["agents.x-k8s.io"], "resources": ["sandboxes"], "verbs": ["get", "list", "watch"]},
            ],
            opts=opts,
        )
        k8s.rbac.v1.RoleBinding(
            f"{name}-sandbox-binding",
            metadata={"name": role, "namespace": ns, "labels": labels},
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
            subjects=[{"kind": "ServiceAccount", "name": spec.name, "namespace": ns}],
            opts=opts,
        )

    def _ingress(
        self, name: str, spec: AgentSpec, plan: _IngressPlan, args: AgentArgs, labels: dict, opts: pulumi.ResourceOptions
    ) -> None:
        r = plan.route
        host = args.settings.gateway_host
        annotations = dict(plan.annotations)
        ingress_spec: dict = {"ingressClassName": INGRESS_CLASS}
        if r.kind == "public":
            annotations.update(args.public_tls["annotations"])
            if args.public_tls["tls"]:
                ingress_spec["tls"] = args.public_tls["tls"]
        else:
            annotations.update(args.a2a_annotations)
        path = {
            "path": r.path,
            "pathType": "Exact" if r.kind == "public" else "Prefix",
            "backend": {"service": {"name": plan.service, "port": {"name": "http"}}},
        }
        rule: dict = {"http": {"paths": [path]}}
        if host:
            rule["host"] = host
        spec_object(
            f"{name}-ingress-{r.name[len(spec.name) + 1:]}",
            "networking.k8s.io/v1",
            "Ingress",
            metadata={
                "name": r.name,
                "namespace": r.namespace,
                "labels": {**labels, LABEL_ROUTE_KIND: r.kind, LABEL_VERSION: r.version},
                "annotations": annotations,
            },
            spec={**ingress_spec, "rules": [rule]},
            opts=opts,
        )
