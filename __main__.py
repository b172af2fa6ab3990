"""Agent Runtime: compose the platform for one environment from its stack configuration."""

import pulumi
import pulumi_random as random

from components.config import load_stack_config
from components.higress_gateway import HigressGateway, HigressGatewayArgs
from components.k8s_common import make_kubernetes_provider
from components.nacos_cluster import HTTP_PORT, NacosCluster, NacosClusterArgs
from components.tenant import Tenant, TenantArgs

stack, secrets = load_stack_config()

providers = {"kubernetes": make_kubernetes_provider(stack.kubernetes), "random": random.Provider("random")}
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
        labels=stack.labels,
    ),
    opts=with_providers,
)

pulumi.export("environment", stack.environment)
pulumi.export("gatewayAddress", gateway.address)
pulumi.export("nacosAddress", nacos.http_address)
pulumi.export("tenantNamespaces", {t.name: tenant.namespace for t, tenant in zip(stack.tenants, tenants)})
pulumi.export("tenantNacosNamespaces", {t.name: tenant.nacos_namespace_id for t, tenant in zip(stack.tenants, tenants)})
