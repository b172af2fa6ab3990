"""Agent: one declarative (or bring-your-own) agent spec rendered as Kubernetes workloads.

Per agent, in its tenant's namespace: a ServiceAccount, a Service over all its
versions, one PodDisruptionBudget, a NetworkPolicy and the gateway routes (each
created after the gateway plugins that guard it); per rollout version: a ConfigMap
(prompt, model parameters, tools, AgentCard), a Deployment and an autoscaler (HPA,
or a KEDA ScaledObject when the agent scales to zero), plus a Service of its own
while several versions are served (canary routes need one backend per version).

With live configuration (the stack's `agents.liveConfig`), each version's behaviour
(prompt, model parameters, tools, skills) is a Nacos configuration item instead of part
of its ConfigMap, read by the pods with a read-only Nacos user of the agent's own: a
change to it is pushed to running pods and rolls none.

Credentials never appear in any object: API keys reach the container only as
files of one projected volume. Routes are Higress Ingresses; canary versions are extra
Ingresses with the `higress.io/canary*` annotations, so a rollback is a weight change.
What each object says is rendered in render/agent/; the builders below create the
objects, each parented to the Agent.
"""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_kubernetes as k8s
from pydantic import BaseModel, ConfigDict

from components.k8s_resources import spec_object
from models.agent_spec import AgentCatalog, AgentSpec, ResolvedVersion
from models.settings import StackConfig
from nacos_registry import NacosConfigItem, NacosReader
from render.agent import live_config
from render.agent.autoscaling import hpa_spec, scaled_object_spec
from render.agent.card import build_agent_card
from render.agent.context import AgentContext
from render.agent.deployment import deployment_spec
from render.agent.labels import agent_labels, agent_selector, version_labels, version_selector
from render.agent.network_policy import network_policy_spec
from render.agent.routes import IngressPlan, RouteDescriptor, backend_service, ingress, route_plans
from render.agent.runtime_config import config_hash, config_map_data, runtime_config
from render.queue_plan import QueuePlan


