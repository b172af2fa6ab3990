"""Agent Runtime: compose the platform for one environment from its stack configuration."""

import json
from pathlib import Path

import pulumi

from components.agent import Agent, AgentArgs
from components.agent_credentials import AgentCredentials, AgentCredentialsArgs
from components.agent_queues import AgentQueues, AgentQueuesArgs
from components.agent_registry import AgentRegistry, AgentRegistryArgs
from components.gateway_security import GatewaySecurity, GatewaySecurityArgs
from components.higress_gateway import HigressGateway, HigressGatewayArgs
from components.k8s_resources import make_kubernetes_provider
from components.keda import Keda, KedaArgs
from components.message_queue import MessageQueue, MessageQueueArgs
from components.nacos_cluster import NacosCluster, NacosClusterArgs, needs_generated_secrets, random_provider
from components.process import keep_full_collections_rare
from components.sandbox import SandboxRuntimes, SandboxRuntimesArgs
from components.tenant import Tenant, TenantArgs
from models.settings import load_stack_config
from models.stack_agents import load_stack_agents
from render.agent.routes import route_descriptors
from render.gateway.higress import gateway_chart_values
from render.nacos import HTTP_PORT
from render.queue_plan import queue_plan

keep_full_collections_rare()
# Pulumi runs a program from its project directory: relative paths in a stack file mean that directory
project_dir = Path.cwd()
stack, secrets = load_stack_config(project_dir)
# every agent spec is validated before any resource exists: one bad file deploys nothing
agent_catalog = load_stack_agents(stack, project_dir, secrets)

providers = {"kubernetes": make_kubernetes_provider(stack.kubernetes)}
if needs_generated_secrets(secrets):
    # only then: a stack that supplies every secret runs without the random plugin
    providers["random"] = random_provider()
with_providers = pulumi.ResourceOptions(providers=providers)

nacos = NacosCluster(
    "nacos",
    NacosClusterArgs(
        settings=stack.nacos, secrets=secrets, gateway_namespace=stack.gateway.namespace, labels=stack.labels
    ),
    opts=with_providers,
)

tenants = [
    Tenant(
        f"tenant-{t.name}",
        TenantArgs(
            settings=t, gateway_namespace=stack.gateway.namespace, nacos_namespace=stack.nacos.namespace, labels=stack.labels
        ),
        opts=with_providers,
    )
    for t in stack.tenants
]

gateway = HigressGateway(
    "higress",
    HigressGatewayArgs(
        settings=stack.gateway,
        nacos_host=nacos.service_host,
        nacos_port=HTTP_PORT,
        nacos_username=nacos.admin_username,
        nacos_password=nacos.admin_password,
        nacos_namespace_ids=[t.nacos_namespace for t in stack.tenants],
        extra_values=gateway_chart_values(stack.security),
        labels=stack.labels,
    ),
    opts=with_providers,
)

# RocketMQ for agents' long tasks (ACL 2.0 on; the admin password is the stack secret)
message_queue = (
    MessageQueue(
        "message-queue",
        MessageQueueArgs(
            settings=stack.message_queue,
            admin_password=pulumi.Output.secret(secrets.message_queue_admin_password),
            labels=stack.labels,
        ),
        opts=with_providers,
    )
    if stack.message_queue.enabled
    else None
)

tenant_by_name = {t.name: tenant for t, tenant in zip(stack.tenants, tenants)}
keda = Keda("keda", KedaArgs(settings=stack.agents.keda, labels=stack.labels), opts=with_providers) if stack.agents.keda.enabled else None
if stack.sandbox_profiles:
    SandboxRuntimes(
        "sandboxes",
        SandboxRuntimesArgs.from_catalog(agent_catalog, stack),
        opts=pulumi.ResourceOptions(providers=providers, depends_on=list(tenants)),
    )
