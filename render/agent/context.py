"""One agent spec with everything around it that its objects are rendered from.

Resolved once from the validated catalog and the stack: the tenant, the agents that call
it and that it calls, its MCP servers, its sandbox profile and what the gateway security
settings add to its routes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from models.agent_spec import AgentCatalog, AgentSpec
from models.settings import AgentsSettings, SandboxProfileSettings, StackConfig, TenantSettings
from render.agent.queue import QueueEndpoints, card_interface, queue_endpoints
from render.gateway.higress import gateway_base_url
from render.gateway.route_tls import a2a_mtls_annotations, tls_for_public_routes
from render.queue_plan import AgentQueueAccess, QueuePlan


@dataclass(frozen=True)
class Peer:
    """Another agent this one talks to (or hears from) directly."""

    agent: str
    tenant: str
    namespace: str
    port: int


@dataclass(frozen=True)
class AgentContext:
    """An agent spec and what the stack and the catalog say around it."""

    spec: AgentSpec
    tenant: TenantSettings
    settings: AgentsSettings
    gateway_namespace: str
    gateway_base_url: str
    nacos_namespace: str
    mcp_servers: list  # McpServerSpec | RemoteMcp, one per spec.tools entry
    callers: list[Peer]
    callees: list[Peer]
    # skill id -> the (agent, tenant) pairs whose a2aCalls name it: each skill's gateway allow list
    skill_callers: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    sandbox_profile: Optional[SandboxProfileSettings] = None
    # from the gateway security settings: TLS for public routes, upstream mTLS for A2A routes
    public_tls: dict = field(default_factory=lambda: {"annotations": {}, "tls": []})
    a2a_annotations: dict[str, str] = field(default_factory=dict)
    stack_labels: dict[str, str] = field(default_factory=dict)
    # behaviour read live from a Nacos configuration item rather than the version's ConfigMap
    live_config: bool = False
    # the agent's topics, groups and user on the stack's message queue (async agents and their callers)
    queue: Optional[AgentQueueAccess] = None
    queue_endpoints: Optional[QueueEndpoints] = None

    @property
    def async_interface(self) -> Optional[dict]:
        """The queue interface the AgentCard advertises (async agents), or None."""
        return card_interface(self.spec, self.queue, self.queue_endpoints)

    @property
    def namespace(self) -> str:
        """The tenant's Kubernetes namespace, where all of the agent's objects go."""
        return self.tenant.k8s_namespace

    @classmethod
    def for_spec(
        cls, spec: AgentSpec, catalog: AgentCatalog, stack: StackConfig, queue_plan: Optional[QueuePlan] = None
    ) -> "AgentContext":
        """Resolved from the validated catalog and the stack config (and the stack's queue plan, computed once)."""

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
            skill_callers={k: [(c.name, c.tenant) for c in v] for k, v in catalog.skill_callers(spec.name).items()},
            sandbox_profile=stack.sandbox_profile(spec.sandbox.profile) if spec.sandbox else None,
            public_tls=tls_for_public_routes(stack.security),
            a2a_annotations=a2a_mtls_annotations(stack.security, tenant.k8s_namespace, f"{spec.name}.{tenant.k8s_namespace}.svc"),
            stack_labels=stack.labels,
            live_config=stack.live_config,
            queue=queue_plan.access.get(spec.name) if queue_plan else None,
            queue_endpoints=queue_endpoints(stack),
        )