class AgentArgs(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    context: AgentContext
    keda_dependency: Optional[pulumi.Resource] = None
    # the gateway plugins that guard this agent's routes: its Ingresses are created only
    # after them, so no route is ever live before its auth and limits are
    route_guard: Optional[pulumi.Resource] = None
    # the tenant's Nacos namespace record: live configuration items and the reader are made in it
    registry_namespace: Optional[pulumi.Resource] = None

    @classmethod
    def for_spec(
        cls,
        spec: AgentSpec,
        catalog: AgentCatalog,
        stack: StackConfig,
        keda_dependency: Optional[pulumi.Resource] = None,
        route_guard: Optional[pulumi.Resource] = None,
        registry_namespace: Optional[pulumi.Resource] = None,
        queue_plan: Optional[QueuePlan] = None,
    ) -> "AgentArgs":
        """Everything one Agent needs, resolved from the validated catalog and the stack config."""
        return cls(
            context=AgentContext.for_spec(spec, catalog, stack, queue_plan),
            keda_dependency=keda_dependency,
            route_guard=route_guard,
            registry_namespace=registry_namespace,
        )


class Agent(pulumi.ComponentResource):
    """The workloads, routes, autoscaling and policies of one agent spec."""

    namespace: str
    card: dict
    routes: list[RouteDescriptor]

    def __init__(self, name: str, args: AgentArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("agent-runtime:agents:Agent", name, None, opts)
        context = args.context
        spec = context.spec
        labels = agent_labels(spec, context.stack_labels)
        self.namespace = context.namespace
        self.card = build_agent_card(spec, context.gateway_base_url, context.skill_callers, async_interface=context.async_interface)

        _service_account(self, name, context, labels)
        if spec.sandbox is not None:
            _sandbox_rbac(self, name, context, labels)
        # every version's pods: the in-cluster A2A address, and the route backend of a one-version agent
        backends = {spec.name: _service(self, f"{name}-svc", spec.name, agent_selector(spec), context, labels)}
        _disruption_budget(self, name, context, labels)
        reader = _live_config_reader(self, name, args, labels) if context.live_config else None
        for version in spec.versions():
            backends.update(_version(self, name, args, version, labels, reader))
        _network_policy(self, name, context, labels)
        self.routes = _routes(self, name, args, labels, backends)

        self.register_outputs(
            {"namespace": self.namespace, "card": self.card, "routes": [r.ingress_ref for r in self.routes]}
        )


# --------------------------------------------------------------------------- per agent


def _metadata(context: AgentContext, object_name: str, labels: dict) -> dict:
    return {"name": object_name, "namespace": context.namespace, "labels": labels}


def _service_account(agent: Agent, name: str, context: AgentContext, labels: dict) -> None:
    """The agent's identity in its namespace; only agents that create sandbox claims talk to the Kubernetes API."""
    k8s.core.v1.ServiceAccount(
        f"{name}-sa",
        metadata=_metadata(context, context.spec.name, labels),
        automount_service_account_token=context.spec.sandbox is not None,
        opts=pulumi.ResourceOptions(parent=agent),
    )


def _sandbox_rbac(agent: Agent, name: str, context: AgentContext, labels: dict) -> None:
    """The agent may claim sandboxes from its namespace's warm pools - nothing more."""
    spec, ns = context.spec, context.namespace
    role = f"{spec.name}-sandbox-claims"
    child = pulumi.ResourceOptions(parent=agent)
    k8s.rbac.v1.Role(
        f"{name}-sandbox-role",
        metadata=_metadata(context, role, labels),
        rules=[
            {
                "apiGroups": ["extensions.agents.x-k8s.io"],
                "resources": ["sandboxclaims"],
                "verbs": ["create", "get", "list", "watch", "delete"],
            },
            {"apiGroups": ["agents.x-k8s.io"], "resources": ["sandboxes"], "verbs": ["get", "list", "watch"]},
        ],
        opts=child,
    )
    k8s.rbac.v1.RoleBinding(
        f"{name}-sandbox-binding",
        metadata=_metadata(context, role, labels),
        role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
        subjects=[{"kind": "ServiceAccount", "name": spec.name, "namespace": ns}],
        opts=child,
    )


def _service(
    agent: Agent, resource_name: str, object_name: str, selector: dict, context: AgentContext, labels: dict
) -> k8s.core.v1.Service:
    """A ClusterIP Service on the agent's http port over the pods `selector` picks."""
    return k8s.core.v1.Service(
        resource_name,
        metadata=_metadata(context, object_name, labels),
        spec={
            "type": "ClusterIP",
            "selector": selector,
            "ports": [{"name": "http", "port": context.spec.port, "targetPort": "http", "protocol": "TCP"}],
        },
        opts=pulumi.ResourceOptions(parent=agent),
    )


def _disruption_budget(agent: Agent, name: str, context: AgentContext, labels: dict) -> None:
    """One budget over all versions: a drain takes at most one of the agent's pods at a time.

    maxUnavailable works at any replica count, including 0 for scale-to-zero agents.
    """
    spec_object(
        f"{name}-pdb",
        "policy/v1",
        "PodDisruptionBudget",
        metadata=_metadata(context, context.spec.name, labels),
        spec={"maxUnavailable": 1, "selector": {"matchLabels": agent_selector(context.spec)}},
        opts=pulumi.ResourceOptions(parent=agent),
    )


def _network_policy(agent: Agent, name: str, context: AgentContext, labels: dict) -> None:
    spec_object(
        f"{name}-netpol",
        "networking.k8s.io/v1",
        "NetworkPolicy",
        metadata=_metadata(context, f"agent-{context.spec.name}", labels),
        spec=network_policy_spec(context),
        opts=pulumi.ResourceOptions(parent=agent),
    )


def _routes(agent: Agent, name: str, args: AgentArgs, labels: dict, backends: dict[str, k8s.core.v1.Service]) -> list[RouteDescriptor]:
    """The agent's Ingresses; each waits for its backends (a canary's or a fallback's Service is new) and the plugins guarding it."""
    context = args.context
    plans = route_plans(context.spec, context.namespace, context.settings, context.skill_callers)
    guard = [args.route_guard] if args.route_guard else []
    for plan in plans:
        services = [backends[plan.service]] + ([backends[plan.fallback_service]] if plan.fallback_service else [])
        _ingress(agent, name, plan, context, labels, pulumi.ResourceOptions(parent=agent, depends_on=[*services, *guard]))
    return [p.route for p in plans]


def _ingress(agent: Agent, name: str, plan: IngressPlan, context: AgentContext, labels: dict, opts: pulumi.ResourceOptions) -> None:
    obj = ingress(plan, context, labels)
    spec_object(
        f"{name}-ingress-{plan.route.name[len(context.spec.name) + 1:]}",
        "networking.k8s.io/v1",
        "Ingress",
        metadata=obj["metadata"],
        spec=obj["spec"],
        opts=opts,
    )


def _live_config_reader(agent: Agent, name: str, args: AgentArgs, labels: dict) -> k8s.core.v1.Secret:
    """The agent's read-only Nacos user, and the Secret its pods read the password from."""
    context = args.context
    spec = context.spec
    after_namespace = [args.registry_namespace] if args.registry_namespace else []
    reader = NacosReader(
        f"{name}-nacos-reader",
        username=live_config.reader_username(spec),
        resource=live_config.reader_resource(context.tenant.nacos_namespace),
        opts=pulumi.ResourceOptions(parent=agent, depends_on=after_namespace),
    )
    secret = live_config.reader_secret(spec)
    return k8s.core.v1.Secret(
        f"{name}-nacos-reader-secret",
        metadata=_metadata(context, secret.name, labels),
        type="Opaque",
        string_data={secret.key: reader.password},
        opts=pulumi.ResourceOptions(parent=agent),
    )


# --------------------------------------------------------------------------- per version


def _version(
    agent: Agent, name: str, args: AgentArgs, version: ResolvedVersion, agent_labels: dict, reader: Optional[pulumi.Resource]
) -> dict[str, k8s.core.v1.Service]:
    """The version's config, Deployment and autoscaler; and its Service when routes must tell versions apart."""
    context = args.context
    spec = context.spec
    full = f"{spec.name}-{version.slug}"
    rname = f"{name}-{version.slug}"
    labels = version_labels(agent_labels, version)
    deployment = _workload(agent, rname, full, args, version, labels, reader)
    own_service = {}
    if backend_service(spec, version) == full:
        own_service[full] = _service(agent, f"{rname}-svc", full, version_selector(spec, version), context, labels)
    _autoscaler(agent, rname, full, args, version, labels, deployment)
    return own_service


def _workload(
    agent: Agent, rname: str, full: str, args: AgentArgs, version: ResolvedVersion, labels: dict, reader: Optional[pulumi.Resource]
) -> pulumi.Resource:
    """The version's ConfigMap (config.json, AgentCard, inline prompt), its live configuration item, and the Deployment."""
    context = args.context
    spec = context.spec
    runtime = runtime_config(context, version)
    data = config_map_data(context, runtime, build_agent_card(
        spec, context.gateway_base_url, context.skill_callers, version.version, async_interface=context.async_interface
    ))
    config_map = k8s.core.v1.ConfigMap(
        f"{rname}-config",
        metadata=_metadata(context, f"{full}-config", labels),
        data=data,
        opts=pulumi.ResourceOptions(parent=agent),
    )
    before_pods: list[pulumi.Resource] = [config_map]
    if runtime.live is not None:
        before_pods.append(_live_config_item(agent, rname, args, version, runtime.live))
        before_pods.extend([reader] if reader else [])
    match = version_selector(spec, version)
    return spec_object(
        f"{rname}-deployment",
        "apps/v1",
        "Deployment",
        metadata=_metadata(context, full, labels),
        spec=deployment_spec(context, version, full, labels, match, runtime, config_hash(data, runtime.env)),
        opts=pulumi.ResourceOptions(parent=agent, depends_on=before_pods),
    )


def _live_config_item(agent: Agent, rname: str, args: AgentArgs, version: ResolvedVersion, behaviour: dict) -> pulumi.Resource:
    """The version's behaviour as a Nacos configuration item: an update is pushed to its running pods."""
    context = args.context
    return NacosConfigItem(
        f"{rname}-live-config",
        namespace_id=context.tenant.nacos_namespace,
        group=live_config.GROUP,
        data_id=live_config.data_id(context.spec, version),
        content=live_config.item_content(behaviour),
        description=f"runtime configuration of agent {context.spec.name} {version.version} (managed by agent-runtime)",
        opts=pulumi.ResourceOptions(parent=agent, depends_on=[args.registry_namespace] if args.registry_namespace else []),
    )


def _autoscaler(
    agent: Agent, rname: str, full: str, args: AgentArgs, version: ResolvedVersion, labels: dict, deployment: pulumi.Resource
) -> None:
    """A KEDA ScaledObject (after the KEDA chart) for a scale-to-zero agent, else an HPA."""
    context = args.context
    spec = context.spec
    if spec.autoscaling.scale_to_zero:
        spec_object(
            f"{rname}-scaledobject",
            "keda.sh/v1alpha1",
            "ScaledObject",
            metadata=_metadata(context, full, labels),
            spec=scaled_object_spec(spec, version, context.namespace, full, context.settings.keda),
            opts=pulumi.ResourceOptions(
                parent=agent,
                depends_on=[deployment] + ([args.keda_dependency] if args.keda_dependency else []),
            ),
        )
    else:
        spec_object(
            f"{rname}-hpa",
            "autoscaling/v2",
            "HorizontalPodAutoscaler",
            metadata=_metadata(context, full, labels),
            spec=hpa_spec(spec, full),
            opts=pulumi.ResourceOptions(parent=agent, depends_on=[deployment]),
        )