agent_routes = route_descriptors(agent_catalog, stack)
gateway_security = GatewaySecurity(
    "gateway-security",
    GatewaySecurityArgs(
        settings=stack.security,
        environment=stack.hardening,
        gateway_namespace=stack.gateway.namespace,
        routes=agent_routes,
        tiers={t.name: t.tier for t in stack.tenants},
        redis_password=pulumi.Output.secret(secrets.gateway_redis_password) if secrets.gateway_redis_password else None,
        key_auth_credentials={
            k: pulumi.Output.secret(v) for k, v in json.loads(secrets.gateway_key_auth_credentials or "{}").items()
        },
        chart_creates_gateway_monitor=stack.gateway.metrics,
        labels=stack.labels,
    ),
    opts=pulumi.ResourceOptions(providers=providers, depends_on=[gateway]),
)

# the Secrets and ConfigMaps the stack supplies exist before any pod that reads them
credentials = (
    AgentCredentials(
        "agent-credentials",
        AgentCredentialsArgs(
            namespaces={t.name: t.k8s_namespace for t in stack.tenants},
            secrets=secrets.agent_secret_data(),
            config_maps=stack.agents.config_maps,
            labels=stack.labels,
        ),
        opts=pulumi.ResourceOptions(providers=providers, depends_on=list(tenants)),
    ).by_tenant
    if secrets.agent_secrets or stack.agents.config_maps
    else {}
)
# the async agents' topics, groups and users on the queue, and each one's credential Secret
queue_access = queue_plan(agent_catalog, stack)
queues = (
    AgentQueues(
        "agent-queues",
        AgentQueuesArgs(
            plan=queue_access,
            namespaces={t.name: t.k8s_namespace for t in stack.tenants},
            credential_seed=secrets.message_queue_credential_seed or "",
            queue=message_queue,
            labels=stack.labels,
        ),
        opts=pulumi.ResourceOptions(providers=providers, depends_on=list(tenants)),
    )
    if not queue_access.empty
    else None
)
# Nacos records: tenant namespaces, AgentCards, MCP servers (agents' live configuration goes into these namespaces)
registry = (
    AgentRegistry(
        "registry", AgentRegistryArgs(catalog=agent_catalog, stack=stack, nacos=nacos, queue_plan=queue_access), opts=with_providers
    )
    if stack.registry.enabled
    else None
)
agents = [
    Agent(
        f"agent-{spec.name}",
        AgentArgs.for_spec(
            spec, agent_catalog, stack, keda_dependency=keda.chart if keda else None, route_guard=gateway_security,
            registry_namespace=registry.namespaces[spec.tenant] if registry else None, queue_plan=queue_access,
        ),
        opts=pulumi.ResourceOptions(
            providers=providers,
            depends_on=[
                tenant_by_name[spec.tenant],
                *credentials.get(spec.tenant, []),
                *([queues.users[spec.name], queues.credential_secrets[spec.name]] if queues and spec.name in queues.users else []),
            ],
        ),
    )
    for spec in agent_catalog.agents
]

pulumi.export("environment", stack.environment)
pulumi.export("profile", stack.hardening)
pulumi.export("gatewayAddress", gateway.address)
pulumi.export("nacosAddress", nacos.http_address)
pulumi.export("tenantNamespaces", {t.name: tenant.namespace for t, tenant in zip(stack.tenants, tenants)})
pulumi.export("tenantNacosNamespaces", {t.name: tenant.nacos_namespace_id for t, tenant in zip(stack.tenants, tenants)})
pulumi.export(
    "agents",
    {s.name: {"tenant": s.tenant, "namespace": a.namespace, "versions": [v.version for v in s.versions()]} for s, a in zip(agent_catalog.agents, agents)},
)
pulumi.export("agentRoutes", [r.__dict__ for r in agent_routes])
pulumi.export("gatewayPlugins", gateway_security.plugin_names)
if message_queue:
    pulumi.export("messageQueue", {"proxyEndpoint": message_queue.proxy_endpoint, "namesrvAddress": message_queue.namesrv_address})
